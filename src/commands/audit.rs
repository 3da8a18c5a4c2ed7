//! `flowkeeper audit`: targets → whole-region discovery → coverage verdicts → one report.
//! With a config its accounts and regions (and, without `--baseline`, its entries as the
//! requirement); without one the current credentials' account in `--regions` or every enabled
//! region, against a baseline. Accounts and regions are read concurrently; a target that fails
//! is reported in `errors` and the rest is audited.

use std::path::{Path, PathBuf};

use futures::future::join_all;
use tokio::sync::Semaphore;

use crate::audit::baseline::{self, Baseline, LoadError};
use crate::audit::report::{AuditError, AuditReport, ResourceVerdict, SCHEMA_VERSION};
use crate::audit::selection::Selection;
use crate::audit::{self, Held, Scope};
use crate::aws::{Aws, AwsError, AwsSettings};
use crate::cli::{AuditArgs, OutputFormat};
use crate::config;
use crate::coverage::Requirement;
use crate::discover;
use crate::exit::ExitStatus;
use crate::model::{Access, AccountId, AccountTarget, DesiredState, Regions, partition_of};
use crate::output::{self, OutputFile};
use crate::plan::{self, PlanContext, PlanOptions};
use crate::progress::{Progress, StderrProgress};
use crate::report;
use crate::settings::Settings;
use crate::targets::{self, Filters, TargetFailure, TargetSet};

use super::print_data;

/// What the audit holds resources to, and where that came from.
struct Inputs {
    /// The config file and what it declares, when one is used.
    config: Option<(PathBuf, DesiredState)>,
    /// The baseline (`--baseline`, or the default without a config).
    baseline: Option<Baseline>,
    /// The baseline's file, when it is a file (an input `-o` must not overwrite).
    baseline_file: Option<PathBuf>,
    /// `--include-unused`.
    include_unused: bool,
}

fn usage(message: &str) -> ExitStatus {
    eprintln!("error: {message}");
    ExitStatus::Failure
}

/// An `--approved-destination` value: an S3 ARN, a log-group name or ARN, a Firehose ARN
/// (`*` wildcards). Empty, `s3://...` and a bare name that could be a bucket are refused, with
/// the form they need.
fn check_approved_destination(d: &str) -> Result<(), String> {
    let shown = output::safe(d);
    if d.trim().is_empty() {
        return Err("--approved-destination '': an empty destination approves nothing\n   = hint: give an S3 ARN (arn:aws:s3:::bucket[/prefix]), a log-group name or ARN, or a Firehose ARN".into());
    }
    if let Some(rest) = d.strip_prefix("s3://") {
        let rest = output::safe(rest.trim_end_matches('/'));
        return Err(format!(
            "--approved-destination {shown}: flow logs name S3 destinations by ARN\n   = hint: write arn:aws:s3:::{rest}"
        ));
    }
    if !d.contains(':') && !d.contains('/') {
        return Err(format!(
            "--approved-destination {shown}: a bucket or a log group? Say which\n   = hint: a bucket is arn:aws:s3:::{shown}[/prefix]; a log group is arn:aws:logs:*:*:log-group:{shown} (a name starting with / may be given bare)"
        ));
    }
    Ok(())
}

