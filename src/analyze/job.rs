//! One reading thread's work on one job (a file, an S3 object, a CloudWatch log group):
//! fetch it, inflate and split it ([`super::reader`]), decode and classify its lines
//! ([`super::batches`]) and send the batches, any damage and the job's counts, in order, to the
//! engine thread.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use flowlog::Schema;

use super::batches::{Batcher, JobTally, Observed};
use super::reader::{self, Reader};
use super::{Job, Registry, Settings};
use crate::aws::{self, Clients};

/// What a reading thread sends for one job, in order; `Done` comes last.
pub enum Message {
    Flows(Vec<Observed>),
    /// The source could not be read (fully); what was read before the damage was sent.
    Failed {
        source: u32,
        error: String,
    },
    Done(JobTally),
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
}

impl JobReader<'_, '_> {
    /// False when the engine thread is gone.
    pub fn read(&mut self, job: &Job, source: Option<u32>) -> bool {
        let fallback = &self.settings.fallback;
        let (tx, batcher) = (self.tx, &mut *self.batcher);
        let mut send = |batch: Vec<Observed>| tx.send(Message::Flows(batch)).is_ok();
        let mut alive = true;
        let mut visit = |block: reader::Block<'_>| {
            alive = alive && batcher.block(source.unwrap_or(0), &block, &mut send);
            alive
        };
        let result = match (job, source) {
            (Job::File(path), Some(_)) => read_file(path, self.reader, fallback, &mut visit),
            (Job::Stdin, Some(_)) => {
                self.reader
                    .read_stream(std::io::stdin().lock(), fallback, &mut visit)
            }
            (Job::Broken { error, .. }, Some(_)) => Err(error.clone()),
            (Job::S3 { bucket, key, size }, Some(_)) => match self.clients {
                Some(clients) if self.reader.reads_whole(*size) => self
                    .runtime
                    .block_on(aws::s3::get_object(&clients.s3, bucket, key))
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| self.reader.read_bytes(&bytes, fallback, &mut visit)),
                Some(clients) => aws::s3::open_object(&clients.s3, bucket, key, self.runtime)
                    .map_err(|e| e.to_string())
                    .and_then(|body| self.reader.read_stream(body, fallback, &mut visit)),
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
        let batcher = &mut *self.batcher;
        let mut send = |batch: Vec<Observed>| tx.send(Message::Flows(batch)).is_ok();
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

/// Reads a local file: whole when it is small enough, else streamed. The file is opened
/// without blocking and must be a regular file, so a path that turned into a FIFO after it was
/// listed is refused instead of waiting for a writer forever.
fn read_file(
    path: &std::path::Path,
    reader: &mut Reader,
    fallback: &Arc<Schema>,
    visit: &mut dyn FnMut(reader::Block<'_>) -> bool,
) -> Result<(), String> {
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
    if reader.reads_whole(size) {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("unreadable: {e}"))?;
        reader.read_bytes(&bytes, fallback, visit)
    } else {
        reader.read_stream(file, fallback, visit)
    }
}
