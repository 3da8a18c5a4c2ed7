//! `flowkeeper plan`: config → targets → (per account, concurrently) session, discovery, plan →
//! rendered plans. The `prepare` step is shared with `apply`, which must execute exactly the
//! plans it shows.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::aws::{Aws, AwsError, AwsSettings};
use crate::cli::PlanArgs;
use crate::config;
use crate::discover::{self, DiscoveryFailure};
use crate::exit::ExitStatus;
use crate::model::{
    AccountId, AccountTarget, DesiredState, Destination, Inventory, Regions, ResourceKind,
    Selector, partition_of,
};
use crate::output::OutputFile;
use crate::plan::{self, Plan, PlanContext, PlanOptions};
use crate::plan_file::{self, SavedRun};
use crate::progress::{Progress, StderrProgress};
use crate::report;
use crate::settings::{FilterArgs, InfraFormat, Settings};
use crate::targets::{self, Filters, TargetFailure};

use super::print_data;

/// One account's plan and what went wrong while computing it.
pub struct AccountRun {
    pub target: AccountTarget,
    pub aws: Aws,
    /// The regions this account was planned in (after `--regions`).
    pub regions: Vec<String>,
    /// Every region the config covers in this account (account-wide resources come from all).
    pub all_regions: Vec<String>,
    /// The run-wide facts the plan was computed with (source accounts, organization).
    pub ctx: PlanContext,
    pub inventory: Inventory,
    pub plan: Plan,
    pub failures: Vec<DiscoveryFailure>,
}

/// What a plan is computed from: the config (and its text, which a saved plan keeps), the
/// `--accounts`/`--regions` filters and the planner options.
pub struct Request {
    pub config_path: PathBuf,
    pub config_text: String,
    pub desired: DesiredState,
    pub filters: Filters,
    pub opts: PlanOptions,
}

impl Request {
    /// From the command line: the config file and the filter flags.
    pub fn from_args(settings: &Settings, opts: PlanOptions) -> Result<Request, ExitStatus> {
        let (desired, config_text) = config::load_with_text(&settings.config).map_err(|d| {
            eprintln!("{d}");
            ExitStatus::Failure
        })?;
        let filters = settings.filters.clone();
        Ok(Request {
            config_path: settings.config.clone(),
            config_text,
            desired,
            filters,
            opts,
        })
    }

    /// From a saved plan: its config text, filters and options (not today's files or flags).
    pub fn from_saved(file: &Path, saved: &SavedRun) -> Result<Request, ExitStatus> {
        let label = PathBuf::from(format!(
            "{} (config saved in {})",
            saved.config_path,
            file.display()
        ));
        let desired = config::parse(&label, &saved.config_text).map_err(|d| {
            eprintln!("{d}");
            ExitStatus::Failure
        })?;
        let filters = FilterArgs {
            accounts: saved.accounts.clone(),
            regions: saved.regions.clone(),
        }
        .parse()
        .map_err(|e| {
            eprintln!("error: {}: {e}", file.display());
            ExitStatus::Failure
        })?;
        Ok(Request {
            config_path: PathBuf::from(&saved.config_path),
            config_text: saved.config_text.clone(),
            desired,
            filters,
            opts: saved.options,
        })
    }
}

