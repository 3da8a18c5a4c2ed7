//! Rough decode throughput on synthetic in-memory records (no I/O):
//! `cargo run --release -p flowlog --example decode_speed [records]`.
//!
//! Measures the default v2 format and a 29-field v5 format, decoding into one reused record
//! and into a fresh record per line, against a bare `split(' ')` baseline. Times are this
//! thread's on-CPU time where Linux reports it (so a busy machine skews them less), else wall
//! time. Numbers are indicative only.

use std::hint::black_box;
use std::time::Instant;

/// Nanoseconds this thread has spent on a CPU, if the OS says (Linux schedstat).
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Seconds `work` took: on-CPU time when available, else wall time.
fn time(work: impl FnOnce()) -> f64 {
    let (cpu, wall) = (cpu_ns(), Instant::now());
    work();
    match (cpu, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall.elapsed().as_secs_f64(),
    }
}

use flowlog::{FlowRecord, Schema};

const V5_HEADER: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn addr(rng: &mut Rng) -> String {
    if rng.below(20) == 0 {
        format!("2001:db8:{:x}::{:x}", rng.below(65536), rng.below(65536))
    } else {
        format!(
            "{}.{}.{}.{}",
            rng.below(223) + 1,
            rng.below(256),
            rng.below(256),
            rng.below(256)
        )
    }
}

fn v2_lines(n: usize, rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..n {
        let start = 1_700_000_000 + rng.below(86_400);
        if rng.below(50) == 0 {
            out += &format!(
                "2 123456789012 eni-0{:016x} - - - - - - - {start} {} - NODATA\n",
                rng.next(),
                start + 60
            );
            continue;
        }
        out += &format!(
            "2 123456789012 eni-0{:016x} {} {} {} {} 6 {} {} {start} {} {} OK\n",
            rng.next(),
            addr(rng),
            addr(rng),
            rng.below(65536),
            rng.below(1024),
            rng.below(1000) + 1,
            rng.below(1_000_000) + 40,
            start + 60,
            if rng.below(4) == 0 {
                "REJECT"
            } else {
                "ACCEPT"
            }
        );
    }
    out
}

fn v5_lines(n: usize, rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..n {
        let start = 1_700_000_000 + rng.below(86_400);
        let (src, dst) = (addr(rng), addr(rng));
        out += &format!(
            "5 {src} {dst} {} 443 6 {start} {} IPv4 {} {} 123456789012 vpc-0{:016x} subnet-0{:016x} i-0{:016x} eni-0{:016x} us-east-1 use1-az4 - - ACCEPT {} {src} {dst} - S3 {} egress OK\n",
            rng.below(65536),
            start + 60,
            rng.below(1000) + 1,
            rng.below(1_000_000) + 40,
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next(),
            rng.below(32),
            rng.below(8) + 1,
        );
    }
    out
}

fn measure(label: &str, schema: &Schema, text: &str) {
    let n = text.lines().count();
    let mb = text.len() as f64 / 1e6;
    let mut best_reuse = f64::MAX;
    let mut best_fresh = f64::MAX;
    for _ in 0..5 {
        best_reuse = best_reuse.min(time(|| {
            let mut record = FlowRecord::default();
            let mut bytes = 0u64;
            for line in text.lines() {
                schema.decode_into(line, &mut record).expect("valid line");
                bytes += record.bytes.unwrap_or(0);
            }
            black_box(bytes);
        }));
        best_fresh = best_fresh.min(time(|| {
            let mut ports = 0u64;
            for line in text.lines() {
                let record = schema.decode(line).expect("valid line");
                ports += u64::from(record.dstport.unwrap_or(0));
            }
            black_box(ports);
        }));
    }
    let mut best_split = f64::MAX;
    for _ in 0..5 {
        best_split = best_split.min(time(|| {
            let mut values = 0usize;
            for line in text.lines() {
                values += line.split(' ').count();
            }
            black_box(values);
        }));
    }
    for (how, secs) in [
        ("reused record", best_reuse),
        ("fresh record", best_fresh),
        ("split only", best_split),
    ] {
        println!(
            "{label:>10} {how:>13}: {n} records, {:6.1} ns/record, {:6.1} M records/s, {:6.0} MB/s",
            secs * 1e9 / n as f64,
            n as f64 / secs / 1e6,
            mb / secs
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|s| s.parse().expect("record count"))
        .unwrap_or(1_000_000);
    // `gen` only builds the input (to subtract it when counting instructions); `dump-v2`
    // prints the v2 input with a header line, to run other tools on the same data.
    let mode = args.next().unwrap_or_default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let v2 = v2_lines(n, &mut rng);
    let v5 = v5_lines(n, &mut rng);
    let v5_schema = Schema::from_header(V5_HEADER).unwrap();
    match mode.as_str() {
        "gen" => {}
        "dump-v2" => print!("{}\n{v2}", Schema::default()),
        "reuse" => {
            for (schema, text) in [(&Schema::default(), &v2), (&v5_schema, &v5)] {
                let mut record = FlowRecord::default();
                for line in text.lines() {
                    schema.decode_into(line, &mut record).expect("valid line");
                    black_box(&record);
                }
            }
        }
        _ => {
            measure("v2 (14)", &Schema::default(), &v2);
            measure("v5 (29)", &v5_schema, &v5);
        }
    }
}
