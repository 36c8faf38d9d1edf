const MS_PER_DAY: i64 = 86_400_000;

/// The parts of a UTC instant, from milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcParts {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub millisecond: i64,
}

impl UtcParts {
    pub(crate) fn from_epoch_ms(ms: i64) -> Self {
        let days = ms.div_euclid(MS_PER_DAY);
        let in_day = ms.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: in_day / 3_600_000,
            minute: in_day / 60_000 % 60,
            second: in_day / 1_000 % 60,
            millisecond: in_day % 1_000,
        }
    }

    /// `2023-11-14T22:13:20.000Z` (years outside 0..=9999 keep their digits and sign).
    pub(crate) fn iso8601(&self) -> String {
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            year(self.year),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.millisecond
        )
    }

    /// `2023-11-14 22:13 UTC`, the text shown before (or without) the script's localisation.
    pub(crate) fn display(&self) -> String {
        format!("{}-{:02}-{:02} {:02}:{:02} UTC", year(self.year), self.month, self.day, self.hour, self.minute)
    }
}

fn year(year: i64) -> String {
    if year < 0 { format!("-{:04}", year.unsigned_abs()) } else { format!("{year:04}") }
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian (year, month, day) of a day count
/// relative to 1970-01-01. Exact over the whole `i64` millisecond range.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ISO 8601 UTC with milliseconds (`2023-11-14T22:13:20.000Z`) of milliseconds since the Unix epoch.
pub fn iso8601_utc_from_epoch_ms(ms: i64) -> String {
    UtcParts::from_epoch_ms(ms).iso8601()
}

#[cfg(test)]
mod tests {
    use super::{UtcParts, iso8601_utc_from_epoch_ms};

    #[test]
    fn known_instants() {
        assert_eq!(iso8601_utc_from_epoch_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_utc_from_epoch_ms(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(iso8601_utc_from_epoch_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_utc_from_epoch_ms(1_704_067_199_999), "2023-12-31T23:59:59.999Z");
        assert_eq!(iso8601_utc_from_epoch_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601_utc_from_epoch_ms(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
        assert_eq!(UtcParts::from_epoch_ms(1_700_000_000_000).display(), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn extremes_do_not_overflow() {
        for ms in [i64::MIN, i64::MAX] {
            let text = iso8601_utc_from_epoch_ms(ms);
            assert!(text.ends_with('Z'), "{text}");
        }
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        let mut previous = UtcParts::from_epoch_ms(0);
        for day in 1..200_000_i64 {
            let next = UtcParts::from_epoch_ms(day * 86_400_000);
            let same_month = next.year == previous.year && next.month == previous.month && next.day == previous.day + 1;
            let new_month = next.day == 1
                && ((next.year == previous.year && next.month == previous.month + 1)
                    || (next.year == previous.year + 1 && next.month == 1 && previous.month == 12));
            assert!(same_month || new_month, "{previous:?} -> {next:?}");
            previous = next;
        }
    }
}
