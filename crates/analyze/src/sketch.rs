//! Bounded-memory counting: the map type every detector uses, fixed hashing for sketches,
//! [`Distinct`] (exact small sets that turn into HyperLogLog), [`CountMin`] (per-pair byte
//! sums) and [`SpaceSaving`] (top-k heavy hitters).
//!
//! Approximations and their bounds:
//! - [`Distinct`]: exact up to [`EXACT_DISTINCT`] (32) values; beyond that a HyperLogLog with
//!   256 one-byte registers (standard error 1.04/√256 ≈ 6.5%). It always keeps the 32
//!   smallest values as a sample. The count never drops below 33 once exact counting ended.
//! - [`CountMin`]: 4 rows, conservative update; an estimate is never below the true sum and
//!   exceeds it by more than `e/width × total` with probability at most e⁻⁴ ≈ 1.8%.
//! - [`SpaceSaving`]: `capacity` counters; exact while there are at most `capacity` distinct
//!   keys; beyond that each kept count overestimates by at most its recorded `error`
//!   (≤ total/capacity), and every key with a true total above total/capacity is kept.
//!
//! Maps use foldhash seeded per process (resists crafted-collision floods; iteration order is
//! never observable because every output is sorted). Sketches use a fixed hash so their
//! estimates are the same on every run.

use std::collections::HashMap;

use crate::addr::Addr;

/// Hash map with a fast, per-process-seeded hasher, for fixed-size keys.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// An empty [`FastMap`].
pub fn fast_map<K, V>() -> FastMap<K, V> {
    HashMap::with_hasher(foldhash::fast::RandomState::default())
}

/// SplitMix64's finaliser: a fixed, well-mixing 64-bit hash step.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A fixed 64-bit hash of an address.
#[inline]
pub fn hash_addr(a: Addr) -> u64 {
    mix64((a.0 as u64) ^ mix64((a.0 >> 64) as u64 ^ 0x9e37_79b9_7f4a_7c15))
}

/// A value [`Distinct`] can count: ordered (for the sample) with a fixed 64-bit hash.
pub trait Countable: Copy + Ord {
    /// A fixed hash of the value.
    fn hash64(&self) -> u64;
}

impl Countable for u32 {
    #[inline]
    fn hash64(&self) -> u64 {
        mix64(u64::from(*self) ^ 0x2545_f491_4f6c_dd1d)
    }
}

impl Countable for Addr {
    #[inline]
    fn hash64(&self) -> u64 {
        hash_addr(*self)
    }
}

/// Values counted exactly (and kept as the sample).
pub const EXACT_DISTINCT: usize = 32;
const HLL_BITS: u32 = 8;
const HLL_M: usize = 1 << HLL_BITS;

/// A HyperLogLog with 256 registers.
#[derive(Clone, Debug)]
pub struct Hll {
    registers: Box<[u8; HLL_M]>,
}

impl Default for Hll {
    fn default() -> Hll {
        Hll {
            registers: Box::new([0; HLL_M]),
        }
    }
}

impl Hll {
    /// Adds a hashed value.
    #[inline]
    pub fn add(&mut self, hash: u64) {
        let index = (hash >> (64 - HLL_BITS)) as usize;
        let rest = hash << HLL_BITS;
        let rank = (rest.leading_zeros() + 1).min(64 - HLL_BITS + 1) as u8;
        let r = &mut self.registers[index];
        if rank > *r {
            *r = rank;
        }
    }

    /// The cardinality estimate (with the small-range linear-counting correction).
    pub fn estimate(&self) -> u64 {
        let m = HLL_M as f64;
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for &r in self.registers.iter() {
            sum += 1.0 / f64::from(1u32 << r.min(31));
            zeros += usize::from(r == 0);
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        est.round() as u64
    }
}

/// Distinct values of one key: exact up to [`EXACT_DISTINCT`], then HyperLogLog. Two values
/// fit inline; more move to the heap once per key.
#[derive(Clone, Debug)]
pub enum Distinct<T: Countable> {
    /// Up to two values, no heap.
    Inline {
        /// Values held.
        len: u8,
        /// Storage.
        vals: [T; 2],
    },
    /// A sorted sample and, once it overflowed, a HyperLogLog of every value.
    Heap(Box<DistinctHeap<T>>),
}

/// The heap form of [`Distinct`].
#[derive(Clone, Debug)]
pub struct DistinctHeap<T> {
    /// The smallest values seen, sorted; every value seen while `hll` is `None`.
    sample: Vec<T>,
    hll: Option<Hll>,
}

impl<T: Countable + Default> Default for Distinct<T> {
    fn default() -> Self {
        Distinct::Inline {
            len: 0,
            vals: [T::default(); 2],
        }
    }
}

impl<T: Countable + Default> Distinct<T> {
    /// Adds a value; returns whether the (exact) count grew. After the switch to HyperLogLog
    /// the return value only says whether the sample changed.
    #[inline]
    pub fn insert(&mut self, v: T) -> bool {
        match self {
            Distinct::Inline { len, vals } => {
                let n = usize::from(*len);
                if vals[..n].contains(&v) {
                    return false;
                }
                if n < 2 {
                    vals[n] = v;
                    *len += 1;
                    vals[..=n].sort_unstable();
                    return true;
                }
                let mut sample = Vec::with_capacity(8);
                sample.extend_from_slice(&vals[..n]);
                *self = Distinct::Heap(Box::new(DistinctHeap { sample, hll: None }));
                self.insert(v)
            }
            Distinct::Heap(h) => h.insert(v),
        }
    }

