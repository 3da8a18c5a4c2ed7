//! The decoding half of a reading thread: [`Block`]s of lines → batches of classified
//! [`Flow`]s for the engine thread, plus what the job learned on the way (records and
//! malformed lines per source, records outside `--since/--until`).
//!
//! Everything here is per job and order-preserving, so the engine thread, which takes jobs
//! in order, sees the same sequence of flows whatever the threads' timing.

use std::collections::BTreeMap;

use flowkeeper_analyze::{Classifier, Flow, Origin};
use flowlog::FlowRecord;

use super::reader::Block;
use super::{EXAMPLES_PER_SOURCE, Registry};

/// Flows sent to the engine thread at once.
pub const BATCH_FLOWS: usize = 4096;

/// A classified record and where it came from.
pub type Observed = (Flow, Origin);

/// Counts of one source within one job.
#[derive(Debug, Default)]
pub struct SourceCounts {
    pub records: u64,
    pub malformed: u64,
    /// `name:line: why`, the first few.
    pub examples: Vec<String>,
}

/// What a job learned besides its flows; merged by the engine thread in job order.
#[derive(Debug, Default)]
pub struct JobTally {
    pub sources: BTreeMap<u32, SourceCounts>,
    pub outside_range: u64,
}

/// Decodes blocks of one job into batches.
pub struct Batcher<'a> {
    pub classifier: &'a Classifier,
    pub registry: &'a Registry,
    pub since: Option<u64>,
    pub until: Option<u64>,
    pub tally: JobTally,
    batch: Vec<Observed>,
}

impl<'a> Batcher<'a> {
    pub fn new(
        classifier: &'a Classifier,
        registry: &'a Registry,
        since: Option<u64>,
        until: Option<u64>,
    ) -> Batcher<'a> {
        Batcher {
            classifier,
            registry,
            since,
            until,
            tally: JobTally::default(),
            batch: Vec::with_capacity(BATCH_FLOWS),
        }
    }

    /// Decodes `block` of `source`; calls `send` with each full batch. False when `send`
    /// refused (the engine thread is gone).
    pub fn block(
        &mut self,
        source: u32,
        block: &Block<'_>,
        send: &mut dyn FnMut(Vec<Observed>) -> bool,
    ) -> bool {
        match std::str::from_utf8(block.text) {
            Ok(text) => self.lines(source, block, lines(text).map(Ok), send),
            // Rare: find the lines that are not UTF-8 and report them as malformed.
            Err(_) => self.lines(
                source,
                block,
                block.text.split(|&b| b == b'\n').map(std::str::from_utf8),
                send,
            ),
        }
    }

    fn lines<'t>(
        &mut self,
        source: u32,
        block: &Block<'_>,
        lines: impl Iterator<Item = Result<&'t str, std::str::Utf8Error>>,
        send: &mut dyn FnMut(Vec<Observed>) -> bool,
    ) -> bool {
        let mut record = FlowRecord::default();
        let (mut records, mut outside) = (0u64, 0u64);
        for (n, line) in (block.first_line..).zip(lines) {
            let line = match line {
                Ok(line) if is_blank(line) => continue,
                Ok(line) => line,
                Err(e) => {
                    self.malformed(source, n, &format!("not UTF-8 text ({e})"));
                    continue;
                }
            };
            // One schema per block: each line overwrites every field the schema has, so the
            // record needs no clearing between lines.
            if let Err(e) = block.schema.decode_into(line, &mut record) {
                self.malformed(source, n, &e.to_string());
                continue;
            }
            let start = record.start.map(|t| t.unix_secs());
            let end = record.end.map(|t| t.unix_secs()).or(start);
            if self.since.is_some_and(|s| end.is_some_and(|e| e < s))
                || self.until.is_some_and(|u| start.is_some_and(|st| st > u))
            {
                outside += 1;
                continue;
            }
            records += 1;
            self.batch
                .push((self.classifier.classify(&record), Origin::new(source, n)));
            if self.batch.len() == BATCH_FLOWS && !self.flush(send) {
                return false;
            }
        }
        self.tally.sources.entry(source).or_default().records += records;
        self.tally.outside_range += outside;
        true
    }

    fn malformed(&mut self, source: u32, line: u64, why: &str) {
        let counts = self.tally.sources.entry(source).or_default();
        counts.malformed += 1;
        if counts.examples.len() < EXAMPLES_PER_SOURCE {
            let name = self.registry.name(source);
            counts.examples.push(format!("{name}:{line}: {why}"));
        }
    }

    /// Sends what is batched. False when `send` refused.
    pub fn flush(&mut self, send: &mut dyn FnMut(Vec<Observed>) -> bool) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_FLOWS));
        send(full)
    }
}

