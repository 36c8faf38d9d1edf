//! XP: one balance per member, changed by set / add / subtract, every change kept in a ledger.
//!
//! Rules:
//! - A balance is an integer in `0..=MAX_XP`. `MAX_XP` is 2^53 - 1, the largest integer a JavaScript
//!   client reads back exactly; an `add` that would pass it is refused, never wrapped.
//! - `subtract` clamps at zero: subtracting more than the balance leaves 0, and the ledger records the
//!   delta that really happened.
//! - Amounts are `1..=MAX_AMOUNT` for add and subtract, `0..=MAX_AMOUNT` for set.
//! - A `reference` is a label kept in the ledger (the seed: "reference (Optional)"), nothing more: the
//!   same reference on many changes ("Weekly patrol" every week) makes as many changes.
//! - Retries are made safe by an `Idempotency-Key` instead (see [`crate::idempotency`]): the change and
//!   the key's record are written together, and a repeat of the same request replays the first answer.

use crate::{
    ApiKeyId, Error, MemberKey, Result, RobloxUserId, Timestamp,
    idempotency::{self, IdempotentRequest},
};

/// The largest balance: 2^53 - 1 (`Number.MAX_SAFE_INTEGER`).
pub const MAX_XP: i64 = 9_007_199_254_740_991;
/// The largest amount one request may set, add or subtract.
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// Longest reference label, in characters.
pub const MAX_REFERENCE_CHARS: usize = 128;
/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XpOperation {
    Set,
    Add,
    Subtract,
}

impl XpOperation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Add => "add",
            Self::Subtract => "subtract",
        }
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "set" => Some(Self::Set),
            "add" => Some(Self::Add),
            "subtract" => Some(Self::Subtract),
            _ => None,
        }
    }
}

/// A validated change: the operation and its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XpChange {
    operation: XpOperation,
    amount: i64,
}

impl XpChange {
    pub fn new(operation: XpOperation, amount: i64) -> Result<Self> {
        let min = if operation == XpOperation::Set { 0 } else { 1 };
        if !(min..=MAX_AMOUNT).contains(&amount) {
            return Err(Error::invalid(
                "amount",
                format!("must be an integer from {min} to {MAX_AMOUNT}, got {amount}"),
            ));
        }
        Ok(Self { operation, amount })
    }

    pub const fn operation(self) -> XpOperation {
        self.operation
    }

    pub const fn amount(self) -> i64 {
        self.amount
    }
}

/// The rule every store must agree with: the balance after `change` is applied to `balance`.
pub fn apply(balance: i64, change: XpChange) -> Result<i64> {
    match change.operation {
        XpOperation::Set => Ok(change.amount),
        XpOperation::Add => {
            balance.checked_add(change.amount).filter(|next| *next <= MAX_XP).ok_or(Error::XpOverflow { max: MAX_XP })
        }
        XpOperation::Subtract => Ok(balance.saturating_sub(change.amount).max(0)),
    }
}

/// A label for a change, kept in the ledger and shown in history; many changes may share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

