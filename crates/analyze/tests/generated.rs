//! End to end on generated data: `flowgen` writes a 50k-record dataset (twice, to check it is
//! byte-identical for a seed whatever the thread count), the engine runs the default pack
//! (with the estate's `zones.yaml` layered over it) on every object, every planted attack is
//! found, and the benign traffic raises no high-severity finding.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{each_record, files, gunzip, layered_pack, objects_in_order};
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
        let text = gunzip(p);
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
    assert_eq!(usage.status.code(), Some(1), "a usage error exits 1");
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage: flowgen"));
    for args in [
        &[
            "--out",
            "x",
            "--records",
            "9000",
            "--seed",
            "1",
            "--benign-only",
        ][..],
        &[
            "--out",
            "x",
            "--records",
            "9000",
            "--seed",
            "1",
            "--realism",
            "3",
        ][..],
        &[
            "--realism",
            "2",
            "--out",
            "x",
            "--records",
            "9000",
            "--seed",
            "1",
            "--vpcs",
            "0",
        ][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_flowgen"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty(), "{args:?}");
    }
}

// ---- realism 2 -------------------------------------------------------------------------

fn generate2(dir: &Path, extra: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_flowgen"))
        .args(["--realism", "2", "--out"])
        .arg(dir)
        .args(extra)
        .status()
        .expect("run flowgen");
    assert!(status.success(), "flowgen --realism 2 {extra:?} failed");
}

/// Field values of a v5 line by header name.
fn fields<'a>(header: &[&'a str], line: &'a str) -> BTreeMap<&'a str, &'a str> {
    header.iter().copied().zip(line.split(' ')).collect()
}

