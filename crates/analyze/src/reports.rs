//! Traffic reports alongside the findings: totals (records, accepted/rejected flows, packets
//! and bytes, NODATA/SKIPDATA, duplicates, relay views), top talkers by bytes (sources,
//! destinations, pairs) and per-port traffic.
//!
//! What is counted is what the engine's counting half passes: one end of a double-ended
//! flow (`dedupe`), and no NAT outer legs (`Middleboxes::relay_view`). Top talkers name the
//! real endpoints (`pkt-srcaddr`/`pkt-dstaddr`), so a download through a NAT gateway is the
//! internet server → instance whether the instance's or the NAT's record was counted.
//!
//! Approximations: top talkers come from Count-Min sketches (2 × 8192 counters each) with the
//! `reports.top_capacity` largest candidates kept: bytes are never undercounted and, with
//! probability ≥ 98%, overcounted by at most the entry's `error` (e²/8192 ≈ 0.09% of all
//! bytes, see `sketch`); `top_exact` says when no estimate is inflated at all. Per-port traffic is exact for the
//! first `reports.max_ports` (protocol, port) pairs seen; later pairs are summed in
//! `ports_other`. A record's port is its *service* port: the destination port of a bare SYN,
//! the source port of a SYN-ACK, otherwise the lower of the two ports.
//!
//! Cost per record: each address hashed once for the three lists, the six Count-Min counters
//! read before any is updated, and the port slot found by direct index for TCP and UDP (a
//! map only for other protocols).

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
    /// NAT gateways' public sides of the connections they relay (outer legs), not counted
    /// anywhere else: their inner legs carry the same traffic under the real source.
    pub relayed: u64,
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
    /// Overcount bound: at most the sketch's (which holds with probability ≥ 98%), at most
    /// the bytes not counted exactly since it became a candidate; 0 when `top_exact`.
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
    /// Overcount bound: at most the sketch's (which holds with probability ≥ 98%), at most
    /// the bytes not counted exactly since it became a candidate; 0 when `top_exact`.
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
    ports: PortTable,
    ports_other: Traffic,
}

/// Accepted and rejected traffic of one (protocol, port).
type PortEntry = ((u8, u16), (Traffic, Traffic));

/// Per-port traffic of the first `cap` (protocol, port) keys seen, in a flat table: TCP and
/// UDP ports index an array of slot numbers directly (one load, no hash), other protocols
/// go through a map. Same keys, same first-`cap` admission as a map of every key.
#[derive(Debug)]
struct PortTable {
    cap: usize,
    /// Slot + 1 of each TCP port (first 65536) and UDP port (next 65536); 0 is no slot.
    flat: Vec<u32>,
    /// Slot + 1 of the keys of other protocols.
    other: FastMap<(u8, u16), u32>,
    entries: Vec<PortEntry>,
}

impl PortTable {
    fn new(cap: usize) -> PortTable {
        PortTable {
            // Slot numbers are u32: `reports.max_ports` is at most 1 000 000.
            cap: cap.min(u32::MAX as usize - 1),
            flat: vec![0; 2 << 16],
            other: fast_map(),
            entries: Vec::new(),
        }
    }

    /// The key's traffic, a new slot if there is room, `None` when full and the key has no
    /// slot.
    #[inline]
    fn slot(&mut self, key: (u8, u16)) -> Option<&mut (Traffic, Traffic)> {
        let row = match key.0 {
            6 => 0,
            17 => 1,
            _ => return self.other_slot(key),
        };
        let cell = &mut self.flat[(row << 16) | usize::from(key.1)];
        if *cell == 0 {
            if self.entries.len() >= self.cap {
                return None;
            }
            self.entries.push((key, Default::default()));
            *cell = self.entries.len() as u32;
        }
        let at = *cell as usize - 1;
        Some(&mut self.entries[at].1)
    }

    fn other_slot(&mut self, key: (u8, u16)) -> Option<&mut (Traffic, Traffic)> {
        let at = match self.other.get(&key) {
            Some(&n) => n as usize - 1,
            None if self.entries.len() >= self.cap => return None,
            None => {
                self.entries.push((key, Default::default()));
                self.other.insert(key, self.entries.len() as u32);
                self.entries.len() - 1
            }
        };
        Some(&mut self.entries[at].1)
    }

    fn entries(&self) -> &[PortEntry] {
        &self.entries
    }
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
            ports: PortTable::new(settings.max_ports),
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

