//! CloudFormation export: a greenfield [`Plan`](crate::plan::Plan) rendered as templates, one
//! per region of the account plus a `global` one for account-wide resources (IAM roles), each
//! resource from the very operation `apply` would run ([`resources`]).

pub mod generalize;
pub mod parameters;
pub mod resources;
pub mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::model::AccountId;
use crate::plan::{BucketStep, Change, Operation, Plan};

pub use template::Template;

/// One account's templates.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountTemplates {
    pub account: AccountId,
    /// Account-wide resources (IAM roles): deployed once per account, before the regions.
    pub global: Template,
    /// By region: buckets (in their home region), log groups and flow logs.
    pub regional: BTreeMap<String, Template>,
    /// Buckets the config does not create (`create: false`): the policy with flowkeeper's
    /// statements, to merge by hand. A CloudFormation `BucketPolicy` replaces the whole policy
    /// and would drop the owner's other statements, so none is exported.
    pub bucket_statements: BTreeMap<String, Value>,
    /// What was not exported, and why (printed as warnings).
    pub notes: Vec<String>,
}

/// Where a change's resource goes, and under which logical id others depend on it.
struct Placed {
    region: Option<String>,
    logical_id: String,
}

fn placement(c: &Change) -> Option<Placed> {
    let (kind, name) = match &c.operation {
        Operation::Bucket { create: true, .. } => ("BucketPolicy", c.id.as_str()),
        Operation::LogGroup { create: true, .. } => ("LogGroup", c.id.as_str()),
        Operation::Role { create: true, .. } => ("Role", c.id.as_str()),
        Operation::CreateFlowLog { spec } => ("FlowLog", spec.resource_id.as_str()),
        _ => return None,
    };
    Some(Placed {
        region: c.region.clone(),
        logical_id: resources::logical_id(kind, name, &c.key()),
    })
}

/// The templates of one account's greenfield plan.
pub fn render(plan: &Plan) -> AccountTemplates {
    let acct = plan.account.as_str();
    let mut out = AccountTemplates {
        account: plan.account.clone(),
        global: Template::new(format!(
            "flowkeeper: account-wide resources (IAM delivery roles) of account {acct}; deploy once per account, before the regional stacks"
        )),
        regional: BTreeMap::new(),
        bucket_statements: BTreeMap::new(),
        notes: Vec::new(),
    };
    let placed: BTreeMap<String, Placed> = plan
        .changes
        .iter()
        .filter_map(|c| placement(c).map(|p| (c.key(), p)))
        .collect();
    for c in &plan.changes {
        let Some(here) = placed.get(&c.key()) else {
            out.notes.push(not_exported(c));
            continue;
        };
        let template = match &here.region {
            None => &mut out.global,
            Some(r) => out.regional.entry(r.clone()).or_insert_with(|| {
                Template::new(format!(
                    "flowkeeper: flow logs and their destinations in account {acct}, region {r}"
                ))
            }),
        };
        match &c.operation {
            Operation::Bucket { steps, .. } => {
                let bucket_id = resources::logical_id("Bucket", &c.id, &c.key());
                let (bucket, policy) = resources::bucket(&c.id, steps);
                template.resources.insert(bucket_id.clone(), bucket);
                if let Some(doc) = policy {
                    template.resources.insert(
                        here.logical_id.clone(),
                        resources::bucket_policy(&bucket_id, &doc),
                    );
                }
            }
            Operation::LogGroup {
                retention_days,
                kms_key,
                tags,
                ..
            } => {
                template.resources.insert(
                    here.logical_id.clone(),
                    resources::log_group(&c.id, *retention_days, kms_key.as_deref(), tags),
                );
            }
            Operation::Role {
                trust_policy,
                inline_policy,
                tags,
                ..
            } => {
                template.resources.insert(
                    here.logical_id.clone(),
                    resources::role(&c.id, trust_policy.as_ref(), inline_policy.as_ref(), tags),
                );
            }
            Operation::CreateFlowLog { spec } => {
                // Dependencies in the same stack become DependsOn; the others (the global
                // roles, a central archive's bucket) are met by the deploy order.
                let deps: Vec<String> = c
                    .depends_on
                    .iter()
                    .filter_map(|k| placed.get(k))
                    .filter(|p| p.region == here.region)
                    .map(|p| p.logical_id.clone())
                    .collect();
                template
                    .resources
                    .insert(here.logical_id.clone(), resources::flow_log(spec, &deps));
            }
            _ => unreachable!("placement() only places the operations above"),
        }
    }
    out.bucket_statements = bucket_statements(plan);
    out
}

/// A change with no CloudFormation resource: a `create: false` bucket's policy statements go
/// to a file; anything else cannot occur in a greenfield plan and is reported.
fn not_exported(c: &Change) -> String {
    match &c.operation {
        Operation::Bucket {
            create: false,
            steps,
            ..
        } if steps.iter().any(|s| matches!(s, BucketStep::Policy { .. })) => format!(
            "bucket {} is not created by the config (`create: false`): no BucketPolicy is exported, because CloudFormation would replace its whole policy; merge the statements of {}.bucket-policy-statements.json into it before deploying",
            c.id, c.id
        ),
        _ => format!(
            "{} ({:?}) has no CloudFormation export",
            c.subject(),
            c.action
        ),
    }
}

