//! The message routes end to end against the Discord simulator: embeds with their per-channel
//! cooldown, smart edits of bot messages (Components V2 included) and of ephemeral interaction
//! responses, and file detection.

use garrison_discord_sim::permissions::{EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL};
use reqwest::Method;
use serde_json::json;

use crate::{harness::expect, simulated::Discord};

fn embed_headers(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("discord-token", token.to_owned()),
        ("title", "Announcement".into()),
        ("description", "Hello everyone!".into()),
        ("color", "5814783".into()),
        ("footer", "Posted by Bot".into()),
        ("plain-text", "@everyone read this".into()),
    ]
}

#[tokio::test]
async fn embeds_are_sent_once_per_channel_every_ten_seconds() {
    let s = Discord::start(&[]);
    let path = format!("/api/Message/sendEmbed/{}", s.demo.general);
    let sent = expect(s.call(Method::POST, &path, &embed_headers(&s.demo.bot.token), None).await, 200);
    assert_eq!(sent.body, json!("Message sent successfully."));
    let message = s.sim.world(|w| w.messages(s.demo.general)).pop().expect("a message");
    assert_eq!(message.author_id, s.demo.bot.user_id);
    assert_eq!(message.content, "@everyone read this");
    assert!(!message.mention_everyone, "plain text never pings");
    assert_eq!(message.embeds[0]["title"], "Announcement");
    assert_eq!(message.embeds[0]["color"], 5814783);
    assert_eq!(message.embeds[0]["footer"]["text"], "Posted by Bot");

    let again = expect(s.call(Method::POST, &path, &embed_headers(&s.demo.bot.token), None).await, 429);
    let text = again.body.as_str().expect("a JSON string");
    assert!(text.starts_with("Rate limit exceeded. Try again in ") && text.ends_with(" seconds."), "{text}");
    assert!(again.headers.get("retry-after").is_some());
    // Another channel has its own cooldown.
    expect(
        s.call(
            Method::POST,
            &format!("/api/Message/sendEmbed/{}", s.demo.welcome),
            &embed_headers(&s.demo.bot.token),
            None,
        )
        .await,
        200,
    );

    let mut no_title = embed_headers(&s.demo.bot.token);
    no_title.remove(1);
    let missing = expect(s.call(Method::POST, &path, &no_title, None).await, 400);
    assert_eq!(missing.body, json!({"error": "Missing 'title' header."}));
    let mut bad_color = embed_headers(&s.demo.bot.token);
    bad_color[3].1 = "purple".into();
    let refused = expect(s.call(Method::POST, &path, &bad_color, None).await, 400);
    assert!(refused.error().starts_with("color:"), "{}", refused.error());

    // The bot may not send in #mod-log (a member overwrite denies it).
    let denied = expect(
        s.call(
            Method::POST,
            &format!("/api/Message/sendEmbed/{}", s.demo.mod_log),
            &embed_headers(&s.demo.bot.token),
            None,
        )
        .await,
        403,
    );
    assert!(denied.error().contains("SEND_MESSAGES"), "{}", denied.error());
    s.assert_faithful();
}

