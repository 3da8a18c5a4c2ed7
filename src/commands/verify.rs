//! `flowkeeper verify`: the flow logs in scope (the config's, or every one with `--all`) →
//! whole-region discovery → bounded reads and the delivery ladder for each → one report;
//! with `--wait`, polled with backoff until every flow log delivers or the deadline passes.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::aws::{Aws, AwsError, AwsSettings};
use crate::cli::{OutputFormat, VerifyArgs};
use crate::discover;
use crate::exit::ExitStatus;
use crate::model::DesiredState;
use crate::model::{AccountId, Inventory};
use crate::output::{OutputFile, Safe};
use crate::progress::{Progress, StderrProgress};
use crate::report;
use crate::settings::Settings;
use crate::verify::facts::Thresholds;
use crate::verify::read::{self, Sessions};
use crate::verify::report::{FlowLogVerification, SCHEMA_VERSION, VerifyError, VerifyReport};
use crate::verify::scope::{self, Declaration};
use crate::verify::{duration, ladder, outcome};

use super::plan::{self as planning, Request};
use super::print_data;

/// One account to verify: its session, regions, and (with a config) what it declares.
struct Target {
    account: AccountId,
    session: Aws,
    regions: Vec<String>,
    declaration: Option<Declaration>,
}

/// Everything the polls share.
struct Scope {
    targets: Vec<Target>,
    desired: Option<DesiredState>,
    /// Errors found while working out the scope (they stay in every poll's report).
    errors: Vec<VerifyError>,
    /// The organization's id, for `aws:SourceOrgID` (None: not in one, or not readable).
    org_id: Option<String>,
}

/// The organization id: the config's `organization:` one, else DescribeOrganization once
/// (best effort: unknown when it fails, and rungs that depend on it say they cannot decide).
async fn organization_id(known: Option<String>, aws: &Aws) -> Option<String> {
    if known.is_some() {
        return known;
    }
    crate::aws::organizations::organization_id(&aws.organizations())
        .await
        .ok()
        .flatten()
}

fn error(account: Option<&AccountId>, region: Option<&str>, e: &AwsError) -> VerifyError {
    VerifyError {
        account: account.map(|a| a.to_string()),
        region: region.map(str::to_string),
        message: e.to_string(),
        hint: e.hint().map(str::to_string),
    }
}

fn usage(message: &str) -> ExitStatus {
    eprintln!("error: {message}");
    ExitStatus::Failure
}

fn seconds(flag: &str, v: &Option<String>) -> Result<Option<Duration>, ExitStatus> {
    let parse = if flag == "--wait" {
        duration::parse
    } else {
        duration::parse_positive
    };
    v.as_deref()
        .map(|t| parse(t).map_err(|e| usage(&format!("{flag}: {e}"))))
        .transpose()
}

/// The config's accounts, regions and declarations, from the planner's machinery.
async fn config_scope(settings: &Settings, all: bool) -> Result<Scope, ExitStatus> {
    if !settings.config.exists() {
        return Err(usage(&format!(
            "no config at {}: verify checks the flow logs a config declares\n   = hint: pass -c/--config PATH, or `flowkeeper verify --all` to verify every flow log of the current account without one",
            settings.config.display()
        )));
    }
    let req = Request::from_args(settings, crate::plan::PlanOptions::default())?;
    let prepared = planning::prepare_showing_progress(settings, req).await?;
    let mut errors: Vec<VerifyError> = prepared
        .failures
        .iter()
        .map(|f| error(f.account.as_ref(), f.region.as_deref(), &f.error))
        .collect();
    for p in &prepared.problems {
        errors.push(VerifyError {
            account: None,
            region: p.region.clone(),
            message: format!("{}: {}", p.subject, p.message),
            hint: p.hint.clone(),
        });
    }
    let mut targets = Vec::new();
    for run in &prepared.runs {
        for f in &run.failures {
            errors.push(VerifyError {
                account: Some(run.target.account.to_string()),
                region: f.region.clone(),
                message: format!("{}: {}", f.subject, f.error),
                hint: f.error.hint().map(str::to_string),
            });
        }
        for p in &run.plan.problems {
            errors.push(VerifyError {
                account: Some(run.target.account.to_string()),
                region: p.region.clone(),
                message: format!("{}: {}", p.subject, p.message),
                hint: p.hint.clone(),
            });
        }
        let declaration =
            (!all).then(|| scope::declared(&prepared.desired, &run.plan, &run.inventory.regions));
        targets.push(Target {
            account: run.target.account.clone(),
            session: run.aws.clone(),
            regions: run.regions.clone(),
            declaration,
        });
    }
    let org_id = match prepared.runs.first() {
        Some(run) => organization_id(prepared.org_id.clone(), &run.aws).await,
        None => prepared.org_id.clone(),
    };
    Ok(Scope {
        targets,
        desired: Some(prepared.desired),
        errors,
        org_id,
    })
}

