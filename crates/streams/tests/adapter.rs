//! The stream adapters against `garrison-streams-sim`: what each platform's answers and errors become,
//! and that no credential travels in a URL.

use std::time::Duration;

use garrison_core::streams::{
    PlatformError, Secret, TikTokPage, TikTokPages, TikTokUser, TwitchApi, TwitchCredentials, TwitchLogin, YouTubeApi,
    YouTubeHandle,
};
use garrison_streams::{StreamClients, StreamEndpoints};
use garrison_streams_sim::{Platform, Simulator, TikTokPage as SimPage};

fn clients(sim: &Simulator) -> StreamClients {
    let _ = rustls::crypto::ring::default_provider().install_default();
    StreamClients::new(
        StreamEndpoints {
            youtube_url: sim.youtube_url(),
            twitch_auth_url: sim.twitch_auth_url(),
            twitch_api_url: sim.twitch_api_url(),
            tiktok_url: sim.tiktok_url(),
        },
        Duration::from_secs(5),
    )
    .expect("a client")
}

fn secret(text: &str) -> Secret {
    Secret::parse("test", text).expect("a secret")
}

#[tokio::test]
async fn youtube_channels_uploads_and_live_videos_are_read() {
    let sim = Simulator::start();
    sim.youtube_add_key("the-key", 10_000);
    let channel_id = sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
    let old = sim.youtube_upload("GarrisonLive", "Old");
    let live = sim.youtube_go_live("GarrisonLive", "Town hall", 77);
    let api = clients(&sim);
    let key = secret("the-key");

    let handle = YouTubeHandle::parse("handle", "garrisonlive").expect("handle");
    let channel = api.channel(&key, &handle).await.expect("answered").expect("found");
    assert_eq!(channel.id, channel_id);
    assert_eq!(channel.uploads, format!("UU{}", &channel_id[2..]));
    let missing = YouTubeHandle::parse("handle", "@nobody").expect("handle");
    assert_eq!(api.channel(&key, &missing).await, Ok(None));

    let ids = api.playlist(&key, &channel.uploads, 25).await.expect("answered");
    assert_eq!(ids, [live.clone(), old.clone()], "newest first");
    assert_eq!(api.playlist(&key, "UUnothing", 25).await, Ok(vec![]), "an unknown playlist has nothing");

    let videos = api.videos(&key, &ids).await.expect("answered");
    let now_live = videos.iter().find(|v| v.id == live).expect("the broadcast");
    assert!(now_live.live && now_live.title == "Town hall" && now_live.viewers == Some(77), "{now_live:?}");
    assert!(now_live.started_at.is_some() && now_live.thumbnail_url.is_some(), "{now_live:?}");
    assert!(!videos.iter().find(|v| v.id == old).expect("the upload").live);

    sim.youtube_go_offline("GarrisonLive");
    let videos = api.videos(&key, std::slice::from_ref(&live)).await.expect("answered");
    assert!(!videos[0].live && videos[0].viewers.is_none(), "ended: {:?}", videos[0]);
    assert_eq!(sim.youtube_quota_used("the-key"), 6, "one unit per call");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn youtubes_refusals_become_platform_errors() {
    let sim = Simulator::start();
    sim.youtube_add_key("small-key", 1);
    sim.youtube_add_channel("aaa", "A");
    let api = clients(&sim);
    let handle = YouTubeHandle::parse("handle", "aaa").expect("handle");
    assert_eq!(
        api.channel(&secret("unknown-key"), &handle).await,
        Err(PlatformError::CredentialsRefused),
        "keyInvalid"
    );
    assert!(api.channel(&secret("small-key"), &handle).await.is_ok());
    assert_eq!(api.channel(&secret("small-key"), &handle).await, Err(PlatformError::QuotaExceeded));
    sim.set_down(Platform::YouTube, true);
    let down = api.channel(&secret("small-key"), &handle).await;
    assert!(matches!(&down, Err(PlatformError::Unavailable(m)) if m.contains("503")), "{down:?}");
}

#[tokio::test]
async fn twitch_tokens_and_streams_are_read_and_refusals_named() {
    let sim = Simulator::start();
    sim.twitch_add_client("client", "the-secret");
    sim.twitch_set_token_lifetime(4_000);
    sim.twitch_go_live("xqc", "Gaming", "Just Chatting", 50_000);
    sim.twitch_add_user("quiet", "Quiet");
    let api = clients(&sim);
    let credentials = TwitchCredentials { client_id: secret("client"), client_secret: secret("the-secret") };

    let token = api.app_token(&credentials).await.expect("a token");
    assert_eq!(token.expires_in_secs, 4_000);
    let logins: Vec<TwitchLogin> =
        ["XQC", "quiet", "unknown"].iter().map(|l| TwitchLogin::parse("u", l).expect("login")).collect();
    let streams = api.streams(&credentials.client_id, &token.token, &logins).await.expect("answered");
    assert_eq!(streams.len(), 1, "only the live one");
    let stream = &streams[0];
    assert_eq!(
        (stream.login.as_str(), stream.title.as_str(), stream.game.as_str()),
        ("xqc", "Gaming", "Just Chatting")
    );
    assert_eq!(stream.viewers, 50_000);
    assert!(stream.started_at.is_some());
    assert!(stream.thumbnail_url.as_deref().is_some_and(|u| u.ends_with("-1280x720.jpg")), "{stream:?}");

    sim.twitch_expire_tokens();
    assert_eq!(api.streams(&credentials.client_id, &token.token, &logins).await, Err(PlatformError::TokenRefused));
    let wrong = TwitchCredentials { client_id: secret("client"), client_secret: secret("not-it") };
    assert_eq!(api.app_token(&wrong).await.map(|_| ()), Err(PlatformError::CredentialsRefused));
    let unknown = TwitchCredentials { client_id: secret("nobody"), client_secret: secret("x") };
    assert_eq!(api.app_token(&unknown).await.map(|_| ()), Err(PlatformError::CredentialsRefused));

    sim.twitch_set_rate_limit(1);
    let token = api.app_token(&credentials).await.expect("a token");
    assert!(api.streams(&credentials.client_id, &token.token, &logins).await.is_ok());
    let limited = api.streams(&credentials.client_id, &token.token, &logins).await;
    assert!(matches!(limited, Err(PlatformError::RateLimited { retry_after_secs: 1..=60 })), "{limited:?}");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[tokio::test]
async fn tiktok_pages_are_read_or_unreadable() {
    let sim = Simulator::start();
    sim.tiktok_set("live.one", SimPage::Live { title: "Hi".into(), viewers: 5 });
    sim.tiktok_set("quiet.one", SimPage::Offline);
    sim.tiktok_set("changed", SimPage::ChangedMarkup);
    sim.tiktok_set("gone", SimPage::Missing);
    let api = clients(&sim);
    let user = |name: &str| TikTokUser::parse("user", name).expect("user");
    let live = api.live_page(&user("live.one")).await.expect("answered");
    assert!(
        matches!(&live, TikTokPage::Live { title, viewers: Some(5), started_at: Some(_), room_id } if title == "Hi" && !room_id.is_empty()),
        "{live:?}"
    );
    assert_eq!(api.live_page(&user("quiet.one")).await, Ok(TikTokPage::Offline));
    assert_eq!(api.live_page(&user("changed")).await, Ok(TikTokPage::Unreadable));
    assert_eq!(api.live_page(&user("gone")).await, Ok(TikTokPage::Unreadable));
    sim.set_down(Platform::TikTok, true);
    assert!(matches!(api.live_page(&user("live.one")).await, Err(PlatformError::Unavailable(_))));
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}
