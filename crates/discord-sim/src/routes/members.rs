//! Members (listing, editing, kicking, their roles) and bans, under Discord's permissions and
//! member hierarchy.

use serde_json::Value;

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{
    self, ADMINISTRATOR, BAN_MEMBERS, CHANGE_NICKNAME, KICK_MEMBERS, MANAGE_GUILD, MANAGE_NICKNAMES, MANAGE_ROLES,
    MODERATE_MEMBERS,
};
use crate::time::Timestamp;
use crate::world::{AuditAction, BanView, GuildState, World, dedup};

/// The longest timeout Discord allows.
const MAX_TIMEOUT_MS: i64 = 28 * 24 * 60 * 60 * 1000;

/// The most a ban may delete: seven days of messages.
const MAX_DELETE_SECONDS: i64 = 604_800;

fn state(world: &World, guild: u64) -> Result<&GuildState, ApiError> {
    world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)
}

/// `GET /guilds/{guild_id}/members` (`?limit=1..=1000`, default 1; `?after=<user id>`): members
/// by user id. Needs the GUILD_MEMBERS intent (50001 without).
pub(super) fn list(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    if world.without_members_intent.contains(&actor) {
        return Err(ApiError::missing_access());
    }
    let limit = input::query_integer(call, "limit", 1, 1, 1000)?;
    let after = input::query_snowflake(call, "after")?.unwrap_or(0);
    let state = state(world, guild)?;
    let page: Vec<Value> = state
        .members
        .range(after.saturating_add(1)..)
        .take(usize::try_from(limit).unwrap_or(1))
        .map(|(_, m)| json::member(world, m))
        .collect();
    Ok(Reply::ok(Value::Array(page)))
}

/// `GET /guilds/{guild_id}/members/{user_id}`
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    let member = state(world, guild)?.members.get(&user).ok_or_else(ApiError::unknown_member)?;
    Ok(Reply::ok(json::member(world, member)))
}

/// 50013 unless `actor` outranks `target`.
fn require_outranks(state: &GuildState, actor: u64, target: u64) -> Result<(), ApiError> {
    if permissions::outranks(state, actor, target) { Ok(()) } else { Err(ApiError::missing_permissions()) }
}

