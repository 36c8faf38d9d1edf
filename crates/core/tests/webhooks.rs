//! The webhook dispatcher over in-memory ports, a manual clock and a scripted transport: a round
//! fans the outbox's events out into signed deliveries and records what each attempt came to; an
//! endpoint failing for longer than allowed is disabled (no more deliveries, no test events) until it
//! is enabled again.

mod fakes;

use std::sync::{Arc, Mutex, PoisonError};

use fakes::run;

use garrison_core::{
    ApiKeyId, ServerId, Timestamp,
    apikey::Principal,
    threads::{InlineThreads, InlineWrites},
    webhooks::{
        Answer, DeliveryState, Outbox, TransportFuture, WebhookError, WebhookPorts, WebhookSecret, WebhookService,
        WebhookTransport,
    },
};
use garrison_testkit::{ManualClock, MemoryRecords, SequentialEntropy};

/// Monday 2024-01-01 00:00 UTC.
const MONDAY: i64 = 1_704_067_200_000;

/// A delivery as the transport saw it.
#[derive(Debug, Clone)]
struct Posted {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Posted {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// Accepts every URL; answers every post with `status` (204 unless set), and keeps what it was sent.
#[derive(Debug)]
struct Scripted {
    status: Mutex<u16>,
    posted: Mutex<Vec<Posted>>,
}

impl Scripted {
    fn answering(status: u16) -> Arc<Self> {
        Arc::new(Self { status: Mutex::new(status), posted: Mutex::new(Vec::new()) })
    }

    fn answer(&self, status: u16) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    fn posted(&self) -> Vec<Posted> {
        self.posted.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl WebhookTransport for Scripted {
    fn check<'a>(&'a self, _url: &'a str) -> TransportFuture<'a, Result<(), String>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> TransportFuture<'a, (Answer, i64)> {
        self.posted.lock().unwrap_or_else(PoisonError::into_inner).push(Posted { url: url.to_owned(), headers, body });
        let code = *self.status.lock().unwrap_or_else(PoisonError::into_inner);
        Box::pin(std::future::ready((Answer::Status { code, retry_after_secs: None }, 3)))
    }
}

struct Setup {
    service: WebhookService,
    outbox: Outbox,
    transport: Arc<Scripted>,
    clock: Arc<ManualClock>,
    caller: Principal,
}

fn setup(status: u16) -> Setup {
    let store = Arc::new(MemoryRecords::default());
    let clock = Arc::new(ManualClock::at(Timestamp(MONDAY)));
    let entropy = Arc::new(SequentialEntropy::default());
    let outbox = Outbox::new(store.clone(), entropy.clone(), clock.clone());
    let transport = Scripted::answering(status);
    let service = WebhookService::new(WebhookPorts {
        disable_after_days: 1,
        store,
        outbox: outbox.clone(),
        transport: transport.clone(),
        entropy,
        threads: Arc::new(InlineThreads),
        writer: Arc::new(InlineWrites),
        clock: clock.clone(),
    });
    let caller =
        Principal { key_id: ApiKeyId(1), server: ServerId::from_stored(10), name: "bot".into(), read_only: false };
    Setup { service, outbox, transport, clock, caller }
}

async fn endpoint(setup: &Setup) -> (String, WebhookSecret) {
    let events = ["xp.changed".to_owned(), "webhook.test".to_owned()];
    let (made, secret) = setup
        .service
        .create(&setup.caller, setup.caller.server, "https://hooks.example/in", &events, None)
        .await
        .expect("created");
    (made.id, secret)
}

#[test]
fn a_round_fans_the_outbox_out_into_signed_deliveries_and_records_them() {
    run(fans_out_and_records());
}

async fn fans_out_and_records() {
    let setup = setup(204);
    let (id, secret) = endpoint(&setup).await;
    let server = setup.caller.server;
    let at = Timestamp(MONDAY);
    for xp in [10, 20] {
        let data = move || serde_json::json!({"serverId": "10", "xp": xp});
        assert_eq!(setup.outbox.record(server, "xp.changed", at, data).expect("recorded"), 1);
    }
    assert_eq!(setup.outbox.record(server, "loa.started", at, || serde_json::json!({})).expect("recorded"), 0);
    assert!(setup.service.deliveries(&setup.caller, server, &id).await.expect("log").is_empty(), "in the outbox");

    let report = setup.service.dispatch().await.expect("a round");
    assert_eq!((report.delivered, report.retrying, report.failed), (2, 0, 0));
    let posted = setup.transport.posted();
    assert_eq!(posted.len(), 2);
    let bodies: Vec<serde_json::Value> = posted.iter().map(|p| serde_json::from_str(&p.body).expect("JSON")).collect();
    assert_eq!((bodies[0]["data"]["xp"].clone(), bodies[1]["data"]["xp"].clone()), (10.into(), 20.into()), "in order");
    for post in &posted {
        assert_eq!(post.url, "https://hooks.example/in");
        let timestamp: i64 = post.header("webhook-timestamp").parse().expect("seconds");
        let signature = post.header("webhook-signature");
        assert!(secret.verify(post.header("webhook-id"), timestamp, post.body.as_bytes(), signature), "{signature}");
    }
    let log = setup.service.deliveries(&setup.caller, server, &id).await.expect("log");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d.state == DeliveryState::Delivered && d.attempts == 1 && d.last_status == Some(204)));

