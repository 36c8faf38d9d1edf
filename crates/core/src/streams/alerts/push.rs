//! Twitch's push (EventSub over webhooks) for the alert loop: deliveries checked and queued, the
//! events acted on, and the subscriptions kept in step with the watched Twitch streamers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::{AlertService, Group, MAX_QUEUED_EVENTS, PollReport, RESYNC_MS};
use crate::streams::TWITCH_LOGINS_PER_CALL;
use crate::streams::eventsub::{Delivery, EventSubReceiver, Received, Refused, SUBSCRIPTION_TYPES};
use crate::streams::port::{EventSubscription, TwitchEventSub};
use crate::streams::{LiveStream, Liveness, Platform, Secret, StreamError, TwitchCredentials, TwitchLogin};
use crate::threads::run_blocking;
use crate::{Error, Result, Timestamp};

/// How long a broadcaster whose subscription failed is polled instead of subscribed again.
const FAILED_BACKOFF_MS: i64 = 60 * 60_000;
/// Subscriptions created in one round (two per broadcaster); the rest in the next rounds.
const SUBSCRIBES_PER_ROUND: usize = 50;

/// Twitch's push of stream starts and ends (EventSub over webhooks), instead of polling.
pub struct EventSubSettings {
    pub api: Arc<dyn TwitchEventSub>,
    /// Garrison's public callback URL (`https://.../api/Stream/eventsub/twitch?key=...`, the query
    /// naming the secret, so subscriptions signed with an older one are told apart and replaced).
    pub callback: String,
    /// What subscriptions are signed with (10 to 100 characters).
    pub secret: Secret,
}

impl std::fmt::Debug for EventSubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSubSettings").field("callback", &self.callback).finish_non_exhaustive()
    }
}

/// What EventSub's part of the loop remembers.
#[derive(Debug, Default)]
pub(super) struct PushState {
    /// Logins (lower case) → broadcaster ids.
    ids: HashMap<String, String>,
    /// Logins with both subscriptions enabled.
    covered: HashSet<String>,
    /// When the subscriptions were last made to match the watches, and the logins then watched.
    synced: Option<(Timestamp, std::collections::BTreeSet<String>)>,
    /// Broadcasters whose subscription failed (Twitch could not reach or verify the callback, or
    /// gave up delivering), by when: not subscribed again for [`FAILED_BACKOFF_MS`] (polled instead),
    /// so a wrong public URL does not make Garrison ask Twitch to call it round after round.
    failed: HashMap<String, Timestamp>,
}

/// EventSub, when configured.
pub(super) struct Push {
    settings: EventSubSettings,
    receiver: EventSubReceiver,
    credentials: TwitchCredentials,
    state: Mutex<PushState>,
    queue: Mutex<std::collections::VecDeque<Received>>,
}

impl Push {
    /// The logins Twitch pushes (both subscriptions enabled).
    pub(super) fn covered(&self) -> HashSet<String> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).covered.clone()
    }
}

/// What the callback route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Answer the challenge, as is, `text/plain`.
    Challenge(String),
    /// Taken: the loop acts on it shortly.
    Queued,
}

/// Why the callback route refused a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("Twitch EventSub is not enabled (GARRISON_TWITCH_EVENTSUB)")]
    Disabled,
    #[error(transparent)]
    Refused(#[from] Refused),
    /// [`MAX_QUEUED_EVENTS`] wait already: Twitch delivers again later.
    #[error("too many events are waiting; deliver again later")]
    Busy,
}

impl AlertService {
    /// The same loop, told of Twitch streams by EventSub. It needs the service's own Twitch
    /// credentials (subscriptions belong to one application).
    pub fn with_eventsub(mut self, settings: EventSubSettings) -> Result<Self> {
        let credentials = self.streams.configured().twitch.ok_or_else(|| {
            Error::invalid(
                "GARRISON_TWITCH_EVENTSUB",
                "needs GARRISON_TWITCH_CLIENT_ID and GARRISON_TWITCH_CLIENT_SECRET: subscriptions belong to one application",
            )
        })?;
        let receiver = EventSubReceiver::new(settings.secret.clone(), Arc::clone(&self.ports.clock));
        self.push = Some(Push {
            settings,
            receiver,
            credentials,
            state: Mutex::new(PushState::default()),
            queue: Mutex::new(std::collections::VecDeque::new()),
        });
        Ok(self)
    }

