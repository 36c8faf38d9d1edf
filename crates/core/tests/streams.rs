//! The stream checks over fake platforms that count their calls: cache lifetimes, YouTube's quota per
//! key and Pacific day, Twitch's token kept and fetched again once, TikTok never guessed, the budget of
//! uncached checks, deadlines, and check-all's independence.

mod fakes;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use fakes::run;
use garrison_core::streams::{
    AppToken, CheckAll, Credentials, LiveStream, Liveness, Platform, PlatformError, Secret, StreamError, StreamFuture,
    StreamService, StreamSettings, TikTokPage, TikTokPages, TikTokUser, TwitchApi, TwitchCredentials, TwitchLogin,
    TwitchStream, Unknown, YouTubeApi, YouTubeChannel, YouTubeHandle, YouTubeKey, YouTubeVideo,
};
use garrison_core::{SleepFuture, Sleeper, Timestamp};
use garrison_testkit::ManualClock;

/// A winter noon in Los Angeles (20:00 UTC).
const NOON: Timestamp = Timestamp::from_millis(1_768_680_000_000);

/// A video: id, title, live.
type Video = (String, String, bool);

#[derive(Default)]
struct Platforms {
    calls: Mutex<Vec<String>>,
    /// Handle (lower case) → (channel id, videos newest first: (id, title, live)).
    channels: Mutex<HashMap<String, Vec<Video>>>,
    refused_keys: HashSet<String>,
    quota_exceeded: Mutex<bool>,
    hang: Mutex<HashSet<Platform>>,
    /// Twitch: live logins, tokens issued, and how many more Get Streams calls refuse the token.
    twitch_live: Mutex<HashSet<String>>,
    tokens: Mutex<u32>,
    token_lifetime: u64,
    refuse_token: Mutex<u32>,
    tiktok: Mutex<HashMap<String, Result<TikTokPage, PlatformError>>>,
    /// Added to Twitch's stream id: a new broadcast after going offline.
    twitch_broadcast: Mutex<u64>,
}

impl Platforms {
    fn new() -> Self {
        Self { token_lifetime: 3_600, ..Self::default() }
    }

    fn note(&self, call: &str) {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).push(call.to_owned());
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn forget_calls(&self) {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn hangs(&self, platform: Platform) -> bool {
        self.hang.lock().unwrap_or_else(PoisonError::into_inner).contains(&platform)
    }

    fn youtube_answer<T: Send + 'static>(
        &self,
        call: &str,
        key: &YouTubeKey,
        answer: impl FnOnce() -> T,
    ) -> StreamFuture<'_, T> {
        self.note(call);
        if self.hangs(Platform::YouTube) {
            return Box::pin(std::future::pending());
        }
        let result = if self.refused_keys.contains(key.expose()) {
            Err(PlatformError::CredentialsRefused)
        } else if *self.quota_exceeded.lock().unwrap_or_else(PoisonError::into_inner) {
            Err(PlatformError::QuotaExceeded)
        } else {
            Ok(answer())
        };
        Box::pin(std::future::ready(result))
    }

    fn set_channel(&self, handle: &str, videos: &[(&str, &str, bool)]) {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner).insert(
            handle.to_ascii_lowercase(),
            videos.iter().map(|(id, title, live)| ((*id).to_owned(), (*title).to_owned(), *live)).collect(),
        );
    }
}

impl YouTubeApi for Platforms {
    fn channel(&self, key: &YouTubeKey, handle: &YouTubeHandle) -> StreamFuture<'_, Option<YouTubeChannel>> {
        let found = self.channels.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&handle.key());
        let handle = handle.key();
        self.youtube_answer("channels", key, move || {
            found.then(|| YouTubeChannel { id: format!("UC{handle}"), uploads: format!("UU{handle}") })
        })
    }

    fn playlist(&self, key: &YouTubeKey, playlist: &str, max: u8) -> StreamFuture<'_, Vec<String>> {
        assert!(max <= 50, "YouTube's pages hold 50");
        let handle = playlist.trim_start_matches("UU").to_owned();
        let videos = self.channels.lock().unwrap_or_else(PoisonError::into_inner).get(&handle).cloned();
        self.youtube_answer("playlistItems", key, move || {
            videos.unwrap_or_default().into_iter().take(usize::from(max)).map(|(id, _, _)| id).collect()
        })
    }

    fn videos(&self, key: &YouTubeKey, ids: &[String]) -> StreamFuture<'_, Vec<YouTubeVideo>> {
        assert!(ids.len() <= 50, "YouTube takes 50 ids");
        let all: Vec<Video> =
            self.channels.lock().unwrap_or_else(PoisonError::into_inner).values().flatten().cloned().collect();
        let ids = ids.to_vec();
        self.youtube_answer("videos", key, move || {
            all.into_iter()
                .filter(|(id, _, _)| ids.contains(id))
                .map(|(id, title, live)| YouTubeVideo {
                    id,
                    title,
                    live,
                    started_at: live.then_some(NOON),
                    viewers: live.then_some(42),
                    thumbnail_url: None,
                })
                .collect()
        })
    }
}

impl TwitchApi for Platforms {
    fn app_token(&self, credentials: &TwitchCredentials) -> StreamFuture<'_, AppToken> {
        self.note("token");
        if credentials.client_secret.expose() == "wrong" {
            return Box::pin(std::future::ready(Err(PlatformError::CredentialsRefused)));
        }
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        *tokens += 1;
        let token = Secret::parse("token", &format!("token{tokens}")).expect("token");
        Box::pin(std::future::ready(Ok(AppToken { token, expires_in_secs: self.token_lifetime })))
    }

    fn streams(
        &self,
        _client_id: &Secret,
        token: &Secret,
        logins: &[TwitchLogin],
    ) -> StreamFuture<'_, Vec<TwitchStream>> {
        self.note(&format!("streams with {}", token.expose()));
        if self.hangs(Platform::Twitch) {
            return Box::pin(std::future::pending());
        }
        let mut refuse = self.refuse_token.lock().unwrap_or_else(PoisonError::into_inner);
        if *refuse > 0 {
            *refuse -= 1;
            return Box::pin(std::future::ready(Err(PlatformError::TokenRefused)));
        }
        let live = self.twitch_live.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let streams = logins
            .iter()
            .filter(|login| live.contains(&login.key()))
            .map(|login| TwitchStream {
                id: format!("{}", 9001 + *self.twitch_broadcast.lock().unwrap_or_else(PoisonError::into_inner)),
                login: login.key(),
                title: "Gaming".into(),
                game: "Just Chatting".into(),
                viewers: 50_000,
                started_at: Some(NOON),
                thumbnail_url: None,
            })
            .collect();
        Box::pin(std::future::ready(Ok(streams)))
    }
}

