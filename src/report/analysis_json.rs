//! Analysis as JSON and NDJSON.
//!
//! JSON (`schema_version` 2): `summary` (counts, time span, sources, skipped, `limits`),
//! `findings` — one per incident (the engine's window findings grouped by detector, subject and
//! target set, with `evidence_at` pointers resolved to `name:line`), `reports`, `stats`.
//! Version 1 had one finding per detector window; version 2 has incidents.
//!
//! NDJSON: one `{"type": ...}` object per line: `window` lines as the engine's windows close
//! (streamed, so a long run shows progress), then one `finding` line per incident, then the
//! `summary` (with `limits`) and the `reports`.

use flowkeeper_analyze::{Analysis, Finding, Incident, Limit};
use serde::Serialize;

use super::analysis_view::{Results, evidence};
use crate::analyze::RunSummary;

/// The analysis documents' version (the other commands' documents keep theirs).
pub const SCHEMA_VERSION: u32 = 2;

/// An incident with its evidence pointers resolved to `source:line`.
#[derive(Serialize)]
pub struct IncidentView<'a> {
    #[serde(flatten)]
    pub incident: &'a Incident,
    pub evidence_at: Vec<String>,
}

#[derive(Serialize)]
struct TimeSpan {
    first_seen: Option<u64>,
    last_seen: Option<u64>,
}

#[derive(Serialize)]
struct Summary<'a> {
    records: u64,
    malformed: u64,
    outside_range: u64,
    time_span: TimeSpan,
    /// Incidents (findings) by severity.
    findings_by_severity: std::collections::BTreeMap<&'static str, usize>,
    /// Bounds the run hit: what may be missing or inflated (empty when nothing was dropped).
    limits: &'a [Limit],
    sources: &'a [crate::analyze::SourceReport],
    /// What directory walks left out (FIFOs, sockets, a second path to one file).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped: &'a [crate::analyze::Skipped],
}

fn summary<'a>(r: &Results<'a>) -> Summary<'a> {
    let (analysis, run): (&Analysis, &'a RunSummary) = (r.analysis, r.run);
    Summary {
        records: run.records,
        malformed: run.malformed,
        outside_range: run.outside_range,
        time_span: TimeSpan {
            first_seen: analysis.reports.totals.first_seen,
            last_seen: analysis.reports.totals.last_seen,
        },
        findings_by_severity: super::analysis_view::by_severity(r.incidents)
            .into_iter()
            .map(|s| (s.severity, s.count))
            .collect(),
        limits: r.limits,
        sources: &run.sources,
        skipped: &run.skipped,
    }
}

fn views<'a>(r: &Results<'a>) -> Vec<IncidentView<'a>> {
    r.incidents
        .iter()
        .map(|i| IncidentView {
            incident: i,
            evidence_at: evidence(&i.evidence, r.run),
        })
        .collect()
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    summary: Summary<'a>,
    findings: Vec<IncidentView<'a>>,
    reports: &'a flowkeeper_analyze::Reports,
    stats: &'a flowkeeper_analyze::EngineStats,
}

/// The whole analysis; `findings` are the incidents, in their order.
pub fn render(r: &Results) -> String {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        summary: summary(r),
        findings: views(r),
        reports: &r.analysis.reports,
        stats: &r.analysis.stats,
    };
    serde_json::to_string_pretty(&doc).expect("analysis serializes") + "\n"
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Window {
        #[serde(flatten)]
        finding: &'a Finding,
    },
    Finding {
        #[serde(flatten)]
        incident: IncidentView<'a>,
    },
    Summary {
        schema_version: u32,
        #[serde(flatten)]
        summary: Summary<'a>,
        findings: usize,
        windows: usize,
    },
    Reports {
        #[serde(flatten)]
        reports: &'a flowkeeper_analyze::Reports,
    },
}

fn line(l: &Line) -> String {
    serde_json::to_string(l).expect("an NDJSON line serializes") + "\n"
}

/// One `window` line per window finding (evidence as origins: the sources are named in the
/// summary line), streamed while the run goes on.
pub fn window_lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| line(&Line::Window { finding: f }))
        .collect()
}

/// The closing NDJSON lines: a `finding` per incident, the summary, the reports.
pub fn closing_lines(r: &Results, windows: usize) -> String {
    let mut out: String = views(r)
        .into_iter()
        .map(|incident| line(&Line::Finding { incident }))
        .collect();
    out += &line(&Line::Summary {
        schema_version: SCHEMA_VERSION,
        summary: summary(r),
        findings: r.incidents.len(),
        windows,
    });
    out += &line(&Line::Reports {
        reports: &r.analysis.reports,
    });
    out
}
