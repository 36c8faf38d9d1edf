//! Roblox's OAuth 2.0 authorization code flow with PKCE: every rule a client meets.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Response, encode, send, start};
use garrison_roblox_sim::Simulator;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT: &str = "840974200211308101";
const SECRET: &str = "RBX-test-secret";
const REDIRECT: &str = "https://app.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn oauth_sim() -> Simulator {
    let (sim, _) = start();
    sim.world_mut(|w| {
        w.add_oauth_client(CLIENT, SECRET, &[REDIRECT, "https://app.example/other?from=sim"]);
        w.add_oauth_client("other-app", "other-secret", &["https://other.example/cb"]);
        w.set_description(4, "about me");
    });
    sim
}

/// `GET /oauth/v1/authorize` with these parameters.
fn authorize(sim: &Simulator, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(n, v)| format!("{n}={}", encode(v))).collect();
    send(sim.addr(), "GET", &format!("/oauth/v1/authorize?{}", query.join("&")), &[], b"")
}

fn standard(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT.to_owned()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("scope", scope.to_owned()),
        ("response_type", "code".to_owned()),
        ("state", "st/ate 1".to_owned()),
        ("nonce", "n-0S6".to_owned()),
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

fn borrowed<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    params.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// The query parameters of a redirect's location.
fn redirect_params(response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status, 302, "{}", String::from_utf8_lossy(&response.body));
    let location = response.header("location").expect("a location");
    let query = location.split_once('?').map_or("", |(_, q)| q);
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query).unwrap().into_inner()
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// A code for the standard authorization, signing in as `user`.
fn code_for(sim: &Simulator, user: u64, scope: &str) -> String {
    sim.set_oauth_user(Some(user));
    param(&redirect_params(&authorize(sim, &borrowed(&standard(scope)))), "code").expect("a code")
}

/// `POST` a form to an OAuth endpoint, with extra headers.
fn post_form(sim: &Simulator, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
    let body: Vec<String> = form.iter().map(|(n, v)| format!("{n}={}", encode(v))).collect();
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    send(sim.addr(), "POST", path, &all, body.join("&").as_bytes())
}

fn exchange(sim: &Simulator, code: &str, verifier: &str) -> Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    post_form(sim, "/oauth/v1/token", &form, &[])
}

fn userinfo(sim: &Simulator, access: &str) -> Response {
    send(sim.addr(), "GET", "/oauth/v1/userinfo", &[("Authorization", &format!("Bearer {access}"))], b"")
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn the_authorization_code_flow_with_pkce() {
    let sim = oauth_sim();
    sim.set_oauth_user(Some(4));
    let redirect = authorize(&sim, &borrowed(&standard("openid profile")));
    assert!(redirect.header("location").unwrap().starts_with("https://app.example/callback?code="));
    let params = redirect_params(&redirect);
    assert_eq!(param(&params, "state").as_deref(), Some("st/ate 1"), "the state comes back as sent");
    let code = param(&params, "code").unwrap();

    let tokens = exchange(&sim, &code, VERIFIER);
    assert_eq!(tokens.status, 200, "{}", tokens.json());
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "openid profile");
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() >= 32));
    let claims = jwt_claims(body["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "4");
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["iss"], format!("{}/oauth/", sim.base_url()));
    assert_eq!(claims["preferred_username"], "Private");

    let info = userinfo(&sim, body["access_token"].as_str().unwrap());
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(
        (info["sub"].clone(), info["name"].clone(), info["nickname"].clone(), info["preferred_username"].clone()),
        (json!("4"), json!("Private Display"), json!("Private Display"), json!("Private"))
    );
    assert_eq!(info["created_at"], 1_577_836_800, "Unix seconds");
    assert_eq!(info["profile"], "https://www.roblox.com/users/4/profile");
    let picture = info["picture"].as_str().unwrap().strip_prefix(&sim.base_url()).unwrap().to_owned();
    assert_eq!(send(sim.addr(), "GET", &picture, &[], b"").header("content-type"), Some("image/png"));

    // A code is good once.
    let again = exchange(&sim, &code, VERIFIER);
    assert_eq!((again.status, again.json()["error"].clone()), (400, json!("invalid_grant")));
    assert_eq!(sim.calls("POST", "/oauth/v1/token"), 2);
    assert!(sim.spec_violations().is_empty());
}

