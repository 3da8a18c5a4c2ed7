//! Whether a destination's KMS key can be used at all, before its policy matters: DescribeKey's
//! `KeyState` must be `Enabled` (a disabled or pending-deletion key refuses every request), and
//! the key must live in the destination's region (S3 and CloudWatch Logs use keys of their own
//! region only). Pure.

use crate::model::delivery::KeyDocuments;

/// The region of a key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`).
pub fn key_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    let _partition = parts.next()?;
    (parts.next()? == "kms").then_some(())?;
    parts.next().filter(|r| !r.is_empty())
}

/// The problem with `key` for a destination in `region` (`what`: "bucket b", "log group g"),
/// with its fix; `None` when the key is enabled and in that region.
pub fn problem(key: &KeyDocuments, region: Option<&str>, what: &str) -> Option<(String, String)> {
    let state = key
        .state
        .clone()
        .unwrap_or_else(|| if key.enabled { "Enabled" } else { "Disabled" }.into());
    if state != "Enabled" || !key.enabled {
        let fix = if state == "PendingDeletion" {
            format!(
                "cancel the deletion of KMS key {} (kms:CancelKeyDeletion) and enable it, or point {what} at an enabled key",
                key.arn
            )
        } else {
            format!(
                "enable KMS key {} (kms:EnableKey), or point {what} at an enabled key",
                key.arn
            )
        };
        return Some((
            format!(
                "KMS key {} of {what} is {state}, not Enabled: every delivery is refused",
                key.arn
            ),
            fix,
        ));
    }
    match (key_region(&key.arn), region) {
        (Some(k), Some(r)) if k != r => Some((
            format!(
                "KMS key {} of {what} is in region {k}, but {what} is in {r}: the key must be in the same region",
                key.arn
            ),
            format!("point {what} at a customer managed key in {r}"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_arn() {
        assert_eq!(
            key_region("arn:aws:kms:eu-west-1:1:key/k"),
            Some("eu-west-1")
        );
        assert_eq!(key_region("alias/x"), None);
    }
}
