//! Command-line syntax (clap). Only parsing lives here; `commands` resolves and runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::ExitStatus;

/// The exit status for an argument-parsing outcome: `--help` and `--version` succeed (0); every
/// usage error (unknown flag, bad value, missing subcommand) is an error (1), never 2, which the
/// exit-code scheme keeps for "worked and found something to act on". clap's own default is 2.
pub fn parse_error_status(e: &clap::Error) -> ExitStatus {
    if e.use_stderr() {
        ExitStatus::Failure
    } else {
        ExitStatus::Clean
    }
}

/// The config path when `-c/--config` is not given.
pub const DEFAULT_CONFIG: &str = "flowkeeper.yaml";

/// Parses the process arguments, recording whether `-c/--config` was given explicitly.
pub fn parse_args() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.global.config_given = config_given(&matches);
    Ok(cli)
}

/// `-c/--config` came from the command line (on the top level or after the subcommand).
fn config_given(m: &clap::ArgMatches) -> bool {
    let here = m.value_source("config") == Some(clap::parser::ValueSource::CommandLine);
    here || m.subcommand().is_some_and(|(_, sub)| config_given(sub))
}

#[derive(Debug, Parser)]
#[command(
    name = "flowkeeper",
    version,
    about = "Declare the VPC flow logging you want in YAML; plan and apply it across regions.",
    after_help = "Exit codes: 0 success and nothing to act on, 1 error, 2 success with something to act on (for example pending changes)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The desired-state file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = DEFAULT_CONFIG
    )]
    pub config: PathBuf,
    /// Whether `-c/--config` was given on the command line (not the default): `audit` without
    /// a config file audits against a baseline, but a config named explicitly must exist.
    #[arg(skip)]
    pub config_given: bool,
    /// AWS region for account-level calls (STS, IAM), and the region list when the config names none.
    #[arg(long, global = true, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Named AWS profile from the shared config/credentials files; its credentials are used even
    /// when AWS_ACCESS_KEY_ID is set (AWS_PROFILE, without the flag, comes after environment keys).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto); S3 then uses path-style URLs.
    #[arg(long = "endpoint-url", global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Work only on these accounts (comma-separated ids) of the config.
    #[arg(long, global = true, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Option<Vec<String>>,
    /// Work only in these regions (comma-separated) of the config.
    #[arg(long, global = true, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Option<Vec<String>>,
    /// How many account/region targets are worked on at once.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Output format for data on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Print no progress on stderr (errors are still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human text (tables); `table` is an alias.
    #[value(alias = "table")]
    Text,
    Json,
    /// One JSON object per line, streamed (analyze).
    Ndjson,
    /// One self-contained HTML page (analyze, audit, verify).
    Html,
    /// One row per resource (audit).
    Csv,
    /// OCSF findings, one JSON object per line (audit, analyze).
    Ocsf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter flowkeeper.yaml.
    Init(InitArgs),
    /// Check the config file and report every problem in it; touches no AWS API.
    Validate,
    /// Show what apply would change (exit 2 when changes are pending).
    Plan(PlanArgs),
    /// Compute the plan, confirm it, and make AWS match the config.
    Apply(ApplyArgs),
    /// Analyze delivered flow logs: security detections and traffic reports (exit 2 when a
    /// finding reaches --fail-on, by default medium).
    Analyze(AnalyzeArgs),
    /// Report every VPC, subnet and network interface without qualifying flow logs, and why
    /// (exit 2 when anything in scope is non-compliant).
    Audit(AuditArgs),
    /// Prove that flow logs deliver, end to end, and say how to fix those that do not (exit 2
    /// when any is failing or stale).
    Verify(VerifyArgs),
    /// Render the desired state for AWS's own engines: CloudFormation/StackSets templates, or
    /// Athena DDL and queries.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write CloudFormation templates (one per account and region plus a global one for IAM
    /// roles, or StackSet-ready templates with parameter files) of what apply would create
    /// (exit 2 when the templates hold resources to deploy).
    Cloudformation(ExportCloudformationArgs),
    /// Write the Athena CREATE EXTERNAL TABLE (and, with --queries, the detection and report
    /// queries) for one S3 destination of the config.
    Athena(ExportAthenaArgs),
}

