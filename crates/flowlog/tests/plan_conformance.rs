//! The field-selective decoder ([`flowlog::DecodePlan`]) against the full decoder
//! ([`Schema::decode`]): on every record line of the public fixtures (`tests/fixtures/public/`)
//! and on seeded arbitrary lines, for many field sets, the plan
//! - accepts every line the full decoder accepts, with the same value in every selected field
//!   and nothing in the others;
//! - gives exactly what the full decoder gives on the line with every column it skips written
//!   as `-`: the same values, or the very same error (skipped columns are not validated).

use std::path::PathBuf;

use flowlog::{DecodePlan, Field, FlowRecord, Schema, field};
use serde_json::Value as Json;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/public")
}

fn all_fields() -> Vec<Field> {
    field::all().iter().map(|i| i.field).collect()
}

/// The field sets tried on every line: all, none, each field alone, what `analyze` reads, and
/// seeded random subsets.
fn field_sets() -> Vec<Vec<Field>> {
    let all = all_fields();
    let mut sets = vec![all.clone(), vec![]];
    sets.extend(all.iter().map(|f| vec![*f]));
    sets.push(vec![
        Field::InterfaceId,
        Field::Srcaddr,
        Field::Dstaddr,
        Field::Srcport,
        Field::Dstport,
        Field::Protocol,
        Field::Packets,
        Field::Bytes,
        Field::Start,
        Field::End,
        Field::Action,
        Field::LogStatus,
        Field::TcpFlags,
        Field::PktSrcaddr,
        Field::PktDstaddr,
        Field::FlowDirection,
        Field::TrafficPath,
    ]);
    let mut rng = Rng(7);
    for _ in 0..40 {
        sets.push(all.iter().copied().filter(|_| rng.below(3) == 0).collect());
    }
    sets
}

/// `line` with every schema column the plan does not read written as `-` (absent), so the
/// full decoder sees exactly what the plan looks at.
fn masked(schema: &Schema, fields: &[Field], line: &str) -> String {
    let bare = line.strip_suffix('\n').unwrap_or(line);
    let bare = bare.strip_suffix('\r').unwrap_or(bare);
    if bare.is_empty() {
        return String::new(); // no values at all, not one empty value
    }
    let columns = schema.columns();
    bare.split(' ')
        .enumerate()
        .map(|(i, v)| match columns.get(i) {
            Some(name) if !name.field().is_some_and(|f| fields.contains(&f)) => "-",
            _ => v,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compares the plan with the full decoder on one line; Err says how they differ. The plan's
/// result must equal the full decoder's on the masked line (values, or the very same error),
/// and whatever the full decoder accepts as it is, the plan accepts too.
fn compare(schema: &Schema, plan: &DecodePlan, fields: &[Field], line: &str) -> Result<(), String> {
    let mut rec = FlowRecord::default();
    let planned = plan.decode(line.as_bytes(), &mut rec).map(|()| rec);
    if let (Ok(_), Err(e)) = (schema.decode(line), &planned) {
        return Err(format!("plan rejects what the full decoder accepts: {e}"));
    }
    let masked = masked(schema, fields, line);
    match (schema.decode(&masked), planned) {
        (Ok(f), Ok(p)) => {
            for field in all_fields() {
                if p.get(field) != f.get(field) {
                    return Err(format!(
                        "{field:?}: plan {:?}, full {:?}",
                        p.get(field),
                        f.get(field)
                    ));
                }
            }
            Ok(())
        }
        (Err(f), Err(p)) if f == p => Ok(()),
        (full, plan) => Err(format!("on {masked:?}: full {full:?}, plan {plan:?}")),
    }
}

#[test]
fn the_plan_decodes_every_public_fixture_like_the_full_decoder() {
    let sets = field_sets();
    let (mut lines, mut compared, mut failures) = (0, 0, Vec::new());
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, json) in text.lines().enumerate() {
            let json: Json = serde_json::from_str(json).unwrap();
            let (Some(format), Some(line)) = (json["format"].as_str(), json["line"].as_str())
            else {
                continue;
            };
            let schema = Schema::from_header(format).unwrap();
            lines += 1;
            for fields in &sets {
                let plan = schema.plan(fields);
                compared += 1;
                if let Err(why) = compare(&schema, &plan, fields, line) {
                    failures.push(format!("{}:{}: {why}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixtures' record lines with a format (the CloudWatch envelopes, whose events are
    // checked by `conformance.rs`, have none): none may go missing.
    assert_eq!(lines, 54, "fixture lines");
    assert_eq!(compared, lines * sets.len());
}

/// SplitMix64.
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
}

/// Values that are valid for some fields and not for others.
const VALUES: &[&str] = &[
    "-",
    "0",
    "2",
    "5",
    "19",
    "65535",
    "65536",
    "256",
    "1616729292",
    "1616729292000",
    "99999999999999",
    "10.0.0.1",
    "2001:db8::1",
    "::ffff:1.2.3.4",
    "1.2.3",
    "ACCEPT",
    "REJECT",
    "OK",
    "NODATA",
    "SKIPDATA",
    "ingress",
    "egress",
    "IPv4",
    "IPv6",
    "8",
    "eni-1",
    "vpc-1",
    "é",
    "",
    "x y",
    "1  2",
    "\r",
];

/// A line of `columns` values picked from [`VALUES`] (which may add or drop columns).
fn line(rng: &mut Rng, columns: usize) -> String {
    let n = match rng.below(8) {
        0 => columns.saturating_sub(1),
        1 => columns + 1,
        _ => columns,
    };
    let values: Vec<&str> = (0..n)
        .map(|_| VALUES[rng.below(VALUES.len() as u64) as usize])
        .collect();
    values.join(" ")
}

#[test]
fn the_plan_agrees_with_the_full_decoder_on_arbitrary_lines() {
    let all = all_fields();
    let schemas = [
        Schema::default_v2(),
        Schema::transit_gateway_default(),
        Schema::from_fields(&all).unwrap(),
        Schema::from_header("srcaddr future-a dstaddr pkt-srcaddr pkt-dstaddr").unwrap(),
        Schema::from_header("bytes").unwrap(),
    ];
    let sets = field_sets();
    let mut rng = Rng(0x5e1ec7);
    let (mut accepted, mut rejected, mut failures) = (0, 0, Vec::new());
    for _ in 0..20_000 {
        let schema = &schemas[rng.below(schemas.len() as u64) as usize];
        let fields = &sets[rng.below(sets.len() as u64) as usize];
        let plan = schema.plan(fields);
        let text = line(&mut rng, schema.len());
        match schema.decode(&text) {
            Ok(_) => accepted += 1,
            Err(_) => rejected += 1,
        }
        if let Err(why) = compare(schema, &plan, fields, &text) {
            failures.push(format!("{text:?} with {fields:?}: {why}"));
        }
        // Arbitrary bytes never panic the plan.
        let bytes: Vec<u8> = (0..rng.below(80)).map(|_| rng.next() as u8).collect();
        let _ = plan.decode(&bytes, &mut FlowRecord::default());
    }
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(10)].join("\n")
    );
    assert!(
        accepted > 1000 && rejected > 1000,
        "{accepted} accepted, {rejected} rejected"
    );
}
