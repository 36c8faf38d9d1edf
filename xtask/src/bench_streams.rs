//! `cargo xtask bench --only streams`: the release server against the platforms' simulator
//! (garrison-streams-sim, in this process), on SQLite, measuring
//! - YouTube quota units per live check, counted by the simulator (the target: at most 3; the
//!   specification's `channels.list` + `search.list` costs 101);
//! - check-all's latency against the slowest platform's alone, one request at a time, each check
//!   uncached (distinct names), with the simulator answering every YouTube and Twitch call after 10 ms
//!   and every TikTok page after 40 ms (the target: the slowest platform + under 2 ms);
//! - the alert loop's platform calls per round for 1,000 watches of 100 streamers (10 servers each
//!   watching the same 100: 40 on Twitch, 30 on YouTube, 30 on TikTok), counted by the simulator
//!   (the target: 100), and the round that announces one stream in the ten servers.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use garrison_streams_sim::{Platform, Simulator, TikTokPage};

use crate::bench::{launch, median};

const KEY: &str = "bench-youtube-key";
const CLIENT: &str = "benchclient";
const SECRET: &str = "bench-twitch-secret";
/// Checks of each kind.
const ROUNDS: usize = 50;

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
    alert_rounds(binary, scratch)
}

/// Streamers of each platform in the alert benchmark, and the servers watching all of them.
const TWITCH_STREAMERS: usize = 40;
const YOUTUBE_STREAMERS: usize = 30;
const TIKTOK_STREAMERS: usize = 30;
const SERVERS: usize = 10;
/// Seconds between rounds.
const POLL_SECONDS: u64 = 4;

/// The simulator's calls per platform, all routes together.
fn calls(sim: &Simulator) -> [usize; 3] {
    [sim.calls(Platform::Twitch), sim.calls(Platform::YouTube), sim.calls(Platform::TikTok)]
}

/// Waits for the next round to start and end: the calls' count changes, then stays put for a second.
fn next_round(sim: &Simulator, before: [usize; 3]) -> anyhow::Result<([usize; 3], Duration)> {
    let deadline = Instant::now() + Duration::from_secs(POLL_SECONDS * 3);
    while calls(sim) == before {
        ensure!(Instant::now() < deadline, "no round started in {} s", POLL_SECONDS * 3);
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let (mut last, mut quiet) = (calls(sim), Instant::now());
    let mut ended = started;
    while quiet.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(20));
        let now = calls(sim);
        if now != last {
            (last, quiet, ended) = (now, Instant::now(), Instant::now());
        }
    }
    Ok((last, ended - started))
}

