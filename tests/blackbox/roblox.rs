//! The Roblox routes against the Roblox simulator (`garrison-roblox-sim`): the server's settings,
//! ranks, promotions and demotions, join requests, verification by profile code, and Roblox's
//! limits and failures. Every test ends with the simulator having seen nothing Roblox's OpenAPI
//! document forbids, and no key in the server's log.

use std::time::Duration;

use garrison_roblox_sim::{Demo, Simulator, World};
use serde_json::{Value, json};

use crate::harness::{Backend, Reply, Server, database, expect, secret};

const SERVER: &str = "123456789012345678";
const OTHER_SERVER: &str = "223456789012345678";

struct Roblox {
    sim: Simulator,
    demo: Demo,
    server: Server,
    /// A read-write API key of `SERVER`.
    key: String,
}

impl Roblox {
    /// The demo world, and a server on `backend` pointed at it (plus `env`), not yet configured.
    fn start_on(backend: Backend, env: &[(&str, &str)]) -> Option<Self> {
        let (world, demo) = World::demo();
        for key in [&demo.write_key, &demo.read_key, &demo.major_key] {
            secret(key);
        }
        let sim = Simulator::start(world);
        let url = sim.base_url();
        let mut all = vec![("GARRISON_ROBLOX_API_URL", url.as_str()), ("GARRISON_ROBLOX_USERS_URL", url.as_str())];
        all.extend_from_slice(env);
        let server = Server::start_with(database(backend)?, &all);
        let key = server.create_key(SERVER, "bot", false);
        Some(Self { sim, demo, server, key })
    }

    fn start(env: &[(&str, &str)]) -> Self {
        Self::start_on(Backend::Sqlite, env).expect("SQLite is always available")
    }

    /// Started and configured with the demo group and its read-write Roblox key.
    async fn configured(env: &[(&str, &str)]) -> Self {
        let r = Self::start(env);
        let key = r.demo.write_key.clone();
        expect(r.put_settings(&key).await, 200);
        r
    }

    async fn put_settings(&self, roblox_key: &str) -> Reply {
        let body = json!({"serverId": SERVER, "groupId": self.demo.group.to_string(), "openCloudKey": roblox_key});
        self.server.put("/api/server/roblox", &self.key, body).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.server.get(path, &self.key).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.server.post(path, &self.key, body).await
    }

    async fn rank(&self, user: u64) -> Reply {
        self.get(&format!("/api/rank?serverId={SERVER}&robloxId={user}")).await
    }

    async fn step(&self, direction: &str, user: u64) -> Reply {
        self.post(&format!("/api/group/{direction}"), json!({"serverId": SERVER, "robloxId": user})).await
    }

    fn assert_faithful(&self) {
        let violations = self.sim.spec_violations();
        assert!(violations.is_empty(), "the simulator saw traffic Roblox's document forbids: {violations:#?}");
        self.server.assert_no_secret_logged();
    }
}

