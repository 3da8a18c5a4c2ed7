//! The detectors: the [`Detector`] trait the engine drives, the pieces they share ([`Rule`]
//! for identity, allow-lists, state sizing and finding construction; [`Tally`] for counts,
//! time span and evidence; [`conn`], the client/server view of a record that every
//! "connection to port P of host H" detector uses), and [`build`], which turns each enabled
//! pack entry into its detector ([`AnyDetector`], enum dispatch). One file per detector
//! kind; `probing` holds what port scans and host sweeps share (answers, probe share).

mod admin_exposure;
mod exfiltration;
mod host_sweep;
mod insecure_protocol;
mod lateral_movement;
mod log_health;
pub use log_health::summary as log_health_summary;
mod port_scan;
mod probe_state;
mod probing;
mod reject_burst;
mod targets;
mod trust_zones;

use serde::Serialize;

use crate::addr::{Addr, CidrSet, Class};
use crate::finding::{Evidence, Finding, Origin, Severity, Window};
use crate::flow::{Classifier, Flow};
use crate::initiator::{DecidedBy, Initiator};
use crate::middlebox::Middleboxes;
use crate::rules::{DetectorSpec, Params, RulePack, SourceScope, UnknownInitiator};
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
    /// The most live keys it may hold (from its share of `settings.state_budget`, or its
    /// `max_keys`).
    pub max_keys: usize,
    /// Bytes its state holds now (keys at their inline size, plus gates and answer filters).
    pub bytes: usize,
    /// Keys refused because `max_keys` was reached (possible missed findings).
    pub refused_keys: u64,
    /// Records ignored because their window had closed.
    pub late_records: u64,
    /// Records of internet-sized key spaces not (yet) admitted by the gate (by design).
    pub held_records: u64,
    /// Findings produced.
    pub findings: u64,
}

/// What the engine hands a detector when windows close.
pub struct CloseCx<'a> {
    /// Relay addresses known so far (configured or learned from inner legs).
    pub relays: &'a Middleboxes,
}

/// State that several detectors use, owned by the engine and lent to each detector per
/// record: the answer filters and record views of port scans and host sweeps (one per
/// window length and `probes_only`, see [`probing::Probes`]).
#[derive(Default)]
pub struct Shared {
    answers: Vec<(u64, bool, probing::Probes)>,
}

impl Shared {
    /// The index of the answer filters for windows of `window` seconds and `probes_only`,
    /// created if new; the second value says whether this caller created them (and counts
    /// their bytes in its statistics).
    fn answers_for(&mut self, window: u64, probes_only: bool) -> (usize, bool) {
        if let Some(i) = self
            .answers
            .iter()
            .position(|(w, p, _)| *w == window && *p == probes_only)
        {
            return (i, false);
        }
        self.answers
            .push((window, probes_only, probing::Probes::new(window)));
        (self.answers.len() - 1, true)
    }

    /// Answer filters and record views by index.
    #[inline]
    fn probes(&mut self, i: usize) -> &mut probing::Probes {
        &mut self.answers[i].2
    }

    /// Bytes of the answer filters at `i`.
    fn answer_bytes(&self, i: usize) -> usize {
        self.answers[i].2.answers.bytes()
    }

    /// Closes the windows ending at or before `watermark`.
    pub fn close(&mut self, watermark: u64) {
        for (_, _, p) in &mut self.answers {
            p.answers.close(watermark);
        }
    }
}

/// What the engine needs from a detector.
pub trait Detector: Send {
    /// Looks at one record (already deduplicated, with a time).
    fn observe(&mut self, flow: &Flow, origin: Origin, shared: &mut Shared);
    /// The end of the oldest open window.
    fn next_close(&self) -> Option<u64>;
    /// Closes the windows ending at or before `watermark` (all for `u64::MAX`), appending
    /// their findings.
    fn close(&mut self, watermark: u64, cx: &CloseCx<'_>, out: &mut Vec<Finding>);
    /// Statistics.
    fn stats(&self, shared: &Shared) -> DetectorStats;
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
    /// Live key cap set in the pack (0: from `budget`).
    pub max_keys: usize,
    /// This rule's share of `settings.state_budget` (bytes).
    pub budget: usize,
    /// Records before a gated key is admitted.
    pub promote_at: u32,
    /// What to do with records whose initiator is unknown.
    pub unknown: UnknownInitiator,
    allow_sources: CidrSet,
    allow_destinations: CidrSet,
}

impl Rule {
    fn new(spec: &DetectorSpec, pack: &RulePack, share: usize) -> Rule {
        Rule {
            id: spec.id.clone(),
            kind: spec.params.kind(),
            severity: spec.severity,
            window: spec.window,
            max_evidence: pack.settings.max_evidence,
            max_keys: spec.max_keys,
            budget: share,
            promote_at: pack.settings.promote_at,
            unknown: pack.settings.initiator_unknown,
            allow_sources: spec.allow_sources.clone(),
            allow_destinations: spec.allow_destinations.clone(),
        }
    }

