//! `port_scan` (vertical): one client probing many distinct ports of one host in a window,
//! told from serving by the host's answers (see `probing`). Key (client, server); ports
//! are counted per (protocol, port), exactly up to 32, then HyperLogLog; a port seen again
//! counts once. Public clients' keys go through the admission gate.

use super::host_sweep::answered_note;
use super::probe_state::ProbeState;
use super::probing::{self, Probed, Role};
use super::targets::TOUCHED;
use super::{CloseCx, Detector, DetectorStats, Rule, Shared, in_scope};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::{Probing, SourceScope};
use crate::sketch::mix64;
use crate::text::count;

pub struct PortScan {
    rule: Rule,
    min_ports: u64,
    probes_only: bool,
    sources: SourceScope,
    probing: Probing,
    state: ProbeState<(Addr, Addr), u32>,
    /// Index of its answer filters in [`Shared`], and whether it created them (counts their
    /// bytes and computes each record's view for the others).
    answers: (usize, bool),
    /// Records seen (see [`probing::Probes::view`]).
    seen: u64,
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
        let state = ProbeState::new(&rule, 64);
        PortScan {
            rule,
            min_ports,
            probes_only,
            sources,
            probing,
            state,
            answers,
            seen: 0,
            findings: 0,
        }
    }
}

impl Detector for PortScan {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, shared: &mut Shared) {
        let (at, leader) = self.answers;
        let p = shared.probes(at);
        let Some(v) = p.view(
            leader,
            &mut self.seen,
            f,
            self.rule.unknown,
            self.probes_only,
        ) else {
            return;
        };
        let (t, c) = (v.t, v.conn);
        // An ICMP exchange has no port to count (host sweeps take it).
        if v.echo || !in_scope(self.sources, c.client_class) || self.rule.exempt(c.client, c.server)
        {
            return;
        }
        let key = (c.client, c.server);
        let port = u32::from(c.proto) << 16 | u32::from(c.port);
        match v.role {
            Role::Probe => {
                let public = probing::is_public(c.client_class);
                let seen = p.answers.check(t, v.hash);
                let gate = public.then(|| mix64(v.client ^ v.server.rotate_left(29)));
                let slot = self.state.slot(t, key, v.client, gate, |held| Probed {
                    held,
                    public,
                    ..Probed::default()
                });
                if let Some(s) = slot {
                    s.tally.add_conn(f, &c, origin, self.rule.max_evidence);
                    let accepted = probing::accepted_by_target(f);
                    s.targets
                        .add(port, TOUCHED | accepted | probing::learned(seen));
                }
            }
            Role::ClientData => {
                p.answers.note(t, v.hash, true);
                if let Some(s) = self.state.get(t, &key, v.client) {
                    s.targets
                        .add(port, TOUCHED | probing::learned((true, true)));
                }
            }
            Role::Reply(data) => {
                p.answers.note(t, v.hash, data);
                if let Some(s) = self.state.get(t, &key, v.client) {
                    s.targets.add(port, probing::learned((true, data)));
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
        self.state.close(watermark, |start, (src, dst), s| {
            let relay_dst = cx.relays.is_relay(dst);
            // The target is (protocol << 16 | port).
            let ignored = |p: &u32| {
                let proto = (*p >> 16) as u8;
                probing
                    .escalate_ignore
                    .contains((proto != 0).then_some(proto), *p as u16)
            };
            let Some(mut v) = probing::judge(&s, min, probes_only, probing, rule.severity, ignored)
            else {
                return;
            };
            if relay_dst {
                // A relay logs unsolicited SYNs as ACCEPT: its probes reached nothing.
                v.severity = rule.severity;
            }
            let mut f = rule.finding(start, &s.tally, Some(src), Some(dst));
            f.severity = v.severity;
            // An estimate can exceed the ports there are.
            v.count = v.count.min(super::PORTS);
            v.touched = v.touched.map(|(n, exact)| (n.min(super::PORTS), exact));
            f.distinct = Some(v.count);
            f.distinct_exact = v.exact;
            f.ports = s
                .targets
                .sample(TOUCHED)
                .iter()
                .map(|p| *p as u16)
                .collect();
            f.ports.sort_unstable();
            f.ports.dedup();
            f.summary = format!(
                "{src} probed {} on {dst} ({}){}",
                v.targets(("port", "ports")),
                count(s.tally.flows, "record", "records"),
                answered_note(v.accepted, v.answered, v.served),
            );
            out.push(f);
            made += 1;
        });
        self.findings += made;
    }

    fn stats(&self, shared: &Shared) -> DetectorStats {
        let (at, owner) = self.answers;
        let answers = if owner { shared.answer_bytes(at) } else { 0 };
        self.state.stats(&self.rule, self.findings, answers)
    }
}
