//! Realism-2 records and connections, logged the way AWS logs them:
//!
//! - one record per interface, direction and aggregation interval (60 s, or AWS's default of
//!   600 s with `--aggregation 600`, see [`AGGREGATION`]): a connection that lasts longer is
//!   cut into one record per interval;
//! - `tcp-flags` is the OR of the flags seen in that interval on that side: the client's first
//!   record carries SYN (2, or 3 with FIN when it also closes in that interval), the server's
//!   SYN-ACK (18 / 19), records of an established connection with neither carry 0, the closing
//!   interval 1 (FIN) or 4 (RST);
//! - `flow-direction` is relative to the interface that logged the record, `traffic-path` is
//!   written only on egress records (1 inside the VPC, 7 gateway endpoint, 8 internet gateway);
//! - a flow relayed by a NAT gateway is logged on the instance (its own addresses, path 1) and
//!   on the NAT gateway's interface twice: the inner leg (`srcaddr` the instance, `dstaddr` the
//!   NAT's private address, `pkt-dstaddr` the internet host) and the outer leg (NAT private
//!   address and NAT port ↔ internet host), replies mirrored (`pkt-srcaddr` the internet host);
//! - a rejected flow is logged REJECT by the server's interface; the client's interface (if
//!   ours) still logs its outgoing SYNs as ACCEPT (its security group let them out);
//! - traffic to or from a secondary address (a pod) shows the interface's primary address in
//!   `dstaddr`/`srcaddr` of that interface's records, the pod's in `pkt-dstaddr`/`pkt-srcaddr`;
//! - each interface adds its own capture delay (0–10 s) to `start` and `end`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use super::traffic::{Dir, Status};

/// One record as logged by interface `eni` of its VPC.
#[derive(Clone, Debug)]
pub struct Rec2 {
    pub eni: u16,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub psrc: IpAddr,
    pub pdst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    pub start: u64,
    pub end: u64,
    pub accept: bool,
    pub status: Status,
    pub flags: u16,
    pub dir: Dir,
    pub src_svc: Option<&'static str>,
    pub dst_svc: Option<&'static str>,
    /// traffic-path (egress only; 0: none).
    pub path: u8,
}

impl Rec2 {
    /// A NODATA/SKIPDATA record of an interface.
    pub fn status(eni: u16, status: Status, start: u64, end: u64) -> Rec2 {
        let none = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        Rec2 {
            eni,
            src: none,
            dst: none,
            psrc: none,
            pdst: none,
            sport: 0,
            dport: 0,
            proto: 0,
            packets: 0,
            bytes: 0,
            start,
            end,
            accept: false,
            status,
            flags: 0,
            dir: Dir::Ingress,
            src_svc: None,
            dst_svc: None,
            path: 0,
        }
    }
}

/// An interface of ours at one end of a connection: index and capture delay.
#[derive(Clone, Copy, Debug)]
pub struct Tap {
    pub eni: u16,
    pub jitter: u64,
}

/// One end of a connection.
#[derive(Clone, Copy, Debug)]
pub struct End {
    pub ip: IpAddr,
    pub port: u16,
    /// The interface that logs this end (None: not in our logs, e.g. the internet).
    pub tap: Option<Tap>,
    /// The AWS service this address belongs to (`pkt-*-aws-service`).
    pub svc: Option<&'static str>,
    /// The logging interface's primary address when `ip` is a secondary one (a pod): AWS
    /// writes it in `dstaddr` (ingress) or `srcaddr` (egress) of that interface's records and
    /// keeps `ip` in `pkt-dstaddr` / `pkt-srcaddr`.
    pub primary: Option<IpAddr>,
}

/// The NAT gateway that relays a connection from a private instance.
#[derive(Clone, Copy, Debug)]
pub struct Nat {
    pub tap: Tap,
    /// The NAT gateway's private address.
    pub ip: IpAddr,
    /// The port the NAT gateway chose (1024–65535).
    pub port: u16,
}

/// How a TCP connection behaves on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Opens (SYN / SYN-ACK) and closes (FIN) inside the span.
    Full,
    /// Established before the span and still open after it: every record carries 0.
    Established,
    /// Opens inside the span, still open after it.
    Opens,
    /// Established before, closes (FIN) inside the span.
    Closes,
    /// The client's SYN gets no answer (dropped, filtered or rejected).
    Syn,
    /// SYN, SYN-ACK, then the client resets (half-open scan, TCP health check).
    SynRst,
    /// SYN answered by the server's RST (closed port behind an open security group).
    Refused,
}

