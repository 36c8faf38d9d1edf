//! Discord's gateway behind core's [`DiscordGateway`] port: a bounded pool of sessions keyed by the
//! token's hash and what they are for, each a twilight shard with only the intents it needs.
//!
//! - The first call for a token opens a session (`GET /gateway/bot` first: its URL, unless
//!   [`GatewayConfig::url`] overrides it, and its session-start limit), which then stays open while
//!   used and answers later calls from its cache. It closes after [`GatewayConfig::idle`] unused, or
//!   when the pool is full and it is the least recently used.
//! - Identifies of one bot go through one twilight queue built from Discord's `session_start_limit`
//!   (`max_concurrency`, and at most one identify per 5 s per bucket); none left today is a 429 with
//!   Discord's reset time. A session that does not start within [`GatewayConfig::ready_timeout`] is a
//!   429 (retry shortly) rather than a hang; it keeps starting in the background.
//! - Discord closing a session for good (4004 token, 4014 intents) ends it with the matching error,
//!   kept for [`GatewayConfig::retry_failed_after`] so callers do not make Discord refuse it again.
//!
//! Sessions run on a runtime of their own thread, so no request's cancellation stops them, and the
//! pool's bounds (sessions, idle time) bound the work that outlives requests.

mod cache;
mod server_bot;
mod session;

pub use server_bot::{CommandScope, command_json};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use garrison_core::ServerId;
use garrison_core::discord::live::{DiscordGateway, GuildRoster, VoiceChannelInfo};
use garrison_core::discord::{BotToken, DiscordError, DiscordFuture, Snowflake};
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{ConfigBuilder, Intents};

use session::{Session, Status};

use crate::TwilightBots;
use crate::transport::ThreadRuntime;

/// How the gateway pool behaves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The gateway's WebSocket URL (`ws://` or `wss://`); `None`: what `GET /gateway/bot` answers.
    pub url: Option<String>,
    /// A session unused this long closes.
    pub idle: Duration,
    /// Sessions open at once; past it, the least recently used closes.
    pub max_sessions: usize,
    /// How long a call waits for a new session's guilds before answering 429.
    pub ready_timeout: Duration,
    /// How long a call waits for a guild's whole member list.
    pub members_timeout: Duration,
    /// How long a session Discord refused (token, intents) is remembered before one is tried again.
    pub retry_failed_after: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            url: None,
            idle: Duration::from_secs(300),
            max_sessions: 100,
            ready_timeout: Duration::from_secs(10),
            members_timeout: Duration::from_secs(120),
            retry_failed_after: Duration::from_secs(60),
        }
    }
}

/// What a session is for: the intents it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Purpose {
    Voice,
    Members,
}

impl Purpose {
    fn intents(self) -> Intents {
        match self {
            Purpose::Voice => Intents::GUILDS | Intents::GUILD_VOICE_STATES,
            Purpose::Members => Intents::GUILDS | Intents::GUILD_MEMBERS,
        }
    }
}

#[derive(Debug, Default)]
struct Pool {
    /// Open sessions, and ended ones whose refusal is remembered.
    sessions: HashMap<([u8; 32], Purpose), Arc<Session>>,
    /// One identify queue per bot, shared by its sessions.
    queues: HashMap<[u8; 32], InMemoryQueue>,
}

/// The gateway adapter.
#[derive(Debug, Clone)]
pub struct TwilightGateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    bots: TwilightBots,
    config: GatewayConfig,
    pool: Mutex<Pool>,
    /// Where sessions run; it stops when the adapter is dropped.
    runtime: ThreadRuntime,
}

impl TwilightGateway {
    /// The pool, reaching Discord's REST API (for `/gateway/bot`) through `bots`.
    pub fn new(bots: TwilightBots, config: GatewayConfig) -> std::io::Result<Self> {
        let runtime = ThreadRuntime::start("discord-gateway", true)?;
        Ok(Self { inner: Arc::new(Inner { bots, config, pool: Mutex::new(Pool::default()), runtime }) })
    }

    /// Starts the server-wide bot on the gateway's runtime: its shards run until the process ends,
    /// registering `commands` and answering them through `handler`.
    pub fn start_server_bot(
        &self,
        token: BotToken,
        handler: Arc<dyn garrison_core::discord::commands::CommandHandler>,
        commands: Vec<garrison_core::discord::commands::SlashCommand>,
        scope: CommandScope,
    ) {
        let (bots, url) = (self.inner.bots.clone(), self.inner.config.url.clone());
        self.inner.runtime.handle.spawn(server_bot::run(bots, token, url, handler, commands, scope));
    }

    /// Sessions open now (starting or ready).
    pub fn open_sessions(&self) -> usize {
        let pool = self.inner.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.sessions.values().filter(|s| s.ended_at().is_none()).count()
    }

