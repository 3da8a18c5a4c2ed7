//! Analysis as one self-contained HTML page (`templates/report/analysis.html`): a dashboard
//! first (records, time span, sources, findings by severity, the traffic timeline and top
//! talkers as inline SVG), then one row per incident, sortable by clicking a header and
//! filterable by severity and detector with a small inline script, then the sources that could
//! not be read and malformed-line examples. The Limits the run hit are a banner at the top.
//! No external resources (the page's CSP forbids them). Values are escaped by minijinja's HTML
//! auto-escaping (the template's name ends in `.html`), never by hand. The dashboard counts
//! and the timeline count the same flows (the engine's, after the double-ended dedupe).

use flowkeeper_analyze::Analysis;
use flowkeeper_analyze::text::count;
use flowkeeper_analyze::units::{human_bytes, human_count, human_duration};
use minijinja::{Environment, Value};
use serde::Serialize;

use super::analysis_view::{
    self, IncidentRow, LimitRow, Results, SeverityCount, TalkerRow, minute,
};
use crate::analyze::timeline::Timeline;
use crate::analyze::{RunSummary, Skipped};
use crate::output::safe;

const TEMPLATE_NAME: &str = "analysis.html";
const TEMPLATE: &str = include_str!("../../templates/report/analysis.html");

#[derive(Serialize)]
struct Span {
    first: Option<String>,
    last: Option<String>,
    length: String,
}

#[derive(Serialize)]
struct TrafficView {
    flows_h: String,
    bytes: u64,
    bytes_h: String,
}

#[derive(Serialize)]
struct SourceError {
    name: String,
    error: String,
}

#[derive(Serialize)]
struct MalformedSource {
    name: String,
    lines_text: String,
    examples: Vec<String>,
}

#[derive(Serialize)]
struct Malformed {
    lines: u64,
    lines_h: String,
    /// `3 malformed lines`.
    text: String,
    sources: Vec<MalformedSource>,
}

#[derive(Serialize)]
struct Bar {
    x: String,
    w: String,
    y_accepted: String,
    h_accepted: String,
    y_rejected: String,
    h_rejected: String,
    label: String,
}

#[derive(Serialize)]
struct TimelineView {
    width: u32,
    height: u32,
    bucket: String,
    first: String,
    last: String,
    max_h: String,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Talker {
    #[serde(flatten)]
    row: TalkerRow,
    /// Bar length and where its label starts (px).
    len: f64,
    label_x: f64,
}

#[derive(Serialize)]
struct Page<'a> {
    version: &'static str,
    /// One sentence: records, malformed lines, findings, accepted and rejected, time span.
    summary: String,
    records: u64,
    records_h: String,
    sources: usize,
    sources_text: String,
    source_errors_text: String,
    span: Span,
    accepted: TrafficView,
    rejected: TrafficView,
    malformed: Malformed,
    source_errors: Vec<SourceError>,
    /// (source, warning) pairs: what headers named that no detector sees.
    source_warnings: Vec<SourceError>,
    skipped: &'a [Skipped],
    by_severity: Vec<SeverityCount>,
    severities: Vec<&'static str>,
    detectors: Vec<String>,
    incidents: Vec<IncidentRow>,
    limits: Vec<LimitRow>,
    timeline: TimelineView,
    talkers: Vec<Talker>,
}

fn traffic(t: &flowkeeper_analyze::reports::Traffic) -> TrafficView {
    TrafficView {
        flows_h: human_count(t.flows),
        bytes: t.bytes,
        bytes_h: human_bytes(t.bytes),
    }
}

fn span(analysis: &Analysis) -> Span {
    let t = &analysis.reports.totals;
    match (t.first_seen, t.last_seen) {
        (Some(a), Some(b)) => Span {
            first: Some(minute(a)),
            last: Some(minute(b)),
            length: human_duration(b.saturating_sub(a)),
        },
        _ => Span {
            first: None,
            last: None,
            length: "-".into(),
        },
    }
}

