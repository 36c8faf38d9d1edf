//! Discord's OAuth2 in the simulator: the authorization page (driven without following redirects),
//! the token endpoint with PKCE S256, refresh and revocation, and what bearer tokens may read.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Client, Response, assert_spec_clean, send};
use garrison_discord_sim::permissions::{MANAGE_GUILD, VIEW_CHANNEL};
use garrison_discord_sim::{AUTHORIZE_PATH, Simulator, World};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1/callback";
const SECRET: &str = "app-secret-0123456789abcdefghij";
const OTHER_REDIRECT: &str = "https://other.example/cb";
const OTHER_SECRET: &str = "other-secret";

/// A world with an app (a bot's application), another app, a user in two guilds and a stranger.
struct Setup {
    sim: Simulator,
    app: u64,
    bot_token: String,
    other_app: u64,
    user: u64,
    stranger: u64,
    guild: u64,
    owned: u64,
    lonely: u64,
    manager_role: u64,
}

fn setup() -> Setup {
    let mut world = World::new();
    let bot = world.add_bot("Garrison");
    let owner = world.add_user("Owner");
    let user = world.add_user("Signer");
    let stranger = world.add_user("Stranger");
    let guild = world.add_guild("Shared Guild", owner);
    let manager_role = world.add_role(guild, "Manager", MANAGE_GUILD, 2);
    world.add_member(guild, user, &[manager_role]);
    world.add_member(guild, bot.user_id, &[]);
    world.set_nick(guild, user, Some("Sig"));
    let owned = world.add_guild("Signer's Guild", user);
    let lonely = world.add_guild("Nobody's Here", owner);
    world.add_oauth_app(bot.user_id, SECRET, &[REDIRECT, "http://127.0.0.1/cb?from=app"]);
    let other_app = world.add_bot("Other").user_id;
    world.add_oauth_app(other_app, OTHER_SECRET, &[OTHER_REDIRECT]);
    world.set_oauth_user(Some(user));
    let sim = Simulator::start(world);
    Setup { sim, app: bot.user_id, bot_token: bot.token, other_app, user, stranger, guild, owned, lonely, manager_role }
}

/// RFC 3986 percent-encoding of a query or form value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(name, value)| format!("{}={}", encode(name), encode(value))).collect::<Vec<_>>().join("&")
}

/// A PKCE verifier (RFC 7636's unreserved characters only) and its S256 challenge.
fn pkce(seed: &str) -> (String, String) {
    let seed: String = seed.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '.' }).collect();
    let verifier = format!("{seed}-verifier-{}", "x".repeat(43));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `GET /oauth2/authorize?...`, not following the redirect.
fn authorize(sim: &Simulator, params: &[(&str, &str)]) -> Response {
    send(sim.addr(), "GET", &format!("{AUTHORIZE_PATH}?{}", form(params)), &[], b"")
}

/// The query of a 302's `Location`, decoded, and the location itself.
fn redirected(response: &Response) -> (String, Vec<(String, String)>) {
    assert_eq!(response.status, 302, "{}", String::from_utf8_lossy(&response.body));
    let location = response.header("location").expect("a Location header").to_owned();
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(query).unwrap().into_inner();
    (location, pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Authorizes `app` for `scope` with PKCE (when `challenge` is given); returns the code.
fn code_for(s: &Setup, app: u64, redirect: &str, scope: &str, challenge: Option<&str>) -> String {
    let app = app.to_string();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", app.as_str()),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "st"),
    ];
    if let Some(challenge) = challenge {
        params.extend([("code_challenge", challenge), ("code_challenge_method", "S256")]);
    }
    let (_, pairs) = redirected(&authorize(&s.sim, &params));
    param(&pairs, "code").unwrap_or_else(|| panic!("no code in {pairs:?}")).to_owned()
}

/// `POST /api/v10/oauth2/token` (or `/revoke`) with a form and optional HTTP Basic credentials.
fn post_form(sim: &Simulator, path: &str, pairs: &[(&str, &str)], basic: Option<(u64, &str)>) -> Response {
    let authorization = basic.map(|(id, secret)| format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(value) = &authorization {
        headers.push(("Authorization", value.as_str()));
    }
    send(sim.addr(), "POST", &format!("/api/v10{path}"), &headers, form(pairs).as_bytes())
}

/// Redeems a code with the app's Basic credentials.
fn redeem(s: &Setup, code: &str, verifier: Option<&str>) -> Response {
    let mut pairs = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT)];
    if let Some(verifier) = verifier {
        pairs.push(("code_verifier", verifier));
    }
    post_form(&s.sim, "/oauth2/token", &pairs, Some((s.app, SECRET)))
}