#[tokio::test]
async fn one_bot_cannot_lock_another_out_of_a_channel() {
    let s = Discord::start(&[]);
    let guild = s.demo.guild;
    let (herald, outsider) = s.sim.world(|w| {
        let herald = w.add_bot("Herald");
        let speaks = w.add_role(guild, "Herald", VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS, 1);
        w.add_member(guild, herald.user_id, &[speaks]);
        (herald, w.add_bot("Outsider"))
    });
    let path = format!("/api/Message/sendEmbed/{}", s.demo.general);
    // A bot with no access is refused by Discord, and that takes no turn of anyone's.
    for _ in 0..3 {
        let refused = s.call(Method::POST, &path, &embed_headers(&outsider.token), None).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
    }
    expect(s.call(Method::POST, &path, &embed_headers(&s.demo.bot.token), None).await, 200);
    // Each bot has its own cooldown in the channel.
    expect(s.call(Method::POST, &path, &embed_headers(&herald.token), None).await, 200);
    expect(s.call(Method::POST, &path, &embed_headers(&herald.token), None).await, 429);
    expect(s.call(Method::POST, &path, &embed_headers(&s.demo.bot.token), None).await, 429);
    // A send Discord refuses gives its turn back: once access is granted, the bot may send at once.
    let mod_log = format!("/api/Message/sendEmbed/{}", s.demo.mod_log);
    expect(s.call(Method::POST, &mod_log, &embed_headers(&s.demo.bot.token), None).await, 403);
    s.sim.world(|w| w.add_overwrite(s.demo.mod_log, s.demo.bot.user_id, 1, VIEW_CHANNEL | SEND_MESSAGES, 0));
    expect(s.call(Method::POST, &mod_log, &embed_headers(&s.demo.bot.token), None).await, 200);
    let authors: Vec<u64> = s.sim.world(|w| w.messages(s.demo.general)).iter().map(|m| m.author_id).collect();
    assert!(authors.ends_with(&[s.demo.bot.user_id, herald.user_id]), "{authors:?}");
    s.assert_faithful();
}

#[tokio::test]
async fn smart_edit_replaces_the_one_matching_component_of_a_bot_message() {
    let s = Discord::start(&[]);
    let channel = s.demo.general;
    let v2 = s.sim.world(|w| {
        w.add_message_json(
            channel,
            s.demo.bot.user_id,
            json!({
                "flags": 1 << 15,
                "components": [{
                    "type": 17,
                    "components": [
                        {"type": 10, "content": "## Server status"},
                        {"type": 9, "components": [{"type": 10, "content": "Members online: 5"}],
                         "accessory": {"type": 2, "style": 5, "label": "Open", "url": "https://example.invalid"}},
                        {"type": 10, "content": "Status: green"}
                    ]
                }]
            }),
        )
    });
    let headers = vec![
        ("Bot-Token", s.demo.bot.token.clone()),
        ("X-Channel-Id", channel.to_string()),
        ("X-Message-Id", v2.to_string()),
    ];
    let body = |target: &str, new: &str| Some(json!({"targetContentSubstring": target, "newContent": new}));
    let edited = expect(
        s.call(Method::PATCH, "/api/edit/smart-edit", &headers, body("members   ONLINE", "Members online: 7")).await,
        200,
    );
    assert_eq!(edited.body, json!({"success": true, "message": "Component updated successfully."}));
    let message = s.sim.world(|w| w.message(v2)).expect("message");
    assert_eq!(message.components[0]["components"][1]["components"][0]["content"], "Members online: 7");
    assert_eq!(message.components[0]["components"][2]["content"], "Status: green", "the others are untouched");
    assert!(message.edited_timestamp.is_some());

    let ambiguous = expect(s.call(Method::PATCH, "/api/edit/smart-edit", &headers, body("s", "x")).await, 409);
    assert!(ambiguous.error().starts_with("Ambiguity: 3 components matching"), "{}", ambiguous.error());
    let none = expect(s.call(Method::PATCH, "/api/edit/smart-edit", &headers, body("offline", "x")).await, 404);
    assert!(none.error().starts_with("No component found matching"), "{}", none.error());

    let theirs = s.sim.world(|w| w.add_message(channel, s.demo.owner, "an owner's words"));
    let mut other = headers.clone();
    other[2].1 = theirs.to_string();
    let refused = expect(s.call(Method::PATCH, "/api/edit/smart-edit", &other, body("owner", "mine")).await, 403);
    assert_eq!(refused.error(), "The bot can only edit its own messages.");
    other[2].1 = "80351110224678912".into();
    expect(s.call(Method::PATCH, "/api/edit/smart-edit", &other, body("x", "y")).await, 404);
    s.assert_faithful();
}

