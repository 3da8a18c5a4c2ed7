//! [`Engine`]: feeds each record through classification, the double-ended dedupe, the
//! reports and every enabled detector; advances the watermark and closes windows; hands out
//! findings as their windows close ([`Engine::take_final`]) and everything left at
//! [`Engine::finish`].
//!
//! Classification is separable: [`Engine::classifier`] hands out a [`Classifier`] that other
//! threads use to turn decoded records into [`Flow`]s, which the engine then takes with
//! [`Engine::observe_flow`] (decoding and classifying in parallel, detecting in order).
//! So is the engine itself: [`Engine::split`] gives its counting half ([`Front`]: the
//! dedupe, the relay views and the reports, which decide a [`Verdict`] per record; it learns
//! relays from inner legs itself, in the same order as the detecting half) and its
//! detecting half ([`Back`]: relays, detectors, windows), for two threads that take the same
//! records in the same order; the results are those of one thread calling
//! [`Engine::observe_flow`].
//!
//! Per record the engine does a fixed amount of work: one classification, one dedupe lookup,
//! a few sketch updates and one keyed lookup per interested detector. Keys are fixed-size, so
//! a record for a key already present allocates nothing.

use flowlog::FlowRecord;
use serde::Serialize;

use crate::addr::{Addr, Class};
use crate::dedupe::Dedupe;
use crate::detectors::{self, AnyDetector, CloseCx, Detector, DetectorStats, Shared};
use crate::finding::{Finding, Origin, sort_findings};
use crate::flow::{Classifier, Flow};
use crate::middlebox::Middleboxes;
use crate::openers::Openers;
use crate::relay_hold::RelayHold;
use crate::reports::{ReportBuilder, Reports};
use crate::rules::RulePack;
use crate::time::window_start;
use crate::window::Watermark;

/// What the engine did, for operators: volumes, drops and the state it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EngineStats {
    /// Records observed.
    pub records: u64,
    /// Second ends of double-ended flows dropped.
    pub duplicates: u64,
    /// Records without a time (only in the totals).
    pub untimed: u64,
    /// Flows the dedupe could not remember (table full).
    pub dedupe_overflow: u64,
    /// Most flows the dedupe held at once.
    pub dedupe_peak: usize,
    /// Records whose initiator their connection's SYN, seen earlier, decided.
    pub openers_corrected: u64,
    /// Connections whose opener could not be remembered (table full).
    pub openers_overflow: u64,
    /// IPv6 records none of whose addresses is known to be ours or private (a log without
    /// `flow-direction`, and no IPv6 block of ours covers them): read as internet traffic.
    pub ipv6_unplaced: u64,
    /// Records with addresses but no `action` (a Transit Gateway flow log has none, nor
    /// may a custom format): neither accepted nor rejected to the detectors.
    pub no_action: u64,
    /// Interfaces whose records came from more than one flow log (each flow counted once).
    pub interfaces_logged_twice: u64,
    /// The first few of them.
    pub logged_twice_examples: Vec<String>,
    /// Records that arrived after at least one of their windows had closed (each counted
    /// once; per detector in `detectors[].late_records`).
    pub late: u64,
    /// Relay addresses learned from inner legs.
    pub relays_learned: usize,
    /// Most records held at once until their interface was known to be a NAT or not
    /// ([`crate::relay_hold::RelayHold`]).
    pub relay_hold_peak: usize,
    /// Held records counted as traffic early because the hold was full.
    pub relay_hold_overflow: u64,
    /// Records counted as traffic, after their hold, on interfaces later learned as NATs:
    /// outer legs counted as well as the inner legs that carry the same bytes.
    pub counted_before_relay_known: u64,
    /// The NAT addresses those were logged on.
    pub counted_before_relay_known_relays: usize,
    /// Window findings dropped because they named a relay that was seen relaying as the
    /// culprit (its real sources have their own).
    pub relay_findings_dropped: u64,
    /// Bytes of detector state held now, all detectors.
    pub state_bytes: usize,
    /// Records more than an hour ahead of every other record time whose leap no other
    /// records confirmed ([`Watermark`]): they did not move the watermark.
    pub time_outliers: u64,
    /// The largest record time seen (unconfirmed leaps left out).
    pub max_time: Option<u64>,
    /// The watermark: windows ending at or before it are closed.
    pub watermark: Option<u64>,
    /// Per detector.
    pub detectors: Vec<DetectorStats>,
}

