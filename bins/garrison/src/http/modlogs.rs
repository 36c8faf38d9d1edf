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
    discord::{DiscordError, Snowflake},
    modlog::{self, History, ModAction, NewEntry, Subject, SubjectProfile, ViewId},
    ports::ModLogs,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{
    AppState,
    error::ApiError,
    extract::{Params, blocking},
    headers::{bot, header as read_header},
};

/// The headers `POST /api/modlogs/add` cannot do without.
const REQUIRED: [&str; 6] =
    ["X-Bot-Token", "X-Guild-Id", "X-User-Id", "X-Action", "X-Moderator-Id", "X-Moderator-Name"];

fn id(req: &HttpRequest, name: &'static str) -> Result<Snowflake, ApiError> {
    Ok(Snowflake::parse(name, read_header(req, name).unwrap_or_default())?)
}

/// Mirrors the history an add changed to object storage, a page at a time (which documents is core's
/// [`modlog::documents_after_add`]). Pages are read from the database under one lock, after taking it:
/// whichever write comes last holds every entry committed before it (in this process; see
/// docs/noctra.md). Work per add is bounded by the page size, whatever the history's length.
async fn mirror(state: &AppState, added: &History) -> Result<(), ApiError> {
    let _writing = state.modlog_documents.lock().await;
    let (records, view_id, page) = (std::sync::Arc::clone(&state.modlogs), added.view_id.clone(), added.page);
    let (own_page, newest) = blocking(move || {
        let own = records.history_page(&view_id, page)?;
        Ok((own, records.history(&view_id)?))
    })
    .await?;
    let documents =
        modlog::documents_after_add(own_page, newest.unwrap_or_else(|| added.clone())).map_err(ApiError::internal)?;
    for (key, history) in documents {
        let body = serde_json::to_vec(&modlog::document(&history)).map_err(ApiError::internal)?;
        state.objects.put(&key, body.into(), "application/json").await.map_err(|e| {
            tracing::error!(error = %e, "object store failed");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Object storage unavailable.")
        })?;
    }
    Ok(())
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
    let (guild, user, moderator) = (id(&req, "X-Guild-Id")?, id(&req, "X-User-Id")?, id(&req, "X-Moderator-Id")?);
    let action_text = read_header(&req, "X-Action").unwrap_or_default();
    let action = ModAction::parse(action_text).ok_or_else(|| {
        ApiError::bad_request(format!("X-Action: must be Warn, Timeout, Ban, Kick or Unban, got {action_text:?}"))
    })?;
    let entry = NewEntry::new(
        action,
        moderator,
        read_header(&req, "X-Moderator-Name").unwrap_or_default(),
        read_header(&req, "X-Reason"),
        read_header(&req, "X-Duration"),
        state.clock.now(),
    )?;
    let bot = bot(&state, &req, "X-Bot-Token").await?;
    let (info, profile) =
        futures_util::future::try_join(bot.guild(guild), bot.user_profile(user)).await.map_err(|e| match e {
            DiscordError::Unknown(garrison_core::discord::Unknown::Guild) => DiscordError::NotMember.into(),
            other => ApiError::from(other),
        })?;
    let subject = Subject { bot: bot.user().id, guild, user };
    let profile = SubjectProfile {
        user_name: profile.display_name().to_owned(),
        user_avatar: Some(profile.avatar_url()),
        guild_name: info.name.clone(),
        guild_icon: info.icon_url(),
    };
    let new_view = ViewId::from_entropy(crate::wiring::entropy().map_err(ApiError::internal)?);
    let records = std::sync::Arc::clone(&state.modlogs);
    let added = blocking(move || ModLogs::add(records.as_ref(), subject, &profile, &entry, new_view)).await?;
    mirror(&state, &added).await?;
    Ok(web::Json(json!({
        "success": true,
        "message": action.logged_message(),
        "viewUrl": format!("{}/api/modlogs/view/{}", state.public_url.trim_end_matches('/'), added.view_id),
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
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Moderation log not found.");
    let view_id = ViewId::parse(&id).ok_or_else(not_found)?;
    let page = match query.0.page {
        Some(0) => return Err(ApiError::bad_request("page: must be a whole number from 1")),
        Some(n) => Some(n - 1),
        None => None,
    };
    let records = std::sync::Arc::clone(&state.modlogs);
    let history = blocking(move || match page {
        Some(page) => records.history_page(&view_id, page),
        None => records.history(&view_id),
    })
    .await?
    .filter(|h| h.page < h.page_count())
    .ok_or_else(not_found)?;
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

#[cfg(test)]
mod tests {
    use garrison_core::{Timestamp, modlog::Entry};

    use super::*;

    #[test]
    fn the_stored_document_names_ids_as_strings_and_times_both_ways() {
        let snowflake = |n: u64| Snowflake::from_raw(n << 22);
        let history = History {
            view_id: ViewId::from_entropy([7; 16]),
            subject: Subject { bot: snowflake(1), guild: snowflake(2), user: snowflake(3) },
            profile: SubjectProfile {
                user_name: "u".into(),
                user_avatar: None,
                guild_name: "g".into(),
                guild_icon: None,
            },
            entries: vec![Entry {
                case_number: 1,
                action: ModAction::Warn,
                moderator_id: snowflake(4),
                moderator_name: "m".into(),
                reason: Some("r".into()),
                duration: None,
                at: Timestamp(1_705_341_600_000),
            }],
            page: 0,
            total_entries: 1,
        };
        let doc = modlog::document(&history);
        assert_eq!(doc["guildId"], snowflake(2).to_string());
        assert_eq!(doc["entries"][0]["createdAt"], "2024-01-15T18:00:00Z");
        assert_eq!(doc["entries"][0]["action"], "Warn");
        assert_eq!(
            (doc["totalEntries"].as_u64(), doc["page"].as_u64(), doc["pages"].as_u64()),
            (Some(1), Some(0), Some(1))
        );
        assert_eq!(ModAction::Warn.logged_message(), "Warn logged.");
    }
}
