//! The command line: `serve` (the default), `migrate`, `apikey`, `config check`.
#![allow(clippy::print_stdout)] // printing results is what these commands are for

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, web};
use anyhow::Context;
use clap::{Parser, Subcommand};
use garrison_core::{ApiKeyId, ServerId};

use crate::{http, settings::Settings, telemetry, wiring};

#[derive(Debug, Parser)]
#[command(
    name = "garrison",
    version,
    about = "Garrison: one HTTP API for Discord communities and their Roblox groups."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// A Discord server's settings.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Print the OpenAPI document.
    #[command(hide = true)]
    Openapi,
    /// Run one regular-expression job (the server starts these; see `regex_pool.rs`).
    #[command(name = "regex-worker", hide = true)]
    RegexWorker,
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key for one Discord server; prints the key, and nothing else, on standard output.
    Create {
        /// The Discord server (guild) id the key is scoped to.
        #[arg(long)]
        server: String,
        /// A label to recognise the key by.
        #[arg(long)]
        name: String,
        /// The key may read but not change anything.
        #[arg(long)]
        read_only: bool,
    },
    /// List a server's keys (never the secrets).
    List {
        #[arg(long)]
        server: String,
    },
    /// Revoke a key by the id `list` shows.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
enum ServerCommand {
    /// The server's Roblox group and Open Cloud key.
    #[command(subcommand)]
    Roblox(RobloxCommand),
    /// Premium features (backups) per server, read when GARRISON_PREMIUM=granted.
    #[command(subcommand)]
    Premium(PremiumCommand),
    /// The server's own YouTube and Twitch credentials for its stream watches.
    #[command(subcommand)]
    Streams(StreamsCommand),
}

#[derive(Debug, Subcommand)]
enum StreamsCommand {
    /// Set credentials, read from standard input, never from the command line (other users of the
    /// machine could see it): with --youtube the first line is the YouTube Data API key; with --twitch
    /// the next two lines are the Twitch client id and client secret.
    Set {
        /// The Discord server (guild) id.
        #[arg(long)]
        server: String,
        #[arg(long)]
        youtube: bool,
        #[arg(long)]
        twitch: bool,
    },
    /// Forget the server's credentials.
    Clear {
        #[arg(long)]
        server: String,
    },
    /// Say which credentials are set (never the credentials).
    Show {
        #[arg(long)]
        server: String,
    },
}

#[derive(Debug, Subcommand)]
enum PremiumCommand {
    /// Grant a server premium features.
    Grant {
        /// The Discord server (guild) id.
        #[arg(long)]
        server: String,
    },
    /// Take them back.
    Revoke {
        #[arg(long)]
        server: String,
    },
    /// List the servers granted them.
    List,
}

#[derive(Debug, Subcommand)]
enum RobloxCommand {
    /// Set the server's main group and Open Cloud key. The key is read from standard input (its first
    /// line), never from the command line, where other users of the machine could see it. Roblox is
    /// asked first whether the key may read the group.
    Set {
        /// The Discord server (guild) id.
        #[arg(long)]
        server: String,
        /// The Roblox group id.
        #[arg(long)]
        group: String,
    },
    /// Show the server's group and a live check of its key (never the key).
    Show {
        #[arg(long)]
        server: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Check,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::RegexWorker)) {
        // Reads no settings: it gets everything it needs on standard input.
        return crate::regex_pool::worker_main();
    }
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(&settings)?;
            serve(settings)
        }
        Command::Migrate => {
            telemetry::init(&settings)?;
            let db = wiring::database(&settings)?;
            drop(db);
            println!("database is up to date");
            Ok(())
        }
        Command::Apikey(command) => apikey(&settings, command),
        Command::Server(ServerCommand::Roblox(command)) => server_roblox(&settings, command),
        Command::Server(ServerCommand::Premium(command)) => server_premium(&settings, command),
        Command::Server(ServerCommand::Streams(command)) => server_streams(&settings, command),
        Command::Config(ConfigCommand::Check) => {
            print!("{}", settings.redacted_toml());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&http::openapi())?);
            Ok(())
        }
        Command::RegexWorker => crate::regex_pool::worker_main(),
    }
}

