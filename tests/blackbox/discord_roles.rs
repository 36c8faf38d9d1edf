//! The role routes end to end against the Discord simulator: role creation (gradients only where the
//! guild has them, icons fetched from an allowed host), custom booster roles recorded with their owner,
//! the purge of a role's members under Discord-like rate limits, highest roles and role counts.

use std::time::Duration;

use garrison_discord_sim::World;
use garrison_testkit::{FileHost, HostedFile};
use image::{ImageFormat, Rgba, RgbaImage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    harness::{Reply, expect},
    simulated::Discord,
};

struct Setup {
    discord: Discord,
    host: FileHost,
}

impl std::ops::Deref for Setup {
    type Target = Discord;
    fn deref(&self) -> &Discord {
        &self.discord
    }
}

fn png(size: u32) -> Vec<u8> {
    let image = RgbaImage::from_pixel(size, size, Rgba([240, 180, 20, 255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).expect("encode PNG");
    bytes.into_inner()
}

impl Setup {
    fn start() -> Self {
        let host = FileHost::start([
            ("/icon.png", HostedFile { content_type: "image/png", bytes: png(64) }),
            ("/fake.png", HostedFile { content_type: "image/png", bytes: b"<html>not an image</html>".to_vec() }),
        ]);
        let discord =
            Discord::start(&[("GARRISON_FETCH_ALLOW_LOOPBACK", "true"), ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")]);
        Self { discord, host }
    }

    async fn call(&self, method: Method, path: &str, headers: &[(&str, String)]) -> Reply {
        self.discord.call(method, path, headers, None).await
    }

    fn token(&self) -> (&'static str, String) {
        ("Discord-Token", self.demo.bot.token.clone())
    }

    fn role_named(&self, name: &str) -> garrison_discord_sim::RoleView {
        self.sim
            .world(|w| w.roles(self.demo.guild).into_iter().find(|r| r.name == name))
            .unwrap_or_else(|| panic!("no role named {name}"))
    }
}

#[tokio::test]
async fn roles_are_created_with_gradients_only_where_the_guild_has_them() {
    let s = Setup::start();
    let guild = ("Guild-ID", s.demo.guild.to_string());
    let headers = |name: &str| {
        vec![
            s.token(),
            guild.clone(),
            ("Role-Name", name.to_owned()),
            ("Color", "#3498db".to_owned()),
            ("Gradient-Color", "#ff0000,#00ff00".to_owned()),
            ("Hoist", "true".to_owned()),
            ("Permissions", "0".to_owned()),
        ]
    };
    let plain = expect(s.call(Method::POST, "/api/Role/create", &headers("VIP")).await, 200);
    assert_eq!(plain.body["Message"], "Role created successfully.");
    assert_eq!(plain.body["GradientApplied"], false);
    let vip = s.role_named("VIP");
    assert_eq!(plain.body["RoleId"], vip.id.to_string());
    assert_eq!((vip.color, vip.gradient, vip.hoist), (0x3498db, (None, None), true), "the solid colour, no gradient");

    s.sim.world(|w| w.set_guild_features(s.demo.guild, &["ROLE_ICONS", "ENHANCED_ROLE_COLORS"]));
    let mut with_icon = headers("Holo");
    with_icon.push(("Icon-URL", s.host.url("/icon.png")));
    with_icon.push(("Position", "3".to_owned()));
    let gradient = expect(s.call(Method::POST, "/api/Role/create", &with_icon).await, 200);
    assert_eq!(gradient.body["GradientApplied"], true);
    let holo = s.role_named("Holo");
    assert_eq!((holo.color, holo.gradient), (0xff0000, (Some(0x00ff00), None)));
    assert!(holo.icon.is_some(), "the icon was uploaded");
    assert_eq!(holo.position, 3);

    let mut fake_icon = headers("Broken");
    fake_icon.push(("Icon-URL", s.host.url("/fake.png")));
    let refused = expect(s.call(Method::POST, "/api/Role/create", &fake_icon).await, 400);
    assert!(refused.error().starts_with("Icon-URL:"), "{}", refused.error());
    let mut elsewhere = headers("Elsewhere");
    // Any public HTTPS host may serve an icon, but only on port 443 and never a private address.
    for url in ["https://example.com:8443/icon.png", "https://10.0.0.1/icon.png", "https://[::ffff:10.0.0.1]/icon.png"]
    {
        elsewhere.push(("Icon-URL", url.to_owned()));
        let refused = expect(s.call(Method::POST, "/api/Role/create", &elsewhere).await, 400);
        assert!(refused.error().starts_with("Icon-URL:"), "{}", refused.error());
        elsewhere.pop();
    }

    let mut unknown = headers("Nowhere");
    unknown[1].1 = "80351110224678912".into();
    let missing = expect(s.call(Method::POST, "/api/Role/create", &unknown).await, 404);
    assert_eq!(missing.body, json!("Guild not found."));
    let mut bad_color = headers("Bad");
    bad_color[3].1 = "red".into();
    let refused = expect(s.call(Method::POST, "/api/Role/create", &bad_color).await, 400);
    assert!(refused.error().starts_with("Color:"), "{}", refused.error());
    s.assert_faithful();
}

#[tokio::test]
async fn a_booster_gets_one_role_of_their_own_that_only_they_may_change() {
    let s = Setup::start();
    let (guild, booster) = (s.demo.guild, s.demo.booster);
    let path = format!("/api/Role/booster/{guild}/{booster}");
    let created = expect(
        s.call(Method::POST, &path, &[s.token(), ("Role-Name", "Gray's Corner".into()), ("Color", "#5865f2".into())])
            .await,
        200,
    );
    assert_eq!(created.body["message"], "Booster role created successfully");
    let role = created.body["roleId"].as_str().expect("roleId").parse::<u64>().expect("an id");
    let view = s.sim.world(|w| w.role(guild, role)).expect("the role exists");
    let booster_role = s.sim.world(|w| w.role(guild, s.demo.booster_role)).expect("booster role");
    assert_eq!(view.name, "Gray's Corner");
    assert!(view.position > booster_role.position, "placed above the booster role");
    assert!(s.sim.world(|w| w.member(guild, booster)).is_some_and(|m| m.roles.contains(&role)), "given to the booster");

    let again = expect(s.call(Method::POST, &path, &[s.token()]).await, 409);
    assert_eq!(again.body["roleId"], role.to_string());
    let not_booster = format!("/api/Role/booster/{guild}/{}", s.demo.members[1]);
    let refused = expect(s.call(Method::POST, &not_booster, &[s.token()]).await, 403);
    assert_eq!(refused.body, json!({"error": "User is not a server booster"}));

    let role_id = ("Role-ID", role.to_string());
    let stranger = format!("/api/Role/booster/{guild}/{}", s.demo.members[2]);
    let not_owner =
        expect(s.call(Method::PUT, &stranger, &[s.token(), role_id.clone(), ("Role-Name", "Mine".into())]).await, 403);
    assert_eq!(not_owner.body, json!({"error": "You do not own this role"}));
    let updated = expect(
        s.call(Method::PUT, &path, &[s.token(), role_id.clone(), ("Role-Name", "Gray's Den".into())]).await,
        200,
    );
    assert_eq!(updated.body, json!({"message": "Role updated"}));
    assert_eq!(s.sim.world(|w| w.role(guild, role)).map(|r| r.name).as_deref(), Some("Gray's Den"));
    expect(s.call(Method::DELETE, &stranger, &[s.token(), role_id.clone()]).await, 403);

    let deleted = expect(s.call(Method::DELETE, &path, &[s.token(), role_id]).await, 200);
    assert_eq!(deleted.body, json!({"message": "Booster role deleted successfully"}));
    assert!(s.sim.world(|w| w.role(guild, role)).is_none());
    // The record went with it: the booster may create a new one.
    expect(s.call(Method::POST, &path, &[s.token()]).await, 200);
    s.assert_faithful();
}

#[tokio::test]
async fn a_role_position_at_or_above_the_bots_is_refused_before_anything_is_created() {
    let s = Setup::start();
    let guild = s.demo.guild;
    // The bot's highest role is Moderator, at position 7.
    let roles_before = s.sim.world(|w| w.roles(guild).len());
    for position in ["7", "8", "40"] {
        let refused = expect(
            s.call(
                Method::POST,
                "/api/Role/create",
                &[
                    s.token(),
                    ("Guild-ID", guild.to_string()),
                    ("Role-Name", "Too High".into()),
                    ("Position", position.into()),
                ],
            )
            .await,
            403,
        );
        assert!(refused.error().contains("highest role"), "{}", refused.error());
    }
    assert_eq!(s.sim.world(|w| w.roles(guild).len()), roles_before, "no half-made role is left behind");
    assert_eq!(s.sim.calls("POST", "/guilds/{guild_id}/roles"), 0);
    let placed = expect(
        s.call(
            Method::POST,
            "/api/Role/create",
            &[s.token(), ("Guild-ID", guild.to_string()), ("Role-Name", "Just Below".into()), ("Position", "6".into())],
        )
        .await,
        200,
    );
    assert_eq!(placed.body["Message"], "Role created successfully.");
    assert_eq!(s.role_named("Just Below").position, 6);
    s.assert_faithful();
}

#[tokio::test]
async fn a_booster_can_never_give_their_own_role_rights() {
    let s = Setup::start();
    let (guild, booster) = (s.demo.guild, s.demo.booster);
    let path = format!("/api/Role/booster/{guild}/{booster}");
    let created = expect(s.call(Method::POST, &path, &[s.token()]).await, 200);
    let role = created.body["roleId"].as_str().expect("roleId").parse::<u64>().expect("an id");
    let before = s.sim.world(|w| w.role(guild, role)).expect("the role");
    assert_eq!(before.permissions, 0);
    let role_id = ("Role-ID", role.to_string());
    for (name, value) in [("Permissions", "8"), ("Hoist", "true"), ("Mentionable", "true")] {
        let refused =
            expect(s.call(Method::PUT, &path, &[s.token(), role_id.clone(), (name, value.into())]).await, 400);
        assert!(refused.error().starts_with(&format!("{name}:")), "{}", refused.error());
        // Creation refuses them the same way.
        expect(s.call(Method::POST, &path, &[s.token(), (name, value.into())]).await, 400);
    }
    let after = s.sim.world(|w| w.role(guild, role)).expect("the role");
    assert_eq!((after.permissions, after.hoist, after.mentionable), (0, before.hoist, before.mentionable));
    assert_eq!(s.sim.calls("PATCH", "/guilds/{guild_id}/roles/{role_id}"), 0, "Discord was never asked");
    s.assert_faithful();
}

#[tokio::test]
async fn a_booster_edit_that_also_asks_for_rights_changes_nothing_at_all() {
    let s = Setup::start();
    let (guild, booster) = (s.demo.guild, s.demo.booster);
    let path = format!("/api/Role/booster/{guild}/{booster}");
    let created = expect(
        s.call(Method::POST, &path, &[s.token(), ("Role-Name", "Plain".into()), ("Color", "#112233".into())]).await,
        200,
    );
    let role = created.body["roleId"].as_str().expect("roleId").parse::<u64>().expect("an id");
    let before = s.sim.world(|w| w.role(guild, role)).expect("the role");
    // Looks and rights in one edit, as a booster trying to make their role an administrator would.
    let refused = expect(
        s.call(
            Method::PUT,
            &path,
            &[
                s.token(),
                ("Role-ID", role.to_string()),
                ("Role-Name", "Admin Now".into()),
                ("Color", "#ff0000".into()),
                ("Permissions", "8".into()),
                ("Hoist", "true".into()),
                ("Mentionable", "true".into()),
            ],
        )
        .await,
        400,
    );
    assert!(refused.error().starts_with("Permissions:"), "{}", refused.error());
    let after = s.sim.world(|w| w.role(guild, role)).expect("the role");
    assert_eq!(
        (after.permissions, after.hoist, after.mentionable, after.name.as_str(), after.color),
        (0, before.hoist, before.mentionable, "Plain", 0x112233),
        "neither the rights nor the looks changed"
    );
    assert_eq!(s.sim.calls("PATCH", "/guilds/{guild_id}/roles/{role_id}"), 0, "Discord was never asked");
    s.assert_faithful();
}

#[tokio::test]
async fn a_role_a_user_alone_holds_is_theirs_by_assignment_and_recorded_on_first_use() {
    let s = Setup::start();
    let guild = s.demo.guild;
    let [alone, other, third, ..] = s.demo.members[..] else { panic!("demo members") };
    let (legacy, shared, powerful) = s.sim.world(|w| {
        let legacy = w.add_role(guild, "Legacy Booster", 0, 3);
        let shared = w.add_role(guild, "Shared", 0, 3);
        let powerful = w.add_role(guild, "Lone Mod", 1 << 2, 3);
        let held = |w: &World, user: u64| w.member(guild, user).expect("member").roles;
        let mut alone_roles = held(w, alone);
        alone_roles.extend([legacy, shared, powerful]);
        w.add_member(guild, alone, &alone_roles);
        let mut other_roles = held(w, other);
        other_roles.push(shared);
        w.add_member(guild, other, &other_roles);
        (legacy, shared, powerful)
    });
    let path = |user: u64| format!("/api/Role/booster/{guild}/{user}");
    let setup = &s;
    let put = |user: u64, role: u64, name: &str| {
        let headers = vec![setup.token(), ("Role-ID", role.to_string()), ("Role-Name", name.to_owned())];
        let path = path(user);
        async move { setup.call(Method::PUT, &path, &headers).await }
    };
    // Held by two members, or granting rights the holder has nowhere else: nobody's (and not recorded).
    expect(put(alone, shared, "Mine").await, 403);
    expect(put(other, shared, "Mine").await, 403);
    expect(put(alone, powerful, "Mine").await, 403);
    // The managed booster role and @everyone are nobody's either.
    expect(put(s.demo.booster, s.demo.booster_role, "Mine").await, 403);
    expect(put(alone, guild, "Mine").await, 403);
    let names = s.sim.world(|w| [shared, powerful].map(|r| w.role(guild, r).map(|r| r.name)));
    assert_eq!(names, [Some("Shared".to_owned()), Some("Lone Mod".to_owned())]);
    // Held by them alone, plain: theirs (the original service created it; Garrison has no record).
    let renamed = expect(put(alone, legacy, "Renamed").await, 200);
    assert_eq!(renamed.body, json!({"message": "Role updated"}));
    assert_eq!(s.sim.world(|w| w.role(guild, legacy)).map(|r| r.name).as_deref(), Some("Renamed"));
    // Recorded now as theirs: another user's claim is refused.
    let refused = expect(put(third, legacy, "Mine").await, 403);
    assert_eq!(refused.body, json!({"error": "You do not own this role"}));
    // One custom role per user: with one recorded, another they hold alone is not theirs.
    let second = s.sim.world(|w| {
        let role = w.add_role(guild, "Second", 0, 3);
        let mut roles = w.member(guild, alone).expect("member").roles;
        roles.push(role);
        w.add_member(guild, alone, &roles);
        role
    });
    expect(put(alone, second, "Mine").await, 403);
    // The recorded owner may delete it.
    let deleted =
        expect(s.call(Method::DELETE, &path(alone), &[s.token(), ("Role-ID", legacy.to_string())]).await, 200);
    assert_eq!(deleted.body, json!({"message": "Booster role deleted successfully"}));
    assert!(s.sim.world(|w| w.role(guild, legacy)).is_none());
    s.assert_faithful();
}

#[tokio::test]
async fn a_bot_outside_the_guild_learns_nothing_about_booster_roles() {
    let s = Setup::start();
    let (guild, booster) = (s.demo.guild, s.demo.booster);
    let created =
        expect(s.call(Method::POST, &format!("/api/Role/booster/{guild}/{booster}"), &[s.token()]).await, 200);
    let role = created.body["roleId"].as_str().expect("roleId").to_owned();
    let outsider = s.sim.world(|w| w.add_bot("Outsider"));
    let token = ("Discord-Token", outsider.token.clone());
    // The owner's path and role, a stranger's, and a role that is nobody's: one answer for all.
    for (user, role) in
        [(booster, role.clone()), (s.demo.members[0], role.clone()), (booster, s.demo.member_role.to_string())]
    {
        for method in [Method::PUT, Method::DELETE] {
            let reply = expect(
                s.call(
                    method,
                    &format!("/api/Role/booster/{guild}/{user}"),
                    &[token.clone(), ("Role-ID", role.clone())],
                )
                .await,
                403,
            );
            assert_eq!(reply.body, json!({"error": "Bot not member."}));
        }
    }
    assert!(s.sim.world(|w| w.role(guild, role.parse().expect("id"))).is_some(), "nothing was deleted");
    s.assert_faithful();
}

#[tokio::test]
async fn highest_roles_and_role_counts_read_the_members() {
    let s = Setup::start();
    let guild = s.demo.guild;
    let highest = expect(
        s.call(Method::GET, &format!("/api/HighestRole?serverid={guild}&userid={}", s.demo.moderator), &[s.token()])
            .await,
        200,
    );
    assert_eq!(highest.body, json!("Moderator"));
    let count = expect(
        s.call(Method::GET, &format!("/api/GetRoleCount?serverid={guild}&roleid={}", s.demo.member_role), &[s.token()])
            .await,
        200,
    );
    let holders = s.sim.world(|w| w.members(guild).iter().filter(|m| m.roles.contains(&s.demo.member_role)).count());
    assert_eq!(count.body, Value::String(holders.to_string()));
    let unknown = expect(
        s.call(Method::GET, &format!("/api/GetRoleCount?serverid={guild}&roleid=80351110224678912"), &[s.token()])
            .await,
        404,
    );
    assert_eq!(unknown.error(), "Unknown role.");
    s.assert_faithful();
}

#[tokio::test]
async fn a_purge_of_a_thousand_members_under_rate_limits_removes_every_role_without_a_429() {
    let s = Setup::start();
    let guild = s.demo.guild;
    let raffle = s.sim.world(|w| {
        let role = w.add_role(guild, "Raffle", 0, 1);
        for i in 0..1000 {
            let user = w.add_user(&format!("entrant{i}"));
            w.add_member(guild, user, &[role]);
        }
        role
    });
    // Discord-like limits, scaled to a test: 10 role removals per 100 ms per guild, 200 requests a second.
    s.sim.set_rate_limit(
        "DELETE",
        "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        10,
        Duration::from_millis(100),
    );
    s.sim.set_global_rate_limit(Some(200));
    let headers = [("Bot-Token", s.demo.bot.token.clone()), ("Role-Id", raffle.to_string())];
    let mut found = Vec::new();
    loop {
        let reply = expect(s.call(Method::POST, "/api/RoleMemberPurge/purge", &headers).await, 200);
        assert_eq!(reply.body["success"], true);
        found.push(reply.body["totalMembersFound"].as_u64().expect("found"));
        let removed = reply.body["membersRemoved"].as_u64().expect("removed");
        assert!(removed <= 50);
        if removed == 0 {
            break;
        }
    }
    assert_eq!(found.first(), Some(&1000));
    assert_eq!(found.len(), 21, "20 requests of 50, then one that finds none: {found:?}");
    let left = s.sim.world(|w| w.members(guild).iter().filter(|m| m.roles.contains(&raffle)).count());
    assert_eq!(left, 0);
    assert!(s.sim.calls("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}") >= 1000);
    s.assert_faithful();
}