    /// Keyed window state for this rule: capped at the pack's `max_keys` when set, else at
    /// what the rule's byte share holds (`heap` = typical heap bytes per entry on top of its
    /// inline size).
    pub fn windowed<K: std::hash::Hash + Eq, V>(&self, heap: usize) -> Windowed<K, V> {
        let cap = if self.max_keys > 0 {
            self.max_keys
        } else {
            (self.budget / (Windowed::<K, V>::entry_bytes() + heap)).max(1024)
        };
        Windowed::new(self.window, cap)
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
        f.decided_by = tally.decided;
        f
    }

    /// Statistics of a [`Windowed`] state (`extra` bytes held beside it).
    pub fn stats<K: std::hash::Hash + Eq, V>(
        &self,
        w: &Windowed<K, V>,
        findings: u64,
        extra: usize,
    ) -> DetectorStats {
        DetectorStats {
            id: self.id.clone(),
            live_keys: w.live(),
            peak_keys: w.peak,
            max_keys: w.cap(),
            bytes: w.bytes() + extra,
            refused_keys: w.refused,
            late_records: w.late,
            held_records: w.held,
            findings,
        }
    }
}

/// One connection as the connection detectors see it: who opened it (client), who answered
/// (server), the service port, and what decided that.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    /// The client peer.
    pub client: Addr,
    /// Its class.
    pub client_class: Class,
    /// The server peer.
    pub server: Addr,
    /// Its class.
    pub server_class: Class,
    /// The server's port.
    pub port: u16,
    /// IANA protocol (0: unknown).
    pub proto: u8,
    /// Whether this record was sent by the client (else it is the server's reply).
    pub from_client: bool,
    /// [`DecidedBy::bit`] of what decided it.
    pub decided: u8,
}

/// Whether a record of a connection shows the server answered: the server's own record
/// (a SYN-ACK or data), or a client record that carried more than a handshake.
#[inline]
pub fn answered(f: &Flow, c: &Conn) -> bool {
    if c.from_client {
        !f.client_probe && !f.probe
    } else {
        f.answer != crate::initiator::Answer::None
    }
}

/// Whether a record says its server's own interface is requester-managed (`instance-id`
/// `-`: a NAT gateway's, a load balancer's): logged on a requester-managed interface, and not
/// a relay's inner leg (whose interface is the relay's, not the server's).
#[inline]
pub fn managed_server_interface(f: &Flow) -> bool {
    f.managed_interface && f.leg == crate::middlebox::Leg::Direct
}

/// Whether a record says its server's own interface is an instance's (see
/// [`managed_server_interface`]; `instance-id` names an instance).
#[inline]
pub fn instance_server_interface(f: &Flow) -> bool {
    f.instance_interface && f.leg == crate::middlebox::Leg::Direct
}

/// The connection of a probe-counting detector (port scans, host sweeps): like [`conn`],
/// but a REJECTed record whose initiator nothing decided is taken as sent by its source
/// (the sender of refused packets; a reply a network ACL dropped is usually decided by its
/// service source port), with `decided_by: none`.
///
/// An ICMP or ICMPv6 record (no ports; a request and its reply look alike) is its sender's
/// exchange with its receiver, port 0, `decided_by: none`: see [`probing::View::echo`].
#[inline]
pub fn probe_conn(f: &Flow, unknown: UnknownInitiator) -> Option<Conn> {
    if is_echo(f) {
        let (s, d) = f.peers?;
        return Some(Conn {
            client: s,
            client_class: f.src_class,
            server: d,
            server_class: f.dst_class,
            port: 0,
            proto: f.protocol.unwrap_or(0),
            from_client: true,
            decided: DecidedBy::None.bit(),
        });
    }
    if f.initiator == Initiator::Unknown && f.rejected() && unknown == UnknownInitiator::Skip {
        let mut c = conn(f, UnknownInitiator::Ports)?;
        c.decided = DecidedBy::None.bit();
        return Some(c);
    }
    conn(f, unknown)
}

/// An ICMP or ICMPv6 record without ports (how flow logs record them): an echo exchange
/// for the sweep detectors (see [`probing::View::echo`]).
#[inline]
pub fn is_echo(f: &Flow) -> bool {
    !f.ported && is_icmp(f.protocol)
}

