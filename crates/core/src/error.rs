use crate::{discord::Snowflake, ids::RobloxUserId};

/// A failure of the domain: a broken rule, an unknown thing, or a store that could not answer.
///
/// Each variant names a business fact; the HTTP shell maps every variant to one status code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request field is present but its value breaks a rule (range, format, length).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("xp would exceed the maximum balance of {max}")]
    XpOverflow { max: i64 },
    /// An `Idempotency-Key` seen in the last 24 hours came back with a different request.
    #[error(
        "Idempotency-Key {key:?} was already used in the last 24 hours for a different request; use a new key for a new request"
    )]
    IdempotencyKeyReused { key: String },
    #[error("{member} already has an active leave of absence")]
    LoaAlreadyActive { member: RobloxUserId },
    #[error("{member} has no active leave of absence")]
    NoActiveLoa { member: RobloxUserId },
    #[error("no medal named {name:?} in this server's catalogue")]
    UnknownMedal { name: String },
    #[error("a medal named {name:?} already exists in this server's catalogue")]
    MedalExists { name: String },
    #[error("{member} already holds {name}")]
    MedalAlreadyAwarded { member: RobloxUserId, name: String },
    #[error("{member} does not hold {name}")]
    MedalNotHeld { member: RobloxUserId, name: String },
    #[error("no certification with reference {reference:?} in this server's catalogue")]
    UnknownCertification { reference: String },
    #[error("a certification with reference {reference:?} already exists in this server's catalogue")]
    CertificationExists { reference: String },
    #[error("{member} already holds {reference}")]
    CertificationAlreadyAwarded { member: RobloxUserId, reference: String },
    #[error("{member} does not hold {reference}")]
    CertificationNotHeld { member: RobloxUserId, reference: String },
    /// The user already has a custom booster role in this guild (at most one each).
    #[error("User already has a custom booster role")]
    BoosterRoleExists { user: Snowflake },
    /// The server already has a backup (one per server); it is updated with its auth key.
    #[error("This server already has a backup: send its X-Auth-Key to update it (one backup per server).")]
    BackupExists { guild: crate::ServerId },
    #[error("no API key with id {id}")]
    UnknownApiKey { id: i64 },
    /// No API key, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The API key is valid but may not do this (another server's data, or a write with a read-only key).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}

/// A failure of a storage adapter, already stripped of driver types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused the connection.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else the store reported; a bug or a broken database, never the caller's fault.
    #[error("storage failure: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
