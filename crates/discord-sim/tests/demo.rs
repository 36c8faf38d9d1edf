//! The demo world: what a new user sees, and a tour of every read route checked against the spec.

mod common;

use common::{Client, assert_spec_clean};
use garrison_discord_sim::{ROUTES, Simulator, World};
use serde_json::json;

#[test]
fn the_demo_world_is_usable_and_spec_clean() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    let client = Client::new(&sim, &demo.bot.token);
    let g = demo.guild;

    let guild = client.get(&format!("/guilds/{g}?with_counts=true"));
    assert_eq!(guild.status, 200);
    assert_eq!(guild.json()["name"], "Garrison Demo");
    assert_eq!(guild.json()["premium_subscription_count"], 1);
    let roles = client.get(&format!("/guilds/{g}/roles")).json();
    let booster =
        roles.as_array().expect("roles").iter().find(|r| r["name"] == "Server Booster").expect("booster role");
    assert_eq!(booster["tags"], json!({"premium_subscriber": null}));
    assert_eq!(booster["managed"], true);
    let members = client.get(&format!("/guilds/{g}/members?limit=1000")).json();
    assert_eq!(members.as_array().map(Vec::len), Some(demo.members.len() + 6));
    let booster = client.get(&format!("/guilds/{g}/members/{}", demo.booster)).json();
    assert!(booster["premium_since"].is_string());
    assert_eq!(client.get(&format!("/guilds/{g}/bans/{}", demo.banned)).json()["reason"], "Raiding");
    assert!(client.get(&format!("/guilds/{g}/channels")).json().as_array().is_some_and(|c| c.len() >= 11));
    assert_eq!(client.get(&format!("/guilds/{g}/auto-moderation/rules")).json().as_array().map(Vec::len), Some(2));
    let history = client.get(&format!("/channels/{}/messages?limit=100", demo.general)).json();
    assert_eq!(history.as_array().map(Vec::len), Some(21));
    let announcement = client.get(&format!("/channels/{}/messages", demo.announcements)).json();
    assert_eq!(announcement[0]["embeds"][0]["title"], "Garrison is online");
    let invite = client.get(&format!("/invites/{}?with_counts=true", demo.invite)).json();
    assert_eq!(invite["guild"]["id"], g.to_string());
    assert_eq!(client.get(&format!("/guilds/{g}/preview")).status, 200);
    assert_eq!(client.get(&format!("/channels/{}", demo.staff)).status, 200, "moderators see #staff");
    assert_eq!(client.get(&format!("/channels/{}", demo.voice)).json()["bitrate"], 64_000);
    assert_eq!(client.get(&format!("/channels/{}", demo.forum)).json()["type"], 15);
    assert_eq!(client.get(&format!("/users/{}", demo.owner)).json()["global_name"], "Avery");

    // The bot's place in the hierarchy.
    let member = demo.members[0];
    assert_eq!(client.put(&format!("/guilds/{g}/members/{member}/roles/{}", demo.officer_role)).status, 204);
    client.put(&format!("/guilds/{g}/bans/{}", demo.admin)).assert_error(403, 50013);
    client.put(&format!("/guilds/{g}/bans/{}", demo.moderator)).assert_error(403, 50013);
    client.post(&format!("/channels/{}/messages", demo.mod_log), &json!({"content": "x"})).assert_error(403, 50013);
    let dm = client.post("/users/@me/channels", &json!({"recipient_id": demo.dms_closed.to_string()})).json();
    let dm = dm["id"].as_str().expect("a DM channel").to_owned();
    client.post(&format!("/channels/{dm}/messages"), &json!({"content": "hi"})).assert_error(403, 50007);
    assert_eq!(client.put(&format!("/guilds/{g}/bans/{member}")).status, 204);
    assert_spec_clean(&sim);
}

#[test]
fn every_route_is_in_discords_document() {
    let spec = garrison_discord_sim::spec::spec();
    for (method, route) in ROUTES {
        assert!(spec.has_route(method, route), "{method} {route} is not a Discord route");
    }
}

#[test]
fn starts_inside_another_runtime_and_stops_on_drop() {
    let addr = actix_web::rt::System::new().block_on(async {
        let (world, demo) = World::demo();
        let sim = Simulator::start(world);
        let client = Client::new(&sim, &demo.bot.token);
        assert_eq!(client.get("/users/@me").status, 200);
        sim.addr()
    });
    assert!(std::net::TcpStream::connect(addr).is_err(), "the port is closed once the simulator is dropped");
}
