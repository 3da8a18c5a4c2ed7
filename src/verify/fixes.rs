//! The statements a failed permission rung proposes, rendered from the repo's `policies/`
//! documents (the ones `apply` writes) for this account, region, bucket or log group.

use serde_json::Value;

use crate::model::layout;
use crate::policies::{self, Param};

/// The `arn:<p>:logs:<region|*>:<account>:*` delivery source ARN.
pub fn logs_source_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:*")
}

/// A log group's ARN (without the `:*` suffix).
pub fn log_group_arn(partition: &str, region: &str, account: &str, group: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")
}

fn pretty(statements: Vec<Value>) -> String {
    let v = match statements.len() {
        1 => statements.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(statements),
    };
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn statements(doc: &Value, sids: &[&str]) -> Vec<Value> {
    doc["Statement"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| {
                    sids.is_empty() || sids.contains(&s["Sid"].as_str().unwrap_or_default())
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The bucket-policy statements that let delivery.logs.amazonaws.com write this account's
/// objects (under the layout's account folder) and check the bucket ACL.
pub fn bucket_statements(
    partition: &str,
    bucket: &str,
    prefix: Option<&str>,
    hive: bool,
    account: &str,
) -> String {
    let folder = layout::account_folder(hive, prefix, account);
    let doc = policies::render(
        policies::S3_BUCKET_POLICY,
        &[
            ("Partition", Param::Text(partition.into())),
            ("Bucket", Param::Text(bucket.into())),
            (
                "LogObjectArns",
                Param::List(vec![format!("arn:{partition}:s3:::{bucket}/{folder}*")]),
            ),
            ("SourceAccounts", Param::List(vec![account.into()])),
            (
                "SourceArns",
                Param::List(vec![logs_source_arn(partition, "*", account)]),
            ),
        ],
    );
    pretty(statements(
        &doc,
        &[
            "FlowkeeperLogDeliveryWrite",
            "FlowkeeperLogDeliveryAclCheck",
        ],
    ))
}

/// The key-policy statement for an SSE-KMS bucket's key.
pub fn s3_key_statement(partition: &str, account: &str) -> String {
    let doc = policies::render(
        policies::KMS_KEY_S3_DELIVERY,
        &[
            ("SourceAccounts", Param::List(vec![account.into()])),
            (
                "SourceArns",
                Param::List(vec![logs_source_arn(partition, "*", account)]),
            ),
        ],
    );
    pretty(statements(&doc, &[]))
}

/// The key-policy statement for a KMS-encrypted log group's key.
pub fn logs_key_statement(partition: &str, region: &str, account: &str, group: &str) -> String {
    let doc = policies::render(
        policies::KMS_KEY_LOGS_DELIVERY,
        &[
            ("Region", Param::Text(region.into())),
            (
                "LogGroupArn",
                Param::Text(log_group_arn(partition, region, account, group)),
            ),
        ],
    );
    pretty(statements(&doc, &[]))
}

/// The delivery role's trust statement.
pub fn trust_statement(partition: &str, account: &str) -> String {
    let doc = policies::render(
        policies::DELIVERY_TRUST_POLICY,
        &[
            ("AccountId", Param::Text(account.into())),
            ("Partition", Param::Text(partition.into())),
        ],
    );
    pretty(statements(&doc, &[]))
}

/// The delivery role's permission statements for one log group.
pub fn role_permissions(partition: &str, region: &str, account: &str, group: &str) -> String {
    let doc = policies::render(
        policies::DELIVERY_PERMISSIONS,
        &[
            (
                "LogGroupArns",
                Param::List(vec![format!(
                    "{}:*",
                    log_group_arn(partition, region, account, group)
                )]),
            ),
            (
                "LogGroupRegionArns",
                Param::List(vec![format!(
                    "arn:{partition}:logs:{region}:{account}:log-group:*"
                )]),
            ),
        ],
    );
    pretty(statements(&doc, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_statements_grant_the_layouts_account_folder() {
        let plain = bucket_statements("aws", "b", Some("vpc"), false, "111122223333");
        assert!(
            plain.contains("arn:aws:s3:::b/vpc/AWSLogs/111122223333/*"),
            "{plain}"
        );
        assert!(plain.contains("FlowkeeperLogDeliveryAclCheck"));
        assert!(!plain.contains("FlowkeeperDenyInsecureTransport"));
        let hive = bucket_statements("aws", "b", None, true, "111122223333");
        assert!(
            hive.contains("arn:aws:s3:::b/AWSLogs/aws-account-id=111122223333/*"),
            "{hive}"
        );
    }

    #[test]
    fn key_and_role_statements_name_the_service_and_resource() {
        assert!(s3_key_statement("aws", "111122223333").contains("delivery.logs.amazonaws.com"));
        let logs = logs_key_statement("aws", "eu-west-1", "111122223333", "/fk/g");
        assert!(logs.contains("logs.eu-west-1.amazonaws.com"));
        assert!(logs.contains("arn:aws:logs:eu-west-1:111122223333:log-group:/fk/g"));
        assert!(trust_statement("aws", "111122223333").contains("vpc-flow-logs.amazonaws.com"));
        let perms = role_permissions("aws", "eu-west-1", "111122223333", "/fk/g");
        assert!(perms.contains("log-group:/fk/g:*") && perms.contains("logs:PutLogEvents"));
    }
}