    /// A delivery to the EventSub callback: checked (signature, age, replay), then a challenge to
    /// answer or an event queued for [`AlertService::handle_pushed`].
    pub fn accept(&self, delivery: &Delivery<'_>) -> std::result::Result<Accepted, PushError> {
        let push = self.push.as_ref().ok_or(PushError::Disabled)?;
        let mut queue = push.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_QUEUED_EVENTS {
            return Err(PushError::Busy);
        }
        match push.receiver.receive(delivery)? {
            Received::Challenge(challenge) => Ok(Accepted::Challenge(challenge)),
            Received::Other => Ok(Accepted::Queued),
            received => {
                queue.push_back(received);
                Ok(Accepted::Queued)
            }
        }
    }

    /// Acts on the events Twitch pushed since the last call: alerts for streams that started, edits
    /// for those that ended.
    pub async fn handle_pushed(&self) -> Result<PollReport> {
        let mut report = PollReport::default();
        let Some(push) = &self.push else { return Ok(report) };
        let events: Vec<Received> = push.queue.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        if events.is_empty() {
            return Ok(report);
        }
        let Some(bot) = self.bot(&mut report).await else { return Ok(report) };
        for event in events {
            let (login, liveness) = match event {
                Received::Online { login, stream_id, started_at } => {
                    let liveness = self.pushed_stream(push, &login, stream_id, started_at).await;
                    (login, liveness)
                }
                Received::Offline { login } => (login, Liveness::Offline),
                Received::Revoked { subscription, status } => {
                    report.note(format!("Twitch ended EventSub subscription {subscription}: {status}"));
                    let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
                    state.synced = None;
                    state.covered.clear();
                    continue;
                }
                Received::Challenge(_) | Received::Other => continue,
            };
            let store = Arc::clone(&self.ports.watches);
            let key = login.clone();
            let watches =
                run_blocking(&*self.ports.threads, move || store.of_streamer(Platform::Twitch, &key)).await??;
            if watches.is_empty() {
                continue;
            }
            let group = Group { platform: Platform::Twitch, name: login, watches };
            self.state().checked.insert(group.key(), self.ports.clock.now());
            self.alert(&*bot, vec![(&group, Ok(liveness))], &mut report).await?;
        }
        Ok(report)
    }

    /// The stream an `stream.online` event announces, with Helix's title and picture when Helix
    /// already shows it (it can lag the event by a little).
    async fn pushed_stream(
        &self,
        push: &Push,
        login: &str,
        stream_id: String,
        started_at: Option<Timestamp>,
    ) -> Liveness {
        if let Ok(name) = TwitchLogin::parse("login", login)
            && let Ok(found) = self.streams.poll_twitch(&push.credentials, std::slice::from_ref(&name)).await
            && let Some((_, Liveness::Live(stream))) = found.into_iter().next()
            && stream.stream_id.as_deref() == Some(stream_id.as_str())
        {
            return Liveness::Live(stream);
        }
        Liveness::Live(LiveStream { stream_id: Some(stream_id), started_at, ..LiveStream::default() })
    }

