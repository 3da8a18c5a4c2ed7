//! Trust zones: named sets of addresses (CIDRs, and subnet/VPC ids of the logged interface)
//! with an optional inbound policy (`accept_from`), and the decision whether an accepted flow
//! between two zones is allowed.
//!
//! Besides the pack's zones there are three pseudo-zones for policies: `internet` (any
//! external address), `unzoned` (an internal address in no zone) and `any`.
//!
//! Semantics: a flow is checked only when its destination zone has `accept_from`; flows
//! inside one zone are always allowed; otherwise some rule must name the source zone (or
//! `any`), the protocol (or none) and the destination port (or no ports).
//!
//! Replies: a record *looks like a reply* when it is not a bare SYN (SYN without the SYN-ACK
//! bit) and its source port is below its destination port. Such a record is allowed when the
//! connection it answers (destination zone → source zone on the source port) is allowed; when
//! neither that nor the record's own direction is allowed, the violation is reported as the
//! connection it answers, so a disallowed connection and its replies make one finding.
//! Without `tcp-flags` in the log a reply cannot be told from a connection opened from a low
//! source port.

use crate::addr::{Addr, Cidr, CidrSet};
use crate::services::PortRange;

/// A zone, a pseudo-zone or "any", as policies and flows refer to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZoneRef {
    /// A pack zone, by index.
    Zone(u16),
    /// Any external address.
    Internet,
    /// An internal address in no zone.
    Unzoned,
    /// Any of the above (rules only).
    Any,
}

/// Names reserved for pseudo-zones.
pub const RESERVED_ZONE_NAMES: [&str; 3] = ["internet", "unzoned", "any"];

/// One inbound rule: traffic from `from` on these ports and protocol is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneRule {
    /// Allowed source.
    pub from: ZoneRef,
    /// Allowed destination ports (empty: all).
    pub ports: Vec<PortRange>,
    /// Allowed protocol (`None`: any).
    pub protocol: Option<u8>,
}

/// A named zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Its name.
    pub name: String,
    /// Addresses in the zone.
    pub cidrs: CidrSet,
    /// Subnet ids whose interfaces are in the zone.
    pub subnets: Vec<String>,
    /// VPC ids whose interfaces are in the zone.
    pub vpcs: Vec<String>,
    /// Inbound policy; `None` leaves the zone unrestricted.
    pub accept_from: Option<Vec<ZoneRule>>,
}

/// The pack's zones, in order (the first match wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Zones {
    zones: Vec<Zone>,
    /// Every zone's blocks in zone order, with the zone's index: one flat scan per address.
    blocks: Vec<(Cidr, u16)>,
    /// The same for IPv4 addresses, in 32 bits, when every block that holds IPv4 addresses
    /// is an IPv4 block (else `None`, and IPv4 addresses take `blocks`).
    v4: Option<V4Table>,
    /// Whether any zone names subnet or VPC ids (else only `blocks` decide).
    by_id: bool,
}

