//! The Roblox use cases: a member's rank, join requests, promotions and demotions, and the server's
//! Roblox settings. Every call checks the caller's [`Principal`] first, then reads the server's
//! settings, then asks Roblox (through caches with explicit lifetimes).

use std::sync::Arc;

use futures_util::future::{join, try_join};

use super::ranks::{self, Direction, StepRefusal};
use super::verification::{RobloxAccount, UsernameIds};
use super::{
    GroupId, GroupRole, HEADSHOT_SIZES, JoinRequest, JoinRequestId, OpenCloudKey, RobloxAccountInfo, RobloxCloudUsers,
    RobloxConfig, RobloxConfigs, RobloxError, RobloxGroups, RobloxUsers, RoleId, TtlCache,
};
use crate::apikey::{Access, Principal};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Clock, RobloxUserId, ServerId};

/// The most join requests one call lists (then `next` continues).
pub const JOIN_REQUESTS_MAX: usize = 100;
/// The longest `cursor` accepted back (Roblox's page tokens are far shorter).
const CURSOR_MAX: usize = 1024;
/// Join requests per page asked of Roblox (its largest page).
const JOIN_REQUESTS_PAGE: usize = 20;
/// Users per look-up of display names (Roblox's limit).
const USERS_PER_LOOKUP: usize = 100;

/// How long the service trusts what it read, and how much it keeps.
#[derive(Debug, Clone, Copy)]
pub struct CacheLifetimes {
    /// A group's roles.
    pub roles_ms: i64,
    /// A member's roles (their rank); replaced by the service's own promotions and demotions.
    pub rank_ms: i64,
    /// A server's settings (so a rank look-up does not read the database); replaced when this
    /// process changes them, and at most this old when another replica did.
    pub config_ms: i64,
    /// A user's public account information and headshot address.
    pub account_ms: i64,
    /// Entries per cache.
    pub capacity: usize,
}

impl Default for CacheLifetimes {
    fn default() -> Self {
        Self { roles_ms: 5 * 60_000, rank_ms: 60_000, config_ms: 10_000, account_ms: 10 * 60_000, capacity: 100_000 }
    }
}

/// How a settings check learns whether a key has `group:write` without changing anything: it declines
/// the join request of user 1, Roblox's own account, which never asks to join a group. Roblox checks
/// the key's scopes first, so a key without `group:write` is refused (403) and one with it learns
/// there is no such request (404).
const WRITE_PROBE: JoinRequestId = JoinRequestId::ROBLOX;

/// Accounts kept at once: each holds an About text of up to a thousand characters.
const ACCOUNT_CACHE: usize = 10_000;

/// Why a Roblox use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RobloxServiceError {
    /// The key may not, an input is invalid, or the store failed.
    #[error(transparent)]
    Core(#[from] crate::Error),
    #[error(transparent)]
    Roblox(#[from] RobloxError),
    #[error("No Roblox group configured for this server.")]
    NotConfigured,
    #[error("User {user} is not a member of group {group}.")]
    NotMember { user: RobloxUserId, group: GroupId },
    #[error("User {user} owns group {group}: the owner's rank cannot be changed.")]
    Owner { user: RobloxUserId, group: GroupId },
    #[error("User {user} already holds the highest rank that can be given in group {group} ({name}, {rank}).")]
    AtTop { user: RobloxUserId, group: GroupId, name: String, rank: u8 },
    #[error("User {user} already holds the lowest rank a member can hold in group {group} ({name}, {rank}).")]
    AtBottom { user: RobloxUserId, group: GroupId, name: String, rank: u8 },
    #[error("No Roblox user with id {0}.")]
    NoSuchUser(RobloxUserId),
    #[error("No Roblox user named {0:?}.")]
    NoSuchUsername(String),
    #[error("No pending join request {request} in group {group}.")]
    NoJoinRequest { request: JoinRequestId, group: GroupId },
    /// The key given to configure a server was refused by Roblox for that group.
    #[error("openCloudKey: Roblox did not accept this key for group {group}: {reason}")]
    KeyNotAccepted { group: GroupId, reason: RobloxError },
}

type Outcome<T> = Result<T, RobloxServiceError>;

/// A promotion or demotion done: the role the member now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankChange {
    pub group: GroupId,
    pub role: GroupRole,
}

