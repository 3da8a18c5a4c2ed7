//! Which accounts and regions the config covers: an explicit account list, the accounts of an
//! AWS Organization, or (neither) the account of the current credentials.

use std::collections::BTreeSet;

use serde::Serialize;

use super::target::AccountId;

/// `regions:` in the config (top level or per account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regions {
    /// Not given: the region of the credentials' configuration (`--region`, `AWS_REGION`).
    Default,
    /// `all`: the regions enabled in each account (ec2:DescribeRegions).
    All,
    List(Vec<String>),
}

impl Regions {
    /// The first region of a list (the fallback region when none is set); None otherwise.
    pub fn first_listed(&self) -> Option<String> {
        match self {
            Regions::List(list) => list.first().cloned(),
            Regions::Default | Regions::All => None,
        }
    }
}

/// `defaults:` applied to every account that does not say otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Defaults {
    pub role_name: Option<String>,
    pub external_id: Option<String>,
}

/// One entry of `accounts:`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountSpec {
    pub id: AccountId,
    pub name: Option<String>,
    pub role_arn: Option<String>,
    pub role_name: Option<String>,
    pub external_id: Option<String>,
    pub regions: Option<Regions>,
}

/// `organization:`: the active accounts of the AWS Organization the credentials can list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrgSpec {
    /// When not empty, only these accounts.
    pub include: BTreeSet<AccountId>,
    pub exclude: BTreeSet<AccountId>,
    /// When not empty, only accounts under these organizational units (recursively).
    pub ous: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum AccountSource {
    /// The account of the current credentials.
    Current,
    List {
        accounts: Vec<AccountSpec>,
    },
    Organization(OrgSpec),
}

/// How flowkeeper gets credentials for an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Access {
    /// The credentials flowkeeper runs with.
    Caller,
    AssumeRole {
        role_arn: String,
        external_id: Option<String>,
    },
}

/// One account to work on, with how to reach it and which regions to cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountTarget {
    pub account: AccountId,
    pub name: Option<String>,
    pub access: Access,
    pub regions: Regions,
    /// False for an account that only hosts a central destination (a log archive not listed
    /// among the accounts whose VPCs are logged).
    pub logs_flows: bool,
}

impl AccountTarget {
    /// `prod (111111111111)` or `111111111111`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} ({})", self.account),
            None => self.account.to_string(),
        }
    }
}

/// How to reach `id`: the caller needs no role; otherwise an explicit ARN, a role name, or the
/// default role name. None when no role is known for an account that is not the caller's.
pub fn access_for(
    id: &AccountId,
    caller: &AccountId,
    partition: &str,
    role_arn: Option<&str>,
    role_name: Option<&str>,
    external_id: Option<&str>,
    defaults: &Defaults,
) -> Option<Access> {
    let external_id = external_id
        .or(defaults.external_id.as_deref())
        .map(str::to_string);
    if let Some(arn) = role_arn {
        return Some(Access::AssumeRole {
            role_arn: arn.to_string(),
            external_id,
        });
    }
    if let Some(name) = role_name {
        return Some(Access::AssumeRole {
            role_arn: format!("arn:{partition}:iam::{id}:role/{name}"),
            external_id,
        });
    }
    if id == caller {
        return Some(Access::Caller);
    }
    defaults.role_name.as_ref().map(|name| Access::AssumeRole {
        role_arn: format!("arn:{partition}:iam::{id}:role/{name}"),
        external_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).unwrap()
    }

    #[test]
    fn access_prefers_explicit_role_then_name_then_caller_then_default() {
        let caller = id("111111111111");
        let other = id("222222222222");
        let defaults = Defaults {
            role_name: Some("FlowkeeperAdmin".into()),
            external_id: Some("x".into()),
        };
        assert_eq!(
            access_for(&caller, &caller, "aws", None, None, None, &defaults),
            Some(Access::Caller)
        );
        assert_eq!(
            access_for(&other, &caller, "aws", None, None, None, &defaults),
            Some(Access::AssumeRole {
                role_arn: "arn:aws:iam::222222222222:role/FlowkeeperAdmin".into(),
                external_id: Some("x".into())
            })
        );
        assert_eq!(
            access_for(
                &other,
                &caller,
                "aws",
                Some("arn:aws:iam::222222222222:role/Audit"),
                None,
                Some("e"),
                &defaults
            ),
            Some(Access::AssumeRole {
                role_arn: "arn:aws:iam::222222222222:role/Audit".into(),
                external_id: Some("e".into())
            })
        );
        assert_eq!(
            access_for(
                &other,
                &caller,
                "aws",
                None,
                None,
                None,
                &Defaults::default()
            ),
            None
        );
    }
}
