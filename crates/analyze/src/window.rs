//! Event-time windows: tumbling windows aligned to the epoch, closed by a watermark.
//!
//! The watermark is the largest record time seen minus the pack's `allowed_lateness`. A
//! window `[s, s + size)` closes once the watermark reaches `s + size`; its state is then
//! handed to the detector for evaluation and dropped. A record whose window already closed is
//! *late*: it is counted in the statistics and otherwise ignored. So state lives for at most
//! `size + allowed_lateness` of event time, whatever the input length.
//!
//! [`Windowed`] is the keyed per-window state every counting detector uses. Its live entries
//! (all open windows together) are capped; a key that does not fit is refused and counted.
//! Keys from internet-sized spaces go through a per-window admission [`Gate`] first.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::sketch::{FastMap, Gate};
use crate::time::window_start;

/// The largest event time seen and the lateness allowed behind it.
///
/// A time more than [`Watermark::LEAP`] ahead of the largest one so far moves it only once
/// [`Watermark::CONFIRM`] records have leapt with it (within `LEAP` of the first): one
/// corrupt line or skewed clock ten years ahead would otherwise close every window and
/// make every later record late, while a real gap in the data (a day missing) is confirmed
/// by the next day's first records. A leap never confirmed is counted
/// ([`Watermark::outliers`]); its records are analyzed in their own windows, which close at
/// the end of the run.
#[derive(Clone, Copy, Debug)]
pub struct Watermark {
    max_time: Option<u64>,
    lateness: u64,
    /// The first time of a leap not yet confirmed, and how many records leapt with it.
    leap: Option<(u64, u32)>,
    /// Records of leaps that were replaced by another leap before they were confirmed.
    dropped_leaps: u64,
}

impl Watermark {
    /// How far ahead of the largest time a record may be and move the watermark at once.
    pub const LEAP: u64 = 3_600;
    /// Records that confirm a leap.
    pub const CONFIRM: u32 = 64;

    /// No time seen yet.
    pub fn new(lateness: u64) -> Watermark {
        Watermark {
            max_time: None,
            lateness,
            leap: None,
            dropped_leaps: 0,
        }
    }

    /// Notes a record time; returns the watermark.
    #[inline]
    pub fn observe(&mut self, t: u64) -> u64 {
        let max = match self.max_time {
            Some(m) if t <= m.saturating_add(Self::LEAP) => m.max(t),
            Some(m) => self.leapt(m, t),
            None => t,
        };
        self.max_time = Some(max);
        max.saturating_sub(self.lateness)
    }

    /// A record `t` more than `LEAP` ahead of `max`: the new largest time once confirmed.
    #[cold]
    fn leapt(&mut self, max: u64, t: u64) -> u64 {
        match &mut self.leap {
            Some((first, n)) if t.abs_diff(*first) <= Self::LEAP => {
                *n += 1;
                if *n >= Self::CONFIRM {
                    self.leap = None;
                    return t;
                }
            }
            other => {
                if let Some((_, n)) = other {
                    self.dropped_leaps += u64::from(*n);
                }
                *other = Some((t, 1));
            }
        }
        max
    }

    /// Records that leapt more than `LEAP` ahead of every other time and were never
    /// confirmed: they did not move the watermark.
    pub fn outliers(&self) -> u64 {
        self.dropped_leaps + self.leap.map_or(0, |(_, n)| u64::from(n))
    }

    /// The current watermark, if any time was seen.
    pub fn get(&self) -> Option<u64> {
        self.max_time.map(|m| m.saturating_sub(self.lateness))
    }

    /// The largest time seen (leaps not confirmed left out).
    pub fn max_time(&self) -> Option<u64> {
        self.max_time
    }
}

/// One open window: its start, its keyed state and, for gated state, its admission gate.
#[derive(Debug)]
struct Open<K, V> {
    start: u64,
    map: FastMap<K, V>,
    gate: Option<Box<Gate>>,
}

/// Keyed state per open window, with a cap on live entries and an optional admission gate.
///
/// The cap is in keys; [`Windowed::entry_bytes`] says what one costs, so callers size it from
/// a byte budget. A gated key (see [`Windowed::slot_gated`]) only gets exact state once a
/// per-window [`Gate`] (layered Bloom filters) has seen it `promote_at` times, once the
/// state is a quarter full: the one-off keys of internet noise never take the rest.
#[derive(Debug)]
pub struct Windowed<K, V> {
    size: u64,
    /// Open windows, oldest first.
    windows: VecDeque<Open<K, V>>,
    /// Every window ending at or before this is closed.
    closed_until: u64,
    live: usize,
    cap: usize,
    /// Entries of the window closed last: a new window's map starts that large (windows of
    /// one detector hold similar key counts; growing from empty rehashes every entry about
    /// twice).
    last_len: usize,
    promote_at: u32,
    /// Keys refused because the cap was reached.
    pub refused: u64,
    /// Records whose window had already closed.
    pub late: u64,
    /// Most live entries at any time.
    pub peak: usize,
    /// Records of gated keys not (yet) admitted (by design, not a loss: see the crate docs).
    pub held: u64,
    /// Most gates allocated at once.
    pub peak_gates: usize,
}

