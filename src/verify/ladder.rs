//! The whole ladder for one flow log, from its [`Facts`] and `now`: every rung in order,
//! then the status rolled up from them. Pure.

use jiff::Timestamp;

use super::check::{self, RUNGS};
use super::evidence::{self, Found};
use super::facts::{DestinationFacts, Facts, Read, Subject, Thresholds};
use super::report::{Check, CheckResult, DeliveryStatus, FlowLogVerification};
use super::{destination, freshness, permissions_cwl, permissions_s3, shape, status};
use crate::model::{FileFormat, FlowLogSpec, layout};

/// failing if any rung failed (stale if only freshness did); unverified if a rung could not
/// be decided; waiting if a rung waits; otherwise delivering.
pub fn rollup(checks: &[Check]) -> DeliveryStatus {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.result == CheckResult::Failed)
        .map(|c| c.name.as_str())
        .collect();
    let undecided = checks.iter().any(|c| c.result == CheckResult::Unverified);
    match failed.as_slice() {
        [] if undecided => DeliveryStatus::Unverified,
        [] if checks.iter().any(|c| c.result == CheckResult::Waiting) => DeliveryStatus::Waiting,
        [] => DeliveryStatus::Delivering,
        [only] if *only == check::FRESHNESS => DeliveryStatus::Stale,
        _ => DeliveryStatus::Failing,
    }
}

/// After a rung that could not be decided, a later rung that would wait says why it was not
/// checked instead ("no delivery yet" would be a guess: the failed read may be the reason).
fn after_undecided(checks: &mut [Check]) {
    let Some(first) = checks
        .iter()
        .position(|c| c.result == CheckResult::Unverified)
    else {
        return;
    };
    for c in &mut checks[first + 1..] {
        if c.result == CheckResult::Waiting {
            *c = check::not_applicable(&c.name, "not checked: an earlier read failed");
        }
    }
}

/// The evidence rung over one bounded read: not made (the destination could not be found or
/// read: `unread`), failed, or made and searched by `search`. S3 and CloudWatch Logs differ
/// only in what they read and how they search it.
fn evidence_rung<T>(
    s: &Subject,
    read: Option<&Read<T>>,
    unread: &str,
    where_: &str,
    waiting: &Option<String>,
    kind: &str,
    search: impl FnOnce(&T) -> Found,
) -> (Check, Found) {
    match read {
        None => (
            check::not_applicable(check::EVIDENCE, unread),
            Found::default(),
        ),
        Some(Err(e)) => (
            evidence::check(s, Err(e.clone()), where_, waiting.clone(), kind),
            Found::default(),
        ),
        Some(Ok(x)) => {
            let found = search(x);
            let c = evidence::check(s, Ok(&found), where_, waiting.clone(), kind);
            (c, found)
        }
    }
}

