//! The Discord port: what Garrison asks of Discord, in Garrison's own types.
//!
//! The adapter (`crates/discord`, twilight-http underneath) implements [`DiscordBots`] and
//! [`DiscordBot`]; tests may implement them in memory. Futures are boxed ([`DiscordFuture`]) so the
//! traits are object safe and core needs no runtime.

use crate::ServerId;
use std::{fmt, future::Future, pin::Pin, sync::Arc};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{HierarchyRefusal, InteractionToken, Message, MessagePatch, NewMessage, Overwrite, Permissions, Snowflake};
use crate::Timestamp;

/// A boxed future returned by the Discord port.
pub type DiscordFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DiscordError>> + Send + 'a>>;

/// A bot token as a caller sent it. Its `Debug` never shows the secret, so it cannot leak into a log
/// line or an error by accident; [`BotToken::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BotToken(String);

impl BotToken {
    /// The token without surrounding spaces and without a `Bot ` prefix, if the caller added one.
    /// `None` when nothing is left.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim_start();
        let text = text.strip_prefix("Bot ").unwrap_or(text).trim();
        (!text.is_empty()).then(|| Self(text.to_owned()))
    }

    /// The secret itself, for the adapter that sends it to Discord.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The bot's user id the token names, when the token has the shape of a Discord bot token;
    /// `None` when it cannot be one, so it is refused without asking Discord (each refusal Discord
    /// gives counts towards its ban of the address; see [`crate::discord::RefusalBudget`]).
    ///
    /// A bot token is three segments joined by dots: the bot's user id (its decimal digits in
    /// base64), then a timestamp and an HMAC in URL-safe base64 (6 and 27 or 38 characters in every
    /// token Discord has issued). The bounds here are wider than that, so that only what cannot be a
    /// token is refused: an id segment that does not decode to a snowflake, a second segment of 4 to
    /// 32 characters, a third of 20 to 128, base64 characters only (either alphabet).
    pub fn claimed_bot_id(&self) -> Option<Snowflake> {
        let mut parts = self.0.split('.');
        let (id, stamp, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !(4..=32).contains(&stamp.len()) || !(20..=128).contains(&mac.len()) {
            return None;
        }
        let base64 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+/".contains(&b));
        if !base64(stamp) || !base64(mac) {
            return None;
        }
        let id = id.trim_end_matches('=');
        if id.is_empty() || id.len() > 28 || !base64(id) {
            return None;
        }
        let digits = URL_SAFE_NO_PAD.decode(id.replace('+', "-").replace('/', "_")).ok()?;
        Snowflake::parse("token", std::str::from_utf8(&digits).ok()?).ok().filter(|_| {
            // Decimal digits only (`parse` would also accept surrounding spaces).
            digits.iter().all(u8::is_ascii_digit)
        })
    }
}

/// The longest interaction token accepted. Discord's tokens are about 200 characters; its OpenAPI
/// document bounds the path segment only loosely.
pub const MAX_INTERACTION_TOKEN_LEN: usize = 500;

/// Whether `text` can be an interaction token (the secret in `/webhooks/{application}/{token}`):
/// 20 to [`MAX_INTERACTION_TOKEN_LEN`] characters of the URL-safe base64 alphabet and `.`. Discord
/// documents no format, so the rule is loose: it refuses only what cannot travel as the path segment
/// of Discord's webhook URL or is far too short to be a secret Discord issued (a token encodes
/// `interaction:<id>:<secret>`), so such text never reaches Discord.
pub fn is_interaction_token(text: &str) -> bool {
    (20..=MAX_INTERACTION_TOKEN_LEN).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// Which kind of thing Discord did not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    Guild,
    Channel,
    Member,
    User,
    Role,
    Message,
    Invite,
    Ban,
}

impl Unknown {
    /// The noun used in error messages.
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Guild => "guild",
            Self::Channel => "channel",
            Self::Member => "member",
            Self::User => "user",
            Self::Role => "role",
            Self::Message => "message",
            Self::Invite => "invite",
            Self::Ban => "ban",
        }
    }
}

