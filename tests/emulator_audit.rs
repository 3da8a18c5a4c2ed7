//! `flowkeeper audit` end to end: the real binary against moto. One seeded estate with every
//! kind of coverage and gap, audited under each shipped baseline, compared as a whole verdict
//! table; and, with a config, audit → apply → audit.

mod support;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use serde_json::Value;
use support::{Account, expect_exit, moto_api, workdir};

const REGION: &str = "us-east-1";

/// Every field of flow log versions 2 to 5.
const V5_FIELDS: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";

/// Seeds resources and remembers a label for each id, so verdict tables read as the estate.
struct Estate {
    acct: Account,
    labels: BTreeMap<String, String>,
    approved: String,
    other: String,
}

/// A flow log to create: destination type and location, traffic, format, interval.
struct Log<'a> {
    on: &'a str,
    kind: FlowLogsResourceType,
    dest: LogDestinationType,
    location: String,
    traffic: TrafficType,
    format: Option<&'a str>,
    interval: i32,
}

impl Estate {
    async fn new() -> Estate {
        let acct = Account::new().await;
        let ec2 = acct.ec2(REGION);
        // moto's default VPC and subnets would be part of every table; the estate is ours alone.
        let subnets = ec2.describe_subnets().send().await.unwrap();
        for s in subnets.subnets() {
            ec2.delete_subnet()
                .subnet_id(s.subnet_id().unwrap())
                .send()
                .await
                .unwrap();
        }
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        for v in vpcs.vpcs() {
            ec2.delete_vpc()
                .vpc_id(v.vpc_id().unwrap())
                .send()
                .await
                .unwrap();
        }
        let approved = format!("fk-approved-{}", acct.id);
        let other = format!("fk-other-{}", acct.id);
        for b in [&approved, &other] {
            acct.s3(REGION)
                .create_bucket()
                .bucket(b)
                .send()
                .await
                .unwrap();
        }
        Estate {
            acct,
            labels: BTreeMap::new(),
            approved: format!("arn:aws:s3:::{approved}"),
            other: format!("arn:aws:s3:::{other}"),
        }
    }

    async fn vpc(&mut self, label: &str, octet: u8) -> String {
        let id = self
            .acct
            .ec2(REGION)
            .create_vpc()
            .cidr_block(format!("10.{octet}.0.0/16"))
            .send()
            .await
            .unwrap()
            .vpc
            .and_then(|v| v.vpc_id)
            .unwrap();
        self.labels.insert(id.clone(), label.into());
        id
    }

    async fn subnet(&mut self, label: &str, vpc: &str, octet: u8, n: u8) -> String {
        let id = self
            .acct
            .ec2(REGION)
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(format!("10.{octet}.{n}.0/24"))
            .send()
            .await
            .unwrap()
            .subnet
            .and_then(|s| s.subnet_id)
            .unwrap();
        self.labels.insert(id.clone(), label.into());
        id
    }

    async fn eni(&mut self, label: &str, subnet: &str) -> String {
        let id = self
            .acct
            .ec2(REGION)
            .create_network_interface()
            .subnet_id(subnet)
            .send()
            .await
            .unwrap()
            .network_interface
            .and_then(|n| n.network_interface_id)
            .unwrap();
        self.labels.insert(id.clone(), label.into());
        id
    }

    /// A VPC with one subnet and one interface: (vpc, subnet, eni).
    async fn vpc_with_eni(&mut self, l: &str, octet: u8) -> (String, String, String) {
        let v = self.vpc(&format!("vpc-{l}"), octet).await;
        let s = self.subnet(&format!("subnet-{l}"), &v, octet, 1).await;
        let e = self.eni(&format!("eni-{l}"), &s).await;
        (v, s, e)
    }

