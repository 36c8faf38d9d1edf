//! What only Discord's gateway tells: who is in a voice channel right now, and every member of a guild
//! with their roles. The adapter keeps a live session per bot token and answers from what it has
//! seen; this module holds the port, the values, the pure grouping of members by role, and the
//! service the routes call.

use std::sync::Arc;

use super::{BotToken, DiscordBots, DiscordError, DiscordFuture, Snowflake, connect};
use crate::ServerId;

/// A member's state in a voice channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceMember {
    pub user: Snowflake,
    pub username: String,
    /// The nick, else the global name, else the username.
    pub display_name: String,
    /// Muted by the server.
    pub muted: bool,
    /// Deafened by the server.
    pub deafened: bool,
    pub self_muted: bool,
    pub self_deafened: bool,
    /// Sharing their screen ("Go Live").
    pub streaming: bool,
    pub camera: bool,
    /// Without permission to speak (stage channels).
    pub suppressed: bool,
}

/// A voice or stage channel and who is connected to it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceChannelInfo {
    pub id: Snowflake,
    pub guild: ServerId,
    pub name: String,
    /// Discord's channel type: 2 voice, 13 stage.
    pub kind: u8,
    pub bitrate: u32,
    /// 0 when there is no limit.
    pub user_limit: u32,
    /// `None`: Discord chooses the region automatically.
    pub rtc_region: Option<String>,
    /// The category the channel is in: its id and name.
    pub category: Option<(Snowflake, String)>,
    pub position: i64,
    /// Ordered by display name (then id).
    pub connected: Vec<VoiceMember>,
}

/// A guild member as the gateway lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMember {
    pub id: Snowflake,
    pub username: String,
    pub global_name: Option<String>,
    pub nick: Option<String>,
    pub roles: Vec<Snowflake>,
}

impl LiveMember {
    /// The nick, else the global name, else the username.
    pub fn display_name(&self) -> &str {
        self.nick.as_deref().or(self.global_name.as_deref()).unwrap_or(&self.username)
    }
}

/// A guild role: what grouping needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRole {
    pub id: Snowflake,
    pub name: String,
    pub position: i64,
}

/// Every member and role of a guild, as one consistent snapshot.
#[derive(Debug, Clone, Default)]
pub struct GuildRoster {
    pub roles: Vec<LiveRole>,
    pub members: Arc<Vec<LiveMember>>,
}

/// The gateway, kept by the adapter: sessions per bot token, opened on first use.
pub trait DiscordGateway: Send + Sync {
    /// A voice or stage channel the bot can see, with who is in it; `None` when the bot sees no such
    /// channel (unknown, in a guild without the bot, or not a voice or stage channel).
    fn voice_channel(&self, token: &BotToken, channel: Snowflake) -> DiscordFuture<'_, Option<VoiceChannelInfo>>;
    /// Every member and role of the guild (needs the GUILD_MEMBERS intent); `DiscordError::NotMember`
    /// when the bot is not in it.
    fn roster(&self, token: &BotToken, guild: ServerId) -> DiscordFuture<'_, GuildRoster>;
}

/// Which members a role filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleMatch {
    /// At least one of the roles.
    #[default]
    Any,
    /// Every one of the roles.
    All,
}

/// One asked-for role and its members, as positions in [`RoleMembers::roster`] (ascending, so by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGroup {
    pub role: LiveRole,
    pub members: Vec<u32>,
}

/// Members grouped by role, and how many distinct members are listed. The members themselves stay in
/// the roster they came from (shared, never copied): a group of 100,000 members costs 400 KB.
#[derive(Debug, Clone)]
pub struct RoleMembers {
    pub groups: Vec<RoleGroup>,
    pub total: usize,
    pub roster: Arc<Vec<LiveMember>>,
}

impl RoleMembers {
    /// A group's members.
    pub fn members<'a>(&'a self, group: &'a RoleGroup) -> impl Iterator<Item = &'a LiveMember> + 'a {
        group.members.iter().filter_map(|at| self.roster.get(*at as usize))
    }
}

/// Why a role-members query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleMembersError {
    #[error("Role {0} is not a role of this guild.")]
    UnknownRole(Snowflake),
}

