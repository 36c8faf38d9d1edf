//! Card rules: how non-ASCII text arrives in HTTP headers (Base64 or double URL encoding, detected
//! automatically, as Noctra's encoding guide describes) and which characters are stripped as emoji
//! before drawing; which hosts images come from by default; how a card's inputs become its id and
//! its object key (in the format asked for); the budget of card work; which stored cards are kept; and the [`ImageSource`]
//! port through which a card's images are fetched (conditionally, with the host's validators).

use std::{future::Future, pin::Pin};

use base64::Engine;

/// How a header's text was encoded by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// Plain ASCII (or raw UTF-8 bytes), used as sent.
    Plain,
    /// Base64 of UTF-8, with the explicit `base64:` prefix or detected.
    Base64,
    /// Percent-encoded UTF-8, once or twice.
    UrlEncoded,
}

/// The encodings [`decode_header_text`] understands, for the encoding guide.
pub const ENCODING_METHODS: [(&str, &str); 3] = [
    (
        "base64",
        "Recommended. Send Base64 of the UTF-8 text, optionally prefixed with `base64:` (the prefix makes detection certain).",
    ),
    (
        "double-url-encoding",
        "Fallback. Percent-encode the UTF-8 text twice (`П` -> `%D0%9F` -> `%25D0%259F`); once also works.",
    ),
    (
        "plain",
        "ASCII text as is. Raw UTF-8 header bytes are accepted too, though many HTTP clients refuse to send them.",
    ),
];

/// The header text as the client meant it. Rules, in order:
/// 1. `base64:` prefix: the rest is Base64 of UTF-8 (an invalid payload is an error).
/// 2. Percent escapes (`%XX`): decoded, twice at most, while escapes remain and the result is UTF-8.
/// 3. Text that is entirely valid Base64 (length a multiple of 4, at least 8 characters) and decodes to
///    printable UTF-8 containing at least one non-ASCII character: decoded. Plain ASCII names like
///    `JohnDoe1` stay as they are; a client that Base64-encodes ASCII-only text should use the prefix.
/// 4. Otherwise the bytes, as UTF-8.
///
/// Returns `None` when the bytes cannot be made into text (for instance a broken `base64:` payload).
pub fn decode_header_text(raw: &[u8]) -> Option<(String, TextEncoding)> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if let Some(payload) = text.strip_prefix("base64:") {
        return Some((base64_text(payload.trim())?, TextEncoding::Base64));
    }
    if has_percent_escape(text) {
        let mut decoded = text.to_owned();
        for _ in 0..2 {
            if !has_percent_escape(&decoded) {
                break;
            }
            match percent_encoding::percent_decode_str(&decoded).decode_utf8() {
                Ok(next) => decoded = next.into_owned(),
                Err(_) => break,
            }
        }
        return Some((decoded, TextEncoding::UrlEncoded));
    }
    if looks_like_base64(text)
        && let Some(decoded) = base64_text(text)
        && !decoded.is_ascii()
    {
        return Some((decoded, TextEncoding::Base64));
    }
    Some((text.to_owned(), TextEncoding::Plain))
}

fn base64_text(payload: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(payload))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

