//! In-memory implementations of the storage ports, following garrison-core's rules, for testing the
//! services without a database. The storage contract suite (`crates/storage/tests/contract.rs`) runs
//! the same tests on these fakes and on the diesel adapters.

use std::{collections::BTreeMap, sync::Mutex};

use garrison_core::{
    ApiKeyId, Error, MemberKey, Result, RobloxUserId, ServerId, Timestamp,
    apikey::{ApiKey, KeyHash, NewApiKey},
    booster::BoosterRole,
    catalogue::{AwardedCertification, AwardedMedal, Certification, CertificationRef, Description, Medal, Name},
    discord::Snowflake,
    ep::{Company, EpCursor, EpEntry, EpPolicy},
    idempotency::{self, RememberedAnswer, Repeat},
    loa::Loa,
    ports::{ApiKeys, BoosterRoles, Certifications, EpLedger, HealthCheck, LoaRecords, Medals, XpLedger},
    roblox::verification::{CodeChallenge, Link, LinkMethod},
    xp::{self, HistoryPage, LeaderboardPage, LeaderboardRow, LeaderboardStart, XpEntry, XpMutation, XpOutcome},
};

type Key = (i64, i64);

fn key(member: MemberKey) -> Key {
    (member.server.get(), member.member.get())
}

#[derive(Debug, Default)]
struct State {
    balances: BTreeMap<Key, i64>,
    ledger: Vec<(ServerId, XpEntry)>,
    /// Idempotency keys by `(API key, route, key)`, as the storage's uniqueness constraint scopes them.
    idempotency: BTreeMap<(i64, &'static str, String), RememberedAnswer>,
    ep: Vec<(Key, Company, i64, Timestamp)>,
    policies: BTreeMap<i64, EpPolicy>,
    loas: BTreeMap<Key, Vec<Loa>>,
    medals: BTreeMap<(i64, String), Medal>,
    medal_awards: BTreeMap<(i64, String, i64), Timestamp>,
    certifications: BTreeMap<(i64, String), Certification>,
    certification_awards: BTreeMap<(i64, String, i64), Timestamp>,
    /// Keyed by `(guild, user)`: one custom role per booster.
    booster_roles: BTreeMap<(ServerId, Snowflake), BoosterRole>,
    /// Moderation-log subjects by view id, each with its profile and all its entries (oldest first;
    /// the port answers a page of them).
    modlog_histories: BTreeMap<garrison_core::modlog::ViewId, garrison_core::modlog::History>,
    /// The view id of each moderation-log subject.
    modlog_views: BTreeMap<garrison_core::modlog::Subject, garrison_core::modlog::ViewId>,
    /// The last case number of each bot in each guild.
    modlog_cases: BTreeMap<(Snowflake, ServerId), i64>,
    /// API keys in the order they were created (a key's id is its place, from 1), with their hashes.
    api_keys: Vec<(KeyHash, ApiKey)>,
    /// Each server's Roblox settings.
    roblox: BTreeMap<ServerId, garrison_core::roblox::RobloxConfig>,
    /// Discord-Roblox links by Discord user, the links that ended (with when), pending codes.
    links: BTreeMap<Snowflake, Link>,
    link_history: Vec<(Link, Timestamp)>,
    challenges: BTreeMap<(ServerId, Snowflake), CodeChallenge>,
    binds: BTreeMap<ServerId, Vec<garrison_core::roblox::binds::RankBind>>,
    /// Started sign-in flows by state hash.
    flows: BTreeMap<String, garrison_core::roblox::signin::SignInFlow>,
    /// Backups' records by view id.
    backups: BTreeMap<garrison_core::view_id::ViewId, garrison_core::backups::BackupRecord>,
    /// Servers granted premium features, with when.
    premium: BTreeMap<ServerId, Timestamp>,
    /// Restore jobs by id.
    restore_jobs: BTreeMap<String, MemoryJob>,
    /// Stream watches by id, and the last id given.
    watches: BTreeMap<i64, garrison_core::streams::watches::Watch>,
    last_watch: i64,
    /// Servers' stream credentials.
    stream_keys: BTreeMap<ServerId, garrison_core::streams::watches::ServerStreamKeys>,
    /// Webhook endpoints by id, with their secrets; events by id; deliveries by id.
    webhooks: BTreeMap<String, MemoryEndpoint>,
    webhook_events: BTreeMap<String, garrison_core::webhooks::Event>,
    /// Events the changes wrote, not yet fanned out: the event and the endpoints it names.
    webhook_outbox: std::collections::VecDeque<(garrison_core::webhooks::Event, Vec<String>)>,
    webhook_deliveries: BTreeMap<i64, MemoryDelivery>,
    /// Live alerts by id: the alert, whether it ended.
    alerts: BTreeMap<i64, (garrison_core::streams::alerts::Alert, bool)>,
    last_alert: i64,
}

/// A webhook endpoint as the memory store keeps it.
#[derive(Debug, Clone)]
struct MemoryEndpoint {
    endpoint: garrison_core::webhooks::Endpoint,
    secret: garrison_core::webhooks::WebhookSecret,
    /// The secret before the latest rotation.
    previous: Option<garrison_core::webhooks::WebhookSecret>,
}

/// A webhook delivery as the memory store keeps it.
#[derive(Debug, Clone)]
struct MemoryDelivery {
    event: String,
    endpoint: String,
    record: garrison_core::webhooks::DeliveryRecord,
}

/// A restore job as the memory store keeps it.
#[derive(Debug)]
struct MemoryJob {
    job: garrison_core::backups::Job,
    /// Forgotten when the job finishes.
    token: Option<garrison_core::discord::BotToken>,
    holder: garrison_core::view_id::ViewId,
    lease_until: Timestamp,
    placed: BTreeMap<garrison_core::backups::format::Id, garrison_core::backups::format::Id>,
}

/// Every record port, in memory, behind one lock.
#[derive(Debug, Default)]
pub struct MemoryRecords {
    state: Mutex<State>,
}

impl MemoryRecords {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state)
    }

    /// Sets a member's balance as it stands, with no ledger entry: what a test seeds directly into a
    /// database (to reach the top of the range without millions of requests).
    pub fn set_balance(&self, member: MemberKey, xp: i64) {
        self.with(|s| s.balances.insert(key(member), xp));
    }
}

/// Always ready: memory does not go away.
impl HealthCheck for MemoryRecords {
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

impl garrison_core::roblox::RobloxConfigs for MemoryRecords {
    fn get(&self, server: ServerId) -> Result<Option<garrison_core::roblox::RobloxConfig>> {
        Ok(self.with(|s| s.roblox.get(&server).cloned()))
    }

