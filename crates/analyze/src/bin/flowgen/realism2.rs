//! `--realism 2`: the multi-VPC estate over `--minutes`, one job per VPC and 5-minute period
//! (fixed-rate patterns, then request-driven ones up to the job's share of `--records`, the
//! planted attacks in the middle period of the first VPC unless `--benign-only`), records in
//! capture order (by minute) and cut into objects of at most `--per-object` records, or all
//! written to one `--single-file`. Jobs have their own seeded streams, so the thread count
//! does not change the bytes.
//!
//! With `--aggregation 600` a record is delivered when its 10-minute interval closes, as AWS
//! does: all jobs are generated first, records are cut at their interface's own interval
//! boundaries (each interface has its own phase), then each VPC's records are regrouped by
//! the 5-minute period in which their interval closed (in no order within an object, as AWS
//! promises none) and written per period. A record's start is then at most
//! 600 s before it closes, so one object's starts span at most about 15 minutes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use flowkeeper_analyze::time::format_rfc3339;
use serde_json::{Value, json};

use super::estate::{self, Pools, Vpc};
use super::flow::Rec2;
use super::planted2;
use super::rng::{Rng, splitmix};
use super::traffic_benign::{self, Ctx, PERIOD};
use super::writer::GZIP_LEVEL;
use super::writer2::{self, SingleFile};

/// What realism 2 needs from the command line.
pub struct Opts<'a> {
    pub out: &'a Path,
    pub records: u64,
    pub seed: u64,
    pub vpcs: usize,
    pub minutes: u64,
    pub start: u64,
    pub version: u8,
    pub per_object: u64,
    pub threads: usize,
    pub benign_only: bool,
    pub single_file: Option<&'a Path>,
    /// Seconds: 60, or 600 (delivery by interval close, see the module docs).
    pub aggregation: u64,
}

struct Job {
    vpc: usize,
    period: u64,
    budget: usize,
}

/// The records of one job, in capture order.
fn generate(
    o: &Opts,
    vpcs: &[Vpc],
    pools: &Pools,
    job: &Job,
    periods: u64,
    planted: Option<&[Rec2]>,
) -> Vec<Rec2> {
    let vpc = &vpcs[job.vpc];
    let stream = 0x2_0000_0000 | ((job.vpc as u64) << 16) | job.period;
    let t0 = o.start - o.start % PERIOD + PERIOD * job.period;
    let mut cx = Ctx {
        vpc,
        pools,
        rng: Rng::new(o.seed, stream),
        t0,
        first: job.period == 0,
        last: job.period + 1 == periods,
        seed: o.seed,
        peer: peer_of(vpcs, job.vpc),
    };
    let mut out: Vec<Rec2> = planted.map(<[Rec2]>::to_vec).unwrap_or_default();
    let keep = out.len();
    traffic_benign::fixed(&mut cx, &mut out);
    let budget = job.budget.max(keep);
    if out.len() > budget {
        // A small budget: keep the planted records and a sample of the fixed-rate ones.
        cx.rng.shuffle(&mut out[keep..]);
        out.truncate(budget);
    }
    traffic_benign::fill(&mut cx, &mut out, budget);
    out.truncate(budget);
    cx.rng.shuffle(&mut out);
    out.sort_by_key(|r| r.start / 60);
    out
}

/// VPCs 2k and 2k+1 are peered; the even one is the client side.
fn peer_of(vpcs: &[Vpc], v: usize) -> Option<(&Vpc, bool)> {
    if v.is_multiple_of(2) {
        vpcs.get(v + 1).map(|p| (p, true))
    } else {
        Some((&vpcs[v - 1], false))
    }
}

fn key_hash(seed: u64, job: &Job, part: usize) -> u32 {
    let mut h = seed ^ ((job.vpc as u64) << 40) ^ (job.period << 20) ^ part as u64;
    splitmix(&mut h) as u32
}

