//! Garrison's Discord adapter: garrison-core's Discord port ([`DiscordBots`], [`DiscordBot`]) over
//! twilight-http.
//!
//! - One twilight client per bot token, kept in a bounded cache ([`DiscordConfig::max_clients`]) so
//!   each bot's rate-limit state (twilight's ratelimiter) survives from request to request.
//! - A token is checked with `GET /users/@me` once, then the verdict is cached by the token's SHA-256:
//!   valid for [`DiscordConfig::valid_token_ttl`] (5 minutes), invalid for
//!   [`DiscordConfig::invalid_token_ttl`] (30 seconds). Concurrent first requests with one token share
//!   one check.
//! - When twilight would wait for a rate limit longer than [`DiscordConfig::wait_budget`] before
//!   sending, the request is abandoned unsent and the caller gets [`DiscordError::RateLimited`].
//! - Discord's errors are mapped once, in [`errors`], into [`DiscordError`].
//!
//! Tokens never appear in logs or errors: they live in [`BotToken`] (redacted `Debug`) and in twilight's
//! client, and cache keys are hashes.

mod errors;
mod wire;

use std::{
    collections::HashMap,
    pin::pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use garrison_core::{
    Timestamp,
    discord::{
        AutoModRule, BanOptions, BotToken, BotUser, Channel, ChannelPosition, DiscordBot, DiscordBots, DiscordError,
        DiscordFuture, Guild, GuildSummary, Invite, Member, Role, RoleSpec, Snowflake, UserProfile,
    },
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use twilight_http::{
    Client,
    request::{AuditLogReason, Request, TryIntoRequest},
    routing::Route,
};
use twilight_http_ratelimiting::{Endpoint, RateLimiter};
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
    /// The server's own bot, for routes authenticated by API key.
    pub server_token: Option<BotToken>,
    /// How long a request may wait for Discord's rate limits before the caller is told to retry.
    pub wait_budget: Duration,
    /// How long one HTTP exchange with Discord may take.
    pub request_timeout: Duration,
    /// How many bots' clients (and rate-limit states) are kept.
    pub max_clients: usize,
    /// Requests per second each bot may make in all (Discord's global limit: 50 unless Discord raised
    /// it for the bot).
    pub global_limit: u16,
    pub valid_token_ttl: Duration,
    pub invalid_token_ttl: Duration,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            api_url: None,
            server_token: None,
            wait_budget: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_clients: 1_000,
            global_limit: 50,
            valid_token_ttl: Duration::from_secs(300),
            invalid_token_ttl: Duration::from_secs(30),
        }
    }
}

/// Why a [`DiscordConfig`] cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("GARRISON_DISCORD_API_URL: {0}")]
pub struct ConfigError(String);

/// The API URL as twilight's proxy setting wants it: `host:port` and whether to speak plain HTTP.
fn proxy_of(url: &str) -> Result<(String, bool), ConfigError> {
    let (rest, use_http) = if let Some(rest) = url.strip_prefix("http://") {
        (rest, true)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (rest, false)
    } else {
        return Err(ConfigError(format!("must start with http:// or https://, got {url:?}")));
    };
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(ConfigError(format!(
            "must be a scheme and host (the API is expected under /api/v10), got {url:?}"
        )));
    }
    Ok((host.to_owned(), use_http))
}

/// What `GET /users/@me` said about a token, and when.
#[derive(Debug, Clone)]
struct Verdict {
    user: Option<BotUser>,
    checked: Instant,
}

#[derive(Debug)]
struct Entry {
    client: Arc<Client>,
    verdict: Arc<OnceCell<Verdict>>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<[u8; 32], Entry>,
    clock: u64,
}

#[derive(Debug)]
struct Shared {
    config: DiscordConfig,
    proxy: Option<(String, bool)>,
    cache: Mutex<Cache>,
    /// `GET /users/@me` calls made, for the benchmark and tests.
    token_checks: std::sync::atomic::AtomicU64,
    /// A client without a bot token, for interaction webhooks (made on first use).
    webhooks: std::sync::OnceLock<Client>,
}

