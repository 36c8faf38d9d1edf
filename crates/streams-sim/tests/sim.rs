//! The simulator over HTTP, through a tiny blocking HTTP/1.1 client on `std::net::TcpStream`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use garrison_streams_sim::{Platform, Simulator, Subscription, TikTokPage};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// An answer.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends a request with exactly these headers (and Host, Connection, Content-Length).
fn send_raw(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
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

/// Sends a request as a well-behaved client: with a User-Agent.
fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut all = vec![("User-Agent", "garrison-tests/1")];
    all.extend_from_slice(headers);
    send_raw(addr, method, path, &all, body)
}

fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, "GET", path, &[], b"")
}

/// A YouTube call with the key in the header.
fn youtube(sim: &Simulator, key: &str, path_and_query: &str) -> Response {
    send(sim.addr(), "GET", &format!("/youtube/v3/{path_and_query}"), &[("X-Goog-Api-Key", key)], b"")
}

/// The reason of a YouTube error, after checking its status and code.
#[track_caller]
fn youtube_error(response: &Response, status: u16) -> String {
    let body = response.json();
    assert_eq!(response.status, status, "{body}");
    assert_eq!(body["error"]["code"], json!(status), "{body}");
    body["error"]["errors"][0]["reason"].as_str().expect("a reason").to_owned()
}

