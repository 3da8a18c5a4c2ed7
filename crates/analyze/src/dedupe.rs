//! Double-ended flows: a flow between two logged interfaces is recorded at both (egress at
//! one end, ingress at the other), and a flow relayed by a NAT gateway or another middlebox
//! is recorded at the instance's interface and on the relay's inner leg. The twins share the
//! peers 5-tuple (`pkt-srcaddr ?? srcaddr`, ..., protocol) and the action but not the
//! interface, and their start times differ by seconds (each interface aggregates on its own
//! clock). [`Dedupe`] lets the first through and drops the second.
//!
//! Only records that can have a twin are held (*candidates*): both peers internal (ours or
//! private), an inner leg, or an egress record routed inside the VPC (`traffic-path` 1) to a
//! public peer (the instance side of a NAT-relayed flow). Internet-facing records are looked
//! up (a held inner leg finds its instance twin) but never held, so internet noise costs no
//! memory.
//!
//! Matching: a record is a twin when an entry with the same key from *another* interface has
//! a time within `dedupe_horizon` (default 1 minute) of its own. Keys carry the time bucket
//! (`time / horizon`); a lookup probes its bucket and the two neighbours, so a long connection
//! logged every minute on both interfaces pairs interval by interval.
//!
//! Bounded: entries live in two generations, each `max(horizon, 5 minutes)` of the largest
//! record time seen (one delivery interval, so the other interface's object read a little
//! later still finds them); when the time moves past a generation the older one is dropped
//! whole (no per-entry sweep). At most `min(dedupe_max_entries, dedupe_budget / 24 bytes)`
//! entries are held together; past that new candidates are not remembered (their twins
//! count twice, [`Dedupe::overflow`] says how often). Keys are 64-bit fingerprints (a false
//! match between two live flows has probability about n²/2⁶⁵), interfaces 32 bits.
//!
//! Cost per record: one seeded hash of the peers 5-tuple, then per generation one bit of a
//! summary of the flows it ever held (4 bits per entry, at most 256 KiB per generation, on
//! top of the budget): a clear bit skips that generation's lookups, so only a record whose
//! flow may be held probes the buckets (keys are used as their own table hash). The
//! interface fingerprint is reused while records come from one interface.
//!
//! What can still count twice: twins further apart than the horizon, a reply logged on the
//! instance before its relay's inner leg (the internet-facing reply is not held), and twins
//! refused while full. What can join two different flows: the same peers 5-tuple reused on
//! two interfaces within the horizon (rare: ephemeral ports).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use flowlog::{FlowDirection, TrafficPath};

use crate::flow::{Flow, ShortId};
use crate::middlebox::Leg;
use crate::rules::Settings;
use crate::sketch::mix64;

/// The tables' keys are already seeded 64-bit hashes (a per-process seeded hash of the
/// peers 5-tuple, mixed with the time bucket), so the table uses them as they are.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this hasher; anything else still hashes (FNV-1a).
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Table = HashMap<u64, (u32, u32), BuildHasherDefault<KeyHasher>>;

/// Bits of a generation's flow summary per entry the previous generation inserted, and
/// the most (2^21 bits, 256 KiB: larger summaries cost more in cache misses than their
/// fewer false positives save).
const SEEN_BITS_PER_ENTRY: usize = 4;
const SEEN_MAX_BITS: u32 = 21;

/// One generation: its entries and a one-bit-per-flow summary of them.
#[derive(Debug)]
struct Generation {
    table: Table,
    /// The peers 5-tuples (`base` hashes, every time bucket) this generation ever held: a
    /// bit set on insert and never cleared (a twin's removal leaves it), so a clear bit
    /// means no entry of this flow in any bucket and the lookups are skipped; a set bit
    /// only costs the lookups.
    seen: Vec<u64>,
    seen_shift: u32,
    /// Entries inserted since the generation started (sizes the next one's bits).
    inserted: usize,
}

