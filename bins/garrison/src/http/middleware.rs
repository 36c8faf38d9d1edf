//! Request ids and the access log.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Hands out request ids: a random per-process prefix and a counter, cheap and unique.
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new(entropy: [u8; 4]) -> Self {
        let prefix: String = entropy.iter().map(|b| format!("{b:02x}")).collect();
        Self { prefix: prefix.into(), next: Arc::new(AtomicU64::new(1)) }
    }

    fn issue(&self) -> String {
        format!("{}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// A client's own `X-Request-Id` is kept when it is short and printable; otherwise one is issued.
fn accepted(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .then(|| text.to_owned())
}

/// Gives every response an `X-Request-Id` and logs one line per request: method, path (never the
/// query string or headers, which may carry keys), status and duration.
pub async fn request_context(
    ids: RequestIds,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.headers().get(&REQUEST_ID).and_then(accepted).unwrap_or_else(|| ids.issue());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::info!(status, micros, "served"));
    Ok(response)
}
