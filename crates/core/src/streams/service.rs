//! The stream checks: one platform at a time or all three at once, through caches with the seed's
//! lifetimes, within a per-platform deadline and a per-platform budget of uncached checks.

use std::sync::{Arc, Mutex};

use futures_util::future::{Either, join3, select};

use super::port::{PlatformError, TikTokPage, TikTokPages, TwitchApi, TwitchStream, YouTubeApi};
use super::quota::{QuotaLedger, next_pacific_midnight};
use super::{
    LiveStream, Liveness, Platform, Secret, StreamStatus, Streamer, TikTokUser, TwitchCredentials, TwitchLogin,
    Unknown, YouTubeHandle, YouTubeKey, is_skip,
};
use crate::ttl::TtlCache;
use crate::{Clock, Sleeper, Timestamp};

/// Uploads looked at for a live broadcast: a broadcast enters the uploads playlist when it is scheduled
/// or starts, so a channel that posted more than this many videos since scheduling it is missed.
/// `playlistItems.list` and `videos.list` cost one unit whatever the page size (up to 50).
pub const UPLOADS_LOOKED_AT: u8 = 25;

/// Logins one Helix `Get Streams` call takes.
pub const TWITCH_LOGINS_PER_CALL: usize = 100;

/// Units a YouTube check costs: `playlistItems.list` and `videos.list`, plus `channels.list` when the
/// handle is not cached.
const UNITS_PER_CHECK: u64 = 2;

/// How long answers are trusted.
#[derive(Debug, Clone, Copy)]
pub struct StreamLifetimes {
    /// A handle's channel (the seed: 30 days).
    pub handle_ms: i64,
    /// A handle no channel has (so a typo is not looked up again and again).
    pub missing_handle_ms: i64,
    /// A YouTube live check (the seed: 15 minutes).
    pub youtube_ms: i64,
    /// A Twitch live check (the seed: 60 s).
    pub twitch_ms: i64,
    /// A TikTok live check (the seed: 2 minutes).
    pub tiktok_ms: i64,
    /// Credentials a platform refused are not sent again for this long.
    pub refused_ms: i64,
    /// Entries per cache.
    pub capacity: usize,
}

impl Default for StreamLifetimes {
    fn default() -> Self {
        Self {
            handle_ms: 30 * Timestamp::MILLIS_PER_DAY,
            missing_handle_ms: 3_600_000,
            youtube_ms: 15 * 60_000,
            twitch_ms: 60_000,
            tiktok_ms: 2 * 60_000,
            refused_ms: 10 * 60_000,
            capacity: 10_000,
        }
    }
}

/// The operator's configuration of stream checks.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// The service's own YouTube key: used instead of a caller's when set (the seed: configuration
    /// takes priority).
    pub youtube_key: Option<YouTubeKey>,
    /// The service's own Twitch application, likewise.
    pub twitch: Option<TwitchCredentials>,
    /// Units a YouTube key may spend per Pacific day (YouTube's default: 10,000).
    pub youtube_daily_quota: u64,
    /// Uncached checks callers may start per platform per minute, whatever credentials they use: what
    /// bounds the calls anyone can make Garrison send.
    pub checks_per_minute: u32,
    /// How long one platform's check may take, all its calls together.
    pub timeout_ms: u64,
    pub lifetimes: StreamLifetimes,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            youtube_key: None,
            twitch: None,
            youtube_daily_quota: 10_000,
            checks_per_minute: 120,
            timeout_ms: 10_000,
            lifetimes: StreamLifetimes::default(),
        }
    }
}

/// Credentials a caller sent with the request (headers); the configuration's come first.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub youtube_key: Option<YouTubeKey>,
    pub twitch: Option<TwitchCredentials>,
}