/// Signs the user in with PKCE for `scope`; returns the token answer.
fn sign_in(s: &Setup, scope: &str) -> Value {
    let (verifier, challenge) = pkce(scope);
    let code = code_for(s, s.app, REDIRECT, scope, Some(&challenge));
    let answer = redeem(s, &code, Some(&verifier));
    assert_eq!(answer.status, 200, "{}", answer.json());
    answer.json()
}

fn access(token: &Value) -> String {
    token["access_token"].as_str().unwrap().to_owned()
}

/// `GET /api/v10{path}` with `Authorization: <scheme> <token>`.
fn get_as(sim: &Simulator, scheme: &str, token: &str, path: &str) -> Response {
    let authorization = format!("{scheme} {token}");
    send(sim.addr(), "GET", &format!("/api/v10{path}"), &[("Authorization", &authorization)], b"")
}

fn bearer(sim: &Simulator, token: &str, path: &str) -> Response {
    get_as(sim, "Bearer", token, path)
}

/// The snowflake in an object's `id`.
fn id_of(object: &Value) -> u64 {
    object["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id in {object}"))
}

#[track_caller]
fn assert_unauthorized(response: &Response) {
    assert_eq!((response.status, response.json()), (401, json!({"message": "401: Unauthorized", "code": 0})));
}

#[track_caller]
fn assert_oauth_error(response: &Response, status: u16, error: &str) {
    assert_eq!((response.status, response.json()["error"].as_str()), (status, Some(error)), "{}", response.json());
}