#[test]
fn without_the_profile_scope_userinfo_says_only_who() {
    let sim = oauth_sim();
    let code = code_for(&sim, 4, "openid");
    let body = exchange(&sim, &code, VERIFIER).json();
    assert_eq!(body["scope"], "openid");
    assert!(jwt_claims(body["id_token"].as_str().unwrap()).get("name").is_none());
    assert_eq!(userinfo(&sim, body["access_token"].as_str().unwrap()).json(), json!({"sub": "4"}));
    // No openid, no ID token.
    let code = code_for(&sim, 4, "group:read");
    let body = exchange(&sim, &code, VERIFIER).json();
    assert!(body.get("id_token").is_none());
}

#[test]
fn the_pkce_verifier_must_match() {
    let sim = oauth_sim();
    let code = code_for(&sim, 4, "openid");
    let wrong = exchange(&sim, &code, "not-the-verifier-not-the-verifier-not-the-ver");
    assert_eq!((wrong.status, wrong.json()["error"].clone()), (400, json!("invalid_grant")));
    assert_eq!(exchange(&sim, &code, VERIFIER).status, 400, "a failed redemption spends the code");
    let code = code_for(&sim, 4, "openid");
    let form =
        [("grant_type", "authorization_code"), ("code", &code), ("client_id", CLIENT), ("client_secret", SECRET)];
    let missing = post_form(&sim, "/oauth/v1/token", &form, &[]);
    assert_eq!(missing.json()["error"], "invalid_grant", "a PKCE authorization needs its verifier");
    // Only S256.
    let mut plain = standard("openid");
    plain.retain(|(n, _)| *n != "code_challenge_method");
    plain.push(("code_challenge_method", "plain".to_owned()));
    let params = redirect_params(&authorize(&sim, &borrowed(&plain)));
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_request"));
    // Without PKCE, no verifier is asked for.
    let mut no_pkce = standard("openid");
    no_pkce.retain(|(n, _)| !n.starts_with("code_challenge"));
    let code = param(&redirect_params(&authorize(&sim, &borrowed(&no_pkce))), "code").unwrap();
    let form =
        [("grant_type", "authorization_code"), ("code", &code), ("client_id", CLIENT), ("client_secret", SECRET)];
    assert_eq!(post_form(&sim, "/oauth/v1/token", &form, &[]).status, 200);
}

#[test]
fn authorize_refuses_unknown_apps_without_redirecting() {
    let sim = oauth_sim();
    sim.set_oauth_user(Some(4));
    let mut unknown = standard("openid");
    unknown[0].1 = "nope".to_owned();
    let page = authorize(&sim, &borrowed(&unknown));
    assert_eq!((page.status, page.header("location")), (400, None));
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let mut elsewhere = standard("openid");
    elsewhere[1].1 = "https://evil.example/callback".to_owned();
    let page = authorize(&sim, &borrowed(&elsewhere));
    assert_eq!((page.status, page.header("location")), (400, None));
    // Another app's redirect URI is not this app's.
    elsewhere[1].1 = "https://other.example/cb".to_owned();
    assert_eq!(authorize(&sim, &borrowed(&elsewhere)).status, 400);
}

#[test]
fn authorize_redirects_with_errors() {
    let sim = oauth_sim();
    // Nobody signs in: the user denied the app.
    sim.set_oauth_user(None);
    let params = redirect_params(&authorize(&sim, &borrowed(&standard("openid"))));
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&params, "state").as_deref(), Some("st/ate 1"));
    assert_eq!(param(&params, "code"), None);
    sim.set_oauth_user(Some(4));
    let mut token = standard("openid");
    token[3].1 = "token".to_owned();
    let params = redirect_params(&authorize(&sim, &borrowed(&token)));
    assert_eq!(param(&params, "error").as_deref(), Some("unsupported_response_type"));
    let params = redirect_params(&authorize(&sim, &borrowed(&standard(" "))));
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_scope"));
    // A redirect URI with a query of its own keeps it.
    let mut with_query = standard("openid");
    with_query[1].1 = "https://app.example/other?from=sim".to_owned();
    let location = authorize(&sim, &borrowed(&with_query)).header("location").unwrap().to_owned();
    assert!(location.starts_with("https://app.example/other?from=sim&code="), "{location}");
}

