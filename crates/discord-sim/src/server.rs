//! The HTTP side: an actix-web server on its own thread and actix system, built from
//! [`ROUTES`], that authenticates (bot tokens, and bearer tokens where a route takes them),
//! rate-limits, counts and checks every request and hands it to the routes; and beside them the
//! OAuth2 token endpoints ([`crate::OAUTH2_ROUTES`], form bodies) and the authorization page
//! ([`crate::AUTHORIZE_PATH`]). Beside it runs the gateway's listener (`crate::gateway`); after every
//! request and every `Simulator::world` closure, what changed in the world is published to the
//! gateway's sessions.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::error::ApiError;
use crate::gateway::listener::GatewayListener;
use crate::gateway::{Control, GatewayStats, Hub};
use crate::images::CDN_PATH;
use crate::oauth::Bearer;
use crate::ratelimit::{Decision, RateLimits};
use crate::routes::oauth2::{self, Authorization, FormCall};
use crate::routes::{self, AUTHORIZE_PATH, Call, OAUTH2_ROUTES, ROUTES};
use crate::time::Timestamp;
use crate::world::World;

/// The largest request body accepted (Discord allows 25 MiB uploads for bots).
const MAX_BODY: usize = 25 * 1024 * 1024;

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) world: World,
    limits: RateLimits,
    calls: HashMap<(String, String), usize>,
    violations: Vec<String>,
    pub(crate) gateway: Hub,
}

impl State {
    /// Sends what changed in the world to the gateway's sessions.
    fn publish(&mut self) {
        let State { world, gateway, .. } = self;
        gateway.publish(world);
    }
}

/// What the server threads share with the [`Simulator`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    spec_checks: AtomicBool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the simulator's state lock is poisoned: a test panicked while holding it")
    }
}