#[test]
fn the_demo_app_signs_a_user_in_with_pkce_and_reads_who_they_are() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    sim.set_oauth_user(Some(demo.owner));
    let (verifier, challenge) = pkce("demo");
    let client_id = demo.oauth_client_id.to_string();
    let state = "a b&c=d/é+%20";
    let answer = authorize(
        &sim,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("scope", "identify guilds"),
            ("state", state),
            ("redirect_uri", &demo.oauth_redirect_uri),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "consent"),
        ],
    );
    let (location, pairs) = redirected(&answer);
    assert!(location.starts_with(&format!("{}?code=", demo.oauth_redirect_uri)), "{location}");
    assert_eq!(param(&pairs, "state"), Some(state), "the state comes back exactly");
    let code = param(&pairs, "code").unwrap();
    assert!(code.len() >= 20 && code.bytes().all(|b| b.is_ascii_alphanumeric()), "{code}");

    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", demo.oauth_redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let token = post_form(&sim, "/oauth2/token", &pairs, Some((demo.oauth_client_id, &demo.oauth_client_secret)));
    assert_eq!(token.status, 200, "{}", token.json());
    assert_eq!(token.header("cache-control"), Some("no-store"));
    let token = token.json();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 604_800);
    assert_eq!(token["scope"], "identify guilds");
    assert!(token["refresh_token"].is_string());
    let access = access(&token);

    let me = bearer(&sim, &access, "/users/@me");
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["id"], demo.owner.to_string());
    assert_eq!(me.json()["global_name"], "Avery");
    assert!(me.json().get("email").is_none(), "no email without the email scope");
    let guilds = bearer(&sim, &access, "/users/@me/guilds").json();
    let guild = guilds.as_array().unwrap().iter().find(|g| id_of(g) == demo.guild).unwrap().clone();
    assert_eq!(guild["owner"], true);
    let all = sim.world(|w| w.permissions(demo.guild, demo.owner));
    assert_eq!(guild["permissions"], all.to_string());
    let authorization = bearer(&sim, &access, "/oauth2/@me").json();
    assert_eq!(authorization["application"]["id"], demo.oauth_client_id.to_string());
    assert_eq!(authorization["scopes"], json!(["identify", "guilds"]));
    assert_eq!(authorization["user"]["id"], demo.owner.to_string());
    assert!(authorization["expires"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(sim.calls("GET", AUTHORIZE_PATH), 1);
    assert_eq!(sim.calls("POST", "/oauth2/token"), 1);
    assert_spec_clean(&sim);
}

#[test]
fn unknown_apps_and_unregistered_redirect_uris_get_an_error_page_not_a_redirect() {
    let s = setup();
    let app = s.app.to_string();
    let base = [("response_type", "code"), ("scope", "identify"), ("state", "st")];
    let page = |extra: &[(&str, &str)]| {
        let params: Vec<(&str, &str)> = base.iter().copied().chain(extra.iter().copied()).collect();
        let answer = authorize(&s.sim, &params);
        assert_eq!(answer.status, 400, "{extra:?}");
        assert_eq!(answer.header("location"), None, "{extra:?}");
        assert!(answer.header("content-type").is_some_and(|t| t.starts_with("text/html")));
        String::from_utf8_lossy(&answer.body).into_owned()
    };
    assert!(page(&[("client_id", "12345"), ("redirect_uri", REDIRECT)]).contains("Unknown Application"));
    assert!(page(&[("client_id", "not-a-number"), ("redirect_uri", REDIRECT)]).contains("Unknown Application"));
    assert!(page(&[("redirect_uri", REDIRECT)]).contains("Unknown Application"));
    for wrong in [
        "http://127.0.0.1/callback/",
        "http://127.0.0.1:80/callback",
        "http://127.0.0.1/callback?x=1",
        "HTTP://127.0.0.1/callback",
        OTHER_REDIRECT,
    ] {
        assert!(page(&[("client_id", &app), ("redirect_uri", wrong)]).contains("redirect_uri"), "{wrong}");
    }
    assert!(page(&[("client_id", &app)]).contains("redirect_uri"), "no redirect_uri");

    // Registered later (a callback on a port known only once the app listens), it works.
    let late = "http://127.0.0.1:41234/verify/discord/callback";
    s.sim.world(|w| w.add_oauth_redirect_uri(s.app, late));
    let (location, _) =
        redirected(&authorize(&s.sim, &[("client_id", &app), ("redirect_uri", late), base[0], base[1]]));
    assert!(location.starts_with(&format!("{late}?code=")), "{location}");
    assert_spec_clean(&s.sim);
}

#[test]
fn bad_requests_and_cancellations_are_sent_back_with_an_error() {
    let s = setup();
    let app = s.app.to_string();
    let (_, challenge) = pkce("bad");
    let ask = |extra: &[(&str, &str)]| {
        let mut params = vec![("client_id", app.as_str()), ("redirect_uri", REDIRECT), ("state", "keep me")];
        params.extend_from_slice(extra);
        let (location, pairs) = redirected(&authorize(&s.sim, &params));
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        assert_eq!(param(&pairs, "state"), Some("keep me"), "{extra:?}");
        assert_eq!(param(&pairs, "code"), None, "{extra:?}");
        assert!(param(&pairs, "error_description").is_some_and(|d| !d.is_empty()));
        param(&pairs, "error").unwrap().to_owned()
    };
    let code = ("response_type", "code");
    let identify = ("scope", "identify");
    assert_eq!(ask(&[("response_type", "token"), identify]), "invalid_request");
    assert_eq!(ask(&[identify]), "invalid_request", "response_type is required");
    assert_eq!(ask(&[code, ("scope", "identify nonsense")]), "invalid_scope");
    assert_eq!(ask(&[code, ("scope", "")]), "invalid_scope");
    assert_eq!(ask(&[code]), "invalid_scope");
    assert_eq!(
        ask(&[code, identify, ("code_challenge", &challenge), ("code_challenge_method", "plain")]),
        "invalid_request"
    );
    assert_eq!(ask(&[code, identify, ("code_challenge", &challenge)]), "invalid_request", "plain by default");
    assert_eq!(ask(&[code, identify, ("code_challenge_method", "S256")]), "invalid_request");
    assert_eq!(
        ask(&[code, identify, ("code_challenge", "short"), ("code_challenge_method", "S256")]),
        "invalid_request"
    );

    // The user cancels.
    s.sim.set_oauth_user(None);
    assert_eq!(ask(&[code, identify]), "access_denied");
    s.sim.set_oauth_user(Some(s.user));

    // `prompt=none` and `prompt=consent` both go straight back (consent is the test's choice), and a
    // redirect URI's own query is kept.
    for prompt in ["none", "consent"] {
        let params = [
            ("client_id", app.as_str()),
            ("redirect_uri", "http://127.0.0.1/cb?from=app"),
            code,
            identify,
            ("prompt", prompt),
        ];
        let (location, pairs) = redirected(&authorize(&s.sim, &params));
        assert!(location.starts_with("http://127.0.0.1/cb?from=app&code="), "{location}");
        assert_eq!(param(&pairs, "from"), Some("app"));
        assert_eq!(param(&pairs, "state"), None, "no state sent, none returned");
    }
    assert_spec_clean(&s.sim);
}

#[test]
fn codes_are_single_use_and_a_second_use_revokes_what_the_first_gave() {
    let s = setup();
    let (verifier, challenge) = pkce("once");
    let code = code_for(&s, s.app, REDIRECT, "identify", Some(&challenge));
    let token = redeem(&s, &code, Some(&verifier)).json();
    assert_eq!(bearer(&s.sim, &access(&token), "/users/@me").status, 200);
    assert_eq!(s.sim.world(|w| w.oauth_grants(s.app, s.user)), 1);

    let again = redeem(&s, &code, Some(&verifier));
    assert_eq!(again.json(), json!({"error": "invalid_grant", "error_description": "Invalid \"code\" in request."}));
    assert_unauthorized(&bearer(&s.sim, &access(&token), "/users/@me"));
    let refresh = token["refresh_token"].as_str().unwrap();
    let refreshed = post_form(
        &s.sim,
        "/oauth2/token",
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        Some((s.app, SECRET)),
    );
    assert_oauth_error(&refreshed, 400, "invalid_grant");
    assert_eq!(s.sim.world(|w| w.oauth_grants(s.app, s.user)), 0);
    assert_oauth_error(&redeem(&s, "never-issued", Some(&verifier)), 400, "invalid_grant");
    assert_oauth_error(&redeem(&s, "", Some(&verifier)), 400, "invalid_request");
    assert_spec_clean(&s.sim);
}

#[test]
fn codes_expire_after_ten_minutes() {
    let s = setup();
    let fresh = code_for(&s, s.app, REDIRECT, "identify", None);
    s.sim.world(|w| w.advance_oauth_clock(Duration::from_secs(599)));
    assert_eq!(redeem(&s, &fresh, None).status, 200, "still good at 9:59");
    let stale = code_for(&s, s.app, REDIRECT, "identify", None);
    s.sim.world(|w| w.advance_oauth_clock(Duration::from_secs(600)));
    assert_eq!(redeem(&s, &stale, None).json()["error"], "invalid_grant");
    assert_spec_clean(&s.sim);
}

#[test]
fn codes_are_bound_to_their_app_redirect_uri_and_pkce_challenge() {
    let s = setup();
    let (verifier, challenge) = pkce("bound");

    // Another app, with its own valid credentials, cannot redeem this app's code.
    let code = code_for(&s, s.app, REDIRECT, "identify", Some(&challenge));
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &verifier),
    ];
    assert_oauth_error(
        &post_form(&s.sim, "/oauth2/token", &pairs, Some((s.other_app, OTHER_SECRET))),
        400,
        "invalid_grant",
    );

    // The redirect URI must be the authorization's.
    let code = code_for(&s, s.app, REDIRECT, "identify", Some(&challenge));
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1/cb?from=app"),
        ("code_verifier", &verifier),
    ];
    let answer = post_form(&s.sim, "/oauth2/token", &pairs, Some((s.app, SECRET)));
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_grant", "error_description": "Invalid \"redirect_uri\" in request."})
    );
    assert_oauth_error(&redeem(&s, &code, Some(&verifier)), 400, "invalid_grant");

    // The verifier must match the challenge, and be there.
    let code = code_for(&s, s.app, REDIRECT, "identify", Some(&challenge));
    let (other_verifier, _) = pkce("someone else");
    let answer = redeem(&s, &code, Some(&other_verifier));
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_grant", "error_description": "Invalid \"code_verifier\" in request."})
    );
    let code = code_for(&s, s.app, REDIRECT, "identify", Some(&challenge));
    assert_oauth_error(&redeem(&s, &code, None), 400, "invalid_grant");

    // Without a challenge, a confidential client redeems with its secret alone; a verifier sent anyway
    // is refused (a PKCE downgrade).
    let code = code_for(&s, s.app, REDIRECT, "identify", None);
    assert_oauth_error(&redeem(&s, &code, Some(&verifier)), 400, "invalid_grant");
    let code = code_for(&s, s.app, REDIRECT, "identify", None);
    assert_eq!(redeem(&s, &code, None).status, 200);
    assert_spec_clean(&s.sim);
}

