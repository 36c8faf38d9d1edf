//! Application commands and their interactions: registering commands over REST (global and guild,
//! bulk overwrite keeping ids, Discord's validation and limits), invoking them as a user (who may,
//! and the INTERACTION_CREATE a raw gateway client receives), and answering within the window
//! (ephemeral, deferred then filled in, too late, twice).

mod common;

use std::time::Duration;

use common::{Client, Fixture, Response, assert_spec_clean, fixture};
use futures_util::{SinkExt, StreamExt};
use garrison_discord_sim::permissions::{BAN_MEMBERS, KICK_MEMBERS};
use garrison_discord_sim::{Simulator, World};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_websockets::{ClientBuilder, MaybeTlsStream, Message, WebSocketStream};

/// How long a test waits for anything from the gateway.
const WAIT: Duration = Duration::from_secs(10);

/// A raw gateway client, identified with no intents at all (interactions need none).
struct Gateway {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Gateway {
    async fn ready(sim: &Simulator, token: &str) -> Gateway {
        let url = format!("{}/?v=10&encoding=json", sim.gateway_url());
        let (ws, _) = ClientBuilder::new().uri(&url).expect("a valid URL").connect().await.expect("connect");
        let mut gateway = Gateway { ws };
        assert_eq!(gateway.json().await["op"], 10, "HELLO first");
        let identify = json!({"op": 2, "d": {
            "token": token,
            "intents": 0,
            "properties": {"os": "linux", "browser": "garrison-test", "device": "garrison-test"},
        }});
        gateway.ws.send(Message::text(identify.to_string())).await.expect("send IDENTIFY");
        assert_eq!(gateway.dispatch().await.0, "READY");
        gateway
    }

    async fn json(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next()).await.expect("the gateway answers in time");
            match message {
                Some(Ok(message)) if message.is_text() => {
                    return serde_json::from_str(message.as_text().expect("text")).expect("JSON from the gateway");
                }
                Some(Ok(message)) if message.is_close() => panic!("closed: {:?}", message.as_close()),
                Some(Ok(_)) => {}
                Some(Err(error)) => panic!("gateway error: {error}"),
                None => panic!("the gateway hung up"),
            }
        }
    }

    /// The next dispatch, as `(t, d)`, skipping heartbeat ACKs.
    async fn dispatch(&mut self) -> (String, Value) {
        loop {
            let payload = self.json().await;
            if payload["op"] == 0 {
                return (payload["t"].as_str().expect("an event name").to_owned(), payload["d"].clone());
            }
        }
    }

    /// The next INTERACTION_CREATE.
    async fn interaction(&mut self) -> Value {
        let (name, data) = self.dispatch().await;
        assert_eq!(name, "INTERACTION_CREATE", "{data}");
        data
    }
}

/// The global commands route of the fixture's bot.
fn global(f: &Fixture) -> String {
    format!("/applications/{}/commands", f.bot.user_id)
}

/// The fixture's guild's commands route.
fn in_guild(f: &Fixture) -> String {
    format!("/applications/{}/guilds/{}/commands", f.bot.user_id, f.guild)
}

fn id_of(value: &Value) -> u64 {
    value["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id in {value}"))
}

/// The first field error of a 50035 body at `path` (`["options", "1"]`).
fn field_error(response: &Response, path: &[&str]) -> String {
    response.assert_error(400, 50035);
    let mut node = response.json()["errors"].clone();
    for key in path {
        node = node[*key].clone();
    }
    node["_errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error at {path:?}: {}", response.json()))
        .to_owned()
}

fn string_option(name: &str, required: bool) -> Value {
    json!({"type": 3, "name": name, "description": format!("the {name}"), "required": required})
}

