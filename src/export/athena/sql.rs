//! SQL fragments filled from the rule pack and the table: the column selection (a field the
//! log format lacks becomes a typed NULL, as the decoder gives None), the internal-address
//! test, service sets, the initiator rule, allow-lists and the time filter. Every number comes
//! from the pack; the templates in `templates/athena/` hold only structure.
//!
//! Portable rules (checked on every rendered query by `tests/athena_sql.rs`): no integer `/`
//! (Trino truncates, DuckDB divides as float), windows as `t - t % w`; no `regexp_extract` as
//! a null test; no `IPADDRESS` or `contains(cidr, ip)`; `"end"`, `"day"`, `"hour"`, `"year"`,
//! `"month"` and `"$path"` always quoted.

use std::net::IpAddr;

use flowkeeper_analyze::addr::{BUILTIN_INTERNAL, CidrSet};
use flowkeeper_analyze::rules::SourceScope;
use flowkeeper_analyze::services::ServiceSet;
use flowkeeper_analyze::zones::{ZoneRef, Zones};
use jiff::Timestamp;

use super::{AccountProjection, TableSpec};
use crate::model::layout::Layout;

/// Why a pack or table cannot be written as SQL; names the pack key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untranslatable(pub String);

impl std::fmt::Display for Untranslatable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `--since/--until` as Unix seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub since: Option<u64>,
    pub until: Option<u64>,
}

/// A column of the table, or a typed NULL when the log format lacks it.
pub fn column(spec: &TableSpec, name: &str, ty: &str) -> String {
    if spec.has(name) {
        quote(name)
    } else {
        format!("CAST(NULL AS {ty})")
    }
}

/// A double-quoted identifier.
pub fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// An address column normalised as the analyzer reads it: lower case, `::ffff:a.b.c.d` as
/// `a.b.c.d` (an IPv4-mapped address is the IPv4 address).
pub fn address(spec: &TableSpec, name: &str) -> String {
    if !spec.has(name) {
        return "CAST(NULL AS VARCHAR)".into();
    }
    let c = quote(name);
    format!("CASE WHEN lower({c}) LIKE '::ffff:%.%' THEN substr({c}, 8) ELSE lower({c}) END")
}

/// The IPv4 address in `col` (normalised text) as a number, NULL for IPv6.
pub fn v4_number(col: &str) -> String {
    let part = |i: u32| format!("CAST(split_part({col}, '.', {i}) AS BIGINT)");
    format!(
        "CASE WHEN strpos({col}, '.') > 0 THEN {} * 16777216 + {} * 65536 + {} * 256 + {} END",
        part(1),
        part(2),
        part(3),
        part(4)
    )
}

/// An IPv4 CIDR as an inclusive numeric range; IPv6 blocks are `None`.
fn v4_range(cidr: &str) -> Option<(u64, u64)> {
    let (ip, prefix) = cidr.split_once('/')?;
    let IpAddr::V4(v4) = ip.parse::<IpAddr>().ok()? else {
        return None;
    };
    let prefix: u32 = prefix.parse().ok()?;
    let base = u64::from(u32::from(v4));
    let size = 1u64 << (32 - prefix);
    Some((base, base + size - 1))
}

/// A test of `v4` (the number from [`v4_number`]) against CIDR blocks: IPv4 only; an IPv6
/// block is refused with the pack key named.
fn in_blocks(v4: &str, blocks: &CidrSet, key: &str) -> Result<Vec<String>, Untranslatable> {
    blocks
        .blocks()
        .iter()
        .map(|b| {
            let text = b.to_string();
            v4_range(&text)
                .map(|(lo, hi)| format!("{v4} BETWEEN {lo} AND {hi}"))
                .ok_or_else(|| {
                    Untranslatable(format!(
                        "{key}: the IPv6 block {text} has no SQL form here (IPv6 blocks are not translated)"
                    ))
                })
        })
        .collect()
}

