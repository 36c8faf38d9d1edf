//! Twitch EventSub over webhooks: what Twitch posts to Garrison's callback, checked before it is
//! believed. Each message is signed with the secret Garrison gave when it subscribed
//! (`sha256=` + hex HMAC-SHA256 of the message id, the timestamp and the body, compared in constant
//! time); older than [`MAX_AGE_MS`] or seen before (by message id, for as long) is refused, so a
//! captured message cannot be replayed. Only then is the body read.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::Secret;
use crate::ttl::TtlCache;
use crate::{Clock, Timestamp};

/// How old (or how far ahead) a message may be: Twitch's advice, ten minutes.
pub const MAX_AGE_MS: i64 = 10 * 60_000;
/// Message ids remembered to refuse replays (bounded; an id older than [`MAX_AGE_MS`] is refused as
/// stale anyway).
const SEEN_CAPACITY: usize = 100_000;
/// The subscription types Garrison asks for, one of each per watched broadcaster.
pub const SUBSCRIPTION_TYPES: [&str; 2] = ["stream.online", "stream.offline"];

/// A message as it arrived: the `Twitch-Eventsub-Message-*` headers and the raw body.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    /// `sha256=<hex>`.
    pub signature: &'a str,
    /// `webhook_callback_verification`, `notification` or `revocation`.
    pub kind: &'a str,
    pub body: &'a [u8],
}

/// What a checked message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Twitch checks the callback: answer the challenge, as is, in a `text/plain` body.
    Challenge(String),
    /// A watched broadcaster went live.
    Online { login: String, stream_id: String, started_at: Option<Timestamp> },
    /// A watched broadcaster's stream ended.
    Offline { login: String },
    /// Twitch ended a subscription (`authorization_revoked`, `user_removed`, ...).
    Revoked { subscription: String, status: String },
    /// A notification of a type Garrison does not act on.
    Other,
}

/// Why a message was refused. Never repeats the signature or the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the message's signature does not match")]
    Signature,
    #[error("the message is older than ten minutes, or its timestamp is unreadable")]
    Stale,
    #[error("the message was delivered before")]
    Replayed,
    #[error("the message cannot be read: {0}")]
    Malformed(String),
}

/// Checks and reads EventSub messages signed with one secret.
pub struct EventSubReceiver {
    secret: Secret,
    seen: TtlCache<String, ()>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EventSubReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSubReceiver").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    challenge: Option<String>,
    subscription: Subscription,
    #[serde(default)]
    event: Option<Event>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: Option<String>,
    broadcaster_user_login: String,
    #[serde(default)]
    started_at: Option<String>,
}

impl EventSubReceiver {
    /// A receiver for messages signed with `secret` (the one Garrison subscribes with).
    pub fn new(secret: Secret, clock: Arc<dyn Clock>) -> Self {
        Self { secret, seen: TtlCache::new(SEEN_CAPACITY, MAX_AGE_MS), clock }
    }

    /// The signature Twitch puts on a message: `sha256=` and the hex HMAC-SHA256.
    pub fn sign(secret: &Secret, id: &str, timestamp: &str, body: &[u8]) -> String {
        let digest = Self::mac(secret, id, timestamp, body).finalize().into_bytes();
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256=");
        for byte in digest {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }

    fn mac(secret: &Secret, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(id.as_bytes());
        mac.update(timestamp.as_bytes());
        mac.update(body);
        mac
    }

    /// Checks the signature, the age and that the message is new, then reads it.
    pub fn receive(&self, delivery: &Delivery<'_>) -> Result<Received, Refused> {
        let hex = delivery.signature.strip_prefix("sha256=").ok_or(Refused::Signature)?;
        let claimed = decode_hex(hex).ok_or(Refused::Signature)?;
        Self::mac(&self.secret, delivery.id, delivery.timestamp, delivery.body)
            .verify_slice(&claimed)
            .map_err(|_| Refused::Signature)?;
        let now = self.clock.now();
        let at = Timestamp::parse_iso8601(delivery.timestamp).ok_or(Refused::Stale)?;
        if (now.millis() - at.millis()).abs() > MAX_AGE_MS {
            return Err(Refused::Stale);
        }
        if self.seen.get(&delivery.id.to_owned(), now).is_some() {
            return Err(Refused::Replayed);
        }
        self.seen.put(delivery.id.to_owned(), (), now);
        let body: Body = serde_json::from_slice(delivery.body).map_err(|e| Refused::Malformed(e.to_string()))?;
        Ok(match delivery.kind {
            "webhook_callback_verification" => {
                Received::Challenge(body.challenge.ok_or_else(|| Refused::Malformed("no challenge".into()))?)
            }
            "revocation" => Received::Revoked { subscription: body.subscription.id, status: body.subscription.status },
            "notification" => match (body.subscription.kind.as_str(), body.event) {
                ("stream.online", Some(event)) => Received::Online {
                    login: event.broadcaster_user_login.to_ascii_lowercase(),
                    stream_id: event.id.ok_or_else(|| Refused::Malformed("stream.online without an id".into()))?,
                    started_at: event.started_at.as_deref().and_then(Timestamp::parse_iso8601),
                },
                ("stream.offline", Some(event)) => {
                    Received::Offline { login: event.broadcaster_user_login.to_ascii_lowercase() }
                }
                _ => Received::Other,
            },
            other => return Err(Refused::Malformed(format!("unknown message type {other:?}"))),
        })
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Timestamp);

    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    const NOW: &str = "2026-12-06T20:00:00.123456789Z";

    fn receiver() -> (EventSubReceiver, Secret) {
        let secret = Secret::parse("secret", "a-long-eventsub-secret").expect("secret");
        let now = Timestamp::parse_iso8601(NOW).expect("time");
        (EventSubReceiver::new(secret.clone(), Arc::new(Fixed(now))), secret)
    }

    fn online() -> Vec<u8> {
        br#"{"subscription":{"id":"s1","status":"enabled","type":"stream.online","version":"1"},
             "event":{"id":"9001","broadcaster_user_id":"1337","broadcaster_user_login":"Cool_User",
                      "broadcaster_user_name":"Cool_User","type":"live","started_at":"2026-12-06T19:59:00Z"}}"#
            .to_vec()
    }

