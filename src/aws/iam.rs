//! IAM: the CloudWatch Logs delivery role.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use serde_json::Value;

use super::error::{AwsError, ErrorKind, classify};
use crate::model::RoleState;

/// A Iam client. The SDK type stays inside `aws`: other modules hold this and call the
/// functions of this module.
#[derive(Clone, Debug)]
pub struct Iam(pub(super) Client);

impl Iam {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Iam(client)
    }
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(op: &'static str, doc: &str) -> Result<Value, AwsError> {
    let text = percent_encoding::percent_decode_str(doc).decode_utf8_lossy();
    serde_json::from_str(&text)
        .map_err(|e| AwsError::other(op, format!("policy document is not JSON: {e}")))
}

/// The role and the inline policy `inline_name`, or None when the role does not exist.
pub async fn get_role(
    iam: &Iam,
    name: &str,
    inline_name: &str,
) -> Result<Option<RoleState>, AwsError> {
    let iam = &iam.0;
    let role = match iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:GetRole", e))
    {
        Ok(out) => out
            .role
            .ok_or_else(|| AwsError::other("iam:GetRole", "no role in the response"))?,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let trust_policy = role
        .assume_role_policy_document()
        .map(|d| decode_policy("iam:GetRole", d))
        .transpose()?;
    let inline_policy = match iam
        .get_role_policy()
        .role_name(name)
        .policy_name(inline_name)
        .send()
        .await
        .map_err(|e| classify("iam:GetRolePolicy", e))
    {
        Ok(out) => Some(decode_policy("iam:GetRolePolicy", out.policy_document())?),
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    Ok(Some(RoleState {
        name: name.to_string(),
        arn: role.arn,
        trust_policy,
        inline_policy,
    }))
}

/// Creates the delivery role. A role of that name that appeared since discovery counts as
/// done and is left as it is (its trust policy may hold someone else's statements); the next
/// plan merges flowkeeper's statements into it.
pub async fn create_role(
    iam: &Iam,
    name: &str,
    trust: &Value,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let iam = &iam.0;
    let tags = tags
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other("iam:CreateRole", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let res = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .description("Lets VPC Flow Logs deliver to CloudWatch Logs (managed by flowkeeper)")
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| classify("iam:CreateRole", e));
    match res {
        Err(e) if e.kind == ErrorKind::AlreadyExists => Ok(()),
        other => other.map(|_| ()),
    }
}

pub async fn update_trust(iam: &Iam, name: &str, trust: &Value) -> Result<(), AwsError> {
    let iam = &iam.0;
    iam.update_assume_role_policy()
        .role_name(name)
        .policy_document(trust.to_string())
        .send()
        .await
        .map_err(|e| classify("iam:UpdateAssumeRolePolicy", e))?;
    Ok(())
}

pub async fn put_inline_policy(
    iam: &Iam,
    role: &str,
    policy_name: &str,
    doc: &Value,
) -> Result<(), AwsError> {
    let iam = &iam.0;
    iam.put_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .policy_document(doc.to_string())
        .send()
        .await
        .map_err(|e| classify("iam:PutRolePolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! A role that appeared between plan and apply, via aws-smithy-mocks.

    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    const EXISTS: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>EntityAlreadyExists</Code><Message>Role with name fk already exists.</Message></Error><RequestId>r</RequestId></ErrorResponse>";

    #[tokio::test]
    async fn a_role_created_by_someone_else_meanwhile_keeps_its_trust_policy() {
        let create = mock!(Client::create_role)
            .sequence()
            .http_status(409, Some(EXISTS.to_string()))
            .build();
        let update = mock!(Client::update_assume_role_policy).then_output(|| {
            aws_sdk_iam::operation::update_assume_role_policy::UpdateAssumeRolePolicyOutput::builder()
                .build()
        });
        let iam = crate::aws::iam::Iam::from_client(mock_client!(
            aws_sdk_iam,
            RuleMode::MatchAny,
            [&create, &update]
        ));
        let trust = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        create_role(&iam, "fk", &trust, &BTreeMap::new())
            .await
            .unwrap();
        assert_eq!(create.num_calls(), 1);
        assert_eq!(
            update.num_calls(),
            0,
            "the existing trust policy is not replaced"
        );
    }
}
