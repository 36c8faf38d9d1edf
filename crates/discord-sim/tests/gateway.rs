//! The gateway: HELLO, IDENTIFY and READY, GUILD_CREATE, heartbeats, RESUME, opcode 8 member
//! chunks, dispatches from world and REST changes filtered by intents, the close codes, and the
//! REST routes `GET /gateway` and `GET /gateway/bot`. Driven by a raw tokio-websockets client, and
//! once by a real twilight-gateway shard.

mod common;

use std::time::{Duration, Instant};

use common::{Client, assert_spec_clean, fixture};
use futures_util::{SinkExt, StreamExt};
use garrison_discord_sim::{Simulator, World, intents};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_websockets::{ClientBuilder, MaybeTlsStream, Message, WebSocketStream};

/// How long a test waits for anything from the gateway.
const WAIT: Duration = Duration::from_secs(10);

/// What a raw client reads.
#[derive(Debug)]
enum Frame {
    Json(Value),
    Closed(Option<u16>),
}

/// A raw gateway client.
struct Gateway {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Gateway {
    /// Connects to `/?v=10&encoding=json` and reads HELLO; returns the client and the interval.
    async fn connect(sim: &Simulator) -> (Gateway, u64) {
        let mut gateway = Gateway::connect_to(&format!("{}/?v=10&encoding=json", sim.gateway_url())).await;
        let hello = gateway.json().await;
        assert_eq!(hello["op"], 10, "{hello}");
        assert!(hello["s"].is_null() && hello["t"].is_null(), "{hello}");
        let interval = hello["d"]["heartbeat_interval"].as_u64().expect("a heartbeat interval");
        (gateway, interval)
    }

    async fn connect_to(url: &str) -> Gateway {
        let builder = ClientBuilder::new().uri(url).expect("a valid URL");
        let (ws, _) = builder.connect().await.expect("connect to the gateway");
        Gateway { ws }
    }

    async fn send(&mut self, payload: Value) {
        self.ws.send(Message::text(payload.to_string())).await.expect("send a payload");
    }

    async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send a frame");
    }

    async fn frame(&mut self) -> Frame {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next()).await.expect("the gateway answers in time");
            match message {
                Some(Ok(message)) if message.is_text() => {
                    let text = message.as_text().expect("text");
                    return Frame::Json(serde_json::from_str(text).expect("JSON from the gateway"));
                }
                Some(Ok(message)) if message.is_close() => {
                    return Frame::Closed(message.as_close().map(|(code, _)| u16::from(code)));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    async fn json(&mut self) -> Value {
        match self.frame().await {
            Frame::Json(value) => value,
            Frame::Closed(code) => panic!("closed with {code:?} while a payload was expected"),
        }
    }

    /// The next dispatch, as `(t, s, d)`, skipping heartbeat ACKs.
    async fn dispatch(&mut self) -> (String, u64, Value) {
        loop {
            let payload = self.json().await;
            match payload["op"].as_u64() {
                Some(11) => continue,
                Some(0) => {
                    let name = payload["t"].as_str().expect("an event name").to_owned();
                    let seq = payload["s"].as_u64().expect("a sequence number");
                    return (name, seq, payload["d"].clone());
                }
                _ => panic!("expected a dispatch, got {payload}"),
            }
        }
    }

    /// The next dispatch, which must be `name`.
    async fn expect(&mut self, name: &str) -> (u64, Value) {
        let (got, seq, data) = self.dispatch().await;
        assert_eq!(got, name, "{data}");
        (seq, data)
    }

    /// The close code the gateway ends the connection with.
    async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.frame().await {
                Frame::Closed(code) => return code,
                Frame::Json(payload) if payload["op"] == 11 || payload["op"] == 0 => {}
                Frame::Json(payload) => panic!("expected a close, got {payload}"),
            }
        }
    }

    async fn identify(&mut self, token: &str, intents: u64) {
        self.send(json!({"op": 2, "d": {
            "token": token,
            "intents": intents,
            "properties": {"os": "linux", "browser": "garrison-test", "device": "garrison-test"},
        }}))
        .await;
    }

    /// IDENTIFY, then READY; returns the session id and READY's body.
    async fn ready(&mut self, token: &str, intents: u64) -> (String, Value) {
        self.identify(token, intents).await;
        let (seq, ready) = self.expect("READY").await;
        assert_eq!(seq, 1);
        (ready["session_id"].as_str().expect("a session id").to_owned(), ready)
    }

    /// Sends a heartbeat and waits for its ACK, so every dispatch queued before it has arrived.
    async fn sync(&mut self) -> Vec<(String, Value)> {
        self.send(json!({"op": 1, "d": null})).await;
        let mut before = Vec::new();
        loop {
            let payload = self.json().await;
            if payload["op"] == 11 {
                return before;
            }
            before.push((payload["t"].as_str().unwrap_or_default().to_owned(), payload["d"].clone()));
        }
    }
}

/// The snowflake in an object's `id`.
fn id_of(object: &Value) -> Option<u64> {
    object["id"].as_str()?.parse().ok()
}

