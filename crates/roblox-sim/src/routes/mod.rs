//! The routes the simulator serves from Roblox's document, and what they share: who is calling, what
//! the key may do, ids and resource paths.

mod groups;
mod join_requests;
mod legacy;
mod memberships;
mod users;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::error::ApiError;
use crate::paging::parse_decimal;
use crate::spec::Operation;
use crate::time::Timestamp;
use crate::world::{ApiKey, Group, KeyOwner, World};

/// Every route of Roblox's document the simulator serves, as `(METHOD, template)` with the document's
/// templates. Open Cloud v2 routes (`/cloud/v2/...`) take an API key in `x-api-key`; the legacy users
/// API (`/v1/...`, `users.roblox.com` in the document) takes none.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/cloud/v2/groups/{group_id}"),
    ("GET", "/cloud/v2/groups/{group_id}/roles"),
    ("GET", "/cloud/v2/groups/{group_id}/roles/{role_id}"),
    ("GET", "/cloud/v2/groups/{group_id}/memberships"),
    ("PATCH", "/cloud/v2/groups/{group_id}/memberships/{membership_id}"),
    ("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole"),
    ("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:unassignRole"),
    ("GET", "/cloud/v2/groups/{group_id}/join-requests"),
    ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept"),
    ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:decline"),
    ("GET", "/cloud/v2/users/{user_id}"),
    ("GET", "/cloud/v2/users/{user_id}:generateThumbnail"),
    ("POST", "/v1/usernames/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{userId}"),
];

/// Whether the simulator serves this documented operation.
pub(crate) fn is_served(method: &str, template: &str) -> bool {
    ROUTES.iter().any(|(m, t)| m.eq_ignore_ascii_case(method) && *t == template)
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) template: &'a str,
    /// Path parameters, percent-decoded.
    pub(crate) params: &'a [(String, String)],
    pub(crate) query: &'a [(String, String)],
    pub(crate) body: Option<&'a Value>,
    /// The API key of an Open Cloud call (authenticated before the call reaches a route).
    pub(crate) key: Option<&'a ApiKey>,
    /// `http://127.0.0.1:PORT`, for links back to the simulator.
    pub(crate) base_url: &'a str,
    pub(crate) now: Timestamp,
}

impl Call<'_> {
    /// A path parameter (empty if the route has none of that name).
    pub(crate) fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// A query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The API key; Open Cloud routes are only reached with one.
    pub(crate) fn key(&self) -> Result<&ApiKey, ApiError> {
        self.key.ok_or_else(ApiError::invalid_key)
    }

    /// A string field of the JSON body.
    pub(crate) fn body_str(&self, field: &str) -> Option<&str> {
        self.body?.get(field)?.as_str()
    }
}

/// A successful answer: a status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }
}

/// A list answer: the items under `field`, and `nextPageToken`, empty on the last page (as Roblox's
/// paging documentation shows it).
pub(crate) fn list_body(field: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert(field.to_owned(), Value::Array(items));
    body.insert("nextPageToken".to_owned(), next.unwrap_or_default().into());
    Value::Object(body)
}

/// Runs a documented operation the simulator serves.
pub(crate) fn handle(world: &mut World, call: &Call) -> Result<Reply, ApiError> {
    match (call.method, call.template) {
        ("GET", "/cloud/v2/groups/{group_id}") => groups::get_group(world, call),
        ("GET", "/cloud/v2/groups/{group_id}/roles") => groups::list_roles(world, call),
        ("GET", "/cloud/v2/groups/{group_id}/roles/{role_id}") => groups::get_role(world, call),
        ("GET", "/cloud/v2/groups/{group_id}/memberships") => memberships::list(world, call),
        ("PATCH", "/cloud/v2/groups/{group_id}/memberships/{membership_id}") => memberships::update(world, call),
        ("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole") => {
            memberships::assign_role(world, call)
        }
        ("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:unassignRole") => {
            memberships::unassign_role(world, call)
        }
        ("GET", "/cloud/v2/groups/{group_id}/join-requests") => join_requests::list(world, call),
        ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept") => {
            join_requests::accept(world, call)
        }
        ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:decline") => {
            join_requests::decline(world, call)
        }
        ("GET", "/cloud/v2/users/{user_id}") => users::get_user(world, call),
        ("GET", "/cloud/v2/users/{user_id}:generateThumbnail") => users::generate_thumbnail(world, call),
        ("POST", "/v1/usernames/users") => legacy::users_by_name(world, call),
        ("POST", "/v1/users") => legacy::users_by_id(world, call),
        ("GET", "/v1/users/{userId}") => legacy::get_user(world, call),
        (method, template) => Err(ApiError::cloud(501, format!("{method} {template} is not simulated."))),
    }
}

