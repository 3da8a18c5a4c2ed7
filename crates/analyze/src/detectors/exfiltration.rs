//! `exfiltration`: bytes sent from an internal address to one external address per window
//! above `min_bytes`. Records whose `pkt-dst-aws-service` is S3 or DynamoDB
//! ([`EXCLUDED_AWS_SERVICES`](crate::services::EXCLUDED_AWS_SERVICES)) are skipped when
//! `exclude_aws_services` is on (the default); other labels are not (`EC2` and `AMAZON`
//! cover every instance, an attacker's too: skipping them hid a 3 GiB upload).
//!
//! Bytes count under the real peers (`pkt-srcaddr`/`pkt-dstaddr`), so a flow relayed by a
//! NAT gateway counts under the instance that sent it; a window's pair whose source is a
//! relay is dropped at close when inner legs through that relay were seen (the real source
//! has its own finding), or when real sources sent the same destination all but less than
//! `min_bytes` of the relay's bytes in that window (logs without pkt fields, where inner legs
//! cannot be told: the instance's records name it); else it is kept with `via` (the
//! instance's interface was not logged). Records a server sent in reply (initiator =
//! destination) are serving, not exfiltration, and are skipped; records whose initiator is
//! unknown count.
//!
//! Every internal → external pair may carry traffic, so exact per-pair state would grow with
//! the number of peers. Instead each window has a Count-Min sketch (2 × 16384 counters,
//! 256 KiB; a closed window's is cleared and reused) of bytes per pair; a pair becomes a
//! *candidate* once its estimate reaches a quarter of `min_bytes`, and only candidates hold
//! exact state. A finding's `bytes` is the sketch estimate at window close: never below the
//! truth, above it by more than e²/16384 ≈ 0.045% of the window's total external bytes with
//! probability ≤ 1.8%. Its
//! `flows`, `packets` and evidence cover the records since the pair became a candidate.

use std::collections::VecDeque;

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally, human_bytes};
use crate::addr::Addr;
use crate::finding::{Finding, Origin};
use crate::flow::Flow;
use crate::initiator::Initiator;
use crate::sketch::{CountMin, FastMap, fast_map, hash_addr, mix64};
use crate::time::window_start;
use crate::window::Windowed;

const SKETCH_WIDTH: usize = 1 << 14;

pub struct Exfiltration {
    rule: Rule,
    min_bytes: u64,
    promote_at: u64,
    exclude_aws_services: bool,
    sketches: VecDeque<(u64, CountMin)>,
    /// A closed window's sketch, kept for the next window (no fresh pages).
    spare: Option<CountMin>,
    candidates: Windowed<(Addr, Addr), Tally>,
    findings: u64,
}

fn pair_hash(src: Addr, dst: Addr) -> u64 {
    mix64(hash_addr(src) ^ hash_addr(dst).rotate_left(17))
}

impl Exfiltration {
    pub fn new(rule: Rule, min_bytes: u64, exclude_aws_services: bool) -> Self {
        let candidates = rule.windowed(0);
        Exfiltration {
            rule,
            min_bytes,
            promote_at: (min_bytes / 4).max(1),
            exclude_aws_services,
            sketches: VecDeque::new(),
            spare: None,
            candidates,
            findings: 0,
        }
    }

    fn sketch(&mut self, ws: u64) -> &mut CountMin {
        let at = match self.sketches.iter().rposition(|(s, _)| *s <= ws) {
            Some(i) if self.sketches[i].0 == ws => i,
            found => {
                let i = found.map_or(0, |i| i + 1);
                let sketch = match self.spare.take() {
                    Some(mut s) => {
                        s.clear();
                        s
                    }
                    None => CountMin::new(SKETCH_WIDTH),
                };
                self.sketches.insert(i, (ws, sketch));
                i
            }
        };
        &mut self.sketches[at].1
    }
}

