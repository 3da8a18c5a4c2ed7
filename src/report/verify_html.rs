//! Verify's result as one self-contained HTML page (`templates/report/verify.html`): summary
//! counts, the targets that could not be verified, and a row per flow log with its ladder (each
//! rung's result, detail and fix), filterable by status with a small inline script. No external
//! resources. Values are escaped by minijinja's HTML auto-escaping (the template's name ends in
//! `.html`), never by hand.

use minijinja::{Environment, Value};

use crate::verify::report::VerifyReport;

const TEMPLATE_NAME: &str = "verify.html";
const TEMPLATE: &str = include_str!("../../templates/report/verify.html");

/// The environment with the verify template; auto-escaping follows the `.html` name.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // The template is compiled into the binary and rendered by the tests below: a syntax
    // error there is a bug in this file, not something input can cause.
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .expect("templates/report/verify.html parses");
    env
}

/// The whole page.
pub fn render(report: &VerifyReport) -> String {
    let env = environment();
    let template = env
        .get_template(TEMPLATE_NAME)
        .expect("the template was just added");
    // Rendering serializable plain data with this template cannot fail on values: every field
    // is a string, number, bool, list or null, and the template calls no fallible function.
    template
        .render(Value::from_serialize(report))
        .expect("the verify report renders")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::{
        Check, CheckResult, DeliveryStatus, FlowLogVerification, SCHEMA_VERSION, VerifyError,
        VerifySummary,
    };

    fn check(name: &str, result: CheckResult, detail: &str, fix: Option<&str>) -> Check {
        Check {
            name: name.into(),
            result,
            detail: detail.into(),
            fix: fix.map(str::to_string),
        }
    }

    fn flow_log(id: &str, status: DeliveryStatus, checks: Vec<Check>) -> FlowLogVerification {
        FlowLogVerification {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            flow_log_id: id.into(),
            resource_id: "vpc-0abc".into(),
            destination: "arn:aws:s3:::acme-logs/vpc".into(),
            destination_type: "s3".into(),
            status,
            checks,
            newest_delivery: Some("2026-12-01T22:55:00Z".into()),
            lag_seconds: Some(42),
            entry: Some("all-vpcs".into()),
        }
    }

    fn report(flow_logs: Vec<FlowLogVerification>, errors: Vec<VerifyError>) -> VerifyReport {
        let count = |s| flow_logs.iter().filter(|f| f.status == s).count();
        VerifyReport {
            schema_version: SCHEMA_VERSION,
            generated_at: "2026-12-01T23:00:00Z".into(),
            summary: VerifySummary {
                flow_logs: flow_logs.len(),
                delivering: count(DeliveryStatus::Delivering),
                failing: count(DeliveryStatus::Failing),
                waiting: count(DeliveryStatus::Waiting),
                stale: count(DeliveryStatus::Stale),
                ..Default::default()
            },
            flow_logs,
            errors,
        }
    }

    const HOSTILE: &str = "<script>alert('x')</script> \"q\" & {{ summary }} {% if 1 %}";

    #[test]
    fn hostile_values_are_escaped_everywhere() {
        let mut f = flow_log(
            "fl-0123",
            DeliveryStatus::Failing,
            vec![check(
                "permissions",
                CheckResult::Failed,
                HOSTILE,
                Some(&format!("add {HOSTILE}")),
            )],
        );
        f.resource_id = HOSTILE.into();
        f.destination = HOSTILE.into();
        f.entry = Some(HOSTILE.into());
        let page = render(&report(
            vec![f],
            vec![VerifyError {
                account: Some(HOSTILE.into()),
                region: Some("us-east-1".into()),
                message: HOSTILE.into(),
                hint: Some(HOSTILE.into()),
            }],
        ));
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("\"q\""), "quotes escaped: {page}");
        assert!(page.contains("&lt;script&gt;alert("), "{page}");
        // Template syntax in values is data, not evaluated: it arrives literally (escaped).
        assert!(page.contains("{{ summary }}"), "{page}");
        assert!(page.contains("{% if 1 %}"), "{page}");
        // Exactly the one inline script of the template.
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        assert!(!page.contains(" & {{"), "ampersand escaped: {page}");
    }

    #[test]
    fn every_flow_log_is_a_row_with_its_status_and_its_whole_ladder() {
        let page = render(&report(
            vec![
                flow_log(
                    "fl-aaa",
                    DeliveryStatus::Delivering,
                    vec![
                        check("status", CheckResult::Ok, "ACTIVE, delivery SUCCESS", None),
                        check("kms", CheckResult::NotApplicable, "SSE-S3", None),
                    ],
                ),
                flow_log(
                    "fl-bbb",
                    DeliveryStatus::Failing,
                    vec![check(
                        "permissions",
                        CheckResult::Failed,
                        "the bucket policy grants AWSLogs/111122223333 without /*",
                        Some("add the statement FlowkeeperDeliveryWrite"),
                    )],
                ),
                flow_log("fl-ccc", DeliveryStatus::Waiting, vec![]),
            ],
            vec![],
        ));
        assert_eq!(page.matches("<tr class=\"flow-log\"").count(), 3, "{page}");
        for (id, status) in [
            ("fl-aaa", "delivering"),
            ("fl-bbb", "failing"),
            ("fl-ccc", "waiting"),
        ] {
            let row = page
                .split("<tr class=\"flow-log\"")
                .find(|r| r.contains(id))
                .unwrap_or_else(|| panic!("a row for {id}: {page}"));
            assert!(row.contains(&format!("data-status=\"{status}\"")), "{row}");
        }
        assert!(page.contains("not-applicable"), "{page}");
        assert!(page.contains("fix: add the statement FlowkeeperDeliveryWrite"));
        // minijinja escapes `/` too (as `&#x2f;`); a browser shows it as `/`.
        assert!(page.contains("without &#x2f;*"), "{page}");
        assert!(page.contains("<strong>3</strong> flow logs"), "{page}");
        assert!(page.contains("<strong>1</strong> failing"), "{page}");
        assert!(
            !page.contains("Could not verify"),
            "no error section: {page}"
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = render(&report(vec![], vec![]));
        assert!(page.contains("No flow logs in scope."));
        for external in ["http://", "https://", "src=", "href=", "@import", "fetch("] {
            assert!(!page.contains(external), "{external} in {page}");
        }
        assert!(page.contains("id=\"status-filter\""));
    }

    #[test]
    fn errors_are_listed() {
        let page = render(&report(
            vec![],
            vec![VerifyError {
                account: Some("111122223333".into()),
                region: None,
                message: "cannot assume the role".into(),
                hint: Some("check role_name".into()),
            }],
        ));
        assert!(page.contains("Could not verify"), "{page}");
        assert!(page.contains("<code>111122223333</code>: cannot assume the role"));
        assert!(page.contains("hint: check role_name"));
    }
}
