//! CloudWatch Logs: log group state and writes.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::Client;

use super::error::{AwsError, ErrorKind, classify};
use crate::model::LogGroupState;

/// A Logs client. The SDK type stays inside `aws`: other modules hold this and call the
/// functions of this module.
#[derive(Clone, Debug)]
pub struct Logs(pub(super) Client);

impl Logs {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Logs(client)
    }
}

/// The log group with exactly this name, if it exists.
pub async fn describe_log_group(
    logs: &Logs,
    name: &str,
) -> Result<Option<LogGroupState>, AwsError> {
    let logs = &logs.0;
    let mut pages = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("logs:DescribeLogGroups", e))?;
        if let Some(g) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(Some(LogGroupState {
                name: name.to_string(),
                retention_days: g.retention_in_days(),
                kms_key: g.kms_key_id().map(str::to_string),
            }));
        }
    }
    Ok(None)
}

pub async fn create_log_group(
    logs: &Logs,
    name: &str,
    kms_key: Option<&str>,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let logs = &logs.0;
    let mut req = logs
        .create_log_group()
        .log_group_name(name)
        .set_tags(Some(tags.clone().into_iter().collect()));
    if let Some(k) = kms_key {
        req = req.kms_key_id(k);
    }
    match req
        .send()
        .await
        .map_err(|e| classify("logs:CreateLogGroup", e))
    {
        Err(e) if e.kind == ErrorKind::AlreadyExists => Ok(()),
        other => other.map(|_| ()),
    }
}

pub async fn put_retention(logs: &Logs, name: &str, days: i32) -> Result<(), AwsError> {
    let logs = &logs.0;
    logs.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| classify("logs:PutRetentionPolicy", e))?;
    Ok(())
}

pub async fn associate_kms_key(logs: &Logs, name: &str, key: &str) -> Result<(), AwsError> {
    let logs = &logs.0;
    logs.associate_kms_key()
        .log_group_name(name)
        .kms_key_id(key)
        .send()
        .await
        .map_err(|e| classify("logs:AssociateKmsKey", e))?;
    Ok(())
}

/// One log event: its stream, id and message.
pub struct LogEvent {
    pub stream: String,
    pub event_id: String,
    pub message: String,
}

/// Calls `each` with every page of events of `group` (streams starting with `stream_prefix`)
/// between `start_ms` and `end_ms` (FilterLogEvents, paginated), so memory stays one page.
pub async fn filter_events(
    logs: &Logs,
    group: &str,
    stream_prefix: Option<&str>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    mut each: impl FnMut(Vec<LogEvent>),
) -> Result<(), AwsError> {
    let logs = &logs.0;
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        .set_log_stream_name_prefix(stream_prefix.map(str::to_string))
        .set_start_time(start_ms)
        .set_end_time(end_ms)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("logs:FilterLogEvents", e))?;
        each(
            page.events()
                .iter()
                .map(|e| LogEvent {
                    stream: e.log_stream_name().unwrap_or_default().to_string(),
                    event_id: e.event_id().unwrap_or_default().to_string(),
                    message: e.message().unwrap_or_default().to_string(),
                })
                .collect(),
        );
    }
    Ok(())
}
