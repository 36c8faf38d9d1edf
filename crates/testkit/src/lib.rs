#![doc = include_str!("../README.md")]

mod files;
mod memory;
mod objects;
pub mod server;

use std::sync::atomic::{AtomicI64, Ordering};

use diesel::{Connection, PgConnection, RunQueryDsl};
pub use files::{FileHost, HostedFile};
use garrison_core::{Clock, Timestamp};
pub use memory::MemoryRecords;
pub use objects::MemoryObjectStore;

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "GARRISON_TEST_POSTGRES_URL";

/// The PostgreSQL server for tests (a URL to any database on it), if one is configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.trim().is_empty())
}

/// Prints the line the test runner's summary looks for when a suite cannot run here.
pub fn report_skip(suite: &str) {
    eprintln!("SKIPPED {suite}: {POSTGRES_URL_VAR} is not set");
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with its database path replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

impl TestDatabase {
    /// A new SQLite database file in its own temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("garrison.db").display());
        Self { url, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A new, empty PostgreSQL database on the server at `server_url`.
    pub fn postgres(server_url: &str) -> Self {
        let name = format!("garrison_test_{}", random_suffix());
        let admin_url = with_database(server_url, "postgres");
        let mut admin =
            PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("cannot reach PostgreSQL for tests: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("CREATE DATABASE");
        Self { url: with_database(server_url, &name), cleanup: Cleanup::Postgres { admin_url, name } }
    }

    /// Takes a PostgreSQL database away now, closing every connection to it (to test outages).
    pub fn destroy(&self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let mut admin =
                PgConnection::establish(admin_url).unwrap_or_else(|e| panic!("cannot reach PostgreSQL for tests: {e}"));
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .expect("DROP DATABASE");
        }
    }

    /// The URL to hand to `Database::open` or to `GARRISON_DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(now: Timestamp) -> Self {
        Self(AtomicI64::new(now.millis()))
    }

    pub fn set(&self, now: Timestamp) {
        self.0.store(now.millis(), Ordering::SeqCst);
    }

    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    pub fn advance_days(&self, days: i64) {
        self.advance_millis(days * Timestamp::MILLIS_PER_DAY);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// An outbox over `store` for tests: event ids from [`SequentialEntropy`], and a clock that moves two
/// seconds at every look, so what the outbox read of subscriptions is never reused and an endpoint a
/// test adds straight to the store is seen by the next change.
pub fn outbox(store: std::sync::Arc<MemoryRecords>) -> garrison_core::webhooks::Outbox {
    #[derive(Debug, Default)]
    struct Ticking(AtomicI64);
    impl Clock for Ticking {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.fetch_add(2_000, Ordering::SeqCst))
        }
    }
    garrison_core::webhooks::Outbox::new(
        store,
        std::sync::Arc::new(SequentialEntropy::default()),
        std::sync::Arc::new(Ticking::default()),
    )
}

/// Random bytes that are not random: each fill writes the next number (from 1) in its first eight
/// bytes, little-endian, and zeros after, so ids drawn from it are distinct and predictable.
#[derive(Debug, Default)]
pub struct SequentialEntropy(std::sync::atomic::AtomicU64);

impl garrison_core::entropy::Entropy for SequentialEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), garrison_core::entropy::EntropyError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        bytes.fill(0);
        for (byte, from) in bytes.iter_mut().zip(n.to_le_bytes()) {
            *byte = from;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(super::with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    }
}
