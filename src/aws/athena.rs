//! Athena: one query run to its end (StartQueryExecution, GetQueryExecution polled with
//! backoff, GetQueryResults page by page), and StopQueryExecution. The SDK types stay here;
//! callers get [`Request`], [`Finished`] and [`QueryError`].
//!
//! Polling waits 200 ms, doubling to a 5 s cap, until the deadline the caller gives. The hidden
//! `FLOWKEEPER_ATHENA_POLL_MS` makes every wait that long (tests); it changes timing only,
//! never which calls are made. A query may go from RUNNING back to QUEUED (Athena retries
//! transient failures), so no forward-only order is assumed: only SUCCEEDED, FAILED and
//! CANCELLED end the wait.

use std::time::{Duration, Instant};

use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use super::error::{AwsError, classify};

/// The hidden variable that fixes every poll interval (milliseconds).
pub const POLL_VAR: &str = "FLOWKEEPER_ATHENA_POLL_MS";

/// Rows asked for per GetQueryResults call (Athena's maximum).
pub const PAGE_SIZE: i32 = 1000;

/// An Athena client. The SDK type stays inside `aws`.
#[derive(Clone, Debug)]
pub struct Athena(Client);

impl Athena {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Athena(client)
    }
}

/// What StartQueryExecution is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub sql: String,
    pub database: String,
    pub workgroup: String,
    /// `s3://...` for the results; None leaves it to the workgroup.
    pub output_location: Option<String>,
}

/// How long to wait between polls and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Poll {
    pub first: Duration,
    pub cap: Duration,
    pub deadline: Duration,
}

impl Poll {
    /// 200 ms doubling to 5 s, or a fixed interval from [`POLL_VAR`].
    pub fn from_env(deadline: Duration) -> Poll {
        Poll::from_var(std::env::var(POLL_VAR).ok().as_deref(), deadline)
    }

    /// [`Poll::from_env`] with the variable's value given.
    pub fn from_var(value: Option<&str>, deadline: Duration) -> Poll {
        match value.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(ms) if ms > 0 => Poll {
                first: Duration::from_millis(ms),
                cap: Duration::from_millis(ms),
                deadline,
            },
            _ => Poll {
                first: Duration::from_millis(200),
                cap: Duration::from_secs(5),
                deadline,
            },
        }
    }

    /// The wait before poll number `n` (0-based).
    pub fn interval(&self, n: u32) -> Duration {
        self.first
            .saturating_mul(1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX))
            .min(self.cap)
    }
}

/// A query execution's state (QueryExecutionStatus.State).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// A state this build does not know (kept, and waited on).
    Other(String),
}

impl State {
    fn of(s: Option<&QueryExecutionState>) -> State {
        match s {
            Some(QueryExecutionState::Queued) => State::Queued,
            Some(QueryExecutionState::Running) => State::Running,
            Some(QueryExecutionState::Succeeded) => State::Succeeded,
            Some(QueryExecutionState::Failed) => State::Failed,
            Some(QueryExecutionState::Cancelled) => State::Cancelled,
            Some(other) => State::Other(other.as_str().to_string()),
            None => State::Other("(none)".to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Succeeded => "SUCCEEDED",
            State::Failed => "FAILED",
            State::Cancelled => "CANCELLED",
            State::Other(s) => s,
        }
    }
}

/// One GetQueryExecution answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    /// StateChangeReason.
    pub reason: Option<String>,
    /// AthenaError.ErrorType and ErrorMessage, when given.
    pub error_type: Option<i32>,
    pub error_message: Option<String>,
    pub data_scanned_bytes: u64,
    pub engine_ms: u64,
}

/// A query's result set, every page, the header row dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultTable {
    /// Column names (ColumnInfo.Name), in order.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A query that ran to SUCCEEDED.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub execution_id: String,
    pub status: Status,
    pub table: ResultTable,
    /// GetQueryExecution calls made.
    pub polls: u32,
    /// GetQueryResults calls made.
    pub pages: u32,
}

