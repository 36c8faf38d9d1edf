//! The Discord routes, end to end: the real binary talks to the Discord simulator
//! (`garrison-discord-sim`), which enforces what Discord enforces (tokens, membership, permissions,
//! the role hierarchy, rate limits) and checks every request and answer against Discord's OpenAPI
//! document. Each test ends by asserting the simulator saw nothing that document forbids.

use std::time::Duration;

use garrison_discord_sim::{AuditAction, Simulator, World};
use reqwest::Method;
use serde_json::json;

use crate::{
    harness::{Backend, Server, database, expect},
    simulated::Discord,
};

fn with(mut headers: Vec<(&'static str, String)>, name: &'static str, value: &str) -> Vec<(&'static str, String)> {
    headers.push((name, value.to_owned()));
    headers
}

#[tokio::test]
async fn moderation_changes_discord_and_answers_as_the_specification_writes() {
    let s = Discord::start(&[]);
    let (guild, user) = (s.demo.guild, s.demo.members[0]);

    let banned = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(user), None).await, 200);
    assert_eq!(banned.body, json!({"message": "User successfully banned"}));
    assert!(s.sim.world(|w| w.is_banned(guild, user)));
    assert_eq!(s.sim.world(|w| w.ban_reason(guild, user)).as_deref(), Some("Banned via API"));

    let unbanned = expect(s.call(Method::DELETE, "/api/modactions/unban", &s.target(user), None).await, 200);
    assert_eq!(unbanned.body, json!({"message": "User successfully unbanned"}));
    assert!(!s.sim.world(|w| w.is_banned(guild, user)));

    let other = s.demo.members[1];
    let body = json!({"reason": "Spam", "deleteMessageDays": 1});
    let banned =
        expect(s.call(Method::POST, "/api/modactions/ban-with-reason", &s.target(other), Some(body)).await, 200);
    assert_eq!(banned.body, json!({"message": "User successfully banned"}));
    assert_eq!(s.sim.world(|w| w.ban_reason(guild, other)).as_deref(), Some("Spam"));

    let third = s.demo.members[2];
    let kicked = expect(
        s.call(Method::DELETE, "/api/modactions/kick", &with(s.target(third), "reason", "Rule violations"), None).await,
        200,
    );
    assert_eq!(kicked.body, json!({"message": "User successfully kicked"}));
    assert!(s.sim.world(|w| w.member(guild, third)).is_none());
    let kick = s.sim.world(|w| w.audit_log(guild)).into_iter().find(|e| e.target_id == third).expect("audit entry");
    assert_eq!((kick.action, kick.reason.as_deref()), (AuditAction::MemberKick, Some("Rule violations")));

    let fourth = s.demo.members[3];
    let before = std::time::SystemTime::now();
    let applied = expect(
        s.call(Method::POST, "/api/modactions/timeout", &with(s.target(fourth), "duration", "6h"), None).await,
        200,
    );
    assert_eq!(applied.body["message"], "Timeout successfully applied");
    let expires = applied.body["expiresAt"].as_str().expect("expiresAt");
    assert!(expires.ends_with('Z') && expires.len() == 20, "ISO 8601 in UTC: {expires}");
    assert!(s.sim.world(|w| w.is_timed_out(guild, fourth)));
    let until = s.sim.world(|w| w.member(guild, fourth)).and_then(|m| m.communication_disabled_until).expect("until");
    let six_hours = before.duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64 + 6 * 3_600_000;
    assert!((until.unix_ms() - six_hours).abs() < 5_000, "timed out until {until:?}");
    assert_eq!(until.iso()[..19], expires[..19]);

    let removed = expect(s.call(Method::DELETE, "/api/modactions/timeout", &s.target(fourth), None).await, 200);
    assert_eq!(removed.body, json!({"message": "Timeout successfully removed"}));
    assert!(!s.sim.world(|w| w.is_timed_out(guild, fourth)));
    s.assert_faithful();
}