/// A running simulator: an HTTP server on `127.0.0.1` serving Discord's REST API v10 under
/// `/api/v10` from a [`World`], and Discord's gateway on a second port ([`Simulator::gateway_url`]).
///
/// The server runs on its own thread with its own actix system (one worker), and the gateway on
/// another with its own tokio runtime, so the simulator can be started from plain tests and from
/// inside a tokio runtime alike. Dropping the `Simulator` stops both and waits for their threads.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    gateway: Option<GatewayListener>,
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

    /// Serves `world` on `addr`, and the gateway on the same address at a free port.
    pub fn start_on(addr: SocketAddr, world: World) -> std::io::Result<Simulator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                world,
                limits: RateLimits::default(),
                calls: HashMap::new(),
                violations: Vec::new(),
                gateway: Hub::default(),
            }),
            spec_checks: AtomicBool::new(true),
        });
        let gateway = GatewayListener::start(Arc::clone(&shared), addr.ip())?;
        shared.lock().world.gateway_url = gateway.url();
        let (sender, receiver) = std::sync::mpsc::channel();
        let for_server = web::Data::from(Arc::clone(&shared));
        let thread = std::thread::Builder::new().name(format!("discord-sim {addr}")).spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(for_server.clone())
                        .app_data(web::PayloadConfig::new(MAX_BODY))
                        .configure(configure)
                        .default_service(web::to(not_found))
                })
                .workers(1)
                // Idle connections stay open for minutes, longer than clients keep them (Garrison's pool
                // drops idle ones after 60 s). actix's default 5 s closed a connection just as Garrison
                // reused it after waiting out a 5 s rate limit: a race of the simulator's making, not a
                // behaviour Discord documents.
                .keep_alive(std::time::Duration::from_secs(300))
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
                let running = server.run();
                let _ = sender.send(Ok((bound, running.handle())));
                let _ = running.await;
            });
        })?;
        let (addr, handle) =
            receiver.recv().map_err(|_| std::io::Error::other("the simulator's server thread ended early"))??;
        Ok(Simulator { shared, addr, handle, thread: Some(thread), gateway: Some(gateway) })
    }

    /// `http://127.0.0.1:PORT` (the API lives under `/api/v10`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Reads or changes the world mid-test (requests wait meanwhile). `f` must not call back into
    /// this `Simulator`: the state lock is held while it runs. What `f` changed is then sent to the
    /// gateway's sessions whose intents cover it.
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut state = self.shared.lock();
        let answer = f(&mut state.world);
        state.publish();
        answer
    }

    /// `ws://127.0.0.1:PORT`: where the gateway listens (what `GET /gateway` answers). Point a
    /// twilight shard at it with `ConfigBuilder::proxy_url`.
    pub fn gateway_url(&self) -> String {
        self.shared.lock().world.gateway_url.clone()
    }

    /// Sets the `heartbeat_interval` HELLO announces to new connections (41,250 ms by default, as
    /// Discord's). A connection that lets an interval and a half pass without a heartbeat is
    /// closed with 4009 (its session stays resumable).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.shared.lock().gateway.config.heartbeat_interval = interval.max(Duration::from_millis(1));
    }

    /// Holds READY (and the GUILD_CREATEs after it) back this long after an IDENTIFY (none by
    /// default).
    pub fn set_ready_delay(&self, delay: Duration) {
        self.shared.lock().gateway.config.ready_delay = delay;
    }

    /// How long a session whose connection dropped stays resumable (3 minutes by default);
    /// `Duration::ZERO` makes every such session expire at once.
    pub fn set_resume_window(&self, window: Duration) {
        self.shared.lock().gateway.config.resume_window = window;
    }

    /// The window of Discord's limit on requests for a guild's whole member list (opcode 8 with
    /// `query: ""` and `limit: 0`): one per guild per bot per window, 30 s by default. Further
    /// requests get a RATE_LIMITED dispatch.
    pub fn set_member_request_window(&self, window: Duration) {
        self.shared.lock().gateway.config.member_request_window = window;
    }

    /// Sets how many session starts a bot has left and when they are replenished; see
    /// [`World::set_session_start_limit`].
    pub fn set_session_start_limit(&self, bot: u64, remaining: u32, reset_after_ms: u64) {
        self.shared.lock().world.set_session_start_limit(bot, remaining, reset_after_ms);
    }

    /// Drops every gateway connection at once, without a close frame, as a network failure would:
    /// their sessions stay resumable, so clients should RESUME and get what they missed.
    pub fn drop_gateway_connections(&self) {
        self.shared.lock().gateway.control_all(Control::Drop);
    }

    /// Sends opcode 7 Reconnect on every gateway connection: clients should reconnect and RESUME.
    pub fn request_gateway_reconnect(&self) {
        self.shared.lock().gateway.control_all(Control::Reconnect);
    }

    /// What the gateway has seen: IDENTIFYs and RESUMEs per bot, connections and sessions now.
    pub fn gateway_stats(&self) -> GatewayStats {
        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        gateway.stats(world)
    }

    /// Has `user` invoke the slash command `name` of `application` in `channel` of `guild`, as from
    /// Discord's client: `name` is the command, or `"command subcommand"`, or `"command group
    /// subcommand"`; `options` is an object of option names to values (strings, numbers, booleans,
    /// and snowflakes as strings or numbers for users, channels, roles and mentionables), or null.
    ///
    /// The command must be registered (in the guild, or globally), the application in the guild, and
    /// the user a member who may use it there: who sees the channel, has USE_APPLICATION_COMMANDS in
    /// it and every permission of the command's `default_member_permissions` (administrators and the
    /// owner always may; `"0"` leaves only them), and the options must fit the definition. Discord's
    /// client would not send anything else, so anything else is `Err` with the reason, and so is an
    /// application without a connected gateway session for the guild ("The application did not
    /// respond"). Otherwise the interaction is created (its window for the first callback starts now)
    /// and INTERACTION_CREATE goes to the application's sessions. Returns `(interaction_id, token)`.
    pub fn invoke_command(
        &self,
        application: u64,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Result<(u64, String), String> {
        let mut state = self.shared.lock();
        let invocation = state.world.prepare_invocation(application, guild, channel, user, name, &options)?;
        if !state.gateway.has_connected_session(application, guild) {
            return Err(format!(
                "the application did not respond: application {application} has no gateway session connected for guild {guild}"
            ));
        }
        let answer = state.world.start_invocation(invocation);
        state.publish();
        Ok(answer)
    }

    /// How the application answered an interaction; `None` before a callback. Same as
    /// [`World::interaction_response`].
    pub fn interaction_response(&self, interaction: u64) -> Option<crate::InteractionResponseView> {
        self.shared.lock().world.interaction_response(interaction)
    }

    /// How many requests arrived for a route template, e.g. `("GET", "/users/@me")`, whatever
    /// their answer (401s and 429s included). Paths that match no route are counted under their
    /// full path (`"/api/v10/..."`).
    pub fn calls(&self, method: &str, route: &str) -> usize {
        let key = (method.to_ascii_uppercase(), route.to_owned());
        self.shared.lock().calls.get(&key).copied().unwrap_or(0)
    }

    /// Every request and response body so far that did not match Discord's OpenAPI document,
    /// as `"<METHOD> <template> [request|<status>]: <problem>"`.
    pub fn spec_violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Turns checking bodies against the OpenAPI document on or off (on by default; benchmarks
    /// may turn it off).
    pub fn set_spec_checks(&self, enabled: bool) {
        self.shared.spec_checks.store(enabled, Ordering::Relaxed);
    }

    /// Limits a route template to `limit` requests per `window`, counted per token and major
    /// parameter (guild, channel or webhook id). Routes are unlimited until configured, but for
    /// channel creation, which starts at [`crate::CHANNEL_CREATE_RATE_LIMIT`].
    pub fn set_rate_limit(&self, method: &str, route: &str, limit: u32, window: Duration) {
        self.shared.lock().limits.set_route(method, route, limit, window);
    }

    /// Lifts a route's limit, including the default one of channel creation
    /// ([`crate::CHANNEL_CREATE_RATE_LIMIT`]): the route is unlimited again.
    pub fn clear_rate_limit(&self, method: &str, route: &str) {
        self.shared.lock().limits.clear_route(method, route);
    }

    /// `http://127.0.0.1:PORT/sim/cdn`: where uploaded emojis (`/emojis/{id}.png`), stickers
    /// (`/stickers/{id}.png`), guild icons, banners and splashes (`/icons/{guild_id}/{hash}.png`, ...)
    /// and role icons (`/role-icons/{role_id}/{hash}.png`) are served, as Discord serves them on
    /// `https://cdn.discordapp.com`.
    pub fn cdn_url(&self) -> String {
        format!("{}{CDN_PATH}", self.base_url())
    }

    /// Makes 429 answers leave out `X-RateLimit-Scope` and the bucket headers, keeping only
    /// `Retry-After`, as Cloudflare's 429s in front of Discord do (off by default).
    pub fn set_scopeless_429s(&self, scopeless: bool) {
        self.shared.lock().limits.set_scopeless(scopeless);
    }

    /// How many requests arrived in all, whatever their route and answer.
    pub fn total_calls(&self) -> usize {
        self.shared.lock().calls.values().sum()
    }

    /// Limits every token to `per_second` requests a second across bot routes (interaction and
    /// webhook routes are exempt, as in Discord); `None` lifts the limit.
    pub fn set_global_rate_limit(&self, per_second: Option<u32>) {
        self.shared.lock().limits.set_global(per_second);
    }

    /// Chooses who signs in and consents when a browser opens `GET /oauth2/authorize`: `Some(user)`
    /// authorizes the app as that user; `None` (the default) cancels, and the app gets
    /// `error=access_denied`. Same as [`World::set_oauth_user`].
    ///
    /// # Panics
    /// If `user` is unknown or a bot.
    pub fn set_oauth_user(&self, user: Option<u64>) {
        self.shared.lock().world.set_oauth_user(user);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        drop(self.gateway.take());
        // Sending the stop command happens when `stop` is called; the returned future only waits.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Registers every route of [`ROUTES`] under `/api/v10`; a known path with another method is 405.
fn configure(config: &mut web::ServiceConfig) {
    let mut templates: Vec<&str> = Vec::new();
    for (_, template) in ROUTES {
        if !templates.contains(template) {
            templates.push(template);
        }
    }
    for template in templates {
        let mut resource = web::resource(format!("/api/v10{template}"));
        for (method, _) in ROUTES.iter().filter(|(_, t)| *t == template) {
            let route = match *method {
                "GET" => web::get(),
                "POST" => web::post(),
                "PUT" => web::put(),
                "PATCH" => web::patch(),
                "DELETE" => web::delete(),
                _ => web::route(),
            };
            resource = resource.route(route.to(dispatch));
        }
        config.service(resource.default_service(web::to(method_not_allowed)));
    }
    for (_, template) in OAUTH2_ROUTES {
        let resource = web::resource(format!("/api/v10{template}")).route(web::post().to(oauth2_form));
        config.service(resource.default_service(web::to(method_not_allowed)));
    }
    let authorize = web::resource(AUTHORIZE_PATH).route(web::get().to(authorize_page));
    config.service(authorize.default_service(web::to(method_not_allowed)));
    config.route(STATS_PATH, web::get().to(stats));
    config.route(&format!("{CDN_PATH}/{{path:.*}}"), web::get().to(cdn));
}

/// `GET /sim/cdn/...`: an uploaded file (an emoji, a sticker, a guild or role icon) as uploaded, with
/// its content type; 404 for anything else. The extension asked for does not matter. Outside
/// Discord's API, so not counted or checked against the document.
async fn cdn(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    let path = request.match_info().get("path").unwrap_or_default().to_owned();
    let state = shared.lock();
    match state.world.cdn_asset(&path) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.format.content_type())
            .insert_header(("cache-control", "public, max-age=86400"))
            .body(asset.bytes.clone()),
        None => HttpResponse::NotFound().content_type("text/plain").body("404: Not Found"),
    }
}

/// Outside Discord's API (`/api/v10`): the request counts of every route, for tools that run the
/// simulator as a separate process (the benchmark counts token checks with it).
pub const STATS_PATH: &str = "/_simulator/calls";

async fn stats(shared: web::Data<Shared>) -> HttpResponse {
    let calls: serde_json::Map<String, Value> = shared
        .lock()
        .calls
        .iter()
        .map(|((method, route), count)| (format!("{method} {route}"), Value::from(*count)))
        .collect();
    HttpResponse::Ok().json(Value::Object(calls))
}

async fn not_found(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    count(&shared, request.method().as_str(), request.path());
    error_response(&ApiError::not_found_route(), &[])
}

async fn method_not_allowed(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    count(&shared, request.method().as_str(), route_of(&request).as_str());
    error_response(&ApiError::method_not_allowed(), &[])
}

fn count(shared: &Shared, method: &str, route: &str) {
    *shared.lock().calls.entry((method.to_owned(), route.to_owned())).or_default() += 1;
}

/// The route template a request matched, without `/api/v10`.
fn route_of(request: &HttpRequest) -> String {
    request.match_pattern().map(|p| p.strip_prefix("/api/v10").unwrap_or(&p).to_owned()).unwrap_or_default()
}

fn json_response(status: u16, body: Option<&Value>, headers: &[(&'static str, String)]) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in headers {
        response.insert_header((*name, value.as_str()));
    }
    match body {
        Some(body) => response.content_type("application/json").body(body.to_string()),
        None => response.finish(),
    }
}

fn error_response(error: &ApiError, headers: &[(&'static str, String)]) -> HttpResponse {
    json_response(error.status, Some(&error.body()), headers)
}

/// A request's body: JSON, or a multipart form with `payload_json`, files (`files[n]`, a
/// sticker's `file`) and text fields (a sticker's `name`, `tags`, `description`).
#[derive(Debug, Default)]
struct Body {
    json: Option<Value>,
    files: Vec<(String, String, String, Vec<u8>)>,
    fields: Vec<(String, String)>,
}

fn parse_body(request: &HttpRequest, bytes: &[u8]) -> Result<Body, ApiError> {
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(boundary) = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .filter(|_| content_type.starts_with("multipart/form-data"))
    {
        let parts = crate::multipart::parse(bytes, boundary.trim_matches('"')).ok_or_else(ApiError::invalid_json)?;
        let mut body = Body::default();
        for part in parts {
            if part.name == "payload_json" {
                body.json = Some(serde_json::from_slice(&part.data).map_err(|_| ApiError::invalid_json())?);
            } else if let Some(filename) = part.filename {
                body.files.push((part.name, filename, part.content_type.unwrap_or_default(), part.data));
            } else {
                body.fields.push((part.name, String::from_utf8_lossy(&part.data).into_owned()));
            }
        }
        return Ok(body);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::default());
    }
    let json = serde_json::from_slice(bytes).map_err(|_| ApiError::invalid_json())?;
    Ok(Body { json: Some(json), files: Vec::new(), fields: Vec::new() })
}

/// `%XX` sequences decoded (as twilight encodes `X-Audit-Log-Reason`); invalid UTF-8 is replaced.
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

/// Who is calling, and with which token.
#[derive(Debug)]
enum Caller {
    /// A bot, by its user id.
    Bot(u64),
    /// An OAuth2 app acting for a user.
    Bearer(Bearer),
}

/// Who is calling: a valid `Bot` token, a live `Bearer` access token on a route that takes one,
/// `Ok(None)` for no token, and 401 for anything else (Discord refuses bad tokens on every route, a
/// bearer token where only bots may call, and a bot token that is sent as a bearer token).
fn authenticate(
    request: &HttpRequest,
    world: &World,
    method: &str,
    route: &str,
    now: Timestamp,
) -> Result<Option<(Caller, String)>, ApiError> {
    let Some(header) = request.headers().get("authorization") else { return Ok(None) };
    let header = header.to_str().map_err(|_| ApiError::unauthorized())?;
    if let Some(token) = header.strip_prefix("Bot ") {
        let user = world.tokens.get(token.trim()).copied().ok_or_else(ApiError::unauthorized)?;
        return Ok(Some((Caller::Bot(user), token.trim().to_owned())));
    }
    match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("Bearer") && routes::accepts_bearer(method, route) => {
            let bearer = world.oauth.bearer(token.trim(), now).ok_or_else(ApiError::unauthorized)?;
            Ok(Some((Caller::Bearer(bearer), token.trim().to_owned())))
        }
        _ => Err(ApiError::unauthorized()),
    }
}

/// Discord's 429 body.
fn limited_body(retry_after: f64, global: bool) -> Value {
    serde_json::json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": global })
}

async fn dispatch(request: HttpRequest, bytes: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let method = request.method().as_str().to_owned();
    let route = route_of(&request);
    count(&shared, &method, &route);
    let spec_checks = shared.spec_checks.load(Ordering::Relaxed);
    let now = Timestamp::now();

    let caller = {
        let state = shared.lock();
        authenticate(&request, &state.world, &method, &route, now)
    };
    let caller = match caller {
        Ok(None) if routes::needs_bot_token(&route) => Err(ApiError::unauthorized()),
        other => other,
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => {
            return checked(&shared, spec_checks, &method, &route, error_response(&error, &[]), &error.body());
        }
    };
    let body = match parse_body(&request, &bytes) {
        Ok(body) => body,
        Err(error) => {
            return checked(&shared, spec_checks, &method, &route, error_response(&error, &[]), &error.body());
        }
    };
    if spec_checks {
        check_against_spec(&shared, &method, &route, None, body.json.as_ref().unwrap_or(&Value::Null));
    }
    let params: Vec<(String, String)> =
        request.match_info().iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
    let query = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let reason = request
        .headers()
        .get("x-audit-log-reason")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .filter(|r| !r.is_empty());
    let major = routes::major_parameter(&route)
        .and_then(|name| params.iter().find(|(n, _)| n == name))
        .map_or("", |(_, v)| v.as_str())
        .to_owned();

    let (status, answer, headers) = {
        let mut state = shared.lock();
        let token = caller.as_ref().map_or("", |(_, token)| token.as_str());
        let global_applies = routes::needs_bot_token(&route);
        match state.limits.check(token, &method, &route, &major, global_applies) {
            Decision::Limited { headers, retry_after, global } => {
                (429, Some(limited_body(retry_after, global)), headers)
            }
            Decision::Allowed(headers) => {
                let call = Call {
                    method: &method,
                    route: &route,
                    params: &params,
                    query: &query,
                    body: body.json.as_ref(),
                    files: &body.files,
                    form: &body.fields,
                    actor: match &caller {
                        Some((Caller::Bot(user), _)) => Some(*user),
                        _ => None,
                    },
                    bearer: match &caller {
                        Some((Caller::Bearer(bearer), _)) => Some(bearer),
                        _ => None,
                    },
                    reason: reason.as_deref(),
                    now,
                };
                let outcome = routes::handle(&mut state.world, &call);
                state.publish();
                match outcome {
                    Ok(reply) => (reply.status, reply.body, headers),
                    Err(error) => (error.status, Some(error.body()), headers),
                }
            }
        }
    };
    let response = json_response(status, answer.as_ref(), &headers);
    checked(&shared, spec_checks, &method, &route, response, answer.as_ref().unwrap_or(&Value::Null))
}

/// `GET /oauth2/authorize`: a redirect back to the app, or an error page (see
/// [`crate::routes::oauth2::authorize`]). Outside Discord's API, so not checked against the document.
async fn authorize_page(request: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    count(&shared, "GET", AUTHORIZE_PATH);
    let query = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let outcome = oauth2::authorize(&mut shared.lock().world, &query, Timestamp::now());
    match outcome {
        Authorization::Redirect(location) => HttpResponse::Found()
            .insert_header(("location", location))
            .insert_header(("cache-control", "no-store"))
            .finish(),
        Authorization::Refused(text) => HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(format!("<!DOCTYPE html><html><head><title>Discord</title></head><body><p>{text}</p></body></html>")),
    }
}

/// `POST /oauth2/token` and `POST /oauth2/token/revoke`: form bodies (anything else reads as an
/// empty form, as Discord refuses JSON), RFC 6749 answers with `Cache-Control: no-store`, rate
/// limited per route and client id like the other routes. Not in Discord's OpenAPI document, so not
/// checked against it.
async fn oauth2_form(request: HttpRequest, bytes: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let route = route_of(&request);
    count(&shared, "POST", &route);
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let form = if content_type.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| web::Query::<Vec<(String, String)>>::from_query(text).ok())
            .map(web::Query::into_inner)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    let call = FormCall { form: &form, authorization, now: Timestamp::now() };
    let (status, body, mut headers) = {
        let mut state = shared.lock();
        let key = format!("client:{}", call.claimed_client_id().unwrap_or_default());
        match state.limits.check(&key, "POST", &route, "", false) {
            Decision::Limited { headers, retry_after, global } => (429, limited_body(retry_after, global), headers),
            Decision::Allowed(headers) => {
                let answer = match route.as_str() {
                    "/oauth2/token" => oauth2::token(&mut state.world, &call),
                    _ => oauth2::revoke(&mut state.world, &call),
                };
                match answer {
                    Ok(body) => (200, body, headers),
                    Err(error) => (error.status, error.body(), headers),
                }
            }
        }
    };
    headers.push(("Cache-Control", "no-store".to_owned()));
    headers.push(("Pragma", "no-cache".to_owned()));
    json_response(status, Some(&body), &headers)
}

/// Records spec violations of a response body, then passes the response on.
fn checked(
    shared: &Shared,
    enabled: bool,
    method: &str,
    route: &str,
    response: HttpResponse,
    body: &Value,
) -> HttpResponse {
    if enabled && !route.is_empty() {
        check_against_spec(shared, method, route, Some(response.status().as_u16()), body);
    }
    response
}

/// Checks a request body (`status` `None`) or a response body against Discord's OpenAPI document
/// (through [`crate::spec`]) and records what does not match. `Value::Null` stands for no body.
fn check_against_spec(shared: &Shared, method: &str, route: &str, status: Option<u16>, body: &Value) {
    let spec = crate::spec::spec();
    let checked = match status {
        None => spec.validate_request(method, route, body),
        Some(status) => spec.validate_response(method, route, status, body),
    };
    if let Err(problems) = checked {
        let place = status.map_or_else(|| "request".to_owned(), |status| status.to_string());
        let mut state = shared.lock();
        for problem in problems {
            state.violations.push(format!("{method} {route} [{place}]: {problem}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_log_reasons_are_percent_decoded() {
        assert_eq!(percent_decode("spamming%20links%21"), "spamming links!");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