impl EngineStats {
    /// Records that arrived too late for at least one detector (each record once).
    pub fn late_records(&self) -> u64 {
        self.late
    }

    /// Keys refused by any detector (findings may be missing when this is not 0).
    pub fn refused_keys(&self) -> u64 {
        self.detectors.iter().map(|d| d.refused_keys).sum()
    }
}

/// What kind of bound was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// New keys refused because a detector's state was full.
    RefusedKeys,
    /// Records ignored because their window had already closed.
    Late,
    /// Flows the double-ended dedupe could not remember (they may count twice).
    DedupeFull,
    /// A NAT's outer legs counted as traffic because its first inner leg came too late.
    RelayLearnedLate,
    /// Findings not grouped because `settings.max_incidents` incidents were open.
    IncidentsCapped,
    /// Counts that are estimates rather than exact.
    Estimated,
    /// Interfaces logged by more than one flow log: each flow counted once, flows in
    /// progress when the second log was first met possibly one interval twice.
    LoggedTwice,
    /// IPv6 records with no address known to be ours, read as internet traffic.
    Ipv6Unplaced,
    /// Records far ahead of every other record time that did not move the watermark.
    TimeOutliers,
    /// Connections whose opener could not be remembered ([`crate::openers`]): their later
    /// records were decided by ports.
    OpenersFull,
    /// Records without an `action`, which detections that need one did not see.
    NoAction,
}

/// A bound the run hit: which component, what, how much, and what it means for the results.
/// Every renderer shows these in its summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// The detector id (or `dedupe`, `incidents`).
    pub component: String,
    /// What was hit.
    pub what: LimitKind,
    /// How many keys, records or findings it affected.
    pub count: u64,
    /// One sentence for the reader: what may be missing or inflated, and what to change.
    pub meaning: String,
}

/// `port-scan 3, host-sweep 2; `: the detectors that left late records out, or nothing when
/// none did (the engine's count also holds records no detector reads, such as NODATA).
fn late_by_detector(stats: &EngineStats) -> String {
    let each: Vec<String> = stats
        .detectors
        .iter()
        .filter(|d| d.late_records > 0)
        .map(|d| format!("{} {}", d.id, d.late_records))
        .collect();
    if each.is_empty() {
        String::new()
    } else {
        format!("{}; ", each.join(", "))
    }
}

