//! Flow-log settings, shared by the desired and the actual side so that the planner can compare
//! them field by field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::desired::ResourceKind;
use super::log_format::LogFormat;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TrafficType {
    All,
    Accept,
    Reject,
}

impl TrafficType {
    pub fn api_name(self) -> &'static str {
        match self {
            TrafficType::All => "ALL",
            TrafficType::Accept => "ACCEPT",
            TrafficType::Reject => "REJECT",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ALL" => Some(TrafficType::All),
            "ACCEPT" => Some(TrafficType::Accept),
            "REJECT" => Some(TrafficType::Reject),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    #[default]
    PlainText,
    Parquet,
}

impl FileFormat {
    pub fn api_name(self) -> &'static str {
        match self {
            FileFormat::PlainText => "plain-text",
            FileFormat::Parquet => "parquet",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "plain-text" => Some(FileFormat::PlainText),
            "parquet" => Some(FileFormat::Parquet),
            _ => None,
        }
    }
}

/// S3 delivery options (`DestinationOptions`); AWS's defaults when not given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct S3Options {
    pub file_format: FileFormat,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
}

/// Where a flow log delivers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlowLogDestination {
    S3 {
        /// `arn:<partition>:s3:::bucket` or `arn:...:::bucket/prefix`, never with a trailing `/`.
        arn: String,
        options: S3Options,
    },
    CloudwatchLogs {
        log_group: String,
        role_arn: String,
        /// The log group's ARN (`LogDestination` without `:*`) when it is in another account or
        /// region than the flow log; None = the flow log's own account and region (the only
        /// place flowkeeper ever wants one). See [`FlowLogDestination::localize`].
        #[serde(skip_serializing_if = "Option::is_none")]
        elsewhere: Option<String>,
    },
    /// A Kinesis Data Firehose delivery stream. flowkeeper never creates these, but reads them:
    /// a flow log to Firehose is a flow log (audit may or may not approve its destination).
    KinesisDataFirehose {
        /// The delivery stream's ARN.
        arn: String,
    },
    /// A `LogDestinationType` this build does not know, kept as AWS wrote it: never approved,
    /// never equal to anything flowkeeper wants.
    Other { type_name: String, arn: String },
}

impl FlowLogDestination {
    /// An S3 destination ARN in the canonical form used for comparison.
    pub fn s3_arn(partition: &str, bucket: &str, prefix: Option<&str>) -> String {
        match prefix {
            Some(p) if !p.is_empty() => format!("arn:{partition}:s3:::{bucket}/{p}"),
            _ => format!("arn:{partition}:s3:::{bucket}"),
        }
    }

    /// Removes the trailing `/` AWS accepts on S3 destination ARNs.
    pub fn normalize_s3_arn(arn: &str) -> String {
        arn.trim_end_matches('/').to_string()
    }

    /// Short text for plans and reports.
    pub fn describe(&self) -> String {
        match self {
            FlowLogDestination::S3 { arn, .. } => arn.clone(),
            FlowLogDestination::CloudwatchLogs {
                log_group,
                elsewhere,
                ..
            } => format!("log group {}", elsewhere.as_deref().unwrap_or(log_group)),
            FlowLogDestination::KinesisDataFirehose { arn } => format!("Firehose stream {arn}"),
            FlowLogDestination::Other { type_name, arn } => format!("{type_name} {arn}"),
        }
    }

    /// The destination type as DescribeFlowLogs writes it (`LogDestinationType`).
    pub fn type_name(&self) -> &str {
        match self {
            FlowLogDestination::S3 { .. } => "s3",
            FlowLogDestination::CloudwatchLogs { .. } => "cloud-watch-logs",
            FlowLogDestination::KinesisDataFirehose { .. } => "kinesis-data-firehose",
            FlowLogDestination::Other { type_name, .. } => type_name,
        }
    }

    /// The part that identifies the destination, ignoring delivery options and role: a log
    /// group of the flow log's own account and region by its name, any other by its ARN.
    pub fn location(&self) -> &str {
        match self {
            FlowLogDestination::S3 { arn, .. } => arn,
            FlowLogDestination::CloudwatchLogs {
                log_group,
                elsewhere,
                ..
            } => elsewhere.as_deref().unwrap_or(log_group),
            FlowLogDestination::KinesisDataFirehose { arn } => arn,
            FlowLogDestination::Other { arn, .. } => arn,
        }
    }
}

