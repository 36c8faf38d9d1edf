//! `garrison-client` against the real binary: every call below goes through the typed client only,
//! and checks what its user would (the values answered, the events received, the refusals as the
//! client's `Error` with the server's own text). The wire format itself is the other files' concern.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use garrison_client::certifications::{CertificationAward, NewCertification};
use garrison_client::ep::{Companies, Company, EpAdd, EpPolicyChange};
use garrison_client::loa::{LoaEnd, LoaStart};
use garrison_client::medals::{MedalAward, NewMedal};
use garrison_client::modlogs::{ModAction, ModLogEntry};
use garrison_client::webhooks::{Delivery, NewWebhook, WebhookSecret};
use garrison_client::xp::{LeaderboardPage, XpChange};
use garrison_client::{
    BotToken, Client, DeliveryHeaders, Error, Event, RobloxUserId, ServerId, Snowflake, VerifyError, verify_webhook,
};
use garrison_discord_sim::{Simulator, World};
use garrison_testkit::TestDatabase;
use serde_json::json;

use crate::harness::{OTHER_SERVER, SERVER, Server, api_client, on_both_backends, secret};
use crate::webhooks::{Received, Receiver};

on_both_backends!(
    client_changes_xp_and_reads_history_and_leaderboard,
    client_keeps_ep_and_leaves_of_absence,
    client_manages_medals_and_certifications,
    client_refusals_carry_the_servers_status_and_text,
    client_manages_webhooks_whose_deliveries_verify,
    client_records_moderation_logs,
);

const DAY: i64 = 24 * 60 * 60 * 1000;

fn server_id() -> ServerId {
    ServerId::parse("serverId", SERVER).expect("a server id")
}

fn member(id: i64) -> RobloxUserId {
    RobloxUserId::parse("robloxId", &id.to_string()).expect("a Roblox id")
}

fn now_millis() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    i64::try_from(since.as_millis()).expect("millis")
}

/// The refusal of a call that should have been refused.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    result.expect_err("the server refuses")
}

async fn client_changes_xp_and_reads_history_and_leaderboard(server: Server) {
    let client = server.api_client(&server.create_key(SERVER, "client bot", false));
    let (xp, guild, one) = (client.xp(), server_id(), member(123_456_789));
    assert_eq!(xp.get(guild, one).await.expect("a balance").xp, 0);

    let added = xp.add(&XpChange::new(guild, one, 100).reference("patrol"), None).await.expect("added");
    assert_eq!((added.xp, added.replayed), (100, false));
    // With an Idempotency-Key, a repeat answers the first answer and adds nothing.
    let keyed = XpChange::new(guild, one, 50).reason("event 42");
    let first = xp.add(&keyed, Some("event-42-123456789")).await.expect("added");
    let again = xp.add(&keyed, Some("event-42-123456789")).await.expect("replayed");
    assert_eq!((first.xp, first.replayed), (150, false));
    assert_eq!((again.xp, again.replayed), (150, true));
    assert_eq!(xp.subtract(&XpChange::new(guild, one, 30), None).await.expect("subtracted").xp, 120);
    assert_eq!(xp.subtract(&XpChange::new(guild, one, 1_000), None).await.expect("clamped").xp, 0, "stops at 0");
    assert_eq!(xp.set(&XpChange::new(guild, one, 1_234), None).await.expect("set").xp, 1_234);
    assert_eq!(xp.get(guild, one).await.expect("a balance").xp, 1_234);

    // The ledger, newest first, a page at a time.
    let page = xp.history(guild, one, Some(2), None).await.expect("a page");
    let shown: Vec<_> = page.entries.iter().map(|e| (e.operation.as_str(), e.amount, e.delta, e.balance)).collect();
    assert_eq!(shown, [("set", 1_234, 1_234, 1_234), ("subtract", 1_000, -120, 0)]);
    assert_eq!(page.entries[0].key_name.as_deref(), Some("client bot"));
    assert!(page.entries[0].at > 1_700_000_000_000);
    let rest = xp.history(guild, one, Some(10), Some(page.next.expect("a next page"))).await.expect("the rest");
    let deltas: Vec<i64> = rest.entries.iter().map(|e| e.delta).collect();
    assert_eq!(deltas, [-30, 50, 100], "the replay is not in the ledger");
    assert_eq!(rest.entries[1].reason.as_deref(), Some("event 42"));
    assert_eq!(rest.entries[2].reference.as_deref(), Some("patrol"));
    assert_eq!(rest.next, None);

    // The leaderboard: highest first, equal balances by the lower Roblox id; `next` pages through it.
    xp.set(&XpChange::new(guild, member(7), 1_234), None).await.expect("set");
    xp.add(&XpChange::new(guild, member(3), 20), None).await.expect("added");
    let board = xp.leaderboard(guild, &LeaderboardPage::default()).await.expect("a leaderboard");
    let rows: Vec<(i64, i64, u64)> = board.entries.iter().map(|e| (e.roblox_id.get(), e.xp, e.rank)).collect();
    assert_eq!(rows, [(7, 1_234, 1), (123_456_789, 1_234, 2), (3, 20, 3)]);
    assert_eq!(board.next, None);
    let mut walked = Vec::new();
    let mut page = LeaderboardPage { limit: Some(2), ..LeaderboardPage::default() };
    loop {
        let part = xp.leaderboard(guild, &page).await.expect("a page");
        walked.extend(part.entries);
        match part.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, board.entries);
    let second = LeaderboardPage { limit: Some(1), offset: Some(1), after: None };
    assert_eq!(xp.leaderboard(guild, &second).await.expect("a page").entries[..], board.entries[1..2]);
}