#[tokio::test]
async fn ranks_promotions_and_demotions_follow_the_group() {
    let r = Roblox::configured(&[]).await;
    let d = &r.demo;
    let rank = expect(r.rank(d.captain).await, 200);
    assert_eq!(rank.body, json!({"groupId": d.group, "rankName": "Captain", "rankId": 50}));
    let guest = expect(r.rank(d.outsider).await, 200);
    assert_eq!(guest.body, json!({"groupId": d.group, "rankName": "Guest", "rankId": 0}));

    let promoted = expect(r.step("promote", d.corporal).await, 200);
    assert_eq!(promoted.body, json!({"success": true, "newRole": {"name": "Captain", "rank": 50}}));
    assert_eq!(
        r.sim.world(|w| w.member_roles(d.group, d.corporal)),
        Some(vec![d.captain_role]),
        "instead of, not beside"
    );
    assert_eq!(expect(r.rank(d.corporal).await, 200).body["rankId"], 50, "the cache follows Garrison's own change");
    let demoted = expect(r.step("demote", d.corporal).await, 200);
    assert_eq!(demoted.body["newRole"], json!({"name": "Corporal", "rank": 10}));
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.corporal)), Some(10));

    let top = expect(r.step("promote", d.admin).await, 409);
    assert!(top.error().contains("highest rank that can be given"), "{}", top.error());
    let bottom = expect(r.step("demote", d.members[0]).await, 409);
    assert!(bottom.error().contains("lowest rank"), "{}", bottom.error());
    let owner = expect(r.step("demote", d.owner).await, 409);
    assert!(owner.error().contains("owner"), "{}", owner.error());
    let stranger = expect(r.step("promote", d.outsider).await, 404);
    assert_eq!(stranger.error(), format!("User {} is not a member of group {}.", d.outsider, d.group));
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.owner)), Some(255), "nothing else moved");

    // Bad input names the field; a read-only key and another server's key may not change ranks.
    let bad = expect(r.post("/api/group/promote", json!({"serverId": SERVER, "robloxId": "abc"})).await, 400);
    assert!(bad.error().starts_with("robloxId: "), "{}", bad.error());
    let bad = expect(r.get(&format!("/api/rank?serverId={SERVER}&robloxId=1&groupId=0")).await, 400);
    assert!(bad.error().starts_with("groupId: "), "{}", bad.error());
    let read_only = r.server.create_key(SERVER, "reader", true);
    let body = json!({"serverId": SERVER, "robloxId": d.corporal});
    expect(r.server.post("/api/group/promote", &read_only, body.clone()).await, 403);
    expect(r.server.get(&format!("/api/rank?serverId={SERVER}&robloxId={}", d.captain), &read_only).await, 200);
    let other = r.server.create_key(OTHER_SERVER, "other", false);
    expect(r.server.post("/api/group/promote", &other, body).await, 403);
    r.assert_faithful();
}

#[tokio::test]
async fn a_roblox_users_account_and_headshot_are_looked_up_by_id_or_name() {
    let r = Roblox::start(&[]);
    let by_id = format!("/api/roblox/user?serverId={SERVER}&robloxId={}", r.demo.captain);
    let unconfigured = expect(r.get(&by_id).await, 409);
    assert_eq!(unconfigured.error(), "No Roblox group configured for this server.");
    expect(r.put_settings(&r.demo.read_key.clone()).await, 200);

    let user = expect(r.get(&by_id).await, 200);
    assert_eq!(user.body["robloxId"], r.demo.captain);
    assert_eq!(user.body["username"], "CaptainCasey");
    assert_eq!(user.body["profileUrl"], format!("https://www.roblox.com/users/{}/profile", r.demo.captain));
    assert!(user.body["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", user.body);
    let headshot = user.body["headshotUrl"].as_str().expect("a headshot").to_owned();
    assert!(headshot.contains("/150/"), "the default size is 150: {headshot}");
    let image = r.server.client().get(&headshot).send().await.expect("the headshot loads");
    assert_eq!(image.headers()["content-type"], "image/png");

    let by_name =
        expect(r.get(&format!("/api/roblox/user?serverId={SERVER}&username=captaincasey&size=420")).await, 200);
    assert_eq!(by_name.body["robloxId"], r.demo.captain, "a username in any letter case");
    assert!(by_name.body["headshotUrl"].as_str().is_some_and(|u| u.contains("/420/")), "{}", by_name.body);
    let calls = r.sim.calls("GET", "/cloud/v2/users/{user_id}");
    expect(r.get(&by_id).await, 200);
    assert_eq!(r.sim.calls("GET", "/cloud/v2/users/{user_id}"), calls, "kept ten minutes");

    let missing = expect(r.get(&format!("/api/roblox/user?serverId={SERVER}&robloxId=9")).await, 404);
    assert_eq!(missing.error(), "No Roblox user with id 9.");
    let nameless = expect(r.get(&format!("/api/roblox/user?serverId={SERVER}&username=nobody_here")).await, 404);
    assert_eq!(nameless.error(), "No Roblox user named \"nobody_here\".");
    let size = expect(r.get(&format!("{by_id}&size=64")).await, 400);
    assert!(size.error().starts_with("size: "), "{}", size.error());
    let both = expect(r.get(&format!("{by_id}&username=x")).await, 400);
    assert!(both.error().contains("one of the two"), "{}", both.error());
    let other = r.server.create_key(OTHER_SERVER, "other", true);
    expect(r.server.get(&by_id, &other).await, 403);
    r.assert_faithful();
}

#[tokio::test]
async fn join_requests_are_listed_with_names_then_accepted_or_denied() {
    let r = Roblox::configured(&[]).await;
    let d = &r.demo;
    let list = expect(r.get(&format!("/api/group/join-requests?serverId={SERVER}")).await, 200);
    assert_eq!(list.body["success"], true);
    let data = list.body["data"].as_array().expect("data");
    let ids: Vec<u64> = data.iter().map(|r| r["user"]["userId"].as_u64().expect("userId")).collect();
    assert_eq!(ids, d.applicants, "oldest first");
    let names: Vec<&str> = data.iter().map(|r| r["user"]["displayName"].as_str().expect("name")).collect();
    assert_eq!(names, ["Jules", "Kai", "Noor"]);
    assert!(list.body.get("next").is_none(), "one page: no cursor");

    let first = data[0]["id"].as_str().expect("id").to_owned();
    let accept = json!({"serverId": SERVER, "requestId": first});
    assert_eq!(expect(r.post("/api/group/accept-request", accept.clone()).await, 200).body, json!({"success": true}));
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.applicants[0])), Some(1), "a member with the lowest role");
    let gone = expect(r.post("/api/group/accept-request", accept).await, 404);
    assert_eq!(gone.error(), format!("No pending join request {first} in group {}.", d.group));
    let deny = json!({"serverId": SERVER, "requestId": d.applicants[1], "groupId": d.group});
    expect(r.post("/api/group/deny-request", deny).await, 200);
    assert_eq!(r.sim.world(|w| w.join_requests(d.group)), vec![d.applicants[2]]);
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.applicants[1])), None, "denied: not a member");
    let bad = expect(r.post("/api/group/deny-request", json!({"serverId": SERVER, "requestId": "x"})).await, 400);
    assert!(bad.error().starts_with("requestId: "), "{}", bad.error());
    r.assert_faithful();
}

