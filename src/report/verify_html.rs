//! Verify's report as one self-contained HTML page. PLACEHOLDER by ve so that `--format html`
//! dispatches here; vt (branch h-vt) replaces this file with the real renderer.

use crate::verify::report::VerifyReport;

pub fn render(report: &VerifyReport) -> String {
    let json = super::verify_json::render(report);
    let escaped = json
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>flowkeeper verify</title><pre>{escaped}</pre>\n"
    )
}
