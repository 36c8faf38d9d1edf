//! Role changes under Roblox's rules: who may give which role to whom, and what a member keeps.

mod common;

use common::{Client, assert_spec_clean, start};
use serde_json::json;

fn role(group: u64, role: u64) -> serde_json::Value {
    json!({ "role": format!("groups/{group}/roles/{role}") })
}

#[test]
fn a_group_key_assigns_replaces_and_unassigns_roles() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    let g = f.group;
    let member = format!("/cloud/v2/groups/{g}/memberships/{}", f.private);

    let assigned = client.post(&format!("{member}:assignRole"), &role(g, f.sergeant_role));
    assert_eq!(assigned.status, 200, "{}", assigned.json());
    let body = assigned.json();
    assert_eq!(body["path"], "groups/7/memberships/NA", "the membership id is base64 of the user id");
    assert_eq!(body["user"], "users/4");
    assert_eq!(body["role"], "groups/7/roles/750", "the highest-ranked role");
    assert_eq!(body["roles"], json!(["groups/7/roles/750", "groups/7/roles/701"]));
    assert_eq!(sim.world(|w| w.member_roles(g, f.private)), Some(vec![f.sergeant_role, f.private_role]));
    // Assigning a role the member holds changes nothing.
    assert_eq!(client.post(&format!("{member}:assignRole"), &role(g, f.sergeant_role)).json()["roles"], body["roles"]);

    let unassigned = client.post(&format!("{member}:unassignRole"), &role(g, f.sergeant_role));
    assert_eq!(unassigned.json()["roles"], json!(["groups/7/roles/701"]));
    // Unassigning a role the member does not hold changes nothing either.
    let again = client.post(&format!("{member}:unassignRole"), &role(g, f.sergeant_role));
    assert_eq!((again.status, again.json()["roles"].clone()), (200, json!(["groups/7/roles/701"])));
    // The last role stays.
    let message =
        client.post(&format!("{member}:unassignRole"), &role(g, f.private_role)).assert_error(400, "INVALID_ARGUMENT");
    assert!(message.contains("at least one role"), "{message}");

    // PATCH (deprecated, still served) replaces every role by one; the membership id may be base64.
    client.post(&format!("{member}:assignRole"), &role(g, f.sergeant_role));
    let patched = client.patch(&format!("/cloud/v2/groups/{g}/memberships/NA"), &role(g, f.lieutenant_role));
    assert_eq!(patched.json()["roles"], json!(["groups/7/roles/799"]));
    assert_eq!(sim.world(|w| w.member_rank(g, f.private)), Some(100));
    assert_spec_clean(&sim);
}

#[test]
fn guest_and_owner_roles_are_never_assigned() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    let (guest, owner) = sim.world(|w| (w.guest_role(7), w.owner_role(7)));
    let member = format!("/cloud/v2/groups/7/memberships/{}", f.private);
    for path in [format!("{member}:assignRole"), format!("{member}:unassignRole")] {
        for forbidden in [guest, owner] {
            let message = client.post(&path, &role(7, forbidden)).assert_error(403, "PERMISSION_DENIED");
            assert!(message.contains("Guest and owner roles"), "{message}");
        }
    }
    client.patch(&member, &role(7, owner)).assert_error(403, "PERMISSION_DENIED");
    // Nobody changes the owner's roles, not even the group's own key.
    client
        .post(&format!("/cloud/v2/groups/7/memberships/{}:assignRole", f.owner), &role(7, f.private_role))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(sim.world(|w| w.member_roles(7, f.private)), Some(vec![f.private_role]));
    assert_spec_clean(&sim);
}

