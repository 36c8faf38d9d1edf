//! The gateway adapter against the simulator's gateway: sessions opened once and answered from their
//! cache, state changes seen without reconnecting, dropped connections resumed, Discord's refusals
//! (token, intents) named, member lists fetched in chunks, idle sessions closed.

use std::time::Duration;

use garrison_core::discord::live::DiscordGateway;
use garrison_core::discord::{BotToken, DiscordError, Snowflake};
use garrison_discord::{DiscordConfig, GatewayConfig, TwilightBots, TwilightGateway};
use garrison_discord_sim::{Demo, Simulator, World};

fn start(config: GatewayConfig) -> (Simulator, Demo, TwilightGateway) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let bots =
        TwilightBots::new(DiscordConfig { api_url: Some(sim.base_url()), ..DiscordConfig::default() }).expect("config");
    let gateway = TwilightGateway::new(bots, config).expect("gateway");
    (sim, demo, gateway)
}

fn token(demo: &Demo) -> BotToken {
    BotToken::new(&demo.bot.token).expect("token")
}

fn server(raw: u64) -> garrison_core::ServerId {
    garrison_core::ServerId::from_discord(Snowflake::from_raw(raw)).expect("a snowflake within i64")
}

#[tokio::test]
async fn a_voice_channel_is_answered_from_one_live_session() {
    let (sim, demo, gateway) = start(GatewayConfig::default());
    let token = token(&demo);
    let lounge = Snowflake::from_raw(demo.voice);
    let info = gateway.voice_channel(&token, lounge).await.expect("answer").expect("a voice channel");
    assert_eq!((info.name.as_str(), info.kind, info.bitrate), ("Lounge", 2, 64_000));
    assert_eq!(info.category.as_ref().map(|(_, name)| name.as_str()), Some("Voice"));
    let mut users: Vec<u64> = info.connected.iter().map(|m| m.user.get()).collect();
    users.sort_unstable();
    let mut expected = vec![demo.moderator, demo.booster];
    expected.sort_unstable();
    assert_eq!(users, expected);
    let booster = info.connected.iter().find(|m| m.user.get() == demo.booster).expect("booster");
    assert!(booster.self_muted && !booster.muted);

    // A change reaches the open session; the next call sees it without a new connection.
    sim.world(|w| w.set_voice_state(demo.guild, demo.moderator, None));
    sim.world(|w| w.set_self_stream(demo.guild, demo.booster, true));
    let mut seen = None;
    for _ in 0..50 {
        let info = gateway.voice_channel(&token, lounge).await.expect("answer").expect("channel");
        if info.connected.len() == 1 && info.connected[0].streaming {
            seen = Some(info);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen.is_some(), "the voice change arrived");
    assert_eq!(sim.gateway_stats().identifies(demo.bot.user_id), 1, "one session for every call");

    // Not a voice channel, or unknown: none.
    assert_eq!(gateway.voice_channel(&token, Snowflake::from_raw(demo.general)).await.expect("answer"), None);
    assert_eq!(gateway.voice_channel(&token, Snowflake::from_raw(1 << 40)).await.expect("answer"), None);

    // A dropped connection is resumed, not re-identified, and what happened meanwhile arrives.
    sim.drop_gateway_connections();
    sim.world(|w| w.set_voice_state(demo.guild, demo.admin, Some(demo.voice)));
    let mut back = false;
    for _ in 0..100 {
        let info = gateway.voice_channel(&token, lounge).await.expect("answer").expect("channel");
        if info.connected.iter().any(|m| m.user.get() == demo.admin) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "the change made while disconnected arrived");
    assert_eq!(sim.gateway_stats().identifies(demo.bot.user_id), 1, "resumed");
    assert!(sim.gateway_stats().resumes(demo.bot.user_id) >= 1);
}

#[tokio::test]
async fn member_lists_come_in_chunks_once_and_follow_changes() {
    let (sim, demo, gateway) = start(GatewayConfig::default());
    let generated = sim.world(|w| w.add_generated_members(demo.guild, 2_500, &[demo.member_role]));
    let token = token(&demo);
    let roster = gateway.roster(&token, server(demo.guild)).await.expect("roster");
    assert!(roster.members.len() >= 2_500, "{} members", roster.members.len());
    assert!(roster.members.iter().any(|m| m.id.get() == generated[2_499]));
    assert!(roster.roles.iter().any(|r| r.id.get() == demo.member_role));

    sim.world(|w| w.remove_member(demo.guild, generated[0]));
    let mut gone = false;
    for _ in 0..50 {
        let roster = gateway.roster(&token, server(demo.guild)).await.expect("roster");
        if !roster.members.iter().any(|m| m.id.get() == generated[0]) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "a member who left is gone from the next answer");
    assert_eq!(sim.gateway_stats().identifies(demo.bot.user_id), 1);

    let stranger = gateway.roster(&token, server(1 << 40)).await.expect_err("not in that guild");
    assert_eq!(stranger, DiscordError::NotMember);
}

#[tokio::test]
async fn discords_refusals_are_named_and_remembered() {
    let (sim, demo, gateway) = start(GatewayConfig::default());
    sim.world(|w| w.set_members_intent(demo.bot.user_id, false));
    let token = token(&demo);
    let refused = gateway.roster(&token, server(demo.guild)).await.expect_err("no GUILD_MEMBERS");
    assert_eq!(refused, DiscordError::MissingIntent { intent: "GUILD_MEMBERS" });
    let again = gateway.roster(&token, server(demo.guild)).await.expect_err("remembered");
    assert_eq!(again, refused);
    assert_eq!(sim.calls("GET", "/gateway/bot"), 1, "Discord was not asked again");
    // The voice session needs no privileged intent.
    let lounge = Snowflake::from_raw(demo.voice);
    assert!(gateway.voice_channel(&token, lounge).await.expect("answer").is_some());

    let unknown = BotToken::new(&sim.world(World::unknown_bot_token)).expect("token");
    let invalid = gateway.voice_channel(&unknown, lounge).await.expect_err("unknown token");
    assert_eq!(invalid, DiscordError::InvalidToken);

    sim.world(|w| w.set_session_start_limit(demo.bot.user_id, 0, 60_000));
    let other = gateway.roster(&token, server(demo.guild)).await;
    assert!(matches!(other, Err(DiscordError::MissingIntent { .. })), "the refusal is still remembered: {other:?}");
}

#[tokio::test]
async fn idle_sessions_close_and_the_pool_is_bounded() {
    let config = GatewayConfig { idle: Duration::from_millis(300), max_sessions: 1, ..GatewayConfig::default() };
    let (sim, demo, gateway) = start(config);
    let token = token(&demo);
    let lounge = Snowflake::from_raw(demo.voice);
    gateway.voice_channel(&token, lounge).await.expect("answer");
    assert_eq!(gateway.open_sessions(), 1);
    // A second purpose takes the only place: the voice session closes.
    gateway.roster(&token, server(demo.guild)).await.expect("roster");
    assert_eq!(gateway.open_sessions(), 1);
    let mut closed = false;
    for _ in 0..100 {
        if sim.gateway_stats().connections == 0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "unused sessions close after the idle time: {:?}", sim.gateway_stats());
    assert_eq!(gateway.open_sessions(), 0);
    // The next call opens a new one.
    gateway.voice_channel(&token, lounge).await.expect("answer").expect("channel");
    assert_eq!(sim.gateway_stats().identifies(demo.bot.user_id), 3);
}

/// A handler that takes its time, and says who asked.
struct Slow(Duration);

impl garrison_core::discord::commands::CommandHandler for Slow {
    fn handle(
        &self,
        invocation: garrison_core::discord::commands::Invocation,
    ) -> std::pin::Pin<Box<dyn Future<Output = garrison_core::discord::commands::CommandReply> + Send + '_>> {
        Box::pin(async move {
            tokio::time::sleep(self.0).await;
            garrison_core::discord::commands::CommandReply {
                content: format!("/{} {:?} from {}", invocation.command, invocation.subcommand, invocation.user),
                failure: None,
            }
        })
    }
}

