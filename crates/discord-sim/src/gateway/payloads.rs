//! What the gateway sends, in Discord's shapes: the payload envelope `{"t","s","op","d"}` and the
//! bodies of HELLO, READY, GUILD_CREATE and GUILD_MEMBERS_CHUNK.

use serde_json::{Value, json};

use super::{Session, intents};
use crate::json;
use crate::world::{GuildState, MemberView, World};

/// Guilds beyond this many members get no offline members in GUILD_CREATE, presences or not.
const FULL_MEMBER_LIST_MAX: usize = 75_000;

/// A payload that is not a dispatch: `s` and `t` are null.
fn control(op: u8, d: &str) -> String {
    format!(r#"{{"t":null,"s":null,"op":{op},"d":{d}}}"#)
}

/// Opcode 10 Hello.
pub(super) fn hello(heartbeat_interval_ms: u128) -> String {
    control(10, &format!(r#"{{"heartbeat_interval":{heartbeat_interval_ms}}}"#))
}

/// Opcode 11 Heartbeat ACK.
pub(super) fn heartbeat_ack() -> String {
    control(11, "null")
}

/// Opcode 9 Invalid Session.
pub(super) fn invalid_session(resumable: bool) -> String {
    control(9, if resumable { "true" } else { "false" })
}

/// Opcode 7 Reconnect.
pub(super) fn reconnect() -> String {
    control(7, "null")
}

/// Opcode 0 Dispatch.
pub(super) fn dispatch(name: &str, seq: u64, data: &str) -> String {
    format!(r#"{{"t":"{name}","s":{seq},"op":0,"d":{data}}}"#)
}

/// The bot's guilds on the session's shard, by id.
pub(super) fn guilds_of(world: &World, session: &Session) -> Vec<u64> {
    world
        .guilds
        .values()
        .filter(|g| g.members.contains_key(&session.bot) && session.on_shard(g.info.id))
        .map(|g| g.info.id)
        .collect()
}

/// Application flags of a bot: the `_LIMITED` flag of each privileged intent it has enabled (what
/// Discord sets for an app in fewer than 100 guilds).
fn application_flags(world: &World, bot: u64) -> u64 {
    let enabled = world.privileged_intents(bot);
    let mut flags = 0;
    if enabled & intents::GUILD_PRESENCES != 0 {
        flags |= 1 << 13;
    }
    if enabled & intents::GUILD_MEMBERS != 0 {
        flags |= 1 << 15;
    }
    if enabled & intents::MESSAGE_CONTENT != 0 {
        flags |= 1 << 19;
    }
    flags
}

/// READY: the bot's user, its guilds as unavailable, the session id and the URL to resume on.
pub(super) fn ready(
    world: &World,
    bot: u64,
    session_id: &str,
    resume_url: &str,
    shard: (u64, u64),
    guilds: &[u64],
) -> Value {
    let user = world.users.get(&bot).map_or(Value::Null, |u| {
        let mut user = json::current_user(u);
        user["verified"] = Value::Bool(true);
        user
    });
    let guilds: Vec<Value> = guilds.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect();
    json!({
        "v": 10,
        "user": user,
        "guilds": guilds,
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "shard": [shard.0, shard.1],
        "application": {"id": bot.to_string(), "flags": application_flags(world, bot)},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "user_settings": {},
        "geo_ordered_rtc_regions": ["us-east", "us-central", "us-south", "us-west", "rotterdam"],
    })
}

/// Whether GUILD_CREATE lists a member, by Discord's documented rule: the bot itself and members in
/// voice always; with GUILD_PRESENCES and at most 75,000 members, everyone in a guild of at most
/// `large_threshold` members, else those online, with a role or with a nickname.
fn listed(world: &World, guild: &GuildState, member: &MemberView, session: &Session) -> bool {
    if member.user_id == session.bot || guild.voice_states.contains_key(&member.user_id) {
        return true;
    }
    let count = guild.members.len();
    if session.intents & intents::GUILD_PRESENCES == 0 || count > FULL_MEMBER_LIST_MAX {
        return false;
    }
    count <= session.large_threshold
        || !member.roles.is_empty()
        || member.nick.is_some()
        || world.users.get(&member.user_id).is_some_and(|u| u.online)
}

/// GUILD_CREATE of a guild as a session sees it: the guild object with its channels, roles,
/// members (see [`listed`]), voice states (with GUILD_VOICE_STATES), `member_count`, `large` and
/// `joined_at`. `None` if the guild is gone.
pub(super) fn guild_create(world: &World, guild_id: u64, session: &Session) -> Option<Value> {
    let guild = world.guilds.get(&guild_id)?;
    let mut body = json::guild(world, guild, false);
    let members: Vec<Value> =
        guild.members.values().filter(|m| listed(world, guild, m, session)).map(|m| json::member(world, m)).collect();
    let voice_states: Vec<Value> = if session.intents & intents::GUILD_VOICE_STATES != 0 {
        guild
            .voice_states
            .values()
            .map(|v| {
                let mut state = json::voice_state(v);
                if let Some(object) = state.as_object_mut() {
                    object.remove("guild_id");
                }
                state
            })
            .collect()
    } else {
        Vec::new()
    };
    let channels: Vec<Value> =
        world.channels(guild_id).iter().map(|c| json::channel(world, c, Some(session.bot))).collect();
    let object = body.as_object_mut()?;
    let joined_at = guild.members.get(&session.bot).map_or(Value::Null, |m| Value::String(m.joined_at.iso()));
    object.insert("joined_at".into(), joined_at);
    object.insert("large".into(), Value::Bool(guild.members.len() > session.large_threshold));
    object.insert("unavailable".into(), Value::Bool(false));
    object.insert("member_count".into(), Value::from(guild.members.len()));
    object.insert("members".into(), Value::Array(members));
    object.insert("voice_states".into(), Value::Array(voice_states));
    object.insert("channels".into(), Value::Array(channels));
    object.insert("threads".into(), json!([]));
    object.insert("presences".into(), json!([]));
    object.insert("stage_instances".into(), json!([]));
    object.insert("guild_scheduled_events".into(), json!([]));
    object.insert("soundboard_sounds".into(), json!([]));
    object.insert("embedded_activities".into(), json!([]));
    Some(body)
}

/// One GUILD_MEMBERS_CHUNK.
pub(super) fn members_chunk(
    guild: u64,
    members: Vec<Value>,
    index: usize,
    count: usize,
    not_found: &[u64],
    nonce: Option<&str>,
) -> Value {
    let mut body = json!({
        "guild_id": guild.to_string(),
        "members": members,
        "chunk_index": index,
        "chunk_count": count,
        "not_found": not_found.iter().map(u64::to_string).collect::<Vec<_>>(),
    });
    if let Some(nonce) = nonce {
        body["nonce"] = Value::String(nonce.to_owned());
    }
    body
}

/// RATE_LIMITED for a request of a whole member list.
pub(super) fn member_request_limited(guild: u64, retry_after_secs: f64, nonce: Option<&str>) -> Value {
    let mut meta = json!({"guild_id": guild.to_string()});
    if let Some(nonce) = nonce {
        meta["nonce"] = Value::String(nonce.to_owned());
    }
    json!({"opcode": 8, "retry_after": retry_after_secs, "meta": meta})
}
