//! DuckDB equivalence: the Athena queries, transpiled to DuckDB by sqlglot
//! (tests/support/pytools/duckdb_equiv.py) and run on a generated dataset, give the same
//! answers as `flowkeeper analyze --format json` on the same files, for every query whose
//! translation is exact (README "Querying and analyzing with Athena"): the totals, the top
//! sources/destinations/pairs (with `top_exact`), the ports, and the reject-burst and
//! log-health detections. The timeline is checked against the totals (the JSON has none).
//!
//! The dataset is written here, seeded and deterministic: traffic between internal hosts
//! logged at both ends (twins in different objects), internet traffic, a reject burst above
//! and one below the threshold, SYN probes, IPv6 and `::ffff:` addresses, NODATA and SKIPDATA
//! rows and untimed records, over three hours in 12 objects.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;
use flowkeeper::export::athena::queries::{Query, analysis_queries};
use flowkeeper::export::athena::sql::TimeRange;
use flowkeeper::export::athena::{SpecOptions, TableSpec, table_specs};
use flowkeeper::model::layout::{Layout, day_prefix, object_name};
use flowkeeper_analyze::{PackSource, RulePack};
use serde_json::Value;

const ACCOUNT: &str = "111111111111";
const REGION: &str = "eu-west-1";
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z
const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags flow-direction pkt-dst-aws-service";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small seeded PRNG (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Rec {
    iface: String,
    src: String,
    dst: String,
    sport: String,
    dport: String,
    proto: String,
    packets: String,
    bytes: String,
    start: String,
    end: String,
    action: String,
    status: &'static str,
    flags: String,
    direction: &'static str,
    aws: &'static str,
}

impl Rec {
    #[allow(clippy::too_many_arguments)]
    fn flow(
        iface: &str,
        src: &str,
        dst: &str,
        sport: u64,
        dport: u64,
        proto: u64,
        packets: u64,
        bytes: u64,
        start: u64,
        action: &str,
        flags: u64,
        direction: &'static str,
    ) -> Rec {
        Rec {
            iface: iface.into(),
            src: src.into(),
            dst: dst.into(),
            sport: sport.to_string(),
            dport: dport.to_string(),
            proto: proto.to_string(),
            packets: packets.to_string(),
            bytes: bytes.to_string(),
            start: start.to_string(),
            end: (start + 30).to_string(),
            action: action.into(),
            status: "OK",
            flags: flags.to_string(),
            direction,
            aws: "-",
        }
    }

    fn status(iface: &str, status: &'static str, start: u64) -> Rec {
        let dash = || "-".to_string();
        Rec {
            iface: iface.into(),
            src: dash(),
            dst: dash(),
            sport: dash(),
            dport: dash(),
            proto: dash(),
            packets: dash(),
            bytes: dash(),
            start: start.to_string(),
            end: (start + 600).to_string(),
            action: dash(),
            status,
            flags: dash(),
            direction: "-",
            aws: "-",
        }
    }

    fn line(&self) -> String {
        format!(
            "5 {ACCOUNT} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
            self.iface,
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.proto,
            self.packets,
            self.bytes,
            self.start,
            self.end,
            self.action,
            self.status,
            self.flags,
            self.direction,
            self.aws
        )
    }
}

/// The dataset: objects by their 5-minute slot, each a list of records.
/// A planted record: src, dst, sport, dport, tcp-flags, packets, action, seconds after the
/// block's start, flow-direction.
type Planted = (
    &'static str,
    &'static str,
    u64,
    u64,
    u64,
    u64,
    &'static str,
    u64,
    &'static str,
);