/// The limits in `stats`: refused keys and late records per detector, dedupe overflow.
pub fn limits_of(stats: &EngineStats) -> Vec<Limit> {
    let mut out = Vec::new();
    if stats.late > 0 {
        out.push(Limit {
            component: "engine".to_owned(),
            what: LimitKind::Late,
            count: stats.late,
            meaning: format!(
                "{} records arrived after a window they belong to had closed and were left \
                 out of that window's detections ({}totals still count them); raise \
                 settings.allowed_lateness or read sources in time order",
                stats.late,
                late_by_detector(stats)
            ),
        });
    }
    for d in &stats.detectors {
        if d.refused_keys > 0 {
            out.push(Limit {
                component: d.id.clone(),
                what: LimitKind::RefusedKeys,
                count: d.refused_keys,
                meaning: format!(
                    "{}: {} new keys refused after its state reached {} live keys; \
                     sources first seen after that were not counted, so findings of this \
                     detector may be missing (raise max_keys or settings.state_budget)",
                    d.id, d.refused_keys, d.peak_keys
                ),
            });
        }
    }
    if stats.counted_before_relay_known > 0 {
        out.push(Limit {
            component: "relays".to_owned(),
            what: LimitKind::RelayLearnedLate,
            count: stats.counted_before_relay_known,
            meaning: format!(
                "relays: {} records on {} NAT gateway interfaces were counted as traffic \
                 before an inner leg showed the interface was a NAT (more than {} records \
                 or settings.allowed_lateness before it), so their bytes count twice in \
                 totals and top talkers; declare them in networks.nat_gateways or use \
                 --discover",
                stats.counted_before_relay_known,
                stats.counted_before_relay_known_relays,
                RelayHold::CAP
            ),
        });
    }
    if stats.no_action > 0 {
        out.push(Limit {
            component: "records".to_owned(),
            what: LimitKind::NoAction,
            count: stats.no_action,
            meaning: format!(
                "records: {} records have no action (a Transit Gateway flow log has none; a \
                 custom format may leave it out): they count in the totals and top talkers, \
                 but were neither accepted nor rejected to the detectors, so those that need \
                 to know (exposed admin ports, exfiltration, lateral movement, insecure \
                 protocols, reject bursts) did not see them; analyze the VPC flow logs of the \
                 interfaces, or log a format with action",
                stats.no_action
            ),
        });
    }
    if stats.time_outliers > 0 {
        // Most of the records "ahead": the few read before them, far behind, are the likelier
        // culprits (one line of another year at the top of a small file made its 40 real
        // records the outliers).
        let most = stats.time_outliers.saturating_mul(2) > stats.records;
        out.push(Limit {
            component: "engine".to_owned(),
            what: LimitKind::TimeOutliers,
            count: stats.time_outliers,
            meaning: format!(
                "engine: {} records were more than {} minutes ahead of every other record \
                 time and not followed by {} more of their time (a corrupt line or a skewed \
                 clock?); they were analyzed in their own windows, but did not close the \
                 windows of the rest, which would have made every later record late; the \
                 run's time span includes them{}",
                stats.time_outliers,
                Watermark::LEAP / 60,
                Watermark::CONFIRM,
                if most {
                    "; they are most of the records, so the few read before them, far \
                     behind, may be the wrong ones (a line of another year at the top of a \
                     file?)"
                } else {
                    ""
                }
            ),
        });
    }
    if stats.ipv6_unplaced > 0 {
        out.push(Limit {
            component: "networks".to_owned(),
            what: LimitKind::Ipv6Unplaced,
            count: stats.ipv6_unplaced,
            meaning: format!(
                "networks: {} IPv6 records had no address known to be ours (their log has no \
                 flow-direction, and no IPv6 block in networks.internal or from --discover \
                 holds either address); IPv6 addresses of a VPC are globally routable, so \
                 these were read as internet-to-internet traffic and detections that need \
                 our side (exposed admin ports, exfiltration, scans and sweeps of our hosts) \
                 did not see them; add the VPCs' IPv6 CIDRs to networks.internal, use \
                 --discover, or log flow-direction (a v5 format)",
                stats.ipv6_unplaced
            ),
        });
    }
    if stats.interfaces_logged_twice > 0 {
        out.push(Limit {
            component: "dedupe".to_owned(),
            what: LimitKind::LoggedTwice,
            count: stats.interfaces_logged_twice,
            meaning: format!(
                "dedupe: {} interfaces ({}{}) are logged by more than one flow log in these \
                 sources; each flow is counted once, from the first log that showed it, but a \
                 flow in progress when the second log was first met may count one \
                 aggregation interval twice; for exact totals analyze one flow log's objects \
                 per interface",
                stats.interfaces_logged_twice,
                stats.logged_twice_examples.join(", "),
                if stats.interfaces_logged_twice > stats.logged_twice_examples.len() as u64 {
                    ", ..."
                } else {
                    ""
                }
            ),
        });
    }
    if stats.dedupe_overflow > 0 {
        out.push(Limit {
            component: "dedupe".to_owned(),
            what: LimitKind::DedupeFull,
            count: stats.dedupe_overflow,
            meaning: format!(
                "dedupe: {} flows could not be remembered (table full at {}); flows logged \
                 at both ends may count twice in totals and detections",
                stats.dedupe_overflow, stats.dedupe_peak
            ),
        });
    }
    if stats.openers_overflow > 0 {
        out.push(Limit {
            component: "initiator".to_owned(),
            what: LimitKind::OpenersFull,
            count: stats.openers_overflow,
            meaning: format!(
                "initiator: {} connections whose SYN and ports disagree on who opened them                  could not be remembered (table full at {}); their later records were                  decided by ports, which may read them backwards (an exposure of the                  client's source port)",
                stats.openers_overflow,
                crate::openers::CAP
            ),
        });
    }
    out
}

/// The result of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// Findings not already taken with [`Engine::take_final`], in [`Finding::order`].
    pub findings: Vec<Finding>,
    /// Traffic reports.
    pub reports: Reports,
    /// Run statistics.
    pub stats: EngineStats,
}

impl Analysis {
    /// The bounds this run hit (see [`Limit`]); empty when nothing was dropped.
    pub fn limits(&self) -> Vec<Limit> {
        limits_of(&self.stats)
    }
}

/// The time before which a record is late once windows closed at `closed_at`: the largest
/// window start of `closed_at` over the window sizes (0 without windows). A record at `t`
/// is in a closed window of size `s` exactly when `window_start(t, s) <
/// window_start(closed_at, s)`, which is `t < window_start(closed_at, s)` (window starts are
/// multiples of `s`), so for some size exactly when `t` is below this.
fn late_before(closed_at: u64, sizes: &[u64]) -> u64 {
    sizes
        .iter()
        .map(|&s| window_start(closed_at, s))
        .max()
        .unwrap_or(0)
}

