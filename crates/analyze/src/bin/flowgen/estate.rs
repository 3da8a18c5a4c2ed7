//! The realism-2 estate (`--realism 2`): `--vpcs` VPCs (two per account), each with an IPv4
//! /16 (`10.<20+v>.0.0/16`) and an Amazon-assigned IPv6 /56, a public subnet (NAT gateway,
//! ALB and NLB interfaces, the bastion with an Elastic IP), a dual-stack web tier, app, db,
//! a dual-stack worker tier, a management subnet (monitoring scraper, two custom DNS
//! resolvers, the backup host, two Route 53 Resolver endpoint interfaces) and an endpoint
//! subnet (interface VPC endpoints). Every interface is in the VPC's flow log, including the
//! requester-managed ones (instance-id `-`), and each has its own capture delay (0–10 s), so
//! the two records of one flow seen on two interfaces differ by up to 10 s, as delivered logs
//! do. Also the public address pools (IPv4 and IPv6) and the pack layers the estate implies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::rng::Rng;
use super::topology::{REGIONS, is_public};

/// What an interface is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Web,
    App,
    Db,
    Worker,
    Bastion,
    Monitor,
    Dns,
    Backup,
    Nat,
    Alb,
    Nlb,
    ResolverEndpoint,
    Endpoint,
    Idle,
}

impl Role {
    /// Requester-managed interfaces (no instance).
    pub fn managed(self) -> bool {
        matches!(
            self,
            Role::Nat | Role::Alb | Role::Nlb | Role::ResolverEndpoint | Role::Endpoint
        )
    }
}

/// One network interface.
#[derive(Clone, Debug)]
pub struct Host {
    pub id: String,
    pub instance: String,
    pub subnet: String,
    pub az: String,
    pub v4: u32,
    pub v6: Option<u128>,
    pub role: Role,
    /// Capture delay of this interface's records, seconds (0–10).
    pub jitter: u64,
}

impl Host {
    pub fn ip4(&self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(self.v4))
    }

    /// The IPv6 address (dual-stack subnets only).
    pub fn ip6(&self) -> IpAddr {
        IpAddr::V6(Ipv6Addr::from(self.v6.expect("a dual-stack host")))
    }
}

/// One VPC and its flow log.
#[derive(Clone, Debug)]
pub struct Vpc {
    pub index: usize,
    pub account: String,
    pub region: &'static str,
    pub vpc: String,
    pub flow_log: String,
    /// `10.<20+index>.0.0`.
    pub base: u32,
    /// The /56 (low 72 bits zero).
    pub v6: u128,
    pub hosts: Vec<Host>,
}

impl Vpc {
    pub fn of(&self, role: Role) -> Vec<usize> {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.role == role)
            .map(|(i, _)| i)
            .collect()
    }

    pub fn cidr4(&self) -> String {
        format!("{}/16", Ipv4Addr::from(self.base))
    }

    pub fn cidr6(&self) -> String {
        format!("{}/56", Ipv6Addr::from(self.v6))
    }

    /// The /24 of subnet `net`.
    pub fn subnet4(&self, net: u32) -> String {
        format!("{}/24", Ipv4Addr::from(self.base | (net << 8)))
    }

    /// The /64 of subnet `net`.
    pub fn subnet6(&self, net: u32) -> String {
        format!("{}/64", Ipv6Addr::from(self.v6 | (u128::from(net) << 64)))
    }
}

pub(crate) fn hex_id(rng: &mut Rng, prefix: &str, digits: usize) -> String {
    let mut s = String::with_capacity(prefix.len() + digits);
    s.push_str(prefix);
    for _ in 0..digits {
        let d = rng.below(16) as u32;
        s.push(char::from_digit(d, 16).expect("hex digit"));
    }
    s
}