/// Runs realism 2; returns nothing but files.
pub fn run(o: &Opts) -> Result<(), String> {
    super::flow::AGGREGATION.store(o.aggregation, std::sync::atomic::Ordering::Relaxed);
    let vpcs = estate::build(o.seed, o.vpcs);
    let pools = Pools::new(o.seed);
    let grid = o.start - o.start % PERIOD;
    let periods = o.minutes.div_ceil(5).max(1);
    let middle = periods / 2;

    let (planted, truth) = if o.benign_only {
        (Vec::new(), Vec::new())
    } else {
        let mut cx = Ctx {
            vpc: &vpcs[0],
            pools: &pools,
            rng: Rng::new(o.seed, 0x2a77ac),
            t0: grid + PERIOD * middle,
            first: middle == 0,
            last: middle + 1 == periods,
            seed: o.seed,
            peer: None,
        };
        planted2::planted(&mut cx)
    };

    let slots = o.vpcs as u64 * periods;
    let mut jobs = Vec::new();
    for period in 0..periods {
        for vpc in 0..o.vpcs {
            let k = period * o.vpcs as u64 + vpc as u64;
            let budget = o.records / slots + u64::from(k < o.records % slots);
            jobs.push(Job {
                vpc,
                period,
                budget: budget as usize,
            });
        }
    }
    let is_planted = |j: &Job| !o.benign_only && j.vpc == 0 && j.period == middle;
    if o.aggregation > 60 {
        let generated = generate_all(o, &vpcs, &pools, &jobs, periods, &planted, &is_planted)?;
        let (written, objects, delivered) = write_by_delivery(o, &vpcs, grid, generated)?;
        write_meta(o, &vpcs, grid, periods, written, objects, truth)?;
        add_delivered(o, grid + PERIOD * delivered)?;
        report(o, written, objects);
        return Ok(());
    }

    let single = match o.single_file {
        Some(p) => Some(Mutex::new((
            SingleFile::create(p, writer2::format_of(0, o.version))
                .map_err(|e| format!("{}: {e}", p.display()))?,
            0usize,
        ))),
        None => None,
    };
    let turn = Condvar::new();
    let next = AtomicUsize::new(0);
    let written = AtomicUsize::new(0);
    let objects = AtomicUsize::new(0);
    let errors: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..o.threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            return Ok(());
                        };
                        let p = is_planted(job).then_some(&planted[..]);
                        let records = generate(o, &vpcs, &pools, job, periods, p);
                        let vpc = &vpcs[job.vpc];
                        if let Some(single) = &single {
                            // Jobs are written in order: wait for our turn.
                            let guard = single.lock().map_err(|_| "a writer panicked")?;
                            let mut guard = turn
                                .wait_while(guard, |g| g.1 != i)
                                .map_err(|_| "a writer panicked")?;
                            let done = append_single(o, &mut guard.0, vpc, &records);
                            // Pass the turn on even after an error, so no worker waits forever.
                            guard.1 += 1;
                            drop(guard);
                            turn.notify_all();
                            done?;
                        } else {
                            let n = write_period(o, vpc, grid, job, &records)?;
                            objects.fetch_add(n, Ordering::Relaxed);
                        }
                        written.fetch_add(records.len(), Ordering::Relaxed);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a worker panicked".into()))
                    .err()
            })
            .collect()
    });
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    if let Some(single) = single {
        let (file, _) = single.into_inner().map_err(|_| "a writer panicked")?;
        file.finish()
            .map_err(|e| format!("{}: {e}", o.single_file.expect("single").display()))?;
    }
    let written = written.load(Ordering::Relaxed);
    let objects = objects.load(Ordering::Relaxed);
    write_meta(o, &vpcs, grid, periods, written, objects, truth)?;
    report(o, written, objects);
    Ok(())
}

fn report(o: &Opts, written: usize, objects: usize) {
    match o.single_file {
        Some(p) => eprintln!("flowgen: {written} records in {}", p.display()),
        None => eprintln!(
            "flowgen: {written} records in {objects} objects under {}",
            o.out.join("AWSLogs").display()
        ),
    }
}

/// Appends `records` of `vpc` to the `--single-file`.
fn append_single(
    o: &Opts,
    file: &mut SingleFile,
    vpc: &Vpc,
    records: &[Rec2],
) -> Result<(), String> {
    writer2::write_records(
        file.writer(),
        vpc,
        records,
        o.version,
        writer2::format_of(0, o.version),
        false,
    )
    .map_err(|e| format!("{}: {e}", o.single_file.expect("single file").display()))
}

/// Writes `records` as the objects of `job`'s 5-minute period (at most `--per-object` records
/// each); returns how many objects.
fn write_period(
    o: &Opts,
    vpc: &Vpc,
    grid: u64,
    job: &Job,
    records: &[Rec2],
) -> Result<usize, String> {
    let t = grid + PERIOD * (job.period + 1);
    let mut objects = 0;
    for (part, chunk) in records.chunks(o.per_object as usize).enumerate() {
        let key = writer2::object_key(vpc, t, key_hash(o.seed, job, part));
        writer2::write_object(o.out, &key, vpc, chunk, o.version)
            .map_err(|e| format!("{}: {e}", o.out.join(&key).display()))?;
        objects += 1;
    }
    Ok(objects)
}

/// Every job's records (on `o.threads` threads), in job order.
fn generate_all(
    o: &Opts,
    vpcs: &[Vpc],
    pools: &Pools,
    jobs: &[Job],
    periods: u64,
    planted: &[Rec2],
    is_planted: &(dyn Fn(&Job) -> bool + Sync),
) -> Result<Vec<Vec<Rec2>>, String> {
    let slots: Vec<Mutex<Vec<Rec2>>> = jobs.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..o.threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { return };
                    let p = is_planted(job).then_some(planted);
                    let records = generate(o, vpcs, pools, job, periods, p);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = records;
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .map_err(|_| "a generator panicked".to_string())
        })
        .collect()
}

/// The phase of an interface's own capture cycle (interfaces do not share one, so their
/// deliveries spread over the 5-minute objects).
fn phase(eni: u16, aggregation: u64) -> u64 {
    u64::from(eni).wrapping_mul(137) % aggregation
}