/// The scopes an operation requires: its `x-roblox-scopes` without a `description`. A scope the document
/// describes says what it adds to the answer ("Required to view permissions in non-guest roles", "Grants
/// access to read a user's verification status") and the operation works without it.
pub(crate) fn required_scopes(operation: &Operation) -> Vec<&str> {
    operation
        .extension("x-roblox-scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|scope| scope.get("description").is_none())
        .filter_map(|scope| scope.get("name")?.as_str())
        .collect()
}

/// What an Open Cloud call needs before its route runs: every required scope, and for an operation
/// that requires one on a group, a key made for that group.
pub(crate) fn authorize(key: &ApiKey, operation: &Operation, call: &Call) -> Result<(), ApiError> {
    let required = required_scopes(operation);
    if let Some(missing) = required.iter().find(|scope| !key.has_scope(scope)) {
        return Err(ApiError::denied(format!("The API key does not have the scope {missing}.")));
    }
    if !required.is_empty() && call.template.starts_with("/cloud/v2/groups/{group_id}") {
        let group = parse_id(call.param("group_id"), "group")?;
        if !key.groups.contains(&group) {
            return Err(ApiError::denied(format!("The API key may not act on groups/{group}.")));
        }
    }
    Ok(())
}

/// A decimal id from a path, or 400.
pub(crate) fn parse_id(text: &str, what: &str) -> Result<u64, ApiError> {
    parse_decimal(text).ok_or_else(|| ApiError::invalid(format!("Invalid {what} ID: {text:?}.")))
}

/// The group of a path, or 404.
pub(crate) fn find_group<'w>(world: &'w World, call: &Call) -> Result<&'w Group, ApiError> {
    let id = parse_id(call.param("group_id"), "group")?;
    world.groups.get(&id).ok_or_else(|| ApiError::not_found("Group not found."))
}

/// The opaque membership id Roblox gives a member: the decimal user id in unpadded URL-safe base64.
pub(crate) fn membership_id(user: u64) -> String {
    URL_SAFE_NO_PAD.encode(user.to_string())
}

/// The user a membership id stands for: a membership id, or a user id ("a user ID can be used in place
/// of a membership ID").
pub(crate) fn membership_user(id: &str) -> Option<u64> {
    parse_decimal(id).or_else(|| {
        let bytes = URL_SAFE_NO_PAD.decode(id).or_else(|_| URL_SAFE.decode(id)).ok()?;
        parse_decimal(std::str::from_utf8(&bytes).ok()?)
    })
}

/// Who is acting on a group through a key, and with what authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requester {
    /// The group's own key: everything the owner may do.
    Group,
    /// The group's owner.
    Owner(u64),
    /// A member, with their highest rank.
    Member(u64, u8),
    /// Neither: a user who is not a member, or another group.
    Outsider,
}

impl Requester {
    pub(crate) fn of(key: &ApiKey, group: &Group) -> Self {
        match key.owner {
            KeyOwner::Group(id) if id == group.view.id => Requester::Group,
            KeyOwner::Group(_) => Requester::Outsider,
            KeyOwner::User(user) if group.view.owner == Some(user) => Requester::Owner(user),
            KeyOwner::User(user) => match group.member_rank(user) {
                Some(rank) => Requester::Member(user, rank),
                None => Requester::Outsider,
            },
        }
    }

    /// The owner's authority (the group's own key, or the owner's).
    pub(crate) fn is_owner(&self) -> bool {
        matches!(self, Requester::Group | Requester::Owner(_))
    }

    /// Whether one of the requester's roles grants `permission` (the owner has every permission).
    pub(crate) fn may(&self, group: &Group, permission: &str) -> bool {
        match self {
            Requester::Group | Requester::Owner(_) => true,
            Requester::Member(user, _) => group
                .member_roles(*user)
                .is_some_and(|roles| roles.iter().any(|role| role.permissions.contains(permission))),
            Requester::Outsider => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::spec;

    #[test]
    fn membership_ids_are_base64_of_the_user_id_and_user_ids_do_too() {
        assert_eq!(membership_id(156), "MTU2");
        assert_eq!(membership_user("MTU2"), Some(156));
        assert_eq!(membership_user("156"), Some(156));
        assert_eq!(membership_user(&membership_id(u64::MAX)), Some(u64::MAX));
        assert_eq!(membership_user("MTU2=="), None, "padding is not a base64url membership id");
        assert_eq!(membership_user("MQ=="), Some(1), "but padded base64 is accepted");
        assert_eq!(membership_user("bm9wZQ"), None, "\"nope\" is not a user id");
        assert_eq!(membership_user(""), None);
    }

    #[test]
    fn required_scopes_are_the_undescribed_ones() {
        let scopes = |method, template| required_scopes(spec().operation(method, template).expect("documented"));
        assert_eq!(scopes("GET", "/cloud/v2/groups/{group_id}/join-requests"), ["group:read"]);
        assert_eq!(
            scopes("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole"),
            ["group:write"]
        );
        assert!(scopes("GET", "/cloud/v2/groups/{group_id}/roles").is_empty(), "group:read only shows permissions");
        assert!(scopes("GET", "/cloud/v2/users/{user_id}").is_empty(), "user.*:read only add fields");
        assert!(scopes("GET", "/cloud/v2/groups/{group_id}").is_empty());
        assert!(scopes("GET", "/cloud/v2/groups/{group_id}/memberships").is_empty());
    }

    #[test]
    fn every_route_is_documented() {
        for (method, template) in ROUTES {
            assert!(spec().has_route(method, template), "{method} {template}");
        }
    }
}
