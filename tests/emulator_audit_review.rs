//! `flowkeeper audit` against moto: regressions for the hostile review of issue #9 (each test
//! named after the bug it pins).

mod support;

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use serde_json::Value;
use support::{Account, expect_exit, workdir};

const REGION: &str = "us-east-1";

fn resource<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from {report:#}"))
}

fn codes(r: &Value) -> Vec<String> {
    r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_string())
        .collect()
}

/// A VPC in use (one subnet, one interface): (vpc, subnet, eni).
async fn vpc_in_use(acct: &Account, octet: u8) -> (String, String, String) {
    let (vpc, subnet) = acct.seed_vpc(REGION, octet, &[]).await;
    let eni = acct
        .ec2(REGION)
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .network_interface
        .and_then(|n| n.network_interface_id)
        .unwrap();
    (vpc, subnet, eni)
}

#[tokio::test]
async fn regression_a_flow_log_to_another_accounts_log_group_of_the_same_name_does_not_count() {
    let acct = Account::new().await;
    let (vpc, _, _) = vpc_in_use(&acct, 40).await;
    let foreign = "arn:aws:logs:us-west-2:999999999999:log-group:/fk/review-x";
    let out = acct
        .ec2(REGION)
        .create_flow_logs()
        .resource_ids(&vpc)
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_destination(foreign)
        .deliver_logs_permission_arn(format!("arn:aws:iam::{}:role/x", acct.id))
        .send()
        .await
        .unwrap();
    assert!(out.unsuccessful().is_empty());
    let config = format!(
        r#"version: 1
regions: [{REGION}]
destinations:
  realtime: {{ type: cloudwatch-logs, log_group: /fk/review-x }}
flow_logs:
  - name: x
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [realtime]
"#
    );
    let dir = workdir(&config);
    let out = acct.run(dir.path(), &["audit", "--format", "json", "-q"]);
    let (stdout, _) = expect_exit(&out, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let r = resource(&report, &vpc);
    assert_eq!(r["status"], "non-compliant", "{r:#}");
    assert!(
        codes(r).contains(&"destination-not-approved".to_string()),
        "{r:#}"
    );
    assert!(r.to_string().contains(foreign), "{r:#}");
    // A baseline approving the bare name does not approve it; its ARN does.
    let base = ["audit", "--format", "json", "-q", "--baseline"];
    let mut args = base.to_vec();
    args.extend(["aws-fsbp", "--approved-destination", "/fk/review-x"]);
    let report: Value =
        serde_json::from_str(&support::text(&acct.run(dir.path(), &args)).0).unwrap();
    let r = resource(&report, &vpc);
    assert!(
        codes(r).contains(&"destination-not-approved".to_string()),
        "{r:#}"
    );
    let mut args = base.to_vec();
    args.extend([
        "aws-fsbp",
        "--approved-destination",
        "arn:aws:logs:*:999999999999:log-group:/fk/*",
    ]);
    let report: Value =
        serde_json::from_str(&support::text(&acct.run(dir.path(), &args)).0).unwrap();
    let r = resource(&report, &vpc);
    assert!(
        !codes(r).contains(&"destination-not-approved".to_string()),
        "{r:#}"
    );
    // plan wants its own flow log: the foreign one does not cover the VPC.
    let out = acct.run(dir.path(), &["plan", "--format", "json", "-q"]);
    let (stdout, _) = expect_exit(&out, 2);
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert!(plan["summary"]["create"].as_u64().unwrap() >= 1, "{plan:#}");
}

fn entry_config(select: &str) -> String {
    format!(
        r#"version: 1
regions: [{REGION}]
destinations:
  realtime: {{ type: cloudwatch-logs, log_group: /fk/review }}
flow_logs:
  - name: x
    resource: vpc
    select: {select}
    destinations: [realtime]
"#
    )
}

#[tokio::test]
async fn regression_an_ids_selector_naming_an_id_that_exists_nowhere_is_an_error_as_in_plan() {
    let acct = Account::new().await;
    vpc_in_use(&acct, 41).await;
    let dir = workdir(&entry_config("{ ids: [vpc-0123456789abcdef0] }"));
    let out = acct.run(dir.path(), &["audit", "-q"]);
    let (stdout, stderr) = expect_exit(&out, 1);
    let missing = "vpc-0123456789abcdef0 was not found in any account or region of this run";
    assert!(stderr.contains(missing), "{stderr}");
    assert!(stdout.contains(missing), "the report says it too: {stdout}");
    assert!(!stdout.contains("is compliant"), "{stdout}");
    let out = acct.run(dir.path(), &["audit", "-q", "--format", "json"]);
    let (stdout, _) = expect_exit(&out, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["errors"].to_string().contains(missing), "{report:#}");
    // plan agrees.
    let out = acct.run(dir.path(), &["plan", "-q"]);
    let (_, stderr) = expect_exit(&out, 1);
    assert!(stderr.contains(missing), "{stderr}");
}

#[tokio::test]
async fn regression_an_entry_selecting_nothing_is_a_warning_and_nothing_in_scope_is_not_compliant()
{
    let acct = Account::new().await;
    vpc_in_use(&acct, 42).await;
    let dir = workdir(&entry_config("{ tags: { team: nobody-has-this } }"));
    let out = acct.run(dir.path(), &["audit", "-q"]);
    let (stdout, stderr) = expect_exit(&out, 0);
    assert!(
        stderr.contains("warning: flow_logs entry `x` selects nothing"),
        "{stderr}"
    );
    assert!(
        stdout.contains("warning: flow_logs entry `x` selects nothing"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing in scope:"), "{stdout}");
    assert!(
        !stdout.contains("Every resource in scope is compliant"),
        "{stdout}"
    );
    let out = acct.run(dir.path(), &["audit", "-q", "--format", "json"]);
    let (stdout, _) = expect_exit(&out, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["warnings"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
}

#[tokio::test]
async fn regression_an_untouched_default_vpc_and_its_subnets_are_unused_not_failures() {
    let acct = Account::new().await;
    let dir = tempfile::tempdir().unwrap();
    // moto's default VPC in us-west-1 has default subnets and no network interface.
    let args = [
        "audit",
        "--regions",
        "us-west-1",
        "--baseline",
        "flowkeeper",
        "--format",
        "json",
        "-q",
    ];
    let out = acct.run(dir.path(), &args);
    let (stdout, _) = expect_exit(&out, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let all = report["resources"].as_array().unwrap();
    assert!(
        all.iter().any(|r| r["resource_type"] == "subnet"),
        "{report:#}"
    );
    assert!(all.iter().all(|r| r["status"] == "unused"), "{report:#}");
    assert_eq!(
        report["summary"][0]["unused_non_compliant"], 1,
        "{report:#}"
    );
    let mut table = args.to_vec();
    table.truncate(5);
    table.push("-q");
    let out = acct.run(dir.path(), &table);
    let (stdout, _) = expect_exit(&out, 0);
    assert!(
        stdout.contains("1 unused VPCs without flow logs were not counted; use --include-unused"),
        "{stdout}"
    );
    // --include-unused counts them, as Security Hub does.
    let mut included = args.to_vec();
    included.push("--include-unused");
    let out = acct.run(dir.path(), &included);
    let (stdout, _) = expect_exit(&out, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "non-compliant"),
        "{report:#}"
    );
}

#[tokio::test]
async fn regression_unknown_traffic_types_destination_types_and_unreadable_formats_never_pass() {
    let acct = Account::new().await;
    let bucket = format!("fk-review-{}", acct.id);
    acct.s3(REGION)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:s3:::{bucket}");
    let mut vpcs = Vec::new();
    for (i, (traffic, dest, format)) in [
        ("all", "s3", Some("${version} ${srcaddr}")),
        ("EVERYTHING", "s3", Some("${version} ${srcaddr}")),
        ("ALL", "s3", Some("version srcaddr")),
        ("ALL", "s3-tables", None),
    ]
    .into_iter()
    .enumerate()
    {
        let (vpc, _, _) = vpc_in_use(&acct, 50 + i as u8).await;
        let out = acct
            .ec2(REGION)
            .create_flow_logs()
            .resource_ids(&vpc)
            .resource_type(FlowLogsResourceType::Vpc)
            .traffic_type(TrafficType::from(traffic))
            .log_destination_type(LogDestinationType::from(dest))
            .log_destination(&arn)
            .set_log_format(format.map(str::to_string))
            .max_aggregation_interval(60)
            .send()
            .await
            .unwrap();
        assert!(out.unsuccessful().is_empty(), "{:?}", out.unsuccessful());
        vpcs.push(vpc);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = acct.run(
        dir.path(),
        &[
            "audit",
            "--regions",
            REGION,
            "--baseline",
            "flowkeeper",
            "--approved-destination",
            &arn,
            "--format",
            "json",
            "-q",
        ],
    );
    let (stdout, _) = expect_exit(&out, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    for (vpc, code) in vpcs.iter().zip([
        "unknown-traffic-type",
        "unknown-traffic-type",
        "unreadable-log-format",
        "unknown-destination-type",
    ]) {
        let r = resource(&report, vpc);
        assert_eq!(r["status"], "non-compliant", "{r:#}");
        assert!(codes(r).contains(&code.to_string()), "{code}: {r:#}");
    }
}
