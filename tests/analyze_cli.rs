//! `flowkeeper analyze` on local files: findings with evidence, every output format, exit codes
//! for --fail-on and --strict, and a truncated gzip object reported while the rest is analyzed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::flowkeeper_within;

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

/// The key AWS gives an object of flow log `fl` delivered at `at` (Unix seconds) on
/// 2026-11-01, with `hash` for its unique part.
fn delivered_key(fl: &str, at: u64, hash: &str) -> String {
    let stamp = jiff::Timestamp::from_second(at as i64)
        .unwrap()
        .strftime("%Y%m%dT%H%MZ");
    format!(
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01/\
         111122223333_vpcflowlogs_us-east-1_{fl}_{stamp}_{hash}.log.gz"
    )
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
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(doc["summary"]["records"], 351);
    assert_eq!(doc["summary"]["malformed"], 0);
    assert_eq!(doc["summary"]["limits"], serde_json::json!([]));
    let findings = doc["findings"].as_array().unwrap();
    let ssh = findings
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .expect("ssh exposure found");
    assert_eq!(ssh["subject"]["ip"], "10.0.4.10");
    assert_eq!(ssh["ports"]["sample"], serde_json::json!([22]));
    assert_eq!(
        ssh["sources"]["sample"],
        serde_json::json!(["198.51.100.7"])
    );
    assert_eq!(ssh["id"].as_str().unwrap().len(), 16);
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
    assert_eq!(scan["subject"]["ip"], "203.0.113.66");
    assert!(
        !findings.iter().any(|f| {
            let ips = [&f["subject"]["ip"], &f["sources"]["sample"][0]];
            ips.iter()
                .any(|ip| ip.as_str().is_some_and(|s| s.starts_with("10.0.1.")))
        }),
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
    // Without --fail-on, a finding of medium or above is something to act on; `none` opts out.
    let default = flowkeeper(dir.path(), &["-q", "analyze", "AWSLogs"]);
    assert_eq!(default.status.code(), Some(2), "{}", stderr(&default));
    let none = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--fail-on", "none"],
    );
    assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
}

