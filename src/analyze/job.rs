//! One reading thread's work on one job (a file, an S3 object, a CloudWatch log group):
//! fetch it (whole, within the shared byte budget of `super::pool`, or as a stream), inflate
//! and split it ([`super::reader`]), decode and classify its lines ([`super::batches`]) and
//! send the batches, any damage and the job's counts, in order, to the engine thread. Large
//! runs of lines are cut into parts other threads may decode ([`deliver`]).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, channel};

use flowlog::Schema;

use super::batches::{Batcher, Decode, JobTally, Observed};
use super::pool::{Part, Piece, PieceText, Shared, Whole};
use super::reader::{self, Reader};
use super::{Job, Registry, Settings};
use crate::aws::{self, Clients};

/// Bytes of lines per part handed to other threads.
pub const PART_BYTES: usize = 2 << 20;

/// Runs of lines shorter than this are decoded where they are (handing over costs a copy).
pub const MIN_PART_BYTES: usize = 256 << 10;

/// What a reading thread sends for one job, in order; `Done` comes last.
pub enum Message {
    Flows(Vec<Observed>),
    /// The source could not be read (fully); what was read before the damage was sent.
    Failed {
        source: u32,
        error: String,
    },
    /// Counts of the lines before a [`Message::Deferred`] part (so examples stay in order).
    Counts(JobTally),
    /// The next lines, as a part some thread decodes (see `super::pool`).
    Deferred(Arc<Part>),
    Done(JobTally),
}

/// Decodes a part for the engine thread, if nobody took it yet: its flows and then its
/// counts go to the part's own channel, which never blocks (its size is bounded by the
/// part's).
pub fn run_part(part: &Part, cx: &Decode<'_>) {
    let (tx, rx) = channel();
    let Some(piece) = part.take_for_reader(rx) else {
        return;
    };
    let mut batcher = cx.batcher();
    let mut send = |batch: Vec<Observed>| tx.send(Message::Flows(batch)).is_ok();
    let block = reader::Block {
        schema: &piece.schema,
        first_line: piece.first_line,
        text: piece.text.bytes(),
    };
    let _ = batcher.block(piece.source, &block, &mut send) && batcher.flush(&mut send);
    let _ = tx.send(Message::Done(batcher.tally));
}

/// Delivers one block of a job: cut into line-aligned parts of about [`PART_BYTES`], each
/// offered to the other threads while there is room, else decoded here. A part of a whole
/// inflated object shares it (no copy); a part of a stream is copied. False when the engine
/// thread is gone.
pub fn deliver(
    shared: &Shared,
    job: usize,
    batcher: &mut Batcher<'_>,
    tx: &SyncSender<Message>,
    source: u32,
    block: &reader::Block<'_>,
    whole: Option<&Arc<Whole>>,
) -> bool {
    let mut send = |batch: Vec<Observed>| send_flows(shared, job, tx, batch);
    let mut first_line = block.first_line;
    for text in cut(block.text, PART_BYTES) {
        let here = reader::Block {
            schema: block.schema,
            first_line,
            text,
        };
        if text.len() >= MIN_PART_BYTES && shared.has_room() {
            // What came before goes first, so the engine sees flows and counts in line order.
            if !batcher.flush(&mut send) {
                return false;
            }
            let counts = std::mem::take(&mut batcher.tally);
            if !counts.is_empty() && tx.send(Message::Counts(counts)).is_err() {
                return false;
            }
            let piece_text = match whole.and_then(|w| Some((w, w.range_of(text)?))) {
                Some((w, range)) => PieceText::Shared(w.clone(), range),
                None => PieceText::Owned(text.to_vec()),
            };
            let part = Part::new(Piece {
                source,
                schema: block.schema.clone(),
                first_line,
                text: piece_text,
            });
            if shared.offer(&part) {
                if tx.send(Message::Deferred(part)).is_err() {
                    return false;
                }
                first_line += newlines(text);
                continue;
            }
        }
        // Decoded here: the decoder counts the newlines on its way.
        match batcher.block_counted(source, &here, &mut send) {
            Some(newlines) => first_line += newlines,
            None => return false,
        }
    }
    true
}

/// Sends a batch of `job` on its channel, within the bound of batches in flight.
fn send_flows(shared: &Shared, job: usize, tx: &SyncSender<Message>, batch: Vec<Observed>) -> bool {
    shared.before_send(job);
    tx.send(Message::Flows(batch)).is_ok()
}

