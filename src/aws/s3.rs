//! S3: destination bucket state and the idempotent writes the executor performs.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule as S3Rule, LifecycleRuleFilter,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, Transition, TransitionStorageClass,
};
use serde_json::Value;

use super::error::{AwsError, ErrorKind, classify};
use crate::model::{BucketLookup, BucketState, Encryption, LifecycleRule, PublicAccessBlock};

/// A S3 client. The SDK type stays inside `aws`: other modules hold this and call the
/// functions of this module.
#[derive(Clone, Debug)]
pub struct S3(pub(super) Client);

impl S3 {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        S3(client)
    }
}

/// Maps "not configured" to None and any other error through.
fn optional<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// HeadBucket, with `ExpectedBucketOwner` when `owner` is given.
async fn head(s3: &Client, name: &str, owner: Option<&str>) -> Result<(), AwsError> {
    s3.head_bucket()
        .bucket(name)
        .set_expected_bucket_owner(owner.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify("s3:HeadBucket", e))?;
    Ok(())
}

/// After HeadBucket with `ExpectedBucketOwner` was denied: a bucket the credentials can read
/// without it belongs to someone else; denied both ways, nobody can tell.
async fn denied_or_foreign(s3: &Client, name: &str) -> Result<BucketLookup, AwsError> {
    match head(s3, name, None).await {
        Ok(()) => Ok(BucketLookup::Foreign),
        Err(e) if e.kind == ErrorKind::AccessDenied => Ok(BucketLookup::Denied),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(BucketLookup::Missing),
        Err(e) => Err(e),
    }
}

/// True when `name` is among the buckets the credentials' own account owns (ListBuckets lists
/// only those). A second check besides `ExpectedBucketOwner`, which not every S3-compatible
/// endpoint honours.
async fn among_own_buckets(s3: &Client, name: &str) -> Result<bool, AwsError> {
    let mut pages = s3.list_buckets().prefix(name).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("s3:ListBuckets", e))?;
        if page.buckets().iter().any(|b| b.name() == Some(name)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads a bucket's state with a client in the bucket's home region and the credentials of
/// `owner`, the account that should own it. A bucket another account owns is reported as
/// [`BucketLookup::Foreign`] and never read further; every read passes `ExpectedBucketOwner`.
pub async fn lookup_bucket(
    s3: &S3,
    name: &str,
    region: &str,
    owner: &str,
) -> Result<BucketLookup, AwsError> {
    let s3 = &s3.0;
    match head(s3, name, Some(owner)).await {
        Ok(()) => {}
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(BucketLookup::Missing),
        Err(e) if e.kind == ErrorKind::AccessDenied => return denied_or_foreign(s3, name).await,
        Err(e) => return Err(e),
    }
    if !among_own_buckets(s3, name).await? {
        return Ok(BucketLookup::Foreign);
    }
    let policy = optional(
        s3.get_bucket_policy()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketPolicy", e)),
    )?
    .and_then(|o| o.policy().map(str::to_string))
    .map(|p| {
        serde_json::from_str::<Value>(&p).map_err(|e| {
            AwsError::other(
                "s3:GetBucketPolicy",
                format!("bucket policy is not JSON: {e}"),
            )
        })
    })
    .transpose()?;
    let pab = optional(
        s3.get_public_access_block()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetPublicAccessBlock", e)),
    )?
    .and_then(|o| o.public_access_block_configuration().cloned())
    .map(|c| PublicAccessBlock {
        block_public_acls: c.block_public_acls().unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
        block_public_policy: c.block_public_policy().unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
    });
    let ownership = optional(
        s3.get_bucket_ownership_controls()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketOwnershipControls", e)),
    )?
    .and_then(|o| {
        o.ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_string())
    });
    let encryption = optional(
        s3.get_bucket_encryption()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketEncryption", e)),
    )?
    .and_then(|o| {
        let rule = o
            .server_side_encryption_configuration()?
            .rules()
            .first()?
            .apply_server_side_encryption_by_default()?
            .clone();
        Some(match rule.sse_algorithm() {
            ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse => Encryption::Kms {
                kms_key: rule.kms_master_key_id().unwrap_or_default().to_string(),
            },
            _ => Encryption::SseS3,
        })
    });
    let lifecycle_rules = optional(
        s3.get_bucket_lifecycle_configuration()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketLifecycleConfiguration", e)),
    )?
    .map(|o| o.rules().iter().map(rule_from_s3).collect())
    .unwrap_or_default();
    Ok(BucketLookup::Exists(BucketState {
        name: name.to_string(),
        region: region.to_string(),
        policy,
        public_access_block: pab,
        object_ownership: ownership,
        encryption,
        lifecycle_rules,
    }))
}

