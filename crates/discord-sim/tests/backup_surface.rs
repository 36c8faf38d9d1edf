//! Everything a server backup reads and a restore writes: guild settings, channels of every type
//! with their overwrites, AutoMod, onboarding, emojis and stickers (with their bytes on the CDN),
//! bans and roles; each route's success, permission refusal and validation, checked against
//! Discord's document; the gateway events they send; and the realistic guild builder.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::{Client, Fixture, Response, assert_spec_clean, fixture, send, start};
use futures_util::{SinkExt, StreamExt};
use garrison_discord_sim::permissions::*;
use garrison_discord_sim::{
    AuditAction, CHANNEL_CREATE_RATE_LIMIT, EMOJI_SLOTS, MAX_EMOJI_BYTES, Simulator, World, intents, samples,
};
use serde_json::{Value, json};

const CHANNELS: &str = "/guilds/{guild_id}/channels";

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn png_uri() -> String {
    data_uri("image/png", samples::PNG)
}

fn id_of(value: &Value) -> u64 {
    value["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id in {value}"))
}

/// The first `_errors` code at a dot-separated path of a 50035 body.
fn form_error(response: &Response, path: &str) -> String {
    assert_eq!((response.status, response.code()), (400, 50035), "body: {}", response.json());
    let mut at = response.json()["errors"].clone();
    for key in path.split('.').filter(|k| !k.is_empty()) {
        at = at[key].clone();
    }
    at["_errors"][0]["code"].as_str().unwrap_or_else(|| panic!("no error at {path}: {}", response.json())).to_owned()
}

/// A GET on the simulator outside the API (the CDN).
fn raw_get(sim: &Simulator, path: &str) -> Response {
    send(sim.addr(), "GET", path, &[], b"")
}

/// A multipart form (text fields, then files as `(field, filename, content type, bytes)`).
fn multipart(
    client: &Client,
    method: &str,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str, &[u8])],
) -> Response {
    let boundary = "garrisonboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, filename, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--").as_bytes());
    let authorization = format!("Bot {}", client.token.as_deref().unwrap_or_default());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    send(
        client.addr,
        method,
        &format!("/api/v10{path}"),
        &[("Authorization", &authorization), ("Content-Type", &content_type)],
        &body,
    )
}

/// Starts a simulator on the fixture after `setup`.
fn start_with(setup: impl FnOnce(&mut World, &Fixture)) -> (Simulator, Client, Fixture) {
    let (mut world, f) = fixture();
    setup(&mut world, &f);
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);
    (sim, client, f)
}

// ----- the guild -----

#[test]
fn guild_settings_round_trip_through_patch_and_get() {
    let (sim, client, f) = start();
    let (voice, rules, updates) = sim.world(|w| {
        (
            w.add_channel(f.guild, 2, "AFK", None, 1),
            w.add_channel(f.guild, 0, "rules", None, 2),
            w.add_channel(f.guild, 0, "mods", None, 3),
        )
    });
    let before = client.get(&format!("/guilds/{}", f.guild)).json();
    assert_eq!((before["afk_timeout"].clone(), before["afk_channel_id"].clone()), (json!(300), Value::Null));
    assert_eq!(before["preferred_locale"], "en-US");

    let patch = json!({
        "name": "Renamed Guild",
        "description": "A guild",
        "icon": png_uri(),
        "verification_level": 3,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "afk_channel_id": voice.to_string(),
        "afk_timeout": 900,
        "system_channel_id": f.text.to_string(),
        "system_channel_flags": 5,
        "rules_channel_id": rules.to_string(),
        "public_updates_channel_id": updates.to_string(),
        "safety_alerts_channel_id": updates.to_string(),
        "preferred_locale": "fr",
        "premium_progress_bar_enabled": true,
        "features": ["COMMUNITY"],
    });
    let path = format!("/guilds/{}", f.guild);
    let patched = client.request("PATCH", &path, Some(&patch), &[("X-Audit-Log-Reason", "restore")]);
    assert_eq!(patched.status, 200, "{}", patched.json());
    let got = client.get(&path).json();
    assert_eq!(patched.json(), got, "PATCH answers the guild as GET then reads it");
    for (field, value) in [
        ("name", json!("Renamed Guild")),
        ("description", json!("A guild")),
        ("verification_level", json!(3)),
        ("default_message_notifications", json!(1)),
        ("explicit_content_filter", json!(2)),
        ("afk_channel_id", json!(voice.to_string())),
        ("afk_timeout", json!(900)),
        ("system_channel_id", json!(f.text.to_string())),
        ("system_channel_flags", json!(5)),
        ("rules_channel_id", json!(rules.to_string())),
        ("public_updates_channel_id", json!(updates.to_string())),
        ("safety_alerts_channel_id", json!(updates.to_string())),
        ("preferred_locale", json!("fr")),
        ("premium_progress_bar_enabled", json!(true)),
        ("features", json!(["COMMUNITY"])),
    ] {
        assert_eq!(got[field], value, "{field}");
    }
    let icon = got["icon"].as_str().expect("an icon hash");
    let downloaded = raw_get(&sim, &format!("/sim/cdn/icons/{}/{icon}.png", f.guild));
    assert_eq!((downloaded.status, downloaded.body.as_slice()), (200, samples::PNG));
    assert_eq!(downloaded.header("content-type"), Some("image/png"));
    assert!(sim.cdn_url().ends_with("/sim/cdn"));
    let entry = sim.world(|w| w.audit_log(f.guild)).pop().expect("an audit entry");
    assert_eq!((entry.action, entry.reason.as_deref()), (AuditAction::GuildUpdate, Some("restore")));
    let settings = sim.world(|w| w.guild(f.guild)).expect("the guild");
    assert_eq!((settings.afk_channel_id, settings.afk_timeout), (Some(voice), 900));

    // Clearing the icon drops its file; deleting the AFK channel unsets it.
    assert_eq!(client.patch(&path, &json!({"icon": null})).json()["icon"], Value::Null);
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/icons/{}/{icon}.png", f.guild)).status, 404);
    assert_eq!(client.delete(&format!("/channels/{voice}")).status, 200);
    assert_eq!(client.get(&path).json()["afk_channel_id"], Value::Null);
    assert_spec_clean(&sim);
}

#[test]
fn guild_patch_is_validated_and_needs_manage_guild() {
    let (sim, client, f) = start();
    let path = format!("/guilds/{}", f.guild);
    let cases = [
        (json!({"afk_timeout": 42}), "afk_timeout", "BASE_TYPE_CHOICES"),
        (json!({"afk_channel_id": f.text.to_string()}), "afk_channel_id", "CHANNEL_TYPE_INVALID"),
        (json!({"rules_channel_id": "80351110224678912"}), "rules_channel_id", "CHANNEL_INVALID"),
        (json!({"icon": "not an image"}), "icon", "IMAGE_INVALID"),
        (json!({"icon": data_uri("image/png", b"<html>no</html>")}), "icon", "IMAGE_INVALID"),
        (json!({"preferred_locale": "xx"}), "preferred_locale", "BASE_TYPE_CHOICES"),
        (json!({"verification_level": 9}), "verification_level", "BASE_TYPE_CHOICES"),
        (json!({"name": "x"}), "name", "BASE_TYPE_BAD_LENGTH"),
    ];
    for (body, field, code) in cases {
        assert_eq!(form_error(&client.patch(&path, &body), field), code, "{body}");
    }
    assert_eq!(sim.world(|w| w.guild(f.guild)).map(|g| g.name), Some("Test Guild".to_owned()), "nothing changed");
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_CHANNELS));
    client.patch(&path, &json!({"name": "Nope"})).assert_error(403, 50013);
    // Discord's own document is the judge of the refused requests' bodies too, except where they were
    // meant to break it.
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

// ----- channels -----

