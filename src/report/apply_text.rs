//! Human summary after apply.

use std::fmt::Write;

use crate::apply::{ApplyReport, Status};

pub fn render(report: &ApplyReport) -> String {
    let done = report.count(|s| *s == Status::Done);
    let failed = report.count(|s| matches!(s, Status::Failed { .. }));
    let skipped = report.count(|s| matches!(s, Status::Skipped { .. }));
    let mut out = String::new();
    if failed + skipped > 0 {
        let _ = writeln!(out, "\nNot completed:");
        for o in report.outcomes.iter().filter(|o| o.status != Status::Done) {
            let region = o.region.as_deref().unwrap_or("account-wide");
            let subject = &o.subject;
            match &o.status {
                Status::Failed { error, hint } => {
                    let _ = writeln!(out, "  {region} {} {subject}: failed: {error}", o.action.symbol());
                    if let Some(h) = hint {
                        let _ = writeln!(out, "      hint: {h}");
                    }
                }
                Status::Skipped { reason } => {
                    let _ = writeln!(out, "  {region} {} {subject}: skipped: {reason}", o.action.symbol());
                }
                Status::Done => {}
            }
        }
    }
    let _ = writeln!(out, "\nApply finished: {done} done, {failed} failed, {skipped} skipped.");
    out
}
