//! S3 reads for verify: a bucket's presence and region, policy and default encryption, a
//! bounded listing of one prefix, and the first bytes of one object. Every call passes
//! `ExpectedBucketOwner` when an owner is given.

use aws_sdk_s3::types::ServerSideEncryption;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use jiff::Timestamp;
use serde_json::Value;

use super::error::{AwsError, ErrorKind, classify};
use super::s3::S3;
use crate::model::Encryption;
use crate::model::delivery::{BucketPresence, ObjectMeta};

/// A 301 with `x-amz-bucket-region`: the bucket lives in that region (a HeadBucket sent to
/// another region's endpoint).
fn redirect_region<E>(e: &SdkError<E, HttpResponse>) -> Option<String> {
    let raw = e.raw_response()?;
    (raw.status().as_u16() == 301)
        .then(|| raw.headers().get("x-amz-bucket-region").map(str::to_string))
        .flatten()
}

fn owner_param(owner: Option<&str>) -> Option<String> {
    owner.map(str::to_string)
}

/// HeadBucket with `ExpectedBucketOwner` = `owner` when given. Denied with it, the bucket is
/// asked again without (another account's bucket is then `Exists` with `owner_verified` false).
pub async fn bucket_presence(
    s3: &S3,
    bucket: &str,
    owner: Option<&str>,
) -> Result<BucketPresence, AwsError> {
    let head = |owner: Option<&str>| {
        s3.0.head_bucket()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_param(owner))
            .send()
    };
    let first = head(owner).await;
    if let Err(e) = &first
        && let Some(region) = redirect_region(e)
    {
        return Ok(BucketPresence::ElsewhereIn(region));
    }
    match first.map_err(|e| classify("s3:HeadBucket", e)) {
        Ok(out) => Ok(BucketPresence::Exists {
            region: out.bucket_region().map(str::to_string),
            owner_verified: owner.is_some(),
        }),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(BucketPresence::Missing),
        Err(e) if e.kind == ErrorKind::AccessDenied && owner.is_some() => {
            match head(None).await.map_err(|e| classify("s3:HeadBucket", e)) {
                Ok(out) => Ok(BucketPresence::Exists {
                    region: out.bucket_region().map(str::to_string),
                    owner_verified: false,
                }),
                Err(e) if e.kind == ErrorKind::AccessDenied => Ok(BucketPresence::Denied),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(BucketPresence::Missing),
                Err(e) => Err(e),
            }
        }
        Err(e) if e.kind == ErrorKind::AccessDenied => Ok(BucketPresence::Denied),
        Err(e) => Err(e),
    }
}

/// The bucket policy, or None when the bucket has none.
pub async fn bucket_policy(
    s3: &S3,
    bucket: &str,
    owner: Option<&str>,
) -> Result<Option<Value>, AwsError> {
    let out =
        s3.0.get_bucket_policy()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_param(owner))
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketPolicy", e));
    let text = match out {
        Ok(o) => o.policy().map(str::to_string),
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            AwsError::other(
                "s3:GetBucketPolicy",
                format!("bucket policy is not JSON: {e}"),
            )
        })
    })
    .transpose()
}

/// The bucket's default encryption (None: not configured). For SSE-KMS the key is as written
/// in the configuration (an ARN, a key id or an alias; empty for the AWS managed key).
pub async fn bucket_encryption(
    s3: &S3,
    bucket: &str,
    owner: Option<&str>,
) -> Result<Option<Encryption>, AwsError> {
    let out =
        s3.0.get_bucket_encryption()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_param(owner))
            .send()
            .await
            .map_err(|e| classify("s3:GetBucketEncryption", e));
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(rule) = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
    else {
        return Ok(None);
    };
    Ok(Some(match rule.sse_algorithm() {
        ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse => Encryption::Kms {
            kms_key: rule.kms_master_key_id().unwrap_or_default().to_string(),
        },
        _ => Encryption::SseS3,
    }))
}

/// How much one listing may read.
#[derive(Clone, Copy, Debug)]
pub struct ListBound {
    pub max_keys: i32,
    pub max_pages: usize,
}

/// Objects under `prefix`, in key order, at most `bound.max_pages` pages of `max_keys`; the
/// flag says whether more were left unread.
pub async fn list_bounded(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    owner: Option<&str>,
    bound: ListBound,
) -> Result<(Vec<ObjectMeta>, bool), AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..bound.max_pages {
        let page =
            s3.0.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .max_keys(bound.max_keys)
                .set_continuation_token(token.take())
                .set_expected_bucket_owner(owner_param(owner))
                .send()
                .await
                .map_err(|e| classify("s3:ListObjectsV2", e))?;
        out.extend(page.contents().iter().map(|o| {
            ObjectMeta {
                key: o.key().unwrap_or_default().to_string(),
                size: o.size().unwrap_or_default(),
                last_modified: o
                    .last_modified()
                    .and_then(|t| Timestamp::from_second(t.secs()).ok()),
            }
        }));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok((out, false)),
        }
    }
    Ok((out, true))
}

/// The first `len` bytes of an object (a ranged GetObject), as stored.
pub async fn object_start(
    s3: &S3,
    bucket: &str,
    key: &str,
    owner: Option<&str>,
    len: usize,
) -> Result<Vec<u8>, AwsError> {
    let out =
        s3.0.get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .set_expected_bucket_owner(owner_param(owner))
            .send()
            .await
            .map_err(|e| classify("s3:GetObject", e))?;
    let body = out.body.collect().await.map_err(|e| {
        AwsError::other("s3:GetObject", format!("reading s3://{bucket}/{key}: {e}"))
    })?;
    let mut bytes = body.into_bytes().to_vec();
    bytes.truncate(len);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    //! The answers real S3 gives that moto does not, via aws-smithy-mocks.

    use aws_sdk_s3::Client;
    use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[tokio::test]
    async fn a_bucket_in_another_region_is_redirected_not_an_error() {
        let head = mock!(Client::head_bucket).then_http_response(|| {
            let mut r = HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(301).unwrap(),
                SdkBody::empty(),
            );
            r.headers_mut().insert("x-amz-bucket-region", "eu-west-1");
            r
        });
        let s3 = S3::from_client(mock_client!(aws_sdk_s3, RuleMode::Sequential, [&head]));
        let got = bucket_presence(&s3, "logs", Some("111122223333"))
            .await
            .unwrap();
        assert_eq!(got, BucketPresence::ElsewhereIn("eu-west-1".into()));
    }

    #[tokio::test]
    async fn a_bucket_denied_with_the_expected_owner_but_readable_without_is_unverified() {
        let head = mock!(Client::head_bucket)
            .sequence()
            .http_status(403, None)
            .output(|| {
                HeadBucketOutput::builder()
                    .bucket_region("us-east-2")
                    .build()
            })
            .build();
        let s3 = S3::from_client(mock_client!(aws_sdk_s3, RuleMode::Sequential, [&head]));
        let got = bucket_presence(&s3, "logs", Some("111122223333"))
            .await
            .unwrap();
        assert_eq!(
            got,
            BucketPresence::Exists {
                region: Some("us-east-2".into()),
                owner_verified: false
            }
        );
    }
}