#[test]
fn channels_of_every_type_are_created_with_their_fields() {
    let (sim, client, f) = start_with(|w, f| {
        w.set_guild_features(f.guild, &["COMMUNITY", "NEWS"]);
        w.set_premium_tier(f.guild, 1);
    });
    sim.clear_rate_limit("POST", CHANNELS);
    let create = |body: Value| {
        let response = client.post(&format!("/guilds/{}/channels", f.guild), &body);
        assert_eq!(response.status, 201, "{body}: {}", response.json());
        response.json()
    };
    let overwrites = json!([
        {"id": f.guild.to_string(), "type": 0, "allow": "0", "deny": VIEW_CHANNEL.to_string()},
        {"id": f.moderator_role.to_string(), "type": 0, "allow": VIEW_CHANNEL.to_string(), "deny": "0"},
        {"id": f.member.to_string(), "type": 1, "allow": SEND_MESSAGES, "deny": 0},
    ]);
    let category = create(json!({"name": "Archive", "type": 4, "permission_overwrites": overwrites}));
    assert_eq!(category["permission_overwrites"].as_array().map(Vec::len), Some(3));
    let category_id = category["id"].as_str().expect("an id").to_owned();

    let text = create(json!({
        "name": "general", "type": 0, "topic": "Talk", "rate_limit_per_user": 10, "nsfw": true,
        "parent_id": category_id, "default_auto_archive_duration": 4320, "default_thread_rate_limit_per_user": 30,
    }));
    assert_eq!(text["permission_overwrites"], category["permission_overwrites"], "synced with its category");
    for (field, value) in [
        ("topic", json!("Talk")),
        ("rate_limit_per_user", json!(10)),
        ("nsfw", json!(true)),
        ("parent_id", json!(category_id)),
        ("default_auto_archive_duration", json!(4320)),
        ("default_thread_rate_limit_per_user", json!(30)),
    ] {
        assert_eq!(text[field], value, "{field}");
    }
    let voice = create(json!({
        "name": "Lounge", "type": 2, "bitrate": 128000, "user_limit": 12, "rtc_region": "rotterdam",
        "video_quality_mode": 2, "parent_id": category_id, "permission_overwrites": [],
    }));
    assert_eq!(
        (&voice["bitrate"], &voice["user_limit"], &voice["rtc_region"], &voice["video_quality_mode"]),
        (&json!(128000), &json!(12), &json!("rotterdam"), &json!(2))
    );
    assert_eq!(voice["permission_overwrites"], json!([]), "an explicit empty list is not synced");
    let news = create(json!({"name": "news", "type": 5, "topic": "Announcements"}));
    assert_eq!(news["type"], 5);
    let stage = create(json!({"name": "Town Hall", "type": 13, "bitrate": 64000, "user_limit": 500}));
    assert_eq!((stage["type"].clone(), stage["user_limit"].clone()), (json!(13), json!(500)));
    let forum = create(json!({
        "name": "help", "type": 15, "topic": "Ask here",
        "available_tags": [{"name": "Question", "emoji_name": "❓"}, {"name": "Solved", "moderated": true}],
        "default_reaction_emoji": {"emoji_name": "👍"}, "default_sort_order": 1, "default_forum_layout": 2,
        "flags": 16,
    }));
    assert_eq!(forum["available_tags"].as_array().map(Vec::len), Some(2));
    assert_eq!(forum["available_tags"][0]["name"], "Question");
    assert_eq!(forum["available_tags"][1]["moderated"], true);
    assert_eq!(forum["default_reaction_emoji"], json!({"emoji_id": null, "emoji_name": "👍"}));
    assert_eq!((forum["default_sort_order"].clone(), forum["default_forum_layout"].clone()), (json!(1), json!(2)));
    assert_eq!(forum["flags"], 16);
    let media = create(json!({"name": "clips", "type": 16, "available_tags": [{"name": "Highlight"}]}));
    assert_eq!(media["type"], 16);

    // GET answers each as created.
    for created in [&category, &text, &voice, &news, &stage, &forum, &media] {
        assert_eq!(&client.get(&format!("/channels/{}", id_of(created))).json(), created);
    }
    let listed = client.get(&format!("/guilds/{}/channels", f.guild)).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(8));
    let audit = sim.world(|w| w.audit_log(f.guild));
    assert_eq!(audit.iter().filter(|e| e.action == AuditAction::ChannelCreate).count(), 7);
    assert_spec_clean(&sim);
}

#[test]
fn channel_creation_is_validated_and_permission_checked() {
    let (sim, client, f) = start();
    sim.clear_rate_limit("POST", CHANNELS);
    let path = format!("/guilds/{}/channels", f.guild);
    assert_eq!(form_error(&client.post(&path, &json!({"type": 0})), "name"), "BASE_TYPE_REQUIRED");
    // Stage, announcement and media channels need a Community guild.
    for kind in [5, 13, 16] {
        assert_eq!(form_error(&client.post(&path, &json!({"name": "x", "type": kind})), "type"), "BASE_TYPE_CHOICES");
    }
    let parent = json!({"name": "x", "parent_id": f.text.to_string()});
    assert_eq!(form_error(&client.post(&path, &parent), "parent_id"), "CHANNEL_PARENT_INVALID_TYPE");
    let loud = json!({"name": "x", "type": 2, "bitrate": 200000});
    assert_eq!(form_error(&client.post(&path, &loud), "bitrate"), "NUMBER_TYPE_MAX", "96 kbps at tier 0");
    let crowded = json!({"name": "x", "type": 2, "user_limit": 100});
    assert_eq!(form_error(&client.post(&path, &crowded), "user_limit"), "NUMBER_TYPE_MAX");
    let long_topic = json!({"name": "x", "topic": "t".repeat(1025)});
    assert_eq!(form_error(&client.post(&path, &long_topic), "topic"), "BASE_TYPE_MAX_LENGTH");
    let unknown_role = json!({"name": "x", "permission_overwrites": [{"id": "80351110224678912", "type": 0}]});
    client.post(&path, &unknown_role).assert_error(404, 10011);

    // Overwrites only with permissions the bot holds, and MANAGE_ROLES only for administrators.
    let admin = json!({"name": "x", "permission_overwrites": [{"id": f.guild.to_string(), "type": 0, "allow": ADMINISTRATOR.to_string()}]});
    client.post(&path, &admin).assert_error(403, 50013);
    let roles = json!({"name": "x", "permission_overwrites": [{"id": f.member_role.to_string(), "type": 0, "allow": MANAGE_ROLES.to_string()}]});
    client.post(&path, &roles).assert_error(403, 50013);
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_ROLES));
    client.post(&path, &json!({"name": "x"})).assert_error(403, 50013);
    assert_eq!(sim.world(|w| w.channels(f.guild).len()), 1, "nothing was created");
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn guilds_and_categories_have_discords_channel_caps() {
    let (sim, client, f) = start_with(|w, f| {
        let category = w.add_channel(f.guild, 4, "Full", None, 1);
        for i in 0..50 {
            w.add_channel(f.guild, 0, &format!("c{i}"), Some(category), i);
        }
    });
    sim.clear_rate_limit("POST", CHANNELS);
    let path = format!("/guilds/{}/channels", f.guild);
    let category = sim.world(|w| w.channels(f.guild).into_iter().find(|c| c.kind == 4)).expect("the category");
    let into_full = client.post(&path, &json!({"name": "one-more", "parent_id": category.id.to_string()}));
    assert_eq!(form_error(&into_full, "parent_id"), "CHANNEL_PARENT_MAX_CHANNELS");
    let moved = client.patch(&format!("/channels/{}", f.text), &json!({"parent_id": category.id.to_string()}));
    assert_eq!(form_error(&moved, "parent_id"), "CHANNEL_PARENT_MAX_CHANNELS");
    sim.world(|w| {
        let have = w.channels(f.guild).len();
        for i in have..500 {
            w.add_channel(f.guild, 2, &format!("v{i}"), None, 100);
        }
    });
    client.post(&path, &json!({"name": "501st"})).assert_error(400, 30013);
    assert_spec_clean(&sim);
}

#[test]
fn channel_creation_is_rate_limited_out_of_the_box() {
    let (sim, client, f) = start();
    let path = format!("/guilds/{}/channels", f.guild);
    let (limit, window) = CHANNEL_CREATE_RATE_LIMIT;
    for i in 0..limit {
        let created = client.post(&path, &json!({"name": format!("c{i}")}));
        assert_eq!(created.status, 201);
        assert_eq!(created.header("X-RateLimit-Limit"), Some(limit.to_string().as_str()));
    }
    let limited = client.post(&path, &json!({"name": "too-fast"}));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("X-RateLimit-Scope"), Some("user"));
    let retry = limited.json()["retry_after"].as_f64().expect("seconds");
    assert!(retry > 0.0 && retry <= window.as_secs_f64(), "{retry}");
    // Tests may change the bucket, or lift it.
    sim.set_rate_limit("POST", CHANNELS, 100, Duration::from_secs(1));
    assert_eq!(client.post(&path, &json!({"name": "now-allowed"})).status, 201);
    sim.clear_rate_limit("POST", CHANNELS);
    for i in 0..20 {
        assert_eq!(client.post(&path, &json!({"name": format!("bulk{i}")})).status, 201);
    }
    assert_spec_clean(&sim);
}

