//! `log_health`: NODATA or SKIPDATA records (the rule's `status`) per interface and window.
//! SKIPDATA means AWS dropped records in the interval; NODATA means the interface logged no
//! traffic. One finding per interface and window with at least `min_records` such records
//! whose aggregation intervals (`end - start`, summed) cover at least `min_coverage` percent
//! of the window: on a log aggregating every minute, six NODATA records are six idle
//! minutes, not the idle hour six 10-minute records are.

use flowlog::LogStatus;

use super::{CloseCx, Detector, DetectorStats, Rule, Shared, Tally};
use crate::finding::{Finding, Origin};
use crate::flow::{Flow, ShortId};
use crate::text::{count, noun};
use crate::window::Windowed;

pub struct LogHealth {
    rule: Rule,
    status: LogStatus,
    min_records: u64,
    min_coverage: u64,
    /// Per interface and window: the records, and the seconds their intervals cover.
    state: Windowed<ShortId, (Tally, u64)>,
    findings: u64,
}

impl LogHealth {
    pub fn new(rule: Rule, status: LogStatus, min_records: u64, min_coverage: u64) -> Self {
        let state = rule.windowed(0);
        LogHealth {
            rule,
            status,
            min_records,
            min_coverage,
            state,
            findings: 0,
        }
    }
}

impl Detector for LogHealth {
    #[inline]
    fn observe(&mut self, f: &Flow, origin: Origin, _shared: &mut Shared) {
        let Some(t) = f.time else {
            return;
        };
        if f.status != self.status {
            return;
        }
        let key = f.interface.unwrap_or_else(|| ShortId::new("-"));
        if let Some((_, (tally, covered))) = self.state.slot(t, key, Default::default) {
            tally.add(f, origin, self.rule.max_evidence);
            *covered = covered.saturating_add(f.end.map_or(0, |end| end.saturating_sub(t)));
        }
    }

    fn next_close(&self) -> Option<u64> {
        self.state.next_close()
    }

    fn close(&mut self, watermark: u64, _cx: &CloseCx<'_>, out: &mut Vec<Finding>) {
        let (rule, min, status) = (&self.rule, self.min_records, self.status);
        // Seconds of the window the intervals must cover (rounded up).
        let need = crate::rules::coverage_seconds(self.min_coverage, rule.window);
        let mut made = 0;
        self.state.close(watermark, |start, map| {
            for (iface, (tally, covered)) in map {
                if tally.flows < min || covered < need {
                    continue;
                }
                let mut f = rule.finding(start, &tally, None, None);
                let id = iface.text();
                f.summary = summary(&id, status, tally.flows);
                f.interface_id = Some(id);
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

/// A log-health finding's one line, for interface `id` with `flows` records of `status`
/// (the local detector's and the Athena rows' both).
pub fn summary(id: &str, status: LogStatus, flows: u64) -> String {
    match status {
        LogStatus::SkipData => format!(
            "{id}: {} (flow records were dropped)",
            count(flows, "SKIPDATA record", "SKIPDATA records")
        ),
        _ => format!(
            "{id}: {flows} {}",
            noun(
                flows,
                &format!("{} record", status.as_str()),
                &format!("{} records", status.as_str())
            )
        ),
    }
}
