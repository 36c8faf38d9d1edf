//! `/api/Transcript/*`: a channel's history as one self-contained HTML page in object storage
//! (`crate::adapters::transcripts::TranscriptStudio` does the work), its index per server, and the page itself.

use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use garrison_core::{
    ServerId,
    discord::Snowflake,
    transcript::{ListRequest, MAX_MESSAGES, TranscriptRequest},
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{
    AppState,
    error::ApiError,
    extract::Params,
    headers::{filename, header, required, snowflake, token},
};

/// Makes the transcript of a channel (up to `X-Limit` messages, newest kept, shown oldest first) with
/// every image, video and audio file embedded, stores it, and answers its permanent link.
#[utoipa::path(tag = "Transcripts", params(
    ("X-Bot-Token" = String, Header), ("X-Channel-Id" = String, Header),
    ("X-Target-Channel-Id" = Option<String>, Header, description = "also post the file (or, when larger than 10 MiB, the link) there"),
    ("X-Limit" = Option<u32>, Header, description = "1-10000, default 10000"), ("X-Filename" = Option<String>, Header),
    ("X-Creator-Id" = Option<String>, Header),
), responses(
    (status = 200, description = "`{\"message\":\"Transcript generated\",\"messageCount\":250,\"directLink\":\"https://.../api/Transcript/view/<id>\",\"viewId\":\"<id>\"}`"),
    (status = 400), (status = 401, description = "`{\"error\":\"X-Bot-Token header is required\"}` or an invalid token"),
    (status = 403, description = "the bot cannot read the channel"),
    (status = 404, description = "`{\"error\":\"No messages found in channel\"}`"),
    (status = 502), (status = 503, description = "too many transcripts at once, or their temporary space in use (with Retry-After)"),
    (status = 507, description = "the messages need more temporary space than one transcript may use")))]
#[post("/api/Transcript/html")]
pub async fn generate(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    if header(&req, "X-Bot-Token").is_none() {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "X-Bot-Token header is required"));
    }
    let channel = snowflake(&req, "X-Channel-Id")?;
    let target = header(&req, "X-Target-Channel-Id").map(|v| Snowflake::parse("X-Target-Channel-Id", v)).transpose()?;
    let creator = header(&req, "X-Creator-Id").map(|v| Snowflake::parse("X-Creator-Id", v)).transpose()?;
    let limit = match header(&req, "X-Limit") {
        None => MAX_MESSAGES,
        Some(v) => v.parse::<usize>().ok().filter(|n| (1..=MAX_MESSAGES).contains(n)).ok_or_else(|| {
            ApiError::bad_request(format!("X-Limit: must be a whole number from 1 to {MAX_MESSAGES}, got {v:?}"))
        })?,
    };
    let filename = filename(header(&req, "X-Filename"), ".html")?;
    let token = token(&req, "X-Bot-Token")?;
    let request = TranscriptRequest { channel, limit, filename, creator, target };
    let made = state.discord.transcripts.generate(&token, &request).await?;
    let mut answer = json!({
        "message": "Transcript generated",
        "messageCount": made.message_count,
        "directLink": made.link,
        "viewId": made.view_id.as_str(),
    });
    if let Some((target, posted)) = made.posted {
        answer["postedTo"] = json!(target.to_string());
        answer["posted"] = json!(posted.is_ok());
        if let Err(error) = posted {
            answer["postError"] = json!(error);
        }
    }
    Ok(web::Json(answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page, default 1, at most 10,000 entries deep (`(page - 1) * limit`).
    page: Option<u64>,
    /// Entries per page, 1-100, default 25.
    limit: Option<u64>,
    /// Continue after this cursor (from the previous page's `X-Next-Cursor`) instead of `page`.
    after: Option<String>,
}

/// The transcripts the calling bot made in the server, of channels it can view, newest first, with
/// their metadata. When there may be more, `X-Next-Cursor` names where the next page starts (`?after=`).
#[utoipa::path(tag = "Transcripts", params(("guildId" = String, Path), ("X-Bot-Token" = String, Header), ListQuery),
    responses((status = 200, description = "`[{\"viewId\":\"...\",\"channelName\":\"tickets\",\"createdAt\":\"2024-01-15T10:00:00Z\",\"messageCount\":250,\"size\":12345,\"creatorId\":null,\"botId\":\"...\",\"directLink\":\"...\"}]`",
        headers(("X-Next-Cursor" = String, description = "the cursor of the next page, when there may be one"))),
    (status = 400, description = "`{\"error\":\"Invalid guildId format\"}`, or a page, limit or cursor out of range"), (status = 401), (status = 403)))]
#[get("/api/Transcript/list/{guildId}")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: Params<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let guild = ServerId::parse("guildId", &path).map_err(|_| ApiError::bad_request("Invalid guildId format"))?;
    required(&req, "X-Bot-Token")?;
    let query = query.0;
    let request = ListRequest::new(guild, query.page, query.limit, query.after.as_deref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let token = token(&req, "X-Bot-Token")?;
    let page = state.discord.transcripts.list(&token, &request).await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = &page.next {
        response.insert_header(("X-Next-Cursor", next.as_str()));
    }
    Ok(response.json(page.entries))
}

/// The transcript page, streamed from object storage.
#[utoipa::path(tag = "Transcripts", params(("viewId" = String, Path, description = "32 hex digits")),
    responses((status = 200, content_type = "text/html"), (status = 404, description = "`{\"error\":\"Transcript not found.\"}`")))]
#[get("/api/Transcript/view/{viewId}")]
pub async fn view(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let body = state.discord.transcripts.open(&path).await?;
    let stream = futures_util::StreamExt::map(body.bytes, |chunk| {
        chunk.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string()))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", garrison_pages::transcript_content_security_policy_header()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .streaming(stream))
}