    /// The count (exact or estimated) and whether it is exact.
    pub fn count(&self) -> (u64, bool) {
        match self {
            Distinct::Inline { len, .. } => (u64::from(*len), true),
            Distinct::Heap(h) => match &h.hll {
                None => (h.sample.len() as u64, true),
                Some(hll) => (hll.estimate().max(EXACT_DISTINCT as u64 + 1), false),
            },
        }
    }

    /// The smallest values seen (all of them while the count is exact), sorted.
    pub fn sample(&self) -> &[T] {
        match self {
            Distinct::Inline { len, vals } => &vals[..usize::from(*len)],
            Distinct::Heap(h) => &h.sample,
        }
    }
}

impl<T: Countable> DistinctHeap<T> {
    fn insert(&mut self, v: T) -> bool {
        if let Some(hll) = &mut self.hll {
            hll.add(v.hash64());
        }
        match self.sample.binary_search(&v) {
            Ok(_) => false,
            Err(at) if self.sample.len() < EXACT_DISTINCT => {
                self.sample.insert(at, v);
                true
            }
            Err(at) => {
                if self.hll.is_none() {
                    // The 33rd distinct value: switch to estimating, seeded with all 33.
                    let mut hll = Hll::default();
                    for s in &self.sample {
                        hll.add(s.hash64());
                    }
                    hll.add(v.hash64());
                    self.hll = Some(hll);
                }
                if at < self.sample.len() {
                    self.sample.pop();
                    self.sample.insert(at, v);
                    true
                } else {
                    false
                }
            }
        }
    }
}

/// A Count-Min sketch with conservative update over 64-bit key hashes: 4 rows of `width`
/// `u64` counters (`width` a power of two).
#[derive(Clone, Debug)]
pub struct CountMin {
    width_mask: u64,
    rows: Vec<u64>,
    total: u64,
}

const CM_DEPTH: usize = 4;
const CM_SEEDS: [u64; CM_DEPTH] = [
    0x51_7c_c1_b7_27_22_0a_95,
    0x2d_35_8d_cc_aa_6c_78_a5,
    0x8b_b8_4b_93_96_2e_ac_c9,
    0x4b_33_a6_2e_d4_33_d4_a3,
];

impl CountMin {
    /// A sketch of `width` counters per row (rounded up to a power of two).
    pub fn new(width: usize) -> CountMin {
        let width = width.next_power_of_two().max(64);
        CountMin {
            width_mask: width as u64 - 1,
            rows: vec![0; width * CM_DEPTH],
            total: 0,
        }
    }

    #[inline]
    fn cells(&self, hash: u64) -> [usize; CM_DEPTH] {
        let width = (self.width_mask + 1) as usize;
        std::array::from_fn(|i| i * width + (mix64(hash ^ CM_SEEDS[i]) & self.width_mask) as usize)
    }

    /// Adds `w` to a key; returns the key's new estimate.
    #[inline]
    pub fn add(&mut self, hash: u64, w: u64) -> u64 {
        let cells = self.cells(hash);
        let min = cells.iter().map(|&c| self.rows[c]).min().unwrap_or(0);
        let target = min.saturating_add(w);
        for c in cells {
            if self.rows[c] < target {
                self.rows[c] = target;
            }
        }
        self.total = self.total.saturating_add(w);
        target
    }

    /// A key's estimate (never below its true sum).
    pub fn estimate(&self, hash: u64) -> u64 {
        self.cells(hash)
            .iter()
            .map(|&c| self.rows[c])
            .min()
            .unwrap_or(0)
    }

    /// Sum of everything added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Counters per row.
    pub fn width(&self) -> usize {
        (self.width_mask + 1) as usize
    }
}

/// One Space-Saving counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted<K> {
    /// The key.
    pub key: K,
    /// Its count (an upper bound once the sketch has evicted keys).
    pub count: u64,
    /// How much of `count` may belong to evicted keys (0 = exact).
    pub error: u64,
}

/// Space-Saving top-k over weighted updates: a min-heap of `capacity` counters plus a
/// key → slot index.
#[derive(Clone, Debug)]
pub struct SpaceSaving<K: Copy + Eq + std::hash::Hash + Ord> {
    capacity: usize,
    heap: Vec<Counted<K>>,
    index: FastMap<K, usize>,
    total: u64,
}