#[test]
fn channel_patch_covers_every_field() {
    let (sim, client, f) = start_with(|w, f| w.set_guild_features(f.guild, &["COMMUNITY", "NEWS"]));
    let (forum, voice, category) = sim.world(|w| {
        (
            w.add_channel(f.guild, 15, "help", None, 1),
            w.add_channel(f.guild, 2, "Lounge", None, 2),
            w.add_channel(f.guild, 4, "Cat", None, 3),
        )
    });
    let tags = client.patch(&format!("/channels/{forum}"), &json!({"available_tags": [{"name": "A"}, {"name": "B"}]}));
    assert_eq!(tags.status, 200, "{}", tags.json());
    let first_tag = tags.json()["available_tags"][0]["id"].clone();
    let kept = client.patch(
        &format!("/channels/{forum}"),
        &json!({"available_tags": [{"id": first_tag, "name": "A2"}, {"name": "C"}], "default_reaction_emoji": {"emoji_name": "🔥"},
                "default_forum_layout": 1, "topic": "x".repeat(3000), "default_thread_rate_limit_per_user": 60}),
    );
    assert_eq!(kept.status, 200, "{}", kept.json());
    assert_eq!(
        kept.json()["available_tags"][0],
        json!({"id": first_tag, "name": "A2", "moderated": false, "emoji_id": null, "emoji_name": null})
    );
    assert_ne!(kept.json()["available_tags"][1]["id"], tags.json()["available_tags"][1]["id"], "a new tag");
    let voice_patch = json!({"bitrate": 96000, "user_limit": 5, "rtc_region": "japan", "video_quality_mode": 2, "parent_id": category.to_string()});
    let edited = client.patch(&format!("/channels/{voice}"), &voice_patch);
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["parent_id"], category.to_string());
    assert_eq!(edited.json()["video_quality_mode"], 2);
    // Text becomes announcement and back (NEWS); nothing else converts.
    assert_eq!(client.patch(&format!("/channels/{}", f.text), &json!({"type": 5})).json()["type"], 5);
    assert_eq!(client.patch(&format!("/channels/{}", f.text), &json!({"type": 0})).json()["type"], 0);
    assert_eq!(
        form_error(&client.patch(&format!("/channels/{}", f.text), &json!({"type": 2})), "type"),
        "BASE_TYPE_CHOICES"
    );
    assert_eq!(
        form_error(&client.patch(&format!("/channels/{voice}"), &json!({"user_limit": 100})), "user_limit"),
        "NUMBER_TYPE_MAX"
    );
    let long = json!({"topic": "x".repeat(1025)});
    assert_eq!(form_error(&client.patch(&format!("/channels/{}", f.text), &long), "topic"), "BASE_TYPE_MAX_LENGTH");
    sim.world(|w| w.add_overwrite(forum, f.moderator_role, 0, 0, MANAGE_CHANNELS));
    client.patch(&format!("/channels/{forum}"), &json!({"name": "nope"})).assert_error(403, 50013);
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn deleting_channels() {
    let (sim, client, f) = start_with(|w, f| w.set_guild_features(f.guild, &["COMMUNITY"]));
    let (category, child, rules) = sim.world(|w| {
        let category = w.add_channel(f.guild, 4, "Cat", None, 1);
        let child = w.add_channel(f.guild, 0, "child", Some(category), 0);
        let rules = w.add_channel(f.guild, 0, "rules", None, 2);
        (category, child, rules)
    });
    let path = format!("/guilds/{}", f.guild);
    assert_eq!(client.patch(&path, &json!({"rules_channel_id": rules.to_string()})).status, 200);
    let deleted = client.delete(&format!("/channels/{category}"));
    assert_eq!(deleted.status, 200);
    assert_eq!((deleted.json()["id"].clone(), deleted.json()["type"].clone()), (json!(category.to_string()), json!(4)));
    assert_eq!(client.get(&format!("/channels/{child}")).json()["parent_id"], Value::Null, "children move out");
    client.get(&format!("/channels/{category}")).assert_error(404, 10003);
    client.delete(&format!("/channels/{category}")).assert_error(404, 10003);
    client.delete(&format!("/channels/{rules}")).assert_error(400, 50074);
    sim.world(|w| w.add_overwrite(child, f.moderator_role, 0, 0, MANAGE_CHANNELS));
    client.delete(&format!("/channels/{child}")).assert_error(403, 50013);
    assert!(sim.world(|w| w.channel(child)).is_some());
    assert!(
        sim.world(|w| w.audit_log(f.guild))
            .iter()
            .any(|e| e.action == AuditAction::ChannelDelete && e.target_id == category)
    );
    assert_spec_clean(&sim);
}

#[test]
fn permission_overwrites_are_put_and_deleted() {
    let (sim, client, f) = start();
    let path = |target: u64| format!("/channels/{}/permissions/{target}", f.text);
    let put = |target: u64, body: Value| client.request("PUT", &path(target), Some(&body), &[]);
    let role =
        put(f.member_role, json!({"type": 0, "allow": SEND_MESSAGES.to_string(), "deny": VIEW_CHANNEL.to_string()}));
    assert_eq!(role.status, 204, "{}", role.json());
    assert_eq!(put(f.member, json!({"type": 1, "allow": EMBED_LINKS, "deny": 0})).status, 204, "integers too");
    let channel = client.get(&format!("/channels/{}", f.text)).json();
    assert_eq!(channel["permission_overwrites"].as_array().map(Vec::len), Some(2));
    assert_eq!(channel["permission_overwrites"][0]["deny"], VIEW_CHANNEL.to_string());
    assert_eq!(put(f.member_role, json!({"type": 0, "allow": "0", "deny": "0"})).status, 204, "replaced");
    let overwrites = sim.world(|w| w.channel(f.text)).expect("the channel").overwrites;
    assert_eq!((overwrites.len(), overwrites[0].deny), (2, 0));
    let actions: Vec<AuditAction> = sim.world(|w| w.audit_log(f.guild)).iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::ChannelOverwriteCreate, AuditAction::ChannelOverwriteCreate, AuditAction::ChannelOverwriteUpdate]
    );

    assert_eq!(form_error(&put(f.member_role, json!({"allow": "0"})), "type"), "BASE_TYPE_REQUIRED");
    assert_eq!(form_error(&put(f.member_role, json!({"type": 3})), "type"), "BASE_TYPE_CHOICES");
    put(80_351_110_224_678_912, json!({"type": 0})).assert_error(404, 10011);
    put(f.member_role, json!({"type": 0, "allow": ADMINISTRATOR.to_string()})).assert_error(403, 50013);
    put(f.member_role, json!({"type": 0, "allow": MANAGE_ROLES.to_string()})).assert_error(403, 50013);

    assert_eq!(client.delete(&path(f.member)).status, 204);
    client.delete(&path(f.member)).assert_error(404, 10009);
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_CHANNELS | VIEW_CHANNEL));
    client.delete(&path(f.member_role)).assert_error(403, 50013);
    put(f.member_role, json!({"type": 0})).assert_error(403, 50013);
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

// ----- AutoMod -----

#[test]
fn automod_rules_are_created_read_edited_and_deleted() {
    let (sim, client, f) = start();
    let rules = format!("/guilds/{}/auto-moderation/rules", f.guild);
    let keyword = json!({
        "name": "No slurs", "event_type": 1, "trigger_type": 1,
        "trigger_metadata": {"keyword_filter": ["bad", "*worse*"], "regex_patterns": ["b[a4]d"], "allow_list": ["badminton"]},
        "actions": [
            {"type": 1, "metadata": {"custom_message": "Not here."}},
            {"type": 2, "metadata": {"channel_id": f.text.to_string()}},
            {"type": 3, "metadata": {"duration_seconds": 60}},
        ],
        "enabled": true, "exempt_roles": [f.senior_role.to_string()], "exempt_channels": [f.text.to_string()],
    });
    let created = client.post(&rules, &keyword);
    assert_eq!(created.status, 200, "{}", created.json());
    let rule = created.json();
    assert_eq!(rule["creator_id"], f.bot.user_id.to_string());
    assert_eq!(rule["trigger_metadata"]["keyword_filter"], json!(["bad", "*worse*"]));
    assert_eq!(rule["actions"][1], json!({"type": 2, "metadata": {"channel_id": f.text.to_string()}}));
    assert_eq!(rule["actions"][2]["metadata"]["duration_seconds"], 60);
    assert_eq!(rule["exempt_roles"], json!([f.senior_role.to_string()]));
    let one = format!("{rules}/{}", id_of(&rule));
    assert_eq!(client.get(&one).json(), rule);
    let spam =
        client.post(&rules, &json!({"name": "Spam", "event_type": 1, "trigger_type": 3, "actions": [{"type": 1}]}));
    assert_eq!((spam.status, spam.json()["enabled"].clone()), (200, json!(false)), "disabled unless enabled");
    let preset = json!({"name": "Presets", "event_type": 1, "trigger_type": 4, "trigger_metadata": {"presets": [1, 3]}, "actions": [{"type": 1}]});
    assert_eq!(client.post(&rules, &preset).json()["trigger_metadata"], json!({"allow_list": [], "presets": [1, 3]}));
    let mentions = json!({"name": "Mentions", "event_type": 1, "trigger_type": 5,
        "trigger_metadata": {"mention_total_limit": 5, "mention_raid_protection_enabled": true}, "actions": [{"type": 1}]});
    assert_eq!(client.post(&rules, &mentions).json()["trigger_metadata"]["mention_total_limit"], 5);
    let profile = json!({"name": "Names", "event_type": 2, "trigger_type": 6, "trigger_metadata": {"keyword_filter": ["nitro"]},
        "actions": [{"type": 4}]});
    assert_eq!(client.post(&rules, &profile).status, 200);
    assert_eq!(client.get(&rules).json().as_array().map(Vec::len), Some(5));

    let edited = client
        .patch(&one, &json!({"name": "Renamed", "enabled": false, "trigger_metadata": {"keyword_filter": ["x"]}}));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["name"], "Renamed");
    assert_eq!(
        edited.json()["trigger_metadata"],
        json!({"keyword_filter": ["x"], "regex_patterns": [], "allow_list": []})
    );
    assert_eq!(edited.json()["actions"], rule["actions"], "actions stay");
    assert_eq!(client.delete(&one).status, 204);
    client.get(&one).assert_error(404, 10066);
    let names: Vec<String> = sim.world(|w| w.automod_rules(f.guild)).into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Spam", "Presets", "Mentions", "Names"]);
    assert_spec_clean(&sim);
}

