//! The sign-in client against the Roblox simulator's OAuth 2.0: a whole authorization-code flow
//! with PKCE, the refusals, and the token let go afterwards.

use std::time::Duration;

use garrison_core::roblox::signin::{OAuthProvider, ProviderError, challenge};
use garrison_oauth::{ClientCredentials, OAuthClient};
use garrison_roblox_sim::{Simulator, World};

fn setup() -> (Simulator, garrison_roblox_sim::Demo, OAuthClient) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let credentials = ClientCredentials {
        client_id: demo.oauth_client_id.clone(),
        client_secret: demo.oauth_client_secret.clone(),
        redirect_uri: demo.oauth_redirect_uri.clone(),
    };
    let client = OAuthClient::roblox(&format!("{}/oauth", sim.base_url()), Some(credentials), Duration::from_secs(5))
        .expect("client");
    (sim, demo, client)
}

/// Follows the authorize URL as a browser would, up to the redirect back: the `code` it carries.
async fn consent(url: &str) -> Option<String> {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let answer = browser.get(url).send().await.expect("authorize");
    let location = answer.headers().get("location")?.to_str().ok()?.to_owned();
    let back = reqwest::Url::parse(&location).ok()?;
    back.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_user_signs_in_with_pkce_and_the_token_is_let_go() {
    let (sim, demo, client) = setup();
    sim.set_oauth_user(Some(demo.captain));
    let verifier = "a-verifier-of-the-recommended-length-0123456789";
    let url = client.authorize_url("the-state", &challenge(verifier)).expect("url");
    assert!(url.contains("scope=openid+profile") && url.contains("code_challenge_method=S256"), "{url}");
    let code = consent(&url).await.expect("a code");
    let who = client.identify(&code, verifier).await.expect("identified");
    assert_eq!((who.id, who.name.as_str()), (demo.captain, "CaptainCasey"));
    assert_eq!(sim.calls("POST", "/oauth/v1/token/revoke"), 1, "the token was let go");

    // A code works once, and only with its verifier.
    let again = client.identify(&code, verifier).await.expect_err("used");
    assert_eq!(again, ProviderError::Refused { provider: "Roblox", reason: "invalid_grant".into() });
    let code = consent(&client.authorize_url("s", &challenge(verifier)).expect("url")).await.expect("code");
    let wrong = client.identify(&code, "another-verifier-of-the-recommended-length-000").await.expect_err("pkce");
    assert!(matches!(wrong, ProviderError::Refused { .. }), "{wrong}");
    // The user says no: the provider sends no code.
    sim.set_oauth_user(None);
    assert_eq!(consent(&client.authorize_url("s", &challenge(verifier)).expect("url")).await, None);
    assert!(sim.spec_violations().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_or_no_settings_are_named_without_the_secret() {
    let (sim, demo, _) = setup();
    let wrong = ClientCredentials {
        client_id: demo.oauth_client_id.clone(),
        client_secret: "not-the-secret-at-all".into(),
        redirect_uri: demo.oauth_redirect_uri.clone(),
    };
    let client =
        OAuthClient::roblox(&format!("{}/oauth", sim.base_url()), Some(wrong), Duration::from_secs(5)).expect("client");
    sim.set_oauth_user(Some(demo.captain));
    let verifier = "a-verifier-of-the-recommended-length-0123456789";
    let code = consent(&client.authorize_url("s", &challenge(verifier)).expect("url")).await.expect("code");
    let err = client.identify(&code, verifier).await.expect_err("bad secret");
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err}");
    assert!(!err.to_string().contains("not-the-secret"), "{err}");
    let unset = OAuthClient::roblox("http://127.0.0.1:9/oauth", None, Duration::from_secs(1)).expect("client");
    assert_eq!(unset.authorize_url("s", "c"), Err(ProviderError::NotConfigured { provider: "Roblox" }));
}
