//! `cargo xtask bench --only cards --peers`: Garrison's cards side by side with two Node.js card
//! libraries, canvacord 6.0.4 and discord-arts 0.7.1, on the same images and card data.
//!
//! The peers are installed with npm into a cache directory outside the repository
//! (`$GARRISON_PEERS_DIR`, else `~/.cache/garrison/peers`), once: the install is skipped when the
//! right versions are there. `xtask/peers/cards.mjs` (which says which peer API draws which card,
//! and the one network call it stubs) is copied there and run with `node`, once per peer, card and
//! round; it prints one line of JSON. Garrison runs as the release server, a fresh one per card kind
//! and round, with the images served from a loopback [`FileHost`] as in `bench_cards.rs`.
//!
//! Each round runs, per card kind, the peers and then Garrison; per implementation: a few warm-up
//! cards, `cards` cards from one client (median latency), then `cards` cards from `clients`
//! concurrent clients (cards per second). CPU per card covers both measured phases: the Node
//! process's (all its threads) or the server process's, from `/proc`. Every card has a username of
//! its own, so Garrison answers none from its storage. The table shows the medians across rounds.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use garrison_testkit::{FileHost, HostedFile};
use http_body_util::{BodyExt, Empty};
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::{
    bench::{cpu_seconds, launch, peak_rss_mb},
    bench_cards::image_bytes,
    root,
};

/// The peer packages, installed at exactly these versions.
const PACKAGES: [(&str, &str); 2] = [("canvacord", "6.0.4"), ("discord-arts", "0.7.1")];
/// Cards rendered before measuring (fonts loaded, code warmed up), by every implementation.
const WARMUP: usize = 5;

/// What `--peers` runs: `cards` per phase (one client, then `clients` concurrent ones), `rounds`
/// times, the Node clients as async loops on one thread (`async`) or as worker threads (`workers`).
pub struct PeerOptions {
    pub cards: usize,
    pub clients: usize,
    pub rounds: usize,
    pub mode: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    /// A rank (level) card, 930x280 where the implementation lets us choose.
    Rank,
    /// A welcome card, 1024x400, with a background image.
    Welcome,
}

impl Card {
    fn key(self) -> &'static str {
        match self {
            Self::Rank => "rank",
            Self::Welcome => "welcome",
        }
    }
}

/// One peer library drawing one kind of card (xtask/peers/cards.mjs says with which API).
struct Peer {
    name: &'static str,
    card: Card,
}

const PEERS: [Peer; 3] = [
    Peer { name: "canvacord", card: Card::Rank },
    Peer { name: "discord-arts", card: Card::Rank },
    Peer { name: "canvacord", card: Card::Welcome },
];

/// What one implementation measured in one round.
#[derive(Clone, Copy, Default)]
struct Measured {
    cpu_ms_per_card: f64,
    /// Median latency of one client, one card after the other.
    p50_ms: f64,
    /// Cards per second from the concurrent clients.
    per_second: f64,
    peak_rss_mb: f64,
    /// Mean PNG size.
    png_bytes: f64,
}

/// One row of the table: an implementation of a card kind and its rounds.
struct Row {
    card: Card,
    name: String,
    size: String,
    rounds: Vec<Measured>,
}

/// The peers' cache directory: `$GARRISON_PEERS_DIR`, else `$HOME/.cache/garrison/peers`.
fn peers_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GARRISON_PEERS_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home =
        std::env::var_os("HOME").filter(|h| !h.is_empty()).context("neither GARRISON_PEERS_DIR nor HOME is set")?;
    Ok(Path::new(&home).join(".cache/garrison/peers"))
}

/// The version of `package` installed under `dir/node_modules`, if any.
fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json")).ok()?;
    let manifest: Value = serde_json::from_str(&text).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

