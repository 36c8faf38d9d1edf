//! `cargo xtask bench [--seconds N] [--connections N] [--members N] [--only PART] ...`: starts the
//! release server on each available backend and drives XP mutations over HTTP from concurrent clients
//! on this machine, then reports throughput, latency percentiles, lost updates and the server's peak
//! RSS (`--help` lists the options). Servers start through testkit's launcher
//! (`garrison_testkit::server`), the one the black-box tests use. With `--peers`, the cards part also
//! compares Garrison's cards with two Node.js libraries' (`bench_peers.rs`).

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use garrison_testkit::server::Launch;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::{cargo, postgres_for_tests, root, run as run_command};

const SERVER_ID: &str = "123456789012345678";

struct Options {
    seconds: u64,
    connections: usize,
    members: u64,
    /// `xp`, `cards`, `discord`, `transcripts`, `roblox`, `gateway` or all of them (`all`).
    only: String,
    cards: usize,
    card_clients: usize,
    /// `png`, `png-small` (`GARRISON_CARD_PNG_COMPRESSION=small`), `webp` or `jpeg`.
    card_format: String,
    /// Whether the cards part also runs the comparison with the Node.js peers.
    peers: bool,
    peer_cards: usize,
    peer_rounds: usize,
    /// How the Node clients run: `async` (one thread) or `workers` (worker threads).
    peer_mode: String,
    /// A server binary to measure instead of this checkout's release build (an A/B run: another
    /// commit's build, driven by this same load generator).
    binary: Option<PathBuf>,
    /// The Discord simulator binary to use instead of this checkout's release build.
    simulator: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo xtask bench [OPTIONS]

