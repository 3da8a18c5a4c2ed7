//! Incidents: one row per thing a team acts on. The [`Grouper`] folds per-window
//! [`Finding`]s into [`Incident`]s by a group key per detector kind (see the table in the
//! crate docs), across windows and host pairs: the same scan in 13 windows, or the same
//! zone violation from 13 hosts, is one incident that says 13.
//!
//! An incident keeps first/last seen, the number of windows, summed counts, bounded
//! [`Set`]s of targets, sources and ports (exact while small, then an "at least" count) and
//! the smallest evidence pointers across all its windows. At most `settings.max_incidents`
//! incidents are kept; findings for further keys are counted and reported as a
//! [`Limit`](crate::engine::Limit).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::engine::{Limit, LimitKind};
use crate::finding::{Evidence, Finding, MAX_EVIDENCE, Origin, Severity};
use crate::rules::RulePack;
use crate::time::format_rfc3339;
use crate::units::{human_bytes, human_duration};

/// What the caller knows about its sources (numbered as in [`Origin::source`]).
pub trait SourceInfo {
    /// The flow log a source belongs to (`fl-0123…` from an S3 key or file name), when known.
    fn flow_log(&self, source: u32) -> Option<&str>;
}

/// A [`SourceInfo`] that knows nothing (log-health incidents then group per interface).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSourceInfo;

impl SourceInfo for NoSourceInfo {
    fn flow_log(&self, _source: u32) -> Option<&str> {
        None
    }
}

/// Source names given by index (for example the S3 keys of a run): the flow log is the
/// `fl-…` token of the name (`…_fl-0123456789abcdef0_…`).
impl SourceInfo for Vec<String> {
    fn flow_log(&self, source: u32) -> Option<&str> {
        flow_log_of(self.get(source as usize)?)
    }
}

/// The `fl-…` flow-log id inside an S3 key or file name, if any.
pub fn flow_log_of(name: &str) -> Option<&str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.split('_').find(|part| {
        part.strip_prefix("fl-")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    })
}

/// One member of a [`Set`]: an address, a port, or a name (interface, host pair).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum Item {
    /// An address.
    Ip(IpAddr),
    /// A port.
    Port(u16),
    /// Anything else, as text.
    Name(String),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Ip(ip) => write!(f, "{ip}"),
            Item::Port(p) => write!(f, "{p}"),
            Item::Name(n) => f.write_str(n),
        }
    }
}

/// The most sample members a [`Set`] keeps.
pub const SET_SAMPLE: usize = 32;

/// A bounded set: its count, whether the count is exact, and the smallest members
/// (at most [`SET_SAMPLE`]). When members were dropped somewhere, `count` is a lower bound
/// (the members seen) and `exact` is false. When a count came from an estimate (a
/// HyperLogLog of a detector), `estimate` is true: the count may be above or below the truth.
/// An incident of several windows does not count its own distinct members when a window's
/// count was an estimate: it keeps the largest window's count, and `largest_window` says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Set {
    /// Distinct members (exact when `exact`, an estimate when `estimate`, else at least this
    /// many).
    pub count: u64,
    /// Whether `count` is exact.
    pub exact: bool,
    /// Whether `count` is an estimate (may be above the truth); absent when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub estimate: bool,
    /// Whether `count` is the largest single window's count, not the whole incident's
    /// (which was not counted); absent when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub largest_window: bool,
    /// The smallest members, sorted.
    pub sample: Vec<Item>,
}

impl Default for Set {
    /// The empty set (exact).
    fn default() -> Set {
        Set {
            count: 0,
            exact: true,
            estimate: false,
            largest_window: false,
            sample: Vec::new(),
        }
    }
}

