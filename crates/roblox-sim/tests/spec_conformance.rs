//! The simulator against Roblox's own OpenAPI document: every route it serves is one Roblox documents,
//! every operation Garrison calls is served, realistic Roblox JSON passes the validator while broken
//! variants of it do not, and the limits it enforces are the document's.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, assert_spec_clean, start};
use garrison_roblox_sim::spec::spec;
use garrison_roblox_sim::{PERMISSIONS, ROUTES};
use serde_json::{Value, json};

/// Every Roblox operation Garrison's adapter (`crates/roblox`) calls.
const GARRISON_CALLS: &[(&str, &str)] = &[
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
    ("GET", "/v1/users/{userId}"),
];

/// A concrete path for a template: every parameter becomes `156`.
fn concrete(template: &str) -> String {
    let mut path = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        path.push_str("156");
        rest = rest[open..].split_once('}').map_or("", |(_, after)| after);
    }
    path.push_str(rest);
    path
}

#[test]
fn every_simulated_route_is_documented_and_routes_back() {
    let spec = spec();
    for (method, template) in ROUTES {
        assert!(spec.has_route(method, template), "{method} {template} is not in Roblox's document");
        assert_eq!(spec.route_for(method, &concrete(template)), Some(*template), "{method} {}", concrete(template));
    }
    assert_eq!(concrete("/cloud/v2/users/{user_id}:generateThumbnail"), "/cloud/v2/users/156:generateThumbnail");
}

#[test]
fn every_operation_garrison_calls_is_served() {
    for call in GARRISON_CALLS {
        assert!(ROUTES.contains(call), "{call:?} is not simulated");
        assert!(spec().has_route(call.0, call.1), "{call:?} is not in the document");
    }
}

#[test]
fn role_permissions_are_the_documents() {
    let document: Value = serde_json::from_str(include_str!("../spec/roblox-groups-users-openapi.json")).unwrap();
    let properties = document["components"]["schemas"]["GroupRole_RolePermissions"]["properties"].as_object().unwrap();
    let mut documented: Vec<&str> = properties.keys().map(String::as_str).collect();
    let mut ours = PERMISSIONS.to_vec();
    documented.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, documented);
}

/// Bodies as Roblox's reference pages show them.
fn samples() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "GET",
            "/cloud/v2/groups/{group_id}",
            json!({
                "path": "groups/7", "createTime": "2023-07-05T12:34:56Z", "updateTime": "2023-07-05T12:34:56Z",
                "id": "7", "displayName": "Roblox", "description": "Official fan club of Roblox!", "owner": "users/21557",
                "memberCount": 10196297, "publicEntryAllowed": true, "locked": false, "verified": true
            }),
        ),
        (
            "GET",
            "/cloud/v2/groups/{group_id}/roles",
            json!({
                "groupRoles": [{"path": "groups/7/roles/99513316", "id": "99513316", "displayName": "Member", "rank": 1,
                    "memberCount": 10223136, "permissions": {"viewWallPosts": true, "changeRank": false}}],
                "nextPageToken": "aaaBBB"
            }),
        ),
        (
            "GET",
            "/cloud/v2/groups/{group_id}/memberships",
            json!({
                "groupMemberships": [{"path": "groups/7/memberships/MjE1NTc", "createTime": "2023-07-05T12:34:56Z",
                    "updateTime": "2023-07-05T12:34:56Z", "user": "users/21557", "role": "groups/7/roles/99513316",
                    "roles": ["groups/7/roles/99513316"]}],
                "nextPageToken": ""
            }),
        ),
        (
            "GET",
            "/cloud/v2/groups/{group_id}/join-requests",
            json!({
                "groupJoinRequests": [{"path": "groups/7/join-requests/21557", "createTime": "2023-10-17T17:23:45.490Z",
                    "user": "users/21557"}]
            }),
        ),
        ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept", json!({})),
        (
            "GET",
            "/cloud/v2/users/{user_id}",
            json!({
                "path": "users/123", "createTime": "2023-07-05T12:34:56Z", "id": "123456", "name": "exampleUser",
                "displayName": "userDefinedName", "about": "Example User's bio", "locale": "en-US", "premium": true
            }),
        ),
        (
            "GET",
            "/cloud/v2/users/{user_id}:generateThumbnail",
            json!({
                "path": "users/123/operations/abc", "done": true,
                "response": {"@type": "apis.roblox.com/roblox.open_cloud.cloud.v2.GenerateUserThumbnailResponse",
                    "imageUri": "https://tr.rbxcdn.com/30DAY-AvatarHeadshot-0/420/420/AvatarHeadshot/Webp/noFilter"}
            }),
        ),
        (
            "POST",
            "/v1/usernames/users",
            json!({"data": [{"requestedUsername": "roblox", "hasVerifiedBadge": true,
            "id": 1, "name": "Roblox", "displayName": "Roblox"}]}),
        ),
        (
            "GET",
            "/v1/users/{userId}",
            json!({"description": "Welcome to the Roblox profile!",
            "created": "2006-02-27T21:06:40.3Z", "isBanned": false, "externalAppDisplayName": null,
            "hasVerifiedBadge": true, "id": 1, "name": "Roblox", "displayName": "Roblox"}),
        ),
    ]
}