#[test]
fn automod_is_validated_limited_and_needs_manage_guild() {
    let (sim, client, f) = start();
    let rules = format!("/guilds/{}/auto-moderation/rules", f.guild);
    let keyword = |name: &str| json!({"name": name, "event_type": 1, "trigger_type": 1, "actions": [{"type": 1}]});
    for i in 0..6 {
        assert_eq!(client.post(&rules, &keyword(&format!("k{i}"))).status, 200);
    }
    assert_eq!(form_error(&client.post(&rules, &keyword("k7")), ""), "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED");
    let spam = json!({"name": "s", "event_type": 1, "trigger_type": 3, "actions": [{"type": 1}]});
    assert_eq!(client.post(&rules, &spam).status, 200);
    assert_eq!(form_error(&client.post(&rules, &spam), ""), "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED");

    let mention = |extra: Value| {
        let mut body = json!({"name": "m", "event_type": 1, "trigger_type": 5, "actions": [{"type": 1}]});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let cases = [
        (
            mention(json!({"trigger_metadata": {"mention_total_limit": 51}})),
            "trigger_metadata.mention_total_limit",
            "NUMBER_TYPE_MAX",
        ),
        (mention(json!({"actions": [{"type": 4}]})), "actions.0.type", "BASE_TYPE_CHOICES"),
        (
            mention(json!({"actions": [{"type": 2, "metadata": {"channel_id": "80351110224678912"}}]})),
            "actions.0.metadata.channel_id",
            "CHANNEL_INVALID",
        ),
        (
            mention(json!({"actions": [{"type": 3, "metadata": {}}]})),
            "actions.0.metadata.duration_seconds",
            "BASE_TYPE_REQUIRED",
        ),
        (mention(json!({"actions": []})), "actions", "BASE_TYPE_BAD_LENGTH"),
        (mention(json!({"event_type": 2})), "event_type", "BASE_TYPE_CHOICES"),
        (json!({"name": "m", "event_type": 1, "trigger_type": 5}), "actions", "BASE_TYPE_REQUIRED"),
        (
            json!({"name": "p", "event_type": 1, "trigger_type": 4, "actions": [{"type": 1}]}),
            "trigger_metadata",
            "BASE_TYPE_REQUIRED",
        ),
    ];
    for (body, path, code) in cases {
        assert_eq!(form_error(&client.post(&rules, &body), path), code, "{body}");
    }
    let first = sim.world(|w| w.automod_rules(f.guild))[0].id;
    let changed = client.patch(&format!("{rules}/{first}"), &json!({"trigger_type": 3}));
    assert_eq!(form_error(&changed, "trigger_type"), "BASE_TYPE_CHOICES");
    client.get(&format!("{rules}/80351110224678912")).assert_error(404, 10066);
    // A timeout needs MODERATE_MEMBERS; everything needs MANAGE_GUILD.
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD));
    let timeout = mention(json!({"actions": [{"type": 3, "metadata": {"duration_seconds": 60}}]}));
    client.post(&rules, &timeout).assert_error(403, 50013);
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_CHANNELS));
    client.get(&rules).assert_error(403, 50013);
    client.get(&format!("{rules}/{first}")).assert_error(403, 50013);
    client.delete(&format!("{rules}/{first}")).assert_error(403, 50013);
    client.patch(&format!("{rules}/{first}"), &json!({"name": "x"})).assert_error(403, 50013);
    assert_eq!(sim.world(|w| w.automod_rules(f.guild)).len(), 7);
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

// ----- onboarding -----

#[test]
fn onboarding_round_trips_and_checks_what_it_names() {
    let (sim, client, f) = start();
    let path = format!("/guilds/{}/onboarding", f.guild);
    let empty = client.get(&path).json();
    assert_eq!(
        empty,
        json!({"guild_id": f.guild.to_string(), "prompts": [], "default_channel_ids": [], "enabled": false, "mode": 0})
    );
    let channels: Vec<u64> =
        sim.world(|w| (0..7).map(|i| w.add_channel(f.guild, 0, &format!("c{i}"), None, i + 1)).collect());
    let ids: Vec<String> = channels.iter().map(u64::to_string).collect();
    let body = json!({
        "enabled": true, "mode": 1, "default_channel_ids": ids,
        "prompts": [{
            "id": "1100000000000000001", "title": "Why are you here?", "type": 0, "single_select": true, "required": true,
            "in_onboarding": true,
            "options": [
                {"title": "Games", "description": "We play", "emoji_name": "🎮", "role_ids": [f.member_role.to_string()], "channel_ids": [ids[0]]},
                {"id": "1100000000000000002", "title": "Chat", "channel_ids": [f.text.to_string()]},
            ],
        }],
    });
    let put = client.request("PUT", &path, Some(&body), &[]);
    assert_eq!(put.status, 200, "{}", put.json());
    let got = client.get(&path).json();
    assert_eq!(put.json(), got);
    assert_eq!((got["enabled"].clone(), got["mode"].clone()), (json!(true), json!(1)));
    assert_eq!(got["prompts"][0]["id"], "1100000000000000001");
    assert_eq!(got["prompts"][0]["options"][0]["emoji"], json!({"id": null, "name": "🎮", "animated": false}));
    assert_eq!(got["prompts"][0]["options"][0]["role_ids"], json!([f.member_role.to_string()]));
    assert!(got["prompts"][0]["options"][0]["id"].as_str().is_some(), "options get ids");
    assert_eq!(got["prompts"][0]["options"][1]["id"], "1100000000000000002");
    assert!(sim.world(|w| w.audit_log(f.guild)).iter().any(|e| e.action == AuditAction::OnboardingUpdate));

    // What it names must exist; enabled onboarding must keep Discord's requirements.
    let mut bad_role = body.clone();
    bad_role["prompts"][0]["options"][0]["role_ids"] = json!(["80351110224678912"]);
    let refused = client.request("PUT", &path, Some(&bad_role), &[]);
    assert_eq!(form_error(&refused, "prompts.0.options.0.role_ids.0"), "ROLE_INVALID");
    let bad_channel = json!({"default_channel_ids": ["80351110224678912"]});
    assert_eq!(
        form_error(&client.request("PUT", &path, Some(&bad_channel), &[]), "default_channel_ids.0"),
        "CHANNEL_INVALID"
    );
    let too_few = json!({"default_channel_ids": [ids[0]], "mode": 0});
    client.request("PUT", &path, Some(&too_few), &[]).assert_error(400, 350001);
    let disabled = client.request("PUT", &path, Some(&json!({"enabled": false, "default_channel_ids": [ids[0]]})), &[]);
    assert_eq!(disabled.status, 200);
    client.request("PUT", &path, Some(&json!({"enabled": true})), &[]).assert_error(400, 350000);
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD));
    client.request("PUT", &path, Some(&json!({"enabled": false})), &[]).assert_error(403, 50013);
    assert_eq!(sim.world(|w| w.onboarding(f.guild)).map(|o| o.default_channel_ids), Some(vec![channels[0]]));
    assert_spec_clean(&sim);
}

// ----- emojis and stickers -----

#[test]
fn emojis_are_uploaded_served_edited_and_deleted() {
    let (sim, client, f) =
        start_with(|w, f| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD_EXPRESSIONS));
    let emojis = format!("/guilds/{}/emojis", f.guild);
    let created = client
        .post(&emojis, &json!({"name": "party_parrot", "image": png_uri(), "roles": [f.member_role.to_string()]}));
    assert_eq!(created.status, 201, "{}", created.json());
    let emoji = created.json();
    assert_eq!((emoji["animated"].clone(), emoji["roles"].clone()), (json!(false), json!([f.member_role.to_string()])));
    assert_eq!(emoji["user"]["id"], f.bot.user_id.to_string());
    let id = id_of(&emoji);
    let png = raw_get(&sim, &format!("/sim/cdn/emojis/{id}.png"));
    assert_eq!((png.status, png.body.as_slice()), (200, samples::PNG));
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/emojis/{id}.webp?size=96")).body, samples::PNG, "any extension");
    let animated =
        client.post(&emojis, &json!({"name": "dance", "image": data_uri("image/gif", samples::ANIMATED_GIF)}));
    assert_eq!((animated.status, animated.json()["animated"].clone()), (201, json!(true)));
    let gif = raw_get(&sim, &format!("/sim/cdn/emojis/{}.gif", id_of(&animated.json())));
    assert_eq!((gif.header("content-type"), gif.body.as_slice()), (Some("image/gif"), samples::ANIMATED_GIF));
    assert_eq!(client.get(&emojis).json().as_array().map(Vec::len), Some(2));
    assert_eq!(client.get(&format!("{emojis}/{id}")).json(), emoji);

    let renamed = client.patch(&format!("{emojis}/{id}"), &json!({"name": "parrot", "roles": []}));
    assert_eq!((renamed.json()["name"].clone(), renamed.json()["roles"].clone()), (json!("parrot"), json!([])));
    assert_eq!(client.delete(&format!("{emojis}/{id}")).status, 204);
    client.get(&format!("{emojis}/{id}")).assert_error(404, 10014);
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/emojis/{id}.png")).status, 404, "its file goes with it");
    let actions: Vec<AuditAction> = sim.world(|w| w.audit_log(f.guild)).iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::EmojiCreate, AuditAction::EmojiCreate, AuditAction::EmojiUpdate, AuditAction::EmojiDelete]
    );
    assert_spec_clean(&sim);
}

