//! Noctra's role routes: `/api/Role/create`, the custom booster roles of `/api/Role/booster/...`,
//! `/api/RoleMemberPurge/purge`, `/api/HighestRole` and `/api/GetRoleCount`. Headers are read here as
//! text; core's `RoleService` and `BoosterRoleService` check them (`discord::looks`) and do the rest.

use actix_web::{HttpRequest, delete, get, post, put, web};
use garrison_core::ServerId;
use garrison_core::discord::{
    RoleRequest, Snowflake,
    looks::{self, LooksRequest},
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{
    AppState,
    error::ApiError,
    extract::Params,
    headers::{header, required, token},
};

fn path_id(field: &'static str, text: &str) -> Result<Snowflake, ApiError> {
    Ok(Snowflake::parse(field, text)?)
}

/// The looks headers of a role request, as the caller wrote them (core checks them).
fn looks_of(req: &HttpRequest) -> LooksRequest {
    let text = |name: &str| header(req, name).map(str::to_owned);
    LooksRequest {
        name: text(looks::NAME_FIELD),
        color: text(looks::COLOR_FIELD),
        gradient: text(looks::GRADIENT_FIELD),
        icon_url: text(looks::ICON_FIELD),
    }
}

/// The headers a custom booster role request may not carry: a booster sets looks, never rights.
const BOOSTER_REFUSED: [&str; 3] = ["Permissions", "Hoist", "Mentionable"];

/// A booster role's looks; a request that also tries to set its rights is refused, naming the header
/// (the looks have nowhere to carry them).
fn booster_looks(req: &HttpRequest) -> Result<LooksRequest, ApiError> {
    if let Some(name) = BOOSTER_REFUSED.into_iter().find(|name| header(req, name).is_some()) {
        return Err(ApiError::bad_request(format!(
            "{name}: a custom booster role's permissions, hoist and mentionable cannot be set; only its name, colours and icon"
        )));
    }
    Ok(looks_of(req))
}

/// Creates a role: name, solid or gradient colours (gradients only where the guild has
/// ENHANCED_ROLE_COLORS; elsewhere the first colour), permissions, hoist, mentionable, icon, position.
#[utoipa::path(tag = "Discord roles", params(
    ("Discord-Token" = String, Header), ("Guild-ID" = String, Header), ("Role-Name" = Option<String>, Header),
    ("Color" = Option<String>, Header, description = "#ff0000"), ("Gradient-Color" = Option<String>, Header, description = "#ff0000,#00ff00 (2 or 3)"),
    ("Permissions" = Option<String>, Header, description = "permission integer"), ("Hoist" = Option<bool>, Header),
    ("Mentionable" = Option<bool>, Header), ("Icon-URL" = Option<String>, Header, description = "HTTPS image on an allowed host; needs ROLE_ICONS"),
    ("Position" = Option<i64>, Header),
), responses((status = 200, description = "`{\"Message\":\"Role created successfully.\",\"RoleId\":\"123456\",\"GradientApplied\":true}`"),
    (status = 400), (status = 401), (status = 403, description = "missing MANAGE_ROLES, or the position is above the bot's role"),
    (status = 404, description = "the JSON string \"Guild not found.\"")))]
#[post("/api/Role/create")]
pub async fn create_role(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let guild = ServerId::parse("Guild-ID", required(&req, "Guild-ID")?)?;
    let position = header(&req, "Position")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| ApiError::bad_request(format!("Position: must be a whole number from 0, got {v:?}")))
        })
        .transpose()?;
    let token = token(&req, "Discord-Token")?;
    let text = |name: &str| header(&req, name).map(str::to_owned);
    let request = RoleRequest {
        looks: looks_of(&req),
        permissions: text("Permissions"),
        hoist: text("Hoist"),
        mentionable: text("Mentionable"),
        position,
    };
    let created = state.discord.roles.create(&token, guild, request).await?;
    Ok(web::Json(json!({
        "Message": "Role created successfully.",
        "RoleId": created.role.id.to_string(),
        "GradientApplied": created.gradient_applied,
    })))
}

fn booster_path(path: &(String, String)) -> Result<(ServerId, Snowflake), ApiError> {
    Ok((ServerId::parse("guildIdStr", &path.0)?, path_id("userIdStr", &path.1)?))
}

/// Creates a booster's own role (one per booster), right above the guild's booster role, and gives
/// it to them.
#[utoipa::path(tag = "Discord roles", params(
    ("guildIdStr" = String, Path), ("userIdStr" = String, Path), ("Discord-Token" = String, Header),
    ("Role-Name" = Option<String>, Header, description = "default: Custom Booster"), ("Color" = Option<String>, Header),
    ("Gradient-Color" = Option<String>, Header), ("Icon-URL" = Option<String>, Header),
), responses((status = 200, description = "`{\"message\":\"Booster role created successfully\",\"roleId\":\"123\"}`"),
    (status = 400, description = "a bad value, or a `Permissions`, `Hoist` or `Mentionable` header (a booster cannot set rights)"),
    (status = 401), (status = 403, description = "`{\"error\":\"User is not a server booster\"}`"),
    (status = 404, description = "not a member"), (status = 409, description = "`{\"error\":\"User already has a custom booster role\",\"roleId\":\"...\"}`")))]
#[post("/api/Role/booster/{guildIdStr}/{userIdStr}")]
pub async fn create_booster_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Value>, ApiError> {
    let (guild, user) = booster_path(&path)?;
    let token = token(&req, "Discord-Token")?;
    let role = state.discord.boosters.create(&token, guild, user, booster_looks(&req)?).await?;
    Ok(web::Json(json!({"message": "Booster role created successfully", "roleId": role.id.to_string()})))
}

