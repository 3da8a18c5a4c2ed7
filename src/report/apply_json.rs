//! Apply result as JSON: the plans that were executed and each change's outcome.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::plan_json::{self, Item, PlanDocument};
use crate::apply::{ApplyReport, Outcome, Status};
use crate::plan::{Plan, Problem};
use crate::targets::TargetFailure;

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
    outcomes: Vec<Item<'a, Outcome>>,
}

pub fn render_all(
    plans: &[&Plan],
    reports: &[(String, ApplyReport)],
    failures: &[TargetFailure],
    run_problems: &[Problem],
) -> String {
    let count = |pred: &dyn Fn(&Status) -> bool| reports.iter().map(|(_, r)| r.count(pred)).sum();
    let doc = ApplyDocument {
        schema_version: SCHEMA_VERSION,
        plan: plan_json::document(plans, failures, run_problems),
        result: Counts {
            done: count(&|s| *s == Status::Done),
            failed: count(&|s| matches!(s, Status::Failed { .. })),
            skipped: count(&|s| matches!(s, Status::Skipped { .. })),
        },
        outcomes: reports
            .iter()
            .flat_map(|(a, r)| {
                r.outcomes.iter().map(move |item| Item {
                    account: a.as_str(),
                    item,
                })
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).expect("apply report serializes") + "\n"
}