impl TikTokPages for Platforms {
    fn live_page(&self, user: &TikTokUser) -> StreamFuture<'_, TikTokPage> {
        self.note("tiktok");
        let page = self.tiktok.lock().unwrap_or_else(PoisonError::into_inner).get(&user.key()).cloned();
        Box::pin(std::future::ready(page.unwrap_or(Ok(TikTokPage::Unreadable))))
    }
}

/// Deadlines pass at once: a platform answers in time only when its answer is ready when first asked.
struct Instant;

impl Sleeper for Instant {
    fn sleep(&self, _ms: u64) -> SleepFuture {
        Box::pin(std::future::ready(()))
    }
}

fn service(platforms: &Arc<Platforms>, clock: &Arc<ManualClock>, settings: StreamSettings) -> StreamService {
    StreamService::new(
        platforms.clone(),
        platforms.clone(),
        platforms.clone(),
        clock.clone(),
        Arc::new(Instant),
        settings,
    )
}

fn key(text: &str) -> YouTubeKey {
    Secret::parse("key", text).expect("key")
}

fn with_key(text: &str) -> Credentials {
    Credentials { youtube_key: Some(key(text)), twitch: None }
}

fn twitch_credentials(secret: &str) -> Credentials {
    Credentials {
        youtube_key: None,
        twitch: Some(TwitchCredentials {
            client_id: Secret::parse("id", "client").expect("id"),
            client_secret: Secret::parse("secret", secret).expect("secret"),
        }),
    }
}

fn liveness(status: Result<Option<garrison_core::streams::StreamStatus>, StreamError>) -> Liveness {
    status.expect("checked").expect("not skipped").liveness
}

#[test]
fn a_youtube_check_spends_two_units_and_the_handle_one_unit_a_month() {
    let platforms = Arc::new(Platforms::new());
    platforms.set_channel("MrBeast", &[("v3", "Shorts", false), ("v2", "Live now", true), ("v1", "Old", false)]);
    let clock = Arc::new(ManualClock::at(NOON));
    let streams = service(&platforms, &clock, StreamSettings::default());
    let sent = with_key("caller-key");

    let status = run(streams.youtube("handle", "@MrBeast", &sent)).expect("checked").expect("not skipped");
    assert_eq!((status.user.as_str(), status.url.as_str()), ("@MrBeast", "https://youtube.com/@MrBeast"));
    let Liveness::Live(LiveStream { title, video_url, viewers, stream_id, .. }) = status.liveness else {
        panic!("live: {:?}", status.liveness)
    };
    assert_eq!(title, "Live now");
    assert_eq!(video_url.as_deref(), Some("https://www.youtube.com/watch?v=v2"));
    assert_eq!((viewers, stream_id.as_deref()), (Some(42), Some("v2")));
    assert_eq!(platforms.calls(), ["channels", "playlistItems", "videos"]);
    assert_eq!(streams.youtube_units_spent(&key("caller-key")), 3);

    // Within 15 minutes: the same answer, no call, whatever the letter case.
    platforms.forget_calls();
    clock.advance_millis(15 * 60_000 - 1);
    assert!(matches!(liveness(run(streams.youtube("handle", "mrbeast", &sent))), Liveness::Live(_)));
    assert!(platforms.calls().is_empty(), "{:?}", platforms.calls());

    // Then a new check, without looking the handle up again: two units.
    clock.advance_millis(1);
    platforms.set_channel("MrBeast", &[("v3", "Shorts", false), ("v2", "Ended", false)]);
    assert_eq!(liveness(run(streams.youtube("handle", "@MrBeast", &sent))), Liveness::Offline);
    assert_eq!(platforms.calls(), ["playlistItems", "videos"]);
    assert_eq!(streams.youtube_units_spent(&key("caller-key")), 5);
}

#[test]
fn none_skips_without_any_call_and_bad_names_are_named() {
    let platforms = Arc::new(Platforms::new());
    let clock = Arc::new(ManualClock::at(NOON));
    let streams = service(&platforms, &clock, StreamSettings::default());
    for skip in ["none", "", "NONE"] {
        assert_eq!(run(streams.youtube("handle", skip, &Credentials::default())), Ok(None));
        assert_eq!(run(streams.twitch("user", skip, &Credentials::default())), Ok(None));
        assert_eq!(run(streams.tiktok("user", skip)), Ok(None));
    }
    assert!(platforms.calls().is_empty());
    let err = run(streams.youtube("handle", "a b", &with_key("k"))).expect_err("invalid");
    assert!(err.to_string().starts_with("handle: must be a YouTube handle"), "{err}");
    let err = run(streams.youtube("handle", "@MrBeast", &Credentials::default())).expect_err("no key");
    assert_eq!(err.to_string(), "X-YouTube-ApiKey: no YouTube credentials were sent and none are configured");
    assert!(platforms.calls().is_empty());
}

#[test]
fn an_unknown_handle_is_not_found_and_not_looked_up_again_for_an_hour() {
    let platforms = Arc::new(Platforms::new());
    let clock = Arc::new(ManualClock::at(NOON));
    let streams = service(&platforms, &clock, StreamSettings::default());
    let sent = with_key("caller-key");
    for _ in 0..3 {
        let err = run(streams.youtube("handle", "@nobody", &sent)).expect_err("no channel");
        assert_eq!(err, StreamError::NoChannel { handle: "@nobody".into() });
    }
    assert_eq!(platforms.calls(), ["channels"]);
    clock.advance_millis(3_600_000);
    let _ = run(streams.youtube("handle", "@nobody", &sent));
    assert_eq!(platforms.calls(), ["channels", "channels"]);
}

