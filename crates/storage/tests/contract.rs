//! One contract suite for the record ports, run on the diesel adapters over SQLite always and over
//! PostgreSQL when `GARRISON_TEST_POSTGRES_URL` is set (every test gets a fresh database), and on
//! testkit's in-memory fakes (`MemoryRecords`), so the fakes the service tests use behave as the real
//! adapters do. A test sees only [`Stores`]: one backend's implementation of every port, plus the
//! database when there is one (for what only SQL can show: migrations, purged rows).

use std::{
    sync::{Arc, Barrier},
    thread,
};

use garrison_core::{
    ApiKeyId, Error, MemberKey, RobloxUserId, ServerId, Timestamp,
    apikey::{KeyHash, NewApiKey},
    backups::{
        AuthTag, BackupIndex, BackupRecord, Job, JobStatus, PremiumGrants, RestoreJobStore, Step, Version, VersionKind,
        format::Id,
        jobs::{Did, Lease, Tally},
        plan::Mode,
    },
    booster::BoosterRole,
    catalogue::{CertificationRef, Description, Name},
    discord::{BotToken, Snowflake},
    ep::{Company, EpPolicy, PerCompany},
    idempotency::{self, IdempotencyKey, IdempotentRequest},
    loa::Loa,
    modlog::{History, ModAction, NewEntry, Subject, SubjectProfile, ViewId},
    ports::{ApiKeys, BoosterRoles, Certifications, EpLedger, HealthCheck, LoaRecords, Medals, ModLogs, XpLedger},
    roblox::{
        GroupId, OpenCloudKey, Rank, RobloxConfig, RobloxConfigs, RobloxLinks,
        binds::{RankBind, RankBinds},
        signin::{Purpose, SignInFlow, SignInFlows, Stage},
        verification::{CodeChallenge, Link, LinkMethod},
    },
    xp::{
        self, Actor, HistoryPage, LeaderboardCursor, LeaderboardPage, LeaderboardStart, Reason, Reference, XpChange,
        XpMutation, XpOperation, XpOutcome,
    },
};
use garrison_storage::{
    Database, DieselApiKeys, DieselBackupIndex, DieselBoosterRoles, DieselCertifications, DieselEpLedger,
    DieselLoaRecords, DieselMedals, DieselModLogs, DieselPremiumGrants, DieselRankBinds, DieselRestoreJobs,
    DieselRobloxConfigs, DieselRobloxLinks, DieselSignInFlows, DieselXpLedger, PoolSizes, SecretKey,
};
use garrison_testkit::{MemoryRecords, TestDatabase};

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&super::in_memory()); })*
        }
        mod sqlite {
            $(#[test] fn $name() { super::$name(&super::open(&garrison_testkit::TestDatabase::sqlite())); })*
        }
        mod postgres {
            $(#[test] fn $name() {
                let Some(server) = garrison_testkit::postgres_url() else {
                    garrison_testkit::report_skip(concat!("storage postgres::", stringify!($name)));
                    return;
                };
                let fresh = garrison_testkit::TestDatabase::postgres(&server);
                super::$name(&super::open(&fresh));
            })*
        }
    };
}

contract!(
    migrations_are_idempotent_and_the_store_is_healthy,
    xp_balances_follow_the_core_rule_and_equal_the_ledger,
    xp_references_are_labels,
    xp_idempotency_keys_replay_refuse_and_expire,
    xp_overflow_is_refused_and_records_nothing,
    concurrent_xp_changes_lose_nothing,
    concurrent_requests_with_one_idempotency_key_apply_once,
    xp_history_pages_newest_first,
    xp_leaderboard_ranks_by_balance,
    ep_entries_and_policy_round_trip,
    ep_entries_are_read_in_pages_by_time_then_id,
    loa_rules_hold,
    concurrent_loa_starts_admit_one,
    medals_catalogue_and_awards,
    certifications_catalogue_and_awards,
    api_keys_are_found_by_hash_until_revoked,
    booster_roles_are_recorded_found_and_forgotten,
    booster_roles_allow_one_per_user_and_one_record_per_role,
    booster_roles_are_per_guild,
    concurrent_booster_records_for_one_user_admit_one,
    concurrent_booster_records_of_one_role_admit_one,
    modlog_entries_round_trip_through_the_view_id,
    modlog_subjects_keep_their_view_id_and_refresh_their_profile,
    modlog_case_numbers_count_per_guild,
    concurrent_modlog_adds_number_cases_without_gaps_or_duplicates,
    concurrent_modlog_adds_by_two_bots_each_number_from_one,
    modlog_histories_are_read_a_page_at_a_time,
    roblox_settings_round_trip_and_are_replaced,
    links_are_one_to_one_and_keep_their_history,
    profile_code_links_spare_sign_in_links,
    verification_codes_are_per_server_and_replaced,
    rank_binds_are_replaced_whole_in_order,
    signin_flows_are_taken_once_and_purged_when_expired,
    backups_are_one_per_server_with_versions_kept_and_dropped_together,
    concurrent_first_backups_of_one_server_admit_one,
    premium_grants_are_granted_listed_and_revoked,
    restore_jobs_keep_progress_and_placed_ids_until_finished,
    expired_leases_are_claimed_once_with_the_token_and_placed_ids,
    finished_jobs_are_pruned_and_forget_their_token,
    stream_watches_are_one_per_streamer_and_channel_and_bounded,
    stream_keys_are_sealed_and_replaced,
    stream_alerts_are_claimed_once_per_watch_and_stream,
    webhook_events_are_queued_for_subscribed_endpoints_and_attempts_recorded,
);

/// One backend's implementation of every record port. For the diesel adapters, the `TestDatabase`
/// guard must outlive it, which the macro ensures.
struct Stores {
    xp: Arc<dyn XpLedger>,
    ep: Arc<dyn EpLedger>,
    loas: Arc<dyn LoaRecords>,
    medals: Arc<dyn Medals>,
    certifications: Arc<dyn Certifications>,
    api_keys: Arc<dyn ApiKeys>,
    booster_roles: Arc<dyn BoosterRoles>,
    mod_logs: Arc<dyn ModLogs>,
    roblox: Arc<dyn RobloxConfigs>,
    links: Arc<dyn RobloxLinks>,
    binds: Arc<dyn RankBinds>,
    flows: Arc<dyn SignInFlows>,
    backups: Arc<dyn BackupIndex>,
    premium: Arc<dyn PremiumGrants>,
    jobs: Arc<dyn RestoreJobStore>,
    watches: Arc<dyn garrison_core::streams::watches::StreamWatches>,
    stream_keys: Arc<dyn garrison_core::streams::watches::StreamKeyStore>,
    alerts: Arc<dyn garrison_core::streams::alerts::StreamAlerts>,
    webhooks: Arc<dyn garrison_core::webhooks::WebhookStore>,
    health: Arc<dyn HealthCheck>,
    /// Sets a member's balance as it stands, to reach the top of the range without millions of requests.
    seed_balance: Box<dyn Fn(MemberKey, i64)>,
    /// The database, for what only SQL shows; `None` for the in-memory fakes.
    db: Option<Database>,
}

/// The diesel adapters over a migrated `fresh` database.
fn open(fresh: &TestDatabase) -> Stores {
    let db = Database::open(fresh.url(), PoolSizes { connections: 4, ..PoolSizes::default() }).expect("open");
    db.migrate().expect("migrate");
    let seeder = db.clone();
    Stores {
        xp: Arc::new(DieselXpLedger::new(db.clone())),
        ep: Arc::new(DieselEpLedger::new(db.clone())),
        loas: Arc::new(DieselLoaRecords::new(db.clone())),
        medals: Arc::new(DieselMedals::new(db.clone())),
        certifications: Arc::new(DieselCertifications::new(db.clone())),
        api_keys: Arc::new(DieselApiKeys::new(db.clone())),
        booster_roles: Arc::new(DieselBoosterRoles::new(db.clone())),
        mod_logs: Arc::new(DieselModLogs::new(db.clone())),
        roblox: Arc::new(DieselRobloxConfigs::new(db.clone(), SecretKey::from_bytes([7; 32]))),
        links: Arc::new(DieselRobloxLinks::new(db.clone())),
        binds: Arc::new(DieselRankBinds::new(db.clone())),
        flows: Arc::new(DieselSignInFlows::new(db.clone())),
        backups: Arc::new(DieselBackupIndex::new(db.clone())),
        premium: Arc::new(DieselPremiumGrants::new(db.clone())),
        jobs: Arc::new(DieselRestoreJobs::new(db.clone(), SecretKey::from_bytes([7; 32]))),
        watches: Arc::new(garrison_storage::DieselStreamWatches::new(db.clone())),
        stream_keys: Arc::new(garrison_storage::DieselStreamKeys::new(db.clone(), SecretKey::from_bytes([7; 32]))),
        alerts: Arc::new(garrison_storage::DieselStreamAlerts::new(db.clone())),
        webhooks: Arc::new(garrison_storage::DieselWebhooks::new(db.clone(), SecretKey::from_bytes([7; 32]))),
        health: Arc::new(db.clone()),
        seed_balance: Box::new(move |who: MemberKey, balance: i64| {
            seeder
                .with_connection(|conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(format!(
                        "INSERT INTO xp_balances (server_id, roblox_id, xp, last_decrease) VALUES ({}, {}, {balance}, 0)",
                        who.server.get(),
                        who.member.get()
                    ))
                    .execute(conn)
                })
                .expect("seed a balance");
        }),
        db: Some(db),
    }
}

/// testkit's in-memory fakes: one `MemoryRecords` behind every port.
fn in_memory() -> Stores {
    let records = Arc::new(MemoryRecords::default());
    let seeder = Arc::clone(&records);
    Stores {
        xp: records.clone(),
        ep: records.clone(),
        loas: records.clone(),
        medals: records.clone(),
        certifications: records.clone(),
        api_keys: records.clone(),
        booster_roles: records.clone(),
        mod_logs: records.clone(),
        roblox: records.clone(),
        links: records.clone(),
        binds: records.clone(),
        flows: records.clone(),
        backups: records.clone(),
        premium: records.clone(),
        jobs: records.clone(),
        watches: records.clone(),
        alerts: records.clone(),
        webhooks: records.clone(),
        stream_keys: records.clone(),
        health: records,
        seed_balance: Box::new(move |who, balance| seeder.set_balance(who, balance)),
        db: None,
    }
}

const SERVER: i64 = 123_456_789_012_345_678;

fn member(id: i64) -> MemberKey {
    MemberKey { server: ServerId::from_stored(SERVER), member: RobloxUserId::from_stored(id) }
}

fn mutation(member: MemberKey, op: XpOperation, amount: i64, reference: Option<&str>) -> XpMutation {
    XpMutation {
        member,
        change: XpChange::new(op, amount).expect("valid change"),
        reference: reference.map(|r| Reference::parse(r).expect("valid reference")),
        reason: Some(Reason::parse("contract test").expect("valid reason")),
        actor: Actor { key_id: Some(ApiKeyId(1)), key_name: "tests".into() },
        at: Timestamp(1_700_000_000_000),
        idempotency: None,
    }
}

const T0: i64 = 1_700_000_000_000;