fn rule_from_s3(r: &S3Rule) -> LifecycleRule {
    #[allow(deprecated)]
    let prefix = r
        .filter()
        .and_then(|f| f.prefix())
        .or(r.prefix())
        .unwrap_or_default()
        .to_string();
    let t = r.transitions().first();
    LifecycleRule {
        id: r.id().unwrap_or_default().to_string(),
        prefix,
        transition_days: t.and_then(|t| t.days()).map(|d| d as u32),
        storage_class: t
            .and_then(|t| t.storage_class())
            .map(|c| c.as_str().to_string()),
        expire_days: r.expiration().and_then(|e| e.days()).map(|d| d as u32),
    }
}

fn rule_to_s3(r: &LifecycleRule) -> Result<S3Rule, AwsError> {
    let mut b = S3Rule::builder()
        .id(&r.id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(&r.prefix).build());
    if let (Some(days), Some(class)) = (r.transition_days, &r.storage_class) {
        b = b.transitions(
            Transition::builder()
                .days(days as i32)
                .storage_class(TransitionStorageClass::from(class.as_str()))
                .build(),
        );
    }
    if let Some(days) = r.expire_days {
        b = b.expiration(LifecycleExpiration::builder().days(days as i32).build());
    }
    b.build()
        .map_err(|e| AwsError::other("s3:PutBucketLifecycleConfiguration", e.to_string()))
}

/// Creates a bucket (CreateBucket takes no `ExpectedBucketOwner`: a name another account holds
/// fails with `BucketAlreadyExists`, and only `BucketAlreadyOwnedByYou` counts as done).
/// Creates the bucket; "already owned by you" is not an error (a retried call whose first
/// answer was lost), so callers check what is in it.
pub async fn create_bucket(s3: &S3, name: &str, region: &str) -> Result<(), AwsError> {
    let s3 = &s3.0;
    let mut req = s3
        .create_bucket()
        .bucket(name)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is the one region that must not be named as a location constraint.
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match req.send().await.map_err(|e| classify("s3:CreateBucket", e)) {
        Err(e) if e.kind == ErrorKind::AlreadyExists => Ok(()),
        other => other.map(|_| ()),
    }
}

pub async fn put_public_access_block(s3: &S3, name: &str, owner: &str) -> Result<(), AwsError> {
    let s3 = &s3.0;
    s3.put_public_access_block()
        .bucket(name)
        .expected_bucket_owner(owner)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify("s3:PutPublicAccessBlock", e))?;
    Ok(())
}

pub async fn put_ownership_enforced(s3: &S3, name: &str, owner: &str) -> Result<(), AwsError> {
    let s3 = &s3.0;
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .map_err(|e| AwsError::other("s3:PutBucketOwnershipControls", e.to_string()))?;
    let controls = OwnershipControls::builder()
        .rules(rule)
        .build()
        .map_err(|e| AwsError::other("s3:PutBucketOwnershipControls", e.to_string()))?;
    s3.put_bucket_ownership_controls()
        .bucket(name)
        .expected_bucket_owner(owner)
        .ownership_controls(controls)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketOwnershipControls", e))?;
    Ok(())
}

pub async fn put_encryption(
    s3: &S3,
    name: &str,
    owner: &str,
    enc: &Encryption,
) -> Result<(), AwsError> {
    let s3 = &s3.0;
    let op = "s3:PutBucketEncryption";
    let default = match enc {
        Encryption::SseS3 => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
        Encryption::Kms { kms_key } => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(kms_key),
    }
    .build()
    .map_err(|e| AwsError::other(op, e.to_string()))?;
    let conf = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .bucket_key_enabled(matches!(enc, Encryption::Kms { .. }))
                .build(),
        )
        .build()
        .map_err(|e| AwsError::other(op, e.to_string()))?;
    s3.put_bucket_encryption()
        .bucket(name)
        .expected_bucket_owner(owner)
        .server_side_encryption_configuration(conf)
        .send()
        .await
        .map_err(|e| classify(op, e))?;
    Ok(())
}

