//! `flowkeeper analyze` on the cases a black-box probe found wrong (issue #11, session 4):
//! objects concatenated into one stream, inputs that hold nothing, distinct counts that are
//! estimates, single-packet TCP probes in v2 logs and clear-text services on several ports.
//! Every data set is a few literal lines written here.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::flowkeeper_within;

const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn flowkeeper(dir: &Path, args: &[&str]) -> Output {
    flowkeeper_within(dir, args, Stdio::null(), 120)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {} / stderr {}", stdout(out), stderr(out)))
}

fn gz(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

fn key(name: &str) -> String {
    format!(
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01/111122223333_vpcflowlogs_us-east-1_fl-0123_{name}.log.gz"
    )
}

/// One v2 record: `src:sport → dst:dport`, protocol, packets, bytes, at `t` for 1 s.
#[allow(clippy::too_many_arguments)]
fn v2(
    src: &str,
    dst: &str,
    sport: u16,
    dport: u16,
    proto: u8,
    packets: u64,
    bytes: u64,
    t: u64,
    action: &str,
) -> String {
    format!(
        "2 111122223333 eni-0a1 {src} {dst} {sport} {dport} {proto} {packets} {bytes} {t} {} {action} OK\n",
        t + 1
    )
}

fn of_kind<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// Benign web traffic: 20 requests and their replies.
fn benign(t: u64) -> String {
    let mut out = String::new();
    for i in 0..20u16 {
        out += &v2(
            "10.0.1.10",
            "10.0.2.10",
            40000 + i,
            443,
            6,
            10,
            8400,
            t,
            "ACCEPT",
        );
        out += &v2(
            "10.0.2.10",
            "10.0.1.10",
            443,
            40000 + i,
            6,
            8,
            20000,
            t,
            "ACCEPT",
        );
    }
    out
}

/// Regression (probe `stdin-concat`, the README's `zcat old/*.gz | flowkeeper analyze -`):
/// every repeated header line was a malformed line and `--strict` exited 1. A header line
/// inside a stream or a file switches the schema for the lines after it (here the second
/// object has its columns in another order) and line numbers stay the input's.
#[test]
fn regression_concatenated_objects_switch_the_schema_at_each_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{V2}\n{}", benign(T0));
    // Object 2: the same header again. Object 3: another column order, with a port scan.
    text += &format!("{V2}\n{}", benign(T0 + 60));
    text += "srcport srcaddr dstaddr dstport protocol packets bytes start end action\n";
    let scan_first_line = text.lines().count() + 1;
    for p in 1..=300u16 {
        text += &format!(
            "55555 203.0.113.66 10.0.2.10 {p} 6 1 40 {} {} REJECT\n",
            T0 + 120,
            T0 + 121
        );
    }
    let log = dir.path().join("all.log");
    std::fs::write(&log, &text).unwrap();
    let records = 40 + 40 + 300;
    // On stdin, plain and gzip, and as a file.
    gz(&dir.path().join("all.log.gz"), &text);
    for (args, input) in [
        (vec!["-"], Some("all.log")),
        (vec!["-"], Some("all.log.gz")),
        (vec!["all.log"], None),
        (vec!["all.log.gz"], None),
    ] {
        let stdin = input.map_or(Stdio::null(), |f| {
            Stdio::from(std::fs::File::open(dir.path().join(f)).unwrap())
        });
        let mut argv = vec!["-q", "analyze", "--strict", "--format", "json"];
        argv.extend(&args);
        let out = flowkeeper_within(dir.path(), &argv, stdin, 60);
        let doc = json_of(&out);
        assert_eq!(
            doc["summary"]["malformed"], 0,
            "{args:?}: {}",
            doc["summary"]
        );
        assert_eq!(doc["summary"]["records"], records, "{args:?}");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: a port scan is found: {}",
            stderr(&out)
        );
        let scans = of_kind(&doc, "port_scan");
        assert_eq!(scans.len(), 1, "{args:?}: {}", doc["findings"]);
        assert_eq!(scans[0]["subject"]["ip"], "203.0.113.66");
        let at = scans[0]["evidence_at"][0].as_str().unwrap();
        assert!(
            at.ends_with(&format!(":{scan_first_line}")),
            "{args:?}: {at} (want line {scan_first_line})"
        );
    }
}