#[test]
fn emoji_uploads_are_validated_limited_and_permission_checked() {
    let (sim, client, f) = start_with(|w, f| {
        w.set_role_permissions(f.guild, f.moderator_role, CREATE_GUILD_EXPRESSIONS);
        for i in 0..EMOJI_SLOTS[0] {
            w.add_emoji(f.guild, &format!("full_{i}"), samples::ANIMATED_GIF);
        }
    });
    let emojis = format!("/guilds/{}/emojis", f.guild);
    let huge = data_uri("image/png", &vec![0u8; MAX_EMOJI_BYTES + 1]);
    let cases = [
        (json!({"name": "a-b", "image": png_uri()}), "name", "STRING_TYPE_REGEX"),
        (json!({"name": "a", "image": png_uri()}), "name", "BASE_TYPE_BAD_LENGTH"),
        (json!({"name": "ok", "image": "aGVsbG8="}), "image", "IMAGE_INVALID"),
        (json!({"name": "ok", "image": data_uri("image/png", b"not an image")}), "image", "IMAGE_INVALID"),
        (json!({"name": "ok", "image": huge}), "image", "BINARY_TYPE_MAX_SIZE"),
        (json!({"name": "ok"}), "image", "BASE_TYPE_REQUIRED"),
    ];
    for (body, field, code) in cases {
        assert_eq!(form_error(&client.post(&emojis, &body), field), code, "{field}");
    }
    // Animated slots are full at tier 0; static ones are not.
    let gif = json!({"name": "more", "image": data_uri("image/gif", samples::ANIMATED_GIF)});
    client.post(&emojis, &gif).assert_error(400, 30018);
    let mine = client.post(&emojis, &json!({"name": "mine", "image": png_uri()}));
    assert_eq!(mine.status, 201);
    // CREATE_GUILD_EXPRESSIONS edits one's own emojis only.
    assert_eq!(client.patch(&format!("{emojis}/{}", id_of(&mine.json())), &json!({"name": "mine2"})).status, 200);
    let theirs = sim.world(|w| w.emojis(f.guild))[0].id;
    client.patch(&format!("{emojis}/{theirs}"), &json!({"name": "nope"})).assert_error(403, 50013);
    client.delete(&format!("{emojis}/{theirs}")).assert_error(403, 50013);
    // Discord's default `@everyone` may create expressions: take that away too.
    sim.world(|w| {
        w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD);
        w.set_role_permissions(f.guild, f.guild, DEFAULT_EVERYONE & !CREATE_GUILD_EXPRESSIONS);
    });
    client.post(&emojis, &json!({"name": "x_x", "image": png_uri()})).assert_error(403, 50013);
    assert!(client.get(&emojis).json()[0].get("user").is_none(), "no uploader without expression permissions");
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn stickers_are_uploaded_as_forms_served_edited_and_deleted() {
    let (sim, client, f) =
        start_with(|w, f| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD_EXPRESSIONS));
    let stickers = format!("/guilds/{}/stickers", f.guild);
    let upload = |name: &str, file: &[u8], filename: &str, kind: &str| {
        multipart(
            &client,
            "POST",
            &stickers,
            &[("name", name), ("tags", "smile"), ("description", "A sticker")],
            &[("file", filename, kind, file)],
        )
    };
    let png = upload("Wave", samples::PNG, "wave.png", "image/png");
    assert_eq!(png.status, 201, "{}", String::from_utf8_lossy(&png.body));
    let sticker = png.json();
    assert_eq!((sticker["format_type"].clone(), sticker["type"].clone()), (json!(1), json!(2)));
    assert_eq!((sticker["tags"].clone(), sticker["description"].clone()), (json!("smile"), json!("A sticker")));
    let id = id_of(&sticker);
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/stickers/{id}.png")).body, samples::PNG);
    let gif = upload("Dance", samples::ANIMATED_GIF, "dance.gif", "image/gif");
    assert_eq!(gif.json()["format_type"], 4);
    let lottie = upload("Spin", samples::LOTTIE, "spin.json", "application/json");
    assert_eq!(form_error(&lottie, "file"), "LOTTIE_NOT_ALLOWED");
    sim.world(|w| w.set_guild_features(f.guild, &["PARTNERED"]));
    let lottie = upload("Spin", samples::LOTTIE, "spin.json", "application/json");
    assert_eq!(lottie.json()["format_type"], 3);
    let served = raw_get(&sim, &format!("/sim/cdn/stickers/{}.json", id_of(&lottie.json())));
    assert_eq!((served.header("content-type"), served.body.as_slice()), (Some("application/json"), samples::LOTTIE));
    assert_eq!(client.get(&stickers).json().as_array().map(Vec::len), Some(3));
    assert_eq!(client.get(&format!("{stickers}/{id}")).json(), sticker);

    let edited =
        client.patch(&format!("{stickers}/{id}"), &json!({"name": "Wave2", "tags": "hello", "description": null}));
    assert_eq!(edited.status, 200);
    assert_eq!((edited.json()["name"].clone(), edited.json()["description"].clone()), (json!("Wave2"), Value::Null));
    assert_eq!(client.delete(&format!("{stickers}/{id}")).status, 204);
    client.get(&format!("{stickers}/{id}")).assert_error(404, 10060);
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/stickers/{id}.png")).status, 404);
    assert_spec_clean(&sim);
}

#[test]
fn sticker_uploads_are_validated_limited_and_permission_checked() {
    let (sim, client, f) = start_with(|w, f| {
        w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD_EXPRESSIONS);
        w.set_guild_features(f.guild, &["VERIFIED"]);
    });
    let stickers = format!("/guilds/{}/stickers", f.guild);
    let post = |fields: &[(&str, &str)], file: Option<&[u8]>| {
        let files: Vec<(&str, &str, &str, &[u8])> =
            file.map(|b| ("file", "f.png", "image/png", b)).into_iter().collect();
        multipart(&client, "POST", &stickers, fields, &files)
    };
    let named = [("name", "Ok"), ("tags", "ok")];
    assert_eq!(form_error(&post(&[("tags", "ok")], Some(samples::PNG)), "name"), "BASE_TYPE_REQUIRED");
    assert_eq!(form_error(&post(&[("name", "Ok")], Some(samples::PNG)), "tags"), "BASE_TYPE_REQUIRED");
    assert_eq!(form_error(&post(&named, None), "file"), "BASE_TYPE_REQUIRED");
    assert_eq!(form_error(&post(&[("name", "O"), ("tags", "ok")], Some(samples::PNG)), "name"), "BASE_TYPE_BAD_LENGTH");
    let big = vec![0u8; 512 * 1024 + 1];
    assert_eq!(form_error(&post(&named, Some(&big)), "file"), "BINARY_TYPE_MAX_SIZE");
    post(&named, Some(b"GIF89a but not really")).assert_error(400, 50046);
    post(&named, Some(b"{\"not\": \"lottie\"}")).assert_error(400, 170001);
    let wide = br#"{"v":"5.7.4","fr":30,"ip":0,"op":30,"w":640,"h":640,"layers":[]}"#;
    post(&named, Some(wide)).assert_error(400, 170005);
    for i in 0..5 {
        assert_eq!(post(&[("name", &format!("S{i}")), ("tags", "x")], Some(samples::PNG)).status, 201);
    }
    post(&named, Some(samples::PNG)).assert_error(400, 30039);
    sim.world(|w| {
        w.set_role_permissions(f.guild, f.moderator_role, MANAGE_GUILD);
        w.set_role_permissions(f.guild, f.guild, DEFAULT_EVERYONE & !CREATE_GUILD_EXPRESSIONS);
    });
    post(&named, Some(samples::PNG)).assert_error(403, 50013);
    let first = sim.world(|w| w.stickers(f.guild))[0].id;
    client.patch(&format!("{stickers}/{first}"), &json!({"name": "Nope"})).assert_error(403, 50013);
    client.delete(&format!("{stickers}/{first}")).assert_error(403, 50013);
    assert_eq!(sim.world(|w| w.stickers(f.guild)).len(), 5);
    assert_spec_clean(&sim);
}

// ----- bans -----

