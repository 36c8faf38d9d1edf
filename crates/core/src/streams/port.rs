//! What the stream service asks of YouTube, Twitch and TikTok, and what can go wrong. Implemented by
//! `garrison-streams`; every call is one HTTP exchange, so the service can count and bound them.

use std::future::Future;
use std::pin::Pin;

use super::{Secret, TikTokUser, TwitchCredentials, TwitchLogin, YouTubeHandle, YouTubeKey};
use crate::Timestamp;

/// A boxed future of one platform call.
pub type StreamFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PlatformError>> + Send + 'a>>;

/// What can go wrong when Garrison asks a platform. Messages never contain a key, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The platform refused the credentials (an unknown or revoked YouTube key; a Twitch client id or
    /// secret it does not accept).
    #[error("the platform refused the credentials")]
    CredentialsRefused,
    /// YouTube: the key's daily quota is spent.
    #[error("the API key's daily quota is spent")]
    QuotaExceeded,
    /// Twitch: the app access token is no longer accepted (expired or revoked).
    #[error("the access token was refused")]
    TokenRefused,
    /// The platform asked Garrison to wait.
    #[error("rate limited; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Unreachable, too slow, failing (5xx), or an answer Garrison cannot read.
    #[error("{0}")]
    Unavailable(String),
}

/// A channel found by its handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YouTubeChannel {
    /// `UC...`
    pub id: String,
    /// The playlist of the channel's uploads, where a broadcast appears when it is scheduled or starts.
    pub uploads: String,
}

/// A video as `videos.list` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YouTubeVideo {
    pub id: String,
    pub title: String,
    /// `snippet.liveBroadcastContent == "live"`.
    pub live: bool,
    pub started_at: Option<Timestamp>,
    pub viewers: Option<u64>,
    pub thumbnail_url: Option<String>,
}

/// The YouTube Data API v3, called with an API key. Each call costs one quota unit.
pub trait YouTubeApi: Send + Sync {
    /// `channels.list?part=contentDetails&forHandle=`: the channel, `None` if no channel has the handle.
    fn channel(&self, key: &YouTubeKey, handle: &YouTubeHandle) -> StreamFuture<'_, Option<YouTubeChannel>>;
    /// `playlistItems.list?part=contentDetails`: the ids of the newest `max` (at most 50) videos of a
    /// playlist, newest first; an unknown playlist has none.
    fn playlist(&self, key: &YouTubeKey, playlist: &str, max: u8) -> StreamFuture<'_, Vec<String>>;
    /// `videos.list?part=snippet,liveStreamingDetails`: the videos among `ids` (at most 50) that exist.
    fn videos(&self, key: &YouTubeKey, ids: &[String]) -> StreamFuture<'_, Vec<YouTubeVideo>>;
}

/// An app access token (client-credentials flow). `Debug` never shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppToken {
    pub token: Secret,
    /// Seconds until Twitch stops accepting it.
    pub expires_in_secs: u64,
}

/// A live Twitch stream as Helix describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitchStream {
    pub id: String,
    /// The login, lower case.
    pub login: String,
    pub title: String,
    pub game: String,
    pub viewers: u64,
    pub started_at: Option<Timestamp>,
    /// Helix's template with `{width}` and `{height}` filled in.
    pub thumbnail_url: Option<String>,
}

/// Twitch's OAuth and Helix APIs.
pub trait TwitchApi: Send + Sync {
    /// `POST /oauth2/token` with `grant_type=client_credentials`, the credentials in the body.
    fn app_token(&self, credentials: &TwitchCredentials) -> StreamFuture<'_, AppToken>;
    /// `GET /helix/streams?user_login=...` for up to 100 logins: the live ones.
    fn streams(
        &self,
        client_id: &Secret,
        token: &Secret,
        logins: &[TwitchLogin],
    ) -> StreamFuture<'_, Vec<TwitchStream>>;
}

/// What a TikTok live page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TikTokPage {
    Live {
        room_id: String,
        title: String,
        started_at: Option<Timestamp>,
        viewers: Option<u64>,
    },
    Offline,
    /// A page without the state Garrison reads, or an account TikTok does not know: never a guess.
    Unreadable,
}

/// TikTok's public live page (no key).
pub trait TikTokPages: Send + Sync {
    fn live_page(&self, user: &TikTokUser) -> StreamFuture<'_, TikTokPage>;
}

/// A Twitch user as `Get Users` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitchUser {
    /// Numeric, as text.
    pub id: String,
    /// Lower case.
    pub login: String,
}

/// An EventSub subscription as Twitch lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSubscription {
    pub id: String,
    /// `stream.online`, `stream.offline`, ...
    pub kind: String,
    pub broadcaster_id: String,
    /// `enabled`, `webhook_callback_verification_pending`, `authorization_revoked`, ...
    pub status: String,
    pub callback: String,
}

/// Twitch's EventSub subscriptions over webhooks (with an app access token).
pub trait TwitchEventSub: Send + Sync {
    /// `GET /helix/users?login=...` for up to 100 logins: the ones that exist.
    fn users(&self, client_id: &Secret, token: &Secret, logins: &[TwitchLogin]) -> StreamFuture<'_, Vec<TwitchUser>>;
    /// `GET /helix/eventsub/subscriptions`, every page.
    fn subscriptions(&self, client_id: &Secret, token: &Secret) -> StreamFuture<'_, Vec<EventSubscription>>;
    /// `POST /helix/eventsub/subscriptions`: `kind` (version 1) for the broadcaster, delivered to
    /// `callback` signed with `secret`.
    fn subscribe<'a>(
        &'a self,
        client_id: &'a Secret,
        token: &'a Secret,
        kind: &'a str,
        broadcaster_id: &'a str,
        callback: &'a str,
        secret: &'a Secret,
    ) -> StreamFuture<'a, EventSubscription>;
    /// `DELETE /helix/eventsub/subscriptions?id=`.
    fn unsubscribe(&self, client_id: &Secret, token: &Secret, id: &str) -> StreamFuture<'_, ()>;
}