#[test]
fn clients_authenticate_by_form_or_basic() {
    let sim = oauth_sim();
    let code = code_for(&sim, 4, "openid");
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", VERIFIER)];
    let wrong = format!("Basic {}", STANDARD.encode(format!("{CLIENT}:wrong")));
    let refused = post_form(&sim, "/oauth/v1/token", &form, &[("Authorization", &wrong)]);
    assert_eq!((refused.status, refused.json()["error"].clone()), (401, json!("invalid_client")));
    let nobody = post_form(&sim, "/oauth/v1/token", &form, &[]);
    assert_eq!((nobody.status, nobody.json()["error"].clone()), (401, json!("invalid_client")));
    // The code survives a request that failed client authentication.
    let basic = format!("Basic {}", STANDARD.encode(format!("{CLIENT}:{SECRET}")));
    assert_eq!(post_form(&sim, "/oauth/v1/token", &form, &[("Authorization", &basic)]).status, 200);
    // A code issued to one app is not another's.
    let code = code_for(&sim, 4, "openid");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
        ("client_id", "other-app"),
        ("client_secret", "other-secret"),
    ];
    assert_eq!(post_form(&sim, "/oauth/v1/token", &form, &[]).json()["error"], "invalid_grant");
    let form = [("grant_type", "password"), ("client_id", CLIENT), ("client_secret", SECRET)];
    assert_eq!(post_form(&sim, "/oauth/v1/token", &form, &[]).json()["error"], "unsupported_grant_type");
}

#[test]
fn refresh_tokens_are_single_use_and_revocation_ends_the_authorization() {
    let sim = oauth_sim();
    let code = code_for(&sim, 4, "openid profile");
    let first = exchange(&sim, &code, VERIFIER).json();
    let refresh = |token: &str| {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ];
        post_form(&sim, "/oauth/v1/token", &form, &[])
    };
    let second = refresh(first["refresh_token"].as_str().unwrap());
    assert_eq!(second.status, 200);
    let second = second.json();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["scope"], "openid profile");
    assert_eq!(refresh(first["refresh_token"].as_str().unwrap()).json()["error"], "invalid_grant", "used once");
    assert_eq!(userinfo(&sim, second["access_token"].as_str().unwrap()).status, 200);

    let form = [("token", second["refresh_token"].as_str().unwrap()), ("client_id", CLIENT), ("client_secret", SECRET)];
    let revoked = post_form(&sim, "/oauth/v1/token/revoke", &form, &[]);
    assert_eq!((revoked.status, revoked.body.len()), (200, 0));
    for access in [&first["access_token"], &second["access_token"]] {
        let refused = userinfo(&sim, access.as_str().unwrap());
        assert_eq!(refused.status, 401);
        assert_eq!(refused.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
        assert_eq!(refused.json()["error"], "invalid_token");
    }
    assert_eq!(refresh(second["refresh_token"].as_str().unwrap()).json()["error"], "invalid_grant");
    // Revoking what is unknown is fine; revoking without client credentials is not.
    assert_eq!(post_form(&sim, "/oauth/v1/token/revoke", &form, &[]).status, 200);
    assert_eq!(post_form(&sim, "/oauth/v1/token/revoke", &[("token", "x")], &[]).status, 401);
    assert_eq!(send(sim.addr(), "GET", "/oauth/v1/userinfo", &[], b"").status, 401);
}

#[test]
fn the_discovery_document_points_at_the_simulator() {
    let sim = oauth_sim();
    let document = send(sim.addr(), "GET", "/oauth/.well-known/openid-configuration", &[], b"").json();
    let base = sim.base_url();
    assert_eq!(document["authorization_endpoint"], format!("{base}/oauth/v1/authorize"));
    assert_eq!(document["token_endpoint"], format!("{base}/oauth/v1/token"));
    assert_eq!(document["userinfo_endpoint"], format!("{base}/oauth/v1/userinfo"));
    assert_eq!(document["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(send(sim.addr(), "GET", "/oauth/v1/nothing", &[], b"").status, 404);
}
