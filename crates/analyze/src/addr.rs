//! Addresses: the compact [`Addr`] key every detector hashes, [`Cidr`] blocks and
//! [`CidrSet`]s, and the address classes ([`Class`]): *ours* (the pack's `networks.internal`
//! blocks and VPC CIDRs added with `RulePack::add_internal`, IPv4 and IPv6), *private*
//! (built-in private ranges that are not ours: peered VPCs, on-premises) and *public*.
//! Which side of a record is the logged interface (also ours) is decided per record in
//! [`crate::flow`].
//!
//! Internal by default: RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10, link-local
//! 169.254/16, loopback 127/8, "this network" 0/8, IPv6 loopback ::1, unspecified ::,
//! unique-local fc00::/7 and link-local fe80::/10. IPv4-mapped IPv6 addresses are classified
//! as their IPv4 address. Everything else, documentation ranges included, is external.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 or IPv6 address as one `u128` (IPv4 as its IPv4-mapped IPv6 form), so keys are
/// fixed-size, cheap to hash and totally ordered. Aligned to 8 bytes, not `u128`'s 16, so an
/// `Option<(Addr, Addr)>` takes 40 bytes instead of 48 (a [`Flow`](crate::Flow) holds two);
/// the field is read by value (`addr.0`), never borrowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(C, packed(8))]
pub struct Addr(pub u128);

const V4_MAPPED: u128 = 0xffff_u128 << 32;
const V4_MAPPED_MASK: u128 = !0u128 << 32;

impl Addr {
    /// The compact form of an address.
    #[inline]
    pub fn new(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr(V4_MAPPED | u128::from(u32::from(v4))),
            IpAddr::V6(v6) => Addr(u128::from(v6)),
        }
    }

    /// Whether this is an IPv4 address (or an IPv4-mapped IPv6 one).
    #[inline]
    pub fn is_v4(self) -> bool {
        self.0 & V4_MAPPED_MASK == V4_MAPPED
    }

    /// The address back as an [`IpAddr`] (IPv4-mapped addresses become IPv4).
    pub fn ip(self) -> IpAddr {
        if self.is_v4() {
            IpAddr::V4(Ipv4Addr::from(self.0 as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.0))
        }
    }
}