/// A config is used when `-c` was given, or when the default `flowkeeper.yaml` exists.
fn resolve_inputs(settings: &Settings, args: &AuditArgs) -> Result<Inputs, ExitStatus> {
    let use_config = settings.config_given || settings.config.exists();
    let config = if use_config {
        let desired = config::load(&settings.config).map_err(|d| {
            eprintln!("{d}");
            ExitStatus::Failure
        })?;
        Some((settings.config.clone(), desired))
    } else {
        None
    };
    let name = match (&args.baseline, &config) {
        (Some(b), _) => Some(b.as_str()),
        (None, None) => Some(baseline::DEFAULT),
        (None, Some(_)) => None,
    };
    let mut baseline_file = None;
    let baseline = match name {
        None => None,
        Some(n) => match baseline::load(n) {
            Ok(b) => {
                if !baseline::SHIPPED.iter().any(|(s, _)| *s == n) {
                    baseline_file = Some(PathBuf::from(n));
                }
                Some(b)
            }
            Err(LoadError::Unknown { given, hint }) => {
                eprintln!(
                    "error: --baseline {}: neither a shipped baseline nor a file\n   = hint: {hint}",
                    output::safe(&given)
                );
                return Err(ExitStatus::Failure);
            }
            Err(LoadError::Invalid(d)) => {
                eprintln!("{d}");
                return Err(ExitStatus::Failure);
            }
        },
    };
    let baseline = baseline.map(|mut b| {
        b.approve(&args.approved_destinations);
        b
    });
    for d in &args.approved_destinations {
        if let Err(e) = check_approved_destination(d) {
            return Err(usage(&e));
        }
    }
    if args.fix && args.baseline.is_some() {
        return Err(usage(
            "--fix with --baseline: the plan comes from the config's entries, not from the baseline, so it cannot close the baseline's gaps\n   = hint: run `flowkeeper audit --fix` (the config's entries), or change the config until `audit --baseline` is clean",
        ));
    }
    if baseline.is_none() && !args.approved_destinations.is_empty() {
        return Err(usage(
            "--approved-destination narrows a baseline; the config's entries already name their destinations\n   = hint: add --baseline NAME to audit the config's accounts against a baseline",
        ));
    }
    if args.fix && config.is_none() {
        return Err(usage(&format!(
            "--fix needs a config: the plan that closes the gaps is built from its entries ({} does not exist)\n   = hint: `flowkeeper init` writes one, or pass -c/--config PATH",
            settings.config.display()
        )));
    }
    Ok(Inputs {
        config,
        baseline,
        baseline_file,
        include_unused: args.include_unused,
    })
}

/// One account's verdicts, the (account, region) pairs audited, and what failed.
struct AccountAudit {
    verdicts: Vec<ResourceVerdict>,
    /// What the config's entries select here (config mode).
    selection: Option<Selection>,
    audited: Vec<(String, String)>,
    errors: Vec<AuditError>,
}

fn error_of(account: Option<&AccountId>, region: Option<&str>, e: &AwsError) -> AuditError {
    AuditError {
        account: account.map(|a| a.to_string()),
        region: region.map(str::to_string),
        message: e.to_string(),
        hint: match e.kind {
            // audit needs its own read-only policy, not the operator's.
            crate::aws::ErrorKind::AccessDenied => Some(
                "the credentials lack this permission: see policies/flowkeeper-audit.json (what audit needs)".into(),
            ),
            _ => e.hint().map(str::to_string),
        },
    }
}

/// The requirements of a region: the baseline's, or each config entry × destination resolved
/// for that region.
fn scope_for<'a>(
    inputs: &'a Inputs,
    desired: Option<&'a DesiredState>,
    resolved: Option<&plan::Resolved>,
    region: &str,
) -> Scope<'a> {
    if let Some(b) = &inputs.baseline {
        return Scope::Baseline {
            kinds: &b.kinds,
            held: audit::baseline_held(b),
        };
    }
    let mut entries = Vec::new();
    if let (Some(desired), Some(resolved)) = (desired, resolved) {
        for e in &desired.flow_logs {
            for d in &e.destinations {
                let Some(dest) = resolved
                    .flow_log_destinations
                    .get(&(d.clone(), region.to_string()))
                else {
                    continue;
                };
                entries.push((
                    e,
                    Held {
                        label: Some(format!("entry `{}` → `{d}`", e.name)),
                        name: e.name.clone(),
                        requirement: Requirement::for_entry(e, dest),
                        controls: Default::default(),
                    },
                ));
            }
        }
    }
    Scope::Entries(entries)
}

