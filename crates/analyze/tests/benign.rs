//! The benign corpus: `flowgen --realism 2 --benign-only` (300,000 records, 3 VPCs with NAT
//! gateways, load balancers and health checks, web → app → db tiers, DNS servers, monitoring
//! scrapers, backups, IPv6 dual-stack hosts, AWS service endpoints; 40 minutes) through the
//! default pack, with the VPCs' own CIDRs layered on as `--discover` would add them. A
//! security team must be able to read the result: no high-severity finding, at most a handful
//! of medium ones, no refused state keys, no late records.
//!
//! Counted are incidents (grouped findings: what a report shows, one row per thing to act
//! on); the count of incidents and window findings per severity and detector is printed
//! either way, so progress on the detectors is visible while this test fails.

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

mod common;

use common::{each_record, layered_pack, objects_in_order};
use flowkeeper_analyze::{Engine, Grouper, Severity};

/// At most this many medium findings on benign traffic.
const MAX_MEDIUM: usize = 5;

#[test]
fn benign_corpus_raises_no_high_and_few_medium_findings() {
    benign_corpus(&[], 24);
}

/// The same estate logged with AWS's default 10-minute aggregation: records of up to 600 s,
/// delivered when their interval closes (one object's starts span ~15 minutes, out of
/// order); 3 flow logs × 11 objects (the last intervals close after the 40 minutes).
#[test]
fn benign_corpus_with_aws_default_ten_minute_aggregation_is_as_quiet() {
    benign_corpus(&["--aggregation", "600"], 33);
}

fn benign_corpus(extra: &[&str], objects_expected: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let status = Command::new(env!("CARGO_BIN_EXE_flowgen"))
        .args(["--realism", "2", "--benign-only", "--out"])
        .arg(dir)
        .args([
            "--records",
            "300000",
            "--seed",
            "11",
            "--vpcs",
            "3",
            "--minutes",
            "40",
        ])
        .args(extra)
        .status()
        .expect("run flowgen");
    assert!(status.success(), "flowgen failed");
    let objects = objects_in_order(dir);
    assert_eq!(
        objects.len(),
        objects_expected,
        "3 flow logs, 5-minute objects"
    );

    let pack = layered_pack(dir, &["networks.yaml"]);
    let mut engine = Engine::new(&pack);
    let mut records = 0u64;
    each_record(dir, |origin, record| {
        engine.observe(record, origin);
        records += 1;
    });
    // With 10-minute aggregation records are also cut at their interface's own interval
    // boundaries, so there are a few more than asked for: planted.json counts them.
    let planted: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("planted.json")).unwrap()).unwrap();
    assert_eq!(Some(records), planted["records"].as_u64());
    assert!(records >= 300_000);
    let analysis = engine.finish();
    let stats = &analysis.stats;
    nat_gateways_are_not_talkers(dir, &analysis.reports);

    let mut per: BTreeMap<(Severity, String), usize> = BTreeMap::new();
    for f in &analysis.findings {
        *per.entry((f.severity, f.detector.clone())).or_default() += 1;
    }
    eprintln!("benign corpus, false findings per severity and detector:");
    for ((severity, detector), n) in per.iter().rev() {
        eprintln!("  {:>8} {detector:<24} {n}", severity.as_str());
        let examples = analysis
            .findings
            .iter()
            .filter(|f| f.severity == *severity && f.detector == *detector);
        for f in examples.take(3) {
            eprintln!("           e.g. {}", f.summary);
        }
    }
    let names: Vec<String> = objects.iter().map(|p| p.display().to_string()).collect();
    let mut grouper = Grouper::new(&pack);
    for f in &analysis.findings {
        grouper.offer(f.clone(), &names);
    }
    let incidents = grouper.finish();
    eprintln!("benign corpus, incidents:");
    for i in &incidents {
        eprintln!(
            "  {:>8} {:<24} {}",
            i.severity.as_str(),
            i.detector,
            i.summary
        );
    }
    let sample = |s: Severity| -> Vec<String> {
        incidents
            .iter()
            .filter(|i| i.severity == s)
            .take(10)
            .map(|i| format!("{} {}", i.detector, i.summary))
            .collect()
    };
    let high = incidents
        .iter()
        .filter(|i| i.severity >= Severity::High)
        .count();
    let medium = incidents
        .iter()
        .filter(|i| i.severity == Severity::Medium)
        .count();
    eprintln!(
        "late {}, refused keys {}, dedupe overflow {}",
        stats.late_records(),
        stats.refused_keys(),
        stats.dedupe_overflow
    );
    assert_eq!(
        high,
        0,
        "high on benign traffic:\n{:#?}",
        sample(Severity::High)
    );
    assert!(
        medium <= MAX_MEDIUM,
        "{medium} medium on benign traffic:\n{:#?}",
        sample(Severity::Medium)
    );
    assert_eq!(stats.refused_keys(), 0, "{stats:?}");
    assert_eq!(stats.late_records(), 0, "{stats:?}");
}

/// The NAT gateways (learned from their inner legs: the pack here has no
/// `middleboxes.yaml`) relay much of the estate's internet traffic, and their outer legs
/// are relay views: no NAT address is a top talker (the top talkers name the real peers),
/// and the outer legs are counted as `relayed`.
fn nat_gateways_are_not_talkers(dir: &std::path::Path, reports: &flowkeeper_analyze::Reports) {
    let text = fs::read_to_string(dir.join("middleboxes.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let nats: Vec<String> = doc["networks"]["nat_gateways"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().trim_end_matches("/32").to_owned())
        .collect();
    assert!(!nats.is_empty(), "{text}");
    let mut talkers: Vec<String> = Vec::new();
    talkers.extend(reports.top_sources.iter().map(|t| t.addr.to_string()));
    talkers.extend(reports.top_destinations.iter().map(|t| t.addr.to_string()));
    for p in &reports.top_pairs {
        talkers.push(p.src.to_string());
        talkers.push(p.dst.to_string());
    }
    assert!(talkers.len() > 10, "{talkers:?}");
    let named: Vec<&String> = talkers.iter().filter(|t| nats.contains(t)).collect();
    assert!(
        named.is_empty(),
        "NAT gateways {nats:?} among the top talkers: {named:?}"
    );
    assert!(reports.totals.relayed > 0, "{:?}", reports.totals);
}
