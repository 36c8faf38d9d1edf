//! Abuse resistance towards Discord, as a client and an operator see it. Discord bans an IP address
//! that sends 10,000 invalid requests (401, 403, 429) in 10 minutes, and every tenant shares
//! Garrison's address: tokens that cannot be tokens never leave Garrison, refused ones are remembered,
//! and a budget of refusals stops calls well before Discord's threshold. 429s without
//! `X-RateLimit-Scope` (Cloudflare's) are waited out a few times, never re-sent at once, and work
//! stops when its caller has gone.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use reqwest::Method;
use serde_json::json;

use crate::{harness::expect, simulated::Discord};

/// A route that needs nothing but a bot token and a guild.
fn info(s: &Discord) -> String {
    format!("/api/DiscordBooster/privileges/{}", s.demo.guild)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_junk_tokens_barely_reach_discord_and_valid_tokens_keep_working() {
    let s = Arc::new(Discord::start(&[]));
    let path = info(&s);
    let valid = vec![("Bot-Token", s.token().to_owned())];
    expect(s.call(Method::GET, &path, &valid, None).await, 200);
    let checks_before = s.sim.calls("GET", "/users/@me");

    // 18,000 that cannot be bot tokens, 2,000 shaped like bot tokens that no bot has.
    let mut junk: Vec<String> = (0..18_000)
        .map(|i| match i % 4 {
            0 => format!("junk-{i}"),
            1 => format!("Bot {i}.{i}.{i}"),
            2 => format!("MTIz.abcdef.{}", "x".repeat(27)),
            _ => "A".repeat(i % 200 + 1),
        })
        .collect();
    let shaped: Vec<String> = (0..2_000).map(|_| s.sim.world(|w| w.unknown_bot_token())).collect();
    junk.extend(shaped.iter().cloned());
    let started = Instant::now();
    let statuses: Vec<(usize, u16, String, bool)> = stream::iter(junk.into_iter().enumerate())
        .map(|(i, token)| {
            let (s, path) = (Arc::clone(&s), path.clone());
            async move {
                let reply = s.call(Method::GET, &path, &[("Bot-Token", token)], None).await;
                let retry = reply.headers.contains_key("retry-after");
                (i, reply.status.as_u16(), reply.error().to_owned(), retry)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let checks = s.sim.calls("GET", "/users/@me") - checks_before;
    eprintln!("20,000 junk tokens in {elapsed:?}: {checks} token checks reached the simulator");
    assert!(checks < 1_000, "{checks} junk tokens reached Discord");
    assert!(s.sim.total_calls() < 1_000 + 10, "{} calls reached Discord", s.sim.total_calls());

    let mut paused = 0;
    for (i, status, error, retry) in &statuses {
        if *i < 18_000 {
            assert_eq!((*status, error.as_str()), (401, "Bot token invalid."), "malformed token {i}");
        } else if *status == 503 {
            assert!(*retry, "503 without Retry-After");
            assert!(error.contains("Discord bans"), "{error}");
            paused += 1;
        } else {
            assert_eq!((*status, error.as_str()), (401, "Bot token invalid."), "shaped token {i}");
        }
    }
    assert!(paused > 0, "the refusal budget never stopped the shaped junk tokens");

    // The bot Discord accepted still works, and a refused token asked again costs nothing.
    expect(s.call(Method::GET, &path, &valid, None).await, 200);
    let calls = s.sim.total_calls();
    let again = s.call(Method::GET, &path, &[("Bot-Token", shaped[0].clone())], None).await;
    assert!(matches!(again.status.as_u16(), 401 | 503), "{}", again.status);
    assert_eq!(s.sim.total_calls(), calls, "a remembered refusal was asked again");
    s.assert_faithful();
}

#[tokio::test]
async fn an_interaction_token_that_cannot_be_one_never_reaches_discord() {
    let s = Discord::start(&[]);
    let app = s.demo.bot.user_id.to_string();
    let body = json!({"targetContentSubstring": "a", "newContent": "b"});
    for token in ["short", "aW50ZXJhY3Rpb246/../../users/@me", &"a".repeat(501)] {
        let headers = vec![("X-Application-Id", app.clone()), ("Interaction-Token", token.to_owned())];
        let refused =
            expect(s.call(Method::PATCH, "/api/edit/smart-edit/ephemeral", &headers, Some(body.clone())).await, 400);
        assert_eq!(refused.error(), "Interaction-Token: not an interaction token");
    }
    assert_eq!(s.sim.total_calls(), 0);
    s.assert_faithful();
}

#[tokio::test]
async fn scopeless_429s_are_waited_out_briefly_and_the_caller_answered() {
    let s = Discord::start(&[]);
    s.sim.set_scopeless_429s(true);
    s.sim.set_rate_limit("GET", "/guilds/{guild_id}/roles", 0, Duration::from_secs(1));
    let path = format!("/api/HighestRole?serverid={}&userid={}", s.demo.guild, s.demo.moderator);
    let token = [("Discord-Token", s.token().to_owned())];
    let started = Instant::now();
    let limited = expect(s.call(Method::GET, &path, &token, None).await, 429);
    let elapsed = started.elapsed();
    assert!(limited.headers.contains_key("retry-after"));
    assert!(elapsed < Duration::from_secs(6), "the caller waited {elapsed:?}");
    let sent = s.sim.calls("GET", "/guilds/{guild_id}/roles");
    assert_eq!(sent, 3, "a few attempts, each after its Retry-After");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(s.sim.calls("GET", "/guilds/{guild_id}/roles"), sent, "nothing was re-sent afterwards");
    s.assert_faithful();
}

#[tokio::test]
async fn a_caller_that_disconnects_takes_its_retries_with_it() {
    let s = Discord::start(&[("GARRISON_DISCORD_WAIT_BUDGET_MS", "30000")]);
    s.sim.set_scopeless_429s(true);
    s.sim.set_rate_limit("GET", "/guilds/{guild_id}/roles", 0, Duration::from_secs(2));
    let url = format!("{}/api/HighestRole?serverid={}&userid={}", s.server.base, s.demo.guild, s.demo.moderator);
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(700)).build().expect("client");
    let gone = impatient.get(&url).header("Discord-Token", s.token()).send().await;
    assert!(gone.is_err_and(|e| e.is_timeout()), "the client gave up mid-request");
    let at_disconnect = s.sim.calls("GET", "/guilds/{guild_id}/roles");
    assert_eq!(at_disconnect, 1, "the first attempt was refused with Retry-After: 2");
    // Had the work gone on, the second attempt would have left at 2 s and the third at 4 s.
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(s.sim.calls("GET", "/guilds/{guild_id}/roles"), at_disconnect, "retries went on without a caller");
    s.assert_faithful();
}

#[tokio::test]
async fn a_refusal_budget_at_discords_threshold_is_refused_at_startup() {
    for bad in ["0", "10000"] {
        let db = crate::harness::database(crate::harness::Backend::Sqlite).expect("SQLite");
        let dir = tempfile::tempdir().expect("dir");
        let out = crate::harness::command(dir.path(), &db)
            .args(["config", "check"])
            .env("GARRISON_DISCORD_REFUSAL_LIMIT", bad)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "GARRISON_DISCORD_REFUSAL_LIMIT={bad} was accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("GARRISON_DISCORD_REFUSAL_LIMIT"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_the_server_while_requests_wait_on_rate_limits_panics_nothing() {
    // Several workers: a limiter whose actor lived on one worker's runtime died with it at shutdown,
    // and twilight panicked in the requests still waiting on it in the others.
    let mut s = Discord::start(&[("GARRISON_DISCORD_WAIT_BUDGET_MS", "20000"), ("GARRISON_WORKERS", "4")]);
    // One request per 4 s on the roles route: the next requests wait for the bucket to reset.
    s.sim.set_rate_limit("GET", "/guilds/{guild_id}/roles", 1, Duration::from_secs(4));
    let path = format!("/api/HighestRole?serverid={}&userid={}", s.demo.guild, s.demo.moderator);
    expect(s.call(Method::GET, &path, &[("Discord-Token", s.token().to_owned())], None).await, 200);
    let url = format!("{}{path}", s.server.base);
    let waiting: Vec<_> = (0..12)
        .map(|_| {
            let (client, url, token) = (s.server.client().clone(), url.clone(), s.token().to_owned());
            tokio::spawn(async move { client.get(url).header("Discord-Token", token).send().await.map(|r| r.status()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let status = s.server.terminate(Duration::from_secs(40));
    assert!(status.is_some(), "the server did not stop within 40 s");
    for task in waiting {
        let _ = task.await;
    }
    let logs = s.server.logs();
    assert!(!logs.contains("panicked"), "a task panicked at shutdown:\n{logs}");
}
