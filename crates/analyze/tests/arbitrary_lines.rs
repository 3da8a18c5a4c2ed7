//! Property test (#8 case 2): the decoder and the engine take arbitrary lines, including
//! counters at and beyond `u64::MAX`, without panicking; every count over such input
//! saturates. A seeded generator (no extra dependency, the same cases on every run) builds
//! lines that are mostly well-typed, so records reach every detector and the reports, with
//! boundary values, wrong types, wrong field counts and stray bytes mixed in.

use flowkeeper_analyze::{Engine, Origin, PackSource, RulePack};
use flowlog::field::{self, FieldType};
use flowlog::{Field, Schema};

const CASES: u64 = 300;
const LINES_PER_CASE: u64 = 400;
const T: u64 = 1_793_491_200;

/// SplitMix64: small, fast and fully determined by its seed.
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
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Values that break careless arithmetic or parsing, whatever the column.
const BOUNDARY: &[&str] = &[
    "-",
    "0",
    "1",
    "18446744073709551615",
    "18446744073709551614",
    "18446744073709551616",
    "10000000000000000000",
    "9223372036854775808",
    "4294967295",
    "65535",
    "65536",
    "255",
    "256",
    "-1",
    "9999999999",
    "9999999999999",
    "10000000000000",
    "1793491200000",
    "00000000000000000000000001",
    "+1",
    "1e3",
    "",
    "ACCEPT",
    "REJECT",
    "NODATA",
    "SKIPDATA",
    "::",
    "0.0.0.0",
    "255.255.255.255",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "::ffff:10.0.0.1",
    "10.0.0.256",
    "eni-0123",
    "é",
    "\u{0}",
    "\x1b[2J",
];

const ADDRS: &[&str] = &[
    "10.0.1.5",
    "10.0.2.6",
    "10.0.3.7",
    "192.168.1.1",
    "203.0.113.9",
    "198.51.100.7",
    "45.33.32.156",
    "2001:db8::1",
    "fd00::5",
];

/// A value for a column of type `ty`; with `chaos`, often any boundary value instead.
fn value(rng: &mut Rng, ty: FieldType, chaos: bool) -> String {
    if chaos && rng.below(6) == 0 {
        return rng.pick(BOUNDARY).to_string();
    }
    match ty {
        FieldType::U8 => rng.below(300).to_string(),
        FieldType::U16 => match rng.below(3) {
            0 => rng
                .pick(&["22", "3389", "443", "23", "445", "6379"])
                .to_string(),
            _ => rng.below(70_000).to_string(),
        },
        FieldType::U64 => match rng.below(4) {
            0 => u64::MAX.to_string(),
            1 => (u64::MAX - rng.below(1000)).to_string(),
            2 => rng.next().to_string(),
            _ => rng.below(100_000).to_string(),
        },
        FieldType::Timestamp => match rng.below(6) {
            0 => rng.below(10_000_000_000_000).to_string(),
            1 => (T * 1000 + rng.below(7_200_000)).to_string(),
            _ => (T + rng.below(7200)).to_string(),
        },
        FieldType::Ip => rng.pick(ADDRS).to_string(),
        FieldType::Text => format!("eni-{:x}", rng.below(6)),
        FieldType::Action => rng.pick(&["ACCEPT", "REJECT"]).to_string(),
        FieldType::LogStatus => rng.pick(&["OK", "OK", "NODATA", "SKIPDATA"]).to_string(),
        FieldType::TrafficType => rng.pick(&["IPv4", "IPv6", "EFA"]).to_string(),
        FieldType::TcpFlags => rng.pick(&["2", "18", "16", "1", "4", "65535"]).to_string(),
        FieldType::FlowDirection => rng.pick(&["ingress", "egress"]).to_string(),
        FieldType::TrafficPath => rng.below(10).to_string(),
    }
}

/// A schema of some known fields (the ones detectors read first), some others and maybe an
/// unknown name, in a shuffled order.
fn schema(rng: &mut Rng) -> Schema {
    use Field as F;
    let core = [
        F::Srcaddr,
        F::Dstaddr,
        F::Srcport,
        F::Dstport,
        F::Protocol,
        F::Packets,
        F::Bytes,
        F::Start,
        F::End,
        F::Action,
        F::LogStatus,
        F::InterfaceId,
        F::TcpFlags,
        F::FlowDirection,
        F::PktDstAwsService,
    ];
    let mut names: Vec<&str> = core
        .iter()
        .filter(|_| rng.below(10) != 0)
        .map(|f| f.name())
        .collect();
    for info in field::all() {
        if rng.below(12) == 0 && !names.contains(&info.name) {
            names.push(info.name);
        }
    }
    if rng.below(4) == 0 {
        names.push("future-field");
    }
    for i in (1..names.len()).rev() {
        names.swap(i, rng.below(i as u64 + 1) as usize);
    }
    if names.is_empty() {
        names.push("bytes");
    }
    Schema::from_names(names).expect("distinct valid names")
}

