//! Twitch EventSub subscriptions over webhooks
//! (<https://dev.twitch.tv/docs/eventsub/manage-subscriptions/>) and Get Users
//! (<https://dev.twitch.tv/docs/api/reference/#get-users>), with an app access token.

use garrison_core::streams::{
    EventSubscription, PlatformError, Secret, StreamFuture, TwitchEventSub, TwitchLogin, TwitchUser,
};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::{JSON_MAX, StreamClients, read_body, transport_error};

const TWITCH: &str = "Twitch";
/// Pages of subscriptions read at most (100 each): what one application can hold at 10,000 cost.
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct Users {
    #[serde(default)]
    data: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    login: String,
}

#[derive(Deserialize)]
struct Subscriptions {
    #[serde(default)]
    data: Vec<Subscription>,
    #[serde(default)]
    pagination: Pagination,
}

#[derive(Deserialize, Default)]
struct Pagination {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    condition: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    transport: serde_json::Map<String, serde_json::Value>,
}

impl From<Subscription> for EventSubscription {
    fn from(sub: Subscription) -> Self {
        let text = |map: &serde_json::Map<String, serde_json::Value>, key: &str| {
            map.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned()
        };
        Self {
            broadcaster_id: text(&sub.condition, "broadcaster_user_id"),
            callback: text(&sub.transport, "callback"),
            id: sub.id,
            kind: sub.kind,
            status: sub.status,
        }
    }
}

/// What a Helix answer's status means, and its body when it succeeded.
async fn helix(what: &str, response: reqwest::Response) -> Result<(StatusCode, Vec<u8>), PlatformError> {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(PlatformError::RateLimited { retry_after_secs: crate::twitch::reset_in(&response) });
    }
    let body = read_body(TWITCH, response, JSON_MAX).await?;
    match status {
        StatusCode::UNAUTHORIZED => Err(PlatformError::TokenRefused),
        status if status.is_success() => Ok((status, body)),
        status => {
            // Helix's error body says why (`{"error","status","message"}`); it names no secret.
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(|m| m.chars().take(200).collect::<String>()))
                .unwrap_or_default();
            Err(PlatformError::Unavailable(format!("Twitch answered {what} with {status}: {message}")))
        }
    }
}

fn unreadable(what: &str, err: &serde_json::Error) -> PlatformError {
    PlatformError::Unavailable(format!("Twitch answered {what} with unreadable JSON: {err}"))
}

impl TwitchEventSub for StreamClients {
    fn users(&self, client_id: &Secret, token: &Secret, logins: &[TwitchLogin]) -> StreamFuture<'_, Vec<TwitchUser>> {
        let (client_id, token) = (client_id.clone(), token.clone());
        let logins: Vec<String> = logins.iter().take(100).map(TwitchLogin::key).collect();
        Box::pin(async move {
            let query: Vec<(&str, &str)> = logins.iter().map(|login| ("login", login.as_str())).collect();
            let response = self
                .http
                .get(format!("{}/users", self.endpoints.twitch_api_url))
                .query(&query)
                .bearer_auth(token.expose())
                .header("Client-Id", client_id.expose())
                .send()
                .await
                .map_err(|e| transport_error(TWITCH, &e))?;
            let (_, body) = helix("Get Users", response).await?;
            let users: Users = serde_json::from_slice(&body).map_err(|e| unreadable("Get Users", &e))?;
            Ok(users.data.into_iter().map(|u| TwitchUser { id: u.id, login: u.login.to_ascii_lowercase() }).collect())
        })
    }

    fn subscriptions(&self, client_id: &Secret, token: &Secret) -> StreamFuture<'_, Vec<EventSubscription>> {
        let (client_id, token) = (client_id.clone(), token.clone());
        Box::pin(async move {
            let mut all = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let mut request = self
                    .http
                    .get(format!("{}/eventsub/subscriptions", self.endpoints.twitch_api_url))
                    .bearer_auth(token.expose())
                    .header("Client-Id", client_id.expose());
                if let Some(cursor) = &after {
                    request = request.query(&[("after", cursor.as_str())]);
                }
                let response = request.send().await.map_err(|e| transport_error(TWITCH, &e))?;
                let (_, body) = helix("Get EventSub Subscriptions", response).await?;
                let page: Subscriptions =
                    serde_json::from_slice(&body).map_err(|e| unreadable("Get EventSub Subscriptions", &e))?;
                all.extend(page.data.into_iter().map(EventSubscription::from));
                match page.pagination.cursor.filter(|c| !c.is_empty()) {
                    Some(cursor) => after = Some(cursor),
                    None => return Ok(all),
                }
            }
            Ok(all)
        })
    }

    fn subscribe<'a>(
        &'a self,
        client_id: &'a Secret,
        token: &'a Secret,
        kind: &'a str,
        broadcaster_id: &'a str,
        callback: &'a str,
        secret: &'a Secret,
    ) -> StreamFuture<'a, EventSubscription> {
        Box::pin(async move {
            let body = json!({
                "type": kind,
                "version": "1",
                "condition": {"broadcaster_user_id": broadcaster_id},
                "transport": {"method": "webhook", "callback": callback, "secret": secret.expose()},
            });
            let response = self
                .http
                .post(format!("{}/eventsub/subscriptions", self.endpoints.twitch_api_url))
                .bearer_auth(token.expose())
                .header("Client-Id", client_id.expose())
                .json(&body)
                .send()
                .await
                .map_err(|e| transport_error(TWITCH, &e))?;
            let (_, body) = helix("Create EventSub Subscription", response).await?;
            let created: Subscriptions =
                serde_json::from_slice(&body).map_err(|e| unreadable("Create EventSub Subscription", &e))?;
            created.data.into_iter().next().map(EventSubscription::from).ok_or_else(|| {
                PlatformError::Unavailable("Twitch answered Create EventSub Subscription without it".into())
            })
        })
    }

    fn unsubscribe(&self, client_id: &Secret, token: &Secret, id: &str) -> StreamFuture<'_, ()> {
        let (client_id, token, id) = (client_id.clone(), token.clone(), id.to_owned());
        Box::pin(async move {
            let response = self
                .http
                .delete(format!("{}/eventsub/subscriptions", self.endpoints.twitch_api_url))
                .query(&[("id", id.as_str())])
                .bearer_auth(token.expose())
                .header("Client-Id", client_id.expose())
                .send()
                .await
                .map_err(|e| transport_error(TWITCH, &e))?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(()); // gone already
            }
            helix("Delete EventSub Subscription", response).await.map(|_| ())
        })
    }
}