fn alert_rounds(binary: &Path, scratch: &Path) -> anyhow::Result<()> {
    let sim = Simulator::start();
    sim.youtube_add_key(KEY, 100_000_000);
    sim.twitch_add_client(CLIENT, SECRET);
    let (mut world, demo) = garrison_discord_sim::World::demo();
    let mut guilds = vec![(demo.guild, demo.general)];
    for n in 1..SERVERS {
        let guild = world.add_guild(&format!("Bench {n}"), demo.owner);
        world.add_member(guild, demo.bot.user_id, &[]);
        guilds.push((guild, world.add_channel(guild, 0, "streams", None, 0)));
    }
    let discord = garrison_discord_sim::Simulator::start(world);
    let mut streamers = Vec::new();
    for n in 0..TWITCH_STREAMERS {
        let login = format!("twitch_{n:03}");
        sim.twitch_add_user(&login, &login);
        streamers.push(("twitch", login));
    }
    for n in 0..YOUTUBE_STREAMERS {
        let handle = format!("youtube_{n:03}");
        sim.youtube_add_channel(&handle, &handle);
        sim.youtube_upload(&handle, "a video");
        streamers.push(("youtube", handle));
    }
    for n in 0..TIKTOK_STREAMERS {
        let user = format!("tiktok_{n:03}");
        sim.tiktok_set(&user, TikTokPage::Offline);
        streamers.push(("tiktok", user));
    }
    let db = format!("sqlite://{}/alerts-bench.db", scratch.display());
    let launch = launch(binary, scratch, &db)
        .env("GARRISON_YOUTUBE_API_URL", sim.youtube_url())
        .env("GARRISON_TWITCH_AUTH_URL", sim.twitch_auth_url())
        .env("GARRISON_TWITCH_API_URL", sim.twitch_api_url())
        .env("GARRISON_TIKTOK_URL", sim.tiktok_url())
        .env("GARRISON_YOUTUBE_API_KEY", KEY)
        .env("GARRISON_YOUTUBE_DAILY_QUOTA", "100000000")
        .env("GARRISON_TWITCH_CLIENT_ID", CLIENT)
        .env("GARRISON_TWITCH_CLIENT_SECRET", SECRET)
        .env("GARRISON_STREAM_CHECKS_PER_MINUTE", "100000")
        .env("GARRISON_STREAM_POLL_SECONDS", POLL_SECONDS.to_string())
        .env("GARRISON_DISCORD_API_URL", discord.base_url())
        .env("GARRISON_DISCORD_BOT_TOKEN", &demo.bot.token);
    let mut keys = Vec::new();
    for (guild, _) in &guilds {
        let out =
            launch.command().args(["apikey", "create", "--server", &guild.to_string(), "--name", "bench"]).output()?;
        ensure!(out.status.success(), "apikey create failed: {}", String::from_utf8_lossy(&out.stderr));
        keys.push(String::from_utf8(out.stdout)?.trim().to_owned());
    }
    let server = launch.start()?;
    let base = server.base().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        for ((guild, channel), key) in guilds.iter().zip(&keys) {
            for (platform, user) in &streamers {
                let body = serde_json::json!({"serverId": guild.to_string(), "platform": platform, "user": user,
                                              "channelId": channel.to_string()});
                let response =
                    client.post(format!("{base}/api/Stream/watches")).bearer_auth(key).json(&body).send().await?;
                ensure!(response.status().is_success(), "{}: {}", response.status(), response.text().await?);
            }
        }
        anyhow::Ok(())
    })?;
    let watches = guilds.len() * streamers.len();
    // Rounds after the watches were added (the Twitch token and the YouTube handles were fetched in
    // the rounds that ran while they were being added).
    let mut before = calls(&sim);
    let mut rounds = Vec::new();
    for _ in 0..4 {
        let (after, took) = next_round(&sim, before)?;
        rounds.push(([after[0] - before[0], after[1] - before[1], after[2] - before[2]], took));
        before = after;
    }
    let (steady, _) = rounds[rounds.len() - 1];
    println!();
    println!(
        "== alert loop: platform calls per round, {watches} watches of {} streamers ({TWITCH_STREAMERS} Twitch, {YOUTUBE_STREAMERS} YouTube, {TIKTOK_STREAMERS} TikTok) in {SERVERS} servers; counted by the simulator",
        streamers.len()
    );
    println!("| round | Twitch calls | YouTube calls | TikTok calls | all | one check per watch instead |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (n, (counts, _)) in rounds.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            n + 1,
            counts[0],
            counts[1],
            counts[2],
            counts.iter().sum::<usize>(),
            SERVERS * (TWITCH_STREAMERS + 2 * YOUTUBE_STREAMERS + TIKTOK_STREAMERS)
        );
    }
    let checks = 1 + YOUTUBE_STREAMERS + TIKTOK_STREAMERS;
    println!(
        "checks per steady round: {checks} (one Helix call for the {TWITCH_STREAMERS} Twitch logins, one per YouTube and TikTok streamer; target: at most 100); HTTP calls {} (a YouTube check is two calls)",
        steady.iter().sum::<usize>()
    );
    ensure!(steady[0] == 1 && steady[2] == TIKTOK_STREAMERS, "a steady round made {steady:?} calls");

    // One stream starts: announced in the ten servers within a round.
    sim.twitch_go_live("twitch_007", "Bench stream", "Chess", 10);
    let started = Instant::now();
    let posted = |discord: &garrison_discord_sim::Simulator| {
        guilds.iter().filter(|(_, channel)| !discord.world(|w| w.messages(*channel)).is_empty()).count()
    };
    while posted(&discord) < SERVERS {
        ensure!(started.elapsed() < Duration::from_secs(POLL_SECONDS * 3), "the alerts were not all posted");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "one stream's start announced in all {SERVERS} servers {:.1} s after it started (rounds every {POLL_SECONDS} s)",
        started.elapsed().as_secs_f64()
    );
    let violations = sim.violations();
    ensure!(violations.is_empty(), "the platforms saw: {violations:?}");
    drop(server);
    Ok(())
}
