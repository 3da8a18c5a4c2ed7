//! What `analyze` counts as "ours" from AWS: with `--discover`, every VPC's IPv4 and IPv6
//! CIDR blocks (DescribeVpcs) and middlebox interfaces (NAT gateways, load balancers, gateway
//! load balancer endpoints, transit gateway attachments; DescribeNetworkInterfaces) of every
//! account of the config (its `accounts:` or `organization:`, reached as `plan` and `audit`
//! reach them, in `--regions` when given, else in each account's configured regions), or of
//! the current account in `--regions`, else `--region`, when no config is used; with
//! `--flow-log`, the CIDRs of the flow log's VPC (its resource, or the VPC of its subnet or
//! interface). The blocks go into the rule pack (`add_internal`, `add_middleboxes`,
//! `add_nat_gateways`); nothing here classifies a record.
//!
//! `--accounts` does not narrow discovery: a VPC of another account of the estate is ours
//! whichever accounts' logs are read. An account that cannot be reached is named, and the
//! others are still discovered (the caller fails the run at the end: that account's
//! addresses count as public). Accounts and regions are read concurrently (at most
//! `--concurrency` reads at once) and merged in the config's order, so the result does not
//! depend on timing.

use flowkeeper_analyze::RulePack;
use flowkeeper_analyze::addr::Cidr;

use crate::aws::networks::{self, MiddleboxEni, VpcCidrs};
use crate::aws::{Aws, ec2};
use crate::model::ResourceKind;
use crate::settings::Settings;

use tokio::sync::Semaphore;

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

    /// Adds what another account's discovery found (after this one's, in config order).
    fn merge(&mut self, other: Discovered) {
        self.vpcs += other.vpcs;
        self.internal.extend(other.internal);
        self.middleboxes.extend(other.middleboxes);
        self.nat_gateways.extend(other.nat_gateways);
        self.unreadable.extend(other.unreadable);
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

/// The config `--discover` reads the estate from, when one is used (given, or the default
/// file present), loaded once: its first listed region is also the run's fallback region, as
/// in `plan` and `audit` (STS and Organizations need one).
pub fn estate_config(flags: &Settings) -> Option<Result<crate::model::DesiredState, String>> {
    (flags.config_given || flags.config.exists())
        .then(|| crate::config::load(&flags.config).map_err(|d| d.to_string()))
}

/// `--discover`: the estate of `config` when one is used ([`discover_estate`]), else the
/// current account in `--regions`, else the default region. An error here (no region, the
/// config does not load, the current account cannot be read) stops the run; failures of
/// single accounts of an estate are in the result.
pub async fn discover_for(
    flags: &Settings,
    aws: &Aws,
    config: Option<Result<crate::model::DesiredState, String>>,
) -> Result<EstateDiscovery, String> {
    if let Some(desired) = config {
        let mut d = discover_estate(flags, aws, &desired?).await?;
        d.config = Some(flags.config.display().to_string());
        return Ok(d);
    }
    let regions = match &flags.filters.regions {
        Some(r) => r.clone(),
        None => aws.default_region().map(|r| vec![r]).ok_or_else(|| {
            "--discover needs a region: give --regions, --region or AWS_REGION".to_string()
        })?,
    };
    let found = discover(aws, &regions, flags.concurrency).await?;
    Ok(EstateDiscovery {
        found,
        places: vec![regions.join(", ")],
        failures: Vec::new(),
        config: None,
    })
}

/// Every VPC and middlebox of the current account in `regions` (read concurrently, at most
/// `concurrency` at once); the first region that cannot be read is the error.
pub async fn discover(
    aws: &Aws,
    regions: &[String],
    concurrency: usize,
) -> Result<Discovered, String> {
    let limit = Semaphore::new(concurrency.max(1));
    let read = discover_in(aws, regions, "", &limit).await;
    match read.failures.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(read.found),
    }
}

/// What one account's discovery found, before it is merged (in config order) with the others.
#[derive(Debug, Default)]
struct AccountRead {
    found: Discovered,
    failures: Vec<String>,
    /// The regions read.
    regions: Vec<String>,
}

