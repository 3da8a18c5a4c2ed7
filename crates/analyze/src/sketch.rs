//! Bounded-memory counting: the map type every detector uses, fixed hashing for sketches,
//! [`Distinct`] (exact small sets that turn into HyperLogLog), [`CountMin`] (per-pair byte
//! sums) and [`TopK`] (heavy hitters: Count-Min plus the largest candidates).
//!
//! Approximations and their bounds:
//! - [`Distinct`]: exact up to [`EXACT_DISTINCT`] (32) values; beyond that a HyperLogLog with
//!   256 one-byte registers (standard error 1.04/√256 ≈ 6.5%). It always keeps the 32
//!   smallest values as a sample. The count never drops below 33 once exact counting ended.
//! - [`CountMin`]: 2 independent rows, conservative update; an estimate is never below the
//!   true sum and exceeds it by more than `e²/width × total` with probability at most
//!   (1/e²)² = e⁻⁴ ≈ 1.8% (Markov per row: P(row error > c·total/width) ≤ 1/c). Two rows
//!   of twice the width hold the memory of the four rows used before and cost two random
//!   memory accesses a record instead of four; the bound at the same confidence is
//!   e²/(2w) ≈ 3.69/w instead of e/w ≈ 2.72/w for the former width w (36% wider).
//! - [`TopK`]: a Count-Min sketch (2 × width) of every key and the `capacity` keys with the
//!   largest estimates. Estimates never undercount; they overcount by more than
//!   e²/width of the total weight with probability ≤ 1.8%. The reported keys are the
//!   largest by estimate whatever the arrival order (a key's estimate only grows, so a key
//!   that ends among the top `capacity` is never lost).
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

impl Countable for (Addr, Addr) {
    #[inline]
    fn hash64(&self) -> u64 {
        pair_hash(hash_addr(self.0), hash_addr(self.1))
    }
}

/// The [`Countable::hash64`] of an address pair from its addresses' [`hash_addr`]s.
#[inline]
pub fn pair_hash(src: u64, dst: u64) -> u64 {
    mix64(src ^ dst.rotate_left(23))
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

/// A Count-Min sketch with conservative update over 64-bit key hashes: 2 rows of `width`
/// `u64` counters (`width` a power of two).
#[derive(Clone, Debug)]
pub struct CountMin {
    width_mask: u64,
    rows: Vec<u64>,
}

const CM_DEPTH: usize = 2;
/// The overcount bound factor: e² (see the module docs).
pub const CM_BOUND: f64 = std::f64::consts::E * std::f64::consts::E;
const CM_SEED: u64 = 0x517c_c1b7_2722_0a95;

impl CountMin {
    /// A sketch of `width` counters per row (rounded up to a power of two).
    pub fn new(width: usize) -> CountMin {
        let width = width.next_power_of_two().max(64);
        CountMin {
            width_mask: width as u64 - 1,
            rows: vec![0; width * CM_DEPTH],
        }
    }

    /// The key's counter in each row: `h1 + i·h2` from one mixed hash (Kirsch–Mitzenmacher),
    /// so a record costs one mix, not one per row.
    #[inline]
    fn cells(&self, hash: u64) -> [usize; CM_DEPTH] {
        let width = (self.width_mask + 1) as usize;
        let h = mix64(hash ^ CM_SEED);
        let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
        std::array::from_fn(|i| {
            i * width + (h1.wrapping_add((i as u64).wrapping_mul(h2)) & self.width_mask) as usize
        })
    }

    /// Adds `w` to a key; returns the key's new estimate.
    #[inline(always)]
    pub fn add(&mut self, hash: u64, w: u64) -> u64 {
        let at = self.locate(hash);
        self.add_at(at, w)
    }

    /// The key's counters and their current minimum, the reading half of [`CountMin::add`]
    /// (so a caller updating several sketches issues every load first).
    #[inline(always)]
    pub fn locate(&self, hash: u64) -> Located {
        let cells = self.cells(hash);
        let min = cells.iter().map(|&c| self.rows[c]).min().unwrap_or(0);
        Located { cells, min }
    }

    /// The writing half of [`CountMin::add`], for counters [`CountMin::locate`] read with no
    /// update of this sketch in between; returns the key's new estimate.
    #[inline(always)]
    pub fn add_at(&mut self, at: Located, w: u64) -> u64 {
        let target = at.min.saturating_add(w);
        for c in at.cells {
            if self.rows[c] < target {
                self.rows[c] = target;
            }
        }
        target
    }

    /// Counters per row.
    pub fn width(&self) -> usize {
        (self.width_mask + 1) as usize
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.rows.len() * 8
    }

    /// Sets every counter to 0 (keeps the memory).
    pub fn clear(&mut self) {
        self.rows.fill(0);
    }

    /// A key's estimate (never below its true sum).
    pub fn estimate(&self, hash: u64) -> u64 {
        self.cells(hash)
            .iter()
            .map(|&c| self.rows[c])
            .min()
            .unwrap_or(0)
    }
}

/// A key's counters in a [`CountMin`] and their minimum when read.
#[derive(Clone, Copy, Debug)]
pub struct Located {
    cells: [usize; CM_DEPTH],
    min: u64,
}

/// One top-k entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted<K> {
    /// The key.
    pub key: K,
    /// Its Count-Min estimate (never below the truth).
    pub count: u64,
    /// Weight added since it became a candidate (never above the truth): the truth is in
    /// `lower..=count`.
    pub lower: u64,
    /// What [`TopK::top`] ranks by: `lower` plus the estimate it had before it became a
    /// candidate, but at most the candidates' floor then (see [`TopK`]).
    pub rank: u64,
}

