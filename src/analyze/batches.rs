//! The decoding half of a reading thread: [`Block`]s of lines → batches of classified
//! [`Flow`]s for the engine thread, plus what the job learned on the way (records and
//! malformed lines per source, records outside `--since/--until`).
//!
//! Lines are decoded with the fields the classifier reads, the whole block in one pass
//! ([`flowlog::DecodePlan::lines`]: lines, values and ASCII-ness found together, each line's
//! result exactly the per-line decoder's), or with every column validated (`--strict`, the
//! full decoder, line by line). Either way the block's newlines are counted on the way
//! ([`Batcher::block_counted`]), so the lines after it are numbered without another pass.
//!
//! Everything here is per job and order-preserving, so the engine thread, which takes jobs
//! in order, sees the same sequence of flows whatever the threads' timing.

use std::collections::BTreeMap;

use std::sync::Arc;

use flowkeeper_analyze::{Classifier, Flow, Origin};
use flowlog::{DecodePlan, Field, FlowRecord, Schema};

use super::reader::Block;
use super::recycle::Recycler;
use super::{EXAMPLES_PER_SOURCE, Registry};

/// What a schema's header names that no detector will see.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeaderCheck {
    /// Misspellings of fields the rule pack reads and the header lacks (`dst-port` for
    /// `dstport`): every record of the source is read without them, so the detections that
    /// need them see nothing there, and its "no findings" would be a wrong all-clear. An
    /// error for the source (the run exits 1); its records are still analyzed.
    pub error: Option<String>,
    /// Columns that are no known field and no such misspelling: a field AWS added after
    /// this catalogue, or a misspelling of one nothing reads (or the header has anyway).
    pub warnings: Vec<String>,
}

/// The field a column name of `schema` misspells and `schema` has no column of
/// (`srcprot` → `srcport`): the header line's or `--fields`' mistake, not a field AWS added.
pub fn misspelled_field(schema: &Schema, name: &str) -> Option<Field> {
    flowlog::field::suggest(name)
        .and_then(Field::from_name)
        .filter(|f| !schema.contains(*f))
}

/// Checks a schema's header against the fields the rule pack reads (`needed`): see
/// [`HeaderCheck`].
pub fn check_header(schema: &Schema, needed: &[Field]) -> HeaderCheck {
    let mut check = HeaderCheck::default();
    let mut missing = Vec::new();
    for (_, name) in schema.unknown_columns() {
        let meant = flowlog::field::suggest(name);
        let lacks_needed = misspelled_field(schema, name).is_some_and(|f| needed.contains(&f));
        match meant {
            Some(meant) if lacks_needed => missing.push((name, meant)),
            Some(meant) => check.warnings.push(format!(
                "its header names `{name}`, which is not a flow-log field (did you mean \
                 `{meant}`?): the column is read as text and no detector sees it"
            )),
            None => check.warnings.push(format!(
                "its header names `{name}`, a field flowkeeper does not know: the column is \
                 read as text and no detector sees it"
            )),
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|(name, meant)| format!("`{name}` (did you mean `{meant}`?)"))
            .collect();
        let meant: Vec<String> = missing.iter().map(|(_, m)| format!("`{m}`")).collect();
        let (it, field) = match missing.len() {
            1 => ("it", "that field"),
            _ => ("them", "those fields"),
        };
        check.error = Some(format!(
            "its header names {} and no column of {field}: the rule pack reads {}, so this \
             source's records were analyzed without {it} and the detections that need {it} \
             saw nothing here; correct the header line and run again",
            names.join(", "),
            meant.join(", ")
        ));
    }
    check
}

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
    /// What the source's header says that the user should know (see [`check_header`]).
    pub warnings: Vec<String>,
    /// A header that misspells a field the pack reads (see [`check_header`]).
    pub header_error: Option<String>,
}

/// What a job learned besides its flows; merged by the engine thread in job order.
#[derive(Debug, Default)]
pub struct JobTally {
    pub sources: BTreeMap<u32, SourceCounts>,
    pub outside_range: u64,
}

impl JobTally {
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.outside_range == 0
    }
}

/// How lines are decoded: only the fields the classifier reads ([`flowlog::DecodePlan`], on
/// bytes), or every column validated (`--strict`, the full decoder over UTF-8 text).
#[derive(Clone, Copy)]
pub enum Decoding<'a> {
    Fields(&'a [Field]),
    Strict,
}

