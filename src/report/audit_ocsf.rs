//! audit as OCSF: one **Compliance Finding** (class 2003, category 2 Findings, OCSF 1.3.0 with
//! the `cloud` and `datetime` profiles) per VPC, subnet and network interface, as JSON lines,
//! the shape Security Lake, Security Hub integrations and Prowler's OCSF consumers read.
//! Owns the mapping from `audit::report` to OCSF; decides nothing about compliance.
//!
//! Mapping: `compliance.status_id` Pass (1) for compliant, Fail (3) for non-compliant, Other
//! (99) with `status` Shared / Unused / Out of scope for the rest (their verdict is in
//! `status_detail`), `compliance.status_code` is flowkeeper's status; `severity_id` Medium (3)
//! for non-compliant (as Security Hub rates EC2.6), else Informational (1); `resources[0].uid`
//! is the resource's ARN in its owner's account; `finding_info.uid` is stable for the same
//! resource under the same baseline (or config), so runs can be compared.

use serde_json::{Value, json};

use super::audit_csv::control_label;
pub use super::ocsf::{CATEGORY_UID, OCSF_VERSION};
use super::ocsf::{product, prune_nulls};
use crate::audit::report::{AuditReport, ResourceVerdict, Status};
use crate::model::ResourceKind;

pub const CLASS_UID: u32 = 2003;
/// Create (1): every audit run reports its findings afresh.
const ACTIVITY_ID: u32 = 1;

/// The ARN partition of a region (`aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`).
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `arn:aws:ec2:<region>:<owner>:vpc/<id>` (`subnet/`, `network-interface/`); the account is
/// the owner's, which is the audited account unless the resource is shared.
pub fn arn(v: &ResourceVerdict) -> String {
    let kind = match v.resource_type {
        ResourceKind::Vpc => "vpc",
        ResourceKind::Subnet => "subnet",
        ResourceKind::NetworkInterface => "network-interface",
    };
    let account = v.owner.as_deref().unwrap_or(&v.account);
    format!(
        "arn:{}:ec2:{}:{account}:{kind}/{}",
        partition(&v.region),
        v.region,
        v.resource_id
    )
}

/// The resource type as AWS Security Hub (ASFF) and Prowler name it.
fn resource_type(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Vpc => "AwsEc2Vpc",
        ResourceKind::Subnet => "AwsEc2Subnet",
        ResourceKind::NetworkInterface => "AwsEc2NetworkInterface",
    }
}

/// A shipped baseline's framework by its full name; a user baseline keeps its own name.
fn standard_title(framework: &str) -> String {
    match framework {
        "cis-aws-foundations" => "CIS Amazon Web Services Foundations Benchmark".into(),
        "aws-fsbp" => "AWS Foundational Security Best Practices".into(),
        "flowkeeper" => "flowkeeper strict flow-log baseline".into(),
        other => other.into(),
    }
}

/// (status_id, status) of the compliance check.
fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Compliant => (1, "Pass"),
        Status::NonCompliant => (3, "Fail"),
        Status::Shared => (99, "Shared"),
        Status::Unused => (99, "Unused"),
        Status::OutOfScope => (99, "Out of scope"),
    }
}

fn severity(status: Status) -> (u32, &'static str) {
    match status {
        Status::NonCompliant => (3, "Medium"),
        _ => (1, "Informational"),
    }
}

/// Why nothing holds on `v`: in baseline mode, the kinds the baseline holds (those of the
/// report's in-scope resources); in config mode, that no entry selects it.
fn out_of_scope(v: &ResourceVerdict, report: &AuditReport) -> String {
    match &report.baseline {
        Some(b) => {
            let mut held: Vec<&str> = report
                .resources
                .iter()
                .filter(|x| x.status != Status::OutOfScope)
                .map(|x| x.resource_type.config_name())
                .collect();
            held.sort();
            held.dedup();
            let kind = v.resource_type.config_name();
            if held.is_empty() {
                format!("Baseline {b} does not hold resources of kind {kind}.")
            } else {
                format!(
                    "Baseline {b} holds {} only; a {kind} is not in its scope.",
                    held.join(", ")
                )
            }
        }
        None => "No config entry selects this resource.".into(),
    }
}

/// The reasons, one sentence each; or what the verdict rests on when there are none.
fn description(v: &ResourceVerdict, report: &AuditReport) -> String {
    let met = match v.compliant {
        Some(true) => "the requirement is met",
        Some(false) => "the requirement is not met",
        None => "no requirement applies",
    };
    let mut parts: Vec<String> = match v.status {
        Status::Shared => vec![format!(
            "Shared from account {}: not counted against {}; {met}.",
            v.owner.as_deref().unwrap_or("(unknown)"),
            v.account
        )],
        Status::Unused => vec![format!("No network interfaces; {met}.")],
        Status::OutOfScope => vec![out_of_scope(v, report)],
        Status::Compliant if v.flow_log_ids.is_empty() => vec!["Every requirement is met.".into()],
        Status::Compliant => vec![format!(
            "Every requirement is met (flow logs {}).",
            v.flow_log_ids.join(", ")
        )],
        Status::NonCompliant => vec![],
    };
    parts.extend(v.reasons.iter().map(|r| r.text.clone()));
    parts.join(" ")
}

