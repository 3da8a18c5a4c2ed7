//! Executes the flow-log changes of one region: creations (including the new half of each
//! replace) batched by identical settings, then tag updates, then deletions (including the old
//! half of each replace whose new flow log now exists). Once cancelled it starts no further
//! batch, tag update or plain deletion; a replace whose new flow log exists is finished.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::Client;

use crate::aws::error::is_propagation_message;
use crate::aws::{self, AwsError, ErrorKind};
use crate::model::{FlowLogSettings, ResourceKind};
use crate::plan::{Change, Operation};
use crate::progress::Progress;

use super::{ApplyOptions, Cancel, Status, blocked, op, report_line};

type BatchKey = (ResourceKind, FlowLogSettings, BTreeMap<String, String>);

pub async fn apply_region(
    ec2: &Client,
    account: &str,
    changes: &[&Change],
    done_before: &HashMap<String, Status>,
    opts: ApplyOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> HashMap<String, Status> {
    let mut results: HashMap<String, Status> = HashMap::new();
    // 1. Creations, grouped so that one call covers up to 1,000 resources with equal settings.
    let mut batches: BTreeMap<BatchKey, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        let spec = match op(c) {
            Operation::CreateFlowLog { spec } | Operation::ReplaceFlowLog { spec, .. } => spec,
            _ => continue,
        };
        if let Some(st) = blocked(c, done_before) {
            results.insert(c.key(), st);
            continue;
        }
        batches
            .entry((spec.resource_kind, spec.settings.clone(), spec.tags.clone()))
            .or_default()
            .push(c);
    }
    for ((kind, settings, tags), members) in &batches {
        for chunk in members.chunks(aws::ec2::CREATE_BATCH_LIMIT) {
            if cancel.is_requested() {
                break;
            }
            let ids: Vec<String> = chunk
                .iter()
                .map(|c| c.resource.clone().unwrap_or_default())
                .collect();
            let per_resource = create_with_retry(ec2, *kind, &ids, settings, tags, opts).await;
            for c in chunk {
                let st = per_resource
                    .get(c.resource.as_deref().unwrap_or_default())
                    .cloned()
                    .unwrap_or(Status::Done);
                results.insert(c.key(), st);
            }
        }
    }
    // 2. Tag updates.
    for c in changes {
        if let Operation::TagFlowLog { id, tags } = op(c)
            && !cancel.is_requested()
        {
            let st = aws::ec2::tag_resources(ec2, std::slice::from_ref(id), tags)
                .await
                .map_or_else(|e| Status::failed(&e), |_| Status::Done);
            results.insert(c.key(), st);
        }
    }
    // 3. Deletions: plain deletes, and the old flow log of each replace whose new one exists.
    let mut deletions: Vec<(&Change, &str)> = Vec::new();
    for c in changes {
        match op(c) {
            Operation::DeleteFlowLog { id } if !cancel.is_requested() => deletions.push((c, id)),
            Operation::ReplaceFlowLog { old_id, .. }
                if results.get(&c.key()) == Some(&Status::Done) =>
            {
                deletions.push((c, old_id))
            }
            _ => {}
        }
    }
    for chunk in deletions.chunks(aws::ec2::CREATE_BATCH_LIMIT) {
        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.to_string()).collect();
        let failures: HashMap<String, Status> = match aws::ec2::delete_flow_logs(ec2, &ids).await {
            Ok(unsuccessful) => unsuccessful
                .into_iter()
                .map(|(id, code, msg)| {
                    (
                        id,
                        Status::Failed {
                            error: format!(
                                "ec2:DeleteFlowLogs: {}: {msg}",
                                code.unwrap_or_default()
                            ),
                            hint: None,
                        },
                    )
                })
                .collect(),
            Err(e) => ids
                .iter()
                .map(|id| (id.clone(), Status::failed(&e)))
                .collect(),
        };
        for (c, id) in chunk {
            let st = match (failures.get(*id), op(c)) {
                (None, _) => Status::Done,
                (Some(Status::Failed { error, hint }), Operation::ReplaceFlowLog { .. }) => {
                    Status::Failed {
                        error: format!(
                            "the new flow log was created, but deleting the old one ({id}) failed: {error}"
                        ),
                        hint: hint
                            .clone()
                            .or_else(|| Some("run apply again to finish the replacement".into())),
                    }
                }
                (Some(st), _) => st.clone(),
            };
            results.insert(c.key(), st);
        }
    }
    for c in changes {
        if let Some(st) = results.get(&c.key()) {
            report_line(progress, account, c, st);
        }
    }
    results
}

