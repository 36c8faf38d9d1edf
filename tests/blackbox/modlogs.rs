//! Moderation logs end to end against the Discord simulator: entries with per-server case numbers,
//! the per-user JSON document in object storage, and the permanent HTML page with hostile input
//! escaped.

use serde_json::{Value, json};

use reqwest::Method;

use crate::{
    harness::{Reply, Server, expect},
    simulated::Discord,
};

const PUBLIC: &str = "https://garrison.example";

fn start() -> Discord {
    Discord::start(&[("GARRISON_PUBLIC_URL", PUBLIC)])
}

fn headers(s: &Discord, user: u64, action: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Bot-Token", s.demo.bot.token.clone()),
        ("X-Guild-Id", s.demo.guild.to_string()),
        ("X-User-Id", user.to_string()),
        ("X-Action", action.to_owned()),
        ("X-Moderator-Id", s.demo.moderator.to_string()),
        ("X-Moderator-Name", "Casey".to_owned()),
    ]
}

async fn add(s: &Discord, headers: &[(&str, String)]) -> Reply {
    s.call(Method::POST, "/api/modlogs/add", headers, None).await
}

/// The page behind a `viewUrl`, fetched from the test server.
async fn page(s: &Discord, view_url: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let path = view_url.strip_prefix(PUBLIC).expect("the view URL is under the public URL");
    let response = s.server.client().get(format!("{}{path}", s.server.base)).send().await.expect("page");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.expect("text"))
}

#[tokio::test]
async fn every_action_is_logged_with_a_case_number_a_document_and_a_page() {
    let s = start();
    let user = s.demo.members[0];
    let mut view_url = String::new();
    for (i, action) in ["Warn", "timeout", "BAN", "Kick", "Unban"].into_iter().enumerate() {
        let mut headers = headers(&s, user, action);
        headers.push(("X-Reason", format!("reason number {}", i + 1)));
        if action == "timeout" {
            headers.push(("X-Duration", "2h".into()));
        }
        let reply = expect(add(&s, &headers).await, 200);
        let canonical = ["Warn", "Timeout", "Ban", "Kick", "Unban"][i];
        assert_eq!(reply.body["success"], true);
        assert_eq!(reply.body["message"], format!("{canonical} logged."));
        let url = reply.body["viewUrl"].as_str().expect("viewUrl").to_owned();
        assert!(url.starts_with(&format!("{PUBLIC}/api/modlogs/view/")), "{url}");
        if i > 0 {
            assert_eq!(url, view_url, "one permanent page per user and server");
        }
        view_url = url;
    }
    // Another user in the same server continues the server's case numbers.
    expect(add(&s, &headers(&s, s.demo.members[1], "Warn")).await, 200);

    let (status, headers, page) = page(&s, &view_url).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().expect("type").starts_with("text/html"));
    assert!(
        headers
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("default-src 'none'")))
    );
    for i in 1..=5 {
        assert!(page.contains(&format!("reason number {i}")), "entry {i} is on the page");
    }
    assert!(page.contains("Garrison Demo"));
    assert!(!page.contains("reason number 6"));

    let bot = s.demo.bot.user_id;
    let file = s.server.dir().join(format!("data/objects/{bot}/{}/{user}.json~", s.demo.guild));
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).expect("the per-user document")).expect("JSON");
    let cases: Vec<i64> =
        doc["entries"].as_array().expect("entries").iter().filter_map(|e| e["caseNumber"].as_i64()).collect();
    assert_eq!(cases, [1, 2, 3, 4, 5]);
    assert_eq!(doc["entries"][1]["action"], "Timeout");
    assert_eq!(doc["entries"][1]["duration"], "2h");
    assert_eq!(doc["userId"], user.to_string());
    assert!(s.sim.spec_violations().is_empty(), "{:#?}", s.sim.spec_violations());
}

#[tokio::test]
async fn hostile_names_and_reasons_are_shown_as_text() {
    let s = start();
    let user = s.sim.world(|w| {
        let user = w.add_user("mallory");
        w.set_global_name(user, Some("</script><script>alert('name')</script>"));
        w.add_member(s.demo.guild, user, &[]);
        user
    });
    let mut headers = headers(&s, user, "Warn");
    headers[5].1 = "\"><img src=x onerror=alert(1)>".into();
    headers.push(("X-Reason", "<script>alert(\"reason\")</script> & ' onmouseover='x".into()));
    let reply = expect(add(&s, &headers).await, 200);
    let (_, _, page) = page(&s, reply.body["viewUrl"].as_str().expect("viewUrl")).await;
    for raw in ["<script>alert(", "<img src=x", "</script><script>"] {
        assert!(!page.contains(raw), "{raw} appears unescaped");
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("&lt;script&gt;alert(&quot;reason&quot;)&lt;/script&gt;"));
    assert_eq!(page.matches("<script").count(), 1, "only the page's own script");
}

