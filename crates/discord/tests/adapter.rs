//! The twilight-backed adapter against the Discord simulator: token checks and their cache, one client
//! per token, Discord's errors in Garrison's terms, and rate limits within and beyond the wait budget.

use std::{sync::Arc, time::Duration};

use garrison_core::discord::{BanOptions, BotToken, DiscordBots, DiscordError, Snowflake, Unknown, service};
use garrison_discord::{DiscordConfig, TwilightBots};
use garrison_discord_sim::{Demo, Simulator, World};

fn start(config: DiscordConfig) -> (Simulator, Demo, TwilightBots) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let bots = TwilightBots::new(DiscordConfig { api_url: Some(sim.base_url()), ..config }).expect("config");
    (sim, demo, bots)
}

fn token(demo: &Demo) -> BotToken {
    BotToken::new(&demo.bot.token).expect("token")
}

fn id(raw: u64) -> Snowflake {
    Snowflake::from_raw(raw)
}

#[tokio::test]
async fn concurrent_first_requests_share_one_token_check() {
    let (sim, demo, bots) = start(DiscordConfig::default());
    let bots = Arc::new(bots);
    let token = token(&demo);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (bots, token) = (Arc::clone(&bots), token.clone());
            tokio::spawn(async move { bots.bot(&token).await.map(|b| b.user().id) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("valid token"), id(demo.bot.user_id));
    }
    assert_eq!(sim.calls("GET", "/users/@me"), 1);
    assert_eq!(bots.token_checks(), 1);
}

#[tokio::test]
async fn verdicts_expire_after_their_time_to_live() {
    let config = DiscordConfig {
        valid_token_ttl: Duration::from_millis(300),
        invalid_token_ttl: Duration::from_millis(100),
        ..DiscordConfig::default()
    };
    let (sim, demo, bots) = start(config);
    bots.bot(&token(&demo)).await.expect("valid");
    bots.bot(&token(&demo)).await.expect("valid");
    assert_eq!(sim.calls("GET", "/users/@me"), 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    bots.bot(&token(&demo)).await.expect("valid");
    assert_eq!(sim.calls("GET", "/users/@me"), 2, "checked again after 300 ms");

    // Shaped like a bot token (so Discord is asked once), but no bot's.
    let bad = BotToken::new(&sim.world(|w| w.unknown_bot_token())).expect("token");
    for _ in 0..3 {
        assert_eq!(bots.bot(&bad).await.err(), Some(DiscordError::InvalidToken));
    }
    assert_eq!(sim.calls("GET", "/users/@me"), 3, "an invalid token is remembered");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(bots.bot(&bad).await.err(), Some(DiscordError::InvalidToken));
    assert_eq!(sim.calls("GET", "/users/@me"), 4, "and checked again after 100 ms");
}

#[tokio::test]
async fn discords_errors_arrive_as_garrisons() {
    let (sim, demo, bots) = start(DiscordConfig::default());
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let guild = id(demo.guild);
    assert_eq!(bot.member(guild, id(demo.banned)).await.err(), Some(DiscordError::Unknown(Unknown::Member)));
    assert_eq!(bot.channel(id(demo.guild + 12345)).await.err(), Some(DiscordError::Unknown(Unknown::Channel)));
    assert_eq!(bot.invite("no-such-invite").await.err(), Some(DiscordError::Unknown(Unknown::Invite)));
    assert_eq!(bot.unban(guild, id(demo.members[0]), None).await.err(), Some(DiscordError::Unknown(Unknown::Ban)));
    // Straight to Discord, without the service's own checks: Discord's 50013.
    let refused = bot.ban(guild, id(demo.admin), BanOptions::default()).await.err();
    assert_eq!(refused, Some(DiscordError::MissingPermission { permission: None }));
    let elsewhere = sim.world(|w| {
        let owner = w.add_user("Owner");
        w.add_guild("Elsewhere", owner)
    });
    assert_eq!(bot.guild(id(elsewhere)).await.err(), Some(DiscordError::NotMember));

    let info = bot.guild(guild).await.expect("guild");
    assert_eq!((info.name.as_str(), info.owner_id, info.premium_tier), ("Garrison Demo", id(demo.owner), 1));
    assert!(info.approximate_member_count.is_some_and(|n| n > 20));
    let roles = bot.roles(guild).await.expect("roles");
    assert!(roles.iter().any(|r| r.id == id(demo.booster_role) && r.premium_subscriber));
    let page = bot.members(guild, None, 10).await.expect("members");
    assert_eq!(page.len(), 10);
    let next = bot.members(guild, Some(page[9].user_id), 1000).await.expect("members");
    assert!(next.iter().all(|m| m.user_id > page[9].user_id));
    assert!(sim.spec_violations().is_empty(), "{:#?}", sim.spec_violations());
}

#[tokio::test]
async fn a_ban_goes_through_the_service_with_reason_and_deleted_messages() {
    let (sim, demo, bots) = start(DiscordConfig::default());
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let (guild, user) = (demo.guild, demo.members[0]);
    let options = BanOptions { delete_message_seconds: 86_400, reason: Some("Spam, with ünïcode".into()) };
    service::ban(bot.as_ref(), id(guild), id(user), options).await.expect("banned");
    assert!(sim.world(|w| w.is_banned(guild, user)));
    assert_eq!(sim.world(|w| w.ban_reason(guild, user)).as_deref(), Some("Spam, with ünïcode"));
    assert!(sim.spec_violations().is_empty(), "{:#?}", sim.spec_violations());
}

#[tokio::test]
async fn a_wait_beyond_the_budget_is_reported_with_the_buckets_reset_and_nothing_more_is_sent() {
    let config = DiscordConfig { wait_budget: Duration::from_millis(300), ..DiscordConfig::default() };
    let (sim, demo, bots) = start(config);
    sim.set_rate_limit("GET", "/guilds/{guild_id}", 1, Duration::from_secs(20));
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    bot.guild(id(demo.guild)).await.expect("first request");
    // The first answer describes the bucket (1 left of 1, reset in 20 s), so the adapter knows it is
    // exhausted: the next requests are refused at once, unsent, with the bucket's reset. (Before,
    // twilight learned a bucket only from a 429, and the second request was sent to be refused.)
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let err = bot.guild(id(demo.guild)).await.err();
        assert!(
            matches!(err, Some(DiscordError::RateLimited { retry_after_ms }) if retry_after_ms > 15_000),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "the caller was not kept waiting");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), 1, "the abandoned requests were never sent");
    assert_eq!(bots.refusals(), 0, "no 429 was earned");
}

#[tokio::test]
async fn clients_are_bounded_and_each_token_keeps_its_own() {
    let config = DiscordConfig { max_clients: 2, ..DiscordConfig::default() };
    let (sim, demo, bots) = start(config);
    let others: Vec<BotToken> = (0..3)
        .map(|i| {
            let bot = sim.world(|w| w.add_bot(&format!("Other {i}")));
            BotToken::new(&bot.token).expect("token")
        })
        .collect();
    bots.bot(&token(&demo)).await.expect("valid");
    for other in &others {
        bots.bot(other).await.expect("valid");
    }
    // Four tokens through a cache of two: the first was evicted and is checked again.
    bots.bot(&token(&demo)).await.expect("valid");
    assert_eq!(sim.calls("GET", "/users/@me"), 5);
    bots.bot(&token(&demo)).await.expect("valid");
    assert_eq!(sim.calls("GET", "/users/@me"), 5);
}
