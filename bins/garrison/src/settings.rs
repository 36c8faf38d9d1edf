//! One typed configuration, loaded once in `main`: defaults, then an optional TOML file, then
//! `GARRISON_*` environment variables (each later layer wins).

use std::{fmt, path::PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The database URL; its password, if any, never shows in `Debug` or in `config check`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else { return self.0.clone() };
        let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => format!("{userinfo}@{host}"),
            },
            None => authority.to_owned(),
        };
        // Query parameters such as `password=` are dropped from the display entirely.
        let path = path.map(|p| p.split_once('?').map_or(p.to_owned(), |(p, _)| format!("{p}?***")));
        match path {
            Some(path) => format!("{scheme}://{authority}/{path}"),
            None => format!("{scheme}://{authority}"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A secret setting (the S3 secret key): `Debug` and `config check` show `***`.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What `config check` prints: `***` when set, empty when not.
    fn redacted(&self) -> Self {
        Self(if self.0.is_empty() { String::new() } else { "***".into() })
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted().0)
    }
}

/// Where objects (cards, logs, transcripts, backups) are kept.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObjectStoreKind {
    /// A local directory, `object_dir`.
    Local,
    /// An S3 bucket (AWS or an S3-compatible server), `s3_*`.
    S3,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// How hard PNG cards are compressed (docs/benchmarks.md, "Encoders").
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PngCompression {
    /// One fast pass: the least CPU per card, files about twice the size of `small`'s.
    Fast,
    /// zlib level 3: about 5 ms more per 930x280 card, files about half the size.
    Small,
}

