//! Plans flow logs: which resources each entry selects, and for each (resource, destination)
//! whether to create, keep, retag, replace (new first) or delete a flow log.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    DESTINATION_TAG_KEY, DesiredState, ENTRY_TAG_KEY, ExistingFlowLog, FlowLogSpec, Inventory,
    MANAGED_BY_KEY, MANAGED_BY_VALUE, Selector,
};

use super::PlanOptions;
use super::destinations::PartStatus;
use super::resolve::Resolved;
use super::types::*;
use crate::coverage::{self, RegionIndex, Requirement};

/// Every flow log the config wants in one region, in a stable order.
pub fn wanted_flow_logs(
    desired: &DesiredState,
    r: &Resolved,
    region: &str,
    inv: &Inventory,
) -> Vec<FlowLogSpec> {
    let Some(ri) = inv.regions.get(region) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in &desired.flow_logs {
        for res in ri
            .resources
            .iter()
            .filter(|x| x.kind == entry.resource && entry.selects(&x.id, &x.tags))
        {
            for dname in &entry.destinations {
                let Some(dest) = r
                    .flow_log_destinations
                    .get(&(dname.clone(), region.to_string()))
                else {
                    continue;
                };
                let mut tags = entry.tags.clone();
                tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
                tags.insert(ENTRY_TAG_KEY.into(), entry.name.clone());
                tags.insert(DESTINATION_TAG_KEY.into(), dname.clone());
                out.push(FlowLogSpec {
                    resource_id: res.id.clone(),
                    resource_kind: res.kind,
                    settings: crate::model::FlowLogSettings {
                        traffic_type: entry.traffic_type,
                        destination: dest.clone(),
                        log_format: entry.format.clone(),
                        max_aggregation_interval: entry.max_aggregation_interval,
                        unreadable: Default::default(),
                    },
                    tags,
                    entry: entry.name.clone(),
                    destination_name: dname.clone(),
                });
            }
        }
    }
    out
}

fn same_key(fl: &ExistingFlowLog, spec: &FlowLogSpec) -> bool {
    fl.is_managed()
        && fl.resource_id == spec.resource_id
        && fl.entry() == Some(spec.entry.as_str())
        && fl.tags.get(DESTINATION_TAG_KEY) == Some(&spec.destination_name)
}

/// A flow log flowkeeper does not manage, on the resource or an ancestor (its subnet or VPC),
/// that qualifies for the spec's requirement ([`Requirement::for_settings`]): the same coverage
/// rule audit applies, so a FAILED or inactive one does not count, and a VPC's covers a
/// subnet-level entry.
fn unmanaged_cover(index: &RegionIndex, spec: &FlowLogSpec) -> Option<String> {
    let resource = index.resource(&spec.resource_id)?;
    let req = Requirement::for_settings(&spec.settings);
    coverage::evaluate_with(resource, index, &req, &|fl| !fl.is_managed()).covered_by
}

/// An unmanaged flow log on the resource with exactly the wanted settings that does not
/// qualify (FAILED delivery, not ACTIVE): AWS refuses a second flow log with the same
/// configuration, so creating one cannot close the gap.
fn unqualified_twin<'a>(
    existing: &'a [ExistingFlowLog],
    spec: &FlowLogSpec,
) -> Option<&'a ExistingFlowLog> {
    existing.iter().find(|fl| {
        !fl.is_managed() && fl.resource_id == spec.resource_id && fl.settings == spec.settings
    })
}

fn twin_problem(region: &str, twin: &ExistingFlowLog, spec: &FlowLogSpec) -> Problem {
    let why: Vec<String> = coverage::qualifies(twin, &Requirement::for_settings(&spec.settings))
        .iter()
        .map(ToString::to_string)
        .collect();
    Problem {
        region: Some(region.to_string()),
        subject: format!("flow log {} on {}", twin.id, spec.resource_id),
        message: format!(
            "not managed by flowkeeper, has exactly the settings of entry `{}` → `{}`, and does not count ({}); AWS refuses a second flow log with the same configuration, so none is planned",
            spec.entry,
            spec.destination_name,
            why.join("; ")
        ),
        hint: Some(format!(
            "fix its delivery (the destination and role it names), or delete {} so that flowkeeper creates its own",
            twin.id
        )),
    }
}

