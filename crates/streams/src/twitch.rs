//! Twitch: the client-credentials grant
//! (<https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow>) and
//! Get Streams (<https://dev.twitch.tv/docs/api/reference/#get-streams>).

use garrison_core::streams::{
    AppToken, PlatformError, Secret, StreamFuture, TwitchApi, TwitchCredentials, TwitchLogin, TwitchStream,
};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::{JSON_MAX, StreamClients, parse_time, read_body, transport_error};

const TWITCH: &str = "Twitch";
/// Helix's limit of logins per Get Streams call.
const LOGINS_PER_CALL: usize = 100;
/// The size thumbnails are asked in.
const THUMBNAIL: (&str, &str) = ("1280", "720");

#[derive(Deserialize)]
struct Token {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Streams {
    #[serde(default)]
    data: Vec<Stream>,
}

#[derive(Deserialize)]
struct Stream {
    id: String,
    user_login: String,
    #[serde(default)]
    game_name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    viewer_count: u64,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    thumbnail_url: String,
    #[serde(default, rename = "type")]
    kind: String,
}

/// Seconds until Helix's `Ratelimit-Reset` (a Unix time), at least one.
pub(crate) fn reset_in(response: &reqwest::Response) -> u64 {
    let reset = response.headers().get("ratelimit-reset").and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    reset.map_or(1, |reset| reset.saturating_sub(now).clamp(1, 60))
}

impl TwitchApi for StreamClients {
    fn app_token(&self, credentials: &TwitchCredentials) -> StreamFuture<'_, AppToken> {
        let credentials = credentials.clone();
        Box::pin(async move {
            // The credentials go in the form body, never in the URL.
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", credentials.client_id.expose())
                .append_pair("client_secret", credentials.client_secret.expose())
                .append_pair("grant_type", "client_credentials")
                .finish();
            let response = self
                .http
                .post(format!("{}/token", self.endpoints.twitch_auth_url))
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .map_err(|e| transport_error(TWITCH, &e))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                return Err(PlatformError::RateLimited { retry_after_secs: reset_in(&response) });
            }
            let body = read_body(TWITCH, response, JSON_MAX).await?;
            match status {
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Err(PlatformError::CredentialsRefused)
                }
                status if status.is_success() => {
                    let token: Token = serde_json::from_slice(&body).map_err(|e| {
                        PlatformError::Unavailable(format!(
                            "Twitch answered the token request with unreadable JSON: {e}"
                        ))
                    })?;
                    let token_text = Secret::parse("access_token", &token.access_token).map_err(|_| {
                        PlatformError::Unavailable("Twitch answered the token request with an unusable token".into())
                    })?;
                    Ok(AppToken { token: token_text, expires_in_secs: token.expires_in })
                }
                status => Err(PlatformError::Unavailable(format!("Twitch answered the token request with {status}"))),
            }
        })
    }

    fn streams(
        &self,
        client_id: &Secret,
        token: &Secret,
        logins: &[TwitchLogin],
    ) -> StreamFuture<'_, Vec<TwitchStream>> {
        let (client_id, token) = (client_id.clone(), token.clone());
        let logins: Vec<String> = logins.iter().take(LOGINS_PER_CALL).map(TwitchLogin::key).collect();
        Box::pin(async move {
            let query: Vec<(&str, &str)> = logins.iter().map(|login| ("user_login", login.as_str())).collect();
            let first = logins.len().to_string();
            let response = self
                .http
                .get(format!("{}/streams", self.endpoints.twitch_api_url))
                .query(&query)
                .query(&[("first", first.as_str())])
                .bearer_auth(token.expose())
                .header("Client-Id", client_id.expose())
                .send()
                .await
                .map_err(|e| transport_error(TWITCH, &e))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                return Err(PlatformError::RateLimited { retry_after_secs: reset_in(&response) });
            }
            let body = read_body(TWITCH, response, JSON_MAX).await?;
            if status == StatusCode::UNAUTHORIZED {
                return Err(PlatformError::TokenRefused);
            }
            if !status.is_success() {
                return Err(PlatformError::Unavailable(format!("Twitch answered Get Streams with {status}")));
            }
            let streams: Streams = serde_json::from_slice(&body).map_err(|e| {
                PlatformError::Unavailable(format!("Twitch answered Get Streams with unreadable JSON: {e}"))
            })?;
            Ok(streams
                .data
                .into_iter()
                .filter(|stream| stream.kind.is_empty() || stream.kind == "live")
                .map(|stream| TwitchStream {
                    id: stream.id,
                    login: stream.user_login.to_ascii_lowercase(),
                    title: stream.title,
                    game: stream.game_name,
                    viewers: stream.viewer_count,
                    started_at: parse_time(&stream.started_at),
                    thumbnail_url: Some(stream.thumbnail_url)
                        .filter(|url| !url.is_empty())
                        .map(|url| url.replace("{width}", THUMBNAIL.0).replace("{height}", THUMBNAIL.1)),
                })
                .collect())
        })
    }
}