/// A candidate's Count-Min estimate, the weight counted exactly since it became one, and
/// the part of its earlier estimate credited to it (at most the floor it crossed).
#[derive(Clone, Copy, Debug)]
struct Candidate {
    estimate: u64,
    exact: u64,
    credit: u64,
}

/// Heavy hitters by weight: a Count-Min sketch of every key plus the `capacity` keys with the
/// largest estimates. A record costs one hash, two counter updates and one comparison
/// unless its key's estimate beats the smallest candidate's. Candidates also count their
/// weight exactly from when they became one (Space-Saving's lower bound), and [`TopK::top`]
/// ranks by that plus the estimate a key had before it became a candidate, credited only up
/// to the floor it crossed. A key that grew past the floor record by record is credited its
/// earlier weight (ranked by about its estimate); a key whose very first record jumped far
/// over the floor owes that jump to counters shared with heavy keys (a flood of spoofed
/// sources: a few of them collide with heavy talkers in every row) and is ranked no higher
/// than the smallest candidate, so it is not shown as a top talker.
#[derive(Clone, Debug)]
pub struct TopK<K: Copy + Eq + std::hash::Hash + Ord + Countable> {
    cms: CountMin,
    capacity: usize,
    candidates: FastMap<K, Candidate>,
    /// A lower bound of the smallest candidate estimate once full (0 before).
    floor: u64,
    total: u64,
}

impl<K: Copy + Eq + std::hash::Hash + Ord + Countable> TopK<K> {
    /// Keeps `capacity` (≥ 1) candidates over a sketch of `width` counters per row.
    pub fn new(capacity: usize, width: usize) -> Self {
        TopK {
            cms: CountMin::new(width),
            capacity: capacity.max(1),
            candidates: fast_map(),
            floor: 0,
            total: 0,
        }
    }

    /// Adds `w` to `key`.
    #[cfg(test)]
    pub fn add(&mut self, key: K, w: u64) {
        self.add_hashed(key, key.hash64(), w);
    }

    /// Adds `w` to `key` whose [`Countable::hash64`] the caller already has (`hash` must be
    /// that value). The reports call its two halves, [`TopK::locate`] and
    /// [`TopK::add_located`], to read all their sketches before updating any.
    #[cfg(test)]
    #[inline]
    pub fn add_hashed(&mut self, key: K, hash: u64, w: u64) {
        let at = self.locate(hash);
        self.add_located(key, hash, at, w);
    }

    /// Reads the counters of a key (the first half of [`TopK::add_hashed`]; see
    /// [`CountMin::locate`]).
    #[inline(always)]
    pub fn locate(&self, hash: u64) -> Located {
        self.cms.locate(hash)
    }

