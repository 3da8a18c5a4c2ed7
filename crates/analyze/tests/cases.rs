//! Data-driven detector cases: every `tests/cases/<group>/<case>.yaml` is one scenario (a
//! pack, input lines under a header, the expected findings), run by the single test below,
//! which fails listing every case that went wrong and asserts how many cases ran.
//!
//! Case file keys:
//! - `description`: what the case shows.
//! - `pack`: a complete pack text; otherwise the default pack, with `overlay` (a pack text)
//!   layered over it when given.
//! - `header`: the S3 header line naming the fields of the records.
//! - `vars`: integers usable in record templates (`{T+30}`).
//! - `records`: lines, or `{repeat: N, line: "...{1000+i}..."}` (i = 0..N). `{expr}` is a sum
//!   of terms, each an integer, a var, `i`, or a product of those (`{T+i*60}`). The header is
//!   line 1, so the first record is line 2 (evidence points there; source is 0).
//! - `sources`: instead of `records`, several named sources `[{name, records}]` (source i is
//!   the i-th; names such as `…_fl-0abc_…` give log-health incidents their flow log, and the engine
//!   the record's flow log, as the command does for AWS object names). The
//!   records of all sources are fed in the order given, source by source, unless
//!   `interleave: true` (one record of each source in turn).
//! - `scope`: the detector ids whose findings must match `expect` exactly (default: the
//!   group directory's name).
//! - `expect`: findings, each a mapping of fields that must equal the finding's JSON fields
//!   (`window_start` and `window_end` read the window; `evidence` lists line numbers).
//! - `expect_incidents`: when given (window findings are then checked only if `expect` is
//!   given too), the incidents (grouped findings) of the scope's
//!   detectors must match exactly; each item maps dotted paths into an incident's JSON
//!   (`windows`, `targets.count`, `subject.ip`, `evidence` as line numbers) to values.
//! - `expect_limits`: when given, the run's limits (engine and grouper) must match exactly;
//!   each item maps limit fields (`component`, `what`, `count`) to values.
//! - `expect_values`: dotted paths into the analysis JSON (`reports.totals.duplicates`,
//!   `stats.detectors.0.late_records`, `incidents.0.windows`, `limits.0.count`) and their
//!   values.
//! - `pending`: why the case's expectations are known not to hold yet (a detector change
//!   still to land). The case must then fail; once it passes, the harness asks for
//!   `pending` to be removed. Pending cases are listed on stderr.
//! - `expect_flows`: per-record semantics, checked by `tests/semantics.rs` (ignored here).

use std::fs;
use std::path::{Path, PathBuf};

use flowkeeper_analyze::{Analysis, Engine, Grouper, Origin, PackSource, RulePack};
use flowlog::Schema;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// Cases in the tree; the harness fails if it finds or runs fewer.
const MIN_CASES: usize = 30;

fn cases_dir() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/cases")
}

fn default_pack_text() -> String {
    let p = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../policies/detections/default.yaml");
    fs::read_to_string(p).expect("default pack")
}

/// Evaluates `{...}` templates.
fn expand(template: &str, vars: &[(String, i64)], i: i64) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in {template:?}"))?
            + open;
        out.push_str(&eval(&rest[open + 1..close], vars, i)?.to_string());
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn eval(expr: &str, vars: &[(String, i64)], i: i64) -> Result<i64, String> {
    let mut total = 0i64;
    let mut sign = 1i64;
    let mut term = String::new();
    let flush = |term: &str, sign: i64| -> Result<i64, String> {
        let mut product = 1i64;
        for factor in term.split('*') {
            let f = factor.trim();
            let v = if f == "i" {
                i
            } else if let Ok(n) = f.parse::<i64>() {
                n
            } else {
                vars.iter()
                    .find(|(name, _)| name == f)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| format!("unknown variable `{f}` in {expr:?}"))?
            };
            product *= v;
        }
        Ok(sign * product)
    };
    for c in expr.chars() {
        if c == '+' || c == '-' {
            total += flush(&term, sign)?;
            term.clear();
            sign = if c == '+' { 1 } else { -1 };
        } else {
            term.push(c);
        }
    }
    Ok(total + flush(&term, sign)?)
}

