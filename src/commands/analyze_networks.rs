//! What `analyze` counts as "ours" from AWS: with `--discover`, every VPC's IPv4 and IPv6
//! CIDR blocks (DescribeVpcs) and middlebox interfaces (NAT gateways, load balancers, gateway
//! load balancer endpoints, transit gateway attachments; DescribeNetworkInterfaces) of the
//! current account in `--regions`, else the config's regions, else `--region`; with
//! `--flow-log`, the CIDRs of the flow log's VPC (its resource, or the VPC of its subnet or
//! interface). The blocks go into the rule pack (`add_internal`, `add_middleboxes`,
//! `add_nat_gateways`); nothing here classifies a record.

use flowkeeper_analyze::RulePack;
use flowkeeper_analyze::addr::Cidr;

use crate::aws::networks::{self, MiddleboxEni, VpcCidrs};
use crate::aws::{Aws, ec2};
use crate::model::ResourceKind;
use crate::model::accounts::Regions;
use crate::settings::Settings;

/// What was found, to add to the pack and to say on stderr.
#[derive(Debug, Default)]
pub struct Discovered {
    pub vpcs: usize,
    pub internal: Vec<Cidr>,
    pub middleboxes: Vec<Cidr>,
    pub nat_gateways: Vec<Cidr>,
    /// Blocks or addresses AWS returned that do not parse (named, and left out).
    pub unreadable: Vec<String>,
}

impl Discovered {
    fn add_vpcs(&mut self, vpcs: &[VpcCidrs], region: &str) {
        self.vpcs += vpcs.len();
        for v in vpcs {
            for block in v.ipv4.iter().chain(&v.ipv6) {
                match Cidr::parse(block) {
                    Ok(c) => self.internal.push(c),
                    Err(e) => self
                        .unreadable
                        .push(format!("{region} {}: CIDR `{block}`: {e}", v.vpc_id)),
                }
            }
        }
    }

    fn add_middleboxes(&mut self, enis: &[MiddleboxEni], region: &str) {
        for eni in enis {
            for a in &eni.addresses {
                match Cidr::parse(a) {
                    Ok(c) if matches!(eni.kind.as_str(), "nat_gateway" | "natGateway") => {
                        self.nat_gateways.push(c)
                    }
                    Ok(c) => self.middleboxes.push(c),
                    Err(e) => self
                        .unreadable
                        .push(format!("{region} {}: address `{a}`: {e}", eni.id)),
                }
            }
        }
    }

    /// Adds everything to the pack.
    pub fn apply(self, pack: &mut RulePack) {
        pack.add_internal(self.internal);
        pack.add_middleboxes(self.middleboxes);
        pack.add_nat_gateways(self.nat_gateways);
    }

    /// `3 VPCs, 5 CIDR blocks, 2 middlebox addresses`.
    pub fn describe(&self) -> String {
        use flowkeeper_analyze::text::count;
        format!(
            "{}, {}, {}",
            count(self.vpcs as u64, "VPC", "VPCs"),
            count(self.internal.len() as u64, "CIDR block", "CIDR blocks"),
            count(
                (self.middleboxes.len() + self.nat_gateways.len()) as u64,
                "middlebox address",
                "middlebox addresses"
            )
        )
    }
}

/// The regions `--discover` looks in: `--regions`, else the config's (when a config is
/// used), else the default region.
pub async fn discover_regions(flags: &Settings, aws: &Aws) -> Result<Vec<String>, String> {
    if let Some(r) = &flags.filters.regions {
        return Ok(r.clone());
    }
    let default = || {
        aws.default_region().map(|r| vec![r]).ok_or_else(|| {
            "--discover needs a region: give --regions, --region or AWS_REGION".to_string()
        })
    };
    if !(flags.config_given || flags.config.exists()) {
        return default();
    }
    let desired = crate::config::load(&flags.config).map_err(|d| d.to_string())?;
    match desired.regions {
        Regions::List(list) => Ok(list),
        Regions::Default => default(),
        Regions::All => ec2::enabled_regions(&aws.default_clients().ec2)
            .await
            .map_err(|e| format!("--discover: cannot list the enabled regions: {e}")),
    }
}