/// `mutation` sent with an Idempotency-Key by API key `key_id` at `at`.
fn keyed(mutation: XpMutation, key_id: i64, key: &str, at: i64) -> XpMutation {
    let request_hash = xp::request_hash(mutation.member, mutation.change, mutation.reference.as_ref(), None);
    XpMutation {
        at: Timestamp(at),
        idempotency: Some(IdempotentRequest {
            key_id: ApiKeyId(key_id),
            server: mutation.member.server,
            route: mutation.change.operation().route(),
            key: IdempotencyKey::parse(key).expect("valid key"),
            request_hash,
            at: Timestamp(at),
        }),
        ..mutation
    }
}

fn migrations_are_idempotent_and_the_store_is_healthy(s: &Stores) {
    if let Some(db) = &s.db {
        assert!(db.migrate().expect("second migrate").is_empty(), "nothing left to apply");
    }
    s.health.check().expect("healthy");
}

fn xp_balances_follow_the_core_rule_and_equal_the_ledger(s: &Stores) {
    let ledger = &*s.xp;
    let who = member(1);
    let mut expected = 0i64;
    // A deterministic walk over all three operations, including clamping subtractions.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..150 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let op = [XpOperation::Add, XpOperation::Add, XpOperation::Subtract, XpOperation::Set][(seed % 4) as usize];
        let amount = i64::try_from(seed % 500).expect("small") + 1;
        let change = XpChange::new(op, amount).expect("valid");
        let before = expected;
        expected = xp::apply(expected, change).expect("no overflow");
        let outcome = ledger.apply(&mutation(who, op, amount, None)).expect("apply");
        assert_eq!(outcome, XpOutcome::Applied { balance: expected, delta: expected - before });
    }
    assert_eq!(ledger.balance(who).expect("balance"), expected);
    let mut sum = 0;
    let mut before = None;
    loop {
        let page = ledger.history(who, HistoryPage { limit: 100, before }).expect("history");
        if page.is_empty() {
            break;
        }
        sum += page.iter().map(|e| e.delta).sum::<i64>();
        before = page.last().map(|e| e.id);
    }
    assert_eq!(sum, expected, "the balance is the sum of the ledger's deltas");
}

fn xp_references_are_labels(s: &Stores) {
    let ledger = &*s.xp;
    let who = member(2);
    for expected in [40, 80] {
        assert_eq!(
            ledger.apply(&mutation(who, XpOperation::Add, 40, Some("Weekly patrol"))).expect("award"),
            XpOutcome::Applied { balance: expected, delta: 40 }
        );
    }
    ledger.apply(&mutation(member(3), XpOperation::Add, 7, Some("Weekly patrol"))).expect("another member");
    assert_eq!(ledger.balance(who).expect("balance"), 80);
    let history = ledger.history(who, HistoryPage { limit: 10, before: None }).expect("history");
    assert_eq!(history.iter().map(|e| e.reference.as_deref()).collect::<Vec<_>>(), [Some("Weekly patrol"); 2]);
}

fn xp_idempotency_keys_replay_refuse_and_expire(s: &Stores) {
    let ledger = &*s.xp;
    let who = member(20);
    let add = |amount| mutation(who, XpOperation::Add, amount, Some("grant"));
    assert_eq!(
        ledger.apply(&keyed(add(40), 1, "k-1", T0)).expect("first"),
        XpOutcome::Applied { balance: 40, delta: 40 }
    );
    ledger.apply(&add(5)).expect("unrelated");
    // The same request again: the first answer, nothing changed.
    assert_eq!(
        ledger.apply(&keyed(add(40), 1, "k-1", T0 + 1_000)).expect("replay"),
        XpOutcome::Replayed { balance: 40 }
    );
    // Another request under the key is refused, and changes nothing.
    let err = ledger.apply(&keyed(add(41), 1, "k-1", T0 + 2_000)).expect_err("reused");
    assert!(matches!(err, Error::IdempotencyKeyReused { .. }), "{err:?}");
    let err = ledger
        .apply(&keyed(mutation(member(21), XpOperation::Add, 40, Some("grant")), 1, "k-1", T0))
        .expect_err("other member");
    assert!(matches!(err, Error::IdempotencyKeyReused { .. }), "{err:?}");
    assert_eq!(ledger.balance(who).expect("balance"), 45);
    assert_eq!(ledger.balance(member(21)).expect("balance"), 0);
    // Scoped per API key and per route.
    assert_eq!(ledger.apply(&keyed(add(40), 2, "k-1", T0)).expect("other API key").balance(), 85);
    let sub = mutation(who, XpOperation::Subtract, 40, Some("grant"));
    assert_eq!(ledger.apply(&keyed(sub, 1, "k-1", T0)).expect("other route").balance(), 45);
    // After 24 hours the key is free again; the expired row is replaced.
    let later = T0 + idempotency::WINDOW_MILLIS + 1;
    assert_eq!(
        ledger.apply(&keyed(add(41), 1, "k-1", later)).expect("expired"),
        XpOutcome::Applied { balance: 86, delta: 41 }
    );
    assert_eq!(
        ledger.apply(&keyed(add(41), 1, "k-1", later + 1)).expect("replay"),
        XpOutcome::Replayed { balance: 86 }
    );
    let Some(db) = &s.db else { return };
    let rows = db
        .with_connection(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT api_key_id AS n FROM idempotency_keys").load::<Count>(conn)
        })
        .expect("count");
    // API key 1's expired row (subtract, at T0) went when it wrote its next key; API key 2's stays
    // until API key 2 writes again.
    assert_eq!(rows.len(), 2, "expired rows are purged as their API key writes: {rows:?}");
}

fn xp_overflow_is_refused_and_records_nothing(s: &Stores) {
    let ledger = &*s.xp;
    let who = member(4);
    // Jump close to the top without ten million requests.
    let balance = xp::MAX_XP - xp::MAX_AMOUNT + 1;
    (s.seed_balance)(who, balance);
    let err = ledger
        .apply(&keyed(mutation(who, XpOperation::Add, xp::MAX_AMOUNT, Some("too-much")), 1, "too-much", T0))
        .expect_err("overflow");
    assert!(matches!(err, Error::XpOverflow { .. }), "{err:?}");
    assert_eq!(ledger.balance(who).expect("balance"), balance);
    assert!(ledger.history(who, HistoryPage { limit: 10, before: None }).expect("history").is_empty());
    // The refused request's Idempotency-Key was not consumed: another request may use it.
    assert_eq!(
        ledger.apply(&keyed(mutation(who, XpOperation::Add, 1, None), 1, "too-much", T0)).expect("reuse").balance(),
        balance + 1
    );
}

fn concurrent_xp_changes_lose_nothing(s: &Stores) {
    let ledger = Arc::clone(&s.xp);
    let who = member(5);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let ledger = Arc::clone(&ledger);
            thread::spawn(move || {
                for _ in 0..50 {
                    ledger.apply(&mutation(who, XpOperation::Add, 1, None)).expect("add");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(ledger.balance(who).expect("balance"), 400);
}

fn concurrent_requests_with_one_idempotency_key_apply_once(s: &Stores) {
    let ledger = Arc::clone(&s.xp);
    let who = member(6);
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let ledger = Arc::clone(&ledger);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                ledger.apply(&keyed(mutation(who, XpOperation::Add, 25, None), 1, "once", T0)).expect("apply or replay")
            })
        })
        .collect();
    let outcomes: Vec<XpOutcome> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    assert_eq!(outcomes.iter().filter(|o| matches!(o, XpOutcome::Applied { .. })).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| o.balance() == 25));
    assert_eq!(ledger.balance(who).expect("balance"), 25);
}

fn xp_history_pages_newest_first(s: &Stores) {
    let ledger = &*s.xp;
    let who = member(7);
    for amount in 1..=5 {
        ledger.apply(&mutation(who, XpOperation::Add, amount, Some(&format!("h{amount}")))).expect("add");
    }
    ledger.apply(&mutation(member(8), XpOperation::Add, 100, None)).expect("someone else");
    let first = ledger.history(who, HistoryPage { limit: 2, before: None }).expect("page 1");
    assert_eq!(first.iter().map(|e| e.amount).collect::<Vec<_>>(), [5, 4]);
    assert_eq!(first[0].balance, 15);
    assert_eq!(first[0].reference.as_deref(), Some("h5"));
    assert_eq!(first[0].reason.as_deref(), Some("contract test"));
    assert_eq!(first[0].key_name.as_deref(), Some("tests"));
    let rest = ledger.history(who, HistoryPage { limit: 10, before: first.last().map(|e| e.id) }).expect("page 2");
    assert_eq!(rest.iter().map(|e| e.amount).collect::<Vec<_>>(), [3, 2, 1]);
}

fn xp_leaderboard_ranks_by_balance(s: &Stores) {
    let ledger = &*s.xp;
    for (id, amount) in [(10, 50), (11, 70), (12, 50), (13, 5)] {
        ledger.apply(&mutation(member(id), XpOperation::Set, amount, None)).expect("set");
    }
    ledger.apply(&mutation(member(14), XpOperation::Set, 0, None)).expect("zero");
    let server = ServerId::from_stored(SERVER);
    let page = |limit, start| LeaderboardPage { limit, start };
    let top: Vec<(i64, i64, u64)> = ledger
        .leaderboard(server, page(10, LeaderboardStart::Offset(0)))
        .expect("board")
        .iter()
        .map(|r| (r.member.get(), r.xp, r.rank))
        .collect();
    assert_eq!(top, [(11, 70, 1), (10, 50, 2), (12, 50, 3), (13, 5, 4)]);
    let ranks: Vec<u64> = ledger
        .leaderboard(server, page(2, LeaderboardStart::Offset(1)))
        .expect("page")
        .iter()
        .map(|r| r.rank)
        .collect();
    assert_eq!(ranks, [2, 3]);
    assert!(
        ledger.leaderboard(ServerId::from_stored(1), page(10, LeaderboardStart::Offset(0))).expect("empty").is_empty()
    );
    // Keyset: the rows after (50, member 10), which ranked 2nd, are the same as by offset.
    let after = LeaderboardCursor { rank: 2, xp: 50, member: RobloxUserId::from_stored(10) };
    let rest: Vec<(i64, u64)> = ledger
        .leaderboard(server, page(10, LeaderboardStart::After(after)))
        .expect("keyset")
        .iter()
        .map(|r| (r.member.get(), r.rank))
        .collect();
    assert_eq!(rest, [(12, 3), (13, 4)]);
}

fn ep_entries_and_policy_round_trip(s: &Stores) {
    let ep = &*s.ep;
    let server = ServerId::from_stored(SERVER);
    assert_eq!(ep.policy(server).expect("none"), None);
    let policy = EpPolicy::new(14, Timestamp(1_000), PerCompany([10, 5, 0, 1]), 4).expect("valid");
    ep.set_policy(server, &policy, Timestamp(5)).expect("set");
    assert_eq!(ep.policy(server).expect("read"), Some(policy));
    let changed = EpPolicy::new(7, Timestamp(0), PerCompany([1, 0, 0, 0]), 2).expect("valid");
    ep.set_policy(server, &changed, Timestamp(6)).expect("replace");
    assert_eq!(ep.policy(server).expect("read"), Some(changed));

    let who = member(20);
    ep.add(who, Company::Main, 3, Timestamp(100)).expect("add");
    ep.add(who, Company::Sub2, 4, Timestamp(200)).expect("add");
    ep.add(member(21), Company::Main, 9, Timestamp(200)).expect("other member");
    let since = ep.entries_page(who, Timestamp(150), None, 10).expect("since");
    assert_eq!(
        since.iter().map(|e| (e.company, e.amount, e.at)).collect::<Vec<_>>(),
        [(Company::Sub2, 4, Timestamp(200))]
    );
    assert_eq!(ep.entries_page(who, Timestamp(0), None, 10).expect("all").len(), 2);
}

