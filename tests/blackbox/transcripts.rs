//! Transcripts end to end: the real binary pages a simulated channel, embeds its media (served by a
//! loopback file host) once each, stores the page, lists it, serves it, posts it; a 10,000-message
//! channel; the page in headless Chromium. Then the abuse limits: who may list which transcripts,
//! keyset pages, open files with 1,200 media, the job queue, temporary space, SVG, the loopback test
//! switch and the S3 client's proxy.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use garrison_testkit::{FileHost, HostedFile};
use image::{ImageFormat, Rgba, RgbaImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    harness::{Backend, Reply, Server, database, expect},
    simulated::Discord,
};

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

/// The page a transcript answer's `directLink` names, fetched from the server under test.
async fn transcript_page(s: &Discord, reply: &Reply) -> reqwest::Response {
    let path = path_of(reply.body["directLink"].as_str().expect("link"));
    s.server.client().get(format!("{}{path}", s.server.base)).send().await.expect("page")
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

    let page = transcript_page(&s, &reply).await;
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
    let html = transcript_page(&s, &reply).await.text().await.expect("html");
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

// ----- who may list which transcripts -----

fn list_path(s: &Discord) -> String {
    format!("/api/Transcript/list/{}", s.demo.guild)
}

async fn list_as(s: &Discord, token: &str, query: &str) -> crate::harness::Reply {
    s.call(Method::GET, &format!("{}{query}", list_path(s)), &[("X-Bot-Token", token.to_owned())], None).await
}

fn view_ids(reply: &crate::harness::Reply) -> Vec<String> {
    reply.body.as_array().expect("array").iter().map(|e| e["viewId"].as_str().expect("viewId").to_owned()).collect()
}

async fn make(s: &Discord, token: &str, channel: u64) -> String {
    let headers = [("X-Bot-Token", token.to_owned()), ("X-Channel-Id", channel.to_string()), ("X-Limit", "3".into())];
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers, None).await, 200);
    reply.body["viewId"].as_str().expect("viewId").to_owned()
}

#[tokio::test]
async fn a_bot_lists_only_its_own_transcripts_of_channels_it_can_view() {
    let (s, _host) = start();
    let (guild, a) = (s.demo.guild, s.demo.bot.clone());
    let b = s.sim.world(|w| {
        let b = w.add_bot("Second Bot");
        w.add_member(guild, b.user_id, &[s.demo.moderator_role]);
        w.add_message(s.demo.staff, s.demo.moderator, "staff only");
        b
    });
    let a_general = make(&s, &a.token, s.demo.general).await;
    let a_staff = make(&s, &a.token, s.demo.staff).await;
    let b_general = make(&s, &b.token, s.demo.general).await;

    // Each bot sees what it made, newest first, and nothing of the other's.
    let as_a = expect(list_as(&s, &a.token, "").await, 200);
    assert_eq!(view_ids(&as_a), [a_staff.clone(), a_general.clone()]);
    assert_eq!(as_a.body[0]["botId"], a.user_id.to_string());
    let as_b = expect(list_as(&s, &b.token, "").await, 200);
    assert_eq!(view_ids(&as_b), [b_general]);

    // Bot A loses sight of #staff: its transcript of #staff is no longer listed to it...
    s.sim.world(|w| w.add_overwrite(s.demo.staff, a.user_id, 1, 0, 1 << 10));
    let hidden = expect(list_as(&s, &a.token, "").await, 200);
    assert_eq!(view_ids(&hidden), [a_general]);
    // ...but the page stays reachable by its unguessable id, as the specification designs it.
    let page =
        s.server.client().get(format!("{}/api/Transcript/view/{a_staff}", s.server.base)).send().await.expect("page");
    assert_eq!(page.status(), 200);

    // A bot that is not in the server gets Discord's refusal, not a list.
    let outsider = s.sim.world(|w| w.add_bot("Outsider"));
    let refused = list_as(&s, &outsider.token, "").await;
    assert!([403, 404].contains(&refused.status.as_u16()), "{}: {}", refused.status, refused.body);
    s.assert_faithful();
}

#[tokio::test]
async fn lists_page_by_cursor_and_refuse_pages_too_deep_to_count() {
    let (s, _host) = start();
    let token = s.token().to_owned();
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(make(&s, &token, s.demo.general).await);
    }
    made.reverse(); // newest first
    let first = expect(list_as(&s, &token, "?limit=2").await, 200);
    assert_eq!(view_ids(&first), made[..2]);
    let cursor = first.headers["x-next-cursor"].to_str().expect("cursor").to_owned();
    let second = expect(list_as(&s, &token, &format!("?limit=2&after={cursor}")).await, 200);
    assert_eq!(view_ids(&second), made[2..]);
    assert!(second.headers.get("x-next-cursor").is_none(), "the last page has no cursor");
    // The page form still works, within its depth.
    let paged = expect(list_as(&s, &token, "?limit=1&page=3").await, 200);
    assert_eq!(view_ids(&paged), made[2..]);
    for query in [
        "?page=18446744073709551615&limit=100",
        "?page=102&limit=100",
        "?page=0",
        "?limit=101",
        "?after=not-a-cursor",
        "?page=99999999999999999999999",
    ] {
        let reply = list_as(&s, &token, query).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.body);
        assert!(reply.body["error"].is_string(), "{query}: {}", reply.body);
    }
    let both = list_as(&s, &token, &format!("?page=1&after={cursor}")).await;
    assert_eq!(both.status.as_u16(), 400);
}

