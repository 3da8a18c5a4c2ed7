//! `flowkeeper export cloudformation`: config → the same preparation as `plan` (targets,
//! discovery, failures) → per account a greenfield plan (`export::greenfield`) → templates
//! (`export::cloudformation`) written through `OutputFile`. Exit codes as `plan`: 1 when part
//! of the run could not be planned (nothing is written), 2 when AWS does not match the config
//! yet (the templates are still to deploy), 0 when it already does.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ExportCloudformationArgs;
use crate::exit::ExitStatus;
use crate::export::{self, cloudformation};
use crate::output::{OutputError, OutputFile};
use crate::plan::{self, PlanOptions};
use crate::settings::Settings;
use crate::targets;

use super::plan::{AccountRun, Prepared, Request};
use super::print_data;

pub async fn run(settings: &Settings, args: &ExportCloudformationArgs) -> ExitStatus {
    let req = match Request::from_args(settings, PlanOptions::default()) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let config_path = req.config_path.clone();
    if args.output.exists() && !args.output.is_dir() {
        eprintln!(
            "error: --output {}: not a directory\n   = hint: name a directory (it is created when missing)",
            args.output.display()
        );
        return ExitStatus::Failure;
    }
    let prepared = match super::plan::prepare_showing_progress(settings, req).await {
        Ok(p) => p,
        Err(status) => return status,
    };
    super::plan::print_errors(&prepared);
    super::plan::print_call_counts(settings);
    if prepared.has_errors() {
        eprintln!("error: no templates written: part of the run could not be planned (see above)");
        return ExitStatus::Failure;
    }
    let mut accounts = match greenfield_templates(&prepared) {
        Ok(a) => a,
        Err(status) => return status,
    };
    if args.parameters {
        let selecting: std::collections::BTreeSet<String> = prepared
            .desired
            .flow_logs
            .iter()
            .filter(|e| !matches!(e.select, crate::model::Selector::Ids(_)))
            .map(|e| e.name.clone())
            .collect();
        for a in &mut accounts {
            for t in a.regional.values_mut() {
                cloudformation::parameters::parameterize(t, &selecting);
            }
        }
    }
    let over = cloudformation::over_resource_limit(&accounts);
    if !over.is_empty() {
        eprintln!(
            "error: no templates written: CloudFormation allows {} resources per template; {}",
            cloudformation::MAX_RESOURCES,
            over.join(", ")
        );
        eprintln!(
            "   = hint: split the entry (select fewer resources per entry, e.g. VPCs instead of interfaces, or by tag) or export with --regions/--accounts per run"
        );
        return ExitStatus::Failure;
    }
    for a in &accounts {
        for note in &a.notes {
            eprintln!("warning: [{}] {note}", a.account);
        }
    }
    let files = match cloudformation::stackset_files(&accounts) {
        Ok(files) if !args.per_target && !args.parameters => {
            eprintln!(
                "the targets differ only by ids: writing StackSet-ready templates under stackset/ (--per-target for one template per account and region)"
            );
            files
        }
        Ok(_) => cloudformation::per_target_files(&accounts),
        Err(why) => {
            let targets: usize = accounts.iter().map(|a| a.regional.len()).sum();
            if targets > 1 && !args.per_target && !args.parameters {
                eprintln!(
                    "not StackSet-ready ({why}): writing one template per account and region"
                );
            }
            cloudformation::per_target_files(&accounts)
        }
    };
    if files.is_empty() {
        eprintln!("the config wants nothing in these accounts and regions: no templates written");
    }
    match write_all(&args.output, &files, &config_path) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("   = hint: {h}");
            }
            return ExitStatus::Failure;
        }
    }
    for stale in stale_outputs(&args.output, &files) {
        eprintln!(
            "warning: {} is from an earlier export in the other layout and was not rewritten: remove it, or a pipeline may deploy it",
            stale.display()
        );
    }
    let listing: String = files
        .iter()
        .map(|f| format!("{}\n", args.output.join(&f.path).display()))
        .collect();
    print_data(&listing);
    if prepared.is_empty() {
        ExitStatus::Clean
    } else {
        ExitStatus::ActionNeeded
    }
}

/// Templates of the other layout left in `root` by an earlier export (never deleted: they
/// may be someone's): `stackset/` beside per-target files, or account folders beside
/// `stackset/`. Only what this export did not just write.
fn stale_outputs(root: &Path, files: &[cloudformation::Rendered]) -> Vec<PathBuf> {
    let top =
        |f: &cloudformation::Rendered| f.path.components().next().map(|c| c.as_os_str().to_owned());
    let written: std::collections::BTreeSet<_> = files.iter().filter_map(top).collect();
    let stackset_now = written.iter().any(|t| t == "stackset");
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut stale: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && !written.contains(&e.file_name()))
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let is_account = name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit());
            if stackset_now {
                is_account
            } else {
                name == "stackset"
            }
        })
        .map(|e| e.path())
        .collect();
    stale.sort();
    stale
}