/// Whether a finding blames a relay's own address for what it relayed:
/// - a client-side finding (scan, sweep, rejects, lateral movement, cleartext use, a zone
///   crossing, exfiltration) toward a public target whose source the data showed relaying
///   for the internet ([`Middleboxes::fronts_internet`]: a NAT gateway). Its outer legs
///   repeat connections its inner legs already carry under the real source, who has its
///   own finding; a NAT gateway opens no connection of its own. Kept by this rule: findings
///   toward internal targets (a NAT relays none), sources that stood only for internal
///   peers (an EKS node for its pods, a secondary address);
/// - a client-side finding other than exfiltration whose source is a configured or
///   discovered relay ([`Middleboxes::is_known`]), whatever the target: a load balancer's
///   health checks of targets that refuse them are not a sweep, and a declared NAT's outer
///   legs in logs without pkt fields repeat its instances' connections, which their own
///   interfaces log. (Exfiltration keeps its own rule for relays whose inner legs were
///   never seen, and says `via`.)
///
/// Exposures on a relay are kept when it answered (see `admin_exposure`): a load
/// balancer's listener that forwards SSH is a second view of its target's exposure, but the
/// target's interface may not be logged.
///
/// Asked when windows close, so relays learned from any record of the window count.
fn blames_relay(f: &Finding, relays: &Middleboxes, nets: &crate::addr::Networks) -> bool {
    let client_side = matches!(
        f.kind,
        "port_scan"
            | "host_sweep"
            | "reject_burst"
            | "lateral_movement"
            | "insecure_protocol"
            | "trust_zones"
            | "exfiltration"
    );
    let Some(src) = f.src.map(Addr::new) else {
        return false;
    };
    client_side
        && ((f.kind != "exfiltration" && relays.is_known(src))
            || (relays.fronts_internet(src)
                && f.dst.is_none_or(|ip| !nets.is_internal(Addr::new(ip)))))
}

/// The streaming detection engine for one rule pack: a [`Front`] (counting: the dedupe,
/// the reports) and a [`Back`] (detection: relays, detectors, windows). [`Engine::split`]
/// lets the two halves run on two threads that see the same records in the same order.
pub struct Engine {
    front: Front,
    back: Back,
}

/// What [`Front::observe`] decided about one record, for the [`Back`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The dropped twin of a double-ended flow: not counted, not detected on.
    Twin,
    /// A NAT's public side of a connection it relays ([`Middleboxes::relay_view`]): the
    /// traffic its inner leg carries, so not counted in the reports; the detectors see it
    /// (they know relays and do not blame them).
    Relayed,
    /// Held until its interface is known to be a NAT or not
    /// ([`crate::relay_hold::RelayHold`]): not counted yet (it is counted, or counted as a
    /// relay view, when released: [`Front::take_released`]); the detectors see it.
    Held,
    /// Counted in the reports, but without a time (detectors need one).
    Untimed,
    /// Counted, and every detector sees it.
    Counted,
}

impl Verdict {
    /// Whether the reports counted the record (what callers keeping their own views count).
    pub fn counted(self) -> bool {
        matches!(self, Verdict::Counted | Verdict::Untimed)
    }

    /// Whether the detectors see the record (when it has a time).
    pub fn detected(self) -> bool {
        matches!(self, Verdict::Counted | Verdict::Relayed | Verdict::Held)
    }
}

/// The counting half of the [`Engine`]: record counts, the double-ended dedupe, relay views
/// (a NAT's outer legs, [`Middleboxes::relay_view`]) and the traffic reports. It decides,
/// per record, what the [`Back`] does with it.
pub struct Front {
    /// Who opened each connection whose SYN and ports disagree ([`Openers`]).
    openers: Openers,
    dedupe: Option<Dedupe>,
    /// This half's own copy of the relays, learned in the same order as the [`Back`]'s, to
    /// tell relay views.
    relays: Middleboxes,
    /// Records that may be outer legs of a NAT not known yet.
    hold: RelayHold,
    /// Held records released as traffic since [`Front::take_released`] last ran.
    released: Vec<Flow>,
    reports: ReportBuilder,
    records: u64,
    untimed: u64,
    /// See [`EngineStats::ipv6_unplaced`].
    ipv6_unplaced: u64,
    /// See [`EngineStats::no_action`].
    no_action: u64,
}