/// Edits a booster's own role (name, colours, icon; never its permissions, hoist or mentionable);
/// only its owner's: a role Garrison recorded for them, or one they alone hold (recorded then).
#[utoipa::path(tag = "Discord roles", params(
    ("guildIdStr" = String, Path), ("userIdStr" = String, Path), ("Discord-Token" = String, Header), ("Role-ID" = String, Header),
    ("Role-Name" = Option<String>, Header), ("Color" = Option<String>, Header), ("Gradient-Color" = Option<String>, Header), ("Icon-URL" = Option<String>, Header),
), responses((status = 200, description = "`{\"message\":\"Role updated\"}`"),
    (status = 400, description = "a bad value, or a `Permissions`, `Hoist` or `Mentionable` header (a booster cannot set rights)"), (status = 401),
    (status = 403, description = "`{\"error\":\"You do not own this role\"}`, or `{\"error\":\"Bot not member.\"}`"),
    (status = 404, description = "an unknown role")))]
#[put("/api/Role/booster/{guildIdStr}/{userIdStr}")]
pub async fn update_booster_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Value>, ApiError> {
    let (guild, user) = booster_path(&path)?;
    let role = Snowflake::parse("Role-ID", required(&req, "Role-ID")?)?;
    let token = token(&req, "Discord-Token")?;
    state.discord.boosters.update(&token, guild, user, role, booster_looks(&req)?).await?;
    Ok(web::Json(json!({"message": "Role updated"})))
}

/// Deletes a booster's own role; only its owner's (as for an edit).
#[utoipa::path(tag = "Discord roles", params(
    ("guildIdStr" = String, Path), ("userIdStr" = String, Path), ("Discord-Token" = String, Header), ("Role-ID" = String, Header),
), responses((status = 200, description = "`{\"message\":\"Booster role deleted successfully\"}`"), (status = 400), (status = 401),
    (status = 403, description = "`{\"error\":\"You do not own this role\"}`, or `{\"error\":\"Bot not member.\"}`"),
    (status = 404, description = "an unknown role")))]
#[delete("/api/Role/booster/{guildIdStr}/{userIdStr}")]
pub async fn delete_booster_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Value>, ApiError> {
    let (guild, user) = booster_path(&path)?;
    let role = Snowflake::parse("Role-ID", required(&req, "Role-ID")?)?;
    let token = token(&req, "Discord-Token")?;
    state.discord.boosters.delete(&token, guild, user, role).await?;
    Ok(web::Json(json!({"message": "Booster role deleted successfully"})))
}

/// Takes a role from up to 50 of its members (call again for the rest); the role's guild is found
/// among the bot's guilds. Discord's rate limits are waited out and 429s retried with backoff.
#[utoipa::path(tag = "Discord roles", params(("Bot-Token" = String, Header), ("Role-Id" = String, Header)),
    responses((status = 200, description = "`{\"success\":true,\"totalMembersFound\":25,\"membersRemoved\":25}`"),
    (status = 400), (status = 401), (status = 403, description = "missing MANAGE_ROLES or the role is above the bot's"),
    (status = 404, description = "no guild of the bot has the role"), (status = 429, description = "the JSON string \"Rate limit exceeded\"")))]
#[post("/api/RoleMemberPurge/purge")]
pub async fn purge(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let role = Snowflake::parse("Role-Id", required(&req, "Role-Id")?)?;
    let purged = state.discord.moderation.purge(&token(&req, "Bot-Token")?, role).await?;
    Ok(web::Json(json!({"success": true, "totalMembersFound": purged.found, "membersRemoved": purged.removed})))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HighestRoleQuery {
    /// The server (guild) id.
    serverid: Option<String>,
    /// The user id.
    userid: Option<String>,
}

fn query_server(value: Option<&String>) -> Result<ServerId, ApiError> {
    let text = value.ok_or_else(|| ApiError::bad_request("serverid: missing"))?;
    Ok(ServerId::parse("serverid", text)?)
}

fn query_id(field: &'static str, value: Option<&String>) -> Result<Snowflake, ApiError> {
    let text = value.ok_or_else(|| ApiError::bad_request(format!("{field}: missing")))?;
    Ok(Snowflake::parse(field, text)?)
}

/// The name of a member's highest role, as a JSON string (`"@everyone"` when they have none).
#[utoipa::path(tag = "Discord roles", params(("Discord-Token" = String, Header), HighestRoleQuery),
    responses((status = 200, description = "the JSON string \"Admin\""), (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/api/HighestRole")]
pub async fn highest_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Params<HighestRoleQuery>,
) -> Result<web::Json<String>, ApiError> {
    let guild = query_server(query.0.serverid.as_ref())?;
    let user = query_id("userid", query.0.userid.as_ref())?;
    Ok(web::Json(state.discord.guilds.highest_role(&token(&req, "Discord-Token")?, guild, user).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleCountQuery {
    /// The server (guild) id.
    serverid: Option<String>,
    /// The role id.
    roleid: Option<String>,
}

/// How many members hold a role, as a JSON string of digits (`"42"`), counted over all members.
#[utoipa::path(tag = "Discord roles", params(("Discord-Token" = String, Header), RoleCountQuery),
    responses((status = 200, description = "the JSON string \"42\""), (status = 400), (status = 401), (status = 403),
    (status = 404, description = "`{\"error\":\"Unknown role.\"}`")))]
#[get("/api/GetRoleCount")]
pub async fn role_count(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Params<RoleCountQuery>,
) -> Result<web::Json<String>, ApiError> {
    let guild = query_server(query.0.serverid.as_ref())?;
    let role = query_id("roleid", query.0.roleid.as_ref())?;
    Ok(web::Json(state.discord.guilds.role_count(&token(&req, "Discord-Token")?, guild, role).await?.to_string()))
}
