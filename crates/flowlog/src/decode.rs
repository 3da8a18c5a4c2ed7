//! Decoding one record line against a [`Schema`]: [`Schema::decode`] and
//! [`Schema::decode_into`].
//!
//! The line is split on single spaces (see `split`) while walking the schema's precomputed
//! column → field table; each value is parsed in place into the matching [`FlowRecord`] field. Nothing is
//! allocated per record, and a malformed line yields a [`DecodeError`] naming the column,
//! the field and the reason; it never panics.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::field::Field;
use crate::parse::{self, choice, opt, text};
use crate::record::FlowRecord;
use crate::schema::{FieldName, Schema};
use crate::split::{Spaces, count_values};
use crate::types::{Action, FlowDirection, LogStatus, TcpFlags, TrafficType};

impl Schema {
    /// Decodes one record line. A trailing `\n` or `\r\n` is ignored.
    pub fn decode<'a>(&self, line: &'a str) -> Result<FlowRecord<'a>, DecodeError> {
        let mut record = FlowRecord::default();
        self.decode_into(line, &mut record)?;
        Ok(record)
    }

    /// Decodes one record line into `record`, overwriting exactly the fields this schema has
    /// (and `record.line`); fields the schema does not have are left as they are, so one
    /// record can be reused for every line decoded with the same schema. Call
    /// [`FlowRecord::clear`] before reusing it with another schema. After an error the
    /// record's contents are unspecified.
    pub fn decode_into<'a>(
        &self,
        line: &'a str,
        record: &mut FlowRecord<'a>,
    ) -> Result<(), DecodeError> {
        let line = trim_line_ending(line);
        record.line = line;
        let last = self.slots.len() - 1;
        let mut spaces = Spaces::new(line.as_bytes());
        let mut start = 0;
        let mut addrs = AddrText::default();
        for (i, &slot) in self.slots.iter().enumerate() {
            let end = match spaces.next() {
                Some(space) if i < last => space,
                None if i == last => line.len(),
                _ => return Err(self.count_error(line)),
            };
            let value = &line[start..end];
            let stored = match slot {
                Some(field) => store(record, field, value, &mut addrs),
                None if value.is_empty() => Err(DecodeErrorKind::EmptyValue),
                None => Ok(()),
            };
            if let Err(kind) = stored {
                return Err(self.value_error(line, i, value, kind));
            }
            start = end + 1;
        }
        Ok(())
    }

    /// The error for a line whose value count differs from the schema's field count.
    #[cold]
    pub(crate) fn count_error(&self, line: &str) -> DecodeError {
        let expected = self.len();
        let found = count_values(line);
        if found < expected {
            DecodeError::new(
                DecodeErrorKind::TooFewFields { expected, found },
                found + 1,
                Some(self.columns()[found].clone()),
                "",
            )
        } else {
            let surplus = line.split(' ').nth(expected).unwrap_or_default();
            DecodeError::new(
                DecodeErrorKind::TooManyFields { expected, found },
                expected + 1,
                None,
                surplus,
            )
        }
    }

    /// The error for a bad value in column `index`, unless the line also has the wrong
    /// number of values: then the values are misaligned and the count is the real problem.
    #[cold]
    pub(crate) fn value_error(
        &self,
        line: &str,
        index: usize,
        value: &str,
        kind: DecodeErrorKind,
    ) -> DecodeError {
        if count_values(line) != self.len() {
            return self.count_error(line);
        }
        let name: &FieldName = &self.columns()[index];
        DecodeError::new(kind, index + 1, Some(name.clone()), value)
    }
}

fn trim_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The text of this line's `srcaddr` and `dstaddr`, so `pkt-srcaddr`/`pkt-dstaddr` with the
/// same text (every flow not translated on the way) reuse the parsed address.
#[derive(Default)]
pub(crate) struct AddrText<'a> {
    src: Option<&'a str>,
    dst: Option<&'a str>,
}