/// The VPCs and middleboxes of `aws`'s account in `regions`, every region at once under
/// `limit` (results merged in `regions` order, so the output does not depend on timing);
/// `label` names the account in errors (empty for the current account). A region that cannot
/// be read is a failure in the result; the others are still read.
async fn discover_in(aws: &Aws, regions: &[String], label: &str, limit: &Semaphore) -> AccountRead {
    let place = |region: &str| {
        if label.is_empty() {
            format!("--discover in {region}")
        } else {
            format!("--discover in account {label}, {region}")
        }
    };
    let results = futures::future::join_all(regions.iter().map(|region| async move {
        let _permit = limit
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let ec2 = aws.clients(region).ec2;
        let vpcs = networks::describe_vpc_cidrs(&ec2, None)
            .await
            .map_err(|e| e.to_string())?;
        let enis = networks::describe_middlebox_enis(&ec2, None)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((vpcs, enis))
    }))
    .await;
    let mut out = AccountRead::default();
    for (region, result) in regions.iter().zip(results) {
        match result {
            Ok((vpcs, enis)) => {
                out.found.add_vpcs(&vpcs, region);
                out.found.add_middleboxes(&enis, region);
                out.regions.push(region.clone());
            }
            Err(e) => out.failures.push(format!("{}: {e}", place(region))),
        }
    }
    out
}

/// What `--discover` found across an estate.
#[derive(Debug, Default)]
pub struct EstateDiscovery {
    pub found: Discovered,
    /// `account: regions` per account read, for the progress line.
    pub places: Vec<String>,
    /// Accounts (or regions of one) that could not be read, with why.
    pub failures: Vec<String>,
    /// The config whose accounts were read (None: the current account only).
    pub config: Option<String>,
}

/// `--discover` with a config: every account of the config (not narrowed by `--accounts`),
/// each in `--regions` when given, else in its configured regions. Accounts and their regions
/// are read concurrently (at most `--concurrency` region reads at once, as `plan` and `audit`
/// read them) and merged in the config's order. An account or region that cannot be reached
/// or read is a failure in the result; the others are still read.
pub async fn discover_estate(
    flags: &Settings,
    aws: &Aws,
    desired: &crate::model::DesiredState,
) -> Result<EstateDiscovery, String> {
    let caller = aws
        .caller_account()
        .await
        .map_err(|e| format!("--discover: cannot identify the current account: {e}"))?;
    let partition =
        crate::model::partition_of(&aws.default_region().unwrap_or_else(|| "us-east-1".into()));
    let every_account = crate::targets::Filters::default();
    let set =
        crate::targets::discover_targets(desired, aws, &caller, partition, &every_account).await;
    let mut out = EstateDiscovery::default();
    for f in &set.failures {
        out.failures.push(match &f.account {
            Some(a) => format!("--discover: account {a}: {}", f.error),
            None => format!(
                "--discover: the accounts of the organization could not be listed, so none of them was discovered: {}",
                f.error
            ),
        });
    }
    let limit = Semaphore::new(flags.concurrency.max(1));
    let limit = &limit;
    let every_account = &every_account;
    let reads = futures::future::join_all(set.targets.iter().map(|target| async move {
        let label = target.label();
        let failed = |e: String| AccountRead {
            failures: vec![format!("--discover: account {label}: {e}")],
            ..AccountRead::default()
        };
        let session = {
            let _permit = limit
                .acquire()
                .await
                .expect("the semaphore is never closed");
            match aws.for_account(&target.account, &target.access).await {
                Ok(s) => s,
                Err(e) => return (label.clone(), failed(e.to_string())),
            }
        };
        // "Ours" is wherever the user says to look: --regions replaces the configured
        // regions (narrowing them could leave an account with none, silently).
        let regions = match &flags.filters.regions {
            Some(r) => r.clone(),
            None => {
                let _permit = limit
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                match crate::targets::regions_for(target, &session, every_account).await {
                    Ok(r) => r,
                    Err(e) => return (label.clone(), failed(e.to_string())),
                }
            }
        };
        let read = discover_in(&session, &regions, &label, limit).await;
        (label, read)
    }))
    .await;
    for (label, read) in reads {
        out.found.merge(read.found);
        out.failures.extend(read.failures);
        if !read.regions.is_empty() {
            out.places
                .push(format!("account {label} in {}", read.regions.join(", ")));
        }
    }
    Ok(out)
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
