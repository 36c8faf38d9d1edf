//! `cargo xtask bench --only gateway`: the release server against the release Discord simulator (a
//! separate process, spec checks off) with a 100,000-member guild and eleven bots, measuring
//! - the first `GET /api/VoiceChannel/info` of each bot: token check, `GET /gateway/bot`, connect,
//!   identify, READY and GUILD_CREATE, then the answer (the specification's service takes about 3 s);
//! - warm `VoiceChannel/info` calls per second (32 keep-alive connections, one bot);
//! - the server's memory per open idle voice session;
//! - `GET /api/RoleMembers/role/{member role}` on the 100,000-member guild: the first call (a new
//!   session and the whole member list in 100 chunks), a warm one, and the server's memory growth.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::bench::{launch, timed};
use crate::bench_discord::{Sim, connect, keep_busy, percentile, request};

const MEMBERS: usize = 100_000;
const BOTS: usize = 10;

/// The server's resident memory now, in MiB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

struct World {
    base: String,
    guild: String,
    voice: String,
    member_role: String,
    tokens: Vec<String>,
}

fn start_sim(binary: &Path, scratch: &Path) -> anyhow::Result<(Sim, World)> {
    let args = ["--generated-members".to_owned(), MEMBERS.to_string(), "--extra-bots".to_owned(), BOTS.to_string()];
    let (sim, base, _) = crate::bench_discord::start_sim(binary, scratch, &args)?;
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(scratch.join("discord-world.json"))?)?;
    let text =
        |key: &str| file[key].as_str().map(str::to_owned).with_context(|| format!("the world file has no {key}"));
    let tokens = file["tokens"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let world = World { base, guild: text("guild")?, voice: text("voice")?, member_role: text("memberRole")?, tokens };
    Ok((sim, world))
}

async fn voice_call(base: &str, token: &str, channel: &str) -> anyhow::Result<Option<u32>> {
    let mut sender = connect(base).await?;
    let headers = [("bot-token", token), ("channel-id", channel)];
    timed(&mut sender, request("GET", base, "/api/VoiceChannel/info", &headers, "")?).await
}

async fn voice_load(
    base: &str,
    token: &str,
    channel: &str,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<(f64, f64, u64)> {
    let (address, token, channel) = (base.to_owned(), token.to_owned(), channel.to_owned());
    keep_busy(base, connections, seconds, move |_| {
        let headers = [("bot-token", token.as_str()), ("channel-id", channel.as_str())];
        request("GET", &address, "/api/VoiceChannel/info", &headers, "")
    })
    .await
}

async fn role_members(base: &str, world: &World, token: &str) -> anyhow::Result<(u32, usize)> {
    let mut sender = connect(base).await?;
    let headers = [("discord-token", token), ("guild-id", world.guild.as_str())];
    let path = format!("/api/RoleMembers/role/{}", world.member_role);
    sender.ready().await?;
    let started = Instant::now();
    let response = sender.send_request(request("GET", base, &path, &headers, "")?).await?;
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body()).await?.to_bytes();
    let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
    if !status.is_success() {
        bail!("RoleMembers answered {status}: {}", String::from_utf8_lossy(&body));
    }
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    let total = json["AllMembers"]["TotalMembers"].as_u64().context("TotalMembers")?;
    Ok((took, usize::try_from(total)?))
}

pub fn run(garrison_binary: &Path, sim_binary: &Path, scratch: &Path, seconds: u64) -> anyhow::Result<()> {
    let (_sim, world) = start_sim(sim_binary, scratch)?;
    anyhow::ensure!(world.tokens.len() > BOTS, "the simulator made {} bots", world.tokens.len());
    let db = format!("sqlite://{}/gateway-bench.db", scratch.display());
    let server = launch(garrison_binary, scratch, &db).env("GARRISON_DISCORD_API_URL", &world.base).start()?;
    let base = server.base().to_owned();
    let pid = server.pid();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let world = Arc::new(world);
    runtime.block_on(async {
        // A first call per bot: each opens its own session.
        let before = rss_mb(pid);
        let mut first = Vec::new();
        for token in world.tokens.iter().skip(1).take(BOTS) {
            first.push(voice_call(&base, token, &world.voice).await?.context("a first VoiceChannel/info failed")?);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let per_session = (rss_mb(pid) - before) / BOTS as f64;
        println!(
            "== GET /api/VoiceChannel/info, first call of each of {BOTS} bots (connect, identify, READY, GUILD_CREATE)"
        );
        println!("| median | p90 | slowest | server memory per open voice session |");
        println!("| ---: | ---: | ---: | ---: |");
        let slowest = first.iter().copied().max().unwrap_or(0);
        println!(
            "| {:.1} ms | {:.1} ms | {:.1} ms | {per_session:.2} MiB |",
            percentile(&mut first.clone(), 50),
            percentile(&mut first, 90),
            f64::from(slowest) / 1000.0
        );

        let token = &world.tokens[0];
        voice_call(&base, token, &world.voice).await?.context("warming the demo bot's session failed")?;
        let (rps, p50, errors) = voice_load(&base, token, &world.voice, 32, seconds).await?;
        println!();
        println!("== GET /api/VoiceChannel/info from a live session, 32 connections, {seconds} s");
        println!("| calls/s | p50 latency | errors |");
        println!("| ---: | ---: | ---: |");
        println!("| {rps:.0} | {p50:.2} ms | {errors} |");

        let before = rss_mb(pid);
        let (cold, total) = role_members(&base, &world, token).await?;
        let (warm, _) = role_members(&base, &world, token).await?;
        let grown = rss_mb(pid) - before;
        println!();
        println!("== GET /api/RoleMembers/role/{{member role}} on a guild of {MEMBERS} members");
        println!("| first call (new session, whole member list) | next call | members listed | server memory growth |");
        println!("| ---: | ---: | ---: | ---: |");
        println!(
            "| {:.0} ms | {:.0} ms | {total} | {grown:.1} MiB |",
            f64::from(cold) / 1000.0,
            f64::from(warm) / 1000.0
        );
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}
