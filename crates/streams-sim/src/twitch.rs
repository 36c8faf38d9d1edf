//! Twitch: the OAuth client-credentials grant of `id.twitch.tv`, Helix's Get Streams and Get Users, and
//! the Helix routes of EventSub (in `eventsub`).
//!
//! - `POST /oauth2/token`: <https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow>
//!   (a form body with `client_id`, `client_secret` and `grant_type=client_credentials`; app access
//!   tokens that expire after `expires_in` seconds),
//! - `GET /helix/streams`: <https://dev.twitch.tv/docs/api/reference/#get-streams> (`user_login`,
//!   `user_id`, `first`; `Authorization: Bearer` and `Client-Id` headers), with the token-bucket rate
//!   limit and `Ratelimit-*` headers of <https://dev.twitch.tv/docs/api/guide/#twitch-rate-limits>
//!   and the error bodies of <https://dev.twitch.tv/docs/api/guide/#errors>,
//! - `GET /helix/users`: <https://dev.twitch.tv/docs/api/reference/#get-users> (`login`, `id`),
//! - `POST`, `GET` and `DELETE /helix/eventsub/subscriptions`: see `eventsub`.
//!
//! Every Helix route takes the same token, client id and rate limit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Reply, Request, form_pairs, now_secs, random_digits, random_text, rfc3339};
use crate::eventsub::{EventSub, Kind};

/// Lifetime of app access tokens, unless changed: Twitch's usual 60 days.
pub(crate) const DEFAULT_TOKEN_LIFETIME: u64 = 5_184_000;
/// Helix points per minute for each client id.
pub(crate) const DEFAULT_RATE_LIMIT: u32 = 800;
/// The most users one Get Streams (`user_login`, `user_id`) or Get Users (`login`, `id`) call may name.
const MAX_USERS: usize = 100;
/// Query parameters that are credentials, recorded as violations when a Helix URL carries them.
const CREDENTIAL_PARAMS: [&str; 2] = ["client_secret", "access_token"];

/// The routes served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /oauth2/token`
    Token,
    /// A Helix route.
    Helix(Helix),
}

/// The Helix routes served, each behind an app access token, its client id and the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Helix {
    /// `GET /helix/streams`
    Streams,
    /// `GET /helix/users`
    Users,
    /// `POST /helix/eventsub/subscriptions`
    CreateSubscription,
    /// `GET /helix/eventsub/subscriptions`
    ListSubscriptions,
    /// `DELETE /helix/eventsub/subscriptions`
    DeleteSubscription,
}

impl Endpoint {
    /// The endpoint of a method and path.
    pub fn from(method: &str, path: &str) -> Option<Self> {
        let helix = match (method, path) {
            ("POST", "/oauth2/token") => return Some(Self::Token),
            ("GET", "/helix/streams") => Helix::Streams,
            ("GET", "/helix/users") => Helix::Users,
            ("POST", "/helix/eventsub/subscriptions") => Helix::CreateSubscription,
            ("GET", "/helix/eventsub/subscriptions") => Helix::ListSubscriptions,
            ("DELETE", "/helix/eventsub/subscriptions") => Helix::DeleteSubscription,
            _ => return None,
        };
        Some(Self::Helix(helix))
    }
}

/// An app access token.
#[derive(Debug)]
struct Token {
    client_id: String,
    expires: Instant,
}

/// A live stream.
#[derive(Debug)]
struct Stream {
    id: String,
    title: String,
    game_id: String,
    game_name: String,
    viewers: u64,
    started_at: i64,
}

/// A broadcaster.
#[derive(Debug)]
struct User {
    id: String,
    /// Lowercase.
    login: String,
    display_name: String,
    stream: Option<Stream>,
}

/// A client id's rate-limit bucket: points left until `reset` (Unix seconds, and as an instant).
#[derive(Debug)]
struct Bucket {
    remaining: u32,
    reset_unix: i64,
    reset_at: Instant,
}

/// The simulated Twitch: registered apps, tokens, broadcasters, rate-limit buckets and EventSub.
#[derive(Debug)]
pub(crate) struct Twitch {
    clients: HashMap<String, String>,
    tokens: HashMap<String, Token>,
    token_lifetime: u64,
    issued: usize,
    users: Vec<User>,
    games: HashMap<String, String>,
    buckets: HashMap<String, Bucket>,
    rate_limit: u32,
    eventsub: EventSub,
}

