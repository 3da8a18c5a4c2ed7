//! Which accounts a run covers and how to reach each: the current account, an explicit list,
//! or an AWS Organization; plus accounts that only host a central destination. A target whose
//! access cannot be worked out is a value in the result, never an abort of the others.

use std::collections::BTreeSet;

use crate::aws::{self, Aws, AwsError};
use crate::model::{
    Access, AccountId, AccountSource, AccountTarget, DesiredState, Destination, Regions, access_for,
};

/// `--accounts` / `--regions` from the command line.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub accounts: Option<BTreeSet<AccountId>>,
    pub regions: Option<Vec<String>>,
}

/// An account that could not be worked on, with why.
#[derive(Clone, Debug)]
pub struct TargetFailure {
    pub account: Option<AccountId>,
    pub region: Option<String>,
    pub error: AwsError,
}

/// The accounts of a run.
#[derive(Clone, Debug, Default)]
pub struct TargetSet {
    pub targets: Vec<AccountTarget>,
    /// Every account whose flow logs the config covers, before `--accounts` narrows the run:
    /// central bucket policies admit all of them.
    pub source_accounts: BTreeSet<AccountId>,
    /// The organization's id when accounts come from `organization:`.
    pub org_id: Option<String>,
    pub failures: Vec<TargetFailure>,
    /// Accounts named by `--accounts` that the config does not cover.
    pub unmatched_accounts: Vec<AccountId>,
}

fn no_role(id: &AccountId) -> TargetFailure {
    TargetFailure {
        account: Some(id.clone()),
        region: None,
        error: AwsError::other(
            "sts:AssumeRole",
            format!(
                "no role to reach account {id}: set `role_arn` or `role_name` on it, or `defaults.role_name`"
            ),
        ),
    }
}

/// Works out the accounts and how to reach them (Organizations is asked when configured).
pub async fn discover_targets(
    desired: &DesiredState,
    aws: &Aws,
    caller: &AccountId,
    partition: &str,
    filters: &Filters,
) -> TargetSet {
    let mut set = TargetSet::default();
    let defaults = &desired.defaults;
    match &desired.accounts {
        AccountSource::Current => set.targets.push(AccountTarget {
            account: caller.clone(),
            name: None,
            access: Access::Caller,
            regions: desired.regions.clone(),
            logs_flows: true,
        }),
        AccountSource::List { accounts } => {
            for a in accounts {
                match access_for(
                    &a.id,
                    caller,
                    partition,
                    a.role_arn.as_deref(),
                    a.role_name.as_deref(),
                    a.external_id.as_deref(),
                    defaults,
                ) {
                    Some(access) => set.targets.push(AccountTarget {
                        account: a.id.clone(),
                        name: a.name.clone(),
                        access,
                        regions: a.regions.clone().unwrap_or_else(|| desired.regions.clone()),
                        logs_flows: true,
                    }),
                    None => set.failures.push(no_role(&a.id)),
                }
            }
        }
        AccountSource::Organization(spec) => {
            match aws::organizations::list_accounts(&aws.organizations(), &spec.ous).await {
                Ok(org) => {
                    set.org_id = Some(org.org_id);
                    for (id, name) in org.accounts {
                        if (!spec.include.is_empty() && !spec.include.contains(&id))
                            || spec.exclude.contains(&id)
                        {
                            continue;
                        }
                        match access_for(&id, caller, partition, None, None, None, defaults) {
                            Some(access) => set.targets.push(AccountTarget {
                                account: id,
                                name,
                                access,
                                regions: desired.regions.clone(),
                                logs_flows: true,
                            }),
                            None => set.failures.push(no_role(&id)),
                        }
                    }
                }
                Err(error) => set.failures.push(TargetFailure {
                    account: None,
                    region: None,
                    error,
                }),
            }
        }
    }
    set.source_accounts = set.targets.iter().map(|t| t.account.clone()).collect();
    set.source_accounts
        .extend(set.failures.iter().filter_map(|f| f.account.clone()));
    // Accounts that own a central destination but are not logged themselves.
    for dest in desired.destinations.values() {
        let Destination::S3(s3) = dest else { continue };
        let Some(owner) = &s3.account else { continue };
        if set.targets.iter().any(|t| &t.account == owner)
            || set
                .failures
                .iter()
                .any(|f| f.account.as_ref() == Some(owner))
        {
            continue;
        }
        let listed = match &desired.accounts {
            AccountSource::List { accounts } => accounts.iter().find(|a| &a.id == owner),
            _ => None,
        };
        let access = access_for(
            owner,
            caller,
            partition,
            listed.and_then(|a| a.role_arn.as_deref()),
            listed.and_then(|a| a.role_name.as_deref()),
            listed.and_then(|a| a.external_id.as_deref()),
            defaults,
        );
        match access {
            Some(access) => set.targets.push(AccountTarget {
                account: owner.clone(),
                name: None,
                access,
                regions: desired.regions.clone(),
                logs_flows: false,
            }),
            None => set.failures.push(no_role(owner)),
        }
    }
    if let Some(keep) = &filters.accounts {
        set.unmatched_accounts = keep
            .iter()
            .filter(|a| {
                !set.targets.iter().any(|t| &t.account == *a)
                    && !set.failures.iter().any(|f| f.account.as_ref() == Some(*a))
            })
            .cloned()
            .collect();
        set.targets.retain(|t| keep.contains(&t.account));
        set.failures
            .retain(|f| f.account.as_ref().is_none_or(|a| keep.contains(a)));
    }
    set.targets.sort_by(|a, b| a.account.cmp(&b.account));
    set
}

/// The regions to cover in one account: as configured, `all` enabled ones, or the session's
/// default; narrowed by `--regions`.
pub async fn regions_for(
    target: &AccountTarget,
    session: &Aws,
    filters: &Filters,
) -> Result<Vec<String>, AwsError> {
    let regions = match &target.regions {
        Regions::List(list) => list.clone(),
        Regions::Default => match session.default_region() {
            Some(r) => vec![r],
            None => {
                return Err(AwsError::other(
                    "config",
                    "no region: the config has no `regions` and none is set (add `regions: [...]`, or pass --region / set AWS_REGION)",
                ));
            }
        },
        Regions::All => {
            let home = session
                .default_region()
                .unwrap_or_else(|| "us-east-1".to_string());
            aws::ec2::enabled_regions(&session.clients(&home).ec2).await?
        }
    };
    Ok(narrow_regions(&regions, filters))
}

/// `regions` narrowed by `--regions`, in their configured order.
pub fn narrow_regions(regions: &[String], filters: &Filters) -> Vec<String> {
    regions
        .iter()
        .filter(|r| filters.regions.as_ref().is_none_or(|only| only.contains(r)))
        .cloned()
        .collect()
}

/// The part of the desired state an account works on: an account that only hosts central
/// destinations gets those and no flow logs.
pub fn scope_for(desired: &DesiredState, target: &AccountTarget) -> DesiredState {
    if target.logs_flows {
        return desired.clone();
    }
    let mut scoped = desired.clone();
    scoped.flow_logs.clear();
    scoped.destinations.retain(
        |_, d| matches!(d, Destination::S3(s3) if s3.account.as_ref() == Some(&target.account)),
    );
    scoped
}