fn post_form(sim: &Simulator, path: &str, form: &str) -> Response {
    send(sim.addr(), "POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
}

fn twitch_token(sim: &Simulator, client: &str, secret: &str) -> String {
    let response = post_form(
        sim,
        "/oauth2/token",
        &format!("client_id={client}&client_secret={secret}&grant_type=client_credentials"),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["access_token"].as_str().expect("a token").to_owned()
}

fn helix(sim: &Simulator, client: &str, token: &str, query: &str) -> Response {
    let auth = format!("Bearer {token}");
    send(sim.addr(), "GET", &format!("/helix/streams?{query}"), &[("Authorization", &auth), ("Client-Id", client)], b"")
}

/// The `SIGI_STATE` JSON of a TikTok page, if it has one.
fn sigi_state(page: &str) -> Option<Value> {
    let start = page.find(r#"<script id="SIGI_STATE" type="application/json">"#)?;
    let rest = &page[start..];
    let json = &rest[rest.find('>')? + 1..rest.find("</script>")?];
    Some(serde_json::from_str(json).expect("SIGI_STATE is JSON"))
}

fn is_id(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[test]
fn youtube_charges_quota_per_call_and_refuses_past_it() {
    let sim = Simulator::start();
    sim.youtube_add_key("k", 104);
    let channel = sim.youtube_add_channel("@Garrison", "Garrison");
    let video = sim.youtube_go_live("Garrison", "Live", 5);
    let uploads = format!("UU{}", &channel[2..]);

    assert_eq!(youtube(&sim, "k", "channels?part=id&forHandle=Garrison").status, 200);
    assert_eq!(sim.youtube_quota_used("k"), 1);
    assert_eq!(youtube(&sim, "k", &format!("playlistItems?part=contentDetails&playlistId={uploads}")).status, 200);
    assert_eq!(sim.youtube_quota_used("k"), 2);
    assert_eq!(youtube(&sim, "k", &format!("videos?part=snippet&id={video}")).status, 200);
    assert_eq!(sim.youtube_quota_used("k"), 3);
    let search = youtube(&sim, "k", &format!("search?part=snippet&channelId={channel}&eventType=live&type=video"));
    assert_eq!(search.status, 200);
    assert_eq!(sim.youtube_quota_used("k"), 103);
    // Failing validation after the key check is still charged.
    assert_eq!(youtube_error(&youtube(&sim, "k", "videos?id=x"), 400), "required");
    assert_eq!(sim.youtube_quota_used("k"), 104);

    let refused = youtube(&sim, "k", "channels?part=id&forHandle=Garrison");
    assert_eq!(refused.status, 403);
    let message = "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.";
    assert_eq!(
        refused.json(),
        json!({"error": {"code": 403, "message": message,
            "errors": [{"message": message, "domain": "youtube.quota", "reason": "quotaExceeded"}]}})
    );
    assert_eq!(sim.youtube_quota_used("k"), 104, "refusals are free");

    sim.youtube_reset_quota();
    assert_eq!(sim.youtube_quota_used("k"), 0);
    assert_eq!(youtube(&sim, "k", "channels?part=id&forHandle=Garrison").status, 200);
    assert_eq!(sim.calls(Platform::YouTube), 7);
    assert_eq!(sim.calls_to("GET /youtube/v3/channels"), 3);
    assert_eq!(sim.calls_to("GET /youtube/v3/search"), 1);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn youtube_refuses_unknown_keys_and_records_keys_in_urls() {
    let sim = Simulator::start();
    sim.youtube_add_key("good", 100);
    let message = "API key not valid. Please pass a valid API key.";
    let expected = json!({"error": {"code": 400, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "keyInvalid"}], "status": "INVALID_ARGUMENT"}});
    for response in
        [youtube(&sim, "bad", "channels?part=id&forHandle=x"), get(sim.addr(), "/youtube/v3/channels?part=id")]
    {
        assert_eq!(response.status, 400);
        assert_eq!(response.json(), expected);
    }
    assert_eq!(sim.youtube_quota_used("good"), 0);
    assert!(sim.violations().is_empty());

    // A key in the query string is served, and recorded.
    let response = get(sim.addr(), "/youtube/v3/channels?part=id&forHandle=x&key=good");
    assert_eq!(response.status, 200);
    assert_eq!(sim.youtube_quota_used("good"), 1);
    let violations = sim.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("GET /youtube/v3/channels") && violations[0].contains("key"), "{violations:?}");
}

#[test]
fn youtube_finds_channels_by_handle() {
    let sim = Simulator::start();
    sim.youtube_add_key("k", 1000);
    let id = sim.youtube_add_channel("@GarrisonLive", "Garrison Live");
    assert!(id.starts_with("UC") && is_id(&id, 24), "{id}");
    assert_eq!(sim.youtube_add_channel("garrisonlive", "Garrison Live"), id, "the same handle is the same channel");

    for handle in ["GarrisonLive", "@garrisonlive", "%40GARRISONLIVE"] {
        let body = youtube(&sim, "k", &format!("channels?part=snippet,contentDetails&forHandle={handle}")).json();
        assert_eq!(body["kind"], "youtube#channelListResponse");
        assert_eq!(body["pageInfo"], json!({"totalResults": 1, "resultsPerPage": 5}));
        let item = &body["items"][0];
        assert_eq!(item["kind"], "youtube#channel");
        assert_eq!(item["id"], json!(id));
        assert_eq!(item["snippet"]["title"], "Garrison Live");
        assert_eq!(item["snippet"]["customUrl"], "@garrisonlive");
        assert_eq!(item["snippet"]["thumbnails"]["default"]["width"], 88);
        assert_eq!(item["contentDetails"]["relatedPlaylists"]["uploads"], json!(format!("UU{}", &id[2..])));
    }
    let only_snippet = youtube(&sim, "k", "channels?part=snippet&forHandle=GarrisonLive").json();
    assert!(only_snippet["items"][0].get("contentDetails").is_none());
    let by_id = youtube(&sim, "k", &format!("channels?part=id&id={id}")).json();
    assert_eq!(by_id["items"][0]["id"], json!(id));
    assert!(by_id["items"][0].get("snippet").is_none());

    let none = youtube(&sim, "k", "channels?part=snippet&forHandle=nobody").json();
    assert_eq!(none["pageInfo"]["totalResults"], 0);
    assert!(none.get("items").is_none(), "YouTube leaves items out: {none}");

    let missing = youtube(&sim, "k", "channels?forHandle=GarrisonLive");
    assert_eq!(youtube_error(&missing, 400), "required");
    let body = missing.json();
    assert_eq!(body["error"]["message"], "Required parameter: part");
    assert_eq!(body["error"]["errors"][0]["domain"], "global");
    assert_eq!(youtube_error(&youtube(&sim, "k", "channels?part=snippet,nonsense&forHandle=x"), 400), "unknownPart");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn youtube_broadcasts_go_live_and_end() {
    let sim = Simulator::start();
    sim.youtube_add_key("k", 10_000);
    let channel = sim.youtube_add_channel("Garrison", "Garrison");
    let uploads = format!("UU{}", &channel[2..]);
    let plain = sim.youtube_upload("Garrison", "A video");
    let live = sim.youtube_go_live("@garrison", "Drill <night>", 42);
    assert!(is_id(&plain, 11) && is_id(&live, 11), "{plain} {live}");

    let list =
        youtube(&sim, "k", &format!("playlistItems?part=snippet,contentDetails&playlistId={uploads}&maxResults=50"));
    let body = list.json();
    assert_eq!(body["kind"], "youtube#playlistItemListResponse");
    assert_eq!(body["pageInfo"], json!({"totalResults": 2, "resultsPerPage": 50}));
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["snippet"]["resourceId"], json!({"kind": "youtube#video", "videoId": live}));
    assert_eq!(items[0]["snippet"]["position"], 0);
    assert_eq!(items[0]["snippet"]["playlistId"], json!(uploads));
    assert_eq!(items[0]["snippet"]["channelId"], json!(channel));
    assert_eq!(items[0]["contentDetails"]["videoId"], json!(live));
    assert_eq!(items[1]["contentDetails"]["videoId"], json!(plain));
    let one =
        youtube(&sim, "k", &format!("playlistItems?part=contentDetails&playlistId={uploads}&maxResults=1")).json();
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    assert!(one["items"][0].get("snippet").is_none());
    assert_eq!(
        youtube_error(&youtube(&sim, "k", &format!("playlistItems?part=id&playlistId={uploads}&maxResults=51")), 400),
        "invalidParameter"
    );
    assert_eq!(youtube_error(&youtube(&sim, "k", "playlistItems?part=id"), 400), "required");

    let missing = youtube(&sim, "k", "playlistItems?part=snippet&playlistId=UUnothing");
    let message = "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.";
    assert_eq!(
        missing.json(),
        json!({"error": {"code": 404, "message": message, "errors": [{"message": message,
            "domain": "youtube.playlistItem", "reason": "playlistNotFound", "location": "playlistId", "locationType": "parameter"}]}})
    );

    let videos =
        youtube(&sim, "k", &format!("videos?part=snippet,liveStreamingDetails&id={live},{plain},unknown12345")).json();
    assert_eq!(videos["kind"], "youtube#videoListResponse");
    let items = videos["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "unknown ids are left out");
    assert_eq!(items[0]["id"], json!(live));
    assert_eq!(items[0]["snippet"]["liveBroadcastContent"], "live");
    assert_eq!(items[0]["snippet"]["title"], "Drill <night>");
    assert_eq!(items[0]["snippet"]["channelTitle"], "Garrison");
    let details = &items[0]["liveStreamingDetails"];
    assert_eq!(details["concurrentViewers"], json!("42"), "a string, as YouTube sends it");
    assert!(details["activeLiveChatId"].is_string());
    let started = details["actualStartTime"].as_str().expect("a start");
    assert!(started.len() == 20 && started.ends_with('Z') && started.as_bytes()[10] == b'T', "{started}");
    assert!(details.get("actualEndTime").is_none());
    assert_eq!(items[1]["snippet"]["liveBroadcastContent"], "none");
    assert!(items[1].get("liveStreamingDetails").is_none(), "a plain upload was no broadcast");

    let search = format!("search?part=snippet&channelId={channel}&eventType=live&type=video");
    let found = youtube(&sim, "k", &search).json();
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["id"], json!({"kind": "youtube#video", "videoId": live}));
    assert_eq!(found["items"][0]["snippet"]["liveBroadcastContent"], "live");

    sim.youtube_go_offline("Garrison");
    let ended = youtube(&sim, "k", &format!("videos?part=snippet,liveStreamingDetails&id={live}")).json();
    let item = &ended["items"][0];
    assert_eq!(item["snippet"]["liveBroadcastContent"], "none");
    assert!(item["liveStreamingDetails"]["actualEndTime"].is_string());
    assert!(item["liveStreamingDetails"].get("concurrentViewers").is_none());
    assert!(item["liveStreamingDetails"].get("activeLiveChatId").is_none());
    assert_eq!(youtube(&sim, "k", &search).json()["items"], json!([]));
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn twitch_issues_tokens_and_shows_live_streams() {
    let sim = Simulator::start();
    sim.twitch_add_client("app", "s3cret");
    sim.twitch_add_user("xqc", "xQc");
    sim.twitch_add_user("quiet", "Quiet");
    sim.twitch_go_live("XQC", "Reacting", "Just Chatting", 50_000);

    let issued = post_form(&sim, "/oauth2/token", "client_id=app&client_secret=s3cret&grant_type=client_credentials");
    assert_eq!(issued.status, 200);
    let body = issued.json();
    let token = body["access_token"].as_str().expect("a token").to_owned();
    assert!(token.len() == 30 && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{token}");
    assert_eq!(body["expires_in"], 5_184_000);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(sim.twitch_tokens_issued(), 1);

    let refused = |form: &str, status: u16, message: &str| {
        let response = post_form(&sim, "/oauth2/token", form);
        assert_eq!(
            (response.status, response.json()),
            (status, json!({"status": status, "message": message})),
            "{form}"
        );
    };
    refused("client_id=app&client_secret=wrong&grant_type=client_credentials", 403, "invalid client secret");
    refused("client_id=other&client_secret=s3cret&grant_type=client_credentials", 400, "invalid client");
    refused("client_id=app&client_secret=s3cret&grant_type=authorization_code", 400, "unsupported grant type");
    assert_eq!(sim.twitch_tokens_issued(), 1);

    let streams = helix(&sim, "app", &token, "user_login=xqc&user_login=Quiet&user_login=nobody");
    assert_eq!(streams.status, 200);
    assert_eq!(streams.header("ratelimit-limit"), Some("800"));
    assert_eq!(streams.header("ratelimit-remaining"), Some("799"));
    assert!(streams.header("ratelimit-reset").and_then(|r| r.parse::<u64>().ok()).is_some());
    let body = streams.json();
    assert_eq!(body["pagination"], json!({}));
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "only live users: {body}");
    let stream = &data[0];
    assert_eq!(stream["user_login"], "xqc");
    assert_eq!(stream["user_name"], "xQc");
    assert_eq!(stream["game_name"], "Just Chatting");
    assert_eq!(stream["type"], "live");
    assert_eq!(stream["title"], "Reacting");
    assert_eq!(stream["viewer_count"], 50_000);
    assert_eq!(stream["thumbnail_url"], "https://static-cdn.jtvnw.net/previews-ttv/live_user_xqc-{width}x{height}.jpg");
    for field in ["id", "user_id", "game_id"] {
        assert!(
            stream[field].as_str().is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())),
            "{field}"
        );
    }
    assert!(stream["started_at"].as_str().is_some_and(|s| s.ends_with('Z')));

    sim.twitch_go_offline("xqc");
    assert_eq!(helix(&sim, "app", &token, "user_login=xqc").json()["data"], json!([]));

    // Header problems.
    let unauthorized = |response: Response, message: &str| {
        assert_eq!(response.status, 401);
        assert_eq!(response.json(), json!({"error": "Unauthorized", "status": 401, "message": message}));
    };
    unauthorized(
        send(sim.addr(), "GET", "/helix/streams?user_login=xqc", &[("Client-Id", "app")], b""),
        "OAuth token is missing",
    );
    unauthorized(helix(&sim, "app", "notatoken", "user_login=xqc"), "Invalid OAuth token");
    sim.twitch_add_client("other", "x");
    unauthorized(helix(&sim, "other", &token, "user_login=xqc"), "Client ID and OAuth token do not match");
    let too_many: Vec<String> = (0..101).map(|i| format!("user_login=u{i}")).collect();
    let response = helix(&sim, "app", &token, &too_many.join("&"));
    assert_eq!((response.status, &response.json()["error"]), (400, &json!("Bad Request")));

    // Expiry: all at once, or by lifetime.
    sim.twitch_expire_tokens();
    unauthorized(helix(&sim, "app", &token, "user_login=xqc"), "Invalid OAuth token");
    sim.twitch_set_token_lifetime(0);
    let short = twitch_token(&sim, "app", "s3cret");
    unauthorized(helix(&sim, "app", &short, "user_login=xqc"), "Invalid OAuth token");
    sim.twitch_set_token_lifetime(3600);
    let fresh = twitch_token(&sim, "app", "s3cret");
    assert_eq!(helix(&sim, "app", &fresh, "user_login=xqc").status, 200);
    assert_eq!(sim.twitch_tokens_issued(), 3);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    // Credentials in the URL are served, and recorded.
    let response =
        post_form(&sim, "/oauth2/token?client_id=app&client_secret=s3cret&grant_type=client_credentials", "");
    assert_eq!(response.status, 200);
    let violations = sim.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations.iter().all(|v| v.starts_with("POST /oauth2/token")), "{violations:?}");
}

