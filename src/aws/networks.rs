//! What is "ours" and which interfaces relay, for `analyze`: the IPv4 and IPv6 CIDR blocks of
//! VPCs (DescribeVpcs, associated blocks only) and the middlebox interfaces (NAT gateways,
//! load balancers, gateway load balancer endpoints, transit gateway attachments) with their
//! addresses (DescribeNetworkInterfaces). Plain strings out; the command layer parses them
//! into CIDRs for the rule pack.

use aws_sdk_ec2::types::{Filter, NetworkInterface, Vpc};

use super::ec2::{Ec2, FILTER_VALUE_LIMIT};
use super::error::{AwsError, classify};

/// Page size for the describe calls.
const PAGE_SIZE: i32 = 1000;

/// The interface types that relay flows between two other peers.
pub const MIDDLEBOX_TYPES: [&str; 4] = [
    "nat_gateway",
    "network_load_balancer",
    "gateway_load_balancer_endpoint",
    "transit_gateway",
];

/// One VPC's associated CIDR blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VpcCidrs {
    /// `vpc-…`.
    pub vpc_id: String,
    /// IPv4 blocks (`10.0.0.0/16`), primary first.
    pub ipv4: Vec<String>,
    /// IPv6 blocks (`2600:1f18:1:200::/56`).
    pub ipv6: Vec<String>,
}

/// One middlebox interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MiddleboxEni {
    /// `eni-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Its `InterfaceType` (one of [`MIDDLEBOX_TYPES`]).
    pub kind: String,
    /// Its private IPv4 and IPv6 addresses.
    pub addresses: Vec<String>,
}

fn vpc_filter(ids: &[String]) -> Filter {
    Filter::builder()
        .name("vpc-id")
        .set_values(Some(ids.to_vec()))
        .build()
}

fn batches(ids: Option<&[String]>) -> Vec<Option<Vec<String>>> {
    match ids {
        None => vec![None],
        Some(ids) => ids
            .chunks(FILTER_VALUE_LIMIT)
            .map(|c| Some(c.to_vec()))
            .collect(),
    }
}

/// The associated blocks of one VPC (blocks being associated, disassociated or failed are
/// not ours).
fn vpc_cidrs(v: &Vpc) -> VpcCidrs {
    let associated = |state: Option<&str>| state == Some("associated");
    let mut ipv4: Vec<String> = v
        .cidr_block_association_set()
        .iter()
        .filter(|a| {
            associated(
                a.cidr_block_state()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str()),
            )
        })
        .filter_map(|a| a.cidr_block().map(str::to_string))
        .collect();
    if v.cidr_block_association_set().is_empty()
        && let Some(primary) = v.cidr_block()
    {
        ipv4.push(primary.to_string());
    }
    let ipv6 = v
        .ipv6_cidr_block_association_set()
        .iter()
        .filter(|a| {
            associated(
                a.ipv6_cidr_block_state()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str()),
            )
        })
        .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
        .collect();
    VpcCidrs {
        vpc_id: v.vpc_id().unwrap_or_default().to_string(),
        ipv4,
        ipv6,
    }
}

/// The CIDR blocks of every VPC in the client's region, or of `vpc_ids` (batched to the
/// filter limit), sorted by VPC id.
pub async fn describe_vpc_cidrs(
    ec2: &Ec2,
    vpc_ids: Option<&[String]>,
) -> Result<Vec<VpcCidrs>, AwsError> {
    let client = &ec2.0;
    let mut out = Vec::new();
    for batch in batches(vpc_ids) {
        let req = match &batch {
            Some(ids) => client.describe_vpcs().filters(vpc_filter(ids)),
            None => client.describe_vpcs().max_results(PAGE_SIZE),
        };
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeVpcs", e))?;
            out.extend(page.vpcs().iter().map(vpc_cidrs));
        }
    }
    out.sort_by(|a, b| a.vpc_id.cmp(&b.vpc_id));
    out.dedup_by(|a, b| a.vpc_id == b.vpc_id);
    Ok(out)
}

/// The middlebox of one interface, when its type is one of [`MIDDLEBOX_TYPES`].
fn middlebox(n: &NetworkInterface) -> Option<MiddleboxEni> {
    let kind = n.interface_type()?.as_str();
    if !MIDDLEBOX_TYPES.contains(&kind) {
        return None;
    }
    let mut addresses: Vec<String> = n
        .private_ip_addresses()
        .iter()
        .filter_map(|a| a.private_ip_address().map(str::to_string))
        .collect();
    if addresses.is_empty()
        && let Some(primary) = n.private_ip_address()
    {
        addresses.push(primary.to_string());
    }
    addresses.extend(
        n.ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address().map(str::to_string)),
    );
    Some(MiddleboxEni {
        id: n.network_interface_id().unwrap_or_default().to_string(),
        vpc_id: n.vpc_id().map(str::to_string),
        kind: kind.to_string(),
        addresses,
    })
}

/// The middlebox interfaces of every VPC in the region, or of `vpc_ids`, sorted by id. The
/// type is filtered here, not with an `interface-type` filter, so emulators without that
/// filter answer too.
pub async fn describe_middlebox_enis(
    ec2: &Ec2,
    vpc_ids: Option<&[String]>,
) -> Result<Vec<MiddleboxEni>, AwsError> {
    let client = &ec2.0;
    let mut out = Vec::new();
    for batch in batches(vpc_ids) {
        let req = match &batch {
            Some(ids) => client
                .describe_network_interfaces()
                .filters(vpc_filter(ids)),
            None => client.describe_network_interfaces().max_results(PAGE_SIZE),
        };
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeNetworkInterfaces", e))?;
            out.extend(page.network_interfaces().iter().filter_map(middlebox));
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}
