//! `flowkeeper apply`: computes the plan, shows it, asks for confirmation (or takes --yes),
//! then executes exactly that plan and reports what was done.

use std::io::{BufRead, IsTerminal, Write};

use crate::apply::{self, ApplyOptions};
use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::plan::PlanOptions;
use crate::progress::StderrProgress;
use crate::report;

use super::plan::{prepare, print_errors};
use super::print_data;

/// Asks on the terminal; only `yes` confirms.
fn confirm(changes: usize) -> bool {
    eprint!("\nApply these {changes} change(s)? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes"
}

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> ExitStatus {
    let progress = StderrProgress {
        quiet: global.quiet,
    };
    let prepared = match prepare(global, PlanOptions { prune: args.prune }, &progress).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    let plan = &prepared.plan;
    if global.format == OutputFormat::Text {
        print_data(&report::plan_text::render(plan));
    }
    print_errors(&prepared);
    let error_status = if prepared.has_errors() {
        ExitStatus::Failure
    } else {
        ExitStatus::Clean
    };
    if plan.is_empty() {
        if global.format == OutputFormat::Json {
            print_data(&report::apply_json::render(
                plan,
                &apply::ApplyReport::default(),
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
        if !confirm(plan.changes.len()) {
            eprintln!("apply cancelled: nothing was changed");
            return ExitStatus::Failure;
        }
    }
    let report = apply::apply(&prepared.aws, plan, ApplyOptions::default(), &progress).await;
    print_data(&match global.format {
        OutputFormat::Text => report::apply_text::render(&report),
        OutputFormat::Json => report::apply_json::render(plan, &report),
    });
    if report.all_done() {
        error_status
    } else {
        ExitStatus::Failure
    }
}
