//! Batch buffers that go round: the engine thread hands each batch's `Vec` back once it has
//! observed the flows, and the reading threads fill it again ([`Recycler`]).
//!
//! A batch is ~0.2–0.9 MB. Allocated fresh for every batch and freed on the engine thread,
//! each went back to the reading thread's malloc arena, which trimmed it
//! (`madvise(MADV_DONTNEED)`, ~200 calls of ~3 MB a run) and faulted the pages in again,
//! zeroed, on the next batch: page faults, `clear_page` and the memory cgroup's charge on
//! every batch. Recycled, a batch's pages stay mapped (and mostly cached) for the whole run.

use std::sync::Mutex;

/// Empty vectors of one capacity, for reuse; holds at most `cap` of them (more are freed).
pub struct Recycler<T> {
    spares: Mutex<Vec<Vec<T>>>,
    capacity: usize,
    cap: usize,
}

impl<T> Recycler<T> {
    /// Vectors of `capacity` elements; at most `cap` kept spare.
    pub fn new(capacity: usize, cap: usize) -> Recycler<T> {
        Recycler {
            spares: Mutex::new(Vec::new()),
            capacity,
            cap,
        }
    }

    /// An empty vector of at least the capacity: a spare when there is one, else a new one.
    pub fn take(&self) -> Vec<T> {
        let spare = self.lock().pop();
        spare.unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    /// Gives a vector back (emptied here); one of another capacity, or one over the cap, is
    /// freed.
    pub fn give(&self, mut v: Vec<T>) {
        if v.capacity() < self.capacity {
            return;
        }
        v.clear();
        let mut spares = self.lock();
        if spares.len() < self.cap {
            spares.push(v);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<T>>> {
        self.spares.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spares held now.
    #[cfg(test)]
    pub fn spares(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use flowkeeper_analyze::{Engine, RulePack};
    use flowlog::Schema;

    use super::super::Registry;
    use super::super::batches::{BATCH_FLOWS, Decode, Decoding, Observed};
    use super::super::reader::Block;
    use super::*;

    /// Batches handed back by the engine thread are refilled by the readers: every flow is
    /// sent once, in line order, with no flow of an earlier batch left in a reused buffer.
    #[test]
    fn recycled_batches_carry_each_flow_once_in_order() {
        let engine = Engine::new(&RulePack::default_pack());
        let classifier = engine.classifier();
        let fields = classifier.fields();
        let registry = Registry::default();
        let recycler = Recycler::new(BATCH_FLOWS, 4);
        let decode = Decode {
            classifier: &classifier,
            registry: &registry,
            decoding: Decoding::Fields(&fields),
            since: None,
            until: None,
            batches: &recycler,
        };
        let schema = Arc::new(
            Schema::from_header(
                "srcaddr dstaddr srcport dstport protocol packets bytes start end action",
            )
            .unwrap(),
        );
        let lines = 3 * BATCH_FLOWS + 5;
        let text: String = (0..lines)
            .map(|i| {
                format!(
                    "10.0.0.1 10.0.0.2 {} 22 6 1 40 100 101 ACCEPT\n",
                    i % 60_000
                )
            })
            .collect();
        let block = Block {
            schema: &schema,
            first_line: 1,
            text: text.as_bytes(),
        };
        let mut seen: Vec<u64> = Vec::new();
        let mut buffers = std::collections::HashSet::new();
        let mut consume = |batch: Vec<Observed>| {
            seen.extend(batch.iter().map(|(_, o)| o.line));
            buffers.insert(batch.as_ptr() as usize);
            // As the engine thread does once it has observed the flows.
            recycler.give(batch);
            true
        };
        for _ in 0..2 {
            let mut batcher = decode.batcher();
            assert!(batcher.block(0, &block, &mut consume));
            assert!(batcher.flush(&mut consume));
        }
        let want: Vec<u64> = (1..=lines as u64).chain(1..=lines as u64).collect();
        assert_eq!(seen, want);
        assert_eq!(buffers.len(), 1, "one buffer went round");
    }

    #[test]
    fn vectors_come_back_empty_and_are_reused_up_to_the_cap() {
        let r: Recycler<u64> = Recycler::new(100, 2);
        let mut a = r.take();
        assert!(a.is_empty() && a.capacity() >= 100);
        a.extend(0..50);
        let at = a.as_ptr();
        r.give(a);
        let again = r.take();
        assert_eq!(
            (again.as_ptr(), again.len()),
            (at, 0),
            "the same buffer, emptied"
        );
        r.give(again);
        r.give(r.take());
        r.give(Vec::with_capacity(100));
        r.give(Vec::with_capacity(100));
        assert_eq!(r.spares(), 2, "held to the cap");
        // A vector that is too small is not kept.
        let r: Recycler<u64> = Recycler::new(100, 2);
        r.give(Vec::with_capacity(10));
        assert_eq!(r.spares(), 0);
    }
}
