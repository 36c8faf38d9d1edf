//! `Idempotency-Key`: a client may send a key with a request that changes data, so that retrying it
//! (after a timeout, a dropped connection) cannot apply the change twice.
//!
//! Rules:
//! - A key is scoped to the API key that sent it and to the route: the same text sent by another API
//!   key, or to another route, is another key.
//! - A key is remembered for [`WINDOW_MILLIS`] (24 hours) from its first use, with a hash of the request
//!   and the answer it got. Within that window the same key with the same request answers the first
//!   answer again and changes nothing; the same key with a different request is refused
//!   ([`Error::IdempotencyKeyReused`], 422). After the window the key is free again.
//! - Only a request that succeeded is remembered: one that was refused (a bad amount, an overflow) left
//!   nothing behind, so retrying it runs it again.
//! - The store keeps one row per `(API key, route, key)` under a uniqueness constraint, written in the
//!   same transaction as the change: two requests with one key at once cannot both apply.

use sha2::{Digest, Sha256};

use crate::{ApiKeyId, Error, Result, ServerId, Timestamp};

/// How long a key is remembered: 24 hours.
pub const WINDOW_MILLIS: i64 = 24 * 60 * 60 * 1000;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// A client's idempotency key: 1 to 255 visible ASCII characters (what an HTTP header carries).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_KEY_CHARS || !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(Error::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_CHARS} visible ASCII characters"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 of a request's canonical form, as 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestHash(String);

impl RequestHash {
    /// Hashes a canonical description of a request (see [`canonical`]).
    pub fn of(canonical: &str) -> Self {
        Self(Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The canonical form of a request: its fields as one JSON array, so that the hash depends on what
/// was asked and not on how the JSON was spaced or ordered.
pub fn canonical(fields: &[serde_json::Value]) -> String {
    serde_json::Value::Array(fields.to_vec()).to_string()
}

/// What a request carrying an `Idempotency-Key` asks the store to check and, if it applies, remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    /// The API key that sent it (the scope).
    pub key_id: ApiKeyId,
    pub server: ServerId,
    /// The route, as `/api/xp/add`.
    pub route: &'static str,
    pub key: IdempotencyKey,
    pub request_hash: RequestHash,
    /// When it arrived (from the Clock port).
    pub at: Timestamp,
}

impl IdempotentRequest {
    /// The oldest first use still inside the window.
    pub const fn window_start(&self) -> Timestamp {
        Timestamp(self.at.0.saturating_sub(WINDOW_MILLIS))
    }
}

/// A remembered use of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedAnswer {
    pub request_hash: RequestHash,
    /// The answer, encoded by the use case that gave it.
    pub answer: String,
    pub created_at: Timestamp,
}

/// What a repeated key means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat<'a> {
    /// The same request within the window: answer this again, change nothing.
    Replay(&'a str),
    /// The earlier use is older than the window: forget it and run the request.
    Expired,
}

/// The rule for a key that was used before: the same request within the window replays its answer, a
/// different one is refused, an expired one is forgotten.
pub fn on_repeat<'a>(request: &IdempotentRequest, earlier: &'a RememberedAnswer) -> Result<Repeat<'a>> {
    if earlier.created_at < request.window_start() {
        return Ok(Repeat::Expired);
    }
    if earlier.request_hash == request.request_hash {
        Ok(Repeat::Replay(&earlier.answer))
    } else {
        Err(Error::IdempotencyKeyReused { key: request.key.as_str().to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(hash: &str, at: i64) -> IdempotentRequest {
        IdempotentRequest {
            key_id: ApiKeyId(1),
            server: ServerId::from_stored(1),
            route: "/api/xp/add",
            key: IdempotencyKey::parse("k-1").expect("valid"),
            request_hash: RequestHash::of(hash),
            at: Timestamp(at),
        }
    }

    fn remembered(hash: &str, at: i64) -> RememberedAnswer {
        RememberedAnswer { request_hash: RequestHash::of(hash), answer: "25".into(), created_at: Timestamp(at) }
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert_eq!(IdempotencyKey::parse(" abc-1 ").expect("trimmed").as_str(), "abc-1");
        for bad in ["", "   ", "é", "a\tb", &"x".repeat(256)] {
            let err = IdempotencyKey::parse(bad).expect_err(bad).to_string();
            assert!(err.starts_with("Idempotency-Key:"), "{err}");
        }
        assert!(IdempotencyKey::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn the_same_request_replays_a_different_one_is_refused() {
        let first = remembered("a", 1_000);
        assert_eq!(on_repeat(&request("a", 2_000), &first).expect("same"), Repeat::Replay("25"));
        let err = on_repeat(&request("b", 2_000), &first).expect_err("different");
        assert!(matches!(err, Error::IdempotencyKeyReused { ref key } if key == "k-1"), "{err:?}");
    }

    #[test]
    fn keys_expire_after_24_hours() {
        let first = remembered("a", 1_000);
        assert!(on_repeat(&request("b", 1_000 + WINDOW_MILLIS), &first).is_err(), "still inside the window");
        assert_eq!(on_repeat(&request("b", 1_001 + WINDOW_MILLIS), &first).expect("expired"), Repeat::Expired);
    }

    #[test]
    fn the_hash_is_of_the_canonical_form() {
        let a = RequestHash::of(&canonical(&[serde_json::json!("add"), serde_json::json!(5)]));
        assert_eq!(a, RequestHash::of(r#"["add",5]"#));
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, RequestHash::of(r#"["add",6]"#));
    }
}