/// Regression (probe `emptydir`): `analyze emptydir --fail-on low` said "No findings" and
/// exited 0, so a wrong path passed a CI gate. A directory with no file at all is an error
/// naming it (exit 1), like a missing path; the other inputs are still read, and an object
/// that exists but holds no records is not an error unless every source is such.
#[test]
fn regression_a_directory_with_nothing_to_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("emptydir/AWSLogs/111122223333")).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "emptydir", "--fail-on", "low"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("emptydir"), "{err}");
    assert!(err.contains("no files in this directory"), "{err}");
    assert!(err.contains("flow-log objects"), "{err}");
    // With a good input beside it: that one is read, the run still fails.
    gz(
        &dir.path().join("good").join(key("a")),
        &format!("{V2}\n{}", benign(T0)),
    );
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "emptydir", "good", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json_of(&out)["summary"]["records"], 40);
    // An object with no records (a header only, or nothing) is not an error beside others;
    // a run whose every source holds none is (its "No findings" says nothing).
    gz(&dir.path().join("quiet").join(key("b")), &format!("{V2}\n"));
    std::fs::write(dir.path().join("quiet/empty.log"), "").unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "quiet", "good", "--fail-on", "low"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = flowkeeper(dir.path(), &["-q", "analyze", "quiet", "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: no record was analyzed"),
        "{}",
        stderr(&out)
    );
}

/// `n` one-packet REJECTs from 185.220.101.8 to 10.20.1.50, ports `1..=n`, spread over
/// `secs` seconds from `t`.
fn scan(n: u32, t: u64, secs: u64) -> String {
    let mut out = format!("{V2}\n");
    for p in 1..=n {
        let at = t + u64::from(p - 1) * secs / u64::from(n);
        out += &v2(
            "185.220.101.8",
            "10.20.1.50",
            61000,
            p as u16,
            6,
            1,
            44,
            at,
            "REJECT",
        );
    }
    out
}

