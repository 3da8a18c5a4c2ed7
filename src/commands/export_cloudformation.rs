//! `flowkeeper export cloudformation`: config → the same preparation as plan → greenfield plans →
//! CloudFormation templates written through `OutputFile`.

use crate::cli::ExportCloudformationArgs;
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub async fn run(_settings: &Settings, _args: &ExportCloudformationArgs) -> ExitStatus {
    eprintln!("error: `export cloudformation` is not built yet");
    ExitStatus::Failure
}