    /// The rest of [`TopK::add_hashed`], with the counters [`TopK::locate`] read for this
    /// key and no update of this sketch since.
    #[inline]
    pub fn add_located(&mut self, key: K, hash: u64, at: Located, w: u64) {
        debug_assert_eq!(hash, key.hash64());
        self.total = self.total.saturating_add(w);
        let estimate = self.cms.add_at(at, w);
        if estimate <= self.floor {
            return; // a candidate's estimate only grows, so this key is not one
        }
        if let Some(v) = self.candidates.get_mut(&key) {
            v.estimate = estimate;
            v.exact = v.exact.saturating_add(w);
            return;
        }
        let new = Candidate {
            estimate,
            exact: w,
            credit: estimate.saturating_sub(w).min(self.floor),
        };
        if self.candidates.len() < self.capacity {
            self.candidates.insert(key, new);
            return;
        }
        // Replace the smallest candidate (ties: the largest key, so the choice is stable).
        let mut smallest: Option<(u64, K)> = None;
        let mut second = u64::MAX;
        for (k, c) in &self.candidates {
            let v = &c.estimate;
            match smallest {
                Some((sv, sk)) if (*v, std::cmp::Reverse(*k)) >= (sv, std::cmp::Reverse(sk)) => {
                    second = second.min(*v);
                }
                _ => {
                    if let Some((sv, _)) = smallest {
                        second = second.min(sv);
                    }
                    smallest = Some((*v, *k));
                }
            }
        }
        if let Some((sv, sk)) = smallest {
            if estimate > sv {
                self.candidates.remove(&sk);
                self.candidates.insert(key, new);
                self.floor = second.min(estimate);
            } else {
                self.floor = sv;
            }
        }
    }

    /// The `n` candidates of the largest rank (see [`TopK`]; ties: larger estimate, then
    /// key), their estimates refreshed from the sketch.
    pub fn top(&self, n: usize) -> Vec<Counted<K>> {
        let mut all: Vec<Counted<K>> = self
            .candidates
            .iter()
            .map(|(k, c)| {
                let count = self.cms.estimate(k.hash64());
                Counted {
                    key: *k,
                    count,
                    lower: c.exact,
                    rank: c.exact.saturating_add(c.credit).min(count),
                }
            })
            .collect();
        all.sort_by(|a, b| {
            (b.rank, b.count)
                .cmp(&(a.rank, a.count))
                .then_with(|| a.key.cmp(&b.key))
        });
        all.truncate(n);
        all
    }

    /// The overestimate bound: with probability ≥ 98% no estimate exceeds its key's true sum
    /// by more than this (e²/width × the sum of all weights).
    pub fn error_bound(&self) -> u64 {
        (CM_BOUND * self.total as f64 / self.cms.width() as f64).ceil() as u64
    }

    /// Whether every estimate is exact: all keys fit the candidates and no two share every
    /// counter (checked by comparing candidate estimates with the total). A total that
    /// saturated at `u64::MAX` is never called exact: the true sum is not known.
    pub fn is_exact(&self) -> bool {
        let sum = self
            .candidates
            .keys()
            .map(|k| self.cms.estimate(k.hash64()))
            .fold(0u64, u64::saturating_add);
        sum == self.total && self.total < u64::MAX
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
    }

    #[test]
    fn top_k_finds_heavy_hitters() {
        let mut exact: TopK<u32> = TopK::new(4, 1 << 12);
        for k in 0..3u32 {
            exact.add(k, 10 * u64::from(k + 1));
        }
        assert!(exact.is_exact());
        assert_eq!(
            exact.top(1)[0],
            Counted {
                key: 2,
                count: 30,
                lower: 30,
                rank: 30
            }
        );
        let mut tk: TopK<u32> = TopK::new(8, 1 << 10);
        let mut heavy = [0u64; 3];
        for i in 0..100_000u32 {
            tk.add(10_000 + i % 5000, 1); // noise: 20 each
            if i % 10 == 0 {
                let h = (i / 10) % 3;
                tk.add(h, u64::from(h + 1) * 10);
                heavy[h as usize] += u64::from(h + 1) * 10;
            }
        }
        let top = tk.top(3);
        let keys: Vec<u32> = top.iter().map(|c| c.key).collect();
        assert_eq!(keys, [2, 1, 0]);
        for c in &top {
            let truth = heavy[c.key as usize];
            assert!(
                c.count >= truth && c.count - truth <= tk.error_bound(),
                "{c:?} {truth}"
            );
        }
        assert!(!tk.is_exact());
    }

