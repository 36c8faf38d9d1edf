//! Custom booster roles: each server booster may have at most one role of their own, which Garrison
//! records so that updates and deletions can check who owns it.
//!
//! What a booster may change on their role is a [`BoosterRoleSpec`]: name, colours and icon. It has
//! no permission, hoist or mentionable field, so no booster request can grant their role rights.
//!
//! A role Garrison did not create (one from the original service, or made by hand) becomes a
//! booster's on first use when Discord's role assignments show it is theirs alone
//! ([`claimable`] plus a check that no other member holds it); it is recorded then.

use crate::ServerId;
use std::sync::Arc;

use crate::{
    Clock, Timestamp,
    discord::{
        BotToken, DiscordBot, DiscordBots, DiscordError, Member, Permissions, Role, RoleSpec, Snowflake, Unknown,
        base_permissions, connect,
        looks::{self, IconSource, LooksError, LooksRequest, RoleLooks},
        roles::{apply_gradient_policy, check_icon_allowed, each_member_page},
    },
    ports::BoosterRoles,
    threads::{BlockingThreads, run_blocking},
};

/// What a booster may set on their own role: a role's looks (name, colours, icon). Converting it to a
/// [`RoleSpec`] is the only way the booster use cases reach Discord, and neither conversion can carry
/// permissions, hoist or mentionable.
pub type BoosterRoleSpec = RoleLooks;

impl BoosterRoleSpec {
    /// The role to create: no permissions at all (Discord would otherwise copy @everyone's).
    pub fn for_create(self, reason: &str) -> RoleSpec {
        RoleSpec { permissions: Some(Permissions::NONE), ..self.appearance(reason) }
    }

    /// The edit to make: permissions, hoist and mentionable stay as they are.
    pub fn for_update(self, reason: &str) -> RoleSpec {
        self.appearance(reason)
    }

    fn appearance(self, reason: &str) -> RoleSpec {
        RoleSpec {
            name: self.name,
            permissions: None,
            color: self.color,
            gradient: self.gradient,
            hoist: None,
            mentionable: None,
            icon: self.icon,
            reason: Some(reason.to_owned()),
        }
    }
}

/// Whether `member` may take `role` of `guild` as their custom booster role on first use, from what
/// Discord says: they hold it; it is not @everyone, not managed (a bot's or the booster role) and not
/// the guild's booster role; and it grants nothing the member's other roles do not already grant
/// (so a lone holder of a moderator role cannot rename or delete it as "theirs"). That nobody else
/// holds it is checked separately, over the member list.
pub fn claimable(guild: ServerId, owner: Snowflake, role: &Role, member: &Member, roles: &[Role]) -> bool {
    // @everyone is the role whose id is the guild's.
    let guild = guild.snowflake();
    if role.id == guild || role.managed || role.premium_subscriber || !member.roles.contains(&role.id) {
        return false;
    }
    let everyone = roles.iter().find(|r| r.id == guild).map_or(Permissions::NONE, |r| r.permissions);
    let others: Vec<Permissions> =
        roles.iter().filter(|r| r.id != role.id && member.roles.contains(&r.id)).map(|r| r.permissions).collect();
    let without = base_permissions(member.user_id == owner, everyone, &others);
    without.contains(role.permissions)
}

/// The record of one custom booster role: `user` owns `role` in `guild`.
///
/// A guild holds at most one record per user and at most one per role; the store enforces both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoosterRole {
    pub guild: ServerId,
    pub user: Snowflake,
    pub role: Snowflake,
    pub created_at: Timestamp,
}

impl BoosterRole {
    /// Whether `user` owns this role: the ownership check before an update or a deletion.
    pub fn is_owned_by(&self, user: Snowflake) -> bool {
        self.user == user
    }
}

