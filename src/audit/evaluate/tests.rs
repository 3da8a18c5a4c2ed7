//! Scope and status: baseline kinds, entry selection with containment, shared, unused.

use std::collections::BTreeMap;

use super::*;
use crate::coverage::{Approved, DestinationType};
use crate::model::{
    AggregationInterval, Exclusion, ExistingFlowLog, FlowLogDestination, FlowLogHealth,
    FlowLogSettings, LogFormat, S3Options, Selector, TrafficType,
};

fn res(id: &str, kind: ResourceKind, vpc: Option<&str>, subnet: Option<&str>) -> NetworkResource {
    NetworkResource {
        vpc_id: vpc.map(str::to_string),
        subnet_id: subnet.map(str::to_string),
        owner_id: Some("111122223333".into()),
        ..NetworkResource::new(id, kind)
    }
}

fn flow_log(id: &str, on: &str) -> ExistingFlowLog {
    ExistingFlowLog {
        id: id.into(),
        resource_id: on.into(),
        settings: FlowLogSettings {
            traffic_type: TrafficType::All,
            destination: FlowLogDestination::S3 {
                arn: "arn:aws:s3:::logs".into(),
                options: S3Options::default(),
            },
            log_format: LogFormat::default_v2(),
            max_aggregation_interval: AggregationInterval::TenMinutes,
            unreadable: Default::default(),
        },
        tags: BTreeMap::new(),
        created: None,
        health: FlowLogHealth {
            status: Some("ACTIVE".into()),
            deliver_status: Some("SUCCESS".into()),
            deliver_error: None,
        },
    }
}

fn inventory() -> RegionInventory {
    let mut shared = res("vpc-shared", ResourceKind::Vpc, None, None);
    shared.owner_id = Some("999999999999".into());
    RegionInventory {
        resources: vec![
            res("vpc-1", ResourceKind::Vpc, None, None),
            res("subnet-1", ResourceKind::Subnet, Some("vpc-1"), None),
            res(
                "eni-1",
                ResourceKind::NetworkInterface,
                Some("vpc-1"),
                Some("subnet-1"),
            ),
            res("vpc-empty", ResourceKind::Vpc, None, None),
            shared,
        ],
        flow_logs: vec![flow_log("fl-1", "subnet-1")],
        log_groups: BTreeMap::new(),
    }
}

fn held(name: &str) -> Held {
    Held {
        label: None,
        name: name.into(),
        requirement: Requirement {
            traffic: TrafficType::Reject,
            destinations: Approved::Any,
            destination_types: DestinationType::ALL.into(),
            required_fields: Vec::new(),
            max_interval: None,
        },
        controls: BTreeMap::new(),
    }
}

fn table(v: &[ResourceVerdict]) -> Vec<(String, &'static str, Vec<String>)> {
    v.iter()
        .map(|x| {
            (
                x.resource_id.clone(),
                x.status.as_str(),
                x.reasons.iter().map(|r| r.code.clone()).collect(),
            )
        })
        .collect()
}

fn row(id: &str, status: &'static str, codes: &[&str]) -> (String, &'static str, Vec<String>) {
    (
        id.into(),
        status,
        codes.iter().map(|c| c.to_string()).collect(),
    )
}

#[test]
fn baseline_scope_by_kind_shared_and_unused() {
    let kinds = [ResourceKind::Vpc, ResourceKind::Subnet].into();
    let scope = Scope::Baseline {
        kinds: &kinds,
        held: held("b"),
    };
    let v = evaluate_region("111122223333", "us-east-1", &inventory(), &scope);
    assert_eq!(
        table(&v),
        vec![
            row("vpc-1", "non-compliant", &["no-own-flow-log"]),
            row("subnet-1", "compliant", &[]),
            row("eni-1", "out-of-scope", &[]),
            row("vpc-empty", "unused", &["no-flow-log"]),
            row("vpc-shared", "shared", &["no-flow-log"]),
        ]
    );
    assert_eq!(v[3].compliant, Some(false));
    assert_eq!(v[4].owner.as_deref(), Some("999999999999"));
    assert_eq!(v[2].compliant, None);
}

#[test]
fn an_entry_holds_on_what_it_selects_and_everything_inside() {
    let entry = FlowLogEntry {
        name: "subnets".into(),
        resource: ResourceKind::Subnet,
        select: Selector::All,
        exclude: Exclusion::default(),
        traffic_type: TrafficType::All,
        destinations: vec!["d".into()],
        format: LogFormat::default_v2(),
        max_aggregation_interval: AggregationInterval::TenMinutes,
        tags: BTreeMap::new(),
    };
    let mut h = held("subnets");
    h.label = Some("entry `subnets` → `d`".into());
    let scope = Scope::Entries(vec![(&entry, h)]);
    let v = evaluate_region("111122223333", "us-east-1", &inventory(), &scope);
    assert_eq!(
        table(&v),
        vec![
            row("vpc-1", "out-of-scope", &[]),
            row("subnet-1", "compliant", &[]),
            row("eni-1", "compliant", &[]),
            row("vpc-empty", "out-of-scope", &[]),
            row("vpc-shared", "out-of-scope", &[]),
        ]
    );
    assert_eq!(v[2].flow_log_ids, ["fl-1"]);
    assert_eq!(v[2].requirement, ["subnets"]);
}

