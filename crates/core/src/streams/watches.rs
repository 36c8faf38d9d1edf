//! Stream watches: which streamers a server follows and where its live alerts go, and the server's own
//! platform credentials for them. Every call checks the caller's [`Principal`] first; a watch's
//! channel and role are checked with the server-wide bot before they are kept, so an alert can only
//! ever be posted where the server's own staff chose, in that server.

use std::sync::Arc;

use super::{Platform, Secret, TikTokUser, TwitchCredentials, TwitchLogin, YouTubeHandle, YouTubeKey};
use crate::apikey::{Access, Principal};
use crate::discord::{DiscordBots, DiscordError, Permissions, Snowflake, Unknown, channel_permissions};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Clock, Error, Result, ServerId, Timestamp};

/// Watches one server may keep.
pub const MAX_WATCHES_PER_SERVER: usize = 100;
/// The longest alert message, in characters (Discord's limit is 2,000; the embed says the rest).
pub const MAX_MESSAGE_CHARS: usize = 1_000;

/// Discord's channel types an alert can be posted in: text and announcement channels.
const ALERT_CHANNEL_TYPES: [u8; 2] = [0, 5];
/// What the bot needs in a watch's channel to post an alert.
const ALERT_PERMISSIONS: [(Permissions, &str); 3] = [
    (Permissions::VIEW_CHANNEL, "View Channel"),
    (Permissions::SEND_MESSAGES, "Send Messages"),
    (Permissions::EMBED_LINKS, "Embed Links"),
];

/// A streamer followed by a server, and where its alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub id: i64,
    pub server: ServerId,
    pub platform: Platform,
    /// The name as given (`@` dropped); [`Watch::key`] is what matches.
    pub streamer: String,
    pub channel: Snowflake,
    /// Text posted above the alert's embed.
    pub message: Option<String>,
    /// A role the alert mentions.
    pub mention_role: Option<Snowflake>,
    pub created_at: Timestamp,
}

impl Watch {
    /// The streamer's name in lower case: watches of one streamer share one check.
    pub fn key(&self) -> String {
        self.streamer.to_ascii_lowercase()
    }
}

/// A watch to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWatch {
    pub server: ServerId,
    pub platform: Platform,
    pub streamer: String,
    pub channel: Snowflake,
    pub message: Option<String>,
    pub mention_role: Option<Snowflake>,
}

/// What adding a watch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Added(Watch),
    /// The server already watches this streamer into this channel.
    Exists(Watch),
    /// The server has [`MAX_WATCHES_PER_SERVER`] watches.
    Full,
}

/// Where watches are kept.
pub trait StreamWatches: Send + Sync {
    /// Adds `watch` unless the server watches the same streamer (any letter case) into the same channel,
    /// or already has `max` watches.
    fn add(&self, watch: &NewWatch, at: Timestamp, max: usize) -> Result<Added>;
    /// The server's watches, oldest first.
    fn list(&self, server: ServerId) -> Result<Vec<Watch>>;
    /// Removes the server's watch `id`; `false` when it has none by that id.
    fn remove(&self, server: ServerId, id: i64) -> Result<bool>;
    /// Up to `limit` watches of every server with ids above `after`, by id (the alert loop's pages).
    fn page(&self, after: i64, limit: usize) -> Result<Vec<Watch>>;
    /// Every server's watches of one streamer (`key`: the name in lower case), by id (a pushed event's).
    fn of_streamer(&self, platform: Platform, key: &str) -> Result<Vec<Watch>>;
}

/// A server's own platform credentials, for its watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStreamKeys {
    pub youtube_key: Option<YouTubeKey>,
    pub twitch: Option<TwitchCredentials>,
}

/// Where servers' credentials are kept: sealed at rest by the adapter.
pub trait StreamKeyStore: Send + Sync {
    fn get(&self, server: ServerId) -> Result<Option<ServerStreamKeys>>;
    /// Replaces the server's credentials (all `None` forgets them).
    fn set(&self, server: ServerId, keys: &ServerStreamKeys, at: Timestamp) -> Result<()>;
}