impl Reference {
    pub fn parse(text: &str) -> Result<Self> {
        let chars = text.chars().count();
        if chars == 0 || chars > MAX_REFERENCE_CHARS || text.chars().any(char::is_control) {
            return Err(Error::invalid(
                "reference",
                format!("must be 1 to {MAX_REFERENCE_CHARS} characters without control characters"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text explaining a change, kept in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reason(String);

impl Reason {
    pub fn parse(text: &str) -> Result<Self> {
        if text.chars().count() > MAX_REASON_CHARS {
            return Err(Error::invalid("reason", format!("must be at most {MAX_REASON_CHARS} characters")));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who made a change: the API key (or operator) that asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub key_id: Option<ApiKeyId>,
    pub key_name: String,
}

/// A request to change one member's XP, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpMutation {
    pub member: MemberKey,
    pub change: XpChange,
    pub reference: Option<Reference>,
    pub reason: Option<Reason>,
    pub actor: Actor,
    pub at: Timestamp,
    /// The client's `Idempotency-Key`, if it sent one: the store checks it (see
    /// [`idempotency::on_repeat`]) and records it in the same transaction as the change.
    pub idempotency: Option<IdempotentRequest>,
}

impl XpOperation {
    /// The route a change of this operation arrives on (the scope of its idempotency keys).
    pub const fn route(self) -> &'static str {
        match self {
            Self::Set => "/api/xp/set",
            Self::Add => "/api/xp/add",
            Self::Subtract => "/api/xp/subtract",
        }
    }
}

/// The hash of everything that makes an XP request what it is: a repeated `Idempotency-Key` replays
/// only a request with the same hash.
pub fn request_hash(
    member: MemberKey,
    change: XpChange,
    reference: Option<&Reference>,
    reason: Option<&Reason>,
) -> idempotency::RequestHash {
    use serde_json::json;
    idempotency::RequestHash::of(&idempotency::canonical(&[
        json!(change.operation().as_str()),
        json!(member.server.get().to_string()),
        json!(member.member.get().to_string()),
        json!(change.amount()),
        json!(reference.map(Reference::as_str)),
        json!(reason.map(Reason::as_str)),
    ]))
}

/// What applying a mutation produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XpOutcome {
    /// The change was made; the ledger has a new entry.
    Applied { balance: i64, delta: i64 },
    /// The `Idempotency-Key` had been used by the same request before; this is its answer and
    /// nothing changed.
    Replayed { balance: i64 },
}

impl XpOutcome {
    pub const fn balance(self) -> i64 {
        match self {
            Self::Applied { balance, .. } | Self::Replayed { balance } => balance,
        }
    }

    /// The answer an idempotency record keeps: the balance the client was told.
    pub fn to_answer(self) -> String {
        self.balance().to_string()
    }

    /// The outcome of replaying a remembered answer; `None` if the text is not one [`Self::to_answer`]
    /// wrote.
    pub fn replayed(answer: &str) -> Option<Self> {
        answer.parse().ok().filter(|b| (0..=MAX_XP).contains(b)).map(|balance| Self::Replayed { balance })
    }
}

/// One ledger entry, as history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpEntry {
    pub id: i64,
    pub member: RobloxUserId,
    pub operation: XpOperation,
    pub amount: i64,
    pub delta: i64,
    pub balance: i64,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub key_name: Option<String>,
    pub at: Timestamp,
}

/// A page of history: newest first, entries older than `before` (an entry id) when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPage {
    pub limit: u32,
    pub before: Option<i64>,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

impl HistoryPage {
    pub fn new(limit: Option<u32>, before: Option<i64>) -> Result<Self> {
        let limit = validate_limit(limit)?;
        if let Some(before) = before
            && before <= 0
        {
            return Err(Error::invalid("before", "must be a positive entry id from an earlier page's `next`"));
        }
        Ok(Self { limit, before })
    }
}

/// Checks a page size: 1..=100, default 50.
pub fn validate_limit(limit: Option<u32>) -> Result<u32> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        l @ 1..=MAX_PAGE => Ok(l),
        other => Err(Error::invalid("limit", format!("must be from 1 to {MAX_PAGE}, got {other}"))),
    }
}

/// A leaderboard row. Ranks are positions (1, 2, 3, ...); ties are broken by the lower Roblox id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderboardRow {
    pub member: RobloxUserId,
    pub xp: i64,
    pub rank: u64,
}

/// The largest `offset` the leaderboard accepts: an offset makes the database step over that many
/// rows, so deep pages go by the `after` cursor instead, which costs the same at any depth.
pub const MAX_LEADERBOARD_OFFSET: u64 = 10_000;

/// Where a leaderboard page starts: the last row of the previous page, as `<rank>.<xp>.<robloxId>`.
/// The rank only numbers the rows that follow; the `(xp, robloxId)` pair decides which rows they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderboardCursor {
    pub rank: u64,
    pub xp: i64,
    pub member: RobloxUserId,
}

impl LeaderboardCursor {
    pub fn of(row: &LeaderboardRow) -> Self {
        Self { rank: row.rank, xp: row.xp, member: row.member }
    }

    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || Error::invalid("after", "must be the `next` value of an earlier leaderboard page");
        let mut parts = text.split('.');
        let (Some(rank), Some(xp), Some(member), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let rank: u64 = rank.parse().map_err(|_| invalid())?;
        let xp: i64 = xp.parse().map_err(|_| invalid())?;
        let member: i64 = member.parse().map_err(|_| invalid())?;
        // Ranks and balances stay far below these bounds, so `rank + n` never overflows.
        let max_rank = u64::try_from(MAX_XP).unwrap_or(u64::MAX);
        if !(1..=max_rank).contains(&rank) || !(1..=MAX_XP).contains(&xp) || member <= 0 {
            return Err(invalid());
        }
        Ok(Self { rank, xp, member: RobloxUserId::from_stored(member) })
    }

    pub fn to_text(self) -> String {
        format!("{}.{}.{}", self.rank, self.xp, self.member.get())
    }
}

/// Where a leaderboard page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderboardStart {
    /// Skip this many rows (at most [`MAX_LEADERBOARD_OFFSET`]).
    Offset(u64),
    /// The rows after this one (keyset pagination).
    After(LeaderboardCursor),
}

impl LeaderboardStart {
    /// The rank of the first row of the page; `None` if it does not fit (it always does for a
    /// validated start).
    pub fn first_rank(self) -> Option<u64> {
        match self {
            Self::Offset(offset) => offset.checked_add(1),
            Self::After(cursor) => cursor.rank.checked_add(1),
        }
    }
}

/// A validated leaderboard page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderboardPage {
    pub limit: u32,
    pub start: LeaderboardStart,
}

