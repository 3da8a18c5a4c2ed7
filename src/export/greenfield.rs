//! The greenfield inventory export plans against: the account's real VPCs, subnets and network
//! interfaces (with their tags, so tag and `all` selections resolve to real ids), but no flow
//! logs, log groups or roles, and every `create: true` bucket missing. Planned against it, the
//! config yields exactly the operations `apply` would run in an empty account.

use std::collections::BTreeMap;

use crate::model::{BucketLookup, BucketState, Inventory, RegionInventory};
use crate::plan::Resolved;

/// A copy of `inv` with its network resources only, and the destination resources of
/// `resolved` as not yet made. A `create: false` bucket exists (it is the user's), without a
/// policy, so the planner asks for flowkeeper's statements on it.
pub fn greenfield(inv: &Inventory, resolved: &Resolved) -> Inventory {
    Inventory {
        account: inv.account.clone(),
        regions: inv
            .regions
            .iter()
            .map(|(region, ri)| {
                (
                    region.clone(),
                    RegionInventory {
                        resources: ri.resources.clone(),
                        flow_logs: Vec::new(),
                        log_groups: BTreeMap::new(),
                    },
                )
            })
            .collect(),
        buckets: resolved
            .buckets
            .values()
            .map(|b| {
                let lookup = if b.create {
                    BucketLookup::Missing
                } else {
                    BucketLookup::Exists(BucketState {
                        name: b.name.clone(),
                        region: b.region.clone(),
                        policy: None,
                        public_access_block: None,
                        object_ownership: None,
                        encryption: None,
                        lifecycle_rules: Vec::new(),
                    })
                };
                (b.name.clone(), lookup)
            })
            .collect(),
        roles: resolved.roles.keys().map(|n| (n.clone(), None)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, LogGroupState, NetworkResource, ResourceKind};
    use crate::plan::{PlanContext, resolve};

    const CONFIG: &str = r#"version: 1
regions: [us-east-1]
destinations:
  mine: { type: s3, bucket: "logs-{account_id}", create: true }
  theirs: { type: s3, bucket: existing-bucket }
  cw: { type: cloudwatch-logs, log_group: /fk/flows }
flow_logs:
  - { name: vpcs, resource: vpc, select: all, destinations: [mine, theirs, cw] }
"#;

    #[test]
    fn keeps_resources_and_forgets_everything_flowkeeper_would_make() {
        let d = crate::config::parse(std::path::Path::new("t.yaml"), CONFIG).unwrap();
        let account = AccountId::parse("111122223333").unwrap();
        let regions = vec!["us-east-1".to_string()];
        let r = resolve(
            &d,
            &account,
            &PlanContext::single(&account),
            &regions,
            &regions,
        );
        let vpc = NetworkResource::new("vpc-1", ResourceKind::Vpc);
        let mut real = Inventory {
            account: account.clone(),
            regions: [(
                "us-east-1".to_string(),
                RegionInventory {
                    resources: vec![vpc.clone()],
                    flow_logs: Vec::new(),
                    log_groups: [(
                        "/fk/flows".to_string(),
                        LogGroupState {
                            name: "/fk/flows".into(),
                            retention_days: Some(1),
                            kms_key: None,
                        },
                    )]
                    .into(),
                },
            )]
            .into(),
            buckets: [("logs-111122223333".to_string(), BucketLookup::Foreign)].into(),
            roles: BTreeMap::new(),
        };
        real.roles.insert("flowkeeper-delivery".into(), None);
        let g = greenfield(&real, &r);
        let ri = &g.regions["us-east-1"];
        assert_eq!(ri.resources, vec![vpc]);
        assert!(ri.log_groups.is_empty() && ri.flow_logs.is_empty());
        assert_eq!(g.buckets["logs-111122223333"], BucketLookup::Missing);
        assert!(matches!(
            &g.buckets["existing-bucket"],
            BucketLookup::Exists(s) if s.policy.is_none()
        ));
        assert_eq!(g.roles["flowkeeper-delivery"], None);
    }
}
