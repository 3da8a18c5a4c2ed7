//! Engine behaviour beyond single detectors: the watermark closes windows and drops their
//! state, streaming output equals batch output, live state stays under the caps, and
//! findings do not depend on record order within the allowed lateness.

use flowkeeper_analyze::{Engine, Finding, Origin, RulePack};
use flowlog::Schema;

const T: u64 = 1_793_491_200;
const HEADER: &str = "interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags";

fn pack(text: &str) -> RulePack {
    RulePack::from_yaml(text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn feed(engine: &mut Engine, schema: &Schema, lines: &[(u64, String)]) {
    for (n, line) in lines {
        engine.observe(&schema.decode(line).unwrap(), Origin::new(0, *n));
    }
}

fn scan_lines(src: &str, start: u64, ports: u16) -> Vec<String> {
    (0..ports)
        .map(|i| {
            format!(
                "eni-1 {src} 10.0.1.10 40000 {} 6 1 40 {} {} REJECT -",
                1000 + i,
                start + u64::from(i),
                start + u64::from(i) + 1
            )
        })
        .collect()
}

#[test]
fn watermark_closes_windows_and_drops_their_state() {
    let p = pack(
        "version: 1\nsettings: {allowed_lateness: 60s}\ndetectors:\n  - {id: scan, detector: port_scan, severity: medium, window: 5m, min_ports: 20}\n",
    );
    let schema = Schema::from_header(HEADER).unwrap();
    let mut engine = Engine::new(&p);
    let lines: Vec<(u64, String)> = scan_lines("203.0.113.5", T, 30)
        .into_iter()
        .chain(scan_lines("203.0.113.6", T + 10, 3))
        .enumerate()
        .map(|(i, l)| (i as u64 + 2, l))
        .collect();
    feed(&mut engine, &schema, &lines);
    assert!(engine.take_final().is_empty(), "window still open");
    assert_eq!(engine.stats().detectors[0].live_keys, 2);
    assert_eq!(engine.watermark(), Some(T + 29 - 60));

    // A record 400 s later moves the watermark to T+340, past the window's end (T+300).
    feed(
        &mut engine,
        &schema,
        &[(100, scan_lines("198.51.100.1", T + 400, 1).remove(0))],
    );
    let closed = engine.take_final();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].src, Some("203.0.113.5".parse().unwrap()));
    assert_eq!(closed[0].distinct, Some(30));
    let stats = engine.stats();
    assert_eq!(
        stats.detectors[0].live_keys, 1,
        "only the new window's key is left"
    );
    assert_eq!(
        stats.detectors[0].peak_keys, 3,
        "the new key arrived before the close"
    );

    // A record for the closed window is late: counted, ignored, no state created.
    feed(
        &mut engine,
        &schema,
        &[(101, scan_lines("203.0.113.5", T + 50, 1).remove(0))],
    );
    let stats = engine.stats();
    assert_eq!(stats.detectors[0].late_records, 1);
    assert_eq!(stats.detectors[0].live_keys, 1);
    assert!(engine.take_final().is_empty());

    let analysis = engine.finish();
    assert!(
        analysis.findings.is_empty(),
        "the one finding was already taken"
    );
    assert_eq!(analysis.stats.detectors[0].live_keys, 0);
    assert_eq!(analysis.stats.detectors[0].findings, 1);
    assert_eq!(analysis.reports.totals.rejected.flows, 35);
}

#[test]
fn live_keys_stay_under_the_cap() {
    let p = pack(
        "version: 1\nsettings: {promote_at: 1}\ndetectors:\n  - {id: burst, detector: reject_burst, severity: low, min_rejects: 1, max_keys: 100}\n",
    );
    let schema = Schema::from_header(HEADER).unwrap();
    let mut engine = Engine::new(&p);
    let lines: Vec<(u64, String)> = (0..1000u64)
        .map(|i| {
            (
                i + 2,
                format!(
                    "eni-1 198.51.{}.{} 10.0.1.10 40000 22 6 1 40 {} {} REJECT -",
                    i / 250,
                    i % 250,
                    T + i / 10,
                    T + i / 10 + 1
                ),
            )
        })
        .collect();
    feed(&mut engine, &schema, &lines);
    let s = engine.stats();
    assert_eq!(s.detectors[0].live_keys, 100);
    assert_eq!(s.detectors[0].refused_keys, 900);
    assert_eq!(s.refused_keys(), 900);
    assert_eq!(engine.finish().findings.len(), 100);
}