fn dataset() -> BTreeMap<u64, Vec<Rec>> {
    let mut rng = Rng(7);
    let mut objects: BTreeMap<u64, Vec<Rec>> = BTreeMap::new();
    let slot = |t: u64| (t - T0) / 900; // 12 objects over 3 hours
    // Few hosts, so that the top-talker sketches stay exact (`top_exact`).
    let internal = |rng: &mut Rng| format!("10.0.{}.{}", rng.below(3), 10 + rng.below(4));
    let external = |rng: &mut Rng| format!("52.{}.7.{}", rng.below(2), 1 + rng.below(5));
    let ifaces = [
        "eni-0a000000000000001",
        "eni-0a000000000000002",
        "eni-0a000000000000003",
    ];
    // Benign traffic, some of it between internal hosts logged at both ends.
    for i in 0..3000u64 {
        let t = T0 + rng.below(3 * 3600 - 60);
        let iface = ifaces[(i % 3) as usize];
        let (src, dst, dport) = match rng.below(4) {
            0 => (
                internal(&mut rng),
                external(&mut rng),
                [443u64, 80, 53][rng.below(3) as usize],
            ),
            1 => (
                external(&mut rng),
                internal(&mut rng),
                [443u64, 22, 8080][rng.below(3) as usize],
            ),
            _ => (
                internal(&mut rng),
                internal(&mut rng),
                [5432u64, 6379, 443, 9100][rng.below(4) as usize],
            ),
        };
        let sport = 32768 + rng.below(28000);
        let proto = if dport == 53 { 17 } else { 6 };
        let flags = if proto == 6 {
            [2u64, 3, 19, 18, 1][rng.below(5) as usize]
        } else {
            0
        };
        let packets = 1 + rng.below(50);
        let bytes = packets * (40 + rng.below(1400));
        let action = if rng.below(10) == 0 {
            "REJECT"
        } else {
            "ACCEPT"
        };
        let rec = Rec::flow(
            iface, &src, &dst, sport, dport, proto, packets, bytes, t, action, flags, "egress",
        );
        let twin = src.starts_with("10.") && dst.starts_with("10.") && rng.below(2) == 0;
        if twin {
            let other = ifaces[((i + 1) % 3) as usize];
            let mut t2 = Rec::flow(
                other, &src, &dst, sport, dport, proto, packets, bytes, t, action, flags, "ingress",
            );
            t2.end = rec.end.clone();
            // The twin lands in a later object (another "$path").
            objects.entry((slot(t) + 1).min(11)).or_default().push(t2);
        }
        objects.entry(slot(t)).or_default().push(rec);
    }
    // A reject burst (250 records in one 5-minute window) and one below the threshold.
    for (src, n, base) in [
        ("198.51.100.7", 250u64, T0 + 3600),
        ("198.51.100.8", 150, T0 + 5400),
    ] {
        for k in 0..n {
            let t = base + k % 280;
            let dst = format!("10.0.9.{}", 1 + k % 60);
            let r = Rec::flow(
                ifaces[0],
                src,
                &dst,
                40000 + k,
                22 + k % 5,
                6,
                1,
                40,
                t,
                "REJECT",
                2,
                "ingress",
            );
            objects.entry(slot(t)).or_default().push(r);
        }
    }
    // SYN probes of 30 ports of one host.
    for p in 0..30u64 {
        let t = T0 + 7200 + p;
        let r = Rec::flow(
            ifaces[1],
            "203.0.113.50",
            "10.0.1.15",
            55555,
            1000 + p,
            6,
            1,
            44,
            t,
            "ACCEPT",
            2,
            "ingress",
        );
        objects.entry(slot(t)).or_default().push(r);
    }
    // IPv6, and an IPv4-mapped address (the same host as its IPv4 form).
    for k in 0..40u64 {
        let t = T0 + 600 + k * 60;
        let (src, dst) = match k % 4 {
            0 => ("2001:db8::5".to_string(), "fd00::10".to_string()),
            1 => ("fd00::10".to_string(), "2001:db8::5".to_string()),
            2 => ("::ffff:10.0.1.10".to_string(), "52.1.2.3".to_string()),
            _ => ("fe80::1".to_string(), "2600:1f18::7".to_string()),
        };
        let r = Rec::flow(
            ifaces[2],
            &src,
            &dst,
            40000 + k,
            443,
            6,
            10,
            1000 + k,
            t,
            "ACCEPT",
            19,
            "egress",
        );
        objects.entry(slot(t)).or_default().push(r);
    }
    // Cleartext services across the internet boundary (insecure-protocol): a public telnet
    // client of ours (its SYN, our SYN-ACK reply, then ACK-only data decided by ports), our
    // FTP client of a public server, and telnet between two of ours (not across: no finding).
    let at = T0 + 8000;
    let planted: [Planted; 9] = [
        // Two public SSH clients of ours (admin-port-exposure), one answered.
        (
            "198.51.100.30",
            "10.0.2.21",
            51000,
            22,
            2,
            1,
            "ACCEPT",
            100,
            "ingress",
        ),
        (
            "10.0.2.21",
            "198.51.100.30",
            22,
            51000,
            18,
            1,
            "ACCEPT",
            101,
            "egress",
        ),
        (
            "198.51.100.31",
            "10.0.2.21",
            51001,
            22,
            2,
            2,
            "ACCEPT",
            120,
            "ingress",
        ),
        (
            "198.51.100.20",
            "10.0.2.20",
            50123,
            23,
            2,
            1,
            "ACCEPT",
            0,
            "ingress",
        ),
        (
            "10.0.2.20",
            "198.51.100.20",
            23,
            50123,
            18,
            1,
            "ACCEPT",
            5,
            "egress",
        ),
        (
            "198.51.100.20",
            "10.0.2.20",
            50123,
            23,
            0,
            12,
            "ACCEPT",
            60,
            "ingress",
        ),
        (
            "10.0.2.20",
            "198.51.100.20",
            23,
            50123,
            0,
            9,
            "ACCEPT",
            65,
            "egress",
        ),
        (
            "10.0.1.11",
            "52.0.7.9",
            41000,
            21,
            3,
            4,
            "ACCEPT",
            30,
            "egress",
        ),
        (
            "10.0.1.11",
            "10.0.2.20",
            41001,
            23,
            2,
            3,
            "ACCEPT",
            40,
            "egress",
        ),
    ];
    for (src, dst, sport, dport, flags, packets, action, dt, dir) in planted {
        let r = Rec::flow(
            ifaces[2],
            src,
            dst,
            sport,
            dport,
            6,
            packets,
            packets * 80,
            at + dt,
            action,
            flags,
            dir,
        );
        objects.entry(slot(at + dt)).or_default().push(r);
    }
    // Lateral movement: one internal host opening SSH to 12 internal hosts and RDP to three
    // more (rejected, counted with `include_rejected`) within one 10-minute window.
    let at = T0 + 9000;
    for k in 0..15u64 {
        let (port, action) = if k < 12 {
            (22, "ACCEPT")
        } else {
            (3389, "REJECT")
        };
        let r = Rec::flow(
            ifaces[0],
            "10.0.0.13",
            &format!("10.0.5.{}", 1 + k),
            43000 + k,
            port,
            6,
            6,
            900,
            at + k * 7,
            action,
            2,
            "egress",
        );
        objects.entry(slot(at + k * 7)).or_default().push(r);
    }
    // A reply the network ACL dropped (REJECT on ingress, ACK only): the ports decide that it
    // answers 10.0.0.13's SSH connection, not that 10.0.5.1 opened one (lateral-movement
    // counts it under 10.0.0.13).
    let r = Rec::flow(
        ifaces[0],
        "10.0.5.1",
        "10.0.0.13",
        22,
        43000,
        6,
        2,
        120,
        at + 3,
        "REJECT",
        16,
        "ingress",
    );
    objects.entry(slot(at + 3)).or_default().push(r);
    // NODATA every 10 minutes on one interface for the first hour (a log-nodata finding),
    // SKIPDATA on another, and untimed records.
    for k in 0..6u64 {
        objects
            .entry(slot(T0 + k * 600))
            .or_default()
            .push(Rec::status("eni-0a0000000000000ff", "NODATA", T0 + k * 600));
    }
    objects
        .entry(slot(T0 + 4000))
        .or_default()
        .push(Rec::status(ifaces[1], "SKIPDATA", T0 + 4000));
    for k in 0..3u64 {
        let mut r = Rec::flow(
            ifaces[0],
            "10.0.0.11",
            "10.0.0.12",
            40000 + k,
            443,
            6,
            1,
            60,
            T0,
            "ACCEPT",
            3,
            "egress",
        );
        r.start = "-".into();
        r.end = "-".into();
        objects.entry(k).or_default().push(r);
    }
    objects
}

