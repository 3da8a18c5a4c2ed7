//! `flowkeeper analyze` on local files whose names carry no AWS time and that each cover the
//! same hours (per-interface or per-stream exports): they are read in the order of their
//! first records, and windows stay open until the last of them is read, so no record is late
//! and an attack in the last file is found (it used to be "No findings." with a `late` limit).

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

#[path = "support/run.rs"]
mod run;

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn flowkeeper(dir: &Path, args: &[&str]) -> Output {
    run::flowkeeper_within(dir, args, Stdio::null(), 120)
}

/// `analyze . --format json` (with `extra`) in `dir`: exit 2 (a finding at medium or above),
/// and the report.
fn json_run(dir: &Path, extra: &[&str]) -> Value {
    json_run_exiting(dir, extra, 2)
}

/// [`json_run`] that must exit with `code`.
fn json_run_exiting(dir: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["-q", "analyze", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let out = flowkeeper(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn gz(path: &Path, text: &str) {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// Web traffic of one interface over three hours, a record every 9 seconds.
fn interface_export(eni: &str, client_net: u32) -> String {
    let mut text = format!("{HEADER}\n");
    for i in 0..1200u64 {
        let t = T0 + i * 9;
        text += &format!(
            "2 111122223333 {eni} 10.0.{client_net}.{} 10.0.9.10 {} 443 6 12 9400 {t} {} ACCEPT OK\n",
            10 + i % 40,
            40000 + i % 20000,
            t + 50
        );
    }
    text
}

fn limits_of(doc: &Value) -> Vec<String> {
    doc["summary"]["limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["what"].as_str().unwrap().to_owned())
        .collect()
}

/// The lines of `eni-app`'s export after its first `skip` (the header is line 1), with a
/// scan of 60 ports of 10.0.2.10 by 203.0.113.66 two hours in, in time order among them.
fn app_lines_with_scan(skip: usize) -> String {
    let scan_at = T0 + 2 * 3600;
    let mut text = String::new();
    for line in interface_export("eni-app", 2).lines().skip(skip) {
        let t: u64 = line.split(' ').nth(10).unwrap().parse().unwrap();
        if (scan_at..scan_at + 9).contains(&t) {
            for p in 1..=60 {
                text += &format!(
                    "2 111122223333 eni-app 203.0.113.66 10.0.2.10 55555 {p} 6 1 40 {scan_at} {} REJECT OK\n",
                    scan_at + 1
                );
            }
        }
        text += &format!("{line}\n");
    }
    text
}

#[test]
fn files_covering_the_same_hours_are_read_without_late_records() {
    let dir = tempfile::tempdir().unwrap();
    // Three interfaces' exports, each over the same three hours; in name order the one with
    // the scan comes last.
    // Its records in time order, an hour fewer than the others' (its interface was created
    // an hour later), and a scan two hours in.
    let late_start = format!("{HEADER}\n{}", app_lines_with_scan(1 + 400));
    gz(&dir.path().join("export-z-app.log.gz"), &late_start);
    gz(
        &dir.path().join("export-a-web.log.gz"),
        &interface_export("eni-web", 1),
    );
    gz(
        &dir.path().join("export-m-db.log.gz"),
        &interface_export("eni-db", 3),
    );
    let doc = json_run(dir.path(), &["--fail-on", "medium"]);
    let scans: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "port_scan")
        .collect();
    assert_eq!(scans.len(), 1, "{}", doc["findings"]);
    assert_eq!(scans[0]["subject"]["ip"], "203.0.113.66");
    // Every probe counted (the distinct ports are a HyperLogLog estimate past 32).
    assert_eq!(scans[0]["flows"], 60, "{}", scans[0]);
    assert!(
        !limits_of(&doc).contains(&"late".to_owned()),
        "{:?}",
        limits_of(&doc)
    );
    assert_eq!(doc["summary"]["records"], 3 * 1200 - 400 + 60);
}

/// Files that follow each other in time, named in reverse order: read in time order, so the
/// hold keeps no window open longer than reading in time order would.
#[test]
fn files_named_out_of_time_order_are_read_in_it() {
    let dir = tempfile::tempdir().unwrap();
    for (name, hour) in [("c.log", 0u64), ("b.log", 1), ("a.log", 2)] {
        let mut text = format!("{HEADER}\n");
        let at = T0 + hour * 3600;
        for i in 0..400u64 {
            let t = at + i * 9;
            text += &format!(
                "2 111122223333 eni-web 10.0.1.{} 10.0.9.10 {} 443 6 12 9400 {t} {} ACCEPT OK\n",
                10 + i % 40,
                40000 + i,
                t + 50
            );
        }
        if hour == 0 {
            for p in 1..=40 {
                text += &format!(
                    "2 111122223333 eni-web 198.51.100.9 10.0.1.10 44444 {p} 6 1 40 {} {} REJECT OK\n",
                    at + 3500,
                    at + 3501
                );
            }
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let doc = json_run(dir.path(), &[]);
    assert!(
        !limits_of(&doc).contains(&"late".to_owned()),
        "{:?}",
        limits_of(&doc)
    );
    let names: Vec<&str> = doc["summary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names[0].ends_with("c.log") && names[2].ends_with("a.log"),
        "{names:?}"
    );
}

/// Probe regression (session 13): AWS-named objects of one interface beside a headerless
/// export of another, over the same hours. Each kind was ordered on its own and the kind
/// read second was late (23,812 late records, a sweep missed). Both are now read ahead and
/// interleave by their records' times.
#[test]
fn aws_objects_beside_exports_of_the_same_hours_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01");
    std::fs::create_dir_all(&day).unwrap();
    let web = interface_export("eni-web", 1);
    let lines: Vec<&str> = web.lines().skip(1).collect();
    // 5-minute objects: 300 s / 9 s a record.
    for (n, chunk) in lines.chunks(34).enumerate() {
        let at = T0 + (n as u64 + 1) * 300;
        let stamp = format!("{:02}{:02}", at % 86_400 / 3600, at % 3600 / 60);
        let mut text = format!("{HEADER}\n");
        for l in chunk {
            text += &format!("{l}\n");
        }
        gz(
            &day.join(format!(
                "111122223333_vpcflowlogs_us-east-1_fl-0aaa_20261101T{stamp}Z_{n:04x}.log.gz"
            )),
            &text,
        );
    }
    // The export: headerless, with a scan two hours in, in time order.
    std::fs::create_dir_all(dir.path().join("exports")).unwrap();
    let export = app_lines_with_scan(1);
    gz(&dir.path().join("exports/eni-app.log.gz"), &export);
    let doc = json_run(dir.path(), &[]);
    assert!(
        !limits_of(&doc).contains(&"late".to_owned()),
        "{:?}",
        limits_of(&doc)
    );
    let scans = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "port_scan" && i["subject"]["ip"] == "203.0.113.66")
        .count();
    assert_eq!(scans, 1, "{}", doc["findings"]);
}

/// Probe regression (session 13): both ends of 1,200 internal flows exported per interface
/// (one file each, the same three hours) counted 2,267 flows: read after the first file, the
/// second one's twins were hours behind and the dedupe had forgotten them, and no limit said
/// so. Each flow is now counted once, its other end a duplicate.
#[test]
fn both_ends_exported_per_interface_count_each_flow_once() {
    let dir = tempfile::tempdir().unwrap();
    for eni in ["eni-web", "eni-app"] {
        let mut text = format!("{HEADER}\n");
        for i in 0..1200u64 {
            let t = T0 + i * 9;
            text += &format!(
                "2 111122223333 {eni} 10.0.1.{} 10.0.9.10 {} 443 6 12 9400 {t} {} ACCEPT OK\n",
                10 + i % 40,
                40000 + i,
                t + 50
            );
        }
        gz(&dir.path().join(format!("{eni}.log.gz")), &text);
    }
    let doc = json_run_exiting(dir.path(), &[], 0);
    let totals = &doc["reports"]["totals"];
    assert_eq!(totals["records"], 2400, "{totals}");
    assert_eq!(totals["duplicates"], 1200, "{totals}");
    assert_eq!(totals["accepted"]["flows"], 1200, "{totals}");
    assert_eq!(totals["accepted"]["bytes"], 1200 * 9400, "{totals}");
    assert!(limits_of(&doc).is_empty(), "{:?}", limits_of(&doc));
}

/// Probe regression (session 14): a file's start passes over its 4 earliest records (strays),
/// so a long export read second started "20 minutes later" than its first records; the
/// short export read first had moved the dedupe past them, and 2 of 5 twins counted twice.
/// The dedupe stays `allowed_lateness` behind the next file's start, as the watermark does.
#[test]
fn twins_before_the_next_files_start_still_pair() {
    let dir = tempfile::tempdir().unwrap();
    let t = T0 + 3600;
    let record = |eni: &str, port: u64, at: u64| {
        format!(
            "2 111122223333 {eni} 10.0.1.5 10.0.2.6 {port} 5432 6 20 4000 {at} {} ACCEPT OK\n",
            at + 60
        )
    };
    let mut long = format!("{HEADER}\n");
    for i in 0..24 {
        long += &record("eni-a", 42000 + i, t + i * 600);
    }
    let mut short = format!("{HEADER}\n");
    for i in 0..5 {
        short += &record("eni-b", 42000 + i, t + 120 + i * 600);
    }
    gz(&dir.path().join("a.log.gz"), &long);
    gz(&dir.path().join("b.log.gz"), &short);
    let doc = json_run_exiting(dir.path(), &[], 0);
    let totals = &doc["reports"]["totals"];
    assert_eq!(totals["duplicates"], 5, "{totals}");
    assert_eq!(totals["accepted"]["flows"], 24, "{totals}");
}
