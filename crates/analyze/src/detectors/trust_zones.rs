//! `trust_zones`: ACCEPTed flows that the pack's zone policies (`zones[].accept_from`) do not
//! allow; see `zones` for the rules, replies included. One finding per connection (client,
//! server, protocol, server port) and window; replies are filed under their connection.

use super::{Detector, DetectorStats, Rule, Tally, set_port};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::services::protocol_name;
use crate::window::Windowed;
use crate::zones::{ZoneRef, Zones};

struct State {
    tally: Tally,
    zones: (ZoneRef, ZoneRef),
}

pub struct TrustZones {
    rule: Rule,
    zones: Zones,
    state: Windowed<(Addr, Addr, u8, u16), State>,
    findings: u64,
}

impl TrustZones {
    pub fn new(rule: Rule, zones: Zones) -> Self {
        let state = Windowed::new(rule.window, rule.max_keys);
        TrustZones {
            rule,
            zones,
            state,
            findings: 0,
        }
    }
}

impl Detector for TrustZones {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin) {
        let (Some((src, dst)), Some(t)) = (f.addrs, f.time) else {
            return;
        };
        if self.zones.is_empty() || !f.accepted() || self.rule.exempt(src, dst) {
            return;
        }
        let Some(reversed) = self.zones.violation(
            f.src_zone,
            f.dst_zone,
            f.protocol,
            (f.sport, f.dport),
            f.flags,
        ) else {
            return;
        };
        // A reply is filed under the connection it answers: client, server, server port.
        let (key, zones) = if reversed {
            (
                (dst, src, f.protocol.unwrap_or(0), f.sport),
                (f.dst_zone, f.src_zone),
            )
        } else {
            (
                (src, dst, f.protocol.unwrap_or(0), f.dport),
                (f.src_zone, f.dst_zone),
            )
        };
        if let Some((_, s)) = self.state.slot(t, key, || State {
            tally: Tally::default(),
            zones,
        }) {
            s.tally.add(f, origin, self.rule.max_evidence);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>) {
        let (rule, zones) = (&self.rule, &self.zones);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, dst, proto, port), s) in map {
                let (from, to) = (zones.name(s.zones.0), zones.name(s.zones.1));
                let mut f = rule.finding(start, &s.tally, Some(src), Some(dst));
                set_port(&mut f, proto, port);
                f.src_zone = Some(from.to_owned());
                f.dst_zone = Some(to.to_owned());
                f.summary = format!(
                    "{from} → {to} on {}/{port} is not allowed by zone {to}'s policy ({src} → {dst})",
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
