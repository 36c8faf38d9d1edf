//! Custom booster roles: each server booster may have at most one role of their own, which Garrison
//! records so that updates and deletions can check who owns it.

use crate::{Timestamp, discord::Snowflake};

/// The record of one custom booster role: `user` owns `role` in `guild`.
///
/// A guild holds at most one record per user and at most one per role; the store enforces both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoosterRole {
    pub guild: Snowflake,
    pub user: Snowflake,
    pub role: Snowflake,
    pub created_at: Timestamp,
}

impl BoosterRole {
    /// Whether `user` owns this role: the ownership check before an update or a deletion.
    pub fn is_owned_by(&self, user: Snowflake) -> bool {
        self.user == user
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recorded_user_owns_the_role() {
        let record = BoosterRole {
            guild: Snowflake::from_raw(123_456_789_012_345_678),
            user: Snowflake::from_raw(234_567_890_123_456_789),
            role: Snowflake::from_raw(345_678_901_234_567_890),
            created_at: Timestamp(1_700_000_000_000),
        };
        assert!(record.is_owned_by(Snowflake::from_raw(234_567_890_123_456_789)));
        assert!(!record.is_owned_by(Snowflake::from_raw(345_678_901_234_567_890)));
    }
}
