//! The operator policy (`policies/flowkeeper-operator.json`) grants every API call flowkeeper
//! makes, and the CloudFormation template ships exactly that policy. The read-only policies
//! cover their commands: `flowkeeper-analyze.json` analyze's reads, `flowkeeper-verify.json`
//! every read flowkeeper makes (verify discovers and plans as `plan` does, then reads the
//! destinations' documents and deliveries) and nothing that changes anything.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

fn root() -> PathBuf {
    // At run time: a test binary built from another checkout of the same target directory
    // must read this checkout's files.
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
}

/// API operations named in `src/aws`: every call is classified under a `"service:Operation"`
/// string literal.
fn operations_called() -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("src/aws")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for literal in text.split('"').skip(1).step_by(2) {
            let Some((service, op)) = literal.split_once(':') else {
                continue;
            };
            let known = [
                "ec2",
                "s3",
                "iam",
                "logs",
                "sts",
                "organizations",
                "kms",
                "athena",
            ]
            .contains(&service);
            if known
                && op.starts_with(|c: char| c.is_ascii_uppercase())
                && op.chars().all(|c| c.is_ascii_alphanumeric())
            {
                ops.insert(literal.to_string());
            }
        }
    }
    ops
}

/// The IAM action that authorizes an API operation, where the names differ.
fn iam_action(op: &str) -> &str {
    match op {
        "s3:HeadBucket" | "s3:ListObjectsV2" => "s3:ListBucket",
        "s3:ListBuckets" => "s3:ListAllMyBuckets",
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "s3:PutPublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "s3:PutBucketEncryption" => "s3:PutEncryptionConfiguration",
        "s3:GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration",
        "s3:PutBucketLifecycleConfiguration" | "s3:DeleteBucketLifecycle" => {
            "s3:PutLifecycleConfiguration"
        }
        other => other,
    }
}

fn allowed_actions(policy: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for st in policy["Statement"].as_array().unwrap() {
        if st["Effect"] != "Allow" {
            continue;
        }
        match &st["Action"] {
            Value::String(a) => {
                out.insert(a.clone());
            }
            Value::Array(a) => out.extend(a.iter().map(|x| x.as_str().unwrap().to_string())),
            other => panic!("unexpected Action {other}"),
        }
    }
    out
}

fn policy(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("policies").join(name)).unwrap())
        .unwrap()
}

fn operator_policy() -> Value {
    policy("flowkeeper-operator.json")
}

/// Calls only `analyze` makes (reading delivered logs, and running its queries with
/// `--engine athena`); they belong to the analyze policy.
const ANALYZE_ONLY: &[&str] = &[
    "s3:GetObject",
    "s3:ListObjectsV2",
    "logs:FilterLogEvents",
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StopQueryExecution",
];

/// Calls only `verify` makes (besides analyze's): the documents that decide whether delivery
/// can work (key policies, the delivery role's policies) and the newest deliveries. They belong to the verify policy; the operator does not need them.
const VERIFY_ONLY: &[&str] = &[
    "kms:GetKeyPolicy",
    "kms:DescribeKey",
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
];

/// An operation that only reads (by AWS's naming: Describe/Get/List/Head/Filter), or the STS
/// calls every command makes to learn and reach its accounts.
fn is_read(op: &str) -> bool {
    let name = op.split_once(':').map_or(op, |(_, n)| n);
    ["Describe", "Get", "List", "Head", "Filter"]
        .iter()
        .any(|p| name.starts_with(p))
        || op == "sts:AssumeRole"
}

#[test]
fn the_operator_and_analyze_policies_allow_every_call_flowkeeper_makes() {
    let ops = operations_called();
    assert!(ops.len() >= 25, "the scan found the calls: {ops:?}");
    let allowed = allowed_actions(&operator_policy());
    let missing: Vec<&str> = ops
        .iter()
        .filter(|o| !ANALYZE_ONLY.contains(&o.as_str()) && !VERIFY_ONLY.contains(&o.as_str()))
        .map(|o| iam_action(o))
        .filter(|a| !allowed.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "policies/flowkeeper-operator.json lacks {missing:?}"
    );
    // CreateFlowLogs also needs PassRole (CloudWatch) and log delivery (S3) on the caller.
    for extra in [
        "iam:PassRole",
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
    ] {
        assert!(allowed.contains(extra), "missing {extra}");
    }
    let analyze = allowed_actions(&policy("flowkeeper-analyze.json"));
    // Besides the logs: flow logs to read, and (`--flow-log`, `--discover`) the VPCs' CIDR
    // blocks, subnets and middlebox interfaces that say which addresses are ours; with a
    // config, `--discover` reaches every account of the estate (Organizations, AssumeRole).
    let discovery = [
        "ec2:DescribeFlowLogs",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeNetworkInterfaces",
        "organizations:ListAccounts",
        "organizations:DescribeOrganization",
        "sts:AssumeRole",
        // `regions: all` in the config.
        "ec2:DescribeRegions",
    ];
    for op in ANALYZE_ONLY.iter().chain(&discovery) {
        assert!(ops.contains(*op), "{op} is still called");
        assert!(
            analyze.contains(iam_action(op)),
            "policies/flowkeeper-analyze.json lacks {op}"
        );
    }
    // Athena reads the table's definition from Glue and writes results to S3 as the caller.
    for extra in [
        "glue:GetDatabase",
        "glue:GetTable",
        "s3:PutObject",
        "s3:GetBucketLocation",
    ] {
        assert!(
            analyze.contains(extra),
            "policies/flowkeeper-analyze.json lacks {extra} (analyze --engine athena)"
        );
    }
}

