//! Who opened a flow: [`Initiator`] (the record's source, its destination, or unknown), the
//! evidence that decided it ([`DecidedBy`]) and, for records of the responding side, what
//! the responder sent back ([`Answer`]).
//!
//! The record's own fields decide, first that applies wins:
//! 1. `tcp-flags` (TCP): SYN without ACK (`f & 0x12 == 0x02`) → the source opened it; SYN-ACK
//!    (`f & 0x12 == 0x12`) → the destination did (the source is the responder). Flags that
//!    carry no SYN (0 = ACK only, FIN, RST) say nothing, next rule.
//! 2. `flow-direction`: a REJECTed ingress record → the source (security groups are stateful,
//!    replies to our own connections are not rejected), unless it is a reply a network ACL
//!    (stateless) dropped: TCP flags that show a connection already under way (no SYN), or
//!    UDP from a service port (below 1024 or the pack's) to a port of the ephemeral range
//!    (≥ [`EPHEMERAL_FIRST`]: a DNS or NTP server's answer), or any record from a service
//!    port to a known NAT gateway's port of 1024 or more (the NAT opened it, rule 3; its
//!    ports start at 1024); rules 3 and 4 then decide those. A UDP scan sent from port 53 to
//!    our ports of the ephemeral range, or a scan of a known NAT from a service port, reads as
//!    answers too.
//! 3. `pkt-srcaddr`/`pkt-dstaddr` at a NAT gateway (known from `networks.nat_gateways` or
//!    discovery): NAT gateways only relay connections opened from inside, so the inner leg
//!    toward the NAT with a `pkt-dstaddr` beyond it → the source; the inner leg from the NAT
//!    with a `pkt-srcaddr` beyond it → the destination; on the outer leg the NAT's own
//!    address is the client, unless its TCP/UDP port is below 1024 (a NAT gateway opens
//!    connections from ports 1024-65535: that is an unsolicited packet to it, rule 4 decides).
//! 4. Ports, only when none of the above apply: a side whose port is one of the pack's
//!    service ports or below 1024, facing an ephemeral (≥ 1024, not a service) port on the
//!    other side, is the responder. Both sides qualify → [`Initiator::Unknown`]: a 5432
//!    facing a 443 is an ephemeral port that happens to be a database's, not postgres.
//!    Neither qualifies (both ports ≥ 1024 and no service): a port below
//!    [`EPHEMERAL_FIRST`] facing one at or above it is the responder (Linux clients, and
//!    most others, take their ports from 32768 up, so kafka's 9092 or a scanned port 1080
//!    facing 45000 is the server's); else unknown (two ports on the same side of 32768).

use crate::services::{ServiceSet, TCP, UDP};

/// The first port of the ephemeral range the port rule assumes for clients when neither port
/// is a service: Linux's default `ip_local_port_range` starts here (32768-60999); Windows and
/// the IANA dynamic range start at 49152. NAT gateways, load balancers and Lambda use
/// 1024-65535, so a client port below this is not told apart (the record stays unknown
/// unless the other port is a service or below 1024).
pub const EPHEMERAL_FIRST: u16 = 32768;

/// Which side of a record opened the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Initiator {
    /// The record's source (`peers.0`) is the client.
    Src,
    /// The record's destination (`peers.1`) is the client; the source is the responder.
    Dst,
    /// Nothing in the record decides it.
    #[default]
    Unknown,
}

impl Initiator {
    /// `src`, `dst` or `unknown`.
    pub fn label(self) -> &'static str {
        match self {
            Initiator::Src => "src",
            Initiator::Dst => "dst",
            Initiator::Unknown => "unknown",
        }
    }
}

/// The evidence that decided the [`Initiator`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecidedBy {
    /// `tcp-flags` (SYN / SYN-ACK).
    TcpFlags,
    /// `flow-direction` with the action (a rejected ingress record).
    FlowDirection,
    /// `pkt-srcaddr` / `pkt-dstaddr` at a NAT gateway.
    PktAddrs,
    /// The port heuristic.
    Ports,
    /// Nothing decided (the initiator is unknown).
    #[default]
    None,
}

