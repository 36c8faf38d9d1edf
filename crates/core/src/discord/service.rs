//! Moderation use cases over the Discord port: check what Discord would check (permissions, the role
//! hierarchy) first, so a refusal says exactly why, then act.

use crate::ServerId;
use futures_util::future::{join, try_join3};

use super::{
    BanOptions, Channel, ChannelPosition, ChannelSlot, DiscordBot, DiscordError, Guild, HierarchyRefusal, Member,
    Permissions, RankedMember, Role, Snowflake, Unknown, channel_kind, channels::kind_class, check_hierarchy,
    reorder_siblings, roles,
};
use crate::Timestamp;

/// Where the bot and (when they are a member) the target stand in a guild.
#[derive(Debug)]
struct Standing {
    guild: Guild,
    roles: Vec<Role>,
    bot: Member,
    target: Option<Member>,
}

impl Standing {
    /// Fetches the guild, its roles, the bot's member and the target's member concurrently. A target
    /// who is not a member is `None` (a ban by id of someone who left is allowed).
    async fn fetch(bot: &dyn DiscordBot, guild: ServerId, target: Snowflake) -> Result<Self, DiscordError> {
        let context = try_join3(bot.guild(guild), bot.roles(guild), bot.member(guild, bot.user().id));
        let ((guild, roles, bot_member), target) = match join(context, bot.member(guild, target)).await {
            (Err(e), _) => return Err(e),
            (Ok(context), Ok(target)) => (context, Some(target)),
            (Ok(context), Err(DiscordError::Unknown(Unknown::Member | Unknown::User))) => (context, None),
            (Ok(_), Err(e)) => return Err(e),
        };
        Ok(Self { guild, roles, bot: bot_member, target })
    }

    fn permissions_of(&self, member: &Member) -> Permissions {
        roles::member_permissions(&self.guild, &self.roles, member)
    }

    fn ranked(&self, member: &Member) -> RankedMember {
        roles::ranked(member, &self.roles)
    }

    /// The bot has `needed`, or the error names it.
    fn require(&self, needed: Permissions) -> Result<(), DiscordError> {
        let missing = self.permissions_of(&self.bot).missing(needed);
        match missing.names().first() {
            None => Ok(()),
            Some(name) => Err(DiscordError::MissingPermission { permission: Some(name) }),
        }
    }

    /// The bot may act on the target (when the target is a member).
    fn outranks_target(&self) -> Result<(), DiscordError> {
        let Some(target) = &self.target else { return Ok(()) };
        check_hierarchy(self.guild.owner_id, self.ranked(&self.bot), self.ranked(target))
            .map_err(DiscordError::Hierarchy)
    }

    fn member_target(&self) -> Result<&Member, DiscordError> {
        self.target.as_ref().ok_or(DiscordError::Unknown(Unknown::Member))
    }
}

/// Bans `user`: the bot needs BAN_MEMBERS and must outrank the user if they are a member.
pub async fn ban(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    options: BanOptions,
) -> Result<(), DiscordError> {
    let standing = Standing::fetch(bot, guild, user).await?;
    standing.require(Permissions::BAN_MEMBERS)?;
    standing.outranks_target()?;
    bot.ban(guild, user, options).await.map_err(|e| e.naming(Permissions::BAN_MEMBERS))
}

/// Lifts a ban: the bot needs BAN_MEMBERS; Discord answers unknown ban when there is none.
pub async fn unban(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    reason: Option<String>,
) -> Result<(), DiscordError> {
    let (guild_info, roles, bot_member) =
        try_join3(bot.guild(guild), bot.roles(guild), bot.member(guild, bot.user().id)).await?;
    let standing = Standing { guild: guild_info, roles, bot: bot_member, target: None };
    standing.require(Permissions::BAN_MEMBERS)?;
    bot.unban(guild, user, reason).await.map_err(|e| e.naming(Permissions::BAN_MEMBERS))
}

