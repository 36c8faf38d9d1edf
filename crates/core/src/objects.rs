//! The object store port: named blobs (card PNGs, moderation-log JSON, transcripts, backups) kept
//! outside the database, in a local directory or an S3 bucket.
//!
//! Keys are [`ObjectKey`]s, validated once when they are made, so no store ever sees `..`, an absolute
//! path, a backslash or a control character, whatever a user typed. The trait is async and object safe
//! (`Arc<dyn ObjectStore>`) without depending on any runtime: methods return boxed futures
//! ([`ObjectFuture`]) and bodies travel as boxed [`futures_core::Stream`]s of [`bytes::Bytes`]
//! ([`ByteStream`]). Those two small crates (`bytes`, `futures-core`) are this module's only
//! dependencies beyond `std`; neither does IO.
//!
//! Errors are [`ObjectError`], kept apart from the record services' [`crate::Error`]: object storage is
//! infrastructure that services call, and its failures (an unreachable bucket) are not business facts.
//! Messages never contain credentials.

use std::{fmt, future::Future, pin::Pin};

use bytes::Bytes;
use futures_core::Stream;

use crate::Timestamp;

/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// The longest segment (the text between two `/`), in bytes; file systems limit names to 255 and the
/// local store adds a short suffix.
pub const MAX_SEGMENT_BYTES: usize = 200;
/// The most objects one [`ObjectStore::list`] call returns (S3's own limit).
pub const MAX_LIST_LIMIT: usize = 1000;
/// The content type stored when none is known.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// The longest content type, in bytes.
pub const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// What went wrong with an object operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// No object has this key.
    /// The key is kept for the caller but never shown: keys may hold view ids, which act as passwords.
    #[error("no such object")]
    NotFound(ObjectKey),
    /// The text cannot be an object key (or prefix); `key` is shown escaped and truncated.
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The content type cannot be stored (empty, too long, or not printable ASCII).
    #[error("invalid content type: {reason}")]
    InvalidContentType { reason: &'static str },
    /// The store cannot be reached or refused the operation (network, permissions, disk); retrying
    /// later may help.
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a store that answered something unexpected.
    #[error("object store failure: {0}")]
    Internal(String),
}

/// A boxed future returned by [`ObjectStore`] methods.
pub type ObjectFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ObjectError>> + Send + 'a>>;

/// An object's bytes as they arrive (from the store) or as they are produced (for the store).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ObjectError>> + Send + 'static>>;

/// A validated object key: 1 to [`MAX_KEY_BYTES`] bytes of segments separated by `/`.
///
/// Each segment is 1 to [`MAX_SEGMENT_BYTES`] bytes of ASCII letters, digits, `-`, `_` and `.`, and
/// does not start with `.` (so there is no `.` or `..` segment and no hidden file). There is no leading
/// or trailing `/` and no empty segment. Keys compare and sort by their bytes, which is the order
/// [`ObjectStore::list`] returns them in.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

/// Text shown in an error about an invalid key: escaped, at most 64 characters.
fn shown(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    match escaped.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &escaped[..cut]),
        None => escaped,
    }
}

fn invalid(text: &str, reason: &'static str) -> ObjectError {
    ObjectError::InvalidKey { key: shown(text), reason }
}

/// Whether `byte` may appear in a segment.
const fn segment_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

/// Checks one segment; `whole` is the text the error names.
fn check_segment(segment: &str, whole: &str) -> Result<(), ObjectError> {
    if segment.is_empty() {
        return Err(invalid(whole, "empty segment (leading, trailing or double '/')"));
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err(invalid(whole, "a segment is longer than 200 bytes"));
    }
    if segment.starts_with('.') {
        return Err(invalid(whole, "a segment starts with '.' ('.', '..' and hidden names are refused)"));
    }
    if !segment.bytes().all(segment_byte) {
        return Err(invalid(whole, "only ASCII letters, digits, '-', '_', '.' and '/' are allowed"));
    }
    Ok(())
}

impl ObjectKey {
    /// Validates `text` as a key.
    pub fn parse(text: &str) -> Result<Self, ObjectError> {
        if text.is_empty() {
            return Err(invalid(text, "empty"));
        }
        if text.len() > MAX_KEY_BYTES {
            return Err(invalid(text, "longer than 512 bytes"));
        }
        if text.starts_with('/') {
            return Err(invalid(text, "absolute (starts with '/')"));
        }
        for segment in text.split('/') {
            check_segment(segment, text)?;
        }
        Ok(Self(text.to_owned()))
    }

