//! What a flow log must be to count: traffic type, approved destination types and destinations,
//! required fields and the longest aggregation interval. Built from a config entry and one of its
//! destinations (the planner and audit's config mode) or from a baseline (audit).

use std::collections::BTreeSet;
use std::fmt;

use crate::model::{AggregationInterval, FlowLogDestination, FlowLogEntry, TrafficType};

/// A flow-log destination type, as DescribeFlowLogs spells it (`LogDestinationType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DestinationType {
    S3,
    CloudWatchLogs,
    KinesisDataFirehose,
}

impl DestinationType {
    pub const ALL: [DestinationType; 3] = [
        DestinationType::S3,
        DestinationType::CloudWatchLogs,
        DestinationType::KinesisDataFirehose,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DestinationType::S3 => "s3",
            DestinationType::CloudWatchLogs => "cloud-watch-logs",
            DestinationType::KinesisDataFirehose => "kinesis-data-firehose",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
    /// The type of `d`; None for a type this build does not know.
    pub fn of(d: &FlowLogDestination) -> Option<Self> {
        match d {
            FlowLogDestination::S3 { .. } => Some(DestinationType::S3),
            FlowLogDestination::CloudwatchLogs { .. } => Some(DestinationType::CloudWatchLogs),
            FlowLogDestination::KinesisDataFirehose { .. } => {
                Some(DestinationType::KinesisDataFirehose)
            }
            FlowLogDestination::Other { .. } => None,
        }
    }
}

impl fmt::Display for DestinationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which destinations are approved: any, or those matching one of a set of patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approved {
    Any,
    /// Destination locations (S3 ARN, log-group name, Firehose ARN); `*` matches any run of
    /// characters, and an S3 ARN without a folder also approves every folder of that bucket.
    Patterns(BTreeSet<String>),
}

impl Approved {
    pub fn admits(&self, location: &str) -> bool {
        match self {
            Approved::Any => true,
            Approved::Patterns(p) => p.iter().any(|p| location_matches(p, location)),
        }
    }

    /// Whether a flow log of `home` (account, region) delivering to `d` may: a log group of its
    /// own account and region matches by name or by ARN; one elsewhere only by its ARN (a bare
    /// name never approves another account's or region's log group).
    pub fn admits_destination(&self, d: &FlowLogDestination, home: Option<(&str, &str)>) -> bool {
        self.admits(d.location())
            || home.is_some_and(|(account, region)| self.admits(&d.full_location(account, region)))
    }
}

/// Whether `location` matches the approved `pattern` (see [`Approved::Patterns`]).
pub fn location_matches(pattern: &str, location: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    if glob(pattern, location) {
        return true;
    }
    // arn:aws:s3:::bucket approves arn:aws:s3:::bucket/folder.
    pattern.starts_with("arn:")
        && pattern.contains(":s3:::")
        && !pattern.contains('/')
        && location
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `*`-only glob, linear in practice for the short patterns written by people.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// What a flow log must satisfy to count for a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub traffic: TrafficType,
    pub destinations: Approved,
    pub destination_types: BTreeSet<DestinationType>,
    pub required_fields: Vec<String>,
    /// The longest aggregation interval allowed; None = any.
    pub max_interval: Option<AggregationInterval>,
}

impl Requirement {
    /// The requirement a config entry sets with one of its destinations: its traffic type,
    /// exactly that destination, its format's fields and its interval as the limit.
    pub fn for_entry(entry: &FlowLogEntry, destination: &FlowLogDestination) -> Requirement {
        Requirement {
            traffic: entry.traffic_type,
            destinations: Approved::Patterns([destination.location().to_string()].into()),
            destination_types: DestinationType::of(destination).into_iter().collect(),
            required_fields: entry.format.fields().to_vec(),
            max_interval: Some(entry.max_aggregation_interval),
        }
    }

    /// The same, from a planned flow log's settings.
    pub fn for_settings(s: &crate::model::FlowLogSettings) -> Requirement {
        Requirement {
            traffic: s.traffic_type,
            destinations: Approved::Patterns([s.destination.location().to_string()].into()),
            destination_types: DestinationType::of(&s.destination).into_iter().collect(),
            required_fields: s.log_format.fields().to_vec(),
            max_interval: Some(s.max_aggregation_interval),
        }
    }
}

/// Whether a flow log capturing `have` captures what `need` asks for: ALL satisfies everything;
/// ACCEPT and REJECT satisfy only themselves.
pub fn traffic_satisfies(have: TrafficType, need: TrafficType) -> bool {
    have == TrafficType::All || have == need
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_rules() {
        use TrafficType::*;
        assert!(traffic_satisfies(All, Reject));
        assert!(traffic_satisfies(All, Accept));
        assert!(traffic_satisfies(All, All));
        assert!(traffic_satisfies(Reject, Reject));
        assert!(!traffic_satisfies(Accept, Reject));
        assert!(!traffic_satisfies(Reject, Accept));
        assert!(!traffic_satisfies(Reject, All));
        assert!(!traffic_satisfies(Accept, All));
    }

    #[test]
    fn approved_locations() {
        assert!(location_matches("arn:aws:s3:::logs", "arn:aws:s3:::logs"));
        assert!(location_matches(
            "arn:aws:s3:::logs",
            "arn:aws:s3:::logs/vpc"
        ));
        assert!(location_matches(
            "arn:aws:s3:::logs/",
            "arn:aws:s3:::logs/vpc"
        ));
        assert!(!location_matches(
            "arn:aws:s3:::logs",
            "arn:aws:s3:::logs-other"
        ));
        assert!(!location_matches(
            "arn:aws:s3:::logs/vpc",
            "arn:aws:s3:::logs"
        ));
        assert!(location_matches(
            "arn:aws:s3:::acme-*",
            "arn:aws:s3:::acme-1/x"
        ));
        assert!(location_matches("/flowkeeper/*", "/flowkeeper/vpc"));
        assert!(!location_matches("/flowkeeper/*", "/other/vpc"));
        assert!(location_matches("a*b*c", "aXbYc"));
        assert!(!location_matches("a*b*c", "aXcYb"));
        assert!(!location_matches("ab*ba", "aba"));
        assert!(Approved::Any.admits("anything"));
    }
}
