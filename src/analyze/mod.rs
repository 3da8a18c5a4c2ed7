//! `flowkeeper analyze`'s pipeline: sources (local files, S3 objects, CloudWatch Logs events)
//! → reader threads (gzip by magic bytes, header-driven schema, chunks of whole lines) → one
//! decoding and detection thread (the `flowlog` decoder and the `flowkeeper-analyze` engine).
//! Every record keeps its origin (source index + line or event number); bad lines are counted
//! per source with a few examples, never fatal. Memory is bounded: a few chunks in flight per
//! reader, and the engine's own bounded state.

pub mod input;
pub mod reader;
pub mod timeline;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Mutex};

use flowkeeper_analyze::{Analysis, Engine, Finding, Origin, RulePack};
use flowlog::{Action, FlowRecord, Schema};
use serde::Serialize;

use crate::aws::{self, Aws, Clients};
use input::{Input, day_in_range, key_day};
use reader::{Chunk, Message};
use timeline::Timeline;

/// Chunks a reader may have decompressed ahead of the decoder, per job.
const CHUNKS_AHEAD: usize = 4;

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
struct Registry {
    names: Mutex<Vec<String>>,
}

impl Registry {
    fn add(&self, name: String) -> u32 {
        let mut n = self.names.lock().expect("registry lock");
        n.push(name);
        (n.len() - 1) as u32
    }
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
    let next = AtomicUsize::new(0);
    // Each job gets its own small channel, announced with its index; the decoder drains them in
    // job order. Readers inflate ahead in parallel, memory stays at a few chunks per reader, and
    // the engine sees the same record sequence on every run (so results are reproducible).
    let (announce_tx, announce_rx) = channel::<(usize, Receiver<Message>)>();
    let mut engine = Engine::new(pack);
    let mut summary = RunSummary::default();
    let mut timeline = Timeline::default();
    std::thread::scope(|scope| {
        for _ in 0..settings.readers.max(1) {
            let announce_tx = announce_tx.clone();
            let (next, registry, job_sources) = (&next, &registry, &job_sources);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = settings.jobs.get(i) else {
                        break;
                    };
                    let (tx, rx) = sync_channel::<Message>(CHUNKS_AHEAD);
                    if announce_tx.send((i, rx)).is_err() {
                        break;
                    }
                    let mut send = |m: Message| tx.send(m).is_ok();
                    read_job(
                        job,
                        job_sources[i],
                        settings,
                        clients,
                        runtime,
                        registry,
                        &mut send,
                    );
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
                    Message::Chunk(chunk) => {
                        consume(
                            &chunk,
                            settings,
                            &mut engine,
                            &mut summary,
                            &mut timeline,
                            &registry,
                        );
                        let ready = engine.take_final();
                        if !ready.is_empty() {
                            on_final(ready);
                        }
                    }
                    Message::Failed { source, error } => {
                        source_report(&mut summary, &registry, source).error = Some(error)
                    }
                }
            }
        }
    });
    let names = registry.names.into_inner().expect("registry lock");
    for (i, name) in names.into_iter().enumerate() {
        if i >= summary.sources.len() {
            summary.sources.resize_with(i + 1, SourceReport::default);
        }
        summary.sources[i].name = name;
    }
    (engine.finish(), summary, timeline)
}

fn source_report<'a>(
    summary: &'a mut RunSummary,
    registry: &Registry,
    source: u32,
) -> &'a mut SourceReport {
    let i = source as usize;
    if summary.sources.len() <= i {
        summary.sources.resize_with(i + 1, SourceReport::default);
    }
    let s = &mut summary.sources[i];
    if s.name.is_empty() {
        s.name = registry
            .names
            .lock()
            .expect("registry lock")
            .get(i)
            .cloned()
            .unwrap_or_default();
    }
    s
}

