//! `/api/modactions/*`: ban, unban, kick and timeouts with the caller's bot token, as the Noctra
//! specification has them. Each handler reads its headers and makes one call of the moderation
//! service (`garrison_core::discord::Moderation`), which checks permissions and the role hierarchy
//! before Discord is asked, so a refusal names its reason.

use actix_web::{HttpRequest, delete, http::StatusCode, post, web};
use garrison_core::{
    ServerId,
    discord::{BotToken, Snowflake},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{AppState, error::ApiError, extract::RawBody, headers::header};

/// The guild, the target user and the bot of a moderation request.
struct Target {
    guild: ServerId,
    user: Snowflake,
    token: BotToken,
}

/// Reads `server-id`, `bot-token` and `user-id` (plus `extra`, required too). Missing ones answer the
/// specification's `{"error":"Missing headers"}` with `missing` listing them; a malformed id names
/// its header.
fn target(req: &HttpRequest, extra: &[&'static str]) -> Result<Target, ApiError> {
    let required = ["server-id", "bot-token", "user-id"].into_iter().chain(extra.iter().copied());
    let missing: Vec<&str> = required.filter(|name| header(req, name).is_none()).collect();
    if !missing.is_empty() {
        let message = format!("Missing headers: {}", missing.join(", "));
        return Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            message,
            json!({"error": "Missing headers", "missing": missing}),
        ));
    }
    let id = |name: &'static str| Snowflake::parse(name, header(req, name).unwrap_or_default()).map_err(ApiError::from);
    let token =
        header(req, "bot-token").and_then(BotToken::new).ok_or_else(|| ApiError::bad_request("Missing headers"))?;
    let guild = ServerId::parse("server-id", header(req, "server-id").unwrap_or_default())?;
    Ok(Target { guild, user: id("user-id")?, token })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModMessage {
    #[schema(example = "User successfully banned")]
    message: &'static str,
}

fn done(message: &'static str) -> web::Json<ModMessage> {
    web::Json(ModMessage { message })
}

/// Permanently bans a user; the audit log says "Banned via API".
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header, description = "Guild id"), ("bot-token" = String, Header, description = "Bot token"),
    ("user-id" = String, Header, description = "User to ban"),
), responses(
    (status = 200, body = ModMessage),
    (status = 400, description = "`{\"error\":\"Missing headers\",\"missing\":[\"user-id\"]}`, or a malformed id"),
    (status = 401, description = "`{\"error\":\"Bot token invalid.\"}`"),
    (status = 403, description = "Bot not member, a missing permission (named), or the role hierarchy"),
    (status = 429, description = "Discord's rate limit; see Retry-After"), (status = 502, description = "Discord unavailable")))]
#[post("/api/modactions/ban")]
pub async fn ban(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<ModMessage>, ApiError> {
    let t = target(&req, &[])?;
    state.discord.moderation.ban(&t.token, t.guild, t.user).await?;
    Ok(done("User successfully banned"))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BanWithReasonBody {
    /// Written to the audit log.
    #[schema(example = "Spam")]
    reason: Option<String>,
    /// Days of the user's messages to delete, 0 to 7.
    #[schema(example = 1)]
    delete_message_days: Option<i64>,
}

/// Bans with a reason (audit log) and deletes 0 to 7 days of the user's messages.
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header), ("bot-token" = String, Header), ("user-id" = String, Header),
), request_body = BanWithReasonBody, responses(
    (status = 200, body = ModMessage), (status = 400, description = "missing headers, or deleteMessageDays outside 0-7"),
    (status = 401), (status = 403), (status = 429), (status = 502)))]
#[post("/api/modactions/ban-with-reason")]
pub async fn ban_with_reason(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<web::Json<ModMessage>, ApiError> {
    let t = target(&req, &[])?;
    let body: BanWithReasonBody = body.json_or_default()?;
    state.discord.moderation.ban_with_reason(&t.token, t.guild, t.user, body.reason, body.delete_message_days).await?;
    Ok(done("User successfully banned"))
}

/// Lifts a ban.
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header), ("bot-token" = String, Header), ("user-id" = String, Header),
), responses((status = 200, body = ModMessage), (status = 400), (status = 401), (status = 403),
    (status = 404, description = "`{\"error\":\"Unknown ban.\"}`: the user is not banned"), (status = 429), (status = 502)))]
#[delete("/api/modactions/unban")]
pub async fn unban(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<ModMessage>, ApiError> {
    let t = target(&req, &[])?;
    state.discord.moderation.unban(&t.token, t.guild, t.user, header(&req, "reason").map(str::to_owned)).await?;
    Ok(done("User successfully unbanned"))
}

/// Removes a member from the server; `reason` goes to the audit log.
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header), ("bot-token" = String, Header), ("user-id" = String, Header),
    ("reason" = Option<String>, Header, description = "Audit log reason"),
), responses((status = 200, body = ModMessage), (status = 400), (status = 401), (status = 403),
    (status = 404, description = "`{\"error\":\"Unknown member.\"}`"), (status = 429), (status = 502)))]
#[delete("/api/modactions/kick")]
pub async fn kick(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<ModMessage>, ApiError> {
    let t = target(&req, &[])?;
    state.discord.moderation.kick(&t.token, t.guild, t.user, header(&req, "reason").map(str::to_owned)).await?;
    Ok(done("User successfully kicked"))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeoutApplied {
    #[schema(example = "Timeout successfully applied")]
    message: &'static str,
    /// When the timeout ends, ISO 8601 UTC.
    #[schema(example = "2024-01-15T18:00:00Z")]
    expires_at: String,
}

/// Times a member out for `duration` (`30m`, `6h`, `1d`, `2w`; at most 28 days).
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header), ("bot-token" = String, Header), ("user-id" = String, Header),
    ("duration" = String, Header, description = "a number and m, h, d or w; at most 28 days"),
    ("reason" = Option<String>, Header, description = "Audit log reason"),
), responses((status = 200, body = TimeoutApplied), (status = 400, description = "missing headers or a bad duration"),
    (status = 401), (status = 403, description = "missing MODERATE_MEMBERS, the hierarchy, or an administrator target"),
    (status = 404), (status = 429), (status = 502)))]
#[post("/api/modactions/timeout")]
pub async fn timeout(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<TimeoutApplied>, ApiError> {
    let t = target(&req, &["duration"])?;
    let (duration, reason) = (header(&req, "duration").unwrap_or_default(), header(&req, "reason").map(str::to_owned));
    let until = state.discord.moderation.timeout(&t.token, t.guild, t.user, duration, reason).await?;
    Ok(web::Json(TimeoutApplied { message: "Timeout successfully applied", expires_at: until.to_iso8601() }))
}

/// Lifts a member's timeout.
#[utoipa::path(tag = "Moderation", params(
    ("server-id" = String, Header), ("bot-token" = String, Header), ("user-id" = String, Header),
    ("reason" = Option<String>, Header, description = "Audit log reason"),
), responses((status = 200, body = ModMessage), (status = 400), (status = 401), (status = 403), (status = 404),
    (status = 429), (status = 502)))]
#[delete("/api/modactions/timeout")]
pub async fn remove_timeout(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<ModMessage>, ApiError> {
    let t = target(&req, &[])?;
    state
        .discord
        .moderation
        .remove_timeout(&t.token, t.guild, t.user, header(&req, "reason").map(str::to_owned))
        .await?;
    Ok(done("Timeout successfully removed"))
}
