//! [`Targets`]: the four target sets of a port scan's or host sweep's key (touched,
//! answered, served, accepted; see `probing`) in one value.
//!
//! Nearly every key of these detectors ends its window with one target. So one target and
//! the sets it is in are held inline (no heap, a few bytes); the second distinct target
//! moves them into four [`Distinct`] sets. A [`Distinct`]'s count and sample depend only on
//! the set of values inserted (not their order or repeats), so [`Targets::count`] and
//! [`Targets::sample`] are those of four separate [`Distinct`]s fed the same inserts, except
//! that an estimate is bounded by the inserts into its set (no set of 300 records holds
//! ~343 ports).

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
    Many(Box<Many<T>>),
}

/// The four sets of a [`Targets::Many`] and how many inserts each had.
#[derive(Clone, Debug, Default)]
pub struct Many<T: Countable + Default> {
    sets: [Distinct<T>; 4],
    inserts: [u32; 4],
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
                let mut many: Box<Many<T>> = Box::default();
                many.insert(first, first_sets);
                many.insert(target, sets);
                *self = Targets::Many(many);
            }
            Targets::Many(many) => many.insert(target, sets),
        }
    }

    /// The count of one set (exact or estimated) and whether it is exact, as
    /// [`Distinct::count`].
    pub fn count(&self, set: u8) -> (u64, bool) {
        match self {
            Targets::One(_, s) => (u64::from(s & set != 0), true),
            Targets::Many(many) => {
                let i = index(set);
                super::at_most_records(u64::from(many.inserts[i]), many.sets[i].count())
            }
        }
    }

    /// The smallest values of one set, sorted, as [`Distinct::sample`].
    pub fn sample(&self, set: u8) -> &[T] {
        match self {
            Targets::One(t, s) if s & set != 0 => std::slice::from_ref(t),
            Targets::One(..) => &[],
            Targets::Many(many) => many.sets[index(set)].sample(),
        }
    }
}

impl<T: Countable + Default> Many<T> {
    /// Inserts `target` into each of the sets in `sets`.
    #[inline]
    fn insert(&mut self, target: T, sets: u8) {
        for (i, (d, n)) in self.sets.iter_mut().zip(&mut self.inserts).enumerate() {
            if sets & (1 << i) != 0 {
                d.insert(target);
                *n = n.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::mix64;

    /// Against four separate [`Distinct`]s fed the same inserts (their estimates bounded by
    /// the inserts), on random targets and sets, for keys of 1 to 200 distinct targets (so
    /// past the exact limit into HyperLogLog).
    #[test]
    fn matches_four_distinct_sets_on_random_input() {
        let mut x = 42u64;
        for key in 0..400u64 {
            let mut ours: Targets<u32> = Targets::default();
            let mut reference: [Distinct<u32>; 4] = Default::default();
            let mut added = [0u64; 4];
            let spread = 1 + (key % 200);
            let inserts = 1 + (key * 7) % 300;
            for _ in 0..inserts {
                x = mix64(x);
                let target = (x % spread) as u32 * 1_000_003 % 65_536;
                let sets = ((x >> 32) % 16) as u8;
                ours.add(target, sets);
                for (i, d) in reference.iter_mut().enumerate() {
                    if sets & (1 << i) != 0 {
                        d.insert(target);
                        added[i] += 1;
                    }
                }
            }
            for (i, set) in [TOUCHED, ANSWERED, SERVED, ACCEPTED]
                .into_iter()
                .enumerate()
            {
                let bounded = super::super::at_most_records(added[i], reference[i].count());
                assert_eq!(ours.count(set), bounded, "key {key} set {set}");
                assert_eq!(
                    ours.sample(set),
                    reference[i].sample(),
                    "key {key} set {set}"
                );
            }
        }
    }

    #[test]
    fn an_estimate_never_exceeds_the_inserts_into_its_set() {
        // 300 distinct ports, one insert each: an estimate above 300 would be impossible.
        for seed in 0..50u32 {
            let mut t: Targets<u32> = Targets::default();
            for p in 0..300u32 {
                t.add(
                    p.wrapping_mul(2_654_435_761).wrapping_add(seed) % 65_536,
                    TOUCHED,
                );
            }
            let (n, exact) = t.count(TOUCHED);
            assert!(!exact && n <= 300, "seed {seed}: {n}");
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
