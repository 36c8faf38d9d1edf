//! The use-case services over in-memory ports and a manual clock: authorization, and EP warning levels
//! as time moves across period boundaries and leaves of absence.

use std::sync::Arc;

use garrison_core::{
    ApiKeyId, Error, MemberKey, RobloxUserId, ServerId, Timestamp,
    apikey::Principal,
    catalogue::{CertificationRef, Description, Name},
    ep::{Company, EpCursor, EpEntry, EpPolicy, PerCompany, PolicyDraft},
    idempotency::{IdempotencyKey, WINDOW_MILLIS},
    loa::Loa,
    ports::{EpLedger, LoaRecords},
    records::{EP_PAGE, MemberRecords, RecordStores, XpChangeRequest},
    webhooks::Outbox,
    xp::{HistoryPage, LeaderboardPage, Reference, XpChange, XpOperation, XpOutcome},
};
use garrison_testkit::{ManualClock, MemoryRecords, SequentialEntropy};
use proptest::prelude::*;

const DAY: i64 = Timestamp::MILLIS_PER_DAY;
/// Monday 2024-01-01 00:00 UTC.
const MONDAY: i64 = 1_704_067_200_000;

fn setup() -> (MemberRecords, Arc<ManualClock>, Principal) {
    let (records, clock, caller, _) = setup_with_store();
    (records, clock, caller)
}

fn setup_with_store() -> (MemberRecords, Arc<ManualClock>, Principal, Arc<MemoryRecords>) {
    let store = Arc::new(MemoryRecords::default());
    let clock = Arc::new(ManualClock::at(Timestamp(MONDAY + DAY / 2)));
    let stores = RecordStores {
        xp: store.clone(),
        ep: store.clone(),
        loa: store.clone(),
        medals: store.clone(),
        certifications: store.clone(),
        writer: Arc::new(garrison_core::threads::InlineWrites),
        outbox: garrison_testkit::outbox(store.clone()),
    };
    let caller =
        Principal { key_id: ApiKeyId(1), server: ServerId::from_stored(10), name: "bot".into(), read_only: false };
    (MemberRecords::new(stores, clock.clone()), clock, caller, store)
}

fn member(id: i64) -> MemberKey {
    MemberKey { server: ServerId::from_stored(10), member: RobloxUserId::from_stored(id) }
}

fn daily_quota(records: &MemberRecords, caller: &Principal, main: i64, max: i64) {
    let draft = PolicyDraft {
        period_days: Some(1),
        quota: Some(PerCompany([main, 0, 0, 0])),
        max_warning_level: Some(max),
        ..PolicyDraft::default()
    };
    records.set_ep_policy(caller, caller.server, draft).expect("policy");
}

#[test]
fn warning_levels_follow_the_clock_across_period_boundaries() {
    let (records, clock, caller) = setup();
    daily_quota(&records, &caller, 10, 3);
    let who = member(1);
    // The policy starts with today's period: nothing has been missed yet.
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 0);

    records.add_ep(&caller, who, Company::Main, 10).expect("add");
    clock.advance_days(1);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 0, "day 0 met");
    assert_eq!(
        records.ep_status(&caller, who).expect("status").current,
        PerCompany::default(),
        "a new period starts empty"
    );

    clock.advance_days(1);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 1, "day 1 missed");
    clock.advance_days(5);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 3, "capped at the maximum");

    // Meeting the quota today changes nothing until today is over, then resets the level.
    let status = records.add_ep(&caller, who, Company::Main, 12).expect("add");
    assert_eq!(status.warning_level, 3);
    assert_eq!(status.current.get(Company::Main), 12);
    clock.advance_millis(DAY / 2 - 1);
    assert_eq!(
        records.ep_status(&caller, who).expect("status").warning_level,
        3,
        "one millisecond before the boundary"
    );
    clock.advance_millis(1);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 0, "at the boundary");
}

#[test]
fn leave_of_absence_excuses_the_periods_it_touches() {
    let (records, clock, caller) = setup();
    daily_quota(&records, &caller, 5, 10);
    let who = member(2);
    clock.advance_days(2);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 2);

    records.start_loa(&caller, who, 3).expect("start");
    assert!(records.loa(&caller, who).expect("loa").active);
    clock.advance_days(2);
    // Days 2 and 3 were spent on leave: skipped, so the level is still the two earlier misses.
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 2);
    records.end_loa(&caller, who).expect("end");
    clock.advance_days(2);
    // Day 4 (the LOA ended during it) is excused; day 5 is missed.
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 3);
    assert!(!records.loa(&caller, who).expect("loa").active);
}

