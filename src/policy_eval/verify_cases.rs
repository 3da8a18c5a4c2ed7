//! The cases `verify` relies on, built from the shipped `policies/` documents rendered the way
//! apply renders them, and keys from `model::layout`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::model::layout::{self, Layout, ObjectKeyInfo};
use crate::model::{AccountId, Encryption};
use crate::plan::{WantedBucket, bucket_policy_statements};
use crate::policies::{self, Param};

const ACCT: &str = "111122223333";
const OTHER: &str = "999988887777";
const BUCKET: &str = "acme-flow-logs";
const DELIVERY: &str = "delivery.logs.amazonaws.com";
const FLOW_LOGS: &str = "vpc-flow-logs.amazonaws.com";

/// `policies/s3-bucket-policy.json` as apply renders it for one account (and no prefix).
fn bucket_policy(object_arns: &[String], source_account: &str) -> Value {
    policies::render(
        policies::S3_BUCKET_POLICY,
        &[
            ("Partition", Param::Text("aws".into())),
            ("Bucket", Param::Text(BUCKET.into())),
            ("LogObjectArns", Param::List(object_arns.to_vec())),
            ("SourceAccounts", Param::List(vec![source_account.into()])),
            (
                "SourceArns",
                Param::List(vec![format!("arn:aws:logs:*:{source_account}:*")]),
            ),
        ],
    )
}

fn folder_arn(layout: Layout, account: &str) -> String {
    format!(
        "arn:aws:s3:::{BUCKET}/{}",
        layout::account_folder(layout.hive, None, account)
    )
}

fn shipped() -> Value {
    bucket_policy(&[format!("{}*", folder_arn(Layout::PLAIN, ACCT))], ACCT)
}

/// The ARN of an object the delivery service writes for ACCT in a layout.
fn object_arn(layout: Layout) -> String {
    let key = ObjectKeyInfo {
        prefix: None,
        layout,
        account: ACCT.into(),
        region: "us-east-1".into(),
        flow_log_id: "fl-0123456789abcdef0".into(),
        time: "2026-11-02T10:05:00Z".parse::<Timestamp>().unwrap(),
        hash: "fe123456".into(),
        parquet: false,
    }
    .key();
    format!("arn:aws:s3:::{BUCKET}/{key}")
}

/// The delivery service writing an object for ACCT, over TLS, as AWS sends it.
fn put_object(resource: &str) -> Request {
    Request::new(
        Principal::Service(DELIVERY.into()),
        "s3:PutObject",
        resource,
    )
    .with("aws:SourceAccount", ACCT)
    .with("aws:SourceArn", format!("arn:aws:logs:us-east-1:{ACCT}:*"))
    .with("s3:x-amz-acl", "bucket-owner-full-control")
    .with("aws:SecureTransport", "true")
}

fn get_bucket_acl() -> Request {
    Request::new(
        Principal::Service(DELIVERY.into()),
        "s3:GetBucketAcl",
        format!("arn:aws:s3:::{BUCKET}"),
    )
    .with("aws:SourceAccount", ACCT)
    .with("aws:SourceArn", format!("arn:aws:logs:us-east-1:{ACCT}:*"))
    .with("aws:SecureTransport", "true")
}

#[test]
fn the_shipped_bucket_policy_admits_the_account() {
    let p = shipped();
    let d = evaluate(&p, &put_object(&object_arn(Layout::PLAIN)));
    assert_eq!(d.effect, Effect::Allowed, "{d:?}");
    assert_eq!(
        d.statement.unwrap().sid.as_deref(),
        Some("FlowkeeperLogDeliveryWrite")
    );
    assert!(d.warnings.is_empty());
    let d = evaluate(&p, &get_bucket_acl());
    assert_eq!(
        d.statement.unwrap().sid.as_deref(),
        Some("FlowkeeperLogDeliveryAclCheck")
    );
    assert!(evaluate(&p, &put_object(&object_arn(Layout::PLAIN_HOURLY))).is_allowed());
}

