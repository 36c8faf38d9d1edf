//! Noctra's message routes: `/api/Message/sendEmbed/{channelId}` (10-second cooldown per bot and channel),
//! `/api/edit/smart-edit` and its ephemeral twin, and `/api/filecheck/check`. The use cases are
//! `garrison_core::discord::Messaging`; these handlers read headers and the body, make one call and
//! let `http/error.rs` map the error.

use actix_web::{HttpRequest, get, patch, post, web};
use garrison_core::discord::{Snowflake, messages::EmbedRequest};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{
    AppState,
    error::ApiError,
    extract::Body,
    headers::{header, required, token},
};

/// Sends an embed (title, description, integer colour; optional footer, footer icon, image and plain
/// text). One per bot and channel every 10 seconds, counted only once Discord accepted the message.
#[utoipa::path(tag = "Discord messages", params(
    ("channelId" = String, Path), ("discord-token" = String, Header), ("title" = String, Header), ("description" = String, Header),
    ("color" = String, Header, description = "integer 0-16777215 (or #RRGGBB)"), ("footer" = Option<String>, Header),
    ("user-icon" = Option<String>, Header, description = "footer icon URL"), ("image-url" = Option<String>, Header),
    ("plain-text" = Option<String>, Header, description = "text outside the embed (never pings)"),
), responses((status = 200, description = "the JSON string \"Message sent successfully.\""),
    (status = 400, description = "a missing or invalid header, named"), (status = 401),
    (status = 403, description = "missing SEND_MESSAGES / EMBED_LINKS in the channel"), (status = 404),
    (status = 429, description = "the JSON string \"Rate limit exceeded. Try again in 8.5 seconds.\", with Retry-After")))]
#[post("/api/Message/sendEmbed/{channelId}")]
pub async fn send_embed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<String>, ApiError> {
    let channel = Snowflake::parse("channelId", &path)?;
    let text = |name: &'static str| header(&req, name).map(str::to_owned);
    let embed = EmbedRequest {
        title: required(&req, "title")?.to_owned(),
        description: required(&req, "description")?.to_owned(),
        color: required(&req, "color")?.to_owned(),
        footer: text("footer"),
        footer_icon: text("user-icon"),
        image_url: text("image-url"),
        plain_text: text("plain-text"),
    };
    let token = token(&req, "discord-token")?;
    state.discord.messaging.send_embed(&token, channel, &embed).await?;
    Ok(web::Json("Message sent successfully.".to_owned()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmartEditBody {
    /// A unique substring of the text to replace (whitespace and case are ignored).
    #[schema(example = "old text")]
    target_content_substring: Option<String>,
    /// The component's new text.
    #[schema(example = "new text")]
    new_content: Option<String>,
}

impl SmartEditBody {
    fn parts(&self) -> Result<(&str, &str), ApiError> {
        let target = self
            .target_content_substring
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("targetContentSubstring: missing"))?;
        let content = self.new_content.as_deref().ok_or_else(|| ApiError::bad_request("newContent: missing"))?;
        Ok((target, content))
    }
}

/// Replaces the text of the one component of a bot message whose text contains the target (whitespace-
/// and case-insensitive), then edits the message with only writable fields.
#[utoipa::path(tag = "Discord messages", params(
    ("Bot-Token" = String, Header), ("X-Channel-Id" = String, Header), ("X-Message-Id" = String, Header),
), request_body = SmartEditBody, responses(
    (status = 200, description = "`{\"success\":true,\"message\":\"Component updated successfully.\"}`"),
    (status = 400), (status = 401), (status = 403, description = "the message is not the bot's"),
    (status = 404, description = "`{\"error\":\"No component found matching 'old text'.\"}`, or an unknown message"),
    (status = 409, description = "`{\"error\":\"Ambiguity: 2 components matching 'old text'. Use a longer, unique substring.\"}`")))]
#[patch("/api/edit/smart-edit")]
pub async fn smart_edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<SmartEditBody>,
) -> Result<web::Json<Value>, ApiError> {
    let channel = Snowflake::parse("X-Channel-Id", required(&req, "X-Channel-Id")?)?;
    let message = Snowflake::parse("X-Message-Id", required(&req, "X-Message-Id")?)?;
    let (target, content) = body.0.parts()?;
    let token = token(&req, "Bot-Token")?;
    state.discord.messaging.smart_edit(&token, channel, message, target, content).await?;
    Ok(web::Json(json!({"success": true, "message": "Component updated successfully."})))
}

/// The same edit for an interaction's ephemeral response, addressed by application id and interaction
/// token (valid 15 minutes); no bot token needed.
#[utoipa::path(tag = "Discord messages", params(
    ("X-Application-Id" = String, Header), ("Interaction-Token" = String, Header),
), request_body = SmartEditBody, responses((status = 200, description = "`{\"success\":true}`"),
    (status = 400), (status = 401, description = "an invalid interaction token"), (status = 404), (status = 409)))]
#[patch("/api/edit/smart-edit/ephemeral")]
pub async fn smart_edit_ephemeral(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<SmartEditBody>,
) -> Result<web::Json<Value>, ApiError> {
    let application = Snowflake::parse("X-Application-Id", required(&req, "X-Application-Id")?)?;
    let interaction_token = required(&req, "Interaction-Token")?;
    let (target, content) = body.0.parts()?;
    state.discord.messaging.smart_edit_ephemeral(application, interaction_token, target, content).await?;
    Ok(web::Json(json!({"success": true})))
}

/// Whether a message carries a file (upload or embedded media) and its type.
#[utoipa::path(tag = "Discord messages", params(
    ("Bot-Token" = String, Header), ("Channel-Id" = String, Header), ("Message-Id" = String, Header),
), responses((status = 200, description = "`{\"isFile\":true,\"fileType\":\"image/png\"}` (`fileType` null when no file)"),
    (status = 400), (status = 401), (status = 403, description = "missing READ_MESSAGE_HISTORY"),
    (status = 404, description = "`{\"error\":\"Message or channel not found.\"}`")))]
#[get("/api/filecheck/check")]
pub async fn file_check(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let channel = Snowflake::parse("Channel-Id", required(&req, "Channel-Id")?)?;
    let message = Snowflake::parse("Message-Id", required(&req, "Message-Id")?)?;
    let token = token(&req, "Bot-Token")?;
    let file_type = state.discord.messaging.file_check(&token, channel, message).await?;
    Ok(web::Json(json!({"isFile": file_type.is_some(), "fileType": file_type})))
}
