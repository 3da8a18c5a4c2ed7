//! `lateral_movement`: an internal client opening connections to many distinct internal
//! servers on admin services (the rule's `services`, on the connection's service port) in a
//! window; rejected attempts count too unless `include_rejected: false`. Servers are counted
//! exactly up to 32, then HyperLogLog.

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally, approx, conn, set_hosts};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::services::ServiceSet;
use crate::sketch::Distinct;
use crate::text::noun;
use crate::window::Windowed;

#[derive(Default)]
struct State {
    tally: Tally,
    hosts: Distinct<Addr>,
    ports: Distinct<u32>,
}

pub struct LateralMovement {
    rule: Rule,
    services: ServiceSet,
    min_hosts: u64,
    include_rejected: bool,
    state: Windowed<Addr, State>,
    findings: u64,
}

impl LateralMovement {
    pub fn new(rule: Rule, services: ServiceSet, min_hosts: u64, include_rejected: bool) -> Self {
        let state = rule.windowed(64);
        LateralMovement {
            rule,
            services,
            min_hosts,
            include_rejected,
            state,
            findings: 0,
        }
    }
}

impl Detector for LateralMovement {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let Some(t) = f.time else {
            return;
        };
        let counted = f.accepted() || (self.include_rejected && f.rejected());
        if !counted {
            return;
        }
        let Some(c) = conn(f, self.rule.unknown) else {
            return;
        };
        if !c.client_class.internal()
            || !c.server_class.internal()
            || c.client == c.server
            || !self.services.contains(f.protocol, c.port)
            || self.rule.exempt(c.client, c.server)
        {
            return;
        }
        if let Some((_, s)) = self.state.slot(t, c.client, State::default) {
            s.tally.add_conn(f, &c, origin, self.rule.max_evidence);
            s.hosts.insert(c.server);
            s.ports.insert(u32::from(c.port));
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, _cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, services, min) = (&self.rule, &self.services, self.min_hosts);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for (src, s) in map {
                let (n, exact) = super::at_most_records(s.tally.flows, s.hosts.count());
                if n < min {
                    continue;
                }
                let first = s.hosts.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, Some(src), first);
                set_hosts(&mut f, s.hosts.sample(), (n, exact));
                f.ports = s.ports.sample().iter().map(|p| *p as u16).collect();
                if let [port] = f.ports[..] {
                    f.dst_port = Some(port);
                    f.service = services
                        .name_of(Some(crate::services::TCP), port)
                        .map(str::to_owned);
                }
                let names: Vec<String> = f
                    .ports
                    .iter()
                    .map(|p| {
                        services
                            .name_of(Some(crate::services::TCP), *p)
                            .map_or_else(|| p.to_string(), str::to_owned)
                    })
                    .collect();
                f.summary = format!(
                    "internal host {src} reached {} internal {} on admin ports ({})",
                    approx(n, exact),
                    noun(n, "host", "hosts"),
                    names.join(", ")
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
