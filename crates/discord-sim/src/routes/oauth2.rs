//! Discord's OAuth2 authorization code grant, with PKCE, as Discord's OAuth2 documentation
//! describes it: the authorization page (`GET /oauth2/authorize`, at the root), the token endpoint
//! (`POST /oauth2/token`: `authorization_code` and `refresh_token` grants), token revocation
//! (`POST /oauth2/token/revoke`) and the authorization itself (`GET /oauth2/@me`, bearer only).
//!
//! Signing in and consenting are not simulated: the test chooses beforehand who consents
//! ([`crate::Simulator::set_oauth_user`]) and the page redirects at once, with a code, or with
//! `error=access_denied` when nobody is chosen. What Discord enforces is kept: registered apps and
//! exactly registered redirect URIs (a bad one gets an error page, never a redirect), known scopes,
//! PKCE with S256 only (`code_challenge_methods_supported: ["S256"]` in Discord's authorization
//! server metadata), codes single use and bound to the app, redirect URI, scopes, user and
//! challenge, client authentication by HTTP Basic or form fields, and form bodies only.

use serde_json::{Value, json};

use super::{Call, Outcome, Reply};
use crate::error::{ApiError, OAuthError};
use crate::json;
use crate::oauth::{self, ACCESS_LIFETIME_SECS, AccessToken, AuthorizationCode, CODE_LIFETIME_MS, Grant};
use crate::time::Timestamp;
use crate::world::World;

/// A request to the token endpoints: the form's fields and the `Authorization` header.
#[derive(Debug)]
pub(crate) struct FormCall<'a> {
    /// The decoded `application/x-www-form-urlencoded` body (empty for any other content type).
    pub(crate) form: &'a [(String, String)],
    pub(crate) authorization: Option<&'a str>,
    pub(crate) now: Timestamp,
}

impl FormCall<'_> {
    /// A form field, if present and not empty.
    fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The client's credentials: HTTP Basic (`client_id:client_secret`, each form-encoded as RFC 6749
    /// section 2.3.1 says), else the form's `client_id` and `client_secret`.
    fn client_credentials(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        if let Some((scheme, encoded)) = self.authorization.and_then(|h| h.trim().split_once(' '))
            && scheme.eq_ignore_ascii_case("basic")
        {
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
            let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
            let decode = |text: &str| crate::server::percent_decode(&text.replace('+', " "));
            return Some((decode(id), decode(secret)));
        }
        Some((self.field("client_id")?.to_owned(), self.field("client_secret")?.to_owned()))
    }

    /// The client id the request claims (checked or not): what its rate limits are counted by.
    pub(crate) fn claimed_client_id(&self) -> Option<String> {
        self.client_credentials().map(|(id, _)| id)
    }

    /// The app the request authenticates as, or 401 `invalid_client`.
    fn client(&self, world: &World) -> Result<u64, OAuthError> {
        let (id, secret) = self.client_credentials().ok_or_else(OAuthError::invalid_client)?;
        let id = id.parse::<u64>().map_err(|_| OAuthError::invalid_client())?;
        match world.oauth.apps.get(&id) {
            Some(app) if app.secret == secret => Ok(id),
            _ => Err(OAuthError::invalid_client()),
        }
    }
}

/// What the authorization page does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authorization {
    /// 302 to this location: the app's redirect URI with a code, or with an error.
    Redirect(String),
    /// 400 with this text on a page, and no redirect: the app or its redirect URI is not one Discord
    /// may send a browser back to.
    Refused(&'static str),
}

