//! The only place adapters meet: settings in, services out.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use garrison_core::{
    Clock, Timestamp,
    records::{ApiKeyService, MemberRecords, RecordStores},
};
use garrison_storage::{
    Database, DieselApiKeys, DieselCertifications, DieselEpLedger, DieselLoaRecords, DieselMedals, DieselXpLedger,
    PoolSizes,
};

use crate::settings::Settings;

/// The system clock, in milliseconds since the Unix epoch.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(millis)
    }
}

/// Opens the configured database and applies pending migrations.
pub fn database(settings: &Settings) -> anyhow::Result<Database> {
    let db = Database::open(
        settings.database_url.expose(),
        PoolSizes {
            connections: settings.database_connections,
            acquire_timeout: Duration::from_millis(settings.database_timeout_ms),
        },
    )
    .with_context(|| format!("cannot open the database {}", settings.database_url.redacted()))?;
    let applied = db.migrate().context("cannot migrate the database")?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(db)
}

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

pub fn member_records(db: &Database, clock: Arc<dyn Clock>) -> MemberRecords {
    MemberRecords::new(
        RecordStores {
            xp: Arc::new(DieselXpLedger::new(db.clone())),
            ep: Arc::new(DieselEpLedger::new(db.clone())),
            loa: Arc::new(DieselLoaRecords::new(db.clone())),
            medals: Arc::new(DieselMedals::new(db.clone())),
            certifications: Arc::new(DieselCertifications::new(db.clone())),
        },
        clock,
    )
}

pub fn api_keys(db: &Database, clock: Arc<dyn Clock>) -> ApiKeyService {
    ApiKeyService::new(Arc::new(DieselApiKeys::new(db.clone())), clock)
}

/// 32 bytes from the operating system's random source.
pub fn entropy<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    Ok(bytes)
}
