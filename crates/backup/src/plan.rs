//! The restore planner: a backup and the target guild's current roles and channels in, the ordered
//! operations that make the guild match the backup out. Pure: no Discord, no clock.
//!
//! Operations name backup objects by their original ids; the executor keeps a [`Remap`] from those
//! ids to the target guild's (filled from [`Plan::matched`], then with each created object's new id)
//! and resolves every reference through it ([`Remap::channel`]) just before sending. Roles come before
//! the channels whose overwrites name them, categories before their children, and positions last.
//!
//! - [`Mode::Reconcile`] (the default) keeps what still exists: a role with the same id, else the same
//!   name; a channel with the same id, else the same name, type and (matched) parent. Those are updated
//!   in place when they differ, the rest of the backup is created, and what the backup does not have is
//!   deleted, after everything else, so a restore cut short loses nothing. Channels that survive keep
//!   their messages and links.
//! - [`Mode::Wipe`] deletes every channel and role first (never `@everyone` or integration-managed
//!   roles), then creates the backup's.
//!
//! A plan made from the state a plan produced is empty (property-tested with [`apply`]).

use std::collections::{HashMap, HashSet};

use crate::format::{Backup, CATEGORY, Channel, Id, OverwriteKind, Role};

/// What a restore does with what is already in the guild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Reconcile,
    Wipe,
}

/// The target guild as it is now, captured like a backup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Current {
    /// The guild's id (its `@everyone` role has it).
    pub guild: Id,
    pub roles: Vec<Role>,
    pub channels: Vec<Channel>,
}

/// An object an operation places: one that exists in the target guild, or one the plan creates
/// (named by its backup id until it exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ref {
    Existing(Id),
    Created(Id),
}

/// One step of a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Creates the backup's role `role.id`.
    CreateRole {
        role: Role,
    },
    /// Makes the existing role `target` look like the backup's `role`.
    UpdateRole {
        target: Id,
        role: Role,
    },
    DeleteRole {
        target: Id,
        name: String,
    },
    /// Creates the backup's channel `channel.id`; its parent and overwrites name backup ids.
    CreateChannel {
        channel: Channel,
    },
    /// Makes the existing channel `target` like the backup's `channel` (references: backup ids).
    UpdateChannel {
        target: Id,
        channel: Channel,
    },
    DeleteChannel {
        target: Id,
        name: String,
    },
    /// Sets these roles' positions (all of them, so the order is the backup's).
    PositionRoles(Vec<(Ref, i64)>),
    /// Sets these channels' positions (and parents).
    PositionChannels(Vec<(Ref, i64)>),
}

/// How many objects of one kind a plan creates, updates and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// A restore's operations, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// Backup objects found in the target guild: (backup id, target id). `@everyone` included.
    pub matched: Vec<(Id, Id)>,
    /// What the restore leaves out, and why (integration-managed roles cannot be created).
    pub skipped: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// (roles, channels) created, updated and deleted.
    pub fn counts(&self) -> (Counts, Counts) {
        let (mut roles, mut channels) = (Counts::default(), Counts::default());
        for op in &self.ops {
            match op {
                Op::CreateRole { .. } => roles.created += 1,
                Op::UpdateRole { .. } => roles.updated += 1,
                Op::DeleteRole { .. } => roles.deleted += 1,
                Op::CreateChannel { .. } => channels.created += 1,
                Op::UpdateChannel { .. } => channels.updated += 1,
                Op::DeleteChannel { .. } => channels.deleted += 1,
                Op::PositionRoles(_) | Op::PositionChannels(_) => {}
            }
        }
        (roles, channels)
    }

    /// The remap the executor starts from.
    pub fn remap(&self) -> Remap {
        Remap(self.matched.iter().copied().collect())
    }
}

/// Backup ids to target ids, filled as the restore goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remap(pub HashMap<Id, Id>);

impl Remap {
    /// Records what a created object's id is.
    pub fn insert(&mut self, backup: Id, target: Id) {
        self.0.insert(backup, target);
    }

    pub fn get(&self, backup: Id) -> Option<Id> {
        self.0.get(&backup).copied()
    }

    /// The target id of a placed object.
    pub fn place(&self, placed: Ref) -> Option<Id> {
        match placed {
            Ref::Existing(id) => Some(id),
            Ref::Created(id) => self.get(id),
        }
    }

