//! The restore planner, on generated guilds: applying a plan gives the guild the backup's whole
//! structure (roles in order with their looks and rights; channels under the same parents in the same
//! order with the same settings, overwrites and tags; the settings, AutoMod rules, onboarding, emojis
//! and stickers, every reference pointing at the same object; the backup's bans added to the guild's;
//! members the guild has holding their backup roles), and a second plan from there is empty; Discord's AutoMod limits hold at every step; reconcile keeps
//! what survived, wipe recreates everything, a restore cut short at any step resumes without making
//! anything twice, and the format round-trips through JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use garrison_backup::format::{
    AutoModRule, Backup, Ban, Bits, CATEGORY, Channel, Emoji, ForumTag, GuildSettings, Id, MemberRoles, Onboarding,
    OnboardingOption, OnboardingPrompt, Overwrite, OverwriteKind, Role, Sticker,
};
use garrison_backup::plan::{Mode, Op, Plan, Remap, apply, apply_first, auto_mod_limit, plan, plan_resumed};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

const GUILD: Id = Id(1);
/// Ids of emojis that are not the backup's (another guild's): kept as they are.
const FOREIGN_EMOJI: u64 = 70_000;

fn role(id: u64, name: &str, position: i64) -> Role {
    Role { id: Id(id), name: name.into(), position, permissions: Bits(id * 3), ..Role::default() }
}

fn channel(id: u64, kind: u8, name: &str, parent: Option<u64>, position: i64) -> Channel {
    Channel { id: Id(id), kind, name: name.into(), parent: parent.map(Id), position, ..Channel::default() }
}

/// A fake SHA-256 (64 lowercase hex digits) standing for a file's content.
fn hash(content: &str) -> String {
    let mut out = String::new();
    for (i, b) in content.bytes().cycle().take(32).enumerate() {
        out.push_str(&format!("{:02x}", b.wrapping_add(u8::try_from(i).unwrap_or(0))));
    }
    out
}

fn emoji(id: u64, name: &str, roles: &[u64]) -> Emoji {
    Emoji {
        id: Id(id),
        name: name.into(),
        animated: false,
        roles: roles.iter().map(|r| Id(*r)).collect(),
        image: hash(name),
    }
}

fn rule(id: u64, name: &str, trigger_type: u8) -> AutoModRule {
    AutoModRule {
        id: Id(id),
        name: name.into(),
        event_type: 1,
        trigger_type,
        trigger_metadata: json!({}),
        actions: json!([{"type": 1, "metadata": {}}]),
        enabled: true,
        ..AutoModRule::default()
    }
}

fn backup_of(roles: Vec<Role>, channels: Vec<Channel>) -> Backup {
    Backup {
        format: garrison_backup::FORMAT_VERSION,
        created_at: "2026-12-06T00:00:00Z".into(),
        guild: GuildSettings { id: Some(GUILD), name: "Guild".into(), ..GuildSettings::default() },
        roles,
        channels,
        auto_moderation: Vec::new(),
        onboarding: None,
        bans: Vec::new(),
        emojis: Vec::new(),
        stickers: Vec::new(),
        members: None,
        warnings: Vec::new(),
    }
}

/// A guild's whole shape without ids: every reference is written as what it points at.
#[derive(Debug, PartialEq)]
struct Shape {
    roles: Vec<String>,
    channels: BTreeMap<String, Vec<String>>,
    settings: String,
    auto_moderation: Vec<String>,
    onboarding: Option<String>,
    emojis: Vec<String>,
    stickers: Vec<String>,
}

/// Names the objects of one guild, independently of their ids.
struct Labels<'a>(&'a Backup);

