//! Outbound webhooks (tag `Webhooks`): a server's endpoints, their delivery log and test events
//! ([`WebhooksApi`]), and what a receiver runs to check a delivery ([`verify_webhook`]). See
//! `docs/webhooks.md` for the events and their bodies.

mod verify;

use garrison_core::ServerId;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

pub use verify::{
    DeliveryHeaders, EVENT_TYPES, Event, TIMESTAMP_TOLERANCE, VerifyError, WebhookSecret, verify_webhook,
    verify_webhook_at,
};

use crate::{Client, Operation, Result, ids};

/// The body of `POST /api/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// HTTPS, port 443, a host whose addresses are all public, no credentials, at most 2,000
    /// characters.
    pub url: String,
    /// One or more of [`EVENT_TYPES`].
    pub events: Vec<String>,
    /// At most 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An endpoint. Its `Debug` never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Webhook {
    /// `wh_` + 32 hex digits.
    pub id: String,
    #[serde(deserialize_with = "ids::id")]
    pub server_id: ServerId,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Since when its deliveries have been failing (no 2xx since), if they are.
    #[serde(default)]
    pub failing_since: Option<String>,
    /// When it was disabled for failing too long (see [`WebhooksApi::enable`]).
    #[serde(default)]
    pub disabled_at: Option<String>,
    /// Until when deliveries also carry the signature of the secret before the latest rotation.
    #[serde(default)]
    pub previous_secret_valid_until: Option<String>,
    /// The signing secret: only in the answer that created the endpoint (keep it, it is not shown
    /// again).
    #[serde(default, deserialize_with = "secret")]
    pub secret: Option<WebhookSecret>,
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<WebhookSecret>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| WebhookSecret::parse(&text).ok_or_else(|| serde::de::Error::custom("not a whsec_ secret")))
        .transpose()
}

/// One event's delivery to an endpoint, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Delivery {
    pub id: i64,
    /// The `webhook-id` the endpoint received.
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    /// The last attempt's HTTP status.
    pub last_status: Option<u16>,
    /// Why the last attempt had no answer.
    pub last_error: Option<String>,
    pub latency_ms: Option<i64>,
    pub created_at: String,
}

#[derive(Deserialize)]
struct Webhooks {
    webhooks: Vec<Webhook>,
}

#[derive(Deserialize)]
struct Deliveries {
    deliveries: Vec<Delivery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestEvent {
    event_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Redelivered {
    delivery_id: i64,
}

/// What a rotation answers. Its `Debug` never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Rotated {
    /// The new signing secret, shown this once.
    #[serde(deserialize_with = "required_secret")]
    pub secret: WebhookSecret,
    /// Until when deliveries carry the previous secret's signature too (RFC 3339).
    pub previous_secret_valid_until: String,
}

fn required_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<WebhookSecret, D::Error> {
    secret(deserializer)?.ok_or_else(|| serde::de::Error::custom("no secret"))
}

/// The webhook routes: [`Client::webhooks`].
#[derive(Debug, Clone, Copy)]
pub struct WebhooksApi<'c>(&'c Client);

impl Client {
    /// The webhook routes.
    pub fn webhooks(&self) -> WebhooksApi<'_> {
        WebhooksApi(self)
    }
}

impl WebhooksApi<'_> {
    /// `GET /api/webhooks`: the server's endpoints, oldest first, without their secrets.
    pub async fn list(&self, server: ServerId) -> Result<Vec<Webhook>> {
        let list: Webhooks = self.0.call(Operation::ListWebhooks).query("serverId", server).send().await?;
        Ok(list.webhooks)
    }

    /// `POST /api/webhooks`: registers an endpoint; the answer holds its secret, once.
    pub async fn create(&self, webhook: &NewWebhook) -> Result<Webhook> {
        self.0.call(Operation::CreateWebhook).json(webhook).send().await
    }

    /// `DELETE /api/webhooks/{id}`: deletes an endpoint and its pending deliveries.
    pub async fn delete(&self, server: ServerId, id: &str) -> Result<()> {
        let _: IgnoredAny =
            self.0.call(Operation::DeleteWebhook).path("id", id).query("serverId", server).send().await?;
        Ok(())
    }

    /// `GET /api/webhooks/{id}/deliveries`: the endpoint's latest 100 deliveries, newest first.
    pub async fn deliveries(&self, server: ServerId, id: &str) -> Result<Vec<Delivery>> {
        let list: Deliveries =
            self.0.call(Operation::WebhookDeliveries).path("id", id).query("serverId", server).send().await?;
        Ok(list.deliveries)
    }

    /// `POST /api/webhooks/{id}/deliveries/{deliveryId}/redeliver`: sends a delivery's event to the
    /// endpoint again (same `webhook-id`), as a new delivery due now; its id.
    pub async fn redeliver(&self, server: ServerId, id: &str, delivery: i64) -> Result<i64> {
        let made: Redelivered = self
            .0
            .call(Operation::RedeliverWebhook)
            .path("id", id)
            .path("deliveryId", delivery)
            .query("serverId", server)
            .send()
            .await?;
        Ok(made.delivery_id)
    }

    /// `POST /api/webhooks/{id}/rotate`: a new signing secret; the current one keeps signing beside
    /// it for `overlap_hours` (0 to 168; the server's 24 when `None`; 0 stops it at once).
    pub async fn rotate(&self, server: ServerId, id: &str, overlap_hours: Option<u32>) -> Result<Rotated> {
        self.0
            .call(Operation::RotateWebhookSecret)
            .path("id", id)
            .query("serverId", server)
            .query_opt("overlapHours", overlap_hours)
            .send()
            .await
    }

    /// `POST /api/webhooks/{id}/enable`: an endpoint disabled for failing too long gets events again.
    pub async fn enable(&self, server: ServerId, id: &str) -> Result<()> {
        let _: IgnoredAny =
            self.0.call(Operation::EnableWebhook).path("id", id).query("serverId", server).send().await?;
        Ok(())
    }

    /// `POST /api/webhooks/{id}/test`: sends a `webhook.test` event to this endpoint alone; the
    /// answer is its event id (`msg_...`, the `webhook-id` the endpoint will see).
    pub async fn test(&self, server: ServerId, id: &str) -> Result<String> {
        let event: TestEvent =
            self.0.call(Operation::TestWebhook).path("id", id).query("serverId", server).send().await?;
        Ok(event.event_id)
    }
}