#[test]
fn twitch_rate_limits_each_client() {
    let sim = Simulator::start();
    sim.twitch_add_client("app", "s");
    sim.twitch_set_rate_limit(2);
    let token = twitch_token(&sim, "app", "s");
    assert_eq!(helix(&sim, "app", &token, "user_login=a").header("ratelimit-remaining"), Some("1"));
    assert_eq!(helix(&sim, "app", &token, "user_login=a").header("ratelimit-remaining"), Some("0"));
    let limited = helix(&sim, "app", &token, "user_login=a");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json(), json!({"error": "Too Many Requests", "status": 429, "message": ""}));
    assert_eq!(limited.header("ratelimit-limit"), Some("2"));
    assert_eq!(sim.calls_to("GET /helix/streams"), 3);
    assert_eq!(sim.calls(Platform::Twitch), 4);
}

#[test]
fn tiktok_pages_show_live_offline_changed_and_missing() {
    let sim = Simulator::start();
    sim.tiktok_set("Garrison.Live", TikTokPage::Live { title: "Drill </script> night".into(), viewers: 77 });
    sim.tiktok_set("quiet", TikTokPage::Offline);
    sim.tiktok_set("redesigned", TikTokPage::ChangedMarkup);
    sim.tiktok_set("gone", TikTokPage::Missing);

    let live = get(sim.addr(), "/@garrison.live/live");
    assert_eq!(live.status, 200);
    assert_eq!(live.header("content-type"), Some("text/html; charset=utf-8"));
    let state = sigi_state(&live.text()).expect("SIGI_STATE");
    let info = &state["LiveRoom"]["liveRoomUserInfo"];
    assert_eq!(info["user"]["uniqueId"], "Garrison.Live");
    assert_eq!(info["user"]["status"], 2);
    assert!(info["user"]["roomId"].as_str().is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())));
    assert_eq!(info["liveRoom"]["status"], 2);
    assert_eq!(info["liveRoom"]["title"], "Drill </script> night");
    assert_eq!(info["liveRoom"]["liveRoomStats"]["userCount"], 77);
    assert!(info["liveRoom"]["startTime"].as_u64().is_some_and(|t| t > 1_600_000_000));

    let offline = sigi_state(&get(sim.addr(), "/@QUIET/live").text()).expect("SIGI_STATE");
    let info = &offline["LiveRoom"]["liveRoomUserInfo"];
    assert_eq!((&info["user"]["roomId"], &info["user"]["status"]), (&json!(""), &json!(4)));
    assert_eq!((&info["liveRoom"]["status"], &info["liveRoom"]["title"]), (&json!(4), &json!("")));
    assert_eq!(info["liveRoom"]["startTime"], 0);

    let changed = get(sim.addr(), "/@redesigned/live");
    assert_eq!(changed.status, 200);
    assert!(sigi_state(&changed.text()).is_none());
    assert!(changed.text().contains("__UNIVERSAL_DATA_FOR_REHYDRATION__"));

    for user in ["gone", "never-set"] {
        let missing = sigi_state(&get(sim.addr(), &format!("/@{user}/live")).text()).expect("SIGI_STATE");
        assert_eq!(missing["LiveRoom"], json!({"liveRoomUserInfo": {}}));
        assert_eq!(missing["statusCode"], 10221);
    }
    assert_eq!(sim.calls_to("GET /@{user}/live"), 5);
    assert_eq!(sim.calls(Platform::TikTok), 5);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn platforms_go_down_and_slow_down() {
    let sim = Simulator::start();
    sim.youtube_add_key("k", 100);
    sim.twitch_add_client("app", "s");
    sim.tiktok_set("x", TikTokPage::Offline);
    for platform in [Platform::YouTube, Platform::Twitch, Platform::TikTok] {
        sim.set_down(platform, true);
    }
    let youtube_down = youtube(&sim, "k", "channels?part=id&forHandle=x");
    assert_eq!(youtube_error(&youtube_down, 503), "backendError");
    assert_eq!(sim.youtube_quota_used("k"), 0);
    let twitch_down = post_form(&sim, "/oauth2/token", "client_id=app&client_secret=s&grant_type=client_credentials");
    assert_eq!(twitch_down.status, 503);
    assert_eq!(twitch_down.json(), json!({"error": "Service Unavailable", "status": 503, "message": ""}));
    assert_eq!(helix(&sim, "app", "t", "user_login=x").status, 503);
    let tiktok_down = get(sim.addr(), "/@x/live");
    assert_eq!(tiktok_down.status, 503);
    assert!(tiktok_down.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    assert_eq!((sim.calls(Platform::YouTube), sim.calls(Platform::Twitch), sim.calls(Platform::TikTok)), (1, 2, 1));

    sim.set_down(Platform::TikTok, false);
    assert_eq!(get(sim.addr(), "/@x/live").status, 200);
    sim.set_latency(Platform::TikTok, Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(sim.addr(), "/@x/live").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Other platforms are not slowed.
    let started = Instant::now();
    assert_eq!(youtube(&sim, "k", "channels?part=id&forHandle=x").status, 503);
    assert!(started.elapsed() < Duration::from_millis(300));
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn unknown_routes_and_missing_user_agents_are_violations() {
    let sim = Simulator::start();
    let missing = get(sim.addr(), "/youtube/v3/liveBroadcasts");
    assert_eq!(youtube_error(&missing, 404), "notFound");
    assert_eq!(get(sim.addr(), "/helix/channels").status, 404);
    assert_eq!(get(sim.addr(), "/@someone").status, 404);
    assert_eq!(get(sim.addr(), "/elsewhere").status, 404);
    assert_eq!(sim.violations().len(), 4, "{:?}", sim.violations());
    let response = send_raw(sim.addr(), "GET", "/@someone/live", &[], b"");
    assert_eq!(response.status, 200);
    let violations = sim.violations();
    assert_eq!(violations.len(), 5, "{violations:?}");
    assert!(violations[4].contains("User-Agent"), "{violations:?}");
    assert_eq!(sim.calls(Platform::YouTube), 1);
    assert_eq!(sim.calls_to("GET /helix/channels"), 1);
}

#[test]
fn http_controls_change_the_world() {
    let sim = Simulator::start();
    let addr = sim.addr();
    let control = |path: &str, body: Value| {
        send(addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
    };
    assert_eq!(control("/_sim/youtube/keys", json!({"key": "k", "dailyQuota": 10})).status, 204);
    let channel = control("/_sim/youtube/channels", json!({"handle": "@Live", "title": "Live"})).json();
    let channel = channel["channelId"].as_str().expect("a channel id").to_owned();
    let video = control("/_sim/youtube/live", json!({"handle": "Live", "title": "On air", "viewers": 9})).json();
    let video = video["videoId"].as_str().expect("a video id").to_owned();
    let found = youtube(&sim, "k", &format!("videos?part=snippet,liveStreamingDetails&id={video}")).json();
    assert_eq!(found["items"][0]["snippet"]["channelId"], json!(channel));
    assert_eq!(found["items"][0]["liveStreamingDetails"]["concurrentViewers"], "9");
    assert_eq!(control("/_sim/youtube/offline", json!({"handle": "Live"})).status, 204);
    assert_eq!(control("/_sim/youtube/live", json!({"handle": "nobody", "title": "x"})).status, 404);

    assert_eq!(control("/_sim/twitch/clients", json!({"clientId": "app", "secret": "s"})).status, 204);
    assert_eq!(
        control("/_sim/twitch/live", json!({"login": "New_One", "title": "Hi", "game": "Roblox", "viewers": 3})).status,
        204
    );
    let token = twitch_token(&sim, "app", "s");
    let data = helix(&sim, "app", &token, "user_login=new_one").json();
    assert_eq!((&data["data"][0]["user_login"], &data["data"][0]["game_id"]), (&json!("new_one"), &json!("23020")));
    assert_eq!(control("/_sim/twitch/offline", json!({"login": "new_one"})).status, 204);
    assert_eq!(helix(&sim, "app", &token, "user_login=new_one").json()["data"], json!([]));

    assert_eq!(control("/_sim/tiktok", json!({"user": "t", "state": "live", "title": "Yo", "viewers": 4})).status, 204);
    let state = sigi_state(&get(addr, "/@t/live").text()).expect("SIGI_STATE");
    assert_eq!(state["LiveRoom"]["liveRoomUserInfo"]["liveRoom"]["liveRoomStats"]["userCount"], 4);
    assert_eq!(control("/_sim/tiktok", json!({"user": "t", "state": "sideways"})).status, 400);
    assert_eq!(control("/_sim/down", json!({"platform": "tiktok", "down": true})).status, 204);
    assert_eq!(get(addr, "/@t/live").status, 503);

    let calls = get(addr, "/_sim/calls").json();
    assert_eq!(calls["GET /@{user}/live"], 2);
    assert_eq!(calls["POST /oauth2/token"], 1);
    assert_eq!(calls["GET /youtube/v3/videos"], 1);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

// ---- Twitch: Get Users and EventSub over webhooks ----

/// The app every EventSub test uses, its secret, and a subscription secret.
const APP: &str = "app";
const APP_SECRET: &str = "app-secret";
const SECRET: &str = "garrison-eventsub-secret";
const SUBSCRIPTIONS: &str = "/helix/eventsub/subscriptions";
const WAIT: Duration = Duration::from_secs(15);

/// A Helix call as the app, with a JSON body unless `body` is null.
fn helix_call(sim: &Simulator, token: &str, method: &str, path: &str, body: &Value) -> Response {
    let auth = format!("Bearer {token}");
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let headers = [("Authorization", auth.as_str()), ("Client-Id", APP), ("Content-Type", "application/json")];
    send(sim.addr(), method, path, &headers, &body)
}

fn subscription_request(kind: &str, broadcaster: &str, callback: &str, secret: &str) -> Value {
    json!({"type": kind, "version": "1", "condition": {"broadcaster_user_id": broadcaster},
        "transport": {"method": "webhook", "callback": callback, "secret": secret}})
}

/// A simulator with the app, the broadcaster `garrison_live` and http callbacks allowed; a token and
/// the broadcaster's id.
fn eventsub_world() -> (Simulator, String, String) {
    let sim = Simulator::start();
    sim.twitch_add_client(APP, APP_SECRET);
    sim.twitch_add_user("garrison_live", "Garrison_Live");
    sim.twitch_allow_http_callbacks(true);
    let token = twitch_token(&sim, APP, APP_SECRET);
    let broadcaster = sim.twitch_user_id("garrison_live").expect("a user id");
    (sim, token, broadcaster)
}

/// Creates a subscription, waits for its verification, and answers its id.
fn subscribe(sim: &Simulator, token: &str, kind: &str, broadcaster: &str, callback: &str) -> String {
    let response =
        helix_call(sim, token, "POST", SUBSCRIPTIONS, &subscription_request(kind, broadcaster, callback, SECRET));
    assert_eq!(response.status, 202, "{}", response.text());
    assert!(sim.twitch_eventsub_wait_idle(WAIT), "the verification did not end");
    response.json()["data"][0]["id"].as_str().expect("an id").to_owned()
}

fn status_of(sim: &Simulator, id: &str) -> String {
    let subscriptions = sim.twitch_eventsub_subscriptions();
    subscriptions.iter().find(|s| s.id == id).map(|s| s.status.clone()).expect("the subscription")
}

/// A request the test's callback received.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// What the signature header must be: `sha256=` and the hex of HMAC-SHA256 of id, timestamp, body.
    fn expected_signature(&self, secret: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(self.header("Twitch-Eventsub-Message-Id").as_bytes());
        mac.update(self.header("Twitch-Eventsub-Message-Timestamp").as_bytes());
        mac.update(&self.body);
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    }

    /// Checks the headers every EventSub message has, and its signature.
    #[track_caller]
    fn assert_signed(&self, message_type: &str, subscription_type: &str, retry: &str) {
        assert_eq!(self.request_line, "POST /eventsub HTTP/1.1");
        assert_eq!(self.header("Twitch-Eventsub-Message-Type"), message_type);
        assert_eq!(self.header("Twitch-Eventsub-Subscription-Type"), subscription_type);
        assert_eq!(self.header("Twitch-Eventsub-Subscription-Version"), "1");
        assert_eq!(self.header("Twitch-Eventsub-Message-Retry"), retry);
        assert_eq!(self.header("Content-Type"), "application/json");
        assert_eq!(self.header("Twitch-Eventsub-Message-Id").len(), 36);
        let timestamp = self.header("Twitch-Eventsub-Message-Timestamp");
        assert!(timestamp.len() == 30 && timestamp.as_bytes()[19] == b'.' && timestamp.ends_with('Z'), "{timestamp}");
        assert_eq!(self.header("Twitch-Eventsub-Message-Signature"), self.expected_signature(SECRET));
        assert!(!String::from_utf8_lossy(&self.body).contains(SECRET), "the secret is never sent");
    }
}

/// How the callback answers: challenges with the challenge or not, other messages with a status.
#[derive(Debug, Clone, Copy)]
struct Behaviour {
    echo_challenge: bool,
    status: u16,
}

/// An EventSub callback on loopback (`http://127.0.0.1:PORT/eventsub`, a plain `TcpListener`):
/// records every request and answers as told.
#[derive(Debug)]
struct Callback {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl Callback {
    fn start() -> Callback {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}/eventsub", listener.local_addr().expect("an address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour { echo_challenge: true, status: 204 }));
        let (log, answers) = (Arc::clone(&received), Arc::clone(&behaviour));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer_callback(stream, &log, &answers);
            }
        });
        Callback { url, received, behaviour }
    }

    fn answer(&self, echo_challenge: bool, status: u16) {
        *self.behaviour.lock().expect("the behaviour") = Behaviour { echo_challenge, status };
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("the log").clone()
    }

    fn of_type(&self, message_type: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.header("Twitch-Eventsub-Message-Type") == message_type).collect()
    }
}

