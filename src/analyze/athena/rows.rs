//! Query rows → [`Finding`]s, [`Reports`] and a [`Timeline`]: the one decoder for Athena's
//! results and for the DuckDB equivalence test, so that test proves the conversion as well as
//! the SQL. Values arrive as text (Athena's `VarCharValue`, NULL as None); a missing column or
//! a value that does not parse is a [`RowError`] naming the query, the row and the column.
//!
//! Detection rows follow one column contract (`window_start, src, dst, dst_port, protocol,
//! service, interface_id, flows, packets, bytes, first_seen, last_seen, distinct_count`); SQL
//! counts are exact, so `distinct_exact` is true, and there is no evidence (Athena has no line
//! numbers). Top lists are exact (`top_exact`, `error` 0); `ports_other` is empty (SQL has no
//! port cap).

use std::collections::BTreeMap;
use std::net::IpAddr;

use flowkeeper_analyze::Reports;
use flowkeeper_analyze::reports::{PairTalker, PortTraffic, Talker, Totals, Traffic};
use flowkeeper_analyze::rules::{Params, RulePack};
use flowkeeper_analyze::text::{count, noun};
use flowkeeper_analyze::{Finding, Window};

use crate::analyze::timeline::{Bucket, MAX_BUCKETS, Timeline};
use crate::export::athena::queries::{Query, QueryKind, TIMELINE_BUCKET_SECONDS};

/// A query's result: column names and rows of text values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A row that does not fit its query's contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub query: String,
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "athena query `{}`, result row {}: {}",
            self.query,
            self.row + 1,
            self.message
        )
    }
}

impl std::error::Error for RowError {}

/// One row, by column name.
struct Row<'a> {
    query: &'a str,
    index: usize,
    columns: &'a [String],
    values: &'a [Option<String>],
}

impl Row<'_> {
    fn err(&self, message: String) -> RowError {
        RowError {
            query: self.query.to_string(),
            row: self.index,
            message,
        }
    }

    fn text(&self, column: &str) -> Result<Option<&str>, RowError> {
        let i = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| self.err(format!("no column `{column}`")))?;
        Ok(self.values.get(i).and_then(|v| v.as_deref()))
    }

    /// A column that only some queries have (`ours`, `src_zone`, `dst_zone`).
    fn optional(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values.get(i).and_then(|v| v.as_deref())
    }

    fn opt_u64(&self, column: &str) -> Result<Option<u64>, RowError> {
        self.text(column)?
            .map(|t| {
                t.parse::<u64>()
                    .map_err(|_| self.err(format!("`{column}` is `{t}`, not a count")))
            })
            .transpose()
    }

    fn u64(&self, column: &str) -> Result<u64, RowError> {
        Ok(self.opt_u64(column)?.unwrap_or(0))
    }

    fn opt_ip(&self, column: &str) -> Result<Option<IpAddr>, RowError> {
        self.text(column)?
            .map(|t| {
                t.parse::<IpAddr>()
                    .map_err(|_| self.err(format!("`{column}` is `{t}`, not an address")))
            })
            .transpose()
    }

    fn ip(&self, column: &str) -> Result<IpAddr, RowError> {
        self.opt_ip(column)?
            .ok_or_else(|| self.err(format!("`{column}` is NULL")))
    }

    fn traffic(&self, prefix: &str) -> Result<Traffic, RowError> {
        Ok(Traffic {
            flows: self.u64(&format!("{prefix}_flows"))?,
            packets: self.u64(&format!("{prefix}_packets"))?,
            bytes: self.u64(&format!("{prefix}_bytes"))?,
        })
    }
}

fn rows<'a>(query: &'a Query, table: &'a ResultTable) -> impl Iterator<Item = Row<'a>> {
    table
        .rows
        .iter()
        .enumerate()
        .map(move |(index, values)| Row {
            query: &query.id,
            index,
            columns: &table.columns,
            values,
        })
}

