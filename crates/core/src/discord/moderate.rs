//! The moderation service: ban, unban, kick, timeouts and role purges with the caller's bot token.
//! Each connects through the [`DiscordBots`] port, then runs the use case of [`service`] or
//! [`roles`], which check permissions and the role hierarchy before Discord is asked.

use crate::ServerId;
use std::sync::Arc;

use super::{
    BanOptions, BotToken, DiscordBot, DiscordBots, DiscordError, Snowflake, connect, parse_timeout, roles, service,
};
use crate::{Clock, Sleeper, Timestamp};

/// The reason Discord's audit log shows for a ban without one, as the specification says.
pub const DEFAULT_BAN_REASON: &str = "Banned via API";

/// The most days of a banned user's messages a ban may delete (Discord's limit).
pub const MAX_DELETE_MESSAGE_DAYS: i64 = 7;

/// Why a moderation request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModerationError {
    /// Discord refused or failed, or the checks made before asking it did (a missing permission, the
    /// role hierarchy).
    #[error(transparent)]
    Discord(#[from] DiscordError),
    /// A request value breaks a rule (the timeout duration, the days of messages to delete).
    #[error(transparent)]
    Core(#[from] crate::Error),
    /// A purge's removals were still rate limited after its retries.
    #[error("Rate limit exceeded")]
    PurgeRateLimited { retry_after_ms: u64 },
}

/// Moderation over the Discord port.
pub struct Moderation {
    bots: Arc<dyn DiscordBots>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
}

impl std::fmt::Debug for Moderation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Moderation { .. }")
    }
}

impl Moderation {
    pub fn new(bots: Arc<dyn DiscordBots>, clock: Arc<dyn Clock>, sleeper: Arc<dyn Sleeper>) -> Self {
        Self { bots, clock, sleeper }
    }

    async fn bot(&self, token: &BotToken) -> Result<Arc<dyn DiscordBot>, ModerationError> {
        Ok(connect(self.bots.as_ref(), token).await?)
    }

    /// Bans `user` for good, with the audit-log reason [`DEFAULT_BAN_REASON`], deleting no messages.
    pub async fn ban(&self, token: &BotToken, guild: ServerId, user: Snowflake) -> Result<(), ModerationError> {
        let options = BanOptions { delete_message_seconds: 0, reason: Some(DEFAULT_BAN_REASON.into()) };
        let bot = self.bot(token).await?;
        Ok(service::ban(bot.as_ref(), guild, user, options).await?)
    }

    /// Bans `user` with `reason` (blank is none) and deletes `delete_message_days` (0 to 7, default 0)
    /// days of their messages. The days are checked before Discord is asked.
    pub async fn ban_with_reason(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        reason: Option<String>,
        delete_message_days: Option<i64>,
    ) -> Result<(), ModerationError> {
        let days = delete_message_days.unwrap_or(0);
        if !(0..=MAX_DELETE_MESSAGE_DAYS).contains(&days) {
            return Err(crate::Error::invalid(
                "deleteMessageDays",
                format!("must be an integer from 0 to {MAX_DELETE_MESSAGE_DAYS}, got {days}"),
            )
            .into());
        }
        let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        let bot = self.bot(token).await?;
        let delete_message_seconds = u32::try_from(days * 86_400).unwrap_or(0);
        Ok(service::ban(bot.as_ref(), guild, user, BanOptions { delete_message_seconds, reason }).await?)
    }

