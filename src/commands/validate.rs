//! `flowkeeper validate`: checks the config file only; no AWS calls.

use crate::cli::GlobalArgs;
use crate::config;
use crate::exit::ExitStatus;
use crate::model::Regions;

pub fn run(global: &GlobalArgs) -> ExitStatus {
    match config::load(&global.config) {
        Ok(state) => {
            if !global.quiet {
                eprintln!(
                    "{} is valid: {} destination(s), {} flow_logs entr{}, regions: {}",
                    global.config.display(),
                    state.destinations.len(),
                    state.flow_logs.len(),
                    if state.flow_logs.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    },
                    match &state.regions {
                        Regions::Default => "from --region / AWS_REGION".to_string(),
                        Regions::All => "all enabled".to_string(),
                        Regions::List(l) => l.join(", "),
                    }
                );
            }
            ExitStatus::Clean
        }
        Err(d) => {
            eprintln!("{d}");
            ExitStatus::Failure
        }
    }
}
