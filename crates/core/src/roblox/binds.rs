//! Rank binds: which Discord roles a verified member holds for their rank in the server's Roblox
//! group (RoWifi's and Bloxlink's most-used feature).
//!
//! A server keeps a list of [`RankBind`]s, each an inclusive range of ranks and the Discord roles it
//! gives. The roles named by any bind are the *managed* roles: a sync gives a member the managed roles
//! of every bind whose range holds their rank, takes away the managed roles no such bind gives, and
//! never touches any other role. A member who is not verified holds none of the managed roles. The
//! arithmetic ([`plan`]) is pure and property-tested; [`BindService`] reads the rank and applies the
//! difference through the Discord port, after checking the bot may manage every role it would touch.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{GroupId, GroupRole, Rank, RobloxLinks, RobloxService, RobloxServiceError};
use crate::apikey::{Access, Principal};
use crate::discord::{DiscordBots, DiscordError, Permissions, Snowflake, Unknown, roles};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Error, Result, ServerId};

/// The most binds a server keeps.
pub const MAX_BINDS: usize = 50;
/// The most roles one bind gives.
pub const MAX_ROLES_PER_BIND: usize = 10;

/// Ranks `min..=max` give `roles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankBind {
    pub min: Rank,
    pub max: Rank,
    pub roles: Vec<Snowflake>,
}

impl RankBind {
    pub fn holds(&self, rank: Rank) -> bool {
        self.min <= rank && rank <= self.max
    }
}

/// Checks a server's binds: at most [`MAX_BINDS`], each with 1 to [`MAX_ROLES_PER_BIND`] distinct
/// roles and `min <= max`.
pub fn validate(binds: &[RankBind]) -> Result<()> {
    if binds.len() > MAX_BINDS {
        return Err(Error::invalid("binds", format!("at most {MAX_BINDS} binds, got {}", binds.len())));
    }
    for (i, bind) in binds.iter().enumerate() {
        if bind.min > bind.max {
            return Err(Error::invalid(
                "binds",
                format!("bind {}: minRank {} is above maxRank {}", i + 1, bind.min.0, bind.max.0),
            ));
        }
        let distinct: BTreeSet<_> = bind.roles.iter().collect();
        if bind.roles.is_empty() || bind.roles.len() > MAX_ROLES_PER_BIND || distinct.len() != bind.roles.len() {
            return Err(Error::invalid(
                "binds",
                format!("bind {}: roleIds must name 1 to {MAX_ROLES_PER_BIND} distinct roles", i + 1),
            ));
        }
    }
    Ok(())
}

/// What a sync changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindPlan {
    /// Managed roles the member should hold and does not, in id order.
    pub add: Vec<Snowflake>,
    /// Managed roles the member holds and should not, in id order.
    pub remove: Vec<Snowflake>,
}

/// The roles to add and remove for a member at `rank` (`None`: not verified) who holds `held`.
pub fn plan(binds: &[RankBind], rank: Option<Rank>, held: &[Snowflake]) -> BindPlan {
    let managed: BTreeSet<Snowflake> = binds.iter().flat_map(|b| b.roles.iter().copied()).collect();
    let wanted: BTreeSet<Snowflake> = match rank {
        Some(rank) => binds.iter().filter(|b| b.holds(rank)).flat_map(|b| b.roles.iter().copied()).collect(),
        None => BTreeSet::new(),
    };
    let held: BTreeSet<Snowflake> = held.iter().copied().collect();
    BindPlan {
        add: wanted.difference(&held).copied().collect(),
        remove: held.intersection(&managed).filter(|r| !wanted.contains(r)).copied().collect(),
    }
}

/// Where each server's binds are kept.
pub trait RankBinds: Send + Sync {
    /// The server's binds in the order they were set, each bind's roles in id order.
    fn binds(&self, server: ServerId) -> Result<Vec<RankBind>>;
    /// Replaces the server's binds with `binds` (in this order).
    fn set_binds(&self, server: ServerId, binds: &[RankBind]) -> Result<()>;
}

