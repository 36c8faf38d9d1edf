//! Outbound webhooks against a receiver on loopback (the server runs with the test-only
//! `GARRISON_FETCH_ALLOW_LOOPBACK`, as for image URLs): endpoints registered under the fetcher's URL
//! rules, the secret shown once, test events delivered signed the Standard Webhooks way, retried on the
//! schedule after a 5xx, failed at once after a 4xx, and every attempt listed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use garrison_client::webhooks::NewWebhook;
use garrison_client::xp::XpChange;
use garrison_client::{Client, RobloxUserId, ServerId};
use garrison_core::webhooks::WebhookSecret;
use serde_json::{Value, json};

use crate::harness::{Backend, SERVER, Server, database, expect, secret};

/// Every event type the member records send.
const RECORD_EVENTS: [&str; 8] = [
    "xp.changed",
    "ep.changed",
    "loa.started",
    "loa.ended",
    "medal.awarded",
    "medal.revoked",
    "certification.awarded",
    "certification.revoked",
];

/// What the receiver got: headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// What the receiver answered (0: nothing, it hung up after [`HANG`]).
    status: u16,
    at: Instant,
}

/// How long the receiver keeps a request it does not answer (longer than Garrison's 10 s timeout).
const HANG: Duration = Duration::from_secs(11);

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// A receiver on loopback that records every request and answers the next status in `answers`
/// (204 once they run out; a 429 with `Retry-After: 7`; 0 is no answer at all, for [`HANG`]).
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<u16>>>,
    /// While set, every request is answered 503.
    down: Arc<AtomicBool>,
}