#[test]
fn one_off_internet_sources_are_held_not_refused() {
    let p = pack(
        "version: 1\ndetectors:\n  - {id: burst, detector: reject_burst, severity: low, min_rejects: 5, max_keys: 100}\n",
    );
    let schema = Schema::from_header(HEADER).unwrap();
    let mut engine = Engine::new(&p);
    let mut lines: Vec<(u64, String)> = (0..1000u64)
        .map(|i| {
            (
                i + 2,
                format!(
                    "eni-1 198.51.{}.{} 10.0.1.10 40000 22 6 1 40 {} {} REJECT -",
                    i / 250,
                    i % 250,
                    T + i / 10,
                    T + i / 10 + 1
                ),
            )
        })
        .collect();
    // A real burst from one source arrives after the noise filled a quarter of the state.
    for k in 0..6u64 {
        lines.push((
            2000 + k,
            format!(
                "eni-1 203.0.113.77 10.0.1.{k} 40000 22 6 1 40 {} {} REJECT -",
                T + 100,
                T + 101
            ),
        ));
    }
    feed(&mut engine, &schema, &lines);
    let s = engine.stats();
    assert_eq!(s.detectors[0].refused_keys, 0, "{s:?}");
    assert!(s.detectors[0].held_records >= 900, "{s:?}");
    let analysis = engine.finish();
    assert!(analysis.limits().is_empty(), "{:?}", analysis.limits());
    let burst: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.src == Some("203.0.113.77".parse().unwrap()))
        .collect();
    assert_eq!(burst.len(), 1);
    assert_eq!(burst[0].flows, 6, "the held first record still counts");
}

/// A deterministic mix: scans, sweeps, a burst, exfiltration, lateral movement, benign noise.
fn mixed_records() -> Vec<(u64, String)> {
    let mut x: u64 = 0x1234_5678_9abc_def0;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut lines = Vec::new();
    for i in 0..3000u64 {
        let t = T + i / 3;
        let line = match i % 10 {
            0 | 5 => format!(
                "eni-a 203.0.113.{} 10.0.1.{} 40000 {} 6 1 40 {t} {} REJECT -",
                rnd(2),
                rnd(2),
                rnd(200),
                t + 1
            ),
            6 => format!(
                "eni-f 203.0.113.9 10.0.2.{} 40000 445 6 1 40 {t} {} REJECT -",
                rnd(40),
                t + 1
            ),
            1 => format!(
                "eni-b 10.0.5.{} 10.0.1.{} 41000 22 6 20 5000 {t} {} ACCEPT 3",
                rnd(3),
                rnd(40),
                t + 5
            ),
            2 => format!(
                "eni-c 10.0.3.{} 185.199.108.{} 42000 443 6 9000 {} {t} {} ACCEPT 3",
                rnd(3),
                rnd(3),
                20_000_000 + rnd(1000),
                t + 9
            ),
            3 => format!(
                "eni-d 198.51.100.{} 10.0.1.{} 43000 22 6 9 900 {t} {} ACCEPT 3",
                rnd(5),
                rnd(5),
                t + 2
            ),
            _ => format!(
                "eni-e 198.51.100.{} 10.0.1.{} {} 443 6 12 3000 {t} {} ACCEPT 3",
                rnd(250),
                rnd(10),
                1024 + rnd(60000),
                t + 3
            ),
        };
        lines.push((i + 2, line));
    }
    lines
}

const MIXED_PACK: &str = "version: 1
settings: {allowed_lateness: 5m, max_evidence: 3}
detectors:
  - {id: scan, detector: port_scan, severity: medium, window: 5m, min_ports: 25}
  - {id: sweep, detector: host_sweep, severity: medium, window: 5m, min_hosts: 10}
  - {id: burst, detector: reject_burst, severity: low, window: 5m, min_rejects: 40}
  - {id: exfil, detector: exfiltration, severity: high, window: 10m, min_bytes: 100MB}
  - {id: lateral, detector: lateral_movement, severity: high, window: 10m, services: [22], min_hosts: 10}
  - {id: exposure, detector: admin_port_exposure, severity: high, window: 10m, services: [22]}
";

/// The fields that do not depend on arrival order (exfiltration flow counts and evidence do:
/// they start when a pair becomes a candidate).
fn projection(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let exfil = f.kind == "exfiltration";
            let flows = if exfil { 0 } else { f.flows };
            let evidence = if exfil {
                Vec::new()
            } else {
                f.evidence.clone()
            };
            format!(
                "{} {} {:?} {:?} {:?} {:?} {} {} {:?} {:?}",
                f.detector,
                f.window.start,
                f.src,
                f.dst,
                f.dst_port,
                f.distinct,
                f.bytes,
                flows,
                evidence,
                f.hosts
            )
        })
        .collect()
}

