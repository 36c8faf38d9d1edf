//! `POST /api/modlogs/add` and `GET /api/modlogs/view/{id}`: moderation actions recorded in the
//! database with a case number per bot and server, mirrored to object storage as JSON documents
//! (`{botId}/{guildId}/{userId}.json`, as the specification says, holding the newest page of the
//! history; each full page of 100 also at `{botId}/{guildId}/{userId}/pages/{n}.json`), and shown
//! as a permanent, self-contained HTML page per user and server, a page of 100 entries at a time.

use actix_web::{
    HttpRequest, HttpResponse, get,
    http::{StatusCode, header},
    post, web,
};
use garrison_core::{
    ServerId,
    discord::Snowflake,
    modlog::{EntryDraft, ModAction},
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{
    AppState,
    error::ApiError,
    extract::Params,
    headers::{header as read_header, token},
};

/// The headers `POST /api/modlogs/add` cannot do without.
const REQUIRED: [&str; 6] =
    ["X-Bot-Token", "X-Guild-Id", "X-User-Id", "X-Action", "X-Moderator-Id", "X-Moderator-Name"];

fn id(req: &HttpRequest, name: &'static str) -> Result<Snowflake, ApiError> {
    Ok(Snowflake::parse(name, read_header(req, name).unwrap_or_default())?)
}

/// Records a moderation action (Warn, Timeout, Ban, Kick, Unban) and answers the permanent page of the
/// user's history in that server.
#[utoipa::path(tag = "Moderation logs", params(
    ("X-Bot-Token" = String, Header), ("X-Guild-Id" = String, Header), ("X-User-Id" = String, Header),
    ("X-Action" = String, Header, description = "Warn, Timeout, Ban, Kick or Unban"),
    ("X-Moderator-Id" = String, Header), ("X-Moderator-Name" = String, Header),
    ("X-Reason" = Option<String>, Header), ("X-Duration" = Option<String>, Header, description = "for timeouts, e.g. 2h"),
), responses(
    (status = 200, description = "`{\"success\":true,\"message\":\"Warn logged.\",\"viewUrl\":\"https://.../api/modlogs/view/<32 hex>\"}`"),
    (status = 400, description = "`{\"error\":\"Headers required.\",\"missing\":[...]}`, or a bad value named"),
    (status = 401, description = "`{\"error\":\"Bot token invalid.\"}`"), (status = 403, description = "`{\"error\":\"Bot not member.\"}`"),
    (status = 404, description = "an unknown user"), (status = 502), (status = 503)))]
#[post("/api/modlogs/add")]
pub async fn add(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|name| read_header(&req, name).is_none()).collect();
    if !missing.is_empty() {
        return Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            format!("Headers required: {}", missing.join(", ")),
            json!({"error": "Headers required.", "missing": missing}),
        ));
    }
    let guild = ServerId::parse("X-Guild-Id", read_header(&req, "X-Guild-Id").unwrap_or_default())?;
    let (user, moderator) = (id(&req, "X-User-Id")?, id(&req, "X-Moderator-Id")?);
    let action_text = read_header(&req, "X-Action").unwrap_or_default();
    let action = ModAction::parse(action_text).ok_or_else(|| {
        ApiError::bad_request(format!("X-Action: must be Warn, Timeout, Ban, Kick or Unban, got {action_text:?}"))
    })?;
    let entry = EntryDraft::new(
        action,
        moderator,
        read_header(&req, "X-Moderator-Name").unwrap_or_default(),
        read_header(&req, "X-Reason"),
        read_header(&req, "X-Duration"),
    )?;
    let token = token(&req, "X-Bot-Token")?;
    let added = state.discord.modlogs.add(&token, guild, user, entry).await?;
    Ok(web::Json(json!({
        "success": true,
        "message": added.action.logged_message(),
        "viewUrl": format!("{}/api/modlogs/view/{}", state.site.public_url.trim_end_matches('/'), added.view_id),
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// Which page of 100 entries, from 1 (the oldest); the newest page when absent.
    page: Option<u64>,
}

/// The moderation history of one user in one server: a self-contained HTML page (dark and light
/// mode, search, filters by action), making no request of its own. It shows one page of 100
/// entries: the newest unless `?page=N` asks for another (1 is the oldest); the page count is in the
/// `X-Total-Pages` header.
#[utoipa::path(tag = "Moderation logs", params(("id" = String, Path, description = "32 hex digits, from viewUrl"), ViewQuery),
    responses((status = 200, content_type = "text/html"), (status = 400, description = "a page that is not a whole number from 1"),
    (status = 404, description = "`{\"error\":\"Moderation log not found.\"}`, also for a page past the last")))]
#[get("/api/modlogs/view/{id}")]
pub async fn view(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Params<ViewQuery>,
) -> Result<HttpResponse, ApiError> {
    let history = state.discord.modlogs.view(&id, query.0.page).await?;
    let (guild_id, user_id) = (history.subject.guild.to_string(), history.subject.user.to_string());
    let ids: Vec<String> = history.entries.iter().map(|e| e.moderator_id.to_string()).collect();
    let entries: Vec<garrison_pages::ModLogEntry<'_>> = history
        .entries
        .iter()
        .zip(&ids)
        .map(|(e, moderator_id)| garrison_pages::ModLogEntry {
            case_number: e.case_number,
            action: e.action.as_str(),
            moderator_name: &e.moderator_name,
            moderator_id,
            reason: e.reason.as_deref(),
            duration: e.duration.as_deref(),
            at_ms: e.at.millis(),
        })
        .collect();
    let page = garrison_pages::render_modlog(&garrison_pages::ModLogPage {
        guild_name: &history.profile.guild_name,
        guild_id: &guild_id,
        user_name: &history.profile.user_name,
        user_id: &user_id,
        entries: &entries,
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", garrison_pages::modlog_content_security_policy_header()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Total-Pages", history.page_count().to_string()))
        .body(page))
}
