//! Outbound webhooks, the Standard Webhooks way: a server's endpoints, the events they subscribe to,
//! and deliveries signed with each endpoint's secret, retried on a schedule.
//!
//! - An endpoint is an HTTPS URL of a public host (checked when it is registered and again, by the
//!   transport, on every delivery), the event types it wants, and a secret (`whsec_` + base64 of 32
//!   random bytes) shown once and kept sealed.
//! - An event is written once (`{"type","timestamp","data"}`), naming the endpoints subscribed to it,
//!   in the same transaction as what it reports: one row appended to the outbox, the least the change
//!   can pay. The dispatcher then takes events from the outbox in batches, off the requests' path, and
//!   turns each into one delivery per endpoint.
//! - A delivery is a `POST` of the event with `webhook-id`, `webhook-timestamp` and
//!   `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`); a 2xx delivers it; a
//!   timeout, a network failure, a redirect (never followed), a 5xx or a 429 is tried again on
//!   [`RETRY_SCHEDULE_SECS`] (a 429's `Retry-After` honoured), any other answer fails it at once.

use std::sync::Arc;

use base64::Engine as _;
use futures_util::StreamExt as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::apikey::{Access, Principal};
use crate::entropy::{Entropy, EntropyError};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::view_id::ViewId;
use crate::{Clock, Error, Result, ServerId, Timestamp};

/// Every event type, as endpoints name them. Types whose feature does not send them yet are still
/// accepted, so an endpoint can subscribe ahead.
pub const EVENT_TYPES: [&str; 18] = [
    "xp.changed",
    "ep.changed",
    "loa.started",
    "loa.ended",
    "medal.awarded",
    "medal.revoked",
    "certification.awarded",
    "certification.revoked",
    "modlog.created",
    "transcript.created",
    "verification.linked",
    "verification.unlinked",
    "rank.changed",
    "backup.created",
    "backup.restored",
    "stream.live",
    "stream.offline",
    "webhook.test",
];
/// Endpoints one server may keep.
pub const MAX_ENDPOINTS_PER_SERVER: usize = 20;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// The longest URL.
pub const MAX_URL_CHARS: usize = 2_000;
/// Pauses before the retries of a delivery (Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h); after the last, the delivery has failed.
pub const RETRY_SCHEDULE_SECS: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// Deliveries one dispatcher round takes (new events' and retries'), and sends at once.
pub const DELIVERIES_PER_ROUND: usize = 256;
/// Deliveries one dispatcher sends at once (its connections to one host, at most).
pub const DELIVERIES_IN_FLIGHT: usize = 16;
/// How long a dispatcher holds the deliveries it took: no other dispatcher (another replica) sends
/// them meanwhile; if it dies, they are due again after it. Longer than a full round can last
/// (256 deliveries, 16 at once, 10 s each at worst: 160 s).
pub const CLAIM_MS: i64 = 5 * 60_000;
/// How often, at most, a dispatcher looks for endpoints failing for too long.
const DISABLE_CHECK_MS: i64 = 60_000;
/// How long the secret before a rotation is honoured by default, and at most.
pub const DEFAULT_ROTATION_OVERLAP_HOURS: u32 = 24;
pub const MAX_ROTATION_OVERLAP_HOURS: u32 = 7 * 24;

/// An endpoint's signing secret: 32 random bytes, written `whsec_` + base64. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret([u8; 32]);

impl WebhookSecret {
    pub const PREFIX: &'static str = "whsec_";

    pub fn generate(entropy: &dyn Entropy) -> Result<Self, EntropyError> {
        let mut bytes = [0; 32];
        entropy.fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// `whsec_...`, as the endpoint's owner is shown it once.
    pub fn text(&self) -> String {
        format!("{}{}", Self::PREFIX, base64::engine::general_purpose::STANDARD.encode(self.0))
    }

    /// A secret as [`WebhookSecret::text`] writes it.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.strip_prefix(Self::PREFIX)?).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, id: &str, timestamp_secs: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(format!("{id}.{timestamp_secs}.").as_bytes());
        mac.update(body);
        mac
    }

