//! The flowkeeper.yaml schema: walks the parsed document, turns it into a
//! [`DesiredState`], and records a positioned problem for everything wrong with it. This file
//! holds the top level and the key tables; each section of the file has its own module.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::{Mapping, Value};

use crate::model::log_format::{is_known_field, known_field_names};
use crate::model::regions;
use crate::model::{
    AccountId, AccountSource, AccountSpec, AggregationInterval, CloudWatchDestination, Defaults,
    DesiredState, Destination, Encryption, Exclusion, FileFormat, FlowLogEntry, Lifecycle,
    LogFormat, NameTemplate, OrgSpec, Regions, ResourceKind, S3Destination, S3Options, Selector,
    TrafficType, is_region_name,
};
use yamlcheck::{FileChecker, Path, did_you_mean, type_name};

mod accounts;
mod destinations;
mod entries;

use accounts::*;
use destinations::*;
use entries::*;

/// Retention periods CloudWatch Logs accepts (PutRetentionPolicy).
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// S3 storage classes a lifecycle transition may target.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];
/// The delivery role name used when a CloudWatch destination names none.
pub const DEFAULT_DELIVERY_ROLE: &str = "flowkeeper-delivery";

/// Declares the keys of one YAML mapping as an enum and the list of their spellings in one
/// place, so that the list given to `entries` (for unknown-key hints) and the exhaustive match
/// over the keys cannot drift apart.
macro_rules! mapping_keys {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $name {
            $($variant),+
        }
        impl $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use mapping_keys;

mapping_keys!(TopKey {
    Version => "version",
    Regions => "regions",
    Defaults => "defaults",
    Accounts => "accounts",
    Organization => "organization",
    Destinations => "destinations",
    FlowLogs => "flow_logs",
});
mapping_keys!(AccountKey {
    Id => "id",
    Name => "name",
    RoleArn => "role_arn",
    RoleName => "role_name",
    ExternalId => "external_id",
    Regions => "regions",
});
mapping_keys!(S3Key {
    Type => "type",
    Account => "account",
    Bucket => "bucket",
    Prefix => "prefix",
    Create => "create",
    Region => "region",
    Encryption => "encryption",
    Lifecycle => "lifecycle",
    FileFormat => "file_format",
    HiveCompatiblePartitions => "hive_compatible_partitions",
    PerHourPartition => "per_hour_partition",
});
mapping_keys!(CwlKey {
    Type => "type",
    LogGroup => "log_group",
    RetentionDays => "retention_days",
    KmsKey => "kms_key",
    DeliveryRole => "delivery_role",
});
mapping_keys!(EntryKey {
    Name => "name",
    Resource => "resource",
    Select => "select",
    Exclude => "exclude",
    TrafficType => "traffic_type",
    Destinations => "destinations",
    Format => "format",
    MaxAggregationInterval => "max_aggregation_interval",
    Tags => "tags",
});

pub fn desired_state(root: &Value, c: &mut FileChecker) -> Option<DesiredState> {
    let top = Path::default();
    if root.is_null() {
        c.at_value(
            &top,
            "the config is empty",
            Some("run `flowkeeper init` to write a commented starter file".into()),
        );
        return None;
    }
    let Value::Mapping(m) = root else {
        c.at_value(
            &top,
            "the config must be a mapping with `version`, `destinations` and `flow_logs`",
            None,
        );
        return None;
    };
    let mut regions = Regions::Default;
    let mut defaults = Defaults::default();
    let mut accounts = AccountSource::Current;
    let mut destinations = BTreeMap::new();
    let mut flow_log_values = None;
    // Every destination name written, valid or not, so that references to a destination with
    // its own problems are not reported as undeclared too.
    let declared: BTreeSet<String> = m
        .get("destinations")
        .and_then(Value::as_mapping)
        .map(|d| {
            d.keys()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for (key, v) in c.entries(
        m,
        &top,
        TopKey::NAMES,
        &["version", "destinations", "flow_logs"],
        "the config",
    ) {
        let p = top.key(key);
        let Some(k) = TopKey::parse(key) else {
            continue;
        };
        match k {
            TopKey::Version => {
                if v.as_u64() != Some(1) {
                    c.at_value(
                        &p,
                        "unsupported config version",
                        Some("this flowkeeper reads `version: 1`".into()),
                    );
                }
            }
            TopKey::Regions => regions = regions_value(v, &p, c),
            TopKey::Defaults => defaults = defaults_value(v, &p, c),
            TopKey::Accounts => {
                if m.contains_key("organization") {
                    c.at_key(
                        &p,
                        "`accounts` and `organization` cannot both be given",
                        Some("list accounts explicitly, or take them from the organization".into()),
                    );
                }
                accounts = AccountSource::List {
                    accounts: account_list(v, &p, c),
                };
            }
            TopKey::Organization => {
                if !m.contains_key("accounts") {
                    accounts = AccountSource::Organization(organization(v, &p, c));
                }
            }
            TopKey::Destinations => {
                destinations = destination_map(v, &p, c);
                super::shared::check_shared_destinations(&destinations, v, &p, c);
            }
            TopKey::FlowLogs => flow_log_values = Some((v, p)),
        }
    }
    let flow_logs = flow_log_values
        .map(|(v, p)| entry_list(v, &p, &declared, c))
        .unwrap_or_default();
    Some(DesiredState {
        regions,
        defaults,
        accounts,
        destinations,
        flow_logs,
    })
}

/// `regions: all` or a list.
fn regions_value(v: &Value, path: &Path, c: &mut FileChecker) -> Regions {
    match v {
        Value::String(s) if s == "all" => Regions::All,
        Value::String(s) => {
            c.at_value(
                path,
                format!("`regions` must be `all` or a list of regions, found `{s}`"),
                Some(format!("write `regions: [{s}]` for one region")),
            );
            Regions::Default
        }
        _ => Regions::List(region_list(v, path, c)),
    }
}

fn defaults_value(v: &Value, path: &Path, c: &mut FileChecker) -> Defaults {
    let mut d = Defaults::default();
    let Some(m) = c.mapping(v, path, "`defaults`") else {
        return d;
    };
    for (key, v) in c.entries(m, path, &["role_name", "external_id"], &[], "`defaults`") {
        let p = path.key(key);
        let text = c.string(v, &p, &format!("`{key}`")).map(str::to_string);
        if key == "role_name" {
            d.role_name = text.filter(|n| check_role_name_text(n, &p, c));
        } else {
            d.external_id = text;
        }
    }
    d
}
