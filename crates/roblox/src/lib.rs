#![doc = include_str!("../README.md")]

mod limits;
mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use garrison_core::RobloxUserId;
use garrison_core::roblox::{
    GroupId, GroupRole, HEADSHOT_SIZES, JoinRequestId, JoinRequestPage, Membership, OpenCloudKey, RobloxAccountInfo,
    RobloxCloudUsers, RobloxError, RobloxFuture, RobloxGroups, RobloxProfile, RobloxUser, RobloxUsers, RoleId,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

pub use limits::{KeyLimiter, LEGACY_USERS, Operation};

/// Where Roblox's APIs live (the defaults) or a stand-in does (tests, `garrison-roblox-sim`).
#[derive(Debug, Clone)]
pub struct RobloxEndpoints {
    /// Open Cloud: `https://apis.roblox.com`.
    pub api_url: String,
    /// The legacy users API: `https://users.roblox.com`.
    pub users_url: String,
}

impl Default for RobloxEndpoints {
    fn default() -> Self {
        Self { api_url: "https://apis.roblox.com".into(), users_url: "https://users.roblox.com".into() }
    }
}

/// How long a call may take and wait.
#[derive(Debug, Clone, Copy)]
pub struct RobloxBudget {
    /// One HTTP exchange.
    pub timeout: Duration,
    /// The longest a call waits for a rate-limit slot (ours or Roblox's 429) before the caller is
    /// told to retry later.
    pub wait: Duration,
}

impl Default for RobloxBudget {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), wait: Duration::from_secs(2) }
    }
}

/// Roblox's pages of roles are at most this long.
const ROLES_PAGE: u8 = 20;
/// A group has at most 40 roles; this many pages is more than enough and bounds a broken server.
const MAX_ROLE_PAGES: usize = 10;
/// Users per legacy look-up.
const USERS_PER_LOOKUP: usize = 100;

/// The Roblox adapter: one reqwest client, the per-key limiter, the endpoints.
#[derive(Debug, Clone)]
pub struct RobloxClient {
    http: reqwest::Client,
    endpoints: Arc<RobloxEndpoints>,
    budget: RobloxBudget,
    limiter: Arc<KeyLimiter>,
}

impl RobloxClient {
    pub fn new(endpoints: RobloxEndpoints, budget: RobloxBudget) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(budget.timeout)
            .connect_timeout(budget.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("garrison/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the Roblox HTTP client: {e}"))?;
        let trim = |url: &str| url.trim_end_matches('/').to_owned();
        let endpoints = RobloxEndpoints { api_url: trim(&endpoints.api_url), users_url: trim(&endpoints.users_url) };
        Ok(Self { http, endpoints: Arc::new(endpoints), budget, limiter: Arc::new(KeyLimiter::default()) })
    }

    fn cloud(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}/cloud/v2/{path}", self.endpoints.api_url))
    }

    /// Sends an Open Cloud call for `key` within the limiter and the budget, and decodes its answer.
    async fn call<T: DeserializeOwned>(
        &self,
        key: &OpenCloudKey,
        operation: Operation,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<T, RobloxError> {
        let hash = limits::key_hash(key.expose());
        let deadline = Instant::now() + self.budget.wait;
        let mut retried = false;
        loop {
            self.slot(&hash, operation, deadline).await?;
            let response = request()
                .header("x-api-key", key.expose())
                .send()
                .await
                .map_err(|e| RobloxError::Unavailable(transport_error(&e)))?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                let wait = wait_of(&response).unwrap_or(Duration::from_secs(1));
                self.limiter.close(&hash, operation, Instant::now(), wait);
                if !retried && Instant::now() + wait <= deadline {
                    retried = true;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(RobloxError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
            if let Some(wait) = spent_window(&response) {
                self.limiter.close(&hash, operation, Instant::now(), wait);
            }
            return decode(response, operation).await;
        }
    }

    /// Waits for a slot in `key`'s window until `deadline`, or says when to retry.
    async fn slot(&self, key: &[u8; 32], operation: Operation, deadline: Instant) -> Result<(), RobloxError> {
        loop {
            match self.limiter.try_acquire(key, operation, Instant::now()) {
                Ok(()) => return Ok(()),
                Err(wait) if Instant::now() + wait <= deadline => tokio::time::sleep(wait).await,
                Err(wait) => {
                    return Err(RobloxError::RateLimited {
                        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                    });
                }
            }
        }
    }
}

/// What a failed exchange says, without the URL (it may carry a page token) or any header.
fn transport_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "Roblox did not answer in time".into()
    } else if err.is_connect() {
        "cannot connect to Roblox".into()
    } else {
        "the exchange with Roblox failed".into()
    }
}

fn header_secs(response: &Response, name: &str) -> Option<Duration> {
    let value = response.headers().get(name)?.to_str().ok()?.trim().parse::<f64>().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value.min(3600.0)))
}

/// How long a 429 asks to wait: `Retry-After`, else `x-ratelimit-reset`.
fn wait_of(response: &Response) -> Option<Duration> {
    header_secs(response, "retry-after").or_else(|| header_secs(response, "x-ratelimit-reset"))
}

