//! [`Flow`]: the per-record view detectors read, computed once per record from a decoded
//! [`FlowRecord`] by a [`Classifier`] (peers, leg, address classes, who initiated, zones,
//! probe test, event time), so no detector repeats that work. A `Flow` owns everything it
//! holds (no borrow of the line), so classification can run on other threads than the
//! [`Engine`](crate::Engine) and flows can travel between them in batches. Also [`ShortId`], a
//! fixed-size copy of an AWS id for map keys.
//!
//! **Peers.** `peers` are the real endpoints: `pkt-srcaddr` else `srcaddr`, `pkt-dstaddr`
//! else `dstaddr`. A record whose pkt address differs from the logged one is the inner leg of
//! a relayed flow; a record whose logged address is a known relay is an outer leg (see
//! [`crate::middlebox`]). Detectors key on `peers`.
//!
//! **Classes.** Each peer is [`Class::Ours`] when it is in our blocks (`networks.internal`,
//! VPC CIDRs) or is the logged interface's own address: `flow-direction` ingress → the
//! destination, egress → the source ("with respect to the interface where traffic is
//! captured"); without `flow-direction`, an IPv4 record between a built-in private address
//! and a public one was logged on the private side (an interface's own IPv4 address is always
//! private). Otherwise built-in private ranges are [`Class::Private`], the rest
//! [`Class::Public`]; on egress, `traffic-path` 3–6 (virtual private gateway, peering, local
//! gateway) makes the destination Private even when its address is public. A global IPv6
//! peer in the same /56 as an address of ours (a VPC's IPv6 block is a /56) is ours too.
//!
//! **Who initiated** is [`crate::initiator`]'s decision; [`Flow::client`], [`Flow::server`] and
//! [`Flow::service_port`] read it (all `None` when it is unknown).
//!
//! A record is a *probe* (`probe`, kept for detectors that have not moved to
//! `client_probe`) when it was rejected, or when it is TCP, its flags show a SYN without
//! the SYN-ACK bit, and it carried at most `probe_max_packets` packets and `probe_max_bytes`
//! bytes (a handshake with no data: SYN scans, connect scans of closed ports), or it is one
//! such packet whatever its bytes (a SYN with a payload: nmap's `--data-length`), or SYN
//! alone in a few packets of headers only (a SYN resent; `syn_probe`). AWS's
//! `tcp-flags` has no ACK bit of its own (FIN 1, SYN 2, RST 4, SYN-ACK 18), so a client's
//! record of a whole short connection is SYN and FIN (3) too: over one packet, only its
//! size tells it from a probe. Without `tcp-flags` in the log only rejected
//! records are probes. `client_probe` is the same test restricted to records of the client
//! side (initiator = source), plus single-packet ICMP, UDP of one packet or of at most
//! `probe_max_packets` packets and `probe_max_bytes` bytes (a UDP scanner resends what
//! nothing answered), and, when the record has no `tcp-flags` (the v2 default format: a lone SYN cannot
//! be told apart otherwise), single-packet TCP within `probe_max_bytes` or TCP of at most
//! `probe_max_packets` packets that are all headers (at most 60 bytes a packet over IPv4, 80
//! over IPv6: no payload; nmap's SYN, SYN-ACK, RST leaves the scanner a record of 2 packets
//! and 84 bytes, a connect scan one of 3 and 124); `answer` says what a responder-side
//! record carried back.

use serde::Serialize;

use flowlog::{Action, Field, FlowDirection, FlowRecord, LogStatus, TrafficPath};

use crate::addr::{Addr, Class, Networks};
use crate::initiator::{self, Answer, DecidedBy, Evidence, Initiator};
use crate::middlebox::Leg;
use crate::rules::RulePack;
use crate::services::{ICMP, ICMPV6, ServiceSet, TCP, UDP};
use crate::sketch::mix64;
use crate::zones::{ZoneRef, Zones};

/// What every record needs classified, from the pack: turns a [`FlowRecord`] into a [`Flow`].
/// Cheap to clone (one per decoding thread); get it from
/// [`Engine::classifier`](crate::Engine::classifier).
#[derive(Clone, Debug)]
pub struct Classifier {
    /// Internal ranges, ours, relays.
    pub networks: Networks,
    /// Trust zones.
    pub zones: Zones,
    /// Whether any enabled detector reads zones.
    pub zones_used: bool,
    /// Probe limits.
    pub probe_max_packets: u64,
    /// Probe limits.
    pub probe_max_bytes: u64,
    /// Every service port of the pack's catalogue (the port fallback of the initiator).
    pub services: ServiceSet,
}