impl Labels<'_> {
    /// A role: its name and rank among the roles of that name (highest first).
    fn role(&self, id: Id) -> String {
        if id == GUILD {
            return "@everyone".into();
        }
        let Some(role) = self.0.roles.iter().find(|r| r.id == id) else { return format!("dangling role {id}") };
        let mut twins: Vec<&Role> = self.0.roles.iter().filter(|r| r.name == role.name).collect();
        twins.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
        format!("{}#{}", role.name, twins.iter().position(|r| r.id == id).unwrap_or(0))
    }

    fn roles(&self, ids: &[Id]) -> Vec<String> {
        let mut out: Vec<String> = ids.iter().map(|id| self.role(*id)).collect();
        out.sort();
        out
    }

    /// A channel: its parent's label, type, name and rank among its siblings of that name and type.
    fn channel(&self, id: Id) -> String {
        let channels = &self.0.channels;
        let Some(c) = channels.iter().find(|c| c.id == id) else { return format!("dangling channel {id}") };
        let mut twins: Vec<&Channel> =
            channels.iter().filter(|x| x.name == c.name && x.kind == c.kind && x.parent == c.parent).collect();
        twins.sort_by(|a, b| a.position.cmp(&b.position).then(a.id.cmp(&b.id)));
        let parent = c.parent.map_or_else(|| "-".into(), |p| self.channel(p));
        format!("{parent}/{}:{}#{}", c.kind, c.name, twins.iter().position(|x| x.id == id).unwrap_or(0))
    }

    fn channels(&self, ids: &[Id]) -> Vec<String> {
        let mut out: Vec<String> = ids.iter().map(|id| self.channel(*id)).collect();
        out.sort();
        out
    }

    /// An emoji: what it is (twins that are alike are interchangeable), or a foreign id as it is.
    fn emoji(&self, id: Id) -> String {
        match self.0.emojis.iter().find(|e| e.id == id) {
            Some(e) => format!(":{}:{}:{}:{:?}", e.name, e.animated, e.image, self.roles(&e.roles)),
            None => format!("foreign {id}"),
        }
    }

    fn shape(&self) -> Shape {
        let b = self.0;
        let mut ordered: Vec<&Role> = b.roles.iter().filter(|r| r.id != GUILD).collect();
        ordered.sort_by(|a, x| x.position.cmp(&a.position).then(a.id.cmp(&x.id)));
        let roles = ordered
            .iter()
            .map(|r| format!("{} {} {:?} {} {} {:?}", r.name, r.color, r.permissions, r.hoist, r.mentionable, r.icon))
            .collect();
        let mut by_parent: BTreeMap<String, Vec<(i64, Id, String)>> = BTreeMap::new();
        for c in &b.channels {
            let parent = c.parent.map_or_else(|| "-".into(), |p| self.channel(p));
            let mut overwrites: Vec<String> = c
                .overwrites
                .iter()
                .map(|o| {
                    let who = match o.kind {
                        OverwriteKind::Role => self.role(o.id),
                        OverwriteKind::Member => format!("user {}", o.id),
                    };
                    format!("{who}:{}/{}", o.allow.0, o.deny.0)
                })
                .collect();
            overwrites.sort();
            let tags: Vec<String> = c
                .available_tags
                .iter()
                .map(|t| {
                    format!("{} {} {:?} {:?}", t.name, t.moderated, t.emoji_id.map(|e| self.emoji(e)), t.emoji_name)
                })
                .collect();
            let reaction = c.default_reaction_emoji.as_ref().map(|r| match r.parse::<u64>() {
                Ok(id) => self.emoji(Id(id)),
                Err(_) => r.clone(),
            });
            let line =
                format!("{} {} {:?} {} {:?} {:?} {:?}", c.kind, c.name, c.topic, c.nsfw, overwrites, tags, reaction);
            by_parent.entry(parent).or_default().push((c.position, c.id, line));
        }
        let channels = by_parent
            .into_iter()
            .map(|(parent, mut children)| {
                children.sort_by(|a, x| a.0.cmp(&x.0).then(a.1.cmp(&x.1)));
                (parent, children.into_iter().map(|(_, _, line)| line).collect())
            })
            .collect();
        let g = &b.guild;
        let named = |c: Option<Id>| c.map(|c| self.channel(c));
        let settings = format!(
            "{} {:?} {:?} {} {} {} {} {} {} {:?} {:?} {:?} {:?}",
            g.name,
            g.icon,
            g.description,
            g.verification_level,
            g.default_message_notifications,
            g.explicit_content_filter,
            g.afk_timeout,
            g.system_channel_flags,
            g.preferred_locale,
            named(g.afk_channel),
            named(g.system_channel),
            named(g.rules_channel),
            named(g.public_updates_channel),
        );
        let mut auto_moderation: Vec<String> = b
            .auto_moderation
            .iter()
            .map(|r| {
                let actions: Vec<String> = r
                    .actions
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| match a["metadata"]["channel_id"].as_str().and_then(|c| c.parse().ok()) {
                        Some(channel) => format!("{} -> {}", a["type"], self.channel(Id(channel))),
                        None => a.to_string(),
                    })
                    .collect();
                format!(
                    "{} {} {} {} {:?} {} {:?} {:?}",
                    r.name,
                    r.event_type,
                    r.trigger_type,
                    r.trigger_metadata,
                    actions,
                    r.enabled,
                    self.roles(&r.exempt_roles),
                    self.channels(&r.exempt_channels)
                )
            })
            .collect();
        auto_moderation.sort();
        let onboarding = b.onboarding.as_ref().map(|o| {
            let prompts: Vec<String> = o
                .prompts
                .iter()
                .map(|p| {
                    let options: Vec<String> = p
                        .options
                        .iter()
                        .map(|x| {
                            format!(
                                "{} {:?} {:?} {:?} {:?} {:?}",
                                x.title,
                                x.description,
                                x.emoji_id.map(|e| self.emoji(e)),
                                x.emoji_name,
                                self.channels(&x.channels),
                                self.roles(&x.roles)
                            )
                        })
                        .collect();
                    format!("{} {} {} {} {} {options:?}", p.title, p.kind, p.single_select, p.required, p.in_onboarding)
                })
                .collect();
            format!("{} {} {:?} {prompts:?}", o.enabled, o.mode, self.channels(&o.default_channels))
        });
        let mut emojis: Vec<String> = b.emojis.iter().map(|e| self.emoji(e.id)).collect();
        emojis.sort();
        let mut stickers: Vec<String> = b
            .stickers
            .iter()
            .map(|s| format!("{} {:?} {} {} {}", s.name, s.description, s.tags, s.format, s.file))
            .collect();
        stickers.sort();
        Shape { roles, channels, settings, auto_moderation, onboarding, emojis, stickers }
    }
}

/// The id at `index` among `ids`, if there are any.
fn pick(index: &Index, ids: &[Id]) -> Option<Id> {
    (!ids.is_empty()).then(|| ids[index.index(ids.len())])
}

