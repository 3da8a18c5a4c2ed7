//! One pure function per plan operation: the CloudFormation resource that does what `apply`
//! does for it, with the operation's own names, documents, rules, tags and settings. Nothing
//! here is decided or retyped; the only change is the `managed-by` tag, which says that
//! CloudFormation, not flowkeeper, owns the resource.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::model::{Encryption, FlowLogDestination, FlowLogSpec, LifecycleRule, MANAGED_BY_KEY};
use crate::plan::BucketStep;

/// The `managed-by` value of exported resources: `plan` counts such flow logs as covered
/// (never its own), and `apply --prune` never deletes them.
pub const MANAGED_BY_CLOUDFORMATION: &str = "cloudformation";

/// A deterministic, collision-free logical id: the kind, up to 40 alphanumerics of the name,
/// and 8 hex digits of the SHA-256 of the plan change's key.
pub fn logical_id(kind: &str, name: &str, key: &str) -> String {
    let alnum: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{kind}{alnum}{hex}")
}

/// CloudFormation's tag list, `managed-by` handed to CloudFormation.
pub fn tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| {
                let v = if k == MANAGED_BY_KEY {
                    MANAGED_BY_CLOUDFORMATION
                } else {
                    v.as_str()
                };
                json!({"Key": k, "Value": v})
            })
            .collect(),
    )
}

fn retained(kind: &str, properties: Map<String, Value>) -> Value {
    json!({
        "Type": kind,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    })
}

/// `BucketEncryption` as `PutBucketEncryption` sets it (a bucket key with KMS).
pub fn bucket_encryption(e: &Encryption) -> Value {
    let rule = match e {
        Encryption::SseS3 => json!({
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": false,
        }),
        Encryption::Kms { kms_key } => json!({
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
            "BucketKeyEnabled": true,
        }),
    };
    json!({"ServerSideEncryptionConfiguration": [rule]})
}

/// One lifecycle rule as `PutBucketLifecycleConfiguration` writes it.
pub fn lifecycle_rule(r: &LifecycleRule) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!(r.id));
    m.insert("Status".into(), json!("Enabled"));
    m.insert("Prefix".into(), json!(r.prefix));
    if let (Some(days), Some(class)) = (r.transition_days, &r.storage_class) {
        m.insert(
            "Transitions".into(),
            json!([{"StorageClass": class, "TransitionInDays": days}]),
        );
    }
    if let Some(days) = r.expire_days {
        m.insert("ExpirationInDays".into(), json!(days));
    }
    Value::Object(m)
}

/// A bucket flowkeeper would create, from the steps of its `Bucket{create: true}` operation,
/// and the policy document of its `Policy` step (rendered as a separate `BucketPolicy`).
pub fn bucket(name: &str, steps: &[BucketStep]) -> (Value, Option<Value>) {
    let mut p = Map::new();
    p.insert("BucketName".into(), json!(name));
    let mut policy = None;
    for step in steps {
        match step {
            BucketStep::PublicAccessBlock => {
                p.insert(
                    "PublicAccessBlockConfiguration".into(),
                    json!({
                        "BlockPublicAcls": true,
                        "BlockPublicPolicy": true,
                        "IgnorePublicAcls": true,
                        "RestrictPublicBuckets": true,
                    }),
                );
            }
            BucketStep::OwnershipEnforced => {
                p.insert(
                    "OwnershipControls".into(),
                    json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
                );
            }
            BucketStep::Encryption { encryption } => {
                p.insert("BucketEncryption".into(), bucket_encryption(encryption));
            }
            BucketStep::Lifecycle { rules, .. } => {
                p.insert(
                    "LifecycleConfiguration".into(),
                    json!({"Rules": rules.iter().map(lifecycle_rule).collect::<Vec<_>>()}),
                );
            }
            BucketStep::Policy { document } => policy = Some(document.clone()),
            BucketStep::Tags { tags: t } => {
                p.insert("Tags".into(), tags(t));
            }
        }
    }
    (retained("AWS::S3::Bucket", p), policy)
}

/// The bucket's policy, the whole merged document of the `Policy` step.
pub fn bucket_policy(bucket_logical_id: &str, document: &Value) -> Value {
    json!({
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket_logical_id},
            "PolicyDocument": document,
        },
    })
}

/// A log group of a `LogGroup{create: true}` operation.
pub fn log_group(
    name: &str,
    retention_days: Option<i32>,
    kms_key: Option<&str>,
    t: &BTreeMap<String, String>,
) -> Value {
    let mut p = Map::new();
    p.insert("LogGroupName".into(), json!(name));
    if let Some(d) = retention_days {
        p.insert("RetentionInDays".into(), json!(d));
    }
    if let Some(k) = kms_key {
        p.insert("KmsKeyId".into(), json!(k));
    }
    if !t.is_empty() {
        p.insert("Tags".into(), tags(t));
    }
    retained("AWS::Logs::LogGroup", p)
}

/// A delivery role of a `Role{create: true}` operation: its trust policy and inline policy.
pub fn role(
    name: &str,
    trust: Option<&Value>,
    inline: Option<&(String, Value)>,
    t: &BTreeMap<String, String>,
) -> Value {
    let mut p = Map::new();
    p.insert("RoleName".into(), json!(name));
    p.insert(
        "Description".into(),
        json!("Lets VPC Flow Logs deliver to CloudWatch Logs (deployed by CloudFormation from flowkeeper)"),
    );
    if let Some(doc) = trust {
        p.insert("AssumeRolePolicyDocument".into(), doc.clone());
    }
    if let Some((policy_name, doc)) = inline {
        p.insert(
            "Policies".into(),
            json!([{"PolicyName": policy_name, "PolicyDocument": doc}]),
        );
    }
    if !t.is_empty() {
        p.insert("Tags".into(), tags(t));
    }
    json!({"Type": "AWS::IAM::Role", "Properties": p})
}

