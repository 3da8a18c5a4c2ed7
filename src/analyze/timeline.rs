//! Traffic over time for the HTML report: accepted and rejected flows and bytes per time
//! bucket, by record start. Fed on the engine thread with the flows the engine's reports
//! count (after the double-ended dedupe), so its flows add up to the summary's. Memory is
//! bounded: when there would be more than [`MAX_BUCKETS`] buckets, the bucket length doubles
//! and neighbours merge. The engine thread is the analyzer's one serial stage, so a record
//! costs a few comparisons: it is added to one of the last few buckets in hand, and the map
//! is touched only when one of those is evicted ([`Timeline::flush`] adds the rest).

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

/// Buckets counted beside the map (records of a few minutes interleave, so the bucket in hand
/// changes on almost every record; the map is touched only when one of these is evicted).
const RECENT: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Seconds per bucket.
    pub bucket_seconds: u64,
    /// Bucket start (Unix seconds) → traffic (complete after [`Timeline::flush`]).
    pub buckets: BTreeMap<u64, Bucket>,
    /// The buckets being counted, not yet in `buckets`, oldest first; their starts are
    /// multiples of `bucket_seconds`.
    #[serde(skip)]
    recent: Vec<(u64, Bucket)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bucket_seconds: 60,
            buckets: BTreeMap::new(),
            recent: Vec::with_capacity(RECENT),
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

    /// Counts one flow at `start`: a range test against the recent buckets (no division),
    /// else a new recent bucket, evicting the oldest into the map.
    #[inline]
    pub fn add(&mut self, start: u64, accepted: bool, bytes: u64) {
        let size = self.bucket_seconds;
        if let Some((_, b)) = self
            .recent
            .iter_mut()
            .find(|(k, _)| start.wrapping_sub(*k) < size)
        {
            b.count(accepted, bytes);
            return;
        }
        if self.recent.len() >= RECENT {
            let (k, b) = self.recent.remove(0);
            self.merge(k, &b);
        }
        let mut b = Bucket::default();
        b.count(accepted, bytes);
        self.recent.push((start - start % self.bucket_seconds, b));
    }

    /// Moves the buckets being counted into `buckets` (call before reading them).
    pub fn flush(&mut self) {
        for (k, b) in std::mem::take(&mut self.recent) {
            self.merge(k, &b);
        }
    }

    /// Adds a bucket to the map, coarsening while there are too many. Bucket sums saturate
    /// and are order-free, and the final bucket length is the shortest that keeps every
    /// start seen within [`MAX_BUCKETS`], so when buckets reach the map does not matter.
    fn merge(&mut self, key: u64, b: &Bucket) {
        let key = key - key % self.bucket_seconds;
        self.buckets.entry(key).or_default().merge(b);
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen();
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
        for (k, _) in &mut self.recent {
            *k -= *k % size;
        }
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

    /// Every flow in the bucket of its start at the final length, whatever the order of
    /// records and how often the bucket in hand changes. Regression: the one-bucket timeline
    /// computed a new bucket's start before a flush doubled the length, so that bucket kept a
    /// start of the old length (a stray 17:02 bucket of one flow among 4-minute buckets in the
    /// HTML report of the benchmark's small layout).
    #[test]
    fn recent_buckets_give_the_buckets_of_adding_each_flow_to_the_map() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for spread in [300u64, 40_000, 5_000_000] {
            let mut t = Timeline::default();
            let mut adds = Vec::new();
            for i in 0..20_000u64 {
                let start = 1_700_000_000 + i * spread / 20_000 + next() % 240;
                let accepted = next() % 3 != 0;
                let bytes = next() % 5000;
                t.add(start, accepted, bytes);
                adds.push((start, accepted, bytes));
            }
            t.flush();
            // Reference: every flow straight into the map at the final bucket length.
            let size = t.bucket_seconds;
            let mut want: BTreeMap<u64, Bucket> = BTreeMap::new();
            let starts: Vec<u64> = adds.iter().map(|a| a.0).collect();
            for (start, accepted, bytes) in adds {
                want.entry(start - start % size)
                    .or_default()
                    .count(accepted, bytes);
            }
            assert_eq!(t.buckets, want, "spread {spread}");
            assert!(t.buckets.len() <= MAX_BUCKETS);
            // ...and the shortest length that keeps them within the bound.
            if size > 60 {
                let half = size / 2;
                let finer: std::collections::BTreeSet<u64> =
                    starts.iter().map(|s| s - s % half).collect();
                assert!(finer.len() > MAX_BUCKETS, "spread {spread}");
            }
        }
    }
}
