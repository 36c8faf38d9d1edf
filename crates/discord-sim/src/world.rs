//! All of the simulator's state: users and bots, guilds with their roles, members, bans and
//! auto-moderation rules, channels, messages, invites, interactions and the audit log.
//!
//! Tests build a `World` with the builder methods, hand it to [`crate::Simulator::start`], and
//! read or change it mid-test through [`crate::Simulator::world`]. Builder methods panic when given
//! ids that do not exist: that is a bug in the test's setup, not a Discord error.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use serde_json::Value;

use crate::gateway::{Effect, intents};
use crate::oauth::OAuthState;
use crate::permissions;
use crate::time::{DISCORD_EPOCH_MS, Timestamp};

/// A bot account: its user id and the token it authenticates with (`Authorization: Bot <token>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    /// The bot's user id (also its application id).
    pub user_id: u64,
    /// A token shaped like Discord's: base64 of the id, a dot, and two random parts.
    pub token: String,
}

/// A user (people and bots alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// Snowflake; its timestamp is the account's creation time.
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// Display name, if set.
    pub global_name: Option<String>,
    /// Avatar hash, if set.
    pub avatar: Option<String>,
    /// Whether this is a bot account.
    pub bot: bool,
    /// Whether the user accepts direct messages from bots (default true).
    pub dms_open: bool,
    /// Whether the user counts as online in approximate presence counts.
    pub online: bool,
    /// The account's email address (people get `{username}@example.com`; bots have none). Only a
    /// bearer token with the `email` scope reads it.
    pub email: Option<String>,
}

/// A guild's own settings (roles, members and the rest have their own views).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildView {
    /// Snowflake; also the id of the `@everyone` role.
    pub id: u64,
    /// Name.
    pub name: String,
    /// The owner's user id.
    pub owner_id: u64,
    /// Feature flags such as `"COMMUNITY"` or `"ROLE_ICONS"`.
    pub features: Vec<String>,
    /// Boost tier, 0 to 3.
    pub premium_tier: u8,
    /// Icon hash, if set.
    pub icon: Option<String>,
    /// Description, if set.
    pub description: Option<String>,
    /// The vanity invite code (`discord.gg/CODE`), if set.
    pub vanity_url_code: Option<String>,
    /// Banner hash, if set.
    pub banner: Option<String>,
    /// Invite splash hash, if set.
    pub splash: Option<String>,
    /// Discovery splash hash, if set.
    pub discovery_splash: Option<String>,
    /// 0 none, 1 low, 2 medium, 3 high, 4 very high.
    pub verification_level: u8,
    /// 0 all messages, 1 only mentions.
    pub default_message_notifications: u8,
    /// 0 disabled, 1 members without roles, 2 all members.
    pub explicit_content_filter: u8,
    /// 0 none, 1 moderators need two-factor authentication (not settable by bots).
    pub mfa_level: u8,
    /// The AFK voice channel.
    pub afk_channel_id: Option<u64>,
    /// Seconds before a member idle in voice is moved to the AFK channel: 60, 300, 900, 1800 or 3600.
    pub afk_timeout: u32,
    /// Where system messages (joins, boosts) are posted.
    pub system_channel_id: Option<u64>,
    /// System channel flags (bits that suppress kinds of system messages).
    pub system_channel_flags: u64,
    /// A Community guild's rules channel.
    pub rules_channel_id: Option<u64>,
    /// A Community guild's channel for notices from Discord.
    pub public_updates_channel_id: Option<u64>,
    /// Where safety alerts are posted.
    pub safety_alerts_channel_id: Option<u64>,
    /// A Community guild's language (`"en-US"` by default).
    pub preferred_locale: String,
    /// Whether the boost progress bar is shown.
    pub premium_progress_bar_enabled: bool,
}

/// A role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    /// Snowflake (the guild's id for `@everyone`).
    pub id: u64,
    /// The guild it belongs to.
    pub guild_id: u64,
    /// Name.
    pub name: String,
    /// Permission bits (see [`crate::permissions`]).
    pub permissions: u64,
    /// Position; higher is higher in the list. `@everyone` is 0.
    pub position: i32,
    /// RGB color, 0 for none.
    pub color: u32,
    /// The gradient's second and third colours (`colors.secondary_color` / `tertiary_color`), only in
    /// guilds with `ENHANCED_ROLE_COLORS`.
    pub gradient: (Option<u32>, Option<u32>),
    /// Shown separately in the member list.
    pub hoist: bool,
    /// Managed by an integration (a bot's own role, the booster role); cannot be assigned.
    pub managed: bool,
    /// Mentionable by everyone.
    pub mentionable: bool,
    /// Role icon hash.
    pub icon: Option<String>,
    /// Role icon emoji.
    pub unicode_emoji: Option<String>,
    /// The guild's booster role (`tags.premium_subscriber`).
    pub premium_subscriber: bool,
    /// The bot this role belongs to (`tags.bot_id`).
    pub bot_id: Option<u64>,
}

/// A guild member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The guild.
    pub guild_id: u64,
    /// The member's user id.
    pub user_id: u64,
    /// Guild nickname.
    pub nick: Option<String>,
    /// Role ids, without `@everyone`.
    pub roles: Vec<u64>,
    /// When the user joined.
    pub joined_at: Timestamp,
    /// When the user started boosting the guild.
    pub premium_since: Option<Timestamp>,
    /// Timed out until this moment (in the past means not timed out).
    pub communication_disabled_until: Option<Timestamp>,
    /// Has not yet passed membership screening.
    pub pending: bool,
    /// Server-muted in voice.
    pub mute: bool,
    /// Server-deafened in voice.
    pub deaf: bool,
}

/// A member's voice connection in a guild (Discord's voice state object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceStateView {
    /// The guild.
    pub guild_id: u64,
    /// The member.
    pub user_id: u64,
    /// The voice or stage channel they are in.
    pub channel_id: u64,
    /// The voice session's id (32 hex digits).
    pub session_id: String,
    /// Server-deafened (the member's `deaf`).
    pub deaf: bool,
    /// Server-muted (the member's `mute`).
    pub mute: bool,
    /// Deafened themselves.
    pub self_deaf: bool,
    /// Muted themselves.
    pub self_mute: bool,
    /// Streaming ("Go Live").
    pub self_stream: bool,
    /// Camera on.
    pub self_video: bool,
    /// Suppressed (a stage's audience; true on joining a stage channel).
    pub suppress: bool,
    /// When they asked to speak on a stage.
    pub request_to_speak_timestamp: Option<Timestamp>,
}

/// A ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanView {
    /// The banned user.
    pub user_id: u64,
    /// The reason given (from `X-Audit-Log-Reason`).
    pub reason: Option<String>,
}

/// A permission overwrite on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    /// The role or member it applies to.
    pub id: u64,
    /// 0 for a role, 1 for a member.
    pub kind: u8,
    /// Permissions allowed.
    pub allow: u64,
    /// Permissions denied.
    pub deny: u64,
}

/// A channel (guild channel or DM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelView {
    /// Snowflake.
    pub id: u64,
    /// The guild, `None` for DMs.
    pub guild_id: Option<u64>,
    /// Discord channel type: 0 text, 1 DM, 2 voice, 4 category, 5 announcement, 13 stage, 15 forum,
    /// 16 media.
    pub kind: u8,
    /// Name (empty for DMs).
    pub name: String,
    /// Sorting position.
    pub position: i32,
    /// The category it sits in.
    pub parent_id: Option<u64>,
    /// Permission overwrites.
    pub overwrites: Vec<Overwrite>,
    /// Topic.
    pub topic: Option<String>,
    /// Age-restricted.
    pub nsfw: bool,
    /// Slowmode, in seconds.
    pub rate_limit_per_user: u32,
    /// Voice bitrate.
    pub bitrate: u32,
    /// Voice user limit, 0 for none.
    pub user_limit: u32,
    /// Voice region override (`None`: automatic).
    pub rtc_region: Option<String>,
    /// DM recipients (the user the DM is with).
    pub recipients: Vec<u64>,
    /// The latest message's id.
    pub last_message_id: Option<u64>,
    /// Minutes of inactivity before new threads archive (60, 1440, 4320, 10080).
    pub default_auto_archive_duration: u32,
    /// Slowmode of new threads, in seconds.
    pub default_thread_rate_limit_per_user: u32,
    /// A forum's or media channel's tags.
    pub available_tags: Vec<ForumTag>,
    /// A forum's or media channel's default reaction.
    pub default_reaction_emoji: Option<DefaultReaction>,
    /// A forum's or media channel's default sort order (0 latest activity, 1 creation date).
    pub default_sort_order: Option<u8>,
    /// A forum's default layout (0 not set, 1 list, 2 gallery).
    pub default_forum_layout: u8,
    /// A voice or stage channel's camera quality (1 auto, 2 720p), when set.
    pub video_quality_mode: Option<u8>,
    /// Channel flags (16 REQUIRE_TAG on forums and media channels, 32768 HIDE_MEDIA_DOWNLOAD_OPTIONS).
    pub flags: u64,
}

impl ChannelView {
    /// A guild channel with Discord's defaults for its type.
    pub(crate) fn new_in_guild(id: u64, guild: u64, kind: u8, name: &str, parent: Option<u64>, position: i32) -> Self {
        let mut channel = Self::blank(id, kind, name);
        channel.guild_id = Some(guild);
        channel.parent_id = parent;
        channel.position = position;
        if matches!(kind, 2 | 13) {
            channel.bitrate = 64_000;
        }
        channel
    }

    fn blank(id: u64, kind: u8, name: &str) -> Self {
        ChannelView {
            id,
            guild_id: None,
            kind,
            name: name.to_owned(),
            position: 0,
            parent_id: None,
            overwrites: Vec::new(),
            topic: None,
            nsfw: false,
            rate_limit_per_user: 0,
            bitrate: 0,
            user_limit: 0,
            rtc_region: None,
            recipients: Vec::new(),
            last_message_id: None,
            default_auto_archive_duration: 1440,
            default_thread_rate_limit_per_user: 0,
            available_tags: Vec::new(),
            default_reaction_emoji: None,
            default_sort_order: None,
            default_forum_layout: 0,
            video_quality_mode: None,
            flags: 0,
        }
    }
}

/// A tag of a forum or media channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumTag {
    /// Snowflake.
    pub id: u64,
    /// Name (at most 20 characters).
    pub name: String,
    /// Only members with MANAGE_THREADS may apply it.
    pub moderated: bool,
    /// A guild emoji shown with it.
    pub emoji_id: Option<u64>,
    /// A Unicode emoji shown with it.
    pub emoji_name: Option<String>,
}

/// The reaction a forum or media channel adds to new posts: a guild emoji or a Unicode one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultReaction {
    /// A guild emoji.
    pub emoji_id: Option<u64>,
    /// A Unicode emoji.
    pub emoji_name: Option<String>,
}

