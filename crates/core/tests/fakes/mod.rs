//! Fakes of the ports the Discord-side services use: a small Discord (one guild, its roles and
//! members, the messages bots send), an in-memory object store, fixed entropy, and a runner for the
//! services' futures (which never wait on anything but these fakes).

#![allow(dead_code)] // each test file uses some of them

use std::{
    collections::BTreeMap,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll, Wake, Waker},
};

use bytes::Bytes;
use garrison_core::{
    ServerId, Timestamp,
    discord::looks::{IconFetchError, IconFuture, IconSource},
    discord::{
        AutoModRule, BanOptions, BotToken, BotUser, Channel, ChannelPosition, DiscordBot, DiscordBots, DiscordError,
        DiscordFuture, Guild, GuildSummary, InteractionToken, Invite, Member, Message, MessagePatch, NewMessage,
        Permissions, Role, RoleSpec, Snowflake, Unknown, UserProfile,
    },
    objects::{
        ByteStream, Continuation, ObjectBody, ObjectError, ObjectFuture, ObjectKey, ObjectMeta, ObjectPage,
        ObjectPrefix, ObjectStore, ObjectSummary,
    },
};

/// Runs a future to its end on this thread.
pub fn run<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

pub const fn id(n: u64) -> Snowflake {
    Snowflake::from_raw(n << 22)
}

pub const GUILD: ServerId = ServerId::from_discord(id(1)).expect("a snowflake within i64");
pub const OWNER: Snowflake = id(2);
pub const BOT: Snowflake = id(3);
/// A member who boosts the guild.
pub const BOOSTER: Snowflake = id(4);
/// A member who does not.
pub const MEMBER: Snowflake = id(5);
/// The guild's (managed) booster role.
pub const BOOSTER_ROLE: Snowflake = id(6);
/// The bot's role.
pub const BOT_ROLE: Snowflake = id(7);
/// A text channel.
pub const CHANNEL: Snowflake = id(8);

/// A token that has the shape of a bot token (its first segment names the bot's id).
pub fn token() -> BotToken {
    use base64::Engine;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(BOT.to_string());
    BotToken::new(&format!("{id}.GhAbCd.{}", "x".repeat(38))).expect("a token")
}

