//! Twitch EventSub over the webhook transport: Helix's Create, Get and Delete EventSub Subscription
//! routes, the messages Twitch sends to a subscription's callback (verification challenges,
//! notifications, revocations) and the record of their delivery.
//!
//! - `POST /helix/eventsub/subscriptions`: <https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription>
//! - `GET /helix/eventsub/subscriptions`: <https://dev.twitch.tv/docs/api/reference/#get-eventsub-subscriptions>
//! - `DELETE /helix/eventsub/subscriptions`: <https://dev.twitch.tv/docs/api/reference/#delete-eventsub-subscription>
//! - the messages, their headers and `sha256=` signatures:
//!   <https://dev.twitch.tv/docs/eventsub/handling-webhook-events/>
//! - `stream.online` and `stream.offline`, the two types served:
//!   <https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#stream-subscriptions>
//!
//! Everything here is synchronous, behind the simulator's lock: the messages to send wait in an outbox
//! that `webhooks` empties and sends, and their outcomes come back through [`EventSub::record`] and
//! [`EventSub::verified`].

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{ID_ALPHABET, Reply, Request, now_rfc3339_nanos, random_text};
use crate::twitch::helix_error;

/// The one version of both subscription types.
const VERSION: &str = "1";
/// `max_total_cost` of every answer: Twitch's default limit for an app.
const MAX_TOTAL_COST: u32 = 10_000;
/// A subscription whose callback has not answered its challenge yet.
const PENDING: &str = "webhook_callback_verification_pending";
/// A verified subscription: the only status that gets notifications.
const ENABLED: &str = "enabled";
/// A subscription whose callback failed its challenge.
const FAILED: &str = "webhook_callback_verification_failed";
/// The filters of Get EventSub Subscriptions, of which a request may use one.
const FILTERS: [&str; 4] = ["status", "type", "user_id", "subscription_id"];

/// The subscription types served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `stream.online`: a broadcaster started streaming.
    StreamOnline,
    /// `stream.offline`: a broadcaster stopped streaming.
    StreamOffline,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        [Kind::StreamOnline, Kind::StreamOffline].into_iter().find(|kind| kind.name() == name)
    }

    /// `stream.online` or `stream.offline`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::StreamOnline => "stream.online",
            Kind::StreamOffline => "stream.offline",
        }
    }
}

/// What a message to a callback is: its `Twitch-Eventsub-Message-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageType {
    /// `webhook_callback_verification`: the challenge a new subscription's callback must echo.
    Verification,
    /// `notification`: an event.
    Notification,
    /// `revocation`: the subscription ended.
    Revocation,
}

impl MessageType {
    /// The header's value.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Verification => "webhook_callback_verification",
            MessageType::Notification => "notification",
            MessageType::Revocation => "revocation",
        }
    }
}

/// A subscription as the simulated Twitch keeps it.
#[derive(Debug, Clone)]
struct Sub {
    id: String,
    /// The app that created it: only that app sees and deletes it.
    client_id: String,
    kind: Kind,
    broadcaster_user_id: String,
    callback: String,
    secret: String,
    status: String,
    created_at: String,
}

impl Sub {
    /// The subscription as Twitch shows it, in answers and in messages: never with its secret.
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "type": self.kind.name(),
            "version": VERSION,
            "condition": {"broadcaster_user_id": self.broadcaster_user_id},
            "created_at": self.created_at,
            "transport": {"method": "webhook", "callback": self.callback},
            "cost": 0,
        })
    }

    /// Whether a filter of Get EventSub Subscriptions keeps it.
    fn matches(&self, filter: &str, value: &str) -> bool {
        match filter {
            "status" => self.status == value,
            "type" => self.kind.name() == value,
            "user_id" => self.broadcaster_user_id == value,
            "subscription_id" => self.id == value,
            _ => true,
        }
    }

    /// Whether a new subscription would repeat this one: same app, type, condition and callback, and
    /// this one still pending or enabled (a failed or revoked one may be created again).
    fn repeats(&self, client_id: &str, draft: &Draft) -> bool {
        self.client_id == client_id
            && self.kind == draft.kind
            && self.broadcaster_user_id == draft.broadcaster_user_id
            && self.callback == draft.callback
            && (self.status == PENDING || self.status == ENABLED)
    }

    fn view(&self) -> Subscription {
        Subscription {
            id: self.id.clone(),
            subscription_type: self.kind.name().to_owned(),
            broadcaster_user_id: self.broadcaster_user_id.clone(),
            callback: self.callback.clone(),
            status: self.status.clone(),
        }
    }
}

