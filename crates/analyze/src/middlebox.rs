//! Middleboxes: NAT gateways, load balancers, gateway load balancer endpoints and transit
//! gateway attachments relay flows between two peers, and a relayed flow is logged on every
//! interface it crosses. This module owns the [`Leg`] of a record and the set of relay
//! addresses ([`Middleboxes`]).
//!
//! AWS's shape (instance 10.0.1.5, NAT ENI 10.0.0.220, server 203.0.113.5):
//! - instance ENI: `10.0.1.5 → 203.0.113.5` (pkt addresses equal the logged ones): a
//!   [`Leg::Direct`] record;
//! - NAT ENI, inner leg: `10.0.1.5 → 10.0.0.220`, `pkt-dstaddr 203.0.113.5`: a pkt address
//!   differs from the logged one, so this is a [`Leg::Inner`] record whose `peers` are the real
//!   endpoints (10.0.1.5, 203.0.113.5) and whose relay is the logged address that is neither
//!   peer (10.0.0.220);
//! - NAT ENI, outer leg: `10.0.0.220 → 203.0.113.5` (pkt = logged): the same conversation
//!   seen from the relay's public side, a [`Leg::Outer`] record when 10.0.0.220 is known to be
//!   a relay. Its source is not a culprit.
//!
//! Relays are known from three places: the pack's `networks.middleboxes` (and
//! `networks.nat_gateways`), interfaces discovered with `--discover` whose type is
//! `nat_gateway`, `network_load_balancer`, `gateway_load_balancer_endpoint` or
//! `transit_gateway` (added with [`RulePack::add_middleboxes`](crate::RulePack::add_middleboxes)),
//! and inner legs seen in the data. The first two are known to the
//! [`Classifier`](crate::Classifier), which marks outer legs per record. The third is learned in
//! order on the engine thread ([`Middleboxes::learn`]): an outer leg may arrive before the
//! first inner leg through the same box, so a detector that must not blame a relay asks
//! [`Middleboxes::is_relay`] when its window closes, not when the record arrives.
//!
//! Bounded: at most [`Middleboxes::CAP`] learned addresses (a relay is an interface; an estate
//! has far fewer); past that new ones are counted in [`Middleboxes::refused`].

use crate::addr::{Addr, CidrSet};
use crate::flow::Flow;
use crate::sketch::{FastMap, fast_map};

/// A NAT gateway opens its connections from ports 1024-65535: a TCP/UDP port below this on
/// its side is an unsolicited packet to it (a scan), not one of its connections (the
/// classifier's outer-leg rule and [`Middleboxes::relay_view`]).
pub const NAT_FIRST_PORT: u16 = 1024;

/// Which leg of a relayed conversation a record is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Leg {
    /// Not relayed (or the relay is not known): the logged addresses are the peers.
    #[default]
    Direct,
    /// Logged on a relay's interface between a peer and the relay: `pkt-srcaddr` or
    /// `pkt-dstaddr` differs from the logged address, `peers` name the real endpoints.
    Inner,
    /// Logged on a known relay between the relay's own address and the far peer: the
    /// relay's address stands for a real peer logged elsewhere.
    Outer,
}

impl Leg {
    /// `direct`, `inner` or `outer`.
    pub fn label(self) -> &'static str {
        match self {
            Leg::Direct => "direct",
            Leg::Inner => "inner",
            Leg::Outer => "outer",
        }
    }
}

/// The relay address of an inner-leg record: the logged endpoint that is not a peer.
/// Also whether it is the logged destination (it stands for the destination peer) rather
/// than the source.
#[inline]
pub fn relay_of(addrs: (Addr, Addr), peers: (Addr, Addr)) -> Option<(Addr, bool)> {
    if addrs.1 != peers.1 {
        Some((addrs.1, true))
    } else if addrs.0 != peers.0 {
        Some((addrs.0, false))
    } else {
        None
    }
}

/// Relay addresses: configured blocks plus addresses learned from inner legs.
#[derive(Clone, Debug, Default)]
pub struct Middleboxes {
    known: CidrSet,
    /// Each learned relay: whether an inner leg through it had it stand for a public peer
    /// (see [`Middleboxes::fronts_internet`]; from a public source only on a
    /// requester-managed interface, see [`Middleboxes::learn`]).
    learned: FastMap<Addr, bool>,
    /// The configured and discovered NAT gateways (within `known`).
    nats: CidrSet,
    /// Learned addresses not kept because [`Middleboxes::CAP`] was reached.
    pub refused: u64,
}

impl Middleboxes {
    /// Most learned relay addresses kept.
    pub const CAP: usize = 65_536;

    /// Relays in these blocks are known before any record.
    pub fn new(known: CidrSet) -> Middleboxes {
        Middleboxes {
            known,
            learned: fast_map(),
            nats: CidrSet::default(),
            refused: 0,
        }
    }