    /// The session for `token` and `purpose`, opened if there is none.
    fn session(&self, token: &BotToken, purpose: Purpose) -> Arc<Session> {
        let key = (crate::token_key(token), purpose);
        let config = &self.inner.config;
        let mut pool = self.inner.pool.lock().unwrap_or_else(PoisonError::into_inner);
        // A refusal (token, intents) is remembered for a while: Discord is not asked to refuse again.
        let remembered = |session: &Session| match session.ended_at() {
            None => true,
            Some(at) => {
                let refused = matches!(
                    session.status(),
                    Status::Ended(DiscordError::InvalidToken | DiscordError::MissingIntent { .. })
                );
                refused && at.elapsed() < config.retry_failed_after
            }
        };
        if let Some(session) = pool.sessions.get(&key)
            && remembered(session)
        {
            session.touch();
            return Arc::clone(session);
        }
        // A new session: forget what ended, and make room (the least recently used open one goes).
        pool.sessions.retain(|_, session| remembered(session));
        let open = pool.sessions.values().filter(|s| s.ended_at().is_none()).count();
        if open >= config.max_sessions.max(1) {
            let oldest = pool
                .sessions
                .iter()
                .filter(|(_, s)| s.ended_at().is_none())
                .max_by_key(|(_, s)| s.idle_for())
                .map(|(k, _)| *k);
            if let Some(session) = oldest.and_then(|oldest| pool.sessions.remove(&oldest)) {
                session.stop();
            }
        }
        let session = Session::new(purpose.intents());
        session.touch();
        pool.sessions.insert(key, Arc::clone(&session));
        let live: std::collections::HashSet<[u8; 32]> = pool.sessions.keys().map(|(t, _)| *t).collect();
        pool.queues.retain(|token, _| live.contains(token));
        drop(pool);
        let inner = Arc::clone(&self.inner);
        let token = token.clone();
        let starting = Arc::clone(&session);
        self.inner.runtime.handle.spawn(async move { inner.start(token, key.0, starting).await });
        session
    }
}

impl Inner {
    /// Asks Discord where the gateway is and how many sessions the bot may start, then runs the
    /// session.
    async fn start(self: Arc<Self>, token: BotToken, key: [u8; 32], session: Arc<Session>) {
        let info = match self.bots.gateway_bot(&token).await {
            Ok(info) => info,
            Err(why) => return session.end(why),
        };
        let limit = &info.session_start_limit;
        if limit.remaining == 0 {
            return session.end(DiscordError::RateLimited { retry_after_ms: limit.reset_after.max(1) });
        }
        let url = match self.config.url.clone().unwrap_or(info.url) {
            url if url.starts_with("wss://") || url.starts_with("ws://") => url,
            _ => return session.end(DiscordError::Unavailable("Discord named no WebSocket gateway".into())),
        };
        let queue = {
            let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
            pool.queues
                .entry(key)
                .or_insert_with(|| {
                    let total = limit.total.max(limit.remaining);
                    InMemoryQueue::new(
                        limit.max_concurrency.max(1),
                        limit.remaining,
                        Duration::from_millis(limit.reset_after),
                        total,
                    )
                })
                .clone()
        };
        let config = ConfigBuilder::new(token.expose().to_owned(), session.intents)
            .proxy_url(url.trim_end_matches('/').to_owned())
            .queue(queue)
            .build();
        // A session nobody has asked for in six waits of a caller stops trying to start.
        session.run(config, self.config.idle, self.config.ready_timeout.saturating_mul(6)).await;
    }
}

impl DiscordGateway for TwilightGateway {
    fn voice_channel(&self, token: &BotToken, channel: Snowflake) -> DiscordFuture<'_, Option<VoiceChannelInfo>> {
        let session = self.session(token, Purpose::Voice);
        Box::pin(async move {
            session.ready(self.inner.config.ready_timeout).await?;
            session.touch();
            Ok(session.cache().voice_channel(channel))
        })
    }

    fn roster(&self, token: &BotToken, guild: ServerId) -> DiscordFuture<'_, GuildRoster> {
        let session = self.session(token, Purpose::Members);
        Box::pin(async move {
            session.ready(self.inner.config.ready_timeout).await?;
            if !session.cache().has_guild(guild) {
                return Err(DiscordError::NotMember);
            }
            if !session.cache().is_complete(guild) {
                session.fetch_members(guild, self.inner.config.members_timeout).await?;
            }
            session.touch();
            session
                .cache()
                .roster(guild)
                .ok_or_else(|| DiscordError::Unavailable("the member list changed while it was read; retry".into()))
        })
    }
}