  --seconds N        seconds per XP and Discord load run (10)
  --connections N    concurrent XP clients (64)
  --members N        members the XP load spreads over (100)
  --only PART        xp | cards | discord | transcripts | roblox | gateway | backup | streams | webhooks | all (all)
  --cards N          level cards to render through HTTP (1000)
  --card-clients N   concurrent card clients (8; also for --peers)
  --card-format F    cards through HTTP as png | png-small | webp | jpeg (png; png-small is PNG with
                     GARRISON_CARD_PNG_COMPRESSION=small)
  --peers            cards only: also compare with canvacord and discord-arts (Node.js), installed
                     with npm into $GARRISON_PEERS_DIR or ~/.cache/garrison/peers
  --peer-cards N     --peers: cards per implementation from 1 client, then as many from
                     --card-clients clients, each round (150)
  --peer-rounds N    --peers: rounds, peers then Garrison in each; the table shows medians (3)
  --peer-mode MODE   --peers: Node clients as async loops on one thread or as worker threads:
                     async | workers (async)
  --binary PATH      measure this garrison binary (say, another commit's release build) with this
                     checkout's load generator, instead of building this checkout's
  --simulator PATH   the garrison-discord-sim binary to use with --binary (this checkout's
                     release build when absent)";

/// Whether the arguments ask for the usage (answered without building anything).
pub fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// The options, or `None` when `--help` asked for the usage instead.
fn options(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut opts = Options {
        seconds: 10,
        connections: 64,
        members: 100,
        only: "all".into(),
        cards: 1000,
        card_clients: 8,
        card_format: "png".into(),
        peers: false,
        peer_cards: 150,
        peer_rounds: 3,
        peer_mode: "async".into(),
        binary: None,
        simulator: None,
    };
    if wants_help(args) {
        return Ok(None);
    }
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--peers" {
            opts.peers = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => opts.seconds = value.parse()?,
            "--connections" => opts.connections = value.parse()?,
            "--members" => opts.members = value.parse()?,
            "--only"
                if [
                    "xp",
                    "cards",
                    "discord",
                    "transcripts",
                    "roblox",
                    "gateway",
                    "backup",
                    "streams",
                    "webhooks",
                    "all",
                ]
                .contains(&value.as_str()) =>
            {
                opts.only.clone_from(value)
            }
            "--cards" => opts.cards = value.parse()?,
            "--card-clients" => opts.card_clients = value.parse()?,
            "--card-format" if ["png", "png-small", "webp", "jpeg"].contains(&value.as_str()) => {
                opts.card_format.clone_from(value)
            }
            "--peer-cards" => opts.peer_cards = value.parse()?,
            "--peer-rounds" => opts.peer_rounds = value.parse()?,
            "--peer-mode" if ["async", "workers"].contains(&value.as_str()) => opts.peer_mode.clone_from(value),
            "--binary" => opts.binary = Some(PathBuf::from(value)),
            "--simulator" => opts.simulator = Some(PathBuf::from(value)),
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    if opts.peers && !["cards", "all"].contains(&opts.only.as_str()) {
        bail!("--peers goes with --only cards or --only all\n{USAGE}");
    }
    Ok(Some(opts))
}

struct Report {
    backend: &'static str,
    requests: u64,
    errors: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    lost: i64,
    peak_rss_mb: f64,
    /// CPU time used during the run divided by its length: 1.0 is one core busy throughout.
    server_cores: f64,
    generator_cores: f64,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let Some(opts) = options(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    if opts.binary.is_none() || opts.simulator.is_none() {
        run_command(cargo().args(["build", "--release", "--quiet", "-p", "garrison", "-p", "garrison-discord-sim"]))?;
    }
    if ["roblox", "all"].contains(&opts.only.as_str()) {
        run_command(cargo().args(["build", "--release", "--quiet", "-p", "garrison-roblox-sim"]))?;
    }
    let binary = opts.binary.clone().unwrap_or_else(|| target_dir().join("release/garrison"));
    let simulator = opts.simulator.clone().unwrap_or_else(|| target_dir().join("release/garrison-discord-sim"));
    for path in [&binary, &simulator] {
        anyhow::ensure!(path.is_file(), "no binary at {}", path.display());
    }
    let scratch = std::env::temp_dir().join(format!("garrison-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = (|| {
        if ["xp", "all"].contains(&opts.only.as_str()) {
            xp(&binary, &scratch, &opts)?;
        }
        if ["cards", "all"].contains(&opts.only.as_str()) {
            cards(&binary, &scratch, &opts)?;
        }
        if ["discord", "all"].contains(&opts.only.as_str()) {
            crate::bench_discord::run(&binary, &simulator, &scratch, opts.seconds, 32)?;
        }
        if ["transcripts", "all"].contains(&opts.only.as_str()) {
            println!("== transcript render times (no network): cargo bench -p garrison-pages --bench transcript");
            run_command(cargo().args(["bench", "--quiet", "-p", "garrison-pages", "--bench", "transcript"]))?;
            crate::bench_transcripts::run(&binary, &simulator, &scratch)?;
        }
        if ["roblox", "all"].contains(&opts.only.as_str()) {
            let roblox = target_dir().join("release/garrison-roblox-sim");
            crate::bench_roblox::run(&binary, &roblox, &scratch, opts.seconds)?;
        }
        if ["gateway", "all"].contains(&opts.only.as_str()) {
            crate::bench_gateway::run(&binary, &simulator, &scratch, opts.seconds)?;
        }
        if ["backup", "all"].contains(&opts.only.as_str()) {
            crate::bench_backup::run(&binary, &simulator, &scratch)?;
        }
        if ["streams", "all"].contains(&opts.only.as_str()) {
            crate::bench_streams::run(&binary, &scratch)?;
        }
        if ["webhooks", "all"].contains(&opts.only.as_str()) {
            crate::bench_webhooks::run(&binary, &scratch, opts.seconds, opts.connections, opts.members)?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn cards(binary: &Path, scratch: &Path, opts: &Options) -> anyhow::Result<()> {
    println!("== render times (one thread, already-decoded images, PNG encoding included)");
    crate::bench_cards::render_times()?;
    let http = |dir: &str, warm: bool| {
        let load = crate::bench_cards::CardLoad {
            cards: opts.cards,
            clients: opts.card_clients,
            format: &opts.card_format,
            warm,
        };
        crate::bench_cards::through_http(binary, &scratch.join(dir), &load)
    };
    let (cold, warm) = (http("cold", false)?, http("warm", true)?);
    println!();
    println!(
        "| images | cards | errors | cards/s | p50 latency | p99 latency | server peak RSS | server CPU | CPU per card |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (images, r) in [("fetched and decoded per card", &cold), ("kept decoded (image cache)", &warm)] {
        println!(
            "| {images} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} MB | {:.2} cores | {:.2} ms |",
            r.cards,
            r.errors,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.peak_rss_mb,
            r.server_cores,
            r.server_cores * 1000.0 / r.per_second.max(f64::EPSILON),
        );
        if r.errors != 0 {
            bail!("{} card requests failed", r.errors);
        }
    }
    if opts.peers {
        println!();
        println!("== side by side with Node.js peers (canvacord, discord-arts)");
        let peers = crate::bench_peers::PeerOptions {
            cards: opts.peer_cards,
            clients: opts.card_clients,
            rounds: opts.peer_rounds,
            mode: opts.peer_mode.clone(),
        };
        crate::bench_peers::run(binary, scratch, &peers)?;
    }
    Ok(())
}

/// The middle value (the upper one of an even count); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// A database made for one bench run on the PostgreSQL server at a URL, dropped with this value.
pub struct FreshPostgres {
    /// The new database's URL.
    pub url: String,
    server: String,
    name: String,
}

impl FreshPostgres {
    /// Creates the database `name` on `server` (a URL naming any database of it).
    pub fn create(server: &str, name: &str) -> anyhow::Result<Self> {
        let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
        run_command(Command::new("psql").args([server, "-qc", &format!("CREATE DATABASE {name}")]))?;
        Ok(Self { url: format!("{base}/{name}"), server: server.to_owned(), name: name.to_owned() })
    }
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        let drop_it = format!("DROP DATABASE {} WITH (FORCE)", self.name);
        if let Err(error) = run_command(Command::new("psql").args([&self.server, "-qc", &drop_it])) {
            eprintln!("could not drop the bench database {}: {error}", self.name);
        }
    }
}

fn xp(binary: &Path, scratch: &Path, opts: &Options) -> anyhow::Result<()> {
    let mut reports =
        vec![bench_backend("SQLite", binary, scratch, &format!("sqlite://{}/bench.db", scratch.display()), opts)?];
    match postgres_for_tests() {
        Some(server) => {
            let fresh = FreshPostgres::create(&server, &format!("garrison_bench_{}", std::process::id()))?;
            reports.push(bench_backend("PostgreSQL", binary, scratch, &fresh.url, opts)?);
        }
        None => println!("PostgreSQL: skipped (no server answers; set GARRISON_TEST_POSTGRES_URL)"),
    }

    println!();
    println!(
        "{} s per backend, {} concurrent clients, {} members, POST /api/xp/add amount 1",
        opts.seconds, opts.connections, opts.members
    );
    println!();
    println!(
        "| backend | requests | errors | XP mutations/s | p50 latency | p99 latency | lost updates | server peak RSS | server CPU | generator CPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &reports {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.1} MB | {:.2} cores | {:.2} cores |",
            r.backend,
            r.requests,
            r.errors,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.lost,
            r.peak_rss_mb,
            r.server_cores,
            r.generator_cores
        );
    }
    if reports.iter().any(|r| r.lost != 0 || r.errors != 0) {
        bail!("updates were lost or requests failed");
    }
    Ok(())
}

/// How the benchmarks start the release server (testkit's launcher, as the black-box tests do): in
/// `scratch`, on `url`, on `127.0.0.1:0`, logging warnings and the start-up line only.
pub fn launch(binary: &Path, scratch: &Path, url: &str) -> Launch {
    Launch::new(binary, url).dir(scratch).env("GARRISON_LOG", "warn,garrison::cli=info")
}

/// User + system CPU seconds a process has used so far (`pid` or `self`), from `/proc`.
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = after_name.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    let ticks = fields.get(11).copied().unwrap_or(0.0) + fields.get(12).copied().unwrap_or(0.0);
    ticks / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn bench_backend(
    backend: &'static str,
    binary: &Path,
    scratch: &Path,
    url: &str,
    opts: &Options,
) -> anyhow::Result<Report> {
    let launch = launch(binary, scratch, url);
    let out = launch.command().args(["apikey", "create", "--server", SERVER_ID, "--name", "bench"]).output()?;
    if !out.status.success() {
        bail!("apikey create failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let key = String::from_utf8(out.stdout)?.trim().to_owned();

    let server = launch.start()?;
    let base = server.base().to_owned();
    println!("{backend}: server at {base}, running {} s with {} clients", opts.seconds, opts.connections);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let server_cpu_before = cpu_seconds(&server.pid().to_string());
    let generator_cpu_before = cpu_seconds("self");
    let (requests, errors, mut latencies, elapsed, total_xp) =
        runtime.block_on(load(&base, &key, opts.seconds, opts.connections, opts.members))?;
    let server_cores = (cpu_seconds(&server.pid().to_string()) - server_cpu_before) / elapsed.as_secs_f64();
    let generator_cores = (cpu_seconds("self") - generator_cpu_before) / elapsed.as_secs_f64();
    let peak_rss_mb = peak_rss_mb(server.pid());
    drop(server);

    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(latencies[index]) / 1000.0
    };
    Ok(Report {
        backend,
        requests,
        errors,
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        lost: i64::try_from(requests).unwrap_or(i64::MAX) - total_xp,
        peak_rss_mb,
        server_cores,
        generator_cores,
    })
}

/// One keep-alive HTTP/1.1 connection sending `POST /api/xp/add` back to back until the deadline.
/// Bodies and headers are built once, so the generator spends as little of the shared two cores as
/// it can: it is the server being measured.
async fn drive_connection(
    addr: std::net::SocketAddr,
    authorization: HeaderValue,
    bodies: Arc<Vec<Bytes>>,
    worker: u64,
    deadline: Instant,
) -> anyhow::Result<(Vec<u32>, u64)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let host = HeaderValue::from_str(&addr.to_string())?;
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let mut n = worker;
    while Instant::now() < deadline {
        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let body = bodies[usize::try_from((n >> 33) % bodies.len() as u64)?].clone();
        let request = hyper::Request::post("/api/xp/add")
            .header(hyper::header::HOST, host.clone())
            .header(hyper::header::AUTHORIZATION, authorization.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        match timed(&mut sender, request).await? {
            Some(micros) => latencies.push(micros),
            None => errors += 1,
        }
    }
    Ok((latencies, errors))
}

/// Sends one request and reads the whole response: its latency in microseconds when it succeeded.
pub async fn timed<B>(
    sender: &mut hyper::client::conn::http1::SendRequest<B>,
    request: hyper::Request<B>,
) -> anyhow::Result<Option<u32>>
where
    B: hyper::body::Body + 'static,
{
    sender.ready().await?;
    let sent = Instant::now();
    let response = sender.send_request(request).await?;
    let ok = response.status().is_success();
    response.into_body().collect().await?;
    Ok(ok.then(|| u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)))
}

/// `connections` keep-alive clients adding 1 XP to one of `members` members, back to back for
/// `seconds`: requests answered 2xx, failed, their latencies (µs), how long it took, and the XP the
/// members hold afterwards (the sum of every balance).
pub async fn load(
    base: &str,
    key: &str,
    seconds: u64,
    connections: usize,
    members: u64,
) -> anyhow::Result<(u64, u64, Vec<u32>, Duration, i64)> {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let authorization = HeaderValue::from_str(&format!("Bearer {key}"))?;
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (1..=members)
            .map(|member| Bytes::from(json!({"serverId": SERVER_ID, "robloxId": member, "amount": 1}).to_string()))
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections as u64 {
        tasks.push(tokio::spawn(drive_connection(addr, authorization.clone(), Arc::clone(&bodies), worker, deadline)));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await??;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    let client = reqwest::Client::new();
    let mut total = 0i64;
    for member in 1..=members {
        let reply: serde_json::Value = client
            .get(format!("{base}/api/xp?serverId={SERVER_ID}&robloxId={member}"))
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        total += reply["xp"].as_i64().context("xp in the reply")?;
    }
    Ok((latencies.len() as u64, errors, latencies, elapsed, total))
}
