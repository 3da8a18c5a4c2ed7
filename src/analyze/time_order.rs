//! Files whose names carry no time, read in the order of their records' times, and the hold
//! that keeps windows open for the files still to come.
//!
//! The engine closes a window once its record times are `allowed_lateness` behind the
//! newest one, and a record of a closed window is late (left out of detections). Objects
//! named as AWS names them (`_YYYYMMDDTHHmmZ_`) are put in time order by their names
//! (`order_by_key_time`). Files with other names (per-interface or per-stream exports, a
//! directory of `part-0001.gz`) may each cover the same hours: read one after another, every
//! file after the first would be late, and a port scan in the last one would end as
//! "No findings". So before the run, each such file's first records (at most [`HEAD_BYTES`]
//! of text, inflated if gzip), and those of the AWS-named files beside them, so that both
//! kinds interleave, are read for a time they start from ([`start_of`]); the
//! files are put in that order within the places they held; and while such a file is read,
//! the engine's watermark follows that file's own records, not the newest time of the files
//! before it, and stays behind the earliest start of the files after it
//! (`flowkeeper_analyze::Hold`): no window that a file may still add to closes before that
//! file is read.
//!
//! The hold costs memory (windows stay open until the last overlapping file begins; the state
//! budget bounds it, and a refused key is a limit as always) and nothing else: findings are
//! those of the records in time order. Standard input, Parquet files and S3 objects are not
//! looked at ahead (their order is the input's).

use std::io::Read;
use std::path::Path;

use flowkeeper_analyze::Hold;
use flowlog::{FlowRecord, Schema};

use super::Job;
use super::reader;

/// Text read from the start of a file to find when its records start.
pub const HEAD_BYTES: usize = 64 << 10;

/// Records of the head looked at (the first ones, after a header).
const HEAD_RECORDS: usize = 512;

/// How many of the earliest head times are passed over, so one stray line (a clock years
/// behind, a test record) does not hold every window of the run open.
const STRAY: usize = 4;

/// Reorders the jobs that are local files by the start of their records (ties and files
/// without a readable time keep their order), when at least one of them has no AWS key time
/// and there are two or more; returns for each job the hold the engine keeps while reading
/// it ([`Hold`]): for each such file, the earliest start of the files after it; `None` for
/// every other job. `fallback` is the schema of headerless lines. Nothing is read when the
/// files all carry AWS's time in their names (their names put them in order) or there is
/// only one.
pub fn order_and_hold(jobs: &mut [Job], fallback: &Schema) -> Vec<Option<Hold>> {
    let files: Vec<usize> = jobs
        .iter()
        .enumerate()
        .filter(|(_, j)| matches!(j, Job::File(_)))
        .map(|(i, _)| i)
        .collect();
    let untimed = files
        .iter()
        .filter(|&&i| matches!(&jobs[i], Job::File(p) if !has_key_time(p)))
        .count();
    // Objects under AWS's names alone are in time order by name. Beside files without a
    // time (per-interface exports of the same hours), they are read ahead and ordered with
    // them: ordered apart, whichever group came second was late.
    if untimed == 0 || files.len() < 2 {
        return vec![None; jobs.len()];
    }
    let mut timed: Vec<(usize, Option<(u64, u64)>)> = files
        .iter()
        .map(|&i| {
            let Job::File(path) = &jobs[i] else {
                unreachable!("only files are read ahead")
            };
            (i, file_start(path, fallback))
        })
        .collect();
    // Files without a time keep their place: only timed ones move, among timed slots.
    timed.retain(|(_, t)| t.is_some());
    let slots: Vec<usize> = timed.iter().map(|(i, _)| *i).collect();
    let mut order = timed.clone();
    order.sort_by_key(|&(i, t)| (t, i));
    let moved: Vec<Job> = order
        .iter()
        .map(|(i, _)| std::mem::replace(&mut jobs[*i], Job::Stdin))
        .collect();
    let mut starts = vec![None; jobs.len()];
    for ((slot, job), (_, t)) in slots.iter().zip(moved).zip(&order) {
        jobs[*slot] = job;
        starts[*slot] = *t;
    }
    let later = later_starts(&starts.iter().map(|t| t.map(|t| t.0)).collect::<Vec<_>>());
    let earliest = later_starts(&starts.iter().map(|t| t.map(|t| t.1)).collect::<Vec<_>>());
    let mut out = vec![None; jobs.len()];
    for &i in &files {
        out[i] = Some(Hold {
            job: i,
            later: later[i],
            earliest: earliest[i],
        });
    }
    out
}