fn ep_entries_are_read_in_pages_by_time_then_id(s: &Stores) {
    let ep = &*s.ep;
    let who = member(22);
    // Out of time order, with ties in time.
    for (amount, at) in [(1, 300), (2, 100), (3, 200), (4, 100), (5, 300), (6, 50)] {
        ep.add(who, Company::Main, amount, Timestamp(at)).expect("add");
    }
    ep.add(member(23), Company::Main, 99, Timestamp(150)).expect("other member");
    let mut read = Vec::new();
    let mut after = None;
    loop {
        let page = ep.entries_page(who, Timestamp(100), after, 2).expect("page");
        assert!(page.len() <= 2);
        read.extend(page.iter().map(|e| (e.at.millis(), e.amount)));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some(last.cursor()),
            _ => break,
        }
    }
    assert_eq!(read, [(100, 2), (100, 4), (200, 3), (300, 1), (300, 5)], "every entry once, by (at, id)");
}

fn loa_rules_hold(s: &Stores) {
    let loas = &*s.loas;
    let who = member(30);
    assert_eq!(loas.latest(who).expect("none"), None);
    let first = Loa { started_at: Timestamp(1_000), ends_at: Timestamp(5_000), ended_at: None };
    loas.start(who, first).expect("start");
    let again = loas
        .start(who, Loa { started_at: Timestamp(2_000), ends_at: Timestamp(9_000), ended_at: None })
        .expect_err("active");
    assert!(matches!(again, Error::LoaAlreadyActive { .. }), "{again:?}");
    let ended = loas.end(who, Timestamp(3_000)).expect("end");
    assert_eq!(ended.ended_at, Some(Timestamp(3_000)));
    assert!(matches!(loas.end(who, Timestamp(3_500)).expect_err("none active"), Error::NoActiveLoa { .. }));

    // A second LOA that simply runs out needs no job: ending it after expiry is refused, and a new
    // one may start.
    loas.start(who, Loa { started_at: Timestamp(4_000), ends_at: Timestamp(6_000), ended_at: None }).expect("second");
    assert!(matches!(loas.end(who, Timestamp(6_000)).expect_err("expired"), Error::NoActiveLoa { .. }));
    loas.start(who, Loa { started_at: Timestamp(7_000), ends_at: Timestamp(8_000), ended_at: None })
        .expect("third after expiry");
    let all = loas.reaching_past(who, Timestamp(0), None, 10).expect("all");
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].1.effective_end(), Timestamp(6_000), "newest first");
    assert_eq!(loas.latest(who).expect("latest").map(|l| l.started_at), Some(Timestamp(7_000)));
    // Only LOAs still running after the instant, in pages.
    let reaching: Vec<i64> = loas
        .reaching_past(who, Timestamp(5_000), None, 10)
        .expect("recent")
        .iter()
        .map(|(_, l)| l.started_at.0)
        .collect();
    assert_eq!(reaching, [7_000, 4_000], "the first ended at 3000");
    let first_page = loas.reaching_past(who, Timestamp(0), None, 2).expect("page");
    assert_eq!(first_page.len(), 2);
    let rest = loas.reaching_past(who, Timestamp(0), first_page.last().map(|(id, _)| *id), 2).expect("page 2");
    assert_eq!(rest.iter().map(|(_, l)| l.started_at.0).collect::<Vec<_>>(), [1_000]);
}

fn concurrent_loa_starts_admit_one(s: &Stores) {
    let loas = Arc::clone(&s.loas);
    let who = member(31);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let loas = Arc::clone(&loas);
            thread::spawn(move || {
                loas.start(who, Loa { started_at: Timestamp(1_000), ends_at: Timestamp(90_000), ended_at: None })
                    .is_ok()
            })
        })
        .collect();
    let started = threads.into_iter().map(|t| t.join().expect("thread")).filter(|ok| *ok).count();
    assert_eq!(started, 1);
}

fn medals_catalogue_and_awards(s: &Stores) {
    let medals = &*s.medals;
    let server = ServerId::from_stored(SERVER);
    let heart = Name::parse("medalName", "Purple Heart").expect("valid");
    let desc = Description::parse("Wounded in action").expect("valid");
    medals.create(server, &heart, &desc, Timestamp(1)).expect("create");
    let dup = medals
        .create(server, &Name::parse("name", "purple heart").expect("valid"), &desc, Timestamp(2))
        .expect_err("dup");
    assert!(matches!(dup, Error::MedalExists { .. }), "{dup:?}");
    medals.create(server, &Name::parse("name", "Bronze Star").expect("valid"), &desc, Timestamp(3)).expect("second");
    assert_eq!(
        medals.catalogue(server).expect("list").iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["Bronze Star", "Purple Heart"]
    );

    let who = member(40);
    let lower = Name::parse("medalName", "PURPLE heart").expect("valid");
    assert_eq!(medals.award(who, &lower, Timestamp(10)).expect("award").name, "Purple Heart");
    assert!(matches!(medals.award(who, &heart, Timestamp(11)).expect_err("held"), Error::MedalAlreadyAwarded { .. }));
    let unknown = Name::parse("medalName", "Nope").expect("valid");
    assert!(matches!(medals.award(who, &unknown, Timestamp(11)).expect_err("unknown"), Error::UnknownMedal { .. }));
    let held = medals.held(who).expect("held");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].awarded_at, Timestamp(10));
    medals.revoke(who, &heart).expect("revoke");
    assert!(matches!(medals.revoke(who, &heart).expect_err("not held"), Error::MedalNotHeld { .. }));

    medals.award(who, &heart, Timestamp(12)).expect("award again");
    medals.delete(server, &heart).expect("delete");
    assert!(medals.held(who).expect("held").is_empty(), "deleting a medal removes its awards");
    assert!(matches!(medals.delete(server, &heart).expect_err("gone"), Error::UnknownMedal { .. }));
    // Catalogues are per server.
    assert!(medals.catalogue(ServerId::from_stored(7)).expect("other").is_empty());
}

fn certifications_catalogue_and_awards(s: &Stores) {
    let certs = &*s.certifications;
    let server = ServerId::from_stored(SERVER);
    let afo = CertificationRef::parse("afo").expect("valid");
    let name = Name::parse("name", "Authorised Firearms Officer").expect("valid");
    let desc = Description::parse("Certified to use firearms in the field").expect("valid");
    assert_eq!(certs.create(server, &afo, &name, &desc, Timestamp(1)).expect("create").reference, "AFO");
    assert!(matches!(
        certs.create(server, &afo, &name, &desc, Timestamp(1)).expect_err("dup"),
        Error::CertificationExists { .. }
    ));
    let who = member(50);
    assert_eq!(certs.award(who, &afo, Timestamp(5)).expect("award").name, "Authorised Firearms Officer");
    assert!(matches!(
        certs.award(who, &afo, Timestamp(6)).expect_err("held"),
        Error::CertificationAlreadyAwarded { .. }
    ));
    let fto = CertificationRef::parse("FTO").expect("valid");
    assert!(matches!(certs.award(who, &fto, Timestamp(6)).expect_err("unknown"), Error::UnknownCertification { .. }));
    assert_eq!(certs.held(who).expect("held")[0].certification.reference, "AFO");
    certs.revoke(who, &afo).expect("revoke");
    assert!(matches!(certs.revoke(who, &afo).expect_err("not held"), Error::CertificationNotHeld { .. }));
    certs.delete(server, &afo).expect("delete");
    assert!(certs.catalogue(server).expect("empty").is_empty());
}

fn api_keys_are_found_by_hash_until_revoked(s: &Stores) {
    let keys = &*s.api_keys;
    let server = ServerId::from_stored(SERVER);
    let hash = KeyHash::from_stored("ab".repeat(32));
    let key = keys
        .create(NewApiKey {
            server,
            name: "dashboard".into(),
            read_only: true,
            hash: hash.clone(),
            created_at: Timestamp(9),
        })
        .expect("create");
    assert!(key.read_only);
    assert_eq!(keys.find_active(&hash).expect("find"), Some(key.clone()));
    assert_eq!(keys.list(server).expect("list"), std::slice::from_ref(&key));
    let revoked = keys.revoke(key.id, Timestamp(10)).expect("revoke");
    assert_eq!(revoked.revoked_at, Some(Timestamp(10)));
    assert_eq!(keys.find_active(&hash).expect("find"), None);
    assert_eq!(
        keys.revoke(key.id, Timestamp(11)).expect("again").revoked_at,
        Some(Timestamp(10)),
        "revoking twice keeps the first time"
    );
    assert!(matches!(
        keys.revoke(ApiKeyId(999), Timestamp(12)).expect_err("unknown"),
        Error::UnknownApiKey { id: 999 }
    ));
}

const GUILD: u64 = 123_456_789_012_345_678;

fn server(raw: u64) -> ServerId {
    ServerId::from_discord(Snowflake::from_raw(raw)).expect("a snowflake within i64")
}

fn booster(guild: u64, user: u64, role: u64, at: i64) -> BoosterRole {
    BoosterRole {
        guild: server(guild),
        user: Snowflake::from_raw(user),
        role: Snowflake::from_raw(role),
        created_at: Timestamp(at),
    }
}

fn booster_roles_are_recorded_found_and_forgotten(s: &Stores) {
    let roles = &*s.booster_roles;
    let guild = server(GUILD);
    let (alice, bob) = (Snowflake::from_raw(200_000_000_000_000_001), Snowflake::from_raw(200_000_000_000_000_002));
    assert_eq!(roles.find(guild, alice).expect("find"), None);
    assert!(roles.list(guild).expect("list").is_empty());

    // The largest id a BIGINT holds round-trips.
    let first = booster(GUILD, alice.get(), i64::MAX as u64, 2_000);
    let second = booster(GUILD, bob.get(), 300_000_000_000_000_002, 1_000);
    roles.record(&first).expect("record alice");
    roles.record(&second).expect("record bob");
    assert_eq!(roles.find(guild, alice).expect("find"), Some(first));
    assert_eq!(roles.owner_of(guild, first.role).expect("owner"), Some(first));
    assert_eq!(roles.owner_of(guild, second.role).expect("owner").map(|r| r.user), Some(bob));
    assert_eq!(roles.owner_of(guild, Snowflake::from_raw(300_000_000_000_000_009)).expect("owner"), None);
    assert_eq!(roles.list(guild).expect("list"), [second, first], "oldest first");

    assert_eq!(roles.forget(guild, first.role).expect("forget"), Some(first));
    assert_eq!(roles.forget(guild, first.role).expect("forget again"), None);
    assert_eq!(roles.find(guild, alice).expect("find"), None);
    assert_eq!(roles.owner_of(guild, first.role).expect("owner"), None);
    assert_eq!(roles.list(guild).expect("list"), [second]);
    // Forgetting frees the user for a new custom role.
    roles.record(&booster(GUILD, alice.get(), 300_000_000_000_000_003, 3_000)).expect("record again");

    // Ids beyond a BIGINT cannot be recorded and are never found.
    let huge = Snowflake::from_raw(u64::MAX);
    let err = roles.record(&booster(GUILD, u64::MAX, 300_000_000_000_000_004, 4_000)).expect_err("too large");
    assert!(matches!(err, Error::Invalid { field: "userId", .. }), "{err:?}");
    assert_eq!(roles.find(guild, huge).expect("find"), None);
    assert_eq!(roles.forget(guild, huge).expect("forget"), None);
    // (A guild id beyond a BIGINT cannot be asked about: `ServerId` parsing refuses it.)
}