/// `--all` without a config: the caller's account in `--regions` or every enabled region.
async fn caller_scope(settings: &Settings) -> Result<Scope, ExitStatus> {
    let aws = super::connect(&AwsSettings {
        fallback_region: Some("us-east-1".into()),
        ..settings.aws.clone()
    })
    .await?;
    let caller = super::caller_account(&aws).await?;
    if let Some(only) = &settings.filters.accounts
        && !only.contains(&caller)
    {
        return Err(usage(&format!(
            "--accounts: without a config verify --all covers only the current credentials' account {caller}\n   = hint: pass -c with a config that lists the accounts"
        )));
    }
    let regions = match &settings.filters.regions {
        Some(r) => r.clone(),
        None => crate::aws::ec2::enabled_regions(&aws.default_clients().ec2)
            .await
            .map_err(|e| {
                eprintln!("error: cannot list the enabled regions: {e}\n   = hint: pass --regions");
                ExitStatus::Failure
            })?,
    };
    let org_id = organization_id(None, &aws).await;
    Ok(Scope {
        targets: vec![Target {
            account: caller,
            session: aws,
            regions,
            declaration: None,
        }],
        desired: None,
        errors: Vec::new(),
        org_id,
    })
}

/// Discovers one target's regions whole and runs the ladder on its flow logs in scope.
async fn verify_target(
    t: &Target,
    scope: &Scope,
    sessions_by_account: &BTreeMap<AccountId, Aws>,
    thresholds: &Thresholds,
    concurrency: usize,
    progress: &dyn Progress,
) -> (
    Vec<FlowLogVerification>,
    Vec<VerifyError>,
    (outcome::Idle, outcome::Idle),
) {
    let limit = Semaphore::new(concurrency);
    let (inventory, failures): (Inventory, _) = discover::discover(
        &t.session,
        &t.account,
        &discover::Request::whole_regions(),
        &t.regions,
        &limit,
        progress,
    )
    .await;
    let errors = failures
        .iter()
        .map(|f| VerifyError {
            account: Some(t.account.to_string()),
            region: f.region.clone(),
            message: format!("{}: {}", f.subject, f.error),
            hint: f.error.hint().map(str::to_string),
        })
        .collect();
    let now = jiff::Timestamp::now();
    let mut jobs = Vec::new();
    let mut out = Vec::new();
    let mut idle = outcome::Idle::new();
    let mut young = outcome::Idle::new();
    for (region, ri) in &inventory.regions {
        for fl in &ri.flow_logs {
            let declared = match &t.declaration {
                None => None,
                Some(d) => match d.declared.get(&(region.clone(), fl.id.clone())) {
                    Some(x) => Some(x.clone()),
                    None => match replacement_for(d, region, fl) {
                        Some(x) => Some(x),
                        None => continue,
                    },
                },
            };
            let owner = match (&scope.desired, &declared) {
                (Some(desired), Some(d)) => scope::expected_owner(desired, &t.account, Some(d)),
                _ => None,
            };
            let mut subject = scope::subject(&t.account, region, ri, fl, declared.as_ref());
            subject.org_id = scope.org_id.clone();
            if subject.interfaces.as_ref().is_some_and(Vec::is_empty) {
                idle.insert(format!("{}/{region}/{}", t.account, fl.id));
            }
            if !subject.created().is_some_and(|c| {
                jiff::Timestamp::now().as_second() - c.as_second() >= outcome::SETTLE_AFTER
            }) {
                young.insert(format!("{}/{region}/{}", t.account, fl.id));
            }
            jobs.push((subject, owner));
        }
        if let Some(d) = &t.declaration {
            for (r, spec) in d.missing.iter().filter(|(r, _)| r == region) {
                let now_exists = ri.flow_logs.iter().any(|fl| {
                    fl.is_managed()
                        && fl.resource_id == spec.resource_id
                        && fl.entry() == Some(spec.entry.as_str())
                });
                if !now_exists {
                    out.push(ladder::missing(t.account.as_str(), r, spec));
                }
            }
        }
    }
    let cache = read::Cache::default();
    let verified: Vec<FlowLogVerification> = futures::stream::iter(jobs)
        .map(|(subject, owner)| async {
            let bucket_owner = owner
                .as_deref()
                .and_then(|o| AccountId::parse(o).ok())
                .filter(|o| *o != t.account)
                .and_then(|o| sessions_by_account.get(&o));
            let sessions = Sessions {
                account: &t.session,
                bucket_owner,
            };
            let facts = read::facts(&sessions, subject, owner, now, thresholds.since, &cache).await;
            ladder::verify(&facts, now, thresholds)
        })
        .buffered(concurrency)
        .collect()
        .await;
    out.extend(verified);
    (out, errors, (idle, young))
}