/// The twilight-backed [`DiscordBots`].
#[derive(Debug, Clone)]
pub struct TwilightBots {
    shared: Arc<Shared>,
}

impl TwilightBots {
    pub fn new(config: DiscordConfig) -> Result<Self, ConfigError> {
        let proxy = config.api_url.as_deref().map(proxy_of).transpose()?;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                proxy,
                cache: Mutex::new(Cache::default()),
                token_checks: std::sync::atomic::AtomicU64::new(0),
                webhooks: std::sync::OnceLock::new(),
            }),
        })
    }

    /// How many times a token was checked with Discord (`GET /users/@me`).
    pub fn token_checks(&self) -> u64 {
        self.shared.token_checks.load(Ordering::Relaxed)
    }

    fn client_for(&self, token: &BotToken) -> (Arc<Client>, Arc<OnceCell<Verdict>>, [u8; 32]) {
        let key: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
        let config = &self.shared.config;
        let mut cache = self.shared.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        if !cache.entries.contains_key(&key) && cache.entries.len() >= config.max_clients.max(1) {
            let oldest = cache.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                cache.entries.remove(&oldest);
            }
        }
        let entry = cache.entries.entry(key).or_insert_with(|| Entry {
            client: Arc::new(self.build_client(token)),
            verdict: Arc::new(OnceCell::new()),
            last_used: now,
        });
        entry.last_used = now;
        let stale = entry.verdict.get().is_some_and(|v| {
            let ttl = if v.user.is_some() { config.valid_token_ttl } else { config.invalid_token_ttl };
            v.checked.elapsed() >= ttl
        });
        if stale {
            entry.verdict = Arc::new(OnceCell::new());
        }
        (Arc::clone(&entry.client), Arc::clone(&entry.verdict), key)
    }

    fn build_client(&self, token: &BotToken) -> Client {
        let limiter = RateLimiter::new(self.shared.config.global_limit.max(1));
        self.client_builder().token(token.expose().to_owned()).ratelimiter(Some(limiter)).build()
    }

    fn client_builder(&self) -> twilight_http::client::ClientBuilder {
        let mut builder = Client::builder().timeout(self.shared.config.request_timeout);
        if let Some((host, use_http)) = &self.shared.proxy {
            builder = builder.proxy(host.clone(), *use_http);
        }
        builder
    }

    fn webhooks(&self) -> &Client {
        self.shared.webhooks.get_or_init(|| self.client_builder().build())
    }

    async fn webhook_call<T: DeserializeOwned>(
        &self,
        route: &Route<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<T, DiscordError> {
        let request = raw(route, body, false)?;
        send(self.webhooks(), self.shared.config.wait_budget, request).await
    }

    async fn check(&self, client: &Client) -> Result<Verdict, DiscordError> {
        self.shared.token_checks.fetch_add(1, Ordering::Relaxed);
        let budget = self.shared.config.wait_budget;
        match send::<wire::UserJson>(client, budget, prepare(client.current_user())?).await {
            Ok(user) => Ok(Verdict { user: Some(user.into()), checked: Instant::now() }),
            Err(DiscordError::InvalidToken) => Ok(Verdict { user: None, checked: Instant::now() }),
            Err(other) => Err(other),
        }
    }

    async fn resolve(&self, token: &BotToken) -> Result<Arc<dyn DiscordBot>, DiscordError> {
        let (client, cell, key) = self.client_for(token);
        let verdict = cell.get_or_try_init(|| self.check(&client)).await?;
        match &verdict.user {
            Some(user) => Ok(Arc::new(TwilightBot {
                client,
                user: user.clone(),
                budget: self.shared.config.wait_budget,
                shared: Arc::clone(&self.shared),
                key,
            })),
            None => Err(DiscordError::InvalidToken),
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

    fn original_response(&self, application: Snowflake, token: &str) -> DiscordFuture<'_, serde_json::Value> {
        let token = token.to_owned();
        Box::pin(async move {
            let route = Route::GetInteractionOriginal { application_id: application.get(), interaction_token: &token };
            self.webhook_call(&route, None).await
        })
    }

    fn edit_original_response(
        &self,
        application: Snowflake,
        token: &str,
        patch: serde_json::Value,
    ) -> DiscordFuture<'_, ()> {
        let token = token.to_owned();
        Box::pin(async move {
            let route =
                Route::UpdateInteractionOriginal { application_id: application.get(), interaction_token: &token };
            self.webhook_call::<serde::de::IgnoredAny>(&route, Some(&patch)).await.map(|_| ())
        })
    }
}