/// ICMP or ICMPv6.
#[inline]
pub fn is_icmp(protocol: Option<u8>) -> bool {
    matches!(
        protocol,
        Some(crate::services::ICMP | crate::services::ICMPV6)
    )
}

/// The connection of a ported record; `None` when it has no ports or addresses, or nothing
/// decided who initiated and the pack says `initiator_unknown: skip`.
#[inline]
pub fn conn(f: &Flow, unknown: UnknownInitiator) -> Option<Conn> {
    if !f.ported {
        return None;
    }
    let (s, d) = f.peers?;
    let proto = f.protocol.unwrap_or(0);
    let (sc, dc) = (f.src_class, f.dst_class);
    let c = match f.initiator {
        Initiator::Src => (s, sc, d, dc, f.dport, true, f.decided_by.bit()),
        Initiator::Dst => (d, dc, s, sc, f.sport, false, f.decided_by.bit()),
        Initiator::Unknown => match unknown {
            UnknownInitiator::Skip => return None,
            UnknownInitiator::Ports => (s, sc, d, dc, f.dport, true, DecidedBy::Ports.bit()),
        },
    };
    Some(Conn {
        client: c.0,
        client_class: c.1,
        server: c.2,
        server_class: c.3,
        port: c.4,
        proto,
        from_client: c.5,
        decided: c.6,
    })
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
    /// [`DecidedBy::bit`]s of the records counted.
    pub decided: u8,
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
            decided: 0,
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

    /// Counts a record of a connection (notes what decided its initiator).
    #[inline]
    pub fn add_conn(&mut self, f: &Flow, c: &Conn, origin: Origin, max_evidence: usize) {
        self.add(f, origin, max_evidence);
        self.decided |= c.decided;
    }
}

/// Sets a finding's destination port and protocol (`0`: unknown).
fn set_port(f: &mut Finding, proto: u8, port: u16) {
    f.dst_port = Some(port);
    f.protocol = (proto != 0).then_some(proto);
}

/// A distinct count bounded by the records it was counted from: a HyperLogLog estimate can
/// exceed them (`~61 hosts` from 59 records), which no set of those records can.
fn at_most_records(records: u64, (n, exact): (u64, bool)) -> (u64, bool) {
    (if exact { n } else { n.min(records) }, exact)
}

/// Sets a finding's distinct count (`count` is the hosts' [`crate::sketch::Distinct::count`])
/// and its sample of hosts ([`crate::sketch::Distinct::sample`]).
fn set_hosts(f: &mut Finding, sample: &[Addr], (n, exact): (u64, bool)) {
    f.distinct = Some(n);
    f.distinct_exact = exact;
    f.hosts = sample.iter().map(|a| a.ip()).collect();
}

/// One enabled pack entry's detector (enum dispatch: no virtual call per record).
pub enum AnyDetector {
    /// `admin_port_exposure`.
    AdminExposure(admin_exposure::AdminExposure),
    /// `port_scan`.
    PortScan(port_scan::PortScan),
    /// `host_sweep`.
    HostSweep(host_sweep::HostSweep),
    /// `exfiltration`.
    Exfiltration(exfiltration::Exfiltration),
    /// `lateral_movement`.
    LateralMovement(lateral_movement::LateralMovement),
    /// `trust_zones`.
    TrustZones(trust_zones::TrustZones),
    /// `insecure_protocol`.
    InsecureProtocol(insecure_protocol::InsecureProtocol),
    /// `reject_burst`.
    RejectBurst(reject_burst::RejectBurst),
    /// `log_health`.
    LogHealth(log_health::LogHealth),
}

macro_rules! each {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            AnyDetector::AdminExposure($d) => $e,
            AnyDetector::PortScan($d) => $e,
            AnyDetector::HostSweep($d) => $e,
            AnyDetector::Exfiltration($d) => $e,
            AnyDetector::LateralMovement($d) => $e,
            AnyDetector::TrustZones($d) => $e,
            AnyDetector::InsecureProtocol($d) => $e,
            AnyDetector::RejectBurst($d) => $e,
            AnyDetector::LogHealth($d) => $e,
        }
    };
}

impl Detector for AnyDetector {
    #[inline]
    fn observe(&mut self, flow: &Flow, origin: Origin, shared: &mut Shared) {
        each!(self, d => d.observe(flow, origin, shared))
    }

    fn next_close(&self) -> Option<u64> {
        each!(self, d => d.next_close())
    }

