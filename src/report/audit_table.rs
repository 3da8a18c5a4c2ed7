//! `audit --format table` (text): a summary per account and region (resources, compliant,
//! coverage %), then every non-compliant resource with its reasons and the controls they
//! break, then shared and unused resources with their verdict. Fits 120 columns; text from AWS
//! (ids, delivery error messages) is shown with control characters escaped.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::audit::report::{AuditReport, Control, ResourceVerdict, Status};
use crate::output::Safe;

const WIDTH: u16 = 120;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .set_header(header.to_vec());
    t
}

/// `CIS 2.9/3.9/3.7/4.7, FSBP EC2.6`: per framework (short name), ids in order of first
/// appearance, without versions (JSON, OCSF and CSV keep the full list).
fn controls(c: &[Control]) -> String {
    let mut frameworks: Vec<(&str, Vec<&str>)> = Vec::new();
    for x in c {
        let fi = match frameworks.iter().position(|(f, _)| *f == x.framework) {
            Some(i) => i,
            None => {
                frameworks.push((&x.framework, Vec::new()));
                frameworks.len() - 1
            }
        };
        let ids = &mut frameworks[fi].1;
        if !ids.contains(&x.id.as_str()) {
            ids.push(&x.id);
        }
    }
    frameworks
        .iter()
        .map(|(f, ids)| format!("{} {}", Safe(short_framework(f)), Safe(&ids.join("/"))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn short_framework(f: &str) -> &str {
    match f {
        "cis-aws-foundations" => "CIS",
        "aws-fsbp" => "FSBP",
        "flowkeeper" => "FK",
        other => other,
    }
}

fn resource(v: &ResourceVerdict) -> String {
    format!("{} {}", v.resource_type.config_name(), Safe(&v.resource_id))
}

fn reasons(v: &ResourceVerdict) -> String {
    v.reasons
        .iter()
        .map(|r| {
            let mut s = format!("{}: {}", r.code, Safe(&r.text));
            if !r.controls.is_empty() {
                let _ = write!(s, "\n  breaks {}", controls(&r.controls));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    let what = match (&report.baseline, &report.config) {
        (Some(b), _) => format!("baseline {b}"),
        (None, Some(c)) => format!("the entries of {}", Safe(c)),
        (None, None) => "nothing".to_string(),
    };
    let _ = writeln!(out, "Audit against {what}\n");
    let mut t = table(&[
        "account",
        "region",
        "resources",
        "compliant",
        "non-compliant",
        "shared",
        "unused",
        "out of scope",
        "coverage",
    ]);
    for r in &report.summary {
        t.add_row(vec![
            r.account.clone(),
            r.region.clone(),
            r.resources.to_string(),
            r.compliant.to_string(),
            r.non_compliant.to_string(),
            r.shared.to_string(),
            r.unused.to_string(),
            r.out_of_scope.to_string(),
            r.coverage_percent
                .map_or_else(|| "-".to_string(), |p| format!("{p:.1}%")),
        ]);
    }
    let _ = writeln!(out, "{t}");
    let unused_gaps: usize = report.summary.iter().map(|r| r.unused_non_compliant).sum();
    if unused_gaps > 0 {
        let _ = writeln!(
            out,
            "{unused_gaps} unused VPCs without flow logs were not counted; use --include-unused to count them"
        );
    }
    let failing: Vec<&ResourceVerdict> = report
        .resources
        .iter()
        .filter(|v| v.status == Status::NonCompliant)
        .collect();
    let in_scope = report
        .resources
        .iter()
        .any(|v| v.status != Status::OutOfScope);
    let failed_targets = report.errors.iter().filter(|e| e.account.is_some()).count();
    if !failing.is_empty() {
        // Listed below.
    } else if failed_targets > 0 {
        let _ = writeln!(
            out,
            "\nNo non-compliant resource among those audited, but {failed_targets} target(s) could not be audited (below)."
        );
    } else if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "\nNo non-compliant resource among those audited, but the run has errors (below)."
        );
    } else if !in_scope {
        let _ = writeln!(
            out,
            "\nNothing in scope: no resource audited is held to a requirement{}.",
            if report.resources.is_empty() {
                " (no VPC, subnet or network interface was found)"
            } else {
                " (no config entry selects any of them)"
            }
        );
    } else {
        let _ = writeln!(out, "\nEvery resource in scope is compliant.");
    }
    if !failing.is_empty() {
        let _ = writeln!(out, "\nNon-compliant ({}):", failing.len());
        let mut t = table(&["account / region", "resource", "reasons"]);
        for v in &failing {
            t.add_row(vec![
                format!("{}\n{}", v.account, v.region),
                resource(v),
                reasons(v),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    let others: Vec<&ResourceVerdict> = report
        .resources
        .iter()
        .filter(|v| matches!(v.status, Status::Shared | Status::Unused))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\nShared and unused (never counted as failures):");
        let mut t = table(&["account / region", "resource", "status", "verdict"]);
        for v in &others {
            let status = match (v.status, &v.owner) {
                (Status::Shared, Some(o)) => format!("shared (owner {})", Safe(o)),
                (s, _) => s.as_str().to_string(),
            };
            let verdict = match v.compliant {
                Some(true) => "would be compliant".to_string(),
                _ if v.reasons.is_empty() => "-".to_string(),
                _ => reasons(v),
            };
            t.add_row(vec![
                format!("{}\n{}", v.account, v.region),
                resource(v),
                status,
                verdict,
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    problems(&mut out, report);
    out
}

/// Targets that could not be audited, other errors, and warnings: part of the report itself.
fn problems(out: &mut String, report: &AuditReport) {
    let (targets, other): (Vec<_>, Vec<_>) =
        report.errors.iter().partition(|e| e.account.is_some());
    if !targets.is_empty() {
        let _ = writeln!(out, "\nCould not be audited ({}):", targets.len());
        let mut t = table(&["account / region", "error"]);
        for e in &targets {
            t.add_row(vec![
                format!(
                    "{}\n{}",
                    Safe(e.account.as_deref().unwrap_or_default()),
                    Safe(e.region.as_deref().unwrap_or("every region"))
                ),
                error_text(e),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    for e in &other {
        let _ = writeln!(out, "\nerror: {}", error_text(e));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\nwarning: {}", Safe(w));
    }
}

fn error_text(e: &crate::audit::report::AuditError) -> String {
    match &e.hint {
        Some(h) => format!("{}\n  hint: {}", Safe(&e.message), Safe(h)),
        None => Safe(&e.message).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::report::{Reason, SCHEMA_VERSION, SummaryRow};
    use crate::model::ResourceKind;

    fn verdict(id: &str, status: Status, reasons: Vec<Reason>) -> ResourceVerdict {
        ResourceVerdict {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            resource_type: ResourceKind::Vpc,
            resource_id: id.into(),
            owner: Some("111122223333".into()),
            vpc_id: Some(id.into()),
            subnet_id: None,
            status,
            compliant: Some(status == Status::Compliant),
            reasons,
            flow_log_ids: Vec::new(),
            requirement: vec!["cis-aws-foundations".into()],
        }
    }

    #[test]
    fn summary_then_failing_resources_with_reasons_and_controls_within_120_columns() {
        let long = "delivery FAILED: \"".to_string() + &"x".repeat(300) + "\"";
        let report = AuditReport {
            schema_version: SCHEMA_VERSION,
            generated_at: "2026-12-01T00:00:00Z".into(),
            mode: "baseline".into(),
            baseline: Some("cis-aws-foundations".into()),
            config: None,
            summary: vec![SummaryRow {
                account: "111122223333".into(),
                region: "us-east-1".into(),
                resources: 2,
                compliant: 1,
                non_compliant: 1,
                coverage_percent: Some(50.0),
                ..SummaryRow::default()
            }],
            resources: vec![
                verdict("vpc-ok", Status::Compliant, Vec::new()),
                verdict(
                    "vpc-bad\u{1b}[31m",
                    Status::NonCompliant,
                    vec![Reason {
                        code: "delivery-failed".into(),
                        text: long,
                        controls: ["v3.0.0", "v4.0.0"]
                            .iter()
                            .map(|v| Control {
                                framework: "cis-aws-foundations".into(),
                                id: "3.7".into(),
                                version: Some(v.to_string()),
                            })
                            .collect(),
                        flow_log_id: Some("fl-1".into()),
                    }],
                ),
            ],
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let text = render(&report);
        assert!(text.contains("50.0%"), "{text}");
        assert!(text.contains("Non-compliant (1):"), "{text}");
        assert!(text.contains("vpc vpc-bad\\x1b[31m"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("breaks CIS 3.7 "), "{text}");
        assert!(!text.contains("v3.0.0"), "{text}");
        assert!(
            !text.contains("vpc-ok"),
            "compliant resources are only counted: {text}"
        );
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{} wide: {line}",
                line.chars().count()
            );
        }
    }

    fn empty(resources: Vec<ResourceVerdict>) -> AuditReport {
        AuditReport {
            schema_version: SCHEMA_VERSION,
            generated_at: "2026-12-01T00:00:00Z".into(),
            mode: "config".into(),
            baseline: None,
            config: Some("flowkeeper.yaml".into()),
            summary: Vec::new(),
            resources,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn regression_failed_targets_are_in_the_report_and_it_never_says_compliant() {
        let mut r = empty(vec![verdict("vpc-ok", Status::Compliant, Vec::new())]);
        r.errors.push(crate::audit::report::AuditError {
            account: Some("444455556666".into()),
            region: Some("eu-west-1".into()),
            message: "AccessDenied: ec2:DescribeVpcs".into(),
            hint: Some("attach the audit policy".into()),
        });
        let text = render(&r);
        assert!(!text.contains("is compliant"), "{text}");
        assert!(text.contains("1 target(s) could not be audited"), "{text}");
        assert!(text.contains("Could not be audited (1):"), "{text}");
        assert!(text.contains("444455556666"), "{text}");
        assert!(text.contains("eu-west-1"), "{text}");
        assert!(text.contains("AccessDenied: ec2:DescribeVpcs"), "{text}");
        assert!(text.contains("attach the audit policy"), "{text}");
    }

    #[test]
    fn regression_nothing_in_scope_is_not_called_compliant() {
        let mut out = verdict("vpc-1", Status::OutOfScope, Vec::new());
        out.compliant = None;
        let mut r = empty(vec![out]);
        r.warnings
            .push("flow_logs entry `x` selects nothing in the accounts and regions audited".into());
        let text = render(&r);
        assert!(!text.contains("is compliant"), "{text}");
        assert!(text.contains("Nothing in scope:"), "{text}");
        assert!(
            text.contains("warning: flow_logs entry `x` selects nothing"),
            "{text}"
        );
        let mut r = empty(Vec::new());
        r.errors.push(crate::audit::report::AuditError {
            account: None,
            region: None,
            message:
                "flow_logs entry `x`: vpc-0 was not found in any account or region of this run"
                    .into(),
            hint: None,
        });
        let text = render(&r);
        assert!(!text.contains("is compliant"), "{text}");
        assert!(
            text.contains("error: flow_logs entry `x`: vpc-0 was not found"),
            "{text}"
        );
    }

    #[test]
    fn unused_vpcs_without_flow_logs_are_counted_in_a_line() {
        let mut r = empty(Vec::new());
        r.summary.push(SummaryRow {
            unused: 3,
            unused_non_compliant: 2,
            ..SummaryRow::default()
        });
        let text = render(&r);
        assert!(
            text.contains("2 unused VPCs without flow logs were not counted; use --include-unused to count them"),
            "{text}"
        );
    }
}
