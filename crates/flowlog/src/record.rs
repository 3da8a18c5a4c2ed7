//! [`FlowRecord`]: one decoded flow log record, every known field typed and borrowed from
//! the line (no heap allocation), plus [`Value`], a uniform view of one field's value.
//!
//! A field the schema does not have, and a field written as `-`, are both `None`. Columns
//! with names this crate does not know are read back from the line with
//! [`FlowRecord::extra`].

use std::fmt;
use std::net::IpAddr;

use crate::field::{Field, lookup};
use crate::schema::{FieldName, Schema};
use crate::types::{
    Action, FlowDirection, LogStatus, TcpFlags, Timestamp, TrafficPath, TrafficType,
};

/// One decoded record. Text fields borrow from the line; numbers, addresses and enumerations
/// are parsed in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowRecord<'a> {
    /// The line the record was decoded from (without its line ending).
    pub line: &'a str,
    /// `version`.
    pub version: Option<u8>,
    /// `account-id` (text: account ids keep their leading zeros).
    pub account_id: Option<&'a str>,
    /// `interface-id`.
    pub interface_id: Option<&'a str>,
    /// `srcaddr`.
    pub srcaddr: Option<IpAddr>,
    /// `dstaddr`.
    pub dstaddr: Option<IpAddr>,
    /// `srcport`.
    pub srcport: Option<u16>,
    /// `dstport`.
    pub dstport: Option<u16>,
    /// `protocol` (IANA number).
    pub protocol: Option<u8>,
    /// `packets`.
    pub packets: Option<u64>,
    /// `bytes`.
    pub bytes: Option<u64>,
    /// `start`.
    pub start: Option<Timestamp>,
    /// `end`.
    pub end: Option<Timestamp>,
    /// `action`.
    pub action: Option<Action>,
    /// `log-status`.
    pub log_status: Option<LogStatus>,
    /// `vpc-id`.
    pub vpc_id: Option<&'a str>,
    /// `subnet-id`.
    pub subnet_id: Option<&'a str>,
    /// `instance-id`.
    pub instance_id: Option<&'a str>,
    /// `instance-id` is `-` in a log that has the field: AWS's mark of a requester-managed
    /// interface (a NAT gateway's, a load balancer's, an endpoint's; also an instance of
    /// another account). False when the log has no `instance-id`.
    pub requester_managed: bool,
    /// `tcp-flags`.
    pub tcp_flags: Option<TcpFlags>,
    /// `type`.
    pub traffic_type: Option<TrafficType>,
    /// `pkt-srcaddr`.
    pub pkt_srcaddr: Option<IpAddr>,
    /// `pkt-dstaddr`.
    pub pkt_dstaddr: Option<IpAddr>,
    /// `region`.
    pub region: Option<&'a str>,
    /// `az-id`.
    pub az_id: Option<&'a str>,
    /// `sublocation-type`.
    pub sublocation_type: Option<&'a str>,
    /// `sublocation-id`.
    pub sublocation_id: Option<&'a str>,
    /// `pkt-src-aws-service`.
    pub pkt_src_aws_service: Option<&'a str>,
    /// `pkt-dst-aws-service`.
    pub pkt_dst_aws_service: Option<&'a str>,
    /// `flow-direction`.
    pub flow_direction: Option<FlowDirection>,
    /// `traffic-path`.
    pub traffic_path: Option<TrafficPath>,
    /// `ecs-cluster-arn`.
    pub ecs_cluster_arn: Option<&'a str>,
    /// `ecs-cluster-name`.
    pub ecs_cluster_name: Option<&'a str>,
    /// `ecs-container-instance-arn`.
    pub ecs_container_instance_arn: Option<&'a str>,
    /// `ecs-container-instance-id`.
    pub ecs_container_instance_id: Option<&'a str>,
    /// `ecs-container-id`.
    pub ecs_container_id: Option<&'a str>,
    /// `ecs-second-container-id`.
    pub ecs_second_container_id: Option<&'a str>,
    /// `ecs-service-name`.
    pub ecs_service_name: Option<&'a str>,
    /// `ecs-task-definition-arn`.
    pub ecs_task_definition_arn: Option<&'a str>,
    /// `ecs-task-arn`.
    pub ecs_task_arn: Option<&'a str>,
    /// `ecs-task-id`.
    pub ecs_task_id: Option<&'a str>,
    /// `reject-reason`.
    pub reject_reason: Option<&'a str>,
    /// `resource-type` (Transit Gateway).
    pub resource_type: Option<&'a str>,
    /// `tgw-id`.
    pub tgw_id: Option<&'a str>,
    /// `tgw-attachment-id`.
    pub tgw_attachment_id: Option<&'a str>,
    /// `tgw-src-vpc-account-id`.
    pub tgw_src_vpc_account_id: Option<&'a str>,
    /// `tgw-dst-vpc-account-id`.
    pub tgw_dst_vpc_account_id: Option<&'a str>,
    /// `tgw-src-vpc-id`.
    pub tgw_src_vpc_id: Option<&'a str>,
    /// `tgw-dst-vpc-id`.
    pub tgw_dst_vpc_id: Option<&'a str>,
    /// `tgw-src-subnet-id`.
    pub tgw_src_subnet_id: Option<&'a str>,
    /// `tgw-dst-subnet-id`.
    pub tgw_dst_subnet_id: Option<&'a str>,
    /// `tgw-src-eni`.
    pub tgw_src_eni: Option<&'a str>,
    /// `tgw-dst-eni`.
    pub tgw_dst_eni: Option<&'a str>,
    /// `tgw-src-az-id`.
    pub tgw_src_az_id: Option<&'a str>,
    /// `tgw-dst-az-id`.
    pub tgw_dst_az_id: Option<&'a str>,
    /// `tgw-pair-attachment-id`.
    pub tgw_pair_attachment_id: Option<&'a str>,
    /// `packets-lost-no-route`.
    pub packets_lost_no_route: Option<u64>,
    /// `packets-lost-blackhole`.
    pub packets_lost_blackhole: Option<u64>,
    /// `packets-lost-mtu-exceeded`.
    pub packets_lost_mtu_exceeded: Option<u64>,
    /// `packets-lost-ttl-expired`.
    pub packets_lost_ttl_expired: Option<u64>,
}