/// The ids at `indexes` among `ids`, each once.
fn pick_all(indexes: &[Index], ids: &[Id]) -> Vec<Id> {
    let mut out: Vec<Id> = Vec::new();
    for id in indexes.iter().filter_map(|i| pick(i, ids)) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// An emoji reference: one of `emojis`, or a foreign one.
fn emoji_ref(choice: &(Index, bool), emojis: &[Id]) -> Option<Id> {
    if choice.1 { Some(Id(FOREIGN_EMOJI + choice.0.index(3) as u64)) } else { pick(&choice.0, emojis) }
}

/// A random guild with ids from `first_id` up: `@everyone` and roles with names from a small set
/// (twins happen); emojis (twins too: an emoji's image is its name's) limited to some roles; stickers;
/// categories and channels of several types under them or at the top, with overwrites naming roles
/// and members, and forum tags naming its emojis or foreign ones; settings naming channels; AutoMod
/// rules of mixed trigger types within Discord's limits, exempting roles and channels and alerting in
/// channels; onboarding naming channels, roles and emojis; bans.
fn guild(first_id: u64) -> impl Strategy<Value = Backup> {
    let names = prop::sample::select(vec!["Admin", "Mod", "Member", "Bot", "Muted", "VIP"]);
    let roles = prop::collection::vec((names, 0i64..20, any::<bool>()), 0..8);
    let emojis = prop::collection::vec(
        (prop::sample::select(vec!["pog", "kek", "wave"]), any::<bool>(), prop::collection::vec(any::<Index>(), 0..2)),
        0..5,
    );
    let stickers = prop::collection::vec(
        (
            prop::sample::select(vec!["hello", "bye"]),
            prop::option::of(prop::sample::select(vec!["hi", "see you"])),
            prop::sample::select(vec!["wave", "smile"]),
        ),
        0..3,
    );
    let channels = prop::collection::vec(
        (
            prop::sample::select(vec![0u8, 2, 5, 13, 15, CATEGORY]),
            prop::sample::select(vec!["general", "rules", "voice", "staff", "news"]),
            0i64..10,
            any::<Index>(),
            prop::collection::vec((any::<Index>(), 0u64..8, any::<bool>()), 0..3),
            prop::collection::vec((prop::sample::select(vec!["help", "bug"]), any::<(Index, bool)>()), 0..3),
            prop::option::of(any::<(Index, bool)>()),
        ),
        0..12,
    );
    let settings = (
        prop::sample::select(vec!["Guild", "Club"]),
        any::<bool>(),
        0u8..4,
        prop::sample::select(vec![60u32, 300]),
        prop::collection::vec(prop::option::of(any::<Index>()), 4),
    );
    let rules = prop::collection::vec(
        (
            prop::sample::select(vec![1u8, 1, 3, 4, 5, 6]),
            prop::sample::select(vec!["Words", "Links", "Spam"]),
            prop::sample::select(vec![json!({}), json!({"keyword_filter": ["bad"]})]),
            prop::option::of(any::<Index>()),
            prop::collection::vec(any::<Index>(), 0..2),
            prop::collection::vec(any::<Index>(), 0..2),
            any::<bool>(),
        ),
        0..8,
    );
    let onboarding = prop::option::of((
        any::<bool>(),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(
            (
                prop::sample::select(vec!["Games?", "Pronouns?"]),
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["Yes", "No"]),
                        prop::option::of(any::<(Index, bool)>()),
                        prop::collection::vec(any::<Index>(), 0..2),
                        prop::collection::vec(any::<Index>(), 0..2),
                    ),
                    0..3,
                ),
            ),
            0..3,
        ),
    ));
    let bans =
        prop::collection::vec((9_000u64..9_012, prop::sample::select(vec![None, Some("spam"), Some("raid")])), 0..6);
    let members =
        prop::option::of(prop::collection::vec((8_000u64..8_006, prop::collection::vec(any::<Index>(), 0..3)), 0..5));
    ((roles, emojis, stickers, channels), (settings, rules, onboarding, bans, members)).prop_map(
        move |((roles, emojis, stickers, channels), (settings, rules, onboarding, bans, members))| {
            let mut id = first_id;
            let mut next = || {
                id += 1;
                id - 1
            };
            let mut b = backup_of(
                vec![Role { id: GUILD, name: "@everyone".into(), permissions: Bits(1), ..Role::default() }],
                Vec::new(),
            );
            for (name, position, hoist) in roles {
                b.roles.push(Role { hoist, ..role(next(), name, position) });
            }
            let role_ids: Vec<Id> = b.roles.iter().map(|r| r.id).collect();
            for (name, animated, roles) in emojis {
                let id = next();
                let kind = if animated { "gif" } else { "png" };
                b.emojis.push(Emoji {
                    animated,
                    roles: pick_all(&roles, &role_ids[1..]),
                    image: hash(&format!("{name}.{kind}")),
                    ..emoji(id, name, &[])
                });
            }
            let emoji_ids: Vec<Id> = b.emojis.iter().map(|e| e.id).collect();
            for (name, description, tags) in stickers {
                let id = Id(next());
                // A sticker's file (and so its format) cannot change: twins by name share one.
                let format = if name == "hello" { 1 } else { 4 };
                let (name, description, tags, file) =
                    (name.into(), description.map(Into::into), tags.into(), hash(name));
                b.stickers.push(Sticker { id, name, description, tags, format, file });
            }
            for (kind, name, position, parent, overwrites, tags, reaction) in channels {
                let categories: Vec<Id> = b.channels.iter().filter(|c| c.kind == CATEGORY).map(|c| c.id).collect();
                let parent = (kind != CATEGORY && parent.index(2) == 0).then(|| pick(&parent, &categories)).flatten();
                let overwrites = overwrites
                    .into_iter()
                    .map(|(target, allow, member)| Overwrite {
                        id: if member { Id(9_000 + allow) } else { role_ids[target.index(role_ids.len())] },
                        kind: if member { OverwriteKind::Member } else { OverwriteKind::Role },
                        allow: Bits(allow),
                        deny: Bits(0),
                    })
                    .fold(Vec::<Overwrite>::new(), |mut all, o| {
                        if !all.iter().any(|x| x.id == o.id) {
                            all.push(o);
                        }
                        all
                    });
                let forum = kind == 15;
                let available_tags = tags
                    .iter()
                    .filter(|_| forum)
                    .map(|(name, choice)| {
                        let emoji_id = emoji_ref(choice, &emoji_ids);
                        ForumTag {
                            name: (*name).into(),
                            emoji_id,
                            emoji_name: emoji_id.map(|_| "e".into()),
                            ..ForumTag::default()
                        }
                    })
                    .collect();
                let default_reaction_emoji = reaction.filter(|_| forum).and_then(|choice| {
                    if choice.0.index(3) == 0 {
                        Some("👍".into())
                    } else {
                        emoji_ref(&choice, &emoji_ids).map(|e| e.to_string())
                    }
                });
                let id = next();
                b.channels.push(Channel {
                    overwrites,
                    parent,
                    available_tags,
                    default_reaction_emoji,
                    ..channel(id, kind, name, None, position)
                });
            }
            let channel_ids: Vec<Id> = b.channels.iter().map(|c| c.id).collect();
            let texts: Vec<Id> = b.channels.iter().filter(|c| c.kind == 0).map(|c| c.id).collect();
            let voices: Vec<Id> = b.channels.iter().filter(|c| c.kind == 2).map(|c| c.id).collect();
            let (name, icon, verification_level, afk_timeout, slots) = settings;
            let slot = |i: usize, among: &[Id]| slots[i].as_ref().and_then(|s| pick(s, among));
            b.guild = GuildSettings {
                id: Some(GUILD),
                name: name.into(),
                icon: icon.then(|| hash(name)),
                verification_level,
                afk_timeout,
                afk_channel: slot(0, &voices),
                system_channel: slot(1, &texts),
                rules_channel: slot(2, &texts),
                public_updates_channel: slot(3, &texts),
                preferred_locale: "en-US".into(),
                ..GuildSettings::default()
            };
            for (trigger_type, name, trigger_metadata, alert, exempt_roles, exempt_channels, enabled) in rules {
                let same = b.auto_moderation.iter().filter(|r| r.trigger_type == trigger_type).count();
                if same >= auto_mod_limit(trigger_type) {
                    continue;
                }
                let mut actions = vec![json!({"type": 1, "metadata": {}})];
                if let Some(channel) = alert.and_then(|a| pick(&a, &texts)) {
                    actions.push(json!({"type": 2, "metadata": {"channel_id": channel.to_string()}}));
                }
                b.auto_moderation.push(AutoModRule {
                    trigger_metadata,
                    actions: Value::Array(actions),
                    enabled,
                    exempt_roles: pick_all(&exempt_roles, &role_ids),
                    exempt_channels: pick_all(&exempt_channels, &channel_ids),
                    ..rule(next(), name, trigger_type)
                });
            }
            b.onboarding = onboarding.map(|(enabled, defaults, prompts)| Onboarding {
                enabled,
                mode: 0,
                default_channels: pick_all(&defaults, &channel_ids),
                prompts: prompts
                    .into_iter()
                    .map(|(title, options)| OnboardingPrompt {
                        title: title.into(),
                        options: options
                            .into_iter()
                            .map(|(title, emoji, channels, roles)| {
                                let emoji_id = emoji.and_then(|e| emoji_ref(&e, &emoji_ids));
                                OnboardingOption {
                                    title: title.into(),
                                    emoji_id,
                                    emoji_name: emoji_id.map(|_| "e".into()),
                                    channels: pick_all(&channels, &channel_ids),
                                    roles: pick_all(&roles, &role_ids[1..]),
                                    ..OnboardingOption::default()
                                }
                            })
                            .collect(),
                        ..OnboardingPrompt::default()
                    })
                    .collect(),
            });
            for (user, reason) in bans {
                if !b.bans.iter().any(|x| x.user == Id(user)) {
                    b.bans.push(Ban { user: Id(user), reason: reason.map(Into::into) });
                }
            }
            b.members = members.map(|members| {
                let mut kept: Vec<MemberRoles> = Vec::new();
                for (user, roles) in members {
                    if !kept.iter().any(|m| m.user == Id(user)) {
                        kept.push(MemberRoles { user: Id(user), roles: pick_all(&roles, &role_ids[1..]) });
                    }
                }
                kept
            });
            b
        },
    )
}