impl Default for Twitch {
    fn default() -> Self {
        let games = [
            ("Just Chatting", "509658"),
            ("Roblox", "23020"),
            ("Minecraft", "27471"),
            ("Fortnite", "33214"),
            ("Grand Theft Auto V", "32982"),
            ("League of Legends", "21779"),
            ("VALORANT", "516575"),
        ];
        Self {
            clients: HashMap::new(),
            tokens: HashMap::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            issued: 0,
            users: Vec::new(),
            games: games.into_iter().map(|(name, id)| (name.to_owned(), id.to_owned())).collect(),
            buckets: HashMap::new(),
            rate_limit: DEFAULT_RATE_LIMIT,
            eventsub: EventSub::default(),
        }
    }
}

/// `{"status":N,"message":"..."}`, the shape of `id.twitch.tv`'s errors.
fn auth_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({"status": status, "message": message}))
}

/// `{"error":"...","status":N,"message":"..."}`, the shape of Helix's errors.
pub(crate) fn helix_error(status: u16, message: &str) -> Reply {
    let error = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };
    Reply::json(status, &json!({"error": error, "status": status, "message": message}))
}

/// The answer while Twitch is down.
pub(crate) fn unavailable() -> Reply {
    helix_error(503, "")
}

/// The answer to a path Twitch does not have.
pub(crate) fn not_found() -> Reply {
    helix_error(404, "")
}

/// A user as Get Users shows it.
fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "type": "",
        "broadcaster_type": "",
        "description": "",
        "profile_image_url": format!("https://static-cdn.jtvnw.net/jtv_user_pictures/{}-profile_image-300x300.png", user.login),
        "offline_image_url": "",
        "view_count": 0,
        "created_at": "2016-12-14T20:32:28Z",
    })
}

/// The `event` of a `stream.online` notification.
fn online_event(user: &User, stream: &Stream) -> Value {
    json!({
        "id": stream.id,
        "broadcaster_user_id": user.id,
        "broadcaster_user_login": user.login,
        "broadcaster_user_name": user.display_name,
        "type": "live",
        "started_at": rfc3339(stream.started_at),
    })
}

/// The `event` of a `stream.offline` notification.
fn offline_event(user: &User) -> Value {
    json!({
        "broadcaster_user_id": user.id,
        "broadcaster_user_login": user.login,
        "broadcaster_user_name": user.display_name,
    })
}

impl Twitch {
    /// Registers an app (or changes its secret).
    pub fn add_client(&mut self, client_id: &str, secret: &str) {
        self.clients.insert(client_id.to_owned(), secret.to_owned());
    }

    /// `expires_in` of tokens issued from now on.
    pub fn set_token_lifetime(&mut self, secs: u64) {
        self.token_lifetime = secs;
    }

    /// Invalidates every token issued so far.
    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> usize {
        self.issued
    }

    /// Helix points per minute for each client id from now on (buckets start full).
    pub fn set_rate_limit(&mut self, points: u32) {
        self.rate_limit = points;
        self.buckets.clear();
    }

    fn user_index(&self, login: &str) -> Option<usize> {
        let login = login.trim().to_lowercase();
        self.users.iter().position(|u| u.login == login)
    }

    /// A broadcaster's user id.
    pub fn user_id(&self, login: &str) -> Option<String> {
        self.user_index(login).map(|index| self.users[index].id.clone())
    }

    /// The simulated EventSub.
    pub fn eventsub(&mut self) -> &mut EventSub {
        &mut self.eventsub
    }

    /// Adds a broadcaster (or renames one) and answers its index.
    pub fn add_user(&mut self, login: &str, display_name: &str) -> usize {
        if let Some(index) = self.user_index(login) {
            self.users[index].display_name = display_name.to_owned();
            return index;
        }
        let id = loop {
            let id = random_digits(9);
            if self.users.iter().all(|u| u.id != id) {
                break id;
            }
        };
        let login = login.trim().to_lowercase();
        self.users.push(User { id, login, display_name: display_name.to_owned(), stream: None });
        self.users.len() - 1
    }

    /// Starts (or updates) a broadcaster's stream, adding the broadcaster if unknown; a new stream is
    /// notified to the `stream.online` subscriptions.
    pub fn go_live(&mut self, login: &str, title: &str, game: &str, viewers: u64) {
        let index = match self.user_index(login) {
            Some(index) => index,
            None => self.add_user(login, login.trim()),
        };
        let game_id = match game.is_empty() {
            true => String::new(),
            false => self.games.entry(game.to_owned()).or_insert_with(|| random_digits(6)).clone(),
        };
        let user = &mut self.users[index];
        match &mut user.stream {
            Some(stream) => {
                stream.title = title.to_owned();
                stream.game_id = game_id;
                stream.game_name = game.to_owned();
                stream.viewers = viewers;
            }
            None => {
                let stream = Stream {
                    id: random_digits(11),
                    title: title.to_owned(),
                    game_id,
                    game_name: game.to_owned(),
                    viewers,
                    started_at: now_secs(),
                };
                let event = online_event(user, &stream);
                user.stream = Some(stream);
                self.eventsub.notify(Kind::StreamOnline, &user.id, &event);
            }
        }
    }