/// Why a check failed. Messages name the platform and never a key, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A name breaks its platform's rule.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{header}: no {platform} credentials were sent and none are configured")]
    NoCredentials { platform: Platform, header: &'static str },
    /// The platform refused credentials: the caller's (`header` names them) or the configuration's.
    #[error("{platform} refused the {}", match .header { Some(h) => format!("credentials in {h}"), None => "configured credentials".to_owned() })]
    CredentialsRefused { platform: Platform, header: Option<&'static str> },
    #[error("YouTube has no channel with the handle {handle}")]
    NoChannel { handle: String },
    /// The platform asked Garrison to wait.
    #[error("{platform} is rate limiting Garrison; retry after {retry_after_secs} s")]
    RateLimited { platform: Platform, retry_after_secs: u64 },
    /// This minute's uncached checks of the platform are spent (see [`StreamSettings::checks_per_minute`]).
    #[error("Too many uncached {platform} checks this minute; retry after {retry_after_secs} s")]
    Busy { platform: Platform, retry_after_secs: u64 },
    #[error("{platform} is unavailable: {reason}")]
    Unavailable { platform: Platform, reason: String },
}

impl From<crate::Error> for StreamError {
    fn from(err: crate::Error) -> Self {
        match err {
            crate::Error::Invalid { field, message } => Self::Invalid { field, message },
            other => Self::Invalid { field: "request", message: other.to_string() },
        }
    }
}

/// `POST /api/Stream/check-all`'s names, as sent (any may be absent, empty or `none`).
#[derive(Debug, Clone, Default)]
pub struct CheckAll {
    pub youtube: Option<String>,
    pub twitch: Option<String>,
    pub tiktok: Option<String>,
}

/// One platform's part of a check-all answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAllEntry {
    pub platform: Platform,
    /// The name as sent.
    pub user: String,
    pub result: Result<StreamStatus, StreamError>,
}

/// A minute's budget of uncached checks for one platform.
#[derive(Debug)]
struct Window {
    limit: u32,
    state: Mutex<(i64, u32)>,
}

impl Window {
    fn take(&self, now: Timestamp) -> Result<(), u64> {
        let minute = now.millis().div_euclid(60_000);
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.0 != minute {
            *state = (minute, 0);
        }
        if state.1 >= self.limit {
            let left_ms = (minute + 1) * 60_000 - now.millis();
            return Err(u64::try_from(left_ms).unwrap_or(0).div_ceil(1000).max(1));
        }
        state.1 += 1;
        Ok(())
    }
}

/// Live checks of YouTube, Twitch and TikTok.
pub struct StreamService {
    youtube: Arc<dyn YouTubeApi>,
    twitch: Arc<dyn TwitchApi>,
    tiktok: Arc<dyn TikTokPages>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    settings: StreamSettings,
    quota: QuotaLedger,
    /// Handle (lower case) → channel, or `None` for a handle no channel has.
    channels: TtlCache<String, Option<super::YouTubeChannel>>,
    checks: TtlCache<(Platform, String), Liveness>,
    /// Credentials' fingerprints → Twitch app token.
    tokens: TtlCache<[u8; 32], Secret>,
    /// Fingerprints of credentials a platform refused.
    refused: TtlCache<[u8; 32], ()>,
    /// Uncached checks per platform per minute: the routes' budget, then the alert loop's own.
    windows: [[Window; 3]; 2],
}

impl std::fmt::Debug for StreamService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamService").field("settings", &self.settings).finish_non_exhaustive()
    }
}

type Outcome<T> = Result<T, StreamError>;

impl StreamService {
    pub fn new(
        youtube: Arc<dyn YouTubeApi>,
        twitch: Arc<dyn TwitchApi>,
        tiktok: Arc<dyn TikTokPages>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        settings: StreamSettings,
    ) -> Self {
        let life = settings.lifetimes;
        let window = || Window { limit: settings.checks_per_minute, state: Mutex::new((i64::MIN, 0)) };
        Self {
            youtube,
            twitch,
            tiktok,
            clock,
            sleeper,
            quota: QuotaLedger::new(settings.youtube_daily_quota),
            channels: TtlCache::new(life.capacity, life.handle_ms),
            checks: TtlCache::new(life.capacity, life.youtube_ms),
            tokens: TtlCache::new(life.capacity.min(1_000), 0),
            refused: TtlCache::new(life.capacity, life.refused_ms),
            windows: [[window(), window(), window()], [window(), window(), window()]],
            settings,
        }
    }

    fn window(&self, platform: Platform, budget: Budget) -> Outcome<()> {
        let index = match platform {
            Platform::YouTube => 0,
            Platform::Twitch => 1,
            Platform::TikTok => 2,
        };
        self.windows[budget as usize][index]
            .take(self.clock.now())
            .map_err(|retry_after_secs| StreamError::Busy { platform, retry_after_secs })
    }