/// Everything a thread needs to decode blocks: shared by the reading threads and the engine
/// thread (which decodes the parts nobody took, see `super::pool`).
#[derive(Clone, Copy)]
pub struct Decode<'a> {
    pub classifier: &'a Classifier,
    pub registry: &'a Registry,
    pub decoding: Decoding<'a>,
    pub since: Option<u64>,
    pub until: Option<u64>,
    /// Where batch buffers come from and go back to (see `super::recycle`).
    pub batches: &'a Recycler<Observed>,
}

impl<'a> Decode<'a> {
    pub fn batcher(&self) -> Batcher<'a> {
        let mut batcher = Batcher::new(
            self.classifier,
            self.registry,
            self.decoding,
            self.since,
            self.until,
        );
        batcher.recycler = Some(self.batches);
        batcher
    }
}

/// Decodes blocks of one job into batches.
pub struct Batcher<'a> {
    pub classifier: &'a Classifier,
    pub registry: &'a Registry,
    pub since: Option<u64>,
    pub until: Option<u64>,
    pub tally: JobTally,
    decoding: Decoding<'a>,
    /// The plan of the last block's schema (blocks of one object share their schema).
    plan: Option<(Arc<Schema>, DecodePlan)>,
    /// The last (source, schema) whose header was checked for warnings.
    checked: Option<(u32, Arc<Schema>)>,
    /// Empty until the first flow (then a buffer of [`BATCH_FLOWS`], recycled when there is a
    /// recycler).
    batch: Vec<Observed>,
    recycler: Option<&'a Recycler<Observed>>,
}

impl<'a> Batcher<'a> {
    pub fn new(
        classifier: &'a Classifier,
        registry: &'a Registry,
        decoding: Decoding<'a>,
        since: Option<u64>,
        until: Option<u64>,
    ) -> Batcher<'a> {
        Batcher {
            classifier,
            registry,
            since,
            until,
            tally: JobTally::default(),
            decoding,
            plan: None,
            checked: None,
            batch: Vec::new(),
            recycler: None,
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
        self.block_counted(source, block, send).is_some()
    }

    /// [`Batcher::block`], also counting the block's newlines on the way (so its caller
    /// needs no pass of its own to number the lines after it): `None` when `send` refused.
    pub fn block_counted(
        &mut self,
        source: u32,
        block: &Block<'_>,
        send: &mut dyn FnMut(Vec<Observed>) -> bool,
    ) -> Option<u64> {
        if !matches!(&self.checked, Some((s, schema)) if *s == source && Arc::ptr_eq(schema, block.schema))
        {
            let check = check_header(block.schema, &self.classifier.fields());
            let counts = self.tally.sources.entry(source).or_default();
            for w in check.warnings {
                if !counts.warnings.contains(&w) {
                    counts.warnings.push(w);
                }
            }
            if counts.header_error.is_none() {
                counts.header_error = check.error;
            }
            self.checked = Some((source, block.schema.clone()));
        }
        let fields = match self.decoding {
            Decoding::Fields(fields) => fields,
            Decoding::Strict => return self.block_strict(source, block, send),
        };
        let plan = match self.plan.take() {
            Some((schema, plan)) if Arc::ptr_eq(&schema, block.schema) => (schema, plan),
            _ => (block.schema.clone(), block.schema.plan(fields)),
        };
        let mut record = FlowRecord::default();
        let (mut records, mut outside) = (0u64, 0u64);
        let mut alive = true;
        // One pass over the block finds its lines and their values (`DecodePlan::lines`).
        let mut lines = plan.1.lines(block.text);
        let mut n = block.first_line;
        // One plan per block: each line decoded overwrites every field the plan reads, so the
        // record needs no clearing between lines (nor after a blank line, decoded for nothing).
        while let Some((line, decoded)) = lines.next(&mut record) {
            n += 1;
            if is_blank_bytes(line) {
                continue;
            }
            if let Err(e) = decoded {
                self.malformed(source, n - 1, &e.to_string());
                continue;
            }
            match self.keep(&record, source, n - 1, send) {
                Kept::Yes => records += 1,
                Kept::Outside => outside += 1,
                Kept::Malformed => {}
                Kept::Stop => {
                    alive = false;
                    break;
                }
            }
        }
        self.plan = Some(plan);
        self.tally.sources.entry(source).or_default().records += records;
        self.tally.outside_range += outside;
        // Every newline ends a line and starts another: one line more than newlines.
        alive.then(|| n - block.first_line - 1)
    }

