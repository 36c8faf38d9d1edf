use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    schema::{webhook_deliveries, webhook_endpoints, webhook_events, webhook_outbox},
    sealed::SecretKey,
};

/// Webhook endpoints (secrets sealed with the server's [`SecretKey`], bound to the endpoint's id),
/// the outbox the changes append their events to, and the events and deliveries the dispatcher makes
/// of them.
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

    /// The deliveries to send, their endpoints' secrets opened (once per endpoint).
    fn to_send(&self, rows: Vec<ToSend>, now: Timestamp) -> Result<Vec<DueDelivery>> {
        let mut opened: HashMap<String, (WebhookSecret, Option<WebhookSecret>)> = HashMap::new();
        let mut due = Vec::with_capacity(rows.len());
        for ToSend { id, event_id, body, endpoint, url, sealed, previous, previous_until, attempts } in rows {
            let (secret, previous_secret) = match opened.get(&endpoint) {
                Some(known) => known.clone(),
                None => {
                    let secret = self.open(&endpoint, &context(&endpoint), &sealed)?;
                    let honoured = previous.filter(|_| previous_until.is_some_and(|until| until > now.millis()));
                    let previous = match honoured {
                        Some(sealed) => Some(self.open(&endpoint, &previous_context(&endpoint), &sealed)?),
                        None => None,
                    };
                    opened.insert(endpoint, (secret.clone(), previous.clone()));
                    (secret, previous)
                }
            };
            due.push(DueDelivery {
                id,
                event_id,
                body,
                url,
                secret,
                previous_secret,
                attempts: u32::try_from(attempts).unwrap_or(0),
            });
        }
        Ok(due)
    }

    fn seal(&self, context: &[u8], secret: &WebhookSecret) -> Result<String> {
        self.secret
            .seal(context, secret.bytes())
            .map_err(|e| Error::Store(StoreError::Internal(format!("the webhook secret cannot be sealed: {e}"))))
    }
}

/// A delivery about to be sent, as read: its endpoint's secrets still sealed.
struct ToSend {
    id: i64,
    event_id: String,
    body: String,
    endpoint: String,
    url: String,
    sealed: String,
    previous: Option<String>,
    previous_until: Option<i64>,
    attempts: i32,
}

/// An event in the outbox: seq, id, server, kind, body, endpoints, created.
type OutboxRow = (i64, String, i64, String, String, String, i64);

/// An endpoint as the dispatcher needs it: server, URL, secret, previous secret and until when.
type Sending = (i64, String, String, Option<String>, Option<i64>);