fn write_dataset(dir: &Path) -> usize {
    write_dataset_at(dir, Layout::PLAIN, &[0])
}

/// The dataset in `layout`, once per day offset (times shifted by whole days).
fn write_dataset_at(dir: &Path, layout: Layout, day_offsets: &[u64]) -> usize {
    let mut lines = 0;
    for &offset in day_offsets {
        let shift = offset * 86_400;
        let date = jiff::civil::date(2026, 11, 1 + offset as i8);
        let folder = dir.join(day_prefix(layout, None, ACCOUNT, REGION, date));
        std::fs::create_dir_all(&folder).unwrap();
        for (slot, recs) in dataset() {
            let time = jiff::Timestamp::from_second((T0 + shift + slot * 900) as i64).unwrap();
            let name = object_name(
                ACCOUNT,
                REGION,
                "fl-0123456789abcdef0",
                time,
                &format!("{slot:08x}"),
                false,
            );
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            writeln!(gz, "{HEADER}").unwrap();
            for r in &recs {
                let mut fields: Vec<String> = r.line().split(' ').map(str::to_string).collect();
                for i in [10, 11] {
                    if let Ok(t) = fields[i].parse::<u64>() {
                        fields[i] = (t + shift).to_string();
                    }
                }
                writeln!(gz, "{}", fields.join(" ")).unwrap();
                lines += 1;
            }
            std::fs::write(folder.join(name), gz.finish().unwrap()).unwrap();
        }
    }
    lines
}

