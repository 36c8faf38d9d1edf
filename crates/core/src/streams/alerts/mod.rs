//! Live alerts: the loop that checks every watched streamer and tells the watching channels.
//!
//! One poll reads every watch (in pages), groups them by streamer (watches of one streamer share one
//! check, whichever servers they belong to), checks the streamers the platforms' budgets allow, the
//! least recently checked first, and then, per watch, posts one message when a stream starts and edits
//! it when the stream ends. Each alert is claimed in the store before it is posted (one row per watch
//! and stream, unique), so no stream is announced twice to a watch, across restarts and across
//! processes sharing the database; the price is that a process that dies between the claim and the
//! post leaves that one alert unposted (at most once, never twice).
//!
//! How often a streamer is asked:
//! - Twitch: every poll, up to [`TWITCH_LOGINS_PER_CALL`] logins in one Helix call per set of
//!   credentials.
//! - TikTok: every poll, one page each.
//! - YouTube: as often as the key's quota allows: the units left today (after a share kept for the
//!   routes, [`YOUTUBE_SHARE_PERCENT`]) spread evenly over what is left of the Pacific day, counted at
//!   three units a check.
//!
//! and never more than the loop's own budget of uncached checks per platform per minute (the routes
//! keep theirs). Whose credentials: the service's own configuration first, else the stored credentials
//! of a server watching the streamer (the next server's when the platform refused them).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt as _;

mod message;
mod push;

pub use message::{ended_patch, live_message};
use push::Push;
pub use push::{Accepted, EventSubSettings, PushError};

use super::watches::{ServerStreamKeys, StreamKeyStore, StreamWatches, Watch};
use super::{
    LiveStream, Liveness, Platform, StreamError, StreamService, TWITCH_LOGINS_PER_CALL, TikTokUser, TwitchCredentials,
    TwitchLogin, YouTubeHandle, YouTubeKey,
};
use crate::discord::{DiscordBot, DiscordBots, Snowflake};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Clock, Result, ServerId, Timestamp};

/// Watches read from the store at once.
const WATCH_PAGE: usize = 500;
/// Percent of a YouTube key's daily quota the alert loop may spend; the rest is left for the routes.
pub const YOUTUBE_SHARE_PERCENT: u64 = 90;
/// Units a YouTube check is counted at: two, and a third when the handle's channel is looked up.
const YOUTUBE_UNITS: f64 = 3.0;
/// Checks in flight at once, per platform.
const CHECKS_IN_FLIGHT: usize = 8;
/// Discord posts and edits in flight at once.
const POSTS_IN_FLIGHT: usize = 4;
/// Pushed events waiting for the loop; beyond, Twitch is asked to deliver again later.
pub const MAX_QUEUED_EVENTS: usize = 1_000;
/// How often EventSub subscriptions are checked against Twitch's list even when no watch changed, and
/// how often a streamer Twitch pushes is still polled, in case a push was lost.
const RESYNC_MS: i64 = 10 * 60_000;

/// An alert posted (or claimed) for one stream of one watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub watch: i64,
    /// The platform's id of the stream.
    pub stream_id: String,
    pub channel: Snowflake,
    /// The message, once posted; `None` when the post failed or the process died before it.
    pub message: Option<Snowflake>,
    /// The stream's title, for the edit at its end.
    pub title: String,
    pub started_at: Option<Timestamp>,
    pub posted_at: Timestamp,
}

/// An alert to claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub watch: i64,
    pub stream_id: String,
    pub channel: Snowflake,
    pub title: String,
    pub started_at: Option<Timestamp>,
}

/// Where alerts are kept: one per watch and stream, claimed before the message is posted.
pub trait StreamAlerts: Send + Sync {
    /// Claims the alert: its id when this call made the claim, `None` when the watch already has an
    /// alert for this stream (or the watch is gone).
    fn claim(&self, alert: &NewAlert, at: Timestamp) -> Result<Option<i64>>;
    /// The claimed alert's message was posted.
    fn posted(&self, id: i64, message: Snowflake) -> Result<()>;
    /// The claimed alert could not be posted (never tried again: a second try could post twice).
    fn failed(&self, id: i64, error: &str) -> Result<()>;
    /// The alerts of these watches whose streams have not ended.
    fn open(&self, watches: &[i64]) -> Result<Vec<Alert>>;
    /// The alert's stream ended.
    fn end(&self, id: i64, at: Timestamp) -> Result<()>;
}

