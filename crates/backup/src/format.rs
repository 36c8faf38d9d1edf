//! The backup format, version 1 (`docs/backup-format.md`): what a backup holds, as JSON. Every
//! reference (a channel's parent, an overwrite's role, an AutoMod rule's exempt roles, ...) is kept by
//! the original id, so a restore can map it onto whatever the target guild has.
//!
//! Reading is lenient where the format may grow: unknown fields are ignored and absent optional
//! fields take their defaults, so a backup made by a newer Garrison of the same format version still
//! reads. `format` says which version wrote it.
//!
//! Images (the guild's and roles' icons, emojis, stickers) are not in the JSON: each image field holds
//! the SHA-256 of the file as 64 lowercase hex digits ([`is_image_hash`]), and the bytes live beside
//! the JSON in object storage under `files/{sha256}`, shared by every version of that backup. Two
//! images are the same exactly when their hashes are equal.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
// AutoMod metadata and actions are kept as Discord writes them, without a Garrison model of every
// trigger type.
use serde_json::Value;

/// The format this crate writes.
pub const FORMAT_VERSION: u32 = 1;

/// Whether `text` is an image field's value: a SHA-256 as 64 lowercase hex digits. Check it before
/// making a storage key (`files/{sha256}`) of a backup that came from outside.
pub fn is_image_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A Discord id, written as a string (as Discord writes them: JavaScript numbers cannot hold them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id(pub u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Text(String),
            Number(u64),
        }
        match Text::deserialize(deserializer)? {
            Text::Number(n) => Ok(Id(n)),
            Text::Text(text) => {
                text.parse().map(Id).map_err(|_| serde::de::Error::custom("an id is a string of digits"))
            }
        }
    }
}

/// A permission bit set, written as a string of digits (as Discord writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Bits(pub u64);

impl Serialize for Bits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bits {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Id::deserialize(deserializer).map(|id| Bits(id.0))
    }
}

/// A whole backup.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    /// [`FORMAT_VERSION`] of the Garrison that wrote it.
    pub format: u32,
    /// When it was taken (RFC 3339).
    pub created_at: String,
    pub guild: GuildSettings,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub auto_moderation: Vec<AutoModRule>,
    #[serde(default)]
    pub onboarding: Option<Onboarding>,
    #[serde(default)]
    pub bans: Vec<Ban>,
    #[serde(default)]
    pub emojis: Vec<Emoji>,
    #[serde(default)]
    pub stickers: Vec<Sticker>,
    /// Members' roles, when the backup was asked to keep them.
    #[serde(default)]
    pub members: Option<Vec<MemberRoles>>,
    /// What the bot could not read, so was not kept (never silently dropped).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Backup {
    /// Every image the backup names (hashes, each once): what object storage must hold beside it.
    pub fn images(&self) -> BTreeSet<&str> {
        let icons = self.guild.icon.iter().chain(self.roles.iter().filter_map(|r| r.icon.as_ref()));
        icons
            .chain(self.emojis.iter().map(|e| &e.image))
            .chain(self.stickers.iter().map(|s| &s.file))
            .map(String::as_str)
            .collect()
    }
}

/// The guild's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GuildSettings {
    pub id: Option<Id>,
    pub name: String,
    /// The icon's SHA-256 (64 lowercase hex digits); its bytes are `files/{sha256}` in object storage.
    pub icon: Option<String>,
    pub description: Option<String>,
    pub verification_level: u8,
    pub default_message_notifications: u8,
    pub explicit_content_filter: u8,
    pub afk_channel: Option<Id>,
    pub afk_timeout: u32,
    pub system_channel: Option<Id>,
    pub system_channel_flags: u64,
    pub rules_channel: Option<Id>,
    pub public_updates_channel: Option<Id>,
    pub preferred_locale: String,
    /// Discord's feature flags (`COMMUNITY`, `NEWS`, `ROLE_ICONS`, ...), as read: what the guild may
    /// use. A restore reads the target's to fit the backup to it, and never writes them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// The guild's boost level (0 to 3), as read; never written.
    #[serde(skip_serializing_if = "is_zero")]
    pub premium_tier: u8,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl GuildSettings {
    /// Whether the guild has the feature flag `feature`.
    pub fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

/// A role's gradient (Discord's `colors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RoleColors {
    pub primary: u32,
    pub secondary: Option<u32>,
    pub tertiary: Option<u32>,
}

