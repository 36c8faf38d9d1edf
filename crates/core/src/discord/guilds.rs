//! The guild queries: what the Discord information routes read (accounts, members' authority, guilds,
//! invites, channels, categories, boosts, auto-moderation keywords, role ranks and counts). Each takes
//! the caller's bot token and connects through the [`DiscordBots`] port itself; `server_info`, which
//! uses the server's own bot, authorizes the caller's API key first.

use std::{cmp::Ordering, sync::Arc};

use futures_util::future::{join, try_join};
use sha2::{Digest, Sha256};

use super::{
    AccountAge, AdditionalPerks, BotToken, Channel, DiscordBot, DiscordBots, DiscordError, Guild, Invite, Member,
    Permissions, Privilege, Role, Snowflake, Unknown, additional_perks, automod_keywords, booster_privileges,
    category_children, channel_kind, compare_authority, connect, outranks_role, roles, service,
};
use crate::{
    Clock, ServerId,
    apikey::{Access, Principal},
    cooldowns::{CooldownStore, Turn},
};

/// The cooldown scope of the auto-moderation keywords: once a minute per bot.
pub const AUTOMOD_SCOPE: &str = "automod";
/// How long a bot waits between two auto-moderation keyword reads.
pub const AUTOMOD_PERIOD_MS: i64 = 60_000;

/// Why a guild query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuildError {
    /// Discord refused or failed (an unknown guild, channel, role, a missing permission, ...).
    #[error(transparent)]
    Discord(#[from] DiscordError),
    /// The API key may not read this server, or a cooldown store could not answer.
    #[error(transparent)]
    Core(#[from] crate::Error),
    /// A member compared is not in the guild; `which` names them as the request did (`User 1`).
    #[error("{which} not found on this guild")]
    MemberNotFound { which: &'static str },
    /// A listed role is not in the guild; `index` counts from 1 in the order given.
    #[error("Role {index} ({role}) not found on this guild")]
    RoleNotFound { index: usize, role: Snowflake },
    #[error("The provided ID is not a category channel")]
    NotACategory,
    /// This bot read the auto-moderation keywords less than a minute ago.
    #[error("Rate limit exceeded. Please wait 1 minute.")]
    AutoModCoolingDown { wait_ms: i64 },
    /// The server has no bot of its own (`GARRISON_DISCORD_BOT_TOKEN`).
    #[error("No Discord bot is configured (GARRISON_DISCORD_BOT_TOKEN).")]
    NoServerBot,
}

/// A member's standing in a guild: their highest role, ownership, administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStanding {
    pub member: Member,
    /// Their highest role; `None` when they have only @everyone.
    pub top_role: Option<Role>,
    pub is_owner: bool,
    pub is_administrator: bool,
}

impl MemberStanding {
    fn of(member: Member, guild: &Guild, all: &[Role]) -> Self {
        let top_role = roles::top_role(&member, all).cloned();
        let is_administrator = roles::member_permissions(guild, all, &member).contains(Permissions::ADMINISTRATOR);
        Self { is_owner: member.user_id == guild.owner_id, top_role, is_administrator, member }
    }

    /// The highest role's name, `@everyone` without one.
    pub fn role_name(&self) -> &str {
        self.top_role.as_ref().map_or("@everyone", |r| r.name.as_str())
    }

    /// The highest role's position, 0 without one.
    pub fn role_position(&self) -> i64 {
        self.top_role.as_ref().map_or(0, |r| r.position)
    }
}

/// Two members side by side, and who has more authority ([`compare_authority`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberComparison {
    pub first: MemberStanding,
    pub second: MemberStanding,
    /// `Greater` when the first member has more authority than the second.
    pub authority: Ordering,
}

/// One listed role, and whether the member stands above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStanding {
    pub role: Role,
    pub member_higher: bool,
}

/// How a member stands against the listed roles overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    AboveAll,
    AboveSome,
    AboveNone,
}

/// A member against a list of roles, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleComparison {
    pub member: MemberStanding,
    pub roles: Vec<RoleStanding>,
}

impl RoleComparison {
    pub fn overall(&self) -> Overall {
        match self.roles.iter().filter(|r| r.member_higher).count() {
            n if n == self.roles.len() => Overall::AboveAll,
            0 => Overall::AboveNone,
            _ => Overall::AboveSome,
        }
    }
}

/// A category, its guild and its channels in Discord's order ([`category_children`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    pub category: Channel,
    pub guild: Guild,
    pub channels: Vec<Channel>,
}

