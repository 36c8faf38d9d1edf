//! The twilight-backed adapter against the Discord simulator: token checks and their cache, one client
//! per token, Discord's errors in Garrison's terms, and rate limits within and beyond the wait budget.

use std::{sync::Arc, time::Duration};

use garrison_core::discord::{
    BanOptions, BotToken, DiscordBots, DiscordError, InteractionToken, RefusalLimits, Snowflake, Unknown, service,
};
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

fn server(raw: u64) -> garrison_core::ServerId {
    garrison_core::ServerId::from_discord(id(raw)).expect("a snowflake within i64")
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
    let guild = server(demo.guild);
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
    assert_eq!(bot.guild(server(elsewhere)).await.err(), Some(DiscordError::NotMember));

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
    service::ban(bot.as_ref(), server(guild), id(user), options).await.expect("banned");
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
    bot.guild(server(demo.guild)).await.expect("first request");
    // The first answer describes the bucket (1 left of 1, reset in 20 s), so the adapter knows it is
    // exhausted: the next requests are refused at once, unsent, with the bucket's reset. (Before,
    // twilight learned a bucket only from a 429, and the second request was sent to be refused.)
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let err = bot.guild(server(demo.guild)).await.err();
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

#[tokio::test]
async fn scopeless_429s_are_waited_out_a_few_times_then_reported() {
    // Cloudflare's 429s (and some Discord-compatible servers') carry no X-RateLimit-Scope: twilight
    // re-sent them at once, without end (2,121 re-sends in 63 s for one request).
    let (sim, demo, bots) = start(DiscordConfig::default());
    sim.set_scopeless_429s(true);
    sim.set_rate_limit("GET", "/guilds/{guild_id}", 0, Duration::from_secs(1));
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let started = std::time::Instant::now();
    let err = bot.guild(server(demo.guild)).await.err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Some(DiscordError::RateLimited { retry_after_ms }) if retry_after_ms >= 1_000), "{err:?}");
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), 3, "three attempts, no more");
    assert!(elapsed >= Duration::from_millis(1_900), "each 429's Retry-After (1 s) was waited out: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "within the wait budget: {elapsed:?}");
    assert_eq!(bots.refusals(), 3, "each 429 counts towards Discord's ban");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), 3, "nothing was re-sent afterwards");
    assert!(sim.spec_violations().is_empty(), "{:#?}", sim.spec_violations());
}

#[tokio::test]
async fn a_429_that_would_outlast_the_wait_budget_is_not_waited_for() {
    let config = DiscordConfig { wait_budget: Duration::from_millis(500), ..DiscordConfig::default() };
    let (sim, demo, bots) = start(config);
    sim.set_scopeless_429s(true);
    sim.set_rate_limit("GET", "/guilds/{guild_id}", 0, Duration::from_secs(30));
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let started = std::time::Instant::now();
    let err = bot.guild(server(demo.guild)).await.err();
    assert!(matches!(err, Some(DiscordError::RateLimited { retry_after_ms }) if retry_after_ms > 25_000), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(400));
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), 1);
}

#[tokio::test]
async fn when_the_caller_goes_away_nothing_more_is_sent() {
    let config = DiscordConfig {
        wait_budget: Duration::from_secs(60),
        max_attempts: 1_000,
        default_retry_after: Duration::from_millis(100),
        ..DiscordConfig::default()
    };
    let (sim, demo, bots) = start(config);
    sim.set_scopeless_429s(true);
    sim.set_rate_limit("GET", "/guilds/{guild_id}", 0, Duration::from_millis(300));
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let guild = server(demo.guild);
    let task = tokio::spawn(async move { bot.guild(guild).await });
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let sent = sim.calls("GET", "/guilds/{guild_id}");
    assert!(sent >= 2, "the request was being retried ({sent} sends)");
    task.abort();
    let _ = task.await;
    let at_abort = sim.calls("GET", "/guilds/{guild_id}");
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), at_abort, "the work stopped with its caller");
}

