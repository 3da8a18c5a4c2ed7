//! Flow-log record formats: the `default` and `all` presets, explicit field lists, and the
//! `${field} ${field}` string AWS stores in `LogFormat`.

use std::fmt;

use serde::Serialize;

/// Number of fields in AWS's default (version 2) format.
const DEFAULT_FIELD_COUNT: usize = 14;

/// Names of every field AWS documents for VPC flow logs, in documentation order (the catalogue
/// lives in the `flowlog` crate, shared with the decoder).
fn vpc_field_names() -> impl Iterator<Item = &'static str> {
    flowlog::field::vpc_fields().iter().map(|f| f.name)
}

/// An ordered list of flow-log field names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct LogFormat(Vec<String>);

impl LogFormat {
    /// AWS's default format: the 14 version-2 fields.
    pub fn default_v2() -> Self {
        LogFormat(
            vpc_field_names()
                .take(DEFAULT_FIELD_COUNT)
                .map(str::to_string)
                .collect(),
        )
    }

    /// Every documented VPC flow-log field.
    pub fn all_fields() -> Self {
        LogFormat(vpc_field_names().map(str::to_string).collect())
    }

    /// An explicit list, each name checked against the VPC fields; duplicates are an error.
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

    /// [`LogFormat::from_aws`] only when every token is `${name}` (AWS's own form); None for
    /// anything else (no braces, glued or comma-separated fields), which flowkeeper cannot
    /// read and so never counts as having any field.
    pub fn parse_aws(s: &str) -> Option<Self> {
        let names: Option<Vec<String>> = s
            .split_whitespace()
            .map(|t| {
                let name = t.strip_prefix("${")?.strip_suffix('}')?;
                let ok = !name.is_empty() && !name.contains(['$', '{', '}', ',']);
                ok.then(|| name.to_string())
            })
            .collect();
        names.filter(|n| !n.is_empty()).map(LogFormat)
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
    vpc_field_names().any(|n| n == name)
}

pub fn known_field_names() -> impl Iterator<Item = &'static str> {
    vpc_field_names()
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
        assert_eq!(LogFormat::all_fields().fields().len(), 40);
        assert_eq!(
            LogFormat::all_fields().fields().last().map(String::as_str),
            Some("reject-reason")
        );
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

    #[test]
    fn regression_a_format_without_braces_is_unparsed() {
        assert!(LogFormat::parse_aws("${version} ${srcaddr}").is_some());
        for bad in [
            "version srcaddr",
            "${version}${srcaddr}",
            "${version},${srcaddr}",
            "",
            "${}",
        ] {
            assert_eq!(LogFormat::parse_aws(bad), None, "{bad}");
        }
    }
}