#[tokio::test]
async fn moderation_refusals_name_their_reason_and_change_nothing() {
    let s = Discord::start(&[]);
    let guild = s.demo.guild;
    let user = s.demo.members[0];

    let missing = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(user)[..2], None).await, 400);
    assert_eq!(missing.body, json!({"error": "Missing headers", "missing": ["user-id"]}));
    let malformed = expect(
        s.call(Method::POST, "/api/modactions/ban", &with(s.target(user)[..2].to_vec(), "user-id", "12ab"), None).await,
        400,
    );
    assert!(malformed.error().starts_with("user-id:"), "{}", malformed.error());

    let mut bad_token = s.target(user);
    bad_token[1].1 = "MTIz.not-a.token".into();
    let refused = expect(s.call(Method::POST, "/api/modactions/ban", &bad_token, None).await, 401);
    assert_eq!(refused.body, json!({"error": "Bot token invalid."}));

    // Someone at the bot's own rank (the moderator shares its Moderator role), above it, or the owner.
    let equal = expect(s.call(Method::DELETE, "/api/modactions/kick", &s.target(s.demo.moderator), None).await, 403);
    assert!(equal.error().contains("must be above the target's highest role"), "{}", equal.error());
    let above = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(s.demo.admin), None).await, 403);
    assert!(above.error().contains("(position 7)") && above.error().contains("(position 8)"), "{}", above.error());
    let owner = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(s.demo.owner), None).await, 403);
    assert_eq!(owner.error(), "The server owner cannot be moderated.");

    let too_many_days = expect(
        s.call(Method::POST, "/api/modactions/ban-with-reason", &s.target(user), Some(json!({"deleteMessageDays": 8})))
            .await,
        400,
    );
    assert_eq!(too_many_days.error(), "deleteMessageDays: must be an integer from 0 to 7, got 8");
    let too_long = expect(
        s.call(Method::POST, "/api/modactions/timeout", &with(s.target(user), "duration", "29d"), None).await,
        400,
    );
    assert!(too_long.error().starts_with("duration:"), "{}", too_long.error());
    let unknown_ban = expect(s.call(Method::DELETE, "/api/modactions/unban", &s.target(user), None).await, 404);
    assert_eq!(unknown_ban.error(), "Unknown ban.");
    let stranger = s.sim.world(|w| w.add_user("Stranger"));
    let not_member = expect(s.call(Method::DELETE, "/api/modactions/kick", &s.target(stranger), None).await, 404);
    assert_eq!(not_member.error(), "Unknown member.");

    // Without BAN_MEMBERS on any of its roles, the bot is told which permission it lacks.
    s.sim.world(|w| w.set_role_permissions(guild, s.demo.moderator_role, 1 << 1 /* KICK_MEMBERS */));
    let no_permission = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(user), None).await, 403);
    assert_eq!(no_permission.error(), "Missing permission: the bot needs BAN_MEMBERS.");

    // A guild the bot is not in.
    let elsewhere = s.sim.world(|w| {
        let owner = w.add_user("Elsewhere Owner");
        w.add_guild("Elsewhere", owner)
    });
    let mut foreign = s.target(user);
    foreign[0].1 = elsewhere.to_string();
    let not_in = expect(s.call(Method::POST, "/api/modactions/ban", &foreign, None).await, 403);
    assert_eq!(not_in.body, json!({"error": "Bot not member."}));

    assert!(!s.sim.world(|w| w.is_banned(guild, user) || w.is_banned(guild, s.demo.admin)));
    assert!(s.sim.world(|w| w.member(guild, s.demo.moderator)).is_some());
    s.assert_faithful();
}