fn apikey(settings: &Settings, command: ApikeyCommand) -> anyhow::Result<()> {
    let db = wiring::database(settings)?;
    let keys = wiring::api_keys(&db, wiring::clock());
    match command {
        ApikeyCommand::Create { server, name, read_only } => {
            let server = ServerId::parse("--server", &server)?;
            let (_, secret) = keys.create(server, &name, read_only, wiring::entropy()?)?;
            println!("{}", secret.expose());
        }
        ApikeyCommand::List { server } => {
            let server = ServerId::parse("--server", &server)?;
            println!("{:<6} {:<10} {:<15} {:<14} NAME", "ID", "ACCESS", "CREATED", "REVOKED");
            for key in keys.list(server)? {
                let access = if key.read_only { "read-only" } else { "read-write" };
                let revoked = key.revoked_at.map_or_else(|| "-".to_owned(), |t| t.millis().to_string());
                println!("{:<6} {:<10} {:<15} {:<14} {}", key.id, access, key.created_at.millis(), revoked, key.name);
            }
        }
        ApikeyCommand::Revoke { id } => {
            let key = keys.revoke(ApiKeyId(id))?;
            println!("revoked key {} ({}) of server {}", key.id, key.name, key.server);
        }
    }
    Ok(())
}

fn server_roblox(settings: &Settings, command: RobloxCommand) -> anyhow::Result<()> {
    use garrison_core::{apikey::Principal, roblox};
    let db = wiring::database(settings)?;
    let client = wiring::roblox_client(settings)?;
    let outbox = wiring::outbox(&wiring::webhook_store(settings, &db)?, wiring::clock());
    let service = wiring::roblox(&client, &db, wiring::secret_key(settings)?, outbox, wiring::clock());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match command {
        RobloxCommand::Set { server, group } => {
            let server = ServerId::parse("--server", &server)?;
            let group = roblox::GroupId::parse("--group", &group)?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the key from standard input")?;
            let key = roblox::OpenCloudKey::parse("the key on standard input", &line)?;
            let config = roblox::RobloxConfig { group, key };
            runtime.block_on(service.configure(&Principal::operator(server), server, config))?;
            println!("server {server}: Roblox group {group} and its key are set");
        }
        RobloxCommand::Show { server } => {
            let server = ServerId::parse("--server", &server)?;
            let view = runtime.block_on(service.view(&Principal::operator(server), server))?;
            match (view.group, view.key) {
                (Some(group), Some(check)) => println!("server {server}: Roblox group {group}; key {check:?}"),
                _ => println!("server {server}: no Roblox group configured"),
            }
        }
    }
    Ok(())
}

fn server_premium(settings: &Settings, command: PremiumCommand) -> anyhow::Result<()> {
    let db = wiring::database(settings)?;
    let admin = wiring::premium_admin(&db, wiring::clock());
    match command {
        PremiumCommand::Grant { server } => {
            let server = ServerId::parse("--server", &server)?;
            let added = admin.grant(server)?;
            println!("server {server}: premium {}", if added { "granted" } else { "was already granted" });
        }
        PremiumCommand::Revoke { server } => {
            let server = ServerId::parse("--server", &server)?;
            let removed = admin.revoke(server)?;
            println!("server {server}: premium {}", if removed { "revoked" } else { "was not granted" });
        }
        PremiumCommand::List => {
            for (server, at) in admin.list()? {
                println!("{server} {}", at.to_iso8601());
            }
        }
    }
    if settings.premium == crate::settings::Premium::All {
        eprintln!(
            "note: GARRISON_PREMIUM is all: every server may use backups; grants apply with GARRISON_PREMIUM=granted"
        );
    }
    Ok(())
}