// ----- bounded jobs -----

/// A media host on loopback that answers any path with a small PNG (or, for `/svg/...`, an SVG
/// disguised as a PNG); paths under `/slow/` wait until the gate opens. Counts requests.
struct MediaHost {
    base: String,
    hits: Arc<AtomicUsize>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl MediaHost {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (counted, gated) = (Arc::clone(&hits), Arc::clone(&gate));
        let body = png();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (hits, gate, body) = (Arc::clone(&counted), Arc::clone(&gated), body.clone());
                std::thread::spawn(move || serve_media(stream, &hits, &gate, &body));
            }
        });
        Self { base, hits, gate }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn open(&self) {
        let (open, wake) = &*self.gate;
        *open.lock().expect("gate") = true;
        wake.notify_all();
    }
}

fn serve_media(mut stream: TcpStream, hits: &AtomicUsize, gate: &(Mutex<bool>, Condvar), png: &[u8]) {
    let Ok(clone) = stream.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    hits.fetch_add(1, Ordering::SeqCst);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    if path.starts_with("/slow/") {
        let (open, wake) = gate;
        let mut guard = open.lock().expect("gate");
        while !*guard {
            guard = wake.wait(guard).expect("gate");
        }
    }
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let body = if path.starts_with("/svg/") { svg } else { png.to_vec() };
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let _ = stream.write_all(&response);
}

fn media_server(extra: &[(&str, &str)]) -> Discord {
    // The allow-list no longer applies to transcript media; it is named so the same test runs against
    // servers from before that change.
    let mut env = vec![
        ("GARRISON_FETCH_ALLOW_LOOPBACK", "true"),
        ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1"),
        ("GARRISON_PUBLIC_URL", "https://garrison.example"),
    ];
    env.extend_from_slice(extra);
    Discord::start(&env)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn twelve_hundred_media_files_keep_a_handful_of_files_open() {
    let host = MediaHost::start();
    let s = media_server(&[]);
    let channel = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "gallery", None, 12);
        for m in 0..120 {
            let attachments: Vec<Value> = (0..10)
                .map(|i| {
                    let n = m * 10 + i;
                    attachment(
                        1_190_000_000_000_000_000 + n,
                        &format!("{n}.png"),
                        "image/png",
                        &host.url(&format!("/m/{n}.png")),
                    )
                })
                .collect();
            w.add_message_json(
                channel,
                s.demo.members[m as usize % 20],
                json!({"content": format!("batch {m}"), "attachments": attachments}),
            );
        }
        channel
    });
    let pid = s.server.pid();
    let baseline = open_files(pid);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(Ordering::SeqCst) {
                most = most.max(open_files(pid));
                std::thread::sleep(Duration::from_millis(5));
            }
            most
        })
    };
    let reply = s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await;
    done.store(true, Ordering::SeqCst);
    let most = watcher.join().expect("watcher");
    eprintln!("open files: {baseline} before the job, at most {most} during it");
    let reply = expect(reply, 200);
    assert_eq!(reply.body["messageCount"], 120);
    assert!(host.hits.load(Ordering::SeqCst) >= 1_200, "every media file was fetched");
    let html = transcript_page(&s, &reply).await.text().await.expect("html");
    assert!(html.matches("data:image/png;base64,").count() >= 1_200, "all of them embedded");
    assert!(
        most < baseline + 64,
        "open files went from {baseline} to {most} during a job with 1,200 media (one per file before the fix)"
    );
}

#[tokio::test]
async fn jobs_past_the_queue_get_503_with_retry_after() {
    let host = MediaHost::start();
    let s = media_server(&[("GARRISON_TRANSCRIPT_JOBS", "1"), ("GARRISON_TRANSCRIPT_QUEUE", "0")]);
    let slow = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "slow", None, 12);
        let attachments = [attachment(1_190_100_000_000_000_001, "a.png", "image/png", &host.url("/slow/a.png"))];
        w.add_message_json(channel, s.demo.members[0], json!({"content": "wait for it", "attachments": attachments}));
        channel
    });
    let first = {
        let (client, base, request) = (s.server.client().clone(), s.server.base.clone(), headers(&s, slow));
        tokio::spawn(async move {
            let mut call = client.post(format!("{base}/api/Transcript/html"));
            for (name, value) in request {
                call = call.header(name, value);
            }
            call.send().await.expect("reply").status().as_u16()
        })
    };
    // The first job is running once its media request arrives.
    for _ in 0..500 {
        if host.hits.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(host.hits.load(Ordering::SeqCst) > 0, "the first job reached its media");
    let calls_before = s.sim.calls("GET", "/channels/{channel_id}/messages");
    let busy = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, s.demo.general), None).await, 503);
    assert!(busy.error().contains("retry later"), "{}", busy.body);
    assert_eq!(busy.headers["retry-after"], "30");
    assert_eq!(
        s.sim.calls("GET", "/channels/{channel_id}/messages"),
        calls_before,
        "turned away before asking Discord"
    );
    host.open();
    assert_eq!(first.await.expect("first job"), 200);
    expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, s.demo.general), None).await, 200);
}

