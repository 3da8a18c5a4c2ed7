//! `host_sweep` (horizontal): one client probing one port on many distinct hosts in a
//! window, told from serving by the hosts' answers (see `probing`); or pinging many hosts
//! (ICMP, ICMPv6: key port 0), told from monitoring by their echo replies. Key (client, protocol,
//! port); hosts are counted exactly up to 32, then HyperLogLog. Public clients' keys go
//! through the admission gate (the internet is a large key space). On an overlay tunnel
//! port ([`TUNNEL_PORTS`]) a receiver sending to its sender on the same port answers it (a
//! mesh peer), as an echo does; the answers are noted here, so with this detector off the
//! port scans sharing its filters do not see them.

use super::probe_state::ProbeState;
use super::probing::{self, Probed, Role};
use super::targets::TOUCHED;
use super::{CloseCx, Detector, DetectorStats, Rule, Shared, in_scope, set_hosts, set_port};
use crate::addr::{Addr, Class};
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::{Probing, SourceScope};
use crate::services::{UDP, protocol_name};
use crate::sketch::mix64;

type Key = (Addr, u8, u16);

pub struct HostSweep {
    rule: Rule,
    min_hosts: u64,
    probes_only: bool,
    sources: SourceScope,
    probing: Probing,
    state: ProbeState<Key, Addr>,
    /// Index of its answer filters in [`Shared`], and whether it created them (counts their
    /// bytes and computes each record's view for the others).
    answers: (usize, bool),
    /// Records seen (see [`probing::Probes::view`]).
    seen: u64,
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
        let state = ProbeState::new(&rule, 64);
        HostSweep {
            rule,
            min_hosts,
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

/// UDP ports of overlay tunnels whose endpoints send to each other on the same port: VXLAN
/// (IANA 4789; 8472, the Linux kernel's default, flannel's and Cilium's) and Geneve (6081).
const TUNNEL_PORTS: [u16; 3] = [4789, 6081, 8472];

impl Detector for HostSweep {
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
        // An accepted ICMP record also answers its receiver's exchange with its sender (see
        // `probing::View::echo`), whoever the sender is. So does a UDP client's record to a
        // tunnel port ([`TUNNEL_PORTS`]): its receiver sending to it on that same port is a
        // peer of an overlay mesh, whose encapsulated traffic each way is its own one-way
        // flow with no reply on the same 5-tuple (probe of session 15: every node of a
        // 25-node overlay was a sweep of udp/8472). Only tunnel ports: on others a client's
        // traffic to a server's port says nothing of the server's probes of it (a DNS
        // server's clients query its 53; it sweeping their 53 was hidden by that).
        let mesh = c.proto == UDP && c.from_client && TUNNEL_PORTS.contains(&c.port);
        if (v.echo || mesh) && f.accepted() {
            p.answers.note(t, v.reverse(), false);
            let back = (c.server, c.proto, c.port);
            if let Some(s) = self.state.get(t, &back, v.server) {
                s.targets.add(c.client, probing::learned((true, false)));
            }
        }
        // Pings count toward a sweep of our or private hosts only: ICMP from our host to
        // many internet hosts is mostly errors it sends back (port unreachable, time
        // exceeded), which look like pings in a flow log.
        if (v.echo && c.server_class == Class::Public)
            || !in_scope(self.sources, c.client_class)
            || self.rule.exempt(c.client, c.server)
        {
            return;
        }
        let key = (c.client, c.proto, c.port);
        match v.role {
            Role::Probe => {
                let public = probing::is_public(c.client_class);
                let seen = p.answers.check(t, v.hash);
                let gate = public
                    .then(|| mix64(v.client ^ (u64::from(c.proto) << 16 | u64::from(c.port))));
                let slot = self.state.slot(t, key, v.client, gate, |held| Probed {
                    held,
                    public,
                    ..Probed::default()
                });
                if let Some(s) = slot {
                    s.tally.add_conn(f, &c, origin, self.rule.max_evidence);
                    let accepted = probing::accepted_by_target(f);
                    s.targets
                        .add(c.server, TOUCHED | accepted | probing::learned(seen));
                }
            }
            Role::ClientData => {
                p.answers.note(t, v.hash, true);
                if let Some(s) = self.state.get(t, &key, v.client) {
                    s.targets
                        .add(c.server, TOUCHED | probing::learned((true, true)));
                }
            }
            Role::Reply(data) => {
                p.answers.note(t, v.hash, data);
                if let Some(s) = self.state.get(t, &key, v.client) {
                    s.targets.add(c.server, probing::learned((true, data)));
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
        self.state.close(watermark, |start, (src, proto, port), s| {
            let web = probing
                .escalate_ignore
                .contains((proto != 0).then_some(proto), port);
            let Some(v) =
                probing::judge(&s, min, probes_only, probing, rule.severity, |a: &Addr| {
                    web || cx.relays.is_relay(*a)
                })
            else {
                return;
            };
            // Pings of which more than `100 - min_probe_share` percent were answered are
            // monitoring with a few hosts down, not a sweep (no data flows to tell them
            // apart by serving). Monitoring is ours: a public source's answered pings told
            // it which of our hosts are up (probe of session 13: 50 answered internet pings
            // were no finding).
            let (touched, _) = s.targets.count(TOUCHED);
            let share = 100 - probing.min_probe_share.min(100);
            if super::is_icmp(Some(proto))
                && !s.public
                && v.answered * 100 > share * (touched + u64::from(s.held))
            {
                return;
            }
            let first = s.targets.sample(TOUCHED).first().copied();
            let mut f = rule.finding(start, &s.tally, Some(src), first);
            f.severity = v.severity;
            set_port(&mut f, proto, port);
            set_hosts(&mut f, s.targets.sample(TOUCHED), (v.count, v.exact));
            let hosts = format!(
                "{}{}",
                v.targets(("host", "hosts")),
                answered_note(v.accepted, v.answered, v.served),
            );
            f.summary = if super::is_icmp(Some(proto)) {
                // A ping sweep: an echo reply says a host is up, not that a service is
                // exposed, so it is never raised for what the pings reached.
                f.severity = rule.severity;
                f.dst_port = None;
                format!("{src} pinged ({}) {hosts}", protocol_name(proto))
            } else {
                format!("{src} probed {}/{port} on {hosts}", protocol_name(proto))
            };
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

/// ` (30 reached, 3 answered, none served data)`, or nothing when no probe got through.
/// A target that answered was reached, and one that served data answered, whatever the
/// counts of accepted probes say (those leave out relays and `escalate_ignore` ports, and a
/// log may hold only the target's side): the note never says "0 reached, 1 answered".
pub fn answered_note(accepted: u64, answered: u64, served: u64) -> String {
    let answered = answered.max(served);
    let accepted = accepted.max(answered);
    if accepted == 0 {
        return String::new();
    }
    let served = if served == 0 {
        "none served data".to_owned()
    } else {
        format!("{served} served data")
    };
    format!(" ({accepted} reached, {answered} answered, {served})")
}

#[cfg(test)]
mod tests {
    use super::answered_note;

    #[test]
    fn the_note_never_answers_more_than_it_reached() {
        assert_eq!(answered_note(0, 0, 0), "");
        assert_eq!(
            answered_note(30, 3, 0),
            " (30 reached, 3 answered, none served data)"
        );
        // Probe review regression: "0 reached, 1 answered" when only the answer counted.
        assert_eq!(
            answered_note(0, 1, 0),
            " (1 reached, 1 answered, none served data)"
        );
        assert_eq!(
            answered_note(2, 0, 1),
            " (2 reached, 1 answered, 1 served data)"
        );
    }
}