#[tokio::test]
async fn an_administrator_cannot_be_timed_out() {
    let s = Discord::start(&[]);
    // The bot is raised above the administrator so only the administrator rule stands in the way.
    s.sim.world(|w| w.add_member(s.demo.guild, s.demo.bot.user_id, &[s.demo.admin_role, s.demo.moderator_role]));
    let target = s.sim.world(|w| {
        let user = w.add_user("Deputy");
        let role = w.add_role(s.demo.guild, "Deputy Admin", 1 << 3, 1);
        w.add_member(s.demo.guild, user, &[role]);
        user
    });
    let refused = expect(
        s.call(Method::POST, "/api/modactions/timeout", &with(s.target(target), "duration", "1h"), None).await,
        403,
    );
    assert_eq!(refused.error(), "Administrators cannot be timed out.");
    assert!(!s.sim.world(|w| w.is_timed_out(s.demo.guild, target)));
    s.assert_faithful();
}

#[tokio::test]
async fn a_token_is_checked_with_discord_once_for_many_requests() {
    let s = Discord::start(&[]);
    for _ in 0..25 {
        expect(
            s.call(
                Method::GET,
                "/api/Account/age",
                &[("Discord-Token", s.token().to_owned()), ("Discord-UserId", s.demo.owner.to_string())],
                None,
            )
            .await,
            200,
        );
    }
    assert_eq!(s.sim.calls("GET", "/users/@me"), 1);
    // An invalid token is remembered too (for an hour): Discord is asked once. (The token is shaped
    // like a bot token: one that cannot be a token is refused without asking Discord at all.)
    let invalid = s.sim.world(|w| w.unknown_bot_token());
    for _ in 0..5 {
        let reply = s
            .call(
                Method::GET,
                "/api/Account/age",
                &[("Discord-Token", invalid.clone()), ("Discord-UserId", "80351110224678912".into())],
                None,
            )
            .await;
        assert_eq!(expect(reply, 401).body, json!({"error": "Bot token invalid."}));
    }
    assert_eq!(s.sim.calls("GET", "/users/@me"), 2);
    s.assert_faithful();
}

#[tokio::test]
async fn discords_rate_limits_are_waited_out_within_the_budget_and_reported_beyond_it() {
    let s = Discord::start(&[("GARRISON_DISCORD_WAIT_BUDGET_MS", "1500")]);
    let ban_route = "/guilds/{guild_id}/bans/{user_id}";
    // One ban per 400 ms: the second request waits (inside the budget) and succeeds.
    s.sim.set_rate_limit("PUT", ban_route, 1, Duration::from_millis(400));
    for user in &s.demo.members[..3] {
        expect(s.call(Method::POST, "/api/modactions/ban", &s.target(*user), None).await, 200);
    }
    // One ban per 30 s: waiting would exceed the budget, so the caller is told when to retry.
    s.sim.set_rate_limit("PUT", ban_route, 1, Duration::from_secs(30));
    expect(s.call(Method::POST, "/api/modactions/ban", &s.target(s.demo.members[4]), None).await, 200);
    let limited = expect(s.call(Method::POST, "/api/modactions/ban", &s.target(s.demo.members[5]), None).await, 429);
    assert!(limited.headers.get("retry-after").is_some(), "Retry-After is set");
    assert!(limited.error().contains("retry"), "{}", limited.error());
    assert!(!s.sim.world(|w| w.is_banned(s.demo.guild, s.demo.members[5])));
    s.assert_faithful();
}

