#![doc = include_str!("../README.md")]

pub mod apikey;
pub mod backups;
pub mod booster;
pub mod cards;
pub mod catalogue;
pub mod cooldowns;
pub mod discord;
pub mod entropy;
pub mod ep;
mod error;
pub mod idempotency;
pub mod ids;
pub mod image_cache;
pub mod loa;
pub mod modlog;
pub mod objects;
pub mod operations;
pub mod ports;
pub mod records;
pub mod roblox;
pub mod streams;
pub mod threads;
mod time;
pub mod transcript;
pub mod ttl;
pub mod utilities;
pub mod view_id;
pub mod webhooks;
pub mod xp;

pub use error::{Error, Result, StoreError};
pub use ids::{ApiKeyId, MemberKey, RobloxUserId, ServerId};
pub use time::{Clock, SleepFuture, Sleeper, Timestamp};
