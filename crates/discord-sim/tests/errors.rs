//! Authentication, membership, Discord's "Unknown ..." codes, and invalid form bodies.

mod common;

use common::{Client, assert_spec_clean, send, start};
use garrison_discord_sim::World;
use serde_json::json;

#[test]
fn missing_or_unknown_tokens_are_401() {
    let (sim, client, f) = start();
    let anonymous = Client::anonymous(&sim);
    let response = anonymous.get("/users/@me");
    assert_eq!(response.status, 401);
    assert_eq!(response.json(), json!({"message": "401: Unauthorized", "code": 0}));

    let forged = Client::new(&sim, "MTIz.forged.token");
    forged.get(&format!("/guilds/{}", f.guild)).assert_error(401, 0);

    let bearer = send(sim.addr(), "GET", "/api/v10/users/@me", &[("Authorization", &f.bot.token)], b"");
    assert_eq!(bearer.status, 401, "a token without the Bot prefix is refused");

    let me = client.get("/users/@me");
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["id"], f.bot.user_id.to_string());
    assert_eq!(me.json()["bot"], true);
    assert_eq!(sim.calls("GET", "/users/@me"), 3);
    assert_spec_clean(&sim);
}

#[test]
fn guilds_the_bot_is_not_in_are_missing_access() {
    let (sim, client, f) = start();
    let other = sim.world(|w| w.add_guild("Elsewhere", f.owner));
    for path in [
        format!("/guilds/{other}"),
        format!("/guilds/{other}/roles"),
        format!("/guilds/{other}/members/{}", f.owner),
        format!("/guilds/{other}/bans"),
        format!("/guilds/{other}/channels"),
    ] {
        client.get(&path).assert_error(403, 50001);
    }
    let hidden = sim.world(|w| w.add_channel(other, 0, "secret", None, 0));
    client.get(&format!("/channels/{hidden}")).assert_error(403, 50001);
    client.get(&format!("/channels/{hidden}/messages")).assert_error(403, 50001);
    assert_eq!(client.get(&format!("/guilds/{other}")).json()["message"], "Missing Access");
    assert_spec_clean(&sim);
}

#[test]
fn unknown_ids_answer_discords_codes() {
    let (sim, client, f) = start();
    let g = f.guild;
    let nobody = 1_000_000_000_000_000u64;
    client.get(&format!("/channels/{nobody}")).assert_error(404, 10003);
    client.get(&format!("/guilds/{nobody}")).assert_error(404, 10004);
    client.get("/invites/no-such-code").assert_error(404, 10006);
    client.get(&format!("/guilds/{g}/members/{nobody}")).assert_error(404, 10007);
    client.get(&format!("/channels/{}/messages/{nobody}", f.text)).assert_error(404, 10008);
    client.get(&format!("/guilds/{g}/roles/{nobody}")).assert_error(404, 10011);
    client.get(&format!("/users/{nobody}")).assert_error(404, 10013);
    client.get(&format!("/webhooks/{nobody}/token/messages/@original")).assert_error(404, 10015);
    client.get(&format!("/guilds/{g}/bans/{nobody}")).assert_error(404, 10026);
    client.delete(&format!("/guilds/{g}/bans/{}", f.member)).assert_error(404, 10026);
    client.put(&format!("/guilds/{g}/bans/{nobody}")).assert_error(404, 10013);
    assert_eq!(client.get(&format!("/guilds/{nobody}")).json()["message"], "Unknown Guild");
    assert_spec_clean(&sim);
}