    /// Ends a broadcaster's stream, notifying the `stream.offline` subscriptions if it was live; `false`
    /// for an unknown login.
    pub fn go_offline(&mut self, login: &str) -> bool {
        let Some(index) = self.user_index(login) else {
            return false;
        };
        let user = &mut self.users[index];
        if user.stream.take().is_some() {
            self.eventsub.notify(Kind::StreamOffline, &user.id, &offline_event(user));
        }
        true
    }

    /// `POST /oauth2/token`: the client-credentials grant.
    pub fn token(&mut self, request: &Request<'_>, route: &str, violations: &mut Vec<String>) -> Reply {
        for name in ["client_id", "client_secret"] {
            if request.param(name).is_some() {
                violations.push(format!("{route}: {name} was sent in the URL; send it in the form body"));
            }
        }
        let form = form_pairs(std::str::from_utf8(request.body).unwrap_or_default());
        let get =
            |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).or_else(|| request.param(name));
        let Some(client_id) = get("client_id").filter(|id| !id.is_empty()) else {
            return auth_error(400, "missing client id");
        };
        let Some(secret) = self.clients.get(client_id) else {
            return auth_error(400, "invalid client");
        };
        if get("client_secret") != Some(secret.as_str()) {
            return auth_error(403, "invalid client secret");
        }
        if get("grant_type") != Some("client_credentials") {
            return auth_error(400, "unsupported grant type");
        }
        let token = loop {
            let token = random_text(b"abcdefghijklmnopqrstuvwxyz0123456789", 30);
            if !self.tokens.contains_key(&token) {
                break token;
            }
        };
        let expires = Instant::now() + Duration::from_secs(self.token_lifetime);
        self.tokens.insert(token.clone(), Token { client_id: client_id.to_owned(), expires });
        self.issued += 1;
        Reply::json(200, &json!({"access_token": token, "expires_in": self.token_lifetime, "token_type": "bearer"}))
    }

    /// The client of a valid (known, unexpired) bearer token.
    fn token_client(&self, authorization: &str) -> Option<&str> {
        let (scheme, token) = authorization.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = self.tokens.get(token.trim())?;
        (Instant::now() < token.expires).then_some(token.client_id.as_str())
    }

    /// A client's bucket, refilled when its minute is over.
    fn bucket(&mut self, client_id: &str) -> &mut Bucket {
        let now = Instant::now();
        let limit = self.rate_limit;
        let fresh =
            || Bucket { remaining: limit, reset_unix: now_secs() + 60, reset_at: now + Duration::from_secs(60) };
        let bucket = self.buckets.entry(client_id.to_owned()).or_insert_with(fresh);
        if now >= bucket.reset_at {
            *bucket = fresh();
        }
        bucket
    }

    /// A Helix route: the token, the client id and the rate limit, then the route itself, with the
    /// `Ratelimit-*` headers on every answer. Credentials in the URL are served, and recorded.
    pub fn helix(&mut self, route: Helix, request: &Request<'_>, name: &str, violations: &mut Vec<String>) -> Reply {
        for param in CREDENTIAL_PARAMS {
            if request.param(param).is_some() {
                violations.push(format!("{name}: {param} was sent in the URL; send credentials in headers"));
            }
        }
        let token_client = request.header("authorization").and_then(|auth| self.token_client(auth)).map(str::to_owned);
        let header_client = request.header("client-id").map(str::trim).unwrap_or_default().to_owned();
        let bucket_owner = token_client.clone().unwrap_or_else(|| header_client.clone());
        let limit = self.rate_limit;
        let answer = match self.admit(request, token_client.as_deref(), &header_client) {
            Ok(()) => self.serve(route, request, &bucket_owner),
            Err(refusal) => refusal,
        };
        let bucket = self.bucket(&bucket_owner);
        answer
            .with_header("Ratelimit-Limit", limit.to_string())
            .with_header("Ratelimit-Remaining", bucket.remaining.to_string())
            .with_header("Ratelimit-Reset", bucket.reset_unix.to_string())
    }

    /// Refuses a Helix request without a valid token, without the token's client id, or past the rate
    /// limit; takes a point from the bucket of the one it admits.
    fn admit(&mut self, request: &Request<'_>, token_client: Option<&str>, header_client: &str) -> Result<(), Reply> {
        if request.header("authorization").is_none_or(|auth| auth.trim().is_empty()) {
            return Err(helix_error(401, "OAuth token is missing"));
        }
        let Some(client_id) = token_client else {
            return Err(helix_error(401, "Invalid OAuth token"));
        };
        if header_client.is_empty() {
            return Err(helix_error(401, "Client-Id header required"));
        }
        if header_client != client_id {
            return Err(helix_error(401, "Client ID and OAuth token do not match"));
        }
        let bucket = self.bucket(client_id);
        if bucket.remaining == 0 {
            return Err(helix_error(429, ""));
        }
        bucket.remaining -= 1;
        Ok(())
    }

    /// An admitted Helix request of the app `client_id`.
    fn serve(&mut self, route: Helix, request: &Request<'_>, client_id: &str) -> Reply {
        match route {
            Helix::Streams => self.streams(request),
            Helix::Users => self.users(request),
            Helix::CreateSubscription => {
                let users = &self.users;
                self.eventsub.create(request, client_id, |id| users.iter().any(|u| u.id == id))
            }
            Helix::ListSubscriptions => self.eventsub.list(request, client_id),
            Helix::DeleteSubscription => self.eventsub.delete(request, client_id),
        }
    }

    /// `GET /helix/users`: the users named by `login` and `id` (unknown ones left out).
    fn users(&self, request: &Request<'_>) -> Reply {
        let logins: Vec<String> = request.params("login").iter().map(|l| l.trim().to_lowercase()).collect();
        let ids = request.params("id");
        if logins.len() + ids.len() > MAX_USERS {
            return helix_error(400, "The request may specify at most 100 id and login parameters in all");
        }
        if logins.is_empty() && ids.is_empty() {
            return helix_error(400, "An app access token requires an id or login parameter");
        }
        let data: Vec<Value> = self
            .users
            .iter()
            .filter(|u| logins.contains(&u.login) || ids.contains(&u.id.as_str()))
            .map(user_json)
            .collect();
        Reply::json(200, &json!({ "data": data }))
    }

    /// `GET /helix/streams`, for an admitted request: the live streams among the users named.
    fn streams(&self, request: &Request<'_>) -> Reply {
        let logins: Vec<String> = request.params("user_login").iter().map(|l| l.trim().to_lowercase()).collect();
        let ids = request.params("user_id");
        if logins.len() + ids.len() > MAX_USERS {
            return helix_error(400, "The request may specify at most 100 user_id and user_login parameters in all");
        }
        let first = match request.param("first") {
            None => 20,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(first @ 1..=100) => first,
                _ => return helix_error(400, "The parameter \"first\" must be a number from 1 to 100"),
            },
        };
        if let Some(kind) = request.param("type").filter(|kind| !matches!(*kind, "all" | "live")) {
            return helix_error(
                400,
                &format!("The parameter \"type\" was malformed: the value \"{kind}\" is not valid"),
            );
        }
        let filtered = !logins.is_empty() || !ids.is_empty();
        let mut live: Vec<(&User, &Stream)> = self
            .users
            .iter()
            .filter(|u| !filtered || logins.contains(&u.login) || ids.contains(&u.id.as_str()))
            .filter_map(|u| u.stream.as_ref().map(|s| (u, s)))
            .collect();
        live.sort_by_key(|(_, stream)| std::cmp::Reverse(stream.viewers));
        let data: Vec<Value> = live
            .into_iter()
            .take(first)
            .map(|(user, stream)| {
                json!({
                    "id": stream.id,
                    "user_id": user.id,
                    "user_login": user.login,
                    "user_name": user.display_name,
                    "game_id": stream.game_id,
                    "game_name": stream.game_name,
                    "type": "live",
                    "title": stream.title,
                    "viewer_count": stream.viewers,
                    "started_at": rfc3339(stream.started_at),
                    "language": "en",
                    "thumbnail_url": format!("https://static-cdn.jtvnw.net/previews-ttv/live_user_{}-{{width}}x{{height}}.jpg", user.login),
                    "tag_ids": [],
                    "tags": ["English"],
                    "is_mature": false,
                })
            })
            .collect();
        Reply::json(200, &json!({"data": data, "pagination": {}}))
    }
}