impl From<IpAddr> for Addr {
    fn from(ip: IpAddr) -> Addr {
        Addr::new(ip)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ip().fmt(f)
    }
}

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`), held in the [`Addr`] space: an IPv4 /n is
/// an IPv6 /(96+n) over the mapped range, so one comparison serves both families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    base: u128,
    mask: u128,
    /// Prefix length as written (IPv4 lengths are 0–32).
    prefix: u8,
    v4: bool,
}

/// Why a CIDR did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// Not an address, or not `address/prefix`.
    Syntax,
    /// Prefix longer than the address family allows.
    Prefix,
    /// Bits set after the prefix (`10.0.0.1/8`); carries the block that was probably meant.
    HostBits(String),
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidrError::Syntax => f.write_str("expected a CIDR block such as 10.0.0.0/16"),
            CidrError::Prefix => f.write_str("the prefix length is too long for the address"),
            CidrError::HostBits(meant) => {
                write!(
                    f,
                    "host bits are set after the prefix (did you mean {meant}?)"
                )
            }
        }
    }
}

impl Cidr {
    /// Parses `address/prefix`; a bare address is a single host (/32 or /128).
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let (ip_text, prefix_text) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let ip: IpAddr = ip_text.parse().map_err(|_| CidrError::Syntax)?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = match prefix_text {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| CidrError::Prefix)?
            }
            Some(_) => return Err(CidrError::Syntax),
            None => max,
        };
        if prefix > max {
            return Err(CidrError::Prefix);
        }
        let cidr = Cidr::from_parts(ip, prefix);
        if Addr::new(ip).0 != cidr.base {
            return Err(CidrError::HostBits(
                Cidr::from_parts(ip, prefix).to_string(),
            ));
        }
        Ok(cidr)
    }

    /// The block of `prefix` bits around `ip` (host bits cleared).
    pub fn from_parts(ip: IpAddr, prefix: u8) -> Cidr {
        let v4 = ip.is_ipv4();
        let bits = if v4 {
            96 + u32::from(prefix)
        } else {
            u32::from(prefix)
        };
        let mask = if bits == 0 { 0 } else { !0u128 << (128 - bits) };
        Cidr {
            base: Addr::new(ip).0 & mask,
            mask,
            prefix,
            v4,
        }
    }

    /// Whether the block contains the address.
    #[inline]
    pub fn contains(&self, addr: Addr) -> bool {
        addr.0 & self.mask == self.base
    }

    /// (base, mask) of an IPv4 block in IPv4 terms, for 32-bit tests of IPv4 addresses.
    pub fn v4_parts(&self) -> Option<(u32, u32)> {
        self.v4.then_some((self.base as u32, self.mask as u32))
    }

    /// Whether the block holds some IPv4(-mapped) address: an IPv4 block, or an IPv6 one
    /// around or inside `::ffff:0:0/96`.
    pub fn holds_v4(&self) -> bool {
        (self.base ^ V4_MAPPED) & self.mask & V4_MAPPED_MASK == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = if self.v4 {
            IpAddr::V4(Ipv4Addr::from(self.base as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.base))
        };
        write!(f, "{ip}/{}", self.prefix)
    }
}

/// A list of CIDR blocks. Membership of an IPv4 address is answered by a table
/// ([`V4Members`]) when the set's IPv4 blocks allow it, else block by block.
#[derive(Clone, Debug, Default)]
pub struct CidrSet {
    blocks: Vec<Cidr>,
    /// Built from `blocks` by [`CidrSet::new`] and [`CidrSet::extend`] (the default set, with
    /// no blocks, has none: it scans nothing).
    v4: Option<V4Members>,
}

/// Sets are equal when their blocks are (the table is derived from them).
impl PartialEq for CidrSet {
    fn eq(&self, other: &CidrSet) -> bool {
        self.blocks == other.blocks
    }
}

impl Eq for CidrSet {}

impl CidrSet {
    /// A set of these blocks.
    pub fn new(blocks: Vec<Cidr>) -> CidrSet {
        let v4 = V4Members::new(&blocks);
        CidrSet { blocks, v4 }
    }

    /// Whether any block contains the address.
    #[inline]
    pub fn contains(&self, addr: Addr) -> bool {
        match &self.v4 {
            Some(t) if addr.is_v4() => t.contains(addr.0 as u32),
            _ => self.scan(addr),
        }
    }

    /// [`CidrSet::contains`] block by block.
    #[inline]
    fn scan(&self, addr: Addr) -> bool {
        self.blocks.iter().any(|b| b.contains(addr))
    }

    /// Whether the set has no blocks.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Cidr] {
        &self.blocks
    }

    /// Adds blocks not already in the set.
    pub fn extend(&mut self, blocks: impl IntoIterator<Item = Cidr>) {
        for b in blocks {
            if !self.blocks.contains(&b) {
                self.blocks.push(b);
            }
        }
        self.v4 = V4Members::new(&self.blocks);
    }
}

/// Membership of IPv4 addresses in a set's blocks, by /24: for each /24 from the lowest
/// address of any IPv4 block to the highest, whether none, all or some of its addresses are
/// in the set, and for "some" a bitmap of its 256 addresses. Addresses outside that range are
/// in no block. Built only when every block that holds IPv4 addresses is an IPv4 block and
/// the range has at most [`MAX_SLASH24S`] /24s (else the set is scanned).
#[derive(Clone, Debug, PartialEq, Eq)]
struct V4Members {
    /// The first and last /24 of the range (`address >> 8`).
    low: u32,
    high: u32,
    /// By /24 from `low`: [`NONE_IN`], [`ALL_IN`], or `2 + i` for bitmap `i`.
    by_24: Vec<u16>,
    bitmaps: Vec<[u64; 4]>,
}

/// The most /24s a [`V4Members`] covers (32 KB of table).
const MAX_SLASH24S: u32 = 16_384;
const NONE_IN: u16 = 0;
const ALL_IN: u16 = 1;

impl V4Members {
    fn new(blocks: &[Cidr]) -> Option<V4Members> {
        let mut v4 = Vec::new();
        for b in blocks.iter().filter(|b| b.holds_v4()) {
            v4.push(b.v4_parts()?);
        }
        let low = v4.iter().map(|b| b.0 >> 8).min().unwrap_or(1);
        let high = v4.iter().map(|b| (b.0 | !b.1) >> 8).max().unwrap_or(0);
        let span = high.checked_sub(low).map_or(0, |d| d + 1);
        if span > MAX_SLASH24S || span as usize * v4.len() > 1 << 24 {
            return None;
        }
        let mut table = V4Members {
            low,
            high,
            by_24: Vec::with_capacity(span as usize),
            bitmaps: Vec::new(),
        };
        for s in (low..=high).take(span as usize) {
            let entry = table.entry_24(&v4, s)?;
            table.by_24.push(entry);
        }
        Some(table)
    }

    /// The entry of /24 `s`: all when a block holds all of it, else a bitmap of the addresses
    /// the blocks that meet it hold, else none. None when there are too many bitmaps.
    fn entry_24(&mut self, v4: &[(u32, u32)], s: u32) -> Option<u16> {
        let (first, last) = (s << 8, (s << 8) | 0xff);
        let meets = |&&(base, mask): &&(u32, u32)| base <= last && (base | !mask) >= first;
        if v4
            .iter()
            .filter(meets)
            .any(|&(base, mask)| base <= first && (base | !mask) >= last)
        {
            return Some(ALL_IN);
        }
        let mut bits = [0u64; 4];
        let mut any = false;
        for &(base, mask) in v4.iter().filter(meets) {
            // Smaller than the /24 and inside it.
            for a in base..=(base | !mask) {
                let i = (a & 0xff) as usize;
                bits[i / 64] |= 1 << (i % 64);
                any = true;
            }
        }
        if !any {
            return Some(NONE_IN);
        }
        let index = u16::try_from(self.bitmaps.len() + 2).ok()?;
        self.bitmaps.push(bits);
        Some(index)
    }

    /// Whether the set holds `a` (see the type's docs).
    #[inline]
    fn contains(&self, a: u32) -> bool {
        let s = a >> 8;
        if s < self.low || s > self.high {
            return false;
        }
        match self.by_24.get((s - self.low) as usize) {
            Some(&NONE_IN) | None => false,
            Some(&ALL_IN) => true,
            Some(&i) => self.bitmaps.get(usize::from(i) - 2).is_some_and(|bits| {
                let i = (a & 0xff) as usize;
                bits[i / 64] >> (i % 64) & 1 == 1
            }),
        }
    }
}

/// The built-in internal ranges (see the module docs).
pub const BUILTIN_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "0.0.0.0/8",
    "::1/128",
    "::/128",
    "fc00::/7",
    "fe80::/10",
];

/// The class of an address, from the point of view of the estate being analyzed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Our address space: VPC CIDRs, pack `networks.internal`, or the logged interface.
    Ours,
    /// A built-in private range that is not known to be ours (peering, on-premises, another
    /// VPC), or a public address reached over a private path (VGW, peering, local gateway).
    Private,
    /// Everything else: the internet.
    #[default]
    Public,
}

impl Class {
    /// The label in JSON and tables (`ours`, `private`, `public`).
    pub fn label(self) -> &'static str {
        match self {
            Class::Ours => "ours",
            Class::Private => "private",
            Class::Public => "public",
        }
    }

    /// Ours or private (the old "internal").
    #[inline]
    pub fn internal(self) -> bool {
        self != Class::Public
    }
}

/// Decides whether an address is internal: the built-in ranges (unless turned off) plus the
/// pack's own blocks; also holds the relay blocks (`networks.middleboxes`,
/// `networks.nat_gateways`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Networks {
    builtin: bool,
    extra: CidrSet,
    middleboxes: CidrSet,
    nat_gateways: CidrSet,
}

impl Default for Networks {
    fn default() -> Networks {
        Networks::new(true, CidrSet::default())
    }
}

impl Networks {
    /// Built-in ranges when `builtin`, plus `extra`.
    pub fn new(builtin: bool, extra: CidrSet) -> Networks {
        Networks {
            builtin,
            extra,
            middleboxes: CidrSet::default(),
            nat_gateways: CidrSet::default(),
        }
    }

    /// Whether the built-in ranges count (`networks.builtin_internal`).
    pub fn builtin(&self) -> bool {
        self.builtin
    }

    /// The pack's own blocks (`networks.internal`).
    pub fn extra(&self) -> &CidrSet {
        &self.extra
    }

    /// Whether the address is internal (ours or a built-in private range).
    #[inline]
    pub fn is_internal(&self, addr: Addr) -> bool {
        (self.builtin && builtin_internal(addr)) || self.extra.contains(addr)
    }

    /// Whether the address is in our own blocks (pack `networks.internal`, VPC CIDRs).
    #[inline]
    pub fn is_ours(&self, addr: Addr) -> bool {
        self.extra.contains(addr)
    }

    /// Whether the address is in a built-in private range (when those are on).
    #[inline]
    pub fn is_builtin_private(&self, addr: Addr) -> bool {
        self.builtin && builtin_internal(addr)
    }

    /// The class of an address by its blocks alone (the interface side is decided per record).
    #[inline]
    pub fn class(&self, addr: Addr) -> Class {
        if self.is_ours(addr) {
            Class::Ours
        } else if self.is_builtin_private(addr) {
            Class::Private
        } else {
            Class::Public
        }
    }

    /// Adds blocks to ours (VPC CIDRs, IPv4 and IPv6); duplicates are skipped.
    pub fn add_ours(&mut self, blocks: impl IntoIterator<Item = Cidr>) {
        self.extra.extend(blocks);
    }

    /// Relay blocks (any middlebox kind, NAT gateways included).
    pub fn middleboxes(&self) -> &CidrSet {
        &self.middleboxes
    }

    /// NAT gateway blocks (a subset of [`Networks::middleboxes`]).
    pub fn nat_gateways(&self) -> &CidrSet {
        &self.nat_gateways
    }

    /// Adds relay blocks.
    pub fn add_middleboxes(&mut self, blocks: impl IntoIterator<Item = Cidr>) {
        self.middleboxes.extend(blocks);
    }

    /// Adds NAT gateway blocks (also relays).
    pub fn add_nat_gateways(&mut self, blocks: impl IntoIterator<Item = Cidr>) {
        let blocks: Vec<Cidr> = blocks.into_iter().collect();
        self.middleboxes.extend(blocks.iter().copied());
        self.nat_gateways.extend(blocks);
    }
}

/// The built-in classification, by bit tests (no table walk on the hot path).
#[inline]
fn builtin_internal(addr: Addr) -> bool {
    if addr.is_v4() {
        let v4 = addr.0 as u32;
        let a = v4 >> 24;
        let b = (v4 >> 16) & 0xff;
        a == 10
            || a == 127
            || a == 0
            || (a == 172 && (16..32).contains(&b))
            || (a == 192 && b == 168)
            || (a == 169 && b == 254)
            || (a == 100 && (64..128).contains(&b))
    } else {
        let v6 = addr.0;
        v6 <= 1 // :: and ::1
            || v6 >> 121 == 0xfc >> 1 // fc00::/7
            || v6 >> 118 == 0xfe80 >> 6 // fe80::/10
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Addr {
        Addr::new(s.parse().unwrap())
    }

    #[test]
    fn builtin_ranges_match_their_cidrs() {
        let net = Networks::default();
        for block in BUILTIN_INTERNAL {
            let c = Cidr::parse(block).unwrap();
            assert!(net.is_internal(Addr(c.base)), "{block}");
        }
        for inside in [
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "100.127.0.1",
            "169.254.169.254",
            "::1",
            "fd12::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(net.is_internal(a(inside)), "{inside}");
        }
        for outside in [
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "203.0.113.5",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(!net.is_internal(a(outside)), "{outside}");
        }
        let none = Networks::new(
            false,
            CidrSet::new(vec![Cidr::parse("8.8.8.0/24").unwrap()]),
        );
        assert!(!none.is_internal(a("10.0.0.1")));
        assert!(none.is_internal(a("8.8.8.8")));
    }

    /// The IPv4 table answers as the block-by-block scan: whole /24s, /24s with hosts and
    /// small blocks (bitmaps), nested blocks, the range's ends, IPv6 addresses; and sets it is
    /// not built for (IPv6 blocks over IPv4-mapped space, ranges too wide) still answer.
    #[test]
    fn the_ipv4_table_answers_as_the_scan() {
        let set = |blocks: &[&str]| {
            CidrSet::new(blocks.iter().map(|b| Cidr::parse(b).unwrap()).collect())
        };
        let hosts: Vec<String> = (0..40)
            .map(|i| format!("10.20.{}.{}/32", i % 7, i * 5))
            .collect();
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let mut grown = set(&["10.20.0.0/16"]);
        grown.extend([Cidr::parse("10.21.0.7/32").unwrap()]);
        let sets = [
            (
                set(&["10.20.0.0/16", "10.21.0.0/16", "2600:1f18::/56"]),
                true,
            ),
            (set(&hosts), true),
            (
                set(&[
                    "10.20.0.220/32",
                    "10.20.0.48/28",
                    "10.20.0.0/26",
                    "10.20.9.0/24",
                ]),
                true,
            ),
            (set(&["10.0.0.0/8", "172.16.0.0/12"]), false),
            (set(&["::ffff:10.0.0.0/104", "10.1.0.0/16"]), false),
            (set(&["2600:1f18::/56"]), true),
            (grown, true),
            (CidrSet::default(), false),
        ];
        for (n, (set, table)) in sets.iter().enumerate() {
            assert_eq!(set.v4.is_some(), *table, "set {n}");
            let mut probes = vec![
                a("0.0.0.0"),
                a("255.255.255.255"),
                a("2600:1f18::1"),
                a("::1"),
            ];
            for b in set.blocks() {
                if let Some((base, mask)) = b.v4_parts() {
                    let last = base | !mask;
                    for p in [base, last, base.wrapping_sub(1), last.wrapping_add(1)] {
                        for q in [p, p ^ 1, p ^ 0x80, (p & !0xff) | 0x7f] {
                            probes.push(Addr::new(Ipv4Addr::from(q).into()));
                        }
                    }
                }
            }
            for p in probes {
                assert_eq!(set.contains(p), set.scan(p), "set {n}, {p}");
            }
        }
    }

    #[test]
    fn cidr_parsing() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains(a("10.1.200.3")));
        assert!(!c.contains(a("10.2.0.1")));
        assert!(!c.contains(a("::a01:1")));
        assert_eq!(c.to_string(), "10.1.0.0/16");
        assert_eq!(Cidr::parse("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(
            Cidr::parse("10.0.0.1/8"),
            Err(CidrError::HostBits("10.0.0.0/8".into()))
        );
        assert_eq!(Cidr::parse("10.0.0.0/33"), Err(CidrError::Prefix));
        assert_eq!(Cidr::parse("10.0.0/8"), Err(CidrError::Syntax));
        assert_eq!(Cidr::parse("10.0.0.0/x"), Err(CidrError::Syntax));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(a("1.2.3.4")));
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains(a("2001:db8::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(a("2001:db8::1")));
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains(a("2001:db8:1::5"))
        );
        assert_eq!(a("10.0.0.1").ip().to_string(), "10.0.0.1");
        assert_eq!(a("2001:db8::1").to_string(), "2001:db8::1");
    }
}
