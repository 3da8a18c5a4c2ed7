//! The audit's result as data: one verdict per VPC, subnet and network interface, and a summary
//! per account and region. Renderers (`report::audit_*`) read only these types; `audit`'s
//! evaluation produces them. Field names are the JSON schema (`schema_version` below).

use serde::Serialize;

use crate::model::ResourceKind;

/// Version of the JSON (and OCSF/CSV column) layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What one resource is, as far as the audit is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every requirement in scope is met by a qualifying flow log on it or above it.
    Compliant,
    /// At least one requirement is unmet; `reasons` say which and why.
    NonCompliant,
    /// Owned by another account (a VPC or subnet shared through RAM): reported with its owner,
    /// never counted as a failure of the audited account.
    Shared,
    /// A VPC without network interfaces: nothing to log yet; its verdict is still given.
    Unused,
    /// No config entry selects it (config mode only).
    OutOfScope,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non-compliant",
            Status::Shared => "shared",
            Status::Unused => "unused",
            Status::OutOfScope => "out-of-scope",
        }
    }
    pub const ALL: [Status; 5] = [
        Status::Compliant,
        Status::NonCompliant,
        Status::Shared,
        Status::Unused,
        Status::OutOfScope,
    ];
}

/// A control of a compliance framework that an unmet requirement breaks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Control {
    /// `cis-aws-foundations`, `aws-fsbp`, `flowkeeper`, or a user baseline's name.
    pub framework: String,
    /// The control id (`3.7`, `EC2.6`, ...).
    pub id: String,
    /// The framework version the id belongs to (`v3.0.0`), when the id depends on it.
    pub version: Option<String>,
}

/// One unmet requirement on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable machine code (`no-flow-log`, `traffic-type`, `delivery-failed`, ...).
    pub code: String,
    /// One sentence for people, naming the flow log and the values involved.
    pub text: String,
    pub controls: Vec<Control>,
    /// The flow log this reason is about, when it is about one.
    pub flow_log_id: Option<String>,
}

/// The verdict on one VPC, subnet or network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceVerdict {
    pub account: String,
    pub region: String,
    pub resource_type: ResourceKind,
    pub resource_id: String,
    /// The owning account (`OwnerId`), which differs from `account` for shared resources.
    pub owner: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub status: Status,
    /// Whether the requirement is met, also for `shared` and `unused` resources (None for
    /// `out-of-scope`, which has no requirement).
    pub compliant: Option<bool>,
    pub reasons: Vec<Reason>,
    /// The flow logs on this resource or above it that were considered.
    pub flow_log_ids: Vec<String>,
    /// What the resource was held to: the config entry names, or the baseline's name.
    pub requirement: Vec<String>,
}

/// Counts for one account and region.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SummaryRow {
    pub account: String,
    pub region: String,
    pub resources: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub shared: usize,
    pub unused: usize,
    /// Unused VPCs without a qualifying flow log (counted by Security Hub; here only with
    /// `--include-unused`, which makes them non-compliant). Added in schema 1 (additive).
    pub unused_non_compliant: usize,
    pub out_of_scope: usize,
    /// compliant / (compliant + non_compliant), in percent; None when nothing was evaluated.
    pub coverage_percent: Option<f64>,
}

/// A target (account or account/region) that could not be audited, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditError {
    pub account: Option<String>,
    pub region: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// The whole audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditReport {
    pub schema_version: u32,
    /// RFC 3339 time the audit ran.
    pub generated_at: String,
    /// `config` (entries of a config file) or `baseline`.
    pub mode: String,
    /// The baseline's name when audited against one.
    pub baseline: Option<String>,
    /// The config file, when one was used.
    pub config: Option<String>,
    pub summary: Vec<SummaryRow>,
    /// Sorted by (account, region, VPC, resource type, id).
    pub resources: Vec<ResourceVerdict>,
    pub errors: Vec<AuditError>,
    /// Things that are not errors but change what the report means (a config entry that
    /// selects nothing). Added in schema 1 (additive).
    pub warnings: Vec<String>,
}
