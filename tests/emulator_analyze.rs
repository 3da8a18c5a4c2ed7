//! `flowkeeper analyze` against the emulator: S3 objects (listed, pruned by the date in the
//! key, streamed and decompressed), CloudWatch Logs events, and --flow-log resolving the
//! destination and format through DescribeFlowLogs. moto never delivers flow logs, so the tests
//! write realistic objects and events themselves.

#[path = "support/parquet.rs"]
mod parquet_fixture;
mod support;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use support::{Account, expect_exit};

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn gzip(text: &str) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn ssh_login(acct: &str, t: u64) -> String {
    format!(
        "2 {acct} eni-bastion 198.51.100.7 10.0.4.10 51000 22 6 20 4249 {t} {} ACCEPT OK",
        t + 60
    )
}

/// A new account of the emulator with a bucket `{prefix}-{account}` in us-east-1.
async fn account_with_bucket(prefix: &str) -> (Account, aws_sdk_s3::Client, String) {
    let acct = Account::new().await;
    let bucket = format!("{prefix}-{}", acct.id);
    let s3 = acct.s3("us-east-1");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    (acct, s3, bucket)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn s3_objects_are_listed_pruned_by_day_and_analyzed() {
    let (acct, s3, bucket) = account_with_bucket("analyze").await;
    let id = &acct.id;
    for (day, t, n) in [("01", T0, 3), ("02", T0 + 86_400, 5)] {
        let key = format!(
            "vpc/AWSLogs/{id}/vpcflowlogs/us-east-1/2026/11/{day}/{id}_vpcflowlogs_us-east-1_fl-0abc_202611{day}T0005Z_x.log.gz"
        );
        let body = format!(
            "{HEADER}\n{}\n",
            (0..n)
                .map(|i| ssh_login(id, t + i))
                .collect::<Vec<_>>()
                .join("\n")
        );
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(gzip(&body).into())
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("s3://{bucket}/vpc/AWSLogs/");
    let out = acct.run(
        dir.path(),
        &[
            "-q",
            "analyze",
            &uri,
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    let (_, err) = expect_exit(&out, 2);
    let doc = json(&out);
    assert_eq!(doc["summary"]["records"], 8, "{err}");
    assert_eq!(doc["summary"]["sources"].as_array().unwrap().len(), 2);
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .unwrap();
    assert!(
        finding["evidence_at"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("s3://{bucket}/vpc/AWSLogs/")),
        "{finding}"
    );

    // --since prunes the first day's object by its key, without reading it.
    let out = acct.run(
        dir.path(),
        &[
            "-q",
            "analyze",
            &uri,
            "--since",
            "2026-11-02T00:00:00Z",
            "--format",
            "json",
        ],
    );
    let doc = json(&out);
    assert_eq!(doc["summary"]["records"], 5);
    assert_eq!(
        doc["summary"]["sources"].as_array().unwrap().len(),
        1,
        "the 2026/11/01 object was pruned"
    );
}

/// A flow log delivered as Parquet (`.log.parquet`, PAR1) is downloaded whole and read row
/// by row: its SSH login from the internet is found, with the row as its evidence.
#[tokio::test]
async fn a_parquet_object_in_s3_is_analyzed() {
    let (acct, s3, bucket) = account_with_bucket("analyze-pq").await;
    let id = &acct.id;
    let key = format!(
        "AWSLogs/{id}/vpcflowlogs/us-east-1/2026/11/01/{id}_vpcflowlogs_us-east-1_fl-0abc_20261101T0005Z_x.log.parquet"
    );
    let rows: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "5 {id} eni-bastion 198.51.100.7 10.0.4.10 5100{i} 22 6 20 4249 {} {} ACCEPT OK \
                 vpc-0a subnet-0a i-0a 2 IPv4 198.51.100.7 10.0.4.10 us-east-1 use1-az1 - - - - \
                 ingress -",
                T0 + i,
                T0 + 60
            )
        })
        .collect();
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(parquet_fixture::v5_object(&rows).into())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("s3://{bucket}/AWSLogs/");
    let out = acct.run(dir.path(), &["-q", "analyze", &uri, "--format", "json"]);
    let (_, err) = expect_exit(&out, 2);
    let doc = json(&out);
    assert_eq!(doc["summary"]["records"], 3, "{err}");
    assert_eq!(doc["summary"]["malformed"], 0, "{err}");
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(
        finding["evidence_at"][0],
        format!("s3://{bucket}/{key}:1"),
        "{finding}"
    );
}

/// Objects too large to download whole are read as they arrive: the body's chunks are awaited
/// one at a time from the reading thread, inflated as a stream and split into lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_s3_object_streams_through_the_reader_as_it_downloads() {
    let (acct, s3, bucket) = account_with_bucket("stream").await;
    let lines: Vec<String> = (0..40_000).map(|i| ssh_login(&acct.id, T0 + i)).collect();
    let body = gzip(&format!("{HEADER}\n{}\n", lines.join("\n")));
    assert!(
        body.len() > 256 * 1024,
        "{} bytes: several network chunks",
        body.len()
    );
    s3.put_object()
        .bucket(&bucket)
        .key("big.log.gz")
        .body(body.into())
        .send()
        .await
        .unwrap();
    let runtime = tokio::runtime::Handle::current();
    let (text, blocks) = tokio::task::spawn_blocking(move || {
        let object = flowkeeper::aws::s3::open_object(
            &flowkeeper::aws::s3::S3::from_client(s3),
            &bucket,
            "big.log.gz",
            &runtime,
        )
        .expect("GetObject");
        let (mut text, mut blocks) = (String::new(), 0);
        let fallback = std::sync::Arc::new(flowlog::Schema::default_v2());
        let result = flowkeeper::analyze::reader::Reader::new().read_stream(
            object,
            &fallback,
            &mut |block, _| {
                assert_eq!(block.schema.len(), 14, "the header's schema");
                text.push_str(std::str::from_utf8(block.text).unwrap());
                blocks += 1;
                true
            },
        );
        assert_eq!(result, Ok(()));
        (text, blocks)
    })
    .await
    .unwrap();
    assert_eq!(text, format!("{}\n", lines.join("\n")));
    assert!(blocks > 1, "{blocks} blocks");
}

