//! What the reading threads share besides the job list: a byte budget for whole-object
//! buffers ([`Shared::acquire`]) and a queue of decoding work ([`Part`]s) any idle thread may
//! take.
//!
//! **Bytes.** An object inflates whole with libdeflate (about 1.6 times zlib-rs's speed) when
//! its compressed and inflated bytes fit what is free of one budget shared by every thread
//! ([`super::WHOLE_BUDGET`]) and are at most half of it, so two threads can always hold whole
//! objects at once. A larger object streams through zlib-rs, its parts decoded by both
//! threads: held whole, it made the other thread wait for its bytes, so inflation ran one
//! object at a time (aws-max layout, 68 MB objects: 4.47 s and 170 MB whole against 4.0 s and
//! 96 MB streamed, 2 cores). A thread waits for bytes only while every holder reads an earlier job (the
//! engine thread takes jobs in order, so those finish without waiting for this one); when a
//! holder reads a later job, waiting could deadlock, and the object streams instead. A job
//! waiting for bytes goes before any later job that asks after it (else the later one could
//! take the bytes as they are freed, and the earlier one, seeing a later holder, would stream).
//! While it waits, a thread decodes queued parts.
//!
//! **Buffers.** The buffers of a grant come from a pool of spares ([`Grant::buffer`]): an
//! object reuses the pages of an earlier one of about its size instead of faulting in fresh
//! ones (a 68 MB object is 17,000 page faults). Buffers in use and spares together stay within
//! the budget (spares are freed, the smallest first, to make room), plus the rounding of new
//! buffers to [`ROUND_BYTES`]. An inflated object is a [`Whole`] that the parts cut from it
//! share (no copy); it holds its grant, so its bytes stay counted until the last part is done.

//! **Parts.** A reading thread that holds a large run of lines (a whole inflated object, or a
//! stream of one huge file) cuts it into line-aligned parts and offers them here; it puts a
//! [`Message::Deferred`] in its job's place in the engine's order. Whoever gets to a part first
//! decodes it: an idle reading thread (its flows go to the part's own channel) or, when the
//! engine thread reaches the part and nobody took it yet, the engine thread itself. So no part
//! ever waits for a thread that is blocked, and the engine sees every flow in line order.
//! At most `max_parts` parts are out (offered and not yet consumed by the engine), which
//! bounds their memory (a part of a stream is a copy; a part of a whole object pins that
//! object, within the budget).

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use flowlog::Schema;

use super::job::Message;

/// New whole-object buffers are rounded up to a multiple of this (when larger).
pub const ROUND_BYTES: usize = 1 << 20;

/// A run of whole lines handed to whichever thread decodes it first.
pub struct Piece {
    pub source: u32,
    pub schema: Arc<Schema>,
    pub first_line: u64,
    pub text: PieceText,
}

/// A piece's lines: its own copy (runs of a stream), or a range of a whole inflated object it
/// shares with the other pieces of that object (no copy; the object's buffer and its bytes of
/// the budget are given back when the last piece is done).
pub enum PieceText {
    Owned(Vec<u8>),
    Shared(Arc<Whole>, Range<usize>),
}

impl PieceText {
    /// The lines.
    pub fn bytes(&self) -> &[u8] {
        match self {
            PieceText::Owned(v) => v,
            PieceText::Shared(w, r) => &w.text()[r.clone()],
        }
    }
}

/// A whole inflated object, shared by the reading thread and the pieces cut from it, with
/// the grant its bytes are counted in: its buffer goes back to the pool when the last holder
/// drops it.
pub struct Whole {
    text: Vec<u8>,
    grant: Grant,
}

impl Whole {
    /// `text` (a buffer of `grant`), read-only from now on.
    pub fn new(text: Vec<u8>, grant: Grant) -> Whole {
        Whole { text, grant }
    }

    /// The inflated text.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// `part` as a range of the text, when it is a slice of it.
    pub fn range_of(&self, part: &[u8]) -> Option<Range<usize>> {
        let base = self.text.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(base)?;
        let end = at.checked_add(part.len())?;
        (end <= self.text.len()).then_some(at..end)
    }
}