    fn set(&self, server: ServerId, config: &garrison_core::roblox::RobloxConfig, _at: Timestamp) -> Result<()> {
        self.with(|s| s.roblox.insert(server, config.clone()));
        Ok(())
    }
}

impl MemoryRecords {
    /// Registers an endpoint of `server` subscribed to every event type: what tests of a service's
    /// events read back with [`MemoryRecords::events`].
    pub fn subscribe_all(&self, server: ServerId) {
        use garrison_core::webhooks::{EVENT_TYPES, Endpoint, NewEndpoint, WebhookSecret, WebhookStore};
        let id = format!("wh_{}", server.get());
        let endpoint = Endpoint {
            id,
            server,
            url: "https://hooks.example/".into(),
            events: EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
            description: None,
            created_at: Timestamp(0),
            failing_since: None,
            disabled_at: None,
            previous_secret_until: None,
        };
        let new = NewEndpoint { endpoint, secret: WebhookSecret::from_bytes([1; 32]) };
        let added = WebhookStore::add(self, &new, usize::MAX);
        assert!(added.is_ok_and(|added| added), "one endpoint per server");
    }

    /// The bodies of the events recorded so far, oldest first.
    pub fn events(&self) -> Vec<String> {
        self.with(|s| {
            let mut seen = std::collections::BTreeSet::new();
            s.webhook_deliveries
                .values()
                .filter(|d| seen.insert(d.event.clone()))
                .filter_map(|d| s.webhook_events.get(&d.event).map(|e| e.body.clone()))
                .chain(s.webhook_outbox.iter().map(|(event, _)| event.body.clone()))
                .collect()
        })
    }

    /// The links that ended, oldest first, with when (what the database keeps as history).
    pub fn link_history(&self) -> Vec<(Link, Timestamp)> {
        self.with(|s| s.link_history.clone())
    }
}

impl garrison_core::roblox::RobloxLinks for MemoryRecords {
    fn by_roblox(&self, roblox: RobloxUserId) -> Result<Option<Link>> {
        Ok(self.with(|s| s.links.values().find(|l| l.roblox == roblox).cloned()))
    }

    fn by_discord(&self, discord: Snowflake) -> Result<Option<Link>> {
        Ok(self.with(|s| s.links.get(&discord).cloned()))
    }

    fn link(&self, link: &Link, spare_oauth: bool) -> Result<bool> {
        self.with(|s| {
            let current: Vec<Link> =
                s.links.values().filter(|l| l.discord == link.discord || l.roblox == link.roblox).cloned().collect();
            if spare_oauth && current.iter().any(|l| l.method == LinkMethod::OAuth) {
                return Ok(false);
            }
            for ended in current {
                s.links.remove(&ended.discord);
                s.link_history.push((ended, link.linked_at));
            }
            s.links.insert(link.discord, link.clone());
            Ok(true)
        })
    }

    fn unlink(&self, discord: Snowflake, at: Timestamp) -> Result<Option<Link>> {
        Ok(self.with(|s| {
            let ended = s.links.remove(&discord)?;
            s.link_history.push((ended.clone(), at));
            Some(ended)
        }))
    }

    fn put_challenge(&self, challenge: &CodeChallenge) -> Result<()> {
        self.with(|s| s.challenges.insert((challenge.server, challenge.discord), challenge.clone()));
        Ok(())
    }

    fn challenge(&self, server: ServerId, discord: Snowflake) -> Result<Option<CodeChallenge>> {
        Ok(self.with(|s| s.challenges.get(&(server, discord)).cloned()))
    }

    fn drop_challenge(&self, server: ServerId, discord: Snowflake) -> Result<()> {
        self.with(|s| s.challenges.remove(&(server, discord)));
        Ok(())
    }
}

impl garrison_core::streams::watches::StreamWatches for MemoryRecords {
    fn add(
        &self,
        watch: &garrison_core::streams::watches::NewWatch,
        at: Timestamp,
        max: usize,
    ) -> Result<garrison_core::streams::watches::Added> {
        use garrison_core::streams::watches::{Added, Watch};
        Ok(self.with(|s| {
            let same = s.watches.values().find(|w| {
                w.server == watch.server
                    && w.platform == watch.platform
                    && w.key() == watch.streamer.to_ascii_lowercase()
                    && w.channel == watch.channel
            });
            if let Some(same) = same {
                return Added::Exists(same.clone());
            }
            if s.watches.values().filter(|w| w.server == watch.server).count() >= max {
                return Added::Full;
            }
            s.last_watch += 1;
            let added = Watch {
                id: s.last_watch,
                server: watch.server,
                platform: watch.platform,
                streamer: watch.streamer.clone(),
                channel: watch.channel,
                message: watch.message.clone(),
                mention_role: watch.mention_role,
                created_at: at,
            };
            s.watches.insert(added.id, added.clone());
            Added::Added(added)
        }))
    }

    fn list(&self, server: ServerId) -> Result<Vec<garrison_core::streams::watches::Watch>> {
        Ok(self.with(|s| s.watches.values().filter(|w| w.server == server).cloned().collect()))
    }

    fn remove(&self, server: ServerId, id: i64) -> Result<bool> {
        Ok(self.with(|s| match s.watches.get(&id) {
            Some(watch) if watch.server == server => {
                s.alerts.retain(|_, (alert, _)| alert.watch != id);
                s.watches.remove(&id).is_some()
            }
            _ => false,
        }))
    }

    fn of_streamer(
        &self,
        platform: garrison_core::streams::Platform,
        key: &str,
    ) -> Result<Vec<garrison_core::streams::watches::Watch>> {
        Ok(self.with(|s| s.watches.values().filter(|w| w.platform == platform && w.key() == key).cloned().collect()))
    }

    fn page(&self, after: i64, limit: usize) -> Result<Vec<garrison_core::streams::watches::Watch>> {
        Ok(self.with(|s| s.watches.range(after.saturating_add(1)..).take(limit).map(|(_, w)| w.clone()).collect()))
    }
}

impl garrison_core::webhooks::WebhookStore for MemoryRecords {
    fn add(&self, new: &garrison_core::webhooks::NewEndpoint, max: usize) -> Result<bool> {
        Ok(self.with(|s| {
            if s.webhooks.values().filter(|e| e.endpoint.server == new.endpoint.server).count() >= max {
                return false;
            }
            let kept = MemoryEndpoint { endpoint: new.endpoint.clone(), secret: new.secret.clone(), previous: None };
            s.webhooks.insert(new.endpoint.id.clone(), kept);
            true
        }))
    }

    fn list(&self, server: ServerId) -> Result<Vec<garrison_core::webhooks::Endpoint>> {
        Ok(self.with(|s| {
            let mut found: Vec<_> =
                s.webhooks.values().filter(|e| e.endpoint.server == server).map(|e| e.endpoint.clone()).collect();
            found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            found
        }))
    }

    fn get(&self, server: ServerId, id: &str) -> Result<Option<garrison_core::webhooks::Endpoint>> {
        Ok(self.with(|s| s.webhooks.get(id).filter(|e| e.endpoint.server == server).map(|e| e.endpoint.clone())))
    }

    fn remove(&self, server: ServerId, id: &str) -> Result<bool> {
        Ok(self.with(|s| {
            if s.webhooks.get(id).is_none_or(|e| e.endpoint.server != server) {
                return false;
            }
            s.webhooks.remove(id);
            s.webhook_deliveries.retain(|_, d| d.endpoint != id);
            true
        }))
    }

