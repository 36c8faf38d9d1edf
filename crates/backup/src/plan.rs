//! The restore planner: a backup and the target guild as it is now in, the ordered operations that
//! make the guild match the backup out. Pure: no Discord, no clock.
//!
//! The target guild is given as a [`Backup`] too, captured with the same model (the service keeps that
//! capture as a snapshot anyway); its `guild.id` is the target guild's id (`None` is read as id 0).
//! [`apply`] likewise maps a `Backup` to a `Backup`.
//!
//! Operations name backup objects by their original ids; the executor keeps a [`Remap`] from those
//! ids to the target guild's (made by [`Plan::remap`] from [`Plan::matched`], then given each created
//! object's new id) and resolves every reference through it ([`Remap::channel`], [`Remap::settings`],
//! [`Remap::auto_mod`], [`Remap::onboarding`], [`Remap::emoji`]) just before sending. Images are named
//! by their SHA-256 (see [`crate::format`]): for [`Op::CreateEmoji`], [`Op::CreateSticker`] and a
//! role's or the guild's icon ([`Op::CreateRole`], [`Op::UpdateRole`], [`Op::UpdateSettings`]) the
//! executor loads the bytes from object storage (`files/{sha256}`).
//!
//! # Order
//!
//! In [`Mode::Reconcile`]: roles (created, updated); emojis (the guild's extra emojis deleted, then
//! the backup's created and updated: Discord gives a guild a fixed number of emoji and sticker slots,
//! so room is made first); stickers (likewise); channels (created, updated; categories first);
//! AutoMod rules (created, updated); onboarding; settings; bans; members' roles (when the backup keeps
//! them: each member the guild still has is given the backup's roles, keeping the integration-managed
//! roles they hold; members who left are not looked for); then the deletes of extra AutoMod
//! rules, channels (children before categories) and roles, once onboarding and settings no longer
//! name them, so a restore cut short loses as little as possible; positions last (roles, then
//! channels; the target's managed roles, an integration's or the restoring bot's own, are not moved).
//!
//! In [`Mode::Wipe`] the deletes come first (AutoMod rules, emojis, stickers, channels, roles), then
//! the same creates in the same order (members' roles after bans). One exception: the channels the guild's settings name as its
//! rules and public updates channels (which Discord will not delete in a Community guild) are deleted
//! after the settings are changed.
//!
//! # Matching
//!
//! [`Mode::Reconcile`] (the default) keeps what still exists and updates it in place when it differs
//! (every object with the same id is matched before any is matched by name):
//! - a role with the same id, else the same name (never `@everyone`, compared on its permissions only);
//! - a channel with the same id and type, else the same name, type and (matched) parent; channels that
//!   survive keep their messages and links;
//! - an emoji with the same id, else the same name and animation, preferring the same image. Discord
//!   cannot change an emoji's image, so an emoji found by name keeps its own image: only its name and
//!   roles are updated (recreating it would change its id and break the messages that use it);
//! - a sticker with the same id, else the same name; its name, description and tags are updated, its
//!   file is kept (Discord cannot change it either);
//! - an AutoMod rule with the same id and trigger type, else the same name and trigger type. Discord
//!   allows one rule of each trigger type but KEYWORD, six of those: when creating a rule would go over
//!   that while a rule of that type the backup does not have is still there (deletes come last), that
//!   rule is updated into the backup's instead;
//! - onboarding (when the backup has it) and the guild's settings are written when they differ from the
//!   backup's, references mapped.
//!
//! [`Mode::Wipe`] deletes every AutoMod rule, emoji, sticker, channel and role first (never `@everyone`
//! or integration-managed roles, which are matched as in reconcile), then creates the backup's. A
//! Community guild's rules and public updates channels cannot be deleted before the settings name
//! others: they stand for the backup's rules and public updates channels (updated to them) when the
//! backup has those, and are deleted last otherwise.
//!
//! In either mode, a backup role the target holds by name only as a role the restore may not change
//! (managed: an integration's, or, as core marks them, the restoring bot's own) stands for the backup's
//! role unchanged, with a line in [`Plan::skipped`]: making a second role of that name would leave two
//! and could go past Discord's 250 roles.
//!
//! **A restore never lifts a ban**, in either mode: the backup's banned users the guild has not banned
//! are banned, in batches of at most [`BAN_BATCH`] that share one reason; the guild's other bans stay.
//!
//! Emoji ids appear in forum tags, channels' default reaction emojis and onboarding options. One that
//! is among the backup's emojis ([`Plan::emojis`]) is mapped like any other reference (to the matched or
//! created emoji, dropped when it is not placed); any other emoji id is kept as it is, since it does
//! not name one of the backup's objects (another guild's emoji, or one the backup could not capture).
//! Emojis that will look the same (name, animation, image, roles) are interchangeable: a reference to
//! one of them is not rewritten to name its twin.
//!
//! A plan made from the state a plan produced is empty (property-tested with [`apply`]).

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::format::{
    AutoModRule, Backup, Ban, CATEGORY, Channel, Emoji, GuildSettings, Id, MemberRoles, Onboarding, Overwrite,
    OverwriteKind, Role, Sticker,
};

/// AutoMod's KEYWORD trigger type, the only one a guild may have several rules of.
pub const KEYWORD: u8 = 1;

/// AutoMod's SEND_ALERT_MESSAGE action type: its `metadata.channel_id` names a channel.
pub const SEND_ALERT_MESSAGE: u64 = 2;

/// How many users one [`Op::Ban`] holds at most (Discord's bulk-ban limit).
pub const BAN_BATCH: usize = 200;

/// How many AutoMod rules of `trigger_type` a guild may have.
pub fn auto_mod_limit(trigger_type: u8) -> usize {
    if trigger_type == KEYWORD { 6 } else { 1 }
}

/// Discord's most roles in a guild, `@everyone` included.
pub const MAX_ROLES: usize = 250;
/// Discord's most channels in a guild, categories included.
pub const MAX_CHANNELS: usize = 500;

/// What a restore does with what is already in the guild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Keep what matches the backup, update it, create the rest, delete what the backup lacks last.
    #[default]
    Reconcile,
    /// Delete everything first (but `@everyone`, managed roles and bans), then create the backup's.
    Wipe,
}

impl Mode {
    /// `reconcile` or `wipe`, as the restore route's `mode` names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Reconcile => "reconcile",
            Mode::Wipe => "wipe",
        }
    }

    /// The mode [`Mode::as_str`] names, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        [Mode::Reconcile, Mode::Wipe].into_iter().find(|mode| mode.as_str().eq_ignore_ascii_case(text))
    }
}

/// An object an operation places: one that exists in the target guild, or one the plan creates
/// (named by its backup id until it exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ref {
    /// The target guild's object, by its id there.
    Existing(Id),
    /// The object the plan creates for this backup id.
    Created(Id),
}

