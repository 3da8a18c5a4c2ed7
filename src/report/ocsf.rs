//! What audit's and analyze's OCSF events share: the schema version, the product block and
//! the pruning of null members (OCSF leaves absent attributes out).

use serde_json::{Value, json};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.3.0";
/// Category 2: Findings.
pub const CATEGORY_UID: u32 = 2;

/// `metadata.product`: flowkeeper, this version, and the command (`feature`) that made it.
pub fn product(feature: &str) -> Value {
    json!({
        "name": "flowkeeper",
        "vendor_name": "flowkeeper",
        "uid": "flowkeeper",
        "version": env!("CARGO_PKG_VERSION"),
        "feature": { "name": feature },
    })
}

/// Removes null members of objects, recursively.
pub fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}
