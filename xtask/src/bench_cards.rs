//! The cards part of `cargo xtask bench`: render times from already-decoded images (the render crate's
//! own bench), then cards per second through `GET /api/LevelCard/generate` on the release server, with
//! the images served by a loopback file host, and the server's peak RSS over the run.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use garrison_testkit::{FileHost, HostedFile};
use http_body_util::Empty;
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;

use crate::{
    bench::{cpu_seconds, launch, peak_rss_mb, timed},
    cargo, run as run_command,
};

pub struct CardReport {
    pub cards: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub peak_rss_mb: f64,
    pub server_cores: f64,
}

/// The render crate's bench: median and p99 per card on one thread, PNG encoding included.
pub fn render_times() -> anyhow::Result<()> {
    run_command(cargo().args(["bench", "--quiet", "-p", "garrison-render", "--bench", "cards"]))
}

/// A `width`x`height` gradient picture encoded as `format` (the card benchmarks' avatar and background).
pub fn image_bytes(format: image::ImageFormat, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, format)?;
    Ok(out.into_inner())
}

/// `cards` level cards (each with a different username, so none is reused) from `clients` concurrent
/// connections; the avatar is a 256x256 PNG and the background a 1200x500 JPEG.
///
/// What [`through_http`] asks for.
#[derive(Debug, Clone, Copy)]
pub struct CardLoad<'a> {
    pub cards: usize,
    pub clients: usize,
    /// `png`, `png-small` (PNG with `GARRISON_CARD_PNG_COMPRESSION=small`), `webp` or `jpeg`.
    pub format: &'a str,
    /// With the default image cache (the images are fetched and decoded once); otherwise without
    /// one (`GARRISON_CARD_IMAGE_CACHE_BYTES=0`: every card fetches and decodes both, as cards for
    /// many guilds at once would).
    pub warm: bool,
}

pub fn through_http(binary: &Path, scratch: &Path, load: &CardLoad<'_>) -> anyhow::Result<CardReport> {
    let CardLoad { cards, clients, format, warm } = *load;
    let host = FileHost::start([
        (
            "/avatar.png",
            HostedFile { content_type: "image/png", bytes: image_bytes(image::ImageFormat::Png, 256, 256)? },
        ),
        (
            "/background.jpg",
            HostedFile { content_type: "image/jpeg", bytes: image_bytes(image::ImageFormat::Jpeg, 1200, 500)? },
        ),
    ]);
    std::fs::create_dir_all(scratch)?;
    let url = format!("sqlite://{}/cards.db", scratch.display());
    let mut launch = launch(binary, scratch, &url)
        .env("GARRISON_FETCH_ALLOW_LOOPBACK", "true")
        .env("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")
        .env("GARRISON_OBJECT_DIR", scratch.join("objects"));
    if !warm {
        launch = launch.env("GARRISON_CARD_IMAGE_CACHE_BYTES", "0");
    }
    if format == "png-small" {
        launch = launch.env("GARRISON_CARD_PNG_COMPRESSION", "small");
    }
    let format = format.trim_end_matches("-small").to_owned();
    let server = launch.start()?;
    let base = server.base().to_owned();
    let cache = if warm { "image cache" } else { "no image cache" };
    println!("cards: server at {base}, {cards} level cards ({format}) from {clients} clients, {cache}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let cpu_before = cpu_seconds(&server.pid().to_string());
    let started = Instant::now();
    let (mut latencies, errors) = runtime.block_on(drive(
        &base,
        [host.url("/avatar.png"), host.url("/background.jpg"), format],
        cards,
        clients,
    ))?;
    let elapsed = started.elapsed();
    let server_cores = (cpu_seconds(&server.pid().to_string()) - cpu_before) / elapsed.as_secs_f64();
    let peak_rss_mb = peak_rss_mb(server.pid());
    drop(server);
    // Without an image cache every card fetches its avatar; fewer fetches would mean stored cards.
    if !warm && host.hits("/avatar.png") < cards - errors {
        bail!("the server fetched the avatar {} times for {cards} cards", host.hits("/avatar.png"));
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies.get(((latencies.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0);
    Ok(CardReport {
        cards: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: f64::from(at(0.5)) / 1000.0,
        p99_ms: f64::from(at(0.99)) / 1000.0,
        peak_rss_mb,
        server_cores,
    })
}

/// `avatar`, `background` and `format`: the URLs and the `Format` header.
async fn drive(
    base: &str,
    [avatar, background, format]: [String; 3],
    cards: usize,
    clients: usize,
) -> anyhow::Result<(Vec<u32>, usize)> {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, avatar, background, format) =
            (Arc::clone(&next), avatar.clone(), background.clone(), format.clone());
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= cards {
                    break;
                }
                let request = hyper::Request::get("/api/LevelCard/generate")
                    .header(hyper::header::HOST, HeaderValue::from_str(&addr.to_string())?)
                    .header("Username", format!("Member{n}"))
                    .header("Avatar-Url", avatar.as_str())
                    .header("Background-Url", background.as_str())
                    .header("Background-Blur", "4")
                    .header("Level", (n % 100).to_string())
                    .header("Xp-Current", (n * 37 % 5000).to_string())
                    .header("Xp-Total", "5000")
                    .header("Rank", format!("#{}", n + 1))
                    .header("Format", format.as_str())
                    .body(Empty::<bytes::Bytes>::new())?;
                match timed(&mut sender, request).await? {
                    Some(micros) => latencies.push(micros),
                    None => errors += 1,
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await.context("a client task failed")??;
        all.extend(latencies);
        errors += e;
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok((all, errors))
}
