//! The utility routes, with the specification's own examples. They touch no stored data, so they
//! run on the embedded default only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Backend, Reply, Server, database, expect};

fn start() -> Server {
    Server::start(database(Backend::Sqlite).expect("SQLite is always available"))
}

async fn post_text(server: &Server, path: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut request = server.client().post(format!("{}{path}", server.base)).body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Server::reply(request.send().await.expect("reply")).await
}

async fn post(server: &Server, path: &str, body: Value) -> Reply {
    server.send(Method::POST, path, None, Some(body)).await
}

async fn get(server: &Server, path: &str) -> Reply {
    server.send(Method::GET, path, None, None).await
}

#[tokio::test]
async fn stringify_escapes_text_as_the_specification_shows() {
    let server = start();
    let reply =
        expect(post_text(&server, "/api/Text/stringify", Some("text/plain"), "Hello \"world\"\nNew line").await, 200);
    assert_eq!(
        reply.body,
        json!({"text": "Hello \"world\"\nNew line", "characterCount": 22, "stringified": "Hello \\\"world\\\"\\nNew line"})
    );
    let empty = expect(post_text(&server, "/api/Text/stringify", Some("text/plain; charset=utf-8"), "").await, 400);
    assert_eq!(empty.body, json!("Request body must not be empty."));
    let json_body = expect(post_text(&server, "/api/Text/stringify", Some("application/json"), "\"x\"").await, 415);
    assert_eq!(json_body.error(), "Content-Type must be text/plain.");
    let big = "x".repeat(70 * 1024);
    expect(post_text(&server, "/api/Text/stringify", Some("text/plain"), &big).await, 413);
    // Paths match without regard to case, as the original service's do.
    let lower = expect(post_text(&server, "/api/text/STRINGIFY", Some("text/plain"), "a\tb").await, 200);
    assert_eq!(lower.body["stringified"], "a\\tb");
}

#[tokio::test]
async fn text_is_split_at_word_boundaries() {
    let server = start();
    let words: Vec<String> = (0..1000).map(|i| format!("word{i}")).collect();
    let text = words.join(" ");
    let reply = expect(post(&server, "/api/TextChunker/split", json!({"text": text})).await, 200);
    assert_eq!(reply.body["chunkSizeUsed"], 1800);
    assert_eq!(reply.body["totalCharacters"], text.chars().count());
    let chunks = reply.body["chunks"].as_array().expect("chunks");
    assert_eq!(reply.body["totalChunks"], chunks.len());
    assert!(chunks.len() > 1);
    let mut rejoined = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk["index"], i + 1);
        let content = chunk["content"].as_str().expect("content");
        assert_eq!(chunk["length"], content.chars().count());
        assert!(content.chars().count() <= 1800);
        rejoined.extend(content.split(' ').map(str::to_owned));
    }
    assert_eq!(rejoined, words);

    let long_word =
        expect(post(&server, "/api/TextChunker/split", json!({"text": "ab abcdefghij cd", "chunkSize": 5})).await, 200);
    let contents: Vec<&str> = long_word.body["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .map(|c| c["content"].as_str().expect("content"))
        .collect();
    assert_eq!(contents, ["ab", "abcdefghij", "cd"]);

    let missing = expect(post(&server, "/api/TextChunker/split", json!({"chunkSize": 10})).await, 400);
    assert_eq!(missing.body, json!({"error": "The text field is required."}));
    let zero = expect(post(&server, "/api/TextChunker/split", json!({"text": "a", "chunkSize": 0})).await, 400);
    assert!(zero.error().starts_with("chunkSize:"), "{}", zero.error());
}

