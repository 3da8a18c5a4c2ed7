//! Planner unit tests on hand-built inventories; the human rendering of one plan is kept as a
//! golden file (`UPDATE_GOLDEN=1 cargo test` rewrites it after an intended change).

use std::collections::BTreeMap;

use super::*;
use crate::model::*;

const CONFIG: &str = r#"version: 1
regions: [us-east-1]
destinations:
  archive:
    type: s3
    bucket: logs-{account_id}
    prefix: vpc
    create: true
    lifecycle: { expire_days: 90 }
  rt:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 14
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    exclude: { ids: [vpc-0skip] }
    destinations: [archive]
    format: all
  - name: prod-subnets
    resource: subnet
    select: { tags: { env: prod } }
    destinations: [rt]
"#;

fn desired(text: &str) -> DesiredState {
    crate::config::parse(std::path::Path::new("t.yaml"), text).unwrap_or_else(|d| panic!("{d}"))
}

fn account() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}

fn resource(id: &str, tags: &[(&str, &str)]) -> NetworkResource {
    NetworkResource {
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..NetworkResource::new(id, ResourceKind::of_id(id).unwrap())
    }
}

fn empty_inventory(resources: Vec<NetworkResource>) -> Inventory {
    Inventory {
        account: account(),
        regions: [(
            "us-east-1".to_string(),
            RegionInventory {
                resources,
                ..Default::default()
            },
        )]
        .into(),
        buckets: [("logs-111122223333".to_string(), BucketLookup::Missing)].into(),
        roles: [("flowkeeper-delivery".to_string(), None)].into(),
    }
}

/// Plans for the test account alone.
fn plan_one(d: &DesiredState, inv: &Inventory, opts: PlanOptions) -> Plan {
    plan(
        d,
        &PlanContext::single(&account()),
        &regions(),
        &regions(),
        inv,
        opts,
    )
}

fn regions() -> Vec<String> {
    vec!["us-east-1".into()]
}

fn s3_settings(format: LogFormat) -> FlowLogSettings {
    FlowLogSettings {
        traffic_type: TrafficType::All,
        destination: FlowLogDestination::S3 {
            arn: "arn:aws:s3:::logs-111122223333/vpc".into(),
            options: S3Options::default(),
        },
        log_format: format,
        max_aggregation_interval: crate::model::AggregationInterval::TenMinutes,
        unreadable: Default::default(),
    }
}

fn managed_tags(entry: &str, dest: &str) -> BTreeMap<String, String> {
    [
        (MANAGED_BY_KEY.to_string(), MANAGED_BY_VALUE.to_string()),
        (ENTRY_TAG_KEY.to_string(), entry.to_string()),
        (DESTINATION_TAG_KEY.to_string(), dest.to_string()),
    ]
    .into()
}

fn flow_log(
    id: &str,
    resource: &str,
    settings: FlowLogSettings,
    tags: BTreeMap<String, String>,
) -> ExistingFlowLog {
    ExistingFlowLog {
        id: id.into(),
        resource_id: resource.into(),
        settings,
        tags,
        created: None,
        health: crate::model::FlowLogHealth {
            status: Some("ACTIVE".into()),
            deliver_status: Some("SUCCESS".into()),
            deliver_error: None,
        },
    }
}

#[test]
fn a_fresh_account_gets_every_destination_and_flow_log_and_the_text_matches_the_golden_file() {
    let inv = empty_inventory(vec![
        resource("vpc-0b", &[]),
        resource("vpc-0a", &[]),
        resource("vpc-0skip", &[]),
        resource("subnet-0p", &[("env", "prod")]),
        resource("subnet-0d", &[("env", "dev")]),
    ]);
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(
        p.summary(),
        Summary {
            create: 6,
            update: 0,
            replace: 0,
            delete: 0
        }
    );
    let flow_log_targets: Vec<&str> = p
        .changes
        .iter()
        .filter(|c| c.resource_type == ResourceType::FlowLog)
        .map(|c| c.resource.as_deref().unwrap())
        .collect();
    assert_eq!(
        flow_log_targets,
        ["subnet-0p", "vpc-0a", "vpc-0b"],
        "selected, excluded and sorted"
    );
    let creates_flow_log = p
        .changes
        .iter()
        .find(|c| c.resource.as_deref() == Some("subnet-0p"))
        .unwrap();
    assert_eq!(
        creates_flow_log.depends_on.len(),
        2,
        "the log group and the role come first"
    );

    let text = crate::report::plan_text::render(&p);
    let golden = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/golden/plan_fresh_account.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(
        text, expected,
        "human plan output changed; rerun with UPDATE_GOLDEN=1 if intended"
    );
}