/// Why a query has no result.
#[derive(Clone, Debug)]
pub enum QueryError {
    /// A call failed (after the SDK's retries).
    Call(AwsError),
    /// The query ended FAILED or CANCELLED.
    Ended {
        execution_id: String,
        status: Status,
    },
    /// Not finished by the deadline (it was stopped).
    Timeout {
        execution_id: String,
        state: State,
        waited: Duration,
    },
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Call(e) => write!(f, "{e}"),
            QueryError::Ended {
                execution_id,
                status,
            } => {
                write!(f, "(execution {execution_id}) {}", status.state.as_str())?;
                let reason = status.reason.as_deref().or(status.error_message.as_deref());
                if let Some(r) = reason {
                    write!(f, ": {r}")?;
                }
                if let Some(t) = status.error_type {
                    write!(f, " [error type {t}]")?;
                }
                Ok(())
            }
            QueryError::Timeout {
                execution_id,
                state,
                waited,
            } => write!(
                f,
                "(execution {execution_id}) still {} after {}s (--query-timeout); it was stopped",
                state.as_str(),
                waited.as_secs()
            ),
        }
    }
}

/// StartQueryExecution; the execution id.
pub async fn start(athena: &Athena, req: &Request) -> Result<String, AwsError> {
    let call = athena
        .0
        .start_query_execution()
        .query_string(&req.sql)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&req.database)
                .catalog("AwsDataCatalog")
                .build(),
        )
        .work_group(&req.workgroup)
        .set_result_configuration(
            req.output_location
                .as_ref()
                .map(|o| ResultConfiguration::builder().output_location(o).build()),
        );
    let out = call
        .send()
        .await
        .map_err(|e| classify("athena:StartQueryExecution", e))?;
    out.query_execution_id().map(str::to_string).ok_or_else(|| {
        AwsError::other(
            "athena:StartQueryExecution",
            "no QueryExecutionId in the response",
        )
    })
}

/// GetQueryExecution.
pub async fn status(athena: &Athena, execution_id: &str) -> Result<Status, AwsError> {
    let out = athena
        .0
        .get_query_execution()
        .query_execution_id(execution_id)
        .send()
        .await
        .map_err(|e| classify("athena:GetQueryExecution", e))?;
    let exec = out.query_execution();
    let st = exec.and_then(|e| e.status());
    let stats = exec.and_then(|e| e.statistics());
    let err = st.and_then(|s| s.athena_error());
    Ok(Status {
        state: State::of(st.and_then(|s| s.state())),
        reason: st.and_then(|s| s.state_change_reason()).map(str::to_string),
        error_type: err.and_then(|e| e.error_type()),
        error_message: err.and_then(|e| e.error_message()).map(str::to_string),
        data_scanned_bytes: stats
            .and_then(|s| s.data_scanned_in_bytes())
            .map_or(0, |b| b.max(0) as u64),
        engine_ms: stats
            .and_then(|s| s.engine_execution_time_in_millis())
            .map_or(0, |b| b.max(0) as u64),
    })
}

/// StopQueryExecution.
pub async fn stop(athena: &Athena, execution_id: &str) -> Result<(), AwsError> {
    athena
        .0
        .stop_query_execution()
        .query_execution_id(execution_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("athena:StopQueryExecution", e))
}

/// Polls until the query ends or the deadline passes (then stops it).
pub async fn wait(
    athena: &Athena,
    execution_id: &str,
    poll: &Poll,
) -> Result<(Status, u32), QueryError> {
    let started = Instant::now();
    let mut n = 0u32;
    loop {
        let s = status(athena, execution_id)
            .await
            .map_err(QueryError::Call)?;
        n += 1;
        match s.state {
            State::Succeeded => return Ok((s, n)),
            State::Failed | State::Cancelled => {
                return Err(QueryError::Ended {
                    execution_id: execution_id.to_string(),
                    status: s,
                });
            }
            State::Queued | State::Running | State::Other(_) => {}
        }
        let waited = started.elapsed();
        if waited >= poll.deadline {
            // Best effort: the error says it was stopped; a failed stop is not worse than
            // leaving it running.
            let _ = stop(athena, execution_id).await;
            return Err(QueryError::Timeout {
                execution_id: execution_id.to_string(),
                state: s.state,
                waited,
            });
        }
        let pause = poll.interval(n - 1).min(poll.deadline - waited);
        tokio::time::sleep(pause).await;
    }
}