/// The merged policies of the `create: false` buckets of `plan`.
pub fn bucket_statements(plan: &Plan) -> BTreeMap<String, Value> {
    plan.changes
        .iter()
        .filter_map(|c| match &c.operation {
            Operation::Bucket {
                create: false,
                steps,
                ..
            } => steps.iter().find_map(|s| match s {
                BucketStep::Policy { document } => Some((c.id.clone(), document.clone())),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

/// CloudFormation's limit on resources per template (AWS CloudFormation quotas).
pub const MAX_RESOURCES: usize = 500;

/// Every template above [`MAX_RESOURCES`], as `<account> <region|global>: N resources`: such a
/// template cannot be deployed, so nothing is written.
pub fn over_resource_limit(accounts: &[AccountTemplates]) -> Vec<String> {
    let mut over = Vec::new();
    for a in accounts {
        let named = std::iter::once(("global", &a.global))
            .chain(a.regional.iter().map(|(r, t)| (r.as_str(), t)));
        for (name, t) in named {
            if t.resources.len() > MAX_RESOURCES {
                over.push(format!(
                    "{} {name}: {} resources",
                    a.account,
                    t.resources.len()
                ));
            }
        }
    }
    over
}

/// One file of the export: its path under the output directory and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub path: PathBuf,
    pub text: String,
}

/// The per-target layout: `<account>/global.yaml`, `<account>/<region>.yaml` and
/// `<account>/<bucket>.bucket-policy-statements.json`.
pub fn per_target_files(accounts: &[AccountTemplates]) -> Vec<Rendered> {
    let mut files = Vec::new();
    for a in accounts {
        let dir = PathBuf::from(a.account.as_str());
        if !a.global.is_empty() {
            files.push(Rendered {
                path: dir.join("global.yaml"),
                text: a.global.to_yaml(),
            });
        }
        for (region, t) in &a.regional {
            files.push(Rendered {
                path: dir.join(format!("{region}.yaml")),
                text: t.to_yaml(),
            });
        }
        for (bucket, doc) in &a.bucket_statements {
            files.push(Rendered {
                path: dir.join(format!("{bucket}.bucket-policy-statements.json")),
                text: format!(
                    "{}\n",
                    serde_json::to_string_pretty(doc).expect("JSON values serialize")
                ),
            });
        }
    }
    files
}

/// The first line where two generalized templates differ, for the message.
fn first_difference(a: &str, b: &str) -> String {
    let mut la = a.lines();
    let mut lb = b.lines();
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                return format!(
                    "line {n}: `{}` against `{}`",
                    x.unwrap_or("(end)").trim(),
                    y.unwrap_or("(end)").trim()
                );
            }
        }
    }
}

/// The StackSet-ready layout, when every target (account and region) generalizes to the same
/// template: `stackset/regional.yaml`, `stackset/global.yaml` (when there are account-wide
/// resources) and `stackset/parameters/<account>-<region>.json` (CloudFormation's parameter
/// file format). Otherwise the reason the targets differ in more than ids.
pub fn stackset_files(accounts: &[AccountTemplates]) -> Result<Vec<Rendered>, String> {
    let mut regional: Option<(String, String)> = None;
    let mut global: Option<(String, String)> = None;
    let mut files = Vec::new();
    let mut targets = 0;
    for a in accounts {
        let acct = a.account.as_str();
        if let Some(bucket) = a.bucket_statements.keys().next() {
            return Err(format!(
                "bucket {bucket} is not created by the config: its policy statements must be merged by hand in each account"
            ));
        }
        let g = generalize::generalize(&a.global, acct, None);
        let g_text = g.template.to_yaml();
        match &global {
            None => global = Some((acct.to_string(), g_text)),
            Some((first, text)) if *text != g_text => {
                return Err(format!(
                    "the account-wide resources of {acct} differ from those of {first}"
                ));
            }
            Some(_) => {}
        }
        for (region, t) in &a.regional {
            let generalized = generalize::generalize(t, acct, Some(region));
            let text = generalized.template.to_yaml();
            match &regional {
                None => regional = Some((format!("{acct}/{region}"), text)),
                Some((first, first_text)) if *first_text != text => {
                    return Err(format!(
                        "{acct}/{region} differs from {first} in more than ids (other resources, settings, or another number of flow logs per entry): {}",
                        first_difference(first_text, &text)
                    ));
                }
                Some(_) => {}
            }
            targets += 1;
            let params: Vec<Value> = generalized
                .parameters
                .iter()
                .map(|(k, v)| serde_json::json!({"ParameterKey": k, "ParameterValue": v}))
                .collect();
            files.push(Rendered {
                path: PathBuf::from("stackset/parameters").join(format!("{acct}-{region}.json")),
                text: format!(
                    "{}\n",
                    serde_json::to_string_pretty(&params).expect("JSON values serialize")
                ),
            });
        }
    }
    if targets < 2 {
        return Err("a single target needs no stack set".into());
    }
    let empty_global = accounts.iter().all(|a| a.global.is_empty());
    if let (Some((_, text)), false) = (global, empty_global) {
        files.insert(
            0,
            Rendered {
                path: PathBuf::from("stackset/global.yaml"),
                text,
            },
        );
    }
    if let Some((_, text)) = regional {
        files.insert(
            0,
            Rendered {
                path: PathBuf::from("stackset/regional.yaml"),
                text,
            },
        );
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
