//! `--parameters`: the flow logs of entries that select by tag or `all` become one
//! `Fn::ForEach` per (entry, destination) over a list parameter `<Entry>Ids`
//! (`List<AWS::EC2::VPC::Id>`, `List<AWS::EC2::Subnet::Id>`, or `CommaDelimitedList` for
//! network interfaces), defaulting to the ids discovery found, so the template deploys as is
//! and a pipeline can pass other ids. Needs `Transform: AWS::LanguageExtensions` (expanded by
//! CloudFormation when a change set is created, as `aws cloudformation deploy` does); not
//! verified for stack sets, so this output is per target only.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::model::{DESTINATION_TAG_KEY, ENTRY_TAG_KEY};

use super::Template;

fn tag<'a>(r: &'a Value, key: &str) -> Option<&'a str> {
    r["Properties"]["Tags"]
        .as_array()?
        .iter()
        .find(|t| t["Key"] == key)?["Value"]
        .as_str()
}

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

fn list_type(resource_type: &str) -> &'static str {
    match resource_type {
        "VPC" => "List<AWS::EC2::VPC::Id>",
        "Subnet" => "List<AWS::EC2::Subnet::Id>",
        _ => "CommaDelimitedList",
    }
}

/// Rewrites `t` in place; `selecting` names the entries that select by tag or `all`. A group
/// whose flow logs differ in more than their resource id (never, for one entry and
/// destination) is left as literal resources.
pub fn parameterize(t: &mut Template, selecting: &BTreeSet<String>) {
    // (entry, destination) → logical ids, in template order.
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (id, r) in &t.resources {
        if r["Type"] != "AWS::EC2::FlowLog" {
            continue;
        }
        let (Some(entry), Some(dest)) = (tag(r, ENTRY_TAG_KEY), tag(r, DESTINATION_TAG_KEY)) else {
            continue;
        };
        if selecting.contains(entry) {
            groups
                .entry((entry.to_string(), dest.to_string()))
                .or_default()
                .push(id.clone());
        }
    }
    for ((entry, dest), ids) in groups {
        let body = |id: &String| {
            let mut r = t.resources[id].clone();
            r["Properties"]["ResourceId"] = json!({"Ref": "Id"});
            r
        };
        let first = body(&ids[0]);
        if ids.iter().any(|id| body(id) != first) {
            continue;
        }
        let resource_type = first["Properties"]["ResourceType"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut values: Vec<String> = ids
            .iter()
            .filter_map(|id| t.resources[id]["Properties"]["ResourceId"].as_str())
            .map(String::from)
            .collect();
        values.sort();
        let param = format!("{}Ids", pascal(&entry));
        t.parameters.insert(
            param.clone(),
            json!({
                "Type": list_type(&resource_type),
                "Default": values.join(","),
                "Description": format!(
                    "The {resource_type} ids entry `{entry}` logs (default: those its selection matched at export time)."
                ),
            }),
        );
        for id in &ids {
            t.resources.shift_remove(id);
        }
        let name = format!("{}{}", pascal(&entry), pascal(&dest));
        t.resources.insert(
            format!("Fn::ForEach::{name}"),
            json!(["Id", {"Ref": param}, {format!("FlowLog{name}&{{Id}}"): first}]),
        );
        t.transform = Some("AWS::LanguageExtensions".into());
    }
}
