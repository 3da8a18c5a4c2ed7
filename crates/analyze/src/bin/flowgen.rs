//! `flowgen`: writes a deterministic, realistic VPC flow-log dataset in the S3 layout, with
//! planted attacks and their ground truth, for testing and measuring `flowkeeper analyze`.
//!
//! ```text
//! flowgen --out DIR --records N --seed S [--accounts 1] [--start 2026-11-01T00:00:00Z]
//!         [--version 5] [--per-object 35000] [--threads 2]
//! ```
//!
//! Output: `DIR/AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_
//! <region>_fl-<id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`, one gzip object per account and
//! 5 minutes, each starting with the header line; `DIR/planted.json` (the attacks: kind,
//! the default pack's rule id, addresses, window) and `DIR/zones.yaml` (the estate's trust
//! zones, a pack layer). Records are split evenly over accounts and objects (about
//! `--per-object` each); the planted attacks (about 500 records) go into the middle object
//! of the first account and count towards N. The same arguments give byte-identical output
//! (each object has its own seeded stream, so threads do not change it). Memory holds one
//! object per thread.
//!
//! `--realism 2` (see `realism2`) writes a multi-VPC estate instead, as AWS logs it:
//!
//! ```text
//! flowgen --realism 2 --out DIR --records N --seed S [--vpcs 3] [--minutes 40]
//!         [--per-object 300000] [--benign-only] [--single-file PATH] [--aggregation 60|600]
//! ```
//!
//! `DIR` then also gets `networks.yaml` (the VPCs' IPv4 and IPv6 CIDRs, a pack layer, as
//! `--discover` would find them) and `middleboxes.yaml` (NAT gateways and other relays); `--single-file` writes every record to one local file
//! (gzip if it ends in `.gz`) instead of the S3 layout. `--aggregation 600` logs as flow logs
//! with AWS's default maximum aggregation interval do: records of up to 10 minutes, each
//! delivered in the 5-minute object of the moment its interval closed, so one object holds
//! records whose starts span about 15 minutes, out of start order. Realism 1 (the default) writes the
//! same bytes as before realism 2 existed.
//!
//! Modules (in `src/bin/flowgen/`): `rng` (seeded PRNG), `topology` (accounts, hosts, address pools, zones),
//! `traffic` (records, connections, benign mix, planted attacks), `writer` (lines, keys, gzip);
//! for realism 2 `estate` (VPCs, interfaces, pools, pack layers), `flow` (records and
//! connections as AWS logs them), `traffic_benign` (the benign patterns), `planted2` (attacks
//! and truth), `writer2` (lines with IPv6 and pkt-* fields, objects, single file) and
//! `realism2` (jobs).

#[path = "flowgen/rng.rs"]
mod rng;
#[path = "flowgen/topology.rs"]
mod topology;
#[path = "flowgen/traffic.rs"]
mod traffic;
#[path = "flowgen/writer.rs"]
mod writer;

#[path = "flowgen/estate.rs"]
mod estate;
#[path = "flowgen/flow.rs"]
mod flow;
#[path = "flowgen/planted2.rs"]
mod planted2;
#[path = "flowgen/realism2.rs"]
mod realism2;
#[path = "flowgen/traffic_benign.rs"]
mod traffic_benign;
#[path = "flowgen/writer2.rs"]
mod writer2;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowkeeper_analyze::time::{format_rfc3339, parse_rfc3339};
use serde_json::json;

use rng::{Rng, splitmix};
use traffic::{Pools, Rec};

struct Args {
    out: PathBuf,
    records: u64,
    seed: u64,
    accounts: usize,
    start: u64,
    version: u8,
    per_object: u64,
    threads: usize,
    realism: u8,
    vpcs: usize,
    minutes: u64,
    benign_only: bool,
    single_file: Option<PathBuf>,
    per_object_given: bool,
    aggregation: u64,
}

const USAGE: &str = "usage: flowgen --out DIR --records N --seed S [--accounts 1] [--start 2026-11-01T00:00:00Z] [--version 5|2] [--per-object 35000] [--threads 2]
       flowgen --realism 2 --out DIR --records N --seed S [--vpcs 3] [--minutes 40] [--per-object 300000] [--benign-only] [--single-file PATH] [--aggregation 60|600] [--start ..] [--version 5|2] [--threads 2]";