/// Why a booster-role request is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoosterError {
    #[error("User is not a server booster")]
    NotBooster,
    #[error("User already has a custom booster role")]
    AlreadyHasRole { role: Snowflake },
    #[error("You do not own this role")]
    NotOwner,
    #[error(transparent)]
    Looks(#[from] LooksError),
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl From<crate::StoreError> for BoosterError {
    fn from(err: crate::StoreError) -> Self {
        Self::Store(err.into())
    }
}

/// The custom booster-role use cases: create, edit and delete a booster's own role, with its owner
/// recorded. The records port is synchronous; its calls run on [`BlockingThreads`].
#[derive(Clone)]
pub struct BoosterRoleService {
    discord: Arc<dyn DiscordBots>,
    records: Arc<dyn BoosterRoles>,
    threads: Arc<dyn BlockingThreads>,
    clock: Arc<dyn Clock>,
    icons: Arc<dyn IconSource>,
}

/// The name of a new custom booster role that the request does not name.
pub const DEFAULT_NAME: &str = "Custom Booster";

impl std::fmt::Debug for BoosterRoleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoosterRoleService").finish_non_exhaustive()
    }
}

/// Whether a member boosts the guild: Discord's `premium_since`, or the guild's booster role.
fn is_booster(member: &Member, roles: &[Role]) -> bool {
    member.premium_since.is_some() || roles.iter().any(|r| r.premium_subscriber && member.roles.contains(&r.id))
}

impl BoosterRoleService {
    pub fn new(
        discord: Arc<dyn DiscordBots>,
        records: Arc<dyn BoosterRoles>,
        threads: Arc<dyn BlockingThreads>,
        clock: Arc<dyn Clock>,
        icons: Arc<dyn IconSource>,
    ) -> Self {
        Self { discord, records, threads, clock, icons }
    }