/// A pending delivery of `event` to `endpoint`, made at `at` and due at `due`.
fn insert_delivery(conn: &mut AnyConnection, event: &str, endpoint: &str, at: i64, due: i64) -> Result<i64, Failure> {
    let row = (
        webhook_deliveries::event_id.eq(event),
        webhook_deliveries::endpoint_id.eq(endpoint),
        webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(Some(due)),
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

/// What a round's attempts leave of an endpoint's failing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failing {
    /// Its last attempt succeeded: not failing.
    No,
    /// Only failures: failing since the first of them, unless it was failing already.
    SinceIfNot(i64),
    /// A success, then failures: failing since the first failure after the last success.
    Since(i64),
}

impl Failing {
    /// `before`, then `attempt`.
    fn after(before: Option<Self>, attempt: &Attempt) -> Self {
        match (attempt.state, before) {
            (DeliveryState::Delivered, _) => Self::No,
            (_, None) => Self::SinceIfNot(attempt.at.millis()),
            (_, Some(Self::No)) => Self::Since(attempt.at.millis()),
            (_, Some(failing)) => failing,
        }
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
        let row = (
            webhook_outbox::event_id.eq(event.id.clone()),
            webhook_outbox::server_id.eq(event.server.get()),
            webhook_outbox::kind.eq(event.kind),
            webhook_outbox::body.eq(event.body.clone()),
            webhook_outbox::endpoints.eq(endpoints.join(" ")),
            webhook_outbox::created_at.eq(event.created_at.millis()),
        );
        // Part of the change's job, which fails (keeping nothing) if this does: no savepoint of its own.
        self.db.write_in_job(move |conn| {
            diesel::insert_into(webhook_outbox::table).values(row).execute(conn)?;
            Ok(())
        })
    }

    fn fan_out(&self, now: Timestamp, hold_until: Timestamp, limit: usize) -> Result<Vec<DueDelivery>> {
        let batch = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self.db.write(move |conn| {
            let oldest = webhook_outbox::table.order(webhook_outbox::seq).limit(batch).select((
                webhook_outbox::seq,
                webhook_outbox::event_id,
                webhook_outbox::server_id,
                webhook_outbox::kind,
                webhook_outbox::body,
                webhook_outbox::endpoints,
                webhook_outbox::created_at,
            ));
            // Events another dispatcher is taking at this moment are locked: skip them, take the next.
            let read: Vec<OutboxRow> = crate::db::load_skipping_locked!(conn, oldest)?;
            let (mut taken, mut deliveries) = (Vec::with_capacity(read.len()), 0);
            for event in read {
                let count = event.5.split_whitespace().count();
                if !taken.is_empty() && deliveries + count > limit {
                    break;
                }
                deliveries += count;
                taken.push(event);
            }
            if taken.is_empty() {
                return Ok(Vec::new());
            }
            let named: BTreeSet<&str> = taken.iter().flat_map(|event| event.5.split_whitespace()).collect();
            let live: HashMap<String, Sending> = webhook_endpoints::table
                .filter(webhook_endpoints::id.eq_any(&named))
                .filter(webhook_endpoints::disabled_at.is_null())
                .select((
                    webhook_endpoints::id,
                    (
                        webhook_endpoints::server_id,
                        webhook_endpoints::url,
                        webhook_endpoints::secret_sealed,
                        webhook_endpoints::previous_secret_sealed,
                        webhook_endpoints::previous_until,
                    ),
                ))
                .load::<(String, Sending)>(conn)?
                .into_iter()
                .collect();
            let mut to_send = Vec::with_capacity(deliveries);
            for (_, event_id, server, kind, body, endpoints, created) in &taken {
                diesel::insert_into(webhook_events::table)
                    .values((
                        webhook_events::id.eq(event_id),
                        webhook_events::server_id.eq(server),
                        webhook_events::kind.eq(kind),
                        webhook_events::body.eq(body),
                        webhook_events::created_at.eq(created),
                    ))
                    .execute(conn)?;
                // An endpoint removed or disabled since the change gets no delivery.
                for endpoint in endpoints.split_whitespace() {
                    let Some((owner, url, sealed, previous, previous_until)) = live.get(endpoint) else { continue };
                    if owner != server {
                        continue;
                    }
                    let id = insert_delivery(conn, event_id, endpoint, *created, hold_until.millis())?;
                    to_send.push(ToSend {
                        id,
                        event_id: event_id.clone(),
                        body: body.clone(),
                        endpoint: endpoint.to_owned(),
                        url: url.clone(),
                        sealed: sealed.clone(),
                        previous: previous.clone(),
                        previous_until: *previous_until,
                        attempts: 0,
                    });
                }
            }
            let seqs: Vec<i64> = taken.iter().map(|event| event.0).collect();
            diesel::delete(webhook_outbox::table.filter(webhook_outbox::seq.eq_any(&seqs))).execute(conn)?;
            Ok(to_send)
        })?;
        self.to_send(rows, now)
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
                .load::<(i64, String, String, String, String, String, Option<String>, Option<i64>, i32)>(conn)?
                .into_iter()
                .map(|(id, event_id, body, endpoint, url, sealed, previous, previous_until, attempts)| ToSend {
                    id,
                    event_id,
                    body,
                    endpoint,
                    url,
                    sealed,
                    previous,
                    previous_until,
                    attempts,
                })
                .collect())
        })?;
        self.to_send(rows, now)
    }

    fn attempted(&self, attempts: &[(i64, Attempt)]) -> Result<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let attempts = attempts.to_vec();
        self.db.write(move |conn| {
            for (delivery, attempt) in &attempts {
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
            }
            let mut owners: HashMap<i64, String> = HashMap::with_capacity(attempts.len());
            for part in attempts.chunks(500) {
                let ids: Vec<i64> = part.iter().map(|(delivery, _)| *delivery).collect();
                owners.extend(
                    webhook_deliveries::table
                        .filter(webhook_deliveries::id.eq_any(&ids))
                        .select((webhook_deliveries::id, webhook_deliveries::endpoint_id))
                        .load::<(i64, String)>(conn)?,
                );
            }
            // What the attempts, in order, leave of each endpoint's failing state; then one write per
            // endpoint whose state changes (none for an endpoint that is not failing and succeeded).
            let mut effects: BTreeMap<&str, Failing> = BTreeMap::new();
            for (delivery, attempt) in &attempts {
                let Some(endpoint) = owners.get(delivery) else { continue };
                let effect = effects.get(endpoint.as_str()).copied();
                effects.insert(endpoint, Failing::after(effect, attempt));
            }
            for (endpoint, effect) in effects {
                let endpoint = webhook_endpoints::table.filter(webhook_endpoints::id.eq(endpoint));
                match effect {
                    Failing::No => diesel::update(endpoint.filter(webhook_endpoints::failing_since.is_not_null()))
                        .set(webhook_endpoints::failing_since.eq(None::<i64>))
                        .execute(conn)?,
                    Failing::SinceIfNot(at) => {
                        diesel::update(endpoint.filter(webhook_endpoints::failing_since.is_null()))
                            .set(webhook_endpoints::failing_since.eq(Some(at)))
                            .execute(conn)?
                    }
                    Failing::Since(at) => {
                        diesel::update(endpoint).set(webhook_endpoints::failing_since.eq(Some(at))).execute(conn)?
                    }
                };
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
                Some(event) => Ok(Some(insert_delivery(conn, &event, &endpoint, now.millis(), now.millis())?)),
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
