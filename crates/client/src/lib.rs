#![doc = include_str!("../README.md")]

mod answers;
mod client;
mod error;
mod ids;
mod operation;

pub mod backups;
pub mod cards;
pub mod certifications;
pub mod discord;
pub mod ep;
pub mod health;
pub mod loa;
pub mod medals;
pub mod messages;
pub mod moderation;
pub mod modlogs;
pub mod modmail;
pub mod roblox;
pub mod roles;
pub mod streams;
pub mod transcripts;
pub mod utilities;
pub mod verification;
pub mod webhooks;
pub mod xp;

pub use client::{Answer, Call, Client, ClientBuilder, RetryPolicy};
pub use error::{Error, Result};
/// The id and secret types the client's methods take, from garrison-core (each parses by the
/// server's own rule; the secrets' `Debug` never shows them).
pub use garrison_core::{
    RobloxUserId, ServerId,
    apikey::ApiKeySecret,
    backups::AuthKey,
    discord::{BotToken, InteractionToken, Snowflake},
    roblox::{GroupId, OpenCloudKey},
    streams::Secret,
};
pub use operation::{OPERATIONS, Operation};
pub use webhooks::{DeliveryHeaders, Event, VerifyError, verify_webhook};
