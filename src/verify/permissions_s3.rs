//! Rung 3 for S3 destinations, from the documents themselves (evaluated by `policy_eval`, not
//! searched): the bucket policy lets delivery.logs.amazonaws.com `s3:PutObject` a key as AWS
//! would write it for this flow log now, and `s3:GetBucketAcl` on the bucket, with the
//! context AWS sends (SourceAccount, SourceArn, the ACL, TLS); no Deny blocks either; an
//! SSE-KMS bucket names a customer managed key by ARN and that key's policy admits the service.

use jiff::Timestamp;

use super::check::{self, PERMISSIONS};
use super::facts::{S3Facts, Subject};
use super::fixes;
use super::report::Check;
use crate::model::delivery::BucketPresence;
use crate::model::layout::{self, Layout};
use crate::model::{Encryption, FileFormat};
use crate::policy_eval::{self, Request};

pub const DELIVERY_SERVICE: &str = "delivery.logs.amazonaws.com";

/// The key AWS would write for this flow log at `now`.
pub fn sample_key(s: &Subject, f: &S3Facts, now: Timestamp) -> String {
    let lay = Layout::of(&f.options);
    let t = jiff::tz::Offset::UTC.to_datetime(now);
    let folder = layout::hour_prefix(
        lay,
        f.prefix.as_deref(),
        &s.account,
        &s.region,
        t.date(),
        t.hour(),
    );
    let name = layout::object_name(
        &s.account,
        &s.region,
        &s.flow_log.id,
        now,
        "0123456789abcdef",
        f.options.file_format == FileFormat::Parquet,
    );
    format!("{folder}{name}")
}

/// The request context delivery.logs.amazonaws.com sends for this flow log (with
/// `aws:SourceOrgID` when the account's organization is known).
fn delivery_request(s: &Subject, action: &str, resource: String) -> Request {
    let req = Request::by_service(DELIVERY_SERVICE, action, resource);
    let req = match &s.org_id {
        Some(org) => req.with("aws:SourceOrgID", org.clone()),
        None => req,
    };
    req.with("aws:SourceAccount", s.account.clone())
        .with(
            "aws:SourceArn",
            fixes::logs_source_arn(&s.partition, &s.region, &s.account),
        )
        .with("aws:SecureTransport", "true")
}