    let idle = setup.service.dispatch().await.expect("a round");
    assert_eq!(idle.attempted(), 0, "the outbox is empty and nothing is due");
    assert_eq!(setup.transport.posted().len(), 2);
}

#[test]
fn an_endpoint_failing_for_too_long_is_disabled_until_enabled() {
    run(disabled_until_enabled());
}

async fn disabled_until_enabled() {
    let setup = setup(503);
    let (id, _) = endpoint(&setup).await;
    let server = setup.caller.server;
    setup.service.test(&setup.caller, server, &id).await.expect("a test event");
    let report = setup.service.dispatch().await.expect("a round");
    assert_eq!(report.retrying, 1, "a 503 is tried again");
    let failing = setup.service.list(&setup.caller, server).await.expect("list");
    assert_eq!(failing[0].failing_since, Some(Timestamp(MONDAY)));

    // Two days on, still failing: the round disables it before taking the retry.
    setup.clock.advance_days(2);
    let report = setup.service.dispatch().await.expect("a round");
    assert_eq!(report.disabled, std::slice::from_ref(&id));
    assert_eq!(report.attempted(), 0, "a disabled endpoint gets no delivery");
    let disabled = setup.service.list(&setup.caller, server).await.expect("list");
    assert_eq!(disabled[0].disabled_at, Some(Timestamp(MONDAY + 2 * Timestamp::MILLIS_PER_DAY)));
    assert!(matches!(
        setup.service.test(&setup.caller, server, &id).await,
        Err(WebhookError::Disabled(which)) if which == id
    ));
    let log = setup.service.deliveries(&setup.caller, server, &id).await.expect("log");
    assert_eq!(log[0].state, DeliveryState::Failed, "its pending delivery failed with it");

    // Enabled again, answering again: deliveries flow and it is not failing any more.
    setup.transport.answer(204);
    setup.service.enable(&setup.caller, server, &id).await.expect("enabled");
    setup.service.test(&setup.caller, server, &id).await.expect("a test event");
    let report = setup.service.dispatch().await.expect("a round");
    assert_eq!((report.delivered, report.disabled.len()), (1, 0));
    let healthy = setup.service.list(&setup.caller, server).await.expect("list");
    assert_eq!((healthy[0].disabled_at, healthy[0].failing_since), (None, None));
    assert_eq!(setup.transport.posted().len(), 2, "nothing was sent while it was disabled");
}