/// Why a bind use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    #[error(transparent)]
    Core(#[from] Error),
    #[error(transparent)]
    Roblox(#[from] RobloxServiceError),
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error("No rank binds configured for this server.")]
    NoBinds,
    #[error("No Discord bot is configured (GARRISON_DISCORD_BOT_TOKEN).")]
    NoServerBot,
    #[error("Discord user {0} is not a member of this server.")]
    NotInGuild(Snowflake),
    /// The bot may not give or take a role a bind names; nothing was changed.
    #[error("The bot cannot manage role {role}: {reason}. Nothing was changed.")]
    CannotManage { role: Snowflake, reason: &'static str },
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The member's Roblox account, group and role; `None` when they are not verified.
    pub rank: Option<(crate::RobloxUserId, GroupId, GroupRole)>,
    pub added: Vec<Snowflake>,
    pub removed: Vec<Snowflake>,
}

/// The ports a [`BindService`] works through.
#[derive(Clone)]
pub struct BindPorts {
    pub binds: Arc<dyn RankBinds>,
    pub links: Arc<dyn RobloxLinks>,
    pub discord: Arc<dyn DiscordBots>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
}

impl std::fmt::Debug for BindPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BindPorts { .. }")
    }
}

/// Rank binds: kept per server, applied to one member at a time through the server's bot.
pub struct BindService {
    ports: BindPorts,
    roblox: Arc<RobloxService>,
}

impl std::fmt::Debug for BindService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BindService { .. }")
    }
}

const REASON: &str = "Garrison rank binds";

impl BindService {
    pub fn new(ports: BindPorts, roblox: Arc<RobloxService>) -> Self {
        Self { ports, roblox }
    }

    pub async fn binds(&self, caller: &Principal, server: ServerId) -> Result<Vec<RankBind>, BindError> {
        caller.authorize(server, Access::Read)?;
        let store = Arc::clone(&self.ports.binds);
        Ok(run_blocking(&*self.ports.threads, move || store.binds(server)).await.map_err(Error::from)??)
    }

    /// Replaces the server's binds.
    pub async fn set_binds(&self, caller: &Principal, server: ServerId, binds: Vec<RankBind>) -> Result<(), BindError> {
        caller.authorize(server, Access::Write)?;
        validate(&binds)?;
        let store = Arc::clone(&self.ports.binds);
        run_write(&*self.ports.writer, move || store.set_binds(server, &binds)).await?;
        Ok(())
    }

