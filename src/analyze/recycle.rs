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
    use super::*;

    #[test]
    fn vectors_come_back_empty_and_are_reused_up_to_the_cap() {
        let r: Recycler<u64> = Recycler::new(100, 2);
        let mut a = r.take();
        assert!(a.is_empty() && a.capacity() >= 100);
        a.extend(0..50);
        let at = a.as_ptr();
        r.give(a);
        let again = r.take();
        assert_eq!((again.as_ptr(), again.len()), (at, 0), "the same buffer, emptied");
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
