//! Roblox's OAuth 2.0 authorization code flow, with PKCE (S256), as Roblox's OAuth reference describes
//! it: `GET /oauth/v1/authorize`, `POST /oauth/v1/token` (authorization code and refresh token grants),
//! `POST /oauth/v1/token/revoke`, `GET /oauth/v1/userinfo`, and the discovery document
//! `GET /oauth/.well-known/openid-configuration`.
//!
//! The user's sign-in and consent are not simulated: a test chooses beforehand who signs in
//! ([`crate::Simulator::set_oauth_user`]), and `authorize` redirects at once, with a code, or with
//! `error=access_denied` when nobody is set. What the real endpoints enforce is kept: registered clients
//! and redirect URIs (a bad one gets an error page, never a redirect), codes valid for one minute and
//! once, the PKCE verifier, client authentication (HTTP Basic or form fields), access tokens valid for 15
//! minutes, single-use refresh tokens, and revocation of the whole authorization.
//!
//! One difference: Roblox signs ID tokens with ES256 under its published keys; the simulator signs them
//! HS256 with the client's secret (OpenID Connect's choice for confidential clients), with Roblox's claims.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::thumbnail::{self, Shape, ThumbnailFormat};
use crate::time::Timestamp;
use crate::world::World;

/// How long an authorization code may be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long an access token is valid, in seconds.
const ACCESS_LIFETIME_SECS: u64 = 900;

/// A registered app.
#[derive(Debug, Clone)]
struct OAuthClient {
    secret: String,
    redirect_uris: Vec<String>,
}

/// What a user granted an app: one authorization, which its tokens carry until it is revoked.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    user: u64,
    scopes: Vec<String>,
    /// The authorization (session) these tokens belong to.
    session: u64,
}

#[derive(Debug, Clone)]
struct Code {
    grant: Grant,
    redirect_uri: String,
    /// The S256 code challenge, when the app sent one.
    challenge: Option<String>,
    nonce: Option<String>,
    issued: Instant,
}

#[derive(Debug, Clone)]
struct AccessToken {
    grant: Grant,
    expires: Instant,
}

/// Registered clients, and the codes and tokens issued to them.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    clients: HashMap<String, OAuthClient>,
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, Grant>,
    revoked: HashSet<u64>,
    sessions: u64,
}

impl World {
    /// Registers an OAuth 2.0 app: its client id, secret, and the redirect URIs it may use.
    pub fn add_oauth_client(&mut self, client_id: &str, secret: &str, redirect_uris: &[&str]) {
        let client = OAuthClient {
            secret: secret.to_owned(),
            redirect_uris: redirect_uris.iter().map(|uri| (*uri).to_owned()).collect(),
        };
        self.oauth.clients.insert(client_id.to_owned(), client);
    }
}

