/// An instant, in whole milliseconds since the Unix epoch (UTC).
///
/// Milliseconds are what the public API speaks (`endsAt`, `startedAt`, ledger `at`), so the domain
/// uses the same unit and never converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MILLIS_PER_DAY: i64 = 86_400_000;

    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The instant as ISO 8601 in UTC with whole seconds, as Discord and the specifications write
    /// times: `2024-01-15T18:00:00Z`. Milliseconds are dropped (rounded towards the past).
    pub fn to_iso8601(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
    }

    /// An RFC 3339 time as platforms write them (`2024-01-15T18:00:00Z`, `...:00.634234626Z`,
    /// `...:00+02:00`), to the millisecond (further digits dropped); `None` for anything else.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(range)?;
            part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
        if !separators.iter().all(|(at, c)| b.get(*at) == Some(c)) || !matches!(b.get(10), Some(b'T' | b't')) {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &text[19..];
        let mut millis = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            millis = fraction[..len]
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(3)
                .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
            rest = &fraction[len..];
        }
        let offset_minutes = match rest.as_bytes() {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let value = |a: u8, b: u8| a.is_ascii_digit().then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'));
                let minutes = value(*h1, *h2)? * 60 + value(*m1, *m2)?;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
        Some(Self(secs * 1000 + millis))
    }

    /// This instant plus `days` whole days, saturating at the ends of the range.
    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(Self::MILLIS_PER_DAY)))
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Where "now" comes from. The binary reads the system clock; tests move a manual one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A boxed future that finishes after a pause (see [`Sleeper`]).
pub type SleepFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// How a use case waits (a purge backing off between retries): the binary sleeps on its runtime,
/// tests record the pauses and return at once. Core knows no runtime.
pub trait Sleeper: Send + Sync {
    /// A future that finishes `ms` milliseconds from now.
    fn sleep(&self, ms: u64) -> SleepFuture;
}

#[cfg(test)]
mod iso_tests {
    use super::Timestamp;

    #[test]
    fn iso8601_in_utc() {
        assert_eq!(Timestamp(0).to_iso8601(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_705_341_600_000).to_iso8601(), "2024-01-15T18:00:00Z");
        assert_eq!(Timestamp(951_782_400_999).to_iso8601(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(-1).to_iso8601(), "1969-12-31T23:59:59Z");
        assert_eq!(Timestamp(4_102_444_799_000).to_iso8601(), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn rfc3339_is_read_back() {
        for millis in [0, 1_705_341_600_000, 951_782_400_000, -1_000, 4_102_444_799_000] {
            let at = Timestamp(millis);
            assert_eq!(Timestamp::parse_iso8601(&at.to_iso8601()), Some(at));
        }
        assert_eq!(Timestamp::parse_iso8601("2019-11-16T10:11:12.634234626Z"), Some(Timestamp(1_573_899_072_634)));
        assert_eq!(Timestamp::parse_iso8601("2019-11-16T12:11:12.6+02:00"), Some(Timestamp(1_573_899_072_600)));
        for bad in [
            "",
            "2019-11-16",
            "2019-11-16T10:11:12",
            "2019-13-16T10:11:12Z",
            "2019-11-16T10:11:12.Z",
            "x019-11-16T10:11:12Z",
            "2019-11-16T10:11:12+0200",
        ] {
            assert_eq!(Timestamp::parse_iso8601(bad), None, "{bad}");
        }
    }
}