#[test]
fn a_spent_quota_answers_unknown_until_the_next_pacific_day() {
    let platforms = Arc::new(Platforms::new());
    for handle in ["aaa", "bbb", "ccc"] {
        platforms.set_channel(handle, &[("v", "Video", false)]);
    }
    let clock = Arc::new(ManualClock::at(NOON));
    let settings = StreamSettings { youtube_daily_quota: 7, ..StreamSettings::default() };
    let streams = service(&platforms, &clock, settings);
    let sent = with_key("caller-key");
    assert_eq!(liveness(run(streams.youtube("handle", "aaa", &sent))), Liveness::Offline);
    assert_eq!(liveness(run(streams.youtube("handle", "bbb", &sent))), Liveness::Offline);
    assert_eq!(streams.youtube_units_spent(&key("caller-key")), 6);
    platforms.forget_calls();
    // A third handle would need 3 units: Garrison does not ask, and does not say "offline".
    assert_eq!(liveness(run(streams.youtube("handle", "ccc", &sent))), Liveness::Unknown(Unknown::QuotaExhausted));
    assert!(platforms.calls().is_empty());
    // Another key has its own quota.
    assert_eq!(liveness(run(streams.youtube("handle", "ccc", &with_key("other-key")))), Liveness::Offline);

    // YouTube's own word (the key is shared with other software) ends the day too.
    let platforms = Arc::new(Platforms::new());
    platforms.set_channel("aaa", &[("v", "Video", false)]);
    *platforms.quota_exceeded.lock().unwrap_or_else(PoisonError::into_inner) = true;
    let streams = service(&platforms, &clock, StreamSettings::default());
    assert_eq!(liveness(run(streams.youtube("handle", "aaa", &sent))), Liveness::Unknown(Unknown::QuotaExhausted));
    *platforms.quota_exceeded.lock().unwrap_or_else(PoisonError::into_inner) = false;
    platforms.forget_calls();
    assert_eq!(liveness(run(streams.youtube("handle", "aaa", &sent))), Liveness::Unknown(Unknown::QuotaExhausted));
    assert!(platforms.calls().is_empty(), "not asked again the same day");
    // 08:00 UTC in January is midnight in Los Angeles.
    clock.set(Timestamp::from_millis(NOON.millis() + 12 * 3_600_000));
    assert_eq!(liveness(run(streams.youtube("handle", "aaa", &sent))), Liveness::Offline);
}

#[test]
fn the_configured_key_comes_first_and_refused_keys_are_not_sent_again() {
    let platforms = Arc::new(Platforms { refused_keys: HashSet::from(["bad-key".to_owned()]), ..Platforms::new() });
    platforms.set_channel("aaa", &[("v", "Video", false)]);
    let clock = Arc::new(ManualClock::at(NOON));
    let settings = StreamSettings { youtube_key: Some(key("configured-key")), ..StreamSettings::default() };
    let streams = service(&platforms, &clock, settings);
    assert_eq!(liveness(run(streams.youtube("handle", "aaa", &with_key("bad-key")))), Liveness::Offline);
    assert_eq!(streams.youtube_units_spent(&key("configured-key")), 3);
    assert_eq!(streams.youtube_units_spent(&key("bad-key")), 0);

    let streams = service(&platforms, &clock, StreamSettings::default());
    platforms.forget_calls();
    for _ in 0..3 {
        let err = run(streams.youtube("handle", "aaa", &with_key("bad-key"))).expect_err("refused");
        assert_eq!(
            err,
            StreamError::CredentialsRefused { platform: Platform::YouTube, header: Some("X-YouTube-ApiKey") }
        );
        assert_eq!(err.to_string(), "YouTube refused the credentials in X-YouTube-ApiKey");
    }
    assert_eq!(platforms.calls(), ["channels"], "a refused key is remembered");
}

#[test]
fn twitchs_token_is_kept_until_near_its_expiry_and_fetched_again_once_when_refused() {
    let platforms = Arc::new(Platforms { token_lifetime: 3_600, ..Platforms::new() });
    platforms.twitch_live.lock().unwrap_or_else(PoisonError::into_inner).insert("xqc".into());
    let clock = Arc::new(ManualClock::at(NOON));
    let streams = service(&platforms, &clock, StreamSettings::default());
    let sent = twitch_credentials("secret");

    let status = run(streams.twitch("user", "xQc", &sent)).expect("checked").expect("not skipped");
    assert_eq!((status.user.as_str(), status.url.as_str()), ("xQc", "https://twitch.tv/xqc"));
    let Liveness::Live(stream) = status.liveness else { panic!("live") };
    assert_eq!(
        (stream.title.as_str(), stream.viewers, stream.game.as_deref()),
        ("Gaming", Some(50_000), Some("Just Chatting"))
    );
    assert!(matches!(liveness(run(streams.twitch("user", "xqc", &sent))), Liveness::Live(_)), "kept 60 s");
    assert_eq!(platforms.calls(), ["token", "streams with token1"]);

    clock.advance_millis(60_000);
    assert_eq!(liveness(run(streams.twitch("user", "other", &sent))), Liveness::Offline);
    assert_eq!(platforms.calls().last().map(String::as_str), Some("streams with token1"), "the token is kept");

    // Five minutes before it expires, a new one.
    platforms.forget_calls();
    clock.advance_millis((3_600 - 300) * 1000);
    let _ = run(streams.twitch("user", "third", &sent));
    assert_eq!(platforms.calls(), ["token", "streams with token2"]);

    // Twitch stops accepting it early: one fresh token, one retry.
    platforms.forget_calls();
    *platforms.refuse_token.lock().unwrap_or_else(PoisonError::into_inner) = 1;
    assert_eq!(liveness(run(streams.twitch("user", "fourth", &sent))), Liveness::Offline);
    assert_eq!(platforms.calls(), ["streams with token2", "token", "streams with token3"]);

    // Refused twice: Twitch is failing, and Garrison does not loop.
    platforms.forget_calls();
    *platforms.refuse_token.lock().unwrap_or_else(PoisonError::into_inner) = 5;
    let err = run(streams.twitch("user", "fifth", &sent)).expect_err("refused twice");
    assert!(matches!(err, StreamError::Unavailable { platform: Platform::Twitch, .. }), "{err}");
    assert_eq!(platforms.calls().len(), 3);

    let err = run(streams.twitch("user", "xqc", &twitch_credentials("wrong"))).expect_err("refused");
    assert_eq!(err.to_string(), "Twitch refused the credentials in X-Twitch-ClientId and X-Twitch-Secret");
}

