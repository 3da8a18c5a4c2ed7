//! Which flow logs a verification covers, from what discovery read. Default: those the
//! config declares (managed flow logs of its entries that the plan keeps, and unmanaged ones
//! the plan counts as covering a wanted resource), plus the wanted ones that do not exist yet;
//! `--all`: every flow log of the targets. Pure.

use std::collections::BTreeMap;

use crate::model::{
    AccountId, DESTINATION_TAG_KEY, DesiredState, Destination, ExistingFlowLog, FlowLogSpec,
    RegionInventory, ResourceKind, partition_of,
};
use crate::plan::{Action, Operation, Plan, ResourceType};

use super::facts::Subject;

/// Why a flow log is in scope under a config: its entry and destination names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub entry: String,
    pub destination: Option<String>,
}

/// The config's view of one account's flow logs: (region, flow log id) → why it is declared,
/// and the wanted flow logs that do not exist, by region.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Declaration {
    pub declared: BTreeMap<(String, String), Declared>,
    pub missing: Vec<(String, FlowLogSpec)>,
}

/// Reads the declaration off an account's plan and the inventory it was made from.
pub fn declared(
    desired: &DesiredState,
    plan: &Plan,
    regions: &BTreeMap<String, RegionInventory>,
) -> Declaration {
    let mut out = Declaration::default();
    let entries: Vec<&str> = desired.flow_logs.iter().map(|e| e.name.as_str()).collect();
    let mut gone: Vec<(&str, &str)> = Vec::new();
    for c in &plan.changes {
        if c.resource_type != ResourceType::FlowLog {
            continue;
        }
        let region = c.region.as_deref().unwrap_or_default();
        match (&c.action, &c.operation) {
            (Action::Create, Operation::CreateFlowLog { spec }) => {
                out.missing.push((region.to_string(), spec.clone()))
            }
            (Action::Delete, Operation::DeleteFlowLog { id }) => gone.push((region, id)),
            _ => {}
        }
    }
    for (region, ri) in regions {
        for fl in ri.flow_logs.iter().filter(|fl| fl.is_managed()) {
            let Some(entry) = fl.entry().filter(|e| entries.contains(e)) else {
                continue;
            };
            let pruned = plan
                .prunable
                .iter()
                .any(|p| p.flow_log_id == fl.id && &p.region == region);
            if pruned || gone.contains(&(region.as_str(), fl.id.as_str())) {
                continue;
            }
            out.declared.insert(
                (region.clone(), fl.id.clone()),
                Declared {
                    entry: entry.to_string(),
                    destination: fl.tags.get(DESTINATION_TAG_KEY).cloned(),
                },
            );
        }
    }
    for c in &plan.covered {
        out.declared
            .entry((c.region.clone(), c.flow_log_id.clone()))
            .or_insert_with(|| Declared {
                entry: c.entry.clone(),
                destination: Some(c.destination.clone()),
            });
    }
    out
}

/// The network interfaces a flow log on `resource` covers.
pub fn interfaces_under(ri: &RegionInventory, resource: &str) -> Vec<String> {
    let mut out: Vec<String> = ri
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::NetworkInterface)
        .filter(|r| {
            r.id == resource
                || r.vpc_id.as_deref() == Some(resource)
                || r.subnet_id.as_deref() == Some(resource)
        })
        .map(|r| r.id.clone())
        .collect();
    out.sort();
    out
}

/// The subject for one flow log.
pub fn subject(
    account: &AccountId,
    region: &str,
    ri: &RegionInventory,
    fl: &ExistingFlowLog,
    declared: Option<&Declared>,
) -> Subject {
    Subject {
        account: account.to_string(),
        region: region.to_string(),
        partition: partition_of(region).to_string(),
        flow_log: fl.clone(),
        entry: declared
            .map(|d| d.entry.clone())
            .or_else(|| fl.entry().map(str::to_string)),
        config_managed: declared.is_some(),
        interfaces: Some(interfaces_under(ri, &fl.resource_id)),
        org_id: None,
    }
}

