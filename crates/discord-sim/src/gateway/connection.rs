//! One gateway connection: the WebSocket handshake, HELLO, heartbeats, IDENTIFY and RESUME, the
//! client's other opcodes, and sending its session's dispatches in order.
//!
//! The connection never holds the simulator's lock across an await: it locks, reads or changes the
//! hub and the world, and lets go before sending.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_websockets::{CloseCode, Limits, Message, ServerBuilder, WebSocketStream};

use super::{Control, Identity, MAX_GUILDS_PER_SESSION, Pending, Resumed, intents, payloads};
use crate::server::{Shared, State};
use crate::time::Timestamp;

/// Discord closes a connection that sends a payload over 4096 bytes with 4002.
const MAX_PAYLOAD_BYTES: usize = 4096;
/// Frames the WebSocket layer reads at all (bigger ones end the connection with 1009).
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Payloads a connection may send per minute (Discord: 120 per 60 s, else 4008).
const MAX_PAYLOADS_PER_MINUTE: usize = 120;
/// The WebSocket handshake must finish in this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A batch of frames must be written in this time, or the client is too slow and is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Dispatches read from the session per batch.
const BATCH: usize = 64;
/// Opcode 8 requests being answered at once per connection; more are ignored.
const MAX_PENDING_REQUESTS: usize = 16;
/// Members per GUILD_MEMBERS_CHUNK.
const CHUNK_SIZE: usize = 1000;
/// Members a prefix query or a `user_ids` request returns at most.
const QUERY_LIMIT: usize = 100;

/// A close frame to send: the code and its reason.
type Close = (u16, &'static str);

/// How a connection ended, for its session.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// The session stays resumable (the transport dropped, a heartbeat was missed, ...).
    KeepSession,
    /// The client closed with 1000 or 1001, or the session became unusable: it ends.
    EndSession,
}

/// Where the connection is in the handshake.
#[derive(Debug)]
enum Phase {
    /// HELLO sent; waiting for IDENTIFY or RESUME.
    Greeting,
    /// IDENTIFY accepted; READY is due at `ready_at`.
    Identifying { ready_at: Instant, identity: Identity },
    /// A session is attached.
    Active { session: String, notify: Arc<Notify>, bot: u64, intents: u64 },
}

/// An opcode 8 request being answered chunk by chunk.
#[derive(Debug)]
struct MemberRequest {
    guild: u64,
    nonce: Option<String>,
    index: usize,
    count: usize,
    kind: RequestKind,
}

#[derive(Debug)]
enum RequestKind {
    /// Members by user id order, after `after`, `left` more to send.
    Walk { after: Option<u64>, left: usize },
    /// One chunk, already chosen.
    Chosen { members: Vec<u64>, not_found: Vec<u64> },
}

struct Connection {
    shared: Arc<Shared>,
    ws: WebSocketStream<TcpStream>,
    id: u64,
    control: watch::Receiver<Control>,
    resume_url: Arc<str>,
    interval: Duration,
    deadline: Instant,
    phase: Phase,
    /// The last sequence number sent.
    sent: u64,
    /// When recent payloads arrived (for the 120-a-minute limit).
    recent: VecDeque<Instant>,
    requests: VecDeque<MemberRequest>,
}

/// What handling one message leads to.
enum Next {
    Continue,
    Close(Close, Ending),
    Ended(Ending),
}

/// Serves one accepted TCP connection until it ends.
pub(super) async fn serve(shared: Arc<Shared>, stream: TcpStream, resume_url: Arc<str>) {
    let builder = ServerBuilder::new().limits(Limits::default().max_payload_len(Some(MAX_FRAME_BYTES)));
    let Ok(Ok((request, ws))) = timeout(HANDSHAKE_TIMEOUT, builder.accept(stream)).await else { return };
    let query = request.uri().query().unwrap_or_default().to_owned();
    let (id, control, interval) = {
        let mut state = shared.lock();
        let (id, control) = state.gateway.connect();
        (id, control, state.gateway.config.heartbeat_interval)
    };
    let mut connection = Connection {
        shared: Arc::clone(&shared),
        ws,
        id,
        control,
        resume_url,
        interval,
        deadline: Instant::now() + interval + grace(interval),
        phase: Phase::Greeting,
        sent: 0,
        recent: VecDeque::new(),
        requests: VecDeque::new(),
    };
    let ending = connection.run(&query).await;
    let mut state = shared.lock();
    let State { world, gateway, .. } = &mut *state;
    gateway.disconnect(world, id, ending == Ending::EndSession);
}