/// A connection (or UDP/ICMP exchange) between a client and a server.
#[derive(Clone, Debug)]
pub struct Conn2 {
    pub client: End,
    pub server: End,
    pub proto: u8,
    /// First and last packet.
    pub start: u64,
    pub end: u64,
    /// Packets and bytes client → server and server → client over the whole span.
    pub req: (u64, u64),
    pub resp: (u64, u64),
    pub shape: Shape,
    /// Whether the server's security group accepts it.
    pub accept: bool,
    /// traffic-path of the client's egress records, and of the server's.
    pub client_path: u8,
    pub server_path: u8,
    pub nat: Option<Nat>,
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;

/// The flow logs' maximum aggregation interval in seconds (60 or 600), set once by
/// `--aggregation` before any record is made (one value per run, like the flow logs' own
/// `MaxAggregationInterval`).
pub static AGGREGATION: AtomicU64 = AtomicU64::new(60);

/// The aggregation interval in use.
pub fn aggregation() -> u64 {
    AGGREGATION.load(Ordering::Relaxed)
}

/// The aggregation intervals a span `[start, end]` touches, as sub-spans.
fn intervals(start: u64, end: u64) -> Vec<(u64, u64)> {
    let end = end.max(start);
    let size = aggregation();
    let mut out = Vec::new();
    let mut a = start;
    loop {
        let boundary = (a / size + 1) * size;
        if end < boundary {
            out.push((a, end));
            return out;
        }
        out.push((a, boundary - 1));
        a = boundary;
    }
}

/// `total` split over `n` parts in proportion to `weights` (each part at least `min`).
fn split(total: u64, weights: &[u64], min: u64) -> Vec<u64> {
    let sum: u64 = weights.iter().map(|w| w + 1).sum();
    weights
        .iter()
        .map(|w| (total * (w + 1) / sum).max(min))
        .collect()
}

impl Conn2 {
    fn tcp(&self) -> bool {
        self.proto == TCP
    }

    /// The client's and server's flags in interval `k` of `n`.
    fn flags(&self, k: usize, n: usize) -> (u16, u16) {
        if !self.tcp() {
            return (0, 0);
        }
        let (first, last) = (k == 0, k + 1 == n);
        let opens = matches!(self.shape, Shape::Full | Shape::Opens);
        let closes = matches!(self.shape, Shape::Full | Shape::Closes);
        match self.shape {
            Shape::Syn => (if first { 2 } else { 0 }, 0),
            Shape::SynRst => (if first { 2 } else { 0 } | if last { 4 } else { 0 }, 18),
            Shape::Refused => (2, 4),
            _ => {
                let c = if first && opens { 2 } else { 0 } | if last && closes { 1 } else { 0 };
                let s = if first && opens { 18 } else { 0 } | if last && closes { 1 } else { 0 };
                (c, s)
            }
        }
    }

    /// Appends every record of this connection.
    pub fn emit(&self, out: &mut Vec<Rec2>) {
        let spans = intervals(self.start, self.end);
        let n = spans.len();
        let weights: Vec<u64> = spans.iter().map(|(a, b)| b - a).collect();
        let min_packets = if self.tcp() && self.shape == Shape::Established {
            1
        } else {
            0
        };
        let reply = self.accept && self.resp.0 > 0 && self.shape != Shape::Syn;
        let req_p = split(self.req.0, &weights, 1);
        let req_b = split(self.req.1, &weights, 40);
        let resp_p = split(self.resp.0, &weights, min_packets.max(1));
        let resp_b = split(self.resp.1, &weights, 40);
        for (k, (a, b)) in spans.into_iter().enumerate() {
            let (cf, sf) = self.flags(k, n);
            let req = Part {
                packets: req_p[k],
                bytes: req_b[k].max(req_p[k] * 40),
                flags: cf,
                start: a,
                end: b,
            };
            let resp = Part {
                packets: resp_p[k],
                bytes: resp_b[k].max(resp_p[k] * 40),
                flags: sf,
                start: a,
                end: b,
            };
            self.emit_interval(out, &req, reply.then_some(&resp));
        }
    }

