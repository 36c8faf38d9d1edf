//! Groups and their roles.

use serde_json::{Map, Value, json};

use super::{Call, Reply, Requester, find_group, list_body, parse_id};
use crate::error::ApiError;
use crate::paging::{self, Key};
use crate::world::{GUEST_RANK, Group, PERMISSIONS, RoleView, World};

/// `GET /cloud/v2/groups/{group_id}`.
pub(super) fn get_group(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let group = find_group(world, call)?;
    let view = &group.view;
    let mut body = json!({
        "path": format!("groups/{}", view.id),
        "createTime": view.created.rfc3339(),
        "updateTime": view.updated.rfc3339(),
        "id": view.id.to_string(),
        "displayName": view.name,
        "description": view.description,
        "memberCount": group.members.len(),
        "publicEntryAllowed": view.public_entry_allowed,
        "locked": view.locked,
        "verified": view.verified,
    });
    // "If the group is abandoned and has no owner, this field is not returned."
    if let (Some(owner), Some(object)) = (view.owner, body.as_object_mut()) {
        object.insert("owner".to_owned(), Value::from(format!("users/{owner}")));
    }
    Ok(Reply::ok(body))
}

/// What a caller may see of a group's roles. The document: guest permissions are always visible; with
/// `group:read`, a member sees their own roles' permissions and the owner sees all; descriptions and
/// times are "visible only to owners of the group".
struct Visibility {
    requester: Requester,
    can_read: bool,
}

impl Visibility {
    fn of(call: &Call, group: &Group) -> Result<Self, ApiError> {
        let key = call.key()?;
        let can_read = key.has_scope("group:read") && key.groups.contains(&group.view.id);
        Ok(Self { requester: Requester::of(key, group), can_read })
    }

    fn owner_only(&self) -> bool {
        self.can_read && self.requester.is_owner()
    }

    fn permissions(&self, group: &Group, role: &RoleView) -> bool {
        role.rank == GUEST_RANK
            || self.owner_only()
            || (self.can_read
                && matches!(self.requester, Requester::Member(user, _)
                    if group.members.get(&user).is_some_and(|m| m.roles.contains(&role.id))))
    }
}

fn role_json(group: &Group, role: &RoleView, visibility: &Visibility) -> Value {
    let mut body = Map::new();
    body.insert("path".into(), format!("groups/{}/roles/{}", group.view.id, role.id).into());
    if visibility.owner_only() {
        body.insert("createTime".into(), role.created.rfc3339().into());
        body.insert("updateTime".into(), role.updated.rfc3339().into());
    }
    body.insert("id".into(), role.id.to_string().into());
    body.insert("displayName".into(), role.name.clone().into());
    if visibility.owner_only() {
        body.insert("description".into(), role.description.clone().into());
    }
    body.insert("rank".into(), role.rank.into());
    // "This field is not returned for guest roles."
    if role.rank != GUEST_RANK {
        body.insert("memberCount".into(), group.role_member_count(role.id).into());
    }
    if visibility.permissions(group, role) {
        let permissions: Map<String, Value> =
            PERMISSIONS.iter().map(|name| ((*name).to_owned(), role.permissions.contains(name).into())).collect();
        body.insert("permissions".into(), Value::Object(permissions));
    }
    Value::Object(body)
}

/// `GET /cloud/v2/groups/{group_id}/roles`: by rank, 10 a page by default, at most 20.
pub(super) fn list_roles(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let group = find_group(world, call)?;
    let size = paging::page_size(call.query("maxPageSize"), 10, 20)?;
    let visibility = Visibility::of(call, group)?;
    let roles: Vec<(Key, Value)> = group
        .roles_by_rank()
        .into_iter()
        .map(|role| ((i64::from(role.rank), role.id), role_json(group, role, &visibility)))
        .collect();
    let listing = format!("groups/{}/roles", group.view.id);
    let (page, next) = paging::page(roles, call.query("pageToken"), &listing, size)?;
    Ok(Reply::ok(list_body("groupRoles", page, next)))
}

/// `GET /cloud/v2/groups/{group_id}/roles/{role_id}`.
pub(super) fn get_role(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    let group = find_group(world, call)?;
    let role_id = parse_id(call.param("role_id"), "role")?;
    let role = group.roles.get(&role_id).ok_or_else(|| ApiError::not_found("Role not found."))?;
    let visibility = Visibility::of(call, group)?;
    Ok(Reply::ok(role_json(group, role, &visibility)))
}
