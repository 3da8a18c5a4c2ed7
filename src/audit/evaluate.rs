//! One account-region's verdicts: which requirements hold on each resource (a baseline's, by
//! resource kind; or config entries', by selection and containment), each evaluated by
//! [`crate::coverage`], then the status: out-of-scope, shared, unused, compliant or not.

use std::collections::{BTreeMap, BTreeSet};

use super::report::{Control, Reason, ResourceVerdict, Status, SummaryRow};
use crate::coverage::{self, RegionIndex, Requirement};
use crate::model::{FlowLogEntry, NetworkResource, RegionInventory, ResourceKind};

/// A requirement with what it is called in reasons and the controls each reason code breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    /// `entry `all-vpcs` → `archive`` in config mode; None for a baseline (its name is the
    /// report's).
    pub label: Option<String>,
    /// What `ResourceVerdict::requirement` lists: the entry or the baseline name.
    pub name: String,
    pub requirement: Requirement,
    pub controls: BTreeMap<String, Vec<Control>>,
}

/// What resources of one region are held to.
pub enum Scope<'a> {
    /// Every resource of these kinds, to one requirement.
    Baseline {
        kinds: &'a BTreeSet<ResourceKind>,
        held: Held,
    },
    /// Each entry × destination holds on what the entry selects and everything inside it.
    Entries(Vec<(&'a FlowLogEntry, Held)>),
}

impl Scope<'_> {
    /// The requirements on `r`.
    fn on<'s>(&'s self, r: &NetworkResource, idx: &RegionIndex) -> Vec<&'s Held> {
        match self {
            Scope::Baseline { kinds, held } => {
                if kinds.contains(&r.kind) {
                    vec![held]
                } else {
                    Vec::new()
                }
            }
            Scope::Entries(entries) => entries
                .iter()
                .filter(|(e, _)| selects_or_contains(e, r, idx))
                .map(|(_, h)| h)
                .collect(),
        }
    }
}

/// Whether `entry` selects `r` or a resource `r` is inside (its subnet or VPC).
pub fn selects_or_contains(entry: &FlowLogEntry, r: &NetworkResource, idx: &RegionIndex) -> bool {
    let selects = |x: &NetworkResource| x.kind == entry.resource && entry.selects(&x.id, &x.tags);
    selects(r)
        || idx
            .ancestors(r)
            .iter()
            .filter_map(|a| idx.resource(a))
            .any(selects)
}

/// How verdicts become statuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--include-unused`: an unused VPC (and what is inside it) is compliant or
    /// non-compliant like any other resource (Security Hub's and Prowler's
    /// `--scan-unused-services` count), not `unused`.
    pub include_unused: bool,
}

/// The verdict on every VPC, subnet and network interface of one region.
pub fn evaluate_region(
    account: &str,
    region: &str,
    ri: &RegionInventory,
    scope: &Scope,
) -> Vec<ResourceVerdict> {
    evaluate_region_with(account, region, ri, scope, Options::default())
}

/// [`evaluate_region`] with [`Options`].
pub fn evaluate_region_with(
    account: &str,
    region: &str,
    ri: &RegionInventory,
    scope: &Scope,
    opts: Options,
) -> Vec<ResourceVerdict> {
    let idx = RegionIndex::new(ri).at(account, region);
    ri.resources
        .iter()
        .map(|r| verdict(account, region, r, &idx, &scope.on(r, &idx), opts))
        .collect()
}

/// Whether `r` is, or is inside, a VPC without network interfaces (nothing to log yet).
fn in_unused_vpc(r: &NetworkResource, idx: &RegionIndex) -> bool {
    let vpc = match r.kind {
        ResourceKind::Vpc => Some(r.id.as_str()),
        _ => r.vpc_id.as_deref(),
    };
    r.kind != ResourceKind::NetworkInterface && vpc.is_some_and(|v| idx.interface_count(v) == 0)
}