/// A header that misspells a field the pack reads (`dst-port`) and has no column of it
/// leaves every detection that needs the port blind on that source: an error naming the
/// field meant (stderr, JSON), exit 1, its records still analyzed. A misspelling of a field
/// nothing reads (`acount-id`) or an unknown column is a warning.
#[test]
fn a_misspelled_header_field_the_pack_reads_is_an_error_naming_the_field_meant() {
    let dir = tempfile::tempdir().unwrap();
    let text = "version acount-id srcaddr dstaddr srcport dst-port protocol packets bytes start end action log-status ecs-new-field\n\
                2 111122223333 198.51.100.7 10.0.4.10 51000 22 6 12 3000 1793491200 1793491260 ACCEPT OK x\n";
    std::fs::write(dir.path().join("typo.log"), text).unwrap();
    let out = flowkeeper(dir.path(), &["analyze", "typo.log", "--format", "json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: typo.log: its header names `dst-port` (did you mean `dstport`?)")
            && err.contains("correct the header line"),
        "{err}"
    );
    assert!(
        err.contains("warning: typo.log: its header names `acount-id`")
            && err.contains("did you mean `account-id`?")
            && err.contains("`ecs-new-field`, a field flowkeeper does not know"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = &doc["summary"]["sources"][0];
    assert!(
        source["error"].as_str().unwrap().contains("`dstport`"),
        "{doc}"
    );
    assert_eq!(source["records"], 1, "still analyzed: {doc}");
    assert_eq!(source["warnings"].as_array().unwrap().len(), 2, "{doc}");

    // Spelled right, the same line is read with its port: no error, and the SSH finding.
    let fixed = text.replace("dst-port", "dstport");
    std::fs::write(dir.path().join("typo.log"), fixed).unwrap();
    let out = flowkeeper(dir.path(), &["analyze", "typo.log", "--format", "json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["summary"]["sources"][0].get("error").is_none(), "{doc}");
    assert_ne!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A file none of whose lines is a record (a v5 file without its header line, read as the
/// default v2 format; a file that is no flow log) is an error naming it, not "No findings".
#[test]
fn a_source_with_no_readable_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let v5 = "5 111122223333 eni-0a 198.51.100.7 10.0.4.10 51000 22 6 12 3000 1793491200 1793491260 ACCEPT OK vpc-1 subnet-1 i-1 3 IPv4 198.51.100.7 10.0.4.10 us-east-1 use1-az1 - - - - ingress -\n";
    std::fs::write(dir.path().join("headerless.log"), v5.repeat(3)).unwrap();
    let good = records();
    gz(&dir.path().join(key("01", "a")), &good);
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "headerless.log",
            "AWSLogs",
            "--fail-on",
            "none",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("headerless.log")
            && err.contains("none of its 3 lines")
            && err.contains("--fields"),
        "{err}"
    );
    // The readable source was still analyzed.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("admin-port-exposure"), "{text}");
}

#[test]
fn ndjson_streams_typed_lines_and_html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join(key("01", "a")), &records());
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--format", "ndjson"],
    );
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    let n = |want: &str| types.iter().filter(|t| **t == want).count();
    assert!(n("finding") >= 2, "{types:?}");
    assert!(n("window") >= n("finding"), "{types:?}");
    // Window lines stream first, then one finding per incident, then the summary.
    let first_finding = types.iter().position(|t| *t == "finding").unwrap();
    assert!(
        types[..first_finding].iter().all(|t| *t == "window"),
        "{types:?}"
    );
    assert_eq!(&types[types.len() - 2..], ["summary", "reports"]);
    let summary = &lines[lines.len() - 2];
    assert_eq!(summary["findings"], n("finding"));
    assert_eq!(summary["windows"], n("window"));
    assert_eq!(summary["schema_version"], 2);
    assert!(summary["limits"].is_array(), "{summary}");
    let incident = &lines[first_finding];
    assert!(incident["evidence_at"][0].as_str().is_some(), "{incident}");

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
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<svg")
            && html.contains("admin-port-exposure")
            && html.contains("198.51.100.7")
    );
    // One inline script (filter and sort), no external resource, a CSP that forbids them.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("<script>\n"), "inline");
    assert!(html.contains("default-src 'none'"), "CSP");
    for external in ["http://", "https://", " src=", "href=", "@import"] {
        assert!(!html.contains(external), "{external} in {html}");
    }
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
        &[
            "-q",
            "analyze",
            "plain.log",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "malformed lines alone are a warning"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: 2 malformed lines; first examples:"),
        "{err}"
    );
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} / stderr {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// Regression (#8 case 1): `analyze LOG -o LOG` truncated the input before reading it, then
/// reported "No findings" and exited 0 under `--fail-on`.
#[test]
fn regression_an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("flows.log"), records()).unwrap();
    std::os::unix::fs::symlink("flows.log", d.join("link.log")).unwrap();
    std::fs::hard_link(d.join("flows.log"), d.join("hard.log")).unwrap();
    gz(&d.join("logs/a.log.gz"), &records());
    std::fs::write(d.join("pack.yaml"), "version: 1\n").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["flows.log", "--rules", "pack.yaml"], "pack.yaml"),
        (&["flows.log"], "flows.log"),
        (&["flows.log"], "link.log"),
        (&["flows.log"], "hard.log"),
        (&["flows.log"], "./logs/../flows.log"),
        (&["logs"], "logs/a.log.gz"),
    ];
    for (inputs, output) in cases {
        let mut args = vec!["-q", "analyze"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&["-o", output, "--fail-on", "high"]);
        let out = flowkeeper(d, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("refusing to write"), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(d.join("flows.log")).unwrap(),
        records()
    );
    let out = flowkeeper(d, &["-q", "analyze", "logs", "--format", "json"]);
    assert_eq!(
        json_of(&out)["summary"]["records"],
        351,
        "the gzip input is intact"
    );
    // A report elsewhere is written, and no temporary file is left beside it.
    let out = flowkeeper(d, &["-q", "analyze", "flows.log", "-o", "report.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(d.join("report.txt"))
            .unwrap()
            .contains("351 records")
    );
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "flows.log",
            "hard.log",
            "link.log",
            "logs",
            "pack.yaml",
            "report.txt"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(d.join("pack.yaml")).unwrap(),
        "version: 1\n"
    );
}

/// Regression (#8 case 1, the same class): stdout appended to an input (`analyze LOG >> LOG`)
/// wrote the report into the log it had just read.
#[test]
fn regression_stdout_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flows.log");
    std::fs::write(&log, records()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(["-q", "analyze", "flows.log"])
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::fs::OpenOptions::new().append(true).open(&log).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("refusing to write") && err.contains("stdout"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), records());
}

/// Regression (#8 case 2): a record of 18446744073709551615 bytes, or two of 10^19, panicked
/// with "attempt to add with overflow"; totals now saturate.
#[test]
fn regression_huge_byte_counts_saturate_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for (i, bytes) in [
        "18446744073709551615",
        "10000000000000000000",
        "10000000000000000000",
    ]
    .iter()
    .enumerate()
    {
        text += &format!(
            "2 111122223333 eni-x 10.0.1.{i} 198.51.100.9 40000 443 6 18446744073709551615 {bytes} {} {} ACCEPT OK\n",
            T0 + i as u64,
            T0 + 30
        );
    }
    std::fs::write(dir.path().join("big.log"), text).unwrap();
    for format in ["json", "text", "html", "ndjson"] {
        let out = flowkeeper(
            dir.path(),
            &["-q", "analyze", "big.log", "--format", format],
        );
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        if format == "json" {
            let doc = json_of(&out);
            assert_eq!(doc["summary"]["records"], 3);
            assert_eq!(doc["reports"]["totals"]["accepted"]["bytes"], u64::MAX);
        }
    }
}