/// `text` in runs of about `size` bytes, each ending at a line end (but maybe the last); a
/// line longer than `size` is one run.
fn cut(text: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = if rest.len() <= size {
            rest.len()
        } else {
            match memchr::memrchr(b'\n', &rest[..size]) {
                Some(i) => i + 1,
                None => memchr::memchr(b'\n', &rest[size..]).map_or(rest.len(), |i| size + i + 1),
            }
        };
        let (run, after) = rest.split_at(end);
        rest = after;
        Some(run)
    })
}

fn newlines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

/// One reading thread's work on one job: fetch, inflate, split, decode and send.
pub struct JobReader<'a, 'b> {
    pub settings: &'a Settings,
    pub clients: Option<&'a Clients>,
    pub runtime: &'a tokio::runtime::Handle,
    pub registry: &'a Registry,
    pub reader: &'b mut Reader,
    pub batcher: &'b mut Batcher<'a>,
    pub tx: &'b SyncSender<Message>,
    pub shared: &'a Shared,
    /// For decoding other threads' parts while waiting for bytes.
    pub decode: &'a Decode<'a>,
    /// This job's index (its place in the engine's order).
    pub job: usize,
}

impl JobReader<'_, '_> {
    /// False when the engine thread is gone.
    pub fn read(&mut self, job: &Job, source: Option<u32>) -> bool {
        let fallback = &self.settings.fallback;
        let (tx, batcher, shared, decode) = (self.tx, &mut *self.batcher, self.shared, self.decode);
        let index = self.job;
        let mut send = |batch: Vec<Observed>| send_flows(shared, index, tx, batch);
        let mut alive = true;
        let mut visit = |block: reader::Block<'_>, whole: Option<&Arc<Whole>>| {
            let source = source.unwrap_or(0);
            alive = alive && deliver(shared, index, batcher, tx, source, &block, whole);
            alive
        };
        let mut help = |part: Arc<Part>| run_part(&part, decode);
        let result = match (job, source) {
            (Job::File(path), Some(_)) => {
                let budget = Budget {
                    shared,
                    job: index,
                    help: &mut help,
                };
                read_file(path, self.reader, budget, fallback, &mut visit)
            }
            (Job::Stdin, Some(_)) => {
                self.reader
                    .read_stream(std::io::stdin().lock(), fallback, &mut visit)
            }
            (Job::Broken { error, .. }, Some(_)) => Err(error.clone()),
            (Job::S3 { bucket, key, size }, Some(_)) => match self.clients {
                Some(clients) => match shared.acquire(index, *size as usize, &mut help) {
                    Some(_stored) => self
                        .runtime
                        .block_on(aws::s3::get_object(&clients.s3, bucket, key))
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| {
                            // The inflated size, from the gzip trailer, is known only now.
                            // Compressed and inflated bytes together are held to the largest
                            // grant, as a local file's are (else the object streams).
                            let inflated = reader::declared_size(&bytes).filter(|n| {
                                (*size as usize).saturating_add(*n) <= shared.max_grant()
                            });
                            let whole = inflated.and_then(|n| shared.acquire(index, n, &mut help));
                            self.reader.read_bytes(&bytes, whole, fallback, &mut visit)
                        }),
                    None => aws::s3::open_object(&clients.s3, bucket, key, self.runtime)
                        .map_err(|e| e.to_string())
                        .and_then(|body| self.reader.read_stream(body, fallback, &mut visit)),
                },
                None => Ok(()),
            },
            (
                Job::CloudWatch {
                    group,
                    stream_prefix,
                },
                _,
            ) => return self.read_cloudwatch(group, stream_prefix.as_deref()),
            _ => Ok(()),
        };
        alive = alive && self.batcher.flush(&mut send);
        if let (Err(error), Some(source)) = (result, source) {
            alive = alive && tx.send(Message::Failed { source, error }).is_ok();
        }
        alive
    }

    fn read_cloudwatch(&mut self, group: &str, stream_prefix: Option<&str>) -> bool {
        let Some(clients) = self.clients else {
            return true;
        };
        let (settings, registry, tx) = (self.settings, self.registry, self.tx);
        let (shared, index) = (self.shared, self.job);
        let batcher = &mut *self.batcher;
        let mut send = |batch: Vec<Observed>| send_flows(shared, index, tx, batch);
        let mut streams: HashMap<String, (u32, u64)> = HashMap::new();
        let mut alive = true;
        let to_ms = |s: u64| i64::try_from(s.saturating_mul(1000)).ok();
        let result = self.runtime.block_on(aws::logs::filter_events(
            &clients.logs,
            group,
            stream_prefix,
            settings.since.and_then(to_ms),
            settings.until.and_then(to_ms),
            |events| {
                // One block per stream of this page, lines numbered by event within the stream.
                let mut texts: BTreeMap<u32, (u64, String)> = BTreeMap::new();
                for ev in events {
                    let entry = streams.entry(ev.stream.clone()).or_insert_with(|| {
                        (registry.add(format!("cwl://{group}//{}", ev.stream)), 0)
                    });
                    entry.1 += 1;
                    let (src, seq) = *entry;
                    let text = &mut texts.entry(src).or_insert_with(|| (seq, String::new())).1;
                    text.push_str(ev.message.trim_end_matches(['\n', '\r']));
                    text.push('\n');
                }
                for (src, (first_line, text)) in texts {
                    let block = reader::Block {
                        schema: &settings.fallback,
                        first_line,
                        text: text.as_bytes(),
                    };
                    alive = alive && batcher.block(src, &block, &mut send);
                }
            },
        ));
        alive = alive && batcher.flush(&mut send);
        if let Err(e) = result {
            let source = registry.add(format!("cwl://{group}"));
            alive = alive
                && tx
                    .send(Message::Failed {
                        source,
                        error: e.to_string(),
                    })
                    .is_ok();
        }
        alive
    }
}

