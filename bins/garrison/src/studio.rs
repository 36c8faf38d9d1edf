//! Card production: fetch the images a card names (through the one safe fetcher), decode and render
//! them (garrison-render, on a blocking thread, a bounded number at once), and keep the PNG in
//! object storage under a key derived from the card's inputs, so an identical request reuses it.
//! No HTTP here: the handlers in `http/cards.rs` parse headers into cards and map [`CardError`]s.
//!
//! Budget ([`CardBudget`]): a card first takes an in-flight slot without waiting (503 when there is
//! none), then a render slot *before* fetching its images, so at most two images per render slot
//! are ever in memory or on the wire. Stored cards are kept by [`CardIndex`]: least recently used
//! first out once their total passes the configured size, deleted through the object store port
//! (so the same rule holds on a local directory and on S3). The index is rebuilt from a listing of
//! the store on the first card after a start.

use std::{
    fmt::Write as _,
    sync::{Arc, OnceLock},
};

use bytes::Bytes;
use futures_util::TryStreamExt;
use garrison_core::{
    cards::{CardBudget, CardIndex},
    objects::{MAX_LIST_LIMIT, ObjectError, ObjectKey, ObjectPrefix, ObjectStore},
};
use garrison_fetch::{FetchError, SafeFetcher};
use garrison_render::{DecodeLimits, Fonts, Image, LevelCard, WelcomeCard};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, Semaphore};

/// Which card, for keys and view URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Level,
    Welcome,
}

impl CardKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Level => "cards/level",
            Self::Welcome => "cards/welcome",
        }
    }
}

