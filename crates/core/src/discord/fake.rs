//! An in-memory Discord for the services' unit tests: bots by token over one guild, answering at
//! once and recording every call, and a manual clock and a sleeper that only records its pauses.

use crate::ServerId;
use std::{
    collections::VecDeque,
    future::Future,
    pin::pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
};

use super::{
    AutoModRule, BanOptions, BotToken, BotUser, Channel, ChannelPosition, DiscordBot, DiscordBots, DiscordError,
    DiscordFuture, Guild, GuildSummary, InteractionToken, Invite, Member, Message, MessagePatch, NewMessage,
    Permissions, Role, RoleSpec, Snowflake, Unknown, UserProfile,
};
use crate::{Clock, SleepFuture, Sleeper, Timestamp};

/// Runs a future that never waits (everything here answers at once).
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the fake Discord never waits"),
    }
}

pub(crate) const fn id(n: u64) -> Snowflake {
    Snowflake::from_raw(n << 22)
}

pub(crate) const GUILD: ServerId = ServerId::from_discord(id(10)).expect("a snowflake within i64");
pub(crate) const OWNER: Snowflake = id(11);

/// A token shaped like Discord's for the bot `base64(digits)` names.
pub(crate) fn token(id_base64: &str) -> BotToken {
    BotToken::new(&format!("{id_base64}.GbtXkd.abcdefghijklmnopqrstuvwxyz-_0123456789")).expect("a token")
}

/// Tokens of two bots: 123456789012345678 and 198622483471925248.
pub(crate) fn first_token() -> BotToken {
    token("MTIzNDU2Nzg5MDEyMzQ1Njc4")
}
pub(crate) fn second_token() -> BotToken {
    token("MTk4NjIyNDgzNDcxOTI1MjQ4")
}

pub(crate) fn member(user_id: Snowflake, roles: &[Snowflake]) -> Member {
    Member {
        user_id,
        username: format!("user{}", user_id.get() >> 22),
        nick: None,
        roles: roles.to_vec(),
        premium_since: None,
        communication_disabled_until: None,
    }
}

pub(crate) fn role(id: Snowflake, name: &str, position: i64, permissions: Permissions) -> Role {
    Role::plain(id, name, position, permissions)
}

/// One guild as the fake bots see it.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub guild: Guild,
    pub roles: Vec<Role>,
    pub members: Vec<Member>,
    pub channels: Vec<Channel>,
    pub automod: Vec<AutoModRule>,
}

impl World {
    pub(crate) fn new() -> Self {
        Self {
            guild: Guild {
                id: GUILD.snowflake(),
                name: "Guild".into(),
                owner_id: OWNER,
                icon: None,
                features: vec![],
                premium_tier: 0,
                premium_subscription_count: None,
                approximate_member_count: Some(3),
                approximate_presence_count: None,
            },
            roles: vec![role(GUILD.snowflake(), "@everyone", 0, Permissions::NONE)],
            members: vec![member(OWNER, &[])],
            channels: vec![],
            automod: vec![],
        }
    }
}

/// The fake Discord: every token shaped like a bot's is accepted, each its own bot in the one guild.
pub(crate) struct FakeDiscord {
    pub world: Arc<Mutex<World>>,
    /// Every call made, in order (`bot`, `server_bot`, `guild`, `remove_role 42`, ...).
    pub calls: Arc<Mutex<Vec<String>>>,
    /// Whether the server has a bot of its own.
    pub server_bot: bool,
    /// How many of the next role removals Discord refuses as rate limited (for `retry_after_ms`).
    pub rate_limited_removals: Arc<Mutex<VecDeque<u64>>>,
}

impl FakeDiscord {
    pub(crate) fn new(world: World) -> Self {
        Self {
            world: Arc::new(Mutex::new(world)),
            calls: Arc::default(),
            server_bot: true,
            rate_limited_removals: Arc::default(),
        }
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }

    fn bot_with(&self, id: Snowflake) -> FakeBot {
        FakeBot {
            user: BotUser { id, username: "bot".into() },
            world: Arc::clone(&self.world),
            calls: Arc::clone(&self.calls),
            rate_limited_removals: Arc::clone(&self.rate_limited_removals),
        }
    }

    fn log(&self, call: &str) {
        self.calls.lock().expect("lock").push(call.to_owned());
    }
}

fn ready<T: Send + 'static>(value: Result<T, DiscordError>) -> DiscordFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl DiscordBots for FakeDiscord {
    fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn DiscordBot>> {
        self.log("bot");
        let id = token.claimed_bot_id().ok_or(DiscordError::InvalidToken);
        ready(id.map(|id| Arc::new(self.bot_with(id)) as Arc<dyn DiscordBot>))
    }
    fn server_bot(&self) -> DiscordFuture<'_, Option<Arc<dyn DiscordBot>>> {
        self.log("server_bot");
        let bot = self.server_bot.then(|| Arc::new(self.bot_with(id(99))) as Arc<dyn DiscordBot>);
        ready(Ok(bot))
    }
    fn original_response(&self, _: Snowflake, _: &InteractionToken) -> DiscordFuture<'_, Message> {
        ready(Err(DiscordError::Rejected("not part of this fake".into())))
    }
    fn edit_original_response(&self, _: Snowflake, _: &InteractionToken, _: MessagePatch) -> DiscordFuture<'_, ()> {
        ready(Err(DiscordError::Rejected("not part of this fake".into())))
    }
}

/// A bot of [`FakeDiscord`].
pub(crate) struct FakeBot {
    user: BotUser,
    world: Arc<Mutex<World>>,
    calls: Arc<Mutex<Vec<String>>>,
    rate_limited_removals: Arc<Mutex<VecDeque<u64>>>,
}

impl FakeBot {
    fn log(&self, call: String) {
        self.calls.lock().expect("lock").push(call);
    }
    fn read<T: Send + 'static>(
        &self,
        call: &str,
        f: impl FnOnce(&World) -> Result<T, DiscordError>,
    ) -> DiscordFuture<'static, T> {
        self.log(call.to_owned());
        ready(f(&self.world.lock().expect("lock")))
    }
}

fn unused<T: Send + 'static>() -> DiscordFuture<'static, T> {
    ready(Err(DiscordError::Rejected("not part of this fake".into())))
}