#[test]
fn clients_authenticate_with_http_basic_or_form_fields_and_send_forms() {
    let s = setup();
    let code = code_for(&s, s.app, REDIRECT, "identify", None);
    let grant = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let wrong = post_form(&s.sim, "/oauth2/token", &grant, Some((s.app, "wrong")));
    assert_eq!((wrong.status, wrong.json()), (401, json!({"error": "invalid_client"})));
    assert_eq!(wrong.header("cache-control"), Some("no-store"));
    assert_oauth_error(&post_form(&s.sim, "/oauth2/token", &grant, None), 401, "invalid_client");
    assert_oauth_error(&post_form(&s.sim, "/oauth2/token", &grant, Some((424_242, SECRET))), 401, "invalid_client");
    let app = s.app.to_string();
    let wrong_fields = [grant[0], grant[1], grant[2], ("client_id", app.as_str()), ("client_secret", "nope")];
    assert_oauth_error(&post_form(&s.sim, "/oauth2/token", &wrong_fields, None), 401, "invalid_client");
    // Refused client authentication does not spend the code; form fields work as well as Basic.
    let fields = [grant[0], grant[1], grant[2], ("client_id", app.as_str()), ("client_secret", SECRET)];
    let answer = post_form(&s.sim, "/oauth2/token", &fields, None);
    assert_eq!(answer.status, 200, "{}", answer.json());
    assert_eq!(answer.json()["scope"], "identify");

    // JSON is not a form: Discord reads no grant_type from it.
    let json_body = json!({"grant_type": "authorization_code", "code": "x", "client_id": app, "client_secret": SECRET});
    let answer = send(
        s.sim.addr(),
        "POST",
        "/api/v10/oauth2/token",
        &[("Content-Type", "application/json")],
        json_body.to_string().as_bytes(),
    );
    assert_eq!(
        (answer.status, answer.json()),
        (400, json!({"error": "unsupported_grant_type", "error_description": "Grant type None is not supported"}))
    );
    let password = [("grant_type", "password"), ("username", "u"), ("password", "p")];
    assert_oauth_error(
        &post_form(&s.sim, "/oauth2/token", &password, Some((s.app, SECRET))),
        400,
        "unsupported_grant_type",
    );
    // Only POST.
    let get = send(s.sim.addr(), "GET", "/api/v10/oauth2/token", &[], b"");
    assert_eq!(get.status, 405);
    assert_spec_clean(&s.sim);
}