/// The ports an [`AlertService`] works through.
#[derive(Clone)]
pub struct AlertPorts {
    pub watches: Arc<dyn StreamWatches>,
    pub keys: Arc<dyn StreamKeyStore>,
    pub alerts: Arc<dyn StreamAlerts>,
    pub discord: Arc<dyn DiscordBots>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
    /// Where a claimed alert records `stream.live`, and an ended one `stream.offline`.
    pub outbox: crate::webhooks::Outbox,
}

impl std::fmt::Debug for AlertPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlertPorts { .. }")
    }
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub watches: usize,
    /// Distinct streamers watched.
    pub streamers: usize,
    /// Checks started (a Twitch call of many logins counts once).
    pub checks: usize,
    /// Streamers left for a later poll: their platform's budget or YouTube quota was spent.
    pub deferred: usize,
    /// Streamers no credentials could check (nothing configured, none stored by a watching server).
    pub without_credentials: usize,
    /// Streamers whose check failed (platform down, credentials refused, ...).
    pub failed_checks: usize,
    pub posted: usize,
    pub ended: usize,
    /// Posts or edits Discord refused.
    pub failed_posts: usize,
    /// No Discord bot is configured: nothing was checked.
    pub no_bot: bool,
    /// Twitch streamers left unpolled: Twitch pushes their streams' starts and ends (EventSub).
    pub pushed: usize,
    /// EventSub subscriptions created and deleted this round.
    pub subscribed: usize,
    pub unsubscribed: usize,
    /// What failed, for the log (the first [`MAX_NOTES`]; never a credential).
    pub notes: Vec<String>,
}

/// Failures a [`PollReport`] describes.
pub const MAX_NOTES: usize = 20;

impl PollReport {
    fn note(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        }
    }
}

/// A streamer and the watches that follow it.
#[derive(Debug)]
struct Group {
    platform: Platform,
    /// The name as the first watch gave it.
    name: String,
    watches: Vec<Watch>,
}

impl Group {
    fn key(&self) -> (Platform, String) {
        (self.platform, self.name.to_ascii_lowercase())
    }

    fn servers(&self) -> impl Iterator<Item = ServerId> + '_ {
        let mut seen = HashSet::new();
        self.watches.iter().map(|w| w.server).filter(move |s| seen.insert(*s))
    }
}

/// What the loop remembers between polls.
#[derive(Debug, Default)]
struct PollState {
    last_poll: Option<Timestamp>,
    /// When each streamer was last asked for.
    checked: HashMap<(Platform, String), Timestamp>,
    /// YouTube units each key (by fingerprint) may still spend before the next refill.
    allowance: HashMap<[u8; 32], f64>,
}

/// The live-alert loop (one [`AlertService::poll`] per interval, run by the binary).
pub struct AlertService {
    ports: AlertPorts,
    streams: Arc<StreamService>,
    state: Mutex<PollState>,
    push: Option<Push>,
}

impl std::fmt::Debug for AlertService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertService").finish_non_exhaustive()
    }
}

/// A check to make: the streamer's group, and the credentials.
enum Check<'a> {
    YouTube(&'a Group, YouTubeHandle, Vec<YouTubeKey>),
    Twitch(Vec<(&'a Group, TwitchLogin)>, Vec<TwitchCredentials>),
    TikTok(&'a Group, TikTokUser),
}

/// Twitch logins to check with the same credentials (those to try, in order).
type TwitchBatch<'a> = (Vec<TwitchCredentials>, Vec<(&'a Group, TwitchLogin)>);

/// What a check found, per group.
type Found<'a> = Vec<(&'a Group, std::result::Result<Liveness, StreamError>)>;

