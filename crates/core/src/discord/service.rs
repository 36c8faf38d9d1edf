//! Moderation use cases over the Discord port: check what Discord would check (permissions, the role
//! hierarchy) first, so a refusal says exactly why, then act.

use futures_util::future::{join, try_join3};

use super::{
    BanOptions, DiscordBot, DiscordError, Guild, HierarchyRefusal, Member, Permissions, RankedMember, Role, Snowflake,
    Unknown, base_permissions, check_hierarchy,
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
    async fn fetch(bot: &dyn DiscordBot, guild: Snowflake, target: Snowflake) -> Result<Self, DiscordError> {
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
        let everyone = self.roles.iter().find(|r| r.id == self.guild.id).map_or(Permissions::NONE, |r| r.permissions);
        let roles: Vec<Permissions> =
            self.roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.permissions).collect();
        base_permissions(member.user_id == self.guild.owner_id, everyone, &roles)
    }

    fn ranked(&self, member: &Member) -> RankedMember {
        RankedMember::new(
            member.user_id,
            self.roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.position),
        )
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
    guild: Snowflake,
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
    guild: Snowflake,
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
    guild: Snowflake,
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
    guild: Snowflake,
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
    guild: Snowflake,
    user: Snowflake,
    reason: Option<String>,
) -> Result<(), DiscordError> {
    let standing = Standing::fetch(bot, guild, user).await?;
    standing.require(Permissions::MODERATE_MEMBERS)?;
    standing.member_target()?;
    standing.outranks_target()?;
    bot.set_timeout(guild, user, None, reason).await.map_err(|e| e.naming(Permissions::MODERATE_MEMBERS))
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

    const GUILD: Snowflake = Snowflake::from_raw(10 << 22);
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
        actions: Mutex<Vec<String>>,
    }

    fn role(id: Snowflake, position: i64, permissions: Permissions) -> Role {
        Role {
            id,
            name: format!("r{position}"),
            position,
            permissions,
            color: 0,
            hoist: false,
            mentionable: false,
            managed: false,
            premium_subscriber: false,
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
                role(GUILD, 0, Permissions::NONE),
                role(MOD_ROLE, 5, bot_perms),
                role(HIGH_ROLE, 7, Permissions::NONE),
                role(ADMIN_ROLE, 2, Permissions::ADMINISTRATOR),
            ],
            members: vec![member(OWNER, &[]), member(BOT, &[MOD_ROLE]), member(USER, user_roles)],
            actions: Mutex::new(Vec::new()),
        }
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
        fn guild(&self, guild: Snowflake) -> DiscordFuture<'_, Guild> {
            let guild = Guild {
                id: guild,
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
        fn roles(&self, _: Snowflake) -> DiscordFuture<'_, Vec<Role>> {
            let roles = self.roles.clone();
            Box::pin(async move { Ok(roles) })
        }
        fn member(&self, _: Snowflake, user: Snowflake) -> DiscordFuture<'_, Member> {
            let found = self.members.iter().find(|m| m.user_id == user).cloned();
            Box::pin(async move { found.ok_or(DiscordError::Unknown(Unknown::Member)) })
        }
        fn ban(&self, _: Snowflake, user: Snowflake, options: BanOptions) -> DiscordFuture<'_, ()> {
            self.done(format!("ban {user} {} {:?}", options.delete_message_seconds, options.reason))
        }
        fn unban(&self, _: Snowflake, user: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            self.done(format!("unban {user}"))
        }
        fn kick(&self, _: Snowflake, user: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            self.done(format!("kick {user}"))
        }
        fn set_timeout(
            &self,
            _: Snowflake,
            user: Snowflake,
            until: Option<Timestamp>,
            _: Option<String>,
        ) -> DiscordFuture<'_, ()> {
            self.done(format!("timeout {user} {:?}", until.map(Timestamp::millis)))
        }
        fn invite(&self, _: &str) -> DiscordFuture<'_, Invite> {
            Box::pin(async { Err(DiscordError::Unknown(Unknown::Invite)) })
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

    #[test]
    fn a_ban_by_id_needs_no_membership_but_a_kick_does() {
        let bot = fake(Permissions::BAN_MEMBERS.union(Permissions::KICK_MEMBERS), &[]);
        let stranger = Snowflake::from_raw(99 << 22);
        now(ban(&bot, GUILD, stranger, BanOptions::default())).expect("banned by id");
        let err = now(kick(&bot, GUILD, stranger, None)).expect_err("not a member");
        assert_eq!(err, DiscordError::Unknown(Unknown::Member));
    }
}
