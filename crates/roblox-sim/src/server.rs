//! The HTTP side: an actix-web server on its own thread and actix system that matches every request to
//! an operation of Roblox's document, authenticates and rate-limits Open Cloud calls, counts and checks
//! everything, and hands the call to the routes.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::error::{self, ApiError};
use crate::oauth::{self, Answer};
use crate::ratelimit::{Decision, Limit, RateLimits, documented_limit};
use crate::routes::{self, Call};
use crate::spec::{is_open_cloud, spec};
use crate::thumbnail;
use crate::time::Timestamp;
use crate::world::World;

/// The largest request body accepted.
const MAX_BODY: usize = 1024 * 1024;

/// Outside Roblox's APIs: the request counts of every route, for tools that run the simulator as a
/// separate process.
pub const STATS_PATH: &str = "/sim/calls";

/// Everything behind the lock.
#[derive(Debug)]
struct State {
    world: World,
    limits: RateLimits,
    calls: HashMap<(String, String), usize>,
    violations: Vec<String>,
    /// The next Open Cloud calls to fail: how many, and with what status.
    failures: Option<(usize, u16)>,
    latency: Duration,
    /// Who signs in at the OAuth authorize endpoint.
    oauth_user: Option<u64>,
}

/// What the server threads share with the [`Simulator`] handle.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    spec_checks: AtomicBool,
    base_url: OnceLock<String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the simulator's state lock is poisoned: a test panicked while holding it")
    }

    fn base_url(&self) -> &str {
        self.base_url.get().map_or("", String::as_str)
    }
}

/// A running simulator: an HTTP server serving the Roblox web APIs Garrison calls from a [`World`], all
/// on one address: Open Cloud v2 (`/cloud/v2/...`), the legacy users API (`/v1/...`), OAuth 2.0
/// (`/oauth/...`) and the images of generated thumbnails (`/sim/thumbnails/...`).
///
/// The server runs on its own thread with its own actix system (one worker), so it can be started
/// from plain tests and from inside a tokio runtime alike. Dropping the `Simulator` stops the
/// server and waits for its thread.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Serves `world` on `127.0.0.1` at a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub fn start(world: World) -> Simulator {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), world)
            .expect("the simulator can listen on a loopback port")
    }

    /// Serves `world` on `addr`.
    pub fn start_on(addr: SocketAddr, world: World) -> std::io::Result<Simulator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                world,
                limits: RateLimits::default(),
                calls: HashMap::new(),
                violations: Vec::new(),
                failures: None,
                latency: Duration::ZERO,
                oauth_user: None,
            }),
            spec_checks: AtomicBool::new(true),
            base_url: OnceLock::new(),
        });
        // Read the document before the first request does.
        let _ = spec();
        let (sender, receiver) = std::sync::mpsc::channel();
        let for_server = web::Data::from(Arc::clone(&shared));
        let thread = std::thread::Builder::new().name(format!("roblox-sim {addr}")).spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let data = for_server.clone();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .app_data(web::PayloadConfig::new(MAX_BODY))
                        .default_service(web::to(dispatch))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(addr);
                let server = match server {
                    Ok(server) => server,
                    Err(error) => {
                        let _ = sender.send(Err(error));
                        return;
                    }
                };
                let bound = server.addrs().first().copied().unwrap_or(addr);
                let _ = for_server.base_url.set(format!("http://{bound}"));
                let running = server.run();
                let _ = sender.send(Ok((bound, running.handle())));
                let _ = running.await;
            });
        })?;
        let (addr, handle) =
            receiver.recv().map_err(|_| std::io::Error::other("the simulator's server thread ended early"))??;
        Ok(Simulator { shared, addr, handle, thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`: the base URL of Open Cloud (`/cloud/v2/...`) and of the legacy users
    /// API (`/v1/...`) alike.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reads the world mid-test (requests wait meanwhile). `f` must not call back into this
    /// `Simulator`: the state lock is held while it runs.
    pub fn world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.shared.lock().world)
    }

    /// Changes the world mid-test (requests wait meanwhile), under the same rule as [`Simulator::world`].
    pub fn world_mut<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.lock().world)
    }

    /// How many requests arrived for a route template of the document, e.g.
    /// `("GET", "/cloud/v2/groups/{group_id}/roles")`, whatever their answer (401s and 429s included).
    /// Other paths are counted under the path itself.
    pub fn calls(&self, method: &str, template: &str) -> usize {
        let key = (method.to_ascii_uppercase(), template.to_owned());
        self.shared.lock().calls.get(&key).copied().unwrap_or(0)
    }

    /// How many requests arrived in all.
    pub fn total_calls(&self) -> usize {
        self.shared.lock().calls.values().sum()
    }

    /// Every request and response body so far that did not match Roblox's OpenAPI document (or, for
    /// errors, the error shapes Roblox documents), as `"<METHOD> <template> [request|<status>]:
    /// <problem>"`.
    pub fn spec_violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Turns checking bodies on or off (on by default).
    pub fn set_spec_checks(&self, enabled: bool) {
        self.shared.spec_checks.store(enabled, Ordering::Relaxed);
    }

    /// Replaces the rate limit of an operation, named by its `operationId` (`Cloud_ListGroupRoles`) or
    /// its template (every method on it): at most `max` calls per `window` for each API key owner.
    /// Until then, Open Cloud operations have the limits of the document (`x-roblox-rate-limits`,
    /// `perApiKeyOwner`) and legacy ones none.
    ///
    /// # Panics
    /// If `operation` names no operation of the document.
    pub fn set_rate_limit(&self, operation: &str, max: u32, window: Duration) {
        let spec = spec();
        let templates: Vec<&str> = spec
            .routes()
            .filter(|(method, template)| {
                *template == operation
                    || spec.operation(method, template).and_then(|op| op.operation_id()) == Some(operation)
            })
            .map(|(_, template)| template)
            .collect();
        assert!(!templates.is_empty(), "{operation} is neither an operationId nor a template of Roblox's document");
        let mut state = self.shared.lock();
        for template in templates {
            state.limits.set(template, Limit { max, window });
        }
    }

    /// Answers the next `count` Open Cloud calls with `status` (500, 503, ...) and Open Cloud's error body
    /// for it, before looking at their key.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.shared.lock().failures = (count > 0).then_some((count, status));
    }

    /// Chooses who signs in and consents when an app sends a browser to `GET /oauth/v1/authorize`:
    /// `Some(user)` gets the app a code for that user, `None` (the default) redirects back with
    /// `error=access_denied`.
    pub fn set_oauth_user(&self, user: Option<u64>) {
        self.shared.lock().oauth_user = user;
    }

    /// Waits this long before answering every request from now on (`Duration::ZERO`, the default, for
    /// none), so a client's timeout can be tested. Other requests are served meanwhile.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Sending the stop command happens when `stop` is called; the returned future only waits.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn count(shared: &Shared, method: &str, route: &str) {
    *shared.lock().calls.entry((method.to_owned(), route.to_owned())).or_default() += 1;
}