fn server_streams(settings: &Settings, command: StreamsCommand) -> anyhow::Result<()> {
    use garrison_core::apikey::Principal;
    let db = wiring::database(settings)?;
    let discord: Arc<dyn garrison_core::discord::DiscordBots> = Arc::new(wiring::discord(settings)?);
    let service = wiring::watches(settings, &db, discord, wiring::clock())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (server, keys) = match command {
        StreamsCommand::Set { server, youtube, twitch } => {
            let server = ServerId::parse("--server", &server)?;
            anyhow::ensure!(youtube || twitch, "say which credentials to set: --youtube, --twitch or both");
            let mut line = || -> anyhow::Result<String> {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("cannot read a credential from standard input")?;
                anyhow::ensure!(!line.trim().is_empty(), "a credential on standard input is missing");
                Ok(line.trim().to_owned())
            };
            let youtube = youtube.then(&mut line).transpose()?;
            let (id, secret) = if twitch { (Some(line()?), Some(line()?)) } else { (None, None) };
            (server, runtime.block_on(service.set_keys(&Principal::operator(server), server, youtube, id, secret))?)
        }
        StreamsCommand::Clear { server } => {
            let server = ServerId::parse("--server", &server)?;
            let (operator, empty) = (Principal::operator(server), || Some(String::new()));
            (server, runtime.block_on(service.set_keys(&operator, server, empty(), empty(), empty()))?)
        }
        StreamsCommand::Show { server } => {
            let server = ServerId::parse("--server", &server)?;
            (server, runtime.block_on(service.keys(&Principal::operator(server), server))?)
        }
    };
    let set = |yes: bool| if yes { "set" } else { "not set" };
    println!("server {server}: YouTube key {}; Twitch client {}", set(keys.youtube), set(keys.twitch));
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let db = wiring::database(&settings)?;
    let clock = wiring::clock();
    let objects = wiring::object_store(&settings)?;
    // One outbox for every service that reports changes, over the webhook service's store.
    let webhook_store = wiring::webhook_store(&settings, &db)?;
    let outbox = wiring::outbox(&webhook_store, Arc::clone(&clock));
    let cards = wiring::card_studio(&settings, Arc::clone(&objects), Arc::clone(&clock))?;
    let twilight = wiring::discord(&settings)?;
    let gateway = wiring::gateway(&settings, &twilight)?;
    let live = garrison_core::discord::live::LiveGuilds::new(Arc::new(twilight.clone()), Arc::new(gateway.clone()));
    let backup_bots: Arc<dyn garrison_core::backups::port::BackupBots> = Arc::new(twilight.clone());
    let discord: Arc<dyn garrison_core::discord::DiscordBots> = Arc::new(twilight);
    let cooldowns = wiring::cooldowns();
    let messaging = wiring::messaging(Arc::clone(&discord), Arc::clone(&cooldowns), Arc::clone(&clock));
    // Bound before the state is made: links default to the address actually bound.
    let system = actix_web::rt::System::new();
    let listeners = system.block_on(listen(&settings.bind))?;
    let bound = listeners.first().map(std::net::TcpListener::local_addr).transpose()?;
    let openapi = http::openapi();
    let icons = wiring::icons(&settings)?;
    let boosters = wiring::boosters(&db, Arc::clone(&discord), Arc::clone(&icons), Arc::clone(&clock));
    let roles = wiring::roles(Arc::clone(&discord), icons);
    let modlogs = wiring::modlogs(&db, Arc::clone(&discord), Arc::clone(&objects), outbox.clone(), Arc::clone(&clock));
    let public_url = bound.map_or_else(|| settings.public_url.clone(), |addr| wiring::public_url(&settings, addr));
    let backups = wiring::backups(
        &settings,
        &db,
        backup_bots,
        Arc::clone(&objects),
        Arc::clone(&cooldowns),
        outbox.clone(),
        Arc::clone(&clock),
    )?;
    let transcripts = wiring::transcripts(
        wiring::transcript_studio(&settings, Arc::clone(&objects))?,
        Arc::clone(&discord),
        objects,
        &db,
        outbox.clone(),
        Arc::clone(&clock),
        &public_url,
    );
    let roblox_client = wiring::roblox_client(&settings)?;
    let roblox = Arc::new(wiring::roblox(
        &roblox_client,
        &db,
        wiring::secret_key(&settings)?,
        outbox.clone(),
        Arc::clone(&clock),
    ));
    let verification = wiring::verification(&roblox_client, &db, outbox.clone(), Arc::clone(&clock));
    let binds = wiring::binds(&db, Arc::clone(&discord), Arc::clone(&roblox));
    let signin = wiring::signin(&settings, &db, &public_url, outbox.clone(), Arc::clone(&clock))?;
    let streams = Arc::new(wiring::streams(&settings, Arc::clone(&clock))?);
    let watches = wiring::watches(&settings, &db, Arc::clone(&discord), Arc::clone(&clock))?;
    let alerts = Arc::new(wiring::alerts(
        &settings,
        &db,
        Arc::clone(&discord),
        Arc::clone(&streams),
        outbox.clone(),
        Arc::clone(&clock),
        &public_url,
    )?);
    let poll_every = Duration::from_secs(settings.stream_poll_seconds.max(1));
    let webhooks = Arc::new(wiring::webhooks(&settings, &db, webhook_store, outbox.clone(), Arc::clone(&clock))?);
    wiring::server_bot(&settings, &gateway, &db, Arc::clone(&clock), &public_url)?;
    let state = web::Data::new(http::AppState {
        signin,
        roblox,
        verification,
        binds,
        records: wiring::member_records(&db, outbox.clone(), Arc::clone(&clock)),
        keys: wiring::api_keys(&db, Arc::clone(&clock)),
        operations: wiring::operations(&db, Arc::clone(&clock)),
        cards,
        regex: wiring::regex_pool(&settings)?,
        discord: http::DiscordServices {
            messaging,
            guilds: wiring::guilds(Arc::clone(&discord), Arc::clone(&cooldowns), Arc::clone(&clock)),
            moderation: wiring::moderation(Arc::clone(&discord), clock),
            live,
            roles,
            boosters,
            modlogs,
            transcripts,
        },
        backups,
        streams,
        watches,
        alerts: Arc::clone(&alerts),
        webhooks: Arc::clone(&webhooks),
        site: http::Site { public_url, openapi_json: serde_json::to_string(&openapi)? },
    });
    let request_ids = http::RequestIds::new(wiring::entropy()?);
    let paths = http::CanonicalPaths::new(openapi.paths.paths.keys().map(String::as_str));
    let cors = http::CorsPolicy::new(&settings.cors_origins);
    system.block_on(async move {
        // Restores whose server died (this one, killed, or another sharing the database) are taken up
        // again once their hold runs out: now, then twice a hold.
        let resumer = state.clone();
        actix_web::rt::spawn(async move {
            let every = Duration::from_millis(resumer.backups.resume_every_ms());
            loop {
                match resumer.backups.resume() {
                    Ok(started) => {
                        if !started.is_empty() {
                            tracing::info!(jobs = started.len(), "restore jobs taken up again");
                        }
                        for job in started {
                            actix_web::rt::spawn(job.run);
                        }
                    }
                    Err(error) => tracing::warn!(%error, "restore jobs could not be looked for"),
                }
                actix_web::rt::time::sleep(every).await;
            }
        });
        // The webhook dispatcher, only in the processes set to dispatch: on a thread of its own (see
        // `dispatch_webhooks`), so that delivering events yields the CPU to answering requests.
        if settings.webhook_dispatcher {
            let webhooks = Arc::clone(&webhooks);
            std::thread::Builder::new()
                .name("webhook-dispatch".into())
                .spawn(move || dispatch_webhooks(&webhooks))
                .context("cannot start the webhook dispatcher")?;
        }
        // Events Twitch pushed (EventSub), acted on a moment after they arrive; only with EventSub on.
        let pushed = Arc::clone(&alerts);
        let eventsub = settings.twitch_eventsub;
        actix_web::rt::spawn(async move {
            if !eventsub {
                return;
            }
            loop {
                actix_web::rt::time::sleep(Duration::from_millis(250)).await;
                match pushed.handle_pushed().await {
                    Ok(report) => log_poll(&report),
                    Err(error) => tracing::warn!(%error, "pushed stream events could not be acted on"),
                }
            }
        });
        // The live-alert loop: one round, then a pause (a round that overran starts the next at once).
        actix_web::rt::spawn(async move {
            let mut ticks = actix_web::rt::time::interval(poll_every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match alerts.poll().await {
                    Ok(report) => log_poll(&report),
                    Err(error) => tracing::warn!(%error, "the live-alert round failed"),
                }
            }
        });
        let mut server =
            HttpServer::new(move || http::app(state.clone(), request_ids.clone(), paths.clone(), cors.clone()))
                // A client that closes its connection takes its request with it: actix drops the
                // handler (and whatever it was waiting for: Discord retries, permits) instead of
                // finishing work nobody will read. (Clients that half-close after sending are rare.)
                .h1_allow_half_closed(false);
        for listener in listeners {
            server = server.listen(listener).with_context(|| format!("cannot listen on {}", settings.bind))?;
        }
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        for addr in server.addrs() {
            tracing::info!(backend = ?db.backend(), "listening on http://{addr}");
        }
        server.run().await.context("the HTTP server failed")
    })
}

