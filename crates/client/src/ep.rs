//! EP (tag `EP`): points per company in quota periods, warning levels, and the server's policy.

use garrison_core::{RobloxUserId, ServerId};
use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result, ids};

/// One of the four companies EP is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Company {
    Main,
    Sub1,
    Sub2,
    Sub3,
}

/// An amount per company (requests may leave a company at 0; answers list all four).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Companies {
    pub main: i64,
    pub sub1: i64,
    pub sub2: i64,
    pub sub3: i64,
}

/// The body of `POST /api/ep/add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EpAdd {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    pub company: Company,
    /// 1 to 1,000,000,000.
    pub amount: i64,
}

/// A member's EP in the current period and their warning level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EpStatus {
    /// EP in the current quota period.
    pub ep: Companies,
    /// Consecutive most recent completed periods with a missed quota (LOA periods skipped), capped.
    pub warning_level: u32,
}

/// The body of `PUT /api/ep/policy`: what is left `None` takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EpPolicyChange {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// 1 to 365 (default 7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_days: Option<i64>,
    /// The start of period 0, in milliseconds since the Unix epoch (default: the start of the current
    /// period counted in whole periods from Monday 1970-01-05 00:00 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<i64>,
    /// Per company, 0 to 1,000,000,000 (no quota by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<Companies>,
    /// 0 to 100 (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_warning_level: Option<i64>,
}

impl EpPolicyChange {
    /// The default policy for the server (weekly, no quota).
    pub fn new(server_id: ServerId) -> Self {
        Self { server_id, period_days: None, period_start: None, quota: None, max_warning_level: None }
    }
}

/// A server's quota policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EpPolicy {
    #[serde(deserialize_with = "ids::id")]
    pub server_id: ServerId,
    /// The length of a period in days.
    pub period_days: u32,
    /// The start of period 0, in milliseconds since the Unix epoch.
    pub period_start: i64,
    /// EP each member must reach per period, per company (0: no quota).
    pub quota: Companies,
    pub max_warning_level: u32,
}

/// The EP routes: [`Client::ep`].
#[derive(Debug, Clone, Copy)]
pub struct EpApi<'c>(&'c Client);

impl Client {
    /// The EP routes.
    pub fn ep(&self) -> EpApi<'_> {
        EpApi(self)
    }
}

impl EpApi<'_> {
    /// `GET /api/ep`: a member's EP this period and their warning level.
    pub async fn get(&self, server: ServerId, member: RobloxUserId) -> Result<EpStatus> {
        self.0.call(Operation::GetEp).query("serverId", server).query("robloxId", member).send().await
    }

    /// `POST /api/ep/add`: adds EP for one company.
    pub async fn add(&self, add: &EpAdd) -> Result<EpStatus> {
        self.0.call(Operation::AddEp).json(add).send().await
    }

    /// `GET /api/ep/policy`: the server's policy (weekly from Monday 00:00 UTC with no quota until one
    /// is set).
    pub async fn policy(&self, server: ServerId) -> Result<EpPolicy> {
        self.0.call(Operation::GetEpPolicy).query("serverId", server).send().await
    }

    /// `PUT /api/ep/policy`: replaces the server's policy.
    pub async fn set_policy(&self, policy: &EpPolicyChange) -> Result<EpPolicy> {
        self.0.call(Operation::PutEpPolicy).json(policy).send().await
    }
}