/// Whether the address in `text`/`v4` is internal, as `Networks::is_internal`: the built-in
/// IPv4 ranges by number, the IPv6 ones (`::`, `::1`, fc00::/7, fe80::/10) by text, and the
/// pack's `networks.internal` (IPv4).
pub fn internal(
    networks: &flowkeeper_analyze::addr::Networks,
    text: &str,
    v4: &str,
) -> Result<String, Untranslatable> {
    let mut tests: Vec<String> = Vec::new();
    if networks.builtin() {
        for cidr in BUILTIN_INTERNAL {
            if let Some((lo, hi)) = v4_range(cidr) {
                tests.push(format!("{v4} BETWEEN {lo} AND {hi}"));
            }
        }
        tests.push(format!(
            "({v4} IS NULL AND ({text} IN ('::', '::1') OR regexp_like({text}, '^f[cd][0-9a-f]{{2}}:') OR regexp_like({text}, '^fe[89ab][0-9a-f]:')))"
        ));
    }
    tests.extend(in_blocks(v4, networks.extra(), "networks.internal")?);
    if tests.is_empty() {
        return Ok("false".into());
    }
    Ok(format!("coalesce({}, false)", tests.join(" OR ")))
}

/// Whether (protocol, port) is in a service set, as `ServiceSet::contains` (protocol `any`
/// matches every protocol, including a missing one).
pub fn service_in(set: &ServiceSet, protocol: &str, port: &str) -> String {
    let tests: Vec<String> = set
        .entries()
        .iter()
        .map(|s| {
            let ports: Vec<String> = s
                .ports
                .iter()
                .map(|r| {
                    if r.lo == r.hi {
                        format!("{port} = {}", r.lo)
                    } else {
                        format!("{port} BETWEEN {} AND {}", r.lo, r.hi)
                    }
                })
                .collect();
            let ports = format!("({})", ports.join(" OR "));
            match s.protocol {
                Some(p) => format!("({protocol} = {p} AND {ports})"),
                None => ports,
            }
        })
        .collect();
    if tests.is_empty() {
        "false".into()
    } else {
        format!("coalesce({}, false)", tests.join(" OR "))
    }
}

/// The first service naming (protocol, port), as `ServiceSet::name_of`.
pub fn service_name(set: &ServiceSet, protocol: &str, port: &str) -> String {
    let arms: Vec<String> = set
        .entries()
        .iter()
        .map(|s| {
            let one = ServiceSet::new(vec![s.clone()]);
            format!(
                "WHEN {} THEN '{}'",
                service_in(&one, protocol, port),
                s.name.replace('\'', "''")
            )
        })
        .collect();
    if arms.is_empty() {
        "CAST(NULL AS VARCHAR)".into()
    } else {
        format!("CASE {} END", arms.join(" "))
    }
}

/// Records from or to allow-listed blocks are ignored (`allow_sources`, `allow_destinations`).
pub fn exempt(
    allow_sources: &CidrSet,
    allow_destinations: &CidrSet,
    src_v4: &str,
    dst_v4: &str,
    id: &str,
) -> Result<String, Untranslatable> {
    let mut tests = in_blocks(
        src_v4,
        allow_sources,
        &format!("detectors.{id}.allow_sources"),
    )?;
    tests.extend(in_blocks(
        dst_v4,
        allow_destinations,
        &format!("detectors.{id}.allow_destinations"),
    )?);
    if tests.is_empty() {
        return Ok("false".into());
    }
    Ok(format!("coalesce({}, false)", tests.join(" OR ")))
}

/// A source scope as a test of `internal` (the column saying the source is internal).
pub fn scope(scope: SourceScope, internal: &str) -> String {
    match scope {
        SourceScope::Any => "true".into(),
        SourceScope::Internal => internal.into(),
        SourceScope::External => format!("NOT {internal}"),
    }
}

/// Who opened the connection (plan-11 §1.1): `'src'`, `'dst'` or NULL (unknown). TCP flags
/// first (SYN without ACK: the source; SYN-ACK: the destination), then a REJECT on ingress
/// (the source) unless TCP flags show a connection under way, then ports (the side on a pack
/// service port or below 1024, while the other side is neither, is the responder; when
/// neither is, a port below `EPHEMERAL_FIRST` facing one at or above it). The NAT
/// rule (`pkt-srcaddr`/`pkt-dstaddr` at a known gateway) is not translated.
pub fn initiator(services: &ServiceSet) -> String {
    initiator_case(
        services,
        [
            "'src'", "'dst'", "'src'", "'src'", "'dst'", "'src'", "'dst'",
        ],
        "CAST(NULL AS VARCHAR)",
    )
}