impl Front {
    /// Counts one record and says whether it is a twin, held, untimed or for the detectors.
    /// `log` tells which flow log the record came from (any number the caller keeps for one
    /// flow log, 0 when it is unknown), so that an interface logged by two flow logs counts
    /// each flow once.
    /// A later record of a connection whose SYN was seen takes the SYN's initiator
    /// ([`Openers`]) first: `flow` may change.
    #[inline]
    pub fn observe(&mut self, flow: &mut Flow, log: u32) -> Verdict {
        self.openers.observe(flow);
        let flow = &*flow;
        self.records += 1;
        if flow.src_class == Class::Public
            && flow.dst_class == Class::Public
            && flow.peers.is_some_and(|(s, d)| !s.is_v4() && !d.is_v4())
        {
            self.ipv6_unplaced += 1;
        }
        if flow.action.is_none() && flow.peers.is_some() {
            self.no_action += 1;
        }
        self.reports.seen();
        self.relays.learn(flow);
        self.release(flow.time, false);
        if self.relays.relay_view(flow) {
            self.reports.relayed();
            return Verdict::Relayed;
        }
        if let Some(d) = &mut self.dedupe
            && d.is_twin(flow, log)
        {
            self.reports.duplicate();
            return Verdict::Twin;
        }
        if self.relays.may_become_relay_view(flow) {
            self.hold.hold(flow);
            return Verdict::Held;
        }
        self.reports.observe(flow);
        if flow.time.is_none() {
            self.untimed += 1;
            return Verdict::Untimed;
        }
        Verdict::Counted
    }

    /// Releases held records that are due (all of them when `all`): relay views are counted
    /// as such, the others as traffic (and kept for [`Front::take_released`]).
    #[inline]
    fn release(&mut self, t: Option<u64>, all: bool) {
        let (reports, released) = (&mut self.reports, &mut self.released);
        let mut release = |f: &Flow, view: bool| {
            if view {
                reports.relayed();
            } else {
                reports.observe(f);
                released.push(f.clone());
            }
        };
        if all {
            self.hold.release_all(&self.relays, &mut release);
        } else {
            self.hold.advance(t, &self.relays, &mut release);
        }
    }

    /// The held records counted as traffic since the last call, for callers that keep
    /// their own views of what the reports count (the timeline); a held record's verdict was
    /// [`Verdict::Held`]. Call [`Front::release_all`] at the end of the records first.
    pub fn take_released(&mut self) -> std::vec::Drain<'_, Flow> {
        self.released.drain(..)
    }

    /// The hold of the source whose records follow (see [`Back::hold`]): the dedupe keeps
    /// the flows of the hours the sources after it start from ([`Dedupe::hold`]).
    pub fn hold(&mut self, hold: Option<Hold>) {
        if let Some(d) = &mut self.dedupe {
            d.hold(hold.map(|h| h.earliest));
        }
    }

    /// Releases every held record (the records have ended).
    pub fn release_all(&mut self) {
        self.release(None, true);
    }
}

/// What the source being read tells the detecting half about time ([`Back::hold`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    /// The source (a job's index): the watermark follows its own records.
    pub job: usize,
    /// The earliest record time of the sources read after it, if any (a source's start
    /// passes over a few stray early records).
    pub later: Option<u64>,
    /// The earliest record time of those sources with no stray passed over (the dedupe
    /// keeps their hours' flows: a twin is not late, it counts twice).
    pub earliest: Option<u64>,
}

/// The detecting half of the [`Engine`]: relays learned from every record, the detectors,
/// the watermark and window closes, and the findings they produce.
pub struct Back {
    cx: Classifier,
    detectors: Vec<AnyDetector>,
    shared: Shared,
    relays: Middleboxes,
    /// The watermark of the last close (records in windows it closed are late).
    closed_at: Option<u64>,
    /// Records before this time are late ([`late_before`] of `closed_at`; 0 before any
    /// close).
    late_before: u64,
    late: u64,
    window_sizes: Vec<u64>,
    /// Times whose windows (every length) are the same as those already accounted for in
    /// `next_close`: `[start, end)`, the intersection of one time's windows.
    known_span: (u64, u64),
    watermark: Watermark,
    /// The source being read, when it holds the watermark to its own records ([`Back::hold`]).
    hold: Option<Hold>,
    /// The largest record time of `hold`'s source so far.
    held_max: u64,
    lateness: u64,
    next_close: u64,
    ready: Vec<Finding>,
    /// Findings dropped because they named a relay as the culprit ([`blames_relay`]).
    relay_findings: u64,
}

