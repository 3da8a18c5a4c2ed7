//! `flowkeeper export athena`: placeholder until the Athena export (h-athena) merges; it
//! replaces this file.

use crate::cli::ExportAthenaArgs;
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub async fn run(_settings: &Settings, _args: &ExportAthenaArgs) -> ExitStatus {
    eprintln!(
        "error: `export athena` is not built yet in this build\n   = hint: use a build that includes the Athena export"
    );
    ExitStatus::Failure
}