    async fn flow_log(&self, log: Log<'_>) {
        let mut req = self
            .acct
            .ec2(REGION)
            .create_flow_logs()
            .resource_ids(log.on)
            .resource_type(log.kind)
            .traffic_type(log.traffic)
            .log_destination_type(log.dest.clone())
            .max_aggregation_interval(log.interval)
            .set_log_format(log.format.map(str::to_string));
        req = if log.dest == LogDestinationType::CloudWatchLogs {
            req.log_group_name(&log.location)
                .deliver_logs_permission_arn(format!(
                    "arn:aws:iam::{}:role/someone-elses-delivery",
                    self.acct.id
                ))
        } else {
            req.log_destination(&log.location)
        };
        let out = req.send().await.unwrap();
        assert!(out.unsuccessful().is_empty(), "{:?}", out.unsuccessful());
    }

    /// The good flow log: ALL to the approved bucket, every v5 field, 60 s.
    fn good<'a>(&self, on: &'a str, kind: FlowLogsResourceType) -> Log<'a> {
        Log {
            on,
            kind,
            dest: LogDestinationType::S3,
            location: self.approved.clone(),
            traffic: TrafficType::All,
            format: Some(V5_FIELDS),
            interval: 60,
        }
    }

    /// Runs `flowkeeper audit --format json` with `args`; returns the exit code and report.
    fn audit(&self, dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["audit", "--regions", REGION, "--format", "json", "-q"];
        all.extend_from_slice(args);
        let out = self.acct.run(dir, &all);
        let (stdout, stderr) = support::text(&out);
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n--- stderr\n{stderr}"));
        (out.status.code().unwrap_or(-1), report)
    }

    /// (label, status, reason codes) for every resource, sorted by label.
    fn table(&self, report: &Value) -> Vec<(String, String, Vec<String>)> {
        let mut rows: Vec<_> = report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let id = r["resource_id"].as_str().unwrap();
                let label = self
                    .labels
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("unexpected {id}"));
                let codes = r["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["code"].as_str().unwrap().to_string())
                    .collect();
                (label, r["status"].as_str().unwrap().to_string(), codes)
            })
            .collect();
        rows.sort();
        rows
    }
}

fn policies_baseline(name: &str) -> String {
    let root =
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    std::fs::read_to_string(
        std::path::Path::new(&root).join(format!("policies/compliance/{name}.yaml")),
    )
    .unwrap()
}

fn expected(rows: &[(&str, &str, &[&str])]) -> Vec<(String, String, Vec<String>)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|(l, s, c)| {
            (
                l.to_string(),
                s.to_string(),
                c.iter().map(|c| c.to_string()).collect(),
            )
        })
        .collect();
    v.sort();
    v
}

fn reason<'a>(report: &'a Value, id: &str, code: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == id)
        .and_then(|r| {
            r["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["code"] == code)
        })
        .unwrap_or_else(|| panic!("{id} has no {code} reason"))
}

