//! Live streams (tag `Streams`): live checks of YouTube, Twitch and TikTok, a server's watches (live
//! alerts posted by the server-wide bot) and the server's own platform credentials.
//!
//! `POST /api/Stream/eventsub/twitch` is Twitch's own callback, signed by Twitch; it has no typed
//! method ([`Client::call`] with [`Operation::TwitchEventSub`] reaches it).

use garrison_core::streams::Secret;
use garrison_core::{ServerId, discord::Snowflake};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize, Serializer};

use crate::{Call, Client, Operation, Result, ids};

/// One channel's live status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreamStatus {
    /// `YouTube`, `Twitch` or `TikTok`.
    pub platform: String,
    pub user: String,
    /// `None` when Garrison cannot tell (see `status`), never a guess.
    #[serde(default)]
    pub is_live: Option<bool>,
    /// Why `is_live` is `None` (`quota_exhausted`, `unknown`, `error`), or `skipped`.
    #[serde(default)]
    pub status: Option<String>,
    /// What went wrong, in [`StreamsApi::check_all`]'s entries whose platform failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The channel's page.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub viewer_count: Option<u64>,
    /// The game or category (Twitch).
    #[serde(default)]
    pub game: Option<String>,
    /// The live video (YouTube).
    #[serde(default)]
    pub video_url: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}

/// A Twitch application's credentials (client-credentials flow), for a server that has none
/// configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitchCredentials {
    pub client_id: Secret,
    pub client_secret: Secret,
}

/// Platform credentials sent with a check, for what the server has no credential of its own for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformCredentials {
    /// A YouTube Data API v3 key.
    pub youtube_api_key: Option<Secret>,
    pub twitch: Option<TwitchCredentials>,
}

impl Call<'_> {
    fn twitch_credentials(self, credentials: Option<&TwitchCredentials>) -> Self {
        match credentials {
            Some(twitch) => self
                .secret_header("X-Twitch-ClientId", twitch.client_id.expose())
                .secret_header("X-Twitch-Secret", twitch.client_secret.expose()),
            None => self,
        }
    }

    fn youtube_key(self, key: Option<&Secret>) -> Self {
        match key {
            Some(key) => self.secret_header("X-YouTube-ApiKey", key.expose()),
            None => self,
        }
    }
}

/// The body of `POST /api/Stream/check-all`: the channels to check (`None`, empty or `none` skips a
/// platform).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckAll {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub youtube_handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitch_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tik_tok_user: Option<String>,
}

/// A platform a watch follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    YouTube,
    Twitch,
    TikTok,
}

/// The body of `POST /api/Stream/watches`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWatch {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    pub platform: Platform,
    /// A YouTube handle, a Twitch login or a TikTok username.
    pub user: String,
    /// A text or announcement channel of the server, where alerts are posted.
    #[serde(serialize_with = "ids::text")]
    pub channel_id: Snowflake,
    /// Text above the alert (at most 1,000 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A role of the server the alert mentions.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ids::text_opt")]
    pub role_id_to_mention: Option<Snowflake>,
}

/// A watch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Watch {
    pub id: i64,
    #[serde(deserialize_with = "ids::id")]
    pub server_id: ServerId,
    /// `YouTube`, `Twitch` or `TikTok`.
    pub platform: String,
    pub user: String,
    #[serde(deserialize_with = "ids::id")]
    pub channel_id: Snowflake,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "ids::id_opt")]
    pub role_id_to_mention: Option<Snowflake>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Deserialize)]
struct Watches {
    watches: Vec<Watch>,
}

/// What to do with one of the server's stored credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CredentialChange {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Store this one (sealed; never answered or logged).
    Set(Secret),
    /// Forget it.
    Forget,
}

impl CredentialChange {
    fn is_keep(&self) -> bool {
        matches!(self, CredentialChange::Keep)
    }
}

fn credential<S: Serializer>(change: &CredentialChange, serializer: S) -> Result<S::Ok, S::Error> {
    match change {
        CredentialChange::Set(secret) => serializer.serialize_str(secret.expose()),
        CredentialChange::Forget | CredentialChange::Keep => serializer.serialize_str(""),
    }
}