    /// Learns the relay of an inner-leg record (call once per record, in engine order).
    #[inline]
    pub fn learn(&mut self, f: &Flow) {
        if f.leg != crate::middlebox::Leg::Inner {
            return;
        }
        let (Some(addrs), Some(peers)) = (f.addrs, f.peers) else {
            return;
        };
        let Some((relay, for_dst)) = relay_of(addrs, peers) else {
            return;
        };
        // Whether the peer its logged address stands for in this record is public.
        let stands_for = if for_dst { f.dst_class } else { f.src_class };
        let public = stands_for == crate::addr::Class::Public;
        // A relay stands for a public peer in two ways: it received a packet for a public
        // destination (only a route table sends one to it: a NAT's forward direction), or it
        // sent one from a public source (a NAT's return direction). An instance can write the
        // second itself: one packet with a forged source (source/destination check off)
        // would make every internet flow of the host a NAT's outer leg, neither counted nor
        // blamed. So that direction teaches only on a requester-managed interface (a NAT
        // gateway's, `instance-id` `-`), which no tenant writes packets from; a NAT instance
        // is learned from its forward direction.
        if public && !for_dst && !f.managed_interface {
            return;
        }
        let full = self.learned.len() >= Self::CAP;
        match self.learned.get_mut(&relay) {
            Some(p) => *p |= public,
            None if full => self.refused += 1,
            None => {
                self.learned.insert(relay, public);
            }
        }
    }

    /// Whether `addr` is a relay (configured, discovered or learned from an inner leg).
    #[inline]
    pub fn is_relay(&self, addr: Addr) -> bool {
        self.known.contains(addr) || self.learned.contains_key(&addr)
    }

    /// Whether `addr` is a configured or discovered relay (the pack's `networks.middleboxes`
    /// and `nat_gateways`, `--discover`'s NAT gateways, load balancers, endpoints and
    /// transit gateway attachments): what the user or AWS says is one, learned or not.
    #[inline]
    pub fn is_known(&self, addr: Addr) -> bool {
        self.known.contains(addr)
    }

    /// Whether `addr` is a relay for the internet: configured or discovered, or
    /// [`Middleboxes::fronts_internet`].
    #[inline]
    pub fn is_internet_relay(&self, addr: Addr) -> bool {
        self.known.contains(addr) || self.fronts_internet(addr)
    }

    /// Whether `addr` was seen relaying for the internet: an inner leg through it had it
    /// stand for a public peer (a NAT gateway: `10.0.1.5 → 10.0.0.220`, pkt-dstaddr
    /// `203.0.113.5`). Its own records to the internet are then the outer legs of
    /// connections its inner legs carry under their real sources. An address that stood
    /// only for internal peers (an EKS node for its pods, a secondary address in a subnet
    /// larger than /24) is not one: its own connections are its own.
    #[inline]
    pub fn fronts_internet(&self, addr: Addr) -> bool {
        self.learned.get(&addr).is_some_and(|&public| public)
    }

    /// Learned relay addresses.
    pub fn learned(&self) -> usize {
        self.learned.len()
    }

    /// Marks the configured and discovered NAT gateways among the known relays (for
    /// [`Middleboxes::relay_view`]).
    pub fn with_nat_gateways(mut self, nats: CidrSet) -> Middleboxes {
        self.nats = nats;
        self
    }

    /// Whether a record is a NAT's public side of a connection it relays (its *outer leg*,
    /// `10.0.0.220 → 203.0.113.5`): the same traffic its inner leg carries under the real
    /// source, logged on the same interface, so counting it as well counts the bytes twice
    /// (a third time when the instance's interface is logged). The relay is the record's
    /// one internal end ([`Middleboxes::relay_end`]): a configured or discovered NAT gateway,
    /// or a relay learned from inner legs standing for public peers
    /// ([`Middleboxes::fronts_internet`]; an outer leg read before the first such inner leg
    /// is held by [`crate::relay_hold::RelayHold`] until that is known).
    #[inline]
    pub fn relay_view(&self, f: &Flow) -> bool {
        if self.nats.is_empty() && self.learned.is_empty() {
            return false;
        }
        Self::relay_end(f).is_some_and(|relay| self.relays_for_internet(relay))
    }

    /// Whether a record not (yet) a [`Middleboxes::relay_view`] would be one if its
    /// interface's address turned out to relay for the internet: it has a time, it was
    /// logged on a requester-managed interface (`instance-id` `-`: a NAT gateway's, among
    /// others; a log without `instance-id` never says so), and [`Middleboxes::relay_end`]
    /// names its internal end.
    #[inline]
    pub fn may_become_relay_view(&self, f: &Flow) -> bool {
        f.managed_interface && f.time.is_some() && Self::relay_end(f).is_some()
    }

    /// Whether `addr` is a configured or discovered NAT gateway.
    #[inline]
    pub fn is_nat_gateway(&self, addr: Addr) -> bool {
        self.nats.contains(addr)
    }

    /// Whether `addr` relays for the internet, so its outer legs are relay views: a
    /// configured or discovered NAT gateway, or a relay learned from inner legs that stood
    /// for public peers ([`Middleboxes::fronts_internet`]).
    #[inline]
    pub fn relays_for_internet(&self, addr: Addr) -> bool {
        self.nats.contains(addr) || self.fronts_internet(addr)
    }

