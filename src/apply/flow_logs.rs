//! Executes the flow-log changes of one region, in this order:
//! 1. the old half of each delete-first replace (only planned with `--allow-logging-gap`);
//! 2. creations (creates and the new half of each replace), batched by identical settings;
//! 3. confirmation: every replace, and every create AWS answered "already exists" for, is done
//!    only when DescribeFlowLogs shows a flow log on the resource with exactly the wanted
//!    settings (for a replace: one that is not the old flow log);
//! 4. tag updates;
//! 5. deletions: plain deletes, and the old half of each create-first replace whose new flow log
//!    was confirmed. An unconfirmed replace deletes nothing, so a resource is never left without
//!    the flow log it had.
//!
//! Once cancelled it starts nothing new: the creation of a delete-first replace whose old flow
//! log is gone and the deletion of a confirmed replace's old half still happen.

use std::collections::{BTreeMap, HashMap};

use crate::aws::ec2::Ec2;

use crate::aws::error::is_propagation_message;
use crate::aws::{self, AwsError, ErrorKind};
use crate::model::{ExistingFlowLog, FlowLogSettings, FlowLogSpec, ResourceKind};
use crate::plan::{Change, Operation};
use crate::progress::Progress;

use super::{ApplyOptions, Cancel, Status, blocked, op, report_line};

type BatchKey = (ResourceKind, FlowLogSettings, BTreeMap<String, String>);

/// How CreateFlowLogs answered for one resource.
#[derive(Clone, Debug, PartialEq)]
enum Created {
    /// Created: the call returned an id for it.
    Yes,
    /// AWS said a flow log like it already exists (per resource or for the whole call); only a
    /// describe can tell whether that one has the wanted settings.
    AlreadyExists(String),
    Failed(Status),
}

