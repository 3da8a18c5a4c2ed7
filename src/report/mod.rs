//! Renderers: one per output format. They turn result values into text for stdout and never
//! decide anything; the exit status is derived from the results by `commands`.

pub mod analysis_html;
pub mod analysis_json;
pub mod analysis_ocsf;
pub mod analysis_table;
pub mod analysis_view;
pub mod apply_json;
pub mod apply_text;
pub mod audit_csv;
pub mod audit_html;
pub mod audit_json;
pub mod audit_ocsf;
pub mod audit_table;
pub mod ocsf;
pub mod plan_json;
pub mod plan_text;
pub mod verify_html;
pub mod verify_json;
pub mod verify_table;

/// Version of every JSON document flowkeeper prints (analyze's has its own,
/// [`analysis_json::SCHEMA_VERSION`]); bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;
