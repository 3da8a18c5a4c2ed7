//! `flowkeeper verify` end to end against moto, which never delivers: `support::deliver`
//! writes what AWS would. Each case sets up with `flowkeeper apply`, breaks exactly one thing
//! with the SDK, and asserts the rung that fails, its detail and its fix, and exit 2; the
//! healthy cases exit 0 with every rung ok or not-applicable. One fresh account per test.

mod support;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support::deliver::{self, S3Object};
use support::verify::*;
use support::{Account, workdir};

// ---------------------------------------------------------------- healthy

/// Applies one destination per layout, delivers one object to each, and checks that every flow
/// log is delivering.
async fn healthy_s3_delivery_in(layouts: &[(&str, bool, bool)]) {
    let net = Net::new().await;
    let dir = workdir(&s3_layouts_config(&net.vpc, layouts));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fls = net.acct.flow_logs(REGION).await;
    assert_eq!(fls.len(), layouts.len(), "one flow log per layout");
    for fl in &fls {
        let o = S3Object::for_flow_log(fl, &net.acct.id, REGION, &net.eni, minutes_ago(3));
        deliver::deliver_s3(&net.acct, &o).await;
    }
    let (report, _) = verify(&net.acct, dir.path(), &[], 0);
    assert_eq!(report["summary"]["delivering"], layouts.len(), "{report:#}");
    for fl in &fls {
        let item = flow_log(&report, fl.flow_log_id().unwrap());
        assert_delivering(item);
        assert!(item["newest_delivery"].is_string(), "{item:#}");
        let lag = item["lag_seconds"].as_i64().expect("lag");
        assert!(
            (120..=600).contains(&lag),
            "lag = Last-Modified - name time: {item:#}"
        );
    }
}

#[tokio::test]
async fn healthy_s3_delivery_in_plain_layouts_is_delivering() {
    healthy_s3_delivery_in(&PLAIN_LAYOUTS).await;
}

/// AWS VPC User Guide, "Amazon S3 bucket permissions for flow logs": with Hive-compatible
/// prefixes the delivery statement's resource is `.../AWSLogs/aws-account-id=<account>/*`.
#[tokio::test]
async fn healthy_s3_delivery_in_hive_layouts_is_delivering() {
    healthy_s3_delivery_in(&HIVE_LAYOUTS).await;
}

#[tokio::test]
async fn healthy_cloudwatch_delivery_is_delivering() {
    let net = Net::new().await;
    let dir = workdir(&cloudwatch_config(&net.vpc));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    let fields = deliver::format_fields(fl.log_format().unwrap());
    deliver::deliver_cloudwatch(
        &net.acct,
        REGION,
        LOG_GROUP,
        &net.eni,
        &fields,
        minutes_ago(2),
    )
    .await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 0);
    assert_delivering(flow_log(&report, fl.flow_log_id().unwrap()));
}

#[tokio::test]
async fn kms_bucket_whose_key_policy_admits_the_service_is_delivering() {
    let net = Net::new().await;
    let key = kms_key(&net.acct, true).await;
    let dir = workdir(&s3_config(
        &net.vpc,
        &format!("encryption: {{ kms_key: {key} }}"),
    ));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 0);
    assert_delivering(flow_log(&report, &fl));
}

#[tokio::test]
async fn vpc_without_interfaces_is_waiting() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc(REGION, 1, &[]).await;
    let dir = workdir(&s3_config(&vpc, ""));
    apply(&acct, dir.path());
    let fl = only_flow_log(&acct).await;
    // Even once the first delivery window has passed: nothing to log is not a failure.
    deliver::backdate_flow_log(&acct.id, REGION, fl.flow_log_id().unwrap(), minutes_ago(60));
    let (report, _) = verify(&acct, dir.path(), &[], 0);
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_eq!(item["status"], "waiting", "{item:#}");
    assert_eq!(report["summary"]["waiting"], 1);
    assert_no_rung_failed(item);
    let evidence = rung(item, "evidence");
    assert_words(evidence, "detail", &["interface"]);
}

// ---------------------------------------------------------------- S3 bucket policy