/// The body of `PUT /api/server/streams`. Its `Debug` never shows the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamKeysChange {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(skip_serializing_if = "CredentialChange::is_keep", serialize_with = "credential")]
    pub youtube_api_key: CredentialChange,
    /// Set together with the secret.
    #[serde(skip_serializing_if = "CredentialChange::is_keep", serialize_with = "credential")]
    pub twitch_client_id: CredentialChange,
    #[serde(skip_serializing_if = "CredentialChange::is_keep", serialize_with = "credential")]
    pub twitch_client_secret: CredentialChange,
}

/// Which of the server's own credentials are set (never the credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreamKeys {
    #[serde(deserialize_with = "ids::id")]
    pub server_id: ServerId,
    pub youtube_api_key: bool,
    /// The Twitch client id and secret (set together).
    pub twitch: bool,
}

/// The stream routes: [`Client::streams`].
#[derive(Debug, Clone, Copy)]
pub struct StreamsApi<'c>(&'c Client);

impl Client {
    /// The stream routes.
    pub fn streams(&self) -> StreamsApi<'_> {
        StreamsApi(self)
    }
}

impl StreamsApi<'_> {
    /// `GET /api/Stream/youtube/{handle}`: whether a YouTube channel is live (the server's own key
    /// first, else `api_key`).
    pub async fn youtube(&self, handle: &str, api_key: Option<&Secret>) -> Result<StreamStatus> {
        self.0.call(Operation::YouTubeStream).path("handle", handle).youtube_key(api_key).send().await
    }

    /// `GET /api/Stream/twitch/{user}`: whether a Twitch channel is live.
    pub async fn twitch(&self, login: &str, credentials: Option<&TwitchCredentials>) -> Result<StreamStatus> {
        self.0.call(Operation::TwitchStream).path("user", login).twitch_credentials(credentials).send().await
    }

    /// `GET /api/Stream/tiktok/{user}`: whether a TikTok account is live, from its public page.
    pub async fn tiktok(&self, user: &str) -> Result<StreamStatus> {
        self.0.call(Operation::TikTokStream).path("user", user).send().await
    }

    /// `POST /api/Stream/check-all`: the three checks at once; skipped platforms are left out.
    pub async fn check_all(&self, check: &CheckAll, credentials: &PlatformCredentials) -> Result<Vec<StreamStatus>> {
        self.0
            .call(Operation::CheckAllStreams)
            .youtube_key(credentials.youtube_api_key.as_ref())
            .twitch_credentials(credentials.twitch.as_ref())
            .json(check)
            .send()
            .await
    }

    /// `GET /api/Stream/watches`: the server's watches, oldest first.
    pub async fn watches(&self, server: ServerId) -> Result<Vec<Watch>> {
        let list: Watches = self.0.call(Operation::ListWatches).query("serverId", server).send().await?;
        Ok(list.watches)
    }

    /// `POST /api/Stream/watches`: watches a streamer (the channel and role checked with the
    /// server-wide bot first).
    pub async fn add_watch(&self, watch: &NewWatch) -> Result<Watch> {
        self.0.call(Operation::AddWatch).json(watch).send().await
    }

    /// `DELETE /api/Stream/watches/{id}`: stops watching.
    pub async fn delete_watch(&self, server: ServerId, id: i64) -> Result<()> {
        let _: IgnoredAny = self.0.call(Operation::DeleteWatch).path("id", id).query("serverId", server).send().await?;
        Ok(())
    }

    /// `GET /api/server/streams`: which of the server's own credentials are set.
    pub async fn keys(&self, server: ServerId) -> Result<StreamKeys> {
        self.0.call(Operation::GetStreamKeys).query("serverId", server).send().await
    }

    /// `PUT /api/server/streams`: sets or forgets the server's own credentials.
    pub async fn set_keys(&self, change: &StreamKeysChange) -> Result<StreamKeys> {
        self.0.call(Operation::PutStreamKeys).json(change).send().await
    }
}
