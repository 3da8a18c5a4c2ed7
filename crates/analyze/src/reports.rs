//! Traffic reports alongside the findings: totals (records, accepted/rejected flows, packets
//! and bytes, NODATA/SKIPDATA, duplicates), top talkers by bytes (sources, destinations,
//! pairs) and per-port traffic.
//!
//! Approximations: top talkers come from Count-Min sketches (2 × 8192 counters each) with the
//! `reports.top_capacity` largest candidates kept: bytes are never undercounted and, with
//! probability ≥ 98%, overcounted by at most the entry's `error` (e²/8192 ≈ 0.09% of all
//! bytes, see `sketch`); `top_exact` says when no estimate is inflated at all. Per-port traffic is exact for the
//! first `reports.max_ports` (protocol, port) pairs seen; later pairs are summed in
//! `ports_other`. A record's port is its *service* port: the destination port of a bare SYN,
//! the source port of a SYN-ACK, otherwise the lower of the two ports.

use std::net::IpAddr;

use serde::Serialize;

use crate::addr::Addr;
use crate::flow::Flow;
use crate::rules::ReportSettings;
use crate::sketch::{FastMap, TopK, fast_map, hash_addr, pair_hash};

/// Flows, packets and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Records.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Traffic {
    fn add(&mut self, f: &Flow) {
        self.flows += 1;
        self.packets = self.packets.saturating_add(f.packets);
        self.bytes = self.bytes.saturating_add(f.bytes);
    }
}

/// Whole-input counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Records observed (before dedupe).
    pub records: u64,
    /// Second ends of double-ended flows, not counted anywhere else.
    pub duplicates: u64,
    /// Accepted records.
    pub accepted: Traffic,
    /// Rejected records.
    pub rejected: Traffic,
    /// Records with neither action (NODATA, SKIPDATA, logs without `action`).
    pub no_action: Traffic,
    /// NODATA records.
    pub nodata: u64,
    /// SKIPDATA records.
    pub skipdata: u64,
    /// Records with neither start nor end (not windowed, not detected on).
    pub untimed: u64,
    /// Earliest record start (Unix seconds).
    pub first_seen: Option<u64>,
    /// Latest record end (Unix seconds).
    pub last_seen: Option<u64>,
}

/// One top-talker entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Talker {
    /// The address.
    pub addr: IpAddr,
    /// Bytes (a Count-Min estimate: never below the truth).
    pub bytes: u64,
    /// Overcount bound (holds with probability ≥ 98%; 0 when `top_exact`).
    pub error: u64,
}

/// One top-pair entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PairTalker {
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// Bytes (a Count-Min estimate: never below the truth).
    pub bytes: u64,
    /// Overcount bound (holds with probability ≥ 98%; 0 when `top_exact`).
    pub error: u64,
}

/// Traffic of one (protocol, service port).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortTraffic {
    /// IANA protocol.
    pub protocol: u8,
    /// Service port.
    pub port: u16,
    /// Accepted records.
    pub accepted: Traffic,
    /// Rejected records.
    pub rejected: Traffic,
}

/// Everything reported besides findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reports {
    /// Totals.
    pub totals: Totals,
    /// Sources by bytes sent.
    pub top_sources: Vec<Talker>,
    /// Destinations by bytes received.
    pub top_destinations: Vec<Talker>,
    /// Pairs by bytes.
    pub top_pairs: Vec<PairTalker>,
    /// Whether the three top lists' byte counts are exact.
    pub top_exact: bool,
    /// Ports by bytes (accepted + rejected), largest first.
    pub ports: Vec<PortTraffic>,
    /// Traffic of ports beyond `reports.max_ports`.
    pub ports_other: Traffic,
}

const TOP_WIDTH: usize = 1 << 13;

/// Accumulates [`Reports`].
#[derive(Debug)]
pub struct ReportBuilder {
    settings: ReportSettings,
    totals: Totals,
    sources: TopK<Addr>,
    destinations: TopK<Addr>,
    pairs: TopK<(Addr, Addr)>,
    ports: FastMap<(u8, u16), (Traffic, Traffic)>,
    ports_other: Traffic,
}