#[test]
fn realism_2_is_deterministic_and_logged_as_aws_logs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let args = [
        "--records",
        "40000",
        "--seed",
        "4",
        "--vpcs",
        "2",
        "--minutes",
        "10",
    ];
    generate2(&a, &[&args[..], &["--threads", "2"]].concat());
    generate2(&b, &[&args[..], &["--threads", "1"]].concat());
    assert!(contents(&a) == contents(&b), "same seed, same bytes");
    let planted: Value =
        serde_json::from_slice(&fs::read(a.join("planted.json")).unwrap()).unwrap();
    assert_eq!(planted["realism"], 2);
    let attacks = planted["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 12);
    for at in attacks {
        assert!(
            at["expect_severity"].is_string() && at["subject"].is_string(),
            "{at}"
        );
    }
    let nat_ip = planted["vpcs"][0]["cidr"]
        .as_str()
        .unwrap()
        .replace(".0.0/16", ".0.220");
    assert!(!attacks.iter().any(|a| a["subject"] == nat_ip.as_str()));
    let objects = objects_in_order(&a);
    assert_eq!(objects.len(), 4, "2 flow logs × 2 five-minute objects");

    let mut lines = 0;
    let (mut v6, mut nat_inner, mut nat_outer, mut established, mut path7) = (0, 0, 0, 0, 0);
    let mut flags = std::collections::BTreeSet::new();
    let mut formats = std::collections::BTreeSet::new();
    let (mut pods, mut unknown, mut peering) = (0, 0, 0);
    // (interface kind, 5-tuple, minute) -> start, to compare twins on two interfaces.
    let mut twins: BTreeMap<(String, String, String, String, String), Vec<u64>> = BTreeMap::new();
    for p in &objects {
        let text = gunzip(p);
        S3TextFile::parse(&text).unwrap();
        let mut it = text.lines();
        formats.insert(text.lines().next().unwrap().to_owned());
        let header: Vec<&str> = it.next().unwrap().split(' ').collect();
        for line in it {
            lines += 1;
            let f = fields(&header, line);
            if f["log-status"] != "OK" {
                continue;
            }
            let egress = f["flow-direction"] == "egress";
            assert_eq!(
                egress,
                f["traffic-path"] != "-",
                "traffic-path on egress only: {line}"
            );
            assert_eq!(f["type"] == "IPv6", f["srcaddr"].contains(':'), "{line}");
            v6 += usize::from(f["type"] == "IPv6");
            if f["instance-id"] == "-" && f["srcaddr"] != f["pkt-srcaddr"] {
                nat_inner += 1; // NAT → instance, from the internet host
            }
            if f["instance-id"] == "-" && f["dstaddr"] != f["pkt-dstaddr"] {
                nat_inner += 1; // instance → NAT, for the internet host
            }
            if f["dstaddr"].ends_with(".0.220")
                && f["srcaddr"] == f["pkt-srcaddr"]
                && !f["srcaddr"].starts_with("10.")
            {
                nat_outer += 1;
            }
            if f["instance-id"] != "-"
                && (f["dstaddr"] != f["pkt-dstaddr"] || f["srcaddr"] != f["pkt-srcaddr"])
            {
                pods += 1; // a worker node's records of a pod's traffic
            }
            unknown += usize::from(f["account-id"] == "unknown");
            if f["tcp-flags"] == "0" && f["protocol"] == "6" {
                established += 1;
            }
            peering += usize::from(f["traffic-path"] == "4");
            if f["traffic-path"] == "7" {
                path7 += 1;
                assert!(f["pkt-dst-aws-service"] != "-", "{line}");
            }
            if f["protocol"] == "6" {
                flags.insert(f["tcp-flags"].parse::<u16>().unwrap());
            }
            let start: u64 = f["start"].parse().unwrap();
            let end: u64 = f["end"].parse().unwrap();
            assert!(
                start <= end && end - start < 60,
                "one aggregation interval: {line}"
            );
            // Short connections (one interval, SYN and FIN seen) logged at both ends.
            let short = matches!(f["tcp-flags"], "3" | "19");
            if short && f["srcaddr"] == f["pkt-srcaddr"] && f["dstaddr"] == f["pkt-dstaddr"] {
                let key = (
                    f["srcaddr"].to_owned(),
                    f["dstaddr"].to_owned(),
                    format!("{}-{}", f["srcport"], f["dstport"]),
                    f["packets"].to_owned(),
                    f["bytes"].to_owned(),
                );
                twins.entry(key).or_default().push(start);
            }
        }
    }
    assert_eq!(
        formats.len(),
        2,
        "each flow log has its own format: {formats:?}"
    );
    assert!(formats.iter().all(|f| f.starts_with("version ")));
    assert_eq!(lines as u64, planted["records"].as_u64().unwrap());
    assert_eq!(lines, 40_000);
    assert!(
        v6 > 500 && nat_inner > 200 && nat_outer > 100,
        "{v6} {nat_inner} {nat_outer}"
    );
    assert!(established > 500 && path7 > 10, "{established} {path7}");
    assert!(pods > 100 && unknown > 100, "{pods} {unknown}");
    assert!(peering >= 4 * 60, "both sides of VPC peering: {peering}");
    let expected: std::collections::BTreeSet<u16> = [0, 1, 2, 3, 4, 6, 18, 19].into();
    assert_eq!(flags, expected, "OR-ed flags of real intervals only");
    let mut differ = 0;
    for starts in twins.values().filter(|s| s.len() == 2) {
        let d = starts[0].abs_diff(starts[1]);
        assert!(d <= 10, "twins differ by at most 10 s: {starts:?}");
        differ += usize::from(d > 0);
    }
    assert!(differ > 100, "per-interface capture delay: {differ}");

    // --single-file: the same records in one file, and --per-object cuts objects.
    let single = tmp.path().join("one/all.log");
    generate2(
        &tmp.path().join("c"),
        &[&args[..], &["--single-file", single.to_str().unwrap()]].concat(),
    );
    let text = fs::read_to_string(&single).unwrap();
    let file = S3TextFile::parse(&text).unwrap();
    assert_eq!(file.records().filter(|(_, r)| r.is_ok()).count(), 40_000);
    let gz = tmp.path().join("one/all.log.gz");
    generate2(
        &tmp.path().join("e"),
        &[&args[..], &["--single-file", gz.to_str().unwrap()]].concat(),
    );
    assert_eq!(gunzip(&gz), text, "the same file, gzipped");
    generate2(
        &tmp.path().join("d"),
        &[&args[..], &["--per-object", "4000"]].concat(),
    );
    assert_eq!(
        objects_in_order(&tmp.path().join("d")).len(),
        12,
        "10,000 per job, 4,000 per object"
    );
}

