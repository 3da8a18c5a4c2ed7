//! verify end to end against moto, the core cases only (vt's tests/emulator_verify.rs covers
//! every broken case): a healthy S3 destination after apply and a simulated delivery, the
//! same before any delivery (waiting), and one broken bucket policy.

mod support;

use std::io::Write;

use serde_json::Value;
use std::time::Duration;

use support::running::Running;
use support::{Account, expect_exit, workdir};

fn config() -> String {
    r#"version: 1
regions: [us-east-1]
destinations:
  archive:
    type: s3
    bucket: fk-verify-{account_id}
    prefix: vpc
    create: true
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    destinations: [archive]
    format: default
"#
    .to_string()
}

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

async fn with_interface(acct: &Account) -> String {
    let (vpc, subnet) = acct.seed_vpc("us-east-1", 1, &[]).await;
    acct.ec2("us-east-1")
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    vpc
}

/// Writes one object as AWS would (plain layout, today's folder, now in its name).
async fn deliver(acct: &Account, bucket: &str, fl: &str) {
    let now = jiff::Timestamp::now();
    let t = jiff::tz::Offset::UTC.to_datetime(now);
    let key = format!(
        "vpc/AWSLogs/{a}/vpcflowlogs/us-east-1/{y:04}/{m:02}/{d:02}/{a}_vpcflowlogs_us-east-1_{fl}_{y:04}{m:02}{d:02}T{h:02}{mi:02}Z_0a1b2c3d.log.gz",
        a = acct.id,
        y = t.year(),
        m = t.month(),
        d = t.day(),
        h = t.hour(),
        mi = t.minute(),
    );
    let body = gzip(&format!(
        "{HEADER}\n2 {} eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 50000 6 10 840 1700000000 1700000060 ACCEPT OK\n",
        acct.id
    ));
    acct.s3("us-east-1")
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn flow_logs(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["flow_logs"].as_array().unwrap().clone()
}

/// The flow logs on `resource` (moto gives every account a default VPC as well).
fn of(fls: Vec<Value>, resource: &str) -> Vec<Value> {
    fls.into_iter()
        .filter(|f| f["resource_id"] == resource)
        .collect()
}

fn check<'a>(fl: &'a Value, name: &str) -> &'a Value {
    fl["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} rung: {fl}"))
}

#[tokio::test]
async fn a_healthy_s3_flow_log_with_a_delivery_is_delivering_and_before_it_waiting() {
    let acct = Account::new().await;
    let vpc = with_interface(&acct).await;
    let dir = workdir(&config());
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let bucket = format!("fk-verify-{}", acct.id);

    let (out, err) = expect_exit(&acct.run(dir.path(), &["verify", "--format", "json"]), 0);
    let fls = of(flow_logs(&out), &vpc);
    assert_eq!(fls.len(), 1, "{out}\n{err}");
    assert_eq!(fls[0]["status"], "waiting", "{out}");
    assert_eq!(check(&fls[0], "evidence")["result"], "waiting");
    assert_eq!(check(&fls[0], "permissions")["result"], "ok", "{out}");

    let fl = fls[0]["flow_log_id"].as_str().unwrap().to_string();
    deliver(&acct, &bucket, &fl).await;
    let (out, err) = expect_exit(&acct.run(dir.path(), &["verify", "--format", "json"]), 0);
    let fls = of(flow_logs(&out), &vpc);
    assert_eq!(fls[0]["status"], "delivering", "{out}\n{err}");
    for name in [
        "status",
        "destination",
        "permissions",
        "evidence",
        "shape",
        "freshness",
    ] {
        assert_eq!(check(&fls[0], name)["result"], "ok", "{name}: {out}");
    }
    assert!(fls[0]["lag_seconds"].is_i64(), "{out}");

    // The table says the same.
    let (text, _) = expect_exit(&acct.run(dir.path(), &["verify"]), 0);
    assert!(text.contains("delivering") && text.contains(&fl), "{text}");
    // --all needs no config and finds it too.
    let (out, err) = expect_exit(
        &acct.run(
            dir.path(),
            &[
                "verify",
                "--all",
                "--regions",
                "us-east-1",
                "--format",
                "json",
                "-c",
                "none.yaml",
                "-v",
            ],
        ),
        0,
    );
    assert_eq!(of(flow_logs(&out), &vpc)[0]["flow_log_id"], fl.as_str());
    // Two flow logs (ours and the default VPC's) into one bucket: its documents are read once.
    assert_eq!(flow_logs(&out).len(), 2, "{out}");
    for op in [
        "S3:HeadBucket",
        "S3:GetBucketPolicy",
        "S3:GetBucketEncryption",
    ] {
        assert!(err.contains(&format!("  {op}: 1\n")), "{op} once: {err}");
    }
}

