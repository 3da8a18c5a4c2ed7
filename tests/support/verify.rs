//! Set-ups and assertions for `flowkeeper verify`'s emulator tests: a VPC with a network
//! interface, configs for each destination kind, running verify for its JSON report, and
//! asserting a rung's result, detail and fix.

use std::path::Path;

use serde_json::{Value, json};

use super::{Account, expect_exit};

pub const REGION: &str = "us-east-1";
pub const LOG_GROUP: &str = "/fk/verify";
pub const DELIVERY_ROLE: &str = "fk-verify-delivery";
/// flowkeeper's delivery statement in bucket policies (`policies/s3-bucket-policy.json`).
pub const WRITE_SID: &str = "FlowkeeperLogDeliveryWrite";
/// An account that is not the one under test.
pub const OTHER_ACCOUNT: &str = "999988887777";

/// A fresh account with a VPC, a subnet and one network interface in it.
pub struct Net {
    pub acct: Account,
    pub vpc: String,
    pub subnet: String,
    pub eni: String,
}

impl Net {
    pub async fn new() -> Net {
        let acct = Account::new().await;
        let (vpc, subnet) = acct.seed_vpc(REGION, 1, &[]).await;
        let eni = acct.seed_interface(REGION, &subnet).await;
        Net {
            acct,
            vpc,
            subnet,
            eni,
        }
    }
}

/// The bucket [`s3_config`] creates.
pub fn bucket_name(acct: &Account) -> String {
    format!("fk-verify-{}", acct.id)
}

/// One S3 destination (created by apply, folder `vpc`, `extra` added to it) and one entry
/// logging `vpc` there with every field.
pub fn s3_config(vpc: &str, extra: &str) -> String {
    format!(
        r#"version: 1
regions: [{REGION}]
destinations:
  archive:
    type: s3
    bucket: fk-verify-{{account_id}}
    prefix: vpc
    create: true
    {extra}
flow_logs:
  - name: vpcs
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [archive]
    format: all
    max_aggregation_interval: 60
"#
    )
}

/// The four S3 layouts: (destination name, Hive-compatible, per hour).
pub const PLAIN_LAYOUTS: [(&str, bool, bool); 2] =
    [("plain", false, false), ("plainhourly", false, true)];
pub const HIVE_LAYOUTS: [(&str, bool, bool); 2] =
    [("hive", true, false), ("hivehourly", true, true)];

/// One S3 destination per layout, each in its own bucket, and one entry logging `vpc` to all.
pub fn s3_layouts_config(vpc: &str, layouts: &[(&str, bool, bool)]) -> String {
    let mut dests = String::new();
    for &(name, hive, hourly) in layouts {
        dests.push_str(&format!(
            "  {name}:\n    type: s3\n    bucket: fk-{name}-{{account_id}}\n    create: true\n    hive_compatible_partitions: {hive}\n    per_hour_partition: {hourly}\n"
        ));
    }
    let names: Vec<&str> = layouts.iter().map(|l| l.0).collect();
    let names = names.join(", ");
    format!(
        r#"version: 1
regions: [{REGION}]
destinations:
{dests}flow_logs:
  - name: vpcs
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [{names}]
    max_aggregation_interval: 60
"#
    )
}

/// One CloudWatch Logs destination (group [`LOG_GROUP`], role [`DELIVERY_ROLE`]) for `vpc`.
pub fn cloudwatch_config(vpc: &str) -> String {
    format!(
        r#"version: 1
regions: [{REGION}]
destinations:
  realtime:
    type: cloudwatch-logs
    log_group: {LOG_GROUP}
    delivery_role: {DELIVERY_ROLE}
flow_logs:
  - name: vpcs
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [realtime]
    max_aggregation_interval: 60
"#
    )
}

pub fn apply(acct: &Account, dir: &Path) {
    expect_exit(&acct.run(dir, &["apply", "--yes"]), 0);
}

/// Runs `flowkeeper verify --format json ARGS`, expects `code`, returns the report and stderr.
pub fn verify(acct: &Account, dir: &Path, args: &[&str], code: i32) -> (Value, String) {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let (out, err) = expect_exit(&acct.run(dir, &all), code);
    let report: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("verify prints JSON ({e}):\n{out}\n--- stderr\n{err}"));
    assert_eq!(report["schema_version"], 1, "{report:#}");
    (report, err)
}

