//! Channel transcripts (tag `Transcripts`): made by a bot, listed per bot and server, viewed by view
//! id (which works as a password). Answers the document describes only in prose are
//! `serde_json::Value`.

use garrison_core::ServerId;
use garrison_core::discord::{BotToken, Snowflake};
use serde_json::Value;

use crate::{Client, Operation, Result};

/// How `POST /api/Transcript/html` makes a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscriptOptions {
    /// Also post the file (or, past 10 MiB, the link) there.
    pub target_channel: Option<Snowflake>,
    /// The newest messages kept, 1 to 10,000 (default 10,000).
    pub limit: Option<u32>,
    pub filename: Option<String>,
    pub creator: Option<Snowflake>,
}

/// Which page of `GET /api/Transcript/list/{guildId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscriptPage {
    /// 1-based (default 1), at most 10,000 entries deep.
    pub page: Option<u64>,
    /// 1 to 100 (default 25).
    pub limit: Option<u64>,
    /// The previous page's [`TranscriptList::next_cursor`], instead of `page`.
    pub after: Option<String>,
}

/// A page of transcripts, newest first.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TranscriptList {
    /// The transcripts with their metadata (a JSON array).
    pub transcripts: Value,
    /// `X-Next-Cursor`: there may be more after this page.
    pub next_cursor: Option<String>,
}

/// The transcript routes: [`Client::transcripts`].
#[derive(Debug, Clone, Copy)]
pub struct TranscriptsApi<'c>(&'c Client);

impl Client {
    /// The transcript routes.
    pub fn transcripts(&self) -> TranscriptsApi<'_> {
        TranscriptsApi(self)
    }
}

impl TranscriptsApi<'_> {
    /// `POST /api/Transcript/html`: makes the transcript of a channel, with its media embedded, and
    /// stores it; the answer carries its link.
    pub async fn generate(&self, bot: &BotToken, channel: Snowflake, options: &TranscriptOptions) -> Result<Value> {
        self.0
            .call(Operation::GenerateTranscript)
            .bot_token(bot)
            .header("X-Channel-Id", channel)
            .header_opt("X-Target-Channel-Id", options.target_channel)
            .header_opt("X-Limit", options.limit)
            .header_opt("X-Filename", options.filename.as_deref())
            .header_opt("X-Creator-Id", options.creator)
            .send()
            .await
    }

    /// `GET /api/Transcript/list/{guildId}`: the transcripts the calling bot made in the server, of
    /// channels it can view.
    pub async fn list(&self, bot: &BotToken, server: ServerId, page: &TranscriptPage) -> Result<TranscriptList> {
        let answer = self
            .0
            .call(Operation::ListTranscripts)
            .bot_token(bot)
            .path("guildId", server)
            .query_opt("page", page.page)
            .query_opt("limit", page.limit)
            .query_opt("after", page.after.as_deref())
            .send_answer()
            .await?;
        let next_cursor = answer.header("X-Next-Cursor").map(str::to_owned);
        Ok(TranscriptList { transcripts: answer.json()?, next_cursor })
    }

    /// `GET /api/Transcript/view/{viewId}`: the transcript page (HTML).
    pub async fn view(&self, view_id: &str) -> Result<String> {
        Ok(self.0.call(Operation::ViewTranscript).path("viewId", view_id).send_answer().await?.text())
    }
}