#[tokio::test]
async fn refusals_are_the_specifications() {
    let s = start();
    let user = s.demo.members[0];
    let mut missing = headers(&s, user, "Warn");
    missing.remove(5);
    let reply = expect(add(&s, &missing).await, 400);
    assert_eq!(reply.body, json!({"error": "Headers required.", "missing": ["X-Moderator-Name"]}));
    let mut bad_token = headers(&s, user, "Warn");
    bad_token[0].1 = "MTIz.bad.token".into();
    assert_eq!(expect(add(&s, &bad_token).await, 401).body, json!({"error": "Bot token invalid."}));
    let elsewhere = s.sim.world(|w| {
        let owner = w.add_user("Elsewhere Owner");
        w.add_guild("Elsewhere", owner)
    });
    let mut foreign = headers(&s, user, "Warn");
    foreign[1].1 = elsewhere.to_string();
    assert_eq!(expect(add(&s, &foreign).await, 403).body, json!({"error": "Bot not member."}));
    let bad_action = expect(add(&s, &headers(&s, user, "Mute")).await, 400);
    assert!(bad_action.error().starts_with("X-Action:"), "{}", bad_action.error());
    let missing_page = s
        .server
        .client()
        .get(format!("{}/api/modlogs/view/{}", s.server.base, "0".repeat(32)))
        .send()
        .await
        .expect("reply");
    assert_eq!(expect(Server::reply(missing_page).await, 404).error(), "Moderation log not found.");
}

#[tokio::test]
async fn concurrent_adds_get_distinct_case_numbers_and_lose_nothing() {
    let s = start();
    let user = s.demo.members[2];
    let adds = (0..20).map(|i| {
        let mut headers = headers(&s, user, "Warn");
        headers.push(("X-Reason", format!("concurrent {i}")));
        let setup = &s;
        async move { expect(add(setup, &headers).await, 200) }
    });
    let replies = futures_util::future::join_all(adds).await;
    let url = replies[0].body["viewUrl"].as_str().expect("viewUrl").to_owned();
    assert!(replies.iter().all(|r| r.body["viewUrl"] == url.as_str()));
    let bot = s.demo.bot.user_id;
    let file = s.server.dir().join(format!("data/objects/{bot}/{}/{user}.json~", s.demo.guild));
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).expect("document")).expect("JSON");
    let mut cases: Vec<i64> =
        doc["entries"].as_array().expect("entries").iter().filter_map(|e| e["caseNumber"].as_i64()).collect();
    cases.sort_unstable();
    assert_eq!(cases, (1..=20).collect::<Vec<_>>(), "the last document written holds every entry");
}

/// The object-store document at `key` (under the server's data directory).
fn document(s: &Discord, key: &str) -> Value {
    let file = s.server.dir().join(format!("data/objects/{key}~"));
    serde_json::from_slice(&std::fs::read(&file).unwrap_or_else(|e| panic!("{key}: {e}"))).expect("JSON")
}

fn case_numbers(doc: &Value) -> Vec<i64> {
    doc["entries"].as_array().expect("entries").iter().filter_map(|e| e["caseNumber"].as_i64()).collect()
}

#[tokio::test]
async fn each_bot_numbers_its_own_cases_in_a_server() {
    let s = start();
    let guild = s.demo.guild;
    let other = s.sim.world(|w| {
        let bot = w.add_bot("Sentinel");
        w.add_member(guild, bot.user_id, &[]);
        bot
    });
    let user = s.demo.members[3];
    for _ in 0..2 {
        expect(add(&s, &headers(&s, user, "Warn")).await, 200);
    }
    let mut theirs = headers(&s, user, "Kick");
    theirs[0].1 = other.token.clone();
    expect(add(&s, &theirs).await, 200);
    // Neither bot's numbers are the other's business: each counts 1, 2, ... in the server.
    let ours = document(&s, &format!("{}/{guild}/{user}.json", s.demo.bot.user_id));
    assert_eq!(case_numbers(&ours), [1, 2]);
    let sentinel = document(&s, &format!("{}/{guild}/{user}.json", other.user_id));
    assert_eq!(case_numbers(&sentinel), [1]);
    assert_eq!(sentinel["entries"][0]["action"], "Kick");
}

#[tokio::test]
async fn a_long_history_is_mirrored_and_shown_a_page_at_a_time() {
    let s = start();
    let (bot, guild, user) = (s.demo.bot.user_id, s.demo.guild, s.demo.members[4]);
    let mut view_url = String::new();
    for i in 1..=205 {
        let mut headers = headers(&s, user, "Warn");
        headers.push(("X-Reason", format!("reason {i}.")));
        let reply = expect(add(&s, &headers).await, 200);
        view_url = reply.body["viewUrl"].as_str().expect("viewUrl").to_owned();
    }
    // The user's document holds the newest page; each full page has its own document, written once.
    let head = document(&s, &format!("{bot}/{guild}/{user}.json"));
    assert_eq!(case_numbers(&head), (201..=205).collect::<Vec<_>>());
    assert_eq!(
        (head["totalEntries"].as_u64(), head["page"].as_u64(), head["pages"].as_u64()),
        (Some(205), Some(2), Some(3))
    );
    for (page, first) in [(0, 1), (1, 101)] {
        let full = document(&s, &format!("{bot}/{guild}/{user}/pages/{page}.json"));
        assert_eq!(case_numbers(&full), (first..first + 100).collect::<Vec<_>>());
    }
    // The page shows the newest 100 at most; ?page=N (from 1) shows the others.
    let (status, headers, newest) = page(&s, &view_url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-total-pages"], "3");
    assert!(newest.contains("reason 205.") && !newest.contains("reason 200."));
    let (status, _, oldest) = page(&s, &format!("{view_url}?page=1")).await;
    assert_eq!(status, 200);
    assert!(oldest.contains("reason 1.") && oldest.contains("reason 100.") && !oldest.contains("reason 101."));
    let (status, _, _) = page(&s, &format!("{view_url}?page=4")).await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&s, &format!("{view_url}?page=0")).await;
    assert_eq!(status, 400);
}