/// What can go wrong when Garrison asks Discord for something. Messages never contain a token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscordError {
    /// Discord rejected the bot token (or it was never valid).
    #[error("Bot token invalid.")]
    InvalidToken,
    /// The bot is not a member of the guild it was asked about.
    #[error("Bot not member.")]
    NotMember,
    /// Discord will not deliver a DM to the user (DMs closed, no shared server, or a bot): Discord's
    /// code 50007.
    #[error("Cannot send messages to this user: their DMs are closed or they share no server with the bot.")]
    CannotMessageUser,
    /// The bot lacks a permission; `permission` is its Discord name (`BAN_MEMBERS`), when known.
    #[error("{}", missing_permission_message(*.permission))]
    MissingPermission { permission: Option<&'static str> },
    /// Discord refused the gateway session the query needs: the bot lacks a privileged intent
    /// (`GUILD_MEMBERS`, ...), which its owner enables in Discord's developer portal.
    #[error(
        "The bot lacks the {intent} privileged gateway intent: enable it for the bot in Discord's developer portal."
    )]
    MissingIntent { intent: &'static str },
    /// The role hierarchy forbids the action (checked before Discord is asked).
    #[error("{0}")]
    Hierarchy(HierarchyRefusal),
    /// Discord does not know the guild, channel, member, ... .
    #[error("Unknown {}.", .0.noun())]
    Unknown(Unknown),
    /// Discord refused the request's content (its code 50035 and friends); the text is Discord's.
    #[error("Discord rejected the request: {0}")]
    Rejected(String),
    /// Discord asked us to wait longer than the configured budget: the caller should retry after
    /// `retry_after_ms`.
    #[error("Rate limited by Discord; retry after {retry_after_ms} ms.")]
    RateLimited { retry_after_ms: u64 },
    /// Discord could not be reached, timed out or failed (5xx), or answered something unreadable.
    #[error("Discord is unavailable: {0}")]
    Unavailable(String),
    /// Garrison is not calling Discord for now: too many of its recent calls were refused (401, 403,
    /// 429), and Discord bans addresses that send too many (see [`crate::discord::RefusalBudget`]).
    #[error(
        "Garrison has paused its calls to Discord: too many were refused recently, and Discord bans \
         addresses that keep sending refused requests. Retry after {} s.",
        retry_after_ms.div_ceil(1000)
    )]
    Paused { retry_after_ms: u64 },
}

fn missing_permission_message(permission: Option<&'static str>) -> String {
    match permission {
        Some(name) => format!("Missing permission: the bot needs {name}."),
        None => "Missing permission: Discord refused the bot.".to_owned(),
    }
}

impl DiscordError {
    /// A missing-permission error that does not yet name the permission now names `permission`:
    /// the caller knows which permission the operation needs, Discord's 50013 does not say.
    #[must_use]
    pub fn naming(self, permission: Permissions) -> Self {
        match self {
            Self::MissingPermission { permission: None } => {
                Self::MissingPermission { permission: permission.names().first().copied() }
            }
            other => other,
        }
    }
}

/// The bot behind a token, as Discord's `GET /users/@me` described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotUser {
    pub id: Snowflake,
    pub username: String,
}

/// A Discord user as `GET /users/{id}` describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub id: Snowflake,
    pub username: String,
    /// The display name, when the user set one.
    pub global_name: Option<String>,
    /// The avatar hash, when the user has one.
    pub avatar: Option<String>,
}

impl UserProfile {
    /// The name people see: the display name, else the username.
    pub fn display_name(&self) -> &str {
        self.global_name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(&self.username)
    }

    /// The avatar's CDN address, or Discord's default avatar for the id.
    pub fn avatar_url(&self) -> String {
        match &self.avatar {
            Some(hash) => {
                let ext = if hash.starts_with("a_") { "gif" } else { "png" };
                format!("https://cdn.discordapp.com/avatars/{}/{hash}.{ext}", self.id)
            }
            None => format!("https://cdn.discordapp.com/embed/avatars/{}.png", (self.id.get() >> 22) % 6),
        }
    }
}

/// A guild (server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guild {
    pub id: Snowflake,
    pub name: String,
    pub owner_id: Snowflake,
    /// The icon hash, if the guild has an icon.
    pub icon: Option<String>,
    pub features: Vec<String>,
    /// The boost level, 0 to 3.
    pub premium_tier: u8,
    pub premium_subscription_count: Option<u64>,
    pub approximate_member_count: Option<u64>,
    pub approximate_presence_count: Option<u64>,
}

