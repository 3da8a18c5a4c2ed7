//! The only place that sequences the layers: one file per subcommand. Each returns an
//! [`ExitStatus`]; `main` turns it into the process exit code.

mod analyze;
mod analyze_athena;
mod analyze_networks;
mod apply;
mod audit;
mod export_athena;
mod export_cloudformation;
mod init;
mod interrupt;
mod plan;
mod validate;
mod verify;

use crate::aws::{Aws, AwsSettings};
use crate::cli::{Cli, Command, ExportCommand};
use crate::exit::ExitStatus;
use crate::settings::Settings;

pub fn run(cli: Cli) -> ExitStatus {
    let settings = match Settings::resolve(&cli.global) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let infra_format = || settings.infra_format().map_err(|e| usage_error(&e));
    match cli.command {
        Command::Init(args) => init::run(&settings, &args),
        Command::Validate if settings.format != crate::cli::OutputFormat::Text => {
            usage_error("validate reports on stderr; --format is for plan, apply and analyze")
        }
        Command::Validate => validate::run(&settings),
        Command::Plan(args) => match infra_format() {
            Ok(f) => with_runtime(|| plan::run(&settings, f, &args)),
            Err(status) => status,
        },
        Command::Apply(args) => match infra_format() {
            Ok(f) => with_runtime(|| apply::run(&settings, f, &args)),
            Err(status) => status,
        },
        Command::Analyze(args) => with_runtime(|| analyze::run(&settings, &args)),
        Command::Audit(args) => with_runtime(|| audit::run(&settings, &args)),
        Command::Verify(args) => with_runtime(|| verify::run(&settings, &args)),
        Command::Export(ExportCommand::Cloudformation(args)) => {
            with_runtime(|| export_cloudformation::run(&settings, &args))
        }
        Command::Export(ExportCommand::Athena(args)) => {
            with_runtime(|| export_athena::run(&settings, &args))
        }
    }
}

/// A bad combination of flags: said on stderr, exit 1.
fn usage_error(message: &str) -> ExitStatus {
    eprintln!("error: {message}");
    ExitStatus::Failure
}

fn with_runtime<F: std::future::Future<Output = ExitStatus>>(f: impl FnOnce() -> F) -> ExitStatus {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitStatus::Failure
        }
    }
}

/// Connects to AWS as the settings say; a failure (unknown --region, malformed endpoint
/// URL, unknown profile) is printed with its hint.
async fn connect(settings: &AwsSettings) -> Result<Aws, ExitStatus> {
    if let Some(r) = &settings.region
        && let Err(hint) = crate::model::regions::known(r)
    {
        eprintln!(
            "error: `{r}` is not an AWS region (given by --region or AWS_REGION)\n   = hint: {hint}"
        );
        return Err(ExitStatus::Failure);
    }
    Aws::connect(settings).await.map_err(|e| {
        eprintln!("error: {}", e.message);
        if let Some(h) = e.hint() {
            eprintln!("   = hint: {h}");
        }
        ExitStatus::Failure
    })
}

/// The account of the current credentials (STS); a failure is printed with its hint.
async fn caller_account(aws: &Aws) -> Result<crate::model::AccountId, ExitStatus> {
    aws.caller_account().await.map_err(|e| {
        eprintln!("error: cannot identify the account of the current credentials: {e}");
        if let Some(h) = e.hint() {
            eprintln!("   = hint: {h}");
        }
        ExitStatus::Failure
    })
}

/// Writes data to stdout; a closed pipe (`flowkeeper plan | head`) is not an error.
fn print_data(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {e}");
    }
}
