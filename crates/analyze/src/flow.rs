//! [`Flow`]: the per-record view detectors read, computed once per record from a decoded
//! [`FlowRecord`] by a [`Classifier`] (address classes, zones, probe test, event time), so no
//! detector repeats that work. A `Flow` owns everything it holds (no borrow of the line), so
//! classification can run on other threads than the [`Engine`](crate::Engine) and flows can
//! travel between them in batches. Also [`ShortId`], a fixed-size copy of an AWS id for map
//! keys.
//!
//! A record is a *probe* when it was rejected, or when it is TCP, its flags show a SYN
//! without the SYN-ACK bit, and it carried at most `probe_max_packets` packets and
//! `probe_max_bytes` bytes (a handshake with no data: SYN scans, connect scans of closed
//! ports). Without `tcp-flags` in the log only rejected records are probes.

use flowlog::{Action, FlowDirection, FlowRecord, LogStatus};

use crate::addr::{Addr, Networks};
use crate::rules::RulePack;
use crate::services::TCP;
use crate::sketch::mix64;
use crate::zones::{ZoneRef, Zones};

/// What every record needs classified, from the pack: turns a [`FlowRecord`] into a [`Flow`].
/// Cheap to clone (one per decoding thread); get it from
/// [`Engine::classifier`](crate::Engine::classifier).
#[derive(Clone, Debug)]
pub struct Classifier {
    /// Internal ranges.
    pub networks: Networks,
    /// Trust zones.
    pub zones: Zones,
    /// Whether any enabled detector reads zones.
    pub zones_used: bool,
    /// Probe limits.
    pub probe_max_packets: u64,
    /// Probe limits.
    pub probe_max_bytes: u64,
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
        }
    }
}

/// One record, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Source and destination, when both are present.
    pub addrs: Option<(Addr, Addr)>,
    /// Whether the source is internal.
    pub src_internal: bool,
    /// Whether the destination is internal.
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
    /// Raw `start`/`end` as written, for the dedupe key.
    pub raw_times: (u64, u64),
    /// ACCEPT / REJECT.
    pub action: Option<Action>,
    /// Log status (`OK` when the log has none).
    pub status: LogStatus,
    /// TCP flags bits.
    pub flags: Option<u16>,
    /// See the module docs.
    pub probe: bool,
    /// `pkt-dst-aws-service` is set.
    pub dst_aws_service: bool,
    /// The logged interface.
    pub interface: Option<ShortId>,
    /// Source zone (when zones are in use).
    pub src_zone: ZoneRef,
    /// Destination zone (when zones are in use).
    pub dst_zone: ZoneRef,
}

impl Classifier {
    /// Classifies a record.
    #[inline]
    pub fn classify(&self, r: &FlowRecord<'_>) -> Flow {
        let cx = self;
        let addrs = match (r.srcaddr, r.dstaddr) {
            (Some(s), Some(d)) => Some((Addr::new(s), Addr::new(d))),
            _ => None,
        };
        let (src_internal, dst_internal) = addrs.map_or((false, false), |(s, d)| {
            (cx.networks.is_internal(s), cx.networks.is_internal(d))
        });
        let protocol = r.protocol;
        let ported = matches!(protocol, Some(6 | 17 | 132) | None)
            && r.srcport.is_some()
            && r.dstport.is_some();
        let flags = r.tcp_flags.map(|f| f.bits());
        let packets = r.packets.unwrap_or(0);
        let bytes = r.bytes.unwrap_or(0);
        let action = r.action;
        let probe = action == Some(Action::Reject)
            || (protocol == Some(TCP)
                && flags.is_some_and(|f| f & 0x02 != 0 && f & 0x10 == 0)
                && packets <= cx.probe_max_packets
                && bytes <= cx.probe_max_bytes);
        let start = r.start.map(|t| t.unix_secs());
        let end = r.end.map(|t| t.unix_secs());
        let (mut src_zone, mut dst_zone) = (ZoneRef::Internet, ZoneRef::Internet);
        if cx.zones_used
            && let Some((s, d)) = addrs
        {
            let side = Some((r.subnet_id, r.vpc_id));
            let (s_side, d_side) = match r.flow_direction {
                Some(FlowDirection::Egress) => (side, None),
                Some(FlowDirection::Ingress) => (None, side),
                None => (None, None),
            };
            src_zone = cx.zones.classify(s, src_internal, s_side);
            dst_zone = cx.zones.classify(d, dst_internal, d_side);
        }
        Flow {
            addrs,
            src_internal,
            dst_internal,
            sport: r.srcport.unwrap_or(0),
            dport: r.dstport.unwrap_or(0),
            ported,
            protocol,
            packets,
            bytes,
            time: start.or(end),
            end: end.or(start),
            raw_times: (r.start.map_or(0, |t| t.raw()), r.end.map_or(0, |t| t.raw())),
            action,
            status: r.log_status.unwrap_or(LogStatus::Ok),
            flags,
            probe,
            dst_aws_service: r.pkt_dst_aws_service.is_some(),
            interface: r.interface_id.map(ShortId::new),
            src_zone,
            dst_zone,
        }
    }
}

impl Flow {
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
            bytes[..b.len()].copy_from_slice(b);
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

#[cfg(test)]
mod tests {
    use super::*;
    use flowlog::Schema;

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

    #[test]
    fn short_ids() {
        let id = ShortId::new("subnet-0123456789abcdef0");
        assert_eq!(id.text(), "subnet-0123456789abcdef0");
        let long = ShortId::new("interface-with-a-very-long-name-indeed");
        assert!(long.text().starts_with("interface-with-a~"));
        assert_ne!(long, ShortId::new("interface-with-a-very-long-name-indeeD"));
    }
}