/// Who may use premium features (backups).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Premium {
    All,
    Granted,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// `sqlite://<path>` (default `sqlite://./data/garrison.db`) or `postgres://...`.
    pub database_url: DatabaseUrl,
    /// Database connections per pool.
    pub database_connections: u32,
    /// Milliseconds a request waits for a database connection before the database counts as down.
    pub database_timeout_ms: u64,
    /// The public base URL of this server, used in links it hands out (`viewUrl`, `directLink`); empty
    /// (the default) derives it from the address the server bound.
    pub public_url: String,
    /// Origins whose browser pages may call the `/api/*` routes (CORS): `*` (the default) for any, or
    /// exact origins such as `https://dashboard.example`; empty for none.
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `garrison=debug,actix_web=info`.
    pub log: String,
    /// Worker threads for the HTTP server (0 = one per core).
    pub workers: usize,
    /// `local` (default) or `s3`.
    pub object_store: ObjectStoreKind,
    /// The local object store's directory (created if missing).
    pub object_dir: PathBuf,
    /// `https://host[:port]` of an S3-compatible server; empty for AWS (the endpoint follows from the region).
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_bucket: String,
    /// `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (most self-hosted servers need it).
    pub s3_path_style: bool,
    pub s3_access_key: String,
    pub s3_secret_key: Secret,
    /// Hosts card image URLs (avatars, backgrounds) may point at. Role icons and transcript media may
    /// come from any public HTTPS host on port 443.
    pub fetch_allowed_hosts: Vec<String>,
    /// The largest image fetched, in bytes.
    pub fetch_max_bytes: u64,
    /// Milliseconds for a whole image fetch, redirects included.
    pub fetch_timeout_ms: u64,
    /// TESTS ONLY: also fetch over plain HTTP from loopback addresses. Refused at start unless `bind` is
    /// a loopback address; never admits private or metadata addresses.
    pub fetch_allow_loopback: bool,
    /// Transcripts made at once.
    pub transcript_jobs: usize,
    /// Transcripts that may wait for a turn; past them, 503 with Retry-After.
    pub transcript_queue: usize,
    /// Temporary disk space one transcript may use (spooled messages and media), in bytes.
    pub transcript_job_temp_bytes: u64,
    /// Temporary disk space all transcripts together may use, in bytes.
    pub transcript_temp_bytes: u64,
    /// Where transcripts' temporary files go; empty for the system's temporary directory.
    pub transcript_temp_dir: PathBuf,
    /// Cards rendered at once (0 = one per core); each holds its canvas and decoded images in memory.
    pub render_parallelism: usize,
    /// Cards in progress at once, waiting for a render slot included (0 = 16 per render slot);
    /// more are answered 503 with Retry-After.
    pub card_queue: usize,
    /// Bytes of stored card PNGs kept; past it the least recently used are deleted (0 = no limit).
    pub card_store_max_bytes: u64,
    /// Bytes of decoded and shaped card images (avatars, backgrounds) kept in memory (0 = none).
    pub card_image_cache_bytes: u64,
    /// Seconds a kept card image is used before its host is asked whether it changed.
    pub card_image_fresh_secs: u64,
    /// PNG cards: `fast` or `small`.
    pub card_png_compression: PngCompression,
    /// Cores the regex route may keep busy with long matches (0 = all of them); short jobs get
    /// four times as many slots (see docs/noctra.md).
    pub regex_parallelism: usize,
    /// A Discord-compatible server (`http://127.0.0.1:8090`, API under `/api/v10`) instead of Discord
    /// itself; empty for Discord.
    pub discord_api_url: String,
    /// Where Discord serves images (`https://cdn.discordapp.com`), or a stand-in's; backups download
    /// guild icons, role icons, emojis and stickers from there and from nowhere else. Empty: Discord's.
    pub discord_cdn_url: String,
    /// The server's own bot token, for API-key routes that act on Discord (`/api/server/info`).
    pub discord_bot_token: Secret,
    /// How long a request may wait for Discord's rate limits before answering 429 with Retry-After.
    pub discord_wait_budget_ms: u64,
    /// How long one HTTP exchange with Discord may take before the caller gets 502.
    pub discord_timeout_ms: u64,
    /// How many bot tokens' clients (and rate-limit states) are kept.
    pub discord_max_clients: usize,
    /// Discord's gateway (`wss://...`, or a stand-in's `ws://...`); empty: what `GET /gateway/bot`
    /// answers.
    pub discord_gateway_url: String,
    /// Gateway sessions (per bot token and purpose) kept open at once; past it the least recently
    /// used closes.
    pub discord_gateway_max_sessions: usize,
    /// Seconds an unused gateway session stays open.
    pub discord_gateway_idle_secs: u64,
    /// The guild where the server-wide bot registers its slash commands; empty: globally.
    pub discord_commands_guild: String,
    /// Requests per second each bot may make to Discord in all (Discord's global limit; 50 unless
    /// Discord raised it for the bot).
    pub discord_global_limit: u16,
    /// Discord's refusals (answers 401, 403 and 429) Garrison accepts per 10 minutes before it stops
    /// calling Discord (503 with Retry-After) until the window slides; calls with tokens Discord has
    /// not accepted yet stop at a quarter of it. Discord bans the address at 10,000, so this must stay
    /// below that (1 to 9,999).
    pub discord_refusal_limit: u32,
    /// Roblox's Open Cloud base (`https://apis.roblox.com`), or a stand-in's.
    pub roblox_api_url: String,
    /// Roblox's legacy users API base (`https://users.roblox.com`), or a stand-in's.
    pub roblox_users_url: String,
    /// How long one HTTP exchange with Roblox may take before the caller gets 502.
    pub roblox_timeout_ms: u64,
    /// How long a request may wait for Roblox's rate limits (a server key's own, or Roblox's 429)
    /// before answering 429 with Retry-After.
    pub roblox_wait_budget_ms: u64,
    /// The key that seals secrets at rest (servers' Roblox keys): 64 hex digits or base64 of 32
    /// bytes. Empty: read from `secret_key_file`, generated there on first start. Replicas sharing a
    /// database must share it.
    pub secret_key: Secret,
    /// Where the secret key is kept when `secret_key` is empty (created, mode 0600, if missing).
    pub secret_key_file: PathBuf,
    /// Who may use backups: `all` (every server: the self-hosted default) or `granted` (the servers
    /// granted with `garrison server premium grant`).
    pub premium: Premium,
    /// Versions of a backup kept (the newest; as many restore snapshots besides).
    pub backup_keep_versions: usize,
    /// How long a restore request waits for the restore to finish before answering 202 with its job.
    pub backup_answer_within_ms: u64,
    /// How long a server's hold on a restore job lasts unless renewed: a restore whose server died is
    /// taken up by this or another server this long after its last sign of life.
    pub backup_job_lease_ms: u64,
    /// The web verification flow's Discord application (OAuth2 client id and secret); empty turns
    /// `/verify` off (it then says signing in is not configured).
    pub discord_client_id: String,
    pub discord_client_secret: Secret,
    /// Discord's authorize page, or a stand-in's.
    pub discord_oauth_url: String,
    /// The web verification flow's Roblox OAuth 2.0 app.
    pub roblox_client_id: String,
    pub roblox_client_secret: Secret,
    /// Roblox's OAuth base (`/v1/authorize`, `/v1/token`, `/v1/userinfo` under it), or a stand-in's.
    pub roblox_oauth_url: String,
    /// The YouTube Data API v3 base (`https://www.googleapis.com/youtube/v3`), or a stand-in's.
    pub youtube_api_url: String,
    /// Twitch's OAuth base (`https://id.twitch.tv/oauth2`; the token is at `/token`), or a stand-in's.
    pub twitch_auth_url: String,
    /// Twitch's Helix base (`https://api.twitch.tv/helix`), or a stand-in's.
    pub twitch_api_url: String,
    /// TikTok's site (`https://www.tiktok.com`; live pages at `/@user/live`), or a stand-in's.
    pub tiktok_url: String,
    /// The service's own YouTube Data API key: used for every check instead of a caller's
    /// `X-YouTube-ApiKey` when set.
    pub youtube_api_key: Secret,
    /// Units the YouTube key may spend per Pacific day (YouTube's default quota is 10,000).
    pub youtube_daily_quota: u64,
    /// The service's own Twitch application (client credentials), used instead of a caller's headers.
    pub twitch_client_id: Secret,
    pub twitch_client_secret: Secret,
    /// Uncached stream checks callers may start per platform per minute (beyond: 429 with Retry-After).
    pub stream_checks_per_minute: u32,
    /// How long one platform's check may take, all its calls together.
    pub stream_timeout_ms: u64,
    /// Seconds between two rounds of the live-alert loop (at least 1).
    pub stream_poll_seconds: u64,
    /// Twitch pushes streams' starts and ends to `public_url` (EventSub webhooks) instead of being
    /// polled; needs the service's own Twitch credentials and a public HTTPS URL.
    pub twitch_eventsub: bool,
    /// Days an outbound webhook endpoint's deliveries may keep failing before it is disabled.
    pub webhook_disable_after_days: u32,
    /// Whether this process delivers webhook events (every replica may; a set of them may be chosen).
    pub webhook_dispatcher: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: DatabaseUrl("sqlite://./data/garrison.db".into()),
            database_connections: 8,
            database_timeout_ms: 5_000,
            public_url: String::new(),
            cors_origins: vec!["*".into()],
            log_format: LogFormat::Text,
            log: "info".into(),
            workers: 0,
            object_store: ObjectStoreKind::Local,
            object_dir: PathBuf::from("./data/objects"),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_bucket: String::new(),
            s3_path_style: false,
            s3_access_key: String::new(),
            s3_secret_key: Secret::default(),
            fetch_allowed_hosts: garrison_core::cards::IMAGE_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            fetch_max_bytes: 8 * 1024 * 1024,
            fetch_timeout_ms: 10_000,
            fetch_allow_loopback: false,
            transcript_jobs: 2,
            transcript_queue: 4,
            transcript_job_temp_bytes: 700 * 1000 * 1000,
            transcript_temp_bytes: 1500 * 1000 * 1000,
            transcript_temp_dir: PathBuf::new(),
            render_parallelism: 0,
            card_queue: 0,
            card_store_max_bytes: 1024 * 1024 * 1024,
            card_image_cache_bytes: 32 * 1024 * 1024,
            card_image_fresh_secs: 300,
            card_png_compression: PngCompression::Fast,
            regex_parallelism: 0,
            discord_api_url: String::new(),
            discord_cdn_url: String::new(),
            discord_bot_token: Secret::default(),
            discord_wait_budget_ms: 5_000,
            discord_timeout_ms: 10_000,
            discord_max_clients: 1_000,
            discord_gateway_url: String::new(),
            discord_gateway_max_sessions: 100,
            discord_gateway_idle_secs: 300,
            discord_commands_guild: String::new(),
            discord_global_limit: 50,
            discord_refusal_limit: 2_000,
            roblox_api_url: "https://apis.roblox.com".into(),
            roblox_users_url: "https://users.roblox.com".into(),
            roblox_timeout_ms: 10_000,
            roblox_wait_budget_ms: 2_000,
            secret_key: Secret::default(),
            secret_key_file: PathBuf::from("./data/secret.key"),
            premium: Premium::All,
            backup_keep_versions: 10,
            backup_answer_within_ms: garrison_core::backups::RESTORE_ANSWER_WITHIN_MS,
            backup_job_lease_ms: garrison_core::backups::JOB_LEASE_MS,
            discord_client_id: String::new(),
            discord_client_secret: Secret::default(),
            discord_oauth_url: "https://discord.com/oauth2/authorize".into(),
            roblox_client_id: String::new(),
            roblox_client_secret: Secret::default(),
            roblox_oauth_url: "https://apis.roblox.com/oauth".into(),
            youtube_api_url: "https://www.googleapis.com/youtube/v3".into(),
            twitch_auth_url: "https://id.twitch.tv/oauth2".into(),
            twitch_api_url: "https://api.twitch.tv/helix".into(),
            tiktok_url: "https://www.tiktok.com".into(),
            youtube_api_key: Secret::default(),
            youtube_daily_quota: 10_000,
            twitch_client_id: Secret::default(),
            twitch_client_secret: Secret::default(),
            stream_checks_per_minute: 120,
            stream_timeout_ms: 10_000,
            stream_poll_seconds: 60,
            twitch_eventsub: false,
            webhook_disable_after_days: 5,
            webhook_dispatcher: true,
        }
    }
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => bail!("{name} must be true or false, got {value:?}"),
    }
}

