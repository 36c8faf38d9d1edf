//! Who is who (tag `Verification`): links between Discord users and Roblox accounts, and the
//! profile-code flow a bot runs to make one.

use garrison_core::{RobloxUserId, ServerId, discord::Snowflake};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, ids};

/// The Roblox account to verify, by id or by username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobloxAccount {
    Id(RobloxUserId),
    /// Any letter case.
    Username(String),
}

/// The body of `POST /api/verification/code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartCode {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// The Discord user to link (the calling bot vouches for who they are).
    #[serde(serialize_with = "ids::text")]
    pub discord_id: Snowflake,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ids::text_opt")]
    roblox_id: Option<RobloxUserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

impl StartCode {
    pub fn new(server_id: ServerId, discord_id: Snowflake, account: RobloxAccount) -> Self {
        let (roblox_id, username) = match account {
            RobloxAccount::Id(id) => (Some(id), None),
            RobloxAccount::Username(name) => (None, Some(name)),
        };
        Self { server_id, discord_id, roblox_id, username }
    }
}

/// The body of `POST /api/verification/code/check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckCode {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub discord_id: Snowflake,
}

/// A started verification: the phrase the user puts in their Roblox profile's About text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CodeChallenge {
    /// Six words.
    pub code: String,
    #[serde(deserialize_with = "ids::id")]
    pub roblox_id: RobloxUserId,
    /// When the code stops working (milliseconds since the Unix epoch; 15 minutes on).
    pub expires_at: i64,
}

/// A finished verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CodeChecked {
    pub is_verified: bool,
    #[serde(deserialize_with = "ids::id")]
    pub roblox_id: RobloxUserId,
}

/// The Discord user a Roblox account is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiscordLink {
    pub is_verified: bool,
    #[serde(default, deserialize_with = "ids::id_opt")]
    pub discord_id: Option<Snowflake>,
}

/// The Roblox account a Discord user is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobloxLink {
    pub is_verified: bool,
    #[serde(default, deserialize_with = "ids::id_opt")]
    pub roblox_id: Option<RobloxUserId>,
    /// Read from Roblox (kept an hour); `None` when unlinked or Roblox no longer knows the account.
    pub username: Option<String>,
    /// `oauth` (signed in to both) or `profile_code` (a bot's profile phrase).
    pub method: Option<String>,
}

/// The verification routes: [`Client::verification`].
#[derive(Debug, Clone, Copy)]
pub struct VerificationApi<'c>(&'c Client);

impl Client {
    /// The verification routes.
    pub fn verification(&self) -> VerificationApi<'_> {
        VerificationApi(self)
    }
}

impl VerificationApi<'_> {
    /// `GET /api/verification`: whether a Roblox account is linked, and to whom. Links are global;
    /// `server` only names whose key reads.
    pub async fn by_roblox(&self, member: RobloxUserId, server: Option<ServerId>) -> Result<DiscordLink> {
        self.0
            .call(Operation::VerificationByRoblox)
            .query("robloxId", member)
            .query_opt("serverId", server)
            .send()
            .await
    }

    /// `GET /api/verification/discord`: the Roblox account a Discord user is linked to.
    pub async fn by_discord(&self, user: Snowflake, server: Option<ServerId>) -> Result<RobloxLink> {
        self.0
            .call(Operation::VerificationByDiscord)
            .query("discordId", user)
            .query_opt("serverId", server)
            .send()
            .await
    }

    /// `POST /api/verification/code`: starts a profile-code verification (valid 15 minutes; a new one
    /// replaces this server's earlier one for the user).
    pub async fn start_code(&self, start: &StartCode) -> Result<CodeChallenge> {
        self.0.call(Operation::StartVerificationCode).json(start).send().await
    }

    /// `POST /api/verification/code/check`: reads the Roblox profile now and, when it shows the
    /// phrase, links the accounts.
    pub async fn check_code(&self, check: &CheckCode) -> Result<CodeChecked> {
        self.0.call(Operation::CheckVerificationCode).json(check).send().await
    }
}
