//! The shipped CloudFormation templates (`templates/cloudformation/vpc-flow-logs-*.yaml`)
//! deploy the very policies `flowkeeper apply` writes: their bucket policy, trust policy and
//! delivery permissions, resolved for an account and region, are equivalent to what the
//! planner renders from `policies/*.json`. Changing a policy file fails these tests until the
//! templates follow.

#[path = "support/cfn_eval.rs"]
mod cfn_eval;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cfn_eval::Stack;
use flowkeeper::model::{AccountId, Encryption, Inventory, LifecycleRule};
use flowkeeper::plan::{self, WantedBucket, WantedRole};
use flowkeeper::policies;
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";

fn template(name: &str) -> String {
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    );
    std::fs::read_to_string(root.join("templates/cloudformation").join(name)).unwrap()
}

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

fn wanted_bucket(name: &str, prefix: Option<&str>, hive: bool) -> WantedBucket {
    let prefixes: BTreeSet<Option<String>> = [prefix.map(String::from)].into();
    WantedBucket {
        name: name.into(),
        region: REGION.into(),
        create: true,
        encryption: Encryption::SseS3,
        lifecycle_rules: Vec::new(),
        hive_prefixes: if hive {
            prefixes.clone()
        } else {
            BTreeSet::new()
        },
        prefixes,
        destinations: ["archive".to_string()].into(),
        sources: [account()].into(),
        org_id: None,
        owner: account(),
    }
}

fn assert_equivalent(what: &str, deployed: &Value, rendered: &Value) {
    assert!(
        policies::equivalent(deployed, rendered),
        "{what}: the template deploys\n{}\nbut plan renders\n{}",
        serde_json::to_string_pretty(deployed).unwrap(),
        serde_json::to_string_pretty(rendered).unwrap()
    );
}

#[test]
fn s3_template_bucket_policy_is_the_planners_plain_hive_and_prefixed() {
    let text = template("vpc-flow-logs-s3.yaml");
    for (prefix, hive) in [
        (None, false),
        (None, true),
        (Some("vpc"), false),
        (Some("vpc/x"), true),
    ] {
        let hive_text = hive.to_string();
        let mut overrides = vec![
            ("VpcId", "vpc-1"),
            ("HiveCompatiblePartitions", hive_text.as_str()),
        ];
        if let Some(p) = prefix {
            overrides.push(("Prefix", p));
        }
        let stack = Stack::new(&text, ACCOUNT, REGION, &overrides);
        let bucket = format!("flow-logs-{ACCOUNT}-{REGION}");
        let deployed = &stack.properties("BucketPolicy")["PolicyDocument"];
        let ours = plan::bucket_policy_statements(&wanted_bucket(&bucket, prefix, hive));
        assert_equivalent(
            &format!("bucket policy (prefix {prefix:?}, hive {hive})"),
            deployed,
            &policies::merge(None, &ours),
        );
        // The flow log delivers where the policy grants: the bucket (and prefix) ARN.
        let fl = stack.properties("FlowLog");
        let want = flowkeeper::model::FlowLogDestination::s3_arn("aws", &bucket, prefix);
        assert_eq!(fl["LogDestination"], json!(want));
        assert_eq!(
            fl["DestinationOptions"]["HiveCompatiblePartitions"],
            json!(hive_text)
        );
    }
}

#[test]
fn s3_template_bucket_settings_are_applys() {
    let text = template("vpc-flow-logs-s3.yaml");
    let kms = "arn:aws:kms:eu-west-1:111122223333:key/k";
    let stack = Stack::new(
        &text,
        ACCOUNT,
        REGION,
        &[
            ("VpcId", "vpc-1"),
            ("Prefix", "vpc"),
            ("TransitionDays", "30"),
            ("ExpireDays", "400"),
            ("KmsKeyArn", kms),
            ("DestinationName", "archive"),
        ],
    );
    let b = stack.properties("Bucket");
    // The same settings apply's bucket steps write (see src/export/cloudformation/resources.rs).
    let (apply_bucket, _) = flowkeeper::export::cloudformation::resources::bucket(
        "x",
        &[
            plan::BucketStep::PublicAccessBlock,
            plan::BucketStep::OwnershipEnforced,
            plan::BucketStep::Encryption {
                encryption: Encryption::Kms {
                    kms_key: kms.into(),
                },
            },
            plan::BucketStep::Lifecycle {
                rules: vec![LifecycleRule {
                    id: "flowkeeper-archive".into(),
                    prefix: flowkeeper::model::layout::aws_logs_root(Some("vpc")),
                    transition_days: Some(30),
                    storage_class: Some("STANDARD_IA".into()),
                    expire_days: Some(400),
                }],
                remove: Vec::new(),
            },
        ],
    );
    let a = &apply_bucket["Properties"];
    for key in [
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "BucketEncryption",
        "LifecycleConfiguration",
    ] {
        assert_eq!(b[key], a[key], "{key}");
    }
    // Without lifecycle days and key: SSE-S3 and no lifecycle rule.
    let plain = Stack::new(&text, ACCOUNT, REGION, &[("VpcId", "vpc-1")]).properties("Bucket");
    assert!(plain.get("LifecycleConfiguration").is_none());
    assert_eq!(
        plain["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"],
        json!({"SSEAlgorithm": "AES256"})
    );
}

#[test]
fn cloudwatch_template_role_policies_are_the_planners() {
    let text = template("vpc-flow-logs-cloudwatch.yaml");
    let stack = Stack::new(
        &text,
        ACCOUNT,
        REGION,
        &[
            ("VpcId", "vpc-1"),
            ("LogGroupName", "/fk/flows"),
            ("RoleName", "fk-role"),
        ],
    );
    let role = stack.properties("DeliveryRole");
    let wanted = WantedRole {
        name: "fk-role".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/fk-role"),
        log_groups: [(REGION.to_string(), "/fk/flows".to_string())].into(),
    };
    let inv = Inventory {
        account: account(),
        regions: Default::default(),
        buckets: Default::default(),
        roles: Default::default(),
    };
    let (trust, inline) = plan::role_policies(&wanted, &inv);
    assert_equivalent(
        "trust policy",
        &role["AssumeRolePolicyDocument"],
        &policies::merge(None, &trust),
    );
    assert_eq!(role["Policies"][0]["PolicyName"], plan::INLINE_POLICY_NAME);
    assert_equivalent(
        "inline policy",
        &role["Policies"][0]["PolicyDocument"],
        &inline,
    );
    let fl = stack.properties("FlowLog");
    assert_eq!(fl["LogGroupName"], "/fk/flows");
    assert_eq!(fl["DeliverLogsPermissionArn"], json!(wanted.arn));
    let lg = stack.properties("LogGroup");
    assert_eq!(lg["RetentionInDays"], json!(30));
    assert!(lg.get("KmsKeyId").is_none());
}

#[test]
fn the_evaluator_sees_a_changed_policy() {
    // The comparison can fail: a template whose write statement misses the account folder.
    let text =
        template("vpc-flow-logs-s3.yaml").replace("AWSLogs/${AWS::AccountId}/*", "AWSLogs/*");
    let stack = Stack::new(&text, ACCOUNT, REGION, &[("VpcId", "vpc-1")]);
    let ours = plan::bucket_policy_statements(&wanted_bucket(
        &format!("flow-logs-{ACCOUNT}-{REGION}"),
        None,
        false,
    ));
    assert!(!policies::equivalent(
        &stack.properties("BucketPolicy")["PolicyDocument"],
        &policies::merge(None, &ours)
    ));
}
