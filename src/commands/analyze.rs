//! `flowkeeper analyze`: resolves inputs (and `--flow-log`), loads the rule packs, runs the
//! pipeline in `analyze`, and renders the result. Exit 2 when a finding reaches `--fail-on`;
//! 1 for bad arguments, unreadable sources, or malformed lines under `--strict`.

use std::io::Write;
use std::sync::Arc;

use flowkeeper_analyze::{Finding, PackSource, RulePack, Severity};
use flowlog::Schema;

use crate::analyze::input::{Input, parse_time};
use crate::analyze::{self, Settings};
use crate::aws;
use crate::cli::{AnalyzeArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::model::FlowLogDestination;
use crate::report;

fn fail(message: impl std::fmt::Display, hint: Option<&str>) -> ExitStatus {
    eprintln!("error: {message}");
    if let Some(h) = hint {
        eprintln!("   = hint: {h}");
    }
    ExitStatus::Failure
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
            eprintln!("error: {e}");
        }
        eprintln!("{} problem(s) in the rule packs", errors.len());
        ExitStatus::Failure
    })
}

/// `--fields`: names separated by spaces or commas, or a `${...}` log format.
fn fields_schema(text: &str) -> Result<Schema, String> {
    if text.contains("${") {
        return Schema::from_log_format(text).map_err(|e| format!("--fields: {e}"));
    }
    Schema::from_names(text.split([' ', ',']).filter(|s| !s.is_empty()))
        .map_err(|e| format!("--fields: {e}"))
}

pub async fn run(global: &GlobalArgs, args: &AnalyzeArgs) -> ExitStatus {
    let pack = match load_pack(&args.rules) {
        Ok(p) => p,
        Err(s) => return s,
    };
    let fail_on = match args.fail_on.as_deref().map(|s| Severity::parse(s).ok_or(s)) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(s)) => {
            return fail(
                format!("--fail-on `{s}` is not a severity"),
                Some("info, low, medium, high or critical"),
            );
        }
    };
    let parse_opt = |t: &Option<String>, flag: &str| {
        t.as_deref()
            .map(parse_time)
            .transpose()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let (since, until) = match (
        parse_opt(&args.since, "--since"),
        parse_opt(&args.until, "--until"),
    ) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return fail(e, None),
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
    let needs_aws = args.flow_log.is_some() || inputs.iter().any(|i| !matches!(i, Input::Local(_)));
    let aws = if needs_aws {
        match super::connect(global, None).await {
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
        match target.destination {
            FlowLogDestination::S3 { arn, .. } => {
                let rest = arn.split(":::").nth(1).unwrap_or_default();
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let prefix = if prefix.is_empty() {
                    "AWSLogs/".to_string()
                } else {
                    format!("{prefix}/AWSLogs/")
                };
                inputs.push(Input::S3 {
                    bucket: bucket.to_string(),
                    prefix,
                });
                only_flow_log = Some(format!("_{id}_"));
            }
            FlowLogDestination::CloudwatchLogs { log_group, .. } => {
                inputs.push(Input::CloudWatch {
                    group: log_group,
                    stream_prefix: None,
                })
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
    let mut jobs = match analyze::plan_jobs(&inputs, aws.as_ref(), since, until).await {
        Ok(j) => j,
        Err(e) => return fail(e, None),
    };
    if let Some(marker) = &only_flow_log {
        jobs.retain(
            |j| !matches!(j, analyze::Job::S3 { key, .. } if !key.contains(marker.as_str())),
        );
    }
    let readers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let settings = Settings {
        jobs,
        fallback: Arc::new(fallback),
        since,
        until,
        readers,
    };
    if !global.quiet {
        eprintln!(
            "analyzing {} source(s) with {} detector(s)",
            settings.jobs.len(),
            pack.detectors.len()
        );
    }
    let mut sink: Box<dyn Write + Send> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return fail(format!("cannot write {}: {e}", path.display()), None),
        },
        None => Box::new(std::io::stdout()),
    };
    let format = global.format;
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        let mut streamed: Vec<Finding> = Vec::new();
        let mut write_err = None;
        let (analysis, summary, timeline) =
            analyze::run(&settings, aws.as_ref(), &handle, &pack, &mut |ready| {
                if format == OutputFormat::Ndjson
                    && let Err(e) = sink
                        .write_all(report::analysis_json::finding_lines(&ready).as_bytes())
                        .and_then(|_| sink.flush())
                {
                    write_err.get_or_insert(e);
                }
                streamed.extend(ready);
            });
        let mut findings = streamed.clone();
        let final_batch = analysis.findings.clone();
        findings.extend(final_batch.iter().cloned());
        findings.sort_by(|a, b| a.order(b));
        let text = match format {
            OutputFormat::Text => report::analysis_table::render(&findings, &analysis, &summary),
            OutputFormat::Json => report::analysis_json::render(&findings, &analysis, &summary),
            OutputFormat::Ndjson => {
                report::analysis_json::finding_lines(&final_batch)
                    + &report::analysis_json::closing_lines(findings.len(), &analysis, &summary)
            }
            OutputFormat::Html => {
                report::analysis_html::render(&findings, &analysis, &summary, &timeline)
            }
        };
        if let Err(e) = sink.write_all(text.as_bytes()).and_then(|_| sink.flush()) {
            write_err.get_or_insert(e);
        }
        (findings, summary, write_err)
    })
    .await;
    let (findings, summary, write_err) = match result {
        Ok(r) => r,
        Err(e) => return fail(format!("the analysis stopped: {e}"), None),
    };
    if let Some(e) = write_err.filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe) {
        return fail(format!("cannot write the report: {e}"), None);
    }
    let source_errors: Vec<_> = summary
        .sources
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| (&s.name, e)))
        .collect();
    for (name, e) in &source_errors {
        eprintln!("error: {name}: {e}");
    }
    if summary.malformed > 0 {
        let level = if args.strict { "error" } else { "warning" };
        eprintln!(
            "{level}: {} malformed line(s); first examples:",
            summary.malformed
        );
        for ex in summary
            .sources
            .iter()
            .flat_map(|s| s.examples.iter())
            .take(5)
        {
            eprintln!("  {ex}");
        }
    }
    if !source_errors.is_empty() || (args.strict && summary.malformed > 0) {
        ExitStatus::Failure
    } else if fail_on.is_some_and(|level| findings.iter().any(|f| f.severity >= level)) {
        ExitStatus::ActionNeeded
    } else {
        ExitStatus::Clean
    }
}