/// Regression (#8 case 7): one bad entry aborted the whole run and named the top directory.
/// Each is now reported by its own path, everything else is analyzed, and the run exits 1.
#[test]
fn regression_bad_entries_are_reported_each_and_the_rest_is_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let logs = d.join("logs");
    gz(&logs.join("good.log.gz"), &records());
    std::os::unix::fs::symlink("no-such-target", logs.join("dangling.log")).unwrap();
    std::os::unix::fs::symlink("loop-b", logs.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", logs.join("loop-b")).unwrap();
    std::fs::create_dir(logs.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("sub/parent")).unwrap();
    let out = flowkeeper(
        d,
        &[
            "-q",
            "analyze",
            "logs",
            "missing.log.gz",
            "--format",
            "json",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let doc = json_of(&out);
    assert_eq!(
        doc["summary"]["records"], 351,
        "the good file is analyzed: {err}"
    );
    for bad in [
        "logs/dangling.log",
        "logs/loop-a",
        "logs/loop-b",
        "logs/sub/parent",
        "missing.log.gz",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("error: {bad}: "))),
            "{bad} named on its own: {err}"
        );
        assert!(
            doc["summary"]["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == bad && s["error"].is_string()),
            "{bad} in the summary: {}",
            doc["summary"]
        );
    }
    assert!(!err.contains("error: logs: "), "{err}");
}

/// Regression (#8 case 7): an unreadable subdirectory. Root reads any directory whatever its
/// mode, so when the test runs as root the binary runs as `nobody` (uid 65534) instead.
#[test]
fn regression_an_unreadable_directory_is_reported_and_the_rest_is_analyzed() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gz(&d.join("logs/good.log.gz"), &records());
    gz(&d.join("logs/locked/hidden.log.gz"), &records());
    for p in [d, &d.join("logs")] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for p in [
        d.join("logs/good.log.gz"),
        d.join("logs/locked/hidden.log.gz"),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let locked = d.join("logs/locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowkeeper"));
    cmd.args(["-q", "analyze", "logs", "--format", "json"])
        .current_dir(d)
        .env_clear();
    if std::fs::read_dir(&locked).is_ok() {
        cmd.uid(65534).gid(65534); // we are root: only another user really cannot read it
    }
    let out = cmd.output().unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: logs/locked: "), "{err}");
    assert_eq!(json_of(&out)["summary"]["records"], 351, "{err}");
}

/// Regression (#8 case 8): a FIFO inside a directory hung `analyze` forever. Walks read
/// regular files only and say what they skipped; a FIFO named on the command line is refused.
#[test]
fn regression_a_fifo_is_skipped_in_a_walk_and_refused_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gz(&d.join("logs/good.log.gz"), &records());
    let fifo = d.join("logs/pipe.log");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = flowkeeper_within(
        d,
        &[
            "-q",
            "analyze",
            "logs",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        Stdio::null(),
        30,
    );
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a skipped FIFO is not an error: {err}"
    );
    assert!(
        err.contains("logs/pipe.log") && err.contains("skipped"),
        "{err}"
    );
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 351);
    assert_eq!(doc["summary"]["skipped"][0]["name"], "logs/pipe.log");

    let out = flowkeeper_within(
        d,
        &[
            "-q",
            "analyze",
            "logs/pipe.log",
            "logs/good.log.gz",
            "--format",
            "json",
        ],
        Stdio::null(),
        30,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: logs/pipe.log: ") && err.contains("FIFO"),
        "{err}"
    );
    assert_eq!(json_of(&out)["summary"]["records"], 351);
}

/// Regression (#8 case 14): `-` was not accepted as stdin.
#[test]
fn regression_dash_reads_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flows.log");
    std::fs::write(&log, records()).unwrap();
    let out = flowkeeper_within(
        dir.path(),
        &["-q", "analyze", "-", "--format", "json"],
        Stdio::from(std::fs::File::open(&log).unwrap()),
        30,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 351);
    assert_eq!(doc["summary"]["sources"][0]["name"], "stdin");
    // gzip on stdin too.
    gz(&dir.path().join("flows.log.gz"), &records());
    let out = flowkeeper_within(
        dir.path(),
        &["-q", "analyze", "-", "--format", "json"],
        Stdio::from(std::fs::File::open(dir.path().join("flows.log.gz")).unwrap()),
        30,
    );
    assert_eq!(json_of(&out)["summary"]["records"], 351);
}

/// Regression (#8 case 12): a header with a field flowkeeper does not know (a future AWS
/// field) made the whole file malformed; unknown names are kept and passed through.
#[test]
fn regression_a_header_with_an_unknown_field_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER} future-field\n");
    for line in records().lines().skip(1) {
        text += &format!("{line} some-value\n");
    }
    gz(&dir.path().join("future.log.gz"), &text);
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "future.log.gz", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["malformed"], 0, "{}", doc["summary"]);
    assert_eq!(doc["summary"]["records"], 351);
}

