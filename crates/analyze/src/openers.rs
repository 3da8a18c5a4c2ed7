//! Who opened each TCP connection, remembered from its SYN for the rest of its records.
//!
//! Only a connection's first aggregation interval carries its SYN (and SYN-ACK); every later
//! record of the same 5-tuple has `tcp-flags` 0 (or FIN/RST only), and [`crate::initiator`]
//! decides those by ports. When the client's own port happens to be a service port (an EKS
//! node's SNAT, a NAT gateway or a load balancer picking any port from 1024) and the server's
//! is not (Kafka 9092, MQTT 8883, a high port), the ports read the later records backwards:
//! our node "serving postgres to the internet", a false high exposure (probe of session 14).
//!
//! [`Openers`] keeps, for each connection whose SYN decided otherwise than its ports would,
//! which end opened it; later records of that connection that only ports (or nothing)
//! decided take that initiator (`decided_by` `tcp-flags`: the connection's SYN decided) and
//! their probe and answer roles again ([`crate::flow::roles`]). Connections whose ports agree
//! with their SYN, nearly all of them, are not held. It runs on the engine's counting thread,
//! in record order, before the dedupe and every detector.
//!
//! Bounded: entries live in two generations of [`GENERATION`] of record time (an entry met
//! again moves to the current one, so a long connection logged every interval stays), at
//! most [`CAP`] at once; past that a connection is not remembered and [`Openers::overflow`]
//! counts it (reported as a limit). A SYN read after the connection's later records (objects
//! read out of time order) corrects only the records after it.

use std::hash::BuildHasher;

use flowlog::Action;

use crate::addr::Addr;
use crate::flow::{Flow, ProbeLimits, roles, syn_probe};
use crate::initiator::{DecidedBy, Initiator, by_ports};
use crate::services::{ServiceSet, TCP};
use crate::sketch::{FastMap, fast_map};

/// A generation: an hour of record time.
pub const GENERATION: u64 = 3600;

/// Most connections held at once (24 bytes each with the table's overhead: ~6 MiB).
pub const CAP: usize = 1 << 18;

/// Which end opened a connection, and when any of its records was last seen.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Whether the client is the lower (address, port) end.
    low_opened: bool,
    last: u32,
}

/// Connections whose SYN and ports disagree on who opened them (see the module docs).
#[derive(Debug)]
pub struct Openers {
    services: ServiceSet,
    limits: ProbeLimits,
    current: FastMap<u64, Entry>,
    previous: FastMap<u64, Entry>,
    hasher: foldhash::fast::RandomState,
    current_since: u64,
    cap: usize,
    /// The client ports of the connections held (a bit each, never cleared): a record on
    /// none of them is not looked up.
    ports: Box<[u64; 1024]>,
    /// Connections remembered.
    pub learned: u64,
    /// Records whose initiator their connection's SYN decided.
    pub corrected: u64,
    /// Connections not remembered because [`CAP`] were held.
    pub overflow: u64,
}

impl Openers {
    /// With the pack's services and probe sizes (what the classifier read the records with).
    pub fn new(services: ServiceSet, limits: ProbeLimits) -> Openers {
        Openers {
            services,
            limits,
            current: fast_map(),
            previous: fast_map(),
            hasher: foldhash::fast::RandomState::default(),
            current_since: 0,
            cap: CAP,
            ports: Box::new([0; 1024]),
            learned: 0,
            corrected: 0,
            overflow: 0,
        }
    }