fn looks_like_base64(text: &str) -> bool {
    text.len() >= 8
        && text.len().is_multiple_of(4)
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

fn has_percent_escape(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// Code points drawn as emoji by default (Unicode's `Emoji_Presentation`) outside the emoji planes'
/// blocks, which [`is_emoji`] covers wholesale.
const EMOJI_PRESENTATION_BMP: &[(u32, u32)] = &[
    (0x231A, 0x231B),
    (0x23E9, 0x23EC),
    (0x23F0, 0x23F0),
    (0x23F3, 0x23F3),
    (0x25FD, 0x25FE),
    (0x2614, 0x2615),
    (0x2648, 0x2653),
    (0x267F, 0x267F),
    (0x2693, 0x2693),
    (0x26A1, 0x26A1),
    (0x26AA, 0x26AB),
    (0x26BD, 0x26BE),
    (0x26C4, 0x26C5),
    (0x26CE, 0x26CE),
    (0x26D4, 0x26D4),
    (0x26EA, 0x26EA),
    (0x26F2, 0x26F3),
    (0x26F5, 0x26F5),
    (0x26FA, 0x26FA),
    (0x26FD, 0x26FD),
    (0x2705, 0x2705),
    (0x270A, 0x270B),
    (0x2728, 0x2728),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2795, 0x2797),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
];

/// Whether `c` is an emoji by itself: the emoji blocks of plane 1 (U+1F000-U+1FAFF: pictographs,
/// emoticons, transport, flags' regional indicators, skin tones) and the BMP characters with default
/// emoji presentation.
fn is_emoji(c: char) -> bool {
    let code = u32::from(c);
    (0x1F000..=0x1FAFF).contains(&code)
        || EMOJI_PRESENTATION_BMP.iter().any(|&(first, last)| (first..=last).contains(&code))
}

/// Invisible characters that only join or style emoji: variation selectors, the zero-width joiner,
/// the combining keycap and tag characters (subdivision flags).
fn is_emoji_modifier(c: char) -> bool {
    matches!(u32::from(c), 0xFE0E | 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
}

/// Removes emoji from card text: emoji characters, any character turned into an emoji by a
/// following U+FE0F (`❤️`, keycaps like `1️⃣`), and the joiners and selectors between them. Runs of
/// spaces left behind collapse to one, and the ends are trimmed. Symbols drawn as text (`★`, `♥`
/// without U+FE0F, `✓`) stay: the bundled fonts draw them.
pub fn strip_emoji(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut kept = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let styled_as_emoji = chars.get(i + 1) == Some(&'\u{FE0F}');
        if is_emoji(c) || is_emoji_modifier(c) || styled_as_emoji {
            continue;
        }
        if c == ' ' && (kept.is_empty() || kept.ends_with(' ')) {
            continue;
        }
        kept.push(c);
    }
    kept.trim_end().to_owned()
}

/// The hosts the specifications allow card images from by default (Discord's CDN, imgur, imgbb), and
/// Roblox's image host (headshots, from `GET /api/roblox/user`); `GARRISON_FETCH_ALLOWED_HOSTS`
/// replaces them.
pub const IMAGE_HOSTS: [&str; 5] =
    ["cdn.discordapp.com", "media.discordapp.net", "i.imgur.com", "i.ibb.co", "tr.rbxcdn.com"];

/// Which card, for ids, keys and view URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    Level,
    Welcome,
}

impl CardKind {
    /// Where this kind's cards are kept in object storage.
    fn prefix(self) -> &'static str {
        match self {
            Self::Level => "cards/level",
            Self::Welcome => "cards/welcome",
        }
    }
}

/// The file format a card is encoded in, chosen by the `Format` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CardFormat {
    /// Lossless, with transparency; what the specification's cards are.
    #[default]
    Png,
    /// Lossless WebP, with transparency: the same pixels in a smaller file. Discord shows it inline.
    Webp,
    /// Lossy, no transparency (the rounded corners are filled): the smallest file.
    Jpeg,
}

impl CardFormat {
    /// The formats, for messages and documentation.
    pub const ALL: [Self; 3] = [Self::Png, Self::Webp, Self::Jpeg];

    /// `png`, `webp`, `jpeg` or `jpg`, any case, surrounding spaces ignored.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            "jpeg" | "jpg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    /// The format's name in answers: `png`, `webp` or `jpeg`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg => "jpeg",
        }
    }

    /// The file extension of stored cards and view URLs.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Jpeg => "jpg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// A card's id: a hash of everything that decides its pixels ([`CardId::of`]) and the format it is
/// encoded in. Written as 32 lowercase hex digits for a PNG (the form the first release answered,
/// so its view URLs keep working) and with the format's extension otherwise
/// (`0f8e...4e.webp`, `0f8e...4e.jpg`); parsed from either form, and from `{hex}.png` too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardId {
    hash: crate::view_id::ViewId,
    format: CardFormat,
}