/// Which of its credentials a server has set (never the credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysSet {
    pub youtube: bool,
    pub twitch: bool,
}

/// Why a watch use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    #[error(transparent)]
    Core(#[from] Error),
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error("No Discord bot is configured (GARRISON_DISCORD_BOT_TOKEN): live alerts are posted by it.")]
    NoServerBot,
    #[error("This server already has {MAX_WATCHES_PER_SERVER} stream watches: delete one first.")]
    Full,
    #[error("No stream watch {0} in this server.")]
    NotFound(i64),
}

/// The ports a [`WatchService`] works through.
#[derive(Clone)]
pub struct WatchPorts {
    pub watches: Arc<dyn StreamWatches>,
    pub keys: Arc<dyn StreamKeyStore>,
    pub discord: Arc<dyn DiscordBots>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WatchPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WatchPorts { .. }")
    }
}

/// Stream watches and servers' stream credentials.
pub struct WatchService {
    ports: WatchPorts,
}

impl std::fmt::Debug for WatchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchService").finish_non_exhaustive()
    }
}

/// A watch as a caller sends it, before it is checked.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub platform: String,
    pub user: String,
    pub channel: Snowflake,
    pub message: Option<String>,
    pub mention_role: Option<Snowflake>,
}

/// The name of a watched streamer, by its platform's rule (`none` is not a streamer).
fn streamer(platform: Platform, user: &str) -> Result<String> {
    if super::is_skip(user) {
        return Err(Error::invalid("user", "names no streamer"));
    }
    Ok(match platform {
        Platform::YouTube => YouTubeHandle::parse("user", user)?.as_str().to_owned(),
        Platform::Twitch => TwitchLogin::parse("user", user)?.as_str().to_owned(),
        Platform::TikTok => TikTokUser::parse("user", user)?.as_str().to_owned(),
    })
}

/// `youtube`, `twitch` or `tiktok`, any letter case.
pub fn parse_platform(field: &'static str, text: &str) -> Result<Platform> {
    [Platform::YouTube, Platform::Twitch, Platform::TikTok]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| Error::invalid(field, "must be youtube, twitch or tiktok"))
}

impl WatchService {
    pub fn new(ports: WatchPorts) -> Self {
        Self { ports }
    }