/// What a guild's boosts allow its booster roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoosterPrivileges {
    /// Standard, Color, Gradient, Icon ([`booster_privileges`]).
    pub privileges: [Privilege; 4],
    pub premium_tier: u8,
    pub boost_count: Option<u64>,
}

/// The guild queries, over the Discord port.
pub struct Guilds {
    bots: Arc<dyn DiscordBots>,
    cooldowns: Arc<dyn CooldownStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Guilds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Guilds { .. }")
    }
}

/// A member, or [`GuildError::MemberNotFound`] naming them as `which` when Discord does not know them.
fn member_or(result: Result<Member, DiscordError>, which: &'static str) -> Result<Member, GuildError> {
    result.map_err(|e| match e {
        DiscordError::Unknown(Unknown::Member | Unknown::User) => GuildError::MemberNotFound { which },
        other => other.into(),
    })
}

impl Guilds {
    pub fn new(bots: Arc<dyn DiscordBots>, cooldowns: Arc<dyn CooldownStore>, clock: Arc<dyn Clock>) -> Self {
        Self { bots, cooldowns, clock }
    }

    async fn bot(&self, token: &BotToken) -> Result<Arc<dyn DiscordBot>, GuildError> {
        Ok(connect(self.bots.as_ref(), token).await?)
    }

    /// How old the account `user` is (the token is checked first, as for every query).
    pub async fn account_age(&self, token: &BotToken, user: Snowflake) -> Result<AccountAge, GuildError> {
        self.bot(token).await?;
        Ok(AccountAge::of(user, self.clock.now()))
    }

    /// Two members' standing and who has more authority: the owner above everyone, else the higher
    /// highest role.
    pub async fn compare_members(
        &self,
        token: &BotToken,
        guild: ServerId,
        first: Snowflake,
        second: Snowflake,
    ) -> Result<MemberComparison, GuildError> {
        let bot = self.bot(token).await?;
        let (info, all) = try_join(bot.guild(guild), bot.roles(guild)).await?;
        let (a, b) = join(bot.member(guild, first), bot.member(guild, second)).await;
        let (a, b) = (member_or(a, "User 1")?, member_or(b, "User 2")?);
        let authority = compare_authority(info.owner_id, roles::ranked(&a, &all), roles::ranked(&b, &all));
        Ok(MemberComparison {
            first: MemberStanding::of(a, &info, &all),
            second: MemberStanding::of(b, &info, &all),
            authority,
        })
    }

    /// Whether `user` stands above each of `listed` (the owner above every role). A role the guild
    /// does not have is refused, numbered from 1 in the order given.
    pub async fn compare_with_roles(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        listed: &[Snowflake],
    ) -> Result<RoleComparison, GuildError> {
        let bot = self.bot(token).await?;
        let (info, all) = try_join(bot.guild(guild), bot.roles(guild)).await?;
        let member = member_or(bot.member(guild, user).await, "User")?;
        let ranked = roles::ranked(&member, &all);
        let mut standings = Vec::with_capacity(listed.len());
        for (index, id) in listed.iter().enumerate() {
            let role =
                all.iter().find(|r| r.id == *id).ok_or(GuildError::RoleNotFound { index: index + 1, role: *id })?;
            let member_higher = outranks_role(info.owner_id, ranked, role.position);
            standings.push(RoleStanding { role: role.clone(), member_higher });
        }
        Ok(RoleComparison { member: MemberStanding::of(member, &info, &all), roles: standings })
    }

    /// The guild, with approximate counts.
    pub async fn guild(&self, token: &BotToken, guild: ServerId) -> Result<Guild, GuildError> {
        Ok(self.bot(token).await?.guild(guild).await?)
    }

    /// An invite by its code (see [`super::parse_invite`]).
    pub async fn invite(&self, token: &BotToken, code: &str) -> Result<Invite, GuildError> {
        Ok(self.bot(token).await?.invite(code).await?)
    }

    /// A channel of `guild`; a channel of another guild is unknown here.
    pub async fn channel(&self, token: &BotToken, guild: ServerId, channel: Snowflake) -> Result<Channel, GuildError> {
        let info = self.bot(token).await?.channel(channel).await?;
        if info.guild_id != Some(guild.snowflake()) {
            return Err(DiscordError::Unknown(Unknown::Channel).into());
        }
        Ok(info)
    }

    /// Moves a channel ([`service::move_channel`]).
    pub async fn move_channel(
        &self,
        token: &BotToken,
        channel: Snowflake,
        category: Option<Snowflake>,
        position: Option<usize>,
    ) -> Result<service::Moved, GuildError> {
        let bot = self.bot(token).await?;
        Ok(service::move_channel(bot.as_ref(), channel, category, position).await?)
    }