#[test]
fn realism_2_planted_attacks_are_found_with_the_right_subject_and_nothing_else_is_high() {
    planted_attacks_found(&[]);
}

/// AWS's default maximum aggregation interval is 10 minutes: records of up to 600 s, each
/// delivered when its interval closes, so one object's starts span ~15 minutes out of order.
/// Every attack is still found, once, and no record arrives too late for its window.
#[test]
fn realism_2_planted_attacks_are_found_with_aws_default_ten_minute_aggregation() {
    planted_attacks_found(&["--aggregation", "600"]);
}

fn planted_attacks_found(extra: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["--records", "300000", "--seed", "5"];
    args.extend(extra);
    generate2(dir, &args);
    let planted: Value =
        serde_json::from_slice(&fs::read(dir.join("planted.json")).unwrap()).unwrap();
    let attacks = planted["attacks"].as_array().unwrap();
    let pack = layered_pack(dir, &["zones.yaml", "networks.yaml"]);
    let mut engine = Engine::new(&pack);
    for (source, p) in objects_in_order(dir).iter().enumerate() {
        let text = gunzip(p);
        let file = S3TextFile::parse(&text).unwrap();
        for (line, record) in file.records() {
            engine.observe(&record.unwrap(), Origin::new(source as u32, line as u64));
        }
    }
    let analysis = engine.finish();
    assert_eq!(analysis.stats.late_records(), 0, "{:?}", analysis.limits());
    assert_eq!(analysis.stats.refused_keys(), 0, "{:?}", analysis.limits());
    let summary = |f: &Finding| format!("{} {} {}", f.severity, f.detector, f.summary);
    let subject_matches = |f: &Finding, at: &Value| {
        let t = at["window_contains"].as_u64().unwrap();
        f.detector == at["default_rule"].as_str().unwrap()
            && f.first_seen <= t + 150
            && t <= f.last_seen + 150
            && match at["interface_id"].as_str() {
                Some(i) => f.interface_id.as_deref() == Some(i),
                None => f.src == ip_of(&at["subject"]),
            }
    };
    let mut missing = Vec::new();
    let mut wrong_severity = Vec::new();
    for at in attacks {
        match analysis.findings.iter().find(|f| subject_matches(f, at)) {
            None => missing.push(format!(
                "{} {}: {}",
                at["default_rule"], at["subject"], at["description"]
            )),
            Some(f) if f.severity.as_str() != at["expect_severity"].as_str().unwrap() => {
                wrong_severity.push(format!(
                    "expected {}: {}",
                    at["expect_severity"],
                    summary(f)
                ))
            }
            Some(_) => {}
        }
    }
    let actors: Vec<std::net::IpAddr> = attacks
        .iter()
        .flat_map(|a| a["actors"].as_array().unwrap().iter().filter_map(ip_of))
        .collect();
    // A finding belongs to an attack when it names an attacker (or the attack's subject) as its
    // source: a second exfiltration finding naming the NAT gateway is a false one.
    let is_attack = |f: &Finding| {
        f.src.is_some_and(|s| actors.contains(&s)) || attacks.iter().any(|a| subject_matches(f, a))
    };
    let mut false_per: BTreeMap<(String, String), usize> = BTreeMap::new();
    for f in analysis.findings.iter().filter(|f| !is_attack(f)) {
        *false_per
            .entry((f.severity.as_str().to_owned(), f.detector.clone()))
            .or_default() += 1;
    }
    eprintln!("realism 2: false findings per severity and detector: {false_per:#?}");
    eprintln!("missed: {missing:#?}\nwrong severity: {wrong_severity:#?}");
    let false_high: Vec<String> = analysis
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High && !is_attack(f))
        .take(12)
        .map(summary)
        .collect();
    assert!(
        missing.is_empty(),
        "planted attacks not found: {missing:#?}"
    );
    assert!(wrong_severity.is_empty(), "{wrong_severity:#?}");
    assert!(
        false_high.is_empty(),
        "high findings on benign traffic: {false_high:#?}"
    );
    // Grouped as a report shows them: every planted attack is exactly one incident.
    let names: Vec<String> = objects_in_order(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut grouper = flowkeeper_analyze::Grouper::new(&pack);
    for f in &analysis.findings {
        grouper.offer(f.clone(), &names);
    }
    let incidents = grouper.finish();
    let mut not_one = Vec::new();
    for at in attacks {
        let rule = at["default_rule"].as_str().unwrap();
        let subject = at["interface_id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| ip_of(&at["subject"]).map(|ip| ip.to_string()));
        let n = incidents
            .iter()
            .filter(|i| {
                i.detector == rule
                    && (Some(i.subject.label()) == subject
                        || i.targets
                            .sample
                            .iter()
                            .any(|t| Some(t.to_string()) == subject)
                        || i.sources
                            .sample
                            .iter()
                            .any(|t| Some(t.to_string()) == subject))
            })
            .count();
        if n != 1 {
            not_one.push(format!("{rule} {subject:?}: {n} incidents"));
        }
    }
    assert!(not_one.is_empty(), "{not_one:#?}");
}

/// Every record of every object, classified, with its origin, in the order a run takes them.
fn flows_of(dir: &Path, engine: &Engine) -> Vec<(flowkeeper_analyze::Flow, Origin)> {
    let cx = engine.classifier();
    let mut out = Vec::new();
    each_record(dir, |origin, record| {
        out.push((cx.classify(record), origin))
    });
    out
}

#[test]
fn the_engine_split_over_two_threads_gives_the_results_of_one() {
    // `Engine::split` is how `flowkeeper analyze` runs: the counting half on one thread, the
    // detecting half on another, batches and verdicts passed between them. Whatever it
    // returns, with the findings taken as windows close, must be what one thread calling
    // `observe_flow` returns.
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), 7, 2);
    let mut pack = layered_pack(tmp.path(), &["zones.yaml"]);
    // No lateness, so windows close (and stream out) while records still come.
    pack.settings.allowed_lateness = 0;
    let flows = flows_of(tmp.path(), &Engine::new(&pack));
    assert_eq!(flows.len(), 50_000);

    let mut one = Engine::new(&pack);
    let mut streamed_one = Vec::new();
    let mut counted_one = 0u64;
    for batch in flows.chunks(1000) {
        for (flow, origin) in batch.to_vec().iter_mut() {
            counted_one += u64::from(one.observe_flow(flow, *origin));
        }
        streamed_one.extend(one.take_final());
    }
    let one = one.finish();

    let (mut front, mut back) = Engine::new(&pack).split();
    type Batch = Vec<(flowkeeper_analyze::Flow, flowkeeper_analyze::Origin)>;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Batch, Vec<flowkeeper_analyze::Verdict>)>(2);
    let mut counted_two = 0u64;
    let streamed_two = std::thread::scope(|scope| {
        let flows = &flows;
        let counted = &mut counted_two;
        let front = &mut front;
        scope.spawn(move || {
            for batch in flows.chunks(1000) {
                // The counting half may correct a flow (its connection's opener): the
                // detecting half reads the batch it passed on, as `analyze` does.
                let mut batch = batch.to_vec();
                let verdicts: Vec<_> = batch.iter_mut().map(|(f, _)| front.observe(f, 0)).collect();
                *counted += verdicts.iter().filter(|v| v.counted()).count() as u64;
                tx.send((batch, verdicts)).unwrap();
            }
        });
        let mut streamed = Vec::new();
        for (batch, verdicts) in rx {
            for ((flow, origin), v) in batch.iter().zip(verdicts) {
                back.observe(flow, *origin, v);
            }
            streamed.extend(back.take_final());
        }
        streamed
    });
    let two = Engine::join(front, back).finish();

    assert!(
        counted_one < 50_000,
        "some twins are dropped: {counted_one}"
    );
    assert_eq!(counted_two, counted_one);
    assert!(!streamed_one.is_empty(), "windows close during the run");
    assert_eq!(
        serde_json::to_value(&streamed_two).unwrap(),
        serde_json::to_value(&streamed_one).unwrap()
    );
    assert!(!one.findings.is_empty());
    assert_eq!(
        serde_json::to_value(&two).unwrap(),
        serde_json::to_value(&one).unwrap()
    );
}