/// Installs the peers into `dir` with npm unless the right versions are already there, and copies
/// the Node script next to them. Refuses a directory inside the repository.
fn install(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let canonical = dir.canonicalize()?;
    if canonical.starts_with(root().canonicalize()?) {
        bail!("{} is inside the repository; point GARRISON_PEERS_DIR outside it", dir.display());
    }
    let node = Command::new("node").arg("--version").output().context("cannot run node (Node.js 18 or later)")?;
    let version = String::from_utf8_lossy(&node.stdout).trim().to_owned();
    let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if !node.status.success() || major < 18 {
        bail!("the peers need Node.js 18 or later; `node --version` says {version:?}");
    }

    let dependencies: serde_json::Map<String, Value> =
        PACKAGES.iter().map(|(name, version)| ((*name).to_owned(), json!(version))).collect();
    let manifest = serde_json::to_string_pretty(&json!({
        "name": "garrison-bench-peers",
        "private": true,
        "description": "Card libraries cargo xtask bench --peers compares Garrison with (a cache, not part of the repository)",
        "dependencies": dependencies,
    }))?;
    if std::fs::read_to_string(dir.join("package.json")).ok().as_deref() != Some(manifest.as_str()) {
        std::fs::write(dir.join("package.json"), &manifest)?;
    }
    let missing: Vec<String> = PACKAGES
        .iter()
        .filter(|(name, version)| installed_version(dir, name).as_deref() != Some(*version))
        .map(|(name, version)| format!("{name}@{version}"))
        .collect();
    if missing.is_empty() {
        println!("peers: {} already in {}", package_list(), dir.display());
    } else {
        println!("peers: installing {} into {} with npm", missing.join(", "), dir.display());
        crate::run(
            Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(dir),
        )?;
        for (name, version) in PACKAGES {
            let found = installed_version(dir, name);
            if found.as_deref() != Some(version) {
                bail!("npm installed {name} {found:?}, not {version}");
            }
        }
    }
    std::fs::copy(root().join("xtask/peers/cards.mjs"), dir.join("cards.mjs")).context("cannot copy cards.mjs")?;
    std::fs::create_dir_all(dir.join("samples"))?;
    Ok(())
}

fn package_list() -> String {
    PACKAGES.iter().map(|(name, version)| format!("{name}@{version}")).collect::<Vec<_>>().join(", ")
}

/// The median of `values` (0 for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Runs the comparison and prints its table; fails when any card failed.
pub fn run(binary: &Path, scratch: &Path, opts: &PeerOptions) -> anyhow::Result<()> {
    if opts.cards == 0 || opts.clients == 0 || opts.rounds == 0 {
        bail!("--peer-cards, --card-clients and --peer-rounds must be at least 1");
    }
    let dir = peers_dir()?;
    install(&dir)?;

    let (avatar, background) =
        (image_bytes(image::ImageFormat::Png, 256, 256)?, image_bytes(image::ImageFormat::Jpeg, 1200, 500)?);
    let images = scratch.join("peer-images");
    std::fs::create_dir_all(&images)?;
    let (avatar_file, background_file) = (images.join("avatar.png"), images.join("background.jpg"));
    std::fs::write(&avatar_file, &avatar)?;
    std::fs::write(&background_file, &background)?;
    let host = FileHost::start([
        ("/avatar.png", HostedFile { content_type: "image/png", bytes: avatar }),
        ("/background.jpg", HostedFile { content_type: "image/jpeg", bytes: background }),
    ]);

    println!(
        "peers: {} round(s); per implementation and round {WARMUP} warm-up cards, {} cards from 1 client, \
         then {} from {} concurrent clients (Node clients: {})",
        opts.rounds, opts.cards, opts.cards, opts.clients, opts.mode
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = 0usize;
    for round in 1..=opts.rounds {
        for card in [Card::Rank, Card::Welcome] {
            let prefix = format!("R{round}");
            for peer in PEERS.iter().filter(|p| p.card == card) {
                let sample = match round {
                    1 => Some(text(&dir.join("samples").join(format!("{}-{}.png", peer.name, card.key())))?),
                    _ => None,
                };
                let config = json!({
                    "peer": peer.name,
                    "card": card.key(),
                    "avatar": text(&avatar_file)?,
                    "background": text(&background_file)?,
                    "cards": opts.cards,
                    "clients": opts.clients,
                    "warmup": WARMUP,
                    "mode": opts.mode,
                    "prefix": prefix,
                    "sample": sample,
                });
                let (measured, size, failed) = node_run(&dir, &config)
                    .with_context(|| format!("{} {} card, round {round}", peer.name, card.key()))?;
                println!("round {round}: {} {} {size}: {}", peer.name, card.key(), summary(&measured, failed));
                errors += failed;
                add(&mut rows, card, peer.name, size, measured);
            }
            for cache in [ImageCache::Cold, ImageCache::Warm] {
                let sample = (round == 1 && cache == ImageCache::Cold)
                    .then(|| dir.join("samples").join(format!("garrison-{}.png", card.key())));
                let (measured, failed) = garrison_run(
                    binary,
                    &scratch.join(format!("garrison-{}-{}-{round}", card.key(), cache.key())),
                    &host,
                    Run { card, cache, prefix: &prefix, sample: sample.as_deref() },
                    opts,
                )
                .with_context(|| format!("Garrison {} card, round {round}", card.key()))?;
                let size = match card {
                    Card::Rank => "930x280",
                    Card::Welcome => "1024x400",
                };
                let name = cache.label();
                println!("round {round}: {name} {} {size}: {}", card.key(), summary(&measured, failed));
                errors += failed;
                add(&mut rows, card, name, size.to_owned(), measured);
            }
        }
    }
    print_table(&rows, opts);
    println!();
    println!("sample cards (round 1): {}", dir.join("samples").display());
    if errors != 0 {
        bail!("{errors} cards failed");
    }
    Ok(())
}

/// A path as text for cards.mjs' JSON.
fn text(path: &Path) -> anyhow::Result<String> {
    path.to_str().map(str::to_owned).with_context(|| format!("{} is not UTF-8", path.display()))
}

fn summary(m: &Measured, failed: usize) -> String {
    format!(
        "{:.1} ms CPU/card, p50 {:.1} ms, {:.1} cards/s, peak RSS {:.0} MB, {:.0} B/card, {failed} failed",
        m.cpu_ms_per_card, m.p50_ms, m.per_second, m.peak_rss_mb, m.png_bytes
    )
}

fn add(rows: &mut Vec<Row>, card: Card, name: &str, size: String, measured: Measured) {
    match rows.iter_mut().find(|r| r.card == card && r.name == name) {
        Some(row) => row.rounds.push(measured),
        None => rows.push(Row { card, name: name.to_owned(), size, rounds: vec![measured] }),
    }
}

/// Runs `cards.mjs` with `config`: what it measured, the card's size and how many cards failed.
fn node_run(dir: &Path, config: &Value) -> anyhow::Result<(Measured, String, usize)> {
    let out = Command::new("node")
        .arg(dir.join("cards.mjs"))
        .arg(config.to_string())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run node")?;
    if !out.status.success() {
        bail!("node cards.mjs failed with {}", out.status);
    }
    let stdout = String::from_utf8(out.stdout)?;
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).context("no JSON line from cards.mjs")?;
    let report: Value = serde_json::from_str(line).with_context(|| format!("cards.mjs printed {line}"))?;
    let number = |field: &str| report[field].as_f64().with_context(|| format!("{field} in {line}"));
    let measured = Measured {
        cpu_ms_per_card: number("cpu_ms_per_card")?,
        p50_ms: number("p50_ms")?,
        per_second: number("per_second")?,
        peak_rss_mb: number("peak_rss_mb")?,
        png_bytes: number("png_bytes")?,
    };
    let size = format!("{}x{}", number("width")?, number("height")?);
    let failed = usize::try_from(report["errors"].as_u64().with_context(|| format!("errors in {line}"))?)?;
    Ok((measured, size, failed))
}

