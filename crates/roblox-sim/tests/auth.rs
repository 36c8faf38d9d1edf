//! API keys: who may call at all, which scopes and groups an operation needs, and what each caller may
//! see of a group's roles and of a user.

mod common;

use common::{Client, assert_spec_clean, send, start};
use garrison_roblox_sim::ApiKey;
use serde_json::json;

#[test]
fn open_cloud_needs_a_known_key() {
    let (sim, f) = start();
    for client in [Client::anonymous(&sim), Client { addr: sim.addr(), key: Some("not-a-key".into()) }] {
        for path in ["/cloud/v2/groups/7", "/cloud/v2/users/1", "/cloud/v2/groups/7/join-requests"] {
            let response = client.get(path);
            assert_eq!(response.assert_error(401, "UNAUTHENTICATED"), "Invalid API Key");
            assert_eq!(response.header("x-ratelimit-limit"), None, "no owner, no rate limit");
        }
    }
    // Operations without scopes only need a valid key, even one with no scopes or groups.
    let bare = Client::new(&sim, f.bare_key);
    assert_eq!(bare.get("/cloud/v2/groups/7").status, 200);
    assert_eq!(bare.get("/cloud/v2/groups/7/memberships").status, 200);
    assert_eq!(bare.get("/cloud/v2/groups/7/roles").status, 200);
    assert_eq!(bare.get("/cloud/v2/users/4").status, 200);
    // A revoked key is unknown.
    sim.world_mut(|w| w.revoke_api_key(f.bare_key));
    bare.get("/cloud/v2/groups/7").assert_error(401, "UNAUTHENTICATED");
    // The legacy users API takes no key at all.
    assert_eq!(Client::anonymous(&sim).get("/v1/users/4").status, 200);
    assert_spec_clean(&sim);
}

#[test]
fn scoped_operations_need_the_scope_and_the_group() {
    let (sim, f) = start();
    let bare = Client::new(&sim, f.bare_key);
    let message = bare.get("/cloud/v2/groups/7/join-requests").assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("group:read"), "{message}");
    let message = bare
        .post("/cloud/v2/groups/7/memberships/4:assignRole", &json!({"role": "groups/7/roles/750"}))
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("group:write"), "{message}");
    // The scope, but for another group.
    sim.world_mut(|w| w.add_api_key("elsewhere", ApiKey::for_user(2, &["group:read", "group:write"], &[8])));
    let elsewhere = Client::new(&sim, "elsewhere");
    let message = elsewhere.get("/cloud/v2/groups/7/join-requests").assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("groups/7"), "{message}");
    // Scopes are checked before the group is looked up.
    bare.get("/cloud/v2/groups/999/join-requests").assert_error(403, "PERMISSION_DENIED");
    Client::new(&sim, f.group_key).get("/cloud/v2/groups/999").assert_error(404, "NOT_FOUND");
    Client::new(&sim, f.group_key).get("/cloud/v2/groups/seven").assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(sim.world(|w| w.member_roles(7, 4)), Some(vec![f.private_role]));
    assert_spec_clean(&sim);
}

#[test]
fn role_permissions_are_shown_as_the_document_says() {
    let (sim, f) = start();
    let roles = |key: &str| Client::new(&sim, key).get("/cloud/v2/groups/7/roles").json()["groupRoles"].clone();
    let has = |roles: &serde_json::Value, field: &str| -> Vec<bool> {
        roles.as_array().expect("roles").iter().map(|role| role.get(field).is_some()).collect()
    };
    // Roles by rank: Guest 0, Private 1, Sergeant 50, Lieutenant 100, Owner 255.
    let anyone = roles(f.bare_key);
    let ranks: Vec<u64> = anyone.as_array().expect("roles").iter().filter_map(|r| r["rank"].as_u64()).collect();
    assert_eq!(ranks, [0, 1, 50, 100, 255]);
    assert_eq!(has(&anyone, "permissions"), [true, false, false, false, false], "guest permissions only");
    assert_eq!(has(&anyone, "memberCount"), [false, true, true, true, true], "not for the guest role");
    assert_eq!(has(&anyone, "description"), [false; 5], "owners only");
    assert_eq!(anyone[3]["memberCount"], 1);
    // A member with group:read sees their own role's permissions.
    assert_eq!(has(&roles(f.lieutenant_key), "permissions"), [true, false, false, true, false]);
    // The owner (or the group's key) sees everything.
    let all = roles(f.owner_key);
    assert_eq!(has(&all, "permissions"), [true; 5]);
    assert_eq!(has(&all, "description"), [true; 5]);
    assert_eq!(has(&all, "createTime"), [true; 5]);
    assert_eq!(has(&roles(f.group_key), "permissions"), [true; 5]);
    assert_eq!(all[3]["permissions"]["changeRank"], true);
    assert_eq!(all[1]["permissions"]["changeRank"], false);
    assert_eq!(all[0]["permissions"].as_object().map(|p| p.len()), Some(30));
    let one = Client::new(&sim, f.lieutenant_key).get("/cloud/v2/groups/7/roles/799").json();
    assert_eq!((one["displayName"].as_str(), one["rank"].as_u64()), (Some("Lieutenant"), Some(100)));
    assert!(one.get("permissions").is_some());
    Client::new(&sim, f.lieutenant_key).get("/cloud/v2/groups/7/roles/1").assert_error(404, "NOT_FOUND");
    assert_spec_clean(&sim);
}

#[test]
fn users_show_more_with_user_scopes() {
    let (sim, f) = start();
    sim.world_mut(|w| {
        w.set_description(4, "Hello from the fourth.");
        w.add_api_key("advanced", ApiKey::for_user(6, &["user.advanced:read", "user.social:read"], &[]));
    });
    let plain = Client::new(&sim, f.bare_key).get("/cloud/v2/users/4").json();
    assert_eq!(plain["path"], "users/4");
    assert_eq!(plain["id"], "4");
    assert_eq!(plain["name"], "Private");
    assert_eq!(plain["displayName"], "Private Display");
    assert_eq!(plain["about"], "Hello from the fourth.");
    assert_eq!(plain["createTime"], "2020-01-01T00:00:00.000Z");
    assert!(plain.get("idVerified").is_none() && plain.get("socialNetworkProfiles").is_none());
    let more = Client::new(&sim, "advanced").get("/cloud/v2/users/4").json();
    assert_eq!(more["idVerified"], false);
    assert!(more["socialNetworkProfiles"].is_object());
    Client::new(&sim, f.bare_key).get("/cloud/v2/users/404").assert_error(404, "NOT_FOUND");
    Client::new(&sim, f.bare_key).get("/cloud/v2/users/x").assert_error(400, "INVALID_ARGUMENT");
    assert_spec_clean(&sim);
}

#[test]
fn unknown_routes_and_bad_bodies() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    client.get("/cloud/v2/nothing").assert_error(404, "NOT_FOUND");
    client.request("DELETE", "/cloud/v2/groups/7", None).assert_error(404, "NOT_FOUND");
    assert_eq!(client.get("/v1/groups/7").assert_legacy_error(404, 0), "NotFound", "documented, not simulated");
    assert_eq!(sim.calls("DELETE", "/cloud/v2/groups/7"), 1, "unknown paths count under the path");
    let broken = send(
        sim.addr(),
        "POST",
        "/cloud/v2/groups/7/join-requests/5:accept",
        &[("x-api-key", f.group_key), ("Content-Type", "application/json")],
        b"{nope",
    );
    broken.assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(sim.spec_violations().len(), 1, "a body that is not JSON is the client's violation");
    assert!(sim.spec_violations()[0].contains("[request]: the body is not JSON"));
}
