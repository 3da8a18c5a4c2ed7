//! The catalogue of known flow log fields: every VPC flow log field of versions 2–8 in AWS
//! documentation order, followed by the fields that only Transit Gateway flow logs carry.
//!
//! This module owns the names, the version each field appeared in, the value type the decoder
//! gives it and whether it belongs to VPC logs, Transit Gateway logs or both. It is public so
//! callers can validate user-written log formats (`lookup`) without decoding anything.

use std::fmt;

/// Highest VPC flow log version this crate knows about.
pub const LATEST_VERSION: u8 = 8;

/// A known flow log field. The discriminant is the field's index in [`all`], so the first
/// 40 variants are the VPC fields in AWS documentation order and the last 18 the
/// Transit Gateway-only fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    // Version 2 (the default format, in this order).
    /// `version`.
    Version,
    /// `account-id`.
    AccountId,
    /// `interface-id`.
    InterfaceId,
    /// `srcaddr`.
    Srcaddr,
    /// `dstaddr`.
    Dstaddr,
    /// `srcport`.
    Srcport,
    /// `dstport`.
    Dstport,
    /// `protocol`.
    Protocol,
    /// `packets`.
    Packets,
    /// `bytes`.
    Bytes,
    /// `start`.
    Start,
    /// `end`.
    End,
    /// `action`.
    Action,
    /// `log-status`.
    LogStatus,
    // Version 3.
    /// `vpc-id`.
    VpcId,
    /// `subnet-id`.
    SubnetId,
    /// `instance-id`.
    InstanceId,
    /// `tcp-flags`.
    TcpFlags,
    /// `type`.
    Type,
    /// `pkt-srcaddr`.
    PktSrcaddr,
    /// `pkt-dstaddr`.
    PktDstaddr,
    // Version 4.
    /// `region`.
    Region,
    /// `az-id`.
    AzId,
    /// `sublocation-type`.
    SublocationType,
    /// `sublocation-id`.
    SublocationId,
    // Version 5.
    /// `pkt-src-aws-service`.
    PktSrcAwsService,
    /// `pkt-dst-aws-service`.
    PktDstAwsService,
    /// `flow-direction`.
    FlowDirection,
    /// `traffic-path`.
    TrafficPath,
    // Version 7.
    /// `ecs-cluster-arn`.
    EcsClusterArn,
    /// `ecs-cluster-name`.
    EcsClusterName,
    /// `ecs-container-instance-arn`.
    EcsContainerInstanceArn,
    /// `ecs-container-instance-id`.
    EcsContainerInstanceId,
    /// `ecs-container-id`.
    EcsContainerId,
    /// `ecs-second-container-id`.
    EcsSecondContainerId,
    /// `ecs-service-name`.
    EcsServiceName,
    /// `ecs-task-definition-arn`.
    EcsTaskDefinitionArn,
    /// `ecs-task-arn`.
    EcsTaskArn,
    /// `ecs-task-id`.
    EcsTaskId,
    // Version 8.
    /// `reject-reason`.
    RejectReason,
    // Transit Gateway flow logs only (version 6).
    /// `resource-type`.
    ResourceType,
    /// `tgw-id`.
    TgwId,
    /// `tgw-attachment-id`.
    TgwAttachmentId,
    /// `tgw-src-vpc-account-id`.
    TgwSrcVpcAccountId,
    /// `tgw-dst-vpc-account-id`.
    TgwDstVpcAccountId,
    /// `tgw-src-vpc-id`.
    TgwSrcVpcId,
    /// `tgw-dst-vpc-id`.
    TgwDstVpcId,
    /// `tgw-src-subnet-id`.
    TgwSrcSubnetId,
    /// `tgw-dst-subnet-id`.
    TgwDstSubnetId,
    /// `tgw-src-eni`.
    TgwSrcEni,
    /// `tgw-dst-eni`.
    TgwDstEni,
    /// `tgw-src-az-id`.
    TgwSrcAzId,
    /// `tgw-dst-az-id`.
    TgwDstAzId,
    /// `tgw-pair-attachment-id`.
    TgwPairAttachmentId,
    /// `packets-lost-no-route`.
    PacketsLostNoRoute,
    /// `packets-lost-blackhole`.
    PacketsLostBlackhole,
    /// `packets-lost-mtu-exceeded`.
    PacketsLostMtuExceeded,
    /// `packets-lost-ttl-expired`.
    PacketsLostTtlExpired,
}

