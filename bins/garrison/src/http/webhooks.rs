//! `/api/webhooks`: a server's outbound webhooks (Standard Webhooks): register an endpoint (its secret
//! shown once), list and delete them, send a test event, and read an endpoint's deliveries. Each
//! handler parses, makes one call of the webhook service and writes its answer.

use actix_web::{HttpResponse, delete, get, post, web};
use garrison_core::{
    Timestamp,
    webhooks::{DeliveryRecord, Endpoint},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
    /// Since when its deliveries have been failing (no 2xx since); `null` when they are not.
    failing_since: Option<String>,
    /// When it was disabled for failing too long (it gets no new events; enable it again with
    /// `POST /api/webhooks/{id}/enable`).
    disabled_at: Option<String>,
    /// Until when deliveries also carry the signature of the secret before the latest rotation.
    previous_secret_valid_until: Option<String>,
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
            failing_since: endpoint.failing_since.map(Timestamp::to_iso8601),
            disabled_at: endpoint.disabled_at.map(Timestamp::to_iso8601),
            previous_secret_valid_until: endpoint.previous_secret_until.map(Timestamp::to_iso8601),
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
            next_attempt_at: d.next_attempt_at.map(Timestamp::to_iso8601),
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

/// Send a delivery's event to the endpoint again (with the same `webhook-id`), as a new delivery
/// due now: `{"deliveryId": ...}`. 409 while the endpoint is disabled.
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), ("deliveryId" = i64, Path), ServerQuery), responses(
    (status = 202, description = "`{\"deliveryId\":123}`"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "the endpoint is disabled", body = ErrorBody)))]
#[post("/api/webhooks/{id}/deliveries/{deliveryId}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: Params<ServerQuery>,
) -> Result<HttpResponse, ApiError> {
    let server = query.server()?;
    let (id, delivery) = path.into_inner();
    let delivery = delivery
        .parse::<i64>()
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| garrison_core::Error::invalid("deliveryId", "must be a delivery's id (a whole number)"))?;
    let principal = caller.principal(state.clone()).await?;
    let made = state.webhooks.redeliver(&principal, server, &id, delivery).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"deliveryId": made})))
}

/// `?serverId=&overlapHours=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RotateQuery {
    /// Discord server id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// How long the current secret keeps signing deliveries beside the new one, in hours: 0 to 168,
    /// 24 when absent; 0 ends it now (a leaked secret).
    #[param(example = 24)]
    overlap_hours: Option<u32>,
}

/// The answer of a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedOut {
    /// The new signing secret, shown this once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=")]
    secret: String,
    /// Until when deliveries carry the previous secret's signature too (RFC 3339).
    previous_secret_valid_until: String,
}

/// Replace the endpoint's signing secret. During the overlap every delivery carries two signatures
/// (`v1,<new> v1,<previous>`), so receivers can switch without losing one.
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), RotateQuery), responses(
    (status = 200, body = RotatedOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/webhooks/{id}/rotate")]
pub async fn rotate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<RotateQuery>,
) -> Result<web::Json<RotatedOut>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let principal = caller.principal(state.clone()).await?;
    let (secret, until) = state.webhooks.rotate(&principal, server, &id, query.overlap_hours).await?;
    Ok(web::Json(RotatedOut { secret: secret.text(), previous_secret_valid_until: until.to_iso8601() }))
}

/// Enable an endpoint that was disabled for failing too long: `{"status":"Enabled"}`. It receives new
/// events again; deliveries that failed stay failed (redeliver them if needed).
#[utoipa::path(tag = "Webhooks", params(("id" = String, Path), ServerQuery), responses(
    (status = 200, description = "`{\"status\":\"Enabled\"}`"), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/api/webhooks/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: Params<ServerQuery>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let server = query.server()?;
    let principal = caller.principal(state.clone()).await?;
    state.webhooks.enable(&principal, server, &id).await?;
    Ok(web::Json(serde_json::json!({"status": "Enabled"})))
}

/// One event type's entry in the OpenAPI document.
struct EventExample {
    kind: &'static str,
    description: &'static str,
    /// An example of its `data`.
    data: serde_json::Value,
    /// The fields of `data` that may be `null`.
    nullable: &'static [&'static str],
}