/// Subnet number, role, count, first host number, dual-stack.
const LAYOUT: [(u32, Role, u32, u32, bool); 14] = [
    (0, Role::Nat, 1, 220, false),
    (0, Role::Alb, 2, 50, false),
    (0, Role::Nlb, 2, 60, false),
    (0, Role::Bastion, 1, 10, false),
    (1, Role::Web, 8, 10, true),
    (2, Role::App, 24, 10, false),
    (3, Role::Db, 4, 10, false),
    (5, Role::Worker, 16, 10, true),
    (4, Role::Monitor, 1, 10, false),
    (4, Role::Dns, 2, 20, false),
    (4, Role::Backup, 1, 30, false),
    (4, Role::ResolverEndpoint, 2, 40, false),
    (6, Role::Endpoint, 3, 10, false),
    (7, Role::Idle, 1, 10, false),
];

/// The estate of `vpcs` VPCs: VPCs `2k` and `2k+1` share account `k` and region.
pub fn build(seed: u64, vpcs: usize) -> Vec<Vpc> {
    let mut accounts = Vec::new();
    for k in 0..vpcs.div_ceil(2) {
        let mut rng = Rng::new(seed, 0xacc0 + k as u64);
        accounts.push(format!(
            "{:012}",
            100_000_000_000 + rng.below(899_999_999_999)
        ));
    }
    (0..vpcs)
        .map(|v| {
            let mut rng = Rng::new(seed, 0x7c_0000 + v as u64);
            let (region, az_prefix) = REGIONS[(v / 2) % REGIONS.len()];
            let vpc = hex_id(&mut rng, "vpc-", 17);
            let flow_log = hex_id(&mut rng, "fl-", 17);
            let base = (10u32 << 24) | ((20 + v as u32) << 16);
            // Amazon's pool: 2600:1f18::/32 style, a /56 per VPC.
            let v6 = (0x2600_1f18u128 << 96)
                | (u128::from(rng.below(1 << 16) as u16) << 80)
                | (u128::from(rng.below(1 << 8) as u8) << 72);
            let mut hosts = Vec::new();
            let mut subnets = std::collections::BTreeMap::new();
            for (net, role, count, first, dual) in LAYOUT {
                let subnet = subnets
                    .entry(net)
                    .or_insert_with(|| hex_id(&mut rng, "subnet-", 17))
                    .clone();
                for k in 0..count {
                    let az = format!("{az_prefix}{}", 1 + (net + k) % 3);
                    let instance = if role.managed() {
                        "-".to_owned()
                    } else {
                        hex_id(&mut rng, "i-", 17)
                    };
                    let v6_host =
                        dual.then(|| v6 | (u128::from(net) << 64) | u128::from(rng.next_u64() | 1));
                    hosts.push(Host {
                        id: hex_id(&mut rng, "eni-", 17),
                        instance,
                        subnet: subnet.clone(),
                        az,
                        v4: base | (net << 8) | (first + k),
                        v6: v6_host,
                        role,
                        jitter: rng.below(11),
                    });
                }
            }
            Vpc {
                index: v,
                account: accounts[v / 2].clone(),
                region,
                vpc,
                flow_log,
                base,
                v6,
                hosts,
            }
        })
        .collect()
}

/// Public address pools shared by the estate.
pub struct Pools {
    pub clients: Vec<u32>,
    pub clients6: Vec<u128>,
    pub scanners: Vec<u32>,
    pub scanners6: Vec<u128>,
    pub apis: Vec<u32>,
    pub apis6: Vec<u128>,
    /// Public resolvers the custom DNS servers forward to.
    pub upstream_dns: Vec<u32>,
}

/// A random address in a few large IPv6 allocations of ISPs and clouds.
fn public6(rng: &mut Rng) -> u128 {
    let top = *rng.pick(&[
        0x2a01u128,
        0x2a02,
        0x2400,
        0x2403,
        0x2605,
        0x2607,
        0x2804,
        0x2c0f,
        0x2001_4860,
    ]);
    let top = if top > 0xffff {
        top << 96
    } else {
        (top << 112) | (u128::from(rng.below(1 << 16)) << 96)
    };
    top | (u128::from(rng.next_u64()) << 32) | u128::from(rng.next_u64() as u32)
}

fn pool4(rng: &mut Rng, n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let ip = rng.next_u64() as u32;
        // Keep clear of the AWS ranges flowgen uses for services (52.0.0.0/8, 54.0.0.0/8).
        if is_public(ip) && !matches!(ip >> 24, 52 | 54 | 3) {
            out.push(ip);
        }
    }
    out
}

