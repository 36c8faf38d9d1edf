//! Paging and filters as Open Cloud does them.

mod common;

use common::{Client, assert_spec_clean, encode, start};
use serde_json::{Value, json};

fn paths(list: &Value, field: &str) -> Vec<String> {
    list[field].as_array().expect("a list").iter().filter_map(|item| item["path"].as_str().map(str::to_owned)).collect()
}

#[test]
fn roles_come_by_rank_in_pages() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    let first = client.get("/cloud/v2/groups/7/roles?maxPageSize=2").json();
    let guest = sim.world(|w| w.guest_role(7));
    assert_eq!(paths(&first, "groupRoles"), [format!("groups/7/roles/{guest}"), "groups/7/roles/701".to_owned()]);
    let token = first["nextPageToken"].as_str().expect("a token").to_owned();
    assert!(!token.is_empty());
    let second = client.get(&format!("/cloud/v2/groups/7/roles?maxPageSize=2&pageToken={token}")).json();
    assert_eq!(paths(&second, "groupRoles"), ["groups/7/roles/750", "groups/7/roles/799"]);
    let token = second["nextPageToken"].as_str().expect("a token").to_owned();
    let last = client.get(&format!("/cloud/v2/groups/7/roles?maxPageSize=2&pageToken={token}")).json();
    assert_eq!(last["groupRoles"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["nextPageToken"], "", "an empty token ends the listing");
    // Roles: 10 by default, at most 20.
    for (rank, id) in (2..40).zip(2000..) {
        sim.world_mut(|w| w.add_role(7, id, &format!("Rank {rank}"), rank));
    }
    assert_eq!(client.get("/cloud/v2/groups/7/roles").json()["groupRoles"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        client.get("/cloud/v2/groups/7/roles?maxPageSize=500").json()["groupRoles"].as_array().map(Vec::len),
        Some(20)
    );
    client.get("/cloud/v2/groups/7/roles?maxPageSize=-1").assert_error(400, "INVALID_ARGUMENT");
    client.get("/cloud/v2/groups/7/roles?pageToken=garbage").assert_error(400, "INVALID_ARGUMENT");
    assert_spec_clean(&sim);
}

#[test]
fn memberships_page_by_100_at_most_and_tokens_keep_their_filter() {
    let (sim, f) = start();
    sim.world_mut(|w| {
        for user in 100..230 {
            w.add_user(user, &format!("user{user}"), "Someone");
            w.add_member(7, user, 701);
        }
    });
    let client = Client::new(&sim, f.bare_key);
    let base = "/cloud/v2/groups/7/memberships";
    assert_eq!(client.get(base).json()["groupMemberships"].as_array().map(Vec::len), Some(10));
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client.get(&format!("{base}?maxPageSize=1000&pageToken={token}")).json();
        let items = page["groupMemberships"].as_array().expect("a list").clone();
        assert!(items.len() <= 100);
        seen.extend(items.iter().filter_map(|m| m["user"].as_str().map(str::to_owned)));
        token = page["nextPageToken"].as_str().expect("a token").to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 134, "4 fixture members and 130 more, each once");
    assert_eq!(seen[0], "users/1");
    let filter = encode("role == 'groups/7/roles/701'");
    let page = client.get(&format!("{base}?maxPageSize=5&filter={filter}")).json();
    let token = page["nextPageToken"].as_str().expect("a token");
    let other = encode("role == 'groups/7/roles/750'");
    let message = client
        .get(&format!("{base}?maxPageSize=5&filter={other}&pageToken={token}"))
        .assert_error(400, "INVALID_ARGUMENT");
    assert!(message.contains("page token"), "{message}");
    assert_eq!(client.get(&format!("{base}?maxPageSize=5&filter={filter}&pageToken={token}")).status, 200);
    assert_spec_clean(&sim);
}

