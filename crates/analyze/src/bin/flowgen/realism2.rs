//! `--realism 2`: the multi-VPC estate over `--minutes`, one job per VPC and 5-minute period
//! (fixed-rate patterns, then request-driven ones up to the job's share of `--records`, the
//! planted attacks in the middle period of the first VPC unless `--benign-only`), records in
//! capture order (by minute) and cut into objects of at most `--per-object` records, or all
//! written to one `--single-file`. Jobs have their own seeded streams, so the thread count
//! does not change the bytes.

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

fn key_hash(seed: u64, job: &Job, part: usize) -> u32 {
    let mut h = seed ^ ((job.vpc as u64) << 40) ^ (job.period << 20) ^ part as u64;
    splitmix(&mut h) as u32
}

/// Runs realism 2; returns nothing but files.
pub fn run(o: &Opts) -> Result<(), String> {
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
                            let path = o.single_file.expect("single file");
                            let done = writer2::write_records(
                                guard.0.writer(),
                                vpc,
                                &records,
                                o.version,
                                writer2::format_of(0, o.version),
                                false,
                            );
                            // Pass the turn on even after an error, so no worker waits forever.
                            guard.1 += 1;
                            drop(guard);
                            turn.notify_all();
                            done.map_err(|e| format!("{}: {e}", path.display()))?;
                        } else {
                            let t = grid + PERIOD * (job.period + 1);
                            for (part, chunk) in records.chunks(o.per_object as usize).enumerate() {
                                let key = writer2::object_key(vpc, t, key_hash(o.seed, job, part));
                                writer2::write_object(o.out, &key, vpc, chunk, o.version)
                                    .map_err(|e| format!("{}: {e}", o.out.join(&key).display()))?;
                                objects.fetch_add(1, Ordering::Relaxed);
                            }
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
    match o.single_file {
        Some(p) => eprintln!("flowgen: {written} records in {}", p.display()),
        None => eprintln!(
            "flowgen: {written} records in {objects} objects under {}",
            o.out.join("AWSLogs").display()
        ),
    }
    Ok(())
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
        "attacks": truth,
    });
    let text = serde_json::to_string_pretty(&planted).map_err(|e| e.to_string())? + "\n";
    let write = |name: &str, text: &str| {
        let p: PathBuf = o.out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write("planted.json", &text)?;
    write("zones.yaml", &estate::zones_yaml(vpcs))?;
    write("networks.yaml", &estate::networks_yaml(vpcs))
}
