//! The gateway routes (`/api/VoiceChannel/info`, `/api/RoleMembers/role/{roleIds}`) through the real
//! binary against the Discord simulator's gateway: one session per bot and purpose, answers from its
//! live cache, changes seen without reconnecting, and every failure a clear answer.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::expect;
use crate::simulated::Discord;

fn voice_headers(d: &Discord, channel: u64) -> Vec<(&'static str, String)> {
    vec![("bot-token", d.token().to_owned()), ("channel-id", channel.to_string())]
}

fn role_headers(d: &Discord) -> Vec<(&'static str, String)> {
    vec![("discord-token", d.token().to_owned()), ("guild-id", d.demo.guild.to_string())]
}

fn user_ids(body: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = body["connectedUsers"]
        .as_array()
        .expect("connectedUsers")
        .iter()
        .map(|u| u["userId"].as_str().expect("userId").parse().expect("digits"))
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_voice_channel_shows_who_is_connected_live() {
    let d = Discord::start(&[]);
    let lounge = d.demo.voice;
    let info = expect(d.call(Method::GET, "/api/VoiceChannel/info", &voice_headers(&d, lounge), None).await, 200);
    assert_eq!(info.body["channelName"], "Lounge");
    assert_eq!(info.body["connectedUsersCount"], 2);
    assert_eq!(info.body["bitrate"], 64_000);
    assert_eq!(info.body["type"], "voice");
    assert_eq!(info.body["categoryName"], "Voice");
    assert_eq!(info.body["userLimit"], 0);
    let mut expected = vec![d.demo.moderator, d.demo.booster];
    expected.sort_unstable();
    assert_eq!(user_ids(&info.body), expected);
    let booster = info.body["connectedUsers"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["userId"].as_str() == Some(d.demo.booster.to_string().as_str())))
        .expect("the booster");
    assert_eq!((booster["selfMuted"].clone(), booster["muted"].clone()), (json!(true), json!(false)));

    // Someone joins: the next call shows them, over the same session.
    d.sim.world(|w| w.set_voice_state(d.demo.guild, d.demo.admin, Some(lounge)));
    let mut joined = false;
    for _ in 0..50 {
        let info = expect(d.call(Method::GET, "/api/VoiceChannel/info", &voice_headers(&d, lounge), None).await, 200);
        if user_ids(&info.body).contains(&d.demo.admin) {
            joined = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(joined, "the voice change reached the open session");
    assert_eq!(d.sim.gateway_stats().identifies(d.demo.bot.user_id), 1, "one session for every call");

    // Not a voice channel, or unknown: the specification's 404.
    let text =
        expect(d.call(Method::GET, "/api/VoiceChannel/info", &voice_headers(&d, d.demo.general), None).await, 404);
    assert_eq!(text.body, json!({"error": "Voice channel not found"}));
    expect(d.call(Method::GET, "/api/VoiceChannel/info", &voice_headers(&d, 1 << 40), None).await, 404);
    // Bad input names the header; a bad token is a 401 without a gateway session.
    let bad = expect(
        d.call(
            Method::GET,
            "/api/VoiceChannel/info",
            &[("bot-token", d.token().to_owned()), ("channel-id", "x".into())],
            None,
        )
        .await,
        400,
    );
    assert!(bad.error().starts_with("channel-id: "), "{}", bad.error());
    let missing =
        expect(d.call(Method::GET, "/api/VoiceChannel/info", &[("channel-id", lounge.to_string())], None).await, 400);
    assert_eq!(missing.error(), "Missing 'bot-token' header.");
    let unknown = d.sim.world(garrison_discord_sim::World::unknown_bot_token);
    let refused = expect(
        d.call(
            Method::GET,
            "/api/VoiceChannel/info",
            &[("bot-token", unknown), ("channel-id", lounge.to_string())],
            None,
        )
        .await,
        401,
    );
    assert_eq!(refused.error(), "Bot token invalid.");
    d.assert_faithful();
}

#[tokio::test]
async fn role_members_are_grouped_by_role_from_the_whole_member_list() {
    let d = Discord::start(&[]);
    let (officer, member) = (d.demo.officer_role, d.demo.member_role);
    // A guild of 25,000 members: 26 chunks of the whole member list.
    let both = d.sim.world(|w| w.add_generated_members(d.demo.guild, 12_000, &[officer, member]));
    let only_member = d.sim.world(|w| w.add_generated_members(d.demo.guild, 12_975, &[member]));
    let path = format!("/api/RoleMembers/role/{officer},{member}");

    let any = expect(d.call(Method::GET, &path, &role_headers(&d), None).await, 200);
    let groups = any.body["RoleGroups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["RoleId"], officer.to_string(), "the higher role first");
    let count = |group: &Value| group["Members"].as_array().map_or(0, Vec::len);
    let officers = count(&groups[0]);
    assert!(officers >= 12_000, "{officers}");
    let total = any.body["AllMembers"]["TotalMembers"].as_u64().expect("total") as usize;
    assert_eq!(officers + count(&groups[1]), total, "each member once, under their highest role");
    assert!(total >= 24_975);
    let first = &groups[0]["Members"][0];
    assert!(first["UserId"].is_string() && first["Username"].is_string() && first["DisplayName"].is_string());

    let mut with_duplicates = role_headers(&d);
    with_duplicates.push(("duplications", "true".into()));
    let duplicated = expect(d.call(Method::GET, &format!("{path}?mode=any"), &with_duplicates, None).await, 200);
    let groups = duplicated.body["RoleGroups"].as_array().expect("groups");
    assert!(count(&groups[1]) >= both.len() + only_member.len(), "officers are listed as members too");
    assert_eq!(duplicated.body["AllMembers"]["TotalMembers"].as_u64(), Some(total as u64));

    let all = expect(d.call(Method::GET, &format!("{path}?mode=all"), &role_headers(&d), None).await, 200);
    let all_total = all.body["AllMembers"]["TotalMembers"].as_u64().expect("total") as usize;
    assert!(all_total >= both.len() && all_total < total, "{all_total}");
    assert_eq!(d.sim.gateway_stats().identifies(d.demo.bot.user_id), 1);

    // Failures: a bad list, a role of no guild, a bad mode, no GUILD_MEMBERS intent.
    let bad = expect(d.call(Method::GET, "/api/RoleMembers/role/12,x", &role_headers(&d), None).await, 400);
    assert!(bad.error().starts_with("roleIds: "), "{}", bad.error());
    let stranger = 1u64 << 40;
    let unknown =
        expect(d.call(Method::GET, &format!("/api/RoleMembers/role/{stranger}"), &role_headers(&d), None).await, 404);
    assert_eq!(unknown.error(), format!("Role {stranger} is not a role of this guild."));
    let mode = expect(d.call(Method::GET, &format!("{path}?mode=some"), &role_headers(&d), None).await, 400);
    assert!(mode.error().starts_with("mode: "), "{}", mode.error());
    d.assert_faithful();
}

#[tokio::test]
async fn a_bot_without_the_members_intent_is_told_which_intent() {
    let d = Discord::start(&[]);
    d.sim.world(|w| w.set_members_intent(d.demo.bot.user_id, false));
    let path = format!("/api/RoleMembers/role/{}", d.demo.member_role);
    let refused = expect(d.call(Method::GET, &path, &role_headers(&d), None).await, 403);
    assert!(refused.error().contains("GUILD_MEMBERS"), "{}", refused.error());
    // Voice needs no privileged intent.
    expect(d.call(Method::GET, "/api/VoiceChannel/info", &voice_headers(&d, d.demo.voice), None).await, 200);
    d.assert_faithful();
}
