//! `host_sweep` (horizontal): one client probing one port on many distinct hosts in a
//! window, told from serving by the hosts' answers (see `probing`). Key (client, protocol,
//! port); hosts are counted exactly up to 32, then HyperLogLog. Public clients' keys go
//! through the admission gate (the internet is a large key space).

use super::probing::{self, Probed, Role};
use super::{
    CloseCx, Detector, DetectorStats, Rule, Shared, approx, in_scope, probe_conn, set_hosts,
    set_port,
};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::{Probing, SourceScope};
use crate::services::protocol_name;
use crate::sketch::{hash_addr, mix64};
use crate::text::noun;
use crate::window::Windowed;

type Key = (Addr, u8, u16);

pub struct HostSweep {
    rule: Rule,
    min_hosts: u64,
    probes_only: bool,
    sources: SourceScope,
    probing: Probing,
    state: Windowed<Key, Probed<Addr>>,
    /// Index of its answer filters in [`Shared`], and whether it counts their bytes.
    answers: (usize, bool),
    findings: u64,
}

impl HostSweep {
    pub fn new(
        rule: Rule,
        min_hosts: u64,
        probes_only: bool,
        sources: SourceScope,
        probing: Probing,
        answers: (usize, bool),
    ) -> Self {
        let state = rule.windowed(64).with_gate(rule.promote_at);
        HostSweep {
            rule,
            min_hosts,
            probes_only,
            sources,
            probing,
            state,
            answers,
            findings: 0,
        }
    }
}

impl Detector for HostSweep {
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
        let key = (c.client, c.proto, c.port);
        match probing::role(f, &c, self.probes_only) {
            Role::Probe => {
                let public = probing::is_public(c.client_class);
                let seen = shared
                    .answers(self.answers.0)
                    .check(t, probing::conn_hash(&c));
                let slot = if public {
                    let h =
                        mix64(hash_addr(c.client) ^ (u64::from(c.proto) << 16 | u64::from(c.port)));
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
                    s.touched.insert(c.server);
                    if f.accepted() {
                        s.accepted.insert(c.server);
                    }
                    s.learn(c.server, seen);
                }
            }
            Role::ClientData => {
                shared
                    .answers(self.answers.0)
                    .note(t, probing::conn_hash(&c), true);
                if let Some(s) = self.state.get(t, &key) {
                    s.touched.insert(c.server);
                    s.learn(c.server, (true, true));
                }
            }
            Role::Reply(data) => {
                shared
                    .answers(self.answers.0)
                    .note(t, probing::conn_hash(&c), data);
                if let Some(s) = self.state.get(t, &key) {
                    s.learn(c.server, (true, data));
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
            (&self.rule, self.min_hosts, self.probes_only, &self.probing);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, proto, port), s) in map {
                let Some(v) =
                    probing::judge(&s, min, probes_only, probing, rule.severity, |a: &Addr| {
                        cx.relays.is_relay(*a)
                    })
                else {
                    continue;
                };
                let first = s.touched.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, Some(src), first);
                f.severity = v.severity;
                set_port(&mut f, proto, port);
                set_hosts(&mut f, &s.touched, (v.count, v.exact));
                f.summary = format!(
                    "{src} probed {}/{port} on {} distinct {}{}",
                    protocol_name(proto),
                    approx(v.count, v.exact),
                    noun(v.count, "host", "hosts"),
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

/// ` (30 accepted, 3 answered, none served data)`, or nothing when no probe got through.
pub fn answered_note(accepted: u64, answered: u64, served: u64) -> String {
    if accepted == 0 && answered == 0 {
        return String::new();
    }
    let served = if served == 0 {
        "none served data".to_owned()
    } else {
        format!("{served} served data")
    };
    format!(" ({accepted} reached, {answered} answered, {served})")
}