impl Drop for Whole {
    fn drop(&mut self) {
        self.grant.keep(std::mem::take(&mut self.text));
    }
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
    /// Jobs waiting for bytes: a later job does not take bytes an earlier one waits for.
    waiting: Vec<usize>,
    /// Buffers given back, for the next grants (no fresh pages per object).
    spares: Vec<Vec<u8>>,
    /// Capacity of the buffers handed out by grants, and of the spares: together at most
    /// the budget, so whole-object memory stays within it.
    taken: usize,
    spare: usize,
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
    /// The most one object may be granted (larger ones stream; see the module docs).
    max_grant: usize,
    max_parts: usize,
    max_in_flight: usize,
    inner: Arc<Inner>,
}

/// What grants hold on to (they may outlive the reading thread's turn, in pieces).
struct Inner {
    capacity: usize,
    state: Mutex<State>,
    changed: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Bytes of the budget held for one job, and the buffers taken within them; given back
/// (bytes to the budget, buffers to the spares) when dropped.
pub struct Grant {
    inner: Arc<Inner>,
    job: usize,
    bytes: usize,
    /// Capacity of the buffers handed out ([`Grant::buffer`]), at most `bytes`.
    taken: usize,
    /// Buffers handed back ([`Grant::keep`]), for the spares.
    kept: Vec<Vec<u8>>,
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut s = self.inner.lock();
        s.free += self.bytes;
        if let Some(i) = s.holders.iter().position(|h| *h == (self.job, self.bytes)) {
            s.holders.swap_remove(i);
        }
        s.taken -= self.taken;
        for buf in self.kept.drain(..) {
            s.spare += buf.capacity();
            s.spares.push(buf);
        }
        trim(&mut s, self.inner.capacity);
        drop(s);
        self.inner.changed.notify_all();
    }
}

/// Frees spares (the smallest first) until buffers in use and spare fit the budget.
fn trim(s: &mut State, capacity: usize) {
    while s.taken + s.spare > capacity && !s.spares.is_empty() {
        let smallest = (0..s.spares.len())
            .min_by_key(|&i| s.spares[i].capacity())
            .unwrap_or(0);
        let buf = s.spares.swap_remove(smallest);
        s.spare -= buf.capacity();
    }
}

