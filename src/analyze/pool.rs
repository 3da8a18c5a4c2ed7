//! What the reading threads share besides the job list: a byte budget for whole-object
//! buffers ([`Shared::acquire`]) and a queue of decoding work ([`Part`]s) any idle thread may
//! take.
//!
//! **Bytes.** An object inflates whole with libdeflate (2.5 times faster than streaming) when
//! its compressed and inflated bytes fit what is free of one budget shared by every thread
//! ([`super::WHOLE_BUDGET`]): any object up to the budget takes the fast path, one at a time if
//! it is big. A thread waits for bytes only while every holder reads an earlier job (the
//! engine thread takes jobs in order, so those finish without waiting for this one); when a
//! holder reads a later job, waiting could deadlock, and the object streams instead. While it
//! waits, a thread decodes queued parts.
//!
//! **Parts.** A reading thread that holds a large run of lines (a whole inflated object, or a
//! stream of one huge file) cuts it into line-aligned parts and offers them here; it puts a
//! [`Message::Deferred`] in its job's place in the engine's order. Whoever gets to a part first
//! decodes it: an idle reading thread (its flows go to the part's own channel) or, when the
//! engine thread reaches the part and nobody took it yet, the engine thread itself. So no part
//! ever waits for a thread that is blocked, and the engine sees every flow in line order.
//! At most `max_parts` parts are out (offered and not yet consumed by the engine), which
//! bounds their memory.

use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use flowlog::Schema;

use super::job::Message;

/// A run of whole lines handed to whichever thread decodes it first.
pub struct Piece {
    pub source: u32,
    pub schema: Arc<Schema>,
    pub first_line: u64,
    pub text: Vec<u8>,
}

/// Who has a [`Piece`].
pub enum Claim {
    /// Nobody yet.
    Pending(Piece),
    /// A reading thread decodes it; its flows, then its counts, come on this channel.
    Running(Receiver<Message>),
    /// The engine thread took it.
    Taken,
}

/// One part of a job's lines, in the engine's order as a [`Message::Deferred`].
pub struct Part {
    claim: Mutex<Claim>,
}

impl Part {
    pub fn new(piece: Piece) -> Arc<Part> {
        Arc::new(Part {
            claim: Mutex::new(Claim::Pending(piece)),
        })
    }

    /// For a reading thread: the piece, if nobody took it yet; the part then reports on
    /// `rx`'s channel.
    pub fn take_for_reader(&self, rx: Receiver<Message>) -> Option<Piece> {
        let mut claim = self.claim.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut *claim, Claim::Taken) {
            Claim::Pending(piece) => {
                *claim = Claim::Running(rx);
                Some(piece)
            }
            other => {
                *claim = other;
                None
            }
        }
    }

    /// For the engine thread, when the part's turn comes: the piece to decode itself, or
    /// the channel of the reading thread that took it.
    pub fn take_for_engine(&self) -> Claim {
        let mut claim = self.claim.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *claim, Claim::Taken)
    }
}

struct State {
    free: usize,
    /// (job, bytes) of every grant held.
    holders: Vec<(usize, usize)>,
    queue: VecDeque<Arc<Part>>,
    /// Parts offered and not yet consumed by the engine thread.
    parts_out: usize,
    /// Reading threads working on a job (who may still offer parts).
    active: usize,
    /// Batches sent on job channels and not yet taken by the engine thread.
    in_flight: usize,
    /// The job the engine thread drains now.
    engine_at: usize,
}

/// The byte budget and the part queue of one run.
pub struct Shared {
    capacity: usize,
    max_parts: usize,
    max_in_flight: usize,
    state: Mutex<State>,
    changed: Condvar,
}

/// Bytes of the budget held for one job; given back when dropped.
pub struct Grant<'s> {
    shared: &'s Shared,
    job: usize,
    bytes: usize,
}

impl Drop for Grant<'_> {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.free += self.bytes;
        if let Some(i) = s.holders.iter().position(|h| *h == (self.job, self.bytes)) {
            s.holders.swap_remove(i);
        }
        drop(s);
        self.shared.changed.notify_all();
    }
}