async fn audit_account(
    target: &AccountTarget,
    aws: &Aws,
    inputs: &Inputs,
    ctx: &PlanContext,
    filters: &Filters,
    limit: &Semaphore,
    progress: &dyn Progress,
) -> AccountAudit {
    let account = &target.account;
    let mut out = AccountAudit {
        verdicts: Vec::new(),
        selection: None,
        audited: Vec::new(),
        errors: Vec::new(),
    };
    let session = {
        let _permit = limit.acquire().await.expect("semaphore is never closed");
        match aws.for_account(account, &target.access).await {
            Ok(s) => s,
            Err(e) => {
                out.errors.push(error_of(Some(account), None, &e));
                return out;
            }
        }
    };
    let all_regions = match targets::regions_for(target, &session, &Filters::default()).await {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(error_of(Some(account), None, &e));
            return out;
        }
    };
    let regions = targets::narrow_regions(&all_regions, filters);
    let desired = inputs
        .config
        .as_ref()
        .map(|(_, d)| targets::scope_for(d, target));
    let resolved = desired
        .as_ref()
        .map(|d| plan::resolve(d, account, ctx, &all_regions, &regions));
    let (inventory, failures) = discover::discover(
        &session,
        account,
        &discover::Request::whole_regions(),
        &regions,
        limit,
        progress,
    )
    .await;
    if inputs.baseline.is_none()
        && let Some(d) = &desired
    {
        out.selection = Some(Selection::of(d, &inventory));
    }
    for f in &failures {
        out.errors
            .push(error_of(Some(account), f.region.as_deref(), &f.error));
    }
    for (region, ri) in &inventory.regions {
        let scope = scope_for(inputs, desired.as_ref(), resolved.as_ref(), region);
        out.verdicts.extend(audit::evaluate_region_with(
            account.as_str(),
            region,
            ri,
            &scope,
            audit::Options {
                include_unused: inputs.include_unused,
            },
        ));
        out.audited.push((account.to_string(), region.clone()));
    }
    out
}

/// The accounts of the run: the config's, or the caller's alone.
async fn target_set(
    inputs: &Inputs,
    aws: &Aws,
    caller: &AccountId,
    filters: &Filters,
) -> Result<TargetSet, ExitStatus> {
    let set = match &inputs.config {
        Some((_, desired)) => {
            let partition =
                partition_of(&aws.default_region().unwrap_or_else(|| "us-east-1".into()));
            let mut set = targets::discover_targets(desired, aws, caller, partition, filters).await;
            // An account that only hosts a central destination has no flow logs of its own
            // to audit.
            set.targets.retain(|t| t.logs_flows);
            set
        }
        None => {
            let regions = match &filters.regions {
                Some(r) => Regions::List(r.clone()),
                None => Regions::All,
            };
            let mut set = TargetSet::default();
            match &filters.accounts {
                Some(keep) if !keep.contains(caller) => {
                    set.unmatched_accounts = keep.iter().cloned().collect()
                }
                _ => set.targets.push(AccountTarget {
                    account: caller.clone(),
                    name: None,
                    access: Access::Caller,
                    regions,
                    logs_flows: true,
                }),
            }
            set
        }
    };
    if !set.unmatched_accounts.is_empty() {
        let names: Vec<String> = set
            .unmatched_accounts
            .iter()
            .map(|a| a.to_string())
            .collect();
        eprintln!(
            "error: --accounts {}: not an account of this run (the config's accounts, or the current credentials' account {caller})\n   = hint: check the ids; nothing was audited",
            names.join(",")
        );
        return Err(ExitStatus::Failure);
    }
    Ok(set)
}

fn target_error(f: &TargetFailure) -> AuditError {
    error_of(f.account.as_ref(), f.region.as_deref(), &f.error)
}