/// Waits until `done` holds.
async fn eventually(done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited too long");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The fixture's guild with a voice category and channel, and a member in voice.
struct Voice {
    sim: Simulator,
    f: common::Fixture,
    category: u64,
    lounge: u64,
}

fn voice_world() -> Voice {
    let (mut world, f) = fixture();
    let category = world.add_channel(f.guild, 4, "Voice", None, 3);
    let lounge = world.add_channel(f.guild, 2, "Lounge", Some(category), 4);
    world.set_channel_bitrate(lounge, 96_000);
    world.set_channel_user_limit(lounge, 12);
    world.set_channel_rtc_region(lounge, Some("rotterdam"));
    world.set_voice_state(f.guild, f.member, Some(lounge));
    world.set_self_mute(f.guild, f.member, true);
    let sim = Simulator::start(world);
    Voice { sim, f, category, lounge }
}

const GUILDS_AND_VOICE: u64 = intents::GUILDS | intents::GUILD_VOICE_STATES;

#[tokio::test]
async fn identify_gets_ready_then_guild_create_with_channels_roles_and_voice_states() {
    let Voice { sim, f, category, lounge } = voice_world();
    let (mut gateway, interval) = Gateway::connect(&sim).await;
    assert_eq!(interval, 41_250);
    let (session, ready) = gateway.ready(&f.bot.token, GUILDS_AND_VOICE).await;
    assert_eq!(ready["v"], 10);
    assert_eq!(ready["user"]["id"], f.bot.user_id.to_string());
    assert_eq!(ready["user"]["bot"], true);
    assert_eq!(ready["guilds"], json!([{"id": f.guild.to_string(), "unavailable": true}]));
    assert_eq!(session.len(), 32);
    assert_eq!(ready["resume_gateway_url"], sim.gateway_url());
    assert_eq!(ready["shard"], json!([0, 1]));
    assert_eq!(ready["application"]["id"], f.bot.user_id.to_string());
    assert!(ready["application"]["flags"].is_u64());

    let (seq, guild) = gateway.expect("GUILD_CREATE").await;
    assert_eq!(seq, 2);
    assert_eq!(guild["id"], f.guild.to_string());
    assert_eq!(guild["unavailable"], false);
    assert_eq!(guild["large"], false);
    assert_eq!(guild["member_count"], 5);
    assert!(guild["joined_at"].is_string());
    let roles: Vec<&str> =
        guild["roles"].as_array().expect("roles").iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(roles.contains(&"@everyone") && roles.contains(&"Moderator"), "{roles:?}");
    let channels = guild["channels"].as_array().expect("channels");
    let voice = channels.iter().find(|c| id_of(c) == Some(lounge)).expect("the voice channel");
    assert_eq!(voice["type"], 2);
    assert_eq!(voice["bitrate"], 96_000);
    assert_eq!(voice["user_limit"], 12);
    assert_eq!(voice["rtc_region"], "rotterdam");
    assert_eq!(voice["parent_id"], category.to_string());
    assert_eq!(voice["position"], 4);
    let states = guild["voice_states"].as_array().expect("voice states");
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["user_id"], f.member.to_string());
    assert_eq!(states[0]["channel_id"], lounge.to_string());
    assert_eq!(states[0]["self_mute"], true);
    assert_eq!(states[0]["session_id"].as_str().map(str::len), Some(32));
    assert!(states[0].get("guild_id").is_none(), "GUILD_CREATE's voice states lack guild_id");
    // Without GUILD_PRESENCES: the bot's own member and members in voice only.
    let mut listed: Vec<String> =
        guild["members"].as_array().expect("members").iter().map(|m| m["user"]["id"].to_string()).collect();
    listed.sort();
    let mut expected = vec![format!("\"{}\"", f.bot.user_id), format!("\"{}\"", f.member)];
    expected.sort();
    assert_eq!(listed, expected);

    let stats = sim.gateway_stats();
    assert_eq!((stats.identifies(f.bot.user_id), stats.connections, stats.connected_sessions), (1, 1, 1));
}

#[tokio::test]
async fn guild_create_lists_voice_states_only_with_the_voice_intent_and_members_by_presences() {
    let Voice { sim, f, .. } = voice_world();
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS | intents::GUILD_PRESENCES).await;
    let (_, guild) = gateway.expect("GUILD_CREATE").await;
    assert_eq!(guild["voice_states"], json!([]));
    assert_eq!(guild["members"].as_array().map(Vec::len), Some(5), "a small guild lists everyone with presences");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, 0).await;
    let rest = gateway.sync().await;
    assert!(rest.is_empty(), "no GUILD_CREATE without GUILDS: {rest:?}");
}

