//! The web verification flow as a browser walks it: Garrison's `/verify` pages, the Discord
//! simulator's and the Roblox simulator's OAuth pages, each redirect followed by hand (so every hop
//! and cookie is seen), then the link as the API reads it. Replays, other browsers, a code with the
//! wrong PKCE verifier, a cancelled consent and removing one's own link.

use garrison_roblox_sim::{Simulator as RobloxSim, World as RobloxWorld};
use reqwest::{StatusCode, header};

use crate::harness::{Backend, Server, database, expect, secret};

struct Flow {
    discord: garrison_discord_sim::Simulator,
    guild: garrison_discord_sim::Demo,
    roblox: RobloxSim,
    group: garrison_roblox_sim::Demo,
    server: Server,
    /// A browser that follows no redirect by itself.
    browser: reqwest::Client,
}

/// One hop: the status, where it points, the cookie it sets and the page text.
struct Hop {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    text: String,
    csp: Option<String>,
}

impl Flow {
    fn start() -> Self {
        let (world, guild) = garrison_discord_sim::World::demo();
        secret(&guild.oauth_client_secret);
        let discord = garrison_discord_sim::Simulator::start(world);
        let (world, group) = RobloxWorld::demo();
        secret(&group.oauth_client_secret);
        let roblox = RobloxSim::start(world);
        let (discord_url, roblox_url) = (discord.base_url(), roblox.base_url());
        let discord_client = guild.oauth_client_id.to_string();
        let server = Server::start_with(
            database(Backend::Sqlite).expect("SQLite is always available"),
            &[
                ("GARRISON_DISCORD_API_URL", discord_url.as_str()),
                ("GARRISON_DISCORD_OAUTH_URL", &format!("{discord_url}/oauth2/authorize")),
                ("GARRISON_DISCORD_CLIENT_ID", discord_client.as_str()),
                ("GARRISON_DISCORD_CLIENT_SECRET", guild.oauth_client_secret.as_str()),
                ("GARRISON_ROBLOX_API_URL", roblox_url.as_str()),
                ("GARRISON_ROBLOX_USERS_URL", roblox_url.as_str()),
                ("GARRISON_ROBLOX_OAUTH_URL", &format!("{roblox_url}/oauth")),
                ("GARRISON_ROBLOX_CLIENT_ID", group.oauth_client_id.as_str()),
                ("GARRISON_ROBLOX_CLIENT_SECRET", group.oauth_client_secret.as_str()),
            ],
        );
        // The apps learn Garrison's callbacks once its port is known, as an operator registers them.
        let discord_back = format!("{}/verify/discord/callback", server.base);
        discord.world(|w| w.add_oauth_redirect_uri(guild.oauth_client_id, &discord_back));
        let roblox_back = format!("{}/verify/roblox/callback", server.base);
        roblox.world_mut(|w| w.add_oauth_client(&group.oauth_client_id, &group.oauth_client_secret, &[&roblox_back]));
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("browser");
        Self { discord, guild, roblox, group, server, browser }
    }