/// One OAuth request, parsed.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(String, String)],
    /// The `application/x-www-form-urlencoded` body.
    pub(crate) form: &'a [(String, String)],
    pub(crate) authorization: Option<&'a str>,
    pub(crate) base_url: &'a str,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The bearer token of `Authorization: Bearer ...`.
    fn bearer(&self) -> Option<&str> {
        let header = self.authorization?;
        let (scheme, token) = header.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// Client credentials: HTTP Basic, else the form's `client_id` and `client_secret`.
    fn client_credentials(&self) -> Option<(String, String)> {
        if let Some((scheme, encoded)) = self.authorization.and_then(|h| h.split_once(' '))
            && scheme.eq_ignore_ascii_case("basic")
        {
            let decoded = STANDARD.decode(encoded.trim()).ok()?;
            let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
            return Some((percent_decode(id), percent_decode(secret)));
        }
        Some((self.field("client_id")?.to_owned(), self.field("client_secret")?.to_owned()))
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Json {
        status: u16,
        body: Value,
        headers: Vec<(&'static str, String)>,
    },
    /// 302 to this location.
    Redirect(String),
    /// An HTML page (the errors a browser sees instead of a redirect).
    Page {
        status: u16,
        text: String,
    },
    /// 200 with no body (revocation).
    Empty,
}

fn error(status: u16, code: &str, description: &str) -> Answer {
    let headers = match status {
        401 => vec![("www-authenticate", format!("Bearer error=\"{code}\""))],
        _ => Vec::new(),
    };
    Answer::Json { status, body: json!({"error": code, "error_description": description}), headers }
}

/// Serves one request under `/oauth/`; `user` is who signs in at `authorize`.
pub(crate) fn handle(world: &mut World, user: Option<u64>, request: &Request, now: Instant) -> Answer {
    match (request.method, request.path) {
        ("GET", "/oauth/v1/authorize") => authorize(world, user, request, now),
        ("POST", "/oauth/v1/token") => token(world, request, now),
        ("POST", "/oauth/v1/token/revoke") => revoke(world, request),
        ("GET", "/oauth/v1/userinfo") => userinfo(world, request, now),
        ("GET", "/oauth/.well-known/openid-configuration") => discovery(request.base_url),
        _ => error(404, "not_found", "No such OAuth endpoint."),
    }
}

/// `GET /oauth/v1/authorize`: redirects to the app with a code (or an error), as if the chosen user
/// signed in and consented. An unknown client or unregistered redirect URI gets an error page instead.
fn authorize(world: &mut World, user: Option<u64>, request: &Request, now: Instant) -> Answer {
    let client_id = request.param("client_id").unwrap_or_default();
    let Some(client) = world.oauth.clients.get(client_id) else {
        return Answer::Page { status: 400, text: "Invalid client_id: the app is not registered.".to_owned() };
    };
    let Some(redirect_uri) = request.param("redirect_uri").filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return Answer::Page {
            status: 400,
            text: "Invalid redirect_uri: it is not registered for this app.".to_owned(),
        };
    };
    let state = request.param("state");
    let back = |pairs: &[(&str, &str)]| {
        let mut location = redirect_uri.to_owned();
        let mut separator = if location.contains('?') { '&' } else { '?' };
        for (name, value) in pairs.iter().copied().chain(state.map(|s| ("state", s))) {
            location.push(separator);
            location.push_str(name);
            location.push('=');
            location.push_str(&percent_encode(value));
            separator = '&';
        }
        Answer::Redirect(location)
    };
    if request.param("response_type") != Some("code") {
        return back(&[("error", "unsupported_response_type"), ("error_description", "response_type must be code")]);
    }
    let scopes: Vec<String> =
        request.param("scope").unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return back(&[("error", "invalid_scope"), ("error_description", "scope is required")]);
    }
    let challenge = match (request.param("code_challenge"), request.param("code_challenge_method")) {
        (None, None) => None,
        (Some(challenge), Some("S256")) => Some(challenge.to_owned()),
        _ => {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "PKCE needs code_challenge_method=S256"),
            ]);
        }
    };
    let Some(user) = user.filter(|user| world.user(*user).is_some()) else {
        return back(&[("error", "access_denied"), ("error_description", "The user did not authorize the app.")]);
    };
    world.oauth.sessions += 1;
    let grant = Grant { client_id: client_id.to_owned(), user, scopes, session: world.oauth.sessions };
    let code = world.random_secret(32);
    let entry = Code {
        grant,
        redirect_uri: redirect_uri.to_owned(),
        challenge,
        nonce: request.param("nonce").map(str::to_owned),
        issued: now,
    };
    world.oauth.codes.insert(code.clone(), entry);
    back(&[("code", &code)])
}

/// The client a token request authenticates as, or 401 `invalid_client`.
fn authenticate(world: &World, request: &Request) -> Result<String, Answer> {
    let unauthenticated = || error(401, "invalid_client", "Client authentication failed.");
    let (id, secret) = request.client_credentials().ok_or_else(unauthenticated)?;
    match world.oauth.clients.get(&id) {
        Some(client) if client.secret == secret => Ok(id),
        _ => Err(unauthenticated()),
    }
}