#[tokio::test]
async fn bad_tokens_intents_and_second_identifies_are_closed_with_discords_codes() {
    let (mut world, f) = fixture();
    let unknown = world.unknown_bot_token();
    world.set_members_intent(f.bot.user_id, false);
    world.set_presences_intent(f.bot.user_id, false);
    world.set_message_content_intent(f.bot.user_id, false);
    let sim = Simulator::start(world);

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.identify(&unknown, intents::GUILDS).await;
    assert_eq!(gateway.closed().await, Some(4004));

    for privileged in [intents::GUILD_MEMBERS, intents::GUILD_PRESENCES, intents::MESSAGE_CONTENT] {
        let (mut gateway, _) = Gateway::connect(&sim).await;
        gateway.identify(&f.bot.token, intents::GUILDS | privileged).await;
        assert_eq!(gateway.closed().await, Some(4014), "intent {privileged}");
    }

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.identify(&f.bot.token, 1 << 30).await;
    assert_eq!(gateway.closed().await, Some(4013), "undefined bits");
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 2, "d": {"token": f.bot.token, "properties": {}}})).await;
    assert_eq!(gateway.closed().await, Some(4013), "intents are required");

    sim.world(|w| w.set_members_intent(f.bot.user_id, true));
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS | intents::GUILD_MEMBERS).await;
    gateway.identify(&f.bot.token, intents::GUILDS).await;
    assert_eq!(gateway.closed().await, Some(4005));
    assert_eq!(sim.gateway_stats().identifies(f.bot.user_id), 1, "refused IDENTIFYs start no session");
}

#[tokio::test]
async fn malformed_payloads_unknown_opcodes_and_early_requests_are_closed() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send_raw(Message::text("{not json")).await;
    assert_eq!(gateway.closed().await, Some(4002));

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"d": null})).await;
    assert_eq!(gateway.closed().await, Some(4002), "no opcode");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send_raw(Message::binary(vec![131u8, 116, 0, 0, 0, 0])).await;
    assert_eq!(gateway.closed().await, Some(4002), "binary (ETF) frames");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    let padding = "x".repeat(5000);
    gateway.send(json!({"op": 1, "d": null, "padding": padding})).await;
    assert_eq!(gateway.closed().await, Some(4002), "payloads over 4096 bytes");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 99, "d": null})).await;
    assert_eq!(gateway.closed().await, Some(4001));

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "query": "", "limit": 0}})).await;
    assert_eq!(gateway.closed().await, Some(4003), "before IDENTIFY");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 2, "d": "token"})).await;
    assert_eq!(gateway.closed().await, Some(4002), "an IDENTIFY that does not decode");

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 2, "d": {"token": f.bot.token, "intents": 1, "shard": [2, 2]}})).await;
    assert_eq!(gateway.closed().await, Some(4010), "a shard id beyond the count");

    let mut gateway = Gateway::connect_to(&format!("{}/?v=6&encoding=json", sim.gateway_url())).await;
    assert_eq!(gateway.closed().await, Some(4012));

    let stats = sim.gateway_stats();
    assert_eq!((stats.sessions, stats.identifies(f.bot.user_id)), (0, 0));
}

#[tokio::test]
async fn heartbeats_are_acknowledged_and_a_missed_one_closes_the_connection() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    sim.set_heartbeat_interval(Duration::from_millis(300));
    let (mut gateway, interval) = Gateway::connect(&sim).await;
    assert_eq!(interval, 300);
    let (_, _) = gateway.ready(&f.bot.token, intents::GUILDS).await;
    gateway.expect("GUILD_CREATE").await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        gateway.send(json!({"op": 1, "d": 2})).await;
        let ack = gateway.json().await;
        assert_eq!(ack["op"], 11, "{ack}");
    }
    let silent = Instant::now();
    assert_eq!(gateway.closed().await, Some(4009));
    let waited = silent.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(3), "{waited:?}");
    eventually(|| sim.gateway_stats().connections == 0).await;
    let stats = sim.gateway_stats();
    assert_eq!((stats.sessions, stats.connected_sessions), (1, 0), "the session stays resumable");
}

#[tokio::test]
async fn dropped_connections_resume_and_get_what_they_missed() {
    let Voice { sim, f, lounge, .. } = voice_world();
    let (mut gateway, _) = Gateway::connect(&sim).await;
    let (session, _) = gateway.ready(&f.bot.token, GUILDS_AND_VOICE).await;
    let (seq, _) = gateway.expect("GUILD_CREATE").await;

    sim.drop_gateway_connections();
    assert!(matches!(gateway.frame().await, Frame::Closed(_)), "the connection is dropped");
    sim.world(|w| w.set_voice_state(f.guild, f.peer, Some(lounge)));
    sim.world(|w| w.set_role_color(f.guild, f.member_role, 0x00ff00));

    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 6, "d": {"token": f.bot.token, "session_id": session, "seq": seq}})).await;
    let (voice_seq, voice) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(voice_seq, seq + 1);
    assert_eq!(voice["user_id"], f.peer.to_string());
    let (role_seq, role) = gateway.expect("GUILD_ROLE_UPDATE").await;
    assert_eq!((role_seq, role["role"]["color"].as_u64()), (seq + 2, Some(0x00ff00)));
    let (resumed_seq, _) = gateway.expect("RESUMED").await;
    assert_eq!(resumed_seq, seq + 3);

    sim.world(|w| w.set_voice_state(f.guild, f.peer, None));
    let (after, left) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!((after, left["channel_id"].clone()), (seq + 4, Value::Null));

    let stats = sim.gateway_stats();
    assert_eq!((stats.identifies(f.bot.user_id), stats.resumes(f.bot.user_id)), (1, 1));
    assert_eq!((stats.sessions, stats.connected_sessions), (1, 1));
}

