//! Human summary after apply: one table row per change with its result, then the counts.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::apply::{ApplyReport, Status};

pub fn render(report: &ApplyReport) -> String {
    let done = report.count(|s| *s == Status::Done);
    let failed = report.count(|s| matches!(s, Status::Failed { .. }));
    let skipped = report.count(|s| matches!(s, Status::Skipped { .. }));
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(["region", "change", "resource", "result"]);
    for o in &report.outcomes {
        let result = match &o.status {
            Status::Done => "done".to_string(),
            Status::Failed { error, hint } => match hint {
                Some(h) => format!("FAILED: {error}\nhint: {h}"),
                None => format!("FAILED: {error}"),
            },
            Status::Skipped { reason } => format!("skipped: {reason}"),
        };
        table.add_row([
            o.region.as_deref().unwrap_or("account-wide"),
            o.action.symbol(),
            &o.subject,
            &result,
        ]);
    }
    let mut out = String::new();
    let _ = writeln!(out, "\n{table}");
    let _ = writeln!(
        out,
        "Apply finished: {done} done, {failed} failed, {skipped} skipped."
    );
    out
}
