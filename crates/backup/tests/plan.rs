//! The restore planner, on generated guilds: applying a plan gives the guild the backup's structure
//! (roles in order with their looks and rights, channels under the same parents in the same order
//! with the same settings and overwrites), and a second plan from there is empty; reconcile keeps
//! what survived, wipe recreates everything, and the format round-trips through JSON.

use std::collections::BTreeMap;

use garrison_backup::format::{Backup, Bits, CATEGORY, Channel, GuildSettings, Id, Overwrite, OverwriteKind, Role};
use garrison_backup::plan::{Current, Mode, Op, apply, plan};
use proptest::prelude::*;

const GUILD: Id = Id(1);

fn role(id: u64, name: &str, position: i64) -> Role {
    Role { id: Id(id), name: name.into(), position, permissions: Bits(id * 3), ..Role::default() }
}

fn channel(id: u64, kind: u8, name: &str, parent: Option<u64>, position: i64) -> Channel {
    Channel { id: Id(id), kind, name: name.into(), parent: parent.map(Id), position, ..Channel::default() }
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

/// A guild's shape without ids: roles highest first; channels by parent, in order, with settings and
/// overwrites named by role name.
fn structure(guild: Id, roles: &[Role], channels: &[Channel]) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let name_of = |id: Id| roles.iter().find(|r| r.id == id).map_or_else(|| format!("user {id}"), |r| r.name.clone());
    let mut ordered: Vec<&Role> = roles.iter().filter(|r| r.id != guild).collect();
    ordered.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
    let roles_out = ordered
        .iter()
        .map(|r| format!("{} {} {:?} {} {}", r.name, r.color, r.permissions, r.hoist, r.mentionable))
        .collect();
    let mut by_parent: BTreeMap<String, Vec<(i64, Id, String)>> = BTreeMap::new();
    // A parent is named by its name and its rank among twins (categories with the same name).
    let label = |p: &Channel| {
        let mut twins: Vec<&Channel> = channels.iter().filter(|x| x.name == p.name && x.kind == p.kind).collect();
        twins.sort_by(|a, b| a.position.cmp(&b.position).then(a.id.cmp(&b.id)));
        format!("{}#{}", p.name, twins.iter().position(|x| x.id == p.id).unwrap_or(0))
    };
    for c in channels {
        let parent = c.parent.and_then(|p| channels.iter().find(|x| x.id == p)).map_or("-".into(), label);
        let mut overwrites: Vec<String> =
            c.overwrites.iter().map(|o| format!("{}:{}/{}", name_of(o.id), o.allow.0, o.deny.0)).collect();
        overwrites.sort();
        let line = format!("{} {} {:?} {} {:?}", c.kind, c.name, c.topic, c.nsfw, overwrites);
        by_parent.entry(parent).or_default().push((c.position, c.id, line));
    }
    let channels_out = by_parent
        .into_iter()
        .map(|(parent, mut children)| {
            children.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            (parent, children.into_iter().map(|(_, _, line)| line).collect())
        })
        .collect();
    (roles_out, channels_out)
}

fn backup_structure(b: &Backup) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    structure(GUILD, &b.roles, &b.channels)
}

