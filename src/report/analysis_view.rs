//! What every analysis format shows, computed once: the incidents as display rows (subject,
//! targets, seen, windows, counts in human units, evidence pointers resolved to `name:line`),
//! findings by severity, the Limits with what they mean, and the sources with problems. The
//! renderers (table, HTML, JSON) only lay these out; nothing here decides a finding.

use std::net::IpAddr;

use flowkeeper_analyze::time::format_rfc3339;
use flowkeeper_analyze::units::{human_bytes, human_count, human_duration};
use flowkeeper_analyze::{Analysis, Incident, Limit, LimitKind, Origin, Set, Severity, Subject};
use serde::Serialize;

use crate::analyze::RunSummary;
use crate::analyze::timeline::Timeline;

/// Everything a run produced, as the renderers get it.
pub struct Results<'a> {
    /// The grouped findings, in [`Incident::order`].
    pub incidents: &'a [Incident],
    pub analysis: &'a Analysis,
    pub run: &'a RunSummary,
    /// The engine's limits and the grouper's.
    pub limits: &'a [Limit],
    pub timeline: &'a Timeline,
}

/// `name:line` for each origin (the source's full name: an S3 key, a path, a log stream).
pub fn evidence(origins: &[Origin], run: &RunSummary) -> Vec<String> {
    origins
        .iter()
        .map(|o| {
            let name = run
                .sources
                .get(o.source as usize)
                .map_or("?", |s| s.name.as_str());
            format!("{name}:{}", o.line)
        })
        .collect()
}

/// `2026-11-01 10:05` (UTC, minutes).
pub fn minute(t: u64) -> String {
    let s = format_rfc3339(t);
    // `2026-11-01T10:05:00Z` → `2026-11-01 10:05`
    s.get(..16).map_or(s.clone(), |p| p.replace('T', " "))
}

/// `11-01 10:05–10:45` (same day) or `11-01 10:05–11-02 01:00`.
pub fn seen_span(first: u64, last: u64) -> String {
    let a = minute(first);
    let b = minute(last);
    let (a_day, a_time) = a.split_once(' ').unwrap_or((&a, ""));
    let (b_day, b_time) = b.split_once(' ').unwrap_or((&b, ""));
    let a_md = a_day.get(5..).unwrap_or(a_day);
    let b_md = b_day.get(5..).unwrap_or(b_day);
    if a == b {
        format!("{a_md} {a_time}")
    } else if a_day == b_day {
        format!("{a_md} {a_time}–{b_time}")
    } else {
        format!("{a_md} {a_time}–{b_md} {b_time}")
    }
}

/// A set as text: its members when there are at most three and the count is exact
/// (`10.0.2.10`, `22, 23, 3389`), else how many: `13 hosts`, `≥40 hosts` (at least),
/// `~1.2k ports` (an estimate), `~80 ports/5m` (an estimate of the largest 5-minute window,
/// the incident's own count is not known).
fn set_text(set: &Set, one: &str, many: &str, window_len: u64) -> String {
    if set.exact && set.count as usize == set.sample.len() && set.count <= 3 {
        return set
            .sample
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
    }
    let noun = if set.count == 1 { one } else { many };
    let per = if set.largest_window {
        format!("/{}", human_duration(window_len))
    } else {
        String::new()
    };
    format!("{} {noun}{per}", set.count_text(human_count))
}

/// What an incident touched: hosts and ports (`10.0.2.10, 300 ports`, `13 targets, port 22`);
/// for a server (exposure, clear text), its port and who reached it (`22 ← 198.51.100.7`).
pub fn targets_text(i: &Incident) -> String {
    if matches!(i.subject, Subject::Server { .. }) && !i.sources.is_empty() {
        let ports = if i.ports.is_empty() {
            "-".to_string()
        } else {
            set_text(&i.ports, "port", "ports", i.window_len)
        };
        return format!(
            "{ports} ← {}",
            set_text(&i.sources, "source", "sources", i.window_len)
        );
    }
    let hosts =
        (!i.targets.is_empty()).then(|| set_text(&i.targets, "target", "targets", i.window_len));
    let ports = (!i.ports.is_empty()).then(|| {
        let text = set_text(&i.ports, "port", "ports", i.window_len);
        if text.contains(" port") {
            text
        } else if i.ports.count == 1 {
            format!("port {text}")
        } else {
            format!("ports {text}")
        }
    });
    match (hosts, ports) {
        (Some(h), Some(p)) => format!("{h}, {p}"),
        (Some(h), None) => h,
        (None, Some(p)) => p,
        (None, None) => "-".into(),
    }
}