    #[test]
    fn a_key_that_grows_past_the_floor_is_ranked_by_all_its_weight() {
        // Four candidates of 100 each; then a key sends 10 records of 50: it becomes a
        // candidate on its third (estimate 150 > floor 100) and is credited the 100 before.
        let mut tk: TopK<u32> = TopK::new(4, 1 << 15);
        for k in 0..4u32 {
            tk.add(k, 100);
        }
        for _ in 0..10 {
            tk.add(9, 50);
        }
        let top = tk.top(1)[0];
        assert_eq!((top.key, top.count, top.rank), (9, 500, 500), "{top:?}");
        assert_eq!(top.lower, 400, "counted exactly from its third record");
    }

    #[test]
    fn a_flood_of_small_keys_puts_no_collision_among_the_top() {
        // 20 heavy keys, then 400,000 keys of one small record each (a spoofed SYN flood): in
        // a narrow sketch some small keys share both counters with heavy ones, and their
        // estimates are heavy-sized. Ranked by exact counts, only the heavy keys are on top.
        let mut tk: TopK<u32> = TopK::new(512, 1 << 10);
        for round in 0..50u64 {
            for h in 0..20u32 {
                tk.add(h, 1_000_000 + round);
            }
        }
        for k in 0..400_000u32 {
            tk.add(1_000 + k, 84);
        }
        let collided = (0..400_000u32)
            .filter(|k| tk.cms.estimate((1_000 + k).hash64()) > 1_000_000)
            .count();
        assert!(
            collided > 0,
            "the test needs a key whose estimate is heavy-sized"
        );
        let top = tk.top(20);
        let mut keys: Vec<u32> = top.iter().map(|c| c.key).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..20).collect::<Vec<_>>());
        for c in &top {
            assert!(c.lower <= c.count && c.lower >= 50_000_000, "{c:?}");
        }
    }
}

/// An admission gate: `layers` Bloom filters of 2^23 bits (1 MiB) each, 3 probes per key
/// from one mixed hash. [`Gate::bump`] counts a record of a key: it returns how many layers
/// already held the key plus one, and sets the first layer that did not. So a key seen `n`
/// times reads at least `min(n, layers + 1)` (never under), and a key seen once reads more
/// than 1 only on a false positive: with k = 3 and 1 M distinct keys in a window about
/// (1 − e^(−3/8))^3 ≈ 3.5%, with 250 k keys ≈ 0.1%.
#[derive(Clone, Debug)]
pub struct Gate {
    bits: Box<[u64]>,
    layers: u32,
}

const GATE_BITS: u32 = 23;
const GATE_WORDS: usize = 1 << (GATE_BITS - 6);
const GATE_SEED: u64 = 0x2f4a_7c15_9e37_79b9;

impl Gate {
    /// Bytes one layer holds.
    pub const LAYER_BYTES: usize = GATE_WORDS * 8;

    /// A gate admitting keys on their `promote_at`-th record (2..=4; `promote_at - 1`
    /// layers).
    pub fn new(promote_at: u32) -> Gate {
        let layers = promote_at.clamp(2, 4) - 1;
        Gate {
            bits: vec![0; GATE_WORDS * layers as usize].into_boxed_slice(),
            layers,
        }
    }

    /// Bytes this gate holds.
    pub fn bytes(&self) -> usize {
        self.layers as usize * Self::LAYER_BYTES
    }

    /// Counts one record of `hash`; returns the key's count so far, this record included
    /// (capped at `layers + 1`).
    #[inline]
    pub fn bump(&mut self, hash: u64) -> u32 {
        let h = mix64(hash ^ GATE_SEED);
        let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
        let mask = (1u64 << GATE_BITS) - 1;
        let probes: [u64; 3] =
            std::array::from_fn(|i| h1.wrapping_add((i as u64).wrapping_mul(h2)) & mask);
        for layer in 0..self.layers as usize {
            let words = &mut self.bits[layer * GATE_WORDS..(layer + 1) * GATE_WORDS];
            let present = probes
                .iter()
                .all(|&b| words[(b >> 6) as usize] & (1 << (b & 63)) != 0);
            if !present {
                for &b in &probes {
                    words[(b >> 6) as usize] |= 1 << (b & 63);
                }
                return layer as u32 + 1;
            }
        }
        self.layers + 1
    }
}

