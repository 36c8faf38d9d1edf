//! Join requests: listed oldest first, accepted into the lowest role, declined, and guarded by the
//! `acceptRequests` permission.

mod common;

use common::{Client, assert_spec_clean, start};
use serde_json::json;

#[test]
fn pending_requests_are_listed_accepted_and_declined() {
    let (sim, f) = start();
    sim.world_mut(|w| {
        w.add_user(8, "Second", "Second");
        w.add_join_request(7, 8);
    });
    let client = Client::new(&sim, f.group_key);
    let list = client.get("/cloud/v2/groups/7/join-requests").json();
    let requests = list["groupJoinRequests"].as_array().expect("a list");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["path"], "groups/7/join-requests/5", "the request id is the user id");
    assert_eq!(requests[0]["user"], "users/5");
    assert!(requests[0]["createTime"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(list["nextPageToken"], "");

    let accepted = client.post("/cloud/v2/groups/7/join-requests/5:accept", &json!({}));
    assert_eq!((accepted.status, accepted.json()), (200, json!({})));
    assert_eq!(accepted.header("content-type"), Some("application/json"));
    assert_eq!(sim.world(|w| w.member_roles(7, 5)), Some(vec![f.private_role]), "the lowest role above guest");
    assert_eq!(sim.world(|w| w.join_requests(7)), [8]);
    client.post("/cloud/v2/groups/7/join-requests/5:accept", &json!({})).assert_error(404, "NOT_FOUND");

    let declined = client.post("/cloud/v2/groups/7/join-requests/8:decline", &json!({}));
    assert_eq!((declined.status, declined.json()), (200, json!({})));
    assert_eq!(sim.world(|w| (w.join_requests(7), w.member_rank(7, 8))), (vec![], None));
    client.post("/cloud/v2/groups/7/join-requests/8:decline", &json!({})).assert_error(404, "NOT_FOUND");
    client.post("/cloud/v2/groups/7/join-requests/abc:decline", &json!({})).assert_error(400, "INVALID_ARGUMENT");
    let filtered = client.get("/cloud/v2/groups/7/join-requests?filter=user%20%3D%3D%20%27users%2F5%27");
    assert_eq!(filtered.json()["groupJoinRequests"], json!([]));
    assert_spec_clean(&sim);
}

#[test]
fn managing_requests_takes_accept_requests_and_the_right_scopes() {
    let (sim, f) = start();
    // The sergeant (rank 50) lacks acceptRequests; the lieutenant (rank 100) has it.
    let message = Client::new(&sim, f.sergeant_key)
        .get("/cloud/v2/groups/7/join-requests")
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("acceptRequests"), "{message}");
    Client::new(&sim, f.sergeant_key)
        .post("/cloud/v2/groups/7/join-requests/5:decline", &json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    // Listing takes group:read, accepting group:write.
    assert_eq!(Client::new(&sim, f.read_key).get("/cloud/v2/groups/7/join-requests").status, 200);
    let message = Client::new(&sim, f.read_key)
        .post("/cloud/v2/groups/7/join-requests/5:accept", &json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    assert!(message.contains("group:write"), "{message}");
    assert_eq!(sim.world(|w| w.join_requests(7)), [5]);
    let accepted = Client::new(&sim, f.lieutenant_key).post("/cloud/v2/groups/7/join-requests/5:accept", &json!({}));
    assert_eq!(accepted.status, 200);
    assert_eq!(sim.world(|w| w.member_rank(7, 5)), Some(1));
    assert_spec_clean(&sim);
}

#[test]
fn a_group_without_a_member_role_cannot_accept() {
    let (sim, _) = start();
    sim.world_mut(|w| {
        w.add_user(20, "Founder", "Founder");
        w.add_user(21, "Hopeful", "Hopeful");
        w.add_group(9, "Empty", 20);
        w.add_join_request(9, 21);
        w.add_api_key("nine", garrison_roblox_sim::ApiKey::for_group(9, &["group:write"]));
    });
    Client::new(&sim, "nine")
        .post("/cloud/v2/groups/9/join-requests/21:accept", &json!({}))
        .assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(sim.world(|w| w.join_requests(9)), [21]);
}
