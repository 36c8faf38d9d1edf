//! XP (tag `XP`): balances, changes (set, add, subtract) with an optional `Idempotency-Key`, the
//! ledger and the leaderboard.

use garrison_core::{RobloxUserId, ServerId};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, ids};

/// The body of `POST /api/xp/set`, `/add` and `/subtract`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct XpChange {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    /// 1 to 1,000,000,000 (set: 0 to 1,000,000,000).
    pub amount: i64,
    /// A label kept in the history (1 to 128 characters); many changes may share one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Kept in the ledger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl XpChange {
    pub fn new(server_id: ServerId, roblox_id: RobloxUserId, amount: i64) -> Self {
        Self { server_id, roblox_id, amount, reference: None, reason: None }
    }

    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// A member's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct XpBalance {
    pub xp: i64,
}

/// The balance after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct XpChanged {
    /// The new balance.
    pub xp: i64,
    /// The server answered a repeat of an earlier `Idempotency-Key` with its first answer
    /// (`Idempotent-Replayed: true`): this request changed nothing.
    pub replayed: bool,
}

/// One change in a member's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct XpEntry {
    pub id: i64,
    /// `set`, `add` or `subtract`.
    pub operation: String,
    /// The amount requested.
    pub amount: i64,
    /// How the balance really changed (a clamped subtract changes less than requested).
    pub delta: i64,
    /// The balance after this change.
    pub balance: i64,
    pub reference: Option<String>,
    pub reason: Option<String>,
    /// The name of the API key that made the change.
    pub key_name: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// A page of a member's ledger, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct XpHistory {
    pub entries: Vec<XpEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next: Option<i64>,
}

/// One row of the leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LeaderboardEntry {
    #[serde(deserialize_with = "ids::id")]
    pub roblox_id: RobloxUserId,
    pub xp: i64,
    /// Position from 1; equal balances are ordered by the lower Roblox id.
    pub rank: u64,
}

/// A page of the leaderboard, highest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Leaderboard {
    pub entries: Vec<LeaderboardEntry>,
    /// Pass as [`LeaderboardPage::after`] for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Which page of the leaderboard: the first 50 by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderboardPage {
    /// 1 to 100 (default 50).
    pub limit: Option<u32>,
    /// Rows to skip (0 to 10,000); deeper pages with `after`.
    pub offset: Option<u64>,
    /// The `next` of the previous page (not with `offset`).
    pub after: Option<String>,
}

/// The XP routes: [`Client::xp`].
#[derive(Debug, Clone, Copy)]
pub struct XpApi<'c>(&'c Client);

impl Client {
    /// The XP routes.
    pub fn xp(&self) -> XpApi<'_> {
        XpApi(self)
    }
}

impl XpApi<'_> {
    /// `GET /api/xp`: a member's balance (0 when they have none).
    pub async fn get(&self, server: ServerId, member: RobloxUserId) -> Result<XpBalance> {
        self.0.call(Operation::GetXp).query("serverId", server).query("robloxId", member).send().await
    }

    /// `POST /api/xp/set`: sets the balance. With an `idempotency_key`, a repeat within 24 hours
    /// changes nothing and the client may retry it.
    pub async fn set(&self, change: &XpChange, idempotency_key: Option<&str>) -> Result<XpChanged> {
        self.change(Operation::SetXp, change, idempotency_key).await
    }

    /// `POST /api/xp/add`: adds to the balance (a balance above 2^53-1 is refused).
    pub async fn add(&self, change: &XpChange, idempotency_key: Option<&str>) -> Result<XpChanged> {
        self.change(Operation::AddXp, change, idempotency_key).await
    }

    /// `POST /api/xp/subtract`: subtracts from the balance, which stops at 0.
    pub async fn subtract(&self, change: &XpChange, idempotency_key: Option<&str>) -> Result<XpChanged> {
        self.change(Operation::SubtractXp, change, idempotency_key).await
    }

    async fn change(&self, operation: Operation, change: &XpChange, key: Option<&str>) -> Result<XpChanged> {
        let mut call = self.0.call(operation).json(change);
        if let Some(key) = key {
            call = call.idempotency_key(key);
        }
        let answer = call.send_answer().await?;
        let balance: XpBalance = answer.json()?;
        Ok(XpChanged { xp: balance.xp, replayed: answer.header("Idempotent-Replayed") == Some("true") })
    }

    /// `GET /api/xp/history`: a page of the member's ledger, newest first (`limit` 1 to 100, default
    /// 50; `before`, the previous page's `next`).
    pub async fn history(
        &self,
        server: ServerId,
        member: RobloxUserId,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<XpHistory> {
        self.0
            .call(Operation::XpHistory)
            .query("serverId", server)
            .query("robloxId", member)
            .query_opt("limit", limit)
            .query_opt("before", before)
            .send()
            .await
    }

    /// `GET /api/xp/leaderboard`: members with positive XP, highest first.
    pub async fn leaderboard(&self, server: ServerId, page: &LeaderboardPage) -> Result<Leaderboard> {
        self.0
            .call(Operation::XpLeaderboard)
            .query("serverId", server)
            .query_opt("limit", page.limit)
            .query_opt("offset", page.offset)
            .query_opt("after", page.after.as_deref())
            .send()
            .await
    }
}