#[tokio::test]
async fn a_servers_roblox_key_is_checked_sealed_and_never_shown() {
    let r = Roblox::start(&[]);
    let d = &r.demo;
    let none = expect(r.rank(d.captain).await, 409);
    assert_eq!(none.error(), "No Roblox group configured for this server.");
    let settings = expect(r.get(&format!("/api/server/roblox?serverId={SERVER}")).await, 200);
    assert_eq!(settings.body, json!({"serverId": SERVER, "groupId": null, "keySet": false}));

    let unknown = "an-open-cloud-key-roblox-never-issued";
    secret(unknown);
    let refused = expect(r.put_settings(unknown).await, 400);
    assert!(refused.error().starts_with("openCloudKey: Roblox did not accept this key"), "{}", refused.error());
    assert!(!refused.error().contains(unknown));
    let read_only = r.server.create_key(SERVER, "reader", true);
    let body = json!({"serverId": SERVER, "groupId": d.group, "openCloudKey": d.write_key});
    expect(r.server.put("/api/server/roblox", &read_only, body).await, 403);

    let key = d.write_key.clone();
    let set = expect(r.put_settings(&key).await, 200);
    assert_eq!(set.body, json!({"serverId": SERVER, "groupId": d.group, "keySet": true}));
    let shown = expect(r.get(&format!("/api/server/roblox?serverId={SERVER}")).await, 200);
    assert_eq!(shown.body["key"]["status"], "accepted");
    assert_eq!(shown.body["key"]["groupName"], "Garrison Demo Regiment");
    assert_eq!(shown.body["key"]["scopes"], json!(["group:read", "group:write"]));
    let pending = r.sim.world(|w| w.join_requests(d.group));
    assert_eq!(pending, d.applicants, "finding group:write changed nothing");
    assert!(!shown.body.to_string().contains(&key), "the key is never returned");

    // At rest: the key file is the operator's alone, and the database holds no copy of the key.
    let key_file = r.server.dir().join("data/secret.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).expect("key file").permissions());
    assert_eq!(mode & 0o777, 0o600);
    // The database is testkit's file (or a PostgreSQL database, whose pages this cannot read).
    let path = r.server.db.url().strip_prefix("sqlite://").map(str::to_owned);
    let database = path.as_ref().map(|p| std::fs::read(p).expect("the database file")).unwrap_or_default();
    let wal = path.as_ref().and_then(|p| std::fs::read(format!("{p}-wal")).ok()).unwrap_or_default();
    assert!(path.is_none() || !database.is_empty());
    for bytes in [&database, &wal] {
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()), "the key is sealed in the database");
    }

    // Roblox revokes the key: a call that reaches Roblox says so, without the key.
    r.sim.world_mut(|w| w.revoke_api_key(&key));
    let rejected = expect(r.rank(d.major).await, 502);
    assert_eq!(rejected.error(), "The server's Roblox API key was rejected.");
    let shown = expect(r.get(&format!("/api/server/roblox?serverId={SERVER}")).await, 200);
    assert_eq!(shown.body["key"]["status"], "refused");
    r.assert_faithful();
}