#[tokio::test]
async fn user_and_permission_routes_read_discord() {
    let s = Discord::start(&[]);
    let token = || ("bot-token", s.token().to_owned());
    let guild = ("guild-id", s.demo.guild.to_string());

    let age = expect(
        s.call(
            Method::GET,
            "/api/Account/age",
            &[("Discord-Token", s.token().to_owned()), ("Discord-UserId", s.demo.owner.to_string())],
            None,
        )
        .await,
        200,
    );
    assert!(age.body["days"].as_i64().expect("days") >= 2199, "{}", age.body);
    assert_eq!(age.body["years"], 6);
    let missing =
        expect(s.call(Method::GET, "/api/Account/age", &[("Discord-Token", s.token().to_owned())], None).await, 400);
    assert_eq!(missing.body, json!({"error": "Missing 'Discord-UserId' header."}));

    let compare = expect(
        s.call(
            Method::GET,
            "/api/DiscordPermission/compare",
            &[
                token(),
                guild.clone(),
                ("user-id-1", s.demo.admin.to_string()),
                ("user-id-2", s.demo.moderator.to_string()),
            ],
            None,
        )
        .await,
        200,
    );
    assert_eq!(compare.body["user_1"]["name"], "Administrator");
    assert_eq!(compare.body["user_1"]["role_position"], 8);
    assert_eq!(compare.body["user_2"]["name"], "Moderator");
    assert_eq!(compare.body["comparison"]["user_1_higher"], true);
    let stranger = s.sim.world(|w| w.add_user("Nobody"));
    let unknown = expect(
        s.call(
            Method::GET,
            "/api/DiscordPermission/compare",
            &[token(), guild.clone(), ("user-id-1", stranger.to_string()), ("user-id-2", s.demo.moderator.to_string())],
            None,
        )
        .await,
        404,
    );
    assert_eq!(unknown.body, json!({"error": "User 1 not found on this guild"}));

    let roles = format!("{},{}", s.demo.member_role, s.demo.admin_role);
    let against = expect(
        s.call(
            Method::GET,
            "/api/DiscordPermission/compare-user-roles",
            &[token(), guild.clone(), ("user-id", s.demo.moderator.to_string()), ("role-ids", roles)],
            None,
        )
        .await,
        200,
    );
    assert_eq!(against.body["result"]["overall"], "user-higher-than-some-roles");
    assert_eq!(against.body["result"]["roles"][0]["userHigher"], true);
    assert_eq!(against.body["result"]["roles"][1]["index"], 2);
    assert_eq!(against.body["result"]["roles"][1]["userHigher"], false);

    let info = expect(s.call(Method::GET, "/api/DiscordPermission/guild-info", &[token(), guild], None).await, 200);
    assert_eq!(info.body["id"], s.demo.guild.to_string());
    assert_eq!(info.body["name"], "Garrison Demo");
    assert_eq!(info.body["owner_id"], s.demo.owner.to_string());
    s.assert_faithful();
}

#[tokio::test]
async fn invites_resolve_from_any_link_form() {
    let s = Discord::start(&[]);
    let token = [("Discord-Token", s.token().to_owned())];
    for link in ["https://discord.gg/garrison-demo", "discord.com/invite/garrison-demo", "garrison-demo"] {
        let reply =
            expect(s.call(Method::POST, "/api/Invitation/query", &token, Some(json!({"inviteLink": link}))).await, 200);
        assert_eq!(reply.body["inviteCode"], "garrison-demo");
        assert_eq!(reply.body["guild"]["name"], "Garrison Demo");
        let members = s.sim.world(|w| w.members(s.demo.guild).len());
        assert_eq!(reply.body["approximateMemberCount"], members);
    }
    let invalid = expect(
        s.call(Method::POST, "/api/Invitation/query", &token, Some(json!({"inviteLink": "https://example.com/x"})))
            .await,
        400,
    );
    assert_eq!(invalid.body, json!("Invalid invite link."));
    let unknown = expect(
        s.call(Method::POST, "/api/Invitation/query", &token, Some(json!({"inviteLink": "discord.gg/nope"}))).await,
        404,
    );
    assert_eq!(unknown.error(), "Unknown invite.");
    s.assert_faithful();
}

