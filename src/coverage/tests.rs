//! Each coverage rule, hit and near miss.

use std::collections::BTreeMap;

use super::*;
use crate::model::{FlowLogDestination, FlowLogHealth, FlowLogSettings, LogFormat, S3Options};

fn vpc(id: &str) -> NetworkResource {
    NetworkResource::new(id, ResourceKind::Vpc)
}
fn subnet(id: &str, vpc: &str) -> NetworkResource {
    NetworkResource {
        vpc_id: Some(vpc.into()),
        ..NetworkResource::new(id, ResourceKind::Subnet)
    }
}
fn eni(id: &str, subnet: &str, vpc: &str) -> NetworkResource {
    NetworkResource {
        vpc_id: Some(vpc.into()),
        subnet_id: Some(subnet.into()),
        ..NetworkResource::new(id, ResourceKind::NetworkInterface)
    }
}

fn s3(arn: &str) -> FlowLogDestination {
    FlowLogDestination::S3 {
        arn: arn.into(),
        options: S3Options::default(),
    }
}

fn fl(id: &str, on: &str, traffic: TrafficType) -> ExistingFlowLog {
    ExistingFlowLog {
        id: id.into(),
        resource_id: on.into(),
        settings: FlowLogSettings {
            traffic_type: traffic,
            destination: s3("arn:aws:s3:::logs"),
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

fn any_reject() -> Requirement {
    Requirement {
        traffic: TrafficType::Reject,
        destinations: Approved::Any,
        destination_types: DestinationType::ALL.into(),
        required_fields: Vec::new(),
        max_interval: None,
    }
}

fn codes(c: &Coverage) -> Vec<&'static str> {
    c.gaps.iter().map(Gap::code).collect()
}

#[test]
fn a_healthy_all_log_qualifies_for_reject() {
    assert!(qualifies(&fl("fl-1", "vpc-1", TrafficType::All), &any_reject()).is_empty());
    assert!(qualifies(&fl("fl-1", "vpc-1", TrafficType::Reject), &any_reject()).is_empty());
}

#[test]
fn accept_never_satisfies_reject_and_reject_never_accept() {
    let u = qualifies(&fl("fl-1", "vpc-1", TrafficType::Accept), &any_reject());
    assert_eq!(
        u,
        vec![Unmet::TrafficType {
            have: TrafficType::Accept,
            need: TrafficType::Reject
        }]
    );
    let req = Requirement {
        traffic: TrafficType::Accept,
        ..any_reject()
    };
    assert_eq!(
        qualifies(&fl("fl-1", "v", TrafficType::Reject), &req).len(),
        1
    );
    assert!(qualifies(&fl("fl-1", "v", TrafficType::Accept), &req).is_empty());
}

#[test]
fn inactive_and_failed_delivery_are_separate_reasons_quoting_aws() {
    let mut f = fl("fl-1", "vpc-1", TrafficType::All);
    f.health = FlowLogHealth {
        status: Some("INACTIVE".into()),
        deliver_status: Some("FAILED".into()),
        deliver_error: Some("Access error".into()),
    };
    let u = qualifies(&f, &any_reject());
    let c: Vec<_> = u.iter().map(Unmet::code).collect();
    assert_eq!(c, ["not-active", "delivery-failed"]);
    assert_eq!(u[1].to_string(), "delivery FAILED: \"Access error\"");
    // Near miss: SUCCESS delivery and ACTIVE status pass.
    assert!(qualifies(&fl("fl-2", "vpc-1", TrafficType::All), &any_reject()).is_empty());
}

#[test]
fn destination_type_and_destination_are_checked_separately() {
    let req = Requirement {
        destinations: Approved::Patterns(["arn:aws:s3:::approved".to_string()].into()),
        destination_types: [DestinationType::S3, DestinationType::CloudWatchLogs].into(),
        ..any_reject()
    };
    let mut firehose = fl("fl-1", "vpc-1", TrafficType::All);
    firehose.settings.destination = FlowLogDestination::KinesisDataFirehose {
        arn: "arn:aws:firehose:us-east-1:1:deliverystream/x".into(),
    };
    let c: Vec<_> = qualifies(&firehose, &req).iter().map(Unmet::code).collect();
    assert_eq!(c, ["destination-type", "destination-not-approved"]);
    let other = fl("fl-2", "vpc-1", TrafficType::All); // arn:aws:s3:::logs
    let c: Vec<_> = qualifies(&other, &req).iter().map(Unmet::code).collect();
    assert_eq!(c, ["destination-not-approved"]);
    let mut ok = fl("fl-3", "vpc-1", TrafficType::All);
    ok.settings.destination = s3("arn:aws:s3:::approved/vpc");
    assert!(qualifies(&ok, &req).is_empty());
}

#[test]
fn missing_fields_are_named_and_interval_limit_applies() {
    let req = Requirement {
        required_fields: vec!["version".into(), "vpc-id".into(), "flow-direction".into()],
        max_interval: Some(AggregationInterval::OneMinute),
        ..any_reject()
    };
    let u = qualifies(&fl("fl-1", "vpc-1", TrafficType::All), &req);
    assert_eq!(
        u,
        vec![
            Unmet::FieldsMissing {
                missing: vec!["vpc-id".into(), "flow-direction".into()]
            },
            Unmet::Interval {
                have: AggregationInterval::TenMinutes,
                max: AggregationInterval::OneMinute
            }
        ]
    );
    let mut ok = fl("fl-2", "vpc-1", TrafficType::All);
    ok.settings.log_format = LogFormat::all_fields();
    ok.settings.max_aggregation_interval = AggregationInterval::OneMinute;
    assert!(qualifies(&ok, &req).is_empty());
    // 600 s is within a 600 s limit.
    let req600 = Requirement {
        max_interval: Some(AggregationInterval::TenMinutes),
        ..any_reject()
    };
    assert!(qualifies(&fl("fl-3", "vpc-1", TrafficType::All), &req600).is_empty());
}

fn region(
    resources: Vec<NetworkResource>,
    logs: Vec<ExistingFlowLog>,
) -> (Vec<NetworkResource>, Vec<ExistingFlowLog>) {
    (resources, logs)
}

#[test]
fn an_interface_is_covered_by_itself_its_subnet_or_its_vpc() {
    let res = vec![
        vpc("vpc-1"),
        subnet("subnet-1", "vpc-1"),
        eni("eni-1", "subnet-1", "vpc-1"),
    ];
    for on in ["eni-1", "subnet-1", "vpc-1"] {
        let (r, l) = region(res.clone(), vec![fl("fl-1", on, TrafficType::All)]);
        let idx = RegionIndex::from_parts(&r, &l);
        let c = evaluate(&r[2], &idx, &any_reject());
        assert_eq!(c.covered_by.as_deref(), Some("fl-1"), "flow log on {on}");
    }
    let (r, l) = region(res.clone(), vec![fl("fl-1", "eni-other", TrafficType::All)]);
    let idx = RegionIndex::from_parts(&r, &l);
    let c = evaluate(&r[2], &idx, &any_reject());
    assert_eq!(codes(&c), ["no-flow-log"]);
}

#[test]
fn a_subnet_is_covered_by_itself_or_its_vpc_never_by_an_interface() {
    let res = vec![
        vpc("vpc-1"),
        subnet("subnet-1", "vpc-1"),
        eni("eni-1", "subnet-1", "vpc-1"),
    ];
    let (r, l) = region(res.clone(), vec![fl("fl-1", "vpc-1", TrafficType::All)]);
    let idx = RegionIndex::from_parts(&r, &l);
    assert!(evaluate(&r[1], &idx, &any_reject()).is_covered());
    let (r, l) = region(res, vec![fl("fl-1", "eni-1", TrafficType::All)]);
    let idx = RegionIndex::from_parts(&r, &l);
    let c = evaluate(&r[1], &idx, &any_reject());
    assert_eq!(codes(&c), ["no-flow-log"]);
    assert!(c.considered.is_empty());
}

#[test]
fn a_vpc_only_by_its_own_and_says_when_its_subnets_are_all_covered() {
    let res = vec![
        vpc("vpc-1"),
        subnet("subnet-1", "vpc-1"),
        subnet("subnet-2", "vpc-1"),
    ];
    let both = vec![
        fl("fl-1", "subnet-1", TrafficType::All),
        fl("fl-2", "subnet-2", TrafficType::Reject),
    ];
    let idx = RegionIndex::from_parts(&res, &both);
    let c = evaluate(&res[0], &idx, &any_reject());
    assert_eq!(codes(&c), ["no-own-flow-log"]);
    assert_eq!(
        c.gaps[0].text(&res[0]),
        "0 of its own; 2 of 2 subnets covered (only a VPC's own flow log covers the VPC)"
    );
    // Near miss: one subnet uncovered → plainly missing.
    let one = vec![fl("fl-1", "subnet-1", TrafficType::All)];
    let idx = RegionIndex::from_parts(&res, &one);
    let c = evaluate(&res[0], &idx, &any_reject());
    assert_eq!(codes(&c), ["no-flow-log"]);
    // Regression: it says how much is covered, not only when all is.
    assert_eq!(
        c.gaps[0].text(&res[0]),
        "no flow log on vpc-1: 0 of its own; 1 of 2 subnets covered"
    );
}

#[test]
fn no_candidate_qualifying_gives_the_union_of_their_reasons_naming_each() {
    let res = vec![
        vpc("vpc-1"),
        subnet("subnet-1", "vpc-1"),
        eni("eni-1", "subnet-1", "vpc-1"),
    ];
    let mut failed = fl("fl-vpc", "vpc-1", TrafficType::All);
    failed.health.deliver_status = Some("FAILED".into());
    failed.health.deliver_error = Some("Access error".into());
    let logs = vec![fl("fl-sub", "subnet-1", TrafficType::Accept), failed];
    let idx = RegionIndex::from_parts(&res, &logs);
    let c = evaluate(&res[2], &idx, &any_reject());
    assert_eq!(c.covered_by, None);
    assert_eq!(c.considered, ["fl-sub", "fl-vpc"]);
    assert_eq!(codes(&c), ["traffic-type", "delivery-failed"]);
    assert_eq!(
        c.gaps[0].text(&res[2]),
        "fl-sub (on subnet-1, above eni-1): captures ACCEPT traffic; REJECT (or ALL) is required"
    );
    assert_eq!(c.gaps[1].flow_log_id(), Some("fl-vpc"));
    // One qualifying candidate is enough: the others' problems are not gaps.
    let logs = vec![
        fl("fl-sub", "subnet-1", TrafficType::Accept),
        fl("fl-eni", "eni-1", TrafficType::Reject),
    ];
    let idx = RegionIndex::from_parts(&res, &logs);
    let c = evaluate(&res[2], &idx, &any_reject());
    assert_eq!(c.covered_by.as_deref(), Some("fl-eni"));
    assert!(c.gaps.is_empty());
}

#[test]
fn admit_filters_candidates() {
    let res = vec![vpc("vpc-1")];
    let logs = vec![fl("fl-1", "vpc-1", TrafficType::All)];
    let idx = RegionIndex::from_parts(&res, &logs);
    let c = evaluate_with(&res[0], &idx, &any_reject(), &|f| f.id != "fl-1");
    assert_eq!(codes(&c), ["no-flow-log"]);
}

fn cwl(elsewhere: Option<&str>) -> FlowLogDestination {
    FlowLogDestination::CloudwatchLogs {
        log_group: "/x".into(),
        role_arn: "arn:aws:iam::111122223333:role/r".into(),
        elsewhere: elsewhere.map(str::to_string),
    }
}

fn approved(patterns: &[&str]) -> Requirement {
    Requirement {
        destinations: Approved::Patterns(patterns.iter().map(|p| p.to_string()).collect()),
        ..any_reject()
    }
}

#[test]
fn regression_a_log_group_of_another_account_is_not_approved_by_its_name() {
    let v = vpc("vpc-1");
    let mut f = fl("fl-1", "vpc-1", TrafficType::All);
    f.settings.destination = cwl(Some("arn:aws:logs:us-west-2:999999999999:log-group:/x"));
    let (res, fls) = (vec![v.clone()], vec![f]);
    let idx = RegionIndex::from_parts(&res, &fls).at("111122223333", "us-east-1");
    let c = evaluate(&v, &idx, &approved(&["/x"]));
    assert!(!c.is_covered());
    assert_eq!(codes(&c), vec!["destination-not-approved"]);
    assert!(
        c.gaps[0]
            .text(&v)
            .contains("arn:aws:logs:us-west-2:999999999999:log-group:/x"),
        "{}",
        c.gaps[0].text(&v)
    );
    // Its ARN (or a wildcard over it) does approve it.
    for p in [
        "arn:aws:logs:us-west-2:999999999999:log-group:/x",
        "arn:aws:logs:*:999999999999:log-group:*",
    ] {
        assert!(evaluate(&v, &idx, &approved(&[p])).is_covered(), "{p}");
    }
}

#[test]
fn a_log_group_of_the_own_account_is_approved_by_name_or_arn() {
    let v = vpc("vpc-1");
    let mut f = fl("fl-1", "vpc-1", TrafficType::All);
    f.settings.destination = cwl(None);
    let (res, fls) = (vec![v.clone()], vec![f]);
    let idx = RegionIndex::from_parts(&res, &fls).at("111122223333", "us-east-1");
    for p in [
        "/x",
        "arn:aws:logs:us-east-1:111122223333:log-group:/x",
        "arn:aws:logs:*:111122223333:log-group:/*",
    ] {
        assert!(evaluate(&v, &idx, &approved(&[p])).is_covered(), "{p}");
    }
    let c = evaluate(&v, &idx, &approved(&["/y"]));
    assert!(
        c.gaps[0]
            .text(&v)
            .contains("arn:aws:logs:us-east-1:111122223333:log-group:/x")
    );
    assert!(
        !evaluate(
            &v,
            &idx,
            &approved(&["arn:aws:logs:us-east-1:999999999999:log-group:/x"])
        )
        .is_covered()
    );
}

#[test]
fn regression_unknown_api_values_never_pass() {
    let v = vpc("vpc-1");
    let strict = Requirement {
        traffic: TrafficType::All,
        destinations: Approved::Any,
        destination_types: DestinationType::ALL.into(),
        required_fields: vec!["version".into()],
        max_interval: None,
    };
    let mut traffic = fl("fl-1", "vpc-1", TrafficType::All);
    traffic.settings.unreadable.traffic_type = Some("EVERYTHING".into());
    let mut format = fl("fl-2", "vpc-1", TrafficType::All);
    format.settings.unreadable.log_format = Some("version srcaddr".into());
    let mut dest = fl("fl-3", "vpc-1", TrafficType::All);
    dest.settings.destination = FlowLogDestination::Other {
        type_name: "s3-tables".into(),
        arn: "arn:aws:s3tables:us-east-1:111122223333:bucket/b".into(),
    };
    for (f, code, raw) in [
        (traffic, "unknown-traffic-type", "EVERYTHING"),
        (format, "unreadable-log-format", "version srcaddr"),
        (dest, "unknown-destination-type", "s3-tables"),
    ] {
        let (res, fls) = (vec![v.clone()], vec![f]);
        let idx = RegionIndex::from_parts(&res, &fls);
        let c = evaluate(&v, &idx, &strict);
        assert!(!c.is_covered(), "{code}");
        assert_eq!(codes(&c), vec![code]);
        assert!(c.gaps[0].text(&v).contains(raw), "{}", c.gaps[0].text(&v));
    }
}

#[test]
fn regression_interface_level_logs_are_counted_in_the_vpc_and_subnet_reason() {
    let res = vec![
        vpc("vpc-1"),
        subnet("subnet-1", "vpc-1"),
        eni("eni-1", "subnet-1", "vpc-1"),
        eni("eni-2", "subnet-1", "vpc-1"),
    ];
    let logs = vec![fl("fl-1", "eni-1", TrafficType::All)];
    let idx = RegionIndex::from_parts(&res, &logs);
    let c = evaluate(&res[0], &idx, &any_reject());
    assert_eq!(codes(&c), ["no-flow-log"]);
    assert_eq!(
        c.gaps[0].text(&res[0]),
        "no flow log on vpc-1: 0 of its own; 0 of 1 subnets covered; 1 of 2 interfaces covered"
    );
    let c = evaluate(&res[1], &idx, &any_reject());
    assert_eq!(
        c.gaps[0].text(&res[1]),
        "no flow log on subnet-1: 0 of its own; 1 of 2 interfaces covered"
    );
}