/// Where the optional file is looked for: `GARRISON_CONFIG`, else `./garrison.toml` if present.
fn config_file() -> Option<PathBuf> {
    match std::env::var_os("GARRISON_CONFIG") {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(PathBuf::from("garrison.toml")).filter(|p| p.is_file()),
    }
}

/// Parses a config file. A failure names the line, column and problem but never echoes the file's
/// text (toml's own message quotes the offending line, which may hold a secret), nor a value that
/// was given the wrong type.
fn parse_file(text: &str) -> anyhow::Result<Settings> {
    toml::from_str(text).map_err(|err| {
        let message = redact_values(err.message().trim());
        match err.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                anyhow::anyhow!("line {line}, column {column}: {message}")
            }
            None => anyhow::anyhow!("{message}"),
        }
    })
}

/// serde's type errors quote the value they met (`invalid type: string "hunter2", expected u32`,
/// ``invalid value: integer `5` ``): keep what kind of value it was, drop the value itself.
fn redact_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // What serde expected comes last and never quotes the input.
            let (met, expected) = rest.rsplit_once(", expected").map_or((rest, None), |(m, e)| (m, Some(e)));
            let kind = met.split(['"', '`', '\'']).next().unwrap_or_default().trim_end();
            return match expected {
                Some(expected) => format!("{prefix}{kind}, expected{expected}"),
                None => format!("{prefix}{kind}"),
            };
        }
    }
    message.to_owned()
}

