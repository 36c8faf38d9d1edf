//! `cargo xtask bench --only discord`: the release server against the release Discord simulator (a
//! separate process, spec checks off, no rate limits), measuring
//! - the latency Garrison adds to a ban: the median of `POST /api/modactions/ban` minus the median of
//!   the same Discord calls made directly (four concurrent reads, then the ban), one request at a time;
//! - requests per second through Garrison for a route that makes one Discord call, with one bot token
//!   and with 100 tokens;
//! - `GET /users/@me` calls per 10,000 requests with one token (the token cache).

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header::HeaderValue};
use hyper_util::rt::TokioIo;

use crate::bench::{launch, timed};

pub struct World {
    pub guild: String,
    pub bench: String,
    pub tokens: Vec<String>,
    members: Vec<String>,
}

/// A simulator process, killed and reaped when dropped.
pub struct Sim(pub Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the release simulator with `args` (besides port, world file and no spec checks).
pub fn start_sim(binary: &Path, scratch: &Path, args: &[String]) -> anyhow::Result<(Sim, String, World)> {
    let file = scratch.join("discord-world.json");
    let mut child = Command::new(binary)
        .args(["--port", "0", "--no-spec-checks", "--world-file"])
        .arg(&file)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start the Discord simulator")?;
    let stdout = child.stdout.take().context("stdout")?;
    let sim = Sim(child);
    let mut base = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.strip_prefix("Simulated Discord REST API v10 at ") {
            base = Some(rest.trim_end_matches("/api/v10").to_owned());
            break;
        }
    }
    // Keep reading what it prints: a closed pipe would end the simulator at its next line.
    std::thread::spawn(move || lines.for_each(drop));
    let base = base.context("the simulator did not say where it listens")?;
    let world: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    let strings = |key: &str| -> Vec<String> {
        world[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let world = World {
        guild: world["guild"].as_str().context("guild")?.to_owned(),
        bench: world["bench"].as_str().context("bench channel")?.to_owned(),
        tokens: strings("tokens"),
        members: strings("members"),
    };
    Ok((sim, base, world))
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(base: &str) -> anyhow::Result<Sender> {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

pub fn request(
    method: &str,
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder().method(method).uri(path).header("host", base.trim_start_matches("http://"));
    for (name, value) in headers {
        builder = builder.header(*name, HeaderValue::from_str(value)?);
    }
    if !body.is_empty() {
        builder = builder.header("content-type", "application/json");
    }
    Ok(builder.body(Full::new(Bytes::from(body.to_owned())))?)
}

pub fn median(values: &mut [u32]) -> f64 {
    percentile(values, 50)
}

pub fn percentile(values: &mut [u32], p: usize) -> f64 {
    values.sort_unstable();
    values.get((values.len() * p / 100).min(values.len().saturating_sub(1))).map_or(0.0, |v| f64::from(*v) / 1000.0)
}

async fn bans_through_garrison(garrison: &str, world: &World, users: &[String]) -> anyhow::Result<Vec<u32>> {
    let mut sender = connect(garrison).await?;
    let mut latencies = Vec::new();
    for user in users {
        let headers =
            [("server-id", world.guild.as_str()), ("bot-token", world.tokens[0].as_str()), ("user-id", user.as_str())];
        match timed(&mut sender, request("POST", garrison, "/api/modactions/ban", &headers, "")?).await? {
            Some(micros) => latencies.push(micros),
            None => bail!("a ban through Garrison failed"),
        }
    }
    Ok(latencies)
}

/// The Discord calls of one ban, made directly: guild, roles and both members concurrently (four
/// keep-alive connections, as Garrison's client pools them), then the ban.
async fn bans_direct(sim: &str, world: &World, users: &[String]) -> anyhow::Result<Vec<u32>> {
    let auth = format!("Bot {}", world.tokens[0]);
    let bot_id = {
        let mut sender = connect(sim).await?;
        let response =
            sender.send_request(request("GET", sim, "/api/v10/users/@me", &[("authorization", &auth)], "")?).await?;
        let body = response.into_body().collect().await?.to_bytes();
        serde_json::from_slice::<serde_json::Value>(&body)?["id"].as_str().context("bot id")?.to_owned()
    };
    let mut senders = Vec::new();
    for _ in 0..4 {
        senders.push(connect(sim).await?);
    }
    let g = &world.guild;
    let mut latencies = Vec::new();
    let mut reconnects = 0;
    for user in users {
        let started = Instant::now();
        match direct_ban(sim, &mut senders, &auth, g, &bot_id, user).await {
            Ok(()) => latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Err(error) => {
                // The simulator closed an idle keep-alive connection: reconnect, leave this ban out.
                reconnects += 1;
                if reconnects > 10 {
                    return Err(error.context("direct bans keep failing"));
                }
                senders.clear();
                for _ in 0..4 {
                    senders.push(connect(sim).await?);
                }
            }
        }
    }
    Ok(latencies)
}

async fn direct_ban(
    sim: &str,
    senders: &mut [Sender],
    auth: &str,
    g: &str,
    bot_id: &str,
    user: &str,
) -> anyhow::Result<()> {
    let [a, b, c, d] = senders else { bail!("four connections") };
    let headers = [("authorization", auth)];
    let (r1, r2, r3, r4) = tokio::join!(
        timed(a, request("GET", sim, &format!("/api/v10/guilds/{g}?with_counts=true"), &headers, "")?),
        timed(b, request("GET", sim, &format!("/api/v10/guilds/{g}/roles"), &headers, "")?),
        timed(c, request("GET", sim, &format!("/api/v10/guilds/{g}/members/{bot_id}"), &headers, "")?),
        timed(d, request("GET", sim, &format!("/api/v10/guilds/{g}/members/{user}"), &headers, "")?),
    );
    for r in [r1, r2, r3, r4] {
        r?.context("a read before the ban failed")?;
    }
    let ban_headers = [("authorization", auth), ("x-audit-log-reason", "Banned%20via%20API")];
    let body = r#"{"delete_message_seconds":0}"#;
    timed(a, request("PUT", sim, &format!("/api/v10/guilds/{g}/bans/{user}"), &ban_headers, body)?)
        .await?
        .context("the ban failed")?;
    Ok(())
}

/// Keeps `connections` keep-alive connections busy for `seconds`, each sending the requests `make`
/// builds from a number unique to the request (worker `w` makes `w`, `w + connections`, ...): requests
/// per second, the median latency in ms, and the requests that failed.
pub async fn keep_busy(
    base: &str,
    connections: usize,
    seconds: u64,
    make: impl Fn(usize) -> anyhow::Result<Request<Full<Bytes>>> + Send + Sync + 'static,
) -> anyhow::Result<(f64, f64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let make = Arc::new(make);
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (base, make) = (base.to_owned(), Arc::clone(&make));
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&base).await?;
            let (mut latencies, mut errors, mut n) = (Vec::new(), 0u64, worker);
            while Instant::now() < deadline {
                match timed(&mut sender, make(n)?).await? {
                    Some(micros) => latencies.push(micros),
                    None => errors += 1,
                }
                n += connections;
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await??;
        all.extend(l);
        errors += e;
    }
    let per_second = all.len() as f64 / started.elapsed().as_secs_f64();
    Ok((per_second, median(&mut all), errors))
}

/// `connections` keep-alive connections sending `GET /api/DiscordPermission/guild-info` for
/// `seconds`, each request with the next of `tokens`: requests per second and p50.
async fn guild_info_load(
    garrison: &str,
    guild: &str,
    tokens: Arc<Vec<String>>,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<(f64, f64, u64)> {
    let (base, guild) = (garrison.to_owned(), guild.to_owned());
    keep_busy(garrison, connections, seconds, move |n| {
        let token = &tokens[n % tokens.len()];
        let headers = [("bot-token", token.as_str()), ("guild-id", guild.as_str())];
        request("GET", &base, "/api/DiscordPermission/guild-info", &headers, "")
    })
    .await
}

async fn token_checks(sim: &str) -> anyhow::Result<u64> {
    let mut sender = connect(sim).await?;
    let response = sender.send_request(request("GET", sim, garrison_discord_sim::STATS_PATH, &[], "")?).await?;
    let body = response.into_body().collect().await?.to_bytes();
    let stats: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(stats["GET /users/@me"].as_u64().unwrap_or(0))
}

pub fn run(
    garrison_binary: &Path,
    sim_binary: &Path,
    scratch: &Path,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<()> {
    const BANS: usize = 1_000;
    let args =
        ["--extra-members".to_owned(), (2 * BANS + 200).to_string(), "--extra-bots".to_owned(), "100".to_owned()];
    let (_sim, sim, world) = start_sim(sim_binary, scratch, &args)?;
    let db = format!("sqlite://{}/discord-bench.db", scratch.display());
    // Discord allows a bot 50 requests a second unless it raised the bot's limit; Garrison's own
    // latency and throughput are measured with that limit lifted (docs/benchmarks.md).
    let server = launch(garrison_binary, scratch, &db)
        .env("GARRISON_DISCORD_API_URL", &sim)
        .env("GARRISON_DISCORD_GLOBAL_LIMIT", "65535")
        .start()?;
    let base = server.base().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let users = &world.members;
        // Warm both paths (token check, connections), then alternate blocks so drift hits both alike.
        bans_through_garrison(&base, &world, &users[..50]).await?;
        bans_direct(&sim, &world, &users[50..100]).await?;
        let (mut through, mut direct) = (Vec::new(), Vec::new());
        for block in 0..10 {
            let at = 100 + block * 2 * (BANS / 10);
            through.extend(bans_through_garrison(&base, &world, &users[at..at + BANS / 10]).await?);
            direct.extend(bans_direct(&sim, &world, &users[at + BANS / 10..at + 2 * (BANS / 10)]).await?);
        }
        let (g, d) = (median(&mut through), median(&mut direct));
        let (g99, d99) = (percentile(&mut through, 99), percentile(&mut direct, 99));
        println!("== a ban, one at a time ({BANS} each; simulator without spec checks or rate limits)");
        println!("| path | median latency | p99 |");
        println!("| --- | ---: | ---: |");
        println!("| the same Discord calls made directly | {d:.3} ms | {d99:.3} ms |");
        println!("| POST /api/modactions/ban through Garrison | {g:.3} ms | {g99:.3} ms |");
        println!("| added by Garrison (medians) | {:.3} ms | |", g - d);

        println!();
        println!(
            "== GET /api/DiscordPermission/guild-info (one Discord call each), {connections} connections, {seconds} s"
        );
        println!("| bot tokens | requests/s | p50 latency | errors | GET /users/@me per 10,000 requests |");
        println!("| ---: | ---: | ---: | ---: | ---: |");
        let before = token_checks(&sim).await?;
        let one = Arc::new(vec![world.tokens[1].clone()]);
        let (rps, p50, errors) = guild_info_load(&base, &world.guild, one, connections, seconds).await?;
        let checks = token_checks(&sim).await? - before;
        let per_10k = checks as f64 * 10_000.0 / (rps * seconds as f64);
        println!("| 1 | {rps:.0} | {p50:.2} ms | {errors} | {per_10k:.2} ({checks} in all) |");
        let before = token_checks(&sim).await?;
        let many = Arc::new(world.tokens[1..].to_vec());
        let count = many.len();
        let (rps, p50, errors) = guild_info_load(&base, &world.guild, many, connections, seconds).await?;
        let checks = token_checks(&sim).await? - before;
        println!("| {count} | {rps:.0} | {p50:.2} ms | {errors} | {checks} checks (one per new token) |");
        anyhow::Ok(())
    })
}
