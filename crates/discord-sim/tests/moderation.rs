//! Bans, kicks, timeouts, nicknames and roles: state changes, permissions and the hierarchy.

mod common;

use common::{Client, assert_spec_clean, start};
use garrison_discord_sim::permissions::*;
use garrison_discord_sim::{AuditAction, Timestamp};
use serde_json::json;

#[test]
fn ban_and_unban_change_state_and_record_the_reason() {
    let (sim, client, f) = start();
    let author = f.member;
    let recent = sim.world(|w| w.add_message(f.text, author, "spam spam"));
    let path = format!("/guilds/{}/bans/{}", f.guild, author);
    let banned = client.request(
        "PUT",
        &path,
        Some(&json!({"delete_message_seconds": 3600})),
        &[("X-Audit-Log-Reason", "spamming%20links%20%E2%80%94%20third%20time")],
    );
    assert_eq!(banned.status, 204, "{:?}", banned.json());
    sim.world(|w| {
        assert!(w.is_banned(f.guild, author));
        assert!(w.member(f.guild, author).is_none(), "a ban removes the membership");
        assert_eq!(w.ban_reason(f.guild, author).as_deref(), Some("spamming links — third time"));
        assert!(w.message(recent).is_none(), "recent messages are deleted");
        let entry = w.audit_log(f.guild).pop().expect("an audit entry");
        assert_eq!((entry.action, entry.target_id, entry.actor_id), (AuditAction::MemberBanAdd, author, f.bot.user_id));
        assert_eq!(entry.reason.as_deref(), Some("spamming links — third time"));
    });
    let ban = client.get(&path);
    assert_eq!(ban.status, 200);
    assert_eq!(ban.json()["user"]["id"], author.to_string());
    assert_eq!(ban.json()["reason"], "spamming links — third time");
    let list = client.get(&format!("/guilds/{}/bans", f.guild));
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));

    assert_eq!(client.delete(&path).status, 204);
    assert!(!sim.world(|w| w.is_banned(f.guild, author)));
    client.get(&path).assert_error(404, 10026);
    assert_spec_clean(&sim);
}

#[test]
fn banning_a_non_member_needs_no_hierarchy_and_keeps_old_messages() {
    let (sim, client, f) = start();
    let old = sim.world(|w| w.add_message(f.text, f.outsider, "hello"));
    assert_eq!(client.put(&format!("/guilds/{}/bans/{}", f.guild, f.outsider)).status, 204);
    sim.world(|w| {
        assert!(w.is_banned(f.guild, f.outsider));
        assert_eq!(w.ban_reason(f.guild, f.outsider), None);
        assert!(w.message(old).is_some(), "delete_message_seconds defaults to 0");
    });
}

#[test]
fn hierarchy_refuses_equal_higher_and_owner() {
    let (sim, client, f) = start();
    for target in [f.senior, f.peer, f.owner] {
        client.put(&format!("/guilds/{}/bans/{target}", f.guild)).assert_error(403, 50013);
        client.delete(&format!("/guilds/{}/members/{target}", f.guild)).assert_error(403, 50013);
        let until = Timestamp::now().plus_ms(60_000).iso();
        client
            .patch(&format!("/guilds/{}/members/{target}", f.guild), &json!({"communication_disabled_until": until}))
            .assert_error(403, 50013);
        client
            .patch(&format!("/guilds/{}/members/{target}", f.guild), &json!({"nick": "renamed"}))
            .assert_error(403, 50013);
    }
    sim.world(|w| {
        assert!(w.member(f.guild, f.senior).is_some() && w.member(f.guild, f.peer).is_some());
        assert!(!w.is_banned(f.guild, f.owner));
        assert!(w.audit_log(f.guild).is_empty(), "refused requests change nothing");
    });
    assert_spec_clean(&sim);
}

