//! `flowkeeper verify`: the flow logs in scope → the delivery ladder for each → one report.

use crate::cli::VerifyArgs;
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub async fn run(_settings: &Settings, _args: &VerifyArgs) -> ExitStatus {
    eprintln!("error: verify is being built (issue #10)");
    ExitStatus::Failure
}
