//! `trust_zones`: ACCEPTed flows that the pack's zone policies (`zones[].accept_from`) do not
//! allow; see `zones` for the rules. The record's initiator decides which side is the client
//! (its zone must be allowed into the server's zone on the service port), so replies are
//! filed under their connection. Records whose initiator is unknown are skipped, or with
//! `settings.initiator_unknown: ports` judged by the zones' own reply heuristic. One finding
//! per connection (client, server, protocol, server port) and window.

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally, conn, set_port};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::initiator::Initiator;
use crate::rules::UnknownInitiator;
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
        let state = rule.windowed(0);
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
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let (Some((src, dst)), Some(t)) = (f.peers, f.time) else {
            return;
        };
        if self.zones.is_empty() || !f.accepted() || self.rule.exempt(src, dst) {
            return;
        }
        let (key, zones, decided) = if f.initiator == Initiator::Unknown {
            if self.rule.unknown == UnknownInitiator::Skip {
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
            let bit = crate::initiator::DecidedBy::Ports.bit();
            if reversed {
                (
                    (dst, src, f.protocol.unwrap_or(0), f.sport),
                    (f.dst_zone, f.src_zone),
                    bit,
                )
            } else {
                (
                    (src, dst, f.protocol.unwrap_or(0), f.dport),
                    (f.src_zone, f.dst_zone),
                    bit,
                )
            }
        } else {
            let Some(c) = conn(f, self.rule.unknown) else {
                return;
            };
            let zones = if c.from_client {
                (f.src_zone, f.dst_zone)
            } else {
                (f.dst_zone, f.src_zone)
            };
            if self.zones.allows(zones.0, zones.1, f.protocol, c.port) {
                return;
            }
            ((c.client, c.server, c.proto, c.port), zones, c.decided)
        };
        if let Some((_, s)) = self.state.slot(t, key, || State {
            tally: Tally::default(),
            zones,
        }) {
            s.tally.add(f, origin, self.rule.max_evidence);
            s.tally.decided |= decided;
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, _cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
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

    fn stats(&self, _shared: &Shared) -> DetectorStats {
        self.rule.stats(&self.state, self.findings, 0)
    }
}
