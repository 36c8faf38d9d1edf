//! How a request reaches Discord: a rate-limit permit from the bot's twilight limiter, a ticket from
//! the process's [`RefusalBudget`], one HTTP exchange, and a decision on the answer.
//!
//! twilight-http builds the requests (routes, query strings, audit-log reasons, multipart forms) but
//! does not send them: its `ResponseFuture` re-sends every 429 at once, and when the 429 carries no
//! `X-RateLimit-Scope` (Cloudflare's do not) its limiter learns nothing and the re-sends never end.
//! Here every answer is seen: a 429 is waited out (its `Retry-After`, else the body's `retry_after`,
//! else a default) and re-sent only while the wait fits the budget and attempts remain; 401, 403 and
//! 429 answers count in the refusal budget. Nothing is spawned per request: when the caller goes
//! away, dropping the future ends the work, and nothing more is sent.
//!
//! The limiters' actor tasks run on a runtime of their own ([`LimiterRuntime`]), which lives as long
//! as the adapter: on a request's runtime, an actor dies with it (an actix worker stopping at
//! shutdown) and twilight panics in every request still waiting on that limiter.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use garrison_core::{
    Clock,
    discord::{BotToken, DiscordError, RefusalBudget, Trust, counts_as_refusal},
};
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, USER_AGENT};
use twilight_http::request::Request;
use twilight_http_ratelimiting::{Bucket, Endpoint, Method, Permit, RateLimitHeaders, RateLimiter};

use crate::errors;

/// Discord asks for `DiscordBot ($url, $version)`.
const AGENT: &str = concat!("DiscordBot (", env!("CARGO_PKG_REPOSITORY"), ", ", env!("CARGO_PKG_VERSION"), ")");

/// The shortest wait before a request refused with 429 is sent again.
const MIN_RETRY_AFTER: Duration = Duration::from_millis(50);

/// A current-thread tokio runtime on a thread of its own, for work no request may end: the rate
/// limiters' actors, the gateway's sessions. It stops when this value is dropped.
#[derive(Debug)]
pub(crate) struct ThreadRuntime {
    pub(crate) handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl ThreadRuntime {
    /// Starts it on a thread named `name`; `io` enables sockets besides timers.
    pub(crate) fn start(name: &str, io: bool) -> std::io::Result<Self> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            let mut builder = tokio::runtime::Builder::new_current_thread();
            if io {
                builder.enable_all();
            } else {
                builder.enable_time();
            }
            let runtime = match builder.build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            };
            let _ = sender.send(Ok(runtime.handle().clone()));
            // Returns when the sender is dropped; the runtime (and its tasks) are dropped here, on
            // this thread, outside any other runtime.
            let _ = runtime.block_on(stopped);
        })?;
        let handle = receiver.recv().map_err(|_| std::io::Error::other("the runtime's thread ended early"))??;
        Ok(Self { handle, _stop: stop })
    }
}

/// The rate limiters' runtime: they stop when the adapter is gone, so no request can use a limiter
/// any more.
#[derive(Debug)]
pub(crate) struct LimiterRuntime {
    runtime: ThreadRuntime,
}

impl LimiterRuntime {
    pub(crate) fn start() -> std::io::Result<Self> {
        Ok(Self { runtime: ThreadRuntime::start("discord-limits", false)? })
    }

    /// The client that builds twilight's typed requests. twilight's client builder starts a limiter
    /// of its own before it can be told not to: it is made here, so that limiter's actor has a
    /// runtime (it ends at once). It points at the discard port of the loopback address, so a request
    /// awaited through twilight by mistake (bypassing [`Transport::send`]) fails instead of reaching
    /// Discord unseen.
    pub(crate) fn request_builder(&self) -> twilight_http::Client {
        let _entered = self.runtime.handle.enter();
        twilight_http::Client::builder().ratelimiter(None).proxy("127.0.0.1:9".to_owned(), true).build()
    }

    /// A limiter whose actor runs here.
    pub(crate) fn limiter(&self, global_limit: u16) -> RateLimiter {
        let _entered = self.runtime.handle.enter();
        RateLimiter::new(global_limit.max(1))
    }
}