/// One step of a restore. Objects and references are named by backup ids; `target` is an id in the
/// target guild.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Creates the backup's role `role.id` (its icon, if any, by hash).
    CreateRole {
        /// The backup's role.
        role: Role,
    },
    /// Makes the existing role `target` look like the backup's `role`.
    UpdateRole {
        /// The target guild's role.
        target: Id,
        /// The backup's role.
        role: Role,
    },
    /// Deletes a role the backup does not have.
    DeleteRole {
        /// The target guild's role.
        target: Id,
        /// Its name, to tell people.
        name: String,
    },
    /// Creates the backup's emoji `emoji.id` from the image `emoji.image` (a hash), with its roles
    /// mapped by [`Remap::emoji`].
    CreateEmoji {
        /// The backup's emoji.
        emoji: Emoji,
    },
    /// Gives the existing emoji `target` the backup's name and roles ([`Remap::emoji`]); its image stays.
    UpdateEmoji {
        /// The target guild's emoji.
        target: Id,
        /// The backup's emoji.
        emoji: Emoji,
    },
    /// Deletes an emoji the backup does not have.
    DeleteEmoji {
        /// The target guild's emoji.
        target: Id,
        /// Its name, to tell people.
        name: String,
    },
    /// Creates the backup's sticker `sticker.id` from the file `sticker.file` (a hash).
    CreateSticker {
        /// The backup's sticker.
        sticker: Sticker,
    },
    /// Gives the existing sticker `target` the backup's name, description and tags; its file stays.
    UpdateSticker {
        /// The target guild's sticker.
        target: Id,
        /// The backup's sticker.
        sticker: Sticker,
    },
    /// Deletes a sticker the backup does not have.
    DeleteSticker {
        /// The target guild's sticker.
        target: Id,
        /// Its name, to tell people.
        name: String,
    },
    /// Creates the backup's channel `channel.id`; its parent and overwrites name backup ids.
    CreateChannel {
        /// The backup's channel.
        channel: Channel,
    },
    /// Makes the existing channel `target` like the backup's `channel` (references: backup ids).
    UpdateChannel {
        /// The target guild's channel.
        target: Id,
        /// The backup's channel.
        channel: Channel,
    },
    /// Deletes a channel the backup does not have.
    DeleteChannel {
        /// The target guild's channel.
        target: Id,
        /// Its name, to tell people.
        name: String,
    },
    /// Creates the backup's AutoMod rule (references mapped by [`Remap::auto_mod`]).
    CreateAutoMod {
        /// The backup's rule.
        rule: AutoModRule,
    },
    /// Makes the existing rule `target` (of the same trigger type) like the backup's `rule`.
    UpdateAutoMod {
        /// The target guild's rule.
        target: Id,
        /// The backup's rule.
        rule: AutoModRule,
    },
    /// Deletes an AutoMod rule the backup does not have.
    DeleteAutoMod {
        /// The target guild's rule.
        target: Id,
        /// Its name, to tell people.
        name: String,
    },
    /// Replaces the guild's onboarding by the backup's (references mapped by [`Remap::onboarding`]).
    PutOnboarding {
        /// The backup's onboarding.
        onboarding: Onboarding,
    },
    /// Writes the backup's guild settings (channels mapped by [`Remap::settings`]; the icon by hash).
    UpdateSettings {
        /// The backup's settings.
        settings: GuildSettings,
    },
    /// Bans these users: at most [`BAN_BATCH`] of them, all with the same reason.
    Ban {
        /// The backup's bans the guild lacks.
        bans: Vec<Ban>,
    },
    /// Gives a member the backup's roles (`roles`, backup ids of roles a bot may assign), keeping the
    /// integration-managed roles they hold now (`keep`, target ids): Discord replaces the whole list.
    SetMemberRoles {
        /// The member (a user id, the same in every guild).
        user: Id,
        /// The backup's roles of the member, by backup id.
        roles: Vec<Id>,
        /// The target guild's managed roles the member holds.
        keep: Vec<Id>,
    },
    /// Sets these roles' positions (all of them, so the order is the backup's).
    PositionRoles(Vec<(Ref, i64)>),
    /// Sets these channels' positions (and parents).
    PositionChannels(Vec<(Ref, i64)>),
}

/// `n` and a noun, plural when `n` is not 1.
fn count_of(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// "category Text" or "channel #general".
fn channel_label(channel: &Channel) -> String {
    if channel.kind == CATEGORY { format!("category {}", channel.name) } else { format!("channel #{}", channel.name) }
}

impl Op {
    /// The backup id of the object the operation creates, if it creates one.
    pub fn creates(&self) -> Option<Id> {
        match self {
            Op::CreateRole { role } => Some(role.id),
            Op::CreateChannel { channel } => Some(channel.id),
            Op::CreateAutoMod { rule } => Some(rule.id),
            Op::CreateEmoji { emoji } => Some(emoji.id),
            Op::CreateSticker { sticker } => Some(sticker.id),
            _ => None,
        }
    }

    /// A short line for people (a dry run's answer): "Create role Moderators", "Ban 3 users".
    pub fn describe(&self) -> String {
        match self {
            Op::CreateRole { role } => format!("Create role {}", role.name),
            Op::UpdateRole { role, .. } => format!("Update role {}", role.name),
            Op::DeleteRole { name, .. } => format!("Delete role {name}"),
            Op::CreateEmoji { emoji } => format!("Create emoji :{}:", emoji.name),
            Op::UpdateEmoji { emoji, .. } => format!("Update emoji :{}:", emoji.name),
            Op::DeleteEmoji { name, .. } => format!("Delete emoji :{name}:"),
            Op::CreateSticker { sticker } => format!("Create sticker {}", sticker.name),
            Op::UpdateSticker { sticker, .. } => format!("Update sticker {}", sticker.name),
            Op::DeleteSticker { name, .. } => format!("Delete sticker {name}"),
            Op::CreateChannel { channel } => format!("Create {}", channel_label(channel)),
            Op::UpdateChannel { channel, .. } => format!("Update {}", channel_label(channel)),
            Op::DeleteChannel { name, .. } => format!("Delete channel #{name}"),
            Op::CreateAutoMod { rule } => format!("Create AutoMod rule {}", rule.name),
            Op::UpdateAutoMod { rule, .. } => format!("Update AutoMod rule {}", rule.name),
            Op::DeleteAutoMod { name, .. } => format!("Delete AutoMod rule {name}"),
            Op::PutOnboarding { onboarding } => {
                format!("Set onboarding ({})", count_of(onboarding.prompts.len(), "prompt"))
            }
            Op::UpdateSettings { .. } => "Update server settings".into(),
            Op::Ban { bans } => format!("Ban {}", count_of(bans.len(), "user")),
            Op::SetMemberRoles { user, roles, .. } => {
                format!("Give member {user} {}", count_of(roles.len(), "role"))
            }
            Op::PositionRoles(positions) => format!("Order {}", count_of(positions.len(), "role")),
            Op::PositionChannels(positions) => format!("Order {}", count_of(positions.len(), "channel")),
        }
    }
}

/// How many objects of one kind a plan creates, updates and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Created (for bans: users banned).
    pub created: usize,
    /// Updated in place (onboarding and settings: written).
    pub updated: usize,
    /// Deleted (never bans).
    pub deleted: usize,
}

/// A plan's [`Counts`] per kind of object; serializes as
/// `{"roles": {"created": 1, "updated": 0, "deleted": 2}, "channels": ..., "autoModeration": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanCounts {
    /// Roles.
    pub roles: Counts,
    /// Channels of every type.
    pub channels: Counts,
    /// AutoMod rules.
    pub auto_moderation: Counts,
    /// Onboarding (updated when written).
    pub onboarding: Counts,
    /// The guild's settings (updated when written).
    pub settings: Counts,
    /// Custom emojis.
    pub emojis: Counts,
    /// Stickers.
    pub stickers: Counts,
    /// Bans (created: users banned).
    pub bans: Counts,
    /// Members whose roles are set (updated), when the backup keeps members' roles.
    pub members: Counts,
}

