//! One gateway session: a twilight shard on the gateway runtime, the cache it keeps, and its state
//! for callers to wait on. The session ends when it is idle for the pool's idle time, when the pool
//! drops it, or when Discord closes it for good (a refused token or intent).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use garrison_core::ServerId;
use garrison_core::discord::DiscordError;
use tokio::sync::{Notify, watch};
use twilight_gateway::{CloseFrame, Config, Event, EventTypeFlags, Intents, MessageSender, Shard, ShardId, StreamExt};
use twilight_model::gateway::CloseCode;
use twilight_model::gateway::payload::outgoing::RequestGuildMembers;
use twilight_model::id::Id;

use super::cache::GuildCache;

/// What callers see of a session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Status {
    /// Connecting, identifying, or waiting for its guilds.
    Starting,
    /// Every guild has arrived; answers come from the cache.
    Ready,
    /// Ended: why, for callers (a refused token, a missing intent, Discord unavailable).
    Ended(DiscordError),
}

/// A member list being fetched for a guild: its nonce and whether it has all arrived.
#[derive(Debug)]
struct Fetch {
    guild: ServerId,
    nonce: String,
    done: watch::Sender<Option<Result<(), DiscordError>>>,
}

/// The events a session reads; everything else is skipped unparsed.
fn wanted() -> EventTypeFlags {
    EventTypeFlags::READY
        | EventTypeFlags::GUILD_CREATE
        | EventTypeFlags::GUILD_DELETE
        | EventTypeFlags::CHANNEL_CREATE
        | EventTypeFlags::CHANNEL_UPDATE
        | EventTypeFlags::CHANNEL_DELETE
        | EventTypeFlags::ROLE_CREATE
        | EventTypeFlags::ROLE_UPDATE
        | EventTypeFlags::ROLE_DELETE
        | EventTypeFlags::MEMBER_ADD
        | EventTypeFlags::MEMBER_UPDATE
        | EventTypeFlags::MEMBER_REMOVE
        | EventTypeFlags::MEMBER_CHUNK
        | EventTypeFlags::VOICE_STATE_UPDATE
        | EventTypeFlags::RATE_LIMITED
}

/// The error a close code that ends a session means for callers, if it ends it.
fn fatal(code: u16, intents: Intents) -> Option<DiscordError> {
    match CloseCode::try_from(code).ok()? {
        CloseCode::AuthenticationFailed => Some(DiscordError::InvalidToken),
        CloseCode::DisallowedIntents => Some(DiscordError::MissingIntent {
            intent: if intents.contains(Intents::GUILD_MEMBERS) { "GUILD_MEMBERS" } else { "GUILD_VOICE_STATES" },
        }),
        close if !close.can_reconnect() => {
            Some(DiscordError::Unavailable(format!("Discord's gateway closed the session ({code})")))
        }
        _ => None,
    }
}

/// A live session, shared by the pool and its task.
#[derive(Debug)]
pub(crate) struct Session {
    cache: Mutex<GuildCache>,
    status: watch::Sender<Status>,
    /// Milliseconds since `born` when a caller last used it.
    last_used: AtomicU64,
    /// When it ended, once it has.
    ended_at: OnceLock<Instant>,
    born: Instant,
    stop: Notify,
    sender: Mutex<Option<MessageSender>>,
    fetches: Mutex<Vec<Fetch>>,
    nonces: AtomicU64,
    pub(crate) intents: Intents,
}

impl Session {
    pub(crate) fn new(intents: Intents) -> Arc<Self> {
        Arc::new(Self {
            cache: Mutex::new(GuildCache::default()),
            status: watch::Sender::new(Status::Starting),
            last_used: AtomicU64::new(0),
            ended_at: OnceLock::new(),
            born: Instant::now(),
            stop: Notify::new(),
            sender: Mutex::new(None),
            fetches: Mutex::new(Vec::new()),
            nonces: AtomicU64::new(0),
            intents,
        })
    }