impl DiscordBot for FakeBot {
    fn user(&self) -> &BotUser {
        &self.user
    }
    fn user_profile(&self, _: Snowflake) -> DiscordFuture<'_, UserProfile> {
        unused()
    }
    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, Guild> {
        self.read("guild", |w| {
            if guild.snowflake() == w.guild.id {
                Ok(w.guild.clone())
            } else {
                Err(DiscordError::Unknown(Unknown::Guild))
            }
        })
    }
    fn roles(&self, _: ServerId) -> DiscordFuture<'_, Vec<Role>> {
        self.read("roles", |w| Ok(w.roles.clone()))
    }
    fn members(&self, _: ServerId, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>> {
        self.read("members", |w| {
            let mut page: Vec<Member> =
                w.members.iter().filter(|m| after.is_none_or(|a| m.user_id > a)).cloned().collect();
            page.sort_by_key(|m| m.user_id);
            page.truncate(usize::from(limit));
            Ok(page)
        })
    }
    fn member(&self, _: ServerId, user: Snowflake) -> DiscordFuture<'_, Member> {
        self.read("member", |w| {
            w.members.iter().find(|m| m.user_id == user).cloned().ok_or(DiscordError::Unknown(Unknown::Member))
        })
    }
    fn ban(&self, _: ServerId, user: Snowflake, _: BanOptions) -> DiscordFuture<'_, ()> {
        self.log(format!("ban {}", user.get() >> 22));
        ready(Ok(()))
    }
    fn unban(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn kick(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn set_timeout(
        &self,
        _: ServerId,
        user: Snowflake,
        until: Option<Timestamp>,
        _: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        self.log(format!("timeout {} {:?}", user.get() >> 22, until.map(Timestamp::millis)));
        ready(Ok(()))
    }
    fn invite(&self, _: &str) -> DiscordFuture<'_, Invite> {
        unused()
    }
    fn channel(&self, channel: Snowflake) -> DiscordFuture<'_, Channel> {
        self.read("channel", |w| {
            w.channels.iter().find(|c| c.id == channel).cloned().ok_or(DiscordError::Unknown(Unknown::Channel))
        })
    }
    fn guild_channels(&self, _: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
        self.read("guild_channels", |w| Ok(w.channels.clone()))
    }
    fn set_channel_positions(&self, _: ServerId, _: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn automod_rules(&self, _: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>> {
        self.read("automod_rules", |w| Ok(w.automod.clone()))
    }
    fn guilds(&self, after: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>> {
        self.read("guilds", |w| {
            let summary = GuildSummary { id: w.guild.id, name: w.guild.name.clone() };
            Ok(if after.is_some_and(|a| a >= summary.id) { vec![] } else { vec![summary] })
        })
    }
    fn create_role(&self, _: ServerId, _: RoleSpec) -> DiscordFuture<'_, Role> {
        unused()
    }
    fn update_role(&self, _: ServerId, _: Snowflake, _: RoleSpec) -> DiscordFuture<'_, Role> {
        unused()
    }
    fn delete_role(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn set_role_positions(&self, _: ServerId, _: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn add_member_role(&self, _: ServerId, _: Snowflake, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
        unused()
    }
    fn remove_member_role(
        &self,
        _: ServerId,
        user: Snowflake,
        role: Snowflake,
        _: Option<String>,
    ) -> DiscordFuture<'_, ()> {
        if let Some(retry_after_ms) = self.rate_limited_removals.lock().expect("lock").pop_front() {
            self.log(format!("remove_role {} refused", user.get() >> 22));
            return ready(Err(DiscordError::RateLimited { retry_after_ms }));
        }
        self.log(format!("remove_role {}", user.get() >> 22));
        let mut world = self.world.lock().expect("lock");
        if let Some(m) = world.members.iter_mut().find(|m| m.user_id == user) {
            m.roles.retain(|r| *r != role);
        }
        ready(Ok(()))
    }
    fn send_message(&self, _: Snowflake, _: NewMessage) -> DiscordFuture<'_, Snowflake> {
        unused()
    }
    fn messages(&self, _: Snowflake, _: Option<Snowflake>, _: u8) -> DiscordFuture<'_, Vec<Message>> {
        unused()
    }
    fn send_file(&self, _: Snowflake, _: String, _: String, _: Vec<u8>) -> DiscordFuture<'_, Snowflake> {
        unused()
    }
    fn message(&self, _: Snowflake, _: Snowflake) -> DiscordFuture<'_, Message> {
        unused()
    }
    fn dm_channel(&self, _: Snowflake) -> DiscordFuture<'_, Snowflake> {
        unused()
    }
    fn edit_message(&self, _: Snowflake, _: Snowflake, _: MessagePatch) -> DiscordFuture<'_, ()> {
        unused()
    }
}

/// A clock the test moves.
#[derive(Debug, Default)]
pub(crate) struct ManualClock(Mutex<i64>);

impl ManualClock {
    pub(crate) fn at(millis: i64) -> Arc<Self> {
        Arc::new(Self(Mutex::new(millis)))
    }
    pub(crate) fn advance(&self, millis: i64) {
        *self.0.lock().expect("lock") += millis;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(*self.0.lock().expect("lock"))
    }
}

/// A sleeper that records each pause and returns at once.
#[derive(Debug, Default)]
pub(crate) struct RecordingSleeper {
    pub pauses: Mutex<Vec<u64>>,
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, ms: u64) -> SleepFuture {
        self.pauses.lock().expect("lock").push(ms);
        Box::pin(std::future::ready(()))
    }
}