/// A restore's operations, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// What to do, in order.
    pub ops: Vec<Op>,
    /// Backup objects found in the target guild: (backup id, target id). `@everyone` included (the
    /// backup's guild id to the target's).
    pub matched: Vec<(Id, Id)>,
    /// The backup's emojis' ids: references to them are mapped, other emoji ids kept ([`Remap::emojis`]).
    pub emojis: Vec<Id>,
    /// What the restore leaves out, and why (integration-managed roles cannot be created).
    pub skipped: Vec<String>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// What the plan creates, updates and deletes, per kind (positions are not counted).
    pub fn counts(&self) -> PlanCounts {
        let mut counts = PlanCounts::default();
        for op in &self.ops {
            match op {
                Op::CreateRole { .. } => counts.roles.created += 1,
                Op::UpdateRole { .. } => counts.roles.updated += 1,
                Op::DeleteRole { .. } => counts.roles.deleted += 1,
                Op::CreateEmoji { .. } => counts.emojis.created += 1,
                Op::UpdateEmoji { .. } => counts.emojis.updated += 1,
                Op::DeleteEmoji { .. } => counts.emojis.deleted += 1,
                Op::CreateSticker { .. } => counts.stickers.created += 1,
                Op::UpdateSticker { .. } => counts.stickers.updated += 1,
                Op::DeleteSticker { .. } => counts.stickers.deleted += 1,
                Op::CreateChannel { .. } => counts.channels.created += 1,
                Op::UpdateChannel { .. } => counts.channels.updated += 1,
                Op::DeleteChannel { .. } => counts.channels.deleted += 1,
                Op::CreateAutoMod { .. } => counts.auto_moderation.created += 1,
                Op::UpdateAutoMod { .. } => counts.auto_moderation.updated += 1,
                Op::DeleteAutoMod { .. } => counts.auto_moderation.deleted += 1,
                Op::PutOnboarding { .. } => counts.onboarding.updated += 1,
                Op::UpdateSettings { .. } => counts.settings.updated += 1,
                Op::Ban { bans } => counts.bans.created += bans.len(),
                Op::SetMemberRoles { .. } => counts.members.updated += 1,
                Op::PositionRoles(_) | Op::PositionChannels(_) => {}
            }
        }
        counts
    }

    /// The remap the executor starts from.
    pub fn remap(&self) -> Remap {
        Remap { ids: self.matched.iter().copied().collect(), emojis: self.emojis.iter().copied().collect() }
    }
}

/// Backup ids to target ids, filled as the restore goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remap {
    /// Backup id to target id, for every object placed so far.
    pub ids: HashMap<Id, Id>,
    /// The backup's own emojis: a reference to one of them is mapped (dropped when it is not placed);
    /// any other emoji id is kept as it is.
    pub emojis: HashSet<Id>,
}

/// An id written as a string of digits (a custom emoji in `defaultReactionEmoji`, a channel in an
/// AutoMod action).
fn digits(text: &str) -> Option<Id> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().map(Id)
}

/// The channel a SEND_ALERT_MESSAGE action posts to, if `action` is one.
fn alert_channel(action: &Value) -> Option<Id> {
    if action.get("type").and_then(Value::as_u64) != Some(SEND_ALERT_MESSAGE) {
        return None;
    }
    match action.get("metadata")?.get("channel_id")? {
        Value::String(text) => digits(text),
        Value::Number(number) => number.as_u64().map(Id),
        _ => None,
    }
}

/// The channels an AutoMod rule's actions post alerts to.
fn alert_channels(actions: &Value) -> impl Iterator<Item = Id> + '_ {
    actions.as_array().into_iter().flatten().filter_map(alert_channel)
}

impl Remap {
    /// Records what a created object's id is.
    pub fn insert(&mut self, backup: Id, target: Id) {
        self.ids.insert(backup, target);
    }

    /// The target id of the backup's object, if placed.
    pub fn get(&self, backup: Id) -> Option<Id> {
        self.ids.get(&backup).copied()
    }

    /// The target id of a placed object.
    pub fn place(&self, placed: Ref) -> Option<Id> {
        match placed {
            Ref::Existing(id) => Some(id),
            Ref::Created(id) => self.get(id),
        }
    }

    /// An emoji reference in the target guild: one of the backup's emojis is mapped (`None` when not
    /// placed); any other emoji id is kept.
    pub fn emoji_id(&self, emoji: Id) -> Option<Id> {
        if self.emojis.contains(&emoji) { self.get(emoji) } else { Some(emoji) }
    }

    /// The channel with its references in the target guild's ids: its parent, its role overwrites
    /// (member overwrites name users, the same everywhere), its forum tags' and default reaction's
    /// emojis ([`Remap::emoji_id`]). References to what the restore did not place are dropped (a tag
    /// then has no emoji).
    pub fn channel(&self, channel: &Channel) -> Channel {
        let mut out = channel.clone();
        out.parent = channel.parent.and_then(|p| self.get(p));
        out.overwrites = channel
            .overwrites
            .iter()
            .filter_map(|o| match o.kind {
                OverwriteKind::Role => Some(Overwrite { id: self.get(o.id)?, ..*o }),
                OverwriteKind::Member => Some(*o),
            })
            .collect();
        out.overwrites.sort_by_key(|o| (o.id, o.kind == OverwriteKind::Member));
        for tag in &mut out.available_tags {
            if let Some(emoji) = tag.emoji_id {
                tag.emoji_id = self.emoji_id(emoji);
                if tag.emoji_id.is_none() {
                    tag.emoji_name = None;
                }
            }
        }
        if let Some(emoji) = channel.default_reaction_emoji.as_deref().and_then(digits) {
            out.default_reaction_emoji = self.emoji_id(emoji).map(|id| id.to_string());
        }
        out
    }

    /// The guild's settings in the target guild's ids: its id and its AFK, system, rules and public
    /// updates channels (`None` when not placed).
    pub fn settings(&self, settings: &GuildSettings) -> GuildSettings {
        let channel = |c: Option<Id>| c.and_then(|c| self.get(c));
        GuildSettings {
            id: channel(settings.id),
            afk_channel: channel(settings.afk_channel),
            system_channel: channel(settings.system_channel),
            rules_channel: channel(settings.rules_channel),
            public_updates_channel: channel(settings.public_updates_channel),
            ..settings.clone()
        }
    }

