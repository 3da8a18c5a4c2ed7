//! [`ProbeState`]: the keyed window state of port scans and host sweeps. A [`Windowed`]
//! index maps each key to its place in the window's slab of [`Probed`] values, appended in
//! key-creation order.
//!
//! Most keys of these detectors are created by one probe and judged once at the close (a
//! few thousand per window), and most records only look a key up and find none. A map of
//! whole values (~300 bytes each) spreads them over megabytes: every new key costs cache
//! misses at a random bucket, and growing the table moves every value. Here the table holds
//! only keys and indices (small enough to stay cached), new values are written one after
//! the other, and a closed window's slab is kept for the next one. Keys, caps, the gate and
//! the statistics are the index's, so they are those of a map of values.
//!
//! Every key belongs to a client, and each window keeps one bit per client hash
//! ([`CLIENT_BITS`], set when a key of the client is created): a lookup whose client bit is
//! clear has no key, and skips the index (most replies are of clients that probed nothing).

use std::collections::VecDeque;
use std::hash::Hash;

use super::probing::{Budgeted, Probed};
use super::{DetectorStats, Rule};
use crate::sketch::Countable;
use crate::time::window_start;
use crate::window::Windowed;

/// Bits of a window's client filter, as a power of two (2^16 bits: 8 KiB, which stays in
/// the first-level cache; with 4 k clients in a window ≈ 6% of other clients' bits are set).
const CLIENT_BITS: u32 = 16;

/// One open window's values and client filter.
struct Slab<T: Countable + Default> {
    start: u64,
    values: Vec<Probed<T>>,
    clients: Box<[u64]>,
}

impl<T: Countable + Default> Slab<T> {
    /// The word and bit of a client hash.
    #[inline]
    fn bit(client: u64) -> (usize, u64) {
        let b = client >> (64 - CLIENT_BITS);
        ((b >> 6) as usize, 1 << (b & 63))
    }

    /// Whether a key of this client may exist (never false when one does).
    #[inline]
    fn may_have(&self, client: u64) -> bool {
        let (w, b) = Self::bit(client);
        self.clients[w] & b != 0
    }
}

/// Keyed state per open window, values in per-window slabs (see the module docs).
pub struct ProbeState<K, T: Countable + Default> {
    index: Windowed<K, usize>,
    /// Open windows' slabs, in start order.
    slabs: VecDeque<Slab<T>>,
    /// An emptied slab kept for the next window.
    spare: Option<Slab<T>>,
    size: u64,
}

impl<K: Hash + Eq, T: Countable + Default> ProbeState<K, T> {
    /// State for `rule`: the cap is what a map of keys and values would get from the rule's
    /// budget (`heap` bytes per value on top; values at their [`Budgeted`] size), the gate
    /// admits at `rule.promote_at`.
    pub fn new(rule: &Rule, heap: usize) -> Self {
        let cap = rule.windowed::<K, Budgeted<T>>(heap).cap();
        ProbeState {
            index: Windowed::new(rule.window, cap).with_gate(rule.promote_at),
            slabs: VecDeque::new(),
            spare: None,
            size: rule.window.max(1),
        }
    }