#[test]
fn realistic_roblox_bodies_validate() {
    for (method, template, body) in samples() {
        if let Err(errors) = spec().validate_response(method, template, 200, &body) {
            panic!("{method} {template} rejected a realistic body: {errors:#?}");
        }
    }
    let requests = [
        ("PATCH", "/cloud/v2/groups/{group_id}/memberships/{membership_id}", json!({"role": "groups/7/roles/99"})),
        (
            "POST",
            "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole",
            json!({"role": "groups/7/roles/99"}),
        ),
        ("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:decline", json!({})),
        ("POST", "/v1/usernames/users", json!({"usernames": ["Roblox"], "excludeBannedUsers": true})),
        ("POST", "/v1/users", json!({"userIds": [1], "excludeBannedUsers": false})),
    ];
    for (method, template, body) in requests {
        if let Err(errors) = spec().validate_request(method, template, &body) {
            panic!("{method} {template} rejected a realistic request: {errors:#?}");
        }
    }
}

#[test]
fn broken_variants_are_rejected() {
    let broken = |method: &str, template: &str, edit: &dyn Fn(&mut Value), needle: &str| {
        let (_, _, mut body) =
            samples().into_iter().find(|(m, t, _)| *m == method && *t == template).expect("a sample");
        edit(&mut body);
        match spec().validate_response(method, template, 200, &body) {
            Ok(()) => panic!("{template} accepted {body}"),
            Err(errors) => assert!(errors.iter().any(|e| e.contains(needle)), "{needle:?} not in {errors:#?}"),
        }
    };
    broken("GET", "/cloud/v2/groups/{group_id}", &|b| b["id"] = json!(7), "/id: expected string, got integer");
    broken("GET", "/cloud/v2/groups/{group_id}", &|b| b["createTime"] = json!("yesterday"), "/createTime");
    broken("GET", "/cloud/v2/groups/{group_id}", &|b| b["memberCount"] = json!("many"), "/memberCount");
    broken(
        "GET",
        "/cloud/v2/groups/{group_id}/roles",
        &|b| b["groupRoles"][0]["rank"] = json!("1"),
        "/groupRoles/0/rank",
    );
    broken(
        "GET",
        "/cloud/v2/groups/{group_id}/roles",
        &|b| b["groupRoles"][0]["permissions"]["changeRank"] = json!(1),
        "changeRank",
    );
    broken(
        "GET",
        "/cloud/v2/groups/{group_id}/memberships",
        &|b| b["groupMemberships"][0]["roles"] = json!("x"),
        "/roles",
    );
    broken(
        "POST",
        "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept",
        &|b| b["ok"] = json!(true),
        "unexpected property",
    );
    broken("POST", "/v1/usernames/users", &|b| b["data"][0]["id"] = json!("1"), "/data/0/id: expected integer");
    broken("POST", "/v1/usernames/users", &|b| b["data"][0]["extra"] = json!(1), "unexpected property");
    broken("GET", "/v1/users/{userId}", &|b| b["externalAppDisplayName"] = json!(1), "/externalAppDisplayName");
    assert!(spec().validate_request("POST", "/v1/usernames/users", &json!({"usernames": "Roblox"})).is_err());
    assert!(
        spec()
            .validate_request("POST", "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole", &json!({}))
            .is_err()
    );
}