impl Zones {
    /// These zones.
    pub fn new(zones: Vec<Zone>) -> Zones {
        let blocks: Vec<(Cidr, u16)> = zones
            .iter()
            .enumerate()
            .flat_map(|(i, z)| z.cidrs.blocks().iter().map(move |c| (*c, i as u16)))
            .collect();
        let by_id = zones
            .iter()
            .any(|z| !z.subnets.is_empty() || !z.vpcs.is_empty());
        let v4 = v4_blocks(&blocks);
        Zones {
            zones,
            blocks,
            v4,
            by_id,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zones.
    pub fn list(&self) -> &[Zone] {
        &self.zones
    }

    /// The zone of an address. `interface` is the logged interface's (subnet, VPC) when this
    /// address is the interface's side of the flow.
    #[inline]
    pub fn classify(
        &self,
        addr: Addr,
        internal: bool,
        interface: Option<(Option<&str>, Option<&str>)>,
    ) -> ZoneRef {
        if self.by_id && interface.is_some() {
            return self.classify_by_id(addr, internal, interface);
        }
        // The first block in zone order is the first zone that holds the address.
        let hit = match &self.v4 {
            Some(v4) if addr.is_v4() => v4.first(addr.0 as u32),
            _ => self.first_block(addr),
        };
        match hit {
            Some(i) => ZoneRef::Zone(i),
            None if internal => ZoneRef::Unzoned,
            None => ZoneRef::Internet,
        }
    }

    /// The zone of the first block holding the address, in 128 bits.
    #[inline(never)]
    fn first_block(&self, addr: Addr) -> Option<u16> {
        self.blocks
            .iter()
            .find(|(c, _)| c.contains(addr))
            .map(|b| b.1)
    }

    /// [`Zones::classify`] zone by zone, blocks and then the interface's ids.
    #[inline(never)]
    fn classify_by_id(
        &self,
        addr: Addr,
        internal: bool,
        interface: Option<(Option<&str>, Option<&str>)>,
    ) -> ZoneRef {
        for (i, z) in self.zones.iter().enumerate() {
            if z.cidrs.contains(addr) {
                return ZoneRef::Zone(i as u16);
            }
            if let Some((subnet, vpc)) = interface {
                let hit = |ids: &[String], id: Option<&str>| {
                    id.is_some_and(|id| ids.iter().any(|s| s == id))
                };
                if hit(&z.subnets, subnet) || hit(&z.vpcs, vpc) {
                    return ZoneRef::Zone(i as u16);
                }
            }
        }
        if internal {
            ZoneRef::Unzoned
        } else {
            ZoneRef::Internet
        }
    }

    /// A zone's display name.
    pub fn name(&self, z: ZoneRef) -> &str {
        match z {
            ZoneRef::Zone(i) => self.zones.get(usize::from(i)).map_or("?", |z| &z.name),
            ZoneRef::Internet => "internet",
            ZoneRef::Unzoned => "unzoned",
            ZoneRef::Any => "any",
        }
    }

    /// Whether `dst`'s policy lets `src` in on (protocol, port).
    pub fn allows(&self, src: ZoneRef, dst: ZoneRef, protocol: Option<u8>, port: u16) -> bool {
        let ZoneRef::Zone(d) = dst else {
            return true;
        };
        let Some(rules) = self
            .zones
            .get(usize::from(d))
            .and_then(|z| z.accept_from.as_ref())
        else {
            return true;
        };
        src == dst
            || rules.iter().any(|r| {
                (r.from == ZoneRef::Any || r.from == src)
                    && (r.protocol.is_none() || r.protocol == protocol)
                    && (r.ports.is_empty() || r.ports.iter().any(|p| p.contains(port)))
            })
    }

    /// Whether an accepted record from `src` to `dst` breaks the policy (see the module
    /// docs): `None` when allowed, `Some(reversed)` when not, `reversed` meaning the record is
    /// the reply of the disallowed connection (destination → source on the source port).
    pub fn violation(
        &self,
        src: ZoneRef,
        dst: ZoneRef,
        protocol: Option<u8>,
        ports: (u16, u16),
        flags: Option<u16>,
    ) -> Option<bool> {
        let (sport, dport) = ports;
        if self.allows(src, dst, protocol, dport) {
            return None;
        }
        let bare_syn = flags.is_some_and(|f| f & 0x02 != 0 && f & 0x10 == 0);
        let reply_like = !bare_syn && sport < dport;
        if reply_like && self.allows(dst, src, protocol, sport) {
            return None;
        }
        Some(reply_like)
    }
}

/// IPv4 blocks in 32-bit terms, in zone order, in rows of [`LANES`] (the last row padded
/// with blocks that hold nothing: mask 0, base 1), and the range from the lowest address of
/// any block to the highest (most addresses of a log, the internet's, fall outside it).
#[derive(Clone, Debug, PartialEq, Eq)]
struct V4Table {
    bases: Vec<[u32; LANES]>,
    masks: Vec<[u32; LANES]>,
    zones: Vec<u16>,
    low: u32,
    high: u32,
}

impl Default for V4Table {
    fn default() -> V4Table {
        V4Table {
            bases: Vec::new(),
            masks: Vec::new(),
            zones: Vec::new(),
            low: u32::MAX,
            high: 0,
        }
    }
}

/// Blocks tested at once, without a branch per block ([`V4Table::first`]).
const LANES: usize = 8;

impl V4Table {
    fn push(&mut self, base: u32, mask: u32, zone: u16) {
        let lane = self.zones.len() % LANES;
        if lane == 0 {
            self.bases.push([1; LANES]);
            self.masks.push([0; LANES]);
        }
        let row = self.bases.len() - 1;
        self.bases[row][lane] = base;
        self.masks[row][lane] = mask;
        self.zones.push(zone);
        self.low = self.low.min(base);
        self.high = self.high.max(base | !mask);
    }

    /// The zone of the first block holding `a`. A row of [`LANES`] blocks is tested at once
    /// (SIMD compares), the answers gathered in a bit mask whose lowest bit is the first hit:
    /// no branch per block (which zone an address falls in is not predictable, record to
    /// record).
    #[inline]
    fn first(&self, a: u32) -> Option<u16> {
        if a < self.low || a > self.high {
            return None;
        }
        for (row, (bases, masks)) in self.bases.iter().zip(&self.masks).enumerate() {
            let mut hits = 0u32;
            for i in 0..LANES {
                hits |= u32::from(a & masks[i] == bases[i]) << i;
            }
            if hits != 0 {
                return self
                    .zones
                    .get(row * LANES + hits.trailing_zeros() as usize)
                    .copied();
            }
        }
        None
    }
}

/// The IPv4 blocks of `blocks` in 32-bit terms, when no other block holds IPv4 addresses.
fn v4_blocks(blocks: &[(Cidr, u16)]) -> Option<V4Table> {
    let mut table = V4Table::default();
    for (c, i) in blocks.iter().filter(|(c, _)| c.holds_v4()) {
        let (base, mask) = c.v4_parts()?;
        table.push(base, mask, *i);
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::TCP;

    fn zones() -> Zones {
        let z = |name: &str, cidr: &str, accept: Option<Vec<ZoneRule>>| Zone {
            name: name.into(),
            cidrs: CidrSet::new(vec![Cidr::parse(cidr).unwrap()]),
            subnets: vec![format!("subnet-{name}")],
            vpcs: vec![],
            accept_from: accept,
        };
        Zones::new(vec![
            z(
                "web",
                "10.0.1.0/24",
                Some(vec![ZoneRule {
                    from: ZoneRef::Internet,
                    ports: vec![PortRange::one(443)],
                    protocol: Some(TCP),
                }]),
            ),
            z("app", "10.0.2.0/24", None),
            z(
                "db",
                "10.0.3.0/24",
                Some(vec![ZoneRule {
                    from: ZoneRef::Zone(1),
                    ports: vec![PortRange::one(5432)],
                    protocol: Some(TCP),
                }]),
            ),
        ])
    }

    #[test]
    fn classification() {
        let zs = zones();
        let a = |s: &str| Addr::new(s.parse().unwrap());
        assert_eq!(zs.classify(a("10.0.3.9"), true, None), ZoneRef::Zone(2));
        assert_eq!(zs.classify(a("10.9.0.1"), true, None), ZoneRef::Unzoned);
        assert_eq!(zs.classify(a("8.8.8.8"), false, None), ZoneRef::Internet);
        assert_eq!(
            zs.classify(a("10.9.0.1"), true, Some((Some("subnet-db"), None))),
            ZoneRef::Zone(2)
        );
        assert_eq!(zs.name(ZoneRef::Zone(1)), "app");
    }

    /// The flat tables (32-bit for IPv4) answer as the zone-by-zone walk: first zone in
    /// order, nested and overlapping blocks, IPv6, and IPv6 blocks over IPv4-mapped space.
    #[test]
    fn flat_tables_answer_as_the_walk_over_zones() {
        let zone = |name: &str, cidrs: &[&str]| Zone {
            name: name.into(),
            cidrs: CidrSet::new(cidrs.iter().map(|c| Cidr::parse(c).unwrap()).collect()),
            subnets: vec![],
            vpcs: vec![],
            accept_from: None,
        };
        let walk = |zs: &Zones, a: Addr, internal: bool| {
            for (i, z) in zs.list().iter().enumerate() {
                if z.cidrs.contains(a) {
                    return ZoneRef::Zone(i as u16);
                }
            }
            if internal {
                ZoneRef::Unzoned
            } else {
                ZoneRef::Internet
            }
        };
        let sets = [
            vec![
                zone("a", &["10.0.1.0/24", "2001:db8::/32"]),
                zone("b", &["10.0.0.0/8"]),
                zone("c", &["10.0.1.128/25", "0.0.0.0/0"]),
            ],
            vec![
                zone("mapped", &["::ffff:10.0.0.0/104"]),
                zone("b", &["10.0.0.0/16"]),
            ],
            vec![zone("all6", &["::/0"]), zone("b", &["10.0.0.0/8"])],
        ];
        for (n, set) in sets.into_iter().enumerate() {
            let zs = Zones::new(set);
            assert_eq!(zs.v4.is_some(), n == 0, "set {n}");
            for text in [
                "10.0.1.5",
                "10.0.1.200",
                "10.0.2.1",
                "10.1.0.1",
                "8.8.8.8",
                "2001:db8::1",
                "2001:db9::1",
                "::ffff:10.0.1.5",
            ] {
                let a = Addr::new(text.parse().unwrap());
                for internal in [false, true] {
                    assert_eq!(
                        zs.classify(a, internal, None),
                        walk(&zs, a, internal),
                        "set {n}, {text}"
                    );
                }
            }
        }
    }

    /// More blocks than one row of the table ([`LANES`]): the first hit in zone order still
    /// wins, in any row, and the padding of the last row holds nothing.
    #[test]
    fn many_blocks_answer_in_zone_order_across_rounds() {
        let zone = |name: String, cidr: String| Zone {
            name,
            cidrs: CidrSet::new(vec![Cidr::parse(&cidr).unwrap()]),
            subnets: vec![],
            vpcs: vec![],
            accept_from: None,
        };
        let mut set: Vec<Zone> = (0..150)
            .map(|i| zone(format!("z{i}"), format!("10.{i}.0.0/16")))
            .collect();
        set.push(zone("all10".into(), "10.0.0.0/8".into()));
        set.push(zone("late".into(), "10.63.0.0/16".into()));
        let zs = Zones::new(set);
        assert!(zs.v4.is_some());
        let a = |s: &str| Addr::new(s.parse().unwrap());
        for (text, want) in [
            ("10.0.0.1", ZoneRef::Zone(0)),
            ("10.63.9.9", ZoneRef::Zone(63)),
            ("10.64.0.1", ZoneRef::Zone(64)),
            ("10.127.0.1", ZoneRef::Zone(127)),
            ("10.128.0.1", ZoneRef::Zone(128)),
            ("10.149.1.1", ZoneRef::Zone(149)),
            ("10.200.0.1", ZoneRef::Zone(150)),
            ("11.0.0.1", ZoneRef::Internet),
        ] {
            assert_eq!(zs.classify(a(text), false, None), want, "{text}");
        }
    }

    #[test]
    fn policy_and_replies() {
        let zs = zones();
        let (web, app, db) = (ZoneRef::Zone(0), ZoneRef::Zone(1), ZoneRef::Zone(2));
        let t = Some(TCP);
        assert_eq!(zs.violation(app, db, t, (40000, 5432), Some(2)), None);
        assert_eq!(
            zs.violation(web, db, t, (40000, 5432), Some(2)),
            Some(false)
        );
        assert_eq!(zs.violation(app, db, t, (40000, 22), Some(3)), Some(false));
        // db's reply to app is into app (unrestricted); app's reply to web on 8080 is a
        // reply: web does not accept from app, but app accepts anything.
        assert_eq!(zs.violation(db, app, t, (5432, 40000), Some(19)), None);
        assert_eq!(zs.violation(app, web, t, (8080, 40000), Some(19)), None);
        // ...unless it is a bare SYN (a connection opened from port 8080).
        assert_eq!(
            zs.violation(app, web, t, (8080, 40000), Some(2)),
            Some(false)
        );
        // db's reply to web's disallowed connection is that connection's violation.
        assert_eq!(
            zs.violation(db, web, t, (5432, 40000), Some(19)),
            Some(true)
        );
        assert_eq!(
            zs.violation(ZoneRef::Internet, web, t, (50000, 443), Some(2)),
            None
        );
        assert_eq!(
            zs.violation(ZoneRef::Internet, web, t, (50000, 22), Some(2)),
            Some(false)
        );
        assert_eq!(zs.violation(db, db, t, (1, 2), None), None);
        assert_eq!(zs.violation(web, ZoneRef::Unzoned, t, (1, 2), None), None);
    }
}