/// 50013 unless `actor` may give or take `role`: it must not be managed and must be below the
/// actor's highest role. Unknown roles are 10011.
fn require_assignable(state: &GuildState, actor: u64, role: u64) -> Result<(), ApiError> {
    let found = state.roles.get(&role).filter(|_| role != state.info.id).ok_or_else(ApiError::unknown_role)?;
    if found.managed || !permissions::can_manage_role(state, actor, role) {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// `PATCH /guilds/{guild_id}/members/{user_id}`: `nick` (MANAGE_NICKNAMES and hierarchy, or
/// CHANGE_NICKNAME for oneself), `roles` (MANAGE_ROLES; every role added or removed assignable),
/// `communication_disabled_until` (MODERATE_MEMBERS and hierarchy; not on administrators; at most
/// 28 days ahead; `null` lifts it). `mute`, `deaf`, `channel_id` and `flags` are accepted and
/// ignored.
pub(super) fn update(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    let body = input::object(call)?;
    let nick = input::string(body, "nick", 0, 32)?;
    let roles = match input::list(body, "roles")? {
        Patch::Set(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| input::snowflake_value(&format!("roles.{i}"), v))
                .collect::<Result<Vec<u64>, _>>()?,
        ),
        Patch::Null => Some(Vec::new()),
        Patch::Absent => None,
    };
    let timeout = input::date_time(body, "communication_disabled_until")?;
    input::boolean(body, "mute")?;
    input::boolean(body, "deaf")?;

    let state = state(world, guild)?;
    let member = state.members.get(&user).ok_or_else(ApiError::unknown_member)?;
    let held = permissions::guild_permissions(state, actor, call.now);
    if !nick.is_absent() {
        if user == actor {
            if held & (CHANGE_NICKNAME | MANAGE_NICKNAMES) == 0 {
                return Err(ApiError::missing_permissions());
            }
        } else {
            require(world, guild, actor, MANAGE_NICKNAMES, call.now)?;
            require_outranks(state, actor, user)?;
        }
    }
    let mut role_change = None;
    if let Some(wanted) = roles {
        require(world, guild, actor, MANAGE_ROLES, call.now)?;
        let wanted: Vec<u64> = dedup(&wanted).into_iter().filter(|r| *r != guild).collect();
        for role in wanted.iter().filter(|r| !member.roles.contains(r)) {
            require_assignable(state, actor, *role)?;
        }
        for role in member.roles.iter().filter(|r| !wanted.contains(r)) {
            require_assignable(state, actor, *role)?;
        }
        role_change = Some(wanted);
    }
    if !timeout.is_absent() {
        require(world, guild, actor, MODERATE_MEMBERS, call.now)?;
        let target_is_admin = permissions::guild_permissions(state, user, call.now) & ADMINISTRATOR != 0;
        if target_is_admin {
            return Err(ApiError::missing_permissions());
        }
        require_outranks(state, actor, user)?;
        if let Patch::Set(until) = timeout
            && until.unix_ms() > call.now.unix_ms() + MAX_TIMEOUT_MS
        {
            return Err(ApiError::invalid_field(
                "communication_disabled_until",
                "BASE_TYPE_BAD_TIME",
                "Invalid communication disabled timestamp: must be at most 28 days in the future.",
            ));
        }
    }

    let member = world.member_mut(guild, user);
    let mut details_changed = false;
    match nick {
        Patch::Set(text) if !text.is_empty() => {
            member.nick = Some(text);
            details_changed = true;
        }
        Patch::Set(_) | Patch::Null => {
            member.nick = None;
            details_changed = true;
        }
        Patch::Absent => {}
    }
    match timeout {
        Patch::Set(until) => {
            member.communication_disabled_until = Some(until);
            details_changed = true;
        }
        Patch::Null => {
            member.communication_disabled_until = None;
            details_changed = true;
        }
        Patch::Absent => {}
    }
    let roles_changed = role_change.is_some();
    if let Some(wanted) = role_change {
        member.roles = wanted;
    }
    if details_changed {
        world.audit(guild, actor, AuditAction::MemberUpdate, user, call.reason);
    }
    if roles_changed {
        world.audit(guild, actor, AuditAction::MemberRoleUpdate, user, call.reason);
    }
    if details_changed || roles_changed {
        world.emit_member_update(guild, user);
    }
    let member = state_member(world, guild, user)?;
    Ok(Reply::ok(member))
}

fn state_member(world: &World, guild: u64, user: u64) -> Result<Value, ApiError> {
    let member = state(world, guild)?.members.get(&user).ok_or_else(ApiError::unknown_member)?;
    Ok(json::member(world, member))
}

/// `DELETE /guilds/{guild_id}/members/{user_id}`: a kick (KICK_MEMBERS and hierarchy).
pub(super) fn kick(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    require(world, guild, actor, KICK_MEMBERS, call.now)?;
    let state = state(world, guild)?;
    if !state.members.contains_key(&user) {
        return Err(ApiError::unknown_member());
    }
    require_outranks(state, actor, user)?;
    world.drop_member(guild, user);
    world.audit(guild, actor, AuditAction::MemberKick, user, call.reason);
    Ok(Reply::no_content())
}

/// `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}` (MANAGE_ROLES; the role assignable).
pub(super) fn add_role(world: &mut World, call: &Call<'_>) -> Outcome {
    change_role(world, call, true)
}

/// `DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}` (MANAGE_ROLES; the role assignable).
pub(super) fn remove_role(world: &mut World, call: &Call<'_>) -> Outcome {
    change_role(world, call, false)
}

/// Discord checks only the role's place in the hierarchy here, not the member's: a bot may give a
/// role below its own to anyone, the owner included.
fn change_role(world: &mut World, call: &Call<'_>, add: bool) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    let role = input::path_id(call, "role_id")?;
    require(world, guild, actor, MANAGE_ROLES, call.now)?;
    let state = state(world, guild)?;
    if !state.members.contains_key(&user) {
        return Err(ApiError::unknown_member());
    }
    require_assignable(state, actor, role)?;
    let member = world.member_mut(guild, user);
    let had = member.roles.contains(&role);
    if add && !had {
        member.roles.push(role);
    } else if !add && had {
        member.roles.retain(|r| *r != role);
    }
    if had != add {
        world.audit(guild, actor, AuditAction::MemberRoleUpdate, user, call.reason);
        world.emit_member_update(guild, user);
    }
    Ok(Reply::no_content())
}

/// `GET /guilds/{guild_id}/bans` (BAN_MEMBERS; `?limit=1..=1000` default 1000, `?before`, `?after`):
/// bans by user id, ascending: after `after` (the first ones without it), or the last `limit`
/// before `before`; with both, those between them from `after` on.
pub(super) fn list_bans(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, BAN_MEMBERS, call.now)?;
    let limit = usize::try_from(input::query_integer(call, "limit", 1000, 1, 1000)?).unwrap_or(1000);
    let before = input::query_snowflake(call, "before")?;
    let after = input::query_snowflake(call, "after")?;
    let state = state(world, guild)?;
    let bans: Vec<&BanView> = match (before, after) {
        (Some(before), None) => {
            let mut page: Vec<&BanView> = state.bans.range(..before).rev().take(limit).map(|(_, b)| b).collect();
            page.reverse();
            page
        }
        (Some(before), Some(after)) if after >= before => Vec::new(),
        (Some(before), Some(after)) => {
            state.bans.range(after.saturating_add(1)..before).take(limit).map(|(_, b)| b).collect()
        }
        (None, after) => state.bans.range(after.unwrap_or(0).saturating_add(1)..).take(limit).map(|(_, b)| b).collect(),
    };
    Ok(Reply::ok(Value::Array(bans.into_iter().map(|b| json::ban(world, b)).collect())))
}

