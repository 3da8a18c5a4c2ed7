//! Expands the declared destinations for one account: bucket, log group and role names with
//! placeholders filled in, merged where several destinations share one, and conflicts reported.
//!
//! Account-wide and shared resources (the delivery role, a bucket without `{region}` that every
//! region delivers to, a central bucket) are always computed from every region the config
//! covers in the account; `--regions` (or a region that could not be read) only narrows which
//! per-region parts are planned. A resource two destinations disagree on is blocked: reported,
//! never planned, and no flow log into it is planned.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    AccountId, CloudWatchDestination, DesiredState, Destination, Encryption, FlowLogDestination,
    LifecycleRule, S3Destination, layout, partition_of,
};

use super::types::Problem;

/// A bucket as the config wants it in this account.
#[derive(Clone, Debug, PartialEq)]
pub struct WantedBucket {
    pub name: String,
    pub region: String,
    pub create: bool,
    pub encryption: Encryption,
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// Folders (None = bucket root) flow logs deliver under.
    pub prefixes: BTreeSet<Option<String>>,
    /// Those of `prefixes` some flow log delivers to with Hive-compatible partitions: their
    /// account folders are `AWSLogs/aws-account-id=<account>/` (see `model::layout`).
    pub hive_prefixes: BTreeSet<Option<String>>,
    pub destinations: BTreeSet<String>,
    /// Accounts whose flow logs deliver here (just this account, or every source account for a
    /// central destination).
    pub sources: BTreeSet<AccountId>,
    /// For a central destination of an organization: its id, used instead of the account list.
    pub org_id: Option<String>,
    /// The account that owns the bucket (every S3 call on it says so as `ExpectedBucketOwner`).
    pub owner: AccountId,
}

/// Facts about the whole run the planner of one account needs: who delivers to central buckets.
#[derive(Clone, Debug, Default)]
pub struct PlanContext {
    /// Every account whose flow logs the config covers.
    pub source_accounts: BTreeSet<AccountId>,
    /// The organization's id when accounts come from `organization:`.
    pub org_id: Option<String>,
}