#[tokio::test]
async fn an_invite_answers_its_guild_channel_inviter_and_counts() {
    let s = Discord::start(&[]);
    s.sim.world(|w| {
        w.set_vanity_url_code(s.demo.guild, Some("garrison"));
        w.set_guild_description(s.demo.guild, Some("Levels, medals and moderation."));
    });
    let token = [("Discord-Token", s.token().to_owned())];
    let reply = expect(
        s.call(Method::POST, "/api/Invitation/query", &token, Some(json!({"inviteLink": "discord.gg/garrison-demo"})))
            .await,
        200,
    );
    let body = &reply.body;
    let icon = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    assert_eq!(
        body["guild"],
        json!({
            "id": s.demo.guild.to_string(),
            "name": "Garrison Demo",
            "icon": icon,
            "iconUrl": format!("https://cdn.discordapp.com/icons/{}/{icon}.png", s.demo.guild),
            "vanityUrlCode": "garrison",
            "vanityUrl": "https://discord.gg/garrison",
            "description": "Levels, medals and moderation.",
        })
    );
    assert_eq!(body["channel"], json!({"id": s.demo.welcome.to_string(), "name": "welcome", "type": 0}));
    assert_eq!(body["inviter"]["id"], s.demo.owner.to_string());
    let owner = s.sim.world(|w| w.user(s.demo.owner)).expect("the owner");
    assert_eq!(body["inviter"]["username"], owner.username);
    assert_eq!(body["inviter"]["bot"], false);
    assert!(body["inviter"]["avatarUrl"].as_str().is_some_and(|u| u.starts_with("https://cdn.discordapp.com/")));
    let (members, online) = s.sim.world(|w| {
        let members = w.members(s.demo.guild);
        let online = members.iter().filter(|m| w.user(m.user_id).is_some_and(|u| u.online)).count();
        (members.len(), online)
    });
    assert_eq!(body["approximateMemberCount"], members);
    assert_eq!(body["approximatePresenceCount"], online);
    assert_eq!(body["expiresAt"], serde_json::Value::Null, "the demo invite never expires");

    // An empty, malformed or wrongly shaped body is an invalid invite, as the specification answers it.
    for raw in ["", "   ", "{", "not json", "[]", "{\"inviteLink\": 5}", "{}"] {
        let reply = s.post_text("/api/Invitation/query", &token, "application/json", raw).await;
        assert_eq!(reply.status, 400, "{raw:?}: {}", reply.body);
        assert_eq!(reply.body, json!("Invalid invite link."), "{raw:?}");
    }
    s.assert_faithful();
}

#[tokio::test]
async fn a_move_without_a_category_changes_only_the_channels_own_position() {
    let s = Discord::start(&[]);
    let token = ("Discord-Token", s.token().to_owned());
    let position = |id: u64| s.sim.world(|w| w.channel(id).map(|c| c.position)).expect("channel");
    let (welcome, general, forum) = (position(s.demo.welcome), position(s.demo.general), position(s.demo.forum));

    // #general's only sibling of its kind in Community is the forum: 5 is clamped to 1.
    let moved = expect(
        s.call(
            Method::POST,
            "/api/channel/move",
            &[token.clone(), ("ChannelId", s.demo.general.to_string()), ("Position", "5".into())],
            None,
        )
        .await,
        200,
    );
    assert_eq!(moved.body, json!({"success": true, "position": 1, "category": "Community"}));
    assert_eq!(position(s.demo.general), 1);
    assert_eq!(position(s.demo.forum), forum, "its sibling keeps its position");
    assert_ne!(general, 1);

    // Without a position either, nothing moves and Discord is not asked to.
    let calls = s.sim.calls("PATCH", "/guilds/{guild_id}/channels");
    let stays = expect(
        s.call(
            Method::POST,
            "/api/channel/move",
            &[token.clone(), ("ChannelId", s.demo.announcements.to_string())],
            None,
        )
        .await,
        200,
    );
    assert_eq!(stays.body["category"], "Information");
    assert_eq!(s.sim.calls("PATCH", "/guilds/{guild_id}/channels"), calls);
    assert_eq!(position(s.demo.welcome), welcome, "#welcome was not renumbered");
    s.assert_faithful();
}