impl CardId {
    /// The id of a card of `kind` encoded as `format`, from its description, the image URLs and the
    /// release (whose renderer drew it). Two requests with the same inputs get the same id, and so
    /// the same stored card; the same card in two formats shares the hash.
    pub fn of(kind: CardKind, format: CardFormat, description: &str, urls: &[Option<&str>]) -> Self {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("{kind:?}\n{}\n{description}\n", env!("CARGO_PKG_VERSION")));
        for url in urls {
            hasher.update(url.unwrap_or("-"));
            hasher.update(b"\n");
        }
        let mut hash = [0; 16];
        hash.copy_from_slice(&hasher.finalize()[..16]);
        Self { hash: crate::view_id::ViewId::from_bytes(hash), format }
    }

    /// An id as [`Display`](std::fmt::Display) writes it (or with `.png`); `None` for anything
    /// else, so a view request never builds a key from raw input.
    pub fn parse(text: &str) -> Option<Self> {
        let (hex, format) = match text.split_once('.') {
            None => (text, CardFormat::Png),
            Some((hex, "png")) => (hex, CardFormat::Png),
            Some((hex, "webp")) => (hex, CardFormat::Webp),
            Some((hex, "jpg" | "jpeg")) => (hex, CardFormat::Jpeg),
            Some(_) => return None,
        };
        Some(Self { hash: crate::view_id::ViewId::parse_exact(hex)?, format })
    }

    pub fn format(&self) -> CardFormat {
        self.format
    }

    /// Where the card is kept: `cards/level/{hex}.png`, `cards/welcome/{hex}.webp`, ...
    pub fn key(&self, kind: CardKind) -> crate::objects::ObjectKey {
        let key = format!("{}/{}.{}", kind.prefix(), self.hash, self.format.extension());
        crate::objects::ObjectKey::parse(&key).unwrap_or_else(|_| unreachable!("a card key is a valid key: {key}"))
    }
}

impl std::fmt::Display for CardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.hash)?;
        match self.format {
            CardFormat::Png => Ok(()),
            other => write!(f, ".{}", other.extension()),
        }
    }
}

/// What an image's host said about the version it sent, to ask later whether it changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

/// An image's bytes as its host sent them, with its validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    pub bytes: Vec<u8>,
    pub validators: Validators,
}

/// What a conditional fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revalidated {
    /// The version the validators describe is still current.
    NotModified,
    /// A body: the first, or a newer version.
    Modified(FetchedImage),
}

/// Why a card's image could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageFetchError {
    /// The URL is not one that may be fetched (scheme, host, port, address), or the file is too
    /// large: the caller's fault.
    #[error("{0}")]
    Refused(String),
    /// The host did not answer, or answered with an error.
    #[error("{0}")]
    Unavailable(String),
}

/// A boxed future of [`ImageSource::fetch_unless`].
pub type ImageFuture<'a> = Pin<Box<dyn Future<Output = Result<Revalidated, ImageFetchError>> + Send + 'a>>;

/// Where card images come from: URLs a caller supplied, fetched safely (HTTPS, allowed hosts,
/// public addresses, size- and time-capped).
pub trait ImageSource: Send + Sync {
    /// The image at `url`, unless `known` (validators from an earlier fetch) still describe it.
    fn fetch_unless<'a>(&'a self, url: &'a str, known: &'a Validators) -> ImageFuture<'a>;
    /// The hosts images may come from.
    fn allowed_hosts(&self) -> &[String];
    /// The largest image file fetched, in bytes.
    fn max_bytes(&self) -> u64;
}

/// How much card work the server takes on at once: cards in progress (waiting for a render slot,
/// fetching, rendering, storing, or reading a stored card) are at most `in_flight`; more are refused
/// at once with 503 and `Retry-After`, so a flood of distinct cards costs a refusal each, not a
/// fetch each. Of those, `rendering` hold a render slot, taken *before* the images are fetched: at
/// most `2 x rendering` images are in memory or on the wire at any time. A card waits at most
/// `queue_wait` for a render slot (503 past it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardBudget {
    pub rendering: usize,
    pub in_flight: usize,
    pub queue_wait: std::time::Duration,
    pub retry_after: std::time::Duration,
}

impl CardBudget {
    /// `rendering` render slots (one per core by default) and `in_flight` cards in progress in all
    /// (at least as many as render slots). A card waits up to 10 s for a slot: two slow image
    /// hosts' worth of fetching ahead of it.
    pub fn new(rendering: usize, in_flight: usize) -> Self {
        let rendering = rendering.max(1);
        Self {
            rendering,
            in_flight: in_flight.max(rendering),
            queue_wait: std::time::Duration::from_secs(10),
            retry_after: std::time::Duration::from_secs(2),
        }
    }
}