/// A Twitch EventSub subscription, as [`Simulator::twitch_eventsub_subscriptions`] shows it.
///
/// [`Simulator::twitch_eventsub_subscriptions`]: crate::Simulator::twitch_eventsub_subscriptions
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Its id, a UUID.
    pub id: String,
    /// Its `type`: `stream.online` or `stream.offline`.
    pub subscription_type: String,
    /// The `broadcaster_user_id` of its condition.
    pub broadcaster_user_id: String,
    /// Its webhook callback URL.
    pub callback: String,
    /// `webhook_callback_verification_pending`, `enabled`, `webhook_callback_verification_failed`, or
    /// the reason it was revoked (e.g. `authorization_revoked`).
    pub status: String,
}

impl Subscription {
    /// The view as JSON, for the `/_sim/` controls.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.subscription_type,
            "broadcasterUserId": self.broadcaster_user_id,
            "callback": self.callback,
            "status": self.status,
        })
    }
}

/// One attempt to send an EventSub message to a callback, as [`Simulator::twitch_eventsub_deliveries`]
/// lists them.
///
/// [`Simulator::twitch_eventsub_deliveries`]: crate::Simulator::twitch_eventsub_deliveries
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `Twitch-Eventsub-Message-Id`: a retry or a replay repeats the first attempt's.
    pub message_id: String,
    /// `Twitch-Eventsub-Message-Type`: `webhook_callback_verification`, `notification` or `revocation`.
    pub message_type: String,
    /// The subscription's id.
    pub subscription_id: String,
    /// The subscription's type, `stream.online` or `stream.offline`.
    pub subscription_type: String,
    /// `Twitch-Eventsub-Message-Retry`: 0, or 1 for the retry of a failed notification.
    pub retry: u32,
    /// The HTTP status the callback answered, or why no answer came (the connection refused, a timeout).
    pub answer: Result<u16, String>,
}

impl Delivery {
    /// The record as JSON, for the `/_sim/` controls.
    pub(crate) fn to_json(&self) -> Value {
        let (status, error) = match &self.answer {
            Ok(status) => (json!(status), Value::Null),
            Err(error) => (Value::Null, json!(error)),
        };
        json!({
            "messageId": self.message_id,
            "messageType": self.message_type,
            "subscriptionId": self.subscription_id,
            "subscriptionType": self.subscription_type,
            "retry": self.retry,
            "status": status,
            "error": error,
        })
    }
}

/// A message to a callback, ready to send: Twitch's headers and the exact body they sign.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// What it is.
    pub message_type: MessageType,
    /// Its subscription's id.
    pub subscription_id: String,
    /// Its subscription's type.
    pub subscription_type: Kind,
    /// Where it goes.
    pub callback: String,
    /// `Twitch-Eventsub-Message-Id`.
    pub id: String,
    /// `Twitch-Eventsub-Message-Retry`.
    pub retry: u32,
    /// `Twitch-Eventsub-Message-Timestamp`.
    pub timestamp: String,
    /// The JSON body, as sent and signed.
    pub body: String,
    /// For a verification, the challenge the callback must answer with.
    pub challenge: Option<String>,
    secret: String,
}

impl Message {
    fn new(sub: &Sub, message_type: MessageType, body: &Value, challenge: Option<String>) -> Message {
        Message {
            message_type,
            subscription_id: sub.id.clone(),
            subscription_type: sub.kind,
            callback: sub.callback.clone(),
            id: uuid(),
            retry: 0,
            timestamp: now_rfc3339_nanos(),
            body: body.to_string(),
            challenge,
            secret: sub.secret.clone(),
        }
    }