/// Up to [`JOIN_REQUESTS_MAX`] join requests and where the next ones start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupJoinRequests {
    pub group: GroupId,
    pub requests: Vec<JoinRequest>,
    pub next: Option<String>,
}

/// What a live check of the server's key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// Roblox accepts the key for the group; `read_join_requests` says whether it has `group:read`,
    /// `write` whether it has `group:write` (`None` when Roblox could not say just then).
    Accepted { group_name: String, read_join_requests: bool, write: Option<bool> },
    /// Roblox refused it (revoked, expired, or without access to the group).
    Refused { reason: String },
    /// Roblox could not say (down, rate limited).
    Unknown { reason: String },
}

/// A Roblox user as a dashboard shows them: their public account and headshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxUserView {
    pub account: RobloxAccountInfo,
    /// The address of the round PNG headshot; `None` while Roblox is still making it.
    pub headshot: Option<String>,
}

/// A server's Roblox settings as the API shows them: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxServerView {
    pub server: ServerId,
    pub group: Option<GroupId>,
    pub key: Option<KeyCheck>,
}

/// The Roblox use cases, over the Roblox ports and the settings store.
pub struct RobloxService {
    configs: Arc<dyn RobloxConfigs>,
    groups: Arc<dyn RobloxGroups>,
    users: Arc<dyn RobloxUsers>,
    accounts: Arc<dyn RobloxCloudUsers>,
    threads: Arc<dyn BlockingThreads>,
    writer: Arc<dyn WriteQueue>,
    clock: Arc<dyn Clock>,
    outbox: crate::webhooks::Outbox,
    account_cache: TtlCache<RobloxUserId, RobloxAccountInfo>,
    headshot_cache: TtlCache<(RobloxUserId, u16), String>,
    usernames: UsernameIds,
    config_cache: TtlCache<ServerId, Option<RobloxConfig>>,
    roles_cache: TtlCache<(ServerId, GroupId), Arc<Vec<GroupRole>>>,
    rank_cache: TtlCache<(ServerId, GroupId, RobloxUserId), Option<Vec<RoleId>>>,
}

impl std::fmt::Debug for RobloxService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RobloxService { .. }")
    }
}

/// The ports a [`RobloxService`] works through.
#[derive(Clone)]
pub struct RobloxPorts {
    pub configs: Arc<dyn RobloxConfigs>,
    pub groups: Arc<dyn RobloxGroups>,
    pub users: Arc<dyn RobloxUsers>,
    pub accounts: Arc<dyn RobloxCloudUsers>,
    /// Where the settings store's reads run.
    pub threads: Arc<dyn BlockingThreads>,
    /// Where its writes run.
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
    /// Where a promotion or demotion records its `rank.changed` event.
    pub outbox: crate::webhooks::Outbox,
}

impl std::fmt::Debug for RobloxPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RobloxPorts { .. }")
    }
}

impl RobloxService {
    pub fn new(ports: RobloxPorts, lifetimes: CacheLifetimes) -> Self {
        let capacity = lifetimes.capacity;
        Self {
            configs: ports.configs,
            groups: ports.groups,
            users: ports.users,
            accounts: ports.accounts,
            threads: ports.threads,
            writer: ports.writer,
            clock: ports.clock,
            outbox: ports.outbox,
            account_cache: TtlCache::new(ACCOUNT_CACHE.min(capacity), lifetimes.account_ms),
            headshot_cache: TtlCache::new(capacity, lifetimes.account_ms),
            usernames: UsernameIds::default(),
            config_cache: TtlCache::new(capacity, lifetimes.config_ms),
            roles_cache: TtlCache::new(capacity, lifetimes.roles_ms),
            rank_cache: TtlCache::new(capacity, lifetimes.rank_ms),
        }
    }