    pub(crate) fn cache(&self) -> MutexGuard<'_, GuildCache> {
        // The cache is consistent between events: a poisoned lock is taken as is.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn touch(&self) {
        self.last_used.store(self.millis(), Ordering::Relaxed);
    }

    pub(crate) fn idle_for(&self) -> Duration {
        Duration::from_millis(self.millis().saturating_sub(self.last_used.load(Ordering::Relaxed)))
    }

    pub(crate) fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub(crate) fn end(&self, why: DiscordError) {
        let _ = self.ended_at.set(Instant::now());
        self.status.send_replace(Status::Ended(why));
    }

    /// When the session ended, if it has.
    pub(crate) fn ended_at(&self) -> Option<Instant> {
        self.ended_at.get().copied()
    }

    /// Asks the task to close the connection and end.
    pub(crate) fn stop(&self) {
        self.stop.notify_one();
    }

    /// Waits until the session is ready or ended, at most `patience`. A session still starting after
    /// it is told to retry shortly: it keeps starting in the background.
    pub(crate) async fn ready(&self, patience: Duration) -> Result<(), DiscordError> {
        let mut status = self.status.subscribe();
        let waited = tokio::time::timeout(patience, status.wait_for(|s| *s != Status::Starting)).await;
        match waited {
            Err(_) => Err(DiscordError::RateLimited { retry_after_ms: 5_000 }),
            Ok(Err(_)) => Err(DiscordError::Unavailable("the gateway session ended".into())),
            Ok(Ok(status)) => match &*status {
                Status::Ended(why) => Err(why.clone()),
                _ => Ok(()),
            },
        }
    }

    /// Asks Discord for the guild's whole member list (once per session and guild; later callers
    /// wait on the same request), and waits until it has arrived, at most `patience`.
    pub(crate) async fn fetch_members(&self, guild: ServerId, patience: Duration) -> Result<(), DiscordError> {
        let mut done = {
            let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
            match fetches.iter().find(|f| f.guild == guild) {
                Some(fetch) => fetch.done.subscribe(),
                None => {
                    let nonce = format!("garrison-{}", self.nonces.fetch_add(1, Ordering::Relaxed));
                    let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner).clone();
                    let Some(sender) = sender else {
                        return Err(DiscordError::Unavailable("the gateway session is not connected".into()));
                    };
                    let request = RequestGuildMembers::builder(Id::new(guild.snowflake().get()))
                        .nonce(nonce.clone())
                        .query("", None);
                    sender
                        .command(&request)
                        .map_err(|_| DiscordError::Unavailable("the gateway session is not connected".into()))?;
                    let (done, receiver) = watch::channel(None);
                    fetches.push(Fetch { guild, nonce, done });
                    receiver
                }
            }
        };
        let waited = tokio::time::timeout(patience, done.wait_for(Option::is_some)).await;
        match waited {
            Err(_) => {
                self.forget_fetch(guild);
                Err(DiscordError::Unavailable("Discord did not send the member list in time".into()))
            }
            Ok(Err(_)) => Err(DiscordError::Unavailable("the gateway session ended".into())),
            Ok(Ok(result)) => result.clone().unwrap_or(Ok(())),
        }
    }

    fn forget_fetch(&self, guild: ServerId) {
        self.fetches.lock().unwrap_or_else(PoisonError::into_inner).retain(|f| f.guild != guild);
    }

    /// Ends every fetch of `guild` (or of any guild, `None`) with `result`.
    fn finish_fetches(&self, guild: Option<ServerId>, result: &Result<(), DiscordError>) {
        let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
        fetches.retain(|f| {
            let matched = guild.is_none_or(|g| f.guild == g);
            if matched {
                f.done.send_replace(Some(result.clone()));
            }
            !matched
        });
    }

    /// Runs the shard until the session ends.
    /// `starting_patience`: how long it may keep trying to start with nobody asking for it.
    pub(crate) async fn run(self: Arc<Self>, config: Config, idle: Duration, starting_patience: Duration) {
        let mut shard = Shard::with_config(ShardId::ONE, config);
        *self.sender.lock().unwrap_or_else(PoisonError::into_inner) = Some(shard.sender());
        let mut tick = tokio::time::interval(idle.min(Duration::from_secs(30)).max(Duration::from_millis(100)));
        let mut finished = false;
        loop {
            tokio::select! {
                () = self.stop.notified() => break,
                _ = tick.tick() => {
                    // A ready session ends when unused for `idle`. One still starting is given longer
                    // (callers waiting in the identify queue do not touch it meanwhile), but not
                    // forever: a gateway it cannot reach must not keep it reconnecting for nobody.
                    let limit = if self.status() == Status::Ready { idle } else { idle.max(starting_patience) };
                    if self.idle_for() >= limit {
                        break;
                    }
                }
                event = shard.next_event(wanted()) => match event {
                    None => {
                        finished = true;
                        if !matches!(self.status(), Status::Ended(_)) {
                            self.end(DiscordError::Unavailable("the gateway session ended".into()));
                        }
                        break;
                    }
                    Some(Err(error)) => {
                        // twilight reconnects (and resumes) by itself after a transport error.
                        tracing::debug!(error = %error, "gateway receive error");
                    }
                    Some(Ok(event)) => {
                        if let Some(why) = self.handle(&event) {
                            self.end(why);
                        }
                    }
                },
            }
        }
        if !finished {
            shard.close(CloseFrame::NORMAL);
            // Give the close frame a moment to leave; the connection drops with the shard either way.
            let drain = async { while shard.next_event(wanted()).await.is_some() {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        }
        if !matches!(self.status(), Status::Ended(_)) {
            self.end(DiscordError::Unavailable("the gateway session closed".into()));
        }
        self.finish_fetches(None, &Err(DiscordError::Unavailable("the gateway session closed".into())));
    }

    /// Applies an event; the error that ends the session, if it does.
    fn handle(&self, event: &Event) -> Option<DiscordError> {
        match event {
            Event::GatewayClose(Some(frame)) => return fatal(frame.code, self.intents),
            Event::MemberChunk(chunk) => {
                let last = chunk.chunk_index + 1 >= chunk.chunk_count;
                let guild = ServerId::from_discord(garrison_core::discord::Snowflake::from_raw(chunk.guild_id.get()));
                let mut cache = self.cache();
                cache.apply(event);
                if last && let Some(guild) = guild {
                    let ours = {
                        let fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
                        fetches.iter().any(|f| f.guild == guild && chunk.nonce.as_deref() == Some(f.nonce.as_str()))
                    };
                    if ours {
                        cache.mark_complete(guild);
                        drop(cache);
                        self.finish_fetches(Some(guild), &Ok(()));
                    }
                }
                return None;
            }
            Event::RateLimited(limited) => {
                let retry_after_ms = (f64::from(limited.retry_after) * 1000.0).ceil().max(1.0) as u64;
                self.finish_fetches(None, &Err(DiscordError::RateLimited { retry_after_ms }));
                return None;
            }
            _ => {}
        }
        let ready = {
            let mut cache = self.cache();
            cache.apply(event);
            cache.is_ready()
        };
        if ready && self.status() == Status::Starting {
            self.status.send_replace(Status::Ready);
        }
        None
    }
}