    fn emit_interval(&self, out: &mut Vec<Rec2>, req: &Part, resp: Option<&Part>) {
        let (c, s) = (self.client, self.server);
        let rec = |tap: Tap, from: &End, to: &End, part: &Part, dir: Dir, accept: bool, path| {
            // The interface's own (primary) address stands for a secondary one on its records.
            let (src, dst) = match dir {
                Dir::Egress => (from.primary.unwrap_or(from.ip), to.ip),
                Dir::Ingress => (from.ip, to.primary.unwrap_or(to.ip)),
            };
            Rec2 {
                eni: tap.eni,
                src,
                dst,
                psrc: from.ip,
                pdst: to.ip,
                sport: from.port,
                dport: to.port,
                proto: self.proto,
                packets: part.packets,
                bytes: part.bytes,
                start: part.start + tap.jitter,
                end: part.end + tap.jitter,
                accept,
                status: Status::Ok,
                flags: part.flags,
                dir,
                src_svc: from.svc,
                dst_svc: to.svc,
                path: if dir == Dir::Egress { path } else { 0 },
            }
        };
        if let Some(t) = c.tap {
            out.push(rec(t, &c, &s, req, Dir::Egress, true, self.client_path));
        }
        if let Some(nat) = &self.nat {
            self.emit_nat(out, nat, req, resp);
        }
        if let Some(t) = s.tap {
            out.push(rec(t, &c, &s, req, Dir::Ingress, self.accept, 0));
        }
        let Some(resp) = resp else { return };
        if let Some(t) = s.tap {
            out.push(rec(t, &s, &c, resp, Dir::Egress, true, self.server_path));
        }
        if let Some(t) = c.tap {
            out.push(rec(t, &s, &c, resp, Dir::Ingress, true, 0));
        }
    }

    /// The four records of one interval on the NAT gateway's interface.
    fn emit_nat(&self, out: &mut Vec<Rec2>, nat: &Nat, req: &Part, resp: Option<&Part>) {
        let (c, s) = (self.client, self.server);
        let base = |part: &Part, dir: Dir| Rec2 {
            eni: nat.tap.eni,
            src: c.ip,
            dst: s.ip,
            psrc: c.ip,
            pdst: s.ip,
            sport: 0,
            dport: 0,
            proto: self.proto,
            packets: part.packets,
            bytes: part.bytes,
            start: part.start + nat.tap.jitter,
            end: part.end + nat.tap.jitter,
            accept: true,
            status: Status::Ok,
            flags: part.flags,
            dir,
            src_svc: None,
            dst_svc: None,
            path: 0,
        };
        // Inner leg in: instance → NAT (the packet is for the internet host).
        out.push(Rec2 {
            dst: nat.ip,
            sport: c.port,
            dport: s.port,
            dst_svc: s.svc,
            ..base(req, Dir::Ingress)
        });
        // Outer leg out: NAT → internet host.
        out.push(Rec2 {
            src: nat.ip,
            psrc: nat.ip,
            sport: nat.port,
            dport: s.port,
            dst_svc: s.svc,
            path: 8,
            ..base(req, Dir::Egress)
        });
        let Some(resp) = resp else { return };
        // Outer leg in: internet host → NAT port.
        out.push(Rec2 {
            src: s.ip,
            dst: nat.ip,
            psrc: s.ip,
            pdst: nat.ip,
            sport: s.port,
            dport: nat.port,
            src_svc: s.svc,
            ..base(resp, Dir::Ingress)
        });
        // Inner leg out: NAT → instance (the packet is from the internet host).
        out.push(Rec2 {
            src: nat.ip,
            dst: c.ip,
            psrc: s.ip,
            pdst: c.ip,
            sport: s.port,
            dport: c.port,
            src_svc: s.svc,
            path: 1,
            ..base(resp, Dir::Egress)
        });
    }
}

/// One side's share of one interval.
struct Part {
    packets: u64,
    bytes: u64,
    flags: u16,
    start: u64,
    end: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn end(ip: [u8; 4], port: u16, eni: Option<u16>) -> End {
        End {
            ip: IpAddr::V4(Ipv4Addr::from(ip)),
            port,
            tap: eni.map(|eni| Tap {
                eni,
                jitter: eni.into(),
            }),
            svc: None,
            primary: None,
        }
    }

