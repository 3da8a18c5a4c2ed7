//! plan/apply end to end: the real binary against moto, one fresh account per test.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::{Account, expect_exit, workdir};

const ALL_FIELDS: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path} ${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}";
const DEFAULT_FIELDS: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

fn two_region_config(format: &str) -> String {
    format!(
        r#"version: 1
regions: [us-east-1, eu-west-1]
destinations:
  archive:
    type: s3
    bucket: fk-archive-{{account_id}}-{{region}}
    prefix: vpc
    create: true
    lifecycle: {{ transition_days: 30, storage_class: STANDARD_IA, expire_days: 400 }}
    file_format: parquet
    hive_compatible_partitions: true
  realtime:
    type: cloudwatch-logs
    log_group: /flowkeeper/flows
    retention_days: 30
    delivery_role: fk-delivery
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    exclude: {{ tags: {{ flowkeeper: skip }} }}
    destinations: [archive, realtime]
    format: {format}
    max_aggregation_interval: 60
    tags: {{ owner: secops }}
  - name: prod-subnet-rejects
    resource: subnet
    select: {{ tags: {{ env: prod }} }}
    traffic_type: REJECT
    destinations: [realtime]
    format: default
"#
    )
}

fn tags(fl: &aws_sdk_ec2::types::FlowLog) -> BTreeMap<String, String> {
    fl.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn vpc_ids(acct: &Account, region: &str) -> Vec<String> {
    let out = acct.ec2(region).describe_vpcs().send().await.unwrap();
    out.vpcs()
        .iter()
        .filter(|v| !v.tags().iter().any(|t| t.key() == Some("flowkeeper")))
        .map(|v| v.vpc_id().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn apply_creates_every_destination_and_flow_log_then_plan_is_clean() {
    let acct = Account::new().await;
    let (_, prod_subnet) = acct.seed_vpc("us-east-1", 1, &[("env", "prod")]).await;
    let (_, dev_subnet) = acct.seed_vpc("eu-west-1", 2, &[("env", "dev")]).await;
    let (skipped_vpc, _) = acct
        .seed_vpc("eu-west-1", 3, &[("flowkeeper", "skip")])
        .await;
    let dir = workdir(&two_region_config("all"));

    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 2);
    assert!(out.contains("+ s3-bucket fk-archive-"), "{out}");
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);

    for region in ["us-east-1", "eu-west-1"] {
        let bucket = format!("fk-archive-{}-{region}", acct.id);
        let s3 = acct.s3(region);
        let loc = s3
            .get_bucket_location()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let loc = loc
            .location_constraint()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        assert_eq!(
            if loc.is_empty() {
                "us-east-1".to_string()
            } else {
                loc
            },
            region
        );
        let pab = s3
            .get_public_access_block()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let pab = pab.public_access_block_configuration().unwrap();
        assert!(pab.block_public_acls().unwrap() && pab.ignore_public_acls().unwrap());
        assert!(pab.block_public_policy().unwrap() && pab.restrict_public_buckets().unwrap());
        let own = s3
            .get_bucket_ownership_controls()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        assert_eq!(
            own.ownership_controls().unwrap().rules()[0]
                .object_ownership()
                .as_str(),
            "BucketOwnerEnforced"
        );
        let enc = s3
            .get_bucket_encryption()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let rule = enc.server_side_encryption_configuration().unwrap().rules()[0]
            .apply_server_side_encryption_by_default()
            .unwrap()
            .clone();
        assert_eq!(rule.sse_algorithm().as_str(), "AES256");
        let lc = s3
            .get_bucket_lifecycle_configuration()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let r = &lc.rules()[0];
        assert_eq!(r.id(), Some("flowkeeper-archive"));
        assert_eq!(r.filter().and_then(|f| f.prefix()), Some("vpc/AWSLogs/"));
        assert_eq!(r.expiration().and_then(|e| e.days()), Some(400));
        assert_eq!(r.transitions()[0].days(), Some(30));
        let policy: Value = acct.bucket_policy(region, &bucket).await;
        let st = policy["Statement"].as_array().unwrap();
        let sids: Vec<&str> = st.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert_eq!(
            sids,
            [
                "FlowkeeperDenyInsecureTransport",
                "FlowkeeperLogDeliveryWrite",
                "FlowkeeperLogDeliveryAclCheck"
            ]
        );
        assert_eq!(
            st[1]["Resource"][0],
            format!("arn:aws:s3:::{bucket}/vpc/AWSLogs/{}/*", acct.id)
        );
        // `archive` delivers with Hive-compatible partitions: AWS writes those here.
        assert_eq!(
            st[1]["Resource"][1],
            format!(
                "arn:aws:s3:::{bucket}/vpc/AWSLogs/aws-account-id={}/*",
                acct.id
            )
        );
        assert_eq!(
            st[1]["Condition"]["StringEquals"]["aws:SourceAccount"][0],
            acct.id.as_str()
        );
        assert_eq!(
            st[1]["Condition"]["ArnLike"]["aws:SourceArn"][0],
            format!("arn:aws:logs:*:{}:*", acct.id)
        );

        let groups = acct
            .logs(region)
            .describe_log_groups()
            .log_group_name_prefix("/flowkeeper/flows")
            .send()
            .await
            .unwrap();
        assert_eq!(groups.log_groups().len(), 1);
        assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));

        let fls = acct.flow_logs(region).await;
        let role_arn = format!("arn:aws:iam::{}:role/fk-delivery", acct.id);
        for vpc in vpc_ids(&acct, region).await {
            let mine: Vec<_> = fls
                .iter()
                .filter(|f| f.resource_id() == Some(vpc.as_str()))
                .collect();
            assert_eq!(
                mine.len(),
                2,
                "one S3 and one CloudWatch flow log on {vpc}: {mine:?}"
            );
            let s3fl = mine
                .iter()
                .find(|f| f.log_destination_type().map(|t| t.as_str()) == Some("s3"))
                .unwrap();
            assert_eq!(
                s3fl.log_destination(),
                Some(format!("arn:aws:s3:::{bucket}/vpc").as_str())
            );
            assert_eq!(s3fl.log_format(), Some(ALL_FIELDS));
            assert_eq!(s3fl.max_aggregation_interval(), Some(60));
            assert_eq!(s3fl.traffic_type().unwrap().as_str(), "ALL");
            let o = s3fl.destination_options().unwrap();
            assert_eq!(o.file_format().unwrap().as_str(), "parquet");
            assert_eq!(o.hive_compatible_partitions(), Some(true));
            assert_eq!(o.per_hour_partition(), Some(false));
            let t = tags(s3fl);
            assert_eq!(t["managed-by"], "flowkeeper");
            assert_eq!(t["flowkeeper:entry"], "all-vpcs");
            assert_eq!(t["flowkeeper:destination"], "archive");
            assert_eq!(t["owner"], "secops");
            let cw = mine
                .iter()
                .find(|f| f.log_destination_type().map(|t| t.as_str()) == Some("cloud-watch-logs"))
                .unwrap();
            assert_eq!(cw.log_group_name(), Some("/flowkeeper/flows"));
            assert_eq!(cw.deliver_logs_permission_arn(), Some(role_arn.as_str()));
        }
    }
    let east = acct.flow_logs("us-east-1").await;
    let rejects: Vec<_> = east
        .iter()
        .filter(|f| f.resource_id() == Some(prod_subnet.as_str()))
        .collect();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].traffic_type().unwrap().as_str(), "REJECT");
    assert_eq!(rejects[0].log_format(), Some(DEFAULT_FIELDS));
    let west = acct.flow_logs("eu-west-1").await;
    assert!(
        !west
            .iter()
            .any(|f| f.resource_id() == Some(dev_subnet.as_str())),
        "dev subnet is not selected"
    );
    assert!(
        !west
            .iter()
            .any(|f| f.resource_id() == Some(skipped_vpc.as_str())),
        "excluded VPC has no flow log"
    );

    let role = acct
        .iam()
        .get_role()
        .role_name("fk-delivery")
        .send()
        .await
        .unwrap();
    let trust = percent_encoding::percent_decode_str(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    )
    .decode_utf8_lossy()
    .to_string();
    let trust: Value = serde_json::from_str(&trust).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "vpc-flow-logs.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        acct.id.as_str()
    );
    let inline = acct
        .iam()
        .get_role_policy()
        .role_name("fk-delivery")
        .policy_name("flowkeeper-delivery")
        .send()
        .await
        .unwrap();
    let inline = percent_encoding::percent_decode_str(inline.policy_document())
        .decode_utf8_lossy()
        .to_string();
    assert!(
        inline.contains(&format!(
            "arn:aws:logs:eu-west-1:{}:log-group:/flowkeeper/flows:*",
            acct.id
        )),
        "{inline}"
    );

    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--detailed-exitcode"]), 0);
    assert!(out.contains("No changes."), "{out}");
    let (out, _) = expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    assert!(
        out.contains("No changes."),
        "a second apply changes nothing: {out}"
    );
}

