//! Small typed values the decoder produces for fields that are neither plain integers,
//! addresses nor free text: the enumerations (`action`, `log-status`, `type`,
//! `flow-direction`, `traffic-path`), TCP flag bits and start/end timestamps.
//!
//! Each enumeration parses exactly the text AWS writes (case-sensitive) and displays it back.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $expected:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// What a line must hold for this field, for error messages.
            pub const EXPECTED: &'static str = $expected;

            /// Parses the exact AWS text (case-sensitive).
            #[inline]
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The AWS text of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// `action`: what the security groups and network ACLs did with the traffic.
    Action, "ACCEPT or REJECT" {
        /// Traffic was allowed.
        Accept = "ACCEPT",
        /// Traffic was denied.
        Reject = "REJECT",
    }
}

text_enum! {
    /// `log-status`: whether the record holds flow data.
    LogStatus, "OK, NODATA or SKIPDATA" {
        /// Data is logged normally.
        Ok = "OK",
        /// No traffic to or from the interface during the aggregation interval.
        NoData = "NODATA",
        /// Some records were skipped in the interval (capacity or internal error).
        SkipData = "SKIPDATA",
    }
}

text_enum! {
    /// `type`: the kind of traffic.
    TrafficType, "IPv4, IPv6 or EFA" {
        /// IPv4 traffic.
        Ipv4 = "IPv4",
        /// IPv6 traffic.
        Ipv6 = "IPv6",
        /// Elastic Fabric Adapter traffic.
        Efa = "EFA",
    }
}

text_enum! {
    /// `flow-direction`: direction of the flow relative to the interface.
    FlowDirection, "ingress or egress" {
        /// Into the interface.
        Ingress = "ingress",
        /// Out of the interface.
        Egress = "egress",
    }
}

/// `traffic-path`: the path egress traffic takes to its destination (codes 1–8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TrafficPath {
    /// 1: through another resource in the same VPC (including resources with an interface in it).
    SameVpc = 1,
    /// 2: through an internet gateway or a gateway VPC endpoint.
    InternetGatewayOrGatewayEndpoint = 2,
    /// 3: through a virtual private gateway.
    VirtualPrivateGateway = 3,
    /// 4: through an intra-region VPC peering connection.
    IntraRegionPeering = 4,
    /// 5: through an inter-region VPC peering connection.
    InterRegionPeering = 5,
    /// 6: through a local gateway.
    LocalGateway = 6,
    /// 7: through a gateway VPC endpoint (Nitro-based instances only).
    GatewayEndpointNitro = 7,
    /// 8: through an internet gateway (Nitro-based instances only).
    InternetGatewayNitro = 8,
}

impl TrafficPath {
    /// What a line must hold for this field, for error messages.
    pub const EXPECTED: &'static str = "a traffic path code 1-8";

    /// The path for a numeric code, or `None` outside 1–8.
    pub fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            1 => Self::SameVpc,
            2 => Self::InternetGatewayOrGatewayEndpoint,
            3 => Self::VirtualPrivateGateway,
            4 => Self::IntraRegionPeering,
            5 => Self::InterRegionPeering,
            6 => Self::LocalGateway,
            7 => Self::GatewayEndpointNitro,
            8 => Self::InternetGatewayNitro,
            _ => return None,
        })
    }

    /// The numeric code AWS writes.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for TrafficPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// `tcp-flags`: bitwise OR of the TCP header flags seen during the aggregation interval.
///
/// AWS documents FIN (1), SYN (2), RST (4) and SYN-ACK (18); the other header bits are kept
/// as written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(1);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(2);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(4);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(8);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(16);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(32);
    /// SYN together with ACK (18), as AWS reports a server's handshake reply.
    pub const SYN_ACK: TcpFlags = TcpFlags(18);

    /// The raw bits.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `start` / `end`: a Unix timestamp as written in the record.
///
/// AWS writes seconds (10 digits). Some pipelines re-export millisecond values (13 digits);
/// both are accepted. [`raw`](Self::raw) keeps the value as written, [`unix_secs`](Self::unix_secs)
/// normalises to seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    /// Raw values at or above this (13 digits) are milliseconds.
    pub const MILLIS_FROM: u64 = 1_000_000_000_000;
    /// Raw values at or above this (14+ digits) are rejected.
    pub const LIMIT: u64 = 10_000_000_000_000;
    /// What a line must hold for this field, for error messages.
    pub const EXPECTED: &'static str = "Unix seconds (up to 10 digits) or milliseconds (13 digits)";

    /// Wraps a raw value; `None` if it has more than 13 digits.
    pub fn from_raw(raw: u64) -> Option<Self> {
        (raw < Self::LIMIT).then_some(Timestamp(raw))
    }

    /// A timestamp in Unix seconds.
    pub fn from_secs(secs: u32) -> Self {
        Timestamp(u64::from(secs))
    }

    /// The value as written in the record.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// Whether the record wrote milliseconds (13 digits).
    pub fn is_millis(self) -> bool {
        self.0 >= Self::MILLIS_FROM
    }

    /// Unix seconds (milliseconds are divided by 1000, rounding down).
    pub fn unix_secs(self) -> u64 {
        if self.is_millis() {
            self.0 / 1000
        } else {
            self.0
        }
    }

    /// Unix milliseconds.
    pub fn unix_millis(self) -> u64 {
        if self.is_millis() {
            self.0
        } else {
            self.0 * 1000
        }
    }

    /// As a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.unix_millis())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_are_case_sensitive() {
        for a in [Action::Accept, Action::Reject] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(LogStatus::parse("SKIPDATA"), Some(LogStatus::SkipData));
        assert_eq!(TrafficType::parse("IPv6"), Some(TrafficType::Ipv6));
        assert_eq!(TrafficType::parse("ipv6"), None);
        assert_eq!(FlowDirection::Egress.to_string(), "egress");
        assert_eq!(Action::parse("accept"), None);
    }

    #[test]
    fn traffic_path_codes() {
        for code in 1..=8 {
            assert_eq!(
                TrafficPath::from_code(code).map(|p| u64::from(p.code())),
                Some(code)
            );
        }
        assert_eq!(TrafficPath::from_code(0), None);
        assert_eq!(TrafficPath::from_code(9), None);
    }

    #[test]
    fn tcp_flags_bits() {
        let f = TcpFlags(19);
        assert!(f.contains(TcpFlags::SYN_ACK));
        assert!(f.contains(TcpFlags::FIN));
        assert!(!f.contains(TcpFlags::RST));
        assert_eq!(
            TcpFlags::SYN_ACK,
            TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0)
        );
    }

    #[test]
    fn timestamps_normalise_milliseconds() {
        let s = Timestamp::from_raw(1_418_530_010).unwrap();
        assert!(!s.is_millis());
        assert_eq!(
            (s.unix_secs(), s.unix_millis()),
            (1_418_530_010, 1_418_530_010_000)
        );
        let ms = Timestamp::from_raw(1_512_564_058_999).unwrap();
        assert!(ms.is_millis());
        assert_eq!(
            (ms.raw(), ms.unix_secs()),
            (1_512_564_058_999, 1_512_564_058)
        );
        assert_eq!(Timestamp::from_raw(10_000_000_000_000), None);
        assert_eq!(
            Timestamp::from_secs(7).to_system_time(),
            UNIX_EPOCH + Duration::from_secs(7)
        );
    }
}
