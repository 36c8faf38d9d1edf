//! Custom booster roles: each server booster may have at most one role of their own, which Garrison
//! records so that updates and deletions can check who owns it.
//!
//! What a booster may change on their role is a [`BoosterRoleSpec`]: name, colours and icon. It has
//! no permission, hoist or mentionable field, so no booster request can grant their role rights.
//!
//! A role Garrison did not create (one from the original service, or made by hand) becomes a
//! booster's on first use when Discord's role assignments show it is theirs alone
//! ([`claimable`] plus a check that no other member holds it); it is recorded then.

use crate::{
    Timestamp,
    discord::{Member, Permissions, Role, RoleSpec, Snowflake, base_permissions},
};

/// What a booster may set on their own role. Converting it to a [`RoleSpec`] is the only way the
/// booster use cases reach Discord, and neither conversion can carry permissions, hoist or
/// mentionable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoosterRoleSpec {
    pub name: Option<String>,
    /// The solid colour, `0xRRGGBB`.
    pub color: Option<u32>,
    /// Two or three gradient colours, for guilds with `ENHANCED_ROLE_COLORS`.
    pub gradient: Option<Vec<u32>>,
    /// The icon as a data URI.
    pub icon: Option<String>,
}

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
pub fn claimable(guild: Snowflake, owner: Snowflake, role: &Role, member: &Member, roles: &[Role]) -> bool {
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
    pub guild: Snowflake,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recorded_user_owns_the_role() {
        let record = BoosterRole {
            guild: Snowflake::from_raw(123_456_789_012_345_678),
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
        let guild = Snowflake::from_raw(1 << 22);
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
