//! What can go wrong with a call: the server's refusal (its `{"error": "..."}` text and status), or
//! the exchange itself. No variant carries the API key, a bot token or any other credential.

use std::fmt;

/// The result of a call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call did not give its answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: no API key, or one the server does not know (or a bot token Discord refused).
    #[error("unauthorized (401): {message}")]
    Unauthorized { message: String },
    /// 403: the key belongs to another server, is read-only, or the bot may not do this.
    #[error("forbidden (403): {message}")]
    Forbidden { message: String },
    /// 404: the thing named does not exist.
    #[error("not found (404): {message}")]
    NotFound { message: String },
    /// 429: a rate limit (Garrison's, Discord's or Roblox's), still in force after the retries the
    /// client was allowed, or asking for a longer wait than it may make.
    #[error("rate limited (429){}: {message}", RetryAfter(.retry_after_secs))]
    RateLimited { retry_after_secs: Option<u64>, message: String },
    /// 503: the server cannot take the request now (its database, a full queue, calls to Discord
    /// paused), still so after the retries the client was allowed.
    #[error("unavailable (503){}: {message}", RetryAfter(.retry_after_secs))]
    Unavailable { retry_after_secs: Option<u64>, message: String },
    /// Any other refusal: 400 (an invalid value, named), 409, 413, 422, 5xx...
    #[error("refused ({status}): {message}")]
    Api { status: u16, message: String },
    /// The server could not be reached, or the exchange failed. The URL is left out (a path may hold
    /// a view id, which works as a password).
    #[error("cannot reach Garrison: {0}")]
    Transport(#[source] reqwest::Error),
    /// A successful answer that is not the JSON this client expects.
    #[error("the answer ({status}) is not the JSON expected: {source}")]
    Decode {
        status: u16,
        #[source]
        source: serde_json::Error,
    },
    /// The request could not be built (a missing path parameter, a header value that cannot travel,
    /// a body that does not serialize): nothing was sent.
    #[error("the request cannot be built: {0}")]
    InvalidRequest(String),
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("the base URL is not an absolute http(s) URL: {0}")]
    InvalidBaseUrl(String),
}

impl Error {
    /// The HTTP status of a refusal; `None` when no answer was received or it could not be read.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::RateLimited { .. } => Some(429),
            Error::Unavailable { .. } => Some(503),
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Transport(_) | Error::InvalidRequest(_) | Error::InvalidBaseUrl(_) => None,
        }
    }

    /// The server's own text of a refusal (its `{"error": "..."}`).
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Unauthorized { message }
            | Error::Forbidden { message }
            | Error::NotFound { message }
            | Error::RateLimited { message, .. }
            | Error::Unavailable { message, .. }
            | Error::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The refusal an answer with this status and body is: the body's `error` text when it is the
    /// server's envelope, else the body as text (a few routes answer `text/plain`), else the status's
    /// reason.
    pub(crate) fn from_answer(status: u16, retry_after_secs: Option<u64>, body: &[u8]) -> Self {
        let message = refusal_text(status, body);
        match status {
            401 => Error::Unauthorized { message },
            403 => Error::Forbidden { message },
            404 => Error::NotFound { message },
            429 => Error::RateLimited { retry_after_secs, message },
            503 => Error::Unavailable { retry_after_secs, message },
            _ => Error::Api { status, message },
        }
    }
}

/// The most of a non-JSON refusal kept as its message.
const MAX_MESSAGE_CHARS: usize = 1_000;

fn refusal_text(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: String,
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        return envelope.error;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
        return reason.unwrap_or("no reason given").to_owned();
    }
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// `, retry after N s` when the server said.
struct RetryAfter<'a>(&'a Option<u64>);

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(secs) => write!(f, ", retry after {secs} s"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_servers_text_and_status() {
        let error =
            Error::from_answer(400, None, br#"{"error":"amount: must be an integer from 1 to 1000000000, got 0"}"#);
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.message(), Some("amount: must be an integer from 1 to 1000000000, got 0"));
        assert_eq!(error.to_string(), "refused (400): amount: must be an integer from 1 to 1000000000, got 0");

        let limited = Error::from_answer(429, Some(3), br#"{"error":"slow down"}"#);
        assert_eq!(limited.to_string(), "rate limited (429), retry after 3 s: slow down");
        assert!(
            matches!(Error::from_answer(401, None, b""), Error::Unauthorized { message } if message == "Unauthorized")
        );
        assert_eq!(Error::from_answer(400, None, b"value: not a number\n").message(), Some("value: not a number"));
    }
}
