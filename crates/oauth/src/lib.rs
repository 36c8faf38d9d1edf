#![doc = include_str!("../README.md")]

use std::time::Duration;

use garrison_core::roblox::signin::{Identity, OAuthProvider, ProviderError, ProviderFuture};
use reqwest::{StatusCode, Url};
use serde_json::Value;

/// A client registered with a provider: its id, secret and the redirect URI it registered.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back (`{public url}/verify/discord/callback`).
    pub redirect_uri: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// Which provider: its endpoints, scopes and how it names a user.
#[derive(Debug, Clone)]
struct Provider {
    name: &'static str,
    authorize: String,
    token: String,
    revoke: String,
    identity: String,
    scopes: &'static str,
    /// The user's id and name in the identity answer.
    id_field: &'static str,
    name_field: &'static str,
}

/// An OAuth 2.0 authorization-code client with PKCE for one provider. Without credentials it still
/// exists, and every call says the provider is not configured.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    provider: Provider,
    credentials: Option<ClientCredentials>,
}

/// The most of an answer read.
const ANSWER_MAX: usize = 64 * 1024;

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl OAuthClient {
    fn new(provider: Provider, credentials: Option<ClientCredentials>, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("garrison/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the {} sign-in client: {e}", provider.name))?;
        Ok(Self { http, provider, credentials })
    }

    /// Discord: the authorize page at `authorize_url`, the token and user endpoints under `api_url`
    /// (`https://discord.com/api/v10`).
    pub fn discord(
        authorize_url: &str,
        api_url: &str,
        credentials: Option<ClientCredentials>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let api = trim(api_url);
        let provider = Provider {
            name: "Discord",
            authorize: authorize_url.trim().to_owned(),
            token: format!("{api}/oauth2/token"),
            revoke: format!("{api}/oauth2/token/revoke"),
            identity: format!("{api}/users/@me"),
            scopes: "identify",
            id_field: "id",
            name_field: "username",
        };
        Self::new(provider, credentials, timeout)
    }

    /// Roblox: every endpoint under `oauth_url` (`https://apis.roblox.com/oauth`).
    pub fn roblox(oauth_url: &str, credentials: Option<ClientCredentials>, timeout: Duration) -> Result<Self, String> {
        let base = trim(oauth_url);
        let provider = Provider {
            name: "Roblox",
            authorize: format!("{base}/v1/authorize"),
            token: format!("{base}/v1/token"),
            revoke: format!("{base}/v1/token/revoke"),
            identity: format!("{base}/v1/userinfo"),
            scopes: "openid profile",
            id_field: "sub",
            name_field: "preferred_username",
        };
        Self::new(provider, credentials, timeout)
    }

    fn credentials(&self) -> Result<&ClientCredentials, ProviderError> {
        self.credentials.as_ref().ok_or(ProviderError::NotConfigured { provider: self.provider.name })
    }

    fn unavailable(&self, reason: impl Into<String>) -> ProviderError {
        ProviderError::Unavailable { provider: self.provider.name, reason: reason.into() }
    }

    fn refused(&self, reason: impl Into<String>) -> ProviderError {
        ProviderError::Refused { provider: self.provider.name, reason: reason.into() }
    }

    /// Reads a JSON answer of at most [`ANSWER_MAX`] bytes; says what failed without echoing it.
    async fn json(&self, response: reqwest::Response, what: &str) -> Result<(StatusCode, Value), ProviderError> {
        let status = response.status();
        if response.content_length().is_some_and(|n| n > ANSWER_MAX as u64) {
            return Err(self.unavailable(format!("its {what} answer was too large")));
        }
        let body = response.bytes().await.map_err(|_| self.unavailable(format!("its {what} answer was cut off")))?;
        if body.len() > ANSWER_MAX {
            return Err(self.unavailable(format!("its {what} answer was too large")));
        }
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<String, ProviderError> {
        let credentials = self.credentials()?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", credentials.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let response = self
            .http
            .post(&self.provider.token)
            .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                self.unavailable(if e.is_timeout() { "it did not answer in time" } else { "it cannot be reached" })
            })?;
        let (status, body) = self.json(response, "token").await?;
        if status.is_success() {
            return body["access_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| self.unavailable("its token answer had no access token"));
        }
        // RFC 6749's error codes are fixed words; a description may quote input, so it is not kept.
        let error =
            body["error"].as_str().filter(|e| e.len() <= 40 && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        match (status.as_u16(), error) {
            (400, Some(error)) => Err(self.refused(error.to_owned())),
            (401, _) => Err(self.unavailable("it refused this server's client id or secret (check the settings)")),
            _ => Err(self.unavailable(format!("its token endpoint answered {status}"))),
        }
    }

    async fn whoami(&self, token: &str) -> Result<Identity, ProviderError> {
        let response = self
            .http
            .get(&self.provider.identity)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|_| self.unavailable("its user endpoint cannot be reached"))?;
        let (status, body) = self.json(response, "user").await?;
        if !status.is_success() {
            return Err(self.unavailable(format!("its user endpoint answered {status}")));
        }
        let id = match &body[self.provider.id_field] {
            Value::String(text) => text.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
        .filter(|id| *id > 0)
        .ok_or_else(|| self.unavailable("its user answer named no user"))?;
        let name = body[self.provider.name_field].as_str().unwrap_or_default().chars().take(100).collect();
        Ok(Identity { id, name })
    }

    /// Lets the token go; a failure only logs (the token expires on its own).
    async fn revoke(&self, token: &str) {
        let Ok(credentials) = self.credentials() else { return };
        let sent = self
            .http
            .post(&self.provider.revoke)
            .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await;
        if !sent.is_ok_and(|r| r.status().is_success()) {
            tracing::warn!(
                provider = self.provider.name,
                "could not revoke a sign-in token; it will expire on its own"
            );
        }
    }
}

impl OAuthProvider for OAuthClient {
    fn authorize_url(&self, state: &str, challenge: &str) -> Result<String, ProviderError> {
        let credentials = self.credentials()?;
        let url = Url::parse_with_params(
            &self.provider.authorize,
            [
                ("response_type", "code"),
                ("client_id", credentials.client_id.as_str()),
                ("redirect_uri", credentials.redirect_uri.as_str()),
                ("scope", self.provider.scopes),
                ("state", state),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|_| self.unavailable("its authorize URL setting is not a URL"))?;
        Ok(url.into())
    }

    fn identify(&self, code: &str, verifier: &str) -> ProviderFuture<'_, Identity> {
        let (code, verifier) = (code.to_owned(), verifier.to_owned());
        Box::pin(async move {
            let token = self.exchange(&code, &verifier).await?;
            let who = self.whoami(&token).await;
            self.revoke(&token).await;
            who
        })
    }
}