    /// A category, its guild and its channels in Discord's order.
    pub async fn category(&self, token: &BotToken, id: Snowflake) -> Result<CategoryInfo, GuildError> {
        let bot = self.bot(token).await?;
        let category = bot.channel(id).await?;
        let Some(guild) =
            category.guild_id.filter(|_| category.kind == channel_kind::CATEGORY).and_then(ServerId::from_discord)
        else {
            return Err(GuildError::NotACategory);
        };
        let (guild, channels) = try_join(bot.guild(guild), bot.guild_channels(guild)).await?;
        let channels = category_children(&channels, id).into_iter().cloned().collect();
        Ok(CategoryInfo { category, guild, channels })
    }

    /// The boost perks the guild's feature flags show.
    pub async fn additional_perks(&self, token: &BotToken, guild: ServerId) -> Result<AdditionalPerks, GuildError> {
        Ok(additional_perks(&self.bot(token).await?.guild(guild).await?.features))
    }

    /// Which booster-role customisations the guild's tier and features allow.
    pub async fn booster_privileges(&self, token: &BotToken, guild: ServerId) -> Result<BoosterPrivileges, GuildError> {
        let info = self.bot(token).await?.guild(guild).await?;
        Ok(BoosterPrivileges {
            privileges: booster_privileges(info.premium_tier, &info.features),
            premium_tier: info.premium_tier,
            boost_count: info.premium_subscription_count,
        })
    }

    /// The keyword filters of the guild's enabled auto-moderation rules, once a minute per bot (the
    /// turn is keyed by the token's SHA-256, taken once the token is known good, and kept even when
    /// Discord then refuses). The bot needs MANAGE_GUILD.
    pub async fn automod_keywords(&self, token: &BotToken, guild: ServerId) -> Result<Vec<String>, GuildError> {
        let bot = self.bot(token).await?;
        let key = Sha256::digest(token.expose().as_bytes());
        match self.cooldowns.try_take(AUTOMOD_SCOPE, &key, AUTOMOD_PERIOD_MS, self.clock.now()).await? {
            Turn::Taken => {}
            Turn::Wait { ms } => return Err(GuildError::AutoModCoolingDown { wait_ms: ms }),
        }
        let rules = bot.automod_rules(guild).await.map_err(|e| e.naming(Permissions::MANAGE_GUILD))?;
        Ok(automod_keywords(&rules))
    }

    /// The guild of `server`, read by the server's own bot; the caller's key must be allowed to read
    /// that server, checked before Discord is asked anything.
    pub async fn server_info(&self, caller: &Principal, server: ServerId) -> Result<Guild, GuildError> {
        caller.authorize(server, Access::Read)?;
        let bot = self.bots.server_bot().await?.ok_or(GuildError::NoServerBot)?;
        Ok(bot.guild(server).await?)
    }

    /// The name of `user`'s highest role (`@everyone` when they have none).
    pub async fn highest_role(&self, token: &BotToken, guild: ServerId, user: Snowflake) -> Result<String, GuildError> {
        let bot = self.bot(token).await?;
        let (all, member) = try_join(bot.roles(guild), bot.member(guild, user)).await?;
        Ok(roles::highest_role_name(&member, &all))
    }