async fn client_keeps_ep_and_leaves_of_absence(server: Server) {
    let client = server.api_client(&server.create_key(SERVER, "client bot", false));
    let (ep, guild, who) = (client.ep(), server_id(), member(55));

    let fresh = ep.get(guild, who).await.expect("EP");
    assert_eq!((fresh.ep, fresh.warning_level), (Companies::default(), 0));
    let add = |company, amount| EpAdd { server_id: guild, roblox_id: who, company, amount };
    assert_eq!(ep.add(&add(Company::Main, 3)).await.expect("added").ep.main, 3);
    let status = ep.add(&add(Company::Sub2, 5)).await.expect("added");
    assert_eq!(status.ep, Companies { main: 3, sub2: 5, ..Companies::default() });
    assert_eq!(ep.get(guild, who).await.expect("EP").ep, status.ep);

    // The policy: weekly with no quota until one is set; a set one reads back, and counts warnings.
    let default = ep.policy(guild).await.expect("a policy");
    assert_eq!((default.server_id, default.period_days, default.quota), (guild, 7, Companies::default()));
    let start = now_millis() - 4 * DAY - DAY / 2;
    let change = EpPolicyChange {
        period_days: Some(1),
        period_start: Some(start),
        quota: Some(Companies { main: 10, ..Companies::default() }),
        max_warning_level: Some(10),
        ..EpPolicyChange::new(guild)
    };
    let policy = ep.set_policy(&change).await.expect("a policy");
    assert_eq!((policy.period_days, policy.period_start, policy.quota.main), (1, start, 10));
    assert_eq!(policy.max_warning_level, 10);
    assert_eq!(ep.policy(guild).await.expect("a policy"), policy);
    assert_eq!(ep.get(guild, member(9)).await.expect("EP").warning_level, 4, "four missed days");

    // A leave of absence: none, started, refused twice over, ended.
    let loa = client.loa();
    let never = loa.get(guild, who).await.expect("a status");
    assert_eq!((never.active, never.started_at, never.ends_at), (false, None, None));
    let before = now_millis();
    let started = loa.start(&LoaStart { server_id: guild, roblox_id: who, days: 7 }).await.expect("started");
    let starts = started.started_at.expect("startedAt");
    assert!(started.active && (before..=now_millis()).contains(&starts));
    assert_eq!(started.ends_at, Some(starts + 7 * DAY));
    assert_eq!(loa.get(guild, who).await.expect("a status"), started);
    let twice = refused(loa.start(&LoaStart { server_id: guild, roblox_id: who, days: 3 }).await);
    assert_eq!((twice.status(), twice.message()), (Some(409), Some("55 already has an active leave of absence")));
    let ended = loa.end(&LoaEnd { server_id: guild, roblox_id: who }).await.expect("ended");
    assert_eq!((ended.active, ended.started_at), (false, Some(starts)));
    assert!(ended.ends_at.expect("endsAt") < starts + DAY, "endsAt shows when it really ended");
    let none = refused(loa.end(&LoaEnd { server_id: guild, roblox_id: who }).await);
    assert_eq!((none.status(), none.message()), (Some(409), Some("55 has no active leave of absence")));
}

