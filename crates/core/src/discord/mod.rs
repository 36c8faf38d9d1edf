//! Discord rules that need no Discord: snowflakes and account age, permission arithmetic (roles and
//! channel overwrites), the role hierarchy that decides who may moderate whom, timeout durations,
//! invite links and channel reordering. The Discord adapter and the routes of the Discord issue build on
//! these; each is a pure function with its own tests.

mod boosts;
mod channels;
pub mod commands;
mod creation;
#[cfg(test)]
mod fake;
mod guilds;
mod invite;
pub mod live;
pub mod looks;
pub mod message;
pub mod messages;
mod messaging;
mod moderate;
mod moderation;
pub mod modmail;
mod permissions;
mod port;
mod refusals;
pub mod roles;
pub mod service;
mod snowflake;

pub use boosts::{AdditionalPerks, Privilege, additional_perks, automod_keywords, booster_privileges};
pub use channels::{ChannelSlot, category_children, kind_class, reorder_siblings};
pub use creation::{RoleError, RoleRequest, RoleService};
pub use guilds::{
    AUTOMOD_PERIOD_MS, AUTOMOD_SCOPE, BoosterPrivileges, CategoryInfo, GuildError, Guilds, MemberComparison,
    MemberStanding, Overall, RoleComparison, RoleStanding,
};
pub use invite::{INVALID_INVITE, parse_invite};
pub use message::{
    Attachment, Component, ComponentFields, Embed, EmbedAuthor, EmbedField, EmbedFooter, EmbedMedia, EmbedProvider,
    Emoji, InteractionMetadata, InteractionToken, Message, MessagePatch, MessageReference, NewMessage, Reaction,
    StickerItem, User, component_kind,
};
pub use messaging::{EMBED_COOLDOWN_SCOPE, Messaging, MessagingError, ModmailText};
pub use moderate::{DEFAULT_BAN_REASON, MAX_DELETE_MESSAGE_DAYS, Moderation, ModerationError};
pub use moderation::{
    HierarchyRefusal, MAX_TIMEOUT_SECONDS, RankedMember, check_hierarchy, check_role_manageable, compare_authority,
    outranks_role, parse_timeout,
};
pub use permissions::{Overwrite, OverwriteTarget, Permissions, base_permissions, channel_permissions};
pub use port::{
    AutoModRule, BanOptions, BotToken, BotUser, Channel, ChannelPosition, DiscordBot, DiscordBots, DiscordError,
    DiscordFuture, Guild, GuildSummary, Invite, InviteChannel, InviteGuild, InviteUser, MAX_INTERACTION_TOKEN_LEN,
    Member, Role, RoleSpec, Unknown, UserProfile, channel_kind, connect, is_interaction_token,
};
pub use refusals::{
    DISCORD_INVALID_REQUEST_LIMIT, DISCORD_WINDOW_MS, RefusalBudget, RefusalLimits, Ticket, Trust, counts_as_refusal,
};
pub use snowflake::{AccountAge, DISCORD_EPOCH_MS, Snowflake};