fn line(rng: &mut Rng, schema: &Schema) -> String {
    let chaos = rng.below(3) == 0;
    let mut values: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| match c.field() {
            Some(f) => value(rng, f.info().ty, chaos),
            None => rng.pick(&["x", "-", "18446744073709551615"]).to_string(),
        })
        .collect();
    match rng.below(40) {
        0 => {
            values.pop();
        }
        1 => values.push("extra".into()),
        _ => {}
    }
    let sep = match rng.below(60) {
        0 => "  ",
        1 => "\t",
        _ => " ",
    };
    let mut text = values.join(sep);
    if rng.below(50) == 0 {
        text.push('\r');
    }
    text
}

/// The default pack with thresholds low enough that findings are made from random traffic.
fn eager_pack() -> RulePack {
    let overlay = "detectors:
  - {id: port-scan, min_ports: 2, probes_only: false}
  - {id: host-sweep, min_hosts: 2, probes_only: false}
  - {id: exfiltration, min_bytes: 1}
  - {id: lateral-movement, min_hosts: 1}
  - {id: reject-burst, min_rejects: 1}
  - {id: log-nodata, min_records: 1}
";
    RulePack::from_yaml_layers(&[
        PackSource {
            name: "default",
            text: flowkeeper_analyze::DEFAULT_PACK_YAML,
        },
        PackSource {
            name: "eager",
            text: overlay,
        },
    ])
    .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn arbitrary_lines_never_panic_the_decoder_or_the_engine() {
    let packs = [RulePack::default_pack(), eager_pack()];
    let mut rng = Rng(0x5eed_f10e);
    let (mut decoded, mut findings) = (0u64, 0usize);
    for case in 0..CASES {
        let schema = schema(&mut rng);
        let mut engine = Engine::new(&packs[(case % 2) as usize]);
        for n in 0..LINES_PER_CASE {
            let text = line(&mut rng, &schema);
            if let Ok(record) = schema.decode(&text) {
                decoded += 1;
                engine.observe(&record, Origin::new(0, n + 2));
            }
            if n % 100 == 0 {
                findings += engine.take_final().len();
            }
        }
        let analysis = engine.finish();
        findings += analysis.findings.len();
        serde_json::to_string(&analysis).expect("the analysis serializes");
    }
    // The generator is only useful if most lines decode and detectors fire.
    let total = CASES * LINES_PER_CASE;
    assert!(decoded > total / 4, "{decoded} of {total} lines decoded");
    assert!(findings > 100, "{findings} findings");
}

/// Regression (#8 case 2): one record of 18446744073709551615 bytes, or two of 10^19,
/// panicked with "attempt to add with overflow" in the sketches; totals now saturate.
#[test]
fn regression_byte_counters_saturate() {
    let schema = Schema::from_header(
        "srcaddr dstaddr srcport dstport protocol packets bytes start end action",
    )
    .unwrap();
    for (lines, per_pair) in [
        (
            vec!["10.0.1.5 203.0.113.9 40000 443 6 1 18446744073709551615"],
            u64::MAX,
        ),
        (
            vec![
                "10.0.1.5 203.0.113.9 40000 443 6 1 10000000000000000000",
                "10.0.1.6 203.0.113.9 40001 443 6 1 10000000000000000000",
            ],
            10_000_000_000_000_000_000,
        ),
    ] {
        let mut engine = Engine::new(&RulePack::default_pack());
        for (i, l) in lines.iter().enumerate() {
            let text = format!("{l} {} {} ACCEPT", T + i as u64, T + 60);
            engine.observe(&schema.decode(&text).unwrap(), Origin::new(0, i as u64 + 2));
        }
        let a = engine.finish();
        assert_eq!(a.reports.totals.accepted.bytes, u64::MAX);
        assert_eq!(a.reports.top_destinations[0].bytes, u64::MAX);
        assert!(!a.reports.top_exact, "a saturated sum is not exact");
        assert_eq!(a.reports.ports[0].accepted.bytes, u64::MAX);
        let exfil: Vec<u64> = a
            .findings
            .iter()
            .filter(|f| f.detector == "exfiltration")
            .map(|f| f.bytes)
            .collect();
        assert_eq!(exfil, vec![per_pair; lines.len()], "{:?}", a.findings);
    }
}