/// When a record's aggregation interval closes, which is when AWS publishes it: the end of
/// the interval of its interface's cycle that holds its start (see [`on_interface_cycle`]).
fn closes_at(r: &Rec2, aggregation: u64) -> u64 {
    let p = phase(r.eni, aggregation);
    ((r.start + p) / aggregation + 1) * aggregation - p
}

/// Records cut on the shared interval grid, cut again where their interface's own cycle has
/// a boundary inside them (AWS would have written two records): packets and bytes split by
/// duration, SYN flags on the first part and FIN/RST on the second. A one-packet record
/// cannot be split and stays whole.
fn on_interface_cycle(records: Vec<Rec2>, aggregation: u64) -> Vec<Rec2> {
    let mut out = Vec::with_capacity(records.len() + records.len() / 8);
    for r in records {
        let boundary = closes_at(&r, aggregation);
        if r.end < boundary || r.packets < 2 {
            out.push(r);
            continue;
        }
        let (first, second) = (boundary - r.start, r.end - boundary + 1);
        let packets = (r.packets * first / (first + second)).clamp(1, r.packets - 1);
        let bytes = r.bytes * packets / r.packets;
        let mut a = r.clone();
        a.end = boundary - 1;
        a.packets = packets;
        a.bytes = bytes;
        a.flags = r.flags & !0x05;
        let mut b = r;
        b.start = boundary;
        b.packets -= packets;
        b.bytes -= bytes;
        b.flags &= 0x05;
        out.push(a);
        out.push(b);
    }
    out
}

/// Writes every VPC's records into the objects of the 5-minute periods in which their
/// intervals closed (see the module docs), period by period; returns (records, objects,
/// periods delivered).
fn write_by_delivery(
    o: &Opts,
    vpcs: &[Vpc],
    grid: u64,
    generated: Vec<Vec<Rec2>>,
) -> Result<(usize, usize, u64), String> {
    let mut groups: std::collections::BTreeMap<(u64, usize), Vec<Rec2>> = Default::default();
    for (i, records) in generated.into_iter().enumerate() {
        for r in on_interface_cycle(records, o.aggregation) {
            let period = (closes_at(&r, o.aggregation).max(grid) - grid) / PERIOD;
            groups.entry((period, i % vpcs.len())).or_default().push(r);
        }
    }
    let mut single = match o.single_file {
        Some(p) => Some(
            SingleFile::create(p, writer2::format_of(0, o.version))
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let (mut written, mut objects) = (0, 0);
    let delivered = groups.keys().map(|(p, _)| p + 1).max().unwrap_or(0);
    for ((period, v), mut records) in groups {
        let vpc = &vpcs[v];
        // AWS promises no order within an object: shuffled (seeded), so one object's starts
        // are out of order across its whole ~15-minute span.
        Rng::new(o.seed, 0x3_0000_0000 | ((v as u64) << 16) | period).shuffle(&mut records);
        written += records.len();
        match &mut single {
            Some(file) => append_single(o, file, vpc, &records)?,
            None => {
                let job = Job {
                    vpc: v,
                    period,
                    budget: 0,
                };
                objects += write_period(o, vpc, grid, &job, &records)?;
            }
        }
    }
    if let Some(file) = single {
        file.finish()
            .map_err(|e| format!("{}: {e}", o.single_file.expect("single").display()))?;
    }
    Ok((written, objects, delivered))
}

/// Adds `delivered_until` (the time of the last object) to `planted.json`: with 10-minute
/// aggregation the last intervals close after `minutes`, so objects run past it.
fn add_delivered(o: &Opts, until: u64) -> Result<(), String> {
    let path = o.out.join("planted.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut meta: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    meta["delivered_until"] = json!(format_rfc3339(until));
    let text = serde_json::to_string_pretty(&meta).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_meta(
    o: &Opts,
    vpcs: &[Vpc],
    grid: u64,
    periods: u64,
    written: usize,
    objects: usize,
    truth: Vec<Value>,
) -> Result<(), String> {
    std::fs::create_dir_all(o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    let planted = json!({
        "seed": o.seed,
        "realism": 2,
        "records": written,
        "vpcs": vpcs.iter().map(|v| json!({
            "account": v.account, "region": v.region, "vpc": v.vpc, "flow_log": v.flow_log,
            "cidr": v.cidr4(), "ipv6_cidr": v.cidr6(),
            "nat_gateway_interface": v.hosts[v.of(estate::Role::Nat)[0]].id,
        })).collect::<Vec<_>>(),
        "start": format_rfc3339(grid),
        "minutes": periods * PERIOD / 60,
        "objects": objects,
        "single_file": o.single_file.map(|p| p.display().to_string()),
        "version": o.version,
        "gzip_level": GZIP_LEVEL,
        "benign_only": o.benign_only,
        "aggregation": o.aggregation,
        "attacks": truth,
    });
    let text = serde_json::to_string_pretty(&planted).map_err(|e| e.to_string())? + "\n";
    let write = |name: &str, text: &str| {
        let p: PathBuf = o.out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write("planted.json", &text)?;
    write("zones.yaml", &estate::zones_yaml(vpcs))?;
    write("networks.yaml", &estate::networks_yaml(vpcs))?;
    write("middleboxes.yaml", &estate::middleboxes_yaml(vpcs))
}