pub async fn apply_region(
    ec2: &Ec2,
    account: &str,
    changes: &[&Change],
    done_before: &HashMap<String, Status>,
    opts: ApplyOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> HashMap<String, Status> {
    let mut results: HashMap<String, Status> = HashMap::new();
    let mut to_create: Vec<&Change> = Vec::new();
    for c in changes {
        if matches!(
            op(c),
            Operation::CreateFlowLog { .. } | Operation::ReplaceFlowLog { .. }
        ) {
            match blocked(c, done_before) {
                Some(st) => {
                    results.insert(c.key(), st);
                }
                None => to_create.push(c),
            }
        }
    }
    // 1. Delete-first replaces: the old flow log goes first; only those deleted are created.
    let delete_first: Vec<(&Change, &str)> = to_create
        .iter()
        .filter(|_| !cancel.is_requested())
        .filter_map(|c| match op(c) {
            Operation::ReplaceFlowLog {
                old_id,
                delete_first: true,
                ..
            } => Some((*c, old_id.as_str())),
            _ => None,
        })
        .collect();
    for (c, st) in delete_ids(ec2, &delete_first).await {
        if st != Status::Done {
            results.insert(c.key(), st);
        }
    }
    to_create.retain(|c| !results.contains_key(&c.key()));
    // 2. Creations, grouped so that one call covers up to 1,000 resources with equal settings.
    let mut batches: BTreeMap<BatchKey, Vec<&Change>> = BTreeMap::new();
    for c in &to_create {
        let spec = spec_of(c).expect("only creations are collected");
        batches
            .entry((spec.resource_kind, spec.settings.clone(), spec.tags.clone()))
            .or_default()
            .push(c);
    }
    let mut created: Vec<(&Change, Created)> = Vec::new();
    for ((kind, settings, tags), members) in &batches {
        for chunk in members.chunks(aws::ec2::CREATE_BATCH_LIMIT) {
            // Once cancelled, only delete-first replaces whose old flow log is gone are created.
            let chunk: Vec<&Change> = chunk
                .iter()
                .copied()
                .filter(|c| !cancel.is_requested() || is_delete_first(c))
                .collect();
            if chunk.is_empty() {
                continue;
            }
            let ids: Vec<String> = chunk
                .iter()
                .map(|c| c.resource.clone().unwrap_or_default())
                .collect();
            let per_resource = create_with_retry(ec2, *kind, &ids, settings, tags, opts).await;
            for c in chunk {
                let answer = per_resource
                    .get(c.resource.as_deref().unwrap_or_default())
                    .cloned()
                    .unwrap_or(Created::Yes);
                created.push((c, answer));
            }
        }
    }
    // 3. Confirmation.
    let needs_describe: Vec<String> = created
        .iter()
        .filter(|(c, answer)| {
            matches!(answer, Created::AlreadyExists(_))
                || (matches!(op(c), Operation::ReplaceFlowLog { .. }) && *answer == Created::Yes)
        })
        .filter_map(|(c, _)| c.resource.clone())
        .collect();
    let region = changes
        .iter()
        .find_map(|c| c.region.clone())
        .unwrap_or_default();
    let described = if needs_describe.is_empty() {
        Ok(Vec::new())
    } else {
        aws::ec2::describe_flow_logs_of(ec2, &needs_describe)
            .await
            .map(|mut all| {
                for fl in &mut all {
                    fl.settings.destination.localize(account, &region);
                }
                all
            })
    };
    for (c, answer) in created {
        results.insert(c.key(), confirm(c, answer, &described));
    }
    // 4. Tag updates.
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
    // 5. Deletions: plain deletes, and the old flow log of each confirmed create-first replace.
    let mut deletions: Vec<(&Change, &str)> = Vec::new();
    for c in changes {
        match op(c) {
            Operation::DeleteFlowLog { id } if !cancel.is_requested() => deletions.push((c, id)),
            Operation::ReplaceFlowLog {
                old_id,
                delete_first: false,
                ..
            } if results.get(&c.key()) == Some(&Status::Done) => deletions.push((c, old_id)),
            _ => {}
        }
    }
    for (c, st) in delete_ids(ec2, &deletions).await {
        let st = match (st, op(c)) {
            (Status::Failed { error, hint }, Operation::ReplaceFlowLog { old_id, .. }) => {
                Status::Failed {
                    error: format!(
                        "the new flow log was created and confirmed, but deleting the old one ({old_id}) failed: {error}; both flow logs exist now"
                    ),
                    hint: hint.or_else(|| Some("run apply again to finish the replacement".into())),
                }
            }
            (st, _) => st,
        };
        results.insert(c.key(), st);
    }
    for c in changes {
        if let Some(st) = results.get(&c.key()) {
            report_line(progress, account, c, st);
        }
    }
    results
}

fn is_delete_first(c: &Change) -> bool {
    matches!(
        op(c),
        Operation::ReplaceFlowLog {
            delete_first: true,
            ..
        }
    )
}

fn spec_of(c: &Change) -> Option<&FlowLogSpec> {
    match op(c) {
        Operation::CreateFlowLog { spec } | Operation::ReplaceFlowLog { spec, .. } => Some(spec),
        _ => None,
    }
}

/// The outcome of a creation, judged against what DescribeFlowLogs shows on its resource.
fn confirm(
    c: &Change,
    answer: Created,
    described: &Result<Vec<ExistingFlowLog>, AwsError>,
) -> Status {
    let spec = spec_of(c).expect("only creations are confirmed");
    let (replace_of, delete_first) = match op(c) {
        Operation::ReplaceFlowLog {
            old_id,
            delete_first,
            ..
        } => (Some(old_id.as_str()), *delete_first),
        _ => (None, false),
    };
    let refused = match answer {
        Created::Failed(st) => return gap_status(st, replace_of, delete_first, &spec.resource_id),
        Created::Yes if replace_of.is_none() => return Status::Done,
        Created::Yes => None,
        Created::AlreadyExists(message) => Some(message),
    };
    let on_resource: Vec<&ExistingFlowLog> = match described {
        Ok(all) => all
            .iter()
            .filter(|fl| fl.resource_id == spec.resource_id)
            .collect(),
        Err(e) => {
            let st = Status::Failed {
                error: format!(
                    "cannot confirm the new flow log on {}: {e}; the old one was kept",
                    spec.resource_id
                ),
                hint: Some("run apply again: the plan then shows what exists".into()),
            };
            return gap_status(st, replace_of, delete_first, &spec.resource_id);
        }
    };
    let confirmed = on_resource
        .iter()
        .any(|fl| Some(fl.id.as_str()) != replace_of && fl.settings == spec.settings);
    if confirmed {
        return Status::Done;
    }
    let st = match (refused, replace_of) {
        (Some(message), Some(old)) => Status::Failed {
            error: format!(
                "AWS refused the new flow log on {} (FlowLogAlreadyExists: {message}) while {old} delivers to the same destination; {old} was kept, nothing was deleted",
                spec.resource_id
            ),
            hint: Some(
                "AWS allows one flow log per resource and destination here: run `flowkeeper apply --allow-logging-gap` to delete the old one first (the resource is not logged by this entry between the two calls)".into(),
            ),
        },
        (Some(message), None) => {
            let others: Vec<&str> = on_resource.iter().map(|fl| fl.id.as_str()).collect();
            Status::Failed {
                error: format!(
                    "AWS refused the flow log on {} (FlowLogAlreadyExists: {message}), and no flow log there has the wanted settings{}",
                    spec.resource_id,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (existing: {})", others.join(", "))
                    }
                ),
                hint: Some(if message.contains("[the answer was for the whole batch") {
                    "run apply again: the next plan creates only what is still missing, and a flow log in the way is then named".into()
                } else {
                    "another flow log delivers to the same destination; change or remove it, or point this entry at another destination".into()
                }),
            }
        }
        (None, _) => Status::Failed {
            error: format!(
                "CreateFlowLogs reported success, but no new flow log with the wanted settings is on {}; the old one was kept",
                spec.resource_id
            ),
            hint: Some("run apply again".into()),
        },
    };
    gap_status(st, replace_of, delete_first, &spec.resource_id)
}