fn pack() -> RulePack {
    let exact = std::fs::read_to_string(root().join("tests/fixtures/athena/exact.yaml")).unwrap();
    RulePack::from_yaml_layers(&[
        PackSource {
            name: "default",
            text: flowkeeper_analyze::DEFAULT_PACK_YAML,
        },
        PackSource {
            name: "exact.yaml",
            text: &exact,
        },
    ])
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn spec() -> TableSpec {
    let desired = flowkeeper::config::load(&root().join("tests/fixtures/athena/equivalence.yaml"))
        .unwrap_or_else(|d| panic!("{d}"));
    table_specs(&desired, "archive", &SpecOptions::default())
        .unwrap()
        .remove(0)
}

/// `flowkeeper analyze` on the same files: the JSON report (reports and summary), with
/// `findings` replaced by the run's window findings (its NDJSON `window` lines). SQL answers per
/// window; the JSON report groups those windows into incidents, which SQL does not do.
fn local(dir: &Path, range: &[&str]) -> Value {
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
            .arg("analyze")
            .arg(dir)
            .arg("--rules")
            .arg(root().join("tests/fixtures/athena/exact.yaml"))
            .args(["--format", format, "-q"])
            .args(range)
            .env("AWS_REGION", REGION)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "analyze failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let mut doc: Value = serde_json::from_slice(&run("json")).unwrap();
    let windows: Vec<Value> = String::from_utf8(run("ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "window")
        .map(|mut v| {
            v.as_object_mut().unwrap().remove("type");
            v
        })
        .collect();
    doc["findings"] = Value::Array(windows);
    doc
}

/// A result row by column name.
type SqlRow = BTreeMap<String, Option<String>>;

type Rows = BTreeMap<String, (Vec<String>, Vec<Vec<Option<String>>>)>;

fn duckdb(dir: &Path, spec: &TableSpec, queries: &[Query]) -> Rows {
    duckdb_in(dir, spec, queries, "AWSLogs/**/*.log.gz")
}

fn duckdb_in(dir: &Path, spec: &TableSpec, queries: &[Query], glob: &str) -> Rows {
    let status = Command::new(root().join("scripts/ensure-pytools"))
        .status()
        .unwrap();
    assert!(status.success());
    let input = serde_json::json!({
        "database": spec.database,
        "table": spec.table,
        "glob": format!("{}/{glob}", dir.display()),
        "hive": spec.layout.hive,
        "columns": spec.columns.iter().map(|c| [c.name.as_str(), c.ty]).collect::<Vec<_>>(),
        "queries": queries.iter().map(|q| serde_json::json!({"id": q.id, "sql": q.sql})).collect::<Vec<_>>(),
    });
    let spec_path = dir.join("spec.json");
    let out_path = dir.join("out.json");
    std::fs::write(&spec_path, input.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(root().join("tests/support/pytools/duckdb_equiv.py"))
        .arg(&spec_path)
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(id, r)| {
            let cols = r["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            let rows = r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    row.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .collect();
            (id.clone(), (cols, rows))
        })
        .collect()
}

/// One result as maps from column name to text.
fn records(rows: &Rows, id: &str) -> Vec<BTreeMap<String, Option<String>>> {
    let (cols, rows) = rows.get(id).unwrap_or_else(|| panic!("no result for {id}"));
    rows.iter()
        .map(|r| cols.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

fn num(v: &Option<String>) -> u64 {
    v.as_deref().map_or(0, |s| {
        s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Run {
    local: Value,
    sql: Rows,
    lines: usize,
    queries: Vec<Query>,
}

fn run(range: TimeRange) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let lines = write_dataset(dir.path());
    let spec = spec();
    let queries = analysis_queries(&pack(), &spec, range, None).unwrap();
    let flags: Vec<String> = [("--since", range.since), ("--until", range.until)]
        .iter()
        .filter_map(|(flag, t)| t.map(|t| format!("{flag}={}", rfc3339(t))))
        .collect();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let local = local(dir.path(), &flags);
    let sql = duckdb(dir.path(), &spec, &queries.queries);
    Run {
        local,
        sql,
        lines,
        queries: queries.queries,
    }
}

fn rfc3339(t: u64) -> String {
    jiff::Timestamp::from_second(t as i64).unwrap().to_string()
}

fn the_run() -> &'static Run {
    static RUN: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    RUN.get_or_init(|| run(TimeRange::default()))
}

#[test]
fn since_and_until_select_the_same_records() {
    // A range inside the data: the partition predicate keeps the day, the record predicate
    // cuts as analyze does (end before since, start after until).
    let r = run(TimeRange {
        since: Some(T0 + 3000),
        until: Some(T0 + 7000),
    });
    let t = &r.local["reports"]["totals"];
    let sql = &records(&r.sql, "report-totals")[0];
    let outside = r.local["summary"]["outside_range"].as_u64().unwrap();
    assert!(outside > 1000, "the range cuts: {outside}");
    assert_eq!(num(&sql["records"]) + outside, r.lines as u64);
    for (column, local) in [
        ("records", &t["records"]),
        ("duplicates", &t["duplicates"]),
        ("accepted_bytes", &t["accepted"]["bytes"]),
        ("rejected_flows", &t["rejected"]["flows"]),
        ("untimed", &t["untimed"]),
        ("first_seen", &t["first_seen"]),
        ("last_seen", &t["last_seen"]),
    ] {
        assert_eq!(
            num(&sql[column]),
            local.as_u64().unwrap(),
            "totals.{column}"
        );
    }
}

#[test]
fn port_scan_sql_finds_the_planted_scan() {
    // Not compared with the local detector (#11 reworks who the client is); a hand count.
    let r = the_run();
    let rows = records(&r.sql, "detect-port-scan");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["src"].as_deref(), Some("203.0.113.50"));
    assert_eq!(rows[0]["dst"].as_deref(), Some("10.0.1.15"));
    assert_eq!(num(&rows[0]["distinct_count"]), 30);
}

#[test]
fn totals_are_equal() {
    let r = the_run();
    let t = &r.local["reports"]["totals"];
    let sql = &records(&r.sql, "report-totals")[0];
    assert_eq!(num(&sql["records"]), r.lines as u64);
    assert_eq!(t["records"].as_u64().unwrap(), r.lines as u64);
    assert!(
        t["duplicates"].as_u64().unwrap() > 100,
        "the dataset has twins"
    );
    let pairs = [
        ("records", &t["records"]),
        ("duplicates", &t["duplicates"]),
        ("accepted_flows", &t["accepted"]["flows"]),
        ("accepted_packets", &t["accepted"]["packets"]),
        ("accepted_bytes", &t["accepted"]["bytes"]),
        ("rejected_flows", &t["rejected"]["flows"]),
        ("rejected_packets", &t["rejected"]["packets"]),
        ("rejected_bytes", &t["rejected"]["bytes"]),
        ("no_action_flows", &t["no_action"]["flows"]),
        ("no_action_packets", &t["no_action"]["packets"]),
        ("no_action_bytes", &t["no_action"]["bytes"]),
        ("nodata", &t["nodata"]),
        ("skipdata", &t["skipdata"]),
        ("untimed", &t["untimed"]),
        ("first_seen", &t["first_seen"]),
        ("last_seen", &t["last_seen"]),
    ];
    for (column, local) in pairs {
        assert_eq!(
            num(&sql[column]),
            local.as_u64().unwrap(),
            "totals.{column}"
        );
    }
}

/// Top lists: the same byte counts in the same order; the same addresses, except that which
/// of the entries tied at the cut is listed may differ.
fn same_top(
    local: &Value,
    sql: Vec<BTreeMap<String, Option<String>>>,
    key: &dyn Fn(&Value) -> String,
    sql_key: &dyn Fn(&SqlRow) -> String,
    what: &str,
) {
    let local = local.as_array().unwrap();
    assert!(!local.is_empty(), "{what} is empty");
    let lb: Vec<u64> = local.iter().map(|e| e["bytes"].as_u64().unwrap()).collect();
    let sb: Vec<u64> = sql.iter().map(|e| num(&e["bytes"])).collect();
    assert_eq!(lb, sb, "{what} bytes");
    let cut = *lb.last().unwrap();
    let lk: BTreeSet<String> = local
        .iter()
        .filter(|e| e["bytes"].as_u64().unwrap() > cut)
        .map(key)
        .collect();
    let sk: BTreeSet<String> = sql
        .iter()
        .filter(|e| num(&e["bytes"]) > cut)
        .map(sql_key)
        .collect();
    assert_eq!(lk, sk, "{what} entries");
}

#[test]
fn top_talkers_are_equal_when_top_exact() {
    let r = the_run();
    let rep = &r.local["reports"];
    assert_eq!(rep["top_exact"], Value::Bool(true));
    let addr = |e: &Value| text(&e["addr"]);
    let sql_addr = |e: &BTreeMap<String, Option<String>>| e["addr"].clone().unwrap();
    same_top(
        &rep["top_sources"],
        records(&r.sql, "report-top-sources"),
        &addr,
        &sql_addr,
        "top_sources",
    );
    same_top(
        &rep["top_destinations"],
        records(&r.sql, "report-top-destinations"),
        &addr,
        &sql_addr,
        "top_destinations",
    );
    let pair = |e: &Value| format!("{} {}", text(&e["src"]), text(&e["dst"]));
    let sql_pair = |e: &BTreeMap<String, Option<String>>| {
        format!(
            "{} {}",
            e["src"].clone().unwrap(),
            e["dst"].clone().unwrap()
        )
    };
    same_top(
        &rep["top_pairs"],
        records(&r.sql, "report-top-pairs"),
        &pair,
        &sql_pair,
        "top_pairs",
    );
}

#[test]
fn ports_are_equal() {
    let r = the_run();
    let local: Vec<Vec<u64>> = r.local["reports"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            vec![
                p["protocol"].as_u64().unwrap(),
                p["port"].as_u64().unwrap(),
                p["accepted"]["flows"].as_u64().unwrap(),
                p["accepted"]["packets"].as_u64().unwrap(),
                p["accepted"]["bytes"].as_u64().unwrap(),
                p["rejected"]["flows"].as_u64().unwrap(),
                p["rejected"]["packets"].as_u64().unwrap(),
                p["rejected"]["bytes"].as_u64().unwrap(),
            ]
        })
        .collect();
    let cols = [
        "protocol",
        "port",
        "accepted_flows",
        "accepted_packets",
        "accepted_bytes",
        "rejected_flows",
        "rejected_packets",
        "rejected_bytes",
    ];
    let sql: Vec<Vec<u64>> = records(&r.sql, "report-ports")
        .iter()
        .map(|row| cols.iter().map(|c| num(&row[*c])).collect())
        .collect();
    assert!(!local.is_empty());
    assert_eq!(local, sql);
}

#[test]
fn timeline_adds_up_to_the_totals() {
    let r = the_run();
    let t = &r.local["reports"]["totals"];
    let rows = records(&r.sql, "report-timeline");
    let sum = |c: &str| rows.iter().map(|row| num(&row[c])).sum::<u64>();
    // Untimed records are in no bucket, as locally.
    let untimed_accepted = 3;
    assert_eq!(
        sum("accepted_flows") + untimed_accepted,
        t["accepted"]["flows"].as_u64().unwrap()
    );
    assert_eq!(
        sum("rejected_flows"),
        t["rejected"]["flows"].as_u64().unwrap()
    );
    assert!(
        rows.iter()
            .all(|row| num(&row["bucket_start"]).is_multiple_of(60))
    );
}

/// The findings of one detector, locally and in SQL, as comparable tuples.
fn findings(r: &Run, detector: &str, key: &str) -> (BTreeSet<Vec<String>>, BTreeSet<Vec<String>>) {
    let local: BTreeSet<Vec<String>> = r.local["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == detector)
        .map(|f| {
            vec![
                f["window"]["start"].to_string(),
                text(&f[key]),
                f["flows"].to_string(),
                f["packets"].to_string(),
                f["bytes"].to_string(),
                f["first_seen"].to_string(),
                f["last_seen"].to_string(),
                match &f["distinct"] {
                    Value::Null => "-".into(),
                    d => d.to_string(),
                },
                f["distinct_exact"].to_string(),
            ]
        })
        .collect();
    let sql: BTreeSet<Vec<String>> = records(&r.sql, &format!("detect-{detector}"))
        .iter()
        .map(|row| {
            let v = |c: &str| row[c].clone().unwrap_or_else(|| "-".into());
            vec![
                v("window_start"),
                v(key),
                v("flows"),
                v("packets"),
                v("bytes"),
                v("first_seen"),
                v("last_seen"),
                v("distinct_count"),
                String::new(),
            ]
        })
        .collect();
    (local, sql)
}

/// Above 32 values the local distinct count is a HyperLogLog estimate (±6.5 %): the SQL count
/// is the truth, and the estimate must be within 20 % (3σ) of it. Exact counts must be equal.
/// Returns the tuples without the distinct columns.
fn settle_distinct(
    local: BTreeSet<Vec<String>>,
    sql: BTreeSet<Vec<String>>,
) -> (BTreeSet<Vec<String>>, BTreeSet<Vec<String>>) {
    let sql_distinct: BTreeMap<Vec<String>, String> = sql
        .iter()
        .map(|v| (v[..7].to_vec(), v[7].clone()))
        .collect();
    for v in &local {
        let Some(truth) = sql_distinct.get(&v[..7]) else {
            continue;
        };
        if v[8] == "true" || v[7] == "-" {
            assert_eq!(&v[7], truth, "exact distinct count of {v:?}");
        } else {
            let (est, truth): (f64, f64) = (v[7].parse().unwrap(), truth.parse().unwrap());
            assert!(
                (est - truth).abs() <= 0.2 * truth,
                "estimate {est} vs {truth}"
            );
        }
    }
    let strip = |s: BTreeSet<Vec<String>>| s.into_iter().map(|v| v[..7].to_vec()).collect();
    (strip(local), strip(sql))
}

#[test]
fn reject_burst_findings_are_equal() {
    let r = the_run();
    let (local, sql) = findings(r, "reject-burst", "src");
    let (local, sql) = settle_distinct(local, sql);
    assert_eq!(local.len(), 1, "{local:?}");
    assert_eq!(local, sql);
}

#[test]
fn log_health_findings_are_equal() {
    let r = the_run();
    for (id, n) in [("log-nodata", 1), ("log-skipdata", 1)] {
        let (local, sql) = findings(r, id, "interface_id");
        let (local, sql) = settle_distinct(local, sql);
        assert_eq!(local.len(), n, "{id}: {local:?}");
        assert_eq!(local, sql, "{id}");
    }
}

/// What [`conn_findings`] compares besides the window and time span.
const CONN_COLUMNS: [&str; 8] = [
    "src", "dst", "dst_port", "service", "ours", "flows", "packets", "bytes",
];

/// Connection findings as comparable tuples: window, client, server, port, service, our side,
/// counts and time span (locally and in SQL).
fn conn_findings(
    r: &Run,
    detector: &str,
    cols: &[&str],
) -> (BTreeSet<Vec<String>>, BTreeSet<Vec<String>>) {
    let local = r.local["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == detector)
        .map(|f| {
            cols.iter()
                .map(|k| text(&f[*k]))
                .chain([
                    f["window"]["start"].to_string(),
                    f["first_seen"].to_string(),
                    f["last_seen"].to_string(),
                ])
                .collect()
        })
        .collect();
    let sql = records(&r.sql, &format!("detect-{detector}"))
        .iter()
        .map(|row| {
            let v = |c: &str| row[c].clone().unwrap_or_else(|| "-".into());
            cols.iter()
                .map(|k| v(k))
                .chain([v("window_start"), v("first_seen"), v("last_seen")])
                .collect()
        })
        .collect();
    (local, sql)
}

#[test]
fn insecure_protocol_findings_are_equal() {
    let r = the_run();
    let (local, sql) = conn_findings(r, "insecure-protocol", &CONN_COLUMNS);
    // The telnet connection with its replies under one key, and the outbound FTP client.
    assert_eq!(local.len(), 2, "{local:?}");
    let telnet = local.iter().find(|v| v[3] == "telnet").unwrap();
    assert_eq!(
        telnet[..6],
        [
            "198.51.100.20",
            "10.0.2.20",
            "23",
            "telnet",
            "10.0.2.20",
            "4"
        ]
    );
    assert_eq!(local, sql);
}

#[test]
fn lateral_movement_findings_are_equal() {
    let r = the_run();
    let (local, sql) = findings(r, "lateral-movement", "src");
    let (local, sql) = settle_distinct(local, sql);
    assert_eq!(local.len(), 1, "{local:?}");
    assert_eq!(local, sql);
    let row = &records(&r.sql, "detect-lateral-movement")[0];
    assert_eq!(row["distinct_count"].as_deref(), Some("15"));
    assert_eq!(
        row["flows"].as_deref(),
        Some("16"),
        "the dropped reply counts"
    );
    assert_eq!(row["dst_port"], None, "two ports: no single port");
}

/// Without relays in the data, exposure is exact: an external client's connection to an
/// internal admin service, its replies counted under it.
#[test]
fn admin_port_exposure_findings_are_equal() {
    let r = the_run();
    let (local, sql) = conn_findings(
        r,
        "admin-port-exposure",
        &["dst", "dst_port", "service", "flows", "packets", "bytes"],
    );
    assert_eq!(local.len(), 1, "{local:?}");
    let ssh = local.iter().next().unwrap();
    assert_eq!(ssh[..4], ["10.0.2.21", "22", "ssh", "3"]);
    assert_eq!(local, sql);
}

/// The same results through `analyze::athena::rows::decode`, the row decoder the Athena engine
/// will use: its reports and findings serialize as the local engine's do.
#[test]
fn decoded_rows_serialize_as_the_local_engine() {
    use flowkeeper::analyze::athena::rows::{ResultTable, decode};
    let r = the_run();
    let results: Vec<(Query, ResultTable)> = r
        .queries
        .iter()
        .map(|q| {
            let (columns, rows) = r.sql[&q.id].clone();
            (q.clone(), ResultTable { columns, rows })
        })
        .collect();
    let (findings, reports, timeline) = decode(&pack(), &results).unwrap();
    let json = serde_json::to_value(&reports).unwrap();
    let local = &r.local["reports"];
    assert_eq!(json["totals"], local["totals"]);
    assert_eq!(json["ports"], local["ports"]);
    assert_eq!(json["top_exact"], local["top_exact"]);
    assert_eq!(
        json["top_sources"].as_array().unwrap().len(),
        local["top_sources"].as_array().unwrap().len()
    );
    let flows: u64 = timeline
        .buckets
        .values()
        .map(|b| b.accepted_flows + b.rejected_flows)
        .sum();
    assert_eq!(
        flows + 3,
        local["totals"]["accepted"]["flows"].as_u64().unwrap()
            + local["totals"]["rejected"]["flows"].as_u64().unwrap()
    );
    // Findings: every field of the local engine's, except evidence (no line numbers in
    // Athena), the HyperLogLog-estimated distinct count and its summary, and the samples.
    let keep = ["log-nodata", "log-skipdata", "reject-burst"];
    let estimated =
        |f: &Value| f.get("distinct").is_some() && f["distinct_exact"] == Value::Bool(false);
    let strip = |f: &Value, estimated: bool| {
        let mut f = f.clone();
        let o = f.as_object_mut().unwrap();
        for k in ["evidence", "evidence_at", "hosts", "ports"] {
            o.remove(k);
        }
        if estimated {
            for k in ["distinct", "distinct_exact", "summary"] {
                o.remove(k);
            }
        }
        f
    };
    let local_raw: Vec<&Value> = r.local["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| keep.contains(&f["detector"].as_str().unwrap()))
        .collect();
    let local: Vec<Value> = local_raw.iter().map(|f| strip(f, estimated(f))).collect();
    let mut decoded: Vec<Value> = findings
        .iter()
        .filter(|f| keep.contains(&f.detector.as_str()))
        .map(|f| {
            let v = serde_json::to_value(f).unwrap();
            let twin = local_raw.iter().find(|l| {
                l["detector"] == v["detector"]
                    && l["window"] == v["window"]
                    && l.get("src") == v.get("src")
            });
            strip(&v, twin.is_some_and(|l| estimated(l)))
        })
        .collect();
    // Sorted by what identifies a window finding (key order inside the objects differs
    // between the NDJSON lines and a serialized Finding; equality does not depend on it).
    let key = |v: &Value| {
        (
            v["detector"].to_string(),
            v["window"]["start"].to_string(),
            v.get("src").map(|s| s.to_string()),
        )
    };
    decoded.sort_by_key(key);
    let mut local = local;
    local.sort_by_key(key);
    assert_eq!(decoded.len(), 3);
    assert_eq!(decoded, local);
}

#[test]
fn hive_keys_and_partition_days_select_the_same_records() {
    // Hive-compatible keys on three days; the range lies in the last, so the tuple predicate
    // on (year, month, day) must keep that day (and drop the first) as analyze's day pruning.
    let dir = tempfile::tempdir().unwrap();
    let lines = write_dataset_at(dir.path(), Layout::HIVE, &[0, 2]);
    let spec = TableSpec {
        layout: Layout::HIVE,
        ..spec()
    };
    let range = TimeRange {
        since: Some(T0 + 2 * 86_400 + 3000),
        until: Some(T0 + 2 * 86_400 + 7000),
    };
    let queries = analysis_queries(&pack(), &spec, range, None).unwrap();
    let totals: Vec<Query> = queries
        .queries
        .into_iter()
        .filter(|q| q.id == "report-totals")
        .collect();
    assert!(
        totals[0].sql.contains("\"year\" > '2026'"),
        "{}",
        totals[0].sql
    );
    let flags = [
        format!("--since={}", rfc3339(range.since.unwrap())),
        format!("--until={}", rfc3339(range.until.unwrap())),
    ];
    let local = local(dir.path(), &[flags[0].as_str(), flags[1].as_str()]);
    let sql = duckdb_in(dir.path(), &spec, &totals, "AWSLogs/**/*.log.gz");
    let t = &local["reports"]["totals"];
    let row = &records(&sql, "report-totals")[0];
    assert!(num(&row["records"]) > 1000 && (num(&row["records"]) as usize) < lines / 2);
    for (column, local) in [
        ("duplicates", &t["duplicates"]),
        ("rejected_bytes", &t["rejected"]["bytes"]),
        ("first_seen", &t["first_seen"]),
        ("last_seen", &t["last_seen"]),
    ] {
        assert_eq!(
            num(&row[column]),
            local.as_u64().unwrap(),
            "totals.{column}"
        );
    }
    // Untimed records have no time to cut by: SQL keeps those of the days in range (the
    // partition predicate), as analyze does for S3 inputs, which it prunes by key date; a local
    // directory is not pruned, so analyze also counts the first day's 3 untimed records.
    let pruned_untimed = 3;
    assert_eq!(
        num(&row["untimed"]) + pruned_untimed,
        t["untimed"].as_u64().unwrap()
    );
    assert_eq!(
        num(&row["records"]) + pruned_untimed,
        t["records"].as_u64().unwrap()
    );
    // They are accepted, 60 bytes each.
    assert_eq!(
        num(&row["accepted_bytes"]) + pruned_untimed * 60,
        t["accepted"]["bytes"].as_u64().unwrap()
    );
}