/// One field's value, whatever its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value<'a> {
    /// An unsigned integer field (version, ports, protocol, counters).
    Int(u64),
    /// `start` / `end`.
    Timestamp(Timestamp),
    /// An address field.
    Ip(IpAddr),
    /// A text field, or a column with an unknown name.
    Text(&'a str),
    /// `action`.
    Action(Action),
    /// `log-status`.
    LogStatus(LogStatus),
    /// `type`.
    TrafficType(TrafficType),
    /// `flow-direction`.
    FlowDirection(FlowDirection),
    /// `traffic-path`.
    TrafficPath(TrafficPath),
    /// `tcp-flags`.
    TcpFlags(TcpFlags),
}

impl<'a> Value<'a> {
    /// The integer of an integer-valued field (timestamps as written, `traffic-path` and
    /// `tcp-flags` as their numbers).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(v) => Some(v),
            Value::Timestamp(t) => Some(t.raw()),
            Value::TrafficPath(p) => Some(u64::from(p.code())),
            Value::TcpFlags(f) => Some(u64::from(f.bits())),
            _ => None,
        }
    }

    /// The text of a text or enumeration field.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Text(s) => Some(s),
            Value::Action(v) => Some(v.as_str()),
            Value::LogStatus(v) => Some(v.as_str()),
            Value::TrafficType(v) => Some(v.as_str()),
            Value::FlowDirection(v) => Some(v.as_str()),
            _ => None,
        }
    }

    /// The address of an address field.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match *self {
            Value::Ip(ip) => Some(ip),
            _ => None,
        }
    }
}

impl fmt::Display for Value<'_> {
    /// The value as AWS writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Timestamp(v) => write!(f, "{v}"),
            Value::Ip(v) => write!(f, "{v}"),
            Value::Text(v) => f.write_str(v),
            Value::Action(v) => write!(f, "{v}"),
            Value::LogStatus(v) => write!(f, "{v}"),
            Value::TrafficType(v) => write!(f, "{v}"),
            Value::FlowDirection(v) => write!(f, "{v}"),
            Value::TrafficPath(v) => write!(f, "{v}"),
            Value::TcpFlags(v) => write!(f, "{v}"),
        }
    }
}

impl<'a> FlowRecord<'a> {
    /// Resets every field to `None` (use before reusing a record with another schema).
    pub fn clear(&mut self) {
        *self = FlowRecord::default();
    }