impl Grant<'_> {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Shared {
    #[cfg(test)]
    pub fn new(capacity: usize, max_parts: usize) -> Shared {
        Shared::with_batches(capacity, max_parts, usize::MAX)
    }

    /// With at most `max_in_flight` batches on the job channels of jobs after the one the
    /// engine thread drains ([`Shared::before_send`]).
    pub fn with_batches(capacity: usize, max_parts: usize, max_in_flight: usize) -> Shared {
        Shared {
            capacity,
            max_parts: max_parts.max(1),
            max_in_flight,
            state: Mutex::new(State {
                free: capacity,
                holders: Vec::new(),
                queue: VecDeque::new(),
                parts_out: 0,
                active: 0,
                in_flight: 0,
                engine_at: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `bytes` of the budget for `job`, waiting (and decoding queued parts with `help`) while
    /// only earlier jobs hold what is missing. None when the budget is too small, or a later
    /// job holds bytes (the caller then streams).
    pub fn acquire(
        &self,
        job: usize,
        bytes: usize,
        help: &mut dyn FnMut(Arc<Part>),
    ) -> Option<Grant<'_>> {
        let mut s = self.lock();
        loop {
            if bytes > self.capacity {
                return None;
            }
            if s.free >= bytes {
                s.free -= bytes;
                s.holders.push((job, bytes));
                return Some(Grant {
                    shared: self,
                    job,
                    bytes,
                });
            }
            if s.holders.iter().any(|(j, _)| *j > job) {
                return None;
            }
            if let Some(part) = s.queue.pop_front() {
                drop(s);
                help(part);
                s = self.lock();
                continue;
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Before a batch of `job` goes on its channel: a thread working ahead (on a later job than
    /// the engine's) waits while the batches in flight are at the bound, so threads racing
    /// through many small objects cannot pile up batches. The engine's own job never waits
    /// here (its channel's size bounds it), so the engine always makes progress.
    pub fn before_send(&self, job: usize) {
        let mut s = self.lock();
        while job > s.engine_at && s.in_flight >= self.max_in_flight {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.in_flight += 1;
    }

    /// The engine thread took a batch off a job channel.
    pub fn batch_taken(&self) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.changed.notify_all();
    }

    /// The engine thread now drains `job`.
    pub fn engine_at(&self, job: usize) {
        self.lock().engine_at = job;
        self.changed.notify_all();
    }

    /// Queues a part unless `max_parts` are already out (then the caller decodes it itself).
    pub fn offer(&self, part: &Arc<Part>) -> bool {
        let mut s = self.lock();
        if s.parts_out >= self.max_parts {
            return false;
        }
        s.parts_out += 1;
        s.queue.push_back(part.clone());
        drop(s);
        self.changed.notify_all();
        true
    }

    /// Whether a part offered now would be queued.
    pub fn has_room(&self) -> bool {
        self.lock().parts_out < self.max_parts
    }

    /// The engine thread consumed a part (it no longer holds memory).
    pub fn consumed(&self) {
        let mut s = self.lock();
        s.parts_out = s.parts_out.saturating_sub(1);
        drop(s);
        self.changed.notify_all();
    }

    /// A reading thread starts (`true`) or ends (`false`) a job.
    pub fn working(&self, on: bool) {
        let mut s = self.lock();
        if on {
            s.active += 1;
        } else {
            s.active = s.active.saturating_sub(1);
        }
        drop(s);
        self.changed.notify_all();
    }

    /// For a thread with no job left: the next queued part, waiting while another thread
    /// may still offer some. None when no more can come.
    pub fn next_part(&self) -> Option<Arc<Part>> {
        let mut s = self.lock();
        loop {
            if let Some(part) = s.queue.pop_front() {
                return Some(part);
            }
            if s.active == 0 {
                return None;
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(line: u64) -> Piece {
        Piece {
            source: 0,
            schema: Arc::new(Schema::default_v2()),
            first_line: line,
            text: b"x\n".to_vec(),
        }
    }

    #[test]
    fn bytes_are_granted_up_to_the_budget_and_given_back() {
        let shared = Shared::new(100, 4);
        let mut never = |_: Arc<Part>| panic!("nothing queued");
        let a = shared.acquire(0, 60, &mut never).unwrap();
        assert_eq!(a.bytes(), 60);
        // More than the whole budget: never.
        assert!(shared.acquire(1, 101, &mut never).is_none());
        // An earlier job may not wait for a later job's bytes (that could deadlock).
        let later = shared.acquire(5, 40, &mut never).unwrap();
        assert!(shared.acquire(3, 10, &mut never).is_none());
        drop(later);
        let b = shared.acquire(3, 40, &mut never).unwrap();
        drop((a, b));
        assert_eq!(shared.lock().free, 100);
    }

    #[test]
    fn a_thread_waiting_for_bytes_decodes_queued_parts_and_gets_them_when_freed() {
        let shared = Shared::new(100, 4);
        let held = shared.acquire(0, 90, &mut |_| {}).unwrap();
        let part = Part::new(piece(7));
        assert!(shared.offer(&part));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let mut helped = Vec::new();
                let grant = shared.acquire(1, 50, &mut |p: Arc<Part>| {
                    let (_tx, rx) = std::sync::mpsc::channel();
                    if let Some(piece) = p.take_for_reader(rx) {
                        helped.push(piece.first_line);
                    }
                    // The holder finishes once its part is done.
                    shared.consumed();
                });
                (grant.map(|g| g.bytes()), helped)
            });
            // Give the bytes back only after the waiter took the part.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while shared.lock().parts_out > 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the waiter never helped"
                );
                std::thread::yield_now();
            }
            drop(held);
            assert_eq!(waiter.join().unwrap(), (Some(50), vec![7]));
        });
    }

    #[test]
    fn threads_ahead_of_the_engine_wait_for_batches_to_land_and_the_engines_job_never_does() {
        let shared = Shared::with_batches(0, 1, 2);
        shared.before_send(3);
        shared.before_send(4);
        // The bound is reached, but the engine's job (0) still sends.
        shared.before_send(0);
        std::thread::scope(|scope| {
            let ahead = scope.spawn(|| shared.before_send(5));
            // It gets through once the engine takes batches (it may or may not have waited).
            shared.batch_taken();
            shared.batch_taken();
            ahead.join().unwrap();
        });
        assert_eq!(shared.lock().in_flight, 2);
        // When the engine reaches a job, that job (and any before it) no longer waits.
        shared.engine_at(7);
        shared.before_send(6);
        shared.before_send(7);
        assert_eq!(shared.lock().in_flight, 4);
    }

    #[test]
    fn parts_are_bounded_and_claimed_once() {
        let shared = Shared::new(0, 2);
        let parts: Vec<Arc<Part>> = (0..3).map(|i| Part::new(piece(i))).collect();
        assert!(shared.offer(&parts[0]) && shared.offer(&parts[1]));
        assert!(!shared.has_room() && !shared.offer(&parts[2]));
        shared.consumed();
        assert!(shared.has_room());
        // The engine takes a pending part; a reading thread then finds it taken.
        assert!(matches!(parts[0].take_for_engine(), Claim::Pending(_)));
        let (_tx, rx) = std::sync::mpsc::channel();
        assert!(parts[0].take_for_reader(rx).is_none());
        // A reading thread takes one; the engine then gets its channel.
        let (_tx, rx) = std::sync::mpsc::channel();
        assert!(parts[1].take_for_reader(rx).is_some());
        assert!(matches!(parts[1].take_for_engine(), Claim::Running(_)));
        assert!(matches!(parts[1].take_for_engine(), Claim::Taken));
        // With no thread on a job, no part can come: an idle thread stops waiting.
        assert!(shared.next_part().is_some() && shared.next_part().is_some());
        assert!(shared.next_part().is_none());
    }
}
