//! Rough throughput and memory of the engine on a `flowgen` dataset (no timed tests):
//! `cargo run --release -p flowkeeper-analyze --example analyze_dir -- DIR [pack layers...]`.
//!
//! Decompresses every `.log.gz` under `DIR/AWSLogs` (in name order), decodes each line into
//! one reused record (timed alone, then again with the engine, to isolate the engine's share),
//! feeds the engine the default pack plus `DIR/zones.yaml` (or the given layers), and prints the time
//! (on-CPU, from Linux schedstat) spent in decompression, decoding and `Engine::observe`, the findings by rule, and the
//! process's peak resident memory (Linux `VmHWM`). `ANALYZE_PACK=FILE` runs that pack alone.
//! Numbers are indicative only.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flowkeeper_analyze::{DEFAULT_PACK_YAML, Engine, Origin, PackSource, RulePack};
use flowlog::{FlowRecord, S3TextFile};

fn gz_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            gz_files(&p, out);
        } else if p.to_string_lossy().ends_with(".log.gz") {
            out.push(p);
        }
    }
}

/// This thread's on-CPU time when Linux reports it (so a busy machine skews it less), else
/// wall time since the first call.
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Duration {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .map(Duration::from_nanos)
            .unwrap_or_else(|| self.0.elapsed())
    }
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().expect("usage: analyze_dir DIR [layers...]"));
    let mut layers: Vec<(String, String)> = vec![("default".into(), DEFAULT_PACK_YAML.into())];
    if args.len() > 1 {
        for p in &args[1..] {
            layers.push((p.clone(), std::fs::read_to_string(p).expect("layer")));
        }
    } else if let Ok(z) = std::fs::read_to_string(dir.join("zones.yaml")) {
        layers.push(("zones.yaml".into(), z));
    }
    if let Ok(path) = std::env::var("ANALYZE_PACK") {
        // A whole pack instead of the default + layers.
        layers = vec![(path.clone(), std::fs::read_to_string(&path).expect("pack"))];
    }
    let sources: Vec<PackSource<'_>> = layers
        .iter()
        .map(|(n, t)| PackSource { name: n, text: t })
        .collect();
    let pack = RulePack::from_yaml_layers(&sources).unwrap_or_else(|e| panic!("{e:?}"));
    let mut files = Vec::new();
    gz_files(&dir.join("AWSLogs"), &mut files);
    files.sort();

    let mut engine = Engine::new(&pack);
    let (mut decode, mut observe) = (Duration::ZERO, Duration::ZERO);
    let mut records = 0u64;
    let mut streamed = 0usize;
    let mut gunzip = Duration::ZERO;
    let clock = Clock(std::time::Instant::now());
    for (i, f) in files.iter().enumerate() {
        let t = clock.now();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).expect("open"))
            .read_to_string(&mut text)
            .expect("gunzip");
        gunzip += clock.now() - t;
        let file = S3TextFile::parse(&text).expect("header");
        let schema = file.schema();
        // Decode alone, then decode and observe (one reused record, as a streaming caller
        // would): the difference is the engine's share.
        let mut record = FlowRecord::default();
        let t = clock.now();
        for (_, line) in file.lines() {
            schema.decode_into(line, &mut record).expect("record");
            std::hint::black_box(&record);
        }
        let decode_only = clock.now() - t;
        decode += decode_only;
        let t = clock.now();
        for (n, line) in file.lines() {
            schema.decode_into(line, &mut record).expect("record");
            engine.observe(&record, Origin::new(i as u32, n as u64));
            records += 1;
        }
        streamed += engine.take_final().len();
        observe += (clock.now() - t).saturating_sub(decode_only);
    }
    let t = clock.now();
    let analysis = engine.finish();
    observe += clock.now() - t;
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &analysis.findings {
        *by_rule.entry(&f.detector).or_default() += 1;
    }
    println!("files {} records {records}", files.len());
    println!(
        "gunzip {:.2}s, decode {:.2}s, engine {:.2}s ({:.0} ns/record, {:.2} M records/s)",
        gunzip.as_secs_f64(),
        decode.as_secs_f64(),
        observe.as_secs_f64(),
        observe.as_nanos() as f64 / records.max(1) as f64,
        records as f64 / observe.as_secs_f64() / 1e6
    );
    println!(
        "findings: {streamed} streamed + {} at finish; by rule at finish: {by_rule:?}",
        analysis.findings.len()
    );
    println!(
        "duplicates {} late {} refused {} dedupe peak {}; peak RSS {}",
        analysis.stats.duplicates,
        analysis.stats.late_records(),
        analysis.stats.refused_keys(),
        analysis.stats.dedupe_peak,
        peak_rss()
    );
    for d in &analysis.stats.detectors {
        println!(
            "  {:24} peak keys {:7} findings {}",
            d.id, d.peak_keys, d.findings
        );
    }
}
