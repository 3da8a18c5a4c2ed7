//! Traffic over time for the HTML report: accepted and rejected flows and bytes per time
//! bucket, by record start. Memory is bounded: when there would be more than
//! [`MAX_BUCKETS`] buckets, the bucket length doubles and neighbours merge.

use std::collections::BTreeMap;

use serde::Serialize;

pub const MAX_BUCKETS: usize = 512;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub accepted_flows: u64,
    pub accepted_bytes: u64,
    pub rejected_flows: u64,
    pub rejected_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// Seconds per bucket.
    pub bucket_seconds: u64,
    /// Bucket start (Unix seconds) → traffic.
    pub buckets: BTreeMap<u64, Bucket>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bucket_seconds: 60,
            buckets: BTreeMap::new(),
        }
    }
}

impl Timeline {
    pub fn add(&mut self, start: u64, accepted: bool, bytes: u64) {
        let key = start - start % self.bucket_seconds;
        let b = self.buckets.entry(key).or_default();
        if accepted {
            b.accepted_flows += 1;
            b.accepted_bytes = b.accepted_bytes.saturating_add(bytes);
        } else {
            b.rejected_flows += 1;
            b.rejected_bytes = b.rejected_bytes.saturating_add(bytes);
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen();
        }
    }

    /// Adds another timeline's buckets (the result does not depend on the order of merges:
    /// the bucket length ends as the smallest doubling that fits all buckets).
    pub fn merge(&mut self, other: Timeline) {
        while self.bucket_seconds < other.bucket_seconds {
            self.coarsen();
        }
        let size = self.bucket_seconds;
        for (k, b) in other.buckets {
            let m = self.buckets.entry(k - k % size).or_default();
            m.accepted_flows += b.accepted_flows;
            m.accepted_bytes = m.accepted_bytes.saturating_add(b.accepted_bytes);
            m.rejected_flows += b.rejected_flows;
            m.rejected_bytes = m.rejected_bytes.saturating_add(b.rejected_bytes);
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.bucket_seconds *= 2;
        let size = self.bucket_seconds;
        let mut merged: BTreeMap<u64, Bucket> = BTreeMap::new();
        for (k, b) in std::mem::take(&mut self.buckets) {
            let m = merged.entry(k - k % size).or_default();
            m.accepted_flows += b.accepted_flows;
            m.accepted_bytes = m.accepted_bytes.saturating_add(b.accepted_bytes);
            m.rejected_flows += b.rejected_flows;
            m.rejected_bytes = m.rejected_bytes.saturating_add(b.rejected_bytes);
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
            t.add(1_700_000_000 + i * 60, i % 3 != 0, 10);
        }
        assert!(t.buckets.len() <= MAX_BUCKETS);
        let flows: u64 = t
            .buckets
            .values()
            .map(|b| b.accepted_flows + b.rejected_flows)
            .sum();
        assert_eq!(flows, 10_000);
        let bytes: u64 = t
            .buckets
            .values()
            .map(|b| b.accepted_bytes + b.rejected_bytes)
            .sum();
        assert_eq!(bytes, 100_000);
        assert!(t.bucket_seconds > 60);
    }

    #[test]
    fn merged_parts_equal_the_whole() {
        let times: Vec<u64> = (0..3_000u64).map(|i| 1_700_000_000 + i * 97).collect();
        let mut whole = Timeline::default();
        for &t in &times {
            whole.add(t, t % 2 == 0, t % 1000);
        }
        for split in [1, 400, 1_500, 2_999] {
            let (mut a, mut b) = (Timeline::default(), Timeline::default());
            for &t in &times[..split] {
                a.add(t, t % 2 == 0, t % 1000);
            }
            for &t in &times[split..] {
                b.add(t, t % 2 == 0, t % 1000);
            }
            let mut ab = a.clone();
            ab.merge(b.clone());
            b.merge(a);
            assert_eq!(ab, whole, "split at {split}");
            assert_eq!(b, whole, "split at {split}, merged the other way");
        }
    }
}
