//! Actual state as discovered in AWS, converted out of SDK types.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::desired::{Encryption, ResourceKind};
use super::flow_log::FlowLogSettings;
use super::target::AccountId;

/// A VPC, subnet or network interface, with where it sits and who owns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkResource {
    pub id: String,
    pub kind: ResourceKind,
    pub tags: BTreeMap<String, String>,
    /// The VPC a subnet or interface is in (None for a VPC itself).
    pub vpc_id: Option<String>,
    /// The subnet an interface is in (None for VPCs and subnets).
    pub subnet_id: Option<String>,
    /// The account that owns the resource (`OwnerId`); for a VPC or subnet shared through RAM
    /// this is the owner, not the account it was read from.
    pub owner_id: Option<String>,
    /// An interface that an AWS service created and manages (NAT gateway, endpoint, load
    /// balancer); such interfaces are covered through their subnet or VPC like any other.
    pub requester_managed: bool,
    /// `InterfaceType` of a network interface (`interface`, `nat_gateway`, `vpc_endpoint`, ...).
    pub interface_type: Option<String>,
}

impl NetworkResource {
    /// A resource with nothing but its id and kind (placement and owner unknown).
    pub fn new(id: impl Into<String>, kind: ResourceKind) -> Self {
        NetworkResource {
            id: id.into(),
            kind,
            tags: BTreeMap::new(),
            vpc_id: None,
            subnet_id: None,
            owner_id: None,
            requester_managed: false,
            interface_type: None,
        }
    }
}

/// What AWS says about a flow log's own state and its delivery (DescribeFlowLogs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowLogHealth {
    /// `FlowLogStatus`: `ACTIVE` is the only healthy value.
    pub status: Option<String>,
    /// `DeliverLogsStatus`: `SUCCESS`, `FAILED` or `ROLE_FAILED`... (absent on some destinations).
    pub deliver_status: Option<String>,
    /// `DeliverLogsErrorMessage`, quoted as AWS wrote it.
    pub deliver_error: Option<String>,
}

impl FlowLogHealth {
    /// `FlowLogStatus` is `ACTIVE`; an unreported status is not taken as active.
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some("ACTIVE")
    }
    /// `DeliverLogsStatus` reports a failure (`FAILED`, or a `..._FAILED` variant).
    pub fn delivery_failed(&self) -> bool {
        self.deliver_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("FAILED") || s.ends_with("_FAILED"))
    }
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
    pub health: FlowLogHealth,
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
