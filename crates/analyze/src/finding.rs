//! What the engine reports: [`Finding`] with its [`Severity`], event-time [`Window`] and
//! [`Origin`] evidence pointers, plus [`Evidence`], the bounded per-key evidence buffer the
//! detectors fill on the hot path.
//!
//! Evidence keeps the N *smallest* origins seen for a key (by source, then line), not the
//! first N to arrive, so it is the same whatever order records arrive in.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::time::format_rfc3339;

/// Where a record came from, as the caller numbers things: for example the index of an S3
/// object in the caller's list and the 1-based line in it, or a CloudWatch stream index and
/// event number. Small and `Copy`; the engine only stores, orders and returns it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Origin {
    /// The caller's source index (file, object, log stream...).
    pub source: u32,
    /// Position within the source (line number, event sequence...).
    pub line: u64,
}

impl Origin {
    /// An origin.
    pub const fn new(source: u32, line: u64) -> Origin {
        Origin { source, line }
    }
}

/// How serious a finding is, from `info` to `critical`; ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The pack spelling (`info`, `low`, `medium`, `high`, `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the pack spelling.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An event-time window `[start, end)` in Unix seconds, aligned to the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    /// First second in the window.
    pub start: u64,
    /// First second after the window.
    pub end: u64,
}

impl Serialize for Window {
    /// `{"start": 1793491200, "end": 1793491500, "start_utc": "...", "end_utc": "..."}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Window", 4)?;
        st.serialize_field("start", &self.start)?;
        st.serialize_field("end", &self.end)?;
        st.serialize_field("start_utc", &format_rfc3339(self.start))?;
        st.serialize_field("end_utc", &format_rfc3339(self.end))?;
        st.end()
    }
}

/// One detection. Fields that do not apply to a detector are `None` or empty (and left out
/// of JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's `id` in the pack (for example `port-scan`).
    pub detector: String,
    /// The rule's detector kind (for example `port_scan`).
    pub kind: &'static str,
    /// Severity from the pack.
    pub severity: Severity,
    /// One-line human summary.
    pub summary: String,
    /// The event-time window the counts cover.
    pub window: Window,
    /// Earliest record start counted (Unix seconds).
    pub first_seen: u64,
    /// Latest record end counted (Unix seconds).
    pub last_seen: u64,
    /// Source address (for aggregated findings: the smallest source seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// Destination address (for aggregated findings: the smallest destination seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<IpAddr>,
    /// Destination port, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// IANA protocol number, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// The pack's service name for `dst_port`, when one matched (`ssh`, `telnet`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Interface id (log health findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_id: Option<String>,
    /// Source trust zone (trust-zone findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_zone: Option<String>,
    /// Destination trust zone (trust-zone findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_zone: Option<String>,
    /// Records counted (after double-ended dedupe).
    pub flows: u64,
    /// Packets in those records.
    pub packets: u64,
    /// Bytes in those records (exfiltration: a Count-Min estimate, never below the truth).
    pub bytes: u64,
    /// The distinct count the detector thresholds on (ports, hosts, sources), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<u64>,
    /// Whether `distinct` is exact (false once it came from a HyperLogLog estimate).
    pub distinct_exact: bool,
    /// The smallest distinct ports seen (port scans), at most 32.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// The smallest distinct hosts seen (sweeps, lateral movement, exposure), at most 32.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<IpAddr>,
    /// Up to `settings.max_evidence` record origins, smallest first.
    pub evidence: Vec<Origin>,
    /// What decided who initiated the counted records: a bitmask of
    /// [`DecidedBy::bit`](crate::initiator::DecidedBy::bit), JSON a list of labels
    /// (`["tcp-flags", "ports"]`), left out when empty.
    #[serde(
        skip_serializing_if = "decided_is_empty",
        serialize_with = "serialize_decided"
    )]
    pub decided_by: u8,
    /// The relay the subject stands for, when the real peer is not logged
    /// (`nat-gateway 10.0.0.220 (real source not logged)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Our host the finding is about, when that is neither always the source nor always the
    /// destination (insecure protocols: inbound or outbound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<IpAddr>,
}

fn decided_is_empty(bits: &u8) -> bool {
    *bits == 0
}

fn serialize_decided<S: Serializer>(bits: &u8, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(decided_labels(*bits))
}

/// The labels of a [`Finding::decided_by`] bitmask, in a fixed order.
pub fn decided_labels(bits: u8) -> Vec<&'static str> {
    crate::initiator::DecidedBy::ALL
        .into_iter()
        .filter(|d| bits & d.bit() != 0)
        .map(|d| d.label())
        .collect()
}

