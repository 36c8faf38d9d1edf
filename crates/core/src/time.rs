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

    /// This instant plus `days` whole days, saturating at the ends of the range.
    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(Self::MILLIS_PER_DAY)))
    }
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
}
