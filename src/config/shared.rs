//! Destinations that name the same bucket or log group must agree on its settings. What the
//! file shows statically (the same name written the same way) is checked here, with a problem
//! at each of the two destinations; names that only meet after placeholders are expanded per
//! account are the planner's to report (`plan::resolve`).

use std::collections::BTreeMap;

use serde_yaml::Value;
use yamlcheck::{FileChecker, Path};

use crate::model::{Destination, S3Destination};

/// Reports every pair of destinations that share a bucket or log group but disagree on it.
/// `raw` is the `destinations` mapping as written, for positions.
pub fn check_shared_destinations(
    destinations: &BTreeMap<String, Destination>,
    raw: &Value,
    path: &Path,
    c: &mut FileChecker,
) {
    let list: Vec<(&String, &Destination)> = destinations.iter().collect();
    for (i, (a_name, a)) in list.iter().enumerate() {
        for (b_name, b) in &list[i + 1..] {
            let found = match (a, b) {
                (Destination::S3(x), Destination::S3(y)) if same_bucket(x, y) => {
                    Some(("bucket", x.bucket.raw(), bucket_disagreements(x, y)))
                }
                (Destination::CloudwatchLogs(x), Destination::CloudwatchLogs(y))
                    if x.log_group.raw() == y.log_group.raw() =>
                {
                    let mut d = Vec::new();
                    if x.retention_days != y.retention_days {
                        d.push("retention_days");
                    }
                    if x.kms_key.as_ref().map(|k| k.raw()) != y.kms_key.as_ref().map(|k| k.raw()) {
                        d.push("kms_key");
                    }
                    Some(("log_group", x.log_group.raw(), d))
                }
                _ => None,
            };
            let Some((name_key, name, diffs)) = found else {
                continue;
            };
            if diffs.is_empty() {
                continue;
            }
            let what = if name_key == "bucket" {
                "bucket"
            } else {
                "log group"
            };
            let keys: Vec<String> = diffs.iter().map(|k| format!("`{k}`")).collect();
            let message = format!(
                "destinations `{a_name}` and `{b_name}` use the same {what} `{name}` but disagree on {}",
                keys.join(", ")
            );
            for (this, other) in [(a_name, b_name), (b_name, a_name)] {
                let at = position(raw, path, this, name_key, &diffs);
                c.at_value(
                    &at,
                    message.clone(),
                    Some(format!(
                        "one {what} has one set of settings: make `{this}` agree with `{other}`, or give them different {what} names"
                    )),
                );
            }
        }
    }
}

/// True when two S3 destinations name one bucket in every account the config covers.
fn same_bucket(a: &S3Destination, b: &S3Destination) -> bool {
    a.bucket.raw() == b.bucket.raw()
        && (!a.bucket.raw().contains("{account_id}") || a.account == b.account)
}

fn bucket_disagreements(a: &S3Destination, b: &S3Destination) -> Vec<&'static str> {
    let mut d = Vec::new();
    if a.account != b.account {
        d.push("account");
    }
    if a.create != b.create {
        d.push("create");
    }
    if let (Some(x), Some(y)) = (&a.region, &b.region)
        && x != y
    {
        d.push("region");
    }
    if a.encryption != b.encryption {
        d.push("encryption");
    }
    // Lifecycle rules under one prefix would govern each other's objects.
    if a.prefix == b.prefix && a.lifecycle != b.lifecycle {
        d.push("lifecycle");
    }
    d
}

/// Where to point for `dest`: the first differing setting it writes, else its bucket or log
/// group name (a setting left at its default).
fn position(raw: &Value, path: &Path, dest: &str, name_key: &str, diffs: &[&str]) -> Path {
    let p = path.key(dest);
    let written = raw.get(dest).and_then(Value::as_mapping);
    let key = diffs
        .iter()
        .copied()
        .find(|k| written.is_some_and(|m| m.contains_key(*k)))
        .unwrap_or(name_key);
    p.key(key)
}
