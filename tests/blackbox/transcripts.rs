//! Transcripts end to end: the real binary pages a simulated channel, embeds its media (served by a
//! loopback file host) once each, stores the page, lists it, serves it, posts it; a 10,000-message
//! channel; the page in headless Chromium.

use garrison_testkit::{FileHost, HostedFile};
use image::{ImageFormat, Rgba, RgbaImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{harness::expect, simulated::Discord};

fn png() -> Vec<u8> {
    let image = RgbaImage::from_pixel(8, 8, Rgba([10, 200, 120, 255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).expect("encode PNG");
    bytes.into_inner()
}

fn start() -> (Discord, FileHost) {
    let host = FileHost::start([
        ("/cat.png", HostedFile { content_type: "image/png", bytes: png() }),
        ("/clip.mp4", HostedFile { content_type: "video/mp4", bytes: vec![0, 0, 0, 24, b'f', b't', b'y', b'p'] }),
        ("/notes.pdf", HostedFile { content_type: "application/pdf", bytes: b"%PDF-1.4".to_vec() }),
    ]);
    let discord = Discord::start(&[
        ("GARRISON_FETCH_ALLOW_LOOPBACK", "true"),
        ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1"),
        ("GARRISON_PUBLIC_URL", "https://garrison.example"),
    ]);
    (discord, host)
}

fn attachment(id: u64, name: &str, kind: &str, url: &str) -> Value {
    json!({"id": id.to_string(), "filename": name, "size": 8, "content_type": kind, "url": url, "proxy_url": url})
}

fn headers(s: &Discord, channel: u64) -> Vec<(&'static str, String)> {
    vec![("X-Bot-Token", s.token().to_owned()), ("X-Channel-Id", channel.to_string())]
}

/// The path of a direct link on the test server.
fn path_of(link: &str) -> &str {
    link.strip_prefix("https://garrison.example").expect("under the public URL")
}

#[tokio::test]
async fn a_channel_becomes_one_page_with_each_media_file_once() {
    let (s, host) = start();
    let channel = s.demo.general;
    let (cat, clip, pdf) = (host.url("/cat.png"), host.url("/clip.mp4"), host.url("/notes.pdf"));
    s.sim.world(|w| {
        let first = w.add_message(channel, s.demo.members[0], "**hello** <@&member> everyone");
        w.add_message_json(channel, s.demo.members[1], json!({
            "content": "look at this",
            "attachments": [attachment(1_180_000_000_000_000_001, "cat.png", "image/png", &cat),
                            attachment(1_180_000_000_000_000_002, "clip.mp4", "video/mp4", &clip),
                            attachment(1_180_000_000_000_000_003, "notes.pdf", "application/pdf", &pdf)],
        }));
        w.add_message_json(channel, s.demo.members[2], json!({
            "content": "same cat again",
            "attachments": [attachment(1_180_000_000_000_000_004, "cat.png", "image/png", &cat)],
            "message_reference": {"type": 0, "message_id": first.to_string(), "channel_id": channel.to_string(), "guild_id": s.demo.guild.to_string()},
        }));
        w.add_message_json(channel, s.demo.bot.user_id, json!({
            "embeds": [{"title": "Embedded <b>title</b>", "description": "with ~~markdown~~", "fields": [{"name": "Field", "value": "v"}]}],
        }));
        w.add_message(channel, s.demo.members[3], "</script><script>alert(1)</script> ||spoiler||");
    });
    let before = host.hits("/cat.png");
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await, 200);
    assert_eq!(reply.body["message"], "Transcript generated");
    let total = s.sim.world(|w| w.messages(channel).len());
    assert_eq!(reply.body["messageCount"], total);
    let view = reply.body["viewId"].as_str().expect("viewId").to_owned();
    assert_eq!(reply.body["directLink"], format!("https://garrison.example/api/Transcript/view/{view}"));
    assert_eq!(host.hits("/cat.png") - before, 1, "a file used twice is fetched once");

    let page = s
        .server
        .client()
        .get(format!("{}{}", s.server.base, path_of(reply.body["directLink"].as_str().expect("link"))))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().expect("csp").contains("default-src 'none'"));
    let html = page.text().await.expect("html");
    assert_eq!(html.matches("data:image/png;base64,").count(), 1, "the image is embedded once");
    assert_eq!(html.matches("data:video/mp4;base64,").count(), 1);
    assert!(!html.contains("data:application/pdf"), "files other than media stay links");
    assert!(html.find("look at this") < html.find("same cat again"), "oldest first");
    assert!(html.contains("<strong>hello</strong>"));
    assert!(!html.contains("<script>alert(1)"), "message text is escaped");
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("Embedded &lt;b&gt;title&lt;/b&gt;"));
    assert!(s.sim.spec_violations().is_empty(), "{:#?}", s.sim.spec_violations());
}

