//! Saved plans (`plan --out FILE`, `apply FILE`): what a plan file holds and how a fresh run is
//! held against it. Pure: the commands read and write the file, this module only builds its
//! content and compares.
//!
//! A plan file carries the config text it was planned from, the options and filters of that
//! run, and for each account the exact plan (every change with its operation) and a fingerprint
//! of each item of the inventory the plan was computed from. `apply FILE` plans again from the
//! same config, options and filters; the plan is executed only when every inventory item is
//! unchanged and the recomputed plan is the saved one to the letter. Anything else is stale.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::Inventory;
use crate::plan::{Plan, PlanOptions};

/// The `flowkeeper_plan` value of files this version writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// What a saved plan says about the run that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedRun {
    pub config_path: String,
    pub config_text: String,
    pub options: PlanOptions,
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    /// Per account: (inventory fingerprints, the plan with operations).
    pub plans: BTreeMap<String, (BTreeMap<String, String>, Value)>,
}

fn digest(v: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(v).expect("model types serialize");
    let hash = Sha256::digest(&bytes);
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// One fingerprint per inventory item, keyed by what a person would call it
/// (`us-east-1 flow-log fl-1`, `bucket logs`, `role fk-delivery`).
pub fn fingerprints(inv: &Inventory) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (region, ri) in &inv.regions {
        out.insert(format!("{region} region"), String::from("discovered"));
        for r in &ri.resources {
            out.insert(
                format!("{region} {} {}", r.kind.config_name(), r.id),
                digest(r),
            );
        }
        for fl in &ri.flow_logs {
            out.insert(format!("{region} flow-log {}", fl.id), digest(fl));
        }
        for (name, g) in &ri.log_groups {
            out.insert(format!("{region} log-group {name}"), digest(g));
        }
    }
    for (name, b) in &inv.buckets {
        out.insert(format!("bucket {name}"), digest(b));
    }
    for (name, r) in &inv.roles {
        out.insert(format!("role {name}"), digest(r));
    }
    out
}

/// A plan as JSON with each change's operation, which the plan's own JSON leaves out.
pub fn plan_value(plan: &Plan) -> Value {
    let mut v = serde_json::to_value(plan).expect("plans serialize");
    if let Some(changes) = v.get_mut("changes").and_then(Value::as_array_mut) {
        for (c, change) in changes.iter_mut().zip(&plan.changes) {
            c["operation"] = serde_json::to_value(&change.operation).expect("operations serialize");
        }
    }
    v
}