impl FlowLogDestination {
    /// The full ARN of the destination for a flow log in `account`/`region` (a log group of
    /// that account and region named by its ARN; other destinations are ARNs already).
    pub fn full_location(&self, account: &str, region: &str) -> String {
        match self {
            FlowLogDestination::CloudwatchLogs {
                log_group,
                elsewhere: None,
                ..
            } => log_group_arn(
                super::target::partition_of(region),
                region,
                account,
                log_group,
            ),
            other => other.location().to_string(),
        }
    }

    /// Forgets `elsewhere` when the log group it names is in `account`/`region` after all (AWS
    /// reports `LogDestination` for every CloudWatch Logs flow log), so that a log group of
    /// the flow log's own account and region compares equal to the one the planner wants.
    pub fn localize(&mut self, account: &str, region: &str) {
        if let FlowLogDestination::CloudwatchLogs {
            log_group,
            elsewhere,
            ..
        } = self
            && let Some(arn) = elsewhere
            && log_group_home(arn).is_some_and(|(r, a, name)| {
                r == region && a == account && (log_group.is_empty() || name == log_group)
            })
        {
            if log_group.is_empty()
                && let Some((_, _, name)) = log_group_home(arn)
            {
                *log_group = name.to_string();
            }
            *elsewhere = None;
        }
    }
}

/// `arn:<partition>:logs:<region>:<account>:log-group:<name>`.
pub fn log_group_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:log-group:{name}")
}

/// (region, account, name) of a log-group ARN (a trailing `:*` is ignored).
pub fn log_group_home(arn: &str) -> Option<(&str, &str, &str)> {
    let arn = arn.strip_suffix(":*").unwrap_or(arn);
    let mut parts = arn.splitn(7, ':');
    let (arn_, _partition, service, region, account, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn_ == "arn" && service == "logs" && kind == "log-group").then_some((region, account, name))
}

/// `MaxAggregationInterval`: AWS accepts 60 or 600 seconds and nothing else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AggregationInterval {
    OneMinute,
    #[default]
    TenMinutes,
}

impl AggregationInterval {
    pub fn seconds(self) -> u32 {
        match self {
            AggregationInterval::OneMinute => 60,
            AggregationInterval::TenMinutes => 600,
        }
    }
    pub fn from_seconds(s: u32) -> Option<Self> {
        match s {
            60 => Some(AggregationInterval::OneMinute),
            600 => Some(AggregationInterval::TenMinutes),
            _ => None,
        }
    }
}

impl fmt::Display for AggregationInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds())
    }
}

/// Serialized as AWS writes it: the number of seconds.
impl Serialize for AggregationInterval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.seconds())
    }
}

/// Everything about a flow log that cannot change after creation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FlowLogSettings {
    pub traffic_type: TrafficType,
    pub destination: FlowLogDestination,
    pub log_format: LogFormat,
    pub max_aggregation_interval: AggregationInterval,
    /// Values AWS reported that this build cannot read (only ever on a described flow log);
    /// the typed fields then hold placeholders that must not be trusted.
    #[serde(skip_serializing_if = "Unreadable::is_empty")]
    pub unreadable: Unreadable,
}

/// Raw values of a described flow log that flowkeeper cannot read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Unreadable {
    /// `TrafficType` other than ALL, ACCEPT or REJECT (or none reported).
    pub traffic_type: Option<String>,
    /// `LogFormat` not of the form `${field} ${field} ...`.
    pub log_format: Option<String>,
}

impl Unreadable {
    pub fn is_empty(&self) -> bool {
        self.traffic_type.is_none() && self.log_format.is_none()
    }
}

