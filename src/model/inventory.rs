//! Actual state as discovered in AWS, converted out of SDK types.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::desired::{Encryption, ResourceKind};
use super::flow_log::FlowLogSettings;
use super::target::AccountId;

/// A VPC, subnet or network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkResource {
    pub id: String,
    pub kind: ResourceKind,
    pub tags: BTreeMap<String, String>,
}

/// A flow log that exists in AWS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExistingFlowLog {
    pub id: String,
    pub resource_id: String,
    pub settings: FlowLogSettings,
    pub tags: BTreeMap<String, String>,
    /// Creation time as reported by AWS (RFC 3339), used to keep the oldest of duplicates.
    pub created: Option<String>,
}

impl ExistingFlowLog {
    pub fn is_managed(&self) -> bool {
        self.tags.get(super::MANAGED_BY_KEY).map(String::as_str) == Some(super::MANAGED_BY_VALUE)
    }
    pub fn entry(&self) -> Option<&str> {
        self.tags.get(super::ENTRY_TAG_KEY).map(String::as_str)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogGroupState {
    pub name: String,
    pub retention_days: Option<i32>,
    pub kms_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// A lifecycle rule as flowkeeper reads and writes it (its own rules only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LifecycleRule {
    pub id: String,
    pub prefix: String,
    pub transition_days: Option<u32>,
    pub storage_class: Option<String>,
    pub expire_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BucketState {
    pub name: String,
    /// Region the bucket lives in.
    pub region: String,
    /// The bucket policy, parsed (None when the bucket has none).
    pub policy: Option<Value>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub object_ownership: Option<String>,
    pub encryption: Option<Encryption>,
    /// Every lifecycle rule id on the bucket, and the full content of flowkeeper's own rules.
    pub lifecycle_rules: Vec<LifecycleRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    pub trust_policy: Option<Value>,
    /// The inline policy flowkeeper writes, when present.
    pub inline_policy: Option<Value>,
}

/// What exists in one region of one account.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RegionInventory {
    pub resources: Vec<NetworkResource>,
    pub flow_logs: Vec<ExistingFlowLog>,
    pub log_groups: BTreeMap<String, LogGroupState>,
}

/// A bucket lookup: it exists and the expected account owns it (with its state), it does not
/// exist, it belongs to another account, or access was denied so that nobody can tell.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum BucketLookup {
    Exists(BucketState),
    Missing,
    /// Owned by another account (`ExpectedBucketOwner` refused, or not among the account's own
    /// buckets): never edited.
    Foreign,
    /// HeadBucket was denied with and without `ExpectedBucketOwner`: another account's bucket,
    /// or credentials without `s3:ListBucket` on it.
    Denied,
}

/// What exists in one account across the regions flowkeeper looked at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inventory {
    pub account: AccountId,
    pub regions: BTreeMap<String, RegionInventory>,
    pub buckets: BTreeMap<String, BucketLookup>,
    /// IAM roles by name; None when the role does not exist.
    pub roles: BTreeMap<String, Option<RoleState>>,
}
