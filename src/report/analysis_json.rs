//! Analysis as JSON (`schema_version`, `summary`, `findings` in stable order, `reports`,
//! `stats`) and as NDJSON (one `{"type": ...}` object per line: findings as they become final,
//! then the summary and the reports).

use flowkeeper_analyze::{Analysis, Finding, Origin};
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::analyze::RunSummary;

/// A finding with its evidence pointers resolved to `source:line`.
#[derive(Serialize)]
pub struct FindingView<'a> {
    #[serde(flatten)]
    pub finding: &'a Finding,
    pub evidence_at: Vec<String>,
}

/// `name:line` for each origin.
pub fn evidence(origins: &[Origin], summary: &RunSummary) -> Vec<String> {
    origins
        .iter()
        .map(|o| {
            let name = summary
                .sources
                .get(o.source as usize)
                .map_or("?", |s| s.name.as_str());
            format!("{name}:{}", o.line)
        })
        .collect()
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
    sources: &'a [crate::analyze::SourceReport],
    /// What directory walks left out (FIFOs, sockets, a second path to one file).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped: &'a [crate::analyze::Skipped],
}

fn summary<'a>(analysis: &Analysis, run: &'a RunSummary) -> Summary<'a> {
    Summary {
        records: run.records,
        malformed: run.malformed,
        outside_range: run.outside_range,
        time_span: TimeSpan {
            first_seen: analysis.reports.totals.first_seen,
            last_seen: analysis.reports.totals.last_seen,
        },
        sources: &run.sources,
        skipped: &run.skipped,
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    summary: Summary<'a>,
    findings: Vec<FindingView<'a>>,
    reports: &'a flowkeeper_analyze::Reports,
    stats: &'a flowkeeper_analyze::EngineStats,
}

/// The whole analysis; `findings` are all of them, sorted.
pub fn render(findings: &[Finding], analysis: &Analysis, run: &RunSummary) -> String {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        summary: summary(analysis, run),
        findings: findings
            .iter()
            .map(|f| FindingView {
                finding: f,
                evidence_at: evidence(&f.evidence, run),
            })
            .collect(),
        reports: &analysis.reports,
        stats: &analysis.stats,
    };
    serde_json::to_string_pretty(&doc).expect("analysis serializes") + "\n"
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Finding {
        #[serde(flatten)]
        finding: &'a Finding,
    },
    Summary {
        schema_version: u32,
        #[serde(flatten)]
        summary: Summary<'a>,
        findings: usize,
    },
    Reports {
        #[serde(flatten)]
        reports: &'a flowkeeper_analyze::Reports,
    },
}

/// One NDJSON line per finding (evidence as origins: sources are named in the summary line).
pub fn finding_lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            serde_json::to_string(&Line::Finding { finding: f }).expect("finding serializes") + "\n"
        })
        .collect()
}

/// The closing NDJSON lines.
pub fn closing_lines(findings: usize, analysis: &Analysis, run: &RunSummary) -> String {
    let summary = Line::Summary {
        schema_version: SCHEMA_VERSION,
        summary: summary(analysis, run),
        findings,
    };
    let reports = Line::Reports {
        reports: &analysis.reports,
    };
    serde_json::to_string(&summary).expect("summary serializes")
        + "\n"
        + &serde_json::to_string(&reports).expect("reports serialize")
        + "\n"
}
