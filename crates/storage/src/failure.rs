//! The one place diesel and r2d2 errors become garrison-core errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use garrison_core::{Error, StoreError};

/// What a closure run against a connection can fail with: a domain outcome decided inside a
/// transaction, or a database error. Converting to [`Error`] happens once, at the adapter's edge.
#[derive(Debug)]
pub(crate) enum Failure {
    Domain(Error),
    Db(DieselError),
}

impl From<DieselError> for Failure {
    fn from(err: DieselError) -> Self {
        Self::Db(err)
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self::Domain(err)
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Domain(err) => err,
            Failure::Db(err) => Error::Store(db_error(err)),
        }
    }
}

pub(crate) fn db_error(err: DieselError) -> StoreError {
    match err {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => StoreError::Unavailable(info.message().to_owned()),
        other => StoreError::Internal(other.to_string()),
    }
}

pub(crate) fn is_unique_violation(err: &DieselError) -> bool {
    matches!(err, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

/// Turns a unique violation into the domain conflict it means.
pub(crate) fn on_unique(err: DieselError, conflict: impl FnOnce() -> Error) -> Failure {
    if is_unique_violation(&err) { Failure::Domain(conflict()) } else { Failure::Db(err) }
}
