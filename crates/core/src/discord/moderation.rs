//! Timeout durations and the role hierarchy that decides who may moderate whom.

use super::Snowflake;
use crate::{Error, Result};

/// Discord's limit for a communication timeout: 28 days.
pub const MAX_TIMEOUT_SECONDS: i64 = 28 * 86_400;

/// A timeout duration as the specification writes it: a whole number followed by `m` (minutes), `h`
/// (hours), `d` (days) or `w` (weeks), at most 28 days. Returns seconds.
pub fn parse_timeout(text: &str) -> Result<i64> {
    let text = text.trim();
    let invalid = |why: &str| Error::invalid("duration", format!("{why}, got {text:?}"));
    let Some(unit) = text.chars().last() else {
        return Err(invalid("must be a number followed by m, h, d or w (e.g. 30m, 6h, 1d, 2w)"));
    };
    let seconds_per_unit = match unit.to_ascii_lowercase() {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Err(invalid("must be a number followed by m, h, d or w (e.g. 30m, 6h, 1d, 2w)")),
    };
    let number = &text[..text.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("must be a number followed by m, h, d or w (e.g. 30m, 6h, 1d, 2w)"));
    }
    let seconds = number.parse::<i64>().ok().and_then(|n| n.checked_mul(seconds_per_unit));
    match seconds {
        Some(0) => Err(invalid("must be longer than zero")),
        Some(seconds) if seconds <= MAX_TIMEOUT_SECONDS => Ok(seconds),
        _ => Err(invalid("must be at most 28 days")),
    }
}

/// A member as the hierarchy sees it: who, and the position of their highest role (0 when they have
/// only @everyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankedMember {
    pub id: Snowflake,
    pub top_position: i64,
}

impl RankedMember {
    /// `positions` are the positions of the member's roles.
    pub fn new(id: Snowflake, positions: impl IntoIterator<Item = i64>) -> Self {
        Self { id, top_position: positions.into_iter().max().unwrap_or(0).max(0) }
    }
}

/// Why a moderation action is refused before Discord is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HierarchyRefusal {
    #[error("The server owner cannot be moderated.")]
    TargetIsOwner,
    #[error("The bot cannot moderate itself.")]
    TargetIsSelf,
    #[error("Administrators cannot be timed out.")]
    TargetIsAdministrator,
    #[error("The bot's highest role (position {actor}) must be above the target's highest role (position {target}).")]
    TargetNotBelow { actor: i64, target: i64 },
    #[error("The bot's highest role (position {actor}) must be above the role (position {role}).")]
    RoleNotBelow { actor: i64, role: i64 },
}

/// Whether `actor` (the bot) may ban, kick, time out or change the roles of `target`: never the owner,
/// never itself, and only someone whose highest role is strictly below the actor's. The owner may act
/// on anyone else.
pub fn check_hierarchy(
    owner: Snowflake,
    actor: RankedMember,
    target: RankedMember,
) -> std::result::Result<(), HierarchyRefusal> {
    if target.id == owner {
        return Err(HierarchyRefusal::TargetIsOwner);
    }
    if target.id == actor.id {
        return Err(HierarchyRefusal::TargetIsSelf);
    }
    if actor.id == owner || actor.top_position > target.top_position {
        return Ok(());
    }
    Err(HierarchyRefusal::TargetNotBelow { actor: actor.top_position, target: target.top_position })
}

/// Whether `actor` may give or take a role at `role_position`: only roles strictly below its highest.
pub fn check_role_manageable(
    owner: Snowflake,
    actor: RankedMember,
    role_position: i64,
) -> std::result::Result<(), HierarchyRefusal> {
    if actor.id == owner || actor.top_position > role_position {
        Ok(())
    } else {
        Err(HierarchyRefusal::RoleNotBelow { actor: actor.top_position, role: role_position })
    }
}

/// Which of two members has more authority in a guild: the owner is above everyone; otherwise the
/// higher highest role wins. `Greater` when `a` may act on `b` by [`check_hierarchy`], `Less` when
/// `b` may act on `a`, `Equal` when neither may (equal positions, or the same member).
pub fn compare_authority(owner: Snowflake, a: RankedMember, b: RankedMember) -> std::cmp::Ordering {
    if check_hierarchy(owner, a, b).is_ok() {
        std::cmp::Ordering::Greater
    } else if check_hierarchy(owner, b, a).is_ok() {
        std::cmp::Ordering::Less
    } else {
        std::cmp::Ordering::Equal
    }
}

