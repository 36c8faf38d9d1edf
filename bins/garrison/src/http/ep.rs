//! `/api/ep*`: EP totals of the current quota period, warning levels, and the quota policy.

use actix_web::{get, post, put, web};
use garrison_core::{
    Timestamp,
    ep::{Company, EpPolicy, EpStatus, PerCompany, PolicyDraft},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, MemberQuery, Params, ServerQuery, member_key},
};

/// An amount per company. Requests may omit companies (0); responses list all four.
#[derive(Debug, Default, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Companies {
    #[serde(default)]
    main: i64,
    #[serde(default)]
    sub1: i64,
    #[serde(default)]
    sub2: i64,
    #[serde(default)]
    sub3: i64,
}

impl From<PerCompany> for Companies {
    fn from(p: PerCompany) -> Self {
        Self {
            main: p.get(Company::Main),
            sub1: p.get(Company::Sub1),
            sub2: p.get(Company::Sub2),
            sub3: p.get(Company::Sub3),
        }
    }
}

impl From<Companies> for PerCompany {
    fn from(c: Companies) -> Self {
        PerCompany([c.main, c.sub1, c.sub2, c.sub3])
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EpResponse {
    /// `true` on changes; absent on reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    success: Option<bool>,
    /// EP in the current quota period.
    ep: Companies,
    /// Consecutive most recent completed periods with a missed quota (LOA periods skipped), capped.
    #[schema(example = 1)]
    warning_level: u8,
}

impl EpResponse {
    fn new(status: EpStatus, success: Option<bool>) -> Self {
        Self { success, ep: status.current.into(), warning_level: status.warning_level }
    }
}

/// A member's EP this period and their warning level.
#[utoipa::path(tag = "EP", params(MemberQuery), responses(
    (status = 200, body = EpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/ep")]
pub async fn get_ep(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<MemberQuery>,
) -> Result<web::Json<EpResponse>, ApiError> {
    let member = query.key()?;
    let status = caller.run(state, move |records, caller| records.ep_status(caller, member)).await?;
    Ok(web::Json(EpResponse::new(status, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EpAddBody {
    #[schema(value_type = String)]
    server_id: IdText,
    #[schema(value_type = String)]
    roblox_id: IdText,
    /// main, sub1, sub2 or sub3.
    #[schema(example = "main")]
    company: String,
    /// 1..=1000000000.
    #[schema(example = 5)]
    amount: i64,
}

/// Add EP to a member for one company.
#[utoipa::path(tag = "EP", request_body = EpAddBody, responses(
    (status = 200, body = EpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/api/ep/add")]
pub async fn add_ep(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<EpAddBody>,
) -> Result<web::Json<EpResponse>, ApiError> {
    let body = body.0;
    let member = member_key(&body.server_id, &body.roblox_id)?;
    let company = Company::parse(&body.company)?;
    let status =
        caller.run_write(state, move |records, caller| records.add_ep(caller, member, company, body.amount)).await?;
    Ok(web::Json(EpResponse::new(status, Some(true))))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResponse {
    #[schema(example = "123456789012345678")]
    server_id: String,
    /// Length of a quota period in days.
    #[schema(example = 7)]
    period_days: u16,
    /// Start of period 0, in milliseconds since the Unix epoch.
    #[schema(example = 345_600_000)]
    period_start: i64,
    /// EP each member must reach per period, per company (0 = no quota).
    quota: Companies,
    #[schema(example = 3)]
    max_warning_level: u8,
}

fn policy_response(server: garrison_core::ServerId, policy: &EpPolicy) -> PolicyResponse {
    PolicyResponse {
        server_id: server.to_string(),
        period_days: policy.period_days(),
        period_start: policy.period_start().millis(),
        quota: policy.quota().into(),
        max_warning_level: policy.max_warning_level(),
    }
}

/// The server's quota policy (the default, weekly from Monday 00:00 UTC with no quota, until one is set).
#[utoipa::path(tag = "EP", params(ServerQuery), responses(
    (status = 200, body = PolicyResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/ep/policy")]
pub async fn get_policy(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<PolicyResponse>, ApiError> {
    let server = query.server()?;
    let policy = caller.run(state, move |records, caller| records.ep_policy(caller, server)).await?;
    Ok(web::Json(policy_response(server, &policy)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    #[schema(value_type = String)]
    server_id: IdText,
    /// 1..=365 (default 7).
    period_days: Option<i64>,
    /// Start of period 0, in milliseconds since the Unix epoch. Default: the start of the current
    /// period counted in whole periods from Monday 1970-01-05 00:00 UTC, so no earlier period counts.
    period_start: Option<i64>,
    /// Per company, 0..=1000000000; omitted companies have no quota.
    quota: Option<Companies>,
    /// 0..=100 (default 3).
    max_warning_level: Option<i64>,
}

/// Replace the server's quota policy; omitted fields take their defaults.
#[utoipa::path(tag = "EP", request_body = PolicyBody, responses(
    (status = 200, body = PolicyResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/api/ep/policy")]
pub async fn put_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<PolicyBody>,
) -> Result<web::Json<PolicyResponse>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let draft = PolicyDraft {
        period_days: body.period_days,
        period_start: body.period_start.map(Timestamp::from_millis),
        quota: body.quota.map(Into::into),
        max_warning_level: body.max_warning_level,
    };
    let policy = caller.run_write(state, move |records, caller| records.set_ep_policy(caller, server, draft)).await?;
    Ok(web::Json(policy_response(server, &policy)))
}
