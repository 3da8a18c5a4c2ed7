//! Layering rule packs: each layer is parsed on its own (syntax errors name their layer and
//! position), the values are merged (see the `rules` module docs for the rules), and the
//! merged pack is checked once, with every error traced back to the layer and line that
//! supplied the offending value.

use serde_yaml::{Mapping, Value};

use super::check::Locator;
use super::{RuleError, RulePack, schema};
use yamlcheck::{Marks, Path};

/// Loads layers (name, text), earliest first.
pub fn load(layers: &[(Option<&str>, &str)]) -> Result<RulePack, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut values = Vec::new();
    for (name, text) in layers {
        match serde_yaml::from_str::<Value>(text) {
            Ok(v) => values.push(v),
            Err(e) => errors.push(syntax_error(*name, &e)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut locator = Locator::default();
    for (name, text) in layers {
        locator
            .layers
            .push((name.map(str::to_owned), Marks::index(text)));
    }
    let mut merged = Value::Null;
    for (i, v) in values.into_iter().enumerate() {
        merge_layer(&mut merged, v, i, &mut locator.origins);
    }
    schema::pack(&merged, &locator)
}

fn syntax_error(source: Option<&str>, e: &serde_yaml::Error) -> RuleError {
    let msg = e.to_string();
    // serde_yaml appends " at line L column C"; the position has its own fields.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    RuleError {
        source: source.map(str::to_owned),
        rule: None,
        path: Path::default().to_string(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        message: format!("YAML syntax: {msg}"),
    }
}

type Origins = Vec<(Path, usize, Path)>;

fn merge_layer(merged: &mut Value, layer: Value, li: usize, origins: &mut Origins) {
    let root = Path::default();
    let (Value::Mapping(base), Value::Mapping(top)) = (&mut *merged, &layer) else {
        if !layer.is_null() {
            *merged = layer;
            origins.push((root.clone(), li, root));
        }
        return;
    };
    for (k, v) in top {
        let Some(key) = k.as_str() else {
            base.insert(k.clone(), v.clone());
            continue;
        };
        let p = root.key(key);
        match (key, base.get_mut(k)) {
            ("detectors", Some(Value::Sequence(items))) if v.is_sequence() => {
                merge_list(items, v, "id", true, &p, li, origins);
            }
            ("zones", Some(Value::Sequence(items))) if v.is_sequence() => {
                merge_list(items, v, "name", false, &p, li, origins);
            }
            ("settings" | "reports" | "networks" | "services", Some(Value::Mapping(inner)))
                if v.is_mapping() =>
            {
                merge_keys(inner, v.as_mapping().expect("checked"), &p, &p, li, origins);
            }
            _ => {
                base.insert(k.clone(), v.clone());
                origins.push((p.clone(), li, p));
            }
        }
    }
}

/// Every key of `top` replaces the same key of `base`.
fn merge_keys(
    base: &mut Mapping,
    top: &Mapping,
    at: &Path,
    there: &Path,
    li: usize,
    origins: &mut Origins,
) {
    for (k, v) in top {
        base.insert(k.clone(), v.clone());
        if let Some(key) = k.as_str() {
            origins.push((at.key(key), li, there.key(key)));
        }
    }
}

/// Items with the same `id_key` merge (key by key when `by_key`, else replace); new ones
/// append.
fn merge_list(
    items: &mut Vec<Value>,
    top: &Value,
    id_key: &str,
    by_key: bool,
    at: &Path,
    li: usize,
    origins: &mut Origins,
) {
    let Some(top) = top.as_sequence() else {
        return;
    };
    for (i, item) in top.iter().enumerate() {
        let there = at.index(i);
        let id = item.get(id_key).and_then(Value::as_str);
        let existing = id.and_then(|id| {
            items
                .iter()
                .position(|b| b.get(id_key).and_then(Value::as_str) == Some(id))
        });
        match (existing, item) {
            (Some(j), Value::Mapping(m)) if by_key => match &mut items[j] {
                Value::Mapping(base) => merge_keys(base, m, &at.index(j), &there, li, origins),
                other => {
                    *other = item.clone();
                    origins.push((at.index(j), li, there));
                }
            },
            (Some(j), _) => {
                items[j] = item.clone();
                origins.push((at.index(j), li, there));
            }
            (None, _) => {
                origins.push((at.index(items.len()), li, there));
                items.push(item.clone());
            }
        }
    }
}
