//! `/api/xp*`: balances, changes, history and the leaderboard.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use garrison_core::{
    idempotency::IdempotencyKey,
    records::XpChangeRequest,
    xp::{HistoryPage, LeaderboardPage, Reason, Reference, XpChange, XpEntry, XpOperation, XpOutcome},
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
    /// A label kept in the history (1..=128 characters); many changes may share one. To make retries
    /// safe, send an `Idempotency-Key` header instead.
    reference: Option<String>,
    /// Kept in the ledger.
    reason: Option<String>,
}

/// The optional `Idempotency-Key` request header of the XP changes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documents a header; the handler reads it from the request
pub struct IdempotencyHeader {
    /// 1..=255 visible ASCII characters, scoped to the API key and the route. The same key with the
    /// same body within 24 hours answers the first answer again (with `Idempotent-Replayed: true`)
    /// and changes nothing; with another body it is refused (422).
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct XpResponse {
    #[schema(example = true)]
    success: bool,
    #[schema(example = 100)]
    xp: i64,
}

/// The header that makes a change safe to retry.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Set (to `true`) on an answer replayed for a repeated `Idempotency-Key`.
const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: XpChangeBody,
    operation: XpOperation,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = match req.headers().get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => Some(IdempotencyKey::parse(value.to_str().map_err(|_| {
            garrison_core::Error::invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters")
        })?)?),
    };
    let request = XpChangeRequest {
        member: member_key(&body.server_id, &body.roblox_id)?,
        change: XpChange::new(operation, body.amount)?,
        reference: body.reference.as_deref().map(Reference::parse).transpose()?,
        reason: body.reason.as_deref().map(Reason::parse).transpose()?,
        idempotency_key,
    };
    let outcome = caller.run_write(state, move |records, caller| records.change_xp(caller, request)).await?;
    let mut response = HttpResponse::Ok();
    if matches!(outcome, XpOutcome::Replayed { .. }) {
        response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    }
    Ok(response.json(XpResponse { success: true, xp: outcome.balance() }))
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
#[utoipa::path(tag = "XP", request_body = XpChangeBody, params(IdempotencyHeader), responses(
    (status = 200, body = XpResponse, headers(("Idempotent-Replayed" = String, description = "`true` when this is the replayed answer of an earlier request with the same Idempotency-Key"))),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 422, description = "Idempotency-Key reused for a different request within 24 hours", body = ErrorBody)))]
#[post("/api/xp/set")]
pub async fn set_xp(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Body<XpChangeBody>,
) -> Result<HttpResponse, ApiError> {
    change(state, caller, req, body.0, XpOperation::Set).await
}

/// Add XP to a member's balance. A balance above 2^53-1 is refused (400).
#[utoipa::path(tag = "XP", request_body = XpChangeBody, params(IdempotencyHeader), responses(
    (status = 200, body = XpResponse, headers(("Idempotent-Replayed" = String, description = "`true` on a replayed answer"))),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 422, description = "Idempotency-Key reused for a different request within 24 hours", body = ErrorBody)))]
#[post("/api/xp/add")]
pub async fn add_xp(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Body<XpChangeBody>,
) -> Result<HttpResponse, ApiError> {
    change(state, caller, req, body.0, XpOperation::Add).await
}

/// Subtract XP from a member's balance; the balance stops at 0, never below.
#[utoipa::path(tag = "XP", request_body = XpChangeBody, params(IdempotencyHeader), responses(
    (status = 200, body = XpResponse, headers(("Idempotent-Replayed" = String, description = "`true` on a replayed answer"))),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 422, description = "Idempotency-Key reused for a different request within 24 hours", body = ErrorBody)))]
#[post("/api/xp/subtract")]
pub async fn subtract_xp(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Body<XpChangeBody>,
) -> Result<HttpResponse, ApiError> {
    change(state, caller, req, body.0, XpOperation::Subtract).await
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
    /// The label the change was sent with (many changes may share one).
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
    /// Rows to skip (0..=10000, default 0). Deeper pages: `after`.
    offset: Option<u64>,
    /// The `next` value of the previous page: the rows after it (keyset pagination, as cheap at any
    /// depth). Not with `offset`.
    after: Option<String>,
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
    /// Pass as `after` for the next page; null on the last page.
    #[schema(example = "50.1200.123456789")]
    next: Option<String>,
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
    let page = LeaderboardPage::new(query.limit, query.offset, query.after.as_deref())?;
    let slice = caller.run(state, move |records, caller| records.leaderboard(caller, server, page)).await?;
    Ok(web::Json(LeaderboardResponse {
        entries: slice
            .rows
            .into_iter()
            .map(|r| LeaderboardEntry { roblox_id: r.member.get(), xp: r.xp, rank: r.rank })
            .collect(),
        next: slice.next.map(|cursor| cursor.to_text()),
    }))
}