    /// The `webhook-signature` of a message: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`.
    pub fn sign(&self, id: &str, timestamp_secs: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp_secs, body).finalize().into_bytes();
        format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag))
    }

    /// Whether any of the space-separated `v1,` signatures of `header` is this secret's for the
    /// message (compared in constant time). What a receiver runs.
    pub fn verify(&self, id: &str, timestamp_secs: i64, body: &[u8], header: &str) -> bool {
        header.split_whitespace().filter_map(|s| s.strip_prefix("v1,")).any(|signature| {
            base64::engine::general_purpose::STANDARD
                .decode(signature)
                .is_ok_and(|tag| self.mac(id, timestamp_secs, body).verify_slice(&tag).is_ok())
        })
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A server's endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `wh_` + 32 hex digits.
    pub id: String,
    pub server: ServerId,
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    /// Since when its deliveries have been failing (no 2xx since), if they are.
    pub failing_since: Option<Timestamp>,
    /// When it was disabled for failing too long; a disabled endpoint gets no new events.
    pub disabled_at: Option<Timestamp>,
    /// Until when deliveries are signed with the secret it had before its latest rotation too.
    pub previous_secret_until: Option<Timestamp>,
}

/// An endpoint's subscription: which event types it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    pub events: Vec<String>,
}

/// An endpoint to keep, with its secret.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub endpoint: Endpoint,
    pub secret: WebhookSecret,
}

/// An event, as its endpoints receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `msg_` + 32 hex digits (the creation time in milliseconds, then 80 random bits): the
    /// `webhook-id`, the same on every attempt (receivers deduplicate by it).
    pub id: String,
    pub server: ServerId,
    /// One of [`EVENT_TYPES`].
    pub kind: &'static str,
    /// The body: `{"type","timestamp","data"}`.
    pub body: String,
    pub created_at: Timestamp,
}

impl Event {
    /// An event of `kind` about `data` (a JSON object), drawn a fresh id.
    pub fn new(
        entropy: &dyn Entropy,
        server: ServerId,
        kind: &'static str,
        data: serde_json::Value,
        at: Timestamp,
    ) -> Result<Self, EntropyError> {
        // Time first, then 80 random bits: ids of later events sort after earlier ones, so the store's
        // index of them grows at its end (a random id would touch a random page of it every time).
        let mut random = [0u8; 10];
        entropy.fill(&mut random)?;
        let id = format!("msg_{:012x}{}", at.millis().max(0), crate::apikey::hex(&random));
        /// The body as written: `data` serialized in place, not copied into a new JSON value.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            timestamp: String,
            data: &'a serde_json::Value,
        }
        let body = serde_json::to_string(&Body { kind, timestamp: at.to_iso8601(), data: &data })
            // Cannot fail: a JSON value and two strings always serialize.
            .unwrap_or_else(|_| String::from("{}"));
        Ok(Self { id, server, kind, body, created_at: at })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Refused by the endpoint, or out of retries.
    Failed,
}

impl DeliveryState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// A delivery as its endpoint's owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub event_id: String,
    pub kind: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    /// The last attempt's HTTP status, or why it had none.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    pub created_at: Timestamp,
}

/// A delivery due now, with what sending it takes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub event_id: String,
    pub body: String,
    pub url: String,
    pub secret: WebhookSecret,
    /// The endpoint's secret before its latest rotation, while it is still honoured: deliveries are
    /// signed with both.
    pub previous_secret: Option<WebhookSecret>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// What one attempt found, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub state: DeliveryState,
    pub next_attempt_at: Option<Timestamp>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub at: Timestamp,
}