#[test]
fn bans_page_like_discord_and_bulk_bans_report_each_user() {
    let (sim, client, f) = start_with(|w, f| {
        for i in 0..30 {
            let user = w.add_user(&format!("raider{i}"));
            w.add_ban(f.guild, user, Some("raid"));
        }
    });
    let bans = format!("/guilds/{}/bans", f.guild);
    let all: Vec<u64> = client.get(&bans).json().as_array().expect("bans").iter().map(|b| id_of(&b["user"])).collect();
    assert_eq!(all.len(), 30);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "by user id");
    let page = |query: &str| -> Vec<u64> {
        client
            .get(&format!("{bans}?{query}"))
            .json()
            .as_array()
            .expect("bans")
            .iter()
            .map(|b| id_of(&b["user"]))
            .collect()
    };
    assert_eq!(page("limit=10"), all[..10]);
    assert_eq!(page(&format!("limit=10&after={}", all[9])), all[10..20]);
    assert_eq!(page(&format!("limit=5&before={}", all[20])), all[15..20]);
    assert_eq!(page(&format!("after={}&before={}", all[3], all[7])), all[4..7]);
    assert_eq!(page(&format!("after={}&before={}", all[7], all[3])), Vec::<u64>::new());
    assert_eq!(form_error(&client.get(&format!("{bans}?limit=1001")), "limit"), "NUMBER_TYPE_MAX");

    let bulk = format!("/guilds/{}/bulk-ban", f.guild);
    let body = json!({"user_ids": [f.member.to_string(), f.outsider.to_string(), f.owner.to_string(), f.senior.to_string(),
        all[0].to_string(), "80351110224678912"], "delete_message_seconds": 3600});
    let banned = client.request("POST", &bulk, Some(&body), &[("X-Audit-Log-Reason", "cleanup")]);
    assert_eq!(banned.status, 200, "{}", banned.json());
    assert_eq!(banned.json()["banned_users"], json!([f.member.to_string(), f.outsider.to_string()]));
    assert_eq!(
        banned.json()["failed_users"],
        json!([f.owner.to_string(), f.senior.to_string(), all[0].to_string(), "80351110224678912"])
    );
    assert!(sim.world(|w| w.is_banned(f.guild, f.member) && w.member(f.guild, f.member).is_none()));
    assert_eq!(sim.world(|w| w.ban_reason(f.guild, f.outsider)), Some("cleanup".to_owned()));
    client.post(&bulk, &json!({"user_ids": [f.owner.to_string()]})).assert_error(400, 500000);
    let too_many: Vec<String> = (0..201).map(|i| (80_351_110_224_678_912_u64 + i).to_string()).collect();
    assert_eq!(form_error(&client.post(&bulk, &json!({"user_ids": too_many})), "user_ids"), "BASE_TYPE_MAX_LENGTH");
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, BAN_MEMBERS));
    client.post(&bulk, &json!({"user_ids": [f.peer.to_string()]})).assert_error(403, 50013);
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

// ----- roles -----

#[test]
fn every_role_field_round_trips() {
    let (sim, client, f) = start_with(|w, f| w.set_guild_features(f.guild, &["ROLE_ICONS", "ENHANCED_ROLE_COLORS"]));
    let roles = format!("/guilds/{}/roles", f.guild);
    let body = json!({
        "name": "Holo", "permissions": (SEND_MESSAGES | VIEW_CHANNEL).to_string(), "color": 0x11_2233,
        "colors": {"primary_color": 0xff_0000, "secondary_color": 0x00_ff00, "tertiary_color": 0x00_00ff},
        "hoist": true, "mentionable": true, "icon": png_uri(), "unicode_emoji": null,
    });
    let created = client.post(&roles, &body);
    assert_eq!(created.status, 200, "{}", created.json());
    let role = created.json();
    assert_eq!(role["color"], 0xff_0000, "the primary colour wins");
    assert_eq!(
        role["colors"],
        json!({"primary_color": 0xff_0000, "secondary_color": 0x00_ff00, "tertiary_color": 0x00_00ff})
    );
    assert_eq!((role["hoist"].clone(), role["mentionable"].clone()), (json!(true), json!(true)));
    assert_eq!(role["permissions"], (SEND_MESSAGES | VIEW_CHANNEL).to_string());
    let id = id_of(&role);
    let icon = role["icon"].as_str().expect("an icon hash");
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/role-icons/{id}/{icon}.png")).body, samples::PNG);
    assert_eq!(client.get(&format!("{roles}/{id}")).json(), role);

    let edited = client.patch(&format!("{roles}/{id}"), &json!({"icon": null, "unicode_emoji": "🔥", "colors": {"primary_color": 0x12_3456, "secondary_color": null}, "hoist": false}));
    assert_eq!(edited.status, 200);
    let edited = edited.json();
    assert_eq!((edited["icon"].clone(), edited["unicode_emoji"].clone()), (Value::Null, json!("🔥")));
    assert_eq!(edited["colors"], json!({"primary_color": 0x12_3456, "secondary_color": null, "tertiary_color": null}));
    assert_eq!(raw_get(&sim, &format!("/sim/cdn/role-icons/{id}/{icon}.png")).status, 404);
    let moved = client.patch(&roles, &json!([{"id": id.to_string(), "position": 3}]));
    assert_eq!(moved.status, 200);
    assert_eq!(client.get(&format!("{roles}/{id}")).json()["position"], 3);
    let listed = client.get(&roles).json();
    let found = listed.as_array().expect("roles").iter().find(|r| id_of(r) == id).expect("the role").clone();
    assert_eq!(found, client.get(&format!("{roles}/{id}")).json());

    assert_eq!(form_error(&client.post(&roles, &json!({"icon": "nope"})), "icon"), "IMAGE_INVALID");
    sim.world(|w| w.set_guild_features(f.guild, &[]));
    client.post(&roles, &json!({"unicode_emoji": "🔥"})).assert_error(400, 50101);
    let violations: Vec<String> = sim.spec_violations().into_iter().filter(|v| !v.contains("[request]")).collect();
    assert!(violations.is_empty(), "{violations:#?}");
}

// ----- gateway -----

type Socket = tokio_websockets::WebSocketStream<tokio_websockets::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON payload from the gateway.
async fn next(ws: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("a frame");
        if let Some(text) = message.as_text() {
            return serde_json::from_str(text).expect("JSON");
        }
    }
}

#[tokio::test]
async fn backup_and_restore_changes_are_dispatched() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, common::MODERATOR | MANAGE_GUILD_EXPRESSIONS));
    sim.clear_rate_limit("POST", CHANNELS);
    let url = format!("{}/?v=10&encoding=json", sim.gateway_url());
    let (mut ws, _) =
        tokio_websockets::ClientBuilder::new().uri(&url).expect("a URL").connect().await.expect("connect");
    assert_eq!(next(&mut ws).await["op"], 10);
    let wanted = intents::GUILDS | intents::GUILD_EXPRESSIONS | intents::AUTO_MODERATION_CONFIGURATION;
    let identify = json!({"op": 2, "d": {"token": f.bot.token, "intents": wanted, "properties": {"os": "linux", "browser": "t", "device": "t"}}});
    ws.send(tokio_websockets::Message::text(identify.to_string())).await.expect("identify");
    assert_eq!(next(&mut ws).await["t"], "READY");
    assert_eq!(next(&mut ws).await["t"], "GUILD_CREATE");

    let client = Client::new(&sim, &f.bot.token);
    let requests: Vec<(&str, String, Value)> = vec![
        ("PATCH", format!("/guilds/{}", f.guild), json!({"name": "Restored"})),
        ("POST", format!("/guilds/{}/channels", f.guild), json!({"name": "made"})),
        (
            "POST",
            format!("/guilds/{}/auto-moderation/rules", f.guild),
            json!({"name": "r", "event_type": 1, "trigger_type": 3, "actions": [{"type": 1}]}),
        ),
        ("POST", format!("/guilds/{}/emojis", f.guild), json!({"name": "e_e", "image": png_uri()})),
    ];
    for (method, path, body) in &requests {
        let answer = client.request(method, path, Some(body), &[]);
        assert!(answer.status < 300, "{method} {path}: {}", answer.json());
    }
    let rule = sim.world(|w| w.automod_rules(f.guild))[0].id;
    assert_eq!(client.delete(&format!("/guilds/{}/auto-moderation/rules/{rule}", f.guild)).status, 204);
    let sticker = multipart(
        &client,
        "POST",
        &format!("/guilds/{}/stickers", f.guild),
        &[("name", "Hi"), ("tags", "hi")],
        &[("file", "s.png", "image/png", samples::PNG)],
    );
    assert_eq!(sticker.status, 201);
    let channel = sim.world(|w| w.channels(f.guild)).into_iter().find(|c| c.name == "made").expect("made").id;
    assert_eq!(client.delete(&format!("/channels/{channel}")).status, 200);
    let mut seen = Vec::new();
    for _ in 0..7 {
        let event = next(&mut ws).await;
        seen.push(event["t"].as_str().unwrap_or_default().to_owned());
        if event["t"] == "GUILD_EMOJIS_UPDATE" {
            assert_eq!(event["d"]["emojis"][0]["name"], "e_e");
        }
    }
    assert_eq!(
        seen,
        [
            "GUILD_UPDATE",
            "CHANNEL_CREATE",
            "AUTO_MODERATION_RULE_CREATE",
            "GUILD_EMOJIS_UPDATE",
            "AUTO_MODERATION_RULE_DELETE",
            "GUILD_STICKERS_UPDATE",
            "CHANNEL_DELETE",
        ]
    );
    drop(ws);
    assert_spec_clean(&sim);
}

// ----- the realistic guild -----