/// `POST /oauth/v1/token`: `authorization_code` (with `code` and, after a PKCE authorization,
/// `code_verifier`) or `refresh_token`.
fn token(world: &mut World, request: &Request, now: Instant) -> Answer {
    let client_id = match authenticate(world, request) {
        Ok(client_id) => client_id,
        Err(answer) => return answer,
    };
    match request.field("grant_type") {
        Some("authorization_code") => {
            let Some(code) = request.field("code") else {
                return error(400, "invalid_request", "code is required.");
            };
            // A code is spent by its first redemption, successful or not.
            let Some(entry) = world.oauth.codes.remove(code) else {
                return error(400, "invalid_grant", "The code is invalid or was used already.");
            };
            if entry.grant.client_id != client_id || now.duration_since(entry.issued) >= CODE_LIFETIME {
                return error(400, "invalid_grant", "The code is invalid or has expired.");
            }
            if request.field("redirect_uri").is_some_and(|uri| uri != entry.redirect_uri) {
                return error(400, "invalid_grant", "redirect_uri differs from the authorization's.");
            }
            if let Some(challenge) = &entry.challenge {
                let verified = request.field("code_verifier").is_some_and(|verifier| s256(verifier) == *challenge);
                if !verified {
                    return error(400, "invalid_grant", "The code_verifier does not match the code_challenge.");
                }
            }
            issue(world, entry.grant, entry.nonce.as_deref(), request.base_url, now)
        }
        Some("refresh_token") => {
            let Some(refresh) = request.field("refresh_token") else {
                return error(400, "invalid_request", "refresh_token is required.");
            };
            match world.oauth.refresh.get(refresh) {
                Some(grant) if grant.client_id == client_id && !world.oauth.revoked.contains(&grant.session) => {
                    let grant = grant.clone();
                    world.oauth.refresh.remove(refresh);
                    issue(world, grant, None, request.base_url, now)
                }
                _ => error(400, "invalid_grant", "The refresh token is invalid."),
            }
        }
        Some(_) => error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token."),
        None => error(400, "invalid_request", "grant_type is required."),
    }
}

/// New access and refresh tokens for a grant (and an ID token when `openid` was granted).
fn issue(world: &mut World, grant: Grant, nonce: Option<&str>, base_url: &str, now: Instant) -> Answer {
    let access = world.random_secret(32);
    let refresh = world.random_secret(32);
    let mut body = Map::new();
    body.insert("access_token".into(), access.clone().into());
    body.insert("refresh_token".into(), refresh.clone().into());
    body.insert("token_type".into(), "Bearer".into());
    body.insert("expires_in".into(), ACCESS_LIFETIME_SECS.into());
    if grant.scopes.iter().any(|scope| scope == "openid") {
        let secret = world.oauth.clients.get(&grant.client_id).map(|c| c.secret.clone()).unwrap_or_default();
        body.insert("id_token".into(), id_token(world, &grant, nonce, base_url, &secret).into());
    }
    body.insert("scope".into(), grant.scopes.join(" ").into());
    let expires = now + Duration::from_secs(ACCESS_LIFETIME_SECS);
    world.oauth.access.insert(access, AccessToken { grant: grant.clone(), expires });
    world.oauth.refresh.insert(refresh, grant);
    let headers = vec![("cache-control", "no-store".to_owned())];
    Answer::Json { status: 200, body: Value::Object(body), headers }
}

/// The claims Roblox gives about a user: `sub`, and with the `profile` scope their names, account
/// creation (Unix seconds), profile link and avatar.
fn claims(world: &World, grant: &Grant, base_url: &str) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), grant.user.to_string().into());
    if grant.scopes.iter().any(|scope| scope == "profile")
        && let Some(user) = world.user(grant.user)
    {
        claims.insert("name".into(), user.display_name.clone().into());
        claims.insert("nickname".into(), user.display_name.clone().into());
        claims.insert("preferred_username".into(), user.name.clone().into());
        claims.insert("created_at".into(), user.created.unix_secs().into());
        claims.insert("profile".into(), format!("https://www.roblox.com/users/{}/profile", user.id).into());
        let picture = thumbnail::path(user.id, 150, Shape::Round, ThumbnailFormat::Png);
        claims.insert("picture".into(), format!("{base_url}{picture}").into());
    }
    claims
}

/// An ID token: a JWT with Roblox's claims, signed HS256 with the client's secret.
fn id_token(world: &World, grant: &Grant, nonce: Option<&str>, base_url: &str, secret: &str) -> String {
    let issued = Timestamp::now().unix_secs();
    let mut claims = claims(world, grant, base_url);
    claims.insert("iss".into(), format!("{base_url}/oauth/").into());
    claims.insert("aud".into(), grant.client_id.clone().into());
    claims.insert("iat".into(), issued.into());
    claims.insert("exp".into(), (issued + 3600).into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string());
    let signed = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret.as_bytes(), signed.as_bytes()));
    format!("{signed}.{signature}")
}

