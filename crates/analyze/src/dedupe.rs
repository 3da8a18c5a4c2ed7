//! Double-ended flows: a flow between two logged interfaces is recorded at both (egress at
//! one end, ingress at the other), and a flow relayed by a NAT gateway or another middlebox
//! is recorded at the instance's interface and on the relay's inner leg. The twins share the
//! peers 5-tuple (`pkt-srcaddr ?? srcaddr`, ..., protocol) and the action but not the
//! interface. [`Dedupe`] counts each such flow at one interface only: the first interface a
//! flow's records come from *owns* it, and records of the same flow from any other interface
//! are dropped while the flow is alive.
//!
//! Why ownership and not record-by-record pairing: each interface aggregates on its own clock
//! (AWS's default is 10-minute intervals), so the two ends cut a long flow at different
//! moments. Their records neither start together nor carry the same bytes, and pairing them
//! one by one counts edge intervals twice (and a flow logged every minute at one end and every
//! 10 minutes at the other about twice). Counting one end whole is exact.
//!
//! Only records that can have a twin are held (*candidates*): both peers internal (ours or
//! private), an inner leg, a record from an internal source to a public peer that may be
//! the instance side of a NAT-relayed flow (egress routed inside the VPC, `traffic-path` 1,
//! or a log without `traffic-path`, where that cannot be told), or a public server's reply
//! to an internal client (the initiator is the destination; not egress), which may be the
//! instance side of a download through a NAT read before the NAT's inner leg. Other
//! internet-facing records (a scanner's probes, an internet client's requests to our
//! servers) are looked up (a held inner leg finds its instance twin) but never held, so
//! internet noise costs no memory.
//!
//! Alive: an entry remembers its owner and the latest time any end of the flow was seen. A
//! record from another interface is a twin unless it starts more than `dedupe_horizon`
//! (default 10 minutes: one default aggregation interval) after that time — then it is a new
//! flow reusing the 5-tuple, and its interface owns it. A flow is remembered after it closed
//! (FIN or RST at every end) for as long as any other: the records of one object come in no
//! order, and objects of different interfaces interleave, so an earlier interval of one end,
//! or the third and fourth views of a flow through a transit gateway, can come after both
//! ends' closing records (forgetting the flow at its close counted those again: a 0.6 GiB
//! upload through a NAT read as 1.1 GiB, a false high exfiltration). On the 10 M benchmark
//! this holds at most ~50,000 entries at once (~20,000 when closed flows were forgotten).
//!
//! Bounded: entries live in two generations, each `max(horizon, 5 minutes)` of the largest
//! record time seen; an entry met in the older generation moves to the current one, and when
//! the time moves past a generation the older one is dropped whole (no per-entry sweep), so a
//! flow not seen for two generations is forgotten. At most `min(dedupe_max_entries,
//! dedupe_budget / 24 bytes)` entries are held together; past that new candidates are not
//! remembered (their twins count twice, [`Dedupe::overflow`] says how often). Keys are 64-bit
//! fingerprints (a false match between two live flows has probability about n²/2⁶⁵),
//! interfaces 32 bits.
//!
//! **Sources that cover the same hours.** Per-interface exports read one after another
//! (`src/analyze/time_order.rs` orders them by their first records) each span the run: the
//! second file's records are hours behind the first's last, and generations moved by the
//! first file had forgotten its early flows (a both-ends export of 1,200 flows counted 2,267,
//! no limit said so). While such a source is read, the engine gives the dedupe its hold
//! ([`Dedupe::hold`]): generations move no further than the earliest record of the sources
//! still to come (strays included: [`crate::Hold::earliest`]), and once any source was held,
//! a generation's end drops the entries not seen for a generation (a sweep by last time)
//! instead of the older generation whole, so a later source finds the earlier one's flows of
//! the same hours. The cost is memory, bounded by the
//! same cap (a refused candidate is [`Dedupe::overflow`], reported).
//!
//! **One interface, two flow logs.** An interface can be logged by more than one flow log
//! (a VPC-wide one and a subnet's, an organisation's and a team's), and then every record
//! of it comes twice. The caller says which flow log each record came from (`log`, from the
//! object's AWS name or the CloudWatch log group; 0 when that is unknown, which is one log)
//! and the owner is the (interface, log) pair, so a second log's view of a flow is a twin
//! like another interface's. Once an interface has shown records of two logs, every later
//! record of it is a candidate, internet-facing ones too (an upload through an internet
//! gateway would otherwise count twice). Records of the first log read before the second log
//! was met were not all held, so a flow in progress then may count one aggregation interval
//! twice; [`Dedupe::logged_twice`] counts such interfaces (the run says so).
//!
//! What can still count twice: a reply whose client side nothing in the record tells (no
//! SYN in `tcp-flags`, and the ports do not decide: see `initiator`) logged on the instance
//! before its relay's inner leg, a flow whose ends are further apart than the horizon, and
//! twins refused while full. A NAT's public side (its outer leg) is a separate 5-tuple; the
//! engine counts it as a relay view, not here. What can join two different flows: the same
//! peers 5-tuple on two interfaces within the horizon (in practice only the two ends of one flow:
//! the source address and port are one host's, unless two VPCs reuse one address range).

