//! A tiny blocking HTTP/1.1 client over `std::net::TcpStream` (one connection per request,
//! `Connection: close`), and a small world most tests start from.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use garrison_roblox_sim::{ApiKey, Simulator, World};
use serde_json::Value;

/// An answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (`Value::Null` when empty).
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an Open Cloud error: the status and its code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        let body = self.json();
        assert_eq!((self.status, body["code"].as_str()), (status, Some(code)), "body: {body}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        body["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts a legacy error: the status and the code of its one error.
    #[track_caller]
    pub fn assert_legacy_error(&self, status: u16, code: u64) -> String {
        let body = self.json();
        assert_eq!((self.status, body["errors"][0]["code"].as_u64()), (status, Some(code)), "body: {body}");
        body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends raw bytes for a request and reads the whole answer.
pub fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the simulator");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("set a timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).expect("send the head");
    stream.write_all(body).expect("send the body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status line");
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    Response { status, headers, body: raw[split + 4..].to_vec() }
}

/// A client with one API key (or none).
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub key: Option<String>,
}

impl Client {
    pub fn new(sim: &Simulator, key: &str) -> Self {
        Self { addr: sim.addr(), key: Some(key.to_owned()) }
    }

    pub fn anonymous(sim: &Simulator) -> Self {
        Self { addr: sim.addr(), key: None }
    }

    /// A request with an optional JSON body.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(key) = &self.key {
            headers.push(("x-api-key", key));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        send(self.addr, method, path, &headers, &bytes)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path, Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Response {
        self.request("PATCH", path, Some(body))
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A small group 7: owner 1, a Lieutenant (rank 100) 2 who may change ranks, a Sergeant (50) 3 and a
/// Private (1) 4; user 5 asked to join; user 6 is an outsider.
#[derive(Debug)]
pub struct Fixture {
    pub group: u64,
    pub owner: u64,
    pub lieutenant: u64,
    pub sergeant: u64,
    pub private: u64,
    pub applicant: u64,
    pub outsider: u64,
    pub private_role: u64,
    pub sergeant_role: u64,
    pub lieutenant_role: u64,
    /// Group-owned, group:read and group:write.
    pub group_key: &'static str,
    /// Owned by the lieutenant, group:read and group:write.
    pub lieutenant_key: &'static str,
    /// Owned by the sergeant (who may not change ranks), group:read and group:write.
    pub sergeant_key: &'static str,
    /// Owned by the owner, group:read and group:write.
    pub owner_key: &'static str,
    /// Group-owned, group:read only.
    pub read_key: &'static str,
    /// Owned by the outsider, no scopes, no groups.
    pub bare_key: &'static str,
}

pub fn fixture() -> (World, Fixture) {
    let mut world = World::new();
    for (id, name) in
        [(1, "Owner"), (2, "Lieutenant"), (3, "Sergeant"), (4, "Private"), (5, "Applicant"), (6, "Outsider")]
    {
        world.add_user(id, name, &format!("{name} Display"));
    }
    world.add_group(7, "Seventh", 1);
    world.add_role(7, 701, "Private", 1);
    world.add_role(7, 750, "Sergeant", 50);
    world.add_role(7, 799, "Lieutenant", 100);
    world.add_member(7, 2, 799);
    world.add_member(7, 3, 750);
    world.add_member(7, 4, 701);
    world.add_join_request(7, 5);
    let fixture = Fixture {
        group: 7,
        owner: 1,
        lieutenant: 2,
        sergeant: 3,
        private: 4,
        applicant: 5,
        outsider: 6,
        private_role: 701,
        sergeant_role: 750,
        lieutenant_role: 799,
        group_key: "group-key",
        lieutenant_key: "lieutenant-key",
        sergeant_key: "sergeant-key",
        owner_key: "owner-key",
        read_key: "read-key",
        bare_key: "bare-key",
    };
    let rw = ["group:read", "group:write"];
    world.add_api_key(fixture.group_key, ApiKey::for_group(7, &rw));
    world.add_api_key(fixture.lieutenant_key, ApiKey::for_user(2, &rw, &[7]));
    world.add_api_key(fixture.sergeant_key, ApiKey::for_user(3, &rw, &[7]));
    world.add_api_key(fixture.owner_key, ApiKey::for_user(1, &rw, &[7]));
    world.add_api_key(fixture.read_key, ApiKey::for_group(7, &["group:read"]));
    world.add_api_key(fixture.bare_key, ApiKey::for_user(6, &[], &[]));
    (world, fixture)
}

/// Starts a simulator on the fixture; returns it and the ids.
pub fn start() -> (Simulator, Fixture) {
    let (world, fixture) = fixture();
    (Simulator::start(world), fixture)
}

/// Asserts no request or response so far strayed from Roblox's OpenAPI document or error shapes.
#[track_caller]
pub fn assert_spec_clean(sim: &Simulator) {
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "spec violations:\n{}", violations.join("\n"));
}