/// What of a record [`roles`] reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub protocol: Option<u8>,
    pub flags: Option<u16>,
    pub packets: u64,
    pub bytes: u64,
    pub action: Option<Action>,
    pub v6: bool,
}

impl Shape {
    /// Within `probe_max_packets` and `probe_max_bytes`.
    #[inline]
    fn small(&self, cx: &ProbeLimits) -> bool {
        self.packets <= cx.probe_max_packets && self.bytes <= cx.probe_max_bytes
    }

    /// The most bytes a TCP packet of headers only has over this record's IP version
    /// ([`MAX_TCP_HEADERS_V4`], [`MAX_TCP_HEADERS_V6`]).
    #[inline]
    fn max_headers(&self) -> u64 {
        if self.v6 {
            MAX_TCP_HEADERS_V6
        } else {
            MAX_TCP_HEADERS_V4
        }
    }
}

impl Flow {
    /// The [`Shape`] of this record.
    pub(crate) fn shape(&self) -> Shape {
        Shape {
            protocol: self.protocol,
            flags: self.flags,
            packets: self.packets,
            bytes: self.bytes,
            action: self.action,
            v6: self.peers.is_some_and(|(s, _)| !s.is_v4()),
        }
    }
}

impl Classifier {
    /// The classifier for a pack.
    pub fn new(pack: &RulePack, zones_used: bool) -> Classifier {
        Classifier {
            networks: pack.networks.clone(),
            zones: pack.zones.clone(),
            zones_used: zones_used && !pack.zones.is_empty(),
            probe_max_packets: pack.settings.probe_max_packets,
            probe_max_bytes: pack.settings.probe_max_bytes,
            services: ServiceSet::new(pack.services.clone()),
        }
    }

    /// The record fields classification reads (everything detectors and reports see comes
    /// through [`Flow`]), for decoders that parse only what is needed. `subnet-id` and
    /// `vpc-id` only when zones are in use.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields = vec![
            Field::InterfaceId,
            Field::Srcaddr,
            Field::Dstaddr,
            Field::Srcport,
            Field::Dstport,
            Field::Protocol,
            Field::Packets,
            Field::Bytes,
            Field::Start,
            Field::End,
            Field::Action,
            Field::LogStatus,
            Field::TcpFlags,
            Field::PktSrcaddr,
            Field::PktDstaddr,
            Field::PktDstAwsService,
            Field::FlowDirection,
            Field::TrafficPath,
            Field::InstanceId,
        ];
        if self.zones_used {
            fields.extend([Field::VpcId, Field::SubnetId]);
        }
        fields
    }
}

/// One record, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Logged source and destination, when both are present.
    pub addrs: Option<(Addr, Addr)>,
    /// The real endpoints: (`pkt-srcaddr` ?? `srcaddr`, `pkt-dstaddr` ?? `dstaddr`).
    pub peers: Option<(Addr, Addr)>,
    /// Direct, inner or outer leg of a relayed flow.
    pub leg: Leg,
    /// Class of the source peer.
    pub src_class: Class,
    /// Class of the destination peer.
    pub dst_class: Class,
    /// Whether the source peer is internal (ours or private).
    pub src_internal: bool,
    /// Whether the destination peer is internal (ours or private).
    pub dst_internal: bool,
    /// Source port (0 when absent).
    pub sport: u16,
    /// Destination port (0 when absent).
    pub dport: u16,
    /// Whether the record has ports (TCP, UDP, SCTP or unknown protocol, ports present).
    pub ported: bool,
    /// IANA protocol.
    pub protocol: Option<u8>,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Event time: `start` in Unix seconds (else `end`).
    pub time: Option<u64>,
    /// `end` in Unix seconds (else `start`).
    pub end: Option<u64>,
    /// ACCEPT / REJECT.
    pub action: Option<Action>,
    /// Log status (`OK` when the log has none).
    pub status: LogStatus,
    /// TCP flags bits.
    pub flags: Option<u16>,
    /// `flow-direction` (v5).
    pub direction: Option<FlowDirection>,
    /// `traffic-path` (v5, egress only).
    pub path: Option<TrafficPath>,
    /// Who opened the connection.
    pub initiator: Initiator,
    /// What decided [`Flow::initiator`].
    pub decided_by: DecidedBy,
    /// See the module docs (any side).
    pub probe: bool,
    /// A probe sent by the client side (see the module docs).
    pub client_probe: bool,
    /// What a responder-side record carried back.
    pub answer: Answer,
    /// `pkt-dst-aws-service` is one of [`crate::services::EXCLUDED_AWS_SERVICES`] (S3,
    /// DynamoDB), or `traffic-path` is 7 (a gateway VPC endpoint, which serves only those).
    pub dst_aws_storage: bool,
    /// The logged interface is requester-managed (`instance-id` `-`: a NAT gateway's, a load
    /// balancer's, an endpoint's; see [`flowlog::FlowRecord::requester_managed`]).
    pub managed_interface: bool,
    /// The logged interface is an instance's (`instance-id` names one). False when the value
    /// is `-` or the log has no `instance-id` (v2): nothing proves the interface has a
    /// security group (a NAT gateway's logs the internet's unsolicited SYNs as ACCEPT).
    pub instance_interface: bool,
    /// The logged interface.
    pub interface: Option<ShortId>,
    /// Source zone (when zones are in use).
    pub src_zone: ZoneRef,
    /// Destination zone (when zones are in use).
    pub dst_zone: ZoneRef,
}