#[tokio::test]
async fn cloudwatch_events_are_read_with_the_flow_logs_declared_format() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 1, &[]).await;
    let logs = acct.logs("us-east-1");
    let group = "/fk/analyze";
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("eni-bastion-all")
        .send()
        .await
        .unwrap();
    // CloudWatch Logs refuses events older than 14 days, so these are from the last hour.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t0 = now - now % 60 - 3600;
    // A custom format: the flow log's declared LogFormat tells the decoder the field order.
    let format = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${start} ${end} ${action}";
    let events: Vec<_> = (0..4)
        .map(|i| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(((t0 + i) * 1000) as i64)
                .message(format!(
                    "198.51.100.7 10.0.4.10 51000 22 6 4249 {} {} ACCEPT",
                    t0 + i,
                    t0 + i + 60
                ))
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name("eni-bastion-all")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    let flow_log = acct
        .ec2("us-east-1")
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_group_name(group)
        .deliver_logs_permission_arn(format!("arn:aws:iam::{}:role/r", acct.id))
        .log_format(format)
        .send()
        .await
        .unwrap()
        .flow_log_ids()[0]
        .clone();
    let dir = tempfile::tempdir().unwrap();

    let out = acct.run(
        dir.path(),
        &["-q", "analyze", "--flow-log", &flow_log, "--format", "json"],
    );
    let (_, err) = expect_exit(&out, 2);
    let doc = json(&out);
    assert_eq!(doc["summary"]["records"], 4, "{err}");
    assert_eq!(doc["summary"]["malformed"], 0);
    // The flow log's VPC CIDRs count as ours (said on stderr without -q).
    let out = acct.run(
        dir.path(),
        &["analyze", "--flow-log", &flow_log, "--format", "json"],
    );
    let (_, err) = expect_exit(&out, 2);
    assert!(
        err.contains(&format!(
            "ours from {flow_log} ({vpc}): 1 VPC, 1 CIDR block"
        )),
        "{err}"
    );
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .unwrap();
    assert_eq!(
        finding["evidence_at"][0],
        format!("cwl://{group}//eni-bastion-all:1")
    );

    // The same events read directly need the format from --fields; without it they are malformed.
    let uri = format!("cwl://{group}");
    let out = acct.run(
        dir.path(),
        &[
            "-q", "analyze", &uri, "--fields", format, "--format", "json",
        ],
    );
    assert_eq!(json(&out)["summary"]["records"], 4);
    let out = acct.run(dir.path(), &["-q", "analyze", &uri, "--format", "json"]);
    let doc = json(&out);
    assert_eq!(
        doc["summary"]["malformed"], 4,
        "the default v2 format does not fit these events"
    );
}

