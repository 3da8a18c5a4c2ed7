//! The bounded reads behind one flow log's ladder: its destination's presence, policies,
//! keys, and the newest deliveries (today's and yesterday's folders, or the last 24 hour
//! folders, listed newest first with a page limit; the first bytes of the newest object; a
//! few streams of the covered interfaces and a few newest events). Never a whole bucket.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::Offset;
use tokio::sync::{Mutex, OnceCell};

use super::evidence;
use super::facts::{
    CwlFacts, DestinationFacts, Facts, Listing, Read, ReadFailure, S3Facts, Subject,
};
use crate::aws::s3_read::{self, ListBound};
use crate::aws::{self, Aws, AwsError, ErrorKind};
use crate::model::delivery::{BucketPresence, RoleDocuments};
use crate::model::layout::{self, Layout};
use crate::model::{Encryption, FlowLogDestination, S3Options};

/// Bytes read from the start of the newest object.
const HEAD_BYTES: usize = 64 * 1024;
/// One listing: at most 3 pages of 1,000 keys.
const BOUND: ListBound = ListBound {
    max_keys: 1000,
    max_pages: 3,
};
/// Hour folders looked at, newest first, for a per-hour layout.
const MAX_HOURS: i64 = 24;
/// Interfaces whose streams are looked up.
const MAX_INTERFACES: usize = 10;

fn failure(e: AwsError) -> ReadFailure {
    ReadFailure {
        operation: e.operation.to_string(),
        message: e.message.clone(),
        denied: e.kind == ErrorKind::AccessDenied,
    }
}

fn read<T>(r: Result<T, AwsError>) -> Read<T> {
    r.map_err(failure)
}

/// Sessions to read with: the flow log's account's, and the bucket owner's when the run has it.
pub struct Sessions<'a> {
    pub account: &'a Aws,
    pub bucket_owner: Option<&'a Aws>,
}

/// Reads everything the ladder needs for `subject`.
pub async fn facts(
    sessions: &Sessions<'_>,
    subject: Subject,
    expected_owner: Option<String>,
    now: Timestamp,
    since: Option<i64>,
    cache: &Cache,
) -> Facts {
    let destination = match subject.flow_log.settings.destination.clone() {
        FlowLogDestination::S3 { arn, options } => DestinationFacts::S3(
            s3_facts(
                sessions,
                &subject,
                &arn,
                options,
                expected_owner,
                now,
                since,
                cache,
            )
            .await,
        ),
        FlowLogDestination::CloudwatchLogs {
            elsewhere: Some(arn),
            ..
        } => DestinationFacts::Unreadable {
            description: format!(
                "log group {arn}, in another account or region than the flow log: verify reads only the flow log's own account and region"
            ),
        },
        FlowLogDestination::Other { type_name, arn } => DestinationFacts::Unreadable {
            description: format!(
                "a destination of type `{type_name}` ({arn}) that this version of flowkeeper does not know"
            ),
        },
        FlowLogDestination::CloudwatchLogs {
            log_group,
            role_arn,
            elsewhere: None,
        } => DestinationFacts::Cwl(
            cwl_facts(
                sessions.account,
                &subject,
                log_group,
                role_arn,
                now,
                since,
                cache,
            )
            .await,
        ),
        FlowLogDestination::KinesisDataFirehose { arn } => DestinationFacts::Firehose { arn },
    };
    Facts {
        subject,
        destination,
    }
}

/// `arn:<p>:s3:::bucket[/prefix]` → (bucket, prefix).
pub fn split_s3_arn(arn: &str) -> (String, Option<String>) {
    let rest = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match rest.split_once('/') {
        Some((b, p)) if !p.trim_matches('/').is_empty() => {
            (b.to_string(), Some(p.trim_matches('/').to_string()))
        }
        Some((b, _)) => (b.to_string(), None),
        None => (rest.to_string(), None),
    }
}

/// The folders to list, newest first, with this flow log's name prefix appended: today's and
/// yesterday's day folders, or the hour folders of the last 24 hours; none before `cutoff`.
pub fn prefixes(
    subject: &Subject,
    prefix: Option<&str>,
    options: &S3Options,
    now: Timestamp,
    cutoff: Option<Timestamp>,
) -> Vec<String> {
    let lay = Layout::of(options);
    let name = format!(
        "{}_{}_{}_{}_",
        subject.account,
        layout::SERVICE,
        subject.region,
        subject.flow_log.id
    );
    let floor = cutoff.map(|c| c.as_second() - c.as_second().rem_euclid(3600));
    let mut out = Vec::new();
    let (step, count) = if lay.per_hour {
        (3600, MAX_HOURS)
    } else {
        (86_400, 2)
    };
    for i in 0..count {
        let Ok(t) = Timestamp::from_second(now.as_second() - i * step) else {
            break;
        };
        let start = if lay.per_hour {
            t.as_second() - t.as_second().rem_euclid(3600)
        } else {
            t.as_second() - t.as_second().rem_euclid(86_400)
        };
        if floor.is_some_and(|f| start + step <= f) {
            break;
        }
        let dt = Offset::UTC.to_datetime(t);
        let folder = layout::hour_prefix(
            lay,
            prefix,
            &subject.account,
            &subject.region,
            dt.date(),
            dt.hour(),
        );
        out.push(format!("{folder}{name}"));
    }
    out
}