/// Every VPC and middlebox of the current account in `regions`.
pub async fn discover(aws: &Aws, regions: &[String]) -> Result<Discovered, String> {
    let mut found = Discovered::default();
    for region in regions {
        let ec2 = aws.clients(region).ec2;
        let vpcs = networks::describe_vpc_cidrs(&ec2, None)
            .await
            .map_err(|e| format!("--discover in {region}: {e}"))?;
        found.add_vpcs(&vpcs, region);
        let enis = networks::describe_middlebox_enis(&ec2, None)
            .await
            .map_err(|e| format!("--discover in {region}: {e}"))?;
        found.add_middleboxes(&enis, region);
    }
    Ok(found)
}

/// The VPC a flow log's resource is in: the resource itself (`vpc-…`), or the VPC of its
/// subnet or interface; `None` for other resources (a transit gateway).
async fn vpc_of(ec2: &ec2::Ec2, resource: &str) -> Result<Option<String>, String> {
    let kind = if resource.starts_with("vpc-") {
        return Ok(Some(resource.to_string()));
    } else if resource.starts_with("subnet-") {
        ResourceKind::Subnet
    } else if resource.starts_with("eni-") {
        ResourceKind::NetworkInterface
    } else {
        return Ok(None);
    };
    let found = ec2::describe_resources(ec2, kind, Some(&[resource.to_string()]))
        .await
        .map_err(|e| format!("cannot find the VPC of {resource}: {e}"))?;
    Ok(found.into_iter().find_map(|r| r.vpc_id))
}

/// The CIDRs and middleboxes of the VPC a flow log records (`resource` is its resource id).
pub async fn of_flow_log(
    ec2: &ec2::Ec2,
    region: &str,
    resource: &str,
) -> Result<Discovered, String> {
    let mut found = Discovered::default();
    let Some(vpc) = vpc_of(ec2, resource).await? else {
        return Ok(found);
    };
    let ids = [vpc];
    let vpcs = networks::describe_vpc_cidrs(ec2, Some(&ids))
        .await
        .map_err(|e| format!("cannot read the CIDRs of {}: {e}", ids[0]))?;
    found.add_vpcs(&vpcs, region);
    let enis = networks::describe_middlebox_enis(ec2, Some(&ids))
        .await
        .map_err(|e| format!("cannot read the middleboxes of {}: {e}", ids[0]))?;
    found.add_middleboxes(&enis, region);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_addresses_are_parsed_and_bad_ones_named() {
        let mut d = Discovered::default();
        d.add_vpcs(
            &[VpcCidrs {
                vpc_id: "vpc-1".into(),
                ipv4: vec!["10.0.0.0/16".into(), "bogus".into()],
                ipv6: vec!["2600:1f18:1:200::/56".into()],
            }],
            "us-east-1",
        );
        d.add_middleboxes(
            &[
                MiddleboxEni {
                    id: "eni-nat".into(),
                    vpc_id: Some("vpc-1".into()),
                    kind: "nat_gateway".into(),
                    addresses: vec!["10.0.0.220".into()],
                },
                MiddleboxEni {
                    id: "eni-nlb".into(),
                    vpc_id: Some("vpc-1".into()),
                    kind: "network_load_balancer".into(),
                    addresses: vec!["10.0.1.7".into(), "2600:1f18:1:201::7".into()],
                },
            ],
            "us-east-1",
        );
        assert_eq!(d.vpcs, 1);
        assert_eq!(d.internal.len(), 2);
        assert_eq!(d.nat_gateways.len(), 1);
        assert_eq!(d.middleboxes.len(), 2);
        assert_eq!(d.unreadable.len(), 1);
        assert!(d.unreadable[0].contains("vpc-1") && d.unreadable[0].contains("bogus"));
        assert_eq!(d.describe(), "1 VPC, 2 CIDR blocks, 3 middlebox addresses");
    }
}
