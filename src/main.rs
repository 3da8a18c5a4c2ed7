//! Thin entry point: parse arguments, run the command, translate the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = flowkeeper::cli::Cli::parse();
    let status = flowkeeper::commands::run(cli);
    ExitCode::from(status.code() as u8)
}
