//! Moderation (tag `Moderation`): bans, kicks and timeouts, as the bot whose token is sent. Each
//! answers the server's sentence (`"User successfully banned"`).

use garrison_core::ServerId;
use garrison_core::discord::{BotToken, Snowflake};
use serde::{Deserialize, Serialize};

use crate::answers::Message;
use crate::{Call, Client, Operation, Result};

/// The body of `POST /api/modactions/ban-with-reason`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BanWithReason {
    /// Written to the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Days of the user's messages to delete, 0 to 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_message_days: Option<u8>,
}

/// A timeout applied.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TimeoutApplied {
    pub message: String,
    /// When the timeout ends, ISO 8601 UTC.
    pub expires_at: String,
}

/// The moderation routes: [`Client::moderation`].
#[derive(Debug, Clone, Copy)]
pub struct ModerationApi<'c>(&'c Client);

impl Client {
    /// The moderation routes.
    pub fn moderation(&self) -> ModerationApi<'_> {
        ModerationApi(self)
    }
}

impl<'c> ModerationApi<'c> {
    fn call(&self, operation: Operation, bot: &BotToken, server: ServerId, user: Snowflake) -> Call<'c> {
        self.0.call(operation).bot_token(bot).header("server-id", server).header("user-id", user)
    }

    /// `POST /api/modactions/ban`: bans a user for good (the audit log says "Banned via API").
    pub async fn ban(&self, bot: &BotToken, server: ServerId, user: Snowflake) -> Result<String> {
        let answer: Message = self.call(Operation::Ban, bot, server, user).send().await?;
        Ok(answer.message)
    }

    /// `POST /api/modactions/ban-with-reason`: bans with a reason and deletes recent messages.
    pub async fn ban_with_reason(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        ban: &BanWithReason,
    ) -> Result<String> {
        let answer: Message = self.call(Operation::BanWithReason, bot, server, user).json(ban).send().await?;
        Ok(answer.message)
    }

    /// `DELETE /api/modactions/unban`: lifts a ban.
    pub async fn unban(&self, bot: &BotToken, server: ServerId, user: Snowflake) -> Result<String> {
        let answer: Message = self.call(Operation::Unban, bot, server, user).send().await?;
        Ok(answer.message)
    }

    /// `DELETE /api/modactions/kick`: removes a member (`reason` goes to the audit log).
    pub async fn kick(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        reason: Option<&str>,
    ) -> Result<String> {
        let answer: Message = self.call(Operation::Kick, bot, server, user).header_opt("reason", reason).send().await?;
        Ok(answer.message)
    }

    /// `POST /api/modactions/timeout`: times a member out for `duration` (`30m`, `6h`, `1d`, `2w`; at
    /// most 28 days).
    pub async fn timeout(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        duration: &str,
        reason: Option<&str>,
    ) -> Result<TimeoutApplied> {
        self.call(Operation::Timeout, bot, server, user)
            .header("duration", duration)
            .header_opt("reason", reason)
            .send()
            .await
    }

    /// `DELETE /api/modactions/timeout`: lifts a member's timeout.
    pub async fn remove_timeout(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        reason: Option<&str>,
    ) -> Result<String> {
        let answer: Message =
            self.call(Operation::RemoveTimeout, bot, server, user).header_opt("reason", reason).send().await?;
        Ok(answer.message)
    }
}