#[test]
fn an_loa_ends_on_its_own() {
    let (records, clock, caller) = setup();
    let who = member(3);
    let started = records.start_loa(&caller, who, 2).expect("start");
    assert_eq!(started.ends_at.map(|t| t.millis() - started.started_at.map_or(0, |s| s.millis())), Some(2 * DAY));
    assert!(matches!(records.start_loa(&caller, who, 1), Err(Error::LoaAlreadyActive { .. })));
    clock.advance_days(2);
    assert!(!records.loa(&caller, who).expect("loa").active);
    assert!(matches!(records.end_loa(&caller, who), Err(Error::NoActiveLoa { .. })));
    records.start_loa(&caller, who, 1).expect("a new one");
}

#[test]
fn keys_act_only_on_their_server_and_read_only_keys_only_read() {
    let (records, _clock, caller) = setup();
    let reader = Principal { read_only: true, ..caller.clone() };
    let elsewhere = MemberKey { server: ServerId::from_stored(11), member: RobloxUserId::from_stored(1) };
    let change = |member| XpChangeRequest {
        member,
        change: XpChange::new(XpOperation::Add, 5).expect("valid"),
        reference: None,
        reason: None,
        idempotency_key: None,
    };

    assert!(matches!(records.change_xp(&caller, change(elsewhere)), Err(Error::Forbidden(_))));
    assert!(matches!(records.xp(&caller, elsewhere), Err(Error::Forbidden(_))));
    assert!(matches!(records.change_xp(&reader, change(member(1))), Err(Error::Forbidden(_))));
    assert!(matches!(records.start_loa(&reader, member(1), 1), Err(Error::Forbidden(_))));
    assert_eq!(records.xp(&reader, member(1)).expect("reads are allowed"), 0);
    records.change_xp(&caller, change(member(1))).expect("write");
    assert_eq!(records.xp(&reader, member(1)).expect("read"), 5);
}

