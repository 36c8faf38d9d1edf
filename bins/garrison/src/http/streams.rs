//! `/api/Stream/*`: is a YouTube, Twitch or TikTok channel live? Noctra's four routes (docs/noctra.md
//! "Streams"): each reads the platform credentials from headers, makes one call of the stream service
//! and writes the seed's answer.

use actix_web::{HttpRequest, get, post, web};
use garrison_core::streams::{
    CheckAll, CheckAllEntry, Credentials, Liveness, Secret, StreamError, StreamStatus, TwitchCredentials,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, error::ApiError, extract::Body, headers::header};

/// One channel's live status, as the seed writes it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamAnswer {
    /// `YouTube`, `Twitch` or `TikTok`.
    #[schema(example = "YouTube")]
    platform: &'static str,
    #[schema(example = "@MrBeast")]
    user: String,
    /// `true` or `false`; `null` when Garrison cannot tell (see `status`), never a guess.
    #[schema(example = false)]
    is_live: Option<bool>,
    /// Why `isLive` is `null` (`quota_exhausted`, `unknown`, `error`), or `skipped` for `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "quota_exhausted")]
    status: Option<&'static str>,
    /// What went wrong, in check-all's entries whose platform failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The channel's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://youtube.com/@MrBeast")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Stream Title")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 50000)]
    viewer_count: Option<u64>,
    /// The game or category (Twitch).
    #[serde(skip_serializing_if = "Option::is_none")]
    game: Option<String>,
    /// The live video (YouTube).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://www.youtube.com/watch?v=jNQXAC9IVRw")]
    video_url: Option<String>,
    /// When the stream started (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-12-04T18:00:00Z")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<String>,
}

impl From<StreamStatus> for StreamAnswer {
    fn from(status: StreamStatus) -> Self {
        let mut answer = Self {
            platform: status.platform.name(),
            user: status.user,
            is_live: None,
            status: None,
            error: None,
            url: Some(status.url),
            title: None,
            viewer_count: None,
            game: None,
            video_url: None,
            started_at: None,
            thumbnail_url: None,
        };
        match status.liveness {
            Liveness::Live(stream) => {
                answer.is_live = Some(true);
                answer.title = Some(stream.title);
                answer.viewer_count = stream.viewers;
                answer.game = stream.game;
                answer.video_url = stream.video_url;
                answer.started_at = stream.started_at.map(|at| at.to_iso8601());
                answer.thumbnail_url = stream.thumbnail_url;
            }
            Liveness::Offline => answer.is_live = Some(false),
            Liveness::Unknown(why) => answer.status = Some(why.as_str()),
        }
        answer
    }
}

impl StreamAnswer {
    /// `none` or an empty name: nothing was checked.
    fn skipped(platform: &'static str, user: &str) -> Self {
        Self {
            platform,
            user: user.to_owned(),
            is_live: Some(false),
            status: Some("skipped"),
            error: None,
            url: None,
            title: None,
            viewer_count: None,
            game: None,
            video_url: None,
            started_at: None,
            thumbnail_url: None,
        }
    }

    /// A check-all entry whose platform failed.
    fn failed(entry: &CheckAllEntry, err: &StreamError) -> Self {
        let mut answer = Self::skipped(entry.platform.name(), &entry.user);
        (answer.is_live, answer.status, answer.error) = (None, Some("error"), Some(err.to_string()));
        answer
    }
}

/// A credential header, parsed by the one rule for secrets (the error names the header, never the value).
fn secret(req: &HttpRequest, name: &'static str) -> Result<Option<Secret>, ApiError> {
    header(req, name).map(|text| Secret::parse(name, text)).transpose().map_err(ApiError::from)
}

/// `X-YouTube-ApiKey`, `X-Twitch-ClientId` and `X-Twitch-Secret` (both or neither).
fn credentials(req: &HttpRequest) -> Result<Credentials, ApiError> {
    let app = match (secret(req, "X-Twitch-ClientId")?, secret(req, "X-Twitch-Secret")?) {
        (Some(client_id), Some(client_secret)) => Some(TwitchCredentials { client_id, client_secret }),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::bad_request("X-Twitch-Secret: required with X-Twitch-ClientId")),
        (None, Some(_)) => return Err(ApiError::bad_request("X-Twitch-ClientId: required with X-Twitch-Secret")),
    };
    Ok(Credentials { youtube_key: secret(req, "X-YouTube-ApiKey")?, twitch: app })
}

fn answer(platform: &'static str, user: &str, status: Option<StreamStatus>) -> web::Json<StreamAnswer> {
    web::Json(status.map_or_else(|| StreamAnswer::skipped(platform, user), StreamAnswer::from))
}

/// Whether a YouTube channel is live. The handle is resolved to its channel once (1 quota unit, kept
/// 30 days); a live check reads the channel's newest uploads and their live details (2 units, kept 15
/// minutes), not `search.list` (100 units). When the key's quota for the Pacific day is spent, `isLive`
/// is `null` with `"status":"quota_exhausted"`. `none` skips without any call.
#[utoipa::path(tag = "Streams", params(
    ("handle" = String, Path, description = "A YouTube handle, with or without `@`; `none` skips", example = "@MrBeast"),
    ("X-YouTube-ApiKey" = Option<String>, Header, description = "A YouTube Data API v3 key, when the server has none configured (the configured key comes first)"),
), responses(
    (status = 200, body = StreamAnswer, example = json!({"platform":"YouTube","user":"@MrBeast","isLive":false,"url":"https://youtube.com/@MrBeast"})),
    (status = 400, description = "an invalid handle, or no key sent and none configured"),
    (status = 404, description = "no channel has the handle"),
    (status = 429, description = "YouTube, or this server's budget of uncached checks, asks to wait (`Retry-After`)"),
    (status = 502, description = "YouTube failed, timed out or refused the configured key")))]