#[test]
fn summary_counts_and_coverage() {
    let kinds = ResourceKind::ALL.into();
    let scope = Scope::Baseline {
        kinds: &kinds,
        held: held("b"),
    };
    let v = evaluate_region("111122223333", "us-east-1", &inventory(), &scope);
    let rows = summarize(&v, &[("111122223333".into(), "eu-west-1".into())]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].region, "eu-west-1");
    assert_eq!(rows[0].coverage_percent, None);
    let r = &rows[1];
    assert_eq!(
        (
            r.resources,
            r.compliant,
            r.non_compliant,
            r.shared,
            r.unused
        ),
        (5, 2, 1, 1, 1)
    );
    assert_eq!(r.coverage_percent.map(|p| (p * 10.0).round()), Some(667.0));
}

#[test]
fn a_requester_managed_interface_is_covered_through_its_subnet_like_any_other() {
    let mut inv = inventory();
    let mut nat = res(
        "eni-nat",
        ResourceKind::NetworkInterface,
        Some("vpc-1"),
        Some("subnet-1"),
    );
    nat.requester_managed = true;
    nat.interface_type = Some("nat_gateway".into());
    let mut lonely = nat.clone();
    lonely.id = "eni-nat-2".into();
    lonely.subnet_id = Some("subnet-2".into());
    inv.resources.push(nat);
    inv.resources.push(lonely);
    inv.resources
        .push(res("subnet-2", ResourceKind::Subnet, Some("vpc-1"), None));
    let kinds = [ResourceKind::NetworkInterface].into();
    let scope = Scope::Baseline {
        kinds: &kinds,
        held: held("b"),
    };
    let v = evaluate_region("111122223333", "us-east-1", &inv, &scope);
    let get = |id: &str| v.iter().find(|x| x.resource_id == id).unwrap();
    assert_eq!(get("eni-nat").status, Status::Compliant);
    assert_eq!(get("eni-nat").flow_log_ids, ["fl-1"]);
    assert_eq!(get("eni-nat-2").status, Status::NonCompliant);
}

#[test]
fn regression_a_subnet_inside_an_unused_vpc_is_unused_too_unless_unused_is_included() {
    let mut inv = inventory();
    inv.resources.push(res(
        "subnet-empty",
        ResourceKind::Subnet,
        Some("vpc-empty"),
        None,
    ));
    let kinds = [ResourceKind::Vpc, ResourceKind::Subnet].into();
    let scope = Scope::Baseline {
        kinds: &kinds,
        held: held("b"),
    };
    let v = evaluate_region("111122223333", "us-east-1", &inv, &scope);
    let t = table(&v);
    assert!(
        t.contains(&row("subnet-empty", "unused", &["no-flow-log"])),
        "{t:?}"
    );
    assert!(
        t.contains(&row("vpc-empty", "unused", &["no-flow-log"])),
        "{t:?}"
    );
    let s = &summarize(&v, &[])[0];
    assert_eq!(
        (s.unused, s.unused_non_compliant, s.non_compliant),
        (2, 1, 1)
    );

    let opts = Options {
        include_unused: true,
    };
    let v = evaluate_region_with("111122223333", "us-east-1", &inv, &scope, opts);
    let t = table(&v);
    assert!(
        t.contains(&row("subnet-empty", "non-compliant", &["no-flow-log"])),
        "{t:?}"
    );
    assert!(
        t.contains(&row("vpc-empty", "non-compliant", &["no-flow-log"])),
        "{t:?}"
    );
    let s = &summarize(&v, &[])[0];
    assert_eq!(
        (s.unused, s.unused_non_compliant, s.non_compliant),
        (0, 0, 3)
    );
}

#[test]
fn regression_a_shared_resource_without_flow_logs_names_its_owner() {
    let kinds = [ResourceKind::Vpc].into();
    let scope = Scope::Baseline {
        kinds: &kinds,
        held: held("b"),
    };
    let v = evaluate_region("111122223333", "us-east-1", &inventory(), &scope);
    let shared = v.iter().find(|x| x.resource_id == "vpc-shared").unwrap();
    assert!(
        shared.reasons[0]
            .text
            .contains("flow logs that its owner 999999999999 created are not visible here"),
        "{}",
        shared.reasons[0].text
    );
}
