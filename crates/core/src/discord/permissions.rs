//! Discord's permission arithmetic, as its documentation specifies it ("Permission Hierarchy",
//! "Permission Overwrites"): base permissions from @everyone and the member's roles, administrators and
//! the owner get everything, then a channel's overwrites apply in a fixed order.

use super::Snowflake;

/// A set of Discord permissions (the bit field Discord sends as a decimal string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u64);

macro_rules! permissions {
    ($($name:ident = $bit:expr),* $(,)?) => {
        impl Permissions {
            $(pub const $name: Self = Self(1 << $bit);)*

            /// Every permission this crate knows, with Discord's names.
            pub const NAMED: &'static [(Self, &'static str)] = &[$((Self::$name, stringify!($name))),*];
        }
    };
}

permissions! {
    CREATE_INSTANT_INVITE = 0, KICK_MEMBERS = 1, BAN_MEMBERS = 2, ADMINISTRATOR = 3, MANAGE_CHANNELS = 4,
    MANAGE_GUILD = 5, ADD_REACTIONS = 6, VIEW_AUDIT_LOG = 7, PRIORITY_SPEAKER = 8, STREAM = 9,
    VIEW_CHANNEL = 10, SEND_MESSAGES = 11, SEND_TTS_MESSAGES = 12, MANAGE_MESSAGES = 13, EMBED_LINKS = 14,
    ATTACH_FILES = 15, READ_MESSAGE_HISTORY = 16, MENTION_EVERYONE = 17, USE_EXTERNAL_EMOJIS = 18,
    VIEW_GUILD_INSIGHTS = 19, CONNECT = 20, SPEAK = 21, MUTE_MEMBERS = 22, DEAFEN_MEMBERS = 23,
    MOVE_MEMBERS = 24, USE_VAD = 25, CHANGE_NICKNAME = 26, MANAGE_NICKNAMES = 27, MANAGE_ROLES = 28,
    MANAGE_WEBHOOKS = 29, MANAGE_GUILD_EXPRESSIONS = 30, USE_APPLICATION_COMMANDS = 31, REQUEST_TO_SPEAK = 32,
    MANAGE_EVENTS = 33, MANAGE_THREADS = 34, CREATE_PUBLIC_THREADS = 35, CREATE_PRIVATE_THREADS = 36,
    USE_EXTERNAL_STICKERS = 37, SEND_MESSAGES_IN_THREADS = 38, USE_EMBEDDED_ACTIVITIES = 39,
    MODERATE_MEMBERS = 40, VIEW_CREATOR_MONETIZATION_ANALYTICS = 41, USE_SOUNDBOARD = 42,
    CREATE_GUILD_EXPRESSIONS = 43, CREATE_EVENTS = 44, USE_EXTERNAL_SOUNDS = 45, SEND_VOICE_MESSAGES = 46,
    SEND_POLLS = 49, USE_EXTERNAL_APPS = 50, PIN_MESSAGES = 51,
}

impl Permissions {
    pub const NONE: Self = Self(0);
    /// Every bit, as Discord grants administrators and owners.
    pub const ALL: Self = Self(u64::MAX);

    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Parses Discord's decimal string form.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok().map(Self)
    }

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Discord's names of the permissions in `self` (unknown bits are left out).
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED.iter().filter(|(p, _)| self.contains(*p)).map(|(_, name)| *name).collect()
    }

    /// The permissions of `required` that `self` lacks.
    pub const fn missing(self, required: Self) -> Self {
        Self(required.0 & !self.0)
    }
}

/// Guild-level permissions of a member: @everyone's and every role's permissions together; everything
/// for the owner or an administrator.
pub fn base_permissions(is_owner: bool, everyone: Permissions, roles: &[Permissions]) -> Permissions {
    if is_owner {
        return Permissions::ALL;
    }
    let base = roles.iter().fold(everyone, |acc, role| acc.union(*role));
    if base.contains(Permissions::ADMINISTRATOR) { Permissions::ALL } else { base }
}

/// Whom a channel overwrite applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverwriteTarget {
    Role(Snowflake),
    Member(Snowflake),
}

/// One permission overwrite of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    pub target: OverwriteTarget,
    pub allow: Permissions,
    pub deny: Permissions,
}

