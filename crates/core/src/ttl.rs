//! A small cache of answers that are true for a while: bounded in entries, each with its own expiry.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::Timestamp;

/// Values kept until they expire, at most `capacity` of them. When full, expired entries go first,
/// then the ones closest to expiring. Time comes from the caller (the service's [`crate::Clock`]).
#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Timestamp)>>,
    capacity: usize,
    lifetime_ms: i64,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// A cache of at most `capacity` entries (0 keeps nothing), each fresh for `lifetime_ms`.
    pub fn new(capacity: usize, lifetime_ms: i64) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity, lifetime_ms }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Timestamp)>> {
        // A panic while holding the lock leaves a map that is still consistent (no entry is half
        // written), so a poisoned lock is taken as is.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value for `key` if it is still fresh at `now`.
    pub fn get(&self, key: &K, now: Timestamp) -> Option<V> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some((value, expires)) if *expires > now => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `value` for `key` from `now` for the cache's lifetime.
    pub fn put(&self, key: K, value: V, now: Timestamp) {
        self.put_for(key, value, now, self.lifetime_ms);
    }

    /// Keeps `value` for `key` from `now` for `lifetime_ms` instead of the cache's lifetime (a token
    /// that says when it expires, a short-lived negative answer).
    pub fn put_for(&self, key: K, value: V, now: Timestamp, lifetime_ms: i64) {
        if self.capacity == 0 || lifetime_ms <= 0 {
            return;
        }
        let expires = Timestamp::from_millis(now.millis().saturating_add(lifetime_ms));
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, at)| *at > now);
            if entries.len() >= self.capacity {
                // Drop the quarter closest to expiring: one sort per many inserts, not one per insert.
                let mut expiries: Vec<Timestamp> = entries.values().map(|(_, at)| *at).collect();
                expiries.sort_unstable();
                let cut = expiries[(expiries.len() / 4).min(expiries.len() - 1)];
                entries.retain(|_, (_, at)| *at > cut);
            }
        }
        entries.insert(key, (value, expires));
    }

    /// Forgets `key` (after a change that makes its value wrong).
    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Entries held, fresh or not.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    fn values_last_their_lifetime() {
        let cache = TtlCache::new(8, 60_000);
        cache.put("a", 1, T0);
        assert_eq!(cache.get(&"a", at(59_999)), Some(1));
        assert_eq!(cache.get(&"a", at(60_000)), None);
        assert!(cache.is_empty(), "an expired entry is dropped when seen");
        cache.put_for("c", 3, T0, 10);
        assert_eq!((cache.get(&"c", at(9)), cache.get(&"c", at(10))), (Some(3), None), "its own lifetime");
        cache.put_for("d", 4, T0, 0);
        assert_eq!(cache.get(&"d", T0), None, "a lifetime of nothing keeps nothing");
        cache.put("b", 2, T0);
        cache.remove(&"b");
        assert_eq!(cache.get(&"b", T0), None);
    }

    #[test]
    fn it_never_holds_more_than_its_capacity() {
        let cache = TtlCache::new(100, 1_000);
        for i in 0..10_000 {
            cache.put(i, i, at(i64::from(i)));
            assert!(cache.len() <= 100);
        }
        assert_eq!(cache.get(&9_999, at(9_999)), Some(9_999), "the newest survives");
        let none = TtlCache::new(0, 1_000);
        none.put(1, 1, T0);
        assert_eq!(none.get(&1, T0), None);
    }
}