#[tokio::test]
async fn a_key_with_too_little_power_is_named_not_hidden() {
    let r = Roblox::start(&[]);
    let d = &r.demo;
    let key = d.read_key.clone();
    expect(r.put_settings(&key).await, 200);
    let shown = expect(r.get(&format!("/api/server/roblox?serverId={SERVER}")).await, 200);
    assert_eq!(shown.body["key"]["scopes"], json!(["group:read"]), "a read key is seen to lack group:write");
    expect(r.rank(d.captain).await, 200);
    let refused = expect(r.step("promote", d.corporal).await, 403);
    assert!(refused.error().contains("group:write"), "{}", refused.error());
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.corporal)), Some(10), "nothing changed");
    // The Major's own key may change ranks below theirs only: Roblox refuses above, in its words.
    let key = d.major_key.clone();
    expect(r.put_settings(&key).await, 200);
    expect(r.step("promote", d.corporal).await, 200);
    let above = expect(r.step("promote", d.captain).await, 403);
    assert!(above.error().starts_with("Roblox refused: "), "{}", above.error());
    assert_eq!(r.sim.world(|w| w.member_rank(d.group, d.captain)), Some(50));
    r.assert_faithful();
}

#[tokio::test]
async fn roblox_limits_failures_and_slowness_become_clear_answers() {
    let r =
        Roblox::configured(&[("GARRISON_ROBLOX_TIMEOUT_MS", "700"), ("GARRISON_ROBLOX_WAIT_BUDGET_MS", "300")]).await;
    let d = &r.demo;
    // Roblox failing or too slow: 502, quickly.
    r.sim.fail_next(1, 503);
    let failed = expect(r.rank(d.corporal).await, 502);
    assert!(failed.error().starts_with("Roblox is unavailable"), "{}", failed.error());
    r.sim.set_latency(Duration::from_secs(3));
    let started = std::time::Instant::now();
    let slow = expect(r.rank(d.members[0]).await, 502);
    assert!(slow.error().contains("did not answer in time"), "{}", slow.error());
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    r.sim.set_latency(Duration::ZERO);
    expect(r.rank(d.members[0]).await, 200);

    // Roblox's 429 that asks for longer than the budget: our 429 with Retry-After, no hammering.
    r.sim.set_rate_limit("Cloud_ListGroupMemberships", 1, Duration::from_secs(60));
    expect(r.rank(d.captain).await, 200);
    let limited = expect(r.rank(d.major).await, 429);
    let retry: u64 = limited.headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let calls = r.sim.calls("GET", "/cloud/v2/groups/{group_id}/memberships");
    expect(r.rank(d.major).await, 429);
    assert_eq!(
        r.sim.calls("GET", "/cloud/v2/groups/{group_id}/memberships"),
        calls,
        "a window Roblox closed stays closed for its reset: no hammering"
    );

    r.assert_faithful();
}