/// Which stored cards to keep: an index of every stored card with its size and when it was last
/// used (made or read), evicting the least recently used once the total passes a byte limit. The
/// index lives in memory, in front of whichever object store holds the cards; after a restart it is
/// rebuilt from a listing of the store, with each card's last-modified time standing for its last
/// use ([`CardIndex::rebuilt`]).
///
/// Uses are ordered by a counter, not a clock, so two uses in the same millisecond still order.
#[derive(Debug, Clone, Default)]
pub struct CardIndex {
    limit_bytes: u64,
    total_bytes: u64,
    next_use: u64,
    /// key -> (size, use)
    entries: std::collections::HashMap<crate::objects::ObjectKey, (u64, u64)>,
    /// use -> key, oldest first
    by_use: std::collections::BTreeMap<u64, crate::objects::ObjectKey>,
}

impl CardIndex {
    /// An empty index keeping at most `limit_bytes` of cards (0: no limit).
    pub fn new(limit_bytes: u64) -> Self {
        Self { limit_bytes, ..Self::default() }
    }

    /// The index of cards already stored (`(key, size, last_modified_millis)`), oldest use first
    /// by last-modified time, ties by key.
    pub fn rebuilt(limit_bytes: u64, stored: impl IntoIterator<Item = (crate::objects::ObjectKey, u64, i64)>) -> Self {
        let mut stored: Vec<_> = stored.into_iter().collect();
        stored.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        let mut index = Self::new(limit_bytes);
        for (key, size, _) in stored {
            index.record(key, size);
        }
        index
    }

    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, key: &crate::objects::ObjectKey) -> bool {
        self.entries.contains_key(key)
    }

    /// A card of `size` bytes was stored under `key` (replacing any entry): it is now the most
    /// recently used.
    pub fn record(&mut self, key: crate::objects::ObjectKey, size: u64) {
        self.forget(&key);
        let use_ = self.bump();
        self.total_bytes = self.total_bytes.saturating_add(size);
        self.by_use.insert(use_, key.clone());
        self.entries.insert(key, (size, use_));
    }

    /// The card under `key` was read: it becomes the most recently used. `false` if the index does
    /// not know it.
    pub fn touch(&mut self, key: &crate::objects::ObjectKey) -> bool {
        let Some((_, old_use)) = self.entries.get(key).copied() else { return false };
        let use_ = self.bump();
        self.by_use.remove(&old_use);
        self.by_use.insert(use_, key.clone());
        if let Some(entry) = self.entries.get_mut(key) {
            entry.1 = use_;
        }
        true
    }

    /// Drops `key` from the index (the card is gone from the store).
    pub fn forget(&mut self, key: &crate::objects::ObjectKey) {
        if let Some((size, use_)) = self.entries.remove(key) {
            self.total_bytes = self.total_bytes.saturating_sub(size);
            self.by_use.remove(&use_);
        }
    }

    /// While the total is over the limit, removes the least recently used cards from the index and
    /// returns their keys, oldest first, for the caller to delete from the store. The most recently
    /// used card is never evicted, even when it alone passes the limit (it was just asked for).
    pub fn evict(&mut self) -> Vec<crate::objects::ObjectKey> {
        let mut evicted = Vec::new();
        while self.limit_bytes > 0 && self.total_bytes > self.limit_bytes && self.entries.len() > 1 {
            let Some((_, key)) = self.by_use.pop_first() else { break };
            if let Some((size, _)) = self.entries.remove(&key) {
                self.total_bytes = self.total_bytes.saturating_sub(size);
            }
            evicted.push(key);
        }
        evicted
    }

    fn bump(&mut self) -> u64 {
        self.next_use += 1;
        self.next_use
    }
}

#[cfg(test)]
mod tests {
    fn key(name: &str) -> crate::objects::ObjectKey {
        crate::objects::ObjectKey::parse(&format!("cards/level/{name}.png")).expect("valid key")
    }

    #[test]
    fn the_least_recently_used_cards_go_first() {
        let mut index = CardIndex::new(300);
        for name in ["a", "b", "c"] {
            index.record(key(name), 100);
        }
        assert!(index.evict().is_empty());
        assert_eq!(index.total_bytes(), 300);
        // Reading `a` makes `b` the oldest use.
        assert!(index.touch(&key("a")));
        index.record(key("d"), 100);
        assert_eq!(index.evict(), [key("b")]);
        index.record(key("e"), 150);
        assert_eq!(index.evict(), [key("c"), key("a")]);
        assert_eq!(index.total_bytes(), 250);
        assert!(index.contains(&key("d")) && index.contains(&key("e")) && index.len() == 2);
        assert!(!index.touch(&key("b")));
    }