/// A Bloom filter of 2^`bits` bits, 3 probes per key from one mixed hash: no false
/// negatives; false positives about (1 − e^(−3n/2^bits))^3 for n keys. (The answer filters'
/// layout before [`PairFilter`]; kept as the tests' reference.)
#[cfg(test)]
#[derive(Clone, Debug)]
pub struct Bloom {
    words: Box<[u64]>,
    mask: u64,
}

#[cfg(test)]
impl Bloom {
    /// An empty filter of 2^`bits` bits (6 ≤ bits ≤ 32).
    pub fn new(bits: u32) -> Bloom {
        let bits = bits.clamp(6, 32);
        Bloom {
            words: vec![0; 1 << (bits - 6)].into_boxed_slice(),
            mask: (1u64 << bits) - 1,
        }
    }

    #[inline]
    fn probes(&self, hash: u64) -> [u64; 3] {
        let h = mix64(hash ^ GATE_SEED);
        let (h1, h2) = (h & 0xffff_ffff, (h >> 32) | 1);
        std::array::from_fn(|i| h1.wrapping_add((i as u64).wrapping_mul(h2)) & self.mask)
    }

    /// Adds a key.
    #[inline]
    pub fn insert(&mut self, hash: u64) {
        for b in self.probes(hash) {
            self.words[(b >> 6) as usize] |= 1 << (b & 63);
        }
    }

    /// Whether the key may have been added (never false for an added key).
    #[inline]
    pub fn contains(&self, hash: u64) -> bool {
        self.probes(hash)
            .iter()
            .all(|&b| self.words[(b >> 6) as usize] & (1 << (b & 63)) != 0)
    }
}

/// One 64-byte line of a [`PairFilter`] (aligned, so a key costs one cache line).
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
struct Line([u64; 8]);

const PAIR_SEED: u64 = 0x6a09_e667_f3bc_c908;

/// A blocked Bloom filter of two nested sets over 64-bit key hashes, *marked* and *flagged*
/// (a flagged key is always marked too): 2^`lines` lines of 512 bits; a key's three bits of
/// each set lie in one line picked by the hash, so [`PairFilter::insert`] and
/// [`PairFilter::get`] touch one cache line for both sets. No false negatives. False
/// positives of `marked`, measured with 2^14 lines (1 MiB) and every second key flagged
/// (`answer_fp_rates`): none at 10 k keys, 0.02% at 100 k, 0.25% at 250 k, 1.4% at 500 k,
/// 7.3% at 1 M (two separate 2^22-bit Bloom filters, the same memory: 0.05%, 0.44%, 2.7%,
/// 13.3%); a false `flagged` needs both sets to match (0.6% at 1 M).
/// [`PairFilter::clear`] empties it for reuse without new pages.
#[derive(Clone, Debug)]
pub struct PairFilter {
    lines: Box<[Line]>,
    shift: u32,
}

