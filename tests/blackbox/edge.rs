//! What a browser client or a new operator meets at the edge: CORS on the API routes, query names in
//! any letter case, a wrong API key answered before bad input, links built on the address the server
//! bound, access logs that name routes rather than paths, and config errors that do not echo secrets.

use reqwest::{Method, header::HeaderMap};
use serde_json::json;

use crate::{
    harness::{Backend, SERVER, Server, command, database, expect},
    simulated::Discord,
};

/// Every request header the two specifications name (Noctra's header tables and text, Viscra's API
/// keys), lower-cased as browsers send them in `Access-Control-Request-Headers`.
const SEED_HEADERS: &str = "\
    authorization x-api-key content-type avatar-url background-color background-image background-url \
    bot-token canvas-height canvas-width card-height card-width channel-id channelid color description \
    discord-token discord-userid display-name duplications duration footer gradient-color greeting-text \
    guild-id guild-name hoist icon-url image-url interaction-token level level-color member-count \
    mentionable message-count message-id permissions plain-text position primary-text-color profile-avatar \
    progress-bar-end-color progress-bar-start-color rank reason role-id role-ids role-name \
    secondary-text-color server-id targetcategoryid title typography-family user-icon user-id user-id-1 \
    user-id-2 username username-color voice-time x-action x-application-id x-attachment-url x-auth-key \
    x-bot-token x-category-id x-channel-id x-creator-id x-duration x-filename x-guild-id x-limit \
    x-message-id x-mod-name x-moderator-id x-moderator-name x-reason x-regex-case-sensitive \
    x-target-channel-id x-target-user-id x-twitch-clientid x-twitch-secret x-user-avatar x-user-id \
    x-user-name x-youtube-apikey xp-current xp-total";

fn sqlite() -> garrison_testkit::TestDatabase {
    database(Backend::Sqlite).expect("SQLite is always available")
}

