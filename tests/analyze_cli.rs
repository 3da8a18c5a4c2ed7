//! `flowkeeper analyze` on local files: findings with evidence, every output format, exit codes
//! for --fail-on and --strict, and a truncated gzip object reported while the rest is analyzed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn flowkeeper(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

fn gz(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// Benign web traffic, an SSH login from the internet, and a 300-port scan.
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
    out += &format!(
        "2 111122223333 eni-bastion 198.51.100.7 10.0.4.10 51000 22 6 20 4249 {} {} ACCEPT OK\n",
        T0 + 100,
        T0 + 160
    );
    for p in 1..=300 {
        out += &format!(
            "2 111122223333 eni-app 203.0.113.66 10.0.2.10 55555 {p} 6 1 40 {} {} REJECT OK\n",
            T0 + 200 + p / 10,
            T0 + 201 + p / 10
        );
    }
    out
}

fn key(day: &str, name: &str) -> String {
    format!(
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/{day}/111122223333_vpcflowlogs_us-east-1_fl-0123_{name}.log.gz"
    )
}

#[test]
fn findings_carry_evidence_and_fail_on_sets_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join(key("01", "a")), &records());
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "AWSLogs",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["summary"]["records"], 351);
    assert_eq!(doc["summary"]["malformed"], 0);
    let findings = doc["findings"].as_array().unwrap();
    let ssh = findings
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .expect("ssh exposure found");
    assert_eq!(ssh["dst_port"], 22);
    assert_eq!(ssh["src"], "198.51.100.7");
    assert!(
        ssh["evidence_at"][0]
            .as_str()
            .unwrap()
            .ends_with("_a.log.gz:52"),
        "{}",
        ssh["evidence_at"]
    );
    let scan = findings
        .iter()
        .find(|f| f["kind"] == "port_scan")
        .expect("port scan found");
    assert_eq!(scan["src"], "203.0.113.66");
    assert!(
        !findings
            .iter()
            .any(|f| f["src"].as_str().is_some_and(|s| s.starts_with("10.0.1."))),
        "benign web traffic raises nothing"
    );

    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--fail-on", "critical"],
    );
    assert_eq!(out.status.code(), Some(0), "nothing reaches critical");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("admin-port-exposure") && text.contains("351 records"),
        "{text}"
    );
}

#[test]
fn ndjson_streams_typed_lines_and_html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join(key("01", "a")), &records());
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--format", "ndjson"],
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert!(
        types.iter().filter(|t| **t == "finding").count() >= 2,
        "{types:?}"
    );
    assert_eq!(&types[types.len() - 2..], ["summary", "reports"]);
    assert_eq!(
        lines[lines.len() - 2]["findings"],
        types.iter().filter(|t| **t == "finding").count()
    );

    let report = dir.path().join("report.html");
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "AWSLogs",
            "--format",
            "html",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<svg")
            && html.contains("admin-port-exposure")
            && html.contains("198.51.100.7")
    );
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
}

#[test]
fn a_truncated_object_is_reported_and_the_rest_is_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join(key("01", "good")), &records());
    let broken = dir.path().join(key("01", "broken"));
    gz(
        &broken,
        &format!(
            "{HEADER}\n{}",
            "2 111122223333 eni-x 10.0.0.1 10.0.0.2 1 2 6 1 1 1793491200 1793491260 ACCEPT OK\n"
                .repeat(20000)
        ),
    );
    let bytes = std::fs::read(&broken).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--format", "json"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("_broken.log.gz: truncated gzip stream"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = doc["summary"]["records"].as_u64().unwrap();
    assert!(
        records > 351 && records < 351 + 20000,
        "the good object and the readable part: {records}"
    );
}

#[test]
fn malformed_lines_are_counted_with_examples_and_strict_makes_them_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = records();
    text += "2 111122223333 eni-x 10.0.0.1 not-an-ip 1 2 6 1 1 1793491200 1793491260 ACCEPT OK\n";
    text += "2 111122223333 eni-x 10.0.0.1\n";
    std::fs::write(dir.path().join("plain.log"), &text).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "plain.log", "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "malformed lines alone are a warning"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: 2 malformed line(s)"), "{err}");
    assert!(
        err.contains("plain.log:353:"),
        "examples name file and line: {err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["malformed"], 2);
    assert_eq!(
        doc["summary"]["sources"][0]["examples"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let strict = flowkeeper(
        dir.path(),
        &["-q", "analyze", "plain.log", "--strict", "--format", "json"],
    );
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn time_range_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join(key("01", "a")), &records());
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "AWSLogs",
            "--since",
            "2026-11-02",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["records"], 0);
    assert_eq!(doc["summary"]["outside_range"], 351);
    let bad = flowkeeper(dir.path(), &["analyze", "AWSLogs", "--fail-on", "severe"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a severity"));
    std::fs::write(
        dir.path().join("pack.yaml"),
        "version: 1\ndetectors:\n  - { id: x, detector: no_such_detector }\n",
    )
    .unwrap();
    let bad = flowkeeper(dir.path(), &["analyze", "AWSLogs", "--rules", "pack.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("pack.yaml"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Regression: with several reader threads, chunks reached the engine in a different order on
/// each run, so a flow logged at both ends was sometimes counted twice and totals changed.
#[test]
fn results_are_the_same_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    for k in 0..8u64 {
        let mut text = format!("{HEADER}\n");
        for i in 0..2000u64 {
            let t = T0 + k * 300 + i % 300;
            // Each flow is logged at both ends, the second end in the next object.
            text += &format!(
                "2 111122223333 eni-a{k} 10.0.1.{} 10.0.2.{} {} 443 6 10 {} {t} {} ACCEPT OK\n",
                i % 50,
                k,
                30000 + i,
                1000 + i,
                t + 10
            );
            if k > 0 {
                let tp = T0 + (k - 1) * 300 + i % 300;
                text += &format!(
                    "2 111122223333 eni-b{k} 10.0.1.{} 10.0.2.{} {} 443 6 10 {} {tp} {} ACCEPT OK\n",
                    i % 50,
                    k - 1,
                    30000 + i,
                    1000 + i,
                    tp + 10
                );
            }
        }
        gz(&dir.path().join(key("01", &format!("part{k}"))), &text);
    }
    let runs: Vec<Vec<u8>> = (0..3)
        .map(|_| {
            let out = flowkeeper(
                dir.path(),
                &["-q", "analyze", "AWSLogs", "--format", "json"],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        })
        .collect();
    let doc: Value = serde_json::from_slice(&runs[0]).unwrap();
    assert_eq!(
        doc["stats"]["duplicates"],
        7 * 2000,
        "every second end is recognised"
    );
    assert!(
        runs.iter().all(|r| r == &runs[0]),
        "identical output on every run"
    );
}
