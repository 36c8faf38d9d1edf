//! Card production: fetch the images a card names (through the one safe fetcher), decode and render
//! them (garrison-render, on the studio's own render threads, a bounded number at once), encode
//! them in the format asked for (PNG, WebP or JPEG), and keep the file in object storage under a key
//! derived from the card's inputs and format, so an identical request reuses it.
//! No HTTP here: the handlers in `http/cards.rs` parse headers into cards and map [`CardError`]s.
//!
//! Budget ([`CardBudget`]): a card first takes an in-flight slot without waiting (503 when there is
//! none), then a render slot *before* fetching its images, so at most two images per render slot
//! are ever on the wire or being decoded. Images are kept decoded and shaped (a background
//! cover-scaled and blurred for its card size) in core's [`ImageCache`], bounded in bytes, and
//! revalidated with their host (`If-None-Match` / `If-Modified-Since`) once they are older than the
//! configured freshness: a server drawing cards for one guild fetches and decodes its background
//! once. A rendered card is answered at once and stored beside the answer by a bounded number of
//! background writes (skipped when all are busy: a card can be made again from its inputs). Stored
//! cards are kept by [`CardIndex`]: least recently used first out once their total passes the
//! configured size, deleted through the object store port (so the same rule holds on a local
//! directory and on S3). The index is rebuilt from a listing of the store on the first card after a
//! start.

use std::sync::{Arc, OnceLock, PoisonError};

use bytes::Bytes;
use futures_util::TryStreamExt;
use garrison_core::{
    Clock,
    cards::{
        CardBudget, CardFormat, CardId, CardIndex, CardKind, ImageFetchError, ImageSource, Revalidated, Validators,
    },
    image_cache::{ImageCache, ImageCachePolicy, ImageKey, Lookup, Shape},
    objects::{MAX_LIST_LIMIT, ObjectError, ObjectKey, ObjectPrefix, ObjectStore},
};
use garrison_render::{
    Background, DecodeLimits, DrawnCard, Encoding, Fonts, Image, LevelCard, PngCompression, WelcomeCard,
};
use tokio::sync::{Mutex, Semaphore};

use crate::render_threads::{RenderThreadError, RenderThreads};

/// Why a card was not made. `field` names the header the failure traces back to.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{field}: {source}")]
    Fetch { field: &'static str, source: ImageFetchError },
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
    /// The view URL's last segment.
    pub id: CardId,
    /// The encoded file, in `id.format()`.
    pub bytes: Bytes,
}

/// A stored card opened for reading.
pub struct OpenedCard {
    pub format: CardFormat,
    pub size: u64,
    pub bytes: garrison_core::objects::ByteStream,
}

impl std::fmt::Debug for OpenedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedCard").field("format", &self.format).field("size", &self.size).finish_non_exhaustive()
    }
}

/// An image as a card draws it, kept in the image cache.
#[derive(Debug)]
enum Prepared {
    /// Decoded (an avatar).
    Decoded(Image),
    /// Cover-scaled and blurred for one card size (a background).
    Background(Background),
}

impl Prepared {
    fn byte_size(&self) -> u64 {
        match self {
            Self::Decoded(image) => u64::from(image.width()) * u64::from(image.height()) * 4,
            Self::Background(background) => background.byte_size(),
        }
    }

    fn image(&self) -> Option<&Image> {
        match self {
            Self::Decoded(image) => Some(image),
            Self::Background(_) => None,
        }
    }

    fn background(&self) -> Option<&Background> {
        match self {
            Self::Background(background) => Some(background),
            Self::Decoded(_) => None,
        }
    }
}

/// One image a card needs: the header that named it, its URL and how the card shapes it.
#[derive(Debug, Clone, Copy)]
struct Wanted<'a> {
    field: &'static str,
    url: &'a str,
    shape: Shape,
}

/// The kept images, shared by every card in progress (locked briefly, never across an await).
type Images = Arc<std::sync::Mutex<ImageCache<Prepared, Validators>>>;

