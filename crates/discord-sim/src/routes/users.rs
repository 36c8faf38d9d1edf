//! `/users`: the current user (a bot, or the user of a bearer token), their guilds and membership,
//! other users, and opening DM channels.

use serde_json::Value;

use super::input::{self, Patch};
use super::{Call, Outcome, Reply};
use crate::error::ApiError;
use crate::json;
use crate::world::{GuildState, World};

/// `GET /users/@me`: the bot, or with a bearer token granted `identify` the user who authorized
/// the app (their `email` and `verified` only with `email` as well, as Discord documents).
pub(super) fn get_current(world: &mut World, call: &Call<'_>) -> Outcome {
    let actor = call.user_with_scope("identify")?;
    let user = world.users.get(&actor).ok_or_else(ApiError::unauthorized)?;
    match call.bearer {
        Some(bearer) => Ok(Reply::ok(json::current_user_for_app(user, bearer.has("email")))),
        None => Ok(Reply::ok(json::current_user(user))),
    }
}

/// `GET /users/@me/guilds`: the guilds the bot (or a bearer token's user, with `guilds`) is in, as
/// partial guilds with `owner` and `permissions`, in id order. Paged as Discord pages it: `after`
/// gives the first `limit` guilds above an id, `before` (alone) the last `limit` below one, still
/// in ascending order; `limit` is 1 to 200 (default 200); `with_counts=true` adds approximate counts.
pub(super) fn my_guilds(world: &mut World, call: &Call<'_>) -> Outcome {
    let actor = call.user_with_scope("guilds")?;
    let limit = usize::try_from(input::query_integer(call, "limit", 200, 1, 200)?).unwrap_or(200);
    let after = input::query_snowflake(call, "after")?;
    let before = input::query_snowflake(call, "before")?;
    let with_counts = input::query_flag(call, "with_counts")?;
    let mine: Vec<&GuildState> = world
        .guilds
        .values()
        .filter(|g| g.members.contains_key(&actor))
        .filter(|g| after.is_none_or(|a| g.info.id > a) && before.is_none_or(|b| g.info.id < b))
        .collect();
    let page = match (after, before) {
        (None, Some(_)) => &mine[mine.len().saturating_sub(limit)..],
        _ => &mine[..limit.min(mine.len())],
    };
    let guilds = page.iter().map(|g| json::my_guild(world, g, actor, with_counts, call.now)).collect();
    Ok(Reply::ok(Value::Array(guilds)))
}

/// `GET /users/@me/guilds/{guild_id}/member`: the member object of a bearer token's user (scope
/// `guilds.members.read`); 10004 Unknown Guild where they are not a member. Bots cannot use it.
pub(super) fn my_member(world: &mut World, call: &Call<'_>) -> Outcome {
    let guild = input::path_id(call, "guild_id")?;
    let bearer = call.bearer()?;
    if !bearer.has("guilds.members.read") {
        return Err(ApiError::unauthorized());
    }
    let member = world.member(guild, bearer.user).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::member(world, &member)))
}

/// `GET /users/{user_id}`
pub(super) fn get_user(world: &mut World, call: &Call<'_>) -> Outcome {
    let user = input::path_id(call, "user_id")?;
    call.actor()?;
    let user = world.users.get(&user).ok_or_else(ApiError::unknown_user)?;
    Ok(Reply::ok(json::user(user)))
}

/// `POST /users/@me/channels`: opens (or returns) the DM channel with `recipient_id`.
pub(super) fn create_dm(world: &mut World, call: &Call<'_>) -> Outcome {
    let actor = call.actor()?;
    let body = input::object(call)?;
    let recipient = match input::snowflake(body, "recipient_id")? {
        Patch::Set(user) => user,
        Patch::Absent | Patch::Null => return Err(ApiError::required("recipient_id")),
    };
    if !world.users.contains_key(&recipient) {
        return Err(ApiError::unknown_user());
    }
    if recipient == actor {
        return Err(ApiError::cannot_dm());
    }
    let channel = world.dm_channel_between(actor, recipient);
    let channel = world.channels.get(&channel).ok_or_else(ApiError::unknown_channel)?;
    Ok(Reply::ok(json::channel(world, channel, Some(actor))))
}
