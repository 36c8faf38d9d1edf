//! Garrison's Discord adapter: garrison-core's Discord port ([`DiscordBots`], [`DiscordBot`]) over
//! twilight-http, and its gateway port ([`TwilightGateway`]: a bounded pool of twilight-gateway
//! sessions, and the server-wide bot's slash commands) over twilight-gateway.
//!
//! - twilight builds the requests; `transport` sends them, so every answer is seen: 429s are waited
//!   out within the wait budget and a few attempts (never re-sent at once, with or without
//!   `X-RateLimit-Scope`), and Discord's 401, 403 and 429 answers are counted in the process's
//!   [`RefusalBudget`]: past it, calls stop with [`DiscordError::Paused`] until the window slides.
//! - One twilight rate limiter per accepted bot token, kept in a bounded cache
//!   ([`DiscordConfig::max_clients`]) so each bot's rate-limit state survives from request to request.
//! - A token is refused without a call when it cannot be a bot token
//!   ([`BotToken::claimed_bot_id`]); otherwise it is checked with `GET /users/@me` once and the
//!   verdict is cached by the token's SHA-256: valid for [`DiscordConfig::valid_token_ttl`] (5
//!   minutes), invalid for [`DiscordConfig::invalid_token_ttl`] (an hour: a refused token never
//!   becomes valid), up to [`DiscordConfig::max_invalid_tokens`] of them. Concurrent first requests
//!   with one token share one check. Interaction tokens Discord refused are remembered the same way.
//! - Discord's errors are mapped once, in `errors`, into [`DiscordError`].
//!
//! Tokens never appear in logs or errors: they live in [`BotToken`] (redacted `Debug`) and only
//! reach the `Authorization` header, and cache keys are hashes.

mod backup;
mod errors;
mod gateway;
mod transport;
mod wire;

pub use gateway::{CommandScope, GatewayConfig, TwilightGateway, command_json};

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use garrison_core::{
    Clock, ServerId, Timestamp,
    backups::port::{BackupBot, BackupBots},
    discord::{
        AutoModRule, BanOptions, BotToken, BotUser, Channel, ChannelPosition, DiscordBot, DiscordBots, DiscordError,
        DiscordFuture, Guild, GuildSummary, InteractionToken, Invite, Member, Message, MessagePatch, NewMessage,
        RefusalBudget, RefusalLimits, Role, RoleSpec, Snowflake, Trust, UserProfile,
    },
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use transport::{LimiterRuntime, Patience, Transport};
use twilight_http::{
    Client,
    request::{AuditLogReason, Request, TryIntoRequest},
    routing::Route,
};
use twilight_http_ratelimiting::RateLimiter;
use twilight_model::{
    guild::{Permissions as TwilightPermissions, RoleColors, RolePosition},
    http::channel_position::Position,
    id::Id,
};

/// Where Discord is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// A Discord-compatible server to use instead of Discord (`http://127.0.0.1:8090`: its API lives
    /// under `/api/v10`). `None` is Discord itself.
    pub api_url: Option<String>,
    /// Where Discord serves images (`https://cdn.discordapp.com`; the simulator's is
    /// `Simulator::cdn_url()`): backups read image URLs there and download from nowhere else. `None`
    /// is Discord's own CDN (with `https://media.discordapp.net`, where Discord serves GIF stickers).
    pub cdn_url: Option<String>,
    /// The server's own bot, for routes authenticated by API key.
    pub server_token: Option<BotToken>,
    /// How long a request may wait for Discord's rate limits (permits and 429 back-offs) before the
    /// caller is told to retry.
    pub wait_budget: Duration,
    /// How long one HTTP exchange with Discord may take.
    pub request_timeout: Duration,
    /// How many times one request may be sent, 429s included.
    pub max_attempts: u32,
    /// How long to wait after a 429 that does not say (no `Retry-After`, no `retry_after`).
    pub default_retry_after: Duration,
    /// How many bots' rate-limit states are kept.
    pub max_clients: usize,
    /// Requests per second each bot may make in all (Discord's global limit: 50 unless Discord raised
    /// it for the bot).
    pub global_limit: u16,
    pub valid_token_ttl: Duration,
    pub invalid_token_ttl: Duration,
    /// How many refused tokens (hashes) are remembered.
    pub max_invalid_tokens: usize,
    /// How many of Discord's refusals (401, 403, 429) a window may hold before calls stop.
    pub refusals: RefusalLimits,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            api_url: None,
            cdn_url: None,
            server_token: None,
            wait_budget: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_attempts: 3,
            default_retry_after: Duration::from_secs(1),
            max_clients: 1_000,
            global_limit: 50,
            valid_token_ttl: Duration::from_secs(300),
            invalid_token_ttl: Duration::from_secs(3_600),
            max_invalid_tokens: 100_000,
            refusals: RefusalLimits::default(),
        }
    }
}