#[test]
fn planning_is_deterministic_whatever_the_discovery_order() {
    let mut a = empty_inventory(vec![
        resource("vpc-0b", &[]),
        resource("vpc-0a", &[]),
        resource("subnet-0p", &[("env", "prod")]),
    ]);
    let p1 = plan_one(&desired(CONFIG), &a, PlanOptions::default());
    a.regions.get_mut("us-east-1").unwrap().resources.reverse();
    let p2 = plan_one(&desired(CONFIG), &a, PlanOptions::default());
    assert_eq!(p1, p2);
}

#[test]
fn a_changed_setting_is_a_replace_naming_the_attribute() {
    let mut inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs = vec![flow_log(
        "fl-old",
        "vpc-0a",
        s3_settings(LogFormat::default_v2()),
        managed_tags("vpcs", "archive"),
    )];
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    let r = p
        .changes
        .iter()
        .find(|c| c.action == Action::Replace)
        .expect("a replace");
    assert_eq!(r.id, "fl-old");
    assert_eq!(
        r.attributes,
        vec![AttributeDiff::new(
            "log_format",
            Some("default".into()),
            Some("all".into())
        )]
    );
    let Operation::ReplaceFlowLog {
        old_id,
        spec,
        delete_first: false,
    } = &r.operation
    else {
        panic!()
    };
    assert_eq!(old_id, "fl-old");
    assert_eq!(spec.settings.log_format, LogFormat::all_fields());
}

#[test]
fn matching_flow_logs_are_kept_and_missing_tags_are_added() {
    let config = CONFIG.replace(
        "    format: all\n",
        "    format: all\n    tags: { owner: secops }\n",
    );
    let mut inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs = vec![flow_log(
        "fl-1",
        "vpc-0a",
        s3_settings(LogFormat::all_fields()),
        managed_tags("vpcs", "archive"),
    )];
    let p = plan_one(&desired(&config), &inv, PlanOptions::default());
    let flow_log_changes: Vec<&Change> = p
        .changes
        .iter()
        .filter(|c| c.resource_type == ResourceType::FlowLog)
        .collect();
    assert_eq!(flow_log_changes.len(), 1, "{flow_log_changes:?}");
    assert_eq!(flow_log_changes[0].action, Action::Update);
    let Operation::TagFlowLog { id, tags } = &flow_log_changes[0].operation else {
        panic!()
    };
    assert_eq!(id, "fl-1");
    assert_eq!(
        tags,
        &BTreeMap::from([("owner".to_string(), "secops".to_string())])
    );
}

#[test]
fn an_unmanaged_flow_log_with_the_same_settings_covers_the_resource() {
    let mut inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs = vec![flow_log(
        "fl-theirs",
        "vpc-0a",
        s3_settings(LogFormat::all_fields()),
        BTreeMap::new(),
    )];
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    assert!(
        !p.changes
            .iter()
            .any(|c| c.resource.as_deref() == Some("vpc-0a"))
    );
    assert_eq!(p.covered.len(), 1);
    assert_eq!(p.covered[0].flow_log_id, "fl-theirs");
}