    /// Counts a relay view (a NAT's outer leg), not counted otherwise.
    #[inline]
    pub fn relayed(&mut self) {
        self.totals.relayed += 1;
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
        // The real endpoints (`pkt-srcaddr`/`pkt-dstaddr`): a relayed flow is named by its
        // peers whichever interface's record was counted, not by the relay's address.
        let Some((src, dst)) = f.peers else {
            return;
        };
        if f.bytes > 0 {
            // Each address hashed once for the three lists.
            // All six counters read before any update (three sketches, no aliasing), so
            // the loads overlap.
            let (hs, hd) = (hash_addr(src), hash_addr(dst));
            let hp = pair_hash(hs, hd);
            let (ls, ld, lp) = (
                self.sources.locate(hs),
                self.destinations.locate(hd),
                self.pairs.locate(hp),
            );
            self.sources.add_located(src, hs, ls, f.bytes);
            self.destinations.add_located(dst, hd, ld, f.bytes);
            self.pairs.add_located((src, dst), hp, lp, f.bytes);
        }
        if !f.ported {
            return;
        }
        let port = match f.flags {
            Some(fl) if fl & 0x12 == 0x02 => f.dport,
            Some(fl) if fl & 0x12 == 0x12 => f.sport,
            _ => f.sport.min(f.dport),
        };
        match self.ports.slot((f.protocol.unwrap_or(0), port)) {
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
        // An entry's overcount is at most the sketch's bound and at most its estimate less
        // what it was counted exactly.
        let error = |bound: u64, count: u64, lower: u64| bound.min(count.saturating_sub(lower));
        let talkers = |tk: &TopK<Addr>| -> Vec<Talker> {
            let b = bound(tk.error_bound());
            tk.top(n)
                .into_iter()
                .map(|c| Talker {
                    addr: c.key.ip(),
                    bytes: c.count,
                    error: error(b, c.count, c.lower),
                })
                .collect()
        };
        let mut ports: Vec<PortTraffic> = self
            .ports
            .entries()
            .iter()
            .map(|&((protocol, port), (accepted, rejected))| PortTraffic {
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
                    error: error(bound(self.pairs.error_bound()), c.count, c.lower),
                })
                .collect(),
            top_exact: exact,
            ports,
            ports_other: self.ports_other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::mix64;

    /// The map every key went through before [`PortTable`]: first `cap` keys, then none.
    fn map_slot(
        map: &mut FastMap<(u8, u16), (Traffic, Traffic)>,
        cap: usize,
        key: (u8, u16),
    ) -> Option<&mut (Traffic, Traffic)> {
        if map.len() < cap || map.contains_key(&key) {
            Some(map.entry(key).or_default())
        } else {
            None
        }
    }

    #[test]
    fn port_table_admits_and_counts_like_a_map() {
        for cap in [0, 1, 7, 300, 100_000] {
            let mut table = PortTable::new(cap);
            let mut map = fast_map();
            let (mut other_t, mut other_m) = (0u64, 0u64);
            for i in 0..20_000u64 {
                let h = mix64(i ^ cap as u64);
                // TCP, UDP, ICMP, an unknown protocol and 0 (absent); ports skewed to few.
                let protocol = [6u8, 17, 6, 1, 132, 0, 17, 255][(h & 7) as usize];
                let port = if h >> 60 < 12 {
                    (h >> 20) as u16 % 64
                } else {
                    (h >> 20) as u16
                };
                let bytes = h >> 50;
                match table.slot((protocol, port)) {
                    Some(t) => t.0.bytes += bytes,
                    None => other_t += bytes,
                }
                match map_slot(&mut map, cap, (protocol, port)) {
                    Some(t) => t.0.bytes += bytes,
                    None => other_m += bytes,
                }
            }
            assert_eq!(other_t, other_m, "cap {cap}");
            let mut got: Vec<PortEntry> = table.entries().to_vec();
            got.sort_by_key(|e| e.0);
            let mut want: Vec<PortEntry> = map.into_iter().collect();
            want.sort_by_key(|e| e.0);
            // The small caps fill up (more keys than slots), the large one does not.
            assert_eq!(
                got.len() == cap,
                cap <= 300,
                "cap {cap}: {} keys",
                got.len()
            );
            assert_eq!(got, want, "cap {cap}");
        }
    }
}