#[tokio::test]
async fn an_ephemeral_response_is_edited_through_its_interaction_token() {
    let s = Discord::start(&[]);
    let app = s.demo.bot.user_id;
    let (interaction, token) = s.sim.world(|w| w.add_interaction(app, s.demo.general, s.demo.members[0]));
    // The bot's first answer, as a bot would write it.
    let original = format!("{}/api/v10/webhooks/{app}/{token}/messages/@original", s.sim.base_url());
    let status = s
        .server
        .client()
        .patch(&original)
        .json(&json!({"content": "Progress: 10%"}))
        .send()
        .await
        .expect("patch")
        .status();
    assert_eq!(status, 200);

    let headers = vec![("X-Application-Id", app.to_string()), ("Interaction-Token", token.clone())];
    let edited = expect(
        s.call(
            Method::PATCH,
            "/api/edit/smart-edit/ephemeral",
            &headers,
            Some(json!({"targetContentSubstring": "progress", "newContent": "Progress: 100%"})),
        )
        .await,
        200,
    );
    assert_eq!(edited.body, json!({"success": true}));
    let message = s
        .sim
        .world(|w| w.interaction(interaction).and_then(|i| i.original_message).and_then(|m| w.message(m)))
        .expect("original");
    assert_eq!(message.content, "Progress: 100%");

    let mut wrong = headers.clone();
    wrong[1].1 = "aW50ZXJhY3Rpb246bm90LXJlYWw".into();
    let unknown = expect(
        s.call(
            Method::PATCH,
            "/api/edit/smart-edit/ephemeral",
            &wrong,
            Some(json!({"targetContentSubstring": "progress", "newContent": "x"})),
        )
        .await,
        404,
    );
    assert!(unknown.error().starts_with("Interaction not found"), "{}", unknown.error());
    s.assert_faithful();
}

#[tokio::test]
async fn file_checks_follow_the_detection_order() {
    let s = Discord::start(&[]);
    let channel = s.demo.general;
    let (upload, linked, plain) = s.sim.world(|w| {
        let upload = w.add_message_json(
            channel,
            s.demo.members[0],
            json!({"content": "look", "attachments": [{
                "id": "1180000000000000001", "filename": "cat.jpg", "size": 1024,
                "content_type": "image/png",
                "url": "https://cdn.discordapp.com/attachments/1/2/cat.jpg?ex=1&is=2",
                "proxy_url": "https://media.discordapp.net/attachments/1/2/cat.jpg"
            }]}),
        );
        let linked = w.add_message_json(
            channel,
            s.demo.members[1],
            json!({"content": "https://giphy.com/gifs/x", "embeds": [{"type": "gifv", "url": "https://giphy.com/gifs/x",
                "video": {"url": "https://media.giphy.com/media/x/giphy.mp4"}}]}),
        );
        let plain = w.add_message(channel, s.demo.members[2], "just words");
        (upload, linked, plain)
    });
    let check = |message: u64| {
        vec![
            ("Bot-Token", s.demo.bot.token.clone()),
            ("Channel-Id", channel.to_string()),
            ("Message-Id", message.to_string()),
        ]
    };
    let image = expect(s.call(Method::GET, "/api/filecheck/check", &check(upload), None).await, 200);
    assert_eq!(image.body, json!({"isFile": true, "fileType": "image/png"}), "content_type wins over the extension");
    let video = expect(s.call(Method::GET, "/api/filecheck/check", &check(linked), None).await, 200);
    assert_eq!(video.body, json!({"isFile": true, "fileType": "video/mp4"}));
    let none = expect(s.call(Method::GET, "/api/filecheck/check", &check(plain), None).await, 200);
    assert_eq!(none.body, json!({"isFile": false, "fileType": null}));
    let missing = expect(s.call(Method::GET, "/api/filecheck/check", &check(80351110224678912), None).await, 404);
    assert_eq!(missing.body, json!({"error": "Message or channel not found."}));
    s.assert_faithful();
}
