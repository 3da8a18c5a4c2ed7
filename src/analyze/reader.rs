//! Turns one stored object (a file or an S3 object, gzip, plain or Parquet, told apart by
//! magic bytes; Parquet rows become text lines in `super::parquet_text`)
//! into [`Block`]s of whole lines with the schema to decode them: the header line of an S3
//! text file, else the declared format. A later line that is a header of known field names
//! (objects concatenated into one stream or file repeat theirs) is no record: it starts a new
//! block with its schema, and line numbers go on counting it.
//!
//! Two paths, same blocks: an object in memory that is one gzip member within the bytes the
//! caller holds for it (`super::pool`) is inflated at once by libdeflate (`super::inflate`)
//! into a buffer of that grant and handed over as one block with the [`Whole`] it is a slice
//! of (which `super::job` cuts into parts for every thread, sharing it);
//! everything else streams through zlib-rs in blocks of about [`BLOCK_BYTES`]. A truncated or damaged gzip stream is reported for that object with the
//! last complete line before the damage; the lines before it are still delivered.

use std::io::Read;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use flowlog::Schema;

use super::inflate::Inflater;
use super::parquet_text;
use super::pool::{Grant, Whole};

/// What a reader calls with each block: the block, and the whole inflated object it is a
/// slice of, when it is one (so parts can share it instead of copying; see `super::pool`).
pub type Visit<'v> = dyn FnMut(Block<'_>, Option<&Arc<Whole>>) -> bool + 'v;

/// Bytes read per block when streaming.
pub const BLOCK_BYTES: usize = 1 << 20;

/// The longest line a stream may have (flow-log lines are well under 2 KB): an object with a
/// longer one is not a flow log, and reading on would hold it all in memory.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// A run of whole lines (each ending in `\n`, but maybe the last) from one object.
pub struct Block<'a> {
    pub schema: &'a Arc<Schema>,
    /// Line number (1-based) of the first line in `text`.
    pub first_line: u64,
    pub text: &'a [u8],
}

/// Whether a line is an S3 flow-log header: every token looks like a field name and at least
/// one is a field flowkeeper knows. Names it does not know (a field AWS added later) stay in
/// the schema as raw-text columns, so their files are read rather than all malformed; a
/// record line never passes (its values are numbers, addresses, upper-case words or ids,
/// none of them a field name).
pub fn header_schema(line: &str) -> Option<Schema> {
    let first = line.split_ascii_whitespace().next()?;
    if first.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    Schema::from_header(line)
        .ok()
        .filter(|s| s.len() > s.unknown_columns().count())
}

/// Whether a line inside an object (not its first) is a flow-log header, and its schema:
/// every token a field name flowkeeper knows. AWS writes one at the top of each object, so
/// objects concatenated into one stream (`zcat a.gz b.gz | flowkeeper analyze -`) repeat
/// it; it is no record, and the lines after it are read with it, as a new object would be.
/// Asked only of lines starting with a lower-case letter (`visit_runs` finds them); its
/// first token must be a field name before the rest is looked at.
fn inner_header(line: &[u8]) -> Option<Schema> {
    let first = line.split(|&b| b == b' ').next()?;
    flowlog::Field::from_name(std::str::from_utf8(first).ok()?)?;
    let text = std::str::from_utf8(line).ok()?;
    if !text
        .split_ascii_whitespace()
        .all(|t| flowlog::Field::from_name(t).is_some())
    {
        return None;
    }
    Schema::from_header(text).ok()
}

/// Visits `text` (whole lines, the first numbered `first_line`, read with `schema`) as runs
/// of records between [`inner_header`] lines, each run with the schema in force; `schema` is
/// left as the one in force after `text`. False when `visit` said stop.
fn visit_runs(
    text: &[u8],
    first_line: u64,
    schema: &mut Arc<Schema>,
    whole: Option<&Arc<Whole>>,
    visit: &mut Visit<'_>,
) -> bool {
    let (mut run, mut run_line) = (0usize, first_line);
    // Only a line starting with a lower-case letter can be a header: those are found by a
    // newline scan, 64 bytes at a time, and the lines between them are counted only when
    // one is a header.
    let mut at = 0usize;
    while let Some(start) = flowlog::next_line_start(text, at, |b| b.is_ascii_lowercase()) {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i + 1);
        if let Some(h) = inner_header(text[start..end].trim_ascii_end()) {
            if start > run {
                let block = Block {
                    schema,
                    first_line: run_line,
                    text: &text[run..start],
                };
                if !visit(block, whole) {
                    return false;
                }
            }
            if **schema != h {
                *schema = Arc::new(h);
            }
            run_line += lines_in(&text[run..start]) + 1;
            run = end;
        }
        at = end;
    }
    if run < text.len() {
        let block = Block {
            schema,
            first_line: run_line,
            text: &text[run..],
        };
        return visit(block, whole);
    }
    true
}