/// Which logged side is the interface's own address (`(src, dst)`), from `flow-direction`,
/// else from the IPv4 private/public rule of the module docs.
#[inline]
fn interface_side(
    nets: &Networks,
    addrs: (Addr, Addr),
    direction: Option<FlowDirection>,
) -> (bool, bool) {
    match direction {
        Some(FlowDirection::Ingress) => (false, true),
        Some(FlowDirection::Egress) => (true, false),
        None => {
            let private = |a: Addr| a.is_v4() && nets.is_builtin_private(a);
            let public = |a: Addr| !nets.is_builtin_private(a) && !nets.is_ours(a);
            let (s, d) = addrs;
            (private(s) && public(d), private(d) && public(s))
        }
    }
}

/// The leg of a record and, at a known NAT gateway, its client side (see
/// [`crate::initiator`] rule 3). `ports`: the record's (source, destination) ports when it
/// is TCP or UDP with both.
#[inline]
fn legs(
    nets: &Networks,
    a: (Addr, Addr),
    p: (Addr, Addr),
    ports: Option<(u16, u16)>,
) -> (Leg, Initiator) {
    let nats = nets.nat_gateways();
    // Traffic to a secondary address logs the interface's primary address with the secondary
    // one in pkt-dstaddr (and the reverse for replies): same interface, not a relay.
    let aliased = (a.0 == p.0 || alias(a.0, p.0)) && (a.1 == p.1 || alias(a.1, p.1));
    if a != p && !aliased {
        let side = if nats.is_empty() {
            Initiator::Unknown
        } else if a.1 != p.1 && a.0 == p.0 && nats.contains(a.1) {
            Initiator::Src
        } else if a.0 != p.0 && a.1 == p.1 && nats.contains(a.0) {
            Initiator::Dst
        } else {
            Initiator::Unknown
        };
        return (Leg::Inner, side);
    }
    let relays = nets.middleboxes();
    if relays.is_empty() {
        return (Leg::Direct, Initiator::Unknown);
    }
    let public = |x: Addr| !nets.is_internal(x);
    let (nat_src, nat_dst) = (nats.contains(a.0), nats.contains(a.1));
    // A NAT gateway opens its connections from ports 1024-65535: a well-known port on its
    // side is an unsolicited packet to it (a scan), not its connection; the ports decide.
    let low = |nat_port: fn((u16, u16)) -> u16| {
        ports.is_some_and(|p| nat_port(p) < crate::middlebox::NAT_FIRST_PORT)
    };
    match (nat_src, nat_dst) {
        (true, false) if public(a.1) && low(|p| p.0) => return (Leg::Outer, Initiator::Unknown),
        (false, true) if public(a.0) && low(|p| p.1) => return (Leg::Outer, Initiator::Unknown),
        // The NAT's own address is the client of its outer leg...
        (true, false) if public(a.1) => return (Leg::Outer, Initiator::Src),
        (false, true) if public(a.0) => return (Leg::Outer, Initiator::Dst),
        // ...and relays for the internal peer on an inner leg logged without pkt fields.
        (true, false) => return (Leg::Direct, Initiator::Dst),
        (false, true) => return (Leg::Direct, Initiator::Src),
        _ => {}
    }
    let (relay_src, relay_dst) = (relays.contains(a.0), relays.contains(a.1));
    if (relay_src && !relay_dst && public(a.1)) || (relay_dst && !relay_src && public(a.0)) {
        (Leg::Outer, Initiator::Unknown)
    } else {
        (Leg::Direct, Initiator::Unknown)
    }
}

