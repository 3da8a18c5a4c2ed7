//! Expands the declared destinations for one account: bucket, log group and role names with
//! placeholders filled in, merged where several destinations share one, and conflicts reported.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    AccountId, DesiredState, Destination, Encryption, FlowLogDestination, LifecycleRule,
    partition_of,
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
    pub destinations: BTreeSet<String>,
    /// Accounts whose flow logs deliver here (just this account, or every source account for a
    /// central destination).
    pub sources: BTreeSet<AccountId>,
    /// For a central destination of an organization: its id, used instead of the account list.
    pub org_id: Option<String>,
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
    /// (region, log group) pairs the role delivers to.
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
    pub problems: Vec<Problem>,
}

/// A destination resource a flow log depends on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Bucket(String),
    LogGroup(String, String),
    Role(String),
}

pub fn resolve(
    desired: &DesiredState,
    account: &AccountId,
    ctx: &PlanContext,
    regions: &[String],
) -> Resolved {
    let mut r = Resolved::default();
    let acct = account.as_str();
    for (dname, dest) in &desired.destinations {
        for region in regions {
            let partition = partition_of(region);
            match dest {
                Destination::S3(s3) => {
                    let owner = s3.account.as_ref().unwrap_or(account);
                    let name = s3.bucket.render(owner.as_str(), region);
                    r.flow_log_destinations.insert(
                        (dname.clone(), region.clone()),
                        FlowLogDestination::S3 {
                            arn: FlowLogDestination::s3_arn(partition, &name, s3.prefix.as_deref()),
                            options: s3.options,
                        },
                    );
                    if owner != account {
                        // The bucket belongs to the central account's run; nothing to own here.
                        r.destination_parts
                            .insert((dname.clone(), region.clone()), Vec::new());
                        continue;
                    }
                    let central = s3.account.is_some();
                    let sources = if central {
                        ctx.source_accounts.clone()
                    } else {
                        [account.clone()].into()
                    };
                    let org_id = if central { ctx.org_id.clone() } else { None };
                    let home = s3.region.clone().unwrap_or_else(|| {
                        if s3.bucket.uses_region() {
                            region.clone()
                        } else {
                            regions[0].clone()
                        }
                    });
                    let rules = s3.lifecycle.as_ref().map(|l| LifecycleRule {
                        id: format!("flowkeeper-{dname}"),
                        prefix: match &s3.prefix {
                            Some(p) => format!("{p}/AWSLogs/"),
                            None => "AWSLogs/".to_string(),
                        },
                        transition_days: l.transition_days,
                        storage_class: l.storage_class.clone(),
                        expire_days: l.expire_days,
                    });
                    let entry = r
                        .buckets
                        .entry(name.clone())
                        .or_insert_with(|| WantedBucket {
                            name: name.clone(),
                            region: home.clone(),
                            create: s3.create,
                            encryption: s3.encryption.clone(),
                            lifecycle_rules: Vec::new(),
                            prefixes: BTreeSet::new(),
                            destinations: BTreeSet::new(),
                            sources: BTreeSet::new(),
                            org_id: org_id.clone(),
                        });
                    entry.sources.extend(sources);
                    if entry.encryption != s3.encryption
                        || entry.create != s3.create
                        || entry.region != home
                    {
                        r.problems.push(Problem {
                            region: None,
                            subject: format!("bucket {name}"),
                            message: format!(
                                "destinations {} and `{dname}` share this bucket but disagree on `create`, `region` or `encryption`",
                                entry.destinations.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                            ),
                            hint: Some("give them the same bucket settings, or different buckets".into()),
                        });
                    }
                    if let Some(rule) = rules
                        && !entry.lifecycle_rules.iter().any(|x| x.id == rule.id)
                    {
                        entry.lifecycle_rules.push(rule);
                    }
                    entry.prefixes.insert(s3.prefix.clone());
                    entry.destinations.insert(dname.clone());
                    r.destination_parts
                        .insert((dname.clone(), region.clone()), vec![Part::Bucket(name)]);
                }
                Destination::CloudwatchLogs(cw) => {
                    let group = cw.log_group.render(acct, region);
                    let role_name = cw.delivery_role.render(acct, region);
                    let role_arn = format!("arn:{partition}:iam::{acct}:role/{role_name}");
                    let key = (region.clone(), group.clone());
                    let wanted = WantedLogGroup {
                        region: region.clone(),
                        name: group.clone(),
                        retention_days: cw.retention_days,
                        kms_key: cw.kms_key.as_ref().map(|k| k.render(acct, region)),
                        destination: dname.clone(),
                    };
                    match r.log_groups.get(&key) {
                        Some(existing)
                            if (existing.retention_days, &existing.kms_key)
                                != (wanted.retention_days, &wanted.kms_key) =>
                        {
                            r.problems.push(Problem {
                                region: Some(region.clone()),
                                subject: format!("log group {group}"),
                                message: format!(
                                    "destinations `{}` and `{dname}` share this log group but disagree on `retention_days` or `kms_key`",
                                    existing.destination
                                ),
                                hint: None,
                            });
                        }
                        Some(_) => {}
                        None => {
                            r.log_groups.insert(key, wanted);
                        }
                    }
                    r.roles
                        .entry(role_name.clone())
                        .or_insert_with(|| WantedRole {
                            name: role_name.clone(),
                            arn: role_arn.clone(),
                            log_groups: BTreeSet::new(),
                        })
                        .log_groups
                        .insert((region.clone(), group.clone()));
                    r.flow_log_destinations.insert(
                        (dname.clone(), region.clone()),
                        FlowLogDestination::CloudwatchLogs {
                            log_group: group.clone(),
                            role_arn,
                        },
                    );
                    r.destination_parts.insert(
                        (dname.clone(), region.clone()),
                        vec![Part::LogGroup(region.clone(), group), Part::Role(role_name)],
                    );
                }
            }
        }
    }
    r
}