struct Outcome {
    analysis: Analysis,
    json: Json,
}

fn run_case(path: &Path, default_pack: &str) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Yaml = serde_yaml::from_str(&text).map_err(|e| format!("case YAML: {e}"))?;
    let str_of = |key: &str| case.get(key).and_then(Yaml::as_str);

    let pack = match (str_of("pack"), str_of("overlay")) {
        (Some(pack), _) => RulePack::from_yaml(pack),
        (None, Some(overlay)) => RulePack::from_yaml_layers(&[
            PackSource {
                name: "default.yaml",
                text: default_pack,
            },
            PackSource {
                name: "overlay",
                text: overlay,
            },
        ]),
        (None, None) => RulePack::from_yaml(default_pack),
    }
    .map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        format!("pack errors:\n    {}", lines.join("\n    "))
    })?;

    let header = str_of("header").ok_or("case has no `header`")?;
    let schema = Schema::from_header(header).map_err(|e| format!("header: {e}"))?;
    let vars: Vec<(String, i64)> = case
        .get("vars")
        .and_then(Yaml::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut names = Vec::new();
    let mut inputs: Vec<Vec<String>> = Vec::new();
    match (
        case.get("records"),
        case.get("sources").and_then(Yaml::as_sequence),
    ) {
        (Some(records), None) => {
            names.push("records.log".to_owned());
            inputs.push(record_lines(records, &vars)?);
        }
        (None, Some(sources)) => {
            for s in sources {
                let name = s
                    .get("name")
                    .and_then(Yaml::as_str)
                    .ok_or("each source needs a `name`")?;
                let records = s.get("records").ok_or("each source needs `records`")?;
                names.push(name.to_owned());
                inputs.push(record_lines(records, &vars)?);
            }
        }
        _ => return Err("a case has either `records` or `sources`".into()),
    }
    let interleave = case
        .get("interleave")
        .and_then(Yaml::as_bool)
        .unwrap_or(false);
    let mut order: Vec<(usize, usize)> = Vec::new();
    if interleave {
        let longest = inputs.iter().map(Vec::len).max().unwrap_or(0);
        for n in 0..longest {
            for (src, lines) in inputs.iter().enumerate() {
                if n < lines.len() {
                    order.push((src, n));
                }
            }
        }
    } else {
        for (src, lines) in inputs.iter().enumerate() {
            order.extend((0..lines.len()).map(|n| (src, n)));
        }
    }

    // Each source's flow log, as the command tells it from AWS object names: the `fl-…`
    // part of the name, numbered from 1 in order of appearance (0 when the name has none).
    let mut log_ids: Vec<String> = Vec::new();
    let logs: Vec<u32> = names
        .iter()
        .map(
            |name| match name.split('_').find(|p| p.starts_with("fl-")) {
                Some(id) => match log_ids.iter().position(|l| l == id) {
                    Some(i) => i as u32 + 1,
                    None => {
                        log_ids.push(id.to_owned());
                        log_ids.len() as u32
                    }
                },
                None => 0,
            },
        )
        .collect();
    let mut engine = Engine::new(&pack);
    for (src, n) in order {
        let line = &inputs[src][n];
        let record = schema
            .decode(line)
            .map_err(|e| format!("{} record line {}: {e}: {line}", names[src], n + 2))?;
        engine.observe_logged(&record, Origin::new(src as u32, n as u64 + 2), logs[src]);
    }
    let mut streamed = engine.take_final();
    let mut analysis = engine.finish();
    streamed.append(&mut analysis.findings);
    flowkeeper_analyze::finding::sort_findings(&mut streamed);
    analysis.findings = streamed;
    let mut limits = analysis.limits();
    let mut grouper = Grouper::new(&pack);
    for f in &analysis.findings {
        grouper.offer(f.clone(), &names);
    }
    limits.extend(grouper.limits());
    grouper.note_limits(&limits);
    let incidents = grouper.finish();
    let mut json = serde_json::to_value(&analysis).map_err(|e| e.to_string())?;
    json["incidents"] = serde_json::to_value(&incidents).map_err(|e| e.to_string())?;
    json["limits"] = serde_json::to_value(&limits).map_err(|e| e.to_string())?;
    let outcome = Outcome { analysis, json };

    let group = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let scope: Vec<String> = match case.get("scope").and_then(Yaml::as_sequence) {
        Some(s) => s
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => vec![group],
    };
    if let Some(unknown) = scope.iter().find(|id| pack.detector(id).is_none()) {
        return Err(format!(
            "scope names `{unknown}`, which is no detector of the case's pack"
        ));
    }
    if case.get("expect").is_some() || case.get("expect_incidents").is_none() {
        check_findings(&case, &outcome, &scope)?;
    }
    check_list(&case, "expect_incidents", &outcome.json["incidents"], |i| {
        scope.iter().any(|s| i["detector"] == s.as_str())
    })?;
    check_list(&case, "expect_limits", &outcome.json["limits"], |_| true)?;
    check_values(&case, &outcome)
}