/// Verifies one flow log.
pub fn verify(facts: &Facts, now: Timestamp, t: &Thresholds) -> FlowLogVerification {
    let s = &facts.subject;
    let mut checks = vec![status::check(s)];
    let mut newest = None;
    match &facts.destination {
        DestinationFacts::Firehose { arn } => {
            checks.push(destination::firehose(arn));
            for name in &RUNGS[2..] {
                checks.push(check::not_applicable(
                    name,
                    "a Firehose destination: verify reads no delivery stream",
                ));
            }
            if checks[0].result == CheckResult::Ok {
                checks[1].result = CheckResult::Unverified;
            }
        }
        DestinationFacts::Unreadable { description } => {
            // Not proven either way: unverified (an error of the run), never "delivering".
            let mut c = check::not_applicable(check::DESTINATION, description);
            c.result = CheckResult::Unverified;
            c.fix = Some(
                "verify it with credentials of the account that owns the destination, or check it by hand"
                    .into(),
            );
            checks.push(c);
            for name in &RUNGS[2..] {
                checks.push(check::not_applicable(
                    name,
                    "not checked: the destination cannot be read from here",
                ));
            }
        }
        DestinationFacts::S3(f) => {
            checks.push(destination::s3(s, f));
            checks.push(permissions_s3::check(s, f, now));
            let cutoff = evidence::cutoff(s, now, t.since);
            let waiting = evidence::waiting_reason(s, now, t.first_window_s3);
            let where_ = f
                .listing
                .as_ref()
                .and_then(|l| l.as_ref().ok())
                .map(|l| match l.prefixes.len() {
                    0 | 1 => l.prefixes.first().cloned().unwrap_or_default(),
                    n => format!("{} and {} earlier folder(s)", l.prefixes[0], n - 1),
                })
                .unwrap_or_else(|| layout::aws_logs_root(f.prefix.as_deref()));
            let where_ = format!("s3://{}/{where_}", f.bucket);
            let (mut c, found) = evidence_rung(
                s,
                f.listing.as_ref(),
                "the bucket could not be found or read",
                &where_,
                &waiting,
                "objects",
                |listing| evidence::s3_found(s, f, listing, cutoff),
            );
            if let Some(Ok(listing)) = &f.listing {
                if c.result == CheckResult::Failed && evidence::older_than_listing(s, now) {
                    c.detail = evidence::within_listing(&c.detail, s, &where_);
                }
                if listing.truncated {
                    c.detail.push_str(
                        " (a folder held more objects than one bounded listing reads; the newest may be later)",
                    );
                }
            }
            checks.push(c);
            let key = found
                .newest
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            let parquet = f.options.file_format == FileFormat::Parquet;
            checks.push(match &found.newest {
                Some(_) => shape::s3(
                    s,
                    parquet,
                    f.newest_start
                        .as_ref()
                        .map(|r| r.as_ref().map_err(Clone::clone)),
                    &key,
                ),
                None => idle(check::SHAPE, waiting.is_some()),
            });
            checks.push(freshness::check(
                &found,
                now,
                t.max_age_s3,
                waiting.is_some(),
            ));
            note_bucket_denies(s, f, &mut checks, &key);
            newest = found.newest;
        }
        DestinationFacts::Cwl(f) => {
            checks.push(destination::cwl(s, f));
            checks.push(permissions_cwl::check(s, f));
            let cutoff = evidence::cutoff(s, now, t.since);
            let waiting = evidence::waiting_reason(s, now, t.first_window_cwl);
            let where_ = format!("log group {}", f.log_group);
            let (c, found) = evidence_rung(
                s,
                f.streams.as_ref(),
                "the log group could not be found or read",
                &where_,
                &waiting,
                "streams",
                |_| evidence::cwl_found(s, f, cutoff),
            );
            checks.push(c);
            checks.push(match &found.newest {
                Some(n) => shape::cwl(
                    s,
                    f.events.as_ref().map(|r| r.as_ref().map_err(Clone::clone)),
                    &n.name,
                ),
                None => idle(check::SHAPE, waiting.is_some()),
            });
            checks.push(freshness::check(
                &found,
                now,
                t.max_age_cwl,
                waiting.is_some(),
            ));
            newest = found.newest;
        }
    }
    after_undecided(&mut checks);
    FlowLogVerification {
        account: s.account.clone(),
        region: s.region.clone(),
        flow_log_id: s.flow_log.id.clone(),
        resource_id: s.flow_log.resource_id.clone(),
        destination: s.flow_log.settings.destination.location().to_string(),
        destination_type: s.flow_log.settings.destination.type_name().to_string(),
        status: rollup(&checks),
        newest_delivery: newest
            .as_ref()
            .and_then(|n| Timestamp::from_second(n.at.as_second()).ok())
            .map(|t| t.to_string()),
        lag_seconds: newest.and_then(|n| n.lag),
        checks,
        entry: s.entry.clone(),
    }
}

/// A denied S3 read whose fix says "grant `s3:...`": when the bucket policy's own Deny refuses
/// it, the fix says so (a grant alone would not help).
fn note_bucket_denies(
    s: &super::facts::Subject,
    f: &super::facts::S3Facts,
    checks: &mut [Check],
    key: &str,
) {
    for c in checks.iter_mut() {
        if c.result != CheckResult::Unverified {
            continue;
        }
        let Some(fix) = &c.fix else { continue };
        let Some(perm) = fix
            .strip_prefix("grant `")
            .and_then(|r| r.split('`').next())
            .filter(|p| p.starts_with("s3:"))
        else {
            continue;
        };
        let resource = if perm == "s3:GetObject" {
            format!("arn:{}:s3:::{}/{key}", s.partition, f.bucket)
        } else {
            format!("arn:{}:s3:::{}", s.partition, f.bucket)
        };
        if let Some(note) = permissions_s3::bucket_deny_note(s, f, perm, &resource) {
            c.fix = Some(format!("{note}; then {fix}"));
        }
    }
}

fn idle(name: &str, waiting: bool) -> Check {
    if waiting {
        check::waiting(name, "no delivery yet")
    } else {
        check::not_applicable(name, "no delivery to look at")
    }
}

/// A flow log the config wants that does not exist: failing at the status rung.
pub fn missing(account: &str, region: &str, spec: &FlowLogSpec) -> FlowLogVerification {
    let mut checks = vec![check::failed(
        check::STATUS,
        format!(
            "no flow log of entry `{}` to `{}` exists on {}",
            spec.entry, spec.destination_name, spec.resource_id
        ),
        "run `flowkeeper apply`",
    )];
    for name in &RUNGS[1..] {
        checks.push(check::not_applicable(name, "no flow log to check"));
    }
    FlowLogVerification {
        account: account.to_string(),
        region: region.to_string(),
        flow_log_id: String::new(),
        resource_id: spec.resource_id.clone(),
        destination: spec.settings.destination.location().to_string(),
        destination_type: spec.settings.destination.type_name().to_string(),
        status: DeliveryStatus::Failing,
        checks,
        newest_delivery: None,
        lag_seconds: None,
        entry: Some(spec.entry.clone()),
    }
}