/// The estate: one VPC per case (each with a subnet and an interface, so that it is in use).
async fn seed() -> (Estate, BTreeMap<&'static str, String>) {
    use FlowLogsResourceType as K;
    let mut e = Estate::new().await;
    let mut ids = BTreeMap::new();
    // vpc-level: a VPC flow log that meets every baseline.
    let (a, _, _) = e.vpc_with_eni("vpc-level", 1).await;
    e.flow_log(e.good(&a, K::Vpc)).await;
    // subnet-level: no VPC flow log, both subnets logged (the VPC is covered only through them).
    let b = e.vpc("vpc-subnets-only", 2).await;
    let b1 = e.subnet("subnet-subnets-only-1", &b, 2, 1).await;
    let b2 = e.subnet("subnet-subnets-only-2", &b, 2, 2).await;
    e.eni("eni-subnets-only", &b1).await;
    e.flow_log(e.good(&b1, K::Subnet)).await;
    e.flow_log(e.good(&b2, K::Subnet)).await;
    // eni-level: only the interface is logged.
    let (_, _, c_eni) = e.vpc_with_eni("eni-level", 3).await;
    e.flow_log(e.good(&c_eni, K::NetworkInterface)).await;
    // REJECT-only and ACCEPT-only.
    let (d, _, _) = e.vpc_with_eni("reject-only", 4).await;
    e.flow_log(Log {
        traffic: TrafficType::Reject,
        ..e.good(&d, K::Vpc)
    })
    .await;
    let (ac, _, _) = e.vpc_with_eni("accept-only", 5).await;
    e.flow_log(Log {
        traffic: TrafficType::Accept,
        ..e.good(&ac, K::Vpc)
    })
    .await;
    // An unapproved bucket.
    let (f, _, _) = e.vpc_with_eni("other-bucket", 6).await;
    e.flow_log(Log {
        location: e.other.clone(),
        ..e.good(&f, K::Vpc)
    })
    .await;
    // Kinesis Data Firehose.
    let (g, _, _) = e.vpc_with_eni("firehose", 7).await;
    e.flow_log(Log {
        dest: LogDestinationType::KinesisDataFirehose,
        location: format!(
            "arn:aws:firehose:{REGION}:{}:deliverystream/flows",
            e.acct.id
        ),
        ..e.good(&g, K::Vpc)
    })
    .await;
    // A FAILED delivery: a CloudWatch Logs flow log whose log group does not exist (moto, like
    // AWS, accepts it and reports DeliverLogsStatus FAILED, "Access error").
    let (h, _, _) = e.vpc_with_eni("failed", 8).await;
    e.flow_log(Log {
        dest: LogDestinationType::CloudWatchLogs,
        location: "/fk/missing".into(),
        ..e.good(&h, K::Vpc)
    })
    .await;
    // The default format (lacks the v3-v5 fields), and 600 s aggregation.
    let (i, _, _) = e.vpc_with_eni("default-format", 9).await;
    e.flow_log(Log {
        format: None,
        ..e.good(&i, K::Vpc)
    })
    .await;
    let (j, _, _) = e.vpc_with_eni("ten-minutes", 10).await;
    e.flow_log(Log {
        interval: 600,
        ..e.good(&j, K::Vpc)
    })
    .await;
    // Unused: no interfaces at all.
    e.vpc("vpc-unused", 11).await;
    // Shared: another account's VPC and subnet, shared with this one (launcher correction i).
    let owner = Account::new().await;
    let oec2 = owner.ec2(REGION);
    let s = oec2
        .create_vpc()
        .cidr_block("10.12.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .and_then(|v| v.vpc_id)
        .unwrap();
    let s1 = oec2
        .create_subnet()
        .vpc_id(&s)
        .cidr_block("10.12.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet
        .and_then(|x| x.subnet_id)
        .unwrap();
    let status = moto_api(
        "/flowkeeper-test/share-vpc",
        &format!(
            r#"{{"owner": "{}", "participant": "{}", "region": "{REGION}", "vpc_id": "{s}"}}"#,
            owner.id, e.acct.id
        ),
    );
    assert!(status.contains("200"), "{status}");
    e.labels.insert(s.clone(), "vpc-shared".into());
    e.labels.insert(s1, "subnet-shared".into());
    ids.insert("owner", owner.id.clone());
    ids.insert("shared", s);
    ids.insert("subnets-only", b);
    ids.insert("failed", h);
    (e, ids)
}

/// CIS and FSBP hold only VPCs, to REJECT (or ALL) at least, any destination.
const VPC_BASELINE: &[(&str, &str, &[&str])] = &[
    ("vpc-vpc-level", "compliant", &[]),
    ("subnet-vpc-level", "out-of-scope", &[]),
    ("eni-vpc-level", "out-of-scope", &[]),
    ("vpc-subnets-only", "non-compliant", &["no-own-flow-log"]),
    ("subnet-subnets-only-1", "out-of-scope", &[]),
    ("subnet-subnets-only-2", "out-of-scope", &[]),
    ("eni-subnets-only", "out-of-scope", &[]),
    ("vpc-eni-level", "non-compliant", &["no-flow-log"]),
    ("subnet-eni-level", "out-of-scope", &[]),
    ("eni-eni-level", "out-of-scope", &[]),
    ("vpc-reject-only", "compliant", &[]),
    ("subnet-reject-only", "out-of-scope", &[]),
    ("eni-reject-only", "out-of-scope", &[]),
    ("vpc-accept-only", "non-compliant", &["traffic-type"]),
    ("subnet-accept-only", "out-of-scope", &[]),
    ("eni-accept-only", "out-of-scope", &[]),
    ("vpc-other-bucket", "compliant", &[]),
    ("subnet-other-bucket", "out-of-scope", &[]),
    ("eni-other-bucket", "out-of-scope", &[]),
    ("vpc-firehose", "compliant", &[]),
    ("subnet-firehose", "out-of-scope", &[]),
    ("eni-firehose", "out-of-scope", &[]),
    ("vpc-failed", "non-compliant", &["delivery-failed"]),
    ("subnet-failed", "out-of-scope", &[]),
    ("eni-failed", "out-of-scope", &[]),
    ("vpc-default-format", "compliant", &[]),
    ("subnet-default-format", "out-of-scope", &[]),
    ("eni-default-format", "out-of-scope", &[]),
    ("vpc-ten-minutes", "compliant", &[]),
    ("subnet-ten-minutes", "out-of-scope", &[]),
    ("eni-ten-minutes", "out-of-scope", &[]),
    ("vpc-unused", "unused", &["no-flow-log"]),
    ("vpc-shared", "shared", &["no-flow-log"]),
    ("subnet-shared", "out-of-scope", &[]),
];

/// flowkeeper strict: every kind, ALL, S3 or CloudWatch Logs at an approved destination, every
/// v5 field, 60 s.
const STRICT: &[(&str, &str, &[&str])] = &[
    ("vpc-vpc-level", "compliant", &[]),
    ("subnet-vpc-level", "compliant", &[]),
    ("eni-vpc-level", "compliant", &[]),
    ("vpc-subnets-only", "non-compliant", &["no-own-flow-log"]),
    ("subnet-subnets-only-1", "compliant", &[]),
    ("subnet-subnets-only-2", "compliant", &[]),
    ("eni-subnets-only", "compliant", &[]),
    ("vpc-eni-level", "non-compliant", &["no-flow-log"]),
    ("subnet-eni-level", "non-compliant", &["no-flow-log"]),
    ("eni-eni-level", "compliant", &[]),
    ("vpc-reject-only", "non-compliant", &["traffic-type"]),
    ("subnet-reject-only", "non-compliant", &["traffic-type"]),
    ("eni-reject-only", "non-compliant", &["traffic-type"]),
    ("vpc-accept-only", "non-compliant", &["traffic-type"]),
    ("subnet-accept-only", "non-compliant", &["traffic-type"]),
    ("eni-accept-only", "non-compliant", &["traffic-type"]),
    (
        "vpc-other-bucket",
        "non-compliant",
        &["destination-not-approved"],
    ),
    (
        "subnet-other-bucket",
        "non-compliant",
        &["destination-not-approved"],
    ),
    (
        "eni-other-bucket",
        "non-compliant",
        &["destination-not-approved"],
    ),
    (
        "vpc-firehose",
        "non-compliant",
        &["destination-type", "destination-not-approved"],
    ),
    (
        "subnet-firehose",
        "non-compliant",
        &["destination-type", "destination-not-approved"],
    ),
    (
        "eni-firehose",
        "non-compliant",
        &["destination-type", "destination-not-approved"],
    ),
    ("vpc-failed", "non-compliant", &["delivery-failed"]),
    ("subnet-failed", "non-compliant", &["delivery-failed"]),
    ("eni-failed", "non-compliant", &["delivery-failed"]),
    ("vpc-default-format", "non-compliant", &["fields-missing"]),
    (
        "subnet-default-format",
        "non-compliant",
        &["fields-missing"],
    ),
    ("eni-default-format", "non-compliant", &["fields-missing"]),
    (
        "vpc-ten-minutes",
        "non-compliant",
        &["aggregation-interval"],
    ),
    (
        "subnet-ten-minutes",
        "non-compliant",
        &["aggregation-interval"],
    ),
    (
        "eni-ten-minutes",
        "non-compliant",
        &["aggregation-interval"],
    ),
    ("vpc-unused", "unused", &["no-flow-log"]),
    ("vpc-shared", "shared", &["no-flow-log"]),
    ("subnet-shared", "shared", &["no-flow-log"]),
];

#[tokio::test]
async fn every_resource_gets_exactly_the_right_verdict_under_each_shipped_baseline() {
    let (e, ids) = seed().await;
    let dir = tempfile::tempdir().unwrap(); // no flowkeeper.yaml: baseline mode

    // Default baseline without a config: CIS.
    let (code, cis) = e.audit(dir.path(), &[]);
    assert_eq!(code, 2, "{cis:#}");
    assert_eq!(cis["baseline"], "cis-aws-foundations");
    assert_eq!(e.table(&cis), expected(VPC_BASELINE));
    let no_own = reason(&cis, &ids["subnets-only"], "no-own-flow-log");
    assert_eq!(
        no_own["text"],
        "0 of its own; 2 of 2 subnets covered (only a VPC's own flow log covers the VPC)"
    );
    let controls: Vec<(String, String)> = no_own["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        controls,
        [
            ("2.9", "v1.2.0"),
            ("3.9", "v1.4.0"),
            ("3.9", "v1.5.0"),
            ("3.9", "v2.0.0"),
            ("3.7", "v3.0.0"),
            ("3.7", "v4.0.0"),
            ("3.7", "v5.0.0"),
            ("4.7", "v6.0.0"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let failed = reason(&cis, &ids["failed"], "delivery-failed");
    assert!(
        failed["text"]
            .as_str()
            .unwrap()
            .contains("\"Access error\""),
        "{failed}"
    );
    assert!(failed["flow_log_id"].as_str().unwrap().starts_with("fl-"));
    let shared = cis["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == ids["shared"].as_str())
        .unwrap();
    assert_eq!(shared["owner"], ids["owner"].as_str());
    assert_eq!(shared["compliant"], false);

    let (code, fsbp) = e.audit(dir.path(), &["--baseline", "aws-fsbp"]);
    assert_eq!(code, 2);
    assert_eq!(e.table(&fsbp), expected(VPC_BASELINE));
    let ids_of = |r: &Value| -> Vec<String> {
        r["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids_of(reason(&fsbp, &ids["failed"], "delivery-failed")),
        ["EC2.6", "vpc-flow-logs-enabled"]
    );

    let (code, strict) = e.audit(
        dir.path(),
        &[
            "--baseline",
            "flowkeeper",
            "--approved-destination",
            &e.approved,
            "--approved-destination",
            "/fk/missing",
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(e.table(&strict), expected(STRICT));
    let summary = &strict["summary"][0];
    assert_eq!(summary["resources"], 34);
    assert_eq!(summary["compliant"], 7);
    assert_eq!(summary["non_compliant"], 24);
    assert_eq!(summary["shared"], 2);
    assert_eq!(summary["unused"], 1);

    // The other formats render the same verdicts; -o writes a file and never an input.
    let out = e.acct.run(
        dir.path(),
        &[
            "audit",
            "--regions",
            REGION,
            "-q",
            "--format",
            "csv",
            "-o",
            "audit.csv",
        ],
    );
    expect_exit(&out, 2);
    let csv = std::fs::read_to_string(dir.path().join("audit.csv")).unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.contains(REGION)).count(),
        34,
        "{csv}"
    );
    let out = e.acct.run(
        dir.path(),
        &[
            "audit",
            "--regions",
            REGION,
            "-q",
            "--format",
            "html",
            "-o",
            "audit.html",
        ],
    );
    expect_exit(&out, 2);
    let html = std::fs::read_to_string(dir.path().join("audit.html")).unwrap();
    assert!(
        html.contains(&ids["shared"]),
        "the page lists every resource"
    );
    std::fs::write(
        dir.path().join("mine.yaml"),
        policies_baseline("cis-aws-foundations"),
    )
    .unwrap();
    let out = e.acct.run(
        dir.path(),
        &[
            "audit",
            "--regions",
            REGION,
            "--baseline",
            "mine.yaml",
            "-o",
            "mine.yaml",
        ],
    );
    let (_, stderr) = expect_exit(&out, 1);
    assert!(stderr.contains("mine.yaml"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.yaml")).unwrap(),
        policies_baseline("cis-aws-foundations"),
        "the baseline file is untouched"
    );
    // A copy of a shipped baseline, as a user file, gives the same table.
    let (_, mine) = e.audit(dir.path(), &["--baseline", "mine.yaml"]);
    assert_eq!(e.table(&mine), expected(VPC_BASELINE));
}

#[tokio::test]
async fn with_a_config_audit_finds_the_gaps_apply_closes_them_and_audit_is_clean() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc(REGION, 20, &[]).await;
    let ec2 = acct.ec2(REGION);
    let subnet = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(&vpc)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_string();
    let eni = ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .network_interface
        .and_then(|n| n.network_interface_id)
        .unwrap();
    let config = format!(
        r#"version: 1
regions: [{REGION}]
destinations:
  archive:
    type: s3
    bucket: fk-audit-{{account_id}}
    create: true
flow_logs:
  - name: tagged-vpcs
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [archive]
"#
    );
    let dir = workdir(&config);
    let out = acct.run(dir.path(), &["audit", "--format", "json", "-q"]);
    let (stdout, _) = expect_exit(&out, 2);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["mode"], "config");
    let status = |r: &Value, id: &str| -> String {
        r["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["resource_id"] == id)
            .map(|x| x["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    // The entry holds on the VPC and on everything inside it; the rest is out of scope.
    for id in [&vpc, &subnet, &eni] {
        assert_eq!(status(&report, id), "non-compliant");
    }
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["vpc_id"] != vpc.as_str())
            .all(|x| x["status"] == "out-of-scope")
    );

    // --fix prints the planner's plan after the table.
    let out = acct.run(dir.path(), &["audit", "--fix", "-q"]);
    let (stdout, _) = expect_exit(&out, 2);
    assert!(stdout.contains("Plan to close the gaps"), "{stdout}");
    assert!(stdout.contains("flow-log"), "{stdout}");
    assert!(!stdout.contains("apply will not fix this"), "{stdout}");

    let out = acct.run(dir.path(), &["apply", "--yes", "-q"]);
    expect_exit(&out, 0);
    let out = acct.run(dir.path(), &["audit", "--format", "json", "-q"]);
    let (stdout, _) = expect_exit(&out, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    for id in [&vpc, &subnet, &eni] {
        assert_eq!(status(&report, id), "compliant");
    }
}

#[tokio::test]
async fn a_baseline_file_with_a_mistake_is_reported_with_its_position_and_nothing_is_audited() {
    let acct = Account::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.yaml"),
        "name: mine\nresources: [vpc]\nrequirement:\n  traffic_type: ALL\n  destination_type: [s3]\n",
    )
    .unwrap();
    let out = acct.run(dir.path(), &["audit", "--baseline", "mine.yaml"]);
    let (stdout, stderr) = expect_exit(&out, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("mine.yaml:5:3"), "{stderr}");
    assert!(
        stderr.contains("did you mean `destination_types`?"),
        "{stderr}"
    );
}