impl Set {
    /// An exact set of `items`.
    pub fn of(items: impl IntoIterator<Item = Item>) -> Set {
        let mut sample: Vec<Item> = items.into_iter().collect();
        sample.sort();
        sample.dedup();
        let count = sample.len() as u64;
        let exact = sample.len() <= SET_SAMPLE;
        sample.truncate(SET_SAMPLE);
        Set {
            count,
            exact,
            sample,
            ..Set::default()
        }
    }

    /// A set known by a sample and a count that may be larger. `exact` as the source said:
    /// an inexact count from a detector is an estimate (its distinct counts are exact or
    /// HyperLogLog).
    pub fn counted(items: impl IntoIterator<Item = Item>, count: u64, exact: bool) -> Set {
        let mut s = Set::of(items);
        if count > s.count || !exact {
            s.exact = s.exact && exact && count <= s.count;
            s.estimate = !exact && count > s.count;
            s.count = s.count.max(count);
        }
        s
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Merges `other` in: exact union while both are exact and the union fits the sample;
    /// else the members seen (a lower bound) or, when a count was estimated and is larger,
    /// the larger estimate, marked as the largest window's.
    pub fn merge(&mut self, other: &Set) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other.clone();
            return;
        }
        let mut sample = std::mem::take(&mut self.sample);
        sample.extend(other.sample.iter().cloned());
        sample.sort();
        sample.dedup();
        let union = sample.len() as u64;
        let exact = self.exact && other.exact && sample.len() <= SET_SAMPLE;
        sample.truncate(SET_SAMPLE);
        self.sample = sample;
        if exact {
            self.count = union;
        } else {
            let (big, big_estimate, big_window) = if other.count > self.count {
                (other.count, other.estimate, other.largest_window)
            } else {
                (self.count, self.estimate, self.largest_window)
            };
            if union >= big {
                (self.count, self.estimate, self.largest_window) = (union, false, false);
            } else {
                // The union of two estimates is not known: the larger one is a window's.
                (self.count, self.estimate, self.largest_window) =
                    (big, big_estimate, big_window || big_estimate);
            }
        }
        self.exact = exact;
    }

    /// The count with its mark: `80`, `≥80` (a lower bound) or `~80` (an estimate).
    pub fn count_text(&self, human: impl Fn(u64) -> String) -> String {
        let mark = if self.exact {
            ""
        } else if self.estimate {
            "~"
        } else {
            "≥"
        };
        format!("{mark}{}", human(self.count))
    }
}

/// What an incident is about (the group key's subject).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A client: a scanner, a sweeper, a source of rejects or lateral movement, an
    /// exfiltrating host.
    Source {
        /// Its address.
        ip: IpAddr,
    },
    /// A server reached on one service (exposure, insecure protocols).
    Server {
        /// Its address.
        ip: IpAddr,
    },
    /// A pair of trust zones.
    Zones {
        /// Source zone.
        src: String,
        /// Destination zone.
        dst: String,
    },
    /// A flow log (log health, when the caller knows it).
    FlowLog {
        /// Its id.
        id: String,
    },
    /// An interface (log health without a known flow log).
    Interface {
        /// Its id.
        id: String,
    },
    /// Nothing more specific (a finding without addresses).
    Detector,
}

impl Subject {
    /// A short label: `203.0.113.5`, `web → db`, `fl-0123…`, `eni-…`.
    pub fn label(&self) -> String {
        match self {
            Subject::Source { ip } | Subject::Server { ip } => ip.to_string(),
            Subject::Zones { src, dst } => format!("{src} → {dst}"),
            Subject::FlowLog { id } | Subject::Interface { id } => id.clone(),
            Subject::Detector => "-".to_owned(),
        }
    }
}

