//! Destinations end to end against moto: account-wide resources under `--regions`, buckets two
//! destinations disagree on, and buckets owned by another account. One fresh account per test.

mod support;

use serde_json::Value;
use support::{Account, expect_exit, workdir};

/// The delivery role's inline policy, decoded.
async fn inline_policy(acct: &Account, role: &str) -> Value {
    let out = acct
        .iam()
        .get_role_policy()
        .role_name(role)
        .policy_name("flowkeeper-delivery")
        .send()
        .await
        .expect("inline policy");
    let text = percent_encoding::percent_decode_str(out.policy_document()).decode_utf8_lossy();
    serde_json::from_str(&text).expect("policy is JSON")
}

/// Lifecycle rules of a bucket as (id, expiration days).
async fn lifecycle(acct: &Account, bucket: &str) -> Vec<(String, Option<i32>)> {
    let out = acct
        .s3("us-east-1")
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .expect("lifecycle");
    out.rules()
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_string(),
                r.expiration().and_then(|e| e.days()),
            )
        })
        .collect()
}

/// Changes of a JSON plan of the given kind.
fn changes_of<'a>(plan: &'a Value, kind: &str) -> Vec<&'a Value> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .collect()
}

fn two_region_shared_config() -> String {
    r#"version: 1
regions: [us-east-1, us-west-2]
destinations:
  archive:
    type: s3
    bucket: fk-shared-{account_id}
    create: true
    lifecycle: { expire_days: 90 }
  realtime:
    type: cloudwatch-logs
    log_group: /fk/flows
    delivery_role: fk-delivery
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [archive, realtime]
"#
    .to_string()
}

#[tokio::test]
async fn regions_flag_never_narrows_the_delivery_role_or_the_shared_bucket() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    acct.seed_vpc("us-west-2", 2, &[]).await;
    let dir = workdir(&two_region_shared_config());
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let bucket = format!("fk-shared-{}", acct.id);
    let role_before = inline_policy(&acct, "fk-delivery").await;
    let bucket_before = acct.bucket_policy("us-east-1", &bucket).await;
    let lifecycle_before = lifecycle(&acct, &bucket).await;
    let text = role_before.to_string();
    assert!(
        text.contains("us-east-1") && text.contains("us-west-2"),
        "{text}"
    );

    for only in ["us-east-1", "us-west-2"] {
        let (out, _) = expect_exit(
            &acct.run(dir.path(), &["plan", "--regions", only, "--format", "json"]),
            0,
        );
        let plan: Value = serde_json::from_str(&out).unwrap();
        assert!(
            plan["changes"].as_array().unwrap().is_empty(),
            "--regions {only} plans nothing: {out}"
        );
    }
    expect_exit(
        &acct.run(dir.path(), &["apply", "--regions", "us-east-1", "--yes"]),
        0,
    );
    assert_eq!(
        inline_policy(&acct, "fk-delivery").await,
        role_before,
        "the role still admits both regions"
    );
    assert_eq!(
        acct.bucket_policy("us-east-1", &bucket).await,
        bucket_before
    );
    assert_eq!(lifecycle(&acct, &bucket).await, lifecycle_before);
    expect_exit(&acct.run(dir.path(), &["plan"]), 0);
}

#[tokio::test]
async fn a_first_apply_narrowed_to_one_region_builds_account_wide_resources_for_the_whole_config() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    acct.seed_vpc("us-west-2", 2, &[]).await;
    let dir = workdir(&two_region_shared_config());
    expect_exit(
        &acct.run(dir.path(), &["apply", "--regions", "us-west-2", "--yes"]),
        0,
    );
    let bucket = format!("fk-shared-{}", acct.id);
    let loc = acct
        .s3("us-east-1")
        .get_bucket_location()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let loc = loc.location_constraint().map(|c| c.as_str().to_string());
    assert!(
        loc.as_deref().is_none_or(str::is_empty),
        "the bucket without {{region}} lives in the first configured region, not in --regions: {loc:?}"
    );
    let role = inline_policy(&acct, "fk-delivery").await.to_string();
    assert!(
        role.contains("us-east-1") && role.contains("us-west-2"),
        "{role}"
    );

    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--format", "json"]), 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert!(changes_of(&plan, "s3-bucket").is_empty(), "{out}");
    assert!(changes_of(&plan, "iam-role").is_empty(), "{out}");
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["region"] == "us-east-1"),
        "only us-east-1's own resources are left: {out}"
    );
}