/// Every account's plan, and the accounts that could not be planned.
pub struct Prepared {
    pub desired: DesiredState,
    pub runs: Vec<AccountRun>,
    pub failures: Vec<TargetFailure>,
    /// Problems of the run as a whole (ids no account has).
    pub problems: Vec<crate::plan::Problem>,
    pub limit: Semaphore,
    /// The organization's id when the config uses `organization:` (TargetSet.org_id).
    pub org_id: Option<String>,
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

/// `--regions` values that no account of the run covers (a filter must select something).
fn unmatched_regions(filters: &Filters, runs: &[AccountRun], failed: bool) -> Vec<String> {
    let Some(wanted) = &filters.regions else {
        return Vec::new();
    };
    if failed && runs.is_empty() {
        return Vec::new(); // nothing could be asked: the failures say why
    }
    wanted
        .iter()
        .filter(|r| !runs.iter().any(|run| run.regions.contains(r)))
        .cloned()
        .collect()
}

/// Connects, finds the accounts, then discovers and plans each.
pub async fn prepare(
    settings: &Settings,
    req: Request,
    progress: &dyn Progress,
) -> Result<Prepared, ExitStatus> {
    let Request {
        desired,
        filters,
        opts,
        ..
    } = req;
    let aws_settings = AwsSettings {
        fallback_region: desired.regions.first_listed(),
        ..settings.aws.clone()
    };
    let aws = super::connect(&aws_settings).await?;
    progress.step(&format!(
        "asking {} which account the credentials belong to",
        settings.aws.endpoint_url.as_deref().map_or_else(
            || "STS".to_string(),
            |e| format!("STS at {}", crate::output::safe(e))
        )
    ));
    let caller: AccountId = super::caller_account(&aws).await?;
    let partition = partition_of(&aws.default_region().unwrap_or_else(|| "us-east-1".into()));
    let set = targets::discover_targets(&desired, &aws, &caller, partition, &filters).await;
    if !set.unmatched_accounts.is_empty() {
        let names: Vec<String> = set
            .unmatched_accounts
            .iter()
            .map(|a| a.to_string())
            .collect();
        eprintln!(
            "error: --accounts {}: not an account of this run (the config's accounts, or the current credentials' account {caller} when it names none)\n   = hint: check the ids; nothing was planned",
            names.join(",")
        );
        return Err(ExitStatus::Failure);
    }
    let ctx = PlanContext {
        source_accounts: set.source_accounts.clone(),
        org_id: set.org_id.clone(),
    };
    let limit = Semaphore::new(settings.concurrency);
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
    let missing = unmatched_regions(&filters, &runs, !failures.is_empty());
    if !missing.is_empty() {
        let configured: BTreeSet<&str> = runs
            .iter()
            .filter_map(|r| match &r.target.regions {
                Regions::List(l) => Some(l),
                _ => None,
            })
            .flatten()
            .map(String::as_str)
            .collect();
        eprintln!(
            "error: --regions {}: no account of this run covers {} (the config's `regions`, or the enabled regions for `all`){}\n   = hint: check the names; nothing was planned",
            missing.join(","),
            if missing.len() == 1 { "it" } else { "them" },
            if configured.is_empty() {
                String::new()
            } else {
                format!(
                    "; configured: {}",
                    configured.into_iter().collect::<Vec<_>>().join(", ")
                )
            }
        );
        return Err(ExitStatus::Failure);
    }
    let problems = plan::missing_selected_ids(&runs.iter().map(|r| &r.plan).collect::<Vec<_>>());
    Ok(Prepared {
        desired,
        runs,
        failures,
        problems,
        limit,
        org_id: set.org_id.clone(),
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
    // Account-wide resources are computed from every configured region; --regions narrows
    // only what is discovered and planned per region.
    let all_regions = targets::regions_for(target, &session, &Filters::default())
        .await
        .map_err(fail)?;
    let regions = targets::narrow_regions(&all_regions, filters);
    let scoped = targets::scope_for(desired, target);
    let resolved = plan::resolve(&scoped, &target.account, ctx, &all_regions, &regions);
    let (inventory, failures) = discover::discover(
        &session,
        &target.account,
        &discovery_request(&scoped, &resolved),
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
    let mut plan = plan::plan(&scoped, ctx, &all_regions, &ok_regions, &inventory, opts);
    plan.unread = failures.len();
    Ok(AccountRun {
        target: target.clone(),
        aws: session,
        regions,
        all_regions,
        ctx: ctx.clone(),
        inventory,
        plan,
        failures,
    })
}

/// What the planner needs read for one account: the resources its entries select (by id where
/// every entry of a kind names ids), the log groups, buckets and roles its destinations use.
pub fn discovery_request(desired: &DesiredState, resolved: &plan::Resolved) -> discover::Request {
    let mut resources: BTreeMap<ResourceKind, Option<BTreeSet<String>>> = BTreeMap::new();
    for e in &desired.flow_logs {
        let slot = resources
            .entry(e.resource)
            .or_insert_with(|| Some(BTreeSet::new()));
        match (&e.select, slot.as_mut()) {
            (Selector::Ids(ids), Some(set)) => set.extend(ids.iter().cloned()),
            (Selector::Ids(_), None) => {}
            _ => *slot = None,
        }
    }
    let mut log_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, name) in resolved.log_groups.keys() {
        log_groups
            .entry(region.clone())
            .or_default()
            .push(name.clone());
    }
    discover::Request {
        resources: resources
            .into_iter()
            .map(|(k, v)| (k, v.map(|s| s.into_iter().collect())))
            .collect(),
        log_groups,
        buckets: resolved
            .buckets
            .values()
            .map(|b| discover::BucketQuery {
                name: b.name.clone(),
                region: b.region.clone(),
                owner: b.owner.clone(),
            })
            .collect(),
        roles: resolved
            .roles
            .keys()
            .map(|n| (n.clone(), plan::INLINE_POLICY_NAME.to_string()))
            .collect(),
    }
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
    settings: &Settings,
    req: Request,
) -> Result<Prepared, ExitStatus> {
    let progress = StderrProgress::new(settings.quiet);
    let prepared = prepare(settings, req, &progress).await;
    progress.finish();
    prepared
}

pub async fn run(settings: &Settings, format: InfraFormat, args: &PlanArgs) -> ExitStatus {
    let opts = PlanOptions {
        prune: args.prune,
        allow_logging_gap: args.allow_logging_gap,
    };
    let req = match Request::from_args(settings, opts) {
        Ok(r) => r,
        Err(status) => return status,
    };
    // Checked (and its temporary file opened) before any AWS call: never the config, never a
    // directory or device.
    let out_file = match &args.out {
        None => None,
        Some(out) => match OutputFile::create(out, [req.config_path.as_path()]) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: --out: {e}");
                if let Some(h) = e.hint() {
                    eprintln!("   = hint: {h}");
                }
                return ExitStatus::Failure;
            }
        },
    };
    let saved_header = (
        req.config_path.display().to_string(),
        req.config_text.clone(),
        settings.filter_args.accounts.clone(),
        settings.filter_args.regions.clone(),
    );
    let prepared = match prepare_showing_progress(settings, req).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    print_data(&match format {
        InfraFormat::Text => report::plan_text::render_all(&prepared.plans()),
        InfraFormat::Json => {
            report::plan_json::render_all(&prepared.plans(), &prepared.failures, &prepared.problems)
        }
    });
    print_errors(&prepared);
    print_call_counts(settings);
    if prepared.has_errors() {
        if let Some(out) = &args.out {
            drop(out_file);
            eprintln!(
                "error: no plan file written to {}: part of the run could not be planned",
                out.display()
            );
            remove_stale_plan(out);
        }
        return ExitStatus::Failure;
    }
    if let (Some(out), Some(mut file)) = (&args.out, out_file) {
        let (config_path, config_text, accounts, regions) = saved_header;
        let saved = saved_run(config_path, config_text, opts, accounts, regions, &prepared);
        let written = file
            .write_all(plan_file::render(&saved).as_bytes())
            .map_err(|error| crate::output::OutputError::Io {
                path: out.clone(),
                action: "write",
                error,
            })
            .and_then(|_| file.commit());
        if let Err(e) = written {
            eprintln!("error: cannot write the plan file: {e}");
            return ExitStatus::Failure;
        }
        eprintln!(
            "Saved the plan to {}; `flowkeeper apply {}` applies exactly this plan.",
            out.display(),
            out.display()
        );
    }
    if prepared.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::ActionNeeded
    }
}