    /// The AutoMod rule in the target guild's ids: its exempt roles and channels, and the channel of
    /// each SEND_ALERT_MESSAGE action (`metadata.channel_id`). Unplaced exempt roles and channels are
    /// dropped, and so is an alert action whose channel is not placed.
    pub fn auto_mod(&self, rule: &AutoModRule) -> AutoModRule {
        let mut out = rule.clone();
        out.exempt_roles = rule.exempt_roles.iter().filter_map(|r| self.get(*r)).collect();
        out.exempt_channels = rule.exempt_channels.iter().filter_map(|c| self.get(*c)).collect();
        if let Value::Array(actions) = &rule.actions {
            let actions = actions.iter().filter_map(|action| {
                let Some(channel) = alert_channel(action) else { return Some(action.clone()) };
                let placed = self.get(channel)?;
                let mut action = action.clone();
                if let Some(metadata) = action.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.insert("channel_id".into(), Value::String(placed.to_string()));
                }
                Some(action)
            });
            out.actions = Value::Array(actions.collect());
        }
        out
    }

    /// Onboarding in the target guild's ids: its default channels, and each option's channels, roles
    /// and emoji ([`Remap::emoji_id`]). What is not placed is dropped (an option then has no emoji).
    pub fn onboarding(&self, onboarding: &Onboarding) -> Onboarding {
        let mut out = onboarding.clone();
        out.default_channels = onboarding.default_channels.iter().filter_map(|c| self.get(*c)).collect();
        for option in out.prompts.iter_mut().flat_map(|p| p.options.iter_mut()) {
            option.channels = option.channels.iter().filter_map(|c| self.get(*c)).collect();
            option.roles = option.roles.iter().filter_map(|r| self.get(*r)).collect();
            if let Some(emoji) = option.emoji_id {
                option.emoji_id = self.emoji_id(emoji);
                if option.emoji_id.is_none() {
                    option.emoji_name = None;
                }
            }
        }
        out
    }

    /// The emoji with its roles in the target guild's ids; unplaced roles are dropped (if none is left,
    /// everyone may use it, as Discord reads an empty list).
    pub fn emoji(&self, emoji: &Emoji) -> Emoji {
        Emoji { roles: emoji.roles.iter().filter_map(|r| self.get(*r)).collect(), ..emoji.clone() }
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

/// Target emoji ids to the lowest id of the emojis that will look the same once the plan is carried
/// out (name, animation, image, roles): such twins are interchangeable, so which of them a reference
/// names is no difference (else a plan could swap them back and forth for ever).
type Twins = HashMap<Id, Id>;

/// An emoji reference as compared: the lowest of its twins.
fn twin(twins: &Twins, emoji: Id) -> Id {
    twins.get(&emoji).copied().unwrap_or(emoji)
}

/// A channel's settings with references resolved, what an update compares (not id or position).
fn channel_fields(channel: &Channel, twins: &Twins) -> Channel {
    let mut fields = channel.clone();
    fields.id = Id(0);
    fields.position = 0;
    fields.overwrites.sort_by_key(|o| (o.id, o.kind == OverwriteKind::Member));
    for tag in &mut fields.available_tags {
        tag.emoji_id = tag.emoji_id.map(|e| twin(twins, e));
    }
    if let Some(emoji) = fields.default_reaction_emoji.as_deref().and_then(digits) {
        fields.default_reaction_emoji = Some(twin(twins, emoji).to_string());
    }
    fields
}

/// Ids as a set, for comparing lists whose order Discord does not keep.
fn sorted(ids: &[Id]) -> Vec<Id> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    ids
}

/// What an emoji update can change: its name and roles.
fn emoji_fields(emoji: &Emoji) -> (&str, Vec<Id>) {
    (&emoji.name, sorted(&emoji.roles))
}

/// What a sticker update can change: its name, description and tags.
fn sticker_fields(sticker: &Sticker) -> (&str, Option<&str>, &str) {
    (&sticker.name, sticker.description.as_deref(), &sticker.tags)
}

/// An AutoMod rule's settings with references resolved, what an update compares (not its id).
fn auto_mod_fields(rule: &AutoModRule) -> AutoModRule {
    AutoModRule {
        id: Id(0),
        exempt_roles: sorted(&rule.exempt_roles),
        exempt_channels: sorted(&rule.exempt_channels),
        ..rule.clone()
    }
}

/// Onboarding with its channel and role lists as sets, what a rewrite compares.
fn onboarding_fields(onboarding: &Onboarding, twins: &Twins) -> Onboarding {
    let mut fields = onboarding.clone();
    fields.default_channels = sorted(&fields.default_channels);
    for option in fields.prompts.iter_mut().flat_map(|p| p.options.iter_mut()) {
        option.channels = sorted(&option.channels);
        option.roles = sorted(&option.roles);
        option.emoji_id = option.emoji_id.map(|e| twin(twins, e));
    }
    fields
}

/// Settings without the guild's id, features and boost level, what an update compares.
fn settings_fields(settings: &GuildSettings) -> GuildSettings {
    GuildSettings { id: None, features: Vec::new(), premium_tier: 0, ..settings.clone() }
}

/// Where the target guild may hold a backup object, by id: the object a restore cut short already
/// created for it ([`plan_resumed`]'s `placed`), else, when `own` (reconcile), one with its own id.
#[derive(Clone, Copy)]
struct Known<'p> {
    placed: &'p HashMap<Id, Id>,
    own: bool,
}

impl Known<'_> {
    fn target(&self, backup: Id) -> Option<Id> {
        self.placed.get(&backup).copied().or(self.own.then_some(backup))
    }
}

/// The target guild's objects [`Known`] holds for one of `wanted` that are `alike` it, by backup id.
/// Objects are matched by id before any is matched by name, so that a name match never takes an
/// object whose own backup object comes later.
fn same_ids<'a, B, T>(
    wanted: &[&B],
    current: &'a [T],
    id: impl Fn(&T) -> Id,
    backup_id: impl Fn(&B) -> Id,
    known: Known<'_>,
    alike: impl Fn(&B, &T) -> bool,
) -> HashMap<Id, &'a T> {
    let current: HashMap<Id, &T> = current.iter().map(|c| (id(c), c)).collect();
    wanted
        .iter()
        .filter_map(|b| {
            let found = current.get(&known.target(backup_id(b))?)?;
            alike(b, found).then_some((backup_id(b), *found))
        })
        .collect()
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

/// Plans a restore of `backup` into `current`, the target guild captured like a backup.
pub fn plan(backup: &Backup, current: &Backup, mode: Mode) -> Plan {
    plan_resumed(backup, current, mode, &HashMap::new())
}

