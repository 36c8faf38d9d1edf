//! EP (event points) and quotas.
//!
//! A server's policy cuts time into periods of `period_days` days counted from `period_start`
//! (default: weekly, from Monday 00:00 UTC). Each period has a quota per company. A member's
//! `warningLevel` is the number of consecutive most recent *completed* periods in which they missed a
//! positive quota, capped at `max_warning_level`:
//! - a period is missed when, for any company with a positive quota, the member's EP in that period is
//!   below the quota; it is met otherwise, and a met period ends the count (it resets the level);
//! - a period during which the member was on leave of absence at any moment is skipped: it neither
//!   counts nor resets;
//! - periods before `period_start` do not exist. A policy set without a `period_start` starts at the
//!   beginning of the current period (counted in whole periods from the Monday origin), so setting a
//!   quota never warns anyone for the time before it existed;
//! - the current, unfinished period never counts.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Error, Result, Timestamp};

pub const MAX_AMOUNT: i64 = 1_000_000_000;
pub const MAX_PERIOD_DAYS: u16 = 365;
pub const MAX_WARNING_LEVEL: u8 = 100;
/// The default period origin: Monday 1970-01-05 00:00 UTC.
pub const DEFAULT_PERIOD_START: Timestamp = Timestamp::from_millis(4 * Timestamp::MILLIS_PER_DAY);

/// The companies EP is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Company {
    Main,
    Sub1,
    Sub2,
    Sub3,
}

impl Company {
    pub const ALL: [Company; 4] = [Self::Main, Self::Sub1, Self::Sub2, Self::Sub3];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Sub1 => "sub1",
            Self::Sub2 => "sub2",
            Self::Sub3 => "sub3",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| Error::invalid("company", format!("must be one of main, sub1, sub2, sub3, got {text:?}")))
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// An amount for each company.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerCompany(pub [i64; 4]);

impl PerCompany {
    pub const fn get(&self, company: Company) -> i64 {
        self.0[company.index()]
    }

    pub fn add(&mut self, company: Company, amount: i64) {
        let slot = &mut self.0[company.index()];
        *slot = slot.saturating_add(amount);
    }

    pub fn iter(&self) -> impl Iterator<Item = (Company, i64)> + '_ {
        Company::ALL.into_iter().map(|c| (c, self.get(c)))
    }
}

/// A validated EP amount (1..=10^9).
pub fn validate_amount(amount: i64) -> Result<i64> {
    if (1..=MAX_AMOUNT).contains(&amount) {
        Ok(amount)
    } else {
        Err(Error::invalid("amount", format!("must be an integer from 1 to {MAX_AMOUNT}, got {amount}")))
    }
}

/// A server's quota policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpPolicy {
    period_days: u16,
    period_start: Timestamp,
    quota: PerCompany,
    max_warning_level: u8,
}

impl Default for EpPolicy {
    fn default() -> Self {
        Self { period_days: 7, period_start: DEFAULT_PERIOD_START, quota: PerCompany::default(), max_warning_level: 3 }
    }
}

impl EpPolicy {
    pub fn new(period_days: i64, period_start: Timestamp, quota: PerCompany, max_warning_level: i64) -> Result<Self> {
        let period_days =
            u16::try_from(period_days).ok().filter(|d| (1..=MAX_PERIOD_DAYS).contains(d)).ok_or_else(|| {
                Error::invalid("periodDays", format!("must be from 1 to {MAX_PERIOD_DAYS}, got {period_days}"))
            })?;
        let max_warning_level =
            u8::try_from(max_warning_level).ok().filter(|m| *m <= MAX_WARNING_LEVEL).ok_or_else(|| {
                Error::invalid(
                    "maxWarningLevel",
                    format!("must be from 0 to {MAX_WARNING_LEVEL}, got {max_warning_level}"),
                )
            })?;
        if let Some((company, q)) = quota.iter().find(|(_, q)| !(0..=MAX_AMOUNT).contains(q)) {
            return Err(Error::invalid(
                "quota",
                format!("{} must be from 0 to {MAX_AMOUNT}, got {q}", company.as_str()),
            ));
        }
        Ok(Self { period_days, period_start, quota, max_warning_level })
    }

    pub const fn period_days(&self) -> u16 {
        self.period_days
    }

    pub const fn period_start(&self) -> Timestamp {
        self.period_start
    }

    pub const fn quota(&self) -> PerCompany {
        self.quota
    }

    pub const fn max_warning_level(&self) -> u8 {
        self.max_warning_level
    }

    fn period_millis(&self) -> i64 {
        i64::from(self.period_days) * Timestamp::MILLIS_PER_DAY
    }

