//! A hand-made audit report with every status, reasons with controls, a shared VPC, an error,
//! two accounts and values an attacker could plant in tag-derived names and ids; the
//! renderers' tests and the browser check read it.

#![allow(dead_code)]

use flowkeeper::audit::report::{
    AuditError, AuditReport, Control, Reason, ResourceVerdict, SCHEMA_VERSION, Status, SummaryRow,
};
use flowkeeper::model::ResourceKind;

pub const HOSTILE_ID: &str = "vpc-<script>alert(1)</script>";
pub const HOSTILE_TEXT: &str =
    "\"quoted' & {{ 7*7 }} {% if true %}x{% endif %} <img src=x onerror=alert(2)>";
pub const HOSTILE_REQUIREMENT: &str = "</td><script>document.title='pwned'</script>";

pub fn cis() -> Control {
    Control {
        framework: "cis-aws-foundations".into(),
        id: "3.7".into(),
        version: Some("v3.0.0".into()),
    }
}

pub fn fsbp() -> Control {
    Control {
        framework: "aws-fsbp".into(),
        id: "EC2.6".into(),
        version: None,
    }
}

pub fn verdict(
    account: &str,
    region: &str,
    kind: ResourceKind,
    id: &str,
    vpc: &str,
    status: Status,
) -> ResourceVerdict {
    ResourceVerdict {
        account: account.into(),
        region: region.into(),
        resource_type: kind,
        resource_id: id.into(),
        owner: Some(account.into()),
        vpc_id: Some(vpc.into()),
        subnet_id: None,
        status,
        compliant: match status {
            Status::Compliant => Some(true),
            Status::OutOfScope => None,
            _ => Some(false),
        },
        reasons: vec![],
        flow_log_ids: vec![],
        requirement: vec!["cis-aws-foundations".into()],
    }
}

pub fn reason(code: &str, text: &str, controls: Vec<Control>, fl: Option<&str>) -> Reason {
    Reason {
        code: code.into(),
        text: text.into(),
        controls,
        flow_log_id: fl.map(String::from),
    }
}

const A: &str = "111111111111";
const B: &str = "333333333333";
const EU: &str = "eu-west-1";
const US: &str = "us-east-1";

pub fn resources() -> Vec<ResourceVerdict> {
    use ResourceKind::*;
    let mut out = Vec::new();

    let mut v = verdict(A, EU, Vpc, "vpc-0a", "vpc-0a", Status::Compliant);
    v.flow_log_ids = vec!["fl-1".into()];
    out.push(v);
    let mut s = verdict(A, EU, Subnet, "subnet-0a1", "vpc-0a", Status::Compliant);
    s.flow_log_ids = vec!["fl-1".into()];
    out.push(s);
    let mut e = verdict(
        A,
        EU,
        NetworkInterface,
        "eni-0a1",
        "vpc-0a",
        Status::Compliant,
    );
    e.subnet_id = Some("subnet-0a1".into());
    e.flow_log_ids = vec!["fl-1".into()];
    out.push(e);

    let mut v = verdict(A, EU, Vpc, "vpc-0b", "vpc-0b", Status::NonCompliant);
    v.reasons = vec![
        reason(
            "traffic-type",
            "fl-2 logs ACCEPT traffic; REJECT is required",
            vec![cis(), fsbp()],
            Some("fl-2"),
        ),
        reason(
            "delivery-failed",
            "fl-3 delivery FAILED: Access error",
            vec![fsbp()],
            Some("fl-3"),
        ),
    ];
    v.flow_log_ids = vec!["fl-2".into(), "fl-3".into()];
    out.push(v);
    let mut s = verdict(A, EU, Subnet, "subnet-0b1", "vpc-0b", Status::NonCompliant);
    s.reasons = vec![reason(
        "no-flow-log",
        "no flow log on subnet-0b1 or its VPC vpc-0b",
        vec![cis()],
        None,
    )];
    out.push(s);

    let mut v = verdict(A, EU, Vpc, "vpc-0c", "vpc-0c", Status::Shared);
    v.owner = Some("222222222222".into());
    v.reasons = vec![reason(
        "no-flow-log",
        "no flow log on vpc-0c",
        vec![cis()],
        None,
    )];
    out.push(v);
    out.push(verdict(A, EU, Vpc, "vpc-0d", "vpc-0d", Status::Unused));
    let mut o = verdict(A, EU, Vpc, "vpc-0e", "vpc-0e", Status::OutOfScope);
    o.requirement = vec![];
    out.push(o);

    let mut h = verdict(B, US, Vpc, HOSTILE_ID, HOSTILE_ID, Status::NonCompliant);
    h.reasons = vec![reason("no-flow-log", HOSTILE_TEXT, vec![cis()], None)];
    h.requirement = vec![HOSTILE_REQUIREMENT.into()];
    out.push(h);
    let mut c = verdict(B, US, Vpc, "vpc-1a", "vpc-1a", Status::Compliant);
    c.flow_log_ids = vec!["fl-9".into()];
    out.push(c);
    out
}

pub fn summary(resources: &[ResourceVerdict]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = Vec::new();
    for v in resources {
        let at = match rows
            .iter()
            .position(|r| r.account == v.account && r.region == v.region)
        {
            Some(i) => i,
            None => {
                rows.push(SummaryRow {
                    account: v.account.clone(),
                    region: v.region.clone(),
                    ..SummaryRow::default()
                });
                rows.len() - 1
            }
        };
        let r = &mut rows[at];
        r.resources += 1;
        match v.status {
            Status::Compliant => r.compliant += 1,
            Status::NonCompliant => r.non_compliant += 1,
            Status::Shared => r.shared += 1,
            Status::Unused => r.unused += 1,
            Status::OutOfScope => r.out_of_scope += 1,
        }
    }
    for r in &mut rows {
        let evaluated = r.compliant + r.non_compliant;
        r.coverage_percent = (evaluated > 0).then(|| r.compliant as f64 * 100.0 / evaluated as f64);
    }
    rows
}

pub fn report() -> AuditReport {
    let resources = resources();
    AuditReport {
        schema_version: SCHEMA_VERSION,
        generated_at: "2026-03-04T05:06:07Z".into(),
        mode: "baseline".into(),
        baseline: Some("cis-aws-foundations".into()),
        config: None,
        summary: summary(&resources),
        resources,
        errors: vec![AuditError {
            account: Some("444444444444".into()),
            region: Some("ap-southeast-2".into()),
            message: "AccessDenied assuming <b>FlowkeeperAudit</b>".into(),
            hint: Some("check the role's trust policy".into()),
        }],
        warnings: Vec::new(),
    }
}
