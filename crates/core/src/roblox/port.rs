//! The Roblox ports: what the service asks of Roblox and of the store, and what can go wrong.

use std::future::Future;
use std::pin::Pin;

use super::verification::{CodeChallenge, Link};
use super::{GroupId, GroupRole, JoinRequestId, OpenCloudKey, RobloxConfig, RoleId};
use crate::{RobloxUserId, ServerId, Timestamp, discord::Snowflake};

/// A boxed future of a Roblox call.
pub type RobloxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RobloxError>> + Send + 'a>>;

/// What can go wrong when Garrison asks Roblox. Messages never contain a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RobloxError {
    /// Roblox rejected the server's Open Cloud key (unknown, revoked or expired).
    #[error("The server's Roblox API key was rejected.")]
    KeyRejected,
    /// The key is valid but may not do this: it lacks `scope`, or access to the group.
    #[error("The server's Roblox API key may not do this: it needs the {scope} scope for this group.")]
    MissingScope { scope: &'static str },
    /// Roblox refused: the key's owner may not act on this member or role (Roblox's own words).
    #[error("Roblox refused: {0}")]
    Refused(String),
    /// Roblox does not know the group, user, member or join request.
    #[error("Roblox has no such {0}.")]
    NotFound(&'static str),
    /// Roblox asked Garrison to wait longer than its budget allows.
    #[error("Rate limited by Roblox; retry after {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    /// Roblox could not be reached, timed out, failed (5xx) or answered something unreadable.
    #[error("Roblox is unavailable: {0}")]
    Unavailable(String),
}

/// A member of a group and the roles they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user: RobloxUserId,
    pub roles: Vec<RoleId>,
}

/// One page of a group's join requests, oldest first, and Roblox's token for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequestPage {
    /// The requests' ids and who made them.
    pub requests: Vec<(String, RobloxUserId)>,
    pub next: Option<String>,
}

/// A Roblox account as the public profile shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxUser {
    pub id: RobloxUserId,
    pub name: String,
    pub display_name: String,
}

/// Open Cloud's groups API, called with a server's key. Implemented by `garrison-roblox`.
pub trait RobloxGroups: Send + Sync {
    /// The group's roles, every page.
    fn roles(&self, key: &OpenCloudKey, group: GroupId) -> RobloxFuture<'_, Vec<GroupRole>>;
    /// The user's membership, `None` if they are not a member.
    fn membership(
        &self,
        key: &OpenCloudKey,
        group: GroupId,
        user: RobloxUserId,
    ) -> RobloxFuture<'_, Option<Membership>>;
    /// Gives the member `role` instead of the roles they hold.
    fn set_role(&self, key: &OpenCloudKey, group: GroupId, user: RobloxUserId, role: RoleId) -> RobloxFuture<'_, ()>;
    /// One page of pending join requests, at most `max` long (1 to 20, Roblox's largest page).
    fn join_requests(
        &self,
        key: &OpenCloudKey,
        group: GroupId,
        page: Option<String>,
        max: u8,
    ) -> RobloxFuture<'_, JoinRequestPage>;
    fn accept_join_request(&self, key: &OpenCloudKey, group: GroupId, request: JoinRequestId) -> RobloxFuture<'_, ()>;
    fn decline_join_request(&self, key: &OpenCloudKey, group: GroupId, request: JoinRequestId) -> RobloxFuture<'_, ()>;
    /// The group's name: also how a key is checked (valid, and allowed to see the group).
    fn group_name(&self, key: &OpenCloudKey, group: GroupId) -> RobloxFuture<'_, String>;
}

/// A Roblox account with its profile text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxProfile {
    pub user: RobloxUser,
    /// The "About" text, where the profile-code check looks for its phrase.
    pub description: String,
}

/// Roblox's public user look-ups (no key). Implemented by `garrison-roblox`.
pub trait RobloxUsers: Send + Sync {
    /// The accounts among `users` that exist (at most 100 per call), in no particular order.
    fn users(&self, users: &[RobloxUserId]) -> RobloxFuture<'_, Vec<RobloxUser>>;
    /// The account with this username (any letter case), if there is one.
    fn by_username(&self, name: &str) -> RobloxFuture<'_, Option<RobloxUser>>;
    /// The account and its profile text, read now (never from a cache), if the account exists.
    fn profile(&self, user: RobloxUserId) -> RobloxFuture<'_, Option<RobloxProfile>>;
}

/// A Roblox account as Open Cloud describes it (its public part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxAccountInfo {
    pub user: RobloxUser,
    /// The profile's "About" text.
    pub about: String,
    /// When the account was made, when Roblox said.
    pub created: Option<Timestamp>,
    pub premium: bool,
}

/// The square sizes, in pixels, Roblox makes headshots in.
pub const HEADSHOT_SIZES: [u16; 11] = [48, 50, 60, 75, 100, 110, 150, 180, 352, 420, 720];

/// Open Cloud's users API, called with a server's key (public information: no scope needed).
/// Implemented by `garrison-roblox`.
pub trait RobloxCloudUsers: Send + Sync {
    /// The account, `None` if Roblox has no such user.
    fn account(&self, key: &OpenCloudKey, user: RobloxUserId) -> RobloxFuture<'_, Option<RobloxAccountInfo>>;
    /// The address of the user's round PNG headshot, `size` pixels square (one of
    /// [`HEADSHOT_SIZES`]); `None` while Roblox is still making it.
    fn headshot(&self, key: &OpenCloudKey, user: RobloxUserId, size: u16) -> RobloxFuture<'_, Option<String>>;
}

/// Where links between Discord users and Roblox accounts, and pending profile codes, are kept.
pub trait RobloxLinks: Send + Sync {
    fn by_roblox(&self, roblox: RobloxUserId) -> crate::Result<Option<Link>>;
    fn by_discord(&self, discord: Snowflake) -> crate::Result<Option<Link>>;
    /// Stores `link`, ending the links either of its accounts had (the store keeps them as history),
    /// in one transaction. With `spare_oauth`, nothing changes and the answer is `false` when either
    /// account holds an OAuth link.
    fn link(&self, link: &Link, spare_oauth: bool) -> crate::Result<bool>;
    /// Ends the Discord user's link (kept as history); the link that was, if any.
    fn unlink(&self, discord: Snowflake, at: Timestamp) -> crate::Result<Option<Link>>;
    /// Keeps a phrase for `(server, discord)`, replacing an earlier one.
    fn put_challenge(&self, challenge: &CodeChallenge) -> crate::Result<()>;
    fn challenge(&self, server: ServerId, discord: Snowflake) -> crate::Result<Option<CodeChallenge>>;
    fn drop_challenge(&self, server: ServerId, discord: Snowflake) -> crate::Result<()>;
}

/// Where each server's Roblox settings are kept; the key encrypted at rest by the adapter.
pub trait RobloxConfigs: Send + Sync {
    fn get(&self, server: ServerId) -> crate::Result<Option<RobloxConfig>>;
    fn set(&self, server: ServerId, config: &RobloxConfig, at: Timestamp) -> crate::Result<()>;
}