#[tokio::test]
async fn bucket_policy_without_slash_star_fails_permissions() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let bucket = bucket_name(&net.acct);
    let needed = format!("arn:aws:s3:::{bucket}/vpc/AWSLogs/{}/*", net.acct.id);
    edit_statement(&net.acct, &bucket, WRITE_SID, |st| {
        st["Resource"] = json!(needed.trim_end_matches("/*"));
    })
    .await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &fl);
    assert_eq!(item["status"], "failing", "{item:#}");
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    assert_words(
        p,
        "detail",
        &["delivery.logs.amazonaws.com", "s3:PutObject"],
    );
    assert_words(p, "fix", &[&needed]);

    // The fix works: apply rewrites flowkeeper's statement, and verify passes.
    apply(&net.acct, dir.path());
    let (report, _) = verify(&net.acct, dir.path(), &[], 0);
    assert_delivering(flow_log(&report, &fl));
}

#[tokio::test]
async fn bucket_policy_for_another_account_prefix_fails_permissions() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let bucket = bucket_name(&net.acct);
    let other = format!("arn:aws:s3:::{bucket}/vpc/AWSLogs/{OTHER_ACCOUNT}/*");
    edit_statement(&net.acct, &bucket, WRITE_SID, |st| {
        st["Resource"] = json!(other);
    })
    .await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &fl);
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    assert_words(
        p,
        "detail",
        &["s3:PutObject", &format!("AWSLogs/{}/", net.acct.id)],
    );
    assert_words(
        p,
        "fix",
        &[&format!(
            "arn:aws:s3:::{bucket}/vpc/AWSLogs/{}/*",
            net.acct.id
        )],
    );
}

#[tokio::test]
async fn source_account_that_excludes_the_account_fails_permissions() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let bucket = bucket_name(&net.acct);
    edit_statement(&net.acct, &bucket, WRITE_SID, |st| {
        st["Condition"]["StringEquals"]["aws:SourceAccount"] = json!(OTHER_ACCOUNT);
    })
    .await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &fl);
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    assert_words(p, "detail", &["aws:SourceAccount", OTHER_ACCOUNT]);
    assert_words(p, "fix", &["aws:SourceAccount", &net.acct.id]);
}

#[tokio::test]
async fn explicit_deny_for_the_service_fails_permissions() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let bucket = bucket_name(&net.acct);
    let mut policy = net.acct.bucket_policy(REGION, &bucket).await;
    policy["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "NoLogDeliveryHere",
        "Effect": "Deny",
        "Principal": { "Service": "delivery.logs.amazonaws.com" },
        "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*"),
    }));
    put_bucket_policy(&net.acct, &bucket, &policy).await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &fl);
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    assert_words(
        p,
        "detail",
        &["NoLogDeliveryHere", "denies", "s3:PutObject"],
    );
    assert_words(p, "fix", &["NoLogDeliveryHere", "remove"]);
    // `apply` merges only flowkeeper's own statements and leaves `NoLogDeliveryHere` where it
    // is, so the fix must not send the reader to `apply` for it...
    apply(&net.acct, dir.path());
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    assert_only_failed(flow_log(&report, &fl), &["permissions"]);
    // ...and so must not offer it as the fix.
    let fix = p["fix"].as_str().unwrap();
    assert!(
        !fix.contains("run `flowkeeper apply`"),
        "apply does not remove a statement flowkeeper did not write: {fix}"
    );
}

#[tokio::test]
async fn kms_bucket_whose_key_policy_lacks_the_service_fails_permissions() {
    let net = Net::new().await;
    let key = kms_key(&net.acct, false).await;
    let dir = workdir(&s3_config(
        &net.vpc,
        &format!("encryption: {{ kms_key: {key} }}"),
    ));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = deliver_to_only_flow_log(&net, minutes_ago(3)).await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &fl);
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    let key_id = key.rsplit('/').next().unwrap();
    assert_words(p, "detail", &[key_id, "kms:GenerateDataKey"]);
    assert_words(
        p,
        "fix",
        &["delivery.logs.amazonaws.com", "kms:GenerateDataKey"],
    );
}

// ---------------------------------------------------------------- CloudWatch Logs