/// `GET /guilds/{guild_id}/bans/{user_id}` (BAN_MEMBERS).
pub(super) fn get_ban(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    require(world, guild, actor, BAN_MEMBERS, call.now)?;
    let ban = state(world, guild)?.bans.get(&user).ok_or_else(ApiError::unknown_ban)?;
    Ok(Reply::ok(json::ban(world, ban)))
}

/// `PUT /guilds/{guild_id}/bans/{user_id}` (BAN_MEMBERS; hierarchy when the user is a member):
/// removes the membership, records the reason, and deletes the user's messages in the guild from
/// the last `delete_message_seconds` (0 to 604800; or the older `delete_message_days`, 0 to 7).
pub(super) fn ban(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    let body = input::object(call)?;
    let seconds = input::integer(body, "delete_message_seconds", 0, MAX_DELETE_SECONDS)?;
    let days = input::integer(body, "delete_message_days", 0, 7)?;
    require(world, guild, actor, BAN_MEMBERS, call.now)?;
    if !world.users.contains_key(&user) {
        return Err(ApiError::unknown_user());
    }
    let state = state(world, guild)?;
    if state.members.contains_key(&user) || user == state.info.owner_id {
        require_outranks(state, actor, user)?;
    }
    let delete_seconds = seconds.set().or_else(|| days.set().map(|d| d * 86_400)).unwrap_or(0);
    delete_recent_messages(world, guild, user, delete_seconds, call.now);
    world.drop_member(guild, user);
    world.guild_mut(guild).bans.insert(user, BanView { user_id: user, reason: call.reason.map(str::to_owned) });
    world.audit(guild, actor, AuditAction::MemberBanAdd, user, call.reason);
    world.emit_ban(guild, user, true);
    Ok(Reply::no_content())
}

