//! cfn-lint (pinned in tests/support/pytools/requirements.txt, installed by
//! scripts/ensure-pytools) passes on every shipped template and every golden export; the
//! emulator round trip (tests/emulator_export.rs) lints the templates it exports fresh.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
}

/// Runs the linter on `files`: (exit code, its findings).
fn lint(files: &[PathBuf]) -> (i32, String) {
    let python = std::env::var("FLOWKEEPER_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(root().join("tests/support/pytools/lint_templates.py"))
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_template_is_clean() {
    let mut files = Vec::new();
    yaml_files(&root().join("templates/cloudformation"), &mut files);
    assert!(files.len() >= 3, "shipped templates: {files:?}");
    let (code, findings) = lint(&files);
    assert_eq!(code, 0, "cfn-lint on {files:?}:\n{findings}");
}

#[test]
fn every_golden_export_is_clean() {
    let mut files = Vec::new();
    yaml_files(
        &root().join("tests/golden/export/cloudformation"),
        &mut files,
    );
    assert!(files.len() >= 5, "golden exports: {files:?}");
    let (code, findings) = lint(&files);
    assert_eq!(code, 0, "cfn-lint on {files:?}:\n{findings}");
}

#[test]
fn a_broken_template_fails_the_lint() {
    // The check can fail: the shipped S3 template with a traffic type AWS does not know.
    let text =
        std::fs::read_to_string(root().join("templates/cloudformation/vpc-flow-logs-s3.yaml"))
            .unwrap()
            .replace("TrafficType: !Ref TrafficType", "TrafficType: SOME");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, text).unwrap();
    let (code, findings) = lint(&[bad]);
    assert_ne!(code, 0, "{findings}");
    assert!(
        findings.contains("E3030") || findings.contains("SOME"),
        "{findings}"
    );
}