/// Regression (#8 case 13): `--since` after `--until` was accepted, and `--since 2025-02-30`
/// silently meant 2 March.
#[test]
fn regression_impossible_dates_and_reversed_ranges_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flows.log"), records()).unwrap();
    for (args, want) in [
        (&["--since", "2025-02-30"][..], "--since"),
        (&["--until", "2026-13-01"][..], "--until"),
        (&["--since", "2026-11-01T25:00:00Z"][..], "--since"),
        (&["--since", "1969-12-31"][..], "--since"),
        (
            &["--since", "2026-11-02", "--until", "2026-11-01"][..],
            "--since",
        ),
    ] {
        let mut all = vec!["-q", "analyze", "flows.log"];
        all.extend_from_slice(args);
        let out = flowkeeper(dir.path(), &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // Offsets other than Z are understood; the range is still checked after converting.
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "flows.log",
            "--format",
            "json",
            "--since",
            "2026-11-01T02:00:00+02:00",
            "--until",
            "2026-11-01T01:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json_of(&out)["summary"]["records"], 351);
}

/// Regression (#8 case 14): escape sequences in file names reached the terminal raw.
#[test]
fn regression_control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "evil\x1b[2J\x07.log";
    let mut text = records();
    text += "2 111122223333 eni-x 10.0.0.1 not-an-ip 1 2 6 1 1 1793491200 1793491260 ACCEPT OK\n";
    std::fs::write(dir.path().join(name), &text).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("bad\x1b]0;title\x07")).unwrap();
    for format in ["text", "html"] {
        let out = flowkeeper(dir.path(), &["analyze", ".", "--format", format]);
        let err = stderr(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
        assert!(
            !stdout.contains('\x1b') && !stdout.contains('\x07'),
            "{stdout:?}"
        );
        assert!(err.contains("evil\\x1b[2J\\x07.log:353:"), "{err}");
        assert!(err.contains("bad\\x1b]0;title\\x07"), "{err}");
        assert!(
            stdout.contains("evil\\x1b[2J\\x07.log"),
            "{format}: {stdout}"
        );
    }
}

/// Regression (#8 case 14): the HTML report left out source errors and malformed lines, and
/// its timeline counted both ends of a double-ended flow where the summary counted one.
#[test]
fn regression_html_shows_source_problems_and_counts_like_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for i in 0..40u64 {
        // Each flow is logged by both ends (the dedupe drops the second).
        for eni in ["eni-a", "eni-b"] {
            text += &format!(
                "2 111122223333 {eni} 10.0.1.5 10.0.2.6 {} 443 6 10 1000 {} {} ACCEPT OK\n",
                30000 + i,
                T0 + i,
                T0 + i + 10
            );
        }
    }
    text += "2 111122223333 eni-x 10.0.0.1 not-an-ip 1 2 6 1 1 1793491200 1793491260 ACCEPT OK\n";
    std::fs::write(dir.path().join("flows.log"), &text).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("gone.log")).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "flows.log", "gone.log", "--format", "html"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("gone.log") && html.contains("Source errors"),
        "{html}"
    );
    assert!(
        html.contains("flows.log:82:"),
        "malformed example shown: {html}"
    );
    let json = flowkeeper(
        dir.path(),
        &["-q", "analyze", "flows.log", "--format", "json"],
    );
    let doc = json_of(&json);
    let accepted = doc["reports"]["totals"]["accepted"]["flows"]
        .as_u64()
        .unwrap();
    assert_eq!(accepted, 40);
    // Every timeline bar's title says "<time> accepted N rejected M".
    let in_timeline: u64 = html
        .split("<title>")
        .skip(1)
        .filter_map(|t| {
            let title = t.split("</title>").next().unwrap();
            let n = title.split(" accepted ").nth(1)?;
            Some(n.split(' ').next().unwrap().parse::<u64>().unwrap())
        })
        .sum();
    assert_eq!(in_timeline, accepted, "{html}");
    assert!(
        html.contains(&format!("accepted {accepted} flows")),
        "{html}"
    );
}

/// Regression (#8 case 14): "1 findings", "1 source(s)", "1 malformed line(s)".
#[test]
fn regression_counts_are_pluralized() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEADER}\n2 111122223333 eni-bastion 198.51.100.7 10.0.4.10 51000 22 6 20 4249 {} {} ACCEPT OK\n2 1 eni-x 10.0.0.1 bad 1 2 6 1 1 1 2 ACCEPT OK\n",
        T0,
        T0 + 60
    );
    std::fs::write(dir.path().join("one.log"), text).unwrap();
    let out = flowkeeper(dir.path(), &["analyze", "one.log", "--format", "html"]);
    let err = stderr(&out);
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("analyzing 1 source with "), "{err}");
    assert!(err.contains("1 malformed line;"), "{err}");
    assert!(!err.contains("(s)"), "{err}");
    assert!(
        html.contains("1 finding;") && html.contains("1 record,"),
        "{html}"
    );
    assert!(html.contains("1 malformed line,"), "{html}");
}

