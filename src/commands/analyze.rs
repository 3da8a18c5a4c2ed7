//! `flowkeeper analyze`: resolves inputs (and `--flow-log`), loads the rule packs, runs the
//! pipeline in `analyze`, and renders the result to stdout or, through [`OutputFile`], to
//! `-o FILE` (never one of the inputs). The engine's window findings are grouped into
//! incidents (`Grouper`) before rendering. Exit 2 when an incident reaches `--fail-on`; 1 for
//! bad arguments, unreadable sources (each named, the rest still analyzed), or malformed lines
//! under `--strict`.

use std::io::Write;
use std::sync::Arc;

use flowkeeper_analyze::text::count;
use flowkeeper_analyze::{Finding, Grouper, Incident, Limit, PackSource, RulePack, Severity};
use flowlog::Schema;

use super::analyze_networks;
use crate::analyze::input::{Input, parse_range};
use crate::analyze::{self, Settings};
use crate::aws;
use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::model::{FlowLogDestination, layout};
use crate::output::{self, OutputError, OutputFile, Safe};
use crate::report;

/// Prints an error (its text made terminal-safe) and a hint.
pub(super) fn fail(message: impl std::fmt::Display, hint: Option<&str>) -> ExitStatus {
    eprintln!("error: {}", Safe(&message.to_string()));
    if let Some(h) = hint {
        eprintln!("   = hint: {h}");
    }
    ExitStatus::Failure
}

fn fail_output(e: &OutputError) -> ExitStatus {
    fail(e, e.hint())
}

/// Where the report goes: stdout, or a file committed once the whole report is written.
enum Sink {
    Stdout(std::io::Stdout),
    File(OutputFile),
}

impl Sink {
    fn finish(self) -> Result<(), OutputError> {
        match self {
            Sink::Stdout(_) => Ok(()),
            Sink::File(f) => f.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// The default pack with `--rules` files layered over it.
fn load_pack(files: &[std::path::PathBuf]) -> Result<RulePack, ExitStatus> {
    let mut texts = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(t) => texts.push((f.display().to_string(), t)),
            Err(e) => {
                return Err(fail(
                    format!("cannot read rule pack {}: {e}", f.display()),
                    None,
                ));
            }
        }
    }
    let mut layers = vec![PackSource {
        name: "policies/detections/default.yaml",
        text: flowkeeper_analyze::DEFAULT_PACK_YAML,
    }];
    layers.extend(texts.iter().map(|(name, text)| PackSource { name, text }));
    RulePack::from_yaml_layers(&layers).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {}", output::text::SafeLines(&e.to_string()));
        }
        eprintln!(
            "{} in the rule packs",
            count(errors.len() as u64, "problem", "problems")
        );
        ExitStatus::Failure
    })
}

/// `--fields`: names separated by spaces or commas, or a `${...}` log format. A name that
/// misspells a field it lacks (`srcprot`) is refused before anything is read; other unknown
/// names are columns read as text, as in a header line (each source's warning says so).
fn fields_schema(text: &str) -> Result<Schema, String> {
    let schema = if text.contains("${") {
        Schema::from_log_format(text)
    } else {
        Schema::from_names(text.split([' ', ',']).filter(|s| !s.is_empty()))
    }
    .map_err(|e| format!("--fields: {e}"))?;
    for (_, name) in schema.unknown_columns() {
        if let Some(meant) = analyze::misspelled_field(&schema, name) {
            return Err(format!(
                "--fields: `{name}` is not a flow-log field (did you mean `{}`?)",
                meant.name()
            ));
        }
    }
    Ok(schema)
}

/// The name a failed write is reported under.
fn args_output_name(sink: &Sink) -> std::path::PathBuf {
    match sink {
        Sink::Stdout(_) => "stdout".into(),
        Sink::File(f) => f.path().to_path_buf(),
    }
}

/// Window findings grouped into incidents, and every limit of the run (the engine's and the
/// grouper's); incidents of a detector that hit a limit are marked incomplete.
/// `--fail-on`, then `--since` and `--until` (epoch seconds).
pub(super) type RunOptions = (Option<Severity>, Option<u64>, Option<u64>);

/// The severity from which an incident is something to act on (exit 2) when `--fail-on`
/// is not given: scans, sweeps, cleartext, exposures and exfiltration are; low-severity
/// noise (rejected bursts) and info (log health) are reported but exit 0.
pub(super) const DEFAULT_FAIL_ON: Severity = Severity::Medium;