#[test]
fn the_planners_bucket_policy_admits_each_source_account() {
    let account = |a: &str| AccountId::parse(a).unwrap();
    let wanted = WantedBucket {
        name: BUCKET.into(),
        region: "us-east-1".into(),
        create: true,
        encryption: Encryption::SseS3,
        lifecycle_rules: Vec::new(),
        prefixes: BTreeSet::from([None]),
        hive_prefixes: BTreeSet::new(),
        destinations: BTreeSet::from(["archive".to_string()]),
        sources: BTreeSet::from([account(ACCT), account(OTHER)]),
        org_id: None,
        owner: account(ACCT),
    };
    let p = bucket_policy_statements(&wanted);
    assert!(evaluate(&p, &put_object(&object_arn(Layout::PLAIN))).is_allowed());
    assert!(evaluate(&p, &get_bucket_acl()).is_allowed());
    // OTHER's deliveries are admitted to OTHER's folder.
    let as_other = |r: Request| {
        let mut r = r;
        r.context
            .insert("aws:SourceAccount".into(), vec![OTHER.into()]);
        r
    };
    let other_key = object_arn(Layout::PLAIN).replace(ACCT, OTHER);
    assert!(evaluate(&p, &as_other(put_object(&other_key))).is_allowed());
    // A third account is not.
    let third = object_arn(Layout::PLAIN).replace(ACCT, "444455556666");
    let mut r = put_object(&third);
    r.context
        .insert("aws:SourceAccount".into(), vec!["444455556666".into()]);
    assert!(!evaluate(&p, &r).is_allowed());
}

#[test]
fn a_bucket_policy_without_the_trailing_wildcard_does_not_admit() {
    let folder = folder_arn(Layout::PLAIN, ACCT);
    let p = bucket_policy(&[folder.trim_end_matches('/').to_string()], ACCT);
    let d = evaluate(&p, &put_object(&object_arn(Layout::PLAIN)));
    assert_eq!(d.effect, Effect::ImplicitDeny);
    let miss = d
        .misses
        .iter()
        .find(|m| m.statement.sid.as_deref() == Some("FlowkeeperLogDeliveryWrite"))
        .unwrap();
    assert!(miss.reason.contains("does not cover"), "{miss:?}");
}

#[test]
fn a_bucket_policy_for_another_accounts_prefix_does_not_admit() {
    let p = bucket_policy(&[format!("{}*", folder_arn(Layout::PLAIN, OTHER))], ACCT);
    assert_eq!(
        evaluate(&p, &put_object(&object_arn(Layout::PLAIN))).effect,
        Effect::ImplicitDeny
    );
}

#[test]
fn a_source_account_condition_naming_another_account_does_not_admit() {
    let p = bucket_policy(&[format!("{}*", folder_arn(Layout::PLAIN, ACCT))], OTHER);
    let d = evaluate(&p, &put_object(&object_arn(Layout::PLAIN)));
    assert_eq!(d.effect, Effect::ImplicitDeny);
    assert!(
        d.misses
            .iter()
            .any(|m| m.reason.contains("aws:SourceAccount") && m.reason.contains(OTHER)),
        "{:?}",
        d.misses
    );
    assert!(!evaluate(&p, &get_bucket_acl()).is_allowed());
}

#[test]
fn the_tls_deny_spares_tls_writes_but_a_deny_for_the_service_blocks() {
    let p = shipped();
    // Over TLS the shipped Deny does not apply; without TLS it does.
    assert!(evaluate(&p, &put_object(&object_arn(Layout::PLAIN))).is_allowed());
    let mut plain_http = put_object(&object_arn(Layout::PLAIN));
    plain_http
        .context
        .insert("aws:SecureTransport".into(), vec!["false".into()]);
    let d = evaluate(&p, &plain_http);
    assert_eq!(d.effect, Effect::ExplicitDeny);
    assert_eq!(
        d.statement.unwrap().sid.as_deref(),
        Some("FlowkeeperDenyInsecureTransport")
    );
    // A context without the key: `Bool` on an absent key is false, the Deny does not apply.
    let mut unknown_transport = put_object(&object_arn(Layout::PLAIN));
    unknown_transport.context.remove("aws:SecureTransport");
    assert!(evaluate(&p, &unknown_transport).is_allowed());

    let mut blocked = shipped();
    blocked["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "NoLogDelivery",
        "Effect": "Deny",
        "Principal": {"Service": DELIVERY},
        "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/*")
    }));
    let d = evaluate(&blocked, &put_object(&object_arn(Layout::PLAIN)));
    assert_eq!(d.effect, Effect::ExplicitDeny);
    assert_eq!(d.statement.unwrap().to_string(), "`NoLogDelivery`");
    // The Deny is for writes only: the ACL check still passes.
    assert!(evaluate(&blocked, &get_bucket_acl()).is_allowed());
}