pub fn role(id: Snowflake, name: &str, position: i64, permissions: Permissions) -> Role {
    Role {
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

fn member(user_id: Snowflake, roles: Vec<Snowflake>, boosting: bool) -> Member {
    Member {
        user_id,
        username: format!("user{}", user_id.get() >> 22),
        nick: None,
        roles,
        premium_since: boosting.then(|| "2024-01-01T00:00:00Z".to_owned()),
        communication_disabled_until: None,
    }
}

/// A message a bot sent: its channel, its text, and the name and size of its file (if any).
pub type Sent = (Snowflake, String, Option<(String, usize)>);

/// What the fake Discord holds and what was asked of it.
#[derive(Debug)]
pub struct World {
    pub features: Vec<String>,
    pub roles: Vec<Role>,
    pub members: Vec<Member>,
    pub channels: Vec<Channel>,
    /// Messages of [`CHANNEL`], newest first.
    pub messages: Vec<Message>,
    /// `(channel, content, file name and size)` of every message sent.
    pub sent: Vec<Sent>,
    /// Every message posted with `send_message`, whole, by id.
    pub posted: Vec<(Snowflake, Snowflake, NewMessage)>,
    /// Every edit: channel, message, patch.
    pub edits: Vec<(Snowflake, Snowflake, MessagePatch)>,
    /// Channels where posting is refused (Missing Permissions).
    pub closed: Vec<Snowflake>,
    /// Every role spec sent to Discord (create or update).
    pub specs: Vec<RoleSpec>,
    /// Calls made, by name.
    pub calls: Vec<String>,
    next_id: u64,
}

impl World {
    fn demo() -> Self {
        let mut everyone = role(GUILD.snowflake(), "@everyone", 0, Permissions::SEND_MESSAGES);
        everyone.permissions = Permissions::SEND_MESSAGES.union(Permissions::VIEW_CHANNEL);
        let mut booster_role = role(BOOSTER_ROLE, "Server Booster", 1, Permissions::NONE);
        booster_role.managed = true;
        booster_role.premium_subscriber = true;
        let bot_role = role(BOT_ROLE, "Bot", 5, Permissions::MANAGE_ROLES.union(Permissions::READ_MESSAGE_HISTORY));
        Self {
            features: vec!["ROLE_ICONS".into()],
            roles: vec![everyone, booster_role, bot_role],
            members: vec![
                member(OWNER, vec![], false),
                member(BOT, vec![BOT_ROLE], false),
                member(BOOSTER, vec![BOOSTER_ROLE], true),
                member(MEMBER, vec![], false),
            ],
            channels: vec![Channel {
                id: CHANNEL,
                guild_id: Some(GUILD.snowflake()),
                kind: 0,
                name: Some("tickets".into()),
                position: 0,
                parent_id: None,
                topic: None,
                nsfw: false,
                rate_limit_per_user: None,
                bitrate: None,
                user_limit: None,
                overwrites: vec![],
            }],
            messages: vec![],
            sent: vec![],
            posted: vec![],
            edits: vec![],
            closed: vec![],
            specs: vec![],
            calls: vec![],
            next_id: 1000,
        }
    }

    pub fn role(&self, id: Snowflake) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }
}

/// One guild's Discord, reached by one bot whose token is [`token`].
#[derive(Debug, Clone)]
pub struct FakeDiscord {
    world: Arc<Mutex<World>>,
    user: BotUser,
    /// Whether the bot is also the server's own (`GARRISON_DISCORD_BOT_TOKEN`).
    server_bot: bool,
}

impl Default for FakeDiscord {
    fn default() -> Self {
        Self {
            world: Arc::new(Mutex::new(World::demo())),
            user: BotUser { id: BOT, username: "bot".into() },
            server_bot: false,
        }
    }
}

impl FakeDiscord {
    /// The same Discord, its bot also the server-wide one.
    pub fn with_server_bot() -> Self {
        Self { server_bot: true, ..Self::default() }
    }

    pub fn world<T>(&self, look: impl FnOnce(&mut World) -> T) -> T {
        look(&mut self.world.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn answer<T: Send + 'static>(
        &self,
        call: &str,
        work: impl FnOnce(&mut World) -> Result<T, DiscordError>,
    ) -> DiscordFuture<'_, T> {
        let out = self.world(|w| {
            w.calls.push(call.to_owned());
            work(w)
        });
        Box::pin(std::future::ready(out))
    }
}

fn unused<T: Send + 'static>() -> DiscordFuture<'static, T> {
    Box::pin(std::future::ready(Err(DiscordError::Rejected("not part of this fake".into()))))
}

impl DiscordBots for FakeDiscord {
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn DiscordBot>> {
        let ok = *token == self::token();
        let bot: Arc<dyn DiscordBot> = Arc::new(self.clone());
        Box::pin(std::future::ready(if ok { Ok(bot) } else { Err(DiscordError::InvalidToken) }))
    }
    fn server_bot(&self) -> DiscordFuture<'_, Option<Arc<dyn DiscordBot>>> {
        let bot = self.server_bot.then(|| Arc::new(self.clone()) as Arc<dyn DiscordBot>);
        Box::pin(std::future::ready(Ok(bot)))
    }
    fn original_response(&self, _: Snowflake, _: &InteractionToken) -> DiscordFuture<'_, Message> {
        unused()
    }
    fn edit_original_response(&self, _: Snowflake, _: &InteractionToken, _: MessagePatch) -> DiscordFuture<'_, ()> {
        unused()
    }
}

