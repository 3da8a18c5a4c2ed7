//! `host_sweep` (horizontal): one source reaching one port on many distinct hosts in a
//! window. Probes only by default. Hosts are counted exactly up to 32, then HyperLogLog.

use super::{Detector, DetectorStats, Rule, Tally, approx, scan_candidate, set_hosts, set_port};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::SourceScope;
use crate::services::protocol_name;
use crate::sketch::Distinct;
use crate::text::noun;
use crate::window::Windowed;

#[derive(Default)]
struct State {
    tally: Tally,
    hosts: Distinct<Addr>,
}

pub struct HostSweep {
    rule: Rule,
    min_hosts: u64,
    probes_only: bool,
    sources: SourceScope,
    state: Windowed<(Addr, u8, u16), State>,
    findings: u64,
}

impl HostSweep {
    pub fn new(rule: Rule, min_hosts: u64, probes_only: bool, sources: SourceScope) -> Self {
        let state = Windowed::new(rule.window, rule.max_keys);
        HostSweep {
            rule,
            min_hosts,
            probes_only,
            sources,
            state,
            findings: 0,
        }
    }
}

impl Detector for HostSweep {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin) {
        let Some((src, dst, t)) = scan_candidate(f, &self.rule, self.probes_only, self.sources)
        else {
            return;
        };
        let key = (src, f.protocol.unwrap_or(0), f.dport);
        if let Some((_, s)) = self.state.slot(t, key, State::default) {
            s.tally.add(f, origin, self.rule.max_evidence);
            s.hosts.insert(dst);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>) {
        let (rule, min) = (&self.rule, self.min_hosts);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, proto, port), s) in map {
                let (n, exact) = s.hosts.count();
                if n < min {
                    continue;
                }
                let first = s.hosts.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, Some(src), first);
                set_port(&mut f, proto, port);
                set_hosts(&mut f, &s.hosts, (n, exact));
                f.summary = format!(
                    "{src} probed {}/{port} on {} distinct {}",
                    protocol_name(proto),
                    approx(n, exact),
                    noun(n, "host", "hosts")
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