/// Decodes every query's result. Findings come in query order (the pack's detector order),
/// each query's rows as they came.
pub fn decode(
    pack: &RulePack,
    results: &[(Query, ResultTable)],
) -> Result<(Vec<Finding>, Reports, Timeline), RowError> {
    let mut findings = Vec::new();
    let mut reports = Reports {
        top_exact: true,
        ..Reports::default()
    };
    let mut buckets: BTreeMap<u64, Bucket> = BTreeMap::new();
    for (query, table) in results {
        match &query.kind {
            QueryKind::Detection(id) => {
                for row in rows(query, table) {
                    findings.push(finding(pack, id, &row)?);
                }
            }
            // An aggregate without GROUP BY returns exactly one row, even over no records:
            // no row means the result is not this query's, never "0 records".
            QueryKind::Report("totals") => match rows(query, table).next() {
                Some(row) => reports.totals = totals(&row)?,
                None => {
                    return Err(RowError {
                        query: query.id.clone(),
                        row: 0,
                        message: "the totals query returned no row (it always returns one); \
                                  the result is not this query's"
                            .to_string(),
                    });
                }
            },
            QueryKind::Report("top_sources") => {
                reports.top_sources = talkers(query, table)?;
            }
            QueryKind::Report("top_destinations") => {
                reports.top_destinations = talkers(query, table)?;
            }
            QueryKind::Report("top_pairs") => {
                reports.top_pairs = rows(query, table)
                    .map(|r| {
                        Ok(PairTalker {
                            src: r.ip("src")?,
                            dst: r.ip("dst")?,
                            bytes: r.u64("bytes")?,
                            error: 0,
                        })
                    })
                    .collect::<Result<_, RowError>>()?;
            }
            QueryKind::Report("ports") => {
                reports.ports = rows(query, table)
                    .map(|r| {
                        let port = r.u64("port")?;
                        Ok(PortTraffic {
                            protocol: u8::try_from(r.u64("protocol")?)
                                .map_err(|_| r.err("`protocol` above 255".into()))?,
                            port: u16::try_from(port)
                                .map_err(|_| r.err(format!("`port` {port} above 65535")))?,
                            accepted: r.traffic("accepted")?,
                            rejected: r.traffic("rejected")?,
                        })
                    })
                    .collect::<Result<_, RowError>>()?;
            }
            QueryKind::Report("timeline") => {
                for r in rows(query, table) {
                    let b = buckets.entry(r.u64("bucket_start")?).or_default();
                    b.accepted_flows += r.u64("accepted_flows")?;
                    b.accepted_bytes += r.u64("accepted_bytes")?;
                    b.rejected_flows += r.u64("rejected_flows")?;
                    b.rejected_bytes += r.u64("rejected_bytes")?;
                }
            }
            QueryKind::Report(_) | QueryKind::Investigation => {}
        }
    }
    Ok((findings, reports, timeline(buckets)))
}

fn totals(r: &Row<'_>) -> Result<Totals, RowError> {
    Ok(Totals {
        records: r.u64("records")?,
        duplicates: r.u64("duplicates")?,
        // The SQL names no relays (the pkt-address rules are not translated: README).
        relayed: 0,
        accepted: r.traffic("accepted")?,
        rejected: r.traffic("rejected")?,
        no_action: r.traffic("no_action")?,
        nodata: r.u64("nodata")?,
        skipdata: r.u64("skipdata")?,
        untimed: r.u64("untimed")?,
        first_seen: r.opt_u64("first_seen")?,
        last_seen: r.opt_u64("last_seen")?,
    })
}

fn talkers(query: &Query, table: &ResultTable) -> Result<Vec<Talker>, RowError> {
    rows(query, table)
        .map(|r| {
            Ok(Talker {
                addr: r.ip("addr")?,
                bytes: r.u64("bytes")?,
                error: 0,
            })
        })
        .collect()
}

