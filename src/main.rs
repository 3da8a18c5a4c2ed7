//! Thin entry point: parse arguments, run the command, translate the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_on_closed_stderr();
    let status = match flowkeeper::cli::parse_args() {
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

/// `eprintln!` panics when stderr is a closed pipe (`flowkeeper validate 2>&1 | head -c 10`).
/// Nobody is left to read a message then, so the process ends with the error code (1) instead
/// of a panic's 101; every other panic is reported as usual.
fn quiet_on_closed_stderr() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stderr") {
            std::process::exit(1);
        }
        default(info);
    }));
}