    /// The server's settings, from the cache or the store.
    async fn config(&self, server: ServerId) -> Outcome<Option<RobloxConfig>> {
        let now = self.clock.now();
        if let Some(config) = self.config_cache.get(&server, now) {
            return Ok(config);
        }
        let configs = Arc::clone(&self.configs);
        let config = run_blocking(&*self.threads, move || configs.get(server)).await.map_err(crate::Error::from)??;
        self.config_cache.put(server, config.clone(), now);
        Ok(config)
    }

    /// Authorizes the caller, then the key and the group to act on (`group`, else the main group).
    async fn target(
        &self,
        caller: &Principal,
        server: ServerId,
        group: Option<GroupId>,
        access: Access,
    ) -> Outcome<(OpenCloudKey, GroupId)> {
        caller.authorize(server, access)?;
        let config = self.config(server).await?.ok_or(RobloxServiceError::NotConfigured)?;
        Ok((config.key, group.unwrap_or(config.group)))
    }

    async fn roles(&self, server: ServerId, key: &OpenCloudKey, group: GroupId) -> Outcome<Arc<Vec<GroupRole>>> {
        let now = self.clock.now();
        if let Some(roles) = self.roles_cache.get(&(server, group), now) {
            return Ok(roles);
        }
        let roles = Arc::new(self.groups.roles(key, group).await?);
        self.roles_cache.put((server, group), Arc::clone(&roles), now);
        Ok(roles)
    }

    async fn held(
        &self,
        server: ServerId,
        key: &OpenCloudKey,
        group: GroupId,
        user: RobloxUserId,
    ) -> Outcome<Option<Vec<RoleId>>> {
        let now = self.clock.now();
        if let Some(held) = self.rank_cache.get(&(server, group, user), now) {
            return Ok(held);
        }
        let held = self.groups.membership(key, group, user).await?.map(|m| m.roles);
        self.rank_cache.put((server, group, user), held.clone(), now);
        Ok(held)
    }

    /// The member's role in the group (the highest they hold), or the guest role (rank 0) when they
    /// are not a member.
    pub async fn rank(
        &self,
        caller: &Principal,
        server: ServerId,
        group: Option<GroupId>,
        user: RobloxUserId,
    ) -> Outcome<(GroupId, GroupRole)> {
        let (key, group) = self.target(caller, server, group, Access::Read).await?;
        let (roles, held) = try_join(self.roles(server, &key, group), self.held(server, &key, group, user)).await?;
        let role =
            held.and_then(|held| ranks::highest(&roles, &held).cloned()).unwrap_or_else(|| GroupRole::guest(&roles));
        Ok((group, role))
    }