/// Stacked bars (accepted below rejected), `WIDTH` wide, scaled to the busiest bucket.
fn timeline(t: &Timeline) -> TimelineView {
    const WIDTH: u32 = 900;
    const HEIGHT: u32 = 200;
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let max = t
        .buckets
        .values()
        .map(|b| b.accepted_flows.saturating_add(b.rejected_flows))
        .max()
        .unwrap_or(1)
        .max(1);
    let bw = (w / t.buckets.len().max(1) as f64).max(1.0);
    let bars = t
        .buckets
        .iter()
        .enumerate()
        .map(|(i, (start, b))| {
            let acc = b.accepted_flows as f64 / max as f64 * h;
            let rej = b.rejected_flows as f64 / max as f64 * h;
            Bar {
                x: format!("{:.1}", i as f64 * bw),
                w: format!("{:.1}", (bw - 0.5).max(0.5)),
                y_accepted: format!("{:.1}", h - acc),
                h_accepted: format!("{acc:.1}"),
                y_rejected: format!("{:.1}", h - acc - rej),
                h_rejected: format!("{rej:.1}"),
                // Exact flow counts (what the summary counts), bytes in human units.
                label: format!(
                    "{} accepted {} rejected {} ({} / {})",
                    minute(*start),
                    b.accepted_flows,
                    b.rejected_flows,
                    human_bytes(b.accepted_bytes),
                    human_bytes(b.rejected_bytes)
                ),
            }
        })
        .collect();
    TimelineView {
        width: WIDTH,
        height: HEIGHT,
        bucket: human_duration(t.bucket_seconds),
        first: t
            .buckets
            .keys()
            .next()
            .map(|s| minute(*s))
            .unwrap_or_default(),
        last: t
            .buckets
            .keys()
            .last()
            .map(|s| minute(*s))
            .unwrap_or_default(),
        max_h: human_count(max),
        bars,
    }
}

fn talkers(analysis: &Analysis) -> Vec<Talker> {
    let rows = analysis_view::talkers(analysis);
    let max = rows.iter().map(|r| r.bytes).max().unwrap_or(1).max(1) as f64;
    rows.into_iter()
        .map(|row| {
            let len = (row.bytes as f64 / max * 6000.0).round() / 10.0;
            Talker {
                len,
                label_x: len + 226.0,
                row,
            }
        })
        .collect()
}

fn malformed(run: &RunSummary) -> Malformed {
    Malformed {
        lines: run.malformed,
        lines_h: human_count(run.malformed),
        text: count(run.malformed, "malformed line", "malformed lines"),
        sources: run
            .sources
            .iter()
            .filter(|s| s.malformed > 0)
            .map(|s| MalformedSource {
                name: safe(&s.name),
                lines_text: count(s.malformed, "line", "lines"),
                examples: s.examples.iter().map(|e| safe(e)).collect(),
            })
            .collect(),
    }
}

