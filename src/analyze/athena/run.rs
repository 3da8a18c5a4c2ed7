//! Runs the analysis queries through Athena one at a time, in order (deterministic for users,
//! and the order `export athena --list` prints), and collects each one's rows and figures. The
//! first query that fails, is cancelled or times out ends the run with an error naming it:
//! nothing is rendered from a partial analysis, which could hide findings. Ctrl-C stops the
//! running query (StopQueryExecution) before the run ends.

use serde::Serialize;

use crate::aws::athena::{self, Athena, Poll, QueryError, Request, ResultTable};
use crate::export::athena::queries::Query;

/// Where and how the queries run.
#[derive(Clone, Debug)]
pub struct Target {
    pub database: String,
    pub workgroup: String,
    pub output_location: Option<String>,
    pub poll: Poll,
}

/// One query's figures (`summary.athena.queries[]` of the JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryFigures {
    pub id: String,
    pub execution_id: String,
    pub data_scanned_bytes: u64,
    pub engine_ms: u64,
    pub rows: u64,
    /// GetQueryResults calls.
    pub pages: u32,
}

/// The run's figures (`summary.athena` of the JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AthenaSummary {
    pub database: String,
    pub workgroup: String,
    pub queries: Vec<QueryFigures>,
    pub data_scanned_bytes: u64,
}

/// Why the run stopped: the query, and what happened to it.
#[derive(Clone, Debug)]
pub struct RunError {
    pub query: String,
    pub error: QueryError,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            QueryError::Call(e) => write!(f, "athena query `{}`: {e}", self.query),
            other => write!(f, "athena query `{}` {other}", self.query),
        }
    }
}

impl RunError {
    pub fn hint(&self) -> Option<&'static str> {
        match &self.error {
            QueryError::Call(e) => e.hint().or(Some(
                "check --workgroup, --database and the table (export athena prints its DDL), and that the workgroup has a result location or --output-location is given",
            )),
            QueryError::Ended { .. } => Some(
                "the query's SQL is in `flowkeeper export athena --queries -o DIR`; run it in the Athena console to see more",
            ),
            QueryError::Timeout { .. } => Some("raise --query-timeout, or narrow --since/--until"),
        }
    }
}

/// Runs `queries` in order; `progress` is told each finished query.
pub async fn run_all(
    client: &Athena,
    queries: &[Query],
    target: &Target,
    progress: &mut dyn FnMut(&QueryFigures),
) -> Result<(Vec<(Query, ResultTable)>, AthenaSummary), RunError> {
    let mut results = Vec::with_capacity(queries.len());
    let mut summary = AthenaSummary {
        database: target.database.clone(),
        workgroup: target.workgroup.clone(),
        ..AthenaSummary::default()
    };
    for q in queries {
        let fail = |error| RunError {
            query: q.id.clone(),
            error,
        };
        let req = Request {
            sql: q.sql.clone(),
            database: target.database.clone(),
            workgroup: target.workgroup.clone(),
            output_location: target.output_location.clone(),
        };
        let execution_id = athena::start(client, &req)
            .await
            .map_err(|e| fail(QueryError::Call(e)))?;
        let done = tokio::select! {
            r = athena::finish(client, execution_id.clone(), &target.poll) => r.map_err(fail)?,
            _ = tokio::signal::ctrl_c() => {
                let stopped = athena::stop(client, &execution_id).await;
                let status = athena::Status {
                    state: athena::State::Cancelled,
                    reason: Some(match stopped {
                        Ok(()) => "interrupted (Ctrl-C); the query was stopped".to_string(),
                        Err(e) => format!("interrupted (Ctrl-C); stopping it failed: {e}"),
                    }),
                    error_type: None,
                    error_message: None,
                    data_scanned_bytes: 0,
                    engine_ms: 0,
                };
                return Err(fail(QueryError::Ended { execution_id, status }));
            }
        };
        let figures = QueryFigures {
            id: q.id.clone(),
            execution_id: done.execution_id.clone(),
            data_scanned_bytes: done.status.data_scanned_bytes,
            engine_ms: done.status.engine_ms,
            rows: done.table.rows.len() as u64,
            pages: done.pages,
        };
        progress(&figures);
        summary.data_scanned_bytes = summary
            .data_scanned_bytes
            .saturating_add(figures.data_scanned_bytes);
        summary.queries.push(figures);
        results.push((q.clone(), done.table));
    }
    Ok((results, summary))
}

/// `1.2 GiB` (binary units, one decimal from KiB on).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The stderr line: `athena: 10 queries, 1.2 GiB scanned`.
pub fn scanned_line(s: &AthenaSummary) -> String {
    format!(
        "athena: {}, {} scanned",
        flowkeeper_analyze::text::count(s.queries.len() as u64, "query", "queries"),
        human_bytes(s.data_scanned_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_figures_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(1_288_490_189), "1.2 GiB");
        let s = AthenaSummary {
            data_scanned_bytes: 2048,
            queries: vec![
                QueryFigures {
                    id: "a".into(),
                    execution_id: "e".into(),
                    data_scanned_bytes: 2048,
                    engine_ms: 1,
                    rows: 0,
                    pages: 1,
                };
                10
            ],
            ..AthenaSummary::default()
        };
        assert_eq!(scanned_line(&s), "athena: 10 queries, 2.0 KiB scanned");
    }
}