/// `GET /oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge
/// &code_challenge_method=S256[&prompt]`, as if the chosen user signed in and pressed Authorize (or
/// Cancel when none is chosen). `prompt` changes nothing here: consent is the test's choice.
pub(crate) fn authorize(world: &mut World, query: &[(String, String)], now: Timestamp) -> Authorization {
    let param = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let Some(client_id) = param("client_id").and_then(|id| id.parse::<u64>().ok()) else {
        return Authorization::Refused("Unknown Application: invalid client_id.");
    };
    let Some(app) = world.oauth.apps.get(&client_id) else {
        return Authorization::Refused("Unknown Application: invalid client_id.");
    };
    let Some(redirect_uri) = param("redirect_uri").filter(|uri| app.redirect_uris.iter().any(|r| r == uri)) else {
        return Authorization::Refused("Invalid OAuth2 redirect_uri: it is not registered for this application.");
    };
    let state = param("state");
    let back = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(&str, &str)> = pairs.iter().copied().chain(state.map(|s| ("state", s))).collect();
        Authorization::Redirect(with_query(redirect_uri, &pairs))
    };
    if param("response_type") != Some("code") {
        return back(&[("error", "invalid_request"), ("error_description", "Unsupported response_type: use code")]);
    }
    let mut scopes: Vec<String> = Vec::new();
    for scope in param("scope").unwrap_or_default().split_whitespace() {
        if crate::spec::spec().validate_schema("OAuth2Scopes", &Value::from(scope)).is_err() {
            return back(&[("error", "invalid_scope"), ("error_description", "The requested scope is invalid")]);
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if scopes.is_empty() {
        return back(&[("error", "invalid_scope"), ("error_description", "No scope was requested")]);
    }
    let challenge = match (param("code_challenge"), param("code_challenge_method")) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if oauth::is_s256_challenge(challenge) => Some(challenge.to_owned()),
        (Some(_), Some("S256")) => {
            return back(&[("error", "invalid_request"), ("error_description", "Invalid code_challenge")]);
        }
        _ => {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "code_challenge_method must be S256 (plain is not supported)"),
            ]);
        }
    };
    let Some(user) = world.oauth.consenting_user.filter(|user| world.users.contains_key(user)) else {
        return back(&[
            ("error", "access_denied"),
            ("error_description", "The resource owner or authorization server denied the request"),
        ]);
    };
    let redirect_uri = redirect_uri.to_owned();
    world.oauth.forget_old_codes(now);
    let code = world.random_alphanumeric(30);
    let entry = AuthorizationCode {
        client_id,
        user,
        redirect_uri: redirect_uri.clone(),
        scopes,
        challenge,
        issued: now,
        spent: false,
        grant: None,
    };
    world.oauth.codes.insert(code.clone(), entry);
    let pairs: Vec<(&str, &str)> = [("code", code.as_str())].into_iter().chain(state.map(|s| ("state", s))).collect();
    Authorization::Redirect(with_query(&redirect_uri, &pairs))
}

/// `POST /oauth2/token`: `grant_type=authorization_code` (`code`, `redirect_uri`, and `code_verifier`
/// after a PKCE authorization) or `grant_type=refresh_token` (`refresh_token`), with the client's
/// credentials.
pub(crate) fn token(world: &mut World, call: &FormCall<'_>) -> Result<Value, OAuthError> {
    let grant_type = call.field("grant_type");
    if !matches!(grant_type, Some("authorization_code" | "refresh_token")) {
        return Err(OAuthError::unsupported_grant_type(grant_type));
    }
    let client_id = call.client(world)?;
    if grant_type == Some("refresh_token") {
        return refresh(world, call, client_id);
    }
    let code = call.field("code").ok_or_else(|| OAuthError::missing("code"))?;
    let Some(entry) = world.oauth.codes.get(code).cloned() else { return Err(OAuthError::invalid_grant("code")) };
    let expired = call.now.unix_ms() - entry.issued.unix_ms() >= CODE_LIFETIME_MS;
    if entry.client_id != client_id || expired {
        return Err(OAuthError::invalid_grant("code"));
    }
    if entry.spent {
        // RFC 6749, section 4.1.2: a code used twice revokes the tokens it gave.
        if let Some(grant) = entry.grant {
            world.oauth.end_grant(grant);
        }
        return Err(OAuthError::invalid_grant("code"));
    }
    // A code is spent by its first redemption, whatever comes of it.
    if let Some(stored) = world.oauth.codes.get_mut(code) {
        stored.spent = true;
    }
    if call.field("redirect_uri") != Some(entry.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri"));
    }
    let verifier = call.field("code_verifier");
    let verified = match (&entry.challenge, verifier) {
        (Some(challenge), Some(verifier)) => oauth::is_code_verifier(verifier) && oauth::s256(verifier) == *challenge,
        (Some(_), None) => false,
        // A verifier for a code issued without a challenge is refused (RFC 9700, section 2.1.1).
        (None, Some(_)) => false,
        (None, None) => true,
    };
    if !verified {
        return Err(OAuthError::invalid_grant("code_verifier"));
    }
    let grant = world.oauth.add_grant(Grant { client_id, user: entry.user, scopes: entry.scopes.clone() });
    if let Some(stored) = world.oauth.codes.get_mut(code) {
        stored.grant = Some(grant);
    }
    Ok(issue(world, grant, call.now))
}

/// The `refresh_token` grant: new access and refresh tokens for the same grant; the old ones stop
/// working.
fn refresh(world: &mut World, call: &FormCall<'_>, client_id: u64) -> Result<Value, OAuthError> {
    let token = call.field("refresh_token").ok_or_else(|| OAuthError::missing("refresh_token"))?;
    let grant = world
        .oauth
        .refresh
        .get(token)
        .copied()
        .filter(|grant| world.oauth.grants.get(grant).is_some_and(|g| g.client_id == client_id))
        .ok_or_else(|| OAuthError::invalid_grant("refresh_token"))?;
    world.oauth.drop_tokens(grant);
    Ok(issue(world, grant, call.now))
}