    /// The headers Twitch sends with every message, the `sha256=` signature among them.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Twitch-Eventsub-Message-Id", self.id.clone()),
            ("Twitch-Eventsub-Message-Retry", self.retry.to_string()),
            ("Twitch-Eventsub-Message-Type", self.message_type.name().to_owned()),
            ("Twitch-Eventsub-Message-Signature", signature(&self.secret, &self.id, &self.timestamp, &self.body)),
            ("Twitch-Eventsub-Message-Timestamp", self.timestamp.clone()),
            ("Twitch-Eventsub-Subscription-Type", self.subscription_type.name().to_owned()),
            ("Twitch-Eventsub-Subscription-Version", VERSION.to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ]
    }

    /// The message sent again after a failure: the same id and body, `retry` one more, a new timestamp
    /// (and so a new signature).
    pub fn retried(&self) -> Message {
        Message { retry: self.retry + 1, timestamp: now_rfc3339_nanos(), ..self.clone() }
    }

    /// The record of one attempt to send it.
    fn delivery(&self, answer: Result<u16, String>) -> Delivery {
        Delivery {
            message_id: self.id.clone(),
            message_type: self.message_type.name().to_owned(),
            subscription_id: self.subscription_id.clone(),
            subscription_type: self.subscription_type.name().to_owned(),
            retry: self.retry,
            answer,
        }
    }
}

/// `sha256=` and the lowercase hex of HMAC-SHA256(secret, message id + timestamp + body).
fn signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in [id, timestamp, body] {
        mac.update(part.as_bytes());
    }
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

/// A random version 4 UUID, lowercase, as Twitch's subscription and message ids are.
fn uuid() -> String {
    let hex = random_text(b"0123456789abcdef", 32);
    let variant = char::from(b"89ab"[usize::from(hex.as_bytes()[16]) % 4]);
    format!("{}-{}-4{}-{variant}{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..])
}

/// Whether Twitch takes a callback URL: `https` on port 443; with `allow_http` any `http` or `https`
/// URL with a host.
fn callback_allowed(url: &str, allow_http: bool) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = split_port(host_port);
    if host.is_empty() {
        return false;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => allow_http || port.is_none_or(|port| port == "443"),
        "http" => allow_http,
        _ => false,
    }
}