/// Garrison's commands: `/rank`, and `/mod ban|kick` and `/mod role add` for moderators.
fn commands() -> Value {
    json!([
        {"name": "rank", "description": "Your rank", "options": [
            {"type": 6, "name": "who", "description": "whose rank"},
        ]},
        {"name": "mod", "description": "Moderation", "default_member_permissions": BAN_MEMBERS.to_string(), "options": [
            {"type": 1, "name": "ban", "description": "Ban someone", "options": [
                {"type": 6, "name": "user", "description": "who", "required": true},
                {"type": 3, "name": "reason", "description": "why", "max_length": 200},
                {"type": 4, "name": "days", "description": "messages to delete", "min_value": 0, "max_value": 7},
            ]},
            {"type": 1, "name": "kick", "description": "Kick someone", "options": [
                {"type": 6, "name": "user", "description": "who", "required": true},
            ]},
            {"type": 2, "name": "role", "description": "Roles", "options": [
                {"type": 1, "name": "add", "description": "Give a role", "options": [
                    {"type": 9, "name": "target", "description": "who", "required": true},
                    {"type": 8, "name": "role", "description": "which", "required": true},
                    {"type": 7, "name": "log", "description": "where to log", "channel_types": [0]},
                    {"type": 5, "name": "silent", "description": "say nothing"},
                ]},
            ]},
        ]},
        {"name": "View Rank", "type": 2},
    ])
}

#[test]
fn bulk_overwrite_registers_commands_and_keeps_ids_by_name() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);

    let put = client.request("PUT", &global(&f), Some(&commands()), &[]);
    assert_eq!(put.status, 200, "{}", put.json());
    let listed = put.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    let rank = listed[0].clone();
    assert_eq!(rank["application_id"], f.bot.user_id.to_string());
    assert_eq!(rank["type"], 1);
    assert_eq!(rank["default_member_permissions"], Value::Null);
    assert_eq!(rank["dm_permission"], true);
    assert_eq!(rank["integration_types"], json!([0]));
    assert!(rank.get("guild_id").is_none(), "a global command");
    let moderation = listed[1].clone();
    assert_eq!(moderation["default_member_permissions"], BAN_MEMBERS.to_string());
    assert_eq!(moderation["options"][2]["options"][0]["options"][1]["type"], 8);
    assert_eq!(moderation["options"][0]["options"][0]["required"], true);
    assert!(moderation["options"][0]["options"][1].get("required").is_none(), "false is left out");
    assert_eq!(listed[2]["description"], "", "a user command has no description");

    let world_view = sim.world(|w| w.application_commands(f.bot.user_id));
    assert_eq!(world_view.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["rank", "mod", "View Rank"]);
    let got = client.get(&global(&f)).json();
    let ids = |list: &Value| list.as_array().map(|l| l.iter().map(id_of).collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(ids(&got), ids(&listed));
    assert!(got[0].get("name_localizations").is_none(), "lists leave localizations out unless asked for");
    let localized = client.get(&format!("{}?with_localizations=true", global(&f))).json();
    assert_eq!(localized[0]["name_localizations"], Value::Null);

    // Again, with /rank changed, /mod gone and /top new: /rank keeps its id with a new version.
    let second = json!([
        {"name": "rank", "description": "Your rank, or someone's"},
        {"name": "top", "description": "The leaderboard", "default_member_permissions": "0"},
    ]);
    let put = client.request("PUT", &global(&f), Some(&second), &[]);
    assert_eq!(put.status, 200, "{}", put.json());
    let again = put.json();
    assert_eq!(id_of(&again[0]), id_of(&rank));
    assert_ne!(again[0]["version"], rank["version"], "changed, so a new version");
    assert_ne!(id_of(&again[1]), id_of(&moderation));
    assert_eq!(again[1]["default_member_permissions"], "0");
    assert_eq!(sim.world(|w| w.application_commands(f.bot.user_id)).len(), 2);
    client.get(&format!("{}/{}", global(&f), id_of(&moderation))).assert_error(404, 10063);
    // Unchanged: same id, same version.
    let third = client.request("PUT", &global(&f), Some(&second), &[]).json();
    assert_eq!(third, again);

    // POST creates (201) or updates the command of that name (200, same id).
    let created = client.post(&global(&f), &json!({"name": "ping", "description": "Pong?"}));
    assert_eq!(created.status, 201, "{}", created.json());
    let updated = client.post(&global(&f), &json!({"name": "ping", "description": "Pong!"}));
    assert_eq!(updated.status, 200);
    assert_eq!(id_of(&updated.json()), id_of(&created.json()));
    let one = format!("{}/{}", global(&f), id_of(&created.json()));
    assert_eq!(client.get(&one).json()["description"], "Pong!");
    let patched = client.patch(&one, &json!({"default_member_permissions": KICK_MEMBERS.to_string()}));
    assert_eq!(patched.status, 200, "{}", patched.json());
    assert_eq!(patched.json()["default_member_permissions"], KICK_MEMBERS.to_string());
    assert_eq!(patched.json()["description"], "Pong!", "what PATCH leaves out stays");
    assert_eq!(client.delete(&one).status, 204);
    client.get(&one).assert_error(404, 10063);
    client.delete(&one).assert_error(404, 10063);

    // Guild commands are apart from global ones.
    let guild_put =
        client.request("PUT", &in_guild(&f), Some(&json!([{"name": "setup", "description": "Set up"}])), &[]);
    assert_eq!(guild_put.status, 200, "{}", guild_put.json());
    assert_eq!(guild_put.json()[0]["guild_id"], f.guild.to_string());
    assert!(guild_put.json()[0].get("dm_permission").is_none());
    let setup = id_of(&guild_put.json()[0]);
    assert_eq!(sim.world(|w| w.guild_commands(f.bot.user_id, f.guild))[0].id, setup);
    client.get(&format!("{}/{setup}", global(&f))).assert_error(404, 10063);
    assert_eq!(client.get(&format!("{}/{setup}", in_guild(&f))).json()["name"], "setup");
    assert_eq!(client.get(&global(&f)).json().as_array().map(Vec::len), Some(2));
    assert_spec_clean(&sim);
}

