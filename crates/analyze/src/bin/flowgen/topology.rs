//! The simulated estate: per account one VPC (`10.<a>.0.0/16`) in one region with web, app,
//! db, worker and management subnets, an ALB and an idle interface; each host has one
//! interface. Also the public address pools (clients, scanners, external APIs) and the AWS
//! service ranges, and the trust zones the estate is meant to follow (`zones.yaml`).

use super::rng::Rng;

pub const REGIONS: [(&str, &str); 3] = [
    ("us-east-1", "use1-az"),
    ("eu-west-1", "euw1-az"),
    ("ap-southeast-2", "apse2-az"),
];

/// What a host does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Web,
    App,
    Db,
    Worker,
    Bastion,
    Alb,
    Idle,
}

/// One network interface (one host).
#[derive(Clone, Debug)]
pub struct Eni {
    pub id: String,
    pub instance: String,
    pub subnet: String,
    pub az: String,
    pub ip: u32,
    pub role: Role,
}

/// One account's VPC.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub region: &'static str,
    pub vpc: String,
    pub flow_log: String,
    /// `10.<index>.0.0/16`.
    pub index: u8,
    pub enis: Vec<Eni>,
}

impl Account {
    pub fn base(&self) -> u32 {
        (10 << 24) | (u32::from(self.index) << 16)
    }

    pub fn hosts(&self, role: Role) -> Vec<usize> {
        self.enis
            .iter()
            .enumerate()
            .filter(|(_, e)| e.role == role)
            .map(|(i, _)| i)
            .collect()
    }

    /// The VPC resolver (.2), not an interface of ours.
    pub fn resolver(&self) -> u32 {
        self.base() | 2
    }
}

fn hex_id(rng: &mut Rng, prefix: &str, digits: usize) -> String {
    let mut s = String::with_capacity(prefix.len() + digits);
    s.push_str(prefix);
    for _ in 0..digits {
        let d = rng.below(16) as u32;
        s.push(char::from_digit(d, 16).expect("hex digit"));
    }
    s
}

/// The estate for `accounts` accounts.
pub fn build(seed: u64, accounts: usize) -> Vec<Account> {
    (0..accounts)
        .map(|a| {
            let mut rng = Rng::new(seed, 0x70_70 + a as u64);
            let (region, az_prefix) = REGIONS[a % REGIONS.len()];
            let id = format!("{:012}", 100_000_000_000 + rng.below(899_999_999_999));
            let vpc = hex_id(&mut rng, "vpc-", 17);
            let flow_log = hex_id(&mut rng, "fl-", 17);
            let base = (10u32 << 24) | ((a as u32) << 16);
            let layout: [(Role, u32, u32); 7] = [
                (Role::Web, 1, 8),
                (Role::App, 2, 8),
                (Role::Db, 3, 4),
                (Role::Bastion, 4, 1),
                (Role::Worker, 5, 24),
                (Role::Alb, 0, 2),
                (Role::Idle, 6, 1),
            ];
            let mut enis = Vec::new();
            for (role, net, count) in layout {
                let subnet = hex_id(&mut rng, "subnet-", 17);
                let az = format!("{az_prefix}{}", 1 + net % 3);
                for k in 0..count {
                    let host = if role == Role::Alb { 50 + k } else { 10 + k };
                    let instance = if role == Role::Alb {
                        "-".to_owned()
                    } else {
                        hex_id(&mut rng, "i-", 17)
                    };
                    enis.push(Eni {
                        id: hex_id(&mut rng, "eni-", 17),
                        instance,
                        subnet: subnet.clone(),
                        az: az.clone(),
                        ip: base | (net << 8) | host,
                        role,
                    });
                }
            }
            Account {
                id,
                region,
                vpc,
                flow_log,
                index: a as u8,
                enis,
            }
        })
        .collect()
}

/// Whether an IPv4 address is usable as a random public address (not private, shared,
/// loopback, link-local, multicast, reserved, or a documentation range the attacks use).
pub fn is_public(ip: u32) -> bool {
    let a = ip >> 24;
    let b = (ip >> 16) & 0xff;
    let c = (ip >> 8) & 0xff;
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 52 && (b == 216 || b == 94))
        || (a == 185 && b == 220))
}

/// `count` distinct-ish random public addresses.
pub fn public_pool(rng: &mut Rng, count: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let ip = rng.next_u64() as u32;
        if is_public(ip) {
            out.push(ip);
        }
    }
    out
}

/// S3 (52.216.0.0/15 here) and DynamoDB (52.94.0.0/16) addresses.
pub fn aws_service_ip(rng: &mut Rng, s3: bool) -> u32 {
    if s3 {
        (52 << 24) | (216 << 16) | rng.below(1 << 16) as u32
    } else {
        (52 << 24) | (94 << 16) | rng.below(1 << 16) as u32
    }
}

/// The trust zones of the estate, as a rule-pack layer.
pub fn zones_yaml(accounts: &[Account]) -> String {
    let cidrs = |net: u32| -> String {
        accounts
            .iter()
            .map(|a| format!("10.{}.{net}.0/24", a.index))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let alb = accounts
        .iter()
        .map(|a| format!("10.{}.0.48/28", a.index))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "# Trust zones of the generated estate (layer this over the default pack).
zones:
  - name: web
    cidrs: [{web}]
    accept_from:
      - {{from: internet, ports: [80, 443], protocol: tcp}}
      - {{from: alb, ports: [80], protocol: tcp}}
      - {{from: mgmt, services: [ssh]}}
  - name: app
    cidrs: [{app}]
    accept_from:
      - {{from: web, ports: [8080], protocol: tcp}}
      - {{from: mgmt, services: [ssh]}}
  - name: db
    cidrs: [{db}]
    accept_from:
      - {{from: app, services: [postgres]}}
      - {{from: mgmt, services: [ssh]}}
  - name: mgmt
    cidrs: [{mgmt}]
    accept_from: []
  - name: worker
    cidrs: [{worker}]
  - name: alb
    cidrs: [{alb}]
",
        web = cidrs(1),
        app = cidrs(2),
        db = cidrs(3),
        mgmt = cidrs(4),
        worker = cidrs(5),
    )
}
