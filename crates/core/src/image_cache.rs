//! The card studio's cache of prepared images. Real bots send the same background (and often the same
//! avatar) for every member of a server, so an image that was fetched, decoded and shaped for a card
//! (cover-scaled and blurred, for a background) is kept, keyed by its URL and the parameters that
//! shaped it. The cache is bounded in bytes (the least recently used entries leave first), and an
//! entry is trusted for a while; after that the origin is asked whether the image changed
//! (`If-None-Match` / `If-Modified-Since`, from the validators it sent), and a "not modified" answer
//! makes the entry fresh again without a download or a decode.
//!
//! Pure data: the caller passes the time, fetches, decodes and shapes. Generic over the kept value and
//! the origin's validators (`W`), so that core knows no pixel type and no HTTP.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use crate::Timestamp;

/// How an image was shaped after decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// As decoded (an avatar: drawn at whatever size the card's layout asks).
    Decoded,
    /// A card background: cover-scaled for a card of `width` x `height` and blurred by `blur` pixels.
    Background { width: u32, height: u32, blur: u32 },
}

/// What identifies a prepared image: where it came from and how it was shaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageKey {
    pub url: String,
    pub shape: Shape,
}

/// The cache's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageCachePolicy {
    /// Most bytes of kept images (0: keep nothing).
    pub capacity_bytes: u64,
    /// How long an entry is used without asking its origin, in milliseconds.
    pub fresh_for_ms: i64,
}

impl Default for ImageCachePolicy {
    /// 32 MiB, revalidated after 5 minutes.
    fn default() -> Self {
        Self { capacity_bytes: 32 * 1024 * 1024, fresh_for_ms: 5 * 60 * 1000 }
    }
}

/// What the cache holds for a key.
#[derive(Debug)]
pub enum Lookup<V, W> {
    /// Checked recently enough: use it.
    Fresh(Arc<V>),
    /// Kept, but older than the policy trusts: ask the origin with these validators (an unconditional
    /// fetch when it gave none). The value is what to use if the origin says it did not change.
    Stale { value: Arc<V>, validators: W },
    /// Not kept.
    Missing,
}

struct Entry<V, W> {
    value: Arc<V>,
    bytes: u64,
    validators: W,
    checked_at: Timestamp,
    /// Its place in the recency order.
    used: u64,
}

/// Prepared images by URL and shape, within an [`ImageCachePolicy`].
pub struct ImageCache<V, W> {
    policy: ImageCachePolicy,
    entries: HashMap<ImageKey, Entry<V, W>>,
    /// Keys by last use, oldest first.
    recency: BTreeMap<u64, ImageKey>,
    clock: u64,
    bytes: u64,
}