#[tokio::test]
async fn changing_the_log_format_replaces_new_first_and_leaves_one_flow_log_per_destination() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[("env", "prod")]).await;
    let dir = workdir(&two_region_config("all"));
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let before: Vec<String> = acct
        .flow_logs("us-east-1")
        .await
        .iter()
        .map(|f| f.flow_log_id().unwrap().to_string())
        .collect();

    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        two_region_config("default"),
    )
    .unwrap();
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--format", "json"]), 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let vpcs = vpc_ids(&acct, "us-east-1").await.len() + vpc_ids(&acct, "eu-west-1").await.len();
    assert_eq!(
        plan["summary"]["replace"],
        2 * vpcs,
        "S3 and CloudWatch flow log of every VPC: {out}"
    );
    assert_eq!(plan["summary"]["create"], 0);
    assert_eq!(plan["summary"]["delete"], 0);
    let replace = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "replace")
        .unwrap();
    assert_eq!(replace["kind"], "flow-log");
    assert_eq!(replace["attributes"][0]["name"], "log_format");

    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let after = acct.flow_logs("us-east-1").await;
    for vpc in vpc_ids(&acct, "us-east-1").await {
        let mine: Vec<_> = after
            .iter()
            .filter(|f| f.resource_id() == Some(vpc.as_str()))
            .collect();
        assert_eq!(
            mine.len(),
            2,
            "exactly one flow log per destination on {vpc}"
        );
        for f in mine {
            assert_eq!(f.log_format(), Some(DEFAULT_FIELDS));
            assert!(
                !before.contains(&f.flow_log_id().unwrap().to_string()),
                "the old flow log is gone"
            );
        }
    }
    expect_exit(&acct.run(dir.path(), &["plan"]), 0);
}

