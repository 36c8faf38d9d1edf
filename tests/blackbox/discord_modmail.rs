//! Modmail end to end against the Discord simulator: a user's DM forwarded to the staff channel with
//! a gallery, staff replies as DMs, and a user whose DMs are closed.

use serde_json::json;

use crate::{harness::expect, simulated::Discord};

fn inbound_headers(s: &Discord, channel: u64) -> Vec<(&'static str, String)> {
    vec![
        ("X-Bot-Token", s.demo.bot.token.clone()),
        ("X-Target-Channel-ID", channel.to_string()),
        ("X-User-ID", s.demo.members[0].to_string()),
        ("X-User-Name", "JohnDoe".into()),
        ("X-User-Avatar", "https://cdn.discordapp.com/avatars/1/a.png".into()),
    ]
}

#[tokio::test]
async fn a_dm_reaches_the_staff_channel_with_its_images_as_a_gallery() {
    let s = Discord::start(&[]);
    let mut headers = inbound_headers(&s, s.demo.staff);
    headers.push((
        "X-Attachment-Url",
        "https://i.imgur.com/a.png; https://i.imgur.com/b.png;https://i.imgur.com/c.png".into(),
    ));
    let forwarded =
        expect(s.post_text("/api/modmail/inbound", &headers, "text/plain", "Hello, I need help.").await, 200);
    assert_eq!(forwarded.body, json!({"status": "Forwarded to staff"}));
    let message = s.sim.world(|w| w.messages(s.demo.staff)).pop().expect("a message in #staff");
    assert_eq!(message.author_id, s.demo.bot.user_id);
    assert_eq!(message.embeds.len(), 3, "one embed per image, shown as one gallery");
    assert_eq!(message.embeds[0]["description"], "Hello, I need help.");
    assert_eq!(message.embeds[0]["author"]["name"], "JohnDoe");
    assert_eq!(message.embeds[2]["image"]["url"], "https://i.imgur.com/c.png");

    let denied = expect(
        s.post_text("/api/modmail/inbound", &inbound_headers(&s, s.demo.mod_log), "text/plain", "hi").await,
        403,
    );
    assert!(denied.error().contains("SEND_MESSAGES"), "{}", denied.error());
    let json_body = expect(s.post_text("/api/modmail/inbound", &headers, "application/json", "\"hi\"").await, 415);
    assert!(json_body.error().contains("text/plain"));
    let empty = expect(s.post_text("/api/modmail/inbound", &headers, "text/plain", "   ").await, 400);
    assert!(empty.error().starts_with("body:"), "{}", empty.error());
    let mut missing = inbound_headers(&s, s.demo.staff);
    missing.remove(3);
    let missing = expect(s.post_text("/api/modmail/inbound", &missing, "text/plain", "hi").await, 400);
    assert_eq!(missing.body, json!({"error": "Missing 'X-User-Name' header."}));
    let mut bad = inbound_headers(&s, s.demo.staff);
    bad.push(("X-Attachment-Url", "javascript:alert(1)".into()));
    expect(s.post_text("/api/modmail/inbound", &bad, "text/plain", "hi").await, 400);
    s.assert_faithful();
}

#[tokio::test]
async fn staff_replies_arrive_as_dms_and_closed_dms_are_a_clear_403() {
    let s = Discord::start(&[]);
    let user = s.demo.members[0];
    let headers = vec![
        ("X-Bot-Token", s.demo.bot.token.clone()),
        ("X-Target-User-ID", user.to_string()),
        ("X-Mod-Name", "Support Team".into()),
    ];
    let sent = expect(s.post_text("/api/modmail/outbound", &headers, "text/plain", "Issue resolved.").await, 200);
    assert_eq!(sent.body, json!({"status": "Reply sent to user"}));
    let dm = s.sim.world(|w| w.dm_channel(s.demo.bot.user_id, user)).expect("a DM channel");
    let message = s.sim.world(|w| w.messages(dm)).pop().expect("the reply");
    assert_eq!(message.embeds[0]["title"], "Reply from Support Team");
    assert_eq!(message.embeds[0]["description"], "Issue resolved.");

    let mut closed = headers.clone();
    closed[1].1 = s.demo.dms_closed.to_string();
    let refused = expect(s.post_text("/api/modmail/outbound", &closed, "text/plain", "hello?").await, 403);
    assert_eq!(
        refused.body,
        json!({"error": "Cannot send messages to this user: their DMs are closed or they share no server with the bot."})
    );
    let mut unknown = headers.clone();
    unknown[1].1 = "80351110224678912".into();
    let missing = expect(s.post_text("/api/modmail/outbound", &unknown, "text/plain", "hello?").await, 404);
    assert_eq!(missing.error(), "Unknown user.");
    s.assert_faithful();
}
