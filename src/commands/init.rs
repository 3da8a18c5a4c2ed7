//! `flowkeeper init`: writes the commented starter config.

use crate::cli::InitArgs;
use crate::config::starter::STARTER;
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &InitArgs) -> ExitStatus {
    let path = args.path.as_ref().unwrap_or(&settings.config);
    if path.exists() && !args.force {
        eprintln!(
            "error: {} already exists; pass --force to overwrite it",
            path.display()
        );
        return ExitStatus::Failure;
    }
    match std::fs::write(path, STARTER) {
        Ok(()) => {
            if !settings.quiet {
                eprintln!(
                    "wrote {}; edit it, then run `flowkeeper validate` and `flowkeeper plan`",
                    path.display()
                );
            }
            ExitStatus::Clean
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            ExitStatus::Failure
        }
    }
}