/// Kicks a member: the bot needs KICK_MEMBERS and must outrank them.
pub async fn kick(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    reason: Option<String>,
) -> Result<(), DiscordError> {
    let standing = Standing::fetch(bot, guild, user).await?;
    standing.require(Permissions::KICK_MEMBERS)?;
    standing.member_target()?;
    standing.outranks_target()?;
    bot.kick(guild, user, reason).await.map_err(|e| e.naming(Permissions::KICK_MEMBERS))
}

/// Times a member out for `seconds` from `now` (the caller has checked the 28-day limit) and returns
/// when the timeout ends. The bot needs MODERATE_MEMBERS and must outrank the member; administrators
/// and the owner cannot be timed out.
pub async fn timeout(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    now: Timestamp,
    seconds: i64,
    reason: Option<String>,
) -> Result<Timestamp, DiscordError> {
    let standing = Standing::fetch(bot, guild, user).await?;
    standing.require(Permissions::MODERATE_MEMBERS)?;
    let target = standing.member_target()?;
    standing.outranks_target()?;
    if standing.permissions_of(target).contains(Permissions::ADMINISTRATOR) {
        return Err(DiscordError::Hierarchy(HierarchyRefusal::TargetIsAdministrator));
    }
    let until = Timestamp::from_millis(now.millis().saturating_add(seconds.saturating_mul(1000)));
    bot.set_timeout(guild, user, Some(until), reason).await.map_err(|e| e.naming(Permissions::MODERATE_MEMBERS))?;
    Ok(until)
}

/// Lifts a member's timeout: the bot needs MODERATE_MEMBERS and must outrank the member (Discord
/// refuses member edits from below).
pub async fn remove_timeout(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    reason: Option<String>,
) -> Result<(), DiscordError> {
    let standing = Standing::fetch(bot, guild, user).await?;
    standing.require(Permissions::MODERATE_MEMBERS)?;
    standing.member_target()?;
    standing.outranks_target()?;
    bot.set_timeout(guild, user, None, reason).await.map_err(|e| e.naming(Permissions::MODERATE_MEMBERS))
}

/// Where a moved channel ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Its 0-based index among its siblings.
    pub position: i64,
    /// The name of the category now holding it, if any.
    pub category: Option<String>,
}

/// Moves `channel`, as the specification describes its two cases:
///
/// - into `category` (when given) at `index` among the category's channels of the same class, clamped
///   to their number (the end when no index is given), renumbering every sibling 0, 1, 2, ... in one
///   positions request;
/// - without a category, only the channel's own position value changes: `index`, clamped to 0 ..
///   the number of its siblings, sent for that one channel (its siblings keep theirs). Without an
///   index either, nothing changes and Discord is not asked to move anything.
///
/// The bot needs MANAGE_CHANNELS (Discord checks it; the error names it).
pub async fn move_channel(
    bot: &dyn DiscordBot,
    channel: Snowflake,
    category: Option<Snowflake>,
    index: Option<usize>,
) -> Result<Moved, DiscordError> {
    let moving = bot.channel(channel).await?;
    let Some(guild) = moving.guild_id.and_then(ServerId::from_discord) else {
        return Err(DiscordError::Rejected("the channel is not a guild channel".into()));
    };
    if moving.kind == channel_kind::CATEGORY && category.is_some() {
        return Err(DiscordError::Rejected("a category cannot be moved into a category".into()));
    }
    let channels = bot.guild_channels(guild).await?;
    let parent = match category {
        Some(id) => {
            let target = channels.iter().find(|c| c.id == id).ok_or(DiscordError::Unknown(Unknown::Channel))?;
            if target.kind != channel_kind::CATEGORY {
                return Err(DiscordError::Rejected("TargetCategoryId is not a category channel".into()));
            }
            Some(target)
        }
        None => moving.parent_id.and_then(|p| channels.iter().find(|c| c.id == p)),
    };
    let parent_id = parent.map(|p| p.id);
    let is_sibling = |c: &Channel| {
        c.id == moving.id
            || if moving.kind == channel_kind::CATEGORY {
                c.kind == channel_kind::CATEGORY
            } else {
                c.kind != channel_kind::CATEGORY
                    && c.parent_id == parent_id
                    && kind_class(c.kind) == kind_class(moving.kind)
            }
    };
    let siblings: Vec<ChannelSlot> =
        channels.iter().filter(|c| is_sibling(c)).map(|c| ChannelSlot { id: c.id, position: c.position }).collect();
    let sibling_count = siblings.iter().filter(|s| s.id != moving.id).count();
    let category_name = parent.and_then(|p| p.name.clone());
    let manage = |e: DiscordError| e.naming(Permissions::MANAGE_CHANNELS);
    if category.is_none() {
        let Some(index) = index else {
            return Ok(Moved { position: moving.position, category: category_name });
        };
        let position = i64::try_from(index.min(sibling_count)).unwrap_or(i64::MAX);
        let only = ChannelPosition { id: moving.id, position, parent_id: None };
        bot.set_channel_positions(guild, vec![only]).await.map_err(manage)?;
        return Ok(Moved { position, category: category_name });
    }
    let at = index.unwrap_or(sibling_count).min(sibling_count);
    let order = reorder_siblings(&siblings, moving.id, at);
    let positions = order
        .iter()
        .map(|slot| ChannelPosition {
            id: slot.id,
            position: slot.position,
            parent_id: if slot.id == moving.id { category } else { None },
        })
        .collect();
    bot.set_channel_positions(guild, positions).await.map_err(manage)?;
    let position = order.iter().find(|s| s.id == moving.id).map_or(0, |s| s.position);
    Ok(Moved { position, category: category_name })
}

