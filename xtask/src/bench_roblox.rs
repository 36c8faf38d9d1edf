//! `cargo xtask bench --only roblox`: the release server against the release Roblox simulator (a
//! separate process, spec checks off), on SQLite, measuring
//! - rank look-ups per second through Garrison with a warm cache (`GET /api/rank`, 32 keep-alive
//!   connections, the demo group's members in turn);
//! - the latency Garrison adds to a promotion: the median of `POST /api/group/promote` (and demote)
//!   minus the median of the same Roblox calls made directly (read the membership, then `PATCH` it),
//!   one request at a time. Roblox allows a key 300 membership reads and 300 updates a minute, and
//!   Garrison keeps to that, so each side makes 100 of each, alternating.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::Arc,
    time::Instant,
};

use anyhow::{Context, bail};

use crate::bench::{launch, timed};
use crate::bench_discord::{Sim, connect, keep_busy, percentile, request};

const SERVER_ID: &str = "123456789012345678";

/// What the simulator prints of its demo world.
struct Demo {
    base: String,
    group: String,
    write_key: String,
    captain: String,
    corporal: String,
    captain_role: String,
    corporal_role: String,
    users: Vec<String>,
}

fn after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.strip_prefix(label).map(str::trim)
}

fn start_sim(binary: &Path) -> anyhow::Result<(Sim, Demo)> {
    let mut child = Command::new(binary)
        .args(["--port", "0", "--no-spec-checks"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start the Roblox simulator")?;
    let stdout = child.stdout.take().context("stdout")?;
    let sim = Sim(child);
    let mut fields = std::collections::HashMap::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if line.starts_with("Ctrl-C") {
            break;
        }
        for label in [
            "Simulated Roblox web APIs at",
            "Group",
            "Write key",
            "Roles",
            "Captain / Corp.",
            "Members",
            "Admin / Major",
        ] {
            if let Some(rest) = after(&line, label) {
                fields.entry(label).or_insert_with(|| rest.to_owned());
            }
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let field = |label: &str| fields.get(label).cloned().with_context(|| format!("the simulator printed no {label:?}"));
    let first = |text: String| text.split_whitespace().next().unwrap_or_default().to_owned();
    let roles = field("Roles")?;
    let role = |name: &str| -> anyhow::Result<String> {
        let words: Vec<&str> = roles.split_whitespace().collect();
        let at = words.iter().position(|w| *w == name).context("role")?;
        Ok(words.get(at + 1).context("role id")?.to_owned().to_owned())
    };
    let (captain, corporal) =
        field("Captain / Corp.")?.split_once(" / ").map(|(a, b)| (a.to_owned(), b.to_owned())).context("ids")?;
    let (admin, major) =
        field("Admin / Major")?.split_once(" / ").map(|(a, b)| (a.to_owned(), b.to_owned())).context("ids")?;
    let members: Vec<String> =
        field("Members")?.trim_matches(|c| c == '[' || c == ']').split(", ").map(str::to_owned).collect();
    let mut users = vec![captain.clone(), corporal.clone(), admin, major];
    users.extend(members);
    let demo = Demo {
        base: first(field("Simulated Roblox web APIs at")?),
        group: first(field("Group")?),
        write_key: first(field("Write key")?),
        captain_role: role("captain")?,
        corporal_role: role("corporal")?,
        captain,
        corporal,
        users,
    };
    Ok((sim, demo))
}

async fn rank_load(
    base: &str,
    key: &str,
    users: Arc<Vec<String>>,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<(f64, f64, u64)> {
    let (address, key) = (base.to_owned(), format!("Bearer {key}"));
    keep_busy(base, connections, seconds, move |n| {
        let path = format!("/api/rank?serverId={SERVER_ID}&robloxId={}", users[n % users.len()]);
        request("GET", &address, &path, &[("authorization", key.as_str())], "")
    })
    .await
}

/// Promotes and demotes the corporal through Garrison, `n` of each, one at a time.
async fn steps_through_garrison(base: &str, key: &str, demo: &Demo, n: usize) -> anyhow::Result<Vec<u32>> {
    let mut sender = connect(base).await?;
    let auth = format!("Bearer {key}");
    let body = format!(r#"{{"serverId":"{SERVER_ID}","robloxId":"{}"}}"#, demo.corporal);
    let mut latencies = Vec::new();
    for i in 0..2 * n {
        let path = if i % 2 == 0 { "/api/group/promote" } else { "/api/group/demote" };
        match timed(&mut sender, request("POST", base, path, &[("authorization", auth.as_str())], &body)?).await? {
            Some(micros) => latencies.push(micros),
            None => bail!("a promotion through Garrison failed"),
        }
    }
    Ok(latencies)
}

/// The same Roblox calls made directly: read the captain's membership, then give them the next role.
async fn steps_direct(demo: &Demo, n: usize) -> anyhow::Result<Vec<u32>> {
    let mut sender = connect(&demo.base).await?;
    let (g, user) = (&demo.group, &demo.captain);
    let headers = [("x-api-key", demo.write_key.as_str())];
    let filter = format!("user%20%3D%3D%20%27users%2F{user}%27");
    let mut latencies = Vec::new();
    for i in 0..2 * n {
        let role = if i % 2 == 0 { &demo.corporal_role } else { &demo.captain_role };
        let started = Instant::now();
        let read = format!("/cloud/v2/groups/{g}/memberships?maxPageSize=1&filter={filter}");
        timed(&mut sender, request("GET", &demo.base, &read, &headers, "")?).await?.context("membership read")?;
        let body = format!(r#"{{"role":"groups/{g}/roles/{role}"}}"#);
        let patch = format!("/cloud/v2/groups/{g}/memberships/{user}");
        timed(&mut sender, request("PATCH", &demo.base, &patch, &headers, &body)?)
            .await?
            .context("membership update")?;
        latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    Ok(latencies)
}

pub fn run(garrison_binary: &Path, sim_binary: &Path, scratch: &Path, seconds: u64) -> anyhow::Result<()> {
    let (_sim, demo) = start_sim(sim_binary)?;
    let db = format!("sqlite://{}/roblox-bench.db", scratch.display());
    let launch = launch(garrison_binary, scratch, &db)
        .env("GARRISON_ROBLOX_API_URL", &demo.base)
        .env("GARRISON_ROBLOX_USERS_URL", &demo.base);
    let out = launch.command().args(["apikey", "create", "--server", SERVER_ID, "--name", "bench"]).output()?;
    if !out.status.success() {
        bail!("apikey create failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let key = String::from_utf8(out.stdout)?.trim().to_owned();
    let server = launch.start()?;
    let base = server.base().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let mut sender = connect(&base).await?;
        let body =
            format!(r#"{{"serverId":"{SERVER_ID}","groupId":"{}","openCloudKey":"{}"}}"#, demo.group, demo.write_key);
        let auth = format!("Bearer {key}");
        timed(&mut sender, request("PUT", &base, "/api/server/roblox", &[("authorization", auth.as_str())], &body)?)
            .await?
            .context("configuring the server's Roblox group failed")?;
        let users = Arc::new(demo.users.clone());
        // Warm the caches (roles, every member's rank), then measure.
        rank_load(&base, &key, Arc::clone(&users), 1, 1).await?;
        let (rps, p50, errors) = rank_load(&base, &key, users, 32, seconds).await?;
        println!("== GET /api/rank with a warm cache, 32 connections, {seconds} s (SQLite)");
        println!("| look-ups/s | p50 latency | errors |");
        println!("| ---: | ---: | ---: |");
        println!("| {rps:.0} | {p50:.2} ms | {errors} |");

        const STEPS: usize = 50;
        let (mut through, mut direct) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            through.extend(steps_through_garrison(&base, &key, &demo, STEPS / 2).await?);
            direct.extend(steps_direct(&demo, STEPS / 2).await?);
        }
        let (g, d) = (percentile(&mut through, 50), percentile(&mut direct, 50));
        println!();
        println!("== a promotion or demotion, one at a time ({} each)", 2 * STEPS);
        println!("| path | median latency | p99 |");
        println!("| --- | ---: | ---: |");
        println!(
            "| the same Roblox calls made directly (read, then PATCH) | {d:.3} ms | {:.3} ms |",
            percentile(&mut direct, 99)
        );
        println!(
            "| POST /api/group/promote or demote through Garrison | {g:.3} ms | {:.3} ms |",
            percentile(&mut through, 99)
        );
        println!("| added by Garrison (medians) | {:.3} ms | |", g - d);
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}