/// For a delete-first replace whose creation failed, says that the resource lost its flow log.
fn gap_status(st: Status, replace_of: Option<&str>, delete_first: bool, resource: &str) -> Status {
    match (st, replace_of) {
        (Status::Failed { error, hint }, Some(old)) if delete_first => Status::Failed {
            error: format!(
                "{old} was deleted (--allow-logging-gap) but the new flow log could not be created: {resource} has no flow log of this entry now: {error}"
            ),
            hint: hint
                .or_else(|| Some("fix the cause and run apply again, which creates it".into())),
        },
        (st, _) => st,
    }
}

/// Deletes the given flow logs in batches; each change's status (ids already gone are done).
async fn delete_ids<'c>(ec2: &Ec2, items: &[(&'c Change, &str)]) -> Vec<(&'c Change, Status)> {
    let mut out = Vec::new();
    for chunk in items.chunks(aws::ec2::CREATE_BATCH_LIMIT) {
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
            out.push((*c, failures.get(*id).cloned().unwrap_or(Status::Done)));
        }
    }
    out
}

/// Calls CreateFlowLogs, retrying only resources that failed with an IAM propagation delay.
/// Returns the answer for every resource that was not simply created.
async fn create_with_retry(
    ec2: &Ec2,
    kind: ResourceKind,
    ids: &[String],
    settings: &FlowLogSettings,
    tags: &BTreeMap<String, String>,
    opts: ApplyOptions,
) -> HashMap<String, Created> {
    let mut answers = HashMap::new();
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
                        answers.insert(rid, Created::AlreadyExists(msg));
                    } else {
                        let e = AwsError {
                            operation: "ec2:CreateFlowLogs",
                            kind: ErrorKind::Other,
                            code,
                            message: msg,
                        };
                        answers.insert(rid, Created::Failed(Status::failed(&e)));
                    }
                }
            }
            Err(e) if e.kind == ErrorKind::PropagationDelay && !last => retry = pending.clone(),
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                // One answer for the whole call: some of the batch may never have been created.
                let message = if pending.len() > 1 {
                    format!(
                        "{} [the answer was for the whole batch of {} resources]",
                        e.message,
                        pending.len()
                    )
                } else {
                    e.message.clone()
                };
                for rid in &pending {
                    answers.insert(rid.clone(), Created::AlreadyExists(message.clone()));
                }
            }
            Err(e) => {
                for rid in &pending {
                    answers.insert(rid.clone(), Created::Failed(Status::failed(&e)));
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
    answers
}

#[cfg(test)]
pub(super) mod tests {
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
                elsewhere: None,
            },
            log_format: LogFormat::default_v2(),
            max_aggregation_interval: crate::model::AggregationInterval::TenMinutes,
            unreadable: Default::default(),
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
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&rule]
        ));
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
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&rule]
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
        assert!(matches!(
            failures.get("vpc-1"),
            Some(Created::Failed(Status::Failed { .. }))
        ));
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
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&rule]
        ));
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
        let Some(Created::Failed(Status::Failed { error, .. })) = failures.get("vpc-1") else {
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
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::Sequential,
            [&rule],
            |c| c.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(1))
            )
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

    struct Quiet;
    impl Progress for Quiet {
        fn step(&self, _: &str) {}
        fn warn(&self, _: &str) {}
    }

    fn replace(old_id: &str, delete_first: bool) -> Change {
        Change {
            action: crate::plan::Action::Replace,
            resource_type: crate::plan::ResourceType::FlowLog,
            region: Some("us-east-1".into()),
            id: old_id.into(),
            resource: Some("vpc-1".into()),
            target: Some("v → rt".into()),
            reason: String::new(),
            attributes: Vec::new(),
            depends_on: Vec::new(),
            operation: Operation::ReplaceFlowLog {
                old_id: old_id.into(),
                spec: FlowLogSpec {
                    resource_id: "vpc-1".into(),
                    resource_kind: ResourceKind::Vpc,
                    settings: settings(),
                    tags: BTreeMap::new(),
                    entry: "v".into(),
                    destination_name: "rt".into(),
                },
                delete_first,
            },
        }
    }

    /// A described CloudWatch flow log on vpc-1 with `settings()` but `format`.
    pub(in crate::apply) fn described(id: &str, format: &str) -> aws_sdk_ec2::types::FlowLog {
        aws_sdk_ec2::types::FlowLog::builder()
            .flow_log_id(id)
            .resource_id("vpc-1")
            .traffic_type(aws_sdk_ec2::types::TrafficType::All)
            .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
            .log_group_name("/g")
            .deliver_logs_permission_arn("arn:aws:iam::111122223333:role/r")
            .log_format(format)
            .max_aggregation_interval(600)
            .build()
    }

    const ALREADY: &str = "<Response><Errors><Error><Code>FlowLogAlreadyExists</Code><Message>Error. There is an existing Flow Log with the same configuration and log destination.</Message></Error></Errors><RequestID>r</RequestID></Response>";

    /// Runs a create-first replace of `fl-old` on vpc-1 with `create` answering CreateFlowLogs
    /// and DescribeFlowLogs showing `on_resource`; returns its status and the DeleteFlowLogs
    /// and DescribeFlowLogs call counts.
    async fn replace_with(
        create: aws_smithy_mocks::Rule,
        on_resource: Vec<aws_sdk_ec2::types::FlowLog>,
    ) -> (Status, usize, usize) {
        let describe = mock!(aws_sdk_ec2::Client::describe_flow_logs).then_output(move || {
            aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsOutput::builder()
                .set_flow_logs(Some(on_resource.clone()))
                .build()
        });
        let delete = mock!(aws_sdk_ec2::Client::delete_flow_logs)
            .match_requests(|r| r.flow_log_ids() == ["fl-old"])
            .then_output(|| {
                aws_sdk_ec2::operation::delete_flow_logs::DeleteFlowLogsOutput::builder().build()
            });
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&create, &describe, &delete]
        ));
        let c = replace("fl-old", false);
        let mut results = apply_region(
            &ec2,
            "111122223333",
            &[&c],
            &HashMap::new(),
            opts(),
            &Quiet,
            &super::super::Cancel::new(),
        )
        .await;
        let st = results.remove(&c.key()).expect("a status");
        (st, delete.num_calls(), describe.num_calls())
    }

    fn created_fl_new() -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-new")
                .build()
        })
    }

    #[tokio::test]
    async fn already_exists_is_not_confirmation_and_the_old_flow_log_is_kept() {
        let create = mock!(aws_sdk_ec2::Client::create_flow_logs).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(ALREADY),
            )
        });
        // Only the old flow log (another format) is on the resource.
        let (st, deletes, describes) =
            replace_with(create, vec![described("fl-old", "${version} ${srcaddr}")]).await;
        let Status::Failed { error, hint } = st else {
            panic!("{st:?}")
        };
        assert!(error.contains("fl-old was kept"), "{error}");
        assert!(
            hint.as_deref()
                .unwrap_or_default()
                .contains("--allow-logging-gap")
        );
        assert_eq!(deletes, 0, "nothing is deleted");
        assert_eq!(describes, 1, "the describe is the confirmation");
    }

    #[tokio::test]
    async fn a_confirmed_replace_deletes_the_old_flow_log() {
        let on_resource = vec![
            described("fl-old", "${version} ${srcaddr}"),
            described("fl-new", &LogFormat::default_v2().to_aws()),
        ];
        let (st, deletes, _) = replace_with(created_fl_new(), on_resource).await;
        assert_eq!(st, Status::Done);
        assert_eq!(deletes, 1);
    }

    #[tokio::test]
    async fn a_reported_success_that_describe_does_not_show_deletes_nothing() {
        let on_resource = vec![described("fl-old", "${version} ${srcaddr}")];
        let (st, deletes, _) = replace_with(created_fl_new(), on_resource).await;
        assert!(matches!(st, Status::Failed { .. }), "{st:?}");
        assert_eq!(deletes, 0);
    }
}
