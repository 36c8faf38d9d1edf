//! `/api/xp*`: balances, changes, history and the leaderboard.

use actix_web::{get, post, web};
use garrison_core::{
    records::XpChangeRequest,
    xp::{HistoryPage, Reason, Reference, XpChange, XpEntry, XpOperation},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, MemberQuery, Params, member_key},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct XpChangeBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    #[schema(value_type = String, example = "123456789")]
    roblox_id: IdText,
    /// 1..=1000000000 (set: 0..=1000000000).
    #[schema(example = 50)]
    amount: i64,
    /// Idempotency key, unique per server: a repeat returns the original result.
    reference: Option<String>,
    /// Kept in the ledger.
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct XpResponse {
    #[schema(example = true)]
    success: bool,
    #[schema(example = 100)]
    xp: i64,
}

async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    body: XpChangeBody,
    operation: XpOperation,
) -> Result<web::Json<XpResponse>, ApiError> {
    let request = XpChangeRequest {
        member: member_key(&body.server_id, &body.roblox_id)?,
        change: XpChange::new(operation, body.amount)?,
        reference: body.reference.as_deref().map(Reference::parse).transpose()?,
        reason: body.reason.as_deref().map(Reason::parse).transpose()?,
    };
    let outcome = caller.run_write(state, move |records, caller| records.change_xp(caller, request)).await?;
    Ok(web::Json(XpResponse { success: true, xp: outcome.balance() }))
}

/// Fetch the current XP balance of a member (0 if they have none).
#[utoipa::path(tag = "XP", params(MemberQuery), responses(
    (status = 200, body = XpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/xp")]
pub async fn get_xp(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<MemberQuery>,
) -> Result<web::Json<XpResponse>, ApiError> {
    let member = query.key()?;
    let xp = caller.run(state, move |records, caller| records.xp(caller, member)).await?;
    Ok(web::Json(XpResponse { success: true, xp }))
}

/// Set a member's XP to an exact value (0..=1000000000).
#[utoipa::path(tag = "XP", request_body = XpChangeBody, responses(
    (status = 200, body = XpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, description = "reference reused for a different request", body = ErrorBody)))]
#[post("/api/xp/set")]
pub async fn set_xp(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<XpChangeBody>,
) -> Result<web::Json<XpResponse>, ApiError> {
    change(state, caller, body.0, XpOperation::Set).await
}

/// Add XP to a member's balance. A balance above 2^53-1 is refused (400).
#[utoipa::path(tag = "XP", request_body = XpChangeBody, responses(
    (status = 200, body = XpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/xp/add")]
pub async fn add_xp(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<XpChangeBody>,
) -> Result<web::Json<XpResponse>, ApiError> {
    change(state, caller, body.0, XpOperation::Add).await
}

/// Subtract XP from a member's balance; the balance stops at 0, never below.
#[utoipa::path(tag = "XP", request_body = XpChangeBody, responses(
    (status = 200, body = XpResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/xp/subtract")]
pub async fn subtract_xp(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<XpChangeBody>,
) -> Result<web::Json<XpResponse>, ApiError> {
    change(state, caller, body.0, XpOperation::Subtract).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[param(value_type = String)]
    server_id: IdText,
    #[param(value_type = String)]
    roblox_id: IdText,
    /// Entries per page, 1..=100 (default 50).
    limit: Option<u32>,
    /// The `next` value of the previous page.
    before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    id: i64,
    /// set, add or subtract.
    operation: &'static str,
    /// The amount requested.
    amount: i64,
    /// How the balance really changed (a clamped subtract changes less than requested).
    delta: i64,
    /// The balance after this change.
    balance: i64,
    reference: Option<String>,
    reason: Option<String>,
    /// Name of the API key that made the change.
    key_name: Option<String>,
    /// Milliseconds since the Unix epoch.
    at: i64,
}

impl From<XpEntry> for HistoryEntry {
    fn from(e: XpEntry) -> Self {
        Self {
            id: e.id,
            operation: e.operation.as_str(),
            amount: e.amount,
            delta: e.delta,
            balance: e.balance,
            reference: e.reference,
            reason: e.reason,
            key_name: e.key_name,
            at: e.at.millis(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    entries: Vec<HistoryEntry>,
    /// Pass as `before` for the next (older) page; null on the last page.
    next: Option<i64>,
}

/// A member's XP ledger, newest first.
#[utoipa::path(tag = "XP", params(HistoryQuery), responses(
    (status = 200, body = HistoryResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/xp/history")]
pub async fn xp_history(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<HistoryQuery>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let member = member_key(&query.server_id, &query.roblox_id)?;
    let page = HistoryPage::new(query.limit, query.before)?;
    let slice = caller.run(state, move |records, caller| records.xp_history(caller, member, page)).await?;
    Ok(web::Json(HistoryResponse { entries: slice.entries.into_iter().map(Into::into).collect(), next: slice.next }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    #[param(value_type = String)]
    server_id: IdText,
    /// 1..=100 (default 50).
    limit: Option<u32>,
    /// Rows to skip (default 0).
    offset: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardEntry {
    roblox_id: i64,
    xp: i64,
    /// Position from 1; equal balances are ordered by the lower Roblox id.
    rank: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardResponse {
    entries: Vec<LeaderboardEntry>,
}

/// Members with positive XP, highest first.
#[utoipa::path(tag = "XP", params(LeaderboardQuery), responses(
    (status = 200, body = LeaderboardResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/xp/leaderboard")]
pub async fn xp_leaderboard(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<LeaderboardQuery>,
) -> Result<web::Json<LeaderboardResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let (limit, offset) = (query.limit, query.offset);
    let rows = caller.run(state, move |records, caller| records.leaderboard(caller, server, limit, offset)).await?;
    Ok(web::Json(LeaderboardResponse {
        entries: rows
            .into_iter()
            .map(|r| LeaderboardEntry { roblox_id: r.member.get(), xp: r.xp, rank: r.rank })
            .collect(),
    }))
}