impl Engine {
    /// An engine running every enabled detector of `pack`.
    pub fn new(pack: &RulePack) -> Engine {
        let cx = Classifier::new(pack, detectors::uses_zones(pack));
        let (detectors, shared) = detectors::build(pack, &cx);
        let mut window_sizes: Vec<u64> = pack
            .detectors
            .iter()
            .filter(|d| d.enabled)
            .map(|d| d.window)
            .collect();
        window_sizes.sort_unstable();
        window_sizes.dedup();
        let mut known = crate::addr::CidrSet::default();
        known.extend(cx.networks.middleboxes().blocks().iter().copied());
        known.extend(cx.networks.nat_gateways().blocks().iter().copied());
        let relays = Middleboxes::new(known).with_nat_gateways(cx.networks.nat_gateways().clone());
        let front = Front {
            openers: Openers::new(cx.services.clone(), cx.probe_limits()),
            relays: relays.clone(),
            hold: RelayHold::new(pack.settings.allowed_lateness),
            released: Vec::new(),
            dedupe: pack
                .settings
                .dedupe
                .then(|| Dedupe::from_settings(&pack.settings)),
            reports: ReportBuilder::new(&pack.reports),
            records: 0,
            untimed: 0,
            ipv6_unplaced: 0,
            no_action: 0,
        };
        let back = Back {
            cx,
            detectors,
            shared,
            relays,
            closed_at: None,
            late_before: 0,
            late: 0,
            window_sizes,
            known_span: (0, 0),
            watermark: Watermark::new(pack.settings.allowed_lateness),
            hold: None,
            held_max: 0,
            lateness: pack.settings.allowed_lateness,
            next_close: u64::MAX,
            ready: Vec::new(),
            relay_findings: 0,
        };
        Engine { front, back }
    }

    /// The classifier this engine's rule pack needs, for threads that classify records into
    /// [`Flow`]s ahead of [`Engine::observe_flow`].
    pub fn classifier(&self) -> Classifier {
        self.back.cx.clone()
    }

    /// The two halves, to run on two threads: every record goes through
    /// [`Front::observe`] and then, with its verdict and in the same order, through
    /// [`Back::observe`]. [`Engine::join`] puts them back together for the results.
    pub fn split(self) -> (Front, Back) {
        (self.front, self.back)
    }

    /// The engine whose halves [`Engine::split`] gave.
    pub fn join(front: Front, back: Back) -> Engine {
        Engine { front, back }
    }

    /// Observes one decoded record; `origin` is returned in the evidence of findings it
    /// contributes to.
    pub fn observe(&mut self, record: &FlowRecord<'_>, origin: Origin) {
        let mut flow = self.back.cx.classify(record);
        let _ = self.observe_flow(&mut flow, origin);
    }

    /// [`Engine::observe`] of a record from flow log `log` (see [`Front::observe`]).
    pub fn observe_logged(&mut self, record: &FlowRecord<'_>, origin: Origin, log: u32) {
        let mut flow = self.back.cx.classify(record);
        let verdict = self.front.observe(&mut flow, log);
        self.back.observe(&flow, origin, verdict);
    }

    /// Observes one record already classified by this engine's [`Engine::classifier`].
    /// Returns whether it was counted in the reports: false for the dropped twin of a
    /// double-ended flow (so callers that keep their own views count what the reports count).
    /// `flow` may change (see [`Front::observe`]).
    pub fn observe_flow(&mut self, flow: &mut Flow, origin: Origin) -> bool {
        let verdict = self.front.observe(flow, 0);
        self.back.observe(flow, origin, verdict);
        verdict.counted()
    }

    /// Findings whose windows have closed since the last call (for streaming output), in
    /// closing order; they will not appear in [`Engine::finish`].
    pub fn take_final(&mut self) -> Vec<Finding> {
        self.back.take_final()
    }

    /// The current watermark (largest record time minus the allowed lateness).
    pub fn watermark(&self) -> Option<u64> {
        self.back.watermark.get()
    }

