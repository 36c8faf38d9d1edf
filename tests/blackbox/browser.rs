//! The moderation-log page in a real browser (Debian's Chromium, headless): the filters in its URL
//! fragment apply, and loading it makes no request but the page itself. Runs when
//! `GARRISON_TEST_CHROMIUM` names the browser (`cargo xtask ci` finds `/usr/bin/chromium`; `.ci/run`
//! installs it; in CI the suite may not be skipped).

use std::{path::Path, process::Command};

use reqwest::Method;
use serde_json::Value;

use crate::{harness::expect, simulated::Discord};

fn chromium() -> Option<String> {
    std::env::var("GARRISON_TEST_CHROMIUM").ok().filter(|p| !p.is_empty())
}

/// The DOM after the page's script ran, and every URL the page itself asked for: requests whose
/// initiator is the page's origin (the browser's own background traffic has none).
fn load(chromium: &str, url: &str, origin: &str, scratch: &Path) -> (String, Vec<String>) {
    let net_log = scratch.join("net-log.json");
    let output = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings"])
        .arg(format!("--user-data-dir={}", scratch.join("profile").display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(["--virtual-time-budget=3000", "--dump-dom", url])
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    let log: Value = serde_json::from_slice(&std::fs::read(&net_log).expect("the network log")).expect("JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    let requested = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"].as_u64() == Some(start_job) && e["params"]["initiator"].as_str() == Some(origin))
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect();
    (String::from_utf8(output.stdout).expect("UTF-8 DOM"), requested)
}

/// The opening tags of the page's entry cards.
fn entries(dom: &str) -> Vec<&str> {
    dom.match_indices("<li class=\"entry").map(|(at, _)| &dom[at..at + dom[at..].find('>').unwrap_or(0)]).collect()
}

#[tokio::test]
async fn the_modlog_page_filters_from_its_fragment_and_requests_nothing_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: GARRISON_TEST_CHROMIUM is not set");
        return;
    };
    let s = Discord::start(&[]);
    let user = s.demo.members[0];
    let mut view = String::new();
    for (action, reason) in [("Warn", "posted a spam link"), ("Ban", "raid"), ("Kick", "spam again")] {
        let headers = vec![
            ("X-Bot-Token", s.demo.bot.token.clone()),
            ("X-Guild-Id", s.demo.guild.to_string()),
            ("X-User-Id", user.to_string()),
            ("X-Action", action.to_owned()),
            ("X-Moderator-Id", s.demo.moderator.to_string()),
            ("X-Moderator-Name", "Casey".to_owned()),
            ("X-Reason", reason.to_owned()),
        ];
        let reply = expect(s.call(Method::POST, "/api/modlogs/add", &headers, None).await, 200);
        let url = reply.body["viewUrl"].as_str().expect("viewUrl");
        view = url[url.find("/api/modlogs/view/").expect("view path")..].to_owned();
    }
    let page = format!("{}{view}", s.server.base);
    let scratch = tempfile::tempdir().expect("scratch directory");

    let origin = s.server.base.trim_end_matches('/').to_owned();
    let (dom, requested) = load(&chromium, &format!("{page}#search=spam&action=Warn"), &origin, scratch.path());
    let cards = entries(&dom);
    assert_eq!(cards.len(), 3, "every entry is on the page");
    let shown: Vec<&&str> = cards.iter().filter(|tag| !tag.contains(" hidden")).collect();
    assert_eq!(shown.len(), 1, "only the Warn that mentions spam: {cards:#?}");
    assert!(shown[0].contains("data-action=\"Warn\""));
    assert!(dom.contains("Showing 1 of 3"), "the count follows the filter");
    assert!(requested.is_empty(), "the page itself requested {requested:?}");

    let (dom, _) = load(&chromium, &format!("{page}#search=SPAM"), &origin, scratch.path());
    let shown = entries(&dom).into_iter().filter(|tag| !tag.contains(" hidden")).count();
    assert_eq!(shown, 2, "search ignores letter case and spans actions");
}

#[tokio::test]
async fn a_transcript_shows_its_embedded_media_and_requests_nothing_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: GARRISON_TEST_CHROMIUM is not set");
        return;
    };
    let image = {
        let pixels = image::RgbaImage::from_pixel(16, 16, image::Rgba([200, 30, 30, 255]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        pixels.write_to(&mut bytes, image::ImageFormat::Png).expect("PNG");
        bytes.into_inner()
    };
    let host = garrison_testkit::FileHost::start([(
        "/red.png",
        garrison_testkit::HostedFile { content_type: "image/png", bytes: image },
    )]);
    let s = Discord::start(&[("GARRISON_FETCH_ALLOW_LOOPBACK", "true"), ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")]);
    let url = host.url("/red.png");
    s.sim.world(|w| {
        w.add_message(s.demo.general, s.demo.members[0], "before the picture");
        w.add_message_json(
            s.demo.general,
            s.demo.members[1],
            serde_json::json!({"content": "a red square", "attachments": [{"id": "1180000000000000001", "filename": "red.png",
                "size": 100, "content_type": "image/png", "url": url, "proxy_url": url}]}),
        );
    });
    let headers = [
        ("X-Bot-Token", s.token().to_owned()),
        ("X-Channel-Id", s.demo.general.to_string()),
        ("X-Limit", "5".to_owned()),
    ];
    let reply = expect(s.call(Method::POST, "/api/Transcript/html", &headers, None).await, 200);
    let link = reply.body["directLink"].as_str().expect("link");
    let page = format!("{}{}", s.server.base, &link[link.find("/api/Transcript/view/").expect("path")..]);
    let scratch = tempfile::tempdir().expect("scratch directory");
    let origin = s.server.base.trim_end_matches('/').to_owned();
    let (dom, requested) = load(&chromium, &page, &origin, scratch.path());
    assert!(dom.contains("a red square"));
    let images: Vec<&str> =
        dom.match_indices("<img").map(|(at, _)| &dom[at..at + dom[at..].find('>').unwrap_or(0)]).collect();
    assert!(
        images
            .iter()
            .any(|tag| tag.contains("data-media") && (tag.contains("src=\"blob:") || tag.contains("src=\"data:"))),
        "the embedded image was given its bytes: {images:#?}"
    );
    assert!(requested.is_empty(), "the transcript requested {requested:?}");
}
