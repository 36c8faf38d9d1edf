//! Outbound webhooks against a receiver on loopback (the server runs with the test-only
//! `GARRISON_FETCH_ALLOW_LOOPBACK`, as for image URLs): endpoints registered under the fetcher's URL
//! rules, the secret shown once, test events delivered signed the Standard Webhooks way, retried on the
//! schedule after a 5xx, failed at once after a 4xx, and every attempt listed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use garrison_core::webhooks::WebhookSecret;
use serde_json::{Value, json};

use crate::harness::{Backend, Server, database, expect, secret};

/// What the receiver got: headers (lower-case names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// A receiver on loopback that records every request and answers the next status in `answers`
/// (204 once they run out).
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let (received, answers) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (log, next) = (Arc::clone(&received), Arc::clone(&answers));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut headers = Vec::new();
                let mut line = String::new();
                let _ = reader.read_line(&mut line); // the request line
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                    }
                }
                let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok());
                let mut body = vec![0; length.unwrap_or(0)];
                let _ = reader.read_exact(&mut body);
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
                let status = {
                    let mut answers = next.lock().unwrap_or_else(PoisonError::into_inner);
                    if answers.is_empty() { 204 } else { answers.remove(0) }
                };
                let _ = stream.write_all(
                    format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
                );
            }
        });
        Self { url, received, answers }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(statuses);
    }

    async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(Instant::now() < deadline, "the receiver got {} of {count} requests", received.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn test_events_are_delivered_signed_retried_after_a_5xx_and_failed_after_a_4xx() {
    let server =
        Server::start_with(database(Backend::Sqlite).expect("SQLite"), &[("GARRISON_FETCH_ALLOW_LOOPBACK", "true")]);
    let guild = "123456789012345678";
    let key = server.create_key(guild, "hooks", false);
    let read_only = server.create_key(guild, "viewer", true);
    let receiver = Receiver::start();

    // Registration: the fetcher's URL rules, known event types, write keys only.
    let body =
        |url: &str, events: Value| json!({"serverId": guild, "url": url, "events": events, "description": "ops"});
    for (url, error) in [
        ("http://10.1.2.3/hook", "url: address 10.1.2.3 is not public"),
        ("https://hooks.example:8443/", "url: only port 443 is fetched from"),
        ("ftp://hooks.example/", "url: only https URLs are fetched, not ftp"),
    ] {
        let refused = expect(server.post("/api/webhooks", &key, body(url, json!(["xp.changed"]))).await, 400);
        assert_eq!(refused.error(), error);
    }
    let unknown = expect(server.post("/api/webhooks", &key, body(&receiver.url, json!(["xp.chnged"]))).await, 400);
    assert!(unknown.error().starts_with("events: unknown event type \"xp.chnged\""), "{}", unknown.error());
    expect(server.post("/api/webhooks", &read_only, body(&receiver.url, json!(["xp.changed"]))).await, 403);
    let made = expect(
        server.post("/api/webhooks", &key, body(&receiver.url, json!(["xp.changed", "webhook.test"]))).await,
        201,
    )
    .body;
    let shown = made["secret"].as_str().expect("the secret, once").to_owned();
    secret(&shown);
    let signing = WebhookSecret::parse(&shown).expect("whsec_ and 32 bytes");
    let id = made["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("wh_"), "{id}");
    let listed = expect(server.get(&format!("/api/webhooks?serverId={guild}"), &read_only).await, 200).body;
    assert_eq!(listed["webhooks"][0]["id"], id.as_str());
    assert_eq!(listed["webhooks"][0]["events"], json!(["xp.changed", "webhook.test"]));
    assert!(listed["webhooks"][0].get("secret").is_none(), "never shown again: {listed}");

    // A test event: delivered, signed with the secret over id.timestamp.body.
    let sent =
        expect(server.post(&format!("/api/webhooks/{id}/test?serverId={guild}"), &key, json!({})).await, 202).body;
    let event_id = sent["eventId"].as_str().expect("an event id").to_owned();
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let first = &got[0];
    assert_eq!(first.header("webhook-id"), event_id);
    let timestamp: i64 = first.header("webhook-timestamp").parse().expect("seconds");
    assert!(signing.verify(&event_id, timestamp, first.body.as_bytes(), first.header("webhook-signature")));
    let event: Value = serde_json::from_str(&first.body).expect("JSON");
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(event["data"], json!({"serverId": guild, "webhookId": id}));
    assert_eq!(first.header("content-type"), "application/json");

    // A 503, then the retry about 5 s later, delivered; the deliveries say so.
    receiver.answer_next(&[503]);
    let sent =
        expect(server.post(&format!("/api/webhooks/{id}/test?serverId={guild}"), &key, json!({})).await, 202).body;
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    let path = format!("/api/webhooks/{id}/deliveries?serverId={guild}");
    let pending = expect(server.get(&path, &key).await, 200).body;
    let latest = &pending["deliveries"][0];
    assert_eq!((latest["eventId"].as_str(), latest["state"].as_str()), (sent["eventId"].as_str(), Some("pending")));
    assert_eq!((latest["attempts"].as_u64(), latest["lastStatus"].as_u64()), (Some(1), Some(503)));
    let got_again = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got_again[2].header("webhook-id"), got[1].header("webhook-id"), "the same message id on a retry");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let delivered = expect(server.get(&path, &key).await, 200).body;
    assert_eq!(delivered["deliveries"][0]["state"], "delivered");
    assert_eq!(delivered["deliveries"][0]["attempts"], 2);
    assert_eq!(delivered["deliveries"][1]["state"], "delivered", "the first test");

    // A 400: failed at once, not tried again.
    receiver.answer_next(&[400]);
    expect(server.post(&format!("/api/webhooks/{id}/test?serverId={guild}"), &key, json!({})).await, 202);
    receiver.wait_for(4, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let failed = expect(server.get(&path, &key).await, 200).body;
    assert_eq!(
        (failed["deliveries"][0]["state"].as_str(), failed["deliveries"][0]["lastStatus"].as_u64()),
        (Some("failed"), Some(400))
    );
    assert_eq!(receiver.received().len(), 4, "no retry after a 4xx");

    // Another server's key sees nothing of it; deleting ends it.
    let other = server.create_key("223456789012345678", "other", false);
    expect(server.delete(&format!("/api/webhooks/{id}?serverId={guild}"), &other).await, 403);
    expect(server.delete(&format!("/api/webhooks/{id}?serverId={guild}"), &key).await, 200);
    expect(server.get(&format!("/api/webhooks/{id}/deliveries?serverId={guild}"), &key).await, 404);
    server.assert_no_secret_logged();
}