#[test]
fn tiktok_is_never_guessed() {
    let platforms = Arc::new(Platforms::new());
    let clock = Arc::new(ManualClock::at(NOON));
    let streams = service(&platforms, &clock, StreamSettings::default());
    platforms.tiktok.lock().unwrap_or_else(PoisonError::into_inner).extend([
        (
            "live.one".to_owned(),
            Ok(TikTokPage::Live { room_id: "73".into(), title: "Hi".into(), started_at: None, viewers: Some(3) }),
        ),
        ("gone".to_owned(), Err(PlatformError::Unavailable("TikTok answered 503".into()))),
    ]);
    assert!(matches!(
        liveness(run(streams.tiktok("user", "@Live.One"))),
        Liveness::Live(LiveStream { viewers: Some(3), .. })
    ));
    assert_eq!(liveness(run(streams.tiktok("user", "gone"))), Liveness::Unknown(Unknown::Unreadable));
    assert_eq!(liveness(run(streams.tiktok("user", "changed"))), Liveness::Unknown(Unknown::Unreadable));
    platforms.forget_calls();
    let _ = run(streams.tiktok("user", "live.one"));
    let _ = run(streams.tiktok("user", "gone"));
    assert_eq!(platforms.calls(), ["tiktok"], "live is kept 2 minutes; unknown is asked again");
}

#[test]
fn uncached_checks_are_bounded_per_platform_and_minute() {
    let platforms = Arc::new(Platforms::new());
    let clock = Arc::new(ManualClock::at(Timestamp::from_millis(NOON.millis() + 15_000)));
    let settings = StreamSettings { checks_per_minute: 2, ..StreamSettings::default() };
    let streams = service(&platforms, &clock, settings);
    assert!(run(streams.tiktok("user", "one1")).is_ok());
    assert!(run(streams.tiktok("user", "two2")).is_ok());
    let err = run(streams.tiktok("user", "three")).expect_err("budget spent");
    assert_eq!(err, StreamError::Busy { platform: Platform::TikTok, retry_after_secs: 45 });
    assert_eq!(platforms.calls().len(), 2);
    assert!(run(streams.twitch("user", "other", &twitch_credentials("s"))).is_ok(), "per platform");
    clock.advance_millis(45_000);
    assert!(run(streams.tiktok("user", "three")).is_ok(), "a new minute");
}

#[test]
fn check_all_answers_every_platform_whatever_the_others_do() {
    let platforms = Arc::new(Platforms::new());
    platforms.hang.lock().unwrap_or_else(PoisonError::into_inner).insert(Platform::YouTube);
    platforms.set_channel("aaa", &[("v", "Video", false)]);
    platforms.twitch_live.lock().unwrap_or_else(PoisonError::into_inner).insert("xqc".into());
    let clock = Arc::new(ManualClock::at(NOON));
    let settings = StreamSettings { timeout_ms: 5_000, ..StreamSettings::default() };
    let streams = service(&platforms, &clock, settings);
    let mut sent = twitch_credentials("secret");
    sent.youtube_key = Some(key("caller-key"));
    let names = CheckAll { youtube: Some("@aaa".into()), twitch: Some("xqc".into()), tiktok: Some("none".into()) };
    let entries = run(streams.check_all(&names, &sent));
    assert_eq!(entries.len(), 2, "TikTok skipped: {entries:?}");
    assert_eq!((entries[0].platform, entries[0].user.as_str()), (Platform::YouTube, "@aaa"));
    let err = entries[0].result.clone().expect_err("YouTube hangs");
    assert_eq!(err.to_string(), "YouTube is unavailable: no answer within 5000 ms");
    assert!(matches!(&entries[1].result, Ok(status) if matches!(status.liveness, Liveness::Live(_))));

    let names = CheckAll { youtube: Some("bad handle".into()), twitch: None, tiktok: Some("khaby.lame".into()) };
    let entries = run(streams.check_all(&names, &Credentials::default()));
    assert_eq!(entries.len(), 2);
    assert!(entries[0].result.clone().expect_err("invalid").to_string().starts_with("youtubeHandle: "));
    assert!(matches!(&entries[1].result, Ok(status) if status.liveness == Liveness::Unknown(Unknown::Unreadable)));
}

mod watches {
    use std::sync::Arc;

    use garrison_core::apikey::Principal;
    use garrison_core::discord::{Overwrite, OverwriteTarget, Permissions};
    use garrison_core::streams::Platform;
    use garrison_core::streams::watches::{
        Added, MAX_WATCHES_PER_SERVER, WatchError, WatchPorts, WatchRequest, WatchService,
    };
    use garrison_core::threads::{InlineThreads, InlineWrites};
    use garrison_core::{ApiKeyId, ServerId, Timestamp};
    use garrison_testkit::{ManualClock, MemoryRecords};

    use super::fakes::{self, BOT_ROLE, CHANNEL, FakeDiscord, GUILD, run};

    fn service(discord: &FakeDiscord) -> WatchService {
        // Everyone may post embeds in the fake's channel (the bot needs it for alerts).
        discord.world(|w| w.roles[0].permissions = w.roles[0].permissions.union(Permissions::EMBED_LINKS));
        let records = Arc::new(MemoryRecords::default());
        WatchService::new(WatchPorts {
            watches: records.clone(),
            keys: records,
            discord: Arc::new(discord.clone()),
            threads: Arc::new(InlineThreads),
            writer: Arc::new(InlineWrites),
            clock: Arc::new(ManualClock::at(Timestamp::from_millis(1_700_000_000_000))),
        })
    }

    fn key(server: ServerId, read_only: bool) -> Principal {
        Principal { key_id: ApiKeyId(1), server, name: "alerts".into(), read_only }
    }

    fn request(user: &str) -> WatchRequest {
        WatchRequest {
            platform: "Twitch".into(),
            user: user.into(),
            channel: CHANNEL,
            message: Some("  We are live!  ".into()),
            mention_role: Some(BOT_ROLE),
        }
    }