/// One incident as every format shows it.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub severity: &'static str,
    pub severity_rank: u8,
    pub detector: String,
    pub kind: String,
    pub title: String,
    pub summary: String,
    /// Who: the client, server, zone pair, flow log or interface.
    pub subject: String,
    /// What it touched: `10.0.2.10`, `13 hosts`, `22, 3389`.
    pub targets: String,
    pub first_seen: u64,
    pub last_seen: u64,
    pub first_seen_utc: String,
    pub last_seen_utc: String,
    /// `11-01 10:05–10:45`.
    pub seen: String,
    pub windows: u32,
    /// `5m`.
    pub window_len: String,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub flows_h: String,
    pub bytes_h: String,
    pub decided_by: String,
    pub via: Option<String>,
    pub incomplete: bool,
    /// `name:line`, smallest first.
    pub evidence: Vec<String>,
}

/// The row of one incident.
pub fn row(i: &Incident, run: &RunSummary) -> IncidentRow {
    IncidentRow {
        id: i.id.clone(),
        severity: i.severity.as_str(),
        severity_rank: i.severity as u8,
        detector: i.detector.clone(),
        kind: i.kind.to_string(),
        title: i.title.clone(),
        summary: i.summary.clone(),
        subject: i.subject.label(),
        targets: targets_text(i),
        first_seen: i.first_seen,
        last_seen: i.last_seen,
        first_seen_utc: minute(i.first_seen),
        last_seen_utc: minute(i.last_seen),
        seen: seen_span(i.first_seen, i.last_seen),
        windows: i.windows,
        window_len: human_duration(i.window_len),
        flows: i.flows,
        packets: i.packets,
        bytes: i.bytes,
        flows_h: human_count(i.flows),
        bytes_h: human_bytes(i.bytes),
        decided_by: i.decided_by.join(", "),
        via: i.via.clone(),
        incomplete: i.incomplete,
        evidence: evidence(&i.evidence, run),
    }
}

/// In [`Incident::order`]: most severe first, then first seen, detector, subject.
pub fn rows(incidents: &[Incident], run: &RunSummary) -> Vec<IncidentRow> {
    let mut sorted: Vec<&Incident> = incidents.iter().collect();
    sorted.sort_by(|a, b| a.order(b));
    sorted.into_iter().map(|i| row(i, run)).collect()
}

/// Incidents per severity, most severe first (every severity, zeros included).
#[derive(Clone, Debug, Serialize)]
pub struct SeverityCount {
    pub severity: &'static str,
    pub count: usize,
}

pub fn by_severity(incidents: &[Incident]) -> Vec<SeverityCount> {
    Severity::ALL
        .iter()
        .rev()
        .map(|s| SeverityCount {
            severity: s.as_str(),
            count: incidents.iter().filter(|i| i.severity == *s).count(),
        })
        .collect()
}

/// A limit the run hit, as every format states it.
#[derive(Clone, Debug, Serialize)]
pub struct LimitRow {
    pub component: String,
    pub what: String,
    pub count: u64,
    pub count_h: String,
    pub meaning: String,
}

/// How a limit is named in every format.
pub fn limit_what(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::RefusedKeys => "keys refused",
        LimitKind::Late => "late records",
        LimitKind::DedupeFull => "dedupe full",
        LimitKind::RelayLearnedLate => "NAT learned late",
        LimitKind::IncidentsCapped => "incidents capped",
        LimitKind::Estimated => "estimated",
        LimitKind::LoggedTwice => "logged twice",
        LimitKind::Ipv6Unplaced => "IPv6 not ours",
        LimitKind::TimeOutliers => "time outliers",
        LimitKind::OpenersFull => "openers full",
        LimitKind::NoAction => "no action",
    }
}

pub fn limit_rows(limits: &[Limit]) -> Vec<LimitRow> {
    limits.iter().map(limit_row).collect()
}

/// A limit's meaning on one line (runs of whitespace as one space), without a leading
/// `component: ` that the line already says.
pub fn limit_meaning(l: &Limit) -> String {
    let text = l.meaning.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.strip_prefix(&format!("{}: ", l.component)) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// `port-scan, keys refused (12): <what it means>`.
pub fn limit_line(l: &Limit) -> String {
    format!(
        "{}, {} ({}): {}",
        l.component,
        limit_what(l.what),
        human_count(l.count),
        limit_meaning(l)
    )
}

fn limit_row(l: &Limit) -> LimitRow {
    LimitRow {
        component: l.component.clone(),
        what: limit_what(l.what).to_string(),
        count: l.count,
        count_h: human_count(l.count),
        meaning: limit_meaning(l),
    }
}

/// One talker bar.
#[derive(Clone, Debug, Serialize)]
pub struct TalkerRow {
    pub side: &'static str,
    pub addr: IpAddr,
    pub bytes: u64,
    pub bytes_h: String,
}

/// The ten top sources, then the ten top destinations.
pub fn talkers(analysis: &Analysis) -> Vec<TalkerRow> {
    let r = &analysis.reports;
    let side = |side: &'static str| {
        move |t: &flowkeeper_analyze::reports::Talker| TalkerRow {
            side,
            addr: t.addr,
            bytes: t.bytes,
            bytes_h: talker_bytes(t),
        }
    };
    r.top_sources
        .iter()
        .take(10)
        .map(side("src"))
        .chain(r.top_destinations.iter().take(10).map(side("dst")))
        .collect()
}

