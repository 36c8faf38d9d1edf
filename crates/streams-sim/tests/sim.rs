//! The simulator over HTTP, through a tiny blocking HTTP/1.1 client on `std::net::TcpStream`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use garrison_streams_sim::{Platform, Simulator, TikTokPage};
use serde_json::{Value, json};

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
    assert_eq!(get(sim.addr(), "/helix/users").status, 404);
    assert_eq!(get(sim.addr(), "/@someone").status, 404);
    assert_eq!(get(sim.addr(), "/elsewhere").status, 404);
    assert_eq!(sim.violations().len(), 4, "{:?}", sim.violations());
    let response = send_raw(sim.addr(), "GET", "/@someone/live", &[], b"");
    assert_eq!(response.status, 200);
    let violations = sim.violations();
    assert_eq!(violations.len(), 5, "{violations:?}");
    assert!(violations[4].contains("User-Agent"), "{violations:?}");
    assert_eq!(sim.calls(Platform::YouTube), 1);
    assert_eq!(sim.calls_to("GET /helix/users"), 1);
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
