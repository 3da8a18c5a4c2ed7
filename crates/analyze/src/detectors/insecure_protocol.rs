//! `insecure_protocol`: cleartext protocols (the rule's `services`: telnet, FTP, SMB, LDAP...)
//! ACCEPTed across the internet boundary, inbound or outbound. Matched on the destination
//! port, so replies (which carry the service port as their source) are not counted again.
//! One finding per (source, destination, protocol, port) and window.

use super::{Detector, DetectorStats, Rule, Tally, set_port};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::services::{ServiceSet, protocol_name};
use crate::window::Windowed;

pub struct InsecureProtocol {
    rule: Rule,
    services: ServiceSet,
    state: Windowed<(Addr, Addr, u8, u16), Tally>,
    findings: u64,
}

impl InsecureProtocol {
    pub fn new(rule: Rule, services: ServiceSet) -> Self {
        let state = Windowed::new(rule.window, rule.max_keys);
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
    fn observe(&mut self, f: &Flow, origin: Origin) {
        let (Some((src, dst)), Some(t)) = (f.addrs, f.time) else {
            return;
        };
        if !f.accepted()
            || f.src_internal == f.dst_internal
            || !f.ported
            || !self.services.contains(f.protocol, f.dport)
            || self.rule.exempt(src, dst)
        {
            return;
        }
        let key = (src, dst, f.protocol.unwrap_or(0), f.dport);
        if let Some((_, tally)) = self.state.slot(t, key, Tally::default) {
            tally.add(f, origin, self.rule.max_evidence);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>) {
        let (rule, services) = (&self.rule, &self.services);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, dst, proto, port), tally) in map {
                let protocol = (proto != 0).then_some(proto);
                let service = services.name_of(protocol, port).unwrap_or("insecure protocol");
                let mut f = rule.finding(start, &tally, Some(src), Some(dst));
                set_port(&mut f, proto, port);
                f.service = Some(service.to_owned());
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

    fn stats(&self) -> DetectorStats {
        self.rule.stats(&self.state, self.findings)
    }
}
