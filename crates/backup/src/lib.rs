//! Garrison's server backups, without IO: the versioned backup [`format`] (what a backup holds, as
//! JSON, with every reference kept by original id) and the pure restore [`plan`]ner (a backup and the
//! target guild's current state in, ordered operations with id remapping out). The Discord adapter
//! captures and applies; object storage keeps the JSON and the images; this crate decides.

pub mod format;
pub mod plan;

pub use format::{Backup, FORMAT_VERSION, Id};
pub use plan::{Current, Mode, Op, Plan, Ref, Remap, apply, plan};