#[tokio::test]
async fn malformed_tokens_never_reach_discord_and_junk_ones_are_capped() {
    // 40 refusals per window: unverified calls (new tokens) stop at 10.
    let config = DiscordConfig { refusals: RefusalLimits::new(40, 600_000), ..DiscordConfig::default() };
    let (sim, demo, bots) = start(config);
    let bots = Arc::new(bots);
    let valid = bots.bot(&token(&demo)).await.expect("valid");
    for i in 0..2_000 {
        let malformed = BotToken::new(&format!("junk-{i}")).expect("token");
        assert_eq!(bots.bot(&malformed).await.err(), Some(DiscordError::InvalidToken));
    }
    assert_eq!(sim.calls("GET", "/users/@me"), 1, "only the valid token was checked");

    let junk: Vec<BotToken> =
        (0..100).map(|_| BotToken::new(&sim.world(|w| w.unknown_bot_token())).expect("token")).collect();
    let tasks: Vec<_> = junk
        .iter()
        .cloned()
        .map(|t| {
            let bots = Arc::clone(&bots);
            tokio::spawn(async move { bots.bot(&t).await.err() })
        })
        .collect();
    let mut paused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Some(DiscordError::InvalidToken) => {}
            Some(DiscordError::Paused { retry_after_ms }) => {
                // Once the window is full, until it slides; while checks are in flight, a second.
                assert!(retry_after_ms >= 1_000, "{retry_after_ms}");
                paused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sim.calls("GET", "/users/@me"), 11, "ten junk tokens reached Discord");
    assert_eq!(paused, 90);
    // The refused ones are remembered: asking again costs nothing.
    for t in &junk[..20] {
        let err = bots.bot(t).await.err();
        assert!(matches!(err, Some(DiscordError::InvalidToken | DiscordError::Paused { .. })), "{err:?}");
    }
    assert_eq!(sim.calls("GET", "/users/@me"), 11);
    // The bot Discord accepted still works, from the rest of the budget.
    assert_eq!(valid.guild(server(demo.guild)).await.expect("guild").name, "Garrison Demo");
    let again = bots.bot(&token(&demo)).await.expect("still valid");
    assert_eq!(again.user().id, id(demo.bot.user_id));
}

#[tokio::test]
async fn refusals_of_accepted_bots_count_and_past_the_budget_calls_pause() {
    let config = DiscordConfig { refusals: RefusalLimits::new(4, 600_000), ..DiscordConfig::default() };
    let (sim, demo, bots) = start(config);
    let bot = bots.bot(&token(&demo)).await.expect("valid");
    let guild = server(demo.guild);
    // Discord's 403 (50013): the demo bot cannot ban the admin.
    for _ in 0..4 {
        let err = bot.ban(guild, id(demo.admin), BanOptions::default()).await.err();
        assert_eq!(err, Some(DiscordError::MissingPermission { permission: None }));
    }
    assert_eq!(bots.refusals(), 4);
    let before = sim.calls("GET", "/guilds/{guild_id}");
    let err = bot.guild(guild).await.err();
    assert!(matches!(err, Some(DiscordError::Paused { .. })), "{err:?}");
    assert!(err.is_some_and(|e| e.to_string().contains("Discord bans")));
    assert_eq!(sim.calls("GET", "/guilds/{guild_id}"), before, "nothing was sent");
}

#[tokio::test]
async fn interaction_tokens_are_checked_for_shape_and_refusals_remembered() {
    let (sim, demo, bots) = start(DiscordConfig::default());
    let app = id(demo.bot.user_id);
    // Text that cannot be an interaction token cannot even be made into one, so it is never sent.
    assert!(InteractionToken::parse("not/a/token").is_none());
    let (_, token) = sim.world(|w| w.add_interaction(demo.bot.user_id, demo.general, demo.members[0]));
    let wrong = InteractionToken::parse("aW50ZXJhY3Rpb246bm90LXJlYWwtYXQtYWxs").expect("shaped");
    for _ in 0..3 {
        assert_eq!(bots.original_response(app, &wrong).await.err(), Some(DiscordError::InvalidToken));
    }
    let route = "/webhooks/{webhook_id}/{webhook_token}/messages/@original";
    assert_eq!(sim.calls("GET", route), 1, "a refused interaction token is asked about once");
    let token = InteractionToken::parse(&token).expect("shaped");
    bots.original_response(app, &token).await.expect("a real interaction");
    assert_eq!(bots.refusals(), 1);
}

#[tokio::test]
async fn a_known_bot_is_checked_again_even_when_junk_tokens_spent_the_unverified_share() {
    let config = DiscordConfig {
        refusals: RefusalLimits::new(8, 600_000),
        valid_token_ttl: Duration::from_millis(200),
        ..DiscordConfig::default()
    };
    let (sim, demo, bots) = start(config);
    bots.bot(&token(&demo)).await.expect("valid");
    for _ in 0..2 {
        let junk = BotToken::new(&sim.world(|w| w.unknown_bot_token())).expect("token");
        assert_eq!(bots.bot(&junk).await.err(), Some(DiscordError::InvalidToken));
    }
    let junk = BotToken::new(&sim.world(|w| w.unknown_bot_token())).expect("token");
    assert!(matches!(bots.bot(&junk).await.err(), Some(DiscordError::Paused { .. })));
    assert_eq!(sim.calls("GET", "/users/@me"), 3);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let bot = bots.bot(&token(&demo)).await.expect("the known bot is checked again");
    assert_eq!(bot.user().id, id(demo.bot.user_id));
    assert_eq!(sim.calls("GET", "/users/@me"), 4);
}