async fn client_manages_medals_and_certifications(server: Server) {
    let client = server.api_client(&server.create_key(SERVER, "client bot", false));
    let (medals, guild, who) = (client.medals(), server_id(), member(123_456_789));

    let medal = |name: &str, description: Option<&str>| NewMedal {
        server_id: guild,
        name: name.to_owned(),
        description: description.map(str::to_owned),
    };
    let made = medals.create(&medal("Purple Heart", Some("Wounded in action"))).await.expect("created");
    assert_eq!((made.name.as_str(), made.description.as_str()), ("Purple Heart", "Wounded in action"));
    medals.create(&medal("Bronze Star", None)).await.expect("created");
    let taken = refused(medals.create(&medal("purple heart", None)).await);
    assert!(matches!(&taken, Error::Api { status: 409, message } if message.contains("already exists")), "{taken}");
    let names: Vec<String> = medals.list(guild).await.expect("the catalogue").into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["Bronze Star", "Purple Heart"]);

    let award = MedalAward { server_id: guild, roblox_id: who, medal_name: "Purple Heart".to_owned() };
    assert_eq!(medals.award(&award).await.expect("awarded"), "Awarded Purple Heart to 123456789.");
    let held = medals.of_member(guild, who).await.expect("held medals");
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].name.as_str(), held[0].description.as_str()), ("Purple Heart", "Wounded in action"));
    assert!(held[0].awarded_at.expect("awardedAt") > 1_700_000_000_000);
    assert_eq!(medals.revoke(&award).await.expect("revoked"), "Revoked Purple Heart from 123456789.");
    let not_held = refused(medals.revoke(&award).await);
    assert!(
        matches!(&not_held, Error::NotFound { message } if message == "123456789 does not hold Purple Heart"),
        "{not_held}"
    );
    medals.award(&award).await.expect("awarded again");
    assert_eq!(medals.delete(guild, "purple HEART").await.expect("deleted").name, "Purple Heart");
    assert!(medals.of_member(guild, who).await.expect("held medals").is_empty(), "deleting takes it from holders");

    let certifications = client.certifications();
    let made = certifications
        .create(&NewCertification {
            server_id: guild,
            reference: "afo".to_owned(),
            name: "Authorised Firearms Officer".to_owned(),
            description: Some("Certified to use firearms in the field".to_owned()),
        })
        .await
        .expect("created");
    assert_eq!((made.reference.as_str(), made.name.as_str()), ("AFO", "Authorised Firearms Officer"));
    let listed = certifications.list(guild).await.expect("the catalogue");
    assert_eq!(listed, std::slice::from_ref(&made));
    let award = CertificationAward { server_id: guild, roblox_id: who, reference: "AFO".to_owned() };
    assert_eq!(
        certifications.award(&award).await.expect("awarded"),
        "Awarded Authorised Firearms Officer (AFO) to 123456789."
    );
    assert!(certifications.check(guild, who, "afo").await.expect("checked"));
    assert!(!certifications.check(guild, who, "XYZ").await.expect("checked"), "an unknown reference is not held");
    let held = certifications.of_member(guild, who).await.expect("held");
    assert_eq!(held.iter().map(|c| c.reference.as_str()).collect::<Vec<_>>(), ["AFO"]);
    assert!(held[0].awarded_at.is_some());
    assert_eq!(certifications.revoke(&award).await.expect("revoked"), "Revoked AFO from 123456789.");
    assert!(!certifications.check(guild, who, "AFO").await.expect("checked"));
    assert_eq!(certifications.delete(guild, "afo").await.expect("deleted").reference, "AFO");
    let gone = refused(certifications.delete(guild, "afo").await);
    assert_eq!(gone.status(), Some(404), "{gone}");
}

