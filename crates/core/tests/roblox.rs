//! The Roblox use cases over a fake Roblox: authorization before any call, ranks and their caches,
//! promotions and demotions, join requests across pages, and the server's settings.

mod fakes;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use fakes::run;
use garrison_core::{
    ApiKeyId, Clock, RobloxUserId, ServerId, Timestamp,
    apikey::Principal,
    roblox::{
        CacheLifetimes, GroupId, GroupRole, JOIN_REQUESTS_MAX, JoinRequestId, JoinRequestPage, KeyCheck, Membership,
        OpenCloudKey, Rank, RobloxAccountInfo, RobloxCloudUsers, RobloxConfig, RobloxConfigs, RobloxError,
        RobloxFuture, RobloxGroups, RobloxLinks, RobloxPorts, RobloxProfile, RobloxService, RobloxServiceError,
        RobloxUser, RobloxUsers, RoleId,
        ranks::Direction,
        signin::{
            self, Identity, OAuthProvider, ProviderError, ProviderFuture, Purpose, SignInError, SignInPorts,
            SignInService, Step,
        },
        verification::{Link, LinkMethod, RobloxAccount, VerificationError, VerificationPorts, VerificationService},
    },
    threads::{InlineThreads, InlineWrites},
};
use garrison_testkit::{ManualClock, MemoryRecords};

const SERVER: ServerId = ServerId::from_discord(fakes::id(1)).expect("a snowflake within i64");
const OTHER_SERVER: ServerId = ServerId::from_discord(fakes::id(2)).expect("a snowflake within i64");
const KEY: &str = "the-servers-open-cloud-key";

fn group() -> GroupId {
    GroupId::new(7).expect("group")
}

fn user(id: i64) -> RobloxUserId {
    RobloxUserId::from_stored(id)
}

/// A small Roblox: one group's roles and members, its join requests, and the calls made.
#[derive(Default)]
struct Roblox {
    roles: Vec<GroupRole>,
    members: BTreeMap<i64, Vec<RoleId>>,
    requests: Vec<i64>,
    calls: Vec<&'static str>,
    /// The next `set_role` fails with this.
    refuse_next: Option<RobloxError>,
    descriptions: BTreeMap<i64, String>,
}

#[derive(Clone, Default)]
struct FakeRoblox(Arc<Mutex<Roblox>>);

impl FakeRoblox {
    fn with<T>(&self, f: impl FnOnce(&mut Roblox) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn calls(&self, name: &str) -> usize {
        self.with(|r| r.calls.iter().filter(|c| **c == name).count())
    }

    fn check(&self, key: &OpenCloudKey, name: &'static str) -> Result<(), RobloxError> {
        self.with(|r| r.calls.push(name));
        if key.expose() == KEY { Ok(()) } else { Err(RobloxError::KeyRejected) }
    }
}

fn role(id: u64, name: &str, rank: u8) -> GroupRole {
    GroupRole { id: RoleId(id), name: name.into(), rank: Rank(rank) }
}

impl RobloxGroups for FakeRoblox {
    fn roles(&self, key: &OpenCloudKey, _group: GroupId) -> RobloxFuture<'_, Vec<GroupRole>> {
        let answer = self.check(key, "roles").map(|()| self.with(|r| r.roles.clone()));
        Box::pin(std::future::ready(answer))
    }

