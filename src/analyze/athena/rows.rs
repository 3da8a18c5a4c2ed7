//! Query rows → the local engine's types: [`Finding`]s (one per detection row), [`Reports`]
//! and the HTML [`Timeline`], so that `--engine athena` renders through the unchanged
//! renderers with the same schema. Columns are found by name (the detection column contract
//! of `templates/athena/`), so a reordered SELECT still decodes; a missing required column or a
//! value that is not what the column holds is a [`RowError`] naming the query, row and column.
//!
//! Summaries follow the local detectors' wording. Values SQL does not give (samples of ports
//! and hosts, evidence line numbers) stay empty.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;

use flowkeeper_analyze::reports::{PairTalker, PortTraffic, Talker, Traffic};
use flowkeeper_analyze::rules::{DetectorSpec, Params};
use flowkeeper_analyze::services::protocol_name;
use flowkeeper_analyze::text::{count, noun};
use flowkeeper_analyze::{Finding, Reports, RulePack, Window};

use crate::analyze::timeline::{Bucket, MAX_BUCKETS, Timeline};
use crate::aws::athena::ResultTable;
use crate::export::athena::queries::{Query, QueryKind};

/// A row that does not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub query: String,
    /// 1-based data row (the header row not counted); 0 for the columns.
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.row == 0 {
            write!(f, "athena query `{}`: {}", self.query, self.message)
        } else {
            write!(
                f,
                "athena query `{}`, result row {}: {}",
                self.query, self.row, self.message
            )
        }
    }
}

/// Everything decoded from one run's queries.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub findings: Vec<Finding>,
    pub reports: Reports,
    pub timeline: Timeline,
}

/// Decodes every query's rows (in any order; each by its kind).
pub fn decode(pack: &RulePack, results: &[(Query, ResultTable)]) -> Result<Decoded, RowError> {
    let mut out = Decoded {
        reports: Reports {
            // SQL sums exactly: nothing is estimated.
            top_exact: true,
            ..Reports::default()
        },
        ..Decoded::default()
    };
    for (q, table) in results {
        match &q.kind {
            QueryKind::Detection(id) => {
                let spec = pack
                    .detectors
                    .iter()
                    .find(|d| &d.id == id)
                    .ok_or_else(|| RowError {
                        query: q.id.clone(),
                        row: 0,
                        message: format!("no detector `{id}` in the rule pack"),
                    })?;
                for (i, row) in table.rows.iter().enumerate() {
                    let r = Row::new(&q.id, table, row, i + 1);
                    out.findings.push(finding(spec, &r)?);
                }
            }
            QueryKind::Report(name) => report(name, &q.id, table, &mut out)?,
            QueryKind::Investigation => {}
        }
    }
    out.findings.sort_by(|a, b| a.order(b));
    Ok(out)
}

/// One result row, its values found by column name.
struct Row<'a> {
    query: &'a str,
    columns: &'a [String],
    values: &'a [Option<String>],
    n: usize,
}

impl<'a> Row<'a> {
    fn new(query: &'a str, t: &'a ResultTable, values: &'a [Option<String>], n: usize) -> Row<'a> {
        Row {
            query,
            columns: &t.columns,
            values,
            n,
        }
    }

    fn err(&self, message: String) -> RowError {
        RowError {
            query: self.query.to_string(),
            row: self.n,
            message,
        }
    }

    /// The value of `col`: None when NULL or when the query has no such column.
    fn text(&self, col: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| c == col)?;
        self.values.get(i)?.as_deref().filter(|v| !v.is_empty())
    }

    fn opt<T: FromStr>(&self, col: &str, what: &str) -> Result<Option<T>, RowError> {
        match self.text(col) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<T>()
                .map(Some)
                .map_err(|_| self.err(format!("column `{col}` is `{v}`, not {what}"))),
        }
    }

    fn num(&self, col: &str) -> Result<u64, RowError> {
        Ok(self.opt::<u64>(col, "a whole number")?.unwrap_or(0))
    }

    fn need(&self, col: &str) -> Result<u64, RowError> {
        if !self.columns.iter().any(|c| c == col) {
            return Err(self.err(format!("the result has no column `{col}`")));
        }
        self.opt::<u64>(col, "a whole number")?
            .ok_or_else(|| self.err(format!("column `{col}` is NULL")))
    }

    fn addr(&self, col: &str) -> Result<Option<IpAddr>, RowError> {
        self.opt::<IpAddr>(col, "an IP address")
    }
}

