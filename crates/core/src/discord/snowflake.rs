use crate::{Error, Result, Timestamp};

/// The first millisecond of 2015, where Discord's snowflake timestamps start.
pub const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// A Discord id: a positive 64-bit integer whose top 42 bits are milliseconds since
/// [`DISCORD_EPOCH_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(u64);

impl Snowflake {
    /// Parses decimal digits (surrounding spaces ignored); `field` names the header or parameter in
    /// the error.
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        Self::parse_as(field, "a Discord id", text)
    }

    /// The one snowflake rule, for every kind of Discord id: decimal digits, at least 2^22 (smaller
    /// ids would date from the epoch's first millisecond) and at most `i64::MAX` (Discord's ids are
    /// signed 64-bit integers, and Garrison stores them as `BIGINT`). `what` names the kind of id in
    /// the error.
    pub(crate) fn parse_as(field: &'static str, what: &str, text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = || Error::invalid(field, format!("must be {what} (a snowflake), got {text:?}"));
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        match text.parse::<i64>() {
            Ok(id) if id >= 1 << 22 => Ok(Self(id.unsigned_abs())),
            _ => Err(invalid()),
        }
    }

    pub const fn from_raw(id: u64) -> Self {
        Self(id)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// The id as a `BIGINT` column holds it; `None` at or above 2^63, which no row can hold.
    pub fn stored(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }

    /// When the id was created.
    pub const fn created_at(self) -> Timestamp {
        Timestamp::from_millis((self.0 >> 22) as i64 + DISCORD_EPOCH_MS)
    }
}

impl std::fmt::Display for Snowflake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How old an account is, in whole units (each rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountAge {
    pub days: i64,
    pub weeks: i64,
    /// Average Gregorian months (30.436875 days).
    pub months: i64,
    /// Average Gregorian years (365.2425 days).
    pub years: i64,
}

impl AccountAge {
    /// The age at `now` of the account `id` names; 0 for an id from the future (clock skew).
    pub fn of(id: Snowflake, now: Timestamp) -> Self {
        let days = (now.millis() - id.created_at().millis()).max(0) / Timestamp::MILLIS_PER_DAY;
        // In thousandths of a day, so the division stays in integers.
        Self { days, weeks: days / 7, months: days * 1000 / 30_437, years: days * 10_000 / 3_652_425 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_carry_their_creation_time() {
        // Discord's documented example: 175928847299117063 was created 2016-04-30 11:18:25.796 UTC.
        let id = Snowflake::parse("id", "175928847299117063").expect("valid");
        assert_eq!(id.created_at().millis(), 1_462_015_105_796);
    }

    #[test]
    fn malformed_ids_name_the_field() {
        for bad in ["", "abc", "-5", "12.5", "0", "1234", "99999999999999999999999", "1e18"] {
            let err = Snowflake::parse("Discord-UserId", bad).expect_err(bad).to_string();
            assert!(err.starts_with("Discord-UserId: must be a Discord id"), "{err}");
        }
        assert_eq!(Snowflake::parse("id", " 987654321098765432 ").expect("trimmed").get(), 987_654_321_098_765_432);
    }

    #[test]
    fn account_age_matches_the_specification_example() {
        let id = Snowflake::parse("id", "175928847299117063").expect("valid");
        let now = Timestamp::from_millis(id.created_at().millis() + 1245 * Timestamp::MILLIS_PER_DAY + 1000);
        assert_eq!(AccountAge::of(id, now), AccountAge { days: 1245, weeks: 177, months: 40, years: 3 });
        let early = Timestamp::from_millis(0);
        assert_eq!(AccountAge::of(id, early).days, 0);
    }
}