/// `--fail-on` (default [`DEFAULT_FAIL_ON`], `none`: never exit 2) and `--since/--until`,
/// shared by both engines.
pub(super) fn run_options(args: &AnalyzeArgs) -> Result<RunOptions, ExitStatus> {
    let fail_on = match args.fail_on.as_deref() {
        None => Some(DEFAULT_FAIL_ON),
        Some("none") => None,
        Some(s) => match Severity::parse(s) {
            Some(level) => Some(level),
            None => {
                return Err(fail(
                    format!("--fail-on `{s}` is not a severity"),
                    Some("info, low, medium, high, critical, or none (never exit 2)"),
                ));
            }
        },
    };
    let (since, until) =
        parse_range(args.since.as_deref(), args.until.as_deref()).map_err(|e| fail(e, None))?;
    Ok((fail_on, since, until))
}

pub(super) fn group(
    pack: &RulePack,
    windows: Vec<Finding>,
    analysis: &flowkeeper_analyze::Analysis,
    run: &analyze::RunSummary,
) -> (Vec<Incident>, Vec<Limit>) {
    let names: Vec<String> = run.sources.iter().map(|s| s.name.clone()).collect();
    let mut limits = analysis.limits();
    let mut grouper = Grouper::new(pack);
    grouper.note_limits(&limits);
    for f in windows {
        grouper.offer(f, &names);
    }
    limits.extend(grouper.limits());
    (grouper.finish(), limits)
}