#[derive(Debug, Args)]
pub struct ExportCloudformationArgs {
    /// The directory the templates are written to (created when missing).
    #[arg(
        short = 'o',
        long,
        value_name = "DIR",
        default_value = "cloudformation"
    )]
    pub output: PathBuf,
    /// Leave the ids of entries that select by tag or `all` as list parameters
    /// (`List<AWS::EC2::VPC::Id>` ..., defaulting to the ids discovery found) with
    /// `Fn::ForEach` (AWS::LanguageExtensions); per-target templates only.
    #[arg(long)]
    pub parameters: bool,
    /// Always write one template per account and region, even when the targets differ only by
    /// ids (StackSet-ready output otherwise).
    #[arg(long = "per-target")]
    pub per_target: bool,
}

#[derive(Debug, Args)]
pub struct ExportAthenaArgs {
    /// The S3 destination of the config (its name under `destinations:`).
    #[arg(long, value_name = "NAME")]
    pub destination: String,
    /// The Glue/Athena database of the table.
    #[arg(long, default_value = "flowkeeper")]
    pub database: String,
    /// The table name (default: derived from the destination).
    #[arg(long)]
    pub table: Option<String>,
    /// The flow-log entry whose log format the table reads (when several feed the destination).
    #[arg(long)]
    pub entry: Option<String>,
    /// Also write the detection, report and investigation queries, filled for the table.
    #[arg(long)]
    pub queries: bool,
    /// Print the query ids (in the order analyze --engine athena runs them) and exit.
    #[arg(long)]
    pub list: bool,
    /// Bound the queries' scan: records from this time (2026-11-01 or 2026-11-01T10:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Bound the queries' scan: records up to this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Write to this file (the DDL) or directory (with --queries) instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit against this baseline (a shipped name: cis-aws-foundations, aws-fsbp, flowkeeper;
    /// or a YAML file) instead of the config's entries; without a config, the default is
    /// cis-aws-foundations.
    #[arg(long, value_name = "NAME|FILE")]
    pub baseline: Option<String>,
    /// A destination the baseline approves (an S3 ARN, a log-group name (of the audited
    /// account and region) or ARN, a Firehose ARN; `*` wildcards); repeatable.
    #[arg(long = "approved-destination", value_name = "DEST")]
    pub approved_destinations: Vec<String>,
    /// Also print the plan that `apply` would run to close the gaps (needs a config).
    #[arg(long)]
    pub fix: bool,
    /// Count unused VPCs (no network interfaces) and what is inside them as compliant or
    /// non-compliant, as Security Hub does (default: status `unused`, never a failure).
    #[arg(long)]
    pub include_unused: bool,
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Every flow log of the targets, not only those the config declares (no config needed).
    #[arg(long)]
    pub all: bool,
    /// Look for deliveries this far back (e.g. 2h, 1d); default: since each flow log's creation,
    /// bounded to today and yesterday's folders.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub since: Option<String>,
    /// A flow log whose newest delivery is older than this is stale (default: 15m for S3, 10m
    /// for CloudWatch Logs).
    #[arg(long = "max-age", value_name = "DURATION", allow_hyphen_values = true)]
    pub max_age: Option<String>,
    /// Poll with backoff until every flow log delivers or this much time has passed.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub wait: Option<String>,
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Files or directories (gzip or plain), s3://bucket/prefix, or cwl://log-group[//stream-prefix].
    pub inputs: Vec<String>,
    /// Read the logs of this flow log (its destination and format come from DescribeFlowLogs;
    /// its resource's VPC CIDRs count as ours).
    #[arg(long = "flow-log", value_name = "FL_ID")]
    pub flow_log: Option<String>,
    /// Count every VPC CIDR (IPv4 and IPv6, DescribeVpcs) as ours, and the NAT gateways and
    /// other middlebox interfaces as relays: of every account of the config (in --regions,
    /// else in its configured regions), or of the current account in --regions (or --region)
    /// when no config is used.
    #[arg(long)]
    pub discover: bool,
    /// Field names of lines without a header (CloudWatch events, headerless files), space or
    /// comma separated, or a `${field} ...` log format; default: the version 2 default format.
    #[arg(long)]
    pub fields: Option<String>,
    /// Only records ending at or after this time (2026-11-01 or 2026-11-01T10:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Only records starting at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// A rule pack layered over the default pack (repeatable; later files win).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<std::path::PathBuf>,
    /// Exit 2 when any finding (incident) has at least this severity (info, low, medium, high,
    /// critical; default medium), or `none` to exit 0 whatever is found.
    #[arg(long = "fail-on", value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Treat malformed lines as errors (exit 1), and validate every column of every line (by
    /// default only the fields the rule pack reads are parsed and checked).
    #[arg(long)]
    pub strict: bool,
    /// Text output: print each finding's evidence (source object and line) under it.
    #[arg(long)]
    pub evidence: bool,
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long)]
    pub output: Option<std::path::PathBuf>,
    /// Where the analysis runs: `local` reads the logs here; `athena` runs the detection and
    /// report queries (`export athena --list`) in Athena over the destination's table.
    #[arg(long, value_enum, default_value_t = AnalyzeEngine::Local)]
    pub engine: AnalyzeEngine,
    /// With --engine athena: the Glue/Athena database of the table (default: flowkeeper).
    #[arg(long)]
    pub database: Option<String>,
    /// With --engine athena: the table (default: the one `export athena` names for the destination).
    #[arg(long)]
    pub table: Option<String>,
    /// With --engine athena: the workgroup the queries run in.
    #[arg(long, default_value = "primary")]
    pub workgroup: String,
    /// With --engine athena: s3://bucket/prefix/ for the query results (default: the workgroup's).
    #[arg(long = "output-location", value_name = "S3_URI")]
    pub output_location: Option<String>,
    /// With --engine athena: the config's S3 destination whose table is queried.
    #[arg(long, value_name = "NAME")]
    pub destination: Option<String>,
    /// With --engine athena: how long one query may take (90s, 30m, 1h; plain numbers are seconds).
    #[arg(long = "query-timeout", value_name = "DURATION", default_value = "30m")]
    pub query_timeout: String,
}