    /// Runs one platform's calls within its deadline.
    async fn within_deadline<T>(
        &self,
        platform: Platform,
        work: impl std::future::Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let work = std::pin::pin!(work);
        match select(work, self.sleeper.sleep(self.settings.timeout_ms)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => Err(Failure::Service(StreamError::Unavailable {
                platform,
                reason: format!("no answer within {} ms", self.settings.timeout_ms),
            })),
        }
    }

    fn lifetime(&self, platform: Platform) -> i64 {
        let life = &self.settings.lifetimes;
        match platform {
            Platform::YouTube => life.youtube_ms,
            Platform::Twitch => life.twitch_ms,
            Platform::TikTok => life.tiktok_ms,
        }
    }

    /// The streamer `text` names, `None` for `none` or empty (the seed's skip), or 400 naming `field`.
    fn name<N: Streamer>(field: &'static str, text: &str) -> Outcome<Option<N>> {
        if is_skip(text) { Ok(None) } else { Ok(Some(N::parse(field, text)?)) }
    }

    fn cached<N: Streamer>(&self, name: &N) -> Option<StreamStatus> {
        self.checks.get(&(N::PLATFORM, name.key()), self.clock.now()).map(|liveness| name.status(liveness))
    }

    /// Keeps a check for its platform's lifetime (an unknown answer is asked again) and answers it.
    fn remember<N: Streamer>(&self, name: &N, liveness: Liveness) -> StreamStatus {
        if !matches!(liveness, Liveness::Unknown(_)) {
            let (key, lifetime) = ((N::PLATFORM, name.key()), self.lifetime(N::PLATFORM));
            self.checks.put_for(key, liveness.clone(), self.clock.now(), lifetime);
        }
        name.status(liveness)
    }

    /// Is the YouTube channel with this handle live? `None` when the handle is `none` or empty (no call).
    pub async fn youtube(
        &self,
        field: &'static str,
        handle: &str,
        sent: &Credentials,
    ) -> Outcome<Option<StreamStatus>> {
        let Some(handle) = Self::name::<YouTubeHandle>(field, handle)? else { return Ok(None) };
        if let Some(status) = self.cached(&handle) {
            return Ok(Some(status));
        }
        let (key, header) = match (&self.settings.youtube_key, &sent.youtube_key) {
            (Some(key), _) => (key, None),
            (None, Some(key)) => (key, Some("X-YouTube-ApiKey")),
            (None, None) => {
                return Err(StreamError::NoCredentials { platform: Platform::YouTube, header: "X-YouTube-ApiKey" });
            }
        };
        let liveness = self.youtube_uncached(&handle, key, header, Budget::Routes).await?;
        Ok(Some(self.remember(&handle, liveness)))
    }

    /// A YouTube check that asks YouTube (quota, refusals and budget permitting): quota spent is
    /// [`Unknown::QuotaExhausted`], not an error.
    async fn youtube_uncached(
        &self,
        handle: &YouTubeHandle,
        key: &YouTubeKey,
        header: Option<&'static str>,
        budget: Budget,
    ) -> Outcome<Liveness> {
        let fingerprint = key.fingerprint();
        let now = self.clock.now();
        if self.refused.get(&fingerprint, now).is_some() {
            return Err(StreamError::CredentialsRefused { platform: Platform::YouTube, header });
        }
        let channel = self.channels.get(&handle.key(), now);
        let units = UNITS_PER_CHECK + u64::from(channel.is_none());
        if !self.quota.allows(&fingerprint, units, now) {
            return Ok(Liveness::Unknown(Unknown::QuotaExhausted));
        }
        if let Some(None) = channel {
            return Err(StreamError::NoChannel { handle: handle.display() });
        }
        self.window(Platform::YouTube, budget)?;
        let checked = self
            .within_deadline(Platform::YouTube, self.youtube_live(key, &fingerprint, handle, channel.flatten()))
            .await;
        match checked {
            Ok(liveness) => Ok(liveness),
            Err(Failure::Platform(PlatformError::QuotaExceeded)) => {
                self.quota.exhaust(&fingerprint, self.clock.now());
                Ok(Liveness::Unknown(Unknown::QuotaExhausted))
            }
            Err(Failure::Platform(err)) => Err(self.platform_error(Platform::YouTube, err, &fingerprint, header)),
            Err(Failure::Service(err)) => Err(err),
        }
    }