#[test]
fn missing_permissions_are_50013() {
    let (sim, client, f) = start();
    // Take the moderation permissions away: the role keeps only MANAGE_NICKNAMES.
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, MANAGE_NICKNAMES));
    let member = format!("/guilds/{}/members/{}", f.guild, f.member);
    client.put(&format!("/guilds/{}/bans/{}", f.guild, f.member)).assert_error(403, 50013);
    client.get(&format!("/guilds/{}/bans", f.guild)).assert_error(403, 50013);
    client.delete(&member).assert_error(403, 50013);
    let until = Timestamp::now().plus_ms(60_000).iso();
    client.patch(&member, &json!({"communication_disabled_until": until})).assert_error(403, 50013);
    client.patch(&member, &json!({"roles": []})).assert_error(403, 50013);
    client.put(&format!("{member}/roles/{}", f.member_role)).assert_error(403, 50013);
    client.post(&format!("/guilds/{}/roles", f.guild), &json!({"name": "x"})).assert_error(403, 50013);
    client.get(&format!("/guilds/{}/auto-moderation/rules", f.guild)).assert_error(403, 50013);
    client.patch(&format!("/guilds/{}/channels", f.guild), &json!([])).assert_error(403, 50013);
    assert_eq!(client.patch(&member, &json!({"nick": "allowed"})).status, 200);
    assert_eq!(client.get(&format!("/guilds/{}/members/{}", f.guild, f.member)).json()["nick"], "allowed");
    let denied = client.get(&format!("/guilds/{}/bans", f.guild));
    assert_eq!(denied.json()["message"], "Missing Permissions");

    // ADMINISTRATOR grants everything (the hierarchy still applies).
    sim.world(|w| w.set_role_permissions(f.guild, f.moderator_role, ADMINISTRATOR));
    assert_eq!(client.get(&format!("/guilds/{}/bans", f.guild)).status, 200);
    client.put(&format!("/guilds/{}/bans/{}", f.guild, f.senior)).assert_error(403, 50013);
    assert_spec_clean(&sim);
}

#[test]
fn kick_and_timeout_change_state() {
    let (sim, client, f) = start();
    let member = format!("/guilds/{}/members/{}", f.guild, f.member);
    let until = Timestamp::now().plus_ms(10 * 60_000);
    let timed_out = client.request(
        "PATCH",
        &member,
        Some(&json!({"communication_disabled_until": until.iso()})),
        &[("X-Audit-Log-Reason", "cool%20off")],
    );
    assert_eq!(timed_out.status, 200);
    assert!(
        timed_out.json()["communication_disabled_until"].as_str().is_some_and(|t| t.starts_with(&until.iso()[..19]))
    );
    sim.world(|w| {
        assert!(w.is_timed_out(f.guild, f.member));
        let entry = w.audit_log(f.guild).pop().expect("an entry");
        assert_eq!((entry.action, entry.reason.as_deref()), (AuditAction::MemberUpdate, Some("cool off")));
    });

    let too_far = Timestamp::now().plus_ms(29 * 24 * 3600 * 1000).iso();
    let refused = client.patch(&member, &json!({"communication_disabled_until": too_far}));
    refused.assert_error(400, 50035);
    assert!(refused.json()["errors"]["communication_disabled_until"]["_errors"].is_array());

    let cleared = client.patch(&member, &json!({"communication_disabled_until": null}));
    assert_eq!(cleared.json()["communication_disabled_until"], serde_json::Value::Null);
    assert!(!sim.world(|w| w.is_timed_out(f.guild, f.member)));

    // An administrator cannot be timed out, even below the bot.
    let admin_role = sim.world(|w| {
        let role = w.add_role(f.guild, "Admin", ADMINISTRATOR, 1);
        w.add_member(f.guild, f.member, &[role]);
        role
    });
    client
        .patch(&member, &json!({"communication_disabled_until": Timestamp::now().plus_ms(60_000).iso()}))
        .assert_error(403, 50013);
    sim.world(|w| w.add_member(f.guild, f.member, &[f.member_role]));
    let _ = admin_role;

    assert_eq!(client.delete(&member).status, 204);
    assert!(sim.world(|w| w.member(f.guild, f.member).is_none()));
    client.delete(&member).assert_error(404, 10007);
    assert_eq!(sim.world(|w| w.audit_log(f.guild).last().map(|e| e.action)), Some(AuditAction::MemberKick));
    assert_spec_clean(&sim);
}