#[cfg(test)]
mod tests {
    use std::{
        future::Future,
        pin::pin,
        sync::Mutex,
        task::{Context, Poll, Waker},
    };

    use super::*;
    use crate::discord::{BotUser, DiscordFuture, Invite};

    /// Runs a future that never waits (the fake below answers at once).
    fn now<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the fake Discord never waits"),
        }
    }

    const GUILD: ServerId = ServerId::from_discord(Snowflake::from_raw(10 << 22)).expect("a snowflake within i64");
    const OWNER: Snowflake = Snowflake::from_raw(11 << 22);
    const BOT: Snowflake = Snowflake::from_raw(12 << 22);
    const USER: Snowflake = Snowflake::from_raw(13 << 22);
    const MOD_ROLE: Snowflake = Snowflake::from_raw(20 << 22);
    const HIGH_ROLE: Snowflake = Snowflake::from_raw(21 << 22);
    const ADMIN_ROLE: Snowflake = Snowflake::from_raw(22 << 22);

    struct Fake {
        user: BotUser,
        roles: Vec<Role>,
        members: Vec<Member>,
        channels: Vec<Channel>,
        actions: Mutex<Vec<String>>,
    }

    fn role(id: Snowflake, position: i64, permissions: Permissions) -> Role {
        Role::plain(id, format!("r{position}"), position, permissions)
    }

    fn channel(id: u64, kind: u8, parent: Option<u64>, position: i64, name: &str) -> Channel {
        Channel {
            id: Snowflake::from_raw(id << 22),
            guild_id: Some(GUILD.snowflake()),
            kind,
            name: Some(name.into()),
            position,
            parent_id: parent.map(|p| Snowflake::from_raw(p << 22)),
            topic: None,
            nsfw: false,
            rate_limit_per_user: None,
            bitrate: None,
            user_limit: None,
            overwrites: vec![],
        }
    }

    fn member(user_id: Snowflake, roles: &[Snowflake]) -> Member {
        Member {
            user_id,
            username: "someone".into(),
            nick: None,
            roles: roles.to_vec(),
            premium_since: None,
            communication_disabled_until: None,
        }
    }

    fn fake(bot_perms: Permissions, user_roles: &[Snowflake]) -> Fake {
        Fake {
            user: BotUser { id: BOT, username: "bot".into() },
            roles: vec![
                role(GUILD.snowflake(), 0, Permissions::NONE),
                role(MOD_ROLE, 5, bot_perms),
                role(HIGH_ROLE, 7, Permissions::NONE),
                role(ADMIN_ROLE, 2, Permissions::ADMINISTRATOR),
            ],
            members: vec![member(OWNER, &[]), member(BOT, &[MOD_ROLE]), member(USER, user_roles)],
            channels: vec![
                channel(100, channel_kind::CATEGORY, None, 0, "Text Channels"),
                channel(101, channel_kind::TEXT, Some(100), 0, "general"),
                channel(102, channel_kind::TEXT, Some(100), 1, "memes"),
                channel(103, channel_kind::VOICE, Some(100), 0, "Lounge"),
                channel(200, channel_kind::CATEGORY, None, 1, "Archive"),
                channel(201, channel_kind::TEXT, Some(200), 0, "old"),
            ],
            actions: Mutex::new(Vec::new()),
        }
    }

    /// Calls the moderation tests never make (the role and message use cases are tested end to end
    /// against the Discord simulator).
    fn unused<T>() -> DiscordFuture<'static, T> {
        Box::pin(async { Err(DiscordError::Rejected("not part of this fake".into())) })
    }

    impl Fake {
        fn done(&self, action: String) -> DiscordFuture<'_, ()> {
            self.actions.lock().expect("lock").push(action);
            Box::pin(async { Ok(()) })
        }
        fn actions(&self) -> Vec<String> {
            self.actions.lock().expect("lock").clone()
        }
    }

    impl DiscordBot for Fake {
        fn user(&self) -> &BotUser {
            &self.user
        }
        fn guild(&self, guild: ServerId) -> DiscordFuture<'_, Guild> {
            let guild = Guild {
                id: guild.snowflake(),
                name: "Guild".into(),
                owner_id: OWNER,
                icon: None,
                features: vec![],
                premium_tier: 0,
                premium_subscription_count: None,
                approximate_member_count: None,
                approximate_presence_count: None,
            };
            Box::pin(async move { Ok(guild) })
        }
        fn roles(&self, _: ServerId) -> DiscordFuture<'_, Vec<Role>> {
            let roles = self.roles.clone();
            Box::pin(async move { Ok(roles) })
        }
        fn member(&self, _: ServerId, user: Snowflake) -> DiscordFuture<'_, Member> {
            let found = self.members.iter().find(|m| m.user_id == user).cloned();
            Box::pin(async move { found.ok_or(DiscordError::Unknown(Unknown::Member)) })
        }
        fn ban(&self, _: ServerId, user: Snowflake, options: BanOptions) -> DiscordFuture<'_, ()> {
            self.done(format!("ban {user} {} {:?}", options.delete_message_seconds, options.reason))
        }
        fn unban(&self, _: ServerId, user: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            self.done(format!("unban {user}"))
        }
        fn kick(&self, _: ServerId, user: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            self.done(format!("kick {user}"))
        }
        fn set_timeout(
            &self,
            _: ServerId,
            user: Snowflake,
            until: Option<Timestamp>,
            _: Option<String>,
        ) -> DiscordFuture<'_, ()> {
            self.done(format!("timeout {user} {:?}", until.map(Timestamp::millis)))
        }
        fn invite(&self, _: &str) -> DiscordFuture<'_, Invite> {
            Box::pin(async { Err(DiscordError::Unknown(Unknown::Invite)) })
        }
        fn members(&self, _: ServerId, after: Option<Snowflake>, limit: u16) -> DiscordFuture<'_, Vec<Member>> {
            let mut page: Vec<Member> =
                self.members.iter().filter(|m| after.is_none_or(|a| m.user_id > a)).cloned().collect();
            page.sort_by_key(|m| m.user_id);
            page.truncate(usize::from(limit));
            Box::pin(async move { Ok(page) })
        }
        fn channel(&self, id: Snowflake) -> DiscordFuture<'_, Channel> {
            let found = self.channels.iter().find(|c| c.id == id).cloned();
            Box::pin(async move { found.ok_or(DiscordError::Unknown(Unknown::Channel)) })
        }
        fn guild_channels(&self, _: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
            let channels = self.channels.clone();
            Box::pin(async move { Ok(channels) })
        }
        fn set_channel_positions(&self, _: ServerId, positions: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
            let shown: Vec<String> = positions
                .iter()
                .map(|p| {
                    format!(
                        "{}@{}{}",
                        p.id.get() >> 22,
                        p.position,
                        p.parent_id.map_or(String::new(), |c| format!(" in {}", c.get() >> 22))
                    )
                })
                .collect();
            self.done(format!("positions {}", shown.join(", ")))
        }
        fn automod_rules(&self, _: ServerId) -> DiscordFuture<'_, Vec<crate::discord::AutoModRule>> {
            Box::pin(async { Ok(vec![]) })
        }
        fn guilds(&self, _: Option<Snowflake>) -> DiscordFuture<'_, Vec<crate::discord::GuildSummary>> {
            unused()
        }
        fn create_role(&self, _: ServerId, _: crate::discord::RoleSpec) -> DiscordFuture<'_, Role> {
            unused()
        }
        fn update_role(&self, _: ServerId, _: Snowflake, _: crate::discord::RoleSpec) -> DiscordFuture<'_, Role> {
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
            _: Snowflake,
            _: Snowflake,
            _: Option<String>,
        ) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn send_message(&self, channel: Snowflake, _: crate::discord::NewMessage) -> DiscordFuture<'_, Snowflake> {
            // Channel 666 is one the bot may not send to.
            if channel == cid(666) {
                return Box::pin(async { Err(DiscordError::MissingPermission { permission: None }) });
            }
            self.actions.lock().expect("lock").push(format!("send {} as {}", channel.get() >> 22, self.user.id));
            Box::pin(async move { Ok(channel) })
        }
        fn message(&self, _: Snowflake, _: Snowflake) -> DiscordFuture<'_, crate::discord::Message> {
            unused()
        }
        fn edit_message(&self, _: Snowflake, _: Snowflake, _: crate::discord::MessagePatch) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn dm_channel(&self, _: Snowflake) -> DiscordFuture<'_, Snowflake> {
            unused()
        }
        fn user_profile(&self, _: Snowflake) -> DiscordFuture<'_, crate::discord::UserProfile> {
            unused()
        }
        fn messages(
            &self,
            _: Snowflake,
            _: Option<Snowflake>,
            _: u8,
        ) -> DiscordFuture<'_, Vec<crate::discord::Message>> {
            unused()
        }
        fn send_file(&self, _: Snowflake, _: String, _: String, _: Vec<u8>) -> DiscordFuture<'_, Snowflake> {
            unused()
        }
    }

    #[test]
    fn a_bot_with_the_permission_and_a_higher_role_acts() {
        let bot = fake(Permissions::BAN_MEMBERS.union(Permissions::KICK_MEMBERS), &[]);
        let options = BanOptions { delete_message_seconds: 86_400, reason: Some("Spam".into()) };
        now(ban(&bot, GUILD, USER, options)).expect("banned");
        now(kick(&bot, GUILD, USER, None)).expect("kicked");
        now(unban(&bot, GUILD, USER, None)).expect("unbanned");
        assert_eq!(
            bot.actions(),
            [format!("ban {USER} 86400 Some(\"Spam\")"), format!("kick {USER}"), format!("unban {USER}")]
        );
    }

    #[test]
    fn a_missing_permission_is_named_and_nothing_happens() {
        let bot = fake(Permissions::KICK_MEMBERS, &[]);
        let err = now(ban(&bot, GUILD, USER, BanOptions::default())).expect_err("refused");
        assert_eq!(err, DiscordError::MissingPermission { permission: Some("BAN_MEMBERS") });
        let err = now(timeout(&bot, GUILD, USER, Timestamp(0), 60, None)).expect_err("refused");
        assert_eq!(err.to_string(), "Missing permission: the bot needs MODERATE_MEMBERS.");
        assert!(bot.actions().is_empty());
    }

    #[test]
    fn the_hierarchy_protects_higher_roles_the_owner_and_administrators() {
        let all = Permissions::BAN_MEMBERS.union(Permissions::KICK_MEMBERS).union(Permissions::MODERATE_MEMBERS);
        let bot = fake(all, &[HIGH_ROLE]);
        let err = now(kick(&bot, GUILD, USER, None)).expect_err("refused");
        assert_eq!(err, DiscordError::Hierarchy(HierarchyRefusal::TargetNotBelow { actor: 5, target: 7 }));
        let err = now(ban(&bot, GUILD, OWNER, BanOptions::default())).expect_err("refused");
        assert_eq!(err, DiscordError::Hierarchy(HierarchyRefusal::TargetIsOwner));
        let admin = fake(all, &[ADMIN_ROLE]);
        let err = now(timeout(&admin, GUILD, USER, Timestamp(0), 60, None)).expect_err("refused");
        assert_eq!(err.to_string(), "Administrators cannot be timed out.");
        assert!(bot.actions().is_empty() && admin.actions().is_empty());
    }

    #[test]
    fn timeouts_end_seconds_after_now_and_can_be_lifted() {
        let bot = fake(Permissions::MODERATE_MEMBERS, &[]);
        let until = now(timeout(&bot, GUILD, USER, Timestamp(1_000), 3_600, None)).expect("timed out");
        assert_eq!(until, Timestamp(3_601_000));
        now(remove_timeout(&bot, GUILD, USER, None)).expect("lifted");
        assert_eq!(bot.actions(), [format!("timeout {USER} Some(3601000)"), format!("timeout {USER} None")]);
    }

    fn cid(id: u64) -> Snowflake {
        Snowflake::from_raw(id << 22)
    }

    #[test]
    fn a_channel_moves_into_a_category_among_its_own_class_and_everyone_is_renumbered() {
        let bot = fake(Permissions::NONE, &[]);
        let moved = now(move_channel(&bot, cid(201), Some(cid(100)), Some(1))).expect("moved");
        assert_eq!(moved, Moved { position: 1, category: Some("Text Channels".into()) });
        // The voice channel 103 is of the other class and keeps its place; 201 lands between 101 and 102.
        assert_eq!(bot.actions(), ["positions 101@0, 201@1 in 100, 102@2"]);
    }

    #[test]
    fn without_a_category_only_the_channels_own_position_changes() {
        let bot = fake(Permissions::NONE, &[]);
        // Clamped to the number of its siblings (102 is the only other text channel of category 100);
        // the siblings are not renumbered, and no category is sent.
        let moved = now(move_channel(&bot, cid(101), None, Some(99))).expect("moved");
        assert_eq!(moved, Moved { position: 1, category: Some("Text Channels".into()) });
        assert_eq!(bot.actions(), ["positions 101@1"]);
        let moved = now(move_channel(&bot, cid(102), None, Some(0))).expect("moved");
        assert_eq!(moved.position, 0);
        assert_eq!(bot.actions(), ["positions 101@1", "positions 102@0"]);
        // Without a position either, nothing moves.
        let stays = now(move_channel(&bot, cid(201), None, None)).expect("unchanged");
        assert_eq!(stays, Moved { position: 0, category: Some("Archive".into()) });
        assert_eq!(bot.actions().len(), 2, "Discord was not asked to move anything");
    }

    #[test]
    fn a_target_that_is_not_a_category_or_unknown_is_refused() {
        let bot = fake(Permissions::NONE, &[]);
        let err = now(move_channel(&bot, cid(101), Some(cid(102)), None)).expect_err("not a category");
        assert!(matches!(err, DiscordError::Rejected(m) if m.contains("not a category")));
        let err = now(move_channel(&bot, cid(101), Some(cid(999)), None)).expect_err("unknown");
        assert_eq!(err, DiscordError::Unknown(Unknown::Channel));
        assert!(bot.actions().is_empty());
    }

    #[test]
    fn a_ban_by_id_needs_no_membership_but_a_kick_does() {
        let bot = fake(Permissions::BAN_MEMBERS.union(Permissions::KICK_MEMBERS), &[]);
        let stranger = Snowflake::from_raw(99 << 22);
        now(ban(&bot, GUILD, stranger, BanOptions::default())).expect("banned by id");
        let err = now(kick(&bot, GUILD, stranger, None)).expect_err("not a member");
        assert_eq!(err, DiscordError::Unknown(Unknown::Member));
    }
}
