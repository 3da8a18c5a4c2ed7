//! Reads the actual state for one account: per region concurrently (resources, flow logs, log
//! groups), then the account-wide buckets and roles. A region that fails is a value in the
//! result, never an abort of the others. It reads what a [`Request`] names and knows nothing of
//! the planner or the config: `plan` builds its request from the resolved config, audit asks
//! for whole regions.

use std::collections::BTreeMap;

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::aws::{self, Aws, AwsError};
use crate::model::{AccountId, Inventory, RegionInventory, ResourceKind};
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
pub type ResourceQueries = BTreeMap<ResourceKind, Option<Vec<String>>>;

/// A bucket to look up: its name, the region it lives in and the account expected to own it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketQuery {
    pub name: String,
    pub region: String,
    pub owner: AccountId,
}

/// What to read in one account. Discovery does not know why: the planner asks for what its
/// config names, audit for whole regions.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub resources: ResourceQueries,
    /// Log groups to describe, by region.
    pub log_groups: BTreeMap<String, Vec<String>>,
    pub buckets: Vec<BucketQuery>,
    /// IAM roles to read, with the name of the inline policy to read on each.
    pub roles: Vec<(String, String)>,
}

impl Request {
    /// Every VPC, subnet and network interface of each region, and every flow log (which are
    /// always read whole): what audit reads, with no config.
    pub fn whole_regions() -> Self {
        Request {
            resources: ResourceKind::ALL.into_iter().map(|k| (k, None)).collect(),
            ..Request::default()
        }
    }
}

async fn discover_region(
    aws: &Aws,
    account: &str,
    region: &str,
    queries: &ResourceQueries,
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
    let (resources, mut flow_logs, log_groups) =
        futures::try_join!(resources, aws::ec2::describe_flow_logs(&c.ec2), groups)?;
    for fl in &mut flow_logs {
        fl.settings.destination.localize(account, region);
    }
    Ok(RegionInventory {
        resources,
        flow_logs,
        log_groups,
    })
}

/// Reads what `request` names for `account` in `regions`.
pub async fn discover(
    aws: &Aws,
    account: &AccountId,
    request: &Request,
    regions: &[String],
    limit: &Semaphore,
    progress: &dyn Progress,
) -> (Inventory, Vec<DiscoveryFailure>) {
    let queries = &request.resources;
    let mut failures = Vec::new();
    let region_results = join_all(regions.iter().map(|region| {
        let groups: Vec<String> = request.log_groups.get(region).cloned().unwrap_or_default();
        async move {
            let _permit = limit.acquire().await.expect("semaphore is never closed");
            let label = format!("{account}/{region}");
            progress.target_started(&label);
            progress.step(&format!(
                "[{label}] reading VPCs, subnets, network interfaces and flow logs"
            ));
            let result = discover_region(aws, account.as_str(), region, queries, &groups).await;
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
    let buckets = join_all(request.buckets.iter().map(|b| async move {
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
    for (name, inline_policy) in &request.roles {
        match aws::iam::get_role(&iam, name, inline_policy).await {
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