use std::hash::BuildHasher;

use flowlog::{FlowDirection, TrafficPath};

use crate::flow::{Flow, ShortId};
use crate::initiator::Initiator;
use crate::middlebox::Leg;
use crate::rules::Settings;
use crate::sketch::{FastMap, fast_map, mix64};

/// Bytes one held entry costs (key, interface, time and the table's overhead).
pub const ENTRY_BYTES: usize = 24;

/// Shortest generation: one flow-log delivery interval.
const MIN_GENERATION: u64 = 300;

/// The owner of a live flow (its interface's fingerprint) and the latest time any end of it
/// was seen.
#[derive(Clone, Copy, Debug)]
struct Entry {
    owner: u32,
    last: u32,
}

impl Entry {
    /// A record of this entry's 5-tuple from `iface` at `t`: whether it is a twin.
    fn see(&mut self, iface: u32, t: u32, horizon: u64) -> bool {
        if self.owner != iface && u64::from(t) > u64::from(self.last) + horizon {
            // The 5-tuple again, long after its flow was last seen: a new flow.
            *self = Entry {
                owner: iface,
                last: t,
            };
            return false;
        }
        self.last = self.last.max(t);
        self.owner != iface
    }
}

/// The first flow log an interface's records came from, and whether a second one was seen.
#[derive(Clone, Copy, Debug)]
struct LoggedBy {
    first: u32,
    twice: bool,
}

/// The interfaces logged by more than one flow log.
#[derive(Clone, Debug, Default)]
pub struct LoggedTwice {
    /// How many interfaces.
    pub interfaces: u64,
    /// The first few of them.
    pub examples: Vec<ShortId>,
}

/// How many interfaces [`LoggedTwice::examples`] names.
const LOGGED_TWICE_EXAMPLES: usize = 3;

/// Remembers the owning interface of recent candidate flows.
#[derive(Debug)]
pub struct Dedupe {
    /// Per interface fingerprint, the flow logs seen (only records with a known log).
    logs: FastMap<u32, LoggedBy>,
    /// Interfaces logged by two flow logs.
    pub logged_twice: LoggedTwice,
    current: FastMap<u64, Entry>,
    previous: FastMap<u64, Entry>,
    hasher: foldhash::fast::RandomState,
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
    /// Entries dropped with their generation.
    pub expired: u64,
    /// Most entries held at once.
    pub peak: usize,
    /// The earliest record time of the sources after the one being read, when it is held
    /// ([`Dedupe::hold`]): generations do not move past it.
    later: Option<u64>,
    /// Whether any source was held: generations then end by a sweep of last times.
    sweep: bool,
}

impl Dedupe {
    /// From the pack's settings: `dedupe_horizon`, and the smaller of `dedupe_max_entries`
    /// and `dedupe_budget / ENTRY_BYTES`.
    pub fn from_settings(s: &Settings) -> Dedupe {
        let by_budget = usize::try_from(s.dedupe_budget).unwrap_or(usize::MAX) / ENTRY_BYTES;
        Dedupe::with_horizon(s.dedupe_max_entries.min(by_budget.max(1)), s.dedupe_horizon)
    }