/// Regression (#8 cases 7 and 14): a bucket that does not exist aborted the whole run, and S3
/// names with escape sequences reached the terminal raw. The missing bucket is now reported by
/// its own URI (escaped) while the other bucket is analyzed.
#[tokio::test]
async fn regression_a_missing_bucket_is_reported_and_the_rest_is_analyzed() {
    let (acct, s3, bucket) = account_with_bucket("present").await;
    let body = format!(
        "{HEADER}\n{}\n2 {} eni-x 10.0.0.1 not-an-ip 1 2 6 1 1 {T0} {T0} ACCEPT OK\n",
        ssh_login(&acct.id, T0),
        acct.id
    );
    s3.put_object()
        .bucket(&bucket)
        .key("AWSLogs/a.log.gz")
        .body(gzip(&body).into())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("s3://no-such-bucket-{}/evil\u{1b}[2J\u{7}/", acct.id);
    let good = format!("s3://{bucket}/AWSLogs/");
    for format in ["json", "text"] {
        let out = acct.run(
            dir.path(),
            &["-q", "analyze", &missing, &good, "--format", format],
        );
        let (stdout, err) = expect_exit(&out, 1);
        let shown = format!("s3://no-such-bucket-{}/evil\\x1b[2J\\x07/", acct.id);
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("error: {shown}: cannot list the objects: "))),
            "{err}"
        );
        assert!(err.contains("NoSuchBucket"), "{err}");
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        assert!(err.contains("/AWSLogs/a.log.gz:3:"), "{err}");
        if format == "json" {
            let doc = json(&out);
            assert_eq!(
                doc["summary"]["records"], 1,
                "the other bucket is analyzed: {err}"
            );
            assert_eq!(doc["summary"]["sources"][0]["name"], missing.as_str());
        } else {
            assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
            assert!(
                stdout.contains(&format!("source error: {shown}")),
                "{stdout}"
            );
        }
    }
}

/// Regression (probe `emptydir`, for S3): a prefix with no object said "No findings" and
/// exited 0 under `--fail-on`, so a wrong prefix passed a CI gate. It is an error naming the
/// prefix (exit 1); another input is still read.
#[tokio::test]
async fn regression_a_prefix_with_no_object_is_an_error() {
    let (acct, s3, bucket) = account_with_bucket("sparse").await;
    let body = format!("{HEADER}\n{}\n", ssh_login(&acct.id, T0));
    s3.put_object()
        .bucket(&bucket)
        .key("AWSLogs/a.log.gz")
        .body(gzip(&body).into())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!("s3://{bucket}/AWSLgos/");
    let out = acct.run(dir.path(), &["-q", "analyze", &wrong, "--fail-on", "low"]);
    let (_, err) = expect_exit(&out, 1);
    assert!(
        err.contains(&format!("error: {wrong}: no objects under this prefix")),
        "{err}"
    );
    let good = format!("s3://{bucket}/AWSLogs/");
    let out = acct.run(
        dir.path(),
        &["-q", "analyze", &wrong, &good, "--format", "json"],
    );
    let (_, err) = expect_exit(&out, 1);
    assert!(err.contains("no objects under this prefix"), "{err}");
    assert_eq!(json(&out)["summary"]["records"], 1, "{err}");
}

