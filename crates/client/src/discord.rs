//! Discord reads (tags `Discord users`, `Discord server`, `Discord channels`, `Discord invites`):
//! accounts, members' authority, guilds, channels and invites, read as the bot whose token is sent.
//!
//! Answers the document describes only in prose (Discord's own objects, comparisons) are
//! `serde_json::Value`; [`AccountAge`] and [`ServerInfo`] are typed.

use garrison_core::ServerId;
use garrison_core::discord::{BotToken, Snowflake};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Client, Operation, Result, ids};

/// How old a Discord account is, in whole units (rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccountAge {
    pub days: i64,
    pub weeks: i64,
    pub months: i64,
    pub years: i64,
}

/// A Discord server's name, member count and icon.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerInfo {
    #[serde(deserialize_with = "ids::id")]
    pub id: ServerId,
    pub name: String,
    #[serde(default)]
    pub member_count: Option<u64>,
    #[serde(default)]
    pub icon_url: Option<String>,
}

/// The body of `POST /api/Invitation/query`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteQuery {
    /// `https://discord.gg/CODE`, `discord.com/invite/CODE`, `discordapp.com/invite/CODE` or a bare code.
    pub invite_link: String,
}

/// Where `POST /api/channel/move` puts a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelMove {
    /// Into this category (at `position` among its channels of the same kind; last by default).
    pub target_category: Option<Snowflake>,
    /// 0-based, clamped to the number of siblings; without a category, unchanged by default.
    pub position: Option<u32>,
}

/// The Discord read routes: [`Client::discord`].
#[derive(Debug, Clone, Copy)]
pub struct DiscordApi<'c>(&'c Client);

impl Client {
    /// The Discord read routes (accounts, members, guilds, channels, invites).
    pub fn discord(&self) -> DiscordApi<'_> {
        DiscordApi(self)
    }
}

impl DiscordApi<'_> {
    /// `GET /api/Account/age`: how old an account is, from its id.
    pub async fn account_age(&self, bot: &BotToken, user: Snowflake) -> Result<AccountAge> {
        self.0.call(Operation::AccountAge).bot_token(bot).header("Discord-UserId", user).send().await
    }

    /// `GET /api/DiscordPermission/compare`: two members' authority (highest role position, the owner
    /// above everyone).
    pub async fn compare_members(
        &self,
        bot: &BotToken,
        server: ServerId,
        first: Snowflake,
        second: Snowflake,
    ) -> Result<Value> {
        self.0
            .call(Operation::CompareMembers)
            .bot_token(bot)
            .header("guild-id", server)
            .header("user-id-1", first)
            .header("user-id-2", second)
            .send()
            .await
    }

    /// `GET /api/DiscordPermission/compare-user-roles`: whether a member's highest role is above each
    /// of `roles`.
    pub async fn compare_member_roles(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        roles: &[Snowflake],
    ) -> Result<Value> {
        self.0
            .call(Operation::CompareMemberRoles)
            .bot_token(bot)
            .header("guild-id", server)
            .header("user-id", user)
            .header("role-ids", ids::comma_separated(roles))
            .send()
            .await
    }

    /// `GET /api/DiscordPermission/guild-info`: name, owner, member count, creation date.
    pub async fn guild_info(&self, bot: &BotToken, server: ServerId) -> Result<Value> {
        self.0.call(Operation::GuildInfo).bot_token(bot).header("guild-id", server).send().await
    }

    /// `GET /api/AutoModRules/{guildId}`: the keyword filters of the enabled auto-moderation rules
    /// (once a minute per bot).
    pub async fn automod_rules(&self, bot: &BotToken, server: ServerId) -> Result<Value> {
        self.0.call(Operation::AutoModRules).bot_token(bot).path("guildId", server).send().await
    }

    /// `GET /api/DiscordBooster/guild/{guildId}/additional-perks`: server tags and enhanced role
    /// styles.
    pub async fn booster_perks(&self, bot: &BotToken, server: ServerId) -> Result<Value> {
        self.0.call(Operation::BoosterPerks).bot_token(bot).path("guildId", server).send().await
    }

    /// `GET /api/DiscordBooster/privileges/{guildId}`: which booster-role customisations the guild
    /// allows.
    pub async fn booster_privileges(&self, bot: &BotToken, server: ServerId) -> Result<Value> {
        self.0.call(Operation::BoosterPrivileges).bot_token(bot).path("guildId", server).send().await
    }

    /// `GET /api/server/info`: the server's name, member count and icon, through Garrison's own bot
    /// (authenticated by the API key, which must belong to `server`).
    pub async fn server_info(&self, server: ServerId) -> Result<ServerInfo> {
        self.0.call(Operation::ServerInfo).query("serverId", server).send().await
    }

    /// `GET /api/Channel/GetChannelInfo`: a channel's settings (Discord's channel object).
    pub async fn channel_info(&self, bot: &BotToken, server: ServerId, channel: Snowflake) -> Result<Value> {
        self.0
            .call(Operation::ChannelInfo)
            .bot_token(bot)
            .query("guildId", server)
            .query("channelId", channel)
            .send()
            .await
    }

    /// `GET /api/DiscordCategory/info`: a category and every channel in it.
    pub async fn category_info(&self, bot: &BotToken, category: Snowflake) -> Result<Value> {
        self.0.call(Operation::CategoryInfo).bot_token(bot).header("X-Category-Id", category).send().await
    }

    /// `GET /api/VoiceChannel/info`: a voice or stage channel and who is connected now, from the bot's
    /// gateway session.
    pub async fn voice_channel(&self, bot: &BotToken, channel: Snowflake) -> Result<Value> {
        self.0.call(Operation::VoiceChannel).bot_token(bot).header("channel-id", channel).send().await
    }

    /// `POST /api/channel/move`: moves a channel into a category, or to a position among its siblings.
    pub async fn move_channel(&self, bot: &BotToken, channel: Snowflake, to: ChannelMove) -> Result<Value> {
        self.0
            .call(Operation::MoveChannel)
            .bot_token(bot)
            .header("ChannelId", channel)
            .header_opt("TargetCategoryId", to.target_category)
            .header_opt("Position", to.position)
            .send()
            .await
    }

    /// `POST /api/Invitation/query`: the guild, channel and inviter an invite leads to.
    pub async fn query_invite(&self, bot: &BotToken, invite: &InviteQuery) -> Result<Value> {
        self.0.call(Operation::QueryInvite).bot_token(bot).json(invite).send().await
    }
}