/// The local timeline's bounds: 60-second buckets, doubled while there are more than
/// [`MAX_BUCKETS`].
fn timeline(mut buckets: BTreeMap<u64, Bucket>) -> Timeline {
    let mut size = TIMELINE_BUCKET_SECONDS;
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

/// One detection row as the local detector's finding.
fn finding(pack: &RulePack, id: &str, r: &Row<'_>) -> Result<Finding, RowError> {
    let spec = pack
        .detector(id)
        .ok_or_else(|| r.err(format!("the pack has no detector `{id}`")))?;
    let start = r.u64("window_start")?;
    let mut f = Finding::new(
        &spec.id,
        spec.params.kind(),
        spec.severity,
        Window {
            start,
            end: start + spec.window,
        },
    );
    f.src = r.opt_ip("src")?;
    f.dst = r.opt_ip("dst")?;
    f.dst_port = r
        .opt_u64("dst_port")?
        .map(|p| u16::try_from(p).map_err(|_| r.err(format!("`dst_port` {p} above 65535"))))
        .transpose()?;
    f.protocol = r
        .opt_u64("protocol")?
        .map(|p| u8::try_from(p).map_err(|_| r.err(format!("`protocol` {p} above 255"))))
        .transpose()?;
    f.service = r.text("service")?.map(str::to_string);
    f.interface_id = r.text("interface_id")?.map(str::to_string);
    if let Some(labels) = r.optional("decided_by") {
        f.decided_by = decided_bits(labels)
            .map_err(|l| r.err(format!("`decided_by` has an unknown label `{l}`")))?;
    }
    f.src_zone = r.optional("src_zone").map(str::to_string);
    f.dst_zone = r.optional("dst_zone").map(str::to_string);
    f.ours = r
        .optional("ours")
        .map(|a| {
            a.parse()
                .map_err(|_| r.err(format!("`ours` is not an address: {a}")))
        })
        .transpose()?;
    f.flows = r.u64("flows")?;
    f.packets = r.u64("packets")?;
    f.bytes = r.u64("bytes")?;
    f.first_seen = r.u64("first_seen")?;
    f.last_seen = r.u64("last_seen")?;
    f.distinct = r.opt_u64("distinct_count")?;
    // SQL counts are exact (and a finding without a count is exact too, as locally).
    f.distinct_exact = true;
    f.summary = summary(&spec.params, &f);
    Ok(f)
}

/// The bitmask of comma-separated `decided_by` labels, or the first unknown label.
fn decided_bits(labels: &str) -> Result<u8, String> {
    labels
        .split(',')
        .filter(|l| !l.is_empty())
        .try_fold(0u8, |bits, l| {
            flowkeeper_analyze::initiator::DecidedBy::ALL
                .into_iter()
                .find(|d| d.label() == l)
                .map(|d| bits | d.bit())
                .ok_or_else(|| l.to_string())
        })
}

/// The finding's one-line text. For log health it is the local detector's
/// (`flowkeeper_analyze::log_health_summary`), for reject bursts it reads as the local one
/// (`detectors/reject_burst.rs`); the other kinds get a plain statement of the counts.
fn summary(params: &Params, f: &Finding) -> String {
    let n = f.distinct.unwrap_or(0);
    let addr = |a: Option<IpAddr>| a.map_or_else(|| "-".to_string(), |a| a.to_string());
    match params {
        Params::RejectBurst { .. } => format!(
            "{} from {} to {n} {}",
            count(f.flows, "rejected record", "rejected records"),
            addr(f.src),
            noun(n, "destination", "destinations")
        ),
        Params::LogHealth { status, .. } => flowkeeper_analyze::log_health_summary(
            f.interface_id.as_deref().unwrap_or_default(),
            *status,
            f.flows,
        ),
        Params::PortScan { .. } => format!(
            "{} probed {n} {} of {}",
            addr(f.src),
            noun(n, "port", "ports"),
            addr(f.dst)
        ),
        Params::HostSweep { .. } => format!(
            "{} probed port {} on {n} {}",
            addr(f.src),
            f.dst_port.unwrap_or(0),
            noun(n, "host", "hosts")
        ),
        Params::AdminPortExposure { .. } => format!(
            "{} port {} accepted from {n} external {}",
            addr(f.dst),
            f.dst_port.unwrap_or(0),
            noun(n, "source", "sources")
        ),
        _ => format!("{} in the window", count(f.flows, "record", "records")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: &str, kind: QueryKind) -> Query {
        Query {
            id: id.into(),
            kind,
            sql: String::new(),
        }
    }

    fn table(columns: &[&str], rows: &[&[Option<&str>]]) -> ResultTable {
        ResultTable {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
                .collect(),
        }
    }

    #[test]
    fn bad_values_name_the_query_row_and_column() {
        let pack = RulePack::default_pack();
        let q = query("report-top-sources", QueryKind::Report("top_sources"));
        let t = table(
            &["addr", "bytes"],
            &[&[Some("10.0.0.1"), Some("5")], &[Some("nope"), Some("1")]],
        );
        let err = decode(&pack, &[(q, t)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "athena query `report-top-sources`, result row 2: `addr` is `nope`, not an address"
        );
        let q = query(
            "detect-reject-burst",
            QueryKind::Detection("reject-burst".into()),
        );
        let t = table(&["window_start", "src"], &[&[Some("0"), Some("10.0.0.1")]]);
        let err = decode(&pack, &[(q, t)]).unwrap_err();
        assert!(err.message.contains("no column `dst`"), "{err}");
    }

    /// Regression (review): an empty totals result rendered "0 records", exit 0.
    #[test]
    fn an_empty_totals_result_is_an_error_not_zero_records() {
        let pack = RulePack::default_pack();
        let q = query("report-totals", QueryKind::Report("totals"));
        let err = decode(&pack, &[(q, table(&["records"], &[]))]).unwrap_err();
        assert!(err.to_string().contains("report-totals"), "{err}");
        assert!(err.message.contains("no row"), "{err}");
    }

    #[test]
    fn timeline_buckets_double_past_the_cap() {
        let buckets: BTreeMap<u64, Bucket> = (0..1000u64)
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
        let t = timeline(buckets);
        assert_eq!(t.bucket_seconds, 120);
        assert_eq!(t.buckets.len(), 500);
        assert_eq!(
            t.buckets.values().map(|b| b.accepted_flows).sum::<u64>(),
            1000
        );
    }
}