#[test]
fn refreshing_rotates_both_tokens() {
    let s = setup();
    let first = sign_in(&s, "identify guilds");
    let refresh = |token: &str, app: (u64, &str)| {
        post_form(&s.sim, "/oauth2/token", &[("grant_type", "refresh_token"), ("refresh_token", token)], Some(app))
    };
    let old_refresh = first["refresh_token"].as_str().unwrap();
    assert_oauth_error(&refresh(old_refresh, (s.other_app, OTHER_SECRET)), 400, "invalid_grant");
    let second = refresh(old_refresh, (s.app, SECRET));
    assert_eq!(second.status, 200, "{}", second.json());
    let second = second.json();
    assert_eq!((second["scope"].as_str(), second["expires_in"].as_i64()), (Some("identify guilds"), Some(604_800)));
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_unauthorized(&bearer(&s.sim, &access(&first), "/users/@me"));
    assert_eq!(bearer(&s.sim, &access(&second), "/users/@me").status, 200);
    assert_eq!(
        refresh(old_refresh, (s.app, SECRET)).json(),
        json!({"error": "invalid_grant", "error_description": "Invalid \"refresh_token\" in request."})
    );
    assert_oauth_error(
        &post_form(&s.sim, "/oauth2/token", &[("grant_type", "refresh_token")], Some((s.app, SECRET))),
        400,
        "invalid_request",
    );
    assert_spec_clean(&s.sim);
}