/// Where endpoints, events and deliveries are kept (endpoints' secrets sealed by the adapter).
pub trait WebhookStore: Send + Sync {
    /// Keeps the endpoint unless its server has `max` already (`false`).
    fn add(&self, endpoint: &NewEndpoint, max: usize) -> Result<bool>;
    fn list(&self, server: ServerId) -> Result<Vec<Endpoint>>;
    fn get(&self, server: ServerId, id: &str) -> Result<Option<Endpoint>>;
    /// Removes the endpoint and its pending deliveries; `false` when the server has none by that id.
    fn remove(&self, server: ServerId, id: &str) -> Result<bool>;
    /// The server's endpoints that are not disabled, with the event types each receives.
    fn subscriptions(&self, server: ServerId) -> Result<Vec<Subscription>>;
    /// Appends the event to the outbox, for each of `endpoints` (of the event's server); nothing when
    /// there are none. Called inside the change's own write, so the change and its event are kept
    /// together or not at all; one row, on the hot path of every change.
    fn enqueue(&self, event: &Event, endpoints: &[String]) -> Result<()>;
    /// Takes events from the outbox, oldest first, and turns each into a pending delivery to every
    /// endpoint it names that still exists and is not disabled, held until `hold_until` (the caller
    /// sends them now; should it die, they are due again then); the events leave the outbox. Takes
    /// whole events while their deliveries number at most `limit` (always one event at least). Two
    /// dispatchers never take the same event (on PostgreSQL, rows another one is taking are skipped).
    fn fan_out(&self, now: Timestamp, hold_until: Timestamp, limit: usize) -> Result<Vec<DueDelivery>>;
    /// Takes up to `limit` pending deliveries due at `now` (retries, redeliveries, and deliveries whose
    /// dispatcher died), oldest first, of endpoints not disabled, and holds them until `hold_until`
    /// (they are not due again before): two dispatchers never take the same delivery at once (on
    /// PostgreSQL, rows another dispatcher is taking are skipped).
    fn claim_due(&self, now: Timestamp, hold_until: Timestamp, limit: usize) -> Result<Vec<DueDelivery>>;
    /// Records attempts, in the order given (of their `at`); an endpoint is failing from its first
    /// failed attempt after a success, and not failing after a success.
    fn attempted(&self, attempts: &[(i64, Attempt)]) -> Result<()>;
    /// Disables the endpoints failing since `failing_before` or earlier (their pending deliveries
    /// fail); their ids.
    fn disable_failing(&self, failing_before: Timestamp, now: Timestamp) -> Result<Vec<String>>;
    /// Enables the endpoint again (not failing); `false` when the server has none by that id.
    fn enable(&self, server: ServerId, id: &str) -> Result<bool>;
    /// Replaces the endpoint's secret, keeping the current one as the previous until `previous_until`;
    /// `false` when the server has none by that id.
    fn rotate(&self, server: ServerId, id: &str, secret: &WebhookSecret, previous_until: Timestamp) -> Result<bool>;
    /// A new pending delivery, due at `now`, of the event of the endpoint's delivery `delivery`; its
    /// id, or `None` when the endpoint has no such delivery.
    fn redeliver(&self, server: ServerId, endpoint: &str, delivery: i64, now: Timestamp) -> Result<Option<i64>>;
    /// The endpoint's latest deliveries, newest first.
    fn deliveries(&self, server: ServerId, endpoint: &str, limit: usize) -> Result<Vec<DeliveryRecord>>;
}

/// How long an outbox trusts what it read of a server's subscriptions. Changes made through this
/// process's [`WebhookService`] are seen at once; another replica's within this time.
pub const SUBSCRIPTIONS_FRESH_MS: i64 = 1_000;
/// Servers whose subscriptions an outbox keeps.
const SUBSCRIPTIONS_KEPT: usize = 10_000;

/// Where a change writes its event: the outbox of the change's own write job. Holds the store, the
/// random source for event ids, and what it read of servers' subscriptions (for
/// [`SUBSCRIPTIONS_FRESH_MS`]), so a change reads none in the common case. Every service that reports
/// changes takes a clone; clones share the subscriptions.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn WebhookStore>,
    entropy: Arc<dyn Entropy>,
    clock: Arc<dyn Clock>,
    subscriptions: Arc<crate::ttl::TtlCache<ServerId, Arc<Vec<Subscription>>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbox { .. }")
    }
}

impl Outbox {
    pub fn new(store: Arc<dyn WebhookStore>, entropy: Arc<dyn Entropy>, clock: Arc<dyn Clock>) -> Self {
        let subscriptions = Arc::new(crate::ttl::TtlCache::new(SUBSCRIPTIONS_KEPT, SUBSCRIPTIONS_FRESH_MS));
        Self { store, entropy, clock, subscriptions }
    }