impl Guild {
    /// The icon's CDN address, if the guild has one.
    pub fn icon_url(&self) -> Option<String> {
        let icon = self.icon.as_deref()?;
        let ext = if icon.starts_with("a_") { "gif" } else { "png" };
        Some(format!("https://cdn.discordapp.com/icons/{}/{icon}.{ext}", self.id))
    }
}

/// A guild role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: Snowflake,
    pub name: String,
    pub position: i64,
    pub permissions: Permissions,
    pub color: u32,
    pub hoist: bool,
    pub mentionable: bool,
    /// Managed by an integration (a bot's own role, the booster role): nobody can assign it.
    pub managed: bool,
    /// The guild's booster role ("Server Booster").
    pub premium_subscriber: bool,
}

#[cfg(test)]
impl Role {
    /// A role with only what the rules under test read: no colour, not hoisted, not mentionable, not
    /// managed, not the booster role.
    pub(crate) fn plain(id: Snowflake, name: impl Into<String>, position: i64, permissions: Permissions) -> Self {
        Self {
            id,
            name: name.into(),
            position,
            permissions,
            color: 0,
            hoist: false,
            mentionable: false,
            managed: false,
            premium_subscriber: false,
        }
    }
}

/// A member of a guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Snowflake,
    pub username: String,
    pub nick: Option<String>,
    pub roles: Vec<Snowflake>,
    /// Since when the member boosts the guild (ISO 8601), if they do.
    pub premium_since: Option<String>,
    /// Until when the member is timed out (ISO 8601), if they are.
    pub communication_disabled_until: Option<String>,
}

/// An invite as `GET /invites/{code}?with_counts=true&with_expiration=true` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub code: String,
    /// The guild it opens, when it is a guild invite.
    pub guild: Option<InviteGuild>,
    /// The channel it opens.
    pub channel: Option<InviteChannel>,
    /// Who created it, when Discord says.
    pub inviter: Option<InviteUser>,
    pub approximate_member_count: Option<u64>,
    pub approximate_presence_count: Option<u64>,
    /// When it expires (ISO 8601); `None` for an invite that never does.
    pub expires_at: Option<String>,
}

/// The guild of an invite, as the invite describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteGuild {
    pub id: Snowflake,
    pub name: String,
    /// The icon hash, if the guild has an icon.
    pub icon: Option<String>,
    /// The vanity invite code (`discord.gg/CODE`), if the guild has one.
    pub vanity_url_code: Option<String>,
    pub description: Option<String>,
}

impl InviteGuild {
    /// The icon's CDN address, if the guild has one.
    pub fn icon_url(&self) -> Option<String> {
        let icon = self.icon.as_deref()?;
        let ext = if icon.starts_with("a_") { "gif" } else { "png" };
        Some(format!("https://cdn.discordapp.com/icons/{}/{icon}.{ext}", self.id))
    }

    /// The vanity invite's address, if the guild has one.
    pub fn vanity_url(&self) -> Option<String> {
        self.vanity_url_code.as_deref().map(|code| format!("https://discord.gg/{code}"))
    }
}

/// The channel an invite opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteChannel {
    pub id: Snowflake,
    pub name: Option<String>,
    /// Discord's channel type (see [`channel_kind`]).
    pub kind: u8,
}

/// The user who created an invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteUser {
    pub id: Snowflake,
    pub username: String,
    /// The avatar hash, when the user has one.
    pub avatar: Option<String>,
    pub bot: bool,
}

impl InviteUser {
    /// The avatar's CDN address, or Discord's default avatar for the id.
    pub fn avatar_url(&self) -> String {
        UserProfile { id: self.id, username: self.username.clone(), global_name: None, avatar: self.avatar.clone() }
            .avatar_url()
    }
}

/// Discord's channel types that Garrison names.
pub mod channel_kind {
    pub const TEXT: u8 = 0;
    pub const DM: u8 = 1;
    pub const VOICE: u8 = 2;
    pub const GROUP_DM: u8 = 3;
    pub const CATEGORY: u8 = 4;
    pub const ANNOUNCEMENT: u8 = 5;
    pub const STAGE: u8 = 13;
    pub const FORUM: u8 = 15;
    pub const MEDIA: u8 = 16;
}