/// Whether Garrison keeps decoded images between cards.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageCache {
    /// No image cache (`GARRISON_CARD_IMAGE_CACHE_BYTES=0`): every card fetches and decodes both
    /// images, as it would for a guild it has not drawn for lately.
    Cold,
    /// The default cache: after the first card, the images are kept decoded and shaped.
    Warm,
}

impl ImageCache {
    fn key(self) -> &'static str {
        match self {
            Self::Cold => "cold",
            Self::Warm => "warm",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Cold => "Garrison, cold",
            Self::Warm => "Garrison, warm",
        }
    }
}

/// One Garrison run: the card kind, the image cache, the usernames' prefix, and where to save the
/// first warm-up card.
struct Run<'a> {
    card: Card,
    cache: ImageCache,
    prefix: &'a str,
    sample: Option<&'a Path>,
}

/// One Garrison server for one card kind: warm-up, one client, then `opts.clients` clients. What it
/// measured and how many cards failed.
fn garrison_run(
    binary: &Path,
    scratch: &Path,
    host: &FileHost,
    run: Run<'_>,
    opts: &PeerOptions,
) -> anyhow::Result<(Measured, usize)> {
    let Run { card, cache, prefix, sample } = run;
    std::fs::create_dir_all(scratch)?;
    let url = format!("sqlite://{}/cards.db", scratch.display());
    let mut launch = launch(binary, scratch, &url)
        .env("GARRISON_FETCH_ALLOW_LOOPBACK", "true")
        .env("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")
        .env("GARRISON_OBJECT_DIR", scratch.join("objects"));
    if cache == ImageCache::Cold {
        launch = launch.env("GARRISON_CARD_IMAGE_CACHE_BYTES", "0");
    }
    let server = launch.start()?;
    let base = server.base().to_owned();
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let pid = server.pid().to_string();
    let target = Target {
        addr,
        card,
        prefix: prefix.to_owned(),
        avatar: host.url("/avatar.png"),
        background: host.url("/background.jpg"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let hits_before = host.hits("/avatar.png");

    let warm = runtime.block_on(phase(&target, 0, WARMUP, 1))?;
    if warm.errors != 0 {
        bail!("{} of {WARMUP} warm-up cards failed", warm.errors);
    }
    if let (Some(path), Some(view)) = (sample, warm.first_view.as_deref()) {
        let png = runtime
            .block_on(async { reqwest::get(format!("{base}{view}")).await?.error_for_status()?.bytes().await })?;
        std::fs::write(path, png)?;
    }
    let cpu_before = cpu_seconds(&pid);
    let serial = runtime.block_on(phase(&target, WARMUP, opts.cards, 1))?;
    let concurrent = runtime.block_on(phase(&target, WARMUP + opts.cards, opts.cards, opts.clients))?;
    let cpu = cpu_seconds(&pid) - cpu_before;
    let peak_rss_mb = peak_rss_mb(server.pid());
    drop(server);

    let rendered = serial.latencies.len() + concurrent.latencies.len();
    // Cold, every card fetches its avatar: fewer fetches would mean cards answered from storage.
    // (Warm, the usernames alone keep every card new.)
    let fetched = host.hits("/avatar.png").saturating_sub(hits_before);
    if cache == ImageCache::Cold && fetched < WARMUP + rendered {
        bail!("the server fetched the avatar {fetched} times for {} cards: some were reused", WARMUP + rendered);
    }
    let sizes: Vec<usize> = serial.sizes.iter().chain(&concurrent.sizes).copied().collect();
    let measured = Measured {
        cpu_ms_per_card: if rendered == 0 { 0.0 } else { cpu * 1000.0 / rendered as f64 },
        p50_ms: median(serial.latencies.iter().map(|&us| f64::from(us) / 1000.0).collect()),
        per_second: concurrent.latencies.len() as f64 / concurrent.elapsed.as_secs_f64().max(f64::EPSILON),
        peak_rss_mb,
        png_bytes: if sizes.is_empty() { 0.0 } else { sizes.iter().sum::<usize>() as f64 / sizes.len() as f64 },
    };
    Ok((measured, serial.errors + concurrent.errors))
}

/// Where and what Garrison is asked to draw.
#[derive(Clone)]
struct Target {
    addr: std::net::SocketAddr,
    card: Card,
    prefix: String,
    avatar: String,
    background: String,
}

impl Target {
    /// The request for card `n`: the same data cards.mjs gives the peers for `n`.
    fn request(&self, n: usize) -> anyhow::Result<hyper::Request<Empty<Bytes>>> {
        let name = format!("{}Member{n}", self.prefix);
        let builder = hyper::Request::get(match self.card {
            Card::Rank => "/api/LevelCard/generate",
            Card::Welcome => "/api/WelcomeCard/generate",
        })
        .header(hyper::header::HOST, HeaderValue::from_str(&self.addr.to_string())?);
        let builder = match self.card {
            Card::Rank => builder
                .header("Username", name)
                .header("Avatar-Url", self.avatar.as_str())
                .header("Background-Url", self.background.as_str())
                .header("Background-Blur", "4")
                .header("Level", (n % 100).to_string())
                .header("Xp-Current", (n * 37 % 5000).to_string())
                .header("Xp-Total", "5000")
                .header("Rank", format!("#{}", n + 1))
                .header("Card-Width", "930")
                .header("Card-Height", "280"),
            // Greeting "Welcome" and 1024x400 are the defaults; two lines of text, as the peer's.
            Card::Welcome => builder
                .header("Background-Image", self.background.as_str())
                .header("Profile-Avatar", self.avatar.as_str())
                .header("Display-Name", name),
        };
        Ok(builder.body(Empty::new())?)
    }
}

/// What one phase against Garrison saw.
#[derive(Default)]
struct Phase {
    /// Microseconds per successful card.
    latencies: Vec<u32>,
    /// PNG bytes per successful card (`imageSize` in the answer).
    sizes: Vec<usize>,
    errors: usize,
    elapsed: Duration,
    /// The path of the first card's `directImageUrl`.
    first_view: Option<String>,
}

/// Cards `first..first + count` from `clients` keep-alive connections sharing one counter.
async fn phase(target: &Target, first: usize, count: usize, clients: usize) -> anyhow::Result<Phase> {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let next = Arc::clone(&next);
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(target.addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let mut out = Phase::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    break;
                }
                match send(&mut sender, target.request(n)?).await? {
                    Some((micros, size, view)) => {
                        out.latencies.push(micros);
                        out.sizes.push(size);
                        if n == first {
                            out.first_view = view;
                        }
                    }
                    None => out.errors += 1,
                }
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Phase::default();
    for task in tasks {
        let out = task.await.context("a client task failed")??;
        all.latencies.extend(out.latencies);
        all.sizes.extend(out.sizes);
        all.errors += out.errors;
        all.first_view = all.first_view.or(out.first_view);
    }
    all.elapsed = started.elapsed();
    Ok(all)
}

/// Sends one card request and reads the whole answer: for a success, its latency in microseconds,
/// the PNG's size and the path of its `directImageUrl`.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    request: hyper::Request<Empty<Bytes>>,
) -> anyhow::Result<Option<(u32, usize, Option<String>)>> {
    sender.ready().await?;
    let sent = Instant::now();
    let response = sender.send_request(request).await?;
    let ok = response.status().is_success();
    let body = response.into_body().collect().await?.to_bytes();
    let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
    if !ok {
        return Ok(None);
    }
    let answer: Value = serde_json::from_slice(&body).context("a card answer that is not JSON")?;
    let size = answer["imageSize"].as_u64().context("imageSize in the card answer")?;
    let view = answer["directImageUrl"].as_str().and_then(|u| u.find("/api/").map(|i| u[i..].to_owned()));
    Ok(Some((micros, usize::try_from(size)?, view)))
}

/// `value (ratio)`: the ratio is this row's value over Garrison's for the same card kind.
fn cell(value: f64, garrison: Option<f64>, unit: &str, decimals: usize) -> String {
    let text = format!("{value:.decimals$}{unit}");
    match garrison {
        Some(g) if g > 0.0 => format!("{text} ({:.2}x)", value / g),
        _ => text,
    }
}

fn print_table(rows: &[Row], opts: &PeerOptions) {
    println!();
    println!(
        "Medians of {} round(s); in brackets, the peer's value over Garrison's with a cold image cache \
         (CPU also over a warm one: the same background and avatar kept decoded). CPU per card: the Node \
         process (all threads) or the server process, over both measured phases. Latency: one client, \
         one card after the other; cards/s: {} concurrent clients. Garrison is measured over HTTP on \
         loopback (image fetches from the loopback file host and storing the PNG included), the peers \
         in-process (images read from files).",
        opts.rounds, opts.clients
    );
    for card in [Card::Rank, Card::Welcome] {
        println!();
        println!("{} card", card.key());
        println!();
        println!(
            "| implementation | size | CPU per card | p50 latency, 1 client | cards/s, {} clients | peak RSS | PNG per card |",
            opts.clients
        );
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        let medians = |row: &Row| {
            let of = |f: fn(&Measured) -> f64| median(row.rounds.iter().map(f).collect());
            Measured {
                cpu_ms_per_card: of(|m| m.cpu_ms_per_card),
                p50_ms: of(|m| m.p50_ms),
                per_second: of(|m| m.per_second),
                peak_rss_mb: of(|m| m.peak_rss_mb),
                png_bytes: of(|m| m.png_bytes),
            }
        };
        let ours = |cache: ImageCache| rows.iter().find(|r| r.card == card && r.name == cache.label()).map(medians);
        let (cold, warm) = (ours(ImageCache::Cold), ours(ImageCache::Warm));
        let is_ours = |row: &&Row| row.name.starts_with("Garrison");
        let (garrison, peers): (Vec<&Row>, Vec<&Row>) = rows.iter().filter(|r| r.card == card).partition(is_ours);
        for row in garrison.into_iter().chain(peers) {
            let m = medians(row);
            // Ratios against Garrison with a cold image cache; CPU also against a warm one.
            let g = cold.filter(|_| !is_ours(&row));
            let mut cpu = cell(m.cpu_ms_per_card, g.map(|g| g.cpu_ms_per_card), " ms", 1);
            if let Some(w) = warm.filter(|w| !is_ours(&row) && w.cpu_ms_per_card > 0.0) {
                cpu = format!("{cpu} ({:.1}x warm)", m.cpu_ms_per_card / w.cpu_ms_per_card);
            }
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.name,
                row.size,
                cpu,
                cell(m.p50_ms, g.map(|g| g.p50_ms), " ms", 1),
                cell(m.per_second, g.map(|g| g.per_second), "", 1),
                cell(m.peak_rss_mb, g.map(|g| g.peak_rss_mb), " MB", 0),
                cell(m.png_bytes / 1024.0, g.map(|g| g.png_bytes / 1024.0), " KiB", 0),
            );
        }
    }
}
