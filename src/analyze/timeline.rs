//! Traffic over time for the HTML report: accepted and rejected flows and bytes per time
//! bucket, by record start. Fed on the engine thread with the flows the engine's reports
//! count (after the double-ended dedupe), so its flows add up to the summary's. Memory is
//! bounded: when there would be more than [`MAX_BUCKETS`] buckets, the bucket length doubles
//! and neighbours merge. The engine thread is the analyzer's one serial stage, so a record
//! costs a comparison: it is added to the bucket in hand, and the map is touched only when the
//! bucket changes ([`Timeline::flush`] adds the last one).

use std::collections::BTreeMap;

use flowkeeper_analyze::Flow;
use serde::Serialize;

pub const MAX_BUCKETS: usize = 512;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub accepted_flows: u64,
    pub accepted_bytes: u64,
    pub rejected_flows: u64,
    pub rejected_bytes: u64,
}

impl Bucket {
    #[inline]
    fn count(&mut self, accepted: bool, bytes: u64) {
        if accepted {
            self.accepted_flows += 1;
            self.accepted_bytes = self.accepted_bytes.saturating_add(bytes);
        } else {
            self.rejected_flows += 1;
            self.rejected_bytes = self.rejected_bytes.saturating_add(bytes);
        }
    }

    fn merge(&mut self, b: &Bucket) {
        self.accepted_flows = self.accepted_flows.saturating_add(b.accepted_flows);
        self.accepted_bytes = self.accepted_bytes.saturating_add(b.accepted_bytes);
        self.rejected_flows = self.rejected_flows.saturating_add(b.rejected_flows);
        self.rejected_bytes = self.rejected_bytes.saturating_add(b.rejected_bytes);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Seconds per bucket.
    pub bucket_seconds: u64,
    /// Bucket start (Unix seconds) → traffic (complete after [`Timeline::flush`]).
    pub buckets: BTreeMap<u64, Bucket>,
    /// The bucket being counted, not yet in `buckets`.
    #[serde(skip)]
    current: Option<(u64, Bucket)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bucket_seconds: 60,
            buckets: BTreeMap::new(),
            current: None,
        }
    }
}

impl Timeline {
    /// Counts a flow the reports counted: accepted or rejected, at its time (flows without
    /// either, or without a time, are in no bucket, as in the summary's accepted/rejected).
    #[inline]
    pub fn add_flow(&mut self, f: &Flow) {
        if let Some(t) = f.time
            && (f.accepted() || f.rejected())
        {
            self.add(t, f.accepted(), f.bytes);
        }
    }

    #[inline]
    pub fn add(&mut self, start: u64, accepted: bool, bytes: u64) {
        let key = start - start % self.bucket_seconds;
        match &mut self.current {
            Some((k, b)) if *k == key => b.count(accepted, bytes),
            _ => {
                self.flush();
                let mut b = Bucket::default();
                b.count(accepted, bytes);
                self.current = Some((key, b));
            }
        }
    }

    /// Moves the bucket being counted into `buckets` (call before reading them).
    pub fn flush(&mut self) {
        if let Some((k, b)) = self.current.take() {
            self.buckets.entry(k).or_default().merge(&b);
            while self.buckets.len() > MAX_BUCKETS {
                self.coarsen();
            }
        }
    }

    fn coarsen(&mut self) {
        self.bucket_seconds *= 2;
        let size = self.bucket_seconds;
        let mut merged: BTreeMap<u64, Bucket> = BTreeMap::new();
        for (k, b) in std::mem::take(&mut self.buckets) {
            merged.entry(k - k % size).or_default().merge(&b);
        }
        self.buckets = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_stay_bounded_and_totals_are_kept() {
        let mut t = Timeline::default();
        for i in 0..10_000u64 {
            // Out of order now and then, so buckets are left and come back.
            let at = if i % 7 == 0 { i / 2 } else { i };
            t.add(1_700_000_000 + at * 60, i % 3 != 0, 10);
            t.add(1_700_000_000 + at * 60 + 1, i % 3 != 0, u64::MAX);
        }
        t.flush();
        assert!(t.buckets.len() <= MAX_BUCKETS);
        let flows: u64 = t
            .buckets
            .values()
            .map(|b| b.accepted_flows + b.rejected_flows)
            .sum();
        assert_eq!(flows, 20_000);
        assert!(
            t.buckets
                .values()
                .all(|b| b.accepted_bytes == u64::MAX || b.accepted_flows == 0)
        );
        assert!(t.bucket_seconds > 60);
    }
}