/// One detection row as the local detector would have reported it.
fn finding(spec: &DetectorSpec, r: &Row<'_>) -> Result<Finding, RowError> {
    let start = r.need("window_start")?;
    let mut f = Finding::new(
        &spec.id,
        spec.params.kind(),
        spec.severity,
        Window {
            start,
            end: start + spec.window,
        },
    );
    f.src = r.addr("src")?;
    f.dst = r.addr("dst")?;
    f.dst_port = r.opt::<u16>("dst_port", "a port")?;
    f.protocol = r
        .opt::<u8>("protocol", "a protocol number")?
        .filter(|p| *p != 0);
    f.service = r.text("service").map(str::to_string);
    f.interface_id = r.text("interface_id").map(str::to_string);
    f.src_zone = r.text("src_zone").map(str::to_string);
    f.dst_zone = r.text("dst_zone").map(str::to_string);
    f.flows = r.need("flows")?;
    f.packets = r.num("packets")?;
    f.bytes = r.num("bytes")?;
    f.first_seen = r.opt::<u64>("first_seen", "a time")?.unwrap_or(start);
    f.last_seen = r.opt::<u64>("last_seen", "a time")?.unwrap_or(f.window.end);
    // count(DISTINCT ..) is exact.
    f.distinct = r.opt::<u64>("distinct_count", "a whole number")?;
    f.distinct_exact = true;
    f.summary = summary(spec, &f);
    Ok(f)
}

/// The local detectors' summary text, from the finding's fields.
fn summary(spec: &DetectorSpec, f: &Finding) -> String {
    let at = |a: Option<IpAddr>| a.map_or_else(|| "?".to_string(), |a| a.to_string());
    let n = f.distinct.unwrap_or(0);
    let proto = protocol_name(f.protocol.unwrap_or(0));
    let port = f
        .dst_port
        .map_or_else(|| "?".to_string(), |p| p.to_string());
    match &spec.params {
        Params::PortScan { .. } => format!(
            "{} probed {n} distinct {} on {} ({})",
            at(f.src),
            noun(n, "port", "ports"),
            at(f.dst),
            count(f.flows, "record", "records")
        ),
        Params::HostSweep { .. } => format!(
            "{} probed {proto}/{port} on {n} distinct {}",
            at(f.src),
            noun(n, "host", "hosts")
        ),
        Params::RejectBurst { .. } => format!(
            "{} from {} to {n} {}",
            count(f.flows, "rejected record", "rejected records"),
            at(f.src),
            noun(n, "destination", "destinations")
        ),
        Params::AdminPortExposure { .. } => format!(
            "{} ({proto}/{port}) on {} accepted from {n} external {}",
            f.service.as_deref().unwrap_or("admin port"),
            at(f.dst),
            if n == 1 { "source" } else { "sources" },
        ),
        Params::LogHealth { status, .. } => {
            let id = f.interface_id.as_deref().unwrap_or("-");
            match status {
                flowlog::LogStatus::SkipData => format!(
                    "{id}: {} (flow records were dropped)",
                    count(f.flows, "SKIPDATA record", "SKIPDATA records")
                ),
                _ => format!(
                    "{id}: {} {}",
                    f.flows,
                    noun(
                        f.flows,
                        &format!("{} record", status.as_str()),
                        &format!("{} records", status.as_str())
                    )
                ),
            }
        }
        other => format!(
            "{} ({} in the window)",
            other.kind(),
            count(f.flows, "record", "records")
        ),
    }
}

fn traffic(r: &Row<'_>, prefix: &str) -> Result<Traffic, RowError> {
    Ok(Traffic {
        flows: r.num(&format!("{prefix}_flows"))?,
        packets: r.num(&format!("{prefix}_packets"))?,
        bytes: r.num(&format!("{prefix}_bytes"))?,
    })
}

fn need_addr(r: &Row<'_>, col: &str) -> Result<IpAddr, RowError> {
    r.addr(col)?
        .ok_or_else(|| r.err(format!("column `{col}` is NULL")))
}

