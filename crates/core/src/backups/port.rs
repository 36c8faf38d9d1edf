//! The Discord port of backups: what a backup reads of a guild and what a restore writes, in the
//! backup format's own types (`garrison_backup::format`). The Discord adapter implements it with a
//! bot's token; the backup service decides what to read, what a failure to read means, and what to
//! write in which order.

use std::sync::Arc;

use garrison_backup::format::{
    AutoModRule, Ban, Channel, Emoji, GuildSettings, Id, MemberRoles, Onboarding, Role, Sticker,
};

use crate::ServerId;
use crate::discord::{BotToken, DiscordFuture, Snowflake};

/// The most one image may weigh when it is downloaded for a backup (Discord's largest upload for an
/// icon is 10 MiB; emojis 256 KiB, stickers 512 KiB).
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

/// Where Discord serves an image a backup keeps: a URL on the adapter's own CDN, which only that
/// adapter downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(pub String);

/// The guild as `GET /guilds/{id}` describes it: its settings (image fields empty), with where its
/// icon, emojis and stickers can be downloaded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GuildRead {
    pub settings: GuildSettings,
    pub icon: Option<ImageUrl>,
    /// Each emoji (its `image` empty) with its image's URL.
    pub emojis: Vec<(Emoji, ImageUrl)>,
    /// Each sticker (its `file` empty) with its file's URL.
    pub stickers: Vec<(Sticker, ImageUrl)>,
}

/// An image to upload, read back from object storage.
#[derive(Clone, PartialEq, Eq)]
pub struct Image(pub Vec<u8>);

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({} bytes)", self.0.len())
    }
}

/// The restoring bot's place in a guild.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Standing {
    /// ADMINISTRATOR through its roles, or the guild's owner.
    pub administrator: bool,
    /// The roles it holds (never deleted or changed by a restore: that could lock it out half-way).
    pub roles: Vec<Id>,
}

/// One change a restore makes, every reference already in the target guild's ids.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Creates a role (at the bottom; positions come last); answers its id.
    CreateRole {
        role: Role,
        icon: Option<Image>,
    },
    /// Sets a role's looks and rights (never its position).
    UpdateRole {
        target: Id,
        role: Role,
        icon: Option<Image>,
    },
    DeleteRole {
        target: Id,
    },
    /// Sets roles' positions: (role, position), higher is above.
    PositionRoles(Vec<(Id, i64)>),
    /// Creates a channel; answers its id.
    CreateChannel {
        channel: Channel,
    },
    /// Sets a channel's fields, parent and overwrites (all of them: the ones it lacks go).
    UpdateChannel {
        target: Id,
        channel: Channel,
    },
    DeleteChannel {
        target: Id,
    },
    /// Sets channels' parents and positions: (channel, parent, position among its siblings).
    PositionChannels(Vec<(Id, Option<Id>, i64)>),
    /// Creates an AutoMod rule; answers its id.
    CreateAutoMod {
        rule: AutoModRule,
    },
    UpdateAutoMod {
        target: Id,
        rule: AutoModRule,
    },
    DeleteAutoMod {
        target: Id,
    },
    /// Replaces onboarding's prompts, default channels, mode and whether it is enabled.
    PutOnboarding {
        onboarding: Onboarding,
    },
    /// Sets the guild's settings (and icon, when `icon` is given).
    UpdateSettings {
        settings: GuildSettings,
        icon: Option<Image>,
    },
    /// Uploads an emoji; answers its id.
    CreateEmoji {
        emoji: Emoji,
        image: Image,
    },
    /// Renames an emoji or changes who may use it.
    UpdateEmoji {
        target: Id,
        emoji: Emoji,
    },
    DeleteEmoji {
        target: Id,
    },
    /// Uploads a sticker; answers its id.
    CreateSticker {
        sticker: Sticker,
        file: Image,
    },
    UpdateSticker {
        target: Id,
        sticker: Sticker,
    },
    DeleteSticker {
        target: Id,
    },
    /// Bans these users (at most 200 at once: Discord's bulk ban); answers nothing. Users Discord
    /// does not ban (unknown, already banned) are not a failure.
    Ban {
        bans: Vec<Ban>,
    },
    /// Sets a member's roles (the whole list: target ids); answers nothing. A member who left is not a
    /// failure (there is nobody to give roles to).
    SetMemberRoles {
        user: Id,
        roles: Vec<Id>,
    },
}

/// What a backup reads of a guild and what a restore writes, as one bot.
pub trait BackupBot: Send + Sync {
    /// The bot's own user id.
    fn user_id(&self) -> Snowflake;
    /// The bot's standing in the guild: whether it is an administrator (the guild's owner counts),
    /// and the roles it holds.
    fn standing(&self, guild: ServerId) -> DiscordFuture<'_, Standing>;
    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, GuildRead>;
    /// Every role, `@everyone` included, each with its icon's URL when it has one.
    fn roles(&self, guild: ServerId) -> DiscordFuture<'_, Vec<(Role, Option<ImageUrl>)>>;
    fn channels(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Channel>>;
    fn auto_moderation(&self, guild: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>>;
    /// `None` when the guild has never set onboarding up.
    fn onboarding(&self, guild: ServerId) -> DiscordFuture<'_, Option<Onboarding>>;
    /// A page of up to 1,000 bans after the user `after`, by user id.
    fn bans(&self, guild: ServerId, after: Option<Id>) -> DiscordFuture<'_, Vec<Ban>>;
    /// A page of up to 1,000 members' roles after the user `after`, by user id.
    fn members(&self, guild: ServerId, after: Option<Id>) -> DiscordFuture<'_, Vec<MemberRoles>>;
    /// Downloads an image a read above named, at most `max_bytes` of it (larger: an error).
    fn download<'a>(&'a self, url: &'a ImageUrl, max_bytes: u64) -> DiscordFuture<'a, Vec<u8>>;
    /// Makes one change; answers the id of what it created.
    fn write(&self, guild: ServerId, write: Write) -> DiscordFuture<'_, Option<Id>>;
}

/// Backups' way to Discord: a [`BackupBot`] for a token, checked with Discord (the same verified
/// tokens as every other route).
pub trait BackupBots: Send + Sync {
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn BackupBot>>;
}