    fn conn(start: u64, end_: u64, shape: Shape) -> Conn2 {
        Conn2 {
            client: end([10, 0, 1, 5], 40_000, Some(1)),
            server: end([10, 0, 2, 6], 8080, Some(2)),
            proto: TCP,
            start,
            end: end_,
            req: (30, 3_000),
            resp: (30, 30_000),
            shape,
            accept: true,
            client_path: 1,
            server_path: 1,
            nat: None,
        }
    }

    #[test]
    fn a_short_connection_is_four_records_with_or_ed_flags() {
        let mut out = Vec::new();
        conn(120, 125, Shape::Full).emit(&mut out);
        let flags: Vec<(u16, Dir, u16)> = out.iter().map(|r| (r.eni, r.dir, r.flags)).collect();
        assert_eq!(
            flags,
            [
                (1, Dir::Egress, 3),
                (2, Dir::Ingress, 3),
                (2, Dir::Egress, 19),
                (1, Dir::Ingress, 19)
            ]
        );
        assert_eq!(
            (out[0].start, out[1].start),
            (121, 122),
            "per-interface delay"
        );
    }

    #[test]
    fn a_long_connection_is_cut_per_minute_and_middle_records_carry_no_flags() {
        let mut out = Vec::new();
        conn(100, 250, Shape::Full).emit(&mut out);
        let client: Vec<u16> = out
            .iter()
            .filter(|r| r.eni == 1 && r.dir == Dir::Egress)
            .map(|r| r.flags)
            .collect();
        assert_eq!(
            client,
            [2, 0, 0, 1],
            "minutes 100-119, 120-179, 180-239, 240-250"
        );
        let server: Vec<u16> = out
            .iter()
            .filter(|r| r.eni == 2 && r.dir == Dir::Egress)
            .map(|r| r.flags)
            .collect();
        assert_eq!(server, [18, 0, 0, 1]);
        assert!(out.iter().all(|r| r.end - r.start < 60));
    }

    #[test]
    fn a_pods_traffic_shows_the_nodes_primary_address_on_the_nodes_records() {
        let mut c = conn(120, 125, Shape::Full);
        c.server.primary = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 6)));
        c.server.ip = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 106));
        let mut out = Vec::new();
        c.emit(&mut out);
        let seen: Vec<String> = out
            .iter()
            .map(|r| format!("{} {} {} {} {}", r.eni, r.src, r.dst, r.psrc, r.pdst))
            .collect();
        assert_eq!(
            seen,
            [
                "1 10.0.1.5 10.0.2.106 10.0.1.5 10.0.2.106",
                "2 10.0.1.5 10.0.2.6 10.0.1.5 10.0.2.106",
                "2 10.0.2.6 10.0.1.5 10.0.2.106 10.0.1.5",
                "1 10.0.2.106 10.0.1.5 10.0.2.106 10.0.1.5",
            ]
        );
    }

    #[test]
    fn a_nat_relayed_flow_is_logged_on_both_legs() {
        let mut c = conn(120, 125, Shape::Full);
        c.client.tap = Some(Tap { eni: 1, jitter: 0 });
        c.server = end([203, 0, 113, 5], 443, None);
        c.nat = Some(Nat {
            tap: Tap { eni: 9, jitter: 0 },
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 220)),
            port: 5432,
        });
        let mut out = Vec::new();
        c.emit(&mut out);
        let nat: Vec<String> = out
            .iter()
            .filter(|r| r.eni == 9)
            .map(|r| {
                format!(
                    "{} {}:{} {}:{} {} {} {}",
                    r.dir == Dir::Ingress,
                    r.src,
                    r.sport,
                    r.dst,
                    r.dport,
                    r.psrc,
                    r.pdst,
                    r.flags
                )
            })
            .collect();
        assert_eq!(
            nat,
            [
                "true 10.0.1.5:40000 10.0.0.220:443 10.0.1.5 203.0.113.5 3",
                "false 10.0.0.220:5432 203.0.113.5:443 10.0.0.220 203.0.113.5 3",
                "true 203.0.113.5:443 10.0.0.220:5432 203.0.113.5 10.0.0.220 19",
                "false 10.0.0.220:443 10.0.1.5:40000 203.0.113.5 10.0.1.5 19",
            ]
        );
    }
}