fn report(name: &str, query: &str, t: &ResultTable, out: &mut Decoded) -> Result<(), RowError> {
    let rows = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, v)| Row::new(query, t, v, i + 1));
    let reports = &mut out.reports;
    match name {
        "totals" => {
            for r in rows.take(1) {
                let totals = &mut reports.totals;
                totals.records = r.num("records")?;
                totals.duplicates = r.num("duplicates")?;
                totals.accepted = traffic(&r, "accepted")?;
                totals.rejected = traffic(&r, "rejected")?;
                totals.no_action = traffic(&r, "no_action")?;
                totals.nodata = r.num("nodata")?;
                totals.skipdata = r.num("skipdata")?;
                totals.untimed = r.num("untimed")?;
                totals.first_seen = r.opt("first_seen", "a time")?;
                totals.last_seen = r.opt("last_seen", "a time")?;
            }
        }
        "top_sources" | "top_destinations" => {
            let mut list = Vec::new();
            for r in rows {
                list.push(Talker {
                    addr: need_addr(&r, "addr")?,
                    bytes: r.num("bytes")?,
                    error: 0,
                });
            }
            if name == "top_sources" {
                reports.top_sources = list;
            } else {
                reports.top_destinations = list;
            }
        }
        "top_pairs" => {
            for r in rows {
                reports.top_pairs.push(PairTalker {
                    src: need_addr(&r, "src")?,
                    dst: need_addr(&r, "dst")?,
                    bytes: r.num("bytes")?,
                    error: 0,
                });
            }
        }
        "ports" => {
            for r in rows {
                reports.ports.push(PortTraffic {
                    protocol: r.opt::<u8>("protocol", "a protocol number")?.unwrap_or(0),
                    port: r
                        .opt::<u16>("port", "a port")?
                        .ok_or_else(|| r.err("column `port` is NULL".to_string()))?,
                    accepted: traffic(&r, "accepted")?,
                    rejected: traffic(&r, "rejected")?,
                });
            }
        }
        "timeline" => {
            let mut buckets = BTreeMap::new();
            for r in rows {
                buckets.insert(
                    r.need("bucket_start")?,
                    Bucket {
                        accepted_flows: r.num("accepted_flows")?,
                        accepted_bytes: r.num("accepted_bytes")?,
                        rejected_flows: r.num("rejected_flows")?,
                        rejected_bytes: r.num("rejected_bytes")?,
                    },
                );
            }
            out.timeline = timeline(
                crate::export::athena::queries::TIMELINE_BUCKET_SECONDS,
                buckets,
            );
        }
        _ => {}
    }
    Ok(())
}