/// One grouped finding: what a team acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// 16 hex digits of a fixed hash of the group key (stable across runs).
    pub id: String,
    /// The rule's id in the pack.
    pub detector: String,
    /// The detector kind.
    pub kind: &'static str,
    /// The highest severity of its findings.
    pub severity: Severity,
    /// A short title (`port scan from 203.0.113.5`).
    pub title: String,
    /// One-line summary over all its windows.
    pub summary: String,
    /// Earliest record time counted (Unix seconds).
    pub first_seen: u64,
    /// Latest record end counted (Unix seconds).
    pub last_seen: u64,
    /// `first_seen` as RFC 3339.
    pub first_seen_utc: String,
    /// `last_seen` as RFC 3339.
    pub last_seen_utc: String,
    /// Distinct windows in which the detector fired.
    pub windows: u32,
    /// Window findings folded in (several per window when a key is finer than the
    /// incident's: zone violations per host pair, log health per interface).
    pub findings: u32,
    /// The rule's window length (seconds).
    pub window_len: u64,
    /// What the incident is about.
    pub subject: Subject,
    /// Hosts (or host pairs, or interfaces) it touched.
    pub targets: Set,
    /// Sources involved (exposure: the clients; zones: the source hosts).
    pub sources: Set,
    /// Ports involved.
    pub ports: Set,
    /// IANA protocol, when the incident is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// The pack's service name, when one matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Records counted, over all windows.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// What decided who initiated the flows (`tcp-flags`, `flow-direction`, `ports`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decided_by: Vec<String>,
    /// A middlebox the traffic went through, when that matters for the subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The smallest record pointers across all windows.
    pub evidence: Vec<Origin>,
    /// True when a limit of its detector was hit during the run (it may be missing
    /// windows, targets or counts).
    pub incomplete: bool,
    /// Incidents of other rules folded into this one because they are the same activity
    /// (a scan's rejections that were also a reject burst); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Also>,
}

/// An incident folded into another ([`Incident::also`]): its rule, severity, counts and
/// summary, so nothing it said is lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Also {
    /// The rule's id.
    pub detector: String,
    /// The detector kind.
    pub kind: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// Its window findings.
    pub findings: u32,
    /// Its records.
    pub flows: u64,
    /// Its summary.
    pub summary: String,
}

