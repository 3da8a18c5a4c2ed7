//! [`Targets`]: the four target sets of a port scan's or host sweep's key (touched,
//! answered, served, accepted; see `probing`) in one value.
//!
//! Nearly every key of these detectors ends its window with one target. So one target and
//! the sets it is in are held inline (no heap, a few bytes); the second distinct target
//! moves them into four [`Distinct`] sets. A [`Distinct`]'s count and sample depend only on
//! the set of values inserted (not their order or repeats), so [`Targets::count`] and
//! [`Targets::sample`] are those of four separate [`Distinct`]s fed the same inserts.

use crate::sketch::{Countable, Distinct};

/// Which set: the targets the client's records reached.
pub const TOUCHED: u8 = 1;
/// Which set: the targets that answered.
pub const ANSWERED: u8 = 2;
/// Which set: the targets that served data.
pub const SERVED: u8 = 4;
/// Which set: the targets a probe reached (accepted by their security group, or answered).
pub const ACCEPTED: u8 = 8;

/// The four target sets of one key (see the module docs).
#[derive(Clone, Debug)]
pub enum Targets<T: Countable + Default> {
    /// At most one distinct target: it, and the sets it is in (0: none yet).
    One(T, u8),
    /// Touched, answered, served and accepted, in that order.
    Many(Box<[Distinct<T>; 4]>),
}

impl<T: Countable + Default> Default for Targets<T> {
    fn default() -> Self {
        Targets::One(T::default(), 0)
    }
}

/// The index of a single set bit.
#[inline]
fn index(set: u8) -> usize {
    set.trailing_zeros() as usize
}

impl<T: Countable + Default> Targets<T> {
    /// Adds `target` to each set in `sets` (an OR of [`TOUCHED`], [`ANSWERED`], [`SERVED`],
    /// [`ACCEPTED`]).
    #[inline]
    pub fn add(&mut self, target: T, sets: u8) {
        if sets == 0 {
            return;
        }
        match self {
            Targets::One(t, s) if *s == 0 || *t == target => {
                *t = target;
                *s |= sets;
            }
            Targets::One(t, s) => {
                let (first, first_sets) = (*t, *s);
                let mut many: Box<[Distinct<T>; 4]> = Box::default();
                insert(&mut many, first, first_sets);
                insert(&mut many, target, sets);
                *self = Targets::Many(many);
            }
            Targets::Many(many) => insert(many, target, sets),
        }
    }

    /// The count of one set (exact or estimated) and whether it is exact, as
    /// [`Distinct::count`].
    pub fn count(&self, set: u8) -> (u64, bool) {
        match self {
            Targets::One(_, s) => (u64::from(s & set != 0), true),
            Targets::Many(many) => many[index(set)].count(),
        }
    }

    /// The smallest values of one set, sorted, as [`Distinct::sample`].
    pub fn sample(&self, set: u8) -> &[T] {
        match self {
            Targets::One(t, s) if s & set != 0 => std::slice::from_ref(t),
            Targets::One(..) => &[],
            Targets::Many(many) => many[index(set)].sample(),
        }
    }
}

/// Inserts `target` into each of the sets in `sets`.
#[inline]
fn insert<T: Countable + Default>(many: &mut [Distinct<T>; 4], target: T, sets: u8) {
    for (i, d) in many.iter_mut().enumerate() {
        if sets & (1 << i) != 0 {
            d.insert(target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::mix64;

    /// Against four separate [`Distinct`]s fed the same inserts, on random targets and sets,
    /// for keys of 1 to 200 distinct targets (so past the exact limit into HyperLogLog).
    #[test]
    fn matches_four_distinct_sets_on_random_input() {
        let mut x = 42u64;
        for key in 0..400u64 {
            let mut ours: Targets<u32> = Targets::default();
            let mut reference: [Distinct<u32>; 4] = Default::default();
            let spread = 1 + (key % 200);
            let inserts = 1 + (key * 7) % 300;
            for _ in 0..inserts {
                x = mix64(x);
                let target = (x % spread) as u32 * 1_000_003 % 65_536;
                let sets = ((x >> 32) % 16) as u8;
                ours.add(target, sets);
                insert(&mut reference, target, sets);
            }
            for (i, set) in [TOUCHED, ANSWERED, SERVED, ACCEPTED]
                .into_iter()
                .enumerate()
            {
                assert_eq!(ours.count(set), reference[i].count(), "key {key} set {set}");
                assert_eq!(
                    ours.sample(set),
                    reference[i].sample(),
                    "key {key} set {set}"
                );
            }
        }
    }

    #[test]
    fn one_target_stays_inline_with_its_sets() {
        let mut t: Targets<u32> = Targets::default();
        assert_eq!(t.count(TOUCHED), (0, true));
        t.add(7, 0);
        assert_eq!(t.count(TOUCHED), (0, true), "no set: nothing added");
        t.add(7, TOUCHED);
        t.add(7, ANSWERED | ACCEPTED);
        assert!(matches!(t, Targets::One(7, _)));
        assert_eq!(t.count(TOUCHED), (1, true));
        assert_eq!(t.count(SERVED), (0, true));
        assert_eq!(t.sample(ACCEPTED), [7]);
        assert!(t.sample(SERVED).is_empty());
        t.add(3, SERVED);
        assert!(matches!(t, Targets::Many(_)));
        assert_eq!(t.sample(TOUCHED), [7]);
        assert_eq!(t.sample(SERVED), [3]);
    }
}
