//! Verify's result as data: one item per flow log with its ladder of checks. Renderers
//! (`report::verify_*`) read only these types. Field names are the JSON schema.

use serde::Serialize;

/// Version of the JSON layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a flow log stands, end to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// Every rung passed: recent records arrive in the expected shape.
    Delivering,
    /// A rung failed: nothing (or the wrong thing) can or does arrive.
    Failing,
    /// Nothing to expect yet: younger than the first delivery window, or nothing to log (no
    /// network interfaces).
    Waiting,
    /// Deliveries arrived but the newest is older than the threshold.
    Stale,
    /// Cannot be decided: a read the ladder needs was denied or failed (the rung says which
    /// permission to grant), a policy depends on a context value verify could not learn, or
    /// the destination is Firehose (only the status rung can be checked).
    Unverified,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivering => "delivering",
            DeliveryStatus::Failing => "failing",
            DeliveryStatus::Waiting => "waiting",
            DeliveryStatus::Stale => "stale",
            DeliveryStatus::Unverified => "unverified",
        }
    }
}

/// The outcome of one rung.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    Ok,
    Failed,
    NotApplicable,
    /// Could not be decided yet (no delivery window has passed).
    Waiting,
    /// Could not be decided: a read it needs failed, or a value the policy depends on is
    /// unknown. Never "ok", never a claim that the destination is wrong.
    Unverified,
}

/// One rung of the ladder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `status`, `destination`, `permissions`, `evidence`, `shape`, `freshness`.
    pub name: String,
    pub result: CheckResult,
    /// What was found, in one or two sentences.
    pub detail: String,
    /// The concrete fix when the rung failed (a statement to add, a principal, a command).
    pub fix: Option<String>,
}

/// One flow log's verification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowLogVerification {
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
    pub resource_id: String,
    /// The destination as DescribeFlowLogs names it (S3 ARN, log group, Firehose ARN).
    pub destination: String,
    pub destination_type: String,
    pub status: DeliveryStatus,
    pub checks: Vec<Check>,
    /// RFC 3339 time of the newest delivery found (S3 Last-Modified or event ingestion time).
    pub newest_delivery: Option<String>,
    /// Delivery lag of the newest delivery: Last-Modified minus the time in the object's name,
    /// or ingestion time minus event time.
    pub lag_seconds: Option<i64>,
    /// The config entry that declares it, when verify ran from a config.
    pub entry: Option<String>,
}

/// Counts by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifySummary {
    pub flow_logs: usize,
    pub delivering: usize,
    pub failing: usize,
    pub waiting: usize,
    pub stale: usize,
    pub unverified: usize,
    /// Of the unverified: flow logs to Firehose (only their status rung can be checked).
    pub firehose: usize,
}

/// A target or flow log that could not be verified, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyError {
    pub account: Option<String>,
    pub region: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// The whole verification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifyReport {
    pub schema_version: u32,
    /// RFC 3339 time the verification ran.
    pub generated_at: String,
    pub summary: VerifySummary,
    /// Sorted by (account, region, flow log id).
    pub flow_logs: Vec<FlowLogVerification>,
    pub errors: Vec<VerifyError>,
}
