//! Record-semantics cases: the case files of `tests/cases/{initiator,nat,ours,dedupe}` (the
//! same files `cases.rs` runs for their findings) may carry `expect_flows`, a list of
//! `{line: N, <field>: <value>...}` checked against the classified record on that line
//! (of the first source in a case of `sources`; `Flow::semantics()`: `peers`, `leg`, `src_class`, `dst_class`, `initiator`, `decided_by`,
//! `client`, `server`, `service_port`, `client_probe`, `answer`). Every folder must hold
//! at least one `hit*` and one `near_miss*` case, and every case at least one expectation.

use std::fs;
use std::path::{Path, PathBuf};

use flowkeeper_analyze::{Engine, PackSource, RulePack};
use flowlog::Schema;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

const GROUPS: [&str; 4] = ["initiator", "nat", "ours", "dedupe"];

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn expand(template: &str, vars: &[(String, i64)], i: i64) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closed template") + open;
        out.push_str(&eval(&rest[open + 1..close], vars, i).to_string());
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A sum of products of integers, vars and `i` (as in `cases.rs`).
fn eval(expr: &str, vars: &[(String, i64)], i: i64) -> i64 {
    let term = |t: &str| -> i64 {
        t.split('*')
            .map(|f| match f.trim() {
                "i" => i,
                f => f.parse().unwrap_or_else(|_| {
                    vars.iter()
                        .find(|(k, _)| k == f)
                        .unwrap_or_else(|| panic!("unknown variable `{f}`"))
                        .1
                }),
            })
            .product()
    };
    let (mut total, mut sign, mut cur) = (0, 1, String::new());
    for c in expr.chars() {
        if c == '+' || c == '-' {
            total += sign * term(&cur);
            cur.clear();
            sign = if c == '+' { 1 } else { -1 };
        } else {
            cur.push(c);
        }
    }
    total + sign * term(&cur)
}

fn run(path: &Path, default_pack: &str) -> Result<usize, String> {
    let case: Yaml = serde_yaml::from_str(&fs::read_to_string(path).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let s = |k: &str| case.get(k).and_then(Yaml::as_str);
    let pack = match (s("pack"), s("overlay")) {
        (Some(p), _) => RulePack::from_yaml(p),
        (None, Some(o)) => RulePack::from_yaml_layers(&[
            PackSource {
                name: "default.yaml",
                text: default_pack,
            },
            PackSource {
                name: "overlay",
                text: o,
            },
        ]),
        (None, None) => RulePack::from_yaml(default_pack),
    }
    .map_err(|e| format!("pack: {e:?}"))?;
    let schema = Schema::from_header(s("header").ok_or("no header")?).map_err(|e| e.to_string())?;
    let vars: Vec<(String, i64)> = case
        .get("vars")
        .and_then(Yaml::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    // A case of several sources: `expect_flows` lines are the first source's.
    let records = case.get("records").or_else(|| {
        case.get("sources")
            .and_then(Yaml::as_sequence)
            .and_then(|s| s.first())
            .and_then(|s| s.get("records"))
    });
    let mut lines = Vec::new();
    for item in records.and_then(Yaml::as_sequence).ok_or("no records")? {
        match item {
            Yaml::String(l) => lines.push(expand(l, &vars, 0)),
            Yaml::Mapping(m) => {
                let n = m.get("repeat").and_then(Yaml::as_i64).ok_or("repeat")?;
                let l = m.get("line").and_then(Yaml::as_str).ok_or("line")?;
                lines.extend((0..n).map(|i| expand(l, &vars, i)));
            }
            other => return Err(format!("bad record {other:?}")),
        }
    }
    let cx = Engine::new(&pack).classifier();
    let expected = case
        .get("expect_flows")
        .and_then(Yaml::as_sequence)
        .cloned()
        .unwrap_or_default();
    let has_findings = case.get("expect").is_some() || case.get("expect_values").is_some();
    if expected.is_empty() && !has_findings {
        return Err("no expect_flows, expect or expect_values".into());
    }
    let mut problems = Vec::new();
    for e in &expected {
        let e = serde_json::to_value(e).map_err(|e| e.to_string())?;
        let line = e["line"]
            .as_u64()
            .ok_or("each expect_flows item needs `line`")? as usize;
        let text = lines
            .get(line.checked_sub(2).ok_or("line numbers start at 2")?)
            .ok_or_else(|| format!("no record on line {line}"))?;
        let record = schema
            .decode(text)
            .map_err(|e| format!("line {line}: {e}"))?;
        let got =
            serde_json::to_value(cx.classify(&record).semantics()).map_err(|e| e.to_string())?;
        for (k, want) in e.as_object().into_iter().flatten() {
            if k == "line" {
                continue;
            }
            let have = match (k.as_str(), &got[k]) {
                ("peers", Json::Array(a)) => Json::String(format!(
                    "{} > {}",
                    a[0].as_str().unwrap_or_default(),
                    a[1].as_str().unwrap_or_default()
                )),
                (_, v) => v.clone(),
            };
            if have != *want {
                problems.push(format!(
                    "line {line} {k}: expected {want}, got {have} (all: {got})"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(expected.len())
    } else {
        Err(problems.join("\n    "))
    }
}

#[test]
fn record_semantics_cases() {
    let default_pack =
        fs::read_to_string(manifest().join("../../policies/detections/default.yaml")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for group in GROUPS {
        let dir = manifest().join("tests/cases").join(group);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            files.iter().any(|f| name(f).starts_with("hit")),
            "{group}: no hit case"
        );
        assert!(
            files.iter().any(|f| name(f).starts_with("near_miss")),
            "{group}: no near-miss case"
        );
        for f in &files {
            match run(f, &default_pack) {
                Ok(n) => checked += n,
                Err(e) => failures.push(format!("{group}/{}:\n    {e}", name(f))),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "only {checked} flow expectations checked");
}