impl<K: Hash + Eq, V> Windowed<K, V> {
    /// Windows of `size` seconds holding at most `cap` entries in total.
    pub fn new(size: u64, cap: usize) -> Self {
        Windowed {
            size: size.max(1),
            windows: VecDeque::new(),
            closed_until: 0,
            live: 0,
            cap,
            last_len: 0,
            promote_at: 1,
            refused: 0,
            late: 0,
            peak: 0,
            held: 0,
            peak_gates: 0,
        }
    }

    /// Sets the count at which a gated key is admitted (1: at once).
    pub fn with_gate(mut self, promote_at: u32) -> Self {
        self.promote_at = promote_at.clamp(1, 4);
        self
    }

    /// What one live entry costs, roughly: the key and value inline plus the hash table's
    /// control byte and spare capacity (heap parts of values come on top).
    pub const fn entry_bytes() -> usize {
        (std::mem::size_of::<(K, V)>() + 1) * 8 / 7
    }

    /// The bytes held now: live entries at [`Windowed::entry_bytes`] plus the gates.
    pub fn bytes(&self) -> usize {
        self.live * Self::entry_bytes()
            + self
                .windows
                .iter()
                .filter_map(|w| w.gate.as_ref())
                .map(|g| g.bytes())
                .sum::<usize>()
    }

    /// The window holding `t` (opened if new); `None` for a late record (counted).
    #[inline]
    fn window(&mut self, t: u64) -> Option<usize> {
        let ws = window_start(t, self.size);
        if ws + self.size <= self.closed_until {
            self.late += 1;
            return None;
        }
        Some(match self.windows.iter().rposition(|w| w.start <= ws) {
            Some(i) if self.windows[i].start == ws => i,
            found => {
                let i = found.map_or(0, |i| i + 1);
                self.windows.insert(
                    i,
                    Open {
                        start: ws,
                        map: FastMap::with_capacity_and_hasher(
                            self.last_len.min(self.cap),
                            Default::default(),
                        ),
                        gate: None,
                    },
                );
                i
            }
        })
    }

    /// The state of `key` in the window holding `t`, created by `init` if new. `None` when
    /// the window is closed (late record) or the cap is reached (key refused). One hash
    /// lookup.
    #[inline]
    pub fn slot(&mut self, t: u64, key: K, init: impl FnOnce() -> V) -> Option<(u64, &mut V)> {
        let at = self.window(t)?;
        let w = &mut self.windows[at];
        match w.map.entry(key) {
            Entry::Occupied(o) => Some((w.start, o.into_mut())),
            Entry::Vacant(v) => {
                if self.live >= self.cap {
                    self.refused += 1;
                    return None;
                }
                self.live += 1;
                self.peak = self.peak.max(self.live);
                Some((w.start, v.insert(init())))
            }
        }
    }

    /// Like [`Windowed::slot`] for a key from a space as large as the internet: a new key is
    /// admitted only once the window's gate has counted `hash` `promote_at` times (this
    /// record included); `init` gets how many earlier records of the key were held back
    /// (at most `promote_at - 1`, fewer when the sketch over-counted). Held records are
    /// counted in [`Windowed::held`].
    #[inline]
    pub fn slot_gated(
        &mut self,
        t: u64,
        key: K,
        hash: u64,
        init: impl FnOnce(u32) -> V,
    ) -> Option<(u64, &mut V)> {
        // The gate only works once the state is a quarter full: small runs stay exact.
        if self.promote_at <= 1 || self.live < self.cap / 4 {
            return self.slot(t, key, || init(0));
        }
        let at = self.window(t)?;
        let promote_at = self.promote_at;
        let gates = self.windows.iter().filter(|w| w.gate.is_some()).count();
        let w = &mut self.windows[at];
        match w.map.entry(key) {
            Entry::Occupied(o) => Some((w.start, o.into_mut())),
            Entry::Vacant(v) => {
                if w.gate.is_none() {
                    self.peak_gates = self.peak_gates.max(gates + 1);
                }
                let gate = w
                    .gate
                    .get_or_insert_with(|| Box::new(Gate::new(promote_at)));
                let seen = gate.bump(hash);
                if seen < promote_at {
                    self.held += 1;
                    return None;
                }
                if self.live >= self.cap {
                    self.refused += 1;
                    return None;
                }
                self.live += 1;
                self.peak = self.peak.max(self.live);
                Some((w.start, v.insert(init((promote_at - 1).min(seen - 1)))))
            }
        }
    }

    /// The state of `key` in the window holding `t` if it exists (no new key, no gate, late
    /// records not counted: for records that only add to keys others created).
    #[inline]
    pub fn get(&mut self, t: u64, key: &K) -> Option<&mut V> {
        let ws = window_start(t, self.size);
        let w = self.windows.iter_mut().rev().find(|w| w.start == ws)?;
        w.map.get_mut(key)
    }

