//! IAM reads for verify: a role's trust policy and every policy that applies to it (inline
//! and attached managed ones) and its permissions boundary, bounded.

use serde_json::Value;

use super::error::{AwsError, ErrorKind, classify};
use super::iam::Iam;
use crate::model::delivery::RoleDocuments;

/// At most this many inline and this many attached policies are read per role.
const MAX_POLICIES: usize = 20;

/// IAM returns policy documents URL-encoded.
fn decode(op: &'static str, doc: &str) -> Result<Value, AwsError> {
    let text = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
    serde_json::from_str(&text)
        .map_err(|e| AwsError::other(op, format!("policy document is not JSON: {e}")))
}

/// The role's documents, or None when the role does not exist.
pub async fn role_documents(iam: &Iam, name: &str) -> Result<Option<RoleDocuments>, AwsError> {
    let c = &iam.0;
    let role = match c.get_role().role_name(name).send().await {
        Ok(out) => out
            .role
            .ok_or_else(|| AwsError::other("iam:GetRole", "no role in the response"))?,
        Err(e) => {
            let e = classify("iam:GetRole", e);
            return if e.kind == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    let trust_policy = role
        .assume_role_policy_document()
        .map(|d| decode("iam:GetRole", d))
        .transpose()?;
    let names = c
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:ListRolePolicies", e))?;
    let mut inline = Vec::new();
    for policy in names.policy_names().iter().take(MAX_POLICIES) {
        let out = c
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| classify("iam:GetRolePolicy", e))?;
        inline.push((
            policy.clone(),
            decode("iam:GetRolePolicy", out.policy_document())?,
        ));
    }
    let listed = c
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:ListAttachedRolePolicies", e))?;
    let mut attached = Vec::new();
    for p in listed.attached_policies().iter().take(MAX_POLICIES) {
        let Some(arn) = p.policy_arn() else { continue };
        if let Some(doc) = managed_policy(iam, arn).await? {
            attached.push((arn.to_string(), doc));
        }
    }
    let boundary = match role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
    {
        Some(arn) => Some((
            arn.to_string(),
            managed_policy(iam, arn).await?.unwrap_or(Value::Null),
        )),
        None => None,
    };
    Ok(Some(RoleDocuments {
        name: name.to_string(),
        arn: role.arn,
        trust_policy,
        inline,
        attached,
        boundary,
    }))
}

/// A managed policy's default version's document (None when it has none).
async fn managed_policy(iam: &Iam, arn: &str) -> Result<Option<Value>, AwsError> {
    let c = &iam.0;
    let got = c
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| classify("iam:GetPolicy", e))?;
    let Some(version) = got.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let v = c
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| classify("iam:GetPolicyVersion", e))?;
    v.policy_version()
        .and_then(|v| v.document())
        .map(|doc| decode("iam:GetPolicyVersion", doc))
        .transpose()
}