#[tokio::test]
async fn a_bucket_policy_without_the_object_wildcard_fails_the_permissions_rung_with_the_statement_to_add()
 {
    let acct = Account::new().await;
    let vpc = with_interface(&acct).await;
    let dir = workdir(&config());
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let bucket = format!("fk-verify-{}", acct.id);
    let mut policy = acct.bucket_policy("us-east-1", &bucket).await;
    for st in policy["Statement"].as_array_mut().unwrap() {
        if st["Sid"] == "FlowkeeperLogDeliveryWrite" {
            st["Resource"] =
                Value::String(format!("arn:aws:s3:::{bucket}/vpc/AWSLogs/{}", acct.id));
        }
    }
    acct.s3("us-east-1")
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let (out, err) = expect_exit(&acct.run(dir.path(), &["verify", "--format", "json"]), 2);
    let fls = of(flow_logs(&out), &vpc);
    assert_eq!(fls[0]["status"], "failing", "{out}\n{err}");
    let p = check(&fls[0], "permissions");
    assert_eq!(p["result"], "failed");
    assert!(
        p["detail"].as_str().unwrap().contains("s3:PutObject"),
        "{p}"
    );
    let fix = p["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("arn:aws:s3:::{bucket}/vpc/AWSLogs/{}/*", acct.id)),
        "{fix}"
    );
    assert!(fix.contains("flowkeeper apply"), "{fix}");
    // The table shows the failing rung with its detail and fix.
    let (text, _) = expect_exit(&acct.run(dir.path(), &["verify"]), 2);
    println!("{text}");
    assert!(
        text.contains("permissions: failed") && text.contains("fix: run `flowkeeper apply`"),
        "{text}"
    );
}

#[tokio::test]
async fn a_healthy_cloudwatch_flow_log_with_events_is_delivering() {
    let acct = Account::new().await;
    let (vpc, subnet) = acct.seed_vpc("us-east-1", 2, &[]).await;
    let eni = acct
        .ec2("us-east-1")
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .network_interface
        .and_then(|n| n.network_interface_id)
        .unwrap();
    let dir = workdir(
        r#"version: 1
regions: [us-east-1]
destinations:
  realtime:
    type: cloudwatch-logs
    log_group: /fk/verify
    delivery_role: fk-verify-delivery
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    destinations: [realtime]
"#,
    );
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let logs = acct.logs("us-east-1");
    let stream = format!("{eni}-all");
    logs.create_log_stream()
        .log_group_name("/fk/verify")
        .log_stream_name(&stream)
        .send()
        .await
        .unwrap();
    let now_ms = jiff::Timestamp::now().as_millisecond();
    logs.put_log_events()
        .log_group_name("/fk/verify")
        .log_stream_name(&stream)
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now_ms - 60_000)
                .message(format!(
                    "2 {} {eni} 10.2.1.5 10.2.1.6 443 50000 6 10 840 1700000000 1700000060 ACCEPT OK",
                    acct.id
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (out, err) = expect_exit(&acct.run(dir.path(), &["verify", "--format", "json"]), 0);
    let fls = of(flow_logs(&out), &vpc);
    assert_eq!(fls.len(), 1, "{out}\n{err}");
    assert_eq!(fls[0]["status"], "delivering", "{out}");
    assert_eq!(check(&fls[0], "permissions")["result"], "ok", "{out}");
    assert!(
        check(&fls[0], "evidence")["detail"]
            .as_str()
            .unwrap()
            .contains(&stream),
        "{out}"
    );
}

#[tokio::test]
async fn wait_returns_once_a_delivery_appears_and_an_interface_less_vpc_does_not_hold_it() {
    let acct = Account::new().await;
    let vpc = with_interface(&acct).await;
    let dir = workdir(&config());
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let bucket = format!("fk-verify-{}", acct.id);
    let fl = acct
        .flow_logs("us-east-1")
        .await
        .into_iter()
        .find(|f| f.resource_id() == Some(vpc.as_str()))
        .and_then(|f| f.flow_log_id)
        .unwrap();
    let mut cmd = acct.command(
        dir.path(),
        &acct.endpoint,
        &["verify", "--wait", "120s", "--format", "json"],
    );
    cmd.env("FLOWKEEPER_VERIFY_POLL_MS", "100");
    let running = Running::spawn(cmd);
    // It has polled once (and found nothing): now deliver.
    running.wait_for_stderr("verify: poll 1:", Duration::from_secs(60));
    deliver(&acct, &bucket, &fl).await;
    let out = running.finish(Duration::from_secs(60));
    let (stdout, stderr) = expect_exit(&out, 0);
    let fls = flow_logs(&stdout);
    assert_eq!(
        of(fls.clone(), &vpc)[0]["status"],
        "delivering",
        "{stdout}\n{stderr}"
    );
    // moto's default VPC has no interfaces: waiting, yet it let --wait finish with 0.
    assert!(fls.iter().any(|f| f["status"] == "waiting"), "{stdout}");
}

#[tokio::test]
async fn wait_times_out_with_exit_2_when_nothing_arrives() {
    let acct = Account::new().await;
    with_interface(&acct).await;
    let dir = workdir(&config());
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let mut cmd = acct.command(dir.path(), &acct.endpoint, &["verify", "--wait", "1s"]);
    cmd.env("FLOWKEEPER_VERIFY_POLL_MS", "200");
    let out = Running::spawn(cmd).finish(Duration::from_secs(60));
    let (_, stderr) = expect_exit(&out, 2);
    assert!(stderr.contains("verify: poll 1:"), "{stderr}");
    assert!(stderr.contains("the --wait deadline passed"), "{stderr}");
}