/// Connects, finds the accounts, audits each concurrently.
async fn build_report(
    settings: &Settings,
    inputs: &Inputs,
    progress: &dyn Progress,
) -> Result<AuditReport, ExitStatus> {
    let aws = super::connect(&AwsSettings {
        fallback_region: inputs
            .config
            .as_ref()
            .and_then(|(_, d)| d.regions.first_listed()),
        ..settings.aws.clone()
    })
    .await?;
    progress.step("asking STS which account the credentials belong to");
    let caller: AccountId = super::caller_account(&aws).await?;
    let set = target_set(inputs, &aws, &caller, &settings.filters).await?;
    let ctx = PlanContext {
        source_accounts: set.source_accounts.clone(),
        org_id: set.org_id.clone(),
    };
    let limit = Semaphore::new(settings.concurrency);
    progress.step(&format!("{} account(s) to audit", set.targets.len()));
    let results = join_all(
        set.targets
            .iter()
            .map(|t| audit_account(t, &aws, inputs, &ctx, &settings.filters, &limit, progress)),
    )
    .await;
    let mut resources = Vec::new();
    let mut audited = Vec::new();
    let mut errors: Vec<AuditError> = set.failures.iter().map(target_error).collect();
    let mut selection: Option<Selection> = None;
    for r in results {
        resources.extend(r.verdicts);
        audited.extend(r.audited);
        errors.extend(r.errors);
        if let Some(s) = r.selection {
            selection.get_or_insert_with(Selection::default).merge(s);
        }
    }
    if let Some(wanted) = &settings.filters.regions {
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|w| audited.iter().all(|(_, r)| r != *w))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() && errors.is_empty() {
            eprintln!(
                "error: --regions {}: no account of this run covers it (the config's `regions`, or the enabled regions)\n   = hint: check the names; nothing was audited",
                missing.join(",")
            );
            return Err(ExitStatus::Failure);
        }
    }
    audit::evaluate::sort(&mut resources);
    // Only a run that read every target can say an id exists nowhere (as plan does).
    let selection = selection.filter(|_| errors.is_empty());
    let warnings = selection
        .as_ref()
        .map(Selection::warnings)
        .unwrap_or_default();
    errors.extend(selection.iter().flat_map(Selection::errors));
    Ok(AuditReport {
        schema_version: SCHEMA_VERSION,
        generated_at: jiff::Timestamp::now().to_string(),
        mode: if inputs.baseline.is_some() {
            "baseline"
        } else {
            "config"
        }
        .to_string(),
        baseline: inputs.baseline.as_ref().map(|b| b.name.clone()),
        config: inputs.config.as_ref().map(|(p, _)| p.display().to_string()),
        summary: audit::evaluate::summarize(&resources, &audited),
        resources,
        errors,
        warnings,
    })
}

/// The plan as text and as `plan --format json`'s document, and the gaps it leaves.
type FixOutput = (
    String,
    serde_json::Value,
    Vec<String>,
    Vec<audit::fix::FixGap>,
);

/// `--fix`'s result: what to show, and the exit status when part of the plan could not be
/// computed (the report is still printed).
struct Fix {
    shown: Option<FixOutput>,
    failed: Option<ExitStatus>,
}

fn fix_output(report: &AuditReport, prepared: Result<super::plan::Prepared, ExitStatus>) -> Fix {
    let p = match prepared {
        Ok(p) => p,
        Err(s) => {
            return Fix {
                shown: None,
                failed: Some(s),
            };
        }
    };
    let plans = p.plans();
    let text = report::plan_text::render_all(&plans);
    let json = serde_json::to_value(report::plan_json::document(
        &plans,
        &p.failures,
        &p.problems,
    ))
    .expect("plan serializes");
    let gaps = audit::fix::unfixed(report, &plans);
    let gap_objects = audit::fix::unfixed_gaps(report, &plans);
    super::plan::print_errors(&p);
    Fix {
        shown: Some((text, json, gaps, gap_objects)),
        failed: p.has_errors().then_some(ExitStatus::Failure),
    }
}