    /// The slab of the window starting at `start` (created if new).
    #[inline]
    fn slab<'a>(
        slabs: &'a mut VecDeque<Slab<T>>,
        spare: &mut Option<Slab<T>>,
        start: u64,
    ) -> &'a mut Slab<T> {
        let i = match slabs.iter().rposition(|s| s.start <= start) {
            Some(i) if slabs[i].start == start => i,
            found => {
                let i = found.map_or(0, |i| i + 1);
                let slab = match spare.take() {
                    Some(mut s) => {
                        s.start = start;
                        s.clients.fill(0);
                        s
                    }
                    None => Slab {
                        start,
                        values: Vec::new(),
                        clients: vec![0; 1 << (CLIENT_BITS - 6)].into_boxed_slice(),
                    },
                };
                slabs.insert(i, slab);
                i
            }
        };
        &mut slabs[i]
    }

    /// The state of `key` (of the client whose [`crate::sketch::hash_addr`] is `client`) in
    /// the window holding `t`, created by `init` if new (`init` gets the records the gate
    /// held back). A key from an internet-sized space passes its `gate` hash (see
    /// [`Windowed::slot_gated`]); `None` for a key without a gate. `None` when the record is
    /// late, the key refused or held.
    #[inline]
    pub fn slot(
        &mut self,
        t: u64,
        key: K,
        client: u64,
        gate: Option<u64>,
        init: impl FnOnce(u32) -> Probed<T>,
    ) -> Option<&mut Probed<T>> {
        let mut fresh = None;
        let (start, at) = match gate {
            Some(h) => self.index.slot_gated(t, key, h, |held| {
                fresh = Some(held);
                usize::MAX
            })?,
            None => self.index.slot(t, key, || {
                fresh = Some(0);
                usize::MAX
            })?,
        };
        let slab = Self::slab(&mut self.slabs, &mut self.spare, start);
        if let Some(held) = fresh {
            *at = slab.values.len();
            slab.values.push(init(held));
            let (w, b) = Slab::<T>::bit(client);
            slab.clients[w] |= b;
        }
        slab.values.get_mut(*at)
    }

    /// The state of `key` (of the client whose hash is `client`) in the window holding `t`
    /// if it exists (see [`Windowed::get`]).
    #[inline]
    pub fn get(&mut self, t: u64, key: &K, client: u64) -> Option<&mut Probed<T>> {
        let start = window_start(t, self.size);
        let i = self.slabs.iter().rposition(|s| s.start == start)?;
        if !self.slabs[i].may_have(client) {
            return None;
        }
        let at = *self.index.get(t, key)?;
        self.slabs[i].values.get_mut(at)
    }

    /// The end of the oldest open window, if any.
    pub fn next_close(&self) -> Option<u64> {
        self.index.next_close()
    }

    /// Closes every window ending at or before `watermark` (all for `u64::MAX`), handing
    /// each key with its state and window start to `f`: windows oldest first, keys in the
    /// order they were created.
    pub fn close(&mut self, watermark: u64, mut f: impl FnMut(u64, K, Probed<T>)) {
        let (slabs, spare) = (&mut self.slabs, &mut self.spare);
        self.index.close(watermark, |start, map| {
            let Some(i) = slabs.iter().position(|s| s.start == start) else {
                return; // no key was created in it
            };
            let mut slab = slabs.remove(i).expect("found");
            let mut keys: Vec<Option<K>> = std::iter::repeat_with(|| None)
                .take(slab.values.len())
                .collect();
            for (k, at) in map {
                if let Some(slot) = keys.get_mut(at) {
                    *slot = Some(k);
                }
            }
            for (k, v) in keys.into_iter().zip(slab.values.drain(..)) {
                if let Some(k) = k {
                    f(start, k, v);
                }
            }
            if watermark != u64::MAX
                && spare
                    .as_ref()
                    .is_none_or(|s| s.values.capacity() < slab.values.capacity())
            {
                *spare = Some(slab);
            }
        });
        if watermark == u64::MAX {
            *spare = None; // the end: nothing will reuse it
        }
    }

    /// Statistics (`extra` bytes held beside the state): the index's, with the values'
    /// bytes added.
    pub fn stats(&self, rule: &Rule, findings: u64, extra: usize) -> DetectorStats {
        let mut s = rule.stats(&self.index, findings, extra);
        s.bytes += self.index.live() * std::mem::size_of::<Probed<T>>();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::super::targets::TOUCHED;
    use super::*;
    use crate::addr::Addr;

    /// The state as a map of values holds it (the reference): same keys, same values, same
    /// refusals and late records, on random keys, times and closes.
    #[test]
    fn matches_a_map_of_values_on_random_input() {
        let yaml = "version: 1\ndetectors:\n  - {id: s, detector: port_scan, severity: low, window: 5m, min_ports: 5, max_keys: 300}\n";
        let pack = crate::rules::RulePack::from_yaml(yaml).expect("pack");
        let rule = Rule::new(&pack.detectors[0], &pack, 1 << 20);
        let mut ours: ProbeState<(u32, u32), Addr> = ProbeState::new(&rule, 64);
        let mut reference: Windowed<(u32, u32), Probed<Addr>> = rule.windowed(64);
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            x = crate::sketch::mix64(x);
            x
        };
        let (mut t, mut got, mut want) = (0u64, Vec::new(), Vec::new());
        for i in 0..200_000u64 {
            let r = next();
            t = (t + r % 3).saturating_sub(u64::from(r.is_multiple_of(997)) * 400);
            let key = ((r >> 8) as u32 % 40, (r >> 20) as u32 % 25);
            let target = Addr(u128::from((r >> 32) % 50));
            if r.is_multiple_of(5) {
                let a = ours
                    .get(t, &key, client(key))
                    .map(|s| s.targets.add(target, TOUCHED));
                let b = reference
                    .get(t, &key)
                    .map(|s| s.targets.add(target, TOUCHED));
                assert_eq!(a, b, "get {i}");
            } else {
                let init = |held| Probed {
                    held,
                    public: r.is_multiple_of(2),
                    ..Probed::default()
                };
                let a = ours.slot(t, key, client(key), None, init).map(|s| {
                    s.tally.flows += 1;
                    s.targets.add(target, TOUCHED)
                });
                let b = reference.slot(t, key, || init(0)).map(|(_, s)| {
                    s.tally.flows += 1;
                    s.targets.add(target, TOUCHED)
                });
                assert_eq!(a, b, "slot {i}");
            }
            if r.is_multiple_of(1000) {
                ours.close(t.saturating_sub(60), |s, k, v| got.push(summary(s, k, &v)));
                reference.close(t.saturating_sub(60), |s, m| {
                    want.extend(m.into_iter().map(|(k, v)| summary(s, k, &v)));
                });
            }
            assert_eq!(ours.next_close(), reference.next_close());
        }
        ours.close(u64::MAX, |s, k, v| got.push(summary(s, k, &v)));
        reference.close(u64::MAX, |s, m| {
            want.extend(m.into_iter().map(|(k, v)| summary(s, k, &v)));
        });
        got.sort_unstable();
        want.sort_unstable();
        assert!(want.len() > 1000, "{}", want.len());
        assert_eq!(got, want);
        let (a, b) = (ours.stats(&rule, 0, 0), rule.stats(&reference, 0, 0));
        assert_eq!(
            (a.peak_keys, a.max_keys, a.refused_keys, a.late_records),
            (b.peak_keys, b.max_keys, b.refused_keys, b.late_records)
        );
        assert!(a.refused_keys > 0 && a.late_records > 0, "{a:?}");
    }

    /// The key's client hash: its first part, hashed (few bits, so the client filter has
    /// false positives too).
    fn client(key: (u32, u32)) -> u64 {
        crate::sketch::hash_addr(Addr(u128::from(key.0)))
    }

    type Summary = (u64, (u32, u32), u64, Vec<Addr>, u32, bool);

    fn summary(start: u64, key: (u32, u32), v: &Probed<Addr>) -> Summary {
        (
            start,
            key,
            v.tally.flows,
            v.targets.sample(TOUCHED).to_vec(),
            v.held,
            v.public,
        )
    }
}
