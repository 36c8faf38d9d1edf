//! The HTTP side: one actix-web server, on its own thread and actix system, serving the three platforms
//! under disjoint paths, counting every request, recording what a client did wrong, and the
//! simulator's own `/_sim/...` controls; the same actix system sends Twitch's EventSub messages
//! (`webhooks`).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::rt::System;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::common::{Reply, Request, form_pairs};
use crate::eventsub::{Delivery, EventSub, Subscription};
use crate::tiktok::{self, TikTok, TikTokPage};
use crate::twitch::{self, Twitch};
use crate::webhooks;
use crate::youtube::{self, YouTube};

/// The largest request body accepted.
const MAX_BODY: usize = 256 * 1024;

/// The simulator's own paths start with this; they are no platform's and not checked.
const SIM_PREFIX: &str = "/_sim/";

/// One of the simulated platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// The YouTube Data API v3 (`/youtube/v3/...`).
    YouTube,
    /// Twitch: `id.twitch.tv`'s `/oauth2/...` and `api.twitch.tv`'s `/helix/...`.
    Twitch,
    /// TikTok's public pages (`/@user/live`).
    TikTok,
}

impl Platform {
    const ALL: [Platform; 3] = [Platform::YouTube, Platform::Twitch, Platform::TikTok];

    fn index(self) -> usize {
        match self {
            Platform::YouTube => 0,
            Platform::Twitch => 1,
            Platform::TikTok => 2,
        }
    }

    /// The platform a path belongs to, by its prefix.
    fn of_path(path: &str) -> Option<Platform> {
        if path.starts_with("/youtube/") {
            Some(Platform::YouTube)
        } else if path.starts_with("/oauth2/") || path.starts_with("/helix/") {
            Some(Platform::Twitch)
        } else if path.starts_with("/@") {
            Some(Platform::TikTok)
        } else {
            None
        }
    }

    fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name.to_ascii_lowercase())
    }

    fn name(self) -> &'static str {
        match self {
            Platform::YouTube => "youtube",
            Platform::Twitch => "twitch",
            Platform::TikTok => "tiktok",
        }
    }

    fn unavailable(self) -> Reply {
        match self {
            Platform::YouTube => youtube::unavailable(),
            Platform::Twitch => twitch::unavailable(),
            Platform::TikTok => tiktok::unavailable(),
        }
    }

    fn not_found(self) -> Reply {
        match self {
            Platform::YouTube => youtube::not_found(),
            Platform::Twitch => twitch::not_found(),
            Platform::TikTok => tiktok::not_found(),
        }
    }
}

/// A route the simulator serves.
#[derive(Debug, Clone, Copy)]
enum Route<'a> {
    YouTube(youtube::Endpoint),
    Twitch(twitch::Endpoint),
    TikTokLive(&'a str),
}

impl<'a> Route<'a> {
    fn of(method: &str, path: &'a str) -> Option<Self> {
        if method == "GET"
            && let Some(endpoint) = youtube::Endpoint::from_path(path)
        {
            return Some(Route::YouTube(endpoint));
        }
        if let Some(endpoint) = twitch::Endpoint::from(method, path) {
            return Some(Route::Twitch(endpoint));
        }
        match (method, tiktok::live_page_user(path)) {
            ("GET", Some(user)) => Some(Route::TikTokLive(user)),
            _ => None,
        }
    }

    /// The name calls are counted under, e.g. `GET /@{user}/live`.
    fn name(self, method: &str, path: &str) -> String {
        match self {
            Route::TikTokLive(_) => "GET /@{user}/live".to_owned(),
            Route::YouTube(_) | Route::Twitch(_) => format!("{method} {path}"),
        }
    }
}

/// Everything behind the lock.
#[derive(Debug, Default)]
struct State {
    youtube: YouTube,
    twitch: Twitch,
    tiktok: TikTok,
    /// Requests by `"<METHOD> <route>"`.
    calls: HashMap<String, usize>,
    /// Requests by platform.
    platform_calls: [usize; 3],
    down: [bool; 3],
    latency: [Duration; 3],
    violations: Vec<String>,
}