/// The page's data; control characters in input text are shown as escapes (`\x1b`).
fn page<'a>(r: &Results<'a>) -> Page<'a> {
    let (incidents, analysis, run) = (r.incidents, r.analysis, r.run);
    let mut rows = analysis_view::rows(incidents, run);
    for r in &mut rows {
        r.subject = safe(&r.subject);
        r.targets = safe(&r.targets);
        r.title = safe(&r.title);
        r.summary = safe(&r.summary);
        r.evidence = r.evidence.iter().map(|e| safe(e)).collect();
    }
    let mut detectors: Vec<String> = rows.iter().map(|r| r.detector.clone()).collect();
    detectors.sort();
    detectors.dedup();
    let mut severities: Vec<&'static str> = rows.iter().map(|r| r.severity).collect();
    severities.dedup();
    let totals = &analysis.reports.totals;
    let errors = run.source_errors().count() as u64;
    Page {
        version: env!("CARGO_PKG_VERSION"),
        summary: summary_line(incidents.len(), analysis, run),
        records: run.records,
        records_h: human_count(run.records),
        sources: run.sources.len(),
        sources_text: count(run.sources.len() as u64, "source", "sources"),
        source_errors_text: count(errors, "source", "sources"),
        span: span(analysis),
        accepted: traffic(&totals.accepted),
        rejected: traffic(&totals.rejected),
        malformed: malformed(run),
        source_errors: run
            .source_errors()
            .map(|(name, error)| SourceError {
                name: safe(name),
                error: safe(error),
            })
            .collect(),
        source_warnings: run
            .sources
            .iter()
            .flat_map(|s| {
                s.warnings.iter().map(|w| SourceError {
                    name: safe(&s.name),
                    error: safe(w),
                })
            })
            .take(100)
            .collect(),
        skipped: &run.skipped,
        by_severity: analysis_view::by_severity(incidents),
        severities,
        detectors,
        incidents: rows,
        limits: analysis_view::limit_rows(r.limits),
        timeline: timeline(r.timeline),
        talkers: talkers(analysis),
    }
}

fn summary_line(incidents: usize, analysis: &Analysis, run: &RunSummary) -> String {
    let t = &analysis.reports.totals;
    format!(
        "{}, {}, {}; accepted {} ({}), rejected {} ({}){}",
        count(run.records, "record", "records"),
        count(run.malformed, "malformed line", "malformed lines"),
        count(incidents as u64, "finding", "findings"),
        count(t.accepted.flows, "flow", "flows"),
        human_bytes(t.accepted.bytes),
        count(t.rejected.flows, "flow", "flows"),
        human_bytes(t.rejected.bytes),
        match (t.first_seen, t.last_seen) {
            (Some(a), Some(b)) => format!("; from {} to {} UTC", minute(a), minute(b)),
            _ => String::new(),
        }
    )
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // The template is compiled into the binary and rendered by the tests below: a syntax
    // error there is a bug in this file, not something input can cause.
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .expect("templates/report/analysis.html parses");
    env
}

/// The whole page.
pub fn render(results: &Results) -> String {
    let env = environment();
    let template = env
        .get_template(TEMPLATE_NAME)
        .expect("the template was just added");
    // Plain serializable data (strings, numbers, lists, options) and a template that calls no
    // fallible function: rendering cannot fail on values.
    template
        .render(Value::from_serialize(page(results)))
        .expect("the analysis page renders")
}

#[cfg(test)]
mod tests {
    use flowkeeper_analyze::{Limit, LimitKind, Severity, Subject};

    use super::*;
    use crate::analyze::SourceReport;
    use crate::report::analysis_view::fixtures;

    const HOSTILE: &str = "<script>alert('x')</script> \"q\" & {{ summary }} {% if 1 %}";

    fn render_with(
        incidents: &[flowkeeper_analyze::Incident],
        run: &RunSummary,
        limits: &[Limit],
    ) -> String {
        let analysis = fixtures::analysis();
        let timeline = Timeline::default();
        render(&Results {
            incidents,
            analysis: &analysis,
            run,
            limits,
            timeline: &timeline,
        })
    }