    /// The index of the period containing `at`; period 0 starts at `period_start`, earlier instants
    /// have negative indices.
    pub fn period_of(&self, at: Timestamp) -> i64 {
        at.millis().saturating_sub(self.period_start.millis()).div_euclid(self.period_millis())
    }

    /// `[start, end)` of period `index`.
    pub fn bounds(&self, index: i64) -> (Timestamp, Timestamp) {
        let start = self.period_start.millis().saturating_add(index.saturating_mul(self.period_millis()));
        (Timestamp(start), Timestamp(start.saturating_add(self.period_millis())))
    }

    fn has_quota(&self) -> bool {
        self.quota.iter().any(|(_, q)| q > 0)
    }

    fn met(&self, totals: &PerCompany) -> bool {
        self.quota.iter().all(|(company, q)| q <= 0 || totals.get(company) >= q)
    }
}

/// A policy as an operator submits it: omitted fields take their defaults when it is completed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyDraft {
    pub period_days: Option<i64>,
    pub period_start: Option<Timestamp>,
    pub quota: Option<PerCompany>,
    pub max_warning_level: Option<i64>,
}

impl PolicyDraft {
    /// Fills in defaults as of `now`: 7 days; the start of the current period counted from Monday
    /// 1970-01-05 00:00 UTC; no quota; a maximum warning level of 3.
    pub fn complete(self, now: Timestamp) -> Result<EpPolicy> {
        let defaults = EpPolicy::default();
        let period_days = self.period_days.unwrap_or(i64::from(defaults.period_days));
        let period_start = match self.period_start {
            Some(start) => start,
            None => {
                // Validate the length first so the alignment below never divides by zero.
                let aligned = EpPolicy::new(period_days, DEFAULT_PERIOD_START, PerCompany::default(), 0)?;
                aligned.bounds(aligned.period_of(now)).0
            }
        };
        EpPolicy::new(
            period_days,
            period_start,
            self.quota.unwrap_or(defaults.quota),
            self.max_warning_level.unwrap_or(i64::from(defaults.max_warning_level)),
        )
    }
}

/// A stretch of leave, `[start, end)`; for an LOA ended early `end` is when it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveSpan {
    pub start: Timestamp,
    pub end: Timestamp,
}

fn excused(policy: &EpPolicy, index: i64, leave: &[LeaveSpan]) -> bool {
    let (start, end) = policy.bounds(index);
    leave.iter().any(|span| span.start < end && start < span.end)
}

/// Hard cap on how many past periods one evaluation looks at (about 27 years of weekly periods, or
/// every period a policy of at least one day can have had in 3.8 years of leave).
const MAX_PERIODS_EXAMINED: i64 = 1_400;

/// The completed periods that decide the warning level, most recent first: every period a store must
/// total for [`warning_level`]. Stops once `max_warning_level` unexcused periods are listed.
pub fn periods_to_examine(policy: &EpPolicy, now: Timestamp, leave: &[LeaveSpan]) -> Vec<i64> {
    examine(policy, now, |index| excused(policy, index, leave))
}

fn examine(policy: &EpPolicy, now: Timestamp, is_excused: impl Fn(i64) -> bool) -> Vec<i64> {
    let mut periods = Vec::new();
    if !policy.has_quota() || policy.max_warning_level == 0 {
        return periods;
    }
    let mut unexcused = 0u8;
    let current = policy.period_of(now);
    let mut index = current - 1;
    while index >= 0 && current - index <= MAX_PERIODS_EXAMINED && unexcused < policy.max_warning_level {
        if !is_excused(index) {
            periods.push(index);
            unexcused += 1;
        }
        index -= 1;
    }
    periods
}

/// The first instant an evaluation at `now` can look at: the start of the oldest period it may
/// examine. Leave that ended before it cannot matter, so stores read only leave reaching past it.
pub fn examination_window_start(policy: &EpPolicy, now: Timestamp) -> Timestamp {
    let current = policy.period_of(now);
    policy.bounds(current.saturating_sub(MAX_PERIODS_EXAMINED).max(0).min(current)).0
}

/// The periods of the examination window (the `MAX_PERIODS_EXAMINED` before the current one)
/// touched by leave, gathered one span at a time: however many LOAs a member has had, this holds at
/// most one entry per period of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcusedPeriods {
    lowest: i64,
    highest: i64,
    periods: BTreeSet<i64>,
}