/// What decided [`initiator`], as the findings' `decided_by` labels (`tcp-flags`,
/// `flow-direction`, `ports`, `none`).
pub fn decided(services: &ServiceSet) -> String {
    initiator_case(
        services,
        [
            "'tcp-flags'",
            "'tcp-flags'",
            "'flow-direction'",
            "'ports'",
            "'ports'",
            "'ports'",
            "'ports'",
        ],
        "'none'",
    )
}

/// The initiator rule's CASE with one result per arm.
fn initiator_case(services: &ServiceSet, then: [&str; 7], otherwise: &str) -> String {
    let svc_d = service_in(services, "protocol", "dport");
    let svc_s = service_in(services, "protocol", "sport");
    // A side serves: its port is a pack service's or below 1024.
    let serves_d = format!("({svc_d} OR dport < 1024)");
    let serves_s = format!("({svc_s} OR sport < 1024)");
    let eph = flowkeeper_analyze::initiator::EPHEMERAL_FIRST;
    let [a, b, c, d, e, f, g] = then;
    format!(
        "CASE \
WHEN protocol = 6 AND bitwise_and(tcp_flags, 18) = 2 THEN {a} \
WHEN protocol = 6 AND bitwise_and(tcp_flags, 18) = 18 THEN {b} \
WHEN action = 'REJECT' AND flow_direction = 'ingress' AND NOT (protocol = 6 AND tcp_flags IS NOT NULL) THEN {c} \
WHEN ported AND {serves_d} AND NOT {serves_s} THEN {d} \
WHEN ported AND {serves_s} AND NOT {serves_d} THEN {e} \
WHEN ported AND NOT {serves_s} AND NOT {serves_d} AND sport >= {eph} AND dport < {eph} THEN {f} \
WHEN ported AND NOT {serves_s} AND NOT {serves_d} AND dport >= {eph} AND sport < {eph} THEN {g} \
ELSE {otherwise} END"
    )
}

/// The civil date of a Unix time.
fn date(t: u64) -> jiff::civil::Date {
    let ts = Timestamp::from_second(t.min(253_402_207_199) as i64).unwrap_or(Timestamp::UNIX_EPOCH);
    jiff::tz::Offset::UTC.to_datetime(ts).date()
}

/// The partition predicate for a day range (one day of slack after `until`, as
/// `analyze::input::day_in_range`).
fn partition_filter(layout: Layout, range: TimeRange) -> Vec<String> {
    let mut out = Vec::new();
    let from = range.since.map(date);
    let to = range.until.map(|u| date(u.saturating_add(86_400)));
    if layout.hive {
        let tuple = |d: jiff::civil::Date, op: &str| {
            let (y, m, dd) = (
                format!("'{:04}'", d.year()),
                format!("'{:02}'", d.month()),
                format!("'{:02}'", d.day()),
            );
            format!(
                "(\"year\" {op} {y} OR (\"year\" = {y} AND (\"month\" {op} {m} OR (\"month\" = {m} AND \"day\" {op}= {dd}))))"
            )
        };
        if let Some(d) = from {
            out.push(tuple(d, ">"));
        }
        if let Some(d) = to {
            out.push(tuple(d, "<"));
        }
    } else {
        let text =
            |d: jiff::civil::Date| format!("'{:04}/{:02}/{:02}'", d.year(), d.month(), d.day());
        if let Some(d) = from {
            out.push(format!("\"day\" >= {}", text(d)));
        }
        if let Some(d) = to {
            out.push(format!("\"day\" <= {}", text(d)));
        }
    }
    out
}

/// The WHERE of the selection: accounts (always, for an injected projection), the partition
/// days and the records' own times, as `analyze/batches.rs` keeps them.
pub fn selection(
    spec: &TableSpec,
    range: TimeRange,
    accounts: Option<&[String]>,
) -> Result<String, Untranslatable> {
    let mut tests: Vec<String> = Vec::new();
    let listed: Option<Vec<String>> = match (&spec.accounts, accounts) {
        (_, Some(a)) if !a.is_empty() => Some(a.to_vec()),
        (AccountProjection::Injected, _) => {
            return Err(Untranslatable(format!(
                "table {} projects its accounts as injected: every query must name them",
                spec.table
            )));
        }
        (AccountProjection::Enum(_), _) => None,
    };
    if let Some(a) = listed {
        let quoted: Vec<String> = a.iter().map(|a| format!("'{a}'")).collect();
        tests.push(format!("\"aws_account\" IN ({})", quoted.join(", ")));
    }
    tests.extend(partition_filter(spec.layout, range));
    let start = column(spec, "start", "BIGINT");
    let end = column(spec, "end", "BIGINT");
    if let Some(s) = range.since {
        tests.push(format!("coalesce(coalesce({end}, {start}) >= {s}, true)"));
    }
    if let Some(u) = range.until {
        tests.push(format!("coalesce({start} <= {u}, true)"));
    }
    Ok(if tests.is_empty() {
        "true".into()
    } else {
        tests.join("\n    AND ")
    })
}

