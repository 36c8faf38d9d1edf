//! `/api/Stream/*`: is a YouTube, Twitch or TikTok channel live? Noctra's four routes (docs/noctra.md
//! "Streams"): each reads the platform credentials from headers, makes one call of the stream service
//! and writes the seed's answer. Besides: a server's stream watches and its own platform credentials
//! (`/api/Stream/watches`, `/api/server/streams`), with an API key.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use garrison_core::discord::Snowflake;
use garrison_core::streams::{
    CheckAll, CheckAllEntry, Credentials, Liveness, Secret, StreamError, StreamStatus, TwitchCredentials,
    alerts::Accepted,
    eventsub::Delivery,
    watches::{Added, Watch, WatchError, WatchRequest},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, Params, RawBody, ServerQuery},
    headers::header,
};

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

/// `POST /api/Stream/watches`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// `youtube`, `twitch` or `tiktok`.
    #[schema(example = "twitch")]
    platform: String,
    /// The streamer: a YouTube handle, a Twitch login or a TikTok username.
    #[schema(example = "xqc")]
    user: String,
    /// A text or announcement channel of the server, where alerts are posted.
    #[schema(value_type = String, example = "223456789012345678")]
    channel_id: IdText,
    /// Text above the alert (at most 1,000 characters).
    #[schema(example = "We are live!")]
    message: Option<String>,
    /// A role of the server the alert mentions.
    #[schema(value_type = Option<String>, example = "323456789012345678")]
    role_id_to_mention: Option<IdText>,
}

/// A watch as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchOut {
    #[schema(example = 1)]
    id: i64,
    #[schema(example = "123456789012345678")]
    server_id: String,
    #[schema(example = "Twitch")]
    platform: &'static str,
    #[schema(example = "xqc")]
    user: String,
    #[schema(example = "223456789012345678")]
    channel_id: String,
    message: Option<String>,
    role_id_to_mention: Option<String>,
    /// RFC 3339.
    #[schema(example = "2026-12-06T18:00:00Z")]
    created_at: String,
}

impl From<Watch> for WatchOut {
    fn from(watch: Watch) -> Self {
        Self {
            id: watch.id,
            server_id: watch.server.to_string(),
            platform: watch.platform.name(),
            user: watch.streamer,
            channel_id: watch.channel.to_string(),
            message: watch.message,
            role_id_to_mention: watch.mention_role.map(|r| r.to_string()),
            created_at: watch.created_at.to_iso8601(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchesResponse {
    watches: Vec<WatchOut>,
}

/// Watch a streamer: when they go live, the server-wide bot posts an alert in the channel. The channel
/// (a text or announcement channel) and the role are checked with the bot first, so alerts go only
/// into the server's own channels. Adding the same streamer into the same channel again answers the
/// existing watch (200); a server keeps at most 100 watches.
#[utoipa::path(tag = "Streams", request_body = WatchBody, responses(
    (status = 201, body = WatchOut), (status = 200, description = "the server already watched this streamer into this channel", body = WatchOut),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, description = "the server has 100 watches", body = ErrorBody),
    (status = 503, description = "no server-wide bot is configured", body = ErrorBody)))]
#[post("/api/Stream/watches")]
pub async fn add_watch(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<WatchBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let request = WatchRequest {
        platform: body.platform,
        user: body.user,
        channel: Snowflake::parse("channelId", &body.channel_id.0)?,
        message: body.message,
        mention_role: body.role_id_to_mention.map(|r| Snowflake::parse("roleIdToMention", &r.0)).transpose()?,
    };
    let principal = caller.principal(state.clone()).await?;
    Ok(match state.watches.add(&principal, server, request).await? {
        Added::Added(watch) => HttpResponse::Created().json(WatchOut::from(watch)),
        Added::Exists(watch) => HttpResponse::Ok().json(WatchOut::from(watch)),
        Added::Full => return Err(WatchError::Full.into()),
    })
}

/// The server's stream watches, oldest first.
#[utoipa::path(tag = "Streams", params(ServerQuery), responses(
    (status = 200, body = WatchesResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/Stream/watches")]
pub async fn list_watches(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<WatchesResponse>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    let watches = state.watches.list(&principal, server).await?;
    Ok(web::Json(WatchesResponse { watches: watches.into_iter().map(WatchOut::from).collect() }))
}

/// Stop watching: `{"status":"Deleted"}`.
#[utoipa::path(tag = "Streams", params(("id" = i64, Path, description = "the watch's id"), ServerQuery), responses(
    (status = 200, description = "`{\"status\":\"Deleted\"}`"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/api/Stream/watches/{id}")]
pub async fn delete_watch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<ServerQuery>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let server = query.server()?;
    let id: i64 =
        id.trim().parse().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::bad_request("id: must be a watch id"))?;
    let principal = caller.principal(state.clone()).await?;
    state.watches.remove(&principal, server, id).await?;
    Ok(web::Json(serde_json::json!({"status": "Deleted"})))
}

