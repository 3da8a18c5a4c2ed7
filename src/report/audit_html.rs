//! audit as one self-contained HTML page (`templates/report/audit.html`, rendered by
//! minijinja with HTML auto-escaping: every value is escaped by the engine, never here): the
//! summary, a coverage bar per account and region, the errors, and a table of every resource
//! that a small inline script filters by status. No external resources; the page's
//! Content-Security-Policy forbids any fetch.
//!
//! This module only shapes the report into the template's view (counts, percentages, labels);
//! it decides nothing about compliance.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::audit_csv::control_label;
use crate::audit::report::{AuditReport, ResourceVerdict, Status, SummaryRow};

const TEMPLATE_NAME: &str = "audit.html";
const TEMPLATE: &str = include_str!("../../templates/report/audit.html");

#[derive(Serialize)]
struct Page<'a> {
    version: &'static str,
    schema_version: u32,
    generated_at: &'a str,
    mode: &'a str,
    baseline: Option<&'a str>,
    config: Option<&'a str>,
    totals: Row,
    rows: Vec<Row>,
    statuses: Vec<StatusOption>,
    resources: Vec<Resource<'a>>,
    errors: Vec<ErrorView<'a>>,
}

/// One account/region (or the totals), with the bar's segment widths in percent.
#[derive(Serialize, Default)]
struct Row {
    account: String,
    region: String,
    resources: usize,
    compliant: usize,
    non_compliant: usize,
    other: usize,
    coverage: String,
    compliant_width: String,
    non_compliant_width: String,
    other_width: String,
}

#[derive(Serialize)]
struct StatusOption {
    value: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct Resource<'a> {
    account: &'a str,
    region: &'a str,
    resource_type: &'static str,
    resource_id: &'a str,
    owner: Option<&'a str>,
    /// The owner when it is not the audited account (shared resources).
    foreign_owner: Option<&'a str>,
    vpc_id: Option<&'a str>,
    subnet_id: Option<&'a str>,
    status: &'static str,
    compliant: Option<bool>,
    reasons: Vec<ReasonView<'a>>,
    flow_log_ids: &'a [String],
    requirement: &'a [String],
}

#[derive(Serialize)]
struct ReasonView<'a> {
    code: &'a str,
    text: &'a str,
    controls: Vec<String>,
}

#[derive(Serialize)]
struct ErrorView<'a> {
    target: String,
    message: &'a str,
    hint: Option<&'a str>,
}

/// `87.5 %`, or `n/a` when nothing was evaluated.
fn coverage_label(p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{p:.1} %"),
        None => "n/a".into(),
    }
}

fn width(part: usize, whole: usize) -> String {
    if whole == 0 {
        "0".into()
    } else {
        format!("{:.2}", part as f64 * 100.0 / whole as f64)
    }
}

fn row(account: &str, region: &str, s: &SummaryRow) -> Row {
    let other = s.shared + s.unused + s.out_of_scope;
    let whole = s.compliant + s.non_compliant + other;
    Row {
        account: account.into(),
        region: region.into(),
        resources: s.resources,
        compliant: s.compliant,
        non_compliant: s.non_compliant,
        other,
        coverage: coverage_label(s.coverage_percent),
        compliant_width: width(s.compliant, whole),
        non_compliant_width: width(s.non_compliant, whole),
        other_width: width(other, whole),
    }
}

/// The summary rows added up; coverage over everything evaluated.
fn totals(rows: &[SummaryRow]) -> Row {
    let mut t = SummaryRow::default();
    for r in rows {
        t.resources += r.resources;
        t.compliant += r.compliant;
        t.non_compliant += r.non_compliant;
        t.shared += r.shared;
        t.unused += r.unused;
        t.out_of_scope += r.out_of_scope;
    }
    let evaluated = t.compliant + t.non_compliant;
    t.coverage_percent = (evaluated > 0).then(|| t.compliant as f64 * 100.0 / evaluated as f64);
    row("all", "all", &t)
}

fn resource(v: &ResourceVerdict) -> Resource<'_> {
    Resource {
        account: &v.account,
        region: &v.region,
        resource_type: v.resource_type.config_name(),
        resource_id: &v.resource_id,
        owner: v.owner.as_deref(),
        foreign_owner: v.owner.as_deref().filter(|o| *o != v.account),
        vpc_id: v.vpc_id.as_deref(),
        subnet_id: v.subnet_id.as_deref(),
        status: v.status.as_str(),
        compliant: v.compliant,
        reasons: v
            .reasons
            .iter()
            .map(|r| ReasonView {
                code: &r.code,
                text: &r.text,
                controls: r.controls.iter().map(control_label).collect(),
            })
            .collect(),
        flow_log_ids: &v.flow_log_ids,
        requirement: &v.requirement,
    }
}

fn page(report: &AuditReport) -> Page<'_> {
    let statuses = Status::ALL
        .iter()
        .map(|s| StatusOption {
            value: s.as_str(),
            count: report.resources.iter().filter(|v| v.status == *s).count(),
        })
        .collect();
    Page {
        version: env!("CARGO_PKG_VERSION"),
        schema_version: report.schema_version,
        generated_at: &report.generated_at,
        mode: &report.mode,
        baseline: report.baseline.as_deref(),
        config: report.config.as_deref(),
        totals: totals(&report.summary),
        rows: report
            .summary
            .iter()
            .map(|s| row(&s.account, &s.region, s))
            .collect(),
        statuses,
        resources: report.resources.iter().map(resource).collect(),
        errors: report
            .errors
            .iter()
            .map(|e| ErrorView {
                target: match (&e.account, &e.region) {
                    (Some(a), Some(r)) => format!("{a} / {r}"),
                    (Some(a), None) => a.clone(),
                    (None, Some(r)) => r.clone(),
                    (None, None) => "audit".into(),
                },
                message: &e.message,
                hint: e.hint.as_deref(),
            })
            .collect(),
    }
}

/// The template engine, or the error that says what in the template is wrong.
fn try_render(report: &AuditReport) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    // A name the template uses that the view lacks is an error, not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The `.html` name turns HTML auto-escaping on for every `{{ value }}`.
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    env.get_template(TEMPLATE_NAME)?.render(page(report))
}

/// The page. The template is compiled into the binary and every branch of it is rendered by
/// this module's tests, so a failure here is a bug in flowkeeper, not in the input.
pub fn render(report: &AuditReport) -> String {
    match try_render(report) {
        Ok(html) => html,
        Err(e) => panic!("templates/report/audit.html does not render (a flowkeeper bug): {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_coverage_labels() {
        assert_eq!(width(1, 3), "33.33");
        assert_eq!(width(0, 0), "0");
        assert_eq!(coverage_label(Some(87.5)), "87.5 %");
        assert_eq!(coverage_label(None), "n/a");
    }

    #[test]
    fn an_empty_report_renders() {
        let report = AuditReport {
            schema_version: 1,
            generated_at: "2026-01-01T00:00:00Z".into(),
            mode: "config".into(),
            baseline: None,
            config: Some("flowkeeper.yaml".into()),
            summary: vec![],
            resources: vec![],
            errors: vec![],
            warnings: vec![],
        };
        let html = try_render(&report).expect("renders");
        assert!(html.contains("No resources were audited."), "{html}");
        assert!(html.contains("flowkeeper.yaml"));
    }
}