#[tokio::test]
async fn foreign_bucket_policy_statements_survive_the_merge() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    let bucket = format!("existing-logs-{}", acct.id);
    let s3 = acct.s3("us-east-1");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let foreign = serde_json::json!({
        "Sid": "AllowAuditorsToRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")
    });
    let stale_ours = serde_json::json!({
        "Sid": "FlowkeeperLogDeliveryAclCheck", "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetBucketAcl",
        "Resource": format!("arn:aws:s3:::{bucket}")
    });
    let doc =
        serde_json::json!({"Version": "2012-10-17", "Statement": [foreign.clone(), stale_ours]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(doc.to_string())
        .send()
        .await
        .unwrap();
    let dir = workdir(&format!(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  shared:\n    type: s3\n    bucket: {bucket}\n    create: false\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [shared]\n"
    ));
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 2);
    assert!(out.contains("~ s3-bucket"), "{out}");
    assert!(
        !out.contains("public_access_block"),
        "create: false leaves bucket settings alone: {out}"
    );
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let policy: Value = acct.bucket_policy("us-east-1", &bucket).await;
    let st = policy["Statement"].as_array().unwrap();
    assert_eq!(
        st[0], foreign,
        "the foreign statement is kept, unchanged and in place"
    );
    assert_eq!(st.len(), 4);
    let acl = st
        .iter()
        .find(|s| s["Sid"] == "FlowkeeperLogDeliveryAclCheck")
        .unwrap();
    assert_eq!(
        acl["Condition"]["StringEquals"]["aws:SourceAccount"][0],
        acct.id.as_str(),
        "our stale statement was rewritten"
    );
    expect_exit(&acct.run(dir.path(), &["plan", "--detailed-exitcode"]), 0);
}