fn verdict(
    account: &str,
    region: &str,
    r: &NetworkResource,
    idx: &RegionIndex,
    held: &[&Held],
    opts: Options,
) -> ResourceVerdict {
    let mut reasons = Vec::new();
    let mut flow_log_ids = BTreeSet::new();
    let mut met = true;
    for h in held {
        let cov = coverage::evaluate(r, idx, &h.requirement);
        flow_log_ids.extend(cov.considered.iter().cloned());
        if cov.is_covered() {
            continue;
        }
        met = false;
        let foreign_owner = r.owner_id.as_deref().filter(|o| *o != account);
        for gap in &cov.gaps {
            let mut text = gap.text(r);
            if let (Some(owner), coverage::Gap::NoFlowLog) = (foreign_owner, gap) {
                text.push_str(&format!(
                    " visible from this account (flow logs that its owner {owner} created are not visible here)"
                ));
            }
            reasons.push(Reason {
                code: gap.code().to_string(),
                text: match &h.label {
                    Some(l) => format!("{l}: {text}"),
                    None => text,
                },
                controls: h.controls.get(gap.code()).cloned().unwrap_or_default(),
                flow_log_id: gap.flow_log_id().map(str::to_string),
            });
        }
    }
    let shared = r.owner_id.as_deref().is_some_and(|o| o != account);
    let unused = !opts.include_unused && in_unused_vpc(r, idx);
    let (status, compliant) = if held.is_empty() {
        (Status::OutOfScope, None)
    } else if shared {
        (Status::Shared, Some(met))
    } else if unused {
        (Status::Unused, Some(met))
    } else if met {
        (Status::Compliant, Some(true))
    } else {
        (Status::NonCompliant, Some(false))
    };
    let mut requirement: Vec<String> = held.iter().map(|h| h.name.clone()).collect();
    requirement.dedup();
    ResourceVerdict {
        account: account.to_string(),
        region: region.to_string(),
        resource_type: r.kind,
        resource_id: r.id.clone(),
        owner: r.owner_id.clone(),
        vpc_id: match r.kind {
            ResourceKind::Vpc => Some(r.id.clone()),
            _ => r.vpc_id.clone(),
        },
        subnet_id: match r.kind {
            ResourceKind::Subnet => Some(r.id.clone()),
            _ => r.subnet_id.clone(),
        },
        status,
        compliant,
        reasons: if held.is_empty() { Vec::new() } else { reasons },
        flow_log_ids: flow_log_ids.into_iter().collect(),
        requirement,
    }
}

/// Sorts verdicts by (account, region, VPC, resource type, id).
pub fn sort(v: &mut [ResourceVerdict]) {
    v.sort_by(|a, b| {
        (
            &a.account,
            &a.region,
            &a.vpc_id,
            a.resource_type,
            &a.resource_id,
        )
            .cmp(&(
                &b.account,
                &b.region,
                &b.vpc_id,
                b.resource_type,
                &b.resource_id,
            ))
    });
}

/// One summary row per account and region that has verdicts, plus `extra` (audited regions
/// with no resources at all), sorted.
pub fn summarize(v: &[ResourceVerdict], audited: &[(String, String)]) -> Vec<SummaryRow> {
    let mut rows: BTreeMap<(String, String), SummaryRow> = audited
        .iter()
        .map(|(a, r)| {
            (
                (a.clone(), r.clone()),
                SummaryRow {
                    account: a.clone(),
                    region: r.clone(),
                    ..SummaryRow::default()
                },
            )
        })
        .collect();
    for x in v {
        let row = rows
            .entry((x.account.clone(), x.region.clone()))
            .or_insert_with(|| SummaryRow {
                account: x.account.clone(),
                region: x.region.clone(),
                ..SummaryRow::default()
            });
        row.resources += 1;
        match x.status {
            Status::Compliant => row.compliant += 1,
            Status::NonCompliant => row.non_compliant += 1,
            Status::Shared => row.shared += 1,
            Status::Unused => {
                row.unused += 1;
                if x.resource_type == ResourceKind::Vpc && x.compliant == Some(false) {
                    row.unused_non_compliant += 1;
                }
            }
            Status::OutOfScope => row.out_of_scope += 1,
        }
    }
    rows.into_values()
        .map(|mut r| {
            let judged = r.compliant + r.non_compliant;
            r.coverage_percent =
                (judged > 0).then(|| (r.compliant as f64) * 100.0 / (judged as f64));
            r
        })
        .collect()
}

#[cfg(test)]
mod tests;