#[tokio::test]
async fn channels_are_described_and_moved() {
    let s = Discord::start(&[]);
    let token = ("Discord-Token", s.token().to_owned());
    let only_token = std::slice::from_ref(&token);
    let path = format!("/api/Channel/GetChannelInfo?guildId={}&channelId={}", s.demo.guild, s.demo.general);
    let info = expect(s.call(Method::GET, &path, only_token, None).await, 200);
    assert_eq!(
        (info.body["id"].as_str(), info.body["name"].as_str(), info.body["type"].as_u64()),
        (Some(s.demo.general.to_string().as_str()), Some("general"), Some(0))
    );
    assert_eq!(info.body["topic"], "Anything goes (within the rules).");
    // The same path in lower case works too, as the original service's did.
    let lower = format!("/api/channel/getchannelinfo?guildId={}&channelId={}", s.demo.guild, s.demo.general);
    expect(s.call(Method::GET, &lower, only_token, None).await, 200);
    let missing = expect(
        s.call(Method::GET, &format!("/api/Channel/GetChannelInfo?guildId={}", s.demo.guild), only_token, None).await,
        400,
    );
    assert_eq!(missing.body, json!("Missing token, guildId, or channelId."));

    // Move #general into Information at index 1: between #welcome and #announcements.
    let [information, ..] = s.demo.categories;
    let moved = expect(
        s.call(
            Method::POST,
            "/api/channel/move",
            &[
                token.clone(),
                ("ChannelId", s.demo.general.to_string()),
                ("TargetCategoryId", information.to_string()),
                ("Position", "1".into()),
            ],
            None,
        )
        .await,
        200,
    );
    assert_eq!(moved.body, json!({"success": true, "position": 1, "category": "Information"}));
    let order: Vec<(String, i32)> = s.sim.world(|w| {
        let mut children: Vec<_> =
            w.channels(s.demo.guild).into_iter().filter(|c| c.parent_id == Some(information)).collect();
        children.sort_by_key(|c| c.position);
        children.into_iter().map(|c| (c.name, c.position)).collect()
    });
    assert_eq!(order, [("welcome".into(), 0), ("general".into(), 1), ("announcements".into(), 2)]);
    assert_eq!(s.sim.calls("PATCH", "/guilds/{guild_id}/channels"), 1, "one positions request");

    let not_category = expect(
        s.call(
            Method::POST,
            "/api/channel/move",
            &[
                token.clone(),
                ("ChannelId", s.demo.general.to_string()),
                ("TargetCategoryId", s.demo.welcome.to_string()),
            ],
            None,
        )
        .await,
        400,
    );
    assert!(not_category.error().contains("not a category"), "{}", not_category.error());

    let category = expect(
        s.call(
            Method::GET,
            "/api/DiscordCategory/info",
            &[("X-Bot-Token", s.token().to_owned()), ("X-Category-Id", information.to_string())],
            None,
        )
        .await,
        200,
    );
    assert_eq!(category.body["categoryName"], "Information");
    assert_eq!(category.body["totalChannels"], 3);
    assert_eq!(category.body["channels"][1]["name"], "general");
    let not_a_category = expect(
        s.call(
            Method::GET,
            "/api/DiscordCategory/info",
            &[("X-Bot-Token", s.token().to_owned()), ("X-Category-Id", s.demo.general.to_string())],
            None,
        )
        .await,
        400,
    );
    assert_eq!(not_a_category.body, json!({"error": "The provided ID is not a category channel"}));
    s.assert_faithful();
}

