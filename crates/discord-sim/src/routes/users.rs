//! `/users`: the current user, other users, and opening DM channels.

use super::input::{self, Patch};
use super::{Call, Outcome, Reply};
use crate::error::ApiError;
use crate::json;
use crate::world::World;

/// `GET /users/@me`
pub(super) fn get_current(world: &mut World, call: &Call<'_>) -> Outcome {
    let actor = call.actor()?;
    let user = world.users.get(&actor).ok_or_else(ApiError::unauthorized)?;
    Ok(Reply::ok(json::current_user(user)))
}

/// `GET /users/@me/guilds`: the guilds the bot is in, in id order, paged with `after`/`before` and
/// `limit` (1 to 200, default 200).
pub(super) fn my_guilds(world: &mut World, call: &Call<'_>) -> Outcome {
    let actor = call.actor()?;
    let limit = usize::try_from(input::query_integer(call, "limit", 200, 1, 200)?).unwrap_or(200);
    let after = input::query_snowflake(call, "after")?;
    let before = input::query_snowflake(call, "before")?;
    let now = crate::time::Timestamp::now();
    let guilds: Vec<serde_json::Value> = world
        .guilds
        .values()
        .filter(|g| g.members.contains_key(&actor))
        .filter(|g| after.is_none_or(|a| g.info.id > a) && before.is_none_or(|b| g.info.id < b))
        .take(limit)
        .map(|g| {
            serde_json::json!({
                "id": g.info.id.to_string(),
                "name": g.info.name,
                "icon": g.info.icon,
                "banner": null,
                "owner": g.info.owner_id == actor,
                "permissions": crate::permissions::guild_permissions(g, actor, now).to_string(),
                "features": g.info.features,
            })
        })
        .collect();
    Ok(Reply::ok(serde_json::Value::Array(guilds)))
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
