//! What the server says about itself and the clock-based utilities: readiness (over the store's
//! [`HealthCheck`]) and timestamps relative to now (over the [`Clock`]).

use std::sync::Arc;

use crate::{
    Clock, Result,
    ports::{HealthCheck, HealthReport},
    utilities::{self, OffsetUnit},
};

/// Why the server is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unready {
    /// The store does not answer now (it may recover).
    StoreUnavailable,
    /// The store's writer stopped for good; only a restart brings writes back.
    WriterStopped,
}

/// Readiness and the clock.
pub struct Operations {
    health: Arc<dyn HealthCheck>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Operations { .. }")
    }
}

impl Operations {
    pub fn new(health: Arc<dyn HealthCheck>, clock: Arc<dyn Clock>) -> Self {
        Self { health, clock }
    }

    /// Whether reads and writes can be served now, with how the writer has fared. Blocks (it asks
    /// the store): call it off the async workers.
    pub fn readiness(&self) -> std::result::Result<HealthReport, Unready> {
        match self.health.check() {
            Ok(()) => Ok(self.health.report()),
            Err(_) if self.health.report().writer_stopped => Err(Unready::WriterStopped),
            Err(_) => Err(Unready::StoreUnavailable),
        }
    }

    /// The Unix time (seconds) `value` units from now; `Invalid` when it leaves the calendar.
    pub fn timestamp_after(&self, value: i64, unit: OffsetUnit) -> Result<i64> {
        utilities::timestamp_after(self.clock.now(), value, unit)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::{Error, StoreError, Timestamp};

    struct Store {
        up: AtomicBool,
        stopped: bool,
    }

    impl HealthCheck for Store {
        fn check(&self) -> Result<()> {
            if self.up.load(Ordering::Relaxed) {
                Ok(())
            } else {
                Err(Error::Store(StoreError::Unavailable("down".into())))
            }
        }

        fn report(&self) -> HealthReport {
            HealthReport { writer_stopped: self.stopped, writer_restarts: 2, panicked_writes: 1 }
        }
    }

    struct Fixed;

    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            Timestamp(1_700_000_000_500)
        }
    }

    fn operations(up: bool, stopped: bool) -> Operations {
        Operations::new(Arc::new(Store { up: AtomicBool::new(up), stopped }), Arc::new(Fixed))
    }

    #[test]
    fn readiness_reports_the_writer_or_why_not() {
        let report = operations(true, false).readiness().expect("ready");
        assert_eq!((report.writer_restarts, report.panicked_writes), (2, 1));
        assert_eq!(operations(false, false).readiness(), Err(Unready::StoreUnavailable));
        assert_eq!(operations(false, true).readiness(), Err(Unready::WriterStopped));
    }

    #[test]
    fn timestamps_count_from_the_clock() {
        let ops = operations(true, false);
        assert_eq!(ops.timestamp_after(0, OffsetUnit::Now).expect("now"), 1_700_000_000);
        assert_eq!(ops.timestamp_after(2, OffsetUnit::Minutes).expect("later"), 1_700_000_120);
        assert!(ops.timestamp_after(i64::MAX, OffsetUnit::Days).is_err());
    }
}
