//! Discord's gateway: a WebSocket listener of its own (tokio-websockets on a tokio runtime on its
//! own thread) beside the HTTP server, speaking gateway v10 in plain JSON text frames.
//!
//! The pieces: [`Hub`] (inside the simulator's one state lock, beside the [`World`]) keeps the
//! sessions, each with its own sequence numbers and a bounded buffer of the dispatches it was sent
//! (the replay buffer of RESUME and, for a connected session, its outbound queue); `listener` accepts
//! connections; `connection` runs one connection's protocol; `payloads` renders what is sent; and
//! `events` holds the [`World`]'s side: every change a session could see queues an [`Effect`], which
//! [`Hub::publish`] fans out after each `Simulator::world` closure and each REST request.

mod connection;
mod events;
pub(crate) mod listener;
mod payloads;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::permissions;
use crate::time::Timestamp;
use crate::world::World;

/// Gateway intents (the `intents` bits of IDENTIFY), as Discord numbers them.
pub mod intents {
    /// Guilds, roles and channels: GUILD_CREATE/UPDATE/DELETE, GUILD_ROLE_*, CHANNEL_*.
    pub const GUILDS: u64 = 1 << 0;
    /// Privileged: GUILD_MEMBER_ADD/UPDATE/REMOVE, and the whole member list over opcode 8.
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    /// GUILD_BAN_ADD/REMOVE (to bots with BAN_MEMBERS or VIEW_AUDIT_LOG).
    pub const GUILD_MODERATION: u64 = 1 << 2;
    /// GUILD_EMOJIS_UPDATE and GUILD_STICKERS_UPDATE (soundboard events are not simulated).
    pub const GUILD_EXPRESSIONS: u64 = 1 << 3;
    /// Integration events (none simulated).
    pub const GUILD_INTEGRATIONS: u64 = 1 << 4;
    /// WEBHOOKS_UPDATE (not simulated).
    pub const GUILD_WEBHOOKS: u64 = 1 << 5;
    /// INVITE_CREATE/DELETE (not simulated).
    pub const GUILD_INVITES: u64 = 1 << 6;
    /// VOICE_STATE_UPDATE, and `voice_states` in GUILD_CREATE.
    pub const GUILD_VOICE_STATES: u64 = 1 << 7;
    /// Privileged: presences (not simulated beyond the intent check) and the fuller member list
    /// of GUILD_CREATE.
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    /// MESSAGE_CREATE and the like in guilds (not simulated yet).
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    /// Reactions in guilds (not simulated).
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    /// TYPING_START in guilds (not simulated).
    pub const GUILD_MESSAGE_TYPING: u64 = 1 << 11;
    /// Messages in DMs (not simulated yet).
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    /// Reactions in DMs (not simulated).
    pub const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
    /// TYPING_START in DMs (not simulated).
    pub const DIRECT_MESSAGE_TYPING: u64 = 1 << 14;
    /// Privileged: message content in message events.
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    /// Scheduled events (not simulated).
    pub const GUILD_SCHEDULED_EVENTS: u64 = 1 << 16;
    /// AUTO_MODERATION_RULE_CREATE/UPDATE/DELETE (to bots with MANAGE_GUILD).
    pub const AUTO_MODERATION_CONFIGURATION: u64 = 1 << 20;
    /// Auto-moderation executions (not simulated).
    pub const AUTO_MODERATION_EXECUTION: u64 = 1 << 21;
    /// Poll votes in guilds (not simulated).
    pub const GUILD_MESSAGE_POLLS: u64 = 1 << 24;
    /// Poll votes in DMs (not simulated).
    pub const DIRECT_MESSAGE_POLLS: u64 = 1 << 25;
    /// The three privileged intents, which a bot must have enabled (close 4014 otherwise).
    pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
    /// Every bit Discord defines; any other bit is closed with 4013.
    pub const ALL: u64 = ((1 << 17) - 1)
        | AUTO_MODERATION_CONFIGURATION
        | AUTO_MODERATION_EXECUTION
        | GUILD_MESSAGE_POLLS
        | DIRECT_MESSAGE_POLLS;
}