    #[test]
    fn keys_are_checked_before_discord_is_asked() {
        let discord = FakeDiscord::with_server_bot();
        let watches = service(&discord);
        let other = ServerId::from_discord(fakes::id(99)).expect("a server");
        for caller in [key(GUILD, true), key(other, false)] {
            let err = run(watches.add(&caller, GUILD, request("xqc"))).expect_err("refused");
            assert!(matches!(err, WatchError::Core(garrison_core::Error::Forbidden(_))), "{err}");
        }
        assert!(discord.world(|w| w.calls.is_empty()), "no call before the key is checked");
    }

    #[test]
    fn a_watch_names_the_servers_own_channel_and_role() {
        let discord = FakeDiscord::with_server_bot();
        let watches = service(&discord);
        let caller = key(GUILD, false);
        let Added::Added(watch) = run(watches.add(&caller, GUILD, request("@xQc"))).expect("added") else {
            panic!("added")
        };
        assert_eq!((watch.platform, watch.streamer.as_str()), (Platform::Twitch, "xQc"));
        assert_eq!(watch.message.as_deref(), Some("We are live!"));
        assert!(matches!(run(watches.add(&caller, GUILD, request("xqc"))), Ok(Added::Exists(_))));
        // A channel of another guild.
        discord.world(|w| w.channels[0].guild_id = Some(fakes::id(99)));
        let err = run(watches.add(&caller, GUILD, request("other"))).expect_err("not this server's");
        assert!(err.to_string().starts_with("channelId: no channel"), "{err}");
        discord.world(|w| w.channels[0].guild_id = Some(GUILD.snowflake()));
        let mut foreign = request("other");
        foreign.mention_role = Some(fakes::id(98));
        let err = run(watches.add(&caller, GUILD, foreign)).expect_err("not this server's role");
        assert!(err.to_string().starts_with("roleIdToMention: no role"), "{err}");
        let mut everyone = request("other");
        everyone.mention_role = Some(GUILD.snowflake());
        assert!(run(watches.add(&caller, GUILD, everyone)).is_err(), "@everyone is not a role to mention");
        // A channel where the bot may not post: refused, naming what it lacks.
        discord.world(|w| {
            w.channels[0].overwrites = vec![Overwrite {
                target: OverwriteTarget::Role(GUILD.snowflake()),
                allow: Permissions::NONE,
                deny: Permissions::SEND_MESSAGES.union(Permissions::EMBED_LINKS),
            }];
        });
        let err = run(watches.add(&caller, GUILD, request("other"))).expect_err("the bot may not post there");
        assert!(err.to_string().ends_with("it lacks Send Messages, Embed Links"), "{err}");
        discord.world(|w| w.channels[0].overwrites.clear());
        let mut long = request("other");
        long.message = Some("x".repeat(1_001));
        assert!(run(watches.add(&caller, GUILD, long)).expect_err("long").to_string().starts_with("message: "));

        for n in 1..MAX_WATCHES_PER_SERVER {
            assert!(run(watches.add(&caller, GUILD, request(&format!("user_{n}")))).is_ok());
        }
        assert!(matches!(run(watches.add(&caller, GUILD, request("one_more"))), Err(WatchError::Full)));
        assert_eq!(run(watches.list(&key(GUILD, true), GUILD)).expect("listed").len(), MAX_WATCHES_PER_SERVER);
        run(watches.remove(&caller, GUILD, watch.id)).expect("removed");
        assert!(matches!(run(watches.remove(&caller, GUILD, watch.id)), Err(WatchError::NotFound(_))));
    }

    #[test]
    fn without_a_server_bot_nothing_is_kept() {
        let watches = service(&FakeDiscord::default());
        let err = run(watches.add(&key(GUILD, false), GUILD, request("xqc"))).expect_err("no bot");
        assert!(matches!(err, WatchError::NoServerBot));
        assert!(run(watches.list(&key(GUILD, false), GUILD)).expect("listed").is_empty());
    }

    #[test]
    fn credentials_are_set_kept_or_forgotten_one_by_one() {
        let watches = service(&FakeDiscord::default());
        let caller = key(GUILD, false);
        let text = |s: &str| Some(s.to_owned());
        let set = run(watches.set_keys(&caller, GUILD, text("yt-key"), text("id"), text("secret"))).expect("set");
        assert!(set.youtube && set.twitch);
        let set = run(watches.set_keys(&caller, GUILD, text(""), None, None)).expect("forget one");
        assert!(!set.youtube && set.twitch);
        let err = run(watches.set_keys(&caller, GUILD, None, text("id"), None)).expect_err("half a pair");
        assert!(err.to_string().starts_with("twitchClientSecret: "), "{err}");
        let err = run(watches.set_keys(&key(GUILD, true), GUILD, text("k"), None, None)).expect_err("read-only");
        assert!(matches!(err, WatchError::Core(garrison_core::Error::Forbidden(_))));
        assert_eq!(run(watches.keys(&key(GUILD, true), GUILD)).expect("read"), set);
    }
}

mod alerts {
    use std::sync::{Arc, PoisonError};

    use garrison_core::ServerId;
    use garrison_core::discord::Snowflake;
    use garrison_core::streams::alerts::{AlertPorts, AlertService, PollReport};
    use garrison_core::streams::watches::{Added, NewWatch, ServerStreamKeys, StreamKeyStore, StreamWatches, Watch};
    use garrison_core::streams::{Platform, Secret, StreamService, StreamSettings, TikTokPage, TwitchCredentials};
    use garrison_core::threads::{InlineThreads, InlineWrites};
    use garrison_testkit::{ManualClock, MemoryRecords};

    use super::fakes::{self, CHANNEL, FakeDiscord, GUILD, run};
    use super::{NOON, Platforms, key};

    struct Loop {
        platforms: Arc<Platforms>,
        clock: Arc<ManualClock>,
        records: Arc<MemoryRecords>,
        discord: FakeDiscord,
        streams: Arc<StreamService>,
        alerts: AlertService,
    }

    fn twitch(secret: &str) -> TwitchCredentials {
        TwitchCredentials {
            client_id: Secret::parse("id", "client").expect("id"),
            client_secret: Secret::parse("secret", secret).expect("secret"),
        }
    }

    fn start(settings: StreamSettings) -> Loop {
        let platforms = Arc::new(Platforms::new());
        let clock = Arc::new(ManualClock::at(NOON));
        let streams = Arc::new(super::service(&platforms, &clock, settings));
        let (records, discord) = (Arc::new(MemoryRecords::default()), FakeDiscord::with_server_bot());
        let alerts = alerts_over(&records, &discord, &clock, Arc::clone(&streams));
        Loop { platforms, clock, records, discord, streams, alerts }
    }