#[test]
fn the_verify_policy_allows_every_read_flowkeeper_makes_and_nothing_else() {
    let ops = operations_called();
    let policy = policy("flowkeeper-verify.json");
    let allowed = allowed_actions(&policy);
    for op in VERIFY_ONLY {
        assert!(
            ops.contains(*op),
            "{op} is called in src/aws (verify's reads)"
        );
    }
    // Athena's reads are analyze --engine athena's, not verify's.
    let reads: Vec<&String> = ops
        .iter()
        .filter(|o| is_read(o) && !o.starts_with("athena:"))
        .collect();
    assert!(
        reads.len() >= 30,
        "the scan found the reads, verify's own included: {reads:?}"
    );
    let missing: Vec<&str> = reads
        .iter()
        .map(|o| iam_action(o))
        .filter(|a| !allowed.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "policies/flowkeeper-verify.json lacks {missing:?}"
    );
    // GetObject on an SSE-KMS object needs kms:Decrypt on its key, through S3 only.
    assert!(
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Effect"] == "Allow"
                && s["Action"] == "kms:Decrypt"
                && s["Condition"]["StringLike"]["kms:ViaService"] == "s3.*.amazonaws.com"),
        "policies/flowkeeper-verify.json lacks kms:Decrypt via S3 (reading SSE-KMS objects)"
    );
    // Read-only: every action it grants is a read (s3:ListBucket authorizes HeadBucket and
    // ListObjectsV2; ListAllMyBuckets the ownership check; GetEncryptionConfiguration,
    // GetBucketPublicAccessBlock and GetLifecycleConfiguration are IAM's names for reads;
    // kms:Decrypt through S3 is what reading an SSE-KMS object takes).
    let writes: Vec<&String> = allowed
        .iter()
        .filter(|a| {
            !is_read(a)
                && *a != "s3:ListBucket"
                && *a != "s3:ListAllMyBuckets"
                && *a != "kms:Decrypt"
        })
        .collect();
    assert!(writes.is_empty(), "verify's policy grants {writes:?}");
    for st in policy["Statement"].as_array().unwrap() {
        if st["Effect"] != "Allow" {
            continue;
        }
        assert_ne!(st["Action"], "*", "no wildcard grants: {st}");
        assert_ne!(
            st["Resource"],
            Value::Null,
            "every statement names its resources: {st}"
        );
    }
    assert!(
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Effect"] == "Deny"
                && s["Action"] == "*"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"),
        "TLS required"
    );
}

#[test]
fn deletion_is_limited_to_managed_flow_logs_and_tls_is_required() {
    let policy = operator_policy();
    let st = policy["Statement"].as_array().unwrap();
    let delete = st
        .iter()
        .find(|s| s["Action"] == "ec2:DeleteFlowLogs")
        .unwrap();
    assert_eq!(
        delete["Condition"]["StringEquals"]["aws:ResourceTag/managed-by"],
        "flowkeeper"
    );
    let pass = st.iter().find(|s| s["Action"] == "iam:PassRole").unwrap();
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "vpc-flow-logs.amazonaws.com"
    );
    assert!(
        st.iter()
            .any(|s| s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
    );
}

#[test]
fn the_cloudformation_template_ships_the_same_operator_policy() {
    let text = std::fs::read_to_string(
        root().join("templates/cloudformation/flowkeeper-operator-role.yaml"),
    )
    .unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let policy = &doc["Resources"]["OperatorRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    let policy: Value = serde_json::to_value(policy).unwrap();
    assert_eq!(
        policy,
        operator_policy(),
        "keep the template in step with policies/flowkeeper-operator.json"
    );
}

/// What `audit` reads: discovery, accounts, and (for `--fix`) the planner's reads of
/// destinations. Every read call in `src/aws` except reading delivered logs (analyze's) and
/// verify's own reads (key policies, role policies, log streams and events).
fn audit_calls(ops: &BTreeSet<String>) -> Vec<String> {
    ops.iter()
        .filter(|o| !ANALYZE_ONLY.contains(&o.as_str()) && !VERIFY_ONLY.contains(&o.as_str()))
        .filter(|o| {
            let op = o.split_once(':').map_or("", |(_, op)| op);
            ["Describe", "Get", "List", "Head"]
                .iter()
                .any(|p| op.starts_with(p))
                || o.as_str() == "sts:AssumeRole"
        })
        .cloned()
        .collect()
}

#[test]
fn the_audit_policy_allows_every_read_audit_makes_and_nothing_that_writes() {
    let ops = operations_called();
    let reads = audit_calls(&ops);
    for op in [
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeRegions",
        "sts:GetCallerIdentity",
        "organizations:ListAccounts",
    ] {
        assert!(reads.iter().any(|r| r == op), "{op} is among audit's reads");
    }
    let policy = policy("flowkeeper-audit.json");
    let allowed = allowed_actions(&policy);
    let missing: Vec<&str> = reads
        .iter()
        .map(|o| iam_action(o))
        .filter(|a| !allowed.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "policies/flowkeeper-audit.json lacks {missing:?}"
    );
    let writes: Vec<&String> = allowed
        .iter()
        .filter(|a| {
            let op = a.split_once(':').map_or("", |(_, op)| op);
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| op.starts_with(p))
                && a.as_str() != "sts:AssumeRole"
        })
        .collect();
    assert!(
        writes.is_empty(),
        "the audit policy is read-only: {writes:?}"
    );
    assert!(
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"),
        "TLS required"
    );
}