impl DecidedBy {
    /// The label findings carry in JSON (`tcp-flags`, `flow-direction`, `pkt-addrs`, `ports`,
    /// `none`).
    pub fn label(self) -> &'static str {
        match self {
            DecidedBy::TcpFlags => "tcp-flags",
            DecidedBy::FlowDirection => "flow-direction",
            DecidedBy::PktAddrs => "pkt-addrs",
            DecidedBy::Ports => "ports",
            DecidedBy::None => "none",
        }
    }

    /// A bit for bitmasks of several decisions (one bit per value).
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Every value, in label order of the bits.
    pub const ALL: [DecidedBy; 5] = [
        DecidedBy::TcpFlags,
        DecidedBy::FlowDirection,
        DecidedBy::PktAddrs,
        DecidedBy::Ports,
        DecidedBy::None,
    ];
}

/// What a responder-side record carried back to the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Answer {
    /// Not a responder record, or nothing came back (rejected).
    #[default]
    None,
    /// A handshake answer and no data (SYN-ACK within the probe limits).
    SynAck,
    /// Data.
    Data,
}

impl Answer {
    /// `none`, `syn-ack` or `data`.
    pub fn label(self) -> &'static str {
        match self {
            Answer::None => "none",
            Answer::SynAck => "syn-ack",
            Answer::Data => "data",
        }
    }
}

/// The facts of one record the decision reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence {
    /// IANA protocol.
    pub protocol: Option<u8>,
    /// TCP flag bits.
    pub flags: Option<u16>,
    /// Whether the record was rejected.
    pub rejected: bool,
    /// `flow-direction` is ingress.
    pub ingress: bool,
    /// The client side by the NAT rule (rule 3): `Src` for the inner leg toward a NAT
    /// gateway and the outer leg from it, `Dst` for the other two; `Unknown` when no NAT
    /// gateway is involved.
    pub nat_client: Initiator,
    /// Whether the record has ports.
    pub ported: bool,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

/// Decides who initiated (see the module docs).
#[inline]
pub fn decide(e: &Evidence, services: &ServiceSet) -> (Initiator, DecidedBy) {
    let tcp = e.protocol == Some(TCP);
    if tcp && let Some(f) = e.flags {
        match f & 0x12 {
            0x02 => return (Initiator::Src, DecidedBy::TcpFlags),
            0x12 => return (Initiator::Dst, DecidedBy::TcpFlags),
            _ => {}
        }
    }
    let serves = |p: u16| p < 1024 || services.contains(e.protocol, p);
    let mid_connection = tcp && e.flags.is_some();
    // A network ACL is stateless: it drops a DNS or NTP server's answers to our own query
    // when inbound ephemeral ports are not open, and that is a UDP record from a service
    // port to a port of the ephemeral range.
    let udp_answer = || {
        e.protocol == Some(UDP)
            && e.ported
            && serves(e.sport)
            && !serves(e.dport)
            && e.dport >= EPHEMERAL_FIRST
    };
    // On a NAT gateway's outer leg the NAT is the client (rule 3) and its ports start at
    // 1024: a rejected record to it from a service port is an answer an ACL dropped too
    // (a DNS resolver's answers to a declared NAT's ports below 32768 were a port scan).
    let nat_answer = || {
        e.nat_client == Initiator::Dst
            && e.ported
            && serves(e.sport)
            && e.dport >= crate::middlebox::NAT_FIRST_PORT
    };
    if e.rejected && e.ingress && !mid_connection && !udp_answer() && !nat_answer() {
        return (Initiator::Src, DecidedBy::FlowDirection);
    }
    if e.nat_client != Initiator::Unknown {
        return (e.nat_client, DecidedBy::PktAddrs);
    }
    if !e.ported {
        return (Initiator::Unknown, DecidedBy::None);
    }
    by_ports(e.protocol, e.sport, e.dport, services)
}