#[test]
fn unwanted_managed_flow_logs_are_deleted_only_with_prune_and_foreign_ones_never() {
    let mut inv = empty_inventory(vec![resource("vpc-0skip", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs = vec![
        flow_log(
            "fl-ours",
            "vpc-0skip",
            s3_settings(LogFormat::all_fields()),
            managed_tags("vpcs", "archive"),
        ),
        flow_log(
            "fl-theirs",
            "vpc-0skip",
            s3_settings(LogFormat::default_v2()),
            BTreeMap::new(),
        ),
    ];
    let kept = plan_one(
        &desired(CONFIG),
        &inv,
        PlanOptions {
            prune: false,
            ..Default::default()
        },
    );
    assert!(!kept.changes.iter().any(|c| c.action == Action::Delete));
    assert_eq!(
        kept.prunable,
        [Prunable {
            region: "us-east-1".into(),
            flow_log_id: "fl-ours".into(),
            resource: "vpc-0skip".into()
        }]
    );
    let pruned = plan_one(
        &desired(CONFIG),
        &inv,
        PlanOptions {
            prune: true,
            ..Default::default()
        },
    );
    let deletes: Vec<&str> = pruned
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(deletes, ["fl-ours"]);
}

#[test]
fn a_missing_bucket_that_must_exist_is_a_problem_and_blocks_only_its_flow_logs() {
    let config = CONFIG.replace("create: true", "create: false");
    let inv = empty_inventory(vec![
        resource("vpc-0a", &[]),
        resource("subnet-0p", &[("env", "prod")]),
    ]);
    let p = plan_one(&desired(&config), &inv, PlanOptions::default());
    assert_eq!(p.problems.len(), 1);
    assert!(p.problems[0].message.contains("does not exist"));
    assert!(
        !p.changes
            .iter()
            .any(|c| c.resource.as_deref() == Some("vpc-0a"))
    );
    assert!(
        p.changes
            .iter()
            .any(|c| c.resource.as_deref() == Some("subnet-0p")),
        "CloudWatch flow logs still go ahead"
    );
}

#[test]
fn ids_found_in_no_account_of_the_run_are_reported() {
    let config = CONFIG.replace(
        "select: all",
        "select: { ids: [vpc-0a, vpc-0gone, vpc-0b] }",
    );
    let here = plan_one(
        &desired(&config),
        &empty_inventory(vec![resource("vpc-0a", &[])]),
        PlanOptions::default(),
    );
    let there = plan_one(
        &desired(&config),
        &empty_inventory(vec![resource("vpc-0b", &[])]),
        PlanOptions::default(),
    );
    assert!(
        here.problems.is_empty() && there.problems.is_empty(),
        "one account cannot tell"
    );
    let missing = missing_selected_ids(&[&here, &there]);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].message.contains("vpc-0gone was not found"),
        "{missing:?}"
    );
}

#[test]
fn existing_foreign_bucket_settings_are_merged_not_replaced() {
    let mut inv = empty_inventory(vec![]);
    let foreign = serde_json::json!({"Sid": "Theirs", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs-111122223333/*"});
    inv.buckets.insert(
        "logs-111122223333".into(),
        BucketLookup::Exists(BucketState {
            name: "logs-111122223333".into(),
            region: "us-east-1".into(),
            policy: Some(
                serde_json::json!({"Version": "2012-10-17", "Statement": [foreign.clone()]}),
            ),
            public_access_block: Some(PublicAccessBlock::ALL_ON),
            object_ownership: Some("BucketOwnerEnforced".into()),
            encryption: Some(Encryption::SseS3),
            lifecycle_rules: vec![LifecycleRule {
                id: "theirs".into(),
                prefix: "x/".into(),
                transition_days: None,
                storage_class: None,
                expire_days: Some(1),
            }],
        }),
    );
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    let b = p
        .changes
        .iter()
        .find(|c| c.resource_type == ResourceType::S3Bucket)
        .unwrap();
    assert_eq!(b.action, Action::Update);
    let Operation::Bucket {
        create: false,
        owner,
        steps,
    } = &b.operation
    else {
        panic!()
    };
    assert_eq!(
        owner,
        &account(),
        "every call on the bucket names its owner"
    );
    let policy = steps
        .iter()
        .find_map(|s| match s {
            BucketStep::Policy { document } => Some(document),
            _ => None,
        })
        .unwrap();
    assert_eq!(policy["Statement"][0], foreign);
    let lifecycle = steps
        .iter()
        .find_map(|s| match s {
            BucketStep::Lifecycle { rules, remove } => Some((rules, remove)),
            _ => None,
        })
        .unwrap();
    assert_eq!(lifecycle.0.len(), 1);
    assert!(
        lifecycle.1.is_empty(),
        "a foreign lifecycle rule is never removed"
    );
}

#[test]
fn a_central_bucket_policy_over_the_s3_limit_is_a_problem_with_a_hint() {
    let config = CONFIG.replace(
        "    bucket: logs-{account_id}\n",
        "    account: \"111122223333\"\n    bucket: logs-{account_id}\n",
    );
    let inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    let few = PlanContext {
        source_accounts: (0..10u64)
            .map(|i| AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap())
            .collect(),
        org_id: None,
    };
    let p = plan(
        &desired(&config),
        &few,
        &regions(),
        &regions(),
        &inv,
        PlanOptions::default(),
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let many = PlanContext {
        source_accounts: (0..400u64)
            .map(|i| AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap())
            .collect(),
        org_id: None,
    };
    let p = plan(
        &desired(&config),
        &many,
        &regions(),
        &regions(),
        &inv,
        PlanOptions::default(),
    );
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(
        p.problems[0].message.contains("over S3's limit"),
        "{:?}",
        p.problems
    );
    assert!(
        p.problems[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("organization")
    );
    let org = PlanContext {
        source_accounts: many.source_accounts.clone(),
        org_id: Some("o-abc123".into()),
    };
    let p = plan(
        &desired(&config),
        &org,
        &regions(),
        &regions(),
        &inv,
        PlanOptions::default(),
    );
    assert!(
        p.problems.is_empty(),
        "one aws:SourceOrgID condition fits: {:?}",
        p.problems
    );
}

/// An empty `prefix` is no prefix (as in the destination ARN): the bucket policy grants
/// `b/AWSLogs/<account>/*`, not `b//AWSLogs/...`, which no delivery would match.
#[test]
fn bucket_policy_with_an_empty_prefix_grants_the_root_folder() {
    let account = AccountId::parse("111122223333").unwrap();
    let wanted = WantedBucket {
        name: "b".into(),
        region: "us-east-1".into(),
        create: true,
        encryption: Encryption::SseS3,
        lifecycle_rules: Vec::new(),
        prefixes: [Some(String::new()), Some("vpc".into())].into(),
        hive_prefixes: Default::default(),
        destinations: ["archive".to_string()].into(),
        sources: [account.clone()].into(),
        org_id: None,
        owner: account,
    };
    let p = bucket_policy_statements(&wanted);
    assert_eq!(
        p["Statement"][1]["Resource"],
        serde_json::json!([
            "arn:aws:s3:::b/AWSLogs/111122223333/*",
            "arn:aws:s3:::b/vpc/AWSLogs/111122223333/*"
        ])
    );
    let org = WantedBucket {
        org_id: Some("o-abc123".into()),
        ..wanted
    };
    assert_eq!(
        bucket_policy_statements(&org)["Statement"][1]["Resource"],
        serde_json::json!(["arn:aws:s3:::b/AWSLogs/*", "arn:aws:s3:::b/vpc/AWSLogs/*"])
    );
}

#[test]
fn regression_a_managed_flow_log_with_an_unknown_traffic_type_is_replaced_not_kept() {
    let mut settings = s3_settings(LogFormat::all_fields());
    settings.unreadable.traffic_type = Some("EVERYTHING".into());
    let mut inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs = vec![flow_log(
        "fl-odd",
        "vpc-0a",
        settings.clone(),
        managed_tags("vpcs", "archive"),
    )];
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    let r = p
        .changes
        .iter()
        .find(|c| c.action == Action::Replace)
        .expect("a replace");
    assert_eq!(r.id, "fl-odd");
    assert!(
        r.attributes.iter().any(|a| a.name == "unreadable"),
        "{:?}",
        r.attributes
    );
    // Not managed: it does not cover the VPC, so a flow log is created.
    let mut inv = empty_inventory(vec![resource("vpc-0a", &[])]);
    inv.regions.get_mut("us-east-1").unwrap().flow_logs =
        vec![flow_log("fl-odd", "vpc-0a", settings, BTreeMap::new())];
    let p = plan_one(&desired(CONFIG), &inv, PlanOptions::default());
    assert!(
        p.changes
            .iter()
            .any(|c| c.action == Action::Create && c.resource.as_deref() == Some("vpc-0a")),
        "{:?}",
        p.changes
    );
}