/// A channel, with the fields Garrison reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: Snowflake,
    /// `None` for DM channels.
    pub guild_id: Option<Snowflake>,
    /// Discord's channel type (see [`channel_kind`]).
    pub kind: u8,
    pub name: Option<String>,
    pub position: i64,
    /// The category holding the channel.
    pub parent_id: Option<Snowflake>,
    pub topic: Option<String>,
    pub nsfw: bool,
    /// Slow mode, in seconds.
    pub rate_limit_per_user: Option<u64>,
    pub bitrate: Option<u64>,
    pub user_limit: Option<u64>,
    pub overwrites: Vec<Overwrite>,
}

/// One entry of a channel positions change: where `id` goes, and into which category when `parent_id`
/// is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPosition {
    pub id: Snowflake,
    pub position: i64,
    pub parent_id: Option<Snowflake>,
}

/// An auto-moderation rule, reduced to what Garrison reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoModRule {
    pub name: String,
    pub enabled: bool,
    /// The rule's `trigger_metadata.keyword_filter` (empty for other triggers).
    pub keyword_filter: Vec<String>,
}

/// What a created or edited role looks like; `None` fields are left as Discord's default (create) or
/// unchanged (edit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: Option<String>,
    pub permissions: Option<Permissions>,
    /// The solid colour, `0xRRGGBB`.
    pub color: Option<u32>,
    /// Two or three gradient colours (Discord's `colors`), for guilds with `ENHANCED_ROLE_COLORS`.
    pub gradient: Option<Vec<u32>>,
    pub hoist: Option<bool>,
    pub mentionable: Option<bool>,
    /// The icon as a data URI (`data:image/png;base64,...`).
    pub icon: Option<String>,
    /// Written to the guild's audit log.
    pub reason: Option<String>,
}

/// A guild the bot is in, as `GET /users/@me/guilds` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSummary {
    pub id: Snowflake,
    pub name: String,
}

/// How a ban is carried out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BanOptions {
    /// Seconds of the user's messages to delete, 0 to 604,800 (7 days).
    pub delete_message_seconds: u32,
    /// Written to the guild's audit log.
    pub reason: Option<String>,
}

