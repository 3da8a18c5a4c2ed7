//! `flowkeeper init`: writes the commented starter config.

use crate::cli::{GlobalArgs, InitArgs};
use crate::config::starter::STARTER;
use crate::exit::ExitStatus;

pub fn run(global: &GlobalArgs, args: &InitArgs) -> ExitStatus {
    let path = args.path.as_ref().unwrap_or(&global.config);
    if path.exists() && !args.force {
        eprintln!(
            "error: {} already exists; pass --force to overwrite it",
            path.display()
        );
        return ExitStatus::Failure;
    }
    match std::fs::write(path, STARTER) {
        Ok(()) => {
            if !global.quiet {
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
