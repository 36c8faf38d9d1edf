//! Receiving Garrison's webhooks: check a delivery's signature over the raw body, refuse a stale
//! timestamp (a replay), then read the event. The signature rule is garrison-core's
//! [`WebhookSecret`], the one the server signs with (Standard Webhooks: `v1,` + base64 HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use garrison_core::webhooks::{EVENT_TYPES, WebhookSecret};
use serde::Deserialize;

/// How far a delivery's `webhook-timestamp` may be from now, either way.
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// One event, as every delivery's body carries it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// One of [`EVENT_TYPES`], e.g. `xp.changed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change was made (RFC 3339, UTC).
    pub timestamp: String,
    /// What changed; its fields by type are listed in `docs/webhooks.md` (ids as strings).
    pub data: serde_json::Value,
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The secret is not `whsec_` + base64 of 32 bytes.
    #[error("the secret is not a whsec_ signing secret")]
    InvalidSecret,
    /// `webhook-timestamp` is not Unix seconds.
    #[error("webhook-timestamp is not Unix seconds")]
    InvalidTimestamp,
    /// The timestamp is more than [`TIMESTAMP_TOLERANCE`] from now: a replay, or a clock far off.
    #[error("webhook-timestamp is {skew_secs} s from now, more than the 300 s allowed")]
    StaleTimestamp { skew_secs: u64 },
    /// No `v1,` signature in `webhook-signature` is the secret's over this id, timestamp and body.
    #[error("the signature does not match")]
    BadSignature,
    /// Genuine, but the body is not an event.
    #[error("the body is not an event: {0}")]
    InvalidBody(#[source] serde_json::Error),
}

/// The headers of one delivery, as received.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryHeaders<'a> {
    /// `webhook-id` (`msg_...`): the same on every attempt of one event; deduplicate by it.
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds of the attempt.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `v1,<base64>` signatures.
    pub signature: &'a str,
}

/// Checks a delivery against the endpoint's secret (`whsec_...`) at the system clock's now, and reads
/// its event. Check before acting on it, with the body exactly as received.
pub fn verify_webhook(secret: &str, headers: DeliveryHeaders<'_>, body: &[u8]) -> Result<Event, VerifyError> {
    verify_webhook_at(secret, headers, body, SystemTime::now())
}

/// [`verify_webhook`] at a given time.
pub fn verify_webhook_at(
    secret: &str,
    headers: DeliveryHeaders<'_>,
    body: &[u8],
    now: SystemTime,
) -> Result<Event, VerifyError> {
    let secret = WebhookSecret::parse(secret.trim()).ok_or(VerifyError::InvalidSecret)?;
    let timestamp: i64 = headers.timestamp.trim().parse().map_err(|_| VerifyError::InvalidTimestamp)?;
    let now_secs = match now.duration_since(UNIX_EPOCH) {
        Ok(since) => i128::from(since.as_secs()),
        Err(before) => -i128::from(before.duration().as_secs()),
    };
    let skew = (i128::from(timestamp) - now_secs).unsigned_abs();
    if skew > u128::from(TIMESTAMP_TOLERANCE.as_secs()) {
        return Err(VerifyError::StaleTimestamp { skew_secs: u64::try_from(skew).unwrap_or(u64::MAX) });
    }
    if !secret.verify(headers.id, timestamp, body, headers.signature) {
        return Err(VerifyError::BadSignature);
    }
    serde_json::from_slice(body).map_err(VerifyError::InvalidBody)
}
