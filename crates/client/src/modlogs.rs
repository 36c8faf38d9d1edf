//! Moderation logs (tag `Moderation logs`): actions recorded per bot and server, and each user's
//! history page (its view id works as a password: share its URL with care).

use std::fmt;

use garrison_core::ServerId;
use garrison_core::discord::{BotToken, Snowflake};
use serde_json::Value;

use crate::{Client, Operation, Result};

/// A moderation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModAction {
    Warn,
    Timeout,
    Ban,
    Kick,
    Unban,
}

impl fmt::Display for ModAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An action to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModLogEntry {
    pub server: ServerId,
    pub user: Snowflake,
    pub action: ModAction,
    pub moderator: Snowflake,
    pub moderator_name: String,
    pub reason: Option<String>,
    /// For timeouts, e.g. `2h`.
    pub duration: Option<String>,
}

/// The moderation-log routes: [`Client::modlogs`].
#[derive(Debug, Clone, Copy)]
pub struct ModLogsApi<'c>(&'c Client);

impl Client {
    /// The moderation-log routes.
    pub fn modlogs(&self) -> ModLogsApi<'_> {
        ModLogsApi(self)
    }
}

impl ModLogsApi<'_> {
    /// `POST /api/modlogs/add`: records an action; the answer (`success`, `message`, `viewUrl`) links
    /// the permanent page of the user's history in that server.
    pub async fn add(&self, bot: &BotToken, entry: &ModLogEntry) -> Result<Value> {
        self.0
            .call(Operation::AddModLog)
            .bot_token(bot)
            .header("X-Guild-Id", entry.server)
            .header("X-User-Id", entry.user)
            .header("X-Action", entry.action)
            .header("X-Moderator-Id", entry.moderator)
            .header("X-Moderator-Name", &entry.moderator_name)
            .header_opt("X-Reason", entry.reason.as_deref())
            .header_opt("X-Duration", entry.duration.as_deref())
            .send()
            .await
    }

    /// `GET /api/modlogs/view/{id}`: the history page (self-contained HTML); `page` of 100 entries
    /// from 1 (the oldest), the newest when `None`.
    pub async fn view(&self, view_id: &str, page: Option<u32>) -> Result<String> {
        let answer =
            self.0.call(Operation::ViewModLog).path("id", view_id).query_opt("page", page).send_answer().await?;
        Ok(answer.text())
    }
}
