//! StackSet-ready output: per-target templates with the target's account id, region and
//! partition turned into `${AWS::AccountId}`, `${AWS::Region}` and `${AWS::Partition}` (inside
//! `Fn::Sub`, an existing `${` escaped as `${!`), and each flow log's resource id turned into a
//! parameter. When every target's template then comes out the same, one template serves all of
//! them, with one parameter file per target holding its ids.
//!
//! The parameters are plain (one typed parameter per flow log), not `Fn::ForEach` over a list:
//! `AWS::LanguageExtensions` is a macro, and AWS does not document it as usable in stack sets
//! (service-managed stack sets refuse macros). So targets qualify only when they have the same
//! number of flow logs per entry, destination and resource kind; otherwise the export falls
//! back to per-target templates and says why.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::model::{DESTINATION_TAG_KEY, ENTRY_TAG_KEY, partition_of};

use super::Template;

/// One target's template, generalized, and the values of its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Generalized {
    pub template: Template,
    pub parameters: BTreeMap<String, String>,
}

/// What to replace in strings: the account id, and (for regional templates) the region; the
/// partition of `arn:<partition>:` prefixes.
struct Ids<'a> {
    account: &'a str,
    region: Option<&'a str>,
    partition: &'a str,
}

impl Ids<'_> {
    /// The string with ids replaced, as an `Fn::Sub`, or None when it holds none.
    fn sub(&self, s: &str) -> Option<Value> {
        let arn = format!("arn:{}:", self.partition);
        let holds = s.contains(self.account)
            || self.region.is_some_and(|r| s.contains(r))
            || s.contains(&arn);
        if !holds {
            return None;
        }
        let mut out = s.replace("${", "${!");
        out = out.replace(&arn, "arn:${AWS::Partition}:");
        out = out.replace(self.account, "${AWS::AccountId}");
        if let Some(r) = self.region {
            out = out.replace(r, "${AWS::Region}");
        }
        Some(json!({"Fn::Sub": out}))
    }

    /// The text with ids named, for logical ids and descriptions (no `Fn::Sub`).
    fn plain(&self, s: &str) -> String {
        let mut out = s.replace(self.account, "Account");
        if let Some(r) = self.region {
            out = out.replace(r, "Region");
        }
        out
    }
}

/// `all-vpcs` → `AllVpcs`.
fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn tag<'a>(r: &'a Value, key: &str) -> Option<&'a str> {
    r["Properties"]["Tags"]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == key)?["Value"]
        .as_str()
}

fn parameter_type(resource_type: &str) -> &'static str {
    match resource_type {
        "VPC" => "AWS::EC2::VPC::Id",
        "Subnet" => "AWS::EC2::Subnet::Id",
        _ => "String",
    }
}

