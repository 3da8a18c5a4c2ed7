//! The plan as one JSON document: `schema_version`, `account`, `summary` counts, `changes`
//! (sorted), `covered`, `prunable` and `problems`.

use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::plan::{Change, Covered, Plan, Problem, Summary};

#[derive(Serialize)]
pub struct PlanDocument<'a> {
    pub schema_version: u32,
    pub account: &'a str,
    pub summary: Summary,
    pub changes: &'a [Change],
    pub covered: &'a [Covered],
    pub prunable: &'a [String],
    pub problems: &'a [Problem],
}

pub fn document(plan: &Plan) -> PlanDocument<'_> {
    PlanDocument {
        schema_version: SCHEMA_VERSION,
        account: plan.account.as_str(),
        summary: plan.summary(),
        changes: &plan.changes,
        covered: &plan.covered,
        prunable: &plan.prunable,
        problems: &plan.problems,
    }
}

pub fn render(plan: &Plan) -> String {
    serde_json::to_string_pretty(&document(plan)).expect("plan serializes") + "\n"
}
