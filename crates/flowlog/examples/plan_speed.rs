//! Decode cost per line on real delivered objects, as `flowkeeper analyze` decodes them:
//! `cargo run --release -p flowlog --example plan_speed`.
//!
//! Inflates the first `FLOWLOG_BENCH_OBJECTS` (default 40) `.log.gz` objects under
//! `FLOWLOG_BENCH_DIR` (default the benchmark's small v5 layout,
//! `/var/tmp/flowkeeper-bench/v5-n10000000-s1/AWSLogs`) into memory, then times, per line:
//! - `count`: counting the newlines of the text with `memchr` (as `analyze` did, separately);
//! - `plan/line`: splitting at `\n` with `memchr` and [`DecodePlan::decode`] of each line, with the fields
//!   `flowkeeper_analyze`'s classifier reads (copied here: that crate depends on this one);
//! - `plan/text`: [`DecodePlan::lines`] over the whole text, which finds newlines, spaces and
//!   ASCII lines in one pass (what `analyze` uses);
//! - `utf8`: `str::from_utf8` of the whole text (what one pass of UTF-8 checking costs);
//! - `plan/none`: the same with a plan of no field (finding lines and values only);
//! - `full`: [`flowlog::Schema::decode_into`] of each line (`--strict`).
//!
//! `FLOWLOG_BENCH_FIELDS=srcaddr,dstport` (field names) times plans of those fields, not
//! the classifier's. Times are this thread's on-CPU time (Linux schedstat), best of `FLOWLOG_BENCH_REPEAT`
//! (default 5) runs.

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flowlog::{Field, FlowRecord, Schema};

/// What `flowkeeper_analyze::Classifier::fields` returns with zones in use.
const FIELDS: [Field; 20] = [
    Field::InterfaceId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
    Field::TcpFlags,
    Field::PktSrcaddr,
    Field::PktDstaddr,
    Field::PktDstAwsService,
    Field::FlowDirection,
    Field::TrafficPath,
    Field::VpcId,
    Field::SubnetId,
];

fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Best seconds of `repeat` runs of `work` (on-CPU time when available).
fn best(repeat: usize, work: &mut dyn FnMut() -> u64) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..repeat {
        let (cpu, wall) = (cpu_ns(), Instant::now());
        black_box(work());
        let secs = match (cpu, cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => wall.elapsed().as_secs_f64(),
        };
        best = best.min(secs);
    }
    best
}

fn objects(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            objects(&path, out);
        } else if path.to_string_lossy().ends_with(".log.gz") {
            out.push(path);
        }
    }
}

/// The lines of `text`, split as `src/analyze/batches.rs` did before [`DecodePlan::lines`].
fn byte_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text)
        .map(Some)
        .chain([None])
        .map(move |end| {
            let end = end.unwrap_or(text.len());
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn main() {
    let dir = env(
        "FLOWLOG_BENCH_DIR",
        "/var/tmp/flowkeeper-bench/v5-n10000000-s1/AWSLogs",
    );
    let count: usize = env("FLOWLOG_BENCH_OBJECTS", "40")
        .parse()
        .expect("object count");
    let repeat: usize = env("FLOWLOG_BENCH_REPEAT", "5")
        .parse()
        .expect("repeat count");
    let mut paths = Vec::new();
    objects(Path::new(&dir), &mut paths);
    paths.truncate(count);
    assert!(!paths.is_empty(), "no .log.gz objects under {dir}");
    // (schema, text after the header line) per object.
    let mut texts = Vec::new();
    for path in &paths {
        let file = std::fs::File::open(path).expect("open object");
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(file)
            .read_to_end(&mut text)
            .expect("inflate object");
        let header_end = text.iter().position(|&b| b == b'\n').expect("header line");
        let header = std::str::from_utf8(&text[..header_end]).expect("UTF-8 header");
        let schema = Schema::from_header(header).expect("schema");
        texts.push((schema, text[header_end + 1..].to_vec()));
    }
    let lines: usize = texts
        .iter()
        .map(|(_, t)| t.iter().filter(|&&b| b == b'\n').count())
        .sum();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "{} objects, {lines} lines, {:.1} bytes/line",
        texts.len(),
        bytes as f64 / lines as f64
    );
    // `FLOWLOG_BENCH_FIELDS=srcaddr,dstport` times a plan of those fields instead.
    let fields: Vec<Field> = match std::env::var("FLOWLOG_BENCH_FIELDS") {
        Ok(names) => names
            .split(',')
            .filter(|n| !n.is_empty())
            .map(|n| Field::from_name(n).expect("a field name"))
            .collect(),
        Err(_) => FIELDS.to_vec(),
    };
    let plans: Vec<_> = texts.iter().map(|(s, _)| s.plan(&fields)).collect();
    // `FLOWLOG_BENCH_ONLY=plan/text` runs one measurement (e.g. to profile it).
    let only = env("FLOWLOG_BENCH_ONLY", "");
    let run = |label: &str, work: &mut dyn FnMut() -> u64| {
        if only.is_empty() || only == label {
            let secs = best(repeat, work);
            println!("{label:>10}: {:6.1} ns/line", secs * 1e9 / lines as f64);
        }
    };
    run("count", &mut || {
        texts
            .iter()
            .map(|(_, t)| memchr::memchr_iter(b'\n', t).count() as u64)
            .sum()
    });
    run("plan/line", &mut || {
        let mut sum = 0u64;
        for ((_, text), plan) in texts.iter().zip(&plans) {
            let mut record = FlowRecord::default();
            for line in byte_lines(text) {
                if line.is_empty() {
                    continue;
                }
                plan.decode(line, &mut record).expect("valid line");
                sum += record.bytes.unwrap_or(0);
            }
        }
        sum
    });
    run("utf8", &mut || {
        texts
            .iter()
            .map(|(_, t)| u64::from(std::str::from_utf8(t).is_ok()))
            .sum()
    });
    run("plan/text", &mut || {
        let mut sum = 0u64;
        for ((_, text), plan) in texts.iter().zip(&plans) {
            let mut record = FlowRecord::default();
            let mut lines = plan.lines(text);
            while let Some((line, result)) = lines.next(&mut record) {
                if line.is_empty() {
                    continue;
                }
                result.expect("valid line");
                sum += record.bytes.unwrap_or(0);
            }
        }
        sum
    });
    // The same with no field: what finding lines and values costs.
    let empty: Vec<_> = texts.iter().map(|(s, _)| s.plan(&[])).collect();
    run("plan/none", &mut || {
        let mut sum = 0u64;
        for ((_, text), plan) in texts.iter().zip(&empty) {
            let mut record = FlowRecord::default();
            let mut lines = plan.lines(text);
            while let Some((_, result)) = lines.next(&mut record) {
                sum += u64::from(result.is_ok());
            }
        }
        sum
    });
    run("full", &mut || {
        let mut sum = 0u64;
        for (schema, text) in &texts {
            let text = std::str::from_utf8(text).expect("UTF-8 text");
            let mut record = FlowRecord::default();
            for line in text.split('\n') {
                if line.is_empty() {
                    continue;
                }
                schema.decode_into(line, &mut record).expect("valid line");
                sum += record.bytes.unwrap_or(0);
            }
        }
        sum
    });
}