#[tokio::test]
async fn delivery_role_trusted_by_the_wrong_service_fails_permissions() {
    let net = Net::new().await;
    let dir = workdir(&cloudwatch_config(&net.vpc));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    let fields = deliver::format_fields(fl.log_format().unwrap());
    deliver::deliver_cloudwatch(
        &net.acct,
        REGION,
        LOG_GROUP,
        &net.eni,
        &fields,
        minutes_ago(2),
    )
    .await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "FlowkeeperVpcFlowLogsAssumeRole",
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole",
        }],
    });
    net.acct
        .iam()
        .update_assume_role_policy()
        .role_name(DELIVERY_ROLE)
        .policy_document(trust.to_string())
        .send()
        .await
        .expect("update trust policy");
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_only_failed(item, &["permissions"]);
    let p = rung(item, "permissions");
    assert_words(p, "detail", &[DELIVERY_ROLE, "vpc-flow-logs.amazonaws.com"]);
    assert_words(
        p,
        "fix",
        &[
            "vpc-flow-logs.amazonaws.com",
            "sts:AssumeRole",
            "flowkeeper apply",
        ],
    );

    // The fix works: apply rewrites flowkeeper's trust statement, and verify passes.
    apply(&net.acct, dir.path());
    let (report, _) = verify(&net.acct, dir.path(), &[], 0);
    assert_delivering(flow_log(&report, fl.flow_log_id().unwrap()));
}

#[tokio::test]
async fn missing_log_group_fails_destination() {
    let net = Net::new().await;
    let dir = workdir(&cloudwatch_config(&net.vpc));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    net.acct
        .logs(REGION)
        .delete_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .expect("delete log group");
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_eq!(item["status"], "failing", "{item:#}");
    let d = rung(item, "destination");
    assert_eq!(d["result"], "failed", "{item:#}");
    assert_words(d, "detail", &[LOG_GROUP]);
    assert_words(d, "fix", &["flowkeeper apply"]);
}

#[tokio::test]
async fn flow_log_to_a_missing_log_group_fails_status_as_moto_reports_it() {
    // moto answers a CloudWatch flow log whose group does not exist with DeliverLogsStatus
    // FAILED, "Access error" (as AWS does when the role cannot create the group).
    let net = Net::new().await;
    let role = format!("arn:aws:iam::{}:role/someone-elses", net.acct.id);
    net.acct
        .ec2(REGION)
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&net.vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_group_name("/nobody/made/this")
        .deliver_logs_permission_arn(&role)
        .send()
        .await
        .expect("create flow log");
    let fl = only_flow_log(&net.acct).await;
    assert_eq!(
        fl.deliver_logs_status(),
        Some("FAILED"),
        "moto's answer: {fl:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = verify(&net.acct, dir.path(), &["--all", "--regions", REGION], 2);
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_eq!(item["status"], "failing", "{item:#}");
    let s = rung(item, "status");
    assert_eq!(s["result"], "failed", "{item:#}");
    assert_words(s, "detail", &["FAILED", "Access error"]);
    assert!(s["fix"].is_string(), "{item:#}");
    assert_eq!(rung(item, "destination")["result"], "failed", "{item:#}");
}

// ---------------------------------------------------------------- evidence, shape, freshness

#[tokio::test]
async fn objects_older_than_the_threshold_are_stale() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    let id = fl.flow_log_id().unwrap().to_string();
    // Created three hours ago, delivered once two hours ago, nothing since.
    deliver::backdate_flow_log(&net.acct.id, REGION, &id, minutes_ago(180));
    let o = S3Object::for_flow_log(&fl, &net.acct.id, REGION, &net.eni, minutes_ago(120));
    let key = deliver::deliver_s3(&net.acct, &o).await;
    deliver::backdate_object(&o.bucket, &key, minutes_ago(118));
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, &id);
    assert_eq!(item["status"], "stale", "{item:#}");
    assert_eq!(report["summary"]["stale"], 1);
    assert_only_failed(item, &["freshness"]);
    assert_eq!(rung(item, "evidence")["result"], "ok", "{item:#}");
    let f = rung(item, "freshness");
    assert!(
        f["detail"].as_str().unwrap().contains("15m")
            || f["detail"].as_str().unwrap().contains("15 min"),
        "names the threshold: {item:#}"
    );
    assert!(f["fix"].is_string(), "{item:#}");
    let lag = item["lag_seconds"].as_i64().expect("lag");
    assert!((60..=180).contains(&lag), "{item:#}");

    // A wider threshold accepts the same delivery.
    let (report, _) = verify(&net.acct, dir.path(), &["--max-age", "3h"], 0);
    assert_delivering(flow_log(&report, &id));
}

