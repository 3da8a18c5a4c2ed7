//! The planner: pure and synchronous. (desired state, inventory) → [`Plan`], in a deterministic
//! order, each change with its reason and the attributes that differ. It never calls AWS; the
//! executor in `apply` carries out exactly what it returns.

mod destinations;
mod flow_logs;
mod resolve;
mod types;

pub use destinations::{INLINE_POLICY_NAME, bucket_policy_statements, role_policies};
pub use resolve::{PlanContext, Resolved, WantedBucket, WantedLogGroup, WantedRole, resolve};
pub use types::*;

use crate::model::{DesiredState, Inventory};

/// Planner switches from the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Delete managed flow logs that the config no longer wants.
    pub prune: bool,
    /// Replace flow logs delete-then-create (a gap in logging), for when AWS refuses a second
    /// flow log to the same destination while the old one exists.
    pub allow_logging_gap: bool,
}

/// Computes the changes that make `inventory` match `desired` for one account in `regions`;
/// account-wide resources are computed from `all_regions`, every region the config covers there.
pub fn plan(
    desired: &DesiredState,
    ctx: &PlanContext,
    all_regions: &[String],
    regions: &[String],
    inventory: &Inventory,
    opts: PlanOptions,
) -> Plan {
    let resolved = resolve(desired, &inventory.account, ctx, all_regions, regions);
    let mut plan = Plan::new(inventory.account.clone());
    plan.regions = regions.to_vec();
    plan.problems.extend(resolved.problems.iter().cloned());
    let unavailable = destinations::plan_destinations(&resolved, inventory, &mut plan);
    flow_logs::plan_flow_logs(
        desired,
        &resolved,
        regions,
        inventory,
        &unavailable,
        opts,
        &mut plan,
    );
    plan.sort();
    plan
}

/// Ids named in `select.ids` that no account of the run has, in any of its regions.
pub fn missing_selected_ids(plans: &[&Plan]) -> Vec<Problem> {
    let mut seen: std::collections::BTreeMap<&(String, String), bool> = Default::default();
    for p in plans {
        for (key, found) in &p.selected_ids {
            *seen.entry(key).or_insert(false) |= *found;
        }
    }
    seen.into_iter()
        .filter(|(_, found)| !found)
        .map(|((entry, id), _)| Problem {
            region: None,
            subject: format!("flow_logs entry `{entry}`"),
            message: format!("{id} was not found in any account or region of this run"),
            hint: Some("check the id, the `regions` list and the accounts".into()),
        })
        .collect()
}

#[cfg(test)]
mod coverage_tests;
#[cfg(test)]
mod resolve_tests;
#[cfg(test)]
mod tests;