#[tokio::test]
async fn destinations_disagreeing_on_a_bucket_after_expansion_stop_that_bucket_and_its_flow_logs() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    let config = format!(
        r#"version: 1
regions: [us-east-1]
destinations:
  plain:
    type: s3
    bucket: fk-clash-{{account_id}}
    create: true
  sealed:
    type: s3
    bucket: fk-clash-{id}
    create: true
    encryption: {{ kms_key: "arn:aws:kms:us-east-1:{id}:key/00000000-0000-0000-0000-000000000000" }}
  realtime:
    type: cloudwatch-logs
    log_group: /fk/clash
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [plain, sealed, realtime]
"#,
        id = acct.id
    );
    let dir = workdir(&config);
    expect_exit(&acct.run(dir.path(), &["validate"]), 0);
    let (out, err) = expect_exit(&acct.run(dir.path(), &["plan", "--format", "json"]), 1);
    assert!(
        err.contains(&format!("bucket fk-clash-{}", acct.id))
            && err.contains("`plain`")
            && err.contains("`sealed`")
            && err.contains("encryption"),
        "the conflict names the bucket, both destinations and the setting: {err}"
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert!(changes_of(&plan, "s3-bucket").is_empty(), "{out}");
    let flow_logs = changes_of(&plan, "flow-log");
    assert!(
        !flow_logs.is_empty()
            && flow_logs
                .iter()
                .all(|c| c["target"].as_str().unwrap().ends_with("→ realtime")),
        "only flow logs into the other destination: {out}"
    );

    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 1);
    let head = acct
        .s3("us-east-1")
        .head_bucket()
        .bucket(format!("fk-clash-{}", acct.id))
        .send()
        .await;
    assert!(head.is_err(), "the disputed bucket is not created");
    let fls = acct.flow_logs("us-east-1").await;
    assert!(!fls.is_empty());
    assert!(
        fls.iter().all(|f| f.log_group_name() == Some("/fk/clash")),
        "flow logs only into the destination without a problem"
    );
}

#[tokio::test]
async fn the_emulator_answers_403_when_expected_bucket_owner_differs() {
    let owner = Account::new().await;
    let other = Account::new().await;
    let bucket = format!("fk-ebo-{}", owner.id);
    owner
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let s3 = other.s3("us-east-1");
    let denied = s3
        .head_bucket()
        .bucket(&bucket)
        .expected_bucket_owner(&other.id)
        .send()
        .await
        .expect_err("owner differs");
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    let denied = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .expected_bucket_owner(&other.id)
        .send()
        .await
        .expect_err("owner differs");
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    s3.head_bucket()
        .bucket(&bucket)
        .expected_bucket_owner(&owner.id)
        .send()
        .await
        .expect("the right owner is admitted");
}

#[tokio::test]
async fn a_bucket_owned_by_another_account_is_reported_and_never_edited() {
    let owner = Account::new().await;
    let intruder = Account::new().await;
    intruder.seed_vpc("us-east-1", 1, &[]).await;
    let bucket = format!("fk-taken-{}", owner.id);
    let config = |expire: u32| {
        format!(
            "version: 1\nregions: [us-east-1]\ndestinations:\n  archive:\n    type: s3\n    bucket: {bucket}\n    create: true\n    lifecycle: {{ expire_days: {expire} }}\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [archive]\n"
        )
    };
    let owner_dir = workdir(&config(90));
    expect_exit(&owner.run(owner_dir.path(), &["apply", "--yes"]), 0);
    let policy_before = owner.bucket_policy("us-east-1", &bucket).await;
    let lifecycle_before = lifecycle(&owner, &bucket).await;

    let dir = workdir(&config(30));
    let (out, err) = expect_exit(&intruder.run(dir.path(), &["plan", "--format", "json"]), 1);
    assert!(
        err.contains(&format!("bucket {bucket}")) && err.contains("owned by another account"),
        "{err}"
    );
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert!(
        plan["changes"].as_array().unwrap().is_empty(),
        "nothing is planned on or into someone else's bucket: {out}"
    );
    expect_exit(&intruder.run(dir.path(), &["apply", "--yes"]), 1);
    assert_eq!(
        owner.bucket_policy("us-east-1", &bucket).await,
        policy_before,
        "the owner's flowkeeper statements still admit only the owner"
    );
    assert_eq!(lifecycle(&owner, &bucket).await, lifecycle_before);
    assert!(intruder.flow_logs("us-east-1").await.is_empty());
}
