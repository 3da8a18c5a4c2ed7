//! `flowkeeper export athena`: the `CREATE EXTERNAL TABLE` for one S3 destination of the
//! config and, with `--queries`, the analysis and investigation queries filled from the rule
//! pack; `--list` prints the query ids. No AWS calls: the config, `--accounts`, `--regions`
//! and `--region` say everything (an organization's accounts are projected as `injected`).

use std::io::Write;
use std::path::{Path, PathBuf};

use flowkeeper_analyze::RulePack;

use crate::analyze::input::parse_time;
use crate::cli::ExportAthenaArgs;
use crate::config;
use crate::exit::ExitStatus;
use crate::export::athena::queries::{Query, Skipped, analysis_queries, investigation_queries};
use crate::export::athena::sql::TimeRange;
use crate::export::athena::{AccountProjection, SpecOptions, TableSpec, ddl, table_specs};
use crate::output::{OutputError, OutputFile};
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &ExportAthenaArgs) -> ExitStatus {
    match export(settings, args) {
        Ok(()) => ExitStatus::Clean,
        Err(message) => {
            eprintln!("error: {message}");
            ExitStatus::Failure
        }
    }
}

fn export(settings: &Settings, args: &ExportAthenaArgs) -> Result<(), String> {
    if args.queries && args.output.is_none() {
        return Err(
            "--queries writes one file per query\n   = hint: give the directory with -o DIR".into(),
        );
    }
    let range = TimeRange {
        since: args
            .since
            .as_deref()
            .map(|s| time("--since", s))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| time("--until", s))
            .transpose()?,
    };
    if let (Some(since), Some(until)) = (range.since, range.until)
        && since > until
    {
        return Err(
            "--since is after --until\n   = hint: give the earlier time with --since".into(),
        );
    }
    let desired = config::load(&settings.config).map_err(|d| d.to_string())?;
    let opts = SpecOptions {
        database: Some(args.database.clone()),
        table: args.table.clone(),
        entry: args.entry.clone(),
        accounts: settings
            .filters
            .accounts
            .as_ref()
            .map(|a| a.iter().map(ToString::to_string).collect()),
        regions: settings.filters.regions.clone(),
        default_region: settings.aws.region.clone(),
    };
    let specs = table_specs(&desired, &args.destination, &opts)
        .map_err(|e| format!("{}: {e}", settings.config.display()))?;
    let pack = RulePack::default_pack();
    if args.list {
        let (queries, _) = all_queries(&pack, &specs[0], range, settings)?;
        let ids: Vec<String> = queries.iter().map(|q| q.id.clone()).collect();
        super::print_data(&format!("{}\n", ids.join("\n")));
        return Ok(());
    }
    if !args.queries {
        let text: Vec<String> = specs.iter().map(ddl::create_table).collect();
        let text = text.join(";\n\n");
        return match &args.output {
            None => {
                super::print_data(&text);
                Ok(())
            }
            Some(path) => write_file(path, &text, &settings.config),
        };
    }
    let dir = args.output.clone().unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = 0;
    for spec in &specs {
        let folder = if specs.len() == 1 {
            dir.clone()
        } else {
            dir.join(&spec.table)
        };
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        // Every query is rendered before anything is written: a refusal leaves no files.
        let (queries, skipped) = all_queries(&pack, spec, range, settings)?;
        write_file(
            &folder.join("create-table.sql"),
            &ddl::create_table(spec),
            &settings.config,
        )?;
        for q in &queries {
            write_file(
                &folder.join(format!("{}.sql", q.id)),
                &q.sql,
                &settings.config,
            )?;
        }
        written += queries.len() + 1;
        if spec.table == specs[0].table && !settings.quiet {
            for (id, reason) in &skipped {
                eprintln!("note: detection `{id}` is not exported: {reason}");
            }
        }
    }
    if !settings.quiet {
        eprintln!(
            "wrote {written} file(s) to {} ({} table(s))",
            dir.display(),
            specs.len()
        );
    }
    Ok(())
}

fn time(flag: &str, text: &str) -> Result<u64, String> {
    parse_time(text).map_err(|e| format!("{flag} `{text}`: {e}"))
}

/// Detections and reports (the order `analyze --engine athena` runs them), then the
/// investigations; and the detections left out with the reason.
fn all_queries(
    pack: &RulePack,
    spec: &TableSpec,
    range: TimeRange,
    settings: &Settings,
) -> Result<(Vec<Query>, Skipped), String> {
    let accounts: Option<Vec<String>> = match &spec.accounts {
        AccountProjection::Injected => settings
            .filters
            .accounts
            .as_ref()
            .map(|a| a.iter().map(ToString::to_string).collect()),
        AccountProjection::Enum(_) => None,
    };
    let hint = |e: crate::export::athena::sql::Untranslatable| match spec.accounts {
        AccountProjection::Injected if accounts.is_none() => {
            format!("{e}\n   = hint: name the accounts with --accounts 111111111111,222222222222")
        }
        _ => format!("{e}\n   = hint: remove or change that pack entry to export the queries"),
    };
    let rendered = analysis_queries(pack, spec, range, accounts.as_deref()).map_err(hint)?;
    let mut queries = rendered.queries;
    queries.extend(investigation_queries(pack, spec, range, accounts.as_deref()).map_err(hint)?);
    Ok((queries, rendered.skipped))
}

/// Writes one output file, never over the config (an input).
fn write_file(path: &Path, text: &str, config: &Path) -> Result<(), String> {
    let to_string = |e: OutputError| match e.hint() {
        Some(h) => format!("{e}\n   = hint: {h}"),
        None => e.to_string(),
    };
    let path: PathBuf = path.to_path_buf();
    OutputFile::create(&path, [config])
        .and_then(|mut f| {
            f.write_all(text.as_bytes())
                .map_err(|error| OutputError::Io {
                    path: path.clone(),
                    action: "write",
                    error,
                })?;
            f.commit()
        })
        .map_err(to_string)
}