#[tokio::test]
async fn unknown_and_expired_sessions_are_invalid_and_bad_sequences_are_refused() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    let resume =
        |session: &str, seq: u64| json!({"op": 6, "d": {"token": f.bot.token, "session_id": session, "seq": seq}});
    gateway.send(resume("0123456789abcdef0123456789abcdef", 1)).await;
    let invalid = gateway.json().await;
    assert_eq!((invalid["op"].clone(), invalid["d"].clone()), (json!(9), json!(false)));
    // The same connection may IDENTIFY afterwards.
    let (session, _) = gateway.ready(&f.bot.token, intents::GUILDS).await;
    gateway.expect("GUILD_CREATE").await;

    sim.drop_gateway_connections();
    assert!(matches!(gateway.frame().await, Frame::Closed(_)));
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(resume(&session, 7)).await;
    assert_eq!(gateway.closed().await, Some(4007), "a sequence number never sent");

    sim.set_resume_window(Duration::ZERO);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(resume(&session, 2)).await;
    assert_eq!(gateway.json().await["op"], 9, "expired");
    assert_eq!(sim.gateway_stats().sessions, 0);
}

#[tokio::test]
async fn clients_that_close_normally_end_their_session() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS).await;
    gateway.expect("GUILD_CREATE").await;
    gateway.send_raw(Message::close(Some(tokio_websockets::CloseCode::NORMAL_CLOSURE), "bye")).await;
    let _ = gateway.frame().await;
    eventually(|| sim.gateway_stats().sessions == 0).await;
}

#[tokio::test]
async fn a_client_too_far_behind_is_closed_and_cannot_resume() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    let (session, _) = gateway.ready(&f.bot.token, intents::GUILDS | intents::GUILD_MEMBERS).await;
    let (seq, _) = gateway.expect("GUILD_CREATE").await;
    let burst = garrison_discord_sim::REPLAY_MAX_EVENTS + 100;
    sim.world(|w| {
        for i in 0..burst {
            w.set_nick(f.guild, f.member, Some(&format!("nick {i}")));
        }
    });
    assert_eq!(gateway.closed().await, Some(4000));
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.send(json!({"op": 6, "d": {"token": f.bot.token, "session_id": session, "seq": seq}})).await;
    assert_eq!(gateway.json().await, json!({"op": 9, "d": false, "s": null, "t": null}));
}

#[tokio::test]
async fn reconnect_requests_are_sent_as_opcode_7() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS).await;
    gateway.expect("GUILD_CREATE").await;
    sim.request_gateway_reconnect();
    assert_eq!(gateway.json().await["op"], 7);
}

#[tokio::test]
async fn ready_can_be_delayed() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    sim.set_ready_delay(Duration::from_millis(400));
    let (mut gateway, _) = Gateway::connect(&sim).await;
    let identified = Instant::now();
    gateway.identify(&f.bot.token, intents::GUILDS).await;
    // Heartbeats are answered meanwhile.
    gateway.send(json!({"op": 1, "d": null})).await;
    assert_eq!(gateway.json().await["op"], 11);
    gateway.expect("READY").await;
    assert!(identified.elapsed() >= Duration::from_millis(400));
    assert_eq!(sim.gateway_stats().identifies(f.bot.user_id), 1);
}

/// A guild of 2,500 generated members plus the owner and the bot.
fn big_guild() -> (Simulator, common::Fixture, Vec<u64>) {
    let (mut world, f) = fixture();
    let generated = world.add_generated_members(f.guild, 2500, &[f.member_role]);
    (Simulator::start(world), f, generated)
}

