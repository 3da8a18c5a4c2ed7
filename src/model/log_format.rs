//! Flow-log record formats: the `default` and `all` presets, explicit field lists, and the
//! `${field} ${field}` string AWS stores in `LogFormat`.

use std::fmt;

use serde::Serialize;

/// Every field AWS documents for VPC flow logs, in documentation order, with the record
/// version it first appeared in.
pub const VPC_FIELDS: &[(&str, u8)] = &[
    ("version", 2),
    ("account-id", 2),
    ("interface-id", 2),
    ("srcaddr", 2),
    ("dstaddr", 2),
    ("srcport", 2),
    ("dstport", 2),
    ("protocol", 2),
    ("packets", 2),
    ("bytes", 2),
    ("start", 2),
    ("end", 2),
    ("action", 2),
    ("log-status", 2),
    ("vpc-id", 3),
    ("subnet-id", 3),
    ("instance-id", 3),
    ("tcp-flags", 3),
    ("type", 3),
    ("pkt-srcaddr", 3),
    ("pkt-dstaddr", 3),
    ("region", 4),
    ("az-id", 4),
    ("sublocation-type", 4),
    ("sublocation-id", 4),
    ("pkt-src-aws-service", 5),
    ("pkt-dst-aws-service", 5),
    ("flow-direction", 5),
    ("traffic-path", 5),
    ("ecs-cluster-arn", 7),
    ("ecs-cluster-name", 7),
    ("ecs-container-instance-arn", 7),
    ("ecs-container-instance-id", 7),
    ("ecs-container-id", 7),
    ("ecs-second-container-id", 7),
    ("ecs-service-name", 7),
    ("ecs-task-definition-arn", 7),
    ("ecs-task-arn", 7),
    ("ecs-task-id", 7),
    ("reject-reason", 8),
];

/// Number of fields in AWS's default (version 2) format.
const DEFAULT_FIELD_COUNT: usize = 14;

/// An ordered list of flow-log field names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct LogFormat(Vec<String>);

impl LogFormat {
    /// AWS's default format: the 14 version-2 fields.
    pub fn default_v2() -> Self {
        LogFormat(
            VPC_FIELDS[..DEFAULT_FIELD_COUNT]
                .iter()
                .map(|(n, _)| n.to_string())
                .collect(),
        )
    }

    /// Every documented VPC flow-log field.
    pub fn all_fields() -> Self {
        LogFormat(VPC_FIELDS.iter().map(|(n, _)| n.to_string()).collect())
    }

    /// An explicit list, each name checked against [`VPC_FIELDS`]; duplicates are an error.
    pub fn from_fields<S: AsRef<str>>(fields: &[S]) -> Result<Self, FieldError> {
        let mut out: Vec<String> = Vec::with_capacity(fields.len());
        for (index, f) in fields.iter().enumerate() {
            let f = f.as_ref();
            if !is_known_field(f) {
                return Err(FieldError::Unknown {
                    index,
                    name: f.to_string(),
                });
            }
            if out.iter().any(|o| o == f) {
                return Err(FieldError::Duplicate {
                    index,
                    name: f.to_string(),
                });
            }
            out.push(f.to_string());
        }
        if out.is_empty() {
            return Err(FieldError::Empty);
        }
        Ok(LogFormat(out))
    }

    /// Parses AWS's `LogFormat` string (`${version} ${srcaddr} ...`); unknown names are kept so
    /// that a format written by someone else still compares correctly.
    pub fn from_aws(s: &str) -> Self {
        LogFormat(
            s.split_whitespace()
                .map(|t| t.trim_start_matches("${").trim_end_matches('}').to_string())
                .collect(),
        )
    }

    /// The `LogFormat` string for CreateFlowLogs.
    pub fn to_aws(&self) -> String {
        self.0
            .iter()
            .map(|f| format!("${{{f}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn fields(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == LogFormat::default_v2() {
            f.write_str("default")
        } else if *self == LogFormat::all_fields() {
            f.write_str("all")
        } else {
            f.write_str(&self.0.join(" "))
        }
    }
}

pub fn is_known_field(name: &str) -> bool {
    VPC_FIELDS.iter().any(|(n, _)| *n == name)
}

pub fn known_field_names() -> impl Iterator<Item = &'static str> {
    VPC_FIELDS.iter().map(|(n, _)| *n)
}

#[derive(Debug, PartialEq, Eq)]
pub enum FieldError {
    Unknown { index: usize, name: String },
    Duplicate { index: usize, name: String },
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_string_round_trips() {
        let f = LogFormat::all_fields();
        assert_eq!(LogFormat::from_aws(&f.to_aws()), f);
        assert!(
            LogFormat::default_v2()
                .to_aws()
                .starts_with("${version} ${account-id}")
        );
        assert_eq!(LogFormat::default_v2().fields().len(), 14);
    }

    #[test]
    fn presets_display_by_name() {
        assert_eq!(LogFormat::default_v2().to_string(), "default");
        assert_eq!(LogFormat::all_fields().to_string(), "all");
        assert_eq!(
            LogFormat::from_fields(&["srcaddr", "dstaddr"])
                .unwrap()
                .to_string(),
            "srcaddr dstaddr"
        );
    }

    #[test]
    fn explicit_lists_are_checked() {
        assert_eq!(
            LogFormat::from_fields(&["version", "src-addr"]),
            Err(FieldError::Unknown {
                index: 1,
                name: "src-addr".into()
            })
        );
        assert_eq!(
            LogFormat::from_fields(&["bytes", "bytes"]),
            Err(FieldError::Duplicate {
                index: 1,
                name: "bytes".into()
            })
        );
        assert_eq!(LogFormat::from_fields::<&str>(&[]), Err(FieldError::Empty));
    }
}