    /// Holds at most `cap` flows, alive for `horizon` seconds after their ends were last seen.
    pub fn with_horizon(cap: usize, horizon: u64) -> Dedupe {
        let horizon = horizon.max(1);
        Dedupe {
            logs: fast_map(),
            logged_twice: LoggedTwice::default(),
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
            later: None,
            sweep: false,
        }
    }

    /// The records that follow come from a source that may cover the same hours as those
    /// before it (`Some`), the sources after it starting at `later`; `None`: sources in time
    /// order. See the module docs.
    pub fn hold(&mut self, held: Option<Option<u64>>) {
        self.sweep |= held.is_some();
        self.later = held.flatten();
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
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
            || (f.src_internal
                && f.direction != Some(FlowDirection::Ingress)
                && matches!(f.path, Some(TrafficPath::SameVpc) | None))
            || (f.dst_internal
                && f.initiator == Initiator::Dst
                && f.direction != Some(FlowDirection::Egress))
    }

    fn rotate(&mut self, time: u64) {
        if self.current_since == 0 {
            self.current_since = time - time % self.generation;
            return;
        }
        if time < self.current_since + self.generation {
            return;
        }
        if self.sweep {
            // Entries of an earlier source may be newer than this one's records: keep what
            // was seen within a generation of the new one's start, whichever map holds it.
            let since = time - time % self.generation;
            let keep = since.saturating_sub(self.generation);
            let before = self.len();
            for map in [&mut self.current, &mut self.previous] {
                map.retain(|_, e| u64::from(e.last) >= keep);
            }
            self.expired += (before - self.len()) as u64;
            self.current_since = since;
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

    /// Learns that `iface` (a fingerprint) is logged by `log` (0: unknown, learns nothing).
    /// Returns whether the interface is logged by two flow logs, and the owner to record:
    /// the interface itself for its first log (and for unknown logs, as before any second
    /// log was known, so entries made then keep their owner), else the (interface, log) pair.
    #[inline]
    fn owner(&mut self, iface: u32, id: &ShortId, log: u32) -> (bool, u32) {
        if log == 0 {
            return (false, iface);
        }
        let by = self.logs.entry(iface).or_insert(LoggedBy {
            first: log,
            twice: false,
        });
        if by.first == log {
            return (by.twice, iface);
        }
        if !by.twice {
            by.twice = true;
            self.logged_twice.interfaces += 1;
            if self.logged_twice.examples.len() < LOGGED_TWICE_EXAMPLES {
                self.logged_twice.examples.push(*id);
            }
        }
        (true, mix64(u64::from(iface) << 32 | u64::from(log)) as u32)
    }

    /// Whether this record is another view of a flow already seen (another interface's, or
    /// another flow log's of the same interface: `log` names the record's flow log, 0 when
    /// unknown; see the module docs); it then updates the flow's last time.
    #[inline]
    pub fn is_twin(&mut self, f: &Flow, log: u32) -> bool {
        let (Some((src, dst)), Some(id), Some(time)) = (f.peers, &f.interface, f.time) else {
            return false;
        };
        let (shared, iface) = self.owner(id.fingerprint(), id, log);
        let candidate = shared || Dedupe::candidate(f);
        if !candidate && self.is_empty() {
            return false;
        }
        // A held source moves generations no further than the start of the sources after it.
        let moved = self.later.map_or(time, |l| time.min(l));
        if moved >= self.current_since + self.generation {
            self.rotate(moved);
        }
        let t32 = time.min(u64::from(u32::MAX)) as u32;
        let key = self
            .hasher
            .hash_one((src, dst, f.sport, f.dport, f.protocol, f.action));
        if let Some(e) = self.current.get_mut(&key) {
            let twin = e.see(iface, t32, self.horizon);
            self.dropped += u64::from(twin);
            return twin;
        }
        if !self.previous.is_empty()
            && let Some(mut e) = self.previous.remove(&key)
        {
            // Still alive: it moves to the current generation (same count held).
            let twin = e.see(iface, t32, self.horizon);
            self.current.insert(key, e);
            self.dropped += u64::from(twin);
            return twin;
        }
        if !candidate {
            return false;
        }
        if self.len() >= self.cap {
            self.overflow += 1;
            return false;
        }
        self.current.insert(
            key,
            Entry {
                owner: iface,
                last: t32,
            },
        );
        self.held += 1;
        self.peak = self.peak.max(self.len());
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use crate::rules::RulePack;
    use flowlog::Schema;

    const HEADER: &str = "interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action flow-direction traffic-path pkt-srcaddr pkt-dstaddr";
    const HEADER_NO_FLAGS: &str =
        "interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action";

    /// [`run`] with `tcp-flags` after `action`.
    fn run_flags(d: &mut Dedupe, lines: &[&str]) -> Vec<bool> {
        run_with(
            d,
            &format!(
                "{HEADER_NO_FLAGS} tcp-flags flow-direction traffic-path pkt-srcaddr pkt-dstaddr"
            ),
            lines,
        )
    }

    fn run(d: &mut Dedupe, lines: &[&str]) -> Vec<bool> {
        run_with(d, HEADER, lines)
    }

    fn run_with(d: &mut Dedupe, header: &str, lines: &[&str]) -> Vec<bool> {
        let pack = RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let cx = Classifier::new(&pack, false);
        let schema = Schema::from_header(header).unwrap();
        lines
            .iter()
            .map(|l| d.is_twin(&cx.classify(&schema.decode(l).unwrap()), 0))
            .collect()
    }

    /// Two sources of the same three hours read one after another: held, the first one's
    /// flows are kept until the second has passed them, then swept.
    #[test]
    fn a_held_source_keeps_its_flows_for_the_sources_after_it() {
        let line = |eni: &str, i: u64| {
            format!(
                "{eni} 10.0.1.5 10.0.2.6 {} 5432 6 10 900 {} {} ACCEPT - - - -",
                40000 + i,
                1_800_000_000 + i * 60,
                1_800_000_060 + i * 60
            )
        };
        let first: Vec<String> = (0..180).map(|i| line("eni-a", i)).collect();
        let second: Vec<String> = (0..180).map(|i| line("eni-b", i)).collect();
        fn refs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let mut d = Dedupe::with_horizon(1000, 600);
        d.hold(Some(Some(1_800_000_000)));
        assert!(run(&mut d, &refs(&first)).iter().all(|t| !t));
        assert_eq!(d.len(), 180);
        d.hold(Some(None));
        assert!(run(&mut d, &refs(&second)).iter().all(|t| *t));
        assert_eq!(d.dropped, 180);
        // Swept behind the second source: the first hours' flows are forgotten.
        assert!(d.len() < 60, "{}", d.len());
        // Not held, generations move with the records: the second source counts again.
        let mut d = Dedupe::with_horizon(1000, 600);
        run(&mut d, &refs(&first));
        let twins = run(&mut d, &refs(&second)).iter().filter(|t| **t).count();
        assert!(twins < 60, "{twins}");
    }

    #[test]
    fn twins_seconds_apart_count_once() {
        let mut d = Dedupe::with_horizon(100, 60);
        let got = run(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT egress 1 - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1007 1067 ACCEPT ingress - - -",
                "eni-c 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1008 1068 ACCEPT ingress - - -",
            ],
        );
        // A third interface with the same peers 5-tuple (a flow through an appliance) is a
        // third view of the same flow: counted once in all.
        assert_eq!(got, [false, true, true]);
        assert_eq!((d.dropped, d.held), (2, 1));
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
        // The last record has the first flow's 5-tuple 70 s after it was last seen, beyond
        // this test's 60 s horizon: a new flow, counted.
        assert_eq!(got, [false, true, false, true, false]);
    }

    /// The records of one flow 10.0.1.5:40000 → 10.0.2.6:5432 from `start` to `end` as an
    /// interface aggregating every `every` seconds from `phase` logs them (one per interval
    /// it was active in; 1,000 bytes per second).
    fn intervals(iface: &str, phase: u64, every: u64, start: u64, end: u64) -> Vec<String> {
        let mut out = Vec::new();
        let mut cut = start - (start - phase) % every;
        while cut < end {
            let (s, e) = (cut.max(start), (cut + every).min(end));
            let dir = if iface == "eni-a" {
                "egress 1"
            } else {
                "ingress -"
            };
            out.push(format!(
                "{iface} 10.0.1.5 10.0.2.6 40000 5432 6 10 {} {s} {e} ACCEPT {dir} - -",
                (e - s) * 1000
            ));
            cut += every;
        }
        out
    }

    /// Bytes counted (records not dropped as twins).
    fn counted(d: &mut Dedupe, lines: &[String]) -> u64 {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let twins = run(d, &refs);
        lines
            .iter()
            .zip(twins)
            .filter(|(_, t)| !t)
            .map(|(l, _)| l.split(' ').nth(7).unwrap().parse::<u64>().unwrap())
            .sum()
    }

    #[test]
    fn ten_minute_aggregation_on_clocks_apart_counts_the_flow_once() {
        // AWS's default 10-minute aggregation, the two interfaces' clocks 150 s apart: the
        // ends cut the 50-minute flow differently (5 and 6 records, one starting together).
        // Whichever end is read first, the flow's 3,000,000 bytes count once, exactly.
        let (start, end) = (1_000_200, 1_003_200);
        let a = intervals("eni-a", 0, 600, start, end);
        let b = intervals("eni-b", 150, 600, start, end);
        assert_ne!(a.len(), b.len());
        for lines in [
            [a.clone(), b.clone()].concat(),
            [b.clone(), a.clone()].concat(),
        ] {
            let mut d = Dedupe::with_horizon(100, 600);
            assert_eq!(counted(&mut d, &lines), 3_000_000, "{lines:#?}");
        }
        // Interleaved in time order, as objects of one delivery period are.
        let mut lines = [a, b].concat();
        lines.sort_by_key(|l| l.split(' ').nth(8).unwrap().parse::<u64>().unwrap());
        let mut d = Dedupe::with_horizon(100, 600);
        assert_eq!(counted(&mut d, &lines), 3_000_000);
    }

    #[test]
    fn one_minute_at_one_end_and_ten_at_the_other_counts_once() {
        let (start, end) = (1_000_020, 1_001_820);
        let a = intervals("eni-a", 30, 60, start, end);
        let b = intervals("eni-b", 150, 600, start, end);
        for lines in [[a.clone(), b.clone()].concat(), [b, a].concat()] {
            let mut d = Dedupe::with_horizon(100, 600);
            assert_eq!(counted(&mut d, &lines), 1_800_000);
        }
    }

    #[test]
    fn without_traffic_path_the_instance_side_is_held_for_its_inner_leg() {
        // A log with pkt fields but no flow-direction or traffic-path (a v3 subset): the
        // instance's record to the internet comes first, the NAT's inner leg after it.
        let mut d = Dedupe::with_horizon(100, 600);
        let got = run(
            &mut d,
            &[
                "eni-i 10.0.1.5 203.0.113.5 40000 443 6 10 900 1000 1060 ACCEPT - - 10.0.1.5 203.0.113.5",
                "eni-n 10.0.1.5 10.0.0.220 40000 443 6 10 900 1004 1064 ACCEPT - - 10.0.1.5 203.0.113.5",
            ],
        );
        assert_eq!(got, [false, true]);
    }

    #[test]
    fn a_flow_closed_at_both_ends_is_remembered_for_its_late_records() {
        // Regression: both ends' closing records (FIN = 1, tcp-flags OR-ed over the
        // interval: 27 = SYN|ACK|PSH|FIN) came first, and the earlier intervals of one end
        // after them (records of an object come in no order). Forgetting the flow at its
        // close counted those again.
        let mut d = Dedupe::with_horizon(100, 600);
        let got = run_flags(
            &mut d,
            &[
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1600 1660 ACCEPT 25 - - - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1600 1660 ACCEPT 25 - - - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT 18 - - - -",
                "eni-b 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1300 1360 ACCEPT 24 - - - -",
                // A third view (a transit gateway attachment) after both closes: a twin too.
                "eni-t 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1600 1660 ACCEPT 25 - - - -",
                // The owner's own earlier records are its own: counted.
                "eni-a 10.0.1.5 10.0.2.6 40000 5432 6 10 900 1000 1060 ACCEPT 2 - - - -",
            ],
        );
        assert_eq!(got, [false, true, true, true, true, false]);
        assert_eq!((d.held, d.len()), (1, 1));
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
