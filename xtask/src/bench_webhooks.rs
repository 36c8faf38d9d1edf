//! `cargo xtask bench --only webhooks`: the release server on SQLite, then on PostgreSQL when a server
//! answers (`GARRISON_TEST_POSTGRES_URL`), a receiver on loopback (in this
//! process, answering 204 on keep-alive connections, counting what it gets), measuring
//! - `POST /api/xp/add`'s throughput without a webhook endpoint and with one subscribed to
//!   `xp.changed` (each change then appends its event to the outbox in its own transaction, and the
//!   dispatcher delivers meanwhile, on the same two cores). The target: no more than 15%
//!   below. Also with the endpoint but this process not dispatching (`GARRISON_WEBHOOK_DISPATCHER=false`,
//!   as a replica that leaves delivery to others): the outbox's own cost. Runs alternate, three
//!   times, each on a fresh database; medians reported. Throughput on these two shared cores moves
//!   from run to run, so the server's CPU time per change is reported too (with the dispatcher, the
//!   CPU it spent until every event of the run was delivered);
//! - events delivered per second by the dispatcher while it drains what a loaded run queued (the
//!   issue's target: at least 2,000 a second on SQLite).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use serde_json::json;

use crate::bench::{FreshPostgres, launch, median};

const SERVER_ID: &str = "123456789012345678";
/// How long the dispatcher may take to drain one run's events.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// A loopback receiver: every request answered 204, keep-alive, counted.
struct Receiver {
    url: String,
    received: Arc<AtomicU64>,
}