#[test]
fn history_pages_carry_a_cursor_and_the_key_name() {
    let (records, _clock, caller) = setup();
    for n in 1..=5 {
        let request = XpChangeRequest {
            member: member(4),
            change: XpChange::new(XpOperation::Add, n).expect("valid"),
            reference: Some(Reference::parse(&format!("ref-{n}")).expect("valid")),
            reason: None,
            idempotency_key: None,
        };
        records.change_xp(&caller, request).expect("add");
    }
    let first =
        records.xp_history(&caller, member(4), HistoryPage::new(Some(3), None).expect("page")).expect("history");
    assert_eq!(first.entries.iter().map(|e| e.amount).collect::<Vec<_>>(), [5, 4, 3]);
    assert_eq!(first.entries[0].key_name.as_deref(), Some("bot"));
    let next = first.next.expect("more pages");
    let rest =
        records.xp_history(&caller, member(4), HistoryPage::new(Some(3), Some(next)).expect("page")).expect("history");
    assert_eq!(rest.entries.iter().map(|e| e.amount).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(rest.next, None);
}

fn xp_request(who: MemberKey, op: XpOperation, amount: i64, label: Option<&str>, key: Option<&str>) -> XpChangeRequest {
    XpChangeRequest {
        member: who,
        change: XpChange::new(op, amount).expect("valid"),
        reference: label.map(|l| Reference::parse(l).expect("valid label")),
        reason: None,
        idempotency_key: key.map(|k| IdempotencyKey::parse(k).expect("valid key")),
    }
}

#[test]
fn a_reference_is_a_label_and_idempotency_keys_replay_within_24_hours() {
    let (records, clock, caller) = setup();
    let who = member(20);
    // "Weekly patrol" on every patrol: every award counts.
    for _ in 0..3 {
        records.change_xp(&caller, xp_request(who, XpOperation::Add, 10, Some("Weekly patrol"), None)).expect("award");
    }
    assert_eq!(records.xp(&caller, who).expect("balance"), 30);

    let first = records.change_xp(&caller, xp_request(who, XpOperation::Add, 5, None, Some("k1"))).expect("first");
    assert_eq!(first, XpOutcome::Applied { balance: 35, delta: 5 });
    records.change_xp(&caller, xp_request(who, XpOperation::Add, 1, None, None)).expect("another change");
    let again = records.change_xp(&caller, xp_request(who, XpOperation::Add, 5, None, Some("k1"))).expect("replay");
    assert_eq!(again, XpOutcome::Replayed { balance: 35 }, "the first answer again");
    let other = records.change_xp(&caller, xp_request(who, XpOperation::Add, 6, None, Some("k1")));
    assert!(matches!(other, Err(Error::IdempotencyKeyReused { .. })), "{other:?}");
    // The key is scoped to the route: the same key on subtract is another key.
    records.change_xp(&caller, xp_request(who, XpOperation::Subtract, 5, None, Some("k1"))).expect("other route");
    // ... and to the API key.
    let other_key = Principal { key_id: ApiKeyId(2), ..caller.clone() };
    records.change_xp(&other_key, xp_request(who, XpOperation::Add, 5, None, Some("k1"))).expect("other API key");
    assert_eq!(records.xp(&caller, who).expect("balance"), 36);
    // After 24 hours the key is free again.
    clock.advance_millis(WINDOW_MILLIS + 1);
    let later = records.change_xp(&caller, xp_request(who, XpOperation::Add, 6, None, Some("k1"))).expect("expired");
    assert_eq!(later, XpOutcome::Applied { balance: 42, delta: 6 });
}

/// The events recorded so far, as JSON.
fn events(store: &MemoryRecords) -> Vec<serde_json::Value> {
    store.events().iter().map(|body| serde_json::from_str(body).expect("JSON")).collect()
}

#[test]
fn every_change_writes_its_event_and_nothing_else_does() {
    let (records, clock, caller, store) = setup_with_store();
    store.subscribe_all(ServerId::from_stored(10));
    let who = member(7);
    let at = garrison_core::Clock::now(&*clock).to_iso8601();

    records.change_xp(&caller, xp_request(who, XpOperation::Add, 10, Some("patrol"), Some("k1"))).expect("add");
    records.change_xp(&caller, xp_request(who, XpOperation::Add, 10, Some("patrol"), Some("k1"))).expect("replay");
    let refused = records.change_xp(&caller, xp_request(who, XpOperation::Add, 2, None, Some("k1")));
    assert!(refused.is_err(), "a reused key changes nothing");
    records.add_ep(&caller, who, Company::Sub1, 3).expect("ep");
    records.start_loa(&caller, who, 2).expect("loa");
    records.end_loa(&caller, who).expect("end");
    let medal = Name::parse("name", "Valor").expect("name");
    records
        .create_medal(&caller, ServerId::from_stored(10), &medal, &Description::parse("For valor").expect("d"))
        .expect("medal");
    records.award_medal(&caller, who, &medal).expect("award");
    assert!(records.award_medal(&caller, who, &medal).is_err(), "held already: no event");
    records.revoke_medal(&caller, who, &medal).expect("revoke");
    let reference = CertificationRef::parse("PILOT").expect("reference");
    records
        .create_certification(
            &caller,
            ServerId::from_stored(10),
            &reference,
            &Name::parse("name", "Pilot").expect("name"),
            &Description::parse("Flies").expect("d"),
        )
        .expect("certification");
    records.award_certification(&caller, who, &reference).expect("award");
    records.revoke_certification(&caller, who, &reference).expect("revoke");
    // Another server's changes are not this endpoint's.
    let elsewhere = Principal { server: ServerId::from_stored(11), ..caller.clone() };
    let stranger = MemberKey { server: ServerId::from_stored(11), member: RobloxUserId::from_stored(7) };
    records.change_xp(&elsewhere, xp_request(stranger, XpOperation::Add, 1, None, None)).expect("other server");

    let sent = events(&store);
    let kinds: Vec<&str> = sent.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        kinds,
        [
            "xp.changed",
            "ep.changed",
            "loa.started",
            "loa.ended",
            "medal.awarded",
            "medal.revoked",
            "certification.awarded",
            "certification.revoked"
        ]
    );
    assert!(sent.iter().all(|e| e["timestamp"] == at.as_str()), "{sent:?}");
    assert_eq!(
        sent[0]["data"],
        serde_json::json!({"serverId": "10", "robloxId": "7", "operation": "add", "amount": 10, "delta": 10,
            "xp": 10, "reference": "patrol", "reason": null, "keyName": "bot"})
    );
    assert_eq!(sent[1]["data"]["company"], "sub1");
    assert_eq!(sent[1]["data"]["current"]["sub1"], 3);
    assert_eq!(sent[2]["data"]["endedAt"], serde_json::Value::Null);
    assert_eq!(sent[3]["data"]["endedAt"], at.as_str());
    assert_eq!(sent[4]["data"]["medal"], serde_json::json!({"name": "Valor", "description": "For valor"}));
    assert_eq!(sent[6]["data"]["certification"]["reference"], "PILOT");
}

#[test]
fn a_certification_missing_from_the_catalogue_is_not_held() {
    let (records, _clock, caller) = setup();
    let unknown = garrison_core::catalogue::CertificationRef::parse("NOPE").expect("valid reference");
    assert!(!records.has_certification(&caller, member(1), &unknown).expect("a plain no"));
}

