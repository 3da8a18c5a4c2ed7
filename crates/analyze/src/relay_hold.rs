//! [`RelayHold`]: records that may be a NAT's outer legs, held by the counting half until it
//! knows whether their interface relays for the internet.
//!
//! A NAT gateway that is neither declared (`networks.nat_gateways`) nor discovered is learned
//! from its first inner leg ([`Middleboxes::learn`]). Its outer legs read before that inner
//! leg (its own address ↔ the internet, on its own interface) used to be counted as traffic,
//! so the same bytes counted twice, and the NAT became a top talker, depending on the order
//! of records inside an object. A record that could be such an outer leg
//! ([`Middleboxes::may_become_relay_view`]: on a requester-managed interface, `instance-id`
//! `-`, one internal end on a port >= 1024, not yet a known relay) is held here, not counted,
//! until:
//! - the records read reach `span` seconds past its start (the pack's
//!   `allowed_lateness`: an inner leg of the same connections is logged in the same
//!   aggregation windows, on the same interface), or the hold is full
//!   ([`RelayHold::CAP`] records, the oldest go first), or the run ends; then
//! - it is a relay view if its interface's address is now a relay for the internet
//!   (`totals.relayed`), and counted traffic otherwise (a Lambda's or Fargate task's own
//!   connections: requester-managed too).
//!
//! The detectors see held records when they arrive (a relay view reaches them too). Records
//! counted after their hold whose address was later learned as a NAT are tallied per
//! address ([`RelayHold::counted_before_known`]), so the run's limits say how many were
//! counted twice and what to declare.

use std::collections::VecDeque;

use crate::addr::Addr;
use crate::flow::Flow;
use crate::middlebox::Middleboxes;
use crate::sketch::{FastMap, fast_map};

/// The held records and what became of those released.
#[derive(Debug)]
pub struct RelayHold {
    held: VecDeque<Flow>,
    span: u64,
    max_time: u64,
    /// Records released as traffic, per interface address (at most [`RelayHold::ADDRS`]
    /// addresses; an estate has far fewer requester-managed interfaces).
    counted: FastMap<Addr, u64>,
    /// Most records held at once.
    pub peak: usize,
    /// Records released as traffic early because the hold was full.
    pub overflow: u64,
}

/// What the run's limits say about held records (see [`RelayHold::counted_before_known`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountedBeforeKnown {
    /// Records counted as traffic whose interface was later learned as a NAT.
    pub records: u64,
    /// The addresses they were logged on.
    pub relays: usize,
}

impl RelayHold {
    /// Most records held at once (192 bytes each: ~12 MiB).
    pub const CAP: usize = 65_536;
    /// Most addresses tallied.
    pub const ADDRS: usize = 65_536;

    /// A hold that keeps records until the records read reach `span` seconds past them.
    pub fn new(span: u64) -> RelayHold {
        RelayHold {
            held: VecDeque::new(),
            span: span.max(1),
            max_time: 0,
            counted: fast_map(),
            peak: 0,
            overflow: 0,
        }
    }

    /// Holds a record (it has a time: [`Middleboxes::may_become_relay_view`]).
    pub fn hold(&mut self, f: &Flow) {
        self.held.push_back(f.clone());
        self.peak = self.peak.max(self.held.len());
    }

    /// Moves the time read to `t` and releases what is due: records held for
    /// `span` seconds past their start, and the oldest beyond
    /// [`RelayHold::CAP`]. Each is passed to `release` with whether it is a relay view.
    #[inline]
    pub fn advance(
        &mut self,
        t: Option<u64>,
        relays: &Middleboxes,
        release: &mut impl FnMut(&Flow, bool),
    ) {
        if let Some(t) = t {
            self.max_time = self.max_time.max(t);
        }
        if self.held.is_empty() {
            return;
        }
        while let Some(f) = self.held.front() {
            let due = f.time.unwrap_or(0).saturating_add(self.span) <= self.max_time;
            let full = self.held.len() > Self::CAP;
            if !due && !full {
                break;
            }
            if full && !due {
                self.overflow += 1;
            }
            let f = self.held.pop_front().expect("front");
            self.release_one(&f, relays, release);
        }
    }

    /// Releases everything held (the run ended).
    pub fn release_all(&mut self, relays: &Middleboxes, release: &mut impl FnMut(&Flow, bool)) {
        while let Some(f) = self.held.pop_front() {
            self.release_one(&f, relays, release);
        }
    }

    fn release_one(
        &mut self,
        f: &Flow,
        relays: &Middleboxes,
        release: &mut impl FnMut(&Flow, bool),
    ) {
        let view = relays.relay_view(f);
        if !view && let Some(addr) = Middleboxes::relay_end(f) {
            let room = self.counted.len() < Self::ADDRS;
            match self.counted.get_mut(&addr) {
                Some(n) => *n += 1,
                None if room => {
                    self.counted.insert(addr, 1);
                }
                None => {}
            }
        }
        release(f, view);
    }

    /// Records counted as traffic after their hold whose interface is now known to relay
    /// for the internet: a NAT's outer legs read more than `span` seconds (or
    /// [`RelayHold::CAP`] records) before its first inner leg, so counted twice.
    pub fn counted_before_known(&self, relays: &Middleboxes) -> CountedBeforeKnown {
        let mut out = CountedBeforeKnown::default();
        for (&addr, &n) in &self.counted {
            if relays.relays_for_internet(addr) {
                out.records += n;
                out.relays += 1;
            }
        }
        out
    }
}