#[tokio::test]
async fn members_are_verified_by_a_phrase_in_their_roblox_profile() {
    let r = Roblox::start(&[]);
    let d = &r.demo;
    let discord = "323456789012345678";
    let unlinked = expect(r.get(&format!("/api/verification?robloxId={}", d.captain)).await, 200);
    assert_eq!(unlinked.body, json!({"isVerified": false, "discordId": null}));

    let body = json!({"serverId": SERVER, "discordId": discord, "username": "captaincasey"});
    let code = expect(r.post("/api/verification/code", body).await, 200);
    let phrase = code.body["code"].as_str().expect("code").to_owned();
    assert_eq!(phrase.split(' ').count(), 6);
    assert_eq!(code.body["robloxId"], d.captain);
    let check = json!({"serverId": SERVER, "discordId": discord});
    let not_yet = expect(r.post("/api/verification/code/check", check.clone()).await, 409);
    assert!(not_yet.error().contains(&phrase), "{}", not_yet.error());

    r.sim.world_mut(|w| w.set_description(d.captain, &format!("Captain of the regiment.\n{phrase}")));
    let linked = expect(r.post("/api/verification/code/check", check.clone()).await, 200);
    assert_eq!(linked.body, json!({"isVerified": true, "robloxId": d.captain}));
    expect(r.post("/api/verification/code/check", check).await, 404);

    let by_roblox = expect(r.get(&format!("/api/verification?robloxId={}&serverId={SERVER}", d.captain)).await, 200);
    assert_eq!(by_roblox.body, json!({"isVerified": true, "discordId": discord}));
    let by_discord = expect(r.get(&format!("/api/verification/discord?discordId={discord}")).await, 200);
    assert_eq!(
        by_discord.body,
        json!({"isVerified": true, "robloxId": d.captain, "username": "CaptainCasey", "method": "profile_code"})
    );
    // Links are global: another server's key sees them, but may not name this server.
    let other = r.server.create_key(OTHER_SERVER, "other", true);
    let seen = expect(r.server.get(&format!("/api/verification?robloxId={}", d.captain), &other).await, 200);
    assert_eq!(seen.body["discordId"], discord);
    expect(r.server.get(&format!("/api/verification?robloxId={}&serverId={SERVER}", d.captain), &other).await, 403);

    let nobody = json!({"serverId": SERVER, "discordId": discord, "username": "no_such_user_here"});
    expect(r.post("/api/verification/code", nobody).await, 404);
    let both = json!({"serverId": SERVER, "discordId": discord, "username": "x", "robloxId": 1});
    expect(r.post("/api/verification/code", both).await, 400);
    r.assert_faithful();
}

#[tokio::test]
async fn settings_hold_on_postgresql_too() {
    let Some(r) = Roblox::start_on(Backend::Postgres, &[]) else {
        garrison_testkit::report_skip("blackbox roblox::settings_hold_on_postgresql_too");
        return;
    };
    let key = r.demo.write_key.clone();
    expect(r.put_settings(&key).await, 200);
    assert_eq!(expect(r.rank(r.demo.captain).await, 200).body["rankName"], "Captain");
    r.assert_faithful();
}

/// A Discord guild (the Discord simulator's demo) and its Roblox group (the Roblox simulator's demo),
/// served by one Garrison with the server's own bot.
struct Both {
    discord: garrison_discord_sim::Simulator,
    guild: garrison_discord_sim::Demo,
    roblox: Simulator,
    group: Demo,
    server: Server,
    key: String,
}

impl Both {
    async fn start() -> Self {
        let (world, guild) = garrison_discord_sim::World::demo();
        secret(&guild.bot.token);
        let discord = garrison_discord_sim::Simulator::start(world);
        let (world, group) = World::demo();
        secret(&group.write_key);
        let roblox = Simulator::start(world);
        let (discord_url, roblox_url) = (discord.base_url(), roblox.base_url());
        let server = Server::start_with(
            database(Backend::Sqlite).expect("SQLite is always available"),
            &[
                ("GARRISON_DISCORD_API_URL", discord_url.as_str()),
                ("GARRISON_DISCORD_BOT_TOKEN", guild.bot.token.as_str()),
                ("GARRISON_ROBLOX_API_URL", roblox_url.as_str()),
                ("GARRISON_ROBLOX_USERS_URL", roblox_url.as_str()),
            ],
        );
        let key = server.create_key(&guild.guild.to_string(), "bot", false);
        let both = Self { discord, guild, roblox, group, server, key };
        let body =
            json!({"serverId": both.server_id(), "groupId": both.group.group, "openCloudKey": both.group.write_key});
        expect(both.server.put("/api/server/roblox", &both.key, body).await, 200);
        both
    }

    fn server_id(&self) -> String {
        self.guild.guild.to_string()
    }

    /// Links Discord `member` to Roblox `account` by the profile-code flow.
    async fn link(&self, member: u64, account: u64) {
        let body = json!({"serverId": self.server_id(), "discordId": member.to_string(), "robloxId": account});
        let code = expect(self.server.post("/api/verification/code", &self.key, body).await, 200);
        let phrase = code.body["code"].as_str().expect("code").to_owned();
        self.roblox.world_mut(|w| w.set_description(account, &phrase));
        let body = json!({"serverId": self.server_id(), "discordId": member.to_string()});
        expect(self.server.post("/api/verification/code/check", &self.key, body).await, 200);
    }