#[tokio::test]
async fn the_whole_member_list_comes_in_chunks_of_a_thousand() {
    let (sim, f, generated) = big_guild();
    let total = 2500 + 5;
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS | intents::GUILD_MEMBERS).await;
    let (_, guild) = gateway.expect("GUILD_CREATE").await;
    assert_eq!((guild["member_count"].as_u64(), guild["large"].as_bool()), (Some(total), Some(true)));
    assert_eq!(guild["members"].as_array().map(Vec::len), Some(1), "only the bot without GUILD_PRESENCES");

    gateway
        .send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "query": "", "limit": 0, "nonce": "all-members"}}))
        .await;
    let mut seen = std::collections::BTreeSet::new();
    for index in 0..3 {
        let (_, chunk) = gateway.expect("GUILD_MEMBERS_CHUNK").await;
        assert_eq!(chunk["guild_id"], f.guild.to_string());
        assert_eq!((chunk["chunk_index"].as_u64(), chunk["chunk_count"].as_u64()), (Some(index), Some(3)));
        assert_eq!(chunk["nonce"], "all-members");
        assert_eq!(chunk["not_found"], json!([]));
        let members = chunk["members"].as_array().expect("members");
        assert_eq!(members.len(), if index < 2 { 1000 } else { 505 });
        for member in members {
            seen.insert(member["user"]["id"].as_str().expect("a user id").to_owned());
        }
    }
    assert_eq!(seen.len(), usize::try_from(total).unwrap_or(0));
    assert!(generated.iter().all(|id| seen.contains(&id.to_string())));

    // One whole-list request per guild per 30 seconds.
    gateway
        .send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "query": "", "limit": 0, "nonce": "again"}}))
        .await;
    let (_, limited) = gateway.expect("RATE_LIMITED").await;
    assert_eq!(limited["opcode"], 8);
    assert!(limited["retry_after"].as_f64().is_some_and(|s| s > 0.0 && s <= 30.0), "{limited}");
    assert_eq!(limited["meta"], json!({"guild_id": f.guild.to_string(), "nonce": "again"}));

    // By id: at most 100, the unknown ones in not_found.
    let missing = 42u64;
    let ids = json!([generated[0].to_string(), generated[2499].to_string(), missing.to_string()]);
    gateway.send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "user_ids": ids, "nonce": "ids"}})).await;
    let (_, chunk) = gateway.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!((chunk["chunk_index"].as_u64(), chunk["chunk_count"].as_u64()), (Some(0), Some(1)));
    assert_eq!(chunk["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(chunk["not_found"], json!([missing.to_string()]));

    // By username prefix: at most 100 (and `limit`).
    gateway.send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "query": "MEMBER1", "limit": 5}})).await;
    let (_, chunk) = gateway.expect("GUILD_MEMBERS_CHUNK").await;
    let names: Vec<&str> =
        chunk["members"].as_array().expect("members").iter().filter_map(|m| m["user"]["username"].as_str()).collect();
    assert_eq!(names.len(), 5);
    assert!(names.iter().all(|n| n.starts_with("member1")), "{names:?}");
    assert!(chunk.get("nonce").is_none());
}

#[tokio::test]
async fn the_whole_member_list_needs_the_members_intent() {
    let (sim, f, generated) = big_guild();
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS).await;
    gateway.expect("GUILD_CREATE").await;
    gateway.send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "query": "", "limit": 0}})).await;
    assert!(gateway.sync().await.is_empty(), "Discord answers nothing without GUILD_MEMBERS");
    // Asking by id needs no privileged intent.
    gateway.send(json!({"op": 8, "d": {"guild_id": f.guild.to_string(), "user_ids": generated[7].to_string()}})).await;
    let (_, chunk) = gateway.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!(chunk["members"][0]["user"]["id"], generated[7].to_string());
}

#[tokio::test]
async fn voice_state_changes_reach_open_sessions() {
    let Voice { sim, f, lounge, .. } = voice_world();
    let stage = sim.world(|w| w.add_channel(f.guild, 13, "Stage", None, 9));
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, GUILDS_AND_VOICE).await;
    gateway.expect("GUILD_CREATE").await;

    sim.world(|w| w.set_voice_state(f.guild, f.senior, Some(lounge)));
    let (_, joined) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(joined["guild_id"], f.guild.to_string());
    assert_eq!(joined["channel_id"], lounge.to_string());
    assert_eq!(joined["user_id"], f.senior.to_string());
    assert_eq!(joined["member"]["user"]["id"], f.senior.to_string());
    assert_eq!(
        (joined["mute"].clone(), joined["self_deaf"].clone(), joined["suppress"].clone()),
        (json!(false), json!(false), json!(false))
    );
    let session = joined["session_id"].clone();

    sim.world(|w| {
        w.set_self_deaf(f.guild, f.senior, true);
        w.set_self_video(f.guild, f.senior, true);
        w.set_self_stream(f.guild, f.senior, true);
    });
    let (_, deaf) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(deaf["self_deaf"], true);
    let (_, video) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(video["self_video"], true);
    let (_, stream) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(stream["self_stream"], true);

    // Server mute: the member changes (GUILD_MEMBER_UPDATE needs GUILD_MEMBERS) and so does the state.
    sim.world(|w| w.set_voice_mute(f.guild, f.senior, true));
    let (_, muted) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!((muted["mute"].clone(), muted["member"]["mute"].clone()), (json!(true), json!(true)));

    sim.world(|w| w.set_voice_state(f.guild, f.senior, Some(stage)));
    let (_, moved) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!((moved["channel_id"].clone(), moved["suppress"].clone()), (json!(stage.to_string()), json!(true)));
    assert_eq!(moved["session_id"], session, "moving keeps the voice session");
    sim.world(|w| w.set_suppress(f.guild, f.senior, false));
    assert_eq!(gateway.expect("VOICE_STATE_UPDATE").await.1["suppress"], false);

    // Kicked over REST while in voice: out of voice first.
    let client = Client::new(&sim, &f.bot.token);
    assert_eq!(client.delete(&format!("/guilds/{}/members/{}", f.guild, f.member)).status, 204);
    let (_, left) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!((left["user_id"].clone(), left["channel_id"].clone()), (json!(f.member.to_string()), Value::Null));
    assert!(sim.world(|w| w.voice_state(f.guild, f.member).is_none()));

    sim.world(|w| w.set_voice_state(f.guild, f.senior, None));
    let (_, gone) = gateway.expect("VOICE_STATE_UPDATE").await;
    assert_eq!(gone["channel_id"], Value::Null);
    assert!(gateway.sync().await.is_empty());
    assert_spec_clean(&sim);
}

