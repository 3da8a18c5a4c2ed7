//! The separators of a window of text, found before its lines are decoded: [`Window::fill`]
//! turns up to [`WINDOW`] bytes, 64 at a time (`split::block_masks`), into sorted lists of
//! the positions of their spaces and newlines, and of the blocks holding bytes that are not
//! ASCII. With the lists, checking a line's number of values is two compares (its last
//! space is before its newline, the next one after it), and each value is two loads: no
//! loop over the line's separators, no branch per separator.
//!
//! Positions are written without a branch per position (eight or more at a time, see
//! [`push`]); the window's lists are reused from window to window (no allocation).

use crate::split::{Masks, block_masks, padded};

/// Bytes of text per window (a multiple of 64). A line that does not fit in one window is
/// decoded on its own (`select`), so this bounds nothing but the speed of such lines.
pub(crate) const WINDOW: usize = 8192;

/// The separators of `text[base..end]`, as offsets from `base`.
pub(crate) struct Window<'t> {
    text: &'t [u8],
    /// Where the window starts in the text.
    pub(crate) base: usize,
    /// Where it ends: `base + WINDOW`, or the end of the text.
    pub(crate) end: usize,
    /// Offsets of the spaces, ascending; only the first `n_spaces` are meaningful.
    spaces: Box<[u32]>,
    n_spaces: usize,
    /// Offsets of the newlines, ascending; only the first `n_newlines` are meaningful.
    newlines: Box<[u32]>,
    n_newlines: usize,
    /// Blocks with bytes that are not ASCII: (offset of the block, mask of those bytes).
    high: Vec<(u32, u64)>,
}

impl<'t> Window<'t> {
    /// An empty window on `text` (nothing read yet).
    pub(crate) fn new(text: &'t [u8]) -> Window<'t> {
        Window {
            text,
            base: 0,
            end: 0,
            spaces: vec![0; WINDOW].into_boxed_slice(),
            n_spaces: 0,
            newlines: vec![0; WINDOW].into_boxed_slice(),
            n_newlines: 0,
            high: Vec::new(),
        }
    }

    /// Reads the separators of `text[base..]`, up to [`WINDOW`] bytes of it: 64 bytes per
    /// step with AVX-512 or AVX2 (and the bit instructions that come with them) where the
    /// CPU has them, else with `split::block_masks` (the same lists, tested).
    pub(crate) fn fill(&mut self, base: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            match x86::best() {
                x86::Level::Avx512 => return x86::fill_avx512(self, base),
                x86::Level::Avx2 => return x86::fill_avx2(self, base),
                x86::Level::Baseline => {}
            }
        }
        self.fill_with(base, block_masks);
    }

    /// [`Window::fill`] with `masks` for each block (inlined into each caller, so it is
    /// compiled with that caller's target features).
    #[inline(always)]
    fn fill_with(&mut self, base: usize, masks: impl Fn(&[u8; 64]) -> Masks) {
        let text = self.text;
        let end = text.len().min(base.saturating_add(WINDOW));
        self.base = base;
        self.end = end;
        self.n_spaces = 0;
        self.n_newlines = 0;
        self.high.clear();
        let mut at = base;
        while at < end {
            let rest = &text[at..];
            let masks = match rest.first_chunk::<64>() {
                Some(block) => masks(block),
                None => masks(&padded(rest)),
            };
            // `at - base < WINDOW`, a multiple of 64: a block ends at `end` or at the text's
            // end (zero padding is neither space nor newline nor high).
            let offset = (at - base) as u32;
            push(&mut self.spaces, &mut self.n_spaces, masks.spaces, offset);
            push_few(
                &mut self.newlines,
                &mut self.n_newlines,
                masks.newlines,
                offset,
            );
            if masks.high != 0 {
                self.high.push((offset, masks.high));
            }
            at += 64;
        }
    }

    /// Offsets of the spaces of the window, ascending.
    #[inline]
    pub(crate) fn spaces(&self) -> &[u32] {
        &self.spaces[..self.n_spaces]
    }

    /// Offsets of the newlines of the window, ascending.
    #[inline]
    pub(crate) fn newlines(&self) -> &[u32] {
        &self.newlines[..self.n_newlines]
    }

    /// Whether the bytes at offsets `from..to` of the window are all ASCII, starting the
    /// search at `self.high[*next..]` (and moving `next` past blocks ending before `from`,
    /// so a walk over ascending ranges looks at each block once).
    #[inline]
    pub(crate) fn is_ascii(&self, from: u32, to: u32, next: &mut usize) -> bool {
        if self.high.len() <= *next {
            return true;
        }
        self.is_ascii_slow(from, to, next)
    }

