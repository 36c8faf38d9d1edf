//! The web verification flow: a user signs in to Discord, then to Roblox, and the two accounts are
//! linked (or, signing in to Discord only, their link is removed). No bot is involved, so both sides
//! are proven.
//!
//! Each leg is an OAuth 2.0 authorization code flow with PKCE (S256) and a `state` that is random,
//! single use, expires after [`FLOW_LIFETIME_MS`] and is bound to the browser that started the flow
//! (a random nonce the browser keeps in a cookie; only its hash is stored, as only the state's hash
//! is). A replayed, forged, expired or foreign state is refused before any provider is asked.
//! The providers are ports ([`OAuthProvider`]): Discord's and Roblox's adapters live in the binary and
//! garrison-roblox; the flows are kept by a [`SignInFlows`] store, so any replica can finish a flow
//! another started.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::RobloxLinks;
use super::verification::{Link, LinkMethod};
use crate::RobloxUserId;
use crate::entropy::{Entropy, EntropyError};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Clock, Timestamp, discord::Snowflake};

/// How long a started flow may be finished.
pub const FLOW_LIFETIME_MS: i64 = 10 * 60_000;
/// Flows one process starts per minute at most: each is a row kept for [`FLOW_LIFETIME_MS`], and
/// starting one needs no credential, so this bounds what a flood of starts can store (at most
/// 10 x 600 live rows per process) and answers the excess 503.
pub const STARTS_PER_MINUTE: u32 = 600;

/// What the user came to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Link their Discord and Roblox accounts.
    Link,
    /// Remove their link (they prove only who they are on Discord).
    Unlink,
}

/// Where a flow stands: waiting for Discord, or (linking) for Roblox after Discord said who the user
/// is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Discord(Purpose),
    Roblox { discord: Snowflake, discord_name: String },
}

/// A started flow as the store keeps it: hashes of the state and the browser nonce, never the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFlow {
    /// SHA-256 of the `state`, hex.
    pub state_hash: String,
    /// SHA-256 of the browser's nonce, hex.
    pub browser_hash: String,
    pub stage: Stage,
    /// The PKCE verifier of this leg (sent to the provider's token endpoint with the code).
    pub verifier: String,
    pub expires_at: Timestamp,
}

/// Where started flows are kept until finished or expired.
pub trait SignInFlows: Send + Sync {
    fn put(&self, flow: &SignInFlow) -> crate::Result<()>;
    /// Removes and returns the flow with this state hash: a state is used at most once. An unknown
    /// hash should cost no write (anyone can send one).
    fn take(&self, state_hash: &str) -> crate::Result<Option<SignInFlow>>;
    /// Forgets flows that expired before `now`.
    fn purge(&self, now: Timestamp) -> crate::Result<u64>;
}

/// Who a provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: u64,
    /// The account's username (Discord's `username`, Roblox's `preferred_username`).
    pub name: String,
}

/// What went wrong with a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the code (used, expired, or the PKCE verifier does not match).
    #[error("{provider} did not accept the sign-in: {reason}")]
    Refused { provider: &'static str, reason: String },
    /// The provider could not be reached or answered something unreadable.
    #[error("{provider} is unavailable: {reason}")]
    Unavailable { provider: &'static str, reason: String },
    /// This provider is not configured (no client id or secret).
    #[error("signing in with {provider} is not configured on this server")]
    NotConfigured { provider: &'static str },
}

pub type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// An OAuth 2.0 provider (Discord, Roblox) as the flow uses it.
pub trait OAuthProvider: Send + Sync {
    /// Where to send the browser: the provider's authorize page with this `state` and PKCE challenge.
    fn authorize_url(&self, state: &str, challenge: &str) -> Result<String, ProviderError>;
    /// Trades the code for a token, asks who signed in, and lets the token go.
    fn identify(&self, code: &str, verifier: &str) -> ProviderFuture<'_, Identity>;
}

/// Why a sign-in step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    #[error(transparent)]
    Core(#[from] crate::Error),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// Unknown, used, expired, from another browser, or for the other provider.
    #[error("This sign-in link has expired or was already used. Start again.")]
    StaleState,
    /// The user said no at the provider.
    #[error("You cancelled signing in with {0}. Nothing was changed.")]
    Cancelled(&'static str),
    /// Too many flows were started in the last minute.
    #[error("Too many people are signing in right now. Try again in a minute.")]
    Busy { retry_after_secs: u64 },
}

/// Where a step leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the browser here (the next provider's authorize page).
    Redirect(String),
    /// Linked: both accounts.
    Linked { discord: Identity, roblox: Identity },
    /// The Discord user's link was removed (`roblox`: the account it was with, if there was one).
    Unlinked { discord: Identity, roblox: Option<RobloxUserId> },
}

/// A started flow's first redirect, and the nonce the browser keeps (in a cookie) to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub redirect: String,
    pub browser_nonce: String,
}

/// The ports of the sign-in flow.
#[derive(Clone)]
pub struct SignInPorts {
    pub flows: Arc<dyn SignInFlows>,
    pub links: Arc<dyn RobloxLinks>,
    pub discord: Arc<dyn OAuthProvider>,
    pub roblox: Arc<dyn OAuthProvider>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where ending a server's profile-code link records `verification.unlinked` for that server.
    pub outbox: crate::webhooks::Outbox,
}

impl std::fmt::Debug for SignInPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInPorts { .. }")
    }
}