const WAITING: u8 = 0;
const SENT: u8 = 1;
const ABANDONED: u8 = 2;

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

/// The rate-limit endpoint a request counts against.
fn endpoint_of(request: &Request) -> Endpoint {
    let path = request.path().split('?').next().unwrap_or_default().to_owned();
    Endpoint { method: request.method(), path }
}

/// Sends one request and reads its JSON answer (`null` for an empty one).
///
/// twilight waits for rate-limit permits and retries 429 answers by itself. If the request is still
/// pending after `budget` and it is not on the wire (it never left, or Discord refused it with a 429
/// and twilight is waiting to retry), it is abandoned and the caller is told to retry when the bucket
/// resets. A request that may be on the wire is awaited to the end (bounded by the client's timeout),
/// so Garrison never loses track of an action Discord may have carried out.
async fn send<T: DeserializeOwned>(client: &Client, budget: Duration, request: Request) -> Result<T, DiscordError> {
    let endpoint = endpoint_of(&request);
    let body = send_raw(client, budget, request, endpoint).await?;
    let body = if body.is_empty() { b"null".as_slice() } else { &body };
    serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(error = %e, "unreadable answer from Discord");
        DiscordError::Unavailable("Discord's answer could not be read".into())
    })
}

async fn send_raw(
    client: &Client,
    budget: Duration,
    request: Request,
    endpoint: Endpoint,
) -> Result<Vec<u8>, DiscordError> {
    let mut request = client.request::<()>(request);
    let state = Arc::new(AtomicU8::new(WAITING));
    let gate = Arc::clone(&state);
    // Runs (inside our own polls) each time twilight is about to put the request on the wire.
    request.set_pre_flight(move || {
        gate.load(Ordering::Acquire) != ABANDONED && {
            gate.store(SENT, Ordering::Release);
            true
        }
    });
    let mut request = pin!(request);
    let outcome = tokio::select! {
        outcome = &mut request => Some(outcome),
        () = tokio::time::sleep(budget) => None,
    };
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => {
            // Not polled while we look, so twilight cannot send in the meantime.
            let bucket = match client.ratelimiter() {
                Some(limiter) => limiter.bucket(endpoint).await,
                None => None,
            };
            let now = Instant::now();
            let exhausted = bucket.filter(|b| b.remaining == 0 && b.reset_at > now);
            if state.load(Ordering::Acquire) == WAITING || exhausted.is_some() {
                state.store(ABANDONED, Ordering::Release);
                let wait = exhausted.map_or(budget, |b| b.reset_at - now);
                let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
                return Err(DiscordError::RateLimited { retry_after_ms });
            }
            request.await
        }
    };
    match outcome {
        Ok(response) => {
            response.bytes().await.map_err(|_| DiscordError::Unavailable("Discord's answer was cut off".into()))
        }
        Err(error) => Err(errors::map(&error)),
    }
}

/// A bot acting with its own token through its own twilight client.
#[derive(Debug)]
struct TwilightBot {
    client: Arc<Client>,
    user: BotUser,
    budget: Duration,
    shared: Arc<Shared>,
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
    /// Sends and reads; a token Discord now refuses is forgotten, so the next request checks it again.
    async fn call<T: DeserializeOwned>(&self, request: impl TryIntoRequest) -> Result<T, DiscordError> {
        self.call_request(prepare(request)?).await
    }