/// Calls CreateFlowLogs, retrying only resources that failed with an IAM propagation delay.
/// Returns the failures by resource id; resources not in the map succeeded.
async fn create_with_retry(
    ec2: &Client,
    kind: ResourceKind,
    ids: &[String],
    settings: &FlowLogSettings,
    tags: &BTreeMap<String, String>,
    opts: ApplyOptions,
) -> HashMap<String, Status> {
    let mut failures = HashMap::new();
    let mut pending: Vec<String> = ids.to_vec();
    let mut wait = opts.propagation_backoff;
    for attempt in 0..=opts.propagation_retries {
        let last = attempt == opts.propagation_retries;
        let mut retry = Vec::new();
        match aws::ec2::create_flow_logs(ec2, kind, &pending, settings, tags).await {
            Ok(out) => {
                for (rid, code, msg) in out.unsuccessful {
                    if is_propagation_message(&msg) && !last {
                        retry.push(rid);
                    } else if code.as_deref() == Some("FlowLogAlreadyExists") {
                        // Already there: done.
                    } else {
                        let e = AwsError {
                            operation: "ec2:CreateFlowLogs",
                            kind: ErrorKind::Other,
                            code,
                            message: msg,
                        };
                        failures.insert(rid, Status::failed(&e));
                    }
                }
            }
            Err(e) if e.kind == ErrorKind::PropagationDelay && !last => retry = pending.clone(),
            Err(e) if e.kind == ErrorKind::AlreadyExists => {}
            Err(e) => {
                for rid in &pending {
                    failures.insert(rid.clone(), Status::failed(&e));
                }
            }
        }
        if retry.is_empty() {
            break;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
        pending = retry;
    }
    failures
}

#[cfg(test)]
mod tests {
    //! CreateFlowLogs behaviours moto cannot produce: IAM propagation delay, 5xx sequences.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use aws_sdk_ec2::config::retry::RetryConfig;
    use aws_sdk_ec2::operation::create_flow_logs::CreateFlowLogsOutput;
    use aws_sdk_ec2::types::{UnsuccessfulItem, UnsuccessfulItemError};
    use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};

    use super::*;
    use crate::model::{FlowLogDestination, LogFormat, TrafficType};

    fn settings() -> FlowLogSettings {
        FlowLogSettings {
            traffic_type: TrafficType::All,
            destination: FlowLogDestination::CloudwatchLogs {
                log_group: "/g".into(),
                role_arn: "arn:aws:iam::111122223333:role/r".into(),
            },
            log_format: LogFormat::default_v2(),
            max_aggregation_interval: 600,
        }
    }

    fn failed(resource: &str, code: &str, message: &str) -> UnsuccessfulItem {
        UnsuccessfulItem::builder()
            .resource_id(resource)
            .error(
                UnsuccessfulItemError::builder()
                    .code(code)
                    .message(message)
                    .build(),
            )
            .build()
    }

    fn opts() -> ApplyOptions {
        ApplyOptions {
            propagation_backoff: Duration::from_millis(1),
            propagation_retries: 3,
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn only_resources_hit_by_role_propagation_are_retried() {
        let calls: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let seen = calls.clone();
        let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_compute_response(move |req| {
            let mut seen = seen.lock().unwrap();
            seen.push(req.resource_ids().to_vec());
            let out = if seen.len() == 1 {
                CreateFlowLogsOutput::builder()
                    .flow_log_ids("fl-2")
                    .unsuccessful(failed(
                        "vpc-1",
                        "InvalidParameter",
                        "Unable to assume given IAM role",
                    ))
                    .build()
            } else {
                CreateFlowLogsOutput::builder().flow_log_ids("fl-1").build()
            };
            MockResponse::Output(out)
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule]);
        let failures = create_with_retry(
            &ec2,
            ResourceKind::Vpc,
            &ids(&["vpc-1", "vpc-2"]),
            &settings(),
            &BTreeMap::new(),
            opts(),
        )
        .await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(
            *calls.lock().unwrap(),
            vec![ids(&["vpc-1", "vpc-2"]), ids(&["vpc-1"])]
        );
    }

    #[tokio::test]
    async fn propagation_retries_are_bounded() {
        let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
            CreateFlowLogsOutput::builder()
                .unsuccessful(failed(
                    "vpc-1",
                    "InvalidParameter",
                    "Unable to assume given IAM role",
                ))
                .build()
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule]);
        let failures = create_with_retry(
            &ec2,
            ResourceKind::Vpc,
            &ids(&["vpc-1"]),
            &settings(),
            &BTreeMap::new(),
            opts(),
        )
        .await;
        assert!(matches!(failures.get("vpc-1"), Some(Status::Failed { .. })));
        assert_eq!(rule.num_calls(), 4, "first attempt + 3 retries");
    }

    #[tokio::test]
    async fn other_per_resource_errors_are_reported_without_retry() {
        let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-2")
                .unsuccessful(failed(
                    "vpc-1",
                    "InvalidVpcID.NotFound",
                    "The vpc ID 'vpc-1' does not exist",
                ))
                .build()
        });
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule]);
        let failures = create_with_retry(
            &ec2,
            ResourceKind::Vpc,
            &ids(&["vpc-1", "vpc-2"]),
            &settings(),
            &BTreeMap::new(),
            opts(),
        )
        .await;
        assert_eq!(rule.num_calls(), 1);
        assert_eq!(failures.len(), 1);
        let Some(Status::Failed { error, .. }) = failures.get("vpc-1") else {
            panic!("{failures:?}")
        };
        assert!(error.contains("InvalidVpcID.NotFound"), "{error}");
    }

    #[tokio::test]
    async fn server_errors_are_retried_by_the_sdk() {
        let rule = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .sequence()
            .http_status(503, None)
            .http_status(500, None)
            .output(|| CreateFlowLogsOutput::builder().flow_log_ids("fl-1").build())
            .build();
        let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], |c| c
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(1))
            ));
        let failures = create_with_retry(
            &ec2,
            ResourceKind::Vpc,
            &ids(&["vpc-1"]),
            &settings(),
            &BTreeMap::new(),
            opts(),
        )
        .await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(rule.num_calls(), 3);
    }
}
