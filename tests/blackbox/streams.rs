//! The stream routes against the platforms' simulator (`garrison-streams-sim`): YouTube at two units a
//! check and its quota, Twitch's tokens, TikTok's page in all its states, check-all's parallelism and
//! independence, and the limits on what callers can make Garrison send. Every test ends with the
//! simulator having seen no key in a URL, and no key in the server's log.

use std::time::{Duration, Instant};

use garrison_streams_sim::{Platform, Simulator, TikTokPage};
use serde_json::{Value, json};

use crate::harness::{Backend, Reply, Server, database, expect, secret};

const YT_KEY: &str = "yt-key-for-the-black-box-tests";
const TWITCH_ID: &str = "garrisonclientid";
const TWITCH_SECRET: &str = "twitch-secret-for-the-black-box-tests";

struct Streams {
    sim: Simulator,
    server: Server,
}

impl Streams {
    fn start(env: &[(&str, &str)]) -> Self {
        for value in [YT_KEY, TWITCH_SECRET] {
            secret(value);
        }
        let sim = Simulator::start();
        sim.youtube_add_key(YT_KEY, 10_000);
        sim.twitch_add_client(TWITCH_ID, TWITCH_SECRET);
        let urls = [sim.youtube_url(), sim.twitch_auth_url(), sim.twitch_api_url(), sim.tiktok_url()];
        let mut all = vec![
            ("GARRISON_YOUTUBE_API_URL", urls[0].as_str()),
            ("GARRISON_TWITCH_AUTH_URL", urls[1].as_str()),
            ("GARRISON_TWITCH_API_URL", urls[2].as_str()),
            ("GARRISON_TIKTOK_URL", urls[3].as_str()),
        ];
        all.extend_from_slice(env);
        let server = Server::start_with(database(Backend::Sqlite).expect("SQLite is always available"), &all);
        Self { sim, server }
    }

