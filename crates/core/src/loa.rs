//! Leave of absence: 1 to 365 days, at most one active at a time per member.
//!
//! An LOA is active from `started_at` until it is ended or `ends_at` passes, whichever comes first.
//! Expiry needs no background job: activity is always computed against the clock.

use crate::{Error, Result, Timestamp, ep::LeaveSpan};

pub const MAX_DAYS: i64 = 365;

/// Checks an LOA length in days.
pub fn validate_days(days: i64) -> Result<i64> {
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Error::invalid("days", format!("must be an integer from 1 to {MAX_DAYS}, got {days}")))
    }
}

/// One leave of absence as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loa {
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
    /// When it was ended early, if it was.
    pub ended_at: Option<Timestamp>,
}

impl Loa {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && now < self.ends_at
    }

    /// When the leave really stopped (or will stop).
    pub fn effective_end(&self) -> Timestamp {
        self.ended_at.map_or(self.ends_at, |ended| ended.min(self.ends_at))
    }

    pub fn span(&self) -> LeaveSpan {
        LeaveSpan { start: self.started_at, end: self.effective_end() }
    }
}

/// What `GET /api/loa` shows. For an inactive member the times are those of their most recent LOA,
/// with `ends_at` the moment it really ended; both are `None` if they never had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoaStatus {
    pub active: bool,
    pub started_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

impl LoaStatus {
    pub fn of(latest: Option<Loa>, now: Timestamp) -> Self {
        match latest {
            None => Self { active: false, started_at: None, ends_at: None },
            Some(loa) => Self {
                active: loa.is_active(now),
                started_at: Some(loa.started_at),
                ends_at: Some(loa.effective_end()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_loa_expires_on_its_own() {
        let loa = Loa { started_at: Timestamp(0), ends_at: Timestamp(100), ended_at: None };
        assert!(loa.is_active(Timestamp(99)));
        assert!(!loa.is_active(Timestamp(100)));
        let status = LoaStatus::of(Some(loa), Timestamp(150));
        assert_eq!(status, LoaStatus { active: false, started_at: Some(Timestamp(0)), ends_at: Some(Timestamp(100)) });
    }

    #[test]
    fn an_ended_loa_reports_when_it_ended() {
        let loa = Loa { started_at: Timestamp(0), ends_at: Timestamp(100), ended_at: Some(Timestamp(40)) };
        assert!(!loa.is_active(Timestamp(50)));
        assert_eq!(loa.effective_end(), Timestamp(40));
    }

    #[test]
    fn days_are_bounded() {
        assert!(validate_days(0).is_err());
        assert!(validate_days(366).is_err());
        assert_eq!(validate_days(365).expect("valid"), 365);
    }
}
