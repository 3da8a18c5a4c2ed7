//! `flowkeeper analyze --engine athena`: resolves the table from the config (`--destination`,
//! `--flow-log`, or the config's only S3 destination; `--database/--table` rename it as for
//! `export athena`), renders the analysis queries from the rule packs with `--since/--until` as
//! partition predicates, runs them in Athena ([`crate::analyze::athena::run`]), decodes the
//! rows ([`crate::analyze::athena::rows`]) and prints them through the local engine's
//! renderers. Exit 1 on any failed, cancelled or timed-out query (nothing is rendered), 2 when
//! a finding reaches `--fail-on`, 0 otherwise.

use std::io::Write;
use std::time::Duration;

use flowkeeper_analyze::{Analysis, DetectorStats, EngineStats, Finding, Reports, RulePack};

use crate::analyze::athena::rows;
use crate::analyze::athena::run::{self, AthenaSummary, Target};
use crate::analyze::{RunSummary, SourceReport};
use crate::aws::athena::Poll;
use crate::cli::{AnalyzeArgs, AnalyzeEngine, OutputFormat};
use crate::config;
use crate::exit::ExitStatus;
use crate::export::athena::queries::{Query, QueryKind, analysis_queries};
use crate::export::athena::sql::TimeRange;
use crate::export::athena::{AccountProjection, SpecOptions, TableSpec, table_specs};
use crate::model::{Destination, FlowLogDestination};
use crate::output::OutputFile;
use crate::report;
use crate::settings::Settings;

use super::analyze::fail;

/// Whether this run is the Athena engine's (`--engine athena`, or an Athena-only flag, which
/// is refused there without it).
pub fn wanted(args: &AnalyzeArgs) -> bool {
    args.engine == AnalyzeEngine::Athena || !athena_flags(args).is_empty()
}

/// The Athena-only flags given, by name (for the usage error under `--engine local`).
pub fn athena_flags(args: &AnalyzeArgs) -> Vec<&'static str> {
    let mut given = Vec::new();
    let mut add = |on: bool, name| {
        if on {
            given.push(name)
        }
    };
    add(args.database.is_some(), "--database");
    add(args.table.is_some(), "--table");
    add(args.workgroup != "primary", "--workgroup");
    add(args.output_location.is_some(), "--output-location");
    add(args.destination.is_some(), "--destination");
    add(args.query_timeout != "30m", "--query-timeout");
    given
}

/// The local engine's flags given, by name (a usage error with athena).
fn local_flags(args: &AnalyzeArgs) -> Vec<&'static str> {
    let mut given = Vec::new();
    if !args.inputs.is_empty() {
        given.push("inputs");
    }
    if args.fields.is_some() {
        given.push("--fields");
    }
    if args.strict {
        given.push("--strict");
    }
    given
}

/// `90s`, `30m`, `1h`, `2h30m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(format!("`{text}`: unknown unit `{c}`")),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}`: a number must come before `{c}`"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(format!("`{text}` is not a positive duration"));
    }
    Ok(Duration::from_secs(total))
}

/// `s3://bucket/prefix` of a flow log's S3 ARN (`arn:aws:s3:::bucket/prefix`).
fn arn_bucket_prefix(arn: &str) -> (String, String) {
    let rest = arn.split(":::").nth(1).unwrap_or_default();
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (bucket.to_string(), prefix.trim_matches('/').to_string())
}