/// Two different addresses of one interface: the same IPv4 /24 or IPv6 /64 (a relay's own
/// address and the far peer it stands for are not on one subnet).
#[inline]
fn alias(x: Addr, y: Addr) -> bool {
    x != y
        && x.is_v4() == y.is_v4()
        && if x.is_v4() {
            x.0 >> 8 == y.0 >> 8
        } else {
            x.0 >> 64 == y.0 >> 64
        }
}

/// The classes of the peers (see the module docs).
#[inline]
fn classes(
    nets: &Networks,
    addrs: (Addr, Addr),
    peers: (Addr, Addr),
    direction: Option<FlowDirection>,
    path: Option<TrafficPath>,
    relayed: bool,
) -> (Class, Class) {
    let (iface_src, iface_dst) = interface_side(nets, addrs, direction);
    let mut src = nets.class(peers.0);
    let mut dst = nets.class(peers.1);
    // The interface's side is ours, and so is the endpoint on a relay's inner leg that is
    // logged as itself (the instance behind a NAT, the target behind a load balancer, the
    // server behind a transit gateway attachment: it reached the relay's interface in our VPC),
    // unless it is a public IPv4 address (never a VPC-local one).
    let own = |logged: Addr, peer: Addr, iface: bool| {
        (iface && (peer == logged || alias(logged, peer)))
            || (relayed && peer == logged && (nets.is_internal(peer) || !peer.is_v4()))
    };
    if own(addrs.0, peers.0, iface_src) {
        src = Class::Ours;
    }
    if own(addrs.1, peers.1, iface_dst) {
        dst = Class::Ours;
    }
    // A VPC's IPv6 block is its own /56 (Amazon gives each VPC exactly one; a BYOIP block is
    // its owner's): a global IPv6 peer in the /56 of an address of ours is in our VPC.
    let same_block = peers.0.0 >> 72 == peers.1.0 >> 72 && !peers.0.is_v4() && !peers.1.is_v4();
    if same_block {
        match (src, dst) {
            (Class::Ours, Class::Public) => dst = Class::Ours,
            (Class::Public, Class::Ours) => src = Class::Ours,
            _ => {}
        }
    }
    let private_path = matches!(
        path,
        Some(
            TrafficPath::VirtualPrivateGateway
                | TrafficPath::IntraRegionPeering
                | TrafficPath::InterRegionPeering
                | TrafficPath::LocalGateway
        )
    );
    if private_path && direction != Some(FlowDirection::Ingress) && dst == Class::Public {
        dst = Class::Private;
    }
    (src, dst)
}

/// A TCP packet of only the IPv4 header (20 bytes) and a TCP header without options (20).
const BARE_TCP_V4: u64 = 40;
/// The same over IPv6 (a 40-byte header).
const BARE_TCP_V6: u64 = 60;
/// The smallest TCP option every SYN carries (maximum segment size).
const MSS_OPTION: u64 = 4;
/// Most sends of one SYN: nmap's `--max-retries 10` (Linux sends 7, Windows 3).
const MAX_SYN_SENDS: u64 = 11;

/// A TCP packet of headers only, as stacks send them: the IPv4 header and a TCP header with
/// up to 20 bytes of options (a Linux SYN's MSS, SACK, timestamps and window scale; an ACK
/// with timestamps is 52). One byte of payload more and it is 61.
const MAX_TCP_HEADERS_V4: u64 = 60;
/// The same over IPv6 (a 40-byte header).
const MAX_TCP_HEADERS_V6: u64 = 80;

impl Classifier {
    /// `probe_max_packets` and `probe_max_bytes`.
    pub(crate) fn probe_limits(&self) -> ProbeLimits {
        ProbeLimits {
            probe_max_packets: self.probe_max_packets,
            probe_max_bytes: self.probe_max_bytes,
        }
    }
}

/// The pack's probe sizes ([`roles`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProbeLimits {
    pub probe_max_packets: u64,
    pub probe_max_bytes: u64,
}

/// Whether a TCP record is a SYN probe: its flags show a SYN without the SYN-ACK bit, and it
/// is one packet whatever its bytes (a SYN with a payload, nmap's `--data-length`), or
/// within the probe size, or SYN alone (no FIN, no RST) in at most [`MAX_SYN_SENDS`] packets
/// of headers only (a SYN resent: nmap's retries, `connect()` retrying six times; more
/// packets of that average size are a connection's ACKs, as a download's first interval).
/// AWS logs no ACK bit, so a client's whole short connection is SYN and FIN (3) with its
/// data: over one packet only its size tells it from a probe.
#[inline]
pub(crate) fn syn_probe(shape: &Shape, cx: &ProbeLimits) -> bool {
    let Some(f) = shape
        .flags
        .filter(|f| shape.protocol == Some(TCP) && f & 0x12 == 0x02)
    else {
        return false;
    };
    let packets = shape.packets;
    packets <= 1
        || shape.small(cx)
        || (f == 0x02
            && packets <= MAX_SYN_SENDS
            && shape.bytes <= packets.saturating_mul(shape.max_headers()))
}

