//! `reject_burst`: many REJECTed records from one source in a window (`sources` narrows to
//! internal or external sources). Also counts the distinct destinations hit (exact up to 32,
//! then HyperLogLog) for the finding.

use super::{Detector, DetectorStats, Rule, Tally, approx, set_hosts};
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
    dsts: Distinct<Addr>,
}

pub struct RejectBurst {
    rule: Rule,
    min_rejects: u64,
    sources: SourceScope,
    state: Windowed<Addr, State>,
    findings: u64,
}

impl RejectBurst {
    pub fn new(rule: Rule, min_rejects: u64, sources: SourceScope) -> Self {
        let state = Windowed::new(rule.window, rule.max_keys);
        RejectBurst {
            rule,
            min_rejects,
            sources,
            state,
            findings: 0,
        }
    }
}

impl Detector for RejectBurst {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin) {
        let (Some((src, dst)), Some(t)) = (f.addrs, f.time) else {
            return;
        };
        if !f.rejected() || !self.sources.admits(f.src_internal) || self.rule.exempt(src, dst) {
            return;
        }
        if let Some((_, s)) = self.state.slot(t, src, State::default) {
            s.tally.add(f, origin, self.rule.max_evidence);
            s.dsts.insert(dst);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, out: &mut Vec<Finding>) {
        let (rule, min) = (&self.rule, self.min_rejects);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for (src, s) in map {
                if s.tally.flows < min {
                    continue;
                }
                let (n, exact) = s.dsts.count();
                let first = s.dsts.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, Some(src), first);
                set_hosts(&mut f, &s.dsts, (n, exact));
                f.summary = format!(
                    "{} from {src} to {} {}",
                    count(s.tally.flows, "rejected record", "rejected records"),
                    approx(n, exact),
                    noun(n, "destination", "destinations")
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