#[test]
fn the_simulator_enforces_the_documents_limits() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    for (method, template) in ROUTES.iter().filter(|(_, t)| t.starts_with("/cloud/")) {
        let operation = spec().operation(method, template).unwrap();
        let limit = &operation.extension("x-roblox-rate-limits").unwrap()["perApiKeyOwner"];
        assert_eq!(limit["period"], "MINUTE", "{template}");
        let max = limit["maxInPeriod"].as_u64().unwrap();
        let path = concrete(template).replace("/groups/156", "/groups/7");
        let body = (*method != "GET").then(|| json!({"role": "groups/7/roles/701"}));
        let response = client.request(method, &path, body.as_ref());
        assert_eq!(
            response.header("x-ratelimit-limit"),
            Some(format!("{max}, {max};w=60").as_str()),
            "{method} {template}"
        );
    }
}

#[test]
fn a_realistic_session_stays_within_the_document() {
    let (sim, f) = start();
    let key = Client::new(&sim, f.group_key);
    let g = f.group;
    key.get(&format!("/cloud/v2/groups/{g}"));
    key.get(&format!("/cloud/v2/groups/{g}/roles?maxPageSize=20"));
    key.get(&format!("/cloud/v2/groups/{g}/roles/{}", f.lieutenant_role));
    let members = key.get(&format!("/cloud/v2/groups/{g}/memberships?maxPageSize=100")).json();
    let path = members["groupMemberships"][3]["path"].as_str().unwrap().to_owned();
    key.post(
        &format!("/cloud/{}:assignRole", path.replace("groups/", "v2/groups/")),
        &json!({"role": format!("groups/{g}/roles/{}", f.sergeant_role)}),
    );
    key.post(
        &format!("/cloud/{}:unassignRole", path.replace("groups/", "v2/groups/")),
        &json!({"role": format!("groups/{g}/roles/{}", f.private_role)}),
    );
    key.patch(
        &format!("/cloud/v2/groups/{g}/memberships/{}", f.private),
        &json!({"role": format!("groups/{g}/roles/{}", f.private_role)}),
    );
    key.get(&format!("/cloud/v2/groups/{g}/join-requests"));
    key.post(&format!("/cloud/v2/groups/{g}/join-requests/{}:accept", f.applicant), &json!({}));
    key.get(&format!("/cloud/v2/users/{}", f.applicant));
    let thumbnail =
        key.get(&format!("/cloud/v2/users/{}:generateThumbnail?size=150&format=PNG&shape=ROUND", f.applicant)).json();
    assert!(thumbnail["response"]["imageUri"].as_str().unwrap().starts_with(&sim.base_url()));
    let anonymous = Client::anonymous(&sim);
    anonymous.post("/v1/usernames/users", &json!({"usernames": ["Applicant"], "excludeBannedUsers": true}));
    anonymous.get(&format!("/v1/users/{}", f.applicant));
    // And the errors a client meets.
    Client::anonymous(&sim).get(&format!("/cloud/v2/groups/{g}"));
    Client::new(&sim, f.read_key).post(&format!("/cloud/v2/groups/{g}/join-requests/1:decline"), &json!({}));
    key.get("/cloud/v2/users/99999");
    anonymous.get("/v1/users/99999");
    assert_eq!(sim.world(|w| w.member_roles(g, f.private)), Some(vec![f.private_role]));
    assert_eq!(sim.world(|w| w.member_rank(g, f.sergeant)), Some(50));
    assert!(sim.total_calls() >= 17);
    assert_spec_clean(&sim);
}