    /// Gives the member the bound roles of their rank and takes away the bound roles of other ranks.
    /// Every role to touch is checked first (it exists, is not managed by an integration, and sits
    /// below the bot's highest role, which has Manage Roles); a role the bot cannot manage stops the
    /// sync before anything changes.
    pub async fn sync(&self, caller: &Principal, server: ServerId, user: Snowflake) -> Result<SyncOutcome, BindError> {
        caller.authorize(server, Access::Write)?;
        let binds = self.binds(caller, server).await?;
        if binds.is_empty() {
            return Err(BindError::NoBinds);
        }
        let links = Arc::clone(&self.ports.links);
        let link = run_blocking(&*self.ports.threads, move || links.by_discord(user)).await.map_err(Error::from)??;
        let rank = match link {
            Some(link) => {
                let (group, role) = self.roblox.rank(caller, server, None, link.roblox).await?;
                Some((link.roblox, group, role))
            }
            None => None,
        };
        let bot = self.ports.discord.server_bot().await?.ok_or(BindError::NoServerBot)?;
        let (guild, guild_roles) = (bot.guild(server).await?, bot.roles(server).await?);
        let me = bot.member(server, bot.user().id).await?;
        let member = match bot.member(server, user).await {
            Ok(member) => member,
            Err(DiscordError::Unknown(Unknown::Member | Unknown::User)) => return Err(BindError::NotInGuild(user)),
            Err(e) => return Err(e.into()),
        };
        let change = plan(&binds, rank.as_ref().map(|(_, _, role)| role.rank), &member.roles);
        if !roles::member_permissions(&guild, &guild_roles, &me).contains(Permissions::MANAGE_ROLES)
            && let Some(role) = change.add.iter().chain(&change.remove).next()
        {
            return Err(BindError::CannotManage { role: *role, reason: "the bot lacks Manage Roles" });
        }
        let top = roles::top_role(&me, &guild_roles).map(|r| (r.position, std::cmp::Reverse(r.id)));
        for role in change.add.iter().chain(&change.remove) {
            let Some(found) = guild_roles.iter().find(|r| r.id == *role) else {
                return Err(BindError::CannotManage { role: *role, reason: "no such role in this server" });
            };
            if found.managed {
                return Err(BindError::CannotManage { role: *role, reason: "an integration manages it" });
            }
            let is_owner = guild.owner_id == me.user_id;
            if !is_owner && top.is_none_or(|top| (found.position, std::cmp::Reverse(found.id)) >= top) {
                return Err(BindError::CannotManage { role: *role, reason: "it is not below the bot's highest role" });
            }
        }
        for role in &change.add {
            bot.add_member_role(server, user, *role, Some(REASON.into())).await?;
        }
        for role in &change.remove {
            bot.remove_member_role(server, user, *role, Some(REASON.into())).await?;
        }
        Ok(SyncOutcome { rank, added: change.add, removed: change.remove })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn role(n: u64) -> Snowflake {
        Snowflake::from_raw(n << 22)
    }

    fn bind(min: u8, max: u8, roles: &[u64]) -> RankBind {
        RankBind { min: Rank(min), max: Rank(max), roles: roles.iter().map(|n| role(*n)).collect() }
    }

    #[test]
    fn a_member_gets_the_roles_of_their_rank_and_loses_the_others() {
        let binds = [bind(1, 9, &[1]), bind(10, 99, &[2]), bind(50, 255, &[3]), bind(1, 255, &[4])];
        // Rank 50: roles 2, 3 and 4; role 1 goes; role 9 is not managed and stays.
        let change = plan(&binds, Some(Rank(50)), &[role(1), role(4), role(9)]);
        assert_eq!(change, BindPlan { add: vec![role(2), role(3)], remove: vec![role(1)] });
        // Not verified: every managed role goes, unmanaged ones stay.
        let change = plan(&binds, None, &[role(1), role(2), role(9)]);
        assert_eq!(change, BindPlan { add: vec![], remove: vec![role(1), role(2)] });
        // A guest (rank 0) gets what binds give rank 0.
        assert_eq!(plan(&[bind(0, 0, &[5])], Some(Rank(0)), &[]).add, vec![role(5)]);
    }

    #[test]
    fn binds_are_checked() {
        assert!(validate(&[bind(1, 10, &[1, 2])]).is_ok());
        let err = validate(&[bind(10, 1, &[1])]).expect_err("min above max");
        assert!(err.to_string().starts_with("binds: bind 1: minRank 10 is above maxRank 1"), "{err}");
        assert!(validate(&[bind(1, 1, &[])]).is_err());
        assert!(validate(&[bind(1, 1, &[1, 1])]).is_err());
        assert!(validate(&[bind(1, 1, &(0..11).collect::<Vec<_>>())]).is_err());
        assert!(validate(&vec![bind(1, 1, &[1]); MAX_BINDS + 1]).is_err());
    }

    fn binds_strategy() -> impl Strategy<Value = Vec<RankBind>> {
        proptest::collection::vec(
            (any::<u8>(), any::<u8>(), proptest::collection::btree_set(0u64..12, 1..4)).prop_map(|(a, b, roles)| {
                RankBind { min: Rank(a.min(b)), max: Rank(a.max(b)), roles: roles.into_iter().map(role).collect() }
            }),
            0..6,
        )
    }

    proptest! {
        #[test]
        fn applying_a_plan_leaves_exactly_the_wanted_managed_roles(
            binds in binds_strategy(),
            rank in proptest::option::of(any::<u8>()),
            held in proptest::collection::btree_set(0u64..16, 0..10),
        ) {
            let held: Vec<Snowflake> = held.into_iter().map(role).collect();
            let rank = rank.map(Rank);
            let change = plan(&binds, rank, &held);
            let managed: BTreeSet<Snowflake> = binds.iter().flat_map(|b| b.roles.iter().copied()).collect();
            prop_assert!(change.add.iter().all(|r| !held.contains(r)), "adds only what is missing");
            prop_assert!(change.remove.iter().all(|r| held.contains(r) && managed.contains(r)), "removes only held, managed roles");
            let after: BTreeSet<Snowflake> = held
                .iter()
                .filter(|r| !change.remove.contains(r))
                .chain(&change.add)
                .copied()
                .collect();
            for r in &held {
                if !managed.contains(r) {
                    prop_assert!(after.contains(r), "an unmanaged role is never touched");
                }
            }
            for r in &managed {
                let wanted = rank.is_some_and(|rank| binds.iter().any(|b| b.holds(rank) && b.roles.contains(r)));
                prop_assert_eq!(after.contains(r), wanted);
            }
            let after: Vec<Snowflake> = after.into_iter().collect();
            prop_assert_eq!(plan(&binds, rank, &after), BindPlan::default(), "a second sync changes nothing");
        }
    }
}