/// The flow log of a `CreateFlowLog{spec}` operation, with the settings `CreateFlowLogs` gets.
pub fn flow_log(spec: &FlowLogSpec, depends_on: &[String]) -> Value {
    let s = &spec.settings;
    let mut p = Map::new();
    p.insert("ResourceId".into(), json!(spec.resource_id));
    p.insert("ResourceType".into(), json!(spec.resource_kind.api_name()));
    p.insert("TrafficType".into(), json!(s.traffic_type.api_name()));
    p.insert(
        "LogDestinationType".into(),
        json!(s.destination.type_name()),
    );
    match &s.destination {
        FlowLogDestination::S3 { arn, options } => {
            p.insert("LogDestination".into(), json!(arn));
            p.insert(
                "DestinationOptions".into(),
                json!({
                    "FileFormat": options.file_format.api_name(),
                    "HiveCompatiblePartitions": options.hive_compatible_partitions,
                    "PerHourPartition": options.per_hour_partition,
                }),
            );
        }
        FlowLogDestination::CloudwatchLogs {
            log_group,
            role_arn,
            elsewhere,
        } => {
            match elsewhere {
                Some(arn) => p.insert("LogDestination".into(), json!(arn)),
                None => p.insert("LogGroupName".into(), json!(log_group)),
            };
            p.insert("DeliverLogsPermissionArn".into(), json!(role_arn));
        }
        FlowLogDestination::KinesisDataFirehose { arn } | FlowLogDestination::Other { arn, .. } => {
            p.insert("LogDestination".into(), json!(arn));
        }
    }
    p.insert("LogFormat".into(), json!(s.log_format.to_aws()));
    p.insert(
        "MaxAggregationInterval".into(),
        json!(s.max_aggregation_interval.seconds()),
    );
    p.insert("Tags".into(), tags(&spec.tags));
    let mut r = Map::new();
    r.insert("Type".into(), json!("AWS::EC2::FlowLog"));
    if !depends_on.is_empty() {
        r.insert("DependsOn".into(), json!(depends_on));
    }
    r.insert("Properties".into(), Value::Object(p));
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_stable_alphanumeric_and_distinct() {
        let a = logical_id("Bucket", "logs-1111/x.y", "s3-bucket:us-east-1:logs-1111::");
        assert_eq!(
            a,
            logical_id("Bucket", "logs-1111/x.y", "s3-bucket:us-east-1:logs-1111::")
        );
        assert!(a.starts_with("Bucketlogs1111xy"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(
            a,
            logical_id("Bucket", "logs-1111/x.y", "s3-bucket:eu-west-1:logs-1111::")
        );
        let long = logical_id("FlowLog", &"v".repeat(100), "k");
        assert_eq!(long.len(), "FlowLog".len() + 40 + 8);
    }

    #[test]
    fn managed_by_goes_to_cloudformation_and_the_rest_stays() {
        let t: BTreeMap<String, String> = [
            ("managed-by".to_string(), "flowkeeper".to_string()),
            ("flowkeeper:entry".to_string(), "vpcs".to_string()),
        ]
        .into();
        assert_eq!(
            tags(&t),
            json!([{"Key": "flowkeeper:entry", "Value": "vpcs"}, {"Key": "managed-by", "Value": "cloudformation"}])
        );
    }

    #[test]
    fn every_bucket_step_has_its_property() {
        let rule = LifecycleRule {
            id: "flowkeeper-archive".into(),
            prefix: "vpc/AWSLogs/".into(),
            transition_days: Some(30),
            storage_class: Some("STANDARD_IA".into()),
            expire_days: Some(400),
        };
        let doc = json!({"Version": "2012-10-17", "Statement": []});
        let steps = vec![
            BucketStep::Tags {
                tags: [("managed-by".to_string(), "flowkeeper".to_string())].into(),
            },
            BucketStep::PublicAccessBlock,
            BucketStep::OwnershipEnforced,
            BucketStep::Encryption {
                encryption: Encryption::Kms {
                    kms_key: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
                },
            },
            BucketStep::Lifecycle {
                rules: vec![rule],
                remove: Vec::new(),
            },
            BucketStep::Policy {
                document: doc.clone(),
            },
        ];
        let (b, policy) = bucket("logs", &steps);
        assert_eq!(policy, Some(doc));
        let p = &b["Properties"];
        assert_eq!(b["DeletionPolicy"], "Retain");
        assert_eq!(
            p["Tags"],
            json!([{"Key": "managed-by", "Value": "cloudformation"}])
        );
        assert_eq!(
            p["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"],
            true
        );
        assert_eq!(
            p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            "BucketOwnerEnforced"
        );
        let enc = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        assert_eq!(
            enc["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "aws:kms"
        );
        assert_eq!(
            enc["ServerSideEncryptionByDefault"]["KMSMasterKeyID"],
            "arn:aws:kms:us-east-1:111122223333:key/k"
        );
        assert_eq!(enc["BucketKeyEnabled"], true);
        assert_eq!(
            p["LifecycleConfiguration"]["Rules"][0],
            json!({"Id": "flowkeeper-archive", "Status": "Enabled", "Prefix": "vpc/AWSLogs/",
                   "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
                   "ExpirationInDays": 400})
        );
        let (b, _) = bucket(
            "logs",
            &[BucketStep::Encryption {
                encryption: Encryption::SseS3,
            }],
        );
        assert_eq!(
            b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"],
            json!({"SSEAlgorithm": "AES256"})
        );
    }
}