    async fn send(&self, method: reqwest::Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Reply {
        let mut request = self.server.client().request(method, format!("{}{path}", self.server.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Server::reply(request.send().await.expect("the server answers")).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(reqwest::Method::GET, path, headers, None).await
    }

    async fn youtube(&self, handle: &str) -> Reply {
        self.get(&format!("/api/Stream/youtube/{handle}"), &[("X-YouTube-ApiKey", YT_KEY)]).await
    }

    async fn twitch(&self, user: &str) -> Reply {
        self.get(
            &format!("/api/Stream/twitch/{user}"),
            &[("X-Twitch-ClientId", TWITCH_ID), ("X-Twitch-Secret", TWITCH_SECRET)],
        )
        .await
    }

    async fn check_all(&self, body: Value) -> Reply {
        let headers =
            [("X-YouTube-ApiKey", YT_KEY), ("X-Twitch-ClientId", TWITCH_ID), ("X-Twitch-Secret", TWITCH_SECRET)];
        self.send(reqwest::Method::POST, "/api/Stream/check-all", &headers, Some(body)).await
    }

    fn assert_faithful(&self) {
        let violations = self.sim.violations();
        assert!(violations.is_empty(), "the platforms saw what they should not: {violations:#?}");
        self.server.assert_no_secret_logged();
    }
}

#[tokio::test]
async fn youtube_checks_cost_two_units_and_answer_the_seeds_objects() {
    let s = Streams::start(&[]);
    s.sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
    s.sim.youtube_upload("@GarrisonLive", "A plain video");
    let video = s.sim.youtube_go_live("@GarrisonLive", "Town hall", 1234);
    s.sim.youtube_upload("@GarrisonLive", "A short posted during the stream");
    s.sim.youtube_add_channel("Quiet", "Quiet channel");
    s.sim.youtube_upload("Quiet", "Old video");

    let live = expect(s.youtube("@GarrisonLive").await, 200).body;
    assert_eq!(live["platform"], "YouTube");
    assert_eq!((live["user"].as_str(), live["isLive"].as_bool()), (Some("@GarrisonLive"), Some(true)));
    assert_eq!(live["url"], "https://youtube.com/@GarrisonLive");
    assert_eq!(live["title"], "Town hall");
    assert_eq!(live["videoUrl"], format!("https://www.youtube.com/watch?v={video}"));
    assert_eq!(live["viewerCount"], 1234);
    assert!(live["startedAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{live}");
    assert_eq!(s.sim.youtube_quota_used(YT_KEY), 3, "the handle (1 unit, once) and the check (2 units)");
    assert_eq!(s.sim.calls_to("GET /youtube/v3/search"), 0, "never search.list's 100 units");

    // Kept 15 minutes: no call, whatever the letter case or the '@'.
    let calls = s.sim.calls(Platform::YouTube);
    assert_eq!(expect(s.youtube("garrisonlive").await, 200).body["isLive"], true);
    assert_eq!(s.sim.calls(Platform::YouTube), calls);

    let quiet = expect(s.youtube("Quiet").await, 200).body;
    assert_eq!(quiet, json!({"platform":"YouTube","user":"@Quiet","isLive":false,"url":"https://youtube.com/@Quiet"}));
    assert_eq!(s.sim.youtube_quota_used(YT_KEY), 6);

    // 'none' skips without a call; bad names, unknown handles and missing or refused keys are named.
    let calls = s.sim.calls(Platform::YouTube);
    let skipped = expect(s.get("/api/Stream/youtube/none", &[]).await, 200).body;
    assert_eq!(skipped, json!({"platform":"YouTube","user":"none","isLive":false,"status":"skipped"}));
    assert!(expect(s.youtube("a%20b").await, 400).error().starts_with("handle: must be a YouTube handle"));
    assert!(expect(s.youtube(&"x".repeat(31)).await, 400).error().starts_with("handle: "));
    assert_eq!(s.sim.calls(Platform::YouTube), calls);
    assert_eq!(expect(s.youtube("@nobody").await, 404).error(), "YouTube has no channel with the handle @nobody");
    let reply = expect(s.get("/api/Stream/youtube/@someone", &[]).await, 400);
    assert_eq!(reply.error(), "X-YouTube-ApiKey: no YouTube credentials were sent and none are configured");
    let wrong = "AIzaSyWrongKeyForTheBlackBoxTests";
    secret(wrong);
    let reply = expect(s.get("/api/Stream/youtube/@someone", &[("X-YouTube-ApiKey", wrong)]).await, 400);
    assert_eq!(reply.error(), "YouTube refused the credentials in X-YouTube-ApiKey");
    assert!(!reply.body.to_string().contains(wrong));

    // Ended: the next check after 15 minutes would say so; a fresh server asks at once.
    s.sim.youtube_go_offline("@GarrisonLive");
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let fresh = Streams { server: Server::start_with(database(Backend::Sqlite).expect("SQLite"), &env), sim: s.sim };
    assert_eq!(expect(fresh.youtube("@GarrisonLive").await, 200).body["isLive"], false);
    fresh.assert_faithful();
}

impl Streams {
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GARRISON_YOUTUBE_API_URL", self.sim.youtube_url()),
            ("GARRISON_TWITCH_AUTH_URL", self.sim.twitch_auth_url()),
            ("GARRISON_TWITCH_API_URL", self.sim.twitch_api_url()),
            ("GARRISON_TIKTOK_URL", self.sim.tiktok_url()),
        ]
    }
}

#[tokio::test]
async fn a_spent_quota_answers_null_never_false() {
    // Garrison's own count: 3 units a day lets one first check through, then answers without asking.
    let s = Streams::start(&[("GARRISON_YOUTUBE_DAILY_QUOTA", "3")]);
    for handle in ["first", "second"] {
        s.sim.youtube_add_channel(handle, handle);
        s.sim.youtube_upload(handle, "video");
    }
    assert_eq!(expect(s.youtube("first").await, 200).body["isLive"], false);
    let calls = s.sim.calls(Platform::YouTube);
    let spent = expect(s.youtube("second").await, 200).body;
    assert_eq!(
        spent,
        json!({"platform":"YouTube","user":"@second","isLive":null,"status":"quota_exhausted","url":"https://youtube.com/@second"})
    );
    assert_eq!(s.sim.calls(Platform::YouTube), calls, "not asked");
    s.assert_faithful();

    // YouTube's word: the key is shared with other software and YouTube says it is spent.
    let s = Streams::start(&[]);
    s.sim.youtube_add_key(YT_KEY, 4);
    for handle in ["first", "second", "third"] {
        s.sim.youtube_add_channel(handle, handle);
        s.sim.youtube_upload(handle, "video");
    }
    assert_eq!(expect(s.youtube("first").await, 200).body["isLive"], false);
    let spent = expect(s.youtube("second").await, 200).body;
    assert_eq!((spent["isLive"].clone(), spent["status"].clone()), (Value::Null, json!("quota_exhausted")));
    let calls = s.sim.calls(Platform::YouTube);
    assert_eq!(expect(s.youtube("third").await, 200).body["status"], "quota_exhausted");
    assert_eq!(s.sim.calls(Platform::YouTube), calls, "not asked again the same Pacific day");
    s.assert_faithful();
}

#[tokio::test]
async fn the_configured_key_comes_first() {
    let s = Streams::start(&[("GARRISON_YOUTUBE_API_KEY", YT_KEY)]);
    s.sim.youtube_add_channel("first", "first");
    let other = "a-callers-key-that-youtube-does-not-know";
    secret(other);
    let reply = expect(s.get("/api/Stream/youtube/first", &[("X-YouTube-ApiKey", other)]).await, 200);
    assert_eq!(reply.body["isLive"], false);
    assert_eq!(s.sim.youtube_quota_used(YT_KEY), 2, "an empty uploads playlist needs no videos.list");
    s.assert_faithful();
}

#[tokio::test]
async fn twitch_tokens_are_kept_fetched_again_when_refused_and_never_in_a_url() {
    let s = Streams::start(&[]);
    s.sim.twitch_go_live("xqc", "Gaming", "Just Chatting", 50_000);
    s.sim.twitch_add_user("quiet_one", "Quiet_One");

    let live = expect(s.twitch("xqc").await, 200).body;
    assert_eq!(live["platform"], "Twitch");
    assert_eq!((live["user"].as_str(), live["isLive"].as_bool()), (Some("xqc"), Some(true)));
    assert_eq!((live["title"].as_str(), live["viewerCount"].as_u64()), (Some("Gaming"), Some(50_000)));
    assert_eq!((live["url"].as_str(), live["game"].as_str()), (Some("https://twitch.tv/xqc"), Some("Just Chatting")));
    assert!(live["thumbnailUrl"].as_str().is_some_and(|u| u.contains("1280x720")), "{live}");
    let quiet = expect(s.twitch("Quiet_One").await, 200).body;
    assert_eq!(
        quiet,
        json!({"platform":"Twitch","user":"Quiet_One","isLive":false,"url":"https://twitch.tv/quiet_one"})
    );
    assert_eq!(s.sim.twitch_tokens_issued(), 1, "one token for both");

    // Twitch stops accepting the token: a fresh one, once.
    s.sim.twitch_expire_tokens();
    s.sim.twitch_go_live("third_user", "Speedrun", "Celeste", 7);
    assert_eq!(expect(s.twitch("third_user").await, 200).body["isLive"], true);
    assert_eq!(s.sim.twitch_tokens_issued(), 2);

    secret("not-the-secret");
    let reply = expect(
        s.get(
            "/api/Stream/twitch/never_seen",
            &[("X-Twitch-ClientId", TWITCH_ID), ("X-Twitch-Secret", "not-the-secret")],
        )
        .await,
        400,
    );
    assert_eq!(reply.error(), "Twitch refused the credentials in X-Twitch-ClientId and X-Twitch-Secret");
    let reply = expect(s.get("/api/Stream/twitch/someone", &[("X-Twitch-ClientId", TWITCH_ID)]).await, 400);
    assert_eq!(reply.error(), "X-Twitch-Secret: required with X-Twitch-ClientId");
    assert!(expect(s.twitch("no.dots").await, 400).error().starts_with("user: must be a Twitch login"));
    s.assert_faithful();
}

#[tokio::test]
async fn tiktok_says_live_offline_or_unknown_never_a_guess() {
    let s = Streams::start(&[]);
    s.sim.tiktok_set("khaby.lame", TikTokPage::Live { title: "Hello </script>".into(), viewers: 9 });
    s.sim.tiktok_set("quiet.one", TikTokPage::Offline);
    s.sim.tiktok_set("changed", TikTokPage::ChangedMarkup);
    s.sim.tiktok_set("nobody", TikTokPage::Missing);

    let live = expect(s.get("/api/Stream/tiktok/khaby.lame", &[]).await, 200).body;
    assert_eq!((live["isLive"].as_bool(), live["title"].as_str()), (Some(true), Some("Hello </script>")));
    assert_eq!(live["url"], "https://www.tiktok.com/@khaby.lame/live");
    assert_eq!(live["viewerCount"], 9);
    let offline = expect(s.get("/api/Stream/tiktok/@quiet.one", &[]).await, 200).body;
    assert_eq!(
        offline,
        json!({"platform":"TikTok","user":"quiet.one","isLive":false,"url":"https://www.tiktok.com/@quiet.one/live"})
    );
    for user in ["changed", "nobody"] {
        let unknown = expect(s.get(&format!("/api/Stream/tiktok/{user}"), &[]).await, 200).body;
        assert_eq!((unknown["isLive"].clone(), unknown["status"].clone()), (Value::Null, json!("unknown")), "{user}");
    }
    s.sim.set_down(Platform::TikTok, true);
    let down = expect(s.get("/api/Stream/tiktok/someone.else", &[]).await, 200).body;
    assert_eq!(down["status"], "unknown", "TikTok down is unknown, not an error");
    s.assert_faithful();
}

#[tokio::test]
async fn check_all_asks_in_parallel_and_one_platforms_failure_fails_nothing() {
    let s = Streams::start(&[("GARRISON_STREAM_TIMEOUT_MS", "3000")]);
    s.sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
    s.sim.youtube_go_live("@GarrisonLive", "Town hall", 10);
    s.sim.twitch_go_live("xqc", "Stream Title", "Just Chatting", 50_000);
    s.sim.tiktok_set("khaby.lame", TikTokPage::Offline);
    // Three YouTube calls, two Twitch calls, one TikTok call of 300 ms each: 1.8 s one after another.
    for platform in [Platform::YouTube, Platform::Twitch, Platform::TikTok] {
        s.sim.set_latency(platform, Duration::from_millis(300));
    }
    let started = Instant::now();
    let all = expect(
        s.check_all(json!({"youtubeHandle":"@GarrisonLive","twitchUser":"xqc","tikTokUser":"khaby.lame"})).await,
        200,
    )
    .body;
    let took = started.elapsed();
    let platforms: Vec<&str> =
        all.as_array().expect("an array").iter().filter_map(|e| e["platform"].as_str()).collect();
    assert_eq!(platforms, ["YouTube", "Twitch", "TikTok"]);
    assert_eq!((all[0]["isLive"].as_bool(), all[1]["viewerCount"].as_u64()), (Some(true), Some(50_000)));
    assert_eq!(all[2]["isLive"], false);
    assert!(took < Duration::from_millis(1_500), "the slowest platform (YouTube, 0.9 s) sets the pace: {took:?}");

    // Skipped platforms are left out; a platform down is its own entry's error.
    s.sim.set_down(Platform::Twitch, true);
    let all =
        expect(s.check_all(json!({"youtubeHandle":"none","twitchUser":"someone_new","tikTokUser":""})).await, 200).body;
    let entries = all.as_array().expect("an array");
    assert_eq!(entries.len(), 1, "{all}");
    assert_eq!((entries[0]["platform"].as_str(), entries[0]["status"].as_str()), (Some("Twitch"), Some("error")));
    assert_eq!(entries[0]["isLive"], Value::Null);
    assert!(entries[0]["error"].as_str().is_some_and(|e| e.starts_with("Twitch is unavailable: ")), "{all}");
    let reply = expect(s.twitch("someone_new").await, 502);
    assert!(reply.error().starts_with("Twitch is unavailable: "), "{}", reply.error());

    // A platform slower than the deadline is 502 on its own route, an error entry in check-all.
    s.sim.set_down(Platform::Twitch, false);
    s.sim.set_latency(Platform::YouTube, Duration::from_millis(4_000));
    s.sim.youtube_add_channel("slow", "Slow");
    let started = Instant::now();
    let all =
        expect(s.check_all(json!({"youtubeHandle":"slow","twitchUser":"xqc","tikTokUser":"khaby.lame"})).await, 200)
            .body;
    assert!(started.elapsed() < Duration::from_millis(3_900), "{:?}", started.elapsed());
    let error = all[0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("YouTube is unavailable: "), "{all}");
    assert_eq!((all[1]["isLive"].as_bool(), all[2]["isLive"].as_bool()), (Some(true), Some(false)));
    s.assert_faithful();
}

#[tokio::test]
async fn callers_can_start_only_so_many_uncached_checks_a_minute() {
    let s = Streams::start(&[("GARRISON_STREAM_CHECKS_PER_MINUTE", "2")]);
    for user in ["one.user", "two.user", "three.user"] {
        s.sim.tiktok_set(user, TikTokPage::Offline);
    }
    expect(s.get("/api/Stream/tiktok/one.user", &[]).await, 200);
    expect(s.get("/api/Stream/tiktok/two.user", &[]).await, 200);
    let reply = expect(s.get("/api/Stream/tiktok/three.user", &[]).await, 429);
    assert!(reply.error().starts_with("Too many uncached TikTok checks this minute"), "{}", reply.error());
    let retry: u64 = reply.headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(s.sim.calls(Platform::TikTok), 2);
    expect(s.get("/api/Stream/tiktok/one.user", &[]).await, 200);
    assert_eq!(s.sim.calls(Platform::TikTok), 2, "cached answers are always served");
    s.assert_faithful();
}

/// A server with the Discord simulator's demo guild and its server-wide bot, for watches.
fn with_discord() -> (garrison_discord_sim::Simulator, garrison_discord_sim::Demo, Server) {
    let (world, demo) = garrison_discord_sim::World::demo();
    let discord = garrison_discord_sim::Simulator::start(world);
    secret(&demo.bot.token);
    let url = discord.base_url();
    let server = Server::start_with(
        database(Backend::Sqlite).expect("SQLite"),
        &[("GARRISON_DISCORD_API_URL", &url), ("GARRISON_DISCORD_BOT_TOKEN", &demo.bot.token)],
    );
    (discord, demo, server)
}

#[tokio::test]
async fn watches_go_only_into_the_servers_own_channels_and_are_listed_and_deleted() {
    let (discord, demo, server) = with_discord();
    let guild = demo.guild.to_string();
    let key = server.create_key(&guild, "alerts", false);
    let read_only = server.create_key(&guild, "viewer", true);
    let watch = |user: &str, channel: u64| {
        json!({"serverId": guild, "platform": "twitch", "user": user, "channelId": channel.to_string(),
               "message": "We are live!", "roleIdToMention": demo.member_role.to_string()})
    };

    let made = expect(server.post("/api/Stream/watches", &key, watch("xQc", demo.general)).await, 201).body;
    assert_eq!((made["platform"].as_str(), made["user"].as_str()), (Some("Twitch"), Some("xQc")));
    assert_eq!(made["channelId"], demo.general.to_string());
    assert_eq!(made["roleIdToMention"], demo.member_role.to_string());
    let again = expect(server.post("/api/Stream/watches", &key, watch("XQC", demo.general)).await, 200).body;
    assert_eq!(again["id"], made["id"], "the same streamer into the same channel is the same watch");
    expect(server.post("/api/Stream/watches", &key, watch("xqc", demo.staff)).await, 201);
    // A channel of the server where the bot may not post: its alerts would all be refused.
    let refused = expect(server.post("/api/Stream/watches", &key, watch("xqc", demo.mod_log)).await, 400);
    assert_eq!(
        refused.error(),
        format!("channelId: the bot cannot post alerts in channel {}: it lacks Send Messages", demo.mod_log)
    );

    // Another guild's channel, a voice channel, a role of another guild, bad names: refused, named.
    let (other_guild, other_channel) = discord.world(|w| {
        let other = w.add_guild("Elsewhere", demo.owner);
        (other, w.add_channel(other, 0, "general", None, 0))
    });
    let refused = expect(server.post("/api/Stream/watches", &key, watch("xqc", other_channel)).await, 400);
    assert!(refused.error().starts_with("channelId: no channel"), "{}", refused.error());
    let voice = expect(server.post("/api/Stream/watches", &key, watch("xqc", demo.voice)).await, 400);
    assert_eq!(voice.error(), "channelId: must be a text or announcement channel");
    let mut foreign_role = watch("xqc", demo.general);
    foreign_role["roleIdToMention"] = json!(other_guild.to_string());
    let refused = expect(server.post("/api/Stream/watches", &key, foreign_role).await, 400);
    assert!(refused.error().starts_with("roleIdToMention: no role"), "{}", refused.error());
    let mut bad = watch("no.dots", demo.general);
    assert!(expect(server.post("/api/Stream/watches", &key, bad.clone()).await, 400).error().starts_with("user: "));
    bad["platform"] = json!("myspace");
    assert_eq!(
        expect(server.post("/api/Stream/watches", &key, bad).await, 400).error(),
        "platform: must be youtube, twitch or tiktok"
    );
    expect(server.post("/api/Stream/watches", &read_only, watch("someone", demo.general)).await, 403);

    let listed = expect(server.get(&format!("/api/Stream/watches?serverId={guild}"), &read_only).await, 200).body;
    assert_eq!(listed["watches"].as_array().map(Vec::len), Some(2));
    let id = made["id"].as_i64().expect("an id");
    expect(server.delete(&format!("/api/Stream/watches/{id}?serverId={guild}"), &read_only).await, 403);
    let deleted = expect(server.delete(&format!("/api/Stream/watches/{id}?serverId={guild}"), &key).await, 200);
    assert_eq!(deleted.body, json!({"status": "Deleted"}));
    expect(server.delete(&format!("/api/Stream/watches/{id}?serverId={guild}"), &key).await, 404);
    let listed = expect(server.get(&format!("/api/Stream/watches?serverId={guild}"), &key).await, 200).body;
    assert_eq!(listed["watches"].as_array().map(Vec::len), Some(1));
    assert!(discord.spec_violations().is_empty(), "{:#?}", discord.spec_violations());
    server.assert_no_secret_logged();
}

#[tokio::test]
async fn a_servers_stream_credentials_are_sealed_and_never_answered() {
    let (_discord, demo, server) = with_discord();
    let guild = demo.guild.to_string();
    let key = server.create_key(&guild, "alerts", false);
    let (youtube, twitch_secret) = ("AIzaSy-a-servers-own-youtube-key", "a-servers-own-twitch-secret");
    secret(youtube);
    secret(twitch_secret);
    let none = expect(server.get(&format!("/api/server/streams?serverId={guild}"), &key).await, 200).body;
    assert_eq!(none, json!({"serverId": guild, "youtubeApiKey": false, "twitch": false}));
    let body = json!({"serverId": guild, "youtubeApiKey": youtube, "twitchClientId": "clientid", "twitchClientSecret": twitch_secret});
    let set = expect(server.put("/api/server/streams", &key, body).await, 200).body;
    assert_eq!(set, json!({"serverId": guild, "youtubeApiKey": true, "twitch": true}));
    let half = json!({"serverId": guild, "twitchClientId": "only-the-id"});
    assert!(
        expect(server.put("/api/server/streams", &key, half).await, 400).error().starts_with("twitchClientSecret: ")
    );
    let forget = json!({"serverId": guild, "youtubeApiKey": ""});
    let after = expect(server.put("/api/server/streams", &key, forget).await, 200).body;
    assert_eq!(after, json!({"serverId": guild, "youtubeApiKey": false, "twitch": true}), "the rest is kept");

    // The operator's command says the same, and the database holds no credential in the clear.
    let (ok, out, _) = server.cli(&["server", "streams", "show", "--server", &guild]);
    assert!(ok);
    assert_eq!(out.trim(), format!("server {guild}: YouTube key not set; Twitch client set"));
    let path = server.db.url().strip_prefix("sqlite://").expect("a SQLite file").to_owned();
    let file = std::fs::read(&path).expect("the database file");
    let wal = std::fs::read(format!("{path}-wal")).unwrap_or_default();
    assert!(!file.is_empty());
    for bytes in [&file, &wal] {
        assert!(!bytes.windows(twitch_secret.len()).any(|w| w == twitch_secret.as_bytes()));
    }
    server.assert_no_secret_logged();
}

/// Waits up to 20 s for `check` to hold, polling every 100 ms.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_live_stream_is_announced_once_edited_at_its_end_and_not_again_after_a_restart() {
    let streams = Simulator::start();
    streams.twitch_add_client(TWITCH_ID, TWITCH_SECRET);
    streams.twitch_add_user("garrisonlive", "GarrisonLive");
    let (mut world, demo) = garrison_discord_sim::World::demo();
    world.set_role_mentionable(demo.guild, demo.member_role, true);
    let discord = garrison_discord_sim::Simulator::start(world);
    secret(&demo.bot.token);
    let (discord_url, auth, api, tiktok) =
        (discord.base_url(), streams.twitch_auth_url(), streams.twitch_api_url(), streams.tiktok_url());
    let mut server = Server::start_with(
        database(Backend::Sqlite).expect("SQLite"),
        &[
            ("GARRISON_DISCORD_API_URL", &discord_url),
            ("GARRISON_DISCORD_BOT_TOKEN", &demo.bot.token),
            ("GARRISON_TWITCH_AUTH_URL", &auth),
            ("GARRISON_TWITCH_API_URL", &api),
            ("GARRISON_TIKTOK_URL", &tiktok),
            ("GARRISON_TWITCH_CLIENT_ID", TWITCH_ID),
            ("GARRISON_TWITCH_CLIENT_SECRET", TWITCH_SECRET),
            ("GARRISON_STREAM_POLL_SECONDS", "1"),
        ],
    );
    let guild = demo.guild.to_string();
    let key = server.create_key(&guild, "alerts", false);
    let watch = |platform: &str, user: &str, channel: u64, role: Option<u64>| {
        let mut body = json!({"serverId": guild, "platform": platform, "user": user, "channelId": channel.to_string(),
                              "message": "@everyone we are live!"});
        if let Some(role) = role {
            body["roleIdToMention"] = json!(role.to_string());
        }
        body
    };
    expect(
        server
            .post("/api/Stream/watches", &key, watch("twitch", "GarrisonLive", demo.general, Some(demo.member_role)))
            .await,
        201,
    );
    expect(server.post("/api/Stream/watches", &key, watch("twitch", "garrisonlive", demo.staff, None)).await, 201);
    expect(server.post("/api/Stream/watches", &key, watch("tiktok", "garrison.live", demo.general, None)).await, 201);
    // The alerts: the bot's messages in a channel that were not there before.
    let bot = demo.bot.user_id;
    let earlier: std::collections::HashSet<u64> =
        discord.world(|w| [demo.general, demo.staff].iter().flat_map(|c| w.messages(*c)).map(|m| m.id).collect());
    let alerts = |channel: u64| {
        let mut posted: Vec<_> = discord
            .world(|w| w.messages(channel))
            .into_iter()
            .filter(|m| m.author_id == bot && !earlier.contains(&m.id))
            .collect();
        posted.sort_by_key(|m| m.id);
        posted
    };

    streams.twitch_go_live("garrisonlive", "Town hall", "Chess", 42);
    let posted = eventually("the alert", || alerts(demo.general).pop()).await;
    assert_eq!(posted.content, format!("<@&{}> @everyone we are live!", demo.member_role));
    assert_eq!(posted.pinged_roles, vec![demo.member_role], "the chosen role pings");
    assert!(!posted.mention_everyone, "text in the message never pings @everyone");
    let embed = &posted.embeds[0];
    assert_eq!(embed["title"], "Town hall");
    assert_eq!(embed["url"], "https://twitch.tv/garrisonlive");
    assert_eq!(embed["fields"][0]["value"], "Chess");
    assert!(embed["image"]["url"].as_str().is_some_and(|u| u.starts_with("https://")), "{embed}");
    let other = eventually("the second channel's alert", || alerts(demo.staff).pop()).await;
    assert!(other.pinged_roles.is_empty() && other.mention_roles.is_empty());

    // Rounds go on; a crash and a restart later, still one alert per channel.
    let calls = streams.calls_to("GET /helix/streams");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(streams.calls_to("GET /helix/streams") > calls, "the loop keeps polling");
    server.kill_and_restart();
    let calls = streams.calls_to("GET /helix/streams");
    eventually("a round after the restart", || (streams.calls_to("GET /helix/streams") > calls + 1).then_some(()))
        .await;
    assert_eq!((alerts(demo.general).len(), alerts(demo.staff).len()), (1, 1), "never two alerts");

    // The end: the same message, edited.
    streams.twitch_go_offline("garrisonlive");
    let ended = eventually("the edit", || alerts(demo.general).pop().filter(|m| m.edited_timestamp.is_some())).await;
    assert_eq!(ended.id, posted.id);
    assert!(ended.embeds[0]["description"].as_str().is_some_and(|d| d.starts_with("The stream ended after")));
    assert!(ended.embeds[0].get("image").is_none_or(Value::is_null), "{}", ended.embeds[0]);
    eventually("the second edit", || alerts(demo.staff).pop().and_then(|m| m.edited_timestamp)).await;

    // A new broadcast is a new alert; so is TikTok's.
    streams.twitch_go_live("garrisonlive", "Round two", "Chess", 7);
    eventually("the next stream's alert", || (alerts(demo.staff).len() == 2).then_some(())).await;
    streams.tiktok_set("garrison.live", TikTokPage::Live { title: "Dance".into(), viewers: 3 });
    let tiktok = eventually("TikTok's alert", || {
        alerts(demo.general).into_iter().find(|m| m.embeds[0]["url"] == "https://www.tiktok.com/@garrison.live/live")
    })
    .await;
    assert_eq!(tiktok.embeds[0]["title"], "Dance");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(alerts(demo.general).len(), 3, "the first stream, the second, TikTok's");
    assert!(streams.violations().is_empty(), "{:#?}", streams.violations());
    assert!(discord.spec_violations().is_empty(), "{:#?}", discord.spec_violations());
    server.assert_no_secret_logged();
}

#[tokio::test]
async fn twitch_pushes_stream_starts_and_ends_signed_and_replays_are_refused() {
    let streams = Simulator::start();
    streams.twitch_add_client(TWITCH_ID, TWITCH_SECRET);
    streams.twitch_add_user("garrisonlive", "GarrisonLive");
    // Twitch delivers only to HTTPS on 443; this test's server is plain HTTP on loopback.
    streams.twitch_allow_http_callbacks(true);
    let (world, demo) = garrison_discord_sim::World::demo();
    let discord = garrison_discord_sim::Simulator::start(world);
    secret(&demo.bot.token);
    // The callback's address must be known before the server starts: a port picked now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let (bind, public) = (format!("127.0.0.1:{port}"), format!("http://127.0.0.1:{port}"));
    let (discord_url, auth, api) = (discord.base_url(), streams.twitch_auth_url(), streams.twitch_api_url());
    let server = Server::start_with(
        database(Backend::Sqlite).expect("SQLite"),
        &[
            ("GARRISON_BIND", &bind),
            ("GARRISON_PUBLIC_URL", &public),
            ("GARRISON_DISCORD_API_URL", &discord_url),
            ("GARRISON_DISCORD_BOT_TOKEN", &demo.bot.token),
            ("GARRISON_TWITCH_AUTH_URL", &auth),
            ("GARRISON_TWITCH_API_URL", &api),
            ("GARRISON_TWITCH_CLIENT_ID", TWITCH_ID),
            ("GARRISON_TWITCH_CLIENT_SECRET", TWITCH_SECRET),
            ("GARRISON_TWITCH_EVENTSUB", "true"),
            ("GARRISON_STREAM_POLL_SECONDS", "1"),
        ],
    );
    let guild = demo.guild.to_string();
    let key = server.create_key(&guild, "alerts", false);
    let body =
        json!({"serverId": guild, "platform": "twitch", "user": "GarrisonLive", "channelId": demo.general.to_string()});
    let watch = expect(server.post("/api/Stream/watches", &key, body).await, 201).body;

    // Two subscriptions, verified by Garrison's answer to Twitch's challenge.
    let broadcaster = streams.twitch_user_id("garrisonlive").expect("a Twitch user");
    let enabled = |streams: &Simulator| {
        let subs = streams.twitch_eventsub_subscriptions();
        let mut kinds: Vec<String> = subs
            .iter()
            .filter(|s| s.broadcaster_user_id == broadcaster && s.status == "enabled")
            .map(|s| s.subscription_type.clone())
            .collect();
        kinds.sort();
        (kinds == ["stream.offline", "stream.online"]).then_some(subs)
    };
    let subs = eventually("two enabled subscriptions", || enabled(&streams)).await;
    assert!(subs.iter().all(|s| s.callback.starts_with(&format!("{public}/api/Stream/eventsub/twitch?key="))));
    // Then the streamer is no longer polled: Twitch says when it goes live.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let polled = streams.calls_to("GET /helix/streams");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(streams.calls_to("GET /helix/streams"), polled, "pushed streamers are not polled every round");

    let bot = demo.bot.user_id;
    let earlier: std::collections::HashSet<u64> =
        discord.world(|w| w.messages(demo.general)).iter().map(|m| m.id).collect();
    let alerts = || {
        discord
            .world(|w| w.messages(demo.general))
            .into_iter()
            .filter(|m| m.author_id == bot && !earlier.contains(&m.id))
            .collect::<Vec<_>>()
    };
    streams.twitch_go_live("garrisonlive", "Pushed stream", "Chess", 5);
    let started = Instant::now();
    let posted = eventually("the pushed alert", || alerts().pop()).await;
    assert!(started.elapsed() < Duration::from_secs(3), "announced on the push, not a poll: {:?}", started.elapsed());
    assert_eq!(posted.embeds[0]["title"], "Pushed stream", "the title read from Helix");
    let deliveries = streams.twitch_eventsub_deliveries();
    let online = deliveries.iter().rfind(|d| d.message_type == "notification").expect("a notification");
    assert_eq!(online.answer, Ok(204));

    // The same message again (same id, timestamp and signature): refused, and nothing is posted.
    let replayed: Value = reqwest::Client::new()
        .post(format!("http://{}/_sim/twitch/eventsub/replay", streams.addr()))
        .send()
        .await
        .expect("the simulator answers")
        .json()
        .await
        .expect("JSON");
    let replayed = replayed["status"].as_u64().ok_or(replayed.to_string());
    assert_eq!(replayed, Ok(403), "a replay is refused");
    // Forged, stale and unsigned deliveries: refused, named.
    let now = time_now();
    let forged = [
        ("sha256=".to_owned() + &"0".repeat(64), now.clone(), "the message's signature does not match"),
        ("md5=abc".to_owned(), now, "the message's signature does not match"),
    ];
    let body = r#"{"subscription":{"id":"x","status":"enabled","type":"stream.online"},"event":{"id":"1","broadcaster_user_login":"garrisonlive"}}"#;
    for (signature, timestamp, error) in forged {
        let reply = s_post_eventsub(&server, &signature, &timestamp, body).await;
        assert_eq!((reply.status.as_u16(), reply.error()), (403, error));
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(alerts().len(), 1, "neither the replay nor a forgery posted anything");

    streams.twitch_go_offline("garrisonlive");
    let ended = eventually("the pushed end", || alerts().pop().filter(|m| m.edited_timestamp.is_some())).await;
    assert_eq!(ended.id, posted.id);

    // Twitch ends a subscription: Garrison makes a new one.
    let online_sub = subs.iter().find(|s| s.subscription_type == "stream.online").expect("online").id.clone();
    assert!(streams.twitch_revoke(&online_sub, "authorization_revoked"));
    eventually("a new subscription after the revocation", || {
        enabled(&streams).filter(|subs| !subs.iter().any(|s| s.id == online_sub && s.status == "enabled"))
    })
    .await;

    // No more watches of the streamer: no more subscriptions.
    let id = watch["id"].as_i64().expect("an id");
    expect(server.delete(&format!("/api/Stream/watches/{id}?serverId={guild}"), &key).await, 200);
    eventually("the subscriptions deleted", || {
        streams.twitch_eventsub_subscriptions().iter().all(|s| s.status != "enabled").then_some(())
    })
    .await;
    assert!(streams.violations().is_empty(), "{:#?}", streams.violations());
    assert!(discord.spec_violations().is_empty(), "{:#?}", discord.spec_violations());
    server.assert_no_secret_logged();
}

/// Now, as Twitch writes `Twitch-Eventsub-Message-Timestamp`.
fn time_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    garrison_core::Timestamp::from_millis(i64::try_from(secs).expect("a time") * 1000).to_iso8601()
}

/// A delivery to the EventSub callback as anyone could send it.
async fn s_post_eventsub(server: &Server, signature: &str, timestamp: &str, body: &str) -> Reply {
    let request = server
        .client()
        .post(format!("{}/api/Stream/eventsub/twitch", server.base))
        .header("Twitch-Eventsub-Message-Id", "forged-1")
        .header("Twitch-Eventsub-Message-Timestamp", timestamp)
        .header("Twitch-Eventsub-Message-Signature", signature)
        .header("Twitch-Eventsub-Message-Type", "notification")
        .body(body.to_owned());
    Server::reply(request.send().await.expect("the server answers")).await
}