/// Members of the backup whom the guild had are left with the backup's roles (by label); others are
/// left alone.
fn members_hold_their_backup_roles(backup: &Backup, before: &Backup, restored: &Backup) -> Result<(), String> {
    let (Some(wanted), Some(now)) = (&backup.members, &restored.members) else { return Ok(()) };
    let had: BTreeSet<Id> = before.members.iter().flatten().map(|m| m.user).collect();
    for member in wanted.iter().filter(|m| had.contains(&m.user)) {
        let found = now.iter().find(|m| m.user == member.user).ok_or(format!("member {} went", member.user))?;
        let (want, got) = (Labels(backup).roles(&member.roles), Labels(restored).roles(&found.roles));
        if want != got {
            return Err(format!("member {} holds {got:?}, not {want:?}", member.user));
        }
    }
    let users = |b: &Backup| b.members.iter().flatten().map(|m| m.user).collect::<BTreeSet<Id>>();
    if users(before) != users(restored) {
        return Err("a restore does not add or remove members".into());
    }
    Ok(())
}

/// How many AutoMod rules of each trigger type the guild has, if over Discord's limit.
fn over_auto_mod_limits(guild: &Backup) -> Option<(u8, usize)> {
    let mut by_type: BTreeMap<u8, usize> = BTreeMap::new();
    for rule in &guild.auto_moderation {
        *by_type.entry(rule.trigger_type).or_default() += 1;
    }
    by_type.into_iter().find(|(t, n)| *n > auto_mod_limit(*t))
}