/// Whether `seen` is `Some(v)`. Address texts are 7 to 16 bytes long in the common case:
/// two overlapping 8-byte compares instead of a call to `memcmp`.
#[inline]
fn same_text(v: &str, seen: Option<&str>) -> bool {
    let Some(seen) = seen else { return false };
    let (a, b) = (v.as_bytes(), seen.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    match (a.first_chunk::<8>(), a.last_chunk::<8>()) {
        (Some(a0), Some(a1)) if a.len() <= 16 => {
            b.first_chunk::<8>() == Some(a0) && b.last_chunk::<8>() == Some(a1)
        }
        _ => a == b,
    }
}

/// `parse::u64_wide`, if at most `max`.
#[inline(always)]
fn wide_int(v: &str, rest: &[u8], max: u64) -> Option<u64> {
    parse::u64_wide(v, rest).filter(|&n| n <= max)
}

/// Parses `value` into the record field for `field`.
#[inline]
pub(crate) fn store<'a>(
    r: &mut FlowRecord<'a>,
    field: Field,
    v: &'a str,
    addrs: &mut AddrText<'a>,
) -> Result<(), DecodeErrorKind> {
    store_wide(r, field, v, &[], addrs)
}

/// [`store`] of a value inside a longer text, `rest` the text from the value's start on
/// (or less: then it is [`store`]): short numbers go through `parse::u64_wide` first (no
/// branch per digit), which gives up, to the exact parser, on anything that parser would
/// not accept. The same record and the same result as [`store`].
#[inline]
pub(crate) fn store_wide<'a>(
    r: &mut FlowRecord<'a>,
    field: Field,
    v: &'a str,
    rest: &[u8],
    addrs: &mut AddrText<'a>,
) -> Result<(), DecodeErrorKind> {
    use Field as F;
    const U8: u64 = u8::MAX as u64;
    const U16: u64 = u16::MAX as u64;
    match field {
        F::Version => {
            r.version = match wide_int(v, rest, U8) {
                Some(n) => Some(n as u8),
                None => opt(v, parse::u8)?,
            }
        }
        F::AccountId => r.account_id = text(v)?,
        F::InterfaceId => r.interface_id = text(v)?,
        F::Srcaddr => {
            r.srcaddr = opt(v, parse::ip)?;
            addrs.src = Some(v);
        }
        F::Dstaddr => {
            r.dstaddr = opt(v, parse::ip)?;
            addrs.dst = Some(v);
        }
        F::Srcport => {
            r.srcport = match wide_int(v, rest, U16) {
                Some(n) => Some(n as u16),
                None => opt(v, parse::u16)?,
            }
        }
        F::Dstport => {
            r.dstport = match wide_int(v, rest, U16) {
                Some(n) => Some(n as u16),
                None => opt(v, parse::u16)?,
            }
        }
        F::Protocol => {
            r.protocol = match wide_int(v, rest, U8) {
                Some(n) => Some(n as u8),
                None => opt(v, parse::u8)?,
            }
        }
        F::Packets => {
            r.packets = match wide_int(v, rest, u64::MAX) {
                Some(n) => Some(n),
                None => opt(v, parse::u64)?,
            }
        }
        F::Bytes => {
            r.bytes = match wide_int(v, rest, u64::MAX) {
                Some(n) => Some(n),
                None => opt(v, parse::u64)?,
            }
        }
        F::Start => r.start = opt(v, parse::timestamp)?,
        F::End => r.end = opt(v, parse::timestamp)?,
        F::Action => r.action = opt(v, |v| choice(v, Action::parse, Action::EXPECTED))?,
        F::LogStatus => {
            r.log_status = opt(v, |v| choice(v, LogStatus::parse, LogStatus::EXPECTED))?
        }
        F::VpcId => r.vpc_id = text(v)?,
        F::SubnetId => r.subnet_id = text(v)?,
        F::InstanceId => {
            r.instance_id = text(v)?;
            r.requester_managed = r.instance_id.is_none();
        }
        F::TcpFlags => {
            r.tcp_flags = match wide_int(v, rest, U16) {
                Some(n) => Some(TcpFlags(n as u16)),
                None => opt(v, |v| parse::u16(v).map(TcpFlags))?,
            }
        }
        F::Type => {
            r.traffic_type = opt(v, |v| choice(v, TrafficType::parse, TrafficType::EXPECTED))?
        }
        F::PktSrcaddr if same_text(v, addrs.src) => r.pkt_srcaddr = r.srcaddr,
        F::PktSrcaddr => r.pkt_srcaddr = opt(v, parse::ip)?,
        F::PktDstaddr if same_text(v, addrs.dst) => r.pkt_dstaddr = r.dstaddr,
        F::PktDstaddr => r.pkt_dstaddr = opt(v, parse::ip)?,
        F::Region => r.region = text(v)?,
        F::AzId => r.az_id = text(v)?,
        F::SublocationType => r.sublocation_type = text(v)?,
        F::SublocationId => r.sublocation_id = text(v)?,
        F::PktSrcAwsService => r.pkt_src_aws_service = text(v)?,
        F::PktDstAwsService => r.pkt_dst_aws_service = text(v)?,
        F::FlowDirection => {
            r.flow_direction = opt(v, |v| {
                choice(v, FlowDirection::parse, FlowDirection::EXPECTED)
            })?
        }
        F::TrafficPath => r.traffic_path = opt(v, parse::traffic_path)?,
        F::EcsClusterArn => r.ecs_cluster_arn = text(v)?,
        F::EcsClusterName => r.ecs_cluster_name = text(v)?,
        F::EcsContainerInstanceArn => r.ecs_container_instance_arn = text(v)?,
        F::EcsContainerInstanceId => r.ecs_container_instance_id = text(v)?,
        F::EcsContainerId => r.ecs_container_id = text(v)?,
        F::EcsSecondContainerId => r.ecs_second_container_id = text(v)?,
        F::EcsServiceName => r.ecs_service_name = text(v)?,
        F::EcsTaskDefinitionArn => r.ecs_task_definition_arn = text(v)?,
        F::EcsTaskArn => r.ecs_task_arn = text(v)?,
        F::EcsTaskId => r.ecs_task_id = text(v)?,
        F::RejectReason => r.reject_reason = text(v)?,
        F::ResourceType => r.resource_type = text(v)?,
        F::TgwId => r.tgw_id = text(v)?,
        F::TgwAttachmentId => r.tgw_attachment_id = text(v)?,
        F::TgwSrcVpcAccountId => r.tgw_src_vpc_account_id = text(v)?,
        F::TgwDstVpcAccountId => r.tgw_dst_vpc_account_id = text(v)?,
        F::TgwSrcVpcId => r.tgw_src_vpc_id = text(v)?,
        F::TgwDstVpcId => r.tgw_dst_vpc_id = text(v)?,
        F::TgwSrcSubnetId => r.tgw_src_subnet_id = text(v)?,
        F::TgwDstSubnetId => r.tgw_dst_subnet_id = text(v)?,
        F::TgwSrcEni => r.tgw_src_eni = text(v)?,
        F::TgwDstEni => r.tgw_dst_eni = text(v)?,
        F::TgwSrcAzId => r.tgw_src_az_id = text(v)?,
        F::TgwDstAzId => r.tgw_dst_az_id = text(v)?,
        F::TgwPairAttachmentId => r.tgw_pair_attachment_id = text(v)?,
        F::PacketsLostNoRoute => r.packets_lost_no_route = opt(v, parse::u64)?,
        F::PacketsLostBlackhole => r.packets_lost_blackhole = opt(v, parse::u64)?,
        F::PacketsLostMtuExceeded => r.packets_lost_mtu_exceeded = opt(v, parse::u64)?,
        F::PacketsLostTtlExpired => r.packets_lost_ttl_expired = opt(v, parse::u64)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::{TrafficPath, Value};

    const V2_LINE: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_v2_line() {
        let r = Schema::default().decode(V2_LINE).unwrap();
        assert_eq!(r.version, Some(2));
        assert_eq!(r.account_id, Some("123456789010"));
        assert_eq!(r.srcaddr, Some(ip("172.31.16.139")));
        assert_eq!(
            (r.srcport, r.dstport, r.protocol),
            (Some(20641), Some(22), Some(6))
        );
        assert_eq!((r.packets, r.bytes), (Some(20), Some(4249)));
        assert_eq!(r.start.map(|t| t.unix_secs()), Some(1418530010));
        assert_eq!(r.action, Some(Action::Accept));
        assert_eq!(r.log_status, Some(LogStatus::Ok));
        assert_eq!(r.vpc_id, None, "not in the schema");
        assert_eq!(r.line, V2_LINE);
    }

    #[test]
    fn ipv6_addresses() {
        let s = Schema::from_header("srcaddr dstaddr pkt-srcaddr pkt-dstaddr type").unwrap();
        let r = s
            .decode("2001:db8:1234:a100:8d6e:3477:df66:f105 ::1 - ::ffff:10.0.0.1 IPv6")
            .unwrap();
        assert_eq!(
            r.srcaddr,
            Some(ip("2001:db8:1234:a100:8d6e:3477:df66:f105"))
        );
        assert!(matches!(r.srcaddr, Some(IpAddr::V6(_))));
        assert_eq!(r.dstaddr, Some(ip("::1")));
        assert_eq!(r.pkt_srcaddr, None);
        assert_eq!(r.pkt_dstaddr, Some(ip("::ffff:10.0.0.1")));
        assert_eq!(r.traffic_type, Some(TrafficType::Ipv6));
        let e = s.decode("2001:db8::g ::1 - - IPv6").unwrap_err();
        assert_eq!(
            (e.kind(), e.column(), e.field()),
            (DecodeErrorKind::InvalidIp, 1, Some(Field::Srcaddr))
        );
    }

    #[test]
    fn packet_addresses_equal_to_the_flow_addresses_reuse_them_in_any_field_order() {
        let s = Schema::from_header("srcaddr dstaddr pkt-srcaddr pkt-dstaddr").unwrap();
        let r = s.decode("10.0.0.1 10.0.0.2 10.0.0.1 192.0.2.9").unwrap();
        assert_eq!(r.pkt_srcaddr, Some(ip("10.0.0.1")));
        assert_eq!(r.pkt_dstaddr, Some(ip("192.0.2.9")));
        let r = s.decode("- 10.0.0.2 - 10.0.0.2").unwrap();
        assert_eq!((r.pkt_srcaddr, r.pkt_dstaddr), (None, Some(ip("10.0.0.2"))));
        let e = s.decode("10.0.0.1 10.0.0.2 10.0.0.1 10.0.0.x").unwrap_err();
        assert_eq!(e.column(), 4);
        // Packet addresses first: nothing to reuse yet, so an empty value is still an error.
        let s = Schema::from_header("pkt-srcaddr srcaddr").unwrap();
        let r = s.decode("10.0.0.7 10.0.0.1").unwrap();
        assert_eq!(
            (r.pkt_srcaddr, r.srcaddr),
            (Some(ip("10.0.0.7")), Some(ip("10.0.0.1")))
        );
        assert!(s.decode(" 10.0.0.1").is_err());
    }

    #[test]
    fn same_text_is_text_equality() {
        let texts = [
            "",
            "-",
            "1.2.3.4",
            "10.0.0.1",
            "10.0.0.2",
            "172.31.16.139",
            "172.31.16.138",
            "255.255.255.255",
            "255.255.255.254",
            "0.255.255.255",
            "2001:db8::1",
            "2001:db8:1234:a100:8d6e:3477:df66:f105",
            "2001:db8:1234:a100:8d6e:3477:df66:f106",
            "1001:db8:1234:a100:8d6e:3477:df66:f105",
            "10.0.0.10",
            "10.0.0.1x",
        ];
        for a in texts {
            assert!(!same_text(a, None));
            for b in texts {
                assert_eq!(same_text(a, Some(b)), a == b, "{a:?} {b:?}");
            }
        }
        // Differing only in the middle byte of a 15-byte and of a 16-byte text.
        assert!(!same_text("172.31.116.139x", Some("172.31.126.139x")));
        assert!(!same_text("172.31.116.1391x", Some("172.31.126.1391x")));
    }

    #[test]
    fn millisecond_timestamps_keep_raw_and_normalise() {
        let line =
            "2 123456789010 eni-4b118871 - - - - - - - 1512564058000 1512564059000 - SKIPDATA";
        let r = Schema::default().decode(line).unwrap();
        let (start, end) = (r.start.unwrap(), r.end.unwrap());
        assert!(start.is_millis() && end.is_millis());
        assert_eq!((start.raw(), end.raw()), (1512564058000, 1512564059000));
        assert_eq!(
            (start.unix_secs(), end.unix_secs()),
            (1512564058, 1512564059)
        );
        assert_eq!(
            r.get(Field::Start).and_then(|v| v.as_u64()),
            Some(1512564058000)
        );
        let too_long = line.replace("1512564058000", "15125640580000");
        let e = Schema::default().decode(&too_long).unwrap_err();
        assert_eq!(
            (e.kind(), e.column()),
            (DecodeErrorKind::InvalidTimestamp, 11)
        );
    }

    #[test]
    fn unknown_fields_pass_through_as_text() {
        let s = Schema::from_header("version future-a srcport future-b").unwrap();
        let r = s.decode("9 hello:world 443 -").unwrap();
        assert_eq!(r.version, Some(9));
        assert_eq!(r.srcport, Some(443));
        assert_eq!(r.extra(&s, "future-a"), Some("hello:world"));
        assert_eq!(r.extra(&s, "future-b"), None, "`-` is absent");
        assert_eq!(r.extra(&s, "srcport-missing"), None);
        assert_eq!(
            r.extras(&s).collect::<Vec<_>>(),
            [("future-a", Some("hello:world")), ("future-b", None)]
        );
        assert_eq!(r.value(&s, "future-a"), Some(Value::Text("hello:world")));
        assert_eq!(r.value(&s, "srcport"), Some(Value::Int(443)));
        let e = s.decode("9  443 -").unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::EmptyValue);
        assert_eq!(e.field_name(), Some("future-a"));
    }

    #[test]
    fn tcp_flags_values() {
        let s = Schema::from_header("tcp-flags").unwrap();
        for (text, bits) in [
            ("0", 0),
            ("1", 1),
            ("2", 2),
            ("3", 3),
            ("4", 4),
            ("18", 18),
            ("19", 19),
        ] {
            let r = s.decode(text).unwrap();
            assert_eq!(r.tcp_flags, Some(TcpFlags(bits)), "{text}");
            assert_eq!(
                r.get(Field::TcpFlags).and_then(|v| v.as_u64()),
                Some(u64::from(bits))
            );
        }
        let syn_ack_fin = s.decode("19").unwrap().tcp_flags.unwrap();
        assert!(syn_ack_fin.contains(TcpFlags::SYN_ACK) && syn_ack_fin.contains(TcpFlags::FIN));
        assert_eq!(s.decode("-").unwrap().tcp_flags, None);
        assert_eq!(
            s.decode("SYN").unwrap_err().kind(),
            DecodeErrorKind::InvalidNumber
        );
    }

    #[test]
    fn field_count_mismatch_messages() {
        let s = Schema::default();
        let few = "2 12345678910 eni-0eb1e4178af74336c - - - - - - - 1742570089 1742570142 -";
        let e = s.decode(few).unwrap_err();
        assert_eq!(
            e.kind(),
            DecodeErrorKind::TooFewFields {
                expected: 14,
                found: 13
            }
        );
        assert_eq!((e.column(), e.field()), (14, Some(Field::LogStatus)));
        assert_eq!(
            e.to_string(),
            "expected 14 fields, found 13 (column 14 `log-status` is missing)"
        );

        let many = format!("{few} NODATA one-too-many");
        let e = s.decode(&many).unwrap_err();
        assert_eq!(
            e.kind(),
            DecodeErrorKind::TooManyFields {
                expected: 14,
                found: 15
            }
        );
        assert_eq!(
            (e.column(), e.field_name(), e.value()),
            (15, None, "one-too-many")
        );
        assert_eq!(
            e.to_string(),
            "expected 14 fields, found 15 (surplus value \"one-too-many\" in column 15)"
        );

        // A double space shifts every later value; report the count, not the shifted value.
        let e = s.decode(&V2_LINE.replacen(' ', "  ", 1)).unwrap_err();
        assert_eq!(
            e.kind(),
            DecodeErrorKind::TooManyFields {
                expected: 14,
                found: 15
            }
        );

        let e = s.decode("").unwrap_err();
        assert_eq!(
            e.kind(),
            DecodeErrorKind::TooFewFields {
                expected: 14,
                found: 0
            }
        );
        assert_eq!(e.field(), Some(Field::Version));
    }

    #[test]
    fn bad_values_name_field_and_column() {
        let s = Schema::default();
        let cases = [
            (
                "20641",
                "70000",
                6,
                DecodeErrorKind::NumberOutOfRange { max: 65535 },
            ),
            (
                "ACCEPT",
                "accept",
                13,
                DecodeErrorKind::InvalidValue {
                    expected: Action::EXPECTED,
                },
            ),
            (
                " OK",
                " DONE",
                14,
                DecodeErrorKind::InvalidValue {
                    expected: LogStatus::EXPECTED,
                },
            ),
            (
                "172.31.16.21",
                "172.31.16.256",
                5,
                DecodeErrorKind::InvalidIp,
            ),
            (" 4249 ", " 42x9 ", 10, DecodeErrorKind::InvalidNumber),
        ];
        for (from, to, column, kind) in cases {
            let line = V2_LINE.replacen(from, to, 1);
            let e = s.decode(&line).unwrap_err();
            assert_eq!((e.kind(), e.column()), (kind, column), "{line}");
            assert_eq!(e.value(), to.trim());
            assert_eq!(e.field(), Some(s.columns()[column - 1].field().unwrap()));
            assert!(
                e.to_string().starts_with(&format!("column {column} `")),
                "{e}"
            );
        }
        let e = s
            .decode(&V2_LINE.replacen("ACCEPT", "DROP", 1))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 13 `action`: \"DROP\" is not ACCEPT or REJECT"
        );
    }

    #[test]
    fn enumerations_and_traffic_path() {
        let s = Schema::from_header("flow-direction traffic-path type log-status").unwrap();
        let r = s.decode("egress 8 EFA NODATA\r\n").unwrap();
        assert_eq!(r.flow_direction, Some(FlowDirection::Egress));
        assert_eq!(r.traffic_path, Some(TrafficPath::InternetGatewayNitro));
        assert_eq!(r.traffic_type, Some(TrafficType::Efa));
        assert_eq!(r.log_status, Some(LogStatus::NoData));
        assert_eq!(r.line, "egress 8 EFA NODATA");
        let e = s.decode("egress 0 EFA OK").unwrap_err();
        assert_eq!((e.column(), e.field()), (2, Some(Field::TrafficPath)));
    }

    #[test]
    fn reused_record_overwrites_schema_fields() {
        let s = Schema::default();
        let mut r = FlowRecord::default();
        s.decode_into(V2_LINE, &mut r).unwrap();
        let nodata = "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA";
        s.decode_into(nodata, &mut r).unwrap();
        assert_eq!(r, s.decode(nodata).unwrap());
    }
}