#[test]
fn hive_keys_need_the_hive_account_folder() {
    // AWS documents `AWSLogs/aws-account-id=<account>/*` for Hive-compatible prefixes.
    let hive_key = object_arn(Layout::HIVE);
    assert!(!evaluate(&shipped(), &put_object(&hive_key)).is_allowed());
    let hive = bucket_policy(&[format!("{}*", folder_arn(Layout::HIVE, ACCT))], ACCT);
    assert!(evaluate(&hive, &put_object(&hive_key)).is_allowed());
    assert!(evaluate(&hive, &put_object(&object_arn(Layout::HIVE_HOURLY))).is_allowed());
    assert!(!evaluate(&hive, &put_object(&object_arn(Layout::PLAIN))).is_allowed());
}

#[test]
fn the_organization_bucket_policy_admits_members_only() {
    let p = policies::render(
        policies::S3_BUCKET_POLICY_ORG,
        &[
            ("Partition", Param::Text("aws".into())),
            ("Bucket", Param::Text(BUCKET.into())),
            (
                "LogObjectArns",
                Param::List(vec![format!("arn:aws:s3:::{BUCKET}/AWSLogs/*")]),
            ),
            ("OrgId", Param::Text("o-abc123".into())),
        ],
    );
    let member = put_object(&object_arn(Layout::PLAIN)).with("aws:SourceOrgID", "o-abc123");
    assert!(evaluate(&p, &member).is_allowed());
    let stranger = put_object(&object_arn(Layout::PLAIN)).with("aws:SourceOrgID", "o-zzz999");
    assert!(!evaluate(&p, &stranger).is_allowed());
    // Without the key in the request the condition is false.
    assert!(!evaluate(&p, &put_object(&object_arn(Layout::PLAIN))).is_allowed());
}

/// A key policy as AWS documents it for log delivery: the account's root, and (optionally) the
/// delivery service for this account.
fn key_policy(with_service: bool) -> Value {
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCT}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })];
    if with_service {
        statements.push(json!({
            "Sid": "AllowLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": [DELIVERY]},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": [ACCT]},
                "ArnLike": {"aws:SourceArn": [format!("arn:aws:logs:us-east-1:{ACCT}:*")]}
            }
        }));
    }
    json!({"Version": "2012-10-17", "Id": "key-policy", "Statement": statements})
}

fn generate_data_key(principal: Principal) -> Request {
    Request::new(
        principal,
        "kms:GenerateDataKey",
        format!("arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    )
    .with("aws:SourceAccount", ACCT)
    .with("aws:SourceArn", format!("arn:aws:logs:us-east-1:{ACCT}:*"))
}

#[test]
fn a_key_policy_must_name_the_delivery_service() {
    let service = || Principal::Service(DELIVERY.into());
    let d = evaluate(&key_policy(false), &generate_data_key(service()));
    assert_eq!(d.effect, Effect::ImplicitDeny);
    assert!(d.misses[0].reason.contains("does not name service"));
    // The account's own principals are admitted all the same: the root statement is no proof.
    assert!(
        evaluate(
            &key_policy(false),
            &generate_data_key(Principal::Account(ACCT.into()))
        )
        .is_allowed()
    );
    let d = evaluate(&key_policy(true), &generate_data_key(service()));
    assert_eq!(
        d.statement.unwrap().sid.as_deref(),
        Some("AllowLogDelivery")
    );
    let mut other = generate_data_key(service());
    other
        .context
        .insert("aws:SourceAccount".into(), vec![OTHER.into()]);
    assert!(!evaluate(&key_policy(true), &other).is_allowed());
}

#[test]
fn a_log_group_key_must_admit_the_regional_logs_service() {
    let group = format!("arn:aws:logs:eu-west-1:{ACCT}:log-group:/flowkeeper/vpc");
    let p = json!({"Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group}}
    }]});
    let ask = |service: &str, group: &str| {
        Request::new(
            Principal::Service(service.into()),
            "kms:GenerateDataKey",
            "*",
        )
        .with("kms:EncryptionContext:aws:logs:arn", group)
    };
    assert!(evaluate(&p, &ask("logs.eu-west-1.amazonaws.com", &group)).is_allowed());
    assert!(!evaluate(&p, &ask("logs.us-east-1.amazonaws.com", &group)).is_allowed());
    assert!(
        !evaluate(
            &p,
            &ask("logs.eu-west-1.amazonaws.com", &format!("{group}-2"))
        )
        .is_allowed()
    );
}