impl ExcusedPeriods {
    pub fn new(policy: &EpPolicy, now: Timestamp) -> Self {
        let current = policy.period_of(now);
        Self { lowest: current.saturating_sub(MAX_PERIODS_EXAMINED), highest: current - 1, periods: BTreeSet::new() }
    }

    /// Marks every period of the window the span overlaps (as [`periods_to_examine`] reads a span).
    pub fn add(&mut self, policy: &EpPolicy, span: LeaveSpan) {
        let (first, last) = if span.start < span.end {
            (policy.period_of(span.start), policy.period_of(Timestamp(span.end.millis().saturating_sub(1))))
        } else if span.start == span.end && policy.bounds(policy.period_of(span.start)).0 < span.start {
            // An empty span strictly inside a period still touches it.
            (policy.period_of(span.start), policy.period_of(span.start))
        } else {
            return;
        };
        for index in first.max(self.lowest)..=last.min(self.highest) {
            self.periods.insert(index);
        }
    }

    pub fn contains(&self, index: i64) -> bool {
        self.periods.contains(&index)
    }
}

/// A member's evaluation, fed EP entries page by page: it keeps totals only for the periods that can
/// change the answer (the current one and those [`periods_to_examine`] lists), so memory stays
/// bounded however many entries there are.
#[derive(Debug, Clone)]
pub struct Evaluation {
    policy: EpPolicy,
    current: i64,
    periods: Vec<i64>,
    totals: BTreeMap<i64, PerCompany>,
}

impl Evaluation {
    pub fn new(policy: EpPolicy, now: Timestamp, excused: &ExcusedPeriods) -> Self {
        let periods = examine(&policy, now, |index| excused.contains(index));
        Self { policy, current: policy.period_of(now), periods, totals: BTreeMap::new() }
    }

    /// The first instant whose entries matter: read entries from here on.
    pub fn since(&self) -> Timestamp {
        self.policy.bounds(self.periods.last().copied().unwrap_or(self.current)).0
    }

    pub fn add(&mut self, company: Company, amount: i64, at: Timestamp) {
        let index = self.policy.period_of(at);
        if index == self.current || self.periods.contains(&index) {
            self.totals.entry(index).or_default().add(company, amount);
        }
    }

    pub fn finish(self) -> EpStatus {
        let empty = PerCompany::default();
        let current = self.totals.get(&self.current).copied().unwrap_or_default();
        let mut level = 0u8;
        for index in &self.periods {
            if self.policy.met(self.totals.get(index).unwrap_or(&empty)) {
                break;
            }
            level += 1;
        }
        EpStatus { current, warning_level: level }
    }
}

/// One stored EP entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpEntry {
    pub id: i64,
    pub company: Company,
    pub amount: i64,
    pub at: Timestamp,
}

/// Where the next page of EP entries starts: after this `(at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpCursor {
    pub at: Timestamp,
    pub id: i64,
}

impl EpEntry {
    pub const fn cursor(&self) -> EpCursor {
        EpCursor { at: self.at, id: self.id }
    }
}

/// The earliest instant whose EP entries can matter now: the start of the oldest period to examine,
/// or of the current period.
pub fn earliest_relevant(policy: &EpPolicy, now: Timestamp, leave: &[LeaveSpan]) -> Timestamp {
    let oldest = periods_to_examine(policy, now, leave).last().copied().unwrap_or_else(|| policy.period_of(now));
    policy.bounds(oldest).0
}

/// Sums EP entries `(company, amount, at)` into per-period totals.
pub fn totals_by_period(
    policy: &EpPolicy,
    entries: impl IntoIterator<Item = (Company, i64, Timestamp)>,
) -> BTreeMap<i64, PerCompany> {
    let mut totals: BTreeMap<i64, PerCompany> = BTreeMap::new();
    for (company, amount, at) in entries {
        totals.entry(policy.period_of(at)).or_default().add(company, amount);
    }
    totals
}

/// The member's warning level now, from per-period totals and their leave.
pub fn warning_level(policy: &EpPolicy, now: Timestamp, totals: &BTreeMap<i64, PerCompany>, leave: &[LeaveSpan]) -> u8 {
    let empty = PerCompany::default();
    let mut level = 0u8;
    for index in periods_to_examine(policy, now, leave) {
        if policy.met(totals.get(&index).unwrap_or(&empty)) {
            break;
        }
        level += 1;
    }
    level
}

/// What `GET /api/ep` shows: the current period's totals and the warning level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpStatus {
    pub current: PerCompany,
    pub warning_level: u8,
}