/// What the ports alone say of a ported record: the side on a service port (below 1024, or
/// a pack service) is the server; between two other ports, the one in the ephemeral range
/// is the client; else unknown.
pub fn by_ports(
    protocol: Option<u8>,
    sport: u16,
    dport: u16,
    services: &ServiceSet,
) -> (Initiator, DecidedBy) {
    let serves = |p: u16| p < 1024 || services.contains(protocol, p);
    let e = (sport, dport);
    match (serves(e.0), serves(e.1)) {
        (false, true) => (Initiator::Src, DecidedBy::Ports),
        (true, false) => (Initiator::Dst, DecidedBy::Ports),
        (true, true) => (Initiator::Unknown, DecidedBy::None),
        (false, false) => match (e.0 >= EPHEMERAL_FIRST, e.1 >= EPHEMERAL_FIRST) {
            (true, false) => (Initiator::Src, DecidedBy::Ports),
            (false, true) => (Initiator::Dst, DecidedBy::Ports),
            _ => (Initiator::Unknown, DecidedBy::None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{PortRange, Service};

    fn services() -> ServiceSet {
        ServiceSet::new(vec![Service {
            name: "postgres".into(),
            ports: vec![PortRange::one(5432)],
            protocol: Some(TCP),
        }])
    }

    fn tcp(flags: Option<u16>, sport: u16, dport: u16) -> Evidence {
        Evidence {
            protocol: Some(TCP),
            flags,
            ported: true,
            sport,
            dport,
            ..Evidence::default()
        }
    }

    #[test]
    fn flags_first() {
        let s = services();
        assert_eq!(
            decide(&tcp(Some(2), 51515, 22), &s),
            (Initiator::Src, DecidedBy::TcpFlags)
        );
        assert_eq!(
            decide(&tcp(Some(3), 51515, 22), &s),
            (Initiator::Src, DecidedBy::TcpFlags)
        );
        assert_eq!(
            decide(&tcp(Some(18), 443, 5432), &s),
            (Initiator::Dst, DecidedBy::TcpFlags)
        );
        assert_eq!(
            decide(&tcp(Some(19), 22, 40000), &s),
            (Initiator::Dst, DecidedBy::TcpFlags)
        );
    }

    #[test]
    fn ports_only_when_one_side_serves() {
        let s = services();
        // ACK-only (0) says nothing: ports decide.
        assert_eq!(
            decide(&tcp(Some(0), 443, 5432), &s),
            (Initiator::Unknown, DecidedBy::None),
            "443 and the service port 5432 both qualify"
        );
        assert_eq!(
            decide(&tcp(None, 40001, 22), &s),
            (Initiator::Src, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 22, 40001), &s),
            (Initiator::Dst, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 40000, 5432), &s),
            (Initiator::Src, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 40000, 50000), &s),
            (Initiator::Unknown, DecidedBy::None)
        );
        // Neither a service nor below 1024: the side below the ephemeral range serves.
        assert_eq!(
            decide(&tcp(None, 45000, 9092), &s),
            (Initiator::Src, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 9092, 45000), &s),
            (Initiator::Dst, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 32767, 32768), &s),
            (Initiator::Dst, DecidedBy::Ports)
        );
        assert_eq!(
            decide(&tcp(None, 20000, 9092), &s),
            (Initiator::Unknown, DecidedBy::None),
            "a NAT's client port 20000 facing 9092: nothing tells them apart"
        );
        assert_eq!(
            decide(&tcp(None, 80, 443), &s),
            (Initiator::Unknown, DecidedBy::None)
        );
    }

    #[test]
    fn rejected_ingress_and_nat_legs() {
        let s = services();
        let udp = Evidence {
            protocol: Some(17),
            rejected: true,
            ingress: true,
            ported: true,
            sport: 53,
            dport: 40000,
            ..Evidence::default()
        };
        // A resolver's answer to our query (53 → an ephemeral port), dropped by a network
        // ACL: the answer, not a connection attempt.
        assert_eq!(decide(&udp, &s), (Initiator::Dst, DecidedBy::Ports));
        // From port 53 to a service port, or to a port below the ephemeral range: a probe.
        for dport in [161, 5000] {
            let probe = Evidence { dport, ..udp };
            assert_eq!(
                decide(&probe, &s),
                (Initiator::Src, DecidedBy::FlowDirection),
                "{dport}"
            );
        }
        let nacl_dropped_reply = Evidence {
            rejected: true,
            ingress: true,
            ..tcp(Some(0), 443, 40000)
        };
        assert_eq!(
            decide(&nacl_dropped_reply, &s),
            (Initiator::Dst, DecidedBy::Ports)
        );
        let to_nat = Evidence {
            nat_client: Initiator::Src,
            ..tcp(Some(0), 40000, 50000)
        };
        assert_eq!(decide(&to_nat, &s), (Initiator::Src, DecidedBy::PktAddrs));
        let from_nat = Evidence {
            nat_client: Initiator::Dst,
            ..tcp(None, 5432, 443)
        };
        assert_eq!(decide(&from_nat, &s), (Initiator::Dst, DecidedBy::PktAddrs));
    }

    #[test]
    fn labels() {
        let labels: Vec<&str> = DecidedBy::ALL.iter().map(|d| d.label()).collect();
        assert_eq!(
            labels,
            ["tcp-flags", "flow-direction", "pkt-addrs", "ports", "none"]
        );
        assert_eq!(DecidedBy::Ports.bit(), 8);
    }
}