/// `PUT /api/server/streams`'s body: each credential set when sent, forgotten when sent empty, kept
/// when left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamKeysBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    youtube_api_key: Option<String>,
    twitch_client_id: Option<String>,
    twitch_client_secret: Option<String>,
}

/// Which of the server's stream credentials are set; never the credentials.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamKeysOut {
    #[schema(example = "123456789012345678")]
    server_id: String,
    #[schema(example = true)]
    youtube_api_key: bool,
    /// The Twitch client id and secret (set together).
    #[schema(example = false)]
    twitch: bool,
}

/// Set the server's own platform credentials for its watches (sealed at rest, never answered or logged).
#[utoipa::path(tag = "Streams", request_body = StreamKeysBody, responses(
    (status = 200, body = StreamKeysOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/api/server/streams")]
pub async fn put_stream_keys(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<StreamKeysBody>,
) -> Result<web::Json<StreamKeysOut>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let principal = caller.principal(state.clone()).await?;
    let set = state
        .watches
        .set_keys(&principal, server, body.youtube_api_key, body.twitch_client_id, body.twitch_client_secret)
        .await?;
    Ok(web::Json(StreamKeysOut { server_id: server.to_string(), youtube_api_key: set.youtube, twitch: set.twitch }))
}

/// Which of the server's own platform credentials are set.
#[utoipa::path(tag = "Streams", params(ServerQuery), responses(
    (status = 200, body = StreamKeysOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/server/streams")]
pub async fn get_stream_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<StreamKeysOut>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    let set = state.watches.keys(&principal, server).await?;
    Ok(web::Json(StreamKeysOut { server_id: server.to_string(), youtube_api_key: set.youtube, twitch: set.twitch }))
}

/// Twitch's EventSub callback (when `GARRISON_TWITCH_EVENTSUB` is on): Twitch posts here when a watched
/// streamer goes live or offline. Each message is checked before it is believed: its
/// `Twitch-Eventsub-Message-Signature` (HMAC-SHA256 of the message id, timestamp and body with the
/// secret Garrison subscribed with), a timestamp within ten minutes, and a message id not seen before.
/// A verification request is answered with its challenge as `text/plain`; events are acted on by the
/// alert loop (204 at once).
#[utoipa::path(tag = "Streams", params(
    ("Twitch-Eventsub-Message-Id" = String, Header), ("Twitch-Eventsub-Message-Timestamp" = String, Header),
    ("Twitch-Eventsub-Message-Signature" = String, Header, description = "`sha256=` and the hex HMAC-SHA256"),
    ("Twitch-Eventsub-Message-Type" = String, Header, description = "`webhook_callback_verification`, `notification` or `revocation`"),
), request_body(content = String, description = "Twitch's JSON, read only once its signature is checked"), responses(
    (status = 200, description = "the challenge, as `text/plain`", content_type = "text/plain"),
    (status = 204, description = "taken"),
    (status = 400, body = ErrorBody, description = "a message that cannot be read"),
    (status = 403, body = ErrorBody, description = "a wrong signature, a stale timestamp or a replay"),
    (status = 404, body = ErrorBody, description = "EventSub is not enabled"),
    (status = 503, body = ErrorBody, description = "too many events are waiting (`Retry-After`)")))]
#[post("/api/Stream/eventsub/twitch")]
pub async fn twitch_eventsub(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let field = |name| header(&req, name).unwrap_or_default();
    let delivery = Delivery {
        id: field("Twitch-Eventsub-Message-Id"),
        timestamp: field("Twitch-Eventsub-Message-Timestamp"),
        signature: field("Twitch-Eventsub-Message-Signature"),
        kind: field("Twitch-Eventsub-Message-Type"),
        body: &body.0,
    };
    Ok(match state.alerts.accept(&delivery)? {
        Accepted::Challenge(challenge) => HttpResponse::Ok().content_type("text/plain").body(challenge),
        Accepted::Queued => HttpResponse::NoContent().finish(),
    })
}