    fn membership(
        &self,
        key: &OpenCloudKey,
        _group: GroupId,
        who: RobloxUserId,
    ) -> RobloxFuture<'_, Option<Membership>> {
        let answer = self.check(key, "membership").map(|()| {
            self.with(|r| r.members.get(&who.get()).map(|roles| Membership { user: who, roles: roles.clone() }))
        });
        Box::pin(std::future::ready(answer))
    }

    fn set_role(&self, key: &OpenCloudKey, _group: GroupId, who: RobloxUserId, role: RoleId) -> RobloxFuture<'_, ()> {
        let answer = self.check(key, "set_role").and_then(|()| {
            self.with(|r| {
                if let Some(e) = r.refuse_next.take() {
                    return Err(e);
                }
                match r.members.get_mut(&who.get()) {
                    Some(roles) => {
                        *roles = vec![role];
                        Ok(())
                    }
                    None => Err(RobloxError::NotFound("group member")),
                }
            })
        });
        Box::pin(std::future::ready(answer))
    }

    fn join_requests(
        &self,
        key: &OpenCloudKey,
        _group: GroupId,
        page: Option<String>,
        max: u8,
    ) -> RobloxFuture<'_, JoinRequestPage> {
        let answer = self.check(key, "join_requests").map(|()| {
            self.with(|r| {
                let start: usize = page.and_then(|p| p.parse().ok()).unwrap_or(0);
                let end = (start + usize::from(max)).min(r.requests.len());
                JoinRequestPage {
                    requests: r.requests[start..end].iter().map(|id| (id.to_string(), user(*id))).collect(),
                    next: (end < r.requests.len()).then(|| end.to_string()),
                }
            })
        });
        Box::pin(std::future::ready(answer))
    }

    fn accept_join_request(&self, key: &OpenCloudKey, _group: GroupId, request: JoinRequestId) -> RobloxFuture<'_, ()> {
        let answer = self.check(key, "accept").and_then(|()| {
            self.with(|r| {
                let id = i64::try_from(request.get()).unwrap_or(0);
                let at = r.requests.iter().position(|u| *u == id).ok_or(RobloxError::NotFound("join request"))?;
                r.requests.remove(at);
                r.members.insert(id, vec![RoleId(2)]);
                Ok(())
            })
        });
        Box::pin(std::future::ready(answer))
    }

    fn decline_join_request(
        &self,
        key: &OpenCloudKey,
        _group: GroupId,
        request: JoinRequestId,
    ) -> RobloxFuture<'_, ()> {
        let answer = self.check(key, "decline").and_then(|()| {
            self.with(|r| {
                let id = i64::try_from(request.get()).unwrap_or(0);
                let at = r.requests.iter().position(|u| *u == id).ok_or(RobloxError::NotFound("join request"))?;
                r.requests.remove(at);
                Ok(())
            })
        });
        Box::pin(std::future::ready(answer))
    }

    fn group_name(&self, key: &OpenCloudKey, _group: GroupId) -> RobloxFuture<'_, String> {
        Box::pin(std::future::ready(self.check(key, "group").map(|()| "Fan Club".to_owned())))
    }
}

fn account(id: RobloxUserId) -> RobloxUser {
    RobloxUser { id, name: format!("user{id}"), display_name: format!("User {id}") }
}

/// Users 1 to 9999 exist; a user's profile text is what the test set.
impl RobloxUsers for FakeRoblox {
    fn users(&self, users: &[RobloxUserId]) -> RobloxFuture<'_, Vec<RobloxUser>> {
        self.with(|r| r.calls.push("users"));
        assert!(users.len() <= 100, "one look-up names at most 100 users");
        let found = users.iter().filter(|u| u.get() < 10_000).map(|u| account(*u)).collect();
        Box::pin(std::future::ready(Ok(found)))
    }

    fn by_username(&self, name: &str) -> RobloxFuture<'_, Option<RobloxUser>> {
        let found = name
            .to_ascii_lowercase()
            .strip_prefix("user")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| (1..10_000).contains(id))
            .map(|id| account(user(id)));
        Box::pin(std::future::ready(Ok(found)))
    }

    fn profile(&self, who: RobloxUserId) -> RobloxFuture<'_, Option<RobloxProfile>> {
        self.with(|r| r.calls.push("profile"));
        let found = (who.get() < 10_000).then(|| RobloxProfile {
            user: account(who),
            description: self.with(|r| r.descriptions.get(&who.get()).cloned().unwrap_or_default()),
        });
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// Open Cloud's users: the same users 1 to 9999; user 9000 has no headshot yet.
impl RobloxCloudUsers for FakeRoblox {
    fn account(&self, key: &OpenCloudKey, who: RobloxUserId) -> RobloxFuture<'_, Option<RobloxAccountInfo>> {
        let answer = self.check(key, "account").map(|()| {
            (who.get() < 10_000).then(|| RobloxAccountInfo {
                user: account(who),
                about: format!("About {who}"),
                created: Some(Timestamp::from_millis(1_000)),
                premium: false,
            })
        });
        Box::pin(std::future::ready(answer))
    }

    fn headshot(&self, key: &OpenCloudKey, who: RobloxUserId, size: u16) -> RobloxFuture<'_, Option<String>> {
        let answer = self.check(key, "headshot").and_then(|()| match who.get() {
            9000 => Ok(None),
            id if id < 10_000 => Ok(Some(format!("https://tr.example/{id}/{size}.png"))),
            _ => Err(RobloxError::NotFound("user")),
        });
        Box::pin(std::future::ready(answer))
    }
}

struct Setup {
    service: RobloxService,
    roblox: FakeRoblox,
    clock: Arc<ManualClock>,
    records: Arc<MemoryRecords>,
}