/// Whether a record is its client's probe, and what it says the server answered, given who
/// initiated it and its [`syn_probe`] (the rest of [`Classifier::classify`];
/// [`crate::openers`] calls it again when a connection's SYN, seen earlier, decides a later
/// record).
#[inline]
pub(crate) fn roles(
    initiator: Initiator,
    shape: &Shape,
    cx: &ProbeLimits,
    syn: bool,
) -> (bool, Answer) {
    let Shape {
        protocol,
        flags,
        packets,
        bytes,
        action,
        v6,
    } = *shape;
    let rejected = action == Some(Action::Reject);
    let small = shape.small(cx);
    // Records that nothing needs to have answered: one packet of ICMP, UDP of one packet or
    // within the probe size, or, in a log without
    // `tcp-flags` (the v2 default), one TCP packet within the probe size (a SYN looks so)
    // or a few packets of headers only (a scanner's SYN and RST: no payload sent).
    let single = match protocol {
        Some(ICMP | ICMPV6) => packets <= 1,
        // A UDP scanner resends a probe nothing answered (nmap -sU): a few small packets.
        Some(UDP) => packets <= 1 || small,
        Some(TCP) if flags.is_none() => {
            (packets <= 1 && bytes <= cx.probe_max_bytes)
                || (packets <= cx.probe_max_packets && bytes <= packets * shape.max_headers())
        }
        _ => false,
    };
    // Without `tcp-flags`, a TCP record holds a SYN only if a packet of it is over the
    // bare headers: every SYN carries TCP options (MSS at least, 4 bytes). Packets of
    // exactly 40 bytes (60 over IPv6) are ACKs and resets: an idle connection's
    // keep-alives, a pool aborted with resets, never a probe.
    let could_syn = protocol != Some(TCP)
        || flags.is_some()
        || bytes
            >= packets
                .saturating_mul(if v6 { BARE_TCP_V6 } else { BARE_TCP_V4 })
                .saturating_add(MSS_OPTION);
    let client_probe = initiator == Initiator::Src && (rejected || syn || (single && could_syn));
    let answer = match initiator {
        _ if rejected => Answer::None,
        Initiator::Dst => {
            let synack = protocol == Some(TCP) && flags.is_some_and(|f| f & 0x12 == 0x12);
            // One TCP packet within the probe size in a log without `tcp-flags` (the v2
            // default: `single`) is a SYN-ACK or a reset: it served nothing. A SYN-ACK
            // carries TCP options (every stack sends MSS), a reset none: over the bare
            // IP and TCP headers it is a SYN-ACK (the port listens), else a reset (a
            // closed port, a scanner's usual answer), no answer.
            let bare = single && protocol == Some(TCP);
            if synack && packets <= 2 && bytes <= cx.probe_max_bytes {
                Answer::SynAck
            } else if bare {
                if bytes > if v6 { BARE_TCP_V6 } else { BARE_TCP_V4 } {
                    Answer::SynAck
                } else {
                    Answer::None
                }
            } else if bytes > 0 {
                Answer::Data
            } else {
                Answer::None
            }
        }
        Initiator::Src if !client_probe && action == Some(Action::Accept) && !small => Answer::Data,
        Initiator::Unknown if action == Some(Action::Accept) && !small => Answer::Data,
        _ => Answer::None,
    };
    (client_probe, answer)
}