async fn client_refusals_carry_the_servers_status_and_text(server: Server) {
    let key = server.create_key(SERVER, "client bot", false);
    let client = server.api_client(&key);
    let (guild, who) = (server_id(), member(1));
    client.xp().add(&XpChange::new(guild, who, 5), None).await.expect("added");

    let zero = refused(client.xp().add(&XpChange::new(guild, who, 0), None).await);
    assert!(
        matches!(&zero, Error::Api { status: 400, message } if message.starts_with("amount: must be an integer from")),
        "{zero}"
    );
    let unknown = api_client(&server.base, &format!("gar_{}", "0".repeat(64)));
    let error = refused(unknown.xp().get(guild, who).await);
    assert!(matches!(&error, Error::Unauthorized { message } if message == "invalid API key"), "{error}");
    let elsewhere = server.api_client(&server.create_key(OTHER_SERVER, "elsewhere", false));
    let error = refused(elsewhere.xp().get(guild, who).await);
    assert!(
        matches!(&error, Error::Forbidden { message } if message == "this API key is not valid for server 123456789012345678"),
        "{error}"
    );
    let reader = server.api_client(&server.create_key(SERVER, "dashboard", true));
    assert_eq!(reader.xp().get(guild, who).await.expect("a read").xp, 5);
    let error = refused(reader.xp().add(&XpChange::new(guild, who, 1), None).await);
    assert!(matches!(&error, Error::Forbidden { message } if message == "this API key is read-only"), "{error}");
    let unknown_hook = "wh_0123456789abcdef0123456789abcdef";
    let error = refused(client.webhooks().deliveries(guild, unknown_hook).await);
    assert_eq!(error.status(), Some(404), "{error}");
    assert_eq!(error.message(), Some(format!("No webhook {unknown_hook} in this server.").as_str()));
    let error = refused(client.webhooks().test(guild, unknown_hook).await);
    assert!(matches!(&error, Error::NotFound { .. }), "{error}");
    // Without a key at all, the server's own reason.
    let anonymous = Client::builder(server.base.as_str()).max_retries(0).build().expect("a client");
    let error = refused(anonymous.xp().get(guild, who).await);
    assert!(matches!(&error, Error::Unauthorized { message } if message.starts_with("missing API key")), "{error}");
    assert_eq!(client.xp().get(guild, who).await.expect("a balance").xp, 5, "nothing refused changed anything");
}

/// Checks a received delivery with the client's verifier and `secret` (`whsec_...`).
fn verify(secret: &str, received: &Received) -> Result<Event, VerifyError> {
    let headers = DeliveryHeaders {
        id: received.header("webhook-id"),
        timestamp: received.header("webhook-timestamp"),
        signature: received.header("webhook-signature"),
    };
    verify_webhook(secret, headers, received.body.as_bytes())
}

