//! The planner's "already covered by a flow log flowkeeper does not manage" is coverage's rule
//! (`crate::coverage`), so plan and audit agree on every resource.

use std::collections::BTreeMap;

use super::*;
use crate::audit::{Held, Scope, evaluate_region};
use crate::coverage::Requirement;
use crate::model::*;

const CONFIG: &str = r#"version: 1
regions: [us-east-1]
destinations:
  archive: { type: s3, bucket: "logs-{account_id}", prefix: vpc, create: true }
  rt: { type: cloudwatch-logs, log_group: /fk/flows }
flow_logs:
  - name: vpcs
    resource: vpc
    select: { tags: { logged: vpc } }
    traffic_type: REJECT
    destinations: [archive]
  - name: subnets
    resource: subnet
    select: { tags: { logged: subnet } }
    destinations: [rt]
"#;

fn account() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}

fn res(id: &str, vpc: Option<&str>, logged: Option<&str>) -> NetworkResource {
    NetworkResource {
        vpc_id: vpc.map(str::to_string),
        owner_id: Some(account().to_string()),
        tags: logged
            .map(|l| [("logged".to_string(), l.to_string())].into())
            .unwrap_or_default(),
        ..NetworkResource::new(id, ResourceKind::of_id(id).unwrap())
    }
}

fn s3(traffic: TrafficType) -> FlowLogSettings {
    FlowLogSettings {
        traffic_type: traffic,
        destination: FlowLogDestination::S3 {
            arn: "arn:aws:s3:::logs-111122223333/vpc".into(),
            options: S3Options::default(),
        },
        log_format: LogFormat::default_v2(),
        max_aggregation_interval: AggregationInterval::TenMinutes,
        unreadable: Default::default(),
    }
}

fn cwl() -> FlowLogSettings {
    FlowLogSettings {
        traffic_type: TrafficType::All,
        destination: FlowLogDestination::CloudwatchLogs {
            log_group: "/fk/flows".into(),
            role_arn: "arn:aws:iam::111122223333:role/someone-elses".into(),
            elsewhere: None,
        },
        log_format: LogFormat::all_fields(),
        max_aggregation_interval: AggregationInterval::OneMinute,
        unreadable: Default::default(),
    }
}

fn unmanaged(id: &str, on: &str, settings: FlowLogSettings, failed: bool) -> ExistingFlowLog {
    ExistingFlowLog {
        id: id.into(),
        resource_id: on.into(),
        settings,
        tags: BTreeMap::new(),
        created: None,
        health: FlowLogHealth {
            status: Some("ACTIVE".into()),
            deliver_status: Some(if failed { "FAILED" } else { "SUCCESS" }.into()),
            deliver_error: failed.then(|| "Access error".to_string()),
        },
    }
}

fn inventory(resources: Vec<NetworkResource>, flow_logs: Vec<ExistingFlowLog>) -> Inventory {
    Inventory {
        account: account(),
        regions: [(
            "us-east-1".to_string(),
            RegionInventory {
                resources,
                flow_logs,
                ..Default::default()
            },
        )]
        .into(),
        buckets: [("logs-111122223333".to_string(), BucketLookup::Missing)].into(),
        roles: [("flowkeeper-delivery".to_string(), None)].into(),
    }
}

fn desired() -> DesiredState {
    crate::config::parse(std::path::Path::new("t.yaml"), CONFIG).unwrap_or_else(|d| panic!("{d}"))
}

fn plan_for(inv: &Inventory) -> Plan {
    let regions = vec!["us-east-1".to_string()];
    plan(
        &desired(),
        &PlanContext::single(&account()),
        &regions,
        &regions,
        inv,
        PlanOptions::default(),
    )
}

fn creates(p: &Plan, resource: &str) -> bool {
    p.changes
        .iter()
        .any(|c| c.action == Action::Create && c.resource.as_deref() == Some(resource))
}

#[test]
fn a_failed_unmanaged_flow_log_that_would_otherwise_qualify_does_not_cover() {
    // ALL traffic to the entry's bucket would cover the REJECT entry, but its delivery FAILED.
    let inv = inventory(
        vec![res("vpc-1", None, Some("vpc"))],
        vec![unmanaged("fl-failed", "vpc-1", s3(TrafficType::All), true)],
    );
    let p = plan_for(&inv);
    assert!(creates(&p, "vpc-1"), "{:#?}", p.changes);
    assert!(p.covered.is_empty());
}

#[test]
fn regression_a_failed_unmanaged_twin_of_the_wanted_flow_log_is_a_problem_not_covered_nor_a_create_aws_would_refuse()
 {
    let mut twin = s3(TrafficType::Reject);
    twin.destination = FlowLogDestination::S3 {
        arn: "arn:aws:s3:::logs-111122223333/vpc".into(),
        options: S3Options::default(),
    };
    let inv = inventory(
        vec![res("vpc-1", None, Some("vpc"))],
        vec![unmanaged("fl-twin", "vpc-1", twin, true)],
    );
    let p = plan_for(&inv);
    assert!(!creates(&p, "vpc-1"), "{:#?}", p.changes);
    assert!(p.covered.is_empty(), "{:#?}", p.covered);
    assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);
    let pr = &p.problems[0];
    assert_eq!(pr.subject, "flow log fl-twin on vpc-1");
    assert!(
        pr.message.contains("delivery FAILED: \"Access error\""),
        "{}",
        pr.message
    );
    assert!(pr.hint.as_deref().unwrap().contains("delete fl-twin"));
}