    /// Lifts a ban.
    pub async fn unban(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ModerationError> {
        let bot = self.bot(token).await?;
        Ok(service::unban(bot.as_ref(), guild, user, reason).await?)
    }

    /// Removes a member from the guild.
    pub async fn kick(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ModerationError> {
        let bot = self.bot(token).await?;
        Ok(service::kick(bot.as_ref(), guild, user, reason).await?)
    }

    /// Times a member out for `duration` ([`parse_timeout`]: `30m`, `6h`, `1d`, `2w`, at most 28 days,
    /// checked before Discord is asked) from now; returns when the timeout ends.
    pub async fn timeout(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        duration: &str,
        reason: Option<String>,
    ) -> Result<Timestamp, ModerationError> {
        let seconds = parse_timeout(duration)?;
        let bot = self.bot(token).await?;
        Ok(service::timeout(bot.as_ref(), guild, user, self.clock.now(), seconds, reason).await?)
    }

    /// Lifts a member's timeout.
    pub async fn remove_timeout(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ModerationError> {
        let bot = self.bot(token).await?;
        Ok(service::remove_timeout(bot.as_ref(), guild, user, reason).await?)
    }

    /// Takes `role` from up to [`roles::PURGE_BATCH`] of its members (the caller calls again for the
    /// rest); the role's guild is found among the bot's. Removals refused as rate limited are retried
    /// after a pause ([`roles::purge_role`]); still refused, the purge answers
    /// [`ModerationError::PurgeRateLimited`].
    pub async fn purge(&self, token: &BotToken, role: Snowflake) -> Result<roles::Purged, ModerationError> {
        let bot = self.bot(token).await?;
        roles::purge_role(bot.as_ref(), role, roles::PURGE_BATCH, self.sleeper.as_ref()).await.map_err(|e| match e {
            DiscordError::RateLimited { retry_after_ms } => ModerationError::PurgeRateLimited { retry_after_ms },
            other => other.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::{
        Permissions,
        fake::{FakeDiscord, GUILD, ManualClock, RecordingSleeper, World, first_token, id, member, now, role},
    };

    const PURGED: Snowflake = id(40);
    const BOT: Snowflake = Snowflake::from_raw(123_456_789_012_345_678);
    const BOT_ROLE: Snowflake = id(41);

    /// A guild where the bot manages roles above `PURGED`, held by `holders` members.
    fn world(holders: u64) -> World {
        let mut world = World::new();
        world.roles.extend([
            role(
                BOT_ROLE,
                "Bot",
                10,
                Permissions::MANAGE_ROLES.union(Permissions::BAN_MEMBERS).union(Permissions::MODERATE_MEMBERS),
            ),
            role(PURGED, "Purged", 3, Permissions::NONE),
        ]);
        world.members.push(member(BOT, &[BOT_ROLE]));
        world.members.extend((0..holders).map(|n| member(id(1_000 + n), &[PURGED])));
        world
    }

    fn service_over(discord: &Arc<FakeDiscord>) -> (Moderation, Arc<RecordingSleeper>) {
        let sleeper = Arc::new(RecordingSleeper::default());
        let bots: Arc<dyn DiscordBots> = Arc::clone(discord) as Arc<dyn DiscordBots>;
        (Moderation::new(bots, ManualClock::at(1_000), sleeper.clone()), sleeper)
    }

    fn removals(discord: &FakeDiscord) -> usize {
        discord.calls().iter().filter(|c| c.starts_with("remove_role") && !c.ends_with("refused")).count()
    }

    #[test]
    fn a_purge_takes_the_role_from_one_batch_of_holders_per_call() {
        let discord = Arc::new(FakeDiscord::new(world(60)));
        let (moderation, _) = service_over(&discord);
        let first = now(moderation.purge(&first_token(), PURGED)).expect("first batch");
        assert_eq!(first, roles::Purged { found: 60, removed: roles::PURGE_BATCH });
        assert_eq!(removals(&discord), 50);
        let second = now(moderation.purge(&first_token(), PURGED)).expect("the rest");
        assert_eq!(second, roles::Purged { found: 10, removed: 10 });
        let third = now(moderation.purge(&first_token(), PURGED)).expect("nothing left");
        assert_eq!(third, roles::Purged { found: 0, removed: 0 });
    }

    #[test]
    fn a_rate_limited_removal_is_retried_after_a_growing_pause_then_given_up() {
        let discord = Arc::new(FakeDiscord::new(world(2)));
        discord.rate_limited_removals.lock().expect("lock").extend([50, 900]);
        let (moderation, sleeper) = service_over(&discord);
        let purged = now(moderation.purge(&first_token(), PURGED)).expect("retried");
        assert_eq!(purged, roles::Purged { found: 2, removed: 2 });
        assert_eq!(*sleeper.pauses.lock().expect("lock"), [200, 900], "at least 200 ms, doubling, or Discord's wait");

        let discord = Arc::new(FakeDiscord::new(world(1)));
        discord.rate_limited_removals.lock().expect("lock").extend([1_500; 4]);
        let (moderation, sleeper) = service_over(&discord);
        let err = now(moderation.purge(&first_token(), PURGED)).expect_err("still limited");
        assert!(matches!(err, ModerationError::PurgeRateLimited { retry_after_ms: 1_500 }), "{err:?}");
        assert_eq!(err.to_string(), "Rate limit exceeded");
        assert_eq!(sleeper.pauses.lock().expect("lock").len(), 3, "three retries");
    }

    #[test]
    fn an_unknown_role_is_refused() {
        let discord = Arc::new(FakeDiscord::new(world(1)));
        let (moderation, _) = service_over(&discord);
        let err = now(moderation.purge(&first_token(), id(404))).expect_err("unknown");
        assert!(matches!(err, ModerationError::Discord(DiscordError::Unknown(crate::discord::Unknown::Role))));
    }

    #[test]
    fn request_values_are_checked_before_discord_is_asked() {
        let discord = Arc::new(FakeDiscord::new(world(1)));
        let (moderation, _) = service_over(&discord);
        let err = now(moderation.ban_with_reason(&first_token(), GUILD, id(1_000), None, Some(8))).expect_err("8 days");
        assert_eq!(err.to_string(), "deleteMessageDays: must be an integer from 0 to 7, got 8");
        let err = now(moderation.timeout(&first_token(), GUILD, id(1_000), "29d", None)).expect_err("too long");
        assert!(err.to_string().starts_with("duration:"), "{err}");
        assert!(discord.calls().is_empty(), "{:?}", discord.calls());
    }

    #[test]
    fn a_ban_checks_the_token_then_acts_and_a_timeout_ends_from_the_clock() {
        let discord = Arc::new(FakeDiscord::new(world(1)));
        let (moderation, _) = service_over(&discord);
        now(moderation.ban(&first_token(), GUILD, id(1_000))).expect("banned");
        assert_eq!(discord.calls().first().map(String::as_str), Some("bot"));
        assert_eq!(discord.calls().last().map(String::as_str), Some("ban 1000"));
        let until = now(moderation.timeout(&first_token(), GUILD, id(1_000), "1h", None)).expect("timed out");
        assert_eq!(until, Timestamp::from_millis(1_000 + 3_600_000));
        assert_eq!(discord.calls().last().map(String::as_str), Some("timeout 1000 Some(3601000)"));
        let bad = BotToken::new("nope").expect("text");
        let err = now(moderation.kick(&bad, GUILD, id(1_000), None)).expect_err("not a token");
        assert!(matches!(err, ModerationError::Discord(DiscordError::InvalidToken)));
    }
}
