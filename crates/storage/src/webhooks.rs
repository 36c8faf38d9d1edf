use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    webhooks::{
        Attempt, DeliveryRecord, DeliveryState, DueDelivery, Endpoint, Event, NewEndpoint, WebhookSecret, WebhookStore,
    },
};

use crate::{
    Database,
    failure::Failure,
    schema::{webhook_deliveries, webhook_endpoints, webhook_events},
    sealed::SecretKey,
};

/// Webhook endpoints (secrets sealed with the server's [`SecretKey`], bound to the endpoint's id),
/// the event outbox and the deliveries.
#[derive(Debug, Clone)]
pub struct DieselWebhooks {
    db: Database,
    secret: SecretKey,
}

impl DieselWebhooks {
    pub fn new(db: Database, secret: SecretKey) -> Self {
        Self { db, secret }
    }
}

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

/// What a sealed secret is bound to: its endpoint.
fn context(endpoint: &str) -> Vec<u8> {
    format!("garrison webhook_endpoints.secret_sealed {endpoint}").into_bytes()
}

type EndpointRow = (String, i64, String, String, Option<String>, i64);

const ENDPOINT: (
    webhook_endpoints::id,
    webhook_endpoints::server_id,
    webhook_endpoints::url,
    webhook_endpoints::events,
    webhook_endpoints::description,
    webhook_endpoints::created_at,
) = (
    webhook_endpoints::id,
    webhook_endpoints::server_id,
    webhook_endpoints::url,
    webhook_endpoints::events,
    webhook_endpoints::description,
    webhook_endpoints::created_at,
);

fn to_endpoint((id, server, url, events, description, created): EndpointRow) -> Endpoint {
    Endpoint {
        id,
        server: ServerId::from_stored(server),
        url,
        events: events.split_whitespace().map(str::to_owned).collect(),
        description,
        created_at: Timestamp(created),
    }
}

fn state_of(text: &str) -> Result<DeliveryState, Failure> {
    match text {
        "pending" => Ok(DeliveryState::Pending),
        "delivered" => Ok(DeliveryState::Delivered),
        "failed" => Ok(DeliveryState::Failed),
        other => Err(corrupt(format!("webhook_deliveries holds state {other:?}"))),
    }
}

type DeliveryRow = (i64, String, String, String, i32, Option<i64>, Option<i32>, Option<String>, Option<i64>, i64);