impl Classifier {
    /// Classifies a record.
    #[inline]
    pub fn classify(&self, r: &FlowRecord<'_>) -> Flow {
        let cx = self;
        let nets = &cx.networks;
        let addrs = match (r.srcaddr, r.dstaddr) {
            (Some(s), Some(d)) => Some((Addr::new(s), Addr::new(d))),
            _ => None,
        };
        let peers = addrs.map(|(s, d)| {
            (
                r.pkt_srcaddr.map_or(s, Addr::new),
                r.pkt_dstaddr.map_or(d, Addr::new),
            )
        });
        let direction = r.flow_direction;
        let path = r.traffic_path;
        let ports = match (r.protocol, r.srcport, r.dstport) {
            (Some(6 | 17), Some(s), Some(d)) => Some((s, d)),
            _ => None,
        };
        let (leg, nat_client) = match (addrs, peers) {
            (Some(a), Some(p)) => legs(nets, a, p, ports),
            _ => (Leg::Direct, Initiator::Unknown),
        };
        let (src_class, dst_class) = match (addrs, peers) {
            (Some(a), Some(p)) => classes(nets, a, p, direction, path, leg == Leg::Inner),
            _ => (Class::Public, Class::Public),
        };
        let protocol = r.protocol;
        let ported = matches!(protocol, Some(6 | 17 | 132) | None)
            && r.srcport.is_some()
            && r.dstport.is_some();
        let flags = r.tcp_flags.map(|f| f.bits());
        let packets = r.packets.unwrap_or(0);
        let bytes = r.bytes.unwrap_or(0);
        let action = r.action;
        let rejected = action == Some(Action::Reject);
        let sport = r.srcport.unwrap_or(0);
        let dport = r.dstport.unwrap_or(0);
        let (initiator, decided_by) = initiator::decide(
            &Evidence {
                protocol,
                flags,
                rejected,
                ingress: direction == Some(FlowDirection::Ingress),
                nat_client,
                ported,
                sport,
                dport,
            },
            &cx.services,
        );
        let v6 = peers.is_some_and(|(s, _)| !s.is_v4());
        let shape = Shape {
            protocol,
            flags,
            packets,
            bytes,
            action,
            v6,
        };
        let limits = cx.probe_limits();
        let syn = syn_probe(&shape, &limits);
        let probe = rejected || syn;
        let (client_probe, answer) = roles(initiator, &shape, &limits, syn);
        let start = r.start.map(|t| t.unix_secs());
        let end = r.end.map(|t| t.unix_secs());
        let (mut src_zone, mut dst_zone) = (ZoneRef::Internet, ZoneRef::Internet);
        if cx.zones_used
            && let Some((s, d)) = peers
        {
            let side = Some((r.subnet_id, r.vpc_id));
            let (s_side, d_side) = match direction {
                Some(FlowDirection::Egress) => (side, None),
                Some(FlowDirection::Ingress) => (None, side),
                None => (None, None),
            };
            src_zone = cx.zones.classify(s, src_class.internal(), s_side);
            dst_zone = cx.zones.classify(d, dst_class.internal(), d_side);
        }
        Flow {
            addrs,
            peers,
            leg,
            src_class,
            dst_class,
            src_internal: src_class.internal(),
            dst_internal: dst_class.internal(),
            sport,
            dport,
            ported,
            protocol,
            packets,
            bytes,
            time: start.or(end),
            end: end.or(start),
            action,
            status: r.log_status.unwrap_or(LogStatus::Ok),
            flags,
            direction,
            path,
            initiator,
            decided_by,
            probe,
            client_probe,
            answer,
            // A gateway VPC endpoint serves only S3 and DynamoDB, so `traffic-path` 7 says
            // the same as their `pkt-dst-aws-service` labels, in logs that lack those.
            dst_aws_storage: path == Some(TrafficPath::GatewayEndpointNitro)
                || r.pkt_dst_aws_service
                    .is_some_and(|s| crate::services::EXCLUDED_AWS_SERVICES.contains(&s)),
            managed_interface: r.requester_managed,
            instance_interface: r.instance_id.is_some(),
            interface: r.interface_id.map(ShortId::new),
            src_zone,
            dst_zone,
        }
    }
}

/// A record's semantics as labels, for tests, debugging and `--explain`-style output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Semantics {
    /// Source and destination peers.
    pub peers: Option<(String, String)>,
    /// `direct`, `inner`, `outer`.
    pub leg: &'static str,
    /// `ours`, `private`, `public`.
    pub src_class: &'static str,
    /// `ours`, `private`, `public`.
    pub dst_class: &'static str,
    /// `src`, `dst`, `unknown`.
    pub initiator: &'static str,
    /// [`DecidedBy::label`].
    pub decided_by: &'static str,
    /// The client peer.
    pub client: Option<String>,
    /// The server peer.
    pub server: Option<String>,
    /// The server's port.
    pub service_port: Option<u16>,
    /// A client-side probe.
    pub client_probe: bool,
    /// `none`, `syn-ack`, `data`.
    pub answer: &'static str,
}

impl Flow {
    /// The record's semantics as labels.
    pub fn semantics(&self) -> Semantics {
        Semantics {
            peers: self.peers.map(|(s, d)| (s.to_string(), d.to_string())),
            leg: self.leg.label(),
            src_class: self.src_class.label(),
            dst_class: self.dst_class.label(),
            initiator: self.initiator.label(),
            decided_by: self.decided_by.label(),
            client: self.client().map(|(a, _)| a.to_string()),
            server: self.server().map(|(a, _)| a.to_string()),
            service_port: self.service_port(),
            client_probe: self.client_probe,
            answer: self.answer.label(),
        }
    }