#[tokio::test]
async fn regex_matches_with_bounded_work() {
    let server = start();
    let email = json!({"pattern": "^\\w+@[a-zA-Z_]+?\\.[a-zA-Z]{2,3}$", "input": "user@example.com"});
    let reply = expect(post(&server, "/api/Regex/match", email).await, 200);
    assert_eq!(reply.body, json!({"isMatch": true, "matchedValue": "user@example.com", "error": null}));

    let no_match = expect(post(&server, "/api/Regex/match", json!({"pattern": "HELLO", "input": "hello"})).await, 200);
    assert_eq!(no_match.body, json!({"isMatch": false, "matchedValue": null, "error": null}));
    let request = server
        .client()
        .post(format!("{}/api/regex/match", server.base))
        .header("X-Regex-Case-Sensitive", "false")
        .json(&json!({"pattern": "HELLO", "input": "say hello"}));
    let insensitive = expect(Server::reply(request.send().await.expect("reply")).await, 200);
    assert_eq!(insensitive.body["matchedValue"], "hello");

    // Catastrophic backtracking (a backreference forces the backtracking engine) ends in 408.
    let evil = json!({"pattern": "^(\\w+\\s?)*\\1$", "input": format!("{}!", "a".repeat(5000))});
    let started = std::time::Instant::now();
    let timeout = expect(post(&server, "/api/Regex/match", evil).await, 408);
    assert_eq!(timeout.body, json!({"isMatch": false, "error": "Timeout: Operation took longer than 1s."}));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    // The server is still answering promptly afterwards.
    expect(post(&server, "/api/Regex/match", json!({"pattern": "a", "input": "a"})).await, 200);

    let invalid = expect(post(&server, "/api/Regex/match", json!({"pattern": "(unclosed", "input": "x"})).await, 400);
    assert_eq!(invalid.body["isMatch"], false);
    assert!(invalid.error().starts_with("Invalid pattern:"), "{}", invalid.error());
    let missing = expect(post(&server, "/api/Regex/match", json!({"pattern": "a"})).await, 400);
    assert_eq!(missing.error(), "The input field is required.");
    let too_long = json!({"pattern": "a", "input": "a".repeat(20_001)});
    let too_long = expect(post(&server, "/api/Regex/match", too_long).await, 400);
    assert!(too_long.error().starts_with("input: must be at most"), "{}", too_long.error());
}

#[tokio::test]
async fn timestamps_are_offsets_from_now() {
    let server = start();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let reply = expect(get(&server, "/api/Timestamp?value=2&unit=hours").await, 200);
    let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let stamp = reply.body["unixTimestamp"].as_u64().expect("a number");
    assert!((before + 7200..=after + 7200).contains(&stamp), "{stamp} not 2 h from now");
    let now = expect(get(&server, "/api/timestamp?unit=now").await, 200).body["unixTimestamp"].as_u64().expect("now");
    assert!((before..=after + 1).contains(&now));

    let weeks = expect(get(&server, "/api/Timestamp?value=1&unit=weeks").await, 400);
    assert_eq!(weeks.body, json!("Unknown unit: weeks. Valid: seconds, minutes, hours, days, now."));
    let missing = expect(get(&server, "/api/Timestamp?value=1").await, 400);
    assert!(missing.error().starts_with("The unit query parameter is required."), "{}", missing.error());
    let bad_value = expect(get(&server, "/api/Timestamp?value=soon&unit=days").await, 400);
    assert!(bad_value.error().starts_with("value:"), "{}", bad_value.error());
    let too_far = expect(get(&server, "/api/Timestamp?value=9000000000000&unit=days").await, 400);
    assert!(too_far.error().starts_with("value:"), "{}", too_far.error());
}

#[tokio::test]
async fn common_values_keep_the_first_lists_order() {
    let server = start();
    let body = json!({"Value1": ["admin", "mod", "user"], "Value2": ["mod", "vip", "user"]});
    let reply = expect(post(&server, "/api/CommonValue", body).await, 200);
    assert_eq!(reply.body, json!({"commonValues": ["mod", "user"], "isCommonFound": true}));
    let none = expect(post(&server, "/api/commonvalue", json!({"Value1": ["a"], "Value2": ["b"]})).await, 200);
    assert_eq!(none.body, json!({"commonValues": [], "isCommonFound": false}));
    let missing = expect(post(&server, "/api/CommonValue", json!({"Value1": ["a"]})).await, 400);
    assert_eq!(missing.error(), "The Value2 field is required.");
}

