//! Thin entry point: parse arguments, run the command, translate the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let status = match flowkeeper::cli::Cli::try_parse() {
        Ok(cli) => flowkeeper::commands::run(cli),
        Err(e) => {
            // clap prints help and version on stdout, usage errors on stderr; a closed pipe while
            // printing help is not worth reporting.
            let _ = e.print();
            flowkeeper::cli::parse_error_status(&e)
        }
    };
    ExitCode::from(status.code() as u8)
}