/// What is read once per bucket (and reading identity) in a pass, whatever the number of
/// flow logs delivering to it.
#[derive(Clone)]
struct BucketDocs {
    presence: Read<BucketPresence>,
    /// The owner to pass as `ExpectedBucketOwner` on later calls (None: unverified).
    owner: Option<String>,
    policy: Option<Read<Option<serde_json::Value>>>,
    encryption: Option<Read<Option<Encryption>>>,
    key: Option<Read<crate::model::delivery::KeyDocuments>>,
}

/// Per-pass memo of destination reads: a region's hundred flow logs into one bucket read its
/// policy once. Keys name the reading account too (what one identity sees is not another's).
#[derive(Default)]
pub struct Cache {
    /// (reading account, bucket, expected owner) → the bucket's documents.
    buckets: Memo<(String, String, Option<String>), BucketDocs>,
    /// (account, role name) → the role's documents.
    roles: Memo<(String, String), Read<Option<RoleDocuments>>>,
}

/// One value per key, computed by the first caller; later callers wait for it.
type Memo<K, V> = Mutex<HashMap<K, Arc<OnceCell<V>>>>;

async fn cell<K: std::hash::Hash + Eq, V>(map: &Memo<K, V>, key: K) -> Arc<OnceCell<V>> {
    map.lock().await.entry(key).or_default().clone()
}

async fn presence_of(
    session: &Aws,
    region: &str,
    bucket: &str,
    owner: Option<&str>,
) -> Read<BucketPresence> {
    let home = session.clients(region);
    let presence = read(s3_read::bucket_presence(&home.s3, bucket, owner).await);
    let Ok(BucketPresence::ElsewhereIn(r)) = &presence else {
        return presence;
    };
    let there = session.clients(r);
    match read(s3_read::bucket_presence(&there.s3, bucket, owner).await) {
        Ok(BucketPresence::ElsewhereIn(again)) => Err(ReadFailure {
            operation: "s3:HeadBucket".into(),
            message: format!("S3 redirected to {r}, then to {again}"),
            denied: false,
        }),
        Ok(BucketPresence::Exists {
            region: None,
            owner_verified,
        }) => Ok(BucketPresence::Exists {
            region: Some(r.clone()),
            owner_verified,
        }),
        other => other,
    }
}

async fn bucket_docs(
    session: &Aws,
    region: &str,
    bucket: &str,
    owner: Option<String>,
) -> BucketDocs {
    let presence = presence_of(session, region, bucket, owner.as_deref()).await;
    let mut docs = BucketDocs {
        presence: presence.clone(),
        owner: None,
        policy: None,
        encryption: None,
        key: None,
    };
    let Ok(BucketPresence::Exists {
        region: home,
        owner_verified,
    }) = presence
    else {
        return docs;
    };
    docs.owner = if owner_verified { owner } else { None };
    let c = session.clients(home.as_deref().unwrap_or(region));
    let (policy, encryption) = futures::join!(
        s3_read::bucket_policy(&c.s3, bucket, docs.owner.as_deref()),
        s3_read::bucket_encryption(&c.s3, bucket, docs.owner.as_deref())
    );
    docs.policy = Some(read(policy));
    let encryption = read(encryption);
    if let Ok(Some(Encryption::Kms { kms_key })) = &encryption
        && !kms_key.is_empty()
    {
        let key_region = kms_key
            .strip_prefix("arn:")
            .and_then(|r| r.split(':').nth(2))
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| c.region.clone());
        let kms = session.clients(&key_region).kms;
        docs.key = Some(read(aws::kms::key_documents(&kms, kms_key).await));
    }
    docs.encryption = Some(encryption);
    docs
}

