//! YouTube's quota: units per API key per day, where a day is a day in the Pacific time zone (YouTube
//! resets every key's quota at midnight in Los Angeles). The ledger counts what this process spent
//! and learns from YouTube when a key is spent anyway (other users of the key).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::Timestamp;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = Timestamp::MILLIS_PER_DAY;

use crate::time::days_from_civil;

/// The civil year of a day number.
fn year_of(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    yoe + era * 400 + i64::from(mp >= 10)
}

/// The `nth` Sunday (1-based) of a month, as a day number.
fn nth_sunday(year: i64, month: i64, nth: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    // 1970-01-01 was a Thursday: (days + 4) mod 7 is 0 on Sundays.
    let to_sunday = (7 - (first + 4).rem_euclid(7)) % 7;
    first + to_sunday + 7 * (nth - 1)
}

/// Los Angeles' offset from UTC at `at`, in milliseconds: daylight time (UTC-7) from the second Sunday
/// of March at 02:00 local (10:00 UTC) to the first Sunday of November at 02:00 local (09:00 UTC), as
/// the United States have kept it since 2007; standard time (UTC-8) otherwise.
pub fn pacific_offset_ms(at: Timestamp) -> i64 {
    let year = year_of(at.millis().div_euclid(DAY_MS));
    let starts = nth_sunday(year, 3, 2) * DAY_MS + 10 * HOUR_MS;
    let ends = nth_sunday(year, 11, 1) * DAY_MS + 9 * HOUR_MS;
    if (starts..ends).contains(&at.millis()) { -7 * HOUR_MS } else { -8 * HOUR_MS }
}

/// The Pacific day `at` falls on, as a day number (days since 1970-01-01 of the local date).
pub fn pacific_day(at: Timestamp) -> i64 {
    (at.millis() + pacific_offset_ms(at)).div_euclid(DAY_MS)
}

/// The next Pacific midnight after `at`: when YouTube gives every key its quota back.
pub fn next_pacific_midnight(at: Timestamp) -> Timestamp {
    let day = pacific_day(at);
    // Midnight is 07:00 or 08:00 UTC; the first of the two that falls on the next local day.
    [7, 8]
        .into_iter()
        .map(|hours| Timestamp::from_millis((day + 1) * DAY_MS + hours * HOUR_MS))
        .find(|t| pacific_day(*t) == day + 1 && pacific_day(Timestamp::from_millis(t.millis() - 1)) == day)
        .unwrap_or(Timestamp::from_millis((day + 1) * DAY_MS + 8 * HOUR_MS))
}

/// Keys tracked at once; past it, days gone by are forgotten first, then new keys go untracked
/// (YouTube still says when they are spent).
const LEDGER_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Spent {
    day: i64,
    units: u64,
    exhausted: bool,
}

/// Units spent per key (by the key's fingerprint) on the current Pacific day.
#[derive(Debug)]
pub struct QuotaLedger {
    daily: u64,
    keys: Mutex<HashMap<[u8; 32], Spent>>,
}

impl QuotaLedger {
    /// A ledger for keys with `daily` units per day (YouTube's default is 10,000).
    pub fn new(daily: u64) -> Self {
        Self { daily, keys: Mutex::new(HashMap::new()) }
    }

    fn today(&self, key: &[u8; 32], now: Timestamp) -> Spent {
        let day = pacific_day(now);
        let keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match keys.get(key) {
            Some(spent) if spent.day == day => *spent,
            _ => Spent { day, units: 0, exhausted: false },
        }
    }

    fn update(&self, key: &[u8; 32], now: Timestamp, change: impl FnOnce(&mut Spent)) {
        let day = pacific_day(now);
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= LEDGER_CAPACITY && !keys.contains_key(key) {
            keys.retain(|_, spent| spent.day == day);
            if keys.len() >= LEDGER_CAPACITY {
                return;
            }
        }
        let spent = keys.entry(*key).or_insert(Spent { day, units: 0, exhausted: false });
        if spent.day != day {
            *spent = Spent { day, units: 0, exhausted: false };
        }
        change(spent);
    }

    /// Whether `units` more fit in the key's day.
    pub fn allows(&self, key: &[u8; 32], units: u64, now: Timestamp) -> bool {
        let spent = self.today(key, now);
        !spent.exhausted && spent.units.saturating_add(units) <= self.daily
    }