impl Receiver {
    fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let received = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let count = Arc::clone(&count);
                std::thread::spawn(move || serve(stream, &count));
            }
        });
        Ok(Self { url, received })
    }

    fn count(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

/// Answers one connection's requests, one after another, until the client closes it.
fn serve(stream: std::net::TcpStream, count: &AtomicU64) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        count.fetch_add(1, Ordering::SeqCst);
        if writer.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

/// One loaded run: XP changes per second, and (with an endpoint) events delivered per second while
/// the dispatcher drained what was left when the load stopped.
struct Run {
    per_second: f64,
    /// The server's CPU time per change, in microseconds: during the load, and with the dispatcher
    /// until every event of the run was delivered.
    cpu_us_per_change: f64,
    events: u64,
    drain_per_second: Option<f64>,
    /// How long after the load the last event arrived, in seconds.
    lag_secs: Option<f64>,
}

/// Where a run keeps its data: a fresh SQLite file, or a fresh PostgreSQL database on the server at
/// this URL (created for the run, dropped after it).
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Runs the comparison on SQLite, then on PostgreSQL when a server answers.
pub fn run(binary: &Path, scratch: &Path, seconds: u64, connections: usize, members: u64) -> anyhow::Result<()> {
    compare(binary, scratch, &Backend::Sqlite, (seconds, connections, members))?;
    match crate::postgres_for_tests() {
        Some(server) => compare(binary, scratch, &Backend::Postgres(server), (seconds, connections, members)),
        None => {
            println!("PostgreSQL: skipped (no server answers; set GARRISON_TEST_POSTGRES_URL)");
            Ok(())
        }
    }
}

fn compare(
    binary: &Path,
    scratch: &Path,
    backend: &Backend,
    (seconds, connections, members): (u64, usize, u64),
) -> anyhow::Result<()> {
    let receiver = Receiver::start()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (mut without, mut outbox_only, mut with) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        for (subscribed, dispatching) in [(false, true), (true, false), (true, true)] {
            let dir = scratch.join(format!("webhooks-{}-{round}-{subscribed}-{dispatching}", backend.name()));
            std::fs::create_dir_all(&dir)?;
            // A fresh database each run (on PostgreSQL, dropped after it).
            let (db, database) = match backend {
                Backend::Sqlite => (format!("sqlite://{}/bench.db", dir.display()), None),
                Backend::Postgres(server) => {
                    let fresh =
                        FreshPostgres::create(server, &format!("garrison_bench_webhooks_{}", std::process::id()))?;
                    (fresh.url.clone(), Some(fresh))
                }
            };
            let launch = launch(binary, &dir, &db)
                .env("GARRISON_FETCH_ALLOW_LOOPBACK", "true")
                .env("GARRISON_WEBHOOK_DISPATCHER", if dispatching { "true" } else { "false" });
            let out = launch.command().args(["apikey", "create", "--server", SERVER_ID, "--name", "bench"]).output()?;
            ensure!(out.status.success(), "apikey create failed: {}", String::from_utf8_lossy(&out.stderr));
            let key = String::from_utf8(out.stdout)?.trim().to_owned();
            let server = launch.start()?;
            let base = server.base().to_owned();
            let load = (seconds, connections, members);
            let pid = server.pid().to_string();
            let run = runtime.block_on(one_run(&base, &pid, &key, &receiver, (subscribed, dispatching), load))?;
            drop(server);
            drop(database);
            println!(
                "round {round}, {}: {:.0} XP changes/s, {:.1} µs of server CPU each{}",
                match (subscribed, dispatching) {
                    (false, _) => "no endpoint",
                    (true, false) => "one endpoint, not dispatching",
                    (true, true) => "one endpoint",
                },
                run.per_second,
                run.cpu_us_per_change,
                run.drain_per_second.map_or(String::new(), |rate| format!(
                    ", {} events delivered, {rate:.0}/s while draining, the last {:.1} s after the load",
                    run.events,
                    run.lag_secs.unwrap_or(0.0)
                )),
            );
            match (subscribed, dispatching) {
                (false, _) => without.push(run),
                (true, false) => outbox_only.push(run),
                (true, true) => with.push(run),
            }
        }
    }
    let rate = |runs: &[Run]| median(&mut runs.iter().map(|r| r.per_second).collect::<Vec<_>>());
    let cpu = |runs: &[Run]| median(&mut runs.iter().map(|r| r.cpu_us_per_change).collect::<Vec<_>>());
    let (plain, outbox, hooked) = (rate(&without), rate(&outbox_only), rate(&with));
    let (plain_cpu, outbox_cpu, hooked_cpu) = (cpu(&without), cpu(&outbox_only), cpu(&with));
    let drain = median(&mut with.iter().filter_map(|r| r.drain_per_second).collect::<Vec<_>>());
    let lag = median(&mut with.iter().filter_map(|r| r.lag_secs).collect::<Vec<_>>());
    println!();
    println!(
        "{}, {seconds} s per run, {connections} clients, {members} members, POST /api/xp/add amount 1",
        backend.name()
    );
    println!();
    println!("| | XP changes/s (median of 3) | ratio | server CPU per change (median) | ratio |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!("| no webhook endpoint | {plain:.0} | 1.00 | {plain_cpu:.1} µs | 1.00 |");
    println!(
        "| one endpoint subscribed, this process not dispatching (the outbox alone) | {outbox:.0} | {:.2} | {outbox_cpu:.1} µs | {:.2} |",
        outbox / plain.max(f64::EPSILON),
        outbox_cpu / plain_cpu.max(f64::EPSILON)
    );
    println!(
        "| one endpoint subscribed to `xp.changed`, delivering | {hooked:.0} | {:.2} | {hooked_cpu:.1} µs | {:.2} |",
        hooked / plain.max(f64::EPSILON),
        hooked_cpu / plain_cpu.max(f64::EPSILON)
    );
    println!();
    println!("Events delivered per second while draining a run's queue (median of 3): {drain:.0}");
    println!("The last event of a run delivered after the load ended (median of 3): {lag:.1} s");
    Ok(())
}

async fn one_run(
    base: &str,
    pid: &str,
    key: &str,
    receiver: &Receiver,
    (subscribed, dispatching): (bool, bool),
    (seconds, connections, members): (u64, usize, u64),
) -> anyhow::Result<Run> {
    let client = reqwest::Client::new();
    if subscribed {
        let made = client
            .post(format!("{base}/api/webhooks"))
            .bearer_auth(key)
            .json(&json!({"serverId": SERVER_ID, "url": receiver.url, "events": ["xp.changed"]}))
            .send()
            .await?;
        ensure!(made.status().as_u16() == 201, "the endpoint was refused: {}", made.text().await?);
    }
    let before = receiver.count();
    let cpu_before = crate::bench::cpu_seconds(pid);
    let (requests, errors, _, elapsed, total) = crate::bench::load(base, key, seconds, connections, members).await?;
    let cpu_us = |cpu_after: f64| (cpu_after - cpu_before) * 1e6 / (requests.max(1) as f64);
    ensure!(errors == 0, "{errors} XP requests failed");
    ensure!(total == i64::try_from(requests)?, "updates were lost: {requests} answered, {total} kept");
    let per_second = requests as f64 / elapsed.as_secs_f64();
    if !subscribed || !dispatching {
        // (With the load's hundred reads of the balances at its end: nothing beside its changes.)
        let cpu_us_per_change = cpu_us(crate::bench::cpu_seconds(pid));
        tokio::time::sleep(Duration::from_secs(2)).await;
        ensure!(receiver.count() == before, "events were sent without an endpoint or a dispatcher");
        return Ok(Run { per_second, cpu_us_per_change, events: 0, drain_per_second: None, lag_secs: None });
    }
    let (drain_from, started) = (receiver.count() - before, Instant::now());
    while receiver.count() - before < requests {
        if started.elapsed() > DRAIN_LIMIT {
            bail!("{} of {requests} events delivered after {DRAIN_LIMIT:?}", receiver.count() - before);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (drained, lag_secs) = (requests - drain_from, started.elapsed().as_secs_f64());
    let drain_per_second = drained as f64 / lag_secs;
    let cpu_us_per_change = cpu_us(crate::bench::cpu_seconds(pid));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = receiver.count() - before;
    ensure!(delivered == requests, "{delivered} deliveries for {requests} events: some were sent twice");
    Ok(Run {
        per_second,
        cpu_us_per_change,
        events: requests,
        drain_per_second: Some(drain_per_second),
        lag_secs: Some(lag_secs),
    })
}