    async fn records<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn BoosterRoles) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, BoosterError> {
        let records = Arc::clone(&self.records);
        Ok(run_blocking(self.threads.as_ref(), move || work(records.as_ref())).await??)
    }

    async fn find(&self, guild: ServerId, user: Snowflake) -> Result<Option<BoosterRole>, BoosterError> {
        self.records(move |r| r.find(guild, user)).await
    }

    async fn owner_of(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>, BoosterError> {
        self.records(move |r| r.owner_of(guild, role)).await
    }

    /// Records a role; the store's own refusal (a concurrent request recorded first) is handed back
    /// as the store's error for the caller to judge.
    async fn record(&self, role: BoosterRole) -> Result<crate::Result<()>, BoosterError> {
        let records = Arc::clone(&self.records);
        Ok(run_blocking(self.threads.as_ref(), move || records.record(&role)).await?)
    }

    /// Creates `user`'s custom booster role with the bot behind `token`: they must boost the guild and
    /// have none yet; the role (with no permissions) goes right above the guild's booster role, is
    /// given to them, and is recorded. If recording fails (a concurrent request recorded one first),
    /// the new role is deleted again. Its looks are checked (and its icon fetched) once the token is;
    /// a missing name is [`DEFAULT_NAME`].
    pub async fn create(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        looks: LooksRequest,
    ) -> Result<Role, BoosterError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let bot = bot.as_ref();
        let spec = looks::resolve(self.icons.as_ref(), looks, Some(DEFAULT_NAME)).await?;
        let mut spec = spec.for_create("Custom booster role");
        let (info, roles, member) =
            futures_util::future::try_join3(bot.guild(guild), bot.roles(guild), bot.member(guild, user)).await?;
        if !is_booster(&member, &roles) {
            return Err(BoosterError::NotBooster);
        }
        if let Some(existing) = self.find(guild, user).await? {
            return Err(BoosterError::AlreadyHasRole { role: existing.role });
        }
        apply_gradient_policy(&info, &mut spec);
        check_icon_allowed(&info, &spec)?;
        let manage = |e: DiscordError| e.naming(Permissions::MANAGE_ROLES);
        let role = bot.create_role(guild, spec).await.map_err(manage)?;
        let now = self.clock.now();
        let placed = async {
            // Positions shift when a role is created, so the booster role's is read afresh.
            if roles.iter().any(|r| r.premium_subscriber) {
                let now = bot.roles(guild).await?;
                if let Some(booster) = now.iter().find(|r| r.premium_subscriber) {
                    bot.set_role_positions(guild, vec![(role.id, booster.position + 1)]).await.map_err(manage)?;
                }
            }
            bot.add_member_role(guild, user, role.id, Some("Custom booster role".into())).await.map_err(manage)?;
            self.record(BoosterRole { guild, user, role: role.id, created_at: now }).await?.map_err(BoosterError::from)
        }
        .await;
        if let Err(err) = placed {
            // Best effort: do not leave an unrecorded role behind. The original failure is what matters.
            let _ = bot.delete_role(guild, role.id, Some("Custom booster role could not be set up".into())).await;
            return Err(match err {
                BoosterError::Store(crate::Error::BoosterRoleExists { .. }) => {
                    BoosterError::AlreadyHasRole { role: role.id }
                }
                other => other,
            });
        }
        Ok(role)
    }

    /// Edits `user`'s custom booster role (name, colours, icon; never rights); only its owner may.
    pub async fn update(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
        looks: LooksRequest,
    ) -> Result<Role, BoosterError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let bot = bot.as_ref();
        let spec = looks::resolve(self.icons.as_ref(), looks, None).await?;
        self.owned(bot, guild, user, role).await?;
        let mut spec = spec.for_update("Custom booster role updated");
        let info = bot.guild(guild).await?;
        apply_gradient_policy(&info, &mut spec);
        check_icon_allowed(&info, &spec)?;
        Ok(bot.update_role(guild, role, spec).await.map_err(|e| e.naming(Permissions::MANAGE_ROLES))?)
    }

    /// Deletes `user`'s custom booster role and its record; only its owner may. A recorded role already
    /// gone from Discord is forgotten all the same.
    pub async fn delete(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
    ) -> Result<(), BoosterError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let bot = bot.as_ref();
        self.owned(bot, guild, user, role).await?;
        match bot.delete_role(guild, role, Some("Custom booster role deleted".into())).await {
            Ok(()) | Err(DiscordError::Unknown(Unknown::Role)) => {}
            Err(e) => return Err(e.naming(Permissions::MANAGE_ROLES).into()),
        }
        self.records(move |r| r.forget(guild, role)).await?;
        Ok(())
    }

    /// Checks that `user` owns `role` as their custom booster role, as the specification does it (by
    /// role assignment): a recorded role is its recorded owner's; an unrecorded one is the user's when
    /// they hold it alone and it is [`claimable`] (and they have no other recorded role), and it is
    /// then recorded. The bot's membership is checked first, so a bot outside the guild learns nothing
    /// about its roles or records.
    async fn owned(
        &self,
        bot: &dyn DiscordBot,
        guild: ServerId,
        user: Snowflake,
        role: Snowflake,
    ) -> Result<(), BoosterError> {
        match bot.member(guild, bot.user().id).await {
            Ok(_) => {}
            Err(DiscordError::Unknown(Unknown::Member | Unknown::User | Unknown::Guild)) => {
                return Err(DiscordError::NotMember.into());
            }
            Err(e) => return Err(e.into()),
        }
        match self.owner_of(guild, role).await? {
            Some(record) if record.is_owned_by(user) => return Ok(()),
            Some(_) => return Err(BoosterError::NotOwner),
            None => {}
        }
        if self.find(guild, user).await?.is_some() {
            return Err(BoosterError::NotOwner);
        }
        let (info, roles) = futures_util::future::try_join(bot.guild(guild), bot.roles(guild)).await?;
        let member = match bot.member(guild, user).await {
            Ok(member) => member,
            Err(DiscordError::Unknown(Unknown::Member | Unknown::User)) => return Err(BoosterError::NotOwner),
            Err(e) => return Err(e.into()),
        };
        let Some(target) = roles.iter().find(|r| r.id == role) else {
            return Err(DiscordError::Unknown(Unknown::Role).into());
        };
        if !claimable(guild, info.owner_id, target, &member, &roles) || held_by_another(bot, guild, user, role).await? {
            return Err(BoosterError::NotOwner);
        }
        match self.record(BoosterRole { guild, user, role, created_at: self.clock.now() }).await? {
            Ok(()) => Ok(()),
            Err(e @ crate::Error::Store(_)) => Err(e.into()),
            // A concurrent request recorded first (the user's or the role's record exists): it decides.
            Err(_) => match self.owner_of(guild, role).await? {
                Some(record) if record.is_owned_by(user) => Ok(()),
                _ => Err(BoosterError::NotOwner),
            },
        }
    }
}