/// Whether `member` stands above a role at `role_position` (the owner stands above every role): the
/// rule of [`check_role_manageable`], as a yes or no.
pub fn outranks_role(owner: Snowflake, member: RankedMember, role_position: i64) -> bool {
    check_role_manageable(owner, member, role_position).is_ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn durations_as_the_specification_writes_them() {
        assert_eq!(parse_timeout("30m").expect("ok"), 1_800);
        assert_eq!(parse_timeout("6h").expect("ok"), 21_600);
        assert_eq!(parse_timeout("1d").expect("ok"), 86_400);
        assert_eq!(parse_timeout("2w").expect("ok"), 1_209_600);
        assert_eq!(parse_timeout(" 4W ").expect("ok"), MAX_TIMEOUT_SECONDS);
        assert_eq!(parse_timeout("28d").expect("ok"), MAX_TIMEOUT_SECONDS);
        for (bad, why) in [
            ("29d", "at most 28 days"),
            ("5w", "at most 28 days"),
            ("40321m", "at most 28 days"),
            ("99999999999999999999d", "at most 28 days"),
            ("0m", "longer than zero"),
            ("", "a number followed by"),
            ("6", "a number followed by"),
            ("h", "a number followed by"),
            ("1.5h", "a number followed by"),
            ("-1h", "a number followed by"),
            ("6s", "a number followed by"),
            ("6 h", "a number followed by"),
        ] {
            let err = parse_timeout(bad).expect_err(bad).to_string();
            assert!(err.starts_with("duration:") && err.contains(why), "{bad}: {err}");
        }
    }

    const OWNER: Snowflake = Snowflake::from_raw(1 << 22);
    const BOT: Snowflake = Snowflake::from_raw(2 << 22);
    const USER: Snowflake = Snowflake::from_raw(3 << 22);

    #[test]
    fn the_hierarchy_protects_the_owner_and_higher_roles() {
        let bot = RankedMember::new(BOT, [5, 2]);
        assert_eq!(bot.top_position, 5);
        assert_eq!(check_hierarchy(OWNER, bot, RankedMember::new(USER, [4])), Ok(()));
        assert_eq!(
            check_hierarchy(OWNER, bot, RankedMember::new(USER, [5])),
            Err(HierarchyRefusal::TargetNotBelow { actor: 5, target: 5 })
        );
        assert_eq!(check_hierarchy(OWNER, bot, RankedMember::new(OWNER, [])), Err(HierarchyRefusal::TargetIsOwner));
        assert_eq!(check_hierarchy(OWNER, bot, bot), Err(HierarchyRefusal::TargetIsSelf));
        assert_eq!(check_hierarchy(OWNER, RankedMember::new(OWNER, []), RankedMember::new(USER, [9])), Ok(()));
        assert_eq!(check_role_manageable(OWNER, bot, 4), Ok(()));
        assert_eq!(check_role_manageable(OWNER, bot, 5), Err(HierarchyRefusal::RoleNotBelow { actor: 5, role: 5 }));
    }

    #[test]
    fn the_owner_has_authority_over_everyone_and_equal_positions_tie() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let (owner, bot, user) =
            (RankedMember::new(OWNER, []), RankedMember::new(BOT, [5]), RankedMember::new(USER, [9]));
        assert_eq!(compare_authority(OWNER, owner, user), Greater, "the owner, with no role, outranks a role of 9");
        assert_eq!(compare_authority(OWNER, user, owner), Less);
        assert_eq!(compare_authority(OWNER, bot, user), Less);
        assert_eq!(compare_authority(OWNER, user, bot), Greater);
        assert_eq!(compare_authority(OWNER, bot, RankedMember::new(USER, [5])), Equal);
        assert_eq!(compare_authority(OWNER, bot, bot), Equal);
        assert!(outranks_role(OWNER, owner, 100));
        assert!(outranks_role(OWNER, bot, 4));
        assert!(!outranks_role(OWNER, bot, 5));
    }

    proptest! {
        #[test]
        fn hierarchy_is_strict_and_never_symmetric(a in 0i64..50, b in 0i64..50) {
            let actor = RankedMember::new(BOT, [a]);
            let target = RankedMember::new(USER, [b]);
            let forward = check_hierarchy(OWNER, actor, target).is_ok();
            let backward = check_hierarchy(OWNER, RankedMember { id: USER, top_position: b }, RankedMember { id: BOT, top_position: a }).is_ok();
            prop_assert_eq!(forward, a > b);
            prop_assert!(!(forward && backward));
        }
    }
}