#[test]
fn the_realistic_guild_is_built_fast_and_reads_back_whole() {
    let started = Instant::now();
    let (world, demo) = World::demo_large();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "built in {took:?}");
    let g = demo.guild.guild;
    assert_eq!((demo.guild.roles.len(), demo.guild.channels.len(), demo.guild.categories.len()), (249, 500, 20));
    assert_eq!(
        (demo.guild.automod_rules.len(), demo.guild.emojis.len(), demo.guild.stickers.len(), demo.guild.banned.len()),
        (10, 20, 5, 50)
    );
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &demo.bot.token);

    // What a backup reads.
    let guild = client.get(&format!("/guilds/{g}")).json();
    assert_eq!(guild["roles"].as_array().map(Vec::len), Some(250));
    assert_eq!(
        (guild["emojis"].as_array().map(Vec::len), guild["stickers"].as_array().map(Vec::len)),
        (Some(20), Some(5))
    );
    assert_eq!(guild["rules_channel_id"], demo.guild.rules_channel.to_string());
    assert_eq!(guild["afk_channel_id"], demo.guild.afk_channel.to_string());
    let roles = client.get(&format!("/guilds/{g}/roles")).json();
    let roles = roles.as_array().expect("roles");
    assert_eq!(roles.len(), 250);
    assert!(roles.iter().any(|r| !r["colors"]["secondary_color"].is_null()), "gradients");
    assert!(roles.iter().any(|r| r["icon"].is_string()) && roles.iter().any(|r| r["unicode_emoji"].is_string()));
    let channels = client.get(&format!("/guilds/{g}/channels")).json();
    let channels = channels.as_array().expect("channels");
    assert_eq!(channels.len(), 500);
    for kind in [0, 2, 4, 5, 13, 15, 16] {
        assert!(channels.iter().filter(|c| c["type"] == kind).count() >= 20, "type {kind}");
    }
    assert!(channels.iter().all(|c| c["type"] == 4 || c["parent_id"].is_string()), "every channel in a category");
    assert!(channels.iter().all(|c| c["permission_overwrites"].as_array().is_some_and(|o| !o.is_empty())));
    for channel in channels {
        let targets: Vec<&Value> =
            channel["permission_overwrites"].as_array().into_iter().flatten().map(|o| &o["id"]).collect();
        assert!(
            targets.iter().enumerate().all(|(i, t)| !targets[..i].contains(t)),
            "one overwrite per target: {channel}"
        );
    }
    assert!(
        channels
            .iter()
            .filter(|c| c["type"] == 15)
            .all(|c| c["available_tags"].as_array().is_some_and(|t| t.len() == 4))
    );
    let rules = client.get(&format!("/guilds/{g}/auto-moderation/rules")).json();
    let triggers: Vec<u64> =
        rules.as_array().expect("rules").iter().filter_map(|r| r["trigger_type"].as_u64()).collect();
    assert_eq!(triggers, [1, 1, 1, 1, 1, 1, 3, 4, 5, 6]);
    let onboarding = client.get(&format!("/guilds/{g}/onboarding")).json();
    assert_eq!((onboarding["enabled"].clone(), onboarding["prompts"].as_array().map(Vec::len)), (json!(true), Some(3)));
    assert_eq!(client.get(&format!("/guilds/{g}/emojis")).json().as_array().map(Vec::len), Some(20));
    assert_eq!(client.get(&format!("/guilds/{g}/stickers")).json().as_array().map(Vec::len), Some(5));
    let bans = client.get(&format!("/guilds/{g}/bans?limit=1000")).json();
    assert_eq!(bans.as_array().map(Vec::len), Some(50));
    let emoji = demo.guild.emojis[19];
    let gif = raw_get(&sim, &format!("/sim/cdn/emojis/{emoji}.gif"));
    assert_eq!((gif.status, gif.body.as_slice()), (200, samples::ANIMATED_GIF));

    // It sits at Discord's caps.
    client.post(&format!("/guilds/{g}/roles"), &json!({"name": "one too many"})).assert_error(400, 30005);
    client.post(&format!("/guilds/{g}/channels"), &json!({"name": "one too many"})).assert_error(400, 30013);
    let keyword = json!({"name": "k", "event_type": 1, "trigger_type": 1, "actions": [{"type": 1}]});
    let refused = client.post(&format!("/guilds/{g}/auto-moderation/rules"), &keyword);
    assert_eq!(form_error(&refused, ""), "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED");
    assert_spec_clean(&sim);
}

/// What Garrison's Discord client (twilight) reads must be what the simulator sends: every object of
/// the realistic guild deserializes into twilight's models.
#[test]
fn twilight_reads_every_object_of_the_realistic_guild() {
    use twilight_model::channel::Channel;
    use twilight_model::channel::message::sticker::Sticker;
    use twilight_model::guild::auto_moderation::AutoModerationRule;
    use twilight_model::guild::onboarding::Onboarding;
    use twilight_model::guild::{Ban, Emoji, Guild, Role};

    fn read<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> T {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("twilight cannot read {what}: {e}"))
    }
    let (world, demo) = World::demo_large();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &demo.bot.token);
    let g = demo.guild.guild;
    let guild: Guild = read("the guild", client.get(&format!("/guilds/{g}")).json());
    assert_eq!((guild.roles.len(), guild.emojis.len(), guild.stickers.len()), (250, 20, 5));
    assert_eq!(guild.afk_channel_id.map(|id| id.get()), Some(demo.guild.afk_channel));
    let channels: Vec<Channel> = read("channels", client.get(&format!("/guilds/{g}/channels")).json());
    assert_eq!(channels.len(), 500);
    assert!(channels.iter().any(|c| c.available_tags.as_ref().is_some_and(|t| t.len() == 4)));
    let roles: Vec<Role> = read("roles", client.get(&format!("/guilds/{g}/roles")).json());
    assert_eq!(roles.len(), 250);
    let emojis: Vec<Emoji> = read("emojis", client.get(&format!("/guilds/{g}/emojis")).json());
    assert_eq!(emojis.iter().filter(|e| e.animated).count(), 5);
    let stickers: Vec<Sticker> = read("stickers", client.get(&format!("/guilds/{g}/stickers")).json());
    assert_eq!(stickers.len(), 5);
    let rules: Vec<AutoModerationRule> =
        read("AutoMod rules", client.get(&format!("/guilds/{g}/auto-moderation/rules")).json());
    assert_eq!(rules.len(), 10);
    let onboarding: Onboarding = read("onboarding", client.get(&format!("/guilds/{g}/onboarding")).json());
    assert_eq!(onboarding.prompts.len(), 3);
    let bans: Vec<Ban> = read("bans", client.get(&format!("/guilds/{g}/bans")).json());
    assert_eq!(bans.len(), 50);
    assert_spec_clean(&sim);
}

/// A snowflake value mapped from the backup's ids to the restored ones (others unchanged).
fn remap(ids: &std::collections::HashMap<String, String>, value: &Value) -> Value {
    value.as_str().and_then(|id| ids.get(id)).map_or_else(|| value.clone(), |new| json!(new))
}