    /// Whether the record was accepted.
    #[inline]
    pub fn accepted(&self) -> bool {
        self.action == Some(Action::Accept)
    }

    /// Whether the record was rejected.
    #[inline]
    pub fn rejected(&self) -> bool {
        self.action == Some(Action::Reject)
    }

    /// The client peer and its class (`None` when the initiator is unknown or addresses are
    /// missing).
    #[inline]
    pub fn client(&self) -> Option<(Addr, Class)> {
        let (s, d) = self.peers?;
        match self.initiator {
            Initiator::Src => Some((s, self.src_class)),
            Initiator::Dst => Some((d, self.dst_class)),
            Initiator::Unknown => None,
        }
    }

    /// The server (responder) peer and its class (`None` when the initiator is unknown).
    #[inline]
    pub fn server(&self) -> Option<(Addr, Class)> {
        let (s, d) = self.peers?;
        match self.initiator {
            Initiator::Src => Some((d, self.dst_class)),
            Initiator::Dst => Some((s, self.src_class)),
            Initiator::Unknown => None,
        }
    }

    /// The server's port (`None` when the initiator is unknown or the record has no ports).
    #[inline]
    pub fn service_port(&self) -> Option<u16> {
        if !self.ported {
            return None;
        }
        match self.initiator {
            Initiator::Src => Some(self.dport),
            Initiator::Dst => Some(self.sport),
            Initiator::Unknown => None,
        }
    }

    /// The client's port (`None` when the initiator is unknown or the record has no ports).
    #[inline]
    pub fn client_port(&self) -> Option<u16> {
        if !self.ported {
            return None;
        }
        match self.initiator {
            Initiator::Src => Some(self.sport),
            Initiator::Dst => Some(self.dport),
            Initiator::Unknown => None,
        }
    }
}

/// An AWS id (`eni-0123456789abcdef0`, `subnet-...`) copied into a fixed 24-byte key. Longer
/// ids keep their first 16 bytes and a 64-bit hash of the whole id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortId {
    len: u8,
    bytes: [u8; 24],
}

impl ShortId {
    /// The key of an id.
    #[inline]
    pub fn new(id: &str) -> ShortId {
        let mut bytes = [0u8; 24];
        let b = id.as_bytes();
        if b.len() <= 24 {
            copy_short(&mut bytes, b);
            ShortId {
                len: b.len() as u8,
                bytes,
            }
        } else {
            bytes[..16].copy_from_slice(&b[..16]);
            let mut h = 0xcbf2_9ce4_8422_2325_u64;
            for &c in b {
                h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
            }
            bytes[16..].copy_from_slice(&h.to_le_bytes());
            ShortId {
                len: u8::MAX,
                bytes,
            }
        }
    }

