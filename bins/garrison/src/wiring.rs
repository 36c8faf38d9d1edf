//! The only place adapters meet: settings in, services out.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use garrison_core::{
    Clock, SleepFuture, Sleeper, Timestamp,
    cards::CardBudget,
    cooldowns::{CooldownStore, MemoryCooldowns},
    discord::looks::IconSource,
    discord::{DiscordBots, Guilds, Messaging, Moderation},
    image_cache::ImageCachePolicy,
    objects::ObjectStore,
    operations::Operations,
    records::{ApiKeyService, MemberRecords, RecordStores},
    utilities::RegexBudget,
    webhooks::{Outbox, WebhookStore},
};
use garrison_storage::{
    Database, DieselApiKeys, DieselCertifications, DieselEpLedger, DieselLoaRecords, DieselMedals, DieselXpLedger,
    FsObjectStore, PoolSizes, S3Config, S3ObjectStore, SecretKey,
};

use garrison_fetch::{FetchPolicy, SafeFetcher};

use crate::{
    adapters::transcripts::{TranscriptLimits, TranscriptStudio},
    regex_pool::RegexPool,
    settings::{ObjectStoreKind, Settings},
    studio::CardStudio,
};

/// The system clock, in milliseconds since the Unix epoch.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(millis)
    }
}

/// The base of the links the server hands out (`viewUrl`, `directLink`): `public_url` when set,
/// else derived from the address the server bound, so a server started on another port or interface
/// links to itself. An unspecified address (`0.0.0.0`, `[::]`) is not one a client can use: the links
/// then name loopback on the bound port, and a warning asks for `GARRISON_PUBLIC_URL`.
pub fn public_url(settings: &Settings, bound: SocketAddr) -> String {
    let configured = settings.public_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let mut addr = bound;
    if addr.ip().is_unspecified() {
        let loopback = match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        addr.set_ip(loopback);
        tracing::warn!(
            "listening on every interface without GARRISON_PUBLIC_URL: links will name http://{addr}; set \
             GARRISON_PUBLIC_URL to the address clients use"
        );
    }
    format!("http://{addr}")
}

