//! The plans of a run as one JSON document: `schema_version`, `summary` counts, `accounts`
//! (planned or failed), and `changes`, `covered`, `prunable`, `problems`, each item carrying its
//! `account`; sorted by account, then as each plan orders them.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::plan_text::total;
use crate::plan::{Change, Covered, Plan, Problem, Prunable, Summary};
use crate::targets::TargetFailure;

/// An item of one account's plan, with the account added.
#[derive(Serialize)]
pub struct Item<'a, T: Serialize> {
    pub account: &'a str,
    #[serde(flatten)]
    pub item: &'a T,
}

#[derive(Serialize)]
pub struct AccountStatus {
    pub account: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

#[derive(Serialize)]
pub struct PlanDocument<'a> {
    pub schema_version: u32,
    pub summary: Summary,
    pub accounts: Vec<AccountStatus>,
    pub changes: Vec<Item<'a, Change>>,
    pub covered: Vec<Item<'a, Covered>>,
    pub prunable: Vec<Item<'a, Prunable>>,
    pub problems: Vec<Item<'a, Problem>>,
}

fn items<'a, T: Serialize>(
    plans: &[&'a Plan],
    pick: impl Fn(&'a Plan) -> &'a [T],
) -> Vec<Item<'a, T>> {
    plans
        .iter()
        .flat_map(|p| {
            pick(p).iter().map(move |item| Item {
                account: p.account.as_str(),
                item,
            })
        })
        .collect()
}

/// `run_problems` concern the run as a whole; their items carry `"account": "*"`.
pub fn document<'a>(
    plans: &[&'a Plan],
    failures: &[TargetFailure],
    run_problems: &'a [Problem],
) -> PlanDocument<'a> {
    let mut accounts: Vec<AccountStatus> = plans
        .iter()
        .map(|p| AccountStatus {
            account: Some(p.account.to_string()),
            status: "planned",
            error: None,
            hint: None,
        })
        .collect();
    accounts.extend(failures.iter().map(|f| AccountStatus {
        account: f.account.as_ref().map(|a| a.to_string()),
        status: "failed",
        error: Some(f.error.to_string()),
        hint: f.error.hint(),
    }));
    PlanDocument {
        schema_version: SCHEMA_VERSION,
        summary: total(plans),
        accounts,
        changes: items(plans, |p| &p.changes),
        covered: items(plans, |p| &p.covered),
        prunable: items(plans, |p| &p.prunable),
        problems: run_problems
            .iter()
            .map(|item| Item { account: "*", item })
            .chain(items(plans, |p| &p.problems))
            .collect(),
    }
}

pub fn render_all(plans: &[&Plan], failures: &[TargetFailure], run_problems: &[Problem]) -> String {
    serde_json::to_string_pretty(&document(plans, failures, run_problems)).expect("plan serializes")
        + "\n"
}
