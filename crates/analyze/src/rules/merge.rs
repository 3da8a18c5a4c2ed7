//! Layering rule packs: each layer is parsed on its own (syntax errors name their layer and
//! position), the values are merged (see the `rules` module docs for the rules), and the
//! merged pack is checked once, with every error traced back to the layer and line that
//! supplied the offending value.

use serde_yaml::{Mapping, Value};

use super::check::Locator;
use super::{RuleError, RulePack, schema};
use yamlcheck::{Limits, Path};

/// Loads layers (name, text), earliest first. Each is parsed once within `yamlcheck`'s size
/// and depth limits; a layer that cannot be loaded stops the load, duplicate keys are reported
/// along with every other problem.
pub fn load(layers: &[(Option<&str>, &str)]) -> Result<RulePack, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut locator = Locator::default();
    let mut values = Vec::new();
    let mut loadable = true;
    for (name, text) in layers {
        match yamlcheck::load(text, &Limits::DEFAULT) {
            Ok(doc) => {
                errors.extend(doc.problems.iter().map(|d| load_error(*name, d)));
                values.push(doc.value);
                locator.layers.push((name.map(str::to_owned), doc.marks));
            }
            Err(d) => {
                errors.push(load_error(*name, &d));
                loadable = false;
            }
        }
    }
    if !loadable {
        return Err(errors);
    }
    let mut merged = Value::Null;
    for (i, v) in values.into_iter().enumerate() {
        merge_layer(&mut merged, v, i, &mut locator.origins);
    }
    match schema::pack(&merged, &locator) {
        Ok(pack) if errors.is_empty() => Ok(pack),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// A problem found while loading a layer (syntax, limits, duplicate keys).
fn load_error(source: Option<&str>, d: &yamlcheck::Diagnostic) -> RuleError {
    RuleError {
        source: source.map(str::to_owned),
        rule: None,
        path: d.path.to_string(),
        line: d.pos.map(|p| p.line),
        column: d.pos.map(|p| p.col),
        message: match &d.hint {
            Some(h) => format!("{}; {h}", d.message),
            None => d.message.clone(),
        },
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