fn principal(server: ServerId, read_only: bool) -> Principal {
    Principal { key_id: ApiKeyId(1), server, name: "bot".into(), read_only }
}

fn setup() -> Setup {
    let roblox = FakeRoblox::default();
    roblox.with(|r| {
        r.roles = vec![
            role(1, "Guest", 0),
            role(2, "Member", 1),
            role(3, "Corporal", 10),
            role(4, "Captain", 50),
            role(5, "Admin", 254),
            role(6, "Owner", 255),
        ];
        r.members.insert(100, vec![RoleId(3)]);
        r.members.insert(101, vec![RoleId(5)]);
        r.members.insert(102, vec![RoleId(2)]);
        r.members.insert(103, vec![RoleId(6)]);
        r.members.insert(104, vec![RoleId(2), RoleId(4)]);
    });
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(1_700_000_000_000)));
    let records = Arc::new(MemoryRecords::default());
    let config = RobloxConfig { group: group(), key: OpenCloudKey::parse("key", KEY).expect("key") };
    records.set(SERVER, &config, Timestamp(0)).expect("configured");
    let service = RobloxService::new(
        RobloxPorts {
            configs: records.clone(),
            groups: Arc::new(roblox.clone()),
            users: Arc::new(roblox.clone()),
            accounts: Arc::new(roblox.clone()),
            threads: Arc::new(InlineThreads),
            writer: Arc::new(InlineWrites),
            clock: clock.clone(),
            outbox: garrison_testkit::outbox(records.clone()),
        },
        CacheLifetimes::default(),
    );
    Setup { service, roblox, clock, records }
}

fn rank_of(s: &Setup, who: i64) -> (String, u8) {
    let (_, role) = run(s.service.rank(&principal(SERVER, true), SERVER, None, user(who))).expect("rank");
    (role.name, role.rank.0)
}

#[test]
fn keys_act_only_on_their_server_before_roblox_is_asked() {
    let s = setup();
    let err = run(s.service.rank(&principal(OTHER_SERVER, false), SERVER, None, user(100))).expect_err("other server");
    assert!(matches!(err, RobloxServiceError::Core(garrison_core::Error::Forbidden(_))), "{err}");
    let err =
        run(s.service.step(&principal(SERVER, true), SERVER, None, user(100), Direction::Up)).expect_err("read-only");
    assert!(matches!(err, RobloxServiceError::Core(garrison_core::Error::Forbidden(_))), "{err}");
    let err =
        run(s.service.rank(&principal(OTHER_SERVER, false), OTHER_SERVER, None, user(100))).expect_err("unconfigured");
    assert_eq!(err.to_string(), "No Roblox group configured for this server.");
    assert_eq!(s.roblox.with(|r| r.calls.len()), 0, "nothing reached Roblox");
}

#[test]
fn a_rank_is_the_highest_role_held_or_guest_and_is_cached_for_a_minute() {
    let s = setup();
    assert_eq!(rank_of(&s, 100), ("Corporal".into(), 10));
    assert_eq!(rank_of(&s, 104), ("Captain".into(), 50), "the highest of two roles");
    assert_eq!(rank_of(&s, 999), ("Guest".into(), 0), "not a member");
    assert_eq!((s.roblox.calls("roles"), s.roblox.calls("membership")), (1, 3));
    // Roblox changes; the cached answer stands for 60 s, then the new one is read.
    s.roblox.with(|r| r.members.insert(100, vec![RoleId(4)]));
    s.clock.advance_millis(59_000);
    assert_eq!(rank_of(&s, 100), ("Corporal".into(), 10));
    s.clock.advance_millis(1_000);
    assert_eq!(rank_of(&s, 100), ("Captain".into(), 50));
    assert_eq!(s.roblox.calls("roles"), 1, "roles are kept five minutes");
    s.clock.advance_millis(5 * 60_000);
    rank_of(&s, 100);
    assert_eq!(s.roblox.calls("roles"), 2);
}