    /// Promotes (`Up`) or demotes (`Down`) a member by one assignable role; the new role is held
    /// instead of the old one. A refusal by Roblox leaves the caches as they were.
    pub async fn step(
        &self,
        caller: &Principal,
        server: ServerId,
        group: Option<GroupId>,
        user: RobloxUserId,
        direction: Direction,
    ) -> Outcome<RankChange> {
        let (key, group) = self.target(caller, server, group, Access::Write).await?;
        let roles = self.roles(server, &key, group).await?;
        // What the member holds now, from Roblox rather than the cache: the step is from where they
        // really stand.
        let held = self.groups.membership(&key, group, user).await?.map(|m| m.roles);
        let current = held
            .as_deref()
            .and_then(|held| ranks::highest(&roles, held))
            .ok_or(RobloxServiceError::NotMember { user, group })?;
        let next = ranks::step(&roles, current.rank, direction).map_err(|refusal| {
            let (name, rank) = (current.name.clone(), current.rank.0);
            match refusal {
                StepRefusal::Owner => RobloxServiceError::Owner { user, group },
                StepRefusal::AtTop => RobloxServiceError::AtTop { user, group, name, rank },
                StepRefusal::AtBottom => RobloxServiceError::AtBottom { user, group, name, rank },
            }
        })?;
        let next = next.clone();
        match self.groups.set_role(&key, group, user, next.id).await {
            Ok(()) => {
                let now = self.clock.now();
                self.rank_cache.put((server, group, user), Some(vec![next.id]), now);
                // The change is Roblox's: its event is recorded once Roblox made it, before the answer.
                let (outbox, from, to) = (self.outbox.clone(), current.clone(), next.clone());
                run_write(&*self.writer, move || {
                    outbox.record(server, "rank.changed", now, || {
                        let role = |r: &GroupRole| serde_json::json!({"id": r.id.0.to_string(), "name": r.name, "rank": r.rank.0});
                        serde_json::json!({
                            "serverId": server.to_string(),
                            "robloxId": user.to_string(),
                            "groupId": group.to_string(),
                            "direction": match direction { Direction::Up => "promote", Direction::Down => "demote" },
                            "from": role(&from),
                            "to": role(&to),
                        })
                    })
                })
                .await?;
                Ok(RankChange { group, role: next })
            }
            Err(RobloxError::NotFound(_)) => {
                // They left between the look-up and the change.
                self.rank_cache.remove(&(server, group, user));
                Err(RobloxServiceError::NotMember { user, group })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Pending join requests with who made them: up to [`JOIN_REQUESTS_MAX`] from `cursor` (a `next`
    /// of an earlier answer), following Roblox's pages.
    pub async fn join_requests(
        &self,
        caller: &Principal,
        server: ServerId,
        group: Option<GroupId>,
        cursor: Option<String>,
    ) -> Outcome<GroupJoinRequests> {
        if let Some(cursor) = &cursor
            && (cursor.is_empty() || cursor.len() > CURSOR_MAX || !cursor.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(crate::Error::invalid("cursor", "must be the `next` of an earlier answer").into());
        }
        let (key, group) = self.target(caller, server, group, Access::Read).await?;
        let mut pending = Vec::new();
        let mut page = cursor;
        let next = loop {
            // Never more than the cap: a page cut short would lose the rest of it, since Roblox's
            // tokens only mark where pages start.
            let room = u8::try_from((JOIN_REQUESTS_MAX - pending.len()).min(JOIN_REQUESTS_PAGE)).unwrap_or(1);
            let answer = self.groups.join_requests(&key, group, page.take(), room).await?;
            pending.extend(answer.requests);
            match answer.next {
                Some(token) if pending.len() < JOIN_REQUESTS_MAX => page = Some(token),
                other => break other,
            }
        };
        let mut names = std::collections::HashMap::new();
        let ids: Vec<RobloxUserId> = pending.iter().map(|(_, user)| *user).collect();
        for chunk in ids.chunks(USERS_PER_LOOKUP) {
            for user in self.users.users(chunk).await? {
                names.insert(user.id, user.display_name);
            }
        }
        let requests = pending
            .into_iter()
            .map(|(id, user)| JoinRequest { id, user, display_name: names.get(&user).cloned().unwrap_or_default() })
            .collect();
        Ok(GroupJoinRequests { group, requests, next })
    }

    /// Accepts (`true`) or declines a pending join request.
    pub async fn answer_join_request(
        &self,
        caller: &Principal,
        server: ServerId,
        group: Option<GroupId>,
        request: JoinRequestId,
        accept: bool,
    ) -> Outcome<GroupId> {
        let (key, group) = self.target(caller, server, group, Access::Write).await?;
        let answer = if accept {
            self.groups.accept_join_request(&key, group, request).await
        } else {
            self.groups.decline_join_request(&key, group, request).await
        };
        match answer {
            Ok(()) => {
                // A join request's id is the user's: an accepted user's rank is no longer "guest".
                if let Ok(user) = i64::try_from(request.get()) {
                    self.rank_cache.remove(&(server, group, RobloxUserId::from_stored(user)));
                }
                Ok(group)
            }
            Err(RobloxError::NotFound(_)) => Err(RobloxServiceError::NoJoinRequest { request, group }),
            Err(e) => Err(e.into()),
        }
    }

    /// A user's public account and round headshot (`size` pixels square, one of [`HEADSHOT_SIZES`]),
    /// read with the server's key; both kept for [`CacheLifetimes::account_ms`].
    pub async fn user(
        &self,
        caller: &Principal,
        server: ServerId,
        account: RobloxAccount,
        size: u16,
    ) -> Outcome<RobloxUserView> {
        if !HEADSHOT_SIZES.contains(&size) {
            return Err(crate::Error::invalid("size", format!("must be one of {HEADSHOT_SIZES:?}")).into());
        }
        let (key, _) = self.target(caller, server, None, Access::Read).await?;
        let now = self.clock.now();
        let user = match account {
            RobloxAccount::Id(id) => id,
            RobloxAccount::Username(name) => match self.usernames.resolve(&*self.users, &name, now).await? {
                Some(id) => id,
                None => return Err(RobloxServiceError::NoSuchUsername(name)),
            },
        };
        let cached = (self.account_cache.get(&user, now), self.headshot_cache.get(&(user, size), now));
        let (account, headshot) = match cached {
            (Some(account), Some(headshot)) => (account, Some(headshot)),
            (account, _) => {
                // Both at once: a headshot for a user who does not exist is an error nobody sees.
                let account = async {
                    match account {
                        Some(account) => Ok(Some(account)),
                        None => self.accounts.account(&key, user).await,
                    }
                };
                let (account, headshot) = join(account, self.accounts.headshot(&key, user, size)).await;
                let account = account?.ok_or(RobloxServiceError::NoSuchUser(user))?;
                let headshot = match headshot {
                    Ok(headshot) => headshot,
                    // Roblox made no picture for an account it has: the account still answers.
                    Err(RobloxError::NotFound(_)) => None,
                    Err(e) => return Err(e.into()),
                };
                self.account_cache.put(user, account.clone(), now);
                if let Some(headshot) = &headshot {
                    self.headshot_cache.put((user, size), headshot.clone(), now);
                }
                (account, headshot)
            }
        };
        Ok(RobloxUserView { account, headshot })
    }

    /// Sets the server's main group and Open Cloud key, after Roblox accepted the key for the group.
    pub async fn configure(&self, caller: &Principal, server: ServerId, config: RobloxConfig) -> Outcome<()> {
        caller.authorize(server, Access::Write)?;
        match self.groups.group_name(&config.key, config.group).await {
            Ok(_) => {}
            Err(e @ (RobloxError::KeyRejected | RobloxError::MissingScope { .. } | RobloxError::NotFound(_))) => {
                return Err(RobloxServiceError::KeyNotAccepted { group: config.group, reason: e });
            }
            Err(e) => return Err(e.into()),
        }
        let configs = Arc::clone(&self.configs);
        let stored = config.clone();
        let at = self.clock.now();
        run_write(&*self.writer, move || configs.set(server, &stored, at)).await?;
        self.config_cache.put(server, Some(config), self.clock.now());
        Ok(())
    }

    /// The server's settings, with a live check of its key.
    pub async fn view(&self, caller: &Principal, server: ServerId) -> Outcome<RobloxServerView> {
        caller.authorize(server, Access::Read)?;
        let Some(config) = self.config(server).await? else {
            return Ok(RobloxServerView { server, group: None, key: None });
        };
        let check = match self.groups.group_name(&config.key, config.group).await {
            Ok(group_name) => {
                let (read, write) = join(
                    self.groups.join_requests(&config.key, config.group, None, 1),
                    self.groups.decline_join_request(&config.key, config.group, WRITE_PROBE),
                )
                .await;
                let write = match write {
                    // There was nothing to decline: the key got past Roblox's scope check.
                    Ok(()) | Err(RobloxError::NotFound(_) | RobloxError::Refused(_)) => Some(true),
                    Err(RobloxError::MissingScope { .. }) => Some(false),
                    Err(_) => None,
                };
                match read {
                    Ok(_) => KeyCheck::Accepted { group_name, read_join_requests: true, write },
                    Err(RobloxError::MissingScope { .. }) => {
                        KeyCheck::Accepted { group_name, read_join_requests: false, write }
                    }
                    Err(e) => KeyCheck::Unknown { reason: e.to_string() },
                }
            }
            Err(e @ (RobloxError::KeyRejected | RobloxError::MissingScope { .. } | RobloxError::NotFound(_))) => {
                KeyCheck::Refused { reason: e.to_string() }
            }
            Err(e) => KeyCheck::Unknown { reason: e.to_string() },
        };
        Ok(RobloxServerView { server, group: Some(config.group), key: Some(check) })
    }
}
