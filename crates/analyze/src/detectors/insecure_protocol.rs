//! `insecure_protocol`: cleartext protocols (the rule's `services`: telnet, FTP, SMB, LDAP...)
//! ACCEPTed across the internet boundary, inbound (a public client of our server) or outbound
//! (our client of a public server). Matched on the connection's service port (the record's
//! initiator decides which side is the server), so a client's records and the server's
//! replies count under one key. One finding per (client, server, protocol, port) and
//! window; `ours` names our side. A connection counts only when its server answered (data,
//! a SYN-ACK, or a client record that carried more than a handshake; a reset is a closed
//! port): an accepted SYN says only that a security group, or a NAT gateway's interface,
//! which logs unsolicited SYNs as ACCEPT, let it in, and a scan of our host's telnet and FTP
//! ports answered by resets was four "cleartext" rows.

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally, conn, set_port};
use crate::addr::Addr;
use crate::addr::Class;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::services::{ServiceSet, protocol_name};
use crate::window::Windowed;

/// Counts of one connection, whether our side is the server, whether the server answered.
type State = (Tally, bool, bool);

pub struct InsecureProtocol {
    rule: Rule,
    services: ServiceSet,
    state: Windowed<(Addr, Addr, u8, u16), State>,
    findings: u64,
}

impl InsecureProtocol {
    pub fn new(rule: Rule, services: ServiceSet) -> Self {
        let state = rule.windowed(0);
        InsecureProtocol {
            rule,
            services,
            state,
            findings: 0,
        }
    }
}

impl Detector for InsecureProtocol {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let Some(t) = f.time else {
            return;
        };
        if !f.accepted() {
            return;
        }
        let Some(c) = conn(f, self.rule.unknown) else {
            return;
        };
        let across = (c.client_class == Class::Public) != (c.server_class == Class::Public);
        if !across
            || !self.services.contains(f.protocol, c.port)
            || self.rule.exempt(c.client, c.server)
        {
            return;
        }
        let key = (c.client, c.server, c.proto, c.port);
        let server_ours = c.server_class != Class::Public;
        if let Some((_, (tally, _, answered))) = self
            .state
            .slot(t, key, || (Tally::default(), server_ours, false))
        {
            tally.add_conn(f, &c, origin, self.rule.max_evidence);
            // A reset from a closed port is a refusal, not an answer.
            *answered |= super::answered(f, &c) && !super::probing::refused(f);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, _cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, services) = (&self.rule, &self.services);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, dst, proto, port), (tally, server_ours, answered)) in map {
                // Cleartext was spoken only if the server answered (see the module docs).
                if !answered {
                    continue;
                }
                let protocol = (proto != 0).then_some(proto);
                let service = services.name_of(protocol, port).unwrap_or("insecure protocol");
                let mut f = rule.finding(start, &tally, Some(src), Some(dst));
                set_port(&mut f, proto, port);
                f.service = Some(service.to_owned());
                f.ours = Some(if server_ours { dst } else { src }.ip());
                f.summary = format!(
                    "cleartext {service} ({}/{port}) accepted across the internet boundary: {src} → {dst}",
                    protocol_name(proto)
                );
                out.push(f);
                made += 1;
            }
        });
        self.findings += made;
    }

    fn stats(&self, _shared: &Shared) -> DetectorStats {
        self.rule.stats(&self.state, self.findings, 0)
    }
}