#[test]
fn a_timed_out_bot_keeps_only_viewing() {
    let (sim, client, f) = start();
    sim.world(|w| w.set_timeout(f.guild, f.bot.user_id, Some(Timestamp::now().plus_ms(60_000))));
    client.put(&format!("/guilds/{}/bans/{}", f.guild, f.member)).assert_error(403, 50013);
    client.post(&format!("/channels/{}/messages", f.text), &json!({"content": "hi"})).assert_error(403, 50013);
    assert_eq!(client.get(&format!("/channels/{}/messages", f.text)).status, 200);
}

#[test]
fn member_roles_follow_the_role_hierarchy() {
    let (sim, client, f) = start();
    let member = format!("/guilds/{}/members/{}", f.guild, f.member);
    assert_eq!(
        client
            .request("PUT", &format!("{member}/roles/{}", f.member_role), None, &[("X-Audit-Log-Reason", "promotion")])
            .status,
        204
    );
    let low = sim.world(|w| w.add_role(f.guild, "Low", 0, 1));
    assert_eq!(client.put(&format!("{member}/roles/{low}")).status, 204);
    assert_eq!(sim.world(|w| w.member(f.guild, f.member).map(|m| m.roles)), Some(vec![f.member_role, low]));
    assert_eq!(client.delete(&format!("{member}/roles/{low}")).status, 204);
    assert_eq!(
        sim.world(|w| w.audit_log(f.guild).last().map(|e| (e.action, e.target_id))),
        Some((AuditAction::MemberRoleUpdate, f.member))
    );

    // Roles at or above the bot's highest, and managed roles, cannot be given or taken.
    client.put(&format!("{member}/roles/{}", f.moderator_role)).assert_error(403, 50013);
    client.put(&format!("{member}/roles/{}", f.senior_role)).assert_error(403, 50013);
    let boost = sim.world(|w| {
        let role = w.add_role(f.guild, "Booster", 0, 1);
        w.set_booster_role(f.guild, role);
        role
    });
    client.put(&format!("{member}/roles/{boost}")).assert_error(403, 50013);
    client.patch(&member, &json!({"roles": [boost.to_string()]})).assert_error(403, 50013);
    client.put(&format!("{member}/roles/123")).assert_error(404, 10011);

    // PATCH roles replaces the set.
    let replaced = client.patch(&member, &json!({"roles": [low.to_string()]}));
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.json()["roles"], json!([low.to_string()]));
    assert_spec_clean(&sim);
}

#[test]
fn roles_are_created_edited_moved_and_deleted_below_the_bot() {
    let (sim, client, f) = start();
    let roles = format!("/guilds/{}/roles", f.guild);
    let created = client.request(
        "POST",
        &roles,
        Some(&json!({"name": "Recruit", "color": 0x11_2233, "hoist": true, "permissions": 0})),
        &[("X-Audit-Log-Reason", "new%20intake")],
    );
    assert_eq!(created.status, 200);
    let body = created.json();
    assert_eq!(
        (body["name"].clone(), body["position"].clone(), body["color"].clone()),
        (json!("Recruit"), json!(1), json!(0x11_2233))
    );
    let recruit: u64 = body["id"].as_str().and_then(|s| s.parse().ok()).expect("an id");
    assert_eq!(sim.world(|w| w.role(f.guild, f.member_role).map(|r| r.position)), Some(3), "others shift up");

    // Granting a permission the bot lacks is refused; editing its own level is refused.
    client.patch(&format!("{roles}/{recruit}"), &json!({"permissions": ADMINISTRATOR})).assert_error(403, 50013);
    client.patch(&format!("{roles}/{}", f.moderator_role), &json!({"name": "Mods"})).assert_error(403, 50013);
    let edited = client.patch(&format!("{roles}/{recruit}"), &json!({"name": "Cadet", "permissions": KICK_MEMBERS}));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["permissions"], KICK_MEMBERS.to_string());

    // Bulk positions: move Cadet to Member's place (Member shifts up); the bot may not move anything
    // to its own level or move roles above it.
    let moved = client.patch(&roles, &json!([{"id": recruit.to_string(), "position": 3}]));
    assert_eq!(moved.status, 200);
    let positions: Vec<(String, i64)> = moved
        .json()
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| (r["name"].as_str().unwrap_or_default().to_owned(), r["position"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(
        positions,
        [("@everyone", 0), ("Cadet", 3), ("Member", 4), ("Moderator", 6), ("Senior", 7)]
            .map(|(n, p)| (n.to_owned(), p)),
    );
    client.patch(&roles, &json!([{"id": recruit.to_string(), "position": 6}])).assert_error(403, 50013);
    client.patch(&roles, &json!([{"id": f.senior_role.to_string(), "position": 1}])).assert_error(403, 50013);

    client.delete(&format!("{roles}/{}", f.guild)).assert_error(400, 50028);
    client.delete(&format!("{roles}/{}", f.senior_role)).assert_error(403, 50013);
    sim.world(|w| w.add_member(f.guild, f.member, &[recruit]));
    assert_eq!(client.delete(&format!("{roles}/{recruit}")).status, 204);
    sim.world(|w| {
        assert!(w.role(f.guild, recruit).is_none());
        assert_eq!(w.member(f.guild, f.member).map(|m| m.roles), Some(vec![]), "members lose a deleted role");
        let actions: Vec<AuditAction> = w.audit_log(f.guild).iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [AuditAction::RoleCreate, AuditAction::RoleUpdate, AuditAction::RoleUpdate, AuditAction::RoleDelete]
        );
        assert_eq!(w.audit_log(f.guild)[0].reason.as_deref(), Some("new intake"));
    });
    let single = client.get(&format!("{roles}/{}", f.member_role));
    assert_eq!(single.json()["name"], "Member");
    assert_spec_clean(&sim);

    // Discord (and twilight) send permissions as a decimal string, which the document types as an
    // integer; spec.rs corrects the document (an erratum), so both are accepted without a violation.
    let as_string =
        client.patch(&format!("{roles}/{}", f.member_role), &json!({"permissions": KICK_MEMBERS.to_string()}));
    assert_eq!(as_string.json()["permissions"], KICK_MEMBERS.to_string());
    assert_spec_clean(&sim);
}