    /// The channel with its references in the target guild's ids: its parent, and its role
    /// overwrites (member overwrites name users, the same everywhere). References to what the restore
    /// did not place are dropped.
    pub fn channel(&self, channel: &Channel) -> Channel {
        let mut out = channel.clone();
        out.parent = channel.parent.and_then(|p| self.get(p));
        out.overwrites = channel
            .overwrites
            .iter()
            .filter_map(|o| match o.kind {
                OverwriteKind::Role => Some(crate::format::Overwrite { id: self.get(o.id)?, ..*o }),
                OverwriteKind::Member => Some(*o),
            })
            .collect();
        out.overwrites.sort_by_key(|o| (o.id, o.kind == OverwriteKind::Member));
        out
    }
}

/// A role's looks and rights, what an update compares (not its id, position or management).
fn role_fields(role: &Role) -> impl PartialEq + '_ {
    (
        &role.name,
        role.color,
        role.colors,
        role.hoist,
        role.mentionable,
        role.permissions,
        &role.icon,
        &role.unicode_emoji,
    )
}

/// A channel's settings with references resolved, what an update compares (not id or position).
fn channel_fields(channel: &Channel) -> Channel {
    let mut fields = channel.clone();
    fields.id = Id(0);
    fields.position = 0;
    fields.overwrites.sort_by_key(|o| (o.id, o.kind == OverwriteKind::Member));
    fields
}

/// Roles highest first, as Discord orders them (position, then the older id above).
fn role_order(roles: &[(Id, i64)]) -> Vec<Id> {
    let mut sorted = roles.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    sorted.into_iter().map(|(id, _)| id).collect()
}

/// Channels in display order under one parent (position, then id).
fn channel_order(channels: &[(Id, i64)]) -> Vec<Id> {
    let mut sorted = channels.to_vec();
    sorted.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    sorted.into_iter().map(|(id, _)| id).collect()
}

