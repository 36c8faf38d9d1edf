//! Modmail (tag `Modmail`): a user's DM forwarded to staff, and staff replies sent back as DMs. The
//! text travels as the `text/plain` body; answers are `serde_json::Value`.

use garrison_core::discord::{BotToken, Snowflake};
use serde_json::Value;

use crate::{Client, Operation, Result};

/// A user's message to forward to the staff channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    pub target_channel: Snowflake,
    pub user: Snowflake,
    pub user_name: String,
    /// An http(s) URL.
    pub user_avatar: String,
    /// Up to 10 http(s) URLs.
    pub attachments: Vec<String>,
    pub text: String,
}

/// A staff reply to send to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMail {
    pub target_user: Snowflake,
    /// The embed's title (default `Staff`).
    pub moderator_name: Option<String>,
    /// Up to 10 http(s) URLs.
    pub attachments: Vec<String>,
    pub text: String,
}

fn attachments(urls: &[String]) -> Option<String> {
    (!urls.is_empty()).then(|| urls.join(";"))
}

/// The modmail routes: [`Client::modmail`].
#[derive(Debug, Clone, Copy)]
pub struct ModmailApi<'c>(&'c Client);

impl Client {
    /// The modmail routes.
    pub fn modmail(&self) -> ModmailApi<'_> {
        ModmailApi(self)
    }
}

impl ModmailApi<'_> {
    /// `POST /api/modmail/inbound`: forwards a user's DM to the staff channel as an embed.
    pub async fn inbound(&self, bot: &BotToken, mail: &InboundMail) -> Result<Value> {
        self.0
            .call(Operation::ModmailInbound)
            .bot_token(bot)
            .header("X-Target-Channel-ID", mail.target_channel)
            .header("X-User-ID", mail.user)
            .header("X-User-Name", &mail.user_name)
            .header("X-User-Avatar", &mail.user_avatar)
            .header_opt("X-Attachment-Url", attachments(&mail.attachments))
            .text(mail.text.as_str())
            .send()
            .await
    }

    /// `POST /api/modmail/outbound`: sends a staff reply to a user as a DM.
    pub async fn outbound(&self, bot: &BotToken, mail: &OutboundMail) -> Result<Value> {
        self.0
            .call(Operation::ModmailOutbound)
            .bot_token(bot)
            .header("X-Target-User-ID", mail.target_user)
            .header_opt("X-Mod-Name", mail.moderator_name.as_deref())
            .header_opt("X-Attachment-Url", attachments(&mail.attachments))
            .text(mail.text.as_str())
            .send()
            .await
    }
}