#[test]
fn a_users_account_and_headshot_are_read_with_the_servers_key_and_kept_ten_minutes() {
    let s = setup();
    let read = principal(SERVER, true);
    let view = run(s.service.user(&read, SERVER, RobloxAccount::Id(user(100)), 150)).expect("user");
    assert_eq!((view.account.user.name.as_str(), view.account.about.as_str()), ("user100", "About 100"));
    assert_eq!(view.headshot.as_deref(), Some("https://tr.example/100/150.png"));
    let by_name = run(s.service.user(&read, SERVER, RobloxAccount::Username("USER100".into()), 150)).expect("name");
    assert_eq!(by_name, view, "a username names the same account");
    assert_eq!((s.roblox.calls("account"), s.roblox.calls("headshot")), (1, 1), "the second answer was kept");
    let bigger = run(s.service.user(&read, SERVER, RobloxAccount::Id(user(100)), 420)).expect("user");
    assert_eq!(bigger.headshot.as_deref(), Some("https://tr.example/100/420.png"));
    assert_eq!((s.roblox.calls("account"), s.roblox.calls("headshot")), (1, 2), "each size is its own picture");
    s.clock.advance_millis(10 * 60_000);
    run(s.service.user(&read, SERVER, RobloxAccount::Id(user(100)), 150)).expect("user");
    assert_eq!(s.roblox.calls("account"), 2, "read again after ten minutes");

    let pending = run(s.service.user(&read, SERVER, RobloxAccount::Id(user(9000)), 150)).expect("user");
    assert_eq!(pending.headshot, None, "a headshot still being made is not an error");
    let calls = s.roblox.calls("headshot");
    run(s.service.user(&read, SERVER, RobloxAccount::Id(user(9000)), 150)).expect("user");
    assert_eq!(s.roblox.calls("headshot"), calls + 1, "and is asked for again");

    let missing = run(s.service.user(&read, SERVER, RobloxAccount::Id(user(20_000)), 150)).expect_err("missing");
    assert_eq!(missing.to_string(), "No Roblox user with id 20000.");
    let nameless =
        run(s.service.user(&read, SERVER, RobloxAccount::Username("nobody".into()), 150)).expect_err("no name");
    assert_eq!(nameless.to_string(), "No Roblox user named \"nobody\".");
    let size = run(s.service.user(&read, SERVER, RobloxAccount::Id(user(100)), 64)).expect_err("size");
    assert!(size.to_string().contains("size"), "{size}");
    let calls = s.roblox.with(|r| r.calls.len());
    let other = run(s.service.user(&principal(OTHER_SERVER, true), SERVER, RobloxAccount::Id(user(100)), 150));
    assert!(matches!(other, Err(RobloxServiceError::Core(garrison_core::Error::Forbidden(_)))));
    assert_eq!(s.roblox.with(|r| r.calls.len()), calls, "another server's key reaches nothing");
}

#[test]
fn promotions_and_demotions_move_one_assignable_role_and_update_the_cache() {
    let s = setup();
    let write = principal(SERVER, false);
    assert_eq!(rank_of(&s, 100), ("Corporal".into(), 10));
    let change = run(s.service.step(&write, SERVER, None, user(100), Direction::Up)).expect("promoted");
    assert_eq!((change.role.name.as_str(), change.role.rank.0, change.group), ("Captain", 50, group()));
    assert_eq!(s.roblox.with(|r| r.members[&100].clone()), vec![RoleId(4)], "held instead of the old role");
    let calls = s.roblox.calls("membership");
    assert_eq!(rank_of(&s, 100), ("Captain".into(), 50), "the cache knows at once");
    assert_eq!(s.roblox.calls("membership"), calls, "without asking Roblox");
    let change = run(s.service.step(&write, SERVER, None, user(100), Direction::Down)).expect("demoted");
    assert_eq!(change.role.rank.0, 10);

    let top = run(s.service.step(&write, SERVER, None, user(101), Direction::Up)).expect_err("top");
    assert_eq!(top.to_string(), "User 101 already holds the highest rank that can be given in group 7 (Admin, 254).");
    let bottom = run(s.service.step(&write, SERVER, None, user(102), Direction::Down)).expect_err("bottom");
    assert!(matches!(bottom, RobloxServiceError::AtBottom { rank: 1, .. }), "{bottom}");
    let owner = run(s.service.step(&write, SERVER, None, user(103), Direction::Down)).expect_err("owner");
    assert!(matches!(owner, RobloxServiceError::Owner { .. }), "{owner}");
    let stranger = run(s.service.step(&write, SERVER, None, user(999), Direction::Up)).expect_err("not a member");
    assert_eq!(stranger.to_string(), "User 999 is not a member of group 7.");
    assert_eq!(s.roblox.calls("set_role"), 2, "refusals are decided before Roblox is asked to change anything");
}