impl AlertService {
    pub fn new(ports: AlertPorts, streams: Arc<StreamService>) -> Self {
        Self { ports, streams, state: Mutex::new(PollState::default()), push: None }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PollState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server-wide bot, or why there is none (in the report).
    async fn bot(&self, report: &mut PollReport) -> Option<Arc<dyn DiscordBot>> {
        match self.ports.discord.server_bot().await {
            Ok(Some(bot)) => Some(bot),
            Ok(None) => {
                report.no_bot = true;
                None
            }
            Err(err) => {
                report.note(format!("the server-wide bot: {err}"));
                None
            }
        }
    }

    /// One round: read the watches, check the streamers due, post and edit the alerts.
    pub async fn poll(&self) -> Result<PollReport> {
        let mut report = PollReport::default();
        let Some(bot) = self.bot(&mut report).await else { return Ok(report) };
        let groups = self.groups().await?;
        report.watches = groups.iter().map(|g| g.watches.len()).sum();
        report.streamers = groups.len();
        self.sync_subscriptions(&groups, &mut report).await;
        let keys = self.server_keys(&groups).await?;
        let checks = self.plan(&groups, &keys, &mut report);
        report.checks = checks.len();
        let found = self.check(checks).await;
        let now = self.ports.clock.now();
        {
            let mut state = self.state();
            for (group, outcome) in &found {
                if !matches!(outcome, Err(StreamError::Busy { .. })) {
                    state.checked.insert(group.key(), now);
                }
            }
        }
        self.alert(&*bot, found, &mut report).await?;
        Ok(report)
    }

    /// Every watch, grouped by streamer.
    async fn groups(&self) -> Result<Vec<Group>> {
        let mut groups: BTreeMap<(Platform, String), Group> = BTreeMap::new();
        let mut after = 0;
        loop {
            let store = Arc::clone(&self.ports.watches);
            let page = run_blocking(&*self.ports.threads, move || store.page(after, WATCH_PAGE)).await??;
            let Some(last) = page.last() else { break };
            after = last.id;
            let full = page.len() == WATCH_PAGE;
            for watch in page {
                groups
                    .entry((watch.platform, watch.key()))
                    .or_insert_with(|| Group {
                        platform: watch.platform,
                        name: watch.streamer.clone(),
                        watches: vec![],
                    })
                    .watches
                    .push(watch);
            }
            if !full {
                break;
            }
        }
        let watched: HashSet<(Platform, String)> = groups.keys().cloned().collect();
        self.state().checked.retain(|key, _| watched.contains(key));
        Ok(groups.into_values().collect())
    }

    /// The stored credentials of the servers whose watches need them (none when the service has its
    /// own for every platform).
    async fn server_keys(&self, groups: &[Group]) -> Result<HashMap<ServerId, ServerStreamKeys>> {
        let configured = self.streams.configured();
        let servers: Vec<ServerId> = groups
            .iter()
            .filter(|g| match g.platform {
                Platform::YouTube => configured.youtube_key.is_none(),
                Platform::Twitch => configured.twitch.is_none(),
                Platform::TikTok => false,
            })
            .flat_map(Group::servers)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if servers.is_empty() {
            return Ok(HashMap::new());
        }
        let store = Arc::clone(&self.ports.keys);
        run_blocking(&*self.ports.threads, move || {
            let mut keys = HashMap::new();
            for server in servers {
                if let Some(found) = store.get(server)? {
                    keys.insert(server, found);
                }
            }
            Ok(keys)
        })
        .await?
    }

    /// The checks this poll makes, least recently checked streamers first, within YouTube's pace.
    fn plan<'a>(
        &self,
        groups: &'a [Group],
        keys: &HashMap<ServerId, ServerStreamKeys>,
        report: &mut PollReport,
    ) -> Vec<Check<'a>> {
        let configured = self.streams.configured();
        let now = self.ports.clock.now();
        let mut state = self.state();
        let elapsed = state.last_poll.map_or(i64::MAX, |last| now.millis().saturating_sub(last.millis()));
        state.last_poll = Some(now);
        let mut order: Vec<&Group> = groups.iter().collect();
        order.sort_by_key(|g| state.checked.get(&g.key()).copied().unwrap_or(Timestamp::from_millis(i64::MIN)));

