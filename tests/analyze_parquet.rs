//! `flowkeeper analyze` on flow logs delivered as Apache Parquet (`file_format: parquet`),
//! written as AWS writes them (`support/parquet.rs`): the same records as a text object give
//! the same findings and reports; a row is a line (its number is the row's), bad rows are
//! malformed lines, nulls are `-`; a damaged Parquet object is reported by name and the rest
//! is analyzed.

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

#[path = "support/parquet.rs"]
mod parquet_fixture;
#[path = "support/run.rs"]
mod run;
use parquet_fixture::{V5_FIELDS, v5_object};

const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z
const DAY: &str = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01";

fn flowkeeper(dir: &Path, args: &[&str]) -> Output {
    run::flowkeeper_within(dir, args, Stdio::null(), 60)
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn name(fl: &str, ext: &str) -> String {
    format!("111122223333_vpcflowlogs_us-east-1_{fl}_20261101T0005Z_0a1b2c3d.log.{ext}")
}

/// v5 records: web traffic, SSH from the internet accepted on a bastion (a SYN: the client
/// decided by tcp-flags), an idle interface's NODATA row (nulls), and one bad address.
fn lines() -> Vec<String> {
    let v5 = |eni: &str, src: &str, dst: &str, sport: u32, dport: u32, rest: String| {
        format!("5 111122223333 {eni} {src} {dst} {sport} {dport} 6 {rest} vpc-0a subnet-0a i-0a")
    };
    let mut out = Vec::new();
    for i in 0..20u64 {
        let t = T0 + i * 10;
        out.push(
            v5(
                "eni-web",
                "10.0.1.10",
                "10.0.2.10",
                40_000 + i as u32,
                443,
                format!("10 8400 {t} {} ACCEPT OK", t + 30),
            ) + " 3 IPv4 10.0.1.10 10.0.2.10 us-east-1 use1-az1 - - - - egress 1",
        );
    }
    out.push(
        v5(
            "eni-bastion",
            "198.51.100.7",
            "10.0.4.10",
            51_000,
            22,
            format!("20 4249 {} {} ACCEPT OK", T0 + 100, T0 + 160),
        ) + " 2 IPv4 198.51.100.7 10.0.4.10 us-east-1 use1-az1 - - - - ingress -",
    );
    out.push(format!(
        "5 111122223333 eni-idle - - - - - - - {T0} {} - NODATA vpc-0a subnet-0a - - - - - \
         us-east-1 use1-az1 - - - - - -",
        T0 + 60
    ));
    out.push(
        v5(
            "eni-web",
            "10.0.1.10",
            "not-an-ip",
            40_100,
            443,
            format!("10 8400 {T0} {} ACCEPT OK", T0 + 30),
        ) + " 3 IPv4 10.0.1.10 10.0.2.10 us-east-1 use1-az1 - - - - egress 1",
    );
    out
}

/// What must not differ between the text and the Parquet run: everything but where the
/// evidence is (file names and line numbers).
fn comparable(mut doc: Value) -> Value {
    for f in doc["findings"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("evidence_at");
        f.as_object_mut().unwrap().remove("evidence");
    }
    let summary = &doc["summary"];
    serde_json::json!({
        "findings": doc["findings"],
        "reports": doc["reports"],
        "records": summary["records"],
        "malformed": summary["malformed"],
        "first_seen": summary["first_seen"],
        "last_seen": summary["last_seen"],
    })
}

#[test]
fn a_parquet_flow_log_is_analyzed_as_its_text_would_be() {
    let dir = tempfile::tempdir().unwrap();
    let (text_dir, pq_dir) = (dir.path().join("text"), dir.path().join("pq"));
    std::fs::create_dir_all(text_dir.join(DAY)).unwrap();
    std::fs::create_dir_all(pq_dir.join(DAY)).unwrap();
    let lines = lines();
    let text = format!(
        "{}\n{}\n",
        V5_FIELDS.split_whitespace().collect::<Vec<_>>().join(" "),
        lines.join("\n")
    );
    std::fs::write(
        text_dir
            .join(DAY)
            .join(name("fl-0aaa", "gz").replace(".gz", "")),
        text,
    )
    .unwrap();
    let object = v5_object(&lines);
    assert!(object.starts_with(b"PAR1"));
    let pq_name = name("fl-0aaa", "parquet");
    std::fs::write(pq_dir.join(DAY).join(&pq_name), &object).unwrap();

    let run = |what: &str| {
        let out = flowkeeper(
            dir.path(),
            &[
                "-q",
                "analyze",
                what,
                "--format",
                "json",
                "--fail-on",
                "high",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            json_of(&out),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (text_doc, _) = run("text");
    let (pq_doc, pq_err) = run("pq");
    assert_eq!(pq_doc["summary"]["records"], 22, "{pq_doc}");
    assert_eq!(pq_doc["summary"]["malformed"], 1);
    assert_eq!(comparable(pq_doc.clone()), comparable(text_doc));
    // The bad row is named by its row number (the Parquet object has no header line).
    assert!(
        pq_err.contains(&format!("{pq_name}:23: ")) && pq_err.contains("not-an-ip"),
        "{pq_err}"
    );
    let ssh = pq_doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "admin_port_exposure")
        .unwrap_or_else(|| panic!("{pq_doc}"));
    assert_eq!(ssh["severity"], "high");
    assert!(
        ssh["evidence_at"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!("{pq_name}:21")),
        "{ssh}"
    );
}

#[test]
fn a_damaged_parquet_object_is_reported_and_the_rest_is_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join(DAY);
    std::fs::create_dir_all(&day).unwrap();
    let object = v5_object(&lines());
    std::fs::write(day.join(name("fl-0aaa", "parquet")), &object).unwrap();
    // Cut in the middle: the footer (at the end) is gone.
    let cut = name("fl-0bbb", "parquet");
    std::fs::write(day.join(&cut), &object[..object.len() / 2]).unwrap();
    let out = flowkeeper(
        dir.path(),
        &["-q", "analyze", "AWSLogs", "--format", "json"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&cut) && err.contains("a Parquet object that cannot be read"),
        "{err}"
    );
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["records"], 22);
}