    fn subscriptions(&self, server: ServerId) -> Result<Vec<garrison_core::webhooks::Subscription>> {
        Ok(self.with(|s| {
            let mut found: Vec<_> = s
                .webhooks
                .values()
                .map(|e| &e.endpoint)
                .filter(|e| e.server == server && e.disabled_at.is_none())
                .map(|e| garrison_core::webhooks::Subscription { endpoint: e.id.clone(), events: e.events.clone() })
                .collect();
            found.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
            found
        }))
    }

    fn enqueue(&self, event: &garrison_core::webhooks::Event, endpoints: &[String]) -> Result<()> {
        self.with(|s| {
            if !endpoints.is_empty() {
                s.webhook_outbox.push_back((event.clone(), endpoints.to_vec()));
            }
        });
        Ok(())
    }

    fn fan_out(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<garrison_core::webhooks::DueDelivery>> {
        use garrison_core::webhooks::DueDelivery;
        Ok(self.with(|s| {
            let mut sent: Vec<DueDelivery> = Vec::new();
            let mut first = true;
            while let Some((_, endpoints)) = s.webhook_outbox.front() {
                if !first && sent.len() + endpoints.len() > limit {
                    break;
                }
                first = false;
                let Some((event, endpoints)) = s.webhook_outbox.pop_front() else { break };
                s.webhook_events.insert(event.id.clone(), event.clone());
                for endpoint in &endpoints {
                    let Some(kept) = s.webhooks.get(endpoint) else { continue };
                    if kept.endpoint.disabled_at.is_some() || kept.endpoint.server != event.server {
                        continue;
                    }
                    let honoured = kept.endpoint.previous_secret_until.is_some_and(|until| until > now);
                    let delivery = DueDelivery {
                        id: 0,
                        event_id: event.id.clone(),
                        body: event.body.clone(),
                        url: kept.endpoint.url.clone(),
                        secret: kept.secret.clone(),
                        previous_secret: kept.previous.clone().filter(|_| honoured),
                        attempts: 0,
                    };
                    let id = s.new_delivery(&event.id, event.kind, endpoint, event.created_at, hold_until);
                    sent.push(DueDelivery { id, ..delivery });
                }
            }
            sent
        }))
    }

    fn claim_due(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<garrison_core::webhooks::DueDelivery>> {
        use garrison_core::webhooks::{DeliveryState, DueDelivery};
        Ok(self.with(|s| {
            let mut due: Vec<(Option<Timestamp>, i64)> = s
                .webhook_deliveries
                .values()
                .filter(|d| {
                    d.record.state == DeliveryState::Pending
                        && d.record.next_attempt_at.is_some_and(|at| at <= now)
                        && s.webhooks.get(&d.endpoint).is_some_and(|e| e.endpoint.disabled_at.is_none())
                })
                .map(|d| (d.record.next_attempt_at, d.record.id))
                .collect();
            due.sort();
            due.truncate(limit);
            let mut claimed = Vec::with_capacity(due.len());
            for (_, id) in due {
                let Some(d) = s.webhook_deliveries.get_mut(&id) else { continue };
                d.record.next_attempt_at = Some(hold_until);
                let (Some(endpoint), Some(event)) = (s.webhooks.get(&d.endpoint), s.webhook_events.get(&d.event))
                else {
                    continue;
                };
                let honoured = endpoint.endpoint.previous_secret_until.is_some_and(|until| until > now);
                claimed.push(DueDelivery {
                    id,
                    event_id: event.id.clone(),
                    body: event.body.clone(),
                    url: endpoint.endpoint.url.clone(),
                    secret: endpoint.secret.clone(),
                    previous_secret: endpoint.previous.clone().filter(|_| honoured),
                    attempts: d.record.attempts,
                });
            }
            claimed
        }))
    }

    fn attempted(&self, attempts: &[(i64, garrison_core::webhooks::Attempt)]) -> Result<()> {
        use garrison_core::webhooks::DeliveryState;
        self.with(|s| {
            for (delivery, attempt) in attempts {
                let Some(d) = s.webhook_deliveries.get_mut(delivery) else { continue };
                d.record.state = attempt.state;
                d.record.attempts += 1;
                d.record.next_attempt_at = attempt.next_attempt_at;
                d.record.last_status = attempt.status;
                d.record.last_error = attempt.error.clone();
                d.record.last_latency_ms = Some(attempt.latency_ms);
                if let Some(endpoint) = s.webhooks.get_mut(&d.endpoint) {
                    endpoint.endpoint.failing_since = match attempt.state {
                        DeliveryState::Delivered => None,
                        _ => endpoint.endpoint.failing_since.or(Some(attempt.at)),
                    };
                }
            }
        });
        Ok(())
    }

    fn disable_failing(&self, failing_before: Timestamp, now: Timestamp) -> Result<Vec<String>> {
        use garrison_core::webhooks::DeliveryState;
        Ok(self.with(|s| {
            let mut disabled = Vec::new();
            for endpoint in s.webhooks.values_mut().map(|e| &mut e.endpoint) {
                if endpoint.disabled_at.is_none() && endpoint.failing_since.is_some_and(|at| at <= failing_before) {
                    endpoint.disabled_at = Some(now);
                    disabled.push(endpoint.id.clone());
                }
            }
            for d in s.webhook_deliveries.values_mut() {
                if disabled.contains(&d.endpoint) && d.record.state == DeliveryState::Pending {
                    d.record.state = DeliveryState::Failed;
                    d.record.next_attempt_at = None;
                    d.record.last_error = Some("the endpoint was disabled".into());
                }
            }
            disabled
        }))
    }

    fn enable(&self, server: ServerId, id: &str) -> Result<bool> {
        Ok(self.with(|s| match s.webhooks.get_mut(id).filter(|e| e.endpoint.server == server) {
            Some(e) => {
                e.endpoint.disabled_at = None;
                e.endpoint.failing_since = None;
                true
            }
            None => false,
        }))
    }

    fn rotate(
        &self,
        server: ServerId,
        id: &str,
        secret: &garrison_core::webhooks::WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<bool> {
        Ok(self.with(|s| match s.webhooks.get_mut(id).filter(|e| e.endpoint.server == server) {
            Some(e) => {
                e.previous = Some(std::mem::replace(&mut e.secret, secret.clone()));
                e.endpoint.previous_secret_until = Some(previous_until);
                true
            }
            None => false,
        }))
    }

    fn redeliver(&self, server: ServerId, endpoint: &str, delivery: i64, now: Timestamp) -> Result<Option<i64>> {
        Ok(self.with(|s| {
            let d = s.webhook_deliveries.get(&delivery).filter(|d| d.endpoint == endpoint)?;
            let event = s.webhook_events.get(&d.event).filter(|e| e.server == server)?;
            let (id, kind) = (event.id.clone(), event.kind);
            Some(s.new_delivery(&id, kind, endpoint, now, now))
        }))
    }

    fn deliveries(
        &self,
        server: ServerId,
        endpoint: &str,
        limit: usize,
    ) -> Result<Vec<garrison_core::webhooks::DeliveryRecord>> {
        Ok(self.with(|s| {
            s.webhook_deliveries
                .values()
                .rev()
                .filter(|d| {
                    d.endpoint == endpoint && s.webhook_events.get(&d.event).is_some_and(|e| e.server == server)
                })
                .take(limit)
                .map(|d| d.record.clone())
                .collect()
        }))
    }
}

impl State {
    /// A pending delivery of the event to the endpoint, due at `at`; its id.
    /// A pending delivery of `event` to `endpoint`, made at `at` and due at `due`.
    fn new_delivery(&mut self, event: &str, kind: &str, endpoint: &str, at: Timestamp, due: Timestamp) -> i64 {
        use garrison_core::webhooks::{DeliveryRecord, DeliveryState};
        let id = self.webhook_deliveries.keys().next_back().map_or(1, |last| last + 1);
        let record = DeliveryRecord {
            id,
            event_id: event.to_owned(),
            kind: kind.to_owned(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: Some(due),
            last_status: None,
            last_error: None,
            last_latency_ms: None,
            created_at: at,
        };
        self.webhook_deliveries
            .insert(id, MemoryDelivery { event: event.to_owned(), endpoint: endpoint.to_owned(), record });
        id
    }
}

impl garrison_core::streams::alerts::StreamAlerts for MemoryRecords {
    fn claim(&self, alert: &garrison_core::streams::alerts::NewAlert, at: Timestamp) -> Result<Option<i64>> {
        Ok(self.with(|s| {
            let taken = s.alerts.values().any(|(a, _)| a.watch == alert.watch && a.stream_id == alert.stream_id);
            if taken || !s.watches.contains_key(&alert.watch) {
                return None;
            }
            s.last_alert += 1;
            let claimed = garrison_core::streams::alerts::Alert {
                id: s.last_alert,
                watch: alert.watch,
                stream_id: alert.stream_id.clone(),
                channel: alert.channel,
                message: None,
                title: alert.title.clone(),
                started_at: alert.started_at,
                posted_at: at,
            };
            s.alerts.insert(claimed.id, (claimed, false));
            Some(s.last_alert)
        }))
    }

    fn posted(&self, id: i64, message: garrison_core::discord::Snowflake) -> Result<()> {
        self.with(|s| s.alerts.get_mut(&id).map(|(alert, _)| alert.message = Some(message)));
        Ok(())
    }

    fn failed(&self, _id: i64, _error: &str) -> Result<()> {
        Ok(())
    }

    fn open(&self, watches: &[i64]) -> Result<Vec<garrison_core::streams::alerts::Alert>> {
        Ok(self.with(|s| {
            s.alerts
                .values()
                .filter(|(a, ended)| !ended && watches.contains(&a.watch))
                .map(|(a, _)| a.clone())
                .collect()
        }))
    }

    fn end(&self, id: i64, _at: Timestamp) -> Result<()> {
        self.with(|s| s.alerts.get_mut(&id).map(|(_, ended)| *ended = true));
        Ok(())
    }
}

impl garrison_core::streams::watches::StreamKeyStore for MemoryRecords {
    fn get(&self, server: ServerId) -> Result<Option<garrison_core::streams::watches::ServerStreamKeys>> {
        Ok(self.with(|s| s.stream_keys.get(&server).cloned()))
    }

    fn set(
        &self,
        server: ServerId,
        keys: &garrison_core::streams::watches::ServerStreamKeys,
        _at: Timestamp,
    ) -> Result<()> {
        self.with(|s| s.stream_keys.insert(server, keys.clone()));
        Ok(())
    }
}

impl garrison_core::roblox::binds::RankBinds for MemoryRecords {
    fn binds(&self, server: ServerId) -> Result<Vec<garrison_core::roblox::binds::RankBind>> {
        Ok(self.with(|s| s.binds.get(&server).cloned().unwrap_or_default()))
    }

    fn set_binds(&self, server: ServerId, binds: &[garrison_core::roblox::binds::RankBind]) -> Result<()> {
        let mut binds = binds.to_vec();
        binds.iter_mut().for_each(|b| b.roles.sort());
        self.with(|s| s.binds.insert(server, binds));
        Ok(())
    }
}

impl garrison_core::backups::BackupIndex for MemoryRecords {
    fn by_guild(&self, guild: ServerId) -> Result<Option<garrison_core::backups::BackupRecord>> {
        Ok(self.with(|s| s.backups.values().find(|b| b.guild == guild).cloned()))
    }

    fn by_view(&self, view: &garrison_core::view_id::ViewId) -> Result<Option<garrison_core::backups::BackupRecord>> {
        Ok(self.with(|s| s.backups.get(view).cloned()))
    }

    fn create(&self, record: &garrison_core::backups::BackupRecord) -> Result<()> {
        self.with(|s| {
            if s.backups.values().any(|b| b.guild == record.guild) || s.backups.contains_key(&record.view) {
                return Err(Error::BackupExists { guild: record.guild });
            }
            let mut record = record.clone();
            record.versions.sort_by_key(|v| v.number);
            s.backups.insert(record.view.clone(), record);
            Ok(())
        })
    }

    fn add_version(
        &self,
        view: &garrison_core::view_id::ViewId,
        version: &garrison_core::backups::Version,
        drop: &[u32],
    ) -> Result<bool> {
        Ok(self.with(|s| {
            let Some(backup) = s.backups.get_mut(view) else { return false };
            if backup.versions.iter().any(|v| v.number == version.number) {
                return false;
            }
            backup.versions.push(version.clone());
            backup.versions.retain(|v| !drop.contains(&v.number));
            backup.versions.sort_by_key(|v| v.number);
            true
        }))
    }

    fn delete(&self, view: &garrison_core::view_id::ViewId) -> Result<bool> {
        Ok(self.with(|s| s.backups.remove(view).is_some()))
    }
}

impl garrison_core::backups::RestoreJobStore for MemoryRecords {
    fn start(
        &self,
        job: &garrison_core::backups::Job,
        token: &garrison_core::discord::BotToken,
        lease: &garrison_core::backups::jobs::Lease,
    ) -> Result<()> {
        let record = MemoryJob {
            job: job.clone(),
            token: Some(token.clone()),
            holder: lease.holder.clone(),
            lease_until: lease.until,
            placed: BTreeMap::new(),
        };
        self.with(|s| s.restore_jobs.insert(job.id.as_str().to_owned(), record));
        Ok(())
    }

    fn get(&self, id: &garrison_core::backups::JobId) -> Result<Option<garrison_core::backups::Job>> {
        Ok(self.with(|s| s.restore_jobs.get(id.as_str()).map(|r| r.job.clone())))
    }

    fn running_into(&self, target: ServerId) -> Result<Option<garrison_core::backups::JobId>> {
        use garrison_core::backups::JobStatus;
        Ok(self.with(|s| {
            s.restore_jobs
                .values()
                .find(|r| r.job.target == target && r.job.status == JobStatus::Running)
                .map(|r| r.job.id.clone())
        }))
    }

    fn save(
        &self,
        job: &garrison_core::backups::Job,
        placed: &[(garrison_core::backups::format::Id, garrison_core::backups::format::Id)],
        lease: &garrison_core::backups::jobs::Lease,
    ) -> Result<bool> {
        use garrison_core::backups::JobStatus;
        Ok(self.with(|s| {
            let Some(record) = s.restore_jobs.get_mut(job.id.as_str()) else { return false };
            if record.holder != lease.holder || record.job.status != JobStatus::Running {
                return false;
            }
            record.job = job.clone();
            record.lease_until = lease.until;
            record.placed.extend(placed.iter().copied());
            true
        }))
    }

    fn finish(&self, job: &garrison_core::backups::Job, holder: &garrison_core::view_id::ViewId) -> Result<bool> {
        use garrison_core::backups::JobStatus;
        Ok(self.with(|s| {
            let Some(record) = s.restore_jobs.get_mut(job.id.as_str()) else { return false };
            if record.holder != *holder || record.job.status != JobStatus::Running {
                return false;
            }
            record.job = job.clone();
            record.token = None;
            record.placed.clear();
            true
        }))
    }

    fn claim(
        &self,
        now: Timestamp,
        lease: &garrison_core::backups::jobs::Lease,
        limit: usize,
    ) -> Result<Vec<garrison_core::backups::jobs::Claimed>> {
        use garrison_core::backups::JobStatus;
        Ok(self.with(|s| {
            let mut expired: Vec<&mut MemoryJob> = s
                .restore_jobs
                .values_mut()
                .filter(|r| r.job.status == JobStatus::Running && r.lease_until < now && r.token.is_some())
                .collect();
            expired.sort_by_key(|r| r.lease_until);
            expired
                .into_iter()
                .take(limit)
                .filter_map(|record| {
                    record.holder = lease.holder.clone();
                    record.lease_until = lease.until;
                    Some(garrison_core::backups::jobs::Claimed {
                        job: record.job.clone(),
                        token: record.token.clone()?,
                        placed: record.placed.iter().map(|(b, t)| (*b, *t)).collect(),
                    })
                })
                .collect()
        }))
    }

    fn prune(&self, before: Timestamp) -> Result<usize> {
        Ok(self.with(|s| {
            let was = s.restore_jobs.len();
            s.restore_jobs.retain(|_, r| r.job.finished_at.is_none_or(|at| at >= before));
            was - s.restore_jobs.len()
        }))
    }
}

impl garrison_core::backups::PremiumGrants for MemoryRecords {
    fn is_granted(&self, guild: ServerId) -> Result<bool> {
        Ok(self.with(|s| s.premium.contains_key(&guild)))
    }

    fn grant(&self, guild: ServerId, at: Timestamp) -> Result<bool> {
        Ok(self.with(|s| {
            if s.premium.contains_key(&guild) {
                return false;
            }
            s.premium.insert(guild, at);
            true
        }))
    }

    fn revoke(&self, guild: ServerId) -> Result<bool> {
        Ok(self.with(|s| s.premium.remove(&guild).is_some()))
    }

    fn list(&self) -> Result<Vec<(ServerId, Timestamp)>> {
        Ok(self.with(|s| s.premium.iter().map(|(g, at)| (*g, *at)).collect()))
    }
}

impl garrison_core::roblox::signin::SignInFlows for MemoryRecords {
    fn put(&self, flow: &garrison_core::roblox::signin::SignInFlow) -> Result<()> {
        self.with(|s| s.flows.insert(flow.state_hash.clone(), flow.clone()));
        Ok(())
    }

    fn take(&self, state_hash: &str) -> Result<Option<garrison_core::roblox::signin::SignInFlow>> {
        Ok(self.with(|s| s.flows.remove(state_hash)))
    }

    fn purge(&self, now: Timestamp) -> Result<u64> {
        Ok(self.with(|s| {
            let before = s.flows.len();
            s.flows.retain(|_, f| f.expires_at > now);
            (before - s.flows.len()) as u64
        }))
    }
}

impl ApiKeys for MemoryRecords {
    fn create(&self, key: NewApiKey) -> Result<ApiKey> {
        self.with(|s| {
            if s.api_keys.iter().any(|(hash, _)| *hash == key.hash) {
                return Err(Error::Store(garrison_core::StoreError::Internal(
                    "an API key with this hash exists".into(),
                )));
            }
            let created = ApiKey {
                id: ApiKeyId(i64::try_from(s.api_keys.len()).unwrap_or(i64::MAX) + 1),
                server: key.server,
                name: key.name,
                read_only: key.read_only,
                created_at: key.created_at,
                revoked_at: None,
            };
            s.api_keys.push((key.hash, created.clone()));
            Ok(created)
        })
    }

    fn find_active(&self, hash: &KeyHash) -> Result<Option<ApiKey>> {
        Ok(self.with(|s| {
            s.api_keys.iter().find(|(h, key)| h == hash && key.revoked_at.is_none()).map(|(_, key)| key.clone())
        }))
    }

    fn list(&self, server: ServerId) -> Result<Vec<ApiKey>> {
        Ok(self.with(|s| s.api_keys.iter().filter(|(_, key)| key.server == server).map(|(_, k)| k.clone()).collect()))
    }

    fn revoke(&self, id: ApiKeyId, at: Timestamp) -> Result<ApiKey> {
        self.with(|s| {
            let (_, key) =
                s.api_keys.iter_mut().find(|(_, key)| key.id == id).ok_or(Error::UnknownApiKey { id: id.0 })?;
            key.revoked_at.get_or_insert(at);
            Ok(key.clone())
        })
    }
}

impl XpLedger for MemoryRecords {
    fn apply(&self, m: &XpMutation) -> Result<XpOutcome> {
        self.with(|s| {
            if let Some(request) = &m.idempotency {
                let scope = (request.key_id.0, request.route, request.key.as_str().to_owned());
                if let Some(earlier) = s.idempotency.get(&scope) {
                    match idempotency::on_repeat(request, earlier)? {
                        Repeat::Replay(answer) => {
                            return XpOutcome::replayed(answer).ok_or_else(|| {
                                Error::Store(garrison_core::StoreError::Internal("not an XP answer".into()))
                            });
                        }
                        Repeat::Expired => {
                            s.idempotency.remove(&scope);
                        }
                    }
                }
            }
            let before = s.balances.get(&key(m.member)).copied().unwrap_or(0);
            let after = xp::apply(before, m.change)?;
            s.balances.insert(key(m.member), after);
            let id = i64::try_from(s.ledger.len()).unwrap_or(i64::MAX) + 1;
            let entry = XpEntry {
                id,
                member: m.member.member,
                operation: m.change.operation(),
                amount: m.change.amount(),
                delta: after - before,
                balance: after,
                reference: m.reference.as_ref().map(|r| r.as_str().to_owned()),
                reason: m.reason.as_ref().map(|r| r.as_str().to_owned()),
                key_name: Some(m.actor.key_name.clone()),
                at: m.at,
            };
            s.ledger.push((m.member.server, entry));
            let outcome = XpOutcome::Applied { balance: after, delta: after - before };
            if let Some(request) = &m.idempotency {
                s.idempotency.insert(
                    (request.key_id.0, request.route, request.key.as_str().to_owned()),
                    RememberedAnswer {
                        request_hash: request.request_hash.clone(),
                        answer: outcome.to_answer(),
                        created_at: request.at,
                    },
                );
            }
            Ok(outcome)
        })
    }

    fn balance(&self, member: MemberKey) -> Result<i64> {
        Ok(self.with(|s| s.balances.get(&key(member)).copied().unwrap_or(0)))
    }

    fn history(&self, member: MemberKey, page: HistoryPage) -> Result<Vec<XpEntry>> {
        Ok(self.with(|s| {
            s.ledger
                .iter()
                .rev()
                .filter(|(server, e)| *server == member.server && e.member == member.member)
                .filter(|(_, e)| page.before.is_none_or(|b| e.id < b))
                .take(page.limit as usize)
                .map(|(_, e)| e.clone())
                .collect()
        }))
    }

    fn leaderboard(&self, server: ServerId, page: LeaderboardPage) -> Result<Vec<LeaderboardRow>> {
        Ok(self.with(|s| {
            let mut rows: Vec<(i64, i64)> = s
                .balances
                .iter()
                .filter(|((srv, _), xp)| *srv == server.get() && **xp > 0)
                .map(|((_, m), xp)| (*m, *xp))
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let first_rank = page.start.first_rank().unwrap_or(u64::MAX);
            let skip = match page.start {
                LeaderboardStart::Offset(offset) => usize::try_from(offset).unwrap_or(usize::MAX),
                LeaderboardStart::After(cursor) => rows
                    .iter()
                    .take_while(|(m, xp)| *xp > cursor.xp || (*xp == cursor.xp && *m <= cursor.member.get()))
                    .count(),
            };
            rows.into_iter()
                .skip(skip)
                .take(page.limit as usize)
                .zip(first_rank..)
                .map(|((m, xp), rank)| LeaderboardRow { member: RobloxUserId::from_stored(m), xp, rank })
                .collect()
        }))
    }
}

impl EpLedger for MemoryRecords {
    fn add(&self, member: MemberKey, company: Company, amount: i64, at: Timestamp) -> Result<()> {
        self.with(|s| s.ep.push((key(member), company, amount, at)));
        Ok(())
    }

    fn entries_page(
        &self,
        member: MemberKey,
        since: Timestamp,
        after: Option<EpCursor>,
        limit: u32,
    ) -> Result<Vec<EpEntry>> {
        Ok(self.with(|s| {
            let mut entries: Vec<EpEntry> =
                s.ep.iter()
                    .enumerate()
                    .filter(|(_, (k, _, _, at))| *k == key(member) && *at >= since)
                    .map(|(i, (_, company, amount, at))| EpEntry {
                        id: i64::try_from(i).unwrap_or(i64::MAX) + 1,
                        company: *company,
                        amount: *amount,
                        at: *at,
                    })
                    .filter(|e| after.is_none_or(|c| (e.at, e.id) > (c.at, c.id)))
                    .collect();
            entries.sort_by_key(|e| (e.at, e.id));
            entries.truncate(limit as usize);
            entries
        }))
    }

    fn policy(&self, server: ServerId) -> Result<Option<EpPolicy>> {
        Ok(self.with(|s| s.policies.get(&server.get()).copied()))
    }

    fn set_policy(&self, server: ServerId, policy: &EpPolicy, _at: Timestamp) -> Result<()> {
        self.with(|s| s.policies.insert(server.get(), *policy));
        Ok(())
    }
}

impl LoaRecords for MemoryRecords {
    fn latest(&self, member: MemberKey) -> Result<Option<Loa>> {
        Ok(self.with(|s| s.loas.get(&key(member)).and_then(|l| l.last().copied())))
    }

    fn reaching_past(
        &self,
        member: MemberKey,
        ending_after: Timestamp,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Loa)>> {
        Ok(self.with(|s| {
            s.loas
                .get(&key(member))
                .map(|loas| {
                    loas.iter()
                        .enumerate()
                        .map(|(i, loa)| (i64::try_from(i).unwrap_or(i64::MAX) + 1, *loa))
                        .rev()
                        .filter(|(id, loa)| before.is_none_or(|b| *id < b) && loa.effective_end() > ending_after)
                        .take(limit as usize)
                        .collect()
                })
                .unwrap_or_default()
        }))
    }

    fn start(&self, member: MemberKey, loa: Loa) -> Result<Loa> {
        self.with(|s| {
            let list = s.loas.entry(key(member)).or_default();
            if list.last().is_some_and(|l| l.is_active(loa.started_at)) {
                return Err(Error::LoaAlreadyActive { member: member.member });
            }
            list.push(loa);
            Ok(loa)
        })
    }

    fn end(&self, member: MemberKey, at: Timestamp) -> Result<Loa> {
        self.with(|s| {
            let last = s.loas.get_mut(&key(member)).and_then(|l| l.last_mut()).filter(|l| l.is_active(at));
            let last = last.ok_or(Error::NoActiveLoa { member: member.member })?;
            last.ended_at = Some(at);
            Ok(*last)
        })
    }
}

impl Medals for MemoryRecords {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Medal>> {
        Ok(self
            .with(|s| s.medals.iter().filter(|((srv, _), _)| *srv == server.get()).map(|(_, m)| m.clone()).collect()))
    }

    fn create(&self, server: ServerId, name: &Name, description: &Description, _at: Timestamp) -> Result<Medal> {
        self.with(|s| {
            let slot = (server.get(), name.key());
            if s.medals.contains_key(&slot) {
                return Err(Error::MedalExists { name: name.as_str().to_owned() });
            }
            let medal = Medal { name: name.as_str().to_owned(), description: description.as_str().to_owned() };
            s.medals.insert(slot, medal.clone());
            Ok(medal)
        })
    }

    fn delete(&self, server: ServerId, name: &Name) -> Result<Medal> {
        self.with(|s| {
            let medal = s
                .medals
                .remove(&(server.get(), name.key()))
                .ok_or_else(|| Error::UnknownMedal { name: name.as_str().to_owned() })?;
            s.medal_awards.retain(|(srv, n, _), _| !(*srv == server.get() && *n == name.key()));
            Ok(medal)
        })
    }

    fn held(&self, member: MemberKey) -> Result<Vec<AwardedMedal>> {
        Ok(self.with(|s| {
            s.medal_awards
                .iter()
                .filter(|((srv, _, m), _)| *srv == member.server.get() && *m == member.member.get())
                .filter_map(|((srv, n, _), at)| {
                    s.medals.get(&(*srv, n.clone())).map(|medal| AwardedMedal { medal: medal.clone(), awarded_at: *at })
                })
                .collect()
        }))
    }

    fn award(&self, member: MemberKey, name: &Name, at: Timestamp) -> Result<Medal> {
        self.with(|s| {
            let medal = s
                .medals
                .get(&(member.server.get(), name.key()))
                .cloned()
                .ok_or_else(|| Error::UnknownMedal { name: name.as_str().to_owned() })?;
            let slot = (member.server.get(), name.key(), member.member.get());
            if s.medal_awards.contains_key(&slot) {
                return Err(Error::MedalAlreadyAwarded { member: member.member, name: medal.name });
            }
            s.medal_awards.insert(slot, at);
            Ok(medal)
        })
    }

    fn revoke(&self, member: MemberKey, name: &Name) -> Result<Medal> {
        self.with(|s| {
            let medal = s
                .medals
                .get(&(member.server.get(), name.key()))
                .cloned()
                .ok_or_else(|| Error::UnknownMedal { name: name.as_str().to_owned() })?;
            s.medal_awards
                .remove(&(member.server.get(), name.key(), member.member.get()))
                .ok_or_else(|| Error::MedalNotHeld { member: member.member, name: medal.name.clone() })?;
            Ok(medal)
        })
    }
}

impl Certifications for MemoryRecords {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Certification>> {
        Ok(self.with(|s| {
            s.certifications.iter().filter(|((srv, _), _)| *srv == server.get()).map(|(_, c)| c.clone()).collect()
        }))
    }

    fn create(
        &self,
        server: ServerId,
        reference: &CertificationRef,
        name: &Name,
        description: &Description,
        _at: Timestamp,
    ) -> Result<Certification> {
        self.with(|s| {
            let slot = (server.get(), reference.as_str().to_owned());
            if s.certifications.contains_key(&slot) {
                return Err(Error::CertificationExists { reference: reference.as_str().to_owned() });
            }
            let c = Certification {
                reference: reference.as_str().to_owned(),
                name: name.as_str().to_owned(),
                description: description.as_str().to_owned(),
            };
            s.certifications.insert(slot, c.clone());
            Ok(c)
        })
    }

    fn delete(&self, server: ServerId, reference: &CertificationRef) -> Result<Certification> {
        self.with(|s| {
            let c = s
                .certifications
                .remove(&(server.get(), reference.as_str().to_owned()))
                .ok_or_else(|| Error::UnknownCertification { reference: reference.as_str().to_owned() })?;
            s.certification_awards.retain(|(srv, r, _), _| !(*srv == server.get() && r == reference.as_str()));
            Ok(c)
        })
    }

    fn held(&self, member: MemberKey) -> Result<Vec<AwardedCertification>> {
        Ok(self.with(|s| {
            s.certification_awards
                .iter()
                .filter(|((srv, _, m), _)| *srv == member.server.get() && *m == member.member.get())
                .filter_map(|((srv, r, _), at)| {
                    s.certifications
                        .get(&(*srv, r.clone()))
                        .map(|c| AwardedCertification { certification: c.clone(), awarded_at: *at })
                })
                .collect()
        }))
    }

    fn award(&self, member: MemberKey, reference: &CertificationRef, at: Timestamp) -> Result<Certification> {
        self.with(|s| {
            let c = s
                .certifications
                .get(&(member.server.get(), reference.as_str().to_owned()))
                .cloned()
                .ok_or_else(|| Error::UnknownCertification { reference: reference.as_str().to_owned() })?;
            let slot = (member.server.get(), reference.as_str().to_owned(), member.member.get());
            if s.certification_awards.contains_key(&slot) {
                return Err(Error::CertificationAlreadyAwarded { member: member.member, reference: c.reference });
            }
            s.certification_awards.insert(slot, at);
            Ok(c)
        })
    }

    fn revoke(&self, member: MemberKey, reference: &CertificationRef) -> Result<Certification> {
        self.with(|s| {
            let c = s
                .certifications
                .get(&(member.server.get(), reference.as_str().to_owned()))
                .cloned()
                .ok_or_else(|| Error::UnknownCertification { reference: reference.as_str().to_owned() })?;
            s.certification_awards
                .remove(&(member.server.get(), reference.as_str().to_owned(), member.member.get()))
                .ok_or_else(|| Error::CertificationNotHeld { member: member.member, reference: c.reference.clone() })?;
            Ok(c)
        })
    }
}

impl BoosterRoles for MemoryRecords {
    fn find(&self, guild: ServerId, user: Snowflake) -> Result<Option<BoosterRole>> {
        Ok(self.with(|s| s.booster_roles.get(&(guild, user)).copied()))
    }

    fn owner_of(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>> {
        Ok(self.with(|s| s.booster_roles.values().find(|r| r.guild == guild && r.role == role).copied()))
    }

    fn record(&self, record: &BoosterRole) -> Result<()> {
        for (field, id) in [("guildId", record.guild.snowflake()), ("userId", record.user), ("roleId", record.role)] {
            if i64::try_from(id.get()).is_err() {
                return Err(Error::invalid(field, format!("{id} is too large to record (the limit is 2^63 - 1)")));
            }
        }
        self.with(|s| {
            if s.booster_roles.contains_key(&(record.guild, record.user)) {
                return Err(Error::BoosterRoleExists { user: record.user });
            }
            if let Some(owner) = s.booster_roles.values().find(|r| r.guild == record.guild && r.role == record.role) {
                return Err(Error::invalid(
                    "roleId",
                    format!(
                        "role {} is already recorded as the custom booster role of user {}",
                        record.role, owner.user
                    ),
                ));
            }
            s.booster_roles.insert((record.guild, record.user), *record);
            Ok(())
        })
    }

    fn forget(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>> {
        Ok(self.with(|s| {
            let user = s.booster_roles.values().find(|r| r.guild == guild && r.role == role).map(|r| r.user)?;
            s.booster_roles.remove(&(guild, user))
        }))
    }

    fn list(&self, guild: ServerId) -> Result<Vec<BoosterRole>> {
        Ok(self.with(|s| {
            let mut all: Vec<BoosterRole> = s.booster_roles.values().filter(|r| r.guild == guild).copied().collect();
            all.sort_by_key(|r| (r.created_at, r.role));
            all
        }))
    }
}

#[cfg(test)]
mod booster_role_tests {
    use super::*;

    fn booster(guild: u64, user: u64, role: u64, at: i64) -> BoosterRole {
        BoosterRole {
            guild: ServerId::from_discord(Snowflake::from_raw(guild)).expect("a snowflake within i64"),
            user: Snowflake::from_raw(user),
            role: Snowflake::from_raw(role),
            created_at: Timestamp(at),
        }
    }

    #[test]
    fn booster_roles_follow_the_storage_contract() {
        let store = MemoryRecords::default();
        // Through the port: `list` is also the name of another port's method.
        let records: &dyn BoosterRoles = &store;
        let guild =
            ServerId::from_discord(Snowflake::from_raw(100_000_000_000_000_001)).expect("a snowflake within i64");
        let first = booster(guild.snowflake().get(), 200_000_000_000_000_001, 300_000_000_000_000_001, 2_000);
        let second = booster(guild.snowflake().get(), 200_000_000_000_000_002, 300_000_000_000_000_002, 1_000);
        records.record(&first).expect("first");
        records.record(&second).expect("second");
        assert_eq!(records.find(guild, first.user).expect("find"), Some(first));
        assert_eq!(records.owner_of(guild, second.role).expect("owner"), Some(second));
        assert_eq!(records.list(guild).expect("list"), [second, first], "oldest first");

        let again = booster(guild.snowflake().get(), first.user.get(), 300_000_000_000_000_003, 3_000);
        assert!(matches!(records.record(&again), Err(Error::BoosterRoleExists { .. })));
        let taken = booster(guild.snowflake().get(), 200_000_000_000_000_003, first.role.get(), 3_000);
        assert!(matches!(records.record(&taken), Err(Error::Invalid { field: "roleId", .. })));
        let huge = booster(guild.snowflake().get(), u64::MAX, 300_000_000_000_000_004, 3_000);
        assert!(matches!(records.record(&huge), Err(Error::Invalid { field: "userId", .. })));

        let other =
            ServerId::from_discord(Snowflake::from_raw(100_000_000_000_000_002)).expect("a snowflake within i64");
        records
            .record(&booster(other.snowflake().get(), first.user.get(), first.role.get(), 4_000))
            .expect("other guild");
        assert_eq!(records.forget(guild, first.role).expect("forget"), Some(first));
        assert_eq!(records.forget(guild, first.role).expect("again"), None);
        assert_eq!(records.list(guild).expect("list"), [second]);
        assert_eq!(records.owner_of(other, first.role).expect("owner").map(|r| r.user), Some(first.user));
    }
}

use garrison_core::{
    StoreError,
    modlog::{self, History, NewEntry, Subject, SubjectProfile, ViewId},
    ports::ModLogs,
};

impl ModLogs for MemoryRecords {
    fn add(
        &self,
        subject: Subject,
        profile: &SubjectProfile,
        entry: &NewEntry,
        new_view_id: ViewId,
    ) -> Result<History> {
        for (field, id) in [
            (modlog::BOT_FIELD, subject.bot),
            (modlog::GUILD_FIELD, subject.guild.snowflake()),
            (modlog::USER_FIELD, subject.user),
            (modlog::MODERATOR_ID_FIELD, entry.moderator_id),
        ] {
            if i64::try_from(id.get()).is_err() {
                return Err(Error::invalid(field, format!("{id} is too large to record (the limit is 2^63 - 1)")));
            }
        }
        self.with(|s| {
            let view = match s.modlog_views.get(&subject) {
                Some(view) => view.clone(),
                None => {
                    if s.modlog_histories.contains_key(&new_view_id) {
                        return Err(Error::Store(StoreError::Internal(format!(
                            "view id {new_view_id} already belongs to another moderation-log subject"
                        ))));
                    }
                    s.modlog_views.insert(subject, new_view_id.clone());
                    new_view_id
                }
            };
            let last_case = s.modlog_cases.entry((subject.bot, subject.guild)).or_insert(0);
            *last_case += 1;
            let numbered = entry.numbered(*last_case);
            let history = s.modlog_histories.entry(view.clone()).or_insert_with(|| History {
                view_id: view,
                subject,
                profile: profile.clone(),
                entries: Vec::new(),
                page: 0,
                total_entries: 0,
            });
            history.profile = profile.clone();
            history.entries.push(numbered);
            history.total_entries += 1;
            Ok(page_of_history(history, None))
        })
    }

    fn history(&self, view: &ViewId) -> Result<Option<History>> {
        Ok(self.with(|s| s.modlog_histories.get(view).map(|h| page_of_history(h, None))))
    }

    fn history_page(&self, view: &ViewId, page: u64) -> Result<Option<History>> {
        Ok(self.with(|s| s.modlog_histories.get(view).map(|h| page_of_history(h, Some(page)))))
    }
}

/// One page of a whole history kept in memory (the last page when `page` is `None`).
fn page_of_history(whole: &History, page: Option<u64>) -> History {
    let page = page.unwrap_or_else(|| modlog::page_of(whole.total_entries));
    let size = modlog::HISTORY_PAGE_ENTRIES;
    let first = usize::try_from(page.saturating_mul(size)).unwrap_or(usize::MAX);
    let entries = whole.entries.iter().skip(first).take(usize::try_from(size).unwrap_or(usize::MAX)).cloned().collect();
    History { entries, page, ..whole.clone() }
}

#[cfg(test)]
mod modlog_tests {
    use garrison_core::modlog::ModAction;

    use super::*;

    fn subject(guild: u64, user: u64) -> Subject {
        Subject {
            bot: Snowflake::from_raw(400_000_000_000_000_001),
            guild: ServerId::from_discord(Snowflake::from_raw(guild)).expect("a snowflake within i64"),
            user: Snowflake::from_raw(user),
        }
    }

    fn profile(name: &str) -> SubjectProfile {
        SubjectProfile { user_name: name.into(), user_avatar: None, guild_name: "Guild".into(), guild_icon: None }
    }

    fn entry(action: ModAction, at: i64) -> NewEntry {
        NewEntry::new(action, Snowflake::from_raw(111_222_333_444_555_666), "Admin", Some("why"), None, Timestamp(at))
            .expect("valid")
    }

    fn view(n: u8) -> ViewId {
        ViewId::from_entropy([n; 16])
    }

    fn cases(history: &History) -> Vec<i64> {
        history.entries.iter().map(|e| e.case_number).collect()
    }

    #[test]
    fn modlogs_follow_the_storage_contract() {
        let records = MemoryRecords::default();
        // Through the port: `add` and `history` are also names of other ports' methods.
        let logs: &dyn ModLogs = &records;
        let (guild, other) = (100_000_000_000_000_001, 100_000_000_000_000_002);
        let alice = subject(guild, 200_000_000_000_000_001);
        assert_eq!(logs.history(&view(1)).expect("history"), None);

        let first = logs.add(alice, &profile("old"), &entry(ModAction::Warn, 1_000), view(1)).expect("first");
        assert_eq!((first.view_id.clone(), first.subject, cases(&first)), (view(1), alice, vec![1]));
        let second = logs.add(alice, &profile("new"), &entry(ModAction::Ban, 2_000), view(2)).expect("second");
        assert_eq!(second.view_id, view(1), "the second view id is ignored");
        assert_eq!(second.profile, profile("new"), "the profile is refreshed");
        assert_eq!(
            second.entries,
            [entry(ModAction::Warn, 1_000).numbered(1), entry(ModAction::Ban, 2_000).numbered(2)]
        );
        assert_eq!(logs.history(&view(1)).expect("history"), Some(second));
        assert_eq!(logs.history(&view(2)).expect("history"), None);

        // Case numbers count per guild.
        let bob = logs.add(subject(guild, 200_000_000_000_000_002), &profile("b"), &entry(ModAction::Kick, 3), view(3));
        assert_eq!(cases(&bob.expect("bob")), [3]);
        let there = logs.add(subject(other, alice.user.get()), &profile("a"), &entry(ModAction::Unban, 4), view(4));
        assert_eq!(cases(&there.expect("other guild")), [1]);

        // Too-large ids name their header; a view id already taken is a store failure.
        let err = logs.add(subject(guild, u64::MAX), &profile("x"), &entry(ModAction::Warn, 5), view(5));
        assert!(matches!(err, Err(Error::Invalid { field: "X-User-Id", .. })), "{err:?}");
        let err = logs.add(subject(guild, 200_000_000_000_000_009), &profile("x"), &entry(ModAction::Warn, 5), view(1));
        assert!(matches!(err, Err(Error::Store(_))), "{err:?}");
        assert_eq!(cases(&logs.history(&view(1)).expect("history").expect("known")), [1, 2]);
        let next =
            logs.add(subject(guild, 200_000_000_000_000_009), &profile("x"), &entry(ModAction::Warn, 6), view(6));
        assert_eq!(cases(&next.expect("next")), [4], "refused adds use up no number");
    }
}