/// A message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    /// Snowflake; its timestamp is when the message was sent.
    pub id: u64,
    /// The channel.
    pub channel_id: u64,
    /// The author's user id.
    pub author_id: u64,
    /// Text content.
    pub content: String,
    /// Embeds, as Discord returns them.
    pub embeds: Vec<Value>,
    /// Components, as Discord returns them (with `id`s assigned).
    pub components: Vec<Value>,
    /// Attachments, as Discord returns them.
    pub attachments: Vec<Value>,
    /// When it was last edited.
    pub edited_timestamp: Option<Timestamp>,
    /// Message flags (64 ephemeral, 128 loading, 4 suppress embeds, ...).
    pub flags: u64,
    /// Discord message type: 0 default, 19 reply, 20 chat input command.
    pub kind: u8,
    /// Pinned.
    pub pinned: bool,
    /// Text-to-speech.
    pub tts: bool,
    /// Users mentioned (`<@id>` in the content).
    pub mentions: Vec<u64>,
    /// Roles mentioned (`<@&id>` in the content).
    pub mention_roles: Vec<u64>,
    /// Roles whose members were notified (created through `POST /channels/{id}/messages`): mentioned,
    /// allowed by `allowed_mentions`, and mentionable or the author holds MENTION_EVERYONE. Discord
    /// does not show this; the simulator keeps it so tests can tell a ping from a mention.
    pub pinged_roles: Vec<u64>,
    /// Mentions `@everyone` or `@here` (and was allowed to).
    pub mention_everyone: bool,
    /// The webhook (application) that sent it, for interaction responses.
    pub webhook_id: Option<u64>,
    /// The application that sent it, for interaction responses.
    pub application_id: Option<u64>,
    /// The interaction it answers.
    pub interaction_id: Option<u64>,
    /// The message it replies to, as sent.
    pub message_reference: Option<Value>,
    /// Reactions as Discord lists them (`{count, count_details, me, me_burst, emoji, burst_colors}`).
    pub reactions: Vec<Value>,
    /// Stickers as Discord lists them (`{id, name, format_type}`).
    pub sticker_items: Vec<Value>,
}

impl MessageView {
    /// When the message was sent (from its snowflake).
    pub fn timestamp(&self) -> Timestamp {
        Timestamp::of_snowflake(self.id)
    }
}

/// An invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteView {
    /// The code, as in `discord.gg/<code>`.
    pub code: String,
    /// The guild it invites to.
    pub guild_id: u64,
    /// The channel it opens on.
    pub channel_id: u64,
    /// Who created it.
    pub inviter: Option<u64>,
    /// How many times it was used.
    pub uses: u32,
}

/// An auto-moderation rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomodRuleView {
    /// Snowflake.
    pub id: u64,
    /// The guild.
    pub guild_id: u64,
    /// Who created it.
    pub creator_id: u64,
    /// Name.
    pub name: String,
    /// Enabled.
    pub enabled: bool,
    /// 1 KEYWORD, 3 SPAM, 4 KEYWORD_PRESET, 5 MENTION_SPAM, 6 MEMBER_PROFILE.
    pub trigger_type: u8,
    /// 1 MESSAGE_SEND, 2 MEMBER_UPDATE (MEMBER_PROFILE rules).
    pub event_type: u8,
    /// Words that trigger it (KEYWORD, MEMBER_PROFILE).
    pub keyword_filter: Vec<String>,
    /// Regular expressions that trigger it (KEYWORD, MEMBER_PROFILE).
    pub regex_patterns: Vec<String>,
    /// Words exempt from it (KEYWORD, KEYWORD_PRESET, MEMBER_PROFILE).
    pub allow_list: Vec<String>,
    /// Discord's word lists (KEYWORD_PRESET): 1 profanity, 2 sexual content, 3 slurs.
    pub presets: Vec<u8>,
    /// Unique mentions a message may hold (MENTION_SPAM).
    pub mention_total_limit: u32,
    /// Mention raid detection (MENTION_SPAM).
    pub mention_raid_protection_enabled: bool,
    /// What it does when triggered.
    pub actions: Vec<AutomodAction>,
    /// Roles it does not apply to.
    pub exempt_roles: Vec<u64>,
    /// Channels it does not apply to.
    pub exempt_channels: Vec<u64>,
}

/// What an auto-moderation rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomodAction {
    /// 1 BLOCK_MESSAGE, 2 SEND_ALERT_MESSAGE, 3 TIMEOUT, 4 BLOCK_MEMBER_INTERACTION.
    pub kind: u8,
    /// BLOCK_MESSAGE: the explanation shown to the member.
    pub custom_message: Option<String>,
    /// SEND_ALERT_MESSAGE: where the alert goes.
    pub channel_id: Option<u64>,
    /// TIMEOUT: how long.
    pub duration_seconds: Option<u32>,
}

impl AutomodAction {
    /// BLOCK_MESSAGE without a custom message.
    pub fn block() -> Self {
        Self { kind: 1, custom_message: None, channel_id: None, duration_seconds: None }
    }
}

/// A custom emoji of a guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiView {
    /// Snowflake.
    pub id: u64,
    /// The guild.
    pub guild_id: u64,
    /// Name (2 to 32 letters, digits and underscores).
    pub name: String,
    /// Roles allowed to use it (empty: everyone).
    pub roles: Vec<u64>,
    /// Animated (uploaded as an animated GIF or WebP).
    pub animated: bool,
    /// Managed by an integration.
    pub managed: bool,
    /// Usable (false when a lost boost tier took its slot away).
    pub available: bool,
    /// Who uploaded it.
    pub creator_id: Option<u64>,
    /// The uploaded file's format (served as uploaded on the simulator's CDN).
    pub format: crate::images::ImageFormat,
}

/// A custom sticker of a guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickerView {
    /// Snowflake.
    pub id: u64,
    /// The guild.
    pub guild_id: u64,
    /// Name (2 to 30 characters).
    pub name: String,
    /// Description (empty, or 2 to 100 characters).
    pub description: Option<String>,
    /// Autocomplete tags (at most 200 characters).
    pub tags: String,
    /// 1 PNG, 2 APNG, 3 LOTTIE, 4 GIF.
    pub format_type: u8,
    /// Usable.
    pub available: bool,
    /// Who uploaded it.
    pub creator_id: Option<u64>,
}

/// A guild's onboarding: the questions new members answer and the channels they start with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnboardingView {
    /// The questions.
    pub prompts: Vec<OnboardingPrompt>,
    /// Channels every new member starts in.
    pub default_channel_ids: Vec<u64>,
    /// Shown to new members.
    pub enabled: bool,
    /// 0 default (only default channels count towards the requirements), 1 advanced (prompts too).
    pub mode: u8,
}

/// One onboarding question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingPrompt {
    /// Snowflake.
    pub id: u64,
    /// 0 multiple choice, 1 dropdown.
    pub kind: u8,
    /// The question (1 to 100 characters).
    pub title: String,
    /// The answers (1 to 50).
    pub options: Vec<OnboardingOption>,
    /// Only one answer may be chosen.
    pub single_select: bool,
    /// Must be answered.
    pub required: bool,
    /// Asked during onboarding (else only in Channels & Roles).
    pub in_onboarding: bool,
}

/// One answer of an onboarding question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingOption {
    /// Snowflake.
    pub id: u64,
    /// Title (1 to 50 characters).
    pub title: String,
    /// Description (at most 100 characters).
    pub description: Option<String>,
    /// A guild emoji.
    pub emoji_id: Option<u64>,
    /// A Unicode emoji (or the guild emoji's name).
    pub emoji_name: Option<String>,
    /// The guild emoji is animated.
    pub emoji_animated: bool,
    /// Roles given to members who choose it.
    pub role_ids: Vec<u64>,
    /// Channels opened to members who choose it.
    pub channel_ids: Vec<u64>,
}

/// What an audit log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// A member was kicked.
    MemberKick,
    /// A user was banned.
    MemberBanAdd,
    /// A ban was lifted.
    MemberBanRemove,
    /// A member's nickname or timeout changed.
    MemberUpdate,
    /// A member's roles changed.
    MemberRoleUpdate,
    /// A role was created.
    RoleCreate,
    /// A role was edited or moved.
    RoleUpdate,
    /// A role was deleted.
    RoleDelete,
    /// A channel was edited or moved.
    ChannelUpdate,
    /// Messages were deleted (by a ban's `delete_message_seconds`).
    MessageBulkDelete,
    /// The guild's settings changed.
    GuildUpdate,
    /// A channel was created.
    ChannelCreate,
    /// A channel was deleted.
    ChannelDelete,
    /// A permission overwrite was added to a channel.
    ChannelOverwriteCreate,
    /// A channel's permission overwrite changed.
    ChannelOverwriteUpdate,
    /// A channel's permission overwrite was removed.
    ChannelOverwriteDelete,
    /// An emoji was created.
    EmojiCreate,
    /// An emoji was renamed or its roles changed.
    EmojiUpdate,
    /// An emoji was deleted.
    EmojiDelete,
    /// A sticker was created.
    StickerCreate,
    /// A sticker was edited.
    StickerUpdate,
    /// A sticker was deleted.
    StickerDelete,
    /// An auto-moderation rule was created.
    AutoModerationRuleCreate,
    /// An auto-moderation rule was edited.
    AutoModerationRuleUpdate,
    /// An auto-moderation rule was deleted.
    AutoModerationRuleDelete,
    /// The onboarding changed.
    OnboardingUpdate,
}