/// A top talker's bytes in human units, `~` in front when its overcount bound is more than
/// 1% of them (the sketch's estimate, not a count).
pub fn talker_bytes(t: &flowkeeper_analyze::reports::Talker) -> String {
    let mark = if t.error > t.bytes / 100 { "~" } else { "" };
    format!("{mark}{}", human_bytes(t.bytes))
}

/// Hand-built results for the renderers' unit tests.
#[cfg(test)]
pub mod fixtures {
    use flowkeeper_analyze::reports::Reports;
    use flowkeeper_analyze::{
        Analysis, EngineStats, Incident, Item, Origin, Set, Severity, Subject,
    };

    use crate::analyze::{RunSummary, SourceReport};

    /// An incident of `kind` about `subject`, 3 windows, evidence in source 0.
    pub fn incident(
        kind: &'static str,
        detector: &str,
        severity: Severity,
        subject: Subject,
    ) -> Incident {
        Incident {
            id: format!("{:016x}", detector.len() as u64 * 7919 + kind.len() as u64),
            detector: detector.into(),
            kind,
            severity,
            title: format!("{kind} title"),
            summary: format!("{kind} summary"),
            first_seen: 1_793_491_200,
            last_seen: 1_793_492_100,
            first_seen_utc: "2026-11-01T00:00:00Z".into(),
            last_seen_utc: "2026-11-01T00:15:00Z".into(),
            windows: 3,
            findings: 3,
            window_len: 300,
            subject,
            targets: Set::of([Item::Ip("10.0.2.10".parse().unwrap())]),
            sources: Set::of([Item::Ip("203.0.113.5".parse().unwrap())]),
            ports: Set::of([Item::Port(22)]),
            protocol: Some(6),
            service: Some("ssh".into()),
            flows: 1234,
            packets: 5000,
            bytes: 3 << 30,
            decided_by: vec!["tcp-flags".into()],
            via: None,
            evidence: vec![Origin::new(0, 52), Origin::new(0, 53)],
            incomplete: false,
            also: Vec::new(),
        }
    }

    /// One incident of every detector kind of the default pack.
    pub fn every_kind() -> Vec<Incident> {
        let ip = |s: &str| s.parse().unwrap();
        vec![
            incident(
                "port_scan",
                "port-scan",
                Severity::Medium,
                Subject::Source {
                    ip: ip("203.0.113.5"),
                },
            ),
            incident(
                "host_sweep",
                "host-sweep",
                Severity::Medium,
                Subject::Source {
                    ip: ip("203.0.113.5"),
                },
            ),
            incident(
                "reject_burst",
                "reject-burst",
                Severity::Low,
                Subject::Source {
                    ip: ip("203.0.113.5"),
                },
            ),
            incident(
                "lateral_movement",
                "lateral-movement",
                Severity::High,
                Subject::Source { ip: ip("10.0.1.5") },
            ),
            incident(
                "exfiltration",
                "exfiltration",
                Severity::High,
                Subject::Source { ip: ip("10.0.1.5") },
            ),
            incident(
                "admin_port_exposure",
                "admin-port-exposure",
                Severity::High,
                Subject::Server {
                    ip: ip("2600:1f18:1:2::10"),
                },
            ),
            incident(
                "insecure_protocol",
                "insecure-protocol",
                Severity::Medium,
                Subject::Server { ip: ip("10.0.3.3") },
            ),
            incident(
                "trust_zones",
                "trust-zones",
                Severity::Critical,
                Subject::Zones {
                    src: "web".into(),
                    dst: "db".into(),
                },
            ),
            incident(
                "log_health",
                "log-health",
                Severity::Info,
                Subject::FlowLog {
                    id: "fl-0123".into(),
                },
            ),
            incident(
                "log_health",
                "log-health",
                Severity::Info,
                Subject::Interface {
                    id: "eni-0abc".into(),
                },
            ),
        ]
    }

    pub fn run(source: &str) -> RunSummary {
        RunSummary {
            records: 1612,
            sources: vec![SourceReport {
                name: source.into(),
                records: 1612,
                ..SourceReport::default()
            }],
            ..RunSummary::default()
        }
    }

    pub fn analysis() -> Analysis {
        Analysis {
            findings: Vec::new(),
            reports: Reports::default(),
            stats: EngineStats::default(),
        }
    }
}