#[tokio::test]
async fn the_bot_joins_and_leaves_voice_with_opcode_4() {
    let Voice { sim, f, lounge, .. } = voice_world();
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, GUILDS_AND_VOICE).await;
    gateway.expect("GUILD_CREATE").await;
    let join = json!({"op": 4, "d": {"guild_id": f.guild.to_string(), "channel_id": lounge.to_string(), "self_mute": false, "self_deaf": true}});
    gateway.send(join).await;
    let mut states = Vec::new();
    for _ in 0..3 {
        states.push(gateway.expect("VOICE_STATE_UPDATE").await.1);
    }
    let last = states.last().expect("a state");
    assert_eq!((last["user_id"].clone(), last["self_deaf"].clone()), (json!(f.bot.user_id.to_string()), json!(true)));
    assert_eq!(sim.world(|w| w.voice_state(f.guild, f.bot.user_id)).map(|v| v.channel_id), Some(lounge));
    gateway.send(json!({"op": 4, "d": {"guild_id": f.guild.to_string(), "channel_id": null, "self_mute": false, "self_deaf": false}})).await;
    assert_eq!(gateway.expect("VOICE_STATE_UPDATE").await.1["channel_id"], Value::Null);
    // A channel that is not a voice channel of the guild is ignored.
    gateway.send(json!({"op": 4, "d": {"guild_id": f.guild.to_string(), "channel_id": f.text.to_string(), "self_mute": false, "self_deaf": false}})).await;
    assert!(gateway.sync().await.is_empty());
}

#[tokio::test]
async fn events_are_filtered_by_intents() {
    let Voice { sim, f, lounge, .. } = voice_world();
    let (mut plain, _) = Gateway::connect(&sim).await;
    plain.ready(&f.bot.token, intents::GUILDS).await;
    plain.expect("GUILD_CREATE").await;
    let (mut everything, _) = Gateway::connect(&sim).await;
    everything
        .ready(
            &f.bot.token,
            intents::GUILDS | intents::GUILD_MEMBERS | intents::GUILD_VOICE_STATES | intents::GUILD_MODERATION,
        )
        .await;
    everything.expect("GUILD_CREATE").await;
    let newcomer = sim.world(|w| w.add_user("Newcomer"));
    sim.world(|w| {
        w.add_member(f.guild, newcomer, &[]);
        w.set_voice_state(f.guild, f.peer, Some(lounge));
        w.set_nick(f.guild, f.member, Some("Nick"));
        w.set_nick(f.guild, f.bot.user_id, Some("Garrison Bot"));
        w.add_role(f.guild, "Fresh", 0, 1);
        w.add_ban(f.guild, newcomer, Some("spam"));
    });
    let names = |events: Vec<(String, Value)>| events.into_iter().map(|(name, _)| name).collect::<Vec<_>>();
    // GUILDS alone: role events, and member updates about the bot itself (Discord's caveat).
    assert_eq!(names(plain.sync().await), ["GUILD_MEMBER_UPDATE", "GUILD_ROLE_CREATE"]);
    assert_eq!(
        names(everything.sync().await),
        [
            "GUILD_MEMBER_ADD",
            "VOICE_STATE_UPDATE",
            "GUILD_MEMBER_UPDATE",
            "GUILD_MEMBER_UPDATE",
            "GUILD_ROLE_CREATE",
            "GUILD_MEMBER_REMOVE",
            "GUILD_BAN_ADD",
        ]
    );
}

#[tokio::test]
async fn rest_changes_are_dispatched() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    gateway.ready(&f.bot.token, intents::GUILDS | intents::GUILD_MEMBERS).await;
    gateway.expect("GUILD_CREATE").await;

    let member = format!("/guilds/{}/members/{}", f.guild, f.member);
    assert_eq!(client.patch(&member, &json!({"nick": "Renamed"})).status, 200);
    let (_, update) = gateway.expect("GUILD_MEMBER_UPDATE").await;
    assert_eq!((update["guild_id"].clone(), update["nick"].clone()), (json!(f.guild.to_string()), json!("Renamed")));
    assert_eq!(client.put(&format!("{member}/roles/{}", f.member_role)).status, 204, "already has it: no event");
    assert_eq!(client.delete(&format!("{member}/roles/{}", f.member_role)).status, 204);
    assert_eq!(gateway.expect("GUILD_MEMBER_UPDATE").await.1["roles"], json!([]));

    let created = client.post(&format!("/guilds/{}/roles", f.guild), &json!({"name": "Cadet"}));
    let role = created.json()["id"].as_str().expect("a role id").to_owned();
    let (_, event) = gateway.expect("GUILD_ROLE_CREATE").await;
    assert_eq!(event["role"]["name"], "Cadet");
    assert_eq!(client.patch(&format!("/guilds/{}/roles/{role}", f.guild), &json!({"name": "Cadet II"})).status, 200);
    assert_eq!(gateway.expect("GUILD_ROLE_UPDATE").await.1["role"]["name"], "Cadet II");
    assert_eq!(client.delete(&format!("/guilds/{}/roles/{role}", f.guild)).status, 204);
    assert_eq!(gateway.expect("GUILD_ROLE_DELETE").await.1["role_id"], role);

    assert_eq!(client.patch(&format!("/channels/{}", f.text), &json!({"topic": "News"})).status, 200);
    assert_eq!(gateway.expect("CHANNEL_UPDATE").await.1["topic"], "News");
    let voice = sim.world(|w| w.add_channel(f.guild, 2, "Voice", None, 1));
    assert_eq!(gateway.expect("CHANNEL_CREATE").await.1["id"], voice.to_string());
    sim.world(|w| w.remove_channel(voice));
    assert_eq!(gateway.expect("CHANNEL_DELETE").await.1["id"], voice.to_string());

    assert_eq!(client.delete(&member).status, 204);
    let (_, removed) = gateway.expect("GUILD_MEMBER_REMOVE").await;
    assert_eq!(removed["user"]["id"], f.member.to_string());
    // A refused request changes nothing and sends nothing.
    assert_eq!(client.delete(&format!("/guilds/{}/members/{}", f.guild, f.senior)).status, 403);
    assert!(gateway.sync().await.is_empty());
    assert_spec_clean(&sim);
}