#[test]
fn members_page_by_user_id() {
    let (sim, client, f) = start();
    let mut everyone: Vec<u64> = sim.world(|w| {
        for i in 0..7 {
            let user = w.add_user(&format!("user{i}"));
            w.add_member(f.guild, user, &[]);
        }
        w.members(f.guild).iter().map(|m| m.user_id).collect()
    });
    everyone.sort_unstable();
    let ids = |response: &common::Response| -> Vec<u64> {
        response
            .json()
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["user"]["id"].as_str().and_then(|s| s.parse().ok()).expect("an id"))
            .collect()
    };
    let first = client.get(&format!("/guilds/{}/members", f.guild));
    assert_eq!(ids(&first), everyone[..1], "the default limit is 1");
    let page = client.get(&format!("/guilds/{}/members?limit=4", f.guild));
    assert_eq!(ids(&page), everyone[..4]);
    let next = client.get(&format!("/guilds/{}/members?limit=4&after={}", f.guild, everyone[3]));
    assert_eq!(ids(&next), everyone[4..8]);
    let rest = client.get(&format!("/guilds/{}/members?limit=1000&after={}", f.guild, everyone[7]));
    assert_eq!(ids(&rest), everyone[8..]);
    client.get(&format!("/guilds/{}/members?limit=0", f.guild)).assert_error(400, 50035);

    let member = client.get(&format!("/guilds/{}/members/{}", f.guild, f.member)).json();
    assert_eq!(member["roles"], json!([f.member_role.to_string()]));
    assert!(member["joined_at"].as_str().is_some_and(|t| t.ends_with("+00:00")));
    assert_eq!(member["user"]["id"], f.member.to_string());

    sim.world(|w| w.set_members_intent(f.bot.user_id, false));
    client.get(&format!("/guilds/{}/members", f.guild)).assert_error(403, 50001);
    assert_spec_clean(&sim);
}

#[test]
fn the_owner_can_do_anything_to_others() {
    let (sim, _, f) = start();
    let owner_bot = sim.world(|w| {
        let bot = w.add_bot("Owner Bot");
        let guild = w.add_guild("Bot's own", bot.user_id);
        w.add_member(guild, f.member, &[]);
        (bot, guild)
    });
    let (bot, guild) = owner_bot;
    let client = Client::new(&sim, &bot.token);
    assert_eq!(client.put(&format!("/guilds/{guild}/bans/{}", f.member)).status, 204);
    assert_spec_clean(&sim);
}