/// Discord's default heartbeat interval (what its HELLO says today).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(41_250);
/// How long a session that lost its connection stays resumable ("a few minutes" in Discord's docs).
pub const DEFAULT_RESUME_WINDOW: Duration = Duration::from_secs(180);
/// Requests for a guild's whole member list: one per guild per bot in this window (Discord's
/// limit since 2025), else a RATE_LIMITED dispatch.
pub const DEFAULT_MEMBER_REQUEST_WINDOW: Duration = Duration::from_secs(30);
/// Session starts a day (Discord's default `session_start_limit.total`).
pub const DEFAULT_SESSION_START_LIMIT: u32 = 1000;
/// A session keeps at most this many dispatches for replay; a connection that falls further behind
/// is closed (4000) and its session can no longer be resumed.
pub const REPLAY_MAX_EVENTS: usize = 20_000;
/// ... and at most this many bytes of them.
pub const REPLAY_MAX_BYTES: usize = 32 * 1024 * 1024;
/// Sessions kept at once: starting one more drops the one disconnected longest.
pub const MAX_SESSIONS: usize = 1024;
/// Guilds a session may hold (Discord requires sharding beyond it: close 4011).
pub const MAX_GUILDS_PER_SESSION: usize = 2500;

/// What the gateway has seen, for tests: sessions started and resumed per bot, and what is open now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// WebSocket connections open now (identified or not).
    pub connections: usize,
    /// Sessions that exist now: connected, or disconnected and still resumable.
    pub sessions: usize,
    /// Sessions with a connection attached now.
    pub connected_sessions: usize,
    /// IDENTIFYs that started a session (READY sent or due), by bot user id.
    pub identifies: BTreeMap<u64, usize>,
    /// Successful RESUMEs, by bot user id.
    pub resumes: BTreeMap<u64, usize>,
}

impl GatewayStats {
    /// Sessions `bot` started with IDENTIFY.
    pub fn identifies(&self, bot: u64) -> usize {
        self.identifies.get(&bot).copied().unwrap_or(0)
    }

    /// Sessions `bot` resumed.
    pub fn resumes(&self, bot: u64) -> usize {
        self.resumes.get(&bot).copied().unwrap_or(0)
    }
}

/// Something a change of the world does to gateway sessions.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    /// A dispatch (opcode 0) for the sessions it concerns.
    Dispatch(Dispatch),
    /// Every session of a bot ends (its token was reset): connections are closed with this code
    /// and the sessions cannot be resumed.
    EndSessions { bot: u64, code: u16, reason: &'static str },
}

/// One dispatch and who receives it. The path is general: guild events go to the sessions of bots
/// in the guild (on the guild's shard) whose intents cover them; `bot` narrows it to one bot's
/// sessions (GUILD_CREATE on joining, GUILD_DELETE on leaving, INTERACTION_CREATE).
#[derive(Debug, Clone)]
pub(crate) struct Dispatch {
    /// The event name (`t`).
    pub(crate) name: &'static str,
    /// The guild it happened in: only bots that are members receive it (unless `bot` is set),
    /// and only on the guild's shard. `None` goes to shard 0.
    pub(crate) guild: Option<u64>,
    /// Only this bot's sessions.
    pub(crate) bot: Option<u64>,
    /// Any of these intents lets a session receive it; 0 for none needed.
    pub(crate) intents: u64,
    /// A session of this user receives it whatever its intents (GUILD_MEMBER_UPDATE about the
    /// bot itself).
    pub(crate) about_user: Option<u64>,
    /// The bot needs any of these guild permissions; 0 for none.
    pub(crate) permissions: u64,
    /// The payload (`d`).
    pub(crate) data: Data,
}

/// A dispatch's payload.
#[derive(Debug, Clone)]
pub(crate) enum Data {
    /// The same JSON for every session.
    Json(Value),
    /// GUILD_CREATE of a guild, rendered for each session (its members and voice states depend on
    /// the session's intents).
    GuildCreate(u64),
}

/// What a connection is told to do by the simulator (latest wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// Keep going.
    Run,
    /// Drop the TCP connection without a close frame (the session stays resumable).
    Drop,
    /// Send a close frame with this code and reason and end the connection.
    Close(u16, &'static str),
    /// Send opcode 7 Reconnect (the client should resume on a new connection).
    Reconnect,
}

/// Settings tests can change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) ready_delay: Duration,
    pub(crate) resume_window: Duration,
    pub(crate) member_request_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            ready_delay: Duration::ZERO,
            resume_window: DEFAULT_RESUME_WINDOW,
            member_request_window: DEFAULT_MEMBER_REQUEST_WINDOW,
        }
    }
}

/// Who identified, and how: what a session is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) bot: u64,
    pub(crate) intents: u64,
    /// `(shard_id, num_shards)`.
    pub(crate) shard: (u64, u64),
    pub(crate) large_threshold: usize,
}

