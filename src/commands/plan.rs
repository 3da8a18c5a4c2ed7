//! `flowkeeper plan`: config → discovery → plan → rendered plan. The `prepare` step is shared
//! with `apply`, which must execute exactly the plan it shows.

use crate::aws::{Aws, AwsSettings};
use crate::cli::{GlobalArgs, OutputFormat, PlanArgs};
use crate::config;
use crate::discover::{self, DiscoveryFailure};
use crate::exit::ExitStatus;
use crate::model::AccountId;
use crate::plan::{self, Plan, PlanOptions};
use crate::progress::{Progress, StderrProgress};
use crate::report;

use super::print_data;

/// A computed plan and what went wrong while computing it.
pub struct Prepared {
    pub aws: Aws,
    pub plan: Plan,
    pub failures: Vec<DiscoveryFailure>,
}

impl Prepared {
    /// True when part of the desired state could not be planned.
    pub fn has_errors(&self) -> bool {
        !self.failures.is_empty() || !self.plan.problems.is_empty()
    }
}

/// Loads the config, connects, discovers and plans. Errors are printed here.
pub async fn prepare(
    global: &GlobalArgs,
    opts: PlanOptions,
    progress: &dyn Progress,
) -> Result<Prepared, ExitStatus> {
    let desired = config::load(&global.config).map_err(|d| {
        eprintln!("{d}");
        ExitStatus::Failure
    })?;
    let settings = AwsSettings {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        fallback_region: desired.regions.first().cloned(),
    };
    let aws = Aws::connect(&settings).await;
    let regions = if desired.regions.is_empty() {
        match aws.default_region() {
            Some(r) => vec![r],
            None => {
                eprintln!(
                    "error: no region: the config has no `regions` and none is set\n   = hint: add `regions: [...]` to {}, or pass --region / set AWS_REGION",
                    global.config.display()
                );
                return Err(ExitStatus::Failure);
            }
        }
    } else {
        desired.regions.clone()
    };
    let account: AccountId = aws.caller_account().await.map_err(|e| {
        eprintln!("error: cannot identify the account of the current credentials: {e}");
        if let Some(h) = e.hint() {
            eprintln!("   = hint: {h}");
        }
        ExitStatus::Failure
    })?;
    progress.step(&format!(
        "account {account}, regions {}",
        regions.join(", ")
    ));
    let resolved = plan::resolve(&desired, &account, &regions);
    let (inventory, failures) =
        discover::discover(&aws, &account, &desired, &resolved, &regions, progress).await;
    let ok_regions: Vec<String> = regions
        .iter()
        .filter(|r| inventory.regions.contains_key(*r))
        .cloned()
        .collect();
    let plan = plan::plan(&desired, &ok_regions, &inventory, opts);
    Ok(Prepared {
        aws,
        plan,
        failures,
    })
}

/// Prints discovery failures and plan problems on stderr.
pub fn print_errors(p: &Prepared) {
    for f in &p.failures {
        let at = f.region.as_deref().unwrap_or("account-wide");
        eprintln!("error: [{at}] {}: {}", f.subject, f.error);
        if let Some(h) = f.error.hint() {
            eprintln!("   = hint: {h}");
        }
    }
    for pr in &p.plan.problems {
        let at = pr.region.as_deref().unwrap_or("account-wide");
        eprintln!("error: [{at}] {}: {}", pr.subject, pr.message);
        if let Some(h) = &pr.hint {
            eprintln!("   = hint: {h}");
        }
    }
}

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> ExitStatus {
    let progress = StderrProgress {
        quiet: global.quiet,
    };
    let prepared = match prepare(global, PlanOptions { prune: args.prune }, &progress).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    print_data(&match global.format {
        OutputFormat::Text => report::plan_text::render(&prepared.plan),
        OutputFormat::Json => report::plan_json::render(&prepared.plan),
    });
    print_errors(&prepared);
    if prepared.has_errors() {
        ExitStatus::Failure
    } else if prepared.plan.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::ActionNeeded
    }
}
