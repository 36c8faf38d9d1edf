//! XP: one balance per member, changed by set / add / subtract, every change kept in a ledger.
//!
//! Rules:
//! - A balance is an integer in `0..=MAX_XP`. `MAX_XP` is 2^53 - 1, the largest integer a JavaScript
//!   client reads back exactly; an `add` that would pass it is refused, never wrapped.
//! - `subtract` clamps at zero: subtracting more than the balance leaves 0, and the ledger records the
//!   delta that really happened.
//! - Amounts are `1..=MAX_AMOUNT` for add and subtract, `0..=MAX_AMOUNT` for set.
//! - A `reference` is an idempotency key per server: the same reference with the same request returns
//!   the original result and changes nothing; with a different request it is a conflict.

use crate::{ApiKeyId, Error, MemberKey, Result, RobloxUserId, Timestamp};

/// The largest balance: 2^53 - 1 (`Number.MAX_SAFE_INTEGER`).
pub const MAX_XP: i64 = 9_007_199_254_740_991;
/// The largest amount one request may set, add or subtract.
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// Longest idempotency reference, in characters.
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

/// An idempotency key, unique per server across every XP change.
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
}

/// The parts of an earlier request that decide whether a repeated reference is the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub member: RobloxUserId,
    pub change: XpChange,
    pub reason: Option<String>,
}

impl XpMutation {
    pub fn recorded(&self) -> RecordedRequest {
        RecordedRequest {
            member: self.member.member,
            change: self.change,
            reason: self.reason.as_ref().map(|r| r.as_str().to_owned()),
        }
    }
}

/// Decides what a repeated reference means: the same request replays, a different one conflicts.
pub fn check_replay(reference: &Reference, earlier: &RecordedRequest, now: &RecordedRequest) -> Result<()> {
    if earlier == now { Ok(()) } else { Err(Error::ReferenceConflict { reference: reference.as_str().to_owned() }) }
}

/// What applying a mutation produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XpOutcome {
    /// The change was made; the ledger has a new entry.
    Applied { balance: i64, delta: i64 },
    /// The reference had been used by the same request before; nothing changed.
    Replayed { balance: i64 },
}

impl XpOutcome {
    pub const fn balance(self) -> i64 {
        match self {
            Self::Applied { balance, .. } | Self::Replayed { balance } => balance,
        }
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
    fn a_repeated_reference_replays_only_the_same_request() {
        let reference = Reference::parse("order-1").expect("valid");
        let earlier =
            RecordedRequest { member: RobloxUserId::from_stored(1), change: change(XpOperation::Add, 5), reason: None };
        assert!(check_replay(&reference, &earlier, &earlier.clone()).is_ok());
        let other = RecordedRequest { change: change(XpOperation::Add, 6), ..earlier.clone() };
        assert!(matches!(check_replay(&reference, &earlier, &other), Err(Error::ReferenceConflict { .. })));
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
