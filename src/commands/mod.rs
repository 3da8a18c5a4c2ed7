//! The only place that sequences the layers: one file per subcommand. Each returns an
//! [`ExitStatus`]; `main` turns it into the process exit code.

mod analyze;
mod apply;
mod init;
mod plan;
mod validate;

use crate::aws::{Aws, AwsSettings};
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;

pub fn run(cli: Cli) -> ExitStatus {
    let plan_like = matches!(cli.command, Command::Plan(_) | Command::Apply(_));
    if plan_like && matches!(cli.global.format, OutputFormat::Ndjson | OutputFormat::Html) {
        eprintln!("error: plan and apply print --format text or json");
        return ExitStatus::Failure;
    }
    match cli.command {
        Command::Init(args) => init::run(&cli.global, &args),
        Command::Validate => validate::run(&cli.global),
        Command::Plan(args) => with_runtime(|| plan::run(&cli.global, &args)),
        Command::Apply(args) => with_runtime(|| apply::run(&cli.global, &args)),
        Command::Analyze(args) => with_runtime(|| analyze::run(&cli.global, &args)),
    }
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

/// Connects to AWS as the global flags say; a failure (unknown --region, malformed endpoint
/// URL, unknown profile) is printed with its hint.
async fn connect(global: &GlobalArgs, fallback_region: Option<String>) -> Result<Aws, ExitStatus> {
    if let Some(r) = &global.region
        && let Err(hint) = crate::model::regions::known(r)
    {
        eprintln!("error: --region `{r}` is not an AWS region\n   = hint: {hint}");
        return Err(ExitStatus::Failure);
    }
    let settings = AwsSettings {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        fallback_region,
    };
    Aws::connect(&settings).await.map_err(|e| {
        eprintln!("error: {}", e.message);
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