    #[test]
    fn hostile_values_are_escaped_everywhere() {
        let mut i = fixtures::incident(
            "trust_zones",
            HOSTILE,
            Severity::High,
            Subject::Zones {
                src: HOSTILE.into(),
                dst: "db".into(),
            },
        );
        i.title = HOSTILE.into();
        i.summary = format!("{HOSTILE} summary");
        i.via = Some(HOSTILE.into());
        i.decided_by = vec![HOSTILE.into()];
        let mut run = fixtures::run(HOSTILE);
        run.malformed = 1;
        run.sources.push(SourceReport {
            name: format!("{HOSTILE}.log"),
            malformed: 1,
            examples: vec![format!("{HOSTILE}:3: bad address")],
            error: Some(HOSTILE.into()),
            ..SourceReport::default()
        });
        let limits = [Limit {
            component: HOSTILE.into(),
            what: LimitKind::RefusedKeys,
            count: 3,
            meaning: HOSTILE.into(),
        }];
        let page = render_with(&[i], &run, &limits);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("\"q\""), "quotes escaped: {page}");
        assert!(page.contains("&lt;script&gt;alert("), "{page}");
        // Template syntax in values is data: it arrives literally, not evaluated.
        assert!(page.contains("{{ summary }}"), "{page}");
        assert!(page.contains("{% if 1 %}"), "{page}");
        assert!(!page.contains(" & {{"), "ampersand escaped: {page}");
        // Exactly the template's one inline script.
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        // In attributes too (the filter values).
        assert!(!page.contains("data-detector=\"<"), "{page}");
    }

    #[test]
    fn the_dashboard_comes_first_then_one_row_per_incident_with_human_units() {
        let incidents = fixtures::every_kind();
        let run = fixtures::run("flows.log");
        let page = render_with(&incidents, &run, &[]);
        let dashboard = page.find("id=\"dashboard\"").expect("dashboard");
        let table = page.find("id=\"incidents\"").expect("incidents table");
        assert!(dashboard < table, "dashboard first");
        assert!(page.find("id=\"by-severity\"").unwrap() < table);
        assert_eq!(
            page.matches("<tr class=\"incident\"").count(),
            incidents.len()
        );
        assert!(page.contains("3.0 GiB"), "human bytes: {page}");
        assert!(page.contains(">1.2k<"), "human counts: {page}");
        assert!(page.contains("3 × 5m"), "{page}");
        assert!(page.contains("2600:1f18:1:2::10"), "{page}");
        assert!(page.contains("flows.log:52"), "evidence: {page}");
        // Both filters list what the rows carry; every severity present is an option.
        for d in ["port-scan", "trust-zones", "log-health"] {
            assert!(
                page.contains(&format!("<option value=\"{d}\">")),
                "{d}: {page}"
            );
        }
        for s in ["critical", "high", "medium", "low", "info"] {
            assert!(page.contains(&format!("<option value=\"{s}\">")), "{s}");
        }
        assert!(page.contains("data-sort=\"num\""), "sortable headers");
        assert!(
            !page.contains("id=\"limits\""),
            "no limits banner without limits"
        );
        assert!(!page.contains("Source errors"));
    }

    #[test]
    fn limits_are_a_banner_and_problems_are_listed() {
        let mut run = fixtures::run("flows.log");
        run.sources[0].error = Some("unexpected end of gzip stream".into());
        run.malformed = 2;
        run.sources[0].malformed = 2;
        run.sources[0].examples = vec!["flows.log:9: bad address".into()];
        let limits = [Limit {
            component: "port-scan".into(),
            what: LimitKind::RefusedKeys,
            count: 12_345,
            meaning: "port-scan: 12345 new keys refused;   scans may be missing".into(),
        }];
        let page = render_with(&[], &run, &limits);
        assert!(page.contains("id=\"limits\""), "{page}");
        assert!(
            page.contains("<code>port-scan</code>, keys refused (12k): 12345 new keys refused; scans may be missing"),
            "{page}"
        );
        assert!(page.contains("1 source could not be read"), "{page}");
        assert!(page.contains("unexpected end of gzip stream"));
        assert!(page.contains("2 malformed lines"), "{page}");
        assert!(page.contains("flows.log:9: bad address"));
        assert!(page.contains("No findings."));
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = render_with(&fixtures::every_kind(), &fixtures::run("x"), &[]);
        for external in ["http://", "https://", " src=", "href=", "@import", "fetch("] {
            assert!(!page.contains(external), "{external} in the page");
        }
        assert!(page.contains("default-src 'none'"));
    }
}
