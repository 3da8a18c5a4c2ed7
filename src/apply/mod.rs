//! The executor: carries out a [`Plan`] exactly, in dependency order (delivery roles, then
//! buckets and log groups, then flow logs: creates in batches, then deletes). It decides
//! nothing: "already exists" counts as done, only an IAM propagation delay is retried (with a
//! bounded backoff), and a change whose dependency failed is skipped and reported. A
//! [`Cancel`] request stops it from starting anything new (see `cancel`).

mod cancel;
mod destinations;
mod flow_logs;

use std::collections::HashMap;
use std::time::Duration;

use futures::future::join_all;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::aws::{Aws, AwsError};
use crate::plan::{Action, Change, Operation, Plan, ResourceType};
use crate::progress::Progress;

pub use cancel::{Cancel, INTERRUPTED};

/// How a change ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    Done,
    Failed { error: String, hint: Option<String> },
    Skipped { reason: String },
}

impl Status {
    fn failed(e: &AwsError) -> Status {
        Status::Failed {
            error: e.to_string(),
            hint: e.hint().map(str::to_string),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub action: Action,
    #[serde(rename = "kind")]
    pub resource_type: ResourceType,
    pub region: Option<String>,
    pub id: String,
    pub resource: Option<String>,
    /// The change's human subject (kind, id, resource, entry → destination).
    pub subject: String,
    #[serde(flatten)]
    pub status: Status,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ApplyReport {
    pub outcomes: Vec<Outcome>,
}

impl ApplyReport {
    pub fn count(&self, pred: impl Fn(&Status) -> bool) -> usize {
        self.outcomes.iter().filter(|o| pred(&o.status)).count()
    }
    pub fn all_done(&self) -> bool {
        self.outcomes.iter().all(|o| o.status == Status::Done)
    }
}

/// Executor settings.
#[derive(Clone, Copy, Debug)]
pub struct ApplyOptions {
    /// First wait before retrying a CreateFlowLogs that hit IAM propagation delay; doubles each time.
    pub propagation_backoff: Duration,
    /// Retries after the first attempt.
    pub propagation_retries: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            propagation_backoff: Duration::from_secs(2),
            propagation_retries: 5,
        }
    }
}

/// Runs `plan` and reports each change's outcome, in plan order. Checks `cancel` before each
/// change or batch it starts.
pub async fn apply(
    aws: &Aws,
    plan: &Plan,
    opts: ApplyOptions,
    limit: &Semaphore,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> ApplyReport {
    let account = plan.account.as_str();
    let mut results: HashMap<String, Status> = HashMap::new();
    let (roles, rest): (Vec<&Change>, Vec<&Change>) = plan
        .changes
        .iter()
        .partition(|c| c.resource_type == ResourceType::IamRole);
    let (dests, flow_logs): (Vec<&Change>, Vec<&Change>) = rest
        .into_iter()
        .partition(|c| c.resource_type != ResourceType::FlowLog);

    let iam = aws.iam();
    for c in roles {
        if cancel.is_requested() {
            break;
        }
        let st = destinations::apply_role(&iam, c).await;
        report_line(progress, account, c, &st);
        results.insert(c.key(), st);
    }
    for (key, st, c) in join_all(dests.iter().map(|c| async move {
        let _permit = limit.acquire().await.expect("semaphore is never closed");
        if cancel.is_requested() {
            return None;
        }
        let st = destinations::apply_destination(aws, c).await;
        Some((c.key(), st, *c))
    }))
    .await
    .into_iter()
    .flatten()
    {
        report_line(progress, account, c, &st);
        results.insert(key, st);
    }
    let mut by_region: HashMap<&str, Vec<&Change>> = HashMap::new();
    for c in &flow_logs {
        by_region
            .entry(c.region.as_deref().unwrap_or_default())
            .or_default()
            .push(c);
    }
    let done_before = &results;
    let region_results = join_all(by_region.into_iter().map(|(region, changes)| async move {
        let _permit = limit.acquire().await.expect("semaphore is never closed");
        if cancel.is_requested() {
            return HashMap::new();
        }
        let label = format!("{account}/{region}");
        progress.target_started(&label);
        let clients = aws.clients(region);
        let r = flow_logs::apply_region(
            &clients.ec2,
            account,
            &changes,
            done_before,
            opts,
            progress,
            cancel,
        )
        .await;
        progress.target_finished(&label);
        r
    }))
    .await;
    for r in region_results {
        results.extend(r);
    }
    ApplyReport {
        outcomes: plan
            .changes
            .iter()
            .map(|c| Outcome {
                action: c.action,
                resource_type: c.resource_type,
                region: c.region.clone(),
                id: c.id.clone(),
                resource: c.resource.clone(),
                subject: c.subject(),
                status: results
                    .remove(&c.key())
                    .unwrap_or_else(|| cancel::not_started(cancel)),
            })
            .collect(),
    }
}

/// Skipped when a dependency did not finish.
fn blocked(c: &Change, done: &HashMap<String, Status>) -> Option<Status> {
    c.depends_on
        .iter()
        .find(|d| done.get(*d) != Some(&Status::Done))
        .map(|d| Status::Skipped {
            reason: format!("depends on {d}, which did not complete"),
        })
}

fn report_line(progress: &dyn Progress, account: &str, c: &Change, st: &Status) {
    let region = format!("{account}/{}", c.region.as_deref().unwrap_or("global"));
    let what = c.subject();
    match st {
        Status::Done => progress.step(&format!("[{region}] {} {what}: done", c.action.symbol())),
        Status::Failed { error, hint } => progress.warn(&format!(
            "[{region}] {} {what}: FAILED: {error}{}",
            c.action.symbol(),
            hint.as_ref()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default()
        )),
        Status::Skipped { reason } => progress.warn(&format!(
            "[{region}] {} {what}: skipped: {reason}",
            c.action.symbol()
        )),
    }
}

/// The operation of a change, for executors.
fn op(c: &Change) -> &Operation {
    &c.operation
}