#[tokio::test]
async fn transcripts_are_listed_newest_first_and_posted_where_asked() {
    let (s, _host) = start();
    s.sim.world(|w| w.add_message(s.demo.staff, s.demo.moderator, "ticket #1: resolved"));
    let mut first = headers(&s, s.demo.general);
    first.push(("X-Limit", "5".into()));
    first.push(("X-Creator-Id", s.demo.moderator.to_string()));
    let a = expect(s.call(Method::POST, "/api/Transcript/html", &first, None).await, 200);
    assert_eq!(a.body["messageCount"], 5, "X-Limit keeps the newest five");
    let mut second = headers(&s, s.demo.staff);
    second.push(("X-Target-Channel-Id", s.demo.mod_log.to_string()));
    second.push(("X-Filename", "ticket-1".into()));
    let b = expect(s.call(Method::POST, "/api/Transcript/html", &second, None).await, 200);

    let list_path = format!("/api/Transcript/list/{}", s.demo.guild);
    let listed = expect(s.call(Method::GET, &list_path, &[("X-Bot-Token", s.token().to_owned())], None).await, 200);
    let ids: Vec<&str> = listed.body.as_array().expect("array").iter().filter_map(|e| e["viewId"].as_str()).collect();
    assert_eq!(ids, [b.body["viewId"].as_str().expect("b"), a.body["viewId"].as_str().expect("a")], "newest first");
    assert_eq!(listed.body[0]["channelName"], "staff");
    assert_eq!(listed.body[1]["creatorId"], s.demo.moderator.to_string());
    assert!(listed.body[0]["size"].as_u64().is_some_and(|n| n > 1000));
    let paged = expect(
        s.call(Method::GET, &format!("{list_path}?limit=1&page=2"), &[("X-Bot-Token", s.token().to_owned())], None)
            .await,
        200,
    );
    assert_eq!(paged.body[0]["viewId"], a.body["viewId"]);
    let invalid = expect(
        s.call(Method::GET, "/api/Transcript/list/not-a-guild", &[("X-Bot-Token", s.token().to_owned())], None).await,
        400,
    );
    assert_eq!(invalid.body, json!({"error": "Invalid guildId format"}));

    // The bot may not send in #mod-log: the transcript is made, and the answer says the post failed.
    assert_eq!(b.body["posted"], false);
    let mut to_general = headers(&s, s.demo.staff);
    to_general.push(("X-Target-Channel-Id", s.demo.welcome.to_string()));
    to_general.push(("X-Filename", "ticket-1".into()));
    let c = expect(s.call(Method::POST, "/api/Transcript/html", &to_general, None).await, 200);
    assert_eq!(c.body["posted"], true);
    let posted = s.sim.world(|w| w.messages(s.demo.welcome)).pop().expect("the post");
    assert_eq!(posted.attachments[0]["filename"], "ticket-1.html");
    assert!(s.sim.spec_violations().is_empty(), "{:#?}", s.sim.spec_violations());
}

#[tokio::test]
async fn refusals_are_the_specifications() {
    let (s, _host) = start();
    let missing = expect(
        s.call(Method::POST, "/api/Transcript/html", &[("X-Channel-Id", s.demo.general.to_string())], None).await,
        401,
    );
    assert_eq!(missing.body, json!({"error": "X-Bot-Token header is required"}));
    let empty = s.sim.world(|w| w.add_channel(s.demo.guild, 0, "empty", None, 9));
    let none = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, empty), None).await, 404);
    assert_eq!(none.body, json!({"error": "No messages found in channel"}));
    let mut too_many = headers(&s, s.demo.general);
    too_many.push(("X-Limit", "10001".into()));
    assert!(
        expect(s.call(Method::POST, "/api/Transcript/html", &too_many, None).await, 400)
            .error()
            .starts_with("X-Limit:")
    );
    let unknown =
        expect(s.call(Method::GET, &format!("/api/Transcript/view/{}", "a".repeat(32)), &[], None).await, 404);
    assert_eq!(unknown.error(), "Transcript not found.");
}