/// The S3 destinations of the config, by name.
fn s3_destinations(desired: &crate::model::DesiredState) -> Vec<String> {
    desired
        .destinations
        .iter()
        .filter(|(_, d)| matches!(d, Destination::S3(_)))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The spec of the table to query.
async fn resolve_table(
    flags: &Settings,
    args: &AnalyzeArgs,
    aws: &crate::aws::Aws,
) -> Result<TableSpec, ExitStatus> {
    let desired = config::load(&flags.config).map_err(|d| {
        eprintln!("{d}");
        fail(
            format!(
                "--engine athena reads the table's layout from the config {}",
                flags.config.display()
            ),
            Some("give the config with -c FILE (export athena uses the same)"),
        )
    })?;
    let opts = SpecOptions {
        database: args.database.clone(),
        table: args.table.clone(),
        entry: None,
        accounts: flags
            .filters
            .accounts
            .as_ref()
            .map(|a| a.iter().map(ToString::to_string).collect()),
        regions: flags.filters.regions.clone(),
        default_region: aws.default_region().or_else(|| flags.aws.region.clone()),
    };
    let in_config = |e: crate::export::athena::SpecError| {
        fail(
            format!("{}: {}", flags.config.display(), e.message),
            e.hint.as_deref(),
        )
    };
    if let Some(name) = &args.destination {
        let mut specs = table_specs(&desired, name, &opts).map_err(in_config)?;
        if specs.len() > 1 {
            let names: Vec<&str> = specs.iter().map(|s| s.table.as_str()).collect();
            return Err(fail(
                format!(
                    "destination `{name}` names one bucket per account or region: tables {}",
                    names.join(", ")
                ),
                Some("narrow it to one with --accounts ID and --regions REGION"),
            ));
        }
        return Ok(specs.remove(0));
    }
    if let Some(id) = &args.flow_log {
        let target = crate::aws::ec2::describe_flow_log(&aws.default_clients().ec2, id)
            .await
            .map_err(|e| fail(format!("--flow-log {id}: {e}"), e.hint()))?;
        let FlowLogDestination::S3 { arn, .. } = &target.destination else {
            return Err(fail(
                format!("{id} does not deliver to S3; Athena reads S3 only"),
                Some(
                    "run analyze without --engine athena (the local engine reads CloudWatch Logs)",
                ),
            ));
        };
        let (bucket, prefix) = arn_bucket_prefix(arn);
        for name in s3_destinations(&desired) {
            let Ok(specs) = table_specs(&desired, &name, &opts) else {
                continue;
            };
            if let Some(s) = specs.into_iter().find(|s| {
                s.bucket == bucket && s.prefix.as_deref().unwrap_or("").trim_matches('/') == prefix
            }) {
                return Ok(s);
            }
        }
        return Err(fail(
            format!(
                "{id} delivers to {arn}, which no S3 destination of {} describes",
                flags.config.display()
            ),
            Some(
                "add the destination to the config, or name the table's destination with --destination NAME",
            ),
        ));
    }
    match s3_destinations(&desired).as_slice() {
        [one] => {
            let mut specs = table_specs(&desired, one, &opts).map_err(in_config)?;
            if specs.len() == 1 {
                return Ok(specs.remove(0));
            }
            Err(fail(
                format!("destination `{one}` names one bucket per account or region"),
                Some("name the accounts and region with --accounts ID --regions REGION"),
            ))
        }
        [] => Err(fail(
            format!(
                "{} has no S3 destination; Athena reads S3 only",
                flags.config.display()
            ),
            None,
        )),
        many => Err(fail(
            format!(
                "{} has several S3 destinations ({})",
                flags.config.display(),
                many.join(", ")
            ),
            Some("choose one with --destination NAME, or --flow-log fl-..."),
        )),
    }
}

/// `summary.athena` added to the local engine's JSON (additive: the schema version is the local one's).
fn with_athena_summary(json: &str, athena: &AthenaSummary) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    if let Some(summary) = doc.get_mut("summary").and_then(|s| s.as_object_mut()) {
        summary.insert(
            "athena".into(),
            serde_json::to_value(athena).unwrap_or_default(),
        );
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| json.to_string()) + "\n"
}

/// The same for the NDJSON summary line.
fn ndjson_with_athena_summary(lines: &str, athena: &AthenaSummary) -> String {
    lines
        .lines()
        .map(|l| {
            let Ok(mut v) = serde_json::from_str::<serde_json::Value>(l) else {
                return format!("{l}\n");
            };
            if v.get("type").and_then(|t| t.as_str()) == Some("summary")
                && let Some(o) = v.as_object_mut()
            {
                o.insert(
                    "athena".into(),
                    serde_json::to_value(athena).unwrap_or_default(),
                );
            }
            serde_json::to_string(&v).unwrap_or_else(|_| l.to_string()) + "\n"
        })
        .collect()
}