/// Evaluates a member's status from their entries since [`earliest_relevant`] and their leave.
pub fn status(
    policy: &EpPolicy,
    now: Timestamp,
    entries: impl IntoIterator<Item = (Company, i64, Timestamp)>,
    leave: &[LeaveSpan],
) -> EpStatus {
    let totals = totals_by_period(policy, entries);
    let current = totals.get(&policy.period_of(now)).copied().unwrap_or_default();
    EpStatus { current, warning_level: warning_level(policy, now, &totals, leave) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY: i64 = Timestamp::MILLIS_PER_DAY;

    fn daily(quota_main: i64, max: i64) -> EpPolicy {
        EpPolicy::new(1, Timestamp(0), PerCompany([quota_main, 0, 0, 0]), max).expect("valid policy")
    }

    fn at_day(day: i64) -> Timestamp {
        Timestamp(day * DAY + DAY / 2)
    }

    #[test]
    fn default_policy_is_weekly_from_monday() {
        let policy = EpPolicy::default();
        // 2024-01-01 was a Monday; 2024-01-07 a Sunday.
        let monday = Timestamp(1_704_067_200_000);
        assert_eq!(policy.bounds(policy.period_of(monday)).0, monday);
        assert_eq!(policy.period_of(Timestamp(monday.0 + 7 * DAY - 1)), policy.period_of(monday));
        assert_eq!(policy.period_of(Timestamp(monday.0 + 7 * DAY)), policy.period_of(monday) + 1);
    }

    #[test]
    fn a_new_policy_starts_at_the_current_period() {
        // Wednesday 2024-01-03 12:00 UTC.
        let now = Timestamp(1_704_283_200_000);
        let draft = PolicyDraft { quota: Some(PerCompany([5, 0, 0, 0])), ..PolicyDraft::default() };
        let policy = draft.complete(now).expect("valid");
        assert_eq!(policy.period_start(), Timestamp(1_704_067_200_000), "Monday 2024-01-01 00:00 UTC");
        assert_eq!(warning_level(&policy, now, &BTreeMap::new(), &[]), 0);
        assert_eq!(warning_level(&policy, now.plus_days(7), &BTreeMap::new(), &[]), 1);
        let explicit = PolicyDraft { period_start: Some(Timestamp(5)), ..draft }.complete(now).expect("valid");
        assert_eq!(explicit.period_start(), Timestamp(5));
        assert!(PolicyDraft { period_days: Some(0), ..draft }.complete(now).is_err());
    }

    #[test]
    fn no_quota_means_no_warnings() {
        let policy = daily(0, 3);
        assert_eq!(warning_level(&policy, at_day(10), &BTreeMap::new(), &[]), 0);
    }

    #[test]
    fn consecutive_misses_count_up_to_the_cap() {
        let policy = daily(10, 3);
        // Met on day 5, missed days 6 and 7; now is day 8.
        let totals = totals_by_period(&policy, [(Company::Main, 10, at_day(5)), (Company::Main, 9, at_day(6))]);
        assert_eq!(warning_level(&policy, at_day(8), &totals, &[]), 2);
        // Missed days 6..=10 is five in a row, capped at 3.
        assert_eq!(warning_level(&policy, at_day(11), &totals, &[]), 3);
    }

    #[test]
    fn meeting_the_quota_resets_the_level() {
        let policy = daily(10, 3);
        let totals = totals_by_period(
            &policy,
            [(Company::Main, 4, at_day(5)), (Company::Main, 6, at_day(5)), (Company::Main, 12, at_day(7))],
        );
        // Day 7 was met, so at day 8 the level is 0 even though day 6 was missed.
        assert_eq!(warning_level(&policy, at_day(8), &totals, &[]), 0);
        // The current period never counts.
        assert_eq!(warning_level(&policy, at_day(7), &totals, &[]), 1);
    }

    #[test]
    fn leave_skips_periods_without_resetting() {
        let policy = daily(10, 5);
        let totals = totals_by_period(&policy, [(Company::Main, 10, at_day(2))]);
        // Missed 3, 4, 7; on leave during 5 and 6; now day 8.
        let leave = [LeaveSpan { start: Timestamp(5 * DAY + 1), end: Timestamp(6 * DAY + 5) }];
        assert_eq!(warning_level(&policy, at_day(8), &totals, &leave), 3);
    }

    #[test]
    fn periods_before_the_policy_start_do_not_exist() {
        let policy = EpPolicy::new(1, Timestamp(10 * DAY), PerCompany([5, 0, 0, 0]), 3).expect("valid");
        assert_eq!(warning_level(&policy, Timestamp(10 * DAY + 1), &BTreeMap::new(), &[]), 0);
        assert_eq!(warning_level(&policy, Timestamp(12 * DAY + 1), &BTreeMap::new(), &[]), 2);
    }

    #[test]
    fn every_positive_quota_must_be_met() {
        let policy = EpPolicy::new(1, Timestamp(DAY), PerCompany([5, 3, 0, 0]), 3).expect("valid");
        // Day 1 is the only completed period: main met, sub1 missed.
        let totals = totals_by_period(&policy, [(Company::Main, 5, at_day(1)), (Company::Sub2, 50, at_day(1))]);
        assert_eq!(warning_level(&policy, at_day(2), &totals, &[]), 1);
    }

    #[test]
    fn policy_values_are_checked() {
        assert!(EpPolicy::new(0, Timestamp(0), PerCompany::default(), 3).is_err());
        assert!(EpPolicy::new(366, Timestamp(0), PerCompany::default(), 3).is_err());
        assert!(EpPolicy::new(7, Timestamp(0), PerCompany([-1, 0, 0, 0]), 3).is_err());
        assert!(EpPolicy::new(7, Timestamp(0), PerCompany::default(), 101).is_err());
        assert_eq!(Company::parse("sub3").expect("valid"), Company::Sub3);
        assert!(Company::parse("Main").is_err());
    }

    proptest! {
        /// Gathering leave into `ExcusedPeriods` and feeding entries to an `Evaluation` in any order
        /// gives what the whole-history rules give.
        #[test]
        fn the_bounded_evaluation_agrees_with_the_whole_history(
            days in 1i64..10,
            quota in 0i64..20,
            max in 0i64..6,
            entries in proptest::collection::vec((0usize..4, 1i64..15, 0i64..60 * DAY), 0..80),
            leave in proptest::collection::vec((0i64..60 * DAY, 0i64..(5 * DAY)), 0..6),
            now in 0i64..70 * DAY,
        ) {
            let policy = EpPolicy::new(days, Timestamp(0), PerCompany([quota, quota / 2, 0, 0]), max).expect("valid");
            let now = Timestamp(now);
            let leave: Vec<LeaveSpan> = leave.into_iter().map(|(s, len)| LeaveSpan { start: Timestamp(s), end: Timestamp(s + len) }).collect();
            let entries: Vec<(Company, i64, Timestamp)> = entries.into_iter().filter(|(_, _, at)| *at <= now.0).map(|(c, a, at)| (Company::ALL[c], a, Timestamp(at))).collect();
            let mut excused = ExcusedPeriods::new(&policy, now);
            for span in leave.iter().rev() {
                excused.add(&policy, *span);
            }
            let mut evaluation = Evaluation::new(policy, now, &excused);
            prop_assert_eq!(evaluation.since(), earliest_relevant(&policy, now, &leave));
            prop_assert!(examination_window_start(&policy, now) <= evaluation.since());
            let since = evaluation.since();
            for (company, amount, at) in entries.iter().rev().filter(|(_, _, at)| *at >= since) {
                evaluation.add(*company, *amount, *at);
            }
            prop_assert_eq!(evaluation.finish(), status(&policy, now, entries.iter().copied(), &leave));
        }

        /// Whatever the history, the level is within bounds, and only entries from
        /// `earliest_relevant` on can change it.
        #[test]
        fn level_is_bounded_and_depends_only_on_relevant_entries(
            days in 1i64..10,
            quota in 0i64..20,
            max in 0i64..6,
            entries in proptest::collection::vec((0usize..4, 1i64..15, 0i64..60 * DAY), 0..80),
            leave in proptest::collection::vec((0i64..60 * DAY, 1i64..(5 * DAY)), 0..4),
            now in 0i64..70 * DAY,
        ) {
            let policy = EpPolicy::new(days, Timestamp(0), PerCompany([quota, quota / 2, 0, 0]), max).expect("valid");
            let now = Timestamp(now);
            let leave: Vec<LeaveSpan> = leave.into_iter().map(|(s, len)| LeaveSpan { start: Timestamp(s), end: Timestamp(s + len) }).collect();
            let entries: Vec<(Company, i64, Timestamp)> = entries.into_iter().filter(|(_, _, at)| *at <= now.0).map(|(c, a, at)| (Company::ALL[c], a, Timestamp(at))).collect();
            let full = status(&policy, now, entries.iter().copied(), &leave);
            prop_assert!(full.warning_level <= policy.max_warning_level());
            let cutoff = earliest_relevant(&policy, now, &leave);
            let recent = status(&policy, now, entries.iter().copied().filter(|(_, _, at)| *at >= cutoff), &leave);
            prop_assert_eq!(full, recent);
        }
    }
}