/// Every page of GetQueryResults (MaxResults 1000, NextToken); the first row is dropped when it
/// equals the column labels (Athena's header row for SELECT). Returns the table and the calls.
pub async fn results(athena: &Athena, execution_id: &str) -> Result<(ResultTable, u32), AwsError> {
    let mut table = ResultTable::default();
    let mut labels: Vec<String> = Vec::new();
    let mut next: Option<String> = None;
    let mut calls = 0u32;
    loop {
        let out = athena
            .0
            .get_query_results()
            .query_execution_id(execution_id)
            .max_results(PAGE_SIZE)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify("athena:GetQueryResults", e))?;
        calls += 1;
        let set = out.result_set();
        if calls == 1 {
            let info = set
                .and_then(|s| s.result_set_metadata())
                .map(|m| m.column_info())
                .unwrap_or_default();
            table.columns = info.iter().map(|c| c.name().to_string()).collect();
            labels = info
                .iter()
                .map(|c| c.label().unwrap_or(c.name()).to_string())
                .collect();
        }
        let rows = set.map(|s| s.rows()).unwrap_or_default();
        for (i, row) in rows.iter().enumerate() {
            let values: Vec<Option<String>> = row
                .data()
                .iter()
                .map(|d| d.var_char_value().map(str::to_string))
                .collect();
            if calls == 1 && i == 0 && is_header(&values, &labels) {
                continue;
            }
            table.rows.push(values);
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok((table, calls)),
        }
    }
}

/// Whether a row is the header: every value equals its column's label.
fn is_header(values: &[Option<String>], labels: &[String]) -> bool {
    !labels.is_empty()
        && values.len() == labels.len()
        && values
            .iter()
            .zip(labels)
            .all(|(v, l)| v.as_deref() == Some(l.as_str()))
}

/// Start, wait, read: one query to its rows.
pub async fn run(athena: &Athena, req: &Request, poll: &Poll) -> Result<Finished, QueryError> {
    let execution_id = start(athena, req).await.map_err(QueryError::Call)?;
    finish(athena, execution_id, poll).await
}

/// Wait for an already started execution and read its rows.
pub async fn finish(
    athena: &Athena,
    execution_id: String,
    poll: &Poll,
) -> Result<Finished, QueryError> {
    let (status, polls) = wait(athena, &execution_id, poll).await?;
    let (table, pages) = results(athena, &execution_id)
        .await
        .map_err(QueryError::Call)?;
    Ok(Finished {
        execution_id,
        status,
        table,
        polls,
        pages,
    })
}

#[cfg(test)]
mod tests {
    //! What moto's Athena cannot produce: FAILED with a reason, RUNNING → QUEUED, throttling.

