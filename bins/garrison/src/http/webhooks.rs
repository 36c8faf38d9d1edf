//! `/api/webhooks`: a server's outbound webhooks (Standard Webhooks): register an endpoint (its secret
//! shown once), list and delete them, send a test event, and read an endpoint's deliveries. Each
//! handler parses, makes one call of the webhook service and writes its answer.

use actix_web::{HttpResponse, delete, get, post, web};
use garrison_core::webhooks::{DeliveryRecord, Endpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, Params, ServerQuery},
};

/// `POST /api/webhooks`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// An HTTPS URL of a public host, on port 443.
    #[schema(example = "https://hooks.example.com/garrison")]
    url: String,
    /// The event types to receive (see the documentation for each one's body).
    #[schema(example = json!(["xp.changed", "loa.started"]))]
    events: Vec<String>,
    /// At most 200 characters.
    #[schema(example = "Our dashboard")]
    description: Option<String>,
}

/// An endpoint as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOut {
    #[schema(example = "wh_3f2a9c0d6b1e4f7a8c9d0e1f2a3b4c5d")]
    id: String,
    #[schema(example = "123456789012345678")]
    server_id: String,
    url: String,
    events: Vec<String>,
    description: Option<String>,
    /// RFC 3339.
    created_at: String,
    /// The signing secret: only in the answer that created the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=")]
    secret: Option<String>,
}

impl WebhookOut {
    fn of(endpoint: Endpoint, secret: Option<String>) -> Self {
        Self {
            id: endpoint.id,
            server_id: endpoint.server.to_string(),
            url: endpoint.url,
            events: endpoint.events,
            description: endpoint.description,
            created_at: endpoint.created_at.to_iso8601(),
            secret,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhooksResponse {
    webhooks: Vec<WebhookOut>,
}

/// Register an endpoint: its URL must be HTTPS to a public host on port 443 (checked now, with the
/// host's addresses, and again at every delivery). The answer carries the signing secret, this once.
#[utoipa::path(tag = "Webhooks", request_body = WebhookBody, responses(
    (status = 201, body = WebhookOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, description = "the server has 20 webhooks", body = ErrorBody)))]
#[post("/api/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<WebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let principal = caller.principal(state.clone()).await?;
    let (endpoint, secret) =
        state.webhooks.create(&principal, server, &body.url, &body.events, body.description).await?;
    Ok(HttpResponse::Created().json(WebhookOut::of(endpoint, Some(secret.text()))))
}

/// The server's endpoints, oldest first (never their secrets).
#[utoipa::path(tag = "Webhooks", params(ServerQuery), responses(
    (status = 200, body = WebhooksResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerQuery>,
) -> Result<web::Json<WebhooksResponse>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    let endpoints = state.webhooks.list(&principal, server).await?;
    Ok(web::Json(WebhooksResponse { webhooks: endpoints.into_iter().map(|e| WebhookOut::of(e, None)).collect() }))
}

/// Delete an endpoint and its pending deliveries: `{"status":"Deleted"}`.
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), ServerQuery), responses(
    (status = 200, description = "`{\"status\":\"Deleted\"}`"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/api/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<ServerQuery>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    state.webhooks.remove(&principal, server, &id).await?;
    Ok(web::Json(serde_json::json!({"status": "Deleted"})))
}

/// Send a `webhook.test` event to this endpoint alone: `{"eventId":"msg_..."}` (delivered shortly).
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), ServerQuery), responses(
    (status = 202, description = "`{\"eventId\":\"msg_...\"}`"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/webhooks/{id}/test")]
pub async fn test(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<ServerQuery>,
) -> Result<HttpResponse, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    let event = state.webhooks.test(&principal, server, &id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"eventId": event})))
}

/// A delivery as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut {
    id: i64,
    /// The `webhook-id` the endpoint received.
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    /// `pending`, `delivered` or `failed`.
    state: &'static str,
    attempts: u32,
    next_attempt_at: Option<String>,
    /// The last attempt's HTTP status.
    last_status: Option<u16>,
    /// Why the last attempt had no answer.
    last_error: Option<String>,
    latency_ms: Option<i64>,
    created_at: String,
}

impl From<DeliveryRecord> for DeliveryOut {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            kind: d.kind,
            state: d.state.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(garrison_core::Timestamp::to_iso8601),
            last_status: d.last_status,
            last_error: d.last_error,
            latency_ms: d.last_latency_ms,
            created_at: d.created_at.to_iso8601(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesResponse {
    deliveries: Vec<DeliveryOut>,
}

/// The endpoint's latest 100 deliveries, newest first: attempts, state, status, latency.
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), ServerQuery), responses(
    (status = 200, body = DeliveriesResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/api/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<ServerQuery>,
) -> Result<web::Json<DeliveriesResponse>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    let found = state.webhooks.deliveries(&principal, server, &id).await?;
    Ok(web::Json(DeliveriesResponse { deliveries: found.into_iter().map(DeliveryOut::from).collect() }))
}