impl Incident {
    /// The order incidents are reported in: severity (highest first), first seen, detector,
    /// subject, id.
    pub fn order(&self, other: &Incident) -> std::cmp::Ordering {
        other
            .severity
            .cmp(&self.severity)
            .then_with(|| self.first_seen.cmp(&other.first_seen))
            .then_with(|| self.detector.cmp(&other.detector))
            .then_with(|| self.subject.cmp(&other.subject))
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// The group key of a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    detector: String,
    subject: Subject,
    protocol: Option<u8>,
    port: Option<u16>,
    service: Option<String>,
}

impl Key {
    fn text(&self) -> String {
        format!(
            "{}|{:?}|{:?}|{:?}|{:?}",
            self.detector, self.subject, self.protocol, self.port, self.service
        )
    }
}

/// The key and the (targets, sources, ports) a finding contributes.
fn key_of(f: &Finding, ctx: &dyn SourceInfo) -> (Key, Set, Set, Set) {
    let ip_set = |ips: &[IpAddr], n: Option<u64>, exact: bool| {
        Set::counted(
            ips.iter().copied().map(Item::Ip),
            n.unwrap_or(ips.len() as u64),
            exact,
        )
    };
    let one = |ip: Option<IpAddr>| Set::of(ip.map(Item::Ip));
    let port_set = |ports: &[u16]| Set::of(ports.iter().copied().map(Item::Port));
    let subject_src = f.src.map_or(Subject::Detector, |ip| Subject::Source { ip });
    let mut key = Key {
        detector: f.detector.clone(),
        subject: subject_src.clone(),
        protocol: None,
        port: None,
        service: None,
    };
    let (targets, sources, ports) = match f.kind {
        "port_scan" => (
            one(f.dst),
            one(f.src),
            Set::counted(
                f.ports.iter().copied().map(Item::Port),
                f.distinct
                    .unwrap_or(f.ports.len() as u64)
                    .min(crate::detectors::PORTS),
                f.distinct_exact,
            ),
        ),
        // One row per sweeper, whatever the ports: a host sweeping 100 ports of a subnet
        // gave 100 rows (probe of session 13); its ports are the incident's port set.
        // A ping sweep's "port" is its protocol: folded into a row of port sweeps, it was
        // invisible (probe of session 13: ports 22, 445 and no sign of the 40 pings).
        "host_sweep" => (
            ip_set(&f.hosts, f.distinct, f.distinct_exact),
            one(f.src),
            Set::of(f.dst_port.map(Item::Port).or_else(|| {
                f.protocol
                    .filter(|&p| crate::detectors::is_icmp(Some(p)))
                    .map(|p| Item::Name(crate::services::protocol_name(p)))
            })),
        ),
        "reject_burst" => (
            ip_set(&f.hosts, f.distinct, f.distinct_exact),
            one(f.src),
            Set::of(f.dst_port.map(Item::Port)),
        ),
        "lateral_movement" => (
            ip_set(&f.hosts, f.distinct, f.distinct_exact),
            one(f.src),
            port_set(&f.ports),
        ),
        "exfiltration" => (one(f.dst), one(f.src), Set::default()),
        "admin_port_exposure" => {
            key.subject = f.dst.map_or(Subject::Detector, |ip| Subject::Server { ip });
            key.protocol = f.protocol;
            key.port = f.dst_port;
            key.service = f.service.clone();
            (
                one(f.dst),
                ip_set(&f.hosts, f.distinct, f.distinct_exact),
                Set::of(f.dst_port.map(Item::Port)),
            )
        }
        "insecure_protocol" => {
            // Our side: the server (a public client reached it) or the client (it spoke
            // cleartext to a public server).
            key.subject = match (f.ours.or(f.dst), f.src) {
                (Some(ours), Some(client)) if ours == client => Subject::Source { ip: ours },
                (Some(ip), _) => Subject::Server { ip },
                (None, _) => Subject::Detector,
            };
            // Per (host, service): ftp on 20 and 21, netbios on 137-139 are one incident each;
            // a port without a service name is its own.
            key.service = f.service.clone();
            if key.service.is_none() {
                key.port = f.dst_port;
                key.protocol = f.protocol;
            }
            (one(f.dst), one(f.src), Set::of(f.dst_port.map(Item::Port)))
        }
        "trust_zones" => {
            key.subject = Subject::Zones {
                src: f.src_zone.clone().unwrap_or_default(),
                dst: f.dst_zone.clone().unwrap_or_default(),
            };
            key.protocol = f.protocol;
            key.port = f.dst_port;
            let pair = match (f.src, f.dst) {
                (Some(s), Some(d)) => Some(Item::Name(format!("{s} → {d}"))),
                _ => None,
            };
            (
                Set::of(pair),
                one(f.src),
                Set::of(f.dst_port.map(Item::Port)),
            )
        }
        "log_health" => {
            let log = f
                .evidence
                .first()
                .and_then(|o| ctx.flow_log(o.source))
                .map(str::to_owned);
            key.subject = match (log, &f.interface_id) {
                (Some(id), _) => Subject::FlowLog { id },
                (None, Some(id)) => Subject::Interface { id: id.clone() },
                (None, None) => Subject::Detector,
            };
            (
                Set::of(f.interface_id.clone().map(Item::Name)),
                Set::default(),
                Set::default(),
            )
        }
        _ => (one(f.dst), one(f.src), Set::of(f.dst_port.map(Item::Port))),
    };
    (key, targets, sources, ports)
}

/// A fixed 64-bit FNV-1a hash (incident ids are the same on every run and platform).
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// An incident being built.
struct Open {
    incident: Incident,
    evidence: Evidence,
    /// The summary of the window with the highest severity and then the most records (the
    /// window that made the incident's severity: a sweep raised to high by its answered RDP
    /// window was described by its rejected SSH one), and those two.
    best: ((Severity, u64), String),
    /// [`Finding::decided_by`] bits of all its findings.
    decided: u8,
    /// Distinct window starts (sorted; one per window of the run at most).
    starts: Vec<u64>,
}

/// Folds findings into incidents (see the module docs).
pub struct Grouper {
    max_incidents: usize,
    max_evidence: usize,
    /// `settings.probe_max_bytes`: an exposure whose records carried more, on average, is
    /// not merged with a scanner's other touches ([`crate::exposures`]).
    probe_max_bytes: u64,
    open: BTreeMap<Key, Open>,
    /// Findings whose incident could not be opened (`max_incidents` reached).
    dropped_findings: u64,
    /// Detectors (ids) whose limits were hit, marking their incidents incomplete.
    limited: Vec<String>,
}

impl Grouper {
    /// A grouper with the pack's `settings.max_incidents` and `settings.max_evidence`.
    pub fn new(pack: &RulePack) -> Grouper {
        Grouper {
            max_incidents: pack.settings.max_incidents,
            max_evidence: pack.settings.max_evidence.min(MAX_EVIDENCE),
            probe_max_bytes: pack.settings.probe_max_bytes,
            open: BTreeMap::new(),
            dropped_findings: 0,
            limited: Vec::new(),
        }
    }