fn consume(
    chunk: &Chunk,
    settings: &Settings,
    engine: &mut Engine,
    summary: &mut RunSummary,
    timeline: &mut Timeline,
    registry: &Registry,
) {
    let mut record = FlowRecord::default();
    let (mut records, mut outside) = (0u64, 0u64);
    for (n, line) in (chunk.first_line..).zip(chunk.text.split('\n')) {
        if line.trim().is_empty() {
            continue;
        }
        record.clear();
        if let Err(e) = chunk.schema.decode_into(line, &mut record) {
            let report = source_report(summary, registry, chunk.source);
            report.malformed += 1;
            if report.examples.len() < EXAMPLES_PER_SOURCE {
                let name = report.name.clone();
                report.examples.push(format!("{name}:{n}: {e}"));
            }
            summary.malformed += 1;
            continue;
        }
        let start = record.start.map(|t| t.unix_secs());
        let end = record.end.map(|t| t.unix_secs()).or(start);
        if settings.since.is_some_and(|s| end.is_some_and(|e| e < s))
            || settings
                .until
                .is_some_and(|u| start.is_some_and(|st| st > u))
        {
            outside += 1;
            continue;
        }
        records += 1;
        if let (Some(start), Some(action)) = (start, record.action) {
            timeline.add(start, action == Action::Accept, record.bytes.unwrap_or(0));
        }
        engine.observe(&record, Origin::new(chunk.source, n));
    }
    source_report(summary, registry, chunk.source).records += records;
    summary.records += records;
    summary.outside_range += outside;
}

fn read_job(
    job: &Job,
    source: Option<u32>,
    settings: &Settings,
    clients: Option<&Clients>,
    runtime: &tokio::runtime::Handle,
    registry: &Registry,
    send: &mut dyn FnMut(Message) -> bool,
) {
    match (job, source) {
        (Job::File(path), Some(src)) => match std::fs::File::open(path) {
            Ok(f) => reader::read_lines(src, f, &settings.fallback, send),
            Err(e) => {
                send(Message::Failed {
                    source: src,
                    error: format!("cannot open: {e}"),
                });
            }
        },
        (Job::S3 { bucket, key }, Some(src)) => {
            let Some(clients) = clients else { return };
            match runtime.block_on(aws::s3::get_object(&clients.s3, bucket, key)) {
                Ok(bytes) => reader::read_lines(src, bytes.as_slice(), &settings.fallback, send),
                Err(e) => {
                    send(Message::Failed {
                        source: src,
                        error: e.to_string(),
                    });
                }
            }
        }
        (
            Job::CloudWatch {
                group,
                stream_prefix,
            },
            _,
        ) => {
            let Some(clients) = clients else { return };
            let logs = &clients.logs;
            let mut streams: std::collections::HashMap<String, (u32, u64)> = Default::default();
            let to_ms = |s: u64| i64::try_from(s.saturating_mul(1000)).ok();
            let result = runtime.block_on(aws::logs::filter_events(
                logs,
                group,
                stream_prefix.as_deref(),
                settings.since.and_then(to_ms),
                settings.until.and_then(to_ms),
                |events| {
                    let mut chunks: std::collections::BTreeMap<u32, Chunk> = Default::default();
                    for ev in events {
                        let entry = streams.entry(ev.stream.clone()).or_insert_with(|| {
                            (registry.add(format!("cwl://{group}//{}", ev.stream)), 0)
                        });
                        entry.1 += 1;
                        let (src, seq) = *entry;
                        let chunk = chunks.entry(src).or_insert_with(|| Chunk {
                            source: src,
                            schema: settings.fallback.clone(),
                            first_line: seq,
                            text: String::new(),
                        });
                        chunk
                            .text
                            .push_str(ev.message.trim_end_matches(['\n', '\r']));
                        chunk.text.push('\n');
                    }
                    for (_, c) in chunks {
                        send(Message::Chunk(c));
                    }
                },
            ));
            if let Err(e) = result {
                let src = registry.add(format!("cwl://{group}"));
                send(Message::Failed {
                    source: src,
                    error: e.to_string(),
                });
            }
        }
        _ => {}
    }
}