/// Regression (probe `fastscan 1000` and `65535`): a HyperLogLog estimate was shown as "≥"
/// (an estimate can be above the truth: ~1107 for 1000 ports), and 65,535 ports gave
/// ~72,662, more ports than there are. Estimates show as `~` and a port count stops at
/// 65,536.
#[test]
fn regression_estimated_counts_show_as_estimates_and_ports_stop_at_65536() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join("k/scan.log.gz"), &scan(1000, T0 + 60, 60));
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k"]);
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.contains("port-scan"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(!row.contains('≥'), "{row}");
    assert!(row.contains("10.20.1.50, ~1."), "{row}");
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    let s = &of_kind(&doc, "port_scan")[0];
    assert_eq!(s["ports"]["estimate"], true, "{}", s["ports"]);
    assert_eq!(s["ports"]["exact"], false);

    let all = tempfile::tempdir().unwrap();
    gz(
        &all.path().join("k/scan.log.gz"),
        &scan(65_535, T0 + 60, 60),
    );
    let out = flowkeeper(all.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    let s = &of_kind(&doc, "port_scan")[0];
    let count = s["ports"]["count"].as_u64().unwrap();
    assert!(count <= 65_536, "{}", s["ports"]);
    let summary = s["summary"].as_str().unwrap();
    let said: u64 = summary
        .split_whitespace()
        .find_map(|w| w.strip_prefix('~').and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(said <= 65_536, "{summary}");
}

/// Regression (probe `case2/slowscan`): 1,000 ports over 13 five-minute windows reported
/// "≥80 ports", one window's estimate, as if it were a lower bound of the whole incident.
/// The incident keeps the largest window's count and says so (`/5m` in the table,
/// `largest_window` in JSON, "ports in the largest window" in the summary).
#[test]
fn regression_an_incident_of_many_windows_says_its_count_is_one_windows() {
    let dir = tempfile::tempdir().unwrap();
    gz(&dir.path().join("k/slow.log.gz"), &scan(1000, T0, 3900));
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k"]);
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.contains("port-scan"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(!row.contains('≥'), "{row}");
    assert!(row.contains(" ports/5m"), "{row}");
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    let scans = of_kind(&doc, "port_scan");
    assert_eq!(scans.len(), 1, "{}", doc["findings"]);
    let s = scans[0];
    assert!(s["windows"].as_u64().unwrap() >= 12, "{s}");
    assert_eq!(s["ports"]["largest_window"], true, "{}", s["ports"]);
    assert_eq!(s["ports"]["estimate"], true, "{}", s["ports"]);
    let summary = s["summary"].as_str().unwrap();
    assert!(summary.contains("ports in the largest window"), "{summary}");
}

/// Regression (probe `sweepv2 10`): in v2 logs (no `tcp-flags`) a sweep of accepted,
/// one-packet, unanswered TCP SYNs to 30 hosts on tcp/6379, and a scan of 100 ports the same
/// way, found nothing: single-packet TCP within the probe size is a probe when the log has
/// no flags. Established v2 flows of many packets to as many hosts are still no finding.
#[test]
fn regression_single_packet_tcp_in_v2_logs_is_probing() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{V2}\n");
    for h in 0..30u16 {
        let dst = format!("10.30.1.{}", 10 + h);
        text += &v2(
            "10.30.4.66",
            &dst,
            40000 + h,
            6379,
            6,
            1,
            60,
            T0 + 600,
            "ACCEPT",
        );
    }
    for p in 1..=100u16 {
        text += &v2(
            "10.30.4.77",
            "10.30.2.9",
            61000,
            p,
            6,
            1,
            60,
            T0 + 600,
            "ACCEPT",
        );
    }
    gz(&dir.path().join("k").join(key("a")), &text);
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    let sweeps = of_kind(&doc, "host_sweep");
    assert_eq!(sweeps.len(), 1, "{}", doc["findings"]);
    assert_eq!(sweeps[0]["subject"]["ip"], "10.30.4.66");
    assert_eq!(sweeps[0]["targets"]["count"], 30, "{}", sweeps[0]);
    let scans = of_kind(&doc, "port_scan");
    assert_eq!(scans.len(), 1, "{}", doc["findings"]);
    assert_eq!(scans[0]["subject"]["ip"], "10.30.4.77");

    // Near miss: a client of 30 redis servers, each connection many packets both ways.
    let quiet = tempfile::tempdir().unwrap();
    let mut text = format!("{V2}\n");
    for h in 0..30u16 {
        let dst = format!("10.30.1.{}", 10 + h);
        text += &v2(
            "10.30.4.66",
            &dst,
            40000 + h,
            6379,
            6,
            12,
            2400,
            T0 + 600,
            "ACCEPT",
        );
        text += &v2(
            &dst,
            "10.30.4.66",
            6379,
            40000 + h,
            6,
            10,
            9000,
            T0 + 600,
            "ACCEPT",
        );
    }
    gz(&quiet.path().join("k").join(key("a")), &text);
    let out = flowkeeper(quiet.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    assert_eq!(
        doc["findings"],
        serde_json::json!([]),
        "{}",
        doc["findings"]
    );
    assert_eq!(out.status.code(), Some(0));
}

/// Regression (probe `natscan-v2`): clear-text findings were one incident per port (ftp
/// twice for 20 and 21, netbios three times) though the README groups them per (host,
/// service). One incident per service the rule names, with its ports.
#[test]
fn regression_insecure_protocols_are_one_incident_per_host_and_service() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{V2}\n");
    for (i, port) in [20u16, 21, 23, 137, 138, 139].into_iter().enumerate() {
        let proto = if port == 137 || port == 138 { 17 } else { 6 };
        let sport = 50000 + i as u16;
        let t = T0 + 600 + i as u64;
        text += &v2(
            "45.155.205.1",
            "10.30.0.5",
            sport,
            port,
            proto,
            10,
            2000,
            t,
            "ACCEPT",
        );
        text += &v2(
            "10.30.0.5",
            "45.155.205.1",
            port,
            sport,
            proto,
            10,
            4000,
            t,
            "ACCEPT",
        );
    }
    gz(&dir.path().join("k").join(key("a")), &text);
    let out = flowkeeper(dir.path(), &["-q", "analyze", "k", "--format", "json"]);
    let doc = json_of(&out);
    let rows = of_kind(&doc, "insecure_protocol");
    let mut got: Vec<(String, Value)> = rows
        .iter()
        .map(|f| {
            (
                f["service"].as_str().unwrap_or("-").to_string(),
                f["ports"]["sample"].clone(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("ftp".to_string(), serde_json::json!([20, 21])),
            ("netbios".to_string(), serde_json::json!([137, 138, 139])),
            ("telnet".to_string(), serde_json::json!([23])),
        ],
        "{}",
        doc["findings"]
    );
}
