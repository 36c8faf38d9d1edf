//! Leaves of absence (tag `LOA`): one active leave per member at most.

use garrison_core::{RobloxUserId, ServerId};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, ids};

/// The body of `POST /api/loa/start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoaStart {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    /// 1 to 365.
    pub days: i64,
}

/// The body of `POST /api/loa/end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoaEnd {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
}

/// A member's leave: the active one, else their most recent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LoaStatus {
    pub active: bool,
    /// When it started, in milliseconds since the Unix epoch; `None` if never on leave.
    pub started_at: Option<i64>,
    /// When it ends (or ended), in milliseconds since the Unix epoch; `None` if never on leave.
    pub ends_at: Option<i64>,
}

/// The LOA routes: [`Client::loa`].
#[derive(Debug, Clone, Copy)]
pub struct LoaApi<'c>(&'c Client);

impl Client {
    /// The LOA routes.
    pub fn loa(&self) -> LoaApi<'_> {
        LoaApi(self)
    }
}

impl LoaApi<'_> {
    /// `GET /api/loa`: the member's leave status.
    pub async fn get(&self, server: ServerId, member: RobloxUserId) -> Result<LoaStatus> {
        self.0.call(Operation::GetLoa).query("serverId", server).query("robloxId", member).send().await
    }

    /// `POST /api/loa/start`: starts a leave now (409 when one is active).
    pub async fn start(&self, start: &LoaStart) -> Result<LoaStatus> {
        self.0.call(Operation::StartLoa).json(start).send().await
    }

    /// `POST /api/loa/end`: ends the active leave now (409 when none is).
    pub async fn end(&self, end: &LoaEnd) -> Result<LoaStatus> {
        self.0.call(Operation::EndLoa).json(end).send().await
    }
}