fn bucket_policy_problems(s: &Subject, f: &S3Facts, now: Timestamp) -> Vec<(String, String)> {
    let hive = f.options.hive_compatible_partitions;
    let statements = || {
        fixes::bucket_statements(
            &s.partition,
            &f.bucket,
            f.prefix.as_deref(),
            hive,
            &s.account,
        )
    };
    let existing = match &f.policy {
        Some(Ok(Some(p))) => existing_sids(
            p,
            &[
                "FlowkeeperLogDeliveryWrite",
                "FlowkeeperLogDeliveryAclCheck",
            ],
        ),
        _ => Vec::new(),
    };
    let add = |extra: &str| {
        let verb = if existing.is_empty() {
            "add to the policy of bucket".to_string()
        } else {
            let names: Vec<String> = existing.iter().map(|s| format!("`{s}`")).collect();
            format!(
                "replace statement {} in the policy of bucket",
                names.join(" and ")
            )
        };
        let with = if existing.is_empty() { "" } else { " with" };
        check::with_apply(
            format!("{extra}{verb} {}{with}:\n{}", f.bucket, statements()),
            s.config_managed,
            "this bucket's policy",
        )
    };
    let policy = match &f.policy {
        None => return Vec::new(),
        Some(Err(e)) => {
            let c = check::unreadable(
                PERMISSIONS,
                &format!("the policy of bucket {}", f.bucket),
                e,
            );
            return vec![(c.detail, c.fix.unwrap_or_default())];
        }
        Some(Ok(None)) => {
            return vec![(
                format!(
                    "bucket {} has no policy: {DELIVERY_SERVICE} may not write to it",
                    f.bucket
                ),
                add(""),
            )];
        }
        Some(Ok(Some(p))) => p,
    };
    let key = sample_key(s, f, now);
    let object_arn = format!("arn:{}:s3:::{}/{key}", s.partition, f.bucket);
    let put = delivery_request(s, "s3:PutObject", object_arn.clone())
        .with("s3:x-amz-acl", "bucket-owner-full-control");
    let acl = delivery_request(
        s,
        "s3:GetBucketAcl",
        format!("arn:{}:s3:::{}", s.partition, f.bucket),
    );
    let mut problems = Vec::new();
    for (req, what) in [
        (
            put,
            format!("{DELIVERY_SERVICE} s3:PutObject on {object_arn}"),
        ),
        (
            acl,
            format!("{DELIVERY_SERVICE} s3:GetBucketAcl on bucket {}", f.bucket),
        ),
    ] {
        let d = policy_eval::evaluate(policy, &req);
        if d.is_allowed() {
            continue;
        }
        if s.org_id.is_none() && mentions_source_org(policy) {
            problems.push((
                format!(
                    "cannot decide whether the policy of bucket {} admits {what}: it conditions on aws:SourceOrgID and the account's organization id is unknown",
                    f.bucket
                ),
                "grant `organizations:DescribeOrganization` to the identity flowkeeper runs as (policies/flowkeeper-verify.json has it), or verify from a config that uses `organization:`".into(),
            ));
            continue;
        }
        // `apply` rewrites flowkeeper's statements only: a foreign Deny is the reader's to remove.
        let fix = match super::explain::foreign_deny(&d) {
            Some(st) => {
                let removal = format!(
                    "remove statement {st} from the policy of bucket {}, or narrow it so that it does not match {DELIVERY_SERVICE} writing over TLS (`flowkeeper apply` never edits statements it did not write)",
                    f.bucket
                );
                let rest = super::explain::without(policy, st);
                if policy_eval::evaluate(&rest, &req).is_allowed() {
                    removal
                } else {
                    format!("{removal}; then {}", add(""))
                }
            }
            None => add(""),
        };
        problems.push((
            format!("bucket policy: {}", super::explain::refusal(&d, &what)),
            fix,
        ));
    }
    problems
}