impl<K: Copy + Eq + std::hash::Hash + Ord> SpaceSaving<K> {
    /// A sketch keeping `capacity` (≥ 1) counters.
    pub fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.max(1),
            heap: Vec::new(),
            index: fast_map(),
            total: 0,
        }
    }

    /// Adds `w` to `key`.
    #[inline]
    pub fn add(&mut self, key: K, w: u64) {
        self.total = self.total.saturating_add(w);
        if let Some(&i) = self.index.get(&key) {
            self.heap[i].count = self.heap[i].count.saturating_add(w);
            self.sift_down(i);
        } else if self.heap.len() < self.capacity {
            let i = self.heap.len();
            self.heap.push(Counted {
                key,
                count: w,
                error: 0,
            });
            self.index.insert(key, i);
            self.sift_up(i);
        } else {
            let min = self.heap[0];
            self.index.remove(&min.key);
            self.heap[0] = Counted {
                key,
                count: min.count.saturating_add(w),
                error: min.count,
            };
            self.index.insert(key, 0);
            self.sift_down(0);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        if let Some(slot) = self.index.get_mut(&self.heap[a].key) {
            *slot = a;
        }
        if let Some(slot) = self.index.get_mut(&self.heap[b].key) {
            *slot = b;
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[i].count >= self.heap[parent].count {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut smallest = i;
            if l < self.heap.len() && self.heap[l].count < self.heap[smallest].count {
                smallest = l;
            }
            if r < self.heap.len() && self.heap[r].count < self.heap[smallest].count {
                smallest = r;
            }
            if smallest == i {
                return;
            }
            self.swap(i, smallest);
            i = smallest;
        }
    }

    /// The `n` largest counters, largest first (ties by key).
    pub fn top(&self, n: usize) -> Vec<Counted<K>> {
        let mut all = self.heap.clone();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        all.truncate(n);
        all
    }

    /// Sum of every weight added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether every count is exact (no key was ever evicted).
    pub fn is_exact(&self) -> bool {
        self.heap.iter().all(|c| c.error == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_is_exact_then_estimates() {
        let mut d: Distinct<u32> = Distinct::default();
        for round in 0..3 {
            for v in (0..32u32).rev() {
                let grew = d.insert(v);
                assert_eq!(grew, round == 0, "value {v} round {round}");
            }
        }
        assert_eq!(d.count(), (32, true));
        assert_eq!(d.sample(), (0..32).collect::<Vec<_>>().as_slice());
        for v in 32..2000u32 {
            d.insert(v);
            d.insert(v); // repeats do not count twice
        }
        let (n, exact) = d.count();
        assert!(!exact);
        let err = (n as f64 - 2000.0).abs() / 2000.0;
        assert!(err < 0.2, "estimate {n}");
        assert_eq!(d.sample(), (0..32).collect::<Vec<_>>().as_slice());
        // A smaller value arriving late still enters the sample.
        let mut late: Distinct<u32> = Distinct::default();
        for v in (100..200u32).chain([5]) {
            late.insert(v);
        }
        assert_eq!(late.sample()[0], 5);
        assert_eq!(late.sample().len(), 32);
    }

    #[test]
    fn hll_small_range_is_close() {
        for n in [40u32, 100, 1000, 10_000] {
            let mut d: Distinct<u32> = Distinct::default();
            for v in 0..n {
                d.insert(v.wrapping_mul(2_654_435_761));
            }
            let (est, _) = d.count();
            let err = (est as f64 - f64::from(n)).abs() / f64::from(n);
            assert!(err < 0.25, "n {n} estimate {est}");
        }
    }

    #[test]
    fn count_min_never_underestimates() {
        let mut cm = CountMin::new(64);
        let mut truth = vec![0u64; 500];
        for i in 0..20_000u64 {
            let k = (i * 7919) % 500;
            let w = i % 13 + 1;
            truth[k as usize] += w;
            cm.add(mix64(k), w);
        }
        for (k, &t) in truth.iter().enumerate() {
            assert!(cm.estimate(mix64(k as u64)) >= t);
        }
        let mut exact = CountMin::new(1 << 15);
        exact.add(1, 10);
        exact.add(2, 5);
        assert_eq!(exact.add(1, 3), 13);
        assert_eq!(exact.estimate(2), 5);
        assert_eq!(exact.total(), 18);
    }

    #[test]
    fn space_saving_finds_heavy_hitters() {
        let mut ss = SpaceSaving::new(4);
        for k in 0..3u32 {
            ss.add(k, 10 * u64::from(k + 1));
        }
        assert!(ss.is_exact());
        assert_eq!(ss.top(1)[0].key, 2);
        let mut ss = SpaceSaving::new(8);
        for i in 0..10_000u32 {
            ss.add(i % 1000, 1); // noise: 10 each
            if i % 10 == 0 {
                ss.add(7777, 50); // heavy: 50_000
            }
        }
        let top = ss.top(1)[0];
        assert_eq!(top.key, 7777);
        assert!(top.count >= 50_000 && top.count - top.error <= 50_000);
        assert!(!ss.is_exact());
        assert_eq!(ss.total(), 60_000);
    }
}