/// Plans a restore of `backup` into `current`.
pub fn plan(backup: &Backup, current: &Current, mode: Mode) -> Plan {
    let mut plan = Plan::default();
    let mut remap = Remap::default();
    let backup_guild = backup.guild.id.unwrap_or(current.guild);
    remap.insert(backup_guild, current.guild);
    plan.matched.push((backup_guild, current.guild));

    // Roles: match, then create or update, in the backup's order (lowest first: each new role lands
    // above what exists, and positions are set at the end anyway).
    let everyone = |role: &Role, guild: Id| role.id == guild;
    let mut taken: HashSet<Id> = HashSet::from([current.guild]);
    let mut backup_roles: Vec<&Role> = backup.roles.iter().filter(|r| !everyone(r, backup_guild)).collect();
    backup_roles.sort_by(|a, b| a.position.cmp(&b.position).then(b.id.cmp(&a.id)));
    let find_role = |role: &Role, taken: &HashSet<Id>| -> Option<&Role> {
        if mode == Mode::Wipe && !role.managed {
            return None;
        }
        let free = |r: &&Role| !taken.contains(&r.id) && !everyone(r, current.guild);
        // By id; else by name, preferring one that already looks the same, then the lowest in the
        // target's order (backup roles are taken lowest first, so twins pair up in order).
        current.roles.iter().filter(free).find(|r| r.id == role.id).or_else(|| {
            current
                .roles
                .iter()
                .filter(free)
                .filter(|r| r.name == role.name && r.managed == role.managed)
                .min_by_key(|r| (role_fields(r) != role_fields(role), r.position, std::cmp::Reverse(r.id)))
        })
    };
    let mut role_ops = Vec::new();
    for role in &backup_roles {
        match find_role(role, &taken) {
            Some(found) => {
                taken.insert(found.id);
                remap.insert(role.id, found.id);
                plan.matched.push((role.id, found.id));
                if !role.managed && role_fields(found) != role_fields(role) {
                    role_ops.push(Op::UpdateRole { target: found.id, role: (*role).clone() });
                }
            }
            None if role.managed => {
                plan.skipped.push(format!("Role {} is managed by an integration: it is not recreated.", role.name));
            }
            None => role_ops.push(Op::CreateRole { role: (*role).clone() }),
        }
    }
    if let (Some(wanted), Some(found)) = (
        backup.roles.iter().find(|r| everyone(r, backup_guild)),
        current.roles.iter().find(|r| everyone(r, current.guild)),
    ) && wanted.permissions != found.permissions
    {
        role_ops.push(Op::UpdateRole { target: found.id, role: wanted.clone() });
    }
    let extra_roles: Vec<&Role> =
        current.roles.iter().filter(|r| !taken.contains(&r.id) && !r.managed && !everyone(r, current.guild)).collect();

    // Channels: categories first, then the rest; a channel matches by id, else by name, type and
    // (matched) parent.
    let mut taken_channels: HashSet<Id> = HashSet::new();
    let mut backup_channels: Vec<&Channel> = backup.channels.iter().collect();
    backup_channels.sort_by_key(|c| (c.kind != CATEGORY, c.position, c.id));
    let mut channel_ops = Vec::new();
    for channel in &backup_channels {
        let parent = channel.parent.and_then(|p| remap.get(p));
        let found = if mode == Mode::Wipe {
            None
        } else {
            let free = |c: &&Channel| !taken_channels.contains(&c.id);
            let wanted = channel_fields(&remap.channel(channel));
            current.channels.iter().filter(free).find(|c| c.id == channel.id && c.kind == channel.kind).or_else(|| {
                current
                    .channels
                    .iter()
                    .filter(free)
                    .filter(|c| c.name == channel.name && c.kind == channel.kind && c.parent == parent)
                    .min_by_key(|c| (channel_fields(c) != wanted, c.position, c.id))
            })
        };
        match found {
            Some(found) => {
                taken_channels.insert(found.id);
                remap.insert(channel.id, found.id);
                plan.matched.push((channel.id, found.id));
                // A parent or role the restore creates is not placed yet: the channel will need it.
                let waits = channel.parent.is_some_and(|p| remap.get(p).is_none())
                    || channel.overwrites.iter().any(|o| o.kind == OverwriteKind::Role && remap.get(o.id).is_none());
                if waits || channel_fields(found) != channel_fields(&remap.channel(channel)) {
                    channel_ops.push(Op::UpdateChannel { target: found.id, channel: (*channel).clone() });
                }
            }
            None => channel_ops.push(Op::CreateChannel { channel: (*channel).clone() }),
        }
    }
    let mut extra_channels: Vec<&Channel> =
        current.channels.iter().filter(|c| !taken_channels.contains(&c.id)).collect();
    // Children before their categories.
    extra_channels.sort_by_key(|c| (c.kind == CATEGORY, c.id));
    let channel_deletes =
        extra_channels.iter().map(|c| Op::DeleteChannel { target: c.id, name: c.name.clone() }).collect::<Vec<_>>();
    let role_deletes =
        extra_roles.iter().map(|r| Op::DeleteRole { target: r.id, name: r.name.clone() }).collect::<Vec<_>>();

    // Positions: whenever the order differs from the backup's (or something new must be placed).
    let placed = |backup_id: Id, created: bool| {
        if created { Ref::Created(backup_id) } else { Ref::Existing(remap.get(backup_id).unwrap_or(backup_id)) }
    };
    let created_roles: HashSet<Id> =
        role_ops.iter().filter_map(|op| if let Op::CreateRole { role } = op { Some(role.id) } else { None }).collect();
    let wanted_roles: Vec<(Id, i64)> = backup_roles
        .iter()
        .filter(|r| created_roles.contains(&r.id) || remap.get(r.id).is_some())
        .map(|r| (r.id, r.position))
        .collect();
    let now_roles: Vec<(Id, i64)> = current
        .roles
        .iter()
        .filter(|r| !everyone(r, current.guild) && (mode == Mode::Reconcile || r.managed))
        .map(|r| (r.id, r.position))
        .collect();
    let wanted_order: Vec<Id> = role_order(&wanted_roles).into_iter().map(|id| remap.get(id).unwrap_or(id)).collect();
    let now_order: Vec<Id> = role_order(&now_roles).into_iter().filter(|id| taken.contains(id)).collect();
    // Positions are written as ranks (the highest role gets the most), so ties in the backup, broken
    // by ids a restore cannot reproduce, still come out in the backup's order.
    let position_roles = (!created_roles.is_empty() || wanted_order != now_order).then(|| {
        let order = role_order(&wanted_roles);
        let top = i64::try_from(order.len()).unwrap_or(i64::MAX);
        Op::PositionRoles(
            order
                .iter()
                .zip(0..)
                .map(|(id, rank): (&Id, i64)| (placed(*id, created_roles.contains(id)), top - rank))
                .collect(),
        )
    });

    let created_channels: HashSet<Id> = channel_ops
        .iter()
        .filter_map(|op| if let Op::CreateChannel { channel } = op { Some(channel.id) } else { None })
        .collect();
    let mut siblings_differ = !created_channels.is_empty();
    if !siblings_differ {
        // The backup's order is decided with its own ids (ties), then named in the target's.
        let mut wanted: HashMap<Option<Id>, Vec<(Id, i64)>> = HashMap::new();
        for c in &backup.channels {
            wanted.entry(c.parent).or_default().push((c.id, c.position));
        }
        let wanted: HashMap<Option<Id>, Vec<Id>> = wanted
            .into_iter()
            .map(|(parent, children)| {
                let order = channel_order(&children).into_iter().map(|id| remap.get(id).unwrap_or(id)).collect();
                (parent.and_then(|p| remap.get(p)), order)
            })
            .collect();
        let mut now: HashMap<Option<Id>, Vec<(Id, i64)>> = HashMap::new();
        for c in current.channels.iter().filter(|c| taken_channels.contains(&c.id)) {
            now.entry(c.parent).or_default().push((c.id, c.position));
        }
        let now: HashMap<Option<Id>, Vec<Id>> =
            now.into_iter().map(|(parent, children)| (parent, channel_order(&children))).collect();
        siblings_differ = wanted != now;
    }
    // Ranks among siblings, as for roles.
    let position_channels = siblings_differ.then(|| {
        let mut groups: HashMap<Option<Id>, Vec<(Id, i64)>> = HashMap::new();
        for c in &backup.channels {
            groups.entry(c.parent).or_default().push((c.id, c.position));
        }
        let mut ranks: Vec<(Ref, i64)> = Vec::new();
        for c in &backup_channels {
            if let Some(children) = groups.remove(&c.parent) {
                ranks.extend(
                    channel_order(&children)
                        .into_iter()
                        .zip(0..)
                        .map(|(id, rank): (Id, i64)| (placed(id, created_channels.contains(&id)), rank)),
                );
            }
        }
        Op::PositionChannels(ranks)
    });

    match mode {
        Mode::Reconcile => {
            plan.ops.extend(role_ops);
            plan.ops.extend(channel_ops);
            plan.ops.extend(channel_deletes);
            plan.ops.extend(role_deletes);
        }
        Mode::Wipe => {
            plan.ops.extend(channel_deletes);
            plan.ops.extend(role_deletes);
            plan.ops.extend(role_ops);
            plan.ops.extend(channel_ops);
        }
    }
    plan.ops.extend(position_roles);
    plan.ops.extend(position_channels);
    plan
}

