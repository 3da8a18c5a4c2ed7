//! Verify's report as one JSON document: `schema_version`, `generated_at`, `summary`,
//! `flow_logs` (each with its `checks`, in ladder order) and `errors`, in the report's stable
//! order (account, region, flow log id). Text is carried exactly as read.

use crate::verify::report::VerifyReport;

pub fn render(report: &VerifyReport) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::*;

    #[test]
    fn the_documented_fields_are_there() {
        let report = VerifyReport {
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
                flow_log_id: "fl-1".into(),
                resource_id: "vpc-1".into(),
                destination: "arn:aws:s3:::b".into(),
                destination_type: "s3".into(),
                status: DeliveryStatus::Failing,
                checks: vec![Check {
                    name: "permissions".into(),
                    result: CheckResult::Failed,
                    detail: "no statement allows it".into(),
                    fix: Some("add".into()),
                }],
                newest_delivery: None,
                lag_seconds: None,
                entry: None,
            }],
            errors: Vec::new(),
        };
        let v: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["summary"]["failing"], 1);
        let fl = &v["flow_logs"][0];
        for k in [
            "account",
            "region",
            "flow_log_id",
            "resource_id",
            "destination",
            "status",
            "checks",
            "newest_delivery",
            "lag_seconds",
        ] {
            assert!(fl.get(k).is_some(), "{k} missing");
        }
        assert_eq!(fl["status"], "failing");
        assert_eq!(fl["checks"][0]["result"], "failed");
        assert_eq!(fl["checks"][0]["fix"], "add");
    }
}