/// The events a webhook endpoint receives, each `{"type","timestamp","data"}`: an example of each
/// one's `data`, and which of its fields may be `null`. The OpenAPI document's `webhooks` section is
/// made from this table (schemas inferred from the examples), and the black-box tests check the
/// events they receive against it, so the two cannot drift. docs/webhooks.md explains when each is
/// sent.
fn event_examples() -> Vec<EventExample> {
    use serde_json::json;
    let event =
        |kind, description, data, nullable: &'static [&'static str]| EventExample { kind, description, data, nullable };
    let member = |mut extra: serde_json::Value| {
        let mut data = json!({"serverId": "123456789012345678", "robloxId": "123456789"});
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object_mut()) {
            data.append(extra);
        }
        data
    };
    let loa = member(json!({"startedAt": "2026-12-07T10:00:00Z", "endsAt": "2026-12-10T10:00:00Z",
        "endedAt": "2026-12-08T09:00:00Z"}));
    let medal = member(json!({"medal": {"name": "Valor", "description": "For valor"}}));
    let certification = member(json!({"certification": {"reference": "PILOT", "name": "Pilot",
        "description": "Flies"}}));
    let link = json!({"serverId": "123456789012345678", "discordId": "223456789012345678", "robloxId": "123456789",
        "method": "profile_code", "linkedAt": "2026-12-07T10:00:00Z"});
    let mut unlinked = link.clone();
    unlinked["unlinkedAt"] = json!("2026-12-08T10:00:00Z");
    let stream = json!({"serverId": "123456789012345678", "watchId": 12, "platform": "Twitch", "streamer": "xQc",
        "channelId": "323456789012345678", "streamId": "40123456789", "title": "Gaming",
        "startedAt": "2026-12-07T10:00:00Z"});
    let mut live = stream.clone();
    live["url"] = json!("https://twitch.tv/xqc");
    live["viewers"] = json!(1200);
    live["game"] = json!("Just Chatting");
    let mut offline = stream;
    offline["endedAt"] = json!("2026-12-07T14:00:00Z");
    let role = |id: &str, name: &str, rank: u8| json!({"id": id, "name": name, "rank": rank});
    vec![
        event(
            "xp.changed",
            "An XP balance changed (set, add or subtract; not on an Idempotency-Key replay).",
            member(json!({"operation": "add", "amount": 10, "delta": 10, "xp": 110, "reference": "patrol",
                "reason": "Weekly patrol", "keyName": "bot"})),
            &["reference", "reason", "keyName"],
        ),
        event(
            "ep.changed",
            "EP were added; this period's EP per company and the warning level after it.",
            member(json!({"company": "main", "amount": 5, "current": {"main": 5, "sub1": 0, "sub2": 0, "sub3": 0},
                "warningLevel": 0})),
            &[],
        ),
        event("loa.started", "A leave of absence started.", loa.clone(), &["endedAt"]),
        event("loa.ended", "A leave of absence was ended early.", loa, &["endedAt"]),
        event("medal.awarded", "A medal was awarded.", medal.clone(), &[]),
        event("medal.revoked", "A medal was revoked.", medal, &[]),
        event("certification.awarded", "A certification was awarded.", certification.clone(), &[]),
        event("certification.revoked", "A certification was revoked.", certification, &[]),
        event(
            "modlog.created",
            "A moderation action was logged (without the history's view id).",
            json!({"serverId": "123456789012345678", "botId": "423456789012345678", "userId": "223456789012345678",
                "caseNumber": 7, "action": "Warn", "moderatorId": "523456789012345678", "moderatorName": "Admin",
                "reason": "Spamming", "duration": "2h", "createdAt": "2026-12-07T10:00:00Z"}),
            &["reason", "duration"],
        ),
        event(
            "transcript.created",
            "A channel's transcript was stored (without its view id).",
            json!({"serverId": "123456789012345678", "channelId": "323456789012345678", "channelName": "ticket-12",
                "creatorId": "223456789012345678", "botId": "423456789012345678", "createdAt": "2026-12-07T10:00:00Z",
                "messageCount": 42, "size": 18234, "filename": "transcript-ticket-12.html"}),
            &["channelName", "creatorId"],
        ),
        event(
            "verification.linked",
            "A Discord account was linked to a Roblox account by a profile code checked for this server.",
            link,
            &[],
        ),
        event("verification.unlinked", "Such a link was ended by its user.", unlinked, &[]),
        event(
            "rank.changed",
            "A member was promoted or demoted in the server's Roblox group.",
            member(json!({"groupId": "7", "direction": "promote", "from": role("3", "Corporal", 10),
                "to": role("4", "Captain", 50)})),
            &[],
        ),
        event(
            "backup.created",
            "A backup of the server, or a new version of it, was made (without its view id).",
            json!({"serverId": "123456789012345678", "version": 3, "bytes": 48211, "imageBytes": 120444,
                "updated": true, "createdAt": "2026-12-07T10:00:00Z"}),
            &[],
        ),
        event(
            "backup.restored",
            "A restore into the server finished (`failed` counts the steps that failed).",
            json!({"serverId": "123456789012345678", "fromServerId": "623456789012345678", "version": 3,
                "mode": "reconcile", "done": 40, "total": 40, "failed": 0, "snapshotVersion": 4,
                "startedAt": "2026-12-07T10:00:00Z", "finishedAt": "2026-12-07T10:02:00Z"}),
            &["snapshotVersion"],
        ),
        event("stream.live", "A watched streamer went live.", live, &["startedAt", "url", "viewers", "game"]),
        event("stream.offline", "That stream ended.", offline, &["startedAt"]),
        event(
            "webhook.test",
            "Sent by `POST /api/webhooks/{id}/test` to that endpoint alone.",
            json!({"serverId": "123456789012345678", "webhookId": "wh_3f2a9c0d6b1e4f7a8c9d0e1f2a3b4c5d"}),
            &[],
        ),
    ]
}

