//! Discord's OAuth2 as the world keeps it: registered apps (client id, secret, redirect URIs matched
//! exactly), who consents at the authorize page, authorization codes, and grants with their access and
//! refresh tokens. The routes that read and change it are `routes::oauth2` (authorize, token, revoke,
//! `GET /oauth2/@me`) and `routes::users` (the bearer side of `/users/@me...`).
//!
//! A grant is one authorization: what a user allowed an app when a code was redeemed. It has one
//! access token and one refresh token at a time (a refresh replaces both); revoking any token of an
//! app's ends every grant that user gave that app, as Discord documents; redeeming a code twice ends
//! the grant the code gave (RFC 6749, section 4.1.2).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::time::Timestamp;
use crate::world::World;

/// How long an authorization code may be redeemed, in milliseconds (RFC 6749's ten-minute ceiling).
pub(crate) const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// How long an access token works, in seconds (Discord's `expires_in`: seven days).
pub(crate) const ACCESS_LIFETIME_SECS: i64 = 604_800;

/// A registered app.
#[derive(Debug, Clone)]
pub(crate) struct OAuthApp {
    pub(crate) secret: String,
    pub(crate) redirect_uris: Vec<String>,
    /// The app's public key for interactions, as hex (only shown in `GET /oauth2/@me`).
    pub(crate) verify_key: String,
}

/// An authorization code, bound to everything its redemption must repeat.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationCode {
    pub(crate) client_id: u64,
    pub(crate) user: u64,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    /// The PKCE S256 challenge, when the app sent one.
    pub(crate) challenge: Option<String>,
    pub(crate) issued: Timestamp,
    /// Whether a redemption was tried (codes are single use, whatever the outcome).
    pub(crate) spent: bool,
    /// The grant its redemption gave.
    pub(crate) grant: Option<u64>,
}

/// What a user allowed an app.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) client_id: u64,
    pub(crate) user: u64,
    pub(crate) scopes: Vec<String>,
}

/// An access token: the grant it carries, and when it stops working.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) grant: u64,
    pub(crate) expires: Timestamp,
}

/// What a request with `Authorization: Bearer <access token>` may do, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bearer {
    pub(crate) user: u64,
    pub(crate) client_id: u64,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires: Timestamp,
}

impl Bearer {
    /// Whether the token was granted `scope`.
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}

/// Registered apps, the consenting user, and the codes and tokens issued.
#[derive(Debug, Clone, Default)]
pub(crate) struct OAuthState {
    pub(crate) apps: BTreeMap<u64, OAuthApp>,
    /// Who signs in and consents at `GET /oauth2/authorize`; `None` cancels.
    pub(crate) consenting_user: Option<u64>,
    pub(crate) codes: HashMap<String, AuthorizationCode>,
    pub(crate) grants: BTreeMap<u64, Grant>,
    pub(crate) access: HashMap<String, AccessToken>,
    /// Refresh token to grant.
    pub(crate) refresh: HashMap<String, u64>,
    last_grant: u64,
}

impl OAuthState {
    /// Records a grant; returns its id.
    pub(crate) fn add_grant(&mut self, grant: Grant) -> u64 {
        self.last_grant += 1;
        self.grants.insert(self.last_grant, grant);
        self.last_grant
    }

    /// Ends a grant: its access and refresh tokens stop working.
    pub(crate) fn end_grant(&mut self, grant: u64) {
        self.grants.remove(&grant);
        self.access.retain(|_, token| token.grant != grant);
        self.refresh.retain(|_, of| *of != grant);
    }

    /// Drops a grant's tokens (before it gets new ones).
    pub(crate) fn drop_tokens(&mut self, grant: u64) {
        self.access.retain(|_, token| token.grant != grant);
        self.refresh.retain(|_, of| *of != grant);
    }

    /// Ends every grant `user` gave `client_id`.
    pub(crate) fn end_grants_of(&mut self, client_id: u64, user: u64) {
        let ended: Vec<u64> =
            self.grants.iter().filter(|(_, g)| g.client_id == client_id && g.user == user).map(|(id, _)| *id).collect();
        for grant in ended {
            self.end_grant(grant);
        }
    }

    /// The authority of a live access token at `now`.
    pub(crate) fn bearer(&self, token: &str, now: Timestamp) -> Option<Bearer> {
        let access = self.access.get(token).filter(|access| access.expires.unix_ms() > now.unix_ms())?;
        let grant = self.grants.get(&access.grant)?;
        Some(Bearer {
            user: grant.user,
            client_id: grant.client_id,
            scopes: grant.scopes.clone(),
            expires: access.expires,
        })
    }