    #[inline]
    fn has_port(&self, p: u16) -> bool {
        self.ports[usize::from(p >> 6)] & (1 << (p & 63)) != 0
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Learns from a record whose SYN decided, or corrects one that only ports decided.
    #[inline]
    pub fn observe(&mut self, f: &mut Flow) {
        if f.protocol != Some(TCP) || !f.ported {
            return;
        }
        let (Some((src, dst)), Some(time)) = (f.peers, f.time) else {
            return;
        };
        let learn = match f.decided_by {
            // A refused SYN opened nothing (a decoy would teach a 5-tuple's later upload to
            // read as a download: probe of session 14).
            DecidedBy::TcpFlags if f.action == Some(Action::Reject) => return,
            DecidedBy::TcpFlags => true,
            DecidedBy::Ports | DecidedBy::None => false,
            _ => return,
        };
        let agrees =
            learn && by_ports(f.protocol, f.sport, f.dport, &self.services).0 == f.initiator;
        // Only a record that teaches (a SYN the ports read otherwise) goes on without a held
        // connection on one of its ports.
        let held = self.len() > 0 && (self.has_port(f.sport) || self.has_port(f.dport));
        if (agrees || !learn) && !held {
            return;
        }
        let a = (src, f.sport);
        let b = (dst, f.dport);
        let src_low = a <= b;
        let (low, high): ((Addr, u16), (Addr, u16)) = if src_low { (a, b) } else { (b, a) };
        let key = self.hasher.hash_one((low, high));
        let t = time.min(u64::from(u32::MAX)) as u32;
        self.rotate(time);
        if agrees {
            // A new SYN on the 5-tuple is a new connection, one the ports read right: what was
            // held of an earlier one (an unsolicited SYN-ACK, a reused 5-tuple) goes.
            self.current.remove(&key);
            self.previous.remove(&key);
            return;
        }
        if learn {
            let client_port = if f.initiator == Initiator::Src {
                f.sport
            } else {
                f.dport
            };
            self.ports[usize::from(client_port >> 6)] |= 1 << (client_port & 63);
            let low_opened = (f.initiator == Initiator::Src) == src_low;
            let entry = Entry {
                low_opened,
                last: t,
            };
            if let Some(e) = self.current.get_mut(&key) {
                *e = entry;
            } else if self.len() >= self.cap {
                self.overflow += 1;
            } else {
                self.previous.remove(&key);
                self.current.insert(key, entry);
                self.learned += 1;
            }
            return;
        }
        let entry = match self.current.get_mut(&key) {
            Some(e) => e,
            None => match self.previous.remove(&key) {
                Some(e) => self.current.entry(key).or_insert(e),
                None => return,
            },
        };
        entry.last = entry.last.max(t);
        let initiator = if entry.low_opened == src_low {
            Initiator::Src
        } else {
            Initiator::Dst
        };
        if initiator != f.initiator {
            f.initiator = initiator;
            f.decided_by = DecidedBy::TcpFlags;
            let shape = f.shape();
            let syn = syn_probe(&shape, &self.limits);
            (f.client_probe, f.answer) = roles(initiator, &shape, &self.limits, syn);
            self.corrected += 1;
        }
    }

    fn rotate(&mut self, time: u64) {
        if self.current_since == 0 {
            self.current_since = time - time % GENERATION;
            return;
        }
        if time < self.current_since + GENERATION {
            return;
        }
        if time >= self.current_since + 2 * GENERATION {
            self.current.clear();
        }
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
        self.current_since = time - time % GENERATION;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use crate::initiator::Answer;
    use crate::rules::RulePack;
    use flowlog::Schema;

    const HEADER: &str =
        "srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags";

    fn flows(lines: &[&str]) -> (Classifier, Vec<Flow>) {
        let pack = RulePack::default_pack();
        let cx = Classifier::new(&pack, false);
        let schema = Schema::from_header(HEADER).unwrap();
        let flows = lines
            .iter()
            .map(|l| cx.classify(&schema.decode(l).unwrap()))
            .collect();
        (cx, flows)
    }

    /// Openers holding at most `cap` connections, after observing `fs` in order.
    fn observe_all(cx: &Classifier, fs: &mut [Flow], cap: usize) -> Openers {
        let mut o = Openers::new(cx.services.clone(), cx.probe_limits());
        o.cap = cap;
        for f in fs {
            o.observe(f);
        }
        o
    }

    /// An EKS node's own connection to a Kafka broker from SNAT port 5432: its first
    /// interval's SYN says the node opened it; the later intervals (flags 0) keep that.
    #[test]
    fn a_later_record_keeps_the_connections_opener() {
        let (cx, mut fs) = flows(&[
            "10.0.4.10 52.23.1.7 5432 9092 6 2000 900000 1800001000 1800001600 ACCEPT 2",
            "52.23.1.7 10.0.4.10 9092 5432 6 1200 80000 1800001000 1800001600 ACCEPT 18",
            "10.0.4.10 52.23.1.7 5432 9092 6 2000 900000 1800001600 1800002200 ACCEPT 0",
            "52.23.1.7 10.0.4.10 9092 5432 6 1200 80000 1800001600 1800002200 ACCEPT 0",
            // Another connection on the same ports' other side is not this one.
            "10.0.4.11 52.23.1.7 5432 9092 6 20 9000 1800001600 1800002200 ACCEPT 0",
        ]);
        // Ports alone read the later records backwards.
        assert_eq!(fs[3].initiator, Initiator::Src);
        let o = observe_all(&cx, &mut fs, CAP);
        assert_eq!(
            o.learned, 1,
            "one connection, learned from its SYN (the SYN-ACK agrees)"
        );
        assert_eq!(
            (fs[2].initiator, fs[2].decided_by),
            (Initiator::Src, DecidedBy::TcpFlags)
        );
        assert_eq!(
            (fs[3].initiator, fs[3].decided_by),
            (Initiator::Dst, DecidedBy::TcpFlags)
        );
        assert_eq!(fs[3].answer, Answer::Data);
        assert_eq!(fs[4].decided_by, DecidedBy::Ports);
        assert_eq!(o.corrected, 2);
    }

    /// Probe regression (session 14): a refused decoy SYN, or an unsolicited SYN-ACK, on
    /// the 5-tuple of a later connection taught the wrong opener, and that connection's
    /// later records read backwards (a 3 GiB upload as a download, a download as an upload).
    /// A refused SYN teaches nothing; a new SYN the ports read right clears what was held.
    #[test]
    fn decoys_teach_nothing_that_outlives_the_next_syn() {
        let (cx, mut fs) = flows(&[
            "203.0.113.9 10.0.1.5 443 45000 6 1 40 1800001000 1800001060 REJECT 2",
            "203.0.113.9 10.0.1.5 50000 443 6 1 40 1800001000 1800001060 ACCEPT 18",
            "10.0.1.5 203.0.113.9 45000 443 6 9000 536870912 1800001100 1800001700 ACCEPT 2",
            "10.0.1.5 203.0.113.9 45000 443 6 9000 536870912 1800001700 1800002300 ACCEPT 0",
            "203.0.113.9 10.0.1.5 50000 443 6 20 4000 1800001100 1800001700 ACCEPT 2",
            "10.0.1.5 203.0.113.9 443 50000 6 9000 536870912 1800001700 1800002300 ACCEPT 0",
        ]);
        let o = observe_all(&cx, &mut fs, CAP);
        // The refused SYN taught nothing; the SYN-ACK decoy was learned, then cleared.
        assert_eq!((o.learned, o.len(), o.corrected), (1, 0, 0));
        assert_eq!(fs[3].initiator, Initiator::Src, "the upload stays ours");
        assert_eq!(fs[5].initiator, Initiator::Dst, "the download stays theirs");
    }

    /// Past the cap a connection is not remembered, and counted.
    #[test]
    fn past_the_cap_connections_are_counted_not_held() {
        let lines: Vec<String> = (0..5)
            .map(|i| {
                format!("10.0.4.{i} 52.23.1.7 5432 9092 6 10 900 1800001000 1800001060 ACCEPT 2")
            })
            .collect();
        let (cx, mut fs) = flows(&lines.iter().map(String::as_str).collect::<Vec<_>>());
        let o = observe_all(&cx, &mut fs, 3);
        assert_eq!((o.learned, o.overflow, o.len()), (3, 2, 3));
    }

    /// Connections whose ports agree with their SYN are not held; a connection not seen for
    /// two generations is forgotten.
    #[test]
    fn agreeing_connections_are_not_held_and_old_ones_are_forgotten() {
        let (cx, mut fs) = flows(&[
            "10.0.1.5 10.0.2.6 40000 443 6 10 900 1800001000 1800001060 ACCEPT 2",
            "10.0.4.10 52.23.1.7 5432 9092 6 10 900 1800001000 1800001060 ACCEPT 2",
            "10.0.4.10 52.23.1.7 5432 9092 6 10 900 1800009000 1800009060 ACCEPT 0",
        ]);
        let o = observe_all(&cx, &mut fs, CAP);
        assert_eq!((o.learned, o.corrected), (1, 0));
        assert_eq!(fs[2].decided_by, DecidedBy::Ports);
    }
}