#[tokio::test]
async fn header_that_does_not_match_the_format_fails_shape() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    let o = S3Object::for_flow_log(&fl, &net.acct.id, REGION, &net.eni, minutes_ago(3));
    // The default fields, but the flow log declares `format: all`.
    let header = deliver::format_fields(deliver::DEFAULT_FORMAT).join(" ");
    assert_ne!(header, o.fields.join(" "), "the test's premise");
    deliver::deliver_s3_with_header(&net.acct, &o, &header).await;
    let (report, _) = verify(&net.acct, dir.path(), &[], 2);
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_only_failed(item, &["shape"]);
    let s = rung(item, "shape");
    assert_words(s, "detail", &["vpc-id"]);
    assert!(s["fix"].is_string(), "{item:#}");
}

fn minutes_ago(m: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_mins(m)
}

/// Delivers one object of the account's only flow log, created at `time`; returns its id.
async fn deliver_to_only_flow_log(net: &Net, time: Timestamp) -> String {
    let fl = only_flow_log(&net.acct).await;
    let o = S3Object::for_flow_log(&fl, &net.acct.id, REGION, &net.eni, time);
    deliver::deliver_s3(&net.acct, &o).await;
    fl.flow_log_id().unwrap().to_string()
}

/// Rewrites one statement (by Sid) of the bucket's policy with the SDK.
async fn edit_statement(acct: &Account, bucket: &str, sid: &str, edit: impl FnOnce(&mut Value)) {
    let mut policy = acct.bucket_policy(REGION, bucket).await;
    let st = policy["Statement"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("statement {sid}"));
    edit(st);
    put_bucket_policy(acct, bucket, &policy).await;
}

// ---------------------------------------------------------------- permissions verify needs

/// The IAM action that authorizes an API operation, where the names differ (as in
/// tests/operator_policy.rs).
fn iam_action(op: &str) -> &str {
    match op {
        "s3:HeadBucket" | "s3:ListObjectsV2" => "s3:ListBucket",
        "s3:ListBuckets" => "s3:ListAllMyBuckets",
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "s3:GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration",
        other => other,
    }
}

/// `service:Operation` lines of `-v`'s call counts, lower-cased service as IAM spells it.
fn calls_made(stderr: &str) -> Vec<String> {
    let block = stderr
        .split("AWS API calls:")
        .nth(1)
        .unwrap_or_else(|| panic!("-v prints the calls: {stderr}"));
    block
        .lines()
        .skip(1)
        .map_while(|l| l.strip_prefix("  "))
        .filter_map(|l| l.rsplit_once(':').map(|(op, _)| op.trim().to_string()))
        .map(|op| {
            let (service, name) = op.split_once(':').unwrap_or(("", &op));
            let service = match service.to_lowercase().replace(' ', "").as_str() {
                "cloudwatchlogs" | "logs" => "logs".to_string(),
                other => other.to_string(),
            };
            format!("{service}:{name}")
        })
        .collect()
}