/// What the server thread shares with the [`Simulator`] handle (and with the tasks sending EventSub
/// messages).
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Sends EventSub messages to their callbacks.
    client: reqwest::Client,
    /// The server thread's actix system, whose arbiter runs the tasks sending EventSub messages.
    system: OnceLock<System>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the simulator's state lock is poisoned: a test panicked while holding it")
    }

    /// Runs `change` on the simulated EventSub, under the lock.
    pub(crate) fn eventsub<R>(&self, change: impl FnOnce(&mut EventSub) -> R) -> R {
        change(self.lock().twitch.eventsub())
    }

    /// The client EventSub messages are sent with.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Runs a task on the server thread's actix system; `false` if the system has stopped.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> bool {
        self.system.get().is_some_and(|system| system.arbiter().spawn(task))
    }
}

/// A running simulator of YouTube, Twitch and TikTok: one HTTP server serving all three on one address
/// (see the crate documentation for the routes), with state the test changes through these methods.
///
/// The server runs on its own thread with its own actix system (one worker), so it can be started from
/// plain tests and from inside a tokio runtime alike. Dropping the `Simulator` stops the server and
/// waits for its thread.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Serves on `127.0.0.1` at a free port.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub fn start() -> Simulator {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("the simulator can listen on a loopback port")
    }

    /// Serves on `addr` (port 0 for a free one).
    pub fn start_on(addr: SocketAddr) -> std::io::Result<Simulator> {
        let client = webhooks::client().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { state: Mutex::default(), client, system: OnceLock::new() });
        let (sender, receiver) = std::sync::mpsc::channel();
        let data = web::Data::from(Arc::clone(&shared));
        let thread = std::thread::Builder::new().name(format!("streams-sim {addr}")).spawn(move || {
            let system = System::new();
            system.block_on(async move {
                let _ = data.system.set(System::current());
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
                let running = server.run();
                let _ = sender.send(Ok((bound, running.handle())));
                let _ = running.await;
            });
        })?;
        let (addr, handle) =
            receiver.recv().map_err(|_| std::io::Error::other("the simulator's server thread ended early"))??;
        Ok(Simulator { shared, addr, handle, thread: Some(thread) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/youtube/v3`: the YouTube Data API's base URL (`/channels`, `/playlistItems`,
    /// `/videos`, `/search` follow).
    pub fn youtube_url(&self) -> String {
        format!("http://{}/youtube/v3", self.addr)
    }

    /// `http://ADDR/oauth2`: the base URL of Twitch's `id.twitch.tv/oauth2` (`/token` follows).
    pub fn twitch_auth_url(&self) -> String {
        format!("http://{}/oauth2", self.addr)
    }

    /// `http://ADDR/helix`: the base URL of Twitch's `api.twitch.tv/helix` (`/streams`, `/users` and
    /// `/eventsub/subscriptions` follow).
    pub fn twitch_api_url(&self) -> String {
        format!("http://{}/helix", self.addr)
    }

    /// `http://ADDR`: TikTok's `www.tiktok.com` (`/@user/live` follows).
    pub fn tiktok_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Accepts the YouTube API key `key` with `daily_quota` units a day (changing the quota of a key
    /// already known, without forgetting what it spent today).
    pub fn youtube_add_key(&self, key: &str, daily_quota: u64) {
        self.state().youtube.add_key(key, daily_quota);
    }

    /// Quota units `key` spent on the current Pacific day (0 for an unknown key).
    pub fn youtube_quota_used(&self, key: &str) -> u64 {
        self.state().youtube.quota_used(key)
    }

    /// Starts a new quota day (as midnight Pacific time does) for every key.
    pub fn youtube_reset_quota(&self) {
        self.state().youtube.reset_quota();
    }

    /// Adds a channel with a handle (with or without `@`) and a title, and answers its id: `UC` and 22
    /// characters; its uploads playlist is `UU` and the same 22. A known handle keeps its id and gets the
    /// new title.
    pub fn youtube_add_channel(&self, handle: &str, title: &str) -> String {
        self.state().youtube.add_channel(handle, title)
    }

    /// Publishes a plain (not live) video at the top of a channel's uploads and answers its 11-character
    /// id.
    ///
    /// # Panics
    /// If no channel has the handle.
    pub fn youtube_upload(&self, handle: &str, title: &str) -> String {
        self.state()
            .youtube
            .upload(handle, title)
            .unwrap_or_else(|| panic!("no YouTube channel {handle}: call youtube_add_channel first"))
    }

    /// Starts a new live broadcast, a video at the top of a channel's uploads, and answers its id.
    ///
    /// # Panics
    /// If no channel has the handle.
    pub fn youtube_go_live(&self, handle: &str, title: &str, viewers: u64) -> String {
        self.state()
            .youtube
            .go_live(handle, title, viewers)
            .unwrap_or_else(|| panic!("no YouTube channel {handle}: call youtube_add_channel first"))
    }

    /// Ends a channel's live broadcasts: they get an `actualEndTime` and `liveBroadcastContent` `none`.
    /// Nothing happens for an unknown handle.
    pub fn youtube_go_offline(&self, handle: &str) {
        self.state().youtube.go_offline(handle);
    }

    /// Registers a Twitch app (or changes its secret).
    pub fn twitch_add_client(&self, client_id: &str, secret: &str) {
        self.state().twitch.add_client(client_id, secret);
    }

    /// The lifetime (`expires_in`, seconds) of tokens issued from now on; 5 184 000 until changed.
    pub fn twitch_set_token_lifetime(&self, secs: u64) {
        self.state().twitch.set_token_lifetime(secs);
    }

    /// Makes every token issued so far invalid: Helix answers 401 to them.
    pub fn twitch_expire_tokens(&self) {
        self.state().twitch.expire_tokens();
    }

    /// How many app access tokens were issued.
    pub fn twitch_tokens_issued(&self) -> usize {
        self.state().twitch.tokens_issued()
    }

    /// Helix's rate limit from now on: `points` a minute for each client id (800 until changed); buckets
    /// start full.
    pub fn twitch_set_rate_limit(&self, points: u32) {
        self.state().twitch.set_rate_limit(points);
    }

    /// Adds a broadcaster (or renames one); logins match case-insensitively.
    pub fn twitch_add_user(&self, login: &str, display_name: &str) {
        self.state().twitch.add_user(login, display_name);
    }

    /// A broadcaster's user id (digits), as Helix's `/users` and `/streams` show it; `None` for an
    /// unknown login.
    pub fn twitch_user_id(&self, login: &str) -> Option<String> {
        self.state().twitch.user_id(login)
    }

    /// Starts a broadcaster's stream, or changes its title, game and audience if it is live already.
    /// An unknown login is added first, with the login as its display name. A new stream is notified to
    /// the broadcaster's enabled `stream.online` EventSub subscriptions (in the background: see
    /// [`Simulator::twitch_eventsub_wait_idle`]).
    pub fn twitch_go_live(&self, login: &str, title: &str, game: &str, viewers: u64) {
        self.state().twitch.go_live(login, title, game, viewers);
        webhooks::send_outbox(&self.shared);
    }

    /// Ends a broadcaster's stream, notifying its enabled `stream.offline` EventSub subscriptions if it
    /// was live.
    pub fn twitch_go_offline(&self, login: &str) {
        self.state().twitch.go_offline(login);
        webhooks::send_outbox(&self.shared);
    }

    /// Whether EventSub subscriptions created from now on may have plain `http` callbacks, on any port
    /// (`false` until changed: like Twitch, only `https` on port 443). Tests with a receiver on loopback
    /// turn it on. The simulator sends messages over plain HTTP only: an `https` callback is accepted
    /// but its messages fail.
    pub fn twitch_allow_http_callbacks(&self, allow: bool) {
        self.state().twitch.eventsub().allow_http_callbacks(allow);
    }

    /// Every EventSub subscription, of every app, in the order created.
    pub fn twitch_eventsub_subscriptions(&self) -> Vec<Subscription> {
        self.shared.eventsub(|eventsub| eventsub.subscriptions())
    }

    /// Every attempt to send an EventSub message so far (verifications, notifications, their retries,
    /// revocations and replays), in the order they ended.
    pub fn twitch_eventsub_deliveries(&self) -> Vec<Delivery> {
        self.shared.eventsub(|eventsub| eventsub.deliveries())
    }

    /// Waits until no EventSub message is being sent (retries included), at most `timeout`; `false` if
    /// some still are. Messages go out in the background: after creating a subscription, wait for its
    /// verification; after `twitch_go_live`, for the notifications.
    ///
    /// This blocks the calling thread: from async code whose runtime also serves the callback, call it
    /// in `spawn_blocking`.
    pub fn twitch_eventsub_wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.shared.eventsub(|eventsub| eventsub.is_idle()) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Sends the last EventSub notification again, exactly as first sent: the same message id, headers,
    /// timestamp, signature and body, as an attacker replaying a captured message would. Answers the
    /// status the callback answered, or why none came (or that no notification was sent yet); the
    /// attempt is recorded among the deliveries. Blocks until answered, like
    /// [`Simulator::twitch_eventsub_wait_idle`].
    pub fn twitch_eventsub_replay_last(&self) -> Result<u16, String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let shared = Arc::clone(&self.shared);
        let task = async move {
            let _ = sender.send(webhooks::replay_last(shared).await);
        };
        if !self.shared.spawn(task) {
            return Err("the simulator's server has stopped".to_owned());
        }
        receiver
            .recv_timeout(webhooks::ANSWER_TIMEOUT + Duration::from_secs(1))
            .map_err(|_| "the replay did not end in time".to_owned())?
    }

    /// Revokes an EventSub subscription as Twitch does when, say, the broadcaster withdraws
    /// authorization: its status becomes `reason` (`authorization_revoked`, `user_removed`,
    /// `notification_failures_exceeded`, `version_removed`...), it gets no more notifications, and if it
    /// was enabled its callback gets a `revocation` message. `false` for an unknown id.
    pub fn twitch_revoke(&self, subscription_id: &str, reason: &str) -> bool {
        let known = self.shared.eventsub(|eventsub| eventsub.revoke(subscription_id, reason));
        webhooks::send_outbox(&self.shared);
        known
    }

    /// Sets what `/@{user}/live` shows (usernames match case-insensitively; an account never set is
    /// [`TikTokPage::Missing`]).
    pub fn tiktok_set(&self, user: &str, page: TikTokPage) {
        self.state().tiktok.set(user, page);
    }

    /// Takes a platform down (every route of it answers 503) or brings it back.
    pub fn set_down(&self, platform: Platform, down: bool) {
        self.state().down[platform.index()] = down;
    }

    /// Waits this long before answering each request to a platform (`Duration::ZERO`, the default, for
    /// none). Other requests are served meanwhile.
    pub fn set_latency(&self, platform: Platform, latency: Duration) {
        self.state().latency[platform.index()] = latency;
    }

    /// How many requests a platform received, whatever their answer (refused ones included).
    pub fn calls(&self, platform: Platform) -> usize {
        self.state().platform_calls[platform.index()]
    }

    /// How many requests a route received, e.g. `calls_to("GET /youtube/v3/videos")`,
    /// `calls_to("POST /oauth2/token")`, `calls_to("POST /helix/eventsub/subscriptions")`,
    /// `calls_to("GET /@{user}/live")`.
    pub fn calls_to(&self, route: &str) -> usize {
        self.state().calls.get(route).copied().unwrap_or(0)
    }

    /// What clients did wrong so far: API keys or client secrets in URLs, requests without a
    /// `User-Agent`, requests for routes the platforms do not have.
    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
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

fn respond(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &reply.headers {
        response.insert_header((*name, value.as_str()));
    }
    if reply.body.is_empty() && reply.status == 204 {
        return response.finish();
    }
    response.content_type(reply.content_type).body(reply.body)
}

async fn dispatch(request: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let shared = shared.into_inner();
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    let query = form_pairs(request.query_string());
    let incoming = Request { method: &method, path: &path, query, headers: request.headers(), body: &body };
    let reply = serve(&shared, &incoming).await;
    webhooks::send_outbox(&shared);
    respond(reply)
}

/// Counts a request, records what it did wrong, and answers it.
async fn serve(shared: &Arc<Shared>, incoming: &Request<'_>) -> Reply {
    let (method, path) = (incoming.method, incoming.path);
    if path.starts_with(SIM_PREFIX) {
        *shared.lock().calls.entry(format!("{method} {path}")).or_default() += 1;
        return control(shared, incoming).await;
    }
    let platform = Platform::of_path(path);
    let route = Route::of(method, path);
    let route_name = route.map_or_else(|| format!("{method} {path}"), |r| r.name(method, path));
    let (latency, down) = {
        let mut state = shared.lock();
        *state.calls.entry(route_name.clone()).or_default() += 1;
        if incoming.header("user-agent").is_none_or(|agent| agent.trim().is_empty()) {
            state.violations.push(format!("{route_name}: the request has no User-Agent header"));
        }
        if route.is_none() {
            state.violations.push(format!("{route_name}: no such route"));
        }
        match platform {
            Some(platform) => {
                state.platform_calls[platform.index()] += 1;
                (state.latency[platform.index()], state.down[platform.index()])
            }
            None => (Duration::ZERO, false),
        }
    };
    if !latency.is_zero() {
        actix_web::rt::time::sleep(latency).await;
    }
    let Some(platform) = platform else {
        return Reply::json(404, &json!({"error": "no such route", "path": path}));
    };
    if down {
        return platform.unavailable();
    }
    let Some(route) = route else {
        return platform.not_found();
    };
    let mut guard = shared.lock();
    let state = &mut *guard;
    match route {
        Route::YouTube(endpoint) => state.youtube.serve(endpoint, incoming, &route_name, &mut state.violations),
        Route::Twitch(twitch::Endpoint::Token) => state.twitch.token(incoming, &route_name, &mut state.violations),
        Route::Twitch(twitch::Endpoint::Helix(helix)) => {
            state.twitch.helix(helix, incoming, &route_name, &mut state.violations)
        }
        Route::TikTokLive(user) => state.tiktok.live_page(user),
    }
}

/// A `/_sim/...` control: JSON in, 204 or JSON out.
async fn control(shared: &Arc<Shared>, request: &Request<'_>) -> Reply {
    match (request.method, request.path) {
        ("GET", "/_sim/calls") => {
            let calls: serde_json::Map<String, Value> =
                shared.lock().calls.iter().map(|(route, count)| (route.clone(), Value::from(*count))).collect();
            return Reply::json(200, &Value::Object(calls));
        }
        ("GET", "/_sim/violations") => return Reply::json(200, &json!(shared.lock().violations)),
        ("GET", "/_sim/twitch/eventsub/subscriptions") => {
            let subscriptions = shared.eventsub(|eventsub| eventsub.subscriptions());
            return Reply::json(200, &Value::from_iter(subscriptions.iter().map(Subscription::to_json)));
        }
        ("GET", "/_sim/twitch/eventsub/deliveries") => {
            let deliveries = shared.eventsub(|eventsub| eventsub.deliveries());
            return Reply::json(200, &Value::from_iter(deliveries.iter().map(Delivery::to_json)));
        }
        ("POST", "/_sim/twitch/eventsub/replay") => {
            return match webhooks::replay_last(Arc::clone(shared)).await {
                Ok(status) => Reply::json(200, &json!({ "status": status })),
                Err(error) => control_error(502, &error),
            };
        }
        ("POST", _) => {}
        _ => return control_error(404, "no such control"),
    }
    let body: Value = match serde_json::from_slice(request.body) {
        Ok(body @ Value::Object(_)) => body,
        _ => return control_error(400, "the body must be a JSON object"),
    };
    match control_post(shared, request.path, &body) {
        Ok(reply) => reply,
        Err(message) => control_error(400, &message),
    }
}

fn control_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({ "error": message }))
}