impl Finding {
    /// A finding with the identity fields set and everything else empty.
    pub fn new(detector: &str, kind: &'static str, severity: Severity, window: Window) -> Finding {
        Finding {
            detector: detector.to_owned(),
            kind,
            severity,
            summary: String::new(),
            window,
            first_seen: window.start,
            last_seen: window.end,
            src: None,
            dst: None,
            dst_port: None,
            protocol: None,
            service: None,
            interface_id: None,
            src_zone: None,
            dst_zone: None,
            flows: 0,
            packets: 0,
            bytes: 0,
            distinct: None,
            distinct_exact: true,
            ports: Vec::new(),
            hosts: Vec::new(),
            evidence: Vec::new(),
            decided_by: 0,
            via: None,
            ours: None,
        }
    }

    /// The total order findings are reported in: window start, detector id, then the subject
    /// (source, destination, port, protocol, interface, zones), then the window end.
    pub fn order(&self, other: &Finding) -> Ordering {
        (self.window.start, &self.detector)
            .cmp(&(other.window.start, &other.detector))
            .then_with(|| self.src.cmp(&other.src))
            .then_with(|| self.dst.cmp(&other.dst))
            .then_with(|| self.dst_port.cmp(&other.dst_port))
            .then_with(|| self.protocol.cmp(&other.protocol))
            .then_with(|| self.interface_id.cmp(&other.interface_id))
            .then_with(|| self.src_zone.cmp(&other.src_zone))
            .then_with(|| self.dst_zone.cmp(&other.dst_zone))
            .then_with(|| self.window.end.cmp(&other.window.end))
    }
}

/// Sorts findings into the reported order ([`Finding::order`]).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(Finding::order);
}

/// The largest `max_evidence` a pack may set.
pub const MAX_EVIDENCE: usize = 16;

/// The N smallest origins offered, N ≤ [`MAX_EVIDENCE`]. Two fit inline; a third moves the
/// buffer to the heap once (per key, not per record).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    len: u8,
    inline: [Origin; 2],
    heap: Vec<Origin>,
}

impl Evidence {
    /// Offers an origin; keeps it if it is among the `limit` smallest.
    #[inline]
    pub fn offer(&mut self, origin: Origin, limit: usize) {
        if limit == 0 {
            return;
        }
        if self.heap.is_empty() {
            let len = usize::from(self.len);
            let items = &mut self.inline[..len];
            if items.contains(&origin) {
                return;
            }
            if len < 2 && len < limit {
                self.inline[len] = origin;
                self.len += 1;
                self.inline[..=len].sort_unstable();
                return;
            }
            if limit <= 2 {
                // Full: replace the largest if smaller.
                let last = len - 1;
                if origin < self.inline[last] {
                    self.inline[last] = origin;
                    self.inline[..len].sort_unstable();
                }
                return;
            }
            let mut heap = Vec::with_capacity(limit.min(MAX_EVIDENCE));
            heap.extend_from_slice(&self.inline[..len]);
            self.heap = heap;
        }
        let heap = &mut self.heap;
        match heap.binary_search(&origin) {
            Ok(_) => {}
            Err(at) if heap.len() < limit => heap.insert(at, origin),
            Err(at) if at < heap.len() => {
                heap.pop();
                heap.insert(at, origin);
            }
            Err(_) => {}
        }
    }

    /// Merges another buffer into this one.
    pub fn merge(&mut self, other: &Evidence, limit: usize) {
        for o in other.as_slice() {
            self.offer(*o, limit);
        }
    }

    /// The origins kept, smallest first.
    pub fn as_slice(&self) -> &[Origin] {
        if self.heap.is_empty() {
            &self.inline[..usize::from(self.len)]
        } else {
            &self.heap
        }
    }

    /// The origins as a vector.
    pub fn to_vec(&self) -> Vec<Origin> {
        self.as_slice().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keeps_the_smallest_whatever_the_order() {
        let origins: Vec<Origin> = (0..40)
            .map(|i| Origin::new(i % 3, 100 - i as u64))
            .collect();
        for limit in [1, 2, 3, 5, 16] {
            let mut expect = origins.clone();
            expect.sort();
            expect.truncate(limit);
            let mut fwd = Evidence::default();
            let mut rev = Evidence::default();
            for o in &origins {
                fwd.offer(*o, limit);
                fwd.offer(*o, limit); // duplicates are kept once
            }
            for o in origins.iter().rev() {
                rev.offer(*o, limit);
            }
            assert_eq!(fwd.as_slice(), &expect[..], "limit {limit}");
            assert_eq!(rev.as_slice(), &expect[..], "limit {limit}");
        }
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn finding_json_leaves_out_what_does_not_apply() {
        let mut f = Finding::new(
            "port-scan",
            "port_scan",
            Severity::High,
            Window {
                start: 1_793_491_200,
                end: 1_793_491_500,
            },
        );
        f.src = Some("203.0.113.5".parse().unwrap());
        f.evidence.push(Origin::new(0, 7));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["severity"], "high");
        assert_eq!(json["window"]["start_utc"], "2026-11-01T00:00:00Z");
        assert_eq!(json["src"], "203.0.113.5");
        assert!(json.get("dst").is_none());
        assert_eq!(json["evidence"][0]["line"], 7);
    }
}
