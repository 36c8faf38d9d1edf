//! The demo world: what a new user sees, thumbnails served, and the simulator's life cycle.

mod common;

use common::{Client, assert_spec_clean, encode};
use garrison_roblox_sim::{Simulator, World};
use serde_json::json;

#[test]
fn the_demo_world_is_usable_and_spec_clean() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    let g = demo.group;
    let read = Client::new(&sim, &demo.read_key);
    let group = read.get(&format!("/cloud/v2/groups/{g}")).json();
    assert_eq!(group["displayName"], "Garrison Demo Regiment");
    assert_eq!(group["owner"], format!("users/{}", demo.owner));
    assert_eq!(group["memberCount"], 8);
    let roles = read.get(&format!("/cloud/v2/groups/{g}/roles")).json();
    let names: Vec<&str> =
        roles["groupRoles"].as_array().expect("roles").iter().filter_map(|r| r["displayName"].as_str()).collect();
    assert_eq!(names, ["Guest", "Member", "Corporal", "Captain", "Major", "Admin", "Owner"]);
    let requests = read.get(&format!("/cloud/v2/groups/{g}/join-requests")).json();
    assert_eq!(requests["groupJoinRequests"].as_array().map(Vec::len), Some(3));

    // The Major's key ranks below 100, the group's write key anything from 1 to 254.
    let major = Client::new(&sim, &demo.major_key);
    let member = demo.members[0];
    let role = |id: u64| json!({"role": format!("groups/{g}/roles/{id}")});
    let promoted =
        major.post(&format!("/cloud/v2/groups/{g}/memberships/{member}:assignRole"), &role(demo.captain_role));
    assert_eq!(promoted.status, 200);
    major
        .post(&format!("/cloud/v2/groups/{g}/memberships/{member}:assignRole"), &role(demo.major_role))
        .assert_error(403, "PERMISSION_DENIED");
    major
        .post(&format!("/cloud/v2/groups/{g}/memberships/{}:unassignRole", demo.admin), &role(demo.admin_role))
        .assert_error(403, "PERMISSION_DENIED");
    let write = Client::new(&sim, &demo.write_key);
    assert_eq!(write.patch(&format!("/cloud/v2/groups/{g}/memberships/{member}"), &role(demo.admin_role)).status, 200);
    assert_eq!(sim.world(|w| w.member_rank(g, member)), Some(254));
    read.post(&format!("/cloud/v2/groups/{g}/join-requests/{}:accept", demo.applicants[0]), &json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(
        major.post(&format!("/cloud/v2/groups/{g}/join-requests/{}:accept", demo.applicants[0]), &json!({})).status,
        200
    );
    assert_eq!(sim.world(|w| w.member_roles(g, demo.applicants[0])), Some(vec![demo.member_role]));

    let filter = encode(&format!("user == 'users/{}'", demo.major));
    let found = read.get(&format!("/cloud/v2/groups/{g}/memberships?filter={filter}")).json();
    assert_eq!(found["groupMemberships"][0]["role"], format!("groups/{g}/roles/{}", demo.major_role));
    let anonymous = Client::anonymous(&sim);
    let jules = anonymous.get(&format!("/v1/users/{}", demo.applicants[0])).json();
    assert_eq!(jules["description"], "Verify me: garrison-1234");
    let lookup = anonymous
        .post("/v1/usernames/users", &json!({"usernames": ["recruitjules", "BannedBo"], "excludeBannedUsers": true}));
    assert_eq!(lookup.json()["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(anonymous.get(&format!("/v1/users/{}", demo.banned)).json()["isBanned"], true);
    assert_spec_clean(&sim);
}

#[test]
fn generated_thumbnails_are_served_as_images() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &demo.read_key);
    let operation = client.get(&format!("/cloud/v2/users/{}:generateThumbnail?size=48&format=PNG", demo.owner)).json();
    assert_eq!(operation["done"], true);
    assert!(operation["path"].as_str().is_some_and(|p| p.starts_with(&format!("users/{}/operations/", demo.owner))));
    let uri = operation["response"]["imageUri"].as_str().expect("an image URI").to_owned();
    let path = uri.strip_prefix(&sim.base_url()).expect("served by the simulator");
    let image = Client::anonymous(&sim).get(path);
    assert_eq!((image.status, image.header("content-type")), (200, Some("image/png")));
    assert!(image.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let jpeg = client.get(&format!("/cloud/v2/users/{}:generateThumbnail?format=JPEG&shape=SQUARE", demo.owner)).json();
    let uri = jpeg["response"]["imageUri"].as_str().expect("an image URI");
    assert!(uri.ends_with("/420/square.jpeg"), "{uri}");
    let image = Client::anonymous(&sim).get(uri.strip_prefix(&sim.base_url()).expect("ours"));
    assert_eq!(image.header("content-type"), Some("image/jpeg"));
    assert!(image.body.starts_with(&[0xFF, 0xD8]));
    // The custom method's colon may arrive percent-encoded.
    assert_eq!(client.get(&format!("/cloud/v2/users/{}%3AgenerateThumbnail", demo.owner)).status, 200);
    client
        .get(&format!("/cloud/v2/users/{}:generateThumbnail?size=47", demo.owner))
        .assert_error(400, "INVALID_ARGUMENT");
    client
        .get(&format!("/cloud/v2/users/{}:generateThumbnail?shape=OVAL", demo.owner))
        .assert_error(400, "INVALID_ARGUMENT");
    client.get("/cloud/v2/users/1:generateThumbnail").assert_error(404, "NOT_FOUND");
    assert_eq!(Client::anonymous(&sim).get("/sim/thumbnails/1/48/round.png").status, 404);
    assert_eq!(sim.calls("GET", "/cloud/v2/users/{user_id}:generateThumbnail"), 6);
    assert_spec_clean(&sim);
}

#[test]
fn starts_inside_another_runtime_and_stops_on_drop() {
    let addr = actix_web::rt::System::new().block_on(async {
        let (world, demo) = World::demo();
        let sim = Simulator::start(world);
        assert_eq!(Client::new(&sim, &demo.read_key).get(&format!("/cloud/v2/groups/{}", demo.group)).status, 200);
        sim.addr()
    });
    assert!(std::net::TcpStream::connect(addr).is_err(), "the port is closed once the simulator is dropped");
}
