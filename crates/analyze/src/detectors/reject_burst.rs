//! `reject_burst`: many REJECTed records sent by one source in a window (`sources` narrows
//! to internal or external sources). Rejected replies (the record's initiator is its
//! destination: a network ACL dropping a server's answers) are not the sender's doing and
//! are skipped. Also counts the distinct destinations hit (exact up to 32, then
//! HyperLogLog). Public sources go through the admission gate; records it held count
//! toward the threshold.

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally, approx, set_hosts};
use crate::addr::Addr;
use crate::addr::Class;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::initiator::Initiator;
use crate::rules::SourceScope;
use crate::sketch::Distinct;
use crate::sketch::hash_addr;
use crate::text::{count, noun};
use crate::window::Windowed;

#[derive(Default)]
struct State {
    tally: Tally,
    dsts: Distinct<Addr>,
    held: u32,
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
        let state = rule.windowed(64).with_gate(rule.promote_at);
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
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let (Some((src, dst)), Some(t)) = (f.peers, f.time) else {
            return;
        };
        if !f.rejected()
            || f.initiator == Initiator::Dst
            || !self.sources.admits(f.src_internal)
            || self.rule.exempt(src, dst)
        {
            return;
        }
        let slot = if f.src_class == Class::Public {
            self.state.slot_gated(t, src, hash_addr(src), |held| State {
                held,
                ..State::default()
            })
        } else {
            self.state.slot(t, src, State::default)
        };
        if let Some((_, s)) = slot {
            s.tally.add(f, origin, self.rule.max_evidence);
            s.tally.decided |= f.decided_by.bit();
            s.dsts.insert(dst);
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, _cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, min) = (&self.rule, self.min_rejects);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for (src, s) in map {
                if s.tally.flows + u64::from(s.held) < min {
                    continue;
                }
                let (n, exact) =
                    super::at_most_records(s.tally.flows + u64::from(s.held), s.dsts.count());
                let first = s.dsts.sample().first().copied();
                let mut f = rule.finding(start, &s.tally, Some(src), first);
                f.flows += u64::from(s.held);
                set_hosts(&mut f, s.dsts.sample(), (n, exact));
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

    fn stats(&self, _shared: &Shared) -> DetectorStats {
        self.rule.stats(&self.state, self.findings, 0)
    }
}