    /// Statistics so far.
    pub fn stats(&self) -> EngineStats {
        let (front, back) = (&self.front, &self.back);
        let early = front.hold.counted_before_known(&front.relays);
        let (overflow, peak, duplicates) = front
            .dedupe
            .as_ref()
            .map_or((0, 0, 0), |d| (d.overflow, d.peak, d.dropped));
        let twice = front
            .dedupe
            .as_ref()
            .map(|d| d.logged_twice.clone())
            .unwrap_or_default();
        EngineStats {
            records: front.records,
            duplicates,
            untimed: front.untimed,
            dedupe_overflow: overflow,
            dedupe_peak: peak,
            openers_corrected: front.openers.corrected,
            openers_overflow: front.openers.overflow,
            ipv6_unplaced: front.ipv6_unplaced,
            no_action: front.no_action,
            interfaces_logged_twice: twice.interfaces,
            logged_twice_examples: twice.examples.iter().map(|i| i.text()).collect(),
            late: back.late,
            relays_learned: back.relays.learned(),
            relay_hold_peak: front.hold.peak,
            relay_hold_overflow: front.hold.overflow,
            counted_before_relay_known: early.records,
            counted_before_relay_known_relays: early.relays,
            relay_findings_dropped: back.relay_findings,
            state_bytes: back
                .detectors
                .iter()
                .map(|d| d.stats(&back.shared).bytes)
                .sum(),
            time_outliers: back.watermark.outliers(),
            max_time: back.watermark.max_time(),
            watermark: back.watermark.get(),
            detectors: back
                .detectors
                .iter()
                .map(|d| d.stats(&back.shared))
                .collect(),
        }
    }

    /// Closes every window and returns the findings not yet taken (sorted), the reports and
    /// the statistics.
    pub fn finish(mut self) -> Analysis {
        self.front.release_all();
        self.back.close(u64::MAX);
        let mut findings = std::mem::take(&mut self.back.ready);
        sort_findings(&mut findings);
        Analysis {
            findings,
            reports: self.front.reports.build(),
            stats: self.stats(),
        }
    }
}

impl Back {
    /// Takes one record with the [`Front`]'s verdict on it: every record teaches relays
    /// (an inner leg is usually a dropped twin, but it is what teaches the relay's
    /// address); counted records and relay views with a time go to every detector and move
    /// the watermark.
    #[inline]
    pub fn observe(&mut self, flow: &Flow, origin: Origin, verdict: Verdict) {
        self.relays.learn(flow);
        if !verdict.detected() {
            return;
        }
        let Some(t) = flow.time else {
            return;
        };
        if t < self.late_before {
            self.late += 1;
        }
        for d in &mut self.detectors {
            d.observe(flow, origin, &mut self.shared);
        }
        let mut wm = self.watermark.observe(t);
        if let Some(hold) = self.hold {
            wm = wm.min(self.held(hold, t));
        }
        // The earliest window this record may have opened; a cheap lower bound of the next
        // close (an early close just finds nothing to do). Skipped while the record's windows
        // are those of a previous record.
        if !(self.known_span.0..self.known_span.1).contains(&t) {
            let mut span = (0, u64::MAX);
            for &size in &self.window_sizes {
                let start = window_start(t, size);
                let end = start + size;
                span = (span.0.max(start), span.1.min(end));
                if end > wm && end < self.next_close {
                    self.next_close = end;
                }
            }
            self.known_span = span;
        }
        if wm >= self.next_close {
            self.close(wm);
        }
    }