impl Detector for Exfiltration {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let (Some((src, dst)), Some(t)) = (f.peers, f.time) else {
            return;
        };
        if !f.accepted()
            || !f.src_internal
            || f.dst_internal
            || f.initiator == Initiator::Dst
            || f.bytes == 0
            || (self.exclude_aws_services && f.dst_aws_storage)
            || self.rule.exempt(src, dst)
            || self.candidates.reject_late(t)
        {
            return;
        }
        let ws = window_start(t, self.rule.window);
        let estimate = self.sketch(ws).add(pair_hash(src, dst), f.bytes);
        if estimate >= self.promote_at
            && let Some((_, tally)) = self.candidates.slot(t, (src, dst), Tally::default)
        {
            tally.add(f, origin, self.rule.max_evidence);
            tally.decided |= f.decided_by.bit();
        }
    }

    fn next_close(&self) -> Option<u64> {
        let sketch = self.sketches.front().map(|(s, _)| s + self.rule.window);
        match (self.candidates.next_close(), sketch) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn close(&mut self, watermark: u64, cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let Exfiltration {
            rule,
            min_bytes,
            sketches,
            spare,
            candidates,
            findings,
            ..
        } = self;
        candidates.close(watermark, |start, map| {
            let Some((_, cms)) = sketches.iter().find(|(s, _)| *s == start) else {
                return;
            };
            let pairs: Vec<((Addr, Addr), Tally, u64, bool)> = map
                .into_iter()
                .map(|((src, dst), tally)| {
                    let bytes = cms.estimate(pair_hash(src, dst));
                    ((src, dst), tally, bytes, cx.relays.is_internet_relay(src))
                })
                .collect();
            // Bytes each destination received from real (non-relay) sources this window: a
            // relay's bytes to it that these explain were relayed for them.
            let mut explained: FastMap<Addr, u64> = fast_map();
            for ((_, dst), _, bytes, relay) in &pairs {
                if !relay {
                    let b = explained.entry(*dst).or_default();
                    *b = b.saturating_add(*bytes);
                }
            }
            for ((src, dst), tally, bytes, relay) in pairs {
                if bytes < *min_bytes {
                    continue;
                }
                // A relay's own address is not the culprit when the real source was seen
                // through it (its inner legs carry the same bytes under the real peer), nor
                // when real sources sent the destination all but less than the threshold of
                // what the relay sent it (logs without pkt fields: the instance's own records
                // name it, the relay's outer leg repeats the bytes).
                if relay && cx.relays.fronts_internet(src) {
                    continue;
                }
                let from_real = explained.get(&dst).copied().unwrap_or(0);
                let unexplained = bytes.saturating_sub(from_real);
                if relay && unexplained < *min_bytes {
                    continue;
                }
                let mut f = rule.finding(start, &tally, Some(src), Some(dst));
                f.bytes = bytes;
                if relay {
                    f.via = Some(match from_real {
                        0 => format!("relay {src} (real source not logged)"),
                        _ => format!(
                            "relay {src} ({} of it not explained by logged sources)",
                            human_bytes(unexplained)
                        ),
                    });
                }
                f.summary = format!(
                    "internal {src} sent {} to external {dst} (threshold {})",
                    human_bytes(bytes),
                    human_bytes(*min_bytes)
                );
                out.push(f);
                *findings += 1;
            }
        });
        let window = rule.window;
        let frontier = if watermark == u64::MAX {
            u64::MAX
        } else {
            window_start(watermark, window)
        };
        while sketches
            .front()
            .is_some_and(|(s, _)| s.saturating_add(window) <= frontier)
        {
            if let Some((_, s)) = sketches.pop_front()
                && watermark != u64::MAX
            {
                *spare = Some(s);
            }
        }
        if watermark == u64::MAX {
            *spare = None; // the end: nothing will reuse it
        }
    }

    fn stats(&self, _shared: &Shared) -> DetectorStats {
        self.rule.stats(
            &self.candidates,
            self.findings,
            self.sketches
                .iter()
                .map(|(_, s)| s)
                .chain(&self.spare)
                .map(CountMin::bytes)
                .sum(),
        )
    }
}