/// A random guild: `@everyone`, roles with names from a small set (twins happen), categories and
/// channels of several types under them or at the top, overwrites naming roles and members.
fn guild(first_id: u64) -> impl Strategy<Value = (Vec<Role>, Vec<Channel>)> {
    let names = prop::sample::select(vec!["Admin", "Mod", "Member", "Bot", "Muted", "VIP"]);
    let roles = prop::collection::vec((names.clone(), 0i64..20, any::<bool>()), 0..8);
    let channels = prop::collection::vec(
        (
            prop::sample::select(vec![0u8, 2, 5, 13, 15, CATEGORY]),
            prop::sample::select(vec!["general", "rules", "voice", "staff", "news"]),
            0i64..10,
            any::<prop::sample::Index>(),
            prop::collection::vec((any::<prop::sample::Index>(), 0u64..8, any::<bool>()), 0..3),
        ),
        0..12,
    );
    (roles, channels).prop_map(move |(roles, channels)| {
        let mut out_roles = vec![Role { id: GUILD, name: "@everyone".into(), permissions: Bits(1), ..Role::default() }];
        let mut id = first_id;
        for (name, position, hoist) in roles {
            out_roles.push(Role { hoist, ..role(id, name, position) });
            id += 1;
        }
        let mut out_channels: Vec<Channel> = Vec::new();
        for (kind, name, position, parent, overwrites) in channels {
            let categories: Vec<Id> = out_channels.iter().filter(|c| c.kind == CATEGORY).map(|c| c.id).collect();
            let parent = (kind != CATEGORY && !categories.is_empty() && parent.index(2) == 0)
                .then(|| categories[parent.index(categories.len())]);
            let overwrites = overwrites
                .into_iter()
                .map(|(target, allow, member)| Overwrite {
                    id: if member { Id(9_000 + allow) } else { out_roles[target.index(out_roles.len())].id },
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
            out_channels.push(Channel { overwrites, parent, ..channel(id, kind, name, None, position) });
            id += 1;
        }
        (out_roles, out_channels)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Into any guild, in either mode: the result has the backup's structure, and planning again
    /// from it gives nothing to do.
    #[test]
    fn a_restore_gives_the_backups_structure_and_is_then_done(
        (backup_roles, backup_channels) in guild(100),
        (current_roles, current_channels) in guild(500),
        keep in prop::collection::vec(any::<bool>(), 20),
        wipe in any::<bool>(),
    ) {
        let backup = backup_of(backup_roles.clone(), backup_channels.clone());
        // The current guild: some of the backup's own objects (same ids) and some others.
        let mut roles: Vec<Role> = current_roles;
        roles.extend(backup_roles.iter().skip(1).zip(&keep).filter(|(_, k)| **k).map(|(r, _)| r.clone()));
        let mut channels = current_channels;
        channels.extend(
            backup_channels.iter().zip(keep.iter().rev()).filter(|(_, k)| **k).map(|(c, _)| Channel { parent: None, ..c.clone() }),
        );
        let current = Current { guild: GUILD, roles, channels };
        let mode = if wipe { Mode::Wipe } else { Mode::Reconcile };
        let first = plan(&backup, &current, mode);
        let restored = apply(&current, &first, 10_000);
        prop_assert_eq!(structure(GUILD, &restored.roles, &restored.channels), backup_structure(&backup));
        let second = plan(&backup, &restored, Mode::Reconcile);
        let brief = |cs: &[Channel]| cs.iter().map(|c| format!("{}:{}:{:?}:{}", c.id, c.name, c.parent.map(|p| p.0), c.position)).collect::<Vec<_>>();
        prop_assert!(
            second.is_empty(),
            "backup {:?}\ncurrent {:?}\nfirst {:?}\nrestored {:?}\nsecond plan: {:?}",
            brief(&backup.channels), brief(&current.channels), first.ops, brief(&restored.channels), second.ops
        );
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
    let current = Current {
        guild: GUILD,
        roles: vec![role(1, "@everyone", 0), role(10, "Admin", 3), renamed],
        channels: vec![
            channel(20, CATEGORY, "Text", None, 0),
            channel(21, 0, "general", Some(20), 0),
            channel(23, 0, "spam", Some(20), 1),
        ],
    };
    let plan = plan(&backup, &current, Mode::Reconcile);
    let kinds: Vec<String> = plan
        .ops
        .iter()
        .map(|op| match op {
            Op::UpdateRole { target, .. } => format!("update role {target}"),
            Op::CreateChannel { channel } => format!("create {}", channel.name),
            Op::DeleteChannel { name, .. } => format!("delete {name}"),
            Op::PositionChannels(_) => "position channels".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["update role 11", "create rules", "delete spam", "position channels"]);
    let (roles, channels) = plan.counts();
    assert_eq!((roles.updated, channels.created, channels.deleted), (1, 1, 1));
    assert!(plan.matched.contains(&(Id(21), Id(21))), "#general survives with its messages");
}

#[test]
fn wipe_deletes_first_and_never_touches_everyone_or_managed_roles() {
    let mut bot = role(12, "Garrison", 5);
    bot.managed = true;
    let backup = backup_of(
        vec![role(1, "@everyone", 0), role(10, "Admin", 3), bot.clone()],
        vec![channel(21, 0, "general", None, 0)],
    );
    let current = Current {
        guild: GUILD,
        roles: vec![role(1, "@everyone", 0), role(10, "Admin", 3), bot],
        channels: vec![channel(21, 0, "general", None, 0)],
    };
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
    let skipped = garrison_backup::plan(&other, &Current { guild: GUILD, ..Current::default() }, Mode::Reconcile);
    assert_eq!(skipped.skipped.len(), 1);
    assert!(skipped.ops.is_empty());
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