#[tokio::test]
async fn prune_deletes_only_managed_flow_logs_that_are_no_longer_wanted() {
    let acct = Account::new().await;
    let (vpc, subnet) = acct.seed_vpc("us-east-1", 1, &[("env", "prod")]).await;
    let base = "version: 1\nregions: [us-east-1]\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/prune\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: { ids: [VPC] }\n    destinations: [rt]\n";
    let both = format!("{base}  - name: subnets\n    resource: subnet\n    select: {{ tags: {{ env: prod }} }}\n    destinations: [rt]\n").replace("VPC", &vpc);
    let dir = workdir(&both);
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    // Someone else's flow log on the same subnet, which flowkeeper must never delete.
    let ec2 = acct.ec2("us-east-1");
    let theirs = ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Subnet)
        .resource_ids(&subnet)
        .traffic_type(aws_sdk_ec2::types::TrafficType::Accept)
        .log_group_name("/their/logs")
        .deliver_logs_permission_arn(format!("arn:aws:iam::{}:role/theirs", acct.id))
        .send()
        .await
        .unwrap()
        .flow_log_ids()[0]
        .clone();

    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        base.replace("VPC", &vpc),
    )
    .unwrap();
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 0);
    assert!(
        out.contains("no longer in the config and are kept (--prune deletes them)"),
        "{out}"
    );
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--prune"]), 2);
    assert!(
        out.contains("Plan: 0 to create, 0 to update, 0 to replace, 1 to delete."),
        "{out}"
    );
    expect_exit(&acct.run(dir.path(), &["apply", "--prune", "--yes"]), 0);
    let left = acct.flow_logs("us-east-1").await;
    let ids: Vec<&str> = left.iter().map(|f| f.flow_log_id().unwrap()).collect();
    assert!(
        ids.contains(&theirs.as_str()),
        "the unmanaged flow log survives"
    );
    assert_eq!(
        left.iter()
            .filter(|f| f.resource_id() == Some(subnet.as_str()))
            .count(),
        1
    );
    assert_eq!(
        left.iter()
            .filter(|f| f.resource_id() == Some(vpc.as_str()))
            .count(),
        1,
        "the wanted VPC flow log stays"
    );
    expect_exit(&acct.run(dir.path(), &["plan", "--prune"]), 0);
}

#[tokio::test]
async fn an_unmanaged_flow_log_with_the_desired_settings_counts_as_covered() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 1, &[]).await;
    let bucket = format!("covered-{}", acct.id);
    acct.s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    acct.ec2("us-east-1")
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
        .log_destination(format!("arn:aws:s3:::{bucket}/"))
        .max_aggregation_interval(600)
        .send()
        .await
        .unwrap();
    let dir = workdir(&format!(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  b:\n    type: s3\n    bucket: {bucket}\nflow_logs:\n  - name: v\n    resource: vpc\n    select: {{ ids: [{vpc}] }}\n    destinations: [b]\n"
    ));
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 0);
    assert!(out.contains(&format!("us-east-1 {vpc} by fl-")), "{out}");
    assert_eq!(
        acct.flow_logs("us-east-1")
            .await
            .iter()
            .filter(|f| f.resource_id() == Some(vpc.as_str()))
            .count(),
        1,
        "no duplicate"
    );
}

#[tokio::test]
async fn an_interrupted_replace_is_completed_by_the_next_apply() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 1, &[]).await;
    let config = |fmt: &str| {
        format!(
            "version: 1\nregions: [us-east-1]\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/cut\nflow_logs:\n  - name: v\n    resource: vpc\n    select: {{ ids: [{vpc}] }}\n    destinations: [rt]\n    format: {fmt}\n"
        )
    };
    let dir = workdir(&config("all"));
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let old = acct.flow_logs("us-east-1").await.remove(0);
    // The first half of a replace: the new flow log exists, the old one was never deleted.
    let mut req = acct
        .ec2("us-east-1")
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_group_name("/fk/cut")
        .deliver_logs_permission_arn(old.deliver_logs_permission_arn().unwrap())
        .log_format(DEFAULT_FIELDS)
        .max_aggregation_interval(600);
    let mut spec = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::VpcFlowLog);
    for t in old.tags() {
        spec = spec.tags(t.clone());
    }
    req = req.tag_specifications(spec.build());
    req.send().await.unwrap();

    std::fs::write(dir.path().join("flowkeeper.yaml"), config("default")).unwrap();
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 2);
    assert!(
        out.contains("Plan: 0 to create, 0 to update, 0 to replace, 1 to delete."),
        "{out}"
    );
    assert!(out.contains("completes an interrupted replace"), "{out}");
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let left = acct.flow_logs("us-east-1").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].log_format(), Some(DEFAULT_FIELDS));
    assert_ne!(left[0].flow_log_id(), old.flow_log_id());
}

#[tokio::test]
async fn apply_refuses_without_a_terminal_or_yes_and_changes_nothing() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    let dir = workdir(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/refuse\nflow_logs:\n  - name: v\n    resource: vpc\n    select: all\n    destinations: [rt]\n",
    );
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply"]), 1);
    assert!(
        err.contains("refusing to apply without confirmation"),
        "{err}"
    );
    assert!(acct.flow_logs("us-east-1").await.is_empty());
    expect_exit(&acct.run(dir.path(), &["plan"]), 2);
}
