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

/// IPv4 blocks in 32-bit terms, in zone order, and a table of answers by /24: for every /24
/// from the lowest address of any block to the highest (when there are at most
/// [`MAX_SLASH24S`] of them), the zone all its addresses have, or none, or "scan" when a block
/// smaller than a /24 is in it. Addresses outside that range are in no block.
#[derive(Clone, Debug, PartialEq, Eq)]
struct V4Table {
    blocks: Vec<(u32, u32, u16)>,
    /// The first /24 of the range (`address >> 8`), and its last.
    low: u32,
    high: u32,
    /// By /24 from `low`: [`NO_ZONE`], [`SCAN`] or a zone index. Empty when the range has
    /// more /24s than [`MAX_SLASH24S`] (then every address in it scans).
    by_24: Vec<u16>,
}

/// The most /24s the table of answers covers (32 KB).
const MAX_SLASH24S: u32 = 16_384;
/// No block holds an address of this /24.
const NO_ZONE: u16 = u16::MAX;
/// Blocks smaller than the /24 are in it: scan the blocks.
const SCAN: u16 = u16::MAX - 1;

impl V4Table {
    fn new(blocks: Vec<(u32, u32, u16)>) -> V4Table {
        let low = blocks.iter().map(|b| b.0 >> 8).min().unwrap_or(1);
        let high = blocks.iter().map(|b| (b.0 | !b.1) >> 8).max().unwrap_or(0);
        let span = high.checked_sub(low).map_or(0, |d| d + 1);
        // Zone indexes are below `SCAN` (a pack has far fewer zones).
        let small = blocks.iter().all(|b| b.2 < SCAN);
        let by_24 = if small && span <= MAX_SLASH24S && span as usize * blocks.len() <= 1 << 24 {
            (low..=high).map(|s| answer_24(&blocks, s)).collect()
        } else {
            Vec::new()
        };
        V4Table {
            blocks,
            low,
            high,
            by_24,
        }
    }

    /// The zone of the first block holding `a` (see the type's docs).
    #[inline]
    fn first(&self, a: u32) -> Option<u16> {
        let s = a >> 8;
        if s < self.low || s > self.high {
            return None;
        }
        match self.by_24.get((s - self.low) as usize) {
            Some(&NO_ZONE) => None,
            Some(&z) if z != SCAN => Some(z),
            _ => self.scan(a),
        }
    }

    /// The first block holding `a`, block by block.
    #[inline]
    fn scan(&self, a: u32) -> Option<u16> {
        self.blocks
            .iter()
            .find(|(base, mask, _)| a & mask == *base)
            .map(|b| b.2)
    }
}

/// The answer for every address of the /24 `s` (`address >> 8`): the zone of the first block
/// that meets the /24, when it holds all of it (no block before it holds any of its
/// addresses, so it is every address's first); [`SCAN`] when that block is smaller;
/// [`NO_ZONE`] when no block meets it.
fn answer_24(blocks: &[(u32, u32, u16)], s: u32) -> u16 {
    let (first, last) = (s << 8, (s << 8) | 0xff);
    for &(base, mask, zone) in blocks {
        let (b_first, b_last) = (base, base | !mask);
        if b_last < first || b_first > last {
            continue;
        }
        return if b_first <= first && b_last >= last {
            zone
        } else {
            SCAN
        };
    }
    NO_ZONE
}

/// The IPv4 blocks of `blocks` in 32-bit terms, when no other block holds IPv4 addresses.
fn v4_blocks(blocks: &[(Cidr, u16)]) -> Option<V4Table> {
    let v4: Option<Vec<(u32, u32, u16)>> = blocks
        .iter()
        .filter(|(c, _)| c.holds_v4())
        .map(|(c, i)| c.v4_parts().map(|(base, mask)| (base, mask, *i)))
        .collect();
    v4.map(V4Table::new)
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

    /// The /24 table's answers are the scan's: whole /24s of a zone, /24s with a smaller block
    /// of an earlier zone (scanned), /24s inside a later zone's larger block, the range's
    /// ends; and a range too wide for the table scans.
    #[test]
    fn the_slash24_table_answers_as_the_walk_over_zones() {
        let zone = |i: usize, cidrs: &[String]| Zone {
            name: format!("z{i}"),
            cidrs: CidrSet::new(cidrs.iter().map(|c| Cidr::parse(c).unwrap()).collect()),
            subnets: vec![],
            vpcs: vec![],
            accept_from: None,
        };
        let set = |zones: &[&[&str]]| -> Vec<Zone> {
            zones
                .iter()
                .enumerate()
                .map(|(i, cidrs)| zone(i, &cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>()))
                .collect()
        };
        let many: Vec<String> = (0..40).map(|i| format!("10.9.{i}.0/24")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let sixteens: Vec<String> = (0..150).map(|i| format!("10.{i}.0.0/16")).collect();
        let sixteens: Vec<&str> = sixteens.iter().map(String::as_str).collect();
        let sets = [
            set(&[
                &["10.0.1.0/24"],
                &["10.0.2.0/24"],
                &["10.0.3.0/24"],
                &["10.0.0.48/28"],
            ]),
            set(&[&["10.1.2.16/28"], &["10.1.0.0/16"], &["10.1.2.0/24"]]),
            set(&[&["10.0.0.0/8"], &["172.16.0.0/12"], &["10.0.1.0/24"]]),
            set(&[&many, &["10.9.3.7/32", "10.9.50.0/23"], &["10.9.0.0/16"]]),
            set(&[&sixteens, &["10.0.0.0/8"], &["10.63.0.0/16"]]),
        ];
        let walk = |zs: &Zones, a: Addr| {
            zs.list()
                .iter()
                .position(|z| z.cidrs.contains(a))
                .map_or(ZoneRef::Internet, |i| ZoneRef::Zone(i as u16))
        };
        for (n, set) in sets.into_iter().enumerate() {
            let mut probes: Vec<u32> = vec![0, 1, u32::MAX, 0x0a00_0000, 0x0b00_0001];
            for z in &set {
                for c in z.cidrs.blocks() {
                    let (base, mask) = c.v4_parts().unwrap();
                    let last = base | !mask;
                    for p in [base, last, base.wrapping_sub(1), last.wrapping_add(1)] {
                        probes.extend([p, p ^ 0x80, (p & !0xff) | 0x7f]);
                    }
                }
            }
            let zs = Zones::new(set);
            let table = zs.v4.as_ref().unwrap();
            assert_eq!(table.by_24.is_empty(), n == 2 || n == 4, "set {n}");
            for p in probes {
                let a = Addr::new(std::net::Ipv4Addr::from(p).into());
                assert_eq!(zs.classify(a, false, None), walk(&zs, a), "set {n}, {a}");
            }
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