/// A string field of a control's body.
fn text<'a>(body: &'a Value, name: &str) -> Result<&'a str, String> {
    body[name].as_str().ok_or_else(|| format!("`{name}` must be a string"))
}

/// A number field of a control's body, 0 when absent.
fn number(body: &Value, name: &str) -> Result<u64, String> {
    match &body[name] {
        Value::Null => Ok(0),
        value => value.as_u64().ok_or_else(|| format!("`{name}` must be a non-negative integer")),
    }
}

fn control_post(shared: &Shared, path: &str, body: &Value) -> Result<Reply, String> {
    let mut state = shared.lock();
    let reply = match path {
        "/_sim/youtube/keys" => {
            state.youtube.add_key(text(body, "key")?, number(body, "dailyQuota")?);
            Reply::empty(204)
        }
        "/_sim/youtube/channels" => {
            let id = state.youtube.add_channel(text(body, "handle")?, text(body, "title")?);
            Reply::json(200, &json!({ "channelId": id }))
        }
        "/_sim/youtube/upload" => match state.youtube.upload(text(body, "handle")?, text(body, "title")?) {
            Some(id) => Reply::json(200, &json!({ "videoId": id })),
            None => control_error(404, "no such channel"),
        },
        "/_sim/youtube/live" => {
            match state.youtube.go_live(text(body, "handle")?, text(body, "title")?, number(body, "viewers")?) {
                Some(id) => Reply::json(200, &json!({ "videoId": id })),
                None => control_error(404, "no such channel"),
            }
        }
        "/_sim/youtube/offline" => match state.youtube.go_offline(text(body, "handle")?) {
            true => Reply::empty(204),
            false => control_error(404, "no such channel"),
        },
        "/_sim/twitch/users" => {
            let login = text(body, "login")?;
            state.twitch.add_user(login, text(body, "displayName")?);
            Reply::json(200, &json!({ "id": state.twitch.user_id(login) }))
        }
        "/_sim/twitch/eventsub/allow-http" => {
            let allow = body["allow"].as_bool().ok_or_else(|| "`allow` must be true or false".to_owned())?;
            state.twitch.eventsub().allow_http_callbacks(allow);
            Reply::empty(204)
        }
        "/_sim/twitch/eventsub/revoke" => {
            match state.twitch.eventsub().revoke(text(body, "id")?, text(body, "reason")?) {
                true => Reply::empty(204),
                false => control_error(404, "no such subscription"),
            }
        }
        "/_sim/twitch/clients" => {
            state.twitch.add_client(text(body, "clientId")?, text(body, "secret")?);
            Reply::empty(204)
        }
        "/_sim/twitch/live" => {
            let game = body["game"].as_str().unwrap_or_default();
            state.twitch.go_live(text(body, "login")?, text(body, "title")?, game, number(body, "viewers")?);
            Reply::empty(204)
        }
        "/_sim/twitch/offline" => match state.twitch.go_offline(text(body, "login")?) {
            true => Reply::empty(204),
            false => control_error(404, "no such user"),
        },
        "/_sim/tiktok" => {
            let page = match text(body, "state")? {
                "live" => TikTokPage::Live {
                    title: body["title"].as_str().unwrap_or_default().to_owned(),
                    viewers: number(body, "viewers")?,
                },
                "offline" => TikTokPage::Offline,
                "changed" => TikTokPage::ChangedMarkup,
                "missing" => TikTokPage::Missing,
                other => return Err(format!("unknown state {other:?}: live, offline, changed or missing")),
            };
            state.tiktok.set(text(body, "user")?, page);
            Reply::empty(204)
        }
        "/_sim/down" => {
            let platform = Platform::parse(text(body, "platform")?)
                .ok_or_else(|| "`platform` must be youtube, twitch or tiktok".to_owned())?;
            let down = body["down"].as_bool().ok_or_else(|| "`down` must be true or false".to_owned())?;
            state.down[platform.index()] = down;
            Reply::empty(204)
        }
        _ => control_error(404, "no such control"),
    };
    Ok(reply)
}