    /// Findings whose windows have closed since the last call, in closing order.
    pub fn take_final(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.ready)
    }

    /// The records that follow come from `hold.job`, a source that may cover the same hours
    /// as those before it, and the sources after it start at `hold.later`: the watermark
    /// follows this source's own records (not the newest time of the sources before it) and
    /// stays behind `hold.later`, each by `allowed_lateness`, so no window the records of this
    /// or a later source belong to closes before they are read. `None`: the watermark is the
    /// newest record time of all (objects in time order).
    pub fn hold(&mut self, hold: Option<Hold>) {
        if hold.map(|h| h.job) != self.hold.map(|h| h.job) {
            self.held_max = 0;
        }
        self.hold = hold;
    }

    /// The watermark `hold` allows after a record at `t` of its source.
    #[inline]
    fn held(&mut self, hold: Hold, t: u64) -> u64 {
        self.held_max = self.held_max.max(t);
        let own = self.held_max.saturating_sub(self.lateness);
        hold.later
            .map_or(own, |l| own.min(l.saturating_sub(self.lateness)))
    }

    /// Closes windows ending at or before `wm`, queueing their findings (each closing batch
    /// sorted, so the stream does not depend on how often the caller takes findings).
    fn close(&mut self, wm: u64) {
        let mut batch = Vec::new();
        let cx = CloseCx {
            relays: &self.relays,
        };
        // Every detector closes (not only those with a window due), so each one's notion of
        // "late" is the same.
        for d in &mut self.detectors {
            d.close(wm, &cx, &mut batch);
        }
        let before = batch.len();
        batch.retain(|f| !blames_relay(f, &self.relays, &self.cx.networks));
        self.relay_findings += (before - batch.len()) as u64;
        self.shared.close(wm);
        let closed_at = self.closed_at.map_or(wm, |c| c.max(wm));
        self.closed_at = Some(closed_at);
        self.late_before = late_before(closed_at, &self.window_sizes);
        sort_findings(&mut batch);
        self.ready.append(&mut batch);
        self.next_close = self
            .detectors
            .iter()
            .filter_map(|d| d.next_close())
            .min()
            .unwrap_or(u64::MAX);
        self.known_span = (0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::mix64;

    /// Probe regression: late records no detector counted printed "(; totals still count
    /// them)".
    #[test]
    fn a_late_limit_without_late_detectors_lists_none() {
        let stats = EngineStats {
            late: 4,
            ..EngineStats::default()
        };
        let late = &limits_of(&stats)[0];
        assert!(
            late.meaning
                .contains("were left out of that window's detections (totals still count them)"),
            "{}",
            late.meaning
        );
    }

    /// Probe regression (session 15): one record of 2001 at the top of a file of 40 records
    /// of 2026 made the 40 the outliers, and the limit blamed them alone.
    #[test]
    fn outliers_that_are_most_of_the_records_point_at_the_records_before_them() {
        let meaning = |records, time_outliers| {
            let stats = EngineStats {
                records,
                time_outliers,
                ..EngineStats::default()
            };
            limits_of(&stats)
                .into_iter()
                .find(|l| l.what == LimitKind::TimeOutliers)
                .map(|l| l.meaning)
                .unwrap()
        };
        let hint = "the few read before them, far behind, may be the wrong ones";
        assert!(meaning(41, 40).contains(hint), "{}", meaning(41, 40));
        assert!(!meaning(1_000, 3).contains(hint), "{}", meaning(1_000, 3));
    }

    /// Every limit's meaning is one sentence of single-spaced words (string literals
    /// continued over lines once kept their indentation: runs of 22 spaces).
    #[test]
    fn limit_meanings_have_no_runs_of_spaces() {
        let stats = EngineStats {
            late: 3,
            dedupe_overflow: 5,
            dedupe_peak: 10,
            interfaces_logged_twice: 4,
            logged_twice_examples: vec!["eni-a".to_owned(), "eni-b".to_owned()],
            detectors: vec![DetectorStats {
                id: "port-scan".to_owned(),
                refused_keys: 7,
                late_records: 3,
                peak_keys: 100,
                ..DetectorStats::default()
            }],
            ..EngineStats::default()
        };
        let limits = limits_of(&stats);
        assert_eq!(limits.len(), 4, "{limits:?}");
        assert!(
            limits[2]
                .meaning
                .contains("4 interfaces (eni-a, eni-b, ...)"),
            "{limits:?}"
        );
        for l in &limits {
            assert!(
                !l.meaning.contains("  "),
                "two spaces in a row: {:?}",
                l.meaning
            );
            assert!(!l.meaning.contains('\n'), "a line break: {:?}", l.meaning);
        }
    }

    #[test]
    fn late_before_is_the_per_window_test() {
        // The test it replaced: some window of `t` started before that size's window of the
        // close (and `t` before the close).
        let per_window = |t: u64, wm: u64, sizes: &[u64]| {
            t < wm
                && sizes
                    .iter()
                    .any(|&s| window_start(t, s) < window_start(wm, s))
        };
        let size_sets: [&[u64]; 4] = [&[], &[300], &[60, 300, 3600], &[7, 600, 86_400]];
        let mut late = 0;
        for (i, sizes) in size_sets.iter().enumerate() {
            for n in 0..5_000u64 {
                let h = mix64(n ^ (i as u64) << 32);
                let wm = 1_700_000_000 + h % 100_000;
                let t = wm - (h >> 32) % 8_000 + 4_000;
                let want = per_window(t, wm, sizes);
                assert_eq!(t < late_before(wm, sizes), want, "t {t} wm {wm} {sizes:?}");
                late += usize::from(want);
            }
        }
        assert!(late > 1_000, "{late}");
        assert_eq!(late_before(u64::MAX, &[300]), u64::MAX - u64::MAX % 300);
    }
}