#[allow(clippy::too_many_arguments)]
async fn s3_facts(
    sessions: &Sessions<'_>,
    subject: &Subject,
    arn: &str,
    options: S3Options,
    expected_owner: Option<String>,
    now: Timestamp,
    since: Option<i64>,
    cache: &Cache,
) -> S3Facts {
    let (bucket, prefix) = split_s3_arn(arn);
    let (session, reader) = match sessions.bucket_owner {
        Some(s) => (s, expected_owner.clone().unwrap_or_default()),
        None => (sessions.account, subject.account.clone()),
    };
    let owner = expected_owner.or_else(|| Some(subject.account.clone()));
    let docs = cell(&cache.buckets, (reader, bucket.clone(), owner.clone()))
        .await
        .get_or_init(|| bucket_docs(session, &subject.region, &bucket, owner))
        .await
        .clone();
    let mut facts = S3Facts {
        bucket: bucket.clone(),
        prefix: prefix.clone(),
        options,
        presence: docs.presence.clone(),
        policy: docs.policy,
        encryption: docs.encryption,
        key: docs.key,
        listing: None,
        newest_start: None,
    };
    let Ok(BucketPresence::Exists { region, .. }) = &docs.presence else {
        return facts;
    };
    let owner = docs.owner.as_deref();
    let c = session.clients(region.as_deref().unwrap_or(&subject.region));
    let cutoff = evidence::cutoff(subject, now, since);
    let mut listing = Listing::default();
    for p in prefixes(subject, prefix.as_deref(), &options, now, cutoff) {
        match s3_read::list_bounded(&c.s3, &bucket, &p, owner, BOUND).await {
            Ok((objects, truncated)) => {
                listing.prefixes.push(p);
                listing.objects.extend(objects);
                listing.truncated |= truncated;
            }
            Err(e) => {
                facts.listing = Some(Err(failure(e)));
                return facts;
            }
        }
        if evidence::s3_found(subject, &facts, &listing, cutoff).count > 0 {
            break; // newest first: the newest delivery is in this folder
        }
    }
    let found = evidence::s3_found(subject, &facts, &listing, cutoff);
    if let Some(n) = &found.newest {
        facts.newest_start = Some(read(
            s3_read::object_start(&c.s3, &bucket, &n.name, owner, HEAD_BYTES).await,
        ));
    }
    facts.listing = Some(Ok(listing));
    facts
}

async fn cwl_facts(
    aws: &Aws,
    subject: &Subject,
    log_group: String,
    role_arn: String,
    now: Timestamp,
    since: Option<i64>,
    cache: &Cache,
) -> CwlFacts {
    let c = aws.clients(&subject.region);
    let role_name = role_arn.rsplit('/').next().unwrap_or(&role_arn).to_string();
    let iam = aws.iam();
    let role = async {
        cell(&cache.roles, (subject.account.clone(), role_name.clone()))
            .await
            .get_or_init(|| async { read(aws::iam_read::role_documents(&iam, &role_name).await) })
            .await
            .clone()
    };
    let (group, role) = futures::join!(aws::logs::describe_log_group(&c.logs, &log_group), role);
    let mut facts = CwlFacts {
        log_group: log_group.clone(),
        role_arn,
        group: read(group),
        role: Some(role),
        key: None,
        streams: None,
        events: None,
    };
    let Ok(Some(state)) = &facts.group else {
        return facts;
    };
    if let Some(k) = &state.kms_key {
        facts.key = Some(read(aws::kms::key_documents(&c.kms, k).await));
    }
    let prefixes: Vec<String> = match &subject.interfaces {
        Some(i) => i.iter().take(MAX_INTERFACES).cloned().collect(),
        None => vec!["eni-".to_string()],
    };
    let mut streams = Vec::new();
    for p in &prefixes {
        match aws::logs_read::streams_with_prefix(&c.logs, &log_group, p, 5).await {
            Ok(s) => streams.extend(s),
            Err(e) => {
                facts.streams = Some(Err(failure(e)));
                return facts;
            }
        }
    }
    facts.streams = Some(Ok(streams));
    let cutoff = evidence::cutoff(subject, now, since);
    if let Some(n) = evidence::cwl_found(subject, &facts, cutoff).newest {
        facts.events = Some(read(
            aws::logs_read::newest_events(&c.logs, &log_group, &n.name, 5).await,
        ));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::testing::{minutes_ago, now, subject};

    #[test]
    fn s3_arns_split_into_bucket_and_prefix() {
        assert_eq!(split_s3_arn("arn:aws:s3:::b"), ("b".into(), None));
        assert_eq!(split_s3_arn("arn:aws:s3:::b/"), ("b".into(), None));
        assert_eq!(
            split_s3_arn("arn:aws:s3:::b/a/c/"),
            ("b".into(), Some("a/c".into()))
        );
    }

    #[test]
    fn day_layouts_list_today_then_yesterday_with_the_name_prefix() {
        let s = subject();
        let p = prefixes(&s, Some("vpc"), &S3Options::default(), now(), None);
        assert_eq!(
            p,
            [
                "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_",
                "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01/111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_",
            ]
        );
        // Created today: yesterday is not listed.
        let p = prefixes(
            &s,
            Some("vpc"),
            &S3Options::default(),
            now(),
            Some(minutes_ago(30)),
        );
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn hour_layouts_list_hours_back_to_the_cutoff_at_most_a_day() {
        let s = subject();
        let opts = S3Options {
            per_hour_partition: true,
            hive_compatible_partitions: true,
            ..Default::default()
        };
        let p = prefixes(&s, None, &opts, now(), Some(minutes_ago(90)));
        assert_eq!(p.len(), 3, "08:30 is in the 08 folder: {p:?}");
        assert!(
            p[0].contains("/day=02/hour=10/") && p[2].contains("/hour=08/"),
            "{p:?}"
        );
        assert_eq!(prefixes(&s, None, &opts, now(), None).len(), 24);
    }
}