#[get("/api/Stream/youtube/{handle}")]
pub async fn youtube(
    state: web::Data<AppState>,
    req: HttpRequest,
    handle: web::Path<String>,
) -> Result<web::Json<StreamAnswer>, ApiError> {
    let sent = credentials(&req)?;
    let status = state.streams.youtube("handle", &handle, &sent).await?;
    Ok(answer("YouTube", &handle, status))
}

/// Whether a Twitch channel is live: Helix's Get Streams with an app access token (client-credentials
/// flow, the credentials in the token request's body; the token kept until five minutes before it
/// expires, and fetched again once when Twitch refuses it). Kept 60 s. `none` skips without any call.
#[utoipa::path(tag = "Streams", params(
    ("user" = String, Path, description = "A Twitch login; `none` skips", example = "xqc"),
    ("X-Twitch-ClientId" = Option<String>, Header, description = "A Twitch application's client id, when the server has none configured"),
    ("X-Twitch-Secret" = Option<String>, Header, description = "Its client secret"),
), responses(
    (status = 200, body = StreamAnswer, example = json!({"platform":"Twitch","user":"xqc","isLive":true,"title":"Gaming","viewerCount":50000,"url":"https://twitch.tv/xqc","game":"Just Chatting","startedAt":"2026-12-04T18:00:00Z"})),
    (status = 400, description = "an invalid login, no credentials, or Twitch refused the credentials sent"),
    (status = 429), (status = 502, description = "Twitch failed, timed out or refused the configured credentials")))]
#[get("/api/Stream/twitch/{user}")]
pub async fn twitch(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: web::Path<String>,
) -> Result<web::Json<StreamAnswer>, ApiError> {
    let sent = credentials(&req)?;
    let status = state.streams.twitch("user", &user, &sent).await?;
    Ok(answer("Twitch", &user, status))
}

/// Whether a TikTok account is live, from its public live page (no key), kept 2 minutes. TikTok's page
/// changes without notice: when it cannot be read, `isLive` is `null` with `"status":"unknown"`, never a
/// guess. `none` skips without any call.
#[utoipa::path(tag = "Streams", params(
    ("user" = String, Path, description = "A TikTok username, without `@`; `none` skips", example = "khaby.lame"),
), responses(
    (status = 200, body = StreamAnswer, example = json!({"platform":"TikTok","user":"khaby.lame","isLive":false,"url":"https://www.tiktok.com/@khaby.lame/live"})),
    (status = 400, description = "an invalid username"), (status = 429)))]
#[get("/api/Stream/tiktok/{user}")]
pub async fn tiktok(state: web::Data<AppState>, user: web::Path<String>) -> Result<web::Json<StreamAnswer>, ApiError> {
    let status = state.streams.tiktok("user", &user).await?;
    Ok(answer("TikTok", &user, status))
}

/// `POST /api/Stream/check-all`'s body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckAllBody {
    /// A YouTube handle; empty or `none` skips.
    #[schema(example = "@MrBeast")]
    youtube_handle: Option<String>,
    /// A Twitch login; empty or `none` skips.
    #[schema(example = "xqc")]
    twitch_user: Option<String>,
    /// A TikTok username; empty or `none` skips.
    #[schema(example = "khaby.lame")]
    tik_tok_user: Option<String>,
}

/// The three checks at once, each within its own deadline. Skipped platforms are left out of the
/// answer; a platform that fails (a bad name, no credentials, down) is an entry with `isLive: null`,
/// `"status":"error"` and the `error`, and never fails the others.
#[utoipa::path(tag = "Streams", request_body = CheckAllBody, params(
    ("X-YouTube-ApiKey" = Option<String>, Header), ("X-Twitch-ClientId" = Option<String>, Header),
    ("X-Twitch-Secret" = Option<String>, Header),
), responses(
    (status = 200, body = Vec<StreamAnswer>, example = json!([{"platform":"YouTube","user":"@MrBeast","isLive":false,"url":"https://youtube.com/@MrBeast"},{"platform":"Twitch","user":"xqc","isLive":true,"title":"Stream Title","viewerCount":50000,"url":"https://twitch.tv/xqc"}])),
    (status = 400, description = "the credential headers are malformed"), (status = 422, description = "the body is not the object described")))]
#[post("/api/Stream/check-all")]
pub async fn check_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<CheckAllBody>,
) -> Result<web::Json<Vec<StreamAnswer>>, ApiError> {
    let sent = credentials(&req)?;
    let body = body.0;
    let names = CheckAll { youtube: body.youtube_handle, twitch: body.twitch_user, tiktok: body.tik_tok_user };
    let entries = state.streams.check_all(&names, &sent).await;
    Ok(web::Json(
        entries
            .into_iter()
            .map(|entry| match &entry.result {
                Ok(status) => StreamAnswer::from(status.clone()),
                Err(err) => StreamAnswer::failed(&entry, err),
            })
            .collect(),
    ))
}