impl LeaderboardPage {
    /// `limit` 1..=100 (default 50); either `offset` (0..=10000, default 0) or `after`, not both.
    pub fn new(limit: Option<u32>, offset: Option<u64>, after: Option<&str>) -> Result<Self> {
        let limit = validate_limit(limit)?;
        let start = match (offset, after) {
            (Some(_), Some(_)) => return Err(Error::invalid("offset", "give `offset` or `after`, not both")),
            (_, Some(after)) => LeaderboardStart::After(LeaderboardCursor::parse(after)?),
            (offset, None) => {
                let offset = offset.unwrap_or(0);
                if offset > MAX_LEADERBOARD_OFFSET {
                    return Err(Error::invalid(
                        "offset",
                        format!(
                            "must be at most {MAX_LEADERBOARD_OFFSET}, got {offset}; page deeper with `after`, the `next` value of the previous page"
                        ),
                    ));
                }
                LeaderboardStart::Offset(offset)
            }
        };
        Ok(Self { limit, start })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn change(op: XpOperation, amount: i64) -> XpChange {
        XpChange::new(op, amount).expect("valid change")
    }

    #[test]
    fn subtract_clamps_at_zero() {
        assert_eq!(apply(30, change(XpOperation::Subtract, 50)).expect("clamps"), 0);
    }

    #[test]
    fn add_past_the_maximum_is_refused() {
        let err = apply(MAX_XP - 1, change(XpOperation::Add, 2)).expect_err("overflow");
        assert!(matches!(err, Error::XpOverflow { .. }));
        assert_eq!(apply(MAX_XP - 2, change(XpOperation::Add, 2)).expect("fits"), MAX_XP);
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(XpChange::new(XpOperation::Add, 0).is_err());
        assert!(XpChange::new(XpOperation::Set, 0).is_ok());
        assert!(XpChange::new(XpOperation::Subtract, MAX_AMOUNT + 1).is_err());
        assert!(XpChange::new(XpOperation::Add, -1).is_err());
    }

    #[test]
    fn the_request_hash_covers_every_field() {
        let who = MemberKey { server: crate::ServerId::from_stored(1), member: RobloxUserId::from_stored(2) };
        let label = Reference::parse("Weekly patrol").expect("valid");
        let base = request_hash(who, change(XpOperation::Add, 5), Some(&label), None);
        assert_eq!(base, request_hash(who, change(XpOperation::Add, 5), Some(&label), None));
        let other_member = MemberKey { member: RobloxUserId::from_stored(3), ..who };
        for other in [
            request_hash(who, change(XpOperation::Add, 6), Some(&label), None),
            request_hash(who, change(XpOperation::Set, 5), Some(&label), None),
            request_hash(other_member, change(XpOperation::Add, 5), Some(&label), None),
            request_hash(who, change(XpOperation::Add, 5), None, None),
            request_hash(who, change(XpOperation::Add, 5), Some(&label), Some(&Reason::parse("x").expect("valid"))),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn leaderboard_pages_are_bounded() {
        assert_eq!(
            LeaderboardPage::new(None, None, None).expect("defaults"),
            LeaderboardPage { limit: DEFAULT_PAGE, start: LeaderboardStart::Offset(0) }
        );
        assert!(LeaderboardPage::new(None, Some(MAX_LEADERBOARD_OFFSET), None).is_ok());
        for (offset, after) in
            [(Some(MAX_LEADERBOARD_OFFSET + 1), None), (Some(u64::MAX), None), (Some(0), Some("1.5.7"))]
        {
            let err = LeaderboardPage::new(None, offset, after).expect_err("refused").to_string();
            assert!(err.starts_with("offset:"), "{err}");
        }
        let cursor = LeaderboardCursor { rank: 3, xp: 50, member: RobloxUserId::from_stored(12) };
        assert_eq!(LeaderboardCursor::parse(&cursor.to_text()).expect("round trip"), cursor);
        for bad in ["", "1.2", "1.2.3.4", "0.5.7", "18446744073709551615.5.7", "1.0.7", "1.5.-7", "a.b.c"] {
            let err = LeaderboardCursor::parse(bad).expect_err(bad).to_string();
            assert!(err.starts_with("after:"), "{err}");
        }
        let start = LeaderboardPage::new(None, None, Some(&cursor.to_text())).expect("cursor").start;
        assert_eq!(start.first_rank(), Some(4));
    }

    #[test]
    fn answers_round_trip() {
        let outcome = XpOutcome::Applied { balance: 42, delta: 7 };
        assert_eq!(XpOutcome::replayed(&outcome.to_answer()), Some(XpOutcome::Replayed { balance: 42 }));
        assert_eq!(XpOutcome::replayed("-1"), None);
        assert_eq!(XpOutcome::replayed("x"), None);
    }

    fn any_change() -> impl Strategy<Value = XpChange> {
        (0..3u8, 1..=MAX_AMOUNT).prop_map(|(op, amount)| {
            let op = [XpOperation::Set, XpOperation::Add, XpOperation::Subtract][usize::from(op)];
            change(op, amount)
        })
    }

    proptest! {
        #[test]
        fn balance_stays_in_range_and_equals_the_sum_of_deltas(changes in proptest::collection::vec(any_change(), 0..200)) {
            let mut balance = 0i64;
            let mut sum_of_deltas = 0i64;
            for c in changes {
                let next = apply(balance, c).expect("amounts this small cannot overflow");
                prop_assert!((0..=MAX_XP).contains(&next));
                sum_of_deltas += next - balance;
                balance = next;
            }
            prop_assert_eq!(balance, sum_of_deltas);
        }
    }
}