#[tokio::test]
async fn a_bot_added_to_a_guild_gets_guild_create_and_one_removed_gets_guild_delete() {
    let (mut world, f) = fixture();
    let other = world.add_guild("Other", f.owner);
    let sim = Simulator::start(world);
    let (mut gateway, _) = Gateway::connect(&sim).await;
    let (_, ready) = gateway.ready(&f.bot.token, intents::GUILDS).await;
    assert_eq!(ready["guilds"].as_array().map(Vec::len), Some(1));
    gateway.expect("GUILD_CREATE").await;
    sim.world(|w| w.add_member(other, f.bot.user_id, &[]));
    let (_, created) = gateway.expect("GUILD_CREATE").await;
    assert_eq!((created["id"].clone(), created["member_count"].clone()), (json!(other.to_string()), json!(2)));
    sim.world(|w| w.remove_member(other, f.bot.user_id));
    let (_, deleted) = gateway.expect("GUILD_DELETE").await;
    assert_eq!(deleted, json!({"id": other.to_string()}));
    sim.world(|w| w.set_guild_description(other, Some("not ours any more")));
    assert!(gateway.sync().await.is_empty(), "no events of a guild the bot left");
}

#[tokio::test]
async fn shards_get_their_own_guilds() {
    let (mut world, f) = fixture();
    let mut guilds = vec![f.guild];
    for i in 0..6 {
        let guild = world.add_guild(&format!("Guild {i}"), f.owner);
        world.add_member(guild, f.bot.user_id, &[]);
        guilds.push(guild);
    }
    let sim = Simulator::start(world);
    for shard in 0..2u64 {
        let (mut gateway, _) = Gateway::connect(&sim).await;
        gateway
            .send(json!({"op": 2, "d": {"token": f.bot.token, "intents": intents::GUILDS, "shard": [shard, 2], "properties": {}}}))
            .await;
        let (_, ready) = gateway.expect("READY").await;
        assert_eq!(ready["shard"], json!([shard, 2]));
        let mut listed: Vec<u64> =
            ready["guilds"].as_array().expect("guilds").iter().filter_map(|g| g["id"].as_str()?.parse().ok()).collect();
        listed.sort_unstable();
        let mut expected: Vec<u64> = guilds.iter().copied().filter(|g| (g >> 22) % 2 == shard).collect();
        expected.sort_unstable();
        assert_eq!(listed, expected);
    }
}

#[tokio::test]
async fn the_gateway_routes_answer_the_url_and_the_session_start_limit() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let anonymous = Client::anonymous(&sim);
    let client = Client::new(&sim, &f.bot.token);
    let gateway = anonymous.get("/gateway");
    assert_eq!((gateway.status, gateway.json()), (200, json!({"url": sim.gateway_url()})));
    assert!(sim.gateway_url().starts_with("ws://127.0.0.1:"));
    assert_eq!(anonymous.get("/gateway/bot").status, 401);
    let bot = client.get("/gateway/bot").json();
    assert_eq!(bot["url"], sim.gateway_url());
    assert_eq!(bot["shards"], 1);
    let limit = &bot["session_start_limit"];
    assert_eq!(
        (limit["total"].clone(), limit["remaining"].clone(), limit["max_concurrency"].clone()),
        (json!(1000), json!(1000), json!(1))
    );
    assert!(limit["reset_after"].as_u64().is_some_and(|ms| ms > 0 && ms <= 86_400_000));

    let (mut ws, _) = Gateway::connect(&sim).await;
    ws.ready(&f.bot.token, intents::GUILDS).await;
    assert_eq!(client.get("/gateway/bot").json()["session_start_limit"]["remaining"], 999);

    // Out of session starts: Discord resets the token and ends every session.
    sim.set_session_start_limit(f.bot.user_id, 0, 60_000);
    let limit = client.get("/gateway/bot").json()["session_start_limit"].clone();
    assert_eq!(limit["remaining"], 0);
    assert!(limit["reset_after"].as_u64().is_some_and(|ms| ms <= 60_000));
    let (mut refused, _) = Gateway::connect(&sim).await;
    refused.identify(&f.bot.token, intents::GUILDS).await;
    assert_eq!(refused.closed().await, Some(4004));
    assert_eq!(ws.closed().await, Some(4004), "live sessions end too");
    assert_eq!(client.get("/users/@me").status, 401, "the old token no longer works");
    assert_eq!(sim.gateway_stats().sessions, 0);
    assert_spec_clean(&sim);
}