impl AuditAction {
    /// Discord's audit log event number.
    pub fn code(self) -> u16 {
        match self {
            Self::GuildUpdate => 1,
            Self::ChannelCreate => 10,
            Self::ChannelUpdate => 11,
            Self::ChannelDelete => 12,
            Self::ChannelOverwriteCreate => 13,
            Self::ChannelOverwriteUpdate => 14,
            Self::ChannelOverwriteDelete => 15,
            Self::EmojiCreate => 60,
            Self::EmojiUpdate => 61,
            Self::EmojiDelete => 62,
            Self::StickerCreate => 90,
            Self::StickerUpdate => 91,
            Self::StickerDelete => 92,
            Self::AutoModerationRuleCreate => 140,
            Self::AutoModerationRuleUpdate => 141,
            Self::AutoModerationRuleDelete => 142,
            Self::OnboardingUpdate => 167,
            Self::MemberKick => 20,
            Self::MemberBanAdd => 22,
            Self::MemberBanRemove => 23,
            Self::MemberUpdate => 24,
            Self::MemberRoleUpdate => 25,
            Self::RoleCreate => 30,
            Self::RoleUpdate => 31,
            Self::RoleDelete => 32,
            Self::MessageBulkDelete => 73,
        }
    }
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLogEntry {
    /// The guild.
    pub guild_id: u64,
    /// Who did it.
    pub actor_id: u64,
    /// What was done.
    pub action: AuditAction,
    /// The member, user, role or channel it was done to.
    pub target_id: u64,
    /// The decoded `X-Audit-Log-Reason`.
    pub reason: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// An application command interaction whose webhook (`/webhooks/{application_id}/{token}`) and
/// callback (`/interactions/{id}/{token}/callback`) routes the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionView {
    /// Snowflake.
    pub id: u64,
    /// The application (the bot's user id).
    pub application_id: u64,
    /// Discord's interaction type: 2 APPLICATION_COMMAND (the only type simulated).
    pub kind: u8,
    /// The secret token in its routes.
    pub token: String,
    /// The guild it was invoked in (`None` in a DM).
    pub guild_id: Option<u64>,
    /// Where it was invoked.
    pub channel_id: u64,
    /// The user who invoked it.
    pub user_id: u64,
    /// The `data` INTERACTION_CREATE carried (`{id, name, type, options, resolved, guild_id}`);
    /// `None` for interactions made with [`World::add_interaction`] or
    /// [`World::add_pending_interaction`], which send nothing.
    pub data: Option<Value>,
    /// The `member` object sent with it (with `permissions`, the member's in the channel), for
    /// interactions in a guild the user is a member of.
    pub member: Option<Value>,
    /// When it was created: the first callback must come within the response window (3 s), and
    /// its token works for 15 minutes.
    pub created_at: Timestamp,
    /// Whether a callback was made (or the interaction was created acknowledged).
    pub acknowledged: bool,
    /// The callback type it was answered with (4 message, 5 deferred, ...), once answered.
    pub response_type: Option<u8>,
    /// When the callback came.
    pub responded_at: Option<Timestamp>,
    /// The original response message, once there is one.
    pub original_message: Option<u64>,
}

impl RoleView {
    /// A role with nothing but a name, permissions and a position: no colour, not hoisted, managed
    /// or mentionable, no icon or tags.
    pub(crate) fn plain(id: u64, guild_id: u64, name: impl Into<String>, permissions: u64, position: i32) -> Self {
        Self {
            id,
            guild_id,
            name: name.into(),
            permissions,
            position,
            color: 0,
            gradient: (None, None),
            hoist: false,
            managed: false,
            mentionable: false,
            icon: None,
            unicode_emoji: None,
            premium_subscriber: false,
            bot_id: None,
        }
    }
}

/// A guild and everything in it.
#[derive(Debug, Clone)]
pub(crate) struct GuildState {
    pub(crate) info: GuildView,
    pub(crate) roles: BTreeMap<u64, RoleView>,
    pub(crate) members: BTreeMap<u64, MemberView>,
    pub(crate) bans: BTreeMap<u64, BanView>,
    pub(crate) automod: BTreeMap<u64, AutomodRuleView>,
    /// Members in voice, by user id.
    pub(crate) voice_states: BTreeMap<u64, VoiceStateView>,
    pub(crate) emojis: BTreeMap<u64, EmojiView>,
    pub(crate) stickers: BTreeMap<u64, StickerView>,
    pub(crate) onboarding: OnboardingView,
}

/// Random numbers from std's randomly keyed hasher: enough for tokens in a test double.
#[derive(Debug, Clone)]
struct Entropy {
    keys: RandomState,
    counter: u64,
}

impl Entropy {
    fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.counter);
        hasher.finish()
    }

    /// `len` characters of the URL-safe base64 alphabet.
    fn text(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(URL_SAFE[(self.next_u64() % 64) as usize])).collect()
    }

    /// `len` lowercase hexadecimal digits (gateway and voice session ids look like this).
    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b"0123456789abcdef"[(self.next_u64() % 16) as usize])).collect()
    }

    /// `len` letters and digits (Discord's OAuth2 codes and tokens look like this).
    fn alphanumeric(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(URL_SAFE[(self.next_u64() % 62) as usize])).collect()
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded standard base64, as in the first part of a bot token.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(STANDARD[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A bot's daily session starts (`session_start_limit` of `GET /gateway/bot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionStarts {
    pub(crate) total: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_at: Timestamp,
}

/// How long until session starts are replenished (a day, as in Discord).
const SESSION_START_PERIOD_MS: i64 = 24 * 60 * 60 * 1000;

/// The whole simulated Discord.
#[derive(Debug, Clone)]
pub struct World {
    last_snowflake: u64,
    entropy: Entropy,
    pub(crate) users: BTreeMap<u64, UserView>,
    pub(crate) tokens: HashMap<String, u64>,
    pub(crate) without_members_intent: HashSet<u64>,
    /// GUILD_PRESENCES and MESSAGE_CONTENT bits turned off, by bot.
    pub(crate) without_intents: HashMap<u64, u64>,
    /// Session starts left, by bot (created on first use).
    pub(crate) session_starts: HashMap<u64, SessionStarts>,
    /// What changed since the simulator last published to gateway sessions.
    pub(crate) events: Vec<Effect>,
    /// Whether any gateway session exists (else nothing is queued in `events`).
    pub(crate) gateway_listening: bool,
    /// `ws://` address of the simulator's gateway (set when a simulator starts).
    pub(crate) gateway_url: String,
    generated_members: u64,
    pub(crate) guilds: BTreeMap<u64, GuildState>,
    pub(crate) channels: BTreeMap<u64, ChannelView>,
    pub(crate) messages: BTreeMap<u64, MessageView>,
    pub(crate) invites: BTreeMap<String, InviteView>,
    pub(crate) interactions: BTreeMap<u64, InteractionView>,
    /// How long after its creation an interaction takes its first callback, in milliseconds.
    pub(crate) interaction_window_ms: i64,
    /// Application commands, by id.
    pub(crate) commands: BTreeMap<u64, crate::commands::ApplicationCommandView>,
    pub(crate) audit_log: Vec<AuditLogEntry>,
    pub(crate) attachment_bytes: HashMap<u64, Vec<u8>>,
    /// Files served on the simulator's CDN, by path under `/sim/cdn` without the extension
    /// (`emojis/{id}`, `stickers/{id}`, `icons/{guild}/{hash}`, ...). Entries go with what they
    /// belong to.
    pub(crate) cdn: HashMap<String, crate::images::Asset>,
    pub(crate) oauth: OAuthState,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// An empty world.
    pub fn new() -> World {
        World {
            last_snowflake: 0,
            entropy: Entropy { keys: RandomState::new(), counter: 0 },
            users: BTreeMap::new(),
            tokens: HashMap::new(),
            without_members_intent: HashSet::new(),
            without_intents: HashMap::new(),
            session_starts: HashMap::new(),
            events: Vec::new(),
            gateway_listening: false,
            gateway_url: String::new(),
            generated_members: 0,
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            invites: BTreeMap::new(),
            interactions: BTreeMap::new(),
            interaction_window_ms: crate::interactions::RESPONSE_WINDOW_MS,
            commands: BTreeMap::new(),
            audit_log: Vec::new(),
            attachment_bytes: HashMap::new(),
            cdn: HashMap::new(),
            oauth: OAuthState::default(),
        }
    }

    /// A random 64-bit number (for secrets, not ids).
    pub(crate) fn random_u64(&mut self) -> u64 {
        self.entropy.next_u64()
    }

    /// `len` random letters and digits, for OAuth2 codes, tokens and secrets.
    pub(crate) fn random_alphanumeric(&mut self, len: usize) -> String {
        self.entropy.alphanumeric(len)
    }

    /// `len` random hexadecimal digits.
    pub(crate) fn random_hex(&mut self, len: usize) -> String {
        self.entropy.hex(len)
    }

    /// A new snowflake minted now, greater than every snowflake minted before.
    pub(crate) fn next_id(&mut self) -> u64 {
        let at = Timestamp::now().unix_ms() - DISCORD_EPOCH_MS;
        let id = (u64::try_from(at).unwrap_or(0) << 22).max(self.last_snowflake + 1);
        self.last_snowflake = id;
        id
    }

    // ----- users -----

    /// Adds a bot user and returns its id and token. Its application id is its user id.
    pub fn add_bot(&mut self, name: &str) -> Bot {
        let user_id = self.insert_user(name, None, true);
        let token =
            format!("{}.{}.{}", base64(user_id.to_string().as_bytes()), self.entropy.text(6), self.entropy.text(38));
        self.tokens.insert(token.clone(), user_id);
        if let Some(user) = self.users.get_mut(&user_id) {
            user.online = true;
        }
        Bot { user_id, token }
    }

    /// A token shaped like a bot's (base64 of a fresh snowflake, a dot, two random parts) that no bot
    /// has: Discord answers it 401.
    pub fn unknown_bot_token(&mut self) -> String {
        let id = self.next_id();
        format!("{}.{}.{}", base64(id.to_string().as_bytes()), self.entropy.text(6), self.entropy.text(38))
    }

    /// Adds a person's account created now; returns its id.
    pub fn add_user(&mut self, name: &str) -> u64 {
        self.insert_user(name, None, false)
    }

    /// Adds a person's account created at `created` (its snowflake carries that time); returns its id.
    pub fn add_user_created_at(&mut self, name: &str, created: Timestamp) -> u64 {
        self.insert_user(name, Some(created), false)
    }

    fn insert_user(&mut self, name: &str, created: Option<Timestamp>, bot: bool) -> u64 {
        let id = match created {
            Some(at) => {
                let since_epoch = u64::try_from(at.unix_ms() - DISCORD_EPOCH_MS).unwrap_or(0);
                let mut id = since_epoch << 22 | (self.entropy.next_u64() & 0x3f_ffff);
                while self.users.contains_key(&id) {
                    id += 1;
                }
                id
            }
            None => self.next_id(),
        };
        let username = name.to_lowercase().replace(' ', "_");
        let user = UserView {
            id,
            email: (!bot).then(|| format!("{username}@example.com")),
            username,
            global_name: (!bot).then(|| name.to_owned()),
            avatar: None,
            bot,
            dms_open: true,
            online: false,
        };
        self.users.insert(id, user);
        id
    }

    fn user_mut(&mut self, user: u64) -> &mut UserView {
        self.users.get_mut(&user).unwrap_or_else(|| panic!("unknown user {user}"))
    }

    /// Whether `user` accepts DMs; when closed, a bot's message to their DM channel gets 403 50007.
    pub fn set_dms_open(&mut self, user: u64, open: bool) {
        self.user_mut(user).dms_open = open;
    }

    /// Whether `user` counts as online in approximate presence counts (bots start online).
    pub fn set_online(&mut self, user: u64, online: bool) {
        self.user_mut(user).online = online;
    }

    /// Sets a user's avatar hash.
    pub fn set_avatar(&mut self, user: u64, avatar: Option<&str>) {
        self.user_mut(user).avatar = avatar.map(str::to_owned);
        self.emit_user_update(user);
    }

    /// Sets a user's display name.
    pub fn set_global_name(&mut self, user: u64, name: Option<&str>) {
        self.user_mut(user).global_name = name.map(str::to_owned);
        self.emit_user_update(user);
    }

    /// Sets a user's email address (what `GET /users/@me` answers to a bearer token with `email`).
    pub fn set_email(&mut self, user: u64, email: Option<&str>) {
        self.user_mut(user).email = email.map(str::to_owned);
    }

    /// Turns the privileged GUILD_MEMBERS intent off (or back on) for a bot: without it, listing a
    /// guild's members answers 403 50001 as Discord does, and an IDENTIFY asking for it is closed
    /// with 4014. Privileged intents start enabled.
    pub fn set_members_intent(&mut self, bot: u64, enabled: bool) {
        if enabled {
            self.without_members_intent.remove(&bot);
        } else {
            self.without_members_intent.insert(bot);
        }
    }

    /// Turns the privileged GUILD_PRESENCES intent off (or back on) for a bot: an IDENTIFY asking
    /// for it without it is closed with 4014.
    pub fn set_presences_intent(&mut self, bot: u64, enabled: bool) {
        self.set_privileged(bot, intents::GUILD_PRESENCES, enabled);
    }

    /// Turns the privileged MESSAGE_CONTENT intent off (or back on) for a bot: an IDENTIFY asking
    /// for it without it is closed with 4014.
    pub fn set_message_content_intent(&mut self, bot: u64, enabled: bool) {
        self.set_privileged(bot, intents::MESSAGE_CONTENT, enabled);
    }

    fn set_privileged(&mut self, bot: u64, bit: u64, enabled: bool) {
        let off = self.without_intents.entry(bot).or_default();
        if enabled {
            *off &= !bit;
        } else {
            *off |= bit;
        }
    }

    /// The privileged intents enabled for a bot (bits of [`crate::intents::PRIVILEGED`]).
    pub fn privileged_intents(&self, bot: u64) -> u64 {
        let mut off = self.without_intents.get(&bot).copied().unwrap_or(0);
        if self.without_members_intent.contains(&bot) {
            off |= intents::GUILD_MEMBERS;
        }
        intents::PRIVILEGED & !off
    }

    /// Gives a bot a new token, as Discord does when it hits its daily session start limit: the
    /// old token stops working on every route and on the gateway, and the bot's gateway sessions
    /// are closed with 4004. Returns the new token.
    ///
    /// # Panics
    /// If `bot` is not a bot.
    pub fn reset_token(&mut self, bot: u64) -> String {
        assert!(self.users.get(&bot).is_some_and(|u| u.bot), "{bot} is not a bot");
        self.tokens.retain(|_, user| *user != bot);
        let token =
            format!("{}.{}.{}", base64(bot.to_string().as_bytes()), self.entropy.text(6), self.entropy.text(38));
        self.tokens.insert(token.clone(), bot);
        if self.gateway_listening {
            self.events.push(Effect::EndSessions { bot, code: 4004, reason: "Authentication failed." });
        }
        token
    }

    /// The bot whose token this is.
    pub(crate) fn bot_of_token(&self, token: &str) -> Option<u64> {
        self.tokens.get(token).copied()
    }

    /// Sets how many session starts (gateway IDENTIFYs) a bot has left today and when they are
    /// replenished to the total (1000 by default). With none left, the next IDENTIFY resets the
    /// bot's token (see [`World::reset_token`]), as Discord documents.
    pub fn set_session_start_limit(&mut self, bot: u64, remaining: u32, reset_after_ms: u64) {
        let reset_at = Timestamp::now().plus_ms(i64::try_from(reset_after_ms).unwrap_or(i64::MAX));
        let starts = self.session_starts(bot, Timestamp::now());
        starts.remaining = remaining;
        starts.reset_at = reset_at;
    }

    /// A bot's session starts, replenished if their day is over.
    pub(crate) fn session_starts(&mut self, bot: u64, now: Timestamp) -> &mut SessionStarts {
        let starts = self.session_starts.entry(bot).or_insert(SessionStarts {
            total: crate::gateway::DEFAULT_SESSION_START_LIMIT,
            remaining: crate::gateway::DEFAULT_SESSION_START_LIMIT,
            reset_at: now.plus_ms(SESSION_START_PERIOD_MS),
        });
        if starts.reset_at <= now {
            starts.remaining = starts.total;
            starts.reset_at = now.plus_ms(SESSION_START_PERIOD_MS);
        }
        starts
    }

    // ----- guilds -----

    /// Adds a guild owned by `owner` (who becomes a member), with its `@everyone` role (id equal
    /// to the guild's, position 0, Discord's default permissions). Returns its id.
    pub fn add_guild(&mut self, name: &str, owner: u64) -> u64 {
        assert!(self.users.contains_key(&owner), "unknown user {owner}");
        let id = self.next_id();
        let everyone = RoleView::plain(id, id, "@everyone".to_owned(), permissions::DEFAULT_EVERYONE, 0);
        let info = GuildView {
            id,
            name: name.to_owned(),
            owner_id: owner,
            features: Vec::new(),
            premium_tier: 0,
            icon: None,
            description: None,
            vanity_url_code: None,
            banner: None,
            splash: None,
            discovery_splash: None,
            verification_level: 0,
            default_message_notifications: 0,
            explicit_content_filter: 0,
            mfa_level: 0,
            afk_channel_id: None,
            afk_timeout: 300,
            system_channel_id: None,
            system_channel_flags: 0,
            rules_channel_id: None,
            public_updates_channel_id: None,
            safety_alerts_channel_id: None,
            preferred_locale: "en-US".to_owned(),
            premium_progress_bar_enabled: false,
        };
        self.guilds.insert(
            id,
            GuildState {
                info,
                roles: BTreeMap::from([(id, everyone)]),
                members: BTreeMap::new(),
                bans: BTreeMap::new(),
                automod: BTreeMap::new(),
                voice_states: BTreeMap::new(),
                emojis: BTreeMap::new(),
                stickers: BTreeMap::new(),
                onboarding: OnboardingView::default(),
            },
        );
        self.add_member(id, owner, &[]);
        id
    }

    pub(crate) fn guild_mut(&mut self, guild: u64) -> &mut GuildState {
        self.guilds.get_mut(&guild).unwrap_or_else(|| panic!("unknown guild {guild}"))
    }

    /// Sets a guild's feature flags (e.g. `&["COMMUNITY", "ROLE_ICONS"]`).
    pub fn set_guild_features(&mut self, guild: u64, features: &[&str]) {
        self.guild_mut(guild).info.features = features.iter().map(|f| (*f).to_owned()).collect();
        self.emit_guild_update(guild);
    }

    /// Sets a guild's boost tier (0 to 3).
    pub fn set_premium_tier(&mut self, guild: u64, tier: u8) {
        self.guild_mut(guild).info.premium_tier = tier.min(3);
        self.emit_guild_update(guild);
    }

    /// Sets a guild's icon hash.
    pub fn set_guild_icon(&mut self, guild: u64, icon: Option<&str>) {
        self.guild_mut(guild).info.icon = icon.map(str::to_owned);
        self.emit_guild_update(guild);
    }

    /// Sets a guild's description.
    pub fn set_guild_description(&mut self, guild: u64, description: Option<&str>) {
        self.guild_mut(guild).info.description = description.map(str::to_owned);
        self.emit_guild_update(guild);
    }

    /// Sets a guild's vanity invite code.
    pub fn set_vanity_url_code(&mut self, guild: u64, code: Option<&str>) {
        self.guild_mut(guild).info.vanity_url_code = code.map(str::to_owned);
        self.emit_guild_update(guild);
    }

    /// Hands a guild to another member.
    pub fn set_owner(&mut self, guild: u64, owner: u64) {
        let state = self.guild_mut(guild);
        assert!(state.members.contains_key(&owner), "user {owner} is not a member of {guild}");
        state.info.owner_id = owner;
        self.emit_guild_update(guild);
    }

    // ----- roles -----

    /// Adds a role at `position` (1 is just above `@everyone`); returns its id.
    pub fn add_role(&mut self, guild: u64, name: &str, permissions: u64, position: i32) -> u64 {
        let id = self.next_id();
        let role = RoleView::plain(id, guild, name.to_owned(), permissions, position);
        self.guild_mut(guild).roles.insert(id, role);
        self.emit_role("GUILD_ROLE_CREATE", guild, id);
        id
    }

    fn role_mut(&mut self, guild: u64, role: u64) -> &mut RoleView {
        self.guild_mut(guild).roles.get_mut(&role).unwrap_or_else(|| panic!("unknown role {role} in guild {guild}"))
    }

    /// Changes a role and sends GUILD_ROLE_UPDATE.
    fn change_role(&mut self, guild: u64, role: u64, change: impl FnOnce(&mut RoleView)) {
        change(self.role_mut(guild, role));
        self.emit_role("GUILD_ROLE_UPDATE", guild, role);
    }

    /// Sets a role's color.
    pub fn set_role_color(&mut self, guild: u64, role: u64, color: u32) {
        self.change_role(guild, role, |r| r.color = color);
    }

    /// Sets whether a role is hoisted.
    pub fn set_role_hoist(&mut self, guild: u64, role: u64, hoist: bool) {
        self.change_role(guild, role, |r| r.hoist = hoist);
    }

    /// Sets a role's permissions (including `@everyone`'s, whose id is the guild's).
    pub fn set_role_permissions(&mut self, guild: u64, role: u64, permissions: u64) {
        self.change_role(guild, role, |r| r.permissions = permissions);
    }

    /// Sets a role's icon hash and emoji.
    pub fn set_role_icon(&mut self, guild: u64, role: u64, icon: Option<&str>, unicode_emoji: Option<&str>) {
        self.change_role(guild, role, |r| {
            r.icon = icon.map(str::to_owned);
            r.unicode_emoji = unicode_emoji.map(str::to_owned);
        });
    }

    /// Sets whether anyone may ping a role (without MENTION_EVERYONE).
    pub fn set_role_mentionable(&mut self, guild: u64, role: u64, mentionable: bool) {
        self.change_role(guild, role, |r| r.mentionable = mentionable);
    }

    /// Marks a role as managed by an integration (it can then not be assigned or removed).
    pub fn set_role_managed(&mut self, guild: u64, role: u64, managed: bool) {
        self.change_role(guild, role, |r| r.managed = managed);
    }

    /// Makes a role the guild's booster role: managed, with `tags.premium_subscriber`.
    pub fn set_booster_role(&mut self, guild: u64, role: u64) {
        self.change_role(guild, role, |r| {
            r.managed = true;
            r.premium_subscriber = true;
        });
    }

    /// Makes a role a bot's own role: managed, with `tags.bot_id`.
    pub fn set_bot_role(&mut self, guild: u64, role: u64, bot: u64) {
        self.change_role(guild, role, |r| {
            r.managed = true;
            r.bot_id = Some(bot);
        });
    }

    // ----- members -----

    /// Makes `user` a member of `guild` with `roles` (bots too: add the bot to let it act). A member
    /// added again gets the new roles.
    pub fn add_member(&mut self, guild: u64, user: u64, roles: &[u64]) {
        assert!(self.users.contains_key(&user), "unknown user {user}");
        let state = self.guild_mut(guild);
        for role in roles {
            assert!(state.roles.contains_key(role) && *role != guild, "unknown role {role} in guild {guild}");
        }
        let joined_at = Timestamp::now();
        let joined = !state.members.contains_key(&user);
        let member = state.members.entry(user).or_insert_with(|| MemberView {
            guild_id: guild,
            user_id: user,
            nick: None,
            roles: Vec::new(),
            joined_at,
            premium_since: None,
            communication_disabled_until: None,
            pending: false,
            mute: false,
            deaf: false,
        });
        member.roles = dedup(roles);
        if joined {
            self.emit_member_add(guild, user);
        } else {
            self.emit_member_update(guild, user);
        }
    }

    pub(crate) fn member_mut(&mut self, guild: u64, user: u64) -> &mut MemberView {
        self.guild_mut(guild).members.get_mut(&user).unwrap_or_else(|| panic!("user {user} is not in guild {guild}"))
    }

    /// Changes a member and sends GUILD_MEMBER_UPDATE.
    fn change_member(&mut self, guild: u64, user: u64, change: impl FnOnce(&mut MemberView)) {
        change(self.member_mut(guild, user));
        self.emit_member_update(guild, user);
    }

    /// Removes a member (as if they left).
    pub fn remove_member(&mut self, guild: u64, user: u64) {
        self.drop_member(guild, user);
    }

    /// Takes `user` out of `guild` (left, kicked or banned): out of voice first, then
    /// GUILD_MEMBER_REMOVE. Whether they were a member.
    pub(crate) fn drop_member(&mut self, guild: u64, user: u64) -> bool {
        let state = self.guild_mut(guild);
        let voice = state.voice_states.remove(&user);
        let was_member = state.members.remove(&user).is_some();
        if let Some(voice) = voice {
            self.emit_voice_state(&voice, true);
        }
        if was_member {
            self.emit_member_remove(guild, user);
        }
        was_member
    }

    /// Adds `count` generated people (named `member1`, `member2`, ...) to `guild` with `roles`, all
    /// joined now; returns their ids in order. Fast enough for 100,000 members in a fraction of a
    /// second. A setup helper: it queues no gateway events (as if they had joined before any
    /// session began), though sessions that start later see them.
    ///
    /// # Panics
    /// If the guild or a role is unknown.
    pub fn add_generated_members(&mut self, guild: u64, count: usize, roles: &[u64]) -> Vec<u64> {
        let state = self.guilds.get(&guild).unwrap_or_else(|| panic!("unknown guild {guild}"));
        for role in roles {
            assert!(state.roles.contains_key(role) && *role != guild, "unknown role {role} in guild {guild}");
        }
        let roles = dedup(roles);
        let joined_at = Timestamp::now();
        let mut users = Vec::with_capacity(count);
        let mut members = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        let first = self.next_id();
        for i in 0..count {
            // Consecutive snowflakes of this millisecond onwards, as `next_id` would mint them.
            let id = first + i as u64;
            self.generated_members += 1;
            let username = numbered("member", self.generated_members, "");
            let user = UserView {
                id,
                email: Some(numbered("member", self.generated_members, "@example.com")),
                global_name: None,
                username,
                avatar: None,
                bot: false,
                dms_open: true,
                online: false,
            };
            users.push((id, user));
            members.push((
                id,
                MemberView {
                    guild_id: guild,
                    user_id: id,
                    nick: None,
                    roles: roles.clone(),
                    joined_at,
                    premium_since: None,
                    communication_disabled_until: None,
                    pending: false,
                    mute: false,
                    deaf: false,
                },
            ));
            ids.push(id);
        }
        self.last_snowflake = self.last_snowflake.max(first + count.saturating_sub(1) as u64);
        // Built from sorted runs and appended after every existing key: no search per member.
        self.users.append(&mut users.into_iter().collect());
        self.guild_mut(guild).members.append(&mut members.into_iter().collect());
        ids
    }

    /// Sets a member's nickname.
    pub fn set_nick(&mut self, guild: u64, user: u64, nick: Option<&str>) {
        self.change_member(guild, user, |m| m.nick = nick.map(str::to_owned));
    }

    /// Sets when a member joined.
    pub fn set_joined_at(&mut self, guild: u64, user: u64, at: Timestamp) {
        self.change_member(guild, user, |m| m.joined_at = at);
    }

    /// Sets when a member started boosting (an ISO 8601 date-time), or `None` for not boosting.
    ///
    /// # Panics
    /// If `iso` is not a date-time.
    pub fn set_premium_since(&mut self, guild: u64, user: u64, iso: Option<&str>) {
        let since = iso.map(|text| Timestamp::parse_iso(text).unwrap_or_else(|| panic!("not a date-time: {text}")));
        self.change_member(guild, user, |m| m.premium_since = since);
    }

    /// Times a member out until `until` (or lifts the timeout).
    pub fn set_timeout(&mut self, guild: u64, user: u64, until: Option<Timestamp>) {
        self.change_member(guild, user, |m| m.communication_disabled_until = until);
    }

    /// Sets whether a member is still pending membership screening.
    pub fn set_pending(&mut self, guild: u64, user: u64, pending: bool) {
        self.change_member(guild, user, |m| m.pending = pending);
    }

    // ----- voice -----

    /// Puts a member in a voice or stage channel of the guild (`Some`), moves them, or takes them
    /// out of voice (`None`); sends VOICE_STATE_UPDATE. Joining starts a new voice session with
    /// the member's server mute and deafen, suppressed in a stage channel; moving keeps the session
    /// and the member's own settings.
    ///
    /// # Panics
    /// If `user` is not a member, or the channel is not a voice or stage channel of the guild.
    pub fn set_voice_state(&mut self, guild: u64, user: u64, channel: Option<u64>) {
        let member = self.member(guild, user).unwrap_or_else(|| panic!("user {user} is not in guild {guild}"));
        let Some(channel) = channel else {
            if let Some(state) = self.guild_mut(guild).voice_states.remove(&user) {
                self.emit_voice_state(&state, true);
            }
            return;
        };
        let kind = self.channels.get(&channel).filter(|c| c.guild_id == Some(guild)).map(|c| c.kind);
        assert!(matches!(kind, Some(2 | 13)), "{channel} is not a voice or stage channel of {guild}");
        let session_id = self.entropy.hex(32);
        let state = self.guild_mut(guild).voice_states.entry(user).or_insert_with(|| VoiceStateView {
            guild_id: guild,
            user_id: user,
            channel_id: channel,
            session_id,
            deaf: member.deaf,
            mute: member.mute,
            self_deaf: false,
            self_mute: false,
            self_stream: false,
            self_video: false,
            suppress: false,
            request_to_speak_timestamp: None,
        });
        state.channel_id = channel;
        state.suppress = kind == Some(13);
        state.request_to_speak_timestamp = None;
        let state = state.clone();
        self.emit_voice_state(&state, false);
    }

    /// Changes a member's voice state and sends VOICE_STATE_UPDATE.
    fn change_voice(&mut self, guild: u64, user: u64, change: impl FnOnce(&mut VoiceStateView)) {
        let state = self
            .guild_mut(guild)
            .voice_states
            .get_mut(&user)
            .unwrap_or_else(|| panic!("user {user} is not in voice in guild {guild}"));
        change(state);
        let state = state.clone();
        self.emit_voice_state(&state, false);
    }

    /// Server-mutes a member (their member `mute`, and their voice state if in voice:
    /// GUILD_MEMBER_UPDATE, then VOICE_STATE_UPDATE).
    pub fn set_voice_mute(&mut self, guild: u64, user: u64, mute: bool) {
        self.change_member(guild, user, |m| m.mute = mute);
        if self.guilds.get(&guild).is_some_and(|g| g.voice_states.contains_key(&user)) {
            self.change_voice(guild, user, |v| v.mute = mute);
        }
    }

    /// Server-deafens a member (their member `deaf`, and their voice state if in voice).
    pub fn set_voice_deaf(&mut self, guild: u64, user: u64, deaf: bool) {
        self.change_member(guild, user, |m| m.deaf = deaf);
        if self.guilds.get(&guild).is_some_and(|g| g.voice_states.contains_key(&user)) {
            self.change_voice(guild, user, |v| v.deaf = deaf);
        }
    }

    /// Sets whether a member in voice muted themselves.
    ///
    /// # Panics
    /// If they are not in voice (so for every `set_self_*` and [`World::set_suppress`]).
    pub fn set_self_mute(&mut self, guild: u64, user: u64, self_mute: bool) {
        self.change_voice(guild, user, |v| v.self_mute = self_mute);
    }

    /// Sets whether a member in voice deafened themselves.
    pub fn set_self_deaf(&mut self, guild: u64, user: u64, self_deaf: bool) {
        self.change_voice(guild, user, |v| v.self_deaf = self_deaf);
    }

    /// Sets whether a member in voice is streaming ("Go Live").
    pub fn set_self_stream(&mut self, guild: u64, user: u64, self_stream: bool) {
        self.change_voice(guild, user, |v| v.self_stream = self_stream);
    }

    /// Sets whether a member in voice has their camera on.
    pub fn set_self_video(&mut self, guild: u64, user: u64, self_video: bool) {
        self.change_voice(guild, user, |v| v.self_video = self_video);
    }

    /// Sets whether a member in voice is suppressed (a stage's audience).
    pub fn set_suppress(&mut self, guild: u64, user: u64, suppress: bool) {
        self.change_voice(guild, user, |v| v.suppress = suppress);
    }

    /// Bans `user` (removing their membership), as if done earlier.
    pub fn add_ban(&mut self, guild: u64, user: u64, reason: Option<&str>) {
        assert!(self.users.contains_key(&user), "unknown user {user}");
        self.drop_member(guild, user);
        self.guild_mut(guild).bans.insert(user, BanView { user_id: user, reason: reason.map(str::to_owned) });
        self.emit_ban(guild, user, true);
    }

    // ----- channels -----

    /// Adds a guild channel of Discord type `kind` (0 text, 2 voice, 4 category, 5 announcement,
    /// 13 stage, 15 forum), optionally inside a category; returns its id.
    pub fn add_channel(&mut self, guild: u64, kind: u8, name: &str, parent: Option<u64>, position: i32) -> u64 {
        assert!(self.guilds.contains_key(&guild), "unknown guild {guild}");
        if let Some(parent) = parent {
            let category = self.channels.get(&parent).unwrap_or_else(|| panic!("unknown channel {parent}"));
            assert!(category.kind == 4 && category.guild_id == Some(guild), "{parent} is not a category of {guild}");
        }
        let id = self.next_id();
        self.channels.insert(id, ChannelView::new_in_guild(id, guild, kind, name, parent, position));
        self.emit_channel("CHANNEL_CREATE", id);
        id
    }

    fn channel_mut(&mut self, channel: u64) -> &mut ChannelView {
        self.channels.get_mut(&channel).unwrap_or_else(|| panic!("unknown channel {channel}"))
    }

    /// Changes a channel and sends CHANNEL_UPDATE.
    fn change_channel(&mut self, channel: u64, change: impl FnOnce(&mut ChannelView)) {
        change(self.channel_mut(channel));
        self.emit_channel("CHANNEL_UPDATE", channel);
    }

    /// Sets a channel's topic.
    pub fn set_channel_topic(&mut self, channel: u64, topic: Option<&str>) {
        self.change_channel(channel, |c| c.topic = topic.map(str::to_owned));
    }

    /// Sets whether a channel is age-restricted.
    pub fn set_channel_nsfw(&mut self, channel: u64, nsfw: bool) {
        self.change_channel(channel, |c| c.nsfw = nsfw);
    }

    /// Sets a channel's name.
    pub fn set_channel_name(&mut self, channel: u64, name: &str) {
        self.change_channel(channel, |c| c.name = name.to_owned());
    }

    /// Sets a channel's position.
    pub fn set_channel_position(&mut self, channel: u64, position: i32) {
        self.change_channel(channel, |c| c.position = position);
    }

    /// Sets a voice channel's bitrate (64,000 by default).
    pub fn set_channel_bitrate(&mut self, channel: u64, bitrate: u32) {
        self.change_channel(channel, |c| c.bitrate = bitrate);
    }

    /// Sets a voice channel's user limit (0 for none).
    pub fn set_channel_user_limit(&mut self, channel: u64, user_limit: u32) {
        self.change_channel(channel, |c| c.user_limit = user_limit);
    }

    /// Sets a voice channel's region (`None`: automatic).
    pub fn set_channel_rtc_region(&mut self, channel: u64, region: Option<&str>) {
        self.change_channel(channel, |c| c.rtc_region = region.map(str::to_owned));
    }

    /// Adds (or replaces) a permission overwrite for a role (`kind` 0) or member (`kind` 1).
    pub fn add_overwrite(&mut self, channel: u64, target: u64, kind: u8, allow: u64, deny: u64) {
        assert!(kind <= 1, "overwrite kind is 0 (role) or 1 (member)");
        self.change_channel(channel, |c| {
            c.overwrites.retain(|o| o.id != target);
            c.overwrites.push(Overwrite { id: target, kind, allow, deny });
        });
    }

    /// Deletes a guild channel (CHANNEL_DELETE): whoever was in it leaves voice, a category's
    /// channels move out of it (CHANNEL_UPDATE each), and its messages go with it.
    ///
    /// # Panics
    /// If the channel is unknown or not a guild channel.
    pub fn remove_channel(&mut self, channel: u64) {
        let view = self.channels.get(&channel).cloned().unwrap_or_else(|| panic!("unknown channel {channel}"));
        let guild = view.guild_id.unwrap_or_else(|| panic!("{channel} is not a guild channel"));
        let in_it: Vec<u64> = self
            .guilds
            .get(&guild)
            .map(|g| g.voice_states.values().filter(|v| v.channel_id == channel).map(|v| v.user_id).collect())
            .unwrap_or_default();
        for user in in_it {
            self.set_voice_state(guild, user, None);
        }
        let children: Vec<u64> =
            self.channels.values().filter(|c| c.parent_id == Some(channel)).map(|c| c.id).collect();
        for child in children {
            self.change_channel(child, |c| c.parent_id = None);
        }
        let body = crate::json::channel(self, &view, None);
        self.channels.remove(&channel);
        self.messages.retain(|_, m| m.channel_id != channel);
        self.invites.retain(|_, i| i.channel_id != channel);
        self.emit_channel_delete(guild, body);
        // What pointed at it points nowhere now.
        let state = self.guild_mut(guild);
        let info = &mut state.info;
        let mut settings_changed = false;
        for slot in [
            &mut info.afk_channel_id,
            &mut info.system_channel_id,
            &mut info.rules_channel_id,
            &mut info.public_updates_channel_id,
            &mut info.safety_alerts_channel_id,
        ] {
            if *slot == Some(channel) {
                *slot = None;
                settings_changed = true;
            }
        }
        let onboarding = &mut state.onboarding;
        onboarding.default_channel_ids.retain(|c| *c != channel);
        for option in onboarding.prompts.iter_mut().flat_map(|p| p.options.iter_mut()) {
            option.channel_ids.retain(|c| *c != channel);
        }
        if settings_changed {
            self.emit_guild_update(guild);
        }
    }

    /// The DM channel between a bot and a user, created on first use.
    pub(crate) fn dm_channel_between(&mut self, bot: u64, user: u64) -> u64 {
        if let Some(id) = self.dm_channel(bot, user) {
            return id;
        }
        let id = self.next_id();
        let mut channel = ChannelView::blank(id, 1, "");
        channel.recipients = vec![bot, user];
        self.channels.insert(id, channel);
        id
    }

    // ----- messages -----

    /// Adds a text message sent now; returns its id.
    pub fn add_message(&mut self, channel: u64, author: u64, content: &str) -> u64 {
        self.add_message_json(channel, author, serde_json::json!({ "content": content }))
    }

    /// Adds a message from raw JSON fields: `content`, `embeds`, `components`, `attachments`,
    /// `flags`, `type`, `pinned`, `tts`, `message_reference`, `reactions`, `sticker_items`,
    /// `edited_timestamp` (all optional). Embeds get Discord's
    /// defaults (`type: "rich"`), components get ids, attachments get ids and URLs. Returns its id.
    pub fn add_message_json(&mut self, channel: u64, author: u64, message: Value) -> u64 {
        assert!(self.channels.contains_key(&channel), "unknown channel {channel}");
        assert!(self.users.contains_key(&author), "unknown user {author}");
        let content = message.get("content").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut record = self.new_message(channel, author, content);
        if let Some(embeds) = message.get("embeds").and_then(Value::as_array) {
            record.embeds = normalize_embeds(embeds);
        }
        if let Some(components) = message.get("components").and_then(Value::as_array) {
            record.components = normalize_components(components);
        }
        if let Some(attachments) = message.get("attachments").and_then(Value::as_array) {
            record.attachments = attachments.iter().map(|a| self.normalize_attachment(channel, a)).collect();
        }
        record.flags = message.get("flags").and_then(Value::as_u64).unwrap_or(0);
        record.kind = message.get("type").and_then(Value::as_u64).and_then(|t| u8::try_from(t).ok()).unwrap_or(0);
        record.pinned = message.get("pinned").and_then(Value::as_bool).unwrap_or(false);
        record.tts = message.get("tts").and_then(Value::as_bool).unwrap_or(false);
        record.message_reference = message.get("message_reference").filter(|v| !v.is_null()).cloned();
        record.reactions = message.get("reactions").and_then(Value::as_array).cloned().unwrap_or_default();
        record.sticker_items = message.get("sticker_items").and_then(Value::as_array).cloned().unwrap_or_default();
        record.edited_timestamp =
            message.get("edited_timestamp").and_then(Value::as_str).and_then(Timestamp::parse_iso);
        self.store_message(record)
    }

    /// A message by `author` in `channel` sent now, not yet stored.
    pub(crate) fn new_message(&mut self, channel: u64, author: u64, content: String) -> MessageView {
        let id = self.next_id();
        let (mentions, mention_roles, mention_everyone) = self.mentions_in(channel, &content);
        MessageView {
            id,
            channel_id: channel,
            author_id: author,
            content,
            embeds: Vec::new(),
            components: Vec::new(),
            attachments: Vec::new(),
            edited_timestamp: None,
            flags: 0,
            kind: 0,
            pinned: false,
            tts: false,
            mentions,
            mention_roles,
            pinged_roles: Vec::new(),
            mention_everyone,
            webhook_id: None,
            application_id: None,
            interaction_id: None,
            message_reference: None,
            reactions: Vec::new(),
            sticker_items: Vec::new(),
        }
    }

    pub(crate) fn store_message(&mut self, message: MessageView) -> u64 {
        let id = message.id;
        if let Some(channel) = self.channels.get_mut(&message.channel_id) {
            channel.last_message_id = Some(id);
        }
        self.messages.insert(id, message);
        id
    }

    /// Users (`<@id>`, `<@!id>`), roles (`<@&id>`) and `@everyone`/`@here` mentioned in `content`.
    pub(crate) fn mentions_in(&self, channel: u64, content: &str) -> (Vec<u64>, Vec<u64>, bool) {
        let guild = self.channels.get(&channel).and_then(|c| c.guild_id).and_then(|g| self.guilds.get(&g));
        let (mut users, mut roles) = (Vec::new(), Vec::new());
        let mut rest = content;
        while let Some(start) = rest.find("<@") {
            rest = &rest[start + 2..];
            let (is_role, digits) = match rest.as_bytes().first() {
                Some(b'&') => (true, &rest[1..]),
                Some(b'!') => (false, &rest[1..]),
                _ => (false, rest),
            };
            let end = digits.bytes().take_while(u8::is_ascii_digit).count();
            if digits.as_bytes().get(end) != Some(&b'>') {
                continue;
            }
            let Ok(id) = digits[..end].parse::<u64>() else { continue };
            if is_role {
                if guild.is_some_and(|g| g.roles.contains_key(&id)) && !roles.contains(&id) {
                    roles.push(id);
                }
            } else if self.users.contains_key(&id) && !users.contains(&id) {
                users.push(id);
            }
        }
        let everyone = content.contains("@everyone") || content.contains("@here");
        (users, roles, everyone)
    }

    /// An attachment as Discord returns it, from whatever fields were given.
    pub(crate) fn normalize_attachment(&mut self, channel: u64, attachment: &Value) -> Value {
        let id = self.next_id();
        let mut object = attachment.as_object().cloned().unwrap_or_default();
        let filename = object.get("filename").and_then(Value::as_str).unwrap_or("file.bin").to_owned();
        let url = format!("https://cdn.discordapp.com/attachments/{channel}/{id}/{filename}");
        object.insert("id".into(), Value::String(id.to_string()));
        object.insert("filename".into(), Value::String(filename));
        object.entry("size").or_insert(Value::from(0));
        object.entry("url").or_insert_with(|| Value::String(url.clone()));
        object.entry("proxy_url").or_insert(Value::String(url.replace("cdn.discordapp.com", "media.discordapp.net")));
        Value::Object(object)
    }

    // ----- invites, automod, interactions -----

    /// Adds an invite `code` to `channel` of `guild`, created by the guild's owner.
    pub fn add_invite(&mut self, code: &str, guild: u64, channel: u64) {
        let owner = self.guilds.get(&guild).unwrap_or_else(|| panic!("unknown guild {guild}")).info.owner_id;
        assert!(
            self.channels.get(&channel).is_some_and(|c| c.guild_id == Some(guild)),
            "{channel} is not a channel of {guild}"
        );
        self.invites.insert(
            code.to_owned(),
            InviteView { code: code.to_owned(), guild_id: guild, channel_id: channel, inviter: Some(owner), uses: 0 },
        );
    }

    /// Adds an enabled keyword auto-moderation rule that blocks the message, created by the owner;
    /// returns its id.
    pub fn add_automod_rule(&mut self, guild: u64, name: &str) -> u64 {
        let id = self.next_id();
        let state = self.guild_mut(guild);
        let rule = AutomodRuleView {
            id,
            guild_id: guild,
            creator_id: state.info.owner_id,
            name: name.to_owned(),
            enabled: true,
            trigger_type: 1,
            event_type: 1,
            keyword_filter: Vec::new(),
            regex_patterns: Vec::new(),
            allow_list: Vec::new(),
            presets: Vec::new(),
            mention_total_limit: 0,
            mention_raid_protection_enabled: false,
            actions: vec![AutomodAction::block()],
            exempt_roles: Vec::new(),
            exempt_channels: Vec::new(),
        };
        state.automod.insert(id, rule);
        self.emit_automod("AUTO_MODERATION_RULE_CREATE", guild, id);
        id
    }

    /// Adds an auto-moderation rule from the JSON body `POST /guilds/{guild_id}/auto-moderation/rules`
    /// takes (`name`, `event_type`, `trigger_type`, `trigger_metadata`, `actions`, `enabled`,
    /// `exempt_roles`, `exempt_channels`), created by the owner and checked as that route checks it
    /// (Discord's limits per trigger type included); returns its id.
    ///
    /// # Panics
    /// If the guild is unknown or Discord would refuse the rule.
    pub fn add_automod_rule_json(&mut self, guild: u64, rule: Value) -> u64 {
        let owner = self.guilds.get(&guild).unwrap_or_else(|| panic!("unknown guild {guild}")).info.owner_id;
        let rule = crate::routes::automod::parse_new_rule(self, guild, owner, rule.as_object())
            .unwrap_or_else(|error| panic!("Discord would refuse this rule: {}", error.body()));
        let id = rule.id;
        self.guild_mut(guild).automod.insert(id, rule);
        self.emit_automod("AUTO_MODERATION_RULE_CREATE", guild, id);
        id
    }

    /// Sets a guild's onboarding from the JSON body `PUT /guilds/{guild_id}/onboarding` takes
    /// (`prompts`, `default_channel_ids`, `enabled`, `mode`; what is left out stays), checked as that
    /// route checks it (Discord's requirements for enabled onboarding included).
    ///
    /// # Panics
    /// If the guild is unknown or Discord would refuse it.
    pub fn set_onboarding(&mut self, guild: u64, onboarding: Value) {
        assert!(self.guilds.contains_key(&guild), "unknown guild {guild}");
        let parsed = crate::routes::onboarding::parse(self, guild, onboarding.as_object())
            .unwrap_or_else(|error| panic!("Discord would refuse this onboarding: {}", error.body()));
        assert!(
            !parsed.enabled || crate::routes::onboarding::meets_requirements(self, guild, &parsed),
            "enabled onboarding needs 7 default channels, 5 where @everyone may send messages"
        );
        crate::routes::onboarding::store(self, guild, parsed);
    }

    /// Adds a custom emoji uploaded by the guild's owner from an image's bytes (PNG, JPEG, GIF or
    /// WebP; animated when a GIF or WebP has more than one frame), served on the simulator's CDN at
    /// `/sim/cdn/emojis/{id}.{ext}`; returns its id. Sends GUILD_EMOJIS_UPDATE.
    ///
    /// # Panics
    /// If the guild is unknown or the bytes are not such an image (checked by their signature only).
    pub fn add_emoji(&mut self, guild: u64, name: &str, image: &[u8]) -> u64 {
        let sniffed = crate::images::sniff(image).unwrap_or_else(|| panic!("not a PNG, JPEG, GIF or WebP image"));
        let creator = self.guilds.get(&guild).unwrap_or_else(|| panic!("unknown guild {guild}")).info.owner_id;
        let id = self.next_id();
        let emoji = EmojiView {
            id,
            guild_id: guild,
            name: name.to_owned(),
            roles: Vec::new(),
            animated: sniffed.animated,
            managed: false,
            available: true,
            creator_id: Some(creator),
            format: sniffed.format,
        };
        self.insert_emoji(emoji, image.to_vec());
        id
    }

    pub(crate) fn insert_emoji(&mut self, emoji: EmojiView, bytes: Vec<u8>) {
        let (guild, id, format) = (emoji.guild_id, emoji.id, emoji.format);
        self.guild_mut(guild).emojis.insert(id, emoji);
        self.cdn.insert(format!("emojis/{id}"), crate::images::Asset { bytes, format });
        self.emit_emojis_update(guild);
    }

    /// Adds a custom sticker uploaded by the guild's owner from a file's bytes (PNG, APNG, GIF or
    /// Lottie JSON), served on the simulator's CDN at `/sim/cdn/stickers/{id}.{ext}`; returns its
    /// id. Sends GUILD_STICKERS_UPDATE.
    ///
    /// # Panics
    /// If the guild is unknown or the bytes are none of those formats.
    pub fn add_sticker(&mut self, guild: u64, name: &str, tags: &str, file: &[u8]) -> u64 {
        let format = match crate::images::sniff(file) {
            Some(s) if s.format == crate::images::ImageFormat::Png => {
                if s.animated {
                    2
                } else {
                    1
                }
            }
            Some(s) if s.format == crate::images::ImageFormat::Gif => 4,
            None if crate::images::lottie_size(file).is_some() => 3,
            _ => panic!("not a PNG, APNG, GIF or Lottie sticker"),
        };
        let creator = self.guilds.get(&guild).unwrap_or_else(|| panic!("unknown guild {guild}")).info.owner_id;
        let id = self.next_id();
        let sticker = StickerView {
            id,
            guild_id: guild,
            name: name.to_owned(),
            description: None,
            tags: tags.to_owned(),
            format_type: format,
            available: true,
            creator_id: Some(creator),
        };
        self.insert_sticker(sticker, file.to_vec());
        id
    }

    pub(crate) fn insert_sticker(&mut self, sticker: StickerView, bytes: Vec<u8>) {
        let (guild, id) = (sticker.guild_id, sticker.id);
        let format = crate::images::sticker_format(sticker.format_type);
        self.guild_mut(guild).stickers.insert(id, sticker);
        self.cdn.insert(format!("stickers/{id}"), crate::images::Asset { bytes, format });
        self.emit_stickers_update(guild);
    }

    /// Sets the words an auto-moderation rule blocks.
    pub fn set_automod_keywords(&mut self, guild: u64, rule: u64, keywords: &[&str]) {
        let rule = self.guild_mut(guild).automod.get_mut(&rule).unwrap_or_else(|| panic!("unknown rule {rule}"));
        rule.keyword_filter = keywords.iter().map(|k| (*k).to_owned()).collect();
    }

    /// An interaction `user` invoked in `channel` for `application_id` (a bot's user id), already
    /// acknowledged the way a bot answering over the gateway or its HTTP endpoint would: with a
    /// deferred ephemeral original response (flags 64 | 128, empty content) that
    /// `GET/PATCH /webhooks/{application_id}/{token}/messages/@original` reads and edits.
    /// Returns `(interaction_id, token)`.
    pub fn add_interaction(&mut self, application_id: u64, channel: u64, user: u64) -> (u64, String) {
        let (id, token) = self.add_pending_interaction(application_id, channel, user);
        let mut original = self.new_message(channel, application_id, String::new());
        original.flags = 64 | 128;
        original.kind = 20;
        original.webhook_id = Some(application_id);
        original.application_id = Some(application_id);
        original.interaction_id = Some(id);
        let message = self.store_message(original);
        if let Some(interaction) = self.interactions.get_mut(&id) {
            interaction.acknowledged = true;
            interaction.response_type = Some(5);
            interaction.responded_at = Some(interaction.created_at);
            interaction.original_message = Some(message);
        }
        (id, token)
    }

    /// An application command interaction not yet answered, as if `user` had invoked one of the
    /// application's commands in `channel` (nothing is sent to the gateway: see
    /// `Simulator::invoke_command` for that): `POST /interactions/{id}/{token}/callback` answers it
    /// within the response window (and creates the original response). Returns
    /// `(interaction_id, token)`.
    pub fn add_pending_interaction(&mut self, application_id: u64, channel: u64, user: u64) -> (u64, String) {
        assert!(self.users.get(&application_id).is_some_and(|u| u.bot), "{application_id} is not a bot");
        assert!(self.users.contains_key(&user), "unknown user {user}");
        let guild_id = self.channels.get(&channel).unwrap_or_else(|| panic!("unknown channel {channel}")).guild_id;
        let member = guild_id.and_then(|guild| crate::interactions::member_object(self, guild, channel, user));
        self.create_interaction(application_id, guild_id, channel, user, None, member)
    }

    /// Mints an application command interaction (id and token) with its `data` and `member`, after
    /// forgetting interactions whose token expired (and the oldest beyond a bound).
    pub(crate) fn create_interaction(
        &mut self,
        application_id: u64,
        guild_id: Option<u64>,
        channel: u64,
        user: u64,
        data: Option<Value>,
        member: Option<Value>,
    ) -> (u64, String) {
        let now = Timestamp::now();
        self.prune_interactions(now);
        let id = self.next_id();
        let token = format!("aW50ZXJhY3Rpb246{}", self.entropy.text(120));
        let interaction = InteractionView {
            id,
            application_id,
            kind: 2,
            token: token.clone(),
            guild_id,
            channel_id: channel,
            user_id: user,
            data,
            member,
            created_at: now,
            acknowledged: false,
            response_type: None,
            responded_at: None,
            original_message: None,
        };
        self.interactions.insert(id, interaction);
        (id, token)
    }

    // ----- audit log -----

    pub(crate) fn audit(&mut self, guild: u64, actor: u64, action: AuditAction, target: u64, reason: Option<&str>) {
        self.audit_log.push(AuditLogEntry {
            guild_id: guild,
            actor_id: actor,
            action,
            target_id: target,
            reason: reason.map(str::to_owned),
            at: Timestamp::now(),
        });
    }

    // ----- reading -----

    /// A user.
    pub fn user(&self, id: u64) -> Option<UserView> {
        self.users.get(&id).cloned()
    }

    /// A guild's settings.
    pub fn guild(&self, id: u64) -> Option<GuildView> {
        self.guilds.get(&id).map(|g| g.info.clone())
    }

    /// A member, if `user` is in `guild`.
    pub fn member(&self, guild: u64, user: u64) -> Option<MemberView> {
        self.guilds.get(&guild)?.members.get(&user).cloned()
    }

    /// All members of a guild, by user id.
    pub fn members(&self, guild: u64) -> Vec<MemberView> {
        self.guilds.get(&guild).map(|g| g.members.values().cloned().collect()).unwrap_or_default()
    }

    /// A member's voice state, if they are in voice.
    pub fn voice_state(&self, guild: u64, user: u64) -> Option<VoiceStateView> {
        self.guilds.get(&guild)?.voice_states.get(&user).cloned()
    }

    /// Everyone in voice in a guild, by user id.
    pub fn voice_states(&self, guild: u64) -> Vec<VoiceStateView> {
        self.guilds.get(&guild).map(|g| g.voice_states.values().cloned().collect()).unwrap_or_default()
    }

    /// Whether a member is timed out right now.
    pub fn is_timed_out(&self, guild: u64, user: u64) -> bool {
        self.guilds.get(&guild).is_some_and(|g| permissions::is_timed_out(g, user, Timestamp::now()))
    }

    /// Whether `user` is banned from `guild`.
    pub fn is_banned(&self, guild: u64, user: u64) -> bool {
        self.guilds.get(&guild).is_some_and(|g| g.bans.contains_key(&user))
    }

    /// The ban of `user`, if banned.
    pub fn ban(&self, guild: u64, user: u64) -> Option<BanView> {
        self.guilds.get(&guild)?.bans.get(&user).cloned()
    }

    /// The reason `user` was banned for, if banned with a reason.
    pub fn ban_reason(&self, guild: u64, user: u64) -> Option<String> {
        self.ban(guild, user)?.reason
    }

    /// A role.
    pub fn role(&self, guild: u64, role: u64) -> Option<RoleView> {
        self.guilds.get(&guild)?.roles.get(&role).cloned()
    }

    /// A guild's roles, lowest first (`@everyone` first).
    pub fn roles(&self, guild: u64) -> Vec<RoleView> {
        let mut roles: Vec<RoleView> =
            self.guilds.get(&guild).map(|g| g.roles.values().cloned().collect()).unwrap_or_default();
        roles.sort_by_key(|r| permissions::role_rank(r.position, r.id));
        roles
    }

    /// A channel.
    pub fn channel(&self, id: u64) -> Option<ChannelView> {
        self.channels.get(&id).cloned()
    }

    /// A guild's channels, by position.
    pub fn channels(&self, guild: u64) -> Vec<ChannelView> {
        let mut channels: Vec<ChannelView> =
            self.channels.values().filter(|c| c.guild_id == Some(guild)).cloned().collect();
        channels.sort_by_key(|c| (c.position, c.id));
        channels
    }

    /// The DM channel between a bot and a user, if one was opened.
    pub fn dm_channel(&self, bot: u64, user: u64) -> Option<u64> {
        self.channels
            .values()
            .find(|c| c.kind == 1 && c.recipients.contains(&bot) && c.recipients.contains(&user))
            .map(|c| c.id)
    }

    /// A message.
    pub fn message(&self, id: u64) -> Option<MessageView> {
        self.messages.get(&id).cloned()
    }

    /// A channel's messages, oldest first.
    pub fn messages(&self, channel: u64) -> Vec<MessageView> {
        self.messages.values().filter(|m| m.channel_id == channel).cloned().collect()
    }

    /// The bytes of a file uploaded with a message (multipart `files[n]`), by attachment id.
    pub fn attachment_bytes(&self, attachment: u64) -> Option<Vec<u8>> {
        self.attachment_bytes.get(&attachment).cloned()
    }

    /// An invite.
    pub fn invite(&self, code: &str) -> Option<InviteView> {
        self.invites.get(code).cloned()
    }

    /// A guild's auto-moderation rules.
    pub fn automod_rules(&self, guild: u64) -> Vec<AutomodRuleView> {
        self.guilds.get(&guild).map(|g| g.automod.values().cloned().collect()).unwrap_or_default()
    }

    /// One auto-moderation rule.
    pub fn automod_rule(&self, guild: u64, rule: u64) -> Option<AutomodRuleView> {
        self.guilds.get(&guild)?.automod.get(&rule).cloned()
    }

    /// A guild's custom emojis, by id.
    pub fn emojis(&self, guild: u64) -> Vec<EmojiView> {
        self.guilds.get(&guild).map(|g| g.emojis.values().cloned().collect()).unwrap_or_default()
    }

    /// One custom emoji.
    pub fn emoji(&self, guild: u64, emoji: u64) -> Option<EmojiView> {
        self.guilds.get(&guild)?.emojis.get(&emoji).cloned()
    }

    /// A guild's custom stickers, by id.
    pub fn stickers(&self, guild: u64) -> Vec<StickerView> {
        self.guilds.get(&guild).map(|g| g.stickers.values().cloned().collect()).unwrap_or_default()
    }

    /// One custom sticker.
    pub fn sticker(&self, guild: u64, sticker: u64) -> Option<StickerView> {
        self.guilds.get(&guild)?.stickers.get(&sticker).cloned()
    }

    /// A guild's onboarding.
    pub fn onboarding(&self, guild: u64) -> Option<OnboardingView> {
        self.guilds.get(&guild).map(|g| g.onboarding.clone())
    }

    /// The bytes the simulator's CDN serves at `path` (under `/sim/cdn`, with or without the
    /// extension: `"emojis/123.png"`, `"stickers/456"`, `"icons/789/abcdef.png"`).
    pub fn cdn_bytes(&self, path: &str) -> Option<Vec<u8>> {
        self.cdn_asset(path).map(|a| a.bytes.clone())
    }

    /// The asset served at `path` (see [`World::cdn_bytes`]).
    pub(crate) fn cdn_asset(&self, path: &str) -> Option<&crate::images::Asset> {
        let path = path.trim_start_matches('/');
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let key = match path.rsplit_once('/') {
            Some((dir, file)) => format!("{dir}/{}", file.split('.').next().unwrap_or(file)),
            None => path.split('.').next().unwrap_or(path).to_owned(),
        };
        self.cdn.get(&key)
    }

    /// An interaction.
    pub fn interaction(&self, id: u64) -> Option<InteractionView> {
        self.interactions.get(&id).cloned()
    }

    /// The audit log of a guild, oldest first.
    pub fn audit_log(&self, guild: u64) -> Vec<AuditLogEntry> {
        self.audit_log.iter().filter(|e| e.guild_id == guild).cloned().collect()
    }

    /// `user`'s guild-wide permissions in `guild` right now (0 for non-members).
    pub fn permissions(&self, guild: u64, user: u64) -> u64 {
        self.guilds.get(&guild).map_or(0, |g| permissions::guild_permissions(g, user, Timestamp::now()))
    }

    /// `user`'s permissions in a guild channel right now, overwrites applied (0 without access).
    pub fn channel_permissions(&self, channel: u64, user: u64) -> u64 {
        let Some(channel) = self.channels.get(&channel) else { return 0 };
        let Some(guild) = channel.guild_id.and_then(|g| self.guilds.get(&g)) else { return 0 };
        permissions::channel_permissions(guild, &channel.overwrites, user, Timestamp::now())
    }
}

/// `{prefix}{number}{suffix}`, without the formatting machinery (generating 100,000 members in a
/// debug build spends most of its time formatting otherwise).
fn numbered(prefix: &str, number: u64, suffix: &str) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(prefix.len() + (digits.len() - at) + suffix.len());
    out.push_str(prefix);
    for digit in &digits[at..] {
        out.push(char::from(*digit));
    }
    out.push_str(suffix);
    out
}