#[test]
fn membership_filters() {
    let (sim, f) = start();
    sim.world_mut(|w| {
        w.add_group(8, "Eighth", 6);
        w.add_role(8, 801, "Friend", 1);
        w.add_member(8, 4, 801);
    });
    let client = Client::new(&sim, f.bare_key);
    let list = |group: &str, filter: &str| {
        client.get(&format!("/cloud/v2/groups/{group}/memberships?filter={}", encode(filter)))
    };
    let one = list("7", "user == 'users/4'").json();
    assert_eq!(paths(&one, "groupMemberships"), ["groups/7/memberships/NA"]);
    assert_eq!(one["groupMemberships"][0]["role"], "groups/7/roles/701");
    assert_eq!(
        paths(&list("7", "role == 'groups/7/roles/750'").json(), "groupMemberships"),
        ["groups/7/memberships/Mw"]
    );
    let some = list("7", "user in ['users/2', 'users/4', 'users/6']").json();
    assert_eq!(paths(&some, "groupMemberships"), ["groups/7/memberships/Mg", "groups/7/memberships/NA"]);
    assert_eq!(list("7", "user == \"users/6\"").json()["groupMemberships"], json!([]));
    // Every group of a user: the `-` wildcard, with a user filter.
    let everywhere = list("-", "user in ['users/4']").json();
    assert_eq!(paths(&everywhere, "groupMemberships"), ["groups/7/memberships/NA", "groups/8/memberships/NA"]);
    assert_eq!(
        list("-", "user == 'users/6'").json()["groupMemberships"][0]["role"],
        format!("groups/8/roles/{}", sim.world(|w| w.owner_role(8)))
    );
    list("-", "role == 'groups/7/roles/701'").assert_error(400, "INVALID_ARGUMENT");
    client.get("/cloud/v2/groups/-/memberships").assert_error(400, "INVALID_ARGUMENT");
    // What Roblox does not support.
    for bad in ["user != 'users/4'", "role == 'groups/8/roles/801'", "user == 4", "displayName == 'x'", "user in []"] {
        let message = list("7", bad).assert_error(400, "INVALID_ARGUMENT");
        assert_eq!(message, "The provided filter is invalid.", "{bad}");
    }
    let fifty_one = (0..51).map(|i| format!("'users/{i}'")).collect::<Vec<_>>().join(",");
    list("7", &format!("user in [{fifty_one}]")).assert_error(400, "INVALID_ARGUMENT");
    // Join requests take `user ==` only.
    let requests = Client::new(&sim, f.group_key);
    let filter = encode("user == 'users/5'");
    let found = requests.get(&format!("/cloud/v2/groups/7/join-requests?filter={filter}")).json();
    assert_eq!(paths(&found, "groupJoinRequests"), ["groups/7/join-requests/5"]);
    let filter = encode("user in ['users/5']");
    requests.get(&format!("/cloud/v2/groups/7/join-requests?filter={filter}")).assert_error(400, "INVALID_ARGUMENT");
    assert_spec_clean(&sim);
}

#[test]
fn join_requests_page_by_20_at_most() {
    let (sim, f) = start();
    sim.world_mut(|w| {
        for user in 100..130 {
            w.add_user(user, &format!("user{user}"), "Hopeful");
            w.add_join_request(7, user);
        }
    });
    let client = Client::new(&sim, f.group_key);
    let first = client.get("/cloud/v2/groups/7/join-requests").json();
    assert_eq!(first["groupJoinRequests"].as_array().map(Vec::len), Some(10));
    assert_eq!(first["groupJoinRequests"][0]["user"], "users/5", "oldest first");
    let big = client.get("/cloud/v2/groups/7/join-requests?maxPageSize=50").json();
    assert_eq!(big["groupJoinRequests"].as_array().map(Vec::len), Some(20));
    let token = big["nextPageToken"].as_str().expect("a token");
    let rest = client.get(&format!("/cloud/v2/groups/7/join-requests?maxPageSize=50&pageToken={token}")).json();
    assert_eq!(rest["groupJoinRequests"].as_array().map(Vec::len), Some(11));
    assert_eq!(rest["nextPageToken"], "");
    assert_spec_clean(&sim);
}
