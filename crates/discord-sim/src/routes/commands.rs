//! Application commands: `/applications/{application_id}/commands` (global) and
//! `/applications/{application_id}/guilds/{guild_id}/commands` (one guild), listed, created (an
//! existing name is updated), bulk overwritten, read, edited and deleted.
//!
//! The bot token must be the application's own (a bot's application id is its user id): 10002 for an
//! application that does not exist, 20012 for another application's; guild routes need the
//! application in the guild (50001).

use serde_json::Value;

use super::input;
use super::{Call, Outcome, Reply};
use crate::commands::{command_json, parse_command};
use crate::error::ApiError;
use crate::world::World;

/// The application of the route, which must be the caller's own.
fn application(world: &World, call: &Call<'_>) -> Result<u64, ApiError> {
    let application = input::path_id(call, "application_id")?;
    let actor = call.actor()?;
    if !world.users.get(&application).is_some_and(|u| u.bot) {
        return Err(ApiError::unknown_application());
    }
    if actor != application {
        return Err(ApiError::not_authorized_for_application());
    }
    Ok(application)
}

/// The application and the route's scope: `None` on global routes, the guild on guild routes (which
/// must exist, 10004, and have the application in it, 50001).
fn scope(world: &World, call: &Call<'_>) -> Result<(u64, Option<u64>), ApiError> {
    let application = application(world, call)?;
    if !call.route.contains("/guilds/") {
        return Ok((application, None));
    }
    let guild = input::path_id(call, "guild_id")?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if !state.members.contains_key(&application) {
        return Err(ApiError::missing_access());
    }
    Ok((application, Some(guild)))
}

/// `GET .../commands` (`?with_localizations=true` adds the localizations).
pub(super) fn list(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let with_localizations = input::query_flag(call, "with_localizations")?;
    let commands = match guild {
        Some(guild) => world.guild_commands(application, guild),
        None => world.application_commands(application),
    };
    Ok(Reply::ok(Value::Array(commands.iter().map(|c| command_json(c, with_localizations)).collect())))
}

/// `POST .../commands`: 201 with a new command, or 200 when one of that name and type existed (it
/// is updated, keeping its id).
pub(super) fn create(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let body = call.body.ok_or_else(|| ApiError::required("name"))?;
    let command = parse_command(body, None, false)?;
    let (stored, created) = world.upsert_command(application, guild, command)?;
    Ok(Reply { status: if created { 201 } else { 200 }, body: Some(command_json(&stored, true)) })
}

/// `PUT .../commands`: replaces the scope's commands (see `World::overwrite_commands`).
pub(super) fn overwrite(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let items = input::array(call)?;
    let mut commands = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let command = parse_command(item, None, false).map_err(|e| input::under_index(e, i))?;
        let id = match item.get("id") {
            None | Some(Value::Null) => None,
            Some(id) => Some(input::snowflake_value(&format!("{i}.id"), id)?),
        };
        commands.push((id, command));
    }
    let stored = world.overwrite_commands(application, guild, commands)?;
    Ok(Reply::ok(Value::Array(stored.iter().map(|c| command_json(c, true)).collect())))
}

/// `GET .../commands/{command_id}`
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let id = input::path_id(call, "command_id")?;
    Ok(Reply::ok(command_json(&world.command_in_scope(application, guild, id)?, true)))
}

/// `PATCH .../commands/{command_id}`: the fields given change, the others stay (`type` cannot
/// change).
pub(super) fn update(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let id = input::path_id(call, "command_id")?;
    let current = world.command_in_scope(application, guild, id)?;
    let empty = Value::Object(serde_json::Map::new());
    let edited = parse_command(call.body.unwrap_or(&empty), Some(&current), true)?;
    let stored = world.replace_command(edited)?;
    Ok(Reply::ok(command_json(&stored, true)))
}

/// `DELETE .../commands/{command_id}`: 204.
pub(super) fn delete(world: &mut World, call: &Call<'_>) -> Outcome {
    let (application, guild) = scope(world, call)?;
    let id = input::path_id(call, "command_id")?;
    world.command_in_scope(application, guild, id)?;
    world.delete_command(id);
    Ok(Reply::no_content())
}
