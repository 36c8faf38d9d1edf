//! Live streams: is a YouTube channel, a Twitch channel or a TikTok account live right now?
//!
//! The names the callers give ([`YouTubeHandle`], [`TwitchLogin`], [`TikTokUser`]) are checked here
//! once; the platforms are reached through the ports in [`port`]; [`StreamService`] keeps the seed's
//! cache lifetimes, spends YouTube quota carefully and counts it per key and Pacific day ([`quota`]),
//! and bounds what callers can make Garrison ask of the platforms.

use std::fmt;

use crate::{Error, Result, Timestamp};

pub mod alerts;
pub mod eventsub;
pub mod port;
pub mod quota;
mod service;
pub mod watches;

pub use port::{
    AppToken, EventSubscription, PlatformError, StreamFuture, TikTokPage, TikTokPages, TwitchApi, TwitchEventSub,
    TwitchStream, TwitchUser, YouTubeApi, YouTubeChannel, YouTubeVideo,
};
pub use service::{
    CheckAll, CheckAllEntry, Credentials, StreamError, StreamLifetimes, StreamService, StreamSettings,
    TWITCH_LOGINS_PER_CALL, UPLOADS_LOOKED_AT,
};

/// The platforms Garrison checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    YouTube,
    Twitch,
    TikTok,
}

impl Platform {
    /// The platform's name as answers write it (`"YouTube"`, `"Twitch"`, `"TikTok"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::YouTube => "YouTube",
            Self::Twitch => "Twitch",
            Self::TikTok => "TikTok",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a name asks for a check at all: the seed's `none` (any letter case) or an empty value
/// skips the platform without any call.
pub fn is_skip(text: &str) -> bool {
    let text = text.trim();
    text.is_empty() || text.eq_ignore_ascii_case("none")
}

fn check_name(field: &'static str, text: &str, min: usize, max: usize, extra: &[u8], what: &str) -> Result<String> {
    let name = text.trim();
    let name = name.strip_prefix('@').unwrap_or(name);
    let fits =
        (min..=max).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
    if !fits {
        return Err(Error::invalid(field, format!("must be {what}")));
    }
    Ok(name.to_owned())
}

/// A YouTube handle, kept without its `@`: 3 to 30 letters, digits, `_`, `-` or `.` (YouTube's rule
/// for handles in ASCII; handles in other scripts are not accepted yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct YouTubeHandle(String);

impl YouTubeHandle {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        check_name(
            field,
            text,
            3,
            30,
            b"_-.",
            "a YouTube handle: 3 to 30 letters, digits, '_', '-' or '.', with or without a leading '@'",
        )
        .map(Self)
    }

    /// The handle without `@`, as the caller wrote its letters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The handle in lower case: handles are unique regardless of case, so caches key on this.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// `@handle`, as answers show it.
    pub fn display(&self) -> String {
        format!("@{}", self.0)
    }

    /// The channel's page: `https://youtube.com/@handle`.
    pub fn url(&self) -> String {
        format!("https://youtube.com/@{}", self.0)
    }
}

/// A Twitch login: 1 to 25 letters, digits or `_` (Twitch's rule; logins are unique regardless of case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TwitchLogin(String);

impl TwitchLogin {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        check_name(field, text, 1, 25, b"_", "a Twitch login: 1 to 25 letters, digits or '_'").map(Self)
    }

    /// The login as the caller wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The login in lower case, as Twitch keeps it.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The channel's page: `https://twitch.tv/login`.
    pub fn url(&self) -> String {
        format!("https://twitch.tv/{}", self.key())
    }
}

/// A TikTok username without its `@`: 2 to 24 letters, digits, `_` or `.` (TikTok's rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TikTokUser(String);

impl TikTokUser {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        check_name(field, text, 2, 24, b"_.", "a TikTok username: 2 to 24 letters, digits, '_' or '.', without spaces")
            .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The username in lower case, as TikTok matches it.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The live page: `https://www.tiktok.com/@user/live`.
    pub fn url(&self) -> String {
        format!("https://www.tiktok.com/@{}/live", self.0)
    }
}