    fn alerts_over(
        records: &Arc<MemoryRecords>,
        discord: &FakeDiscord,
        clock: &Arc<ManualClock>,
        streams: Arc<StreamService>,
    ) -> AlertService {
        AlertService::new(
            AlertPorts {
                watches: records.clone(),
                keys: records.clone(),
                alerts: records.clone(),
                discord: Arc::new(discord.clone()),
                threads: Arc::new(InlineThreads),
                writer: Arc::new(InlineWrites),
                clock: clock.clone(),
                outbox: garrison_testkit::outbox(records.clone()),
            },
            streams,
        )
    }

    impl Loop {
        fn watch(&self, server: ServerId, platform: Platform, streamer: &str, channel: Snowflake) -> Watch {
            let watch = NewWatch {
                server,
                platform,
                streamer: streamer.into(),
                channel,
                message: Some("@everyone come".into()),
                mention_role: Some(fakes::BOT_ROLE),
            };
            match self.records.add(&watch, NOON, 100).expect("add") {
                Added::Added(watch) => watch,
                other => panic!("{other:?}"),
            }
        }

        fn poll(&self) -> PollReport {
            self.clock.advance_millis(60_000);
            run(self.alerts.poll()).expect("a round")
        }

        fn go_live(&self, login: &str) {
            self.platforms.twitch_live.lock().unwrap_or_else(PoisonError::into_inner).insert(login.into());
        }

        fn clock_now(&self) -> String {
            use garrison_core::Clock as _;
            self.clock.now().to_iso8601()
        }

        fn go_offline(&self, login: &str) {
            self.platforms.twitch_live.lock().unwrap_or_else(PoisonError::into_inner).remove(login);
            *self.platforms.twitch_broadcast.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        }
    }

    fn with_twitch() -> StreamSettings {
        StreamSettings { twitch: Some(twitch("right")), ..StreamSettings::default() }
    }

    #[test]
    fn one_check_serves_every_watch_and_each_stream_is_announced_once_then_edited() {
        let l = start(with_twitch());
        let other_server = ServerId::from_discord(fakes::id(77)).expect("server");
        l.records.subscribe_all(GUILD);
        for n in 0..30 {
            let server = if n % 2 == 0 { GUILD } else { other_server };
            l.watch(server, Platform::Twitch, if n < 15 { "xQc" } else { "shroud" }, fakes::id(500 + n));
        }
        let report = l.poll();
        assert_eq!((report.watches, report.streamers, report.checks), (30, 2, 1), "{report:?}");
        assert_eq!(l.platforms.calls(), ["token", "streams with token1"], "two streamers in one call");
        assert_eq!(report.posted, 0);

        l.go_live("xqc");
        l.platforms.forget_calls();
        let report = l.poll();
        assert_eq!(l.platforms.calls(), ["streams with token1"], "the token is kept; one call again");
        assert_eq!(report.posted, 15, "{report:?}");
        let posted = l.discord.world(|w| w.posted.clone());
        assert_eq!(posted.len(), 15);
        let (_, _, first) = &posted[0];
        assert_eq!(first.content.as_deref(), Some(&*format!("<@&{}> @everyone come", fakes::BOT_ROLE)));
        assert_eq!(first.ping_role, Some(fakes::BOT_ROLE), "the chosen role, and nothing else, pings");
        assert_eq!(first.embeds[0].title.as_deref(), Some("Gaming"));
        assert_eq!(first.embeds[0].url.as_deref(), Some("https://twitch.tv/xqc"));

        // Still live: nothing new, however many rounds.
        for _ in 0..3 {
            assert_eq!(l.poll().posted, 0);
        }
        assert_eq!(l.discord.world(|w| w.posted.len()), 15);

        l.go_offline("xqc");
        let report = l.poll();
        assert_eq!((report.ended, report.posted), (15, 0), "{report:?}");
        let edits = l.discord.world(|w| w.edits.clone());
        assert_eq!(edits.len(), 15);
        let ended = &edits[0].2.embeds.as_ref().expect("embeds")[0];
        assert!(ended.description.as_deref().is_some_and(|d| d.starts_with("The stream ended after")), "{ended:?}");
        assert_eq!(l.poll().ended, 0, "ended once");

        // The next broadcast is a new stream: a new alert.
        l.go_live("xqc");
        assert_eq!(l.poll().posted, 15);

        // GUILD's endpoint heard of its own 8 watches of xQc: live, offline, live again.
        let events: Vec<serde_json::Value> =
            l.records.events().iter().map(|e| serde_json::from_str(e).expect("JSON")).collect();
        let kinds = |kind: &str| events.iter().filter(|e| e["type"] == kind).count();
        assert_eq!((kinds("stream.live"), kinds("stream.offline"), events.len()), (16, 8, 24));
        let live = &events[0]["data"];
        assert_eq!((live["platform"].as_str(), live["streamer"].as_str()), (Some("Twitch"), Some("xQc")));
        assert_eq!((live["serverId"].as_str(), live["title"].as_str()), (Some(&*GUILD.to_string()), Some("Gaming")));
        assert!(events.iter().all(|e| e["data"]["serverId"] == GUILD.to_string()), "another server's are not its own");
        let offline = events.iter().find(|e| e["type"] == "stream.offline").expect("offline");
        assert_eq!(offline["data"]["streamId"], live["streamId"]);
        assert!(offline["data"]["endedAt"].is_string());
    }

    #[test]
    fn a_restart_does_not_announce_a_stream_again() {
        let l = start(with_twitch());
        l.watch(GUILD, Platform::Twitch, "xqc", CHANNEL);
        l.go_live("xqc");
        assert_eq!(l.poll().posted, 1);
        // A new process: a new service and loop, the same records.
        let streams = Arc::new(super::service(&l.platforms, &l.clock, with_twitch()));
        let again = alerts_over(&l.records, &l.discord, &l.clock, streams);
        l.clock.advance_millis(60_000);
        let report = run(again.poll()).expect("a round");
        assert_eq!((report.checks, report.posted), (1, 0), "{report:?}");
        l.go_offline("xqc");
        l.clock.advance_millis(60_000);
        assert_eq!(run(again.poll()).expect("a round").ended, 1, "the new process ends the old alert");
    }