/// Deletes `user`'s messages in `guild` from the last `seconds`.
fn delete_recent_messages(world: &mut World, guild: u64, user: u64, seconds: i64, now: Timestamp) {
    if seconds <= 0 {
        return;
    }
    let since = Timestamp(now.unix_ms() - seconds * 1000);
    let doomed: Vec<u64> = world
        .messages
        .values()
        .filter(|m| m.author_id == user && m.timestamp() >= since)
        .filter(|m| world.channels.get(&m.channel_id).is_some_and(|c| c.guild_id == Some(guild)))
        .map(|m| m.id)
        .collect();
    for id in doomed {
        world.messages.remove(&id);
    }
}

/// Users one bulk ban may name.
const MAX_BULK_BAN: usize = 200;

/// `POST /guilds/{guild_id}/bulk-ban` (BAN_MEMBERS and MANAGE_GUILD): `user_ids` (1 to 200),
/// `delete_message_seconds`. Bans each user who can be banned (a known user, not already banned, not
/// the owner, below the caller when a member); answers `{banned_users, failed_users}`, or 500000 when
/// none could be. GUILD_BAN_ADD for each.
pub(super) fn bulk_ban(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let body = input::object(call)?;
    let users = match input::snowflakes(body, "user_ids", MAX_BULK_BAN)? {
        Patch::Set(users) if !users.is_empty() => users,
        Patch::Set(_) => {
            return Err(ApiError::invalid_field(
                "user_ids",
                "BASE_TYPE_BAD_LENGTH",
                &format!("Must be between 1 and {MAX_BULK_BAN} in length."),
            ));
        }
        Patch::Null | Patch::Absent => return Err(ApiError::required("user_ids")),
    };
    let seconds = input::integer(body, "delete_message_seconds", 0, MAX_DELETE_SECONDS)?.set().unwrap_or(0);
    require(world, guild, actor, BAN_MEMBERS | MANAGE_GUILD, call.now)?;
    let state = state(world, guild)?;
    let (mut banned, mut failed) = (Vec::new(), Vec::new());
    for user in users {
        let bannable = world.users.contains_key(&user)
            && !state.bans.contains_key(&user)
            && user != state.info.owner_id
            && user != actor
            && (!state.members.contains_key(&user) || permissions::outranks(state, actor, user));
        if bannable { banned.push(user) } else { failed.push(user) }
    }
    if banned.is_empty() {
        return Err(ApiError::failed_to_ban_users());
    }
    for user in &banned {
        delete_recent_messages(world, guild, *user, seconds, call.now);
        world.drop_member(guild, *user);
        world.guild_mut(guild).bans.insert(*user, BanView { user_id: *user, reason: call.reason.map(str::to_owned) });
        world.audit(guild, actor, AuditAction::MemberBanAdd, *user, call.reason);
        world.emit_ban(guild, *user, true);
    }
    let ids = |list: Vec<u64>| Value::Array(list.into_iter().map(|id| Value::String(id.to_string())).collect());
    Ok(Reply::ok(serde_json::json!({"banned_users": ids(banned), "failed_users": ids(failed)})))
}

/// `DELETE /guilds/{guild_id}/bans/{user_id}` (BAN_MEMBERS): lifts a ban.
pub(super) fn unban(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let user = input::path_id(call, "user_id")?;
    require(world, guild, actor, BAN_MEMBERS, call.now)?;
    if !state(world, guild)?.bans.contains_key(&user) {
        return Err(ApiError::unknown_ban());
    }
    world.guild_mut(guild).bans.remove(&user);
    world.audit(guild, actor, AuditAction::MemberBanRemove, user, call.reason);
    world.emit_ban(guild, user, false);
    Ok(Reply::no_content())
}
