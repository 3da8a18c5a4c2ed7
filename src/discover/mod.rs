//! Reads the actual state for one account: per region concurrently (resources, flow logs, log
//! groups), then the account-wide buckets and roles. A region that fails is a value in the
//! result, never an abort of the others.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::aws::{self, Aws, AwsError};
use crate::model::{AccountId, DesiredState, Inventory, RegionInventory, ResourceKind, Selector};
use crate::plan::{INLINE_POLICY_NAME, Resolved};
use crate::progress::Progress;

/// A part of discovery that failed.
#[derive(Debug, Clone)]
pub struct DiscoveryFailure {
    /// The region, or None for account-wide lookups (buckets, roles).
    pub region: Option<String>,
    pub subject: String,
    pub error: AwsError,
}

/// Which resources to list for each kind: None = all of them, Some = only these ids.
pub fn resource_queries(desired: &DesiredState) -> BTreeMap<ResourceKind, Option<Vec<String>>> {
    let mut out: BTreeMap<ResourceKind, Option<BTreeSet<String>>> = BTreeMap::new();
    for e in &desired.flow_logs {
        let slot = out
            .entry(e.resource)
            .or_insert_with(|| Some(BTreeSet::new()));
        match (&e.select, slot.as_mut()) {
            (Selector::Ids(ids), Some(set)) => set.extend(ids.iter().cloned()),
            (Selector::Ids(_), None) => {}
            _ => *slot = None,
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, v.map(|s| s.into_iter().collect())))
        .collect()
}

async fn discover_region(
    aws: &Aws,
    region: &str,
    queries: &BTreeMap<ResourceKind, Option<Vec<String>>>,
    log_groups: &[String],
) -> Result<RegionInventory, AwsError> {
    let c = aws.clients(region);
    let resources = async {
        let mut all = Vec::new();
        for (kind, ids) in queries {
            all.extend(aws::ec2::describe_resources(&c.ec2, *kind, ids.as_deref()).await?);
        }
        Ok::<_, AwsError>(all)
    };
    let groups = async {
        let mut found = BTreeMap::new();
        for name in log_groups {
            if let Some(g) = aws::logs::describe_log_group(&c.logs, name).await? {
                found.insert(name.clone(), g);
            }
        }
        Ok::<_, AwsError>(found)
    };
    let (resources, flow_logs, log_groups) =
        futures::try_join!(resources, aws::ec2::describe_flow_logs(&c.ec2), groups)?;
    Ok(RegionInventory {
        resources,
        flow_logs,
        log_groups,
    })
}

/// Discovers everything the plan needs for `account` in `regions`.
pub async fn discover(
    aws: &Aws,
    account: &AccountId,
    desired: &DesiredState,
    resolved: &Resolved,
    regions: &[String],
    limit: &Semaphore,
    progress: &dyn Progress,
) -> (Inventory, Vec<DiscoveryFailure>) {
    let queries = resource_queries(desired);
    let mut failures = Vec::new();
    let region_results = join_all(regions.iter().map(|region| {
        let groups: Vec<String> = resolved
            .log_groups
            .keys()
            .filter(|(r, _)| r == region)
            .map(|(_, n)| n.clone())
            .collect();
        let queries = &queries;
        async move {
            let _permit = limit.acquire().await.expect("semaphore is never closed");
            let label = format!("{account}/{region}");
            progress.target_started(&label);
            progress.step(&format!(
                "[{label}] reading VPCs, subnets, network interfaces and flow logs"
            ));
            let result = discover_region(aws, region, queries, &groups).await;
            progress.target_finished(&label);
            (region.clone(), result)
        }
    }))
    .await;
    let mut inv = Inventory {
        account: account.clone(),
        regions: BTreeMap::new(),
        buckets: BTreeMap::new(),
        roles: BTreeMap::new(),
    };
    for (region, r) in region_results {
        match r {
            Ok(ri) => {
                inv.regions.insert(region, ri);
            }
            Err(error) => failures.push(DiscoveryFailure {
                subject: format!("cannot read region {region}"),
                region: Some(region),
                error,
            }),
        }
    }
    let buckets = join_all(resolved.buckets.values().map(|b| async move {
        let c = aws.clients(&b.region);
        (
            b.name.clone(),
            aws::s3::lookup_bucket(&c.s3, &b.name, &b.region, b.owner.as_str()).await,
        )
    }))
    .await;
    for (name, r) in buckets {
        match r {
            Ok(l) => {
                inv.buckets.insert(name, l);
            }
            Err(error) => failures.push(DiscoveryFailure {
                region: None,
                subject: format!("bucket {name}"),
                error,
            }),
        }
    }
    let iam = aws.iam();
    for name in resolved.roles.keys() {
        match aws::iam::get_role(&iam, name, INLINE_POLICY_NAME).await {
            Ok(state) => {
                inv.roles.insert(name.clone(), state);
            }
            Err(error) => failures.push(DiscoveryFailure {
                region: None,
                subject: format!("role {name}"),
                error,
            }),
        }
    }
    (inv, failures)
}