/// A JSON schema for values shaped like `example`: its types, every field required, the `nullable`
/// top-level fields also `null`.
fn schema_of(example: &serde_json::Value, nullable: &[&str]) -> serde_json::Value {
    use serde_json::{Value, json};
    match example {
        Value::Object(fields) => {
            let properties: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(name, value)| {
                    let mut schema = schema_of(value, &[]);
                    if nullable.contains(&name.as_str()) {
                        let kind = schema["type"].clone();
                        schema["type"] = json!([kind, "null"]);
                    }
                    (name.clone(), schema)
                })
                .collect();
            let required: Vec<&String> = fields.keys().collect();
            json!({"type": "object", "properties": properties, "required": required})
        }
        Value::String(_) => json!({"type": "string"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Array(_) => json!({"type": "array"}),
        Value::Null => json!({}),
    }
}

/// Adds the `webhooks` section: one `POST` per event type, as endpoints receive it.
#[derive(Debug)]
pub struct WebhookEvents;

impl utoipa::Modify for WebhookEvents {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use serde_json::json;
        let mut section = serde_json::Map::new();
        for EventExample { kind, description, data, nullable } in event_examples() {
            let body = json!({"type": kind, "timestamp": "2026-12-07T10:00:00Z", "data": data});
            let schema = json!({
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": [kind]},
                    "timestamp": {"type": "string", "description": "RFC 3339: when the change was made."},
                    "data": schema_of(&data, nullable),
                },
                "required": ["type", "timestamp", "data"],
            });
            let header = |name: &str, description: &str| {
                json!({"name": name, "in": "header", "required": true, "description": description,
                    "schema": {"type": "string"}})
            };
            section.insert(kind.to_owned(), json!({"post": {
                "summary": description,
                "description": "Signed the Standard Webhooks way; see docs/webhooks.md.",
                "parameters": [
                    header("webhook-id", "`msg_...`: the same on every attempt and redelivery of this event."),
                    header("webhook-timestamp", "Unix seconds of this attempt."),
                    header("webhook-signature", "`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the secret; two, space-separated, during a rotation."),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": schema, "example": body}}},
                "responses": {
                    "2XX": {"description": "Delivered."},
                    "429": {"description": "Tried again after Retry-After (or the schedule's pause, whichever is longer)."},
                    "5XX": {"description": "Tried again on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)."},
                },
            }}));
        }
        match serde_json::from_value::<utoipa::openapi::Paths>(serde_json::Value::Object(section)) {
            Ok(paths) => openapi.webhooks = Some(paths),
            Err(error) => unreachable!("the webhooks section is a valid Paths object: {error}"),
        }
    }
}