#[test]
fn a_hundred_thousand_members_are_generated_quickly() {
    let (mut world, f) = fixture();
    let started = Instant::now();
    let ids = world.add_generated_members(f.guild, 100_000, &[f.member_role]);
    let took = started.elapsed();
    assert_eq!(ids.len(), 100_000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(world.members(f.guild).len(), 100_005);
    let last = world.member(f.guild, ids[99_999]).expect("a member");
    assert_eq!(last.roles, vec![f.member_role]);
    assert!(world.user(ids[0]).is_some_and(|u| !u.bot));
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[tokio::test]
async fn a_twilight_shard_connects_resumes_and_requests_members() {
    use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt as _};
    use twilight_model::gateway::payload::outgoing::RequestGuildMembers;
    use twilight_model::id::Id;

    let _ = rustls::crypto::ring::default_provider().install_default();
    let Voice { sim, f, lounge, .. } = voice_world();
    let generated = sim.world(|w| w.add_generated_members(f.guild, 1500, &[]));
    let wanted = Intents::GUILDS | Intents::GUILD_VOICE_STATES | Intents::GUILD_MEMBERS;
    let config = ConfigBuilder::new(f.bot.token.clone(), wanted).proxy_url(sim.gateway_url()).build();
    let mut shard = Shard::with_config(ShardId::ONE, config);

    async fn next(shard: &mut Shard) -> Event {
        loop {
            let item = tokio::time::timeout(WAIT, shard.next_event(EventTypeFlags::all()))
                .await
                .expect("an event in time")
                .expect("the shard keeps going");
            match item {
                Ok(Event::GatewayHeartbeatAck | Event::GatewayHello(_)) => {}
                Ok(event) => return event,
                Err(error) => panic!("the shard could not read an event: {error:?}"),
            }
        }
    }

    let Event::Ready(ready) = next(&mut shard).await else { panic!("READY first") };
    assert_eq!(ready.user.id.get(), f.bot.user_id);
    assert_eq!(ready.guilds.len(), 1);
    let Event::GuildCreate(guild) = next(&mut shard).await else { panic!("GUILD_CREATE next") };
    let twilight_model::gateway::payload::incoming::GuildCreate::Available(guild) = *guild else {
        panic!("an available guild")
    };
    assert_eq!(guild.id.get(), f.guild);
    assert_eq!(guild.member_count, Some(1505));
    assert_eq!(guild.voice_states.len(), 1);
    assert_eq!(guild.voice_states[0].channel_id.map(Id::get), Some(lounge));
    let voice = guild.channels.iter().find(|c| c.id.get() == lounge).expect("the voice channel");
    assert_eq!(
        (voice.bitrate, voice.user_limit, voice.rtc_region.as_deref()),
        (Some(96_000), Some(12), Some("rotterdam"))
    );

    sim.world(|w| w.set_voice_state(f.guild, f.peer, Some(lounge)));
    let Event::VoiceStateUpdate(state) = next(&mut shard).await else { panic!("VOICE_STATE_UPDATE") };
    assert_eq!((state.user_id.get(), state.channel_id.map(Id::get)), (f.peer, Some(lounge)));

    // A dropped connection: the shard resumes on its own and gets what it missed.
    sim.drop_gateway_connections();
    sim.world(|w| w.set_voice_state(f.guild, f.peer, None));
    let Event::VoiceStateUpdate(left) = next(&mut shard).await else { panic!("the missed VOICE_STATE_UPDATE") };
    assert_eq!((left.user_id.get(), left.channel_id), (f.peer, None));
    assert!(matches!(next(&mut shard).await, Event::Resumed));
    let stats = sim.gateway_stats();
    assert_eq!((stats.identifies(f.bot.user_id), stats.resumes(f.bot.user_id)), (1, 1));

    shard.command(&RequestGuildMembers::builder(Id::new(f.guild)).nonce("twilight").query("", None));
    let mut members = 0;
    for index in 0..2 {
        let Event::MemberChunk(chunk) = next(&mut shard).await else { panic!("GUILD_MEMBERS_CHUNK") };
        assert_eq!((chunk.chunk_index, chunk.chunk_count), (index, 2));
        assert_eq!(chunk.nonce.as_deref(), Some("twilight"));
        members += chunk.members.len();
    }
    assert_eq!(members, 1505);
    assert!(generated.len() == 1500);
    assert_spec_clean(&sim);
}

#[test]
fn worlds_without_a_gateway_queue_no_events() {
    let (mut world, f) = fixture();
    for i in 0..1000 {
        world.set_nick(f.guild, f.member, Some(&format!("nick {i}")));
    }
    let sim = Simulator::start(world);
    assert_eq!(sim.gateway_stats(), garrison_discord_sim::GatewayStats::default());
    let _ = World::new();
}