/// The lines of `text`: its newlines, and one more for a last line without one.
fn lines_in(text: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', text).count() as u64;
    newlines + u64::from(text.last().is_some_and(|&b| b != b'\n'))
}

/// One reading thread's decompressor and streaming sizes (whole-object buffers come from
/// the grant of the object, see `super::pool`).
pub struct Reader {
    inflater: Inflater,
    /// Bytes read per block when streaming.
    block_bytes: usize,
    /// The longest line a stream may have.
    max_line: usize,
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            inflater: Inflater::default(),
            block_bytes: BLOCK_BYTES,
            max_line: MAX_LINE_BYTES,
        }
    }

    /// (block size, longest line) for streaming.
    fn sizes(&self) -> (usize, usize) {
        (self.block_bytes, self.max_line)
    }

    /// Reads an object held in memory, inflating it at once when it is one gzip member of at
    /// most the bytes of `grant` (held for its inflated text; the text, in a buffer of the
    /// grant, is shared with the blocks' parts and given back with the grant when the last of
    /// them is done), else streaming it. Err says what damage stopped the reading (the lines
    /// before it were visited).
    pub fn read_bytes(
        &mut self,
        bytes: &[u8],
        grant: Option<Grant>,
        fallback: &Arc<Schema>,
        visit: &mut Visit<'_>,
    ) -> Result<(), String> {
        if parquet_text::is_parquet(bytes) {
            return self.read_parquet(bytes::Bytes::copy_from_slice(bytes), visit);
        }
        if !is_gzip(bytes) {
            split_whole(bytes, fallback, None, visit);
            return Ok(());
        }
        if let Some(mut grant) = grant {
            let limit = grant.bytes();
            let mut text = grant.buffer(declared_size(bytes).unwrap_or(0).min(limit));
            if self.inflater.single_member_into(bytes, limit, &mut text) {
                let whole = Arc::new(Whole::new(text, grant));
                split_whole(whole.text(), fallback, Some(&whole), visit);
                return Ok(());
            }
            grant.keep(text);
        }
        stream(MultiGzDecoder::new(bytes), fallback, visit, self.sizes())
    }

    /// Reads an object from a stream, block by block.
    pub fn read_stream(
        &self,
        mut input: impl Read,
        fallback: &Arc<Schema>,
        visit: &mut Visit<'_>,
    ) -> Result<(), String> {
        let mut magic = Vec::with_capacity(4);
        (&mut input)
            .take(4)
            .read_to_end(&mut magic)
            .map_err(|e| format!("unreadable: {e}"))?;
        if parquet_text::is_parquet(&magic) {
            return self.read_parquet(parquet_text::read_whole(magic, input)?, visit);
        }
        let gzip = is_gzip(&magic);
        let input = std::io::Cursor::new(magic).chain(input);
        if gzip {
            stream(MultiGzDecoder::new(input), fallback, visit, self.sizes())
        } else {
            stream(input, fallback, visit, self.sizes())
        }
    }

    /// A Parquet object: its rows as text lines, decoded with its columns' schema (line *n*
    /// is row *n*; `super::parquet_text`).
    fn read_parquet(&self, bytes: bytes::Bytes, visit: &mut Visit<'_>) -> Result<(), String> {
        let (schema, text) = parquet_text::open(bytes)?;
        stream(text, &Arc::new(schema), visit, self.sizes())
    }
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The inflated size a gzip object's trailer declares (of its last member; modulo 4 GiB).
pub fn declared_size(bytes: &[u8]) -> Option<usize> {
    if !is_gzip(bytes) || bytes.len() < 18 {
        return None;
    }
    let trailer: [u8; 4] = bytes[bytes.len() - 4..].try_into().ok()?;
    Some(u32::from_le_bytes(trailer) as usize)
}

