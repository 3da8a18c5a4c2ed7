//! Apply result as JSON: the plan that was executed and each change's outcome.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::plan_json::{self, PlanDocument};
use crate::apply::{ApplyReport, Outcome, Status};
use crate::plan::Plan;

#[derive(Serialize)]
struct Counts {
    done: usize,
    failed: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct ApplyDocument<'a> {
    schema_version: u32,
    plan: PlanDocument<'a>,
    result: Counts,
    outcomes: &'a [Outcome],
}

pub fn render(plan: &Plan, report: &ApplyReport) -> String {
    let doc = ApplyDocument {
        schema_version: SCHEMA_VERSION,
        plan: plan_json::document(plan),
        result: Counts {
            done: report.count(|s| *s == Status::Done),
            failed: report.count(|s| matches!(s, Status::Failed { .. })),
            skipped: report.count(|s| matches!(s, Status::Skipped { .. })),
        },
        outcomes: &report.outcomes,
    };
    serde_json::to_string_pretty(&doc).expect("apply report serializes") + "\n"
}
