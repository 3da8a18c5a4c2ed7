//! Many accounts against moto: assume-role fan-out, a central log-archive bucket, Organizations
//! discovery and the --accounts filter. Every account is a fresh moto account.

mod support;

use serde_json::Value;
use support::{Account, expect_exit, fresh_account_id, workdir};

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => panic!("not a string list: {other}"),
    }
}

#[tokio::test]
async fn three_accounts_deliver_to_one_central_bucket_that_admits_exactly_them() {
    let caller = Account::new().await;
    let sources = [
        Account::new().await,
        Account::new().await,
        Account::new().await,
    ];
    let archive = Account::new().await;
    for (i, a) in sources.iter().enumerate() {
        a.seed_vpc("us-east-1", i as u8 + 1, &[]).await;
        a.seed_vpc("eu-west-1", i as u8 + 11, &[]).await;
    }
    let config = format!(
        r#"version: 1
regions: [us-east-1, eu-west-1]
defaults: {{ role_name: FlowkeeperAdmin }}
accounts:
  - {{ id: "{a}", name: prod }}
  - {{ id: "{b}" }}
  - {{ id: "{c}", regions: [us-east-1] }}
destinations:
  central:
    type: s3
    account: "{x}"
    bucket: central-flow-logs-{{account_id}}
    region: us-east-1
    create: true
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [central]
"#,
        a = sources[0].id,
        b = sources[1].id,
        c = sources[2].id,
        x = archive.id
    );
    let dir = workdir(&config);
    let (out, _) = expect_exit(&caller.run(dir.path(), &["plan", "--format", "json"]), 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let planned: Vec<&str> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap())
        .collect();
    assert_eq!(planned.len(), 4, "three sources and the archive: {out}");
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["account"].is_string()),
        "every item names its account"
    );
    let bucket_change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "s3-bucket")
        .unwrap();
    assert_eq!(
        bucket_change["account"],
        archive.id.as_str(),
        "the central bucket is created once, in the archive account"
    );

    let (_, err) = expect_exit(&caller.run(dir.path(), &["apply", "--yes"]), 0);
    assert!(
        err.contains(&format!("{}/us-east-1", sources[0].id)),
        "progress names account and region: {err}"
    );

    let bucket = format!("central-flow-logs-{}", archive.id);
    let policy = archive.bucket_policy("us-east-1", &bucket).await;
    let write = statement(&policy, "FlowkeeperLogDeliveryWrite");
    let mut expected: Vec<String> = sources.iter().map(|a| a.id.clone()).collect();
    expected.sort();
    assert_eq!(
        strings(&write["Condition"]["StringEquals"]["aws:SourceAccount"]),
        expected
    );
    let resources = strings(&write["Resource"]);
    assert_eq!(
        resources,
        expected
            .iter()
            .map(|a| format!("arn:aws:s3:::{bucket}/AWSLogs/{a}/*"))
            .collect::<Vec<_>>()
    );
    assert!(
        !strings(&write["Condition"]["StringEquals"]["aws:SourceAccount"]).contains(&caller.id)
    );

    for (i, a) in sources.iter().enumerate() {
        for region in ["us-east-1", "eu-west-1"] {
            let vpcs = a
                .ec2(region)
                .describe_vpcs()
                .send()
                .await
                .unwrap()
                .vpcs
                .unwrap_or_default();
            let fls = a.flow_logs(region).await;
            let wanted = region == "us-east-1" || i != 2;
            for v in vpcs {
                let n = fls
                    .iter()
                    .filter(|f| {
                        f.resource_id() == v.vpc_id()
                            && f.log_destination()
                                == Some(format!("arn:aws:s3:::{bucket}").as_str())
                    })
                    .count();
                assert_eq!(n, usize::from(wanted), "{} {region} {:?}", a.id, v.vpc_id());
            }
        }
    }
    assert!(
        archive.flow_logs("us-east-1").await.is_empty(),
        "the archive account only hosts the bucket"
    );
    let (out, _) = expect_exit(&caller.run(dir.path(), &["plan", "--detailed-exitcode"]), 0);
    assert!(
        out.contains("Plan (4 accounts): 0 to create, 0 to update, 0 to replace, 0 to delete."),
        "{out}"
    );

    // --accounts narrows the run, and the central policy still admits every configured account.
    let (out, _) = expect_exit(
        &caller.run(
            dir.path(),
            &["plan", "--accounts", &sources[1].id, "--format", "json"],
        ),
        0,
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["accounts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn organization_accounts_are_discovered_and_the_central_bucket_trusts_the_organization() {
    let management = Account::new().await;
    let org = aws_sdk_organizations::Client::new(&management.config("us-east-1"));
    let org_id = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap()
        .organization
        .and_then(|o| o.id)
        .unwrap();
    let mut members = Vec::new();
    for name in ["prod", "dev", "sandbox"] {
        let status = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap()
            .create_account_status
            .unwrap();
        members.push(status.account_id.unwrap());
    }
    let root = org
        .list_roots()
        .send()
        .await
        .unwrap()
        .roots
        .unwrap()
        .remove(0)
        .id
        .unwrap();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("workloads")
        .send()
        .await
        .unwrap()
        .organizational_unit
        .and_then(|o| o.id)
        .unwrap();
    for m in &members[..2] {
        org.move_account()
            .account_id(m)
            .source_parent_id(&root)
            .destination_parent_id(&ou)
            .send()
            .await
            .unwrap();
    }
    for (i, m) in members.iter().enumerate() {
        Account::assume(m)
            .await
            .seed_vpc("us-east-1", i as u8 + 1, &[])
            .await;
    }
    let archive = fresh_account_id();
    let config = |org_spec: &str| {
        format!(
            "version: 1\nregions: [us-east-1]\ndefaults: {{ role_name: FlowkeeperAdmin }}\norganization: {org_spec}\ndestinations:\n  central:\n    type: s3\n    account: \"{archive}\"\n    bucket: org-logs-{{account_id}}\n    create: true\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [central]\n"
        )
    };

    // Only the accounts under the OU, minus the excluded one.
    let dir = workdir(&config(&format!(
        "{{ ous: [{ou}], exclude: [\"{}\"] }}",
        members[1]
    )));
    let (out, _) = expect_exit(
        &management.run(dir.path(), &["plan", "--format", "json"]),
        2,
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    let mut planned: Vec<String> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap().to_string())
        .collect();
    planned.sort();
    let mut expected = vec![members[0].clone(), archive.clone()];
    expected.sort();
    assert_eq!(planned, expected, "{out}");

    // The whole organization: the management account is the caller and needs no role.
    let dir = workdir(&config("{}"));
    expect_exit(&management.run(dir.path(), &["apply", "--yes"]), 0);
    let owner = Account::assume(&archive).await;
    let policy = owner
        .bucket_policy("us-east-1", &format!("org-logs-{archive}"))
        .await;
    let write = statement(&policy, "FlowkeeperLogDeliveryWrite");
    assert_eq!(
        write["Condition"]["StringEquals"]["aws:SourceOrgID"],
        org_id.as_str()
    );
    assert!(
        write["Condition"]["StringEquals"]
            .get("aws:SourceAccount")
            .is_none()
    );
    for m in &members {
        let fls = Account::assume(m).await.flow_logs("us-east-1").await;
        assert!(!fls.is_empty(), "member {m} is logged");
    }
    expect_exit(
        &management.run(dir.path(), &["plan", "--detailed-exitcode"]),
        0,
    );
}

#[tokio::test]
async fn an_account_without_a_role_is_reported_and_the_others_still_run() {
    let caller = Account::new().await;
    let ok = Account::new().await;
    ok.seed_vpc("us-east-1", 1, &[]).await;
    let unreachable = fresh_account_id();
    let dir = workdir(&format!(
        "version: 1\nregions: [us-east-1]\naccounts:\n  - {{ id: \"{}\", role_name: FlowkeeperAdmin }}\n  - {{ id: \"{unreachable}\" }}\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/accounts\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [rt]\n",
        ok.id
    ));
    let (_, err) = expect_exit(&caller.run(dir.path(), &["apply", "--yes"]), 1);
    assert!(
        err.contains(&format!("no role to reach account {unreachable}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("planned: {}", ok.id)),
        "the report shows which accounts finished: {err}"
    );
    assert!(
        !ok.flow_logs("us-east-1").await.is_empty(),
        "the reachable account is applied"
    );
}

#[tokio::test]
async fn regions_all_means_every_enabled_region_and_the_regions_flag_narrows_it() {
    let acct = Account::new().await;
    let dir = workdir(
        "version: 1\nregions: all\ndestinations:\n  b:\n    type: s3\n    bucket: all-regions-{account_id}-{region}\n    create: true\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [b]\n",
    );
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--format", "json"]), 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let regions: std::collections::BTreeSet<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["region"].as_str())
        .collect();
    let all = acct
        .ec2("us-east-1")
        .describe_regions()
        .send()
        .await
        .unwrap()
        .regions
        .unwrap_or_default();
    let enabled = all
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .count();
    assert!(
        enabled > 10 && enabled < all.len(),
        "the emulator reports many regions, some not opted in"
    );
    assert_eq!(
        regions.len(),
        enabled,
        "a bucket and a flow log planned in every enabled region"
    );

    let (out, _) = expect_exit(
        &acct.run(
            dir.path(),
            &[
                "plan",
                "--regions",
                "eu-west-1,ap-southeast-2",
                "--format",
                "json",
            ],
        ),
        2,
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    let regions: std::collections::BTreeSet<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["region"].as_str())
        .collect();
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        ["ap-southeast-2", "eu-west-1"]
    );
}
