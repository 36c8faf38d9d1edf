//! A tiny blocking HTTP/1.1 client over `std::net::TcpStream` (one connection per request,
//! `Connection: close`), and a small world most tests start from.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use garrison_discord_sim::{Bot, Simulator, World, permissions::*};
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

    /// The Discord error code of an error body.
    pub fn code(&self) -> u64 {
        self.json()["code"].as_u64().unwrap_or_else(|| panic!("no code in {}", self.json()))
    }

    /// Asserts the status and Discord error code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: u64) {
        assert_eq!((self.status, self.code()), (status, code), "body: {}", self.json());
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

/// A client for one token (or none).
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl Client {
    pub fn new(sim: &Simulator, token: &str) -> Self {
        Self { addr: sim.addr(), token: Some(token.to_owned()) }
    }

    pub fn anonymous(sim: &Simulator) -> Self {
        Self { addr: sim.addr(), token: None }
    }

    /// A request to `/api/v10{path}` with an optional JSON body and extra headers.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>, extra: &[(&str, &str)]) -> Response {
        let authorization = self.token.as_ref().map(|t| format!("Bot {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(value) = &authorization {
            headers.push(("Authorization", value));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        headers.extend_from_slice(extra);
        send(self.addr, method, &format!("/api/v10{path}"), &headers, &bytes)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.request("POST", path, Some(body), &[])
    }

    pub fn patch(&self, path: &str, body: &Value) -> Response {
        self.request("PATCH", path, Some(body), &[])
    }

    pub fn put(&self, path: &str) -> Response {
        self.request("PUT", path, None, &[])
    }

    pub fn delete(&self, path: &str) -> Response {
        self.request("DELETE", path, None, &[])
    }
}

/// A small guild: an owner, the bot with "Moderator" (position 5), a "Senior" role above it (6),
/// "Member" below it (2), and members of each.
#[derive(Debug)]
pub struct Fixture {
    pub bot: Bot,
    pub guild: u64,
    pub owner: u64,
    pub senior: u64,
    pub peer: u64,
    pub member: u64,
    pub outsider: u64,
    pub senior_role: u64,
    pub moderator_role: u64,
    pub member_role: u64,
    pub text: u64,
}

pub const MODERATOR: u64 = KICK_MEMBERS
    | BAN_MEMBERS
    | MANAGE_ROLES
    | MANAGE_CHANNELS
    | MANAGE_GUILD
    | MODERATE_MEMBERS
    | MANAGE_NICKNAMES
    | MANAGE_MESSAGES;

pub fn fixture() -> (World, Fixture) {
    let mut world = World::new();
    let owner = world.add_user("Owner");
    let bot = world.add_bot("Garrison");
    let guild = world.add_guild("Test Guild", owner);
    let senior_role = world.add_role(guild, "Senior", KICK_MEMBERS, 6);
    let moderator_role = world.add_role(guild, "Moderator", MODERATOR, 5);
    let member_role = world.add_role(guild, "Member", 0, 2);
    world.add_member(guild, bot.user_id, &[moderator_role]);
    let senior = world.add_user("Senior");
    world.add_member(guild, senior, &[senior_role]);
    let peer = world.add_user("Peer");
    world.add_member(guild, peer, &[moderator_role]);
    let member = world.add_user("Member");
    world.add_member(guild, member, &[member_role]);
    let outsider = world.add_user("Outsider");
    let text = world.add_channel(guild, 0, "general", None, 0);
    let fixture =
        Fixture { bot, guild, owner, senior, peer, member, outsider, senior_role, moderator_role, member_role, text };
    (world, fixture)
}

/// Starts a simulator on the fixture; returns it, the bot's client, and the ids.
pub fn start() -> (Simulator, Client, Fixture) {
    let (world, fixture) = fixture();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &fixture.bot.token);
    (sim, client, fixture)
}

/// Asserts no request or response so far strayed from Discord's OpenAPI document.
#[track_caller]
pub fn assert_spec_clean(sim: &Simulator) {
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "spec violations:\n{}", violations.join("\n"));
}