#[test]
fn the_token_must_be_the_applications_own() {
    let (mut world, f) = fixture();
    let other = world.add_bot("Other");
    let elsewhere = world.add_guild("Elsewhere", f.owner);
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);
    client.get(&format!("/applications/{}/commands", other.user_id)).assert_error(403, 20012);
    client.get(&format!("/applications/{}/commands", f.member)).assert_error(404, 10002);
    let body = json!([{"name": "x", "description": "y"}]);
    client
        .request("PUT", &format!("/applications/{}/commands", other.user_id), Some(&body), &[])
        .assert_error(403, 20012);
    // A guild the application is not in.
    client.get(&format!("/applications/{}/guilds/{elsewhere}/commands", f.bot.user_id)).assert_error(403, 50001);
    client.get(&format!("/applications/{}/guilds/{}/commands", f.bot.user_id, f.member)).assert_error(404, 10004);
    assert_eq!(Client::anonymous(&sim).get(&global(&f)).status, 401);
    assert_spec_clean(&sim);
}

#[test]
fn definitions_are_checked_as_discord_checks_them() {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);
    let post = |body: Value| client.post(&global(&f), &body);

    assert_eq!(
        field_error(&post(json!({"name": "Rank", "description": "x"})), &["name"]),
        "APPLICATION_COMMAND_INVALID_NAME"
    );
    assert_eq!(
        field_error(&post(json!({"name": "two words", "description": "x"})), &["name"]),
        "APPLICATION_COMMAND_INVALID_NAME"
    );
    assert_eq!(
        field_error(&post(json!({"name": "x".repeat(33), "description": "x"})), &["name"]),
        "BASE_TYPE_BAD_LENGTH"
    );
    assert_eq!(field_error(&post(json!({"description": "x"})), &["name"]), "BASE_TYPE_REQUIRED");
    assert_eq!(field_error(&post(json!({"name": "rank"})), &["description"]), "BASE_TYPE_BAD_LENGTH");
    assert_eq!(
        field_error(&post(json!({"name": "rank", "description": "d".repeat(101)})), &["description"]),
        "BASE_TYPE_BAD_LENGTH"
    );
    let many: Vec<Value> = (0..26).map(|i| string_option(&format!("o{i}"), false)).collect();
    assert_eq!(
        field_error(&post(json!({"name": "rank", "description": "x", "options": many})), &["options"]),
        "BASE_TYPE_MAX_LENGTH"
    );
    let mixed = json!({"name": "rank", "description": "x", "options": [
        string_option("a", false),
        {"type": 1, "name": "sub", "description": "s"},
    ]});
    assert_eq!(field_error(&post(mixed), &["options", "1"]), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID");
    let order =
        json!({"name": "rank", "description": "x", "options": [string_option("a", false), string_option("b", true)]});
    assert_eq!(field_error(&post(order), &["options", "1"]), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID");
    let group = json!({"name": "rank", "description": "x", "options": [
        {"type": 2, "name": "group", "description": "g", "options": [string_option("a", false)]},
    ]});
    assert_eq!(
        field_error(&post(group), &["options", "0", "options", "0"]),
        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID"
    );
    let bad_type =
        json!({"name": "rank", "description": "x", "options": [{"type": 12, "name": "a", "description": "d"}]});
    assert_eq!(field_error(&post(bad_type), &["options", "0", "type"]), "BASE_TYPE_CHOICES");
    let permissions = json!({"name": "rank", "description": "x", "default_member_permissions": "ban"});
    assert_eq!(field_error(&post(permissions), &["default_member_permissions"]), "NUMBER_TYPE_COERCE");
    assert_eq!(
        field_error(&post(json!({"name": "rank", "description": "x", "contexts": [0, 5]})), &["contexts", "1"]),
        "BASE_TYPE_CHOICES"
    );
    assert_eq!(
        field_error(&post(json!({"name": "rank", "description": "x", "dm_permission": "no"})), &["dm_permission"]),
        "BASE_TYPE_BOOLEAN"
    );
    let twice = json!([{"name": "rank", "description": "x"}, {"name": "rank", "description": "y"}]);
    assert_eq!(
        field_error(&client.request("PUT", &global(&f), Some(&twice), &[]), &["1"]),
        "APPLICATION_COMMANDS_DUPLICATE_NAME"
    );
    let nested_error = json!([{"name": "fine", "description": "x"}, {"name": "Bad", "description": "y"}]);
    assert_eq!(
        field_error(&client.request("PUT", &global(&f), Some(&nested_error), &[]), &["1", "name"]),
        "APPLICATION_COMMAND_INVALID_NAME"
    );
    assert!(sim.world(|w| w.application_commands(f.bot.user_id)).is_empty(), "failed requests change nothing");

    // 100 slash commands per scope; the same name of another type is another command.
    let hundred: Vec<Value> = (0..100).map(|i| json!({"name": format!("c{i}"), "description": "x"})).collect();
    let put = client.request("PUT", &global(&f), Some(&Value::Array(hundred.clone())), &[]);
    assert_eq!(put.status, 200, "{}", put.json());
    client.post(&global(&f), &json!({"name": "one-more", "description": "x"})).assert_error(400, 30032);
    assert_eq!(client.post(&global(&f), &json!({"name": "c0", "type": 2})).status, 201);
    let mut too_many = hundred;
    too_many.push(json!({"name": "c100", "description": "x"}));
    client.request("PUT", &global(&f), Some(&Value::Array(too_many)), &[]).assert_error(400, 30032);
    assert_eq!(sim.world(|w| w.application_commands(f.bot.user_id)).len(), 101);
    // The guild's scope has its own 100.
    assert_eq!(client.post(&in_guild(&f), &json!({"name": "one-more", "description": "x"})).status, 201);
}

/// A simulator on the fixture with Garrison's commands registered over REST (which also warms the
/// document's checks before any interaction's window starts) and the bot's gateway connected.
async fn ready() -> (Simulator, Fixture, Gateway, Client) {
    let (world, f) = fixture();
    let sim = Simulator::start(world);
    let client = Client::new(&sim, &f.bot.token);
    let put = client.request("PUT", &global(&f), Some(&commands()), &[]);
    assert_eq!(put.status, 200, "{}", put.json());
    let guild_only = client.post(&in_guild(&f), &json!({"name": "setup", "description": "Set up Garrison"}));
    assert_eq!(guild_only.status, 201, "{}", guild_only.json());
    let gateway = Gateway::ready(&sim, &f.bot.token).await;
    let anonymous = Client::anonymous(&sim);
    (sim, f, gateway, anonymous)
}

fn callback(anonymous: &Client, id: u64, token: &str, body: &Value) -> Response {
    anonymous.post(&format!("/interactions/{id}/{token}/callback"), body)
}

#[tokio::test]
async fn an_invoked_command_arrives_as_interaction_create_and_is_answered_ephemerally() {
    let (sim, f, mut gateway, anonymous) = ready().await;
    let options = json!({"user": f.member.to_string(), "reason": "spam", "days": 2});
    let (id, token) =
        sim.invoke_command(f.bot.user_id, f.guild, f.text, f.peer, "mod ban", options).expect("a moderator may ban");

    let interaction = gateway.interaction().await;
    assert_eq!(interaction["id"], id.to_string());
    assert_eq!(interaction["token"], token);
    assert_eq!(interaction["application_id"], f.bot.user_id.to_string());
    assert_eq!((interaction["type"].clone(), interaction["version"].clone()), (json!(2), json!(1)));
    assert_eq!(interaction["guild_id"], f.guild.to_string());
    assert_eq!(interaction["channel_id"], f.text.to_string());
    assert_eq!(interaction["channel"]["id"], f.text.to_string());
    assert_eq!(interaction["context"], 0);
    assert_eq!(interaction["locale"], "en-US");
    assert_eq!(interaction["entitlements"], json!([]));
    assert_eq!(interaction["authorizing_integration_owners"], json!({"0": f.guild.to_string()}));
    let moderation = sim.world(|w| w.application_commands(f.bot.user_id))[1].clone();
    let data = &interaction["data"];
    assert_eq!(data["id"], moderation.id.to_string());
    assert_eq!((data["name"].as_str(), data["type"].as_u64()), (Some("mod"), Some(1)));
    assert!(data.get("guild_id").is_none(), "a global command");
    assert_eq!(
        data["options"],
        json!([{"type": 1, "name": "ban", "options": [
            {"name": "user", "type": 6, "value": f.member.to_string()},
            {"name": "reason", "type": 3, "value": "spam"},
            {"name": "days", "type": 4, "value": 2},
        ]}])
    );
    assert_eq!(data["resolved"]["users"][f.member.to_string()]["username"], "member");
    assert_eq!(data["resolved"]["members"][f.member.to_string()]["roles"], json!([f.member_role.to_string()]));
    let member = &interaction["member"];
    assert_eq!(member["user"]["id"], f.peer.to_string());
    assert_eq!(member["roles"], json!([f.moderator_role.to_string()]));
    let expected = sim.world(|w| (w.channel_permissions(f.text, f.peer), w.channel_permissions(f.text, f.bot.user_id)));
    assert_eq!(member["permissions"], expected.0.to_string());
    assert_eq!(interaction["app_permissions"], expected.1.to_string());
    // What the bot will parse it with.
    let parsed: twilight_model::application::interaction::Interaction =
        serde_json::from_value(interaction.clone()).expect("twilight reads the interaction");
    assert_eq!(parsed.id.get(), id);
    assert!(matches!(
        parsed.data,
        Some(twilight_model::application::interaction::InteractionData::ApplicationCommand(_))
    ));
    let stored = sim.world(|w| w.interaction(id)).expect("the interaction");
    assert_eq!((stored.kind, stored.guild_id, stored.user_id), (2, Some(f.guild), f.peer));
    assert_eq!(stored.data.as_ref(), Some(data));
    assert_eq!(stored.member.as_ref(), Some(member));
    assert!(sim.interaction_response(id).is_none(), "not answered yet");

    let answer = callback(&anonymous, id, &token, &json!({"type": 4, "data": {"content": "Banned.", "flags": 64}}));
    assert_eq!(answer.status, 204, "{}", answer.json());
    let response = sim.interaction_response(id).expect("answered");
    assert_eq!((response.kind, response.content.as_str()), (4, "Banned."));
    assert!(response.ephemeral && !response.loading);
    assert_eq!(response.flags, 64);
    let original = anonymous.get(&format!("/webhooks/{}/{token}/messages/@original", f.bot.user_id));
    assert_eq!(original.json()["content"], "Banned.");
    assert_eq!(original.json()["flags"], 64);
    // Ephemeral: only the invoking user's client has it, not the channel.
    let bot = Client::new(&sim, &f.bot.token);
    let listed = bot.get(&format!("/channels/{}/messages", f.text)).json();
    assert!(listed.as_array().is_some_and(|l| l.iter().all(|m| m["content"] != "Banned.")), "{listed}");
    let message = response.message_id.expect("an original response");
    bot.get(&format!("/channels/{}/messages/{message}", f.text)).assert_error(404, 10008);

    // A second answer is refused.
    let again = callback(&anonymous, id, &token, &json!({"type": 4, "data": {"content": "Again"}}));
    again.assert_error(400, 40060);
    assert_eq!(sim.interaction_response(id).map(|r| r.content), Some("Banned.".to_owned()));
    assert_spec_clean(&sim);
}

#[tokio::test]
async fn a_deferred_answer_is_filled_in_through_the_original_response() {
    let (sim, f, mut gateway, anonymous) = ready().await;
    let options =
        json!({"target": f.member, "role": f.member_role.to_string(), "log": f.text.to_string(), "silent": true});
    let (id, token) =
        sim.invoke_command(f.bot.user_id, f.guild, f.text, f.owner, "mod role add", options).expect("the owner may");
    let interaction = gateway.interaction().await;
    let group = &interaction["data"]["options"][0];
    assert_eq!((group["type"].as_u64(), group["name"].as_str()), (Some(2), Some("role")));
    let add = &group["options"][0];
    assert_eq!((add["type"].as_u64(), add["name"].as_str()), (Some(1), Some("add")));
    assert_eq!(add["options"][0], json!({"name": "target", "type": 9, "value": f.member.to_string()}));
    assert_eq!(add["options"][3], json!({"name": "silent", "type": 5, "value": true}));
    let resolved = &interaction["data"]["resolved"];
    assert_eq!(resolved["roles"][f.member_role.to_string()]["name"], "Member");
    assert_eq!(resolved["channels"][f.text.to_string()]["name"], "general");
    assert_eq!(interaction["member"]["permissions"], garrison_discord_sim::permissions::ALL.to_string());

    let deferred = callback(&anonymous, id, &token, &json!({"type": 5, "data": {"flags": 64}}));
    assert_eq!(deferred.status, 204, "{}", deferred.json());
    let loading = sim.interaction_response(id).expect("answered");
    assert_eq!(loading.kind, 5);
    assert!(loading.loading && loading.ephemeral && loading.content.is_empty());
    // Filling it in later than the window is fine: the interaction was acknowledged in time.
    sim.world(|w| w.age_interaction(id, Duration::from_secs(60)));
    let original = format!("/webhooks/{}/{token}/messages/@original", f.bot.user_id);
    let filled = anonymous.patch(&original, &json!({"content": "Role given."}));
    assert_eq!(filled.status, 200, "{}", filled.json());
    let done = sim.interaction_response(id).expect("answered");
    assert_eq!((done.kind, done.content.as_str(), done.loading, done.ephemeral), (5, "Role given.", false, true));
    callback(&anonymous, id, &token, &json!({"type": 4, "data": {"content": "x"}})).assert_error(400, 40060);
    // The token works for 15 minutes.
    sim.world(|w| w.age_interaction(id, Duration::from_secs(15 * 60)));
    anonymous.patch(&original, &json!({"content": "Later"})).assert_error(401, 50027);
    callback(&anonymous, id, &token, &json!({"type": 4, "data": {"content": "x"}})).assert_error(404, 10062);
    assert_spec_clean(&sim);
}

#[tokio::test]
async fn answers_after_the_window_and_wrong_answers_are_refused() {
    let (sim, f, mut gateway, anonymous) = ready().await;
    let invoke = |name: &str| sim.invoke_command(f.bot.user_id, f.guild, f.text, f.member, name, Value::Null);

    // Three seconds and a millisecond later: Discord has already told the user it failed.
    let (late, late_token) = invoke("rank").expect("anyone may");
    gateway.interaction().await;
    sim.world(|w| w.age_interaction(late, Duration::from_millis(3_001)));
    callback(&anonymous, late, &late_token, &json!({"type": 4, "data": {"content": "Rank 3"}}))
        .assert_error(404, 10062);
    assert!(sim.interaction_response(late).is_none());

    // A longer window, for slow tests (or a shorter one).
    sim.world(|w| w.set_interaction_response_window(Duration::from_secs(10)));
    let (slow, slow_token) = invoke("rank").expect("anyone may");
    gateway.interaction().await;
    sim.world(|w| w.age_interaction(slow, Duration::from_secs(5)));
    assert_eq!(callback(&anonymous, slow, &slow_token, &json!({"type": 4, "data": {"content": "Rank 3"}})).status, 204);
    sim.world(|w| w.set_interaction_response_window(garrison_discord_sim::INTERACTION_RESPONSE_WINDOW));

    let (id, token) = invoke("setup").expect("a guild command, for everyone");
    let interaction = gateway.interaction().await;
    assert_eq!(interaction["data"]["guild_id"], f.guild.to_string(), "a guild command says so");
    // PONG answers pings, not commands; an empty message is no answer; a wrong token is unknown.
    assert_eq!(field_error(&callback(&anonymous, id, &token, &json!({"type": 1})), &["type"]), "BASE_TYPE_CHOICES");
    assert_eq!(
        field_error(&callback(&anonymous, id, &token, &json!({"type": 7, "data": {}})), &["type"]),
        "BASE_TYPE_CHOICES"
    );
    callback(&anonymous, id, &token, &json!({"type": 4, "data": {"content": ""}})).assert_error(400, 50006);
    callback(&anonymous, id, "not-the-token", &json!({"type": 5})).assert_error(404, 10062);
    assert!(sim.interaction_response(id).is_none(), "refused answers change nothing");
    let with_response = anonymous.request(
        "POST",
        &format!("/interactions/{id}/{token}/callback?with_response=true"),
        Some(&json!({"type": 4, "data": {"embeds": [{"title": "Setup"}]}})),
        &[],
    );
    assert_eq!(with_response.status, 200, "{}", with_response.json());
    assert_eq!(with_response.json()["interaction"]["type"], 2);
    assert_eq!(with_response.json()["interaction"]["response_message_ephemeral"], false);
    let response = sim.interaction_response(id).expect("answered");
    assert_eq!(response.embeds[0]["title"], "Setup");
    assert!(!response.ephemeral);
    callback(&anonymous, id, &token, &json!({"type": 5})).assert_error(400, 40060);
}

#[tokio::test]
async fn members_without_the_commands_permissions_cannot_invoke_it() {
    let (sim, f, mut gateway, _) = ready().await;
    let app = f.bot.user_id;
    let kick = |user: u64| sim.invoke_command(app, f.guild, f.text, user, "mod kick", json!({"user": f.member}));

    // /mod needs BAN_MEMBERS: Discord hides it from the member (no role permissions) and from the
    // senior (KICK_MEMBERS only), and shows it to the moderator and the owner.
    let refused = kick(f.member).expect_err("hidden from a plain member");
    assert!(refused.contains("needs permissions"), "{refused}");
    assert!(kick(f.senior).is_err());
    assert!(kick(f.peer).is_ok());
    gateway.interaction().await;
    assert!(kick(f.owner).is_ok());
    gateway.interaction().await;

    // Giving the member the permission through a channel overwrite shows it to them there.
    sim.world(|w| w.add_overwrite(f.text, f.member, 1, BAN_MEMBERS, 0));
    assert!(kick(f.member).is_ok());
    assert_eq!(gateway.interaction().await["member"]["user"]["id"], f.member.to_string());

    // "0": administrators only. USE_APPLICATION_COMMANDS denied: no commands at all.
    sim.world(|w| {
        w.add_application_command(
            app,
            None,
            json!({"name": "top", "description": "x", "default_member_permissions": "0"}),
        )
    });
    assert!(sim.invoke_command(app, f.guild, f.text, f.peer, "top", Value::Null).is_err());
    assert!(sim.invoke_command(app, f.guild, f.text, f.owner, "top", Value::Null).is_ok());
    gateway.interaction().await;
    let everyone = f.guild;
    sim.world(|w| w.add_overwrite(f.text, everyone, 0, 0, garrison_discord_sim::permissions::USE_APPLICATION_COMMANDS));
    assert!(sim.invoke_command(app, f.guild, f.text, f.member, "rank", Value::Null).is_err());
    // Nothing was sent for the refused invocations: the next dispatch is the next accepted one.
    assert!(sim.invoke_command(app, f.guild, f.text, f.owner, "rank", Value::Null).is_ok());
    assert_eq!(gateway.interaction().await["member"]["user"]["id"], f.owner.to_string());
}

#[tokio::test]
async fn invocations_discord_would_not_send_are_errors() {
    let (sim, f, mut gateway, _) = ready().await;
    let app = f.bot.user_id;
    let invoke = |name: &str, options: Value| sim.invoke_command(app, f.guild, f.text, f.owner, name, options);
    assert!(invoke("nope", Value::Null).expect_err("refused").contains("not a slash command"));
    assert!(invoke("View Rank", Value::Null).is_err(), "a user command is not typed");
    assert!(invoke("mod", Value::Null).expect_err("refused").contains("subcommand"));
    assert!(invoke("mod role", Value::Null).expect_err("refused").contains("group"));
    assert!(invoke("mod ban extra", json!({"user": f.member})).is_err());
    assert!(invoke("rank extra", Value::Null).is_err());
    assert!(invoke("mod ban", json!({})).expect_err("refused").contains("required"));
    assert!(
        invoke("mod ban", json!({"user": f.member, "nope": 1})).expect_err("refused").contains("no option named nope")
    );
    assert!(invoke("mod ban", json!({"user": "not-an-id"})).is_err());
    assert!(invoke("mod ban", json!({"user": 42})).expect_err("refused").contains("unknown user"));
    assert!(invoke("mod ban", json!({"user": f.member, "days": 8})).expect_err("refused").contains("out of range"));
    assert!(invoke("mod ban", json!({"user": f.member, "days": "2"})).is_err());
    assert!(invoke("mod ban", json!({"user": f.member, "reason": "x".repeat(201)})).is_err());
    let voice = sim.world(|w| w.add_channel(f.guild, 2, "Lounge", None, 5));
    let role_add = json!({"target": f.member, "role": f.member_role, "log": voice});
    assert!(invoke("mod role add", role_add).expect_err("refused").contains("channels of type 2"));
    assert!(invoke("mod role add", json!({"target": f.member, "role": 7})).is_err());
    assert!(invoke("rank", json!(["not", "an", "object"])).is_err());
    // Not a member, another guild's channel, a guild the bot is not in.
    assert!(sim.invoke_command(app, f.guild, f.text, f.outsider, "rank", Value::Null).is_err());
    assert!(sim.invoke_command(app, f.guild, f.text, app, "rank", Value::Null).is_err(), "bots use no commands");
    let (other_guild, other_channel) = sim.world(|w| {
        let guild = w.add_guild("Other", f.owner);
        (guild, w.add_channel(guild, 0, "general", None, 0))
    });
    assert!(sim.invoke_command(app, other_guild, other_channel, f.owner, "rank", Value::Null).is_err());
    assert!(sim.invoke_command(app, f.guild, other_channel, f.owner, "rank", Value::Null).is_err());

    // Without a connected session the application does not respond.
    assert!(invoke("rank", Value::Null).is_ok());
    gateway.interaction().await;
    drop(gateway);
    let mut waited = Duration::ZERO;
    while sim.gateway_stats().connected_sessions > 0 {
        assert!(waited < WAIT, "the connection ends");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    let error = invoke("rank", Value::Null).expect_err("nobody listens");
    assert!(error.contains("did not respond"), "{error}");
}

#[test]
fn world_hooks_register_and_answer_without_a_gateway() {
    let mut world = World::new();
    let owner = world.add_user("Owner");
    let bot = world.add_bot("Garrison");
    let guild = world.add_guild("G", owner);
    world.add_member(guild, bot.user_id, &[]);
    let global = world.add_application_command(bot.user_id, None, json!({"name": "rank", "description": "Your rank"}));
    let local = world.add_application_command(bot.user_id, Some(guild), json!({"name": "rank", "description": "Here"}));
    assert_ne!(global, local);
    assert_eq!(world.application_commands(bot.user_id)[0].description, "Your rank");
    assert_eq!(world.guild_commands(bot.user_id, guild)[0].description, "Here");
    assert_eq!(world.application_command(local).and_then(|c| c.guild_id), Some(guild));
    let channel = world.add_channel(guild, 0, "general", None, 0);
    let (deferred, _) = world.add_interaction(bot.user_id, channel, owner);
    let response = world.interaction_response(deferred).expect("created acknowledged");
    assert!(response.kind == 5 && response.loading && response.ephemeral);
    let (pending, _) = world.add_pending_interaction(bot.user_id, channel, owner);
    assert!(world.interaction_response(pending).is_none());
    assert_eq!(
        world.interaction(pending).and_then(|i| i.member).map(|m| m["permissions"].clone()),
        Some(json!(garrison_discord_sim::permissions::ALL.to_string()))
    );
    let sim = Simulator::start(world);
    let error = sim.invoke_command(bot.user_id, guild, channel, owner, "rank", Value::Null).expect_err("no gateway");
    assert!(error.contains("did not respond"), "{error}");
}