#[test]
fn a_promotion_sends_rank_changed_and_a_refusal_sends_nothing() {
    let s = setup();
    s.records.subscribe_all(SERVER);
    let write = principal(SERVER, false);
    run(s.service.step(&write, SERVER, None, user(100), Direction::Up)).expect("promoted");
    run(s.service.step(&write, SERVER, None, user(101), Direction::Up)).expect_err("top");
    let events = s.records.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event: serde_json::Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(event["type"], "rank.changed");
    assert_eq!(
        event["data"],
        serde_json::json!({"serverId": SERVER.to_string(), "robloxId": "100", "groupId": "7", "direction": "promote",
            "from": {"id": "3", "name": "Corporal", "rank": 10}, "to": {"id": "4", "name": "Captain", "rank": 50}})
    );
}

#[test]
fn a_change_roblox_refuses_leaves_the_cache_as_it_was() {
    let s = setup();
    assert_eq!(rank_of(&s, 100), ("Corporal".into(), 10));
    s.roblox.with(|r| r.refuse_next = Some(RobloxError::MissingScope { scope: "group:write" }));
    let err =
        run(s.service.step(&principal(SERVER, false), SERVER, None, user(100), Direction::Up)).expect_err("refused");
    assert!(matches!(err, RobloxServiceError::Roblox(RobloxError::MissingScope { scope: "group:write" })), "{err}");
    assert_eq!(rank_of(&s, 100), ("Corporal".into(), 10));
}

#[test]
fn join_requests_follow_pages_up_to_the_cap_and_name_their_users() {
    let s = setup();
    s.roblox.with(|r| r.requests = (1_000..1_000 + 130).collect());
    let read = principal(SERVER, true);
    let first = run(s.service.join_requests(&read, SERVER, None, None)).expect("first");
    assert_eq!(first.requests.len(), JOIN_REQUESTS_MAX);
    assert_eq!(first.requests[0].display_name, "User 1000");
    assert_eq!(first.requests[0].id, "1000");
    let rest = run(s.service.join_requests(&read, SERVER, None, first.next.clone())).expect("rest");
    assert_eq!(rest.requests.len(), 30);
    assert_eq!(rest.next, None);
    let mut all: Vec<i64> = first.requests.iter().chain(&rest.requests).map(|r| r.user.get()).collect();
    all.dedup();
    assert_eq!(all, (1_000..1_130).collect::<Vec<_>>(), "every request once, in order");
    let err = run(s.service.join_requests(&read, SERVER, None, Some("bad cursor".into()))).expect_err("cursor");
    assert!(err.to_string().starts_with("cursor: "), "{err}");
}

#[test]
fn join_requests_are_accepted_or_declined_once() {
    let s = setup();
    s.roblox.with(|r| r.requests = vec![500, 501]);
    let write = principal(SERVER, false);
    let id = |n: i64| JoinRequestId::parse("requestId", &n.to_string()).expect("id");
    assert_eq!(rank_of(&s, 500), ("Guest".into(), 0));
    run(s.service.answer_join_request(&write, SERVER, None, id(500), true)).expect("accepted");
    assert_eq!(rank_of(&s, 500), ("Member".into(), 1), "an accepted user's guest rank is forgotten");
    run(s.service.answer_join_request(&write, SERVER, None, id(501), false)).expect("declined");
    let again = run(s.service.answer_join_request(&write, SERVER, None, id(501), true)).expect_err("gone");
    assert_eq!(again.to_string(), "No pending join request 501 in group 7.");
    let read_only = run(s.service.answer_join_request(&principal(SERVER, true), SERVER, None, id(500), true));
    assert!(matches!(read_only, Err(RobloxServiceError::Core(garrison_core::Error::Forbidden(_)))));
}

#[test]
fn settings_are_kept_only_after_roblox_accepts_the_key() {
    let s = setup();
    let write = principal(OTHER_SERVER, false);
    let bad =
        RobloxConfig { group: group(), key: OpenCloudKey::parse("key", "a-key-roblox-does-not-know").expect("key") };
    let err = run(s.service.configure(&write, OTHER_SERVER, bad)).expect_err("rejected");
    assert!(matches!(err, RobloxServiceError::KeyNotAccepted { .. }), "{err}");
    assert!(!err.to_string().contains("a-key-roblox"), "never the key: {err}");
    assert_eq!(s.records.get(OTHER_SERVER).expect("get"), None);
    let view = run(s.service.view(&principal(OTHER_SERVER, true), OTHER_SERVER)).expect("view");
    assert_eq!((view.group, view.key), (None, None));

    let good = RobloxConfig { group: group(), key: OpenCloudKey::parse("key", KEY).expect("key") };
    run(s.service.configure(&write, OTHER_SERVER, good.clone())).expect("configured");
    assert_eq!(s.records.get(OTHER_SERVER).expect("get"), Some(good));
    let view = run(s.service.view(&principal(OTHER_SERVER, true), OTHER_SERVER)).expect("view");
    assert_eq!(view.group, Some(group()));
    assert_eq!(
        view.key,
        Some(KeyCheck::Accepted { group_name: "Fan Club".into(), read_join_requests: true, write: Some(true) })
    );
    let read_only = run(s.service.configure(
        &principal(OTHER_SERVER, true),
        OTHER_SERVER,
        RobloxConfig { group: group(), key: OpenCloudKey::parse("key", KEY).expect("key") },
    ));
    assert!(matches!(read_only, Err(RobloxServiceError::Core(garrison_core::Error::Forbidden(_)))));
}