/// Upserts flowkeeper's lifecycle rules by id and drops `remove`; every other rule is written
/// back exactly as read (PutBucketLifecycleConfiguration replaces the whole set).
pub async fn upsert_lifecycle(
    s3: &S3,
    name: &str,
    owner: &str,
    rules: &[LifecycleRule],
    remove: &[String],
) -> Result<(), AwsError> {
    let s3 = &s3.0;
    let current = optional(
        s3.get_bucket_lifecycle_configuration()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketLifecycleConfiguration", e)),
    )?
    .map(|o| o.rules().to_vec())
    .unwrap_or_default();
    let mut merged: Vec<S3Rule> = current
        .into_iter()
        .filter(|r| {
            let id = r.id().unwrap_or_default();
            !remove.iter().any(|x| x == id) && !rules.iter().any(|x| x.id == id)
        })
        .collect();
    for r in rules {
        merged.push(rule_to_s3(r)?);
    }
    if merged.is_empty() {
        s3.delete_bucket_lifecycle()
            .bucket(name)
            .expected_bucket_owner(owner)
            .send()
            .await
            .map_err(|e| classify("s3:DeleteBucketLifecycle", e))?;
        return Ok(());
    }
    let conf = BucketLifecycleConfiguration::builder()
        .set_rules(Some(merged))
        .build()
        .map_err(|e| AwsError::other("s3:PutBucketLifecycleConfiguration", e.to_string()))?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(name)
        .expected_bucket_owner(owner)
        .lifecycle_configuration(conf)
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketLifecycleConfiguration", e))?;
    Ok(())
}

pub async fn put_policy(
    s3: &S3,
    name: &str,
    owner: &str,
    document: &Value,
) -> Result<(), AwsError> {
    let s3 = &s3.0;
    s3.put_bucket_policy()
        .bucket(name)
        .expected_bucket_owner(owner)
        .policy(document.to_string())
        .send()
        .await
        .map_err(|e| classify("s3:PutBucketPolicy", e))?;
    Ok(())
}

/// Tags a bucket flowkeeper just created (PutBucketTagging replaces the tag set).
pub async fn put_tags(
    s3: &S3,
    name: &str,
    owner: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let s3 = &s3.0;
    let op = "s3:PutBucketTagging";
    let set = tags
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::other(op, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| AwsError::other(op, e.to_string()))?;
    s3.put_bucket_tagging()
        .bucket(name)
        .expected_bucket_owner(owner)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| classify(op, e))?;
    Ok(())
}

/// One object of a listing: key and size.
pub struct ObjectInfo {
    pub key: String,
    pub size: i64,
}

/// Every object under `prefix`, in key order (ListObjectsV2, paginated).
pub async fn list_objects(
    s3: &S3,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ObjectInfo>, AwsError> {
    let s3 = &s3.0;
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        // Keys may hold characters XML 1.0 cannot carry (control characters): S3 sends them
        // URL-encoded when asked, so such a key is listed instead of breaking the whole page.
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("s3:ListObjectsV2", e))?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(ObjectInfo {
                key: url_decoded_key(o.key()?),
                size: o.size().unwrap_or_default(),
            })
        }));
    }
    Ok(out)
}

/// A key from a listing with `EncodingType=url`: `+` is a space (AWS's form encoding; a literal
/// `+` arrives as `%2B`), then percent-escapes are decoded. Bytes that are not UTF-8 are kept
/// as replacement characters (such a key cannot be asked for by name anyway).
fn url_decoded_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// An object's body as a blocking [`std::io::Read`]: each network chunk is awaited on
/// `runtime` when the reader needs it, so a large object is never held whole. For threads
/// outside the runtime (the analyzer's reading threads).
pub struct ObjectReader<'r> {
    body: aws_sdk_s3::primitives::ByteStream,
    chunk: bytes::Bytes,
    runtime: &'r tokio::runtime::Handle,
}

