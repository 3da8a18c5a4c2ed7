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

use std::collections::VecDeque;
use std::hash::Hash;

use crate::sketch::{FastMap, fast_map};
use crate::time::window_start;

/// The largest event time seen and the lateness allowed behind it.
#[derive(Clone, Copy, Debug)]
pub struct Watermark {
    max_time: Option<u64>,
    lateness: u64,
}

impl Watermark {
    /// No time seen yet.
    pub fn new(lateness: u64) -> Watermark {
        Watermark {
            max_time: None,
            lateness,
        }
    }

    /// Notes a record time; returns the watermark.
    #[inline]
    pub fn observe(&mut self, t: u64) -> u64 {
        let max = self.max_time.map_or(t, |m| m.max(t));
        self.max_time = Some(max);
        max.saturating_sub(self.lateness)
    }

    /// The current watermark, if any time was seen.
    pub fn get(&self) -> Option<u64> {
        self.max_time.map(|m| m.saturating_sub(self.lateness))
    }

    /// The largest time seen.
    pub fn max_time(&self) -> Option<u64> {
        self.max_time
    }
}

/// Keyed state per open window, with a cap on live entries.
#[derive(Debug)]
pub struct Windowed<K, V> {
    size: u64,
    /// Open windows, oldest first.
    windows: VecDeque<(u64, FastMap<K, V>)>,
    /// Every window ending at or before this is closed.
    closed_until: u64,
    live: usize,
    cap: usize,
    /// Keys refused because the cap was reached.
    pub refused: u64,
    /// Records whose window had already closed.
    pub late: u64,
    /// Most live entries at any time.
    pub peak: usize,
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
            refused: 0,
            late: 0,
            peak: 0,
        }
    }

    /// The state of `key` in the window holding `t`, created by `init` if new. `None` when
    /// the window is closed (late record) or the cap is reached (key refused).
    #[inline]
    pub fn slot(&mut self, t: u64, key: K, init: impl FnOnce() -> V) -> Option<(u64, &mut V)> {
        let ws = window_start(t, self.size);
        if ws + self.size <= self.closed_until {
            self.late += 1;
            return None;
        }
        let at = match self.windows.iter().rposition(|(s, _)| *s <= ws) {
            Some(i) if self.windows[i].0 == ws => i,
            found => {
                let i = found.map_or(0, |i| i + 1);
                self.windows.insert(i, (ws, fast_map()));
                i
            }
        };
        let live = self.live;
        let cap = self.cap;
        let map = &mut self.windows[at].1;
        if !map.contains_key(&key) {
            if live >= cap {
                self.refused += 1;
                return None;
            }
            self.live += 1;
            self.peak = self.peak.max(self.live);
        }
        Some((ws, self.windows[at].1.entry(key).or_insert_with(init)))
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
        self.windows.front().map(|(s, _)| s + self.size)
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
        while let Some((s, _)) = self.windows.front() {
            if s.saturating_add(self.size) > self.closed_until {
                break;
            }
            let (s, map) = self.windows.pop_front().expect("front exists");
            self.live -= map.len();
            f(s, map);
        }
    }

    /// Live entries across open windows.
    pub fn live(&self) -> usize {
        self.live
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
    fn watermark_trails_the_largest_time() {
        let mut wm = Watermark::new(60);
        assert_eq!(wm.get(), None);
        assert_eq!(wm.observe(1000), 940);
        assert_eq!(wm.observe(500), 940);
        assert_eq!(wm.observe(30), 940);
        assert_eq!(Watermark::new(600).observe(30), 0);
    }
}
