//! The detectors: the [`Detector`] trait the engine drives, the pieces they share ([`Rule`]
//! for identity, allow-lists and finding construction; [`Tally`] for counts, time span and
//! evidence), and [`build`], which turns each enabled pack entry into its detector. One file
//! per detector kind.

mod admin_exposure;
mod exfiltration;
mod host_sweep;
mod insecure_protocol;
mod lateral_movement;
mod log_health;
mod port_scan;
mod reject_burst;
mod trust_zones;

use serde::Serialize;

use crate::addr::{Addr, CidrSet};
use crate::finding::{Evidence, Finding, Origin, Severity, Window};
use crate::flow::{Classifier, Flow};
use crate::rules::{DetectorSpec, Params, RulePack, SourceScope};
use crate::sketch::Distinct;
use crate::window::Windowed;

/// A detector's statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DetectorStats {
    /// Its id.
    pub id: String,
    /// Live keys now.
    pub live_keys: usize,
    /// Most live keys at once.
    pub peak_keys: usize,
    /// Keys refused because `max_keys` was reached (possible missed findings).
    pub refused_keys: u64,
    /// Records ignored because their window had closed.
    pub late_records: u64,
    /// Findings produced.
    pub findings: u64,
}

/// What the engine needs from a detector.
pub trait Detector: Send {
    /// Looks at one record (already deduplicated, with a time).
    fn observe(&mut self, flow: &Flow, origin: Origin);
    /// The end of the oldest open window.
    fn next_close(&self) -> Option<u64>;
    /// Closes the windows ending at or before `watermark` (all for `u64::MAX`), appending
    /// their findings.
    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>);
    /// Statistics.
    fn stats(&self) -> DetectorStats;
}

/// The identity and allow-lists of one pack entry.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Pack id.
    pub id: String,
    /// Kind name.
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Window length.
    pub window: u64,
    /// Evidence per finding.
    pub max_evidence: usize,
    /// Live key cap.
    pub max_keys: usize,
    allow_sources: CidrSet,
    allow_destinations: CidrSet,
}

impl Rule {
    fn new(spec: &DetectorSpec, pack: &RulePack) -> Rule {
        Rule {
            id: spec.id.clone(),
            kind: spec.params.kind(),
            severity: spec.severity,
            window: spec.window,
            max_evidence: pack.settings.max_evidence,
            max_keys: spec.max_keys,
            allow_sources: spec.allow_sources.clone(),
            allow_destinations: spec.allow_destinations.clone(),
        }
    }

    /// Whether the allow-lists exempt this source/destination pair.
    #[inline]
    pub fn exempt(&self, src: Addr, dst: Addr) -> bool {
        (!self.allow_sources.is_empty() && self.allow_sources.contains(src))
            || (!self.allow_destinations.is_empty() && self.allow_destinations.contains(dst))
    }

    /// A finding for the window starting at `start` between `src` and `dst`, filled from
    /// `tally`.
    pub fn finding(
        &self,
        start: u64,
        tally: &Tally,
        src: Option<Addr>,
        dst: Option<Addr>,
    ) -> Finding {
        let mut f = Finding::new(
            &self.id,
            self.kind,
            self.severity,
            Window {
                start,
                end: start + self.window,
            },
        );
        f.src = src.map(Addr::ip);
        f.dst = dst.map(Addr::ip);
        f.first_seen = tally.first;
        f.last_seen = tally.last;
        f.flows = tally.flows;
        f.packets = tally.packets;
        f.bytes = tally.bytes;
        f.evidence = tally.evidence.to_vec();
        f
    }

    /// Statistics of a [`Windowed`] state.
    pub fn stats<K: std::hash::Hash + Eq, V>(
        &self,
        w: &Windowed<K, V>,
        findings: u64,
    ) -> DetectorStats {
        DetectorStats {
            id: self.id.clone(),
            live_keys: w.live(),
            peak_keys: w.peak,
            refused_keys: w.refused,
            late_records: w.late,
            findings,
        }
    }
}

/// Counts, time span and evidence of one key.
#[derive(Clone, Debug)]
pub struct Tally {
    /// Records.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// Earliest start.
    pub first: u64,
    /// Latest end.
    pub last: u64,
    /// Evidence.
    pub evidence: Evidence,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            flows: 0,
            packets: 0,
            bytes: 0,
            first: u64::MAX,
            last: 0,
            evidence: Evidence::default(),
        }
    }
}

