//! Audit: from an inventory of whole regions and a requirement (config entries or a baseline)
//! to one verdict per resource. Pure: no I/O; `commands::audit` reads AWS and renders.

pub mod baseline;
pub mod report;