/// One line per live-alert round that did something, one per failure it saw.
fn log_poll(report: &garrison_core::streams::alerts::PollReport) {
    let did = report.posted + report.ended + report.failed_checks + report.failed_posts;
    if did + report.subscribed + report.unsubscribed > 0 {
        tracing::info!(
            streamers = report.streamers,
            checks = report.checks,
            deferred = report.deferred,
            pushed = report.pushed,
            subscribed = report.subscribed,
            unsubscribed = report.unsubscribed,
            posted = report.posted,
            ended = report.ended,
            failed_checks = report.failed_checks,
            failed_posts = report.failed_posts,
            "live-alert round"
        );
    }
    for note in &report.notes {
        tracing::warn!(note = note.as_str(), "live alerts");
    }
}

/// Listening sockets for every address `bind` resolves to (as actix's own `bind` makes them: address
/// reuse, a backlog of 1024); an error only when none can be bound.
async fn listen(bind: &str) -> anyhow::Result<Vec<std::net::TcpListener>> {
    let addrs = tokio::net::lookup_host(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    let mut listeners = Vec::new();
    let mut last_error = None;
    for addr in addrs {
        let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
        let listener = socket.and_then(|socket| {
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(1024)?.into_std()
        });
        match listener {
            Ok(listener) => listeners.push(listener),
            Err(err) => last_error = Some(err),
        }
    }
    match (listeners.is_empty(), last_error) {
        (true, Some(err)) => Err(err).with_context(|| format!("cannot listen on {bind}")),
        (true, None) => anyhow::bail!("cannot listen on {bind}: it names no address"),
        (false, _) => Ok(listeners),
    }
}

/// How much lower than the requests' threads the webhook dispatcher's thread runs (a nice value): when
/// the CPU is short, answering requests comes first and events wait (they are in the outbox, safe);
/// with CPU to spare, the dispatcher takes what it needs. Under a load that never ends it still gets
/// its share (about a tenth of a busy thread's), so events are late, never lost.
const DISPATCHER_NICE: i32 = 10;

/// The webhook dispatcher's loop, on the calling thread (its own runtime): a round a second, at once
/// again while rounds come back half full or more. Returns only if that runtime cannot be built.
fn dispatch_webhooks(webhooks: &garrison_core::webhooks::WebhookService) {
    lower_this_threads_priority(DISPATCHER_NICE);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "the webhook dispatcher cannot start: no events will be delivered");
            return;
        }
    };
    runtime.block_on(async {
        loop {
            match webhooks.dispatch().await {
                Ok(report) => {
                    for endpoint in &report.disabled {
                        tracing::warn!(endpoint, "a webhook endpoint was disabled after failing for too long");
                    }
                    if report.failed > 0 {
                        tracing::warn!(failed = report.failed, "webhook deliveries failed for good");
                    }
                    if report.attempted() >= garrison_core::webhooks::DELIVERIES_PER_ROUND / 2 {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "the webhook dispatcher's round failed"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Lowers the calling thread's scheduling priority by `nice` (Linux keeps a nice value per thread);
/// elsewhere, or if refused, it stays as it was.
fn lower_this_threads_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        tracing::debug!(%error, "the webhook dispatcher's priority could not be lowered");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