#[tokio::test]
async fn every_call_verify_makes_is_granted_by_its_policy() {
    let net = Net::new().await;
    let key = kms_key(&net.acct, true).await;
    let config = s3_config(&net.vpc, &format!("encryption: {{ kms_key: {key} }}")).replace(
        "flow_logs:\n",
        &format!(
            "  realtime:\n    type: cloudwatch-logs\n    log_group: {LOG_GROUP}\n    delivery_role: {DELIVERY_ROLE}\nflow_logs:\n  - name: realtime\n    resource: vpc\n    select: {{ ids: [{}] }}\n    destinations: [realtime]\n",
            net.vpc
        ),
    );
    let dir = workdir(&config);
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    for fl in net.acct.flow_logs(REGION).await {
        let fields = deliver::format_fields(fl.log_format().unwrap());
        if fl.log_destination_type() == Some(&aws_sdk_ec2::types::LogDestinationType::S3) {
            let o = S3Object::for_flow_log(&fl, &net.acct.id, REGION, &net.eni, minutes_ago(3));
            deliver::deliver_s3(&net.acct, &o).await;
        } else {
            deliver::deliver_cloudwatch(
                &net.acct,
                REGION,
                LOG_GROUP,
                &net.eni,
                &fields,
                minutes_ago(2),
            )
            .await;
        }
    }
    let (report, stderr) = verify(&net.acct, dir.path(), &["-v"], 0);
    assert_eq!(report["summary"]["delivering"], 2, "{report:#}");
    let calls = calls_made(&stderr);
    for needed in [
        "kms:GetKeyPolicy",
        "iam:GetRole",
        "s3:GetBucketPolicy",
        "s3:GetObject",
    ] {
        assert!(
            calls.iter().any(|c| c == needed),
            "verify calls {needed}: {calls:?}"
        );
    }
    let root =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let text = std::fs::read_to_string(format!("{root}/policies/flowkeeper-verify.json")).unwrap();
    let policy: Value = serde_json::from_str(&text).unwrap();
    let granted: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        })
        .collect();
    let missing: Vec<&String> = calls
        .iter()
        .filter(|c| !granted.iter().any(|g| g == iam_action(c)))
        .collect();
    assert!(
        missing.is_empty(),
        "policies/flowkeeper-verify.json lacks {missing:?} (calls: {calls:?})"
    );
}

// ---------------------------------------------------------------- the helper itself

#[tokio::test]
async fn the_delivery_helper_writes_what_aws_would() {
    use std::io::Read;
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    created_minutes_ago(&net.acct, 30).await;
    let fl = only_flow_log(&net.acct).await;
    let o = S3Object::for_flow_log(&fl, &net.acct.id, REGION, &net.eni, minutes_ago(3));
    assert_eq!(o.bucket, bucket_name(&net.acct));
    assert_eq!(o.prefix.as_deref(), Some("vpc"));
    let key = deliver::deliver_s3(&net.acct, &o).await;
    assert!(
        key.starts_with(&format!(
            "vpc/AWSLogs/{}/vpcflowlogs/{REGION}/",
            net.acct.id
        )),
        "{key}"
    );
    let s3 = net.acct.s3(REGION);
    let got = s3
        .get_object()
        .bucket(&o.bucket)
        .key(&key)
        .send()
        .await
        .expect("get");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..2], b"\x1f\x8b", "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    // `format: all`: the header is the flow log's LogFormat, field for field.
    assert_eq!(
        header,
        deliver::format_fields(fl.log_format().unwrap()).join(" ")
    );
    assert!(header.starts_with("version account-id interface-id") && header.contains("vpc-id"));
    let records: Vec<&str> = lines.collect();
    assert!(records.len() >= 5, "{text}");
    let width = header.split(' ').count();
    for r in &records {
        let v: Vec<&str> = r.split(' ').collect();
        assert_eq!(v.len(), width, "one value per field: {r}");
        assert_eq!(
            (v[1], v[2]),
            (net.acct.id.as_str(), net.eni.as_str()),
            "{r}"
        );
    }
    // The launcher's hook moves Last-Modified, as a delivery two hours ago would have it.
    let then = minutes_ago(120);
    deliver::backdate_object(&o.bucket, &key, then);
    let head = s3
        .head_object()
        .bucket(&o.bucket)
        .key(&key)
        .send()
        .await
        .expect("head");
    let lm = head.last_modified().unwrap().secs();
    assert!((lm - then.as_second()).abs() <= 1, "{lm} vs {then}");
    deliver::backdate_flow_log(&net.acct.id, REGION, fl.flow_log_id().unwrap(), then);
    let fl = only_flow_log(&net.acct).await;
    let created = fl.creation_time().unwrap().secs();
    assert!(
        (created - then.as_second()).abs() <= 1,
        "{created} vs {then}"
    );
}
