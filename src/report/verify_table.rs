//! Verify's report as text: one table row per flow log (fits 120 columns), then each failing
//! rung with its detail and fix, then the errors and the summary line. Text from AWS (ids,
//! messages, keys) is shown with its control characters escaped; fixes keep their lines.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ColumnConstraint, ContentArrangement, Table};

use crate::output::text::SafeLines;
use crate::output::{Safe, safe};
use crate::verify::report::{CheckResult, FlowLogVerification, VerifyReport};

const WIDTH: u16 = 120;

fn lag(fl: &FlowLogVerification) -> String {
    fl.lag_seconds.map_or("-".into(), |l| format!("{l}s"))
}

fn id(fl: &FlowLogVerification) -> String {
    if fl.flow_log_id.is_empty() {
        "(missing)".into()
    } else {
        safe(&fl.flow_log_id)
    }
}

pub fn render(report: &VerifyReport) -> String {
    let mut out = String::new();
    if report.flow_logs.is_empty() {
        let _ = writeln!(out, "No flow logs in scope.");
    } else {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(WIDTH)
            .set_header([
                "flow log / resource",
                "account / region",
                "destination",
                "status",
                "newest delivery",
            ]);
        for fl in &report.flow_logs {
            t.add_row(vec![
                format!("{}\n{}", id(fl), safe(&fl.resource_id)),
                format!("{}\n{}", safe(&fl.account), safe(&fl.region)),
                safe(&fl.destination),
                fl.status.as_str().to_string(),
                match &fl.newest_delivery {
                    Some(n) => format!("{}\nlag {}", safe(n), lag(fl)),
                    None => "-".into(),
                },
            ]);
        }
        // Ids and times never wrap; the destination takes what is left.
        for i in [0, 1, 3, 4] {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        let _ = writeln!(out, "{t}");
    }
    for fl in &report.flow_logs {
        for c in fl
            .checks
            .iter()
            .filter(|c| matches!(c.result, CheckResult::Failed | CheckResult::Unverified))
        {
            let _ = writeln!(
                out,
                "\n{} {} ({}/{}) {}: {}\n  {}",
                id(fl),
                Safe(&fl.resource_id),
                Safe(&fl.account),
                Safe(&fl.region),
                c.name,
                if c.result == CheckResult::Failed {
                    "failed"
                } else {
                    "unverified"
                },
                Safe(&c.detail)
            );
            if let Some(fix) = &c.fix {
                let fix = SafeLines(fix).to_string().replace('\n', "\n    ");
                let _ = writeln!(out, "  fix: {fix}");
            }
        }
    }
    for e in &report.errors {
        let at = match (&e.account, &e.region) {
            (Some(a), Some(r)) => format!("[{a}/{r}] "),
            (Some(a), None) => format!("[{a}] "),
            _ => String::new(),
        };
        let _ = writeln!(out, "\nerror: {at}{}", Safe(&e.message));
        if let Some(h) = &e.hint {
            let _ = writeln!(out, "   = hint: {}", Safe(h));
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} flow log(s): {} delivering, {} failing, {} stale, {} waiting, {} unverified.",
        s.flow_logs, s.delivering, s.failing, s.stale, s.waiting, s.unverified
    );
    if s.firehose > 0 {
        let _ = writeln!(
            out,
            "{} flow log(s) deliver to Firehose and cannot be verified end to end.",
            s.firehose
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::*;

    fn report() -> VerifyReport {
        VerifyReport {
            schema_version: SCHEMA_VERSION,
            generated_at: "2026-11-02T10:00:00Z".into(),
            summary: VerifySummary {
                flow_logs: 1,
                failing: 1,
                ..Default::default()
            },
            flow_logs: vec![FlowLogVerification {
                account: "111122223333".into(),
                region: "us-east-1".into(),
                flow_log_id: "fl-0123456789abcdef0".into(),
                resource_id: "vpc-0123456789abcdef0".into(),
                destination: "arn:aws:s3:::a-rather-long-bucket-name-for-flow-logs-111122223333-us-east-1/with/a/prefix".into(),
                destination_type: "s3".into(),
                status: DeliveryStatus::Failing,
                checks: vec![Check {
                    name: "permissions".into(),
                    result: CheckResult::Failed,
                    detail: "bucket policy: no statement allows \u{1b}[31m it".into(),
                    fix: Some("add:\n{\n  \"Sid\": \"X\"\n}".into()),
                }],
                newest_delivery: None,
                lag_seconds: None,
                entry: None,
            }],
            errors: vec![VerifyError {
                account: Some("111122223333".into()),
                region: Some("eu-west-1".into()),
                message: "cannot read region".into(),
                hint: None,
            }],
        }
    }

    #[test]
    fn rows_fit_120_columns_and_failing_rungs_follow_with_their_fix() {
        let text = render(&report());
        for line in text.lines() {
            assert!(line.chars().count() <= 120, "too wide: {line}");
        }
        assert!(text.contains("permissions: failed"), "{text}");
        assert!(
            text.contains("fl-0123456789abcdef0") && text.contains("vpc-0123456789abcdef0"),
            "ids never wrap: {text}"
        );
        assert!(
            text.contains("  fix: add:\n    {\n      \"Sid\": \"X\"\n    }"),
            "{text}"
        );
        assert!(
            text.contains("\\x1b[31m"),
            "control characters are escaped: {text}"
        );
        assert!(text.contains("error: [111122223333/eu-west-1] cannot read region"));
        assert!(text.contains("1 flow log(s): 0 delivering, 1 failing"));
    }
}