/// The lines of a `records` list (strings and `repeat` items, templates expanded).
fn record_lines(records: &Yaml, vars: &[(String, i64)]) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for item in records.as_sequence().ok_or("`records` must be a list")? {
        match item {
            Yaml::String(line) => lines.push(expand(line, vars, 0)?),
            Yaml::Mapping(m) => {
                let n = m
                    .get("repeat")
                    .and_then(Yaml::as_i64)
                    .ok_or("`repeat` needs a count")?;
                let line = m
                    .get("line")
                    .and_then(Yaml::as_str)
                    .ok_or("`repeat` needs a `line`")?;
                for i in 0..n {
                    lines.push(expand(line, vars, i)?);
                }
            }
            other => return Err(format!("bad record item {other:?}")),
        }
    }
    Ok(lines)
}

/// A dotted path into JSON (`targets.count`, `evidence` as line numbers).
fn path(root: &Json, dotted: &str) -> Json {
    if dotted == "evidence" {
        return Json::Array(
            root["evidence"]
                .as_array()
                .map(|a| a.iter().map(|o| o["line"].clone()).collect())
                .unwrap_or_default(),
        );
    }
    let mut cur = root;
    for seg in dotted.split('.') {
        cur = match seg.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[seg],
        };
    }
    cur.clone()
}

