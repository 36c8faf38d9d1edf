//! The refusal budget: Discord bans an IP address for a while once it has sent 10,000 invalid requests
//! in 10 minutes (answers 401, 403 and 429, except a 429 whose `X-RateLimit-Scope` is `shared`), and
//! Cloudflare bans it in front of Discord. Every tenant of a Garrison deployment shares its address, so
//! one tenant's junk tokens could cut all of them off. Garrison counts those answers itself, in a
//! sliding window, and stops calling Discord (the caller gets `503`) well before Discord's threshold.
//!
//! Calls take a [`Ticket`] before they are sent and settle it with the answer, so calls in flight count
//! as if each were refused: however many run at once, the window never holds more refusals than the
//! limit. Calls whose credentials nobody has vouched for yet ([`Trust::Unverified`]: checking a new bot
//! token, an interaction token) stop at a quarter of the limit, so a flood of junk tokens leaves the
//! rest of the budget to bots Discord already accepted.

use std::{collections::VecDeque, sync::Mutex};

use crate::Timestamp;

/// Discord's own threshold: invalid requests per [`DISCORD_WINDOW_MS`] before it bans the address.
pub const DISCORD_INVALID_REQUEST_LIMIT: u32 = 10_000;
/// Discord's window for [`DISCORD_INVALID_REQUEST_LIMIT`]: 10 minutes.
pub const DISCORD_WINDOW_MS: i64 = 600_000;

/// Whether Discord already accepted the credentials a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A bot whose token Discord accepted (its verdict is cached).
    Verified,
    /// A token not checked yet (the check itself), or an interaction token.
    Unverified,
}

/// How many refusals a window may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalLimits {
    /// Refusals per window for all calls.
    pub limit: u32,
    /// Refusals per window beyond which unverified calls stop (a quarter of `limit`).
    pub unverified_limit: u32,
    /// The window's length.
    pub window_ms: i64,
}

impl RefusalLimits {
    /// `limit` refusals per `window_ms`; unverified calls stop at a quarter of it (at least 1).
    pub fn new(limit: u32, window_ms: i64) -> Self {
        let limit = limit.max(1);
        Self { limit, unverified_limit: (limit / 4).max(1), window_ms: window_ms.max(1) }
    }
}

impl Default for RefusalLimits {
    /// 2,000 per 10 minutes: a fifth of Discord's threshold (500 for unverified calls).
    fn default() -> Self {
        Self::new(2_000, DISCORD_WINDOW_MS)
    }
}

#[derive(Debug, Default)]
struct Window {
    /// When each counted refusal came, oldest first.
    refusals: VecDeque<i64>,
    in_flight: u32,
    in_flight_unverified: u32,
}

impl Window {
    fn forget_before(&mut self, start: i64) {
        while self.refusals.front().is_some_and(|at| *at <= start) {
            self.refusals.pop_front();
        }
    }
}

/// A sliding-window count of Discord's refusals, shared by every call a process makes.
#[derive(Debug)]
pub struct RefusalBudget {
    limits: RefusalLimits,
    window: Mutex<Window>,
}

impl RefusalBudget {
    pub fn new(limits: RefusalLimits) -> Self {
        Self { limits, window: Mutex::new(Window::default()) }
    }

    pub fn limits(&self) -> RefusalLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ticket for one call at `now`, or, when the window could not hold one more refusal, how many
    /// milliseconds until it can.
    pub fn try_take(&self, trust: Trust, now: Timestamp) -> Result<Ticket<'_>, u64> {
        let mut window = self.lock();
        window.forget_before(now.millis() - self.limits.window_ms);
        let used = window.refusals.len();
        let (limit, in_flight) = match trust {
            Trust::Verified => (self.limits.limit, window.in_flight),
            Trust::Unverified => (self.limits.unverified_limit, window.in_flight_unverified),
        };
        let wanted = used + in_flight as usize;
        // Unverified calls also count against the whole limit.
        let total = used + window.in_flight as usize;
        if wanted >= limit as usize || total >= self.limits.limit as usize {
            let limit = if wanted >= limit as usize { limit } else { self.limits.limit } as usize;
            let busy = if wanted >= limit { wanted } else { total };
            // The window must lose `busy - limit + 1` refusals; in-flight calls may settle sooner.
            let excess = busy + 1 - limit;
            let wait = match window.refusals.get(excess.saturating_sub(1)) {
                Some(at) if excess <= used => at + self.limits.window_ms - now.millis(),
                _ => 1_000,
            };
            return Err(u64::try_from(wait).unwrap_or(1).max(1));
        }
        window.in_flight += 1;
        if trust == Trust::Unverified {
            window.in_flight_unverified += 1;
        }
        Ok(Ticket { budget: self, trust, open: true })
    }

    /// Refusals counted in the window ending at `now`.
    pub fn refusals(&self, now: Timestamp) -> usize {
        let mut window = self.lock();
        window.forget_before(now.millis() - self.limits.window_ms);
        window.refusals.len()
    }

    fn release(&self, trust: Trust, refused_at: Option<Timestamp>) {
        let mut window = self.lock();
        window.in_flight = window.in_flight.saturating_sub(1);
        if trust == Trust::Unverified {
            window.in_flight_unverified = window.in_flight_unverified.saturating_sub(1);
        }
        if let Some(at) = refused_at {
            window.refusals.push_back(at.millis());
            // Bounded even if the clock went backwards: never more than the limit is kept.
            while window.refusals.len() > self.limits.limit as usize {
                window.refusals.pop_front();
            }
        }
    }
}

