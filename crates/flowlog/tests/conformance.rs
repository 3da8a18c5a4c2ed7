//! Conformance of the decoder against the public fixtures in `tests/fixtures/public/` (see
//! the README there for the record layout and provenance).
//!
//! Every line of every `*.jsonl` file is a case. Record cases (`text_record`,
//! `s3_text_file_record`, `s3_text_file`, `cloudwatch_subscription_envelope`) are decoded and
//! every expected field compared: integers as integers, `null` as absent, IP addresses by
//! parsed value, other strings by their text. `expect_error` cases must be reported as
//! malformed (strict parser: the OTel short line whose source expected a partial record is
//! malformed too, as the README says). `detection_test` cases are already-parsed events for
//! detections, not decoder input: they are skipped and counted. All mismatches are collected
//! and reported together, each naming its case; the totals are asserted so the test cannot
//! pass vacuously.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use flowlog::{DecodeError, FieldType, FlowRecord, S3TextFile, Schema};
use serde_json::{Map, Value as Json};

/// What the fixtures hold (see the README): asserted so a missing or truncated file fails.
const EXPECTED_CASES_CHECKED: usize = 56;
const EXPECTED_DETECTION_SKIPPED: usize = 29;
const EXPECTED_RECORDS_DECODED: usize = 55;
const EXPECTED_MALFORMED: usize = 3;
const EXPECTED_FIELDS_COMPARED: usize = 885;
const EXPECTED_NORMALISED_COMPARED: usize = 2;

fn fixtures_dir() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../tests/fixtures/public")
}

#[derive(Debug, Default)]
struct Tally {
    files: usize,
    cases_checked: usize,
    detection_skipped: usize,
    records_decoded: usize,
    malformed: usize,
    fields_compared: usize,
    normalised_compared: usize,
    by_kind: BTreeMap<String, usize>,
}

/// One case, with everything a failure message needs.
struct Case<'j> {
    name: String,
    json: &'j Map<String, Json>,
}

impl Case<'_> {
    fn str(&self, key: &str) -> Result<&str, String> {
        self.json
            .get(key)
            .and_then(Json::as_str)
            .ok_or_else(|| format!("missing string `{key}`"))
    }

    fn expect_error(&self) -> bool {
        self.json.get("expect_error").and_then(Json::as_bool) == Some(true)
    }
}

