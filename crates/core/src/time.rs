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

    /// This instant plus `days` whole days, saturating at the ends of the range.
    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(Self::MILLIS_PER_DAY)))
    }
}

/// Where "now" comes from. The binary reads the system clock; tests move a manual one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