/// One gateway session: who, with which intents and shard, its sequence and its buffer of sent
/// dispatches.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) bot: u64,
    pub(crate) intents: u64,
    /// `(shard_id, num_shards)`.
    pub(crate) shard: (u64, u64),
    pub(crate) large_threshold: usize,
    seq: u64,
    /// Dispatches in sequence order; `buffer[i]` has sequence `first_seq + i`.
    buffer: VecDeque<Arc<str>>,
    first_seq: u64,
    bytes: usize,
    /// Woken when a dispatch is added.
    pub(crate) notify: Arc<Notify>,
    connection: Option<u64>,
    detached_at: Option<Instant>,
}

/// What a connection reads from its session's buffer.
#[derive(Debug)]
pub(crate) enum Pending {
    /// Dispatches after the last one sent, in order (possibly none).
    Frames(Vec<Arc<str>>),
    /// Dispatches the connection has not sent were dropped from the buffer: it fell too far behind.
    Behind,
    /// The session is gone.
    Gone,
}

impl Session {
    fn new(Identity { bot, intents, shard, large_threshold }: Identity) -> Self {
        Self {
            bot,
            intents,
            shard,
            large_threshold,
            seq: 0,
            buffer: VecDeque::new(),
            first_seq: 1,
            bytes: 0,
            notify: Arc::new(Notify::new()),
            connection: None,
            detached_at: None,
        }
    }

    /// Adds a dispatch with the next sequence number, drops the oldest beyond the bounds, and
    /// wakes the connection. Returns the sequence number.
    pub(crate) fn push(&mut self, name: &str, data: &str) -> u64 {
        self.seq += 1;
        let frame: Arc<str> = payloads::dispatch(name, self.seq, data).into();
        self.bytes += frame.len();
        self.buffer.push_back(frame);
        while self.buffer.len() > REPLAY_MAX_EVENTS || (self.bytes > REPLAY_MAX_BYTES && self.buffer.len() > 1) {
            if let Some(old) = self.buffer.pop_front() {
                self.bytes -= old.len();
                self.first_seq += 1;
            }
        }
        self.notify.notify_one();
        self.seq
    }

    /// Up to `max` dispatches after sequence `sent`.
    fn after(&self, sent: u64, max: usize) -> Pending {
        if sent + 1 < self.first_seq {
            return Pending::Behind;
        }
        let start = usize::try_from(sent + 1 - self.first_seq).unwrap_or(usize::MAX);
        Pending::Frames(self.buffer.iter().skip(start).take(max).cloned().collect())
    }

    /// Whether `seq` is a point this session can be resumed from.
    fn can_resume_from(&self, seq: u64) -> bool {
        seq <= self.seq && seq + 1 >= self.first_seq
    }

    /// Whether a guild's events go to this session's shard.
    pub(crate) fn on_shard(&self, guild: u64) -> bool {
        shard_of(guild, self.shard.1) == self.shard.0
    }
}

/// Discord's sharding formula.
pub(crate) fn shard_of(guild: u64, num_shards: u64) -> u64 {
    (guild >> 22) % num_shards.max(1)
}

/// A connection known to the hub.
#[derive(Debug)]
struct ConnectionHandle {
    control: watch::Sender<Control>,
    session: Option<String>,
}

/// The outcome of a RESUME.
#[derive(Debug)]
pub(crate) enum Resumed {
    /// Replay from the given sequence, then RESUMED (already queued).
    Yes { notify: Arc<Notify> },
    /// Opcode 9 with `d: false`.
    Invalid,
    /// Close 4007 (a sequence number the session never sent).
    BadSeq,
}

/// Every gateway session and connection, and the gateway's settings and counters.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    pub(crate) config: Config,
    sessions: HashMap<String, Session>,
    connections: HashMap<u64, ConnectionHandle>,
    next_connection: u64,
    identifies: BTreeMap<u64, usize>,
    resumes: BTreeMap<u64, usize>,
    /// Last request for a whole member list, by (bot, guild).
    member_requests: HashMap<(u64, u64), Instant>,
}

impl Hub {
    /// Registers a new connection; the receiver tells it what the simulator wants of it.
    pub(crate) fn connect(&mut self) -> (u64, watch::Receiver<Control>) {
        self.next_connection += 1;
        let (control, receiver) = watch::channel(Control::Run);
        self.connections.insert(self.next_connection, ConnectionHandle { control, session: None });
        (self.next_connection, receiver)
    }

