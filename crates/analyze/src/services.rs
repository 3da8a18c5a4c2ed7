//! Services: named port sets from the pack's `services` catalogue (`ssh: {ports: [22]}`),
//! port ranges, protocol names, and [`ServiceSet`], the compiled membership test detectors
//! run on every record (a bitmap per protocol: one load and one bit test).

use std::fmt;

/// IANA protocol numbers the packs name.
pub const TCP: u8 = 6;

/// The `pkt-dst-aws-service` labels exfiltration's `exclude_aws_services` leaves out: AWS's
/// managed storage services, where backups and data pipelines send their bulk (reached
/// through gateway endpoints or their public ranges). Never the labels that also cover
/// endpoints anyone runs: `EC2` and `AMAZON` (any instance, an attacker's too),
/// `CLOUDFRONT`, `GLOBALACCELERATOR`, `API_GATEWAY` and the rest.
pub const EXCLUDED_AWS_SERVICES: [&str; 2] = ["S3", "DYNAMODB"];
/// UDP.
pub const UDP: u8 = 17;
/// ICMP.
pub const ICMP: u8 = 1;
/// ICMPv6.
pub const ICMPV6: u8 = 58;
/// SCTP.
pub const SCTP: u8 = 132;

/// Parses a protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `any`) or number;
/// `Some(None)` is "any".
pub fn parse_protocol(text: &str) -> Option<Option<u8>> {
    Some(match text.to_ascii_lowercase().as_str() {
        "any" | "all" => None,
        "tcp" => Some(TCP),
        "udp" => Some(UDP),
        "icmp" => Some(ICMP),
        "icmpv6" => Some(ICMPV6),
        "sctp" => Some(SCTP),
        other => Some(other.parse().ok()?),
    })
}

/// A protocol number as a name where it has one.
pub fn protocol_name(p: u8) -> String {
    match p {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        SCTP => "sctp".into(),
        n => n.to_string(),
    }
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// First port.
    pub lo: u16,
    /// Last port.
    pub hi: u16,
}

impl PortRange {
    /// A single port.
    pub fn one(p: u16) -> PortRange {
        PortRange { lo: p, hi: p }
    }

    /// Parses `22` or `5985-5986`.
    pub fn parse(text: &str) -> Option<PortRange> {
        let text = text.trim();
        let (lo, hi) = match text.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let p = text.parse().ok()?;
                (p, p)
            }
        };
        (lo <= hi).then_some(PortRange { lo, hi })
    }

    /// Whether the range holds the port.
    #[inline]
    pub fn contains(&self, p: u16) -> bool {
        self.lo <= p && p <= self.hi
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

/// One catalogue entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Its name (`ssh`).
    pub name: String,
    /// Its ports.
    pub ports: Vec<PortRange>,
    /// Its protocol; `None` is any.
    pub protocol: Option<u8>,
}

const WORDS: usize = 65_536 / 64;

/// Compiled membership for a detector's services: (protocol, port) → matched, and the
/// service name for findings.
#[derive(Clone, Debug)]
pub struct ServiceSet {
    tcp: Box<[u64; WORDS]>,
    udp: Box<[u64; WORDS]>,
    /// Services on other protocols (or any protocol), checked in order.
    other: Vec<(Option<u8>, PortRange)>,
    entries: Vec<Service>,
}

impl Default for ServiceSet {
    fn default() -> ServiceSet {
        ServiceSet::new(Vec::new())
    }
}

impl ServiceSet {
    /// Compiles these services.
    pub fn new(entries: Vec<Service>) -> ServiceSet {
        let mut set = ServiceSet {
            tcp: Box::new([0; WORDS]),
            udp: Box::new([0; WORDS]),
            other: Vec::new(),
            entries,
        };
        for s in set.entries.clone() {
            for r in &s.ports {
                if matches!(s.protocol, None | Some(TCP)) {
                    mark(&mut set.tcp, *r);
                }
                if matches!(s.protocol, None | Some(UDP)) {
                    mark(&mut set.udp, *r);
                }
                if !matches!(s.protocol, Some(TCP) | Some(UDP)) {
                    set.other.push((s.protocol, *r));
                }
            }
        }
        set
    }

    /// Whether (protocol, port) is one of the services.
    #[inline]
    pub fn contains(&self, protocol: Option<u8>, port: u16) -> bool {
        let bit = |words: &[u64; WORDS]| words[usize::from(port) / 64] >> (port % 64) & 1 == 1;
        match protocol {
            Some(TCP) => bit(&self.tcp),
            Some(UDP) => bit(&self.udp),
            p => self
                .other
                .iter()
                .any(|(sp, r)| (sp.is_none() || *sp == p) && r.contains(port)),
        }
    }

    /// The first service naming (protocol, port).
    pub fn name_of(&self, protocol: Option<u8>, port: u16) -> Option<&str> {
        self.entries
            .iter()
            .find(|s| {
                (s.protocol.is_none() || s.protocol == protocol)
                    && s.ports.iter().any(|r| r.contains(port))
            })
            .map(|s| s.name.as_str())
    }

    /// The services.
    pub fn entries(&self) -> &[Service] {
        &self.entries
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn mark(words: &mut [u64; WORDS], r: PortRange) {
    for p in r.lo..=r.hi {
        words[usize::from(p) / 64] |= 1 << (p % 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_and_names() {
        let set = ServiceSet::new(vec![
            Service {
                name: "ssh".into(),
                ports: vec![PortRange::one(22)],
                protocol: Some(TCP),
            },
            Service {
                name: "winrm".into(),
                ports: vec![PortRange::parse("5985-5986").unwrap()],
                protocol: Some(TCP),
            },
            Service {
                name: "snmp".into(),
                ports: vec![PortRange::one(161)],
                protocol: None,
            },
        ]);
        assert!(set.contains(Some(TCP), 22));
        assert!(!set.contains(Some(UDP), 22));
        assert!(set.contains(Some(TCP), 5986));
        assert!(set.contains(Some(UDP), 161));
        assert!(set.contains(Some(SCTP), 161));
        assert!(set.contains(None, 161));
        assert!(!set.contains(None, 22));
        assert_eq!(set.name_of(Some(TCP), 5985), Some("winrm"));
        assert_eq!(set.name_of(Some(TCP), 80), None);
        assert_eq!(parse_protocol("TCP"), Some(Some(TCP)));
        assert_eq!(parse_protocol("any"), Some(None));
        assert_eq!(parse_protocol("47"), Some(Some(47)));
        assert_eq!(parse_protocol("tcpx"), None);
        assert_eq!(PortRange::parse("10-5"), None);
    }
}