/// The ids of the guild's objects of every kind but bans.
fn object_ids(guild: &Backup) -> BTreeSet<Id> {
    guild
        .roles
        .iter()
        .map(|r| r.id)
        .chain(guild.channels.iter().map(|c| c.id))
        .chain(guild.emojis.iter().map(|e| e.id))
        .chain(guild.stickers.iter().map(|s| s.id))
        .chain(guild.auto_moderation.iter().map(|r| r.id))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Into any guild, in either mode: the result has the backup's whole structure and every ban of
    /// both, planning again from it gives nothing to do, and Discord's AutoMod limits hold throughout.
    #[test]
    fn a_restore_gives_the_backups_structure_and_is_then_done(
        backup in guild(100),
        mut current in guild(500),
        keep in prop::collection::vec(any::<bool>(), 48),
        wipe in any::<bool>(),
    ) {
        // The current guild also has some of the backup's own objects (same ids).
        let kept = |offset: usize, i: usize| keep[(offset + i) % keep.len()];
        current.roles.extend(backup.roles.iter().skip(1).enumerate().filter(|(i, _)| kept(0, *i)).map(|(_, r)| r.clone()));
        current.channels.extend(
            backup.channels.iter().enumerate().filter(|(i, _)| kept(8, *i)).map(|(_, c)| Channel { parent: None, ..c.clone() }),
        );
        current.emojis.extend(backup.emojis.iter().enumerate().filter(|(i, _)| kept(20, *i)).map(|(_, e)| e.clone()));
        current.stickers.extend(backup.stickers.iter().enumerate().filter(|(i, _)| kept(25, *i)).map(|(_, s)| s.clone()));
        for (i, rule) in backup.auto_moderation.iter().enumerate() {
            let same = current.auto_moderation.iter().filter(|r| r.trigger_type == rule.trigger_type).count();
            if kept(28, i) && same < auto_mod_limit(rule.trigger_type) {
                current.auto_moderation.push(rule.clone());
            }
        }
        for (i, ban) in backup.bans.iter().enumerate() {
            if kept(36, i) && !current.bans.iter().any(|b| b.user == ban.user) {
                current.bans.push(Ban { reason: None, ..ban.clone() });
            }
        }
        let mode = if wipe { Mode::Wipe } else { Mode::Reconcile };
        let first = plan(&backup, &current, mode);
        let restored = apply(&current, &first, 10_000);
        // A backup without onboarding leaves the guild's alone.
        let mut shape = Labels(&restored).shape();
        if backup.onboarding.is_none() {
            shape.onboarding = None;
        }
        prop_assert_eq!(shape, Labels(&backup).shape());
        prop_assert_eq!(members_hold_their_backup_roles(&backup, &current, &restored), Ok(()));

        // Bans: the backup's are added, the guild's own kept; batches of one reason, 200 at most.
        let banned: HashSet<Id> = restored.bans.iter().map(|b| b.user).collect();
        prop_assert!(backup.bans.iter().chain(&current.bans).all(|b| banned.contains(&b.user)));
        for op in &first.ops {
            if let Op::Ban { bans } = op {
                prop_assert!(!bans.is_empty() && bans.len() <= 200 && bans.iter().all(|b| b.reason == bans[0].reason));
            }
        }

        // Discord's AutoMod limits, at every step.
        for step in 0..=first.ops.len() {
            let partial = Plan { ops: first.ops[..step].to_vec(), ..first.clone() };
            let over = over_auto_mod_limits(&apply(&current, &partial, 10_000));
            prop_assert!(over.is_none(), "after {:?}: {:?} rules", first.ops.get(step.wrapping_sub(1)), over);
        }

        let before = object_ids(&current);
        let after = object_ids(&restored);
        if wipe {
            // Nothing survives but `@everyone`, and the rules and public updates channels that stood
            // for the backup's (Discord keeps them until the settings name others).
            let required = [current.guild.rules_channel, current.guild.public_updates_channel];
            let stood_in = |id: &Id| required.contains(&Some(*id)) && first.matched.iter().any(|(_, t)| t == id);
            prop_assert!(after.iter().all(|id| *id == GUILD || !before.contains(id) || stood_in(id)));
        } else {
            // What the guild shares with the backup (same ids) is kept, and matched to itself.
            let shared: Vec<Id> = object_ids(&backup).intersection(&before).copied().collect();
            for id in shared {
                prop_assert!(after.contains(&id) && first.matched.contains(&(id, id)), "{} was replaced", id);
            }
        }

        let second = plan(&backup, &restored, Mode::Reconcile);
        prop_assert!(second.is_empty(), "first {:?}\nsecond plan: {:?}", first.ops, second.ops);
    }
}