fn booster_roles_allow_one_per_user_and_one_record_per_role(s: &Stores) {
    let roles = &*s.booster_roles;
    let guild = server(GUILD);
    let first = booster(GUILD, 200_000_000_000_000_011, 300_000_000_000_000_011, 1_000);
    roles.record(&first).expect("record");

    let second_role = booster(GUILD, first.user.get(), 300_000_000_000_000_012, 2_000);
    let err = roles.record(&second_role).expect_err("one per user");
    assert!(matches!(err, Error::BoosterRoleExists { user } if user == first.user), "{err:?}");
    assert_eq!(err.to_string(), "User already has a custom booster role");
    // Recording the very same record again is a conflict too.
    assert!(matches!(roles.record(&first).expect_err("again"), Error::BoosterRoleExists { .. }));

    let same_role = booster(GUILD, 200_000_000_000_000_012, first.role.get(), 3_000);
    let err = roles.record(&same_role).expect_err("one record per role");
    assert!(matches!(err, Error::Invalid { field: "roleId", .. }), "{err:?}");

    assert_eq!(roles.list(guild).expect("list"), [first], "the refused records left nothing behind");
    assert_eq!(roles.find(guild, same_role.user).expect("find"), None);
}

fn booster_roles_are_per_guild(s: &Stores) {
    let roles = &*s.booster_roles;
    let (guild, other) = (server(GUILD), server(GUILD + 1));
    let here = booster(GUILD, 200_000_000_000_000_021, 300_000_000_000_000_021, 1_000);
    // The same user, and even the same role id, in another guild is another record.
    let there = booster(GUILD + 1, here.user.get(), here.role.get(), 2_000);
    roles.record(&here).expect("here");
    roles.record(&there).expect("there");
    assert_eq!(roles.find(guild, here.user).expect("find"), Some(here));
    assert_eq!(roles.find(other, here.user).expect("find"), Some(there));
    assert_eq!(roles.list(guild).expect("list"), [here]);
    assert_eq!(roles.list(other).expect("list"), [there]);

    assert_eq!(roles.forget(other, here.role).expect("forget"), Some(there));
    assert_eq!(roles.owner_of(guild, here.role).expect("owner"), Some(here), "the other guild's record stays");
    assert!(roles.list(other).expect("list").is_empty());
}

fn concurrent_booster_records_for_one_user_admit_one(s: &Stores) {
    let roles = Arc::clone(&s.booster_roles);
    let user = 200_000_000_000_000_031;
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            let (roles, start) = (Arc::clone(&roles), Arc::clone(&start));
            thread::spawn(move || {
                // Open the pool's connections first, so that the records overlap.
                roles.list(server(GUILD)).expect("warm up");
                start.wait();
                roles.record(&booster(GUILD, user, 300_000_000_000_000_100 + i, 1_000))
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| matches!(e, Error::BoosterRoleExists { .. })),
        "{outcomes:?}"
    );
    let recorded = roles.list(server(GUILD)).expect("list");
    assert_eq!(recorded.len(), 1);
    assert_eq!(roles.find(server(GUILD), Snowflake::from_raw(user)).expect("find"), recorded.first().copied());
}

fn concurrent_booster_records_of_one_role_admit_one(s: &Stores) {
    let roles = Arc::clone(&s.booster_roles);
    let role = 300_000_000_000_000_200;
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            let (roles, start) = (Arc::clone(&roles), Arc::clone(&start));
            thread::spawn(move || {
                // Open the pool's connections first, so that the records overlap.
                roles.list(server(GUILD)).expect("warm up");
                start.wait();
                roles.record(&booster(GUILD, 200_000_000_000_000_200 + i, role, 1_000))
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| matches!(e, Error::Invalid { field: "roleId", .. })),
        "{outcomes:?}"
    );
    assert_eq!(roles.list(server(GUILD)).expect("list").len(), 1);
}

const BOT: u64 = 400_000_000_000_000_001;

fn subject(guild: u64, user: u64) -> Subject {
    Subject { bot: Snowflake::from_raw(BOT), guild: server(guild), user: Snowflake::from_raw(user) }
}

fn profile(user_name: &str, guild_name: &str) -> SubjectProfile {
    SubjectProfile {
        user_name: user_name.to_owned(),
        user_avatar: Some(format!("https://cdn.discordapp.com/avatars/{user_name}.png")),
        guild_name: guild_name.to_owned(),
        guild_icon: None,
    }
}

fn modlog_entry(action: ModAction, reason: Option<&str>, at: i64) -> NewEntry {
    NewEntry::new(action, Snowflake::from_raw(111_222_333_444_555_666), "AdminUser", reason, None, Timestamp(at))
        .expect("valid entry")
}

/// A distinct view id for each `n`.
fn view(n: u128) -> ViewId {
    ViewId::from_entropy((0x5eed_0000_0000_0000_0000_0000_0000_0000 | n).to_be_bytes())
}

fn cases(history: &History) -> Vec<i64> {
    history.entries.iter().map(|e| e.case_number).collect()
}

fn modlog_entries_round_trip_through_the_view_id(s: &Stores) {
    let logs = &*s.mod_logs;
    assert_eq!(logs.history(&view(1)).expect("history"), None, "unknown view id");

    // The largest ids a BIGINT holds round-trip.
    let target = Subject {
        bot: Snowflake::from_raw(i64::MAX as u64),
        guild: server(GUILD),
        user: Snowflake::from_raw(987_654_321_098_765_432),
    };
    let who = SubjectProfile { guild_icon: Some("icon-hash".into()), ..profile("spammer", "The Guild") };
    let entry = NewEntry::new(
        ModAction::Timeout,
        Snowflake::from_raw(i64::MAX as u64),
        "AdminUser",
        Some("Spamming"),
        Some("2h"),
        Timestamp(1_700_000_000_000),
    )
    .expect("valid");
    let added = logs.add(target, &who, &entry, view(1)).expect("add");
    assert_eq!(added.view_id, view(1));
    assert_eq!(added.subject, target);
    assert_eq!(added.profile, who);
    assert_eq!(added.entries, [entry.numbered(1)]);
    assert_eq!(logs.history(&view(1)).expect("history"), Some(added.clone()));
    // The id reads back whatever the case of its letters.
    let shouted = ViewId::parse(&view(1).as_str().to_ascii_uppercase()).expect("upper case");
    assert_eq!(logs.history(&shouted).expect("history"), Some(added));
    assert_eq!(logs.history(&view(2)).expect("history"), None, "still unknown");

    // Ids beyond a BIGINT are refused, naming the header, and record nothing.
    let err = logs.add(subject(GUILD, u64::MAX), &who, &entry, view(3)).expect_err("user too large");
    assert!(matches!(err, Error::Invalid { field: "X-User-Id", .. }), "{err:?}");
    // A guild id beyond a BIGINT cannot reach the store: no `ServerId` holds one.
    assert_eq!(ServerId::from_discord(Snowflake::from_raw(u64::MAX)), None);
    let huge_moderator = NewEntry { moderator_id: Snowflake::from_raw(u64::MAX), ..entry.clone() };
    let err = logs.add(target, &who, &huge_moderator, view(3)).expect_err("moderator too large");
    assert!(matches!(err, Error::Invalid { field: "X-Moderator-Id", .. }), "{err:?}");
    assert_eq!(logs.history(&view(3)).expect("history"), None);
    assert_eq!(cases(&logs.add(target, &who, &entry, view(4)).expect("add again")), [1, 2], "no number was used up");
}

fn modlog_subjects_keep_their_view_id_and_refresh_their_profile(s: &Stores) {
    let logs = &*s.mod_logs;
    let target = subject(GUILD, 500_000_000_000_000_001);
    let first = modlog_entry(ModAction::Warn, Some("first"), 1_000);
    let second = modlog_entry(ModAction::Ban, None, 2_000);
    logs.add(target, &profile("old name", "Old Guild"), &first, view(10)).expect("first add");
    let renamed =
        SubjectProfile { user_avatar: None, guild_icon: Some("new-icon".into()), ..profile("new name", "New Guild") };
    let after = logs.add(target, &renamed, &second, view(11)).expect("second add");
    assert_eq!(after.view_id, view(10), "the second add's view id is ignored");
    assert_eq!(after.profile, renamed, "the profile is refreshed");
    assert_eq!(after.entries, [first.numbered(1), second.numbered(2)], "oldest first");
    assert_eq!(logs.history(&view(10)).expect("history"), Some(after));
    assert_eq!(logs.history(&view(11)).expect("history"), None, "the unused view id names nothing");

    // Another user, or the same user as another bot records them, is another subject.
    let other_user = logs
        .add(subject(GUILD, 500_000_000_000_000_002), &profile("b", "New Guild"), &first, view(12))
        .expect("other user");
    assert_eq!((other_user.view_id.clone(), cases(&other_user)), (view(12), vec![3]));
    let other_bot = Subject { bot: Snowflake::from_raw(BOT + 1), ..target };
    let as_other_bot = logs.add(other_bot, &profile("old name", "New Guild"), &first, view(13)).expect("other bot");
    // Another bot numbers its own cases in the guild, from 1.
    assert_eq!((as_other_bot.view_id.clone(), cases(&as_other_bot)), (view(13), vec![1]));
    assert_eq!(cases(&logs.history(&view(10)).expect("history").expect("known")), [1, 2]);

    // A view id that already names another subject is never silently shared.
    let err = logs
        .add(subject(GUILD, 500_000_000_000_000_003), &profile("c", "New Guild"), &first, view(10))
        .expect_err("view id collision");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert_eq!(cases(&logs.history(&view(10)).expect("history").expect("known")), [1, 2]);
}

