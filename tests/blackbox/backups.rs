//! Server backups against the Discord simulator's realistic guild (250 roles, 500 channels with
//! overwrites, AutoMod, onboarding, emojis, stickers, bans): a backup, the guild changed, a dry run,
//! a restore, and the guild's structure compared with the original field by field; a restore into an
//! empty second guild; versions, snapshots, deletes; every error body of the specification; auth keys
//! and tokens never in the log.

use std::collections::BTreeMap;

use garrison_discord_sim::{LargeDemo, ROUTES, Simulator, World};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Backend, Reply, Server, database, expect, secret};

/// The guild's structure from a fresh backup of it, with what a restore does not carry over set aside:
/// integration-managed roles, the target's own admin role and its name.
async fn copy_of(t: &Backups, guild: u64, name: &Value) -> Value {
    let copy = expect(t.backup(guild, None).await, 200).body;
    let key = copy["authKey"].as_str().expect("authKey").to_owned();
    secret(&key);
    let mut copied = t.download(copy["viewId"].as_str().expect("viewId"), &key, None).await;
    set_aside(&mut copied);
    copied["guild"]["name"] = name.clone();
    copied
}

/// Integration-managed roles are never created (the realistic guild's bot role), and the empty guild's
/// own admin role is its own.
fn set_aside(backup: &mut Value) {
    backup["roles"].as_array_mut().expect("roles").retain(|r| r["managed"] != true && r["name"] != "Garrison admin");
}

/// The report's failure lines.
fn failures(report: &Value) -> Vec<String> {
    report
        .as_array()
        .expect("report")
        .iter()
        .filter_map(Value::as_str)
        .filter(|l| l.starts_with("Failed") || l.starts_with("Stopped"))
        .map(str::to_owned)
        .collect()
}

struct Backups {
    sim: Simulator,
    demo: LargeDemo,
    server: Server,
    /// A guild without features or boosts the bot administers (a migration into a smaller guild).
    plain: u64,
}

impl Backups {
    /// The realistic guild with its bot made an administrator (a restore needs it), a second empty
    /// guild the bot administers, and a server pointed at the simulator.
    fn start(env: &[(&str, &str)]) -> (Self, u64) {
        let (mut world, demo) = World::demo_large();
        secret(&demo.bot.token);
        let guild = &demo.guild;
        world.add_member(guild.guild, demo.bot.user_id, &[guild.bot_role, guild.admin_role]);
        // A new guild with the same boosts and features (a migration target; what a restore does into
        // a guild lacking features is its own test).
        let empty = world.add_guild("Empty", guild.owner);
        world.set_guild_features(
            empty,
            &["COMMUNITY", "NEWS", "ROLE_ICONS", "ENHANCED_ROLE_COLORS", "AUTO_MODERATION", "BANNER"],
        );
        world.set_premium_tier(empty, 2);
        let admin = world.add_role(empty, "Garrison admin", garrison_discord_sim::permissions::ADMINISTRATOR, 1);
        world.add_member(empty, demo.bot.user_id, &[admin]);
        let plain = world.add_guild("Plain", guild.owner);
        let admin = world.add_role(plain, "Garrison admin", garrison_discord_sim::permissions::ADMINISTRATOR, 1);
        world.add_member(plain, demo.bot.user_id, &[admin]);
        let sim = Simulator::start(world);
        let (url, cdn) = (sim.base_url(), sim.cdn_url());
        let mut all = vec![("GARRISON_DISCORD_API_URL", url.as_str()), ("GARRISON_DISCORD_CDN_URL", cdn.as_str())];
        all.extend_from_slice(env);
        let server = Server::start_with(database(Backend::Sqlite).expect("SQLite is always available"), &all);
        (Self { sim, demo, server, plain }, empty)
    }

    fn guild(&self) -> u64 {
        self.demo.guild.guild
    }