/// Why a [`DiscordConfig`] cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// The API URL as a base (`http://127.0.0.1:8090`), checked: a scheme and a host, nothing more.
fn base_of(url: &str) -> Result<String, ConfigError> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).ok_or_else(|| {
        ConfigError(format!("GARRISON_DISCORD_API_URL: must start with http:// or https://, got {url:?}"))
    })?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(ConfigError(format!(
            "GARRISON_DISCORD_API_URL: must be a scheme and host (the API is expected under /api/v10), got {url:?}"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Discord's CDN, where backups find guild icons, role icons, emojis and stickers.
const DISCORD_CDN: &str = "https://cdn.discordapp.com";

/// Where Discord serves GIF stickers ("Sticker GIFs do not use the CDN base url").
const DISCORD_MEDIA: &str = "https://media.discordapp.net";

/// The system clock, unless the binary passes its own.
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A token Discord accepted: who it is, when that was checked, and its rate-limit state.
#[derive(Debug)]
struct Accepted {
    user: BotUser,
    checked: Instant,
    limiter: RateLimiter,
    last_used: u64,
}

/// Hashes of refused tokens, each remembered for a while, at most `capacity` of them.
#[derive(Debug, Default)]
struct Refused {
    at: HashMap<[u8; 32], Instant>,
    order: VecDeque<([u8; 32], Instant)>,
}

impl Refused {
    fn contains(&self, key: &[u8; 32], ttl: Duration) -> bool {
        self.at.get(key).is_some_and(|at| at.elapsed() < ttl)
    }

    fn insert(&mut self, key: [u8; 32], capacity: usize, ttl: Duration) {
        let now = Instant::now();
        self.at.insert(key, now);
        self.order.push_back((key, now));
        while self.at.len() > capacity.max(1)
            || self.order.len() > 2 * capacity.max(1)
            || self.order.front().is_some_and(|(_, at)| at.elapsed() >= ttl)
        {
            let Some((old, at)) = self.order.pop_front() else { break };
            if self.at.get(&old) == Some(&at) {
                self.at.remove(&old);
            }
        }
    }
}

/// A check's outcome: the bot, or `None` when Discord refused the token.
type Verdict = Option<(BotUser, Instant)>;

#[derive(Debug, Default)]
struct Cache {
    accepted: HashMap<[u8; 32], Accepted>,
    refused: Refused,
    /// Checks under way, shared by concurrent first requests with one token.
    checks: HashMap<[u8; 32], Arc<OnceCell<Verdict>>>,
    clock: u64,
}

#[derive(Debug)]
struct Shared {
    config: DiscordConfig,
    transport: Transport,
    /// Builds twilight's typed requests (it holds no token and sends nothing).
    builder: Client,
    limiters: LimiterRuntime,
    /// The rate-limit state of interaction webhooks (buckets per application and token; Discord's
    /// global limit does not apply to them).
    webhook_limiter: RateLimiter,
    cache: Mutex<Cache>,
    /// `GET /users/@me` calls made, for the benchmark and tests.
    token_checks: AtomicU64,
    /// Where images are downloaded from, for backups.
    cdn: backup::Cdn,
}

/// The twilight-backed [`DiscordBots`].
#[derive(Debug, Clone)]
pub struct TwilightBots {
    shared: Arc<Shared>,
}

fn token_key(token: &BotToken) -> [u8; 32] {
    Sha256::digest(token.expose().as_bytes()).into()
}

fn interaction_key(application: Snowflake, token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"interaction\0");
    hasher.update(application.get().to_be_bytes());
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

impl TwilightBots {
    pub fn new(config: DiscordConfig) -> Result<Self, ConfigError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// The adapter, with the refusal budget's time from `clock`.
    pub fn with_clock(config: DiscordConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let base = config.api_url.as_deref().map_or_else(|| Ok("https://discord.com".to_owned()), base_of)?;
        let cdn = match config.cdn_url.as_deref() {
            Some(url) => backup::Cdn::new(url, None, config.request_timeout),
            None => backup::Cdn::new(DISCORD_CDN, Some(DISCORD_MEDIA), config.request_timeout),
        }
        .map_err(|e| ConfigError(format!("the Discord CDN URL: {e}")))?;
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            // Discord's API does not redirect; a redirect is not followed with the bot's token.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| ConfigError(format!("the HTTP client could not be built: {e}")))?;
        let limiters =
            LimiterRuntime::start().map_err(|e| ConfigError(format!("the rate limiters could not start: {e}")))?;
        let patience = Patience {
            wait_budget: config.wait_budget,
            request_timeout: config.request_timeout,
            max_attempts: config.max_attempts.max(1),
            default_retry_after: config.default_retry_after,
        };
        Ok(Self {
            shared: Arc::new(Shared {
                transport: Transport { http, base, patience, budget: RefusalBudget::new(config.refusals), clock },
                builder: limiters.request_builder(),
                webhook_limiter: limiters.limiter(config.global_limit),
                limiters,
                cache: Mutex::new(Cache::default()),
                token_checks: AtomicU64::new(0),
                cdn,
                config,
            }),
        })
    }

    /// How many times a token was checked with Discord (`GET /users/@me`).
    pub fn token_checks(&self) -> u64 {
        self.shared.token_checks.load(Ordering::Relaxed)
    }

    /// Discord's refusals counted in the current window.
    pub fn refusals(&self) -> usize {
        self.shared.transport.budget.refusals(self.shared.transport.clock.now())
    }

    async fn resolve(&self, token: &BotToken) -> Result<Arc<dyn DiscordBot>, DiscordError> {
        Ok(Arc::new(self.resolve_bot(token).await?))
    }

    /// The bot of an accepted token (checked with Discord, or known to the cache).
    async fn resolve_bot(&self, token: &BotToken) -> Result<TwilightBot, DiscordError> {
        if token.claimed_bot_id().is_none() {
            return Err(DiscordError::InvalidToken);
        }
        let key = token_key(token);
        let (cell, trust) = match self.shared.lookup(key, token) {
            Lookup::Accepted(bot) => return Ok(bot),
            Lookup::Refused => return Err(DiscordError::InvalidToken),
            Lookup::Check(cell, trust) => (cell, trust),
        };
        let verdict = cell.get_or_try_init(|| self.shared.check(token, trust)).await.cloned();
        self.shared.record(key, &cell, verdict.as_ref().ok());
        match verdict? {
            Some(_) => match self.shared.lookup(key, token) {
                Lookup::Accepted(bot) => Ok(bot),
                // Evicted or refused meanwhile by another request.
                Lookup::Refused | Lookup::Check(..) => Err(DiscordError::InvalidToken),
            },
            None => Err(DiscordError::InvalidToken),
        }
    }

    /// `GET /gateway/bot`: where the gateway is and how many sessions the bot may start. The token is
    /// checked first, as for every call.
    pub(crate) async fn gateway_bot(&self, token: &BotToken) -> Result<wire::GatewayBotJson, DiscordError> {
        self.resolve(token).await?;
        let request = raw(&Route::GetGatewayBot, None, true)?;
        let result = self.shared.transport.send(&request, Some(token), None, Trust::Verified).await;
        decode(&result?)
    }

    /// Sends a call with an accepted bot token and no answer to read.
    pub(crate) async fn send_verified(
        &self,
        token: &BotToken,
        route: &Route<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<(), DiscordError> {
        let request = raw(route, body, true)?;
        self.shared.transport.send(&request, Some(token), None, Trust::Verified).await.map(|_| ())
    }

    /// Answers an interaction that arrived over the bot's own gateway session (Discord's, so trusted).
    pub(crate) async fn send_interaction(
        &self,
        route: &Route<'_>,
        body: &serde_json::Value,
    ) -> Result<(), DiscordError> {
        let request = raw(route, Some(body), false)?;
        let shared = &self.shared;
        shared.transport.send(&request, None, Some(&shared.webhook_limiter), Trust::Verified).await.map(|_| ())
    }

    async fn webhook_call<T: DeserializeOwned>(
        &self,
        application: Snowflake,
        token: &InteractionToken,
        route: &Route<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<T, DiscordError> {
        let shared = &self.shared;
        let key = interaction_key(application, token.expose());
        if shared.lock().refused.contains(&key, shared.config.invalid_token_ttl) {
            return Err(DiscordError::InvalidToken);
        }
        let request = raw(route, body, false)?;
        let result = shared.transport.send(&request, None, Some(&shared.webhook_limiter), Trust::Unverified).await;
        if matches!(result, Err(DiscordError::InvalidToken)) {
            shared.lock().refused.insert(key, shared.config.max_invalid_tokens, shared.config.invalid_token_ttl);
        }
        decode(&result?)
    }
}

/// Where a token stands in the cache.
enum Lookup {
    Accepted(TwilightBot),
    Refused,
    /// To be checked: [`Trust::Verified`] when Discord accepted the token before (its verdict is only
    /// stale), so a flood of junk tokens does not keep known bots from being checked again.
    Check(Arc<OnceCell<Verdict>>, Trust),
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lookup(self: &Arc<Self>, key: [u8; 32], token: &BotToken) -> Lookup {
        let config = &self.config;
        let mut cache = self.lock();
        cache.clock += 1;
        let now = cache.clock;
        if let Some(accepted) = cache.accepted.get_mut(&key)
            && accepted.checked.elapsed() < config.valid_token_ttl
        {
            accepted.last_used = now;
            return Lookup::Accepted(TwilightBot {
                shared: Arc::clone(self),
                token: token.clone(),
                limiter: accepted.limiter.clone(),
                user: accepted.user.clone(),
                key,
            });
        }
        if cache.refused.contains(&key, config.invalid_token_ttl) {
            return Lookup::Refused;
        }
        let trust = if cache.accepted.contains_key(&key) { Trust::Verified } else { Trust::Unverified };
        if cache.checks.len() >= 10_000 {
            // Checks whose callers all left (nobody holds their cell any more).
            cache.checks.retain(|_, cell| Arc::strong_count(cell) > 1);
        }
        Lookup::Check(Arc::clone(cache.checks.entry(key).or_default()), trust)
    }

    /// Files a check's verdict (once per check, whichever of its waiters comes first).
    fn record(&self, key: [u8; 32], cell: &Arc<OnceCell<Verdict>>, verdict: Option<&Verdict>) {
        let config = &self.config;
        let mut cache = self.lock();
        if cache.checks.get(&key).is_some_and(|c| Arc::ptr_eq(c, cell)) {
            cache.checks.remove(&key);
        }
        match verdict {
            Some(Some((user, checked))) => {
                cache.clock += 1;
                let now = cache.clock;
                if let Some(accepted) = cache.accepted.get_mut(&key) {
                    if accepted.checked < *checked {
                        (accepted.user, accepted.checked) = (user.clone(), *checked);
                    }
                    return;
                }
                if cache.accepted.len() >= config.max_clients.max(1) {
                    let oldest = cache.accepted.iter().min_by_key(|(_, a)| a.last_used).map(|(k, _)| *k);
                    if let Some(oldest) = oldest {
                        cache.accepted.remove(&oldest);
                    }
                }
                let limiter = self.limiters.limiter(config.global_limit);
                cache.accepted.insert(key, Accepted { user: user.clone(), checked: *checked, limiter, last_used: now });
            }
            Some(None) => {
                cache.accepted.remove(&key);
                cache.refused.insert(key, config.max_invalid_tokens, config.invalid_token_ttl);
            }
            None => {}
        }
    }

    /// Discord now refuses a token it accepted: forget the bot, remember the refusal.
    fn revoke(&self, key: [u8; 32]) {
        let mut cache = self.lock();
        cache.accepted.remove(&key);
        cache.refused.insert(key, self.config.max_invalid_tokens, self.config.invalid_token_ttl);
    }

    async fn check(&self, token: &BotToken, trust: Trust) -> Result<Verdict, DiscordError> {
        self.token_checks.fetch_add(1, Ordering::Relaxed);
        let request = prepare(self.builder.current_user())?;
        match self.transport.send(&request, Some(token), None, trust).await {
            Ok(body) => {
                let user: wire::UserJson = decode(&body)?;
                Ok(Some((user.into(), Instant::now())))
            }
            Err(DiscordError::InvalidToken) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

impl DiscordBots for TwilightBots {
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn DiscordBot>> {
        let token = token.clone();
        Box::pin(async move { self.resolve(&token).await })
    }

    fn server_bot(&self) -> DiscordFuture<'_, Option<Arc<dyn DiscordBot>>> {
        Box::pin(async move {
            match &self.shared.config.server_token {
                None => Ok(None),
                Some(token) => self.resolve(token).await.map(Some),
            }
        })
    }

    fn original_response(&self, application: Snowflake, token: &InteractionToken) -> DiscordFuture<'_, Message> {
        let token = token.clone();
        Box::pin(async move {
            let route =
                Route::GetInteractionOriginal { application_id: application.get(), interaction_token: token.expose() };
            self.webhook_call(application, &token, &route, None).await
        })
    }

    fn edit_original_response(
        &self,
        application: Snowflake,
        token: &InteractionToken,
        patch: MessagePatch,
    ) -> DiscordFuture<'_, ()> {
        let token = token.clone();
        Box::pin(async move {
            let route = Route::UpdateInteractionOriginal {
                application_id: application.get(),
                interaction_token: token.expose(),
            };
            let body = wire::outgoing(&patch, None)?;
            self.webhook_call::<serde::de::IgnoredAny>(application, &token, &route, Some(&body)).await.map(|_| ())
        })
    }
}

/// Backups' bots: a token is checked as for [`DiscordBots::bot`] (the same cache, refusal budget and
/// per-bot rate limiter), and its bot reads and writes through the same transport.
impl BackupBots for TwilightBots {
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn BackupBot>> {
        let token = token.clone();
        Box::pin(async move {
            let bot: Arc<dyn BackupBot> = Arc::new(self.resolve_bot(&token).await?);
            Ok(bot)
        })
    }
}

/// A typed twilight request turned into a raw one.
fn prepare(request: impl TryIntoRequest) -> Result<Request, DiscordError> {
    request.try_into_request().map_err(|e| errors::map(&e))
}

/// A raw request with a JSON body, for bodies Garrison builds itself (messages, edits).
fn raw(route: &Route<'_>, body: Option<&serde_json::Value>, authorized: bool) -> Result<Request, DiscordError> {
    let mut builder = Request::builder(route).use_authorization_token(authorized);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    builder.build().map_err(|e| errors::map(&e))
}

/// Reads a JSON answer (`null` for an empty one).
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DiscordError> {
    let body = if body.is_empty() { b"null".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(error = %e, "unreadable answer from Discord");
        DiscordError::Unavailable("Discord's answer could not be read".into())
    })
}

/// A bot acting with its own token and its own rate-limit state.
#[derive(Debug)]
struct TwilightBot {
    shared: Arc<Shared>,
    token: BotToken,
    limiter: RateLimiter,
    user: BotUser,
    key: [u8; 32],
}

/// The request with an audit-log reason, when there is one.
fn with_reason<'a, R: AuditLogReason<'a>>(request: R, reason: Option<&'a str>) -> R {
    match reason {
        Some(reason) => request.reason(reason),
        None => request,
    }
}

/// Discord's gradient colours from two or three `0xRRGGBB` values.
fn role_colors(colors: &[u32]) -> Option<RoleColors> {
    let (&primary_color, rest) = colors.split_first()?;
    Some(RoleColors { primary_color, secondary_color: rest.first().copied(), tertiary_color: rest.get(1).copied() })
}

fn id<M>(snowflake: Snowflake) -> Id<M> {
    Id::new(snowflake.get().max(1))
}

impl TwilightBot {
    /// Twilight's typed requests, built without a token.
    fn client(&self) -> &Client {
        &self.shared.builder
    }

    /// Sends and reads; a token Discord now refuses is forgotten and remembered as refused.
    async fn call<T: DeserializeOwned>(&self, request: impl TryIntoRequest) -> Result<T, DiscordError> {
        self.call_request(prepare(request)?).await
    }

    async fn call_request<T: DeserializeOwned>(&self, request: Request) -> Result<T, DiscordError> {
        let result =
            self.shared.transport.send(&request, Some(&self.token), Some(&self.limiter), Trust::Verified).await;
        if matches!(result, Err(DiscordError::InvalidToken)) {
            self.shared.revoke(self.key);
        }
        decode(&result?)
    }

    async fn act(&self, request: impl TryIntoRequest) -> Result<(), DiscordError> {
        self.call::<serde::de::IgnoredAny>(request).await.map(|_| ())
    }
}

impl DiscordBot for TwilightBot {
    fn user(&self) -> &BotUser {
        &self.user
    }

    fn user_profile(&self, user: Snowflake) -> DiscordFuture<'_, UserProfile> {
        Box::pin(async move {
            self.call::<wire::UserProfileJson>(self.client().user(id(user))).await.map(UserProfile::from)
        })
    }

    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, Guild> {
        Box::pin(async move {
            let request = self.client().guild(id(guild.snowflake())).with_counts(true);
            self.call::<wire::GuildJson>(request).await.map(Guild::from)
        })
    }

    fn roles(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Role>> {
        Box::pin(async move {
            let roles: Vec<wire::RoleJson> = self.call(self.client().roles(id(guild.snowflake()))).await?;
            Ok(roles.into_iter().map(Role::from).collect())
        })
    }

    fn members(&self, guild: ServerId, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>> {
        Box::pin(async move {
            let mut request = self.client().guild_members(id(guild.snowflake())).limit(limit.clamp(1, 1000));
            if let Some(after) = after {
                request = request.after(id(after));
            }
            let members: Vec<wire::MemberJson> = self.call(request).await?;
            Ok(members.into_iter().map(Member::from).collect())
        })
    }

    fn member(&self, guild: ServerId, user: Snowflake) -> DiscordFuture<'_, Member> {
        Box::pin(async move {
            let request = self.client().guild_member(id(guild.snowflake()), id(user));
            self.call::<wire::MemberJson>(request).await.map(Member::from)
        })
    }

    fn ban(&self, guild: ServerId, user: Snowflake, options: BanOptions) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let request = self
                .client()
                .create_ban(id(guild.snowflake()), id(user))
                .delete_message_seconds(options.delete_message_seconds);
            self.act(with_reason(request, options.reason.as_deref())).await
        })
    }

    fn unban(&self, guild: ServerId, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(self.client().delete_ban(id(guild.snowflake()), id(user)), reason.as_deref())).await
        })
    }

    fn kick(&self, guild: ServerId, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(self.client().remove_guild_member(id(guild.snowflake()), id(user)), reason.as_deref()))
                .await
        })
    }

    fn set_timeout(
        &self,
        guild: ServerId,
        user: Snowflake,
        until: Option<Timestamp>,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let until = until
                .map(|t| twilight_model::util::Timestamp::from_micros(t.millis().saturating_mul(1000)))
                .transpose()
                .map_err(|_| DiscordError::Rejected("the timeout's end is out of range".into()))?;
            self.act(with_reason(
                self.client().update_guild_member(id(guild.snowflake()), id(user)).communication_disabled_until(until),
                reason.as_deref(),
            ))
            .await
        })
    }

    fn invite(&self, code: &str) -> DiscordFuture<'_, Invite> {
        let code = code.to_owned();
        Box::pin(async move {
            let request = self.client().invite(&code).with_counts().with_expiration();
            self.call::<wire::InviteJson>(request).await.map(Invite::from)
        })
    }

    fn channel(&self, channel: Snowflake) -> DiscordFuture<'_, Channel> {
        Box::pin(async move {
            let request = self.client().channel(id(channel));
            self.call::<wire::ChannelJson>(request).await.map(Channel::from)
        })
    }

    fn guild_channels(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
        Box::pin(async move {
            let channels: Vec<wire::ChannelJson> =
                self.call(self.client().guild_channels(id(guild.snowflake()))).await?;
            Ok(channels.into_iter().map(Channel::from).collect())
        })
    }

    fn set_channel_positions(&self, guild: ServerId, positions: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let positions: Vec<Position> = positions
                .iter()
                .map(|p| Position {
                    id: id(p.id),
                    lock_permissions: None,
                    parent_id: p.parent_id.map(|parent| Some(id(parent))),
                    position: Some(u64::try_from(p.position).ok()),
                })
                .collect();
            self.act(self.client().update_guild_channel_positions(id(guild.snowflake()), &positions)).await
        })
    }

    fn automod_rules(&self, guild: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>> {
        Box::pin(async move {
            let rules: Vec<wire::AutoModRuleJson> =
                self.call(self.client().auto_moderation_rules(id(guild.snowflake()))).await?;
            Ok(rules.into_iter().map(AutoModRule::from).collect())
        })
    }

    fn guilds(&self, after: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>> {
        Box::pin(async move {
            let mut request = self.client().current_user_guilds().limit(200);
            if let Some(after) = after {
                request = request.after(id(after));
            }
            let guilds: Vec<wire::GuildSummaryJson> = self.call(request).await?;
            Ok(guilds.into_iter().map(GuildSummary::from).collect())
        })
    }

    fn create_role(&self, guild: ServerId, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        Box::pin(async move {
            let mut request = self.client().create_role(id(guild.snowflake()));
            if let Some(name) = &spec.name {
                request = request.name(name);
            }
            if let Some(permissions) = spec.permissions {
                request = request.permissions(TwilightPermissions::from_bits_truncate(permissions.bits()));
            }
            if let Some(color) = spec.color {
                request = request.color(color);
            }
            if let Some(colors) = spec.gradient.as_deref().and_then(role_colors) {
                request = request.colors(colors);
            }
            if let Some(hoist) = spec.hoist {
                request = request.hoist(hoist);
            }
            if let Some(mentionable) = spec.mentionable {
                request = request.mentionable(mentionable);
            }
            if let Some(icon) = &spec.icon {
                request = request.icon(icon);
            }
            self.call::<wire::RoleJson>(with_reason(request, spec.reason.as_deref())).await.map(Role::from)
        })
    }

    fn update_role(&self, guild: ServerId, role: Snowflake, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        Box::pin(async move {
            let mut request = self.client().update_role(id(guild.snowflake()), id(role));
            if let Some(name) = &spec.name {
                request = request.name(Some(name));
            }
            if let Some(permissions) = spec.permissions {
                request = request.permissions(TwilightPermissions::from_bits_truncate(permissions.bits()));
            }
            if let Some(color) = spec.color {
                request = request.color(Some(color));
            }
            if let Some(colors) = spec.gradient.as_deref().and_then(role_colors) {
                request = request.colors(Some(colors));
            }
            if let Some(hoist) = spec.hoist {
                request = request.hoist(hoist);
            }
            if let Some(mentionable) = spec.mentionable {
                request = request.mentionable(mentionable);
            }
            if let Some(icon) = &spec.icon {
                request = request.icon(Some(icon));
            }
            self.call::<wire::RoleJson>(with_reason(request, spec.reason.as_deref())).await.map(Role::from)
        })
    }

    fn delete_role(&self, guild: ServerId, role: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(self.client().delete_role(id(guild.snowflake()), id(role)), reason.as_deref())).await
        })
    }

    fn set_role_positions(&self, guild: ServerId, positions: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let positions: Vec<RolePosition> = positions
                .iter()
                .map(|(role, position)| RolePosition { id: id(*role), position: u64::try_from(*position).unwrap_or(0) })
                .collect();
            self.act(self.client().update_role_positions(id(guild.snowflake()), &positions)).await
        })
    }

    fn add_member_role(
        &self,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(
                self.client().add_guild_member_role(id(guild.snowflake()), id(user), id(role)),
                reason.as_deref(),
            ))
            .await
        })
    }

    fn remove_member_role(
        &self,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(
                self.client().remove_guild_member_role(id(guild.snowflake()), id(user), id(role)),
                reason.as_deref(),
            ))
            .await
        })
    }

    fn send_message(&self, channel: Snowflake, message: NewMessage) -> DiscordFuture<'_, Snowflake> {
        Box::pin(async move {
            let body = wire::outgoing(&message, message.ping_role)?;
            let request = raw(&Route::CreateMessage { channel_id: channel.get() }, Some(&body), true)?;
            let sent: wire::MessageIdJson = self.call_request(request).await?;
            Ok(sent.id.0)
        })
    }

    fn dm_channel(&self, user: Snowflake) -> DiscordFuture<'_, Snowflake> {
        Box::pin(async move {
            let channel: wire::MessageIdJson = self.call(self.client().create_private_channel(id(user))).await?;
            Ok(channel.id.0)
        })
    }

    fn messages(&self, channel: Snowflake, before: Option<Snowflake>, limit: u8) -> DiscordFuture<'_, Vec<Message>> {
        Box::pin(async move {
            let request = self.client().channel_messages(id(channel)).limit(u16::from(limit.clamp(1, 100)));
            match before {
                Some(before) => self.call(request.before(id(before))).await,
                None => self.call(request).await,
            }
        })
    }

    fn send_file(
        &self,
        channel: Snowflake,
        content: String,
        filename: String,
        bytes: Vec<u8>,
    ) -> DiscordFuture<'_, Snowflake> {
        Box::pin(async move {
            let attachment = twilight_model::http::attachment::Attachment::from_bytes(filename, bytes, 1);
            let request = self
                .client()
                .create_message(id(channel))
                .content(&content)
                .attachments(std::slice::from_ref(&attachment));
            let sent: wire::MessageIdJson = self.call(request).await?;
            Ok(sent.id.0)
        })
    }

    fn message(&self, channel: Snowflake, message: Snowflake) -> DiscordFuture<'_, Message> {
        Box::pin(async move { self.call(self.client().message(id(channel), id(message))).await })
    }

    fn edit_message(&self, channel: Snowflake, message: Snowflake, patch: MessagePatch) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let route = Route::UpdateMessage { channel_id: channel.get(), message_id: message.get() };
            let body = wire::outgoing(&patch, None)?;
            self.call_request::<serde::de::IgnoredAny>(raw(&route, Some(&body), true)?).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_are_a_scheme_and_a_host() {
        assert_eq!(base_of("http://127.0.0.1:8090").expect("ok"), "http://127.0.0.1:8090");
        assert_eq!(base_of("https://discord.example/").expect("ok"), "https://discord.example");
        assert!(base_of("127.0.0.1:8090").is_err());
        assert!(base_of("http://host/api/v10").is_err());
    }

    #[test]
    fn refused_tokens_are_remembered_for_a_while_and_bounded() {
        let mut refused = Refused::default();
        for i in 0..10u8 {
            refused.insert([i; 32], 4, Duration::from_secs(60));
        }
        assert_eq!(refused.at.len(), 4);
        assert!(refused.contains(&[9; 32], Duration::from_secs(60)));
        assert!(!refused.contains(&[0; 32], Duration::from_secs(60)), "the oldest made room");
        assert!(!refused.contains(&[9; 32], Duration::ZERO), "expired");
    }
}