/// The saved-plan view of a prepared run.
pub fn saved_run(
    config_path: String,
    config_text: String,
    options: PlanOptions,
    accounts: Option<Vec<String>>,
    regions: Option<Vec<String>>,
    prepared: &Prepared,
) -> SavedRun {
    SavedRun {
        config_path,
        config_text,
        options,
        accounts,
        regions,
        plans: prepared
            .runs
            .iter()
            .map(|r| {
                (
                    r.target.account.to_string(),
                    (
                        plan_file::fingerprints(&r.inventory),
                        plan_file::plan_value(&r.plan),
                    ),
                )
            })
            .collect(),
    }
}

/// A plan file left at `out` by an earlier run would be applied by a pipeline that goes on
/// after this failed plan (`plan --out p || true; apply p`): it is removed, but only when it
/// is a flowkeeper plan file (anything else there is not ours to delete).
fn remove_stale_plan(out: &Path) {
    let is_plan = std::fs::read_to_string(out).is_ok_and(|t| plan_file::parse(&t).is_ok());
    if is_plan && std::fs::remove_file(out).is_ok() {
        eprintln!(
            "removed the earlier plan file {}: it no longer matches a successful plan",
            out.display()
        );
    }
}

/// With `-v`: how many AWS API calls the run made, by operation.
pub fn print_call_counts(settings: &Settings) {
    if settings.verbose == 0 {
        return;
    }
    let counts = crate::aws::metrics::snapshot();
    let total: u64 = counts.values().sum();
    eprintln!("AWS API calls: {total}");
    for (op, n) in counts {
        eprintln!("  {op}: {n}");
    }
}