pub async fn run(flags: &crate::settings::Settings, args: &AnalyzeArgs) -> ExitStatus {
    if flags.format == OutputFormat::Csv {
        return fail(
            "analyze prints --format text, json, ndjson, html or ocsf",
            Some("csv is audit's format"),
        );
    }
    let mut pack = match load_pack(&args.rules) {
        Ok(p) => p,
        Err(s) => return s,
    };
    if super::analyze_athena::wanted(args) {
        return super::analyze_athena::run(flags, args, pack).await;
    }
    let (fail_on, since, until) = match run_options(args) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let mut inputs = Vec::new();
    for text in &args.inputs {
        match Input::parse(text) {
            Ok(i) => inputs.push(i),
            Err(e) => return fail(e, None),
        }
    }
    let mut fallback = match args.fields.as_deref().map(fields_schema).transpose() {
        Ok(s) => s.unwrap_or_else(Schema::default_v2),
        Err(e) => {
            return fail(
                e,
                Some("for example --fields \"version account-id interface-id srcaddr dstaddr\""),
            );
        }
    };
    let needs_aws = args.flow_log.is_some()
        || args.discover
        || inputs
            .iter()
            .any(|i| matches!(i, Input::S3 { .. } | Input::CloudWatch { .. }));
    let estate = args
        .discover
        .then(|| analyze_networks::estate_config(flags))
        .flatten();
    let aws = if needs_aws {
        let settings = crate::aws::AwsSettings {
            fallback_region: estate
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .and_then(|d| d.regions.first_listed())
                .or_else(|| flags.aws.fallback_region.clone()),
            ..flags.aws.clone()
        };
        match super::connect(&settings).await {
            Ok(aws) => Some(aws),
            Err(status) => return status,
        }
    } else {
        None
    };
    let mut only_flow_log = None;
    if let (Some(id), Some(aws)) = (&args.flow_log, &aws) {
        let target = match aws::ec2::describe_flow_log(&aws.default_clients().ec2, id).await {
            Ok(t) => t,
            Err(e) => return fail(format!("--flow-log {id}: {e}"), e.hint()),
        };
        if args.fields.is_none() && !target.log_format.is_empty() {
            match Schema::from_log_format(&target.log_format) {
                Ok(s) => fallback = s,
                Err(e) => {
                    return fail(
                        format!("{id} has a log format flowkeeper cannot read: {e}"),
                        None,
                    );
                }
            }
        }
        match analyze_networks::of_flow_log(
            &aws.default_clients().ec2,
            &aws.default_region().unwrap_or_default(),
            &target.resource_id,
        )
        .await
        {
            Ok(found) => {
                if !flags.quiet && found.vpcs > 0 {
                    eprintln!(
                        "ours from {id} ({}): {}",
                        Safe(&target.resource_id),
                        found.describe()
                    );
                }
                for u in &found.unreadable {
                    eprintln!("warning: left out {}", Safe(u));
                }
                found.apply(&mut pack);
            }
            Err(e) => {
                return fail(
                    format!("--flow-log {id}: {e}"),
                    Some(
                        "analyze needs ec2:DescribeVpcs, ec2:DescribeSubnets and ec2:DescribeNetworkInterfaces (policies/flowkeeper-analyze.json)",
                    ),
                );
            }
        }
        match target.destination {
            FlowLogDestination::S3 { arn, .. } => {
                let rest = arn.split(":::").nth(1).unwrap_or_default();
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                inputs.push(Input::S3 {
                    bucket: bucket.to_string(),
                    prefix: layout::aws_logs_root(Some(prefix)),
                });
                only_flow_log = Some(format!("_{id}_"));
            }
            FlowLogDestination::CloudwatchLogs { log_group, .. } => {
                inputs.push(Input::CloudWatch {
                    group: log_group,
                    stream_prefix: None,
                })
            }
            FlowLogDestination::KinesisDataFirehose { arn } => {
                return fail(
                    format!(
                        "{id} delivers to the Kinesis Data Firehose stream {arn}; flowkeeper cannot read a Firehose stream"
                    ),
                    Some(
                        "point analyze at where the stream delivers (an S3 prefix: s3://bucket/prefix)",
                    ),
                );
            }
            FlowLogDestination::Other { type_name, arn } => {
                return fail(
                    format!(
                        "{id} delivers to {arn} (destination type {type_name}, which flowkeeper does not know)"
                    ),
                    Some(
                        "point analyze at where the logs land (a file, s3://bucket/prefix or a log group)",
                    ),
                );
            }
        }
    }
    let mut discovery_failures = Vec::new();
    if args.discover
        && let Some(aws) = &aws
    {
        match analyze_networks::discover_for(flags, aws, estate).await {
            Ok(d) => {
                if !flags.quiet {
                    let whose = d
                        .config
                        .as_ref()
                        .map_or(String::new(), |c| format!(" (the accounts of {c})"));
                    let places = if d.places.is_empty() {
                        "no account or region".to_string()
                    } else {
                        d.places.join("; ")
                    };
                    eprintln!(
                        "ours from --discover{whose} in {places}: {}",
                        Safe(&d.found.describe())
                    );
                }
                for u in &d.found.unreadable {
                    eprintln!("warning: left out {}", Safe(u));
                }
                d.found.apply(&mut pack);
                for f in &d.failures {
                    eprintln!(
                        "error: {}; its VPC addresses count as public in this run (the rest is analyzed; name its ranges in a --rules pack, networks.internal, or fix its access)",
                        Safe(f)
                    );
                }
                discovery_failures = d.failures;
            }
            Err(e) => {
                return fail(
                    e,
                    Some(
                        "--discover reads the config's accounts (when a config is used) and needs sts:GetCallerIdentity, ec2:DescribeVpcs and ec2:DescribeNetworkInterfaces (policies/flowkeeper-analyze.json); without it, name your ranges in a --rules pack (networks.internal)",
                    ),
                );
            }
        }
    }
    if inputs.is_empty() {
        return fail(
            "nothing to analyze",
            Some(
                "name files, directories, s3://bucket/prefix or cwl://log-group, or --flow-log fl-...",
            ),
        );
    }
    let mut planned = analyze::plan_jobs(&inputs, aws.as_ref(), since, until).await;
    if let Some(marker) = &only_flow_log {
        planned.jobs.retain(
            |j| !matches!(j, analyze::Job::S3 { key, .. } if !key.contains(marker.as_str())),
        );
    }
    // The output is opened (and checked against every input, rule packs included) before
    // anything is read.
    let read_paths = || {
        planned
            .local_paths(&inputs)
            .chain(args.rules.iter().map(|p| p.as_path()))
    };
    let sink = match &args.output {
        Some(path) => match OutputFile::create(path, read_paths()) {
            Ok(f) => Sink::File(f),
            Err(e) => return fail_output(&e),
        },
        None => match output::check_stdout(read_paths()) {
            Ok(()) => Sink::Stdout(std::io::stdout()),
            Err(e) => return fail_output(&e),
        },
    };
    for s in &planned.skipped {
        eprintln!("warning: skipped {}: {}", Safe(&s.name), Safe(&s.reason));
    }
    let readers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let holds = analyze::order_by_first_records(&mut planned.jobs, &fallback);
    let settings = Settings {
        holds,
        jobs: planned.jobs,
        skipped: planned.skipped,
        fallback: Arc::new(fallback),
        since,
        until,
        readers,
        strict: args.strict,
    };
    if !flags.quiet {
        eprintln!(
            "analyzing {} with {}",
            count(settings.jobs.len() as u64, "source", "sources"),
            count(pack.detectors.len() as u64, "detector", "detectors")
        );
    }
    let mut sink = sink;
    let format = flags.format;
    let with_evidence = args.evidence;
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        let mut windows: Vec<Finding> = Vec::new();
        let mut write_err = None;
        let (analysis, summary, timeline) =
            analyze::run(&settings, aws.as_ref(), &handle, &pack, &mut |ready| {
                if format == OutputFormat::Ndjson
                    && let Err(e) = sink
                        .write_all(report::analysis_json::window_lines(&ready).as_bytes())
                        .and_then(|_| sink.flush())
                {
                    write_err.get_or_insert(e);
                }
                windows.extend(ready);
            });
        if format == OutputFormat::Ndjson
            && let Err(e) = sink
                .write_all(report::analysis_json::window_lines(&analysis.findings).as_bytes())
                .and_then(|_| sink.flush())
        {
            write_err.get_or_insert(e);
        }
        windows.extend(analysis.findings.iter().cloned());
        let (incidents, limits) = group(&pack, windows.clone(), &analysis, &summary);
        let results = report::analysis_view::Results {
            incidents: &incidents,
            analysis: &analysis,
            run: &summary,
            limits: &limits,
            timeline: &timeline,
        };
        let text = match format {
            OutputFormat::Text => report::analysis_table::render(&results, with_evidence),
            OutputFormat::Json => report::analysis_json::render(&results),
            OutputFormat::Ndjson => report::analysis_json::closing_lines(&results, windows.len()),
            OutputFormat::Html => report::analysis_html::render(&results),
            OutputFormat::Ocsf => report::analysis_ocsf::render(&results),
            OutputFormat::Csv => unreachable!("refused before the run"),
        };
        if let Err(e) = sink.write_all(text.as_bytes()).and_then(|_| sink.flush()) {
            write_err.get_or_insert(e);
        }
        // A report that could not be written whole is not committed (its temporary file goes).
        let committed = match write_err {
            None => sink.finish(),
            Some(error) => Err(OutputError::Io {
                path: args_output_name(&sink),
                action: "write the report to",
                error,
            }),
        };
        (incidents, limits, summary, committed)
    })
    .await;
    let (incidents, limits, summary, committed) = match result {
        Ok(r) => r,
        Err(e) => return fail(format!("the analysis stopped: {e}"), None),
    };
    if let Err(e) = committed.as_ref()
        && !e.is_broken_pipe()
    {
        return fail_output(e);
    }
    // OCSF lines carry no run summary: the limits go to stderr (every other format has them
    // in its summary).
    if flags.format == OutputFormat::Ocsf {
        for l in &limits {
            eprintln!(
                "warning: limit: {}",
                Safe(&report::analysis_view::limit_line(l))
            );
        }
    }
    let source_errors = summary.source_errors().count();
    for (name, e) in summary.source_errors() {
        eprintln!("error: {}: {}", Safe(name), Safe(e));
    }
    if summary.malformed > 0 {
        let level = if args.strict { "error" } else { "warning" };
        let examples: Vec<&String> = summary
            .sources
            .iter()
            .flat_map(|s| s.examples.iter())
            .take(5)
            .collect();
        eprintln!(
            "{level}: {}; first {}:",
            count(summary.malformed, "malformed line", "malformed lines"),
            flowkeeper_analyze::text::noun(examples.len() as u64, "example", "examples")
        );
        for ex in examples {
            eprintln!("  {}", Safe(ex));
        }
    }
    // One line per distinct warning (a thousand objects of one format share theirs).
    for (warning, (first, n)) in summary.source_warnings() {
        let more = match n {
            1 => String::new(),
            n => format!(" (and {} more)", count(n as u64 - 1, "source", "sources")),
        };
        eprintln!("warning: {}{more}: {}", Safe(first), Safe(warning));
    }
    let empty = nothing_analyzed(&summary, source_errors);
    if let Some((fatal, why)) = &empty {
        eprintln!("{}: {why}", if *fatal { "error" } else { "warning" });
    }
    if source_errors > 0
        || !discovery_failures.is_empty()
        || (args.strict && summary.malformed > 0)
        || empty.is_some_and(|(fatal, _)| fatal)
    {
        ExitStatus::Failure
    } else if fail_on.is_some_and(|level| incidents.iter().any(|i| i.severity >= level)) {
        ExitStatus::ActionNeeded
    } else {
        ExitStatus::Clean
    }
}

/// Why a run that read no record at all says nothing about the traffic ("No findings" of
/// empty sources is not an all-clear), when no source error says so already, and whether it
/// fails the run: sources that hold no record are an error (as an S3 prefix of empty objects
/// is), a time range that leaves every record out is a warning (a quiet period is an answer).
fn nothing_analyzed(summary: &analyze::RunSummary, source_errors: usize) -> Option<(bool, String)> {
    if summary.records > 0 || source_errors > 0 {
        return None;
    }
    let why = if summary.outside_range > 0 {
        format!(
            "all {} read are outside --since/--until",
            count(summary.outside_range, "record", "records")
        )
    } else {
        match summary.sources.len() {
            0 => "no source was read".to_owned(),
            1 => "the source holds no flow-log record".to_owned(),
            n => format!("none of the {n} sources holds a flow-log record"),
        }
    };
    Some((
        summary.outside_range == 0,
        format!(
            "no record was analyzed ({why}): these results say nothing about the traffic; \
             check the inputs and the time range"
        ),
    ))
}
