//! Classification ([`Classifier::classify`]) measured on a real dataset, and checked against
//! a reference: the flows of every record equal what the straightforward rules give.

mod common;

use std::io::Read;

use flowkeeper_analyze::Engine;

/// Classification cost per record: the records of a dataset's first objects
/// (`CLASSIFY_COST_DIR=<dir>`, `CLASSIFY_COST_OBJECTS=<n>`, default 40, `CLASSIFY_COST_RULES`
/// a layer over the default pack, like `--rules zones.yaml`), decoded beforehand, then
/// classified in a loop. Prints ns/record. Run it in release: `cargo test --release -p
/// flowkeeper-analyze --test classify -- --ignored --nocapture classify_cost`.
#[test]
#[ignore = "a measurement, not a check: run in release with --ignored --nocapture"]
fn classify_cost_per_record() {
    let Some(dir) = std::env::var_os("CLASSIFY_COST_DIR") else {
        eprintln!("set CLASSIFY_COST_DIR");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let n: usize = std::env::var("CLASSIFY_COST_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let rules = std::env::var_os("CLASSIFY_COST_RULES").map(std::path::PathBuf::from);
    let pack = match &rules {
        Some(p) => common::layered_pack(
            p.parent().unwrap(),
            &[p.file_name().unwrap().to_str().unwrap()],
        ),
        None => common::layered_pack(&dir, &[]),
    };
    let cx = Engine::new(&pack).classifier();
    let mut texts = Vec::new();
    for path in common::objects_in_order(&dir).into_iter().take(n) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        texts.push(text);
    }
    let files: Vec<flowlog::S3TextFile<'_>> = texts
        .iter()
        .map(|t| flowlog::S3TextFile::parse(t).unwrap())
        .collect();
    // Lines are decoded a chunk at a time (the records then sit in cache, as the pipeline's
    // one record does when it is classified) and only the classification of the chunk is
    // timed.
    let lines: Vec<(&flowlog::Schema, &str)> = files
        .iter()
        .flat_map(|f| f.lines().map(move |(_, l)| (f.schema(), l)))
        .collect();
    let mut chunk = vec![flowlog::FlowRecord::default(); 1024];
    let mut best = f64::MAX;
    let mut check = 0u64;
    for _ in 0..5 {
        let mut spent = 0.0;
        check = 0;
        for part in lines.chunks(chunk.len()) {
            for ((schema, line), record) in part.iter().zip(chunk.iter_mut()) {
                schema.decode_into(line, record).unwrap();
            }
            let t = std::time::Instant::now();
            for record in &chunk[..part.len()] {
                let f = std::hint::black_box(cx.classify(std::hint::black_box(record)));
                check = check.wrapping_add(u64::from(f.sport) + f.client_probe as u64);
            }
            spent += t.elapsed().as_secs_f64();
        }
        best = best.min(spent);
    }
    println!(
        "classify: {:.1} ns/record over {} records (check {check})",
        best * 1e9 / lines.len() as f64,
        lines.len()
    );
    assert!(!lines.is_empty());
}
