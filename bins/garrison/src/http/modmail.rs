//! `/api/modmail/inbound` and `/api/modmail/outbound`: a user's DM forwarded to a staff channel as an
//! embed, and a staff reply sent to the user as a DM. The body is the message text (`text/plain`);
//! the use cases are `garrison_core::discord::Messaging` (messages built by
//! `garrison_core::discord::modmail`).

use actix_web::{HttpRequest, http::header, post, web};
use garrison_core::discord::{
    ModmailText,
    modmail::{self, Sender},
};
use serde_json::{Value, json};

use super::{
    AppState,
    error::ApiError,
    extract::RawBody,
    headers::{header, required, snowflake, token},
};

/// The body as text: `text/plain` (or no content type), valid UTF-8.
fn text_body<'a>(req: &HttpRequest, body: &'a RawBody) -> Result<&'a str, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("text/plain");
    if !content_type.trim().to_ascii_lowercase().starts_with("text/plain") {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send the message as text/plain, not {content_type}"),
        ));
    }
    std::str::from_utf8(&body.0).map_err(|_| ApiError::bad_request("body: the message is not valid UTF-8"))
}

/// Forwards a user's DM to the staff channel: an embed with the sender, the text and up to ten images
/// (`X-Attachment-Url`, semicolon-separated) as a gallery.
#[utoipa::path(tag = "Modmail", params(
    ("X-Bot-Token" = String, Header), ("X-Target-Channel-ID" = String, Header), ("X-User-ID" = String, Header),
    ("X-User-Name" = String, Header), ("X-User-Avatar" = String, Header, description = "http(s) URL"),
    ("X-Attachment-Url" = Option<String>, Header, description = "up to 10 http(s) URLs, semicolon-separated"),
), request_body(content = String, content_type = "text/plain", example = "Hello, I need help."), responses(
    (status = 200, description = "`{\"status\":\"Forwarded to staff\"}`"),
    (status = 400, description = "a missing or invalid header, or an empty body"), (status = 401),
    (status = 403, description = "missing SEND_MESSAGES / EMBED_LINKS in the staff channel"), (status = 404),
    (status = 415, description = "the body is not text/plain")))]
#[post("/api/modmail/inbound")]
pub async fn inbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<web::Json<Value>, ApiError> {
    let channel = snowflake(&req, "X-Target-Channel-ID")?;
    let sender = Sender {
        id: snowflake(&req, "X-User-ID")?,
        name: required(&req, "X-User-Name")?.to_owned(),
        avatar_url: required(&req, "X-User-Avatar")?.to_owned(),
    };
    let images = modmail::attachment_urls(header(&req, "X-Attachment-Url"))?;
    let text = ModmailText { text: text_body(&req, &body)?, images: &images };
    let token = token(&req, "X-Bot-Token")?;
    state.discord.messaging.modmail_inbound(&token, channel, &sender, text).await?;
    Ok(web::Json(json!({"status": "Forwarded to staff"})))
}

/// Sends a staff reply to a user as a DM: an embed titled with `X-Mod-Name` (default Staff), the text
/// and up to ten images. A user whose DMs are closed (or who shares no server with the bot) is 403.
#[utoipa::path(tag = "Modmail", params(
    ("X-Bot-Token" = String, Header), ("X-Target-User-ID" = String, Header), ("X-Mod-Name" = Option<String>, Header),
    ("X-Attachment-Url" = Option<String>, Header, description = "up to 10 http(s) URLs, semicolon-separated"),
), request_body(content = String, content_type = "text/plain", example = "Issue resolved."), responses(
    (status = 200, description = "`{\"status\":\"Reply sent to user\"}`"), (status = 400), (status = 401),
    (status = 403, description = "`{\"error\":\"Cannot send messages to this user: their DMs are closed or they share no server with the bot.\"}`"),
    (status = 404, description = "an unknown user"), (status = 415)))]
#[post("/api/modmail/outbound")]
pub async fn outbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<web::Json<Value>, ApiError> {
    let user = snowflake(&req, "X-Target-User-ID")?;
    let images = modmail::attachment_urls(header(&req, "X-Attachment-Url"))?;
    let text = ModmailText { text: text_body(&req, &body)?, images: &images };
    let token = token(&req, "X-Bot-Token")?;
    state.discord.messaging.modmail_outbound(&token, user, header(&req, "X-Mod-Name"), text).await?;
    Ok(web::Json(json!({"status": "Reply sent to user"})))
}