async fn client_manages_webhooks_whose_deliveries_verify(db: TestDatabase) {
    let server = Server::start_with(db, &[("GARRISON_FETCH_ALLOW_LOOPBACK", "true")]);
    let client = server.api_client(&server.create_key(SERVER, "client bot", false));
    let (hooks, guild) = (client.webhooks(), server_id());
    let receiver = Receiver::start();

    let made = hooks
        .create(&NewWebhook {
            server_id: guild,
            url: receiver.url.clone(),
            events: vec!["xp.changed".to_owned(), "webhook.test".to_owned()],
            description: Some("client".to_owned()),
        })
        .await
        .expect("created");
    let signing = made.secret.as_ref().expect("the secret, shown once").text();
    secret(&signing);
    assert!(made.id.starts_with("wh_"), "{}", made.id);
    assert_eq!((made.server_id, made.url.as_str()), (guild, receiver.url.as_str()));
    let listed = hooks.list(guild).await.expect("the endpoints");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].description.as_deref()), (made.id.as_str(), Some("client")));
    assert_eq!(listed[0].events, ["xp.changed", "webhook.test"]);
    assert!(listed[0].secret.is_none(), "never shown again");

    // A test event and an XP change arrive, and the client's verifier takes them with the secret.
    let event_id = hooks.test(guild, &made.id).await.expect("sent");
    assert!(event_id.starts_with("msg_"), "{event_id}");
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].header("webhook-id"), event_id);
    let event = verify(&signing, &got[0]).expect("a genuine delivery");
    assert_eq!(event.kind, "webhook.test");
    assert_eq!(event.data, json!({"serverId": SERVER, "webhookId": made.id.as_str()}));
    client.xp().add(&XpChange::new(guild, member(7), 10).reference("patrol"), None).await.expect("added");
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    let event = verify(&signing, &got[1]).expect("a genuine delivery");
    assert_eq!(event.kind, "xp.changed");
    assert_eq!((event.data["robloxId"].as_str(), event.data["xp"].as_i64()), (Some("7"), Some(10)));
    assert_eq!(
        (event.data["reference"].as_str(), event.data["keyName"].as_str()),
        (Some("patrol"), Some("client bot"))
    );
    let another = WebhookSecret::from_bytes([9; 32]).text();
    assert!(matches!(verify(&another, &got[1]), Err(VerifyError::BadSignature)), "another secret does not verify");
    let mut tampered = got[1].clone();
    tampered.body.push(' ');
    assert!(matches!(verify(&signing, &tampered), Err(VerifyError::BadSignature)), "nor does a changed body");

    // The log lists both, delivered, newest first.
    let delivered = wait_delivered(&client, guild, &made.id, 2).await;
    let kinds: Vec<&str> = delivered.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["xp.changed", "webhook.test"]);
    assert_eq!(delivered[1].event_id, event_id);
    assert!(delivered.iter().all(|d| d.attempts == 1 && d.last_status == Some(204)), "{delivered:?}");
    // A redelivery sends the same event again as a new delivery.
    let again = hooks.redeliver(guild, &made.id, delivered[1].id).await.expect("redelivered");
    assert_ne!(again, delivered[1].id);
    let got = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got[2].header("webhook-id"), event_id);
    assert_eq!(verify(&signing, &got[2]).expect("genuine").kind, "webhook.test");

    // A rotation: the new secret signs, the old one too during the overlap.
    let rotated = hooks.rotate(guild, &made.id, Some(1)).await.expect("rotated");
    let newer = rotated.secret.text();
    secret(&newer);
    assert_ne!(newer, signing);
    assert!(!rotated.previous_secret_valid_until.is_empty());
    hooks.test(guild, &made.id).await.expect("sent");
    let got = receiver.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(verify(&newer, &got[3]).expect("the new secret signs").kind, "webhook.test");
    assert_eq!(verify(&signing, &got[3]).expect("the old one still does").kind, "webhook.test");
    let listed = hooks.list(guild).await.expect("the endpoints");
    assert!(listed[0].previous_secret_valid_until.is_some(), "{listed:?}");
    let error = refused(hooks.rotate(guild, &made.id, Some(500)).await);
    assert!(
        matches!(&error, Error::Api { status: 400, message } if message == "overlapHours: must be from 0 to 168, got 500"),
        "{error}"
    );

    // Enabling an endpoint that is not disabled changes nothing (the core tests disable one: it
    // takes days of failing); an unknown one is not found.
    hooks.enable(guild, &made.id).await.expect("enabled");
    let listed = hooks.list(guild).await.expect("the endpoints");
    assert!(listed[0].disabled_at.is_none() && listed[0].failing_since.is_none(), "{listed:?}");
    let error = refused(hooks.enable(guild, "wh_unknown").await);
    assert!(
        matches!(&error, Error::NotFound { message } if message == "No webhook wh_unknown in this server."),
        "{error}"
    );

    // Removed: gone from the list, and its log with it.
    hooks.delete(guild, &made.id).await.expect("deleted");
    assert!(hooks.list(guild).await.expect("the endpoints").is_empty());
    let error = refused(hooks.deliveries(guild, &made.id).await);
    assert!(matches!(&error, Error::NotFound { .. }), "{error}");
    let error = refused(hooks.delete(guild, &made.id).await);
    assert!(matches!(&error, Error::NotFound { .. }), "{error}");
    server.assert_no_secret_logged();
}