impl Settings {
    /// Loads the effective settings from the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let base = match config_file() {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                parse_file(&text).with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => Self::default(),
        };
        base.with_env(|name| std::env::var(name).ok())
    }

    /// Overlays `GARRISON_*` variables read through `var`.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        if let Some(v) = var("GARRISON_BIND") {
            self.bind = v;
        }
        if let Some(v) = var("GARRISON_DATABASE_URL") {
            self.database_url = DatabaseUrl(v);
        }
        if let Some(v) = var("GARRISON_DATABASE_CONNECTIONS") {
            self.database_connections =
                v.parse().with_context(|| format!("GARRISON_DATABASE_CONNECTIONS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_DATABASE_TIMEOUT_MS") {
            self.database_timeout_ms =
                v.parse().with_context(|| format!("GARRISON_DATABASE_TIMEOUT_MS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_PUBLIC_URL") {
            self.public_url = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_CORS_ORIGINS") {
            self.cors_origins = v.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        }
        if let Some(v) = var("GARRISON_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                other => bail!("GARRISON_LOG_FORMAT must be text or json, got {other:?}"),
            };
        }
        if let Some(v) = var("GARRISON_LOG") {
            self.log = v;
        }
        if let Some(v) = var("GARRISON_WORKERS") {
            self.workers = v.parse().with_context(|| format!("GARRISON_WORKERS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_OBJECT_STORE") {
            self.object_store = match v.as_str() {
                "local" => ObjectStoreKind::Local,
                "s3" => ObjectStoreKind::S3,
                other => bail!("GARRISON_OBJECT_STORE must be local or s3, got {other:?}"),
            };
        }
        if let Some(v) = var("GARRISON_OBJECT_DIR") {
            self.object_dir = PathBuf::from(v);
        }
        if let Some(v) = var("GARRISON_S3_ENDPOINT") {
            self.s3_endpoint = v;
        }
        if let Some(v) = var("GARRISON_S3_REGION") {
            self.s3_region = v;
        }
        if let Some(v) = var("GARRISON_S3_BUCKET") {
            self.s3_bucket = v;
        }
        if let Some(v) = var("GARRISON_S3_PATH_STYLE") {
            self.s3_path_style = parse_bool("GARRISON_S3_PATH_STYLE", &v)?;
        }
        if let Some(v) = var("GARRISON_S3_ACCESS_KEY") {
            self.s3_access_key = v;
        }
        if let Some(v) = var("GARRISON_S3_SECRET_KEY") {
            self.s3_secret_key = Secret(v);
        }
        if let Some(v) = var("GARRISON_FETCH_ALLOWED_HOSTS") {
            self.fetch_allowed_hosts =
                v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        }
        if let Some(v) = var("GARRISON_FETCH_MAX_BYTES") {
            self.fetch_max_bytes =
                v.parse().with_context(|| format!("GARRISON_FETCH_MAX_BYTES must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_FETCH_TIMEOUT_MS") {
            self.fetch_timeout_ms =
                v.parse().with_context(|| format!("GARRISON_FETCH_TIMEOUT_MS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_FETCH_ALLOW_LOOPBACK") {
            self.fetch_allow_loopback = parse_bool("GARRISON_FETCH_ALLOW_LOOPBACK", &v)?;
        }
        for (name, field) in [
            ("GARRISON_TRANSCRIPT_JOBS", &mut self.transcript_jobs),
            ("GARRISON_TRANSCRIPT_QUEUE", &mut self.transcript_queue),
        ] {
            if let Some(v) = var(name) {
                *field = v.parse().with_context(|| format!("{name} must be a number, got {v:?}"))?;
            }
        }
        if self.transcript_jobs == 0 {
            bail!("GARRISON_TRANSCRIPT_JOBS must be at least 1");
        }
        for (name, field) in [
            ("GARRISON_TRANSCRIPT_JOB_TEMP_BYTES", &mut self.transcript_job_temp_bytes),
            ("GARRISON_TRANSCRIPT_TEMP_BYTES", &mut self.transcript_temp_bytes),
        ] {
            if let Some(v) = var(name) {
                *field = v.parse().with_context(|| format!("{name} must be a number of bytes, got {v:?}"))?;
            }
        }
        if let Some(v) = var("GARRISON_TRANSCRIPT_TEMP_DIR") {
            self.transcript_temp_dir = PathBuf::from(v);
        }
        if let Some(v) = var("GARRISON_RENDER_PARALLELISM") {
            self.render_parallelism =
                v.parse().with_context(|| format!("GARRISON_RENDER_PARALLELISM must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_CARD_QUEUE") {
            self.card_queue = v.parse().with_context(|| format!("GARRISON_CARD_QUEUE must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_CARD_STORE_MAX_BYTES") {
            self.card_store_max_bytes =
                v.parse().with_context(|| format!("GARRISON_CARD_STORE_MAX_BYTES must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_CARD_IMAGE_CACHE_BYTES") {
            self.card_image_cache_bytes =
                v.parse().with_context(|| format!("GARRISON_CARD_IMAGE_CACHE_BYTES must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_CARD_IMAGE_FRESH_SECS") {
            self.card_image_fresh_secs =
                v.parse().with_context(|| format!("GARRISON_CARD_IMAGE_FRESH_SECS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_CARD_PNG_COMPRESSION") {
            self.card_png_compression = match v.trim() {
                "fast" => PngCompression::Fast,
                "small" => PngCompression::Small,
                other => bail!("GARRISON_CARD_PNG_COMPRESSION must be fast or small, got {other:?}"),
            };
        }
        if let Some(v) = var("GARRISON_REGEX_PARALLELISM") {
            self.regex_parallelism =
                v.parse().with_context(|| format!("GARRISON_REGEX_PARALLELISM must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_DISCORD_API_URL") {
            self.discord_api_url = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_DISCORD_CDN_URL") {
            self.discord_cdn_url = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_DISCORD_BOT_TOKEN") {
            self.discord_bot_token = Secret(v);
        }
        for (name, field) in [
            ("GARRISON_DISCORD_WAIT_BUDGET_MS", &mut self.discord_wait_budget_ms),
            ("GARRISON_DISCORD_TIMEOUT_MS", &mut self.discord_timeout_ms),
        ] {
            if let Some(v) = var(name) {
                *field = v.parse().with_context(|| format!("{name} must be a number, got {v:?}"))?;
            }
        }
        if let Some(v) = var("GARRISON_DISCORD_GLOBAL_LIMIT") {
            self.discord_global_limit = v.parse().ok().filter(|n| *n > 0).with_context(|| {
                format!("GARRISON_DISCORD_GLOBAL_LIMIT must be a number from 1 to 65535, got {v:?}")
            })?;
        }
        if let Some(v) = var("GARRISON_DISCORD_REFUSAL_LIMIT") {
            self.discord_refusal_limit = v.parse().ok().filter(|n| (1..10_000).contains(n)).with_context(|| {
                format!(
                    "GARRISON_DISCORD_REFUSAL_LIMIT must be a number from 1 to 9999 (Discord bans at 10,000), got {v:?}"
                )
            })?;
        }
        if let Some(v) = var("GARRISON_DISCORD_MAX_CLIENTS") {
            self.discord_max_clients =
                v.parse().with_context(|| format!("GARRISON_DISCORD_MAX_CLIENTS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_DISCORD_COMMANDS_GUILD") {
            self.discord_commands_guild = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_DISCORD_GATEWAY_URL") {
            self.discord_gateway_url = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_DISCORD_GATEWAY_MAX_SESSIONS") {
            self.discord_gateway_max_sessions = v.parse().ok().filter(|n| *n > 0).with_context(|| {
                format!("GARRISON_DISCORD_GATEWAY_MAX_SESSIONS must be a number from 1 up, got {v:?}")
            })?;
        }
        if let Some(v) = var("GARRISON_DISCORD_GATEWAY_IDLE_SECS") {
            self.discord_gateway_idle_secs =
                v.parse().with_context(|| format!("GARRISON_DISCORD_GATEWAY_IDLE_SECS must be a number, got {v:?}"))?;
        }
        if let Some(v) = var("GARRISON_ROBLOX_API_URL") {
            self.roblox_api_url = v.trim().to_owned();
        }
        if let Some(v) = var("GARRISON_ROBLOX_USERS_URL") {
            self.roblox_users_url = v.trim().to_owned();
        }
        for (name, field) in [
            ("GARRISON_ROBLOX_TIMEOUT_MS", &mut self.roblox_timeout_ms),
            ("GARRISON_ROBLOX_WAIT_BUDGET_MS", &mut self.roblox_wait_budget_ms),
            ("GARRISON_BACKUP_ANSWER_WITHIN_MS", &mut self.backup_answer_within_ms),
            ("GARRISON_BACKUP_JOB_LEASE_MS", &mut self.backup_job_lease_ms),
        ] {
            if let Some(v) = var(name) {
                *field = v.parse().with_context(|| format!("{name} must be a number, got {v:?}"))?;
            }
        }
        if self.backup_job_lease_ms < 1000 {
            bail!("GARRISON_BACKUP_JOB_LEASE_MS must be at least 1000 (a second)");
        }
        if let Some(v) = var("GARRISON_SECRET_KEY") {
            self.secret_key = Secret(v.trim().to_owned());
        }
        if let Some(v) = var("GARRISON_SECRET_KEY_FILE") {
            self.secret_key_file = PathBuf::from(v);
        }
        if let Some(v) = var("GARRISON_PREMIUM") {
            self.premium = match v.trim() {
                "all" => Premium::All,
                "granted" => Premium::Granted,
                other => bail!("GARRISON_PREMIUM must be all or granted, got {other:?}"),
            };
        }
        if let Some(v) = var("GARRISON_BACKUP_KEEP_VERSIONS") {
            self.backup_keep_versions =
                v.trim().parse().ok().filter(|n| (1..=1000).contains(n)).with_context(|| {
                    format!("GARRISON_BACKUP_KEEP_VERSIONS must be a number from 1 to 1000, got {v:?}")
                })?;
        }
        for (name, field) in [
            ("GARRISON_DISCORD_CLIENT_ID", &mut self.discord_client_id),
            ("GARRISON_DISCORD_OAUTH_URL", &mut self.discord_oauth_url),
            ("GARRISON_ROBLOX_CLIENT_ID", &mut self.roblox_client_id),
            ("GARRISON_ROBLOX_OAUTH_URL", &mut self.roblox_oauth_url),
        ] {
            if let Some(v) = var(name) {
                *field = v.trim().to_owned();
            }
        }
        if let Some(v) = var("GARRISON_DISCORD_CLIENT_SECRET") {
            self.discord_client_secret = Secret(v.trim().to_owned());
        }
        if let Some(v) = var("GARRISON_ROBLOX_CLIENT_SECRET") {
            self.roblox_client_secret = Secret(v.trim().to_owned());
        }
        for (name, field) in [
            ("GARRISON_YOUTUBE_API_URL", &mut self.youtube_api_url),
            ("GARRISON_TWITCH_AUTH_URL", &mut self.twitch_auth_url),
            ("GARRISON_TWITCH_API_URL", &mut self.twitch_api_url),
            ("GARRISON_TIKTOK_URL", &mut self.tiktok_url),
        ] {
            if let Some(v) = var(name) {
                *field = v.trim().to_owned();
            }
        }
        for (name, field) in [
            ("GARRISON_YOUTUBE_API_KEY", &mut self.youtube_api_key),
            ("GARRISON_TWITCH_CLIENT_ID", &mut self.twitch_client_id),
            ("GARRISON_TWITCH_CLIENT_SECRET", &mut self.twitch_client_secret),
        ] {
            if let Some(v) = var(name) {
                *field = Secret(v.trim().to_owned());
            }
        }
        if let Some(v) = var("GARRISON_YOUTUBE_DAILY_QUOTA") {
            self.youtube_daily_quota = v.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
                format!("GARRISON_YOUTUBE_DAILY_QUOTA must be a number of units from 1 up, got {v:?}")
            })?;
        }
        if let Some(v) = var("GARRISON_STREAM_CHECKS_PER_MINUTE") {
            self.stream_checks_per_minute =
                v.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
                    format!("GARRISON_STREAM_CHECKS_PER_MINUTE must be a number from 1 up, got {v:?}")
                })?;
        }
        if let Some(v) = var("GARRISON_STREAM_TIMEOUT_MS") {
            self.stream_timeout_ms =
                v.trim().parse().ok().filter(|n| (100..=60_000).contains(n)).with_context(|| {
                    format!("GARRISON_STREAM_TIMEOUT_MS must be a number from 100 to 60000, got {v:?}")
                })?;
        }
        if let Some(v) = var("GARRISON_TWITCH_EVENTSUB") {
            self.twitch_eventsub = parse_bool("GARRISON_TWITCH_EVENTSUB", &v)?;
        }
        if let Some(v) = var("GARRISON_STREAM_POLL_SECONDS") {
            self.stream_poll_seconds =
                v.trim().parse().ok().filter(|n| (1..=86_400).contains(n)).with_context(|| {
                    format!("GARRISON_STREAM_POLL_SECONDS must be a number of seconds from 1 to 86400, got {v:?}")
                })?;
        }
        if let Some(v) = var("GARRISON_WEBHOOK_DISPATCHER") {
            self.webhook_dispatcher = parse_bool("GARRISON_WEBHOOK_DISPATCHER", &v)?;
        }
        if let Some(v) = var("GARRISON_WEBHOOK_DISABLE_AFTER_DAYS") {
            self.webhook_disable_after_days =
                v.trim().parse().ok().filter(|n| (1..=90).contains(n)).with_context(|| {
                    format!("GARRISON_WEBHOOK_DISABLE_AFTER_DAYS must be a number of days from 1 to 90, got {v:?}")
                })?;
        }
        Ok(self)
    }

    /// `GARRISON_FETCH_ALLOW_LOOPBACK` lets user-supplied URLs reach this machine: it is for tests and
    /// benchmarks on one machine, so the server must then listen on loopback only (every address
    /// `bind` names is loopback). Checked before the server starts.
    pub fn check_fetch_loopback(&self) -> anyhow::Result<()> {
        if !self.fetch_allow_loopback || binds_only_loopback(&self.bind) {
            return Ok(());
        }
        bail!(
            "GARRISON_FETCH_ALLOW_LOOPBACK is for tests on one machine: it needs GARRISON_BIND on a loopback \
             address (127.0.0.1, [::1] or localhost), not {:?}",
            self.bind
        )
    }

    /// The settings as `config check` prints them, secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = DatabaseUrl(self.database_url.redacted());
        shown.s3_secret_key = self.s3_secret_key.redacted();
        shown.discord_bot_token = self.discord_bot_token.redacted();
        shown.secret_key = self.secret_key.redacted();
        shown.discord_client_secret = self.discord_client_secret.redacted();
        shown.roblox_client_secret = self.roblox_client_secret.redacted();
        shown.youtube_api_key = self.youtube_api_key.redacted();
        shown.twitch_client_id = self.twitch_client_id.redacted();
        shown.twitch_client_secret = self.twitch_client_secret.redacted();
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot print the settings: {e}"))
    }
}

/// Whether every address `bind` stands for is a loopback address (`localhost` is resolved).
fn binds_only_loopback(bind: &str) -> bool {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = bind.parse::<std::net::SocketAddr>() {
        return addr.ip().is_loopback();
    }
    match bind.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_fetching_needs_a_loopback_bind() {
        let with = |bind: &str| Settings { bind: bind.into(), fetch_allow_loopback: true, ..Settings::default() };
        for ok in ["127.0.0.1:0", "127.0.0.1:8080", "[::1]:9000", "localhost:8080"] {
            assert!(with(ok).check_fetch_loopback().is_ok(), "{ok}");
        }
        for refused in ["0.0.0.0:0", "[::]:8080", "10.0.0.5:80", "192.168.1.2:8080", "nonsense"] {
            let err = with(refused).check_fetch_loopback().expect_err(refused);
            assert!(err.to_string().contains("GARRISON_FETCH_ALLOW_LOOPBACK"), "{err}");
        }
        let off = Settings { bind: "0.0.0.0:0".into(), ..Settings::default() };
        assert!(off.check_fetch_loopback().is_ok(), "without the switch any address is fine");
    }

    #[test]
    fn transcript_limits_come_from_the_environment() {
        let settings = Settings::default()
            .with_env(|name| match name {
                "GARRISON_TRANSCRIPT_JOBS" => Some("3".into()),
                "GARRISON_TRANSCRIPT_QUEUE" => Some("0".into()),
                "GARRISON_TRANSCRIPT_JOB_TEMP_BYTES" => Some("1000".into()),
                "GARRISON_TRANSCRIPT_TEMP_BYTES" => Some("5000".into()),
                "GARRISON_TRANSCRIPT_TEMP_DIR" => Some("/var/tmp/garrison".into()),
                _ => None,
            })
            .expect("valid");
        assert_eq!((settings.transcript_jobs, settings.transcript_queue), (3, 0));
        assert_eq!((settings.transcript_job_temp_bytes, settings.transcript_temp_bytes), (1000, 5000));
        assert_eq!(settings.transcript_temp_dir, PathBuf::from("/var/tmp/garrison"));
        let err =
            Settings::default().with_env(|n| (n == "GARRISON_TRANSCRIPT_JOBS").then(|| "0".into())).expect_err("zero");
        assert!(err.to_string().contains("GARRISON_TRANSCRIPT_JOBS"), "{err}");
    }

    #[test]
    fn environment_overrides_defaults() {
        let settings = Settings::default()
            .with_env(|name| match name {
                "GARRISON_BIND" => Some("0.0.0.0:9000".into()),
                "GARRISON_LOG_FORMAT" => Some("json".into()),
                _ => None,
            })
            .expect("valid");
        assert_eq!(settings.bind, "0.0.0.0:9000");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.database_url.expose(), "sqlite://./data/garrison.db");
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            Settings::default().with_env(|n| (n == "GARRISON_LOG_FORMAT").then(|| "xml".into())).expect_err("invalid");
        assert!(err.to_string().contains("GARRISON_LOG_FORMAT"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl("postgres://app:s3cret@db.internal:5432/garrison?password=also".into());
        assert_eq!(url.redacted(), "postgres://app:***@db.internal:5432/garrison?***");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(DatabaseUrl("sqlite://./data/garrison.db".into()).redacted(), "sqlite://./data/garrison.db");
    }

    #[test]
    fn object_store_settings_come_from_the_environment() {
        let defaults = Settings::default();
        assert_eq!(defaults.object_store, ObjectStoreKind::Local);
        assert_eq!(defaults.object_dir, PathBuf::from("./data/objects"));
        assert_eq!(defaults.s3_region, "us-east-1");
        let settings = Settings::default()
            .with_env(|name| match name {
                "GARRISON_OBJECT_STORE" => Some("s3".into()),
                "GARRISON_OBJECT_DIR" => Some("/var/lib/garrison/objects".into()),
                "GARRISON_S3_ENDPOINT" => Some("http://127.0.0.1:9000".into()),
                "GARRISON_S3_REGION" => Some("eu-west-3".into()),
                "GARRISON_S3_BUCKET" => Some("garrison".into()),
                "GARRISON_S3_PATH_STYLE" => Some("true".into()),
                "GARRISON_S3_ACCESS_KEY" => Some("AKID".into()),
                "GARRISON_S3_SECRET_KEY" => Some("s3cret-key".into()),
                _ => None,
            })
            .expect("valid");
        assert_eq!(settings.object_store, ObjectStoreKind::S3);
        assert_eq!(settings.object_dir, PathBuf::from("/var/lib/garrison/objects"));
        assert_eq!(settings.s3_endpoint, "http://127.0.0.1:9000");
        assert_eq!(settings.s3_region, "eu-west-3");
        assert_eq!(settings.s3_bucket, "garrison");
        assert!(settings.s3_path_style);
        assert_eq!(settings.s3_access_key, "AKID");
        assert_eq!(settings.s3_secret_key.expose(), "s3cret-key");
        for (name, value) in [("GARRISON_OBJECT_STORE", "gcs"), ("GARRISON_S3_PATH_STYLE", "maybe")] {
            let err = Settings::default().with_env(|n| (n == name).then(|| value.into())).expect_err("invalid");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn the_s3_secret_key_is_redacted() {
        let settings =
            Settings::default().with_env(|n| (n == "GARRISON_S3_SECRET_KEY").then(|| "s3cret-key".into())).expect("ok");
        assert!(!format!("{settings:?}").contains("s3cret-key"));
        let shown = settings.redacted_toml();
        assert!(!shown.contains("s3cret-key"), "{shown}");
        assert!(shown.contains("s3_secret_key = \"***\""), "{shown}");
        assert!(Settings::default().redacted_toml().contains("s3_secret_key = \"\""));
        let parsed: Settings = toml::from_str("object_store = \"s3\"\ns3_path_style = true").expect("file keys");
        assert_eq!(parsed.object_store, ObjectStoreKind::S3);
        assert!(parsed.s3_path_style);
    }

    #[test]
    fn the_example_config_file_parses() {
        let example: Settings =
            toml::from_str(include_str!("../../../deploy/garrison.example.toml")).expect("the example is valid");
        assert_eq!(example.object_store, ObjectStoreKind::S3);
        assert!(example.s3_secret_key.is_empty());
        assert_eq!(example.cors_origins, ["https://dashboard.example.org"]);
    }

    #[test]
    fn the_systemd_unit_caps_what_the_service_may_take() {
        let unit = include_str!("../../../deploy/garrison.service");
        for setting in ["LimitNOFILE=", "MemoryMax=", "TasksMax=", "NoNewPrivileges=true"] {
            assert!(unit.lines().any(|line| line.starts_with(setting)), "deploy/garrison.service lacks {setting}");
        }
    }

    #[test]
    fn budget_settings_come_from_the_environment() {
        let defaults = Settings::default();
        assert_eq!((defaults.card_queue, defaults.regex_parallelism), (0, 0));
        assert_eq!(defaults.card_store_max_bytes, 1024 * 1024 * 1024);
        assert_eq!((defaults.card_image_cache_bytes, defaults.card_image_fresh_secs), (32 * 1024 * 1024, 300));
        let settings = Settings::default()
            .with_env(|name| match name {
                "GARRISON_CARD_QUEUE" => Some("64".into()),
                "GARRISON_CARD_STORE_MAX_BYTES" => Some("0".into()),
                "GARRISON_CARD_IMAGE_CACHE_BYTES" => Some("0".into()),
                "GARRISON_CARD_IMAGE_FRESH_SECS" => Some("60".into()),
                "GARRISON_CARD_PNG_COMPRESSION" => Some("small".into()),
                "GARRISON_REGEX_PARALLELISM" => Some("3".into()),
                _ => None,
            })
            .expect("valid");
        assert_eq!((settings.card_queue, settings.card_store_max_bytes, settings.regex_parallelism), (64, 0, 3));
        assert_eq!((settings.card_image_cache_bytes, settings.card_image_fresh_secs), (0, 60));
        assert_eq!(
            (defaults.card_png_compression, settings.card_png_compression),
            (PngCompression::Fast, PngCompression::Small)
        );
        for name in [
            "GARRISON_CARD_QUEUE",
            "GARRISON_CARD_STORE_MAX_BYTES",
            "GARRISON_REGEX_PARALLELISM",
            "GARRISON_CARD_PNG_COMPRESSION",
        ] {
            let err = Settings::default().with_env(|n| (n == name).then(|| "lots".into())).expect_err("invalid");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Settings>("bnd = \"x\"").is_err());
        let parsed: Settings = toml::from_str("bind = \"127.0.0.1:1\"").expect("partial file");
        assert_eq!(parsed.bind, "127.0.0.1:1");
    }

    #[test]
    fn config_file_errors_name_the_line_but_never_echo_it() {
        let secret = "MTIzNDU2.hunter2-secret";
        for (text, line, expected) in [
            (
                format!("bind = \"127.0.0.1:1\"\ndiscord_bot_tokn = \"{secret}\"\n"),
                2,
                "unknown field `discord_bot_tokn`",
            ),
            (format!("log = \"info\"\ns3_secret_key = {secret}\n"), 2, ""),
            (format!("database_connections = \"{secret}\"\n"), 1, "invalid type: string, expected u32"),
            (format!("\n\ns3_secret_key = [\"{secret}\"]\n"), 3, "invalid type: sequence, expected a string"),
            (format!("discord_bot_token = \"{secret}\"\nbind = 5"), 2, "invalid type: integer, expected a string"),
            (format!("discord_bot_token = \"{secret}"), 1, ""),
        ] {
            let message = format!("{:#}", parse_file(&text).expect_err("invalid"));
            assert!(!message.contains("hunter2"), "the file's text was echoed: {message}");
            assert!(message.starts_with(&format!("line {line}, column ")), "{message}");
            assert!(message.contains(expected), "{message}");
        }
        assert_eq!(redact_values("invalid value: integer `5`, expected u16"), "invalid value: integer, expected u16");
        assert_eq!(
            redact_values("invalid type: string \"a, expected b\", expected u32"),
            "invalid type: string, expected u32"
        );
    }

    #[test]
    fn cors_origins_and_the_public_url_come_from_the_environment() {
        let defaults = Settings::default();
        assert_eq!(defaults.cors_origins, ["*"]);
        assert_eq!(defaults.public_url, "", "derived from the bound address unless set");
        let settings = Settings::default()
            .with_env(|name| match name {
                "GARRISON_CORS_ORIGINS" => Some(" https://a.example , https://b.example:8443,".into()),
                "GARRISON_PUBLIC_URL" => Some(" https://garrison.example ".into()),
                _ => None,
            })
            .expect("valid");
        assert_eq!(settings.cors_origins, ["https://a.example", "https://b.example:8443"]);
        assert_eq!(settings.public_url, "https://garrison.example");
        let none = Settings::default().with_env(|n| (n == "GARRISON_CORS_ORIGINS").then(String::new)).expect("valid");
        assert!(none.cors_origins.is_empty());
    }
}