/// Why a card was not made. `field` names the header the failure traces back to.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{field}: {source}")]
    Fetch { field: &'static str, source: FetchError },
    #[error("{field}: {source}")]
    Image { field: &'static str, source: garrison_render::Error },
    /// The card's description breaks a rendering rule (size, opacity, text length).
    #[error("{0}")]
    Card(garrison_render::Error),
    #[error("{0}")]
    Store(#[from] ObjectError),
    /// Too many cards in progress: try again after `retry_after`.
    #[error("Too many cards are being made; try again shortly.")]
    Busy { retry_after: std::time::Duration },
    /// The rendering thread failed (a bug).
    #[error("rendering failed: {0}")]
    Internal(String),
}

/// A card in object storage.
#[derive(Debug, Clone)]
pub struct StoredCard {
    /// 32 lowercase hex digits; the view URL's last segment.
    pub id: String,
    pub png: Bytes,
}

/// Whether `id` has the shape of a card id (so a view request never builds a key from raw input).
pub fn is_card_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The object key of a card; `None` when `id` is not a card id.
pub fn card_key(kind: CardKind, id: &str) -> Option<ObjectKey> {
    is_card_id(id).then(|| ObjectKey::parse(&format!("{}/{id}.png", kind.prefix())).ok()).flatten()
}

/// Everything that decides a card's pixels, hashed: the card's description, the image URLs and the
/// renderer's version. Two requests with the same inputs get the same id, and so the same stored PNG.
fn card_id(kind: CardKind, description: &str, urls: &[Option<&str>]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{kind:?}\n{}\n{description}\n", env!("CARGO_PKG_VERSION")));
    for url in urls {
        hasher.update(url.unwrap_or("-"));
        hasher.update(b"\n");
    }
    hasher.finalize()[..16].iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Makes and keeps cards. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CardStudio {
    fetcher: SafeFetcher,
    objects: Arc<dyn ObjectStore>,
    /// Parsed on the first card, not at start: the parsed faces take tens of megabytes, which a
    /// server that never draws a card should not carry.
    fonts: Arc<OnceLock<Result<Fonts, String>>>,
    limits: DecodeLimits,
    budget: CardBudget,
    /// Cards in progress, taken without waiting.
    in_flight: Arc<Semaphore>,
    /// Fetch-and-render slots: each holds two images, a canvas and decoded images, so this bounds
    /// memory and connections as well as CPU.
    rendering: Arc<Semaphore>,
    /// Which stored cards to keep; `None` until built from a listing of the store.
    index: Arc<Mutex<Option<CardIndex>>>,
    /// Bytes of stored cards kept (0: no limit).
    store_limit_bytes: u64,
}

impl CardStudio {
    pub fn new(
        fetcher: SafeFetcher,
        objects: Arc<dyn ObjectStore>,
        budget: CardBudget,
        store_limit_bytes: u64,
    ) -> Self {
        let limits = DecodeLimits {
            max_input_bytes: usize::try_from(fetcher.policy().max_bytes).unwrap_or(usize::MAX),
            ..DecodeLimits::default()
        };
        let fonts = Arc::new(OnceLock::new());
        Self {
            fetcher,
            objects,
            fonts,
            limits,
            budget,
            in_flight: Arc::new(Semaphore::new(budget.in_flight)),
            rendering: Arc::new(Semaphore::new(budget.rendering)),
            index: Arc::new(Mutex::new(None)),
            store_limit_bytes,
        }
    }

    pub fn allowed_hosts(&self) -> &[String] {
        &self.fetcher.policy().allowed_hosts
    }

    /// A level card with its avatar and optional background image.
    pub async fn level(
        &self,
        card: LevelCard,
        avatar_url: &str,
        background_url: Option<&str>,
    ) -> Result<StoredCard, CardError> {
        card.validate().map_err(CardError::Card)?;
        let id = card_id(CardKind::Level, &format!("{card:?}"), &[Some(avatar_url), background_url]);
        let images = [("Avatar-Url", Some(avatar_url)), ("Background-Url", background_url)];
        self.produce(CardKind::Level, id, images, move |[avatar, background], fonts| {
            garrison_render::render_level_card(&card, avatar.as_ref(), background.as_ref(), fonts)
        })
        .await
    }

    /// A welcome card with its background and avatar images.
    pub async fn welcome(
        &self,
        card: WelcomeCard,
        background_url: &str,
        avatar_url: &str,
    ) -> Result<StoredCard, CardError> {
        card.validate().map_err(CardError::Card)?;
        let id = card_id(CardKind::Welcome, &format!("{card:?}"), &[Some(background_url), Some(avatar_url)]);
        let images = [("Background-Image", Some(background_url)), ("Profile-Avatar", Some(avatar_url))];
        self.produce(CardKind::Welcome, id, images, move |[background, avatar], fonts| match (background, avatar) {
            (Some(background), Some(avatar)) => {
                garrison_render::render_welcome_card(&card, &avatar, &background, fonts)
            }
            _ => Err(garrison_render::Error::InvalidImage("a welcome card needs both images".into())),
        })
        .await
    }

    /// Reuses the stored card with this id, or fetches the images, renders and stores it.
    async fn produce(
        &self,
        kind: CardKind,
        id: String,
        images: [(&'static str, Option<&str>); 2],
        render: impl FnOnce([Option<Image>; 2], &Fonts) -> garrison_render::Result<Vec<u8>> + Send + 'static,
    ) -> Result<StoredCard, CardError> {
        let key = card_key(kind, &id).ok_or_else(|| CardError::Internal(format!("bad card id {id}")))?;
        let busy = || CardError::Busy { retry_after: self.budget.retry_after };
        let _in_flight = Arc::clone(&self.in_flight).try_acquire_owned().map_err(|_| busy())?;
        if let Some(png) = self.stored(&key).await? {
            return Ok(StoredCard { id, png });
        }
        // The render slot comes before the fetches: waiting cards hold no image.
        let _permit = match tokio::time::timeout(self.budget.queue_wait, self.rendering.acquire()).await {
            Ok(permit) => permit.map_err(|e| CardError::Internal(e.to_string()))?,
            Err(_waited) => return Err(busy()),
        };
        // The same card may have been made while this one waited.
        if let Some(png) = self.stored(&key).await? {
            return Ok(StoredCard { id, png });
        }
        let [(first_field, first_url), (second_field, second_url)] = images;
        let (first, second) =
            futures_util::future::try_join(self.fetch(first_field, first_url), self.fetch(second_field, second_url))
                .await?;
        let (limits, fonts) = (self.limits, Arc::clone(&self.fonts));
        let png = actix_web::rt::task::spawn_blocking(move || {
            let decode = |field: &'static str, bytes: Option<Vec<u8>>| {
                bytes
                    .map(|bytes| garrison_render::decode_image(&bytes, &limits))
                    .transpose()
                    .map_err(|source| CardError::Image { field, source })
            };
            let images = [decode(first_field, first)?, decode(second_field, second)?];
            let fonts = fonts
                .get_or_init(|| Fonts::load().map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| CardError::Internal(format!("cannot load the bundled fonts: {e}")))?;
            render(images, fonts).map_err(CardError::Card)
        })
        .await
        .map_err(|e| CardError::Internal(e.to_string()))??;
        let png = Bytes::from(png);
        self.objects.put(&key, png.clone(), "image/png").await?;
        self.kept(key, png.len() as u64).await;
        Ok(StoredCard { id, png })
    }

    /// The index of stored cards, built from a listing of the store the first time.
    async fn index(&self) -> Result<tokio::sync::MutexGuard<'_, Option<CardIndex>>, CardError> {
        let mut index = self.index.lock().await;
        if index.is_none() {
            let prefix = ObjectPrefix::parse("cards/")?;
            let mut stored = Vec::new();
            let mut after = None;
            loop {
                let page = self.objects.list(&prefix, after.as_ref(), MAX_LIST_LIMIT).await?;
                stored.extend(page.objects.into_iter().map(|o| (o.key, o.size, o.last_modified.millis())));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let rebuilt = CardIndex::rebuilt(self.store_limit_bytes, stored);
            tracing::info!(cards = rebuilt.len(), bytes = rebuilt.total_bytes(), "stored cards indexed");
            *index = Some(rebuilt);
        }
        Ok(index)
    }

    /// Records a card just stored and deletes the least recently used ones past the size limit.
    async fn kept(&self, key: ObjectKey, size: u64) {
        let evicted = match self.index().await {
            Ok(mut index) => index.as_mut().map(|index| {
                index.record(key, size);
                index.evict()
            }),
            Err(err) => {
                tracing::warn!(error = %err, "cannot index stored cards; none expire until it can");
                None
            }
        };
        for key in evicted.unwrap_or_default() {
            if let Err(err) = self.objects.delete(&key).await {
                tracing::warn!(error = %err, %key, "cannot delete an expired card");
            }
        }
    }

    /// Marks a stored card as just used (read); one the index did not know (stored by another
    /// server sharing the store) is counted from now on.
    async fn used(&self, key: &ObjectKey, size: u64) {
        if let Ok(mut index) = self.index().await
            && let Some(index) = index.as_mut()
            && !index.touch(key)
        {
            index.record(key.clone(), size);
        }
    }

    async fn fetch(&self, field: &'static str, url: Option<&str>) -> Result<Option<Vec<u8>>, CardError> {
        match url {
            None => Ok(None),
            Some(url) => self.fetcher.fetch(url).await.map(Some).map_err(|source| CardError::Fetch { field, source }),
        }
    }

    /// The stored PNG under `key`, if there is one.
    async fn stored(&self, key: &ObjectKey) -> Result<Option<Bytes>, CardError> {
        let body = match self.objects.get(key).await {
            Ok(body) => body,
            Err(ObjectError::NotFound(_)) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let chunks: Vec<Bytes> = body.bytes.try_collect().await?;
        self.used(key, body.meta.size).await;
        Ok(Some(chunks.concat().into()))
    }

    /// A stored card's bytes as a stream, for the view routes; `None` when there is no such card.
    pub async fn open(
        &self,
        kind: CardKind,
        id: &str,
    ) -> Result<Option<(u64, garrison_core::objects::ByteStream)>, CardError> {
        let Some(key) = card_key(kind, id) else { return Ok(None) };
        match self.objects.get(&key).await {
            Ok(body) => {
                self.used(&key, body.meta.size).await;
                Ok(Some((body.meta.size, body.bytes)))
            }
            Err(ObjectError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_ids_depend_on_every_input() {
        let a = card_id(CardKind::Level, "card", &[Some("https://a/x.png"), None]);
        assert!(is_card_id(&a), "{a}");
        assert_eq!(a, card_id(CardKind::Level, "card", &[Some("https://a/x.png"), None]));
        assert_ne!(a, card_id(CardKind::Welcome, "card", &[Some("https://a/x.png"), None]));
        assert_ne!(a, card_id(CardKind::Level, "card2", &[Some("https://a/x.png"), None]));
        assert_ne!(a, card_id(CardKind::Level, "card", &[Some("https://a/y.png"), None]));
        assert_ne!(a, card_id(CardKind::Level, "card", &[Some("https://a/x.png"), Some("https://a/b.png")]));
    }

    #[tokio::test]
    async fn after_a_restart_the_oldest_stored_cards_expire_first() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let objects: Arc<dyn ObjectStore> =
            Arc::new(garrison_storage::FsObjectStore::open(dir.path()).expect("local store"));
        let id = |n: u8| format!("{n:032x}");
        // Three cards stored by an earlier run, oldest first, and one object that is not a card.
        for n in 1..=3 {
            let key = card_key(CardKind::Level, &id(n)).expect("card key");
            objects.put(&key, Bytes::from(vec![n; 100]), "image/png").await.expect("put");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let other = ObjectKey::parse("modlogs/1.json").expect("key");
        objects.put(&other, Bytes::from(vec![0; 1000]), "application/json").await.expect("put");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fetcher = SafeFetcher::new(garrison_fetch::FetchPolicy::default()).expect("fetcher");
        let studio = CardStudio::new(fetcher, Arc::clone(&objects), CardBudget::new(1, 1), 300);
        // A new card: the index is rebuilt from the store's listing, and the oldest card makes room.
        let new = card_key(CardKind::Welcome, &id(4)).expect("card key");
        objects.put(&new, Bytes::from(vec![4; 100]), "image/png").await.expect("put");
        studio.kept(new.clone(), 100).await;
        let present = |key: ObjectKey| {
            let objects = Arc::clone(&objects);
            async move { objects.head(&key).await.expect("head").is_some() }
        };
        assert!(!present(card_key(CardKind::Level, &id(1)).expect("key")).await);
        assert!(present(card_key(CardKind::Level, &id(2)).expect("key")).await);
        assert!(present(card_key(CardKind::Level, &id(3)).expect("key")).await);
        assert!(present(new).await);
        assert!(present(other).await, "only cards are ever expired");
    }

    #[test]
    fn view_ids_are_checked_before_they_become_keys() {
        assert!(card_key(CardKind::Level, "0123456789abcdef0123456789abcdef").is_some());
        for bad in ["", "../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde"] {
            assert!(card_key(CardKind::Level, bad).is_none(), "{bad}");
        }
    }
}