/// Where `analyze` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AnalyzeEngine {
    Local,
    Athena,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the starter file (default: the --config path).
    pub path: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Also plan deleting flowkeeper-managed flow logs that the config no longer wants.
    #[arg(long)]
    pub prune: bool,
    /// Exit 0 when there is nothing to do and 2 when changes are pending (always on; accepted for
    /// scripts written for `terraform plan -detailed-exitcode`).
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Plan replacements delete-then-create, for flow logs AWS will not let coexist with their
    /// replacement (the resource is not logged by that entry between the two calls).
    #[arg(long = "allow-logging-gap")]
    pub allow_logging_gap: bool,
    /// Also save the exact plan, with a fingerprint of what it was computed from, to this file;
    /// `flowkeeper apply FILE` then applies exactly that plan or refuses it when it is stale.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `flowkeeper plan --out FILE`: applied exactly, without asking, after
    /// checking that nothing it was computed from has changed (exit 1 when it has).
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Delete flowkeeper-managed flow logs that the config no longer wants.
    #[arg(long)]
    pub prune: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Replace delete-then-create, for flow logs AWS will not let coexist with their replacement
    /// (the resource is not logged by that entry between the two calls).
    #[arg(long = "allow-logging-gap")]
    pub allow_logging_gap: bool,
}