#[tokio::test]
async fn ten_thousand_messages_make_one_transcript() {
    let (s, _host) = start();
    let channel = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "busy", None, 10);
        for i in 0..10_000 {
            w.add_message(channel, s.demo.members[i % 20], &format!("message number {i}"));
        }
        channel
    });
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await, 200);
    assert_eq!(reply.body["messageCount"], 10_000);
    let html = s
        .server
        .client()
        .get(format!("{}{}", s.server.base, path_of(reply.body["directLink"].as_str().expect("link"))))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let (first, last) =
        (html.find("message number 0<").expect("first"), html.find("message number 9999<").expect("last"));
    assert!(first < last);
    assert_eq!(s.sim.calls("GET", "/channels/{channel_id}/messages"), 100, "100 pages of 100");
}

#[tokio::test]
async fn every_message_feature_reaches_the_page() {
    let (s, _host) = start();
    let (guild, channel) = (s.demo.guild, s.demo.general);
    let author = s.demo.members[4];
    let name = s.sim.world(|w| w.user(author).map(|u| u.global_name.unwrap_or(u.username))).expect("author");
    s.sim.world(|w| {
        let first = w.add_message(channel, s.demo.members[0], "the **original** question");
        w.add_message_json(channel, author, json!({
            "content": format!("*italic* __underline__ ~~strike~~ `code` ||secret|| [docs](https://example.com/docs) <@{}> <@&{}> <#{}>\n> quoted\n```rust\nlet x = 1;\n```\n# Header\n- item",
                s.demo.members[0], s.demo.member_role, s.demo.welcome),
            "message_reference": {"type": 0, "message_id": first.to_string(), "channel_id": channel.to_string(), "guild_id": guild.to_string()},
            "embeds": [{"title": "Embed title", "description": "embed **body**", "color": 3447003,
                "author": {"name": "Embed author"}, "fields": [{"name": "Field name", "value": "Field value", "inline": true}],
                "footer": {"text": "Embed footer"}}],
            "reactions": [{"count": 2, "count_details": {"burst": 0, "normal": 2}, "me": false, "me_burst": false,
                "emoji": {"id": null, "name": "🔥"}, "burst_colors": []}],
            "sticker_items": [{"id": "749054660769218631", "name": "Wave", "format_type": 1}],
            "edited_timestamp": "2026-11-23T12:00:00.000000+00:00",
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Click me", "custom_id": "click"}]}],
        }));
    });
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await, 200);
    let link = reply.body["directLink"].as_str().expect("link");
    let html = s
        .server
        .client()
        .get(format!("{}{}", s.server.base, path_of(link)))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for (what, marker) in [
        ("italics", "<em>italic</em>"),
        ("underline", "<u>underline</u>"),
        ("strike", "<s>strike</s>"),
        ("inline code", "<code>code</code>"),
        ("spoiler", "secret"),
        ("masked link", "href=\"https://example.com/docs\""),
        ("user mention", "class=\"mention"),
        ("role mention", "@Member"),
        ("channel mention", "#welcome"),
        ("quote", "<blockquote"),
        ("code block", "let x = 1;"),
        ("header", "<h1"),
        ("list", "<li>item</li>"),
        ("reply preview", "class=\"reply"),
        ("embed", "Embed title"),
        ("embed field", "Field value"),
        ("embed footer", "Embed footer"),
        ("reaction", "🔥"),
        ("sticker", "Wave"),
        ("edited mark", "class=\"edited"),
        ("button", "Click me"),
        ("author", name.as_str()),
    ] {
        assert!(html.contains(marker), "{what}: {marker} is not on the page");
    }
    assert!(html.contains("the <strong>original</strong> question"));
    assert!(s.sim.spec_violations().is_empty(), "{:#?}", s.sim.spec_violations());
}

#[tokio::test]
async fn a_transcript_past_discords_upload_limit_is_posted_as_its_link() {
    let big = vec![7u8; 11 * 1024 * 1024];
    let host = FileHost::start([("/big.mp4", HostedFile { content_type: "video/mp4", bytes: big })]);
    let s = Discord::start(&[("GARRISON_FETCH_ALLOW_LOOPBACK", "true"), ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")]);
    let channel = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "clips", None, 11);
        w.add_message_json(
            channel,
            s.demo.members[0],
            json!({"content": "a long clip",
            "attachments": [attachment(1_180_000_000_000_000_009, "big.mp4", "video/mp4", &host.url("/big.mp4"))]}),
        );
        channel
    });
    let mut request = headers(&s, channel);
    request.push(("X-Target-Channel-Id", s.demo.welcome.to_string()));
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &request, None).await, 200);
    assert_eq!(reply.body["posted"], true);
    let posted = s.sim.world(|w| w.messages(s.demo.welcome)).pop().expect("the post");
    assert!(posted.attachments.is_empty(), "over 10 MiB: no file");
    assert!(posted.content.contains(reply.body["directLink"].as_str().expect("link")), "{}", posted.content);
}
