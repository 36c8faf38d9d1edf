//! Rate-limit headers, per-route buckets, 429 answers and the global limit.

mod common;

use std::time::Duration;

use common::{Client, assert_spec_clean, start};
use serde_json::json;

#[test]
fn every_bot_response_carries_bucket_headers() {
    let (sim, client, f) = start();
    for response in [client.get("/users/@me"), client.get(&format!("/guilds/{}/bans/1", f.guild))] {
        for header in [
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-RateLimit-Reset-After",
            "X-RateLimit-Bucket",
        ] {
            assert!(response.header(header).is_some(), "{header} missing on a {}", response.status);
        }
    }
    let first = client.get("/users/@me");
    let second = client.get("/users/@me");
    assert_eq!(first.header("X-RateLimit-Bucket"), second.header("X-RateLimit-Bucket"), "buckets are stable");
    assert_ne!(
        first.header("X-RateLimit-Bucket"),
        client.get(&format!("/guilds/{}", f.guild)).header("X-RateLimit-Bucket")
    );
    let reset: f64 = first.header("X-RateLimit-Reset").and_then(|v| v.parse().ok()).expect("epoch seconds");
    assert!(reset > 1.7e9, "X-RateLimit-Reset is epoch seconds: {reset}");
    assert_spec_clean(&sim);
}

#[test]
fn a_route_limit_answers_429_then_recovers_after_the_window() {
    let (sim, client, f) = start();
    let route = "/guilds/{guild_id}/members/{user_id}";
    sim.set_rate_limit("PATCH", route, 2, Duration::from_millis(600));
    let path = format!("/guilds/{}/members/{}", f.guild, f.member);

    let first = client.patch(&path, &json!({"nick": "one"}));
    assert_eq!(first.status, 200);
    assert_eq!((first.header("X-RateLimit-Limit"), first.header("X-RateLimit-Remaining")), (Some("2"), Some("1")));
    assert_eq!(first.header("X-RateLimit-Scope"), None, "Discord sends the scope only with a 429");
    let reset_after: f64 = first.header("X-RateLimit-Reset-After").and_then(|v| v.parse().ok()).expect("seconds");
    assert!(reset_after > 0.0 && reset_after <= 0.6);
    assert_eq!(client.patch(&path, &json!({"nick": "two"})).header("X-RateLimit-Remaining"), Some("0"));

    let limited = client.patch(&path, &json!({"nick": "three"}));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("X-RateLimit-Scope"), Some("user"));
    assert_eq!(limited.header("Retry-After"), Some("1"));
    let body = limited.json();
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry_after = body["retry_after"].as_f64().expect("seconds");
    assert!(retry_after > 0.0 && retry_after <= 0.6, "{retry_after}");
    assert_eq!(
        sim.world(|w| w.member(f.guild, f.member).and_then(|m| m.nick)).as_deref(),
        Some("two"),
        "no state change"
    );

    // Other routes, and the same route on another guild, have their own buckets.
    assert_eq!(client.get(&path).status, 200);
    let other_guild = sim.world(|w| {
        let guild = w.add_guild("Other", f.owner);
        w.add_member(guild, f.bot.user_id, &[]);
        guild
    });
    assert_eq!(
        client.patch(&format!("/guilds/{other_guild}/members/{}", f.bot.user_id), &json!({"nick": "me"})).status,
        200
    );

    std::thread::sleep(Duration::from_secs_f64(retry_after + 0.05));
    let recovered = client.patch(&path, &json!({"nick": "three"}));
    assert_eq!(recovered.status, 200);
    assert_eq!(recovered.header("X-RateLimit-Remaining"), Some("1"));
    assert_eq!(sim.calls("PATCH", route), 5);
    assert_spec_clean(&sim);
}

#[test]
fn buckets_are_per_token() {
    let (sim, client, f) = start();
    let other = sim.world(|w| {
        let bot = w.add_bot("Other");
        w.add_member(f.guild, bot.user_id, &[]);
        bot
    });
    sim.set_rate_limit("GET", "/guilds/{guild_id}", 1, Duration::from_secs(60));
    assert_eq!(client.get(&format!("/guilds/{}", f.guild)).status, 200);
    assert_eq!(client.get(&format!("/guilds/{}", f.guild)).status, 429);
    assert_eq!(Client::new(&sim, &other.token).get(&format!("/guilds/{}", f.guild)).status, 200);
}

#[test]
fn the_global_limit_applies_across_routes() {
    let (sim, client, f) = start();
    sim.set_global_rate_limit(Some(3));
    let started = std::time::Instant::now();
    assert_eq!(client.get("/users/@me").status, 200);
    assert_eq!(client.get(&format!("/guilds/{}", f.guild)).status, 200);
    assert_eq!(client.get(&format!("/guilds/{}/roles", f.guild)).status, 200);
    let limited = client.get(&format!("/guilds/{}/channels", f.guild));
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(limited.status, 429);
        assert_eq!(limited.header("X-RateLimit-Global"), Some("true"));
        assert_eq!(limited.header("X-RateLimit-Scope"), Some("global"));
        assert!(limited.header("Retry-After").is_some());
        assert_eq!(limited.json()["global"], true);
        assert!(limited.json()["retry_after"].as_f64().is_some_and(|s| s > 0.0 && s <= 1.0));
    }
    std::thread::sleep(Duration::from_millis(1050));
    assert_eq!(client.get("/users/@me").status, 200);
    sim.set_global_rate_limit(None);
    for _ in 0..10 {
        assert_eq!(client.get("/users/@me").status, 200);
    }
    assert_spec_clean(&sim);
}