/// The file's content.
pub fn render(run: &SavedRun) -> String {
    let accounts: Vec<Value> = run
        .plans
        .iter()
        .map(|(account, (prints, plan))| {
            json!({
                "account": account,
                "inventory_digest": digest(prints),
                "inventory": prints,
                "plan": plan,
            })
        })
        .collect();
    let doc = json!({
        "flowkeeper_plan": FORMAT_VERSION,
        "flowkeeper_version": env!("CARGO_PKG_VERSION"),
        "config": { "path": run.config_path, "text": run.config_text },
        "options": { "prune": run.options.prune, "allow_logging_gap": run.options.allow_logging_gap },
        "filters": { "accounts": run.accounts, "regions": run.regions },
        "accounts": accounts,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON");
    text.push('\n');
    text
}

fn strings(v: &Value, what: &str) -> Result<Option<Vec<String>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{what}` holds a value that is not a string"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(format!("`{what}` is not a list")),
    }
}

/// Reads a plan file's text; every error says what is wrong with it.
pub fn parse(text: &str) -> Result<SavedRun, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a flowkeeper plan file: line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    match doc.get("flowkeeper_plan").and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "plan file format {v} is not the one this flowkeeper reads ({FORMAT_VERSION})"
            ));
        }
        None => return Err("not a flowkeeper plan file (no `flowkeeper_plan`)".into()),
    }
    let version = doc["flowkeeper_version"].as_str().unwrap_or("?");
    if version != env!("CARGO_PKG_VERSION") {
        return Err(format!(
            "the plan was made by flowkeeper {version}, this is {}: plan again with this version",
            env!("CARGO_PKG_VERSION")
        ));
    }
    let text_of = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("`{what}` is missing or not a string"))
    };
    let flag = |name: &str| {
        doc["options"][name]
            .as_bool()
            .ok_or_else(|| format!("`options.{name}` is missing or not true/false"))
    };
    let mut plans = BTreeMap::new();
    for a in doc["accounts"]
        .as_array()
        .ok_or("`accounts` is missing or not a list")?
    {
        let account = text_of(&a["account"], "accounts[].account")?;
        let prints: BTreeMap<String, String> = serde_json::from_value(a["inventory"].clone())
            .map_err(|e| format!("account {account}: `inventory`: {e}"))?;
        if a["inventory_digest"].as_str() != Some(digest(&prints).as_str()) {
            return Err(format!(
                "account {account}: the inventory does not match its digest: the file was edited"
            ));
        }
        plans.insert(account, (prints, a["plan"].clone()));
    }
    Ok(SavedRun {
        config_path: text_of(&doc["config"]["path"], "config.path")?,
        config_text: text_of(&doc["config"]["text"], "config.text")?,
        options: PlanOptions {
            prune: flag("prune")?,
            allow_logging_gap: flag("allow_logging_gap")?,
        },
        accounts: strings(&doc["filters"]["accounts"], "filters.accounts")?,
        regions: strings(&doc["filters"]["regions"], "filters.regions")?,
        plans,
    })
}

/// Why a saved plan no longer holds: one line per difference; empty when it still holds.
pub fn staleness(saved: &SavedRun, now: &SavedRun) -> Vec<String> {
    let mut out = Vec::new();
    let accounts: BTreeSet<&String> = saved.plans.keys().chain(now.plans.keys()).collect();
    for account in accounts {
        match (saved.plans.get(account), now.plans.get(account)) {
            (Some(_), None) => out.push(format!(
                "account {account}: planned then, but could not be planned now"
            )),
            (None, Some(_)) => out.push(format!(
                "account {account}: part of the run now, but not when the plan was made"
            )),
            (Some((before, plan_then)), Some((after, plan_now))) => {
                let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
                for key in keys {
                    match (before.get(key), after.get(key)) {
                        (Some(_), None) => out.push(format!("account {account}: {key}: gone")),
                        (None, Some(_)) => out.push(format!("account {account}: {key}: new")),
                        (Some(a), Some(b)) if a != b => {
                            out.push(format!("account {account}: {key}: changed"))
                        }
                        _ => {}
                    }
                }
                if before == after && plan_then != plan_now {
                    out.push(format!(
                        "account {account}: the same inventory now gives another plan"
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, NetworkResource, RegionInventory, ResourceKind};

    fn inventory(vpcs: &[(&str, &str)]) -> Inventory {
        let mut region = RegionInventory::default();
        for (id, env) in vpcs {
            region.resources.push(NetworkResource {
                tags: [("env".to_string(), env.to_string())].into(),
                ..NetworkResource::new(*id, ResourceKind::Vpc)
            });
        }
        Inventory {
            account: AccountId::parse("111122223333").unwrap(),
            regions: [("us-east-1".to_string(), region)].into(),
            buckets: BTreeMap::new(),
            roles: BTreeMap::new(),
        }
    }

    fn run(inv: &Inventory) -> SavedRun {
        let plan = Plan::new(inv.account.clone());
        SavedRun {
            config_path: "flowkeeper.yaml".into(),
            config_text: "version: 1\n".into(),
            options: PlanOptions {
                prune: true,
                allow_logging_gap: false,
            },
            accounts: None,
            regions: Some(vec!["us-east-1".into()]),
            plans: [(
                "111122223333".to_string(),
                (fingerprints(inv), plan_value(&plan)),
            )]
            .into(),
        }
    }

    #[test]
    fn a_rendered_plan_reads_back_the_same() {
        let saved = run(&inventory(&[("vpc-1", "prod")]));
        assert_eq!(parse(&render(&saved)).unwrap(), saved);
    }

    #[test]
    fn a_changed_new_or_gone_item_makes_the_plan_stale_and_is_named() {
        let saved = run(&inventory(&[("vpc-1", "prod"), ("vpc-2", "dev")]));
        assert!(staleness(&saved, &saved).is_empty());
        let now = run(&inventory(&[("vpc-1", "dev"), ("vpc-3", "dev")]));
        assert_eq!(
            staleness(&saved, &now),
            [
                "account 111122223333: us-east-1 vpc vpc-1: changed",
                "account 111122223333: us-east-1 vpc vpc-2: gone",
                "account 111122223333: us-east-1 vpc vpc-3: new",
            ]
        );
    }

    #[test]
    fn an_edited_inventory_is_refused() {
        let text = render(&run(&inventory(&[("vpc-1", "prod")])));
        let edited = text.replacen(
            "\"us-east-1 vpc vpc-1\": \"",
            "\"us-east-1 vpc vpc-1\": \"0",
            1,
        );
        assert_ne!(edited, text);
        assert!(parse(&edited).unwrap_err().contains("the file was edited"));
    }

    #[test]
    fn files_that_are_not_plans_are_refused_with_a_reason() {
        assert!(parse("{").unwrap_err().contains("line 1"));
        assert!(parse("{}").unwrap_err().contains("no `flowkeeper_plan`"));
        assert!(
            parse(r#"{"flowkeeper_plan": 9}"#)
                .unwrap_err()
                .contains("format 9")
        );
    }
}