    /// The calls of one YouTube check, each unit counted as it is spent.
    async fn youtube_live(
        &self,
        key: &YouTubeKey,
        fingerprint: &[u8; 32],
        handle: &YouTubeHandle,
        channel: Option<super::YouTubeChannel>,
    ) -> Result<Liveness, Failure> {
        let channel = match channel {
            Some(channel) => channel,
            None => {
                let found = self.youtube.channel(key, handle).await?;
                self.quota.charge(fingerprint, 1, self.clock.now());
                let life = &self.settings.lifetimes;
                let lifetime = if found.is_some() { life.handle_ms } else { life.missing_handle_ms };
                self.channels.put_for(handle.key(), found.clone(), self.clock.now(), lifetime);
                found.ok_or_else(|| Failure::Service(StreamError::NoChannel { handle: handle.display() }))?
            }
        };
        let recent = self.youtube.playlist(key, &channel.uploads, UPLOADS_LOOKED_AT).await?;
        self.quota.charge(fingerprint, 1, self.clock.now());
        if recent.is_empty() {
            return Ok(Liveness::Offline);
        }
        let videos = self.youtube.videos(key, &recent).await?;
        self.quota.charge(fingerprint, 1, self.clock.now());
        // The newest live broadcast, in the playlist's order.
        let live = recent.iter().find_map(|id| videos.iter().find(|video| &video.id == id && video.live));
        Ok(match live {
            Some(video) => Liveness::Live(LiveStream {
                title: video.title.clone(),
                video_url: Some(format!("https://www.youtube.com/watch?v={}", video.id)),
                started_at: video.started_at,
                viewers: video.viewers,
                game: None,
                thumbnail_url: video.thumbnail_url.clone(),
                stream_id: Some(video.id.clone()),
            }),
            None => Liveness::Offline,
        })
    }

    fn platform_error(
        &self,
        platform: Platform,
        err: PlatformError,
        fingerprint: &[u8; 32],
        header: Option<&'static str>,
    ) -> StreamError {
        match err {
            PlatformError::CredentialsRefused => {
                self.refused.put(*fingerprint, (), self.clock.now());
                StreamError::CredentialsRefused { platform, header }
            }
            PlatformError::RateLimited { retry_after_secs } => StreamError::RateLimited { platform, retry_after_secs },
            PlatformError::QuotaExceeded => StreamError::RateLimited {
                platform,
                retry_after_secs: u64::try_from(
                    (next_pacific_midnight(self.clock.now()).millis() - self.clock.now().millis()) / 1000,
                )
                .unwrap_or(0)
                .max(1),
            },
            PlatformError::TokenRefused => {
                StreamError::Unavailable { platform, reason: "it refused a fresh access token".into() }
            }
            PlatformError::Unavailable(reason) => StreamError::Unavailable { platform, reason },
        }
    }

    /// Is the Twitch channel live? `None` when the login is `none` or empty (no call).
    pub async fn twitch(&self, field: &'static str, login: &str, sent: &Credentials) -> Outcome<Option<StreamStatus>> {
        let Some(login) = Self::name::<TwitchLogin>(field, login)? else { return Ok(None) };
        if let Some(status) = self.cached(&login) {
            return Ok(Some(status));
        }
        let (credentials, header) = match (&self.settings.twitch, &sent.twitch) {
            (Some(credentials), _) => (credentials, None),
            (None, Some(credentials)) => (credentials, Some("X-Twitch-ClientId and X-Twitch-Secret")),
            (None, None) => {
                return Err(StreamError::NoCredentials {
                    platform: Platform::Twitch,
                    header: "X-Twitch-ClientId and X-Twitch-Secret",
                });
            }
        };
        let mut found = self.twitch_uncached(credentials, header, std::slice::from_ref(&login), Budget::Routes).await?;
        let liveness = found.pop().map_or(Liveness::Offline, |(_, liveness)| liveness);
        Ok(Some(login.status(liveness)))
    }