struct FixedEntropy;

impl garrison_core::entropy::Entropy for FixedEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), garrison_core::entropy::EntropyError> {
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Ok(())
    }
}

fn verification(s: &Setup) -> VerificationService {
    VerificationService::new(VerificationPorts {
        links: s.records.clone(),
        users: Arc::new(s.roblox.clone()),
        threads: Arc::new(InlineThreads),
        writer: Arc::new(InlineWrites),
        clock: s.clock.clone(),
        entropy: Arc::new(FixedEntropy),
        outbox: garrison_testkit::outbox(s.records.clone()),
    })
}

#[test]
fn a_profile_code_links_once_the_profile_shows_it() {
    let s = setup();
    let v = verification(&s);
    let write = principal(SERVER, false);
    let member = fakes::id(50);
    let challenge =
        run(v.start_code(&write, SERVER, member, RobloxAccount::Username("User42".into()))).expect("challenge");
    assert_eq!(challenge.roblox, user(42));
    assert_eq!(challenge.phrase.split(' ').count(), 6);
    assert_eq!(challenge.expires_at.millis() - s.clock.now().millis(), 15 * 60_000);
    let missing = run(v.check_code(&write, SERVER, member)).expect_err("not in the profile yet");
    assert!(matches!(missing, VerificationError::PhraseNotFound { .. }), "{missing}");
    s.roblox.with(|r| r.descriptions.insert(42, format!("hello! {} bye", challenge.phrase.to_uppercase())));
    s.records.subscribe_all(SERVER);
    let link = run(v.check_code(&write, SERVER, member)).expect("linked");
    assert_eq!((link.roblox, link.method, link.server), (user(42), LinkMethod::ProfileCode, Some(SERVER)));
    let events = s.records.events();
    assert_eq!(events.len(), 1, "the failed check sent nothing");
    let event: serde_json::Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(
        (event["type"].as_str(), event["data"]["method"].as_str()),
        (Some("verification.linked"), Some("profile_code"))
    );
    assert_eq!(
        (event["data"]["discordId"].as_str(), event["data"]["robloxId"].as_str()),
        (Some(&*member.to_string()), Some("42"))
    );
    let again = run(v.check_code(&write, SERVER, member)).expect_err("a code works once");
    assert!(matches!(again, VerificationError::NoChallenge(_)), "{again}");
    // Links are global: another server's key sees it.
    let other = principal(OTHER_SERVER, true);
    assert_eq!(run(v.by_roblox(&other, None, user(42))).expect("lookup").map(|l| l.discord), Some(member));
    let (found, name) = run(v.by_discord(&other, None, member)).expect("lookup").expect("linked");
    assert_eq!((found.roblox, name.as_deref()), (user(42), Some("user42")));
    let foreign = run(v.by_roblox(&other, Some(SERVER), user(42))).expect_err("names another server");
    assert!(matches!(foreign, VerificationError::Core(garrison_core::Error::Forbidden(_))));
}