/// The account's only flow log in [`REGION`].
pub async fn only_flow_log(acct: &Account) -> aws_sdk_ec2::types::FlowLog {
    let mut fls = acct.flow_logs(REGION).await;
    assert_eq!(fls.len(), 1, "one flow log: {fls:?}");
    fls.remove(0)
}

/// The report's item for flow log `id`.
pub fn flow_log<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["flow_logs"]
        .as_array()
        .expect("flow_logs")
        .iter()
        .find(|f| f["flow_log_id"] == id)
        .unwrap_or_else(|| panic!("{id} in the report: {report:#}"))
}

/// The rung `name` of a flow log's ladder.
pub fn rung<'a>(item: &'a Value, name: &str) -> &'a Value {
    item["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("rung {name}: {item:#}"))
}

/// Names of the rungs that failed.
pub fn failed_rungs(item: &Value) -> Vec<String> {
    item["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["result"] == "failed")
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Exactly these rungs failed, each with a detail and a fix.
pub fn assert_only_failed(item: &Value, names: &[&str]) {
    assert_eq!(failed_rungs(item), names, "failed rungs: {item:#}");
    for n in names {
        let r = rung(item, n);
        assert!(
            r["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{item:#}"
        );
        assert!(r["fix"].as_str().is_some_and(|f| !f.is_empty()), "{item:#}");
    }
}

pub fn assert_no_rung_failed(item: &Value) {
    assert!(failed_rungs(item).is_empty(), "{item:#}");
}

/// Status `delivering`, the six rungs in order, each ok or not-applicable.
pub fn assert_delivering(item: &Value) {
    assert_eq!(item["status"], "delivering", "{item:#}");
    let names: Vec<&str> = item["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "status",
            "destination",
            "permissions",
            "evidence",
            "shape",
            "freshness"
        ],
        "{item:#}"
    );
    for c in item["checks"].as_array().unwrap() {
        assert!(
            c["result"] == "ok" || c["result"] == "not-applicable",
            "{item:#}"
        );
    }
}

/// `field` (detail or fix) of a rung contains every word (case-insensitively).
pub fn assert_words(rung: &Value, field: &str, words: &[&str]) {
    let text = rung[field].as_str().unwrap_or_default().to_lowercase();
    for w in words {
        assert!(
            text.contains(&w.to_lowercase()),
            "{field} of rung {} names {w:?}: {rung:#}",
            rung["name"]
        );
    }
}

pub async fn put_bucket_policy(acct: &Account, bucket: &str, policy: &Value) {
    acct.s3(REGION)
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("put bucket policy");
}

/// A KMS key whose policy lets the account administer it and, when `admit_delivery`, lets
/// `delivery.logs.amazonaws.com` use it for this account's deliveries (AWS VPC User Guide,
/// "Amazon S3 bucket permissions for flow logs": SSE-KMS). Returns its ARN.
pub async fn kms_key(acct: &Account, admit_delivery: bool) -> String {
    let mut statements = vec![json!({
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{}:root", acct.id) },
        "Action": "kms:*",
        "Resource": "*",
    })];
    if admit_delivery {
        statements.push(json!({
            "Sid": "AllowVpcFlowLogsDelivery",
            "Effect": "Allow",
            "Principal": { "Service": "delivery.logs.amazonaws.com" },
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": { "aws:SourceAccount": acct.id },
                "ArnLike": { "aws:SourceArn": format!("arn:aws:logs:{REGION}:{}:*", acct.id) },
            },
        }));
    }
    let policy = json!({ "Version": "2012-10-17", "Statement": statements });
    acct.kms(REGION)
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .expect("create key")
        .key_metadata
        .and_then(|k| k.arn)
        .expect("key arn")
}

/// Moves the creation of every flow log in [`REGION`] `minutes` back (a launcher test hook),
/// so that deliveries dated after it are this flow log's and its first window has passed.
pub async fn created_minutes_ago(acct: &Account, minutes: i64) {
    let then = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes);
    for fl in acct.flow_logs(REGION).await {
        super::deliver::backdate_flow_log(&acct.id, REGION, fl.flow_log_id().unwrap(), then);
    }
}