    use aws_sdk_athena::Client;
    use aws_sdk_athena::config::retry::RetryConfig;
    use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
    use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
    use aws_sdk_athena::types::{
        AthenaError, ColumnInfo, Datum, QueryExecution, QueryExecutionStatistics,
        QueryExecutionStatus, ResultSet, ResultSetMetadata, Row,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::aws::ErrorKind;

    const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

    fn fast() -> Poll {
        Poll {
            first: Duration::from_millis(1),
            cap: Duration::from_millis(1),
            deadline: Duration::from_secs(10),
        }
    }

    fn fast_retries(attempts: u32) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(1))
    }

    fn request() -> Request {
        Request {
            sql: "SELECT 1".into(),
            database: "flowkeeper".into(),
            workgroup: "primary".into(),
            output_location: None,
        }
    }

    fn execution(state: QueryExecutionState, reason: Option<&str>) -> GetQueryExecutionOutput {
        let mut status = QueryExecutionStatus::builder()
            .state(state.clone())
            .set_state_change_reason(reason.map(str::to_string));
        if state == QueryExecutionState::Failed {
            status = status.athena_error(
                AthenaError::builder()
                    .error_category(2)
                    .error_type(1301)
                    .error_message("line 1:8: Column 'x' cannot be resolved")
                    .build(),
            );
        }
        GetQueryExecutionOutput::builder()
            .query_execution(
                QueryExecution::builder()
                    .query_execution_id("exec-1")
                    .status(status.build())
                    .statistics(
                        QueryExecutionStatistics::builder()
                            .data_scanned_in_bytes(4096)
                            .engine_execution_time_in_millis(12)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn row(values: &[&str]) -> Row {
        Row::builder()
            .set_data(Some(
                values
                    .iter()
                    .map(|v| Datum::builder().var_char_value(*v).build())
                    .collect(),
            ))
            .build()
    }

    fn page(rows: Vec<Row>, next: Option<&str>) -> GetQueryResultsOutput {
        GetQueryResultsOutput::builder()
            .result_set(
                ResultSet::builder()
                    .set_rows(Some(rows))
                    .result_set_metadata(
                        ResultSetMetadata::builder()
                            .column_info(
                                ColumnInfo::builder()
                                    .name("src")
                                    .label("src")
                                    .r#type("varchar")
                                    .build()
                                    .unwrap(),
                            )
                            .column_info(
                                ColumnInfo::builder()
                                    .name("bytes")
                                    .label("bytes")
                                    .r#type("bigint")
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .set_next_token(next.map(str::to_string))
            .build()
    }

    fn started() -> aws_smithy_mocks::Rule {
        mock!(Client::start_query_execution).then_output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("exec-1")
                .build()
        })
    }

    #[tokio::test]
    async fn a_failed_query_is_an_error_with_its_reason_and_no_results_are_read() {
        let start = started();
        let get = mock!(Client::get_query_execution)
            .sequence()
            .output(|| execution(QueryExecutionState::Running, None))
            .output(|| {
                execution(
                    QueryExecutionState::Failed,
                    Some("COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"),
                )
            })
            .build();
        let results = mock!(Client::get_query_results).then_output(|| page(vec![], None));
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::MatchAny,
            [&start, &get, &results]
        ));
        let err = run(&athena, &request(), &fast()).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, QueryError::Ended { .. }), "{err:?}");
        assert!(text.contains("(execution exec-1) FAILED"), "{text}");
        assert!(text.contains("COLUMN_NOT_FOUND: line 1:8"), "{text}");
        assert!(text.contains("[error type 1301]"), "{text}");
        assert_eq!(get.num_calls(), 2);
        assert_eq!(results.num_calls(), 0);
    }

    #[tokio::test]
    async fn running_back_to_queued_is_waited_through_to_succeeded() {
        let start = started();
        let get = mock!(Client::get_query_execution)
            .sequence()
            .output(|| execution(QueryExecutionState::Queued, None))
            .output(|| execution(QueryExecutionState::Running, None))
            .output(|| {
                execution(
                    QueryExecutionState::Queued,
                    Some("transient error, retrying"),
                )
            })
            .output(|| execution(QueryExecutionState::Running, None))
            .output(|| execution(QueryExecutionState::Succeeded, None))
            .build();
        let results = mock!(Client::get_query_results)
            .then_output(|| page(vec![row(&["src", "bytes"]), row(&["10.0.0.1", "42"])], None));
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::MatchAny,
            [&start, &get, &results]
        ));
        let done = run(&athena, &request(), &fast()).await.unwrap();
        assert_eq!(done.polls, 5);
        assert_eq!(get.num_calls(), 5);
        assert_eq!(done.status.data_scanned_bytes, 4096);
        assert_eq!(done.status.engine_ms, 12);
        assert_eq!(done.table.columns, ["src", "bytes"]);
        assert_eq!(
            done.table.rows,
            vec![vec![Some("10.0.0.1".to_string()), Some("42".to_string())]],
            "the header row is dropped"
        );
    }

    #[tokio::test]
    async fn pages_follow_next_token_and_only_a_label_row_is_dropped() {
        let results = mock!(Client::get_query_results)
            .sequence()
            .output(|| {
                page(
                    vec![row(&["10.0.0.9", "7"]), row(&["10.0.0.1", "5"])],
                    Some("t2"),
                )
            })
            .output(|| page(vec![row(&["src", "bytes"])], None))
            .build();
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::Sequential,
            [&results]
        ));
        let (table, calls) = super::results(&athena, "exec-1").await.unwrap();
        assert_eq!(calls, 2);
        assert_eq!(
            table.rows.len(),
            3,
            "no header on page 1; a later label-like row is data"
        );
    }

    #[tokio::test]
    async fn a_query_past_its_deadline_is_stopped_and_reported() {
        let get = mock!(Client::get_query_execution)
            .then_output(|| execution(QueryExecutionState::Running, None));
        let stop = mock!(Client::stop_query_execution).then_output(|| {
            aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionOutput::builder()
                .build()
        });
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::MatchAny,
            [&get, &stop]
        ));
        let poll = Poll {
            deadline: Duration::ZERO,
            ..fast()
        };
        let err = wait(&athena, "exec-1", &poll).await.unwrap_err();
        assert!(
            matches!(
                &err,
                QueryError::Timeout {
                    state: State::Running,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("(execution exec-1) still RUNNING"),
            "{err}"
        );
        assert_eq!(stop.num_calls(), 1);
    }

    #[tokio::test]
    async fn throttling_is_absorbed_by_the_sdk_retry() {
        let get = mock!(Client::get_query_execution)
            .sequence()
            .http_status(400, Some(THROTTLED.to_string()))
            .times(2)
            .output(|| execution(QueryExecutionState::Succeeded, None))
            .build();
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::Sequential,
            [&get],
            |c| c.retry_config(fast_retries(4))
        ));
        let (s, polls) = wait(&athena, "exec-1", &fast()).await.unwrap();
        assert_eq!(s.state, State::Succeeded);
        assert_eq!(polls, 1);
        assert_eq!(get.num_calls(), 3);
    }

    #[tokio::test]
    async fn throttling_beyond_the_retry_budget_is_a_classified_error() {
        let get = mock!(Client::get_query_execution)
            .sequence()
            .http_status(400, Some(THROTTLED.to_string()))
            .repeatedly()
            .build();
        let athena = Athena::from_client(mock_client!(
            aws_sdk_athena,
            RuleMode::Sequential,
            [&get],
            |c| c.retry_config(fast_retries(3))
        ));
        let err = wait(&athena, "exec-1", &fast()).await.unwrap_err();
        let QueryError::Call(e) = err else {
            panic!("{err:?}")
        };
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.operation, "athena:GetQueryExecution");
        assert_eq!(get.num_calls(), 3);
    }

    #[test]
    fn backoff_doubles_from_200ms_to_a_5s_cap_and_the_variable_fixes_it() {
        let p = Poll::from_var(None, Duration::from_secs(60));
        let waits: Vec<u128> = (0..7).map(|n| p.interval(n).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(p.interval(40).as_millis(), 5000);
        let fixed = Poll::from_var(Some("3"), Duration::from_secs(60));
        assert_eq!(fixed.interval(0).as_millis(), 3);
        assert_eq!(fixed.interval(9).as_millis(), 3);
        assert_eq!(
            Poll::from_var(Some("x"), Duration::ZERO).first.as_millis(),
            200
        );
    }
}
