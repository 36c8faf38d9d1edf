#![doc = include_str!("../README.md")]

mod eventsub;
mod tiktok;
mod twitch;
mod youtube;

use std::sync::Arc;
use std::time::Duration;

use garrison_core::Timestamp;
use garrison_core::streams::PlatformError;
use reqwest::Response;

/// Where the platforms live (the defaults) or a stand-in does (tests, `garrison-streams-sim`).
#[derive(Debug, Clone)]
pub struct StreamEndpoints {
    /// The YouTube Data API v3: `https://www.googleapis.com/youtube/v3`.
    pub youtube_url: String,
    /// Twitch's OAuth server: `https://id.twitch.tv/oauth2` (the token is at `/token`).
    pub twitch_auth_url: String,
    /// Twitch's Helix API: `https://api.twitch.tv/helix`.
    pub twitch_api_url: String,
    /// TikTok's site: `https://www.tiktok.com` (live pages at `/@user/live`).
    pub tiktok_url: String,
}

impl Default for StreamEndpoints {
    fn default() -> Self {
        Self {
            youtube_url: "https://www.googleapis.com/youtube/v3".into(),
            twitch_auth_url: "https://id.twitch.tv/oauth2".into(),
            twitch_api_url: "https://api.twitch.tv/helix".into(),
            tiktok_url: "https://www.tiktok.com".into(),
        }
    }
}

/// The most of an API answer read (YouTube's and Twitch's pages of a few items are a few KiB).
const JSON_MAX: usize = 1024 * 1024;
/// The most of a TikTok page read (a live page is a few hundred KiB).
const PAGE_MAX: usize = 4 * 1024 * 1024;

/// The stream adapters: one reqwest client and the endpoints. Implements core's `YouTubeApi`,
/// `TwitchApi`, `TwitchEventSub` and `TikTokPages`.
#[derive(Debug, Clone)]
pub struct StreamClients {
    http: reqwest::Client,
    endpoints: Arc<StreamEndpoints>,
}

impl StreamClients {
    /// Clients whose every exchange ends within `timeout`.
    pub fn new(endpoints: StreamEndpoints, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("garrison/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the stream platforms' HTTP client: {e}"))?;
        let trim = |url: &str| url.trim_end_matches('/').to_owned();
        let endpoints = StreamEndpoints {
            youtube_url: trim(&endpoints.youtube_url),
            twitch_auth_url: trim(&endpoints.twitch_auth_url),
            twitch_api_url: trim(&endpoints.twitch_api_url),
            tiktok_url: trim(&endpoints.tiktok_url),
        };
        Ok(Self { http, endpoints: Arc::new(endpoints) })
    }
}

/// What a failed exchange says, without the URL (it may carry a name) or any header (keys).
fn transport_error(platform: &str, err: &reqwest::Error) -> PlatformError {
    PlatformError::Unavailable(if err.is_timeout() {
        format!("{platform} did not answer in time")
    } else if err.is_connect() {
        format!("cannot connect to {platform}")
    } else {
        format!("the exchange with {platform} failed")
    })
}

/// The body of `response`, at most `max` bytes (more is an error, not a truncation).
async fn read_body(platform: &str, mut response: Response, max: usize) -> Result<Vec<u8>, PlatformError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(platform, &e))? {
        if body.len() + chunk.len() > max {
            return Err(PlatformError::Unavailable(format!("{platform} answered more than {} KiB", max / 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An RFC 3339 time as platforms write them.
fn parse_time(text: &str) -> Option<Timestamp> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok().map(Timestamp::from_millis)
}
