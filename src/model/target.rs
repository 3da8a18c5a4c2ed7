//! Account ids and region names, and the ARN partition a region belongs to.

use std::fmt;

use serde::Serialize;

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(format!("`{s}` is not a 12-digit AWS account id"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ARN partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// True when `s` looks like an AWS region name (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`).
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
    }

    #[test]
    fn region_names_and_partitions() {
        assert!(is_region_name("us-east-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("us-east"));
        assert!(!is_region_name("US-east-1"));
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("eu-west-1"), "aws");
    }
}