/// The engine statistics SQL can tell: record counts from the totals, and per detection query
/// its findings (no keys are held, refused or late: SQL groups everything).
fn stats(reports: &Reports, queries: &[Query], findings: &[Finding]) -> EngineStats {
    let t = &reports.totals;
    EngineStats {
        records: t.records,
        duplicates: t.duplicates,
        untimed: t.untimed,
        max_time: t.last_seen,
        detectors: queries
            .iter()
            .filter_map(|q| match &q.kind {
                QueryKind::Detection(id) => Some(DetectorStats {
                    id: id.clone(),
                    findings: findings.iter().filter(|f| &f.detector == id).count() as u64,
                    ..DetectorStats::default()
                }),
                _ => None,
            })
            .collect(),
        ..EngineStats::default()
    }
}

pub async fn run(flags: &Settings, args: &AnalyzeArgs, pack: RulePack) -> ExitStatus {
    if args.engine == AnalyzeEngine::Local {
        return fail(
            format!(
                "{} only apply with --engine athena",
                athena_flags(args).join(", ")
            ),
            Some("add --engine athena, or leave them out to analyze local files"),
        );
    }
    let local = local_flags(args);
    if !local.is_empty() {
        return fail(
            format!("{} cannot be used with --engine athena", local.join(", ")),
            Some(
                "Athena reads the destination's table; drop the inputs, --fields and --strict, or use --engine local",
            ),
        );
    }
    if flags.format == OutputFormat::Csv {
        return fail(
            "analyze prints --format text, json, ndjson, html or ocsf",
            Some("csv is audit's format"),
        );
    }
    let (fail_on, since, until) = match super::analyze::run_options(args) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let timeout = match parse_duration(&args.query_timeout) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                format!("--query-timeout {e}"),
                Some("for example 90s, 30m or 1h"),
            );
        }
    };
    if let Some(o) = &args.output_location
        && !o.starts_with("s3://")
    {
        return fail(
            format!("--output-location `{o}` is not an s3:// URI"),
            Some("for example s3://my-athena-results/flowkeeper/"),
        );
    }
    let aws = match super::connect(&flags.aws).await {
        Ok(a) => a,
        Err(s) => return s,
    };
    let spec = match resolve_table(flags, args, &aws).await {
        Ok(s) => s,
        Err(s) => return s,
    };
    let accounts: Option<Vec<String>> = match &spec.accounts {
        AccountProjection::Injected => flags
            .filters
            .accounts
            .as_ref()
            .map(|a| a.iter().map(ToString::to_string).collect()),
        AccountProjection::Enum(_) => None,
    };
    let rendered = match analysis_queries(
        &pack,
        &spec,
        TimeRange { since, until },
        accounts.as_deref(),
    ) {
        Ok(r) => r,
        Err(e) => {
            let hint = match (&spec.accounts, &accounts) {
                (AccountProjection::Injected, None) => {
                    "name the accounts with --accounts 111111111111,222222222222"
                }
                _ => "remove or change that pack entry, or use --engine local",
            };
            return fail(format!("table {}: {e}", spec.qualified_name()), Some(hint));
        }
    };
    for (id, reason) in &rendered.skipped {
        eprintln!("warning: detection `{id}` does not run on Athena: {reason}");
    }
    // The output is opened before any query runs, and is never an input (the config, a pack).
    let inputs = args
        .rules
        .iter()
        .map(|p| p.as_path())
        .chain([flags.config.as_path()]);
    let mut file = match &args.output {
        Some(path) => match OutputFile::create(path, inputs) {
            Ok(f) => Some(f),
            Err(e) => return fail(&e, e.hint()),
        },
        None => None,
    };
    if !flags.quiet {
        eprintln!(
            "athena: running {} on {} in workgroup {}",
            flowkeeper_analyze::text::count(rendered.queries.len() as u64, "query", "queries"),
            spec.qualified_name(),
            args.workgroup
        );
    }
    let target = Target {
        database: spec.database.clone(),
        workgroup: args.workgroup.clone(),
        output_location: args.output_location.clone(),
        poll: Poll::from_env(timeout),
    };
    let verbose = flags.verbose > 0 && !flags.quiet;
    let client = aws.athena();
    let (results, athena) = match run::run_all(&client, &rendered.queries, &target, &mut |q| {
        if verbose {
            eprintln!(
                "athena: {} (execution {}): {} rows in {} pages, {} scanned, {} ms",
                q.id,
                q.execution_id,
                q.rows,
                q.pages,
                run::human_bytes(q.data_scanned_bytes),
                q.engine_ms
            );
        }
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return fail(&e, e.hint()),
    };
    let tables: Vec<(Query, rows::ResultTable)> = results
        .into_iter()
        .map(|(q, t)| {
            let table = rows::ResultTable {
                columns: t.columns,
                rows: t.rows,
            };
            (q, table)
        })
        .collect();
    let (mut findings, reports, timeline) = match rows::decode(&pack, &tables) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                &e,
                Some(
                    "the table's columns may not match the config's log format: compare `export athena` with the table in Glue",
                ),
            );
        }
    };
    if !flags.quiet {
        eprintln!("{}", run::scanned_line(&athena));
    }
    let summary = RunSummary {
        records: reports.totals.records,
        sources: athena
            .queries
            .iter()
            .map(|q| SourceReport {
                name: format!("athena:{}", q.id),
                records: q.rows,
                malformed: 0,
                examples: Vec::new(),
                error: None,
                warnings: Vec::new(),
            })
            .collect(),
        ..RunSummary::default()
    };
    findings.sort_by(|a, b| a.order(b));
    let stats = stats(&reports, &rendered.queries, &findings);
    let analysis = Analysis {
        findings: Vec::new(),
        reports,
        stats,
    };
    // The same grouping and renderers as the local engine: window findings become incidents.
    let windows = findings.len();
    let (incidents, limits) = super::analyze::group(&pack, findings, &analysis, &summary);
    let results = report::analysis_view::Results {
        incidents: &incidents,
        analysis: &analysis,
        run: &summary,
        limits: &limits,
        timeline: &timeline,
    };
    let text = match flags.format {
        OutputFormat::Text => report::analysis_table::render(&results, args.evidence),
        OutputFormat::Json => {
            with_athena_summary(&report::analysis_json::render(&results), &athena)
        }
        OutputFormat::Ndjson => ndjson_with_athena_summary(
            &report::analysis_json::closing_lines(&results, windows),
            &athena,
        ),
        OutputFormat::Html => report::analysis_html::render(&results),
        OutputFormat::Ocsf => report::analysis_ocsf::render(&results),
        OutputFormat::Csv => unreachable!("refused above"),
    };
    let written = match file.as_mut() {
        Some(f) => f.write_all(text.as_bytes()).and_then(|_| f.flush()),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            }
        }
    };
    if let Err(e) = written {
        return fail(format!("cannot write the report: {e}"), None);
    }
    if let Some(f) = file
        && let Err(e) = f.commit()
    {
        return fail(&e, e.hint());
    }
    super::plan::print_call_counts(flags);
    if fail_on.is_some_and(|level| incidents.iter().any(|i| i.severity >= level)) {
        ExitStatus::ActionNeeded
    } else {
        ExitStatus::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn the_summary_gets_an_athena_object_and_keeps_its_keys() {
        let json = "{\"schema_version\": 1, \"summary\": {\"records\": 3}, \"findings\": []}";
        let s = AthenaSummary {
            data_scanned_bytes: 5,
            ..AthenaSummary::default()
        };
        let v: serde_json::Value = serde_json::from_str(&with_athena_summary(json, &s)).unwrap();
        assert_eq!(v["summary"]["records"], 3);
        assert_eq!(v["summary"]["athena"]["data_scanned_bytes"], 5);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["schema_version", "summary", "findings"]);
    }

    #[test]
    fn a_flow_log_arn_gives_its_bucket_and_prefix() {
        assert_eq!(
            arn_bucket_prefix("arn:aws:s3:::logs/central/"),
            ("logs".to_string(), "central".to_string())
        );
        assert_eq!(
            arn_bucket_prefix("arn:aws:s3:::logs"),
            ("logs".to_string(), String::new())
        );
    }
}