#[tokio::test]
async fn server_routes_report_boosts_and_automod_once_a_minute() {
    let s = Discord::start(&[]);
    let bot = [("Bot-Token", s.token().to_owned())];
    let perks = expect(
        s.call(Method::GET, &format!("/api/DiscordBooster/guild/{}/additional-perks", s.demo.guild), &bot, None).await,
        200,
    );
    assert_eq!(perks.body["serverTag"]["isActive"], false);
    assert_eq!(perks.body["enhancedRoleStyles"]["isActive"], false);
    s.sim.world(|w| {
        w.set_premium_tier(s.demo.guild, 2);
        w.set_guild_features(s.demo.guild, &["ROLE_ICONS", "ENHANCED_ROLE_COLORS", "GUILD_TAGS"]);
    });
    let perks = expect(
        s.call(Method::GET, &format!("/api/DiscordBooster/guild/{}/additional-perks", s.demo.guild), &bot, None).await,
        200,
    );
    assert_eq!(
        (perks.body["serverTag"]["isActive"].as_bool(), perks.body["enhancedRoleStyles"]["isActive"].as_bool()),
        (Some(true), Some(true))
    );
    let privileges =
        expect(s.call(Method::GET, &format!("/api/DiscordBooster/privileges/{}", s.demo.guild), &bot, None).await, 200);
    for key in ["hasStandard", "hasColor", "hasGradient", "hasIcon"] {
        assert_eq!(privileges.body[key], true, "{key}");
    }

    let token = [("Discord-Token", s.token().to_owned())];
    let rules = expect(s.call(Method::GET, &format!("/api/AutoModRules/{}", s.demo.guild), &token, None).await, 200);
    let keywords = rules.body["keywords"].as_str().expect("keywords");
    assert_eq!(rules.body["total_keywords"], keywords.split(',').count());
    let again = expect(s.call(Method::GET, &format!("/api/AutoModRules/{}", s.demo.guild), &token, None).await, 429);
    assert_eq!(again.body, json!("Rate limit exceeded. Please wait 1 minute."));
    assert!(again.headers.get("retry-after").is_some());
    s.assert_faithful();
}

#[tokio::test]
async fn viscra_server_info_uses_the_servers_own_bot_and_an_api_key() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let url = sim.base_url();
    let server = Server::start_with(
        database(Backend::Sqlite).expect("SQLite"),
        &[("GARRISON_DISCORD_API_URL", &url), ("GARRISON_DISCORD_BOT_TOKEN", &demo.bot.token)],
    );
    let guild = demo.guild.to_string();
    let key = server.create_key(&guild, "dashboard", true);
    let info = expect(server.get(&format!("/api/server/info?serverId={guild}"), &key).await, 200);
    assert_eq!(info.body["id"], guild);
    assert_eq!(info.body["name"], "Garrison Demo");
    assert_eq!(info.body["memberCount"], sim.world(|w| w.members(demo.guild).len()));
    assert!(info.body["iconUrl"].as_str().is_some_and(|u| u.starts_with("https://cdn.discordapp.com/icons/")));
    let other = expect(server.get("/api/server/info?serverId=876543210987654321", &key).await, 403);
    assert!(!other.error().is_empty());
    let anonymous = server.send(Method::GET, &format!("/api/server/info?serverId={guild}"), None, None).await;
    expect(anonymous, 401);
    assert!(sim.spec_violations().is_empty(), "{:#?}", sim.spec_violations());
    assert!(!server.logs().contains(&demo.bot.token));
}

#[tokio::test]
async fn an_unreachable_discord_is_a_502_not_a_hang_or_a_500() {
    // A port nothing listens on: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let url = format!("http://{closed}");
    let server = Server::start_with(database(Backend::Sqlite).expect("SQLite"), &[("GARRISON_DISCORD_API_URL", &url)]);
    // Shaped like a bot token (Discord's documented example), so Garrison tries to reach Discord.
    let token = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
    let reply = server
        .client()
        .post(format!("{}/api/modactions/ban", server.base))
        .header("server-id", "80351110224678912")
        .header("bot-token", token)
        .header("user-id", "80351110224678913")
        .send()
        .await
        .expect("reply");
    let reply = expect(Server::reply(reply).await, 502);
    assert_eq!(reply.body, json!({"error": "Discord is unavailable; try again later."}));
    assert!(!server.logs().contains(token));
}
