//! The plan's data: changes, the operations behind them, covered resources and problems.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::{AccountId, Encryption, FlowLogSpec, LifecycleRule};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    /// Terraform-style marker for human output.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceType {
    IamRole,
    S3Bucket,
    LogGroup,
    FlowLog,
}

impl ResourceType {
    pub fn label(self) -> &'static str {
        match self {
            ResourceType::IamRole => "iam-role",
            ResourceType::S3Bucket => "s3-bucket",
            ResourceType::LogGroup => "log-group",
            ResourceType::FlowLog => "flow-log",
        }
    }
}

/// One attribute before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeDiff {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl AttributeDiff {
    pub fn new(name: &str, before: Option<String>, after: Option<String>) -> Self {
        AttributeDiff {
            name: name.to_string(),
            before,
            after,
        }
    }
}

/// One idempotent bucket setting to write.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum BucketStep {
    PublicAccessBlock,
    OwnershipEnforced,
    Encryption {
        encryption: Encryption,
    },
    /// Upsert these rules by id and remove the listed flowkeeper rule ids; other rules stay.
    Lifecycle {
        rules: Vec<LifecycleRule>,
        remove: Vec<String>,
    },
    /// The whole merged policy document (foreign statements included, unchanged).
    Policy {
        document: Value,
    },
    /// Tags for a bucket flowkeeper creates.
    Tags {
        tags: BTreeMap<String, String>,
    },
}

/// What the executor does for a change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    Bucket {
        create: bool,
        /// The account that must own the bucket: every call passes it as `ExpectedBucketOwner`.
        owner: AccountId,
        steps: Vec<BucketStep>,
    },
    LogGroup {
        create: bool,
        retention_days: Option<i32>,
        kms_key: Option<String>,
        tags: BTreeMap<String, String>,
    },
    Role {
        create: bool,
        /// Trust policy to write (merged with foreign statements when the role exists).
        trust_policy: Option<Value>,
        /// Inline policy name and document to write.
        inline_policy: Option<(String, Value)>,
        tags: BTreeMap<String, String>,
    },
    CreateFlowLog {
        spec: FlowLogSpec,
    },
    /// Create `spec` first, then delete `old_id` once the new flow log is confirmed to exist.
    /// With `delete_first` (only when the run allows a logging gap) `old_id` is deleted before
    /// `spec` is created: the resource is not logged by this entry between the two calls.
    ReplaceFlowLog {
        old_id: String,
        spec: FlowLogSpec,
        delete_first: bool,
    },
    TagFlowLog {
        id: String,
        tags: BTreeMap<String, String>,
    },
    DeleteFlowLog {
        id: String,
    },
}

/// One planned change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub action: Action,
    #[serde(rename = "kind")]
    pub resource_type: ResourceType,
    /// None for account-wide resources (IAM roles).
    pub region: Option<String>,
    /// Bucket, log group or role name, or flow-log id (for a flow log to create: the resource id).
    pub id: String,
    /// The VPC, subnet or network interface a flow-log change is about.
    pub resource: Option<String>,
    /// For flow-log changes: the config entry and destination names (`entry → destination`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub reason: String,
    pub attributes: Vec<AttributeDiff>,
    /// Keys of changes that must succeed first.
    pub depends_on: Vec<String>,
    #[serde(skip)]
    pub operation: Operation,
}

impl Change {
    /// A key unique within the plan, used for dependencies.
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.resource_type.label(),
            self.region.as_deref().unwrap_or("global"),
            self.id,
            self.resource.as_deref().unwrap_or(""),
            self.target.as_deref().unwrap_or("")
        )
    }

    /// How humans see the subject: `flow-log fl-1 (vpc-1, all-vpcs → archive)`.
    pub fn subject(&self) -> String {
        let mut extra: Vec<&str> = Vec::new();
        if let Some(r) = self.resource.as_deref().filter(|r| *r != self.id) {
            extra.push(r);
        }
        if let Some(t) = &self.target {
            extra.push(t);
        }
        if extra.is_empty() {
            format!("{} {}", self.resource_type.label(), self.id)
        } else {
            format!(
                "{} {} ({})",
                self.resource_type.label(),
                self.id,
                extra.join(", ")
            )
        }
    }
}

/// A resource already logged as desired by a flow log flowkeeper does not manage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Covered {
    pub region: String,
    pub resource: String,
    pub flow_log_id: String,
    pub entry: String,
    pub destination: String,
}

/// A managed flow log the config no longer wants (deleted only with --prune).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Prunable {
    pub region: String,
    pub flow_log_id: String,
    pub resource: String,
}

/// Something that stops part of the plan; the rest still goes ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub region: Option<String>,
    pub subject: String,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub account: AccountId,
    pub changes: Vec<Change>,
    pub covered: Vec<Covered>,
    /// Managed flow logs the config no longer wants, kept because --prune was not given.
    pub prunable: Vec<Prunable>,
    pub problems: Vec<Problem>,
    /// (entry, id) named in `select.ids` → whether this account has it.
    #[serde(skip)]
    pub selected_ids: BTreeMap<(String, String), bool>,
    /// The regions planned (after `--regions` and failed discoveries).
    #[serde(skip)]
    pub regions: Vec<String>,
    /// Regions or account-wide reads that failed, so part of the account was not planned.
    #[serde(skip)]
    pub unread: usize,
}

/// Counts per action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
}

impl Plan {
    pub fn new(account: AccountId) -> Self {
        Plan {
            account,
            changes: Vec::new(),
            covered: Vec::new(),
            prunable: Vec::new(),
            problems: Vec::new(),
            selected_ids: BTreeMap::new(),
            regions: Vec::new(),
            unread: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }

    /// Deterministic order: account-wide first, then by region, resource type, id, resource.
    pub fn sort(&mut self) {
        self.changes.sort_by(|a, b| {
            (
                &a.region,
                a.resource_type,
                &a.id,
                &a.resource,
                &a.target,
                a.action,
            )
                .cmp(&(
                    &b.region,
                    b.resource_type,
                    &b.id,
                    &b.resource,
                    &b.target,
                    b.action,
                ))
        });
        self.covered.sort_by(|a, b| {
            (&a.region, &a.resource, &a.entry).cmp(&(&b.region, &b.resource, &b.entry))
        });
        self.prunable.sort();
        self.problems
            .sort_by(|a, b| (&a.region, &a.subject).cmp(&(&b.region, &b.subject)));
    }
}