impl ReportBuilder {
    /// An empty builder.
    pub fn new(settings: &ReportSettings) -> ReportBuilder {
        ReportBuilder {
            settings: settings.clone(),
            totals: Totals::default(),
            sources: TopK::new(settings.top_capacity, TOP_WIDTH),
            destinations: TopK::new(settings.top_capacity, TOP_WIDTH),
            pairs: TopK::new(settings.top_capacity, TOP_WIDTH),
            ports: fast_map(),
            ports_other: Traffic::default(),
        }
    }

    /// Counts a record seen (before dedupe).
    #[inline]
    pub fn seen(&mut self) {
        self.totals.records += 1;
    }

    /// Counts a dropped twin.
    #[inline]
    pub fn duplicate(&mut self) {
        self.totals.duplicates += 1;
    }

    /// Counts a record (after dedupe).
    #[inline]
    pub fn observe(&mut self, f: &Flow) {
        use flowlog::LogStatus;
        let t = &mut self.totals;
        match f.status {
            LogStatus::NoData => t.nodata += 1,
            LogStatus::SkipData => t.skipdata += 1,
            LogStatus::Ok => {}
        }
        if f.time.is_none() {
            t.untimed += 1;
        } else {
            t.first_seen = t.first_seen.min(f.time).or(f.time);
            t.last_seen = t.last_seen.max(f.end);
        }
        if f.accepted() {
            t.accepted.add(f);
        } else if f.rejected() {
            t.rejected.add(f);
        } else {
            t.no_action.add(f);
        }
        let Some((src, dst)) = f.addrs else {
            return;
        };
        if f.bytes > 0 {
            // Each address hashed once for the three lists.
            let (hs, hd) = (hash_addr(src), hash_addr(dst));
            self.sources.add_hashed(src, hs, f.bytes);
            self.destinations.add_hashed(dst, hd, f.bytes);
            self.pairs
                .add_hashed((src, dst), pair_hash(hs, hd), f.bytes);
        }
        if !f.ported {
            return;
        }
        let port = match f.flags {
            Some(fl) if fl & 0x12 == 0x02 => f.dport,
            Some(fl) if fl & 0x12 == 0x12 => f.sport,
            _ => f.sport.min(f.dport),
        };
        let key = (f.protocol.unwrap_or(0), port);
        let cap = self.settings.max_ports;
        let room = self.ports.len() < cap;
        let slot = if room || self.ports.contains_key(&key) {
            Some(self.ports.entry(key).or_default())
        } else {
            None
        };
        match slot {
            Some((acc, rej)) => {
                if f.rejected() {
                    rej.add(f);
                } else {
                    acc.add(f);
                }
            }
            None => self.ports_other.add(f),
        }
    }

    /// The reports.
    pub fn build(&self) -> Reports {
        let n = self.settings.top_n;
        let exact =
            self.sources.is_exact() && self.destinations.is_exact() && self.pairs.is_exact();
        let bound = |e: u64| if exact { 0 } else { e };
        let talkers = |tk: &TopK<Addr>| -> Vec<Talker> {
            let error = bound(tk.error_bound());
            tk.top(n)
                .into_iter()
                .map(|c| Talker {
                    addr: c.key.ip(),
                    bytes: c.count,
                    error,
                })
                .collect()
        };
        let mut ports: Vec<PortTraffic> = self
            .ports
            .iter()
            .map(|(&(protocol, port), &(accepted, rejected))| PortTraffic {
                protocol,
                port,
                accepted,
                rejected,
            })
            .collect();
        ports.sort_by(|a, b| {
            let bytes = |p: &PortTraffic| p.accepted.bytes.saturating_add(p.rejected.bytes);
            bytes(b)
                .cmp(&bytes(a))
                .then_with(|| (a.protocol, a.port).cmp(&(b.protocol, b.port)))
        });
        ports.truncate(n);
        Reports {
            totals: self.totals.clone(),
            top_sources: talkers(&self.sources),
            top_destinations: talkers(&self.destinations),
            top_pairs: self
                .pairs
                .top(n)
                .into_iter()
                .map(|c| PairTalker {
                    src: c.key.0.ip(),
                    dst: c.key.1.ip(),
                    bytes: c.count,
                    error: bound(self.pairs.error_bound()),
                })
                .collect(),
            top_exact: exact,
            ports,
            ports_other: self.ports_other,
        }
    }
}
