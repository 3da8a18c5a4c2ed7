//! What verify reads about deliveries, converted out of SDK types: S3 objects of a listing,
//! CloudWatch Logs streams and events, a role's policy documents, a KMS key's policy. Plain
//! data; the `aws` layer fills it, `verify` judges it.

use jiff::Timestamp;
use serde_json::Value;

/// One object of a bounded listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: i64,
    pub last_modified: Option<Timestamp>,
}

/// One log stream (DescribeLogStreams).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamMeta {
    pub name: String,
    pub created: Option<Timestamp>,
    pub last_event: Option<Timestamp>,
    pub last_ingestion: Option<Timestamp>,
}

/// One log event (GetLogEvents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMeta {
    pub stream: String,
    pub timestamp: Option<Timestamp>,
    pub ingestion: Option<Timestamp>,
    pub message: String,
}

/// An IAM role with every policy document that applies to it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleDocuments {
    pub name: String,
    pub arn: String,
    pub trust_policy: Option<Value>,
    /// Inline policies: (name, document).
    pub inline: Vec<(String, Value)>,
    /// Attached managed policies: (ARN, default version's document).
    pub attached: Vec<(String, Value)>,
    /// The permissions boundary (GetRole's PermissionsBoundary): (ARN, default version's
    /// document; `null` when it has none, which allows nothing).
    pub boundary: Option<(String, Value)>,
}

/// A KMS key: its ARN and state (DescribeKey) and its `default` key policy.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyDocuments {
    pub arn: String,
    pub enabled: bool,
    /// DescribeKey's `KeyState` (`Enabled`, `Disabled`, `PendingDeletion`, ...), when given.
    pub state: Option<String>,
    pub policy: Value,
}

/// A bucket found by HeadBucket: its region (`x-amz-bucket-region`), and whether its owner
/// was checked with `ExpectedBucketOwner`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketPresence {
    Exists {
        region: Option<String>,
        owner_verified: bool,
    },
    Missing,
    /// HeadBucket was refused: another account's bucket, or no `s3:ListBucket`.
    Denied,
    /// S3 answered 301 with `x-amz-bucket-region`: ask again in that region.
    ElsewhereIn(String),
}
