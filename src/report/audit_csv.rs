//! audit as CSV: one row per VPC, subnet and network interface, quoted by the `csv` crate.
//! Owns the column layout (see `HEADER`) and the guard against spreadsheet formula injection:
//! a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`
//! (OWASP, "CSV Injection"), so that tag-derived names and ids are shown, never evaluated.
//! Audit errors are not rows; the command reports them on stderr.

use crate::audit::report::{AuditReport, Control, ResourceVerdict};

/// The columns, in order; part of the output's schema (`audit::report::SCHEMA_VERSION`).
pub const HEADER: [&str; 14] = [
    "account",
    "region",
    "resource_type",
    "resource_id",
    "owner",
    "vpc_id",
    "subnet_id",
    "status",
    "compliant",
    "reason_codes",
    "reasons",
    "controls",
    "flow_log_ids",
    "requirement",
];

/// Separator inside a list cell (codes, controls, ids, requirement names).
const LIST_SEP: &str = "; ";

/// The cell as a spreadsheet will show it, never as a formula.
pub fn guard(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// `cis-aws-foundations 3.7 (v3.0.0)`, or without the version when the id does not depend on one.
pub fn control_label(c: &Control) -> String {
    match &c.version {
        Some(v) => format!("{} {} ({v})", c.framework, c.id),
        None => format!("{} {}", c.framework, c.id),
    }
}

/// Every control the resource's reasons break, each once, in first-seen order.
fn controls(v: &ResourceVerdict) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for label in v
        .reasons
        .iter()
        .flat_map(|r| r.controls.iter())
        .map(control_label)
    {
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// The row's cells, before guarding.
fn cells(v: &ResourceVerdict) -> [String; 14] {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    [
        v.account.clone(),
        v.region.clone(),
        v.resource_type.config_name().to_string(),
        v.resource_id.clone(),
        opt(&v.owner),
        opt(&v.vpc_id),
        opt(&v.subnet_id),
        v.status.as_str().to_string(),
        v.compliant.map(|c| c.to_string()).unwrap_or_default(),
        v.reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(LIST_SEP),
        // One reason a line: a cell can hold line breaks, and reason texts may contain `;`.
        // Control characters inside a text (a newline in a delivery error) are escaped as in
        // the table, so that each line is one reason.
        v.reasons
            .iter()
            .map(|r| crate::output::Safe(&r.text).to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        controls(v).join(LIST_SEP),
        v.flow_log_ids.join(LIST_SEP),
        v.requirement.join(LIST_SEP),
    ]
}

/// The whole CSV: the header, then one row per resource in the report's order.
pub fn render(report: &AuditReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into a Vec cannot fail: the only errors are the sink's.
    let _ = w.write_record(HEADER);
    for v in &report.resources {
        let _ = w.write_record(cells(v).iter().map(|c| guard(c)));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::report::{Reason, SCHEMA_VERSION, Status};
    use crate::model::ResourceKind;

    fn verdict(id: &str) -> ResourceVerdict {
        ResourceVerdict {
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            resource_type: ResourceKind::Vpc,
            resource_id: id.into(),
            owner: Some("111111111111".into()),
            vpc_id: Some(id.into()),
            subnet_id: None,
            status: Status::NonCompliant,
            compliant: Some(false),
            reasons: vec![],
            flow_log_ids: vec![],
            requirement: vec!["cis-aws-foundations".into()],
        }
    }

    fn report(resources: Vec<ResourceVerdict>) -> AuditReport {
        AuditReport {
            schema_version: SCHEMA_VERSION,
            generated_at: "2026-01-02T03:04:05Z".into(),
            mode: "baseline".into(),
            baseline: Some("cis-aws-foundations".into()),
            config: None,
            summary: vec![],
            resources,
            errors: vec![],
            warnings: vec![],
        }
    }

    fn rows(csv_text: &str) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv_text.as_bytes())
            .records()
            .map(|r| r.expect("valid CSV").iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn guard_prefixes_every_formula_trigger_and_nothing_else() {
        for hostile in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(guard(hostile), format!("'{hostile}"), "{hostile:?}");
        }
        for plain in ["vpc-1", "", "1=1", "a-b", " =x", "'quoted"] {
            assert_eq!(guard(plain), plain, "{plain:?}");
        }
    }

    #[test]
    fn header_then_one_row_per_resource_with_every_column() {
        let mut v = verdict("vpc-0a");
        v.reasons = vec![
            Reason {
                code: "traffic-type".into(),
                text: "fl-1 logs ACCEPT; REJECT is required".into(),
                controls: vec![
                    Control {
                        framework: "cis-aws-foundations".into(),
                        id: "3.7".into(),
                        version: Some("v3.0.0".into()),
                    },
                    Control {
                        framework: "aws-fsbp".into(),
                        id: "EC2.6".into(),
                        version: None,
                    },
                ],
                flow_log_id: Some("fl-1".into()),
            },
            Reason {
                code: "delivery-failed".into(),
                text: "fl-2 delivery FAILED: Access error".into(),
                controls: vec![Control {
                    framework: "aws-fsbp".into(),
                    id: "EC2.6".into(),
                    version: None,
                }],
                flow_log_id: Some("fl-2".into()),
            },
        ];
        v.flow_log_ids = vec!["fl-1".into(), "fl-2".into()];
        let mut out_of_scope = verdict("vpc-0b");
        out_of_scope.status = Status::OutOfScope;
        out_of_scope.compliant = None;
        out_of_scope.owner = None;
        out_of_scope.requirement = vec![];
        let got = rows(&render(&report(vec![v, out_of_scope])));
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], HEADER.map(String::from).to_vec());
        assert_eq!(
            got[1],
            [
                "111111111111",
                "eu-west-1",
                "vpc",
                "vpc-0a",
                "111111111111",
                "vpc-0a",
                "",
                "non-compliant",
                "false",
                "traffic-type; delivery-failed",
                "fl-1 logs ACCEPT; REJECT is required\nfl-2 delivery FAILED: Access error",
                "cis-aws-foundations 3.7 (v3.0.0); aws-fsbp EC2.6",
                "fl-1; fl-2",
                "cis-aws-foundations",
            ]
            .map(String::from)
            .to_vec()
        );
        assert_eq!(got[2][7], "out-of-scope");
        assert_eq!(got[2][8], "", "no requirement, no verdict");
        assert_eq!(got[2][4], "");
    }

    #[test]
    fn hostile_tag_derived_values_are_neither_formulas_nor_broken_rows() {
        let mut v = verdict("=HYPERLINK(\"http://x\",\"y\")");
        v.owner = Some("@owner".into());
        v.subnet_id = Some("-2+3".into());
        v.requirement = vec!["+entry, with \"quotes\"".into()];
        v.reasons = vec![Reason {
            code: "no-flow-log".into(),
            text: "\t=cmd|' /C calc'!A0".into(),
            controls: vec![],
            flow_log_id: None,
        }];
        v.flow_log_ids = vec!["\r=1".into()];
        let text = render(&report(vec![v]));
        let got = rows(&text);
        assert_eq!(got.len(), 2, "one header and one row: {text}");
        let row = &got[1];
        assert_eq!(row.len(), HEADER.len());
        for cell in row {
            assert!(
                !matches!(
                    cell.chars().next(),
                    Some('=' | '+' | '-' | '@' | '\t' | '\r')
                ),
                "{cell:?} would be evaluated"
            );
        }
        assert_eq!(row[3], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(row[4], "'@owner");
        assert_eq!(row[6], "'-2+3");
        assert_eq!(row[10], "\\t=cmd|' /C calc'!A0");
        assert_eq!(row[12], "'\r=1");
        assert_eq!(row[13], "'+entry, with \"quotes\"");
    }

    #[test]
    fn an_empty_report_is_the_header_alone() {
        assert_eq!(render(&report(vec![])), format!("{}\n", HEADER.join(",")));
    }

    #[test]
    fn regression_a_newline_inside_a_reason_text_is_not_a_fake_reason_line() {
        let mut v = verdict("vpc-1");
        v.reasons = [
            "delivery FAILED: \"line one\nfake-code: line two\"",
            "no flow log",
        ]
        .iter()
        .map(|t| Reason {
            code: "delivery-failed".into(),
            text: t.to_string(),
            controls: vec![],
            flow_log_id: None,
        })
        .collect();
        let got = rows(&render(&report(vec![v])));
        let lines: Vec<&str> = got[1][10].split('\n').collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("line one\\nfake-code"), "{lines:?}");
    }
}