fn json_response(status: u16, body: &Value, headers: &[(&'static str, String)]) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in headers {
        response.insert_header((*name, value.as_str()));
    }
    response.content_type("application/json").body(body.to_string())
}

/// `%XX` sequences decoded; invalid UTF-8 is replaced.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, ..) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path with each segment percent-decoded (a custom method's `:` may arrive as `%3A`).
fn decoded_path(path: &str) -> String {
    path.split('/').map(percent_decode).collect::<Vec<_>>().join("/")
}

async fn dispatch(request: HttpRequest, bytes: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    if path == STATS_PATH {
        count(&shared, &method, &path);
        return stats(&shared);
    }
    if let Some(rest) = path.strip_prefix(thumbnail::PREFIX) {
        count(&shared, &method, "/sim/thumbnails/{image}");
        return thumbnail_image(&shared, &method, rest);
    }
    if path.starts_with("/oauth/") {
        count(&shared, &method, &path);
        return oauth_answer(&shared, &request, &bytes, &method, &path);
    }
    let decoded = decoded_path(&path);
    let matched = spec().match_path(&method, &decoded).filter(|m| routes::is_served(&method, m.template));
    let Some(matched) = matched else {
        count(&shared, &method, &path);
        let error = match path.starts_with("/cloud/") {
            true => ApiError::not_found("Not found."),
            false => ApiError::legacy(404, 0, "NotFound"),
        };
        return json_response(error.status, &error.body, &[]);
    };
    let template: &'static str = matched.template;
    let params: Vec<(String, String)> =
        matched.params.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    count(&shared, &method, template);
    serve(&shared, &request, &bytes, &method, template, &params)
}

/// A documented operation the simulator serves.
fn serve(
    shared: &Shared,
    request: &HttpRequest,
    bytes: &[u8],
    method: &str,
    template: &'static str,
    params: &[(String, String)],
) -> HttpResponse {
    let cloud = is_open_cloud(template);
    let spec_checks = shared.spec_checks.load(Ordering::Relaxed);
    let answer = |status: u16, body: &Value, headers: &[(&'static str, String)]| {
        if spec_checks {
            check_response(shared, method, template, status, body);
        }
        json_response(status, body, headers)
    };
    if cloud {
        let failure = {
            let mut state = shared.lock();
            let failure = state.failures.map(|(_, status)| status);
            state.failures = state.failures.and_then(|(n, status)| (n > 1).then_some((n - 1, status)));
            failure
        };
        if let Some(status) = failure {
            let error = ApiError::cloud(status, "The simulator was told to fail this call.");
            return answer(error.status, &error.body, &[]);
        }
    }
    let body: Option<Value> = match bytes.iter().all(u8::is_ascii_whitespace) {
        true => None,
        false => match serde_json::from_slice(bytes) {
            Ok(body) => Some(body),
            Err(_) => {
                record(shared, method, template, "request", vec!["the body is not JSON".to_owned()]);
                let error = match cloud {
                    true => ApiError::invalid("The request body is not valid JSON."),
                    false => ApiError::legacy(400, 0, "The request body is not valid JSON."),
                };
                return json_response(error.status, &error.body, &[]);
            }
        },
    };
    if spec_checks
        && let Err(problems) = spec().validate_request(method, template, body.as_ref().unwrap_or(&Value::Null))
    {
        record(shared, method, template, "request", problems);
    }
    let query = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let Some(operation) = spec().operation(method, template) else {
        let error = ApiError::cloud(501, "Not simulated.");
        return json_response(error.status, &error.body, &[]);
    };

    let mut state = shared.lock();
    let mut headers = Vec::new();
    let key = match cloud {
        false => None,
        true => {
            let secret = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let Some(key) = state.world.api_key(secret.trim()).cloned() else {
                drop(state);
                let error = ApiError::invalid_key();
                return answer(error.status, &error.body, &[]);
            };
            match state.limits.check(&key.owner.path(), template, documented_limit(operation), Instant::now()) {
                Decision::Allowed(allowed) => headers = allowed,
                Decision::Limited(limited) => {
                    drop(state);
                    let error = ApiError::cloud(429, "Too many requests.");
                    return answer(error.status, &error.body, &limited);
                }
            }
            Some(key)
        }
    };
    let base_url = shared.base_url().to_owned();
    let call = Call {
        method,
        template,
        params,
        query: &query,
        body: body.as_ref(),
        key: key.as_ref(),
        base_url: &base_url,
        now: Timestamp::now(),
    };
    let result = match &key {
        Some(key) => routes::authorize(key, operation, &call).and_then(|()| routes::handle(&mut state.world, &call)),
        None => routes::handle(&mut state.world, &call),
    };
    drop(state);
    match result {
        Ok(reply) => answer(reply.status, &reply.body, &headers),
        Err(error) => answer(error.status, &error.body, &headers),
    }
}

fn record(shared: &Shared, method: &str, template: &str, place: &str, problems: Vec<String>) {
    let mut state = shared.lock();
    for problem in problems {
        state.violations.push(format!("{method} {template} [{place}]: {problem}"));
    }
}

/// Checks a response body against the document (successes) or Roblox's error shapes (errors), and
/// records what does not match.
fn check_response(shared: &Shared, method: &str, template: &str, status: u16, body: &Value) {
    let checked = match status < 400 {
        true => spec().validate_response(method, template, status, body),
        false => error::check(spec(), method, template, status, body),
    };
    if let Err(problems) = checked {
        record(shared, method, template, &status.to_string(), problems);
    }
}

fn stats(shared: &Shared) -> HttpResponse {
    let calls: serde_json::Map<String, Value> = shared
        .lock()
        .calls
        .iter()
        .map(|((method, route), count)| (format!("{method} {route}"), Value::from(*count)))
        .collect();
    json_response(200, &Value::Object(calls), &[])
}

/// An OAuth 2.0 endpoint (see [`crate::oauth`]). Outside Roblox's OpenAPI document, so not checked.
fn oauth_answer(shared: &Shared, request: &HttpRequest, bytes: &[u8], method: &str, path: &str) -> HttpResponse {
    let pairs = |text: &str| {
        web::Query::<Vec<(String, String)>>::from_query(text).map(web::Query::into_inner).unwrap_or_default()
    };
    let query = pairs(request.query_string());
    let form = pairs(std::str::from_utf8(bytes).unwrap_or_default());
    let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    let oauth_request =
        oauth::Request { method, path, query: &query, form: &form, authorization, base_url: shared.base_url() };
    let answer = {
        let mut state = shared.lock();
        let user = state.oauth_user;
        oauth::handle(&mut state.world, user, &oauth_request, Instant::now())
    };
    match answer {
        Answer::Json { status, body, headers } => json_response(status, &body, &headers),
        Answer::Redirect(location) => HttpResponse::Found().insert_header(("location", location)).finish(),
        Answer::Page { status, text } => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
                .content_type("text/html; charset=utf-8")
                .body(format!("<!doctype html><title>Roblox</title><p>{text}</p>"))
        }
        Answer::Empty => HttpResponse::Ok().finish(),
    }
}

/// `GET /sim/thumbnails/{user}/{size}/{shape}.{png|jpeg}`: the image of a generated thumbnail.
fn thumbnail_image(shared: &Shared, method: &str, rest: &str) -> HttpResponse {
    let found = thumbnail::parse(rest).filter(|(user, ..)| shared.lock().world.user(*user).is_some());
    match (method, found) {
        ("GET" | "HEAD", Some((user, size, shape, format))) => HttpResponse::Ok()
            .content_type(format.content_type())
            .insert_header(("cache-control", "public, max-age=86400"))
            .body(thumbnail::draw(user, size, shape, format)),
        _ => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_segment_by_segment() {
        assert_eq!(decoded_path("/cloud/v2/users/156%3AgenerateThumbnail"), "/cloud/v2/users/156:generateThumbnail");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