/// The greenfield plan of each account, rendered; a planner problem there is an error.
fn greenfield_templates(
    prepared: &Prepared,
) -> Result<Vec<cloudformation::AccountTemplates>, ExitStatus> {
    let mut out = Vec::new();
    let mut failed = false;
    for run in &prepared.runs {
        let plan = greenfield_plan(&prepared.desired, run);
        for pr in &plan.problems {
            let at = pr.region.as_deref().unwrap_or("account-wide");
            eprintln!(
                "error: [{}/{at}] {}: {}",
                run.target.account, pr.subject, pr.message
            );
            failed = true;
        }
        out.push(cloudformation::render(&plan));
    }
    if failed {
        eprintln!("error: no templates written: the export could not be planned (see above)");
        return Err(ExitStatus::Failure);
    }
    Ok(out)
}

/// What `apply` would do in this account if nothing flowkeeper makes existed yet.
pub fn greenfield_plan(desired: &crate::model::DesiredState, run: &AccountRun) -> plan::Plan {
    let scoped = targets::scope_for(desired, &run.target);
    let regions = &run.plan.regions;
    let resolved = plan::resolve(
        &scoped,
        &run.target.account,
        &run.ctx,
        &run.all_regions,
        regions,
    );
    let inventory = export::greenfield(&run.inventory, &resolved);
    plan::plan(
        &scoped,
        &run.ctx,
        &run.all_regions,
        regions,
        &inventory,
        PlanOptions::default(),
    )
}

/// Writes every file (each renamed into place once complete); never over the config. Every
/// path is checked first (opened and dropped: its temporary file goes), so a refused path
/// leaves the directory as it was; then each file is written and committed in turn.
fn write_all(
    root: &Path,
    files: &[cloudformation::Rendered],
    config: &Path,
) -> Result<(), OutputError> {
    let open = |f: &cloudformation::Rendered| -> Result<(PathBuf, OutputFile), OutputError> {
        let path = root.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| OutputError::Io {
                path: parent.to_path_buf(),
                action: "create",
                error,
            })?;
        }
        let out = OutputFile::create(&path, [config])?;
        Ok((path, out))
    };
    for f in files {
        drop(open(f)?);
    }
    for f in files {
        let (path, mut out) = open(f)?;
        out.write_all(f.text.as_bytes())
            .map_err(|error| OutputError::Io {
                path: path.clone(),
                action: "write",
                error,
            })?;
        out.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{stale_outputs, write_all};
    use crate::export::cloudformation::Rendered;

    /// Regression (review): a refused path (here the config) came after a file that was
    /// already written; now nothing is written.
    #[test]
    fn a_refused_path_leaves_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("111122223333").join("us-east-1.yaml");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, "version: 1\n").unwrap();
        let files = [
            Rendered {
                path: "111122223333/global.yaml".into(),
                text: "global\n".into(),
            },
            Rendered {
                path: "111122223333/us-east-1.yaml".into(),
                text: "regional\n".into(),
            },
        ];
        let err = write_all(dir.path(), &files, &config).unwrap_err();
        assert!(err.to_string().contains("input"), "{err}");
        assert!(!dir.path().join("111122223333/global.yaml").exists());
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "version: 1\n");
    }

    /// Regression (review): per-target files were written beside an earlier `stackset/` (and
    /// the other way round) without a word, and a pipeline deploying `stackset/` got old
    /// coverage.
    #[test]
    fn the_other_layout_left_by_an_earlier_export_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("stackset/parameters")).unwrap();
        std::fs::create_dir_all(dir.path().join("notes")).unwrap();
        let per_target = [Rendered {
            path: "111122223333/us-east-1.yaml".into(),
            text: String::new(),
        }];
        assert_eq!(
            stale_outputs(dir.path(), &per_target),
            [dir.path().join("stackset")]
        );
        std::fs::create_dir_all(dir.path().join("111122223333")).unwrap();
        std::fs::create_dir_all(dir.path().join("444455556666")).unwrap();
        let stackset = [Rendered {
            path: "stackset/regional.yaml".into(),
            text: String::new(),
        }];
        assert_eq!(
            stale_outputs(dir.path(), &stackset),
            [
                dir.path().join("111122223333"),
                dir.path().join("444455556666")
            ]
        );
        // A second per-target export: its own account folder is not stale.
        std::fs::remove_dir_all(dir.path().join("stackset")).unwrap();
        assert!(
            stale_outputs(dir.path(), &per_target)
                .iter()
                .all(|p| !p.ends_with("111122223333"))
        );
    }
}
