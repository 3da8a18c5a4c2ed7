//! `flowkeeper apply`: computes the plans, shows them, asks for confirmation (or takes --yes),
//! then executes exactly those plans: accounts hosting central destinations first, then the
//! rest concurrently; and reports what was done. Ctrl-C while executing stops new changes
//! from starting (see `interrupt`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use futures::future::join_all;

use crate::apply::{self, ApplyOptions, ApplyReport, Cancel};
use crate::cli::ApplyArgs;
use crate::exit::ExitStatus;
use crate::plan::PlanOptions;
use crate::plan_file::{self, SavedRun};
use crate::progress::StderrProgress;
use crate::report;
use crate::settings::{FilterArgs, InfraFormat, Settings};

use super::plan::{
    AccountRun, Prepared, Request, hosts_central_destination, prepare_showing_progress,
    print_call_counts, print_errors, saved_run,
};
use super::{interrupt, print_data};

/// Asks on the terminal; only `yes` confirms.
fn confirm(changes: usize) -> bool {
    eprint!("\nApply these {changes} change(s)? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes"
}

/// The saved plan named on the command line, read and checked for form.
fn read_saved(settings: &Settings, args: &ApplyArgs, file: &Path) -> Result<SavedRun, ExitStatus> {
    if settings.config != Path::new(crate::cli::DEFAULT_CONFIG) {
        eprintln!(
            "error: {} is a saved plan: it carries the config it was planned from, so -c/--config {} is not used\n   = hint: leave out -c, or plan again with `flowkeeper -c {} plan --out FILE`",
            file.display(),
            settings.config.display(),
            settings.config.display()
        );
        return Err(ExitStatus::Failure);
    }
    if args.prune || args.allow_logging_gap || settings.filter_args != FilterArgs::default() {
        eprintln!(
            "error: {} is a saved plan: it carries its own --prune, --allow-logging-gap, --accounts and --regions\n   = hint: give those to `flowkeeper plan --out` instead",
            file.display()
        );
        return Err(ExitStatus::Failure);
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("error: cannot read the plan file {}: {e}", file.display());
        ExitStatus::Failure
    })?;
    plan_file::parse(&text).map_err(|e| {
        eprintln!(
            "error: {}: {e}\n   = hint: write plan files with `flowkeeper plan --out FILE`",
            file.display()
        );
        ExitStatus::Failure
    })
}

/// Refuses a saved plan when anything it was computed from changed; nothing is applied then.
fn check_saved(file: &Path, saved: &SavedRun, prepared: &Prepared) -> Result<(), ExitStatus> {
    if prepared.has_errors() {
        print_errors(prepared);
        eprintln!(
            "error: the saved plan {} cannot be checked: part of the run failed now; nothing was applied",
            file.display()
        );
        return Err(ExitStatus::Failure);
    }
    let now = saved_run(
        saved.config_path.clone(),
        saved.config_text.clone(),
        saved.options,
        saved.accounts.clone(),
        saved.regions.clone(),
        prepared,
    );
    let stale = plan_file::staleness(saved, &now);
    if stale.is_empty() {
        return Ok(());
    }
    eprintln!(
        "error: the saved plan {} is stale: what it was computed from has changed; nothing was applied",
        file.display()
    );
    for line in &stale {
        eprintln!("  - {line}");
    }
    eprintln!("   = hint: run `flowkeeper plan --out FILE` again and review the new plan");
    Err(ExitStatus::Failure)
}

pub async fn run(settings: &Settings, format: InfraFormat, args: &ApplyArgs) -> ExitStatus {
    let saved = match &args.plan_file {
        None => None,
        Some(file) => match read_saved(settings, args, file) {
            Ok(s) => Some((file.as_path(), s)),
            Err(status) => return status,
        },
    };
    let req = match &saved {
        None => Request::from_args(
            settings,
            PlanOptions {
                prune: args.prune,
                allow_logging_gap: args.allow_logging_gap,
            },
        ),
        Some((file, s)) => Request::from_saved(file, s),
    };
    let req = match req {
        Ok(r) => r,
        Err(status) => return status,
    };
    let prepared = match prepare_showing_progress(settings, req).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    if let Some((file, s)) = &saved
        && let Err(status) = check_saved(file, s, &prepared)
    {
        return status;
    }
    let plans = prepared.plans();
    if format == InfraFormat::Text {
        print_data(&report::plan_text::render_all(&plans));
    }
    print_errors(&prepared);
    let error_status = if prepared.has_errors() {
        ExitStatus::Failure
    } else {
        ExitStatus::Clean
    };
    let changes: usize = plans.iter().map(|p| p.changes.len()).sum();
    if changes == 0 {
        if format == InfraFormat::Json {
            print_data(&report::apply_json::render_all(
                &plans,
                &[],
                &prepared.failures,
                &prepared.problems,
            ));
        }
        return error_status;
    }
    if !args.yes && saved.is_none() {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: refusing to apply without confirmation: stdin is not a terminal\n   = hint: review `flowkeeper plan`, then run `flowkeeper apply --yes`"
            );
            return ExitStatus::Failure;
        }
        if !confirm(changes) {
            eprintln!("apply cancelled: nothing was changed");
            return ExitStatus::Failure;
        }
    }
    let progress = StderrProgress::new(settings.quiet);
    let (opts, cancel) = (ApplyOptions::default(), Cancel::new());
    interrupt::watch(cancel.clone());
    let (first, rest): (Vec<&AccountRun>, Vec<&AccountRun>) = prepared
        .runs
        .iter()
        .partition(|r| hosts_central_destination(&prepared.desired, &r.target.account));
    let limit = &prepared.limit;
    let mut reports: Vec<(String, ApplyReport)> = Vec::new();
    for r in &first {
        let rep = apply::apply(&r.aws, &r.plan, opts, limit, &progress, &cancel).await;
        reports.push((r.target.account.to_string(), rep));
    }
    let rest_reports = join_all(
        rest.iter()
            .map(|r| apply::apply(&r.aws, &r.plan, opts, limit, &progress, &cancel)),
    )
    .await;
    for (r, rep) in rest.iter().zip(rest_reports) {
        reports.push((r.target.account.to_string(), rep));
    }
    progress.finish();
    reports.sort_by(|a, b| a.0.cmp(&b.0));
    print_data(&match format {
        InfraFormat::Text => report::apply_text::render_all(&reports),
        InfraFormat::Json => {
            report::apply_json::render_all(&plans, &reports, &prepared.failures, &prepared.problems)
        }
    });
    print_call_counts(settings);
    if cancel.is_requested() {
        eprintln!("{}", interrupt::summary(&reports));
    }
    if reports.iter().all(|(_, r)| r.all_done()) {
        error_status
    } else {
        ExitStatus::Failure
    }
}
