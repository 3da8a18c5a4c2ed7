//! `port_scan` (vertical): one client probing many distinct ports of one host in a window,
//! told from serving by the host's answers (see `probing`). Key (client, server); ports
//! are counted per (protocol, port), exactly up to 32, then HyperLogLog; a port seen again
//! counts once. Public clients' keys go through the admission gate.

use super::host_sweep::answered_note;
use super::probing::{self, Probed, Role};
use super::{CloseCx, Detector, DetectorStats, Rule, Shared, approx, in_scope, probe_conn};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::{Probing, SourceScope};
use crate::sketch::{hash_addr, mix64};
use crate::text::{count, noun};
use crate::window::Windowed;

pub struct PortScan {
    rule: Rule,
    min_ports: u64,
    probes_only: bool,
    sources: SourceScope,
    probing: Probing,
    state: Windowed<(Addr, Addr), Probed<u32>>,
    /// Index of its answer filters in [`Shared`], and whether it counts their bytes.
    answers: (usize, bool),
    findings: u64,
}

impl PortScan {
    pub fn new(
        rule: Rule,
        min_ports: u64,
        probes_only: bool,
        sources: SourceScope,
        probing: Probing,
        answers: (usize, bool),
    ) -> Self {
        let state = rule.windowed(64).with_gate(rule.promote_at);
        PortScan {
            rule,
            min_ports,
            probes_only,
            sources,
            probing,
            state,
            answers,
            findings: 0,
        }
    }
}

impl Detector for PortScan {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, shared: &mut Shared) {
        let Some(t) = f.time else {
            return;
        };
        let Some(c) = probe_conn(f, self.rule.unknown) else {
            return;
        };
        if !in_scope(self.sources, c.client_class) || self.rule.exempt(c.client, c.server) {
            return;
        }
        let key = (c.client, c.server);
        let port = u32::from(c.proto) << 16 | u32::from(c.port);
        match probing::role(f, &c, self.probes_only) {
            Role::Probe => {
                let public = probing::is_public(c.client_class);
                let seen = shared
                    .answers(self.answers.0)
                    .check(t, probing::conn_hash(&c));
                let slot = if public {
                    let h = mix64(hash_addr(c.client) ^ hash_addr(c.server).rotate_left(29));
                    self.state.slot_gated(t, key, h, |held| Probed {
                        held,
                        public,
                        ..Probed::default()
                    })
                } else {
                    self.state.slot(t, key, Probed::default)
                };
                if let Some((_, s)) = slot {
                    s.tally.add_conn(f, &c, origin, self.rule.max_evidence);
                    s.touched.insert(port);
                    if f.accepted() {
                        s.accepted.insert(port);
                    }
                    s.learn(port, seen);
                }
            }
            Role::ClientData => {
                shared
                    .answers(self.answers.0)
                    .note(t, probing::conn_hash(&c), true);
                if let Some(s) = self.state.get(t, &key) {
                    s.touched.insert(port);
                    s.learn(port, (true, true));
                }
            }
            Role::Reply(data) => {
                shared
                    .answers(self.answers.0)
                    .note(t, probing::conn_hash(&c), data);
                if let Some(s) = self.state.get(t, &key) {
                    s.learn(port, (true, data));
                }
            }
            Role::Skip => {}
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, min, probes_only, probing) =
            (&self.rule, self.min_ports, self.probes_only, &self.probing);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, dst), s) in map {
                let relay_dst = cx.relays.is_relay(dst);
                let Some(mut v) =
                    probing::judge(&s, min, probes_only, probing, rule.severity, |_| false)
                else {
                    continue;
                };
                if relay_dst {
                    // A relay logs unsolicited SYNs as ACCEPT: its probes reached nothing.
                    v.severity = rule.severity;
                }
                let mut f = rule.finding(start, &s.tally, Some(src), Some(dst));
                f.severity = v.severity;
                // An estimate can exceed the ports there are.
                v.count = v.count.min(super::PORTS);
                f.distinct = Some(v.count);
                f.distinct_exact = v.exact;
                f.ports = s.touched.sample().iter().map(|p| *p as u16).collect();
                f.ports.sort_unstable();
                f.ports.dedup();
                f.summary = format!(
                    "{src} probed {} distinct {} on {dst} ({}){}",
                    approx(v.count, v.exact),
                    noun(v.count, "port", "ports"),
                    count(s.tally.flows, "record", "records"),
                    answered_note(v.accepted, v.answered, v.served),
                );
                out.push(f);
                made += 1;
            }
        });
        self.findings += made;
    }

    fn stats(&self, shared: &Shared) -> DetectorStats {
        let (at, owner) = self.answers;
        let answers = if owner { shared.answer_bytes(at) } else { 0 };
        self.rule.stats(&self.state, self.findings, answers)
    }
}
