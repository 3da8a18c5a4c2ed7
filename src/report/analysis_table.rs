//! Analysis as text tables: findings (most severe first), then the summary, top talkers and
//! the sources with problems. Every text that came from the input (names, keys, ids, decode
//! errors) is shown with its control characters escaped.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use flowkeeper_analyze::text::count;
use flowkeeper_analyze::time::format_rfc3339;
use flowkeeper_analyze::{Analysis, Finding};

use super::analysis_json::evidence;
use crate::analyze::RunSummary;
use crate::output::{Safe, safe};

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(header);
    t
}

pub fn render(findings: &[Finding], analysis: &Analysis, run: &RunSummary) -> String {
    let mut out = String::new();
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.order(b)));
    if sorted.is_empty() {
        let _ = writeln!(out, "No findings.");
    } else {
        let mut t = table(&[
            "severity",
            "detector",
            "window (UTC)",
            "source → destination",
            "port",
            "flows",
            "bytes",
            "summary / evidence",
        ]);
        for f in &sorted {
            let pair = format!(
                "{} → {}",
                f.src.map_or("-".to_string(), |a| a.to_string()),
                f.dst.map_or("-".to_string(), |a| a.to_string())
            );
            let ev = evidence(&f.evidence, run);
            // The table shows the object's file name; JSON and HTML carry the full path.
            let first = ev
                .first()
                .map(|e| safe(e.rsplit('/').next().unwrap_or(e)))
                .unwrap_or_default();
            let more = if ev.len() > 1 {
                format!(" (+{} more)", ev.len() - 1)
            } else {
                String::new()
            };
            t.add_row(vec![
                f.severity.as_str().to_string(),
                safe(&f.detector),
                format!(
                    "{} +{}s",
                    format_rfc3339(f.window.start),
                    f.window.end - f.window.start
                ),
                pair,
                f.dst_port.map_or("-".into(), |p| p.to_string()),
                f.flows.to_string(),
                f.bytes.to_string(),
                format!("{}\n{first}{more}", Safe(&f.summary)),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    let totals = &analysis.reports.totals;
    let span = match (totals.first_seen, totals.last_seen) {
        (Some(a), Some(b)) => format!("{} to {}", format_rfc3339(a), format_rfc3339(b)),
        _ => "no timed records".into(),
    };
    let _ = writeln!(
        out,
        "\n{} from {}, {} malformed, {} outside the time range; {span}",
        count(run.records, "record", "records"),
        count(run.sources.len() as u64, "source", "sources"),
        run.malformed,
        run.outside_range
    );
    let _ = writeln!(
        out,
        "accepted: {} / {} bytes; rejected: {} / {} bytes; NODATA {} SKIPDATA {}",
        count(totals.accepted.flows, "flow", "flows"),
        totals.accepted.bytes,
        count(totals.rejected.flows, "flow", "flows"),
        totals.rejected.bytes,
        totals.nodata,
        totals.skipdata
    );
    let r = &analysis.reports;
    if !r.top_sources.is_empty() {
        let mut t = table(&["top sources", "bytes", "top destinations", "bytes"]);
        for i in 0..r.top_sources.len().max(r.top_destinations.len()).min(10) {
            let s = r.top_sources.get(i);
            let d = r.top_destinations.get(i);
            t.add_row(vec![
                s.map_or(String::new(), |x| x.addr.to_string()),
                s.map_or(String::new(), |x| x.bytes.to_string()),
                d.map_or(String::new(), |x| x.addr.to_string()),
                d.map_or(String::new(), |x| x.bytes.to_string()),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    let with_problems: Vec<_> = run
        .sources
        .iter()
        .filter(|s| s.malformed > 0 || s.error.is_some())
        .collect();
    for s in with_problems.iter().take(20) {
        if let Some(e) = &s.error {
            let _ = writeln!(out, "source error: {}: {}", Safe(&s.name), Safe(e));
        }
        for ex in &s.examples {
            let _ = writeln!(out, "malformed: {}", Safe(ex));
        }
    }
    if with_problems.len() > 20 {
        let _ = writeln!(
            out,
            "... and {} more with problems (--format json lists them all)",
            count((with_problems.len() - 20) as u64, "source", "sources")
        );
    }
    for s in &run.skipped {
        let _ = writeln!(out, "skipped: {}: {}", Safe(&s.name), Safe(&s.reason));
    }
    out
}
