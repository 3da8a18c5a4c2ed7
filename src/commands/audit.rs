//! `flowkeeper audit`: targets → whole-region discovery → coverage verdicts → one report.

use crate::cli::AuditArgs;
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub async fn run(_settings: &Settings, _args: &AuditArgs) -> ExitStatus {
    eprintln!("error: audit is being built (issue #9)");
    ExitStatus::Failure
}