#[test]
fn leaderboard_pages_by_offset_or_cursor_alike() {
    let (records, _clock, caller) = setup();
    for (id, xp) in [(1, 50), (2, 70), (3, 50), (4, 5), (5, 90), (6, 50)] {
        records.change_xp(&caller, xp_request(member(id), XpOperation::Set, xp, None, None)).expect("set");
    }
    let all = records.leaderboard(&caller, caller.server, LeaderboardPage::new(Some(100), None, None).expect("page"));
    let all: Vec<(i64, u64)> = all.expect("board").rows.iter().map(|r| (r.member.get(), r.rank)).collect();
    assert_eq!(all, [(5, 1), (2, 2), (1, 3), (3, 4), (6, 5), (4, 6)]);
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = LeaderboardPage::new(Some(4), None, after.as_deref()).expect("page");
        let slice = records.leaderboard(&caller, caller.server, page).expect("board");
        walked.extend(slice.rows.iter().map(|r| (r.member.get(), r.rank)));
        match slice.next {
            Some(cursor) => after = Some(cursor.to_text()),
            None => break,
        }
    }
    assert_eq!(walked, all);
}

#[derive(Debug, Clone)]
struct Step {
    op: XpOperation,
    amount: i64,
    label: Option<&'static str>,
    key: Option<u8>,
}

fn any_step() -> impl Strategy<Value = Step> {
    (0..3usize, 1..1_000i64, proptest::option::of(0..2usize), proptest::option::of(0..4u8)).prop_map(
        |(op, amount, label, key)| Step {
            op: [XpOperation::Set, XpOperation::Add, XpOperation::Subtract][op],
            amount,
            label: label.map(|l| ["Weekly patrol", "Event"][l]),
            key,
        },
    )
}

proptest! {
    /// Against a model where an Idempotency-Key's first request decides: a repeat of it changes nothing
    /// and answers the first answer, another request under it is refused, and a reference label never
    /// changes what a request does.
    #[test]
    fn repeated_idempotency_keys_change_nothing_and_labels_are_just_labels(steps in proptest::collection::vec(any_step(), 1..40)) {
        let (records, _clock, caller) = setup();
        let who = member(30);
        let mut balance = 0i64;
        let mut applied = 0usize;
        let mut first_use: std::collections::BTreeMap<(u8, &'static str), (i64, Option<&'static str>, i64)> = Default::default();
        for step in steps {
            let key = step.key.map(|k| format!("key-{k}"));
            let outcome = records.change_xp(&caller, xp_request(who, step.op, step.amount, step.label, key.as_deref()));
            let scope = step.key.map(|k| (k, step.op.route()));
            match scope.and_then(|s| first_use.get(&s).copied()) {
                Some((amount, label, answer)) if amount == step.amount && label == step.label => {
                    prop_assert_eq!(outcome.expect("replay"), XpOutcome::Replayed { balance: answer });
                }
                Some(_) => {
                    let refused = matches!(outcome, Err(Error::IdempotencyKeyReused { .. }));
                    prop_assert!(refused, "{:?}", outcome);
                }
                None => {
                    balance = garrison_core::xp::apply(balance, XpChange::new(step.op, step.amount).expect("valid")).expect("small");
                    applied += 1;
                    prop_assert_eq!(outcome.expect("applied").balance(), balance);
                    if let Some(scope) = scope {
                        first_use.insert(scope, (step.amount, step.label, balance));
                    }
                }
            }
        }
        prop_assert_eq!(records.xp(&caller, who).expect("balance"), balance);
        let history = records.xp_history(&caller, who, HistoryPage::new(Some(100), None).expect("page")).expect("history");
        prop_assert_eq!(history.entries.len(), applied, "one ledger entry per applied change, labels or not");
    }
}

/// The EP and LOA ports of a `MemoryRecords`, recording the most rows any one call returned.
struct Largest {
    inner: Arc<MemoryRecords>,
    rows: std::sync::atomic::AtomicUsize,
}

impl Largest {
    fn saw<T>(&self, rows: Vec<T>) -> Vec<T> {
        self.rows.fetch_max(rows.len(), std::sync::atomic::Ordering::Relaxed);
        rows
    }
}