/// Fresh tokens for a grant, as Discord's access token response.
fn issue(world: &mut World, grant: u64, now: Timestamp) -> Value {
    let access = world.random_alphanumeric(30);
    let refresh = world.random_alphanumeric(30);
    let expires = now.plus_ms(ACCESS_LIFETIME_SECS * 1000);
    world.oauth.access.insert(access.clone(), AccessToken { grant, expires });
    world.oauth.refresh.insert(refresh.clone(), grant);
    let scope = world.oauth.grants.get(&grant).map(|g| g.scopes.join(" ")).unwrap_or_default();
    json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_LIFETIME_SECS,
        "refresh_token": refresh,
        "scope": scope,
    })
}

/// `POST /oauth2/token/revoke` (`token`, optional `token_type_hint`), with the client's credentials:
/// as Discord documents, revoking any access or refresh token of the app's ends all of that user's
/// tokens for the app, whatever the hint says. Answers `{}` also for a token it does not know, or
/// another app's (which it leaves alone), as RFC 7009 allows.
pub(crate) fn revoke(world: &mut World, call: &FormCall<'_>) -> Result<Value, OAuthError> {
    let client_id = call.client(world)?;
    let token = call.field("token").ok_or_else(|| OAuthError::missing("token"))?;
    let oauth = &world.oauth;
    let grant = oauth.access.get(token).map(|access| access.grant).or_else(|| oauth.refresh.get(token).copied());
    if let Some(grant) = grant.and_then(|grant| oauth.grants.get(&grant)).filter(|g| g.client_id == client_id) {
        let user = grant.user;
        world.oauth.end_grants_of(client_id, user);
    }
    Ok(json!({}))
}

/// `GET /oauth2/@me`: the authorization a bearer token carries. Discord's OpenAPI document also
/// lists a bot token for it, but Discord answers bot tokens 401 (discord-api-docs issue #3945:
/// "intended") and its documentation says "Requires authentication with a bearer token".
pub(super) fn current_authorization(world: &mut World, call: &Call<'_>) -> Outcome {
    let bearer = call.bearer()?;
    let app = world.oauth.apps.get(&bearer.client_id).ok_or_else(ApiError::unauthorized)?;
    Ok(Reply::ok(json::authorization(world, bearer, &app.verify_key)))
}

/// `uri` with `pairs` added to its query (after any query it has, before any fragment),
/// percent-encoded.
pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (uri, None),
    };
    let mut location = base.to_owned();
    for (name, value) in pairs {
        if !location.contains('?') {
            location.push('?');
        } else if !location.ends_with(['?', '&']) {
            location.push('&');
        }
        location.push_str(&percent_encode(name));
        location.push('=');
        location.push_str(&percent_encode(value));
    }
    if let Some(fragment) = fragment {
        location.push('#');
        location.push_str(fragment);
    }
    location
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_query_and_fragment_and_encode_values() {
        assert_eq!(
            with_query("http://a/cb", &[("code", "x"), ("state", "a b&c=d/é")]),
            "http://a/cb?code=x&state=a%20b%26c%3Dd%2F%C3%A9"
        );
        assert_eq!(with_query("http://a/cb?next=1", &[("code", "x")]), "http://a/cb?next=1&code=x");
        assert_eq!(with_query("http://a/cb?", &[("code", "x")]), "http://a/cb?code=x");
        assert_eq!(with_query("http://a/cb#top", &[("code", "x")]), "http://a/cb?code=x#top");
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn codes_expire_after_ten_minutes() {
        let mut world = World::new();
        let user = world.add_user("User");
        world.add_oauth_app(1, "secret", &["http://a/cb"]);
        world.set_oauth_user(Some(user));
        let query = pairs(&[
            ("client_id", "1"),
            ("redirect_uri", "http://a/cb"),
            ("scope", "identify"),
            ("response_type", "code"),
        ]);
        let start = Timestamp::now();
        let redeem = |world: &mut World, at: Timestamp| {
            let Authorization::Redirect(location) = authorize(world, &query, start) else { panic!("no redirect") };
            let code = location.split("code=").nth(1).unwrap().to_owned();
            let form = pairs(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://a/cb"),
                ("client_id", "1"),
                ("client_secret", "secret"),
            ]);
            token(world, &FormCall { form: &form, authorization: None, now: at })
        };
        assert!(redeem(&mut world, start.plus_ms(CODE_LIFETIME_MS - 1)).is_ok());
        assert_eq!(redeem(&mut world, start.plus_ms(CODE_LIFETIME_MS)), Err(OAuthError::invalid_grant("code")));
    }
}