    async fn call_request<T: DeserializeOwned>(&self, request: Request) -> Result<T, DiscordError> {
        let result = send(&self.client, self.budget, request).await;
        if matches!(result, Err(DiscordError::InvalidToken)) {
            self.shared.cache.lock().unwrap_or_else(|p| p.into_inner()).entries.remove(&self.key);
        }
        result
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
        Box::pin(
            async move { self.call::<wire::UserProfileJson>(self.client.user(id(user))).await.map(UserProfile::from) },
        )
    }

    fn guild(&self, guild: Snowflake) -> DiscordFuture<'_, Guild> {
        Box::pin(async move {
            let request = self.client.guild(id(guild)).with_counts(true);
            self.call::<wire::GuildJson>(request).await.map(Guild::from)
        })
    }

    fn roles(&self, guild: Snowflake) -> DiscordFuture<'_, Vec<Role>> {
        Box::pin(async move {
            let roles: Vec<wire::RoleJson> = self.call(self.client.roles(id(guild))).await?;
            Ok(roles.into_iter().map(Role::from).collect())
        })
    }

    fn members(&self, guild: Snowflake, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>> {
        Box::pin(async move {
            let mut request = self.client.guild_members(id(guild)).limit(limit.clamp(1, 1000));
            if let Some(after) = after {
                request = request.after(id(after));
            }
            let members: Vec<wire::MemberJson> = self.call(request).await?;
            Ok(members.into_iter().map(Member::from).collect())
        })
    }

    fn member(&self, guild: Snowflake, user: Snowflake) -> DiscordFuture<'_, Member> {
        Box::pin(async move {
            let request = self.client.guild_member(id(guild), id(user));
            self.call::<wire::MemberJson>(request).await.map(Member::from)
        })
    }

    fn ban(&self, guild: Snowflake, user: Snowflake, options: BanOptions) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let request =
                self.client.create_ban(id(guild), id(user)).delete_message_seconds(options.delete_message_seconds);
            self.act(with_reason(request, options.reason.as_deref())).await
        })
    }

    fn unban(&self, guild: Snowflake, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(
            async move { self.act(with_reason(self.client.delete_ban(id(guild), id(user)), reason.as_deref())).await },
        )
    }

    fn kick(&self, guild: Snowflake, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(self.client.remove_guild_member(id(guild), id(user)), reason.as_deref())).await
        })
    }

    fn set_timeout(
        &self,
        guild: Snowflake,
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
                self.client.update_guild_member(id(guild), id(user)).communication_disabled_until(until),
                reason.as_deref(),
            ))
            .await
        })
    }

    fn invite(&self, code: &str) -> DiscordFuture<'_, Invite> {
        let code = code.to_owned();
        Box::pin(async move {
            let request = self.client.invite(&code).with_counts().with_expiration();
            self.call::<wire::InviteJson>(request).await.map(Invite::from)
        })
    }

    fn channel(&self, channel: Snowflake) -> DiscordFuture<'_, Channel> {
        Box::pin(async move {
            let request = self.client.channel(id(channel));
            self.call::<wire::ChannelJson>(request).await.map(Channel::from)
        })
    }

    fn guild_channels(&self, guild: Snowflake) -> DiscordFuture<'_, Vec<Channel>> {
        Box::pin(async move {
            let channels: Vec<wire::ChannelJson> = self.call(self.client.guild_channels(id(guild))).await?;
            Ok(channels.into_iter().map(Channel::from).collect())
        })
    }

    fn set_channel_positions(&self, guild: Snowflake, positions: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
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
            self.act(self.client.update_guild_channel_positions(id(guild), &positions)).await
        })
    }

    fn automod_rules(&self, guild: Snowflake) -> DiscordFuture<'_, Vec<AutoModRule>> {
        Box::pin(async move {
            let rules: Vec<wire::AutoModRuleJson> = self.call(self.client.auto_moderation_rules(id(guild))).await?;
            Ok(rules.into_iter().map(AutoModRule::from).collect())
        })
    }

    fn guilds(&self, after: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>> {
        Box::pin(async move {
            let mut request = self.client.current_user_guilds().limit(200);
            if let Some(after) = after {
                request = request.after(id(after));
            }
            let guilds: Vec<wire::GuildSummaryJson> = self.call(request).await?;
            Ok(guilds.into_iter().map(GuildSummary::from).collect())
        })
    }

    fn create_role(&self, guild: Snowflake, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        Box::pin(async move {
            let mut request = self.client.create_role(id(guild));
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

    fn update_role(&self, guild: Snowflake, role: Snowflake, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        Box::pin(async move {
            let mut request = self.client.update_role(id(guild), id(role));
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

    fn delete_role(&self, guild: Snowflake, role: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()> {
        Box::pin(
            async move { self.act(with_reason(self.client.delete_role(id(guild), id(role)), reason.as_deref())).await },
        )
    }

    fn set_role_positions(&self, guild: Snowflake, positions: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let positions: Vec<RolePosition> = positions
                .iter()
                .map(|(role, position)| RolePosition { id: id(*role), position: u64::try_from(*position).unwrap_or(0) })
                .collect();
            self.act(self.client.update_role_positions(id(guild), &positions)).await
        })
    }

    fn add_member_role(
        &self,
        guild: Snowflake,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(self.client.add_guild_member_role(id(guild), id(user), id(role)), reason.as_deref()))
                .await
        })
    }

    fn remove_member_role(
        &self,
        guild: Snowflake,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            self.act(with_reason(
                self.client.remove_guild_member_role(id(guild), id(user), id(role)),
                reason.as_deref(),
            ))
            .await
        })
    }

    fn send_message(&self, channel: Snowflake, body: serde_json::Value) -> DiscordFuture<'_, Snowflake> {
        Box::pin(async move {
            let request = raw(&Route::CreateMessage { channel_id: channel.get() }, Some(&body), true)?;
            let sent: wire::MessageIdJson = self.call_request(request).await?;
            Ok(sent.id.0)
        })
    }

    fn dm_channel(&self, user: Snowflake) -> DiscordFuture<'_, Snowflake> {
        Box::pin(async move {
            let channel: wire::MessageIdJson = self.call(self.client.create_private_channel(id(user))).await?;
            Ok(channel.id.0)
        })
    }

    fn messages(
        &self,
        channel: Snowflake,
        before: Option<Snowflake>,
        limit: u8,
    ) -> DiscordFuture<'_, Vec<serde_json::Value>> {
        Box::pin(async move {
            let request = self.client.channel_messages(id(channel)).limit(u16::from(limit.clamp(1, 100)));
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
                .client
                .create_message(id(channel))
                .content(&content)
                .attachments(std::slice::from_ref(&attachment));
            let sent: wire::MessageIdJson = self.call(request).await?;
            Ok(sent.id.0)
        })
    }

    fn message(&self, channel: Snowflake, message: Snowflake) -> DiscordFuture<'_, serde_json::Value> {
        Box::pin(async move { self.call(self.client.message(id(channel), id(message))).await })
    }

    fn edit_message(&self, channel: Snowflake, message: Snowflake, patch: serde_json::Value) -> DiscordFuture<'_, ()> {
        Box::pin(async move {
            let route = Route::UpdateMessage { channel_id: channel.get(), message_id: message.get() };
            self.call_request::<serde::de::IgnoredAny>(raw(&route, Some(&patch), true)?).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_become_twilight_proxies() {
        assert_eq!(proxy_of("http://127.0.0.1:8090").expect("ok"), ("127.0.0.1:8090".into(), true));
        assert_eq!(proxy_of("https://discord.example/").expect("ok"), ("discord.example".into(), false));
        assert!(proxy_of("127.0.0.1:8090").is_err());
        assert!(proxy_of("http://host/api/v10").is_err());
    }
}