    async fn get(&self, url: &str, cookie: Option<&str>) -> Hop {
        let mut request = self.browser.get(url);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("garrison_verify={cookie}"));
        }
        let answer = request.send().await.expect("the hop answers");
        let header = |name| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (location, csp) = (header(header::LOCATION), header(header::CONTENT_SECURITY_POLICY));
        let cookie = header(header::SET_COOKIE);
        let status = answer.status();
        Hop { status, location, cookie, csp, text: answer.text().await.unwrap_or_default() }
    }

    /// `/verify/start` (or `unlink`): Discord's authorize URL and the browser's cookie value.
    async fn begin(&self, path: &str) -> (String, String) {
        let hop = self.get(&format!("{}{path}", self.server.base), None).await;
        assert_eq!(hop.status, StatusCode::FOUND, "{}", hop.text);
        let set = hop.cookie.expect("a cookie binds the flow to this browser");
        for part in ["HttpOnly", "SameSite=Lax", "Path=/verify"] {
            assert!(set.contains(part), "{set}");
        }
        let value = set.split(';').next().and_then(|p| p.strip_prefix("garrison_verify=")).expect("value").to_owned();
        secret(&value);
        (hop.location.expect("to Discord"), value)
    }

    /// The provider's authorize page sends the browser back: the callback URL.
    async fn consent(&self, authorize: &str) -> String {
        let hop = self.get(authorize, None).await;
        assert_eq!(hop.status, StatusCode::FOUND, "{}", hop.text);
        let back = hop.location.expect("back to Garrison");
        // The code and the state are credentials too: the log scan looks for them.
        let url = reqwest::Url::parse(&back).expect("a URL");
        for (name, value) in url.query_pairs() {
            if name == "code" || name == "state" {
                secret(&value);
            }
        }
        back
    }

    fn assert_faithful(&self) {
        let violations = self.discord.spec_violations();
        assert!(violations.is_empty(), "{violations:#?}");
        let violations = self.roblox.spec_violations();
        assert!(violations.is_empty(), "{violations:#?}");
        self.server.assert_no_secret_logged();
    }
}

#[tokio::test]
async fn signing_in_to_discord_then_roblox_links_the_accounts() {
    let f = Flow::start();
    let person = f.guild.members[0];
    f.discord.set_oauth_user(Some(person));
    f.roblox.set_oauth_user(Some(f.group.captain));

    let start = f.get(&format!("{}/verify", f.server.base), None).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.text.contains("href=\"/verify/start\""), "{}", start.text);
    let csp = start.csp.expect("a policy");
    assert!(csp.starts_with("default-src 'none'") && !csp.contains("script-src"), "{csp}");

    let (to_discord, cookie) = f.begin("/verify/start").await;
    assert!(to_discord.starts_with(&format!("{}/oauth2/authorize?", f.discord.base_url())), "{to_discord}");
    assert!(to_discord.contains("code_challenge_method=S256") && to_discord.contains("scope=identify"));
    let back = f.consent(&to_discord).await;
    let to_roblox = f.get(&back, Some(&cookie)).await;
    assert_eq!(to_roblox.status, StatusCode::FOUND, "{}", to_roblox.text);
    let to_roblox = to_roblox.location.expect("to Roblox");
    assert!(to_roblox.starts_with(&format!("{}/oauth/v1/authorize?", f.roblox.base_url())), "{to_roblox}");
    let back = f.consent(&to_roblox).await;
    let done = f.get(&back, Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains("Your accounts are linked"), "{}", done.text);
    assert!(done.text.contains(&person.to_string()) && done.text.contains("CaptainCasey"), "{}", done.text);
    assert!(done.cookie.is_some_and(|c| c.contains("Max-Age=0")), "the flow's cookie is cleared");
    assert_eq!(f.discord.world(|w| w.oauth_grants(f.guild.oauth_client_id, person)), 0, "Discord's token was revoked");

    let key = f.server.create_key("123456789012345678", "bot", true);
    let seen = expect(f.server.get(&format!("/api/verification?robloxId={}", f.group.captain), &key).await, 200);
    assert_eq!(seen.body["discordId"], person.to_string());
    let seen = expect(f.server.get(&format!("/api/verification/discord?discordId={person}"), &key).await, 200);
    assert_eq!(seen.body["method"], "oauth");

    // The last hop again (a replay, or a link someone forwarded): refused, nothing changes.
    let replay = f.get(&back, Some(&cookie)).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.text.contains("expired or was already used"), "{}", replay.text);
    f.assert_faithful();
}

