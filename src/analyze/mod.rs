//! `flowkeeper analyze`'s pipeline: sources (local files, S3 objects, CloudWatch Logs events)
//! → reading threads, one job (object, log group) at a time: gzip by magic bytes (libdeflate
//! for whole objects within a shared byte budget, zlib-rs streaming otherwise), header-driven
//! schema, decoding only the fields the rule pack reads (`flowlog::DecodePlan`; `--strict`
//! decodes every column) and classification into flows, in batches → one counting thread that
//! takes jobs in order (delivered objects by the time in their keys, see [`plan_jobs`]) and
//! runs the engine's counting half (dedupe, reports, timeline) → one detecting thread that
//! takes the same batches in the same order with the counting half's verdicts and runs the
//! detectors (`flowkeeper_analyze::Engine::split`). Decoding runs on every core, also within
//! one large object (cut into parts any idle thread decodes, see `pool`); counting and
//! detection, which need one order of events to be reproducible, run on one thread each.
//!
//! Every record keeps its origin (source index + line or event number); bad lines are counted
//! per source with a few examples, never fatal. Memory is bounded: whole-object buffers within
//! [`WHOLE_BUDGET`] across threads (reused from object to object, and shared by the parts cut
//! from them), a few parts and batches ahead of the engine, plus the engine's own bounded
//! state.

pub mod athena;
mod batches;
mod flow_logs;
mod inflate;
pub mod input;
mod job;
mod parquet_text;
mod pool;
pub mod reader;
mod recycle;
mod repeats;
mod time_order;
pub mod timeline;
pub mod walk;

pub use batches::misspelled_field;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use flowkeeper_analyze::{Analysis, Engine, Finding, Front, Hold, RulePack, Verdict};
use flowlog::Schema;
use serde::Serialize;

use crate::aws::{self, Aws};
use batches::{Decode, Decoding, JobTally};
use input::{Input, day_in_range, key_day};
use job::{JobReader, Message};
use pool::{Claim, Shared};
use reader::Reader;
use timeline::Timeline;

/// Batches of flows (of [`batches::BATCH_FLOWS`]) the reading threads may have ready ahead
/// of the engine thread, in all (`pool::Shared::before_send`; the job the engine drains may
/// add its channel's share): a thread working ahead waits when they are all out.
const BATCHES_AHEAD: usize = 32;

/// Batches the engine's counting half may have handed to its detecting half and not yet
/// seen back (the two run on two threads, see [`Engine::split`]).
const BATCHES_TO_BACK: usize = 4;

/// Bytes of whole-object buffers (compressed input and inflated text) across reading threads
/// (`pool::Shared`): an object up to half of this inflates whole, larger ones (AWS's largest
/// are ~75 MB inflated) stream, their parts decoded on every thread.
pub const WHOLE_BUDGET: usize = 96 << 20;

/// Most reading threads. The engine thread takes about as many records as two or three reading
/// threads decode; more than that only help while downloads wait on the network.
pub const MAX_READERS: usize = 8;

/// Examples of malformed lines kept per source.
pub const EXAMPLES_PER_SOURCE: usize = 3;

