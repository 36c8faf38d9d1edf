//! The two [`ObjectStore`](garrison_core::objects::ObjectStore) implementations: a local directory
//! ([`FsObjectStore`], the embedded default) and an S3 bucket ([`S3ObjectStore`], AWS or any
//! S3-compatible server). Both pass one contract suite (`tests/objects.rs`).

mod fs;
mod s3;

pub use fs::FsObjectStore;
pub use s3::{S3Config, S3ObjectStore};

use garrison_core::{Timestamp, objects::MAX_LIST_LIMIT};

/// The page size a caller asked for, within what every store supports.
fn page_limit(limit: usize) -> usize {
    limit.clamp(1, MAX_LIST_LIMIT)
}

/// Milliseconds since the epoch of a system time (0 before the epoch).
fn system_time_millis(time: std::time::SystemTime) -> Timestamp {
    let millis =
        time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}