/// Opens an object for reading as it downloads.
pub fn open_object<'r>(
    s3: &S3,
    bucket: &str,
    key: &str,
    runtime: &'r tokio::runtime::Handle,
) -> Result<ObjectReader<'r>, AwsError> {
    let s3 = &s3.0;
    let out = runtime
        .block_on(s3.get_object().bucket(bucket).key(key).send())
        .map_err(|e| classify("s3:GetObject", e))?;
    Ok(ObjectReader {
        body: out.body,
        chunk: bytes::Bytes::new(),
        runtime,
    })
}

impl std::io::Read for ObjectReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.body.try_next()) {
                Ok(Some(chunk)) => self.chunk = chunk,
                Ok(None) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// An object's bytes, as stored (compressed objects stay compressed).
pub async fn get_object(s3: &S3, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
    let s3 = &s3.0;
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify("s3:GetObject", e))?;
    let body = out.body.collect().await.map_err(|e| {
        AwsError::other("s3:GetObject", format!("reading s3://{bucket}/{key}: {e}"))
    })?;
    Ok(body.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    //! Ownership checks against answers an emulator that ignores `ExpectedBucketOwner` gives,
    //! and the two kinds of 403, via aws-smithy-mocks.

    use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
    use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    use aws_sdk_s3::types::Bucket;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    const OWNER: &str = "111122223333";

    fn own_buckets(names: &[&str]) -> ListBucketsOutput {
        ListBucketsOutput::builder()
            .set_buckets(Some(
                names
                    .iter()
                    .map(|n| Bucket::builder().name(*n).build())
                    .collect(),
            ))
            .build()
    }

    #[tokio::test]
    async fn a_bucket_not_among_the_accounts_own_is_foreign_even_when_head_bucket_succeeds() {
        let head = mock!(Client::head_bucket)
            .match_requests(|r| r.expected_bucket_owner() == Some(OWNER))
            .then_output(|| HeadBucketOutput::builder().build());
        let list = mock!(Client::list_buckets)
            .match_requests(|r| r.prefix() == Some("shared-logs"))
            .then_output(|| own_buckets(&["shared-logs-archive"]));
        let s3 = crate::aws::s3::S3::from_client(mock_client!(
            aws_sdk_s3,
            RuleMode::Sequential,
            [&head, &list]
        ));
        let got = lookup_bucket(&s3, "shared-logs", "us-east-1", OWNER)
            .await
            .unwrap();
        assert_eq!(got, BucketLookup::Foreign);
        assert_eq!(
            (head.num_calls(), list.num_calls()),
            (1, 1),
            "nothing else is read"
        );
    }

    #[tokio::test]
    async fn a_403_only_with_expected_bucket_owner_is_another_accounts_bucket() {
        let head = mock!(Client::head_bucket)
            .sequence()
            .http_status(403, None)
            .output(|| HeadBucketOutput::builder().build())
            .build();
        let s3 = crate::aws::s3::S3::from_client(mock_client!(
            aws_sdk_s3,
            RuleMode::Sequential,
            [&head]
        ));
        let got = lookup_bucket(&s3, "shared-logs", "us-east-1", OWNER)
            .await
            .unwrap();
        assert_eq!(got, BucketLookup::Foreign);
        assert_eq!(head.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_403_either_way_is_denied_not_foreign() {
        let head = mock!(Client::head_bucket)
            .sequence()
            .http_status(403, None)
            .times(2)
            .build();
        let s3 = crate::aws::s3::S3::from_client(mock_client!(
            aws_sdk_s3,
            RuleMode::Sequential,
            [&head]
        ));
        let got = lookup_bucket(&s3, "shared-logs", "us-east-1", OWNER)
            .await
            .unwrap();
        assert_eq!(got, BucketLookup::Denied);
    }

    #[test]
    fn url_encoded_keys_are_decoded() {
        assert_eq!(
            url_decoded_key("a%20b+c%2Bd/%1B%5B31m.log"),
            "a b c+d/\u{1b}[31m.log"
        );
    }
}