/// A managed flow log created (by apply) since the plan, for a wanted one that was missing.
fn replacement_for(
    d: &Declaration,
    region: &str,
    fl: &crate::model::ExistingFlowLog,
) -> Option<scope::Declared> {
    d.missing
        .iter()
        .find(|(r, spec)| {
            r == region
                && fl.is_managed()
                && fl.resource_id == spec.resource_id
                && fl.entry() == Some(spec.entry.as_str())
        })
        .map(|(_, spec)| scope::Declared {
            entry: spec.entry.clone(),
            destination: Some(spec.destination_name.clone()),
        })
}

async fn verify_once(
    scope: &Scope,
    settings: &Settings,
    thresholds: &Thresholds,
    progress: &dyn Progress,
) -> (VerifyReport, outcome::Idle, outcome::Idle) {
    let sessions: BTreeMap<AccountId, Aws> = scope
        .targets
        .iter()
        .map(|t| (t.account.clone(), t.session.clone()))
        .collect();
    let results = futures::future::join_all(scope.targets.iter().map(|t| {
        verify_target(
            t,
            scope,
            &sessions,
            thresholds,
            settings.concurrency,
            progress,
        )
    }))
    .await;
    let mut flow_logs = Vec::new();
    let mut errors = scope.errors.clone();
    let mut idle = outcome::Idle::new();
    let mut young = outcome::Idle::new();
    for (f, e, (i, y)) in results {
        flow_logs.extend(f);
        errors.extend(e);
        idle.extend(i);
        young.extend(y);
    }
    outcome::sort(&mut flow_logs);
    errors.extend(outcome::read_errors(&flow_logs));
    let report = VerifyReport {
        schema_version: SCHEMA_VERSION,
        generated_at: jiff::Timestamp::now().to_string(),
        summary: outcome::summarize(&flow_logs),
        flow_logs,
        errors,
    };
    (report, idle, young)
}

fn render(format: OutputFormat, r: &VerifyReport) -> String {
    match format {
        OutputFormat::Json => report::verify_json::render(r),
        OutputFormat::Html => report::verify_html::render(r),
        _ => report::verify_table::render(r),
    }
}