fn in_guild(guild: ServerId) -> Result<(), DiscordError> {
    if guild == GUILD { Ok(()) } else { Err(DiscordError::Unknown(Unknown::Guild)) }
}

impl DiscordBot for FakeDiscord {
    fn user(&self) -> &BotUser {
        &self.user
    }
    fn user_profile(&self, user: Snowflake) -> DiscordFuture<'_, UserProfile> {
        self.answer("user_profile", move |w| {
            let member = w.members.iter().find(|m| m.user_id == user).ok_or(DiscordError::Unknown(Unknown::User))?;
            Ok(UserProfile {
                id: user,
                username: member.username.clone(),
                global_name: Some(format!("Display {}", member.username)),
                avatar: None,
            })
        })
    }
    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, Guild> {
        self.answer("guild", move |w| {
            in_guild(guild)?;
            Ok(Guild {
                id: GUILD.snowflake(),
                name: "Fake Guild".into(),
                owner_id: OWNER,
                icon: None,
                features: w.features.clone(),
                premium_tier: 2,
                premium_subscription_count: None,
                approximate_member_count: None,
                approximate_presence_count: None,
            })
        })
    }
    fn roles(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Role>> {
        self.answer("roles", move |w| {
            in_guild(guild)?;
            Ok(w.roles.clone())
        })
    }
    fn members(&self, guild: ServerId, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>> {
        self.answer("members", move |w| {
            in_guild(guild)?;
            let mut page: Vec<Member> =
                w.members.iter().filter(|m| after.is_none_or(|a| m.user_id > a)).cloned().collect();
            page.sort_by_key(|m| m.user_id);
            page.truncate(usize::from(limit));
            Ok(page)
        })
    }
    fn member(&self, guild: ServerId, user: Snowflake) -> DiscordFuture<'_, Member> {
        self.answer("member", move |w| {
            in_guild(guild)?;
            w.members.iter().find(|m| m.user_id == user).cloned().ok_or(DiscordError::Unknown(Unknown::Member))
        })
    }
    fn ban(&self, _: ServerId, _: Snowflake, _: BanOptions) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn unban(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn kick(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn set_timeout(&self, _: ServerId, _: Snowflake, _: Option<Timestamp>, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn invite(&self, _: &str) -> DiscordFuture<'_, Invite> {
        unused()
    }
    fn channel(&self, channel: Snowflake) -> DiscordFuture<'_, Channel> {
        self.answer("channel", move |w| {
            w.channels.iter().find(|c| c.id == channel).cloned().ok_or(DiscordError::Unknown(Unknown::Channel))
        })
    }
    fn guild_channels(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
        self.answer("guild_channels", move |w| {
            in_guild(guild)?;
            Ok(w.channels.clone())
        })
    }
    fn set_channel_positions(&self, _: ServerId, _: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn automod_rules(&self, _: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>> {
        unused()
    }
    fn guilds(&self, _: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>> {
        unused()
    }
    fn create_role(&self, guild: ServerId, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        self.answer("create_role", move |w| {
            in_guild(guild)?;
            w.next_id += 1;
            let mut made = role(id(w.next_id), spec.name.as_deref().unwrap_or("new role"), 1, Permissions::NONE);
            made.permissions = spec.permissions.unwrap_or(Permissions::SEND_MESSAGES);
            made.color = spec.color.unwrap_or(0);
            made.hoist = spec.hoist.unwrap_or(false);
            made.mentionable = spec.mentionable.unwrap_or(false);
            w.specs.push(spec);
            w.roles.push(made.clone());
            Ok(made)
        })
    }
    fn update_role(&self, guild: ServerId, role: Snowflake, spec: RoleSpec) -> DiscordFuture<'_, Role> {
        self.answer("update_role", move |w| {
            in_guild(guild)?;
            let found = w.roles.iter_mut().find(|r| r.id == role).ok_or(DiscordError::Unknown(Unknown::Role))?;
            if let Some(name) = &spec.name {
                found.name.clone_from(name);
            }
            if let Some(permissions) = spec.permissions {
                found.permissions = permissions;
            }
            if let Some(hoist) = spec.hoist {
                found.hoist = hoist;
            }
            if let Some(mentionable) = spec.mentionable {
                found.mentionable = mentionable;
            }
            let updated = found.clone();
            w.specs.push(spec);
            Ok(updated)
        })
    }
    fn delete_role(&self, guild: ServerId, role: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        self.answer("delete_role", move |w| {
            in_guild(guild)?;
            let before = w.roles.len();
            w.roles.retain(|r| r.id != role);
            for member in &mut w.members {
                member.roles.retain(|r| *r != role);
            }
            if w.roles.len() == before { Err(DiscordError::Unknown(Unknown::Role)) } else { Ok(()) }
        })
    }
    fn set_role_positions(&self, _: ServerId, positions: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()> {
        self.answer("set_role_positions", move |w| {
            for (id, position) in positions {
                if let Some(role) = w.roles.iter_mut().find(|r| r.id == id) {
                    role.position = position;
                }
            }
            Ok(())
        })
    }
    fn add_member_role(
        &self,
        _: ServerId,
        user: Snowflake,
        role: Snowflake,
        _: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        self.answer("add_member_role", move |w| {
            let member =
                w.members.iter_mut().find(|m| m.user_id == user).ok_or(DiscordError::Unknown(Unknown::Member))?;
            member.roles.push(role);
            Ok(())
        })
    }
    fn remove_member_role(&self, _: ServerId, _: Snowflake, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn send_message(&self, channel: Snowflake, message: NewMessage) -> DiscordFuture<'_, Snowflake> {
        self.answer("send_message", move |w| {
            if w.closed.contains(&channel) {
                return Err(DiscordError::MissingPermission { permission: Some("SEND_MESSAGES") });
            }
            w.sent.push((channel, message.content.clone().unwrap_or_default(), None));
            w.next_id += 1;
            let posted = id(w.next_id);
            w.posted.push((channel, posted, message));
            Ok(posted)
        })
    }
    fn messages(&self, channel: Snowflake, before: Option<Snowflake>, limit: u8) -> DiscordFuture<'_, Vec<Message>> {
        self.answer("messages", move |w| {
            if channel != CHANNEL {
                return Err(DiscordError::Unknown(Unknown::Channel));
            }
            let older = |m: &&Message| before.is_none_or(|b| m.id.get() < b.get());
            Ok(w.messages.iter().filter(older).take(usize::from(limit)).cloned().collect())
        })
    }
    fn send_file(
        &self,
        channel: Snowflake,
        content: String,
        filename: String,
        bytes: Vec<u8>,
    ) -> DiscordFuture<'_, Snowflake> {
        self.answer("send_file", move |w| {
            w.sent.push((channel, content, Some((filename, bytes.len()))));
            Ok(id(9001))
        })
    }
    fn message(&self, _: Snowflake, _: Snowflake) -> DiscordFuture<'_, Message> {
        unused()
    }
    fn dm_channel(&self, _: Snowflake) -> DiscordFuture<'_, Snowflake> {
        unused()
    }
    fn edit_message(&self, channel: Snowflake, message: Snowflake, patch: MessagePatch) -> DiscordFuture<'_, ()> {
        self.answer("edit_message", move |w| {
            if !w.posted.iter().any(|(c, m, _)| *c == channel && *m == message) {
                return Err(DiscordError::Unknown(Unknown::Message));
            }
            w.edits.push((channel, message, patch));
            Ok(())
        })
    }
}

