//! Channels, overwrites, messages, invites, guild reads and interaction responses.

mod common;

use common::{Client, assert_spec_clean, send, start};
use garrison_discord_sim::permissions::*;
use garrison_discord_sim::{AuditAction, Simulator, World};
use serde_json::{Value, json};

fn ids(response: &common::Response) -> Vec<u64> {
    response
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| m["id"].as_str().and_then(|s| s.parse().ok()).expect("an id"))
        .collect()
}

#[test]
fn messages_page_newest_first() {
    let (sim, client, f) = start();
    let sent: Vec<u64> =
        sim.world(|w| (0..120).map(|i| w.add_message(f.text, f.member, &format!("message {i}"))).collect());
    let newest_first: Vec<u64> = sent.iter().rev().copied().collect();
    let path = format!("/channels/{}/messages", f.text);

    let default = client.get(&path);
    assert_eq!(ids(&default), newest_first[..50], "50 by default, newest first");
    let before = client.get(&format!("{path}?limit=10&before={}", sent[50]));
    assert_eq!(ids(&before), newest_first[70..80]);
    let after = client.get(&format!("{path}?limit=5&after={}", sent[10]));
    assert_eq!(ids(&after), [sent[15], sent[14], sent[13], sent[12], sent[11]]);
    let around = client.get(&format!("{path}?limit=4&around={}", sent[60]));
    assert_eq!(ids(&around), [sent[61], sent[60], sent[59], sent[58]]);
    client.get(&format!("{path}?limit=101")).assert_error(400, 50035);

    let one = client.get(&format!("{path}/{}", sent[3]));
    let body = one.json();
    assert_eq!(body["content"], "message 3");
    assert_eq!(body["author"]["id"], f.member.to_string());
    assert_eq!(body["type"], 0);
    assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with("+00:00")));
    assert_eq!(body["edited_timestamp"], Value::Null);
    assert_spec_clean(&sim);
}