/// `POST /oauth/v1/token/revoke` with a refresh (or access) token: the whole authorization ends, every
/// token of it with it. Answers 200 with no body, also for tokens it does not know (RFC 7009).
fn revoke(world: &mut World, request: &Request) -> Answer {
    let client_id = match authenticate(world, request) {
        Ok(client_id) => client_id,
        Err(answer) => return answer,
    };
    let Some(token) = request.field("token") else {
        return error(400, "invalid_request", "token is required.");
    };
    let oauth = &mut world.oauth;
    let session = oauth
        .refresh
        .get(token)
        .or_else(|| oauth.access.get(token).map(|access| &access.grant))
        .filter(|grant| grant.client_id == client_id)
        .map(|grant| grant.session);
    if let Some(session) = session {
        oauth.revoked.insert(session);
        oauth.refresh.retain(|_, grant| grant.session != session);
        oauth.access.retain(|_, access| access.grant.session != session);
    }
    Answer::Empty
}

/// `GET /oauth/v1/userinfo` with `Authorization: Bearer <access token>`.
fn userinfo(world: &World, request: &Request, now: Instant) -> Answer {
    let access = request.bearer().and_then(|token| world.oauth.access.get(token));
    match access {
        Some(access) if access.expires > now && !world.oauth.revoked.contains(&access.grant.session) => Answer::Json {
            status: 200,
            body: Value::Object(claims(world, &access.grant, request.base_url)),
            headers: vec![],
        },
        _ => error(401, "invalid_token", "The access token is invalid or has expired."),
    }
}

/// `GET /oauth/.well-known/openid-configuration`, pointing at the simulator.
fn discovery(base_url: &str) -> Answer {
    let oauth = format!("{base_url}/oauth");
    let body = json!({
        "issuer": format!("{oauth}/"),
        "authorization_endpoint": format!("{oauth}/v1/authorize"),
        "token_endpoint": format!("{oauth}/v1/token"),
        "revocation_endpoint": format!("{oauth}/v1/token/revoke"),
        "userinfo_endpoint": format!("{oauth}/v1/userinfo"),
        "scopes_supported": ["openid", "profile"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "nickname",
            "preferred_username", "created_at", "profile", "picture"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    });
    Answer::Json { status: 200, body, headers: vec![] }
}

/// PKCE's S256: unpadded URL-safe base64 of the verifier's SHA-256.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(move |b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36).collect::<Vec<u8>>()).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c).collect::<Vec<u8>>()).chain_update(inner).finalize().to_vec()
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `%XX` and `+` decoded (HTTP Basic client credentials are form-encoded first, RFC 6749 2.3.1).
fn percent_decode(text: &str) -> String {
    crate::server::percent_decode(&text.replace('+', " "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let hex = |bytes: Vec<u8>| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        // Test case 2.
        assert_eq!(
            hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn codes_expire_after_a_minute() {
        let mut world = World::new();
        world.add_user(1, "One", "One");
        world.add_oauth_client("app", "secret", &["https://app.example/cb"]);
        let query = pairs(&[
            ("client_id", "app"),
            ("redirect_uri", "https://app.example/cb"),
            ("scope", "openid"),
            ("response_type", "code"),
        ]);
        let at = |method, path, query, form| Request { method, path, query, form, authorization: None, base_url: "" };
        let start = Instant::now();
        let Answer::Redirect(location) =
            authorize(&mut world, Some(1), &at("GET", "/oauth/v1/authorize", &query, &[]), start)
        else {
            panic!("no redirect")
        };
        let code = location.split("code=").nth(1).unwrap().to_owned();
        let form = pairs(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "app"),
            ("client_secret", "secret"),
        ]);
        let late = token(&mut world, &at("POST", "/oauth/v1/token", &[], &form), start + CODE_LIFETIME);
        assert!(matches!(late, Answer::Json { status: 400, ref body, .. } if body["error"] == "invalid_grant"));
    }

    #[test]
    fn encoding() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_decode("a%3Ab+c"), "a:b c");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
