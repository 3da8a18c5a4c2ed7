//! KMS: the key a bucket's default encryption or a log group names, and its key policy
//! (read-only, for verify).

use aws_sdk_kms::Client;
use serde_json::Value;

use super::error::{AwsError, classify};
use crate::model::delivery::KeyDocuments;

/// A KMS client. The SDK type stays inside `aws`.
#[derive(Clone, Debug)]
pub struct Kms(Client);

impl Kms {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Kms(client)
    }
}

/// DescribeKey then GetKeyPolicy (`default`) of `key` (an ARN, key id or alias).
pub async fn key_documents(kms: &Kms, key: &str) -> Result<KeyDocuments, AwsError> {
    let kms = &kms.0;
    let described = kms
        .describe_key()
        .key_id(key)
        .send()
        .await
        .map_err(|e| classify("kms:DescribeKey", e))?;
    let meta = described
        .key_metadata()
        .ok_or_else(|| AwsError::other("kms:DescribeKey", "no key metadata in the response"))?;
    let arn = meta.arn().unwrap_or(key).to_string();
    let enabled = meta.enabled();
    let state = meta.key_state().map(|k| k.as_str().to_string());
    let policy = kms
        .get_key_policy()
        .key_id(&arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| classify("kms:GetKeyPolicy", e))?;
    let text = policy.policy().unwrap_or("{}");
    let policy: Value = serde_json::from_str(text)
        .map_err(|e| AwsError::other("kms:GetKeyPolicy", format!("key policy is not JSON: {e}")))?;
    Ok(KeyDocuments {
        arn,
        enabled,
        state,
        policy,
    })
}
