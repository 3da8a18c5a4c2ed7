//! Audit: from an inventory of whole regions and a requirement (config entries or a baseline)
//! to one verdict per resource. Pure: no I/O; `commands::audit` reads AWS and renders.

pub mod baseline;
pub mod evaluate;
pub mod fix;
pub mod report;
pub mod selection;

pub use evaluate::{Held, Options, Scope, evaluate_region, evaluate_region_with};

use crate::exit::ExitStatus;
use report::{AuditReport, Status};

/// 1 when part of the run could not be audited, else 2 when anything in scope is
/// non-compliant (shared, unused and out-of-scope resources never fail), else 0.
pub fn exit_status(report: &AuditReport) -> ExitStatus {
    if !report.errors.is_empty() {
        ExitStatus::Failure
    } else if report
        .resources
        .iter()
        .any(|r| r.status == Status::NonCompliant)
    {
        ExitStatus::ActionNeeded
    } else {
        ExitStatus::Clean
    }
}

/// Held requirement for a baseline.
pub fn baseline_held(b: &baseline::Baseline) -> Held {
    Held {
        label: None,
        name: b.name.clone(),
        requirement: b.requirement.clone(),
        controls: b.controls.clone(),
    }
}
