//! `/guilds/{guild_id}/roles`: listing, creating, editing, moving and deleting roles, under
//! MANAGE_ROLES and the role hierarchy.

use serde_json::{Map, Value};

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::images::Sniffed;
use crate::json;
use crate::permissions::{self, MANAGE_ROLES};
use crate::world::{AuditAction, GuildState, RoleView, World};

/// Discord's cap on roles per guild.
const MAX_ROLES: usize = 250;

/// `GET /guilds/{guild_id}/roles`
pub(super) fn list(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::roles(state)))
}

/// `GET /guilds/{guild_id}/roles/{role_id}`
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let role = input::path_id(call, "role_id")?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let role = state.roles.get(&role).ok_or_else(ApiError::unknown_role)?;
    Ok(Reply::ok(json::role(role)))
}

/// The editable fields of a role body (create and update share them).
struct RoleFields {
    name: Patch<String>,
    permissions: Patch<u64>,
    color: Patch<u32>,
    hoist: Patch<bool>,
    mentionable: Patch<bool>,
    icon: Patch<(Vec<u8>, Sniffed)>,
    unicode_emoji: Patch<String>,
    /// `colors.secondary_color` and `colors.tertiary_color`, when `colors` is given.
    gradient: Option<(Option<u32>, Option<u32>)>,
}

fn role_fields(body: Option<&Map<String, Value>>) -> Result<RoleFields, ApiError> {
    let mut color = input::integer(body, "color", 0, 0xff_ffff)?;
    let colors = body.and_then(|b| b.get("colors")).and_then(Value::as_object);
    let primary = input::integer(colors, "primary_color", 0, 0xff_ffff)
        .map_err(|e| ApiError { errors: e.errors.map(|t| serde_json::json!({ "colors": t })), ..e })?;
    if let Patch::Set(primary) = primary {
        color = Patch::Set(primary);
    }
    let extra = |name: &str| -> Result<Option<u32>, ApiError> {
        Ok(
            match input::integer(colors, name, 0, 0xff_ffff)
                .map_err(|e| ApiError { errors: e.errors.map(|t| serde_json::json!({ "colors": t })), ..e })?
            {
                Patch::Set(value) => u32::try_from(value).ok(),
                Patch::Null | Patch::Absent => None,
            },
        )
    };
    let gradient = match colors {
        Some(_) => Some((extra("secondary_color")?, extra("tertiary_color")?)),
        None => None,
    };
    Ok(RoleFields {
        name: input::string(body, "name", 1, 100)?,
        permissions: input::permissions(body, "permissions")?,
        color: match color {
            Patch::Set(value) => Patch::Set(u32::try_from(value).unwrap_or(0)),
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        },
        hoist: input::boolean(body, "hoist")?,
        mentionable: input::boolean(body, "mentionable")?,
        icon: match body.and_then(|b| b.get("icon")) {
            // An empty string clears the icon, as null does.
            Some(Value::String(text)) if text.is_empty() => Patch::Null,
            _ => input::image(body, "icon", super::guilds::IMAGE_FORMATS, MAX_ICON_BYTES)?,
        },
        unicode_emoji: input::string(body, "unicode_emoji", 0, 100)?,
        gradient,
    })
}

/// The largest role icon upload (256 KiB).
const MAX_ICON_BYTES: usize = 256 * 1024;

/// Role icons (an image or a Unicode emoji) need the `ROLE_ICONS` feature (boost tier 2): 50101.
fn check_icons(state: &GuildState, fields: &RoleFields) -> Result<(), ApiError> {
    let sets_icon =
        matches!(fields.icon, Patch::Set(_)) || matches!(&fields.unicode_emoji, Patch::Set(e) if !e.is_empty());
    if sets_icon && !state.info.features.iter().any(|f| f == "ROLE_ICONS") {
        return Err(ApiError::needs_more_boosts());
    }
    Ok(())
}

/// Discord refuses gradient colours (a second colour) in a guild without `ENHANCED_ROLE_COLORS`.
fn check_gradient(state: &GuildState, fields: &RoleFields) -> Result<(), ApiError> {
    let gradient = fields.gradient.is_some_and(|(second, _)| second.is_some());
    if gradient && !state.info.features.iter().any(|f| f == "ENHANCED_ROLE_COLORS") {
        return Err(ApiError::invalid_field(
            "colors",
            "GUILD_FEATURE_REQUIRED",
            "Gradient role colors require the ENHANCED_ROLE_COLORS guild feature.",
        ));
    }
    Ok(())
}

