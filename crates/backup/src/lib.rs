//! Garrison's server backups, without IO: the versioned backup [`format`](mod@format) (what a backup holds, as
//! JSON, with every reference kept by original id and every image by its SHA-256) and the pure restore
//! [`plan`](mod@plan)ner (a backup and the target guild, captured the same way, in; ordered operations with id
//! remapping out), after the backup is [`fit`](mod@fit) to what the target guild may hold. The Discord
//! adapter captures and applies; object storage keeps the JSON and the images; this crate decides.

pub mod fit;
pub mod format;
pub mod plan;

pub use format::{Backup, FORMAT_VERSION, Id, is_image_hash};
pub use plan::{Counts, Mode, Op, Plan, PlanCounts, Ref, Remap, apply, plan};