    /// One Helix call for up to 100 logins (refusals and budget permitting); each answer is cached.
    async fn twitch_uncached(
        &self,
        credentials: &TwitchCredentials,
        header: Option<&'static str>,
        logins: &[TwitchLogin],
        budget: Budget,
    ) -> Outcome<Vec<(TwitchLogin, Liveness)>> {
        let fingerprint = credentials.fingerprint();
        if self.refused.get(&fingerprint, self.clock.now()).is_some() {
            return Err(StreamError::CredentialsRefused { platform: Platform::Twitch, header });
        }
        self.window(Platform::Twitch, budget)?;
        let live = self.within_deadline(Platform::Twitch, self.twitch_live(credentials, logins)).await.map_err(
            |err| match err {
                Failure::Platform(err) => self.platform_error(Platform::Twitch, err, &fingerprint, header),
                Failure::Service(err) => err,
            },
        )?;
        Ok(logins
            .iter()
            .map(|login| {
                let stream = live.iter().find(|stream| stream.login.eq_ignore_ascii_case(login.as_str()));
                let liveness = stream.map_or(Liveness::Offline, |stream| Liveness::Live(twitch_stream(stream)));
                self.remember(login, liveness.clone());
                (login.clone(), liveness)
            })
            .collect())
    }

    async fn twitch_token(&self, credentials: &TwitchCredentials, fresh: bool) -> Result<Secret, PlatformError> {
        let fingerprint = credentials.fingerprint();
        if !fresh && let Some(token) = self.tokens.get(&fingerprint, self.clock.now()) {
            return Ok(token);
        }
        let token = self.twitch.app_token(credentials).await?;
        // Kept until five minutes before Twitch says it expires.
        let lifetime = i64::try_from(token.expires_in_secs.saturating_sub(300)).unwrap_or(i64::MAX / 2000) * 1000;
        self.tokens.put_for(fingerprint, token.token.clone(), self.clock.now(), lifetime);
        Ok(token.token)
    }

    async fn twitch_live(
        &self,
        credentials: &TwitchCredentials,
        logins: &[TwitchLogin],
    ) -> Result<Vec<TwitchStream>, Failure> {
        let token = self.twitch_token(credentials, false).await?;
        Ok(match self.twitch.streams(&credentials.client_id, &token, logins).await {
            Err(PlatformError::TokenRefused) => {
                // Once: a token Twitch stopped accepting early (revoked, or expired sooner than said).
                self.tokens.remove(&credentials.fingerprint());
                let token = self.twitch_token(credentials, true).await?;
                self.twitch.streams(&credentials.client_id, &token, logins).await?
            }
            other => other?,
        })
    }

    /// Is the TikTok account live? `None` when the name is `none` or empty (no call). Any failure of
    /// TikTok's is [`Unknown::Unreadable`], never a guess and never an error.
    pub async fn tiktok(&self, field: &'static str, user: &str) -> Outcome<Option<StreamStatus>> {
        let Some(user) = Self::name::<TikTokUser>(field, user)? else { return Ok(None) };
        if let Some(status) = self.cached(&user) {
            return Ok(Some(status));
        }
        let liveness = self.tiktok_uncached(&user, Budget::Routes).await?;
        Ok(Some(self.remember(&user, liveness)))
    }

    async fn tiktok_uncached(&self, user: &TikTokUser, budget: Budget) -> Outcome<Liveness> {
        self.window(Platform::TikTok, budget)?;
        let page = self
            .within_deadline(Platform::TikTok, async { self.tiktok.live_page(user).await.map_err(Failure::Platform) })
            .await;
        Ok(match page {
            Ok(TikTokPage::Live { room_id, title, started_at, viewers }) => Liveness::Live(LiveStream {
                title,
                video_url: None,
                started_at,
                viewers,
                game: None,
                thumbnail_url: None,
                stream_id: Some(room_id),
            }),
            Ok(TikTokPage::Offline) => Liveness::Offline,
            Ok(TikTokPage::Unreadable) | Err(_) => Liveness::Unknown(Unknown::Unreadable),
        })
    }

