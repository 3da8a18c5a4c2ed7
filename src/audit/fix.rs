//! `audit --fix`: which non-compliant resources the plan `apply` would run leaves as they are.
//! A gap counts as closed when the plan creates or replaces a flow log on the resource, its
//! subnet or its VPC in the same account and region; anything else (a FAILED delivery on a flow
//! log whose settings are already what the config wants, a baseline requirement the config does
//! not ask for) is said explicitly.

use super::report::{AuditReport, ResourceVerdict, Status};
use crate::plan::{Action, Plan};

fn closes(plan: &Plan, v: &ResourceVerdict) -> bool {
    let on_path = |id: &str| {
        id == v.resource_id || v.subnet_id.as_deref() == Some(id) || v.vpc_id.as_deref() == Some(id)
    };
    plan.changes.iter().any(|c| {
        matches!(c.action, Action::Create | Action::Replace)
            && c.region.as_deref() == Some(v.region.as_str())
            && c.resource.as_deref().is_some_and(on_path)
    })
}

/// The non-compliant resources no planned change closes.
fn unclosed<'a>(
    report: &'a AuditReport,
    plans: &'a [&Plan],
) -> impl Iterator<Item = &'a ResourceVerdict> {
    report
        .resources
        .iter()
        .filter(|v| v.status == Status::NonCompliant)
        .filter(|v| {
            !plans
                .iter()
                .any(|plan| plan.account.as_str() == v.account && closes(plan, v))
        })
}

/// One reason of a resource `apply` will not fix (`fix_gaps` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FixGap {
    pub account: String,
    pub region: String,
    pub resource_id: String,
    pub reason_code: String,
    pub text: String,
}

/// Every reason of every resource [`unfixed`] names, as objects.
pub fn unfixed_gaps(report: &AuditReport, plans: &[&Plan]) -> Vec<FixGap> {
    unclosed(report, plans)
        .flat_map(|v| {
            v.reasons.iter().map(|r| FixGap {
                account: v.account.clone(),
                region: v.region.clone(),
                resource_id: v.resource_id.clone(),
                reason_code: r.code.clone(),
                text: r.text.clone(),
            })
        })
        .collect()
}

/// "apply will not fix this: ..." for each non-compliant resource no planned change closes.
pub fn unfixed(report: &AuditReport, plans: &[&Plan]) -> Vec<String> {
    unclosed(report, plans)
        .map(|v| {
            let why: Vec<&str> = v.reasons.iter().map(|r| r.text.as_str()).collect();
            format!(
                "apply will not fix this: {}/{} {} {}: {}",
                v.account,
                v.region,
                v.resource_type.config_name(),
                v.resource_id,
                why.join("; ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::report::{Reason, SCHEMA_VERSION};
    use crate::model::ResourceKind;
    use crate::plan::{Change, Operation, ResourceType};

    fn verdict(id: &str, vpc: &str) -> ResourceVerdict {
        ResourceVerdict {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            resource_type: ResourceKind::of_id(id).unwrap(),
            resource_id: id.into(),
            owner: None,
            vpc_id: Some(vpc.into()),
            subnet_id: None,
            status: Status::NonCompliant,
            compliant: Some(false),
            reasons: vec![Reason {
                code: "delivery-failed".into(),
                text: "fl-1 (on vpc-2): delivery FAILED: \"Access error\"".into(),
                controls: Vec::new(),
                flow_log_id: Some("fl-1".into()),
            }],
            flow_log_ids: vec!["fl-1".into()],
            requirement: vec!["vpcs".into()],
        }
    }

    #[test]
    fn a_gap_no_planned_change_closes_is_said() {
        let report = AuditReport {
            schema_version: SCHEMA_VERSION,
            generated_at: String::new(),
            mode: "config".into(),
            baseline: None,
            config: None,
            summary: Vec::new(),
            resources: vec![verdict("subnet-1", "vpc-1"), verdict("vpc-2", "vpc-2")],
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let plan = Plan {
            changes: vec![Change {
                target: None,
                action: Action::Create,
                resource_type: ResourceType::FlowLog,
                region: Some("us-east-1".into()),
                id: "vpc-1".into(),
                resource: Some("vpc-1".into()),
                reason: String::new(),
                attributes: Vec::new(),
                depends_on: Vec::new(),
                operation: Operation::DeleteFlowLog { id: "x".into() },
            }],
            ..Plan::new(crate::model::AccountId::parse("111122223333").unwrap())
        };
        let got = unfixed(&report, &[&plan]);
        assert_eq!(
            got,
            [
                "apply will not fix this: 111122223333/us-east-1 vpc vpc-2: fl-1 (on vpc-2): delivery FAILED: \"Access error\""
            ]
        );
        // In JSON, one object per reason.
        assert_eq!(
            unfixed_gaps(&report, &[&plan]),
            [FixGap {
                account: "111122223333".into(),
                region: "us-east-1".into(),
                resource_id: "vpc-2".into(),
                reason_code: "delivery-failed".into(),
                text: "fl-1 (on vpc-2): delivery FAILED: \"Access error\"".into(),
            }]
        );
        // Another account's plan closes nothing here.
        let mut other = plan.clone();
        other.account = crate::model::AccountId::parse("999999999999").unwrap();
        assert_eq!(unfixed(&report, &[&other]).len(), 2);
    }
}
