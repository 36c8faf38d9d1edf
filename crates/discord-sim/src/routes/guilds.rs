//! Guild-level routes: the guild itself, its preview, its channel list and positions, its
//! auto-moderation rules, and invites.

use serde_json::Value;

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{MANAGE_CHANNELS, MANAGE_GUILD};
use crate::world::{AuditAction, World};

/// `GET /guilds/{guild_id}` (`?with_counts=true` adds approximate counts).
pub(super) fn get_guild(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let with_counts = input::query_flag(call, "with_counts")?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::guild(world, state, with_counts)))
}

/// `GET /guilds/{guild_id}/preview`: for members, and for anyone when the guild is discoverable.
pub(super) fn get_preview(world: &mut World, call: &Call<'_>) -> Outcome {
    let guild = input::path_id(call, "guild_id")?;
    let actor = call.actor()?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let discoverable = state.info.features.iter().any(|f| f == "DISCOVERABLE");
    if !discoverable && !state.members.contains_key(&actor) {
        return Err(ApiError::unknown_guild());
    }
    Ok(Reply::ok(json::guild_preview(world, state)))
}

/// `GET /guilds/{guild_id}/auto-moderation/rules` (MANAGE_GUILD).
pub(super) fn automod_rules(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(Value::Array(state.automod.values().map(json::automod_rule).collect())))
}

/// `GET /guilds/{guild_id}/channels`: every channel, by position.
pub(super) fn list_channels(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let mut channels: Vec<_> = world.channels.values().filter(|c| c.guild_id == Some(guild)).collect();
    channels.sort_by_key(|c| (c.position, c.id));
    Ok(Reply::ok(Value::Array(channels.into_iter().map(|c| json::channel(world, c, None)).collect())))
}

/// One entry of a channel positions PATCH.
struct Move {
    channel: u64,
    position: Option<i32>,
    parent: Patch<u64>,
    lock_permissions: bool,
}

/// `PATCH /guilds/{guild_id}/channels` (MANAGE_CHANNELS): sets positions and, optionally, parents
/// (`lock_permissions` copies the new parent's overwrites).
pub(super) fn reorder_channels(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_CHANNELS, call.now)?;
    let mut moves = Vec::new();
    for (i, item) in input::array(call)?.iter().enumerate() {
        let entry = item.as_object().ok_or_else(|| ApiError::wrong_type(&i.to_string(), "object"))?;
        let at = |field: &str| format!("{i}.{field}");
        let channel = match input::snowflake(Some(entry), "id").map_err(|e| input::under_index(e, i))? {
            Patch::Set(id) => id,
            Patch::Absent | Patch::Null => return Err(ApiError::required(&at("id"))),
        };
        if world.channels.get(&channel).is_none_or(|c| c.guild_id != Some(guild)) {
            return Err(ApiError::unknown_channel());
        }
        let position = input::integer(Some(entry), "position", 0, i64::from(i32::MAX))
            .map_err(|e| input::under_index(e, i))?
            .set()
            .and_then(|p| i32::try_from(p).ok());
        let parent = input::snowflake(Some(entry), "parent_id").map_err(|e| input::under_index(e, i))?;
        if let Patch::Set(parent) = parent {
            let is_category = world.channels.get(&parent).is_some_and(|c| c.kind == 4 && c.guild_id == Some(guild));
            let moving_category = world.channels.get(&channel).is_some_and(|c| c.kind == 4);
            if !is_category || moving_category {
                return Err(ApiError::invalid_field(
                    &at("parent_id"),
                    "CHANNEL_PARENT_INVALID_TYPE",
                    "Invalid parent channel type",
                ));
            }
        }
        let lock_permissions = input::boolean(Some(entry), "lock_permissions").map_err(|e| input::under_index(e, i))?;
        moves.push(Move { channel, position, parent, lock_permissions: lock_permissions.set().unwrap_or(false) });
    }
    for change in moves {
        let parent_overwrites = match change.parent {
            Patch::Set(parent) => world.channels.get(&parent).map(|p| p.overwrites.clone()),
            Patch::Absent | Patch::Null => None,
        };
        if let Some(channel) = world.channels.get_mut(&change.channel) {
            if let Some(position) = change.position {
                channel.position = position;
            }
            match change.parent {
                Patch::Set(parent) => channel.parent_id = Some(parent),
                Patch::Null => channel.parent_id = None,
                Patch::Absent => {}
            }
            if let (true, Some(overwrites)) = (change.lock_permissions, parent_overwrites) {
                channel.overwrites = overwrites;
            }
        }
        world.audit(guild, actor, AuditAction::ChannelUpdate, change.channel, call.reason);
        world.emit_channel("CHANNEL_UPDATE", change.channel);
    }
    Ok(Reply::no_content())
}

/// `GET /invites/{code}` (`?with_counts=true` adds approximate counts); no bot token needed.
pub(super) fn get_invite(world: &mut World, call: &Call<'_>) -> Outcome {
    let invite = world.invites.get(call.param("code")).ok_or_else(ApiError::unknown_invite)?;
    if !world.guilds.contains_key(&invite.guild_id) || !world.channels.contains_key(&invite.channel_id) {
        return Err(ApiError::unknown_invite());
    }
    let with_counts = input::query_flag(call, "with_counts")?;
    Ok(Reply::ok(json::invite(world, invite, with_counts)))
}
