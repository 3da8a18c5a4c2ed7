//! `flowkeeper analyze`'s pipeline: sources (local files, S3 objects, CloudWatch Logs events)
//! → reading threads, one job (object, log group) at a time: gzip by magic bytes (libdeflate
//! for whole objects, zlib-rs streaming otherwise), header-driven schema, decoding with the
//! `flowlog` decoder and classification into flows, in batches → one engine thread that
//! takes jobs in list order and runs the `flowkeeper-analyze` engine (dedupe, reports,
//! detectors). Decoding runs on every core; detection, which needs one order of events to be
//! reproducible, runs on one.
//!
//! Every record keeps its origin (source index + line or event number); bad lines are counted
//! per source with a few examples, never fatal. Memory is bounded: per reading thread one
//! whole-object buffer (at most [`WHOLE_BUDGET`] across threads) and a few batches ahead of the
//! engine, plus the engine's own bounded state.

mod batches;
mod inflate;
pub mod input;
pub mod reader;
pub mod timeline;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use flowkeeper_analyze::{Analysis, Engine, Finding, RulePack};
use flowlog::Schema;
use serde::Serialize;

use crate::aws::{self, Aws, Clients};
use batches::{Batcher, JobTally, Observed};
use input::{Input, day_in_range, key_day};
use reader::Reader;
use timeline::Timeline;

/// Batches of flows (of [`batches::BATCH_FLOWS`]) the reading threads may have ready ahead
/// of the engine thread, in all: a thread working ahead on a later job stops when its job's
/// share is full.
const BATCHES_AHEAD: usize = 32;

/// Bytes of whole-object buffers (compressed input and inflated text) across reading threads;
/// objects that do not fit their thread's share stream instead.
pub const WHOLE_BUDGET: usize = 96 << 20;

/// Most reading threads: the one engine thread keeps up with about this many.
pub const MAX_READERS: usize = 8;

/// Examples of malformed lines kept per source.
pub const EXAMPLES_PER_SOURCE: usize = 3;

/// One unit a reader works on.
#[derive(Clone, Debug)]
pub enum Job {
    File(std::path::PathBuf),
    S3 {
        bucket: String,
        key: String,
    },
    CloudWatch {
        group: String,
        stream_prefix: Option<String>,
    },
}

/// How one source went.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceReport {
    pub name: String,
    pub records: u64,
    pub malformed: u64,
    /// `name:line: why`, the first few.
    pub examples: Vec<String>,
    /// Set when the source could not be read fully (a truncated gzip stream, a failed download).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything about the run that is not a finding.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    pub records: u64,
    pub malformed: u64,
    /// Records outside --since/--until.
    pub outside_range: u64,
    pub sources: Vec<SourceReport>,
}

/// Settings of one run.
pub struct Settings {
    pub jobs: Vec<Job>,
    /// Schema for lines without a header (CloudWatch events, headerless files).
    pub fallback: Arc<Schema>,
    pub since: Option<u64>,
    pub until: Option<u64>,
    pub readers: usize,
}

/// Lists what the inputs name: directories walked in name order, S3 prefixes listed and
/// pruned by the date in each key.
pub async fn plan_jobs(
    inputs: &[Input],
    aws: Option<&Aws>,
    since: Option<u64>,
    until: Option<u64>,
) -> Result<Vec<Job>, String> {
    let mut jobs = Vec::new();
    for input in inputs {
        match input {
            Input::Local(path) => {
                let mut files = Vec::new();
                walk(path, &mut files).map_err(|e| format!("{}: {e}", path.display()))?;
                files.sort();
                jobs.extend(files.into_iter().map(Job::File));
            }
            Input::S3 { bucket, prefix } => {
                let aws = aws.ok_or("s3:// inputs need AWS access")?;
                let objects = aws::s3::list_objects(&aws.default_clients().s3, bucket, prefix)
                    .await
                    .map_err(|e| format!("s3://{bucket}/{prefix}: {e}"))?;
                jobs.extend(
                    objects
                        .into_iter()
                        .filter(|o| o.size > 0 && day_in_range(key_day(&o.key), since, until))
                        .map(|o| Job::S3 {
                            bucket: bucket.clone(),
                            key: o.key,
                        }),
                );
            }
            Input::CloudWatch {
                group,
                stream_prefix,
            } => jobs.push(Job::CloudWatch {
                group: group.clone(),
                stream_prefix: stream_prefix.clone(),
            }),
        }
    }
    Ok(jobs)
}