/// Background writes of rendered cards at once, per render slot; past it a card is answered but not
/// kept.
const STORES_PER_RENDER_SLOT: usize = 4;

/// Makes and keeps cards. Cheap to clone.
#[derive(Clone)]
pub struct CardStudio {
    images_from: Arc<dyn ImageSource>,
    objects: Arc<dyn ObjectStore>,
    /// Parsed on the first card, not at start: the parsed faces take tens of megabytes, which a
    /// server that never draws a card should not carry.
    fonts: Arc<OnceLock<Result<Fonts, String>>>,
    limits: DecodeLimits,
    /// How PNG cards are compressed.
    png: PngCompression,
    budget: CardBudget,
    /// Cards in progress, taken without waiting.
    in_flight: Arc<Semaphore>,
    /// Fetch-and-render slots: each holds two images, a canvas and decoded images, so this bounds
    /// memory and connections as well as CPU.
    rendering: Arc<Semaphore>,
    /// Where decoding, drawing and encoding run: one thread per render slot.
    threads: RenderThreads,
    /// Which stored cards to keep; `None` until built from a listing of the store.
    index: Arc<Mutex<Option<CardIndex>>>,
    /// Bytes of stored cards kept (0: no limit).
    store_limit_bytes: u64,
    /// Decoded and shaped images by URL and shape.
    images: Images,
    /// Background writes of rendered cards.
    storing: Arc<Semaphore>,
    /// Cards answered and being stored in the background, served from here until they are stored
    /// (at most one per background write).
    pending: Arc<std::sync::Mutex<std::collections::HashMap<ObjectKey, Bytes>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CardStudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardStudio").field("budget", &self.budget).field("images", &self.images).finish_non_exhaustive()
    }
}

impl CardStudio {
    pub fn new(
        images_from: Arc<dyn ImageSource>,
        objects: Arc<dyn ObjectStore>,
        budget: CardBudget,
        store_limit_bytes: u64,
        images: ImageCachePolicy,
        png: PngCompression,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let limits = DecodeLimits {
            max_input_bytes: usize::try_from(images_from.max_bytes()).unwrap_or(usize::MAX),
            ..DecodeLimits::default()
        };
        let fonts = Arc::new(OnceLock::new());
        // A slot decodes at most its two images at once, then draws: two jobs per slot at most.
        let threads = RenderThreads::start(budget.rendering, 2 * budget.rendering)?;
        Ok(Self {
            images_from,
            objects,
            fonts,
            limits,
            png,
            budget,
            in_flight: Arc::new(Semaphore::new(budget.in_flight)),
            rendering: Arc::new(Semaphore::new(budget.rendering)),
            threads,
            index: Arc::new(Mutex::new(None)),
            store_limit_bytes,
            images: Arc::new(std::sync::Mutex::new(ImageCache::new(images))),
            storing: Arc::new(Semaphore::new(budget.rendering * STORES_PER_RENDER_SLOT)),
            pending: Arc::default(),
            clock,
        })
    }

    pub fn allowed_hosts(&self) -> &[String] {
        self.images_from.allowed_hosts()
    }

    /// A level card with its avatar and optional background image, encoded as `format`.
    pub async fn level(
        &self,
        card: LevelCard,
        avatar_url: &str,
        background_url: Option<&str>,
        format: CardFormat,
    ) -> Result<StoredCard, CardError> {
        card.validate().map_err(CardError::Card)?;
        let id = CardId::of(CardKind::Level, format, &format!("{card:?}"), &[Some(avatar_url), background_url]);
        let shape = Shape::Background { width: card.width, height: card.height, blur: card.background.blur_radius };
        let images = [
            Some(Wanted { field: "Avatar-Url", url: avatar_url, shape: Shape::Decoded }),
            background_url.map(|url| Wanted { field: "Background-Url", url, shape }),
        ];
        self.produce(CardKind::Level, id, images, move |[avatar, background], fonts| {
            let avatar = avatar.as_deref().and_then(Prepared::image);
            let background = background.as_deref().and_then(Prepared::background);
            garrison_render::draw_level_card(&card, avatar, background, fonts)
        })
        .await
    }