    /// Records a `kind` event about what `data` builds, with a delivery to each endpoint of `server`
    /// subscribed to `kind`; how many. `data` is built only when some endpoint subscribes. Call it
    /// inside the change's write job, after the change: when either fails, the job keeps neither.
    pub fn record(
        &self,
        server: ServerId,
        kind: &'static str,
        at: Timestamp,
        data: impl FnOnce() -> serde_json::Value,
    ) -> Result<usize> {
        debug_assert!(EVENT_TYPES.contains(&kind), "{kind} is not in EVENT_TYPES");
        let now = self.clock.now();
        let subscriptions = match self.subscriptions.get(&server, now) {
            Some(known) => known,
            None => {
                let read = Arc::new(self.store.subscriptions(server)?);
                self.subscriptions.put(server, Arc::clone(&read), now);
                read
            }
        };
        let endpoints: Vec<String> =
            subscriptions.iter().filter(|s| s.events.iter().any(|e| e == kind)).map(|s| s.endpoint.clone()).collect();
        if endpoints.is_empty() {
            return Ok(0);
        }
        let event = Event::new(&*self.entropy, server, kind, data(), at)
            .map_err(|e| Error::Store(crate::StoreError::Internal(e.to_string())))?;
        self.store.enqueue(&event, &endpoints)?;
        Ok(endpoints.len())
    }

    /// Forgets what was read of `server`'s subscriptions (one of its endpoints changed).
    pub fn forget(&self, server: ServerId) {
        self.subscriptions.remove(&server);
    }

    /// Forgets every server's subscriptions (endpoints were disabled).
    pub fn forget_all(&self) {
        self.subscriptions.clear();
    }
}

/// What a `POST` to an endpoint came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The endpoint answered (a redirect is an answer: it is not followed).
    Status { code: u16, retry_after_secs: Option<u64> },
    /// No answer: a timeout, a refused connection, a reset.
    NoAnswer(String),
    /// The URL breaks the rules now (it resolves to a private address, say): not sent.
    Refused(String),
}

/// A boxed future of the transport.
pub type TransportFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// How deliveries travel: HTTPS to public addresses only, no redirects followed.
pub trait WebhookTransport: Send + Sync {
    /// Whether `url` may receive deliveries (scheme, port, the host's addresses); why not.
    fn check<'a>(&'a self, url: &'a str) -> TransportFuture<'a, std::result::Result<(), String>>;
    /// Posts `body` with `headers`; the answer and how long it took, in milliseconds.
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> TransportFuture<'a, (Answer, i64)>;
}

/// What an attempt's answer makes of the delivery: delivered, failed, or tried again when.
/// `attempts` counts this one; `jitter` (0 to 1) spreads retries by up to a tenth of their pause.
pub fn after_attempt(
    answer: &Answer,
    attempts: u32,
    now: Timestamp,
    jitter: f64,
) -> (DeliveryState, Option<Timestamp>) {
    let retry_after = match answer {
        Answer::Status { code: 200..=299, .. } => return (DeliveryState::Delivered, None),
        Answer::Status { code: 429, retry_after_secs } => *retry_after_secs,
        Answer::Status { code: 300..=399 | 500..=599, .. } | Answer::NoAnswer(_) => None,
        Answer::Status { .. } | Answer::Refused(_) => return (DeliveryState::Failed, None),
    };
    let Some(pause) = usize::try_from(attempts).ok().and_then(|n| RETRY_SCHEDULE_SECS.get(n.wrapping_sub(1))) else {
        return (DeliveryState::Failed, None);
    };
    let pause_ms = (*pause * 1000) as f64 * (1.0 + jitter.clamp(0.0, 1.0) / 10.0);
    let wait = retry_after.map_or(0, |secs| i64::try_from(secs.min(86_400)).unwrap_or(0) * 1000).max(pause_ms as i64);
    (DeliveryState::Pending, Some(Timestamp::from_millis(now.millis().saturating_add(wait))))
}

/// Why a webhook use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    #[error(transparent)]
    Core(#[from] Error),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    #[error("This server already has {MAX_ENDPOINTS_PER_SERVER} webhooks: delete one first.")]
    Full,
    #[error("No webhook {0} in this server.")]
    NotFound(String),
    #[error("No delivery {delivery} of webhook {webhook}.")]
    NoDelivery { webhook: String, delivery: i64 },
    #[error("Webhook {0} is disabled after failing for too long: enable it first (POST /api/webhooks/{0}/enable).")]
    Disabled(String),
}

