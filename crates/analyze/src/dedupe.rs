//! Double-ended flows: a flow between two logged interfaces is recorded twice (egress at one
//! end, ingress at the other) with the same 5-tuple, start, end and action but different
//! `interface-id`s. [`Dedupe`] lets the first through and drops the second.
//!
//! Bounded: it keeps one 64-bit fingerprint (16 bytes with its interface and time) per
//! waiting flow, drops an entry as soon as its
//! twin arrives, forgets entries once their time falls behind the watermark (their twin,
//! if it comes now, is later than `allowed_lateness` promised), and holds at most
//! `dedupe_max_entries`; past that new flows are not remembered (their twins are counted
//! twice, and [`Dedupe::overflow`] says how often). Fingerprints are 64 bits (a false match
//! between two live flows has probability about n²/2⁶⁵), interfaces 32 bits.

use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use crate::flow::Flow;
use crate::sketch::{FastMap, fast_map};

/// Remembers one end of recent flows.
#[derive(Debug)]
pub struct Dedupe {
    waiting: FastMap<u64, (u32, u32)>,
    hasher: foldhash::fast::RandomState,
    cap: usize,
    swept_at: u64,
    /// Twins dropped.
    pub dropped: u64,
    /// Flows not remembered because the table was full.
    pub overflow: u64,
    /// Most entries held at once.
    pub peak: usize,
}

impl Dedupe {
    /// Holds at most `cap` flows.
    pub fn new(cap: usize) -> Dedupe {
        Dedupe {
            waiting: fast_map(),
            hasher: foldhash::fast::RandomState::default(),
            cap,
            swept_at: 0,
            dropped: 0,
            overflow: 0,
            peak: 0,
        }
    }

    /// Whether this record is the second end of a flow already seen.
    #[inline]
    pub fn is_twin(&mut self, f: &Flow) -> bool {
        let (Some((src, dst)), Some(iface), Some(time)) = (f.addrs, &f.interface, f.time) else {
            return false;
        };
        let key = self.hasher.hash_one((
            src,
            dst,
            f.sport,
            f.dport,
            f.protocol,
            f.raw_times,
            f.action,
        ));
        let iface = iface.fingerprint();
        let full = self.waiting.len() >= self.cap;
        match self.waiting.entry(key) {
            Entry::Occupied(e) if e.get().0 != iface => {
                e.remove();
                self.dropped += 1;
                true
            }
            Entry::Occupied(_) => false,
            Entry::Vacant(_) if full => {
                self.overflow += 1;
                false
            }
            Entry::Vacant(v) => {
                v.insert((iface, time.min(u64::from(u32::MAX)) as u32));
                self.peak = self.peak.max(self.waiting.len());
                false
            }
        }
    }

    /// Forgets flows older than the watermark (at most once per minute of event time).
    pub fn sweep(&mut self, watermark: u64) {
        if watermark >= self.swept_at + 60 {
            self.swept_at = watermark;
            self.waiting.retain(|_, (_, t)| u64::from(*t) >= watermark);
        }
    }
}
