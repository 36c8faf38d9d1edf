//! The YouTube Data API v3 (<https://developers.google.com/youtube/v3/docs>): `channels.list`,
//! `playlistItems.list` and `videos.list`, the key in `X-Goog-Api-Key`.

use garrison_core::streams::{
    PlatformError, StreamFuture, YouTubeApi, YouTubeChannel, YouTubeHandle, YouTubeKey, YouTubeVideo,
};
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{JSON_MAX, StreamClients, parse_time, read_body, transport_error};

const YOUTUBE: &str = "YouTube";

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    id: String,
    content_details: Option<ChannelDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelDetails {
    related_playlists: Option<Playlists>,
}

#[derive(Deserialize)]
struct Playlists {
    uploads: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistItem {
    content_details: Option<ItemDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemDetails {
    video_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Video {
    id: String,
    snippet: Option<Snippet>,
    live_streaming_details: Option<LiveDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    #[serde(default)]
    title: String,
    #[serde(default)]
    live_broadcast_content: String,
    #[serde(default)]
    thumbnails: std::collections::BTreeMap<String, Thumbnail>,
}

#[derive(Deserialize)]
struct Thumbnail {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveDetails {
    actual_start_time: Option<String>,
    /// A number written as a string, present only while live.
    concurrent_viewers: Option<String>,
}

/// `{"error":{"code":403,"message":"...","errors":[{"reason":"quotaExceeded",...}]}}`
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    errors: Vec<ErrorItem>,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorItem {
    #[serde(default)]
    reason: String,
}

/// Maps YouTube's error answer: the reasons of its `errors` array (and the `ErrorInfo` details of
/// newer answers) decide.
fn error_of(status: StatusCode, body: &[u8]) -> PlatformError {
    let reasons: Vec<String> = serde_json::from_slice::<ErrorBody>(body)
        .map(|body| {
            let detail = body.error.details.iter().filter_map(|d| d.get("reason")?.as_str().map(str::to_owned));
            body.error.errors.into_iter().map(|e| e.reason).chain(detail).collect()
        })
        .unwrap_or_default();
    let has = |names: &[&str]| reasons.iter().any(|r| names.contains(&r.as_str()));
    if has(&["quotaExceeded", "dailyLimitExceeded"]) {
        PlatformError::QuotaExceeded
    } else if has(&["rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"]) {
        PlatformError::RateLimited { retry_after_secs: 60 }
    } else if has(&[
        "keyInvalid",
        "keyExpired",
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "accessNotConfigured",
        "ipRefererBlocked",
        "API_KEY_SERVICE_BLOCKED",
        "SERVICE_DISABLED",
    ]) || status == StatusCode::UNAUTHORIZED
    {
        PlatformError::CredentialsRefused
    } else if status.is_server_error() {
        PlatformError::Unavailable(format!("YouTube answered {status}"))
    } else {
        PlatformError::Unavailable(format!(
            "YouTube refused the request ({status}{})",
            reasons.first().map(|r| format!(", {r}")).unwrap_or_default()
        ))
    }
}

impl StreamClients {
    /// One `GET` of the API with the key in its header; `Ok(None)` for a 404.
    async fn youtube_get<T: DeserializeOwned>(
        &self,
        key: &YouTubeKey,
        method: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, PlatformError> {
        let response = self
            .http
            .get(format!("{}/{method}", self.endpoints.youtube_url))
            .query(query)
            .header("X-Goog-Api-Key", key.expose())
            .send()
            .await
            .map_err(|e| transport_error(YOUTUBE, &e))?;
        let status = response.status();
        let body = read_body(YOUTUBE, response, JSON_MAX).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(error_of(status, &body));
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| PlatformError::Unavailable(format!("YouTube answered {method} with unreadable JSON: {e}")))
    }
}

/// The largest thumbnail YouTube offers.
fn best_thumbnail(thumbnails: &std::collections::BTreeMap<String, Thumbnail>) -> Option<String> {
    ["maxres", "standard", "high", "medium", "default"]
        .iter()
        .find_map(|size| thumbnails.get(*size))
        .map(|thumbnail| thumbnail.url.clone())
}

impl YouTubeApi for StreamClients {
    fn channel(&self, key: &YouTubeKey, handle: &YouTubeHandle) -> StreamFuture<'_, Option<YouTubeChannel>> {
        let (key, handle) = (key.clone(), handle.display());
        Box::pin(async move {
            let list: Option<List<Channel>> =
                self.youtube_get(&key, "channels", &[("part", "contentDetails"), ("forHandle", &handle)]).await?;
            let channel = list.and_then(|list| list.items.into_iter().next());
            Ok(channel.and_then(|channel| {
                let uploads = channel.content_details?.related_playlists?.uploads?;
                Some(YouTubeChannel { id: channel.id, uploads })
            }))
        })
    }

    fn playlist(&self, key: &YouTubeKey, playlist: &str, max: u8) -> StreamFuture<'_, Vec<String>> {
        let (key, playlist) = (key.clone(), playlist.to_owned());
        let max = max.clamp(1, 50).to_string();
        Box::pin(async move {
            let query = [("part", "contentDetails"), ("playlistId", playlist.as_str()), ("maxResults", max.as_str())];
            let list: Option<List<PlaylistItem>> = self.youtube_get(&key, "playlistItems", &query).await?;
            Ok(list
                .map(|list| list.items.into_iter().filter_map(|item| item.content_details?.video_id).collect())
                .unwrap_or_default())
        })
    }

    fn videos(&self, key: &YouTubeKey, ids: &[String]) -> StreamFuture<'_, Vec<YouTubeVideo>> {
        let key = key.clone();
        let ids = ids.iter().take(50).map(String::as_str).collect::<Vec<_>>().join(",");
        Box::pin(async move {
            // No `maxResults`: YouTube does not take it with `id`.
            let query = [("part", "snippet,liveStreamingDetails"), ("id", ids.as_str())];
            let list: Option<List<Video>> = self.youtube_get(&key, "videos", &query).await?;
            Ok(list
                .map(|list| {
                    list.items
                        .into_iter()
                        .map(|video| {
                            let snippet = video.snippet;
                            let details = video.live_streaming_details;
                            YouTubeVideo {
                                id: video.id,
                                live: snippet.as_ref().is_some_and(|s| s.live_broadcast_content == "live"),
                                title: snippet.as_ref().map(|s| s.title.clone()).unwrap_or_default(),
                                thumbnail_url: snippet.as_ref().and_then(|s| best_thumbnail(&s.thumbnails)),
                                started_at: details.as_ref().and_then(|d| parse_time(d.actual_start_time.as_deref()?)),
                                viewers: details.and_then(|d| d.concurrent_viewers?.parse().ok()),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtubes_error_reasons_are_read() {
        let quota = br#"{"error":{"code":403,"message":"quota","errors":[{"message":"q","domain":"youtube.quota","reason":"quotaExceeded"}]}}"#;
        assert_eq!(error_of(StatusCode::FORBIDDEN, quota), PlatformError::QuotaExceeded);
        let key = br#"{"error":{"code":400,"message":"API key not valid.","errors":[{"reason":"badRequest"}],"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        assert_eq!(error_of(StatusCode::BAD_REQUEST, key), PlatformError::CredentialsRefused);
        let old_key = br#"{"error":{"code":400,"errors":[{"reason":"keyInvalid"}]}}"#;
        assert_eq!(error_of(StatusCode::BAD_REQUEST, old_key), PlatformError::CredentialsRefused);
        assert!(
            matches!(error_of(StatusCode::SERVICE_UNAVAILABLE, b"<html>"), PlatformError::Unavailable(m) if m.contains("503"))
        );
    }
}
