//! The verify HTML report in headless Chromium (`scripts/browser-check`, the audit report's
//! checker): no console or page errors, no network requests, the status filter leaves exactly
//! the chosen rows visible, and a screenshot is saved.
//!
//! Needs Debian's chromium and playwright-core (`scripts/ensure-browser`, which `scripts/test`
//! runs). Without them this test fails with the checker's hint; only
//! `FLOWKEEPER_BROWSER_CHECK=skip` (set by `scripts/test`, with a banner, when the install
//! failed) skips it.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

use flowkeeper::report::verify_html;
use flowkeeper::verify::report::{
    Check, CheckResult, DeliveryStatus, FlowLogVerification, SCHEMA_VERSION, VerifyError,
    VerifyReport, VerifySummary,
};

/// The checker's own deadline is 60 s; this one catches a checker that hangs regardless.
const DEADLINE: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
}

fn check(name: &str, result: CheckResult, detail: &str, fix: Option<&str>) -> Check {
    Check {
        name: name.into(),
        result,
        detail: detail.into(),
        fix: fix.map(str::to_string),
    }
}

/// A ladder with every rung ok except `failing` (which fails with a fix).
fn ladder(failing: Option<&str>) -> Vec<Check> {
    ["status", "destination", "permissions", "evidence", "shape", "freshness"]
        .iter()
        .map(|n| match failing {
            Some(f) if f == *n => check(
                n,
                CheckResult::Failed,
                "the bucket policy grants s3:PutObject on AWSLogs/111122223333 (no /*) <b>x</b>",
                Some("{\"Sid\": \"FlowkeeperLogDeliveryWrite\", \"Resource\": \"arn:aws:s3:::acme/AWSLogs/111122223333/*\"}"),
            ),
            _ => check(n, CheckResult::Ok, "as expected", None),
        })
        .collect()
}

/// Seven flow logs: 3 delivering, 2 failing, 1 stale, 1 waiting.
fn report() -> VerifyReport {
    let rows = [
        (DeliveryStatus::Delivering, None),
        (DeliveryStatus::Delivering, None),
        (DeliveryStatus::Delivering, None),
        (DeliveryStatus::Failing, Some("permissions")),
        (DeliveryStatus::Failing, Some("shape")),
        (DeliveryStatus::Stale, Some("freshness")),
        (DeliveryStatus::Waiting, None),
    ];
    let flow_logs: Vec<FlowLogVerification> = rows
        .iter()
        .enumerate()
        .map(|(i, (status, failing))| FlowLogVerification {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            flow_log_id: format!("fl-0{i}"),
            resource_id: format!("vpc-0{i}<script>alert(1)</script>"),
            destination: "arn:aws:s3:::acme/vpc".into(),
            destination_type: "s3".into(),
            status: *status,
            checks: ladder(*failing),
            newest_delivery: Some("2026-12-01T22:55:00Z".into()),
            lag_seconds: Some(120),
            entry: Some("vpcs".into()),
        })
        .collect();
    let count = |s| flow_logs.iter().filter(|f| f.status == s).count();
    VerifyReport {
        schema_version: SCHEMA_VERSION,
        generated_at: "2026-12-01T23:00:00Z".into(),
        summary: VerifySummary {
            flow_logs: flow_logs.len(),
            delivering: count(DeliveryStatus::Delivering),
            failing: count(DeliveryStatus::Failing),
            waiting: count(DeliveryStatus::Waiting),
            stale: count(DeliveryStatus::Stale),
            ..Default::default()
        },
        flow_logs,
        errors: vec![VerifyError {
            account: Some("444455556666".into()),
            region: None,
            message: "cannot assume arn:aws:iam::444455556666:role/Audit".into(),
            hint: Some("check defaults.role_name".into()),
        }],
    }
}

fn run_checker(args: Vec<std::ffi::OsString>) -> Output {
    let mut cmd = Command::new(root().join("scripts/browser-check"));
    cmd.args(args);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(cmd.output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("scripts/browser-check did not start: {e}"),
        Err(_) => panic!("scripts/browser-check took longer than {DEADLINE:?}"),
    }
}

#[test]
fn verify_report_opens_without_errors_and_filters_by_status_in_chromium() {
    if std::env::var("FLOWKEEPER_BROWSER_CHECK").is_ok_and(|v| v == "skip") {
        eprintln!(
            "!!! SKIPPED verify_report_opens_without_errors_and_filters_by_status_in_chromium: FLOWKEEPER_BROWSER_CHECK=skip (Chromium could not be installed)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("verify.html");
    std::fs::write(&page, verify_html::render(&report())).expect("write report");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-check");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shot = shots.join("verify-report.png");
    let _ = std::fs::remove_file(&shot);
    let out = run_checker(vec![
        page.into(),
        "--screenshot".into(),
        shot.clone().into(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser check failed:\n{err}");
    for line in [
        "filter \"all\": 7 of 7 rows visible",
        "filter \"delivering\": 3 of 7 rows visible",
        "filter \"failing\": 2 of 7 rows visible",
        "filter \"stale\": 1 of 7 rows visible",
        "filter \"waiting\": 1 of 7 rows visible",
    ] {
        assert!(err.contains(line), "{line:?} missing in:\n{err}");
    }
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() >= 50_000, "the screenshot shows the page");
    eprintln!("screenshot: {}", shot.display());
}
