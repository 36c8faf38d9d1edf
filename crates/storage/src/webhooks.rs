use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    webhooks::{
        Attempt, DeliveryRecord, DeliveryState, DueDelivery, Endpoint, Event, NewEndpoint, Subscription, WebhookSecret,
        WebhookStore,
    },
};

use crate::{
    Database,
    db::AnyConnection,
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

/// What the sealed secret before a rotation is bound to.
fn previous_context(endpoint: &str) -> Vec<u8> {
    format!("garrison webhook_endpoints.previous_secret_sealed {endpoint}").into_bytes()
}

type EndpointRow = (String, i64, String, String, Option<String>, i64, Option<i64>, Option<i64>, Option<i64>);

const ENDPOINT: (
    webhook_endpoints::id,
    webhook_endpoints::server_id,
    webhook_endpoints::url,
    webhook_endpoints::events,
    webhook_endpoints::description,
    webhook_endpoints::created_at,
    webhook_endpoints::failing_since,
    webhook_endpoints::disabled_at,
    webhook_endpoints::previous_until,
) = (
    webhook_endpoints::id,
    webhook_endpoints::server_id,
    webhook_endpoints::url,
    webhook_endpoints::events,
    webhook_endpoints::description,
    webhook_endpoints::created_at,
    webhook_endpoints::failing_since,
    webhook_endpoints::disabled_at,
    webhook_endpoints::previous_until,
);

fn to_endpoint((id, server, url, events, description, created, failing, disabled, previous): EndpointRow) -> Endpoint {
    Endpoint {
        id,
        server: ServerId::from_stored(server),
        url,
        events: events.split_whitespace().map(str::to_owned).collect(),
        description,
        created_at: Timestamp(created),
        failing_since: failing.map(Timestamp),
        disabled_at: disabled.map(Timestamp),
        previous_secret_until: previous.map(Timestamp),
    }
}

impl DieselWebhooks {
    /// Opens a sealed secret of `endpoint` bound to `context`.
    fn open(&self, endpoint: &str, context: &[u8], sealed: &str) -> Result<WebhookSecret> {
        let bytes = self.secret.open(context, sealed).map_err(|e| {
            Error::Store(StoreError::Internal(format!("the secret of webhook {endpoint} cannot be read: {e}")))
        })?;
        bytes
            .try_into()
            .map(WebhookSecret::from_bytes)
            .map_err(|_| Error::Store(StoreError::Internal(format!("the secret of webhook {endpoint} is malformed"))))
    }

    fn seal(&self, context: &[u8], secret: &WebhookSecret) -> Result<String> {
        self.secret
            .seal(context, secret.bytes())
            .map_err(|e| Error::Store(StoreError::Internal(format!("the webhook secret cannot be sealed: {e}"))))
    }
}

/// A pending delivery due at `at` of `event` to `endpoint`.
fn insert_delivery(conn: &mut AnyConnection, event: &str, endpoint: &str, at: i64) -> Result<i64, Failure> {
    let row = (
        webhook_deliveries::event_id.eq(event),
        webhook_deliveries::endpoint_id.eq(endpoint),
        webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(Some(at)),
        webhook_deliveries::created_at.eq(at),
        webhook_deliveries::updated_at.eq(at),
    );
    Ok(crate::db::per_backend!(conn, |c| diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .returning(webhook_deliveries::id)
        .get_result::<i64>(c))?)
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
        let sealed = self.seal(&context(&endpoint.id), &new.secret)?;
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

    fn subscriptions(&self, server: ServerId) -> Result<Vec<Subscription>> {
        // Inside a write job this reads through the job's own connection (the change's transaction).
        self.db.read(move |conn| {
            Ok(webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(server.get()))
                .filter(webhook_endpoints::disabled_at.is_null())
                .order(webhook_endpoints::id)
                .select((webhook_endpoints::id, webhook_endpoints::events))
                .load::<(String, String)>(conn)?
                .into_iter()
                .map(|(endpoint, events)| Subscription {
                    endpoint,
                    events: events.split_whitespace().map(str::to_owned).collect(),
                })
                .collect())
        })
    }

    fn enqueue(&self, event: &Event, endpoints: &[String]) -> Result<()> {
        if endpoints.is_empty() {
            return Ok(());
        }
        let event = event.clone();
        let endpoints = endpoints.to_vec();
        // Part of the change's job, which fails (keeping nothing) if this does: no savepoint of its own.
        self.db.write_in_job(move |conn| {
            diesel::insert_into(webhook_events::table)
                .values((
                    webhook_events::id.eq(&event.id),
                    webhook_events::server_id.eq(event.server.get()),
                    webhook_events::kind.eq(event.kind),
                    webhook_events::body.eq(&event.body),
                    webhook_events::created_at.eq(event.created_at.millis()),
                ))
                .execute(conn)?;
            // One row at a time: a single-row insert is a cached prepared statement, where a batch of
            // varying length would be parsed again for every event (on the writer's path).
            for endpoint in &endpoints {
                insert_delivery(conn, &event.id, endpoint, event.created_at.millis())?;
            }
            Ok(())
        })
    }

    fn claim_due(&self, now: Timestamp, hold_until: Timestamp, limit: usize) -> Result<Vec<DueDelivery>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.db.write(move |conn| {
            let due = webhook_deliveries::table
                .filter(webhook_deliveries::state.eq(DeliveryState::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(now.millis()))
                .filter(
                    webhook_deliveries::endpoint_id.eq_any(
                        webhook_endpoints::table
                            .filter(webhook_endpoints::disabled_at.is_null())
                            .select(webhook_endpoints::id),
                    ),
                )
                .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
                .limit(limit)
                .select(webhook_deliveries::id);
            // Another dispatcher taking deliveries at this moment has them locked: skip those rather
            // than wait, and take the next ones. (SQLite has one writer: nothing to skip.)
            let ids: Vec<i64> = crate::db::load_skipping_locked!(conn, due)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
                .set(webhook_deliveries::next_attempt_at.eq(Some(hold_until.millis())))
                .execute(conn)?;
            Ok(webhook_deliveries::table
                .inner_join(webhook_events::table)
                .inner_join(webhook_endpoints::table)
                .filter(webhook_deliveries::id.eq_any(&ids))
                .order(webhook_deliveries::id)
                .select((
                    webhook_deliveries::id,
                    webhook_events::id,
                    webhook_events::body,
                    webhook_endpoints::id,
                    webhook_endpoints::url,
                    webhook_endpoints::secret_sealed,
                    webhook_endpoints::previous_secret_sealed,
                    webhook_endpoints::previous_until,
                    webhook_deliveries::attempts,
                ))
                .load::<(i64, String, String, String, String, String, Option<String>, Option<i64>, i32)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, event_id, body, endpoint, url, sealed, previous, until, attempts)| {
                let secret = self.open(&endpoint, &context(&endpoint), &sealed)?;
                let previous_secret = match previous.filter(|_| until.is_some_and(|until| until > now.millis())) {
                    Some(sealed) => Some(self.open(&endpoint, &previous_context(&endpoint), &sealed)?),
                    None => None,
                };
                Ok(DueDelivery {
                    id,
                    event_id,
                    body,
                    url,
                    secret,
                    previous_secret,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                })
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
            let endpoint = webhook_endpoints::table.filter(
                webhook_endpoints::id.nullable().eq(webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(delivery))
                    .select(webhook_deliveries::endpoint_id)
                    .single_value()),
            );
            // Only an endpoint whose state changes is written: a delivery to an endpoint that is not
            // failing (the common case) writes nothing here.
            if attempt.state == DeliveryState::Delivered {
                diesel::update(endpoint.filter(webhook_endpoints::failing_since.is_not_null()))
                    .set(webhook_endpoints::failing_since.eq(None::<i64>))
                    .execute(conn)?;
            } else {
                diesel::update(endpoint.filter(webhook_endpoints::failing_since.is_null()))
                    .set(webhook_endpoints::failing_since.eq(Some(attempt.at.millis())))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    fn disable_failing(&self, failing_before: Timestamp, now: Timestamp) -> Result<Vec<String>> {
        self.db.write(move |conn| {
            let ids: Vec<String> = webhook_endpoints::table
                .filter(webhook_endpoints::disabled_at.is_null())
                .filter(webhook_endpoints::failing_since.le(failing_before.millis()))
                .select(webhook_endpoints::id)
                .load(conn)?;
            if ids.is_empty() {
                return Ok(ids);
            }
            diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq_any(&ids)))
                .set(webhook_endpoints::disabled_at.eq(Some(now.millis())))
                .execute(conn)?;
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::endpoint_id.eq_any(&ids))
                    .filter(webhook_deliveries::state.eq(DeliveryState::Pending.as_str())),
            )
            .set((
                webhook_deliveries::state.eq(DeliveryState::Failed.as_str()),
                webhook_deliveries::next_attempt_at.eq(None::<i64>),
                webhook_deliveries::last_error.eq(Some("the endpoint was disabled")),
                webhook_deliveries::updated_at.eq(now.millis()),
            ))
            .execute(conn)?;
            Ok(ids)
        })
    }

    fn enable(&self, server: ServerId, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.db.write(move |conn| {
            let changed = diesel::update(
                webhook_endpoints::table
                    .filter(webhook_endpoints::server_id.eq(server.get()))
                    .filter(webhook_endpoints::id.eq(&id)),
            )
            .set((webhook_endpoints::disabled_at.eq(None::<i64>), webhook_endpoints::failing_since.eq(None::<i64>)))
            .execute(conn)?;
            Ok(changed > 0)
        })
    }

    fn rotate(&self, server: ServerId, id: &str, secret: &WebhookSecret, previous_until: Timestamp) -> Result<bool> {
        let Some(sealed) = self.db.read(|conn| {
            Ok(webhook_endpoints::table
                .filter(webhook_endpoints::server_id.eq(server.get()))
                .filter(webhook_endpoints::id.eq(id))
                .select(webhook_endpoints::secret_sealed)
                .first::<String>(conn)
                .optional()?)
        })?
        else {
            return Ok(false);
        };
        let current = self.open(id, &context(id), &sealed)?;
        let previous = self.seal(&previous_context(id), &current)?;
        let next = self.seal(&context(id), secret)?;
        let id = id.to_owned();
        self.db.write(move |conn| {
            // Only if the secret is still the one read: a rotation in between wins, this one is refused.
            let changed = diesel::update(
                webhook_endpoints::table
                    .filter(webhook_endpoints::server_id.eq(server.get()))
                    .filter(webhook_endpoints::id.eq(&id))
                    .filter(webhook_endpoints::secret_sealed.eq(&sealed)),
            )
            .set((
                webhook_endpoints::secret_sealed.eq(&next),
                webhook_endpoints::previous_secret_sealed.eq(Some(&previous)),
                webhook_endpoints::previous_until.eq(Some(previous_until.millis())),
            ))
            .execute(conn)?;
            Ok(changed > 0)
        })
    }

    fn redeliver(&self, server: ServerId, endpoint: &str, delivery: i64, now: Timestamp) -> Result<Option<i64>> {
        let endpoint = endpoint.to_owned();
        self.db.write(move |conn| {
            let event: Option<String> = webhook_deliveries::table
                .inner_join(webhook_events::table)
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::endpoint_id.eq(&endpoint))
                .filter(webhook_events::server_id.eq(server.get()))
                .select(webhook_events::id)
                .first(conn)
                .optional()?;
            match event {
                Some(event) => Ok(Some(insert_delivery(conn, &event, &endpoint, now.millis())?)),
                None => Ok(None),
            }
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
