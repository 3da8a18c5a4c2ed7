//! Human summary after apply: one table row per change with its result, then the counts.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::apply::{ApplyReport, Status};

pub fn render_all(reports: &[(String, ApplyReport)]) -> String {
    let count = |pred: &dyn Fn(&Status) -> bool| -> usize {
        reports.iter().map(|(_, r)| r.count(pred)).sum()
    };
    let done = count(&|s| *s == Status::Done);
    let failed = count(&|s| matches!(s, Status::Failed { .. }));
    let skipped = count(&|s| matches!(s, Status::Skipped { .. }));
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(140)
        .set_header(["account", "region", "change", "resource", "result"]);
    for (account, report) in reports {
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
                account.as_str(),
                o.region.as_deref().unwrap_or("account-wide"),
                o.action.symbol(),
                &o.subject,
                &result,
            ]);
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "\n{table}");
    let _ = writeln!(
        out,
        "Apply finished: {done} done, {failed} failed, {skipped} skipped."
    );
    out
}