async fn preflight(server: &Server, path: &str, origin: &str, headers: &str) -> (u16, HeaderMap) {
    let response = server
        .client()
        .request(Method::OPTIONS, format!("{}{path}", server.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .send()
        .await
        .expect("a preflight answer");
    (response.status().as_u16(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().expect("an ASCII header"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_answer_preflights_and_carry_cors_headers() {
    let server = Server::start(sqlite());
    // Every header either specification names, and every header parameter the API documents.
    let doc = expect(server.send(Method::GET, "/openapi.json", None, None).await, 200).body;
    let mut wanted: Vec<String> = SEED_HEADERS.split_whitespace().map(str::to_owned).collect();
    for item in doc["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("operations").values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "header" {
                    wanted.push(parameter["name"].as_str().expect("a name").to_ascii_lowercase());
                }
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    let requested = wanted.join(",");

    for path in ["/api/modlogs/add", "/api/xp/add", "/API/XP/ADD", "/api/LevelCard/generate", "/api/no-such-route"] {
        let (status, headers) = preflight(&server, path, "https://try.example", &requested).await;
        assert_eq!(status, 204, "{path}");
        assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"), "{path}");
        assert!(header(&headers, "access-control-allow-methods").is_some_and(|m| m.contains("POST")), "{path}");
        let allowed = header(&headers, "access-control-allow-headers").expect("allowed headers").to_ascii_lowercase();
        let allowed: Vec<&str> = allowed.split(',').map(str::trim).collect();
        for name in &wanted {
            assert!(allowed.contains(&name.as_str()), "{name} is not allowed on {path}");
        }
        assert!(headers.get("access-control-allow-credentials").is_none(), "credentials are headers, never cookies");
        assert!(headers.contains_key("x-request-id"));
    }

    // Answers to a page's requests, errors included, may be read by its script, with Retry-After.
    let refused = server
        .client()
        .get(format!("{}/api/xp?serverId={SERVER}&robloxId=1", server.base))
        .header("origin", "https://try.example")
        .send()
        .await
        .expect("reply");
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(header(refused.headers(), "access-control-allow-origin"), Some("*"));
    let exposed = header(refused.headers(), "access-control-expose-headers").expect("exposed").to_ascii_lowercase();
    for name in ["retry-after", "x-request-id", "idempotent-replayed", "x-total-pages"] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed}");
    }

    // Nothing outside /api/ gets CORS: not health, not the document, not whatever comes next there.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let (status, headers) = preflight(&server, path, "https://try.example", "content-type").await;
        assert_ne!(status, 204, "{path}");
        assert!(headers.get("access-control-allow-origin").is_none(), "{path}");
        let plain =
            server.client().get(format!("{}{path}", server.base)).header("origin", "https://try.example").send().await;
        let plain = plain.expect("reply");
        assert!(plain.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origins_restrict_which_pages_may_call() {
    let server =
        Server::start_with(sqlite(), &[("GARRISON_CORS_ORIGINS", "https://dash.example, http://127.0.0.1:3000")]);
    let (status, headers) =
        preflight(&server, "/api/xp/add", "https://dash.example", "authorization,content-type").await;
    assert_eq!(status, 204);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("https://dash.example"));
    assert!(header(&headers, "vary").is_some_and(|v| v.contains("Origin")));

    let (status, headers) = preflight(&server, "/api/xp/add", "https://evil.example", "authorization").await;
    assert_eq!(status, 403);
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(headers.get("access-control-allow-headers").is_none());

    for (origin, allowed) in [("http://127.0.0.1:3000", true), ("https://evil.example", false)] {
        let reply = server
            .client()
            .get(format!("{}/api/xp?serverId={SERVER}&robloxId=1", server.base))
            .header("origin", origin)
            .send()
            .await
            .expect("reply");
        assert_eq!(header(reply.headers(), "access-control-allow-origin").is_some(), allowed, "{origin}");
        assert!(header(reply.headers(), "vary").is_some_and(|v| v.contains("Origin")), "{origin}");
    }

    let closed = Server::start_with(sqlite(), &[("GARRISON_CORS_ORIGINS", "")]);
    let (status, headers) = preflight(&closed, "/api/xp/add", "https://dash.example", "authorization").await;
    assert_eq!(status, 403);
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameter_names_ignore_letter_case() {
    let server = Server::start(sqlite());
    let key = server.create_key(SERVER, "bot", false);
    expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 7, "amount": 42})).await, 200);
    for query in [
        format!("serverId={SERVER}&robloxId=7"),
        format!("serverid={SERVER}&robloxid=7"),
        format!("ServerId={SERVER}&RobloxId=7"),
        format!("SERVERID={SERVER}&ROBLOXID=7"),
    ] {
        let reply = expect(server.get(&format!("/api/xp?{query}"), &key).await, 200);
        assert_eq!(reply.body["xp"], 42, "{query}");
    }
    let reply = expect(server.get(&format!("/api/xp/history?ServerId={SERVER}&robloxID=7&LIMIT=1"), &key).await, 200);
    assert_eq!(reply.body["entries"].as_array().map(Vec::len), Some(1), "{}", reply.body);
    let missing = expect(server.get(&format!("/api/xp?ServerId={SERVER}"), &key).await, 400);
    assert_eq!(missing.error(), "missing field `robloxId`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_before_the_input_is_judged() {
    let server = Server::start(sqlite());
    let key = server.create_key(SERVER, "bot", false);
    let elsewhere = server.create_key("876543210987654321", "elsewhere", false);
    let wrong = format!("gar_{}", "1".repeat(64));
    let raw = |key: Option<&str>, body: &'static [u8]| {
        let mut request = server
            .client()
            .post(format!("{}/api/xp/add", server.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request
    };
    for body in [&b"{\"serverId\": "[..], b"", br#"{"serverId":"1"}"#, br#"{"serverId":"abc","robloxId":1,"amount":1}"#]
    {
        let reply = Server::reply(raw(Some(&wrong), body).send().await.expect("reply")).await;
        assert_eq!(reply.status.as_u16(), 401, "{}: {}", String::from_utf8_lossy(body), reply.body);
        assert_eq!(reply.error(), "invalid API key");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
        let reply = Server::reply(raw(None, body).send().await.expect("reply")).await;
        assert_eq!(reply.status.as_u16(), 401, "{}", reply.body);
        assert!(reply.error().starts_with("missing API key"), "{}", reply.error());
        // A real key, even another server's, learns what is wrong with its input.
        for key in [&key, &elsewhere] {
            let reply = Server::reply(raw(Some(key), body).send().await.expect("reply")).await;
            assert!([400, 422].contains(&reply.status.as_u16()), "{}", reply.body);
        }
    }
    // Queries and ids too.
    for path in
        ["/api/xp?serverId=abc&robloxId=1", "/api/xp?serverId=1", "/api/xp/history?serverId=1&robloxId=1&limit=x"]
    {
        assert_eq!(expect(server.get(path, &wrong).await, 401).error(), "invalid API key", "{path}");
        expect(server.get(path, &key).await, 400);
    }
    let too_large = vec![b' '; 70 * 1024];
    let reply = server
        .client()
        .post(format!("{}/api/xp/add", server.base))
        .bearer_auth(&wrong)
        .header("content-type", "application/json")
        .body(too_large)
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_name_the_bound_address_unless_a_public_url_is_set() {
    // Bound to another loopback address and a port of the system's choosing, no GARRISON_PUBLIC_URL.
    let s = Discord::start(&[("GARRISON_BIND", "127.0.0.2:0")]);
    assert!(s.server.base.starts_with("http://127.0.0.2:"), "{}", s.server.base);
    let headers = vec![
        ("X-Bot-Token", s.token().to_owned()),
        ("X-Guild-Id", s.demo.guild.to_string()),
        ("X-User-Id", s.demo.members[0].to_string()),
        ("X-Action", "Warn".to_owned()),
        ("X-Moderator-Id", s.demo.moderator.to_string()),
        ("X-Moderator-Name", "Casey".to_owned()),
    ];
    let reply = expect(s.call(Method::POST, "/api/modlogs/add", &headers, None).await, 200);
    let url = reply.body["viewUrl"].as_str().expect("viewUrl").to_owned();
    assert!(url.starts_with(&format!("{}/api/modlogs/view/", s.server.base)), "{url}");
    // The link works as given.
    let page = s.server.client().get(&url).send().await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let csp = header(page.headers(), "content-security-policy").expect("a policy").to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

    // The access log names the route, never the view id (the harness also checks every id it saw).
    let id = url.rsplit('/').next().expect("an id").to_owned();
    let wrong_id = format!("{}x", &id[..id.len() - 1]);
    let typo = s.server.client().get(format!("{}/api/modlog/view/{wrong_id}", s.server.base)).send().await;
    assert_eq!(typo.expect("reply").status().as_u16(), 404);
    let mut logs = String::new();
    for _ in 0..50 {
        logs = s.server.logs();
        if logs.matches("served").count() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(logs.contains("/api/modlogs/view/{id}"), "{logs}");
    assert!(logs.contains("unmatched"), "{logs}");
    assert!(!logs.contains(&id) && !logs.contains(&wrong_id), "{logs}");
    s.assert_faithful();
}

#[test]
fn a_bad_config_line_is_named_but_never_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let db = sqlite();
    let secret = "MTA5ODc2NTQzMjEw.GhIjKl.config-secret-value";
    for text in [
        format!("bind = \"127.0.0.1:0\"\ndiscord_bot_tokn = \"{secret}\"\n"),
        format!("log = \"info\"\ndiscord_bot_token = {secret}\n"),
        format!("s3_secret_key = [\"{secret}\"]\n"),
        format!("database_connections = \"{secret}\"\n"),
    ] {
        std::fs::write(dir.path().join("garrison.toml"), &text).expect("write config");
        for args in [&["config", "check"][..], &["serve"]] {
            let out = command(dir.path(), &db).args(args).output().expect("runs");
            assert!(!out.status.success(), "{args:?} accepted {text:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stderr.contains("invalid config file garrison.toml: line "), "{stderr}");
            assert!(!stderr.contains("config-secret") && !stdout.contains("config-secret"), "{stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_tokens_stay_out_of_the_discord_clients_logs() {
    // twilight-http (which builds the requests) and its rate limiter log request paths, which for
    // interaction webhooks hold the interaction token; the adapter's transport and reqwest, which send
    // them, must not leak it either. Everything that could is at debug level here.
    let s = Discord::start(&[(
        "GARRISON_LOG",
        "info,twilight_http=debug,garrison_discord=debug,reqwest=debug,hyper_util=debug",
    )]);
    let app = s.demo.bot.user_id;
    let (_, token) = s.sim.world(|w| w.add_interaction(app, s.demo.general, s.demo.members[0]));
    let original = format!("{}/api/v10/webhooks/{app}/{token}/messages/@original", s.sim.base_url());
    let first = s.server.client().patch(&original).json(&json!({"content": "Progress: 10%"})).send().await;
    assert_eq!(first.expect("patch").status().as_u16(), 200);
    let headers = vec![("X-Application-Id", app.to_string()), ("Interaction-Token", token.clone())];
    let body = json!({"targetContentSubstring": "progress", "newContent": "Progress: 100%"});
    expect(s.call(Method::PATCH, "/api/edit/smart-edit/ephemeral", &headers, Some(body)).await, 200);
    let mut logs = String::new();
    for _ in 0..50 {
        logs = s.server.logs();
        if logs.contains("served") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The filter drops what names a path, not everything twilight says.
    assert!(logs.contains("twilight_http_ratelimiting"), "twilight's own events are still logged: {logs}");
    let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(&token)).collect();
    assert!(leaks.is_empty(), "an interaction token reached the log: {leaks:#?}");
    s.assert_faithful();
}