/// Objects in memory.
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<BTreeMap<String, (Bytes, String)>>,
}

impl MemoryObjects {
    pub fn text(&self, key: &str) -> Option<String> {
        let objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        objects.get(key).map(|(bytes, _)| String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
    }

    fn meta(key: &ObjectKey, bytes: &Bytes, content_type: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.clone(),
            size: bytes.len() as u64,
            content_type: content_type.to_owned(),
            last_modified: Timestamp(0),
        }
    }
}

impl ObjectStore for MemoryObjects {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes, content_type: &'a str) -> ObjectFuture<'a, ()> {
        self.objects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.as_str().to_owned(), (bytes, content_type.to_owned()));
        Box::pin(std::future::ready(Ok(())))
    }
    fn put_stream<'a>(&'a self, key: &'a ObjectKey, body: ByteStream, content_type: &'a str) -> ObjectFuture<'a, u64> {
        Box::pin(async move {
            use futures_util::StreamExt;
            let mut all = Vec::new();
            let mut body = body;
            while let Some(chunk) = body.next().await {
                all.extend_from_slice(&chunk?);
            }
            let size = all.len() as u64;
            self.put(key, Bytes::from(all), content_type).await?;
            Ok(size)
        })
    }
    fn get<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ObjectBody> {
        let found = self.objects.lock().unwrap_or_else(PoisonError::into_inner).get(key.as_str()).cloned();
        Box::pin(std::future::ready(match found {
            Some((bytes, content_type)) => {
                let meta = Self::meta(key, &bytes, &content_type);
                let stream: ByteStream = Box::pin(futures_util::stream::iter([Ok(bytes)]));
                Ok(ObjectBody { meta, bytes: stream })
            }
            None => Err(ObjectError::NotFound(key.clone())),
        }))
    }
    fn head<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, Option<ObjectMeta>> {
        let found = self.objects.lock().unwrap_or_else(PoisonError::into_inner).get(key.as_str()).cloned();
        Box::pin(std::future::ready(Ok(found.map(|(bytes, content_type)| Self::meta(key, &bytes, &content_type)))))
    }
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPrefix,
        after: Option<&'a Continuation>,
        limit: usize,
    ) -> ObjectFuture<'a, ObjectPage> {
        let objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        let mut page: Vec<ObjectSummary> = objects
            .iter()
            .filter(|(k, _)| k.starts_with(prefix.as_str()) && after.is_none_or(|a| k.as_str() > a.as_str()))
            .take(limit.max(1) + 1)
            .filter_map(|(k, (bytes, _))| {
                Some(ObjectSummary {
                    key: ObjectKey::parse(k).ok()?,
                    size: bytes.len() as u64,
                    last_modified: Timestamp(0),
                })
            })
            .collect();
        let next = (page.len() > limit.max(1)).then(|| {
            page.truncate(limit.max(1));
            Continuation::new(page.last().map(|o| o.key.as_str().to_owned()).unwrap_or_default())
        });
        Box::pin(std::future::ready(Ok(ObjectPage { objects: page, next })))
    }
    fn delete<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ()> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).remove(key.as_str());
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Icons: every URL serves a small PNG, which decodes.
#[derive(Debug, Default)]
pub struct FakeIcons;

impl IconSource for FakeIcons {
    fn fetch<'a>(&'a self, url: &'a str) -> IconFuture<'a> {
        let answer = if url.starts_with("https://") {
            Ok(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())
        } else {
            Err(IconFetchError::Refused("only HTTPS URLs are fetched".into()))
        };
        Box::pin(std::future::ready(answer))
    }
    fn decodes(&self, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Entropy that counts: each fill is the next byte value, repeated.
#[derive(Debug, Default)]
pub struct CountingEntropy(std::sync::atomic::AtomicU8);

impl CountingEntropy {
    /// The first fill is `n + 1`.
    pub fn after(n: u8) -> Self {
        Self(std::sync::atomic::AtomicU8::new(n))
    }
}

impl garrison_core::entropy::Entropy for CountingEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), garrison_core::entropy::EntropyError> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        bytes.fill(n);
        Ok(())
    }
}
