//! AWS Organizations: the active accounts the credentials can list, optionally under some OUs.

use std::collections::BTreeSet;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Account, AccountStatus};

use super::error::{AwsError, classify};
use crate::model::AccountId;

/// A Organizations client. The SDK type stays inside `aws`: other modules hold this and call the
/// functions of this module.
#[derive(Clone, Debug)]
pub struct Organizations(Client);

impl Organizations {
    /// Wraps an SDK client (the session's, or a transport mock's in tests).
    pub fn from_client(client: Client) -> Self {
        Organizations(client)
    }
}

/// The organization's id and its active accounts (id, name), sorted by id.
pub struct OrgAccounts {
    pub org_id: String,
    pub accounts: Vec<(AccountId, Option<String>)>,
}

fn active(a: &Account) -> Option<(AccountId, Option<String>)> {
    #[allow(deprecated)]
    let is_active = a.status() == Some(&AccountStatus::Active) || a.status().is_none();
    if !is_active {
        return None;
    }
    AccountId::parse(a.id()?)
        .ok()
        .map(|id| (id, a.name().map(str::to_string)))
}

/// The organization's id (DescribeOrganization), for `aws:SourceOrgID` in verify's request
/// context.
pub async fn organization_id(org: &Organizations) -> Result<Option<String>, AwsError> {
    let desc = org
        .0
        .describe_organization()
        .send()
        .await
        .map_err(|e| classify("organizations:DescribeOrganization", e))?;
    Ok(desc.organization().and_then(|o| o.id()).map(str::to_string))
}

pub async fn list_accounts(org: &Organizations, ous: &[String]) -> Result<OrgAccounts, AwsError> {
    let org = &org.0;
    let desc = org
        .describe_organization()
        .send()
        .await
        .map_err(|e| classify("organizations:DescribeOrganization", e))?;
    let org_id = desc
        .organization()
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_string();
    let mut found = Vec::new();
    if ous.is_empty() {
        let mut pages = org.list_accounts().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("organizations:ListAccounts", e))?;
            found.extend(page.accounts().iter().filter_map(active));
        }
    } else {
        // Walk each OU and its children.
        let mut queue: Vec<String> = ous.to_vec();
        let mut seen = BTreeSet::new();
        while let Some(parent) = queue.pop() {
            if !seen.insert(parent.clone()) {
                continue;
            }
            let mut pages = org
                .list_accounts_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("organizations:ListAccountsForParent", e))?;
                found.extend(page.accounts().iter().filter_map(active));
            }
            let mut pages = org
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(|e| classify("organizations:ListOrganizationalUnitsForParent", e))?;
                queue.extend(
                    page.organizational_units()
                        .iter()
                        .filter_map(|ou| ou.id().map(str::to_string)),
                );
            }
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    Ok(OrgAccounts {
        org_id,
        accounts: found,
    })
}