impl Default for Reader {
    fn default() -> Reader {
        Reader::new()
    }
}

/// The schema the first line declares, and where the records start.
fn take_header<'t>(text: &'t [u8], fallback: &Arc<Schema>) -> (Arc<Schema>, &'t [u8], u64) {
    let end = memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1);
    std::str::from_utf8(&text[..end])
        .ok()
        .and_then(header_schema)
        .map_or((fallback.clone(), text, 1), |h| {
            (Arc::new(h), &text[end..], 2)
        })
}

fn split_whole(
    text: &[u8],
    fallback: &Arc<Schema>,
    whole: Option<&Arc<Whole>>,
    visit: &mut Visit<'_>,
) {
    let (mut schema, rest, first_line) = take_header(text, fallback);
    visit_runs(rest, first_line, &mut schema, whole, visit);
}

fn stream(
    mut input: impl Read,
    fallback: &Arc<Schema>,
    visit: &mut Visit<'_>,
    (block_bytes, max_line): (usize, usize),
) -> Result<(), String> {
    let mut buf = vec![0u8; block_bytes.max(1)];
    let mut filled = 0;
    let mut schema: Option<Arc<Schema>> = None;
    let mut line = 1u64;
    loop {
        if filled == buf.len() {
            // A line longer than the buffer: make room, up to the longest line allowed.
            if filled >= max_line {
                return Err(format!(
                    "line {line} is longer than {} bytes: not a flow-log object?",
                    max_line
                ));
            }
            buf.resize((buf.len() * 2).min(max_line.max(1)), 0);
        }
        let (n, failure) = match input.read(&mut buf[filled..]) {
            Ok(n) => (n, None),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => (0, Some(e)),
        };
        filled += n;
        let at_end = n == 0;
        // Whole lines only, unless the input ended cleanly (a last line without `\n`).
        let cut = match (at_end, &failure) {
            (true, None) => filled,
            _ => memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1),
        };
        let mut text = &buf[..cut];
        if schema.is_none() {
            if cut == 0 && !at_end {
                continue;
            }
            let (s, rest, first) = take_header(text, fallback);
            text = rest;
            line = first;
            schema = Some(s);
        }
        if let Some(current) = schema.as_mut()
            && !text.is_empty()
        {
            if !visit_runs(text, line, current, None, visit) {
                return Ok(());
            }
            // Header lines included: they keep their numbers.
            line += lines_in(text);
        }
        if let Some(e) = failure {
            let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "truncated gzip stream"
            } else {
                "unreadable"
            };
            return Err(format!("{what} after line {}: {e}", line - 1));
        }
        if at_end {
            return Ok(());
        }
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::super::pool::Shared;
    use super::*;

    type Seen = Vec<(u64, String, usize)>;

    fn visitor(seen: &mut Seen) -> impl FnMut(Block<'_>, Option<&Arc<Whole>>) -> bool + '_ {
        |b, whole| {
            // A block of a whole object is a slice of it.
            if let Some(w) = whole {
                assert!(w.range_of(b.text).is_some());
            }
            seen.push((
                b.first_line,
                String::from_utf8(b.text.to_vec()).unwrap(),
                b.schema.len(),
            ));
            true
        }
    }

    /// A reader streaming in blocks of `block` bytes.
    fn small_blocks(block: usize) -> Reader {
        let mut r = Reader::new();
        r.block_bytes = block;
        r
    }

    /// Every way of reading `data`: in memory (whole buffer when it fits), streamed from
    /// memory and from a reader, in blocks of every size from a few bytes up.
    fn read_all(data: &[u8]) -> Vec<(Seen, Result<(), String>)> {
        let fallback = Arc::new(Schema::default_v2());
        let shared = Shared::new(1 << 30, 4);
        let mut out = Vec::new();
        for block in [7, 64, 1000, BLOCK_BYTES] {
            for limit in [1 << 20, 0] {
                let mut seen = Vec::new();
                let r = small_blocks(block).read_bytes(
                    data,
                    grant(&shared, limit),
                    &fallback,
                    &mut visitor(&mut seen),
                );
                out.push((seen, r));
            }
            let mut seen = Vec::new();
            let r = small_blocks(block).read_stream(data, &fallback, &mut visitor(&mut seen));
            out.push((seen, r));
        }
        out
    }

    /// `bytes` of the budget (none for 0).
    fn grant(shared: &Shared, bytes: usize) -> Option<Grant> {
        (bytes > 0).then(|| shared.acquire(0, bytes, &mut |_| {}).unwrap())
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    /// The blocks put back together: (first line, text, schema lengths), after checking that
    /// each block ends at a line end (but maybe the last) and numbers its lines on from the
    /// previous one.
    fn joined(seen: &Seen) -> (u64, String, Vec<usize>) {
        let mut next = seen.first().map_or(0, |s| s.0);
        for (i, (first, text, _)) in seen.iter().enumerate() {
            assert_eq!(*first, next, "block {i} of {seen:?}");
            assert!(text.ends_with('\n') || i + 1 == seen.len(), "{seen:?}");
            next += text.lines().count() as u64;
        }
        let mut schemas: Vec<usize> = seen.iter().map(|s| s.2).collect();
        schemas.dedup();
        (
            seen.first().map_or(0, |s| s.0),
            seen.iter().map(|s| s.1.as_str()).collect(),
            schemas,
        )
    }

    const FILE: &str = "version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\n2 10.0.0.3 10.0.0.4\n";

    #[test]
    fn plain_and_gzip_read_the_same_with_the_header_as_schema_on_every_path() {
        let want = (
            2,
            "2 10.0.0.1 10.0.0.2\n2 10.0.0.3 10.0.0.4\n".to_string(),
            vec![3],
        );
        for data in [FILE.as_bytes().to_vec(), gzip(FILE)] {
            for (seen, r) in read_all(&data) {
                assert_eq!(r, Ok(()));
                assert_eq!(joined(&seen), want);
            }
        }
    }

    /// Regression (#8 case 12): a header with a field flowkeeper does not know was taken for a
    /// record, so every line of the file was malformed.
    #[test]
    fn regression_a_header_with_unknown_fields_is_the_schema() {
        let text = "version srcaddr future-field dstaddr\n2 10.0.0.1 x 10.0.0.2\n";
        for (seen, r) in read_all(text.as_bytes()) {
            assert_eq!(r, Ok(()));
            assert_eq!(
                joined(&seen),
                (2, "2 10.0.0.1 x 10.0.0.2\n".into(), vec![4])
            );
        }
        let s = header_schema("version srcaddr future-field dstaddr").unwrap();
        assert_eq!(
            s.unknown_columns().collect::<Vec<_>>(),
            [(2, "future-field")]
        );
        // Lines made only of name-like values are still records, not headers.
        for record in [
            "eni-0abc vpc-1 subnet-2",
            "us-east-1 use1-az1 ingress",
            "x-new y-new",
        ] {
            assert!(header_schema(record).is_none(), "{record}");
        }
    }

    #[test]
    fn headerless_text_uses_the_fallback_schema_and_a_last_line_may_lack_its_newline() {
        let line = "2 1 eni-1 - - - - - - - 1 2 - NODATA";
        let text = format!("{line}\n{line}");
        for (seen, r) in read_all(text.as_bytes()) {
            assert_eq!(r, Ok(()));
            assert_eq!(joined(&seen), (1, text.clone(), vec![14]));
        }
    }

    #[test]
    fn whole_objects_are_one_block_and_streams_many() {
        let line = "2 10.0.0.1 10.0.0.2\n";
        let body = format!("version srcaddr dstaddr\n{}", line.repeat(200));
        let gz = gzip(&body);
        let fallback = Arc::new(Schema::default_v2());
        let shared = Shared::new(1 << 30, 4);
        for (limit, blocks) in [(1 << 20, 1), (0, 4000 / 1000 + 1)] {
            let mut seen = Vec::new();
            let r = small_blocks(1000).read_bytes(
                &gz,
                grant(&shared, limit),
                &fallback,
                &mut visitor(&mut seen),
            );
            assert_eq!(r, Ok(()));
            assert_eq!(seen.len(), blocks);
            assert_eq!(joined(&seen), (2, line.repeat(200), vec![3]));
        }
    }

    #[test]
    fn a_line_longer_than_a_block_is_kept_whole() {
        let long = format!("2 {} 10.0.0.2\n", "x".repeat(300));
        let text = format!("version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\n{long}");
        for (seen, r) in read_all(text.as_bytes()) {
            assert_eq!(r, Ok(()));
            assert!(joined(&seen).1.ends_with(&long));
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_stops_the_object_with_the_lines_before_it() {
        let text = format!(
            "2 10.0.0.1 10.0.0.2\n{}\n2 10.0.0.3 10.0.0.4\n",
            "x".repeat(5000)
        );
        let mut r = small_blocks(64);
        r.max_line = 1000;
        let mut seen = Vec::new();
        let e = r
            .read_stream(
                text.as_bytes(),
                &Arc::new(Schema::default_v2()),
                &mut visitor(&mut seen),
            )
            .unwrap_err();
        assert_eq!(
            e,
            "line 2 is longer than 1000 bytes: not a flow-log object?"
        );
        assert_eq!(joined(&seen).1, "2 10.0.0.1 10.0.0.2\n");
    }

    #[test]
    fn a_truncated_gzip_keeps_complete_lines_and_reports_the_damage() {
        let body = format!(
            "version srcaddr dstaddr\n{}",
            "2 10.0.0.1 10.0.0.2\n".repeat(2_000)
        );
        let gz = gzip(&body);
        for (seen, r) in read_all(&gz[..gz.len() / 2]) {
            let e = r.unwrap_err();
            assert!(e.contains("truncated gzip stream"), "{e}");
            let (_, text, _) = joined(&seen);
            let lines = text.lines().count();
            assert!(lines > 0 && lines < 2_000, "{lines}");
            assert!(text.ends_with('\n'));
            assert!(
                e.contains(&format!("after line {}", lines + 1)),
                "{e} / {lines}"
            );
        }
    }

    /// Regression (probe `stdin-concat`): `zcat a.gz b.gz | flowkeeper analyze -` counted
    /// every repeated header line as malformed; a header inside an object switches the
    /// schema for the lines after it, on every path, and line numbers stay the file's.
    #[test]
    fn regression_a_header_inside_an_object_switches_the_schema() {
        let text = "version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\n\
                    version srcaddr dstaddr\n2 10.0.0.3 10.0.0.4\n\
                    dstaddr srcaddr\r\n10.0.0.6 10.0.0.5\n\
                    version srcaddr x-new\n2 10.0.0.7 9\n";
        for data in [text.as_bytes().to_vec(), gzip(text)] {
            for (seen, r) in read_all(&data) {
                assert_eq!(r, Ok(()));
                // (line, text, columns) of every record line.
                let mut lines = Vec::new();
                for (first, block, cols) in &seen {
                    for (i, l) in block.lines().enumerate() {
                        lines.push((first + i as u64, l.trim_end().to_string(), *cols));
                    }
                }
                assert_eq!(
                    lines,
                    vec![
                        (2, "2 10.0.0.1 10.0.0.2".to_string(), 3),
                        (4, "2 10.0.0.3 10.0.0.4".to_string(), 3),
                        (6, "10.0.0.6 10.0.0.5".to_string(), 2),
                        // A line with a name flowkeeper does not know is a record (malformed
                        // later), not a header: only the first line of an object may have one.
                        (7, "version srcaddr x-new".to_string(), 2),
                        (8, "2 10.0.0.7 9".to_string(), 2),
                    ],
                    "{seen:?}"
                );
            }
        }
        assert!(inner_header(b"eni-0abc vpc-1 subnet-2").is_none());
        assert!(inner_header(b"2 10.0.0.1 10.0.0.2").is_none());
        assert!(inner_header(b"").is_none());
        assert_eq!(inner_header(b"srcaddr dstaddr").map(|s| s.len()), Some(2));
    }

    #[test]
    fn several_gzip_members_are_read_to_the_end() {
        let data = [gzip(FILE), gzip("2 10.0.0.5 10.0.0.6\n")].concat();
        for (seen, r) in read_all(&data) {
            assert_eq!(r, Ok(()));
            assert_eq!(
                joined(&seen).1,
                "2 10.0.0.1 10.0.0.2\n2 10.0.0.3 10.0.0.4\n2 10.0.0.5 10.0.0.6\n"
            );
        }
    }
}