    #[test]
    fn a_signed_fresh_message_is_read_once() {
        let (receiver, secret) = receiver();
        let body = online();
        let signature = EventSubReceiver::sign(&secret, "m1", NOW, &body);
        let delivery = Delivery { id: "m1", timestamp: NOW, signature: &signature, kind: "notification", body: &body };
        assert_eq!(
            receiver.receive(&delivery),
            Ok(Received::Online {
                login: "cool_user".into(),
                stream_id: "9001".into(),
                started_at: Timestamp::parse_iso8601("2026-12-06T19:59:00Z"),
            })
        );
        assert_eq!(receiver.receive(&delivery), Err(Refused::Replayed));
    }

    #[test]
    fn forged_altered_and_stale_messages_are_refused() {
        let (receiver, secret) = receiver();
        let body = online();
        let signature = EventSubReceiver::sign(&secret, "m1", NOW, &body);
        let mut altered = body.clone();
        altered[10] ^= 1;
        let cases = [
            (
                Delivery { id: "m1", timestamp: NOW, signature: &signature, kind: "notification", body: &altered },
                Refused::Signature,
            ),
            (
                Delivery { id: "m2", timestamp: NOW, signature: &signature, kind: "notification", body: &body },
                Refused::Signature,
            ),
            (
                Delivery { id: "m1", timestamp: NOW, signature: "sha256=00", kind: "notification", body: &body },
                Refused::Signature,
            ),
            (
                Delivery { id: "m1", timestamp: NOW, signature: "md5=x", kind: "notification", body: &body },
                Refused::Signature,
            ),
        ];
        for (delivery, refused) in cases {
            assert_eq!(receiver.receive(&delivery), Err(refused));
        }
        let old = "2026-12-06T19:49:00Z";
        let signature = EventSubReceiver::sign(&secret, "m3", old, &body);
        let stale = Delivery { id: "m3", timestamp: old, signature: &signature, kind: "notification", body: &body };
        assert_eq!(receiver.receive(&stale), Err(Refused::Stale));
        let other = Secret::parse("secret", "someone-elses-secret").expect("secret");
        let signature = EventSubReceiver::sign(&other, "m4", NOW, &body);
        let forged = Delivery { id: "m4", timestamp: NOW, signature: &signature, kind: "notification", body: &body };
        assert_eq!(receiver.receive(&forged), Err(Refused::Signature));
        // A refused message is not remembered: the genuine one still goes through.
        let signature = EventSubReceiver::sign(&secret, "m1", NOW, &body);
        let genuine = Delivery { id: "m1", timestamp: NOW, signature: &signature, kind: "notification", body: &body };
        assert!(receiver.receive(&genuine).is_ok());
    }

    #[test]
    fn challenges_offline_and_revocations_are_read() {
        let (receiver, secret) = receiver();
        let read = |id: &str, kind: &str, body: &[u8]| {
            let signature = EventSubReceiver::sign(&secret, id, NOW, body);
            receiver.receive(&Delivery { id, timestamp: NOW, signature: &signature, kind, body })
        };
        let challenge = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"s1","status":"webhook_callback_verification_pending","type":"stream.online"}}"#;
        assert_eq!(
            read("c1", "webhook_callback_verification", challenge),
            Ok(Received::Challenge("pogchamp-kappa-360noscope-vohiyo".into()))
        );
        let offline = br#"{"subscription":{"id":"s2","status":"enabled","type":"stream.offline"},"event":{"broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User"}}"#;
        assert_eq!(read("o1", "notification", offline), Ok(Received::Offline { login: "cool_user".into() }));
        let revoked = br#"{"subscription":{"id":"s2","status":"authorization_revoked","type":"stream.offline"}}"#;
        assert_eq!(
            read("r1", "revocation", revoked),
            Ok(Received::Revoked { subscription: "s2".into(), status: "authorization_revoked".into() })
        );
        assert!(matches!(read("x1", "notification", b"{}"), Err(Refused::Malformed(_))));
        assert!(matches!(read("x2", "mystery", offline), Err(Refused::Malformed(_))));
    }
}