impl WebhookStore for DieselWebhooks {
    fn add(&self, new: &NewEndpoint, max: usize) -> Result<bool> {
        let endpoint = new.endpoint.clone();
        let sealed = self
            .secret
            .seal(&context(&endpoint.id), new.secret.bytes())
            .map_err(|e| Error::Store(StoreError::Internal(format!("the webhook secret cannot be sealed: {e}"))))?;
        self.db.write(move |conn| {
            let count: i64 = webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(endpoint.server.get()))
                .count()
                .get_result(conn)?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= max {
                return Ok(false);
            }
            diesel::insert_into(webhook_endpoints::table)
                .values((
                    webhook_endpoints::id.eq(&endpoint.id),
                    webhook_endpoints::server_id.eq(endpoint.server.get()),
                    webhook_endpoints::url.eq(&endpoint.url),
                    webhook_endpoints::events.eq(endpoint.events.join(" ")),
                    webhook_endpoints::description.eq(&endpoint.description),
                    webhook_endpoints::secret_sealed.eq(&sealed),
                    webhook_endpoints::created_at.eq(endpoint.created_at.millis()),
                ))
                .execute(conn)?;
            Ok(true)
        })
    }

    fn list(&self, server: ServerId) -> Result<Vec<Endpoint>> {
        self.db.read(|conn| {
            Ok(webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(server.get()))
                .order((webhook_endpoints::created_at, webhook_endpoints::id))
                .select(ENDPOINT)
                .load::<EndpointRow>(conn)?
                .into_iter()
                .map(to_endpoint)
                .collect())
        })
    }

    fn get(&self, server: ServerId, id: &str) -> Result<Option<Endpoint>> {
        self.db.read(|conn| {
            Ok(webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(server.get()))
                .filter(webhook_endpoints::id.eq(id))
                .select(ENDPOINT)
                .first::<EndpointRow>(conn)
                .optional()?
                .map(to_endpoint))
        })
    }

    fn remove(&self, server: ServerId, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.db.write(move |conn| {
            let gone = diesel::delete(
                webhook_endpoints::table
                    .filter(webhook_endpoints::server_id.eq(server.get()))
                    .filter(webhook_endpoints::id.eq(&id)),
            )
            .execute(conn)?;
            if gone > 0 {
                diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(&id)))
                    .execute(conn)?;
            }
            Ok(gone > 0)
        })
    }

    fn enqueue(&self, event: &Event, only: Option<&str>) -> Result<usize> {
        let event = event.clone();
        let only = only.map(str::to_owned);
        self.db.write(move |conn| {
            let mut query = webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(event.server.get()))
                .select((webhook_endpoints::id, webhook_endpoints::events))
                .into_boxed();
            if let Some(only) = &only {
                query = query.filter(webhook_endpoints::id.eq(only.clone()));
            }
            let targets: Vec<String> = query
                .load::<(String, String)>(conn)?
                .into_iter()
                .filter(|(_, events)| only.is_some() || events.split_whitespace().any(|e| e == event.kind))
                .map(|(id, _)| id)
                .collect();
            if targets.is_empty() {
                return Ok(0);
            }
            diesel::insert_into(webhook_events::table)
                .values((
                    webhook_events::id.eq(&event.id),
                    webhook_events::server_id.eq(event.server.get()),
                    webhook_events::kind.eq(event.kind),
                    webhook_events::body.eq(&event.body),
                    webhook_events::created_at.eq(event.created_at.millis()),
                ))
                .execute(conn)?;
            let at = event.created_at.millis();
            let rows: Vec<_> = targets
                .iter()
                .map(|endpoint| {
                    (
                        webhook_deliveries::event_id.eq(&event.id),
                        webhook_deliveries::endpoint_id.eq(endpoint),
                        webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
                        webhook_deliveries::attempts.eq(0),
                        webhook_deliveries::next_attempt_at.eq(Some(at)),
                        webhook_deliveries::created_at.eq(at),
                        webhook_deliveries::updated_at.eq(at),
                    )
                })
                .collect();
            crate::db::per_backend!(conn, |c| diesel::insert_into(webhook_deliveries::table).values(&rows).execute(c))?;
            Ok(targets.len())
        })
    }

    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<DueDelivery>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.db.read(|conn| {
            Ok(webhook_deliveries::table
                .inner_join(webhook_events::table)
                .inner_join(webhook_endpoints::table)
                .filter(webhook_deliveries::state.eq(DeliveryState::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(now.millis()))
                .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
                .limit(limit)
                .select((
                    webhook_deliveries::id,
                    webhook_events::id,
                    webhook_events::body,
                    webhook_endpoints::id,
                    webhook_endpoints::url,
                    webhook_endpoints::secret_sealed,
                    webhook_deliveries::attempts,
                ))
                .load::<(i64, String, String, String, String, String, i32)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, event_id, body, endpoint, url, sealed, attempts)| {
                let bytes = self.secret.open(&context(&endpoint), &sealed).map_err(|e| {
                    Error::Store(StoreError::Internal(format!("the secret of webhook {endpoint} cannot be read: {e}")))
                })?;
                let secret = bytes.try_into().map(WebhookSecret::from_bytes).map_err(|_| {
                    Error::Store(StoreError::Internal(format!("the secret of webhook {endpoint} is malformed")))
                })?;
                Ok(DueDelivery { id, event_id, body, url, secret, attempts: u32::try_from(attempts).unwrap_or(0) })
            })
            .collect()
    }

    fn attempted(&self, delivery: i64, attempt: &Attempt) -> Result<()> {
        let attempt = attempt.clone();
        self.db.write(move |conn| {
            diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(delivery)))
                .set((
                    webhook_deliveries::state.eq(attempt.state.as_str()),
                    webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                    webhook_deliveries::next_attempt_at.eq(attempt.next_attempt_at.map(Timestamp::millis)),
                    webhook_deliveries::last_status.eq(attempt.status.map(i32::from)),
                    webhook_deliveries::last_error
                        .eq(attempt.error.as_deref().map(|e| e.chars().take(300).collect::<String>())),
                    webhook_deliveries::last_latency_ms.eq(attempt.latency_ms),
                    webhook_deliveries::updated_at.eq(attempt.at.millis()),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn deliveries(&self, server: ServerId, endpoint: &str, limit: usize) -> Result<Vec<DeliveryRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read(|conn| {
            webhook_deliveries::table
                .inner_join(webhook_events::table)
                .filter(webhook_events::server_id.eq(server.get()))
                .filter(webhook_deliveries::endpoint_id.eq(endpoint))
                .order(webhook_deliveries::id.desc())
                .limit(limit)
                .select((
                    webhook_deliveries::id,
                    webhook_events::id,
                    webhook_events::kind,
                    webhook_deliveries::state,
                    webhook_deliveries::attempts,
                    webhook_deliveries::next_attempt_at,
                    webhook_deliveries::last_status,
                    webhook_deliveries::last_error,
                    webhook_deliveries::last_latency_ms,
                    webhook_deliveries::created_at,
                ))
                .load::<DeliveryRow>(conn)?
                .into_iter()
                .map(|(id, event_id, kind, state, attempts, next, status, error, latency, created)| {
                    Ok(DeliveryRecord {
                        id,
                        event_id,
                        kind,
                        state: state_of(&state)?,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                        next_attempt_at: next.map(Timestamp),
                        last_status: status.and_then(|s| u16::try_from(s).ok()),
                        last_error: error,
                        last_latency_ms: latency,
                        created_at: Timestamp(created),
                    })
                })
                .collect()
        })
    }
}