#[tokio::test]
async fn another_browser_a_foreign_code_or_a_cancel_links_nothing() {
    let f = Flow::start();
    let person = f.guild.members[1];
    f.discord.set_oauth_user(Some(person));
    f.roblox.set_oauth_user(Some(f.group.corporal));

    // A callback URL carried to another browser (no cookie, or another flow's) does not finish.
    let (to_discord, _cookie) = f.begin("/verify/start").await;
    let back = f.consent(&to_discord).await;
    let (_, other_cookie) = f.begin("/verify/start").await;
    for cookie in [None, Some(other_cookie.as_str())] {
        let hop = f.get(&back, cookie).await;
        assert_eq!(hop.status, StatusCode::BAD_REQUEST, "{}", hop.text);
    }

    // Flow A's code delivered with flow B's state: B's PKCE verifier does not match A's challenge.
    let (to_discord_a, _) = f.begin("/verify/start").await;
    let (to_discord_b, cookie_b) = f.begin("/verify/start").await;
    let code_a = f.consent(&to_discord_a).await;
    let code_a = reqwest::Url::parse(&code_a).expect("url");
    let code = code_a.query_pairs().find(|(k, _)| k == "code").expect("code").1.into_owned();
    let back_b = reqwest::Url::parse(&f.consent(&to_discord_b).await).expect("url");
    let state_b = back_b.query_pairs().find(|(k, _)| k == "state").expect("state").1.into_owned();
    let mut forged = back_b.clone();
    forged.query_pairs_mut().clear().append_pair("code", &code).append_pair("state", &state_b);
    let hop = f.get(forged.as_str(), Some(&cookie_b)).await;
    assert_eq!(hop.status, StatusCode::BAD_REQUEST, "{}", hop.text);
    assert!(hop.text.contains("Discord did not accept the sign-in"), "{}", hop.text);

    // The person says no at Discord.
    f.discord.set_oauth_user(None);
    let (to_discord, cookie) = f.begin("/verify/start").await;
    let back = f.consent(&to_discord).await;
    let hop = f.get(&back, Some(&cookie)).await;
    assert_eq!(hop.status, StatusCode::BAD_REQUEST);
    assert!(hop.text.contains("You cancelled signing in with Discord"), "{}", hop.text);

    let key = f.server.create_key("123456789012345678", "bot", true);
    let seen = expect(f.server.get(&format!("/api/verification/discord?discordId={person}"), &key).await, 200);
    assert_eq!(seen.body["isVerified"], false);
    f.assert_faithful();
}

#[tokio::test]
async fn a_person_removes_their_own_link_by_signing_in_to_discord() {
    let f = Flow::start();
    let person = f.guild.members[2];
    f.discord.set_oauth_user(Some(person));
    f.roblox.set_oauth_user(Some(f.group.major));
    let (to_discord, cookie) = f.begin("/verify/start").await;
    let to_roblox = f.get(&f.consent(&to_discord).await, Some(&cookie)).await.location.expect("to Roblox");
    let done = f.get(&f.consent(&to_roblox).await, Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);

    let (to_discord, cookie) = f.begin("/verify/unlink").await;
    let done = f.get(&f.consent(&to_discord).await, Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(
        done.text.contains("Your link is removed") && done.text.contains(&f.group.major.to_string()),
        "{}",
        done.text
    );
    let key = f.server.create_key("123456789012345678", "bot", true);
    let seen = expect(f.server.get(&format!("/api/verification?robloxId={}", f.group.major), &key).await, 200);
    assert_eq!(seen.body["isVerified"], false);
    f.assert_faithful();
}

#[tokio::test]
async fn without_apps_configured_the_flow_says_so() {
    let server = Server::start(database(Backend::Sqlite).expect("SQLite is always available"));
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("browser");
    let answer = browser.get(format!("{}/verify/start", server.base)).send().await.expect("answer");
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = answer.text().await.expect("page");
    assert!(text.contains("signing in with Discord is not configured on this server"), "{text}");
    let answer =
        browser.get(format!("{}/verify/discord/callback?state=x&code=y", server.base)).send().await.expect("answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}