fn parse_args() -> Result<Args, String> {
    let mut out = None;
    let mut records = None;
    let mut seed = None;
    let mut args = Args {
        out: PathBuf::new(),
        records: 0,
        seed: 0,
        accounts: 1,
        start: 1_793_491_200,
        version: 5,
        per_object: 35_000,
        threads: 2,
        realism: 1,
        vpcs: 3,
        minutes: 40,
        benign_only: false,
        single_file: None,
        per_object_given: false,
        aggregation: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        if flag == "--benign-only" {
            args.benign_only = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value)),
            "--records" => records = Some(num(&value)?),
            "--seed" => seed = Some(num(&value)?),
            "--accounts" => args.accounts = num(&value)? as usize,
            "--start" => {
                args.start = parse_rfc3339(&value).ok_or_else(|| {
                    format!("--start: expected YYYY-MM-DDTHH:MM:SSZ, got {value}")
                })?;
            }
            "--version" => {
                args.version = match value.as_str() {
                    "5" => 5,
                    "2" => 2,
                    v => return Err(format!("--version: 2 or 5, got {v}")),
                }
            }
            "--per-object" => {
                args.per_object = num(&value)?.max(1000);
                args.per_object_given = true;
            }
            "--realism" => {
                args.realism = match value.as_str() {
                    "1" => 1,
                    "2" => 2,
                    v => return Err(format!("--realism: 1 or 2, got {v}")),
                }
            }
            "--vpcs" => args.vpcs = num(&value)? as usize,
            "--minutes" => args.minutes = num(&value)?,
            "--single-file" => args.single_file = Some(PathBuf::from(value)),
            "--aggregation" => {
                args.aggregation = match value.as_str() {
                    "60" => 60,
                    "600" => 600,
                    v => return Err(format!("--aggregation: 60 or 600 (seconds), got {v}")),
                }
            }
            "--threads" => args.threads = (num(&value)? as usize).clamp(1, 64),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    args.out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    args.records = records.ok_or_else(|| format!("--records is required\n{USAGE}"))?;
    args.seed = seed.ok_or_else(|| format!("--seed is required\n{USAGE}"))?;
    if args.realism == 2 {
        if !(1..=64).contains(&args.vpcs) {
            return Err("--vpcs must be between 1 and 64".into());
        }
        if !(5..=1440).contains(&args.minutes) {
            return Err("--minutes must be between 5 and 1440".into());
        }
        if !args.per_object_given {
            args.per_object = 300_000;
        }
        return Ok(args);
    }
    if args.benign_only || args.single_file.is_some() || args.aggregation != 60 {
        return Err(format!(
            "--benign-only, --single-file and --aggregation need --realism 2\n{USAGE}"
        ));
    }
    if !(1..=250).contains(&args.accounts) {
        return Err("--accounts must be between 1 and 250".into());
    }
    if args.records < 2_000 * args.accounts as u64 {
        return Err(
            "--records must be at least 2000 per account (the planted attacks need room)".into(),
        );
    }
    Ok(args)
}

/// One object to write.
struct Job {
    account: usize,
    object: u64,
    budget: usize,
    planted: Option<Vec<Rec>>,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            // A usage error is an error (1); 2 would mean "worked and found something".
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flowgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    if args.realism == 2 {
        return realism2::run(&realism2::Opts {
            out: &args.out,
            records: args.records,
            seed: args.seed,
            vpcs: args.vpcs,
            minutes: args.minutes,
            start: args.start,
            version: args.version,
            per_object: args.per_object,
            threads: args.threads,
            benign_only: args.benign_only,
            single_file: args.single_file.as_deref(),
            aggregation: args.aggregation,
        });
    }
    let accounts = topology::build(args.seed, args.accounts);
    let pools: Vec<Pools> = (0..args.accounts)
        .map(|a| Pools::new(args.seed, a))
        .collect();
    let grid = args.start - args.start % 300;

    let mut jobs = Vec::new();
    let mut truth = Vec::new();
    let per_account = args.records / args.accounts as u64;
    for a in 0..args.accounts {
        let n = per_account + u64::from((a as u64) < args.records % args.accounts as u64);
        let objects = n.div_ceil(args.per_object).max(1);
        let middle = objects / 2;
        for k in 0..objects {
            let budget = n / objects + u64::from(k < n % objects);
            let planted = (a == 0 && k == middle).then(|| {
                let mut rng = Rng::new(args.seed, 0xa77ac);
                let (recs, t) = traffic::planted(&mut rng, &accounts[0], grid + 300 * k);
                truth = t;
                recs
            });
            jobs.push(Job {
                account: a,
                object: k,
                budget: budget as usize,
                planted,
            });
        }
    }

    let next = AtomicUsize::new(0);
    let written = AtomicUsize::new(0);
    let jobs = &jobs;
    let errors: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    let mut records = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            return Ok(());
                        };
                        let a = &accounts[job.account];
                        let t0 = grid + 300 * job.object;
                        let stream = ((job.account as u64) << 32) | job.object;
                        let mut rng = Rng::new(args.seed, stream);
                        records.clear();
                        if let Some(p) = &job.planted {
                            records.extend_from_slice(p);
                        }
                        let budget = job.budget.max(records.len());
                        traffic::benign(
                            &mut rng,
                            a,
                            &pools[job.account],
                            job.object,
                            t0,
                            budget,
                            &mut records,
                        );
                        rng.shuffle(&mut records);
                        let mut h = args.seed ^ stream.wrapping_mul(0x2545_f491_4f6c_dd1d);
                        let key = writer::object_key(a, t0 + 300, splitmix(&mut h) as u32);
                        writer::write_object(&args.out, &key, a, &records, args.version)
                            .map_err(|e| format!("{}: {e}", args.out.join(&key).display()))?;
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

    let planted = json!({
        "seed": args.seed,
        "records": written.load(Ordering::Relaxed),
        "accounts": accounts.iter().map(|a| json!({"id": a.id, "region": a.region, "vpc": a.vpc, "flow_log": a.flow_log, "cidr": format!("10.{}.0.0/16", a.index)})).collect::<Vec<_>>(),
        "start": format_rfc3339(grid),
        "objects": jobs.len(),
        "version": args.version,
        "gzip_level": writer::GZIP_LEVEL,
        "attacks": truth,
    });
    let text = serde_json::to_string_pretty(&planted).map_err(|e| e.to_string())? + "\n";
    std::fs::write(args.out.join("planted.json"), text)
        .map_err(|e| format!("planted.json: {e}"))?;
    std::fs::write(args.out.join("zones.yaml"), topology::zones_yaml(&accounts))
        .map_err(|e| format!("zones.yaml: {e}"))?;
    eprintln!(
        "flowgen: {} records in {} objects under {}",
        written.load(Ordering::Relaxed),
        jobs.len(),
        args.out.join("AWSLogs").display()
    );
    Ok(())
}