/// 50013 if `requested` grants permissions `actor` does not have (administrators and the owner
/// may grant anything).
fn check_grant(state: &GuildState, actor: u64, requested: u64, call: &Call<'_>) -> Result<(), ApiError> {
    let held = permissions::guild_permissions(state, actor, call.now);
    if requested & !held != 0 { Err(ApiError::missing_permissions()) } else { Ok(()) }
}

/// Applies the fields to a role; an uploaded icon is kept on the CDN (`role-icons/{role}/{hash}`).
fn apply(world: &mut World, guild: u64, role_id: u64, fields: RoleFields) {
    let old_icon = world.guilds.get(&guild).and_then(|g| g.roles.get(&role_id)).and_then(|r| r.icon.clone());
    let icon = match fields.icon {
        Patch::Set(image) => {
            Patch::Set(super::guilds::store_image(world, "role-icons", role_id, old_icon.as_deref(), Some(image)))
        }
        Patch::Null => Patch::Set(super::guilds::store_image(world, "role-icons", role_id, old_icon.as_deref(), None)),
        Patch::Absent => Patch::Absent,
    };
    let Some(role) = world.guild_mut(guild).roles.get_mut(&role_id) else { return };
    if let Patch::Set(name) = fields.name {
        role.name = name;
    }
    match fields.permissions {
        Patch::Set(bits) => role.permissions = bits & permissions::ALL,
        Patch::Null | Patch::Absent => {}
    }
    match fields.color {
        Patch::Set(color) => role.color = color,
        Patch::Null => role.color = 0,
        Patch::Absent => {}
    }
    if let Some(gradient) = fields.gradient {
        role.gradient = gradient;
    }
    if let Patch::Set(hoist) = fields.hoist {
        role.hoist = hoist;
    }
    if let Patch::Set(mentionable) = fields.mentionable {
        role.mentionable = mentionable;
    }
    if let Patch::Set(hash) = icon {
        role.icon = hash;
    }
    match fields.unicode_emoji {
        Patch::Set(emoji) if !emoji.is_empty() => role.unicode_emoji = Some(emoji),
        Patch::Set(_) | Patch::Null => role.unicode_emoji = None,
        Patch::Absent => {}
    }
}

/// `POST /guilds/{guild_id}/roles` (MANAGE_ROLES): a new role at position 1, above `@everyone`,
/// with `@everyone`'s permissions unless given.
pub(super) fn create(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_ROLES, call.now)?;
    let fields = role_fields(input::object(call)?)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    check_gradient(state, &fields)?;
    check_icons(state, &fields)?;
    if let Patch::Set(bits) = fields.permissions {
        check_grant(state, actor, bits, call)?;
    }
    if state.roles.len() >= MAX_ROLES {
        return Err(ApiError::max_roles());
    }
    let everyone = state.roles.get(&guild).map_or(0, |r| r.permissions);
    let id = world.next_id();
    let state = world.guild_mut(guild);
    for role in state.roles.values_mut().filter(|r| r.id != guild && r.position >= 1) {
        role.position += 1;
    }
    state.roles.insert(id, RoleView::plain(id, guild, "new role".to_owned(), everyone, 1));
    apply(world, guild, id, fields);
    let body = world.guilds.get(&guild).and_then(|g| g.roles.get(&id)).map(json::role).unwrap_or_default();
    world.audit(guild, actor, AuditAction::RoleCreate, id, call.reason);
    world.emit_role("GUILD_ROLE_CREATE", guild, id);
    Ok(Reply::ok(body))
}

/// `PATCH /guilds/{guild_id}/roles/{role_id}` (MANAGE_ROLES, role below the caller's highest,
/// no granting permissions the caller lacks).
pub(super) fn update(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let role = input::path_id(call, "role_id")?;
    require(world, guild, actor, MANAGE_ROLES, call.now)?;
    let fields = role_fields(input::object(call)?)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let current = state.roles.get(&role).ok_or_else(ApiError::unknown_role)?;
    check_gradient(state, &fields)?;
    check_icons(state, &fields)?;
    if !permissions::can_manage_role(state, actor, role) {
        return Err(ApiError::missing_permissions());
    }
    if let Patch::Set(bits) = fields.permissions {
        check_grant(state, actor, bits & !current.permissions, call)?;
    }
    apply(world, guild, role, fields);
    let body =
        world.guilds.get(&guild).and_then(|g| g.roles.get(&role)).map(json::role).ok_or_else(ApiError::unknown_role)?;
    world.audit(guild, actor, AuditAction::RoleUpdate, role, call.reason);
    world.emit_role("GUILD_ROLE_UPDATE", guild, role);
    Ok(Reply::ok(body))
}