impl Generation {
    /// Empty, with [`SEEN_BITS_PER_ENTRY`] bits per entry for `expected` entries (2^16 to
    /// 2^[`SEEN_MAX_BITS`] bits).
    fn new(expected: usize) -> Generation {
        let bits = expected
            .saturating_mul(SEEN_BITS_PER_ENTRY)
            .next_power_of_two()
            .clamp(1 << 16, 1 << SEEN_MAX_BITS);
        Generation {
            table: Table::default(),
            seen: vec![0; bits / 64],
            seen_shift: 64 - bits.trailing_zeros(),
            inserted: 0,
        }
    }

    #[inline]
    fn bit(&self, base: u64) -> (usize, u64) {
        let i = base >> self.seen_shift;
        ((i >> 6) as usize, 1 << (i & 63))
    }

    /// Whether an entry of this flow may be held (false: certainly not).
    #[inline]
    fn may_hold(&self, base: u64) -> bool {
        let (w, b) = self.bit(base);
        !self.table.is_empty() && self.seen[w] & b != 0
    }

    #[inline]
    fn insert(&mut self, base: u64, key: u64, value: (u32, u32)) {
        let (w, b) = self.bit(base);
        self.seen[w] |= b;
        self.table.insert(key, value);
        self.inserted += 1;
    }

    /// Drops every entry and starts over sized for `expected` entries (keeping the bits'
    /// memory when the size is the same).
    fn restart(&mut self, expected: usize) {
        let next = Generation::new(expected);
        self.table.clear();
        self.inserted = 0;
        if next.seen.len() == self.seen.len() {
            self.seen.fill(0);
        } else {
            self.seen = next.seen;
            self.seen_shift = next.seen_shift;
        }
    }
}

/// Bytes one held entry costs (key, interface, time and the table's overhead).
pub const ENTRY_BYTES: usize = 24;

/// Shortest generation: one flow-log delivery interval.
const MIN_GENERATION: u64 = 300;

/// Remembers one end of recent candidate flows.
#[derive(Debug)]
pub struct Dedupe {
    current: Generation,
    previous: Generation,
    hasher: foldhash::fast::RandomState,
    /// The last interface and its fingerprint (records come in runs of one interface: an
    /// object is one interface's log, or a few).
    last_iface: Option<(ShortId, u32)>,
    cap: usize,
    horizon: u64,
    generation: u64,
    /// Start of the current generation (event time).
    current_since: u64,
    /// Twins dropped.
    pub dropped: u64,
    /// Candidates not remembered because the table was full.
    pub overflow: u64,
    /// Candidates remembered (every insert).
    pub held: u64,
    /// Entries dropped with their generation, twin never seen.
    pub expired: u64,
    /// Most entries held at once.
    pub peak: usize,
}

impl Dedupe {
    /// From the pack's settings: `dedupe_horizon`, and the smaller of `dedupe_max_entries`
    /// and `dedupe_budget / ENTRY_BYTES`.
    pub fn from_settings(s: &Settings) -> Dedupe {
        let by_budget = usize::try_from(s.dedupe_budget).unwrap_or(usize::MAX) / ENTRY_BYTES;
        Dedupe::with_horizon(s.dedupe_max_entries.min(by_budget.max(1)), s.dedupe_horizon)
    }

