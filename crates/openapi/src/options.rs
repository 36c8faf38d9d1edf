//! What a document needs besides its text: prefixes its paths are served under, the checks behind
//! its `pattern`s and `format`s, and corrections where it contradicts the service it describes.

use std::fmt;

use serde_json::Value;

/// A check of a string against a `pattern` or a `format`.
pub type Check = fn(&str) -> bool;

/// Where an [`Erratum`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A component schema, by name (`#/components/schemas/<name>`).
    Schema(&'static str),
    /// An operation, by method (any case) and path template as the document writes them, e.g.
    /// `Operation("POST", "/groups/{group_id}/join-requests/{id}:accept")`.
    Operation(&'static str, &'static str),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Schema(name) => f.write_str(name),
            Target::Operation(method, template) => write!(f, "{} {template}", method.to_ascii_uppercase()),
        }
    }
}

/// A correction to a document where it contradicts what the service actually sends. It replaces the
/// value at `pointer` inside `target` by `now` (JSON text), and applies only while that value still
/// reads as expected (`applies`), so a newer document is not patched blindly. [`crate::Spec`] records
/// which errata applied; a simulator's tests assert that all of its own do.
#[derive(Debug, Clone, Copy)]
pub struct Erratum {
    /// The schema or operation corrected.
    pub target: Target,
    /// JSON pointer inside the target ("" for the whole of it).
    pub pointer: &'static str,
    /// Whether the value found at `pointer` is still the one this erratum corrects.
    pub applies: fn(&Value) -> bool,
    /// The replacement, as JSON text.
    pub now: &'static str,
}

impl Erratum {
    /// The JSON pointer of the corrected value inside the whole document.
    pub(crate) fn document_pointer(&self) -> String {
        let mut pointer = match self.target {
            Target::Schema(name) => format!("/components/schemas/{}", escape(name)),
            Target::Operation(method, template) => {
                format!("/paths/{}/{}", escape(template), method.to_ascii_lowercase())
            }
        };
        pointer.push_str(self.pointer);
        pointer
    }
}

/// Escapes one JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// How to read a document: see [`crate::Spec::from_json`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub(crate) prefixes: Vec<String>,
    pub(crate) patterns: Vec<(String, Check)>,
    pub(crate) formats: Vec<(String, Check)>,
    pub(crate) errata: Vec<Erratum>,
}

impl Options {
    /// No prefixes, patterns, formats or errata: every `pattern` and `format` is an annotation.
    pub fn new() -> Self {
        Self::default()
    }

    /// A prefix that concrete paths may carry before the document's templates (Discord serves its
    /// templates under `/api/v10`). It is stripped only at a segment boundary (`/api` from
    /// `/api/guilds/1`, not from `/apiary`); when several match, the longest is stripped.
    pub fn strip_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Checks strings against the schema keyword `pattern` when its text is exactly `pattern`. There
    /// is no regex engine here: each pattern a document uses is recognised by its text and checked by
    /// hand. An unknown pattern is not checked (and [`crate::Spec::unsupported_features`] names it).
    pub fn pattern(mut self, pattern: impl Into<String>, check: Check) -> Self {
        self.patterns.push((pattern.into(), check));
        self
    }

    /// Checks strings against the schema keyword `format` when it is `name`. Formats without a check
    /// (`int64`, `uri`, ...) are annotations.
    pub fn format(mut self, name: impl Into<String>, check: Check) -> Self {
        self.formats.push((name.into(), check));
        self
    }

    /// Corrections applied to the document as it is read, in order.
    pub fn errata(mut self, errata: &[Erratum]) -> Self {
        self.errata.extend_from_slice(errata);
        self
    }
}

/// `YYYY-MM-DDTHH:MM` at the start (`T`, `t` or a space between date and time); the rest is not
/// parsed. A lenient `date-time` check for [`Options::format`].
pub fn looks_like_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errata_point_into_the_document() {
        let schema = Erratum { target: Target::Schema("a/b"), pointer: "/properties/x", applies: |_| true, now: "{}" };
        assert_eq!(schema.document_pointer(), "/components/schemas/a~1b/properties/x");
        let operation =
            Erratum { target: Target::Operation("POST", "/g/{id}:accept"), pointer: "", applies: |_| true, now: "{}" };
        assert_eq!(operation.document_pointer(), "/paths/~1g~1{id}:accept/post");
        assert_eq!(operation.target.to_string(), "POST /g/{id}:accept");
    }

    #[test]
    fn date_times_are_recognised_by_their_start() {
        assert!(looks_like_date_time("2024-05-01T12:30:00.123000+00:00"));
        assert!(looks_like_date_time("2024-05-01 12:30:00Z"));
        assert!(looks_like_date_time("2006-02-27T21:06:40.3Z"));
        assert!(!looks_like_date_time("May 1st"));
        assert!(!looks_like_date_time("2024-05-01"));
    }
}