/// One unit a reader works on.
#[derive(Clone, Debug)]
pub enum Job {
    /// A regular file.
    File(std::path::PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A source that could not even be listed or opened (a dangling symlink, a missing path,
    /// a FIFO named on the command line, a bucket that cannot be listed): reported as that
    /// source's error, in input order, while everything else is read.
    Broken { name: String, error: String },
    S3 {
        bucket: String,
        key: String,
        /// As listed: small objects are downloaded whole, large ones read as they arrive.
        size: u64,
    },
    CloudWatch {
        group: String,
        stream_prefix: Option<String>,
    },
}

impl Job {
    /// The name the job's source is reported under (`s3://bucket/key` for an object), or
    /// `None` for a CloudWatch job, whose streams are named as they are met.
    pub fn source_name(&self) -> Option<String> {
        match self {
            Job::File(p) => Some(p.display().to_string()),
            Job::Stdin => Some("stdin".to_string()),
            Job::Broken { name, .. } => Some(name.clone()),
            Job::S3 { bucket, key, .. } => Some(format!("s3://{bucket}/{key}")),
            Job::CloudWatch { .. } => None,
        }
    }
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
    /// What its header said that no detector will see (`batches::check_header`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A path a directory walk left out on purpose (a FIFO, a socket, a second path to one file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// Everything about the run that is not a finding.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    pub records: u64,
    pub malformed: u64,
    /// Records outside --since/--until.
    pub outside_range: u64,
    pub sources: Vec<SourceReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

impl RunSummary {
    /// Marks as errors the sources none of whose lines was a record (every line malformed):
    /// not flow logs, or headerless lines in another format than `fallback`. Their
    /// "no findings" would be a wrong all-clear.
    pub fn nothing_readable(&mut self, fallback: &Schema) {
        for s in &mut self.sources {
            if s.records == 0 && s.malformed > 0 && s.error.is_none() {
                let none = match s.malformed {
                    1 => "its only line is not a flow-log record".to_owned(),
                    n => format!("none of its {n} lines is a flow-log record"),
                };
                s.error = Some(format!(
                    "{none}: it is not a flow log, or its lines do not match its header line \
                     (the malformed-line examples say how), or it has none and its lines are \
                     not in the format assumed for headerless lines ({} fields: `{}`; name \
                     them with --fields)",
                    fallback.len(),
                    fallback.header()
                ));
            }
        }
    }

    /// Each distinct source warning, in first-seen order, with the first source that had it
    /// and how many did.
    pub fn source_warnings(&self) -> Vec<(&str, (&str, usize))> {
        let mut out: Vec<(&str, (&str, usize))> = Vec::new();
        for s in &self.sources {
            for w in &s.warnings {
                match out.iter_mut().find(|(seen, _)| *seen == w.as_str()) {
                    Some((_, (_, n))) => *n += 1,
                    None => out.push((w, (&s.name, 1))),
                }
            }
        }
        out
    }

    /// The sources that could not be read (fully), with why.
    pub fn source_errors(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sources
            .iter()
            .filter_map(|s| s.error.as_deref().map(|e| (s.name.as_str(), e)))
    }
}

/// Settings of one run.
pub struct Settings {
    pub jobs: Vec<Job>,
    /// What listing the inputs left out (reported in the summary).
    pub skipped: Vec<Skipped>,
    /// Schema for lines without a header (CloudWatch events, headerless files).
    pub fallback: Arc<Schema>,
    pub since: Option<u64>,
    pub until: Option<u64>,
    /// Reading threads wanted (at most [`MAX_READERS`] are started).
    pub readers: usize,
    /// Validate every column of every line (the full decoder); else only the fields the
    /// rule pack reads are parsed and checked.
    pub strict: bool,
    /// Per job (in order), how it holds the watermark ([`order_by_first_records`]): local
    /// files that may cover the same hours. Empty: no job does.
    pub holds: Vec<Option<Hold>>,
}

/// What the inputs name, in order: the jobs to read (a source that cannot be listed is a
/// [`Job::Broken`], so the rest still runs) and what directory walks skipped.
#[derive(Debug, Default)]
pub struct Planned {
    pub jobs: Vec<Job>,
    pub skipped: Vec<Skipped>,
}

impl Planned {
    /// Every local path the run reads (files, and the paths named on the command line), for
    /// refusing an output that is one of them.
    pub fn local_paths<'a>(
        &'a self,
        inputs: &'a [Input],
    ) -> impl Iterator<Item = &'a std::path::Path> {
        let named = inputs.iter().filter_map(|i| match i {
            Input::Local(p) => Some(p.as_path()),
            // Whatever stdin is (`analyze - -o LOG < LOG`): its inode is compared like a file's.
            Input::Stdin => Some(std::path::Path::new("/dev/stdin")),
            _ => None,
        });
        let files = self.jobs.iter().filter_map(|j| match j {
            Job::File(p) => Some(p.as_path()),
            _ => None,
        });
        named.chain(files)
    }
}

/// The (device, inode) of a file, to tell one file named twice.
fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Lists what the inputs name: directories walked in name order, S3 prefixes listed and
/// pruned by the date in each key.
pub async fn plan_jobs(
    inputs: &[Input],
    aws: Option<&Aws>,
    since: Option<u64>,
    until: Option<u64>,
) -> Planned {
    let mut planned = Planned::default();
    let jobs = &mut planned.jobs;
    let mut seen: std::collections::HashMap<(u64, u64), std::path::PathBuf> = Default::default();
    for input in inputs {
        match input {
            Input::Local(path) => {
                let entries = walk::walk(path);
                if let Some(error) = nothing_found(path, &entries) {
                    jobs.push(Job::Broken {
                        name: path.display().to_string(),
                        error,
                    });
                }
                for entry in entries {
                    match entry {
                        walk::Entry::File(p) => {
                            // The same file named twice (`a.log ./a.log`, `dir dir/a.log`) is
                            // read once: counting it twice would double its traffic.
                            let first = file_id(&p).and_then(|id| match seen.entry(id) {
                                std::collections::hash_map::Entry::Occupied(e) => {
                                    Some(e.get().clone())
                                }
                                std::collections::hash_map::Entry::Vacant(v) => {
                                    v.insert(p.clone());
                                    None
                                }
                            });
                            match first {
                                Some(first) => planned.skipped.push(Skipped {
                                    name: p.display().to_string(),
                                    reason: format!("the same file as {}", first.display()),
                                }),
                                None => jobs.push(Job::File(p)),
                            }
                        }
                        walk::Entry::Broken { path, error } => jobs.push(Job::Broken {
                            name: path.display().to_string(),
                            error,
                        }),
                        walk::Entry::Skipped { path, reason } => planned.skipped.push(Skipped {
                            name: path.display().to_string(),
                            reason,
                        }),
                    }
                }
            }
            Input::Stdin if jobs.iter().any(|j| matches!(j, Job::Stdin)) => {
                jobs.push(Job::Broken {
                    name: "stdin".into(),
                    error: "`-` is given more than once; stdin is read once".into(),
                })
            }
            Input::Stdin => jobs.push(Job::Stdin),
            Input::S3 { bucket, prefix } => {
                let listed = match aws {
                    Some(aws) => aws::s3::list_objects(&aws.default_clients().s3, bucket, prefix)
                        .await
                        .map_err(|e| e.to_string()),
                    None => Err("s3:// inputs need AWS access".to_string()),
                };
                let objects = match listed {
                    Ok(o) if !o.iter().any(|o| o.size > 0) => {
                        jobs.push(Job::Broken {
                            name: format!("s3://{bucket}/{prefix}"),
                            error: "no objects under this prefix (looked for flow-log objects: \
                                    any non-empty object whose key starts with it); check the \
                                    bucket and prefix"
                                .to_string(),
                        });
                        continue;
                    }
                    Ok(o) => o,
                    Err(error) => {
                        jobs.push(Job::Broken {
                            name: format!("s3://{bucket}/{prefix}"),
                            error: format!("cannot list the objects: {error}"),
                        });
                        continue;
                    }
                };
                jobs.extend(
                    objects
                        .into_iter()
                        .filter(|o| o.size > 0 && day_in_range(key_day(&o.key), since, until))
                        .map(|o| Job::S3 {
                            bucket: bucket.clone(),
                            key: o.key,
                            size: o.size.max(0) as u64,
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
    repeats::skip_repeated_objects(&mut planned);
    order_by_key_time(&mut planned.jobs);
    planned
}

/// Why a directory named on the command line gives nothing to read, when its walk found no
/// file at all (an empty object is still read: it holds no records, which is not an error).
/// A wrong path then fails the run like a missing one instead of passing as "No findings".
fn nothing_found(path: &std::path::Path, entries: &[walk::Entry]) -> Option<String> {
    let files = entries.iter().any(|e| matches!(e, walk::Entry::File(_)));
    let broken = entries
        .iter()
        .any(|e| matches!(e, walk::Entry::Broken { path: p, .. } if p == path));
    (!files && !broken && path.is_dir()).then(|| {
        "no files in this directory or under it (looked for flow-log objects: any regular \
         file, gzip or text, whose name does not start with `.`); check the path"
            .to_string()
    })
}

/// When a job's object was written, from its key or path in the AWS layout (minute
/// precision), with the key for a deterministic tie-break. None for anything else.
fn key_time(job: &Job) -> Option<(jiff::Timestamp, String)> {
    let key = match job {
        Job::S3 { key, .. } => key.clone(),
        Job::File(path) => path.to_str()?.to_string(),
        _ => return None,
    };
    crate::model::layout::parse_object_key(&key).map(|info| (info.time, key))
}

/// Puts the jobs whose keys carry AWS's `_YYYYMMDDTHHmmZ_` time in time order (then key
/// order), in the places such jobs held; every other job keeps its place. Keys sort by flow-log
/// id before time, so in listing order a second flow log's records would reach the engine a
/// whole run "late"; in time order several flow logs interleave as their records happened.
fn order_by_key_time(jobs: &mut [Job]) {
    let timed: Vec<(usize, (jiff::Timestamp, String))> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| key_time(j).map(|t| (i, t)))
        .collect();
    let mut sorted: Vec<(usize, &(jiff::Timestamp, String))> =
        timed.iter().map(|(i, t)| (*i, t)).collect();
    sorted.sort_by(|a, b| a.1.cmp(b.1));
    let taken: Vec<Job> = sorted
        .iter()
        .map(|(i, _)| std::mem::replace(&mut jobs[*i], Job::Stdin))
        .collect();
    for ((slot, _), job) in timed.iter().zip(taken) {
        jobs[*slot] = job;
    }
}

/// Puts the local files whose names carry no AWS time in the order of their first records'
/// times, and returns each job's hold for [`Settings::holds`] (see `time_order`).
pub fn order_by_first_records(jobs: &mut [Job], fallback: &Schema) -> Vec<Option<Hold>> {
    time_order::order_and_hold(jobs, fallback)
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
        .map(|j| j.source_name().map(|name| registry.add(name)))
        .collect();
    let readers = settings.readers.clamp(1, MAX_READERS);
    let ahead = (BATCHES_AHEAD / readers).max(2);
    let next = AtomicUsize::new(0);
    let shared = Shared::with_batches(WHOLE_BUDGET, 2 * readers, BATCHES_AHEAD)
        .with_max_grant(WHOLE_BUDGET / 2);
    let engine = Engine::new(pack);
    let classifier = engine.classifier();
    let fields = classifier.fields();
    // Batch buffers in flight are bounded (`BATCHES_AHEAD`, plus each job channel's share),
    // so a few more spares than that is all that ever comes back.
    let recycler = recycle::Recycler::new(batches::BATCH_FLOWS, 2 * BATCHES_AHEAD);
    let verdict_bufs = recycle::Recycler::new(batches::BATCH_FLOWS, BATCHES_TO_BACK + 2);
    let decode = Decode {
        classifier: &classifier,
        registry: &registry,
        decoding: match settings.strict {
            true => Decoding::Strict,
            false => Decoding::Fields(&fields),
        },
        since: settings.since,
        until: settings.until,
        batches: &recycler,
    };
    // Each job gets its own small channel, announced with its index; the engine thread drains
    // them in job order. Reading threads work ahead in parallel, memory stays at a few batches
    // per thread, and the engine sees the same flow sequence on every run (so results are
    // reproducible).
    let (announce_tx, announce_rx) = channel::<(usize, Receiver<Message>)>();
    // The engine's two halves run on two threads: this one detects (and hands findings to
    // `on_final`), the sink's thread counts and decides each record's verdict.
    let (mut front, mut back) = engine.split();
    let (back_tx, back_rx) = sync_channel::<ToBack>(BATCHES_TO_BACK);
    let mut sink = Sink {
        front: &mut front,
        back: back_tx,
        verdicts: &verdict_bufs,
        timeline: Timeline::default(),
        summary: RunSummary {
            skipped: settings.skipped.clone(),
            ..RunSummary::default()
        },
        decode: &decode,
        shared: &shared,
        logs: flow_logs::FlowLogs::for_jobs(&settings.jobs),
        registry: &registry,
        hold: None,
    };
    let (mut timeline, mut summary) = std::thread::scope(|scope| {
        for _ in 0..readers {
            let announce_tx = announce_tx.clone();
            let (next, registry, job_sources, decode, shared) =
                (&next, &registry, &job_sources, &decode, &shared);
            scope.spawn(move || {
                // The classifier is read on every record: each reading thread has its own copy,
                // made here (its memory this thread's). Shared, it lived on the engine
                // thread's stack beside what that thread writes all the time, and its loads
                // missed the cache (a third of `Batcher::keep`'s time).
                let classifier = decode.classifier.clone();
                let decode = &Decode {
                    classifier: &classifier,
                    ..*decode
                };
                let mut reader = Reader::new();
                loop {
                    shared.working(true);
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = settings.jobs.get(i) else {
                        shared.working(false);
                        break;
                    };
                    let (tx, rx) = sync_channel::<Message>(ahead);
                    let mut batcher = decode.batcher();
                    let mut job_reader = JobReader {
                        settings,
                        clients,
                        runtime,
                        registry,
                        reader: &mut reader,
                        batcher: &mut batcher,
                        tx: &tx,
                        shared,
                        decode,
                        job: i,
                    };
                    let alive = announce_tx.send((i, rx)).is_ok()
                        && job_reader.read(job, job_sources[i])
                        && tx.send(Message::Done(batcher.tally)).is_ok();
                    shared.working(false);
                    if !alive {
                        return;
                    }
                }
                // No job left: decode the parts the others offer until none can come.
                while let Some(part) = shared.next_part() {
                    job::run_part(&part, decode);
                }
            });
        }
        drop(announce_tx);
        let (jobs, shared) = (settings.jobs.len(), &shared);
        let front_thread = scope.spawn(move || {
            let mut announced: BTreeMap<usize, Receiver<Message>> = BTreeMap::new();
            'jobs: for want in 0..jobs {
                let rx = loop {
                    if let Some(rx) = announced.remove(&want) {
                        break rx;
                    }
                    match announce_rx.recv() {
                        Ok((i, rx)) => {
                            announced.insert(i, rx);
                        }
                        Err(_) => break 'jobs,
                    }
                };
                shared.engine_at(want);
                sink.hold = settings.holds.get(want).copied().flatten();
                sink.front.hold(sink.hold);
                for msg in rx {
                    if matches!(msg, Message::Flows(_)) {
                        shared.batch_taken();
                    }
                    sink.message(msg);
                }
            }
            sink.finish()
        });
        for (batch, verdicts, hold) in back_rx {
            back.hold(hold);
            for ((flow, origin), verdict) in batch.iter().zip(&verdicts) {
                back.observe(flow, *origin, *verdict);
            }
            let ready = back.take_final();
            if !ready.is_empty() {
                on_final(ready);
            }
            decode.batches.give(batch);
            verdict_bufs.give(verdicts);
        }
        front_thread.join().expect("the engine's counting thread")
    });
    let engine = Engine::join(front, back);
    timeline.flush();
    let names = registry.names.into_inner().expect("registry lock");
    for (i, name) in names.into_iter().enumerate() {
        summary.source(i as u32).name = name;
    }
    summary.nothing_readable(&settings.fallback);
    (engine.finish(), summary, timeline)
}

/// A batch of flows and the engine's counting half's verdict on each, for its detecting half,
/// with the hold of the job they come from ([`Settings::holds`]).
type ToBack = (Vec<batches::Observed>, Vec<Verdict>, Option<Hold>);

/// The engine's counting thread, the first end of the pipeline: takes jobs' messages in job
/// order, feeds flows to the engine's [`Front`] and the timeline, hands each batch with its
/// verdicts to the detecting half, counts into the summary, and decodes the parts nobody took
/// when their turn comes.
struct Sink<'r> {
    front: &'r mut Front,
    back: SyncSender<ToBack>,
    verdicts: &'r recycle::Recycler<Verdict>,
    timeline: Timeline,
    summary: RunSummary,
    decode: &'r Decode<'r>,
    shared: &'r Shared,
    /// Which flow log each source is (an interface logged by two counts each flow once).
    logs: flow_logs::FlowLogs,
    registry: &'r Registry,
    /// The hold of the job being read ([`Settings::holds`]).
    hold: Option<Hold>,
}

impl Sink<'_> {
    fn flows(&mut self, mut batch: Vec<batches::Observed>) {
        let mut verdicts = self.verdicts.take();
        for (flow, origin) in &mut batch {
            let log = self.logs.of(origin.source, self.registry);
            let verdict = self.front.observe(flow, log);
            // The timeline counts exactly what the reports count.
            if verdict.counted() {
                self.timeline.add_flow(flow);
            }
            verdicts.push(verdict);
        }
        self.timeline_released();
        // Fails only when the detecting thread is gone (it panicked; the scope reports it).
        let _ = self.back.send((batch, verdicts, self.hold));
    }

    /// Adds the held records the front counted as traffic since the last call to the
    /// timeline (which counts exactly what the reports count).
    fn timeline_released(&mut self) {
        for flow in self.front.take_released() {
            self.timeline.add_flow(&flow);
        }
    }

    /// Releases every held record (the records have ended) and gives the timeline and
    /// summary.
    fn finish(mut self) -> (Timeline, RunSummary) {
        self.front.release_all();
        self.timeline_released();
        (self.timeline, self.summary)
    }

    fn message(&mut self, msg: Message) {
        match msg {
            Message::Flows(batch) => self.flows(batch),
            Message::Failed { source, error } => self.summary.source(source).error = Some(error),
            Message::Counts(tally) | Message::Done(tally) => self.summary.add(tally),
            Message::Deferred(part) => {
                match part.take_for_engine() {
                    Claim::Pending(piece) => {
                        let mut batcher = self.decode.batcher();
                        let block = reader::Block {
                            schema: &piece.schema,
                            first_line: piece.first_line,
                            text: piece.text.bytes(),
                        };
                        let mut batches = Vec::new();
                        let mut keep = |batch: Vec<batches::Observed>| {
                            batches.push(batch);
                            true
                        };
                        batcher.block(piece.source, &block, &mut keep);
                        batcher.flush(&mut keep);
                        for batch in batches {
                            self.flows(batch);
                        }
                        self.summary.add(batcher.tally);
                    }
                    Claim::Running(rx) => {
                        for msg in rx {
                            self.message(msg);
                        }
                    }
                    Claim::Taken => {}
                }
                self.shared.consumed();
            }
        }
    }
}

impl RunSummary {
    fn source(&mut self, source: u32) -> &mut SourceReport {
        let i = source as usize;
        if self.sources.len() <= i {
            self.sources.resize_with(i + 1, SourceReport::default);
        }
        &mut self.sources[i]
    }

    /// Adds what one job counted (jobs are added in job order, so examples stay the first).
    fn add(&mut self, tally: JobTally) {
        for (source, counts) in tally.sources {
            let report = self.source(source);
            report.records += counts.records;
            report.malformed += counts.malformed;
            let room = EXAMPLES_PER_SOURCE.saturating_sub(report.examples.len());
            report
                .examples
                .extend(counts.examples.into_iter().take(room));
            for w in counts.warnings {
                if !report.warnings.contains(&w) {
                    report.warnings.push(w);
                }
            }
            if report.error.is_none() {
                report.error = counts.header_error;
            }
            self.records += counts.records;
            self.malformed += counts.malformed;
        }
        self.outside_range += tally.outside_range;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The key of one delivered object of flow log `fl` at `minute` past midnight.
    fn key(fl: &str, minute: u32) -> String {
        format!(
            "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/12/01/\
             111122223333_vpcflowlogs_us-east-1_{fl}_20261201T{:02}{:02}Z_abcd1234.log.gz",
            minute / 60,
            minute % 60
        )
    }

    fn s3(key: &str) -> Job {
        Job::S3 {
            bucket: "b".into(),
            key: key.into(),
            size: 1,
        }
    }

    fn names(jobs: &[Job]) -> Vec<String> {
        jobs.iter()
            .map(|j| match j {
                Job::S3 { key, .. } => key.rsplit('/').next().unwrap_or(key).to_string(),
                Job::File(p) => p.display().to_string(),
                Job::Broken { name, .. } => name.clone(),
                _ => "?".into(),
            })
            .collect()
    }

    #[test]
    fn jobs_interleave_flow_logs_by_key_time() {
        // As S3 lists them: by flow-log id first, then time; one foreign key in between.
        let mut jobs = vec![
            s3(&key("fl-a", 10)),
            s3(&key("fl-a", 20)),
            s3("copies/other.log.gz"),
            s3(&key("fl-b", 5)),
            s3(&key("fl-b", 10)),
            Job::Broken {
                name: "x".into(),
                error: "e".into(),
            },
            s3(&key("fl-c", 0)),
        ];
        order_by_key_time(&mut jobs);
        let short = |fl: &str, m: u32| key(fl, m).rsplit('/').next().unwrap().to_string();
        assert_eq!(
            names(&jobs),
            [
                short("fl-c", 0),
                short("fl-b", 5),
                "other.log.gz".into(),
                short("fl-a", 10),
                short("fl-b", 10),
                "x".into(),
                short("fl-a", 20),
            ]
        );
    }

    /// Regression (#11): with three flow logs in one bucket the second and third logs' objects
    /// came 40 minutes after the first log's in listing order, and their records were dropped
    /// as late.
    #[test]
    fn three_flow_logs_lose_no_record_as_late() {
        let dir = tempfile::tempdir().unwrap();
        for fl in ["fl-0aaa", "fl-0bbb", "fl-0ccc"] {
            for object in 0..8u32 {
                let minute = object * 5;
                let path = dir.path().join(key(fl, minute));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let start = 1_796_083_200 + u64::from(minute) * 60; // 2026-12-01 00:00 UTC
                let mut text = String::from(
                    "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
                     packets bytes start end action log-status\n",
                );
                for i in 0..20u64 {
                    text.push_str(&format!(
                        "2 111122223333 eni-1 203.0.113.{} 10.0.0.{} 40000 22 6 1 40 {} {} REJECT OK\n",
                        i + 1,
                        object + 1,
                        start + i,
                        start + i + 30
                    ));
                }
                let mut gz = flate2::write::GzEncoder::new(
                    std::fs::File::create(&path).unwrap(),
                    flate2::Compression::fast(),
                );
                gz.write_all(text.as_bytes()).unwrap();
                gz.finish().unwrap();
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let inputs = [Input::Local(dir.path().to_path_buf())];
        let planned = runtime.block_on(plan_jobs(&inputs, None, None, None));
        assert_eq!(planned.jobs.len(), 24);
        let settings = Settings {
            jobs: planned.jobs,
            skipped: vec![],
            fallback: Arc::new(Schema::default_v2()),
            since: None,
            until: None,
            readers: 2,
            strict: false,
            holds: Vec::new(),
        };
        let pack = RulePack::default_pack();
        let (analysis, summary, _) = run(&settings, None, runtime.handle(), &pack, &mut |_| {});
        assert_eq!(summary.records, 480);
        assert_eq!(analysis.stats.late_records(), 0, "{:?}", analysis.stats);
    }

    /// A v2 object of `lines` records (a few of them malformed, at known lines), with a header.
    fn big_object(lines: u64, bad: &[u64]) -> String {
        let mut text = String::from(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets \
             bytes start end action log-status\n",
        );
        for n in 2..lines + 2 {
            if bad.contains(&n) {
                text.push_str("2 111122223333 eni-1 not-an-address\n");
                continue;
            }
            let t = 1_796_083_200 + n / 50;
            text.push_str(&format!(
                "2 111122223333 eni-{} 203.0.113.{} 10.0.{}.{} {} {} 6 {} {} {t} {} {} OK\n",
                n % 7,
                n % 250 + 1,
                n % 3,
                n % 200 + 1,
                40000 + n % 20000,
                [22, 80, 443, 3389, 5432][(n % 5) as usize],
                n % 9 + 1,
                n % 9000 + 40,
                t + 5,
                ["ACCEPT", "REJECT"][(n % 2) as usize],
            ));
        }
        text
    }

    fn analyze_files(paths: Vec<std::path::PathBuf>, readers: usize) -> (String, RunSummary) {
        let settings = Settings {
            jobs: paths.into_iter().map(Job::File).collect(),
            skipped: vec![],
            fallback: Arc::new(Schema::default_v2()),
            since: None,
            until: None,
            readers,
            strict: false,
            holds: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let pack = RulePack::default_pack();
        let mut streamed = Vec::new();
        let (analysis, summary, _) = run(&settings, None, runtime.handle(), &pack, &mut |f| {
            streamed.extend(f)
        });
        let json =
            serde_json::to_string(&(&streamed, &analysis.findings, &analysis.reports)).unwrap();
        (json, summary)
    }

    /// Large objects are cut into parts that any thread (or the engine thread) decodes; the
    /// engine must still see every flow in line order, with the right line numbers, whatever
    /// the number of threads, for a gzip object read whole and for a plain file streamed.
    #[test]
    fn parts_of_large_objects_keep_line_order_and_numbers_on_any_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let bad = [3, 9_000, 69_999];
        let text = big_object(70_000, &bad);
        assert!(text.len() > 3 * job::PART_BYTES, "{} bytes", text.len());
        let gz = dir.path().join("a.log.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let plain = dir.path().join("b.log");
        std::fs::write(&plain, &text).unwrap();
        let mut runs = Vec::new();
        for readers in [1, 2, 4] {
            let (json, summary) = analyze_files(vec![gz.clone(), plain.clone()], readers);
            assert_eq!(summary.records, 2 * (70_000 - 3), "{readers} readers");
            for (source, path) in [(0, &gz), (1, &plain)] {
                let report = &summary.sources[source];
                assert_eq!(report.malformed, 3);
                let lines: Vec<String> = bad
                    .iter()
                    .map(|n| format!("{}:{n}: ", path.display()))
                    .collect();
                for (example, line) in report.examples.iter().zip(&lines) {
                    assert!(example.starts_with(line), "{example} / {line}");
                }
            }
            runs.push(json);
        }
        assert!(runs[0].len() > 1000);
        assert!(
            runs.iter().all(|r| *r == runs[0]),
            "results differ by thread count"
        );
    }
}
