//! Planner tests for what destinations expand to: account-wide resources whatever `--regions`
//! narrows, and resources two destinations disagree on.

use std::collections::BTreeMap;

use super::resolve::Part;
use super::*;
use crate::model::*;

const TWO_REGIONS: &str = r#"version: 1
regions: [us-east-1, us-west-2]
destinations:
  archive:
    type: s3
    bucket: shared-{account_id}
    create: true
    lifecycle: { expire_days: 90 }
  rt:
    type: cloudwatch-logs
    log_group: /fk/flows
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [archive, rt]
"#;

fn desired(text: &str) -> DesiredState {
    crate::config::parse(std::path::Path::new("t.yaml"), text).unwrap_or_else(|d| panic!("{d}"))
}

fn account() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}

fn both() -> Vec<String> {
    vec!["us-east-1".into(), "us-west-2".into()]
}

/// An inventory of `regions`, each with one VPC, where `roles` and `buckets` are as given.
fn inventory(
    regions: &[&str],
    buckets: BTreeMap<String, BucketLookup>,
    roles: BTreeMap<String, Option<RoleState>>,
) -> Inventory {
    Inventory {
        account: account(),
        regions: regions
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    RegionInventory {
                        resources: vec![NetworkResource::new(
                            format!("vpc-{r}"),
                            ResourceKind::Vpc,
                        )],
                        ..Default::default()
                    },
                )
            })
            .collect(),
        buckets,
        roles,
    }
}

fn plan_regions(d: &DesiredState, planned: &[&str], inv: &Inventory) -> Plan {
    let planned: Vec<String> = planned.iter().map(|r| r.to_string()).collect();
    plan(
        d,
        &PlanContext::single(&account()),
        &both(),
        &planned,
        inv,
        PlanOptions::default(),
    )
}

fn of_kind(p: &Plan, kind: ResourceType) -> Vec<&Change> {
    p.changes
        .iter()
        .filter(|c| c.resource_type == kind)
        .collect()
}

#[test]
fn regions_flag_narrowing_leaves_the_delivery_role_policy_for_every_region() {
    let d = desired(TWO_REGIONS);
    let whole = resolve(
        &d,
        &account(),
        &PlanContext::single(&account()),
        &both(),
        &both(),
    );
    let inv = inventory(&["us-east-1"], BTreeMap::new(), BTreeMap::new());
    let (trust, inline) = role_policies(&whole.roles["flowkeeper-delivery"], &inv);
    let role = RoleState {
        name: "flowkeeper-delivery".into(),
        arn: "arn:aws:iam::111122223333:role/flowkeeper-delivery".into(),
        trust_policy: Some(trust),
        inline_policy: Some(inline.clone()),
    };
    let inv = inventory(
        &["us-east-1"],
        [("shared-111122223333".to_string(), BucketLookup::Missing)].into(),
        [("flowkeeper-delivery".to_string(), Some(role))].into(),
    );
    for planned in [["us-east-1"], ["us-west-2"]] {
        let p = plan_regions(&d, &planned, &inv);
        assert!(
            of_kind(&p, ResourceType::IamRole).is_empty(),
            "--regions {planned:?} keeps the role as the whole config wants it: {:?}",
            p.changes
        );
    }
    let text = inline.to_string();
    assert!(text.contains(":us-east-1:") && text.contains(":us-west-2:"));
}

#[test]
fn a_region_that_could_not_be_read_does_not_shrink_the_role_policy() {
    let d = desired(TWO_REGIONS);
    // us-west-2 failed discovery: only us-east-1 is planned, the role is still for both.
    let inv = inventory(
        &["us-east-1"],
        [("shared-111122223333".to_string(), BucketLookup::Missing)].into(),
        [("flowkeeper-delivery".to_string(), None)].into(),
    );
    let p = plan_regions(&d, &["us-east-1"], &inv);
    let role = of_kind(&p, ResourceType::IamRole);
    let Operation::Role {
        inline_policy: Some((_, doc)),
        ..
    } = &role[0].operation
    else {
        panic!("a role change with an inline policy: {role:?}")
    };
    let text = doc.to_string();
    assert!(
        text.contains(":us-east-1:") && text.contains(":us-west-2:"),
        "{text}"
    );
}