#[test]
fn revoking_any_token_ends_every_token_the_user_gave_the_app() {
    let s = setup();
    let one = sign_in(&s, "identify");
    let two = sign_in(&s, "identify guilds");
    s.sim.set_oauth_user(Some(s.stranger));
    let strangers = sign_in(&s, "identify");
    s.sim.set_oauth_user(Some(s.user));
    let revoke =
        |pairs: &[(&str, &str)], app: Option<(u64, &str)>| post_form(&s.sim, "/oauth2/token/revoke", pairs, app);

    // Another app cannot revoke this app's token; unknown tokens are fine.
    let token = access(&one);
    let answer = revoke(&[("token", &token)], Some((s.other_app, OTHER_SECRET)));
    assert_eq!((answer.status, answer.json()), (200, json!({})));
    assert_eq!(bearer(&s.sim, &token, "/users/@me").status, 200);
    assert_eq!(revoke(&[("token", "unknown")], Some((s.app, SECRET))).json(), json!({}));
    assert_oauth_error(&revoke(&[("token", &token)], Some((s.app, "wrong"))), 401, "invalid_client");
    assert_oauth_error(&revoke(&[], Some((s.app, SECRET))), 400, "invalid_request");
    assert_eq!(bearer(&s.sim, &token, "/users/@me").status, 200);

    // The hint does not matter: revoking one's refresh token ends both authorizations.
    let refresh = one["refresh_token"].as_str().unwrap();
    let answer = revoke(&[("token", refresh), ("token_type_hint", "access_token")], Some((s.app, SECRET)));
    assert_eq!((answer.status, answer.json()), (200, json!({})));
    assert_unauthorized(&bearer(&s.sim, &token, "/users/@me"));
    assert_unauthorized(&bearer(&s.sim, &access(&two), "/users/@me"));
    let again = [("grant_type", "refresh_token"), ("refresh_token", two["refresh_token"].as_str().unwrap())];
    assert_oauth_error(&post_form(&s.sim, "/oauth2/token", &again, Some((s.app, SECRET))), 400, "invalid_grant");
    assert_eq!(bearer(&s.sim, &access(&strangers), "/users/@me").status, 200, "another user's tokens stay");

    // Form fields authenticate revocation too.
    let app = s.app.to_string();
    let token = access(&strangers);
    let fields = [("token", token.as_str()), ("client_id", &app), ("client_secret", SECRET)];
    assert_eq!(revoke(&fields, None).status, 200);
    assert_unauthorized(&bearer(&s.sim, &token, "/users/@me"));
    assert_spec_clean(&s.sim);
}