    /// Adds a watch: the streamer's name by its platform's rule, the message's length, and, with the
    /// server-wide bot, that the channel is a text or announcement channel of this server and the role
    /// one of its roles.
    pub async fn add(&self, caller: &Principal, server: ServerId, request: WatchRequest) -> Result<Added, WatchError> {
        caller.authorize(server, Access::Write)?;
        let platform = parse_platform("platform", &request.platform)?;
        let streamer = streamer(platform, &request.user)?;
        let message = request.message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
        if message.as_ref().is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
            return Err(Error::invalid("message", format!("must be at most {MAX_MESSAGE_CHARS} characters")).into());
        }
        let bot = self.ports.discord.server_bot().await?.ok_or(WatchError::NoServerBot)?;
        let channel = match bot.channel(request.channel).await {
            Ok(channel) => channel,
            Err(
                DiscordError::Unknown(Unknown::Channel)
                | DiscordError::MissingPermission { .. }
                | DiscordError::NotMember,
            ) => {
                return Err(not_here("channelId", "channel", request.channel, server).into());
            }
            Err(e) => return Err(e.into()),
        };
        if channel.guild_id != Some(server.snowflake()) {
            return Err(not_here("channelId", "channel", request.channel, server).into());
        }
        if !ALERT_CHANNEL_TYPES.contains(&channel.kind) {
            return Err(Error::invalid("channelId", "must be a text or announcement channel").into());
        }
        // The bot must be able to post the alert there, or every stream would be a refused post.
        let me = bot.user().id;
        let (guild, roles, member) =
            futures_util::future::try_join3(bot.guild(server), bot.roles(server), bot.member(server, me)).await?;
        let base = crate::discord::roles::member_permissions(&guild, &roles, &member);
        let held = channel_permissions(base, guild.id, me, &member.roles, &channel.overwrites);
        let missing: Vec<&str> = ALERT_PERMISSIONS
            .iter()
            .filter(|(permission, _)| !held.contains(*permission))
            .map(|(_, name)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(
                "channelId",
                format!("the bot cannot post alerts in channel {}: it lacks {}", request.channel, missing.join(", ")),
            )
            .into());
        }
        if let Some(role) = request.mention_role {
            let roles = bot.roles(server).await?;
            if !roles.iter().any(|r| r.id == role && r.id != server.snowflake()) {
                return Err(not_here("roleIdToMention", "role", role, server).into());
            }
        }
        let watch = NewWatch {
            server,
            platform,
            streamer,
            channel: request.channel,
            message,
            mention_role: request.mention_role,
        };
        let (store, at) = (Arc::clone(&self.ports.watches), self.ports.clock.now());
        match run_write(&*self.ports.writer, move || store.add(&watch, at, MAX_WATCHES_PER_SERVER)).await? {
            Added::Full => Err(WatchError::Full),
            added => Ok(added),
        }
    }

    pub async fn list(&self, caller: &Principal, server: ServerId) -> Result<Vec<Watch>, WatchError> {
        caller.authorize(server, Access::Read)?;
        let store = Arc::clone(&self.ports.watches);
        Ok(run_blocking(&*self.ports.threads, move || store.list(server)).await.map_err(Error::from)??)
    }

    pub async fn remove(&self, caller: &Principal, server: ServerId, id: i64) -> Result<(), WatchError> {
        caller.authorize(server, Access::Write)?;
        let store = Arc::clone(&self.ports.watches);
        if run_write(&*self.ports.writer, move || store.remove(server, id)).await? {
            Ok(())
        } else {
            Err(WatchError::NotFound(id))
        }
    }

    /// Which credentials the server has set.
    pub async fn keys(&self, caller: &Principal, server: ServerId) -> Result<KeysSet, WatchError> {
        caller.authorize(server, Access::Read)?;
        let store = Arc::clone(&self.ports.keys);
        let keys = run_blocking(&*self.ports.threads, move || store.get(server)).await.map_err(Error::from)??;
        Ok(set_of(&keys.unwrap_or_default()))
    }

    /// Changes the server's credentials: `Some` sets one, `None` leaves it; an empty text forgets it.
    /// A Twitch client id and secret are set together.
    pub async fn set_keys(
        &self,
        caller: &Principal,
        server: ServerId,
        youtube_key: Option<String>,
        twitch_client_id: Option<String>,
        twitch_secret: Option<String>,
    ) -> Result<KeysSet, WatchError> {
        caller.authorize(server, Access::Write)?;
        let store = Arc::clone(&self.ports.keys);
        let at = self.ports.clock.now();
        let keys = run_write(&*self.ports.writer, move || {
            let mut keys = store.get(server)?.unwrap_or_default();
            if let Some(text) = youtube_key {
                keys.youtube_key =
                    (!text.trim().is_empty()).then(|| Secret::parse("youtubeApiKey", &text)).transpose()?;
            }
            match (twitch_client_id, twitch_secret) {
                (None, None) => {}
                (Some(id), Some(secret)) if id.trim().is_empty() && secret.trim().is_empty() => keys.twitch = None,
                (Some(id), Some(secret)) => {
                    keys.twitch = Some(TwitchCredentials {
                        client_id: Secret::parse("twitchClientId", &id)?,
                        client_secret: Secret::parse("twitchClientSecret", &secret)?,
                    });
                }
                _ => {
                    return Err(Error::invalid(
                        "twitchClientSecret",
                        "goes with twitchClientId: send both, or neither",
                    ));
                }
            }
            store.set(server, &keys, at)?;
            Ok(keys)
        })
        .await?;
        Ok(set_of(&keys))
    }
}

fn set_of(keys: &ServerStreamKeys) -> KeysSet {
    KeysSet { youtube: keys.youtube_key.is_some(), twitch: keys.twitch.is_some() }
}

fn not_here(field: &'static str, what: &str, id: Snowflake, server: ServerId) -> Error {
    Error::invalid(field, format!("no {what} {id} in server {server} that the bot can see"))
}