/// The ports a [`WebhookService`] works through.
#[derive(Clone)]
pub struct WebhookPorts {
    /// After how many days of failing deliveries an endpoint is disabled.
    pub disable_after_days: u32,
    pub store: Arc<dyn WebhookStore>,
    /// The outbox the services write through, told when endpoints change.
    pub outbox: Outbox,
    pub transport: Arc<dyn WebhookTransport>,
    pub entropy: Arc<dyn Entropy>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebhookPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookPorts { .. }")
    }
}

/// A server's webhooks, and the dispatcher that delivers their events.
#[derive(Debug)]
pub struct WebhookService {
    ports: WebhookPorts,
    /// When this dispatcher last looked for endpoints failing for too long.
    disable_checked: std::sync::Mutex<Option<Timestamp>>,
}

/// What one dispatcher round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Endpoints disabled this round for failing too long.
    pub disabled: Vec<String>,
}

impl DispatchReport {
    /// Deliveries attempted this round.
    pub const fn attempted(&self) -> usize {
        self.delivered + self.retrying + self.failed
    }
}

/// The event types named, checked and without repeats; 400 naming `events` otherwise.
fn event_types(names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Err(Error::invalid("events", "name at least one event type"));
    }
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim();
        if !EVENT_TYPES.contains(&name) {
            return Err(Error::invalid("events", format!("unknown event type {name:?}; see the documentation")));
        }
        if !kept.iter().any(|k| k == name) {
            kept.push(name.to_owned());
        }
    }
    Ok(kept)
}

impl WebhookService {
    pub fn new(ports: WebhookPorts) -> Self {
        Self { ports, disable_checked: std::sync::Mutex::new(None) }
    }