    /// A welcome card with its background and avatar images, encoded as `format`.
    pub async fn welcome(
        &self,
        card: WelcomeCard,
        background_url: &str,
        avatar_url: &str,
        format: CardFormat,
    ) -> Result<StoredCard, CardError> {
        card.validate().map_err(CardError::Card)?;
        let id = CardId::of(CardKind::Welcome, format, &format!("{card:?}"), &[Some(background_url), Some(avatar_url)]);
        let shape = Shape::Background { width: card.width, height: card.height, blur: 0 };
        let images = [
            Some(Wanted { field: "Background-Image", url: background_url, shape }),
            Some(Wanted { field: "Profile-Avatar", url: avatar_url, shape: Shape::Decoded }),
        ];
        self.produce(CardKind::Welcome, id, images, move |[background, avatar], fonts| {
            let background = background.as_deref().and_then(Prepared::background);
            let avatar = avatar.as_deref().and_then(Prepared::image);
            match (background, avatar) {
                (Some(background), Some(avatar)) => {
                    garrison_render::draw_welcome_card(&card, avatar, background, fonts)
                }
                _ => Err(garrison_render::Error::InvalidImage("a welcome card needs both images".into())),
            }
        })
        .await
    }

    /// The encoder for cards in `format`.
    fn encoding(&self, format: CardFormat) -> Encoding {
        match format {
            CardFormat::Png => Encoding::Png(self.png),
            CardFormat::Webp => Encoding::WebP,
            CardFormat::Jpeg => Encoding::Jpeg,
        }
    }

