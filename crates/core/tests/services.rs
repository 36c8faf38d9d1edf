//! The use-case services over in-memory ports and a manual clock: authorization, and EP warning levels
//! as time moves across period boundaries and leaves of absence.

use std::sync::Arc;

use garrison_core::{
    ApiKeyId, Error, MemberKey, RobloxUserId, ServerId, Timestamp,
    apikey::Principal,
    ep::{Company, PerCompany, PolicyDraft},
    records::{MemberRecords, RecordStores, XpChangeRequest},
    xp::{HistoryPage, Reference, XpChange, XpOperation},
};
use garrison_testkit::{ManualClock, MemoryRecords};

const DAY: i64 = Timestamp::MILLIS_PER_DAY;
/// Monday 2024-01-01 00:00 UTC.
const MONDAY: i64 = 1_704_067_200_000;

fn setup() -> (MemberRecords, Arc<ManualClock>, Principal) {
    let store = Arc::new(MemoryRecords::default());
    let clock = Arc::new(ManualClock::at(Timestamp(MONDAY + DAY / 2)));
    let stores = RecordStores {
        xp: store.clone(),
        ep: store.clone(),
        loa: store.clone(),
        medals: store.clone(),
        certifications: store,
    };
    let caller =
        Principal { key_id: ApiKeyId(1), server: ServerId::from_stored(10), name: "bot".into(), read_only: false };
    (MemberRecords::new(stores, clock.clone()), clock, caller)
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