/// Regression (#8 case 14): a key holding a control character broke the whole listing (its
/// XML page could not be parsed). Listings ask for URL-encoded keys, so the object is read and
/// its name is shown escaped.
#[tokio::test]
async fn regression_a_key_with_a_control_character_is_listed_and_shown_escaped() {
    let (acct, s3, bucket) = account_with_bucket("odd-keys").await;
    let body = format!(
        "{HEADER}\n{}\n2 {} eni-x 10.0.0.1 not-an-ip 1 2 6 1 1 {T0} {T0} ACCEPT OK\n",
        ssh_login(&acct.id, T0),
        acct.id
    );
    s3.put_object()
        .bucket(&bucket)
        .key("AWSLogs/evil\u{1b}[2J b+c.log.gz")
        .body(gzip(&body).into())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("s3://{bucket}/AWSLogs/");
    let out = acct.run(dir.path(), &["-q", "analyze", &uri, "--format", "json"]);
    let (_, err) = expect_exit(&out, 2);
    assert_eq!(json(&out)["summary"]["records"], 1, "{err}");
    assert!(err.contains("evil\\x1b[2J b+c.log.gz:3:"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// #11: IPv6 VPC addresses are globally routable, so without knowing the VPC's blocks an
/// IPv6 host is "the internet" and SSH accepted from the internet to it was missed. With
/// `--discover`, DescribeVpcs gives the VPC's Amazon-provided IPv6 block (moto allocates a
/// /56 and reports it `associated`, as AWS does) and the login is found; without it (v2
/// records, no flow-direction) nothing says the host is ours.
#[tokio::test]
async fn discover_makes_the_vpcs_ipv6_block_ours_and_ssh_over_ipv6_from_the_internet_is_found() {
    let acct = Account::new().await;
    let host = ipv6_vpc(&acct, "10.20.0.0/16").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v6.log"),
        format!(
            "{HEADER}\n2 {} eni-v6 2001:db8:ffff::9 {host} 51000 22 6 20 4249 {T0} {} ACCEPT OK\n",
            acct.id,
            T0 + 60
        ),
    )
    .unwrap();
    let exposure_of = |doc: &Value| -> Vec<Value> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "admin_port_exposure")
            .cloned()
            .collect()
    };

    let out = acct.run(
        dir.path(),
        &[
            "-q",
            "analyze",
            "v6.log",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    let (_, err) = expect_exit(&out, 0);
    assert!(exposure_of(&json(&out)).is_empty(), "near miss: {err}");

    let out = acct.run(
        dir.path(),
        &[
            "analyze",
            "v6.log",
            "--discover",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    let (_, err) = expect_exit(&out, 2);
    assert!(
        err.contains("ours from --discover in us-east-1: ") && err.contains("VPC"),
        "{err}"
    );
    let found = exposure_of(&json(&out));
    assert_eq!(found.len(), 1, "{err}\n{found:?}");
    assert_eq!(found[0]["subject"]["ip"], host.as_str());
    assert_eq!(found[0]["sources"]["sample"][0], "2001:db8:ffff::9");
    assert_eq!(found[0]["evidence_at"][0], "v6.log:2");

    // --discover in a region with no VPCs of this account adds nothing: no finding.
    let out = acct.run(
        dir.path(),
        &[
            "-q",
            "analyze",
            "v6.log",
            "--discover",
            "--regions",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    let (_, err) = expect_exit(&out, 0);
    assert!(exposure_of(&json(&out)).is_empty(), "{err}");
}

/// A host address in the IPv6 block of a fresh VPC of `acct` (Amazon-provided, `associated`
/// as AWS answers).
async fn ipv6_vpc(acct: &Account, v4: &str) -> String {
    let ec2 = acct.ec2("us-east-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block(v4)
        .amazon_provided_ipv6_cidr_block(true)
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap();
    let described = ec2
        .describe_vpcs()
        .vpc_ids(vpc.vpc_id().unwrap())
        .send()
        .await
        .unwrap();
    let assoc = &described.vpcs()[0].ipv6_cidr_block_association_set()[0];
    assert_eq!(
        assoc.ipv6_cidr_block_state().and_then(|s| s.state()),
        Some(&aws_sdk_ec2::types::VpcCidrBlockStateCode::Associated),
        "the emulator answers the block as AWS does"
    );
    let block = assoc.ipv6_cidr_block().unwrap().to_string();
    let net: std::net::Ipv6Addr = block.split('/').next().unwrap().parse().unwrap();
    std::net::Ipv6Addr::from(u128::from(net) | 0x10).to_string()
}

/// #11 leftover: with a config, `--discover` reads every account of the estate (as plan and
/// audit reach them), not only the caller's. SSH between two of the estate's IPv6 hosts in
/// different accounts is internal (no finding); SSH from the internet to the other account's
/// host is found; an account that cannot be reached is named, the run still analyzes and
/// writes its report, and ends with exit 1. `--accounts` does not narrow discovery.
#[tokio::test]
async fn discover_with_a_config_reads_every_account_of_the_estate() {
    let caller = Account::new().await;
    let other = Account::new().await;
    let mine = ipv6_vpc(&caller, "10.30.0.0/16").await;
    let theirs = ipv6_vpc(&other, "10.31.0.0/16").await;
    let unreachable = support::fresh_account_id();
    let config = |accounts: &str| {
        format!(
            "version: 1\nregions: [us-east-1]\naccounts:\n{accounts}destinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/accounts\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [rt]\n"
        )
    };
    let both = format!(
        "  - {{ id: \"{}\" }}\n  - {{ id: \"{}\", role_name: FlowkeeperAdmin }}\n",
        caller.id, other.id
    );
    let dir = support::workdir(&config(&both));
    std::fs::write(
        dir.path().join("v6.log"),
        format!(
            "{HEADER}\n2 {a} eni-a {mine} {theirs} 51000 22 6 20 4249 {T0} {t1} ACCEPT OK\n2 {b} eni-b 2001:db8:ffff::9 {theirs} 51001 22 6 20 4249 {T0} {t1} ACCEPT OK\n",
            a = caller.id,
            b = other.id,
            t1 = T0 + 60
        ),
    )
    .unwrap();
    let subjects = |doc: &Value| -> Vec<(String, String)> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "admin_port_exposure")
            .map(|f| {
                (
                    f["subject"]["ip"].as_str().unwrap().to_string(),
                    f["sources"]["sample"][0].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let args = [
        "analyze",
        "v6.log",
        "--discover",
        "--format",
        "json",
        "--fail-on",
        "high",
    ];
    let out = caller.run(dir.path(), &args);
    let (_, err) = expect_exit(&out, 2);
    assert!(
        err.contains(&format!("account {} in us-east-1", caller.id))
            && err.contains(&format!("account {} in us-east-1", other.id))
            && err.contains("4 VPCs"), // each account's default VPC and the one made here
        "{err}"
    );
    assert_eq!(
        subjects(&json(&out)),
        vec![(theirs.clone(), "2001:db8:ffff::9".to_string())],
        "only the login from the internet: {err}"
    );

    // --accounts narrows nothing here: the other account's VPC is still ours.
    let mut narrowed = args.to_vec();
    narrowed.extend(["--accounts", caller.id.as_str()]);
    let out = caller.run(dir.path(), &narrowed);
    let (_, err) = expect_exit(&out, 2);
    assert_eq!(subjects(&json(&out)).len(), 1, "{err}");

    // --regions replaces the configured regions: every account is read there (here nothing
    // of theirs is in eu-west-1 but its default VPC, so the login is no longer seen as ours).
    let mut elsewhere = args.to_vec();
    elsewhere.extend(["--regions", "eu-west-1"]);
    let out = caller.run(dir.path(), &elsewhere);
    let (_, err) = expect_exit(&out, 0);
    assert!(
        err.contains(&format!("account {} in eu-west-1", caller.id))
            && err.contains(&format!("account {} in eu-west-1", other.id))
            && err.contains("(the accounts of "),
        "{err}"
    );
    assert!(subjects(&json(&out)).is_empty(), "{err}");

    // An account without a role: named, the rest discovered and analyzed, exit 1.
    let dir = support::workdir(&config(&format!("{both}  - {{ id: \"{unreachable}\" }}\n")));
    std::fs::write(
        dir.path().join("v6.log"),
        format!(
            "{HEADER}\n2 {a} eni-a {mine} {theirs} 51000 22 6 20 4249 {T0} {t1} ACCEPT OK\n",
            a = caller.id,
            t1 = T0 + 60
        ),
    )
    .unwrap();
    let out = caller.run(dir.path(), &args);
    let (_, err) = expect_exit(&out, 1);
    assert!(
        err.contains(&format!("no role to reach account {unreachable}"))
            && err.contains("count as public"),
        "{err}"
    );
    assert!(
        subjects(&json(&out)).is_empty(),
        "the reachable accounts were discovered and the report written: {err}"
    );
}