/// `--fix`: the plan `apply` would run, built by the planner from the config.
async fn fix_plan(
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<super::plan::Prepared, ExitStatus> {
    let req = super::plan::Request::from_args(settings, PlanOptions::default())?;
    super::plan::prepare(settings, req, progress).await
}

fn print_errors(report: &AuditReport) {
    for e in &report.errors {
        let at = match (&e.account, &e.region) {
            (Some(a), Some(r)) => format!("{a}/{r}"),
            (Some(a), None) => a.clone(),
            _ => "run".to_string(),
        };
        eprintln!("error: [{at}] {}", output::safe(&e.message));
        if let Some(h) = &e.hint {
            eprintln!("   = hint: {}", output::safe(h));
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {}", output::safe(w));
    }
    let targets = report.errors.iter().filter(|e| e.account.is_some()).count();
    if targets > 0 {
        eprintln!("{targets} target(s) could not be audited; the report covers the rest");
    }
}

fn render(format: OutputFormat, report: &AuditReport, fix: Option<&FixOutput>) -> String {
    match format {
        OutputFormat::Json => report::audit_json::render_with_fix(
            report,
            fix.map(|(_, plan, _, gaps)| (plan.clone(), gaps.clone())),
        ),
        OutputFormat::Csv => report::audit_csv::render(report),
        OutputFormat::Ocsf => report::audit_ocsf::render(report),
        OutputFormat::Html => report::audit_html::render(report),
        _ => {
            let mut s = report::audit_table::render(report);
            if let Some((text, _, gaps, _)) = fix {
                s.push_str("\nPlan to close the gaps (flowkeeper apply runs exactly this):\n\n");
                s.push_str(text);
                for g in gaps {
                    s.push_str(g);
                    s.push('\n');
                }
            }
            s
        }
    }
}

pub async fn run(settings: &Settings, args: &AuditArgs) -> ExitStatus {
    if settings.format == OutputFormat::Ndjson {
        return usage("audit prints --format text (table), json, csv, ocsf or html");
    }
    if args.fix && !matches!(settings.format, OutputFormat::Text | OutputFormat::Json) {
        return usage("--fix prints the plan with --format text or json");
    }
    let inputs = match resolve_inputs(settings, args) {
        Ok(i) => i,
        Err(s) => return s,
    };
    let input_paths: Vec<&Path> = inputs
        .config
        .iter()
        .map(|(p, _)| p.as_path())
        .chain(inputs.baseline_file.as_deref())
        .collect();
    let out_file = match &args.output {
        None => match output::check_stdout(input_paths.iter().copied()) {
            Ok(()) => None,
            Err(e) => {
                eprintln!("error: stdout: {e}");
                return ExitStatus::Failure;
            }
        },
        Some(path) => match OutputFile::create(path, input_paths.iter().copied()) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: -o: {e}");
                if let Some(h) = e.hint() {
                    eprintln!("   = hint: {h}");
                }
                return ExitStatus::Failure;
            }
        },
    };
    let progress = StderrProgress::new(settings.quiet);
    let report = build_report(settings, &inputs, &progress).await;
    let fix = match (&report, args.fix) {
        (Ok(r), true) => Some(fix_output(r, fix_plan(settings, &progress).await)),
        _ => None,
    };
    progress.finish();
    let report = match report {
        Ok(r) => r,
        Err(s) => return s,
    };
    let text = render(
        settings.format,
        &report,
        fix.as_ref().and_then(|f| f.shown.as_ref()),
    );
    match out_file {
        Some(mut f) => {
            use std::io::Write;
            let written = f
                .write_all(text.as_bytes())
                .map_err(|error| output::OutputError::Io {
                    path: args.output.clone().unwrap_or_default(),
                    action: "write",
                    error,
                })
                .and_then(|_| f.commit());
            if let Err(e) = written {
                eprintln!("error: cannot write the report: {e}");
                return ExitStatus::Failure;
            }
        }
        None => print_data(&text),
    }
    print_errors(&report);
    super::plan::print_call_counts(settings);
    if let Some(s) = fix.and_then(|f| f.failed) {
        return s;
    }
    audit::exit_status(&report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ErrorKind;

    #[test]
    fn regression_access_denied_names_the_audit_policy() {
        let e = AwsError {
            operation: "ec2:DescribeFlowLogs",
            kind: ErrorKind::AccessDenied,
            code: Some("UnauthorizedOperation".into()),
            message: "not allowed".into(),
        };
        let hint = error_of(None, None, &e).hint.unwrap();
        assert!(hint.contains("policies/flowkeeper-audit.json"), "{hint}");
        // plan's hint is unchanged.
        assert!(e.hint().unwrap().contains("flowkeeper-operator.json"));
    }

    #[test]
    fn approved_destination_forms() {
        for ok in [
            "arn:aws:s3:::b",
            "/flowkeeper/*",
            "arn:aws:logs:*:111122223333:log-group:x",
        ] {
            assert!(check_approved_destination(ok).is_ok(), "{ok}");
        }
        for bad in ["", " ", "s3://b", "bucket"] {
            assert!(check_approved_destination(bad).is_err(), "{bad}");
        }
    }
}