fn modlog_case_numbers_count_per_guild(s: &Stores) {
    let logs = &*s.mod_logs;
    let (here, there) = (GUILD, GUILD + 1);
    let (alice, bob) = (500_000_000_000_000_011, 500_000_000_000_000_012);
    let mut seen = Vec::new();
    for (n, (guild, user)) in
        [(here, alice), (there, alice), (here, bob), (here, alice), (there, bob), (here, bob), (there, alice)]
            .into_iter()
            .enumerate()
    {
        let history = logs
            .add(
                subject(guild, user),
                &profile("u", "g"),
                &modlog_entry(ModAction::Kick, None, 1_000),
                view(20 + n as u128),
            )
            .expect("add");
        seen.push((guild, history.entries.last().expect("the new entry").case_number));
    }
    assert_eq!(
        seen,
        [(here, 1), (there, 1), (here, 2), (here, 3), (there, 2), (here, 4), (there, 3)],
        "each guild counts from 1 on its own"
    );
    let history_of = |n: u128| logs.history(&view(n)).expect("history").expect("known");
    assert_eq!(cases(&history_of(20)), [1, 3], "alice here");
    assert_eq!(cases(&history_of(21)), [1, 3], "alice there");
    assert_eq!(cases(&history_of(22)), [2, 4], "bob here");
    assert_eq!(cases(&history_of(24)), [2], "bob there");
}

fn concurrent_modlog_adds_number_cases_without_gaps_or_duplicates(s: &Stores) {
    let logs = Arc::clone(&s.mod_logs);
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let (logs, start) = (Arc::clone(&logs), Arc::clone(&start));
            thread::spawn(move || {
                // Open the pool's connections first, so that the adds overlap.
                logs.history(&view(0)).expect("warm up");
                start.wait();
                (0..25u64)
                    .map(|i| {
                        // Three users share the guild, so adds also race on creating each subject.
                        let target = subject(GUILD, 500_000_000_000_000_100 + (t + i) % 3);
                        let entry = modlog_entry(ModAction::Warn, Some(&format!("{t}-{i}")), 1_000);
                        let history = logs
                            .add(target, &profile("u", "g"), &entry, view(u128::from(1_000 + t * 100 + i)))
                            .expect("add");
                        let last = history.entries.last().expect("the new entry");
                        assert_eq!(last.reason, entry.reason, "the newest entry is this add's");
                        (target, history.view_id, last.case_number)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let added: Vec<_> = threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
    let mut numbers: Vec<i64> = added.iter().map(|(_, _, case)| *case).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=200).collect::<Vec<i64>>(), "every add got its own number, with no gap");

    // Each subject kept one view id, and its history holds exactly its own entries, in case order.
    let mut everything = Vec::new();
    for user in 0..3 {
        let target = subject(GUILD, 500_000_000_000_000_100 + user);
        let views: std::collections::BTreeSet<_> =
            added.iter().filter(|(s, _, _)| *s == target).map(|(_, v, _)| v.clone()).collect();
        assert_eq!(views.len(), 1, "one view id per subject: {views:?}");
        let history = logs.history(views.first().expect("one")).expect("history").expect("known");
        let own = cases(&history);
        assert!(own.windows(2).all(|w| w[0] < w[1]), "oldest first: {own:?}");
        let mut expected: Vec<i64> = added.iter().filter(|(s, _, _)| *s == target).map(|(_, _, c)| *c).collect();
        expected.sort_unstable();
        assert_eq!(own, expected);
        everything.extend(own);
    }
    everything.sort_unstable();
    assert_eq!(everything, (1..=200).collect::<Vec<i64>>());
}

fn concurrent_modlog_adds_by_two_bots_each_number_from_one(s: &Stores) {
    let logs = Arc::clone(&s.mod_logs);
    let start = Arc::new(Barrier::new(6));
    let bots = [BOT, BOT + 7];
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            let (logs, start) = (Arc::clone(&logs), Arc::clone(&start));
            let bot = bots[usize::try_from(t % 2).expect("small")];
            thread::spawn(move || {
                logs.history(&view(0)).expect("warm up");
                start.wait();
                (0..20u64)
                    .map(|i| {
                        // Both bots log the same users in the same guild.
                        let target = Subject {
                            bot: Snowflake::from_raw(bot),
                            ..subject(GUILD, 500_000_000_000_000_200 + i % 2)
                        };
                        let entry = modlog_entry(ModAction::Kick, Some(&format!("{t}-{i}")), 1_000);
                        let history = logs
                            .add(target, &profile("u", "g"), &entry, view(u128::from(5_000 + t * 100 + i)))
                            .expect("add");
                        (bot, history.entries.last().expect("the new entry").case_number)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let added: Vec<(u64, i64)> = threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
    for bot in bots {
        let mut numbers: Vec<i64> = added.iter().filter(|(b, _)| *b == bot).map(|(_, case)| *case).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=60).collect::<Vec<i64>>(), "bot {bot} numbers its own cases 1..N without gaps");
    }
}

fn modlog_histories_are_read_a_page_at_a_time(s: &Stores) {
    let logs = &*s.mod_logs;
    let target = subject(GUILD, 500_000_000_000_000_300);
    let mut last = None;
    for n in 1..=250i64 {
        let added = logs
            .add(target, &profile("u", "g"), &modlog_entry(ModAction::Warn, Some(&n.to_string()), n), view(7_000))
            .expect("add");
        // The add answers the page holding the new entry, never more than a page.
        assert_eq!(added.total_entries, u64::try_from(n).expect("positive"));
        assert_eq!(added.page, u64::try_from((n - 1) / 100).expect("positive"));
        assert_eq!(added.entries.last().map(|e| e.case_number), Some(n));
        assert!(added.entries.len() <= 100);
        last = Some(added);
    }
    let newest = logs.history(&view(7_000)).expect("history").expect("known");
    assert_eq!(Some(&newest), last.as_ref());
    assert_eq!((newest.page, newest.page_count(), newest.entries.len()), (2, 3, 50));
    assert_eq!(cases(&newest), (201..=250).collect::<Vec<i64>>());
    let first = logs.history_page(&view(7_000), 0).expect("page").expect("known");
    assert_eq!(cases(&first), (1..=100).collect::<Vec<i64>>());
    assert!(first.is_full());
    let middle = logs.history_page(&view(7_000), 1).expect("page").expect("known");
    assert_eq!(middle.entries.first().and_then(|e| e.reason.as_deref()), Some("101"));
    let past = logs.history_page(&view(7_000), 3).expect("page").expect("known");
    assert!(past.entries.is_empty());
    assert_eq!(past.total_entries, 250);
    assert_eq!(logs.history_page(&view(7_001), 0).expect("page"), None, "unknown view id");
}

#[derive(Debug, diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code)]
    n: i64,
}

fn roblox_settings_round_trip_and_are_replaced(s: &Stores) {
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    assert_eq!(s.roblox.get(a).expect("get"), None);
    let key = |text: &str| OpenCloudKey::parse("openCloudKey", text).expect("key");
    let first =
        RobloxConfig { group: GroupId::parse("groupId", "7").expect("group"), key: key("first-key-0123456789") };
    s.roblox.set(a, &first, Timestamp(1)).expect("set");
    assert_eq!(s.roblox.get(a).expect("get"), Some(first.clone()));
    assert_eq!(s.roblox.get(b).expect("get"), None, "settings are per server");
    let second = RobloxConfig {
        group: GroupId::parse("groupId", "9223372036854775807").expect("group"),
        key: key("second-key-0123456789"),
    };
    s.roblox.set(a, &second, Timestamp(2)).expect("replace");
    assert_eq!(s.roblox.get(a).expect("get"), Some(second));
    if let Some(db) = &s.db {
        // The key is sealed at rest: the column holds neither it nor anything that decodes to it.
        let stored: Vec<String> = db
            .with_connection(|conn| {
                use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = Text)]
                    key_sealed: String,
                }
                diesel::sql_query("SELECT key_sealed FROM roblox_settings")
                    .load::<Row>(conn)
                    .map(|rows| rows.into_iter().map(|r| r.key_sealed).collect())
            })
            .expect("read the column");
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].contains("second-key"), "{}", stored[0]);
    }
}

fn link(discord: u64, roblox: i64, method: LinkMethod, at: i64) -> Link {
    Link {
        discord: Snowflake::from_raw(discord),
        roblox: RobloxUserId::from_stored(roblox),
        method,
        server: (method == LinkMethod::ProfileCode).then(|| server(4_194_304_000)),
        linked_at: Timestamp(at),
    }
}

fn history_len(s: &Stores) -> Option<i64> {
    let db = s.db.as_ref()?;
    Some(
        db.with_connection(|conn| {
            use diesel::{QueryableByName, RunQueryDsl, sql_types::BigInt};
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT COUNT(*) AS n FROM roblox_link_history").get_result::<Count>(conn).map(|c| c.n)
        })
        .expect("count the history"),
    )
}

fn links_are_one_to_one_and_keep_their_history(s: &Stores) {
    let (alice, bob) = (Snowflake::from_raw(1 << 40), Snowflake::from_raw(2 << 40));
    let rob = |n| RobloxUserId::from_stored(n);
    assert!(s.links.link(&link(alice.get(), 10, LinkMethod::OAuth, 1), true).expect("link"));
    assert_eq!(s.links.by_discord(alice).expect("by discord").map(|l| l.roblox), Some(rob(10)));
    assert_eq!(s.links.by_roblox(rob(10)).expect("by roblox").map(|l| l.discord), Some(alice));
    // Alice relinks to another account: the first link ends.
    assert!(s.links.link(&link(alice.get(), 11, LinkMethod::OAuth, 2), false).expect("relink"));
    assert_eq!(s.links.by_roblox(rob(10)).expect("by roblox"), None);
    // Bob takes Alice's account: Alice's link ends, one account has one Discord user.
    assert!(s.links.link(&link(bob.get(), 11, LinkMethod::OAuth, 3), false).expect("take over"));
    assert_eq!(s.links.by_discord(alice).expect("by discord"), None);
    assert_eq!(s.links.by_roblox(rob(11)).expect("by roblox").map(|l| l.discord), Some(bob));
    let ended = s.links.unlink(bob, Timestamp(4)).expect("unlink");
    assert_eq!(ended.map(|l| (l.roblox, l.method)), Some((rob(11), LinkMethod::OAuth)));
    assert_eq!(s.links.unlink(bob, Timestamp(5)).expect("again"), None);
    assert_eq!(s.links.by_discord(bob).expect("by discord"), None);
    if let Some(n) = history_len(s) {
        assert_eq!(n, 3, "every ended link is kept");
    }
}

fn profile_code_links_spare_sign_in_links(s: &Stores) {
    let (alice, bob) = (Snowflake::from_raw(3 << 40), Snowflake::from_raw(4 << 40));
    assert!(s.links.link(&link(alice.get(), 20, LinkMethod::OAuth, 1), false).expect("oauth"));
    // A bot's profile code can take neither the Discord user nor the Roblox account of a sign-in link.
    assert!(!s.links.link(&link(alice.get(), 21, LinkMethod::ProfileCode, 2), true).expect("refused"));
    assert!(!s.links.link(&link(bob.get(), 20, LinkMethod::ProfileCode, 2), true).expect("refused"));
    assert_eq!(s.links.by_discord(alice).expect("kept").map(|l| l.method), Some(LinkMethod::OAuth));
    // A profile-code link replaces a profile-code link, and keeps the server that made it.
    assert!(s.links.link(&link(bob.get(), 22, LinkMethod::ProfileCode, 3), true).expect("code"));
    assert!(s.links.link(&link(bob.get(), 23, LinkMethod::ProfileCode, 4), true).expect("code again"));
    let bobs = s.links.by_discord(bob).expect("bob").expect("linked");
    assert_eq!((bobs.roblox.get(), bobs.server), (23, Some(server(4_194_304_000))));
}