/// The logical id of a non-flow-log resource, from its kind and generalized name.
fn stable_id(kind: &str, name: &str) -> String {
    let alnum: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    let digest = Sha256::digest(format!("{kind}:{name}").as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{kind}{alnum}{hex}")
}

/// The name a resource is known by (a bucket policy by its bucket's name).
fn resource_name<'a>(t: &'a Template, r: &'a Value) -> &'a str {
    let p = &r["Properties"];
    ["BucketName", "LogGroupName", "RoleName"]
        .iter()
        .find_map(|k| p[*k].as_str())
        .or_else(|| {
            let bucket = t.resources.get(p["Bucket"]["Ref"].as_str()?)?;
            bucket["Properties"]["BucketName"].as_str()
        })
        .unwrap_or("")
}

/// Generalizes one target's template: `region` None for the global template (its log-group
/// ARNs name every region of the account, so only the account is generalized).
pub fn generalize(t: &Template, account: &str, region: Option<&str>) -> Generalized {
    let ids = Ids {
        account,
        region,
        partition: partition_of(region.unwrap_or("us-east-1")),
    };
    // New logical ids, and the flow logs' parameters.
    let mut rename: BTreeMap<String, String> = BTreeMap::new();
    let mut slots: BTreeMap<String, usize> = BTreeMap::new();
    let mut parameters = BTreeMap::new();
    let mut declared = Map::new();
    for (id, r) in &t.resources {
        let kind = match r["Type"].as_str() {
            Some("AWS::S3::Bucket") => "Bucket",
            Some("AWS::S3::BucketPolicy") => "BucketPolicy",
            Some("AWS::Logs::LogGroup") => "LogGroup",
            Some("AWS::IAM::Role") => "Role",
            Some("AWS::EC2::FlowLog") => "FlowLog",
            _ => "Resource",
        };
        if kind == "FlowLog" {
            let resource_type = r["Properties"]["ResourceType"].as_str().unwrap_or("");
            let group = format!(
                "{}{}{}",
                pascal(tag(r, ENTRY_TAG_KEY).unwrap_or("")),
                pascal(tag(r, DESTINATION_TAG_KEY).unwrap_or("")),
                pascal(resource_type)
            );
            let n = slots.entry(group.clone()).or_insert(0);
            *n += 1;
            let param = format!("{group}{n}Id");
            declared.insert(
                param.clone(),
                json!({
                    "Type": parameter_type(resource_type),
                    "Description": format!(
                        "The {} flow log {} of entry `{}` to `{}` logs (one per target, from its parameter file).",
                        resource_type,
                        n,
                        tag(r, ENTRY_TAG_KEY).unwrap_or(""),
                        tag(r, DESTINATION_TAG_KEY).unwrap_or("")
                    ),
                }),
            );
            if let Some(v) = r["Properties"]["ResourceId"].as_str() {
                parameters.insert(param.clone(), v.to_string());
            }
            rename.insert(id.clone(), format!("FlowLog{group}{n}"));
        } else {
            let name = ids.plain(resource_name(t, r));
            rename.insert(id.clone(), stable_id(kind, &name));
        }
    }
    let mut resources = Map::new();
    for (id, r) in &t.resources {
        let mut r = rewrite(r, &ids, &rename);
        if r["Type"] == "AWS::EC2::FlowLog" {
            let param = format!("{}Id", rename[id].trim_start_matches("FlowLog"));
            r["Properties"]["ResourceId"] = json!({"Ref": param});
        }
        resources.insert(rename[id].clone(), r);
    }
    Generalized {
        template: Template {
            description: match region {
                None => "flowkeeper: account-wide resources (IAM delivery roles), StackSet-ready: deploy once per account (one region), before the regional stack set".into(),
                Some(_) => "flowkeeper: flow logs and their destinations, StackSet-ready: one stack instance per account and region, with that target's parameter file".into(),
            },
            transform: None,
            parameters: declared,
            resources,
        },
        parameters,
    }
}

/// Strings with ids become `Fn::Sub`; `Ref` and `DependsOn` follow the renamed logical ids.
fn rewrite(v: &Value, ids: &Ids, rename: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => ids.sub(s).unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(|x| rewrite(x, ids, rename)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("Ref", Value::String(id)) => {
                            Value::String(rename.get(id).cloned().unwrap_or_else(|| id.clone()))
                        }
                        ("DependsOn", Value::Array(deps)) => Value::Array(
                            deps.iter()
                                .map(|d| {
                                    let d = d.as_str().unwrap_or("");
                                    json!(rename.get(d).map(String::as_str).unwrap_or(d))
                                })
                                .collect(),
                        ),
                        // Tag keys and values carry names, never ids to generalize.
                        ("Tags", _) => x.clone(),
                        _ => rewrite(x, ids, rename),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_pseudo_parameters_and_dollar_braces_are_escaped() {
        let ids = Ids {
            account: "111122223333",
            region: Some("eu-west-1"),
            partition: "aws",
        };
        assert_eq!(
            ids.sub("arn:aws:s3:::logs-111122223333-eu-west-1/${x}"),
            Some(
                json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::logs-${AWS::AccountId}-${AWS::Region}/${!x}"})
            )
        );
        assert_eq!(ids.sub("${version} ${srcaddr}"), None, "no ids: left alone");
        assert_eq!(pascal("all-vpcs"), "AllVpcs");
    }
}