    #[test]
    fn a_refused_post_is_not_tried_again() {
        let l = start(with_twitch());
        l.watch(GUILD, Platform::Twitch, "xqc", fakes::id(600));
        l.discord.world(|w| w.closed.push(fakes::id(600)));
        l.go_live("xqc");
        let report = l.poll();
        assert_eq!((report.posted, report.failed_posts), (0, 1), "{report:?}");
        assert!(report.notes[0].contains("Missing"), "{:?}", report.notes);
        assert_eq!(l.poll().failed_posts, 0, "not tried again for the same stream");
        assert_eq!(l.discord.world(|w| w.calls.iter().filter(|c| *c == "send_message").count()), 1);
        l.go_offline("xqc");
        assert_eq!(l.poll().ended, 1, "ended without an edit: there is no message");
        assert!(l.discord.world(|w| w.edits.is_empty()));
    }

    #[test]
    fn servers_own_credentials_are_used_when_none_are_configured() {
        let l = start(StreamSettings::default());
        let (a, b) = (GUILD, ServerId::from_discord(fakes::id(77)).expect("server"));
        l.watch(a, Platform::Twitch, "xqc", fakes::id(600));
        l.watch(b, Platform::Twitch, "xqc", fakes::id(601));
        l.watch(a, Platform::YouTube, "MrBeast", fakes::id(602));
        let report = l.poll();
        assert_eq!((report.without_credentials, report.checks), (2, 0), "{report:?}");
        // a's are refused; b's work, and serve a's watch too.
        l.records.set(a, &ServerStreamKeys { youtube_key: None, twitch: Some(twitch("wrong")) }, NOON).expect("a");
        l.records.set(b, &ServerStreamKeys { youtube_key: None, twitch: Some(twitch("right")) }, NOON).expect("b");
        l.go_live("xqc");
        let report = l.poll();
        assert_eq!((report.posted, report.without_credentials), (2, 1), "{report:?}");
        assert_eq!(l.platforms.calls().iter().filter(|c| c.starts_with("streams")).count(), 1);
    }

    #[test]
    fn youtube_is_checked_as_often_as_the_quota_allows() {
        let settings = StreamSettings { youtube_key: Some(key("k")), ..StreamSettings::default() };
        let l = start(settings);
        for n in 0..10 {
            let handle = format!("channel_{n}");
            l.platforms.set_channel(&handle, &[(&format!("v{n}"), "Live now", n == 0)]);
            l.watch(GUILD, Platform::YouTube, &handle, fakes::id(700 + n));
        }
        // The first round checks all ten (one round's allowance), and announces the live one.
        let report = l.poll();
        assert_eq!((report.checks, report.posted), (10, 1), "{report:?}");
        // Then 9,000 units spread over the 12 hours left of the Pacific day: about 12.5 units, four
        // checks, a minute; the least recently checked first.
        let mut checks = 0;
        for _ in 0..10 {
            let report = l.poll();
            assert!((3..=5).contains(&report.checks), "{report:?}");
            checks += report.checks;
        }
        assert!((35..=45).contains(&checks), "{checks}");
    }

    #[test]
    fn tiktok_unknown_pages_change_nothing() {
        let l = start(StreamSettings::default());
        l.watch(GUILD, Platform::TikTok, "khaby.lame", CHANNEL);
        let live = TikTokPage::Live { room_id: "r1".into(), title: "Hi".into(), started_at: None, viewers: Some(3) };
        l.platforms.tiktok.lock().unwrap_or_else(PoisonError::into_inner).insert("khaby.lame".into(), Ok(live));
        assert_eq!(l.poll().posted, 1);
        l.platforms
            .tiktok
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert("khaby.lame".into(), Ok(TikTokPage::Unreadable));
        let report = l.poll();
        assert_eq!((report.ended, report.posted), (0, 0), "an unreadable page is not the end: {report:?}");
        l.platforms
            .tiktok
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert("khaby.lame".into(), Ok(TikTokPage::Offline));
        assert_eq!(l.poll().ended, 1);
    }

    #[test]
    fn the_loop_has_a_budget_of_its_own() {
        let l = start(StreamSettings { checks_per_minute: 3, ..StreamSettings::default() });
        for n in 0..5 {
            l.watch(GUILD, Platform::TikTok, &format!("user_{n}"), CHANNEL);
        }
        let report = l.poll();
        assert_eq!((report.checks, report.deferred), (5, 2), "{report:?}");
        // The routes' budget is untouched by the loop's: a caller's check this minute still goes out.
        l.platforms.forget_calls();
        run(l.streams.tiktok("user", "someone_else")).expect("the routes' own budget");
        assert_eq!(l.platforms.calls(), ["tiktok"]);
        // The two left for later go first in the next round.
        let report = l.poll();
        assert_eq!((report.checks, report.deferred), (5, 2), "{report:?}");
        let checked = l.platforms.calls().len() - 1;
        assert_eq!(checked, 3);
    }

    mod eventsub {
        use std::sync::{Arc, Mutex, PoisonError};

        use garrison_core::streams::alerts::{Accepted, EventSubSettings, PushError};
        use garrison_core::streams::eventsub::{Delivery, EventSubReceiver};
        use garrison_core::streams::watches::StreamWatches;
        use garrison_core::streams::{
            EventSubscription, Platform, Secret, StreamFuture, TwitchEventSub, TwitchLogin, TwitchUser,
        };

        use super::super::fakes::{self, GUILD, run};
        use super::{Loop, start, with_twitch};

        const CALLBACK: &str = "https://garrison.example/api/Stream/eventsub/twitch?key=abcd1234";

        /// Twitch's subscriptions, as the fake EventSub API keeps them.
        #[derive(Default)]
        struct Subscriptions {
            subs: Mutex<Vec<EventSubscription>>,
            calls: Mutex<Vec<String>>,
        }

        impl Subscriptions {
            fn note(&self, call: String) {
                self.calls.lock().unwrap_or_else(PoisonError::into_inner).push(call);
            }
            fn calls(&self) -> Vec<String> {
                std::mem::take(&mut *self.calls.lock().unwrap_or_else(PoisonError::into_inner))
            }
            fn set_status(&self, status: &str) {
                for sub in self.subs.lock().unwrap_or_else(PoisonError::into_inner).iter_mut() {
                    sub.status = status.into();
                }
            }
            fn count(&self) -> usize {
                self.subs.lock().unwrap_or_else(PoisonError::into_inner).len()
            }
        }