impl PairFilter {
    /// An empty filter of 2^`lines` lines (0 ≤ lines ≤ 26).
    pub fn new(lines: u32) -> PairFilter {
        let lines = lines.min(26);
        PairFilter {
            lines: vec![Line::default(); 1 << lines].into_boxed_slice(),
            shift: 64 - lines,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lines.len() * std::mem::size_of::<Line>()
    }

    /// Empties the filter (keeps its memory).
    pub fn clear(&mut self) {
        self.lines.fill(Line::default());
    }

    /// The key's line and its six bit positions in that line (three of the marked set, then
    /// three of the flagged set).
    #[inline]
    fn locate(&self, hash: u64) -> (usize, [u32; 6]) {
        let at = mix64(hash ^ PAIR_SEED);
        let line = if self.shift >= 64 {
            0
        } else {
            (at >> self.shift) as usize
        };
        let bits = mix64(hash ^ GATE_SEED);
        (
            line,
            std::array::from_fn(|i| ((bits >> (9 * i)) & 511) as u32),
        )
    }

    /// Reads the first word of the key's line (to bring the line into the cache ahead of
    /// [`PairFilter::insert`]: loads of several keys overlap, stores to missing lines do not).
    #[inline]
    pub fn touch(&self, hash: u64) -> u64 {
        self.lines[self.locate(hash).0].0[0]
    }

    /// Adds a key to the marked set, and to the flagged set too when `flagged`.
    #[inline]
    pub fn insert(&mut self, hash: u64, flagged: bool) {
        let (at, pos) = self.locate(hash);
        let line = &mut self.lines[at].0;
        let n = if flagged { 6 } else { 3 };
        for &p in &pos[..n] {
            line[(p >> 6) as usize] |= 1 << (p & 63);
        }
    }

    /// Whether the key may be marked, and may be flagged (never false for an added key).
    #[inline]
    pub fn get(&self, hash: u64) -> (bool, bool) {
        let (at, pos) = self.locate(hash);
        let line = &self.lines[at].0;
        let set = |p: u32| line[(p >> 6) as usize] & (1 << (p & 63)) != 0;
        let marked = set(pos[0]) & set(pos[1]) & set(pos[2]);
        let flagged = set(pos[3]) & set(pos[4]) & set(pos[5]);
        (marked, marked && flagged)
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn gate_counts_each_key_and_never_under() {
        let mut g = Gate::new(3);
        for k in 0..200_000u64 {
            assert!(g.bump(mix64(k)) >= 1);
        }
        for n in 1..=5 {
            assert!(g.bump(mix64(7_777_777)) >= n.min(3));
        }
        // One-off keys read 1 on their first sight, bar rare false positives.
        let mut fresh = Gate::new(2);
        let early = (0..200_000u64)
            .filter(|k| fresh.bump(mix64(*k)) > 1)
            .count();
        assert!(early < 200, "{early} of 200000 keys admitted early");
        let mut b = Bloom::new(20);
        for k in 0..10_000u64 {
            b.insert(mix64(k));
        }
        assert!((0..10_000u64).all(|k| b.contains(mix64(k))));
        let fp = (10_000..20_000u64)
            .filter(|k| b.contains(mix64(*k)))
            .count();
        assert!(fp < 100, "{fp} false positives");
    }

    /// False positives per million of `marked` (and of `flagged`) queries for `n` keys added
    /// (every second one flagged), queried with `n` other keys.
    fn pair_fp(lines: u32, n: u64) -> (u64, u64) {
        let mut f = PairFilter::new(lines);
        for k in 0..n {
            f.insert(mix64(k), k % 2 == 0);
        }
        for k in 0..n {
            assert_eq!(f.get(mix64(k)), (true, k % 2 == 0 || f.get(mix64(k)).1));
        }
        let (mut m, mut fl) = (0, 0);
        for k in n..2 * n {
            let (a, b) = f.get(mix64(k));
            m += u64::from(a);
            fl += u64::from(b);
        }
        (m * 1_000_000 / n, fl * 1_000_000 / n)
    }

    #[test]
    fn pair_filter_has_no_false_negatives_and_few_positives() {
        // Flagged keys are always marked; unflagged ones flagged only by a false positive.
        let mut f = PairFilter::new(4);
        f.insert(1, false);
        f.insert(2, true);
        assert!(f.get(1).0);
        assert_eq!(f.get(2), (true, true));
        f.clear();
        assert_eq!(f.get(2), (false, false));
        // The answer filter's size (2^14 lines, 1 MiB): the rates stated in the docs.
        let (m, fl) = pair_fp(14, 100_000);
        assert!(m < 1_000 && fl <= m, "100 k keys: {m} {fl} per million");
        let (m, _) = pair_fp(14, 10_000);
        assert!(m < 20, "10 k keys: {m} per million");
    }

    /// Prints the false-positive rates of the answer filters, old layout (two 2^22-bit
    /// Bloom filters) against the new (one 2^14-line [`PairFilter`]), for the docs.
    #[test]
    #[ignore = "a measurement: cargo test --release -p flowkeeper-analyze -- --ignored --nocapture answer_fp"]
    fn answer_fp_rates() {
        for n in [10_000u64, 100_000, 250_000, 500_000, 1_000_000] {
            let mut b = Bloom::new(22);
            for k in 0..n {
                b.insert(mix64(k));
            }
            let old = (n..2 * n).filter(|k| b.contains(mix64(*k))).count() as u64 * 1_000_000 / n;
            let (m, fl) = pair_fp(14, n);
            eprintln!(
                "answer_fp {n} keys: bloom 2^22 {old} ppm; pair filter 2^14 lines marked {m} ppm, flagged {fl} ppm"
            );
        }
    }
}