/// Frameworks the reasons name, else the baseline the resource was held to, else the config.
fn standards(v: &ResourceVerdict, report: &AuditReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let frameworks = v
        .reasons
        .iter()
        .flat_map(|r| r.controls.iter())
        .map(|c| match &c.version {
            Some(ver) => format!("{} {ver}", standard_title(&c.framework)),
            None => standard_title(&c.framework),
        });
    for s in frameworks {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        out.push(match &report.baseline {
            Some(b) => standard_title(b),
            None => "flowkeeper config".into(),
        });
    }
    out
}

fn compliance(v: &ResourceVerdict, report: &AuditReport) -> Value {
    let mut labels: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for c in v.reasons.iter().flat_map(|r| r.controls.iter()) {
        let label = control_label(c);
        if !labels.contains(&label) {
            labels.push(label);
        }
        if !ids.contains(&c.id) {
            ids.push(c.id.clone());
        }
    }
    let (status_id, status) = compliance_status(v.status);
    json!({
        "standards": standards(v, report),
        "control": (!ids.is_empty()).then(|| ids.join(", ")),
        "requirements": (!labels.is_empty()).then_some(labels),
        "status_id": status_id,
        "status": status,
        "status_code": v.status.as_str(),
        "status_detail": description(v, report),
    })
}

/// Stable for the same resource under the same baseline (or config) across runs.
pub fn finding_uid(v: &ResourceVerdict, report: &AuditReport) -> String {
    let basis = report.baseline.as_deref().unwrap_or("config");
    format!(
        "flowkeeper:audit:{basis}:{}:{}:{}",
        v.account, v.region, v.resource_id
    )
}

fn title(v: &ResourceVerdict) -> String {
    let kind = match v.resource_type {
        ResourceKind::Vpc => "VPC",
        ResourceKind::Subnet => "Subnet",
        ResourceKind::NetworkInterface => "Network interface",
    };
    format!(
        "{kind} {} flow logging: {}",
        v.resource_id,
        v.status.as_str()
    )
}

/// Milliseconds since the epoch (OCSF `timestamp_t`); 0 when the time does not parse.
fn epoch_ms(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

/// One Compliance Finding, without null members (OCSF leaves absent attributes out).
pub fn finding(v: &ResourceVerdict, report: &AuditReport) -> Value {
    let time = epoch_ms(&report.generated_at);
    let (severity_id, severity_name) = severity(v.status);
    let uid = finding_uid(v, report);
    let desc = description(v, report);
    let mut event = json!({
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Compliance Finding: Create",
        "time": time,
        "time_dt": report.generated_at,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "status_code": v.status.as_str(),
        "message": format!("{}: {desc}", title(v)),
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud", "datetime"],
            "uid": format!("{uid}@{}", report.generated_at),
            "event_code": "vpc-flow-logs-coverage",
            "product": product("audit"),
        },
        "cloud": {
            "provider": "AWS",
            "region": v.region,
            "account": { "uid": v.account, "type_id": 10, "type": "AWS Account" },
        },
        "compliance": compliance(v, report),
        "finding_info": {
            "uid": uid,
            "title": title(v),
            "desc": desc,
            "types": ["VPC Flow Logs coverage"],
            "created_time": time,
            "created_time_dt": report.generated_at,
        },
        "resources": [{
            "uid": arn(v),
            "name": v.resource_id,
            "type": resource_type(v.resource_type),
            "region": v.region,
            "cloud_partition": partition(&v.region),
            "owner": v.owner.as_ref().map(|o| json!({ "account": { "uid": o, "type_id": 10, "type": "AWS Account" } })),
            "data": {
                "vpc_id": v.vpc_id,
                "subnet_id": v.subnet_id,
                "flow_log_ids": v.flow_log_ids,
            },
        }],
        "remediation": (v.status == Status::NonCompliant).then(|| json!({
            "desc": "Create (or replace) a flow log that meets every requirement on this resource or above it; with a config, `flowkeeper audit --fix` shows the plan that `flowkeeper apply` runs.",
        })),
        "unmapped": {
            "requirement": v.requirement,
            "reasons": v.reasons.iter().map(|r| json!({
                "code": r.code,
                "text": r.text,
                "flow_log_id": r.flow_log_id,
                "controls": r.controls.iter().map(control_label).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        },
    });
    prune_nulls(&mut event);
    event
}

/// One finding a line, in the report's order; empty when the report has no resources.
pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    for v in &report.resources {
        out.push_str(&finding(v, report).to_string());
        out.push('\n');
    }
    out
}