    fn close(&mut self, watermark: u64, cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        each!(self, d => d.close(watermark, cx, out))
    }

    fn stats(&self, shared: &Shared) -> DetectorStats {
        each!(self, d => d.stats(shared))
    }
}

/// Builds a detector for every enabled entry of the pack, in pack order, and the state they
/// share. Each gets an equal share of `settings.state_budget`.
pub fn build(pack: &RulePack, cx: &Classifier) -> (Vec<AnyDetector>, Shared) {
    let mut shared = Shared::default();
    let enabled = pack.detectors.iter().filter(|d| d.enabled).count().max(1);
    let share = usize::try_from(pack.settings.state_budget / enabled as u64).unwrap_or(usize::MAX);
    let detectors = pack
        .detectors
        .iter()
        .filter(|d| d.enabled)
        .map(|spec| {
            let rule = Rule::new(spec, pack, share);
            match &spec.params {
                Params::AdminPortExposure {
                    services,
                    min_sources,
                } => AnyDetector::AdminExposure(admin_exposure::AdminExposure::new(
                    rule,
                    services.clone(),
                    *min_sources,
                )),
                Params::PortScan {
                    min_ports,
                    probes_only,
                    sources,
                    probing,
                } => {
                    let answers = shared.answers_for(rule.window, *probes_only);
                    AnyDetector::PortScan(port_scan::PortScan::new(
                        rule,
                        *min_ports,
                        *probes_only,
                        *sources,
                        probing.clone(),
                        answers,
                    ))
                }
                Params::HostSweep {
                    min_hosts,
                    probes_only,
                    sources,
                    probing,
                } => {
                    let answers = shared.answers_for(rule.window, *probes_only);
                    AnyDetector::HostSweep(host_sweep::HostSweep::new(
                        rule,
                        *min_hosts,
                        *probes_only,
                        *sources,
                        probing.clone(),
                        answers,
                    ))
                }
                Params::Exfiltration {
                    min_bytes,
                    exclude_aws_services,
                } => AnyDetector::Exfiltration(exfiltration::Exfiltration::new(
                    rule,
                    *min_bytes,
                    *exclude_aws_services,
                )),
                Params::LateralMovement {
                    services,
                    min_hosts,
                    include_rejected,
                } => AnyDetector::LateralMovement(lateral_movement::LateralMovement::new(
                    rule,
                    services.clone(),
                    *min_hosts,
                    *include_rejected,
                )),
                Params::TrustZones => {
                    AnyDetector::TrustZones(trust_zones::TrustZones::new(rule, cx.zones.clone()))
                }
                Params::InsecureProtocol { services } => AnyDetector::InsecureProtocol(
                    insecure_protocol::InsecureProtocol::new(rule, services.clone()),
                ),
                Params::RejectBurst {
                    min_rejects,
                    sources,
                } => AnyDetector::RejectBurst(reject_burst::RejectBurst::new(
                    rule,
                    *min_rejects,
                    *sources,
                )),
                Params::LogHealth {
                    status,
                    min_records,
                    min_coverage,
                } => AnyDetector::LogHealth(log_health::LogHealth::new(
                    rule,
                    *status,
                    *min_records,
                    *min_coverage,
                )),
            }
        })
        .collect();
    (detectors, shared)
}

/// Whether a client of this class is in a rule's `sources` scope.
#[inline]
fn in_scope(sources: SourceScope, class: Class) -> bool {
    sources.admits(class.internal())
}

/// A severity one level up (critical stays critical).
pub fn escalate(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// Whether any enabled detector reads trust zones.
pub fn uses_zones(pack: &RulePack) -> bool {
    pack.detectors
        .iter()
        .any(|d| d.enabled && matches!(d.params, Params::TrustZones))
}

/// The distinct ports there are (0 to 65535): the most a port scan's count may say.
pub const PORTS: u64 = 65_536;

/// A count for summaries: `12`, or `~40` when estimated.
pub fn approx(n: u64, exact: bool) -> String {
    if exact {
        n.to_string()
    } else {
        format!("~{n}")
    }
}

pub use crate::units::human_bytes;

#[cfg(test)]
mod tests {
    use super::at_most_records;

    /// Probe regression: a sweep said "~61 hosts" of 59 records; an estimate is bounded by
    /// the records it was counted from, an exact count is left alone.
    #[test]
    fn an_estimate_never_exceeds_its_records() {
        assert_eq!(at_most_records(59, (61, false)), (59, false));
        assert_eq!(at_most_records(59, (40, false)), (40, false));
        assert_eq!(at_most_records(59, (61, true)), (61, true));
    }
}