/// Whether Discord's answer counts towards its ban: 401, 403, and 429 unless its scope is `shared`.
pub fn counts_as_refusal(status: u16, rate_limit_scope: Option<&str>) -> bool {
    match status {
        401 | 403 => true,
        429 => rate_limit_scope != Some("shared"),
        _ => false,
    }
}

/// One call's place in the budget: settle it with Discord's answer. Dropped unsettled (no answer: the
/// call was abandoned or never got one), it counts nothing.
#[derive(Debug)]
pub struct Ticket<'a> {
    budget: &'a RefusalBudget,
    trust: Trust,
    open: bool,
}

impl Ticket<'_> {
    /// Discord answered at `now`: a refusal ([`counts_as_refusal`]) is counted.
    pub fn settle(mut self, refused: bool, now: Timestamp) {
        self.open = false;
        self.budget.release(self.trust, refused.then_some(now));
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.open {
            self.budget.release(self.trust, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn the_default_stays_far_below_discords_threshold() {
        let limits = RefusalLimits::default();
        assert_eq!((limits.limit, limits.unverified_limit, limits.window_ms), (2_000, 500, DISCORD_WINDOW_MS));
        assert!(limits.limit * 4 <= DISCORD_INVALID_REQUEST_LIMIT);
    }

    #[test]
    fn refusals_fill_the_window_and_leave_it_as_it_slides() {
        let budget = RefusalBudget::new(RefusalLimits::new(8, 10_000));
        // Two unverified refusals fill the unverified share (8 / 4).
        budget.try_take(Trust::Unverified, at(1_000)).expect("room").settle(true, at(1_000));
        budget.try_take(Trust::Unverified, at(2_000)).expect("room").settle(true, at(2_000));
        assert_eq!(budget.try_take(Trust::Unverified, at(3_000)).err(), Some(8_000), "the first leaves at 11 s");
        // Verified calls go on up to the whole limit.
        for t in 3..9 {
            budget.try_take(Trust::Verified, at(t * 1_000)).expect("room").settle(true, at(t * 1_000));
        }
        assert_eq!(budget.refusals(at(8_000)), 8);
        assert_eq!(budget.try_take(Trust::Verified, at(9_000)).err(), Some(2_000));
        // At 11 s the first refusal has left the window: one verified call fits.
        budget.try_take(Trust::Verified, at(11_000)).expect("room").settle(false, at(11_000));
        assert_eq!(budget.refusals(at(11_000)), 7);
        // Answers that are not refusals count nothing.
        assert_eq!(budget.refusals(at(30_000)), 0);
        assert!(budget.try_take(Trust::Unverified, at(30_000)).is_ok());
    }

    #[test]
    fn calls_in_flight_hold_their_place_until_settled_or_dropped() {
        let budget = RefusalBudget::new(RefusalLimits::new(8, 10_000));
        let a = budget.try_take(Trust::Unverified, at(0)).expect("room");
        let b = budget.try_take(Trust::Unverified, at(0)).expect("room");
        assert_eq!(budget.try_take(Trust::Unverified, at(0)).err(), Some(1_000), "two in flight fill the share");
        drop(a);
        let c = budget.try_take(Trust::Unverified, at(0)).expect("an abandoned call frees its place");
        b.settle(false, at(1));
        c.settle(true, at(1));
        assert_eq!(budget.refusals(at(2)), 1);
        // However many callers race, the window never holds more refusals than the limit.
        let tickets: Vec<_> = std::iter::from_fn(|| budget.try_take(Trust::Verified, at(5)).ok()).take(100).collect();
        assert_eq!(tickets.len(), 7);
        for ticket in tickets {
            ticket.settle(true, at(5));
        }
        assert_eq!(budget.refusals(at(5)), 8);
    }

    #[test]
    fn discords_counted_answers() {
        assert!(counts_as_refusal(401, None));
        assert!(counts_as_refusal(403, None));
        assert!(counts_as_refusal(429, None), "Cloudflare's 429s carry no scope");
        assert!(counts_as_refusal(429, Some("user")));
        assert!(counts_as_refusal(429, Some("global")));
        assert!(!counts_as_refusal(429, Some("shared")));
        assert!(!counts_as_refusal(404, None));
        assert!(!counts_as_refusal(200, None));
    }
}