/// The web verification flow.
pub struct SignInService {
    ports: SignInPorts,
    /// When expired flows were last purged (milliseconds); a start purges at most once per
    /// [`FLOW_LIFETIME_MS`].
    last_purge: std::sync::atomic::AtomicI64,
    /// This minute's start (milliseconds) and the flows started in it.
    starts: std::sync::Mutex<(i64, u32)>,
}

impl std::fmt::Debug for SignInService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInService { .. }")
    }
}

/// SHA-256 of `text`, hex.
fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The PKCE S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

type Outcome<T> = Result<T, SignInError>;

impl SignInService {
    pub fn new(ports: SignInPorts) -> Self {
        Self {
            ports,
            last_purge: std::sync::atomic::AtomicI64::new(i64::MIN),
            starts: std::sync::Mutex::new((i64::MIN, 0)),
        }
    }

    fn random(&self, bytes: usize) -> Outcome<String> {
        let mut buffer = vec![0u8; bytes];
        self.ports.entropy.fill(&mut buffer)?;
        Ok(URL_SAFE_NO_PAD.encode(buffer))
    }

    /// Keeps a new leg and says where to send the browser.
    async fn leg(&self, provider: &dyn OAuthProvider, browser_hash: String, stage: Stage) -> Outcome<String> {
        let (state, verifier) = (self.random(16)?, self.random(32)?);
        let url = provider.authorize_url(&state, &challenge(&verifier))?;
        let flow = SignInFlow {
            state_hash: hash(&state),
            browser_hash,
            stage,
            verifier,
            expires_at: Timestamp::from_millis(self.ports.clock.now().millis().saturating_add(FLOW_LIFETIME_MS)),
        };
        let flows = Arc::clone(&self.ports.flows);
        run_write(&*self.ports.writer, move || flows.put(&flow)).await?;
        Ok(url)
    }