#[test]
fn profile_codes_expire_name_real_users_and_never_replace_a_sign_in() {
    let s = setup();
    let v = verification(&s);
    let write = principal(SERVER, false);
    let member = fakes::id(51);
    let err = run(v.start_code(&write, SERVER, member, RobloxAccount::Username("nobody".into()))).expect_err("no user");
    assert_eq!(err.to_string(), "No Roblox user named \"nobody\".");
    let err = run(v.start_code(&write, SERVER, member, RobloxAccount::Id(user(20_000)))).expect_err("no user");
    assert!(matches!(err, VerificationError::NoSuchUser(_)), "{err}");
    let read_only = run(v.start_code(&principal(SERVER, true), SERVER, member, RobloxAccount::Id(user(43))));
    assert!(matches!(read_only, Err(VerificationError::Core(garrison_core::Error::Forbidden(_)))));

    let challenge = run(v.start_code(&write, SERVER, member, RobloxAccount::Id(user(43)))).expect("challenge");
    s.roblox.with(|r| r.descriptions.insert(43, challenge.phrase.clone()));
    s.clock.advance_millis(15 * 60_000);
    let late = run(v.check_code(&write, SERVER, member)).expect_err("expired");
    assert!(matches!(late, VerificationError::NoChallenge(_)), "{late}");

    // Roblox account 44 was linked by signing in to both: a bot's profile code cannot take it.
    let signed_in = Link {
        discord: fakes::id(52),
        roblox: user(44),
        method: LinkMethod::OAuth,
        server: None,
        linked_at: s.clock.now(),
    };
    assert!(s.records.link(&signed_in, false).expect("link"));
    let challenge = run(v.start_code(&write, SERVER, member, RobloxAccount::Id(user(44)))).expect("challenge");
    s.roblox.with(|r| r.descriptions.insert(44, challenge.phrase.clone()));
    let err = run(v.check_code(&write, SERVER, member)).expect_err("spared");
    assert!(matches!(err, VerificationError::SignedInLinkExists { .. }), "{err}");
    assert_eq!(s.records.by_roblox(user(44)).expect("lookup"), Some(signed_in));
}

/// A provider that signs in `who` for any code but "bad", and remembers the verifiers it was given.
struct FakeProvider {
    name: &'static str,
    who: Identity,
    verifiers: Mutex<Vec<(String, String)>>,
}

impl FakeProvider {
    fn new(name: &'static str, id: u64, user: &str) -> Arc<Self> {
        Arc::new(Self { name, who: Identity { id, name: user.into() }, verifiers: Mutex::new(Vec::new()) })
    }
}

impl OAuthProvider for FakeProvider {
    fn authorize_url(&self, state: &str, challenge: &str) -> Result<String, ProviderError> {
        self.verifiers.lock().unwrap_or_else(PoisonError::into_inner).push((state.to_owned(), challenge.to_owned()));
        Ok(format!("https://{}.example/authorize?state={state}&code_challenge={challenge}", self.name))
    }

    fn identify(&self, code: &str, verifier: &str) -> ProviderFuture<'_, Identity> {
        let known = self
            .verifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(_, c)| *c == signin::challenge(verifier));
        let answer = if code == "bad" || !known {
            Err(ProviderError::Refused { provider: self.name, reason: "invalid_grant".into() })
        } else {
            Ok(self.who.clone())
        };
        Box::pin(std::future::ready(answer))
    }
}

fn state_of(url: &str) -> String {
    url.split("state=").nth(1).and_then(|rest| rest.split('&').next()).expect("a state").to_owned()
}

fn signin_service(s: &Setup) -> (SignInService, Arc<FakeProvider>, Arc<FakeProvider>) {
    let (discord, roblox) =
        (FakeProvider::new("discord", 4 << 22, "casey"), FakeProvider::new("roblox", 77, "CaseyRBX"));
    let service = SignInService::new(SignInPorts {
        flows: s.records.clone(),
        links: s.records.clone(),
        discord: discord.clone(),
        roblox: roblox.clone(),
        threads: Arc::new(InlineThreads),
        writer: Arc::new(InlineWrites),
        clock: s.clock.clone(),
        entropy: Arc::new(CountingEntropy::default()),
        outbox: garrison_testkit::outbox(s.records.clone()),
    });
    (service, discord, roblox)
}

/// Different bytes each time, so states and verifiers differ.
#[derive(Default)]
struct CountingEntropy(std::sync::atomic::AtomicU8);

impl garrison_core::entropy::Entropy for CountingEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), garrison_core::entropy::EntropyError> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = n.wrapping_mul(31).wrapping_add(i as u8));
        Ok(())
    }
}