    #[test]
    fn replacing_and_forgetting_keep_the_total_right() {
        let mut index = CardIndex::new(0);
        index.record(key("a"), 100);
        index.record(key("a"), 40);
        assert_eq!((index.total_bytes(), index.len()), (40, 1));
        index.forget(&key("a"));
        assert!(index.is_empty() && index.total_bytes() == 0);
        // No limit: nothing is ever evicted.
        for n in 0..10 {
            index.record(key(&format!("c{n}")), 1_000_000);
        }
        assert!(index.evict().is_empty());
    }

    #[test]
    fn the_newest_card_stays_even_when_it_alone_passes_the_limit() {
        let mut index = CardIndex::new(100);
        index.record(key("small"), 10);
        index.record(key("huge"), 500);
        assert_eq!(index.evict(), [key("small")]);
        assert!(index.contains(&key("huge")));
    }

    #[test]
    fn a_rebuilt_index_orders_uses_by_last_modified_time() {
        let mut index =
            CardIndex::rebuilt(200, [(key("new"), 100, 3_000), (key("old"), 100, 1_000), (key("mid"), 100, 2_000)]);
        assert_eq!(index.total_bytes(), 300);
        assert_eq!(index.evict(), [key("old")]);
        index.record(key("next"), 100);
        assert_eq!(index.evict(), [key("mid")]);
    }

    #[test]
    fn the_card_budget_has_a_render_slot_and_room_to_queue() {
        let budget = CardBudget::new(0, 0);
        assert_eq!((budget.rendering, budget.in_flight), (1, 1));
        let budget = CardBudget::new(2, 32);
        assert_eq!((budget.rendering, budget.in_flight), (2, 32));
    }

    use super::*;

    fn decode(text: &str) -> (String, TextEncoding) {
        decode_header_text(text.as_bytes()).expect("decodable")
    }

    #[test]
    fn plain_ascii_is_used_as_sent() {
        assert_eq!(decode("JohnDoe"), ("JohnDoe".into(), TextEncoding::Plain));
        assert_eq!(decode("JohnDoe1"), ("JohnDoe1".into(), TextEncoding::Plain));
        assert_eq!(decode("Member #123"), ("Member #123".into(), TextEncoding::Plain));
        assert_eq!(decode("100% Pro"), ("100% Pro".into(), TextEncoding::Plain));
        // Valid Base64 that decodes to ASCII is taken as the name it looks like.
        assert_eq!(decode("QUJDREVGR0g="), ("QUJDREVGR0g=".into(), TextEncoding::Plain));
    }

