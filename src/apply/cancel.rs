//! Cooperative cancellation of an apply (what Ctrl-C asks for). Once requested, the executor
//! starts no new change or batch; calls already sent to AWS finish, and so does the deletion
//! half of a replace whose new flow log exists (logging never stops either way). Every change
//! that never started is reported skipped with the reason [`INTERRUPTED`]. This module only
//! holds the flag: catching the signal is the CLI's business.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Status;

/// The reason given for changes that did not start because the apply was interrupted.
pub const INTERRUPTED: &str = "interrupted";

/// A shared "stop starting new work" flag; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every executor holding a clone to start nothing new.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The status of a change that never started: interrupted, or (should the executor have
/// missed it) not executed.
pub fn not_started(cancel: &Cancel) -> Status {
    Status::Skipped {
        reason: if cancel.is_requested() {
            INTERRUPTED.into()
        } else {
            "not executed".into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_requested());
        assert_eq!(
            not_started(&b),
            Status::Skipped {
                reason: "not executed".into()
            }
        );
        a.request();
        assert!(b.is_requested());
        assert_eq!(
            not_started(&b),
            Status::Skipped {
                reason: INTERRUPTED.into()
            }
        );
    }
}

#[cfg(test)]
mod executor_tests {
    //! What the flow-log executor does when cancelled while a create batch is in flight
    //! (EC2 mocked at the transport).

    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    use aws_sdk_ec2::operation::create_flow_logs::CreateFlowLogsOutput;
    use aws_sdk_ec2::operation::delete_flow_logs::DeleteFlowLogsOutput;
    use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};

    use super::super::{ApplyOptions, flow_logs};
    use super::*;
    use crate::model::{
        FlowLogDestination, FlowLogSettings, FlowLogSpec, LogFormat, ResourceKind, TrafficType,
    };
    use crate::plan::{Action, Change, Operation, ResourceType};
    use crate::progress::Progress;

    struct Silent;
    impl Progress for Silent {
        fn step(&self, _: &str) {}
        fn warn(&self, _: &str) {}
    }

    fn spec(vpc: &str, tag: &str) -> FlowLogSpec {
        FlowLogSpec {
            resource_id: vpc.into(),
            resource_kind: ResourceKind::Vpc,
            settings: FlowLogSettings {
                traffic_type: TrafficType::All,
                destination: FlowLogDestination::CloudwatchLogs {
                    log_group: "/g".into(),
                    role_arn: "arn:aws:iam::111122223333:role/r".into(),
                    elsewhere: None,
                },
                log_format: LogFormat::default_v2(),
                max_aggregation_interval: crate::model::AggregationInterval::TenMinutes,
                unreadable: Default::default(),
            },
            // Equal settings, different tags: two batches, the `a` one first.
            tags: BTreeMap::from([(tag.to_string(), "1".to_string())]),
            entry: tag.into(),
            destination_name: "rt".into(),
        }
    }

    fn change(action: Action, id: &str, resource: &str, operation: Operation) -> Change {
        Change {
            action,
            resource_type: ResourceType::FlowLog,
            region: Some("us-east-1".into()),
            id: id.into(),
            resource: Some(resource.into()),
            target: None,
            reason: String::new(),
            attributes: Vec::new(),
            depends_on: Vec::new(),
            operation,
        }
    }

    #[tokio::test]
    async fn cancelled_mid_batch_the_replace_in_flight_finishes_and_nothing_new_starts() {
        let cancel = Cancel::new();
        let during_create = cancel.clone();
        let create =
            mock!(aws_sdk_ec2::Client::create_flow_logs).then_compute_response(move |_| {
                during_create.request(); // Ctrl-C while the first batch is in flight
                MockResponse::Output(
                    CreateFlowLogsOutput::builder()
                        .flow_log_ids("fl-new")
                        .build(),
                )
            });
        let deleted: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let seen = deleted.clone();
        let delete =
            mock!(aws_sdk_ec2::Client::delete_flow_logs).then_compute_response(move |req| {
                seen.lock().unwrap().push(req.flow_log_ids().to_vec());
                MockResponse::Output(DeleteFlowLogsOutput::builder().build())
            });
        // The confirmation: DescribeFlowLogs shows the new flow log with the wanted settings.
        let describe = mock!(aws_sdk_ec2::Client::describe_flow_logs).then_output(|| {
            aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsOutput::builder()
                .flow_logs(flow_logs::tests::described(
                    "fl-new",
                    &LogFormat::default_v2().to_aws(),
                ))
                .build()
        });
        let ec2 = crate::aws::ec2::Ec2::from_client(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&create, &delete, &describe]
        ));
        let replace = change(
            Action::Replace,
            "fl-old",
            "vpc-1",
            Operation::ReplaceFlowLog {
                old_id: "fl-old".into(),
                spec: spec("vpc-1", "a"),
                delete_first: false,
            },
        );
        let create_later = change(
            Action::Create,
            "vpc-2",
            "vpc-2",
            Operation::CreateFlowLog {
                spec: spec("vpc-2", "b"),
            },
        );
        let delete_later = change(
            Action::Delete,
            "fl-gone",
            "vpc-3",
            Operation::DeleteFlowLog {
                id: "fl-gone".into(),
            },
        );
        let results = flow_logs::apply_region(
            &ec2,
            "111122223333",
            &[&replace, &create_later, &delete_later],
            &HashMap::new(),
            ApplyOptions::default(),
            &Silent,
            &cancel,
        )
        .await;
        assert_eq!(create.num_calls(), 1, "the second batch never started");
        assert_eq!(
            *deleted.lock().unwrap(),
            vec![vec!["fl-old".to_string()]],
            "only the old half of the replace in flight is deleted"
        );
        assert_eq!(results.get(&replace.key()), Some(&Status::Done));
        assert_eq!(results.get(&create_later.key()), None, "not started");
        assert_eq!(results.get(&delete_later.key()), None, "not started");
    }
}
