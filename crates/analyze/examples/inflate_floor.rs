//! The inflate floor of `benches/analyze-speed`: libdeflate on every core and nothing else.
//!
//! `cargo run --release -p flowkeeper-analyze --example inflate_floor -- [--threads N] FILE...`
//!
//! Each thread takes the next file, reads it whole, inflates every gzip member of it at once
//! with libdeflate into a buffer sized from the member's trailer, and throws the output away.
//! Prints one line of JSON: wall seconds, bytes in and out, GB/s out, threads, peak RSS (KiB).
//! A file that is not gzip, or does not inflate, is an error (exit 1).

#![allow(unsafe_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_free_decompressor, libdeflate_gzip_decompress_ex,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// Inflates every member of `gz` into `out` (reused); returns the inflated bytes.
fn inflate_all(gz: &[u8], out: &mut Vec<u8>) -> Result<u64, String> {
    // SAFETY: no arguments; checked for NULL.
    let d = unsafe { libdeflate_alloc_decompressor() };
    if d.is_null() {
        return Err("libdeflate: out of memory".into());
    }
    let (mut at, mut total) = (0usize, 0u64);
    let mut result = Ok(());
    while at < gz.len() {
        // The member's size is in the last trailer of the rest only when it is the last member;
        // otherwise grow the buffer until it fits.
        let rest = &gz[at..];
        let declared = u32::from_le_bytes(rest[rest.len() - 4..].try_into().unwrap_or([0; 4]));
        let mut want = (declared as usize).max(rest.len() * 4).max(1 << 16);
        loop {
            if out.len() < want {
                out.resize(want, 0);
            }
            let (mut consumed, mut produced) = (0usize, 0usize);
            // SAFETY: pointers and lengths describe `rest` and `out`, live and unaliased.
            let r = unsafe {
                libdeflate_gzip_decompress_ex(
                    d,
                    rest.as_ptr().cast(),
                    rest.len(),
                    out.as_mut_ptr().cast(),
                    out.len(),
                    &mut consumed,
                    &mut produced,
                )
            };
            if r == libdeflate_result_LIBDEFLATE_SUCCESS {
                at += consumed;
                total += produced as u64;
                break;
            }
            // 3 = LIBDEFLATE_INSUFFICIENT_SPACE
            if r == 3 && want < (1 << 34) {
                want *= 2;
                continue;
            }
            result = Err(format!("libdeflate error {r} at byte {at}"));
            break;
        }
        if result.is_err() {
            break;
        }
    }
    // SAFETY: allocated above, freed once.
    unsafe { libdeflate_free_decompressor(d) };
    result.map(|()| total)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        threads = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(threads);
        args.drain(i..(i + 2).min(args.len()));
    }
    if args.is_empty() {
        eprintln!("usage: inflate_floor [--threads N] FILE...");
        std::process::exit(1);
    }
    let next = AtomicUsize::new(0);
    let (bytes_in, bytes_out) = (AtomicU64::new(0), AtomicU64::new(0));
    let failure = Mutex::new(None::<String>);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = args.get(i) else { break };
                    let done = std::fs::read(path)
                        .map_err(|e| e.to_string())
                        .and_then(|gz| {
                            bytes_in.fetch_add(gz.len() as u64, Ordering::Relaxed);
                            inflate_all(&gz, &mut out)
                        });
                    match done {
                        Ok(n) => {
                            bytes_out.fetch_add(n, Ordering::Relaxed);
                        }
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("{path}: {e}"));
                            break;
                        }
                    }
                }
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        eprintln!("inflate_floor: {e}");
        std::process::exit(1);
    }
    let out = bytes_out.load(Ordering::Relaxed);
    println!(
        "{{\"wall\": {wall:.4}, \"bytes_in\": {}, \"bytes_out\": {out}, \"gb_per_s\": {:.3}, \"threads\": {threads}, \"rss_kib\": {}}}",
        bytes_in.load(Ordering::Relaxed),
        out as f64 / wall / 1e9,
        peak_rss_kib().unwrap_or(0)
    );
}