/// A whole backup of the realistic guild, read over REST and the CDN, restores into an empty guild
/// over REST: what the routes answer is what they take back.
#[test]
fn a_backup_of_the_realistic_guild_restores_into_an_empty_one() {
    let (mut world, demo) = World::demo_large();
    let source = demo.guild.guild;
    let target = world.add_guild("Restored", demo.guild.owner);
    world.set_guild_features(target, &["COMMUNITY", "NEWS", "ROLE_ICONS", "ENHANCED_ROLE_COLORS"]);
    world.set_premium_tier(target, 2);
    let bot_role = world.add_role(target, "Garrison", ADMINISTRATOR, 1);
    world.set_bot_role(target, bot_role, demo.bot.user_id);
    world.add_member(target, demo.bot.user_id, &[bot_role]);
    let sim = Simulator::start(world);
    sim.clear_rate_limit("POST", CHANNELS);
    let client = Client::new(&sim, &demo.bot.token);
    let ok = |response: Response, what: &str| -> Value {
        assert!(response.status < 300, "{what}: {} {}", response.status, String::from_utf8_lossy(&response.body));
        response.json()
    };
    let list = |path: String| -> Vec<Value> { ok(client.get(&path), &path).as_array().cloned().unwrap_or_default() };
    let download = |path: String| -> (String, Vec<u8>) {
        let file = raw_get(&sim, &path);
        assert_eq!(file.status, 200, "{path}");
        (file.header("content-type").unwrap_or_default().to_owned(), file.body)
    };

    // The backup.
    let guild = ok(client.get(&format!("/guilds/{source}")), "guild");
    let roles = list(format!("/guilds/{source}/roles"));
    let channels = list(format!("/guilds/{source}/channels"));
    let rules = list(format!("/guilds/{source}/auto-moderation/rules"));
    let onboarding = ok(client.get(&format!("/guilds/{source}/onboarding")), "onboarding");
    let emojis: Vec<(Value, (String, Vec<u8>))> = list(format!("/guilds/{source}/emojis"))
        .into_iter()
        .map(|e| {
            let file = download(format!("/sim/cdn/emojis/{}.png", id_of(&e)));
            (e, file)
        })
        .collect();
    let stickers: Vec<(Value, (String, Vec<u8>))> = list(format!("/guilds/{source}/stickers"))
        .into_iter()
        .map(|s| {
            let file = download(format!("/sim/cdn/stickers/{}.png", id_of(&s)));
            (s, file)
        })
        .collect();
    let bans = list(format!("/guilds/{source}/bans?limit=1000"));

    // The restore: roles (lowest first), then their positions.
    let mut ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    ids.insert(source.to_string(), target.to_string());
    for role in roles.iter().filter(|r| r["managed"] == false && id_of(r) != source) {
        let mut body = json!({
            "name": role["name"], "permissions": role["permissions"], "colors": role["colors"], "hoist": role["hoist"],
            "mentionable": role["mentionable"], "unicode_emoji": role["unicode_emoji"],
        });
        if let Some(icon) = role["icon"].as_str() {
            let (mime, bytes) = download(format!("/sim/cdn/role-icons/{}/{icon}.png", id_of(role)));
            body["icon"] = json!(data_uri(&mime, &bytes));
        }
        let made = ok(client.post(&format!("/guilds/{target}/roles"), &body), "a role");
        ids.insert(
            role["id"].as_str().unwrap_or_default().to_owned(),
            made["id"].as_str().unwrap_or_default().to_owned(),
        );
    }
    let everyone = roles.iter().find(|r| id_of(r) == source).expect("@everyone");
    ok(
        client.patch(&format!("/guilds/{target}/roles/{target}"), &json!({"permissions": everyone["permissions"]})),
        "@everyone",
    );
    let target_id = target.to_string();
    let positions: Vec<Value> = roles
        .iter()
        .filter_map(|r| Some(json!({"id": ids.get(r["id"].as_str()?)?, "position": r["position"]})))
        .filter(|p| p["id"].as_str() != Some(target_id.as_str()))
        .collect();
    ok(client.patch(&format!("/guilds/{target}/roles"), &json!(positions)), "positions");

    // Channels: categories, then what is in them.
    for pass in [true, false] {
        for channel in channels.iter().filter(|c| (c["type"] == 4) == pass) {
            let mut body = channel.clone();
            let object = body.as_object_mut().expect("an object");
            for field in ["id", "guild_id", "last_message_id", "flags"] {
                object.remove(field);
            }
            if let Some(Value::Array(tags)) = object.get_mut("available_tags") {
                for tag in tags.iter_mut().filter_map(Value::as_object_mut) {
                    tag.remove("id");
                }
            }
            object.insert("parent_id".into(), remap(&ids, &channel["parent_id"]));
            let overwrites: Vec<Value> = channel["permission_overwrites"]
                .as_array()
                .into_iter()
                .flatten()
                .map(
                    |o| json!({"id": remap(&ids, &o["id"]), "type": o["type"], "allow": o["allow"], "deny": o["deny"]}),
                )
                .collect();
            object.insert("permission_overwrites".into(), json!(overwrites));
            if channel["flags"] != 0 {
                object.insert("flags".into(), channel["flags"].clone());
            }
            let made = ok(client.post(&format!("/guilds/{target}/channels"), &body), "a channel");
            ids.insert(
                channel["id"].as_str().unwrap_or_default().to_owned(),
                made["id"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    let mut settings = json!({});
    for field in [
        "description",
        "verification_level",
        "default_message_notifications",
        "explicit_content_filter",
        "afk_timeout",
        "system_channel_flags",
        "preferred_locale",
        "premium_progress_bar_enabled",
    ] {
        settings[field] = guild[field].clone();
    }
    for field in [
        "afk_channel_id",
        "system_channel_id",
        "rules_channel_id",
        "public_updates_channel_id",
        "safety_alerts_channel_id",
    ] {
        settings[field] = remap(&ids, &guild[field]);
    }
    let icon = guild["icon"].as_str().expect("an icon");
    let (mime, bytes) = download(format!("/sim/cdn/icons/{source}/{icon}.png"));
    settings["icon"] = json!(data_uri(&mime, &bytes));
    ok(client.patch(&format!("/guilds/{target}"), &settings), "settings");

    // AutoMod, onboarding, expressions, bans.
    for rule in &rules {
        let mut body = rule.clone();
        let object = body.as_object_mut().expect("an object");
        for field in ["id", "guild_id", "creator_id"] {
            object.remove(field);
        }
        for list in ["exempt_roles", "exempt_channels"] {
            let remapped: Vec<Value> = rule[list].as_array().into_iter().flatten().map(|v| remap(&ids, v)).collect();
            object.insert(list.into(), json!(remapped));
        }
        if let Some(Value::Array(actions)) = object.get_mut("actions") {
            for action in actions.iter_mut() {
                if action["metadata"]["channel_id"].is_string() {
                    action["metadata"]["channel_id"] = remap(&ids, &action["metadata"]["channel_id"]);
                }
            }
        }
        ok(client.post(&format!("/guilds/{target}/auto-moderation/rules"), &body), "a rule");
    }
    let mut restored = onboarding.clone();
    let object = restored.as_object_mut().expect("an object");
    object.remove("guild_id");
    let defaults: Vec<Value> =
        onboarding["default_channel_ids"].as_array().into_iter().flatten().map(|v| remap(&ids, v)).collect();
    object.insert("default_channel_ids".into(), json!(defaults));
    for prompt in object.get_mut("prompts").and_then(Value::as_array_mut).into_iter().flatten() {
        for option in prompt["options"].as_array_mut().into_iter().flatten() {
            let emoji = option["emoji"].clone();
            let option = option.as_object_mut().expect("an option");
            option.remove("emoji");
            option.insert("emoji_name".into(), emoji["name"].clone());
            for list in ["role_ids", "channel_ids"] {
                let remapped: Vec<Value> =
                    option[list].as_array().into_iter().flatten().map(|v| remap(&ids, v)).collect();
                option.insert(list.into(), json!(remapped));
            }
        }
    }
    ok(client.request("PUT", &format!("/guilds/{target}/onboarding"), Some(&restored), &[]), "onboarding");
    for (emoji, (mime, bytes)) in &emojis {
        let roles: Vec<Value> = emoji["roles"].as_array().into_iter().flatten().map(|v| remap(&ids, v)).collect();
        let body = json!({"name": emoji["name"], "image": data_uri(mime, bytes), "roles": roles});
        ok(client.post(&format!("/guilds/{target}/emojis"), &body), "an emoji");
    }
    for (sticker, (mime, bytes)) in &stickers {
        let fields = [
            ("name", sticker["name"].as_str().unwrap_or_default()),
            ("tags", sticker["tags"].as_str().unwrap_or_default()),
            ("description", sticker["description"].as_str().unwrap_or_default()),
        ];
        let made = multipart(
            &client,
            "POST",
            &format!("/guilds/{target}/stickers"),
            &fields,
            &[("file", "sticker", mime, bytes)],
        );
        assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    }
    let banned: Vec<Value> = bans.iter().map(|b| b["user"]["id"].clone()).collect();
    let outcome = ok(client.post(&format!("/guilds/{target}/bulk-ban"), &json!({"user_ids": banned})), "bans");
    assert_eq!(outcome["failed_users"], json!([]));

    // The restored guild reads back as the original.
    let restored_guild = ok(client.get(&format!("/guilds/{target}")), "restored guild");
    for field in ["verification_level", "afk_timeout", "preferred_locale", "description", "explicit_content_filter"] {
        assert_eq!(restored_guild[field], guild[field], "{field}");
    }
    assert_eq!(restored_guild["rules_channel_id"], remap(&ids, &guild["rules_channel_id"]));
    assert_eq!(list(format!("/guilds/{target}/roles")).len(), 250);
    let restored_channels = list(format!("/guilds/{target}/channels"));
    assert_eq!(restored_channels.len(), 500);
    let shape = |c: &Value| {
        (c["name"].clone(), c["type"].clone(), c["topic"].clone(), c["permission_overwrites"].as_array().map(Vec::len))
    };
    let mut before: Vec<_> = channels.iter().map(shape).collect();
    let mut after: Vec<_> = restored_channels.iter().map(shape).collect();
    before.sort_by_key(|s| format!("{s:?}"));
    after.sort_by_key(|s| format!("{s:?}"));
    let missing: Vec<_> = before.iter().filter(|s| !after.contains(s)).collect();
    let extra: Vec<_> = after.iter().filter(|s| !before.contains(s)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, extra {extra:?}");
    assert_eq!(list(format!("/guilds/{target}/auto-moderation/rules")).len(), 10);
    let restored_onboarding = ok(client.get(&format!("/guilds/{target}/onboarding")), "onboarding");
    assert_eq!(
        (restored_onboarding["enabled"].clone(), restored_onboarding["prompts"].as_array().map(Vec::len)),
        (json!(true), Some(3))
    );
    assert_eq!(list(format!("/guilds/{target}/emojis")).len(), 20);
    assert_eq!(list(format!("/guilds/{target}/stickers")).len(), 5);
    assert_eq!(list(format!("/guilds/{target}/bans")).len(), 50);
    assert_spec_clean(&sim);
}