impl Grant {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Moves `bytes` of this grant into a grant of their own (for a buffer that may outlive
    /// this one, such as an inflated object shared by pieces).
    pub fn split(&mut self, bytes: usize) -> Option<Grant> {
        if bytes > self.bytes.saturating_sub(self.taken) {
            return None;
        }
        let mut s = self.inner.lock();
        let i = s
            .holders
            .iter()
            .position(|h| *h == (self.job, self.bytes))?;
        self.bytes -= bytes;
        s.holders[i].1 = self.bytes;
        s.holders.push((self.job, bytes));
        drop(s);
        Some(Grant {
            inner: self.inner.clone(),
            job: self.job,
            bytes,
            taken: 0,
            kept: Vec::new(),
        })
    }

    /// An empty buffer of at least `len` bytes of capacity (`len` at most what the grant has
    /// left): a spare of a previous object when one is about the size (so its pages are
    /// already there), else a new one rounded up to [`ROUND_BYTES`] so that objects of
    /// nearly the same size share buffers. The rounding may pass the budget by that much.
    pub fn buffer(&mut self, len: usize) -> Vec<u8> {
        let len = len.min(self.bytes.saturating_sub(self.taken));
        let want = if len >= ROUND_BYTES {
            len.div_ceil(ROUND_BYTES) * ROUND_BYTES
        } else {
            len
        };
        let mut s = self.inner.lock();
        let fits = |c: usize| c >= len && c <= want + want / 4;
        let pick = (0..s.spares.len())
            .filter(|&i| fits(s.spares[i].capacity()))
            .min_by_key(|&i| s.spares[i].capacity());
        let spare = pick.map(|i| s.spares.swap_remove(i));
        let planned = spare.as_ref().map_or(want, Vec::capacity);
        s.spare -= spare.as_ref().map_or(0, Vec::capacity);
        s.taken += planned;
        // Room for it first (other spares go), then the memory.
        trim(&mut s, self.inner.capacity);
        drop(s);
        self.taken += planned;
        match spare {
            Some(mut buf) => {
                buf.clear();
                buf
            }
            None => Vec::with_capacity(want),
        }
    }

    /// Hands a buffer back for the next grants (when the grant is dropped). A buffer grown
    /// past what the grant holds is freed instead.
    pub fn keep(&mut self, buf: Vec<u8>) {
        if buf.capacity() > 0 && buf.capacity() <= self.taken {
            self.kept.push(buf);
        }
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
            max_grant: capacity,
            max_parts: max_parts.max(1),
            max_in_flight,
            inner: Arc::new(Inner {
                capacity,
                state: Mutex::new(State {
                    free: capacity,
                    holders: Vec::new(),
                    waiting: Vec::new(),
                    spares: Vec::new(),
                    taken: 0,
                    spare: 0,
                    queue: VecDeque::new(),
                    parts_out: 0,
                    active: 0,
                    in_flight: 0,
                    engine_at: 0,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// Grants of at most `max` bytes (less than the capacity, so that several objects can be
    /// held at once); a larger request gets None at once.
    pub fn with_max_grant(mut self, max: usize) -> Shared {
        self.max_grant = max.min(self.capacity);
        self
    }

    /// The most one object may be granted, compressed and inflated bytes together.
    pub fn max_grant(&self) -> usize {
        self.max_grant
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock()
    }

    fn wait<'g>(&self, s: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        self.inner
            .changed
            .wait(s)
            .unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.inner.changed.notify_all();
    }

    /// `bytes` of the budget for `job`, waiting (and decoding queued parts with `help`) while
    /// only earlier jobs hold what is missing, or an earlier job waits for bytes (it goes
    /// first: the engine needs it first). None when the budget is too small, or a later job
    /// holds bytes (the caller then streams).
    pub fn acquire(
        &self,
        job: usize,
        bytes: usize,
        help: &mut dyn FnMut(Arc<Part>),
    ) -> Option<Grant> {
        let mut s = self.lock();
        let mut queued = false;
        let grant = loop {
            // Larger objects stream (see the module docs).
            if bytes > self.max_grant {
                break None;
            }
            if s.free >= bytes && !s.waiting.iter().any(|&j| j < job) {
                s.free -= bytes;
                s.holders.push((job, bytes));
                break Some(Grant {
                    inner: self.inner.clone(),
                    job,
                    bytes,
                    taken: 0,
                    kept: Vec::new(),
                });
            }
            if s.holders.iter().any(|(j, _)| *j > job) {
                break None;
            }
            if !queued {
                s.waiting.push(job);
                queued = true;
            }
            if let Some(part) = s.queue.pop_front() {
                drop(s);
                help(part);
                s = self.lock();
                continue;
            }
            s = self.wait(s);
        };
        if queued {
            if let Some(i) = s.waiting.iter().position(|&j| j == job) {
                s.waiting.swap_remove(i);
            }
            drop(s);
            self.notify();
        }
        grant
    }

    /// Before a batch of `job` goes on its channel: a thread working ahead (on a later job than
    /// the engine's) waits while the batches in flight are at the bound, so threads racing
    /// through many small objects cannot pile up batches. The engine's own job never waits
    /// here (its channel's size bounds it), so the engine always makes progress.
    pub fn before_send(&self, job: usize) {
        let mut s = self.lock();
        while job > s.engine_at && s.in_flight >= self.max_in_flight {
            s = self.wait(s);
        }
        s.in_flight += 1;
    }

    /// The engine thread took a batch off a job channel.
    pub fn batch_taken(&self) {
        let mut s = self.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.notify();
    }

    /// The engine thread now drains `job`.
    pub fn engine_at(&self, job: usize) {
        self.lock().engine_at = job;
        self.notify();
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
        self.notify();
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
        self.notify();
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
        self.notify();
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
            s = self.wait(s);
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
            text: PieceText::Owned(b"x\n".to_vec()),
        }
    }

    fn no_help() -> impl FnMut(Arc<Part>) {
        |_| panic!("nothing queued")
    }

    /// Regression (#11, aws-max layout): a job waiting for bytes lost them to a later job that
    /// asked after it (the later thread woke first when they were freed), and then streamed
    /// its object through the slow decoder because a later job held bytes.
    #[test]
    fn regression_a_later_job_does_not_take_bytes_an_earlier_job_waits_for() {
        let shared = Shared::new(100, 4);
        let later = shared.acquire(9, 10, &mut no_help()).unwrap();
        // Job 1 waits (as it would, for bytes job 0 held); job 5 asks now that bytes are free.
        shared.lock().waiting.push(1);
        assert!(
            shared.acquire(5, 60, &mut no_help()).is_none(),
            "job 5 must leave the bytes to job 1 (and stream, as a later job 9 holds bytes)"
        );
        shared.lock().waiting.clear();
        assert!(shared.acquire(5, 60, &mut no_help()).is_some());
        drop(later);
    }

    #[test]
    fn a_waiting_job_gets_the_bytes_when_they_are_freed() {
        let shared = Shared::new(100, 4);
        let held = shared.acquire(0, 90, &mut no_help()).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| shared.acquire(1, 60, &mut no_help()).map(|g| g.bytes()));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while shared.lock().waiting.is_empty() {
                assert!(std::time::Instant::now() < deadline, "job 1 never waited");
                std::thread::yield_now();
            }
            drop(held);
            assert_eq!(waiter.join().unwrap(), Some(60));
        });
        assert!(shared.lock().waiting.is_empty());
    }

    /// Whole-object buffers go back to a pool and the next object reuses them (no fresh
    /// pages per object), and buffers in use plus spares never exceed the budget.
    #[test]
    fn buffers_are_reused_within_the_budget() {
        let shared = Shared::new(1000, 4);
        let mut a = shared.acquire(0, 800, &mut no_help()).unwrap();
        let mut text = a.split(600).unwrap();
        let small = a.buffer(200);
        let big = text.buffer(600);
        assert!(small.capacity() >= 200 && big.capacity() >= 600);
        let (small_at, big_at) = (small.as_ptr(), big.as_ptr());
        a.keep(small);
        text.keep(big);
        drop((a, text));
        {
            let s = shared.lock();
            assert_eq!((s.free, s.taken, s.spare), (1000, 0, 800));
        }
        // The next object of the same shape gets the same buffers.
        let mut b = shared.acquire(1, 800, &mut no_help()).unwrap();
        let mut text = b.split(600).unwrap();
        let (again_big, again_small) = (text.buffer(590), b.buffer(190));
        assert_eq!(again_big.as_ptr(), big_at);
        assert_eq!(again_small.as_ptr(), small_at);
        drop((again_big, again_small, b, text));
        // A grant too small for either spare allocates, and spares go to make room.
        let mut c = shared.acquire(2, 900, &mut no_help()).unwrap();
        let fresh = c.buffer(900);
        assert!(fresh.capacity() >= 900);
        let s = shared.lock();
        assert!(s.taken + s.spare <= 1000, "{} + {}", s.taken, s.spare);
        drop(s);
        drop(fresh);
        drop(c);
        let s = shared.lock();
        assert_eq!((s.free, s.taken), (1000, 0));
    }

    /// Pieces of a whole object share its buffer; its bytes stay held until the last piece
    /// is done, then the buffer is a spare.
    #[test]
    fn pieces_share_the_whole_object_and_hold_its_bytes() {
        let shared = Shared::new(100, 4);
        let mut grant = shared.acquire(0, 50, &mut no_help()).unwrap();
        let mut text = grant.buffer(50);
        text.extend_from_slice(b"a\nb\nc\n");
        let whole = Arc::new(Whole::new(text, grant));
        let range = whole.range_of(&whole.text()[2..4]).unwrap();
        assert_eq!(range, 2..4);
        assert_eq!(whole.range_of(b"b\n"), None, "not a slice of it");
        let piece = PieceText::Shared(whole.clone(), range);
        drop(whole);
        assert_eq!(piece.bytes(), b"b\n");
        assert_eq!(shared.lock().free, 50);
        drop(piece);
        let s = shared.lock();
        assert_eq!((s.free, s.spares.len()), (100, 1));
    }

    #[test]
    fn a_request_over_the_largest_grant_streams_at_once_even_with_the_budget_free() {
        let shared = Shared::new(100, 4).with_max_grant(50);
        let mut never = |_: Arc<Part>| panic!("never waits");
        assert!(shared.acquire(0, 51, &mut never).is_none());
        let a = shared.acquire(0, 50, &mut never).unwrap();
        let b = shared.acquire(1, 50, &mut never).unwrap();
        // Two objects of half the budget are held at once.
        assert_eq!(shared.lock().free, 0);
        drop((a, b));
        assert_eq!(shared.lock().free, 100);
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