/// The window Roblox says is spent (`x-ratelimit-remaining: 0`), and for how long.
fn spent_window(response: &Response) -> Option<Duration> {
    let remaining = response.headers().get("x-ratelimit-remaining")?.to_str().ok()?.trim().parse::<u64>().ok()?;
    if remaining > 0 {
        return None;
    }
    header_secs(response, "x-ratelimit-reset")
}

/// The most of an error body read (Roblox's are a line).
const ERROR_BODY_MAX: usize = 4096;

async fn decode<T: DeserializeOwned>(response: Response, operation: Operation) -> Result<T, RobloxError> {
    let status = response.status();
    let body = response.bytes().await.map_err(|e| RobloxError::Unavailable(transport_error(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| {
            RobloxError::Unavailable(format!("Roblox answered {} with unreadable JSON: {e}", operation.id()))
        });
    }
    let message = wire::error_message(&body[..body.len().min(ERROR_BODY_MAX)]);
    Err(match status {
        StatusCode::UNAUTHORIZED => RobloxError::KeyRejected,
        StatusCode::FORBIDDEN
            if operation.scope() != "none"
                && (message.to_ascii_lowercase().contains("scope") || message.is_empty()) =>
        {
            RobloxError::MissingScope { scope: operation.scope() }
        }
        StatusCode::FORBIDDEN => RobloxError::Refused(message),
        StatusCode::NOT_FOUND => RobloxError::NotFound(operation.subject()),
        status if status.is_client_error() => {
            RobloxError::Refused(if message.is_empty() { format!("{} ({status})", operation.id()) } else { message })
        }
        status => RobloxError::Unavailable(format!("Roblox answered {} with {status}", operation.id())),
    })
}

impl RobloxGroups for RobloxClient {
    fn roles(&self, key: &OpenCloudKey, group: GroupId) -> RobloxFuture<'_, Vec<GroupRole>> {
        let key = key.clone();
        Box::pin(async move {
            let mut roles = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..MAX_ROLE_PAGES {
                let page: wire::RolePage = self
                    .call(&key, Operation::ListGroupRoles, || {
                        let mut request = self
                            .cloud(Method::GET, &format!("groups/{group}/roles"))
                            .query(&[("maxPageSize", ROLES_PAGE.to_string())]);
                        if let Some(token) = &token {
                            request = request.query(&[("pageToken", token)]);
                        }
                        request
                    })
                    .await?;
                roles.extend(page.group_roles.into_iter().filter_map(wire::Role::into_role));
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            roles.sort_by_key(|r: &GroupRole| r.rank);
            Ok(roles)
        })
    }

    fn membership(
        &self,
        key: &OpenCloudKey,
        group: GroupId,
        user: RobloxUserId,
    ) -> RobloxFuture<'_, Option<Membership>> {
        let key = key.clone();
        Box::pin(async move {
            let filter = format!("user == 'users/{user}'");
            let page: wire::MembershipPage = self
                .call(&key, Operation::ListGroupMemberships, || {
                    self.cloud(Method::GET, &format!("groups/{group}/memberships"))
                        .query(&[("maxPageSize", "1"), ("filter", filter.as_str())])
                })
                .await?;
            Ok(page.group_memberships.into_iter().find_map(|m| m.into_membership(user)))
        })
    }

    fn set_role(&self, key: &OpenCloudKey, group: GroupId, user: RobloxUserId, role: RoleId) -> RobloxFuture<'_, ()> {
        let key = key.clone();
        Box::pin(async move {
            let body = serde_json::json!({ "role": format!("groups/{group}/roles/{role}") });
            // A user id stands for the membership id (Roblox's documented shortcut).
            let _: serde_json::Value = self
                .call(&key, Operation::UpdateGroupMembership, || {
                    self.cloud(Method::PATCH, &format!("groups/{group}/memberships/{user}")).json(&body)
                })
                .await?;
            Ok(())
        })
    }

    fn join_requests(
        &self,
        key: &OpenCloudKey,
        group: GroupId,
        page: Option<String>,
        max: u8,
    ) -> RobloxFuture<'_, JoinRequestPage> {
        let key = key.clone();
        Box::pin(async move {
            let answer: wire::JoinRequestPage = self
                .call(&key, Operation::ListGroupJoinRequests, || {
                    let mut request = self
                        .cloud(Method::GET, &format!("groups/{group}/join-requests"))
                        .query(&[("maxPageSize", max.clamp(1, 20).to_string())]);
                    if let Some(token) = &page {
                        request = request.query(&[("pageToken", token)]);
                    }
                    request
                })
                .await?;
            Ok(answer.into_page())
        })
    }

    fn accept_join_request(&self, key: &OpenCloudKey, group: GroupId, request: JoinRequestId) -> RobloxFuture<'_, ()> {
        self.answer_join_request(key, group, request, Operation::AcceptGroupJoinRequest, "accept")
    }

    fn decline_join_request(&self, key: &OpenCloudKey, group: GroupId, request: JoinRequestId) -> RobloxFuture<'_, ()> {
        self.answer_join_request(key, group, request, Operation::DeclineGroupJoinRequest, "decline")
    }

    fn group_name(&self, key: &OpenCloudKey, group: GroupId) -> RobloxFuture<'_, String> {
        let key = key.clone();
        Box::pin(async move {
            let answer: wire::Group =
                self.call(&key, Operation::GetGroup, || self.cloud(Method::GET, &format!("groups/{group}"))).await?;
            Ok(answer.display_name)
        })
    }
}