/// For each position, the earliest start of the positions after it.
fn later_starts(starts: &[Option<u64>]) -> Vec<Option<u64>> {
    let mut out = vec![None; starts.len()];
    let mut later: Option<u64> = None;
    for (i, start) in starts.iter().enumerate().rev() {
        out[i] = later;
        later = match (later, *start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    out
}

fn has_key_time(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|p| crate::model::layout::parse_object_key(p).is_some())
}

/// When the records of a file start: see [`start_of`]. `None` when it cannot be read or
/// has no record time in its head (it then keeps its place and holds nothing).
fn file_start(path: &Path, fallback: &Schema) -> Option<(u64, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).ok()?;
    let magic = &magic[..n];
    let head = std::io::Cursor::new(magic.to_vec()).chain(file);
    let mut text = Vec::with_capacity(HEAD_BYTES);
    if reader::is_gzip(magic) {
        flate2::read::MultiGzDecoder::new(head)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut text)
            .ok()?;
    } else if magic.starts_with(b"PAR1") {
        return None;
    } else {
        head.take(HEAD_BYTES as u64).read_to_end(&mut text).ok()?;
    }
    start_of(&text, fallback)
}

/// The time the records of a head of text start from: the first line's schema if it is a
/// header (else `fallback`), each record's `start` (else `end`), over the first
/// [`HEAD_RECORDS`] records of whole lines; the earliest after passing over [`STRAY`] of
/// the earliest (when there are more than that many).
/// Also returns the earliest head time with no stray passed over (the dedupe's hold).
pub fn start_of(text: &[u8], fallback: &Schema) -> Option<(u64, u64)> {
    // Whole lines only: the head may end inside one.
    let text = match memchr::memrchr(b'\n', text) {
        Some(end) => &text[..end],
        None => return None,
    };
    let mut lines = text.split(|&b| b == b'\n').peekable();
    let header = lines
        .peek()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(reader::header_schema);
    if header.is_some() {
        lines.next();
    }
    let schema = header.as_ref().unwrap_or(fallback);
    let mut times: Vec<u64> = Vec::new();
    let mut record = FlowRecord::default();
    for line in lines {
        if times.len() == HEAD_RECORDS {
            break;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        if schema.decode_into(line, &mut record).is_err() {
            continue;
        }
        if let Some(t) = record.start.or(record.end) {
            times.push(t.unix_secs());
        }
    }
    times.sort_unstable();
    let skip = if times.len() > 2 * STRAY { STRAY } else { 0 };
    Some((*times.get(skip)?, times[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

    fn line(start: u64) -> String {
        format!(
            "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 3 300 {start} {} ACCEPT OK",
            start + 60
        )
    }

    #[test]
    fn a_later_start_is_the_earliest_start_after_it() {
        let starts = [Some(50), None, Some(30), Some(40), None];
        assert_eq!(
            later_starts(&starts),
            vec![Some(30), Some(30), Some(40), None, None]
        );
    }

    #[test]
    fn a_head_starts_at_its_earliest_record_past_a_few_strays() {
        let mut text = format!("{HEADER}\n");
        // Out of order, as AWS writes them; two stray lines years behind.
        for t in [1000, 900, 1100, 5, 950, 1200, 7, 990, 1010, 1020, 1030] {
            text.push_str(&line(t));
            text.push('\n');
        }
        text.push_str("2 123456789012 eni-1 10.0.0.1"); // cut mid-line: not read
        assert_eq!(
            start_of(text.as_bytes(), &Schema::default_v2()).map(|t| t.0),
            Some(990),
            "4 earliest passed over of 11"
        );
        let few = format!("{HEADER}\n{}\n{}\n", line(2000), line(1990));
        assert_eq!(
            start_of(few.as_bytes(), &Schema::default_v2()).map(|t| t.0),
            Some(1990)
        );
        let headerless = format!("{}\n", line(77));
        assert_eq!(
            start_of(headerless.as_bytes(), &Schema::default_v2()).map(|t| t.0),
            Some(77)
        );
        assert_eq!(start_of(b"not a flow log\n", &Schema::default_v2()), None);
    }

    #[test]
    fn files_without_a_key_time_go_in_the_order_of_their_records() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, start: u64| {
            let path = dir.path().join(name);
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(
                &mut gz,
                format!("{HEADER}\n{}\n{}\n", line(start), line(start + 5)).as_bytes(),
            )
            .unwrap();
            std::fs::write(&path, gz.finish().unwrap()).unwrap();
            path
        };
        let (a, b, c) = (
            write("a.gz", 3000),
            write("b.gz", 1000),
            write("c.gz", 2000),
        );
        let untimed = dir.path().join("d.log");
        std::fs::write(&untimed, "nothing here\n").unwrap();
        let mut jobs = vec![
            Job::File(a.clone()),
            Job::Stdin,
            Job::File(b.clone()),
            Job::File(untimed.clone()),
            Job::File(c.clone()),
        ];
        let holds = order_and_hold(&mut jobs, &Schema::default_v2());
        let files: Vec<Option<&Path>> = jobs
            .iter()
            .map(|j| match j {
                Job::File(p) => Some(p.as_path()),
                _ => None,
            })
            .collect();
        assert_eq!(
            files,
            vec![
                Some(b.as_path()),
                None,
                Some(c.as_path()),
                Some(untimed.as_path()),
                Some(a.as_path())
            ]
        );
        let hold = |job, later| {
            Some(Hold {
                job,
                later,
                earliest: later,
            })
        };
        assert_eq!(
            holds,
            vec![
                hold(0, Some(2000)),
                None,
                hold(2, Some(3000)),
                hold(3, Some(3000)),
                hold(4, None)
            ]
        );
    }
}