    /// Connections open now.
    pub(crate) fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// A connection ended. Its session stays resumable unless the client closed with 1000 or
    /// 1001 (or the session was ended).
    pub(crate) fn disconnect(&mut self, world: &mut World, connection: u64, invalidate: bool) {
        if let Some(handle) = self.connections.remove(&connection)
            && let Some(id) = handle.session
        {
            if invalidate {
                self.sessions.remove(&id);
            } else if let Some(session) = self.sessions.get_mut(&id)
                && session.connection == Some(connection)
            {
                session.connection = None;
                session.detached_at = Some(Instant::now());
            }
        }
        self.update_listening(world);
    }

    /// Drops resumable sessions whose window passed.
    fn prune(&mut self, world: &mut World) {
        let window = self.config.resume_window;
        let now = Instant::now();
        self.sessions.retain(|_, s| s.detached_at.is_none_or(|at| now.duration_since(at) < window));
        self.update_listening(world);
    }

    /// The world records events only while some session could receive them.
    fn update_listening(&self, world: &mut World) {
        world.gateway_listening = !self.sessions.is_empty();
        if !world.gateway_listening {
            world.events.clear();
        }
    }

    /// Counts an IDENTIFY that will start a session.
    pub(crate) fn count_identify(&mut self, bot: u64) {
        *self.identifies.entry(bot).or_default() += 1;
    }

    /// Starts a session for `connection`: READY (sequence 1), then GUILD_CREATE for each guild of
    /// the bot on the session's shard (with the GUILDS intent). Returns the session id and the
    /// notifier of new dispatches.
    pub(crate) fn start_session(
        &mut self,
        world: &mut World,
        connection: u64,
        identity: Identity,
        resume_url: &str,
    ) -> (String, Arc<Notify>) {
        self.prune(world);
        if self.sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = self
                .sessions
                .iter()
                .filter_map(|(id, s)| s.detached_at.map(|at| (at, id.clone())))
                .min()
                .map(|(_, id)| id)
        {
            self.sessions.remove(&oldest);
        }
        let id = world.random_hex(32);
        let mut session = Session::new(identity);
        let guilds = payloads::guilds_of(world, &session);
        let ready = payloads::ready(world, identity.bot, &id, resume_url, identity.shard, &guilds);
        session.push("READY", &ready.to_string());
        if identity.intents & intents::GUILDS != 0 {
            for guild in &guilds {
                if let Some(body) = payloads::guild_create(world, *guild, &session) {
                    session.push("GUILD_CREATE", &body.to_string());
                }
            }
        }
        session.connection = Some(connection);
        let notify = Arc::clone(&session.notify);
        self.sessions.insert(id.clone(), session);
        if let Some(handle) = self.connections.get_mut(&connection) {
            handle.session = Some(id.clone());
        }
        self.update_listening(world);
        (id, notify)
    }

    /// RESUME of `session_id` from `seq` by `bot` on `connection`: replays what came after `seq`,
    /// then RESUMED. A session still attached to another connection loses it (dropped).
    pub(crate) fn resume(
        &mut self,
        world: &mut World,
        connection: u64,
        bot: u64,
        session_id: &str,
        seq: u64,
    ) -> Resumed {
        self.prune(world);
        let Some(session) = self.sessions.get_mut(session_id) else { return Resumed::Invalid };
        if session.bot != bot {
            return Resumed::Invalid;
        }
        if seq > session.seq {
            return Resumed::BadSeq;
        }
        if !session.can_resume_from(seq) {
            return Resumed::Invalid;
        }
        if let Some(old) = session.connection.replace(connection)
            && old != connection
            && let Some(handle) = self.connections.get_mut(&old)
        {
            handle.session = None;
            handle.control.send_replace(Control::Drop);
        }
        session.detached_at = None;
        session.push("RESUMED", "{}");
        let notify = Arc::clone(&session.notify);
        if let Some(handle) = self.connections.get_mut(&connection) {
            handle.session = Some(session_id.to_owned());
        }
        *self.resumes.entry(bot).or_default() += 1;
        Resumed::Yes { notify }
    }