impl Tally {
    /// Counts a record.
    #[inline]
    pub fn add(&mut self, f: &Flow, origin: Origin, max_evidence: usize) {
        self.flows += 1;
        self.packets = self.packets.saturating_add(f.packets);
        self.bytes = self.bytes.saturating_add(f.bytes);
        if let Some(t) = f.time {
            self.first = self.first.min(t);
        }
        if let Some(t) = f.end {
            self.last = self.last.max(t);
        }
        self.evidence.offer(origin, max_evidence);
    }
}

/// Sets a finding's destination port and protocol (`0`: unknown).
fn set_port(f: &mut Finding, proto: u8, port: u16) {
    f.dst_port = Some(port);
    f.protocol = (proto != 0).then_some(proto);
}

/// Sets a finding's distinct count (`count` is `hosts.count()`) and its sample of hosts.
fn set_hosts(f: &mut Finding, hosts: &Distinct<Addr>, (n, exact): (u64, bool)) {
    f.distinct = Some(n);
    f.distinct_exact = exact;
    f.hosts = hosts.sample().iter().map(|a| a.ip()).collect();
}

/// The addresses and time of a flow the scan detectors (port scans, host sweeps) count: one
/// with ports, a probe when only probes count, from a source in scope, not allow-listed.
#[inline]
fn scan_candidate(
    f: &Flow,
    rule: &Rule,
    probes_only: bool,
    sources: SourceScope,
) -> Option<(Addr, Addr, u64)> {
    let ((src, dst), t) = (f.addrs?, f.time?);
    let counted = f.ported
        && (f.probe || !probes_only)
        && sources.admits(f.src_internal)
        && !rule.exempt(src, dst);
    counted.then_some((src, dst, t))
}

/// Builds a detector for every enabled entry of the pack, in pack order.
pub fn build(pack: &RulePack, cx: &Classifier) -> Vec<Box<dyn Detector>> {
    pack.detectors
        .iter()
        .filter(|d| d.enabled)
        .map(|spec| {
            let rule = Rule::new(spec, pack);
            let d: Box<dyn Detector> = match &spec.params {
                Params::AdminPortExposure {
                    services,
                    min_sources,
                } => Box::new(admin_exposure::AdminExposure::new(
                    rule,
                    services.clone(),
                    *min_sources,
                )),
                Params::PortScan {
                    min_ports,
                    probes_only,
                    sources,
                } => Box::new(port_scan::PortScan::new(
                    rule,
                    *min_ports,
                    *probes_only,
                    *sources,
                )),
                Params::HostSweep {
                    min_hosts,
                    probes_only,
                    sources,
                } => Box::new(host_sweep::HostSweep::new(
                    rule,
                    *min_hosts,
                    *probes_only,
                    *sources,
                )),
                Params::Exfiltration {
                    min_bytes,
                    exclude_aws_services,
                } => Box::new(exfiltration::Exfiltration::new(
                    rule,
                    *min_bytes,
                    *exclude_aws_services,
                )),
                Params::LateralMovement {
                    services,
                    min_hosts,
                    include_rejected,
                } => Box::new(lateral_movement::LateralMovement::new(
                    rule,
                    services.clone(),
                    *min_hosts,
                    *include_rejected,
                )),
                Params::TrustZones => {
                    Box::new(trust_zones::TrustZones::new(rule, cx.zones.clone()))
                }
                Params::InsecureProtocol { services } => Box::new(
                    insecure_protocol::InsecureProtocol::new(rule, services.clone()),
                ),
                Params::RejectBurst {
                    min_rejects,
                    sources,
                } => Box::new(reject_burst::RejectBurst::new(rule, *min_rejects, *sources)),
                Params::LogHealth {
                    status,
                    min_records,
                } => Box::new(log_health::LogHealth::new(rule, *status, *min_records)),
            };
            d
        })
        .collect()
}

/// Whether any enabled detector reads trust zones.
pub fn uses_zones(pack: &RulePack) -> bool {
    pack.detectors
        .iter()
        .any(|d| d.enabled && matches!(d.params, Params::TrustZones))
}

/// A count for summaries: `12`, or `~40` when estimated.
pub fn approx(n: u64, exact: bool) -> String {
    if exact {
        n.to_string()
    } else {
        format!("~{n}")
    }
}

pub use crate::units::human_bytes;