/// When the case has `key`, the items of `actual` that `keep` admits must match its
/// mappings one to one.
fn check_list(
    case: &Yaml,
    key: &str,
    actual: &Json,
    keep: impl Fn(&Json) -> bool,
) -> Result<(), String> {
    let Some(expected) = case.get(key) else {
        return Ok(());
    };
    let expected: Vec<Json> = expected
        .as_sequence()
        .ok_or_else(|| format!("`{key}` must be a list"))?
        .iter()
        .map(|e| serde_json::to_value(e).expect("yaml → json"))
        .collect();
    let mut unmatched: Vec<&Json> = actual
        .as_array()
        .map(|a| a.iter().filter(|i| keep(i)).collect())
        .unwrap_or_default();
    let all = unmatched.clone();
    let mut problems = Vec::new();
    for e in &expected {
        let Some(obj) = e.as_object() else {
            return Err(format!("each `{key}` item must be a mapping"));
        };
        match unmatched
            .iter()
            .position(|i| obj.iter().all(|(k, v)| path(i, k) == *v))
        {
            Some(p) => {
                unmatched.remove(p);
            }
            None => problems.push(format!("{key}: expected item not produced: {e}")),
        }
    }
    for i in unmatched {
        problems.push(format!("{key}: unexpected item: {i}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let all: Vec<String> = all.iter().map(|i| i.to_string()).collect();
        Err(format!(
            "{}\n    (all: {})",
            problems.join("\n    "),
            all.join("\n          ")
        ))
    }
}

fn field(finding: &Json, name: &str) -> Json {
    match name {
        "window_start" => finding["window"]["start"].clone(),
        "window_end" => finding["window"]["end"].clone(),
        "evidence" => Json::Array(
            finding["evidence"]
                .as_array()
                .map(|a| a.iter().map(|o| o["line"].clone()).collect())
                .unwrap_or_default(),
        ),
        other => finding.get(other).cloned().unwrap_or(Json::Null),
    }
}

fn check_findings(case: &Yaml, outcome: &Outcome, scope: &[String]) -> Result<(), String> {
    let actual: Vec<&Json> = outcome.json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| scope.iter().any(|s| f["detector"] == s.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<Json> = case
        .get("expect")
        .and_then(Yaml::as_sequence)
        .map(|s| {
            s.iter()
                .map(|e| serde_json::to_value(e).expect("yaml → json"))
                .collect()
        })
        .unwrap_or_default();
    let mut unmatched: Vec<&Json> = actual.clone();
    let mut problems = Vec::new();
    for e in &expected {
        let Some(obj) = e.as_object() else {
            return Err("each `expect` item must be a mapping".into());
        };
        let pos = unmatched
            .iter()
            .position(|f| obj.iter().all(|(k, v)| field(f, k) == *v));
        match pos {
            Some(p) => {
                unmatched.remove(p);
            }
            None => problems.push(format!("expected finding not produced: {e}")),
        }
    }
    for f in unmatched {
        problems.push(format!("unexpected finding: {f}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let all: Vec<String> = outcome
            .analysis
            .findings
            .iter()
            .map(|f| format!("{} {}", f.detector, f.summary))
            .collect();
        Err(format!(
            "{}\n    (all findings: {:?})",
            problems.join("\n    "),
            all
        ))
    }
}

fn check_values(case: &Yaml, outcome: &Outcome) -> Result<(), String> {
    let Some(m) = case.get("expect_values").and_then(Yaml::as_mapping) else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for (k, v) in m {
        let path = k.as_str().ok_or("expect_values keys are dotted paths")?;
        let cur = self::path(&outcome.json, path);
        let want = serde_json::to_value(v).map_err(|e| e.to_string())?;
        if cur != want {
            problems.push(format!("{path}: expected {want}, got {cur}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n    "))
    }
}

/// The case's `pending` reason, if any.
fn pending_reason(path: &Path) -> Option<String> {
    let case: Yaml = serde_yaml::from_str(&fs::read_to_string(path).ok()?).ok()?;
    case.get("pending")?.as_str().map(str::to_owned)
}

#[test]
fn detector_cases() {
    let default_pack = default_pack_text();
    let mut files = Vec::new();
    for group in fs::read_dir(cases_dir()).expect("tests/cases") {
        let group = group.expect("entry").path();
        if !group.is_dir() {
            continue;
        }
        for f in fs::read_dir(&group).expect("group") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "yaml") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    let mut ran = 0;
    for f in &files {
        let name = f
            .strip_prefix(cases_dir())
            .unwrap_or(f)
            .display()
            .to_string();
        match (run_case(f, &default_pack), pending_reason(f)) {
            (Ok(()), None) => ran += 1,
            (Err(e), None) => failures.push(format!("{name}:\n    {e}")),
            (Err(_), Some(why)) => {
                ran += 1;
                pending.push(format!("{name}: {why}"));
            }
            (Ok(()), Some(_)) => {
                failures.push(format!("{name}: passes now; remove its `pending` key"))
            }
        }
    }
    if !pending.is_empty() {
        eprintln!(
            "{} pending case(s):\n  {}",
            pending.len(),
            pending.join("\n  ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(ran, files.len());
    assert!(
        ran >= MIN_CASES,
        "only {ran} cases ran; expected at least {MIN_CASES}"
    );
    eprintln!("{ran} detector cases passed");
}

#[test]
fn templates_expand() {
    let vars = vec![("T".to_owned(), 100)];
    assert_eq!(
        expand("a {T+i*2} {7} {T-1}", &vars, 3).unwrap(),
        "a 106 7 99"
    );
    assert!(expand("{nope}", &vars, 0).is_err());
}
