//! `port_scan` (vertical): one source reaching many distinct ports of one host in a window.
//! Counts probes only by default (REJECTs and data-less SYNs, see `flow`); a port seen again
//! is not counted twice. Ports are counted per (protocol, port); exact up to 32, then
//! HyperLogLog.

use super::{Detector, DetectorStats, Rule, Tally, approx, scan_candidate};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::rules::SourceScope;
use crate::sketch::Distinct;
use crate::text::{count, noun};
use crate::window::Windowed;

#[derive(Default)]
struct State {
    tally: Tally,
    ports: Distinct<u32>,
}

pub struct PortScan {
    rule: Rule,
    min_ports: u64,
    probes_only: bool,
    sources: SourceScope,
    state: Windowed<(Addr, Addr), State>,
    findings: u64,
}

impl PortScan {
    pub fn new(rule: Rule, min_ports: u64, probes_only: bool, sources: SourceScope) -> Self {
        let state = Windowed::new(rule.window, rule.max_keys);
        PortScan {
            rule,
            min_ports,
            probes_only,
            sources,
            state,
            findings: 0,
        }
    }
}

impl Detector for PortScan {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin) {
        let Some((src, dst, t)) = scan_candidate(f, &self.rule, self.probes_only, self.sources)
        else {
            return;
        };
        if let Some((_, s)) = self.state.slot(t, (src, dst), State::default) {
            s.tally.add(f, origin, self.rule.max_evidence);
            s.ports
                .insert(u32::from(f.protocol.unwrap_or(0)) << 16 | u32::from(f.dport));
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>) {
        let (rule, min) = (&self.rule, self.min_ports);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for ((src, dst), s) in map {
                let (n, exact) = s.ports.count();
                if n < min {
                    continue;
                }
                let mut f = rule.finding(start, &s.tally, Some(src), Some(dst));
                f.distinct = Some(n);
                f.distinct_exact = exact;
                f.ports = s.ports.sample().iter().map(|p| *p as u16).collect();
                f.ports.sort_unstable();
                f.ports.dedup();
                f.summary = format!(
                    "{src} probed {} distinct {} on {dst} ({})",
                    approx(n, exact),
                    noun(n, "port", "ports"),
                    count(s.tally.flows, "record", "records")
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