/// The pattern of issue 10: the engine's backtracking budget does not count its lookahead's scans,
/// so this runs for seconds on 20,000 characters (the input cap) however the budget is set.
fn hostile_regex() -> Value {
    json!({"pattern": "(?:.(?=[\\s\\S]*\\d)|.)*$", "input": format!("{}\n", "a".repeat(19_999))})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_patterns_are_stopped_and_the_server_stays_responsive() {
    use std::time::{Duration, Instant};
    let _alone = crate::harness::LOAD_TEST.lock().await;
    let server = std::sync::Arc::new(start());

    // Alone, the pattern gets the specification's 408 at its one second.
    let started = Instant::now();
    let alone = expect(post(&server, "/api/Regex/match", hostile_regex()).await, 408);
    assert_eq!(alone.body, json!({"isMatch": false, "error": "Timeout: Operation took longer than 1s."}));
    assert!(started.elapsed() < Duration::from_millis(1800), "took {:?}", started.elapsed());

    // Fifty at once: every one is answered within two seconds, 408 or 503 with Retry-After.
    let started = Instant::now();
    let storm: Vec<_> = (0..50)
        .map(|_| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move {
                let reply = post(&server, "/api/Regex/match", hostile_regex()).await;
                (reply, started.elapsed())
            })
        })
        .collect();
    // Meanwhile (once the burst has been sorted into running, waiting and refused) an ordinary
    // pattern and another route answer promptly.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let asked = Instant::now();
    let email = json!({"pattern": "^\\w+@[a-zA-Z_]+?\\.[a-zA-Z]{2,3}$", "input": "user@example.com"});
    let normal = post(&server, "/api/Regex/match", email).await;
    let normal = expect(normal, 200);
    assert_eq!(normal.body["matchedValue"], "user@example.com");
    assert!(asked.elapsed() < Duration::from_millis(800), "an ordinary pattern took {:?}", asked.elapsed());
    let asked = Instant::now();
    expect(get(&server, "/api/Timestamp?unit=now").await, 200);
    assert!(asked.elapsed() < Duration::from_millis(200), "another route took {:?}", asked.elapsed());

    let mut statuses = std::collections::BTreeMap::new();
    for task in storm {
        let (reply, elapsed) = task.await.expect("request task");

        assert!(elapsed < Duration::from_secs(2), "answered after {elapsed:?}");
        match reply.status.as_u16() {
            408 => assert_eq!(reply.body["error"], "Timeout: Operation took longer than 1s."),
            503 => {
                assert_eq!(reply.body["isMatch"], false);
                assert!(reply.headers.contains_key("retry-after"), "503 without Retry-After");
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
        *statuses.entry(reply.status.as_u16()).or_insert(0) += 1;
    }
    eprintln!("storm answers by status: {statuses:?}");
    assert!(statuses.get(&408).is_some_and(|n| *n >= 1), "{statuses:?}");

    // No job outlives its answer: within a moment nothing of the server's is using the CPU.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.live_children(), 0, "regex workers still running");
    let before = server.cpu_ticks();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let used = server.cpu_ticks() - before;
    // Clock ticks are normally 100 a second: 20 is a fifth of one core, far below one busy thread.
    assert!(used < 20, "the server used {used} ticks of CPU in the second after the storm");
}

#[tokio::test]
async fn split_answers_empty_or_malformed_bodies_as_the_specification_does() {
    let server = start();
    let required = json!({"error": "The text field is required."});
    for body in
        ["", "   ", "{", "not json", "[1,2]", "\"text\"", "{\"text\": 5}", "{\"text\": null}", "{\"text\": \"\"}"]
    {
        let reply = expect(post_text(&server, "/api/TextChunker/split", Some("application/json"), body).await, 400);
        assert_eq!(reply.body, required, "body {body:?}");
    }
    let reply = expect(post_text(&server, "/api/TextChunker/split", None, "").await, 400);
    assert_eq!(reply.body, required);
    // A usable text with a chunk size that is not a whole number names the size.
    let reply = expect(post(&server, "/api/TextChunker/split", json!({"text": "a b", "chunkSize": "ten"})).await, 400);
    assert!(reply.error().starts_with("chunkSize:"), "{}", reply.error());
    let reply = expect(post(&server, "/api/TextChunker/split", json!({"Text": "a b", "ChunkSize": 1})).await, 200);
    assert_eq!(reply.body["totalChunks"], 2);
}
