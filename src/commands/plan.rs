//! `flowkeeper plan`: config → targets → (per account, concurrently) session, discovery, plan →
//! rendered plans. The `prepare` step is shared with `apply`, which must execute exactly the
//! plans it shows.

use std::collections::BTreeSet;

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::aws::{Aws, AwsError};
use crate::cli::{GlobalArgs, OutputFormat, PlanArgs};
use crate::config;
use crate::discover::{self, DiscoveryFailure};
use crate::exit::ExitStatus;
use crate::model::{AccountId, AccountTarget, DesiredState, Destination, Regions, partition_of};
use crate::plan::{self, Plan, PlanContext, PlanOptions};
use crate::progress::{Progress, StderrProgress};
use crate::report;
use crate::targets::{self, Filters, TargetFailure};

use super::print_data;

/// One account's plan and what went wrong while computing it.
pub struct AccountRun {
    pub target: AccountTarget,
    pub aws: Aws,
    pub plan: Plan,
    pub failures: Vec<DiscoveryFailure>,
}

/// Every account's plan, and the accounts that could not be planned.
pub struct Prepared {
    pub desired: DesiredState,
    pub runs: Vec<AccountRun>,
    pub failures: Vec<TargetFailure>,
    /// Problems of the run as a whole (ids no account has).
    pub problems: Vec<crate::plan::Problem>,
    pub limit: Semaphore,
}

impl Prepared {
    /// True when part of the desired state could not be planned.
    pub fn has_errors(&self) -> bool {
        !self.failures.is_empty()
            || !self.problems.is_empty()
            || self
                .runs
                .iter()
                .any(|r| !r.failures.is_empty() || !r.plan.problems.is_empty())
    }
    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(|r| r.plan.is_empty())
    }
    pub fn plans(&self) -> Vec<&Plan> {
        self.runs.iter().map(|r| &r.plan).collect()
    }
}