#[test]
fn a_bucket_without_region_lives_in_the_first_configured_region_whatever_is_planned() {
    let d = desired(TWO_REGIONS);
    let inv = inventory(
        &["us-west-2"],
        [("shared-111122223333".to_string(), BucketLookup::Missing)].into(),
        [("flowkeeper-delivery".to_string(), None)].into(),
    );
    let p = plan_regions(&d, &["us-west-2"], &inv);
    let buckets = of_kind(&p, ResourceType::S3Bucket);
    assert_eq!(buckets.len(), 1, "{:?}", p.changes);
    assert_eq!(buckets[0].region.as_deref(), Some("us-east-1"));
    let flow_logs = of_kind(&p, ResourceType::FlowLog);
    assert!(
        flow_logs
            .iter()
            .all(|c| c.region.as_deref() == Some("us-west-2")),
        "flow logs stay narrowed"
    );
    assert!(
        flow_logs
            .iter()
            .any(|c| c.depends_on.contains(&buckets[0].key())),
        "flow logs into the shared bucket wait for it"
    );
}

#[test]
fn per_region_parts_outside_the_planned_regions_are_left_out() {
    let d = desired(&TWO_REGIONS.replace("shared-{account_id}", "logs-{account_id}-{region}"));
    let r = resolve(
        &d,
        &account(),
        &PlanContext::single(&account()),
        &both(),
        &["us-west-2".to_string()],
    );
    let buckets: Vec<&String> = r.buckets.keys().collect();
    assert_eq!(buckets, ["logs-111122223333-us-west-2"]);
    assert!(r.log_groups.keys().all(|(region, _)| region == "us-west-2"));
    assert_eq!(
        r.roles["flowkeeper-delivery"].log_groups.len(),
        2,
        "the role is account-wide"
    );
}

const CLASH: &str = r#"version: 1
regions: [us-east-1]
destinations:
  plain:
    type: s3
    bucket: logs-{account_id}
    create: true
  sealed:
    type: s3
    bucket: logs-111122223333
    create: true
    encryption: { kms_key: "arn:aws:kms:us-east-1:111122223333:key/k" }
  short:
    type: cloudwatch-logs
    log_group: /fk/{account_id}
    retention_days: 7
  long:
    type: cloudwatch-logs
    log_group: /fk/111122223333
    retention_days: 30
  fine:
    type: cloudwatch-logs
    log_group: /fk/fine
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [plain, sealed, short, long, fine]
"#;

#[test]
fn destinations_that_disagree_after_expansion_block_the_resource_and_its_flow_logs() {
    let d = desired(CLASH);
    let inv = Inventory {
        account: account(),
        regions: [(
            "us-east-1".to_string(),
            RegionInventory {
                resources: vec![NetworkResource::new("vpc-1", ResourceKind::Vpc)],
                ..Default::default()
            },
        )]
        .into(),
        buckets: [("logs-111122223333".to_string(), BucketLookup::Missing)].into(),
        roles: [("flowkeeper-delivery".to_string(), None)].into(),
    };
    let one = vec!["us-east-1".to_string()];
    let p = plan(
        &d,
        &PlanContext::single(&account()),
        &one,
        &one,
        &inv,
        PlanOptions::default(),
    );
    assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    let bucket = p
        .problems
        .iter()
        .find(|x| x.subject == "bucket logs-111122223333")
        .unwrap();
    assert!(
        bucket.message.contains("`plain` and `sealed`")
            && bucket.message.contains("`encryption`")
            && bucket.message.contains("kms_key arn:aws:kms"),
        "{bucket:?}"
    );
    let group = p
        .problems
        .iter()
        .find(|x| x.subject == "log group /fk/111122223333")
        .unwrap();
    assert!(group.message.contains("`retention_days`"), "{group:?}");
    assert!(of_kind(&p, ResourceType::S3Bucket).is_empty());
    let groups: Vec<&str> = of_kind(&p, ResourceType::LogGroup)
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(groups, ["/fk/fine"]);
    let targets: Vec<&str> = of_kind(&p, ResourceType::FlowLog)
        .iter()
        .filter_map(|c| c.target.as_deref())
        .collect();
    assert_eq!(targets, ["vpcs → fine"], "only the undisputed destination");
}