#[tokio::test]
async fn a_channel_past_the_temporary_space_cap_is_a_clear_error() {
    let s = media_server(&[("GARRISON_TRANSCRIPT_JOB_TEMP_BYTES", "20000")]);
    let channel = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "chatty", None, 12);
        for i in 0..300 {
            w.add_message(channel, s.demo.members[i % 20], &format!("message {i} with some words to fill the page"));
        }
        channel
    });
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await, 507);
    assert!(reply.error().contains("20000 bytes of temporary space"), "{}", reply.body);
    // A small channel still fits.
    let mut small = headers(&s, channel);
    small.push(("X-Limit", "5".into()));
    expect(s.call(Method::POST, "/api/Transcript/html", &small, None).await, 200);
}

#[tokio::test]
async fn svg_is_never_embedded_whatever_it_claims_to_be() {
    let host = MediaHost::start();
    let s = media_server(&[]);
    let channel = s.sim.world(|w| {
        let channel = w.add_channel(s.demo.guild, 0, "vectors", None, 12);
        w.add_message_json(
            channel,
            s.demo.members[0],
            json!({"content": "two pictures", "attachments": [
                attachment(1_190_200_000_000_000_001, "logo.svg", "image/svg+xml", &host.url("/m/logo.svg")),
                attachment(1_190_200_000_000_000_002, "cat.png", "image/png", &host.url("/svg/cat.png")),
                attachment(1_190_200_000_000_000_003, "real.png", "image/png", &host.url("/m/real.png")),
            ]}),
        );
        channel
    });
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers(&s, channel), None).await, 200);
    let html = transcript_page(&s, &reply).await.text().await.expect("html");
    assert!(!html.contains("image/svg"), "an SVG attachment is not embedded");
    assert_eq!(html.matches("data:image/png;base64,").count(), 1, "only the real PNG; the disguised SVG is refused");
}

// ----- start-up and S3 -----

#[test]
fn the_loopback_test_switch_is_refused_on_a_public_bind() {
    let db = database(Backend::Sqlite).expect("SQLite");
    let dir = tempfile::tempdir().expect("dir");
    let mut child = crate::harness::command(dir.path(), &db)
        .env("GARRISON_FETCH_ALLOW_LOOPBACK", "true")
        .env("GARRISON_BIND", "0.0.0.0:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    let status = status.unwrap_or_else(|| panic!("the server started on 0.0.0.0 with the loopback switch: {stderr}"));
    assert!(!status.success(), "the server must not start: {stderr}");
    assert!(stderr.contains("GARRISON_FETCH_ALLOW_LOOPBACK") && stderr.contains("loopback"), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
}

/// A stand-in S3 endpoint that answers every request `404 NoSuchKey` and counts them.
fn fake_s3() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let Ok(clone) = stream.try_clone() else { continue };
            let mut reader = BufReader::new(clone);
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>";
            let response = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (base, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_client_ignores_proxy_variables() {
    let (endpoint, hits) = fake_s3();
    // A proxy that is not there: a client that used it could not reach the bucket.
    let dead = TcpListener::bind("127.0.0.1:0").expect("bind");
    let proxy = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let db = database(Backend::Sqlite).expect("SQLite");
    let server = Server::start_with(
        db,
        &[
            ("GARRISON_OBJECT_STORE", "s3"),
            ("GARRISON_S3_ENDPOINT", endpoint.as_str()),
            ("GARRISON_S3_BUCKET", "garrison"),
            ("GARRISON_S3_PATH_STYLE", "true"),
            ("GARRISON_S3_ACCESS_KEY", "AKTEST"),
            ("GARRISON_S3_SECRET_KEY", "SKTEST"),
            ("HTTP_PROXY", proxy.as_str()),
            ("http_proxy", proxy.as_str()),
            ("HTTPS_PROXY", proxy.as_str()),
            ("ALL_PROXY", proxy.as_str()),
        ],
    );
    let reply = server
        .client()
        .get(format!("{}/api/Transcript/view/{}", server.base, "ab".repeat(16)))
        .send()
        .await
        .expect("reply");
    let status = reply.status().as_u16();
    let body = Server::reply(reply).await.body;
    assert_eq!(status, 404, "the bucket answered, not the dead proxy: {body}");
    assert_eq!(body, json!({"error": "Transcript not found."}));
    assert!(hits.load(Ordering::SeqCst) >= 1, "the request reached the S3 endpoint directly");
}
