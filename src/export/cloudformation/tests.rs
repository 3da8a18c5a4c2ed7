//! Export tests on hand-built inventories: every resource decodes back to the very operation of
//! the greenfield plan ("export equals apply"), and whole exports are kept as golden files under
//! `tests/golden/export/cloudformation/` (`UPDATE_GOLDEN=1 cargo test` rewrites them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::export::greenfield;
use crate::model::*;
use crate::plan::{PlanContext, PlanOptions, resolve};

fn account(id: &str) -> AccountId {
    AccountId::parse(id).unwrap()
}

fn desired(text: &str) -> DesiredState {
    crate::config::parse(Path::new("t.yaml"), text).unwrap_or_else(|d| panic!("{d}"))
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

/// An account as discovery saw it: these resources per region, and, to prove greenfield
/// ignores them, an existing flow log and log group.
fn inventory(acct: &str, regions: &[(&str, Vec<NetworkResource>)]) -> Inventory {
    Inventory {
        account: account(acct),
        regions: regions
            .iter()
            .map(|(r, res)| {
                (
                    r.to_string(),
                    RegionInventory {
                        resources: res.clone(),
                        flow_logs: Vec::new(),
                        log_groups: BTreeMap::new(),
                    },
                )
            })
            .collect(),
        buckets: BTreeMap::new(),
        roles: BTreeMap::new(),
    }
}

/// The greenfield plan of `inv` under `d`, as the export command computes it.
fn greenfield_plan(
    d: &DesiredState,
    ctx: &PlanContext,
    regions: &[String],
    inv: &Inventory,
) -> Plan {
    let resolved = resolve(d, &inv.account, ctx, regions, regions);
    let g = greenfield(inv, &resolved);
    crate::plan::plan(d, ctx, regions, regions, &g, PlanOptions::default())
}

const FULL: &str = r#"version: 1
regions: [us-east-1, eu-west-1]
destinations:
  archive:
    type: s3
    bucket: logs-{account_id}-{region}
    prefix: vpc
    create: true
    encryption: { kms_key: "arn:aws:kms:us-east-1:111122223333:key/abcd" }
    lifecycle: { transition_days: 30, storage_class: STANDARD_IA, expire_days: 400 }
    file_format: parquet
    hive_compatible_partitions: true
    per_hour_partition: true
  plain:
    type: s3
    bucket: plain-{account_id}
    region: us-east-1
    create: true
  shared:
    type: s3
    bucket: someone-elses-bucket
  rt:
    type: cloudwatch-logs
    log_group: /fk/{region}/flows
    retention_days: 14
    kms_key: "arn:aws:kms:{region}:{account_id}:key/cw"
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    exclude: { ids: [vpc-0skip] }
    destinations: [archive, plain, shared]
    format: all
    max_aggregation_interval: 60
    tags: { owner: secops }
  - name: prod-subnets
    resource: subnet
    select: { tags: { env: prod } }
    traffic_type: REJECT
    destinations: [rt]
"#;

fn full_inventory() -> Inventory {
    inventory(
        "111122223333",
        &[
            (
                "us-east-1",
                vec![
                    resource("vpc-0a", &[]),
                    resource("vpc-0skip", &[]),
                    resource("subnet-0p", &[("env", "prod")]),
                    resource("subnet-0d", &[("env", "dev")]),
                ],
            ),
            ("eu-west-1", vec![resource("vpc-0e", &[("env", "prod")])]),
        ],
    )
}

fn regions2() -> Vec<String> {
    vec!["us-east-1".into(), "eu-west-1".into()]
}

// ---- decoding a rendered resource back into the operation it must come from ----

fn untag(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    let k = t["Key"].as_str().unwrap().to_string();
                    let v = t["Value"].as_str().unwrap();
                    assert!(
                        k != MANAGED_BY_KEY || v == resources::MANAGED_BY_CLOUDFORMATION,
                        "an exported resource must be managed by cloudformation: {t}"
                    );
                    let v = if k == MANAGED_BY_KEY {
                        MANAGED_BY_VALUE
                    } else {
                        v
                    };
                    (k, v.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn decode_bucket(owner: &AccountId, b: &Value, policy: Option<&Value>) -> Operation {
    let p = &b["Properties"];
    let mut steps = vec![BucketStep::Tags {
        tags: untag(&p["Tags"]),
    }];
    if p["PublicAccessBlockConfiguration"]
        .as_object()
        .is_some_and(|o| o.len() == 4 && o.values().all(|v| v == true))
    {
        steps.push(BucketStep::PublicAccessBlock);
    }
    if p["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced" {
        steps.push(BucketStep::OwnershipEnforced);
    }
    let enc = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    let by_default = &enc["ServerSideEncryptionByDefault"];
    steps.push(BucketStep::Encryption {
        encryption: match by_default["SSEAlgorithm"].as_str() {
            Some("AES256") => Encryption::SseS3,
            Some("aws:kms") => {
                assert_eq!(
                    enc["BucketKeyEnabled"], true,
                    "apply enables the bucket key"
                );
                Encryption::Kms {
                    kms_key: by_default["KMSMasterKeyID"].as_str().unwrap().into(),
                }
            }
            other => panic!("unexpected encryption {other:?}"),
        },
    });
    if let Some(rules) = p["LifecycleConfiguration"]["Rules"].as_array() {
        steps.push(BucketStep::Lifecycle {
            rules: rules
                .iter()
                .map(|r| LifecycleRule {
                    id: r["Id"].as_str().unwrap().into(),
                    prefix: r["Prefix"].as_str().unwrap().into(),
                    transition_days: r["Transitions"][0]["TransitionInDays"]
                        .as_u64()
                        .map(|d| d as u32),
                    storage_class: r["Transitions"][0]["StorageClass"]
                        .as_str()
                        .map(String::from),
                    expire_days: r["ExpirationInDays"].as_u64().map(|d| d as u32),
                })
                .collect(),
            remove: Vec::new(),
        });
    }
    if let Some(policy) = policy {
        steps.push(BucketStep::Policy {
            document: policy["Properties"]["PolicyDocument"].clone(),
        });
    }
    Operation::Bucket {
        create: true,
        owner: owner.clone(),
        steps,
    }
}

fn decode_flow_log(r: &Value) -> Operation {
    let p = &r["Properties"];
    let s = |k: &str| p[k].as_str().unwrap().to_string();
    let destination = match p["LogDestinationType"].as_str().unwrap() {
        "s3" => FlowLogDestination::S3 {
            arn: s("LogDestination"),
            options: S3Options {
                file_format: FileFormat::parse(
                    p["DestinationOptions"]["FileFormat"].as_str().unwrap(),
                )
                .unwrap(),
                hive_compatible_partitions: p["DestinationOptions"]["HiveCompatiblePartitions"]
                    .as_bool()
                    .unwrap(),
                per_hour_partition: p["DestinationOptions"]["PerHourPartition"]
                    .as_bool()
                    .unwrap(),
            },
        },
        "cloud-watch-logs" => FlowLogDestination::CloudwatchLogs {
            log_group: s("LogGroupName"),
            role_arn: s("DeliverLogsPermissionArn"),
            elsewhere: None,
        },
        other => panic!("unexpected destination type {other}"),
    };
    let tags = untag(&p["Tags"]);
    Operation::CreateFlowLog {
        spec: FlowLogSpec {
            resource_id: s("ResourceId"),
            resource_kind: [
                ResourceKind::Vpc,
                ResourceKind::Subnet,
                ResourceKind::NetworkInterface,
            ]
            .into_iter()
            .find(|k| k.api_name() == s("ResourceType"))
            .unwrap(),
            settings: FlowLogSettings {
                traffic_type: TrafficType::parse(&s("TrafficType")).unwrap(),
                destination,
                log_format: LogFormat::parse_aws(&s("LogFormat")).unwrap(),
                max_aggregation_interval: AggregationInterval::from_seconds(
                    p["MaxAggregationInterval"].as_u64().unwrap() as u32,
                )
                .unwrap(),
                unreadable: Default::default(),
            },
            entry: tags[ENTRY_TAG_KEY].clone(),
            destination_name: tags[DESTINATION_TAG_KEY].clone(),
            tags,
        },
    }
}

fn decode(owner: &AccountId, r: &Value, template: &Template) -> Operation {
    let p = &r["Properties"];
    match r["Type"].as_str().unwrap() {
        "AWS::S3::BucketPolicy" => {
            let bucket_id = p["Bucket"]["Ref"].as_str().unwrap();
            decode_bucket(owner, &template.resources[bucket_id], Some(r))
        }
        "AWS::Logs::LogGroup" => Operation::LogGroup {
            create: true,
            retention_days: p["RetentionInDays"].as_i64().map(|d| d as i32),
            kms_key: p["KmsKeyId"].as_str().map(String::from),
            tags: untag(&p["Tags"]),
        },
        "AWS::IAM::Role" => Operation::Role {
            create: true,
            trust_policy: Some(p["AssumeRolePolicyDocument"].clone()),
            inline_policy: Some((
                p["Policies"][0]["PolicyName"].as_str().unwrap().into(),
                p["Policies"][0]["PolicyDocument"].clone(),
            )),
            tags: untag(&p["Tags"]),
        },
        "AWS::EC2::FlowLog" => decode_flow_log(r),
        other => panic!("unexpected resource type {other}"),
    }
}

#[test]
fn export_equals_apply_every_resource_is_the_operation_of_its_change() {
    let inv = full_inventory();
    let ctx = PlanContext::single(&inv.account);
    let plan = greenfield_plan(&desired(FULL), &ctx, &regions2(), &inv);
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    let t = render(&plan);
    let mut seen = 0;
    for c in &plan.changes {
        let Some(p) = placement(c) else {
            // Only the create:false bucket has no resource: its statements go to a file.
            assert_eq!(c.id, "someone-elses-bucket", "{}", c.subject());
            continue;
        };
        let template = match &p.region {
            None => &t.global,
            Some(r) => &t.regional[r],
        };
        let r = template
            .resources
            .get(&p.logical_id)
            .unwrap_or_else(|| panic!("no resource for {}", c.subject()));
        assert_eq!(
            decode(&plan.account, r, template),
            c.operation,
            "{} is not what apply would do",
            c.subject()
        );
        seen += 1;
    }
    // Nothing beyond the plan: one resource per change, plus the bucket of each bucket policy.
    let buckets = plan
        .changes
        .iter()
        .filter(|c| matches!(c.operation, Operation::Bucket { create: true, .. }))
        .count();
    let total: usize = t.global.resources.len()
        + t.regional
            .values()
            .map(|t| t.resources.len())
            .sum::<usize>();
    assert_eq!(total, seen + buckets);
    // The plan really has every kind, so the loop above proves each.
    for kind in [
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::EC2::FlowLog",
    ] {
        assert!(
            t.regional
                .values()
                .any(|t| t.resources.values().any(|r| r["Type"] == kind)),
            "{kind}"
        );
    }
    assert!(
        t.global
            .resources
            .values()
            .any(|r| r["Type"] == "AWS::IAM::Role")
    );
    // vpc-0skip is excluded, subnet-0d not selected: discovery resolved the selections.
    let ids: Vec<&str> = t
        .regional
        .values()
        .flat_map(|t| t.resources.values())
        .filter_map(|r| r["Properties"]["ResourceId"].as_str())
        .collect();
    assert!(ids.contains(&"vpc-0a") && ids.contains(&"subnet-0p") && ids.contains(&"vpc-0e"));
    assert!(!ids.contains(&"vpc-0skip") && !ids.contains(&"subnet-0d"));
}

#[test]
fn a_bucket_the_config_does_not_create_gets_a_statements_file_and_no_resource() {
    let inv = full_inventory();
    let ctx = PlanContext::single(&inv.account);
    let plan = greenfield_plan(&desired(FULL), &ctx, &regions2(), &inv);
    let t = render(&plan);
    let doc = &t.bucket_statements["someone-elses-bucket"];
    let statements = doc["Statement"].as_array().unwrap();
    assert!(
        statements
            .iter()
            .all(|s| s["Sid"].as_str().unwrap().starts_with("Flowkeeper"))
    );
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("someone-elses-bucket") && n.contains("create: false"))
    );
    let named = |t: &Template| {
        t.resources.values().any(|r| {
            r["Properties"]["BucketName"] == "someone-elses-bucket"
                || r["Properties"]["Bucket"] == "someone-elses-bucket"
        })
    };
    assert!(!t.regional.values().any(named));
    // Flow logs into it are still exported.
    assert!(
        t.regional
            .values()
            .flat_map(|t| t.resources.values())
            .any(|r| { r["Properties"]["LogDestination"] == "arn:aws:s3:::someone-elses-bucket" })
    );
}

#[test]
fn flow_logs_depend_on_the_bucket_policy_and_log_group_of_their_stack() {
    let inv = full_inventory();
    let ctx = PlanContext::single(&inv.account);
    let t = render(&greenfield_plan(&desired(FULL), &ctx, &regions2(), &inv));
    let us = &t.regional["us-east-1"];
    for r in us
        .resources
        .values()
        .filter(|r| r["Type"] == "AWS::EC2::FlowLog")
    {
        let deps: Vec<&str> = r["DependsOn"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for d in &deps {
            assert!(
                us.resources.contains_key(*d),
                "DependsOn {d} is not in the stack"
            );
        }
        let dest = r["Properties"]["LogDestination"].as_str().unwrap_or("");
        if dest.contains("logs-111122223333-us-east-1") {
            assert!(deps.iter().any(|d| d.starts_with("BucketPolicy")), "{r}");
        }
        if r["Properties"]["LogGroupName"].is_string() {
            assert!(deps.iter().any(|d| d.starts_with("LogGroup")), "{r}");
        }
    }
}

// ---- golden exports ----

fn golden_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/export/cloudformation")
        .join(name)
}

fn check_golden(name: &str, files: &[Rendered]) {
    let dir = golden_dir(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        for f in files {
            let p = dir.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &f.text).unwrap();
        }
    }
    for f in files {
        let expected = std::fs::read_to_string(dir.join(&f.path)).unwrap_or_default();
        assert_eq!(
            f.text,
            expected,
            "{name}/{} changed; rerun with UPDATE_GOLDEN=1 if intended",
            f.path.display()
        );
    }
    let mut on_disk = Vec::new();
    collect(&dir, &dir, &mut on_disk);
    let mut want: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    want.sort();
    on_disk.sort();
    assert_eq!(
        on_disk, want,
        "{name}: golden files differ from the export's files"
    );
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

const SINGLE_S3: &str = r#"version: 1
regions: [us-east-1]
destinations:
  archive:
    type: s3
    bucket: flow-logs-{account_id}
    create: true
    lifecycle: { expire_days: 400 }
flow_logs:
  - { name: all-vpcs, resource: vpc, select: all, destinations: [archive] }
"#;

const CLOUDWATCH: &str = r#"version: 1
regions: [us-east-1, eu-west-1]
destinations:
  realtime:
    type: cloudwatch-logs
    log_group: /flowkeeper/vpc-flow-logs
    retention_days: 30
flow_logs:
  - name: prod
    resource: vpc
    select: { tags: { env: prod } }
    traffic_type: REJECT
    destinations: [realtime]
"#;

const CENTRAL: &str = r#"version: 1
accounts:
  - { id: "111111111111" }
  - { id: "222222222222", role_arn: "arn:aws:iam::222222222222:role/flowkeeper" }
regions: [us-east-1]
destinations:
  archive:
    type: s3
    account: "999999999999"
    bucket: org-flow-logs
    create: true
flow_logs:
  - { name: all-vpcs, resource: vpc, select: all, destinations: [archive] }
"#;

fn export(
    d: &DesiredState,
    ctx: &PlanContext,
    regions: &[String],
    invs: &[Inventory],
) -> Vec<Rendered> {
    let accounts: Vec<AccountTemplates> = invs
        .iter()
        .map(|inv| render(&greenfield_plan(d, ctx, regions, inv)))
        .collect();
    per_target_files(&accounts)
}

#[test]
fn golden_single_account_s3() {
    let inv = inventory(
        "111122223333",
        &[(
            "us-east-1",
            vec![resource("vpc-0a1", &[]), resource("vpc-0b2", &[])],
        )],
    );
    let ctx = PlanContext::single(&inv.account);
    let files = export(&desired(SINGLE_S3), &ctx, &["us-east-1".into()], &[inv]);
    check_golden("single-account-s3", &files);
}

#[test]
fn golden_cloudwatch() {
    let inv = inventory(
        "111122223333",
        &[
            (
                "us-east-1",
                vec![
                    resource("vpc-0a1", &[("env", "prod")]),
                    resource("vpc-0b2", &[]),
                ],
            ),
            ("eu-west-1", vec![resource("vpc-0e1", &[("env", "prod")])]),
        ],
    );
    let ctx = PlanContext::single(&inv.account);
    let files = export(&desired(CLOUDWATCH), &ctx, &regions2(), &[inv]);
    check_golden("cloudwatch", &files);
}

#[test]
fn golden_central_archive() {
    let d = desired(CENTRAL);
    let ctx = PlanContext {
        source_accounts: [account("111111111111"), account("222222222222")].into(),
        org_id: None,
    };
    let invs = [
        inventory(
            "111111111111",
            &[("us-east-1", vec![resource("vpc-0a1", &[])])],
        ),
        inventory(
            "222222222222",
            &[("us-east-1", vec![resource("vpc-0b1", &[])])],
        ),
        inventory("999999999999", &[("us-east-1", vec![])]),
    ];
    // The archive account is not among `accounts:`: it only hosts the bucket.
    let files: Vec<Rendered> = invs
        .iter()
        .flat_map(|inv| {
            let mut scoped = d.clone();
            if inv.account.as_str() == "999999999999" {
                scoped.flow_logs.clear(); // as targets::scope_for for an archive-only account
            }
            per_target_files(&[render(&greenfield_plan(
                &scoped,
                &ctx,
                &["us-east-1".into()],
                inv,
            ))])
        })
        .collect();
    // The bucket, with a policy for both source accounts, is only in the archive's stack.
    let archive = files
        .iter()
        .find(|f| f.path == Path::new("999999999999/us-east-1.yaml"))
        .expect("the archive account's template");
    assert!(
        archive.text.contains("AWSLogs/111111111111/")
            && archive.text.contains("AWSLogs/222222222222/")
    );
    assert!(
        !files
            .iter()
            .any(|f| f.path.starts_with("111111111111") && f.text.contains("AWS::S3::Bucket"))
    );
    check_golden("central-archive", &files);
}

// ---- StackSet-ready output ----

const PER_ACCOUNT: &str = r#"version: 1
regions: [us-east-1, eu-west-1]
destinations:
  archive:
    type: s3
    bucket: logs-{account_id}-{region}
    create: true
    lifecycle: { expire_days: 400 }
  realtime:
    type: cloudwatch-logs
    log_group: /flowkeeper/flows
    retention_days: 30
flow_logs:
  - { name: all-vpcs, resource: vpc, select: all, destinations: [archive] }
  - name: prod-subnets
    resource: subnet
    select: { tags: { env: prod } }
    destinations: [realtime]
"#;

fn three_accounts(extra_vpc_in_last: bool) -> Vec<AccountTemplates> {
    let d = desired(PER_ACCOUNT);
    ["111111111111", "222222222222", "333333333333"]
        .iter()
        .enumerate()
        .map(|(i, acct)| {
            let per_region = |r: usize| {
                let mut v = vec![
                    resource(&format!("vpc-0{i}{r}"), &[]),
                    resource(&format!("subnet-0{i}{r}"), &[("env", "prod")]),
                ];
                if extra_vpc_in_last && i == 2 && r == 1 {
                    v.push(resource("vpc-0extra", &[]));
                }
                v
            };
            let inv = inventory(
                acct,
                &[("us-east-1", per_region(0)), ("eu-west-1", per_region(1))],
            );
            let ctx = PlanContext::single(&inv.account);
            render(&greenfield_plan(&d, &ctx, &regions2(), &inv))
        })
        .collect()
}

#[test]
fn targets_that_differ_only_by_ids_share_one_stackset_template() {
    let accounts = three_accounts(false);
    let files = stackset_files(&accounts).expect("StackSet-ready");
    let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(paths[0], "stackset/regional.yaml");
    assert_eq!(paths[1], "stackset/global.yaml");
    assert_eq!(paths.len(), 2 + 6, "{paths:?}");
    let regional = &files[0].text;
    assert!(
        !regional.contains("111111111111") && !regional.contains("us-east-1"),
        "{regional}"
    );
    assert!(
        regional.contains("logs-${AWS::AccountId}-${AWS::Region}"),
        "{regional}"
    );
    // The log format keeps its ${field}s: it holds no ids, so it is no Fn::Sub.
    assert!(regional.contains("LogFormat: ${version}"), "{regional}");
    let p = files
        .iter()
        .find(|f| f.path == Path::new("stackset/parameters/222222222222-eu-west-1.json"))
        .unwrap();
    let params: Value = serde_json::from_str(&p.text).unwrap();
    let values: Vec<&str> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ParameterValue"].as_str().unwrap())
        .collect();
    assert_eq!(values, vec!["vpc-011", "subnet-011"], "{params}");
    check_golden("per-account-buckets", &files);
}

#[test]
fn targets_that_differ_in_more_than_ids_stay_per_target() {
    let why = stackset_files(&three_accounts(true)).unwrap_err();
    assert!(
        why.contains("333333333333/eu-west-1") && why.contains("more than ids"),
        "{why}"
    );
    // A central archive: the bucket is only in the archive account's template.
    let d = desired(CENTRAL);
    let ctx = PlanContext {
        source_accounts: [account("111111111111"), account("222222222222")].into(),
        org_id: None,
    };
    let accounts: Vec<AccountTemplates> = [
        inventory(
            "111111111111",
            &[("us-east-1", vec![resource("vpc-0a1", &[])])],
        ),
        inventory("999999999999", &[("us-east-1", vec![])]),
    ]
    .iter()
    .map(|inv| {
        let mut scoped = d.clone();
        if inv.account.as_str() == "999999999999" {
            scoped.flow_logs.clear();
        }
        render(&greenfield_plan(&scoped, &ctx, &["us-east-1".into()], inv))
    })
    .collect();
    assert!(stackset_files(&accounts).is_err());
    // One target needs no stack set.
    assert!(
        stackset_files(
            &three_accounts(false)[..1]
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    a.regional.remove("eu-west-1");
                    a
                })
                .collect::<Vec<_>>()
        )
        .is_err()
    );
}