/// Carries out `plan` on `current` as Discord would, with new ids from `next_id` up: what a restore
/// leaves behind, for tests and dry runs.
pub fn apply(current: &Current, plan: &Plan, mut next_id: u64) -> Current {
    let mut guild = current.clone();
    let mut remap = plan.remap();
    for op in &plan.ops {
        match op {
            Op::CreateRole { role } => {
                let id = Id(next_id);
                next_id += 1;
                remap.insert(role.id, id);
                guild.roles.push(Role { id, position: 1, ..role.clone() });
            }
            Op::UpdateRole { target, role } => {
                if let Some(found) = guild.roles.iter_mut().find(|r| r.id == *target) {
                    *found = Role { id: found.id, position: found.position, managed: found.managed, ..role.clone() };
                }
            }
            Op::DeleteRole { target, .. } => {
                guild.roles.retain(|r| r.id != *target);
                for channel in &mut guild.channels {
                    channel.overwrites.retain(|o| o.id != *target);
                }
            }
            Op::CreateChannel { channel } => {
                let id = Id(next_id);
                next_id += 1;
                remap.insert(channel.id, id);
                guild.channels.push(Channel { id, position: 0, ..remap.channel(channel) });
            }
            Op::UpdateChannel { target, channel } => {
                let resolved = remap.channel(channel);
                if let Some(found) = guild.channels.iter_mut().find(|c| c.id == *target) {
                    *found = Channel { id: found.id, position: found.position, ..resolved };
                }
            }
            Op::DeleteChannel { target, .. } => {
                guild.channels.retain(|c| c.id != *target);
                for channel in &mut guild.channels {
                    if channel.parent == Some(*target) {
                        channel.parent = None;
                    }
                }
            }
            Op::PositionRoles(positions) => {
                for (placed, position) in positions {
                    if let Some(id) = remap.place(*placed)
                        && let Some(role) = guild.roles.iter_mut().find(|r| r.id == id)
                    {
                        role.position = *position;
                    }
                }
            }
            Op::PositionChannels(positions) => {
                for (placed, position) in positions {
                    if let Some(id) = remap.place(*placed)
                        && let Some(channel) = guild.channels.iter_mut().find(|c| c.id == id)
                    {
                        channel.position = *position;
                    }
                }
            }
        }
    }
    guild
}