/// `DELETE /guilds/{guild_id}/roles/{role_id}` (MANAGE_ROLES, below the caller's highest, not
/// managed, not `@everyone`); members lose it.
pub(super) fn delete(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let role = input::path_id(call, "role_id")?;
    require(world, guild, actor, MANAGE_ROLES, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let current = state.roles.get(&role).ok_or_else(ApiError::unknown_role)?;
    if role == guild {
        return Err(ApiError::invalid_role());
    }
    if current.managed || !permissions::can_manage_role(state, actor, role) {
        return Err(ApiError::missing_permissions());
    }
    let state = world.guild_mut(guild);
    let removed = state.roles.remove(&role);
    for member in state.members.values_mut() {
        member.roles.retain(|r| *r != role);
    }
    if let Some(hash) = removed.and_then(|r| r.icon) {
        world.cdn.remove(&format!("role-icons/{role}/{hash}"));
    }
    world.audit(guild, actor, AuditAction::RoleDelete, role, call.reason);
    world.emit_role_delete(guild, role);
    Ok(Reply::no_content())
}

/// `PATCH /guilds/{guild_id}/roles` (MANAGE_ROLES): moves each listed role to its position, just
/// below the role that held it, shifting roles above up where positions collide (a full list of
/// positions is applied as given). Every moved role, and every target position, must be below the
/// caller's highest role. Answers every role.
pub(super) fn reorder(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_ROLES, call.now)?;
    let items = input::array(call)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let owner = state.info.owner_id == actor;
    let ceiling = permissions::top_rank(state, actor).map_or(0, |(position, _)| position);
    let mut moves: Vec<(u64, i32)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entry = item.as_object().ok_or_else(|| ApiError::wrong_type(&i.to_string(), "object"))?;
        let role = match input::snowflake(Some(entry), "id").map_err(|e| input::under_index(e, i))? {
            Patch::Set(role) => role,
            Patch::Absent | Patch::Null => return Err(ApiError::required(&format!("{i}.id"))),
        };
        let position = input::integer(Some(entry), "position", 0, i64::from(i32::MAX))
            .map_err(|e| input::under_index(e, i))?
            .set();
        if !state.roles.contains_key(&role) {
            return Err(ApiError::unknown_role());
        }
        if role == guild {
            return Err(ApiError::invalid_role());
        }
        let Some(position) = position.and_then(|p| i32::try_from(p).ok()) else { continue };
        if !permissions::can_manage_role(state, actor, role) || (!owner && position >= ceiling) {
            return Err(ApiError::missing_permissions());
        }
        moves.retain(|(r, _)| *r != role);
        moves.push((role, position));
    }
    let mut order: Vec<(u64, i32)> = state
        .roles
        .values()
        .filter(|r| r.id != guild && !moves.iter().any(|(m, _)| *m == r.id))
        .map(|r| (r.id, r.position))
        .collect();
    order.sort_by_key(|(id, position)| permissions::role_rank(*position, *id));
    moves.sort_by_key(|(id, position)| (*position, std::cmp::Reverse(*id)));
    for (role, target) in &moves {
        let index = order.iter().position(|(_, position)| position >= target).unwrap_or(order.len());
        order.insert(index, (*role, *target));
    }
    let state = world.guild_mut(guild);
    let mut previous = 0;
    let mut moved = Vec::new();
    for (id, wanted) in order {
        let position = wanted.max(previous + 1);
        if let Some(role) = state.roles.get_mut(&id)
            && role.position != position
        {
            role.position = position;
            moved.push(id);
        }
        previous = position;
    }
    let body = json::roles(state);
    for (role, _) in moves {
        world.audit(guild, actor, AuditAction::RoleUpdate, role, call.reason);
    }
    for role in moved {
        world.emit_role("GUILD_ROLE_UPDATE", guild, role);
    }
    Ok(Reply::ok(body))
}