    /// The three checks at once, each within its own deadline; one platform's failure is its own
    /// entry's. Skipped platforms are left out; the order is YouTube, Twitch, TikTok.
    pub async fn check_all(&self, names: &CheckAll, sent: &Credentials) -> Vec<CheckAllEntry> {
        let name = |text: &Option<String>| text.clone().unwrap_or_default();
        let (youtube, twitch, tiktok) = (name(&names.youtube), name(&names.twitch), name(&names.tiktok));
        let (y, t, k) = join3(
            self.youtube("youtubeHandle", &youtube, sent),
            self.twitch("twitchUser", &twitch, sent),
            self.tiktok("tikTokUser", &tiktok),
        )
        .await;
        [(Platform::YouTube, youtube, y), (Platform::Twitch, twitch, t), (Platform::TikTok, tiktok, k)]
            .into_iter()
            .filter_map(|(platform, user, outcome)| match outcome {
                Ok(None) => None,
                Ok(Some(status)) => Some(CheckAllEntry { platform, user, result: Ok(status) }),
                Err(err) => Some(CheckAllEntry { platform, user, result: Err(err) }),
            })
            .collect()
    }

    /// The alert loop's YouTube check: never from the cache (the loop decides how often), from the
    /// loop's own budget of checks, the answer cached for the routes.
    pub async fn poll_youtube(&self, handle: &YouTubeHandle, key: &YouTubeKey) -> Outcome<Liveness> {
        let liveness = self.youtube_uncached(handle, key, None, Budget::Alerts).await?;
        self.remember(handle, liveness.clone());
        Ok(liveness)
    }

    /// The alert loop's Twitch check of up to [`TWITCH_LOGINS_PER_CALL`] logins in one call, likewise.
    pub async fn poll_twitch(
        &self,
        credentials: &TwitchCredentials,
        logins: &[TwitchLogin],
    ) -> Outcome<Vec<(TwitchLogin, Liveness)>> {
        if logins.len() > TWITCH_LOGINS_PER_CALL {
            return Err(StreamError::Invalid {
                field: "logins",
                message: format!("at most {TWITCH_LOGINS_PER_CALL} in one call"),
            });
        }
        self.twitch_uncached(credentials, None, logins, Budget::Alerts).await
    }

    /// The alert loop's TikTok check, likewise.
    pub async fn poll_tiktok(&self, user: &TikTokUser) -> Outcome<Liveness> {
        let liveness = self.tiktok_uncached(user, Budget::Alerts).await?;
        self.remember(user, liveness.clone());
        Ok(liveness)
    }

    /// YouTube units `key` may still spend this Pacific day, and the milliseconds until the day ends:
    /// what the alert loop paces its YouTube checks by.
    pub fn youtube_units_left(&self, key: &YouTubeKey) -> (u64, i64) {
        let now = self.clock.now();
        let left = self.settings.youtube_daily_quota.saturating_sub(self.quota.spent(&key.fingerprint(), now));
        (left, next_pacific_midnight(now).millis() - now.millis())
    }

    /// An app access token for `credentials` (kept as for the checks), for EventSub's calls.
    pub(super) async fn twitch_app_token(&self, credentials: &TwitchCredentials) -> Outcome<Secret> {
        let fingerprint = credentials.fingerprint();
        self.twitch_token(credentials, false)
            .await
            .map_err(|err| self.platform_error(Platform::Twitch, err, &fingerprint, None))
    }

    /// The service's own credentials, which come before anyone else's.
    pub fn configured(&self) -> Credentials {
        Credentials { youtube_key: self.settings.youtube_key.clone(), twitch: self.settings.twitch.clone() }
    }

    /// YouTube units spent today with the configured key (for operators and benchmarks).
    pub fn youtube_units_spent(&self, key: &YouTubeKey) -> u64 {
        self.quota.spent(&key.fingerprint(), self.clock.now())
    }
}

/// Whose budget of uncached checks a check spends.
#[derive(Debug, Clone, Copy)]
enum Budget {
    /// The routes' callers'.
    Routes = 0,
    /// The alert loop's.
    Alerts = 1,
}

/// A live Twitch stream as answers carry it.
fn twitch_stream(stream: &TwitchStream) -> LiveStream {
    LiveStream {
        title: stream.title.clone(),
        video_url: None,
        started_at: stream.started_at,
        viewers: Some(stream.viewers),
        game: Some(stream.game.clone()).filter(|game| !game.is_empty()),
        thumbnail_url: stream.thumbnail_url.clone(),
        stream_id: Some(stream.id.clone()),
    }
}

/// A failure inside one check: the platform's, or the service's own answer.
#[derive(Debug)]
enum Failure {
    Platform(PlatformError),
    Service(StreamError),
}

impl From<PlatformError> for Failure {
    fn from(err: PlatformError) -> Self {
        Self::Platform(err)
    }
}
