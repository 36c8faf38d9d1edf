//! Rate limits per key owner and operation, with Roblox's headers; and the failures and latency tests
//! can ask for.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{Client, assert_spec_clean, start};
use garrison_roblox_sim::ApiKey;

#[test]
fn every_open_cloud_answer_carries_the_documents_limit() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    let first = client.get("/cloud/v2/groups/7");
    assert_eq!(first.header("x-ratelimit-limit"), Some("150, 150;w=60"), "Cloud_GetGroup: 150 a minute");
    assert_eq!(first.header("x-ratelimit-remaining"), Some("149"));
    assert_eq!(first.header("x-ratelimit-reset"), Some("60"));
    assert_eq!(client.get("/cloud/v2/groups/7").header("x-ratelimit-remaining"), Some("148"));
    let roles = client.get("/cloud/v2/groups/7/roles");
    assert_eq!(roles.header("x-ratelimit-limit"), Some("300, 300;w=60"), "per operation");
    assert_eq!(roles.header("x-ratelimit-remaining"), Some("299"));
    // Errors after the limiter count and carry the headers too.
    let missing = client.get("/cloud/v2/groups/99");
    missing.assert_error(404, "NOT_FOUND");
    assert_eq!(missing.header("x-ratelimit-remaining"), Some("147"));
    // The legacy API has no documented limit: no headers.
    assert_eq!(Client::anonymous(&sim).get("/v1/users/4").header("x-ratelimit-limit"), None);
    assert_spec_clean(&sim);
}

#[test]
fn over_the_limit_is_429_with_retry_after_until_the_window_ends() {
    let (sim, f) = start();
    sim.set_rate_limit("Cloud_GetGroup", 2, Duration::from_millis(1500));
    let client = Client::new(&sim, f.group_key);
    assert_eq!(client.get("/cloud/v2/groups/7").header("x-ratelimit-limit"), Some("2, 2;w=2"));
    assert_eq!(client.get("/cloud/v2/groups/7").header("x-ratelimit-remaining"), Some("0"));
    let limited = client.get("/cloud/v2/groups/7");
    limited.assert_error(429, "RESOURCE_EXHAUSTED");
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(limited.header("retry-after"), Some("2"));
    assert_eq!(limited.header("x-ratelimit-reset"), Some("2"));
    // Other operations have their own windows.
    assert_eq!(client.get("/cloud/v2/groups/7/roles").status, 200);
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(client.get("/cloud/v2/groups/7").status, 200, "a new window");
    assert_eq!(sim.calls("GET", "/cloud/v2/groups/{group_id}"), 4, "429s are counted as calls");
    assert_spec_clean(&sim);
}

#[test]
fn limits_count_per_key_owner() {
    let (sim, f) = start();
    sim.set_rate_limit("/cloud/v2/groups/{group_id}/memberships", 1, Duration::from_secs(60));
    sim.world_mut(|w| w.add_api_key("second-group-key", ApiKey::for_group(7, &[])));
    Client::new(&sim, f.group_key).get("/cloud/v2/groups/7/memberships");
    // Another key of the same owner (the group) shares the window; another owner has its own.
    Client::new(&sim, "second-group-key").get("/cloud/v2/groups/7/memberships").assert_error(429, "RESOURCE_EXHAUSTED");
    assert_eq!(Client::new(&sim, f.lieutenant_key).get("/cloud/v2/groups/7/memberships").status, 200);
    assert_spec_clean(&sim);
}

#[test]
#[should_panic(expected = "neither an operationId nor a template")]
fn limits_name_operations_of_the_document() {
    let (sim, _) = start();
    sim.set_rate_limit("Cloud_NoSuchThing", 1, Duration::from_secs(1));
}

#[test]
fn failures_on_demand() {
    let (sim, f) = start();
    let client = Client::new(&sim, f.group_key);
    sim.fail_next(2, 503);
    client.get("/cloud/v2/groups/7").assert_error(503, "UNAVAILABLE");
    // The legacy API is not Open Cloud: it does not take a failure.
    assert_eq!(Client::anonymous(&sim).get("/v1/users/4").status, 200);
    Client::anonymous(&sim).get("/cloud/v2/groups/7/roles").assert_error(503, "UNAVAILABLE");
    assert_eq!(client.get("/cloud/v2/groups/7").status, 200);
    sim.fail_next(1, 500);
    client.get("/cloud/v2/users/4").assert_error(500, "INTERNAL");
    assert_eq!(client.get("/cloud/v2/users/4").status, 200);
    assert_spec_clean(&sim);
}

#[test]
fn latency_on_demand() {
    let (sim, f) = start();
    sim.set_latency(Duration::from_millis(400));
    // A client that gives up after 100 ms sees no answer.
    let mut stream = std::net::TcpStream::connect(sim.addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_millis(100))).expect("a timeout");
    std::io::Write::write_all(&mut stream, b"GET /v1/users/4 HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut buffer = [0; 16];
    let timed_out = stream.read(&mut buffer).map_err(|e| e.kind());
    assert!(matches!(timed_out, Err(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)), "{timed_out:?}");
    // A patient one does, late.
    let started = Instant::now();
    assert_eq!(Client::new(&sim, f.group_key).get("/cloud/v2/groups/7").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    sim.set_latency(Duration::ZERO);
    let started = Instant::now();
    assert_eq!(Client::new(&sim, f.group_key).get("/cloud/v2/groups/7").status, 200);
    assert!(started.elapsed() < Duration::from_millis(400));
}
