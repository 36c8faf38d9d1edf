//! Roblox's per-key rate limits, kept on Garrison's side so a server's key is never pushed past them.
//!
//! Each (key, operation) pair has a sliding one-minute window of the instants its calls were sent. A
//! call takes a slot when the window has one free; otherwise it learns when the oldest slot frees.
//! Keys are held as SHA-256 hashes. The table of limits is Roblox's published one
//! ([`Operation::per_minute`]); what Roblox answers (`x-ratelimit-remaining: 0` with a reset) can
//! close a window early.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The Open Cloud operations Garrison calls, with Roblox's per-key limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    GetGroup,
    ListGroupRoles,
    ListGroupMemberships,
    UpdateGroupMembership,
    ListGroupJoinRequests,
    AcceptGroupJoinRequest,
    DeclineGroupJoinRequest,
    GetUser,
    GenerateUserThumbnail,
    /// The legacy users API (`users.roblox.com`: names, profiles), which takes no key: Roblox limits
    /// it per address, so Garrison keeps one window for the whole process ([`LEGACY_USERS`]).
    LegacyUsers,
}

/// The "key" of the process-wide legacy users window.
pub const LEGACY_USERS: [u8; 32] = [0; 32];

impl Operation {
    pub const ALL: [Operation; 9] = [
        Operation::GetGroup,
        Operation::ListGroupRoles,
        Operation::ListGroupMemberships,
        Operation::UpdateGroupMembership,
        Operation::ListGroupJoinRequests,
        Operation::AcceptGroupJoinRequest,
        Operation::DeclineGroupJoinRequest,
        Operation::GetUser,
        Operation::GenerateUserThumbnail,
    ];

    /// Roblox's `operationId`.
    pub const fn id(self) -> &'static str {
        match self {
            Operation::GetGroup => "Cloud_GetGroup",
            Operation::ListGroupRoles => "Cloud_ListGroupRoles",
            Operation::ListGroupMemberships => "Cloud_ListGroupMemberships",
            Operation::UpdateGroupMembership => "Cloud_UpdateGroupMembership",
            Operation::ListGroupJoinRequests => "Cloud_ListGroupJoinRequests",
            Operation::AcceptGroupJoinRequest => "Cloud_AcceptGroupJoinRequest",
            Operation::DeclineGroupJoinRequest => "Cloud_DeclineGroupJoinRequest",
            Operation::GetUser => "Cloud_GetUser",
            Operation::GenerateUserThumbnail => "Cloud_GenerateUserThumbnail",
            Operation::LegacyUsers => "users.roblox.com",
        }
    }

    /// Calls per minute one key may make (`x-roblox-rate-limits.perApiKeyOwner`).
    pub const fn per_minute(self) -> usize {
        match self {
            Operation::GetGroup => 150,
            Operation::ListGroupRoles
            | Operation::ListGroupMemberships
            | Operation::UpdateGroupMembership
            | Operation::ListGroupJoinRequests => 300,
            Operation::AcceptGroupJoinRequest | Operation::DeclineGroupJoinRequest => 100,
            Operation::GetUser | Operation::GenerateUserThumbnail => 1000,
            // Unpublished; a conservative share of what one address is seen to get.
            Operation::LegacyUsers => 120,
        }
    }

    /// The scope the operation needs (`x-roblox-scopes`), named in a refusal.
    pub const fn scope(self) -> &'static str {
        match self {
            Operation::GetGroup | Operation::ListGroupMemberships => "group:read",
            Operation::ListGroupRoles | Operation::ListGroupJoinRequests => "group:read",
            Operation::UpdateGroupMembership
            | Operation::AcceptGroupJoinRequest
            | Operation::DeclineGroupJoinRequest => "group:write",
            // Public information: no scope is needed.
            Operation::GetUser | Operation::GenerateUserThumbnail | Operation::LegacyUsers => "none",
        }
    }

    /// What a 404 means for it.
    pub const fn subject(self) -> &'static str {
        match self {
            Operation::GetGroup | Operation::ListGroupRoles | Operation::ListGroupJoinRequests => "group",
            Operation::ListGroupMemberships | Operation::UpdateGroupMembership => "group member",
            Operation::AcceptGroupJoinRequest | Operation::DeclineGroupJoinRequest => "join request",
            Operation::GetUser | Operation::GenerateUserThumbnail | Operation::LegacyUsers => "user",
        }
    }
}

const WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at once; past it, windows that are empty are dropped.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Default)]
struct Window {
    sent: VecDeque<Instant>,
    /// Roblox said the window is spent until then.
    closed_until: Option<Instant>,
}

/// The windows of every key Garrison has used.
#[derive(Debug)]
pub struct KeyLimiter {
    windows: Mutex<HashMap<([u8; 32], Operation), Window>>,
    /// The window's length: Roblox counts per minute.
    window: Duration,
}

impl Default for KeyLimiter {
    fn default() -> Self {
        Self { windows: Mutex::new(HashMap::new()), window: WINDOW }
    }
}

pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl KeyLimiter {
    /// Takes a slot for `key`'s `operation` at `now`, or says how long until one frees.
    pub fn try_acquire(&self, key: &[u8; 32], operation: Operation, now: Instant) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_KEYS && !windows.contains_key(&(*key, operation)) {
            let window = self.window;
            windows.retain(|_, w| w.sent.back().is_some_and(|last| now.duration_since(*last) < window));
        }
        let window = windows.entry((*key, operation)).or_default();
        if let Some(until) = window.closed_until {
            if until > now {
                return Err(until - now);
            }
            window.closed_until = None;
        }
        while window.sent.front().is_some_and(|first| now.duration_since(*first) >= self.window) {
            window.sent.pop_front();
        }
        if window.sent.len() >= operation.per_minute() {
            let oldest = window.sent.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        window.sent.push_back(now);
        Ok(())
    }

    /// Roblox said this key's window for `operation` is spent for `wait`.
    pub fn close(&self, key: &[u8; 32], operation: Operation, now: Instant, wait: Duration) {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = windows.entry((*key, operation)).or_default();
        window.closed_until = Some(window.closed_until.map_or(now + wait, |until| until.max(now + wait)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_published_calls_per_minute_then_waits() {
        let limiter = KeyLimiter::default();
        let key = key_hash("a key");
        let start = Instant::now();
        for i in 0..100 {
            let at = start + Duration::from_millis(i);
            assert_eq!(limiter.try_acquire(&key, Operation::AcceptGroupJoinRequest, at), Ok(()), "call {i}");
        }
        let wait = limiter
            .try_acquire(&key, Operation::AcceptGroupJoinRequest, start + Duration::from_secs(1))
            .expect_err("the 101st waits");
        assert_eq!(wait, Duration::from_secs(59));
        assert_eq!(limiter.try_acquire(&key, Operation::AcceptGroupJoinRequest, start + WINDOW), Ok(()));
        // Other operations and other keys have windows of their own.
        assert_eq!(limiter.try_acquire(&key, Operation::DeclineGroupJoinRequest, start), Ok(()));
        assert_eq!(limiter.try_acquire(&key_hash("another"), Operation::AcceptGroupJoinRequest, start), Ok(()));
    }

    #[test]
    fn the_legacy_users_api_has_one_window_for_the_process() {
        let limiter = KeyLimiter::default();
        let now = Instant::now();
        for _ in 0..Operation::LegacyUsers.per_minute() {
            assert_eq!(limiter.try_acquire(&LEGACY_USERS, Operation::LegacyUsers, now), Ok(()));
        }
        assert!(limiter.try_acquire(&LEGACY_USERS, Operation::LegacyUsers, now).is_err());
        assert!(!Operation::ALL.contains(&Operation::LegacyUsers), "not an Open Cloud operation");
    }

    #[test]
    fn roblox_can_close_a_window() {
        let limiter = KeyLimiter::default();
        let key = key_hash("k");
        let now = Instant::now();
        limiter.close(&key, Operation::GetGroup, now, Duration::from_secs(3));
        assert_eq!(
            limiter.try_acquire(&key, Operation::GetGroup, now + Duration::from_secs(1)),
            Err(Duration::from_secs(2))
        );
        assert_eq!(limiter.try_acquire(&key, Operation::GetGroup, now + Duration::from_secs(3)), Ok(()));
    }
}