fn verification_codes_are_per_server_and_replaced(s: &Stores) {
    let who = Snowflake::from_raw(5 << 40);
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    let code = |server, phrase: &str| CodeChallenge {
        discord: who,
        roblox: RobloxUserId::from_stored(30),
        phrase: phrase.into(),
        server,
        expires_at: Timestamp(900_000),
    };
    s.links.put_challenge(&code(a, "one two")).expect("put");
    s.links.put_challenge(&code(b, "three four")).expect("put");
    s.links.put_challenge(&code(a, "five six")).expect("replace");
    assert_eq!(s.links.challenge(a, who).expect("get"), Some(code(a, "five six")));
    assert_eq!(s.links.challenge(b, who).expect("get"), Some(code(b, "three four")));
    s.links.drop_challenge(a, who).expect("drop");
    assert_eq!(s.links.challenge(a, who).expect("get"), None);
    assert!(s.links.challenge(b, who).expect("get").is_some(), "another server's code stays");
}

fn rank_binds_are_replaced_whole_in_order(s: &Stores) {
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    let role = |n: u64| Snowflake::from_raw(n << 22);
    let bind = |min, max, roles: &[u64]| RankBind {
        min: Rank(min),
        max: Rank(max),
        roles: roles.iter().map(|n| role(*n)).collect(),
    };
    assert_eq!(s.binds.binds(a).expect("none"), vec![]);
    let first = vec![bind(50, 255, &[3, 1]), bind(0, 0, &[2]), bind(1, 49, &[1])];
    s.binds.set_binds(a, &first).expect("set");
    s.binds.set_binds(b, &[bind(1, 1, &[9])]).expect("set");
    let read = s.binds.binds(a).expect("read");
    assert_eq!(
        read.iter().map(|b| (b.min, b.max)).collect::<Vec<_>>(),
        [(Rank(50), Rank(255)), (Rank(0), Rank(0)), (Rank(1), Rank(49))]
    );
    assert_eq!(read[0].roles, [role(1), role(3)], "a bind's roles come back in id order");
    s.binds.set_binds(a, &[bind(2, 3, &[4])]).expect("replace");
    assert_eq!(s.binds.binds(a).expect("read"), vec![bind(2, 3, &[4])]);
    assert_eq!(s.binds.binds(b).expect("read"), vec![bind(1, 1, &[9])], "per server");
    s.binds.set_binds(a, &[]).expect("clear");
    assert_eq!(s.binds.binds(a).expect("read"), vec![]);
}

fn signin_flows_are_taken_once_and_purged_when_expired(s: &Stores) {
    let flow = |hash: &str, stage: Stage, expires: i64| SignInFlow {
        state_hash: hash.into(),
        browser_hash: "b".repeat(64),
        stage,
        verifier: "v".repeat(43),
        expires_at: Timestamp(expires),
    };
    let roblox = Stage::Roblox { discord: Snowflake::from_raw(6 << 40), discord_name: "casey".into() };
    for f in [
        flow("a1", Stage::Discord(Purpose::Link), 1_000),
        flow("a2", Stage::Discord(Purpose::Unlink), 1_000),
        flow("a3", roblox.clone(), 5_000),
    ] {
        s.flows.put(&f).expect("put");
    }
    assert_eq!(s.flows.take("a3").expect("take"), Some(flow("a3", roblox, 5_000)));
    assert_eq!(s.flows.take("a3").expect("again"), None, "a state is used once");
    assert_eq!(s.flows.take("zz").expect("unknown"), None);
    assert_eq!(s.flows.purge(Timestamp(2_000)).expect("purge"), 2);
    assert_eq!(s.flows.take("a1").expect("purged"), None);
}

fn backup(view: u8, guild: ServerId) -> BackupRecord {
    BackupRecord {
        view: garrison_core::view_id::ViewId::from_entropy([view; 16]),
        guild,
        tag: AuthTag([view; 32]),
        filename: Some("before the reorganisation".into()),
        created_at: Timestamp(1_700_000_000_000),
        versions: vec![Version {
            number: 1,
            kind: VersionKind::Backup,
            bytes: 2_500_000,
            at: Timestamp(1_700_000_000_000),
        }],
    }
}

fn backups_are_one_per_server_with_versions_kept_and_dropped_together(s: &Stores) {
    let (a, b) = (server(4_194_304_010), server(4_194_304_011));
    let first = backup(1, a);
    s.backups.create(&first).expect("created");
    assert_eq!(s.backups.by_view(&first.view).expect("read"), Some(first.clone()));
    assert_eq!(s.backups.by_guild(a).expect("read"), Some(first.clone()));
    assert_eq!(s.backups.by_guild(b).expect("read"), None);
    let second = s.backups.create(&backup(2, a)).expect_err("one per server");
    assert!(matches!(second, Error::BackupExists { .. }), "{second}");
    assert_eq!(s.backups.by_view(&backup(2, a).view).expect("read"), None, "nothing of it stored");
    s.backups.create(&backup(3, b)).expect("another server");

    let version =
        |number, kind| Version { number, kind, bytes: 10, at: Timestamp(1_700_000_000_000 + i64::from(number)) };
    assert!(s.backups.add_version(&first.view, &version(2, VersionKind::Snapshot), &[]).expect("added"));
    assert!(!s.backups.add_version(&first.view, &version(2, VersionKind::Backup), &[]).expect("taken"));
    assert!(s.backups.add_version(&first.view, &version(3, VersionKind::Backup), &[1]).expect("added, 1 dropped"));
    let numbers: Vec<(u32, VersionKind)> = s
        .backups
        .by_view(&first.view)
        .expect("read")
        .expect("there")
        .versions
        .iter()
        .map(|v| (v.number, v.kind))
        .collect();
    assert_eq!(numbers, [(2, VersionKind::Snapshot), (3, VersionKind::Backup)]);
    assert!(!s.backups.add_version(&backup(9, a).view, &version(1, VersionKind::Backup), &[]).expect("no backup"));

    assert!(s.backups.delete(&first.view).expect("deleted"));
    assert!(!s.backups.delete(&first.view).expect("already gone"));
    assert_eq!(s.backups.by_guild(a).expect("read"), None);
    s.backups.create(&backup(4, a)).expect("the server may back up again");
    assert_eq!(s.backups.by_guild(a).expect("read").map(|b| b.versions.len()), Some(1), "no version left over");
}

fn concurrent_first_backups_of_one_server_admit_one(s: &Stores) {
    let guild = server(4_194_304_020);
    let barrier = Arc::new(Barrier::new(4));
    let outcomes: Vec<bool> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4u8)
            .map(|n| {
                let (store, barrier) = (Arc::clone(&s.backups), Arc::clone(&barrier));
                scope.spawn(move || {
                    barrier.wait();
                    store.create(&backup(10 + n, guild)).is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("joined")).collect()
    });
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
}

fn premium_grants_are_granted_listed_and_revoked(s: &Stores) {
    let (a, b) = (ServerId::from_stored(SERVER), ServerId::from_stored(SERVER + 1));
    assert!(!s.premium.is_granted(a).expect("the store answers"));
    assert!(s.premium.grant(b, Timestamp(2)).expect("the store answers"));
    assert!(s.premium.grant(a, Timestamp(1)).expect("the store answers"));
    assert!(!s.premium.grant(a, Timestamp(3)).expect("the store answers"), "granted once");
    assert!(s.premium.is_granted(a).expect("the store answers"));
    assert_eq!(
        s.premium.list().expect("the store answers"),
        [(a, Timestamp(1)), (b, Timestamp(2))],
        "by id, the first grant's time"
    );
    assert!(s.premium.revoke(a).expect("the store answers"));
    assert!(!s.premium.revoke(a).expect("the store answers"));
    assert!(!s.premium.is_granted(a).expect("the store answers"));
    assert_eq!(s.premium.list().expect("the store answers"), [(b, Timestamp(2))]);
}

const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.restore-job-token-that-must-stay-sealed";

fn job_id(n: u8) -> garrison_core::view_id::ViewId {
    garrison_core::view_id::ViewId::parse_exact(&format!("{n:02x}").repeat(16)).expect("a view id")
}

fn running_job(n: u8, target: i64) -> Job {
    let mut tally = Tally::default();
    tally.note("Left out: onboarding (the guild lacks COMMUNITY)".into());
    Job {
        id: job_id(n),
        view: job_id(200),
        origin: ServerId::from_stored(SERVER),
        target: ServerId::from_stored(target),
        version: 3,
        mode: Mode::Wipe,
        status: JobStatus::Running,
        step: None,
        done: 0,
        total: 40,
        failed: 0,
        tally,
        started_at: Timestamp(1_000),
        finished_at: None,
        snapshot: Some(4),
        resumed: 0,
    }
}

fn lease(holder: u8, until: i64) -> Lease {
    Lease { holder: job_id(holder), until: Timestamp(until) }
}

fn restore_jobs_keep_progress_and_placed_ids_until_finished(s: &Stores) {
    let jobs = &*s.jobs;
    let token = BotToken::new(TOKEN).expect("a token");
    let mut job = running_job(1, 77);
    jobs.start(&job, &token, &lease(100, 10_000)).expect("started");
    assert_eq!(jobs.get(&job.id).expect("read"), Some(job.clone()));
    assert_eq!(jobs.running_into(ServerId::from_stored(77)).expect("read"), Some(job.id.clone()));
    assert_eq!(jobs.running_into(ServerId::from_stored(78)).expect("read"), None);

    job.step = Some(Step::Roles);
    job.done = 2;
    job.tally.record(Step::Roles, Did::Created);
    job.tally.record(Step::Roles, Did::Created);
    assert!(jobs.save(&job, &[(Id(10), Id(1_010)), (Id(11), Id(1_011))], &lease(100, 20_000)).expect("saved"));
    job.done = 3;
    job.failed = 1;
    job.tally.fail(Step::Roles, "Failed: Create role X: refused".into());
    assert!(jobs.save(&job, &[(Id(11), Id(1_011))], &lease(100, 20_000)).expect("saved again"));
    assert_eq!(jobs.get(&job.id).expect("read"), Some(job.clone()));

    // Another runner's save changes nothing.
    let mut other = job.clone();
    other.done = 39;
    assert!(!jobs.save(&other, &[(Id(12), Id(1_012))], &lease(101, 30_000)).expect("refused"));
    assert_eq!(jobs.get(&job.id).expect("read").map(|j| j.done), Some(3));
    assert!(!jobs.finish(&other, &job_id(101)).expect("refused"));

    job.status = JobStatus::Finished;
    job.finished_at = Some(Timestamp(25_000));
    assert!(jobs.finish(&job, &job_id(100)).expect("finished"));
    assert_eq!(jobs.get(&job.id).expect("read"), Some(job.clone()));
    assert_eq!(jobs.running_into(ServerId::from_stored(77)).expect("read"), None);
    assert!(!jobs.save(&job, &[], &lease(100, 40_000)).expect("a finished job takes no saves"));
}