    /// A 32-bit fingerprint of the id (to tell two interfaces apart cheaply).
    #[inline]
    pub fn fingerprint(&self) -> u32 {
        let mut h = u64::from(self.len);
        for word in self.bytes.chunks_exact(8) {
            h = mix64(h ^ u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        h as u32
    }

    /// The id as text (a long id shows its prefix and hash).
    pub fn text(&self) -> String {
        if self.len == u8::MAX {
            let h = u64::from_le_bytes(self.bytes[16..].try_into().expect("8 bytes"));
            format!("{}~{h:016x}", String::from_utf8_lossy(&self.bytes[..16]))
        } else {
            String::from_utf8_lossy(&self.bytes[..usize::from(self.len)]).into_owned()
        }
    }
}

/// `dst[..src.len()] = src` for `src.len() <= 24`, the rest of `dst` zero: the three words
/// of `dst` are put together in registers from at most three (overlapping) loads of `src` and
/// stored once each. (Overlapping stores into `dst`, as a copy of the head and one of the
/// tail would be, make the next wide load of the id wait for them: store forwarding fails,
/// and that load was the costliest instruction of classification.)
#[inline]
fn copy_short(dst: &mut [u8; 24], src: &[u8]) {
    let n = src.len();
    let word = |at: usize| u64::from_le_bytes(src[at..at + 8].try_into().expect("8 bytes"));
    // The bytes of `src` from `from` on, as a word (those past `n` zero), given its last
    // eight bytes (`n - 8..n`), `from` within `n - 8..=n`.
    let tail = |last: u64, from: usize| {
        let skip = 8 - (n - from);
        if skip >= 8 { 0 } else { last >> (8 * skip) }
    };
    let words = if n >= 16 {
        [word(0), word(8), tail(word(n - 8), 16)]
    } else if n >= 8 {
        [word(0), tail(word(n - 8), 8), 0]
    } else {
        let mut w = 0u64;
        for (i, b) in src.iter().enumerate() {
            w |= u64::from(*b) << (8 * i);
        }
        [w, 0, 0]
    };
    for (d, w) in dst.chunks_exact_mut(8).zip(words) {
        d.copy_from_slice(&w.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlog::Schema;

    #[test]
    fn short_copies_match_a_plain_copy_at_every_length() {
        let text = b"eni-0123456789abcdef0XYZ";
        for n in 0..=24 {
            let mut fast = [0u8; 24];
            copy_short(&mut fast, &text[..n]);
            let mut plain = [0u8; 24];
            plain[..n].copy_from_slice(&text[..n]);
            assert_eq!(fast, plain, "{n}");
        }
    }

    /// Flows travel between threads in batches and the engine reads every byte of each: keep
    /// them small (224 bytes before `raw_times` went and `Addr` was aligned to 8).
    #[test]
    fn flows_stay_small() {
        assert!(
            std::mem::size_of::<Flow>() <= 192,
            "{}",
            std::mem::size_of::<Flow>()
        );
    }

    #[test]
    fn probes_and_classes() {
        let pack = RulePack::from_yaml("version: 1\ndetectors: []\n").unwrap();
        let cx = Classifier::new(&pack, false);
        let schema = Schema::from_header(
            "srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags",
        )
        .unwrap();
        let flow = |line: &str| {
            let r = schema.decode(line).unwrap();
            let f = cx.classify(&r);
            (f.probe, f.src_internal, f.dst_internal)
        };
        assert_eq!(
            flow("203.0.113.5 10.0.0.1 40000 22 6 1 44 100 110 ACCEPT 2"),
            (true, false, true)
        );
        assert!(!flow("203.0.113.5 10.0.0.1 40000 22 6 1 44 100 110 ACCEPT 18").0);
        assert!(!flow("203.0.113.5 10.0.0.1 40000 22 6 9 900 100 110 ACCEPT 3").0);
        assert!(flow("203.0.113.5 10.0.0.1 40000 22 6 9 900 100 110 REJECT -").0);
        assert_eq!(
            flow("10.0.0.1 10.0.0.2 40000 53 17 1 60 100 110 ACCEPT -"),
            (false, true, true)
        );
    }

    /// Regression (probe `sweepv2`): in a log without `tcp-flags`, a one-packet TCP record
    /// from the client within the probe size was not a probe, so a sweep of accepted,
    /// unanswered SYNs found nothing; a record with flags keeps the flag test.
    #[test]
    fn single_packet_tcp_without_flags_is_a_client_probe() {
        let pack = RulePack::from_yaml(crate::DEFAULT_PACK_YAML).unwrap();
        let cx = Classifier::new(&pack, false);
        let v2 = Schema::default_v2();
        let probe = |line: &str| cx.classify(&v2.decode(line).unwrap()).client_probe;
        assert!(probe(
            "2 1 eni-1 10.30.4.66 10.30.1.9 40000 6379 6 1 60 100 110 ACCEPT OK"
        ));
        assert!(!probe(
            "2 1 eni-1 10.30.4.66 10.30.1.9 40000 6379 6 12 9000 100 110 ACCEPT OK"
        ));
        assert!(!probe(
            "2 1 eni-1 10.30.4.66 10.30.1.9 40000 6379 6 1 9000 100 110 ACCEPT OK"
        ));
        let flagged = Schema::from_header(
            "srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags",
        )
        .unwrap();
        let with_flags = |line: &str| cx.classify(&flagged.decode(line).unwrap()).client_probe;
        // An ACK-only packet is not a probe when the flags say so.
        assert!(!with_flags(
            "10.30.4.66 10.30.1.9 40000 6379 6 1 60 100 110 ACCEPT 16"
        ));
        assert!(with_flags(
            "10.30.4.66 10.30.1.9 40000 6379 6 1 60 100 110 ACCEPT 2"
        ));
    }

    #[test]
    fn short_ids() {
        let id = ShortId::new("subnet-0123456789abcdef0");
        assert_eq!(id.text(), "subnet-0123456789abcdef0");
        let long = ShortId::new("interface-with-a-very-long-name-indeed");
        assert!(long.text().starts_with("interface-with-a~"));
        assert_ne!(long, ShortId::new("interface-with-a-very-long-name-indeeD"));
    }
}