#[test]
fn scopes_decide_what_a_bearer_token_reads() {
    let s = setup();
    let identify = access(&sign_in(&s, "identify"));
    let me = bearer(&s.sim, &identify, "/users/@me").json();
    assert_eq!(me["id"], s.user.to_string());
    assert_eq!(me["username"], "signer");
    assert!(me.get("email").is_none() && me.get("verified").is_none(), "{me}");
    assert_unauthorized(&bearer(&s.sim, &identify, "/users/@me/guilds"));
    assert_unauthorized(&bearer(&s.sim, &identify, &format!("/users/@me/guilds/{}/member", s.guild)));
    let authorization = bearer(&s.sim, &identify, "/oauth2/@me").json();
    assert_eq!(authorization["scopes"], json!(["identify"]));
    assert_eq!(authorization["user"]["id"], s.user.to_string());

    let email = access(&sign_in(&s, "identify email"));
    let me = bearer(&s.sim, &email, "/users/@me").json();
    assert_eq!((me["email"].as_str(), me["verified"].as_bool()), (Some("signer@example.com"), Some(true)));
    s.sim.world(|w| w.set_email(s.user, None));
    assert_eq!(bearer(&s.sim, &email, "/users/@me").json()["email"], Value::Null);

    let guilds_only = access(&sign_in(&s, "guilds"));
    assert_unauthorized(&bearer(&s.sim, &guilds_only, "/users/@me"));
    let authorization = bearer(&s.sim, &guilds_only, "/oauth2/@me").json();
    assert!(authorization.get("user").is_none(), "no user without identify: {authorization}");

    let members = access(&sign_in(&s, "guilds.members.read"));
    let member = bearer(&s.sim, &members, &format!("/users/@me/guilds/{}/member", s.guild));
    assert_eq!(member.status, 200);
    let member = member.json();
    assert_eq!(
        (member["nick"].as_str(), member["user"]["id"].as_str()),
        (Some("Sig"), Some(s.user.to_string().as_str()))
    );
    assert_eq!(member["roles"], json!([s.manager_role.to_string()]));
    bearer(&s.sim, &members, &format!("/users/@me/guilds/{}/member", s.lonely)).assert_error(404, 10004);
    bearer(&s.sim, &members, "/users/@me/guilds/424242/member").assert_error(404, 10004);
    assert_unauthorized(&bearer(&s.sim, &members, "/users/@me/guilds"));
    assert_spec_clean(&s.sim);
}

#[test]
fn my_guilds_show_ownership_and_permissions_and_page_like_discord() {
    let s = setup();
    let extra: Vec<u64> = s.sim.world(|w| {
        (0..3)
            .map(|i| {
                let guild = w.add_guild(&format!("Extra {i}"), s.stranger);
                w.add_member(guild, s.user, &[]);
                guild
            })
            .collect()
    });
    let mut mine = vec![s.guild, s.owned];
    mine.extend(&extra);
    mine.sort_unstable();
    let token = access(&sign_in(&s, "guilds"));
    let ids = |path: &str| -> Vec<u64> {
        let answer = bearer(&s.sim, &token, path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.json());
        answer.json().as_array().unwrap().iter().map(id_of).collect()
    };
    assert_eq!(ids("/users/@me/guilds"), mine, "ascending, without guilds the user is not in");
    assert_eq!(ids("/users/@me/guilds?limit=2"), mine[..2]);
    assert_eq!(ids(&format!("/users/@me/guilds?after={}&limit=2", mine[1])), mine[2..4]);
    assert_eq!(ids(&format!("/users/@me/guilds?before={}&limit=2", mine[4])), mine[2..4], "the two just before");
    assert_eq!(ids(&format!("/users/@me/guilds?before={}", mine[1])), mine[..1]);
    bearer(&s.sim, &token, "/users/@me/guilds?limit=201").assert_error(400, 50035);

    let guilds = bearer(&s.sim, &token, "/users/@me/guilds?with_counts=true").json();
    let find = |id: u64| guilds.as_array().unwrap().iter().find(|g| id_of(g) == id).unwrap().clone();
    let shared = find(s.guild);
    assert_eq!(shared["owner"], false);
    let expected = s.sim.world(|w| w.permissions(s.guild, s.user));
    assert_eq!(shared["permissions"], expected.to_string());
    let bits: u64 = shared["permissions"].as_str().unwrap().parse().unwrap();
    assert_eq!(bits & (MANAGE_GUILD | VIEW_CHANNEL), MANAGE_GUILD | VIEW_CHANNEL, "the role's bits and @everyone's");
    assert_eq!(shared["approximate_member_count"], 3);
    assert_eq!(find(s.owned)["owner"], true);
    assert_spec_clean(&s.sim);
}