impl Receiver {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let (received, answers) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (log, next) = (Arc::clone(&received), Arc::clone(&answers));
        let down = Arc::new(AtomicBool::new(false));
        let is_down = Arc::clone(&down);
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
                let status = {
                    let mut answers = next.lock().unwrap_or_else(PoisonError::into_inner);
                    if is_down.load(Ordering::SeqCst) {
                        503
                    } else if answers.is_empty() {
                        204
                    } else {
                        answers.remove(0)
                    }
                };
                log.lock().unwrap_or_else(PoisonError::into_inner).push(Received {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    status,
                    at: Instant::now(),
                });
                if status == 0 {
                    std::thread::sleep(HANG);
                    continue;
                }
                let retry_after = if status == 429 { "retry-after: 7\r\n" } else { "" };
                let _ = stream.write_all(
                    format!("HTTP/1.1 {status} X\r\n{retry_after}content-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Self { url, received, answers, down }
    }

    /// The distinct events answered 2xx so far, by `webhook-id`.
    fn delivered(&self) -> std::collections::BTreeMap<String, Received> {
        let received = self.received();
        received.into_iter().filter(|r| r.status < 300).map(|r| (r.header("webhook-id").to_owned(), r)).collect()
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(statuses);
    }

    pub(crate) async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
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

/// Registers an endpoint at `receiver` for `events` in [`SERVER`] through the client (the route itself
/// is checked raw in the first test): its id and its secret, remembered as a secret.
async fn register(client: &Client, receiver: &Receiver, events: &[&str]) -> (String, WebhookSecret) {
    let server_id = ServerId::parse("serverId", SERVER).expect("a server id");
    let events = events.iter().map(|event| (*event).to_owned()).collect();
    let webhook = NewWebhook { server_id, url: receiver.url.clone(), events, description: None };
    let made = client.webhooks().create(&webhook).await.expect("registered");
    let signing = made.secret.expect("the secret, once");
    secret(&signing.text());
    (made.id, signing)
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

    // A rotation: the new secret once; during the overlap every delivery carries both signatures.
    let rotated =
        expect(server.post(&format!("/api/webhooks/{id}/rotate?serverId={guild}"), &key, json!({})).await, 200).body;
    let newer_text = rotated["secret"].as_str().expect("the new secret, once").to_owned();
    secret(&newer_text);
    let newer = WebhookSecret::parse(&newer_text).expect("whsec_");
    assert_ne!(newer, signing);
    assert!(rotated["previousSecretValidUntil"].is_string());
    let bad = expect(
        server.post(&format!("/api/webhooks/{id}/rotate?serverId={guild}&overlapHours=500"), &key, json!({})).await,
        400,
    );
    assert_eq!(bad.error(), "overlapHours: must be from 0 to 168, got 500");
    expect(server.post(&format!("/api/webhooks/{id}/test?serverId={guild}"), &key, json!({})).await, 202);
    let got = receiver.wait_for(5, Duration::from_secs(5)).await;
    let (rotation, signature) = (&got[4], got[4].header("webhook-signature"));
    let timestamp: i64 = rotation.header("webhook-timestamp").parse().expect("seconds");
    let message = rotation.header("webhook-id");
    assert!(newer.verify(message, timestamp, rotation.body.as_bytes(), signature), "the new secret signs");
    assert!(signing.verify(message, timestamp, rotation.body.as_bytes(), signature), "the old one too, meanwhile");
    assert_eq!(signature.split_whitespace().count(), 2, "{signature}");

    // A redelivery of the first delivery: the same webhook-id again, as a new delivery.
    let log = expect(server.get(&path, &key).await, 200).body;
    let oldest = log["deliveries"].as_array().and_then(|d| d.last()).expect("deliveries").clone();
    let redone = expect(
        server
            .post(
                &format!("/api/webhooks/{id}/deliveries/{}/redeliver?serverId={guild}", oldest["id"]),
                &key,
                json!({}),
            )
            .await,
        202,
    )
    .body;
    assert_ne!(redone["deliveryId"], oldest["id"]);
    let got = receiver.wait_for(6, Duration::from_secs(5)).await;
    assert_eq!(got[5].header("webhook-id"), oldest["eventId"].as_str().expect("event id"));
    let missing = expect(
        server.post(&format!("/api/webhooks/{id}/deliveries/999999/redeliver?serverId={guild}"), &key, json!({})).await,
        404,
    );
    assert_eq!(missing.error(), format!("No delivery 999999 of webhook {id}."));
    let listed = expect(server.get(&format!("/api/webhooks?serverId={guild}"), &read_only).await, 200).body;
    assert!(listed["webhooks"][0]["failingSince"].is_null(), "the last attempt succeeded: {listed}");

    // Another server's key sees nothing of it; deleting ends it.
    let other = server.create_key("223456789012345678", "other", false);
    expect(server.delete(&format!("/api/webhooks/{id}?serverId={guild}"), &other).await, 403);
    expect(server.delete(&format!("/api/webhooks/{id}?serverId={guild}"), &key).await, 200);
    expect(server.get(&format!("/api/webhooks/{id}/deliveries?serverId={guild}"), &key).await, 404);
    server.assert_no_secret_logged();
}

/// The member records' changes send their events, signed, and only changes that were made do (not a
/// refused change, nor an `Idempotency-Key` replay); a kill -9 while deliveries wait loses none of the
/// events of acknowledged changes and makes none twice. On SQLite and on PostgreSQL.
#[tokio::test]
async fn record_changes_send_their_events_and_a_kill_before_delivery_loses_none() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = database(backend) else {
            garrison_testkit::report_skip("webhooks on PostgreSQL");
            continue;
        };
        let mut server = Server::start_with(db, &[("GARRISON_FETCH_ALLOW_LOOPBACK", "true")]);
        let guild = "123456789012345678";
        let key = server.create_key(guild, "records", false);
        let receiver = Receiver::start();
        receiver.down.store(true, Ordering::SeqCst);
        let (client, server_id) = (server.api_client(&key), ServerId::parse("serverId", guild).expect("an id"));
        let (id, signing) = register(&client, &receiver, &RECORD_EVENTS).await;

        let member = |extra: Value| {
            let mut body = json!({"serverId": guild, "robloxId": "7"});
            body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            body
        };
        let add = |amount: i64| member(json!({"amount": amount}));
        // Changes made: one event each.
        let ten = XpChange::new(server_id, RobloxUserId::from_stored(7), 10);
        assert_eq!(client.xp().add(&ten, Some("k1")).await.expect("added").xp, 10);
        let replayed = client.xp().add(&ten, Some("k1")).await.expect("replayed");
        assert_eq!((replayed.xp, replayed.replayed), (10, true), "a replay changes nothing");
        expect(server.post("/api/xp/add", &key, add(9_007_199_254_740_991)).await, 400);
        expect(server.post("/api/ep/add", &key, member(json!({"company": "main", "amount": 3}))).await, 200);
        expect(server.post("/api/loa/start", &key, member(json!({"days": 3}))).await, 200);
        expect(server.post("/api/loa/end", &key, member(json!({}))).await, 200);
        expect(server.post("/api/loa/end", &key, member(json!({}))).await, 409);
        let medal = json!({"serverId": guild, "name": "Valor", "description": "For valor"});
        expect(server.post("/api/medals", &key, medal).await, 200);
        expect(server.post("/api/medals/award", &key, member(json!({"medalName": "Valor"}))).await, 200);
        expect(server.post("/api/medals/award", &key, member(json!({"medalName": "Valor"}))).await, 409);
        expect(server.post("/api/medals/revoke", &key, member(json!({"medalName": "Valor"}))).await, 200);
        // Twenty concurrent XP changes, all acknowledged before the kill.
        let adds = (0..20).map(|_| server.post("/api/xp/add", &key, add(1)));
        for reply in futures_util::future::join_all(adds).await {
            expect(reply, 200);
        }
        let events_made = 1 + 1 + 2 + 2 + 20;
        // The receiver refuses the first attempts; the server dies with the deliveries pending.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        server.kill_and_restart();
        receiver.down.store(false, Ordering::SeqCst);

        let deadline = Instant::now() + Duration::from_secs(40);
        while receiver.delivered().len() < events_made {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: {} of {events_made} events delivered",
                receiver.delivered().len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let delivered = receiver.delivered();
        assert_eq!(delivered.len(), events_made, "{backend:?}: no event made twice");
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        let mut balances = Vec::new();
        let document = server.client().get(format!("{}/openapi.json", server.base)).send().await.expect("sent");
        let document: Value = document.json().await.expect("the document");
        let spec = garrison_openapi::Spec::from_json(&document.to_string(), &garrison_openapi::Options::new())
            .expect("the document reads");
        for (id, got) in &delivered {
            let timestamp: i64 = got.header("webhook-timestamp").parse().expect("seconds");
            assert!(signing.verify(id, timestamp, got.body.as_bytes(), got.header("webhook-signature")), "{id}");
            let event: Value = serde_json::from_str(&got.body).expect("JSON");
            assert_eq!(event["data"]["serverId"], guild);
            assert_eq!(event["data"]["robloxId"], "7");
            let kind = event["type"].as_str().expect("type");
            let schema = &document["webhooks"][kind]["post"]["requestBody"]["content"]["application/json"]["schema"];
            if let Err(problems) = spec.validate(schema, &event) {
                panic!("{kind} breaks the OpenAPI document's webhooks section: {problems:?}\n{event}");
            }
            let kind = event["type"].as_str().expect("type").to_owned();
            if kind == "xp.changed" {
                balances.push(event["data"]["xp"].as_i64().expect("balance"));
            }
            *kinds.entry(kind).or_default() += 1;
        }
        balances.sort_unstable();
        assert_eq!(balances, (10..=30).collect::<Vec<_>>(), "{backend:?}: one event per change, each balance once");
        let expected: std::collections::BTreeMap<String, usize> = [
            ("ep.changed", 1),
            ("loa.ended", 1),
            ("loa.started", 1),
            ("medal.awarded", 1),
            ("medal.revoked", 1),
            ("xp.changed", 21),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        assert_eq!(kinds, expected, "{backend:?}");
        let log = server.api_client(&key).webhooks().deliveries(server_id, &id).await.expect("the log");
        let states: Vec<String> = log.into_iter().map(|delivery| delivery.state).collect();
        assert_eq!(states.len(), events_made);
        assert!(states.iter().all(|s| s == "delivered"), "{backend:?}: {states:?}");
        server.assert_no_secret_logged();
    }
}

/// Two replicas on one PostgreSQL database, both dispatching: every event is delivered, and by one
/// of them only (a delivery is taken by one dispatcher; the other skips it).
#[tokio::test]
async fn two_replicas_on_postgresql_deliver_each_event_once() {
    let Some(db) = database(Backend::Postgres) else {
        garrison_testkit::report_skip("webhooks with two replicas");
        return;
    };
    let key_hex = "7f".repeat(32);
    let first =
        Server::start_with(db, &[("GARRISON_FETCH_ALLOW_LOOPBACK", "true"), ("GARRISON_SECRET_KEY", key_hex.as_str())]);
    let second = first.replica();
    let guild = "123456789012345678";
    let key = first.create_key(guild, "replicas", false);
    let receiver = Receiver::start();
    register(&first.api_client(&key), &receiver, &["xp.changed"]).await;
    // 300 changes, half through each replica, 10 at a time.
    let events = 300usize;
    for batch in 0..events / 10 {
        let adds = (0..10).map(|n| {
            let base = if (batch * 10 + n) % 2 == 0 { &first.base } else { &second.base };
            let body = json!({"serverId": guild, "robloxId": (n + 1).to_string(), "amount": 1});
            first.client().post(format!("{base}/api/xp/add")).bearer_auth(&key).json(&body).send()
        });
        for reply in futures_util::future::join_all(adds).await {
            expect(Server::reply(reply.expect("sent")).await, 200);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.delivered().len() < events {
        assert!(Instant::now() < deadline, "{} of {events} events delivered", receiver.delivered().len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both dispatchers keep running a while longer: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received();
    assert_eq!(receiver.delivered().len(), events, "every event");
    assert_eq!(received.len(), events, "each once: no event sent by both replicas");
    first.assert_no_secret_logged();
    second.assert_no_secret_logged();
}

/// A 429 is tried again after its `Retry-After` (7 s, longer than the schedule's first 5 s); a
/// receiver that never answers is given up on after 10 s and tried again on the schedule (the second
/// pause: 5 minutes).
#[tokio::test]
async fn a_429_waits_its_retry_after_and_a_hanging_receiver_times_out_onto_the_schedule() {
    let server =
        Server::start_with(database(Backend::Sqlite).expect("SQLite"), &[("GARRISON_FETCH_ALLOW_LOOPBACK", "true")]);
    let guild = "123456789012345678";
    let key = server.create_key(guild, "hooks", false);
    let receiver = Receiver::start();
    receiver.answer_next(&[429, 0]);
    let (id, _) = register(&server.api_client(&key), &receiver, &["webhook.test"]).await;
    expect(server.post(&format!("/api/webhooks/{id}/test?serverId={guild}"), &key, json!({})).await, 202);
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    let waited = got[1].at.duration_since(got[0].at);
    assert!(waited >= Duration::from_secs(7), "Retry-After: 7 honoured, tried again after {waited:?}");
    assert!(waited < Duration::from_secs(10), "and not much later: {waited:?}");
    assert_eq!(got[1].header("webhook-id"), got[0].header("webhook-id"));

    // The second attempt hangs: given up after 10 s, due again after the schedule's 5 minutes.
    let path = format!("/api/webhooks/{id}/deliveries?serverId={guild}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let log = expect(server.get(&path, &key).await, 200).body;
        let delivery = log["deliveries"][0].clone();
        if delivery["attempts"] == 2 {
            break delivery;
        }
        assert!(Instant::now() < deadline, "the hanging attempt was never given up on: {delivery}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let given_up = Instant::now().duration_since(got[1].at);
    assert!(given_up >= Duration::from_secs(10), "the timeout is 10 s: {given_up:?}");
    assert_eq!(delivery["state"], "pending");
    assert_eq!(delivery["lastStatus"], Value::Null, "no answer");
    let error = delivery["lastError"].as_str().expect("why");
    assert_eq!(error, "the endpoint did not answer within 10 s");
    let time = |field: &str| {
        garrison_core::Timestamp::parse_iso8601(delivery[field].as_str().expect(field)).expect(field).millis()
    };
    let pause = time("nextAttemptAt") - time("createdAt");
    assert!((300_000..=420_000).contains(&pause), "the schedule's 5 minutes (and the 18 s before), got {pause} ms");
    assert_eq!(receiver.received().len(), 2, "not tried again within seconds");
    server.assert_no_secret_logged();
}
