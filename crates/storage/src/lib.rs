#![doc = include_str!("../README.md")]

mod apikeys;
mod backups;
mod binds;
mod booster;
mod cached;
mod certifications;
mod db;
mod ep;
mod failure;
mod links;
mod loa;
mod medals;
mod modlog;
mod objects;
mod roblox;
mod schema;
mod sealed;
mod signin;
mod xp;

pub use apikeys::DieselApiKeys;
pub use backups::{DieselBackupIndex, DieselPremiumGrants};
pub use binds::DieselRankBinds;
pub use booster::DieselBoosterRoles;
pub use certifications::DieselCertifications;
pub use db::{AnyConnection, Backend, Database, PoolSizes};
pub use ep::DieselEpLedger;
pub use links::DieselRobloxLinks;
pub use loa::DieselLoaRecords;
pub use medals::DieselMedals;
pub use modlog::DieselModLogs;
pub use objects::{FsObjectStore, S3Config, S3ObjectStore};
pub use roblox::DieselRobloxConfigs;
pub use sealed::{SealError, SecretKey};
pub use signin::DieselSignInFlows;
pub use xp::DieselXpLedger;