    /// Registers an endpoint: its URL checked by the transport's rules, its events known. Answers it
    /// and its secret, which is shown this once.
    pub async fn create(
        &self,
        caller: &Principal,
        server: ServerId,
        url: &str,
        events: &[String],
        description: Option<String>,
    ) -> Result<(Endpoint, WebhookSecret), WebhookError> {
        caller.authorize(server, Access::Write)?;
        let events = event_types(events)?;
        let url = url.trim();
        if url.chars().count() > MAX_URL_CHARS {
            return Err(Error::invalid("url", format!("must be at most {MAX_URL_CHARS} characters")).into());
        }
        let description = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(
                Error::invalid("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters")).into()
            );
        }
        self.ports.transport.check(url).await.map_err(|why| Error::invalid("url", why))?;
        let endpoint = Endpoint {
            id: format!("wh_{}", ViewId::draw(&*self.ports.entropy)?.as_str()),
            server,
            url: url.to_owned(),
            events,
            description,
            created_at: self.ports.clock.now(),
            failing_since: None,
            disabled_at: None,
            previous_secret_until: None,
        };
        let secret = WebhookSecret::generate(&*self.ports.entropy)?;
        let new = NewEndpoint { endpoint: endpoint.clone(), secret: secret.clone() };
        let store = Arc::clone(&self.ports.store);
        if !run_write(&*self.ports.writer, move || store.add(&new, MAX_ENDPOINTS_PER_SERVER)).await? {
            return Err(WebhookError::Full);
        }
        self.ports.outbox.forget(server);
        Ok((endpoint, secret))
    }

    pub async fn list(&self, caller: &Principal, server: ServerId) -> Result<Vec<Endpoint>, WebhookError> {
        caller.authorize(server, Access::Read)?;
        let store = Arc::clone(&self.ports.store);
        Ok(run_blocking(&*self.ports.threads, move || store.list(server)).await.map_err(Error::from)??)
    }

    pub async fn remove(&self, caller: &Principal, server: ServerId, id: &str) -> Result<(), WebhookError> {
        caller.authorize(server, Access::Write)?;
        let (store, id) = (Arc::clone(&self.ports.store), id.to_owned());
        let missing = id.clone();
        if run_write(&*self.ports.writer, move || store.remove(server, &id)).await? {
            self.ports.outbox.forget(server);
            Ok(())
        } else {
            Err(WebhookError::NotFound(missing))
        }
    }

    /// Sends a `webhook.test` event to the endpoint alone; its id.
    pub async fn test(&self, caller: &Principal, server: ServerId, id: &str) -> Result<String, WebhookError> {
        caller.authorize(server, Access::Write)?;
        let endpoint = self.endpoint(server, id).await?;
        if endpoint.disabled_at.is_some() {
            return Err(WebhookError::Disabled(endpoint.id));
        }
        let data = serde_json::json!({"serverId": server.to_string(), "webhookId": endpoint.id});
        let event = Event::new(&*self.ports.entropy, server, "webhook.test", data, self.ports.clock.now())?;
        let (store, event_id) = (Arc::clone(&self.ports.store), event.id.clone());
        run_write(&*self.ports.writer, move || store.enqueue(&event, &[endpoint.id])).await?;
        Ok(event_id)
    }

    /// The endpoint's latest deliveries (at most 100), newest first.
    pub async fn deliveries(
        &self,
        caller: &Principal,
        server: ServerId,
        id: &str,
    ) -> Result<Vec<DeliveryRecord>, WebhookError> {
        caller.authorize(server, Access::Read)?;
        let endpoint = self.endpoint(server, id).await?;
        let store = Arc::clone(&self.ports.store);
        Ok(run_blocking(&*self.ports.threads, move || store.deliveries(server, &endpoint.id, 100))
            .await
            .map_err(Error::from)??)
    }

    /// Sends a delivery's event to the endpoint again, as a new delivery due now (with the same
    /// `webhook-id`); the new delivery's id.
    pub async fn redeliver(
        &self,
        caller: &Principal,
        server: ServerId,
        id: &str,
        delivery: i64,
    ) -> Result<i64, WebhookError> {
        caller.authorize(server, Access::Write)?;
        let endpoint = self.endpoint(server, id).await?;
        if endpoint.disabled_at.is_some() {
            return Err(WebhookError::Disabled(endpoint.id));
        }
        let (store, now, webhook) = (Arc::clone(&self.ports.store), self.ports.clock.now(), endpoint.id.clone());
        run_write(&*self.ports.writer, move || store.redeliver(server, &endpoint.id, delivery, now))
            .await?
            .ok_or(WebhookError::NoDelivery { webhook, delivery })
    }

    /// A new secret for the endpoint, shown this once; the current one is honoured too (deliveries
    /// carry both signatures) for `overlap_hours` (0 to [`MAX_ROTATION_OVERLAP_HOURS`]; 0 ends it now).
    /// Answers the secret and until when the previous one is honoured.
    pub async fn rotate(
        &self,
        caller: &Principal,
        server: ServerId,
        id: &str,
        overlap_hours: Option<u32>,
    ) -> Result<(WebhookSecret, Timestamp), WebhookError> {
        caller.authorize(server, Access::Write)?;
        let hours = overlap_hours.unwrap_or(DEFAULT_ROTATION_OVERLAP_HOURS);
        if hours > MAX_ROTATION_OVERLAP_HOURS {
            return Err(Error::invalid(
                "overlapHours",
                format!("must be from 0 to {MAX_ROTATION_OVERLAP_HOURS}, got {hours}"),
            )
            .into());
        }
        let secret = WebhookSecret::generate(&*self.ports.entropy)?;
        let until = Timestamp::from_millis(self.ports.clock.now().millis() + i64::from(hours) * 3_600_000);
        let (store, kept, wanted) = (Arc::clone(&self.ports.store), secret.clone(), id.to_owned());
        if run_write(&*self.ports.writer, move || store.rotate(server, &wanted, &kept, until)).await? {
            Ok((secret, until))
        } else {
            Err(WebhookError::NotFound(id.to_owned()))
        }
    }

    /// Enables an endpoint disabled for failing (it gets new events again; what failed stays failed
    /// and can be redelivered).
    pub async fn enable(&self, caller: &Principal, server: ServerId, id: &str) -> Result<(), WebhookError> {
        caller.authorize(server, Access::Write)?;
        let (store, wanted) = (Arc::clone(&self.ports.store), id.to_owned());
        if run_write(&*self.ports.writer, move || store.enable(server, &wanted)).await? {
            self.ports.outbox.forget(server);
            Ok(())
        } else {
            Err(WebhookError::NotFound(id.to_owned()))
        }
    }

    async fn endpoint(&self, server: ServerId, id: &str) -> Result<Endpoint, WebhookError> {
        let (store, wanted) = (Arc::clone(&self.ports.store), id.to_owned());
        run_blocking(&*self.ports.threads, move || store.get(server, &wanted))
            .await
            .map_err(Error::from)??
            .ok_or_else(|| WebhookError::NotFound(id.to_owned()))
    }

    /// One dispatcher round: endpoints failing for too long disabled (looked for once a minute at
    /// most), then, in one write, the deliveries due again taken (at most half a round) and the
    /// outbox's new events turned into deliveries for the rest, all held from other dispatchers for
    /// [`CLAIM_MS`]; sent a few at a time; every attempt recorded, with what comes next, in one write.
    pub async fn dispatch(&self) -> Result<DispatchReport> {
        let now = self.ports.clock.now();
        let mut report = DispatchReport::default();
        if self.disable_check_due(now) {
            let store = Arc::clone(&self.ports.store);
            let failing_before = Timestamp::from_millis(
                now.millis() - i64::from(self.ports.disable_after_days.max(1)) * Timestamp::MILLIS_PER_DAY,
            );
            report.disabled =
                run_write(&*self.ports.writer, move || store.disable_failing(failing_before, now)).await?;
            if !report.disabled.is_empty() {
                self.ports.outbox.forget_all();
            }
        }
        let store = Arc::clone(&self.ports.store);
        let hold_until = Timestamp::from_millis(now.millis() + CLAIM_MS);
        let due = run_write(&*self.ports.writer, move || {
            let mut due = store.claim_due(now, hold_until, DELIVERIES_PER_ROUND / 2)?;
            due.extend(store.fan_out(now, hold_until, DELIVERIES_PER_ROUND - due.len())?);
            Ok(due)
        })
        .await?;
        if due.is_empty() {
            return Ok(report);
        }
        let mut attempts: Vec<(i64, Attempt)> = futures_util::stream::iter(due)
            .map(|delivery| self.send(delivery))
            .buffer_unordered(DELIVERIES_IN_FLIGHT)
            .collect()
            .await;
        attempts.sort_by_key(|(_, attempt)| attempt.at);
        for (_, attempt) in &attempts {
            match attempt.state {
                DeliveryState::Delivered => report.delivered += 1,
                DeliveryState::Pending => report.retrying += 1,
                DeliveryState::Failed => report.failed += 1,
            }
        }
        let store = Arc::clone(&self.ports.store);
        run_write(&*self.ports.writer, move || store.attempted(&attempts)).await?;
        Ok(report)
    }

    /// Whether this dispatcher should look for endpoints failing for too long now (and, if so, notes
    /// that it did).
    fn disable_check_due(&self, now: Timestamp) -> bool {
        let mut last = self.disable_checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|at| now.millis() - at.millis() < DISABLE_CHECK_MS) {
            return false;
        }
        *last = Some(now);
        true
    }

    async fn send(&self, delivery: DueDelivery) -> (i64, Attempt) {
        let now = self.ports.clock.now();
        let timestamp = now.millis().div_euclid(1000);
        let mut signature = delivery.secret.sign(&delivery.event_id, timestamp, delivery.body.as_bytes());
        if let Some(previous) = &delivery.previous_secret {
            signature.push(' ');
            signature.push_str(&previous.sign(&delivery.event_id, timestamp, delivery.body.as_bytes()));
        }
        let headers = vec![
            ("webhook-id", delivery.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
            ("content-type", "application/json".to_owned()),
        ];
        let (answer, latency_ms) = self.ports.transport.post(&delivery.url, headers, delivery.body).await;
        let mut jitter = [0u8; 1];
        let jitter = self.ports.entropy.fill(&mut jitter).map_or(0.5, |()| f64::from(jitter[0]) / 255.0);
        let attempts = delivery.attempts + 1;
        let (state, next_attempt_at) = after_attempt(&answer, attempts, self.ports.clock.now(), jitter);
        let (status, error) = match answer {
            Answer::Status { code, .. } => (Some(code), None),
            Answer::NoAnswer(why) | Answer::Refused(why) => (None, Some(why)),
        };
        (delivery.id, Attempt { state, next_attempt_at, status, error, latency_ms, at: now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_its_type_time_and_data() {
        struct Sevens;
        impl Entropy for Sevens {
            fn fill(&self, bytes: &mut [u8]) -> Result<(), EntropyError> {
                bytes.fill(7);
                Ok(())
            }
        }
        let data = serde_json::json!({"serverId": "1", "note": "a \"quoted\" word"});
        let event =
            Event::new(&Sevens, ServerId::from_stored(1), "xp.changed", data.clone(), Timestamp(1_000)).expect("drawn");
        let body: serde_json::Value = serde_json::from_str(&event.body).expect("JSON");
        assert_eq!(body, serde_json::json!({"type": "xp.changed", "timestamp": "1970-01-01T00:00:01Z", "data": data}));
        assert_eq!(event.id, "msg_0000000003e807070707070707070707", "time first, then random bits");
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        let secret = WebhookSecret::from_bytes([7; 32]);
        let text = secret.text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text), Some(secret.clone()));
        let body = br#"{"type":"webhook.test"}"#;
        let signature = secret.sign("msg_1", 1_700_000_000, body);
        assert!(signature.starts_with("v1,"));
        assert!(secret.verify("msg_1", 1_700_000_000, body, &signature));
        assert!(secret.verify("msg_1", 1_700_000_000, body, &format!("v1,bm90IGl0 {signature}")), "any of several");
        assert!(!secret.verify("msg_2", 1_700_000_000, body, &signature));
        assert!(!secret.verify("msg_1", 1_700_000_001, body, &signature));
        assert!(!WebhookSecret::from_bytes([8; 32]).verify("msg_1", 1_700_000_000, body, &signature));
        assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
    }

    #[test]
    fn the_hmac_is_the_standard_one() {
        // HMAC-SHA256 of "id.timestamp.body" with the raw secret bytes, base64: computed independently.
        let secret = WebhookSecret::from_bytes(*b"0123456789abcdef0123456789abcdef");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"0123456789abcdef0123456789abcdef").expect("key");
        mac.update(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}");
        let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, b"{\"test\": 2432232314}"),
            format!("v1,{expected}")
        );
    }

    #[test]
    fn retries_follow_the_schedule_and_only_for_what_may_pass_later() {
        let now = Timestamp::from_millis(1_000_000);
        let at = |secs: i64| Some(Timestamp::from_millis(1_000_000 + secs * 1000));
        let ok = Answer::Status { code: 204, retry_after_secs: None };
        assert_eq!(after_attempt(&ok, 1, now, 0.0), (DeliveryState::Delivered, None));
        let down = Answer::Status { code: 503, retry_after_secs: None };
        for (attempt, secs) in RETRY_SCHEDULE_SECS.iter().enumerate() {
            let attempts = u32::try_from(attempt + 1).expect("small");
            assert_eq!(after_attempt(&down, attempts, now, 0.0), (DeliveryState::Pending, at(*secs)));
        }
        assert_eq!(after_attempt(&down, 8, now, 0.0), (DeliveryState::Failed, None), "out of retries");
        let (_, jittered) = after_attempt(&down, 2, now, 1.0);
        assert_eq!(jittered, at(330), "a tenth at most");
        let slow = Answer::NoAnswer("timed out".into());
        assert_eq!(after_attempt(&slow, 1, now, 0.0), (DeliveryState::Pending, at(5)));
        let moved = Answer::Status { code: 301, retry_after_secs: None };
        assert_eq!(after_attempt(&moved, 1, now, 0.0).0, DeliveryState::Pending, "redirects are not followed");
        let busy = Answer::Status { code: 429, retry_after_secs: Some(60) };
        assert_eq!(after_attempt(&busy, 1, now, 0.0), (DeliveryState::Pending, at(60)), "Retry-After honoured");
        for refused in [
            Answer::Status { code: 400, retry_after_secs: None },
            Answer::Status { code: 410, retry_after_secs: None },
            Answer::Refused("private".into()),
        ] {
            assert_eq!(after_attempt(&refused, 1, now, 0.0), (DeliveryState::Failed, None), "{refused:?}");
        }
    }

    #[test]
    fn event_types_are_known_and_named() {
        assert_eq!(event_types(&["xp.changed".into(), " xp.changed".into()]).expect("known"), ["xp.changed"]);
        assert!(event_types(&[]).is_err());
        let err = event_types(&["xp.chnged".into()]).expect_err("unknown");
        assert!(err.to_string().starts_with("events: unknown event type \"xp.chnged\""), "{err}");
    }
}