fn walk(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            walk(&p, out)?;
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Source names by index; CloudWatch streams are added as they are met.
#[derive(Default)]
pub struct Registry {
    names: Mutex<Vec<String>>,
}

impl Registry {
    fn add(&self, name: String) -> u32 {
        let mut n = self.names.lock().expect("registry lock");
        n.push(name);
        (n.len() - 1) as u32
    }

    fn name(&self, source: u32) -> String {
        let names = self.names.lock().expect("registry lock");
        names.get(source as usize).cloned().unwrap_or_default()
    }
}

/// What a reading thread sends for one job, in order; `Done` comes last.
enum Message {
    Flows(Vec<Observed>),
    /// The source could not be read (fully); what was read before the damage was sent.
    Failed {
        source: u32,
        error: String,
    },
    Done(JobTally),
}

/// Runs the analysis. `on_final` gets findings as their windows close (for streaming output);
/// the rest come back in the returned [`Analysis`].
pub fn run(
    settings: &Settings,
    aws: Option<&Aws>,
    runtime: &tokio::runtime::Handle,
    pack: &RulePack,
    on_final: &mut dyn FnMut(Vec<Finding>),
) -> (Analysis, RunSummary, Timeline) {
    let clients = aws.map(Aws::default_clients);
    let clients = clients.as_ref();
    let registry = Registry::default();
    let job_sources: Vec<Option<u32>> = settings
        .jobs
        .iter()
        .map(|j| match j {
            Job::File(p) => Some(registry.add(p.display().to_string())),
            Job::S3 { bucket, key } => Some(registry.add(format!("s3://{bucket}/{key}"))),
            Job::CloudWatch { .. } => None,
        })
        .collect();
    let readers = settings.readers.clamp(1, MAX_READERS);
    let whole_limit = WHOLE_BUDGET / readers;
    let ahead = (BATCHES_AHEAD / readers).max(2);
    let next = AtomicUsize::new(0);
    let mut engine = Engine::new(pack);
    let classifier = engine.classifier();
    // Each job gets its own small channel, announced with its index; the engine thread drains
    // them in job order. Reading threads work ahead in parallel, memory stays at a few batches
    // per thread, and the engine sees the same flow sequence on every run (so results are
    // reproducible).
    let (announce_tx, announce_rx) = channel::<(usize, Receiver<Message>)>();
    let mut summary = RunSummary::default();
    let mut timeline = Timeline::default();
    std::thread::scope(|scope| {
        for _ in 0..readers {
            let announce_tx = announce_tx.clone();
            let (next, registry, job_sources, classifier) =
                (&next, &registry, &job_sources, &classifier);
            scope.spawn(move || {
                let mut reader = Reader::new(whole_limit);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = settings.jobs.get(i) else {
                        break;
                    };
                    let (tx, rx) = sync_channel::<Message>(ahead);
                    if announce_tx.send((i, rx)).is_err() {
                        break;
                    }
                    let mut batcher =
                        Batcher::new(classifier, registry, settings.since, settings.until);
                    let mut job_reader = JobReader {
                        settings,
                        clients,
                        runtime,
                        registry,
                        reader: &mut reader,
                        batcher: &mut batcher,
                        tx: &tx,
                    };
                    if !job_reader.read(job, job_sources[i]) {
                        break;
                    }
                    if tx.send(Message::Done(batcher.tally)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(announce_tx);
        let mut announced: BTreeMap<usize, Receiver<Message>> = BTreeMap::new();
        for want in 0..settings.jobs.len() {
            let rx = loop {
                if let Some(rx) = announced.remove(&want) {
                    break rx;
                }
                match announce_rx.recv() {
                    Ok((i, rx)) => {
                        announced.insert(i, rx);
                    }
                    Err(_) => return,
                }
            };
            for msg in rx {
                match msg {
                    Message::Flows(batch) => {
                        for (flow, origin) in &batch {
                            engine.observe_flow(flow, *origin);
                        }
                        let ready = engine.take_final();
                        if !ready.is_empty() {
                            on_final(ready);
                        }
                    }
                    Message::Failed { source, error } => {
                        source_report(&mut summary, source).error = Some(error)
                    }
                    Message::Done(tally) => {
                        for (source, counts) in tally.sources {
                            let report = source_report(&mut summary, source);
                            report.records += counts.records;
                            report.malformed += counts.malformed;
                            let room = EXAMPLES_PER_SOURCE.saturating_sub(report.examples.len());
                            report
                                .examples
                                .extend(counts.examples.into_iter().take(room));
                            summary.records += counts.records;
                            summary.malformed += counts.malformed;
                        }
                        summary.outside_range += tally.outside_range;
                        timeline.merge(tally.timeline);
                    }
                }
            }
        }
    });
    let names = registry.names.into_inner().expect("registry lock");
    for (i, name) in names.into_iter().enumerate() {
        source_report(&mut summary, i as u32).name = name;
    }
    (engine.finish(), summary, timeline)
}

fn source_report(summary: &mut RunSummary, source: u32) -> &mut SourceReport {
    let i = source as usize;
    if summary.sources.len() <= i {
        summary.sources.resize_with(i + 1, SourceReport::default);
    }
    &mut summary.sources[i]
}

/// One reading thread's work on one job: fetch, inflate, split, decode and send.
struct JobReader<'a, 'b> {
    settings: &'a Settings,
    clients: Option<&'a Clients>,
    runtime: &'a tokio::runtime::Handle,
    registry: &'a Registry,
    reader: &'b mut Reader,
    batcher: &'b mut Batcher<'a>,
    tx: &'b SyncSender<Message>,
}

impl JobReader<'_, '_> {
    /// False when the engine thread is gone.
    fn read(&mut self, job: &Job, source: Option<u32>) -> bool {
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
            (Job::S3 { bucket, key }, Some(_)) => match self.clients {
                Some(clients) => self
                    .runtime
                    .block_on(aws::s3::get_object(&clients.s3, bucket, key))
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| self.reader.read_bytes(&bytes, fallback, &mut visit)),
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

/// Reads a local file: whole when it is small enough for the thread's buffer, else streamed.
fn read_file(
    path: &std::path::Path,
    reader: &mut Reader,
    fallback: &Arc<Schema>,
    visit: &mut dyn FnMut(reader::Block<'_>) -> bool,
) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = file.metadata().map_or(u64::MAX, |m| m.len());
    if size <= (reader.whole_limit / 4) as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("unreadable: {e}"))?;
        reader.read_bytes(&bytes, fallback, visit)
    } else {
        reader.read_stream(file, fallback, visit)
    }
}