#[test]
fn findings_do_not_depend_on_order_within_the_lateness() {
    let p = pack(MIXED_PACK);
    let schema = Schema::from_header(HEADER).unwrap();
    let lines = mixed_records();

    let mut in_order = Engine::new(&p);
    feed(&mut in_order, &schema, &lines);
    let a = in_order.finish();
    assert!(a.findings.len() >= 6, "{:#?}", projection(&a.findings));
    for kind in [
        "port_scan",
        "host_sweep",
        "reject_burst",
        "exfiltration",
        "lateral_movement",
        "admin_port_exposure",
    ] {
        assert!(
            a.findings.iter().any(|f| f.kind == kind),
            "no {kind} finding"
        );
    }

    // Chunks of 100 records (about 33 s) fed in swapped pairs, and each chunk reversed.
    let mut shuffled = Vec::new();
    let chunks: Vec<&[(u64, String)]> = lines.chunks(100).collect();
    for pair in chunks.chunks(2) {
        for chunk in pair.iter().rev() {
            shuffled.extend(chunk.iter().rev().cloned());
        }
    }
    let mut out_of_order = Engine::new(&p);
    feed(&mut out_of_order, &schema, &shuffled);
    let b = out_of_order.finish();
    assert_eq!(b.stats.late_records(), 0);
    let (pa, pb) = (projection(&a.findings), projection(&b.findings));
    let only_a: Vec<&String> = pa.iter().filter(|x| !pb.contains(x)).collect();
    let only_b: Vec<&String> = pb.iter().filter(|x| !pa.contains(x)).collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "in order only: {only_a:#?}\nshuffled only: {only_b:#?}"
    );
    assert_eq!(pa, pb);
    assert_eq!(a.reports.totals, b.reports.totals);
}

/// Port scans and host sweeps of the same window share one answer filter: each finds with
/// it what it finds alone.
#[test]
fn probing_detectors_sharing_answers_find_what_each_finds_alone() {
    let p = pack(MIXED_PACK);
    let schema = Schema::from_header(HEADER).unwrap();
    let lines = mixed_records();
    let mut both = Engine::new(&p);
    feed(&mut both, &schema, &lines);
    let both = both.finish();
    for id in ["scan", "sweep"] {
        let mut alone = p.clone();
        alone.detectors.retain(|d| d.id == id);
        let mut e = Engine::new(&alone);
        feed(&mut e, &schema, &lines);
        let alone = e.finish().findings;
        let shared: Vec<Finding> = both
            .findings
            .iter()
            .filter(|f| f.detector == id)
            .cloned()
            .collect();
        assert!(!alone.is_empty(), "{id}: no finding to compare");
        assert_eq!(shared, alone, "{id}");
    }
}

#[test]
fn streaming_output_equals_batch_output() {
    let p = pack(MIXED_PACK);
    let schema = Schema::from_header(HEADER).unwrap();
    let lines = mixed_records();
    let batch = {
        let mut e = Engine::new(&p);
        feed(&mut e, &schema, &lines);
        e.finish().findings
    };
    let mut e = Engine::new(&p);
    let mut streamed = Vec::new();
    for (n, line) in &lines {
        e.observe(&schema.decode(line).unwrap(), Origin::new(0, *n));
        streamed.extend(e.take_final());
    }
    let early = streamed.len();
    streamed.extend(e.finish().findings);
    assert!(early > 0, "some windows close before the end");
    flowkeeper_analyze::finding::sort_findings(&mut streamed);
    assert_eq!(streamed, batch);
}

