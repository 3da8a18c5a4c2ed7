//! Streaming security detections and traffic reports over decoded VPC flow-log records.
//!
//! Pure: no AWS SDK, no network, no clock. Event time is the records' own `start`/`end`.
//! Load a [`RulePack`] (every threshold, window, severity and allow-list is pack data), build
//! an [`Engine`], [`observe`](Engine::observe) each decoded [`flowlog::FlowRecord`] with the
//! caller's [`Origin`], take findings as windows close ([`Engine::take_final`]) and
//! [`finish`](Engine::finish) for the rest plus [`Reports`]:
//!
//! ```
//! use flowkeeper_analyze::{Engine, Origin, RulePack};
//! use flowlog::Schema;
//!
//! let pack = RulePack::from_yaml(
//!     "version: 1\ndetectors:\n  - {id: burst, detector: reject_burst, severity: low, min_rejects: 2}\n",
//! )
//! .unwrap();
//! let schema = Schema::from_header("srcaddr dstaddr srcport dstport protocol packets bytes start end action").unwrap();
//! let mut engine = Engine::new(&pack);
//! for (i, line) in ["203.0.113.9 10.0.0.5 4000 22 6 1 40 1793491200 1793491201 REJECT",
//!                   "203.0.113.9 10.0.0.6 4000 22 6 1 40 1793491202 1793491203 REJECT"].iter().enumerate() {
//!     engine.observe(&schema.decode(line).unwrap(), Origin::new(0, i as u64 + 2));
//! }
//! let analysis = engine.finish();
//! assert_eq!(analysis.findings.len(), 1);
//! assert_eq!(analysis.findings[0].flows, 2);
//! ```
//!
//! Public modules: [`rules`] (pack loading and errors), [`engine`], [`flow`] (classified
//! records, for callers that decode on several threads), [`finding`],
//! [`reports`], [`addr`] (addresses, CIDRs, internal ranges), [`services`], [`zones`],
//! [`text`] (counted nouns) and [`time`]. Internal: `window` (event-time windows and
//! watermark), `dedupe` (double-ended flows), `detectors` (one file per kind) and `sketch`
//! (bounded counting).
//!
//! # Windows and memory
//!
//! Windows are tumbling, aligned to the Unix epoch, one length per rule. The watermark is the
//! largest record time seen minus `settings.allowed_lateness`; a window closes when the
//! watermark passes its end, its findings become final and its state is dropped. Records for a
//! closed window are counted as late and ignored. A burst that straddles a window boundary is
//! split between two windows. One record far in the future advances the watermark for
//! everyone (there is no clock to tell it is wrong).
//!
//! Memory is bounded whatever the input length: each detector holds at most `max_keys` live
//! keys across its open windows (refusals are counted in [`EngineStats`]); the dedupe table
//! holds at most `settings.dedupe_max_entries`; reports use fixed-size sketches.
//!
//! # Approximations (and their bounds)
//!
//! - Distinct counts (ports of a scan, hosts of a sweep or of lateral movement, sources of an
//!   exposure, destinations of a reject burst): exact up to 32 values, then HyperLogLog with
//!   256 registers (±6.5% standard error); thresholds up to 32 are decided exactly.
//!   [`Finding::distinct_exact`] says which. The sample lists keep the 32 smallest values.
//! - Exfiltration bytes: Count-Min sketch per window (4 × 8192); never under the truth, over
//!   it by more than e/8192 ≈ 0.033% of the window's internal→external bytes with probability
//!   ≤ 1.8%.
//!   Flow counts and evidence start when a pair reaches a quarter of the threshold.
//! - Top talkers: a Count-Min sketch (4 × 4096) per list plus the `reports.top_capacity`
//!   largest candidates; bytes never undercount and overcount by more than 0.07% of all bytes
//!   with probability ≤ 1.8% (the `error` field); `top_exact` when nothing is inflated.
//! - Per-port traffic: exact for the first `reports.max_ports` ports, the rest in one bucket.
//! - Double-ended dedupe: 64-bit fingerprints of (5-tuple, start, end, action); twins arriving
//!   further apart than the allowed lateness, or while the table is full, count twice.
//! - Capped keys: when a detector's `max_keys` is reached new keys are refused (counted), so a
//!   finding can be missed on adversarial cardinality; existing keys keep counting.
//!
//! # Determinism
//!
//! Findings are sorted by [`Finding::order`]. Counts, byte sums and sketch estimates do not
//! depend on record order; evidence keeps the smallest origins. What can depend on arrival
//! order: which records are late, which keys are refused when full, which twin of a
//! double-ended flow is kept, and exfiltration flow counts and evidence.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod addr;
mod dedupe;
mod detectors;
pub mod engine;
pub mod finding;
pub mod flow;
pub mod incident;
pub mod initiator;
pub mod middlebox;
pub mod reports;
pub mod rules;
pub mod services;
mod sketch;
pub mod text;
pub mod time;
pub mod units;
mod window;
pub mod zones;

pub use detectors::DetectorStats;
pub use engine::{Analysis, Engine, EngineStats, Limit, LimitKind};
pub use finding::{Finding, Origin, Severity, Window};
pub use flow::{Classifier, Flow};
pub use incident::{Grouper, Incident, Item, NoSourceInfo, Set, SourceInfo, Subject};
pub use reports::Reports;
pub use rules::{DEFAULT_PACK_YAML, PackSource, RuleError, RulePack};