    /// Starts a flow: the Discord authorize page to send the browser to, and the nonce it keeps.
    pub async fn start(&self, purpose: Purpose) -> Outcome<Started> {
        let now = self.ports.clock.now().millis();
        {
            let mut starts = self.starts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if now.saturating_sub(starts.0) >= 60_000 {
                *starts = (now, 0);
            }
            if starts.1 >= STARTS_PER_MINUTE {
                let wait = (starts.0.saturating_add(60_000) - now).max(1_000);
                return Err(SignInError::Busy {
                    retry_after_secs: u64::try_from(wait).map_or(60, |w| w.div_ceil(1000)),
                });
            }
            starts.1 += 1;
        }
        let last = self.last_purge.load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) >= FLOW_LIFETIME_MS
            && self
                .last_purge
                .compare_exchange(last, now, std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed)
                .is_ok()
        {
            // Abandoned flows go now and then; a failure only waits for the next turn.
            let _ = self.purge().await;
        }
        let browser_nonce = self.random(16)?;
        let redirect = self.leg(&*self.ports.discord, hash(&browser_nonce), Stage::Discord(purpose)).await?;
        Ok(Started { redirect, browser_nonce })
    }

    /// The flow this `state` names, if it is live and this browser's (used up either way).
    async fn take(&self, state: &str, browser_nonce: Option<&str>) -> Outcome<SignInFlow> {
        // No browser nonce: no flow of this browser to finish, and nothing to look up.
        let Some(browser_nonce) = browser_nonce else { return Err(SignInError::StaleState) };
        let flows = Arc::clone(&self.ports.flows);
        let state_hash = hash(state);
        // On a blocking thread, not as a write job: the store reads first, so a forged state costs a
        // read, and only a real one a delete.
        let flow =
            run_blocking(&*self.ports.threads, move || flows.take(&state_hash)).await.map_err(crate::Error::from)??;
        let browser_nonce = Some(browser_nonce);
        let now = self.ports.clock.now();
        match (flow, browser_nonce) {
            (Some(flow), Some(nonce)) if flow.expires_at > now && flow.browser_hash == hash(nonce) => Ok(flow),
            _ => Err(SignInError::StaleState),
        }
    }

    /// Discord sent the browser back: with the user's consent (`code`), or without (`None`).
    pub async fn discord_returned(
        &self,
        state: &str,
        code: Option<&str>,
        browser_nonce: Option<&str>,
    ) -> Outcome<Step> {
        let flow = self.take(state, browser_nonce).await?;
        let Stage::Discord(purpose) = flow.stage else { return Err(SignInError::StaleState) };
        let code = code.ok_or(SignInError::Cancelled("Discord"))?;
        let discord = self.ports.discord.identify(code, &flow.verifier).await?;
        let user = Snowflake::from_raw(discord.id);
        match purpose {
            Purpose::Link => {
                let stage = Stage::Roblox { discord: user, discord_name: discord.name };
                Ok(Step::Redirect(self.leg(&*self.ports.roblox, flow.browser_hash, stage).await?))
            }
            Purpose::Unlink => {
                let (links, outbox) = (Arc::clone(&self.ports.links), self.ports.outbox.clone());
                let at = self.ports.clock.now();
                let ended = run_write(&*self.ports.writer, move || {
                    let ended = links.unlink(user, at)?;
                    // A sign-in link belongs to no server; a profile-code link to the one that made it.
                    if let Some(link) = &ended
                        && let Some(server) = link.server
                    {
                        outbox.record(server, "verification.unlinked", at, || {
                            let mut data = super::verification::link_event(server, link);
                            data["unlinkedAt"] = at.to_iso8601().into();
                            data
                        })?;
                    }
                    Ok(ended)
                })
                .await?;
                Ok(Step::Unlinked { discord, roblox: ended.map(|l| l.roblox) })
            }
        }
    }

    /// Roblox sent the browser back: link the accounts (replacing whatever links either had).
    pub async fn roblox_returned(&self, state: &str, code: Option<&str>, browser_nonce: Option<&str>) -> Outcome<Step> {
        let flow = self.take(state, browser_nonce).await?;
        let Stage::Roblox { discord, discord_name } = flow.stage else { return Err(SignInError::StaleState) };
        let code = code.ok_or(SignInError::Cancelled("Roblox"))?;
        let roblox = self.ports.roblox.identify(code, &flow.verifier).await?;
        let roblox_id = i64::try_from(roblox.id)
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ProviderError::Refused { provider: "Roblox", reason: "it named no valid user".into() })?;
        let link = Link {
            discord,
            roblox: RobloxUserId::from_stored(roblox_id),
            method: LinkMethod::OAuth,
            server: None,
            linked_at: self.ports.clock.now(),
        };
        let links = Arc::clone(&self.ports.links);
        run_write(&*self.ports.writer, move || links.link(&link, false)).await?;
        Ok(Step::Linked { discord: Identity { id: discord.get(), name: discord_name }, roblox })
    }

    /// Forgets expired flows (run now and then).
    pub async fn purge(&self) -> Outcome<u64> {
        let flows = Arc::clone(&self.ports.flows);
        let now = self.ports.clock.now();
        Ok(run_blocking(&*self.ports.threads, move || flows.purge(now)).await.map_err(crate::Error::from)??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