/// Review regression: with the input on stdin, `-o` onto that same file replaced it with the
/// report. Stdin's file is an input like a named one.
#[test]
fn regression_an_output_onto_the_file_behind_stdin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flows.log");
    std::fs::write(&log, records()).unwrap();
    let out = flowkeeper_within(
        dir.path(),
        &["-q", "analyze", "-", "-o", "flows.log"],
        Stdio::from(std::fs::File::open(&log).unwrap()),
        30,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), records());
}

/// Review regression: the same file named twice (`a.log ./a.log`, `dir dir/a.log`) was read
/// twice, doubling its traffic; it is read once and the repeat is listed as skipped.
#[test]
fn regression_the_same_file_named_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    std::fs::write(dir.path().join("d/a.log"), records()).unwrap();
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "d",
            "d/a.log",
            "./d/a.log",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 351);
    assert!(
        stderr(&out).contains("the same file as d/a.log"),
        "{}",
        stderr(&out)
    );
}

/// Probe regression: a copy of a delivered object (a download beside a second sync of the
/// bucket) was read as another object, doubling its traffic. AWS names each delivered object
/// uniquely, so the copy is skipped and says which object it copies; a same-named file
/// whose name is not AWS's is still read.
#[test]
fn regression_a_copy_of_a_delivered_object_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let name = key("01", "20261101T0000Z_abcd1234");
    gz(&dir.path().join("sync-1").join(&name), &records());
    gz(&dir.path().join("sync-2").join(&name), &records());
    gz(&dir.path().join("a/flows.log.gz"), &records());
    gz(&dir.path().join("b/flows.log.gz"), &records());
    let out = flowkeeper(
        dir.path(),
        &[
            "-q", "analyze", "sync-1", "sync-2", "a", "b", "--format", "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 3 * 351);
    let skipped = doc["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["name"], format!("sync-2/{name}"));
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("a copy of sync-1/{name}")),
        "{skipped:?}"
    );
}

/// Probe regression: a directory of empty objects, or a time range that leaves out every
/// record, said "No findings" with exit 0 and nothing on stderr. Sources without a record
/// are an error (exit 1, as an S3 prefix of empty objects is); a time range that leaves out
/// every record exits 0 and warns that nothing was analyzed.
#[test]
fn regression_a_run_that_reads_no_record_says_it_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join("empty/a.log.gz"), "");
    std::fs::write(dir.path().join("empty/b.log"), "").unwrap();
    std::fs::write(dir.path().join("one.log"), records()).unwrap();
    let out = flowkeeper(dir.path(), &["analyze", "empty"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "error: no record was analyzed (none of the 2 sources holds a flow-log record)"
        ),
        "{}",
        stderr(&out)
    );
    let out = flowkeeper(dir.path(), &["analyze", "one.log", "--since", "2027-01-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "warning: no record was analyzed (all 351 records read are outside --since/--until)"
        ),
        "{}",
        stderr(&out)
    );
    let out = flowkeeper(dir.path(), &["analyze", "one.log"]);
    assert!(
        !stderr(&out).contains("no record was analyzed"),
        "{}",
        stderr(&out)
    );
}