    /// `--strict`: the whole block must be UTF-8 text and every column of every line valid.
    fn block_strict(
        &mut self,
        source: u32,
        block: &Block<'_>,
        send: &mut dyn FnMut(Vec<Observed>) -> bool,
    ) -> Option<u64> {
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
    ) -> Option<u64> {
        let mut record = FlowRecord::default();
        let (mut records, mut outside) = (0u64, 0u64);
        let mut next = block.first_line;
        for (n, line) in (block.first_line..).zip(lines) {
            next = n + 1;
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
            match self.keep(&record, source, n, send) {
                Kept::Yes => records += 1,
                Kept::Outside => outside += 1,
                Kept::Malformed => {}
                Kept::Stop => return None,
            }
        }
        self.tally.sources.entry(source).or_default().records += records;
        self.tally.outside_range += outside;
        Some(next - block.first_line - 1)
    }

    /// Classifies a decoded record into the batch unless it is outside `--since/--until`;
    /// sends the batch when it is full.
    #[inline]
    fn keep(
        &mut self,
        record: &FlowRecord<'_>,
        source: u32,
        line: u64,
        send: &mut dyn FnMut(Vec<Observed>) -> bool,
    ) -> Kept {
        if let Some(why) = impossible_counts(record) {
            self.malformed(source, line, &why);
            return Kept::Malformed;
        }
        let start = record.start.map(|t| t.unix_secs());
        let end = record.end.map(|t| t.unix_secs()).or(start);
        if self.since.is_some_and(|s| end.is_some_and(|e| e < s))
            || self.until.is_some_and(|u| start.is_some_and(|st| st > u))
        {
            return Kept::Outside;
        }
        if self.batch.capacity() == 0 {
            self.batch = self.fresh_batch();
        }
        self.batch
            .push((self.classifier.classify(record), Origin::new(source, line)));
        if self.batch.len() == BATCH_FLOWS && !self.flush(send) {
            return Kept::Stop;
        }
        Kept::Yes
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
        // The next buffer is taken when the next flow comes (none after the last batch).
        send(std::mem::take(&mut self.batch))
    }

    /// An empty batch buffer: a recycled one, else a new one.
    fn fresh_batch(&self) -> Vec<Observed> {
        match self.recycler {
            Some(r) => r.take(),
            None => Vec::with_capacity(BATCH_FLOWS),
        }
    }
}

/// What [`Batcher::keep`] did with a record.
enum Kept {
    Yes,
    Outside,
    /// Counted as malformed (`impossible_counts`).
    Malformed,
    /// The engine thread is gone.
    Stop,
}

/// The largest IP packet (an IPv4 total length, an IPv6 payload without jumbograms; a VPC's
/// MTU is 9,001): a record with more bytes per packet, or bytes without packets, was not
/// written by a flow log, and believing it would make one line a gigabyte exfiltration.
const MAX_PACKET_BYTES: u64 = 65_535;

/// Why a record's `packets` and `bytes` cannot be real, when they cannot (both decoded).
fn impossible_counts(record: &FlowRecord<'_>) -> Option<String> {
    let (Some(packets), Some(bytes)) = (record.packets, record.bytes) else {
        return None;
    };
    (bytes > packets.saturating_mul(MAX_PACKET_BYTES)).then(|| {
        format!(
            "`bytes` {bytes} in {packets} `packets`: more than {MAX_PACKET_BYTES} bytes a packet \
             (the largest IP packet), not a record a flow log writes"
        )
    })
}

