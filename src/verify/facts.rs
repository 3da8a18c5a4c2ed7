//! What was read about one flow log and its destination: the ladder's whole input. Each read
//! is a [`Read`]: its value, or why it could not be read (a denied read is a failed rung with
//! "cannot read", never a crash and never "ok").

use jiff::Timestamp;
use serde_json::Value;

use crate::model::delivery::{
    BucketPresence, EventMeta, KeyDocuments, ObjectMeta, RoleDocuments, StreamMeta,
};
use crate::model::{Encryption, ExistingFlowLog, LogGroupState, S3Options};

/// A read that failed: the operation, AWS's message, and whether it was access denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadFailure {
    /// `service:Action`, e.g. `s3:GetBucketPolicy`.
    pub operation: String,
    pub message: String,
    pub denied: bool,
}

impl ReadFailure {
    /// The IAM permission the read needs (the operation, where the names agree).
    pub fn permission(&self) -> &str {
        match self.operation.as_str() {
            "s3:HeadBucket" | "s3:ListObjectsV2" => "s3:ListBucket",
            "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
            other => other,
        }
    }
}

pub type Read<T> = Result<T, ReadFailure>;

/// The flow log as verify sees it, with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    pub account: String,
    pub region: String,
    pub partition: String,
    pub flow_log: ExistingFlowLog,
    /// The config entry that declares it.
    pub entry: Option<String>,
    /// The config manages its destination (bucket policy, role, log group): the fix for a
    /// permission is then "run `flowkeeper apply`" besides the statement.
    pub config_managed: bool,
    /// Network interfaces the flow log covers (ids), when known.
    pub interfaces: Option<Vec<String>>,
    /// The account's organization id (`aws:SourceOrgID` of delivery requests), when known.
    pub org_id: Option<String>,
}

impl Subject {
    /// The flow log's creation time, when AWS reported a readable one.
    pub fn created(&self) -> Option<Timestamp> {
        self.flow_log
            .created
            .as_deref()
            .and_then(|c| c.parse::<Timestamp>().ok())
    }
}

/// Everything read about an S3 destination.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Facts {
    pub bucket: String,
    pub prefix: Option<String>,
    pub options: S3Options,
    pub presence: Read<BucketPresence>,
    pub policy: Option<Read<Option<Value>>>,
    pub encryption: Option<Read<Option<Encryption>>>,
    /// The key the default encryption names (read when it names one).
    pub key: Option<Read<KeyDocuments>>,
    /// The prefixes listed, newest first, and what they held (this flow log's name prefix).
    pub listing: Option<Read<Listing>>,
    /// The first bytes of the newest object of this flow log.
    pub newest_start: Option<Read<Vec<u8>>>,
}

/// A bounded listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub prefixes: Vec<String>,
    pub objects: Vec<ObjectMeta>,
    /// Some prefix had more objects than the bound allowed.
    pub truncated: bool,
}

/// Everything read about a CloudWatch Logs destination.
#[derive(Clone, Debug, PartialEq)]
pub struct CwlFacts {
    pub log_group: String,
    pub role_arn: String,
    pub group: Read<Option<LogGroupState>>,
    pub role: Option<Read<Option<RoleDocuments>>>,
    pub key: Option<Read<KeyDocuments>>,
    pub streams: Option<Read<Vec<StreamMeta>>>,
    pub events: Option<Read<Vec<EventMeta>>>,
}

/// The destination's facts by type.
#[derive(Clone, Debug, PartialEq)]
pub enum DestinationFacts {
    S3(S3Facts),
    Cwl(CwlFacts),
    Firehose {
        arn: String,
    },
    /// A destination verify cannot read from the flow log's account and region: a log group of
    /// another account or region, or a destination type this build does not know.
    Unreadable {
        description: String,
    },
}

/// One flow log's whole input to the ladder.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub subject: Subject,
    pub destination: DestinationFacts,
}

/// Freshness thresholds and the evidence window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Newest delivery older than this is stale (S3 default 15 min, CloudWatch 10 min).
    pub max_age_s3: i64,
    pub max_age_cwl: i64,
    /// A flow log younger than this with nothing delivered yet is waiting (S3 10 min, CW 5 min).
    pub first_window_s3: i64,
    pub first_window_cwl: i64,
    /// Deliveries before `now - since` are not evidence (None: since creation).
    pub since: Option<i64>,
}

impl Thresholds {
    /// AWS documents ~10 min for S3 and ~5 min for CloudWatch Logs between a record and its
    /// delivery; the default staleness threshold leaves 5 minutes on top of that.
    pub fn defaults() -> Self {
        Thresholds {
            max_age_s3: 15 * 60,
            max_age_cwl: 10 * 60,
            first_window_s3: 10 * 60,
            first_window_cwl: 5 * 60,
            since: None,
        }
    }

    /// `--max-age` overrides both staleness thresholds.
    pub fn with_max_age(mut self, seconds: Option<i64>) -> Self {
        if let Some(s) = seconds {
            self.max_age_s3 = s;
            self.max_age_cwl = s;
        }
        self
    }
}
