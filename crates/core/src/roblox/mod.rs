//! The Roblox half: a server's Roblox group, its ranks, join requests and members.
//!
//! Roblox's own types never reach this module: the adapter (`garrison-roblox`) turns Open Cloud's
//! resource paths and JSON into the values here. What lives here:
//!
//! * ids and values: [`GroupId`], [`RoleId`], [`Rank`], [`GroupRole`], [`JoinRequest`], and the
//!   server's credentials, [`OpenCloudKey`] (its `Debug` never shows it) in a [`RobloxConfig`];
//! * the ports: [`RobloxGroups`] and [`RobloxCloudUsers`] (Open Cloud, with the server's key),
//!   [`RobloxUsers`] (public look-ups without a key) and the [`RobloxConfigs`] store, with the one error type [`RobloxError`];
//! * [`ranks`]: the pure rank arithmetic (the next assignable role up or down);
//! * [`RobloxService`]: the use cases behind the rank and group routes, with their caches.

pub mod binds;
mod port;
pub mod ranks;
mod service;
pub mod signin;
pub mod verification;

use std::fmt;

use crate::{Error, Result};

pub use crate::ttl::TtlCache;
pub use port::{
    HEADSHOT_SIZES, JoinRequestPage, Membership, RobloxAccountInfo, RobloxCloudUsers, RobloxConfigs, RobloxError,
    RobloxFuture, RobloxGroups, RobloxLinks, RobloxProfile, RobloxUser, RobloxUsers,
};
pub use service::{
    CacheLifetimes, GroupJoinRequests, JOIN_REQUESTS_MAX, KeyCheck, RankChange, RobloxPorts, RobloxServerView,
    RobloxService, RobloxServiceError, RobloxUserView,
};

/// The one rule of positive `BIGINT` ids (the one `RobloxUserId` follows), as the `u64` Roblox uses.
fn parse_id(field: &'static str, what: &str, text: &str) -> Result<u64> {
    crate::ids::parse_positive(field, what, text).map(i64::unsigned_abs)
}

/// A Roblox group id: a positive integer that fits the `BIGINT` it is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(u64);

impl GroupId {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        parse_id(field, "a Roblox group id", text).map(Self)
    }

    /// A group id the adapter read from Roblox or the store read back; `None` if it cannot be one.
    pub const fn new(id: u64) -> Option<Self> {
        if id > 0 && id <= i64::MAX as u64 { Some(Self(id)) } else { None }
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A group role's id (unique across Roblox, unlike its [`Rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleId(pub u64);

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A role's rank in its group: 0 is the guest "role" of non-members, 255 the owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank(pub u8);

impl Rank {
    /// What a user who is not a member has.
    pub const GUEST: Rank = Rank(0);
    /// The owner's role: never assigned through the API.
    pub const OWNER: Rank = Rank(255);

    /// Ranks the API may give or take: 1 to 254.
    pub const fn is_assignable(self) -> bool {
        self.0 != Self::GUEST.0 && self.0 != Self::OWNER.0
    }
}

/// One role of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRole {
    pub id: RoleId,
    pub name: String,
    pub rank: Rank,
}

impl GroupRole {
    /// Where a non-member stands: Roblox's guest role when the group lists one, else rank 0 "Guest".
    pub fn guest(roles: &[GroupRole]) -> GroupRole {
        roles.iter().find(|r| r.rank == Rank::GUEST).cloned().unwrap_or_else(|| GroupRole {
            id: RoleId(0),
            name: "Guest".into(),
            rank: Rank::GUEST,
        })
    }
}

/// A pending request to join a group, with who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// Roblox's id of the request (what accept and decline take).
    pub id: String,
    pub user: crate::RobloxUserId,
    pub display_name: String,
}

/// A join request's id as a caller gives it: Roblox's join request ids are the requesting user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JoinRequestId(u64);

impl JoinRequestId {
    /// The join request of user 1, Roblox's own account (which never asks to join a group).
    pub const ROBLOX: Self = Self(1);

    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        parse_id(field, "a join request id", text).map(Self)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for JoinRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A server's Open Cloud API key. `Debug` and `Display` never show it: only [`OpenCloudKey::expose`]
/// does, for the adapter's `x-api-key` header and the store's encryption.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenCloudKey(String);

/// The longest key accepted (Roblox's are a few hundred characters).
pub const OPEN_CLOUD_KEY_MAX: usize = 4096;

impl OpenCloudKey {
    /// A key as a caller gives it: 16 to 4096 visible ASCII characters (it goes into a header as is).
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        let key = text.trim();
        if key.len() < 16 || key.len() > OPEN_CLOUD_KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                field,
                format!(
                    "must be a Roblox Open Cloud API key (16 to {OPEN_CLOUD_KEY_MAX} visible ASCII characters, no spaces)"
                ),
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// A key the store decrypted (it was parsed on the way in).
    pub fn from_stored(key: String) -> Self {
        Self(key)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OpenCloudKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenCloudKey(<redacted>)")
    }
}

/// A server's Roblox settings: its main group and the Open Cloud key Garrison acts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobloxConfig {
    pub group: GroupId,
    pub key: OpenCloudKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers_that_fit_a_bigint() {
        assert_eq!(GroupId::parse("groupId", " 7 ").map(GroupId::get).ok(), Some(7));
        assert_eq!(GroupId::parse("groupId", "9223372036854775807").map(GroupId::get).ok(), Some(i64::MAX as u64));
        for bad in ["", "0", "-1", "abc", "9223372036854775808", "1e3", "+4"] {
            let err = GroupId::parse("groupId", bad).expect_err(bad);
            assert!(err.to_string().starts_with("groupId: must be a Roblox group id"), "{err}");
            assert!(JoinRequestId::parse("requestId", bad).is_err(), "{bad}");
        }
        assert_eq!(GroupId::new(0), None);
        assert_eq!(GroupId::new(u64::MAX), None);
    }

    #[test]
    fn keys_never_show_and_must_look_like_keys() {
        let key = OpenCloudKey::parse("openCloudKey", "  abcdefghijklmnopqrstuvwxyz0123456789  ").expect("valid");
        assert_eq!(key.expose(), "abcdefghijklmnopqrstuvwxyz0123456789");
        let shown = format!("{key:?} {:?}", RobloxConfig { group: GroupId(1), key: key.clone() });
        assert!(!shown.contains("abcdefghij"), "{shown}");
        for bad in
            ["short", "has a space inside of it ok", &"x".repeat(OPEN_CLOUD_KEY_MAX + 1), "tab\tinside-the-key-1234"]
        {
            let err = OpenCloudKey::parse("openCloudKey", bad).expect_err(bad);
            assert!(err.to_string().starts_with("openCloudKey: "), "{err}");
            assert!(!err.to_string().contains(bad), "the error never repeats the key");
        }
    }

    #[test]
    fn only_ranks_between_guest_and_owner_are_assignable() {
        assert!(!Rank::GUEST.is_assignable());
        assert!(!Rank::OWNER.is_assignable());
        assert!(Rank(1).is_assignable() && Rank(254).is_assignable());
        let guest = GroupRole::guest(&[]);
        assert_eq!((guest.name.as_str(), guest.rank), ("Guest", Rank::GUEST));
    }
}
