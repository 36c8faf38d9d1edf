//! `/api/verification*`: who is who between Discord and Roblox. Look-ups by either account, and the
//! profile-code way for bots to link a member. Each parses its ids, authenticates the API key, makes
//! one call of the verification service and writes the answer.

use actix_web::{get, post, web};
use garrison_core::{
    ServerId,
    discord::Snowflake,
    roblox::verification::{Link, RobloxAccount},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, Params},
};

fn server(text: Option<&IdText>) -> Result<Option<ServerId>, garrison_core::Error> {
    text.map(|t| t.server("serverId")).transpose()
}

fn discord(text: &IdText) -> Result<Snowflake, garrison_core::Error> {
    Snowflake::parse("discordId", &text.0)
}

/// `?robloxId=&serverId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ByRobloxQuery {
    /// Roblox user id.
    #[param(value_type = String, example = "123456789")]
    roblox_id: IdText,
    /// The key's server (links are global; this only names whose key reads). Optional.
    #[param(value_type = Option<String>, example = "123456789012345678")]
    server_id: Option<IdText>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByRobloxResponse {
    is_verified: bool,
    /// The linked Discord user, `null` when none.
    #[schema(example = "123456789012345678")]
    discord_id: Option<String>,
}

/// Whether a Roblox user is linked to a Discord user, and to whom.
#[utoipa::path(tag = "Verification", params(ByRobloxQuery), responses(
    (status = 200, body = ByRobloxResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/verification")]
pub async fn by_roblox(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ByRobloxQuery>,
) -> Result<web::Json<ByRobloxResponse>, ApiError> {
    let roblox = query.roblox_id.roblox("robloxId")?;
    let server = server(query.server_id.as_ref())?;
    let principal = caller.principal(state.clone()).await?;
    let link = state.verification.by_roblox(&principal, server, roblox).await?;
    Ok(web::Json(ByRobloxResponse { is_verified: link.is_some(), discord_id: link.map(|l| l.discord.to_string()) }))
}

/// `?discordId=&serverId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ByDiscordQuery {
    /// Discord user id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    discord_id: IdText,
    /// The key's server; optional.
    #[param(value_type = Option<String>, example = "123456789012345678")]
    server_id: Option<IdText>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByDiscordResponse {
    is_verified: bool,
    #[schema(example = 123456789)]
    roblox_id: Option<i64>,
    /// The Roblox username (read from Roblox, kept an hour); `null` when unlinked or Roblox no longer
    /// knows the account.
    #[schema(example = "builderman")]
    username: Option<String>,
    /// `oauth` (signed in to both) or `profile_code` (a bot's profile phrase).
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
}

/// The Roblox account a Discord user is linked to.
#[utoipa::path(tag = "Verification", params(ByDiscordQuery), responses(
    (status = 200, body = ByDiscordResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 502, body = ErrorBody)))]
#[get("/api/verification/discord")]
pub async fn by_discord(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ByDiscordQuery>,
) -> Result<web::Json<ByDiscordResponse>, ApiError> {
    let user = discord(&query.discord_id)?;
    let server = server(query.server_id.as_ref())?;
    let principal = caller.principal(state.clone()).await?;
    let found = state.verification.by_discord(&principal, server, user).await?;
    Ok(web::Json(match found {
        Some((link, username)) => ByDiscordResponse {
            is_verified: true,
            roblox_id: Some(link.roblox.get()),
            username,
            method: Some(link.method.as_str()),
        },
        None => ByDiscordResponse { is_verified: false, roblox_id: None, username: None, method: None },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartCodeBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// The Discord user to link (your bot vouches for who they are).
    #[schema(value_type = String, example = "123456789012345678")]
    discord_id: IdText,
    /// The Roblox account, by id...
    #[schema(value_type = Option<String>, example = "123456789")]
    roblox_id: Option<IdText>,
    /// ... or by username (one of the two).
    username: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartCodeResponse {
    /// Six words the user puts in their Roblox profile's About text.
    #[schema(example = "maple otter lantern quartz willow comet")]
    code: String,
    #[schema(example = 123456789)]
    roblox_id: i64,
    /// When the code stops working (milliseconds since the Unix epoch; 15 minutes).
    expires_at: i64,
}

/// Start a profile-code verification: a phrase for the user to put in their Roblox profile, valid 15
/// minutes. A new phrase replaces this server's earlier one for the user.
#[utoipa::path(tag = "Verification", request_body = StartCodeBody, responses(
    (status = 200, body = StartCodeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "no such Roblox user", body = ErrorBody),
    (status = 502, body = ErrorBody)))]
#[post("/api/verification/code")]
pub async fn start_code(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<StartCodeBody>,
) -> Result<web::Json<StartCodeResponse>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let user = discord(&body.discord_id)?;
    let account = roblox_account(body.roblox_id.as_ref(), body.username.as_deref())?;
    let principal = caller.principal(state.clone()).await?;
    let challenge = state.verification.start_code(&principal, server, user, account).await?;
    Ok(web::Json(StartCodeResponse {
        code: challenge.phrase,
        roblox_id: challenge.roblox.get(),
        expires_at: challenge.expires_at.millis(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckCodeBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    #[schema(value_type = String, example = "123456789012345678")]
    discord_id: IdText,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckCodeResponse {
    is_verified: bool,
    #[schema(example = 123456789)]
    roblox_id: i64,
}

impl From<Link> for CheckCodeResponse {
    fn from(link: Link) -> Self {
        Self { is_verified: true, roblox_id: link.roblox.get() }
    }
}

/// Finish a profile-code verification: Garrison reads the Roblox profile now and, when it shows the
/// phrase, links the accounts (the user may remove the phrase afterwards).
#[utoipa::path(tag = "Verification", request_body = CheckCodeBody, responses(
    (status = 200, body = CheckCodeResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "no pending code (never asked, or expired)", body = ErrorBody),
    (status = 409, description = "the phrase is not in the profile, or a sign-in link exists", body = ErrorBody),
    (status = 502, body = ErrorBody)))]
#[post("/api/verification/code/check")]
pub async fn check_code(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<CheckCodeBody>,
) -> Result<web::Json<CheckCodeResponse>, ApiError> {
    let server = body.0.server_id.server("serverId")?;
    let user = discord(&body.0.discord_id)?;
    let principal = caller.principal(state.clone()).await?;
    let link = state.verification.check_code(&principal, server, user).await?;
    Ok(web::Json(link.into()))
}

/// The Roblox account a request names: `robloxId` or `username`, one of the two.
pub(super) fn roblox_account(id: Option<&IdText>, username: Option<&str>) -> Result<RobloxAccount, ApiError> {
    match (id, username) {
        (Some(id), None) => Ok(RobloxAccount::Id(id.roblox("robloxId")?)),
        (None, Some(name)) if !name.trim().is_empty() && name.len() <= 64 => {
            Ok(RobloxAccount::Username(name.trim().to_owned()))
        }
        (None, Some(_)) => Err(ApiError::bad_request("username: must be 1 to 64 characters")),
        _ => Err(ApiError::bad_request("give either robloxId or username (one of the two)")),
    }
}