fn missing_tags(fl: &ExistingFlowLog, spec: &FlowLogSpec) -> BTreeMap<String, String> {
    spec.tags
        .iter()
        .filter(|(k, v)| fl.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn flow_log_change(
    action: Action,
    region: &str,
    id: &str,
    resource: &str,
    reason: String,
    attributes: Vec<AttributeDiff>,
    operation: Operation,
) -> Change {
    let target = match &operation {
        Operation::CreateFlowLog { spec } | Operation::ReplaceFlowLog { spec, .. } => {
            Some(format!("{} → {}", spec.entry, spec.destination_name))
        }
        _ => None,
    };
    Change {
        target,
        action,
        resource_type: ResourceType::FlowLog,
        region: Some(region.to_string()),
        id: id.to_string(),
        resource: Some(resource.to_string()),
        reason,
        attributes,
        depends_on: Vec::new(),
        operation,
    }
}

pub fn plan_flow_logs(
    desired: &DesiredState,
    r: &Resolved,
    regions: &[String],
    inv: &Inventory,
    parts: &PartStatus,
    opts: PlanOptions,
    plan: &mut Plan,
) {
    record_selected_ids(desired, inv, plan);
    for region in regions {
        let Some(ri) = inv.regions.get(region) else {
            continue;
        };
        let existing = &ri.flow_logs;
        let index = RegionIndex::new(ri).at(inv.account.as_str(), region);
        // Managed flow logs that some wanted spec accounts for (kept, replaced or superseded).
        let mut accounted: BTreeSet<&str> = BTreeSet::new();
        for spec in wanted_flow_logs(desired, r, region, inv) {
            let needs = r
                .destination_parts
                .get(&(spec.destination_name.clone(), region.clone()))
                .cloned()
                .unwrap_or_default();
            if needs.iter().any(|p| parts.unavailable.contains(p)) {
                continue; // the destination's problem is already reported
            }
            let depends_on: Vec<String> = needs
                .iter()
                .filter_map(|p| parts.changing.get(p).cloned())
                .collect();
            let mut same: Vec<&ExistingFlowLog> =
                existing.iter().filter(|fl| same_key(fl, &spec)).collect();
            same.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
            let keeper = same.iter().copied().find(|fl| fl.settings == spec.settings);
            let foreign_match = unmanaged_cover(&index, &spec)
                .and_then(|id| existing.iter().find(|fl| fl.id == id));
            let mut changes = Vec::new();
            match (keeper, foreign_match) {
                (Some(k), _) => {
                    accounted.insert(&k.id);
                    let missing = missing_tags(k, &spec);
                    if !missing.is_empty() {
                        let attrs = missing
                            .iter()
                            .map(|(t, v)| {
                                AttributeDiff::new(
                                    &format!("tags.{t}"),
                                    k.tags.get(t).cloned(),
                                    Some(v.clone()),
                                )
                            })
                            .collect();
                        changes.push(flow_log_change(
                            Action::Update,
                            region,
                            &k.id,
                            &spec.resource_id,
                            "tags differ".into(),
                            attrs,
                            Operation::TagFlowLog {
                                id: k.id.clone(),
                                tags: missing,
                            },
                        ));
                    }
                    for stale in same.iter().filter(|fl| fl.id != k.id) {
                        accounted.insert(&stale.id);
                        changes.push(flow_log_change(
                            Action::Delete,
                            region,
                            &stale.id,
                            &spec.resource_id,
                            format!("superseded by {} (completes an interrupted replace)", k.id),
                            Vec::new(),
                            Operation::DeleteFlowLog {
                                id: stale.id.clone(),
                            },
                        ));
                    }
                }
                (None, Some(f)) => {
                    plan.covered.push(Covered {
                        region: region.clone(),
                        resource: spec.resource_id.clone(),
                        flow_log_id: f.id.clone(),
                        entry: spec.entry.clone(),
                        destination: spec.destination_name.clone(),
                    });
                }
                (None, None) => match same.first() {
                    Some(old) => {
                        accounted.insert(&old.id);
                        let attrs = old
                            .settings
                            .differences(&spec.settings)
                            .into_iter()
                            .map(|(n, b, a)| AttributeDiff::new(n, Some(b), Some(a)))
                            .collect::<Vec<_>>();
                        let names: Vec<&str> = attrs
                            .iter()
                            .map(|a: &AttributeDiff| a.name.as_str())
                            .collect();
                        let order = if opts.allow_logging_gap {
                            format!(
                                "the old one is deleted before the new one is created (--allow-logging-gap): {} is not logged by this entry between the two calls",
                                spec.resource_id
                            )
                        } else {
                            "the new one is created and confirmed before the old one is deleted"
                                .to_string()
                        };
                        changes.push(flow_log_change(
                            Action::Replace,
                            region,
                            &old.id,
                            &spec.resource_id,
                            format!(
                                "flow logs cannot be modified and {} changed: {order}",
                                names.join(", ")
                            ),
                            attrs,
                            Operation::ReplaceFlowLog {
                                old_id: old.id.clone(),
                                spec: spec.clone(),
                                delete_first: opts.allow_logging_gap,
                            },
                        ));
                        for stale in same.iter().skip(1) {
                            accounted.insert(&stale.id);
                            changes.push(flow_log_change(
                                Action::Delete,
                                region,
                                &stale.id,
                                &spec.resource_id,
                                format!(
                                    "duplicate of {} for the same entry and destination",
                                    old.id
                                ),
                                Vec::new(),
                                Operation::DeleteFlowLog {
                                    id: stale.id.clone(),
                                },
                            ));
                        }
                    }
                    None if let Some(twin) = unqualified_twin(existing, &spec) => {
                        plan.problems.push(twin_problem(region, twin, &spec));
                    }
                    None => {
                        let attrs = vec![
                            AttributeDiff::new(
                                "destination",
                                None,
                                Some(spec.settings.destination.describe()),
                            ),
                            AttributeDiff::new(
                                "traffic_type",
                                None,
                                Some(spec.settings.traffic_type.api_name().into()),
                            ),
                            AttributeDiff::new(
                                "log_format",
                                None,
                                Some(spec.settings.log_format.to_string()),
                            ),
                            AttributeDiff::new(
                                "max_aggregation_interval",
                                None,
                                Some(spec.settings.max_aggregation_interval.to_string()),
                            ),
                        ];
                        changes.push(flow_log_change(
                            Action::Create,
                            region,
                            &spec.resource_id,
                            &spec.resource_id,
                            format!(
                                "no flow log of entry `{}` to `{}`",
                                spec.entry, spec.destination_name
                            ),
                            attrs,
                            Operation::CreateFlowLog { spec: spec.clone() },
                        ));
                    }
                },
            }
            for mut c in changes {
                if matches!(c.action, Action::Create | Action::Replace) {
                    c.depends_on = depends_on.clone();
                }
                plan.changes.push(c);
            }
        }
        for fl in existing
            .iter()
            .filter(|fl| fl.is_managed() && !accounted.contains(fl.id.as_str()))
        {
            if opts.prune {
                plan.changes.push(flow_log_change(
                    Action::Delete,
                    region,
                    &fl.id,
                    &fl.resource_id,
                    format!(
                        "managed by flowkeeper (entry `{}`) and no longer in the config",
                        fl.entry().unwrap_or("?")
                    ),
                    Vec::new(),
                    Operation::DeleteFlowLog { id: fl.id.clone() },
                ));
            } else {
                plan.prunable.push(Prunable {
                    region: region.clone(),
                    flow_log_id: fl.id.clone(),
                    resource: fl.resource_id.clone(),
                });
            }
        }
    }
}

/// Ids named in `select.ids` that exist in none of the regions.
/// Records, for each id named in `select.ids`, whether this account has it in any region.
/// Ids belong to one account, so only the whole run can say one is missing
/// ([`super::missing_selected_ids`]).
fn record_selected_ids(desired: &DesiredState, inv: &Inventory, plan: &mut Plan) {
    for entry in &desired.flow_logs {
        let Selector::Ids(ids) = &entry.select else {
            continue;
        };
        for id in ids {
            let found = inv
                .regions
                .values()
                .any(|ri| ri.resources.iter().any(|x| &x.id == id));
            let slot = plan
                .selected_ids
                .entry((entry.name.clone(), id.clone()))
                .or_insert(false);
            *slot |= found;
        }
    }
}
