//! Rank arithmetic: where a promotion or a demotion takes a member. Pure, so it is tested alone.

use super::{GroupRole, Rank};

/// Which way a member moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Why a member cannot move that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefusal {
    /// The group's owner: their role is never changed through the API.
    Owner,
    /// No assignable role ranks above theirs (the next one up is the owner's).
    AtTop,
    /// No assignable role ranks below theirs (the next one down is the guest's).
    AtBottom,
}

/// The member's role: the highest-ranked of the roles they hold, or the guest role when they hold
/// none the group lists.
pub fn highest<'a>(roles: &'a [GroupRole], held: &[super::RoleId]) -> Option<&'a GroupRole> {
    roles.iter().filter(|r| held.contains(&r.id)).max_by_key(|r| (r.rank, std::cmp::Reverse(r.id)))
}

/// The role a member at `current` moves to: the next assignable role (ranks 1 to 254) up or down.
/// Roblox ranks are unique within a group; should two roles share one, the lower role id wins.
pub fn step(roles: &[GroupRole], current: Rank, direction: Direction) -> Result<&GroupRole, StepRefusal> {
    if current == Rank::OWNER {
        return Err(StepRefusal::Owner);
    }
    let assignable = roles.iter().filter(|r| r.rank.is_assignable());
    let next = match direction {
        Direction::Up => assignable.filter(|r| r.rank > current).min_by_key(|r| (r.rank, r.id)),
        Direction::Down => assignable.filter(|r| r.rank < current).max_by_key(|r| (r.rank, std::cmp::Reverse(r.id))),
    };
    next.ok_or(match direction {
        Direction::Up => StepRefusal::AtTop,
        Direction::Down => StepRefusal::AtBottom,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::roblox::RoleId;

    fn role(id: u64, rank: u8) -> GroupRole {
        GroupRole { id: RoleId(id), name: format!("r{rank}"), rank: Rank(rank) }
    }

    fn group() -> Vec<GroupRole> {
        vec![role(1, 0), role(2, 1), role(3, 10), role(4, 50), role(5, 100), role(6, 254), role(7, 255)]
    }

    #[test]
    fn members_move_one_role_at_a_time() {
        let roles = group();
        assert_eq!(step(&roles, Rank(10), Direction::Up).map(|r| r.rank), Ok(Rank(50)));
        assert_eq!(step(&roles, Rank(10), Direction::Down).map(|r| r.rank), Ok(Rank(1)));
        assert_eq!(step(&roles, Rank(100), Direction::Up).map(|r| r.rank), Ok(Rank(254)));
        assert_eq!(step(&roles, Rank(254), Direction::Up), Err(StepRefusal::AtTop));
        assert_eq!(step(&roles, Rank(1), Direction::Down), Err(StepRefusal::AtBottom));
        assert_eq!(step(&roles, Rank(255), Direction::Down), Err(StepRefusal::Owner));
        // A rank between roles (a role renumbered since) still moves to the neighbour.
        assert_eq!(step(&roles, Rank(30), Direction::Up).map(|r| r.rank), Ok(Rank(50)));
        assert_eq!(step(&roles, Rank(30), Direction::Down).map(|r| r.rank), Ok(Rank(10)));
    }

    #[test]
    fn the_highest_held_role_is_the_members_rank() {
        let roles = group();
        assert_eq!(highest(&roles, &[RoleId(3), RoleId(5)]).map(|r| r.rank), Some(Rank(100)));
        assert_eq!(highest(&roles, &[RoleId(99)]), None);
    }

    fn roles_strategy() -> impl Strategy<Value = Vec<GroupRole>> {
        proptest::collection::btree_set(any::<u8>(), 0..12)
            .prop_map(|ranks| ranks.into_iter().enumerate().map(|(i, rank)| role(i as u64 + 1, rank)).collect())
    }

    proptest! {
        #[test]
        fn a_step_lands_on_the_nearest_assignable_role(roles in roles_strategy(), current in any::<u8>(), up in any::<bool>()) {
            let direction = if up { Direction::Up } else { Direction::Down };
            let current = Rank(current);
            match step(&roles, current, direction) {
                Ok(next) => {
                    prop_assert!(next.rank.is_assignable());
                    let moved = if up { next.rank > current } else { next.rank < current };
                    prop_assert!(moved, "moved the wrong way");
                    let (low, high) = if up { (current, next.rank) } else { (next.rank, current) };
                    let between = roles.iter().any(|r| r.rank.is_assignable() && r.rank > low && r.rank < high);
                    prop_assert!(!between, "skipped a role between {low:?} and {high:?}");
                }
                Err(StepRefusal::Owner) => prop_assert_eq!(current, Rank::OWNER),
                Err(refusal) => {
                    prop_assert!(current != Rank::OWNER);
                    let any = roles.iter().any(|r| {
                        r.rank.is_assignable() && if up { r.rank > current } else { r.rank < current }
                    });
                    prop_assert!(!any, "refused though a role was there");
                    prop_assert_eq!(refusal, if up { StepRefusal::AtTop } else { StepRefusal::AtBottom });
                }
            }
        }
    }
}
