//! Discord messages (tag `Discord messages`): embeds, smart edits of the bot's own messages and of
//! interaction responses, and the file check.
//!
//! Answers the document describes only in prose are `serde_json::Value`.

use garrison_core::discord::{BotToken, InteractionToken, Snowflake};
use serde::Serialize;
use serde_json::Value;

use crate::{Client, Operation, Result};

/// An embed for `POST /api/Message/sendEmbed/{channelId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embed {
    pub title: String,
    pub description: String,
    /// An integer 0 to 16777215, or `#RRGGBB`.
    pub color: String,
    pub footer: Option<String>,
    /// The footer's icon URL.
    pub user_icon: Option<String>,
    pub image_url: Option<String>,
    /// Text outside the embed (never pings).
    pub plain_text: Option<String>,
}

/// The body of `PATCH /api/edit/smart-edit` and `/ephemeral`: the one component whose text contains
/// `target_content_substring` (whitespace and case ignored) gets `new_content`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartEdit {
    pub target_content_substring: String,
    pub new_content: String,
}

/// The message routes: [`Client::messages`].
#[derive(Debug, Clone, Copy)]
pub struct MessagesApi<'c>(&'c Client);

impl Client {
    /// The message routes.
    pub fn messages(&self) -> MessagesApi<'_> {
        MessagesApi(self)
    }
}

impl MessagesApi<'_> {
    /// `POST /api/Message/sendEmbed/{channelId}`: sends an embed (one per bot and channel every 10
    /// seconds); the server's sentence.
    pub async fn send_embed(&self, bot: &BotToken, channel: Snowflake, embed: &Embed) -> Result<String> {
        self.0
            .call(Operation::SendEmbed)
            .bot_token(bot)
            .path("channelId", channel)
            .header("title", &embed.title)
            .header("description", &embed.description)
            .header("color", &embed.color)
            .header_opt("footer", embed.footer.as_deref())
            .header_opt("user-icon", embed.user_icon.as_deref())
            .header_opt("image-url", embed.image_url.as_deref())
            .header_opt("plain-text", embed.plain_text.as_deref())
            .send()
            .await
    }

    /// `PATCH /api/edit/smart-edit`: replaces the text of one component of a bot message.
    pub async fn smart_edit(
        &self,
        bot: &BotToken,
        channel: Snowflake,
        message: Snowflake,
        edit: &SmartEdit,
    ) -> Result<Value> {
        self.0
            .call(Operation::SmartEdit)
            .bot_token(bot)
            .header("X-Channel-Id", channel)
            .header("X-Message-Id", message)
            .json(edit)
            .send()
            .await
    }

    /// `PATCH /api/edit/smart-edit/ephemeral`: the same edit of an interaction's ephemeral response
    /// (the token is valid 15 minutes; no bot token needed).
    pub async fn smart_edit_ephemeral(
        &self,
        application: Snowflake,
        interaction: &InteractionToken,
        edit: &SmartEdit,
    ) -> Result<Value> {
        self.0
            .call(Operation::SmartEditEphemeral)
            .header("X-Application-Id", application)
            .secret_header("Interaction-Token", interaction.expose())
            .json(edit)
            .send()
            .await
    }

    /// `GET /api/filecheck/check`: whether a message carries a file, and its type.
    pub async fn file_check(&self, bot: &BotToken, channel: Snowflake, message: Snowflake) -> Result<Value> {
        self.0
            .call(Operation::FileCheck)
            .bot_token(bot)
            .header("Channel-Id", channel)
            .header("Message-Id", message)
            .send()
            .await
    }
}