/// The SQL's fixed-length buckets, doubled (neighbours merged) until at most
/// [`MAX_BUCKETS`], as the local timeline does.
fn timeline(seconds: u64, mut buckets: BTreeMap<u64, Bucket>) -> Timeline {
    let mut size = seconds.max(1);
    while buckets.len() > MAX_BUCKETS {
        size *= 2;
        let mut merged: BTreeMap<u64, Bucket> = BTreeMap::new();
        for (k, b) in buckets {
            let m = merged.entry(k - k % size).or_default();
            m.accepted_flows += b.accepted_flows;
            m.accepted_bytes = m.accepted_bytes.saturating_add(b.accepted_bytes);
            m.rejected_flows += b.rejected_flows;
            m.rejected_bytes = m.rejected_bytes.saturating_add(b.rejected_bytes);
        }
        buckets = merged;
    }
    let mut t = Timeline::default();
    t.bucket_seconds = size;
    t.buckets = buckets;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> RulePack {
        RulePack::default_pack()
    }

    fn table(cols: &[&str], rows: &[&[Option<&str>]]) -> ResultTable {
        ResultTable {
            columns: cols.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
                .collect(),
        }
    }

    fn query(id: &str, kind: QueryKind) -> Query {
        Query {
            id: id.into(),
            kind,
            sql: String::new(),
        }
    }

    const DETECTION: &[&str] = &[
        "window_start",
        "src",
        "dst",
        "dst_port",
        "protocol",
        "service",
        "interface_id",
        "flows",
        "packets",
        "bytes",
        "first_seen",
        "last_seen",
        "distinct_count",
    ];

    fn detector(kind: &str) -> DetectorSpec {
        pack()
            .detectors
            .into_iter()
            .find(|d| d.params.kind() == kind)
            .unwrap()
    }

    #[test]
    fn a_port_scan_row_is_the_local_finding() {
        let d = detector("port_scan");
        let t = table(
            DETECTION,
            &[&[
                Some("1793491200"),
                Some("203.0.113.9"),
                Some("10.0.0.5"),
                None,
                None,
                None,
                None,
                Some("31"),
                Some("31"),
                Some("1240"),
                Some("1793491201"),
                Some("1793491230"),
                Some("31"),
            ]],
        );
        let got = decode(
            &pack(),
            &[(query("detect-x", QueryKind::Detection(d.id.clone())), t)],
        )
        .unwrap();
        let f = &got.findings[0];
        assert_eq!(f.detector, d.id);
        assert_eq!(f.kind, "port_scan");
        assert_eq!(f.severity, d.severity);
        assert_eq!(f.window.end - f.window.start, d.window);
        assert_eq!(f.src, Some("203.0.113.9".parse().unwrap()));
        assert_eq!((f.flows, f.bytes, f.distinct), (31, 1240, Some(31)));
        assert_eq!(
            f.summary,
            "203.0.113.9 probed 31 distinct ports on 10.0.0.5 (31 records)"
        );
    }

    #[test]
    fn a_bad_value_names_the_query_row_and_column() {
        let d = detector("port_scan");
        let t = table(
            DETECTION,
            &[&[
                Some("1793491200"),
                Some("not-an-ip"),
                None,
                None,
                None,
                None,
                None,
                Some("1"),
                None,
                None,
                None,
                None,
                None,
            ]],
        );
        let err = decode(
            &pack(),
            &[(query("detect-x", QueryKind::Detection(d.id)), t)],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "athena query `detect-x`, result row 1: column `src` is `not-an-ip`, not an IP address"
        );
    }

    #[test]
    fn reports_decode_and_are_exact() {
        let totals = table(
            &[
                "records",
                "duplicates",
                "accepted_flows",
                "accepted_packets",
                "accepted_bytes",
                "first_seen",
                "last_seen",
            ],
            &[&[
                Some("10"),
                Some("2"),
                Some("8"),
                Some("9"),
                Some("900"),
                Some("5"),
                None,
            ]],
        );
        let pairs = table(
            &["src", "dst", "bytes"],
            &[&[Some("10.0.0.1"), Some("::1"), Some("7")]],
        );
        let tl = table(
            &[
                "bucket_start",
                "accepted_flows",
                "accepted_bytes",
                "rejected_flows",
                "rejected_bytes",
            ],
            &[&[Some("60"), Some("1"), Some("2"), Some("3"), Some("4")]],
        );
        let got = decode(
            &pack(),
            &[
                (query("report-totals", QueryKind::Report("totals")), totals),
                (
                    query("report-top-pairs", QueryKind::Report("top_pairs")),
                    pairs,
                ),
                (query("report-timeline", QueryKind::Report("timeline")), tl),
            ],
        )
        .unwrap();
        assert!(got.reports.top_exact);
        assert_eq!(got.reports.totals.records, 10);
        assert_eq!(got.reports.totals.accepted.bytes, 900);
        assert_eq!(got.reports.totals.first_seen, Some(5));
        assert_eq!(got.reports.totals.last_seen, None);
        assert_eq!(
            got.reports.top_pairs[0].dst,
            "::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(got.timeline.buckets[&60].rejected_bytes, 4);
    }

    #[test]
    fn more_than_max_buckets_are_merged_and_totals_kept() {
        let buckets: BTreeMap<u64, Bucket> = (0..2000u64)
            .map(|i| {
                (
                    i * 60,
                    Bucket {
                        accepted_flows: 1,
                        ..Bucket::default()
                    },
                )
            })
            .collect();
        let t = timeline(60, buckets);
        assert!(t.buckets.len() <= MAX_BUCKETS);
        assert_eq!(t.bucket_seconds, 240);
        assert_eq!(
            t.buckets.values().map(|b| b.accepted_flows).sum::<u64>(),
            2000
        );
    }
}