/// Plans the rest of a restore cut short: `placed` maps backup ids to the target objects it already
/// created. Those are matched first, in either mode (a wipe does not delete what it made), so carrying
/// out this plan creates nothing twice; everything else is planned as [`plan`] does.
pub fn plan_resumed(backup: &Backup, current: &Backup, mode: Mode, placed: &HashMap<Id, Id>) -> Plan {
    // In a wipe only what the restore itself placed is kept by id.
    let known = Known { placed, own: mode == Mode::Reconcile };
    let target_guild = current.guild.id.unwrap_or(Id(0));
    let mut plan = Plan { emojis: backup.emojis.iter().map(|e| e.id).collect(), ..Plan::default() };
    let mut remap = plan.remap();
    let backup_guild = backup.guild.id.unwrap_or(target_guild);
    remap.insert(backup_guild, target_guild);
    plan.matched.push((backup_guild, target_guild));
    // Backup ids of what the plan creates: an object that names one must be written once it exists.
    let mut created: HashSet<Id> = HashSet::new();

    // Roles: match, then create or update, in the backup's order (lowest first: each new role lands
    // above what exists, and positions are set at the end anyway).
    let everyone = |role: &Role, guild: Id| role.id == guild;
    let mut taken_roles: HashSet<Id> = HashSet::from([target_guild]);
    let mut backup_roles: Vec<&Role> = backup.roles.iter().filter(|r| !everyone(r, backup_guild)).collect();
    backup_roles.sort_by(|a, b| a.position.cmp(&b.position).then(b.id.cmp(&a.id)));
    let roles_by_id = same_ids(
        &backup_roles,
        &current.roles,
        |r| r.id,
        |r| r.id,
        // Managed roles are matched by id in a wipe too.
        Known { own: true, ..known },
        |b, r| (mode == Mode::Reconcile || b.managed || placed.contains_key(&b.id)) && !everyone(r, target_guild),
    );
    taken_roles.extend(roles_by_id.values().map(|r| r.id));
    let find_role = |role: &Role, taken: &HashSet<Id>| -> Option<&Role> {
        if let Some(found) = roles_by_id.get(&role.id) {
            return Some(found);
        }
        // By id; else by name, preferring one that already looks the same, then the lowest in the
        // target's order (backup roles are taken lowest first, so twins pair up in order). A wipe
        // deletes every role it can, so it matches by name only the roles it cannot delete.
        let by_name = |managed: bool| {
            current
                .roles
                .iter()
                .filter(|r| !taken.contains(&r.id) && !everyone(r, target_guild))
                .filter(|r| r.name == role.name && r.managed == managed)
                .min_by_key(|r| (role_fields(r) != role_fields(role), r.position, std::cmp::Reverse(r.id)))
        };
        let same_kind = if mode == Mode::Wipe && !role.managed { None } else { by_name(role.managed) };
        // A role of the backup's that the target holds as a role the restore may not change (the
        // restoring bot's own, or an integration's) stands for it, unchanged: making another of the same
        // name would leave two, and could go past Discord's 250 roles.
        same_kind.or_else(|| if role.managed { None } else { by_name(true) })
    };
    let mut role_ops = Vec::new();
    for role in &backup_roles {
        match find_role(role, &taken_roles) {
            Some(found) if found.managed && !role.managed && !roles_by_id.contains_key(&role.id) => {
                taken_roles.insert(found.id);
                remap.insert(role.id, found.id);
                plan.matched.push((role.id, found.id));
                plan.skipped.push(format!(
                    "Role {}: the guild's role of that name is the restoring bot's or an integration's; it stands \
                     for the backup's and is not changed.",
                    role.name
                ));
            }
            Some(found) => {
                taken_roles.insert(found.id);
                remap.insert(role.id, found.id);
                plan.matched.push((role.id, found.id));
                if !role.managed && role_fields(found) != role_fields(role) {
                    role_ops.push(Op::UpdateRole { target: found.id, role: (*role).clone() });
                }
            }
            None if role.managed => {
                plan.skipped.push(format!("Role {} is managed by an integration: it is not recreated.", role.name));
            }
            None => {
                created.insert(role.id);
                role_ops.push(Op::CreateRole { role: (*role).clone() });
            }
        }
    }
    if let (Some(wanted), Some(found)) = (
        backup.roles.iter().find(|r| everyone(r, backup_guild)),
        current.roles.iter().find(|r| everyone(r, target_guild)),
    ) && wanted.permissions != found.permissions
    {
        role_ops.push(Op::UpdateRole { target: found.id, role: wanted.clone() });
    }
    let extra_roles: Vec<&Role> = current
        .roles
        .iter()
        .filter(|r| !taken_roles.contains(&r.id) && !r.managed && !everyone(r, target_guild))
        .collect();

    // Emojis: by id, else by name and animation, preferring the same image, then the same roles.
    let mut backup_emojis: Vec<&Emoji> = backup.emojis.iter().collect();
    backup_emojis.sort_by_key(|e| e.id);
    let emojis_by_id = same_ids(&backup_emojis, &current.emojis, |e| e.id, |e| e.id, known, |_, _| true);
    let mut taken_emojis: HashSet<Id> = emojis_by_id.values().map(|e| e.id).collect();
    let mut emoji_ops = Vec::new();
    // What each matched emoji will look like; one waiting for a created role is alike no other.
    type Looks = (String, bool, String, Vec<Id>, Option<Id>);
    let mut looks: Vec<(Looks, Id)> = Vec::new();
    for emoji in backup_emojis {
        let wanted = remap.emoji(emoji);
        let found = if mode == Mode::Wipe {
            emojis_by_id.get(&emoji.id).copied()
        } else {
            let free = |e: &&Emoji| !taken_emojis.contains(&e.id);
            emojis_by_id.get(&emoji.id).copied().or_else(|| {
                current
                    .emojis
                    .iter()
                    .filter(free)
                    .filter(|e| e.name == emoji.name && e.animated == emoji.animated)
                    .min_by_key(|e| (e.image != emoji.image, emoji_fields(e) != emoji_fields(&wanted), e.id))
            })
        };
        match found {
            Some(found) => {
                taken_emojis.insert(found.id);
                remap.insert(emoji.id, found.id);
                plan.matched.push((emoji.id, found.id));
                let waits = emoji.roles.iter().any(|r| created.contains(r));
                let alone = waits.then_some(found.id);
                let will = (wanted.name.clone(), found.animated, found.image.clone(), sorted(&wanted.roles), alone);
                looks.push((will, found.id));
                if waits || emoji_fields(found) != emoji_fields(&wanted) {
                    emoji_ops.push(Op::UpdateEmoji { target: found.id, emoji: emoji.clone() });
                }
            }
            None => {
                created.insert(emoji.id);
                emoji_ops.push(Op::CreateEmoji { emoji: emoji.clone() });
            }
        }
    }
    let mut lowest: HashMap<&Looks, Id> = HashMap::new();
    for (will, id) in &looks {
        let low = lowest.entry(will).or_insert(*id);
        *low = (*low).min(*id);
    }
    let twins: Twins = looks.iter().map(|(will, id)| (*id, lowest.get(will).copied().unwrap_or(*id))).collect();
    let mut extra_emojis: Vec<&Emoji> = current.emojis.iter().filter(|e| !taken_emojis.contains(&e.id)).collect();
    extra_emojis.sort_by_key(|e| e.id);
    let emoji_deletes: Vec<Op> =
        extra_emojis.iter().map(|e| Op::DeleteEmoji { target: e.id, name: e.name.clone() }).collect();

    // Stickers: by id, else by name, preferring the same file, then the same fields.
    let mut backup_stickers: Vec<&Sticker> = backup.stickers.iter().collect();
    backup_stickers.sort_by_key(|s| s.id);
    let stickers_by_id = same_ids(&backup_stickers, &current.stickers, |s| s.id, |s| s.id, known, |_, _| true);
    let mut taken_stickers: HashSet<Id> = stickers_by_id.values().map(|s| s.id).collect();
    let mut sticker_ops = Vec::new();
    for sticker in backup_stickers {
        let found = if mode == Mode::Wipe {
            stickers_by_id.get(&sticker.id).copied()
        } else {
            let free = |s: &&Sticker| !taken_stickers.contains(&s.id);
            stickers_by_id.get(&sticker.id).copied().or_else(|| {
                current
                    .stickers
                    .iter()
                    .filter(free)
                    .filter(|s| s.name == sticker.name)
                    .min_by_key(|s| (s.file != sticker.file, sticker_fields(s) != sticker_fields(sticker), s.id))
            })
        };
        match found {
            Some(found) => {
                taken_stickers.insert(found.id);
                remap.insert(sticker.id, found.id);
                plan.matched.push((sticker.id, found.id));
                if sticker_fields(found) != sticker_fields(sticker) {
                    sticker_ops.push(Op::UpdateSticker { target: found.id, sticker: sticker.clone() });
                }
            }
            None => {
                created.insert(sticker.id);
                sticker_ops.push(Op::CreateSticker { sticker: sticker.clone() });
            }
        }
    }
    let mut extra_stickers: Vec<&Sticker> =
        current.stickers.iter().filter(|s| !taken_stickers.contains(&s.id)).collect();
    extra_stickers.sort_by_key(|s| s.id);
    let sticker_deletes: Vec<Op> =
        extra_stickers.iter().map(|s| Op::DeleteSticker { target: s.id, name: s.name.clone() }).collect();

    // Channels: categories first, then the rest; a channel matches by id, else by name, type and
    // (matched) parent.
    let mut backup_channels: Vec<&Channel> = backup.channels.iter().collect();
    backup_channels.sort_by_key(|c| (c.kind != CATEGORY, c.position, c.id));
    let channels_by_id =
        same_ids(&backup_channels, &current.channels, |c| c.id, |c| c.id, known, |b, c| b.kind == c.kind);
    let mut taken_channels: HashSet<Id> = channels_by_id.values().map(|c| c.id).collect();
    // In a wipe, the target's rules and public updates channels cannot be deleted before the settings
    // name others, which come last: they stand for the backup's own (updated to them), rather than
    // staying beside 500 new channels, past Discord's cap.
    let mut stand_ins: HashMap<Id, &Channel> = HashMap::new();
    if mode == Mode::Wipe {
        let pairs = [
            (backup.guild.rules_channel, current.guild.rules_channel),
            (backup.guild.public_updates_channel, current.guild.public_updates_channel),
        ];
        for (wanted, kept) in pairs {
            let (Some(wanted), Some(kept)) = (wanted, kept) else { continue };
            let wanted_kind = backup.channels.iter().find(|c| c.id == wanted).map(|c| c.kind);
            let kept = current.channels.iter().find(|c| c.id == kept);
            if let Some(kept) = kept
                && wanted_kind == Some(kept.kind)
                && !channels_by_id.contains_key(&wanted)
                && !taken_channels.contains(&kept.id)
                && !stand_ins.contains_key(&wanted)
                && !stand_ins.values().any(|c| c.id == kept.id)
            {
                stand_ins.insert(wanted, kept);
            }
        }
    }
    let mut channel_ops = Vec::new();
    for channel in &backup_channels {
        let parent = channel.parent.and_then(|p| remap.get(p));
        let found = if mode == Mode::Wipe {
            channels_by_id.get(&channel.id).or_else(|| stand_ins.get(&channel.id)).copied()
        } else {
            let free = |c: &&Channel| !taken_channels.contains(&c.id);
            let wanted = channel_fields(&remap.channel(channel), &twins);
            channels_by_id.get(&channel.id).copied().or_else(|| {
                current
                    .channels
                    .iter()
                    .filter(free)
                    .filter(|c| c.name == channel.name && c.kind == channel.kind && c.parent == parent)
                    .min_by_key(|c| (channel_fields(c, &twins) != wanted, c.position, c.id))
            })
        };
        match found {
            Some(found) => {
                taken_channels.insert(found.id);
                remap.insert(channel.id, found.id);
                plan.matched.push((channel.id, found.id));
                // A parent, role or emoji the restore creates is not placed yet: the channel will need it.
                let waits = channel.parent.is_some_and(|p| created.contains(&p))
                    || channel.overwrites.iter().any(|o| o.kind == OverwriteKind::Role && created.contains(&o.id))
                    || channel.available_tags.iter().filter_map(|t| t.emoji_id).any(|e| created.contains(&e))
                    || channel.default_reaction_emoji.as_deref().and_then(digits).is_some_and(|e| created.contains(&e));
                if waits || channel_fields(found, &twins) != channel_fields(&remap.channel(channel), &twins) {
                    channel_ops.push(Op::UpdateChannel { target: found.id, channel: (*channel).clone() });
                }
            }
            None => {
                created.insert(channel.id);
                channel_ops.push(Op::CreateChannel { channel: (*channel).clone() });
            }
        }
    }
    let mut extra_channels: Vec<&Channel> =
        current.channels.iter().filter(|c| !taken_channels.contains(&c.id)).collect();
    // Children before their categories.
    extra_channels.sort_by_key(|c| (c.kind == CATEGORY, c.id));
    // In a wipe, Discord will not delete a Community guild's rules or public updates channel before the
    // settings name another.
    let required: HashSet<Id> = match mode {
        Mode::Wipe => {
            [current.guild.rules_channel, current.guild.public_updates_channel].into_iter().flatten().collect()
        }
        Mode::Reconcile => HashSet::new(),
    };
    let (late_channel_deletes, mut channel_deletes): (Vec<Op>, Vec<Op>) = extra_channels
        .iter()
        .map(|c| Op::DeleteChannel { target: c.id, name: c.name.clone() })
        .partition(|op| matches!(op, Op::DeleteChannel { target, .. } if required.contains(target)));
    let mut role_deletes =
        extra_roles.iter().map(|r| Op::DeleteRole { target: r.id, name: r.name.clone() }).collect::<Vec<_>>();

    // AutoMod rules: by id, else by name, within a trigger type (which a rule cannot change).
    let mut backup_rules: Vec<&AutoModRule> = backup.auto_moderation.iter().collect();
    backup_rules.sort_by_key(|r| r.id);
    let mut found_rules = same_ids(
        &backup_rules,
        &current.auto_moderation,
        |r| r.id,
        |r| r.id,
        known,
        |b, r| b.trigger_type == r.trigger_type,
    );
    let mut taken_rules: HashSet<Id> = found_rules.values().map(|r| r.id).collect();
    if mode == Mode::Reconcile {
        for rule in &backup_rules {
            if found_rules.contains_key(&rule.id) {
                continue;
            }
            let wanted = auto_mod_fields(&remap.auto_mod(rule));
            let free = |r: &&AutoModRule| !taken_rules.contains(&r.id) && r.trigger_type == rule.trigger_type;
            let found = current
                .auto_moderation
                .iter()
                .filter(free)
                .filter(|r| r.name == rule.name)
                .min_by_key(|r| (auto_mod_fields(r) != wanted, r.id));
            if let Some(found) = found {
                taken_rules.insert(found.id);
                found_rules.insert(rule.id, found);
            }
        }
        // Extra rules are deleted last, so creating beside them could go over Discord's limit for the
        // trigger type: then an extra rule is updated into the backup's instead.
        let mut trigger_types: Vec<u8> = backup_rules.iter().map(|r| r.trigger_type).collect();
        trigger_types.sort_unstable();
        trigger_types.dedup();
        for trigger_type in trigger_types {
            let kept = found_rules.values().filter(|r| r.trigger_type == trigger_type).count();
            let creates: Vec<&AutoModRule> = backup_rules
                .iter()
                .filter(|r| r.trigger_type == trigger_type && !found_rules.contains_key(&r.id))
                .copied()
                .collect();
            let mut extras: Vec<&AutoModRule> = current
                .auto_moderation
                .iter()
                .filter(|r| r.trigger_type == trigger_type && !taken_rules.contains(&r.id))
                .collect();
            extras.sort_by_key(|r| r.id);
            let over = (kept + creates.len() + extras.len()).saturating_sub(auto_mod_limit(trigger_type));
            for (rule, extra) in creates.into_iter().zip(extras).take(over) {
                taken_rules.insert(extra.id);
                found_rules.insert(rule.id, extra);
            }
        }
    }
    let mut rule_ops = Vec::new();
    for rule in &backup_rules {
        match found_rules.get(&rule.id) {
            Some(found) => {
                remap.insert(rule.id, found.id);
                plan.matched.push((rule.id, found.id));
                let waits = rule.exempt_roles.iter().chain(&rule.exempt_channels).any(|id| created.contains(id))
                    || alert_channels(&rule.actions).any(|c| created.contains(&c));
                if waits || auto_mod_fields(found) != auto_mod_fields(&remap.auto_mod(rule)) {
                    rule_ops.push(Op::UpdateAutoMod { target: found.id, rule: (*rule).clone() });
                }
            }
            None => {
                created.insert(rule.id);
                rule_ops.push(Op::CreateAutoMod { rule: (*rule).clone() });
            }
        }
    }
    let mut extra_rules: Vec<&AutoModRule> =
        current.auto_moderation.iter().filter(|r| !taken_rules.contains(&r.id)).collect();
    extra_rules.sort_by_key(|r| r.id);
    let rule_deletes: Vec<Op> =
        extra_rules.iter().map(|r| Op::DeleteAutoMod { target: r.id, name: r.name.clone() }).collect();

    // Onboarding, when the backup has it.
    let onboarding_op = backup.onboarding.as_ref().and_then(|wanted| {
        let options = || wanted.prompts.iter().flat_map(|p| &p.options);
        let waits = wanted
            .default_channels
            .iter()
            .chain(options().flat_map(|o| o.channels.iter().chain(&o.roles).chain(&o.emoji_id)))
            .any(|id| created.contains(id));
        let now = current.onboarding.as_ref().map(|o| onboarding_fields(o, &twins));
        (waits || now != Some(onboarding_fields(&remap.onboarding(wanted), &twins)))
            .then(|| Op::PutOnboarding { onboarding: wanted.clone() })
    });

    // Settings.
    let settings = &backup.guild;
    let waits =
        [settings.afk_channel, settings.system_channel, settings.rules_channel, settings.public_updates_channel]
            .into_iter()
            .flatten()
            .any(|c| created.contains(&c));
    let settings_op = (waits || settings_fields(&current.guild) != settings_fields(&remap.settings(settings)))
        .then(|| Op::UpdateSettings { settings: settings.clone() });

    // Bans the guild lacks, grouped by reason (a bulk ban gives one reason to all), in batches.
    let mut banned: HashSet<Id> = current.bans.iter().map(|b| b.user).collect();
    let mut by_reason: Vec<Vec<Ban>> = Vec::new();
    let mut reasons: HashMap<Option<&str>, usize> = HashMap::new();
    for ban in &backup.bans {
        if banned.insert(ban.user) {
            let group = *reasons.entry(ban.reason.as_deref()).or_insert_with(|| {
                by_reason.push(Vec::new());
                by_reason.len() - 1
            });
            if let Some(group) = by_reason.get_mut(group) {
                group.push(ban.clone());
            }
        }
    }
    let ban_ops: Vec<Op> =
        by_reason.iter().flat_map(|bans| bans.chunks(BAN_BATCH)).map(|bans| Op::Ban { bans: bans.to_vec() }).collect();

    // Members' roles, when the backup keeps them and the guild's were read: each member the guild
    // still has gets the backup's roles, keeping the integration-managed roles they hold now (a bot
    // can give or take neither those nor `@everyone`); members whose roles match are left alone.
    let member_ops: Vec<Op> = match (&backup.members, &current.members) {
        (Some(wanted), Some(now)) => {
            let now: HashMap<Id, &MemberRoles> = now.iter().map(|m| (m.user, m)).collect();
            let managed: HashSet<Id> = current.roles.iter().filter(|r| r.managed).map(|r| r.id).collect();
            let assignable: HashSet<Id> = backup_roles.iter().filter(|r| !r.managed).map(|r| r.id).collect();
            wanted
                .iter()
                .filter_map(|member| {
                    let found = now.get(&member.user)?;
                    // A role matched to one the target keeps as managed (a bot's own) is kept, not given.
                    let giveable = |r: &Id| {
                        assignable.contains(r) && remap.get(*r).is_none_or(|target| !managed.contains(&target))
                    };
                    let roles = sorted(&member.roles.iter().copied().filter(giveable).collect::<Vec<_>>());
                    let keep = sorted(&found.roles.iter().copied().filter(|r| managed.contains(r)).collect::<Vec<_>>());
                    let waits = roles.iter().any(|r| created.contains(r));
                    let mapped = sorted(&roles.iter().filter_map(|r| remap.get(*r)).collect::<Vec<_>>());
                    let held = sorted(
                        &found
                            .roles
                            .iter()
                            .copied()
                            .filter(|r| !managed.contains(r) && *r != target_guild)
                            .collect::<Vec<_>>(),
                    );
                    (waits || mapped != held).then_some(Op::SetMemberRoles { user: member.user, roles, keep })
                })
                .collect()
        }
        _ => Vec::new(),
    };

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
        .filter(|r| !everyone(r, target_guild) && (mode == Mode::Reconcile || taken_roles.contains(&r.id)))
        .map(|r| (r.id, r.position))
        .collect();
    // Managed roles in the target (integrations', and the restoring bot's own) are not the restore's
    // to move: Discord refuses a bot that moves its own highest role. They are left out of the order
    // compared and of the positions written (ranks still count them, so the others land around them).
    let target_managed: HashSet<Id> = current.roles.iter().filter(|r| r.managed).map(|r| r.id).collect();
    let wanted_order: Vec<Id> = role_order(&wanted_roles)
        .into_iter()
        .map(|id| remap.get(id).unwrap_or(id))
        .filter(|id| !target_managed.contains(id))
        .collect();
    let now_order: Vec<Id> = role_order(&now_roles)
        .into_iter()
        .filter(|id| taken_roles.contains(id) && !target_managed.contains(id))
        .collect();
    // Positions are written as ranks (the highest role gets the most), so ties in the backup, broken
    // by ids a restore cannot reproduce, still come out in the backup's order.
    let position_roles = (!created_roles.is_empty() || wanted_order != now_order).then(|| {
        let order = role_order(&wanted_roles);
        let top = i64::try_from(order.len()).unwrap_or(i64::MAX);
        Op::PositionRoles(
            order
                .iter()
                .zip(0..)
                .filter(|(id, _)| remap.get(**id).is_none_or(|target| !target_managed.contains(&target)))
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

    // Discord's caps: when the creates would not fit beside what is there, as many of the deletes as
    // needed come first (the rest stay last, so a restore cut short loses as little as it can).
    let (mut early_role_deletes, mut early_channel_deletes) = (Vec::new(), Vec::new());
    if mode == Mode::Reconcile {
        let creates =
            |ops: &[Op]| ops.iter().filter(|op| matches!(op, Op::CreateRole { .. } | Op::CreateChannel { .. })).count();
        let over = (current.roles.len() + creates(&role_ops)).saturating_sub(MAX_ROLES);
        early_role_deletes = role_deletes.drain(..over.min(role_deletes.len())).collect();
        let over = (current.channels.len() + creates(&channel_ops)).saturating_sub(MAX_CHANNELS);
        early_channel_deletes = channel_deletes.drain(..over.min(channel_deletes.len())).collect();
    }
    let ops = &mut plan.ops;
    match mode {
        Mode::Reconcile => {
            ops.extend(early_role_deletes);
            ops.extend(early_channel_deletes);
            ops.extend(role_ops);
            ops.extend(emoji_deletes);
            ops.extend(emoji_ops);
            ops.extend(sticker_deletes);
            ops.extend(sticker_ops);
            ops.extend(channel_ops);
            ops.extend(rule_ops);
            ops.extend(onboarding_op);
            ops.extend(settings_op);
            ops.extend(ban_ops);
            ops.extend(member_ops);
            ops.extend(rule_deletes);
            ops.extend(channel_deletes);
            ops.extend(late_channel_deletes);
            ops.extend(role_deletes);
        }
        Mode::Wipe => {
            ops.extend(rule_deletes);
            ops.extend(emoji_deletes);
            ops.extend(sticker_deletes);
            ops.extend(channel_deletes);
            ops.extend(role_deletes);
            ops.extend(role_ops);
            ops.extend(emoji_ops);
            ops.extend(sticker_ops);
            ops.extend(channel_ops);
            ops.extend(rule_ops);
            ops.extend(onboarding_op);
            ops.extend(settings_op);
            ops.extend(ban_ops);
            ops.extend(member_ops);
            ops.extend(late_channel_deletes);
        }
    }
    ops.extend(position_roles);
    ops.extend(position_channels);
    plan
}

/// Carries out `plan` on `current` as Discord would, with new ids from `next_id` up: what a restore
/// leaves behind, for tests and dry runs. Deleting an object removes the references to it (a role
/// from overwrites, emojis, AutoMod exemptions and onboarding; a channel from parents, settings,
/// AutoMod exemptions and onboarding; an emoji from forum tags, default reactions and onboarding).
pub fn apply(current: &Backup, plan: &Plan, next_id: u64) -> Backup {
    apply_first(current, plan, plan.ops.len(), next_id).0
}

/// Carries out the first `count` of `plan`'s operations, as [`apply`] does (a restore cut short);
/// answers the guild and the (backup id, new id) of every object created, by backup id.
pub fn apply_first(current: &Backup, plan: &Plan, count: usize, mut next_id: u64) -> (Backup, Vec<(Id, Id)>) {
    let mut guild = current.clone();
    let mut remap = plan.remap();
    let mut new_id = move || {
        next_id += 1;
        Id(next_id - 1)
    };
    for op in plan.ops.iter().take(count) {
        match op {
            Op::CreateRole { role } => {
                let id = new_id();
                remap.insert(role.id, id);
                guild.roles.push(Role { id, position: 1, ..role.clone() });
            }
            Op::UpdateRole { target, role } => {
                if let Some(found) = guild.roles.iter_mut().find(|r| r.id == *target) {
                    *found = Role { id: found.id, position: found.position, managed: found.managed, ..role.clone() };
                }
            }
            Op::DeleteRole { target, .. } => {
                let target = *target;
                guild.roles.retain(|r| r.id != target);
                for member in guild.members.iter_mut().flatten() {
                    member.roles.retain(|r| *r != target);
                }
                for channel in &mut guild.channels {
                    channel.overwrites.retain(|o| o.id != target);
                }
                for emoji in &mut guild.emojis {
                    emoji.roles.retain(|r| *r != target);
                }
                for rule in &mut guild.auto_moderation {
                    rule.exempt_roles.retain(|r| *r != target);
                }
                for option in guild.onboarding.iter_mut().flat_map(|o| &mut o.prompts).flat_map(|p| &mut p.options) {
                    option.roles.retain(|r| *r != target);
                }
            }
            Op::CreateEmoji { emoji } => {
                let id = new_id();
                remap.insert(emoji.id, id);
                guild.emojis.push(Emoji { id, ..remap.emoji(emoji) });
            }
            Op::UpdateEmoji { target, emoji } => {
                let wanted = remap.emoji(emoji);
                if let Some(found) = guild.emojis.iter_mut().find(|e| e.id == *target) {
                    found.name = wanted.name;
                    found.roles = wanted.roles;
                }
            }
            Op::DeleteEmoji { target, .. } => {
                let target = *target;
                guild.emojis.retain(|e| e.id != target);
                for channel in &mut guild.channels {
                    for tag in &mut channel.available_tags {
                        if tag.emoji_id == Some(target) {
                            (tag.emoji_id, tag.emoji_name) = (None, None);
                        }
                    }
                    if channel.default_reaction_emoji.as_deref().and_then(digits) == Some(target) {
                        channel.default_reaction_emoji = None;
                    }
                }
                for option in guild.onboarding.iter_mut().flat_map(|o| &mut o.prompts).flat_map(|p| &mut p.options) {
                    if option.emoji_id == Some(target) {
                        (option.emoji_id, option.emoji_name) = (None, None);
                    }
                }
            }
            Op::CreateSticker { sticker } => {
                let id = new_id();
                remap.insert(sticker.id, id);
                guild.stickers.push(Sticker { id, ..sticker.clone() });
            }
            Op::UpdateSticker { target, sticker } => {
                if let Some(found) = guild.stickers.iter_mut().find(|s| s.id == *target) {
                    found.name.clone_from(&sticker.name);
                    found.description.clone_from(&sticker.description);
                    found.tags.clone_from(&sticker.tags);
                }
            }
            Op::DeleteSticker { target, .. } => guild.stickers.retain(|s| s.id != *target),
            Op::CreateChannel { channel } => {
                let id = new_id();
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
                let target = *target;
                guild.channels.retain(|c| c.id != target);
                for channel in &mut guild.channels {
                    if channel.parent == Some(target) {
                        channel.parent = None;
                    }
                }
                let settings = &mut guild.guild;
                for slot in [
                    &mut settings.afk_channel,
                    &mut settings.system_channel,
                    &mut settings.rules_channel,
                    &mut settings.public_updates_channel,
                ] {
                    if *slot == Some(target) {
                        *slot = None;
                    }
                }
                for rule in &mut guild.auto_moderation {
                    rule.exempt_channels.retain(|c| *c != target);
                }
                if let Some(onboarding) = &mut guild.onboarding {
                    onboarding.default_channels.retain(|c| *c != target);
                    for option in onboarding.prompts.iter_mut().flat_map(|p| &mut p.options) {
                        option.channels.retain(|c| *c != target);
                    }
                }
            }
            Op::CreateAutoMod { rule } => {
                let id = new_id();
                remap.insert(rule.id, id);
                guild.auto_moderation.push(AutoModRule { id, ..remap.auto_mod(rule) });
            }
            Op::UpdateAutoMod { target, rule } => {
                let resolved = remap.auto_mod(rule);
                if let Some(found) = guild.auto_moderation.iter_mut().find(|r| r.id == *target) {
                    *found = AutoModRule { id: found.id, trigger_type: found.trigger_type, ..resolved };
                }
            }
            Op::DeleteAutoMod { target, .. } => guild.auto_moderation.retain(|r| r.id != *target),
            Op::PutOnboarding { onboarding } => guild.onboarding = Some(remap.onboarding(onboarding)),
            Op::UpdateSettings { settings } => {
                let (features, premium_tier) = (guild.guild.features.clone(), guild.guild.premium_tier);
                guild.guild = GuildSettings { id: guild.guild.id, features, premium_tier, ..remap.settings(settings) };
            }
            Op::Ban { bans } => {
                for ban in bans {
                    if !guild.bans.iter().any(|b| b.user == ban.user) {
                        guild.bans.push(ban.clone());
                    }
                }
            }
            Op::SetMemberRoles { user, roles, keep } => {
                if let Some(member) = guild.members.iter_mut().flatten().find(|m| m.user == *user) {
                    let mut placed: Vec<Id> =
                        roles.iter().filter_map(|r| remap.get(*r)).chain(keep.iter().copied()).collect();
                    placed.sort();
                    placed.dedup();
                    member.roles = placed;
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
    let matched: HashSet<Id> = plan.matched.iter().map(|(backup, _)| *backup).collect();
    let mut created: Vec<(Id, Id)> = remap.ids.into_iter().filter(|(backup, _)| !matched.contains(backup)).collect();
    created.sort();
    (guild, created)
}