/// The key that seals secrets at rest: `GARRISON_SECRET_KEY`, else the key file, which is made (with
/// a new random key, readable by this user only) on first start. Neither the key nor the file's
/// contents ever appear in an error.
pub fn secret_key(settings: &Settings) -> anyhow::Result<SecretKey> {
    if !settings.secret_key.is_empty() {
        return SecretKey::parse(settings.secret_key.expose())
            .context("GARRISON_SECRET_KEY must be 64 hex digits or the base64 of 32 bytes");
    }
    let path = &settings.secret_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::parse(&text).with_context(|| {
            format!("the secret key file {} must hold 64 hex digits or the base64 of 32 bytes", path.display())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate()?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(path).and_then(|mut file| {
                use std::io::Write;
                file.write_all(key.encode().as_bytes())?;
                file.sync_all()
            });
            match written {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "generated the secret key that seals stored secrets");
                    Ok(key)
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(path)?;
                    SecretKey::parse(&text)
                        .with_context(|| format!("the secret key file {} is unreadable", path.display()))
                }
                Err(e) => Err(e).with_context(|| format!("cannot write the secret key file {}", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the secret key file {}", path.display())),
    }
}

/// The Roblox adapter at the configured endpoints: one client (and one per-key limiter) for both
/// Roblox services.
pub fn roblox_client(settings: &Settings) -> anyhow::Result<Arc<garrison_roblox::RobloxClient>> {
    let client = garrison_roblox::RobloxClient::new(
        garrison_roblox::RobloxEndpoints {
            api_url: settings.roblox_api_url.clone(),
            users_url: settings.roblox_users_url.clone(),
        },
        garrison_roblox::RobloxBudget {
            timeout: Duration::from_millis(settings.roblox_timeout_ms),
            wait: Duration::from_millis(settings.roblox_wait_budget_ms),
        },
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Arc::new(client))
}

/// The Roblox group use cases: the servers' settings in the database (keys sealed with `secret`),
/// reads on tokio's blocking pool and writes through the store's writer.
pub fn roblox(
    client: &Arc<garrison_roblox::RobloxClient>,
    db: &Database,
    secret: SecretKey,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> garrison_core::roblox::RobloxService {
    garrison_core::roblox::RobloxService::new(
        garrison_core::roblox::RobloxPorts {
            configs: Arc::new(garrison_storage::DieselRobloxConfigs::new(db.clone(), secret)),
            groups: client.clone(),
            users: client.clone(),
            accounts: client.clone(),
            threads: Arc::new(crate::adapters::TokioBlockingThreads),
            writer: Arc::new(db.clone()),
            clock,
            outbox,
        },
        garrison_core::roblox::CacheLifetimes::default(),
    )
}

/// Rank binds: kept in the database, applied through the server's own bot (the Discord adapter) from
/// the member's link and their rank (the Roblox service).
pub fn binds(
    db: &Database,
    discord: Arc<dyn DiscordBots>,
    roblox: Arc<garrison_core::roblox::RobloxService>,
) -> garrison_core::roblox::binds::BindService {
    garrison_core::roblox::binds::BindService::new(
        garrison_core::roblox::binds::BindPorts {
            binds: Arc::new(garrison_storage::DieselRankBinds::new(db.clone())),
            links: Arc::new(garrison_storage::DieselRobloxLinks::new(db.clone())),
            discord,
            threads: Arc::new(crate::adapters::TokioBlockingThreads),
            writer: Arc::new(db.clone()),
        },
        roblox,
    )
}

/// Stream watches and servers' stream credentials: kept in the database (credentials sealed under the
/// server's secret key), channels and roles checked with the server's own bot.
pub fn watches(
    settings: &Settings,
    db: &Database,
    discord: Arc<dyn DiscordBots>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<garrison_core::streams::watches::WatchService> {
    use garrison_core::streams::watches::{WatchPorts, WatchService};
    Ok(WatchService::new(WatchPorts {
        watches: Arc::new(garrison_storage::DieselStreamWatches::new(db.clone())),
        keys: Arc::new(garrison_storage::DieselStreamKeys::new(db.clone(), secret_key(settings)?)),
        discord,
        threads: Arc::new(crate::adapters::TokioBlockingThreads),
        writer: Arc::new(db.clone()),
        clock,
    }))
}

/// The web verification flow: Discord's and Roblox's OAuth apps (from the settings; without a client
/// id and secret a provider says it is not configured), callbacks under `public_url`, flows and links
/// in the database.
pub fn signin(
    settings: &Settings,
    db: &Database,
    public_url: &str,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<garrison_core::roblox::signin::SignInService> {
    let credentials = |id: &str, secret: &crate::settings::Secret, path: &str| {
        (!id.is_empty() && !secret.is_empty()).then(|| garrison_oauth::ClientCredentials {
            client_id: id.to_owned(),
            client_secret: secret.expose().to_owned(),
            redirect_uri: format!("{public_url}{path}"),
        })
    };
    let timeout = Duration::from_millis(settings.discord_timeout_ms);
    let api = match settings.discord_api_url.trim_end_matches('/') {
        "" => "https://discord.com/api/v10".to_owned(),
        custom => format!("{custom}/api/v10"),
    };
    let discord = garrison_oauth::OAuthClient::discord(
        &settings.discord_oauth_url,
        &api,
        credentials(&settings.discord_client_id, &settings.discord_client_secret, "/verify/discord/callback"),
        timeout,
    )
    .map_err(anyhow::Error::msg)?;
    let roblox = garrison_oauth::OAuthClient::roblox(
        &settings.roblox_oauth_url,
        credentials(&settings.roblox_client_id, &settings.roblox_client_secret, "/verify/roblox/callback"),
        Duration::from_millis(settings.roblox_timeout_ms),
    )
    .map_err(anyhow::Error::msg)?;
    Ok(garrison_core::roblox::signin::SignInService::new(garrison_core::roblox::signin::SignInPorts {
        flows: Arc::new(garrison_storage::DieselSignInFlows::new(db.clone())),
        links: Arc::new(garrison_storage::DieselRobloxLinks::new(db.clone())),
        discord: Arc::new(discord),
        roblox: Arc::new(roblox),
        threads: Arc::new(crate::adapters::TokioBlockingThreads),
        writer: Arc::new(db.clone()),
        clock,
        entropy: Arc::new(crate::adapters::OsEntropy),
        outbox,
    }))
}

/// Links between Discord and Roblox accounts: the links in the database, Roblox's user look-ups,
/// phrases from the OS random source.
pub fn verification(
    client: &Arc<garrison_roblox::RobloxClient>,
    db: &Database,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> garrison_core::roblox::verification::VerificationService {
    garrison_core::roblox::verification::VerificationService::new(
        garrison_core::roblox::verification::VerificationPorts {
            links: Arc::new(garrison_storage::DieselRobloxLinks::new(db.clone())),
            users: client.clone(),
            threads: Arc::new(crate::adapters::TokioBlockingThreads),
            writer: Arc::new(db.clone()),
            clock,
            entropy: Arc::new(crate::adapters::OsEntropy),
            outbox,
        },
    )
}

/// Opens the configured database and applies pending migrations.
pub fn database(settings: &Settings) -> anyhow::Result<Database> {
    let db = Database::open(
        settings.database_url.expose(),
        PoolSizes {
            connections: settings.database_connections,
            acquire_timeout: Duration::from_millis(settings.database_timeout_ms),
        },
    )
    .with_context(|| format!("cannot open the database {}", settings.database_url.redacted()))?;
    let applied = db.migrate().context("cannot migrate the database")?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(db)
}

/// The configured object store: the local directory (created if missing), or the S3 bucket, which must
/// be named along with both keys. Makes no network request; a wrong endpoint shows on first use.
pub fn object_store(settings: &Settings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    match settings.object_store {
        ObjectStoreKind::Local => {
            let store = FsObjectStore::open(&settings.object_dir)
                .with_context(|| format!("cannot open the object directory {}", settings.object_dir.display()))?;
            Ok(Arc::new(store))
        }
        ObjectStoreKind::S3 => {
            let missing: Vec<&str> = [
                ("GARRISON_S3_BUCKET", settings.s3_bucket.trim().is_empty()),
                ("GARRISON_S3_ACCESS_KEY", settings.s3_access_key.is_empty()),
                ("GARRISON_S3_SECRET_KEY", settings.s3_secret_key.is_empty()),
            ]
            .into_iter()
            .filter_map(|(name, unset)| unset.then_some(name))
            .collect();
            if !missing.is_empty() {
                bail!(
                    "GARRISON_OBJECT_STORE=s3 needs {} (or the matching s3_* keys in garrison.toml)",
                    missing.join(", ")
                );
            }
            let endpoint = Some(settings.s3_endpoint.trim()).filter(|e| !e.is_empty()).map(str::to_owned);
            let store = S3ObjectStore::new(S3Config {
                endpoint,
                region: settings.s3_region.clone(),
                bucket: settings.s3_bucket.clone(),
                path_style: settings.s3_path_style,
                access_key: settings.s3_access_key.clone(),
                secret_key: settings.s3_secret_key.expose().to_owned(),
            })
            .with_context(|| format!("cannot set up the S3 object store for bucket {:?}", settings.s3_bucket))?;
            Ok(Arc::new(store))
        }
    }
}

/// The fetcher for user-supplied URLs whose host the specification does not restrict (role icons):
/// any public HTTPS host on port 443. Refuses to start with the loopback test switch unless the server
/// listens on loopback only.
pub fn fetcher(settings: &Settings) -> anyhow::Result<SafeFetcher> {
    settings.check_fetch_loopback()?;
    if settings.fetch_allow_loopback {
        tracing::warn!(
            "GARRISON_FETCH_ALLOW_LOOPBACK is on: image URLs may reach loopback over plain HTTP (tests only)"
        );
    }
    SafeFetcher::new(FetchPolicy {
        max_bytes: settings.fetch_max_bytes,
        timeout: Duration::from_millis(settings.fetch_timeout_ms),
        allow_loopback_for_tests: settings.fetch_allow_loopback,
        ..FetchPolicy::any_public_host()
    })
    .context("cannot set up the image fetcher")
}

/// Webhook endpoints, events and deliveries, in the database (secrets sealed): the one store behind
/// the webhook service and every service's outbox.
pub fn webhook_store(settings: &Settings, db: &Database) -> anyhow::Result<Arc<dyn WebhookStore>> {
    Ok(Arc::new(garrison_storage::DieselWebhooks::new(db.clone(), secret_key(settings)?)))
}

/// Where changes write their webhook events (in their own write job), with event ids from the OS.
pub fn outbox(store: &Arc<dyn WebhookStore>, clock: Arc<dyn Clock>) -> Outbox {
    Outbox::new(Arc::clone(store), Arc::new(crate::adapters::OsEntropy), clock)
}

/// Outbound webhooks: endpoints over `store`, delivered through the safe fetcher (any public HTTPS
/// host on 443, no redirects followed, 10 s).
pub fn webhooks(
    settings: &Settings,
    db: &Database,
    store: Arc<dyn WebhookStore>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<garrison_core::webhooks::WebhookService> {
    use garrison_core::webhooks::{WebhookPorts, WebhookService};
    settings.check_fetch_loopback()?;
    let fetcher = SafeFetcher::new(FetchPolicy {
        max_bytes: 64 * 1024,
        timeout: Duration::from_secs(10),
        max_redirects: 0,
        allow_loopback_for_tests: settings.fetch_allow_loopback,
        // An endpoint's connections serve its next deliveries: as many as are sent at once.
        max_idle_per_host: Some(garrison_core::webhooks::DELIVERIES_IN_FLIGHT),
        ..FetchPolicy::any_public_host()
    })
    .context("cannot set up the webhook sender")?;
    Ok(WebhookService::new(WebhookPorts {
        disable_after_days: settings.webhook_disable_after_days,
        store,
        outbox,
        transport: Arc::new(crate::adapters::FetchedWebhooks(fetcher)),
        entropy: Arc::new(crate::adapters::OsEntropy),
        threads: Arc::new(crate::adapters::TokioBlockingThreads),
        writer: Arc::new(db.clone()),
        clock,
    }))
}

/// Cards: a fetcher limited to the allow-listed hosts (the specification restricts card images to
/// them), the object store (the bundled fonts are parsed on the first card), the render and in-flight
/// budget, and the stored-card size cap.
pub fn card_studio(
    settings: &Settings,
    objects: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<CardStudio> {
    settings.check_fetch_loopback()?;
    let parallel = match settings.render_parallelism {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let in_flight = match settings.card_queue {
        0 => 16 * parallel,
        n => n,
    };
    let fetcher = SafeFetcher::new(FetchPolicy {
        allowed_hosts: settings.fetch_allowed_hosts.clone(),
        max_bytes: settings.fetch_max_bytes,
        timeout: Duration::from_millis(settings.fetch_timeout_ms),
        allow_loopback_for_tests: settings.fetch_allow_loopback,
        ..FetchPolicy::default()
    })
    .context("cannot set up the card image fetcher")?;
    let budget = CardBudget::new(parallel, in_flight);
    let images = ImageCachePolicy {
        capacity_bytes: settings.card_image_cache_bytes,
        fresh_for_ms: i64::try_from(settings.card_image_fresh_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
    };
    let source = Arc::new(crate::adapters::FetchedImages(fetcher));
    let png = match settings.card_png_compression {
        crate::settings::PngCompression::Fast => garrison_render::PngCompression::Fast,
        crate::settings::PngCompression::Small => garrison_render::PngCompression::Small,
    };
    CardStudio::new(source, objects, budget, settings.card_store_max_bytes, images, png, clock)
        .context("cannot start the card render threads")
}

/// Regex matches in worker processes of this executable, under a budget sized for
/// `regex_parallelism` cores (0 = this machine's).
pub fn regex_pool(settings: &Settings) -> anyhow::Result<RegexPool> {
    let cores = match settings.regex_parallelism {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    RegexPool::of_this_executable(RegexBudget::for_cores(cores))
}

/// The transcript studio: media from any public HTTPS host (port 443), with time for large files (two
/// minutes each), and the configured job, queue and temporary-space limits.
pub fn transcript_studio(settings: &Settings, objects: Arc<dyn ObjectStore>) -> anyhow::Result<TranscriptStudio> {
    settings.check_fetch_loopback()?;
    let fetcher = SafeFetcher::new(FetchPolicy {
        max_bytes: crate::adapters::transcripts::MEDIA_BUDGET,
        timeout: Duration::from_secs(120),
        allow_loopback_for_tests: settings.fetch_allow_loopback,
        ..FetchPolicy::any_public_host()
    })?;
    let limits = TranscriptLimits {
        jobs: settings.transcript_jobs,
        queue: settings.transcript_queue,
        job_temp_bytes: settings.transcript_job_temp_bytes,
        temp_bytes: settings.transcript_temp_bytes,
        temp_dir: Some(settings.transcript_temp_dir.clone()).filter(|d| !d.as_os_str().is_empty()),
    };
    Ok(TranscriptStudio::new(fetcher, objects, limits))
}

/// The message use cases, over the Discord adapter and the process's cooldowns.
pub fn messaging(discord: Arc<dyn DiscordBots>, cooldowns: Arc<dyn CooldownStore>, clock: Arc<dyn Clock>) -> Messaging {
    Messaging::new(discord, cooldowns, clock)
}

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Pauses on the async runtime (a purge's backoff).
#[derive(Debug)]
pub struct RuntimeSleeper;

impl Sleeper for RuntimeSleeper {
    fn sleep(&self, ms: u64) -> SleepFuture {
        Box::pin(actix_web::rt::time::sleep(Duration::from_millis(ms)))
    }
}

/// The process's cooldown turns, kept in memory: make one and share it with every service.
pub fn cooldowns() -> Arc<dyn CooldownStore> {
    Arc::new(MemoryCooldowns::new())
}

/// The guild queries over the Discord adapter, with the shared cooldowns.
pub fn guilds(discord: Arc<dyn DiscordBots>, cooldowns: Arc<dyn CooldownStore>, clock: Arc<dyn Clock>) -> Guilds {
    Guilds::new(discord, cooldowns, clock)
}

/// The moderation service over the Discord adapter, pausing on the async runtime.
pub fn moderation(discord: Arc<dyn DiscordBots>, clock: Arc<dyn Clock>) -> Moderation {
    Moderation::new(discord, clock, Arc::new(RuntimeSleeper))
}

pub fn member_records(db: &Database, outbox: Outbox, clock: Arc<dyn Clock>) -> MemberRecords {
    MemberRecords::new(
        RecordStores {
            xp: Arc::new(DieselXpLedger::new(db.clone())),
            ep: Arc::new(DieselEpLedger::new(db.clone())),
            loa: Arc::new(DieselLoaRecords::new(db.clone())),
            medals: Arc::new(DieselMedals::new(db.clone())),
            certifications: Arc::new(DieselCertifications::new(db.clone())),
            writer: Arc::new(db.clone()),
            outbox,
        },
        clock,
    )
}

/// Readiness over the database's health check, and the clock.
pub fn operations(db: &Database, clock: Arc<dyn Clock>) -> Operations {
    Operations::new(Arc::new(db.clone()), clock)
}

pub fn api_keys(db: &Database, clock: Arc<dyn Clock>) -> ApiKeyService {
    ApiKeyService::new(Arc::new(DieselApiKeys::new(db.clone())), clock)
}

/// Custom booster roles: their records in the database (run on tokio's blocking pool) and the bots
/// of the Discord adapter.
pub fn boosters(
    db: &Database,
    discord: Arc<dyn garrison_core::discord::DiscordBots>,
    icons: Arc<dyn IconSource>,
    clock: Arc<dyn Clock>,
) -> garrison_core::booster::BoosterRoleService {
    garrison_core::booster::BoosterRoleService::new(
        discord,
        Arc::new(garrison_storage::DieselBoosterRoles::new(db.clone())),
        Arc::new(crate::adapters::TokioBlockingThreads),
        clock,
        icons,
    )
}

/// Moderation logs: records in the database (run on tokio's blocking pool), documents in `objects`,
/// view ids from the OS random source.
pub fn modlogs(
    db: &Database,
    discord: Arc<dyn garrison_core::discord::DiscordBots>,
    objects: Arc<dyn ObjectStore>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> garrison_core::modlog::ModLogService {
    garrison_core::modlog::ModLogService::new(garrison_core::modlog::ModLogPorts {
        discord,
        records: Arc::new(garrison_storage::DieselModLogs::new(db.clone())),
        objects,
        threads: Arc::new(crate::adapters::TokioBlockingThreads),
        clock,
        entropy: Arc::new(crate::adapters::OsEntropy),
        writer: Arc::new(db.clone()),
        outbox,
    })
}

/// Transcripts: made by `studio` with the callers' bots, kept in `objects`, linked under `public_url`.
pub fn transcripts(
    studio: TranscriptStudio,
    discord: Arc<dyn garrison_core::discord::DiscordBots>,
    objects: Arc<dyn ObjectStore>,
    db: &Database,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> garrison_core::transcript::TranscriptService {
    garrison_core::transcript::TranscriptService::new(
        garrison_core::transcript::TranscriptPorts {
            discord,
            renderer: Arc::new(studio),
            objects,
            clock,
            entropy: Arc::new(crate::adapters::OsEntropy),
            writer: Arc::new(db.clone()),
            outbox,
        },
        public_url,
    )
}

/// Server backups: guilds read and written with the callers' bots, records in the database, the JSON
/// and images in `objects`, auth keys tagged under a key derived from the server's secret key.
pub fn backups(
    settings: &Settings,
    db: &Database,
    bots: Arc<dyn garrison_core::backups::port::BackupBots>,
    objects: Arc<dyn ObjectStore>,
    cooldowns: Arc<dyn CooldownStore>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<garrison_core::backups::BackupService> {
    use garrison_core::backups::{BackupPorts, BackupService, BackupSettings, Premium, TagKey};
    let premium = match settings.premium {
        crate::settings::Premium::All => Premium::All,
        crate::settings::Premium::Granted => {
            Premium::Granted(Arc::new(garrison_storage::DieselPremiumGrants::new(db.clone())))
        }
    };
    let secret = secret_key(settings)?;
    Ok(BackupService::new(
        BackupPorts {
            bots,
            index: Arc::new(garrison_storage::DieselBackupIndex::new(db.clone())),
            objects,
            clock,
            entropy: Arc::new(crate::adapters::OsEntropy),
            cooldowns,
            sleeper: Arc::new(RuntimeSleeper),
            jobs: Arc::new(garrison_storage::DieselRestoreJobs::new(db.clone(), secret.clone())),
            writer: Arc::new(db.clone()),
            outbox,
        },
        BackupSettings {
            tags: TagKey::new(secret.derive("backup auth keys")),
            keep_versions: settings.backup_keep_versions,
            premium,
            answer_within_ms: settings.backup_answer_within_ms,
            job_lease_ms: settings.backup_job_lease_ms,
        },
    )?)
}

/// The operator's premium grants, in the database.
pub fn premium_admin(db: &Database, clock: Arc<dyn Clock>) -> garrison_core::backups::PremiumAdmin {
    garrison_core::backups::PremiumAdmin::new(Arc::new(garrison_storage::DieselPremiumGrants::new(db.clone())), clock)
}

/// Role icons fetched from user-supplied URLs through [`fetcher`].
pub fn icons(settings: &Settings) -> anyhow::Result<Arc<dyn IconSource>> {
    Ok(Arc::new(crate::adapters::FetchedIcons(fetcher(settings)?)))
}

/// Role creation with the callers' bots, icons from `icons`.
pub fn roles(
    discord: Arc<dyn garrison_core::discord::DiscordBots>,
    icons: Arc<dyn IconSource>,
) -> garrison_core::discord::RoleService {
    garrison_core::discord::RoleService::new(discord, icons)
}

/// 32 bytes from the operating system's random source.
pub fn entropy<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    Ok(bytes)
}

/// The Discord adapter: twilight clients per bot token, pointed at Discord or at the configured
/// stand-in, with the process's refusal budget. Makes no request until a route needs Discord.
pub fn discord(settings: &Settings) -> anyhow::Result<garrison_discord::TwilightBots> {
    use garrison_core::discord::{DISCORD_INVALID_REQUEST_LIMIT, DISCORD_WINDOW_MS, RefusalLimits};
    let refusal_limit = settings.discord_refusal_limit;
    anyhow::ensure!(
        (1..DISCORD_INVALID_REQUEST_LIMIT).contains(&refusal_limit),
        "discord_refusal_limit must be from 1 to 9999 (Discord bans the address at 10,000), got {refusal_limit}"
    );
    let config = garrison_discord::DiscordConfig {
        api_url: Some(settings.discord_api_url.clone()).filter(|u| !u.is_empty()),
        cdn_url: Some(settings.discord_cdn_url.clone()).filter(|u| !u.is_empty()),
        server_token: garrison_core::discord::BotToken::new(settings.discord_bot_token.expose()),
        wait_budget: Duration::from_millis(settings.discord_wait_budget_ms),
        request_timeout: Duration::from_millis(settings.discord_timeout_ms),
        max_clients: settings.discord_max_clients,
        global_limit: settings.discord_global_limit,
        refusals: RefusalLimits::new(refusal_limit, DISCORD_WINDOW_MS),
        ..garrison_discord::DiscordConfig::default()
    };
    Ok(garrison_discord::TwilightBots::with_clock(config, clock())?)
}

/// The gateway pool over the Discord adapter (voice channels, role members, the server-wide bot).
pub fn gateway(
    settings: &Settings,
    bots: &garrison_discord::TwilightBots,
) -> anyhow::Result<garrison_discord::TwilightGateway> {
    let url = settings.discord_gateway_url.trim();
    anyhow::ensure!(
        url.is_empty() || url.starts_with("wss://") || url.starts_with("ws://"),
        "discord_gateway_url must be a ws:// or wss:// URL, got {url:?}"
    );
    let config = garrison_discord::GatewayConfig {
        url: Some(url.to_owned()).filter(|u| !u.is_empty()),
        idle: Duration::from_secs(settings.discord_gateway_idle_secs),
        max_sessions: settings.discord_gateway_max_sessions,
        ..garrison_discord::GatewayConfig::default()
    };
    Ok(garrison_discord::TwilightGateway::new(bots.clone(), config)?)
}

/// Starts the server-wide bot when `GARRISON_DISCORD_BOT_TOKEN` is set: its shards register the slash
/// commands (globally, or in `GARRISON_DISCORD_COMMANDS_GUILD`) and answer them.
pub fn server_bot(
    settings: &Settings,
    gateway: &garrison_discord::TwilightGateway,
    db: &Database,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> anyhow::Result<()> {
    let Some(token) = garrison_core::discord::BotToken::new(settings.discord_bot_token.expose()) else {
        return Ok(());
    };
    let scope = match settings.discord_commands_guild.trim() {
        "" => garrison_discord::CommandScope::Global,
        guild => garrison_discord::CommandScope::Guild(
            garrison_core::ServerId::parse("discord_commands_guild", guild).map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
    };
    let signin = !settings.discord_client_id.is_empty()
        && !settings.discord_client_secret.is_empty()
        && !settings.roblox_client_id.is_empty()
        && !settings.roblox_client_secret.is_empty();
    let commands = garrison_core::discord::commands::SlashCommands::new(
        Arc::new(api_keys(db, clock)),
        Arc::new(crate::adapters::TokioBlockingThreads),
        Arc::new(db.clone()),
        Arc::new(crate::adapters::OsEntropy),
        signin.then(|| format!("{}/verify", public_url.trim_end_matches('/'))),
    );
    gateway.start_server_bot(token, Arc::new(commands), garrison_core::discord::commands::definitions(), scope);
    Ok(())
}

/// Live stream checks: the platforms' APIs at the configured endpoints, the service's own keys when
/// configured (they come before callers'), the seed's cache lifetimes.
fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The platforms' HTTP clients, at the configured addresses.
fn stream_clients(settings: &Settings) -> anyhow::Result<garrison_streams::StreamClients> {
    garrison_streams::StreamClients::new(
        garrison_streams::StreamEndpoints {
            youtube_url: settings.youtube_api_url.clone(),
            twitch_auth_url: settings.twitch_auth_url.clone(),
            twitch_api_url: settings.twitch_api_url.clone(),
            tiktok_url: settings.tiktok_url.clone(),
        },
        Duration::from_millis(settings.stream_timeout_ms),
    )
    .map_err(anyhow::Error::msg)
}

pub fn streams(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<garrison_core::streams::StreamService> {
    use garrison_core::streams::{Secret, StreamService, StreamSettings, TwitchCredentials};
    let clients = Arc::new(stream_clients(settings)?);
    let configured = |name: &'static str, value: &crate::settings::Secret| {
        (!value.is_empty()).then(|| Secret::parse(name, value.expose())).transpose().map_err(|e| anyhow::anyhow!("{e}"))
    };
    let youtube_key = configured("GARRISON_YOUTUBE_API_KEY", &settings.youtube_api_key)?;
    let twitch = match (
        configured("GARRISON_TWITCH_CLIENT_ID", &settings.twitch_client_id)?,
        configured("GARRISON_TWITCH_CLIENT_SECRET", &settings.twitch_client_secret)?,
    ) {
        (Some(client_id), Some(client_secret)) => Some(TwitchCredentials { client_id, client_secret }),
        (None, None) => None,
        // Checked here, where the file's and the environment's settings have met.
        _ => bail!("GARRISON_TWITCH_CLIENT_ID and GARRISON_TWITCH_CLIENT_SECRET go together: set both or neither"),
    };
    Ok(StreamService::new(
        clients.clone(),
        clients.clone(),
        clients,
        clock,
        Arc::new(RuntimeSleeper),
        StreamSettings {
            youtube_key,
            twitch,
            youtube_daily_quota: settings.youtube_daily_quota,
            checks_per_minute: settings.stream_checks_per_minute,
            timeout_ms: settings.stream_timeout_ms,
            ..StreamSettings::default()
        },
    ))
}

/// The live-alert loop: every watch, checked through the same `streams` service as the routes (its
/// caches shared, its budget its own), alerts posted by the server-wide bot and kept in the database;
/// with `GARRISON_TWITCH_EVENTSUB`, told of Twitch streams by EventSub at `public_url`.
pub fn alerts(
    settings: &Settings,
    db: &Database,
    discord: Arc<dyn DiscordBots>,
    streams: Arc<garrison_core::streams::StreamService>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> anyhow::Result<garrison_core::streams::alerts::AlertService> {
    use garrison_core::streams::alerts::{AlertPorts, AlertService, EventSubSettings};
    let secret_key = secret_key(settings)?;
    let alerts = AlertService::new(
        AlertPorts {
            watches: Arc::new(garrison_storage::DieselStreamWatches::new(db.clone())),
            keys: Arc::new(garrison_storage::DieselStreamKeys::new(db.clone(), secret_key.clone())),
            alerts: Arc::new(garrison_storage::DieselStreamAlerts::new(db.clone())),
            discord,
            threads: Arc::new(crate::adapters::TokioBlockingThreads),
            writer: Arc::new(db.clone()),
            clock,
            outbox,
        },
        streams,
    );
    if !settings.twitch_eventsub {
        return Ok(alerts);
    }
    if !public_url.starts_with("https://") {
        tracing::warn!(
            public_url,
            "GARRISON_TWITCH_EVENTSUB is on but GARRISON_PUBLIC_URL is not https: Twitch delivers only to HTTPS on port 443"
        );
    }
    // The subscriptions' secret, derived from the server's key: the same on every replica and restart.
    let secret =
        garrison_core::streams::Secret::parse("eventsub secret", &hex_of(&secret_key.derive("twitch eventsub")))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let api = Arc::new(stream_clients(settings)?);
    let callback = format!(
        "{}/api/Stream/eventsub/twitch?key={}",
        public_url.trim_end_matches('/'),
        &hex_of(&secret.fingerprint())[..8]
    );
    alerts.with_eventsub(EventSubSettings { api, callback, secret }).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_settings(vars: &[(&str, &str)]) -> Settings {
        let mut all = vec![("GARRISON_OBJECT_STORE", "s3")];
        all.extend_from_slice(vars);
        Settings::default()
            .with_env(|name| all.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
            .expect("valid settings")
    }

    #[test]
    fn the_local_object_store_creates_its_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let objects = dir.path().join("data/objects");
        let settings = Settings { object_dir: objects.clone(), ..Settings::default() };
        let store = object_store(&settings).expect("a local store");
        assert!(objects.is_dir());
        assert!(format!("{store:?}").contains("FsObjectStore"));
    }

    #[test]
    fn s3_without_a_bucket_or_keys_fails_at_startup_naming_what_is_missing() {
        let err = object_store(&s3_settings(&[("GARRISON_S3_SECRET_KEY", "s3cret-key")])).expect_err("incomplete");
        let message = format!("{err:#}");
        assert!(message.contains("GARRISON_S3_BUCKET") && message.contains("GARRISON_S3_ACCESS_KEY"), "{message}");
        assert!(!message.contains("GARRISON_S3_SECRET_KEY") && !message.contains("s3cret-key"), "{message}");
    }

    #[test]
    fn complete_s3_settings_make_a_store_without_showing_the_secret() {
        let settings = s3_settings(&[
            ("GARRISON_S3_ENDPOINT", "http://127.0.0.1:9"),
            ("GARRISON_S3_BUCKET", "garrison"),
            ("GARRISON_S3_PATH_STYLE", "true"),
            ("GARRISON_S3_ACCESS_KEY", "AKID"),
            ("GARRISON_S3_SECRET_KEY", "s3cret-key"),
        ]);
        let store = object_store(&settings).expect("an S3 store");
        let shown = format!("{store:?}");
        assert!(shown.contains("S3ObjectStore") && !shown.contains("s3cret-key"), "{shown}");
        // AWS: no endpoint, the region names it.
        let aws = s3_settings(&[
            ("GARRISON_S3_BUCKET", "garrison"),
            ("GARRISON_S3_ACCESS_KEY", "AKID"),
            ("GARRISON_S3_SECRET_KEY", "s3cret-key"),
        ]);
        assert!(object_store(&aws).is_ok());
    }

    #[test]
    fn the_public_url_defaults_to_the_bound_address() {
        let unset = Settings::default();
        let bound = |text: &str| text.parse::<SocketAddr>().expect("an address");
        assert_eq!(public_url(&unset, bound("127.0.0.1:9123")), "http://127.0.0.1:9123");
        assert_eq!(public_url(&unset, bound("192.0.2.7:80")), "http://192.0.2.7:80");
        assert_eq!(public_url(&unset, bound("[::1]:8080")), "http://[::1]:8080");
        assert_eq!(public_url(&unset, bound("0.0.0.0:9000")), "http://127.0.0.1:9000");
        assert_eq!(public_url(&unset, bound("[::]:9000")), "http://[::1]:9000");
        let set = Settings { public_url: "https://garrison.example/".into(), ..Settings::default() };
        assert_eq!(public_url(&set, bound("0.0.0.0:9000")), "https://garrison.example");
    }
}