impl FlowLogSettings {
    /// The attributes that differ from `other`, as (name, self, other) display strings.
    pub fn differences(&self, other: &FlowLogSettings) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        let mut push = |name, a: String, b: String| {
            if a != b {
                out.push((name, a, b));
            }
        };
        push(
            "traffic_type",
            self.traffic_type.api_name().into(),
            other.traffic_type.api_name().into(),
        );
        push(
            "destination",
            self.destination.location().into(),
            other.destination.location().into(),
        );
        push(
            "log_format",
            self.log_format.to_string(),
            other.log_format.to_string(),
        );
        push(
            "max_aggregation_interval",
            self.max_aggregation_interval.to_string(),
            other.max_aggregation_interval.to_string(),
        );
        let unread = |u: &Unreadable| {
            [
                u.traffic_type
                    .as_ref()
                    .map(|t| format!("traffic_type {t:?}")),
                u.log_format.as_ref().map(|f| format!("log_format {f:?}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        };
        push(
            "unreadable",
            unread(&self.unreadable),
            unread(&other.unreadable),
        );
        match (&self.destination, &other.destination) {
            (
                FlowLogDestination::S3 { options: a, .. },
                FlowLogDestination::S3 { options: b, .. },
            ) => {
                push(
                    "file_format",
                    a.file_format.api_name().into(),
                    b.file_format.api_name().into(),
                );
                push(
                    "hive_compatible_partitions",
                    a.hive_compatible_partitions.to_string(),
                    b.hive_compatible_partitions.to_string(),
                );
                push(
                    "per_hour_partition",
                    a.per_hour_partition.to_string(),
                    b.per_hour_partition.to_string(),
                );
            }
            (
                FlowLogDestination::CloudwatchLogs { role_arn: a, .. },
                FlowLogDestination::CloudwatchLogs { role_arn: b, .. },
            ) => push("delivery_role", a.clone(), b.clone()),
            _ => {}
        }
        out
    }
}

/// A flow log flowkeeper wants on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowLogSpec {
    pub resource_id: String,
    pub resource_kind: ResourceKind,
    pub settings: FlowLogSettings,
    pub tags: BTreeMap<String, String>,
    /// The `flow_logs` entry and destination names it comes from.
    pub entry: String,
    pub destination_name: String,
}

impl fmt::Display for FlowLogSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} → {} ({}, {})",
            self.resource_kind.config_name(),
            self.resource_id,
            self.settings.destination.describe(),
            self.settings.traffic_type.api_name(),
            self.entry
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_arns_are_canonical() {
        assert_eq!(
            FlowLogDestination::s3_arn("aws", "b", Some("vpc")),
            "arn:aws:s3:::b/vpc"
        );
        assert_eq!(
            FlowLogDestination::s3_arn("aws", "b", None),
            "arn:aws:s3:::b"
        );
        assert_eq!(
            FlowLogDestination::normalize_s3_arn("arn:aws:s3:::b/vpc/"),
            "arn:aws:s3:::b/vpc"
        );
    }

    #[test]
    fn differences_name_each_attribute() {
        let s3 = |fmt: LogFormat, ff| FlowLogSettings {
            traffic_type: TrafficType::All,
            destination: FlowLogDestination::S3 {
                arn: "arn:aws:s3:::b".into(),
                options: S3Options {
                    file_format: ff,
                    ..Default::default()
                },
            },
            log_format: fmt,
            max_aggregation_interval: AggregationInterval::OneMinute,
            unreadable: Default::default(),
        };
        let a = s3(LogFormat::default_v2(), FileFormat::PlainText);
        let b = s3(LogFormat::all_fields(), FileFormat::Parquet);
        let names: Vec<_> = a.differences(&b).into_iter().map(|d| d.0).collect();
        assert_eq!(names, vec!["log_format", "file_format"]);
        assert!(a.differences(&a.clone()).is_empty());
    }

    #[test]
    fn regression_localize_keeps_only_another_accounts_or_regions_log_group_arn() {
        let cwl = |arn: &str| FlowLogDestination::CloudwatchLogs {
            log_group: "/x".into(),
            role_arn: String::new(),
            elsewhere: Some(arn.into()),
        };
        let mut here = cwl("arn:aws:logs:us-east-1:111122223333:log-group:/x:*");
        here.localize("111122223333", "us-east-1");
        assert_eq!(here.location(), "/x");
        for arn in [
            "arn:aws:logs:us-west-2:111122223333:log-group:/x",
            "arn:aws:logs:us-east-1:999999999999:log-group:/x",
        ] {
            let mut d = cwl(arn);
            d.localize("111122223333", "us-east-1");
            assert_eq!(d.location(), arn);
            assert_eq!(d.describe(), format!("log group {arn}"));
        }
        assert_eq!(
            log_group_home("arn:aws:logs:r:a:log-group:/a:b:*"),
            Some(("r", "a", "/a:b"))
        );
    }
}
