//! Analysis as one self-contained HTML page (`templates/report/analysis.html`): findings,
//! the sources that could not be read, malformed-line examples, a traffic timeline and
//! top-talker bars as inline SVG; no scripts, no external resources. The summary line and the
//! timeline count the same flows (the engine's, after the double-ended dedupe).

use std::fmt::Write;

use flowkeeper_analyze::text::count;
use flowkeeper_analyze::time::format_rfc3339;
use flowkeeper_analyze::{Analysis, Finding};

use super::analysis_json::evidence;
use crate::analyze::RunSummary;
use crate::analyze::timeline::Timeline;
use crate::output::safe;

const TEMPLATE: &str = include_str!("../../templates/report/analysis.html");

/// HTML-escaped, with control characters shown as escapes (`\x1b`) rather than passed on.
fn esc(s: &str) -> String {
    safe(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The template with each `{{name}}` replaced in one pass, so text that came from the input
/// and happens to contain `{{...}}` stays as it is.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find("}}").and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (v, end))
        }) {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The sources that could not be read, malformed-line examples, and what walks skipped.
fn problems(run: &RunSummary) -> String {
    let mut out = String::new();
    let errors: Vec<_> = run.source_errors().collect();
    if !errors.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Source errors</h2>\n<p>{} could not be read (fully); everything else was analyzed.</p>\n<ul>",
            count(errors.len() as u64, "source", "sources")
        );
        for (name, error) in errors {
            let _ = writeln!(out, "<li><code>{}</code>: {}</li>", esc(name), esc(error));
        }
        out.push_str("</ul>\n");
    }
    if run.malformed > 0 {
        let _ = writeln!(
            out,
            "<h2>Malformed lines</h2>\n<p>{}, first examples per source:</p>\n<ul>",
            count(run.malformed, "malformed line", "malformed lines")
        );
        for s in run.sources.iter().filter(|s| s.malformed > 0) {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}<ul>",
                esc(&s.name),
                count(s.malformed, "line", "lines")
            );
            for ex in &s.examples {
                let _ = writeln!(out, "<li><code>{}</code></li>", esc(ex));
            }
            out.push_str("</ul></li>\n");
        }
        out.push_str("</ul>\n");
    }
    if !run.skipped.is_empty() {
        out.push_str("<h2>Skipped</h2>\n<ul>\n");
        for s in &run.skipped {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&s.name),
                esc(&s.reason)
            );
        }
        out.push_str("</ul>\n");
    }
    out
}

fn findings_rows(findings: &[Finding], run: &RunSummary) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.order(b)));
    if sorted.is_empty() {
        return "<tr><td colspan=\"8\">No findings.</td></tr>".into();
    }
    let mut out = String::new();
    for f in sorted {
        let sev = f.severity.as_str();
        // Object names are long: show the file name and line, the full origin on hover.
        let ev = evidence(&f.evidence, run)
            .iter()
            .map(|e| {
                format!(
                    "<span title=\"{}\">{}</span>",
                    esc(e),
                    esc(e.rsplit('/').next().unwrap_or(e))
                )
            })
            .collect::<Vec<_>>()
            .join("<br>");
        let _ = writeln!(
            out,
            "<tr><td class=\"sev {sev}\">{sev}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}<div class=\"muted\">{ev}</div></td></tr>",
            esc(&f.detector),
            esc(&format_rfc3339(f.window.start)),
            f.src.map_or("-".into(), |a| a.to_string()),
            f.dst.map_or("-".into(), |a| a.to_string()),
            f.dst_port.map_or("-".into(), |p| p.to_string()),
            f.flows,
            f.bytes,
            esc(&f.summary)
        );
    }
    out
}

