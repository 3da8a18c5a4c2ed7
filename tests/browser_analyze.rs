//! The analyze HTML report in headless Chromium (`scripts/browser-check`, the checker of the
//! audit and verify reports): made by the real binary from flow logs with findings of three
//! detectors and three severities, a malformed line and a source that cannot be read; it opens
//! with no console or page errors and no network request, the severity filter and the detector
//! filter each leave exactly the chosen rows visible, every sortable column header orders the
//! rows by its column in both directions, and a screenshot is saved.
//!
//! Needs Debian's chromium and playwright-core (`scripts/ensure-browser`, which `scripts/test`
//! runs). Without them this test fails with the checker's hint; only
//! `FLOWKEEPER_BROWSER_CHECK=skip` (set by `scripts/test`, with a banner, when the install
//! failed) skips it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

/// The checker's own deadline is 60 s; this one catches a checker that hangs regardless.
const DEADLINE: Duration = Duration::from_secs(120);
const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Benign web traffic; SSH and RDP from the internet to two hosts (high); two scanners, each a
/// port scan (medium) whose rejects are folded into its row; two clients refused many times on
/// one port, each a burst of rejects (low); a malformed line.
fn records() -> String {
    let mut out = format!("{HEADER}\n");
    for i in 0..50 {
        out += &format!(
            "2 111122223333 eni-web 10.0.1.{} 10.0.2.10 {} 443 6 10 8400 {} {} ACCEPT OK\n",
            i % 5 + 10,
            40000 + i,
            T0 + i,
            T0 + i + 30
        );
    }
    for (host, port) in [("10.0.4.10", 22), ("10.0.4.11", 3389)] {
        out += &format!(
            "2 111122223333 eni-bastion 198.51.100.7 {host} 51000 {port} 6 20 4249 {} {} ACCEPT OK\n",
            T0 + 100,
            T0 + 160
        );
    }
    for scanner in ["203.0.113.66", "203.0.113.67"] {
        for p in 1..=300 {
            out += &format!(
                "2 111122223333 eni-app {scanner} 10.0.2.10 55555 {p} 6 1 40 {} {} REJECT OK\n",
                T0 + 200 + p / 10,
                T0 + 201 + p / 10
            );
        }
    }
    // Two clients refused on one port, 250 times each: a reject burst (low) that is not a
    // scan (a scanner's own burst is folded into its scan's row).
    for client in ["203.0.113.90", "203.0.113.91"] {
        for i in 0..250 {
            out += &format!(
                "2 111122223333 eni-app {client} 10.0.2.10 {} 8443 6 1 40 {} {} REJECT OK\n",
                30000 + i,
                T0 + 200 + i / 10,
                T0 + 201 + i / 10
            );
        }
    }
    out += "2 111122223333 eni-x 10.0.0.1 not-an-ip<script>alert(1)</script> 1 2 6 1 1 1793491200 1793491260 ACCEPT OK\n";
    out
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

/// The report, written by `flowkeeper analyze --format html -o`.
fn report(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("flows.log"), records()).expect("write records");
    std::os::unix::fs::symlink("nowhere", dir.join("gone.log")).expect("symlink");
    let page = dir.join("analysis.html");
    let out = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args([
            "-q",
            "analyze",
            "flows.log",
            "gone.log",
            "--format",
            "html",
            "-o",
        ])
        .arg(&page)
        .current_dir(dir)
        .env_clear()
        .output()
        .expect("run flowkeeper");
    // A source that cannot be read is exit 1; the report is still written, with it shown.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("the report is written");
    assert!(html.contains("Source errors") && html.contains("gone.log"));
    assert!(html.contains("Malformed lines") && html.contains("flows.log:1154:"));
    assert!(!html.contains("<script>alert"), "escaped");
    // A scanner's burst of rejects is said on its scan's row, not a row of its own.
    assert_eq!(html.matches("also a reject burst").count(), 2, "{html}");
    page
}

fn check(page: &Path, shot: &Path, filter: &str, attr: &str) -> String {
    check_with(page, shot, filter, attr, &[])
}

fn check_with(page: &Path, shot: &Path, filter: &str, attr: &str, extra: &[&str]) -> String {
    let mut args: Vec<std::ffi::OsString> = vec![
        page.into(),
        "--screenshot".into(),
        shot.into(),
        "--filter".into(),
        filter.into(),
        "--rows".into(),
        "tr.incident".into(),
        "--attr".into(),
        attr.into(),
    ];
    args.extend(extra.iter().map(Into::into));
    let out = run_checker(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "browser check failed:\n{err}");
    err
}

#[test]
fn analysis_report_opens_without_errors_filters_and_sorts_in_chromium() {
    if std::env::var("FLOWKEEPER_BROWSER_CHECK").is_ok_and(|v| v == "skip") {
        eprintln!(
            "!!! SKIPPED analysis_report_opens_without_errors_filters_and_sorts_in_chromium: FLOWKEEPER_BROWSER_CHECK=skip (Chromium could not be installed)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let page = report(dir.path());
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-check");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shot = shots.join("analysis-report.png");
    let _ = std::fs::remove_file(&shot);

    let err = check(&page, &shot, "#severity-filter", "data-severity");
    for line in [
        "filter \"all\": 6 of 6 rows visible",
        "filter \"high\": 2 of 6 rows visible",
        "filter \"medium\": 2 of 6 rows visible",
        "filter \"low\": 2 of 6 rows visible",
    ] {
        assert!(err.contains(line), "{line:?} missing in:\n{err}");
    }
    let err = check(&page, &shot, "#detector-filter", "data-detector");
    for line in [
        "filter \"all\": 6 of 6 rows visible",
        "filter \"admin-port-exposure\": 2 of 6 rows visible",
        "filter \"port-scan\": 2 of 6 rows visible",
        "filter \"reject-burst\": 2 of 6 rows visible",
    ] {
        assert!(err.contains(line), "{line:?} missing in:\n{err}");
    }
    // Every sortable column with more than one value, clicked twice, orders the rows both ways.
    let err = check_with(
        &page,
        &shot,
        "#severity-filter",
        "data-severity",
        &["--sort", "#incidents th[data-sort]"],
    );
    for column in [
        "severity",
        "detector",
        "subject",
        "targets",
        "first seen (UTC)",
        "last seen (UTC)",
        "flows",
        "bytes",
    ] {
        for dir in ["ascending", "descending"] {
            let line = format!("sort \"{column}\" {dir}: 6 rows in order");
            assert!(err.contains(&line), "{line:?} missing in:\n{err}");
        }
    }
    // Every incident here spans one window: that column cannot show an order, and says so.
    let line = "sort \"windows\": not checked, every row has the same value";
    assert!(err.contains(line), "{line:?} missing in:\n{err}");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() >= 50_000, "the screenshot shows the page");
    eprintln!("screenshot: {}", shot.display());
}