#[test]
fn lifecycle_rules_conflict_only_under_the_same_prefix() {
    let config = |second_prefix: &str| {
        format!(
            "version: 1\nregions: [us-east-1]\ndestinations:\n  a:\n    type: s3\n    bucket: b-{{account_id}}\n    lifecycle: {{ expire_days: 90 }}\n  b:\n    type: s3\n    bucket: b-{{account_id}}\n{second_prefix}    lifecycle: {{ expire_days: 30 }}\nflow_logs:\n  - {{ name: v, resource: vpc, select: all, destinations: [a, b] }}\n"
        )
    };
    let one = vec!["us-east-1".to_string()];
    let ctx = PlanContext::single(&account());
    let apart = resolve(
        &desired(&config("    prefix: apps\n")),
        &account(),
        &ctx,
        &one,
        &one,
    );
    assert!(apart.problems.is_empty(), "{:?}", apart.problems);
    assert_eq!(apart.buckets["b-111122223333"].lifecycle_rules.len(), 2);
    // The same prefix cannot be caught by `validate` when the names only meet after expansion.
    let together = resolve(
        &desired(&config("").replace(
            "  b:\n    type: s3\n    bucket: b-{account_id}",
            "  b:\n    type: s3\n    bucket: b-111122223333",
        )),
        &account(),
        &ctx,
        &one,
        &one,
    );
    assert_eq!(together.problems.len(), 1, "{:?}", together.problems);
    assert!(together.problems[0].message.contains("`lifecycle`"));
    assert!(
        together
            .blocked
            .contains(&Part::Bucket("b-111122223333".into()))
    );
}

/// AWS writes Hive-compatible deliveries to `AWSLogs/aws-account-id=<account>/`, and documents
/// that folder as the bucket policy's resource for them: a policy granting only
/// `AWSLogs/<account>/*` leaves the flow log ACTIVE with nothing delivered.
#[test]
fn hive_destinations_get_the_hive_account_folder_in_the_bucket_policy() {
    use crate::model::layout::{Layout, ObjectKeyInfo};
    use crate::policy_eval::{Principal, Request, evaluate};
    let config = r#"version: 1
regions: [us-east-1]
destinations:
  hive:
    type: s3
    bucket: logs-{account_id}
    prefix: vpc
    hive_compatible_partitions: true
    per_hour_partition: true
  plain:
    type: s3
    bucket: logs-{account_id}
    prefix: flat
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [hive, plain]
"#;
    let us = vec!["us-east-1".to_string()];
    let r = resolve(
        &desired(config),
        &account(),
        &PlanContext::single(&account()),
        &us,
        &us,
    );
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let bucket = &r.buckets["logs-111122223333"];
    assert_eq!(bucket.hive_prefixes, [Some("vpc".to_string())].into());
    let policy = bucket_policy_statements(bucket);
    let write = |layout: Layout, prefix: &str| {
        let key = ObjectKeyInfo {
            prefix: Some(prefix.into()),
            layout,
            account: "111122223333".into(),
            region: "us-east-1".into(),
            flow_log_id: "fl-0123456789abcdef0".into(),
            time: "2026-11-02T10:05:00Z".parse().unwrap(),
            hash: "fe123456".into(),
            parquet: false,
        }
        .key();
        Request::new(
            Principal::Service("delivery.logs.amazonaws.com".into()),
            "s3:PutObject",
            format!("arn:aws:s3:::logs-111122223333/{key}"),
        )
        .with("aws:SourceAccount", "111122223333")
        .with("aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:*")
        .with("s3:x-amz-acl", "bucket-owner-full-control")
        .with("aws:SecureTransport", "true")
    };
    let hive = evaluate(&policy, &write(Layout::HIVE_HOURLY, "vpc"));
    assert!(hive.is_allowed(), "{hive:?}");
    assert!(evaluate(&policy, &write(Layout::PLAIN, "flat")).is_allowed());
    // The plain destination's folder is not widened to Hive.
    assert!(!evaluate(&policy, &write(Layout::HIVE, "flat")).is_allowed());
}
