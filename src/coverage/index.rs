//! A region's resources and flow logs arranged for coverage: each resource's ancestors (network
//! interface → subnet → VPC, from the resources' own `subnet_id`/`vpc_id`) and the flow logs on
//! each resource.

use std::collections::BTreeMap;

use crate::model::{ExistingFlowLog, NetworkResource, RegionInventory, ResourceKind};

/// Lookups over one region's inventory (borrowed; built once per region).
pub struct RegionIndex<'a> {
    resources: BTreeMap<&'a str, &'a NetworkResource>,
    flow_logs: BTreeMap<&'a str, Vec<&'a ExistingFlowLog>>,
    subnets: BTreeMap<&'a str, Vec<&'a NetworkResource>>,
    interfaces: BTreeMap<&'a str, usize>,
    /// Network interfaces by the VPC and by the subnet they are in.
    interfaces_in: BTreeMap<&'a str, Vec<&'a NetworkResource>>,
    /// The account and region the inventory was read from, when known ([`RegionIndex::at`]).
    home: Option<(&'a str, &'a str)>,
}

impl<'a> RegionIndex<'a> {
    pub fn new(ri: &'a RegionInventory) -> Self {
        Self::from_parts(&ri.resources, &ri.flow_logs)
    }

    pub fn from_parts(resources: &'a [NetworkResource], flow_logs: &'a [ExistingFlowLog]) -> Self {
        let mut idx = RegionIndex {
            resources: BTreeMap::new(),
            flow_logs: BTreeMap::new(),
            subnets: BTreeMap::new(),
            interfaces: BTreeMap::new(),
            interfaces_in: BTreeMap::new(),
            home: None,
        };
        for r in resources {
            idx.resources.insert(&r.id, r);
            match (r.kind, r.vpc_id.as_deref()) {
                (ResourceKind::Subnet, Some(vpc)) => idx.subnets.entry(vpc).or_default().push(r),
                (ResourceKind::NetworkInterface, Some(vpc)) => {
                    *idx.interfaces.entry(vpc).or_default() += 1;
                    idx.interfaces_in.entry(vpc).or_default().push(r);
                    if let Some(s) = r.subnet_id.as_deref() {
                        idx.interfaces_in.entry(s).or_default().push(r);
                    }
                }
                _ => {}
            }
        }
        for fl in flow_logs {
            idx.flow_logs.entry(&fl.resource_id).or_default().push(fl);
        }
        for v in idx.flow_logs.values_mut() {
            v.sort_by(|a, b| a.id.cmp(&b.id));
        }
        idx
    }

    /// The index of the region `region` of `account`: a log group there is then also known by
    /// its ARN (approved patterns may name it so, and reasons print it in full).
    pub fn at(mut self, account: &'a str, region: &'a str) -> Self {
        self.home = Some((account, region));
        self
    }

    /// (account, region) when known.
    pub fn home(&self) -> Option<(&'a str, &'a str)> {
        self.home
    }

    pub fn resource(&self, id: &str) -> Option<&'a NetworkResource> {
        self.resources.get(id).copied()
    }

    /// The resource's subnet (interfaces) and VPC (subnets, interfaces), nearest first.
    pub fn ancestors(&self, r: &NetworkResource) -> Vec<String> {
        let mut out = Vec::new();
        if r.kind == ResourceKind::NetworkInterface
            && let Some(s) = &r.subnet_id
        {
            out.push(s.clone());
        }
        let vpc = r.vpc_id.clone().or_else(|| {
            // A subnet or interface read without its VPC id: ask its subnet.
            r.subnet_id
                .as_deref()
                .and_then(|s| self.resource(s))
                .and_then(|s| s.vpc_id.clone())
        });
        if r.kind != ResourceKind::Vpc
            && let Some(v) = vpc
        {
            out.push(v);
        }
        out
    }

    pub fn flow_logs_on(&self, id: &str) -> &[&'a ExistingFlowLog] {
        self.flow_logs.get(id).map_or(&[], Vec::as_slice)
    }

    /// The flow logs that can cover `r`, each with the resource it sits on: its own, then its
    /// subnet's, then its VPC's.
    pub fn candidates<'s>(
        &'s self,
        r: &'s NetworkResource,
    ) -> impl Iterator<Item = (String, &'a ExistingFlowLog)> + 's {
        std::iter::once(r.id.clone())
            .chain(self.ancestors(r))
            .flat_map(move |on| {
                self.flow_logs_on(&on)
                    .iter()
                    .map(move |fl| (on.clone(), *fl))
                    .collect::<Vec<_>>()
            })
    }

    /// The subnets of a VPC in this region, by id.
    pub fn subnets_of(&self, vpc: &str) -> Vec<&'a NetworkResource> {
        let mut v = self.subnets.get(vpc).cloned().unwrap_or_default();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// The network interfaces in a VPC or a subnet.
    pub fn interfaces_in(&self, vpc_or_subnet: &str) -> &[&'a NetworkResource] {
        self.interfaces_in
            .get(vpc_or_subnet)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// How many network interfaces the VPC has in this region.
    pub fn interface_count(&self, vpc: &str) -> usize {
        self.interfaces.get(vpc).copied().unwrap_or(0)
    }

    /// Whether `inner` is `outer` or inside it (a subnet or interface of a VPC, an interface
    /// of a subnet).
    pub fn contains(&self, outer: &NetworkResource, inner: &NetworkResource) -> bool {
        outer.id == inner.id || self.ancestors(inner).contains(&outer.id)
    }
}