/// `ids` without repeats, in their first order.
pub(crate) fn dedup(ids: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

/// Embeds as Discord returns them: `type` defaults to `"rich"`, fields get `inline: false`.
pub(crate) fn normalize_embeds(embeds: &[Value]) -> Vec<Value> {
    embeds
        .iter()
        .map(|embed| {
            let mut embed = embed.as_object().cloned().unwrap_or_default();
            embed.retain(|_, v| !v.is_null());
            embed.entry("type").or_insert(Value::String("rich".into()));
            if let Some(Value::Array(fields)) = embed.get_mut("fields") {
                for field in fields.iter_mut().filter_map(Value::as_object_mut) {
                    field.entry("inline").or_insert(Value::Bool(false));
                }
            }
            Value::Object(embed)
        })
        .collect()
}

/// Components as Discord returns them: every component gets a numeric `id` (in document order,
/// where not given) and selects get their `min_values`/`max_values` defaults.
pub(crate) fn normalize_components(components: &[Value]) -> Vec<Value> {
    fn visit(component: &mut Value, next: &mut i64) {
        let Some(object) = component.as_object_mut() else { return };
        object.retain(|_, v| !v.is_null());
        if !object.contains_key("id") {
            object.insert("id".into(), Value::from(*next));
        }
        *next += 1;
        match object.get("type").and_then(Value::as_u64) {
            Some(3 | 5 | 6 | 7 | 8) => {
                object.entry("min_values").or_insert(Value::from(1));
                object.entry("max_values").or_insert(Value::from(1));
            }
            // Components V2: Discord answers these fields even when the request left them out.
            Some(17) => {
                object.entry("accent_color").or_insert(Value::Null);
                object.entry("spoiler").or_insert(Value::from(false));
            }
            Some(14) => {
                object.entry("spacing").or_insert(Value::from(1));
                object.entry("divider").or_insert(Value::from(true));
            }
            Some(11) => {
                object.entry("description").or_insert(Value::Null);
                object.entry("spoiler").or_insert(Value::from(false));
            }
            Some(13) => {
                object.entry("spoiler").or_insert(Value::from(false));
            }
            _ => {}
        }
        for key in ["components", "items"] {
            if let Some(Value::Array(children)) = object.get_mut(key) {
                for child in children {
                    visit(child, next);
                }
            }
        }
        if let Some(accessory) = object.get_mut("accessory") {
            visit(accessory, next);
        }
    }
    let mut out = components.to_vec();
    let mut next = 1;
    for component in &mut out {
        visit(component, &mut next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        assert_eq!(numbered("member", 0, ""), "member0");
        assert_eq!(numbered("member", 1_234_567, "@example.com"), "member1234567@example.com");
        assert_eq!(numbered("", u64::MAX, ""), u64::MAX.to_string());
    }

    #[test]
    fn bot_tokens_look_like_discords() {
        let mut world = World::new();
        let bot = world.add_bot("Garrison");
        let parts: Vec<&str> = bot.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], base64(bot.user_id.to_string().as_bytes()));
        assert_eq!((parts[1].len(), parts[2].len()), (6, 38));
        assert_ne!(world.add_bot("Other").token, bot.token);
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE");
        assert_eq!(base64(b"M"), "TQ");
        // A real bot token's first part: base64 of its id.
        assert_eq!(base64(b"123456789012345678"), "MTIzNDU2Nzg5MDEyMzQ1Njc4");
    }

    #[test]
    fn snowflakes_increase_and_carry_time() {
        let mut world = World::new();
        let (a, b) = (world.next_id(), world.next_id());
        assert!(b > a);
        assert!((Timestamp::of_snowflake(a).unix_ms() - Timestamp::now().unix_ms()).abs() < 5_000);
        let old = world.add_user_created_at("old", Timestamp(1_500_000_000_000));
        assert_eq!(Timestamp::of_snowflake(old).unix_ms(), 1_500_000_000_000);
    }

    #[test]
    fn mentions_are_found_in_content() {
        let mut world = World::new();
        let owner = world.add_user("owner");
        let guild = world.add_guild("g", owner);
        let role = world.add_role(guild, "r", 0, 1);
        let channel = world.add_channel(guild, 0, "c", None, 0);
        let (users, roles, everyone) =
            world.mentions_in(channel, &format!("hi <@{owner}> <@!{owner}> <@&{role}> <@99> <@abc> @here"));
        assert_eq!((users, roles, everyone), (vec![owner], vec![role], true));
    }

    #[test]
    fn components_get_ids() {
        let rows = normalize_components(&[serde_json::json!({
            "type": 1,
            "components": [{"type": 2, "style": 1, "custom_id": "a", "label": "A"}, {"type": 3, "custom_id": "s", "options": []}]
        })]);
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[0]["components"][0]["id"], 2);
        assert_eq!(rows[0]["components"][1]["id"], 3);
        assert_eq!(rows[0]["components"][1]["min_values"], 1);
    }
}