/// A member's permissions in a channel: from `base` (see [`base_permissions`]), apply the @everyone
/// overwrite (`everyone_role`: the role whose id is the guild's), then all the member's role overwrites together (denies,
/// then allows), then the member's own overwrite. Administrators (base = all) are not affected.
pub fn channel_permissions(
    base: Permissions,
    everyone_role: Snowflake,
    member: Snowflake,
    member_roles: &[Snowflake],
    overwrites: &[Overwrite],
) -> Permissions {
    if base == Permissions::ALL {
        return base;
    }
    let mut permissions = base;
    if let Some(everyone) = overwrites.iter().find(|o| o.target == OverwriteTarget::Role(everyone_role)) {
        permissions = permissions.without(everyone.deny).union(everyone.allow);
    }
    let (mut allow, mut deny) = (Permissions::NONE, Permissions::NONE);
    for overwrite in overwrites {
        if let OverwriteTarget::Role(role) = overwrite.target
            && role != everyone_role
            && member_roles.contains(&role)
        {
            allow = allow.union(overwrite.allow);
            deny = deny.union(overwrite.deny);
        }
    }
    permissions = permissions.without(deny).union(allow);
    if let Some(own) = overwrites.iter().find(|o| o.target == OverwriteTarget::Member(member)) {
        permissions = permissions.without(own.deny).union(own.allow);
    }
    permissions
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const GUILD: Snowflake = Snowflake::from_raw(100 << 22);
    const MEMBER: Snowflake = Snowflake::from_raw(200 << 22);
    const MODS: Snowflake = Snowflake::from_raw(300 << 22);
    const MUTED: Snowflake = Snowflake::from_raw(400 << 22);

    #[test]
    fn base_permissions_add_up_roles_and_honour_owner_and_administrator() {
        let everyone = Permissions::VIEW_CHANNEL.union(Permissions::SEND_MESSAGES);
        let mods = Permissions::KICK_MEMBERS.union(Permissions::MODERATE_MEMBERS);
        let base = base_permissions(false, everyone, &[mods]);
        assert!(base.contains(Permissions::KICK_MEMBERS) && base.contains(Permissions::SEND_MESSAGES));
        assert!(!base.contains(Permissions::BAN_MEMBERS));
        assert_eq!(base_permissions(true, Permissions::NONE, &[]), Permissions::ALL);
        assert_eq!(base_permissions(false, Permissions::NONE, &[Permissions::ADMINISTRATOR]), Permissions::ALL);
    }

    #[test]
    fn overwrites_apply_in_discords_order() {
        let base = Permissions::VIEW_CHANNEL.union(Permissions::SEND_MESSAGES);
        let overwrites = [
            Overwrite {
                target: OverwriteTarget::Role(GUILD),
                allow: Permissions::NONE,
                deny: Permissions::SEND_MESSAGES,
            },
            Overwrite {
                target: OverwriteTarget::Role(MODS),
                allow: Permissions::SEND_MESSAGES,
                deny: Permissions::NONE,
            },
            Overwrite {
                target: OverwriteTarget::Role(MUTED),
                allow: Permissions::NONE,
                deny: Permissions::SEND_MESSAGES,
            },
        ];
        // @everyone denies; no role of the member allows it back.
        assert!(!channel_permissions(base, GUILD, MEMBER, &[], &overwrites).contains(Permissions::SEND_MESSAGES));
        // A role allow beats a role deny: role overwrites are combined, then allows applied after denies.
        let both = channel_permissions(base, GUILD, MEMBER, &[MODS, MUTED], &overwrites);
        assert!(both.contains(Permissions::SEND_MESSAGES));
        // The member's own overwrite comes last.
        let mut with_member = overwrites.to_vec();
        with_member.push(Overwrite {
            target: OverwriteTarget::Member(MEMBER),
            allow: Permissions::NONE,
            deny: Permissions::VIEW_CHANNEL,
        });
        let own = channel_permissions(base, GUILD, MEMBER, &[MODS], &with_member);
        assert!(!own.contains(Permissions::VIEW_CHANNEL) && own.contains(Permissions::SEND_MESSAGES));
        // Administrators ignore overwrites.
        assert_eq!(channel_permissions(Permissions::ALL, GUILD, MEMBER, &[], &with_member), Permissions::ALL);
    }

    #[test]
    fn names_and_missing_permissions() {
        let have = Permissions::KICK_MEMBERS;
        let need = Permissions::KICK_MEMBERS.union(Permissions::BAN_MEMBERS);
        assert_eq!(have.missing(need).names(), ["BAN_MEMBERS"]);
        assert_eq!(Permissions::parse("8"), Some(Permissions::ADMINISTRATOR));
        assert_eq!(Permissions::MODERATE_MEMBERS.bits(), 1 << 40);
    }

    proptest! {
        #[test]
        fn a_member_overwrite_decides_what_it_names(base in any::<u64>(), allow in any::<u64>(), deny in any::<u64>()) {
            let base = Permissions::from_bits(base).without(Permissions::ADMINISTRATOR);
            prop_assume!(base != Permissions::ALL);
            let (allow, deny) = (Permissions::from_bits(allow), Permissions::from_bits(deny).without(Permissions::from_bits(allow)));
            let overwrites = [Overwrite { target: OverwriteTarget::Member(MEMBER), allow, deny }];
            let result = channel_permissions(base, GUILD, MEMBER, &[], &overwrites);
            prop_assert!(result.contains(allow));
            prop_assert_eq!(result.bits() & deny.bits(), 0);
            // Bits the overwrite does not name keep their base value.
            let untouched = !(allow.bits() | deny.bits());
            prop_assert_eq!(result.bits() & untouched, base.bits() & untouched);
        }
    }
}
