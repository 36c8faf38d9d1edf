//! The health probes (tag `Operations`): no API key needed.

use serde::Deserialize;

use crate::{Client, Operation, Result};

/// `GET /healthz`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /readyz`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    pub writer: WriterReport,
}

/// How the database writer has fared since start-up (SQLite; always zeros on PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WriterReport {
    /// Restarts after a failure outside any one write.
    pub restarts: u64,
    /// Writes that panicked: each was rolled back alone and answered 500.
    pub panicked_writes: u64,
}

/// The health probes: [`Client::health`].
#[derive(Debug, Clone, Copy)]
pub struct HealthApi<'c>(&'c Client);

impl Client {
    /// The health probes.
    pub fn health(&self) -> HealthApi<'_> {
        HealthApi(self)
    }
}

impl HealthApi<'_> {
    /// `GET /healthz`: the process is up and serving.
    pub async fn live(&self) -> Result<Health> {
        self.0.call(Operation::Healthz).send().await
    }

    /// `GET /readyz`: the database answers, and (SQLite) its writer takes a job within 2 seconds;
    /// [`Error::Unavailable`](crate::Error::Unavailable) when not.
    pub async fn ready(&self) -> Result<Readiness> {
        self.0.call(Operation::Readyz).send().await
    }
}