#[test]
fn bot_tokens_and_bearer_tokens_do_not_stand_in_for_each_other() {
    let s = setup();
    let token = access(&sign_in(&s, "identify guilds guilds.members.read"));
    assert_unauthorized(&bearer(&s.sim, &s.bot_token, "/users/@me"));
    assert_unauthorized(&get_as(&s.sim, "Bot", &token, "/users/@me"));
    assert_unauthorized(&bearer(&s.sim, &token, &format!("/guilds/{}", s.guild)));
    assert_unauthorized(&bearer(&s.sim, &token, &format!("/users/{}", s.user)));
    let bot = Client::new(&s.sim, &s.bot_token);
    assert_eq!(bot.get("/users/@me").json()["id"], s.app.to_string(), "bots keep /users/@me");
    assert!(bot.get("/users/@me/guilds").json().as_array().is_some_and(|g| g.len() == 1), "and their guilds");
    assert_unauthorized(&bot.get(&format!("/users/@me/guilds/{}/member", s.guild)));
    assert_unauthorized(&bot.get("/oauth2/@me"));
    assert_unauthorized(&Client::anonymous(&s.sim).get("/oauth2/@me"));
    assert_unauthorized(&bearer(&s.sim, "not-a-token", "/users/@me"));

    // Access tokens expire after seven days (their refresh tokens still work).
    s.sim.world(|w| w.advance_oauth_clock(Duration::from_secs(604_799)));
    assert_eq!(bearer(&s.sim, &token, "/users/@me").status, 200);
    s.sim.world(|w| w.advance_oauth_clock(Duration::from_secs(1)));
    assert_unauthorized(&bearer(&s.sim, &token, "/users/@me"));
    assert_unauthorized(&bearer(&s.sim, &token, "/oauth2/@me"));
    assert_spec_clean(&s.sim);
}

#[test]
fn bearer_and_token_routes_are_rate_limited_per_token_and_client() {
    let s = setup();
    let one = access(&sign_in(&s, "identify guilds"));
    let two = access(&sign_in(&s, "identify guilds"));
    s.sim.set_rate_limit("GET", "/users/@me/guilds", 1, Duration::from_secs(60));
    let first = bearer(&s.sim, &one, "/users/@me/guilds");
    assert_eq!((first.status, first.header("X-RateLimit-Remaining")), (200, Some("0")));
    let limited = bearer(&s.sim, &one, "/users/@me/guilds");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["message"], "You are being rate limited.");
    assert_eq!(bearer(&s.sim, &two, "/users/@me/guilds").status, 200, "another token has its own bucket");
    assert_eq!(bearer(&s.sim, &one, "/users/@me").status, 200, "another route too");

    s.sim.set_rate_limit("POST", "/oauth2/token", 1, Duration::from_secs(60));
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", "unknown")];
    assert_eq!(post_form(&s.sim, "/oauth2/token", &refresh, Some((s.app, SECRET))).status, 400);
    let limited = post_form(&s.sim, "/oauth2/token", &refresh, Some((s.app, SECRET)));
    assert_eq!((limited.status, limited.json()["retry_after"].is_number()), (429, true));
    assert_eq!(post_form(&s.sim, "/oauth2/token", &refresh, Some((s.other_app, OTHER_SECRET))).status, 400);
    assert_eq!(s.sim.calls("POST", "/oauth2/token"), 3 + 2, "two sign-ins, then three");
    assert_spec_clean(&s.sim);
}