#[test]
fn signing_in_to_both_links_the_accounts_once() {
    let s = setup();
    let (service, _, _) = signin_service(&s);
    let started = run(service.start(Purpose::Link)).expect("started");
    assert!(started.redirect.starts_with("https://discord.example/authorize?state="));
    let nonce = started.browser_nonce.clone();
    let state = state_of(&started.redirect);
    let Step::Redirect(to_roblox) = run(service.discord_returned(&state, Some("code"), Some(&nonce))).expect("discord")
    else {
        panic!("Discord leads to Roblox")
    };
    assert!(to_roblox.starts_with("https://roblox.example/authorize?state="));
    // The Discord state is spent: a replay is refused.
    let replay = run(service.discord_returned(&state, Some("code"), Some(&nonce))).expect_err("replay");
    assert!(matches!(replay, SignInError::StaleState), "{replay}");
    let roblox_state = state_of(&to_roblox);
    let done = run(service.roblox_returned(&roblox_state, Some("code"), Some(&nonce))).expect("roblox");
    assert_eq!(
        done,
        Step::Linked {
            discord: Identity { id: 4 << 22, name: "casey".into() },
            roblox: Identity { id: 77, name: "CaseyRBX".into() }
        }
    );
    let link = s.records.by_discord(fakes::id(4)).expect("lookup").expect("linked");
    assert_eq!((link.roblox, link.method, link.server), (user(77), LinkMethod::OAuth, None));
}

#[test]
fn a_forged_foreign_or_late_state_is_refused_before_any_provider_is_asked() {
    let s = setup();
    let (service, _, _) = signin_service(&s);
    let started = run(service.start(Purpose::Link)).expect("started");
    let state = state_of(&started.redirect);
    let forged = run(service.discord_returned("forged-state", Some("code"), Some(&started.browser_nonce)));
    assert!(matches!(forged, Err(SignInError::StaleState)));
    // Another browser (no nonce, or another one) cannot finish this flow; the attempt spends it.
    let other = run(service.discord_returned(&state, Some("code"), Some("someone-else")));
    assert!(matches!(other, Err(SignInError::StaleState)));
    let spent = run(service.discord_returned(&state, Some("code"), Some(&started.browser_nonce)));
    assert!(matches!(spent, Err(SignInError::StaleState)));

    let late = run(service.start(Purpose::Link)).expect("started");
    s.clock.advance_millis(signin::FLOW_LIFETIME_MS);
    let expired = run(service.discord_returned(&state_of(&late.redirect), Some("code"), Some(&late.browser_nonce)));
    assert!(matches!(expired, Err(SignInError::StaleState)));

    let cancelled = run(service.start(Purpose::Link)).expect("started");
    let no = run(service.discord_returned(&state_of(&cancelled.redirect), None, Some(&cancelled.browser_nonce)));
    assert!(matches!(no, Err(SignInError::Cancelled("Discord"))));
    let bad = run(service.start(Purpose::Link)).expect("started");
    let refused = run(service.discord_returned(&state_of(&bad.redirect), Some("bad"), Some(&bad.browser_nonce)));
    assert!(matches!(refused, Err(SignInError::Provider(ProviderError::Refused { .. }))));
    assert_eq!(s.records.by_discord(fakes::id(4)).expect("lookup"), None, "nothing linked");
}

#[test]
fn signing_in_to_discord_alone_removes_ones_own_link() {
    let s = setup();
    let (service, _, _) = signin_service(&s);
    let link = Link {
        discord: fakes::id(4),
        roblox: user(77),
        method: LinkMethod::ProfileCode,
        server: Some(SERVER),
        linked_at: Timestamp(1),
    };
    assert!(s.records.link(&link, false).expect("link"));
    s.records.subscribe_all(SERVER);
    let started = run(service.start(Purpose::Unlink)).expect("started");
    let done = run(service.discord_returned(&state_of(&started.redirect), Some("code"), Some(&started.browser_nonce)))
        .expect("unlinked");
    assert_eq!(
        done,
        Step::Unlinked { discord: Identity { id: 4 << 22, name: "casey".into() }, roblox: Some(user(77)) }
    );
    assert_eq!(s.records.by_discord(fakes::id(4)).expect("lookup"), None);
    assert_eq!(s.records.link_history().len(), 1, "the ended link is kept as history");
    let events = s.records.events();
    let event: serde_json::Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(events.len(), 1);
    assert_eq!(event["type"], "verification.unlinked", "told to the server that made the link");
    assert_eq!(event["data"]["robloxId"], "77");
}

#[test]
fn starting_flows_is_bounded_per_minute() {
    let s = setup();
    let (service, _, _) = signin_service(&s);
    for _ in 0..signin::STARTS_PER_MINUTE {
        run(service.start(Purpose::Link)).expect("started");
    }
    let busy = run(service.start(Purpose::Link)).expect_err("over the bound");
    assert!(matches!(busy, SignInError::Busy { retry_after_secs: 1..=60 }), "{busy}");
    s.clock.advance_millis(60_000);
    run(service.start(Purpose::Link)).expect("a new minute");
}
