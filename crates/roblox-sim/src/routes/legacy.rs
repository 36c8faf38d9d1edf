//! The legacy users API (`users.roblox.com` in the document): look-ups by username and by id, and a
//! user's profile. No authentication, as the document says.

use serde_json::{Value, json};

use super::{Call, Reply};
use crate::error::ApiError;
use crate::paging::parse_decimal;
use crate::world::World;

/// The most usernames or ids one look-up may carry.
const MAX_LOOKUP: usize = 100;

fn exclude_banned(call: &Call) -> bool {
    call.body.and_then(|b| b.get("excludeBannedUsers")).and_then(Value::as_bool).unwrap_or(false)
}

/// `POST /v1/usernames/users` with `{"usernames": [...], "excludeBannedUsers": bool}`: the users with
/// those usernames, now or before, whatever the case; each name once, in the order asked.
pub(super) fn users_by_name(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let names: Vec<&str> = call
        .body
        .and_then(|b| b.get("usernames"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.len() > MAX_LOOKUP {
        return Err(ApiError::legacy(400, 2, "Too many usernames."));
    }
    let exclude_banned = exclude_banned(call);
    let mut seen: Vec<String> = Vec::new();
    let mut data = Vec::new();
    for name in names {
        if seen.contains(&name.to_lowercase()) {
            continue;
        }
        seen.push(name.to_lowercase());
        let Some(user) = world.user_by_current_or_previous_name(name) else { continue };
        if exclude_banned && user.banned {
            continue;
        }
        data.push(json!({
            "requestedUsername": name,
            "hasVerifiedBadge": user.verified_badge,
            "id": user.id,
            "name": user.name,
            "displayName": user.display_name,
        }));
    }
    Ok(Reply::ok(json!({ "data": data })))
}

/// `POST /v1/users` with `{"userIds": [...], "excludeBannedUsers": bool}`: the users with those ids,
/// each once, in the order asked.
pub(super) fn users_by_id(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let ids: Vec<u64> = call
        .body
        .and_then(|b| b.get("userIds"))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if ids.len() > MAX_LOOKUP {
        return Err(ApiError::legacy(400, 1, "Too many ids."));
    }
    let exclude_banned = exclude_banned(call);
    let mut seen = Vec::new();
    let mut data = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(user) = world.user(id).filter(|user| !(exclude_banned && user.banned)) else { continue };
        data.push(json!({
            "hasVerifiedBadge": user.verified_badge,
            "id": user.id,
            "name": user.name,
            "displayName": user.display_name,
        }));
    }
    Ok(Reply::ok(json!({ "data": data })))
}

/// `GET /v1/users/{userId}`: the profile, `description` included.
pub(super) fn get_user(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let invalid = || ApiError::legacy(404, 3, "The user id is invalid.");
    let id = parse_decimal(call.param("userId")).ok_or_else(invalid)?;
    let user = world.user(id).ok_or_else(invalid)?;
    Ok(Reply::ok(json!({
        "description": user.description,
        "created": user.created.rfc3339(),
        "isBanned": user.banned,
        "externalAppDisplayName": null,
        "hasVerifiedBadge": user.verified_badge,
        "id": user.id,
        "name": user.name,
        "displayName": user.display_name,
    })))
}
