//! End to end on generated data: `flowgen` writes a 50k-record dataset (twice, to check it is
//! byte-identical for a seed whatever the thread count), the engine runs the default pack
//! (with the estate's `zones.yaml` layered over it) on every object, every planted attack is
//! found, and the benign traffic raises no high-severity finding.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use flowkeeper_analyze::{Engine, Finding, Origin, PackSource, RulePack, Severity};
use flowlog::S3TextFile;
use serde_json::Value;

fn generate(dir: &Path, seed: u64, threads: u32) {
    let status = Command::new(env!("CARGO_BIN_EXE_flowgen"))
        .args([
            "--out",
            dir.to_str().unwrap(),
            "--records",
            "50000",
            "--seed",
        ])
        .arg(seed.to_string())
        .args(["--per-object", "20000", "--threads"])
        .arg(threads.to_string())
        .status()
        .expect("run flowgen");
    assert!(status.success(), "flowgen failed");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files(dir)
        .into_iter()
        .map(|p| {
            let key = p.strip_prefix(dir).unwrap().display().to_string();
            (key, fs::read(&p).unwrap())
        })
        .collect()
}

fn ip_of(v: &Value) -> Option<std::net::IpAddr> {
    v.as_str().map(|s| s.parse().unwrap())
}

fn matches(f: &Finding, attack: &Value) -> bool {
    let t = attack["window_contains"].as_u64().unwrap();
    f.detector == attack["default_rule"].as_str().unwrap()
        && f.window.start <= t
        && t < f.window.end
        && ip_of(&attack["src"]).is_none_or(|ip| f.src == Some(ip))
        && ip_of(&attack["dst"]).is_none_or(|ip| f.dst.is_none_or(|d| d == ip))
        && attack["dst_port"]
            .as_u64()
            .is_none_or(|p| f.dst_port.is_none_or(|d| u64::from(d) == p))
        && attack["interface_id"]
            .as_str()
            .is_none_or(|i| f.interface_id.as_deref() == Some(i))
}

#[test]
fn planted_attacks_are_found_and_benign_traffic_is_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate(&a, 7, 2);
    generate(&b, 7, 1);
    let data = contents(&a);
    assert!(
        data == contents(&b),
        "same seed must give byte-identical output"
    );
    let objects: Vec<&String> = data.keys().filter(|k| k.ends_with(".log.gz")).collect();
    assert_eq!(objects.len(), 3, "{objects:?}");
    for key in &objects {
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(
            (parts[0], parts[2], parts[3]),
            ("AWSLogs", "vpcflowlogs", "us-east-1"),
            "{key}"
        );
        assert_eq!(&parts[4..7], ["2026", "11", "01"], "{key}");
        let name = parts[7];
        assert!(
            name.starts_with(&format!("{}_vpcflowlogs_us-east-1_fl-", parts[1])),
            "{name}"
        );
        assert!(name.contains("_20261101T00"), "{name}");
    }

    let planted: Value = serde_json::from_slice(&data["planted.json"]).unwrap();
    let attacks = planted["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 9);
    let zones = String::from_utf8(data["zones.yaml"].clone()).unwrap();
    let default = fs::read_to_string(
        std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../../policies/detections/default.yaml"),
    )
    .unwrap();
    let pack = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default.yaml",
            text: &default,
        },
        PackSource {
            name: "zones.yaml",
            text: &zones,
        },
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));

    let mut engine = Engine::new(&pack);
    let mut records = 0u64;
    for (source, key) in objects.iter().enumerate() {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&data[*key][..])
            .read_to_string(&mut text)
            .unwrap();
        let file = S3TextFile::parse(&text).unwrap();
        assert_eq!(file.schema().len(), 29, "version 5 header");
        for (line, record) in file.records() {
            let record = record.unwrap_or_else(|e| panic!("{key}:{line}: {e}"));
            engine.observe(&record, Origin::new(source as u32, line as u64));
            records += 1;
        }
    }
    assert_eq!(records, planted["records"].as_u64().unwrap());
    let analysis = engine.finish();
    let stats = &analysis.stats;
    assert!(
        stats.duplicates > 1000,
        "both ends of internal flows are logged: {stats:?}"
    );
    assert_eq!(stats.late_records(), 0);
    assert_eq!(stats.refused_keys(), 0);
    assert_eq!(stats.dedupe_overflow, 0);

    let mut missing = Vec::new();
    for attack in attacks {
        if !analysis.findings.iter().any(|f| matches(f, attack)) {
            missing.push(attack.to_string());
        }
    }
    let summaries: Vec<String> = analysis
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.severity, f.detector, f.summary))
        .collect();
    assert!(
        missing.is_empty(),
        "planted attacks not found:\n{}\nfindings:\n{}",
        missing.join("\n"),
        summaries.join("\n")
    );

    let actors: Vec<std::net::IpAddr> = attacks
        .iter()
        .flat_map(|a| a["actors"].as_array().unwrap().iter().filter_map(ip_of))
        .collect();
    let benign_high: Vec<&String> = analysis
        .findings
        .iter()
        .zip(&summaries)
        .filter(|(f, _)| f.severity >= Severity::High)
        .filter(|(f, _)| {
            !f.src.is_some_and(|s| actors.contains(&s))
                && !f.dst.is_some_and(|d| actors.contains(&d))
        })
        .map(|(_, s)| s)
        .collect();
    assert!(
        benign_high.is_empty(),
        "benign traffic raised high-severity findings:\n{benign_high:#?}"
    );
    eprintln!("{} findings:\n{}", summaries.len(), summaries.join("\n"));

    // Another seed gives other data.
    let c = tmp.path().join("c");
    generate(&c, 8, 2);
    assert_ne!(
        contents(&c).get(objects[0].as_str()),
        data.get(objects[0].as_str())
    );
}

#[test]
fn version_2_output_decodes() {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_flowgen"))
        .args([
            "--out",
            tmp.path().to_str().unwrap(),
            "--records",
            "4000",
            "--seed",
            "3",
        ])
        .args([
            "--version",
            "2",
            "--accounts",
            "2",
            "--start",
            "2026-12-31T23:58:00Z",
        ])
        .status()
        .expect("run flowgen");
    assert!(status.success());
    let all = files(tmp.path());
    let objects: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".log.gz"))
        .collect();
    assert_eq!(objects.len(), 2, "one object per account");
    let mut records = 0;
    for p in &objects {
        let key = p.strip_prefix(tmp.path()).unwrap().display().to_string();
        // Objects are named by delivery time: the 23:55 object is delivered at 00:00 next year.
        assert!(
            key.contains("/2027/01/01/") && key.contains("_20270101T0000Z_"),
            "{key}"
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(fs::File::open(p).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let file = S3TextFile::parse(&text).unwrap();
        assert!(file.schema().is_default_v2());
        for (line, r) in file.records() {
            r.unwrap_or_else(|e| panic!("{key}:{line}: {e}"));
            records += 1;
        }
    }
    assert_eq!(records, 4000);
    let usage = Command::new(env!("CARGO_BIN_EXE_flowgen"))
        .arg("--records")
        .output()
        .unwrap();
    assert!(!usage.status.success());
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage: flowgen"));
}