/// The byte budget as one job sees it.
struct Budget<'s, 'h> {
    shared: &'s Shared,
    job: usize,
    help: &'h mut dyn FnMut(Arc<Part>),
}

/// Reads a local file: a gzip file whose compressed and inflated bytes fit the budget is read
/// whole (into a buffer of the budget's pool, reused from object to object) and inflated at
/// once; any other file streams (a plain file gains nothing from being
/// held whole). The file is opened without blocking and must be a regular file, so a path that
/// turned into a FIFO after it was listed is refused instead of waiting for a writer forever.
fn read_file(
    path: &std::path::Path,
    reader: &mut Reader,
    budget: Budget<'_, '_>,
    fallback: &Arc<Schema>,
    visit: &mut reader::Visit<'_>,
) -> Result<(), String> {
    use std::os::unix::fs::FileExt;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot open: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (any more): not read".into());
    }
    let size = meta.len();
    let (mut magic, mut trailer) = ([0u8; 2], [0u8; 4]);
    let gzip_size = (size >= 18
        && file.read_exact_at(&mut magic, 0).is_ok()
        && reader::is_gzip(&magic)
        && file.read_exact_at(&mut trailer, size - 4).is_ok())
    .then(|| u32::from_le_bytes(trailer) as usize);
    let grant = gzip_size.and_then(|inflated| {
        let need = (size as usize).saturating_add(inflated);
        budget.shared.acquire(budget.job, need, budget.help)
    });
    match (grant, gzip_size) {
        (Some(mut grant), Some(inflated)) => {
            // The text may outlive this call (in parts), the compressed bytes do not.
            let text = grant.split(inflated);
            let mut bytes = grant.buffer(size as usize);
            let read = file.read_to_end(&mut bytes);
            let result = match read {
                Ok(_) => reader.read_bytes(&bytes, text, fallback, visit),
                Err(e) => Err(format!("unreadable: {e}")),
            };
            grant.keep(bytes);
            result
        }
        _ => reader.read_stream(file, fallback, visit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_end_at_line_ends_and_keep_long_lines_whole() {
        let runs: Vec<&[u8]> = cut(b"aa\nbb\ncc\n", 4).collect();
        assert_eq!(runs, [&b"aa\n"[..], b"bb\n", b"cc\n"]);
        let runs: Vec<&[u8]> = cut(b"a\nlong line\nb", 4).collect();
        assert_eq!(runs, [&b"a\n"[..], b"long line\n", b"b"]);
        let runs: Vec<&[u8]> = cut(b"no newline at all", 4).collect();
        assert_eq!(runs, [&b"no newline at all"[..]]);
        assert_eq!(cut(b"", 4).count(), 0);
        assert_eq!(newlines(b"a\nb\n"), 2);
    }
}
