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
//! [`text`] (counted nouns), [`time`], [`units`] (human bytes, counts, durations),
//! [`incident`] (grouping), [`initiator`] and [`middlebox`]. Internal: `window` (event-time windows and
//! watermark), `dedupe` (double-ended flows), `detectors` (one file per kind) and `sketch`
//! (bounded counting).
//!
//! # Incidents
//!
//! Detectors decide per window; a [`Grouper`] folds their findings into [`Incident`]s, one per
//! thing a team acts on, across windows and host pairs (the same scan in 13 windows, or the
//! same zone violation from 13 hosts, is one incident that says 13). Group keys:
//!
//! | detector kind | one incident per | targets | sources |
//! | --- | --- | --- | --- |
//! | `port_scan` | (rule, client) | servers probed | the client |
//! | `host_sweep` | (rule, client, protocol, port) | hosts probed | the client |
//! | `reject_burst` | (rule, source); folded into the source's scan or sweep within a window of it (`also`) | destinations | the source |
//! | `lateral_movement` | (rule, client) | servers reached | the client |
//! | `exfiltration` | (rule, real internal source) | external peers | the source |
//! | `admin_port_exposure` | (rule, server, protocol, port, service) | the server | public clients |
//! | `insecure_protocol` | (rule, our host, service; protocol and port when unnamed) | the peer's side | clients |
//! | `trust_zones` | (rule, client zone, server zone, protocol, port) | host pairs | clients |
//! | `log_health` | (rule, flow log, else interface) | interfaces | - |
//!
//! Exposure groups by server and service (what a team fixes: one security group rule), not by
//! the internet source. An incident's severity is the highest of its findings; its evidence
//! the smallest pointers over all of them; its sets are exact up to 32 members, then "at
//! least" the members seen, or, when a window's count was an estimate and is larger, that
//! estimate marked as the largest window's ([`Set::largest_window`]; the union of several
//! windows' estimates is not counted). A port count never exceeds 65,536. At most
//! `settings.max_incidents` incidents are kept.
//!
//! # Who initiated, probing vs serving
//!
//! Connection detectors (exposure, insecure protocols, lateral movement, zones, scans, sweeps)
//! read a record as a connection from its client to its server's service port, from the
//! record's initiator ([`initiator`]: tcp-flags, flow-direction, pkt addresses, then ports);
//! records nothing decides are skipped unless `settings.initiator_unknown: ports`. Findings
//! and incidents say what decided (`decided_by`). Port scans and host sweeps count probes that
//! were not answered (internal clients) or not served data (public clients), so client tiers,
//! monitoring scrapes and health checks are not sweeps; a public client whose probes reached
//! `escalate_accepted` targets (accepted or answered; relays and `escalate_ignore` ports left
//! out) is raised one severity
//! level (see `detectors::probing`).
//!
//! # Windows and memory
//!
//! Windows are tumbling, aligned to the Unix epoch, one length per rule. The watermark is the
//! largest record time seen minus `settings.allowed_lateness`; a window closes when the
//! watermark passes its end, its findings become final and its state is dropped. Records for a
//! closed window are counted as late (once per record in `stats.late`, per detector in
//! `stats.detectors[].late_records`) and left out of that window's detections. A burst that
//! straddles a window boundary is split between two windows. One record far in the future
//! advances the watermark for everyone (there is no clock to tell it is wrong).
//!
//! Memory is bounded whatever the input length: detector state shares `settings.state_budget`
//! bytes (128 MiB by default, split evenly over enabled rules; a rule's or the settings'
//! `max_keys` caps keys instead). Keys whose space is the internet (public clients of port
//! scans, host sweeps, reject bursts) pass an admission gate once a detector's state is a
//! quarter full: a key gets exact state on its `settings.promote_at`-th record in a window
//! (default 2), so one-off internet noise never fills the state. Port scans and host sweeps
//! also keep two 512 KiB answer filters per open window. The dedupe table and reports are
//! bounded as documented in `dedupe` and [`reports`].
//!
//! # Nothing silently dropped
//!
//! Every bound the run hits is a [`Limit`] ([`Analysis::limits`], plus [`Grouper::limits`]):
//! keys refused when a detector's state was full, records that arrived late, flows the dedupe
//! could not remember, findings not grouped because `max_incidents` incidents were open. Each
//! says which component, how much and what it means; incidents of a limited detector are
//! marked `incomplete`. Renderers show them in every format.
//!
//! # Approximations (and their bounds)
//!
//! - Distinct counts (ports of a scan, hosts of a sweep or of lateral movement, sources of an
//!   exposure, destinations of a reject burst): exact up to 32 values, then HyperLogLog with
//!   256 registers (±6.5% standard error); thresholds up to 32 are decided exactly.
//!   [`Finding::distinct_exact`] says which; an estimate is never more than the records (or,
//!   for scans and sweeps, the inserts into that target set) it was counted from. The sample
//!   lists keep the 32 smallest values.
//!   Scans and sweeps subtract answered or served targets (both such counts), so past 32 the
//!   difference carries both errors.
//! - Admission gate (public clients, once a detector's state is a quarter full): layered Bloom
//!   filters of 2^23 bits per window; a key's first `promote_at - 1` records are held (their
//!   count still reaches the threshold and the finding's `flows`, their targets are not
//!   known, so `distinct` is then marked inexact); a one-off key is admitted early with
//!   probability ≈ 0.1% at 250 k distinct keys per window, ≈ 3.5% at 1 M (costs memory, not
//!   results).
//! - Answer filters (scans, sweeps): a blocked Bloom filter of 1 MiB per window of (client,
//!   server, protocol, port); a false positive (≈ 0.02% at 100 k replies in a window, 1.4% at
//!   500 k, 7% at 1 M) takes a probed target as answered, so a sweep can be undercounted by
//!   that share, never overcounted.
//! - Exfiltration bytes: Count-Min sketch per window (2 × 16384); never under the truth, over
//!   it by more than e²/16384 ≈ 0.045% of the window's internal→external bytes with
//!   probability ≤ 1.8%.
//!   Flow counts and evidence start when a pair reaches a quarter of the threshold.
//! - Top talkers: a Count-Min sketch (2 × 8192) per list plus the `reports.top_capacity`
//!   largest candidates; bytes never undercount and overcount by more than 0.09% of all bytes
//!   with probability ≤ 1.8% (the `error` field); `top_exact` when nothing is inflated.
//! - Per-port traffic: exact for the first `reports.max_ports` ports, the rest in one bucket.
//! - Double-ended dedupe: see `dedupe` (the first interface a flow is seen on owns it).
//!   A NAT's outer legs are relay views, not counted in the reports
//!   ([`Middleboxes::relay_view`](middlebox::Middleboxes::relay_view)); one read before the
//!   first inner leg through an undeclared NAT taught the relay is still counted.
//! - Capped keys: when a detector's cap is reached new keys are refused (a [`Limit`]), so a
//!   finding can be missed on adversarial cardinality; existing keys keep counting.
//! - Incident sets: exact up to 32 members over all windows, then a lower bound (`≥`), or an
//!   estimate (`~`, [`Set::estimate`]) when a detector's count was one.
//!
//! # Determinism
//!
//! Findings are sorted by [`Finding::order`], incidents by [`Incident::order`]; incident ids
//! are a fixed hash of the group key. Counts, byte sums and sketch estimates do not depend on
//! record order; evidence keeps the smallest origins; replies may come before or after the
//! probes they answer. What can depend on arrival order: which records are late, which keys
//! are refused when full or held by the gate, which twin of a double-ended flow is kept, and
//! exfiltration flow counts and evidence.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod addr;
mod dedupe;
mod detectors;
pub mod engine;
mod exposures;
pub mod finding;
pub mod flow;
pub mod incident;
pub mod initiator;
pub mod middlebox;
mod openers;
mod relay_hold;
pub mod reports;
pub mod rules;
pub mod services;
mod sketch;
pub mod text;
pub mod time;
pub mod units;
mod window;
pub mod zones;

pub use detectors::{DetectorStats, log_health_summary};
pub use engine::{Analysis, Back, Engine, EngineStats, Front, Hold, Limit, LimitKind, Verdict};
pub use finding::{Finding, Origin, Severity, Window};
pub use flow::{Classifier, Flow};
pub use incident::{Also, Grouper, Incident, Item, NoSourceInfo, Set, SourceInfo, Subject};
pub use reports::Reports;
pub use rules::{DEFAULT_PACK_YAML, PackSource, RuleError, RulePack};