    /// Joins validated segments with `/`, e.g. `["cards", server, "avatar.png"]`.
    pub fn from_segments<I, S>(segments: I) -> Result<Self, ObjectError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut key = String::new();
        for segment in segments {
            let segment = segment.as_ref();
            check_segment(segment, segment)?;
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(segment);
        }
        Self::parse(&key)
    }

    /// This key with one more segment, e.g. `transcripts/123` + `index.html`.
    pub fn child(&self, segment: &str) -> Result<Self, ObjectError> {
        check_segment(segment, segment)?;
        Self::parse(&format!("{}/{segment}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectKey({:?})", self.0)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ObjectKey {
    type Err = ObjectError;

    fn from_str(text: &str) -> Result<Self, ObjectError> {
        Self::parse(text)
    }
}

/// What [`ObjectStore::list`] filters on: the start of a key. Empty (everything), a whole key or
/// directory-like prefix (`cards/`), or a partial segment (`cards/12`). Every complete segment follows
/// the key rules, so a prefix never contains `..`, a backslash or a control character.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectPrefix(String);

impl ObjectPrefix {
    /// The prefix of every key.
    pub const fn all() -> Self {
        Self(String::new())
    }

    pub fn parse(text: &str) -> Result<Self, ObjectError> {
        if text.is_empty() {
            return Ok(Self::all());
        }
        if text.len() > MAX_KEY_BYTES {
            return Err(invalid(text, "longer than 512 bytes"));
        }
        if text.starts_with('/') {
            return Err(invalid(text, "absolute (starts with '/')"));
        }
        let segments: Vec<&str> = text.split('/').collect();
        let (last, complete) = segments.split_last().unwrap_or((&"", &[]));
        for segment in complete {
            check_segment(segment, text)?;
        }
        // The last segment may be empty (a trailing '/') or a partial name.
        if !last.is_empty() {
            if last.len() > MAX_SEGMENT_BYTES {
                return Err(invalid(text, "a segment is longer than 200 bytes"));
            }
            if !last.bytes().all(segment_byte) {
                return Err(invalid(text, "only ASCII letters, digits, '-', '_', '.' and '/' are allowed"));
            }
            if last.starts_with('.') {
                return Err(invalid(text, "a segment starts with '.' ('.', '..' and hidden names are refused)"));
            }
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, key: &ObjectKey) -> bool {
        key.as_str().starts_with(&self.0)
    }
}

impl From<&ObjectKey> for ObjectPrefix {
    /// The prefix of the keys "under" `key`: `key` followed by `/`.
    fn from(key: &ObjectKey) -> Self {
        Self(format!("{}/", key.as_str()))
    }
}

/// Checks a content type before it is stored: 1 to 255 bytes of printable ASCII (spaces allowed).
pub fn check_content_type(content_type: &str) -> Result<(), ObjectError> {
    if content_type.is_empty() {
        return Err(ObjectError::InvalidContentType { reason: "empty" });
    }
    if content_type.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(ObjectError::InvalidContentType { reason: "longer than 255 bytes" });
    }
    if !content_type.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(ObjectError::InvalidContentType { reason: "only printable ASCII is allowed" });
    }
    Ok(())
}

/// What a store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: ObjectKey,
    /// Bytes.
    pub size: u64,
    /// As given to `put`.
    pub content_type: String,
    /// When the current version was written, as the store reports it.
    pub last_modified: Timestamp,
}

/// One entry of a listing: [`ObjectMeta`] without the content type, which S3 listings do not carry
/// (ask [`ObjectStore::head`] for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: ObjectKey,
    /// Bytes.
    pub size: u64,
    pub last_modified: Timestamp,
}

/// Where a listing goes on: the last key of the previous page (both stores), handed back by one
/// [`ObjectStore::list`] call to the next with the same prefix. Since it is a key, a listing can also
/// resume after any key a caller names (`Continuation::new(key)`): keyset pagination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Continuation(String);

impl Continuation {
    /// Wraps a token a store (or a client, round-tripping one) handed out.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPage {
    /// In lexicographic (byte) order of keys.
    pub objects: Vec<ObjectSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Continuation>,
}

/// An object being read: what it is, and its bytes as they arrive.
pub struct ObjectBody {
    pub meta: ObjectMeta,
    pub bytes: ByteStream,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBody").field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// Named blobs. Implemented by `garrison-storage` over a local directory and over S3.
///
/// Writes replace whole objects atomically: a reader sees the old object or the new one, never part
/// of one. There are no directories: `a/b` is one key, and listing `a/` finds it.
///
/// Portable callers do not make one key a "directory" of another (`a` and `a/b` both objects): AWS and
/// the local store allow it, but file-system-backed S3 servers (MinIO, s3s-fs) refuse the second put.
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// Stores `bytes` under `key`, replacing any object there.
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes, content_type: &'a str) -> ObjectFuture<'a, ()>;