async fn answered(sim: &Simulator, interaction: u64) -> garrison_discord_sim::InteractionResponseView {
    for _ in 0..300 {
        if let Some(response) = sim.interaction_response(interaction)
            && !response.loading
        {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("interaction {interaction} was never answered");
}

#[tokio::test]
async fn the_server_bot_registers_its_commands_and_defers_slow_answers() {
    let (sim, demo, gateway) = start(GatewayConfig::default());
    let scope = garrison_discord::CommandScope::Guild(server(demo.guild));
    let commands = garrison_core::discord::commands::definitions();
    gateway.start_server_bot(token(&demo), std::sync::Arc::new(Slow(Duration::from_millis(2_500))), commands, scope);
    let mut registered = Vec::new();
    for _ in 0..200 {
        registered = sim.world(|w| w.guild_commands(demo.bot.user_id, demo.guild));
        if registered.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut names: Vec<String> = registered.iter().map(|c| c.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["apikeys", "verify"]);

    // Slower than 2 s: deferred at once (inside Discord's 3 s), then filled in.
    let (interaction, _) = sim
        .invoke_command(demo.bot.user_id, demo.guild, demo.general, demo.owner, "apikeys list", serde_json::Value::Null)
        .expect("invoked");
    // (The simulator refuses a first callback later than Discord's 3 s: an answer here came in time.)
    let done = answered(&sim, interaction).await;
    assert_eq!(done.kind, 5, "deferred, then filled in");
    assert_eq!(done.content, format!("/apikeys Some(\"list\") from {}", demo.owner));
    assert!(done.ephemeral);
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_session_that_cannot_start_answers_429_and_then_gives_up() {
    // The discard port: nothing listens, so the shard can only keep trying.
    let config = GatewayConfig {
        url: Some("ws://127.0.0.1:9".into()),
        ready_timeout: Duration::from_millis(200),
        idle: Duration::from_millis(100),
        ..GatewayConfig::default()
    };
    let (_sim, demo, gateway) = start(config);
    let lounge = Snowflake::from_raw(demo.voice);
    let waited = gateway.voice_channel(&token(&demo), lounge).await;
    assert!(matches!(waited, Err(DiscordError::RateLimited { .. })), "{waited:?}");
    assert_eq!(gateway.open_sessions(), 1, "it keeps trying for a while");
    let mut gone = false;
    for _ in 0..100 {
        if gateway.open_sessions() == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "a session nobody waits for stops trying to start");
}