/// A role. `@everyone` is the role whose id is the guild's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Role {
    pub id: Id,
    pub name: String,
    pub color: u32,
    pub colors: Option<RoleColors>,
    pub hoist: bool,
    pub mentionable: bool,
    pub permissions: Bits,
    /// Discord's position: higher is above; ties are broken by id.
    pub position: i64,
    /// The icon's SHA-256 (64 lowercase hex digits); its bytes are `files/{sha256}` in object storage.
    pub icon: Option<String>,
    pub unicode_emoji: Option<String>,
    /// Given by an integration (a bot's own role, the booster role): kept for references, never
    /// created or deleted by a restore.
    pub managed: bool,
}

/// Whose permissions an overwrite changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverwriteKind {
    Role,
    Member,
}

/// A permission overwrite of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overwrite {
    /// The role (by its original id) or member.
    pub id: Id,
    pub kind: OverwriteKind,
    pub allow: Bits,
    pub deny: Bits,
}

/// A forum or media channel's tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForumTag {
    pub name: String,
    pub moderated: bool,
    /// A custom emoji (original id, when it is one of the backup's emojis), or null with `emoji_name` a
    /// Unicode emoji.
    pub emoji_id: Option<Id>,
    pub emoji_name: Option<String>,
}

/// A channel of any type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Channel {
    pub id: Id,
    /// Discord's type: 0 text, 2 voice, 4 category, 5 announcement, 13 stage, 15 forum, 16 media.
    pub kind: u8,
    pub name: String,
    /// The category it is in (original id).
    pub parent: Option<Id>,
    pub position: i64,
    pub topic: Option<String>,
    pub nsfw: bool,
    /// Slowmode, in seconds.
    pub rate_limit_per_user: u32,
    pub bitrate: Option<u32>,
    pub user_limit: Option<u32>,
    pub rtc_region: Option<String>,
    pub default_auto_archive_duration: Option<u32>,
    pub available_tags: Vec<ForumTag>,
    /// A custom emoji's id (digits: an original id when it is one of the backup's emojis), or a Unicode
    /// emoji.
    pub default_reaction_emoji: Option<String>,
    pub overwrites: Vec<Overwrite>,
}

/// Discord's category type.
pub const CATEGORY: u8 = 4;

/// An AutoMod rule: Discord's fields, kept as written, with its references by original id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoModRule {
    pub id: Id,
    pub name: String,
    pub event_type: u8,
    pub trigger_type: u8,
    pub trigger_metadata: Value,
    pub actions: Value,
    pub enabled: bool,
    pub exempt_roles: Vec<Id>,
    pub exempt_channels: Vec<Id>,
}

/// Onboarding: prompts whose options name channels and roles.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Onboarding {
    pub enabled: bool,
    pub mode: u8,
    pub default_channels: Vec<Id>,
    pub prompts: Vec<OnboardingPrompt>,
}

/// One onboarding question.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OnboardingPrompt {
    pub title: String,
    pub kind: u8,
    pub single_select: bool,
    pub required: bool,
    pub in_onboarding: bool,
    pub options: Vec<OnboardingOption>,
}

/// One answer to an onboarding question: the channels it shows and the roles it gives.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OnboardingOption {
    pub title: String,
    pub description: Option<String>,
    /// A custom emoji (original id, when it is one of the backup's emojis), or null with `emoji_name` a
    /// Unicode emoji.
    pub emoji_id: Option<Id>,
    pub emoji_name: Option<String>,
    pub channels: Vec<Id>,
    pub roles: Vec<Id>,
}

/// A ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ban {
    pub user: Id,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A custom emoji; its image's bytes are in object storage under `files/{image}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emoji {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub animated: bool,
    /// Roles allowed to use it (original ids; empty: everyone).
    #[serde(default)]
    pub roles: Vec<Id>,
    /// The image's SHA-256 (64 lowercase hex digits). Discord cannot change an emoji's image.
    pub image: String,
}

/// A sticker; its file's bytes are in object storage under `files/{file}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sticker {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: String,
    /// Discord's format type: 1 PNG, 2 APNG, 3 Lottie, 4 GIF.
    pub format: u8,
    /// The file's SHA-256 (64 lowercase hex digits). Discord cannot change a sticker's file.
    pub file: String,
}

/// A member and the roles they held (original ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRoles {
    pub user: Id,
    pub roles: Vec<Id>,
}