fn filters(global: &GlobalArgs) -> Result<Filters, String> {
    let accounts = match &global.accounts {
        None => None,
        Some(ids) => Some(
            ids.iter()
                .map(|s| AccountId::parse(s.trim()))
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
    };
    if let Some(rs) = &global.regions
        && let Some(bad) = rs.iter().find(|r| crate::model::regions::known(r).is_err())
    {
        return Err(format!("`{bad}` is not an AWS region"));
    }
    Ok(Filters {
        accounts,
        regions: global.regions.clone(),
    })
}

/// Loads the config, connects, finds the accounts, then discovers and plans each.
pub async fn prepare(
    global: &GlobalArgs,
    opts: PlanOptions,
    progress: &dyn Progress,
) -> Result<Prepared, ExitStatus> {
    let desired = config::load(&global.config).map_err(|d| {
        eprintln!("{d}");
        ExitStatus::Failure
    })?;
    let filters = filters(global).map_err(|e| {
        eprintln!("error: {e}\n   = hint: --accounts takes 12-digit ids, --regions region names, both comma-separated");
        ExitStatus::Failure
    })?;
    let fallback_region = match &desired.regions {
        Regions::List(l) => l.first().cloned(),
        _ => None,
    };
    let aws = super::connect(global, fallback_region).await?;
    let caller: AccountId = aws.caller_account().await.map_err(|e| {
        eprintln!("error: cannot identify the account of the current credentials: {e}");
        if let Some(h) = e.hint() {
            eprintln!("   = hint: {h}");
        }
        ExitStatus::Failure
    })?;
    let partition = partition_of(&aws.default_region().unwrap_or_else(|| "us-east-1".into()));
    let set = targets::discover_targets(&desired, &aws, &caller, partition, &filters).await;
    let ctx = PlanContext {
        source_accounts: set.source_accounts.clone(),
        org_id: set.org_id.clone(),
    };
    let limit = Semaphore::new(global.concurrency as usize);
    progress.step(&format!("{} account(s) to plan", set.targets.len()));
    let results = join_all(
        set.targets
            .iter()
            .map(|t| plan_account(t, &aws, &desired, &ctx, opts, &filters, &limit, progress)),
    )
    .await;
    let mut failures = set.failures;
    let mut runs = Vec::new();
    for r in results {
        match r {
            Ok(run) => runs.push(run),
            Err(f) => failures.push(f),
        }
    }
    let problems = plan::missing_selected_ids(&runs.iter().map(|r| &r.plan).collect::<Vec<_>>());
    Ok(Prepared {
        desired,
        runs,
        failures,
        problems,
        limit,
    })
}

#[allow(clippy::too_many_arguments)]
async fn plan_account(
    target: &AccountTarget,
    aws: &Aws,
    desired: &DesiredState,
    ctx: &PlanContext,
    opts: PlanOptions,
    filters: &Filters,
    limit: &Semaphore,
    progress: &dyn Progress,
) -> Result<AccountRun, TargetFailure> {
    let fail = |error: AwsError| TargetFailure {
        account: Some(target.account.clone()),
        region: None,
        error,
    };
    let session = {
        let _permit = limit.acquire().await.expect("semaphore is never closed");
        aws.for_account(&target.account, &target.access)
            .await
            .map_err(fail)?
    };
    let regions = targets::regions_for(target, &session, filters)
        .await
        .map_err(fail)?;
    let scoped = targets::scope_for(desired, target);
    let resolved = plan::resolve(&scoped, &target.account, ctx, &regions);
    let (inventory, failures) = discover::discover(
        &session,
        &target.account,
        &scoped,
        &resolved,
        &regions,
        limit,
        progress,
    )
    .await;
    let ok_regions: Vec<String> = regions
        .iter()
        .filter(|r| inventory.regions.contains_key(*r))
        .cloned()
        .collect();
    let plan = plan::plan(&scoped, ctx, &ok_regions, &inventory, opts);
    Ok(AccountRun {
        target: target.clone(),
        aws: session,
        plan,
        failures,
    })
}

/// Prints failed accounts, discovery failures and plan problems on stderr.
pub fn print_errors(p: &Prepared) {
    for f in &p.failures {
        let at = match (&f.account, &f.region) {
            (Some(a), Some(r)) => format!("{a}/{r}"),
            (Some(a), None) => a.to_string(),
            (None, _) => "run".to_string(),
        };
        eprintln!("error: [{at}] {}", f.error);
        if let Some(h) = f.error.hint() {
            eprintln!("   = hint: {h}");
        }
    }
    for pr in &p.problems {
        eprintln!("error: {}: {}", pr.subject, pr.message);
        if let Some(h) = &pr.hint {
            eprintln!("   = hint: {h}");
        }
    }
    for run in &p.runs {
        let acct = &run.target.account;
        for f in &run.failures {
            let at = f.region.as_deref().unwrap_or("account-wide");
            eprintln!("error: [{acct}/{at}] {}: {}", f.subject, f.error);
            if let Some(h) = f.error.hint() {
                eprintln!("   = hint: {h}");
            }
        }
        for pr in &run.plan.problems {
            let at = pr.region.as_deref().unwrap_or("account-wide");
            eprintln!("error: [{acct}/{at}] {}: {}", pr.subject, pr.message);
            if let Some(h) = &pr.hint {
                eprintln!("   = hint: {h}");
            }
        }
    }
    if !p.failures.is_empty() {
        let done: Vec<String> = p
            .runs
            .iter()
            .map(|r| r.target.account.to_string())
            .collect();
        eprintln!(
            "{} account(s) could not be worked on; planned: {}",
            p.failures.len(),
            if done.is_empty() {
                "none".to_string()
            } else {
                done.join(", ")
            }
        );
    }
}

/// True when `account` owns a central destination (its run goes first in apply).
pub fn hosts_central_destination(desired: &DesiredState, account: &AccountId) -> bool {
    desired
        .destinations
        .values()
        .any(|d| matches!(d, Destination::S3(s3) if s3.account.as_ref() == Some(account)))
}

/// [`prepare`] with progress on stderr (a bar on terminals), cleared before the result.
pub async fn prepare_showing_progress(
    global: &GlobalArgs,
    opts: PlanOptions,
) -> Result<Prepared, ExitStatus> {
    let progress = StderrProgress::new(global.quiet);
    let prepared = prepare(global, opts, &progress).await;
    progress.finish();
    prepared
}

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> ExitStatus {
    let prepared = prepare_showing_progress(global, PlanOptions { prune: args.prune }).await;
    let prepared = match prepared {
        Ok(p) => p,
        Err(status) => return status,
    };
    print_data(&match global.format {
        OutputFormat::Text | OutputFormat::Ndjson | OutputFormat::Html => {
            report::plan_text::render_all(&prepared.plans())
        }
        OutputFormat::Json => {
            report::plan_json::render_all(&prepared.plans(), &prepared.failures, &prepared.problems)
        }
    });
    print_errors(&prepared);
    print_call_counts(global);
    if prepared.has_errors() {
        ExitStatus::Failure
    } else if prepared.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::ActionNeeded
    }
}

/// With `-v`: how many AWS API calls the run made, by operation.
pub fn print_call_counts(global: &GlobalArgs) {
    if global.verbose == 0 {
        return;
    }
    let counts = crate::aws::metrics::snapshot();
    let total: u64 = counts.values().sum();
    eprintln!("AWS API calls: {total}");
    for (op, n) in counts {
        eprintln!("  {op}: {n}");
    }
}