    /// Counts `units` spent with the key.
    pub fn charge(&self, key: &[u8; 32], units: u64, now: Timestamp) {
        self.update(key, now, |spent| spent.units = spent.units.saturating_add(units));
    }

    /// YouTube said the key is spent: nothing more is asked with it until the next Pacific day.
    pub fn exhaust(&self, key: &[u8; 32], now: Timestamp) {
        self.update(key, now, |spent| spent.exhausted = true);
    }

    /// Units spent with the key today.
    pub fn spent(&self, key: &[u8; 32], now: Timestamp) -> u64 {
        self.today(key, now).units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(year: i64, month: i64, day: i64, hour: i64, minute: i64) -> Timestamp {
        Timestamp::from_millis(days_from_civil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * 60_000)
    }

    #[test]
    fn the_day_turns_at_midnight_in_los_angeles() {
        // Winter: UTC-8, so midnight is 08:00 UTC.
        assert_eq!(pacific_day(utc(2026, 1, 15, 7, 59)), days_from_civil(2026, 1, 14));
        assert_eq!(pacific_day(utc(2026, 1, 15, 8, 0)), days_from_civil(2026, 1, 15));
        // Summer: UTC-7, so midnight is 07:00 UTC.
        assert_eq!(pacific_day(utc(2026, 7, 4, 6, 59)), days_from_civil(2026, 7, 3));
        assert_eq!(pacific_day(utc(2026, 7, 4, 7, 0)), days_from_civil(2026, 7, 4));
        assert_eq!(next_pacific_midnight(utc(2026, 1, 15, 12, 0)), utc(2026, 1, 16, 8, 0));
        assert_eq!(next_pacific_midnight(utc(2026, 7, 4, 12, 0)), utc(2026, 7, 5, 7, 0));
    }

    #[test]
    fn daylight_time_follows_the_us_rule() {
        // 2026: from Sunday 8 March 10:00 UTC to Sunday 1 November 09:00 UTC.
        assert_eq!(nth_sunday(2026, 3, 2), days_from_civil(2026, 3, 8));
        assert_eq!(nth_sunday(2026, 11, 1), days_from_civil(2026, 11, 1));
        assert_eq!(pacific_offset_ms(utc(2026, 3, 8, 9, 59)), -8 * HOUR_MS);
        assert_eq!(pacific_offset_ms(utc(2026, 3, 8, 10, 0)), -7 * HOUR_MS);
        assert_eq!(pacific_offset_ms(utc(2026, 11, 1, 8, 59)), -7 * HOUR_MS);
        assert_eq!(pacific_offset_ms(utc(2026, 11, 1, 9, 0)), -8 * HOUR_MS);
        // 2027: 14 March and 7 November.
        assert_eq!(nth_sunday(2027, 3, 2), days_from_civil(2027, 3, 14));
        assert_eq!(nth_sunday(2027, 11, 1), days_from_civil(2027, 11, 7));
        // The day DST starts has 23 hours; the next midnight is still found.
        assert_eq!(next_pacific_midnight(utc(2026, 3, 8, 12, 0)), utc(2026, 3, 9, 7, 0));
        assert_eq!(next_pacific_midnight(utc(2026, 10, 31, 12, 0)), utc(2026, 11, 1, 7, 0));
        assert_eq!(next_pacific_midnight(utc(2026, 11, 1, 12, 0)), utc(2026, 11, 2, 8, 0));
    }

    #[test]
    fn a_key_has_its_daily_units_and_gets_them_back_the_next_day() {
        let ledger = QuotaLedger::new(10);
        let key = [7; 32];
        let morning = utc(2026, 1, 15, 16, 0);
        assert!(ledger.allows(&key, 10, morning));
        ledger.charge(&key, 9, morning);
        assert!(ledger.allows(&key, 1, morning) && !ledger.allows(&key, 2, morning));
        assert_eq!(ledger.spent(&[8; 32], morning), 0, "per key");
        ledger.exhaust(&key, morning);
        assert!(!ledger.allows(&key, 1, morning), "YouTube's word is final for the day");
        let tomorrow = next_pacific_midnight(morning);
        assert!(ledger.allows(&key, 10, tomorrow));
        assert_eq!(ledger.spent(&key, tomorrow), 0);
    }
}
