//! Rung 2, destination: the bucket or log group exists where the flow log can deliver (a log
//! group in the flow log's own region; a bucket anywhere, in any account, but existing).

use super::check::{self, DESTINATION};
use super::facts::{CwlFacts, S3Facts, Subject};
use super::report::Check;
use crate::model::delivery::BucketPresence;

pub fn s3(s: &Subject, f: &S3Facts) -> Check {
    let what = format!("bucket {}", f.bucket);
    match &f.presence {
        Err(e) => check::unreadable(DESTINATION, &what, e),
        Ok(BucketPresence::Missing) => check::failed(
            DESTINATION,
            format!("{what} does not exist"),
            check::with_apply(
                format!(
                    "create {what} (any region) with a policy that admits delivery.logs.amazonaws.com, or replace the flow log with one that points at an existing bucket"
                ),
                s.config_managed,
                "this destination (with `create: true`)",
            ),
        ),
        Ok(BucketPresence::Denied) => check::failed(
            DESTINATION,
            format!(
                "cannot read {what}: HeadBucket was denied with and without ExpectedBucketOwner (another account's bucket, or no s3:ListBucket)"
            ),
            format!(
                "grant `s3:ListBucket` on arn:{}:s3:::{} to the identity flowkeeper runs as; for a central bucket, run verify with a config that names its `account`",
                s.partition, f.bucket
            ),
        ),
        Ok(BucketPresence::ElsewhereIn(r)) => check::failed(
            DESTINATION,
            format!("cannot read {what}: S3 keeps redirecting (last to {r})"),
            "run verify again; check the bucket's region",
        ),
        Ok(BucketPresence::Exists {
            region,
            owner_verified,
        }) => {
            let at = region
                .as_deref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default();
            let owner = if *owner_verified {
                String::new()
            } else {
                "; its owner is unverified (not the flow log's account, and no config names one)"
                    .to_string()
            };
            check::ok(DESTINATION, format!("{what} exists{at}{owner}"))
        }
    }
}

pub fn cwl(s: &Subject, f: &CwlFacts) -> Check {
    let what = format!("log group {}", f.log_group);
    match &f.group {
        Err(e) => check::unreadable(DESTINATION, &what, e),
        Ok(Some(_)) => check::ok(DESTINATION, format!("{what} exists in {}", s.region)),
        Ok(None) => check::failed(
            DESTINATION,
            format!(
                "{what} does not exist in {} (a flow log delivers only to a log group of its own region)",
                s.region
            ),
            check::with_apply(
                format!("create {what} in {}", s.region),
                s.config_managed,
                "this log group",
            ),
        ),
    }
}

pub fn firehose(arn: &str) -> Check {
    check::not_applicable(
        DESTINATION,
        format!(
            "Firehose stream {arn}: verify checks only the status rung of Firehose destinations"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::CheckResult;
    use crate::verify::testing::{cwl_facts, s3_facts, subject};

    #[test]
    fn an_existing_bucket_is_ok_and_a_missing_one_fails_with_apply_when_managed() {
        let mut s = subject();
        let mut f = s3_facts();
        assert_eq!(s3(&s, &f).result, CheckResult::Ok);
        f.presence = Ok(BucketPresence::Missing);
        s.config_managed = true;
        let c = s3(&s, &f);
        assert_eq!(c.result, CheckResult::Failed);
        assert!(c.detail.contains("does not exist"));
        assert!(c.fix.unwrap().contains("flowkeeper apply"));
    }

    #[test]
    fn an_unverified_owner_is_said() {
        let s = subject();
        let mut f = s3_facts();
        f.presence = Ok(BucketPresence::Exists {
            region: Some("eu-west-1".into()),
            owner_verified: false,
        });
        let c = s3(&s, &f);
        assert_eq!(c.result, CheckResult::Ok);
        assert!(c.detail.contains("in eu-west-1") && c.detail.contains("unverified"));
    }

    #[test]
    fn a_missing_log_group_fails_naming_the_region() {
        let s = subject();
        let mut f = cwl_facts();
        assert_eq!(cwl(&s, &f).result, CheckResult::Ok);
        f.group = Ok(None);
        let c = cwl(&s, &f);
        assert_eq!(c.result, CheckResult::Failed);
        assert!(c.detail.contains("us-east-1"), "{}", c.detail);
    }
}