#[test]
fn posting_and_editing_messages() {
    let (sim, client, f) = start();
    let path = format!("/channels/{}/messages", f.text);
    let posted = client.post(
        &path,
        &json!({
            "content": format!("hello <@{}>", f.member),
            "embeds": [{"title": "Level up", "description": "Now level 5", "color": 3447003, "fields": [{"name": "XP", "value": "500"}]}],
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Claim", "custom_id": "claim"}]}]
        }),
    );
    assert_eq!(posted.status, 200, "{}", posted.json());
    let body = posted.json();
    assert_eq!(body["author"]["id"], f.bot.user_id.to_string());
    assert_eq!(body["embeds"][0]["type"], "rich");
    assert_eq!(body["embeds"][0]["fields"][0]["inline"], false);
    assert_eq!(body["components"][0]["components"][0]["custom_id"], "claim");
    assert_eq!(body["mentions"][0]["id"], f.member.to_string());
    let id = body["id"].as_str().expect("an id").to_owned();

    let edited = client.patch(&format!("{path}/{id}"), &json!({"content": "edited", "embeds": []}));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["content"], "edited");
    assert!(edited.json()["edited_timestamp"].is_string());
    assert_eq!(sim.world(|w| w.message(id.parse().expect("an id")).map(|m| m.content)), Some("edited".to_owned()));

    let theirs = sim.world(|w| w.add_message(f.text, f.member, "mine"));
    client.patch(&format!("{path}/{theirs}"), &json!({"content": "hijack"})).assert_error(403, 50005);
    assert_eq!(client.patch(&format!("{path}/{theirs}"), &json!({"flags": 4})).json()["flags"], 4);

    client.post(&path, &json!({"content": ""})).assert_error(400, 50006);
    let long = client.post(&path, &json!({"content": "x".repeat(2001)}));
    long.assert_error(400, 50035);
    assert_eq!(long.json()["errors"]["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
    let category = sim.world(|w| w.add_channel(f.guild, 4, "cat", None, 9));
    client.post(&format!("/channels/{category}/messages"), &json!({"content": "x"})).assert_error(400, 50008);

    let reply =
        client.post(&path, &json!({"content": "reply", "message_reference": {"message_id": theirs.to_string()}}));
    assert_eq!(reply.json()["type"], 19);
    assert_eq!(reply.json()["message_reference"]["message_id"], theirs.to_string());
    assert_spec_clean(&sim);
}

#[test]
fn channel_overwrites_decide_permissions() {
    let (sim, client, f) = start();
    let path = format!("/channels/{}/messages", f.text);
    let hello = json!({"content": "hello"});

    // @everyone loses SEND_MESSAGES in the channel; the bot's role gets it back; the bot's own
    // member overwrite takes it away again.
    sim.world(|w| w.add_overwrite(f.text, f.guild, 0, 0, SEND_MESSAGES));
    client.post(&path, &hello).assert_error(403, 50013);
    sim.world(|w| w.add_overwrite(f.text, f.moderator_role, 0, SEND_MESSAGES, 0));
    assert_eq!(client.post(&path, &hello).status, 200);
    sim.world(|w| w.add_overwrite(f.text, f.bot.user_id, 1, 0, SEND_MESSAGES | EMBED_LINKS));
    client.post(&path, &hello).assert_error(403, 50013);
    sim.world(|w| w.add_overwrite(f.text, f.bot.user_id, 1, SEND_MESSAGES, EMBED_LINKS));
    assert_eq!(client.post(&path, &hello).status, 200);
    client.post(&path, &json!({"embeds": [{"title": "no embeds"}]})).assert_error(403, 50013);

    // Without READ_MESSAGE_HISTORY the list is empty and single messages are refused.
    let id = sim.world(|w| {
        w.add_overwrite(f.text, f.bot.user_id, 1, SEND_MESSAGES, READ_MESSAGE_HISTORY);
        w.add_message(f.text, f.member, "history")
    });
    assert_eq!(client.get(&path).json(), json!([]));
    client.get(&format!("{path}/{id}")).assert_error(403, 50013);

    // Without VIEW_CHANNEL the channel is out of reach.
    sim.world(|w| w.add_overwrite(f.text, f.bot.user_id, 1, 0, VIEW_CHANNEL));
    client.get(&format!("/channels/{}", f.text)).assert_error(403, 50001);
    client.post(&path, &hello).assert_error(403, 50001);
    assert_eq!(sim.world(|w| w.channel_permissions(f.text, f.bot.user_id)), 0);
    assert_spec_clean(&sim);
}

#[test]
fn channel_edits_and_positions() {
    let (sim, client, f) = start();
    let (category, voice) = sim.world(|w| {
        let category = w.add_channel(f.guild, 4, "Staff", None, 1);
        let voice = w.add_channel(f.guild, 2, "Lounge", None, 2);
        w.add_overwrite(category, f.guild, 0, 0, VIEW_CHANNEL);
        (category, voice)
    });
    let edited = client.request(
        "PATCH",
        &format!("/channels/{}", f.text),
        Some(&json!({"name": "chat", "topic": "talk here", "nsfw": true, "rate_limit_per_user": 5})),
        &[("X-Audit-Log-Reason", "tidy")],
    );
    assert_eq!(edited.status, 200);
    assert_eq!((edited.json()["name"].clone(), edited.json()["topic"].clone()), (json!("chat"), json!("talk here")));
    client.patch(&format!("/channels/{}", f.text), &json!({"name": ""})).assert_error(400, 50035);
    client.patch(&format!("/channels/{}", f.text), &json!({"parent_id": voice.to_string()})).assert_error(400, 50035);
    let too_strong = json!({"permission_overwrites": [{"id": f.guild.to_string(), "type": 0, "allow": ADMINISTRATOR.to_string(), "deny": "0"}]});
    client.patch(&format!("/channels/{}", f.text), &too_strong).assert_error(403, 50013);

    let moved = client.patch(
        &format!("/guilds/{}/channels", f.guild),
        &json!([
            {"id": f.text.to_string(), "position": 3, "parent_id": category.to_string(), "lock_permissions": true},
            {"id": voice.to_string(), "position": 0}
        ]),
    );
    assert_eq!(moved.status, 204);
    sim.world(|w| {
        let text = w.channel(f.text).expect("the channel");
        assert_eq!((text.position, text.parent_id), (3, Some(category)));
        assert_eq!(text.overwrites, w.channel(category).expect("the category").overwrites, "permissions synced");
        assert_eq!(w.channel(voice).map(|c| c.position), Some(0));
        assert_eq!(w.audit_log(f.guild).first().and_then(|e| e.reason.clone()).as_deref(), Some("tidy"));
        assert!(w.audit_log(f.guild).iter().all(|e| e.action == AuditAction::ChannelUpdate));
    });
    let listed = client.get(&format!("/guilds/{}/channels", f.guild));
    let order: Vec<String> = listed
        .json()
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(order, ["Lounge", "Staff", "chat"]);
    client
        .patch(
            &format!("/guilds/{}/channels", f.guild),
            &json!([{"id": voice.to_string(), "parent_id": f.text.to_string()}]),
        )
        .assert_error(400, 50035);
    assert_spec_clean(&sim);
}

#[test]
fn guilds_and_invites_with_counts() {
    let (sim, client, f) = start();
    sim.world(|w| {
        w.set_online(f.member, true);
        w.set_guild_features(f.guild, &["COMMUNITY", "ROLE_ICONS"]);
        w.set_premium_tier(f.guild, 2);
        w.add_invite("join-us", f.guild, f.text);
    });
    let guild = client.get(&format!("/guilds/{}", f.guild)).json();
    assert_eq!(guild["id"], f.guild.to_string());
    assert_eq!(guild["premium_tier"], 2);
    assert_eq!(guild["features"], json!(["COMMUNITY", "ROLE_ICONS"]));
    assert_eq!(guild["roles"][0]["id"], f.guild.to_string(), "@everyone comes first");
    assert_eq!(guild["roles"][0]["permissions"], DEFAULT_EVERYONE.to_string());
    assert!(guild.get("approximate_member_count").is_none());
    let counted = client.get(&format!("/guilds/{}?with_counts=true", f.guild)).json();
    assert_eq!(counted["approximate_member_count"], 5);
    assert_eq!(counted["approximate_presence_count"], 2, "the bot and the member are online");

    let invite = Client::anonymous(&sim).get("/invites/join-us?with_counts=true");
    assert_eq!(invite.status, 200, "invites need no token");
    let body = invite.json();
    assert_eq!(body["code"], "join-us");
    assert_eq!(body["guild"]["id"], f.guild.to_string());
    assert_eq!(body["guild"]["name"], "Test Guild");
    assert_eq!(body["channel"]["id"], f.text.to_string());
    assert_eq!(
        (body["approximate_member_count"].clone(), body["approximate_presence_count"].clone()),
        (json!(5), json!(2))
    );
    assert!(client.get("/invites/join-us").json().get("approximate_member_count").is_none());

    let preview = client.get(&format!("/guilds/{}/preview", f.guild));
    assert_eq!(preview.json()["approximate_member_count"], 5);
    let rule = sim.world(|w| w.add_automod_rule(f.guild, "No slurs"));
    let rules = client.get(&format!("/guilds/{}/auto-moderation/rules", f.guild)).json();
    assert_eq!(rules[0]["id"], rule.to_string());
    assert_eq!(rules[0]["name"], "No slurs");
    let user = client.get(&format!("/users/{}", f.member)).json();
    assert_eq!(user["username"], "member");
    assert_spec_clean(&sim);
}

#[test]
fn interaction_responses_need_no_bot_token() {
    let mut world = World::new();
    let owner = world.add_user("Owner");
    let bot = world.add_bot("Garrison");
    let guild = world.add_guild("G", owner);
    world.add_member(guild, bot.user_id, &[]);
    let channel = world.add_channel(guild, 0, "general", None, 0);
    let (acknowledged, ack_token) = world.add_interaction(bot.user_id, channel, owner);
    let (pending, pending_token) = world.add_pending_interaction(bot.user_id, channel, owner);
    let sim = Simulator::start(world);
    let anonymous = Client::anonymous(&sim);
    let app = bot.user_id;

    let original = anonymous.get(&format!("/webhooks/{app}/{ack_token}/messages/@original"));
    assert_eq!(original.status, 200);
    assert_eq!(original.json()["flags"], 64 | 128, "a deferred ephemeral response");
    let edited =
        anonymous.patch(&format!("/webhooks/{app}/{ack_token}/messages/@original"), &json!({"content": "Done!"}));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["content"], "Done!");
    assert_eq!(edited.json()["flags"], 64, "no longer loading");
    anonymous.get(&format!("/webhooks/{app}/wrong-token/messages/@original")).assert_error(401, 50027);
    anonymous
        .post(
            &format!("/interactions/{acknowledged}/{ack_token}/callback"),
            &json!({"type": 4, "data": {"content": "x"}}),
        )
        .assert_error(400, 40060);

    anonymous.get(&format!("/webhooks/{app}/{pending_token}/messages/@original")).assert_error(404, 10008);
    let callback = anonymous.request(
        "POST",
        &format!("/interactions/{pending}/{pending_token}/callback?with_response=true"),
        Some(&json!({"type": 4, "data": {"content": "Your rank: 3", "flags": 64}})),
        &[],
    );
    assert_eq!(callback.status, 200, "{}", callback.json());
    assert_eq!(callback.json()["resource"]["message"]["content"], "Your rank: 3");
    assert_eq!(callback.json()["interaction"]["response_message_ephemeral"], true);
    let original = anonymous.get(&format!("/webhooks/{app}/{pending_token}/messages/@original"));
    assert_eq!(original.json()["content"], "Your rank: 3");
    anonymous.post(&format!("/interactions/{pending}/bad/callback"), &json!({"type": 1})).assert_error(404, 10062);
    assert_spec_clean(&sim);
}

#[test]
fn multipart_uploads_become_attachments() {
    let (sim, _, f) = start();
    let boundary = "xYzZY";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"card.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(b"\x89PNG\r\n\x1a\nfake");
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(br#"{"content":"your card","attachments":[{"id":"0","filename":"card.png"}]}"#);
    body.extend_from_slice(format!("\r\n--{boundary}--").as_bytes());
    let auth = format!("Bot {}", f.bot.token);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let response = send(
        sim.addr(),
        "POST",
        &format!("/api/v10/channels/{}/messages", f.text),
        &[("Authorization", &auth), ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(response.status, 200, "{}", response.json());
    let attachment = &response.json()["attachments"][0];
    assert_eq!(attachment["filename"], "card.png");
    assert_eq!(attachment["size"], 12);
    assert_eq!(attachment["content_type"], "image/png");
    let id: u64 = attachment["id"].as_str().and_then(|s| s.parse().ok()).expect("an id");
    assert_eq!(sim.world(|w| w.attachment_bytes(id)), Some(b"\x89PNG\r\n\x1a\nfake".to_vec()));
    assert_spec_clean(&sim);
}
