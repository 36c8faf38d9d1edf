//! Utilities (tag `Utilities`): list intersection, bounded regular-expression matches, JSON string
//! escaping, text chunking and Discord timestamps. They need no Discord or Roblox access.

use serde::{Deserialize, Serialize};

use crate::{Client, Operation, Result};

/// The body of `POST /api/CommonValue` (the document spells its fields `Value1` and `Value2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommonValue {
    /// The first list; its order is kept.
    #[serde(rename = "Value1")]
    pub first: Vec<String>,
    #[serde(rename = "Value2")]
    pub second: Vec<String>,
}

/// The values both lists hold, in the first list's order, each once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CommonValues {
    pub common_values: Vec<String>,
    pub is_common_found: bool,
}

/// The body of `POST /api/Regex/match`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegexMatch {
    /// .NET-style syntax (lookarounds, backreferences, named groups), at most 2,000 characters.
    pub pattern: String,
    /// At most 20,000 characters.
    pub input: String,
}

/// A match's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RegexOutcome {
    pub is_match: bool,
    /// The first match.
    #[serde(default)]
    pub matched_value: Option<String>,
    /// What went wrong, when something did.
    #[serde(default)]
    pub error: Option<String>,
}

/// Text escaped for a JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Stringified {
    pub text: String,
    /// Characters (Unicode scalar values) of `text`.
    pub character_count: u64,
    pub stringified: String,
}

/// The body of `POST /api/TextChunker/split`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitText {
    pub text: String,
    /// The most characters per chunk, 1 to 100,000 (default 1,800).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u32>,
}

/// Text split at whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Chunks {
    pub chunks: Vec<Chunk>,
    pub total_chunks: u64,
    /// Characters in the text sent.
    pub total_characters: u64,
    pub chunk_size_used: u64,
}

/// One chunk.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Chunk {
    /// Position, from 1.
    pub index: u64,
    pub content: String,
    /// Characters in `content`.
    pub length: u64,
}

/// A unit of [`UtilitiesApi::timestamp`]'s offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnixTimestamp {
    unix_timestamp: i64,
}

/// The utility routes: [`Client::utilities`].
#[derive(Debug, Clone, Copy)]
pub struct UtilitiesApi<'c>(&'c Client);

impl Client {
    /// The utility routes.
    pub fn utilities(&self) -> UtilitiesApi<'_> {
        UtilitiesApi(self)
    }
}

impl UtilitiesApi<'_> {
    /// `POST /api/CommonValue`: the values both lists hold (exact, case-sensitive).
    pub async fn common_value(&self, lists: &CommonValue) -> Result<CommonValues> {
        self.0.call(Operation::CommonValue).json(lists).send().await
    }

    /// `POST /api/Regex/match`: tests a pattern with a bounded amount of work (408 past a second's
    /// worth). `case_sensitive` defaults to `true`.
    pub async fn regex_match(&self, regex: &RegexMatch, case_sensitive: Option<bool>) -> Result<RegexOutcome> {
        self.0.call(Operation::RegexMatch).header_opt("X-Regex-Case-Sensitive", case_sensitive).json(regex).send().await
    }

    /// `POST /api/Text/stringify`: escapes text for a JSON string.
    pub async fn stringify(&self, text: &str) -> Result<Stringified> {
        self.0.call(Operation::Stringify).text(text).send().await
    }

    /// `POST /api/TextChunker/split`: splits text into chunks at whitespace.
    pub async fn split_text(&self, split: &SplitText) -> Result<Chunks> {
        self.0.call(Operation::SplitText).json(split).send().await
    }

    /// `GET /api/Timestamp`: the Unix time (seconds) `value` units from now (negative: the past), for
    /// Discord's `<t:...>` markup; now when `offset` is `None`.
    pub async fn timestamp(&self, offset: Option<(i64, TimeUnit)>) -> Result<i64> {
        let call = self.0.call(Operation::Timestamp);
        let call = match offset {
            Some((value, unit)) => call.query("value", value).query("unit", unit.as_str()),
            None => call.query("unit", "now"),
        };
        let answer: UnixTimestamp = call.send().await?;
        Ok(answer.unix_timestamp)
    }
}
