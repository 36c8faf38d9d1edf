//! The legacy users API: look-ups by username and id, and profiles.

mod common;

use common::{Client, assert_spec_clean, start};
use serde_json::json;

#[test]
fn usernames_are_looked_up_whatever_their_case_and_history() {
    let (sim, _) = start();
    sim.world_mut(|w| {
        w.rename_user(3, "SergeantMajor");
        w.ban_user(6);
        w.set_verified_badge(1, true);
    });
    let client = Client::anonymous(&sim);
    let found = client.post(
        "/v1/usernames/users",
        &json!({"usernames": ["owner", "PRIVATE", "Sergeant", "nobody", "Outsider", "private"], "excludeBannedUsers": false}),
    );
    assert_eq!(found.status, 200);
    assert_eq!(
        found.json(),
        json!({"data": [
            {"requestedUsername": "owner", "hasVerifiedBadge": true, "id": 1, "name": "Owner", "displayName": "Owner Display"},
            {"requestedUsername": "PRIVATE", "hasVerifiedBadge": false, "id": 4, "name": "Private", "displayName": "Private Display"},
            {"requestedUsername": "Sergeant", "hasVerifiedBadge": false, "id": 3, "name": "SergeantMajor", "displayName": "Sergeant Display"},
            {"requestedUsername": "Outsider", "hasVerifiedBadge": false, "id": 6, "name": "Outsider", "displayName": "Outsider Display"},
        ]})
    );
    let without_banned =
        client.post("/v1/usernames/users", &json!({"usernames": ["Outsider"], "excludeBannedUsers": true}));
    assert_eq!(without_banned.json(), json!({"data": []}));
    let names: Vec<String> = (0..101).map(|i| format!("user{i}")).collect();
    let too_many = client.post("/v1/usernames/users", &json!({"usernames": names}));
    assert_eq!(too_many.assert_legacy_error(400, 2), "Too many usernames.");
    assert_eq!(too_many.json()["errors"][0]["userFacingMessage"], "Something went wrong");
    assert_spec_clean(&sim);
}

#[test]
fn users_are_looked_up_by_id() {
    let (sim, _) = start();
    let client = Client::anonymous(&sim);
    let found = client.post("/v1/users", &json!({"userIds": [4, 999, 2, 4], "excludeBannedUsers": true}));
    assert_eq!(
        found.json(),
        json!({"data": [
            {"hasVerifiedBadge": false, "id": 4, "name": "Private", "displayName": "Private Display"},
            {"hasVerifiedBadge": false, "id": 2, "name": "Lieutenant", "displayName": "Lieutenant Display"},
        ]})
    );
    let ids: Vec<u64> = (0..101).collect();
    assert_eq!(client.post("/v1/users", &json!({"userIds": ids})).assert_legacy_error(400, 1), "Too many ids.");
    assert_spec_clean(&sim);
}

#[test]
fn profiles_carry_the_description() {
    let (sim, _) = start();
    sim.world_mut(|w| w.set_description(4, "Verify: garrison-5678"));
    let client = Client::anonymous(&sim);
    let user = client.get("/v1/users/4");
    assert_eq!(
        user.json(),
        json!({
            "description": "Verify: garrison-5678",
            "created": "2020-01-01T00:00:00.000Z",
            "isBanned": false,
            "externalAppDisplayName": null,
            "hasVerifiedBadge": false,
            "id": 4,
            "name": "Private",
            "displayName": "Private Display"
        })
    );
    assert_eq!(client.get("/v1/users/404").assert_legacy_error(404, 3), "The user id is invalid.");
    assert_eq!(client.get("/v1/users/four").assert_legacy_error(404, 3), "The user id is invalid.");
    assert_eq!(sim.calls("GET", "/v1/users/{userId}"), 3);
    assert_spec_clean(&sim);
}