/// The Sids among `wanted` that the policy already has a statement for (a fix then replaces
/// that statement rather than adding a second one with the same Sid).
fn existing_sids(policy: &serde_json::Value, wanted: &[&str]) -> Vec<String> {
    let statements: Vec<&serde_json::Value> = match &policy["Statement"] {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    wanted
        .iter()
        .filter(|w| statements.iter().any(|st| st["Sid"].as_str() == Some(**w)))
        .map(|w| w.to_string())
        .collect()
}

/// Whether some statement's condition names `aws:SourceOrgID` (its verdict then depends on
/// the organization id).
fn mentions_source_org(policy: &serde_json::Value) -> bool {
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    statements.iter().any(|st| {
        st["Condition"].as_object().is_some_and(|ops| {
            ops.values().any(|keys| {
                keys.as_object()
                    .is_some_and(|k| k.keys().any(|k| k.eq_ignore_ascii_case("aws:SourceOrgID")))
            })
        })
    })
}

/// When a read of this bucket was denied: the bucket policy's Deny (an explicit `Deny`, or a
/// `NotPrincipal` one) that refuses `permission` on `resource` to an identity of this account,
/// since granting the permission alone would not help then. Evaluated for a role of the
/// account (the identity verify runs as is not known to the rungs).
pub fn bucket_deny_note(
    s: &Subject,
    f: &S3Facts,
    permission: &str,
    resource: &str,
) -> Option<String> {
    let Some(Ok(Some(policy))) = &f.policy else {
        return None;
    };
    let caller = format!(
        "arn:{}:iam::{}:role/flowkeeper-verify",
        s.partition, s.account
    );
    let req = Request::new(policy_eval::Principal::Arn(caller), permission, resource)
        .with("aws:SecureTransport", "true")
        .with("aws:PrincipalAccount", s.account.clone());
    let d = policy_eval::evaluate(policy, &req);
    match (d.effect, &d.statement) {
        (policy_eval::Effect::ExplicitDeny, Some(st)) => Some(format!(
            "statement {st} of the policy of bucket {} denies `{permission}` to identities of account {} too: granting it is not enough; narrow {st} so that it exempts the identity flowkeeper runs as, or run verify as an identity it admits",
            f.bucket, s.account
        )),
        _ => None,
    }
}

fn is_key_arn(key: &str) -> bool {
    key.starts_with("arn:") && key.contains(":key/")
}

fn encryption_problems(s: &Subject, f: &S3Facts) -> (Vec<(String, String)>, String) {
    let kms_key = match &f.encryption {
        None => return (Vec::new(), String::new()),
        Some(Err(e)) => {
            let c = check::unreadable(
                PERMISSIONS,
                &format!("the default encryption of bucket {}", f.bucket),
                e,
            );
            return (vec![(c.detail, c.fix.unwrap_or_default())], String::new());
        }
        Some(Ok(None | Some(Encryption::SseS3))) => return (Vec::new(), "; SSE-S3".into()),
        Some(Ok(Some(Encryption::Kms { kms_key }))) => kms_key,
    };
    if kms_key.is_empty() {
        return (
            vec![(
                format!(
                    "bucket {} is SSE-KMS with the AWS managed key aws/s3, whose policy cannot admit {DELIVERY_SERVICE}",
                    f.bucket
                ),
                "set the bucket's default encryption to a customer managed key, by ARN, whose policy admits the service (or to SSE-S3)".into(),
            )],
            String::new(),
        );
    }
    let mut problems = Vec::new();
    let key = match &f.key {
        None => return (problems, String::new()),
        Some(Err(e)) => {
            let c = check::unreadable(PERMISSIONS, &format!("KMS key {kms_key}"), e);
            problems.push((c.detail, c.fix.unwrap_or_default()));
            return (problems, String::new());
        }
        Some(Ok(k)) => k,
    };
    let region = match &f.presence {
        Ok(BucketPresence::Exists { region, .. }) => region.as_deref(),
        _ => None,
    };
    problems.extend(super::key_state::problem(
        key,
        region,
        &format!("bucket {}", f.bucket),
    ));
    if !is_key_arn(kms_key) {
        problems.push((
            format!(
                "the default encryption of bucket {} names its key as `{kms_key}`, not by ARN",
                f.bucket
            ),
            format!(
                "set KMSMasterKeyID of the bucket's default encryption to {}",
                key.arn
            ),
        ));
    }
    let req = delivery_request(s, "kms:GenerateDataKey", key.arn.clone());
    let d = policy_eval::evaluate(&key.policy, &req);
    if !d.is_allowed() {
        problems.push((
            format!(
                "key policy of {}: {}",
                key.arn,
                super::explain::refusal(&d, &format!("{DELIVERY_SERVICE} kms:GenerateDataKey*"))
            ),
            format!(
                "add to the key policy of {} (principal {DELIVERY_SERVICE}):\n{}",
                key.arn,
                fixes::s3_key_statement(&s.partition, &s.account)
            ),
        ));
    }
    (problems, format!("; SSE-KMS key {} admits it", key.arn))
}

pub fn check(s: &Subject, f: &S3Facts, now: Timestamp) -> Check {
    if !matches!(f.presence, Ok(BucketPresence::Exists { .. })) {
        return check::not_applicable(PERMISSIONS, "the bucket could not be found or read");
    }
    let mut problems = bucket_policy_problems(s, f, now);
    let (kms, kms_ok) = encryption_problems(s, f);
    problems.extend(kms);
    if problems.is_empty() {
        let folder = layout::account_folder(
            f.options.hive_compatible_partitions,
            f.prefix.as_deref(),
            &s.account,
        );
        return check::ok(
            PERMISSIONS,
            format!(
                "bucket policy admits {DELIVERY_SERVICE} s3:PutObject under {folder} and s3:GetBucketAcl for account {}{kms_ok}",
                s.account
            ),
        );
    }
    check::from_problems(PERMISSIONS, problems)
}