/// [`is_blank`] on bytes: the same answer (Unicode whitespace included), looked at only when
/// the line starts with ASCII whitespace.
#[inline]
fn is_blank_bytes(line: &[u8]) -> bool {
    line.first().is_none_or(|b| {
        b.is_ascii_whitespace() && std::str::from_utf8(line).is_ok_and(|l| l.trim().is_empty())
    })
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

    /// Decodes `text` (lines from 2 on) under `schema`, with the classifier's fields or
    /// strictly.
    fn run_with(
        schema: Arc<Schema>,
        text: &[u8],
        since: Option<u64>,
        strict: bool,
    ) -> (Vec<Observed>, JobTally) {
        let engine = Engine::new(&RulePack::default_pack());
        let classifier = engine.classifier();
        let fields = classifier.fields();
        let decoding = match strict {
            true => Decoding::Strict,
            false => Decoding::Fields(&fields),
        };
        let registry = Registry::default();
        registry.add("f.log".into());
        let mut batcher = Batcher::new(&classifier, &registry, decoding, since, None);
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

    /// [`run_with`] both ways over the ten-field schema; both must send the same flows.
    fn run(text: &[u8], since: Option<u64>) -> (Vec<Observed>, JobTally) {
        let (flows, tally) = run_with(ten_fields(), text, since, false);
        let (strict, strict_tally) = run_with(ten_fields(), text, since, true);
        assert_eq!(flows, strict);
        assert_eq!(tally.outside_range, strict_tally.outside_range);
        (flows, tally)
    }

    #[test]
    fn only_strict_decoding_rejects_a_bad_value_in_a_column_the_classifier_does_not_read() {
        let schema =
            || Arc::new(Schema::from_header("version account-id srcaddr dstaddr").unwrap());
        let text = b"x 12345 10.0.0.1 10.0.0.2\n2 \xff 10.0.0.3 10.0.0.4\n";
        let (flows, tally) = run_with(schema(), text, None, false);
        assert_eq!(flows.len(), 2);
        assert_eq!(tally.sources[&0].malformed, 0);
        let (flows, tally) = run_with(schema(), text, None, true);
        assert_eq!(flows.len(), 0);
        assert_eq!(
            tally.sources[&0].malformed, 2,
            "{:?}",
            tally.sources[&0].examples
        );
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
            counts.examples[1].starts_with("f.log:5: ") && counts.examples[1].contains("not UTF-8"),
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
    fn blocks_count_their_newlines_both_ways() {
        let good = "10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 ACCEPT";
        let texts = [
            String::new(),
            "\n".into(),
            good.into(),
            format!("{good}\n"),
            format!("{good}\r\n\n \n{good}\nbad line\n{good}"),
            format!("{good}\n\u{e9} x\n\n"),
        ];
        let engine = Engine::new(&RulePack::default_pack());
        let classifier = engine.classifier();
        let fields = classifier.fields();
        let registry = Registry::default();
        let schema = ten_fields();
        for text in &texts {
            let want = memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64;
            for decoding in [Decoding::Fields(&fields), Decoding::Strict] {
                let mut batcher = Batcher::new(&classifier, &registry, decoding, None, None);
                let block = Block {
                    schema: &schema,
                    first_line: 7,
                    text: text.as_bytes(),
                };
                let got = batcher.block_counted(0, &block, &mut |_| true);
                assert_eq!(got, Some(want), "{text:?}");
            }
        }
    }

    #[test]
    fn blank_crlf_and_non_ascii_lines_decode_as_line_by_line() {
        // Lines through both paths of `DecodePlan::lines` (ASCII, and the per-line decoder for
        // lines with other bytes), blank lines among them: the same flows, lines and errors
        // as the full decoder gives (`run` compares), and the expected ones.
        let mut text = b"10.0.0.1 10.0.0.2 1 2 6 1 40 100 101 ACCEPT\r\n".to_vec();
        text.extend_from_slice(b" \t\n\r\n");
        text.extend_from_slice("10.0.0.3 10.0.0.4 1 2 6 1 40 100 101 \u{e9}\n".as_bytes());
        text.extend_from_slice(b"10.0.0.5 10.0.0.6 1 2 6 1 40 100 101 REJECT \n");
        text.extend_from_slice(b"10.0.0.7 10.0.0.8 1 2 6 1 40 100 101 REJECT\xff\n");
        text.extend_from_slice(b"10.0.0.9 10.0.0.1 1 2 6 1 40 100 101 REJECT\n");
        let (flows, tally) = run(&text, None);
        let lines: Vec<u64> = flows.iter().map(|(_, o)| o.line).collect();
        assert_eq!(lines, [2, 8]);
        let counts = &tally.sources[&0];
        assert_eq!((counts.records, counts.malformed), (2, 3), "{counts:?}");
        for (example, line) in counts.examples.iter().zip(["5", "6", "7"]) {
            assert!(example.starts_with(&format!("f.log:{line}: ")), "{example}");
        }
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
        let fields = classifier.fields();
        let mut batcher = Batcher::new(
            &classifier,
            &registry,
            Decoding::Fields(&fields),
            None,
            None,
        );
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