/// A streamer's name on its platform: what the service checks, caches and answers alike for the three.
pub trait Streamer: Sized {
    const PLATFORM: Platform;
    /// The name by the platform's rule (400 naming `field` otherwise).
    fn parse(field: &'static str, text: &str) -> Result<Self>;
    /// The name in lower case: what caches key on.
    fn key(&self) -> String;
    /// The name as answers show it.
    fn shown(&self) -> String;
    /// The channel's page.
    fn url(&self) -> String;

    /// This streamer's answer.
    fn status(&self, liveness: Liveness) -> StreamStatus {
        StreamStatus { platform: Self::PLATFORM, user: self.shown(), url: self.url(), liveness }
    }
}

impl Streamer for YouTubeHandle {
    const PLATFORM: Platform = Platform::YouTube;
    fn parse(field: &'static str, text: &str) -> Result<Self> {
        Self::parse(field, text)
    }
    fn key(&self) -> String {
        self.key()
    }
    fn shown(&self) -> String {
        self.display()
    }
    fn url(&self) -> String {
        self.url()
    }
}

impl Streamer for TwitchLogin {
    const PLATFORM: Platform = Platform::Twitch;
    fn parse(field: &'static str, text: &str) -> Result<Self> {
        Self::parse(field, text)
    }
    fn key(&self) -> String {
        self.key()
    }
    fn shown(&self) -> String {
        self.as_str().to_owned()
    }
    fn url(&self) -> String {
        self.url()
    }
}

impl Streamer for TikTokUser {
    const PLATFORM: Platform = Platform::TikTok;
    fn parse(field: &'static str, text: &str) -> Result<Self> {
        Self::parse(field, text)
    }
    fn key(&self) -> String {
        self.key()
    }
    fn shown(&self) -> String {
        self.as_str().to_owned()
    }
    fn url(&self) -> String {
        self.url()
    }
}

/// A secret that `Debug` never shows: only [`Secret::expose`] does, for the one header or body that
/// carries it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// A credential as a caller or the configuration gives it: 1 to 512 visible ASCII characters (it
    /// goes into a header or a form as is). The error never repeats it.
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        let value = text.trim();
        if value.is_empty() || value.len() > 512 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(field, "must be 1 to 512 visible ASCII characters, without spaces"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A SHA-256 of the secret: what caches and quota ledgers key on, so no table holds the secret.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A YouTube Data API key.
pub type YouTubeKey = Secret;

/// A Twitch application's client id and secret (client-credentials flow).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TwitchCredentials {
    /// Not a secret by itself (it travels in every Helix call's `Client-Id`), but never logged either.
    pub client_id: Secret,
    pub client_secret: Secret,
}

impl TwitchCredentials {
    /// What the token cache keys on: the hash of both parts.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.client_id.fingerprint());
        hasher.update(self.client_secret.fingerprint());
        hasher.finalize().into()
    }
}

/// A live stream, as much as its platform says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveStream {
    pub title: String,
    /// The stream's own page (YouTube: the video), when it has one apart from the channel's.
    pub video_url: Option<String>,
    pub started_at: Option<Timestamp>,
    pub viewers: Option<u64>,
    /// The game or category (Twitch).
    pub game: Option<String>,
    pub thumbnail_url: Option<String>,
    /// The platform's id of this stream (a YouTube video, a Twitch stream, a TikTok room): what tells
    /// one broadcast from the next.
    pub stream_id: Option<String>,
}

/// Why a check could not say whether the channel is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// The YouTube key's quota for this Pacific day is spent.
    QuotaExhausted,
    /// The platform's page or answer could not be read (TikTok: any failure).
    Unreadable,
}

impl Unknown {
    /// The `status` answers carry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::QuotaExhausted => "quota_exhausted",
            Self::Unreadable => "unknown",
        }
    }
}

/// Whether a channel is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    Live(LiveStream),
    Offline,
    /// Garrison cannot tell, and says so rather than guess `false`.
    Unknown(Unknown),
}

/// One channel's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub platform: Platform,
    /// The name as answers show it (`@handle` on YouTube).
    pub user: String,
    /// The channel's page.
    pub url: String,
    pub liveness: Liveness,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_platforms_rule() {
        let handle = YouTubeHandle::parse("handle", " @MrBeast ").expect("valid");
        assert_eq!(
            (handle.display(), handle.url(), handle.key()),
            ("@MrBeast".into(), "https://youtube.com/@MrBeast".into(), "mrbeast".into())
        );
        assert_eq!(YouTubeHandle::parse("handle", "MrBeast").expect("no @").display(), "@MrBeast");
        for bad in ["ab", "@ab", &"a".repeat(31), "has space", "ü-handle", "a/b", "@@ab"] {
            let err = YouTubeHandle::parse("handle", bad).expect_err(bad);
            assert!(err.to_string().starts_with("handle: must be a YouTube handle"), "{err}");
        }
        assert_eq!(TwitchLogin::parse("user", "xQc").expect("valid").url(), "https://twitch.tv/xqc");
        for bad in ["", "x.q", &"a".repeat(26), "a-b"] {
            assert!(TwitchLogin::parse("user", bad).is_err(), "{bad}");
        }
        assert_eq!(
            TikTokUser::parse("user", "@khaby.lame").expect("valid").url(),
            "https://www.tiktok.com/@khaby.lame/live"
        );
        for bad in ["k", "a b", "a-b", &"a".repeat(25)] {
            assert!(TikTokUser::parse("user", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn none_and_empty_skip() {
        for skip in ["", "  ", "none", "NONE", " None "] {
            assert!(is_skip(skip), "{skip:?}");
        }
        assert!(!is_skip("nonex"));
    }

    #[test]
    fn secrets_never_show() {
        let secret = Secret::parse("X-YouTube-ApiKey", "AIzaSyExampleKey-123").expect("valid");
        let creds = TwitchCredentials { client_id: secret.clone(), client_secret: secret.clone() };
        let shown = format!("{secret:?} {creds:?}");
        assert!(!shown.contains("AIza"), "{shown}");
        let err = Secret::parse("X-Twitch-Secret", "two words").expect_err("space");
        assert!(!err.to_string().contains("two words"), "{err}");
        assert_ne!(secret.fingerprint(), Secret::parse("f", "other").expect("valid").fingerprint());
    }
}
