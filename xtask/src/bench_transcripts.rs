//! `cargo xtask bench --only transcripts`: transcripts end to end, the release server against the
//! release Discord simulator (a separate process) and a loopback file host for media:
//! - 10,000 text messages: time for `POST /api/Transcript/html` (100 pages from the simulator, render,
//!   store in the local object store);
//! - 50 messages with a 10 MB video each (500 MB of media): time, and the server's peak RSS.
//!
//! The render alone (no network) is `cargo bench -p garrison-pages --bench transcript`.

use std::{path::Path, time::Instant};

use anyhow::{Context, bail};
use garrison_testkit::{FileHost, HostedFile};

use crate::{
    bench::{launch, peak_rss_mb},
    bench_discord::start_sim,
};

pub struct Run {
    pub seconds: f64,
    pub messages: u64,
    /// The stored page, from the transcript's index entry.
    pub html_mb: f64,
    pub peak_rss_mb: f64,
}

fn run_one(garrison_binary: &Path, sim_binary: &Path, scratch: &Path, sim_args: &[String]) -> anyhow::Result<Run> {
    let (_sim, sim, world) = start_sim(sim_binary, scratch, sim_args)?;
    let db = format!("sqlite://{}/transcripts-bench-{}.db", scratch.display(), std::process::id());
    let server = launch(garrison_binary, scratch, &db)
        .env("GARRISON_DISCORD_API_URL", &sim)
        .env("GARRISON_DISCORD_GLOBAL_LIMIT", "65535")
        .env("GARRISON_FETCH_ALLOW_LOOPBACK", "true")
        .env("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1")
        .start()?;
    let base = server.base().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (seconds, messages, html_mb) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let response = client
            .post(format!("{base}/api/Transcript/html"))
            .header("X-Bot-Token", &world.tokens[0])
            .header("X-Channel-Id", &world.bench)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        if !status.is_success() {
            bail!("the transcript failed: {status} {body}");
        }
        let seconds = started.elapsed().as_secs_f64();
        let listed: serde_json::Value = client
            .get(format!("{base}/api/Transcript/list/{}", world.guild))
            .header("X-Bot-Token", &world.tokens[0])
            .send()
            .await?
            .json()
            .await?;
        let size = listed[0]["size"].as_u64().context("the index entry's size")?;
        anyhow::Ok((seconds, body["messageCount"].as_u64().context("messageCount")?, size as f64 / 1_000_000.0))
    })?;
    let (seconds, messages, html_mb) = (seconds, messages, html_mb);
    Ok(Run { seconds, messages, html_mb, peak_rss_mb: peak_rss_mb(server.pid()) })
}

pub fn run(garrison_binary: &Path, sim_binary: &Path, scratch: &Path) -> anyhow::Result<()> {
    println!("== transcripts end to end (release server and simulator, local object store)");
    println!("| transcript | messages | time | messages/s | stored HTML | server peak RSS |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let text = run_one(garrison_binary, sim_binary, scratch, &["--bench-messages".into(), "10000".into()])?;
    println!(
        "| 10,000 text messages | {} | {:.2} s | {:.0} | {:.1} MB | {:.1} MB |",
        text.messages,
        text.seconds,
        text.messages as f64 / text.seconds,
        text.html_mb,
        text.peak_rss_mb
    );
    const FILES: usize = 50;
    const SIZE: usize = 10 * 1000 * 1000;
    let video: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let host = FileHost::start((0..FILES).map(|i| {
        let path: &'static str = Box::leak(format!("/{i}.mp4").into_boxed_str());
        (path, HostedFile { content_type: "video/mp4", bytes: video.clone() })
    }));
    drop(video);
    let media =
        run_one(garrison_binary, sim_binary, scratch, &["--bench-media".into(), format!("{}:{FILES}", host.base())])?;
    println!(
        "| {FILES} messages with a 10 MB video each (500 MB) | {} | {:.2} s | {:.0} | {:.1} MB | {:.1} MB |",
        media.messages,
        media.seconds,
        media.messages as f64 / media.seconds,
        media.html_mb,
        media.peak_rss_mb
    );
    Ok(())
}
