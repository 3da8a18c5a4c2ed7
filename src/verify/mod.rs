//! Verify: per flow log, the delivery ladder (status, destination, permissions, evidence,
//! shape, freshness) evaluated from what was read. The rungs are pure functions of [`Facts`]
//! and `now` (one file per rung); [`read`] does the bounded reads; [`scope`] picks the flow
//! logs; `commands::verify` sequences them and renders.

pub mod check;
pub mod destination;
pub mod duration;
pub mod evidence;
pub mod explain;
pub mod facts;
pub mod fixes;
pub mod freshness;
pub mod key_state;
pub mod ladder;
pub mod outcome;
pub mod permissions_cwl;
pub mod permissions_s3;
pub mod read;
pub mod report;
pub mod scope;
pub mod shape;
pub mod status;

#[cfg(test)]
mod rung_tests;
#[cfg(test)]
mod testing;

pub use facts::{Facts, Thresholds};