    /// `text[from..to]` (a range of the window, `from <= to`) if the window's masks show it
    /// is ASCII: its values are then text without a UTF-8 check.
    #[inline]
    pub(crate) fn ascii(&self, from: usize, to: usize, next: &mut usize) -> Option<Ascii<'t>> {
        if !(self.base <= from && from <= to && to <= self.end) {
            return None;
        }
        let (lo, hi) = ((from - self.base) as u32, (to - self.base) as u32);
        if !self.is_ascii(lo, hi, next) {
            return None;
        }
        let bytes = &self.text[from..to];
        debug_assert!(bytes.is_ascii());
        Some(Ascii(bytes))
    }

    #[cold]
    fn is_ascii_slow(&self, from: u32, to: u32, next: &mut usize) -> bool {
        while let Some(&(offset, _)) = self.high.get(*next) {
            if offset + 64 > from {
                break;
            }
            *next += 1;
        }
        for &(offset, mask) in &self.high[*next..] {
            if offset >= to {
                break;
            }
            // The bits of `from..to` within this block.
            let lo = from.saturating_sub(offset);
            let hi = (to - offset).min(64);
            let range = bits_below(hi) & !bits_below(lo);
            if mask & range != 0 {
                return false;
            }
        }
        true
    }
}

/// Bytes known to be ASCII (made only by [`Window::ascii`], from the window's masks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ascii<'t>(&'t [u8]);

impl<'t> Ascii<'t> {
    /// `self[from..to]` as text (`None` out of range).
    #[inline]
    pub(crate) fn get(self, from: usize, to: usize) -> Option<&'t str> {
        let bytes = self.0.get(from..to)?;
        // SAFETY: `Ascii` is made only of bytes whose high masks were empty (`Window::ascii`
        // checks every block the range touches, masks computed from this same text): any
        // part of ASCII is ASCII, which is UTF-8.
        #[allow(unsafe_code)]
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }
}