/// Groups `roster`'s members by the roles `wanted`: those with any (or all) of them, each listed under
/// every matching role (`duplications`) or only under their highest matching one. Groups come highest
/// role first (position, then the older id, as Discord orders them); members in roster order (by id)
/// within a group. Every role asked for gets a group, even an empty one. A role asked for twice
/// counts once.
pub fn group_by_role(
    roster: &GuildRoster,
    wanted: &[Snowflake],
    mode: RoleMatch,
    duplications: bool,
) -> Result<RoleMembers, RoleMembersError> {
    let mut roles: Vec<&LiveRole> = Vec::with_capacity(wanted.len());
    for id in wanted {
        let role = roster.roles.iter().find(|r| r.id == *id).ok_or(RoleMembersError::UnknownRole(*id))?;
        if !roles.iter().any(|r| r.id == role.id) {
            roles.push(role);
        }
    }
    roles.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
    let mut groups: Vec<RoleGroup> =
        roles.iter().map(|role| RoleGroup { role: (*role).clone(), members: Vec::new() }).collect();
    let mut total = 0;
    let mut held: Vec<usize> = Vec::with_capacity(roles.len());
    for (at, member) in roster.members.iter().enumerate() {
        let Ok(at) = u32::try_from(at) else { break };
        held.clear();
        held.extend(roles.iter().enumerate().filter(|(_, r)| member.roles.contains(&r.id)).map(|(i, _)| i));
        let keep = match mode {
            RoleMatch::Any => !held.is_empty(),
            RoleMatch::All => !roles.is_empty() && held.len() == roles.len(),
        };
        if !keep {
            continue;
        }
        // `held` is in group order: the first is the highest matching role.
        let under = if duplications { &held[..] } else { &held[..1] };
        for index in under {
            groups[*index].members.push(at);
        }
        total += 1;
    }
    Ok(RoleMembers { groups, total, roster: Arc::clone(&roster.members) })
}

/// Why a live query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error(transparent)]
    Roles(#[from] RoleMembersError),
    #[error("Voice channel not found")]
    NoVoiceChannel,
}

/// The live queries: the token is checked over REST first (cached, and refused without Discord when
/// it cannot be a token), then the gateway answers.
pub struct LiveGuilds {
    bots: Arc<dyn DiscordBots>,
    gateway: Arc<dyn DiscordGateway>,
}

impl std::fmt::Debug for LiveGuilds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveGuilds { .. }")
    }
}

impl LiveGuilds {
    pub fn new(bots: Arc<dyn DiscordBots>, gateway: Arc<dyn DiscordGateway>) -> Self {
        Self { bots, gateway }
    }

    /// A voice or stage channel and who is in it now.
    pub async fn voice_channel(&self, token: &BotToken, channel: Snowflake) -> Result<VoiceChannelInfo, LiveError> {
        connect(self.bots.as_ref(), token).await?;
        self.gateway.voice_channel(token, channel).await?.ok_or(LiveError::NoVoiceChannel)
    }

