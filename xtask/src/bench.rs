//! `cargo xtask bench [--seconds N] [--connections N] [--members N]`: starts the release server on
//! each available backend and drives XP mutations over HTTP from concurrent clients on this machine,
//! then reports throughput, latency percentiles, lost updates and the server's peak RSS.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::{cargo, postgres_for_tests, root, run as run_command};

const SERVER_ID: &str = "123456789012345678";

struct Options {
    seconds: u64,
    connections: usize,
    members: u64,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut opts = Options { seconds: 10, connections: 64, members: 100 };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => opts.seconds = value.parse()?,
            "--connections" => opts.connections = value.parse()?,
            "--members" => opts.members = value.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(opts)
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
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let opts = options(args)?;
    run_command(cargo().args(["build", "--release", "--quiet", "-p", "garrison"]))?;
    let binary = target_dir().join("release/garrison");
    let scratch = std::env::temp_dir().join(format!("garrison-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;

    let mut reports =
        vec![bench_backend("SQLite", &binary, &scratch, &format!("sqlite://{}/bench.db", scratch.display()), &opts)?];
    match postgres_for_tests() {
        Some(server) => {
            let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b).to_owned();
            let name = format!("garrison_bench_{}", std::process::id());
            run_command(Command::new("psql").args([&server, "-qc", &format!("CREATE DATABASE {name}")]))?;
            let result = bench_backend("PostgreSQL", &binary, &scratch, &format!("{base}/{name}"), &opts);
            run_command(Command::new("psql").args([&server, "-qc", &format!("DROP DATABASE {name} WITH (FORCE)")]))?;
            reports.push(result?);
        }
        None => println!("PostgreSQL: skipped (no server answers; set GARRISON_TEST_POSTGRES_URL)"),
    }
    let _ = std::fs::remove_dir_all(&scratch);

    println!();
    println!(
        "{} s per backend, {} concurrent clients, {} members, POST /api/xp/add amount 1",
        opts.seconds, opts.connections, opts.members
    );
    println!();
    println!(
        "| backend | requests | errors | XP mutations/s | p50 latency | p99 latency | lost updates | server peak RSS |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &reports {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.1} MB |",
            r.backend, r.requests, r.errors, r.per_second, r.p50_ms, r.p99_ms, r.lost, r.peak_rss_mb
        );
    }
    if reports.iter().any(|r| r.lost != 0 || r.errors != 0) {
        bail!("updates were lost or requests failed");
    }
    Ok(())
}

fn garrison(binary: &PathBuf, scratch: &PathBuf, url: &str) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(scratch)
        .env("GARRISON_DATABASE_URL", url)
        .env("GARRISON_BIND", "127.0.0.1:0")
        .env("GARRISON_LOG", "warn,garrison::cli=info");
    cmd
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_mb(pid: u32) -> f64 {
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
    binary: &PathBuf,
    scratch: &PathBuf,
    url: &str,
    opts: &Options,
) -> anyhow::Result<Report> {
    let out =
        garrison(binary, scratch, url).args(["apikey", "create", "--server", SERVER_ID, "--name", "bench"]).output()?;
    if !out.status.success() {
        bail!("apikey create failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let key = String::from_utf8(out.stdout)?.trim().to_owned();

    let mut child = garrison(binary, scratch, url).arg("serve").stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let server = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let _ = tx
                    .send(line[at + "listening on ".len()..].split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).context("the server did not start")?;
    println!("{backend}: server at {base}, running {} s with {} clients", opts.seconds, opts.connections);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (requests, errors, mut latencies, elapsed, total_xp) = runtime.block_on(load(&base, &key, opts))?;
    let peak_rss_mb = peak_rss_mb(server.0.id());
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
    })
}

async fn load(base: &str, key: &str, opts: &Options) -> anyhow::Result<(u64, u64, Vec<u32>, Duration, i64)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(opts.connections).build()?;
    let deadline = Instant::now() + Duration::from_secs(opts.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..opts.connections {
        let client = client.clone();
        let url = format!("{base}/api/xp/add");
        let key = key.to_owned();
        let members = opts.members;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut n = worker as u64;
            while Instant::now() < deadline {
                n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let body = json!({"serverId": SERVER_ID, "robloxId": 1 + (n >> 33) % members, "amount": 1});
                let sent = Instant::now();
                let ok = matches!(client.post(&url).bearer_auth(&key).json(&body).send().await, Ok(r) if r.status().is_success());
                if ok {
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    let mut total = 0i64;
    for member in 1..=opts.members {
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