#[test]
fn parameters_turn_tag_and_all_selections_into_foreach_over_a_list() {
    let inv = full_inventory();
    let ctx = PlanContext::single(&inv.account);
    let mut t = render(&greenfield_plan(&desired(FULL), &ctx, &regions2(), &inv));
    let selecting = ["vpcs".to_string(), "prod-subnets".to_string()].into();
    let us = t.regional.get_mut("us-east-1").unwrap();
    let before = us.clone();
    parameters::parameterize(us, &selecting);
    assert_eq!(us.transform.as_deref(), Some("AWS::LanguageExtensions"));
    assert_eq!(us.parameters["VpcsIds"]["Type"], "List<AWS::EC2::VPC::Id>");
    assert_eq!(us.parameters["VpcsIds"]["Default"], "vpc-0a");
    assert_eq!(
        us.parameters["ProdSubnetsIds"]["Type"],
        "List<AWS::EC2::Subnet::Id>"
    );
    assert!(
        !us.resources
            .values()
            .any(|r| r["Type"] == "AWS::EC2::FlowLog")
    );
    let each = &us.resources["Fn::ForEach::VpcsArchive"];
    assert_eq!(each[0], "Id");
    assert_eq!(each[1], serde_json::json!({"Ref": "VpcsIds"}));
    let body = &each[2]["FlowLogVpcsArchive&{Id}"];
    assert_eq!(
        body["Properties"]["ResourceId"],
        serde_json::json!({"Ref": "Id"})
    );
    // The loop body is the very flow log of the plan, but for its resource id.
    let original = before
        .resources
        .values()
        .find(|r| {
            r["Properties"]["ResourceId"] == "vpc-0a"
                && r["Properties"]["LogDestination"]
                    .as_str()
                    .is_some_and(|d| d.ends_with("/vpc"))
        })
        .unwrap();
    let mut expected = original.clone();
    expected["Properties"]["ResourceId"] = serde_json::json!({"Ref": "Id"});
    assert_eq!(body, &expected);
    // An entry that names ids stays literal.
    let mut plain = before.clone();
    parameters::parameterize(&mut plain, &Default::default());
    assert_eq!(plain, before);
    let files = per_target_files(&[AccountTemplates {
        regional: [("us-east-1".to_string(), us.clone())].into(),
        global: Template::default(),
        bucket_statements: Default::default(),
        notes: Vec::new(),
        account: t.account.clone(),
    }]);
    check_golden("parameters", &files);
}

/// Regression (review): 520 flow logs in one template were written without a word, and
/// CloudFormation refuses any template above 500 resources.
#[test]
fn templates_above_cloudformations_resource_limit_are_named() {
    use super::{AccountTemplates, MAX_RESOURCES, Template, over_resource_limit};
    let mut big = Template::new("big");
    for i in 0..=MAX_RESOURCES {
        big.resources
            .insert(format!("FlowLog{i}"), serde_json::json!({}));
    }
    let mut small = Template::new("small");
    small
        .resources
        .insert("FlowLog".into(), serde_json::json!({}));
    let account = AccountTemplates {
        account: crate::model::AccountId::parse("111122223333").unwrap(),
        global: small.clone(),
        regional: [
            ("us-east-1".to_string(), big),
            ("eu-west-1".to_string(), small),
        ]
        .into_iter()
        .collect(),
        bucket_statements: Default::default(),
        notes: Vec::new(),
    };
    assert_eq!(
        over_resource_limit(std::slice::from_ref(&account)),
        ["111122223333 us-east-1: 501 resources"]
    );
    let mut fits = account;
    fits.regional.remove("us-east-1");
    assert!(over_resource_limit(&[fits]).is_empty());
}