#[test]
fn a_members_key_acts_below_its_owners_rank_with_change_rank() {
    let (sim, f) = start();
    let lieutenant = Client::new(&sim, f.lieutenant_key);
    let private = format!("/cloud/v2/groups/7/memberships/{}", f.private);
    // Below the lieutenant's rank (100): fine.
    assert_eq!(lieutenant.post(&format!("{private}:assignRole"), &role(7, f.sergeant_role)).status, 200);
    assert_eq!(lieutenant.post(&format!("{private}:unassignRole"), &role(7, f.sergeant_role)).status, 200);
    // At the lieutenant's rank: refused.
    let message = lieutenant
        .post(&format!("{private}:assignRole"), &role(7, f.lieutenant_role))
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("rank 100") && message.contains("ranked 100"), "{message}");
    // Not on themselves, nor on the owner.
    let own = format!("/cloud/v2/groups/7/memberships/{}:assignRole", f.lieutenant);
    let message = lieutenant.post(&own, &role(7, f.private_role)).assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("own rank"), "{message}");
    let owner = format!("/cloud/v2/groups/7/memberships/{}:assignRole", f.owner);
    lieutenant.post(&owner, &role(7, f.private_role)).assert_error(403, "PERMISSION_DENIED");

    // A member ranked at or above the requester is out of reach, whatever the role.
    sim.world_mut(|w| {
        w.add_role(7, 798, "Lieutenant Colonel", 120);
        w.add_user(9, "Colonel", "Colonel");
        w.add_member(7, 9, f.sergeant_role);
        w.add_member_role(7, 9, 798);
    });
    let colonel = "/cloud/v2/groups/7/memberships/9:unassignRole";
    let message = lieutenant.post(colonel, &role(7, f.sergeant_role)).assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("member ranked 120"), "{message}");

    // Without changeRank, rank is not enough.
    let sergeant_key = Client::new(&sim, f.sergeant_key);
    let message = sergeant_key
        .post(&format!("{private}:assignRole"), &role(7, f.private_role))
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("may not change ranks"), "{message}");
    sim.world_mut(|w| w.set_role_permission(7, f.lieutenant_role, "changeRank", false));
    lieutenant.post(&format!("{private}:assignRole"), &role(7, f.sergeant_role)).assert_error(403, "PERMISSION_DENIED");
    assert_spec_clean(&sim);
}

#[test]
fn the_owners_key_assigns_anything_from_1_to_254_but_not_to_itself() {
    let (sim, f) = start();
    sim.world_mut(|w| w.add_role(7, 754, "Admin", 254));
    let owner = Client::new(&sim, f.owner_key);
    let private = format!("/cloud/v2/groups/7/memberships/{}", f.private);
    assert_eq!(owner.patch(&private, &role(7, 754)).json()["role"], "groups/7/roles/754");
    assert_eq!(sim.world(|w| w.member_rank(7, f.private)), Some(254));
    let own = format!("/cloud/v2/groups/7/memberships/{}:assignRole", f.owner);
    owner.post(&own, &role(7, f.private_role)).assert_error(403, "PERMISSION_DENIED");
    // A key of another group has no say here.
    sim.world_mut(|w| {
        w.add_group(8, "Eighth", f.outsider);
        w.add_api_key("eighth", garrison_roblox_sim::ApiKey::for_group(8, &["group:read", "group:write"]));
        w.add_api_key(
            "eighth-for-7",
            garrison_roblox_sim::ApiKey { groups: vec![7, 8], ..w.api_key("eighth").cloned().expect("a key") },
        );
    });
    let message = Client::new(&sim, "eighth-for-7")
        .patch(&private, &role(7, f.private_role))
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("not a member"), "{message}");
    assert_spec_clean(&sim);
}

#[test]
fn unknown_members_roles_and_malformed_requests() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    let base = "/cloud/v2/groups/7/memberships";
    // A non-member (by user id, or by membership id).
    client.post(&format!("{base}/{}:assignRole", f.outsider), &role(7, f.private_role)).assert_error(404, "NOT_FOUND");
    client.post(&format!("{base}/Ng:assignRole"), &role(7, f.private_role)).assert_error(404, "NOT_FOUND");
    client.post(&format!("{base}/999:assignRole"), &role(7, f.private_role)).assert_error(404, "NOT_FOUND");
    // An unknown role of this group, a role path of another group, garbage.
    client.post(&format!("{base}/4:assignRole"), &role(7, 123)).assert_error(404, "NOT_FOUND");
    client.post(&format!("{base}/4:assignRole"), &role(8, f.private_role)).assert_error(400, "INVALID_ARGUMENT");
    client.post(&format!("{base}/4:assignRole"), &json!({"role": "roles/701"})).assert_error(400, "INVALID_ARGUMENT");
    client.post(&format!("{base}/4:assignRole"), &json!({})).assert_error(400, "INVALID_ARGUMENT");
    client.post(&format!("{base}/!!:assignRole"), &role(7, f.private_role)).assert_error(400, "INVALID_ARGUMENT");
    // An unknown group.
    client.post("/cloud/v2/groups/8/memberships/4:assignRole", &role(8, 1)).assert_error(403, "PERMISSION_DENIED");
    // The request bodies that were well-formed JSON were checked; `{}` lacks the required role.
    let violations = sim.spec_violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert!(violations[0].contains("[request]") && violations[0].contains("\"role\""), "{violations:#?}");
}