fn expired_leases_are_claimed_once_with_the_token_and_placed_ids(s: &Stores) {
    let jobs = &*s.jobs;
    let token = BotToken::new(TOKEN).expect("a token");
    let job = running_job(2, 80);
    jobs.start(&job, &token, &lease(100, 10_000)).expect("started");
    assert!(jobs.save(&job, &[(Id(20), Id(2_020)), (Id(5), Id(2_005))], &lease(100, 10_000)).expect("saved"));
    assert!(jobs.claim(Timestamp(9_999), &lease(101, 20_000), 8).expect("claim").is_empty(), "the lease holds");

    let claimed = jobs.claim(Timestamp(10_001), &lease(101, 20_000), 8).expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job, job);
    assert_eq!(claimed[0].token.expose(), TOKEN);
    assert_eq!(claimed[0].placed, [(Id(5), Id(2_005)), (Id(20), Id(2_020))]);
    assert!(jobs.claim(Timestamp(10_001), &lease(102, 20_000), 8).expect("claim").is_empty(), "claimed once");
    assert!(!jobs.save(&job, &[], &lease(100, 30_000)).expect("the old runner lost it"));
    assert!(jobs.save(&job, &[], &lease(101, 30_000)).expect("the new runner holds it"));

    for n in 3..6 {
        jobs.start(&running_job(n, 81 + i64::from(n)), &token, &lease(100, 10_000)).expect("started");
    }
    assert_eq!(jobs.claim(Timestamp(20_000), &lease(103, 40_000), 2).expect("claim").len(), 2, "at most the limit");
    assert_eq!(jobs.claim(Timestamp(20_000), &lease(104, 40_000), 8).expect("claim").len(), 1);

    // At rest the token is sealed: its text is nowhere in the table.
    if let Some(db) = &s.db {
        let rows = db
            .with_connection(|conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query(format!(
                    "SELECT COUNT(*) AS n FROM restore_jobs WHERE token_sealed LIKE '%{}%'",
                    &TOKEN[TOKEN.len() - 20..]
                ))
                .load::<Count>(conn)
            })
            .expect("count");
        assert_eq!(rows[0].n, 0, "a token in the clear");
    }
}

fn finished_jobs_are_pruned_and_forget_their_token(s: &Stores) {
    let jobs = &*s.jobs;
    let token = BotToken::new(TOKEN).expect("a token");
    let mut job = running_job(6, 90);
    jobs.start(&job, &token, &lease(100, 10_000)).expect("started");
    jobs.start(&running_job(7, 91), &token, &lease(100, 10_000)).expect("started");
    job.status = JobStatus::Finished;
    job.finished_at = Some(Timestamp(5_000));
    assert!(jobs.finish(&job, &job_id(100)).expect("finished"));
    let claimed = jobs.claim(Timestamp(50_000), &lease(101, 60_000), 8).expect("claim");
    assert_eq!(claimed.iter().map(|c| c.job.id.clone()).collect::<Vec<_>>(), [job_id(7)], "finished jobs stay done");
    assert_eq!(jobs.prune(Timestamp(5_000)).expect("pruned"), 0, "finished at 5000 is not before 5000");
    assert_eq!(jobs.prune(Timestamp(5_001)).expect("pruned"), 1);
    assert_eq!(jobs.get(&job.id).expect("read"), None);
    assert!(jobs.get(&job_id(7)).expect("read").is_some(), "running jobs are never pruned");
}

fn stream_watches_are_one_per_streamer_and_channel_and_bounded(s: &Stores) {
    use garrison_core::streams::{
        Platform,
        watches::{Added, NewWatch},
    };
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    let watch = |server, platform, streamer: &str, channel: u64| NewWatch {
        server,
        platform,
        streamer: streamer.into(),
        channel: Snowflake::from_raw(channel),
        message: Some("We are live!".into()),
        mention_role: Some(Snowflake::from_raw(1 << 40)),
    };
    let Added::Added(first) = s.watches.add(&watch(a, Platform::Twitch, "xQc", 1 << 30), Timestamp(1), 3).expect("add")
    else {
        panic!("added")
    };
    assert_eq!((first.streamer.as_str(), first.key(), first.platform), ("xQc", "xqc".into(), Platform::Twitch));
    assert_eq!(first.mention_role, Some(Snowflake::from_raw(1 << 40)));
    // The same streamer in any letter case, into the same channel, is the same watch.
    assert_eq!(
        s.watches.add(&watch(a, Platform::Twitch, "XQC", 1 << 30), Timestamp(2), 3).expect("add"),
        Added::Exists(first.clone())
    );
    assert!(matches!(
        s.watches.add(&watch(a, Platform::TikTok, "xqc", 1 << 30), Timestamp(2), 3).expect("add"),
        Added::Added(_)
    ));
    assert!(matches!(
        s.watches.add(&watch(a, Platform::Twitch, "xqc", 1 << 31), Timestamp(2), 3).expect("add"),
        Added::Added(_)
    ));
    assert_eq!(
        s.watches.add(&watch(a, Platform::YouTube, "other", 1 << 30), Timestamp(3), 3).expect("add"),
        Added::Full
    );
    assert!(
        matches!(
            s.watches.add(&watch(b, Platform::YouTube, "other", 1 << 30), Timestamp(3), 3).expect("add"),
            Added::Added(_)
        ),
        "per server"
    );
    let listed = s.watches.list(a).expect("list");
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], first);
    assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert!(!s.watches.remove(b, first.id).expect("remove"), "another server's watch");
    assert!(s.watches.remove(a, first.id).expect("remove"));
    assert!(!s.watches.remove(a, first.id).expect("remove"), "gone");
    let all = s.watches.page(0, 100).expect("page");
    assert_eq!(all.len(), 3);
    let rest = s.watches.page(all[0].id, 1).expect("page");
    assert_eq!(rest, vec![all[1].clone()], "pages by id");
    let of_xqc = s.watches.of_streamer(Platform::Twitch, "xqc").expect("of a streamer");
    assert_eq!(of_xqc.len(), 1, "{of_xqc:?}");
    assert_eq!((of_xqc[0].platform, of_xqc[0].key()), (Platform::Twitch, "xqc".to_owned()));
    assert_eq!(s.watches.of_streamer(Platform::YouTube, "other").expect("of a streamer").len(), 1, "every server's");
}

fn stream_keys_are_sealed_and_replaced(s: &Stores) {
    use garrison_core::streams::{Secret, TwitchCredentials, watches::ServerStreamKeys};
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    let secret = |text: &str| Secret::parse("key", text).expect("secret");
    assert_eq!(s.stream_keys.get(a).expect("get"), None);
    let keys = ServerStreamKeys {
        youtube_key: Some(secret("AIzaSy-youtube-key-in-the-contract")),
        twitch: Some(TwitchCredentials {
            client_id: secret("client-id-x"),
            client_secret: secret("twitch-secret-in-the-contract"),
        }),
    };
    s.stream_keys.set(a, &keys, Timestamp(1)).expect("set");
    assert_eq!(s.stream_keys.get(a).expect("get"), Some(keys));
    assert_eq!(s.stream_keys.get(b).expect("get"), None, "per server");
    let fewer = ServerStreamKeys { youtube_key: None, twitch: None };
    s.stream_keys.set(a, &fewer, Timestamp(2)).expect("replace");
    assert_eq!(s.stream_keys.get(a).expect("get"), Some(fewer));
    let only = ServerStreamKeys { youtube_key: Some(secret("AIzaSy-second-key")), twitch: None };
    s.stream_keys.set(a, &only, Timestamp(3)).expect("replace");
    s.stream_keys.set(b, &only, Timestamp(3)).expect("set b");
    if let Some(db) = &s.db {
        // Sealed at rest: no column holds a credential, and b's seal does not open a's row.
        let stored: Vec<String> = db
            .with_connection(|conn| {
                use diesel::{
                    QueryableByName, RunQueryDsl,
                    sql_types::{Nullable, Text},
                };
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = Nullable<Text>)]
                    youtube_key_sealed: Option<String>,
                }
                diesel::sql_query("SELECT youtube_key_sealed FROM stream_keys")
                    .load::<Row>(conn)
                    .map(|rows| rows.into_iter().filter_map(|r| r.youtube_key_sealed).collect())
            })
            .expect("read the column");
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|sealed| !sealed.contains("AIzaSy")), "{stored:?}");
        assert_ne!(stored[0], stored[1], "bound to the row");
    }
}

fn stream_alerts_are_claimed_once_per_watch_and_stream(s: &Stores) {
    use garrison_core::streams::{
        Platform,
        alerts::NewAlert,
        watches::{Added, NewWatch},
    };
    let add = |streamer: &str| {
        let watch = NewWatch {
            server: server(4_194_304_000),
            platform: Platform::Twitch,
            streamer: streamer.into(),
            channel: Snowflake::from_raw(1 << 30),
            message: None,
            mention_role: None,
        };
        match s.watches.add(&watch, Timestamp(1), 10).expect("add") {
            Added::Added(watch) => watch,
            other => panic!("{other:?}"),
        }
    };
    let (first, second) = (add("one"), add("two"));
    let alert = |watch: i64, stream: &str| NewAlert {
        watch,
        stream_id: stream.into(),
        channel: Snowflake::from_raw(1 << 30),
        title: "Chess".into(),
        started_at: Some(Timestamp(5)),
    };
    let claimed = s.alerts.claim(&alert(first.id, "s1"), Timestamp(10)).expect("claim").expect("claimed");
    assert_eq!(s.alerts.claim(&alert(first.id, "s1"), Timestamp(11)).expect("claim"), None, "once per stream");
    let other = s.alerts.claim(&alert(second.id, "s1"), Timestamp(11)).expect("claim").expect("per watch");
    assert_eq!(s.alerts.claim(&alert(999_999, "s1"), Timestamp(11)).expect("claim"), None, "no such watch");
    s.alerts.posted(claimed, Snowflake::from_raw(1 << 41)).expect("posted");
    s.alerts.failed(other, "Missing Permissions").expect("failed");
    let open = s.alerts.open(&[first.id, second.id]).expect("open");
    assert_eq!(open.len(), 2);
    assert_eq!(
        (open[0].id, open[0].message, open[0].title.as_str(), open[0].started_at, open[0].posted_at),
        (claimed, Some(Snowflake::from_raw(1 << 41)), "Chess", Some(Timestamp(5)), Timestamp(10))
    );
    assert_eq!(open[1].message, None, "a failed post has no message");
    assert_eq!(s.alerts.open(&[second.id]).expect("open").len(), 1, "only the watches asked for");
    s.alerts.end(claimed, Timestamp(20)).expect("end");
    assert_eq!(s.alerts.open(&[first.id]).expect("open"), vec![], "ended");
    assert_eq!(s.alerts.claim(&alert(first.id, "s1"), Timestamp(30)).expect("claim"), None, "ended is still claimed");
    assert!(s.alerts.claim(&alert(first.id, "s2"), Timestamp(30)).expect("claim").is_some(), "the next stream");
    // A deleted watch takes its alerts with it.
    assert!(s.watches.remove(server(4_194_304_000), second.id).expect("remove"));
    assert_eq!(s.alerts.open(&[second.id]).expect("open"), vec![]);
    let many: Vec<i64> = (1_000_000..1_001_200).chain([first.id]).collect();
    assert_eq!(s.alerts.open(&many).expect("open").len(), 1, "long lists of watches are read in parts");
}