#[test]
fn an_unmanaged_vpc_flow_log_covers_a_subnet_level_entry() {
    let inv = inventory(
        vec![
            res("vpc-1", None, None),
            res("subnet-1", Some("vpc-1"), Some("subnet")),
        ],
        vec![unmanaged("fl-vpc", "vpc-1", cwl(), false)],
    );
    let p = plan_for(&inv);
    assert!(!creates(&p, "subnet-1"), "{:#?}", p.changes);
    assert_eq!(p.covered.len(), 1);
    assert_eq!(p.covered[0].flow_log_id, "fl-vpc");
    assert_eq!(p.covered[0].resource, "subnet-1");
}

#[test]
fn an_unmanaged_all_traffic_flow_log_covers_a_reject_entry_but_accept_does_not() {
    let inv = inventory(
        vec![
            res("vpc-1", None, Some("vpc")),
            res("vpc-2", None, Some("vpc")),
        ],
        vec![
            unmanaged("fl-all", "vpc-1", s3(TrafficType::All), false),
            unmanaged("fl-accept", "vpc-2", s3(TrafficType::Accept), false),
        ],
    );
    let p = plan_for(&inv);
    assert!(!creates(&p, "vpc-1"));
    assert!(creates(&p, "vpc-2"));
}

#[test]
fn plan_and_audit_agree_on_every_resource() {
    let resources = vec![
        res("vpc-1", None, Some("vpc")),
        res("vpc-2", None, Some("vpc")),
        res("vpc-3", None, Some("vpc")),
        res("vpc-4", None, None),
        res("subnet-1", Some("vpc-4"), Some("subnet")),
        res("subnet-2", Some("vpc-1"), Some("subnet")),
        res("subnet-3", Some("vpc-3"), Some("subnet")),
    ];
    let mut wrong_bucket = s3(TrafficType::All);
    wrong_bucket.destination = FlowLogDestination::S3 {
        arn: "arn:aws:s3:::elsewhere".into(),
        options: S3Options::default(),
    };
    let mut short = cwl();
    short.log_format = LogFormat::default_v2();
    short.max_aggregation_interval = AggregationInterval::TenMinutes;
    let flow_logs = vec![
        unmanaged("fl-1", "vpc-1", s3(TrafficType::All), false),
        unmanaged("fl-2", "vpc-2", s3(TrafficType::Accept), false),
        unmanaged("fl-3", "vpc-3", wrong_bucket, false),
        unmanaged("fl-4", "vpc-4", cwl(), false),
        unmanaged("fl-5", "subnet-2", cwl(), true),
        unmanaged("fl-6", "vpc-3", short, false),
    ];
    let inv = inventory(resources, flow_logs);
    let p = plan_for(&inv);
    let d = desired();
    let regions = vec!["us-east-1".to_string()];
    let resolved = resolve(
        &d,
        &account(),
        &PlanContext::single(&account()),
        &regions,
        &regions,
    );
    let ri = &inv.regions["us-east-1"];
    let mut checked = 0;
    for e in &d.flow_logs {
        for dname in &e.destinations {
            let dest = &resolved.flow_log_destinations[&(dname.clone(), "us-east-1".to_string())];
            let held = Held {
                label: None,
                name: e.name.clone(),
                requirement: Requirement::for_entry(e, dest),
                controls: BTreeMap::new(),
            };
            let verdicts = evaluate_region(
                "111122223333",
                "us-east-1",
                ri,
                &Scope::Entries(vec![(e, held)]),
            );
            for r in ri
                .resources
                .iter()
                .filter(|r| r.kind == e.resource && e.selects(&r.id, &r.tags))
            {
                let v = verdicts.iter().find(|v| v.resource_id == r.id).unwrap();
                assert_eq!(
                    v.compliant == Some(false),
                    creates(&p, &r.id),
                    "{}: audit says {:?} ({:?}), plan creates: {}",
                    r.id,
                    v.status,
                    v.reasons,
                    creates(&p, &r.id)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6);
    // The expected answers, so that agreement is not agreement on nothing.
    let created: Vec<&str> = [
        "vpc-1", "vpc-2", "vpc-3", "subnet-1", "subnet-2", "subnet-3",
    ]
    .into_iter()
    .filter(|r| creates(&p, r))
    .collect();
    // subnet-3 is covered through fl-6 on its VPC (same log group, default format, 600 s).
    assert_eq!(created, ["vpc-2", "vpc-3", "subnet-2"]);
}