        impl TwitchEventSub for Subscriptions {
            fn users(&self, _: &Secret, _: &Secret, logins: &[TwitchLogin]) -> StreamFuture<'_, Vec<TwitchUser>> {
                self.note(format!("users {}", logins.len()));
                let users =
                    logins.iter().map(|l| TwitchUser { id: format!("id-{}", l.key()), login: l.key() }).collect();
                Box::pin(std::future::ready(Ok(users)))
            }
            fn subscriptions(&self, _: &Secret, _: &Secret) -> StreamFuture<'_, Vec<EventSubscription>> {
                self.note("list".into());
                Box::pin(std::future::ready(Ok(self.subs.lock().unwrap_or_else(PoisonError::into_inner).clone())))
            }
            fn subscribe<'a>(
                &'a self,
                _: &'a Secret,
                _: &'a Secret,
                kind: &'a str,
                broadcaster_id: &'a str,
                callback: &'a str,
                _: &'a Secret,
            ) -> StreamFuture<'a, EventSubscription> {
                self.note(format!("subscribe {kind} {broadcaster_id}"));
                let mut subs = self.subs.lock().unwrap_or_else(PoisonError::into_inner);
                let sub = EventSubscription {
                    id: format!("sub-{}", subs.len() + 100),
                    kind: kind.into(),
                    broadcaster_id: broadcaster_id.into(),
                    status: "webhook_callback_verification_pending".into(),
                    callback: callback.into(),
                };
                subs.push(sub.clone());
                Box::pin(std::future::ready(Ok(sub)))
            }
            fn unsubscribe(&self, _: &Secret, _: &Secret, id: &str) -> StreamFuture<'_, ()> {
                self.note(format!("unsubscribe {id}"));
                self.subs.lock().unwrap_or_else(PoisonError::into_inner).retain(|s| s.id != id);
                Box::pin(std::future::ready(Ok(())))
            }
        }

        fn secret() -> Secret {
            Secret::parse("secret", "a-secret-of-sixty-four-hex-digits-or-so").expect("secret")
        }

        fn pushed(subs: &Arc<Subscriptions>) -> Loop {
            let mut l = start(with_twitch());
            let settings = EventSubSettings { api: subs.clone(), callback: CALLBACK.into(), secret: secret() };
            l.alerts = l.alerts.with_eventsub(settings).expect("configured Twitch credentials");
            l
        }

        #[test]
        fn subscriptions_follow_the_watches_and_pushed_streamers_are_not_polled() {
            let subs = Arc::new(Subscriptions::default());
            let l = pushed(&subs);
            let watch = l.watch(GUILD, Platform::Twitch, "xqc", fakes::id(600));
            let report = l.poll();
            assert_eq!(report.subscribed, 2, "{report:?}");
            assert_eq!(
                subs.calls(),
                ["users 1", "list", "subscribe stream.online id-xqc", "subscribe stream.offline id-xqc"]
            );
            // Waiting for Twitch's verification: polled meanwhile, nothing subscribed twice.
            let report = l.poll();
            assert_eq!((report.subscribed, report.checks, report.pushed), (0, 1, 0), "{report:?}");
            assert_eq!(subs.calls(), ["list"]);
            subs.set_status("enabled");
            let report = l.poll();
            assert_eq!((report.checks, report.pushed), (0, 1), "{report:?}");
            // In step: Twitch is not asked again until the watches change or ten minutes pass.
            l.poll();
            assert!(subs.calls().len() <= 1);
            assert!(StreamWatches::remove(&*l.records, GUILD, watch.id).expect("removed"));
            let report = l.poll();
            assert_eq!(report.unsubscribed, 2, "{report:?}");
            assert_eq!(subs.count(), 0);
        }

        #[test]
        fn a_failed_verification_is_not_retried_for_an_hour() {
            let subs = Arc::new(Subscriptions::default());
            let l = pushed(&subs);
            l.watch(GUILD, Platform::Twitch, "xqc", fakes::id(600));
            l.poll();
            subs.set_status("webhook_callback_verification_failed");
            let report = l.poll();
            assert_eq!((report.unsubscribed, report.subscribed, report.checks), (2, 0, 1), "{report:?}");
            assert!(report.notes.iter().any(|n| n.contains("webhook_callback_verification_failed")), "{report:?}");
            for _ in 0..5 {
                assert_eq!(l.poll().subscribed, 0, "polled instead");
            }
            l.clock.advance_millis(60 * 60_000);
            assert_eq!(l.poll().subscribed, 2, "tried again after an hour");
        }

        #[test]
        fn deliveries_are_checked_queued_and_acted_on() {
            let subs = Arc::new(Subscriptions::default());
            let l = pushed(&subs);
            l.watch(GUILD, Platform::Twitch, "xqc", fakes::id(600));
            let now = l.clock_now();
            let body = br#"{"subscription":{"id":"s1","status":"enabled","type":"stream.online"},"event":{"id":"9001","broadcaster_user_login":"xqc","started_at":"2026-01-17T19:59:00Z"}}"#;
            let signature = EventSubReceiver::sign(&secret(), "m1", &now, body);
            let delivery = Delivery { id: "m1", timestamp: &now, signature: &signature, kind: "notification", body };
            assert_eq!(l.alerts.accept(&delivery), Ok(Accepted::Queued));
            assert!(matches!(l.alerts.accept(&delivery), Err(PushError::Refused(_))), "a replay");
            l.go_live("xqc");
            let report = run(l.alerts.handle_pushed()).expect("handled");
            assert_eq!(report.posted, 1, "{report:?}");
            let posted = l.discord.world(|w| w.posted.clone());
            assert_eq!(posted[0].2.embeds[0].title.as_deref(), Some("Gaming"), "Helix's details");
            // The poll that follows finds the same stream: nothing new.
            assert_eq!(l.poll().posted, 0);
            // Without EventSub, the route refuses every delivery.
            let plain = start(with_twitch());
            assert_eq!(plain.alerts.accept(&delivery), Err(PushError::Disabled));
        }
    }
}