/// One bot, acting with its own token. Every call may fail with [`DiscordError`].
pub trait DiscordBot: Send + Sync {
    /// Who the bot is (checked when the bot was obtained).
    fn user(&self) -> &BotUser;
    /// A user by id.
    fn user_profile(&self, user: Snowflake) -> DiscordFuture<'_, UserProfile>;
    /// The guild, with approximate member counts.
    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, Guild>;
    /// The guild's roles.
    fn roles(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Role>>;
    /// Up to `limit` (1 to 1,000) members with ids above `after`, in id order: one page of the list.
    fn members(&self, guild: ServerId, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>>;
    /// One member of the guild.
    fn member(&self, guild: ServerId, user: Snowflake) -> DiscordFuture<'_, Member>;
    /// Ban `user` from `guild`.
    fn ban(&self, guild: ServerId, user: Snowflake, options: BanOptions) -> DiscordFuture<'_, ()>;
    /// Lift a ban.
    fn unban(&self, guild: ServerId, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()>;
    /// Remove a member from the guild.
    fn kick(&self, guild: ServerId, user: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()>;
    /// Time a member out until `until`, or lift their timeout (`None`).
    fn set_timeout(
        &self,
        guild: ServerId,
        user: Snowflake,
        until: Option<Timestamp>,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()>;
    /// An invite by its code, with approximate counts.
    fn invite(&self, code: &str) -> DiscordFuture<'_, Invite>;
    /// A channel by id.
    fn channel(&self, channel: Snowflake) -> DiscordFuture<'_, Channel>;
    /// All channels of a guild.
    fn guild_channels(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Channel>>;
    /// Moves channels, all in one request.
    fn set_channel_positions(&self, guild: ServerId, positions: Vec<ChannelPosition>) -> DiscordFuture<'_, ()>;
    /// The guild's auto-moderation rules.
    fn automod_rules(&self, guild: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>>;
    /// Up to 200 guilds the bot is in with ids above `after`, in id order.
    fn guilds(&self, after: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>>;
    /// Creates a role (at the bottom of the list, above @everyone).
    fn create_role(&self, guild: ServerId, spec: RoleSpec) -> DiscordFuture<'_, Role>;
    /// Edits a role.
    fn update_role(&self, guild: ServerId, role: Snowflake, spec: RoleSpec) -> DiscordFuture<'_, Role>;
    /// Deletes a role.
    fn delete_role(&self, guild: ServerId, role: Snowflake, reason: Option<String>) -> DiscordFuture<'_, ()>;
    /// Moves roles: `(role, position)` pairs, in one request.
    fn set_role_positions(&self, guild: ServerId, positions: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()>;
    /// Gives a member a role.
    fn add_member_role(
        &self,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()>;
    /// Takes a role from a member.
    fn remove_member_role(
        &self,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
        reason: Option<String>,
    ) -> DiscordFuture<'_, ()>;
    /// Posts a message (never pinging anyone: see [`NewMessage`]); returns the message's id.
    fn send_message(&self, channel: Snowflake, message: NewMessage) -> DiscordFuture<'_, Snowflake>;
    /// Up to `limit` (1 to 100) messages of a channel older than `before` (newest first, as Discord
    /// answers).
    fn messages(&self, channel: Snowflake, before: Option<Snowflake>, limit: u8) -> DiscordFuture<'_, Vec<Message>>;
    /// Posts a message with one file attached.
    fn send_file(
        &self,
        channel: Snowflake,
        content: String,
        filename: String,
        bytes: Vec<u8>,
    ) -> DiscordFuture<'_, Snowflake>;
    /// A message.
    fn message(&self, channel: Snowflake, message: Snowflake) -> DiscordFuture<'_, Message>;
    /// The DM channel with `user` (opened if needed).
    fn dm_channel(&self, user: Snowflake) -> DiscordFuture<'_, Snowflake>;
    /// Edits a message (never pinging anyone: see [`MessagePatch`]).
    fn edit_message(&self, channel: Snowflake, message: Snowflake, patch: MessagePatch) -> DiscordFuture<'_, ()>;
}

/// The bot behind `token`, checked with Discord (the adapter caches checks). Text that cannot be a bot
/// token (its first segment names no bot id) is refused here with `InvalidToken`, never sent to Discord.
pub async fn connect(bots: &dyn DiscordBots, token: &BotToken) -> Result<Arc<dyn DiscordBot>, DiscordError> {
    if token.claimed_bot_id().is_none() {
        return Err(DiscordError::InvalidToken);
    }
    bots.bot(token).await
}

/// Where bots come from.
pub trait DiscordBots: Send + Sync {
    /// The bot behind a caller's token, after checking the token with Discord (the adapter caches the
    /// answer). [`DiscordError::InvalidToken`] when Discord refuses it, or without asking Discord when
    /// it cannot be a bot token ([`BotToken::claimed_bot_id`]); [`DiscordError::Paused`] when the
    /// refusal budget leaves no room for checking a new token.
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn DiscordBot>>;
    /// The server's own bot (`GARRISON_DISCORD_BOT_TOKEN`), for routes authenticated by API key;
    /// `None` when none is configured.
    fn server_bot(&self) -> DiscordFuture<'_, Option<Arc<dyn DiscordBot>>>;
    /// The original response of an interaction (addressed by application id and interaction token, no
    /// bot token).
    fn original_response(&self, application: Snowflake, token: &InteractionToken) -> DiscordFuture<'_, Message>;
    /// Edits the original response of an interaction.
    fn edit_original_response(
        &self,
        application: Snowflake,
        token: &InteractionToken,
        patch: MessagePatch,
    ) -> DiscordFuture<'_, ()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_in_debug_output() {
        let token = BotToken::new("  Bot MTIz.secret.part ").expect("a token");
        assert_eq!(token.expose(), "MTIz.secret.part");
        assert_eq!(format!("{token:?}"), "BotToken(<redacted>)");
        assert!(BotToken::new("   ").is_none());
        assert!(BotToken::new("Bot ").is_none());
    }

    fn shaped(text: &str) -> Option<u64> {
        BotToken::new(text).and_then(|t| t.claimed_bot_id()).map(Snowflake::get)
    }

    #[test]
    fn a_bot_token_names_its_bot_in_its_first_segment() {
        // Shaped like Discord's: base64 of "123456789012345678", a timestamp, an HMAC.
        let mac38 = "abcdefghijklmnopqrstuvwxyz-_0123456789";
        assert_eq!(shaped(&format!("MTIzNDU2Nzg5MDEyMzQ1Njc4.GbtXkd.{mac38}")), Some(123_456_789_012_345_678));
        // The older, 27-character HMAC, and the `Bot ` prefix.
        assert_eq!(
            shaped("Bot MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"),
            Some(198_622_483_471_925_248)
        );
        // Padding on the id segment is tolerated.
        assert_eq!(shaped(&format!("MTIzNDU2Nzg5MDEyMzQ1Njc4MA==.GbtXkd.{mac38}")), Some(1_234_567_890_123_456_780));
    }

    #[test]
    fn what_cannot_be_a_bot_token_is_refused_without_asking_discord() {
        let mac = "ZnCjm1XVW7vRze4b7Cq4se7kKWs";
        for bad in [
            "token".to_owned(),
            "a.b.c".to_owned(),
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.{mac}.extra"),
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4..{mac}"),
            "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.short".to_owned(),
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.{}", "x".repeat(129)),
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ!.{mac}"),
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2 FMQ.{mac}"),
            // Not base64 of digits: "hello world!".
            format!("aGVsbG8gd29ybGQh.Cl2FMQ.{mac}"),
            // Base64 of "123": below 2^22, no bot's id.
            format!("MTIz.Cl2FMQ.{mac}"),
            // Base64 of " 198622483471925248".
            format!("IDE5ODYyMjQ4MzQ3MTkyNTI0OA.Cl2FMQ.{mac}"),
            // A length no base64 has.
            format!("MTk4NjIyNDgzNDcxOTI1MjQ4M.Cl2FMQ.{mac}"),
        ] {
            assert_eq!(shaped(&bad), None, "{bad}");
        }
    }

    #[test]
    fn interaction_tokens_are_long_url_safe_text() {
        assert!(is_interaction_token("aW50ZXJhY3Rpb246bm90LXJlYWw"));
        assert!(is_interaction_token(&format!("aW50ZXJhY3Rpb246{}", "Ab-_9".repeat(24))));
        assert!(is_interaction_token(&"a".repeat(MAX_INTERACTION_TOKEN_LEN)));
        assert!(!is_interaction_token(&"a".repeat(MAX_INTERACTION_TOKEN_LEN + 1)));
        assert!(!is_interaction_token("short"));
        assert!(!is_interaction_token("aW50ZXJhY3Rpb246/../../users/@me"));
        assert!(!is_interaction_token("aW50ZXJhY3Rpb246 with spaces in it"));
        assert!(!is_interaction_token("aW50ZXJhY3Rpb246?query=string&x=y"));
    }

    #[test]
    fn a_missing_permission_names_what_the_operation_needs() {
        let err = DiscordError::MissingPermission { permission: None }.naming(Permissions::BAN_MEMBERS);
        assert_eq!(err.to_string(), "Missing permission: the bot needs BAN_MEMBERS.");
        let named = DiscordError::MissingPermission { permission: Some("KICK_MEMBERS") };
        assert_eq!(named.clone().naming(Permissions::BAN_MEMBERS), named);
        assert_eq!(DiscordError::Unknown(Unknown::Member).to_string(), "Unknown member.");
    }

    #[test]
    fn icon_urls_follow_discords_cdn() {
        let mut guild = Guild {
            id: Snowflake::from_raw(1 << 40),
            name: "g".into(),
            owner_id: Snowflake::from_raw(1 << 41),
            icon: Some("abc".into()),
            features: vec![],
            premium_tier: 0,
            premium_subscription_count: None,
            approximate_member_count: None,
            approximate_presence_count: None,
        };
        assert_eq!(guild.icon_url().as_deref(), Some("https://cdn.discordapp.com/icons/1099511627776/abc.png"));
        guild.icon = Some("a_x".into());
        assert!(guild.icon_url().is_some_and(|u| u.ends_with("a_x.gif")));
        guild.icon = None;
        assert_eq!(guild.icon_url(), None);
    }
}
