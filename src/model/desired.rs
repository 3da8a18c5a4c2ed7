//! The desired state as the user declared it, validated but not yet expanded per target.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::accounts::{AccountSource, Defaults, Regions};
use super::flow_log::{S3Options, TrafficType};
use super::log_format::LogFormat;
use super::target::AccountId;
use super::template::NameTemplate;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredState {
    pub regions: Regions,
    pub defaults: Defaults,
    pub accounts: AccountSource,
    pub destinations: BTreeMap<String, Destination>,
    pub flow_logs: Vec<FlowLogEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Destination {
    S3(S3Destination),
    CloudwatchLogs(CloudWatchDestination),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct S3Destination {
    pub bucket: NameTemplate,
    /// The account that owns the bucket when it is not the account whose flow logs deliver to
    /// it (a central log archive).
    pub account: Option<AccountId>,
    /// Folder inside the bucket, without leading or trailing `/`.
    pub prefix: Option<String>,
    /// Create the bucket and manage its settings; when false the bucket must exist and only the
    /// log-delivery policy statements are merged into it.
    pub create: bool,
    /// Region a created bucket lives in; default: the target's region.
    pub region: Option<String>,
    pub encryption: Encryption,
    pub lifecycle: Option<Lifecycle>,
    pub options: S3Options,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    SseS3,
    Kms { kms_key: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub transition_days: Option<u32>,
    pub storage_class: Option<String>,
    pub expire_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CloudWatchDestination {
    pub log_group: NameTemplate,
    pub retention_days: Option<i32>,
    pub kms_key: Option<NameTemplate>,
    pub delivery_role: NameTemplate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Vpc,
    Subnet,
    NetworkInterface,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 3] = [
        ResourceKind::Vpc,
        ResourceKind::Subnet,
        ResourceKind::NetworkInterface,
    ];

    /// The config spelling (`vpc`, `subnet`, `network-interface`).
    pub fn config_name(self) -> &'static str {
        match self {
            ResourceKind::Vpc => "vpc",
            ResourceKind::Subnet => "subnet",
            ResourceKind::NetworkInterface => "network-interface",
        }
    }

    /// The EC2 API `ResourceType` value for CreateFlowLogs.
    pub fn api_name(self) -> &'static str {
        match self {
            ResourceKind::Vpc => "VPC",
            ResourceKind::Subnet => "Subnet",
            ResourceKind::NetworkInterface => "NetworkInterface",
        }
    }

    pub fn from_config_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.config_name() == s)
    }

    /// The resource-kind of an EC2 id by its prefix.
    pub fn of_id(id: &str) -> Option<Self> {
        if id.starts_with("vpc-") {
            Some(ResourceKind::Vpc)
        } else if id.starts_with("subnet-") {
            Some(ResourceKind::Subnet)
        } else if id.starts_with("eni-") {
            Some(ResourceKind::NetworkInterface)
        } else {
            None
        }
    }
}

/// Which resources an entry covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selector {
    All,
    Ids(BTreeSet<String>),
    Tags(BTreeMap<String, String>),
}

/// Resources left out of an entry: by id, or carrying every listed tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub ids: BTreeSet<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowLogEntry {
    pub name: String,
    pub resource: ResourceKind,
    pub select: Selector,
    pub exclude: Exclusion,
    pub traffic_type: TrafficType,
    pub destinations: Vec<String>,
    pub format: LogFormat,
    pub max_aggregation_interval: super::flow_log::AggregationInterval,
    pub tags: BTreeMap<String, String>,
}

/// True when every `(key, value)` in `wanted` is among `tags`.
pub fn tags_match(wanted: &BTreeMap<String, String>, tags: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
}

impl FlowLogEntry {
    /// Whether a resource of this entry's kind with `id` and `tags` is covered by it.
    pub fn selects(&self, id: &str, tags: &BTreeMap<String, String>) -> bool {
        let chosen = match &self.select {
            Selector::All => true,
            Selector::Ids(ids) => ids.contains(id),
            Selector::Tags(wanted) => tags_match(wanted, tags),
        };
        let excluded = self.exclude.ids.contains(id)
            || (!self.exclude.tags.is_empty() && tags_match(&self.exclude.tags, tags));
        chosen && !excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(select: Selector, exclude: Exclusion) -> FlowLogEntry {
        FlowLogEntry {
            name: "e".into(),
            resource: ResourceKind::Vpc,
            select,
            exclude,
            traffic_type: TrafficType::All,
            destinations: vec!["d".into()],
            format: LogFormat::default_v2(),
            max_aggregation_interval: crate::model::AggregationInterval::TenMinutes,
            tags: BTreeMap::new(),
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selection_by_tags_honours_exclusions() {
        let e = entry(
            Selector::Tags(tags(&[("env", "prod")])),
            Exclusion {
                ids: ["vpc-2".to_string()].into(),
                tags: tags(&[("flowkeeper", "skip")]),
            },
        );
        assert!(e.selects("vpc-1", &tags(&[("env", "prod")])));
        assert!(!e.selects("vpc-1", &tags(&[("env", "dev")])));
        assert!(!e.selects("vpc-2", &tags(&[("env", "prod")])));
        assert!(!e.selects("vpc-3", &tags(&[("env", "prod"), ("flowkeeper", "skip")])));
    }

    #[test]
    fn kinds_from_ids() {
        assert_eq!(ResourceKind::of_id("vpc-0a"), Some(ResourceKind::Vpc));
        assert_eq!(
            ResourceKind::of_id("eni-0a"),
            Some(ResourceKind::NetworkInterface)
        );
        assert_eq!(ResourceKind::of_id("sg-0a"), None);
    }
}