/// The lines of `text` (split at `\n`, as `str::split` does, with SIMD search).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain([None])
        .map(move |end| {
            let end = end.unwrap_or(text.len());
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// Whether a line has nothing but whitespace (checked only when it starts with some).
#[inline]
fn is_blank(line: &str) -> bool {
    line.as_bytes()
        .first()
        .is_none_or(|b| b.is_ascii_whitespace() && line.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use flowkeeper_analyze::{Engine, RulePack};
    use flowlog::Schema;

    use super::*;

    fn ten_fields() -> Arc<Schema> {
        let header = "srcaddr dstaddr srcport dstport protocol packets bytes start end action";
        Arc::new(Schema::from_header(header).unwrap())
    }

    fn run(text: &[u8], since: Option<u64>) -> (Vec<Observed>, JobTally) {
        let engine = Engine::new(&RulePack::default_pack());
        let classifier = engine.classifier();
        let registry = Registry::default();
        registry.add("f.log".into());
        let schema = ten_fields();
        let mut batcher = Batcher::new(&classifier, &registry, since, None);
        let mut sent = Vec::new();
        let block = Block {
            schema: &schema,
            first_line: 2,
            text,
        };
        let mut send = |b: Vec<Observed>| {
            sent.extend(b);
            true
        };
        assert!(batcher.block(0, &block, &mut send));
        assert!(batcher.flush(&mut send));
        (sent, batcher.tally)
    }

    #[test]
    fn flows_keep_their_lines_and_bad_lines_are_counted_with_examples() {
        let mut text = b"10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 ACCEPT\n\n".to_vec();
        text.extend_from_slice(b"10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 MAYBE\n");
        text.extend_from_slice(b"10.0.0.1 \xff\xfe 1 2 6 1 40 100 101 ACCEPT\n");
        text.extend_from_slice(b"10.0.0.3 10.0.0.4 1 2 6 1 40 200 201 REJECT");
        let (flows, tally) = run(&text, None);
        let lines: Vec<u64> = flows.iter().map(|(_, o)| o.line).collect();
        assert_eq!(lines, [2, 6]);
        assert!(flows[1].0.rejected());
        let counts = &tally.sources[&0];
        assert_eq!((counts.records, counts.malformed), (2, 2));
        assert!(
            counts.examples[0].starts_with("f.log:4: "),
            "{:?}",
            counts.examples
        );
        assert!(
            counts.examples[1].starts_with("f.log:5: not UTF-8"),
            "{:?}",
            counts.examples
        );
    }

    #[test]
    fn lines_split_like_str_split() {
        for text in ["", "a", "a\n", "\n\n", "a\nb", "a\nb\n", "é\n ü \r\n"] {
            let ours: Vec<&str> = lines(text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
        assert!(is_blank("") && is_blank(" \t\r") && !is_blank(" x") && !is_blank("x "));
    }

    #[test]
    fn records_outside_the_range_are_counted_not_sent() {
        let text = b"10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 ACCEPT\n10.0.0.1 10.0.0.2 1 2 6 1 40 300 301 ACCEPT\n";
        let (flows, tally) = run(text, Some(200));
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].1.line, 3);
        assert_eq!(tally.outside_range, 1);
    }

    #[test]
    fn full_batches_go_out_as_they_fill_and_a_refusal_stops_the_job() {
        let text = "10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 ACCEPT\n".repeat(BATCH_FLOWS + 5);
        let engine = Engine::new(&RulePack::default_pack());
        let classifier = engine.classifier();
        let registry = Registry::default();
        let schema = ten_fields();
        let mut batcher = Batcher::new(&classifier, &registry, None, None);
        let block = Block {
            schema: &schema,
            first_line: 1,
            text: text.as_bytes(),
        };
        let mut sizes = Vec::new();
        assert!(batcher.block(0, &block, &mut |b| {
            sizes.push(b.len());
            true
        }));
        assert_eq!(sizes, [BATCH_FLOWS]);
        assert!(!batcher.block(0, &block, &mut |_| false));
    }
}