    /// Forgets codes that can no longer be redeemed.
    pub(crate) fn forget_old_codes(&mut self, now: Timestamp) {
        self.codes.retain(|_, code| now.unix_ms() - code.issued.unix_ms() < CODE_LIFETIME_MS);
    }
}

impl World {
    /// Registers an OAuth2 app: its client id (for a bot, its user id: Discord's application id),
    /// its client secret, and the redirect URIs it may use, matched exactly as Discord does.
    /// Registering the same client id again replaces its secret and redirect URIs.
    pub fn add_oauth_app(&mut self, client_id: u64, client_secret: &str, redirect_uris: &[&str]) {
        let verify_key = (0..4).map(|_| format!("{:016x}", self.random_u64())).collect();
        let app = OAuthApp {
            secret: client_secret.to_owned(),
            redirect_uris: redirect_uris.iter().map(|uri| (*uri).to_owned()).collect(),
            verify_key,
        };
        self.oauth.apps.insert(client_id, app);
    }

    /// Adds a redirect URI to a registered app (for a callback whose port is known only once the
    /// app under test listens).
    ///
    /// # Panics
    /// If no app has `client_id`.
    pub fn add_oauth_redirect_uri(&mut self, client_id: u64, redirect_uri: &str) {
        let app = self.oauth.apps.get_mut(&client_id).unwrap_or_else(|| panic!("no OAuth2 app {client_id}"));
        if !app.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            app.redirect_uris.push(redirect_uri.to_owned());
        }
    }

    /// Chooses who signs in and consents when a browser opens `GET /oauth2/authorize`: `Some(user)`
    /// authorizes the app as that user, `None` cancels (the app gets `error=access_denied`).
    ///
    /// # Panics
    /// If `user` is unknown or a bot (bots cannot authorize apps).
    pub fn set_oauth_user(&mut self, user: Option<u64>) {
        if let Some(user) = user {
            let found = self.users.get(&user).unwrap_or_else(|| panic!("unknown user {user}"));
            assert!(!found.bot, "{user} is a bot: bots cannot authorize OAuth2 apps");
        }
        self.oauth.consenting_user = user;
    }

    /// Ages every OAuth2 code and access token by `by`, as if that much time had passed: codes older
    /// than ten minutes can no longer be redeemed, and access tokens older than seven days stop
    /// working (refresh tokens do not expire).
    pub fn advance_oauth_clock(&mut self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
        for code in self.oauth.codes.values_mut() {
            code.issued = code.issued.plus_ms(-ms);
        }
        for token in self.oauth.access.values_mut() {
            token.expires = token.expires.plus_ms(-ms);
        }
    }

    /// How many live grants (authorizations with working tokens) `user` has given `client_id`.
    pub fn oauth_grants(&self, client_id: u64, user: u64) -> usize {
        self.oauth.grants.values().filter(|g| g.client_id == client_id && g.user == user).count()
    }
}

/// PKCE's S256 transform: unpadded URL-safe base64 of the verifier's SHA-256 (RFC 7636, section 4.2).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A code verifier as RFC 7636 (section 4.1) allows: 43 to 128 unreserved characters.
pub(crate) fn is_code_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 code challenge: 43 characters of unpadded URL-safe base64 (a SHA-256 digest).
pub(crate) fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(is_code_verifier(verifier));
        assert_eq!(s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(is_s256_challenge(&s256(verifier)));
        assert!(!is_code_verifier("short"));
        assert!(!is_code_verifier(&"a".repeat(129)));
        assert!(!is_code_verifier(&format!("{}!", "a".repeat(43))));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
    }

    #[test]
    fn ending_a_grant_ends_its_tokens_only() {
        let mut state = OAuthState::default();
        let one = state.add_grant(Grant { client_id: 1, user: 2, scopes: vec!["identify".into()] });
        let two = state.add_grant(Grant { client_id: 1, user: 3, scopes: vec![] });
        let later = Timestamp::now().plus_ms(60_000);
        state.access.insert("a1".into(), AccessToken { grant: one, expires: later });
        state.access.insert("a2".into(), AccessToken { grant: two, expires: later });
        state.refresh.insert("r1".into(), one);
        assert!(state.bearer("a1", Timestamp::now()).is_some_and(|b| b.user == 2 && b.has("identify")));
        assert!(state.bearer("a1", later).is_none(), "expired at its expiry");
        state.end_grants_of(1, 2);
        assert!(state.bearer("a1", Timestamp::now()).is_none());
        assert!(state.refresh.is_empty());
        assert!(state.bearer("a2", Timestamp::now()).is_some());
    }
}