    /// A session, if it exists.
    pub(crate) fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }

    /// A session, for adding dispatches.
    pub(crate) fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.get_mut(id)
    }

    /// Up to `max` dispatches of a session after `sent`.
    pub(crate) fn pending(&self, id: &str, sent: u64, max: usize) -> Pending {
        self.sessions.get(id).map_or(Pending::Gone, |s| s.after(sent, max))
    }

    /// Ends a session now (it fell behind, or its connection closed it for good).
    pub(crate) fn end_session(&mut self, world: &mut World, id: &str) {
        self.sessions.remove(id);
        self.update_listening(world);
    }

    /// Whether a whole-member-list request of `bot` for `guild` may go ahead now; otherwise how
    /// long to wait.
    pub(crate) fn member_request(&mut self, bot: u64, guild: u64) -> Result<(), Duration> {
        let window = self.config.member_request_window;
        let now = Instant::now();
        if let Some(last) = self.member_requests.get(&(bot, guild)) {
            let since = now.duration_since(*last);
            if since < window {
                return Err(window - since);
            }
        }
        self.member_requests.retain(|_, at| now.duration_since(*at) < window);
        self.member_requests.insert((bot, guild), now);
        Ok(())
    }

    /// Whether `bot` has a session with a connection attached that receives `guild`'s events
    /// (on its shard): where an INTERACTION_CREATE in that guild would go.
    pub(crate) fn has_connected_session(&self, bot: u64, guild: u64) -> bool {
        self.sessions.values().any(|s| s.bot == bot && s.connection.is_some() && s.on_shard(guild))
    }

    /// Tells every open connection to do `control`.
    pub(crate) fn control_all(&self, control: Control) {
        for handle in self.connections.values() {
            handle.control.send_replace(control);
        }
    }

    /// The counters, and what is open now.
    pub(crate) fn stats(&mut self, world: &mut World) -> GatewayStats {
        self.prune(world);
        GatewayStats {
            connections: self.connections.len(),
            sessions: self.sessions.len(),
            connected_sessions: self.sessions.values().filter(|s| s.connection.is_some()).count(),
            identifies: self.identifies.clone(),
            resumes: self.resumes.clone(),
        }
    }

    /// Fans out what the world queued since the last call.
    pub(crate) fn publish(&mut self, world: &mut World) {
        if world.events.is_empty() {
            return;
        }
        let effects = std::mem::take(&mut world.events);
        let now = Timestamp::now();
        for effect in effects {
            match effect {
                Effect::Dispatch(dispatch) => self.fan_out(world, &dispatch, now),
                Effect::EndSessions { bot, code, reason } => self.end_sessions_of(world, bot, code, reason),
            }
        }
    }

    fn end_sessions_of(&mut self, world: &mut World, bot: u64, code: u16, reason: &'static str) {
        let ended: Vec<String> = self.sessions.iter().filter(|(_, s)| s.bot == bot).map(|(id, _)| id.clone()).collect();
        for id in ended {
            if let Some(session) = self.sessions.remove(&id)
                && let Some(connection) = session.connection
                && let Some(handle) = self.connections.get_mut(&connection)
            {
                handle.session = None;
                handle.control.send_replace(Control::Close(code, reason));
            }
        }
        self.update_listening(world);
    }

    fn fan_out(&mut self, world: &World, dispatch: &Dispatch, now: Timestamp) {
        let mut shared_text: Option<String> = None;
        for session in self.sessions.values_mut() {
            if !receives(world, dispatch, session, now) {
                continue;
            }
            match &dispatch.data {
                Data::Json(value) => {
                    let text = shared_text.get_or_insert_with(|| value.to_string());
                    session.push(dispatch.name, text);
                }
                Data::GuildCreate(guild) => {
                    if let Some(body) = payloads::guild_create(world, *guild, session) {
                        session.push(dispatch.name, &body.to_string());
                    }
                }
            }
        }
    }
}

/// Whether a session receives a dispatch.
fn receives(world: &World, dispatch: &Dispatch, session: &Session, now: Timestamp) -> bool {
    if dispatch.bot.is_some_and(|bot| bot != session.bot) {
        return false;
    }
    match dispatch.guild {
        Some(guild) => {
            if !session.on_shard(guild) {
                return false;
            }
            let member = world.guilds.get(&guild).is_some_and(|g| g.members.contains_key(&session.bot));
            if dispatch.bot.is_none() && !member {
                return false;
            }
            if dispatch.permissions != 0 {
                let held = world.guilds.get(&guild).map_or(0, |g| permissions::guild_permissions(g, session.bot, now));
                if held & dispatch.permissions == 0 {
                    return false;
                }
            }
        }
        None if session.shard.0 != 0 => return false,
        None => {}
    }
    dispatch.intents == 0 || session.intents & dispatch.intents != 0 || dispatch.about_user == Some(session.bot)
}