    /// Folds one finding into its incident (opening it if new).
    pub fn offer(&mut self, f: Finding, ctx: &dyn SourceInfo) {
        let (key, targets, sources, ports) = key_of(&f, ctx);
        if !self.open.contains_key(&key) && self.open.len() >= self.max_incidents {
            self.dropped_findings += 1;
            return;
        }
        let max_evidence = self.max_evidence;
        let open = self.open.entry(key.clone()).or_insert_with(|| Open {
            incident: Incident {
                id: format!("{:016x}", fnv1a(&key.text())),
                detector: f.detector.clone(),
                kind: f.kind,
                severity: f.severity,
                title: String::new(),
                summary: String::new(),
                first_seen: f.first_seen,
                last_seen: f.last_seen,
                first_seen_utc: String::new(),
                last_seen_utc: String::new(),
                windows: 0,
                findings: 0,
                window_len: f.window.end.saturating_sub(f.window.start),
                subject: key.subject.clone(),
                targets: Set::default(),
                sources: Set::default(),
                ports: Set::default(),
                protocol: f.protocol,
                service: f.service.clone(),
                flows: 0,
                packets: 0,
                bytes: 0,
                decided_by: Vec::new(),
                via: None,
                evidence: Vec::new(),
                incomplete: false,
                also: Vec::new(),
            },
            evidence: Evidence::default(),
            best: ((Severity::Info, 0), String::new()),
            decided: 0,
            starts: Vec::new(),
        });
        if let Err(at) = open.starts.binary_search(&f.window.start) {
            open.starts.insert(at, f.window.start);
        }
        open.decided |= f.decided_by;
        let inc = &mut open.incident;
        inc.severity = inc.severity.max(f.severity);
        inc.findings = inc.findings.saturating_add(1);
        inc.first_seen = inc.first_seen.min(f.first_seen);
        inc.last_seen = inc.last_seen.max(f.last_seen);
        inc.windows = u32::try_from(open.starts.len()).unwrap_or(u32::MAX);
        inc.targets.merge(&targets);
        inc.sources.merge(&sources);
        inc.ports.merge(&ports);
        if inc.protocol != f.protocol {
            inc.protocol = inc.protocol.filter(|_| f.protocol.is_none());
        }
        if inc.via.is_none() {
            inc.via = f.via.clone();
        }
        inc.flows = inc.flows.saturating_add(f.flows);
        inc.packets = inc.packets.saturating_add(f.packets);
        inc.bytes = inc.bytes.saturating_add(f.bytes);
        for o in &f.evidence {
            open.evidence.offer(*o, max_evidence);
        }
        if open.best.1.is_empty() || (f.severity, f.flows) > open.best.0 {
            open.best = ((f.severity, f.flows), f.summary);
        }
    }