fn trust(account: &str) -> Value {
    policies::render(
        policies::DELIVERY_TRUST_POLICY,
        &[
            ("AccountId", Param::Text(account.into())),
            ("Partition", Param::Text("aws".into())),
        ],
    )
}

fn assume(service: &str) -> Request {
    Request::new(
        Principal::Service(service.into()),
        "sts:AssumeRole",
        format!("arn:aws:iam::{ACCT}:role/flowkeeper-delivery"),
    )
    .with("aws:SourceAccount", ACCT)
    .with(
        "aws:SourceArn",
        format!("arn:aws:ec2:us-east-1:{ACCT}:vpc-flow-log/fl-0123456789abcdef0"),
    )
}

#[test]
fn the_delivery_trust_policy_admits_vpc_flow_logs_only() {
    let d = evaluate(&trust(ACCT), &assume(FLOW_LOGS));
    assert_eq!(d.effect, Effect::Allowed);
    assert_eq!(
        d.statement.unwrap().sid.as_deref(),
        Some("FlowkeeperVpcFlowLogsAssumeRole")
    );
    assert!(!evaluate(&trust(ACCT), &assume("ec2.amazonaws.com")).is_allowed());
    assert!(!evaluate(&trust(OTHER), &assume(FLOW_LOGS)).is_allowed());
    let ec2_trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]});
    let d = evaluate(&ec2_trust, &assume(FLOW_LOGS));
    assert_eq!(d.effect, Effect::ImplicitDeny);
    assert!(d.misses[0].reason.contains(FLOW_LOGS));
}

#[test]
fn the_delivery_role_may_write_its_log_group_only() {
    let p = policies::render(
        policies::DELIVERY_PERMISSIONS,
        &[
            (
                "LogGroupArns",
                Param::List(vec![format!(
                    "arn:aws:logs:us-east-1:{ACCT}:log-group:/fk/vpc:*"
                )]),
            ),
            (
                "LogGroupRegionArns",
                Param::List(vec![format!("arn:aws:logs:us-east-1:{ACCT}:log-group:*")]),
            ),
        ],
    );
    let role = || Principal::Arn(format!("arn:aws:iam::{ACCT}:role/flowkeeper-delivery"));
    let ask = |action: &str, resource: String| Request::new(role(), action, resource);
    let stream = |group: &str| {
        format!("arn:aws:logs:us-east-1:{ACCT}:log-group:{group}:log-stream:eni-0abc")
    };
    for action in [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    ] {
        assert!(
            evaluate(&p, &ask(action, stream("/fk/vpc"))).is_allowed(),
            "{action}"
        );
        assert!(
            !evaluate(&p, &ask(action, stream("/other"))).is_allowed(),
            "{action}"
        );
    }
    let groups = format!("arn:aws:logs:us-east-1:{ACCT}:log-group:*");
    assert!(evaluate(&p, &ask("logs:DescribeLogGroups", groups.clone())).is_allowed());
    assert!(
        !evaluate(
            &p,
            &ask(
                "logs:DescribeLogGroups",
                groups.replace("us-east-1", "eu-west-1")
            )
        )
        .is_allowed()
    );
    assert!(!evaluate(&p, &ask("logs:DeleteLogGroup", stream("/fk/vpc"))).is_allowed());
}