/// How late a heartbeat may be before the connection is closed: half an interval.
fn grace(interval: Duration) -> Duration {
    interval / 2
}

/// A close for a query the simulator does not serve.
fn check_query(query: &str) -> Option<Close> {
    let mut version = None;
    let mut encoding = None;
    let mut compress = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("v", value)) => version = Some(value),
            Some(("encoding", value)) => encoding = Some(value),
            Some(("compress", value)) => compress = Some(value),
            _ => {}
        }
    }
    if version != Some("10") {
        return Some((4012, "Invalid API version."));
    }
    match encoding {
        None | Some("json") => {}
        Some("etf") => return Some((4002, "ETF encoding is not simulated.")),
        Some(_) => return Some((4002, "Invalid encoding.")),
    }
    if compress.is_some() {
        return Some((4002, "Transport compression is not simulated."));
    }
    None
}

/// A snowflake sent as a string (or a number).
fn snowflake(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

impl Connection {
    async fn run(&mut self, query: &str) -> Ending {
        if let Some(close) = check_query(query) {
            self.close(close).await;
            return Ending::KeepSession;
        }
        if self.send_text(payloads::hello(self.interval.as_millis())).await.is_err() {
            return Ending::KeepSession;
        }
        loop {
            match self.flush_session().await {
                Next::Continue => {}
                Next::Close(close, ending) => {
                    self.close(close).await;
                    return ending;
                }
                Next::Ended(ending) => return ending,
            }
            let ready_at = match &self.phase {
                Phase::Identifying { ready_at, .. } => Some(*ready_at),
                _ => None,
            };
            let notify = match &self.phase {
                Phase::Active { notify, .. } => Some(Arc::clone(notify)),
                _ => None,
            };
            let next = tokio::select! {
                biased;
                changed = self.control.changed() => {
                    if changed.is_err() {
                        Next::Ended(Ending::KeepSession)
                    } else {
                        let control = *self.control.borrow_and_update();
                        self.on_control(control).await
                    }
                }
                message = self.ws.next() => match message {
                    Some(Ok(message)) => self.on_message(message).await,
                    Some(Err(_)) | None => Next::Ended(Ending::KeepSession),
                },
                () = async { if let Some(notify) = &notify { notify.notified().await } }, if notify.is_some() => Next::Continue,
                () = async { if let Some(at) = ready_at { sleep_until(at).await } }, if ready_at.is_some() => {
                    self.become_ready();
                    Next::Continue
                }
                () = sleep_until(self.deadline) => Next::Close((4009, "Session timed out."), Ending::KeepSession),
            };
            match next {
                Next::Continue => {}
                Next::Close(close, ending) => {
                    self.close(close).await;
                    return ending;
                }
                Next::Ended(ending) => return ending,
            }
        }
    }

    /// Sends the session's dispatches not sent yet; then the next member chunk, if one is due
    /// and nothing else waits (one per call, so the client's payloads are read between chunks).
    async fn flush_session(&mut self) -> Next {
        let mut chunked = false;
        loop {
            let Phase::Active { session, .. } = &self.phase else { return Next::Continue };
            let pending = self.shared.lock().gateway.pending(session, self.sent, BATCH);
            match pending {
                Pending::Frames(frames) if frames.is_empty() => {
                    if self.requests.is_empty() || chunked {
                        return Next::Continue;
                    }
                    self.next_chunk();
                    chunked = true;
                }
                Pending::Frames(frames) => {
                    let count = u64::try_from(frames.len()).unwrap_or(u64::MAX);
                    let ws = &mut self.ws;
                    let sent = timeout(SEND_TIMEOUT, async {
                        for frame in frames {
                            ws.feed(Message::text(frame.to_string())).await?;
                        }
                        ws.flush().await
                    })
                    .await;
                    if !matches!(sent, Ok(Ok(()))) {
                        return Next::Ended(Ending::KeepSession);
                    }
                    self.sent += count;
                }
                Pending::Behind => {
                    let session = session.clone();
                    let mut state = self.shared.lock();
                    let State { world, gateway, .. } = &mut *state;
                    gateway.end_session(world, &session);
                    return Next::Close((4000, "Unknown error: the client fell too far behind."), Ending::EndSession);
                }
                // Ended by the simulator (a token reset): the control channel says how to close.
                Pending::Gone => return Next::Continue,
            }
        }
    }

    async fn on_control(&mut self, control: Control) -> Next {
        match control {
            Control::Run => Next::Continue,
            Control::Drop => Next::Ended(Ending::KeepSession),
            Control::Close(code, reason) => Next::Close((code, reason), Ending::EndSession),
            Control::Reconnect => match self.send_text(payloads::reconnect()).await {
                Ok(()) => Next::Continue,
                Err(()) => Next::Ended(Ending::KeepSession),
            },
        }
    }

    async fn on_message(&mut self, message: Message) -> Next {
        if let Some((code, _)) = message.as_close() {
            // tokio-websockets answers the close frame; read on until the stream ends.
            let _ = timeout(Duration::from_secs(1), async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
            let code = u16::from(code);
            return Next::Ended(if matches!(code, 1000 | 1001) { Ending::EndSession } else { Ending::KeepSession });
        }
        if message.is_ping() || message.is_pong() {
            return Next::Continue;
        }
        let now = Instant::now();
        while self.recent.front().is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(60)) {
            self.recent.pop_front();
        }
        if self.recent.len() >= MAX_PAYLOADS_PER_MINUTE {
            return Next::Close((4008, "Rate limited."), Ending::KeepSession);
        }
        self.recent.push_back(now);
        let Some(text) = message.as_text() else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        if text.len() > MAX_PAYLOAD_BYTES {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        }
        let Ok(Value::Object(payload)) = serde_json::from_str::<Value>(text) else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let Some(op) = payload.get("op").and_then(Value::as_u64) else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let data = payload.get("d").unwrap_or(&Value::Null);
        let active = matches!(self.phase, Phase::Active { .. });
        match op {
            1 => self.on_heartbeat(data).await,
            2 => self.on_identify(data),
            6 => self.on_resume(data).await,
            3 | 4 | 8 | 31 | 43 if !active => Next::Close((4003, "Not authenticated."), Ending::KeepSession),
            // Presence updates, soundboard sounds and channel info: accepted, not simulated.
            3 | 31 | 43 => Next::Continue,
            4 => self.on_voice_state(data),
            8 => self.on_request_members(data),
            _ => Next::Close((4001, "Unknown opcode."), Ending::KeepSession),
        }
    }

    async fn on_heartbeat(&mut self, data: &Value) -> Next {
        if !(data.is_null() || data.is_u64()) {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        }
        self.deadline = Instant::now() + self.interval + grace(self.interval);
        // What was dispatched before the heartbeat arrived goes out before its ACK.
        let flushed = self.flush_session().await;
        if !matches!(flushed, Next::Continue) {
            return flushed;
        }
        match self.send_text(payloads::heartbeat_ack()).await {
            Ok(()) => Next::Continue,
            Err(()) => Next::Ended(Ending::KeepSession),
        }
    }

    fn on_identify(&mut self, data: &Value) -> Next {
        if !matches!(self.phase, Phase::Greeting) {
            return Next::Close((4005, "Already authenticated."), Ending::KeepSession);
        }
        let Some(fields) = data.as_object() else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let Some(token) = fields.get("token").and_then(Value::as_str) else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let wanted = match fields.get("intents") {
            None | Some(Value::Null) => return Next::Close((4013, "Invalid intent(s)."), Ending::KeepSession),
            Some(value) => match value.as_u64() {
                Some(bits) => bits,
                None => return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession),
            },
        };
        let shard = match fields.get("shard") {
            None | Some(Value::Null) => (0, 1),
            Some(Value::Array(pair)) if pair.len() == 2 => match (pair[0].as_u64(), pair[1].as_u64()) {
                (Some(id), Some(count)) if count > 0 && id < count => (id, count),
                (Some(_), Some(_)) => return Next::Close((4010, "Invalid shard."), Ending::KeepSession),
                _ => return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession),
            },
            Some(_) => return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession),
        };
        let large_threshold = fields.get("large_threshold").and_then(Value::as_u64).unwrap_or(50).clamp(50, 250);
        let large_threshold = usize::try_from(large_threshold).unwrap_or(250);
        let token = token.strip_prefix("Bot ").unwrap_or(token);

        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        let Some(bot) = world.bot_of_token(token) else {
            return Next::Close((4004, "Authentication failed."), Ending::KeepSession);
        };
        if wanted & !intents::ALL != 0 {
            return Next::Close((4013, "Invalid intent(s)."), Ending::KeepSession);
        }
        if wanted & intents::PRIVILEGED & !world.privileged_intents(bot) != 0 {
            return Next::Close((4014, "Disallowed intent(s)."), Ending::KeepSession);
        }
        let guilds = world
            .guilds
            .values()
            .filter(|g| g.members.contains_key(&bot) && super::shard_of(g.info.id, shard.1) == shard.0)
            .count();
        if guilds > MAX_GUILDS_PER_SESSION {
            return Next::Close((4011, "Sharding required."), Ending::KeepSession);
        }
        let starts = world.session_starts(bot, Timestamp::now());
        if starts.remaining == 0 {
            // Discord: "Upon hitting this limit, all active sessions for the app will be terminated,
            // the bot token will be reset".
            world.reset_token(bot);
            gateway.publish(world);
            return Next::Close((4004, "Authentication failed."), Ending::KeepSession);
        }
        starts.remaining -= 1;
        gateway.count_identify(bot);
        let ready_at = Instant::now() + gateway.config.ready_delay;
        drop(state);
        let identity = Identity { bot, intents: wanted, shard, large_threshold };
        self.phase = Phase::Identifying { ready_at, identity };
        if ready_at <= Instant::now() {
            self.become_ready();
        }
        Next::Continue
    }

    /// Starts the session: READY and the GUILD_CREATEs are queued in it.
    fn become_ready(&mut self) {
        let Phase::Identifying { identity, .. } = self.phase else { return };
        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        let (session, notify) = gateway.start_session(world, self.id, identity, &self.resume_url);
        drop(state);
        self.sent = 0;
        self.phase = Phase::Active { session, notify, bot: identity.bot, intents: identity.intents };
    }

    async fn on_resume(&mut self, data: &Value) -> Next {
        if !matches!(self.phase, Phase::Greeting) {
            return Next::Close((4005, "Already authenticated."), Ending::KeepSession);
        }
        let fields = data.as_object();
        let field = |name: &str| fields.and_then(|f| f.get(name));
        let (Some(token), Some(session), Some(seq)) =
            (field("token").and_then(Value::as_str), field("session_id").and_then(Value::as_str), field("seq"))
        else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let seq = match seq {
            Value::Null => 0,
            value => match value.as_u64() {
                Some(seq) => seq,
                None => return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession),
            },
        };
        let token = token.strip_prefix("Bot ").unwrap_or(token);
        let outcome = {
            let mut state = self.shared.lock();
            let State { world, gateway, .. } = &mut *state;
            let Some(bot) = world.bot_of_token(token) else {
                return Next::Close((4004, "Authentication failed."), Ending::KeepSession);
            };
            let outcome = gateway.resume(world, self.id, bot, session, seq);
            let intents = gateway.session(session).map_or(0, |s| s.intents);
            (outcome, bot, intents)
        };
        match outcome {
            (Resumed::Yes { notify }, bot, intents) => {
                self.sent = seq;
                self.phase = Phase::Active { session: session.to_owned(), notify, bot, intents };
                Next::Continue
            }
            (Resumed::Invalid, ..) => match self.send_text(payloads::invalid_session(false)).await {
                Ok(()) => Next::Continue,
                Err(()) => Next::Ended(Ending::KeepSession),
            },
            (Resumed::BadSeq, ..) => Next::Close((4007, "Invalid seq."), Ending::KeepSession),
        }
    }

    /// Opcode 4: the bot joins, moves within or leaves voice in a guild it is in. Anything else
    /// (a guild it is not in, a channel that is not a voice channel of the guild) is ignored.
    fn on_voice_state(&mut self, data: &Value) -> Next {
        let Phase::Active { bot, .. } = self.phase else { return Next::Continue };
        let Some(fields) = data.as_object() else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let Some(guild) = snowflake(fields.get("guild_id")) else {
            return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        };
        let channel = match fields.get("channel_id") {
            None | Some(Value::Null) => None,
            value => match snowflake(value) {
                Some(channel) => Some(channel),
                None => return Next::Close((4002, "Error while decoding payload."), Ending::KeepSession),
            },
        };
        let self_mute = fields.get("self_mute").and_then(Value::as_bool).unwrap_or(false);
        let self_deaf = fields.get("self_deaf").and_then(Value::as_bool).unwrap_or(false);
        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        if world.member(guild, bot).is_none() {
            return Next::Continue;
        }
        match channel {
            Some(channel) => {
                let voice =
                    world.channel(channel).is_some_and(|c| c.guild_id == Some(guild) && matches!(c.kind, 2 | 13));
                if !voice {
                    return Next::Continue;
                }
                world.set_voice_state(guild, bot, Some(channel));
                world.set_self_mute(guild, bot, self_mute);
                world.set_self_deaf(guild, bot, self_deaf);
            }
            None => world.set_voice_state(guild, bot, None),
        }
        gateway.publish(world);
        Next::Continue
    }

    /// Opcode 8: queues the answer, sent as GUILD_MEMBERS_CHUNKs of up to 1000 members.
    fn on_request_members(&mut self, data: &Value) -> Next {
        let Phase::Active { session, bot, intents: held, .. } = &self.phase else { return Next::Continue };
        let (bot, held) = (*bot, *held);
        let decode_error = Next::Close((4002, "Error while decoding payload."), Ending::KeepSession);
        let Some(fields) = data.as_object() else { return decode_error };
        let Some(guild) = snowflake(fields.get("guild_id")) else { return decode_error };
        let nonce = fields.get("nonce").and_then(Value::as_str).filter(|n| n.len() <= 32).map(str::to_owned);
        let user_ids = match fields.get("user_ids") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => match items.iter().map(|v| snowflake(Some(v))).collect::<Option<Vec<u64>>>() {
                Some(ids) => Some(ids),
                None => return decode_error,
            },
            value => match snowflake(value) {
                Some(id) => Some(vec![id]),
                None => return decode_error,
            },
        };
        let query = match fields.get("query") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return decode_error,
        };
        let limit = match fields.get("limit") {
            None | Some(Value::Null) => 0,
            Some(value) => match value.as_u64() {
                Some(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
                None => return decode_error,
            },
        };
        if user_ids.is_none() && query.is_none() {
            return decode_error;
        }
        if self.requests.len() >= MAX_PENDING_REQUESTS {
            return Next::Continue;
        }
        let session = session.clone();
        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        let Some(members) = world.guilds.get(&guild).filter(|g| g.members.contains_key(&bot)).map(|g| &g.members)
        else {
            return Next::Continue;
        };
        if gateway.session(&session).is_none_or(|s| !s.on_shard(guild)) {
            return Next::Continue;
        }
        let kind = match (user_ids, query.as_deref()) {
            (Some(ids), _) => {
                let ids: Vec<u64> = crate::world::dedup(&ids).into_iter().take(QUERY_LIMIT).collect();
                let (found, not_found): (Vec<u64>, Vec<u64>) = ids.into_iter().partition(|id| members.contains_key(id));
                RequestKind::Chosen { members: found, not_found }
            }
            (None, Some("")) => {
                // The whole list (or its first `limit`) needs GUILD_MEMBERS; Discord sends nothing
                // back without it.
                if held & intents::GUILD_MEMBERS == 0 {
                    return Next::Continue;
                }
                if limit == 0
                    && let Err(wait) = gateway.member_request(bot, guild)
                {
                    let body = payloads::member_request_limited(guild, wait.as_secs_f64(), nonce.as_deref());
                    if let Some(session) = gateway.session_mut(&session) {
                        session.push("RATE_LIMITED", &body.to_string());
                    }
                    return Next::Continue;
                }
                let wanted = if limit == 0 { members.len() } else { limit.min(members.len()) };
                RequestKind::Walk { after: None, left: wanted }
            }
            (None, Some(prefix)) => {
                let limit = if limit == 0 { QUERY_LIMIT } else { limit.min(QUERY_LIMIT) };
                let prefix = prefix.to_lowercase();
                let found = members
                    .values()
                    .filter(|m| {
                        let user = world.users.get(&m.user_id);
                        let names = [
                            user.map(|u| u.username.as_str()),
                            user.and_then(|u| u.global_name.as_deref()),
                            m.nick.as_deref(),
                        ];
                        names.into_iter().flatten().any(|name| name.to_lowercase().starts_with(&prefix))
                    })
                    .map(|m| m.user_id)
                    .take(limit)
                    .collect();
                RequestKind::Chosen { members: found, not_found: Vec::new() }
            }
            (None, None) => return Next::Continue,
        };
        let count = match &kind {
            RequestKind::Walk { left, .. } => left.div_ceil(CHUNK_SIZE).max(1),
            RequestKind::Chosen { .. } => 1,
        };
        drop(state);
        self.requests.push_back(MemberRequest { guild, nonce, index: 0, count, kind });
        Next::Continue
    }

    /// Queues the next chunk of the oldest member request in the session.
    fn next_chunk(&mut self) {
        let Phase::Active { session, .. } = &self.phase else { return };
        let Some(request) = self.requests.front_mut() else { return };
        let mut state = self.shared.lock();
        let State { world, gateway, .. } = &mut *state;
        let (members, not_found) = match &mut request.kind {
            RequestKind::Chosen { members, not_found } => {
                let guild = world.guilds.get(&request.guild);
                let members: Vec<Value> = members
                    .iter()
                    .filter_map(|id| guild.and_then(|g| g.members.get(id)))
                    .map(|m| crate::json::member(world, m))
                    .collect();
                (members, std::mem::take(not_found))
            }
            RequestKind::Walk { after, left } => {
                let take = (*left).min(CHUNK_SIZE);
                let mut members = Vec::with_capacity(take);
                if let Some(guild) = world.guilds.get(&request.guild) {
                    let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
                    for member in guild.members.range((start, std::ops::Bound::Unbounded)).map(|(_, m)| m).take(take) {
                        members.push(crate::json::member(world, member));
                        *after = Some(member.user_id);
                    }
                }
                *left -= take;
                (members, Vec::new())
            }
        };
        let body = payloads::members_chunk(
            request.guild,
            members,
            request.index,
            request.count,
            &not_found,
            request.nonce.as_deref(),
        );
        request.index += 1;
        let done = request.index >= request.count;
        if let Some(session) = gateway.session_mut(session) {
            session.push("GUILD_MEMBERS_CHUNK", &body.to_string());
        }
        drop(state);
        if done {
            self.requests.pop_front();
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), ()> {
        match timeout(SEND_TIMEOUT, self.ws.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// Sends a close frame and waits briefly for the client's answer.
    async fn close(&mut self, (code, reason): Close) {
        let frame = Message::close(CloseCode::try_from(code).ok(), reason);
        if matches!(timeout(SEND_TIMEOUT, self.ws.send(frame)).await, Ok(Ok(()))) {
            let _ = timeout(Duration::from_secs(1), async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    #[test]
    fn only_json_v10_without_compression_is_served() {
        assert_eq!(check_query("v=10&encoding=json"), None);
        assert_eq!(check_query("encoding=json&v=10"), None);
        assert_eq!(check_query("v=10"), None);
        assert_eq!(check_query("v=9&encoding=json").map(|c| c.0), Some(4012));
        assert_eq!(check_query("encoding=json").map(|c| c.0), Some(4012));
        assert_eq!(check_query("v=10&encoding=etf").map(|c| c.0), Some(4002));
        assert_eq!(check_query("v=10&encoding=json&compress=zlib-stream").map(|c| c.0), Some(4002));
    }

    #[test]
    fn snowflakes_are_read_from_strings_and_numbers() {
        let mut map = Map::new();
        map.insert("a".into(), Value::from("123"));
        map.insert("b".into(), Value::from(456));
        map.insert("c".into(), Value::from("x"));
        assert_eq!(snowflake(map.get("a")), Some(123));
        assert_eq!(snowflake(map.get("b")), Some(456));
        assert_eq!(snowflake(map.get("c")), None);
        assert_eq!(snowflake(map.get("d")), None);
    }
}