        let covered: HashSet<String> = self.push.as_ref().map(Push::covered).unwrap_or_default();
        let mut checks = Vec::new();
        let mut twitch: BTreeMap<Vec<[u8; 32]>, TwitchBatch<'_>> = BTreeMap::new();
        let mut youtube: Vec<(&Group, YouTubeHandle, Vec<YouTubeKey>)> = Vec::new();
        for group in order {
            match group.platform {
                Platform::TikTok => match TikTokUser::parse("user", &group.name) {
                    Ok(user) => checks.push(Check::TikTok(group, user)),
                    Err(_) => report.failed_checks += 1,
                },
                Platform::Twitch
                    if covered.contains(&group.key().1)
                        && state.checked.get(&group.key()).is_some_and(|at| now.millis() - at.millis() < RESYNC_MS) =>
                {
                    report.pushed += 1;
                }
                Platform::Twitch => {
                    let candidates = candidates(configured.twitch.as_ref(), group, keys, |k| k.twitch.as_ref());
                    match (TwitchLogin::parse("user", &group.name), candidates.is_empty()) {
                        (_, true) => report.without_credentials += 1,
                        (Ok(login), false) => {
                            let prints = candidates.iter().map(TwitchCredentials::fingerprint).collect();
                            let entry = twitch.entry(prints).or_insert_with(|| (candidates, Vec::new()));
                            entry.1.push((group, login));
                        }
                        (Err(_), false) => report.failed_checks += 1,
                    }
                }
                Platform::YouTube => {
                    let candidates =
                        candidates(configured.youtube_key.as_ref(), group, keys, |k| k.youtube_key.as_ref());
                    match (YouTubeHandle::parse("user", &group.name), candidates.is_empty()) {
                        (_, true) => report.without_credentials += 1,
                        (Ok(handle), false) => youtube.push((group, handle, candidates)),
                        (Err(_), false) => report.failed_checks += 1,
                    }
                }
            }
        }
        for (credentials, logins) in twitch.into_values() {
            for chunk in logins.chunks(TWITCH_LOGINS_PER_CALL) {
                checks.push(Check::Twitch(chunk.to_vec(), credentials.clone()));
            }
        }
        // YouTube's pace: each key's allowance grows by its share of what is left today, spread over
        // what is left of the day, up to one round of its streamers.
        let mut per_key: HashMap<[u8; 32], (usize, &YouTubeKey)> = HashMap::new();
        for (_, _, keys) in &youtube {
            per_key.entry(keys[0].fingerprint()).or_insert((0, &keys[0])).0 += 1;
        }
        // Each key's allowance refills once a round.
        for (print, (streamers, key)) in &per_key {
            let (left, day_left_ms) = self.streams.youtube_units_left(key);
            let share = (left * YOUTUBE_SHARE_PERCENT / 100) as f64;
            let round = YOUTUBE_UNITS * *streamers as f64;
            let allowance = state.allowance.entry(*print).or_insert(f64::NAN);
            *allowance = if allowance.is_nan() {
                round.min(share)
            } else {
                let refill = share * (elapsed as f64 / day_left_ms.max(1) as f64);
                (*allowance + refill).min(round).min(share)
            };
        }
        for (group, handle, keys) in youtube {
            let allowance = state.allowance.entry(keys[0].fingerprint()).or_insert(0.0);
            if *allowance >= YOUTUBE_UNITS {
                *allowance -= YOUTUBE_UNITS;
                checks.push(Check::YouTube(group, handle, keys));
            } else {
                report.deferred += 1;
            }
        }
        checks
    }

    /// Makes the checks, a few at a time per platform.
    async fn check<'a>(&self, checks: Vec<Check<'a>>) -> Found<'a> {
        let results: Vec<Found<'a>> = futures_util::stream::iter(checks)
            .map(|check| self.one_check(check))
            .buffer_unordered(CHECKS_IN_FLIGHT)
            .collect()
            .await;
        results.into_iter().flatten().collect()
    }

    async fn one_check<'a>(&self, check: Check<'a>) -> Found<'a> {
        match check {
            Check::TikTok(group, user) => vec![(group, self.streams.poll_tiktok(&user).await)],
            Check::YouTube(group, handle, keys) => {
                let mut outcome = Err(StreamError::NoCredentials { platform: Platform::YouTube, header: "" });
                for key in &keys {
                    outcome = self.streams.poll_youtube(&handle, key).await;
                    if !matches!(outcome, Err(StreamError::CredentialsRefused { .. })) {
                        break;
                    }
                }
                vec![(group, outcome)]
            }
            Check::Twitch(logins, credentials) => {
                let names: Vec<TwitchLogin> = logins.iter().map(|(_, login)| login.clone()).collect();
                let mut outcome = Err(StreamError::NoCredentials { platform: Platform::Twitch, header: "" });
                for creds in &credentials {
                    outcome = self.streams.poll_twitch(creds, &names).await;
                    if !matches!(outcome, Err(StreamError::CredentialsRefused { .. })) {
                        break;
                    }
                }
                match outcome {
                    Ok(found) => {
                        logins.into_iter().zip(found).map(|((group, _), (_, liveness))| (group, Ok(liveness))).collect()
                    }
                    Err(err) => logins.into_iter().map(|(group, _)| (group, Err(err.clone()))).collect(),
                }
            }
        }
    }

    /// Posts and edits what the checks call for.
    async fn alert(&self, bot: &dyn DiscordBot, found: Found<'_>, report: &mut PollReport) -> Result<()> {
        let mut answered = Vec::new();
        for (group, outcome) in found {
            match outcome {
                Ok(Liveness::Unknown(_)) => {}
                Ok(liveness) => answered.push((group, liveness)),
                Err(StreamError::Busy { .. }) => report.deferred += 1,
                Err(err) => {
                    report.failed_checks += 1;
                    report.note(format!("{} {}: {err}", group.platform, group.name));
                }
            }
        }
        let ids: Vec<i64> = answered.iter().flat_map(|(g, _)| g.watches.iter().map(|w| w.id)).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let store = Arc::clone(&self.ports.alerts);
        let open = run_blocking(&*self.ports.threads, move || store.open(&ids)).await??;
        let mut open_by_watch: HashMap<i64, Vec<Alert>> = HashMap::new();
        for alert in open {
            open_by_watch.entry(alert.watch).or_default().push(alert);
        }
        let mut actions = Vec::new();
        for (group, liveness) in &answered {
            for watch in &group.watches {
                let open = open_by_watch.remove(&watch.id).unwrap_or_default();
                match liveness {
                    Liveness::Live(stream) => {
                        let Some(stream_id) = stream_key(stream) else { continue };
                        let (same, other): (Vec<Alert>, Vec<Alert>) =
                            open.into_iter().partition(|a| a.stream_id == stream_id);
                        actions.extend(other.into_iter().map(|alert| Action::End(watch, alert)));
                        if same.is_empty() {
                            actions.push(Action::Post(watch, stream, stream_id));
                        }
                    }
                    _ => actions.extend(open.into_iter().map(|alert| Action::End(watch, alert))),
                }
            }
        }
        let outcomes: Vec<Result<Done>> = futures_util::stream::iter(actions)
            .map(|action| self.act(bot, action))
            .buffer_unordered(POSTS_IN_FLIGHT)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome? {
                Done::Posted => report.posted += 1,
                Done::Ended => report.ended += 1,
                Done::Failed(note) => {
                    report.failed_posts += 1;
                    report.note(note);
                }
                Done::Nothing => {}
            }
        }
        Ok(())
    }

    async fn act(&self, bot: &dyn DiscordBot, action: Action<'_>) -> Result<Done> {
        let now = self.ports.clock.now();
        let store = Arc::clone(&self.ports.alerts);
        match action {
            Action::Post(watch, stream, stream_id) => {
                let claim = NewAlert {
                    watch: watch.id,
                    stream_id,
                    channel: watch.channel,
                    title: stream.title.clone(),
                    started_at: stream.started_at,
                };
                let (outbox, server) = (self.ports.outbox.clone(), watch.server);
                let data = stream_event(watch, &claim.stream_id, &claim.title, claim.started_at);
                let live = stream.clone();
                let claimed = run_write(&*self.ports.writer, move || {
                    let claimed = store.claim(&claim, now)?;
                    if claimed.is_some() {
                        outbox.record(server, "stream.live", now, || {
                            let mut data = data;
                            data["url"] = live.video_url.into();
                            data["viewers"] = live.viewers.into();
                            data["game"] = live.game.into();
                            data
                        })?;
                    }
                    Ok(claimed)
                })
                .await?;
                let Some(id) = claimed else {
                    return Ok(Done::Nothing);
                };
                let store = Arc::clone(&self.ports.alerts);
                match bot.send_message(watch.channel, live_message(watch, stream)).await {
                    Ok(message) => {
                        run_write(&*self.ports.writer, move || store.posted(id, message)).await?;
                        Ok(Done::Posted)
                    }
                    Err(err) => {
                        let error = err.to_string();
                        let note = format!("alert of watch {} in channel {}: {error}", watch.id, watch.channel);
                        run_write(&*self.ports.writer, move || store.failed(id, &error)).await?;
                        Ok(Done::Failed(note))
                    }
                }
            }
            Action::End(watch, alert) => {
                let mut done = Done::Ended;
                if let Some(message) = alert.message
                    && let Err(err) = bot.edit_message(alert.channel, message, ended_patch(watch, &alert, now)).await
                {
                    done = Done::Failed(format!("end of alert {} in channel {}: {err}", alert.id, alert.channel));
                }
                let (id, outbox, server) = (alert.id, self.ports.outbox.clone(), watch.server);
                let data = stream_event(watch, &alert.stream_id, &alert.title, alert.started_at);
                run_write(&*self.ports.writer, move || {
                    store.end(id, now)?;
                    outbox.record(server, "stream.offline", now, || {
                        let mut data = data;
                        data["endedAt"] = now.to_iso8601().into();
                        data
                    })?;
                    Ok(())
                })
                .await?;
                Ok(done)
            }
        }
    }
}

