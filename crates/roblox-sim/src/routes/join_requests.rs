//! Join requests: listing, accepting and declining.

use serde_json::{Value, json};

use super::{Call, Reply, Requester, find_group, list_body, parse_id};
use crate::error::ApiError;
use crate::paging::{self, Filter, Key, parse_filter};
use crate::world::{Group, Member, World};

/// Acting on join requests takes the `acceptRequests` permission ("The acceptRequests permission is
/// required", says the document of the resource).
fn may_manage(group: &Group, call: &Call) -> Result<(), ApiError> {
    match Requester::of(call.key()?, group).may(group, "acceptRequests") {
        true => Ok(()),
        false => Err(ApiError::denied(format!(
            "The API key's owner may not manage join requests of groups/{} (the acceptRequests permission).",
            group.view.id
        ))),
    }
}

/// `GET /cloud/v2/groups/{group_id}/join-requests`: oldest first, 10 a page by default, at most 20,
/// filtered by `user == ...` only.
pub(super) fn list(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let group = find_group(world, call)?;
    may_manage(group, call)?;
    let filter_text = call.query("filter").unwrap_or_default();
    let only = match filter_text.trim() {
        "" => None,
        text => match parse_filter(text)? {
            Filter::User(user) => Some(user),
            _ => return Err(paging::invalid_filter()),
        },
    };
    let size = paging::page_size(call.query("maxPageSize"), 10, 20)?;
    let g = group.view.id;
    let mut requests: Vec<(Key, Value)> = group
        .join_requests
        .iter()
        .filter(|(user, _)| only.is_none_or(|only| only == **user))
        .map(|(user, at)| {
            let request = json!({
                "path": format!("groups/{g}/join-requests/{user}"),
                "createTime": at.rfc3339(),
                "user": format!("users/{user}"),
            });
            ((at.unix_ms(), *user), request)
        })
        .collect();
    requests.sort_by_key(|(key, _)| *key);
    let listing = format!("groups/{g}/join-requests?filter={filter_text}");
    let (page, next) = paging::page(requests, call.query("pageToken"), &listing, size)?;
    Ok(Reply::ok(list_body("groupJoinRequests", page, next)))
}

/// The request a path names (its id is the user's id), after the permission check.
fn pending(world: &World, call: &Call) -> Result<(u64, u64), ApiError> {
    let group = find_group(world, call)?;
    may_manage(group, call)?;
    let user = parse_id(call.param("join_request_id"), "join request")?;
    match group.join_requests.contains_key(&user) {
        true => Ok((group.view.id, user)),
        false => Err(ApiError::not_found("Join request not found.")),
    }
}

/// `POST .../join-requests/{join_request_id}:accept`: the user becomes a member with the group's lowest
/// role above the guest's; answers `{}`.
pub(super) fn accept(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let (g, user) = pending(world, call)?;
    let group = world.group_mut(g);
    let role = group.entry_role().ok_or_else(|| ApiError::invalid("The group has no role to give new members."))?;
    group.join_requests.remove(&user);
    group.members.insert(user, Member { roles: [role].into(), created: call.now, updated: call.now });
    Ok(Reply::ok(json!({})))
}

/// `POST .../join-requests/{join_request_id}:decline`: the request is gone; answers `{}`.
pub(super) fn decline(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let (g, user) = pending(world, call)?;
    world.group_mut(g).join_requests.remove(&user);
    Ok(Reply::ok(json!({})))
}