pub async fn run(settings: &Settings, args: &VerifyArgs) -> ExitStatus {
    let format = settings.format;
    if matches!(
        format,
        OutputFormat::Ndjson | OutputFormat::Csv | OutputFormat::Ocsf
    ) {
        return usage("verify prints --format table, json or html");
    }
    let (since, max_age, wait) = match (
        seconds("--since", &args.since),
        seconds("--max-age", &args.max_age),
        seconds("--wait", &args.wait),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(s), _, _) | (_, Err(s), _) | (_, _, Err(s)) => return s,
    };
    let thresholds = Thresholds {
        since: since.map(|d| d.as_secs() as i64),
        ..Thresholds::defaults().with_max_age(max_age.map(|d| d.as_secs() as i64))
    };
    let with_config = !args.all || settings.config.exists();
    let mut out_file = match &args.output {
        None => None,
        Some(path) => {
            let inputs = with_config.then_some(settings.config.as_path());
            match OutputFile::create(path, inputs) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("error: -o: {}", Safe(&e.to_string()));
                    if let Some(h) = e.hint() {
                        eprintln!("   = hint: {h}");
                    }
                    return ExitStatus::Failure;
                }
            }
        }
    };
    let scope = if with_config {
        config_scope(settings, args.all).await
    } else {
        caller_scope(settings).await
    };
    let scope = match scope {
        Ok(s) => s,
        Err(status) => return status,
    };
    let progress = StderrProgress::new(settings.quiet);
    let deadline = wait.map(|w| Instant::now() + w);
    let mut backoff =
        outcome::Backoff::from_env_value(std::env::var(outcome::POLL_ENV).ok().as_deref());
    let mut poll = 0u32;
    let mut gave_up = false;
    let (report, idle) = loop {
        let (report, idle, young) = verify_once(&scope, settings, &thresholds, &progress).await;
        poll += 1;
        let Some(deadline) = deadline else {
            break (report, idle);
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if outcome::settled(&report, &idle) || remaining.is_zero() {
            break (report, idle);
        }
        if outcome::hopeless(&report, &idle, &young) {
            progress.step(&format!(
                "verify: poll {poll}: every flow log not yet delivering fails on a rung that waiting cannot fix; stopping early"
            ));
            gave_up = true;
            break (report, idle);
        }
        let pause = backoff.next(remaining);
        if !settings.quiet {
            progress.step(&format!(
                "verify: poll {poll}: {} of {} flow logs delivering; next poll in {}s (deadline in {}s)",
                report.summary.delivering,
                report.summary.flow_logs,
                pause.as_secs_f64().ceil() as u64,
                remaining.as_secs_f64().ceil() as u64
            ));
        }
        tokio::time::sleep(pause).await;
    };
    progress.finish();
    let text = render(format, &report);
    match out_file.take() {
        None => print_data(&text),
        Some(mut f) => {
            let written = f
                .write_all(text.as_bytes())
                .map_err(|error| crate::output::OutputError::Io {
                    path: args.output.clone().unwrap_or_default(),
                    action: "write the report to",
                    error,
                })
                .and_then(|_| f.commit());
            if let Err(e) = written {
                eprintln!("error: {}", Safe(&e.to_string()));
                return ExitStatus::Failure;
            }
        }
    }
    if format != OutputFormat::Text {
        for e in &report.errors {
            eprintln!("error: {}", Safe(&e.message));
        }
    }
    if deadline.is_some() && !gave_up && !outcome::settled(&report, &idle) {
        eprintln!(
            "verify: the --wait deadline passed after {poll} poll(s) with {} of {} flow logs delivering",
            report.summary.delivering, report.summary.flow_logs
        );
    }
    planning::print_call_counts(settings);
    outcome::exit_status(&report, deadline.is_some(), &idle)
}