    async fn sync(&self, member: u64) -> Reply {
        let body = json!({"serverId": self.server_id(), "discordId": member.to_string()});
        self.server.post("/api/binds/sync", &self.key, body).await
    }

    fn roles_of(&self, member: u64) -> Vec<u64> {
        let mut roles = self.discord.world(|w| w.member(self.guild.guild, member)).expect("a member").roles;
        roles.sort_unstable();
        roles
    }
}

#[tokio::test]
async fn rank_binds_give_the_roles_of_a_members_rank_and_nothing_else() {
    let b = Both::start().await;
    let (officers, enlisted) = (b.guild.officer_role, b.guild.member_role);
    let member = b.guild.members[0];
    let body = json!({"serverId": b.server_id(), "binds": [
        {"minRank": 50, "maxRank": 254, "roleIds": [officers.to_string()]},
        {"minRank": 1, "maxRank": 49, "roleIds": [enlisted.to_string()]},
    ]});
    let set = expect(b.server.put("/api/binds", &b.key, body).await, 200);
    assert_eq!(set.body["binds"][0], json!({"minRank": 50, "maxRank": 254, "roleIds": [officers.to_string()]}));
    let read = expect(b.server.get(&format!("/api/binds?serverId={}", b.server_id()), &b.key).await, 200);
    assert_eq!(read.body, set.body);

    // Not verified yet: the bound roles they hold go, the others stay.
    let before = b.roles_of(member);
    let unverified = expect(b.sync(member).await, 200);
    assert_eq!(unverified.body["robloxId"], Value::Null);
    let expected_removed: Vec<String> =
        before.iter().filter(|r| [officers, enlisted].contains(r)).map(u64::to_string).collect();
    assert_eq!(unverified.body["removed"], json!(expected_removed));
    assert!(!b.roles_of(member).contains(&enlisted));

    // Verified as the Roblox group's captain (rank 50): the officers' role.
    b.link(member, b.group.captain).await;
    let synced = expect(b.sync(member).await, 200);
    assert_eq!(synced.body["rank"], json!({"groupId": b.group.group, "name": "Captain", "rank": 50}));
    assert_eq!(synced.body["added"], json!([officers.to_string()]));
    assert!(b.roles_of(member).contains(&officers));
    assert_eq!(expect(b.sync(member).await, 200).body["added"], json!([]), "a second sync changes nothing");

    // Demoted in Roblox through Garrison: the next sync swaps the roles.
    let body = json!({"serverId": b.server_id(), "robloxId": b.group.captain});
    expect(b.server.post("/api/group/demote", &b.key, body).await, 200);
    let swapped = expect(b.sync(member).await, 200);
    assert_eq!(
        (&swapped.body["added"], &swapped.body["removed"]),
        (&json!([enlisted.to_string()]), &json!([officers.to_string()]))
    );
    let roles = b.roles_of(member);
    assert!(roles.contains(&enlisted) && !roles.contains(&officers), "{roles:?}");

    // A bind naming a role above the bot's: refused before anything changes.
    let body = json!({"serverId": b.server_id(), "binds": [{"minRank": 1, "maxRank": 255, "roleIds": [b.guild.admin_role.to_string()]}]});
    expect(b.server.put("/api/binds", &b.key, body).await, 200);
    let before = b.roles_of(member);
    let refused = expect(b.sync(member).await, 403);
    assert!(refused.error().contains("not below the bot's highest role"), "{}", refused.error());
    assert_eq!(b.roles_of(member), before);

    // Bad binds and strangers are named.
    let body =
        json!({"serverId": b.server_id(), "binds": [{"minRank": 9, "maxRank": 1, "roleIds": [officers.to_string()]}]});
    let bad = expect(b.server.put("/api/binds", &b.key, body).await, 400);
    assert!(bad.error().starts_with("binds: bind 1: minRank 9 is above maxRank 1"), "{}", bad.error());
    let stranger = expect(b.sync(4_194_304_999).await, 404);
    assert!(stranger.error().contains("not a member of this server"), "{}", stranger.error());
    let violations = b.discord.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
    let violations = b.roblox.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
    b.server.assert_no_secret_logged();
}