    /// How many members hold `role`, counted a page at a time.
    pub async fn role_count(&self, token: &BotToken, guild: ServerId, role: Snowflake) -> Result<usize, GuildError> {
        let bot = self.bot(token).await?;
        Ok(roles::count_role_members(bot.as_ref(), guild, role).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ApiKeyId,
        cooldowns::MemoryCooldowns,
        discord::{
            Overwrite,
            fake::{FakeDiscord, GUILD, ManualClock, OWNER, World, first_token, id, member, now, role, second_token},
        },
    };

    const ADMIN: Snowflake = id(20);
    const MOD: Snowflake = id(21);
    const HELPER: Snowflake = id(22);
    const ALICE: Snowflake = id(30);
    const BOB: Snowflake = id(31);

    fn world() -> World {
        let mut world = World::new();
        world.roles.extend([
            role(ADMIN, "Admin", 9, Permissions::ADMINISTRATOR),
            role(MOD, "Mod", 5, Permissions::KICK_MEMBERS),
            role(HELPER, "Helper", 2, Permissions::NONE),
        ]);
        world.members.extend([member(ALICE, &[MOD, HELPER]), member(BOB, &[ADMIN])]);
        world
    }

    fn guilds(discord: &Arc<FakeDiscord>) -> (Guilds, Arc<ManualClock>) {
        let clock = ManualClock::at(1_700_000_000_000);
        let bots: Arc<dyn DiscordBots> = Arc::clone(discord) as Arc<dyn DiscordBots>;
        (Guilds::new(bots, Arc::new(MemoryCooldowns::new()), clock.clone()), clock)
    }

    #[test]
    fn the_owner_has_more_authority_than_an_administrator_with_a_higher_role() {
        let discord = Arc::new(FakeDiscord::new(world()));
        let (guilds, _) = guilds(&discord);
        let compared = now(guilds.compare_members(&first_token(), GUILD, OWNER, BOB)).expect("compared");
        assert_eq!(compared.authority, Ordering::Greater);
        assert!(compared.first.is_owner && compared.first.is_administrator, "the owner has every permission");
        assert_eq!((compared.first.role_name(), compared.first.role_position()), ("@everyone", 0));
        assert_eq!((compared.second.role_name(), compared.second.role_position()), ("Admin", 9));
        assert!(compared.second.is_administrator && !compared.second.is_owner);

        let compared = now(guilds.compare_members(&first_token(), GUILD, ALICE, BOB)).expect("compared");
        assert_eq!(compared.authority, Ordering::Less, "Mod (5) is below Admin (9)");
        assert_eq!(compared.first.role_name(), "Mod", "the highest of Alice's roles");
        let same = now(guilds.compare_members(&first_token(), GUILD, ALICE, ALICE)).expect("compared");
        assert_eq!(same.authority, Ordering::Equal);
    }

    #[test]
    fn an_unknown_member_is_named_as_the_request_numbered_them() {
        let discord = Arc::new(FakeDiscord::new(world()));
        let (guilds, _) = guilds(&discord);
        let err = now(guilds.compare_members(&first_token(), GUILD, ALICE, id(77))).expect_err("unknown");
        assert_eq!(err.to_string(), "User 2 not found on this guild");
        let err = now(guilds.compare_with_roles(&first_token(), GUILD, id(77), &[MOD])).expect_err("unknown");
        assert_eq!(err.to_string(), "User not found on this guild");
    }

    #[test]
    fn a_member_is_above_the_roles_below_their_highest_and_the_owner_above_all() {
        let discord = Arc::new(FakeDiscord::new(world()));
        let (guilds, _) = guilds(&discord);
        let compared = now(guilds.compare_with_roles(&first_token(), GUILD, ALICE, &[HELPER, MOD, ADMIN])).expect("ok");
        let higher: Vec<bool> = compared.roles.iter().map(|r| r.member_higher).collect();
        assert_eq!(higher, [true, false, false], "not above her own highest role");
        assert_eq!(compared.overall(), Overall::AboveSome);
        let owner = now(guilds.compare_with_roles(&first_token(), GUILD, OWNER, &[ADMIN, MOD])).expect("ok");
        assert_eq!(owner.overall(), Overall::AboveAll);
        assert!(owner.member.is_owner);
        let below = now(guilds.compare_with_roles(&first_token(), GUILD, ALICE, &[ADMIN])).expect("ok");
        assert_eq!(below.overall(), Overall::AboveNone);
        let err = now(guilds.compare_with_roles(&first_token(), GUILD, ALICE, &[MOD, id(404)])).expect_err("unknown");
        assert_eq!(err.to_string(), format!("Role 2 ({}) not found on this guild", id(404)));
    }

    #[test]
    fn auto_moderation_keywords_cool_down_per_bot_for_a_minute() {
        let mut world = world();
        world.automod = vec![
            AutoModRule { name: "a".into(), enabled: true, keyword_filter: vec!["spam".into(), "scam".into()] },
            AutoModRule { name: "b".into(), enabled: false, keyword_filter: vec!["off".into()] },
            AutoModRule { name: "c".into(), enabled: true, keyword_filter: vec!["scam".into(), "phishing".into()] },
        ];
        let discord = Arc::new(FakeDiscord::new(world));
        let (guilds, clock) = guilds(&discord);
        let keywords = now(guilds.automod_keywords(&first_token(), GUILD)).expect("first read");
        assert_eq!(keywords, ["spam", "scam", "phishing"]);
        clock.advance(1_500);
        let err = now(guilds.automod_keywords(&first_token(), GUILD)).expect_err("cooling down");
        assert!(matches!(err, GuildError::AutoModCoolingDown { wait_ms: 58_500 }), "{err:?}");
        assert_eq!(err.to_string(), "Rate limit exceeded. Please wait 1 minute.");
        now(guilds.automod_keywords(&second_token(), GUILD)).expect("another bot has its own turn");
        clock.advance(58_500);
        now(guilds.automod_keywords(&first_token(), GUILD)).expect("a minute later");
        let reads = discord.calls().iter().filter(|c| *c == "automod_rules").count();
        assert_eq!(reads, 3, "the refused read never reached Discord");
    }

    use crate::discord::AutoModRule;

    #[test]
    fn server_info_refuses_a_key_of_another_server_before_asking_discord() {
        let discord = Arc::new(FakeDiscord::new(world()));
        let (guilds, _) = guilds(&discord);
        let server = GUILD;
        let principal = |server| Principal { key_id: ApiKeyId(1), server, name: "k".into(), read_only: true };
        let other = principal(ServerId::from_stored(12_345_678_901));
        let err = now(guilds.server_info(&other, server)).expect_err("another server's key");
        assert!(matches!(err, GuildError::Core(crate::Error::Forbidden(_))), "{err:?}");
        assert!(discord.calls().is_empty(), "Discord was not asked: {:?}", discord.calls());

        let info = now(guilds.server_info(&principal(server), server)).expect("its own server, read-only");
        assert_eq!((info.id, info.name.as_str()), (GUILD.snowflake(), "Guild"));
        assert_eq!(discord.calls(), ["server_bot", "guild"]);
    }

    #[test]
    fn server_info_without_a_server_bot_says_so() {
        let discord = Arc::new(FakeDiscord { server_bot: false, ..FakeDiscord::new(world()) });
        let (guilds, _) = guilds(&discord);
        let server = GUILD;
        let principal = Principal { key_id: ApiKeyId(1), server, name: "k".into(), read_only: false };
        let err = now(guilds.server_info(&principal, server)).expect_err("no bot");
        assert!(matches!(err, GuildError::NoServerBot));
    }

    fn channel(n: u64, kind: u8, parent: Option<u64>, position: i64) -> Channel {
        Channel {
            id: id(n),
            guild_id: Some(GUILD.snowflake()),
            kind,
            name: Some(format!("c{n}")),
            position,
            parent_id: parent.map(id),
            topic: None,
            nsfw: false,
            rate_limit_per_user: None,
            bitrate: None,
            user_limit: None,
            overwrites: Vec::<Overwrite>::new(),
        }
    }

    #[test]
    fn a_category_lists_text_channels_before_voice_ones_by_position() {
        let mut world = world();
        world.channels = vec![
            channel(100, channel_kind::CATEGORY, None, 0),
            channel(101, channel_kind::VOICE, Some(100), 0),
            channel(102, channel_kind::TEXT, Some(100), 3),
            channel(103, channel_kind::ANNOUNCEMENT, Some(100), 1),
            channel(104, channel_kind::STAGE, Some(100), 1),
            channel(105, channel_kind::TEXT, None, 0),
        ];
        let discord = Arc::new(FakeDiscord::new(world));
        let (guilds, _) = guilds(&discord);
        let info = now(guilds.category(&first_token(), id(100))).expect("a category");
        let order: Vec<u64> = info.channels.iter().map(|c| c.id.get() >> 22).collect();
        assert_eq!(order, [103, 102, 101, 104]);
        assert_eq!(info.guild.id, GUILD.snowflake());
        let err = now(guilds.category(&first_token(), id(102))).expect_err("a text channel");
        assert!(matches!(err, GuildError::NotACategory));
    }

    #[test]
    fn a_channel_of_another_guild_is_unknown() {
        let mut world = world();
        world.channels = vec![Channel { guild_id: Some(id(55)), ..channel(101, channel_kind::TEXT, None, 0) }];
        let discord = Arc::new(FakeDiscord::new(world));
        let (guilds, _) = guilds(&discord);
        let err = now(guilds.channel(&first_token(), GUILD, id(101))).expect_err("elsewhere");
        assert!(matches!(err, GuildError::Discord(DiscordError::Unknown(Unknown::Channel))));
    }

    #[test]
    fn text_that_cannot_be_a_token_never_reaches_discord() {
        let discord = Arc::new(FakeDiscord::new(world()));
        let (guilds, _) = guilds(&discord);
        let bad = BotToken::new("not-a-token").expect("text");
        let err = now(guilds.account_age(&bad, ALICE)).expect_err("refused");
        assert!(matches!(err, GuildError::Discord(DiscordError::InvalidToken)));
        assert!(discord.calls().is_empty());
    }
}