/// A quoted SQL string.
fn string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The zone of one side of a record, as `Zones::classify`: the pack's zones in order (its
/// CIDRs, or the logged interface's subnet/VPC id when `iface` says this side is the
/// interface's), then `unzoned` for an internal address, `internet` for the rest.
pub fn zone(
    zones: &Zones,
    v4: &str,
    internal: &str,
    iface: &str,
) -> Result<String, Untranslatable> {
    let mut arms = Vec::new();
    for z in zones.list() {
        let mut tests = in_blocks(v4, &z.cidrs, &format!("zones.{}.cidrs", z.name))?;
        let ids = |col: &str, ids: &[String]| {
            (!ids.is_empty()).then(|| {
                let list: Vec<String> = ids.iter().map(|i| string(i)).collect();
                format!("({iface} AND {col} IN ({}))", list.join(", "))
            })
        };
        tests.extend(ids("subnet_id", &z.subnets));
        tests.extend(ids("vpc_id", &z.vpcs));
        if !tests.is_empty() {
            arms.push(format!(
                "WHEN coalesce({}, false) THEN {}",
                tests.join(" OR "),
                string(&z.name)
            ));
        }
    }
    Ok(format!(
        "CASE {} WHEN {internal} THEN 'unzoned' ELSE 'internet' END",
        arms.join(" ")
    ))
}

/// Whether the destination zone's policy lets the source zone in on (protocol, port), as
/// `Zones::allows` (a zone without `accept_from`, and traffic inside one zone, are allowed).
pub fn zone_allows(zones: &Zones, src: &str, dst: &str, protocol: &str, port: &str) -> String {
    let mut arms = Vec::new();
    for z in zones.list() {
        let Some(rules) = &z.accept_from else {
            continue;
        };
        let mut tests = vec![format!("{src} = {dst}")];
        for r in rules {
            let mut t = Vec::new();
            if r.from != ZoneRef::Any {
                t.push(format!("{src} = {}", string(zones.name(r.from))));
            }
            if let Some(p) = r.protocol {
                t.push(format!("{protocol} = {p}"));
            }
            if !r.ports.is_empty() {
                let ports: Vec<String> = r
                    .ports
                    .iter()
                    .map(|p| format!("{port} BETWEEN {} AND {}", p.lo, p.hi))
                    .collect();
                t.push(format!("({})", ports.join(" OR ")));
            }
            tests.push(if t.is_empty() {
                "true".into()
            } else {
                format!("({})", t.join(" AND "))
            });
        }
        arms.push(format!(
            "WHEN {dst} = {} THEN coalesce({}, false)",
            string(&z.name),
            tests.join(" OR ")
        ));
    }
    if arms.is_empty() {
        "true".into()
    } else {
        format!("CASE {} ELSE true END", arms.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_ranges() {
        assert_eq!(v4_range("10.0.0.0/8"), Some((167_772_160, 184_549_375)));
        assert_eq!(
            v4_range("192.0.2.7/32"),
            Some((3_221_225_991, 3_221_225_991))
        );
        assert_eq!(v4_range("fc00::/7"), None);
    }

    #[test]
    fn hive_days_compare_as_tuples() {
        let f = partition_filter(
            Layout::HIVE,
            TimeRange {
                since: Some(1_772_841_600), // 2026-03-07
                until: None,
            },
        );
        assert_eq!(
            f,
            vec![
                "(\"year\" > '2026' OR (\"year\" = '2026' AND (\"month\" > '03' OR (\"month\" = '03' AND \"day\" >= '07'))))"
            ]
        );
    }
}