    /// The guild's members with any (or all) of `roles`, grouped by role.
    pub async fn role_members(
        &self,
        token: &BotToken,
        guild: ServerId,
        roles: &[Snowflake],
        mode: RoleMatch,
        duplications: bool,
    ) -> Result<RoleMembers, LiveError> {
        connect(self.bots.as_ref(), token).await?;
        let roster = self.gateway.roster(token, guild).await?;
        Ok(group_by_role(&roster, roles, mode, duplications)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn id(n: u64) -> Snowflake {
        Snowflake::from_raw(n)
    }

    fn role(n: u64, position: i64) -> LiveRole {
        LiveRole { id: id(n), name: format!("role {n}"), position }
    }

    fn member(n: u64, roles: &[u64]) -> LiveMember {
        LiveMember {
            id: id(n),
            username: format!("user{n}"),
            global_name: None,
            nick: None,
            roles: roles.iter().map(|r| id(*r)).collect(),
        }
    }

    fn roster(members: Vec<LiveMember>) -> GuildRoster {
        GuildRoster { roles: vec![role(1, 1), role(2, 5), role(3, 3), role(4, 3)], members: Arc::new(members) }
    }

    fn ids(grouped: &RoleMembers, group: usize) -> Vec<u64> {
        grouped.members(&grouped.groups[group]).map(|m| m.id.get()).collect()
    }

    #[test]
    fn any_lists_each_member_once_under_their_highest_matching_role() {
        let r = roster(vec![member(10, &[1]), member(11, &[1, 2]), member(12, &[3]), member(13, &[])]);
        let grouped = group_by_role(&r, &[id(1), id(2)], RoleMatch::Any, false).unwrap();
        let order: Vec<u64> = grouped.groups.iter().map(|g| g.role.id.get()).collect();
        assert_eq!(order, [2, 1], "highest position first");
        assert_eq!((ids(&grouped, 0), ids(&grouped, 1)), (vec![11], vec![10]));
        assert_eq!(grouped.total, 2);
        let duplicated = group_by_role(&r, &[id(1), id(2)], RoleMatch::Any, true).unwrap();
        assert_eq!((ids(&duplicated, 0), ids(&duplicated, 1)), (vec![11], vec![10, 11]));
        assert_eq!(duplicated.total, 2, "distinct members, however often listed");
    }

    #[test]
    fn all_keeps_only_members_with_every_role() {
        let r = roster(vec![member(10, &[1]), member(11, &[1, 2]), member(12, &[2, 1, 3])]);
        let grouped = group_by_role(&r, &[id(1), id(2)], RoleMatch::All, false).unwrap();
        assert_eq!(ids(&grouped, 0), [11, 12]);
        assert!(grouped.groups[1].members.is_empty(), "an empty group is still listed");
        assert_eq!(grouped.total, 2);
    }

    #[test]
    fn equal_positions_put_the_older_role_first_and_unknown_roles_are_named() {
        let r = roster(vec![member(10, &[3, 4])]);
        let grouped = group_by_role(&r, &[id(4), id(3), id(4)], RoleMatch::Any, false).unwrap();
        let order: Vec<u64> = grouped.groups.iter().map(|g| g.role.id.get()).collect();
        assert_eq!(order, [3, 4], "a role asked for twice counts once");
        assert_eq!(ids(&grouped, 0), [10]);
        assert_eq!(
            group_by_role(&r, &[id(1), id(99)], RoleMatch::Any, false).err(),
            Some(RoleMembersError::UnknownRole(id(99)))
        );
    }

    #[test]
    fn display_names_prefer_the_nick_then_the_global_name() {
        let mut m = member(10, &[]);
        assert_eq!(m.display_name(), "user10");
        m.global_name = Some("Global".into());
        assert_eq!(m.display_name(), "Global");
        m.nick = Some("Nick".into());
        assert_eq!(m.display_name(), "Nick");
    }

    proptest! {
        /// Whatever the members and roles: every listed member matches the filter, holds the role
        /// they are listed under, appears once without duplications (under their highest matching
        /// role), and `total` counts exactly the members that match.
        #[test]
        fn grouping_lists_exactly_the_matching_members(
            held in proptest::collection::vec(proptest::collection::vec(1u64..=4, 0..4), 0..40),
            wanted in proptest::collection::vec(1u64..=4, 1..4),
            all in any::<bool>(),
            duplications in any::<bool>(),
        ) {
            let members: Vec<LiveMember> = held.iter().enumerate().map(|(i, roles)| member(100 + i as u64, roles)).collect();
            let r = roster(members.clone());
            let wanted: Vec<Snowflake> = wanted.into_iter().map(id).collect();
            let mode = if all { RoleMatch::All } else { RoleMatch::Any };
            let grouped = group_by_role(&r, &wanted, mode, duplications).unwrap();
            let matches = |m: &LiveMember| match mode {
                RoleMatch::Any => wanted.iter().any(|w| m.roles.contains(w)),
                RoleMatch::All => wanted.iter().all(|w| m.roles.contains(w)),
            };
            let expected: HashSet<Snowflake> = members.iter().filter(|m| matches(m)).map(|m| m.id).collect();
            prop_assert_eq!(grouped.total, expected.len());
            let mut seen = HashSet::new();
            for (index, group) in grouped.groups.iter().enumerate() {
                for listed in grouped.members(group) {
                    let m = members.iter().find(|m| m.id == listed.id).unwrap();
                    prop_assert!(matches(m));
                    prop_assert!(m.roles.contains(&group.role.id));
                    if !duplications {
                        prop_assert!(seen.insert(listed.id), "listed once");
                        // No higher group holds a role they have.
                        for higher in &grouped.groups[..index] {
                            prop_assert!(!m.roles.contains(&higher.role.id));
                        }
                    }
                    seen.insert(listed.id);
                }
            }
            prop_assert_eq!(seen, expected);
        }
    }
}