impl PlanContext {
    /// A run over just this account.
    pub fn single(account: &AccountId) -> Self {
        PlanContext {
            source_accounts: [account.clone()].into(),
            org_id: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct WantedLogGroup {
    pub region: String,
    pub name: String,
    pub retention_days: Option<i32>,
    pub kms_key: Option<String>,
    pub destination: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WantedRole {
    pub name: String,
    pub arn: String,
    /// (region, log group) pairs the role delivers to, in every region of the config.
    pub log_groups: BTreeSet<(String, String)>,
}

/// Per-account expansion of the destinations.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub buckets: BTreeMap<String, WantedBucket>,
    /// By (region, name).
    pub log_groups: BTreeMap<(String, String), WantedLogGroup>,
    pub roles: BTreeMap<String, WantedRole>,
    /// (destination name, region) → where flow logs deliver.
    pub flow_log_destinations: BTreeMap<(String, String), FlowLogDestination>,
    /// (destination name, region) → the bucket, log group or role keys it needs.
    pub destination_parts: BTreeMap<(String, String), Vec<Part>>,
    /// Parts destinations disagree on: never planned, and nothing that needs them either.
    pub blocked: BTreeSet<Part>,
    pub problems: Vec<Problem>,
}

/// A destination resource a flow log depends on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Bucket(String),
    LogGroup(String, String),
    Role(String),
}

/// One destination's view of a bucket in one region.
#[derive(Clone, Debug)]
struct BucketClaim {
    destination: String,
    home: String,
    create: bool,
    encryption: Encryption,
    prefix: Option<String>,
    /// The destination delivers with Hive-compatible partitions.
    hive: bool,
    rule: Option<LifecycleRule>,
    sources: BTreeSet<AccountId>,
    org_id: Option<String>,
}

/// One destination's view of a log group.
#[derive(Clone, Debug)]
struct GroupClaim {
    destination: String,
    retention_days: Option<i32>,
    kms_key: Option<String>,
}

/// Claims gathered over every region before they are merged.
#[derive(Default)]
struct Claims {
    buckets: BTreeMap<String, Vec<BucketClaim>>,
    groups: BTreeMap<(String, String), Vec<GroupClaim>>,
}

/// Expands the destinations for `account` over `all_regions` (every region the config covers
/// there), then keeps what the `regions` being planned need.
pub fn resolve(
    desired: &DesiredState,
    account: &AccountId,
    ctx: &PlanContext,
    all_regions: &[String],
    regions: &[String],
) -> Resolved {
    let mut r = Resolved::default();
    let mut claims = Claims::default();
    for (dname, dest) in &desired.destinations {
        for region in all_regions {
            match dest {
                Destination::S3(s3) => claim_s3(
                    dname,
                    s3,
                    account,
                    ctx,
                    region,
                    all_regions,
                    &mut r,
                    &mut claims,
                ),
                Destination::CloudwatchLogs(cw) => {
                    claim_cloudwatch(dname, cw, account, region, &mut r, &mut claims)
                }
            }
        }
    }
    let mut conflicts = BTreeMap::new();
    for (name, list) in &claims.buckets {
        match merge_bucket(name, account, list) {
            Ok(b) => {
                r.buckets.insert(name.clone(), b);
            }
            Err(p) => {
                conflicts.insert(Part::Bucket(name.clone()), p);
            }
        }
    }
    for ((region, name), list) in &claims.groups {
        match merge_group(region, name, list) {
            Ok(g) => {
                r.log_groups.insert((region.clone(), name.clone()), g);
            }
            Err(p) => {
                conflicts.insert(Part::LogGroup(region.clone(), name.clone()), p);
            }
        }
    }
    narrow(r, conflicts, regions)
}

/// Keeps the per-region parts of `regions`, and the account-wide parts they need (computed
/// from every region).
fn narrow(mut r: Resolved, conflicts: BTreeMap<Part, Problem>, regions: &[String]) -> Resolved {
    let planned = |region: &String| regions.contains(region);
    r.flow_log_destinations
        .retain(|(_, region), _| planned(region));
    r.destination_parts.retain(|(_, region), _| planned(region));
    let needed: BTreeSet<&Part> = r.destination_parts.values().flatten().collect();
    r.buckets
        .retain(|name, _| needed.contains(&Part::Bucket(name.clone())));
    r.log_groups.retain(|(region, _), _| planned(region));
    r.roles
        .retain(|name, _| needed.contains(&Part::Role(name.clone())));
    for (part, problem) in conflicts {
        if needed.contains(&part) {
            r.blocked.insert(part);
            r.problems.push(problem);
        }
    }
    r
}

/// The region a bucket lives in: the destination's `region`, else the region it serves when
/// its name has `{region}`, else the first region the config covers (whatever `--regions` says).
fn home_region(s3: &S3Destination, region: &str, all_regions: &[String]) -> String {
    match (&s3.region, s3.bucket.uses_region(), all_regions.first()) {
        (Some(r), _, _) => r.clone(),
        (None, true, _) | (None, false, None) => region.to_string(),
        (None, false, Some(first)) => first.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn claim_s3(
    dname: &str,
    s3: &S3Destination,
    account: &AccountId,
    ctx: &PlanContext,
    region: &str,
    all_regions: &[String],
    r: &mut Resolved,
    claims: &mut Claims,
) {
    let key = (dname.to_string(), region.to_string());
    let owner = s3.account.as_ref().unwrap_or(account);
    let name = s3.bucket.render(owner.as_str(), region);
    r.flow_log_destinations.insert(
        key.clone(),
        FlowLogDestination::S3 {
            arn: FlowLogDestination::s3_arn(partition_of(region), &name, s3.prefix.as_deref()),
            options: s3.options,
        },
    );
    if owner != account {
        // The bucket belongs to the central account's run; nothing to own here.
        r.destination_parts.insert(key, Vec::new());
        return;
    }
    let central = s3.account.is_some();
    let rule = s3.lifecycle.as_ref().map(|l| LifecycleRule {
        id: format!("flowkeeper-{dname}"),
        prefix: layout::aws_logs_root(s3.prefix.as_deref()),
        transition_days: l.transition_days,
        storage_class: l.storage_class.clone(),
        expire_days: l.expire_days,
    });
    claims
        .buckets
        .entry(name.clone())
        .or_default()
        .push(BucketClaim {
            destination: dname.to_string(),
            home: home_region(s3, region, all_regions),
            create: s3.create,
            encryption: s3.encryption.clone(),
            prefix: s3.prefix.clone(),
            hive: s3.options.hive_compatible_partitions,
            rule,
            sources: if central {
                ctx.source_accounts.clone()
            } else {
                [account.clone()].into()
            },
            org_id: if central { ctx.org_id.clone() } else { None },
        });
    r.destination_parts.insert(key, vec![Part::Bucket(name)]);
}

fn claim_cloudwatch(
    dname: &str,
    cw: &CloudWatchDestination,
    account: &AccountId,
    region: &str,
    r: &mut Resolved,
    claims: &mut Claims,
) {
    let acct = account.as_str();
    let partition = partition_of(region);
    let group = cw.log_group.render(acct, region);
    let role_name = cw.delivery_role.render(acct, region);
    let role_arn = format!("arn:{partition}:iam::{acct}:role/{role_name}");
    claims
        .groups
        .entry((region.to_string(), group.clone()))
        .or_default()
        .push(GroupClaim {
            destination: dname.to_string(),
            retention_days: cw.retention_days,
            kms_key: cw.kms_key.as_ref().map(|k| k.render(acct, region)),
        });
    r.roles
        .entry(role_name.clone())
        .or_insert_with(|| WantedRole {
            name: role_name.clone(),
            arn: role_arn.clone(),
            log_groups: BTreeSet::new(),
        })
        .log_groups
        .insert((region.to_string(), group.clone()));
    let key = (dname.to_string(), region.to_string());
    r.flow_log_destinations.insert(
        key.clone(),
        FlowLogDestination::CloudwatchLogs {
            log_group: group.clone(),
            role_arn,
            elsewhere: None,
        },
    );
    r.destination_parts.insert(
        key,
        vec![
            Part::LogGroup(region.to_string(), group),
            Part::Role(role_name),
        ],
    );
}

fn encryption_label(e: &Encryption) -> String {
    match e {
        Encryption::SseS3 => "sse-s3".into(),
        Encryption::Kms { kms_key } => format!("kms_key {kms_key}"),
    }
}

fn lifecycle_label(rule: &Option<LifecycleRule>) -> String {
    match rule {
        None => "none".into(),
        Some(r) => {
            let mut parts = Vec::new();
            if let (Some(d), Some(c)) = (r.transition_days, &r.storage_class) {
                parts.push(format!("{c} after {d}d"));
            }
            if let Some(e) = r.expire_days {
                parts.push(format!("expire after {e}d"));
            }
            parts.join(", ")
        }
    }
}

/// The settings two claims on one bucket disagree on, each with both values.
fn bucket_disagreements(a: &BucketClaim, b: &BucketClaim) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if a.create != b.create {
        out.push(("create", a.create.to_string(), b.create.to_string()));
    }
    if a.home != b.home {
        out.push(("region", a.home.clone(), b.home.clone()));
    }
    if a.encryption != b.encryption {
        out.push((
            "encryption",
            encryption_label(&a.encryption),
            encryption_label(&b.encryption),
        ));
    }
    // Lifecycle rules are per destination; under one prefix they would govern each other's
    // objects.
    let same_rule = |x: &Option<LifecycleRule>, y: &Option<LifecycleRule>| match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            (x.transition_days, &x.storage_class, x.expire_days)
                == (y.transition_days, &y.storage_class, y.expire_days)
        }
        _ => false,
    };
    if a.prefix == b.prefix && !same_rule(&a.rule, &b.rule) {
        out.push((
            "lifecycle",
            lifecycle_label(&a.rule),
            lifecycle_label(&b.rule),
        ));
    }
    out
}

/// A problem naming both destinations, the settings they disagree on and both values.
fn conflict_problem(
    region: Option<&str>,
    subject: String,
    what: &str,
    a: &str,
    b: &str,
    diffs: &[(&'static str, String, String)],
) -> Problem {
    let settings: Vec<String> = diffs.iter().map(|(k, _, _)| format!("`{k}`")).collect();
    let values: Vec<String> = diffs
        .iter()
        .map(|(k, x, y)| format!("{k}: `{a}` says {x}, `{b}` says {y}"))
        .collect();
    Problem {
        region: region.map(str::to_string),
        subject,
        message: format!(
            "destinations `{a}` and `{b}` share this {what} but disagree on {} ({}); nothing is planned on it or into it",
            settings.join(", "),
            values.join("; ")
        ),
        hint: Some(format!(
            "give both destinations the same settings, or different {what} names"
        )),
    }
}

/// One bucket from every destination's claim on it, or the conflict between two of them.
fn merge_bucket(
    name: &str,
    owner: &AccountId,
    claims: &[BucketClaim],
) -> Result<WantedBucket, Problem> {
    let first = &claims[0];
    for c in &claims[1..] {
        let diffs = bucket_disagreements(first, c);
        if !diffs.is_empty() {
            return Err(conflict_problem(
                None,
                format!("bucket {name}"),
                "bucket",
                &first.destination,
                &c.destination,
                &diffs,
            ));
        }
    }
    let mut b = WantedBucket {
        name: name.to_string(),
        region: first.home.clone(),
        create: first.create,
        encryption: first.encryption.clone(),
        lifecycle_rules: Vec::new(),
        prefixes: BTreeSet::new(),
        hive_prefixes: BTreeSet::new(),
        destinations: BTreeSet::new(),
        sources: BTreeSet::new(),
        org_id: None,
        owner: owner.clone(),
    };
    for c in claims {
        b.sources.extend(c.sources.iter().cloned());
        b.org_id = b.org_id.take().or_else(|| c.org_id.clone());
        if let Some(rule) = &c.rule
            && !b.lifecycle_rules.iter().any(|x| x.id == rule.id)
        {
            b.lifecycle_rules.push(rule.clone());
        }
        b.prefixes.insert(c.prefix.clone());
        if c.hive {
            b.hive_prefixes.insert(c.prefix.clone());
        }
        b.destinations.insert(c.destination.clone());
    }
    Ok(b)
}

fn merge_group(region: &str, name: &str, claims: &[GroupClaim]) -> Result<WantedLogGroup, Problem> {
    let first = &claims[0];
    for c in &claims[1..] {
        let mut diffs = Vec::new();
        if c.retention_days != first.retention_days {
            let days = |d: Option<i32>| d.map_or("never expire".into(), |d| format!("{d} days"));
            diffs.push((
                "retention_days",
                days(first.retention_days),
                days(c.retention_days),
            ));
        }
        if c.kms_key != first.kms_key {
            let key = |k: &Option<String>| k.clone().unwrap_or_else(|| "none".into());
            diffs.push(("kms_key", key(&first.kms_key), key(&c.kms_key)));
        }
        if !diffs.is_empty() {
            return Err(conflict_problem(
                Some(region),
                format!("log group {name}"),
                "log group",
                &first.destination,
                &c.destination,
                &diffs,
            ));
        }
    }
    Ok(WantedLogGroup {
        region: region.to_string(),
        name: name.to_string(),
        retention_days: first.retention_days,
        kms_key: first.kms_key.clone(),
        destination: first.destination.clone(),
    })
}