    /// The address that would relay a record if it were a NAT's outer leg: its one internal
    /// logged end, when the record is not an inner leg and that end's TCP/UDP port is at
    /// least [`NAT_FIRST_PORT`] (a lower port is an unsolicited packet to it, not a view).
    #[inline]
    pub fn relay_end(f: &Flow) -> Option<Addr> {
        if f.leg == Leg::Inner || f.src_internal == f.dst_internal {
            return None;
        }
        let (src, dst) = f.addrs?;
        let (relay, port) = if f.src_internal {
            (src, f.sport)
        } else {
            (dst, f.dport)
        };
        let tcp_udp = matches!(f.protocol, Some(6 | 17)) && f.ported;
        if tcp_udp && port < NAT_FIRST_PORT {
            return None;
        }
        Some(relay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use crate::addr::Cidr;
    use crate::rules::RulePack;
    use flowlog::Schema;

    fn a(s: &str) -> Addr {
        Addr::new(s.parse().unwrap())
    }

    /// A classifier of an empty pack and the schema of the inner-leg columns (`extra`
    /// appended).
    fn setup(extra: &str) -> (Classifier, Schema) {
        let pack = RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let header = format!(
            "interface-id srcaddr dstaddr srcport dstport protocol pkt-srcaddr pkt-dstaddr{extra}"
        );
        (
            Classifier::new(&pack, false),
            Schema::from_header(&header).unwrap(),
        )
    }

    #[test]
    fn relays_are_learned_from_inner_legs_only() {
        let (cx, schema) = setup("");
        let mut boxes = Middleboxes::new(CidrSet::new(vec![Cidr::parse("10.9.0.0/24").unwrap()]));
        for line in [
            // NAT inner leg (toward the NAT), TGW leg (srcaddr = the attachment).
            "eni-n 10.0.1.5 10.0.0.220 40000 443 6 10.0.1.5 203.0.113.5",
            "eni-t 10.40.1.175 10.40.2.236 39812 80 6 10.20.33.164 10.40.2.236",
            // Direct records and a secondary address teach nothing.
            "eni-i 10.0.1.5 203.0.113.5 40000 443 6 - -",
            "eni-i 198.51.100.7 10.0.1.5 5000 22 6 198.51.100.7 10.0.1.77",
            // Nor does a packet from a forged public source on an interface not known to be
            // requester-managed (no `instance-id` `-`), whatever it is sent to.
            "eni-s 10.0.1.6 10.0.2.9 40000 9999 17 203.0.113.66 10.0.2.9",
        ] {
            boxes.learn(&cx.classify(&schema.decode(line).unwrap()));
        }
        assert!(boxes.is_relay(a("10.0.0.220")));
        assert!(
            boxes.fronts_internet(a("10.0.0.220")),
            "it stood for 203.0.113.5"
        );
        assert!(boxes.is_relay(a("10.40.1.175")));
        assert!(
            !boxes.fronts_internet(a("10.40.1.175")),
            "it stood for 10.20.33.164"
        );
        assert!(boxes.is_relay(a("10.9.0.7")), "configured");
        assert!(
            !boxes.fronts_internet(a("10.9.0.7")),
            "no inner leg through it"
        );
        assert!(boxes.is_internet_relay(a("10.9.0.7")), "configured");
        for not in [
            "10.0.1.5",
            "203.0.113.5",
            "10.20.33.164",
            "10.40.2.236",
            "10.0.1.77",
            "10.0.1.6",
        ] {
            assert!(!boxes.is_relay(a(not)), "{not}");
        }
        assert_eq!(boxes.learned(), 2);
    }

    /// The return direction (the relay sends from a public source) teaches on a
    /// requester-managed interface only: a NAT gateway's, not an instance's (which can
    /// forge the source itself).
    #[test]
    fn a_public_source_teaches_only_on_a_requester_managed_interface() {
        let (cx, schema) = setup(" instance-id");
        let learn = |line: &str| {
            let mut boxes = Middleboxes::new(CidrSet::default());
            boxes.learn(&cx.classify(&schema.decode(line).unwrap()));
            boxes
        };
        let nat = learn("eni-n 10.0.0.220 10.0.1.5 443 40000 6 203.0.113.5 10.0.1.5 -");
        assert!(
            nat.fronts_internet(a("10.0.0.220")),
            "a NAT gateway's return leg"
        );
        let host = learn("eni-h 10.0.0.221 10.0.1.5 443 40000 6 203.0.113.5 10.0.1.5 i-0abc");
        assert!(
            !host.is_relay(a("10.0.0.221")),
            "an instance's forged source"
        );
        let forward = learn("eni-i 10.0.1.5 10.0.0.222 40000 443 6 10.0.1.5 203.0.113.5 i-0abc");
        assert!(
            forward.fronts_internet(a("10.0.0.222")),
            "a NAT instance's forward leg"
        );
    }
}