/// Engine cost per record: `flowgen --realism 2` records (default 1 M, `ENGINE_COST_RECORDS`
/// to change), classified beforehand, then timed through [`Engine::observe_flow`] with the
/// default pack (dedupe, reports, every detector). Prints ns/record; asserts only that every
/// record went through. Run it in release: `cargo test --release -p flowkeeper-analyze --test
/// engine -- --ignored --nocapture engine_cost`.
///
/// To measure an existing dataset instead (like the benchmark's): `ENGINE_COST_DIR=<dir>`
/// (its `.log.gz` objects, walked recursively, in time order), `ENGINE_COST_OBJECTS=<n>` (the
/// first n objects only; default all) and `ENGINE_COST_RULES=<pack file>` (a layer merged over
/// the default pack, like `--rules zones.yaml`). `ENGINE_COST_ONLY=all,port-scan` times only
/// the runs named (`port-scan+host-sweep` and `others`, every other detector, are
/// runs too); `ENGINE_COST_REPEAT=<n>` times each run n times and prints the fastest.
/// The `floor` row is the cost of reading the flows alone (memory, not engine work).
#[test]
#[ignore = "a measurement, not a check: run in release with --ignored --nocapture"]
fn engine_cost_per_record() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("ENGINE_COST_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let n: u64 = std::env::var("ENGINE_COST_RECORDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_flowgen"))
                .args(["--realism", "2", "--out"])
                .arg(tmp.path())
                .args(["--records", &n.to_string(), "--seed", "3"])
                .status()
                .expect("run flowgen");
            assert!(status.success());
            tmp.path().to_path_buf()
        }
    };
    let mut objects = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "gz") {
                objects.push(p);
            }
        }
    }
    objects.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let parts: Vec<&str> = name.split('_').collect();
        (parts[parts.len() - 2].to_owned(), name)
    });
    if let Some(n) = std::env::var("ENGINE_COST_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        objects.truncate(n);
    }
    let default = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies/detections/default.yaml"),
    )
    .unwrap();
    let extra = std::env::var_os("ENGINE_COST_RULES").map(|p| {
        (
            p.to_string_lossy().into_owned(),
            std::fs::read_to_string(&p).unwrap(),
        )
    });
    let mut layers = vec![flowkeeper_analyze::PackSource {
        name: "default.yaml",
        text: &default,
    }];
    if let Some((name, text)) = &extra {
        layers.push(flowkeeper_analyze::PackSource { name, text });
    }
    let full = RulePack::from_yaml_layers(&layers).unwrap_or_else(|e| panic!("{e:?}"));
    let cx = Engine::new(&full).classifier();
    let mut flows = Vec::new();
    for (source, path) in objects.iter().enumerate() {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let file = flowlog::S3TextFile::parse(&text).unwrap();
        for (line, record) in file.records() {
            flows.push((
                cx.classify(&record.unwrap()),
                Origin::new(source as u32, line as u64),
            ));
        }
    }
    // The full pack, then the same without detectors (dedupe and reports only), then without
    // the dedupe too (reports only), then each detector alone on top of dedupe and reports:
    // the differences are each part's cost.
    let mut runs: Vec<(String, RulePack)> = vec![("all".into(), full.clone())];
    let mut bare = full.clone();
    bare.detectors.clear();
    runs.push(("dedupe+reports".into(), bare.clone()));
    let mut reports_only = bare.clone();
    reports_only.settings.dedupe = false;
    runs.push(("reports".into(), reports_only));
    for d in &full.detectors {
        let mut one = bare.clone();
        one.detectors.push(d.clone());
        runs.push((d.id.clone(), one));
    }
    // The probing pair (they share answer filters), and every other detector together.
    let probing = |id: &str| id == "port-scan" || id == "host-sweep";
    let mut pair = full.clone();
    pair.detectors.retain(|d| probing(&d.id));
    runs.push(("port-scan+host-sweep".into(), pair));
    let mut others = full.clone();
    others.detectors.retain(|d| !probing(&d.id));
    runs.push(("others".into(), others));
    if let Ok(only) = std::env::var("ENGINE_COST_ONLY") {
        runs.retain(|(name, _)| only.split(',').any(|o| o == name));
    }
    // Each run `ENGINE_COST_REPEAT` times (default 1), the fastest reported: the cores are
    // shared, and the fastest run is the one least disturbed.
    let repeat: usize = std::env::var("ENGINE_COST_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let n_flows = flows.len() as f64;
    let per_record = |d: std::time::Duration| d.as_nanos() as f64 / n_flows;
    // The floor: reading every flow once (what iterating the batch costs before any work).
    let floor = (0..repeat)
        .map(|_| {
            let start = std::time::Instant::now();
            let sum = flows.iter().fold(0u64, |a, (f, o)| {
                a.wrapping_add(f.bytes ^ f.time.unwrap_or(0) ^ o.line)
            });
            std::hint::black_box(sum);
            start.elapsed()
        })
        .min()
        .unwrap_or_default();
    eprintln!(
        "engine [floor]: {} records read in {:.3} s = {:.0} ns/record",
        flows.len(),
        floor.as_secs_f64(),
        per_record(floor)
    );
    for (name, p) in &runs {
        let mut best = None;
        for _ in 0..repeat {
            let mut engine = Engine::new(p);
            let start = std::time::Instant::now();
            for (f, o) in &mut flows {
                engine.observe_flow(f, *o);
            }
            let analysis = engine.finish();
            let elapsed = start.elapsed();
            assert_eq!(analysis.stats.records, flows.len() as u64);
            if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
                best = Some((elapsed, analysis));
            }
        }
        let Some((elapsed, analysis)) = best else {
            continue;
        };
        eprintln!(
            "engine [{name}]: {} records in {:.3} s = {:.0} ns/record ({} findings, limits {:?}, \
             dedupe peak {})",
            flows.len(),
            elapsed.as_secs_f64(),
            per_record(elapsed),
            analysis.findings.len(),
            analysis.limits(),
            analysis.stats.dedupe_peak
        );
    }
}