impl Pools {
    pub fn new(seed: u64) -> Pools {
        let mut rng = Rng::new(seed, 0x9001);
        let mut six = |n: usize| (0..n).map(|_| public6(&mut rng)).collect::<Vec<_>>();
        let clients6 = six(6_000);
        let scanners6 = six(300);
        let apis6 = six(20);
        let mut rng = Rng::new(seed, 0x9002);
        Pools {
            clients: pool4(&mut rng, 30_000),
            scanners: pool4(&mut rng, 5_000),
            apis: pool4(&mut rng, 60),
            clients6,
            scanners6,
            apis6,
            upstream_dns: vec![
                u32::from(Ipv4Addr::new(1, 1, 1, 1)),
                u32::from(Ipv4Addr::new(8, 8, 8, 8)),
                u32::from(Ipv4Addr::new(9, 9, 9, 9)),
            ],
        }
    }
}

/// An AWS public service address and the `pkt-*-aws-service` name AWS logs for it:
/// S3 and DynamoDB (reached through gateway endpoints) and AMAZON/EC2 ranges (through the NAT).
pub fn aws_service(rng: &mut Rng, which: &'static str) -> (IpAddr, &'static str) {
    let (a, b) = match which {
        "S3" => (52, 216 + rng.below(2) as u8),
        "DYNAMODB" => (52, 94),
        "EC2" => (54, 80 + rng.below(8) as u8),
        _ => (3, 208 + rng.below(8) as u8),
    };
    let ip = Ipv4Addr::new(a, b, rng.below(256) as u8, 1 + rng.below(254) as u8);
    (IpAddr::V4(ip), which)
}

/// The VPCs' own address space as a pack layer: what `--discover` reads from `DescribeVpcs`.
pub fn networks_yaml(vpcs: &[Vpc]) -> String {
    let mut s = String::from(
        "# The estate's VPC CIDRs (IPv4 and IPv6), as `--discover` would read them from DescribeVpcs.\nnetworks:\n  internal:\n",
    );
    for v in vpcs {
        s.push_str(&format!("    - {}\n    - {}\n", v.cidr4(), v.cidr6()));
    }
    s
}

/// The trust zones the estate follows, as a pack layer.
pub fn zones_yaml(vpcs: &[Vpc]) -> String {
    let list = |f: &dyn Fn(&Vpc) -> Vec<String>| -> String {
        vpcs.iter().flat_map(f).collect::<Vec<_>>().join(", ")
    };
    let web = list(&|v| vec![v.subnet4(1), v.subnet6(1)]);
    let app = list(&|v| vec![v.subnet4(2)]);
    let db = list(&|v| vec![v.subnet4(3)]);
    let worker = list(&|v| vec![v.subnet4(5), v.subnet6(5)]);
    let mgmt = list(&|v| vec![v.subnet4(4)]);
    let public = list(&|v| vec![v.subnet4(0)]);
    let endpoints = list(&|v| vec![v.subnet4(6)]);
    format!(
        "# Trust zones of the generated estate (layer this over the default pack).
zones:
  - name: public
    cidrs: [{public}]
  - name: web
    cidrs: [{web}]
    accept_from:
      - {{from: internet, ports: [80, 443], protocol: tcp}}
      - {{from: public, ports: [22, 80, 443], protocol: tcp}}
      - {{from: mgmt}}
  - name: app
    cidrs: [{app}]
    accept_from:
      - {{from: web, ports: [8080], protocol: tcp}}
      - {{from: public, ports: [22], protocol: tcp}}
      - {{from: mgmt}}
  - name: db
    cidrs: [{db}]
    accept_from:
      - {{from: app, services: [postgres]}}
      - {{from: public, ports: [22], protocol: tcp}}
      - {{from: mgmt}}
  - name: worker
    cidrs: [{worker}]
  - name: mgmt
    cidrs: [{mgmt}]
  - name: endpoints
    cidrs: [{endpoints}]
"
    )
}