#[test]
fn public_fixtures_conform() {
    let dir = fixtures_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();

    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for path in &paths {
        tally.files += 1;
        let text = std::fs::read_to_string(path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy();
        for (n, line) in text.lines().enumerate() {
            let where_ = format!("{file}:{}", n + 1);
            let json: Json = match serde_json::from_str(line) {
                Ok(json) => json,
                Err(e) => {
                    failures.push(format!("{where_}: not JSON: {e}"));
                    continue;
                }
            };
            let Some(json) = json.as_object() else {
                failures.push(format!("{where_}: not a JSON object"));
                continue;
            };
            let case = Case {
                name: json
                    .get("case")
                    .and_then(Json::as_str)
                    .unwrap_or("<unnamed>")
                    .to_owned(),
                json,
            };
            if let Err(why) = check_case(&case, &mut tally) {
                failures.push(format!("{where_} case `{}`: {why}", case.name));
            }
        }
    }

    eprintln!("fixture conformance: {tally:#?}");
    assert!(
        failures.is_empty(),
        "{} fixture case(s) failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert_eq!(tally.files, 4, "fixture files in {}", dir.display());
    assert_eq!(
        tally.cases_checked, EXPECTED_CASES_CHECKED,
        "decoder cases checked"
    );
    assert_eq!(
        tally.detection_skipped, EXPECTED_DETECTION_SKIPPED,
        "detection_test cases skipped"
    );
    assert_eq!(
        tally.records_decoded, EXPECTED_RECORDS_DECODED,
        "records decoded and compared"
    );
    assert_eq!(
        tally.malformed, EXPECTED_MALFORMED,
        "expect_error cases reported malformed"
    );
    assert_eq!(
        tally.fields_compared, EXPECTED_FIELDS_COMPARED,
        "expected field values compared"
    );
    assert_eq!(
        tally.normalised_compared, EXPECTED_NORMALISED_COMPARED,
        "normalised timestamps compared"
    );
}

fn check_case(case: &Case, tally: &mut Tally) -> Result<(), String> {
    let kind = case.str("kind")?;
    *tally.by_kind.entry(kind.to_owned()).or_default() += 1;
    if kind == "detection_test" {
        tally.detection_skipped += 1;
        return Ok(());
    }
    tally.cases_checked += 1;

    // README rule: where the source expected a partial parse, a strict parser reports the
    // line as malformed; the fixture must say so.
    let notes = case.json.get("notes").and_then(Json::as_str).unwrap_or("");
    if notes.contains("partial record") && !case.expect_error() {
        return Err("notes describe a partial parse but expect_error is not set".into());
    }

    let format = case.str("format")?;
    let schema = Schema::from_header(format).map_err(|e| format!("format {format:?}: {e}"))?;
    check_schema(&schema)?;

    match kind {
        "text_record" | "s3_text_file_record" => {
            let line = case.str("line")?;
            check_line(case, &schema, line, case.json, tally)?;
            // The same record under its header line, as an S3 file.
            let file = format!("{format}\n{line}\n");
            let parsed = S3TextFile::parse(&file).map_err(|e| format!("as S3 file: {e}"))?;
            let decoded: Vec<_> = parsed.records().collect();
            if decoded.len() != 1 || decoded[0].1.is_ok() == case.expect_error() {
                return Err(format!("as S3 file: {decoded:?}"));
            }
        }
        "s3_text_file" => {
            let line = case.str("line")?;
            let file_text = case.str("file_text")?;
            let file = S3TextFile::parse(file_text).map_err(|e| format!("file header: {e}"))?;
            if file.schema() != &schema {
                return Err(format!("file header {} != format {format}", file.schema()));
            }
            let mut found = 0;
            for (number, record_line) in file.lines() {
                if record_line == line {
                    found += 1;
                    check_line(case, file.schema(), record_line, case.json, tally)?;
                } else if let Err(e) = file.schema().decode(record_line) {
                    return Err(format!("file line {number}: {e}"));
                }
            }
            if found != 1 {
                return Err(format!("`line` occurs {found} times in file_text"));
            }
        }
        "cloudwatch_subscription_envelope" => {
            let events = case
                .json
                .get("envelope")
                .and_then(|e| e.get("logEvents"))
                .and_then(Json::as_array)
                .ok_or("envelope.logEvents missing")?;
            let expected = case
                .json
                .get("expected_messages")
                .and_then(Json::as_array)
                .ok_or("expected_messages missing")?;
            if events.is_empty() || events.len() != expected.len() {
                return Err(format!(
                    "{} log events but {} expected messages",
                    events.len(),
                    expected.len()
                ));
            }
            for (i, (event, want)) in events.iter().zip(expected).enumerate() {
                let message = event
                    .get("message")
                    .and_then(Json::as_str)
                    .ok_or_else(|| format!("logEvents[{i}].message missing"))?;
                let want = want
                    .as_object()
                    .ok_or_else(|| format!("expected_messages[{i}] is not an object"))?;
                let mut wrapped = Map::new();
                wrapped.insert("expected".into(), Json::Object(want.clone()));
                check_line(case, &schema, message, &wrapped, tally)
                    .map_err(|e| format!("logEvents[{i}]: {e}"))?;
            }
        }
        other => return Err(format!("unknown kind `{other}`")),
    }
    Ok(())
}

/// Decodes `line` and compares it with `spec["expected"]` (or checks it is malformed when
/// the case says `expect_error`).
fn check_line(
    case: &Case,
    schema: &Schema,
    line: &str,
    spec: &Map<String, Json>,
    tally: &mut Tally,
) -> Result<(), String> {
    let decoded = schema.decode(line);
    if case.expect_error() {
        if !spec.get("expected").is_some_and(Json::is_null) {
            return Err("expect_error case with a non-null `expected`".into());
        }
        return match decoded {
            Ok(record) => Err(format!(
                "expected a malformed-line error, decoded {record:?}"
            )),
            Err(e) => {
                check_error_is_precise(schema, line, &e)?;
                tally.malformed += 1;
                Ok(())
            }
        };
    }
    let record = decoded.map_err(|e| format!("decode failed: {e}"))?;
    let expected = spec
        .get("expected")
        .and_then(Json::as_object)
        .ok_or("`expected` is not an object")?;

    // Reusing one record gives the same result as a fresh one.
    let mut reused = FlowRecord::default();
    schema
        .decode_into(line, &mut reused)
        .map_err(|e| e.to_string())?;
    schema
        .decode_into(line, &mut reused)
        .map_err(|e| e.to_string())?;
    if reused != record {
        return Err("decode_into differs from decode".into());
    }
    if schema.is_default_v2() && Schema::default().decode(line).as_ref() != Ok(&record) {
        return Err("default schema decodes differently".into());
    }

    if expected.len() != schema.len() {
        return Err(format!(
            "expected has {} fields, format has {}",
            expected.len(),
            schema.len()
        ));
    }
    let mut mismatches = Vec::new();
    for (name, want) in expected {
        if let Err(why) = compare_field(schema, &record, name, want) {
            mismatches.push(format!("`{name}`: {why}"));
        }
        tally.fields_compared += 1;
    }
    if let Some(normalised) = case
        .json
        .get("expected_normalised")
        .and_then(Json::as_object)
    {
        for (key, want) in normalised {
            let got = match key.as_str() {
                "start_unix_s" => record.start.map(|t| t.unix_secs()),
                "end_unix_s" => record.end.map(|t| t.unix_secs()),
                other => {
                    mismatches.push(format!("unknown normalised key `{other}`"));
                    continue;
                }
            };
            if got != want.as_u64() {
                mismatches.push(format!("`{key}`: want {want}, got {got:?}"));
            }
            tally.normalised_compared += 1;
        }
    }
    if !mismatches.is_empty() {
        return Err(format!("line {line:?}: {}", mismatches.join("; ")));
    }
    tally.records_decoded += 1;
    Ok(())
}

fn compare_field(
    schema: &Schema,
    record: &FlowRecord,
    name: &str,
    want: &Json,
) -> Result<(), String> {
    if !schema.columns().iter().any(|c| c.as_str() == name) {
        return Err("not in the format".into());
    }
    let info = flowlog::field::lookup(name);
    let got = record.value(schema, name);
    match want {
        Json::Null => match got {
            None => Ok(()),
            Some(v) => Err(format!("want absent, got {v:?}")),
        },
        Json::Number(n) => {
            if info.is_some_and(|i| !i.ty.is_integer()) {
                return Err(format!(
                    "fixture has a number for a {:?} field",
                    info.map(|i| i.ty)
                ));
            }
            match (got.and_then(|v| v.as_u64()), n.as_u64()) {
                (Some(g), Some(w)) if g == w => Ok(()),
                _ => Err(format!("want {n}, got {got:?}")),
            }
        }
        Json::String(s) => {
            if info.is_some_and(|i| i.ty.is_integer()) {
                return Err("fixture has a string for an integer field".into());
            }
            if info.is_some_and(|i| i.ty == FieldType::Ip) {
                let want_ip: IpAddr = s.parse().map_err(|e| format!("fixture IP {s:?}: {e}"))?;
                return match got.and_then(|v| v.as_ip()) {
                    Some(ip) if ip == want_ip => Ok(()),
                    _ => Err(format!("want IP {want_ip}, got {got:?}")),
                };
            }
            match got {
                Some(v) if v.to_string() == *s => Ok(()),
                _ => Err(format!("want {s:?}, got {got:?}")),
            }
        }
        other => Err(format!("unsupported expected value {other}")),
    }
}

/// A malformed line's error must name a column inside the line's reach and, when the value
/// count is wrong, say so (rather than blaming a shifted value).
fn check_error_is_precise(schema: &Schema, line: &str, e: &DecodeError) -> Result<(), String> {
    let values = if line.is_empty() {
        0
    } else {
        line.split(' ').count()
    };
    let message = e.to_string();
    if values != schema.len() && !e.kind().is_field_count() {
        return Err(format!(
            "{values} values for {} fields, but error is: {message}",
            schema.len()
        ));
    }
    if e.column() == 0 || e.column() > schema.len().max(values) + 1 || message.is_empty() {
        return Err(format!("imprecise error: column {} {message}", e.column()));
    }
    Ok(())
}

/// A schema survives header → log format → schema, and knows every fixture field name.
fn check_schema(schema: &Schema) -> Result<(), String> {
    let via_log_format =
        Schema::from_log_format(&schema.log_format()).map_err(|e| e.to_string())?;
    let via_header = Schema::from_header(&schema.header()).map_err(|e| e.to_string())?;
    if &via_log_format != schema || &via_header != schema {
        return Err(format!("schema does not round-trip: {schema}"));
    }
    let mut report = String::new();
    for (column, name) in schema.unknown_columns() {
        let _ = write!(report, " {column}:{name}");
    }
    if !report.is_empty() {
        return Err(format!(
            "fixture format has fields unknown to the catalogue:{report}"
        ));
    }
    Ok(())
}