#[test]
fn malformed_ids_and_bodies_are_invalid_form_bodies() {
    let (sim, client, f) = start();
    let response = client.get("/guilds/not-a-number");
    response.assert_error(400, 50035);
    assert_eq!(response.json()["message"], "Invalid Form Body");
    assert_eq!(response.json()["errors"]["guild_id"]["_errors"][0]["code"], "NUMBER_TYPE_COERCE");

    let too_long = client.patch(&format!("/guilds/{}/members/{}", f.guild, f.member), &json!({"nick": "x".repeat(33)}));
    too_long.assert_error(400, 50035);
    assert_eq!(too_long.json()["errors"]["nick"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");

    let bad_role = client.patch(&format!("/guilds/{}/members/{}", f.guild, f.member), &json!({"roles": ["abc"]}));
    bad_role.assert_error(400, 50035);
    assert!(bad_role.json()["errors"]["roles"]["0"]["_errors"].is_array());

    let wrong_type = client.post(&format!("/guilds/{}/roles", f.guild), &json!({"hoist": "yes"}));
    wrong_type.assert_error(400, 50035);
    assert_eq!(wrong_type.json()["errors"]["hoist"]["_errors"][0]["code"], "BASE_TYPE_BOOLEAN");

    let limit = client.get(&format!("/guilds/{}/members?limit=1001", f.guild));
    limit.assert_error(400, 50035);
    assert_eq!(limit.json()["errors"]["limit"]["_errors"][0]["code"], "NUMBER_TYPE_MAX");

    let ban_window = format!("/guilds/{}/bans/{}", f.guild, f.member);
    let ban = client.request("PUT", &ban_window, Some(&json!({"delete_message_seconds": 604_801})), &[]);
    ban.assert_error(400, 50035);
    assert!(!sim.world(|w| w.is_banned(f.guild, f.member)), "a refused ban changes nothing");

    let addr = sim.addr();
    let auth = format!("Bot {}", f.bot.token);
    let path = format!("/api/v10/channels/{}/messages", f.text);
    let broken = send(addr, "POST", &path, &[("Authorization", &auth), ("Content-Type", "application/json")], b"{");
    broken.assert_error(400, 50109);

    let violations = sim.spec_violations();
    assert!(
        violations.iter().all(|v| v.contains("[request]")),
        "only the deliberately bad requests stray from the spec: {violations:#?}"
    );
}

#[test]
fn unknown_routes_and_methods() {
    let (sim, client, _) = start();
    let response = client.get("/nothing/here");
    assert_eq!(sim.calls("GET", "/api/v10/nothing/here"), 1, "unknown paths are counted by path");
    response.assert_error(404, 0);
    assert_eq!(response.json()["message"], "404: Not Found");
    client.request("POST", "/users/@me", Some(&json!({})), &[]).assert_error(405, 0);
}

#[test]
fn dm_to_a_user_with_dms_closed_is_50007() {
    let mut world = World::new();
    let bot = world.add_bot("Garrison");
    let open = world.add_user("Open");
    let closed = world.add_user("Closed");
    world.set_dms_open(closed, false);
    let sim = garrison_discord_sim::Simulator::start(world);
    let client = Client::new(&sim, &bot.token);

    let dm = client.post("/users/@me/channels", &json!({"recipient_id": open.to_string()}));
    assert_eq!(dm.status, 200);
    assert_eq!(dm.json()["type"], 1);
    assert_eq!(dm.json()["recipients"][0]["id"], open.to_string());
    let channel = dm.json()["id"].as_str().expect("an id").to_owned();
    let again = client.post("/users/@me/channels", &json!({"recipient_id": open.to_string()}));
    assert_eq!(again.json()["id"], channel, "the same DM channel is reused");
    let sent = client.post(&format!("/channels/{channel}/messages"), &json!({"content": "hello"}));
    assert_eq!(sent.status, 200);
    assert_eq!(sent.json()["content"], "hello");

    let closed_dm = client.post("/users/@me/channels", &json!({"recipient_id": closed.to_string()}));
    let closed_channel = closed_dm.json()["id"].as_str().expect("an id").to_owned();
    let refused = client.post(&format!("/channels/{closed_channel}/messages"), &json!({"content": "hello"}));
    refused.assert_error(403, 50007);
    assert_eq!(refused.json()["message"], "Cannot send messages to this user");
    assert!(sim.world(|w| w.messages(closed_channel.parse().expect("an id")).is_empty()));
    assert_spec_clean(&sim);
}