fn answer_callback(mut stream: TcpStream, log: &Mutex<Vec<Received>>, behaviour: &Mutex<Behaviour>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let behaviour = *behaviour.lock().expect("the behaviour");
    let (status, body) = if request.header("Twitch-Eventsub-Message-Type") == "webhook_callback_verification" {
        let challenge = request.json()["challenge"].as_str().unwrap_or_default().to_owned();
        (200, if behaviour.echo_challenge { challenge } else { format!("not {challenge}") })
    } else {
        (behaviour.status, String::new())
    };
    log.lock().expect("the log").push(request);
    let head = format!(
        "HTTP/1.1 {status} Answer\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut raw = Vec::new();
    let mut buffer = [0; 4096];
    let split = loop {
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break split;
        }
        let read = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
        raw.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer).ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&buffer[..read]);
    }
    Some(Received { request_line, headers, body })
}

#[test]
fn twitch_users_are_looked_up_by_login_and_id() {
    let sim = Simulator::start();
    sim.twitch_add_client(APP, APP_SECRET);
    sim.twitch_add_user("xqc", "xQc");
    sim.twitch_add_user("Garrison_Live", "Garrison_Live");
    let token = twitch_token(&sim, APP, APP_SECRET);
    let xqc = sim.twitch_user_id("XQC").expect("xqc's id");
    assert!(!xqc.is_empty() && xqc.bytes().all(|b| b.is_ascii_digit()), "{xqc}");
    assert_eq!(sim.twitch_user_id("nobody"), None);

    let found =
        helix_call(&sim, &token, "GET", "/helix/users?login=XQC&login=garrison_live&login=nobody", &Value::Null);
    assert_eq!(found.status, 200, "{}", found.text());
    assert_eq!(found.header("ratelimit-remaining"), Some("799"));
    let data = found.json()["data"].as_array().expect("data").clone();
    assert_eq!(data.len(), 2, "unknown logins are left out: {data:?}");
    let user = data.iter().find(|u| u["login"] == "xqc").expect("xqc");
    assert_eq!(
        *user,
        json!({"id": xqc, "login": "xqc", "display_name": "xQc", "type": "", "broadcaster_type": "",
            "description": "", "profile_image_url": user["profile_image_url"], "offline_image_url": "",
            "view_count": 0, "created_at": "2016-12-14T20:32:28Z"})
    );
    assert!(user["profile_image_url"].as_str().is_some_and(|u| u.starts_with("https://")));
    let by_id = helix_call(&sim, &token, "GET", &format!("/helix/users?id={xqc}"), &Value::Null).json();
    assert_eq!(by_id["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_id["data"][0]["login"], "xqc");

    let too_many: Vec<String> = (0..101).map(|i| format!("login=u{i}")).collect();
    let refused = helix_call(&sim, &token, "GET", &format!("/helix/users?{}", too_many.join("&")), &Value::Null);
    assert_eq!((refused.status, &refused.json()["error"]), (400, &json!("Bad Request")));
    let anonymous = send(sim.addr(), "GET", "/helix/users?login=xqc", &[("Client-Id", APP)], b"");
    assert_eq!(
        (anonymous.status, anonymous.json()),
        (401, json!({"error": "Unauthorized", "status": 401, "message": "OAuth token is missing"}))
    );
    assert_eq!(sim.calls_to("GET /helix/users"), 4);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    // A token in the URL is served, and recorded.
    let leaked = helix_call(&sim, &token, "GET", &format!("/helix/users?login=xqc&access_token={token}"), &Value::Null);
    assert_eq!(leaked.status, 200);
    let violations = sim.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("GET /helix/users") && violations[0].contains("access_token"), "{violations:?}");
}

#[test]
fn eventsub_verifies_the_callback_then_notifies_stream_online() {
    let (sim, token, broadcaster) = eventsub_world();
    let callback = Callback::start();
    let request = subscription_request("stream.online", &broadcaster, &callback.url, SECRET);
    let created = helix_call(&sim, &token, "POST", SUBSCRIPTIONS, &request);
    assert_eq!(created.status, 202, "{}", created.text());
    assert!(!created.text().contains(SECRET), "the secret is never echoed");
    let body = created.json();
    assert_eq!((&body["total"], &body["total_cost"], &body["max_total_cost"]), (&json!(1), &json!(0), &json!(10_000)));
    let subscription = body["data"][0].clone();
    let id = subscription["id"].as_str().expect("an id").to_owned();
    assert_eq!(id.len(), 36, "{id}");
    assert!(subscription["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        subscription,
        json!({"id": id, "status": "webhook_callback_verification_pending", "type": "stream.online", "version": "1",
            "condition": {"broadcaster_user_id": broadcaster}, "created_at": subscription["created_at"],
            "transport": {"method": "webhook", "callback": callback.url}, "cost": 0})
    );

    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(
        sim.twitch_eventsub_subscriptions(),
        [Subscription {
            id: id.clone(),
            subscription_type: "stream.online".into(),
            broadcaster_user_id: broadcaster.clone(),
            callback: callback.url.clone(),
            status: "enabled".into(),
        }]
    );
    let received = callback.received();
    assert_eq!(received.len(), 1);
    let verification = &received[0];
    verification.assert_signed("webhook_callback_verification", "stream.online", "0");
    let challenge = verification.json();
    assert!(challenge["challenge"].as_str().is_some_and(|c| !c.is_empty()), "{challenge}");
    assert_eq!(challenge["subscription"], subscription, "the verification shows the pending subscription");

    sim.twitch_go_live("garrison_live", "Drill night", "Roblox", 42);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    sim.twitch_go_live("garrison_live", "Drill night, part 2", "Roblox", 50);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    let notifications = callback.of_type("notification");
    assert_eq!(notifications.len(), 1, "a stream that was live already is not notified again");
    let notification = &notifications[0];
    notification.assert_signed("notification", "stream.online", "0");
    assert_ne!(notification.header("Twitch-Eventsub-Message-Id"), verification.header("Twitch-Eventsub-Message-Id"));
    let stream = helix(&sim, APP, &token, "user_login=garrison_live").json()["data"][0].clone();
    let mut enabled = subscription.clone();
    enabled["status"] = json!("enabled");
    assert_eq!(
        notification.json(),
        json!({"subscription": enabled, "event": {"id": stream["id"], "broadcaster_user_id": broadcaster,
            "broadcaster_user_login": "garrison_live", "broadcaster_user_name": "Garrison_Live", "type": "live",
            "started_at": stream["started_at"]}})
    );

    let deliveries = sim.twitch_eventsub_deliveries();
    let summary: Vec<(&str, &str, u32, Result<u16, String>)> = deliveries
        .iter()
        .map(|d| (d.message_type.as_str(), d.message_id.as_str(), d.retry, d.answer.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("webhook_callback_verification", verification.header("Twitch-Eventsub-Message-Id"), 0, Ok(200)),
            ("notification", notification.header("Twitch-Eventsub-Message-Id"), 0, Ok(204)),
        ]
    );
    assert!(deliveries.iter().all(|d| d.subscription_id == id && d.subscription_type == "stream.online"));

    let list = |query: &str| helix_call(&sim, &token, "GET", &format!("{SUBSCRIPTIONS}{query}"), &Value::Null);
    let all = list("").json();
    assert_eq!((&all["total"], &all["pagination"], &all["max_total_cost"]), (&json!(1), &json!({}), &json!(10_000)));
    assert_eq!(all["data"], json!([enabled]));
    assert_eq!(list("?status=enabled").json()["data"].as_array().map(Vec::len), Some(1));
    let offline = list("?type=stream.offline").json();
    assert_eq!((offline["data"].as_array().map(Vec::len), &offline["total"]), (Some(0), &json!(1)));
    assert_eq!(list("?status=enabled&type=stream.online").status, 400, "one filter at a time");
    assert_eq!(sim.calls_to("POST /helix/eventsub/subscriptions"), 1);
    assert_eq!(sim.calls_to("GET /helix/eventsub/subscriptions"), 4);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn eventsub_fails_a_callback_that_answers_the_wrong_challenge() {
    let (sim, token, broadcaster) = eventsub_world();
    let callback = Callback::start();
    callback.answer(false, 204);
    let failed = subscribe(&sim, &token, "stream.online", &broadcaster, &callback.url);
    assert_eq!(status_of(&sim, &failed), "webhook_callback_verification_failed");
    sim.twitch_go_live("garrison_live", "Drill night", "", 1);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(callback.received().len(), 1, "only the challenge: a failed subscription gets no notifications");
    assert_eq!(sim.twitch_eventsub_deliveries()[0].answer, Ok(200));

    // A failed subscription is no duplicate: it can be created again.
    callback.answer(true, 204);
    let retried = subscribe(&sim, &token, "stream.online", &broadcaster, &callback.url);
    assert_eq!(status_of(&sim, &retried), "enabled");
}

#[test]
fn eventsub_refuses_bad_subscriptions() {
    let (sim, token, broadcaster) = eventsub_world();
    let callback = Callback::start();
    let create = |request: &Value| helix_call(&sim, &token, "POST", SUBSCRIPTIONS, request);
    let bad_request = |request: Value, why: &str| {
        let response = create(&request);
        let body = response.json();
        assert_eq!(
            (response.status, &body["error"], &body["status"]),
            (400, &json!("Bad Request"), &json!(400)),
            "{why}: {body}"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{why}: {body}");
    };
    let online = |secret: &str| subscription_request("stream.online", &broadcaster, &callback.url, secret);
    bad_request(online("short"), "a secret under 10 characters");
    bad_request(online(&"x".repeat(101)), "a secret over 100 characters");
    bad_request(online("sécret-de-garrison"), "a secret not ASCII");
    bad_request(subscription_request("channel.follow", &broadcaster, &callback.url, SECRET), "an unsupported type");
    bad_request(subscription_request("stream.online", "999999999999", &callback.url, SECRET), "an unknown broadcaster");
    let mut version = online(SECRET);
    version["version"] = json!("2");
    bad_request(version, "an unknown version");
    let mut websocket = online(SECRET);
    websocket["transport"]["method"] = json!("websocket");
    bad_request(websocket, "another transport");
    bad_request(json!("not an object"), "a body not an object");

    let unauthorized =
        send(sim.addr(), "POST", SUBSCRIPTIONS, &[("Authorization", "Bearer nope"), ("Client-Id", APP)], b"{}");
    assert_eq!(
        (unauthorized.status, unauthorized.json()),
        (401, json!({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}))
    );

    assert_eq!(create(&online(&"a".repeat(10))).status, 202, "10 characters are enough");
    let duplicate = create(&online(&"b".repeat(100)));
    assert_eq!(
        (duplicate.status, duplicate.json()),
        (409, json!({"error": "Conflict", "status": 409, "message": "subscription already exists"}))
    );
    let other_callback = format!("{}/other", callback.url);
    let offline = subscription_request("stream.offline", &broadcaster, &other_callback, &"c".repeat(100));
    assert_eq!(create(&offline).status, 202, "100 characters are not too many");
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(sim.twitch_eventsub_subscriptions().len(), 2);
    assert_eq!(sim.calls_to("POST /helix/eventsub/subscriptions"), 12);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn eventsub_takes_http_callbacks_only_when_allowed() {
    let sim = Simulator::start();
    sim.twitch_add_client(APP, APP_SECRET);
    sim.twitch_add_user("garrison_live", "Garrison_Live");
    let token = twitch_token(&sim, APP, APP_SECRET);
    let broadcaster = sim.twitch_user_id("garrison_live").expect("an id");
    let callback = Callback::start();
    let create = |url: &str| {
        helix_call(
            &sim,
            &token,
            "POST",
            SUBSCRIPTIONS,
            &subscription_request("stream.online", &broadcaster, url, SECRET),
        )
    };
    assert_eq!(create(&callback.url).status, 400, "plain http is refused by default");
    assert_eq!(create("https://127.0.0.1:8443/eventsub").status, 400, "https on a port not 443 too");
    assert_eq!(create("https://127.0.0.1/eventsub").status, 202);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    let deliveries = sim.twitch_eventsub_deliveries();
    assert!(deliveries.len() == 1 && deliveries[0].answer.is_err(), "no TLS in the simulator: {deliveries:?}");
    assert_eq!(sim.twitch_eventsub_subscriptions()[0].status, "webhook_callback_verification_failed");

    sim.twitch_allow_http_callbacks(true);
    let id = subscribe(&sim, &token, "stream.online", &broadcaster, &callback.url);
    assert_eq!(status_of(&sim, &id), "enabled");
}

#[test]
fn eventsub_notifies_stream_offline_until_deleted() {
    let (sim, token, broadcaster) = eventsub_world();
    let callback = Callback::start();
    let id = subscribe(&sim, &token, "stream.offline", &broadcaster, &callback.url);
    sim.twitch_go_live("garrison_live", "Drill night", "", 1);
    sim.twitch_go_offline("garrison_live");
    sim.twitch_go_offline("garrison_live");
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    let notifications = callback.of_type("notification");
    assert_eq!(notifications.len(), 1, "only going offline, once");
    notifications[0].assert_signed("notification", "stream.offline", "0");
    let body = notifications[0].json();
    assert_eq!(body["subscription"]["id"], json!(id));
    assert_eq!(
        body["event"],
        json!({"broadcaster_user_id": broadcaster, "broadcaster_user_login": "garrison_live",
            "broadcaster_user_name": "Garrison_Live"})
    );

    let delete = |query: &str| helix_call(&sim, &token, "DELETE", &format!("{SUBSCRIPTIONS}{query}"), &Value::Null);
    let deleted = delete(&format!("?id={id}"));
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    let again = delete(&format!("?id={id}"));
    assert_eq!((again.status, &again.json()["error"]), (404, &json!("Not Found")));
    assert_eq!(delete("").status, 400);
    assert!(sim.twitch_eventsub_subscriptions().is_empty());
    sim.twitch_go_live("garrison_live", "Back", "", 1);
    sim.twitch_go_offline("garrison_live");
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(callback.of_type("notification").len(), 1, "nothing after the delete");
    assert_eq!(sim.calls_to("DELETE /helix/eventsub/subscriptions"), 3);
}

#[test]
fn eventsub_delivers_revocations() {
    let (sim, token, broadcaster) = eventsub_world();
    let callback = Callback::start();
    let id = subscribe(&sim, &token, "stream.online", &broadcaster, &callback.url);
    assert!(sim.twitch_revoke(&id, "authorization_revoked"));
    assert!(!sim.twitch_revoke("not-a-subscription", "authorization_revoked"));
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    let revocations = callback.of_type("revocation");
    assert_eq!(revocations.len(), 1);
    revocations[0].assert_signed("revocation", "stream.online", "0");
    let body = revocations[0].json();
    assert_eq!(body["subscription"]["id"], json!(id));
    assert_eq!(body["subscription"]["status"], "authorization_revoked");
    assert!(body.get("event").is_none(), "{body}");
    assert_eq!(status_of(&sim, &id), "authorization_revoked");
    let listed =
        helix_call(&sim, &token, "GET", &format!("{SUBSCRIPTIONS}?status=authorization_revoked"), &Value::Null);
    assert_eq!(listed.json()["data"][0]["id"], json!(id));

    sim.twitch_go_live("garrison_live", "Drill night", "", 1);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert!(callback.of_type("notification").is_empty(), "a revoked subscription gets no notifications");
}

#[test]
fn eventsub_retries_a_failed_notification_once_and_replays_the_last() {
    let (sim, token, broadcaster) = eventsub_world();
    assert!(sim.twitch_eventsub_replay_last().is_err(), "nothing to replay yet");
    let callback = Callback::start();
    subscribe(&sim, &token, "stream.online", &broadcaster, &callback.url);
    callback.answer(true, 500);
    sim.twitch_go_live("garrison_live", "Drill night", "", 1);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    let attempts = callback.of_type("notification");
    assert_eq!(attempts.len(), 2, "one retry");
    attempts[0].assert_signed("notification", "stream.online", "0");
    attempts[1].assert_signed("notification", "stream.online", "1");
    let message_id = attempts[0].header("Twitch-Eventsub-Message-Id");
    assert_eq!(attempts[1].header("Twitch-Eventsub-Message-Id"), message_id, "a retry keeps the message id");
    assert_eq!(attempts[1].body, attempts[0].body);
    let notified: Vec<(u32, Result<u16, String>)> = sim
        .twitch_eventsub_deliveries()
        .into_iter()
        .filter(|d| d.message_type == "notification")
        .map(|d| (d.retry, d.answer))
        .collect();
    assert_eq!(notified, [(0, Ok(500)), (1, Ok(500))]);

    // A replay is the first attempt, byte for byte; a receiver that remembers message ids refuses it.
    callback.answer(true, 403);
    assert_eq!(sim.twitch_eventsub_replay_last(), Ok(403));
    let replayed = callback.of_type("notification");
    assert_eq!(replayed.len(), 3);
    assert_eq!(replayed[2].headers, attempts[0].headers);
    assert_eq!(replayed[2].body, attempts[0].body);
    let last = sim.twitch_eventsub_deliveries().pop().expect("the replay's record");
    assert_eq!((last.message_id.as_str(), last.retry, last.answer), (message_id, 0, Ok(403)));
}

#[test]
fn eventsub_http_controls() {
    let (sim, token, _) = eventsub_world();
    let addr = sim.addr();
    let control = |path: &str, body: Value| {
        send(addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
    };
    let created = control("/_sim/twitch/users", json!({"login": "Other", "displayName": "Other"})).json();
    assert_eq!(created["id"].as_str(), sim.twitch_user_id("other").as_deref());
    assert_eq!(control("/_sim/twitch/eventsub/allow-http", json!({"allow": false})).status, 204);
    let callback = Callback::start();
    let other = sim.twitch_user_id("other").expect("an id");
    let request = subscription_request("stream.online", &other, &callback.url, SECRET);
    assert_eq!(helix_call(&sim, &token, "POST", SUBSCRIPTIONS, &request).status, 400);
    assert_eq!(control("/_sim/twitch/eventsub/allow-http", json!({"allow": true})).status, 204);
    let id = subscribe(&sim, &token, "stream.online", &other, &callback.url);
    assert_eq!(
        get(addr, "/_sim/twitch/eventsub/subscriptions").json(),
        json!([{"id": id, "type": "stream.online", "broadcasterUserId": other, "callback": callback.url, "status": "enabled"}])
    );

    assert_eq!(control("/_sim/twitch/live", json!({"login": "other", "title": "Hi"})).status, 204);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(callback.of_type("notification").len(), 1);
    assert_eq!(control("/_sim/twitch/eventsub/replay", json!({})).json(), json!({"status": 204}));
    assert_eq!(callback.of_type("notification").len(), 2);
    let revoke = json!({"id": id, "reason": "user_removed"});
    assert_eq!(control("/_sim/twitch/eventsub/revoke", revoke).status, 204);
    assert_eq!(control("/_sim/twitch/eventsub/revoke", json!({"id": "nope", "reason": "user_removed"})).status, 404);
    assert!(sim.twitch_eventsub_wait_idle(WAIT));
    assert_eq!(status_of(&sim, &id), "user_removed");
    let deliveries = get(addr, "/_sim/twitch/eventsub/deliveries").json();
    let types: Vec<&str> =
        deliveries.as_array().expect("a list").iter().filter_map(|d| d["messageType"].as_str()).collect();
    assert_eq!(types, ["webhook_callback_verification", "notification", "notification", "revocation"]);
    assert_eq!(deliveries[1]["status"], 204);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}
