//! `cargo xtask bench --only backup`: the release server against the release Discord simulator (a
//! separate process, spec checks off, its Discord-like rate limits on: channel creation 5 per 5 s per
//! guild) with its realistic guilds (250 roles, 500 channels with overwrites, AutoMod, onboarding, 20
//! emojis, 5 stickers, 50 bans), measuring
//! - `POST /api/Backup` of a realistic guild: the first backup, then updates; the JSON's size and the
//!   server's peak memory;
//! - restores, each with its wall time and the write calls the simulator served (429-answered retries
//!   included): reconcile of the guild after ten changes (the target: at most 20 writes), wipe
//!   of the backup into the second realistic guild, and reconcile into an empty guild (everything
//!   created).

use std::{path::Path, time::Instant};

use anyhow::{Context, bail, ensure};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::bench::{launch, peak_rss_mb};

/// Backup updates timed after the first backup.
const UPDATES: usize = 5;

struct Bench {
    client: Client,
    garrison: String,
    discord: String,
    token: String,
}

impl Bench {
    async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<(u16, Value)> {
        let mut request = self.client.request(method, format!("{}{path}", self.garrison));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "bytes": bytes.len() }))))
    }

    /// `POST /api/Backup` of `guild` (an update with `key`); answers its time and body.
    async fn backup(&self, guild: &str, key: Option<&str>) -> anyhow::Result<(f64, Value)> {
        let mut headers = vec![("X-Bot-Token", self.token.as_str()), ("X-Guild-Id", guild)];
        if let Some(key) = key {
            headers.push(("X-Auth-Key", key));
        }
        let started = Instant::now();
        let (status, body) = self.call(Method::POST, "/api/Backup", &headers).await?;
        ensure!(status == 200, "POST /api/Backup answered {status}: {body}");
        Ok((started.elapsed().as_secs_f64(), body))
    }

    /// Write calls the simulator has served so far (every route but GETs).
    async fn writes(&self) -> anyhow::Result<u64> {
        let calls: Value = self.client.get(format!("{}/_simulator/calls", self.discord)).send().await?.json().await?;
        Ok(calls
            .as_object()
            .context("calls are an object")?
            .iter()
            .filter(|(route, _)| !route.starts_with("GET "))
            .filter_map(|(_, n)| n.as_u64())
            .sum())
    }

    /// A change made straight to the simulator as the bot, behind Garrison's back.
    async fn discord(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<()> {
        let mut request = self
            .client
            .request(method, format!("{}/api/v10{path}", self.discord))
            .header("authorization", format!("Bot {}", self.token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        ensure!(response.status().is_success(), "{path}: {}", response.status());
        Ok(())
    }

    /// A restore: its time, the writes it made and its report.
    async fn restore(&self, view: &str, key: &str, query: &str, target: &str) -> anyhow::Result<Restored> {
        let before = self.writes().await?;
        let started = Instant::now();
        let headers = [("X-Auth-Key", key), ("X-Bot-Token", self.token.as_str()), ("X-Guild-Id", target)];
        let (status, body) =
            self.call(Method::POST, &format!("/api/Backup/restore/{view}?force=true{query}"), &headers).await?;
        ensure!(status == 200, "the restore answered {status}: {body}");
        let seconds = started.elapsed().as_secs_f64();
        let writes = self.writes().await? - before;
        let report: Vec<String> =
            body["report"].as_array().into_iter().flatten().filter_map(|l| l.as_str().map(str::to_owned)).collect();
        if let Some(failed) = report.iter().find(|l| l.starts_with("Failed") || l.starts_with("Stopped")) {
            bail!("the restore failed: {failed}\n{report:#?}");
        }
        Ok(Restored { seconds, writes, report })
    }
}

struct Restored {
    seconds: f64,
    writes: u64,
    report: Vec<String>,
}

fn ids(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

pub fn run(garrison_binary: &Path, sim_binary: &Path, scratch: &Path) -> anyhow::Result<()> {
    let (_sim, discord, _) = crate::bench_discord::start_sim(sim_binary, scratch, &["--realistic".to_owned()])?;
    let file: Value = serde_json::from_str(&std::fs::read_to_string(scratch.join("discord-world.json"))?)?;
    let token = file["tokens"][0].as_str().context("a bot token")?.to_owned();
    let realistic = &file["realistic"];
    let (first, second) = (&realistic["first"], &realistic["second"]);
    let guild = first["guild"].as_str().context("the realistic guild")?.to_owned();
    let other = second["guild"].as_str().context("the second realistic guild")?.to_owned();
    let empty = realistic["empty"].as_str().context("the empty guild")?.to_owned();
    let db = format!("sqlite://{}/backup-bench.db", scratch.display());
    let cdn = format!("{discord}{}", garrison_discord_sim::CDN_PATH);
    let server = launch(garrison_binary, scratch, &db)
        .env("GARRISON_DISCORD_API_URL", &discord)
        .env("GARRISON_DISCORD_CDN_URL", &cdn)
        // One request is one whole restore, however long Discord's rate limits make it.
        .env("GARRISON_BACKUP_ANSWER_WITHIN_MS", "3600000")
        .start()?;
    let pid = server.pid();
    let client = Client::builder().timeout(std::time::Duration::from_secs(3600)).build()?;
    let bench = Bench { client, garrison: server.base().to_owned(), discord, token };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let (first_seconds, made) = bench.backup(&guild, None).await?;
        let view = made["viewId"].as_str().context("viewId")?.to_owned();
        let key = made["authKey"].as_str().context("authKey")?.to_owned();
        let mut updates = Vec::new();
        for _ in 0..UPDATES {
            updates.push(bench.backup(&guild, Some(&key)).await?.0);
        }
        updates.sort_by(f64::total_cmp);
        let (_, json) = bench.call(Method::GET, &format!("/api/Backup/view/{view}"), &[("X-Auth-Key", &key)]).await?;
        let bytes = json.to_string().len();
        println!("== POST /api/Backup of the realistic guild (250 roles, 500 channels, 20 emojis, 5 stickers, 50 bans)");
        println!("| first backup (images downloaded) | update, median of {UPDATES} | slowest update | JSON | fileSize | server peak RSS |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| {:.2} s | {:.2} s | {:.2} s | {:.0} KB | {} | {:.1} MB |",
            first_seconds,
            updates[updates.len() / 2],
            updates.last().copied().unwrap_or(0.0),
            bytes as f64 / 1000.0,
            made["fileSize"].as_str().unwrap_or("?"),
            peak_rss_mb(pid)
        );

        // Ten changes behind Garrison's back, as the black-box test makes them.
        let (channels, roles) = (ids(&first["channels"]), ids(&first["roles"]));
        let (emojis, rules) = (ids(&first["emojis"]), ids(&first["automodRules"]));
        for channel in &channels[386..389] {
            bench.discord(Method::DELETE, &format!("/channels/{channel}"), None).await?;
        }
        for role in &roles[10..12] {
            bench.discord(Method::PATCH, &format!("/guilds/{guild}/roles/{role}"), Some(json!({"name": "renamed"}))).await?;
        }
        let vandalised = json!({"topic": "vandalised", "nsfw": true});
        bench.discord(Method::PATCH, &format!("/channels/{}", channels[52]), Some(vandalised)).await?;
        bench.discord(Method::DELETE, &format!("/guilds/{guild}/emojis/{}", emojis[0]), None).await?;
        let rule = format!("/guilds/{guild}/auto-moderation/rules/{}", rules[0]);
        bench.discord(Method::PATCH, &rule, Some(json!({"name": "weakened"}))).await?;
        bench.discord(Method::POST, &format!("/guilds/{guild}/channels"), Some(json!({"name": "spam", "type": 0}))).await?;

        let reconcile = bench.restore(&view, &key, "", &guild).await?;
        let wipe = bench.restore(&view, &key, "&mode=wipe", &other).await?;
        let into_empty = bench.restore(&view, &key, "", &empty).await?;
        println!();
        println!("== POST /api/Backup/restore under the simulator's rate limits (channel creation: 5 per 5 s per guild)");
        println!("| restore | time | write calls (429 retries included) | report |");
        println!("| --- | ---: | ---: | --- |");
        for (name, r) in [
            ("reconcile, the guild after 10 changes", &reconcile),
            ("wipe, into the second realistic guild", &wipe),
            ("reconcile, into an empty guild", &into_empty),
        ] {
            let steps: Vec<&str> = r.report.iter().map(String::as_str).filter(|l| l.contains("restored")).collect();
            println!("| {name} | {:.1} s | {} | {} |", r.seconds, r.writes, steps.join("; "));
        }
        println!();
        println!(
            "wipe / reconcile of 10 changes: {:.0}x the writes, {:.0}x the time; the target of at most 20 writes {}",
            wipe.writes as f64 / reconcile.writes.max(1) as f64,
            wipe.seconds / reconcile.seconds.max(f64::EPSILON),
            if reconcile.writes <= 20 { "holds" } else { "does NOT hold" }
        );
        ensure!(reconcile.writes <= 20, "a reconcile of ten changes made {} writes", reconcile.writes);
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}