fn timeline_svg(t: &Timeline) -> String {
    if t.buckets.is_empty() {
        return "<p class=\"muted\">No timed records.</p>".into();
    }
    let (w, h) = (900.0_f64, 200.0_f64);
    let max = t
        .buckets
        .values()
        .map(|b| b.accepted_flows + b.rejected_flows)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let n = t.buckets.len() as f64;
    let bw = (w / n).max(1.0);
    let mut out = format!(
        "<svg width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"flows per {}s\">",
        h + 30.0,
        t.bucket_seconds
    );
    for (i, (start, b)) in t.buckets.iter().enumerate() {
        let x = i as f64 * bw;
        let acc = b.accepted_flows as f64 / max * h;
        let rej = b.rejected_flows as f64 / max * h;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{acc:.1}\" fill=\"#2271b1\"><title>{} accepted {} rejected {}</title></rect>",
            h - acc - rej,
            (bw - 0.5).max(0.5),
            esc(&format_rfc3339(*start)),
            b.accepted_flows,
            b.rejected_flows
        );
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{rej:.1}\" fill=\"#d63638\"/>",
            h - rej,
            (bw - 0.5).max(0.5)
        );
    }
    let first = t.buckets.keys().next().copied().unwrap_or(0);
    let last = t.buckets.keys().last().copied().unwrap_or(0);
    let _ = write!(
        out,
        "<text x=\"0\" y=\"{}\">{}</text><text x=\"{w}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">flows per {} s: blue accepted, red rejected (max {max})</text></svg>",
        h + 14.0,
        esc(&format_rfc3339(first)),
        h + 14.0,
        esc(&format_rfc3339(last)),
        w / 2.0,
        h + 28.0,
        t.bucket_seconds
    );
    out
}

fn talkers_svg(a: &Analysis) -> String {
    let rows: Vec<(String, u64)> = a
        .reports
        .top_sources
        .iter()
        .take(10)
        .map(|t| (format!("src {}", t.addr), t.bytes))
        .chain(
            a.reports
                .top_destinations
                .iter()
                .take(10)
                .map(|t| (format!("dst {}", t.addr), t.bytes)),
        )
        .collect();
    if rows.is_empty() {
        return "<p class=\"muted\">No traffic.</p>".into();
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let mut out = format!(
        "<svg width=\"900\" height=\"{}\" role=\"img\" aria-label=\"top talkers\">",
        rows.len() * 18 + 4
    );
    for (i, (label, bytes)) in rows.iter().enumerate() {
        let y = i * 18;
        let len = *bytes as f64 / max * 600.0;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"220\" y=\"{}\" width=\"{len:.1}\" height=\"13\" fill=\"#2271b1\"/><text x=\"{:.1}\" y=\"{}\">{bytes}</text>",
            y + 12,
            esc(label),
            y + 2,
            226.0 + len,
            y + 12
        );
    }
    out + "</svg>"
}

pub fn render(
    findings: &[Finding],
    analysis: &Analysis,
    run: &RunSummary,
    timeline: &Timeline,
) -> String {
    let totals = &analysis.reports.totals;
    let summary = format!(
        "{}, {}, {}; accepted {} ({} bytes), rejected {} ({} bytes){}",
        count(run.records, "record", "records"),
        count(run.malformed, "malformed line", "malformed lines"),
        count(findings.len() as u64, "finding", "findings"),
        count(totals.accepted.flows, "flow", "flows"),
        totals.accepted.bytes,
        count(totals.rejected.flows, "flow", "flows"),
        totals.rejected.bytes,
        match (totals.first_seen, totals.last_seen) {
            (Some(a), Some(b)) => format!("; from {} to {}", format_rfc3339(a), format_rfc3339(b)),
            _ => String::new(),
        }
    );
    let sources = count(run.sources.len() as u64, "source", "sources");
    fill(
        TEMPLATE,
        &[
            ("summary", &esc(&summary)),
            ("problems", &problems(run)),
            ("findings", &findings_rows(findings, run)),
            ("timeline", &timeline_svg(timeline)),
            ("talkers", &talkers_svg(analysis)),
            ("sources", &sources),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_filled_in_one_pass() {
        let t = "<p>{{a}}</p>{{b}}{{unknown}}{{";
        assert_eq!(
            fill(t, &[("a", "{{b}}"), ("b", "B")]),
            "<p>{{b}}</p>B{{unknown}}{{"
        );
    }

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            esc("<a href=\"x\">&\x1b[2J"),
            "&lt;a href=&quot;x&quot;&gt;&amp;\\x1b[2J"
        );
    }
}