    /// Reuses the stored card with this id, or gets its images (kept or fetched), draws and encodes
    /// it, answers and stores it beside the answer.
    async fn produce(
        &self,
        kind: CardKind,
        id: CardId,
        images: [Option<Wanted<'_>>; 2],
        draw: impl FnOnce([Option<Arc<Prepared>>; 2], &Fonts) -> garrison_render::Result<DrawnCard> + Send + 'static,
    ) -> Result<StoredCard, CardError> {
        let key = id.key(kind);
        let busy = || CardError::Busy { retry_after: self.budget.retry_after };
        let _in_flight = Arc::clone(&self.in_flight).try_acquire_owned().map_err(|_| busy())?;
        if let Some(bytes) = self.stored(&key).await? {
            return Ok(StoredCard { id, bytes });
        }
        // The render slot comes before the fetches: waiting cards hold no image.
        let _permit = match tokio::time::timeout(self.budget.queue_wait, self.rendering.acquire()).await {
            Ok(permit) => permit.map_err(|e| CardError::Internal(e.to_string()))?,
            Err(_waited) => return Err(busy()),
        };
        // The same card may have been made while this one waited.
        if let Some(bytes) = self.stored(&key).await? {
            return Ok(StoredCard { id, bytes });
        }
        let [first, second] = images;
        let (first, second) = futures_util::future::try_join(self.image(first), self.image(second)).await?;
        let fonts = Arc::clone(&self.fonts);
        let encoding = self.encoding(id.format());
        let bytes = self
            .threads
            .run(move || {
                let fonts = fonts
                    .get_or_init(|| Fonts::load().map_err(|e| e.to_string()))
                    .as_ref()
                    .map_err(|e| CardError::Internal(format!("cannot load the bundled fonts: {e}")))?;
                let drawn = draw([first, second], fonts).map_err(CardError::Card)?;
                drawn.encode(encoding).map_err(|e| CardError::Internal(e.to_string()))
            })
            .await
            .map_err(|e| self.thread_error(e))??;
        let bytes = Bytes::from(bytes);
        self.store(key, id.format(), bytes.clone()).await?;
        Ok(StoredCard { id, bytes })
    }

    /// A job that did not run: a full queue (jobs of cards whose callers left still ahead) is a
    /// busy server, anything else a bug.
    fn thread_error(&self, err: RenderThreadError) -> CardError {
        match err {
            RenderThreadError::Full => CardError::Busy { retry_after: self.budget.retry_after },
            RenderThreadError::Failed(message) => CardError::Internal(message),
        }
    }

    /// The image a card wants: kept and fresh; kept, and confirmed unchanged by its host; or fetched,
    /// decoded and shaped (on a render thread) and kept for the next card.
    async fn image(&self, wanted: Option<Wanted<'_>>) -> Result<Option<Arc<Prepared>>, CardError> {
        let Some(Wanted { field, url, shape }) = wanted else { return Ok(None) };
        let key = ImageKey { url: url.to_owned(), shape };
        let now = self.clock.now();
        let lookup = self.images.lock().unwrap_or_else(PoisonError::into_inner).get(&key, now);
        let (kept, known) = match lookup {
            Lookup::Fresh(value) => return Ok(Some(value)),
            Lookup::Stale { value, validators } => (Some(value), validators),
            Lookup::Missing => (None, Validators::default()),
        };
        let fetched = match self.images_from.fetch_unless(url, &known).await {
            Ok(Revalidated::NotModified) => {
                let confirmed = self.images.lock().unwrap_or_else(PoisonError::into_inner).confirm(&key, now);
                if let Some(value) = confirmed.or(kept) {
                    return Ok(Some(value));
                }
                // Only an image asked about with validators can be "not modified".
                let source = ImageFetchError::Unavailable("the image host answered 304".into());
                return Err(CardError::Fetch { field, source });
            }
            Ok(Revalidated::Modified(fetched)) => fetched,
            Err(source) => {
                self.images.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                return Err(CardError::Fetch { field, source });
            }
        };
        let limits = self.limits;
        let bytes = fetched.bytes;
        let prepared = self
            .threads
            .run(move || {
                Ok(match shape {
                    Shape::Decoded => Prepared::Decoded(garrison_render::decode_image(&bytes, &limits)?),
                    Shape::Background { width, height, blur } => {
                        // A large JPEG is decoded at the reduced scale the card needs.
                        let image = garrison_render::decode_background(&bytes, &limits, width, height, blur)?;
                        Prepared::Background(Background::prepare(&image, width, height, blur)?)
                    }
                })
            })
            .await
            .map_err(|e| self.thread_error(e))?
            .map_err(|source| CardError::Image { field, source })?;
        let prepared = Arc::new(prepared);
        let size = prepared.byte_size();
        self.images.lock().unwrap_or_else(PoisonError::into_inner).insert(
            key,
            Arc::clone(&prepared),
            size,
            fetched.validators,
            now,
        );
        Ok(Some(prepared))
    }

    /// Stores a rendered card, if it can, without holding up its answer: as one of a bounded number of
    /// background writes, during which the card is served from memory (so its view URL works at
    /// once); when all of those are busy, before answering (back-pressure, never a lost card).
    ///
    /// The card is indexed before it is written, so which cards expire follows the order of the
    /// answers; expired cards are deleted after the write.
    async fn store(&self, key: ObjectKey, format: CardFormat, bytes: Bytes) -> Result<(), CardError> {
        let expired = self.kept(key.clone(), bytes.len() as u64).await;
        let Ok(permit) = Arc::clone(&self.storing).try_acquire_owned() else {
            self.objects.put(&key, bytes, format.content_type()).await?;
            self.delete(expired).await;
            return Ok(());
        };
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone(), bytes.clone());
        let studio = self.clone();
        actix_web::rt::spawn(async move {
            let _permit = permit;
            let stored = studio.objects.put(&key, bytes, format.content_type()).await;
            studio.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
            if let Err(err) = stored {
                tracing::warn!(error = %err, "cannot keep a rendered card");
            }
            studio.delete(expired).await;
        });
        Ok(())
    }