    /// Notes the run's limits: incidents of a detector named in one are marked incomplete.
    pub fn note_limits(&mut self, limits: &[Limit]) {
        for l in limits {
            if !self.limited.contains(&l.component) {
                self.limited.push(l.component.clone());
            }
        }
    }

    /// The limit the grouper itself hit (findings not grouped because `max_incidents`
    /// incidents were open), if any.
    pub fn limits(&self) -> Vec<Limit> {
        if self.dropped_findings == 0 {
            return Vec::new();
        }
        vec![Limit {
            component: "incidents".to_owned(),
            what: LimitKind::IncidentsCapped,
            count: self.dropped_findings,
            meaning: format!(
                "{} window findings were not reported because {} incidents were already open \
                 (settings.max_incidents); raise it or narrow the run",
                self.dropped_findings, self.max_incidents
            ),
        }]
    }

    /// The incidents, in [`Incident::order`].
    pub fn finish(self) -> Vec<Incident> {
        let (limited, max_evidence, probe_max_bytes) =
            (self.limited, self.max_evidence, self.probe_max_bytes);
        let mut out: Vec<Incident> = self
            .open
            .into_values()
            .map(|open| {
                let mut inc = open.incident;
                inc.evidence = open.evidence.to_vec();
                inc.decided_by = crate::finding::decided_labels(open.decided)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                inc.incomplete = limited.contains(&inc.detector);
                inc.first_seen_utc = format_rfc3339(inc.first_seen);
                inc.last_seen_utc = format_rfc3339(inc.last_seen);
                inc.title = title(&inc, &open.best.1);
                inc.summary = summary(&inc, &open.best.1);
                inc
            })
            .collect();
        crate::exposures::merge_exposures(&mut out, max_evidence, probe_max_bytes);
        fold_reject_bursts(&mut out);
        out.sort_by(Incident::order);
        out
    }
}

/// A reject burst from a source that scanned or swept in the same time (within one window
/// of it) is that probing's rejections, one activity: the scan's incident takes it as
/// [`Also`] (its severity too, when higher) and says so in its summary, and the burst's own
/// row goes. A burst with no scan or sweep of its source nearby stays.
fn fold_reject_bursts(out: &mut Vec<Incident>) {
    let source = |inc: &Incident| match inc.subject {
        Subject::Source { ip } => Some(ip),
        _ => None,
    };
    let mut folds: Vec<(usize, usize)> = Vec::new();
    for (b, burst) in out.iter().enumerate() {
        if burst.kind != "reject_burst" {
            continue;
        }
        let Some(ip) = source(burst) else {
            continue;
        };
        let slack = burst.window_len;
        let scan = out.iter().position(|inc| {
            matches!(inc.kind, "port_scan" | "host_sweep")
                && source(inc) == Some(ip)
                && inc.first_seen <= burst.last_seen.saturating_add(slack)
                && burst.first_seen <= inc.last_seen.saturating_add(slack)
        });
        if let Some(s) = scan {
            folds.push((s, b));
        }
    }
    for &(s, b) in &folds {
        let burst = &out[b];
        let also = Also {
            detector: burst.detector.clone(),
            kind: burst.kind,
            severity: burst.severity,
            findings: burst.findings,
            flows: burst.flows,
            summary: burst.summary.clone(),
        };
        let scan = &mut out[s];
        scan.severity = scan.severity.max(also.severity);
        scan.summary = format!(
            "{}; also a reject burst ({}): {}",
            scan.summary, also.detector, also.summary
        );
        scan.also.push(also);
    }
    let mut gone: Vec<usize> = folds.iter().map(|&(_, b)| b).collect();
    gone.sort_unstable();
    for b in gone.into_iter().rev() {
        out.remove(b);
    }
}

/// `port scan from 203.0.113.5`, `ssh exposed on 10.0.1.10`; `busiest` is the busiest
/// window's summary (a log-health one names its status: SKIPDATA records are records lost,
/// NODATA ones an interface with no traffic).
fn title(inc: &Incident, busiest: &str) -> String {
    let s = inc.subject.label();
    let svc = inc
        .service
        .clone()
        .or_else(|| inc.ports.sample.first().map(|p| format!("port {p}")))
        .unwrap_or_else(|| "a service".to_owned());
    match inc.kind {
        "port_scan" => format!("port scan from {s}"),
        "host_sweep" => format!("host sweep from {s}"),
        "reject_burst" => format!("rejected connections from {s}"),
        "lateral_movement" => format!("lateral movement from {s}"),
        "exfiltration" => format!("large transfer out from {s}"),
        "admin_port_exposure" => format!("{svc} reachable from the internet on {s}"),
        "insecure_protocol" => match inc.subject {
            Subject::Source { .. } => format!("{svc} in clear text from {s}"),
            _ => format!("{svc} in clear text to {s}"),
        },
        "trust_zones" => format!("trust zone violation {s}"),
        "log_health" if busiest.contains(" NODATA record") => format!("no traffic logged on {s}"),
        "log_health" => format!("log records missing on {s}"),
        other => format!("{other} {s}"),
    }
}

/// One window: that window's summary. Several: the busiest window's summary, then what the
/// whole incident adds up to.
fn summary(inc: &Incident, busiest: &str) -> String {
    if inc.findings <= 1 {
        return busiest.to_owned();
    }
    let mut parts = Vec::new();
    if inc.windows > 1 {
        parts.push(format!(
            "{} windows of {}",
            inc.windows,
            human_duration(inc.window_len)
        ));
    }
    if inc.targets.count > 1 {
        parts.push(format!(
            "{} targets{}",
            inc.targets.count_text(|n| n.to_string()),
            largest_window_note(&inc.targets)
        ));
    }
    // The busiest window's summary counts its own sources (an exposure's "accepted from 3
    // external sources"): the incident's may be more.
    if inc.sources.count > 1 {
        parts.push(format!(
            "{} sources{}",
            inc.sources.count_text(|n| n.to_string()),
            largest_window_note(&inc.sources)
        ));
    }
    if matches!(inc.kind, "port_scan" | "host_sweep") && inc.ports.count > 1 {
        let pings = inc.ports.sample.iter().any(|p| matches!(p, Item::Name(_)));
        parts.push(format!(
            "{} ports{}{}",
            inc.ports.count_text(|n| n.to_string()),
            largest_window_note(&inc.ports),
            if pings { " (pings count as one)" } else { "" }
        ));
    }
    parts.push(format!("{} records", inc.flows));
    if inc.kind == "exfiltration" {
        parts.push(human_bytes(inc.bytes));
    }
    format!("{busiest}; in all: {}", parts.join(", "))
}

/// ` in the largest window` when a set's count is one window's, else nothing.
fn largest_window_note(set: &Set) -> &'static str {
    if set.largest_window {
        " in the largest window"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Window;

    fn scan(start: u64, src: &str, dst: &str) -> Finding {
        let mut f = Finding::new(
            "port-scan",
            "port_scan",
            Severity::Medium,
            Window {
                start,
                end: start + 300,
            },
        );
        f.src = Some(src.parse().unwrap());
        f.dst = Some(dst.parse().unwrap());
        f.flows = 10;
        f.ports = vec![22, 80];
        f.distinct = Some(2);
        f.evidence = vec![Origin::new(0, start)];
        f.summary = format!("{src} probed 2 ports on {dst}");
        f
    }

    #[test]
    fn windows_of_one_scanner_are_one_incident() {
        let pack = RulePack::from_yaml(crate::DEFAULT_PACK_YAML).unwrap();
        let mut g = Grouper::new(&pack);
        for w in 0..13 {
            g.offer(scan(w * 300, "203.0.113.5", "10.0.0.1"), &NoSourceInfo);
        }
        g.offer(scan(0, "203.0.113.6", "10.0.0.1"), &NoSourceInfo);
        let incs = g.finish();
        assert_eq!(incs.len(), 2);
        let a = incs
            .iter()
            .find(|i| i.subject.label() == "203.0.113.5")
            .unwrap();
        assert_eq!(a.windows, 13);
        assert_eq!(a.flows, 130);
        assert_eq!(a.first_seen, 0);
        assert_eq!(a.last_seen, 12 * 300 + 300);
        assert_eq!(a.evidence.len(), 5);
        assert_eq!(a.evidence[0], Origin::new(0, 0));
        assert!(a.summary.contains("13 windows of 5m"), "{}", a.summary);
        assert_eq!(a.id.len(), 16);
    }

    #[test]
    fn incidents_are_capped_and_the_cap_is_a_limit() {
        let mut pack = RulePack::from_yaml(crate::DEFAULT_PACK_YAML).unwrap();
        pack.settings.max_incidents = 1;
        let mut g = Grouper::new(&pack);
        g.offer(scan(0, "203.0.113.5", "10.0.0.1"), &NoSourceInfo);
        g.offer(scan(300, "203.0.113.5", "10.0.0.1"), &NoSourceInfo);
        g.offer(scan(0, "203.0.113.6", "10.0.0.1"), &NoSourceInfo);
        let limits = g.limits();
        assert_eq!(limits.len(), 1);
        assert_eq!(limits[0].count, 1);
        assert_eq!(g.finish().len(), 1);
    }

    #[test]
    fn sets_merge_exactly_while_small() {
        let mut a = Set::of([Item::Port(1), Item::Port(2)]);
        a.merge(&Set::of([Item::Port(2), Item::Port(3)]));
        assert_eq!((a.count, a.exact), (3, true));
        a.merge(&Set::counted([Item::Port(9)], 100, false));
        assert_eq!((a.count, a.exact), (100, false));
        assert_eq!(a.sample.len(), 4);
    }

    /// Regression (probe `case2/slowscan`): 13 windows of ~80 estimated ports each made an
    /// incident of "≥80 ports", as if a lower bound of all 13; it is the largest window's
    /// estimate, and says so. One window's estimate alone is just an estimate.
    #[test]
    fn merged_estimates_are_the_largest_windows_count() {
        let window = |n: u64| Set::counted((n..n + 32).map(|p| Item::Port(p as u16)), 80, false);
        let mut one = Set::default();
        one.merge(&window(0));
        assert_eq!(
            (one.count, one.estimate, one.largest_window),
            (80, true, false)
        );
        let mut all = window(0);
        for w in 1..13 {
            all.merge(&window(w * 77));
        }
        assert_eq!(
            (all.count, all.exact, all.estimate, all.largest_window),
            (80, false, true, true)
        );
        assert_eq!(all.count_text(|n| n.to_string()), "~80");
        // Exact members beyond the sample: a true lower bound.
        let mut low = Set::of((0..30).map(Item::Port));
        low.merge(&Set::of((30..60).map(Item::Port)));
        assert_eq!(
            (low.count, low.estimate, low.largest_window),
            (60, false, false)
        );
        assert_eq!(low.count_text(|n| n.to_string()), "≥60");
    }

    #[test]
    fn flow_log_ids_come_from_key_names() {
        assert_eq!(
            flow_log_of(
                "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/01/1_vpcflowlogs_us-east-1_fl-0abc123_20261101T0000Z_hash.log.gz"
            ),
            Some("fl-0abc123")
        );
        assert_eq!(flow_log_of("local/records.log"), None);
    }
}
