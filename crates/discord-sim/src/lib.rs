#![doc = include_str!("../README.md")]

mod commands;
mod demo;
mod error;
mod gateway;
mod images;
mod interactions;
mod json;
mod multipart;
mod oauth;
pub mod permissions;
mod ratelimit;
mod realistic;
mod routes;
mod server;
pub mod spec;
mod time;
mod world;

pub use commands::{
    ApplicationCommandView, MAX_CHAT_INPUT_COMMANDS, MAX_COMMAND_SIZE, MAX_CONTEXT_MENU_COMMANDS, MAX_OPTIONS,
};
pub use demo::{DEMO_INVITE, DEMO_OAUTH_REDIRECT_URI, Demo, MODERATOR_PERMISSIONS};
pub use gateway::{
    DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MEMBER_REQUEST_WINDOW, DEFAULT_RESUME_WINDOW, DEFAULT_SESSION_START_LIMIT,
    GatewayStats, MAX_GUILDS_PER_SESSION, MAX_SESSIONS, REPLAY_MAX_BYTES, REPLAY_MAX_EVENTS, intents,
};
pub use images::{CDN_PATH, ImageFormat, samples};
pub use interactions::{
    INTERACTION_RESPONSE_WINDOW, INTERACTION_TOKEN_LIFETIME, InteractionResponseView, MAX_INTERACTIONS,
};
pub use ratelimit::CHANNEL_CREATE_RATE_LIMIT;
pub use realistic::{LargeDemo, REALISTIC_BOT_PERMISSIONS, RealisticGuild};
pub use routes::expressions::{EMOJI_SLOTS, MAX_EMOJI_BYTES, MAX_STICKER_BYTES, STICKER_SLOTS};
pub use routes::{AUTHORIZE_PATH, OAUTH2_ROUTES, ROUTES};
pub use server::{STATS_PATH, Simulator};
pub use time::{DISCORD_EPOCH_MS, Timestamp};
pub use world::{
    AuditAction, AuditLogEntry, AutomodAction, AutomodRuleView, BanView, Bot, ChannelView, DefaultReaction, EmojiView,
    ForumTag, GuildView, InteractionView, InviteView, MemberView, MessageView, OnboardingOption, OnboardingPrompt,
    OnboardingView, Overwrite, RoleView, StickerView, UserView, VoiceStateView, World,
};
