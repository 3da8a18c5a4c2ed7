//! `flowkeeper init`: writes the commented starter config (through [`OutputFile`], so an
//! interrupted write never leaves half a config).

use std::io::Write;

use crate::cli::InitArgs;
use crate::config::starter::STARTER;
use crate::exit::ExitStatus;
use crate::output::{OutputError, OutputFile};
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
    let written = OutputFile::create(path, std::iter::empty()).and_then(|mut f| {
        f.write_all(STARTER.as_bytes())
            .map_err(|error| OutputError::Io {
                path: path.clone(),
                action: "write",
                error,
            })?;
        f.commit()
    });
    match written {
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
            eprintln!("error: {e}");
            ExitStatus::Failure
        }
    }
}
