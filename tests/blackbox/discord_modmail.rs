//! Modmail end to end against the Discord simulator: a user's DM forwarded to the staff channel with
//! a gallery, staff replies as DMs, and a user whose DMs are closed.

use garrison_discord_sim::{Demo, Simulator, World};
use serde_json::json;

use crate::harness::{Backend, Reply, Server, database, expect};

struct Setup {
    sim: Simulator,
    demo: Demo,
    server: Server,
}

impl Setup {
    fn start() -> Self {
        let (world, demo) = World::demo();
        let sim = Simulator::start(world);
        let url = sim.base_url();
        let server = Server::start_with(
            database(Backend::Sqlite).expect("SQLite"),
            &[("GARRISON_DISCORD_API_URL", url.as_str())],
        );
        Self { sim, demo, server }
    }

    async fn post(&self, path: &str, headers: &[(&str, String)], content_type: &str, body: &str) -> Reply {
        let mut request = self
            .server
            .client()
            .post(format!("{}{path}", self.server.base))
            .header("content-type", content_type)
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        Server::reply(request.send().await.expect("reply")).await
    }

    fn inbound_headers(&self, channel: u64) -> Vec<(&'static str, String)> {
        vec![
            ("X-Bot-Token", self.demo.bot.token.clone()),
            ("X-Target-Channel-ID", channel.to_string()),
            ("X-User-ID", self.demo.members[0].to_string()),
            ("X-User-Name", "JohnDoe".into()),
            ("X-User-Avatar", "https://cdn.discordapp.com/avatars/1/a.png".into()),
        ]
    }

    fn assert_faithful(&self) {
        let violations = self.sim.spec_violations();
        assert!(violations.is_empty(), "the simulator saw traffic Discord's document forbids: {violations:#?}");
        assert!(!self.server.logs().contains(&self.demo.bot.token), "a bot token reached the server's log");
    }
}

#[tokio::test]
async fn a_dm_reaches_the_staff_channel_with_its_images_as_a_gallery() {
    let s = Setup::start();
    let mut headers = s.inbound_headers(s.demo.staff);
    headers.push((
        "X-Attachment-Url",
        "https://i.imgur.com/a.png; https://i.imgur.com/b.png;https://i.imgur.com/c.png".into(),
    ));
    let forwarded = expect(s.post("/api/modmail/inbound", &headers, "text/plain", "Hello, I need help.").await, 200);
    assert_eq!(forwarded.body, json!({"status": "Forwarded to staff"}));
    let message = s.sim.world(|w| w.messages(s.demo.staff)).pop().expect("a message in #staff");
    assert_eq!(message.author_id, s.demo.bot.user_id);
    assert_eq!(message.embeds.len(), 3, "one embed per image, shown as one gallery");
    assert_eq!(message.embeds[0]["description"], "Hello, I need help.");
    assert_eq!(message.embeds[0]["author"]["name"], "JohnDoe");
    assert_eq!(message.embeds[2]["image"]["url"], "https://i.imgur.com/c.png");

    let denied =
        expect(s.post("/api/modmail/inbound", &s.inbound_headers(s.demo.mod_log), "text/plain", "hi").await, 403);
    assert!(denied.error().contains("SEND_MESSAGES"), "{}", denied.error());
    let json_body = expect(s.post("/api/modmail/inbound", &headers, "application/json", "\"hi\"").await, 415);
    assert!(json_body.error().contains("text/plain"));
    let empty = expect(s.post("/api/modmail/inbound", &headers, "text/plain", "   ").await, 400);
    assert!(empty.error().starts_with("body:"), "{}", empty.error());
    let mut missing = s.inbound_headers(s.demo.staff);
    missing.remove(3);
    let missing = expect(s.post("/api/modmail/inbound", &missing, "text/plain", "hi").await, 400);
    assert_eq!(missing.body, json!({"error": "Missing 'X-User-Name' header."}));
    let mut bad = s.inbound_headers(s.demo.staff);
    bad.push(("X-Attachment-Url", "javascript:alert(1)".into()));
    expect(s.post("/api/modmail/inbound", &bad, "text/plain", "hi").await, 400);
    s.assert_faithful();
}

#[tokio::test]
async fn staff_replies_arrive_as_dms_and_closed_dms_are_a_clear_403() {
    let s = Setup::start();
    let user = s.demo.members[0];
    let headers = vec![
        ("X-Bot-Token", s.demo.bot.token.clone()),
        ("X-Target-User-ID", user.to_string()),
        ("X-Mod-Name", "Support Team".into()),
    ];
    let sent = expect(s.post("/api/modmail/outbound", &headers, "text/plain", "Issue resolved.").await, 200);
    assert_eq!(sent.body, json!({"status": "Reply sent to user"}));
    let dm = s.sim.world(|w| w.dm_channel(s.demo.bot.user_id, user)).expect("a DM channel");
    let message = s.sim.world(|w| w.messages(dm)).pop().expect("the reply");
    assert_eq!(message.embeds[0]["title"], "Reply from Support Team");
    assert_eq!(message.embeds[0]["description"], "Issue resolved.");

    let mut closed = headers.clone();
    closed[1].1 = s.demo.dms_closed.to_string();
    let refused = expect(s.post("/api/modmail/outbound", &closed, "text/plain", "hello?").await, 403);
    assert_eq!(
        refused.body,
        json!({"error": "Cannot send messages to this user: their DMs are closed or they share no server with the bot."})
    );
    let mut unknown = headers.clone();
    unknown[1].1 = "80351110224678912".into();
    let missing = expect(s.post("/api/modmail/outbound", &unknown, "text/plain", "hello?").await, 404);
    assert_eq!(missing.error(), "Unknown user.");
    s.assert_faithful();
}
