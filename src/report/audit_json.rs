//! `audit --format json`: the [`AuditReport`] as it is (its field names are the schema), with
//! `fix_plan` (the plan JSON `plan --format json` prints) when `--fix` was given.

use serde_json::Value;

use crate::audit::fix::FixGap;
use crate::audit::report::AuditReport;

/// The report, pretty-printed, with a trailing newline.
pub fn render(report: &AuditReport) -> String {
    render_with_fix(report, None)
}

/// The report with the `--fix` plan under `fix_plan` and the gaps it cannot close under
/// `fix_gaps`.
pub fn render_with_fix(report: &AuditReport, fix: Option<(Value, Vec<FixGap>)>) -> String {
    let mut v = serde_json::to_value(report).expect("audit report serializes");
    if let (Some((plan, gaps)), Value::Object(m)) = (fix, &mut v) {
        m.insert("fix_plan".into(), plan);
        m.insert(
            "fix_gaps".into(),
            serde_json::to_value(gaps).expect("fix gaps serialize"),
        );
    }
    let mut s = serde_json::to_string_pretty(&v).expect("JSON value serializes");
    s.push('\n');
    s
}