    async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.server.client().request(method, format!("{}{path}", self.server.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Server::reply(request.send().await.expect("reply")).await
    }

    /// `POST /api/Backup` of `guild` (with a key: an update).
    async fn backup(&self, guild: u64, key: Option<&str>) -> Reply {
        let guild = guild.to_string();
        let mut headers = vec![("X-Bot-Token", self.demo.bot.token.as_str()), ("X-Guild-Id", guild.as_str())];
        if let Some(key) = key {
            headers.push(("X-Auth-Key", key));
        }
        self.call(Method::POST, "/api/Backup", &headers).await
    }

    /// The backup's JSON (`?version=` when given).
    async fn download(&self, view: &str, key: &str, version: Option<u32>) -> Value {
        let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
        let reply = self.call(Method::GET, &format!("/api/Backup/view/{view}{query}"), &[("X-Auth-Key", key)]).await;
        let reply = expect(reply, 200);
        let disposition = reply.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(disposition.starts_with("attachment; filename="), "{disposition}");
        reply.body
    }

    async fn restore(&self, view: &str, key: &str, query: &str, target: Option<u64>) -> Reply {
        let target = target.map(|t| t.to_string());
        let mut headers = vec![("X-Auth-Key", key), ("X-Bot-Token", self.demo.bot.token.as_str())];
        if let Some(target) = &target {
            headers.push(("X-Guild-Id", target.as_str()));
        }
        let reply = self.call(Method::POST, &format!("/api/Backup/restore/{view}{query}"), &headers).await;
        // A job id is a capability: no log may show it.
        if let Some(job) = reply.body["jobId"].as_str() {
            secret(job);
        }
        reply
    }

    /// A call straight to the simulator as the bot (to change the guild behind Garrison's back).
    async fn discord(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .server
            .client()
            .request(method, format!("{}/api/v10{path}", self.sim.base_url()))
            .header("authorization", format!("Bot {}", self.demo.bot.token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Write calls the simulator has seen so far (every non-GET route).
    fn writes(&self) -> usize {
        ROUTES.iter().filter(|(method, _)| *method != "GET").map(|(method, route)| self.sim.calls(method, route)).sum()
    }
}

/// A backup's structure without ids: roles in order with every field, channels by parent in order
/// with their settings and overwrites (roles named), settings with channels named, AutoMod rules with
/// exempt roles and channels named, onboarding named, emojis and stickers with their images' hashes,
/// bans. Two backups of guilds that look the same to a member compare equal.
fn structure(backup: &Value) -> Value {
    let guild = backup["guild"]["id"].as_str().unwrap_or_default().to_owned();
    let roles = backup["roles"].as_array().cloned().unwrap_or_default();
    let channels = backup["channels"].as_array().cloned().unwrap_or_default();
    let role_name: BTreeMap<String, String> = roles
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r["name"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let channel_name: BTreeMap<String, String> = channels
        .iter()
        .map(|c| {
            let parent = c["parent"].as_str().and_then(|p| channels.iter().find(|x| x["id"] == p));
            let parent = parent.map_or("", |p| p["name"].as_str().unwrap_or_default());
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                format!("{parent}/{}", c["name"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let named = |map: &BTreeMap<String, String>, id: &Value| -> Value {
        id.as_str().map_or(Value::Null, |id| json!(map.get(id).cloned().unwrap_or_else(|| format!("user {id}"))))
    };
    let named_list = |map: &BTreeMap<String, String>, ids: &Value| -> Value {
        let mut names: Vec<Value> = ids.as_array().into_iter().flatten().map(|id| named(map, id)).collect();
        names.sort_by_key(|v| v.to_string());
        json!(names)
    };
    let mut ordered_roles: Vec<&Value> = roles.iter().filter(|r| r["id"] != guild.as_str()).collect();
    ordered_roles.sort_by(|a, b| {
        let pos = |r: &Value| r["position"].as_i64().unwrap_or(0);
        pos(b).cmp(&pos(a)).then(a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let roles_out: Vec<Value> = ordered_roles
        .iter()
        .map(|r| {
            let mut r = (*r).clone();
            r.as_object_mut().map(|o| {
                o.remove("id");
                o.remove("position")
            });
            r
        })
        .collect();
    let everyone = roles.iter().find(|r| r["id"] == guild.as_str()).map(|r| r["permissions"].clone());
    let mut by_parent: BTreeMap<String, Vec<(i64, String, Value)>> = BTreeMap::new();
    for c in &channels {
        let parent = c["parent"].as_str().map_or("-".to_owned(), |p| channel_name.get(p).cloned().unwrap_or_default());
        let mut fields = c.clone();
        let o = fields.as_object_mut().expect("a channel is an object");
        o.remove("id");
        o.remove("position");
        o.remove("parent");
        let mut overwrites: Vec<Value> = c["overwrites"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| json!({"who": named(&role_name, &w["id"]), "kind": w["kind"], "allow": w["allow"], "deny": w["deny"]}))
            .collect();
        overwrites.sort_by_key(|v| v.to_string());
        o.insert("overwrites".into(), json!(overwrites));
        let position = c["position"].as_i64().unwrap_or(0);
        by_parent.entry(parent).or_default().push((position, c["id"].as_str().unwrap_or_default().to_owned(), fields));
    }
    let channels_out: BTreeMap<String, Vec<Value>> = by_parent
        .into_iter()
        .map(|(parent, mut children)| {
            children.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            (parent, children.into_iter().map(|(_, _, v)| v).collect())
        })
        .collect();
    let mut settings = backup["guild"].clone();
    let s = settings.as_object_mut().expect("settings are an object");
    // What the guild is (its features, its boost level), not what a restore writes.
    for field in ["id", "features", "premiumTier"] {
        s.remove(field);
    }
    for field in ["afkChannel", "systemChannel", "rulesChannel", "publicUpdatesChannel"] {
        let value = named(&channel_name, &backup["guild"][field]);
        s.insert(field.into(), value);
    }
    let mut rules: Vec<Value> = backup["autoModeration"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut r = r.clone();
            let o = r.as_object_mut().expect("a rule is an object");
            o.remove("id");
            o.insert("exemptRoles".into(), named_list(&role_name, &r_field(o, "exemptRoles")));
            o.insert("exemptChannels".into(), named_list(&channel_name, &r_field(o, "exemptChannels")));
            // An alert action names its channel.
            if let Some(actions) = o.get_mut("actions").and_then(Value::as_array_mut) {
                for action in actions {
                    let channel = action["metadata"]["channel_id"].clone();
                    if !channel.is_null() {
                        action["metadata"]["channel_id"] = named(&channel_name, &channel);
                    }
                }
            }
            r
        })
        .collect();
    rules.sort_by_key(|v| v.to_string());
    let mut onboarding = backup["onboarding"].clone();
    if let Some(o) = onboarding.as_object_mut() {
        let defaults = named_list(&channel_name, &o["defaultChannels"]);
        o.insert("defaultChannels".into(), defaults);
        for prompt in o.get_mut("prompts").and_then(Value::as_array_mut).into_iter().flatten() {
            for option in prompt["options"].as_array_mut().into_iter().flatten() {
                option["channels"] = named_list(&channel_name, &option["channels"]);
                option["roles"] = named_list(&role_name, &option["roles"]);
                option.as_object_mut().map(|o| o.remove("emojiId"));
            }
        }
    }
    let mut emojis: Vec<Value> = backup["emojis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!({"name": e["name"], "animated": e["animated"], "image": e["image"], "roles": named_list(&role_name, &e["roles"])}))
        .collect();
    emojis.sort_by_key(|v| v.to_string());
    let mut stickers: Vec<Value> = backup["stickers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| json!({"name": s["name"], "description": s["description"], "tags": s["tags"], "format": s["format"], "file": s["file"]}))
        .collect();
    stickers.sort_by_key(|v| v.to_string());
    let mut bans: Vec<Value> = backup["bans"].as_array().cloned().unwrap_or_default();
    bans.sort_by_key(|v| v.to_string());
    json!({
        "settings": settings,
        "everyone": everyone,
        "roles": roles_out,
        "channels": channels_out,
        "autoModeration": rules,
        "onboarding": onboarding,
        "emojis": emojis,
        "stickers": stickers,
        "bans": bans,
    })
}

fn r_field(o: &serde_json::Map<String, Value>, name: &str) -> Value {
    o.get(name).cloned().unwrap_or(Value::Null)
}

/// The first difference between two structures, for a readable failure.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (u, v) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                if let Some(d) = first_difference(u, v, &format!("{path}.{key}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(u, v, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: {} items, then {}", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{path}: {a} then {b}")),
    }
}

/// Fails unless `backup` is valid by `docs/backup-format.schema.json` (through the simulators' JSON
/// Schema validator, which reads schemas as an OpenAPI document's components).
#[track_caller]
fn assert_matches_schema(backup: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/backup-format.schema.json");
    let text =
        std::fs::read_to_string(&path).expect("the schema is in docs/").replace("#/$defs/", "#/components/schemas/");
    let mut root: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let object = root.as_object_mut().expect("the schema is an object");
    let mut schemas = object.remove("$defs").expect("$defs");
    object.remove("$schema");
    schemas["Backup"] = root;
    let document = json!({"openapi": "3.1.0", "components": {"schemas": schemas}}).to_string();
    let digits: garrison_openapi::Check = |s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let sha256: garrison_openapi::Check =
        |s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let options = garrison_openapi::Options::new().pattern("^[0-9]+$", digits).pattern("^[0-9a-f]{64}$", sha256);
    let spec = garrison_openapi::Spec::from_json(&document, &options).expect("the schema reads");
    assert_eq!(spec.unsupported_features(), Vec::<String>::new(), "the validator checks all of the schema");
    let mut broken = backup.clone();
    broken["roles"][0]["id"] = json!("not digits");
    assert!(spec.validate_schema("Backup", &broken).is_err(), "the schema refuses what breaks it");
    if let Err(problems) = spec.validate_schema("Backup", backup) {
        panic!("the backup breaks docs/backup-format.schema.json: {problems:#?}");
    }
}

#[track_caller]
fn assert_same_structure(before: &Value, after: &Value) {
    let (a, b) = (structure(before), structure(after));
    if let Some(difference) = first_difference(&a, &b, "") {
        panic!("the restored guild differs from the backup at {difference}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_guild_is_restored_to_its_backup_field_by_field() {
    let (t, _) = Backups::start(&[]);
    let guild = t.guild();

    // The backup, as the specification answers it.
    let made = expect(t.backup(guild, None).await, 200).body;
    assert_eq!(made["status"], "New backup created successfully");
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);
    assert_eq!(key.len(), 43, "256 bits as URL-safe base64");
    assert!(made["fileSize"].as_str().expect("fileSize").ends_with("KB"), "{made}");
    assert_eq!(made["warnings"], json!([]), "the bot reads everything");
    let original = t.download(&view, &key, None).await;
    assert_matches_schema(&original);
    assert_eq!(original["roles"].as_array().map(Vec::len), Some(250));
    assert_eq!(original["channels"].as_array().map(Vec::len), Some(500));
    assert_eq!(original["autoModeration"].as_array().map(Vec::len), Some(10));
    assert_eq!(original["onboarding"]["prompts"].as_array().map(Vec::len), Some(3));
    assert_eq!(original["emojis"].as_array().map(Vec::len), Some(20));
    assert_eq!(original["stickers"].as_array().map(Vec::len), Some(5));
    assert_eq!(original["bans"].as_array().map(Vec::len), Some(50));

    // One backup per guild: a second without the key is refused, a wrong key is not found.
    let again = expect(t.backup(guild, None).await, 409);
    assert!(again.error().contains("one backup per server"), "{}", again.error());
    let wrong = "A".repeat(43);
    assert_eq!(
        expect(t.backup(guild, Some(&wrong)).await, 404).body,
        json!({"error": "Backup not found or invalid key"})
    );

    // The guild changes behind Garrison's back: ten changes (it holds Discord's 250 roles, so none is
    // added).
    let g = &t.demo.guild;
    // Three voice channels of a later category, a text channel vandalised (none named by onboarding).
    for channel in &g.channels[386..389] {
        t.discord(Method::DELETE, &format!("/channels/{channel}"), None).await;
    }
    for role in &g.roles[10..12] {
        t.discord(Method::PATCH, &format!("/guilds/{guild}/roles/{role}"), Some(json!({"name": "renamed"}))).await;
    }
    t.discord(
        Method::PATCH,
        &format!("/channels/{}", g.channels[52]),
        Some(json!({"topic": "vandalised", "nsfw": true})),
    )
    .await;
    t.discord(Method::DELETE, &format!("/guilds/{guild}/emojis/{}", g.emojis[0]), None).await;
    t.discord(
        Method::PATCH,
        &format!("/guilds/{guild}/auto-moderation/rules/{}", g.automod_rules[0]),
        Some(json!({"name": "weakened"})),
    )
    .await;
    t.discord(Method::POST, &format!("/guilds/{guild}/channels"), Some(json!({"name": "spam", "type": 0}))).await;

    // A dry run says what would change and changes nothing.
    let writes_before = t.writes();
    let missing_force = expect(t.restore(&view, &key, "", None).await, 400);
    assert_eq!(missing_force.body, json!({"error": "Append ?force=true to confirm."}));
    let dry = expect(t.restore(&view, &key, "?dryRun=true", None).await, 200).body;
    assert_eq!(dry["status"], "Dry run");
    assert_eq!(dry["plan"]["roles"], json!({"created": 0, "updated": 2, "deleted": 0}), "{dry}");
    assert_eq!(dry["plan"]["channels"], json!({"created": 3, "updated": 1, "deleted": 1}), "{dry}");
    assert_eq!(dry["plan"]["emojis"]["created"], 1, "{dry}");
    assert_eq!(dry["plan"]["autoModeration"]["updated"], 1, "{dry}");
    assert!(dry["operations"].as_array().is_some_and(|ops| !ops.is_empty()));
    assert_eq!(t.writes(), writes_before, "a dry run writes nothing");
    assert!(t.sim.world(|w| w.role(guild, g.roles[10]).is_some_and(|r| r.name == "renamed")));

    // The restore: reconcile, the report step by step, a handful of writes for ten changes.
    let restored = expect(t.restore(&view, &key, "?force=true", None).await, 200).body;
    assert_eq!(restored["status"], "Restore sequence finished", "{restored}");
    let report: Vec<&str> = restored["report"].as_array().expect("report").iter().filter_map(Value::as_str).collect();
    assert!(report.iter().any(|line| line.starts_with("Roles restored")), "{report:?}");
    assert!(report.iter().any(|line| line.starts_with("Channels restored")), "{report:?}");
    assert!(!report.iter().any(|line| line.starts_with("Failed")), "{report:?}");
    let writes = t.writes() - writes_before;
    assert!(writes <= 20, "a reconcile of ten changes made {writes} writes");
    let snapshot = restored["snapshotVersion"].as_u64().expect("a snapshot was kept");

    // The guild is the backup again: captured anew (as a new version), it compares equal.
    let updated = expect(t.backup(guild, Some(&key)).await, 200).body;
    assert_eq!(updated["status"], "Backup updated successfully");
    assert_eq!(updated["viewId"], view.as_str());
    let after = t.download(&view, &key, None).await;
    assert_same_structure(&original, &after);
    // Channels that survived kept their ids (and so their messages and links).
    let kept = |b: &Value, id: u64| {
        b["channels"].as_array().is_some_and(|cs| cs.iter().any(|c| c["id"].as_str() == Some(id.to_string().as_str())))
    };
    assert!(kept(&after, g.channels[52]) && kept(&after, g.channels[0]));

    // The snapshot holds the vandalised guild; the versions list all three.
    let before_restore = t.download(&view, &key, Some(u32::try_from(snapshot).expect("small"))).await;
    assert_matches_schema(&before_restore);
    assert!(before_restore["roles"].as_array().expect("roles").iter().any(|r| r["name"] == "renamed"));
    let versions =
        expect(t.call(Method::GET, &format!("/api/Backup/versions/{view}"), &[("X-Auth-Key", &key)]).await, 200).body;
    let kinds: Vec<&str> =
        versions["versions"].as_array().expect("versions").iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds, ["backup", "snapshot", "backup"], "{versions}");
    assert_eq!(versions["current"], 3);

    // A second restore within five minutes waits.
    let cooldown = expect(t.restore(&view, &key, "?force=true", None).await, 429).body;
    assert_eq!(cooldown["error"], "Cooldown active.");
    let wait = cooldown["retryAfterSeconds"].as_u64().expect("retryAfterSeconds");
    assert!((1..=300).contains(&wait), "{cooldown}");

    assert!(t.sim.spec_violations().is_empty(), "{:#?}", t.sim.spec_violations());
    t.server.assert_no_secret_logged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_an_empty_guild() {
    let (t, empty) = Backups::start(&[]);
    // Channel creation at a Discord-like pace, without making the test take minutes.
    t.sim.set_rate_limit("POST", "/guilds/{guild_id}/channels", 50, std::time::Duration::from_secs(1));
    let made = expect(t.backup(t.guild(), None).await, 200).body;
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);
    let original = t.download(&view, &key, None).await;

    let restored = expect(t.restore(&view, &key, "?force=true", Some(empty)).await, 200).body;
    assert_eq!(restored["status"], "Restore sequence finished", "{restored}");
    assert_eq!(failures(&restored["report"]), Vec::<String>::new());

    // The empty guild now has the backup's structure (its own bot role aside).
    let mut original = original;
    set_aside(&mut original);
    let copied = copy_of(&t, empty, &original["guild"]["name"]).await;
    assert_same_structure(&original, &copied);

    // Into a guild without features or boosts: what it cannot hold is left out or adapted, and said;
    // everything else is restored, nothing fails.
    let restored = expect(t.restore(&view, &key, "?force=true", Some(t.plain)).await, 200).body;
    assert_eq!(failures(&restored["report"]), Vec::<String>::new());
    let said: Vec<&str> = restored["report"].as_array().expect("report").iter().filter_map(Value::as_str).collect();
    for rule in ["ROLE_ICONS", "ENHANCED_ROLE_COLORS", "made text channels", "made voice channels", "onboarding"] {
        assert!(
            said.iter().any(|l| (l.starts_with("Left out") || l.starts_with("Adapted")) && l.contains(rule)),
            "{rule}: {said:#?}"
        );
    }
    let mut fitted = original.clone();
    for role in fitted["roles"].as_array_mut().expect("roles") {
        for field in ["icon", "unicodeEmoji", "colors"] {
            role[field] = Value::Null;
        }
    }
    for channel in fitted["channels"].as_array_mut().expect("channels") {
        let kind = channel["kind"].as_u64().expect("kind");
        channel["kind"] = json!(match kind {
            5 => 0,
            13 => 2,
            16 => 15,
            other => other,
        });
        let most = if kind == 13 { 64_000 } else { 96_000 };
        if channel["bitrate"].as_u64().is_some_and(|b| b > most) {
            channel["bitrate"] = json!(most);
        }
    }
    fitted["onboarding"] = Value::Null;
    let mut copied = copy_of(&t, t.plain, &original["guild"]["name"]).await;
    copied["onboarding"] = Value::Null;
    assert_same_structure(&fitted, &copied);
    assert!(t.sim.spec_violations().is_empty(), "{:#?}", t.sim.spec_violations());
    t.server.assert_no_secret_logged();
}

/// Members' roles, kept when asked (`X-Include-Members`), come back with a restore: roles taken off a
/// member, a role given to another, and a deleted role its members held (recreated, so under a new
/// id, and given back to them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_get_their_roles_back_when_the_backup_keeps_them() {
    let (t, _) = Backups::start(&[]);
    let guild = t.guild();
    let g = &t.demo.guild;
    let id = guild.to_string();
    let headers =
        [("X-Bot-Token", t.demo.bot.token.as_str()), ("X-Guild-Id", id.as_str()), ("X-Include-Members", "true")];
    let made = expect(t.call(Method::POST, "/api/Backup", &headers).await, 200).body;
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);
    let backup = t.download(&view, &key, None).await;
    assert_matches_schema(&backup);
    let kept = backup["members"].as_array().expect("members are kept when asked");
    assert!(kept.iter().any(|m| m["user"] == g.members[0].to_string().as_str()), "{kept:?}");

    let names = |user: u64| -> Vec<String> {
        t.sim.world(|w| {
            let mut names: Vec<String> = w
                .member(guild, user)
                .expect("a member")
                .roles
                .iter()
                .filter_map(|r| w.role(guild, *r).map(|r| r.name))
                .collect();
            names.sort();
            names
        })
    };
    let (first, second, tenth) = (g.members[0], g.members[1], g.members[10]);
    let before = [names(first), names(second), names(tenth)];
    assert!(before.iter().all(|roles| !roles.is_empty()), "{before:?}");
    t.discord(Method::PATCH, &format!("/guilds/{guild}/members/{first}"), Some(json!({"roles": []}))).await;
    let mut more = t.sim.world(|w| w.member(guild, second).expect("a member").roles);
    more.push(g.roles[100]);
    // Snowflakes are strings in Discord's JSON.
    let more: Vec<String> = more.iter().map(u64::to_string).collect();
    t.discord(Method::PATCH, &format!("/guilds/{guild}/members/{second}"), Some(json!({"roles": more}))).await;
    // The realistic guild gives the tenth member (and nobody else) its 52nd role.
    let gone = g.roles[51];
    assert!(t.sim.world(|w| w.member(guild, tenth).expect("a member").roles.contains(&gone)));
    t.discord(Method::DELETE, &format!("/guilds/{guild}/roles/{gone}"), None).await;

    let dry = expect(t.restore(&view, &key, "?dryRun=true", None).await, 200).body;
    assert_eq!(dry["plan"]["members"]["updated"], 3, "{dry}");
    assert_eq!(dry["plan"]["roles"]["created"], 1, "{dry}");
    let restored = expect(t.restore(&view, &key, "?force=true", None).await, 200).body;
    assert_eq!(failures(&restored["report"]), Vec::<String>::new());
    assert!(
        restored["report"]
            .as_array()
            .expect("report")
            .iter()
            .any(|l| l == "Members restored (0 created, 3 updated, 0 deleted)"),
        "{restored}"
    );
    assert_eq!([names(first), names(second), names(tenth)], before);
    assert!(t.sim.spec_violations().is_empty(), "{:#?}", t.sim.spec_violations());
    t.server.assert_no_secret_logged();
}

/// A restore killed with SIGKILL half-way is taken up again when the server starts anew, and goes on
/// from where it was: nothing it made is made twice, and the guild ends as the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_half_way_resumes_on_start_without_duplicates() {
    let (mut t, empty) = Backups::start(&[
        // The route answers at once with the job; a dead server's hold on it runs out in 2 s.
        ("GARRISON_BACKUP_ANSWER_WITHIN_MS", "0"),
        ("GARRISON_BACKUP_JOB_LEASE_MS", "2000"),
    ]);
    t.sim.set_rate_limit("POST", "/guilds/{guild_id}/channels", 50, std::time::Duration::from_secs(1));
    let made = expect(t.backup(t.guild(), None).await, 200).body;
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);
    let mut original = t.download(&view, &key, None).await;
    set_aside(&mut original);

    let started = expect(t.restore(&view, &key, "?force=true", Some(empty)).await, 202).body;
    assert_eq!(started["status"], "Restore running", "{started}");
    let job = started["jobId"].as_str().expect("jobId").to_owned();
    let status_url = format!("/api/Backup/restore/jobs/{job}");
    assert_eq!(started["statusUrl"], status_url.as_str());

    // Half-way through the channels (248 roles come first, then emojis and stickers): killed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let done_before = loop {
        let progress = expect(t.call(Method::GET, &status_url, &[]).await, 200).body;
        assert_eq!(progress["status"], "running", "the restore ended before it could be killed: {progress}");
        let done = progress["done"].as_u64().expect("done");
        if done >= 400 {
            assert_eq!(progress["step"], "Channels", "{progress}");
            break done;
        }
        assert!(std::time::Instant::now() < deadline, "the restore did not get half-way: {progress}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let channels_then = t.sim.world(|w| w.channels(empty).len());
    t.server.kill_and_restart();

    // The new process finds the job where the old one left it, takes it up once the hold runs out,
    // and finishes it.
    let progress = expect(t.call(Method::GET, &status_url, &[]).await, 200).body;
    assert!(progress["done"].as_u64().expect("done") >= done_before, "progress was kept: {progress}");
    let finished = loop {
        let progress = expect(t.call(Method::GET, &status_url, &[]).await, 200).body;
        if progress["status"] == "finished" {
            break progress;
        }
        assert!(std::time::Instant::now() < deadline, "the restore was not taken up again: {progress}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(finished["resumed"], 1, "{finished}");
    assert_eq!(failures(&finished["report"]), Vec::<String>::new(), "{finished}");
    assert!(t.sim.world(|w| w.channels(empty).len()) > channels_then, "the channels left were made after the restart");
    assert!(t.server.logs().contains("restore jobs taken up again"), "the new process says so");

    // Nothing twice: the guild is exactly the backup (a channel or role made twice would show).
    let copied = copy_of(&t, empty, &original["guild"]["name"]).await;
    assert_same_structure(&original, &copied);
    assert!(t.sim.spec_violations().is_empty(), "{:#?}", t.sim.spec_violations());
    t.server.assert_no_secret_logged();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_errors_are_the_specifications() {
    let (t, _) = Backups::start(&[("GARRISON_PREMIUM", "granted")]);
    let guild = t.guild().to_string();

    // Not premium until the operator grants it.
    assert_eq!(expect(t.backup(t.guild(), None).await, 403).body, json!({"error": "Backups are a premium feature."}));
    let (ok, stdout, stderr) = t.server.cli(&["server", "premium", "grant", "--server", &guild]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("granted"), "{stdout}");
    let (_, listed, _) = t.server.cli(&["server", "premium", "list"]);
    assert!(listed.starts_with(&guild), "{listed}");

    let made = expect(t.backup(t.guild(), None).await, 200).body;
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);

    // Unknown view, wrong key and no key look the same.
    let not_found = json!({"error": "Backup not found or invalid key"});
    let other_view = "0".repeat(32);
    for (path, key) in [
        (format!("/api/Backup/view/{other_view}"), key.as_str()),
        (format!("/api/Backup/view/{view}"), "B".repeat(43).leak() as &str),
        (format!("/api/Backup/view/{view}"), ""),
        ("/api/Backup/view/not-a-view".to_owned(), key.as_str()),
    ] {
        let headers: Vec<(&str, &str)> = if key.is_empty() { vec![] } else { vec![("X-Auth-Key", key)] };
        assert_eq!(expect(t.call(Method::GET, &path, &headers).await, 404).body, not_found, "{path}");
    }
    // No such version.
    let missing =
        expect(t.call(Method::GET, &format!("/api/Backup/view/{view}?version=9"), &[("X-Auth-Key", &key)]).await, 404);
    assert!(missing.error().contains("version 9"), "{}", missing.error());

    // A restore needs an administrator bot: the realistic bot without the admin role is refused,
    // and the refusal starts no cooldown.
    t.sim.world(|w| w.add_member(t.guild(), t.demo.bot.user_id, &[t.demo.guild.bot_role]));
    let refused = expect(t.restore(&view, &key, "?force=true", None).await, 403);
    assert!(refused.error().contains("Administrator"), "{}", refused.error());
    t.sim.world(|w| w.add_member(t.guild(), t.demo.bot.user_id, &[t.demo.guild.bot_role, t.demo.guild.admin_role]));
    let restored = expect(t.restore(&view, &key, "?force=true", None).await, 200).body;
    assert_eq!(restored["report"], json!(["Nothing to restore: the guild already matches the backup"]));

    // Revoked premium refuses again; deleting the backup removes it and its files.
    let (ok, _, _) = t.server.cli(&["server", "premium", "revoke", "--server", &guild]);
    assert!(ok);
    assert_eq!(
        expect(t.call(Method::DELETE, &format!("/api/Backup/{view}"), &[("X-Auth-Key", &key)]).await, 403).body["error"],
        "Backups are a premium feature."
    );
    t.server.cli(&["server", "premium", "grant", "--server", &guild]);
    assert_eq!(
        expect(t.call(Method::DELETE, &format!("/api/Backup/{view}"), &[("X-Auth-Key", &key)]).await, 200).body,
        json!({"status": "Deleted"})
    );
    assert_eq!(
        expect(t.call(Method::GET, &format!("/api/Backup/view/{view}"), &[("X-Auth-Key", &key)]).await, 404).body,
        not_found
    );
    let stored = walk(&t.server.dir().join("data/objects"));
    assert!(stored.iter().all(|p| !p.contains(&view)), "files of the deleted backup remain: {stored:?}");

    // Repeated wrong keys are throttled, the right one included, for a while.
    let made = expect(t.backup(t.guild(), None).await, 200).body;
    let (view, key) =
        (made["viewId"].as_str().expect("viewId").to_owned(), made["authKey"].as_str().expect("authKey").to_owned());
    secret(&key);
    let wrong = "C".repeat(43);
    for _ in 0..10 {
        expect(t.call(Method::GET, &format!("/api/Backup/versions/{view}"), &[("X-Auth-Key", &wrong)]).await, 404);
    }
    let throttled =
        expect(t.call(Method::GET, &format!("/api/Backup/versions/{view}"), &[("X-Auth-Key", &key)]).await, 429);
    assert!(throttled.headers.contains_key("retry-after"));
    t.server.assert_no_secret_logged();
}

/// Every file below `dir`, as paths.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}