/// A URL authority's host and port, if it names one (`[::1]:8080`, `example.com:443`, `example.com`).
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        return match host_port.split_once("]:") {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

/// What a Create EventSub Subscription request asks for, once checked.
#[derive(Debug)]
struct Draft {
    kind: Kind,
    broadcaster_user_id: String,
    callback: String,
    secret: String,
}

/// Checks a Create EventSub Subscription body as Twitch does, answering 400 to what it refuses.
fn parse_draft(body: &[u8], allow_http: bool) -> Result<Draft, Reply> {
    let bad = |message: &str| helix_error(400, message);
    let body: Value = serde_json::from_slice(body).map_err(|_| bad("The request body must be a JSON object"))?;
    let kind = body["type"]
        .as_str()
        .and_then(Kind::parse)
        .ok_or_else(|| bad("The parameter \"type\" must be a supported subscription type"))?;
    if body["version"].as_str() != Some(VERSION) {
        return Err(bad("The parameter \"version\" must be a supported version of the subscription type"));
    }
    let broadcaster_user_id = body["condition"]["broadcaster_user_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("The condition must have a broadcaster_user_id"))?;
    let transport = &body["transport"];
    if transport["method"].as_str() != Some("webhook") {
        return Err(bad("The transport method must be webhook (the only one simulated)"));
    }
    let callback = transport["callback"]
        .as_str()
        .filter(|callback| callback_allowed(callback, allow_http))
        .ok_or_else(|| bad("The transport's callback must be an HTTPS URL on port 443"))?;
    let secret = transport["secret"]
        .as_str()
        .filter(|secret| secret.is_ascii() && (10..=100).contains(&secret.len()))
        .ok_or_else(|| {
            bad("The secret must be an ASCII string that's a minimum of 10 characters long and a maximum of 100 characters long")
        })?;
    Ok(Draft {
        kind,
        broadcaster_user_id: broadcaster_user_id.to_owned(),
        callback: callback.to_owned(),
        secret: secret.to_owned(),
    })
}

/// The simulated EventSub: subscriptions, the messages waiting to be sent, and what became of those sent.
#[derive(Debug, Default)]
pub(crate) struct EventSub {
    subscriptions: Vec<Sub>,
    /// Messages made but not handed to `webhooks` yet.
    outbox: Vec<Message>,
    /// Messages handed to `webhooks` whose delivery (retry included) has not ended.
    in_flight: usize,
    deliveries: Vec<Delivery>,
    last_notification: Option<Message>,
    allow_http: bool,
}

impl EventSub {
    /// Whether new subscriptions may have `http` callbacks and callbacks on any port.
    pub fn allow_http_callbacks(&mut self, allow: bool) {
        self.allow_http = allow;
    }

    /// Every subscription, in the order created.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions.iter().map(Sub::view).collect()
    }

    /// Every attempt to send a message, in the order they ended.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.clone()
    }

    /// Whether no message waits or is being sent.
    pub fn is_idle(&self) -> bool {
        self.outbox.is_empty() && self.in_flight == 0
    }

    /// Hands over the messages to send, which count as in flight until [`EventSub::finished`].
    pub fn take_outbox(&mut self) -> Vec<Message> {
        let messages = std::mem::take(&mut self.outbox);
        self.in_flight += messages.len();
        messages
    }

    /// One message taken from the outbox is done with.
    pub fn finished(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Records one attempt to send a message.
    pub fn record(&mut self, message: &Message, answer: Result<u16, String>) {
        self.deliveries.push(message.delivery(answer));
    }

    /// Ends a subscription's verification: `enabled` if its callback answered the challenge,
    /// `webhook_callback_verification_failed` if not (nothing if it was deleted meanwhile).
    pub fn verified(&mut self, subscription_id: &str, passed: bool) {
        if let Some(sub) = self.subscriptions.iter_mut().find(|s| s.id == subscription_id && s.status == PENDING) {
            sub.status = (if passed { ENABLED } else { FAILED }).to_owned();
        }
    }

    /// The last notification made, exactly as first sent.
    pub fn last_notification(&self) -> Option<Message> {
        self.last_notification.clone()
    }

    /// Sets a subscription's status to `reason` and, if it was enabled, sends its callback a revocation;
    /// `false` for an unknown id.
    pub fn revoke(&mut self, subscription_id: &str, reason: &str) -> bool {
        let Some(sub) = self.subscriptions.iter_mut().find(|s| s.id == subscription_id) else {
            return false;
        };
        let was_enabled = sub.status == ENABLED;
        sub.status = reason.to_owned();
        if was_enabled {
            let message = Message::new(sub, MessageType::Revocation, &json!({"subscription": sub.to_json()}), None);
            self.outbox.push(message);
        }
        true
    }

    /// Makes a notification of `event` for every enabled subscription of a type and broadcaster.
    pub fn notify(&mut self, kind: Kind, broadcaster_user_id: &str, event: &Value) {
        let matching = self
            .subscriptions
            .iter()
            .filter(|s| s.kind == kind && s.broadcaster_user_id == broadcaster_user_id && s.status == ENABLED);
        for sub in matching {
            let body = json!({"subscription": sub.to_json(), "event": event});
            let message = Message::new(sub, MessageType::Notification, &body, None);
            self.last_notification = Some(message.clone());
            self.outbox.push(message);
        }
    }

    /// How many subscriptions an app has.
    fn total(&self, client_id: &str) -> usize {
        self.subscriptions.iter().filter(|s| s.client_id == client_id).count()
    }

    /// `POST /helix/eventsub/subscriptions`, for an app already admitted: checks the body, refuses an
    /// unknown broadcaster (`user_exists` says) and duplicates, answers 202 with the pending
    /// subscription and queues its verification.
    pub fn create(&mut self, request: &Request<'_>, client_id: &str, user_exists: impl Fn(&str) -> bool) -> Reply {
        let draft = match parse_draft(request.body, self.allow_http) {
            Ok(draft) => draft,
            Err(refusal) => return refusal,
        };
        if !user_exists(&draft.broadcaster_user_id) {
            return helix_error(400, "The broadcaster_user_id of the condition is not a user's id");
        }
        if self.subscriptions.iter().any(|s| s.repeats(client_id, &draft)) {
            return helix_error(409, "subscription already exists");
        }
        let sub = Sub {
            id: uuid(),
            client_id: client_id.to_owned(),
            kind: draft.kind,
            broadcaster_user_id: draft.broadcaster_user_id,
            callback: draft.callback,
            secret: draft.secret,
            status: PENDING.to_owned(),
            created_at: now_rfc3339_nanos(),
        };
        let challenge = random_text(ID_ALPHABET, 32);
        let body = json!({"challenge": challenge, "subscription": sub.to_json()});
        self.outbox.push(Message::new(&sub, MessageType::Verification, &body, Some(challenge)));
        let data = sub.to_json();
        self.subscriptions.push(sub);
        let total = self.total(client_id);
        Reply::json(202, &json!({"data": [data], "total": total, "total_cost": 0, "max_total_cost": MAX_TOTAL_COST}))
    }

    /// `GET /helix/eventsub/subscriptions`: an app's subscriptions, kept by at most one filter
    /// (`status`, `type`, `user_id` or `subscription_id`), on one page.
    pub fn list(&self, request: &Request<'_>, client_id: &str) -> Reply {
        let filters: Vec<(&str, &str)> =
            FILTERS.iter().filter_map(|name| request.param(name).map(|value| (*name, value))).collect();
        if filters.len() > 1 {
            return helix_error(400, "The request may specify only one filter query parameter");
        }
        let data: Vec<Value> = self
            .subscriptions
            .iter()
            .filter(|s| s.client_id == client_id)
            .filter(|s| filters.iter().all(|(name, value)| s.matches(name, value)))
            .map(Sub::to_json)
            .collect();
        let total = self.total(client_id);
        Reply::json(
            200,
            &json!({"data": data, "total": total, "total_cost": 0, "max_total_cost": MAX_TOTAL_COST, "pagination": {}}),
        )
    }

    /// `DELETE /helix/eventsub/subscriptions?id=...`: 204, or 404 for an id not the app's.
    pub fn delete(&mut self, request: &Request<'_>, client_id: &str) -> Reply {
        let Some(id) = request.param("id").filter(|id| !id.is_empty()) else {
            return helix_error(400, "Missing required parameter \"id\"");
        };
        let Some(index) = self.subscriptions.iter().position(|s| s.id == id && s.client_id == client_id) else {
            return helix_error(404, "subscription not found");
        };
        self.subscriptions.remove(index);
        Reply::empty(204)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_hmac_sha256_in_hex() {
        // RFC 4231, test case 2, its data split into message id, timestamp and body.
        assert_eq!(
            signature("Jefe", "what do ya", " want for ", "nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn makes_version_4_uuids() {
        let id = uuid();
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
        assert!(groups[2].starts_with('4') && groups[3].starts_with(['8', '9', 'a', 'b']), "{id}");
        assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        assert_ne!(uuid(), id);
    }

    #[test]
    fn takes_https_callbacks_on_port_443_unless_told_otherwise() {
        for url in ["https://example.com/eventsub", "https://example.com:443/x?y", "HTTPS://[::1]/cb"] {
            assert!(callback_allowed(url, false), "{url}");
        }
        for url in ["http://example.com/cb", "https://example.com:8443/cb", "ftp://x/", "https:///cb", "example.com"] {
            assert!(!callback_allowed(url, false), "{url}");
        }
        for url in ["http://127.0.0.1:8080/cb", "https://[::1]:8443/cb", "http://localhost/"] {
            assert!(callback_allowed(url, true), "{url}");
        }
        assert!(!callback_allowed("ws://127.0.0.1:8080/", true));
    }
}
