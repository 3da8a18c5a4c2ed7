//! Executes role, bucket and log-group changes.

use crate::aws::{self, Aws, AwsError};
use crate::model::BucketLookup;
use crate::plan::{BucketStep, Change, Operation};

use super::{Status, op};

pub async fn apply_role(iam: &crate::aws::iam::Iam, c: &Change) -> Status {
    let Operation::Role {
        create,
        trust_policy,
        inline_policy,
        tags,
    } = op(c)
    else {
        unreachable!("role changes carry role operations")
    };
    let run = async {
        match (create, trust_policy) {
            (true, Some(t)) => aws::iam::create_role(iam, &c.id, t, tags).await?,
            (false, Some(t)) => aws::iam::update_trust(iam, &c.id, t).await?,
            _ => {}
        }
        if let Some((name, doc)) = inline_policy {
            aws::iam::put_inline_policy(iam, &c.id, name, doc).await?;
        }
        Ok::<(), AwsError>(())
    };
    run.await
        .map_or_else(|e| Status::failed(&e), |_| Status::Done)
}

/// A bucket the plan creates gets the whole policy and lifecycle the plan computed for an empty
/// bucket; they are written only when the bucket is as empty as a new one (also the case when a
/// retried CreateBucket met its own first attempt). A bucket with a policy or lifecycle rules
/// appeared since the plan was made, and its settings are not written over.
async fn untouched_since_plan(
    s3: &aws::s3::S3,
    name: &str,
    region: &str,
    owner: &str,
) -> Result<(), AwsError> {
    let why = match aws::s3::lookup_bucket(s3, name, region, owner).await? {
        BucketLookup::Exists(b) if b.policy.is_none() && b.lifecycle_rules.is_empty() => {
            return Ok(());
        }
        BucketLookup::Exists(_) => "it has a policy or lifecycle rules now",
        _ => "it is not this account's to write",
    };
    Err(AwsError::other(
        "s3:CreateBucket",
        format!(
            "the bucket {name} appeared after the plan was made and {why}; nothing was written to it: run `flowkeeper plan` again, which merges with what is there"
        ),
    ))
}

pub async fn apply_destination(aws: &Aws, c: &Change) -> Status {
    let region = c.region.as_deref().unwrap_or_default();
    let clients = aws.clients(region);
    let run = async {
        match op(c) {
            Operation::Bucket {
                create,
                owner,
                steps,
            } => {
                if *create {
                    // CreateBucket may also succeed on a bucket this account already owns (us-east-1
                    // answers 200 to its owner), so what it says does not tell a new bucket.
                    aws::s3::create_bucket(&clients.s3, &c.id, region).await?;
                    untouched_since_plan(&clients.s3, &c.id, region, owner.as_str()).await?;
                }
                let (s3, name, owner) = (&clients.s3, c.id.as_str(), owner.as_str());
                for step in steps {
                    match step {
                        BucketStep::PublicAccessBlock => {
                            aws::s3::put_public_access_block(s3, name, owner).await?
                        }
                        BucketStep::OwnershipEnforced => {
                            aws::s3::put_ownership_enforced(s3, name, owner).await?
                        }
                        BucketStep::Encryption { encryption } => {
                            aws::s3::put_encryption(s3, name, owner, encryption).await?
                        }
                        BucketStep::Lifecycle { rules, remove } => {
                            aws::s3::upsert_lifecycle(s3, name, owner, rules, remove).await?
                        }
                        BucketStep::Policy { document } => {
                            aws::s3::put_policy(s3, name, owner, document).await?
                        }
                        BucketStep::Tags { tags } => {
                            aws::s3::put_tags(s3, name, owner, tags).await?
                        }
                    }
                }
            }
            Operation::LogGroup {
                create,
                retention_days,
                kms_key,
                tags,
            } => {
                if *create {
                    aws::logs::create_log_group(&clients.logs, &c.id, kms_key.as_deref(), tags)
                        .await?;
                } else if let Some(k) = kms_key {
                    aws::logs::associate_kms_key(&clients.logs, &c.id, k).await?;
                }
                if let Some(d) = retention_days {
                    aws::logs::put_retention(&clients.logs, &c.id, *d).await?;
                }
            }
            other => unreachable!("not a destination operation: {other:?}"),
        }
        Ok::<(), AwsError>(())
    };
    run.await
        .map_or_else(|e| Status::failed(&e), |_| Status::Done)
}
