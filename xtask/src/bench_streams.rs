//! `cargo xtask bench --only streams`: the release server against the platforms' simulator
//! (garrison-streams-sim, in this process), on SQLite, measuring
//! - YouTube quota units per live check, counted by the simulator (the target: at most 3; the
//!   specification's `channels.list` + `search.list` costs 101);
//! - check-all's latency against the slowest platform's alone, one request at a time, each check
//!   uncached (distinct names), with the simulator answering every YouTube and Twitch call after 10 ms
//!   and every TikTok page after 40 ms (the target: the slowest platform + under 2 ms).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use garrison_streams_sim::{Platform, Simulator, TikTokPage};

use crate::bench::launch;

const KEY: &str = "bench-youtube-key";
const CLIENT: &str = "benchclient";
const SECRET: &str = "bench-twitch-secret";
/// Checks of each kind.
const ROUNDS: usize = 50;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

pub fn run(binary: &Path, scratch: &Path) -> anyhow::Result<()> {
    let sim = Simulator::start();
    sim.youtube_add_key(KEY, 1_000_000);
    sim.twitch_add_client(CLIENT, SECRET);
    // Channels with a few uploads each, every fifth live; the same for Twitch and TikTok.
    let names = |prefix: &str, round: usize| format!("{prefix}{round:03}");
    for prefix in ["solo", "yt", "all"] {
        for round in 0..ROUNDS {
            let handle = names(prefix, round);
            sim.youtube_add_channel(&handle, &handle);
            for upload in 0..3 {
                sim.youtube_upload(&handle, &format!("video {upload}"));
            }
            if round % 5 == 0 {
                sim.youtube_go_live(&handle, "Live", 100);
                sim.twitch_go_live(&handle, "Live", "Just Chatting", 100);
                sim.tiktok_set(&handle, TikTokPage::Live { title: "Live".into(), viewers: 100 });
            } else {
                sim.tiktok_set(&handle, TikTokPage::Offline);
            }
        }
    }
    let db = format!("sqlite://{}/streams-bench.db", scratch.display());
    let server = launch(binary, scratch, &db)
        .env("GARRISON_YOUTUBE_API_URL", sim.youtube_url())
        .env("GARRISON_TWITCH_AUTH_URL", sim.twitch_auth_url())
        .env("GARRISON_TWITCH_API_URL", sim.twitch_api_url())
        .env("GARRISON_TIKTOK_URL", sim.tiktok_url())
        .env("GARRISON_STREAM_CHECKS_PER_MINUTE", "100000")
        .start()?;
    let base = server.base().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let headers = [("X-YouTube-ApiKey", KEY), ("X-Twitch-ClientId", CLIENT), ("X-Twitch-Secret", SECRET)];
        let timed = |request: reqwest::RequestBuilder| async move {
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let body = response.text().await?;
            ensure!(status.is_success(), "{status}: {body}");
            anyhow::Ok(started.elapsed().as_secs_f64() * 1000.0)
        };
        let get = |path: String| {
            let mut request = client.get(format!("{base}{path}"));
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request
        };

        // Quota: the first check of each handle, then YouTube's own count.
        for round in 0..ROUNDS {
            timed(get(format!("/api/Stream/youtube/{}", names("solo", round)))).await?;
        }
        let units = sim.youtube_quota_used(KEY) as f64 / ROUNDS as f64;
        let (channels, playlists, videos, searches) = (
            sim.calls_to("GET /youtube/v3/channels"),
            sim.calls_to("GET /youtube/v3/playlistItems"),
            sim.calls_to("GET /youtube/v3/videos"),
            sim.calls_to("GET /youtube/v3/search"),
        );
        println!("== YouTube quota per live check ({ROUNDS} channels, each checked once; counted by the simulator)");
        println!("| units per first check | of which the handle (kept 30 days) | units per later check | channels.list | playlistItems.list | videos.list | search.list | the specification's |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| {units:.2} | {:.2} | {:.2} | {channels} | {playlists} | {videos} | {searches} | 101 (1 + search.list's 100) |",
            channels as f64 / ROUNDS as f64,
            units - channels as f64 / ROUNDS as f64,
        );
        ensure!(units <= 3.0, "a YouTube check cost {units} units");
        println!(
            "a 10,000-unit day: {:.0} checks against the specification's 99 ({:.0}x)",
            10_000.0 / (units - channels as f64 / ROUNDS as f64),
            101.0 / (units - channels as f64 / ROUNDS as f64)
        );

        // Latency: each platform alone, then all three at once, every check uncached.
        sim.set_latency(Platform::YouTube, Duration::from_millis(10));
        sim.set_latency(Platform::Twitch, Duration::from_millis(10));
        sim.set_latency(Platform::TikTok, Duration::from_millis(40));
        // The Twitch token, fetched once, is not part of what is measured.
        timed(get("/api/Stream/twitch/warmup".into())).await?;
        let (mut youtube, mut twitch, mut tiktok, mut all) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let handle = names("solo", round);
            youtube.push(timed(get(format!("/api/Stream/youtube/{}", names("yt", round)))).await?);
            twitch.push(timed(get(format!("/api/Stream/twitch/solo_{round}"))).await?);
            tiktok.push(timed(get(format!("/api/Stream/tiktok/{handle}"))).await?);
            let body = serde_json::json!({
                "youtubeHandle": names("all", round), "twitchUser": format!("all_{round}"), "tikTokUser": names("all", round)
            });
            let mut request = client.post(format!("{base}/api/Stream/check-all")).json(&body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            all.push(timed(request).await?);
        }
        let (youtube, twitch, tiktok, all) =
            (median(&mut youtube), median(&mut twitch), median(&mut tiktok), median(&mut all));
        println!();
        println!("== check-all against each platform alone ({ROUNDS} uncached checks each, medians; simulator latency: YouTube and Twitch 10 ms a call, TikTok 40 ms)");
        println!("| YouTube (3 calls: handle, uploads, videos) | Twitch (1 call) | TikTok (1 call) | check-all (YouTube 3 calls, Twitch 1, TikTok 1) | check-all - slowest alone |");
        println!("| ---: | ---: | ---: | ---: | ---: |");
        let slowest = tiktok.max(youtube).max(twitch);
        println!("| {youtube:.2} ms | {twitch:.2} ms | {tiktok:.2} ms | {all:.2} ms | {:+.2} ms |", all - slowest);
        let violations = sim.violations();
        ensure!(violations.is_empty(), "the platforms saw: {violations:?}");
        anyhow::Ok(())
    })
    .context("the streams benchmark")?;
    drop(server);
    Ok(())
}