    /// Holds at most `cap` flows, matching twins within `horizon` seconds.
    pub fn with_horizon(cap: usize, horizon: u64) -> Dedupe {
        let horizon = horizon.max(1);
        Dedupe {
            current: Generation::new(0),
            previous: Generation::new(0),
            hasher: foldhash::fast::RandomState::default(),
            last_iface: None,
            cap,
            horizon,
            generation: horizon.max(MIN_GENERATION),
            current_since: 0,
            dropped: 0,
            overflow: 0,
            held: 0,
            expired: 0,
            peak: 0,
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.current.table.len() + self.previous.table.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a record may have a twin (see the module docs).
    #[inline]
    pub fn candidate(f: &Flow) -> bool {
        f.leg == Leg::Inner
            || (f.src_internal && f.dst_internal)
            || (f.direction == Some(FlowDirection::Egress)
                && f.path == Some(TrafficPath::SameVpc)
                && f.src_internal)
    }

    fn rotate(&mut self, time: u64) {
        if self.current_since == 0 {
            self.current_since = time - time % self.generation;
            return;
        }
        if time < self.current_since + self.generation {
            return;
        }
        self.expired += self.previous.table.len() as u64;
        let expected = self.current.inserted;
        if time >= self.current_since + 2 * self.generation {
            self.expired += self.current.table.len() as u64;
            self.current.restart(0);
        }
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.restart(expected);
        self.current_since = time - time % self.generation;
    }

    /// Whether this record is the second end of a flow already seen.
    #[inline]
    pub fn is_twin(&mut self, f: &Flow) -> bool {
        let (Some((src, dst)), Some(iface), Some(time)) = (f.peers, &f.interface, f.time) else {
            return false;
        };
        let candidate = Dedupe::candidate(f);
        if !candidate && self.is_empty() {
            return false;
        }
        if time >= self.current_since + self.generation {
            self.rotate(time);
        }
        let iface = self.fingerprint(iface);
        let t32 = time.min(u64::from(u32::MAX)) as u32;
        let bucket = time / self.horizon;
        let base = self
            .hasher
            .hash_one((src, dst, f.sport, f.dport, f.protocol, f.action));
        let key_of = |b: u64| base ^ mix64(b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let own = key_of(bucket);
        // Every entry of the previous generation is older than the current one's start, so
        // a record more than a horizon past that start cannot match it (half the lookups of
        // most records).
        let previous_reachable = time <= self.current_since + self.horizon;
        let in_current = self.current.may_hold(base);
        let in_previous = previous_reachable && self.previous.may_hold(base);
        // Own bucket first, then the one before and the one after (each key computed only
        // when the earlier probes missed); a generation that never held this flow is not
        // searched.
        if in_current || in_previous {
            for step in 0..3 {
                let key = match step {
                    0 => own,
                    1 => key_of(bucket.wrapping_sub(1)),
                    _ => key_of(bucket + 1),
                };
                for (map, searched) in [
                    (&mut self.current.table, in_current),
                    (&mut self.previous.table, in_previous),
                ] {
                    if !searched {
                        continue;
                    }
                    if let Some(&(other, t)) = map.get(&key)
                        && other != iface
                        && u64::from(t).abs_diff(time) <= self.horizon
                    {
                        map.remove(&key);
                        self.dropped += 1;
                        return true;
                    }
                }
            }
        }
        if !candidate {
            return false;
        }
        if in_current && let Some(slot) = self.current.table.get_mut(&own) {
            *slot = (iface, t32);
            return false;
        }
        if self.len() >= self.cap {
            self.overflow += 1;
            return false;
        }
        self.current.insert(base, own, (iface, t32));
        self.held += 1;
        self.peak = self.peak.max(self.len());
        false
    }

    /// The interface's [`ShortId::fingerprint`], reused while records come from one
    /// interface.
    #[inline]
    fn fingerprint(&mut self, iface: &ShortId) -> u32 {
        match self.last_iface {
            Some((id, fp)) if id == *iface => fp,
            _ => {
                let fp = iface.fingerprint();
                self.last_iface = Some((*iface, fp));
                fp
            }
        }
    }

    /// Kept for the engine's call: generations rotate on record time inside
    /// [`Dedupe::is_twin`], so there is nothing to sweep.
    pub fn sweep(&mut self, _watermark: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use crate::rules::RulePack;
    use flowlog::Schema;

    const HEADER: &str = "interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action flow-direction traffic-path pkt-srcaddr pkt-dstaddr";

    /// The dedupe as it was before the one-probe-at-a-time lookup, the identity-hashed
    /// tables and the cached interface fingerprint: the reference its decisions must equal.
    mod old {
        use std::hash::BuildHasher;

        use flowlog::{FlowDirection, TrafficPath};

        use crate::flow::Flow;
        use crate::middlebox::Leg;
        use crate::sketch::{FastMap, fast_map, mix64};

        const MIN_GENERATION: u64 = 300;

        #[derive(Debug)]
        pub(super) struct OldDedupe {
            current: FastMap<u64, (u32, u32)>,
            previous: FastMap<u64, (u32, u32)>,
            hasher: foldhash::fast::RandomState,
            cap: usize,
            horizon: u64,
            generation: u64,
            current_since: u64,
            pub dropped: u64,
            pub overflow: u64,
            pub held: u64,
            pub expired: u64,
            pub peak: usize,
        }

        impl OldDedupe {
            pub fn with_horizon(cap: usize, horizon: u64) -> OldDedupe {
                let horizon = horizon.max(1);
                OldDedupe {
                    current: fast_map(),
                    previous: fast_map(),
                    hasher: foldhash::fast::RandomState::default(),
                    cap,
                    horizon,
                    generation: horizon.max(MIN_GENERATION),
                    current_since: 0,
                    dropped: 0,
                    overflow: 0,
                    held: 0,
                    expired: 0,
                    peak: 0,
                }
            }

            pub fn len(&self) -> usize {
                self.current.len() + self.previous.len()
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            #[inline]
            pub fn candidate(f: &Flow) -> bool {
                f.leg == Leg::Inner
                    || (f.src_internal && f.dst_internal)
                    || (f.direction == Some(FlowDirection::Egress)
                        && f.path == Some(TrafficPath::SameVpc)
                        && f.src_internal)
            }

            fn rotate(&mut self, time: u64) {
                if self.current_since == 0 {
                    self.current_since = time - time % self.generation;
                    return;
                }
                if time < self.current_since + self.generation {
                    return;
                }
                self.expired += self.previous.len() as u64;
                if time >= self.current_since + 2 * self.generation {
                    self.expired += self.current.len() as u64;
                    self.current.clear();
                }
                std::mem::swap(&mut self.previous, &mut self.current);
                self.current.clear();
                self.current_since = time - time % self.generation;
            }

            #[inline]
            pub fn is_twin(&mut self, f: &Flow) -> bool {
                let (Some((src, dst)), Some(iface), Some(time)) = (f.peers, &f.interface, f.time)
                else {
                    return false;
                };
                let candidate = OldDedupe::candidate(f);
                if !candidate && self.is_empty() {
                    return false;
                }
                if time >= self.current_since + self.generation {
                    self.rotate(time);
                }
                let iface = iface.fingerprint();
                let t32 = time.min(u64::from(u32::MAX)) as u32;
                let bucket = time / self.horizon;
                let base = self
                    .hasher
                    .hash_one((src, dst, f.sport, f.dport, f.protocol, f.action));
                let key_of = |b: u64| base ^ mix64(b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let own = key_of(bucket);
                let probes = [own, key_of(bucket.wrapping_sub(1)), key_of(bucket + 1)];
                // Every entry of the previous generation is older than the current one's start, so
                // a record more than a horizon past that start cannot match it (half the lookups of
                // most records).
                let previous_reachable = time <= self.current_since + self.horizon;
                for key in probes {
                    for (map, reachable) in [
                        (&mut self.current, true),
                        (&mut self.previous, previous_reachable),
                    ] {
                        if !reachable || map.is_empty() {
                            continue;
                        }
                        if let Some(&(other, t)) = map.get(&key)
                            && other != iface
                            && u64::from(t).abs_diff(time) <= self.horizon
                        {
                            map.remove(&key);
                            self.dropped += 1;
                            return true;
                        }
                    }
                }
                if !candidate {
                    return false;
                }
                if let Some(slot) = self.current.get_mut(&own) {
                    *slot = (iface, t32);
                    return false;
                }
                if self.len() >= self.cap {
                    self.overflow += 1;
                    return false;
                }
                self.current.insert(own, (iface, t32));
                self.held += 1;
                self.peak = self.peak.max(self.len());
                false
            }
        }
    }

    fn run(d: &mut Dedupe, lines: &[&str]) -> Vec<bool> {
        let pack = RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let cx = Classifier::new(&pack, false);
        let schema = Schema::from_header(HEADER).unwrap();
        lines
            .iter()
            .map(|l| d.is_twin(&cx.classify(&schema.decode(l).unwrap())))
            .collect()
    }

    #[test]
    fn decisions_equal_the_reference_dedupe_on_random_records() {
        let pack = RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let cx = Classifier::new(&pack, false);
        let schema = Schema::from_header(HEADER).unwrap();
        let addrs = [
            "10.0.1.5",
            "10.0.1.6",
            "10.0.2.7",
            "10.0.0.220",
            "203.0.113.5",
            "198.51.100.7",
        ];
        let pick = |h: u64, n: usize| (h % n as u64) as usize;
        for (cap, horizon) in [(40, 60), (100_000, 60), (100_000, 1), (500, 400)] {
            let (mut new, mut old) = (
                Dedupe::with_horizon(cap, horizon),
                old::OldDedupe::with_horizon(cap, horizon),
            );
            let (mut time, mut iface, mut twins) = (1_000u64, 0usize, 0);
            for i in 0..30_000u64 {
                let h = mix64(i ^ (cap as u64) << 20 ^ horizon);
                let r = |k: u32| mix64(h ^ u64::from(k));
                // Runs of one interface; time mostly creeping, sometimes jumping a generation.
                if r(0) % 8 == 0 {
                    iface = pick(r(1), 5);
                }
                time += match r(2) % 64 {
                    0 => 700,
                    1..=20 => 1,
                    _ => 0,
                };
                let start = (time + r(3) % 120).saturating_sub(60);
                let (src, dst) = (addrs[pick(r(4), 6)], addrs[pick(r(5), 6)]);
                let pkt = |k: u32, a: &'static str| {
                    if r(k) % 6 == 0 {
                        addrs[pick(r(k + 1), 6)]
                    } else {
                        a
                    }
                };
                let line = format!(
                    "eni-{iface} {src} {dst} {} {} {} 1 100 {start} {} {} {} {} {} {}",
                    [40000, 40001, 443][pick(r(6), 3)],
                    [5432, 443][pick(r(7), 2)],
                    [6, 17][pick(r(8), 2)],
                    start + 30,
                    ["ACCEPT", "REJECT"][pick(r(9), 2) & usize::from(r(9) % 5 == 0)],
                    ["egress", "ingress"][pick(r(10), 2)],
                    ["1", "-", "8"][pick(r(11), 3)],
                    pkt(12, src),
                    pkt(14, dst),
                );
                let flow = cx.classify(&schema.decode(&line).unwrap());
                let (a, b) = (new.is_twin(&flow), old.is_twin(&flow));
                assert_eq!(a, b, "record {i}: {line}");
                twins += usize::from(a);
            }
            let counters = |d: (u64, u64, u64, u64, usize, usize)| d;
            assert_eq!(
                counters((
                    new.dropped,
                    new.overflow,
                    new.held,
                    new.expired,
                    new.peak,
                    new.len()
                )),
                counters((
                    old.dropped,
                    old.overflow,
                    old.held,
                    old.expired,
                    old.peak,
                    old.len()
                )),
                "cap {cap} horizon {horizon}"
            );
            assert!(
                twins > 20 && new.held > 100,
                "cap {cap}: {twins} twins, {} held",
                new.held
            );
            if cap == 40 {
                assert!(new.overflow > 0);
            }
        }
    }

    #[test]
    fn twins_seconds_apart_match_once() {
        let mut d = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1007 1067 ACCEPT ingress - - -",
                "eni-c 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1008 1068 ACCEPT ingress - - -",
            ],
        );
        assert_eq!(got, [false, true, false]);
        assert_eq!((d.dropped, d.held), (1, 2));
    }

    #[test]
    fn same_interface_and_far_apart_are_not_twins() {
        let mut d = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1060 1120 ACCEPT egress 1 - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1400 1460 ACCEPT ingress - - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1400 1460 REJECT ingress - - -",
            ],
        );
        assert_eq!(got, [false; 4]);
    }

    #[test]
    fn long_connection_pairs_interval_by_interval() {
        let mut d = Dedupe::with_horizon(100, 60);
        let mut lines = Vec::new();
        for i in 0..5 {
            lines.push(format!(
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 {} {} ACCEPT egress 1 - -",
                1000 + i * 60,
                1060 + i * 60
            ));
        }
        for i in 0..5 {
            lines.push(format!(
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 {} {} ACCEPT ingress - - -",
                1003 + i * 60,
                1063 + i * 60
            ));
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let got = run(&mut d, &refs);
        assert_eq!(got.iter().filter(|t| **t).count(), 5, "{got:?}");
    }

    #[test]
    fn nat_inner_leg_is_the_instance_twin_and_internet_is_not_held() {
        let mut d = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut d,
            &[
                // Instance ENI, egress through the NAT (path 1), then the NAT's inner leg.
                "eni-i 10.0.1.5 203.0.113.5 40000 443 6 10 900 1000 1060 ACCEPT egress 1 10.0.1.5 203.0.113.5",
                "eni-n 10.0.1.5 10.0.0.220 40000 443 6 10 900 1004 1064 ACCEPT ingress - 10.0.1.5 203.0.113.5",
                // The outer leg has other peers: not a twin.
                "eni-n 10.0.0.220 203.0.113.5 9000 443 6 10 900 1004 1064 ACCEPT egress 8 10.0.0.220 203.0.113.5",
            ],
        );
        assert_eq!(got, [false, true, false]);
        let mut internet = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut internet,
            &[
                "eni-w 198.51.100.7 10.0.1.10 50000 443 6 10 900 1000 1060 ACCEPT ingress - - -",
                "eni-w 10.0.1.10 198.51.100.7 443 50000 6 10 900 1000 1060 ACCEPT egress 8 - -",
            ],
        );
        assert_eq!(got, [false, false]);
        assert_eq!((internet.peak, internet.held), (0, 0));
    }