/// A mask of the bits below `n` (`n <= 64`).
#[inline]
fn bits_below(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Appends `offset + i` for each bit `i` of `mask` to `out[*n..]`, in order: eight positions
/// are written whatever the mask (the extra ones are junk past the new `*n`, overwritten
/// later), then eight more if there are more, then one at a time. `out` has room: fewer
/// positions than `offset` were written before (each is below it), and `offset + 64` is at
/// most its length.
#[inline(always)]
fn push(out: &mut [u32], n: &mut usize, mut mask: u64, offset: u32) {
    let count = mask.count_ones() as usize;
    let out = &mut out[*n..*n + 64];
    for slot in &mut out[..8] {
        *slot = offset + mask.trailing_zeros();
        mask &= mask.wrapping_sub(1);
    }
    if count > 8 {
        for slot in &mut out[8..16] {
            *slot = offset + mask.trailing_zeros();
            mask &= mask.wrapping_sub(1);
        }
        if count > 16 {
            for slot in &mut out[16..count] {
                *slot = offset + mask.trailing_zeros();
                mask &= mask.wrapping_sub(1);
            }
        }
    }
    *n += count;
}

/// [`push`] for masks with few bits (newlines): one position written whatever the mask.
#[inline(always)]
fn push_few(out: &mut [u32], n: &mut usize, mut mask: u64, offset: u32) {
    let count = mask.count_ones() as usize;
    let out = &mut out[*n..*n + 64];
    out[0] = offset + mask.trailing_zeros();
    if count > 1 {
        mask &= mask.wrapping_sub(1);
        for slot in &mut out[1..count] {
            *slot = offset + mask.trailing_zeros();
            mask &= mask.wrapping_sub(1);
        }
    }
    *n += count;
}

/// The AVX-512 and AVX2 versions of [`Window::fill`], chosen at run time: with the other
/// `unsafe` of the crate (`split`'s SSE2 and [`Ascii::get`]), the only `unsafe` code.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use core::arch::x86_64::{
        __m256i, __m512i, _MM_HINT_T0, _mm_prefetch, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_set1_epi8, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512,
        _mm512_movepi8_mask, _mm512_set1_epi8,
    };

    /// How far ahead of the block being read the text is asked for.
    const PREFETCH: usize = 1024;
    use std::sync::atomic::{AtomicU8, Ordering};

    use super::{Masks, Window};

    /// What the CPU has, best first.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Level {
        Avx512,
        Avx2,
        Baseline,
    }

    /// The best level this CPU has (detected once). `FLOWLOG_SIMD=avx2` or `=baseline` asks
    /// for a lower one (to compare them).
    #[inline]
    pub(super) fn best() -> Level {
        static LEVEL: AtomicU8 = AtomicU8::new(0);
        match LEVEL.load(Ordering::Relaxed) {
            1 => Level::Avx512,
            2 => Level::Avx2,
            3 => Level::Baseline,
            _ => {
                let level = detect();
                let code = match level {
                    Level::Avx512 => 1,
                    Level::Avx2 => 2,
                    Level::Baseline => 3,
                };
                LEVEL.store(code, Ordering::Relaxed);
                level
            }
        }
    }

    #[cold]
    fn detect() -> Level {
        let cap = std::env::var("FLOWLOG_SIMD").unwrap_or_default();
        if bits() && cap.is_empty() && std::is_x86_feature_detected!("avx512bw") {
            Level::Avx512
        } else if bits() && cap != "baseline" && std::is_x86_feature_detected!("avx2") {
            Level::Avx2
        } else {
            Level::Baseline
        }
    }

    fn bits() -> bool {
        std::is_x86_feature_detected!("popcnt")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
    }

    /// [`Window::fill`] with AVX-512BW compares (one 64-byte load per block), or the
    /// portable one on a CPU without them.
    pub(super) fn fill_avx512(window: &mut Window<'_>, base: usize) {
        if !(bits() && std::is_x86_feature_detected!("avx512bw")) {
            return window.fill_with(base, super::block_masks);
        }
        // SAFETY: the CPU has AVX-512BW (so AVX-512F), POPCNT, BMI1 and BMI2, the features
        // `avx512` is compiled with (checked just above: a cached load).
        unsafe { avx512(window, base) }
    }

    /// [`Window::fill`] with AVX2 compares (two 32-byte loads per block), or the portable
    /// one on a CPU without them.
    pub(super) fn fill_avx2(window: &mut Window<'_>, base: usize) {
        if !(bits() && std::is_x86_feature_detected!("avx2")) {
            return window.fill_with(base, super::block_masks);
        }
        // SAFETY: the CPU has AVX2, POPCNT, BMI1 and BMI2, the features `avx2` is compiled
        // with (checked just above).
        unsafe { avx2(window, base) }
    }

    #[target_feature(enable = "avx512bw,avx512f,popcnt,bmi1,bmi2")]
    fn avx512(window: &mut Window<'_>, base: usize) {
        window.fill_with(base, |block| {
            // Asks for the text some blocks ahead (a hint: it reads nothing, cannot fault).
            _mm_prefetch::<_MM_HINT_T0>(block.as_ptr().wrapping_add(PREFETCH).cast::<i8>());
            // SAFETY: the unaligned load reads exactly the 64 bytes of `block`.
            let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast::<__m512i>()) };
            Masks {
                spaces: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b' ' as i8)),
                newlines: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\n' as i8)),
                high: _mm512_movepi8_mask(v),
            }
        });
    }

    #[target_feature(enable = "avx2,popcnt,bmi1,bmi2")]
    fn avx2(window: &mut Window<'_>, base: usize) {
        window.fill_with(base, |block| {
            // As in `avx512`.
            _mm_prefetch::<_MM_HINT_T0>(block.as_ptr().wrapping_add(PREFETCH).cast::<i8>());
            let half = |k: usize| {
                // SAFETY: the unaligned load reads bytes `32 k..32 k + 32` of `block`.
                let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k).cast::<__m256i>()) };
                let bits = |v| u64::from(_mm256_movemask_epi8(v) as u32);
                (
                    bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b' ' as i8))),
                    bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8))),
                    bits(v),
                )
            };
            let (lo, hi) = (half(0), half(1));
            Masks {
                spaces: lo.0 | hi.0 << 32,
                newlines: lo.1 | hi.1 << 32,
                high: lo.2 | hi.2 << 32,
            }
        });
    }

    /// Every level this CPU has, for tests comparing them.
    #[cfg(test)]
    pub(super) fn available() -> Vec<Level> {
        let mut out = vec![Level::Baseline];
        if bits() && std::is_x86_feature_detected!("avx2") {
            out.push(Level::Avx2);
        }
        if bits() && std::is_x86_feature_detected!("avx512bw") {
            out.push(Level::Avx512);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], base: usize, byte: u8) -> Vec<u32> {
        let end = text.len().min(base + WINDOW);
        (base..end)
            .filter(|&i| text[i] == byte)
            .map(|i| (i - base) as u32)
            .collect()
    }

    /// Texts of every mix of separators, several windows long, with bytes that are not ASCII.
    fn texts() -> Vec<Vec<u8>> {
        let mut out = vec![
            Vec::new(),
            vec![b' '; 3 * WINDOW + 5],
            vec![b'\n'; WINDOW + 64],
            vec![b'x'; WINDOW - 1],
            vec![0xe9; 200],
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in [1, 63, 64, 65, 1000, WINDOW, WINDOW + 1, 2 * WINDOW + 100] {
            for alphabet in [&b" \n\rab"[..], b" ab", b"\n\n a", b"  \n\xc3\xa9", b"ab"] {
                out.push(crate::testutil::text(len, alphabet, &mut x));
            }
        }
        out
    }

    /// The fills this CPU can run, by name.
    fn levels() -> Vec<&'static str> {
        #[cfg(target_arch = "x86_64")]
        {
            x86::available()
                .into_iter()
                .map(|level| match level {
                    x86::Level::Avx512 => "avx512",
                    x86::Level::Avx2 => "avx2",
                    x86::Level::Baseline => "portable",
                })
                .collect()
        }
        #[cfg(not(target_arch = "x86_64"))]
        vec!["portable"]
    }

    fn fill_at(window: &mut Window<'_>, level: &str, base: usize) {
        match level {
            #[cfg(target_arch = "x86_64")]
            "avx512" => x86::fill_avx512(window, base),
            #[cfg(target_arch = "x86_64")]
            "avx2" => x86::fill_avx2(window, base),
            _ => window.fill_with(base, block_masks),
        }
    }

    #[test]
    fn windows_list_the_separators_a_byte_scan_finds() {
        for text in texts() {
            let mut window = Window::new(&text);
            for base in [0, 1, 63, 64, 65, WINDOW - 1, WINDOW, text.len()] {
                if base > text.len() {
                    continue;
                }
                for level in levels() {
                    fill_at(&mut window, level, base);
                    assert_eq!(window.end, text.len().min(base + WINDOW));
                    assert_eq!(window.spaces(), scan(&text, base, b' '), "{level} {base}");
                    assert_eq!(
                        window.newlines(),
                        scan(&text, base, b'\n'),
                        "{level} {base}"
                    );
                    let high: Vec<(u32, u64)> = (0..(window.end - base).div_ceil(64))
                        .map(|k| {
                            let block = &text[base + 64 * k..text.len().min(base + 64 * k + 64)];
                            let mask = (0..block.len())
                                .filter(|&i| block[i] >= 0x80)
                                .fold(0u64, |m, i| m | 1 << i);
                            ((64 * k) as u32, mask)
                        })
                        .filter(|&(_, m)| m != 0)
                        .collect();
                    assert_eq!(window.high, high, "{level} {base}");
                }
            }
        }
    }

    #[test]
    fn ascii_ranges_match_a_byte_scan() {
        for text in texts() {
            let mut window = Window::new(&text);
            for base in [0, 5, text.len() / 2] {
                if base > text.len() {
                    continue;
                }
                window.fill(base);
                let len = (window.end - base) as u32;
                // Ascending ranges of several sizes share one cursor, as lines do.
                for step in [1u32, 7, 64, 100, 300] {
                    let mut next = 0;
                    let mut from = 0;
                    while from <= len {
                        let to = (from + step).min(len);
                        let want = text[base + from as usize..base + to as usize].is_ascii();
                        assert_eq!(window.is_ascii(from, to, &mut next), want, "{from}..{to}");
                        // The text given is that range, checked as `from_utf8` would.
                        let (a, b) = (base + from as usize, base + to as usize);
                        let mut again = 0;
                        let got = window.ascii(a, b, &mut again).and_then(|t| t.get(0, b - a));
                        let safe = std::str::from_utf8(&text[a..b]).ok().filter(|_| want);
                        assert_eq!(got, safe, "{from}..{to}");
                        from += step;
                    }
                }
            }
        }
    }

    #[test]
    fn pushes_write_each_bit_in_order() {
        for mask in [
            0u64,
            1,
            1 << 63,
            u64::MAX,
            0x00ff,
            0x1ff,
            0xffff,
            0x1ffff,
            0x8000_0000_0000_0001,
            0x5555_5555_5555_5555,
        ] {
            let want: Vec<u32> = (0..64)
                .filter(|i| mask >> i & 1 == 1)
                .map(|i| 128 + i)
                .collect();
            let mut out = vec![7u32; 256];
            let mut n = 3;
            push(&mut out, &mut n, mask, 128);
            assert_eq!(&out[3..n], want, "{mask:#x}");
            let mut n = 3;
            push_few(&mut out, &mut n, mask, 128);
            assert_eq!(&out[3..n], want, "{mask:#x}");
        }
    }
}