/// Number of known fields (the length of [`all`]).
pub const FIELD_COUNT: usize = 58;

/// Number of VPC flow log fields (the length of [`vpc_fields`]).
pub const VPC_FIELD_COUNT: usize = 40;

impl Field {
    /// The catalogue entry of this field.
    pub fn info(self) -> &'static FieldInfo {
        &ALL[self as usize]
    }

    /// The field name as AWS writes it (`srcaddr`, `log-status`, ...).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The field with this exact AWS name.
    pub fn from_name(name: &str) -> Option<Field> {
        lookup(name).map(|info| info.field)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Rust type the decoder produces for a field (see `FlowRecord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `u8` (version, protocol).
    U8,
    /// `u16` (ports).
    U16,
    /// `u64` (packet, byte and lost-packet counters).
    U64,
    /// `Timestamp` (Unix seconds, or milliseconds when 13 digits).
    Timestamp,
    /// `std::net::IpAddr`, IPv4 or IPv6.
    Ip,
    /// Borrowed text (`&str`): ids, ARNs, names, regions.
    Text,
    /// `Action` (ACCEPT / REJECT).
    Action,
    /// `LogStatus` (OK / NODATA / SKIPDATA).
    LogStatus,
    /// `TrafficType` (IPv4 / IPv6 / EFA).
    TrafficType,
    /// `TcpFlags` (OR of TCP header flag bits).
    TcpFlags,
    /// `FlowDirection` (ingress / egress).
    FlowDirection,
    /// `TrafficPath` (1–8).
    TrafficPath,
}

impl FieldType {
    /// Whether values of this type are integers in text form (what JSON fixtures and
    /// Parquet store as numbers).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::U8
                | FieldType::U16
                | FieldType::U64
                | FieldType::Timestamp
                | FieldType::TcpFlags
                | FieldType::TrafficPath
        )
    }
}

impl FieldType {
    /// The Athena (Hive DDL) column type for values of this type: integers that fit 32 bits
    /// are `int`, counters and times `bigint`, everything else `string` (addresses, ids,
    /// ACCEPT/REJECT, OK/NODATA/SKIPDATA). Plain-text logs write `-` for an absent value,
    /// which Athena reads as NULL in a numeric column. Parquet stores the same three kinds
    /// (AWS VPC User Guide, "Flow log records": INT_32, INT_64, STRING).
    pub fn athena_type(self) -> &'static str {
        match self {
            FieldType::U8 | FieldType::U16 | FieldType::TcpFlags | FieldType::TrafficPath => "int",
            FieldType::U64 | FieldType::Timestamp => "bigint",
            FieldType::Ip
            | FieldType::Text
            | FieldType::Action
            | FieldType::LogStatus
            | FieldType::TrafficType
            | FieldType::FlowDirection => "string",
        }
    }
}

/// Which kind of flow log can carry a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// VPC (network interface, subnet, VPC) flow logs only.
    Vpc,
    /// Transit Gateway flow logs only.
    TransitGateway,
    /// Both VPC and Transit Gateway flow logs.
    Both,
}

/// One entry of the field catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field.
    pub field: Field,
    /// Name as written in a log format (`${name}`) and in an S3 header line.
    pub name: &'static str,
    /// The flow log version that introduced the field (VPC numbering; Transit Gateway-only
    /// fields are version 6, the version Transit Gateway flow logs are written with).
    pub version: u8,
    /// Decoded value type.
    pub ty: FieldType,
    /// Which flow logs can carry it.
    pub scope: Scope,
    /// One-line description.
    pub summary: &'static str,
}

impl FieldInfo {
    /// Whether a VPC flow log's format may contain this field.
    pub fn in_vpc_logs(&self) -> bool {
        matches!(self.scope, Scope::Vpc | Scope::Both)
    }

    /// Whether a Transit Gateway flow log's format may contain this field.
    pub fn in_transit_gateway_logs(&self) -> bool {
        matches!(self.scope, Scope::TransitGateway | Scope::Both)
    }
}

/// The catalogue entry for an exact AWS field name (`"pkt-srcaddr"`), or `None` for a name
/// this crate does not know (such fields are still decoded, as raw text).
pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    ALL.iter().find(|info| info.name == name)
}

/// The known field name a misspelled one most likely meant (`dst-port` → `dstport`,
/// `srcadr` → `srcaddr`): the same letters without `-`/`_` and case, else at most two
/// edits away (the nearest; none when two are as near). `None` for a name that is no near
/// miss (a field AWS added after this catalogue).
pub fn suggest(name: &str) -> Option<&'static str> {
    let squash = |s: &str| -> Vec<u8> {
        s.bytes()
            .filter(|b| !matches!(b, b'-' | b'_'))
            .map(|b| b.to_ascii_lowercase())
            .collect()
    };
    let want = squash(name);
    let mut best: Option<(usize, &'static str)> = None;
    let mut tie = false;
    for info in ALL.iter() {
        let d = edit_distance(&want, &squash(info.name));
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ if d <= 2 => {
                best = Some((d, info.name));
                tie = false;
            }
            _ => {}
        }
    }
    best.filter(|_| !tie).map(|(_, n)| n)
}

/// Levenshtein distance of two short byte strings.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(x != y));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Every known field: the 40 VPC fields in AWS documentation order, then the 18 Transit
/// Gateway-only fields in Transit Gateway documentation order.
pub fn all() -> &'static [FieldInfo] {
    &ALL
}

/// The VPC flow log fields (versions 2–8) in AWS documentation order, which is also the
/// order of the version 2 default format for its first 14 entries.
pub fn vpc_fields() -> &'static [FieldInfo] {
    &ALL[..VPC_FIELD_COUNT]
}

/// The fields a Transit Gateway flow log can carry, in Transit Gateway documentation order
/// (the order of the format AWS uses when none is given).
pub fn transit_gateway_fields() -> impl ExactSizeIterator<Item = &'static FieldInfo> {
    TRANSIT_GATEWAY_ORDER.iter().map(|f| f.info())
}

/// The version 2 default format, in order.
pub const DEFAULT_V2_FIELDS: [Field; 14] = [
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
];

/// All Transit Gateway flow log fields in Transit Gateway documentation order.
pub const TRANSIT_GATEWAY_ORDER: [Field; 36] = [
    Field::Version,
    Field::ResourceType,
    Field::AccountId,
    Field::TgwId,
    Field::TgwAttachmentId,
    Field::TgwSrcVpcAccountId,
    Field::TgwDstVpcAccountId,
    Field::TgwSrcVpcId,
    Field::TgwDstVpcId,
    Field::TgwSrcSubnetId,
    Field::TgwDstSubnetId,
    Field::TgwSrcEni,
    Field::TgwDstEni,
    Field::TgwSrcAzId,
    Field::TgwDstAzId,
    Field::TgwPairAttachmentId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::LogStatus,
    Field::Type,
    Field::PacketsLostNoRoute,
    Field::PacketsLostBlackhole,
    Field::PacketsLostMtuExceeded,
    Field::PacketsLostTtlExpired,
    Field::TcpFlags,
    Field::Region,
    Field::FlowDirection,
    Field::PktSrcAwsService,
    Field::PktDstAwsService,
];

const fn info(
    field: Field,
    name: &'static str,
    version: u8,
    ty: FieldType,
    scope: Scope,
    summary: &'static str,
) -> FieldInfo {
    FieldInfo {
        field,
        name,
        version,
        ty,
        scope,
        summary,
    }
}

use FieldType as T;
use Scope::{Both, TransitGateway as Tgw, Vpc};

#[rustfmt::skip]
static ALL: [FieldInfo; FIELD_COUNT] = [
    info(Field::Version, "version", 2, T::U8, Both, "Flow log version: 2 for the default format, otherwise the highest version among the fields in the format."),
    info(Field::AccountId, "account-id", 2, T::Text, Both, "AWS account that owns the source network interface (may be 'unknown' for AWS-managed interfaces); for Transit Gateway logs, the gateway owner."),
    info(Field::InterfaceId, "interface-id", 2, T::Text, Vpc, "Network interface the traffic is recorded for."),
    info(Field::Srcaddr, "srcaddr", 2, T::Ip, Both, "Source address as seen by the interface (for outgoing traffic, the interface's own private address)."),
    info(Field::Dstaddr, "dstaddr", 2, T::Ip, Both, "Destination address as seen by the interface (for incoming traffic, the interface's own private address)."),
    info(Field::Srcport, "srcport", 2, T::U16, Both, "Source port."),
    info(Field::Dstport, "dstport", 2, T::U16, Both, "Destination port."),
    info(Field::Protocol, "protocol", 2, T::U8, Both, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)."),
    info(Field::Packets, "packets", 2, T::U64, Both, "Packets transferred during the flow."),
    info(Field::Bytes, "bytes", 2, T::U64, Both, "Bytes transferred during the flow."),
    info(Field::Start, "start", 2, T::Timestamp, Both, "Time the first packet of the flow was received in the aggregation interval (Unix seconds)."),
    info(Field::End, "end", 2, T::Timestamp, Both, "Time the last packet of the flow was received in the aggregation interval (Unix seconds)."),
    info(Field::Action, "action", 2, T::Action, Vpc, "ACCEPT or REJECT by the security groups and network ACLs."),
    info(Field::LogStatus, "log-status", 2, T::LogStatus, Both, "OK, NODATA (no traffic in the interval) or SKIPDATA (records were skipped)."),
    info(Field::VpcId, "vpc-id", 3, T::Text, Vpc, "VPC of the network interface."),
    info(Field::SubnetId, "subnet-id", 3, T::Text, Vpc, "Subnet of the network interface."),
    info(Field::InstanceId, "instance-id", 3, T::Text, Vpc, "Instance the network interface is attached to, if you own it."),
    info(Field::TcpFlags, "tcp-flags", 3, T::TcpFlags, Both, "Bitwise OR of the TCP flags seen in the interval (FIN 1, SYN 2, RST 4, SYN-ACK 18)."),
    info(Field::Type, "type", 3, T::TrafficType, Both, "Traffic type: IPv4, IPv6 or EFA."),
    info(Field::PktSrcaddr, "pkt-srcaddr", 3, T::Ip, Vpc, "Packet-level (original) source address."),
    info(Field::PktDstaddr, "pkt-dstaddr", 3, T::Ip, Vpc, "Packet-level (original) destination address."),
    info(Field::Region, "region", 4, T::Text, Both, "Region of the network interface or transit gateway."),
    info(Field::AzId, "az-id", 4, T::Text, Vpc, "Availability Zone id of the network interface."),
    info(Field::SublocationType, "sublocation-type", 4, T::Text, Vpc, "Sublocation kind: wavelength, outpost or localzone."),
    info(Field::SublocationId, "sublocation-id", 4, T::Text, Vpc, "Id of the sublocation."),
    info(Field::PktSrcAwsService, "pkt-src-aws-service", 5, T::Text, Both, "AWS service (IP range subset) of pkt-srcaddr, such as S3 or EC2."),
    info(Field::PktDstAwsService, "pkt-dst-aws-service", 5, T::Text, Both, "AWS service (IP range subset) of pkt-dstaddr."),
    info(Field::FlowDirection, "flow-direction", 5, T::FlowDirection, Both, "Direction of the flow relative to the interface: ingress or egress."),
    info(Field::TrafficPath, "traffic-path", 5, T::TrafficPath, Vpc, "Path egress traffic takes to its destination (1-8)."),
    info(Field::EcsClusterArn, "ecs-cluster-arn", 7, T::Text, Vpc, "ARN of the ECS cluster of the task."),
    info(Field::EcsClusterName, "ecs-cluster-name", 7, T::Text, Vpc, "Name of the ECS cluster of the task."),
    info(Field::EcsContainerInstanceArn, "ecs-container-instance-arn", 7, T::Text, Vpc, "ARN of the ECS container instance (EC2 launch type)."),
    info(Field::EcsContainerInstanceId, "ecs-container-instance-id", 7, T::Text, Vpc, "Id of the ECS container instance (EC2 launch type)."),
    info(Field::EcsContainerId, "ecs-container-id", 7, T::Text, Vpc, "Docker runtime id of a container in the task."),
    info(Field::EcsSecondContainerId, "ecs-second-container-id", 7, T::Text, Vpc, "Docker runtime id of a second container in the task."),
    info(Field::EcsServiceName, "ecs-service-name", 7, T::Text, Vpc, "ECS service the task belongs to."),
    info(Field::EcsTaskDefinitionArn, "ecs-task-definition-arn", 7, T::Text, Vpc, "ARN of the ECS task definition."),
    info(Field::EcsTaskArn, "ecs-task-arn", 7, T::Text, Vpc, "ARN of the ECS task."),
    info(Field::EcsTaskId, "ecs-task-id", 7, T::Text, Vpc, "Id of the ECS task."),
    info(Field::RejectReason, "reject-reason", 8, T::Text, Vpc, "Why traffic was rejected (for example BPA, block public access)."),
    info(Field::ResourceType, "resource-type", 6, T::Text, Tgw, "Resource the flow log is on: TransitGateway or TransitGatewayAttachment."),
    info(Field::TgwId, "tgw-id", 6, T::Text, Tgw, "Transit gateway."),
    info(Field::TgwAttachmentId, "tgw-attachment-id", 6, T::Text, Tgw, "Transit gateway attachment."),
    info(Field::TgwSrcVpcAccountId, "tgw-src-vpc-account-id", 6, T::Text, Tgw, "Account of the source VPC."),
    info(Field::TgwDstVpcAccountId, "tgw-dst-vpc-account-id", 6, T::Text, Tgw, "Account of the destination VPC."),
    info(Field::TgwSrcVpcId, "tgw-src-vpc-id", 6, T::Text, Tgw, "Source VPC."),
    info(Field::TgwDstVpcId, "tgw-dst-vpc-id", 6, T::Text, Tgw, "Destination VPC."),
    info(Field::TgwSrcSubnetId, "tgw-src-subnet-id", 6, T::Text, Tgw, "Source subnet."),
    info(Field::TgwDstSubnetId, "tgw-dst-subnet-id", 6, T::Text, Tgw, "Destination subnet."),
    info(Field::TgwSrcEni, "tgw-src-eni", 6, T::Text, Tgw, "Source attachment network interface."),
    info(Field::TgwDstEni, "tgw-dst-eni", 6, T::Text, Tgw, "Destination attachment network interface."),
    info(Field::TgwSrcAzId, "tgw-src-az-id", 6, T::Text, Tgw, "Availability Zone id of the source attachment."),
    info(Field::TgwDstAzId, "tgw-dst-az-id", 6, T::Text, Tgw, "Availability Zone id of the destination attachment."),
    info(Field::TgwPairAttachmentId, "tgw-pair-attachment-id", 6, T::Text, Tgw, "The other attachment of the flow (egress or ingress side)."),
    info(Field::PacketsLostNoRoute, "packets-lost-no-route", 6, T::U64, Tgw, "Packets dropped because no route matched."),
    info(Field::PacketsLostBlackhole, "packets-lost-blackhole", 6, T::U64, Tgw, "Packets dropped by a blackhole route."),
    info(Field::PacketsLostMtuExceeded, "packets-lost-mtu-exceeded", 6, T::U64, Tgw, "Packets dropped because they exceeded the MTU."),
    info(Field::PacketsLostTtlExpired, "packets-lost-ttl-expired", 6, T::U64, Tgw, "Packets dropped because their TTL expired."),
];

#[cfg(test)]
mod tests {
    #[test]
    fn misspelled_names_suggest_the_field_they_meant() {
        assert_eq!(suggest("dst-port"), Some("dstport"));
        assert_eq!(suggest("SrcAddr"), Some("srcaddr"));
        assert_eq!(suggest("srcadr"), Some("srcaddr"));
        assert_eq!(suggest("log_status"), Some("log-status"));
        assert_eq!(suggest("flow-directoin"), Some("flow-direction"));
        // Not near any field (a field added after this catalogue): no guess.
        assert_eq!(suggest("quantum-entanglement-id"), None);
    }

    use super::*;

    #[test]
    fn athena_types_follow_the_parquet_types_aws_documents() {
        // AWS VPC User Guide, "Flow log records", Parquet column of each field.
        let int64 = ["packets", "bytes", "start", "end", "packets-lost-no-route"];
        let int32 = [
            "version",
            "srcport",
            "dstport",
            "protocol",
            "tcp-flags",
            "traffic-path",
        ];
        for info in all() {
            let want = if int64.contains(&info.name) || info.name.starts_with("packets-lost-") {
                "bigint"
            } else if int32.contains(&info.name) {
                "int"
            } else {
                "string"
            };
            assert_eq!(info.ty.athena_type(), want, "{}", info.name);
        }
    }

    #[test]
    fn discriminant_is_catalogue_index_and_names_are_unique() {
        for (i, info) in ALL.iter().enumerate() {
            assert_eq!(info.field as usize, i, "{}", info.name);
            assert_eq!(lookup(info.name).map(|x| x.field), Some(info.field));
            assert_eq!(ALL.iter().filter(|o| o.name == info.name).count(), 1);
        }
    }

    #[test]
    fn vpc_fields_are_in_documentation_order_with_versions() {
        let got: Vec<(&str, u8)> = vpc_fields().iter().map(|i| (i.name, i.version)).collect();
        let v2 = DEFAULT_V2_FIELDS.map(|f| (f.name(), 2));
        assert_eq!(&got[..14], &v2);
        assert_eq!(got[14], ("vpc-id", 3));
        assert_eq!(got[28], ("traffic-path", 5));
        assert_eq!(got[29], ("ecs-cluster-arn", 7));
        assert_eq!(got[39], ("reject-reason", 8));
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "versions ascend");
        assert!(vpc_fields().iter().all(FieldInfo::in_vpc_logs));
        assert!(
            all()[VPC_FIELD_COUNT..]
                .iter()
                .all(|i| i.scope == Scope::TransitGateway)
        );
        assert_eq!(
            vpc_fields().iter().map(|i| i.version).max(),
            Some(LATEST_VERSION)
        );
    }

    #[test]
    fn transit_gateway_order_covers_every_tgw_field_once() {
        let tgw: Vec<Field> = transit_gateway_fields().map(|i| i.field).collect();
        for info in all() {
            let n = tgw.iter().filter(|f| **f == info.field).count();
            assert_eq!(
                n,
                usize::from(info.in_transit_gateway_logs()),
                "{}",
                info.name
            );
        }
    }

    #[test]
    fn lookup_unknown_and_integer_types() {
        assert!(lookup("not-a-field").is_none());
        assert!(lookup("${srcaddr}").is_none());
        assert!(Field::Start.info().ty.is_integer());
        assert!(!Field::AccountId.info().ty.is_integer());
        assert_eq!(Field::from_name("log-status"), Some(Field::LogStatus));
        assert_eq!(Field::PktDstAwsService.to_string(), "pkt-dst-aws-service");
    }
}
