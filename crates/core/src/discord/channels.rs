//! Channel positions: moving one channel among its siblings, and the order of a category's channels.

use super::{Channel, Snowflake, channel_kind};

/// Discord lists text-like channels (text, announcement, forum, media) above voice-like ones (voice,
/// stage) inside a category: 0 for the first class, 1 for the second. A move reorders the channels of
/// the moving one's class.
pub fn kind_class(kind: u8) -> u8 {
    u8::from(matches!(kind, channel_kind::VOICE | channel_kind::STAGE))
}

/// The channels of `category`, in the order Discord shows them: text-like before voice-like
/// ([`kind_class`]), then by position, then by id.
pub fn category_children(channels: &[Channel], category: Snowflake) -> Vec<&Channel> {
    let mut children: Vec<&Channel> = channels.iter().filter(|c| c.parent_id == Some(category)).collect();
    children.sort_by_key(|c| (kind_class(c.kind), c.position, c.id));
    children
}

/// A channel and its position among its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSlot {
    pub id: Snowflake,
    pub position: i64,
}

/// The new positions of a category's channels of one type when `moving` is inserted at `index`
/// (0-based, clamped to the number of siblings): siblings keep their order (by position, then id, as
/// Discord sorts them), `moving` is taken out of the list if it was in it, and everyone is renumbered
/// 0, 1, 2, ... so positions are sequential again. The result is the body of one positions PATCH.
pub fn reorder_siblings(siblings: &[ChannelSlot], moving: Snowflake, index: usize) -> Vec<ChannelSlot> {
    let mut order: Vec<ChannelSlot> = siblings.iter().copied().filter(|slot| slot.id != moving).collect();
    order.sort_by_key(|slot| (slot.position, slot.id));
    let at = index.min(order.len());
    order.insert(at, ChannelSlot { id: moving, position: 0 });
    order.into_iter().zip(0..).map(|(slot, position)| ChannelSlot { id: slot.id, position }).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn slot(id: u64, position: i64) -> ChannelSlot {
        ChannelSlot { id: Snowflake::from_raw(id << 22), position }
    }

    #[test]
    fn moves_within_and_into_a_category() {
        let siblings = [slot(1, 0), slot(2, 1), slot(3, 2)];
        let ids = |v: Vec<ChannelSlot>| v.iter().map(|s| s.id.get() >> 22).collect::<Vec<_>>();
        assert_eq!(ids(reorder_siblings(&siblings, Snowflake::from_raw(3 << 22), 0)), [3, 1, 2]);
        assert_eq!(ids(reorder_siblings(&siblings, Snowflake::from_raw(1 << 22), 99)), [2, 3, 1]);
        assert_eq!(ids(reorder_siblings(&siblings, Snowflake::from_raw(9 << 22), 1)), [1, 9, 2, 3]);
        // Gaps and duplicates in Discord's positions are renumbered.
        let messy = [slot(5, 7), slot(4, 7), slot(6, 2)];
        let out = reorder_siblings(&messy, Snowflake::from_raw(8 << 22), 3);
        assert_eq!(ids(out.clone()), [6, 4, 5, 8]);
        assert_eq!(out.iter().map(|s| s.position).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    proptest! {
        #[test]
        fn reordering_is_a_sequential_permutation(
            positions in proptest::collection::vec(0i64..20, 0..15),
            pick in any::<proptest::sample::Index>(),
            external in any::<bool>(),
            index in 0usize..30,
        ) {
            let siblings: Vec<ChannelSlot> = positions.iter().enumerate().map(|(i, p)| slot(i as u64 + 1, *p)).collect();
            let moving = if external || siblings.is_empty() { Snowflake::from_raw(1000 << 22) } else { siblings[pick.index(siblings.len())].id };
            let out = reorder_siblings(&siblings, moving, index);
            let others = siblings.iter().filter(|s| s.id != moving).count();
            prop_assert_eq!(out.len(), others + 1);
            prop_assert!(out.iter().zip(0..).all(|(s, p)| s.position == p));
            prop_assert_eq!(out.iter().position(|s| s.id == moving), Some(index.min(others)));
            let mut before: Vec<ChannelSlot> = siblings.iter().copied().filter(|s| s.id != moving).collect();
            before.sort_by_key(|s| (s.position, s.id));
            let after: Vec<Snowflake> = out.iter().map(|s| s.id).filter(|id| *id != moving).collect();
            prop_assert_eq!(after, before.iter().map(|s| s.id).collect::<Vec<_>>());
        }
    }
}
