//! Rung 1, status: what DescribeFlowLogs says (`FlowLogStatus`, `DeliverLogsStatus`,
//! `DeliverLogsErrorMessage`).

use super::check::{self, STATUS};
use super::facts::Subject;
use super::report::Check;

pub fn check(s: &Subject) -> Check {
    let h = &s.flow_log.health;
    let status = h.status.as_deref().unwrap_or("unreported");
    let delivery = h.deliver_status.as_deref().unwrap_or("unreported");
    if h.is_active() && !h.delivery_failed() {
        return check::ok(
            STATUS,
            format!("FlowLogStatus {status}, DeliverLogsStatus {delivery}"),
        );
    }
    let error = h
        .deliver_error
        .as_deref()
        .map(|e| format!(": \"{e}\""))
        .unwrap_or_default();
    let fix = check::with_apply(
        "fix what the rungs below report; AWS retries the delivery once it can write".into(),
        s.config_managed,
        "this flow log's destination",
    );
    check::failed(
        STATUS,
        format!("FlowLogStatus {status}, DeliverLogsStatus {delivery}{error}"),
        fix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::CheckResult;
    use crate::verify::testing::subject;

    #[test]
    fn active_and_successful_is_ok() {
        let s = subject();
        assert_eq!(check(&s).result, CheckResult::Ok);
    }

    #[test]
    fn active_but_failed_delivery_fails_with_aws_message() {
        let mut s = subject();
        s.flow_log.health.deliver_status = Some("FAILED".into());
        s.flow_log.health.deliver_error = Some("Access error".into());
        let c = check(&s);
        assert_eq!(c.result, CheckResult::Failed);
        assert!(c.detail.contains("\"Access error\""), "{}", c.detail);
        s.config_managed = true;
        assert!(check(&s).fix.unwrap().contains("flowkeeper apply"));
    }

    #[test]
    fn an_unreported_status_is_not_taken_as_active() {
        let mut s = subject();
        s.flow_log.health.status = None;
        assert_eq!(check(&s).result, CheckResult::Failed);
    }
}