/// The endpoint's deliveries once the latest `count` are delivered (the log is written after the
/// receiver answers).
async fn wait_delivered(client: &Client, guild: ServerId, id: &str, count: usize) -> Vec<Delivery> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = client.webhooks().deliveries(guild, id).await.expect("the log");
        if deliveries.len() >= count && deliveries.iter().all(|d| d.state == "delivered") {
            return deliveries;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn client_records_moderation_logs(db: TestDatabase) {
    const PUBLIC: &str = "https://garrison.example";
    let (world, demo) = World::demo();
    secret(&demo.bot.token);
    let sim = Simulator::start(world);
    let sim_url = sim.base_url();
    let server =
        Server::start_with(db, &[("GARRISON_DISCORD_API_URL", sim_url.as_str()), ("GARRISON_PUBLIC_URL", PUBLIC)]);
    let client = server.api_client(&server.create_key(SERVER, "client bot", false));
    let bot = BotToken::new(&demo.bot.token).expect("a bot token");
    let guild = ServerId::from_discord(Snowflake::from_raw(demo.guild)).expect("a server id");
    let user = Snowflake::from_raw(demo.members[0]);
    let entry = |action: ModAction, reason: &str| ModLogEntry {
        server: guild,
        user,
        action,
        moderator: Snowflake::from_raw(demo.moderator),
        moderator_name: "Casey".to_owned(),
        reason: Some(reason.to_owned()),
        duration: (action == ModAction::Timeout).then(|| "2h".to_owned()),
    };

    let mut view_url = String::new();
    for (action, reason) in [(ModAction::Warn, "first warning"), (ModAction::Timeout, "spamming")] {
        let logged = client.modlogs().add(&bot, &entry(action, reason)).await.expect("logged");
        assert_eq!(logged["success"], true);
        assert_eq!(logged["message"], format!("{action} logged."));
        let url = logged["viewUrl"].as_str().expect("viewUrl").to_owned();
        secret(url.rsplit('/').next().unwrap_or_default());
        assert!(view_url.is_empty() || url == view_url, "one page per user and server: {url} {view_url}");
        view_url = url;
    }
    let view_id = view_url.strip_prefix(&format!("{PUBLIC}/api/modlogs/view/")).expect("a view URL");
    let page = client.modlogs().view(view_id, None).await.expect("the page");
    assert!(page.contains("first warning") && page.contains("spamming") && page.contains("Casey"), "{page}");
    assert!(page.contains("Garrison Demo"), "the server's name");
    let error = refused(client.modlogs().view(view_id, Some(2)).await);
    assert_eq!(error.status(), Some(404), "{error}");
    let error = refused(client.modlogs().view(&"0".repeat(32), None).await);
    assert!(matches!(&error, Error::NotFound { message } if message == "Moderation log not found."), "{error}");
    let wrong = BotToken::new("MTIz.bad.token").expect("a token");
    let error = refused(client.modlogs().add(&wrong, &entry(ModAction::Kick, "x")).await);
    assert!(matches!(&error, Error::Unauthorized { message } if message == "Bot token invalid."), "{error}");
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "the simulator saw traffic Discord's document forbids: {violations:#?}");
}