/// The target id of what an operation deletes.
fn deletes(op: &Op) -> Option<Id> {
    match op {
        Op::DeleteRole { target, .. }
        | Op::DeleteChannel { target, .. }
        | Op::DeleteAutoMod { target, .. }
        | Op::DeleteEmoji { target, .. }
        | Op::DeleteSticker { target, .. } => Some(*target),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A restore killed after any number of operations and planned again from the guild as it was
    /// left, with what it had created: the rest creates none of it again and deletes none of it, and
    /// the guild ends with the backup's structure.
    #[test]
    fn a_restore_cut_short_resumes_without_making_anything_twice(
        backup in guild(100),
        current in guild(500),
        cut in any::<Index>(),
        wipe in any::<bool>(),
    ) {
        let mode = if wipe { Mode::Wipe } else { Mode::Reconcile };
        let first = plan(&backup, &current, mode);
        let cut = cut.index(first.ops.len() + 1);
        let (partial, placed) = apply_first(&current, &first, cut, 10_000);
        let placed: HashMap<Id, Id> = placed.into_iter().collect();
        let rest = plan_resumed(&backup, &partial, mode, &placed);
        let made: HashSet<Id> = placed.values().copied().collect();
        for op in &rest.ops {
            prop_assert!(op.creates().is_none_or(|id| !placed.contains_key(&id)), "made twice: {:?}", op);
            prop_assert!(deletes(op).is_none_or(|id| !made.contains(&id)), "made, then deleted: {:?}", op);
        }
        let restored = apply(&partial, &rest, 20_000);
        let mut shape = Labels(&restored).shape();
        if backup.onboarding.is_none() {
            shape.onboarding = None;
        }
        prop_assert_eq!(shape, Labels(&backup).shape());
        prop_assert_eq!(members_hold_their_backup_roles(&backup, &current, &restored), Ok(()));
        let again = plan(&backup, &restored, Mode::Reconcile);
        prop_assert!(again.is_empty(), "after the cut at {}: {:?}", cut, again.ops);
    }
}

#[test]
fn reconcile_keeps_what_survived_and_changes_only_what_differs() {
    let backup = backup_of(
        vec![role(1, "@everyone", 0), role(10, "Admin", 3), role(11, "Member", 1)],
        vec![
            channel(20, CATEGORY, "Text", None, 0),
            channel(21, 0, "general", Some(20), 0),
            channel(22, 0, "rules", Some(20), 1),
        ],
    );
    // Someone renamed a role, deleted #rules and added #spam.
    let mut renamed = role(11, "Members", 1);
    renamed.permissions = Bits(33);
    let current = backup_of(
        vec![role(1, "@everyone", 0), role(10, "Admin", 3), renamed],
        vec![
            channel(20, CATEGORY, "Text", None, 0),
            channel(21, 0, "general", Some(20), 0),
            channel(23, 0, "spam", Some(20), 1),
        ],
    );
    let plan = plan(&backup, &current, Mode::Reconcile);
    let lines: Vec<String> = plan.ops.iter().map(Op::describe).collect();
    assert_eq!(lines, ["Update role Member", "Create channel #rules", "Delete channel #spam", "Order 3 channels"]);
    assert!(matches!(plan.ops[0], Op::UpdateRole { target: Id(11), .. }));
    let counts = plan.counts();
    assert_eq!((counts.roles.updated, counts.channels.created, counts.channels.deleted), (1, 1, 1));
    assert!(plan.matched.contains(&(Id(21), Id(21))), "#general survives with its messages");
    assert_eq!(
        serde_json::to_value(counts).expect("json")["autoModeration"],
        json!({"created": 0, "updated": 0, "deleted": 0})
    );
}

#[test]
fn wipe_deletes_first_and_never_touches_everyone_or_managed_roles() {
    let mut bot = role(12, "Garrison", 5);
    bot.managed = true;
    let backup = backup_of(
        vec![role(1, "@everyone", 0), role(10, "Admin", 3), bot.clone()],
        vec![channel(21, 0, "general", None, 0)],
    );
    let current =
        backup_of(vec![role(1, "@everyone", 0), role(10, "Admin", 3), bot], vec![channel(21, 0, "general", None, 0)]);
    let plan = plan(&backup, &current, Mode::Wipe);
    assert!(matches!(plan.ops[0], Op::DeleteChannel { target: Id(21), .. }));
    assert!(matches!(plan.ops[1], Op::DeleteRole { target: Id(10), .. }));
    assert!(!plan.ops.iter().any(|op| matches!(op, Op::DeleteRole { target: Id(1 | 12), .. })));
    assert!(plan.matched.contains(&(Id(12), Id(12))), "the bot's role is kept, and referenced");

    // A managed role missing from the target is said to be skipped, not created.
    let mut other = backup_of(Vec::new(), Vec::new());
    let mut booster = role(13, "Server Booster", 2);
    booster.managed = true;
    other.roles = vec![booster];
    let skipped = garrison_backup::plan(&other, &backup_of(Vec::new(), Vec::new()), Mode::Reconcile);
    assert_eq!(skipped.skipped.len(), 1);
    assert!(skipped.ops.is_empty());
}

#[test]
fn a_role_the_restore_may_not_change_stands_for_the_backups_of_that_name() {
    // Into another guild where the restoring bot holds a role named like one of the backup's (as the
    // core service marks the bot's roles managed): found by the backup benchmark, a wipe made a second
    // "Administrator" and went past Discord's 250 roles.
    let backup =
        backup_of(vec![role(1, "@everyone", 0), role(10, "Member", 1), role(11, "Administrator", 2)], Vec::new());
    let mut held = role(511, "Administrator", 7);
    held.managed = true;
    let current = Backup {
        guild: GuildSettings { id: Some(Id(500)), ..backup.guild.clone() },
        ..backup_of(vec![role(500, "@everyone", 0), role(510, "Old", 1), held], Vec::new())
    };
    for mode in [Mode::Wipe, Mode::Reconcile] {
        let plan = plan(&backup, &current, mode);
        let created: Vec<&str> = plan
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::CreateRole { role } => Some(role.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(created, ["Member"], "{mode:?}");
        assert!(plan.matched.contains(&(Id(11), Id(511))), "{mode:?}: the held role stands for the backup's");
        assert!(
            !plan.ops.iter().any(|op| matches!(
                op,
                Op::UpdateRole { target: Id(511), .. } | Op::DeleteRole { target: Id(511), .. }
            ))
        );
        assert!(plan.skipped.iter().any(|line| line.starts_with("Role Administrator: ")), "{:?}", plan.skipped);
        assert!(plan.ops.iter().any(|op| matches!(op, Op::DeleteRole { target: Id(510), .. })), "{mode:?}");
    }
}

#[test]
fn wipe_deletes_every_kind_first_and_the_rules_channel_once_the_settings_left_it() {
    let mut backup = backup_of(vec![role(1, "@everyone", 0)], vec![channel(21, 0, "rules", None, 0)]);
    backup.emojis = vec![emoji(30, "pog", &[])];
    let mut current =
        backup_of(vec![role(1, "@everyone", 0), role(10, "Old", 1)], vec![channel(40, 0, "rules", None, 0)]);
    current.guild.rules_channel = Some(Id(40));
    current.auto_moderation = vec![rule(50, "Spam", 3)];
    current.emojis = vec![emoji(60, "pog", &[])];
    current.stickers = vec![Sticker {
        id: Id(70),
        name: "hi".into(),
        description: None,
        tags: "wave".into(),
        format: 1,
        file: hash("hi"),
    }];
    current.bans = vec![Ban { user: Id(9_000), reason: None }];
    // The backup names no rules channel: the guild's is deleted once the settings name none.
    let plan = plan(&backup, &current, Mode::Wipe);
    let lines: Vec<String> = plan.ops.iter().map(Op::describe).collect();
    assert_eq!(
        lines,
        [
            "Delete AutoMod rule Spam",
            "Delete emoji :pog:",
            "Delete sticker hi",
            "Delete role Old",
            "Create emoji :pog:",
            "Create channel #rules",
            "Update server settings",
            "Delete channel #rules",
            "Order 1 channel",
        ]
    );
    assert!(matches!(plan.ops[7], Op::DeleteChannel { target: Id(40), .. }));
    let restored = apply(&current, &plan, 1_000);
    assert_eq!(restored.bans, current.bans, "a restore never lifts a ban");
    assert_eq!(restored.guild.rules_channel, None);

    // The backup has a rules channel too: the guild's, which cannot be deleted before the settings
    // name another, stands for it (updated to it) instead of staying beside a new one. Found by the
    // backup benchmark: a wipe of a 500-channel backup into a Community guild went past Discord's cap.
    backup.guild.rules_channel = Some(Id(21));
    backup.channels[0].topic = Some("Be kind".into());
    let plan = garrison_backup::plan(&backup, &current, Mode::Wipe);
    let lines: Vec<String> = plan.ops.iter().map(Op::describe).collect();
    assert!(lines.contains(&"Update channel #rules".to_owned()), "{lines:?}");
    assert!(!lines.iter().any(|l| l == "Create channel #rules" || l == "Delete channel #rules"), "{lines:?}");
    assert!(plan.matched.contains(&(Id(21), Id(40))));
    let restored = apply(&current, &plan, 1_000);
    assert_eq!(restored.guild.rules_channel, Some(Id(40)));
    assert_eq!(restored.channels.len(), 1);
    assert_eq!(restored.channels[0].topic.as_deref(), Some("Be kind"));
}

#[test]
fn an_alert_action_follows_its_channel_and_is_dropped_without_it() {
    let mut remap = Remap::default();
    remap.insert(Id(20), Id(70));
    remap.insert(Id(10), Id(80));
    let backup_rule = AutoModRule {
        actions: json!([
            {"type": 1, "metadata": {"custom_message": "No"}},
            {"type": 2, "metadata": {"channel_id": "20"}},
            {"type": 2, "metadata": {"channel_id": "21"}},
            {"type": 3, "metadata": {"duration_seconds": 60}},
        ]),
        exempt_roles: vec![Id(10), Id(11)],
        exempt_channels: vec![Id(21), Id(20)],
        ..rule(5, "Words", 1)
    };
    let mapped = remap.auto_mod(&backup_rule);
    assert_eq!(
        mapped.actions,
        json!([
            {"type": 1, "metadata": {"custom_message": "No"}},
            {"type": 2, "metadata": {"channel_id": "70"}},
            {"type": 3, "metadata": {"duration_seconds": 60}},
        ])
    );
    assert_eq!((mapped.exempt_roles, mapped.exempt_channels), (vec![Id(80)], vec![Id(70)]));

    // In a plan: the alert channel is created first, then the rule that alerts in it.
    let mut backup = backup_of(vec![role(1, "@everyone", 0)], vec![channel(20, 0, "mod-log", None, 0)]);
    backup.auto_moderation =
        vec![AutoModRule { actions: json!([{"type": 2, "metadata": {"channel_id": "20"}}]), ..rule(5, "Words", 1) }];
    let current = backup_of(vec![role(1, "@everyone", 0)], Vec::new());
    let plan = plan(&backup, &current, Mode::Reconcile);
    let restored = apply(&current, &plan, 1_000);
    assert_eq!(restored.auto_moderation[0].actions, json!([{"type": 2, "metadata": {"channel_id": "1000"}}]));
}

#[test]
fn a_rule_of_a_type_discord_allows_once_is_updated_rather_than_created_beside_another() {
    let mut backup = backup_of(vec![role(1, "@everyone", 0)], Vec::new());
    backup.auto_moderation = vec![rule(5, "Anti spam", 3), rule(6, "Words", 1), rule(7, "Links", 1)];
    let mut current = backup_of(vec![role(1, "@everyone", 0)], Vec::new());
    current.auto_moderation = vec![rule(40, "Old spam", 3), rule(41, "Mentions", 5)];
    // Five keyword rules the backup lacks: with two more the guild would have seven.
    current.auto_moderation.extend((0..5).map(|i| rule(50 + i, &format!("Old {i}"), 1)));
    let plan = plan(&backup, &current, Mode::Reconcile);
    let lines: Vec<String> = plan.ops.iter().map(Op::describe).collect();
    assert_eq!(
        lines,
        [
            "Update AutoMod rule Anti spam",
            "Update AutoMod rule Words",
            "Create AutoMod rule Links",
            "Delete AutoMod rule Mentions",
            "Delete AutoMod rule Old 1",
            "Delete AutoMod rule Old 2",
            "Delete AutoMod rule Old 3",
            "Delete AutoMod rule Old 4",
        ]
    );
    assert!(matches!(plan.ops[0], Op::UpdateAutoMod { target: Id(40), .. }));
    assert!(matches!(plan.ops[1], Op::UpdateAutoMod { target: Id(50), .. }));
    for step in 0..=plan.ops.len() {
        let partial = Plan { ops: plan.ops[..step].to_vec(), ..plan.clone() };
        assert_eq!(over_auto_mod_limits(&apply(&current, &partial, 1_000)), None);
    }
    let restored = apply(&current, &plan, 1_000);
    assert!(garrison_backup::plan(&backup, &restored, Mode::Reconcile).is_empty());
}

#[test]
fn emojis_keep_their_image_and_are_followed_by_the_references_to_them() {
    let mut backup = backup_of(vec![role(1, "@everyone", 0), role(10, "VIP", 1)], Vec::new());
    backup.emojis = vec![emoji(30, "pog", &[10]), emoji(31, "kek", &[])];
    let mut forum = channel(20, 15, "help", None, 0);
    forum.available_tags = vec![
        ForumTag { name: "ours".into(), emoji_id: Some(Id(31)), emoji_name: Some("kek".into()), ..ForumTag::default() },
        ForumTag { name: "foreign".into(), emoji_id: Some(Id(FOREIGN_EMOJI)), ..ForumTag::default() },
    ];
    forum.default_reaction_emoji = Some("31".into());
    backup.channels = vec![forum];
    backup.onboarding = Some(Onboarding {
        prompts: vec![OnboardingPrompt {
            options: vec![OnboardingOption {
                emoji_id: Some(Id(30)),
                roles: vec![Id(10)],
                ..OnboardingOption::default()
            }],
            ..OnboardingPrompt::default()
        }],
        ..Onboarding::default()
    });
    // The guild has a :pog: of another image: it is kept (Discord cannot change an image), given the
    // backup's roles once VIP exists.
    let mut current = backup_of(vec![role(1, "@everyone", 0)], Vec::new());
    current.emojis = vec![Emoji { image: hash("other"), ..emoji(60, "pog", &[]) }];
    let plan = plan(&backup, &current, Mode::Reconcile);
    let lines: Vec<String> = plan.ops.iter().map(Op::describe).collect();
    assert_eq!(
        lines,
        [
            "Create role VIP",
            "Update emoji :pog:",
            "Create emoji :kek:",
            "Create channel #help",
            "Set onboarding (1 prompt)",
            "Order 1 role",
            "Order 1 channel",
        ]
    );
    let restored = apply(&current, &plan, 1_000);
    let (vip, kek, help) = (Id(1_000), Id(1_001), Id(1_002));
    assert_eq!(restored.emojis[0], Emoji { roles: vec![vip], image: hash("other"), ..emoji(60, "pog", &[]) });
    let tags = &restored.channels[0].available_tags;
    assert_eq!((tags[0].emoji_id, tags[1].emoji_id), (Some(kek), Some(Id(FOREIGN_EMOJI))));
    assert_eq!(restored.channels[0].id, help);
    assert_eq!(restored.channels[0].default_reaction_emoji.as_deref(), Some("1001"));
    let option = &restored.onboarding.as_ref().expect("onboarding").prompts[0].options[0];
    assert_eq!((option.emoji_id, &option.roles), (Some(Id(60)), &vec![vip]));
    assert!(garrison_backup::plan(&backup, &restored, Mode::Reconcile).is_empty());
}

#[test]
fn bans_are_added_in_batches_of_one_reason_and_never_lifted() {
    let mut backup = backup_of(Vec::new(), Vec::new());
    backup.bans = (0..450).map(|i| Ban { user: Id(1_000 + i), reason: (i % 3 == 0).then(|| "raid".into()) }).collect();
    let mut current = backup_of(Vec::new(), Vec::new());
    current.bans = vec![Ban { user: Id(1_000), reason: None }, Ban { user: Id(5), reason: None }];
    for mode in [Mode::Reconcile, Mode::Wipe] {
        let plan = plan(&backup, &current, mode);
        let sizes: Vec<(usize, Option<&str>)> = plan
            .ops
            .iter()
            .map(|op| match op {
                Op::Ban { bans } => (bans.len(), bans[0].reason.as_deref()),
                other => panic!("only bans: {other:?}"),
            })
            .collect();
        assert_eq!(sizes, [(200, None), (100, None), (149, Some("raid"))]);
        assert_eq!(plan.counts().bans.created, 449);
        assert_eq!(plan.ops[2].describe(), "Ban 149 users");
        let restored = apply(&current, &plan, 1);
        assert_eq!(restored.bans.len(), 451, "the guild's own ban of user 5 stays");
    }
}

#[test]
fn images_are_named_by_their_hash() {
    let mut backup = backup_of(vec![role(1, "@everyone", 0)], Vec::new());
    backup.guild.icon = Some(hash("icon"));
    backup.emojis = vec![emoji(30, "pog", &[]), emoji(31, "pog", &[])];
    assert!(garrison_backup::is_image_hash(&hash("icon")));
    assert!(!garrison_backup::is_image_hash("../../etc/passwd"));
    assert!(!garrison_backup::is_image_hash(&hash("icon").to_uppercase()));
    assert_eq!(backup.images(), BTreeSet::from([hash("icon").as_str(), hash("pog").as_str()]));
}

#[test]
fn the_format_round_trips_and_reads_ids_as_strings_or_numbers() {
    let mut general = channel(21, 0, "general", Some(20), 0);
    general.overwrites.push(Overwrite { id: Id(10), kind: OverwriteKind::Role, allow: Bits(1024), deny: Bits(2048) });
    let backup = backup_of(
        vec![role(1, "@everyone", 0), role(10, "Admin", 3)],
        vec![channel(20, CATEGORY, "Text", None, 0), general],
    );
    let json = serde_json::to_value(&backup).expect("json");
    assert_eq!(
        json["channels"][1]["overwrites"][0],
        serde_json::json!({"id": "10", "kind": "role", "allow": "1024", "deny": "2048"})
    );
    assert_eq!(json["roles"][1]["permissions"], "30");
    let back: Backup = serde_json::from_value(json).expect("read back");
    assert_eq!(back, backup);
    // Lenient: unknown fields ignored, ids as numbers accepted, missing lists empty.
    let minimal: Backup = serde_json::from_str(
        r#"{"format":1,"createdAt":"2026-12-06T00:00:00Z","guild":{"id":1,"name":"G","future":true},"roles":[{"id":5,"name":"A"}]}"#,
    )
    .expect("minimal");
    assert_eq!((minimal.roles[0].id, minimal.channels.len()), (Id(5), 0));
}

#[test]
fn a_guild_at_discords_caps_makes_room_before_it_creates() {
    use garrison_backup::plan::{MAX_CHANNELS, MAX_ROLES};
    // Both guilds hold Discord's most channels and roles; the target lost two of the backup's of
    // each and gained two of its own.
    let roles = |extra: &[u64]| {
        let mut roles = vec![role(1, "@everyone", 0)];
        roles.extend((2..MAX_ROLES as u64 - 1).map(|i| role(i, &format!("r{i}"), i as i64)));
        roles.extend(extra.iter().map(|&i| role(i, &format!("r{i}"), i as i64)));
        roles
    };
    let channels = |extra: &[u64]| {
        let mut channels: Vec<Channel> =
            (1000..1000 + MAX_CHANNELS as u64 - 2).map(|i| channel(i, 0, &format!("c{i}"), None, i as i64)).collect();
        channels.extend(extra.iter().map(|&i| channel(i, 0, &format!("c{i}"), None, i as i64)));
        channels
    };
    let backup = backup_of(roles(&[500, 501]), channels(&[5000, 5001]));
    let current = backup_of(roles(&[600, 601]), channels(&[6000, 6001]));
    assert_eq!((backup.roles.len(), current.channels.len()), (MAX_ROLES, MAX_CHANNELS));
    let plan = plan(&backup, &current, Mode::Reconcile);
    // Walking the plan, the guild never holds more than Discord allows.
    let (mut roles_now, mut channels_now) = (current.roles.len(), current.channels.len());
    for op in &plan.ops {
        match op {
            Op::CreateRole { .. } => roles_now += 1,
            Op::DeleteRole { .. } => roles_now -= 1,
            Op::CreateChannel { .. } => channels_now += 1,
            Op::DeleteChannel { .. } => channels_now -= 1,
            _ => {}
        }
        assert!(roles_now <= MAX_ROLES && channels_now <= MAX_CHANNELS, "over a cap at {}", op.describe());
    }
    assert_eq!((roles_now, channels_now), (MAX_ROLES, MAX_CHANNELS));
    let counts = plan.counts();
    assert_eq!((counts.roles.created, counts.roles.deleted), (2, 2));
    assert_eq!((counts.channels.created, counts.channels.deleted), (2, 2));
}
