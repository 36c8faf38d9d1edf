//! Viscra's Roblox routes: `/api/rank`, `/api/group/*` and the server's Roblox settings
//! (`/api/server/roblox`). Each parses its ids, authenticates the API key, makes one call of the
//! Roblox service and writes the answer.

use actix_web::{get, post, put, web};
use garrison_core::roblox::{GroupId, JoinRequestId, KeyCheck, OpenCloudKey, RobloxConfig, ranks::Direction};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, Params},
};

fn group(text: Option<&IdText>) -> Result<Option<GroupId>, garrison_core::Error> {
    text.map(|t| GroupId::parse("groupId", &t.0)).transpose()
}

/// `?serverId=&robloxId=&groupId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RankQuery {
    /// Discord server id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// Roblox user id.
    #[param(value_type = String, example = "123456789")]
    roblox_id: IdText,
    /// A Roblox group id; the server's main group when absent.
    #[param(value_type = Option<String>, example = "7")]
    group_id: Option<IdText>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankResponse {
    #[schema(example = 7)]
    group_id: u64,
    #[schema(example = "Captain")]
    rank_name: String,
    /// The role's rank in the group (0 for a user who is not a member, 255 for the owner).
    #[schema(example = 50)]
    rank_id: u8,
}

/// A member's rank in the server's Roblox group (the highest role they hold); `Guest`, rank 0, when
/// they are not a member. Read through a one-minute cache.
#[utoipa::path(tag = "Roblox groups", params(RankQuery), responses(
    (status = 200, body = RankResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, description = "no Roblox group configured for this server", body = ErrorBody),
    (status = 429, body = ErrorBody), (status = 502, description = "Roblox refused the server's key, failed or timed out", body = ErrorBody)))]
#[get("/api/rank")]
pub async fn rank(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<RankQuery>,
) -> Result<web::Json<RankResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let user = query.roblox_id.roblox("robloxId")?;
    let group = group(query.group_id.as_ref())?;
    let principal = caller.principal(state.clone()).await?;
    let (group, role) = state.roblox.rank(&principal, server, group, user).await?;
    Ok(web::Json(RankResponse { group_id: group.get(), rank_name: role.name, rank_id: role.rank.0 }))
}

/// `?serverId=&robloxId=|username=&size=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Discord server id (snowflake): its Open Cloud key reads.
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// Roblox user id ...
    #[param(value_type = Option<String>, example = "156")]
    roblox_id: Option<IdText>,
    /// ... or username, any letter case (one of the two).
    #[param(example = "builderman")]
    username: Option<String>,
    /// The headshot's size in pixels: 48, 50, 60, 75, 100, 110, 150 (the default), 180, 352, 420 or 720.
    #[param(example = 150)]
    size: Option<u16>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobloxUserResponse {
    #[schema(example = 156)]
    roblox_id: i64,
    #[schema(example = "builderman")]
    username: String,
    #[schema(example = "Builderman")]
    display_name: String,
    /// The profile's About text.
    about: String,
    /// When the account was made (RFC 3339), when Roblox says.
    #[schema(example = "2006-02-27T21:06:40Z")]
    created_at: Option<String>,
    premium: bool,
    /// The round PNG headshot on Roblox's image host; `null` while Roblox is still making it.
    #[schema(example = "https://tr.rbxcdn.com/30DAY-AvatarHeadshot-0/150/150/AvatarHeadshot/Png/isCircular")]
    headshot_url: Option<String>,
    #[schema(example = "https://www.roblox.com/users/156/profile")]
    profile_url: String,
}

/// A Roblox user's public account and headshot, read with the server's Open Cloud key and kept ten
/// minutes.
#[utoipa::path(tag = "Roblox groups", params(UserQuery), responses(
    (status = 200, body = RobloxUserResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "no such Roblox user", body = ErrorBody),
    (status = 409, description = "no Roblox key configured for this server", body = ErrorBody),
    (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[get("/api/roblox/user")]
pub async fn roblox_user(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<UserQuery>,
) -> Result<web::Json<RobloxUserResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let account = super::verification::roblox_account(query.roblox_id.as_ref(), query.username.as_deref())?;
    let size = query.size.unwrap_or(150);
    let principal = caller.principal(state.clone()).await?;
    let view = state.roblox.user(&principal, server, account, size).await?;
    let account = view.account;
    let id = account.user.id.get();
    Ok(web::Json(RobloxUserResponse {
        roblox_id: id,
        username: account.user.name,
        display_name: account.user.display_name,
        about: account.about,
        created_at: account.created.map(|at| at.to_iso8601()),
        premium: account.premium,
        headshot_url: view.headshot,
        profile_url: format!("https://www.roblox.com/users/{id}/profile"),
    }))
}

