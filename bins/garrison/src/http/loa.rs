//! `/api/loa*`: leave of absence.

use actix_web::{get, post, web};
use garrison_core::loa::LoaStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, MemberQuery, Params, member_key},
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoaResponse {
    #[schema(example = true)]
    active: bool,
    /// When the LOA ends (or ended), in milliseconds since the Unix epoch; null if never on leave.
    #[schema(example = 1_705_920_000_000_i64)]
    ends_at: Option<i64>,
    /// When the LOA started; null if never on leave.
    #[schema(example = 1_705_833_600_000_i64)]
    started_at: Option<i64>,
}

impl From<LoaStatus> for LoaResponse {
    fn from(s: LoaStatus) -> Self {
        Self { active: s.active, ends_at: s.ends_at.map(|t| t.millis()), started_at: s.started_at.map(|t| t.millis()) }
    }
}

/// A member's leave-of-absence status (their most recent LOA when none is active).
#[utoipa::path(tag = "LOA", params(MemberQuery), responses(
    (status = 200, body = LoaResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/api/loa")]
pub async fn get_loa(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<MemberQuery>,
) -> Result<web::Json<LoaResponse>, ApiError> {
    let member = query.key()?;
    let status = caller.run(state, move |records, caller| records.loa(caller, member)).await?;
    Ok(web::Json(status.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoaStartBody {
    #[schema(value_type = String)]
    server_id: IdText,
    #[schema(value_type = String)]
    roblox_id: IdText,
    /// 1..=365.
    #[schema(example = 7)]
    days: i64,
}

/// Start an LOA now for `days` days; 409 if one is already active.
#[utoipa::path(tag = "LOA", request_body = LoaStartBody, responses(
    (status = 200, body = LoaResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/loa/start")]
pub async fn start_loa(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<LoaStartBody>,
) -> Result<web::Json<LoaResponse>, ApiError> {
    let member = member_key(&body.0.server_id, &body.0.roblox_id)?;
    let days = body.0.days;
    let status = caller.run_write(state, move |records, caller| records.start_loa(caller, member, days)).await?;
    Ok(web::Json(status.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoaEndBody {
    #[schema(value_type = String)]
    server_id: IdText,
    #[schema(value_type = String)]
    roblox_id: IdText,
}

/// End the active LOA now; 409 if none is active.
#[utoipa::path(tag = "LOA", request_body = LoaEndBody, responses(
    (status = 200, body = LoaResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/api/loa/end")]
pub async fn end_loa(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<LoaEndBody>,
) -> Result<web::Json<LoaResponse>, ApiError> {
    let member = member_key(&body.0.server_id, &body.0.roblox_id)?;
    let status = caller.run_write(state, move |records, caller| records.end_loa(caller, member)).await?;
    Ok(web::Json(status.into()))
}
