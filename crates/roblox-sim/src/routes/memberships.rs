//! Group memberships: listing with filters, and changing a member's roles under Roblox's rank rules.

use serde_json::{Value, json};

use super::{Call, Reply, Requester, find_group, list_body, membership_id, membership_user};
use crate::error::ApiError;
use crate::paging::{self, Filter, Key, invalid_filter, parse_filter, role_path};
use crate::world::{GUEST_RANK, Group, OWNER_RANK, RoleView, World};

/// A membership as Open Cloud renders it: `role` is the highest-ranked role, `roles` all of them
/// (highest first).
pub(super) fn membership_json(group: &Group, user: u64) -> Value {
    let g = group.view.id;
    let roles: Vec<String> = group
        .member_roles(user)
        .unwrap_or_default()
        .iter()
        .map(|role| format!("groups/{g}/roles/{}", role.id))
        .collect();
    let (created, updated) =
        group.members.get(&user).map(|m| (m.created.rfc3339(), m.updated.rfc3339())).unwrap_or_default();
    json!({
        "path": format!("groups/{g}/memberships/{}", membership_id(user)),
        "createTime": created,
        "updateTime": updated,
        "user": format!("users/{user}"),
        "role": roles.first().cloned().unwrap_or_default(),
        "roles": roles,
    })
}

/// `GET /cloud/v2/groups/{group_id}/memberships`: by user id, 10 a page by default, at most 100,
/// filtered by `user == ...`, `user in [...]` or `role == ...`. The group may be `-` (every group) when
/// the filter names users.
pub(super) fn list(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let filter_text = call.query("filter").unwrap_or_default();
    let filter = match filter_text.trim() {
        "" => None,
        text => Some(parse_filter(text)?),
    };
    let size = paging::page_size(call.query("maxPageSize"), 10, 100)?;
    let admits = |group: &Group, user: u64| {
        let roles: Vec<u64> = group.member_roles(user).unwrap_or_default().iter().map(|r| r.id).collect();
        filter.as_ref().is_none_or(|filter| filter.admits(user, &roles))
    };
    let mut items: Vec<(Key, Value)> = Vec::new();
    let param = call.param("group_id");
    if param == "-" {
        if !matches!(filter, Some(Filter::User(_) | Filter::Users(_))) {
            return Err(ApiError::invalid("Listing memberships of every group (groups/-) needs a user filter."));
        }
        for group in world.groups.values() {
            let order = i64::try_from(group.view.id).unwrap_or(i64::MAX);
            for &user in group.members.keys().filter(|user| admits(group, **user)) {
                items.push(((order, user), membership_json(group, user)));
            }
        }
    } else {
        let group = find_group(world, call)?;
        if matches!(filter, Some(Filter::Role(g, _)) if g != group.view.id) {
            return Err(invalid_filter());
        }
        for &user in group.members.keys().filter(|user| admits(group, **user)) {
            items.push(((0, user), membership_json(group, user)));
        }
    }
    let listing = format!("groups/{param}/memberships?filter={filter_text}");
    let (page, next) = paging::page(items, call.query("pageToken"), &listing, size)?;
    Ok(Reply::ok(list_body("groupMemberships", page, next)))
}

/// The member a path's membership id stands for, and the role the body names.
fn target<'g>(group: &'g Group, call: &Call) -> Result<(u64, &'g RoleView), ApiError> {
    let id = call.param("membership_id");
    let user = membership_user(id).ok_or_else(|| ApiError::invalid(format!("Invalid membership ID: {id:?}.")))?;
    let path = call.body_str("role").ok_or_else(|| ApiError::invalid("The role is required."))?;
    let g = group.view.id;
    let role = match role_path(path) {
        Some((group_id, role)) if group_id == g => role,
        _ => return Err(ApiError::invalid(format!("The role must be a role of groups/{g}, got {path:?}."))),
    };
    if !group.members.contains_key(&user) {
        return Err(ApiError::not_found("Membership not found."));
    }
    let role = group.roles.get(&role).ok_or_else(|| ApiError::not_found("Role not found."))?;
    Ok((user, role))
}

/// Roblox's rank rules for giving or taking `role` from `target`: the guest and owner roles are never
/// assigned through the API, nobody changes their own rank or the owner's, and a member acts only with
/// `changeRank`, on members ranked below them, with roles ranked below them. The group's own key and the
/// owner's may assign any role from 1 to 254.
fn check_authority(group: &Group, requester: &Requester, target: u64, role: &RoleView) -> Result<(), ApiError> {
    let g = group.view.id;
    if role.rank == GUEST_RANK || role.rank == OWNER_RANK {
        return Err(ApiError::denied("Guest and owner roles cannot be assigned or unassigned."));
    }
    let target_rank = group.member_rank(target).unwrap_or(GUEST_RANK);
    match requester {
        Requester::Outsider => Err(ApiError::denied(format!("The API key's owner is not a member of groups/{g}."))),
        Requester::Owner(user) | Requester::Member(user, _) if *user == target => {
            Err(ApiError::denied("A requester cannot change their own rank."))
        }
        _ if target_rank == OWNER_RANK => Err(ApiError::denied("The group owner's roles cannot be changed.")),
        Requester::Group | Requester::Owner(_) => Ok(()),
        Requester::Member(_, rank) => {
            if !requester.may(group, "changeRank") {
                Err(ApiError::denied(format!("The API key's owner may not change ranks in groups/{g}.")))
            } else if target_rank >= *rank {
                Err(ApiError::denied(format!(
                    "The API key's owner (rank {rank}) cannot manage a member ranked {target_rank}."
                )))
            } else if role.rank >= *rank {
                Err(ApiError::denied(format!(
                    "The API key's owner (rank {rank}) cannot assign or unassign a role ranked {}.",
                    role.rank
                )))
            } else {
                Ok(())
            }
        }
    }
}

/// How a member's roles change.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Replace them all by one (the deprecated `PATCH`).
    Replace,
    Assign,
    Unassign,
}

fn change(world: &mut World, call: &Call, change: Change) -> Result<Reply, ApiError> {
    let group = find_group(world, call)?;
    let (user, role) = target(group, call)?;
    check_authority(group, &Requester::of(call.key()?, group), user, role)?;
    let (g, role) = (group.view.id, role.id);
    let group = world.group_mut(g);
    let Some(member) = group.members.get_mut(&user) else {
        return Err(ApiError::not_found("Membership not found."));
    };
    let before = member.roles.clone();
    match change {
        Change::Replace => member.roles = [role].into(),
        Change::Assign => {
            member.roles.insert(role);
        }
        Change::Unassign if member.roles.len() == 1 && member.roles.contains(&role) => {
            return Err(ApiError::invalid("A member keeps at least one role: assign another role first."));
        }
        Change::Unassign => {
            member.roles.remove(&role);
        }
    }
    if member.roles != before {
        member.updated = call.now;
    }
    Ok(Reply::ok(membership_json(group, user)))
}

/// `PATCH /cloud/v2/groups/{group_id}/memberships/{membership_id}` with `{"role": ...}`: the member's
/// roles become that one.
pub(super) fn update(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    change(world, call, Change::Replace)
}

/// `POST .../memberships/{membership_id}:assignRole` with `{"role": ...}`: one more role (nothing
/// happens if the member holds it).
pub(super) fn assign_role(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    change(world, call, Change::Assign)
}

/// `POST .../memberships/{membership_id}:unassignRole` with `{"role": ...}`: one role less (nothing
/// happens if the member does not hold it; the last one stays).
pub(super) fn unassign_role(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    change(world, call, Change::Unassign)
}