/// How patient to be, and with whom.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    /// How long a request may wait (permits and 429 back-offs) before the caller is told to retry.
    pub wait_budget: Duration,
    /// How long one exchange (request and answer) may take.
    pub request_timeout: Duration,
    /// Sends at most, 429s included.
    pub max_attempts: u32,
    /// The wait after a 429 that says nothing about how long to wait.
    pub default_retry_after: Duration,
}

/// Sends requests to Discord (or the configured stand-in).
pub(crate) struct Transport {
    pub http: reqwest::Client,
    /// `https://discord.com` or the stand-in's scheme and host; the API is under `/api/v10`.
    pub base: String,
    pub patience: Patience,
    pub budget: RefusalBudget,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("base", &self.base).field("patience", &self.patience).finish_non_exhaustive()
    }
}

/// One answer from Discord.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn millis(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Transport {
    /// Sends `request` (with `token` when the route is authorized), waiting for `limiter`'s permits,
    /// and returns the body of a 2xx answer. `trust` says whether Discord already accepted the token.
    pub(crate) async fn send(
        &self,
        request: &Request,
        token: Option<&BotToken>,
        limiter: Option<&RateLimiter>,
        trust: Trust,
    ) -> Result<Vec<u8>, DiscordError> {
        let patience = self.patience;
        let deadline = Instant::now() + patience.wait_budget;
        let endpoint = endpoint_of(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let permit = match limiter {
                Some(limiter) => permit(limiter, endpoint.clone(), deadline).await?,
                None => None,
            };
            let ticket = self
                .budget
                .try_take(trust, self.clock.now())
                .map_err(|retry_after_ms| DiscordError::Paused { retry_after_ms })?;
            let answer = match tokio::time::timeout(patience.request_timeout, self.exchange(request, token)).await {
                Ok(Ok(answer)) => answer,
                // The permit and the ticket are dropped unsettled: nothing was learned.
                Ok(Err(error)) => return Err(error),
                Err(_) => return Err(DiscordError::Unavailable("Discord did not answer in time".into())),
            };
            let scope = header(&answer.headers, RateLimitHeaders::SCOPE);
            ticket.settle(counts_as_refusal(answer.status, scope), self.clock.now());
            if let Some(permit) = permit {
                permit.complete(rate_limit_headers(&answer.headers));
            }
            match answer.status {
                200..=299 => return Ok(answer.body),
                429 => {
                    // Never at once, even when told to retry after 0 s.
                    let wait = retry_after(&answer.headers, &answer.body)
                        .unwrap_or(patience.default_retry_after)
                        .max(MIN_RETRY_AFTER);
                    tracing::info!(attempt, wait_ms = millis(wait), scope, "rate limited by Discord");
                    if attempt >= patience.max_attempts || Instant::now() + wait > deadline {
                        return Err(DiscordError::RateLimited { retry_after_ms: millis(wait) });
                    }
                    tokio::time::sleep(wait).await;
                }
                status => return Err(errors::from_response(status, &answer.body)),
            }
        }
    }

    /// One HTTP exchange, body included.
    async fn exchange(&self, request: &Request, token: Option<&BotToken>) -> Result<Answer, DiscordError> {
        let method = request.method();
        let url = format!("{}/api/v10/{}", self.base, request.path());
        let http_method = reqwest::Method::from_bytes(method.name().as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self.http.request(http_method, url).header(USER_AGENT, AGENT);
        if request.use_authorization_token()
            && let Some(token) = token
        {
            builder = builder.header(AUTHORIZATION, format!("Bot {}", token.expose()));
        }
        if let Some(form) = request.form() {
            builder = builder.header(CONTENT_TYPE, form.content_type()).body(form.clone().build());
        } else if let Some(body) = request.body() {
            builder = builder.header(CONTENT_TYPE, "application/json").body(body.to_vec());
        } else if matches!(method, Method::Put | Method::Post | Method::Patch) {
            builder = builder.header(CONTENT_LENGTH, 0);
        }
        if let Some(headers) = request.headers() {
            for (name, value) in headers {
                builder = builder.header(name.clone(), value.clone());
            }
        }
        let response = builder.send().await.map_err(|e| {
            tracing::debug!(error = %e.without_url(), "Discord could not be reached");
            DiscordError::Unavailable("Discord could not be reached".into())
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|_| DiscordError::Unavailable("Discord's answer was cut off".into()))?
            .to_vec();
        Ok(Answer { status, headers, body })
    }
}

/// The rate-limit endpoint a request counts against (its path without the query).
fn endpoint_of(request: &Request) -> Endpoint {
    let path = request.path().split('?').next().unwrap_or_default().to_owned();
    Endpoint { method: request.method(), path }
}

/// A permit for `endpoint`, or `RateLimited` when none comes before `deadline`. A bucket known to be
/// exhausted until after the deadline is refused at once, unsent.
async fn permit(limiter: &RateLimiter, endpoint: Endpoint, deadline: Instant) -> Result<Option<Permit>, DiscordError> {
    let seen: Arc<Mutex<Option<Bucket>>> = Arc::default();
    let record = Arc::clone(&seen);
    let waiting = limiter.acquire_if(endpoint, move |bucket| {
        *record.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = bucket;
        !bucket.is_some_and(|b| b.remaining == 0 && b.reset_at > deadline)
    });
    let outcome = tokio::time::timeout_at(deadline.into(), waiting).await;
    let bucket = *seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let reset = bucket.filter(|b| b.remaining == 0).map(|b| b.reset_at.saturating_duration_since(Instant::now()));
    match outcome {
        Ok(Some(permit)) => Ok(Some(permit)),
        // Refused by the predicate (or the limiter is gone): tell the caller when the bucket resets.
        Ok(None) | Err(_) => {
            Err(DiscordError::RateLimited { retry_after_ms: millis(reset.unwrap_or(Duration::from_secs(1))) })
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How long a 429 asks to wait: `Retry-After` (seconds), else the body's `retry_after`.
fn retry_after(headers: &HeaderMap, body: &[u8]) -> Option<Duration> {
    let from_header = header(headers, "retry-after").and_then(|v| v.trim().parse::<f64>().ok());
    let from_body = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("retry_after").and_then(|r| r.as_f64()))
    };
    let seconds = from_header.or_else(from_body)?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// What the limiter learns from an answer's headers. Discord describes the bucket on every answer
/// (`X-RateLimit-Scope` only on 429s); a global 429 says nothing about the route's bucket, and a
/// shared one exhausts it for `Retry-After`.
fn rate_limit_headers(headers: &HeaderMap) -> Option<RateLimitHeaders> {
    let bucket = || header(headers, RateLimitHeaders::BUCKET).map(|b| b.as_bytes().to_vec());
    match header(headers, RateLimitHeaders::SCOPE) {
        Some("global") => None,
        Some("shared") => {
            let retry = header(headers, "retry-after")?.trim().parse::<f64>().ok()?;
            Some(RateLimitHeaders::shared(bucket()?, retry.ceil().clamp(0.0, f64::from(u16::MAX)) as u16))
        }
        _ => {
            let limit = header(headers, RateLimitHeaders::LIMIT)?.parse().ok()?;
            let remaining = header(headers, RateLimitHeaders::REMAINING)?.parse().ok()?;
            let reset_after: f64 = header(headers, RateLimitHeaders::RESET_AFTER)?.parse().ok()?;
            if !reset_after.is_finite() || reset_after < 0.0 {
                return None;
            }
            let reset_at = Instant::now() + Duration::from_secs_f64(reset_after.min(86_400.0));
            Some(RateLimitHeaders { bucket: bucket()?, limit, remaining, reset_at })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn a_429_says_how_long_to_wait_in_its_header_or_its_body() {
        assert_eq!(retry_after(&headers(&[("retry-after", "2")]), b""), Some(Duration::from_secs(2)));
        let body = br#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#;
        assert_eq!(retry_after(&headers(&[]), body), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&headers(&[]), b"<html>1015</html>"), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), b""), None);
    }

    #[test]
    fn buckets_are_learned_from_every_answer_that_describes_them() {
        let described = headers(&[
            ("x-ratelimit-bucket", "abc"),
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "2.5"),
        ]);
        let learned = rate_limit_headers(&described).expect("a bucket");
        assert_eq!((learned.limit, learned.remaining, learned.bucket.as_slice()), (5, 0, b"abc".as_slice()));
        let mut global = described.clone();
        global.insert("x-ratelimit-scope", "global".parse().expect("value"));
        assert_eq!(rate_limit_headers(&global), None);
        // Cloudflare's 429: no bucket at all.
        assert_eq!(rate_limit_headers(&headers(&[("retry-after", "5")])), None);
    }
}
