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
/// The SDK's enum spells NAT gateways `natGateway` while the API documents and returns
/// `nat_gateway`; both are accepted and reported as `nat_gateway`.
fn middlebox(n: &NetworkInterface) -> Option<MiddleboxEni> {
    let kind = match n.interface_type()?.as_str() {
        "natGateway" => "nat_gateway",
        other => other,
    };
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

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::types::{
        NetworkInterfaceIpv6Address, NetworkInterfacePrivateIpAddress, NetworkInterfaceType,
        VpcCidrBlockAssociation, VpcCidrBlockState, VpcCidrBlockStateCode,
        VpcIpv6CidrBlockAssociation,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn v4(cidr: &str, state: VpcCidrBlockStateCode) -> VpcCidrBlockAssociation {
        VpcCidrBlockAssociation::builder()
            .cidr_block(cidr)
            .cidr_block_state(VpcCidrBlockState::builder().state(state).build())
            .build()
    }

    fn v6(cidr: &str, state: VpcCidrBlockStateCode) -> VpcIpv6CidrBlockAssociation {
        VpcIpv6CidrBlockAssociation::builder()
            .ipv6_cidr_block(cidr)
            .ipv6_cidr_block_state(VpcCidrBlockState::builder().state(state).build())
            .build()
    }

    fn ec2(rules: &[&aws_smithy_mocks::Rule]) -> Ec2 {
        Ec2::from_client(mock_client!(aws_sdk_ec2, RuleMode::Sequential, rules))
    }

    #[tokio::test]
    async fn vpc_cidrs_take_associated_ipv4_and_ipv6_blocks_across_pages() {
        use VpcCidrBlockStateCode as S;
        let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .sequence()
            .output(|| {
                DescribeVpcsOutput::builder()
                    .vpcs(
                        Vpc::builder()
                            .vpc_id("vpc-b")
                            .cidr_block("10.1.0.0/16")
                            .cidr_block_association_set(v4("10.1.0.0/16", S::Associated))
                            .cidr_block_association_set(v4("100.70.0.0/16", S::Disassociated))
                            .ipv6_cidr_block_association_set(v6("2600:1f18:1::/56", S::Associated))
                            .ipv6_cidr_block_association_set(v6("2600:1f18:2::/56", S::Associating))
                            .ipv6_cidr_block_association_set(v6("2600:1f18:3::/56", S::Failed))
                            .build(),
                    )
                    .next_token("page-2")
                    .build()
            })
            .output(|| {
                DescribeVpcsOutput::builder()
                    .vpcs(
                        Vpc::builder()
                            .vpc_id("vpc-a")
                            .cidr_block("10.0.0.0/16")
                            .cidr_block_association_set(v4("10.0.0.0/16", S::Associated))
                            .cidr_block_association_set(v4("10.2.0.0/16", S::Associated))
                            .build(),
                    )
                    .build()
            })
            .build();
        let got = describe_vpc_cidrs(&ec2(&[&rule]), None).await.unwrap();
        assert_eq!(rule.num_calls(), 2, "both pages");
        assert_eq!(
            got,
            [
                VpcCidrs {
                    vpc_id: "vpc-a".into(),
                    ipv4: vec!["10.0.0.0/16".into(), "10.2.0.0/16".into()],
                    ipv6: vec![],
                },
                VpcCidrs {
                    vpc_id: "vpc-b".into(),
                    ipv4: vec!["10.1.0.0/16".into()],
                    ipv6: vec!["2600:1f18:1::/56".into()],
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_vpc_without_an_association_set_keeps_its_primary_block() {
        let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .match_requests(|r| r.filters().iter().any(|f| f.name() == Some("vpc-id")))
            .then_output(|| {
                DescribeVpcsOutput::builder()
                    .vpcs(
                        Vpc::builder()
                            .vpc_id("vpc-a")
                            .cidr_block("10.0.0.0/16")
                            .build(),
                    )
                    .build()
            });
        let ids = ["vpc-a".to_string()];
        let got = describe_vpc_cidrs(&ec2(&[&rule]), Some(&ids))
            .await
            .unwrap();
        assert_eq!(got[0].ipv4, ["10.0.0.0/16"]);
        assert_eq!(rule.num_calls(), 1, "the vpc-id filter was sent");
    }

    #[tokio::test]
    async fn middlebox_enis_are_the_relaying_types_with_their_addresses() {
        let eni = |id: &str, kind: NetworkInterfaceType, ip: &str| {
            NetworkInterface::builder()
                .network_interface_id(id)
                .vpc_id("vpc-a")
                .interface_type(kind)
                .private_ip_address(ip)
                .private_ip_addresses(
                    NetworkInterfacePrivateIpAddress::builder()
                        .private_ip_address(ip)
                        .build(),
                )
                .build()
        };
        let rule = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
            .sequence()
            .output(move || {
                DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(eni(
                        "eni-3",
                        NetworkInterfaceType::NatGateway,
                        "10.0.0.220",
                    ))
                    .network_interfaces(eni("eni-1", NetworkInterfaceType::Interface, "10.0.1.5"))
                    .network_interfaces(eni(
                        "eni-7",
                        NetworkInterfaceType::from("nat_gateway"),
                        "10.0.0.221",
                    ))
                    .next_token("p2")
                    .build()
            })
            .output(move || {
                let mut tgw = eni("eni-2", NetworkInterfaceType::TransitGateway, "10.0.0.9");
                tgw.ipv6_addresses = Some(vec![
                    NetworkInterfaceIpv6Address::builder()
                        .ipv6_address("2600:1f18:1::9")
                        .build(),
                ]);
                DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(tgw)
                    .network_interfaces(eni(
                        "eni-4",
                        NetworkInterfaceType::NetworkLoadBalancer,
                        "10.0.0.30",
                    ))
                    .network_interfaces(eni(
                        "eni-5",
                        NetworkInterfaceType::GatewayLoadBalancerEndpoint,
                        "10.0.0.40",
                    ))
                    .network_interfaces(eni("eni-6", NetworkInterfaceType::Lambda, "10.0.0.50"))
                    .build()
            })
            .build();
        let got = describe_middlebox_enis(&ec2(&[&rule]), None).await.unwrap();
        assert_eq!(rule.num_calls(), 2);
        let summary: Vec<(&str, &str, Vec<&str>)> = got
            .iter()
            .map(|m| {
                (
                    m.id.as_str(),
                    m.kind.as_str(),
                    m.addresses.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "eni-2",
                    "transit_gateway",
                    vec!["10.0.0.9", "2600:1f18:1::9"]
                ),
                ("eni-3", "nat_gateway", vec!["10.0.0.220"]),
                ("eni-4", "network_load_balancer", vec!["10.0.0.30"]),
                ("eni-5", "gateway_load_balancer_endpoint", vec!["10.0.0.40"]),
                ("eni-7", "nat_gateway", vec!["10.0.0.221"]),
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_page_is_a_classified_error() {
        let rule = mock!(aws_sdk_ec2::Client::describe_vpcs).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(403).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>",
                ),
            )
        });
        let err = describe_vpc_cidrs(&ec2(&[&rule]), None).await.unwrap_err();
        assert_eq!(err.code.as_deref(), Some("UnauthorizedOperation"));
        assert!(err.to_string().contains("ec2:DescribeVpcs"), "{err}");
    }
}
