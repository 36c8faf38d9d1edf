//! Cooldowns: one use per key per period (the AutoModRules route once a minute per bot, `sendEmbed`
//! once per bot and channel every 10 seconds). Services take turns through the [`CooldownStore`]
//! port; [`MemoryCooldowns`] keeps them in this process, and the scale-out work backs the port with a
//! shared store so every process sees the same turns.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Mutex, PoisonError},
};

use crate::{Result, Timestamp};

/// A boxed future, so the port stays object-safe and core needs no runtime.
pub type CooldownFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Whether a turn was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The key's turn is taken at the time asked; the next one is a period later.
    Taken,
    /// The key was used less than a period ago: this many milliseconds remain.
    Wait { ms: i64 },
}

/// Where cooldown turns are kept. Keys are the caller's bytes under a `scope` (one per use case);
/// hash secrets before using them as keys.
pub trait CooldownStore: Send + Sync {
    /// Takes the turn of `(scope, key)` at `now` for `period_ms`, or says how long remains.
    fn try_take<'a>(
        &'a self,
        scope: &'static str,
        key: &'a [u8],
        period_ms: i64,
        now: Timestamp,
    ) -> CooldownFuture<'a, Turn>;
    /// Gives back a turn taken at `taken_at` (the use it was for did not happen), so the key may be
    /// used again at once. A later turn of the same key is left alone.
    fn release<'a>(&'a self, scope: &'static str, key: &'a [u8], taken_at: Timestamp) -> CooldownFuture<'a, ()>;
}

/// Most keys remembered before finished periods are forgotten.
const SWEEP_AT: usize = 100_000;

/// `(scope, key)` -> (taken at, period in milliseconds).
type Turns = HashMap<(&'static str, Vec<u8>), (Timestamp, i64)>;

/// Cooldowns kept in this process's memory (bounded: finished periods are forgotten once many keys
/// are held).
#[derive(Debug, Default)]
pub struct MemoryCooldowns {
    turns: Mutex<Turns>,
}

impl MemoryCooldowns {
    pub fn new() -> Self {
        Self::default()
    }

    /// The synchronous rule behind [`CooldownStore::try_take`].
    pub fn take_now(&self, scope: &'static str, key: &[u8], period_ms: i64, now: Timestamp) -> Turn {
        let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
        if turns.len() >= SWEEP_AT {
            turns.retain(|_, (at, period)| (0..*period).contains(&(now.millis() - at.millis())));
        }
        let entry = (scope, key.to_vec());
        if let Some((at, period)) = turns.get(&entry) {
            let waited = now.millis() - at.millis();
            if (0..*period).contains(&waited) {
                return Turn::Wait { ms: period - waited };
            }
        }
        turns.insert(entry, (now, period_ms));
        Turn::Taken
    }

    /// The synchronous rule behind [`CooldownStore::release`].
    pub fn release_now(&self, scope: &'static str, key: &[u8], taken_at: Timestamp) {
        let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = (scope, key.to_vec());
        if turns.get(&entry).is_some_and(|(at, _)| *at == taken_at) {
            turns.remove(&entry);
        }
    }
}

impl CooldownStore for MemoryCooldowns {
    fn try_take<'a>(
        &'a self,
        scope: &'static str,
        key: &'a [u8],
        period_ms: i64,
        now: Timestamp,
    ) -> CooldownFuture<'a, Turn> {
        let turn = self.take_now(scope, key, period_ms, now);
        Box::pin(std::future::ready(Ok(turn)))
    }

    fn release<'a>(&'a self, scope: &'static str, key: &'a [u8], taken_at: Timestamp) -> CooldownFuture<'a, ()> {
        self.release_now(scope, key, taken_at);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000_000);

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(T0.millis() + ms)
    }

    #[test]
    fn a_key_waits_out_its_period_and_scopes_do_not_share_turns() {
        let store = MemoryCooldowns::new();
        assert_eq!(store.take_now("embed", b"k", 10_000, T0), Turn::Taken);
        assert_eq!(store.take_now("embed", b"k", 10_000, at(1_500)), Turn::Wait { ms: 8_500 });
        assert_eq!(store.take_now("automod", b"k", 60_000, at(1_500)), Turn::Taken);
        assert_eq!(store.take_now("embed", b"other", 10_000, at(1_500)), Turn::Taken);
        assert_eq!(store.take_now("embed", b"k", 10_000, at(10_000)), Turn::Taken);
    }

    #[test]
    fn a_released_turn_frees_the_key_but_not_a_later_turn() {
        let store = MemoryCooldowns::new();
        assert_eq!(store.take_now("s", b"k", 10_000, T0), Turn::Taken);
        store.release_now("s", b"k", T0);
        assert_eq!(store.take_now("s", b"k", 10_000, at(1)), Turn::Taken);
        store.release_now("s", b"k", T0);
        assert_eq!(store.take_now("s", b"k", 10_000, at(2)), Turn::Wait { ms: 9_999 });
    }

    #[test]
    fn finished_periods_are_forgotten_so_memory_stays_bounded() {
        let store = MemoryCooldowns::new();
        for i in 0..SWEEP_AT as u64 {
            store.take_now("s", &i.to_be_bytes(), 10, T0);
        }
        store.take_now("s", b"late", 10, at(100));
        assert_eq!(store.turns.lock().map(|t| t.len()).unwrap_or_default(), 1);
    }
}