/// The account expected to own a declared flow log's bucket: the destination's `account`
/// when the config names one, else the flow log's own account.
pub fn expected_owner(
    desired: &DesiredState,
    account: &AccountId,
    d: Option<&Declared>,
) -> Option<String> {
    let d = d?;
    let central = d
        .destination
        .as_ref()
        .and_then(|name| desired.destinations.get(name))
        .and_then(|dest| match dest {
            Destination::S3(s3) => s3.account.clone(),
            Destination::CloudwatchLogs(_) => None,
        });
    Some(central.unwrap_or_else(|| account.clone()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AggregationInterval, BucketLookup, FlowLogDestination, FlowLogHealth, FlowLogSettings,
        Inventory, LogFormat, NetworkResource, S3Options, TrafficType,
    };
    use crate::plan::{PlanContext, PlanOptions};

    const CONFIG: &str = r#"version: 1
regions: [us-east-1]
destinations:
  archive:
    type: s3
    bucket: logs-{account_id}
    prefix: vpc
    create: true
flow_logs:
  - name: vpcs
    resource: vpc
    select: all
    destinations: [archive]
"#;

    fn flow_log(id: &str, vpc: &str, tags: &[(&str, &str)]) -> ExistingFlowLog {
        ExistingFlowLog {
            id: id.into(),
            resource_id: vpc.into(),
            settings: FlowLogSettings {
                traffic_type: TrafficType::All,
                destination: FlowLogDestination::S3 {
                    arn: "arn:aws:s3:::logs-111122223333/vpc".into(),
                    options: S3Options::default(),
                },
                log_format: LogFormat::default_v2(),
                max_aggregation_interval: AggregationInterval::TenMinutes,
                unreadable: Default::default(),
            },
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created: None,
            // Only an ACTIVE unmanaged flow log counts as covering (the coverage model).
            health: FlowLogHealth {
                status: Some("ACTIVE".into()),
                deliver_status: Some("SUCCESS".into()),
                deliver_error: None,
            },
        }
    }

    #[test]
    fn the_config_declares_kept_and_covered_flow_logs_and_misses_the_ones_to_create() {
        let desired = crate::config::parse(std::path::Path::new("t.yaml"), CONFIG)
            .unwrap_or_else(|d| panic!("{d}"));
        let account = AccountId::parse("111122223333").unwrap();
        let managed = [
            ("managed-by", "flowkeeper"),
            ("flowkeeper:entry", "vpcs"),
            ("flowkeeper:destination", "archive"),
        ];
        let old_entry = [("managed-by", "flowkeeper"), ("flowkeeper:entry", "old")];
        let ri = RegionInventory {
            resources: ["vpc-1", "vpc-2", "vpc-3"]
                .into_iter()
                .map(|v| NetworkResource::new(v, ResourceKind::Vpc))
                .collect(),
            flow_logs: vec![
                flow_log("fl-kept", "vpc-1", &managed),
                flow_log("fl-foreign", "vpc-3", &[]),
                flow_log("fl-old", "vpc-3", &old_entry),
            ],
            ..Default::default()
        };
        let inv = Inventory {
            account: account.clone(),
            regions: [("us-east-1".to_string(), ri)].into(),
            buckets: [("logs-111122223333".to_string(), BucketLookup::Missing)].into(),
            roles: Default::default(),
        };
        let ctx = PlanContext {
            source_accounts: [account.clone()].into(),
            org_id: None,
        };
        let regions = vec!["us-east-1".to_string()];
        let plan = crate::plan::plan(
            &desired,
            &ctx,
            &regions,
            &regions,
            &inv,
            PlanOptions::default(),
        );
        let d = declared(&desired, &plan, &inv.regions);
        let ids: Vec<&str> = d.declared.keys().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["fl-foreign", "fl-kept"], "{plan:#?}");
        assert_eq!(
            d.declared[&("us-east-1".into(), "fl-kept".into())]
                .destination
                .as_deref(),
            Some("archive")
        );
        let missing: Vec<&str> = d
            .missing
            .iter()
            .map(|(_, s)| s.resource_id.as_str())
            .collect();
        assert_eq!(missing, ["vpc-2"]);
        assert_eq!(
            expected_owner(&desired, &account, d.declared.values().next()).as_deref(),
            Some("111122223333")
        );
    }

    #[test]
    fn interfaces_are_found_by_vpc_subnet_or_id() {
        let mut eni = NetworkResource::new("eni-1", ResourceKind::NetworkInterface);
        eni.vpc_id = Some("vpc-1".into());
        eni.subnet_id = Some("subnet-1".into());
        let ri = RegionInventory {
            resources: vec![eni, NetworkResource::new("vpc-2", ResourceKind::Vpc)],
            ..Default::default()
        };
        assert_eq!(interfaces_under(&ri, "vpc-1"), ["eni-1"]);
        assert_eq!(interfaces_under(&ri, "subnet-1"), ["eni-1"]);
        assert_eq!(interfaces_under(&ri, "eni-1"), ["eni-1"]);
        assert!(interfaces_under(&ri, "vpc-2").is_empty());
    }
}