    /// Whether the window holding `t` has closed; counts the record as late if so.
    #[inline]
    pub fn reject_late(&mut self, t: u64) -> bool {
        let closed = window_start(t, self.size) + self.size <= self.closed_until;
        self.late += u64::from(closed);
        closed
    }

    /// The end of the oldest open window, if any.
    pub fn next_close(&self) -> Option<u64> {
        self.windows.front().map(|w| w.start + self.size)
    }

    /// Closes every window ending at or before `watermark` (all of them for `u64::MAX`),
    /// handing each one's start and entries to `f`, oldest first.
    pub fn close(&mut self, watermark: u64, mut f: impl FnMut(u64, FastMap<K, V>)) {
        let frontier = if watermark == u64::MAX {
            u64::MAX
        } else {
            window_start(watermark, self.size)
        };
        self.closed_until = self.closed_until.max(frontier);
        while let Some(w) = self.windows.front() {
            if w.start.saturating_add(self.size) > self.closed_until {
                break;
            }
            let w = self.windows.pop_front().expect("front exists");
            self.live -= w.map.len();
            self.last_len = w.map.len();
            f(w.start, w.map);
        }
    }

    /// Live entries across open windows.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The cap on live entries.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_open_close_and_refuse() {
        let mut w: Windowed<u32, u32> = Windowed::new(300, 3);
        *w.slot(10, 1, || 0).unwrap().1 += 1;
        *w.slot(20, 1, || 0).unwrap().1 += 1;
        *w.slot(310, 1, || 0).unwrap().1 += 1;
        *w.slot(299, 2, || 0).unwrap().1 += 1;
        assert_eq!(w.live(), 3);
        assert!(w.slot(5, 3, || 0).is_none());
        assert_eq!(w.refused, 1);
        assert_eq!(w.next_close(), Some(300));
        let mut closed = Vec::new();
        w.close(299, |s, m| closed.push((s, m.len())));
        assert!(closed.is_empty());
        w.close(300, |s, m| closed.push((s, m.len())));
        assert_eq!(closed, [(0, 2)]);
        assert_eq!(w.live(), 1);
        assert!(w.slot(100, 1, || 0).is_none());
        assert_eq!(w.late, 1);
        w.close(u64::MAX, |s, m| closed.push((s, m.len())));
        assert_eq!(closed, [(0, 2), (300, 1)]);
        assert_eq!(w.live(), 0);
        assert_eq!(w.peak, 3);
    }

    #[test]
    fn gated_keys_need_promote_at_records() {
        let mut w: Windowed<u32, u32> = Windowed::new(300, 4).with_gate(3);
        // Below a quarter of the cap keys are admitted at once.
        assert_eq!(*w.slot_gated(10, 9, 9, |held| held).unwrap().1, 0);
        assert!(w.slot_gated(10, 1, 1, |_| 0).is_none());
        assert!(w.slot_gated(11, 1, 1, |_| 0).is_none());
        let (_, v) = w.slot_gated(12, 1, 1, |held| held).unwrap();
        assert_eq!(*v, 2);
        *v += 1;
        assert_eq!(*w.slot_gated(13, 1, 1, |_| 0).unwrap().1, 3);
        assert_eq!(w.held, 2);
        assert_eq!(w.live(), 2);
        // Another window has its own gate.
        assert!(w.slot_gated(310, 1, 1, |_| 0).is_none());
        assert!(w.bytes() >= 2 * 2 * Gate::LAYER_BYTES);
        assert_eq!(w.get(13, &1).copied(), Some(3));
        assert_eq!(w.get(13, &2), None);
    }

    #[test]
    fn watermark_trails_the_largest_time() {
        let mut wm = Watermark::new(60);
        assert_eq!(wm.get(), None);
        assert_eq!(wm.observe(1000), 940);
        assert_eq!(wm.observe(500), 940);
        assert_eq!(wm.observe(30), 940);
        assert_eq!(Watermark::new(600).observe(30), 0);
    }

    #[test]
    fn one_record_years_ahead_does_not_move_the_watermark_but_a_real_gap_does() {
        let mut wm = Watermark::new(60);
        wm.observe(1_000);
        let ten_years = 1_000 + 315_360_000;
        assert_eq!(wm.observe(ten_years), 940, "an outlier alone");
        assert_eq!(wm.observe(1_100), 1_040, "the rest goes on");
        assert_eq!(wm.outliers(), 1);
        // A day later, 64 records: a gap in the data, confirmed by its 64th record.
        let day = 1_100 + 86_400;
        for i in 0..Watermark::CONFIRM - 1 {
            assert_eq!(wm.observe(day + u64::from(i)), 1_040);
        }
        assert_eq!(
            wm.outliers(),
            1 + 63,
            "the first outlier, then the pending leap"
        );
        assert_eq!(wm.observe(day + 63), day + 3);
        assert_eq!(wm.outliers(), 1);
        assert_eq!(wm.max_time(), Some(day + 63));
    }
}