    /// A card answered but still being stored.
    fn pending(&self, key: &ObjectKey) -> Option<Bytes> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
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

    /// Records a card being stored; the least recently used cards past the size limit, to delete.
    async fn kept(&self, key: ObjectKey, size: u64) -> Vec<ObjectKey> {
        match self.index().await {
            Ok(mut index) => index
                .as_mut()
                .map(|index| {
                    index.record(key, size);
                    index.evict()
                })
                .unwrap_or_default(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot index stored cards; none expire until it can");
                Vec::new()
            }
        }
    }

    /// Deletes expired cards.
    async fn delete(&self, expired: Vec<ObjectKey>) {
        for key in expired {
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

    /// The stored card under `key`, if there is one.
    async fn stored(&self, key: &ObjectKey) -> Result<Option<Bytes>, CardError> {
        if let Some(png) = self.pending(key) {
            return Ok(Some(png));
        }
        let body = match self.objects.get(key).await {
            Ok(body) => body,
            Err(ObjectError::NotFound(_)) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let chunks: Vec<Bytes> = body.bytes.try_collect().await?;
        self.used(key, body.meta.size).await;
        Ok(Some(chunks.concat().into()))
    }

    /// A stored card's bytes as a stream, for the view routes; `None` when `id` is not a card id or
    /// there is no such card.
    pub async fn open(&self, kind: CardKind, id: &str) -> Result<Option<OpenedCard>, CardError> {
        let Some(id) = CardId::parse(id) else { return Ok(None) };
        let (key, format) = (id.key(kind), id.format());
        if let Some(card) = self.pending(&key) {
            let size = card.len() as u64;
            let bytes: garrison_core::objects::ByteStream = Box::pin(futures_util::stream::iter([Ok(card)]));
            return Ok(Some(OpenedCard { format, size, bytes }));
        }
        match self.objects.get(&key).await {
            Ok(body) => {
                self.used(&key, body.meta.size).await;
                Ok(Some(OpenedCard { format, size: body.meta.size, bytes: body.bytes }))
            }
            Err(ObjectError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn after_a_restart_the_oldest_stored_cards_expire_first() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let objects: Arc<dyn ObjectStore> =
            Arc::new(garrison_storage::FsObjectStore::open(dir.path()).expect("local store"));
        let key = |kind, n: u8| CardId::parse(&format!("{n:032x}")).expect("card id").key(kind);
        // Three cards stored by an earlier run, oldest first, and one object that is not a card.
        for n in 1..=3 {
            let key = key(CardKind::Level, n);
            objects.put(&key, Bytes::from(vec![n; 100]), "image/png").await.expect("put");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let other = ObjectKey::parse("modlogs/1.json").expect("key");
        objects.put(&other, Bytes::from(vec![0; 1000]), "application/json").await.expect("put");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fetcher = garrison_fetch::SafeFetcher::new(garrison_fetch::FetchPolicy::default()).expect("fetcher");
        let studio = CardStudio::new(
            Arc::new(crate::adapters::FetchedImages(fetcher)),
            Arc::clone(&objects),
            CardBudget::new(1, 1),
            300,
            ImageCachePolicy::default(),
            PngCompression::Fast,
            crate::wiring::clock(),
        )
        .expect("render threads");
        // A new card: the index is rebuilt from the store's listing, and the oldest card makes room.
        let new = key(CardKind::Welcome, 4);
        objects.put(&new, Bytes::from(vec![4; 100]), "image/png").await.expect("put");
        let expired = studio.kept(new.clone(), 100).await;
        studio.delete(expired).await;
        let present = |key: ObjectKey| {
            let objects = Arc::clone(&objects);
            async move { objects.head(&key).await.expect("head").is_some() }
        };
        assert!(!present(key(CardKind::Level, 1)).await);
        assert!(present(key(CardKind::Level, 2)).await);
        assert!(present(key(CardKind::Level, 3)).await);
        assert!(present(new).await);
        assert!(present(other).await, "only cards are ever expired");
    }
}
