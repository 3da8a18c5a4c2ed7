//! Verify: per flow log, the delivery ladder (status, destination, permissions, evidence,
//! shape, freshness) evaluated from what was read. Pure where it can be; `commands::verify`
//! reads AWS and renders.

pub mod report;