    #[test]
    fn base64_is_detected_or_declared() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("Привет, мир");
        assert_eq!(decode(&encoded), ("Привет, мир".into(), TextEncoding::Base64));
        assert_eq!(decode("base64:SGVsbG8="), ("Hello".into(), TextEncoding::Base64));
        let japanese = base64::engine::general_purpose::STANDARD.encode("ようこそ");
        assert_eq!(decode(&format!("base64:{japanese}")).0, "ようこそ");
        assert_eq!(decode_header_text(b"base64:not base64!"), None);
    }

    #[test]
    fn url_encoding_is_decoded_once_or_twice() {
        assert_eq!(decode("%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"), ("Привет".into(), TextEncoding::UrlEncoded));
        assert_eq!(decode("%25D0%259F%25D1%2580%25D0%25B8"), ("При".into(), TextEncoding::UrlEncoded));
        assert_eq!(decode("Caf%C3%A9%20Bar"), ("Café Bar".into(), TextEncoding::UrlEncoded));
        // An escape that is not UTF-8 is left as sent.
        assert_eq!(decode("%FF%FE").0, "%FF%FE");
    }

    #[test]
    fn raw_utf8_bytes_are_accepted() {
        assert_eq!(decode_header_text("Ελληνικά".as_bytes()).expect("utf-8").0, "Ελληνικά");
        assert_eq!(decode_header_text(&[0xff, 0xfe]), None);
    }

    #[test]
    fn emoji_are_stripped_and_text_symbols_kept() {
        assert_eq!(strip_emoji("Welcome 🎉 to the server 🚀"), "Welcome to the server");
        assert_eq!(strip_emoji("❤️ Love"), "Love");
        assert_eq!(strip_emoji("Team 1️⃣"), "Team");
        assert_eq!(strip_emoji("👨‍👩‍👧 family"), "family");
        assert_eq!(strip_emoji("🇺🇦 flag"), "flag");
        assert_eq!(strip_emoji("👍🏽 ok"), "ok");
        assert_eq!(strip_emoji("★ Star ♥ ✓"), "★ Star ♥ ✓");
        assert_eq!(strip_emoji("Привет ⭐ мир"), "Привет мир");
        assert_eq!(strip_emoji("🎉🎉"), "");
    }

    #[test]
    fn card_ids_depend_on_every_input() {
        let id = |kind, description, urls: &[Option<&str>]| CardId::of(kind, CardFormat::Png, description, urls);
        let a = id(CardKind::Level, "card", &[Some("https://a/x.png"), None]);
        assert_eq!(CardId::parse(&a.to_string()), Some(a.clone()));
        assert_eq!(a, id(CardKind::Level, "card", &[Some("https://a/x.png"), None]));
        assert_ne!(a, id(CardKind::Welcome, "card", &[Some("https://a/x.png"), None]));
        assert_ne!(a, id(CardKind::Level, "card2", &[Some("https://a/x.png"), None]));
        assert_ne!(a, id(CardKind::Level, "card", &[Some("https://a/y.png"), None]));
        assert_ne!(a, id(CardKind::Level, "card", &[Some("https://a/x.png"), Some("https://a/b.png")]));
    }

    #[test]
    fn a_card_id_names_its_format_unless_it_is_a_png() {
        let urls = [Some("https://a/x.png"), None];
        let png = CardId::of(CardKind::Level, CardFormat::Png, "card", &urls);
        let webp = CardId::of(CardKind::Level, CardFormat::Webp, "card", &urls);
        let jpeg = CardId::of(CardKind::Level, CardFormat::Jpeg, "card", &urls);
        assert_eq!(png.to_string().len(), 32);
        assert_eq!(webp.to_string(), format!("{png}.webp"));
        assert_eq!(jpeg.to_string(), format!("{png}.jpg"));
        for id in [&png, &webp, &jpeg] {
            assert_eq!(CardId::parse(&id.to_string()).as_ref(), Some(id));
        }
        assert_eq!(CardId::parse(&format!("{png}.png")).as_ref(), Some(&png));
        assert_eq!(CardId::parse(&format!("{png}.jpeg")).as_ref(), Some(&jpeg));
        assert_eq!(png.key(CardKind::Level).as_str(), format!("cards/level/{png}.png"));
        assert_eq!(webp.key(CardKind::Welcome).as_str(), format!("cards/welcome/{png}.webp"));
        assert_eq!(jpeg.key(CardKind::Level).as_str(), format!("cards/level/{png}.jpg"));
    }

    #[test]
    fn formats_parse_in_any_case() {
        assert_eq!(CardFormat::parse(" WebP "), Some(CardFormat::Webp));
        assert_eq!(CardFormat::parse("JPG"), Some(CardFormat::Jpeg));
        assert_eq!(CardFormat::parse("jpeg"), Some(CardFormat::Jpeg));
        assert_eq!(CardFormat::parse("png"), Some(CardFormat::Png));
        assert_eq!(CardFormat::parse("gif"), None);
        let names: Vec<_> = CardFormat::ALL.iter().map(|f| (f.name(), f.content_type())).collect();
        assert_eq!(names, [("png", "image/png"), ("webp", "image/webp"), ("jpeg", "image/jpeg")]);
    }

    #[test]
    fn view_ids_are_checked_before_they_become_keys() {
        let id = CardId::parse("0123456789abcdef0123456789abcdef").expect("a card id");
        assert_eq!(id.key(CardKind::Level).as_str(), "cards/level/0123456789abcdef0123456789abcdef.png");
        assert_eq!(id.key(CardKind::Welcome).as_str(), "cards/welcome/0123456789abcdef0123456789abcdef.png");
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef.gif",
            "0123456789abcdef0123456789abcdef.webp.png",
            "0123456789abcdef0123456789abcdef.",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdéf",
        ] {
            assert!(CardId::parse(bad).is_none(), "{bad}");
        }
    }
}