    /// The value of a known field; `None` if absent (`-`) or not in the schema.
    pub fn get(&self, field: Field) -> Option<Value<'a>> {
        use Field as F;
        let int = |v: Option<u64>| v.map(Value::Int);
        let text = |v: Option<&'a str>| v.map(Value::Text);
        let ip = |v: Option<IpAddr>| v.map(Value::Ip);
        match field {
            F::Version => int(self.version.map(u64::from)),
            F::AccountId => text(self.account_id),
            F::InterfaceId => text(self.interface_id),
            F::Srcaddr => ip(self.srcaddr),
            F::Dstaddr => ip(self.dstaddr),
            F::Srcport => int(self.srcport.map(u64::from)),
            F::Dstport => int(self.dstport.map(u64::from)),
            F::Protocol => int(self.protocol.map(u64::from)),
            F::Packets => int(self.packets),
            F::Bytes => int(self.bytes),
            F::Start => self.start.map(Value::Timestamp),
            F::End => self.end.map(Value::Timestamp),
            F::Action => self.action.map(Value::Action),
            F::LogStatus => self.log_status.map(Value::LogStatus),
            F::VpcId => text(self.vpc_id),
            F::SubnetId => text(self.subnet_id),
            F::InstanceId => text(self.instance_id),
            F::TcpFlags => self.tcp_flags.map(Value::TcpFlags),
            F::Type => self.traffic_type.map(Value::TrafficType),
            F::PktSrcaddr => ip(self.pkt_srcaddr),
            F::PktDstaddr => ip(self.pkt_dstaddr),
            F::Region => text(self.region),
            F::AzId => text(self.az_id),
            F::SublocationType => text(self.sublocation_type),
            F::SublocationId => text(self.sublocation_id),
            F::PktSrcAwsService => text(self.pkt_src_aws_service),
            F::PktDstAwsService => text(self.pkt_dst_aws_service),
            F::FlowDirection => self.flow_direction.map(Value::FlowDirection),
            F::TrafficPath => self.traffic_path.map(Value::TrafficPath),
            F::EcsClusterArn => text(self.ecs_cluster_arn),
            F::EcsClusterName => text(self.ecs_cluster_name),
            F::EcsContainerInstanceArn => text(self.ecs_container_instance_arn),
            F::EcsContainerInstanceId => text(self.ecs_container_instance_id),
            F::EcsContainerId => text(self.ecs_container_id),
            F::EcsSecondContainerId => text(self.ecs_second_container_id),
            F::EcsServiceName => text(self.ecs_service_name),
            F::EcsTaskDefinitionArn => text(self.ecs_task_definition_arn),
            F::EcsTaskArn => text(self.ecs_task_arn),
            F::EcsTaskId => text(self.ecs_task_id),
            F::RejectReason => text(self.reject_reason),
            F::ResourceType => text(self.resource_type),
            F::TgwId => text(self.tgw_id),
            F::TgwAttachmentId => text(self.tgw_attachment_id),
            F::TgwSrcVpcAccountId => text(self.tgw_src_vpc_account_id),
            F::TgwDstVpcAccountId => text(self.tgw_dst_vpc_account_id),
            F::TgwSrcVpcId => text(self.tgw_src_vpc_id),
            F::TgwDstVpcId => text(self.tgw_dst_vpc_id),
            F::TgwSrcSubnetId => text(self.tgw_src_subnet_id),
            F::TgwDstSubnetId => text(self.tgw_dst_subnet_id),
            F::TgwSrcEni => text(self.tgw_src_eni),
            F::TgwDstEni => text(self.tgw_dst_eni),
            F::TgwSrcAzId => text(self.tgw_src_az_id),
            F::TgwDstAzId => text(self.tgw_dst_az_id),
            F::TgwPairAttachmentId => text(self.tgw_pair_attachment_id),
            F::PacketsLostNoRoute => int(self.packets_lost_no_route),
            F::PacketsLostBlackhole => int(self.packets_lost_blackhole),
            F::PacketsLostMtuExceeded => int(self.packets_lost_mtu_exceeded),
            F::PacketsLostTtlExpired => int(self.packets_lost_ttl_expired),
        }
    }

    /// The raw text of a column whose name is not a known field; `None` if the schema has no
    /// such column or the value is `-`. `schema` must be the one the record was decoded with.
    pub fn extra(&self, schema: &Schema, name: &str) -> Option<&'a str> {
        let column = schema.columns().iter().position(|c| c.as_str() == name)?;
        self.line.split(' ').nth(column).filter(|v| *v != "-")
    }

    /// Every column whose name is not a known field, as (name, raw text or `None` for `-`).
    /// `schema` must be the one the record was decoded with.
    pub fn extras<'s>(
        &self,
        schema: &'s Schema,
    ) -> impl Iterator<Item = (&'s str, Option<&'a str>)> + use<'s, 'a> {
        schema
            .columns()
            .iter()
            .zip(self.line.split(' '))
            .filter_map(|(column, value)| match column {
                FieldName::Known(_) => None,
                FieldName::Unknown(name) => Some((&**name, Some(value).filter(|v| *v != "-"))),
            })
    }

    /// The value of a column by name, known or not (unknown names give [`Value::Text`]).
    /// `schema` must be the one the record was decoded with.
    pub fn value(&self, schema: &Schema, name: &str) -> Option<Value<'a>> {
        match lookup(name) {
            Some(info) => self.get(info.field),
            None => self.extra(schema, name).map(Value::Text),
        }
    }
}