/// `?serverId=&groupId=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct JoinRequestsQuery {
    /// Discord server id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// A Roblox group id; the server's main group when absent.
    #[param(value_type = Option<String>, example = "7")]
    group_id: Option<IdText>,
    /// The `next` of an earlier answer, to read the requests after it.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequestUser {
    #[schema(example = 123)]
    user_id: i64,
    #[schema(example = "Builderman")]
    display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    /// What accept-request and deny-request take.
    #[schema(example = "123")]
    id: String,
    user: JoinRequestUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestsResponse {
    success: bool,
    /// Up to 100 pending requests, oldest first.
    data: Vec<JoinRequestView>,
    /// Pass as `cursor` for the next requests; absent after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// Pending requests to join the group, with who made them: up to 100 per call, then `next`.
#[utoipa::path(tag = "Roblox groups", params(JoinRequestsQuery), responses(
    (status = 200, body = JoinRequestsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, description = "another server's key, or the Roblox key lacks group:read", body = ErrorBody),
    (status = 409, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[get("/api/group/join-requests")]
pub async fn join_requests(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<JoinRequestsQuery>,
) -> Result<web::Json<JoinRequestsResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let group = group(query.group_id.as_ref())?;
    let cursor = query.0.cursor.clone();
    let principal = caller.principal(state.clone()).await?;
    let page = state.roblox.join_requests(&principal, server, group, cursor).await?;
    let data = page
        .requests
        .into_iter()
        .map(|r| JoinRequestView {
            id: r.id,
            user: JoinRequestUser { user_id: r.user.get(), display_name: r.display_name },
        })
        .collect();
    Ok(web::Json(JoinRequestsResponse { success: true, data, next: page.next }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequestBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// The request's `id` from the join-request list (Roblox's ids are the requesting user's id).
    #[schema(value_type = String, example = "123")]
    request_id: IdText,
    #[schema(value_type = Option<String>, example = "7")]
    group_id: Option<IdText>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessResponse {
    #[schema(example = true)]
    success: bool,
}

async fn answer_request(
    state: web::Data<AppState>,
    caller: Caller,
    body: JoinRequestBody,
    accept: bool,
) -> Result<web::Json<SuccessResponse>, ApiError> {
    let server = body.server_id.server("serverId")?;
    let request = JoinRequestId::parse("requestId", &body.request_id.0)?;
    let group = group(body.group_id.as_ref())?;
    let principal = caller.principal(state.clone()).await?;
    state.roblox.answer_join_request(&principal, server, group, request, accept).await?;
    Ok(web::Json(SuccessResponse { success: true }))
}

/// Accept a pending join request: the user becomes a member with the group's lowest role.
#[utoipa::path(tag = "Roblox groups", request_body = JoinRequestBody, responses(
    (status = 200, body = SuccessResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "no such pending request", body = ErrorBody),
    (status = 409, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[post("/api/group/accept-request")]
pub async fn accept_request(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<JoinRequestBody>,
) -> Result<web::Json<SuccessResponse>, ApiError> {
    answer_request(state, caller, body.0, true).await
}

/// Decline a pending join request.
#[utoipa::path(tag = "Roblox groups", request_body = JoinRequestBody, responses(
    (status = 200, body = SuccessResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "no such pending request", body = ErrorBody),
    (status = 409, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[post("/api/group/deny-request")]
pub async fn deny_request(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<JoinRequestBody>,
) -> Result<web::Json<SuccessResponse>, ApiError> {
    answer_request(state, caller, body.0, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankChangeBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    #[schema(value_type = String, example = "123456789")]
    roblox_id: IdText,
    #[schema(value_type = Option<String>, example = "7")]
    group_id: Option<IdText>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewRole {
    #[schema(example = "Captain")]
    name: String,
    #[schema(example = 50)]
    rank: u8,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankChangeResponse {
    success: bool,
    new_role: NewRole,
}

async fn change_rank(
    state: web::Data<AppState>,
    caller: Caller,
    body: RankChangeBody,
    direction: Direction,
) -> Result<web::Json<RankChangeResponse>, ApiError> {
    let server = body.server_id.server("serverId")?;
    let user = body.roblox_id.roblox("robloxId")?;
    let group = group(body.group_id.as_ref())?;
    let principal = caller.principal(state.clone()).await?;
    let change = state.roblox.step(&principal, server, group, user, direction).await?;
    Ok(web::Json(RankChangeResponse {
        success: true,
        new_role: NewRole { name: change.role.name, rank: change.role.rank.0 },
    }))
}

/// Promote a member to the next role up (held instead of the old one). Ranks 0 (guest) and 255
/// (owner) are never given or taken.
#[utoipa::path(tag = "Roblox groups", request_body = RankChangeBody, responses(
    (status = 200, body = RankChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, description = "another server's key, a read-only key, or the Roblox key may not", body = ErrorBody),
    (status = 404, description = "not a member of the group", body = ErrorBody),
    (status = 409, description = "already at the highest assignable rank, the owner, or no group configured", body = ErrorBody),
    (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[post("/api/group/promote")]
pub async fn promote(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<RankChangeBody>,
) -> Result<web::Json<RankChangeResponse>, ApiError> {
    change_rank(state, caller, body.0, Direction::Up).await
}

/// Demote a member to the next role down (never to guest: that is removing them).
#[utoipa::path(tag = "Roblox groups", request_body = RankChangeBody, responses(
    (status = 200, body = RankChangeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "not a member of the group", body = ErrorBody),
    (status = 409, description = "already at the lowest rank, the owner, or no group configured", body = ErrorBody),
    (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[post("/api/group/demote")]
pub async fn demote(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<RankChangeBody>,
) -> Result<web::Json<RankChangeResponse>, ApiError> {
    change_rank(state, caller, body.0, Direction::Down).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobloxSettingsBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// The server's main Roblox group.
    #[schema(value_type = String, example = "7")]
    group_id: IdText,
    /// An Open Cloud API key with the group's `group:read` (and, to change ranks and answer join
    /// requests, `group:write`) scopes. Stored encrypted; never returned.
    open_cloud_key: String,
}

/// `?serverId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RobloxSettingsQuery {
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyStatus {
    /// `accepted`, `refused` or `unknown` (Roblox could not be asked).
    #[schema(example = "accepted")]
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
    /// The scopes the live check found: `group:read` (it may list join requests), `group:write` (it may
    /// change ranks and answer join requests).
    scopes: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RobloxSettingsResponse {
    server_id: String,
    /// The main group, when one is configured.
    group_id: Option<u64>,
    key_set: bool,
    /// A live check of the key with Roblox, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<KeyStatus>,
}

fn key_status(check: KeyCheck) -> KeyStatus {
    match check {
        KeyCheck::Accepted { group_name, read_join_requests, write } => KeyStatus {
            status: "accepted",
            group_name: Some(group_name),
            scopes: [(read_join_requests, "group:read"), (write == Some(true), "group:write")]
                .into_iter()
                .filter_map(|(held, scope)| held.then_some(scope))
                .collect(),
            reason: write.is_none().then(|| "Roblox could not say whether the key has group:write.".to_owned()),
        },
        KeyCheck::Refused { reason } => {
            KeyStatus { status: "refused", group_name: None, scopes: Vec::new(), reason: Some(reason) }
        }
        KeyCheck::Unknown { reason } => {
            KeyStatus { status: "unknown", group_name: None, scopes: Vec::new(), reason: Some(reason) }
        }
    }
}

/// The server's Roblox settings: its main group, and whether a key is set (never the key), checked
/// live with Roblox.
#[utoipa::path(tag = "Roblox groups", params(RobloxSettingsQuery), responses(
    (status = 200, body = RobloxSettingsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/server/roblox")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<RobloxSettingsQuery>,
) -> Result<web::Json<RobloxSettingsResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let principal = caller.principal(state.clone()).await?;
    let view = state.roblox.view(&principal, server).await?;
    Ok(web::Json(RobloxSettingsResponse {
        server_id: view.server.to_string(),
        group_id: view.group.map(GroupId::get),
        key_set: view.key.is_some(),
        key: view.key.map(key_status),
    }))
}

/// Set the server's main Roblox group and Open Cloud key (a read-write API key only). Roblox is asked
/// first whether the key may read the group; a key it refuses is not kept (400).
#[utoipa::path(tag = "Roblox groups", request_body = RobloxSettingsBody, responses(
    (status = 200, body = RobloxSettingsResponse), (status = 400, description = "an invalid id or key, or a key Roblox refuses for the group", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[put("/api/server/roblox")]
pub async fn put_settings(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<RobloxSettingsBody>,
) -> Result<web::Json<RobloxSettingsResponse>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let group = GroupId::parse("groupId", &body.group_id.0)?;
    let key = OpenCloudKey::parse("openCloudKey", &body.open_cloud_key)?;
    let principal = caller.principal(state.clone()).await?;
    state.roblox.configure(&principal, server, RobloxConfig { group, key }).await?;
    Ok(web::Json(RobloxSettingsResponse {
        server_id: server.to_string(),
        group_id: Some(group.get()),
        key_set: true,
        key: None,
    }))
}