impl<V, W> std::fmt::Debug for ImageCache<V, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageCache")
            .field("policy", &self.policy)
            .field("entries", &self.entries.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl<V, W: Clone> ImageCache<V, W> {
    pub fn new(policy: ImageCachePolicy) -> Self {
        Self { policy, entries: HashMap::new(), recency: BTreeMap::new(), clock: 0, bytes: 0 }
    }

    pub fn policy(&self) -> ImageCachePolicy {
        self.policy
    }

    /// What is kept for `key` at `now`; a kept entry counts as just used.
    pub fn get(&mut self, key: &ImageKey, now: Timestamp) -> Lookup<V, W> {
        let fresh_for = self.policy.fresh_for_ms;
        let Some(used) = self.entries.get(key).map(|e| e.used) else { return Lookup::Missing };
        let used = self.touch(key, used);
        let Some(entry) = self.entries.get_mut(key) else { return Lookup::Missing };
        entry.used = used;
        if now.millis().saturating_sub(entry.checked_at.millis()) < fresh_for {
            Lookup::Fresh(Arc::clone(&entry.value))
        } else {
            Lookup::Stale { value: Arc::clone(&entry.value), validators: entry.validators.clone() }
        }
    }

    /// The origin said the kept image did not change: it is fresh again from `now`.
    pub fn confirm(&mut self, key: &ImageKey, now: Timestamp) -> Option<Arc<V>> {
        let entry = self.entries.get_mut(key)?;
        entry.checked_at = now;
        Some(Arc::clone(&entry.value))
    }

    /// Keeps `value` (`bytes` large) under `key`, replacing what was there, then lets the least
    /// recently used entries go until the total is within the capacity. A value larger than the
    /// whole capacity is not kept.
    pub fn insert(&mut self, key: ImageKey, value: Arc<V>, bytes: u64, validators: W, now: Timestamp) {
        self.remove(&key);
        if bytes > self.policy.capacity_bytes {
            return;
        }
        self.clock += 1;
        self.recency.insert(self.clock, key.clone());
        self.entries.insert(key, Entry { value, bytes, validators, checked_at: now, used: self.clock });
        self.bytes += bytes;
        while self.bytes > self.policy.capacity_bytes {
            let Some((_, oldest)) = self.recency.pop_first() else { break };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
    }

    /// Forgets `key` (its origin now fails or sends something else).
    pub fn remove(&mut self, key: &ImageKey) {
        if let Some(gone) = self.entries.remove(key) {
            self.recency.remove(&gone.used);
            self.bytes -= gone.bytes;
        }
    }

    /// Bytes of kept images.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Moves `key` (last used at `used`) to the newest end of the recency order.
    fn touch(&mut self, key: &ImageKey, used: u64) -> u64 {
        self.recency.remove(&used);
        self.clock += 1;
        self.recency.insert(self.clock, key.clone());
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn key(url: &str) -> ImageKey {
        ImageKey { url: url.into(), shape: Shape::Decoded }
    }

    fn etag(tag: &str) -> Option<String> {
        Some(tag.into())
    }

    fn cache(capacity_bytes: u64) -> ImageCache<&'static str, Option<String>> {
        ImageCache::new(ImageCachePolicy { capacity_bytes, fresh_for_ms: 5 * MINUTE })
    }

    #[test]
    fn an_entry_is_fresh_then_stale_then_fresh_again_when_confirmed() {
        let mut images = cache(100);
        images.insert(key("a"), Arc::new("A"), 10, etag("v1"), Timestamp(0));
        assert!(matches!(images.get(&key("a"), Timestamp(4 * MINUTE)), Lookup::Fresh(v) if *v == "A"));
        match images.get(&key("a"), Timestamp(5 * MINUTE)) {
            Lookup::Stale { value, validators } => assert_eq!((*value, validators), ("A", etag("v1"))),
            other => panic!("expected stale, got {other:?}"),
        }
        assert_eq!(images.confirm(&key("a"), Timestamp(5 * MINUTE)).as_deref(), Some(&"A"));
        assert!(matches!(images.get(&key("a"), Timestamp(9 * MINUTE)), Lookup::Fresh(_)));
        assert!(matches!(images.get(&key("b"), Timestamp(0)), Lookup::Missing));
        assert_eq!(images.confirm(&key("b"), Timestamp(0)), None);
    }

    #[test]
    fn the_shape_is_part_of_the_key() {
        let mut images = cache(100);
        let background = ImageKey { url: "a".into(), shape: Shape::Background { width: 930, height: 280, blur: 4 } };
        images.insert(background.clone(), Arc::new("blurred"), 10, None, Timestamp(0));
        assert!(matches!(images.get(&key("a"), Timestamp(0)), Lookup::Missing));
        let other = ImageKey { shape: Shape::Background { width: 930, height: 280, blur: 5 }, ..background.clone() };
        assert!(matches!(images.get(&other, Timestamp(0)), Lookup::Missing));
        assert!(matches!(images.get(&background, Timestamp(0)), Lookup::Fresh(v) if *v == "blurred"));
    }

    #[test]
    fn the_least_recently_used_leave_first_and_the_bytes_stay_within_capacity() {
        let mut images = cache(30);
        for (name, at) in [("a", 0), ("b", 1), ("c", 2)] {
            images.insert(key(name), Arc::new(name), 10, None, Timestamp(at));
        }
        // Using `a` makes `b` the oldest.
        assert!(matches!(images.get(&key("a"), Timestamp(3)), Lookup::Fresh(_)));
        images.insert(key("d"), Arc::new("d"), 10, None, Timestamp(4));
        assert!(matches!(images.get(&key("b"), Timestamp(5)), Lookup::Missing));
        assert_eq!((images.len(), images.bytes()), (3, 30));
        // A large entry pushes out as many as it needs.
        images.insert(key("e"), Arc::new("e"), 25, None, Timestamp(6));
        assert_eq!((images.len(), images.bytes()), (1, 25));
        assert!(matches!(images.get(&key("e"), Timestamp(7)), Lookup::Fresh(_)));
    }

    #[test]
    fn replacing_and_removing_keep_the_count_and_a_value_larger_than_the_cache_is_not_kept() {
        let mut images = cache(30);
        images.insert(key("a"), Arc::new("old"), 10, etag("v1"), Timestamp(0));
        images.insert(key("a"), Arc::new("new"), 20, etag("v2"), Timestamp(1));
        assert_eq!((images.len(), images.bytes()), (1, 20));
        images.insert(key("huge"), Arc::new("huge"), 31, None, Timestamp(2));
        assert!(matches!(images.get(&key("huge"), Timestamp(2)), Lookup::Missing));
        assert_eq!(images.bytes(), 20, "the refused value pushed nothing out");
        images.remove(&key("a"));
        assert!(images.is_empty());
        assert_eq!(images.bytes(), 0);
        let mut none = cache(0);
        none.insert(key("a"), Arc::new("a"), 1, None, Timestamp(0));
        assert!(none.is_empty(), "capacity 0 keeps nothing");
    }
}