    /// Stores a body of any size as it is produced, without holding it all in memory (S3: multipart
    /// upload; local: a temporary file renamed into place). Returns the number of bytes stored. If the
    /// stream yields an error, nothing is stored and that error is returned.
    fn put_stream<'a>(&'a self, key: &'a ObjectKey, body: ByteStream, content_type: &'a str) -> ObjectFuture<'a, u64>;

    /// The object and a stream of its bytes; `NotFound` if there is none.
    fn get<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ObjectBody>;

    /// What is known about the object, or `None` if there is none.
    fn head<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, Option<ObjectMeta>>;

    /// Up to `limit` objects (clamped to 1..=[`MAX_LIST_LIMIT`]) whose keys start with `prefix`, in key
    /// order, starting where `after` (from the previous page) says.
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPrefix,
        after: Option<&'a Continuation>,
        limit: usize,
    ) -> ObjectFuture<'a, ObjectPage>;

    /// Removes the object; removing a missing object succeeds (idempotent).
    fn delete<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_are_accepted() {
        for text in
            ["a", "cards/123456789012345678/avatar.png", "backups/2026-01-01T00-00-00Z.tar.zst", "a/b", "a.b_c-d"]
        {
            assert_eq!(ObjectKey::parse(text).expect(text).as_str(), text);
        }
    }

    #[test]
    fn unsafe_keys_are_refused() {
        let long = "a".repeat(600);
        let long_segment = format!("x/{}", "b".repeat(201));
        for text in [
            "",
            "..",
            ".",
            "a/../b",
            "../etc/passwd",
            "a/./b",
            "/abs",
            "/",
            "a//b",
            "a/",
            "a\\b",
            "..\\windows",
            "a\u{0}b",
            "a\nb",
            "a\u{7f}b",
            "a b",
            "caf\u{e9}",
            "a:b",
            ".hidden",
            long.as_str(),
            long_segment.as_str(),
        ] {
            let err = ObjectKey::parse(text).expect_err(text);
            assert!(matches!(err, ObjectError::InvalidKey { .. }), "{text:?}: {err}");
        }
    }

    #[test]
    fn errors_show_an_escaped_truncated_key() {
        let err = ObjectKey::parse(&format!("a\u{0}{}", "b".repeat(600))).expect_err("invalid");
        let message = err.to_string();
        assert!(message.contains("\\0"), "{message}");
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn exactly_512_bytes_is_accepted() {
        let text = ["a".repeat(200), "b".repeat(200), "c".repeat(110)].join("/");
        assert_eq!(text.len(), 512);
        assert!(ObjectKey::parse(&text).is_ok());
        assert!(ObjectKey::parse(&format!("{text}d")).is_err());
    }

    #[test]
    fn keys_are_built_from_validated_segments() {
        let key = ObjectKey::from_segments(["cards", "123", "avatar.png"]).expect("valid");
        assert_eq!(key.as_str(), "cards/123/avatar.png");
        assert_eq!(key.segments().collect::<Vec<_>>(), ["cards", "123", "avatar.png"]);
        assert_eq!(key.child("x.json").expect("valid").as_str(), "cards/123/avatar.png/x.json");
        for bad in ["a/b", "..", "", "x\\y"] {
            assert!(ObjectKey::from_segments(["cards", bad]).is_err(), "{bad:?}");
            assert!(key.child(bad).is_err(), "{bad:?}");
        }
        assert!(ObjectKey::from_segments(Vec::<&str>::new()).is_err());
    }

    #[test]
    fn prefixes_allow_a_trailing_slash_and_partial_names() {
        for text in ["", "cards/", "cards/12", "cards"] {
            assert_eq!(ObjectPrefix::parse(text).expect(text).as_str(), text);
        }
        for text in ["/", "a//", "../", "a/../", "a\\", "a/\u{0}", "/abs"] {
            assert!(ObjectPrefix::parse(text).is_err(), "{text:?}");
        }
        let key = ObjectKey::parse("cards/12/a.png").expect("valid");
        assert!(ObjectPrefix::parse("cards/1").expect("valid").matches(&key));
        assert!(!ObjectPrefix::parse("cards/2").expect("valid").matches(&key));
        assert_eq!(ObjectPrefix::from(&ObjectKey::parse("cards").expect("valid")).as_str(), "cards/");
    }

    #[test]
    fn content_types_are_printable() {
        assert!(check_content_type("text/html; charset=utf-8").is_ok());
        assert!(check_content_type("").is_err());
        assert!(check_content_type("text/html\r\nx-evil: 1").is_err());
        assert!(check_content_type(&"a".repeat(256)).is_err());
    }
}