/// What `stream.live` and `stream.offline` say of a watch's stream.
fn stream_event(watch: &Watch, stream_id: &str, title: &str, started_at: Option<Timestamp>) -> serde_json::Value {
    serde_json::json!({
        "serverId": watch.server.to_string(),
        "watchId": watch.id,
        "platform": watch.platform.name(),
        "streamer": watch.streamer,
        "channelId": watch.channel.to_string(),
        "streamId": stream_id,
        "title": title,
        "startedAt": started_at.map(Timestamp::to_iso8601),
    })
}

/// What the alert step does for one watch.
enum Action<'a> {
    Post(&'a Watch, &'a LiveStream, String),
    End(&'a Watch, Alert),
}

enum Done {
    Posted,
    Ended,
    Failed(String),
    Nothing,
}

/// The credentials to try for a group: the configured ones alone, else each watching server's own.
fn candidates<T: Clone + PartialEq>(
    configured: Option<&T>,
    group: &Group,
    keys: &HashMap<ServerId, ServerStreamKeys>,
    pick: impl Fn(&ServerStreamKeys) -> Option<&T>,
) -> Vec<T> {
    if let Some(configured) = configured {
        return vec![configured.clone()];
    }
    let mut found: Vec<T> = Vec::new();
    for server in group.servers() {
        if let Some(creds) = keys.get(&server).and_then(&pick)
            && !found.contains(creds)
        {
            found.push(creds.clone());
        }
    }
    found
}

/// What tells one broadcast from the next: the platform's id of it, else when it started.
fn stream_key(stream: &LiveStream) -> Option<String> {
    stream.stream_id.clone().or_else(|| stream.started_at.map(|at| format!("started:{}", at.millis())))
}