/// Probe regression: a misspelled `--fields` name was reported per source as "its header
/// names `srcprot`" after the whole run; it is a usage error before anything is read.
#[test]
fn regression_a_misspelled_fields_name_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("h.log"),
        "10.0.0.1 203.0.113.9 40000 443 6 10 1000 1793491200 1793491260 ACCEPT\n",
    )
    .unwrap();
    let fields = "srcaddr dstaddr srcprot dstport protocol packets bytes start end action";
    let out = flowkeeper(dir.path(), &["analyze", "h.log", "--fields", fields]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("--fields: `srcprot` is not a flow-log field (did you mean `srcport`?)"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    let fields = fields.replace("srcprot", "srcport");
    let out = flowkeeper(dir.path(), &["analyze", "h.log", "--fields", &fields]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Review regression: a closed stderr (`2>&1 | head -c 10`) made every error path panic with
/// exit 101; it ends with exit 1.
#[test]
fn regression_a_closed_stderr_is_exit_1_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(["validate", "-c", "missing.yaml"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the reader goes away before anything is written
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

/// Benign web traffic, SSH and RDP from the internet to two hosts, and one scanner probing
/// 120 ports in each of 13 five-minute windows.
fn incident_records() -> String {
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
    for w in 0..13u64 {
        for p in 1..=120u64 {
            let t = T0 + w * 300 + p;
            out += &format!(
                "2 111122223333 eni-app 203.0.113.66 10.0.2.10 55555 {p} 6 1 40 {t} {} REJECT OK\n",
                t + 1
            );
        }
    }
    out
}

fn incident_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flows.log"), incident_records()).unwrap();
    dir
}

/// #11: the same scan in 13 windows is one finding (incident) that says 13, in every format;
/// before, JSON, the table and HTML had 13 findings. NDJSON still streams the 13 windows.
#[test]
fn regression_thirteen_windows_of_one_scanner_are_one_finding_in_every_format() {
    let dir = incident_dir();
    let run = |format: &str| {
        flowkeeper(
            dir.path(),
            &["-q", "analyze", "flows.log", "--format", format],
        )
    };
    let doc = json_of(&run("json"));
    let scans: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "port_scan")
        .collect();
    assert_eq!(scans.len(), 1, "{scans:?}");
    assert_eq!(scans[0]["windows"], 13);
    assert_eq!(scans[0]["subject"]["ip"], "203.0.113.66");
    assert_eq!(scans[0]["flows"], 13 * 120);
    assert_eq!(scans[0]["first_seen"], T0 + 1);

    let ndjson = String::from_utf8(run("ndjson").stdout).unwrap();
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |t: &str| {
        lines
            .iter()
            .filter(|l| l["type"] == t && l["kind"] == "port_scan")
            .count()
    };
    assert_eq!((of("window"), of("finding")), (13, 1), "{ndjson}");

    let text = String::from_utf8(run("text").stdout).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("port-scan")).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(
        rows[0].contains("13×5m") && rows[0].contains("1.5k"),
        "{text}"
    );

    let html = String::from_utf8(run("html").stdout).unwrap();
    assert_eq!(
        html.matches("data-detector=\"port-scan\"").count(),
        1,
        "{html}"
    );

    let ocsf = String::from_utf8(run("ocsf").stdout).unwrap();
    let scans: Vec<Value> = ocsf
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["finding_info"]["analytic"]["uid"] == "port-scan")
        .collect();
    assert_eq!(scans.len(), 1, "{ocsf}");
    assert_eq!(scans[0]["count"], 13);
}

/// `--format ocsf`: one Detection Finding per incident (as many lines as JSON has findings),
/// the same `finding_info.uid` on every run (the incident id), evidence pointers as
/// observables; `--fail-on` counts incidents.
#[test]
fn ocsf_is_one_detection_finding_per_incident_with_a_stable_uid() {
    let dir = incident_dir();
    let ocsf = |extra: &[&str]| {
        let mut args = vec!["-q", "analyze", "flows.log", "--format", "ocsf"];
        args.extend_from_slice(extra);
        flowkeeper(dir.path(), &args)
    };
    let first = ocsf(&[]);
    assert_eq!(first.status.code(), Some(2), "{}", stderr(&first));
    let events: Vec<Value> = String::from_utf8_lossy(&first.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let doc = json_of(&flowkeeper(
        dir.path(),
        &["-q", "analyze", "flows.log", "--format", "json"],
    ));
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(events.len(), findings.len());
    assert!(events.len() >= 3, "{events:?}");
    for (e, f) in events.iter().zip(findings) {
        assert_eq!(e["class_uid"], 2004);
        assert_eq!(e["type_uid"], 200401);
        assert_eq!(e["metadata"]["version"], "1.3.0");
        assert_eq!(e["finding_info"]["uid"], f["id"], "same order, same id");
        let pointers: Vec<&Value> = e["observables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type_id"] == 10)
            .map(|o| &o["value"])
            .collect();
        assert_eq!(pointers.len(), f["evidence_at"].as_array().unwrap().len());
        assert_eq!(pointers[0], &f["evidence_at"][0]);
        assert!(
            pointers[0].as_str().unwrap().starts_with("flows.log:"),
            "{e}"
        );
    }
    let again: Vec<Value> = String::from_utf8_lossy(&ocsf(&[]).stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let uids = |es: &[Value]| {
        es.iter()
            .map(|e| e["finding_info"]["uid"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(uids(&events), uids(&again));
    assert_eq!(ocsf(&["--fail-on", "high"]).status.code(), Some(2));
    assert_eq!(ocsf(&["--fail-on", "critical"]).status.code(), Some(0));
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (UPDATE_GOLDEN=1 rewrites it after an intended change)",
        path.display()
    );
}

/// The table: one line per incident, human units, a footer with totals and limits, every
/// line within 120 columns; `--evidence` adds each incident's summary and pointers under it.
#[test]
fn table_matches_the_golden_files_and_fits_120_columns() {
    let dir = incident_dir();
    for (args, file) in [
        (vec!["-q", "analyze", "flows.log"], "analyze_table.txt"),
        (
            vec!["-q", "analyze", "flows.log", "--evidence"],
            "analyze_table_evidence.txt",
        ),
    ] {
        let out = flowkeeper(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        golden(file, &text);
    }
}

/// Limits are in every format's summary: the engine's (keys refused) and the grouper's
/// (incidents capped); OCSF, which has no summary line, says them on stderr.
#[test]
fn limits_are_reported_in_every_format() {
    let dir = incident_dir();
    std::fs::write(
        dir.path().join("small.yaml"),
        "version: 1\nsettings:\n  max_incidents: 1\n  max_keys: 2\n",
    )
    .unwrap();
    let run = |format: &str| {
        flowkeeper(
            dir.path(),
            &[
                "-q",
                "analyze",
                "flows.log",
                "--rules",
                "small.yaml",
                "--format",
                format,
            ],
        )
    };
    let doc = json_of(&run("json"));
    let limits = doc["summary"]["limits"].as_array().unwrap();
    let what: Vec<&str> = limits.iter().map(|l| l["what"].as_str().unwrap()).collect();
    assert!(what.contains(&"incidents_capped"), "{limits:?}");
    assert!(what.contains(&"refused_keys"), "{limits:?}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    let capped = limits
        .iter()
        .find(|l| l["what"] == "incidents_capped")
        .unwrap();
    assert!(capped["count"].as_u64().unwrap() >= 1, "{capped}");

    let ndjson = String::from_utf8(run("ndjson").stdout).unwrap();
    let summary: Value = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["type"] == "summary")
        .unwrap();
    assert_eq!(summary["limits"].as_array().unwrap().len(), limits.len());

    let text = String::from_utf8(run("text").stdout).unwrap();
    assert!(text.contains("LIMITS reached"), "{text}");
    assert!(text.contains("incidents, incidents capped"), "{text}");
    assert!(text.contains(", keys refused ("), "{text}");

    let html = String::from_utf8(run("html").stdout).unwrap();
    assert!(
        html.contains("id=\"limits\"") && html.contains("incidents capped"),
        "{html}"
    );

    let ocsf = run("ocsf");
    let err = stderr(&ocsf);
    assert!(
        err.contains("warning: limit: incidents, incidents capped"),
        "{err}"
    );

    // Without a limit hit, the table says so and JSON has none.
    let clean = flowkeeper(dir.path(), &["-q", "analyze", "flows.log"]);
    assert!(String::from_utf8_lossy(&clean.stdout).contains("limits: none reached"));
}

/// `--discover` without any region to look in is a usage error (exit 1) that says what to
/// give, before anything is read; `--format csv` is refused the same way.
#[test]
fn discover_without_a_region_and_csv_are_errors() {
    let dir = incident_dir();
    let out = flowkeeper(dir.path(), &["-q", "analyze", "flows.log", "--discover"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--discover needs a region"), "{err}");
    assert!(out.stdout.is_empty());
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "flows.log", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("html or ocsf"), "{}", stderr(&out));
}

/// Probe regression: one interface logged by two flow logs (both delivering to one bucket)
/// doubled every count, and a 600 MB upload read as a 1.1 GiB high exfiltration. The second
/// log's records of a flow are now views of the first's (the AWS object names tell the
/// flow logs apart), the run says which interface is logged twice, and the first interval
/// (read before the second log was known) is the only one counted twice.
#[test]
fn regression_an_interface_logged_by_two_flow_logs_counts_each_flow_once() {
    let dir = tempfile::tempdir().unwrap();
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
                  packets bytes start end action tcp-flags flow-direction traffic-path";
    let t = 1_793_491_200u64;
    for (fl, hash) in [("fl-0aaa", "0f0f"), ("fl-0bbb", "0e0e")] {
        for slot in 0..6u64 {
            let at = t + slot * 600;
            let name = delivered_key(fl, at, &format!("{hash}{slot}"));
            let line = format!(
                "5 111122223333 eni-web 10.0.1.10 203.0.113.50 40000 443 6 70000 100000000 \
                 {at} {} ACCEPT 2 egress 8",
                at + 600
            );
            gz(&dir.path().join(name), &format!("{header}\n{line}\n"));
        }
    }
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 12);
    assert_eq!(doc["reports"]["totals"]["accepted"]["bytes"], 700_000_000);
    assert_eq!(doc["findings"], serde_json::json!([]));
    let limits = doc["summary"]["limits"].as_array().unwrap();
    let twice: Vec<&Value> = limits
        .iter()
        .filter(|l| l["what"] == "logged_twice")
        .collect();
    assert_eq!(twice.len(), 1, "{limits:?}");
    assert_eq!(twice[0]["count"], 1);
    assert!(
        twice[0]["meaning"].as_str().unwrap().contains("(eni-web)"),
        "{twice:?}"
    );
}

/// Regression: a record of one packet and 10^9 bytes (no IP packet holds more than 65,535) was
/// believed: one line made a gigabyte high-severity exfiltration. A record whose bytes cannot
/// fit its packets (or that has bytes and no packets) is a malformed line saying why; the
/// records beside it are analyzed.
#[test]
fn regression_bytes_no_packets_can_hold_are_a_malformed_line_not_an_exfiltration() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}\n");
    for (i, (packets, bytes)) in [(1, 1_000_000_000u64), (0, 4_000), (20, 8_000)]
        .iter()
        .enumerate()
    {
        text += &format!(
            "2 111122223333 eni-x 10.0.1.10 198.51.100.9 4000{i} 443 6 {packets} {bytes} {} {} ACCEPT OK\n",
            T0 + i as u64,
            T0 + 30
        );
    }
    // The largest packets are still real: 1,000 of 65,535 bytes.
    text += &format!(
        "2 111122223333 eni-x 10.0.1.11 10.0.1.12 40009 2049 6 1000 65535000 {} {} ACCEPT OK\n",
        T0,
        T0 + 30
    );
    std::fs::write(dir.path().join("odd.log"), text).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "odd.log", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 2);
    assert_eq!(doc["summary"]["malformed"], 2, "{doc}");
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(doc["reports"]["totals"]["accepted"]["bytes"], 65_543_000);
    let err = stderr(&out);
    assert!(
        err.contains(
            "odd.log:2: `bytes` 1000000000 in 1 `packets`: more than 65535 bytes a packet"
        ) && err.contains("odd.log:3: `bytes` 4000 in 0 `packets`"),
        "{err}"
    );
}

/// Probe regression: one line ten years ahead of the rest (a corrupt line, a skewed clock)
/// moved the watermark: every window closed, every later record was late, and an SSH
/// exposure and a port scan after it gave "No findings." with exit 0. A leap of over an
/// hour moves the watermark only when more records confirm it; this one is a limit
/// (time_outliers), and the findings after it are reported.
#[test]
fn regression_one_record_years_ahead_does_not_make_the_rest_late() {
    let dir = tempfile::tempdir().unwrap();
    for slot in 0..24u64 {
        let at = T0 + slot * 300;
        let mut text = format!("{HEADER}\n");
        for i in 0..20 {
            text += &format!(
                "2 111122223333 eni-web 10.0.1.{} 10.0.2.10 {} 443 6 10 8400 {} {} ACCEPT OK\n",
                10 + i % 5,
                40000 + i,
                at + i,
                at + i + 30
            );
        }
        if slot == 5 {
            let future = at + 10 * 365 * 86_400;
            text += &format!(
                "2 111122223333 eni-web 10.0.1.10 10.0.2.10 40100 443 6 10 8400 {future} {} ACCEPT OK\n",
                future + 30
            );
        }
        if slot == 20 {
            text += &format!(
                "2 111122223333 eni-bastion 198.51.100.7 10.0.4.10 51000 22 6 20 4249 {at} {} ACCEPT OK\n",
                at + 60
            );
            for p in 1..=40 {
                text += &format!(
                    "2 111122223333 eni-app 203.0.113.66 10.0.2.10 55555 {p} 6 1 40 {at} {} REJECT OK\n",
                    at + 1
                );
            }
        }
        gz(
            &dir.path()
                .join(delivered_key("fl-0aaa", at, &format!("0f0f{slot}"))),
            &text,
        );
    }
    let out = flowkeeper(
        dir.path(),
        &[
            "-q",
            "analyze",
            "AWSLogs",
            "--format",
            "json",
            "--fail-on",
            "medium",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let doc = json_of(&out);
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"admin_port_exposure") && kinds.contains(&"port_scan"),
        "{kinds:?}"
    );
    let limits = doc["summary"]["limits"].as_array().unwrap();
    assert!(limits.iter().all(|l| l["what"] != "late"), "{limits:?}");
    let outliers: Vec<&Value> = limits
        .iter()
        .filter(|l| l["what"] == "time_outliers")
        .collect();
    assert_eq!(outliers.len(), 1, "{limits:?}");
    assert_eq!(outliers[0]["count"], 1);
}

/// Probe regression: a Transit Gateway flow log has no `action` field, so its records were
/// neither accepted nor rejected: 2 GiB leaving through central egress gave "No findings."
/// with nothing on stderr. Records without an action are now a limit (no_action) in every
/// format, saying which detections could not see them.
#[test]
fn regression_records_without_an_action_are_a_limit_not_a_silent_all_clear() {
    let dir = tempfile::tempdir().unwrap();
    let header = "version resource-type account-id tgw-id tgw-attachment-id \
                  tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id \
                  srcaddr dstaddr srcport dstport protocol packets bytes start end log-status \
                  type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded \
                  packets-lost-ttl-expired tcp-flags region flow-direction";
    let mut text = format!("{header}\n");
    for i in 0..40u64 {
        let t = T0 + i * 60;
        text += &format!(
            "6 TransitGateway 111122223333 tgw-0a tgw-attach-0spoke 111122223333 \
             444455556666 vpc-0spoke vpc-0egress 10.1.0.10 198.51.100.9 {} 443 6 40000 \
             53687091 {t} {} OK IPv4 0 0 0 0 2 us-east-1 ingress\n",
            40000 + i,
            t + 60
        );
    }
    std::fs::write(dir.path().join("tgw.log"), text).unwrap();
    for format in ["json", "table"] {
        let out = flowkeeper(
            dir.path(),
            &["-q", "analyze", "tgw.log", "--format", format],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if format == "json" {
            let doc = json_of(&out);
            let limits = doc["summary"]["limits"].as_array().unwrap();
            let none: Vec<&Value> = limits.iter().filter(|l| l["what"] == "no_action").collect();
            assert_eq!(none.len(), 1, "{limits:?}");
            assert_eq!(none[0]["count"], 40);
            assert!(
                none[0]["meaning"]
                    .as_str()
                    .unwrap()
                    .contains("Transit Gateway flow log"),
                "{none:?}"
            );
        } else {
            assert!(stdout.contains("no action"), "{stdout}");
            assert!(
                stdout.starts_with("No findings, but limits were reached"),
                "{stdout}"
            );
        }
    }
}