impl EpLedger for Largest {
    fn add(&self, member: MemberKey, company: Company, amount: i64, at: Timestamp) -> garrison_core::Result<()> {
        self.inner.add(member, company, amount, at)
    }
    fn entries_page(
        &self,
        member: MemberKey,
        since: Timestamp,
        after: Option<EpCursor>,
        limit: u32,
    ) -> garrison_core::Result<Vec<EpEntry>> {
        Ok(self.saw(self.inner.entries_page(member, since, after, limit)?))
    }
    fn policy(&self, server: ServerId) -> garrison_core::Result<Option<EpPolicy>> {
        self.inner.policy(server)
    }
    fn set_policy(&self, server: ServerId, policy: &EpPolicy, at: Timestamp) -> garrison_core::Result<()> {
        self.inner.set_policy(server, policy, at)
    }
}

impl LoaRecords for Largest {
    fn latest(&self, member: MemberKey) -> garrison_core::Result<Option<Loa>> {
        self.inner.latest(member)
    }
    fn reaching_past(
        &self,
        member: MemberKey,
        ending_after: Timestamp,
        before: Option<i64>,
        limit: u32,
    ) -> garrison_core::Result<Vec<(i64, Loa)>> {
        Ok(self.saw(self.inner.reaching_past(member, ending_after, before, limit)?))
    }
    fn start(&self, member: MemberKey, loa: Loa) -> garrison_core::Result<Loa> {
        self.inner.start(member, loa)
    }
    fn end(&self, member: MemberKey, at: Timestamp) -> garrison_core::Result<Loa> {
        self.inner.end(member, at)
    }
}

#[test]
fn ep_evaluation_reads_every_page_of_entries_and_leave() {
    let store = Arc::new(MemoryRecords::default());
    let spy = Arc::new(Largest { inner: store.clone(), rows: 0.into() });
    let clock = Arc::new(ManualClock::at(Timestamp(MONDAY + DAY / 2)));
    let stores = RecordStores {
        xp: store.clone(),
        ep: spy.clone(),
        loa: spy.clone(),
        medals: store.clone(),
        certifications: store.clone(),
        writer: Arc::new(garrison_core::threads::InlineWrites),
        outbox: garrison_testkit::outbox(store),
    };
    let records = MemberRecords::new(stores, clock.clone());
    let caller =
        Principal { key_id: ApiKeyId(1), server: ServerId::from_stored(10), name: "bot".into(), read_only: false };
    let entries = i64::from(EP_PAGE) * 2 + 1;
    daily_quota(&records, &caller, entries, 10);
    let who = member(3);
    // Day 0: the quota is met only when every page of entries is counted.
    for _ in 0..entries {
        records.add_ep(&caller, who, Company::Main, 1).expect("add");
    }
    // Day 1: one short LOA, the oldest of many.
    clock.advance_days(1);
    records.start_loa(&caller, who, 1).expect("start");
    clock.advance_millis(1);
    records.end_loa(&caller, who).expect("end");
    // Day 2: more LOAs than one page holds.
    clock.advance_days(1);
    for _ in 0..EP_PAGE + 10 {
        clock.advance_millis(1);
        records.start_loa(&caller, who, 1).expect("start");
        clock.advance_millis(1);
        records.end_loa(&caller, who).expect("end");
    }
    // Day 4: day 3 missed, days 2 and 1 on leave (day 1 only through the last page of LOAs), day 0 met.
    clock.advance_days(2);
    assert_eq!(records.ep_status(&caller, who).expect("status").warning_level, 1);
    assert_eq!(
        spy.rows.load(std::sync::atomic::Ordering::Relaxed),
        EP_PAGE as usize,
        "no read returned more than a page"
    );
}

#[test]
fn the_outbox_trusts_what_it_read_of_subscriptions_for_a_second_and_forgets_it_when_told() {
    use garrison_core::webhooks::{SUBSCRIPTIONS_FRESH_MS, WebhookStore};
    let store = Arc::new(MemoryRecords::default());
    let clock = Arc::new(ManualClock::at(Timestamp(MONDAY)));
    let outbox = Outbox::new(store.clone(), Arc::new(SequentialEntropy::default()), clock.clone());
    let server = ServerId::from_stored(10);
    let at = Timestamp(MONDAY);
    let record = || outbox.record(server, "xp.changed", at, || serde_json::json!({})).expect("record");
    assert_eq!(record(), 0, "no endpoint yet");
    store.subscribe_all(server);
    assert_eq!(record(), 0, "what was read is trusted for a while (an endpoint another replica added)");
    clock.advance_millis(SUBSCRIPTIONS_FRESH_MS);
    assert_eq!(record(), 1, "then read again");
    assert_eq!(store.events().len(), 1);
    assert!(store.remove(server, "wh_10").expect("remove"));
    outbox.forget(server);
    assert_eq!(record(), 0, "at once when this process changed the endpoints");
}