impl RobloxClient {
    fn answer_join_request(
        &self,
        key: &OpenCloudKey,
        group: GroupId,
        request: JoinRequestId,
        operation: Operation,
        verb: &'static str,
    ) -> RobloxFuture<'_, ()> {
        let key = key.clone();
        Box::pin(async move {
            let _: serde_json::Value = self
                .call(&key, operation, || {
                    self.cloud(Method::POST, &format!("groups/{group}/join-requests/{request}:{verb}"))
                        .json(&serde_json::json!({}))
                })
                .await?;
            Ok(())
        })
    }
}

impl RobloxCloudUsers for RobloxClient {
    fn account(&self, key: &OpenCloudKey, user: RobloxUserId) -> RobloxFuture<'_, Option<RobloxAccountInfo>> {
        let key = key.clone();
        Box::pin(async move {
            let answer: Result<wire::CloudUser, _> =
                self.call(&key, Operation::GetUser, || self.cloud(Method::GET, &format!("users/{user}"))).await;
            match answer {
                Ok(found) => Ok(found.into_account(user)),
                Err(RobloxError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn headshot(&self, key: &OpenCloudKey, user: RobloxUserId, size: u16) -> RobloxFuture<'_, Option<String>> {
        let key = key.clone();
        Box::pin(async move {
            if !HEADSHOT_SIZES.contains(&size) {
                return Err(RobloxError::Refused(format!("Roblox makes no {size}-pixel headshots")));
            }
            let operation: wire::ThumbnailOperation = self
                .call(&key, Operation::GenerateUserThumbnail, || {
                    self.cloud(Method::GET, &format!("users/{user}:generateThumbnail")).query(&[
                        ("size", size.to_string().as_str()),
                        ("format", "PNG"),
                        ("shape", "ROUND"),
                    ])
                })
                .await?;
            Ok(operation.image_uri())
        })
    }
}

impl RobloxClient {
    /// Sends a call to the legacy users API (no key, no published per-key limit) and decodes its
    /// answer; 404 is `None`.
    async fn users_call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<Option<T>, RobloxError> {
        // One window for the process: whatever callers ask, Garrison's address stays under it.
        self.slot(&limits::LEGACY_USERS, Operation::LegacyUsers, Instant::now() + self.budget.wait).await?;
        let response = request.send().await.map_err(|e| RobloxError::Unavailable(transport_error(&e)))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = wait_of(&response).unwrap_or(Duration::from_secs(1));
            return Err(RobloxError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
        }
        if !status.is_success() {
            return Err(RobloxError::Unavailable(format!("Roblox's users API answered {status}")));
        }
        let body = response.bytes().await.map_err(|e| RobloxError::Unavailable(transport_error(&e)))?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| RobloxError::Unavailable(format!("Roblox's users API answered unreadable JSON: {e}")))
    }

    fn users_url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.endpoints.users_url)
    }
}

impl RobloxUsers for RobloxClient {
    fn users(&self, users: &[RobloxUserId]) -> RobloxFuture<'_, Vec<RobloxUser>> {
        let ids: Vec<i64> = users.iter().take(USERS_PER_LOOKUP).map(|u| u.get()).collect();
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let body = serde_json::json!({ "userIds": ids, "excludeBannedUsers": false });
            let answer: Option<wire::UserList> =
                self.users_call(self.http.post(self.users_url("users")).json(&body)).await?;
            Ok(answer.map(|a| a.data.into_iter().filter_map(wire::LegacyUser::into_user).collect()).unwrap_or_default())
        })
    }

    fn by_username(&self, name: &str) -> RobloxFuture<'_, Option<RobloxUser>> {
        let name = name.trim().to_owned();
        Box::pin(async move {
            // Roblox usernames are 3-20 letters, digits and underscores: anything else names nobody,
            // and is not sent.
            if !(3..=20).contains(&name.len()) || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Ok(None);
            }
            let body = serde_json::json!({ "usernames": [name], "excludeBannedUsers": true });
            let answer: Option<wire::UserList> =
                self.users_call(self.http.post(self.users_url("usernames/users")).json(&body)).await?;
            Ok(answer.and_then(|a| a.data.into_iter().filter_map(wire::LegacyUser::into_user).next()))
        })
    }

    fn profile(&self, user: RobloxUserId) -> RobloxFuture<'_, Option<RobloxProfile>> {
        Box::pin(async move {
            let answer: Option<wire::LegacyProfile> =
                self.users_call(self.http.get(self.users_url(&format!("users/{user}")))).await?;
            Ok(answer.and_then(wire::LegacyProfile::into_profile))
        })
    }
}