    #[test]
    fn twins_across_a_generation_start_match() {
        // Generations of 300 s: [900, 1200) then [1200, 1500). The second end arrives just
        // after the start (the previous generation is still searched), a later flow's well
        // after it (only the current one is).
        let mut d = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1195 1255 ACCEPT egress 1 - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1230 1290 ACCEPT ingress - - -",
                "eni-a 10.0.1.5 10.0.2.7 40000 5432 6 10 900 1290 1350 ACCEPT egress 1 - -",
                "eni-b 10.0.1.5 10.0.2.7 40000 5432 6 10 900 1300 1360 ACCEPT ingress - - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1300 1360 ACCEPT ingress - - -",
            ],
        );
        assert_eq!(got, [false, true, false, true, false]);
    }

    #[test]
    fn generations_expire_and_the_cap_holds() {
        let mut d = Dedupe::with_horizon(2, 60);
        let got = run(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
                "eni-a 10.0.1.5 10.0.2.7 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
                "eni-a 10.0.1.5 10.0.2.8 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
            ],
        );
        assert_eq!(got, [false; 3]);
        assert_eq!((d.held, d.overflow, d.peak), (2, 1, 2));
        // Two generations later everything is gone.
        run(
            &mut d,
            &["eni-a 10.0.9.5 10.0.9.6 1 2 6 1 1 2000 2001 ACCEPT egress 1 - -"],
        );
        assert_eq!(d.expired, 2);
        assert_eq!(d.len(), 1);
    }
}