fn webhook_events_are_queued_for_subscribed_endpoints_and_attempts_recorded(s: &Stores) {
    use garrison_core::webhooks::{Attempt, DeliveryState, Endpoint, Event, NewEndpoint, WebhookSecret};
    let (a, b) = (server(4_194_304_000), server(4_194_304_001));
    let endpoint = |id: &str, server, events: &[&str], secret: u8| NewEndpoint {
        endpoint: Endpoint {
            id: id.into(),
            server,
            url: format!("https://hooks.example/{id}"),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            description: Some("ops".into()),
            created_at: Timestamp(i64::from(secret)),
            failing_since: None,
            disabled_at: None,
            previous_secret_until: None,
        },
        secret: WebhookSecret::from_bytes([secret; 32]),
    };
    assert!(s.webhooks.add(&endpoint("wh_1", a, &["xp.changed", "loa.started"], 1), 2).expect("add"));
    assert!(s.webhooks.add(&endpoint("wh_2", a, &["loa.started"], 2), 2).expect("add"));
    assert!(!s.webhooks.add(&endpoint("wh_3", a, &["xp.changed"], 3), 2).expect("add"), "two at most");
    assert!(s.webhooks.add(&endpoint("wh_4", b, &["xp.changed"], 4), 2).expect("add"), "per server");
    let listed = s.webhooks.list(a).expect("list");
    assert_eq!(listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["wh_1", "wh_2"]);
    assert_eq!(listed[0].events, ["xp.changed", "loa.started"]);
    assert_eq!(s.webhooks.get(b, "wh_1").expect("get"), None, "another server's");

    let event = |id: &str, server, kind: &'static str, at: i64| Event {
        id: id.into(),
        server,
        kind,
        body: format!(r#"{{"type":"{kind}"}}"#),
        created_at: Timestamp(at),
    };
    let subscriptions = |server| {
        s.webhooks
            .subscriptions(server)
            .expect("subscriptions")
            .into_iter()
            .map(|s| (s.endpoint, s.events))
            .collect::<Vec<_>>()
    };
    let strings = |items: &[&str]| items.iter().map(|i| (*i).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        subscriptions(a),
        [("wh_1".to_owned(), strings(&["xp.changed", "loa.started"])), ("wh_2".to_owned(), strings(&["loa.started"]))]
    );
    assert_eq!(subscriptions(b), [("wh_4".to_owned(), strings(&["xp.changed"]))], "per server");
    s.webhooks.enqueue(&event("msg_1", a, "xp.changed", 10), &["wh_1".into()]).expect("enqueue");
    s.webhooks.enqueue(&event("msg_2", a, "loa.started", 20), &["wh_1".into(), "wh_2".into()]).expect("enqueue");
    s.webhooks.enqueue(&event("msg_3", a, "medal.awarded", 30), &[]).expect("nothing to enqueue");
    s.webhooks.enqueue(&event("msg_4", a, "webhook.test", 40), &["wh_2".into(), "wh_gone".into()]).expect("enqueue");

    let hold = Timestamp(10_000);
    assert_eq!(s.webhooks.claim_due(Timestamp(25), hold, 10).expect("due").len(), 0, "in the outbox: no delivery yet");
    let event_ids =
        |due: &[garrison_core::webhooks::DueDelivery]| due.iter().map(|d| d.event_id.clone()).collect::<Vec<_>>();
    let first = s.webhooks.fan_out(Timestamp(25), hold, 2).expect("fan out");
    assert_eq!(event_ids(&first), ["msg_1"], "whole events while their deliveries fit (msg_2's two would not)");
    let rest = s.webhooks.fan_out(Timestamp(25), hold, 10).expect("fan out");
    assert_eq!(event_ids(&rest), ["msg_2", "msg_2", "msg_4"], "oldest first; an endpoint that is gone gets none");
    assert_eq!(s.webhooks.fan_out(Timestamp(25), hold, 10).expect("fan out").len(), 0, "the outbox is empty");
    let due: Vec<_> = first.into_iter().chain(rest).collect();
    assert_eq!(due[0].secret, WebhookSecret::from_bytes([1; 32]), "the secret comes back unsealed");
    assert_eq!(due[0].previous_secret, None, "never rotated");
    assert_eq!(due[0].url, "https://hooks.example/wh_1");
    assert_eq!(due[0].body, r#"{"type":"xp.changed"}"#);
    assert_eq!(
        (due[2].url.as_str(), due[2].secret.clone()),
        ("https://hooks.example/wh_2", WebhookSecret::from_bytes([2; 32]))
    );
    assert_eq!(due[0].attempts, 0);
    assert_eq!(s.webhooks.claim_due(Timestamp(25), hold, 10).expect("due").len(), 0, "held: taken once");
    let retry = Attempt {
        state: DeliveryState::Pending,
        next_attempt_at: Some(Timestamp(1_000)),
        status: Some(503),
        error: None,
        latency_ms: 12,
        at: Timestamp(25),
    };
    s.webhooks
        .attempted(&[(due[0].id, retry.clone()), (due[0].id, Attempt { at: Timestamp(30), ..retry.clone() })])
        .expect("attempted");
    let failing = s.webhooks.get(a, "wh_1").expect("get").expect("kept");
    assert_eq!(failing.failing_since, Some(Timestamp(25)), "failing from its first failed attempt");
    let delivered =
        Attempt { state: DeliveryState::Delivered, next_attempt_at: None, status: Some(204), ..retry.clone() };
    s.webhooks.attempted(&[(due[1].id, delivered.clone())]).expect("attempted");
    assert_eq!(s.webhooks.get(a, "wh_1").expect("get").expect("kept").failing_since, None, "a success ends it");
    // In one round: a success, then a failure: failing since that failure; then a success again.
    s.webhooks
        .attempted(&[
            (due[2].id, Attempt { at: Timestamp(40), ..delivered.clone() }),
            (due[2].id, Attempt { at: Timestamp(50), ..retry.clone() }),
        ])
        .expect("attempted");
    assert_eq!(s.webhooks.get(a, "wh_2").expect("get").expect("kept").failing_since, Some(Timestamp(50)));
    s.webhooks.attempted(&[(due[2].id, Attempt { at: Timestamp(70), ..delivered.clone() })]).expect("attempted");
    assert_eq!(s.webhooks.get(a, "wh_2").expect("get").expect("kept").failing_since, None);
    assert_eq!(s.webhooks.claim_due(Timestamp(1_000), Timestamp(1_500), 1).expect("due").len(), 1, "limited");
    let again = s.webhooks.claim_due(hold, Timestamp(15_000), 10).expect("due");
    assert_eq!(again.iter().find(|d| d.id == due[0].id).map(|d| d.attempts), Some(2), "due again after its attempts");
    assert!(
        again.iter().any(|d| d.event_id == "msg_4"),
        "held ones never attempted (their dispatcher died) are due once the hold ends"
    );

    // A rotation: the new secret signs, the previous one too until it ends.
    assert!(s.webhooks.rotate(a, "wh_1", &WebhookSecret::from_bytes([9; 32]), Timestamp(50_000)).expect("rotate"));
    assert!(!s.webhooks.rotate(b, "wh_1", &WebhookSecret::from_bytes([9; 32]), Timestamp(50_000)).expect("rotate"));
    assert_eq!(s.webhooks.get(a, "wh_1").expect("get").expect("kept").previous_secret_until, Some(Timestamp(50_000)));
    let redone = s.webhooks.redeliver(a, "wh_1", due[1].id, Timestamp(20_000)).expect("redeliver").expect("found");
    assert_eq!(s.webhooks.redeliver(b, "wh_1", due[1].id, Timestamp(20_000)).expect("redeliver"), None);
    assert_eq!(s.webhooks.redeliver(a, "wh_2", due[1].id, Timestamp(20_000)).expect("redeliver"), None);
    let resent = s.webhooks.claim_due(Timestamp(20_000), Timestamp(30_000), 10).expect("due");
    let resent = resent.iter().find(|d| d.id == redone).expect("the redelivery is due");
    assert_eq!((resent.event_id.as_str(), resent.attempts), ("msg_2", 0));
    assert_eq!(resent.secret, WebhookSecret::from_bytes([9; 32]));
    assert_eq!(resent.previous_secret, Some(WebhookSecret::from_bytes([1; 32])), "both, during the overlap");
    assert!(s.webhooks.redeliver(a, "wh_1", due[1].id, Timestamp(60_000)).expect("redeliver").is_some());
    let later = s.webhooks.claim_due(Timestamp(60_000), Timestamp(70_000), 10).expect("due");
    assert!(later.iter().all(|d| d.previous_secret.is_none()), "the overlap has ended");

    // Failing too long: disabled, pending deliveries failed, no new events; enabled again.
    s.webhooks.attempted(&[(redone, Attempt { at: Timestamp(61_000), ..retry.clone() })]).expect("attempted");
    assert_eq!(
        s.webhooks.disable_failing(Timestamp(60_000), Timestamp(62_000)).expect("disable"),
        Vec::<String>::new()
    );
    assert_eq!(s.webhooks.disable_failing(Timestamp(61_000), Timestamp(62_000)).expect("disable"), ["wh_1"]);
    let off = s.webhooks.get(a, "wh_1").expect("get").expect("kept");
    assert_eq!(off.disabled_at, Some(Timestamp(62_000)));
    assert_eq!(subscriptions(a).len(), 1, "no new events for the disabled one");
    assert!(
        s.webhooks
            .claim_due(Timestamp(i64::MAX / 2), Timestamp(i64::MAX / 2), 10)
            .expect("due")
            .iter()
            .all(|d| d.url != "https://hooks.example/wh_1")
    );
    assert!(s.webhooks.enable(a, "wh_1").expect("enable"));
    assert!(!s.webhooks.enable(b, "wh_1").expect("enable"), "another server's");
    let on = s.webhooks.get(a, "wh_1").expect("get").expect("kept");
    assert_eq!((on.disabled_at, on.failing_since), (None, None));
    assert_eq!(subscriptions(a).len(), 2, "enabled again");

    let history = s.webhooks.deliveries(a, "wh_1", 10).expect("deliveries");
    assert_eq!(history.len(), 4, "both events wh_1 subscribes to, and two redeliveries");
    assert_eq!((history[2].event_id.as_str(), history[2].state), ("msg_2", DeliveryState::Delivered), "newest first");
    assert_eq!(history[0].state, DeliveryState::Failed, "failed when the endpoint was disabled");
    assert_eq!(
        (
            history[3].state,
            history[3].attempts,
            history[3].last_status,
            history[3].last_latency_ms,
            history[3].kind.as_str()
        ),
        (DeliveryState::Failed, 2, Some(503), Some(12), "xp.changed")
    );
    assert_eq!(s.webhooks.deliveries(b, "wh_1", 10).expect("deliveries"), vec![], "another server's");
    assert!(!s.webhooks.remove(b, "wh_1").expect("remove"), "another server's");
    assert!(s.webhooks.remove(a, "wh_1").expect("remove"));
    assert!(
        s.webhooks
            .claim_due(Timestamp(i64::MAX / 2), Timestamp(i64::MAX / 2), 10)
            .expect("due")
            .iter()
            .all(|d| d.url != "https://hooks.example/wh_1")
    );
}