/// Whether some member other than `user` holds `role`, reading the member list a page at a time and
/// stopping at the first one found.
async fn held_by_another(
    bot: &dyn DiscordBot,
    guild: ServerId,
    user: Snowflake,
    role: Snowflake,
) -> Result<bool, DiscordError> {
    let mut found = false;
    each_member_page(bot, guild, |page| {
        found = page.iter().any(|m| m.user_id != user && m.roles.contains(&role));
        !found
    })
    .await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recorded_user_owns_the_role() {
        let record = BoosterRole {
            guild: ServerId::from_discord(Snowflake::from_raw(123_456_789_012_345_678))
                .expect("a snowflake within i64"),
            user: Snowflake::from_raw(234_567_890_123_456_789),
            role: Snowflake::from_raw(345_678_901_234_567_890),
            created_at: Timestamp(1_700_000_000_000),
        };
        assert!(record.is_owned_by(Snowflake::from_raw(234_567_890_123_456_789)));
        assert!(!record.is_owned_by(Snowflake::from_raw(345_678_901_234_567_890)));
    }

    #[test]
    fn a_booster_spec_never_carries_rights() {
        let spec = BoosterRoleSpec { name: Some("Mine".into()), color: Some(0x5865f2), ..BoosterRoleSpec::default() };
        let create = spec.clone().for_create("made");
        assert_eq!(
            (create.permissions, create.hoist, create.mentionable, create.name.as_deref(), create.color),
            (Some(Permissions::NONE), None, None, Some("Mine"), Some(0x5865f2))
        );
        let update = spec.for_update("edited");
        assert_eq!((update.permissions, update.hoist, update.mentionable), (None, None, None));
        assert_eq!(update.reason.as_deref(), Some("edited"));
    }

    fn role(id: u64, permissions: Permissions) -> Role {
        Role::plain(Snowflake::from_raw(id << 22), format!("r{id}"), i64::try_from(id).unwrap_or(0), permissions)
    }

    #[test]
    fn a_role_is_claimable_only_if_held_plain_and_adding_no_rights() {
        let guild = ServerId::from_discord(Snowflake::from_raw(1 << 22)).expect("a snowflake within i64");
        let owner = Snowflake::from_raw(99 << 22);
        let everyone = role(1, Permissions::SEND_MESSAGES);
        let plain = role(2, Permissions::NONE);
        let chatty = role(3, Permissions::SEND_MESSAGES);
        let moderator = role(4, Permissions::BAN_MEMBERS);
        let managed = Role { managed: true, ..role(5, Permissions::NONE) };
        let booster = Role { premium_subscriber: true, ..role(6, Permissions::NONE) };
        let roles =
            [everyone.clone(), plain.clone(), chatty.clone(), moderator.clone(), managed.clone(), booster.clone()];
        let member = |held: &[&Role]| Member {
            user_id: Snowflake::from_raw(7 << 22),
            username: "u".into(),
            nick: None,
            roles: held.iter().map(|r| r.id).collect(),
            premium_since: None,
            communication_disabled_until: None,
        };
        let all = member(&[&plain, &chatty, &moderator, &managed, &booster]);
        assert!(claimable(guild, owner, &plain, &all, &roles));
        assert!(claimable(guild, owner, &chatty, &all, &roles), "@everyone already grants its rights");
        assert!(!claimable(guild, owner, &moderator, &member(&[&moderator]), &roles), "it would grant BAN_MEMBERS");
        assert!(!claimable(guild, owner, &managed, &all, &roles));
        assert!(!claimable(guild, owner, &booster, &all, &roles));
        assert!(!claimable(guild, owner, &everyone, &all, &roles), "@everyone is nobody's");
        assert!(!claimable(guild, owner, &plain, &member(&[&chatty]), &roles), "not held");
        let admin = Role { permissions: Permissions::ADMINISTRATOR, ..role(8, Permissions::NONE) };
        let roles = [everyone, plain, admin.clone()];
        assert!(!claimable(guild, owner, &admin, &member(&[&admin]), &roles));
    }
}
