//! CloudWatch Logs reads for verify: the streams of one interface and a few newest events of
//! one stream, both bounded.

use jiff::Timestamp;

use super::error::{AwsError, classify};
use super::logs::Logs;
use crate::model::delivery::{EventMeta, StreamMeta};

fn millis(ms: Option<i64>) -> Option<Timestamp> {
    ms.and_then(|m| Timestamp::from_millisecond(m).ok())
}

/// Up to `limit` streams of `group` whose names start with `prefix` (one page).
pub async fn streams_with_prefix(
    logs: &Logs,
    group: &str,
    prefix: &str,
    limit: i32,
) -> Result<Vec<StreamMeta>, AwsError> {
    let out = logs
        .0
        .describe_log_streams()
        .log_group_name(group)
        .log_stream_name_prefix(prefix)
        .limit(limit)
        .send()
        .await
        .map_err(|e| classify("logs:DescribeLogStreams", e))?;
    Ok(out
        .log_streams()
        .iter()
        .map(|s| StreamMeta {
            name: s.log_stream_name().unwrap_or_default().to_string(),
            created: millis(s.creation_time()),
            last_event: millis(s.last_event_timestamp()),
            last_ingestion: millis(s.last_ingestion_time()),
        })
        .collect())
}

/// The newest `limit` events of one stream (GetLogEvents from the end, one page).
pub async fn newest_events(
    logs: &Logs,
    group: &str,
    stream: &str,
    limit: i32,
) -> Result<Vec<EventMeta>, AwsError> {
    let out = logs
        .0
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(false)
        .limit(limit)
        .send()
        .await
        .map_err(|e| classify("logs:GetLogEvents", e))?;
    Ok(out
        .events()
        .iter()
        .map(|e| EventMeta {
            stream: stream.to_string(),
            timestamp: millis(e.timestamp()),
            ingestion: millis(e.ingestion_time()),
            message: e.message().unwrap_or_default().to_string(),
        })
        .collect())
}