    /// Makes Twitch's subscriptions match the watched Twitch streamers: missing ones created, those of
    /// streamers no longer watched (or that failed) deleted. Then and every [`RESYNC_MS`] after.
    pub(super) async fn sync_subscriptions(&self, groups: &[Group], report: &mut PollReport) {
        let Some(push) = &self.push else { return };
        let now = self.ports.clock.now();
        let wanted: std::collections::BTreeSet<String> =
            groups.iter().filter(|g| g.platform == Platform::Twitch).map(|g| g.key().1).collect();
        {
            let state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, logins)) = &state.synced
                && *logins == wanted
                && now.millis() - at.millis() < RESYNC_MS
            {
                return;
            }
        }
        match self.sync(push, &wanted, report).await {
            Ok(done) => {
                let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.synced = done.then_some((now, wanted));
            }
            Err(err) => report.note(format!("Twitch EventSub subscriptions: {err}")),
        }
    }

    /// One pass of [`AlertService::sync_subscriptions`]; `true` when nothing is left to do.
    async fn sync(
        &self,
        push: &Push,
        wanted: &std::collections::BTreeSet<String>,
        report: &mut PollReport,
    ) -> std::result::Result<bool, StreamError> {
        let (api, creds) = (&push.settings.api, &push.credentials);
        let token = self.streams.twitch_app_token(creds).await?;
        let failed = |err| StreamError::Unavailable { platform: Platform::Twitch, reason: format!("{err}") };
        let unknown: Vec<TwitchLogin> = {
            let state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
            wanted
                .iter()
                .filter(|l| !state.ids.contains_key(*l))
                .filter_map(|l| TwitchLogin::parse("l", l).ok())
                .collect()
        };
        for chunk in unknown.chunks(TWITCH_LOGINS_PER_CALL) {
            let users = api.users(&creds.client_id, &token, chunk).await.map_err(failed)?;
            let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
            for user in users {
                state.ids.insert(user.login.to_ascii_lowercase(), user.id);
            }
        }
        let ids: HashMap<String, String> = {
            let state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
            wanted.iter().filter_map(|l| state.ids.get(l).map(|id| (id.clone(), l.clone()))).collect()
        };
        let ours: Vec<EventSubscription> = api
            .subscriptions(&creds.client_id, &token)
            .await
            .map_err(failed)?
            .into_iter()
            .filter(|s| same_route(&s.callback, &push.settings.callback))
            .collect();
        let mut present: HashSet<(String, String)> = HashSet::new();
        let mut enabled: HashMap<String, usize> = HashMap::new();
        for sub in ours {
            // Signed with another secret (the callback names the secret's fingerprint) or failing.
            let healthy = sub.callback == push.settings.callback
                && matches!(sub.status.as_str(), "enabled" | "webhook_callback_verification_pending");
            if !ids.contains_key(&sub.broadcaster_id)
                || !healthy
                || !present.insert((sub.broadcaster_id.clone(), sub.kind.clone()))
            {
                api.unsubscribe(&creds.client_id, &token, &sub.id).await.map_err(failed)?;
                report.unsubscribed += 1;
                if matches!(
                    sub.status.as_str(),
                    "webhook_callback_verification_failed" | "notification_failures_exceeded"
                ) {
                    report.note(format!(
                        "Twitch EventSub {} of broadcaster {}: {}",
                        sub.kind, sub.broadcaster_id, sub.status
                    ));
                    let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
                    state.failed.insert(sub.broadcaster_id.clone(), self.ports.clock.now());
                }
            } else if sub.status == "enabled" {
                *enabled.entry(sub.broadcaster_id.clone()).or_default() += 1;
            }
        }
        let mut left = SUBSCRIBES_PER_ROUND;
        let mut done = true;
        let now = self.ports.clock.now();
        let backing_off: HashSet<String> = {
            let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.failed.retain(|_, at| now.millis() - at.millis() < FAILED_BACKOFF_MS);
            state.failed.keys().cloned().collect()
        };
        for id in ids.keys().filter(|id| !backing_off.contains(*id)) {
            for kind in SUBSCRIPTION_TYPES {
                if present.contains(&(id.clone(), kind.to_owned())) {
                    continue;
                }
                if left == 0 {
                    done = false;
                    continue;
                }
                left -= 1;
                let secret = &push.settings.secret;
                match api.subscribe(&creds.client_id, &token, kind, id, &push.settings.callback, secret).await {
                    Ok(_) => report.subscribed += 1,
                    Err(err) => report.note(format!("Twitch EventSub {kind} of broadcaster {id}: {err}")),
                }
            }
        }
        let mut state = push.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.covered = ids
            .iter()
            .filter(|(id, _)| enabled.get(*id).copied().unwrap_or(0) >= SUBSCRIPTION_TYPES.len())
            .map(|(_, login)| login.clone())
            .collect();
        // Subscriptions still waiting for their verification are looked at again next round.
        Ok(done && state.covered.len() == ids.len())
    }
}

/// Whether two callback URLs are the same route (whatever their query says).
fn same_route(a: &str, b: &str) -> bool {
    a.split('?').next() == b.split('?').next()
}
