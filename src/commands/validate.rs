//! `flowkeeper validate`: checks the config file only; no AWS calls.

use crate::config;
use crate::exit::ExitStatus;
use crate::model::Regions;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> ExitStatus {
    match config::load(&settings.config) {
        Ok(state) => {
            if !settings.quiet {
                eprintln!(
                    "{} is valid: {} destination(s), {} flow_logs entr{}, regions: {}",
                    settings.config.display(),
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
