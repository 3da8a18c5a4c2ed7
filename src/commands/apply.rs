//! `flowkeeper apply`: computes the plans, shows them, asks for confirmation (or takes --yes),
//! then executes exactly those plans: accounts hosting central destinations first, then the
//! rest concurrently; and reports what was done. Ctrl-C while executing stops new changes
//! from starting (see `interrupt`).

use std::io::{BufRead, IsTerminal, Write};

use futures::future::join_all;

use crate::apply::{self, ApplyOptions, ApplyReport, Cancel};
use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::plan::PlanOptions;
use crate::progress::StderrProgress;
use crate::report;

use super::plan::{
    AccountRun, hosts_central_destination, prepare_showing_progress, print_call_counts,
    print_errors,
};
use super::{interrupt, print_data};

/// Asks on the terminal; only `yes` confirms.
fn confirm(changes: usize) -> bool {
    eprint!("\nApply these {changes} change(s)? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes"
}

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> ExitStatus {
    let prepared = prepare_showing_progress(global, PlanOptions { prune: args.prune }).await;
    let prepared = match prepared {
        Ok(p) => p,
        Err(status) => return status,
    };
    let plans = prepared.plans();
    if global.format == OutputFormat::Text {
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
        if global.format == OutputFormat::Json {
            print_data(&report::apply_json::render_all(
                &plans,
                &[],
                &prepared.failures,
                &prepared.problems,
            ));
        }
        return error_status;
    }
    if !args.yes {
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
    let progress = StderrProgress::new(global.quiet);
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
    print_data(&match global.format {
        OutputFormat::Text | OutputFormat::Ndjson | OutputFormat::Html => {
            report::apply_text::render_all(&reports)
        }
        OutputFormat::Json => {
            report::apply_json::render_all(&plans, &reports, &prepared.failures, &prepared.problems)
        }
    });
    print_call_counts(global);
    if cancel.is_requested() {
        eprintln!("{}", interrupt::summary(&reports));
    }
    if reports.iter().all(|(_, r)| r.all_done()) {
        error_status
    } else {
        ExitStatus::Failure
    }
}
