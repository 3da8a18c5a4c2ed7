//! Finding the single-space separators of record lines quickly and without allocation.
//!
//! Each 64-byte block becomes bitmasks of its spaces and newlines ([`block_masks`]: SSE2
//! compares on x86_64, 16 bytes per step, else an exact SWAR fallback, 8 bytes per `u64`
//! step), walked with `trailing_zeros`. [`Spaces`] walks the spaces of one line;
//! [`Separators`] walks the spaces and newlines of a whole text of many lines in one pass
//! (so lines need no separate search for their end, and are not copied to pad a short
//! last block).

/// Positions of the spaces in a line, found 64 bytes at a time: each block becomes a
/// bitmask (bit `i` set when byte `i` is a space) that is then walked with
/// `trailing_zeros`. Values are short, so this beats a byte loop and its mispredicted
/// branches.
pub(crate) struct Spaces<'b> {
    bytes: &'b [u8],
    base: usize,
    mask: u64,
}

impl<'b> Spaces<'b> {
    #[inline]
    pub(crate) fn new(bytes: &'b [u8]) -> Spaces<'b> {
        Spaces {
            bytes,
            base: 0,
            mask: space_mask(bytes),
        }
    }

    #[inline]
    pub(crate) fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = space_mask(&self.bytes[self.base..]);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// The space bitmask of the first 64 bytes (a shorter tail is padded with non-spaces).
#[inline]
fn space_mask(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<64>() {
        Some(block) => block_masks(block).spaces,
        None => block_masks(&padded(bytes)).spaces,
    }
}

/// The first 64 bytes of `bytes`, padded with zero bytes (neither space nor newline).
#[inline]
fn padded(bytes: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    let n = bytes.len().min(64);
    block[..n].copy_from_slice(&bytes[..n]);
    block
}

/// Bit `i` of `spaces` (`newlines`, `high`) is set when byte `i` of the block is a space
/// (`\n`, not ASCII).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Masks {
    pub(crate) spaces: u64,
    pub(crate) newlines: u64,
    pub(crate) high: u64,
}

/// The masks of one block: SSE2 where the target has it (x86_64 always does).
#[inline]
pub(crate) fn block_masks(block: &[u8; 64]) -> Masks {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::block_masks(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        swar_block_masks(block)
    }
}

/// The portable [`block_masks`] (the SSE2 one is tested against it).
#[inline]
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn swar_block_masks(block: &[u8; 64]) -> Masks {
    let (mut spaces, mut newlines, mut high) = (0, 0, 0);
    for (k, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        spaces |= word_mask(word, b' ') << (8 * k);
        newlines |= word_mask(word, b'\n') << (8 * k);
        high |= gather(word & 0x8080_8080_8080_8080) << (8 * k);
    }
    Masks {
        spaces,
        newlines,
        high,
    }
}

/// SWAR: bit `k` set when byte `k` (little-endian) of `word` is `byte` (an ASCII byte).
#[inline]
fn word_mask(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101); // matches become zero bytes
    // 0x80 exactly in the zero bytes (no carries between bytes, so no false positives).
    let zero = !(((x & LOW7) + LOW7) | x | LOW7);
    gather(zero)
}

/// The 0x80 bits of the eight bytes of `word` (nothing else set) as bits 0–7.
#[inline]
fn gather(word: u64) -> u64 {
    // Byte k's bit goes to bit 56 + k of the product, with no carries.
    (word >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// SSE2 intrinsics (byte compares and `movemask`), one of the two `unsafe` blocks of the crate
/// (the other is [`Separators::text`]).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };

    use super::Masks;

    #[inline]
    pub(super) fn block_masks(block: &[u8; 64]) -> Masks {
        let (mut spaces, mut newlines, mut high) = (0u64, 0u64, 0u64);
        for (k, chunk) in block.chunks_exact(16).enumerate() {
            // SAFETY: the `cfg` of this module guarantees SSE2, which these intrinsics need;
            // `chunk` has exactly 16 readable bytes, what the unaligned load reads.
            let (s, n, h) = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                (
                    _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8))),
                    _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8))),
                    _mm_movemask_epi8(v),
                )
            };
            // `movemask` sets only the low 16 bits.
            spaces |= u64::from(s as u16) << (16 * k);
            newlines |= u64::from(n as u16) << (16 * k);
            high |= u64::from(h as u16) << (16 * k);
        }
        Masks {
            spaces,
            newlines,
            high,
        }
    }
}

/// The spaces and newlines of a whole text, in order: `(position, is_newline)`; and, from a
/// [`Separators::mark`] on, whether the blocks read so far are ASCII, so that values in them
/// are text without a UTF-8 check ([`Separators::text`]).
pub(crate) struct Separators<'b> {
    bytes: &'b [u8],
    /// Where the current block starts.
    base: usize,
    /// Separators of the current block not yet returned.
    seps: u64,
    newlines: u64,
    /// Whether the current block has a byte that is not ASCII.
    high: bool,
    /// Every block read from the one holding `ascii_from` (or the block before it) to the
    /// current one is ASCII.
    ascii: bool,
    ascii_from: usize,
}

impl<'b> Separators<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> Separators<'b> {
        let mut s = Separators {
            bytes,
            base: 0,
            seps: 0,
            newlines: 0,
            high: false,
            ascii: true,
            ascii_from: 0,
        };
        s.load();
        s.mark(0);
        s
    }

    #[inline]
    fn load(&mut self) {
        let rest = &self.bytes[self.base.min(self.bytes.len())..];
        let masks = match rest.first_chunk::<64>() {
            Some(block) => block_masks(block),
            None => block_masks(&padded(rest)),
        };
        self.seps = masks.spaces | masks.newlines;
        self.newlines = masks.newlines;
        self.high = masks.high != 0;
        self.ascii &= !self.high;
    }

    /// Starts tracking ASCII at `at`, which is in the current block or the next one (as the
    /// start of the line after a newline just returned is).
    #[inline]
    pub(crate) fn mark(&mut self, at: usize) {
        self.ascii_from = at;
        self.ascii = !self.high;
    }

    /// `bytes[start..end]` as text, if it is within what is known to be ASCII: from the mark
    /// to the end of the current block. `None` says nothing about the bytes.
    #[inline]
    pub(crate) fn text(&self, start: usize, end: usize) -> Option<&'b str> {
        let known = (self.base + 64).min(self.bytes.len());
        if !(self.ascii && self.ascii_from <= start && start <= end && end <= known) {
            return None;
        }
        let bytes = &self.bytes[start..end];
        debug_assert!(bytes.is_ascii());
        // SAFETY: every byte from `ascii_from` to the end of the current block has been in a
        // block whose `high` mask was empty (`mark` took the block holding `ascii_from` or
        // the one before it, `load` every later one): they are ASCII, which is UTF-8.
        #[allow(unsafe_code)]
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// The next separator: its position and whether it is a newline.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<(usize, bool)> {
        while self.seps == 0 {
            if self.base + 64 >= self.bytes.len() {
                return None;
            }
            self.base += 64;
            self.load();
        }
        let bit = self.seps.trailing_zeros();
        self.seps &= self.seps - 1;
        Some((self.base + bit as usize, self.newlines >> bit & 1 == 1))
    }

    /// Skips to the next newline: its position, or the text's length if there is none.
    pub(crate) fn line_end(&mut self) -> usize {
        loop {
            match self.next() {
                Some((at, true)) => return at,
                Some(_) => {}
                None => return self.bytes.len(),
            }
        }
    }
}

/// Number of single-space-separated values (0 for an empty line).
pub(crate) fn count_values(line: &str) -> usize {
    if line.is_empty() {
        0
    } else {
        line.bytes().filter(|&b| b == b' ').count() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_positions_match_a_byte_scan() {
        let mut line = String::new();
        for i in 0..300 {
            line.push(char::from(b"ab -!\x1f\x7f\xa0 "[i * 7 % 9].min(0x7f)));
            let want: Vec<usize> = line
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b' ')
                .map(|(i, _)| i)
                .collect();
            let mut spaces = Spaces::new(line.as_bytes());
            let got: Vec<usize> = std::iter::from_fn(|| spaces.next()).collect();
            assert_eq!(got, want, "{line:?}");
        }
        for word in [
            0u64,
            u64::MAX,
            0x2020_2020_2020_2020,
            0x2100_2120_0020_a0a0,
            0x8020_2180_2000_2120,
        ] {
            let want = (0..8)
                .filter(|k| (word >> (8 * k)) as u8 == b' ')
                .fold(0, |m, k| m | 1 << k);
            assert_eq!(word_mask(word, b' '), want, "{word:#x}");
        }
    }

    /// Blocks of every byte value at every position, spaces and newlines in runs and alone.
    fn blocks() -> Vec<[u8; 64]> {
        let mut out = vec![[b' '; 64], [b'\n'; 64], [0; 64], [0xff; 64], [0xa0; 64]];
        for b in 0..=255u8 {
            for at in [0, 1, 7, 8, 15, 16, 31, 32, 47, 48, 62, 63] {
                let mut block = [b'x'; 64];
                block[at] = b;
                out.push(block);
                let mut block = [b' '; 64];
                block[at] = b;
                out.push(block);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = b" \n\rab\xff\x80\x20\x0a\xa0\x8a"[(x % 11) as usize];
            }
            out.push(block);
        }
        out
    }

    #[test]
    fn block_masks_match_the_portable_masks_and_a_byte_scan() {
        for block in blocks() {
            let scan = |c: u8| {
                (0..64)
                    .filter(|&i| block[i] == c)
                    .fold(0u64, |m, i| m | 1 << i)
            };
            let want = Masks {
                spaces: scan(b' '),
                newlines: scan(b'\n'),
                high: (0..64)
                    .filter(|&i| block[i] >= 0x80)
                    .fold(0u64, |m, i| m | 1 << i),
            };
            assert_eq!(swar_block_masks(&block), want, "{block:?}");
            assert_eq!(block_masks(&block), want, "{block:?}");
        }
    }

    #[test]
    fn separators_of_a_text_match_a_byte_scan() {
        let mut text = Vec::new();
        for len in 0..400 {
            let want: Vec<(usize, bool)> = text
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(b, b' ' | b'\n'))
                .map(|(i, b)| (i, *b == b'\n'))
                .collect();
            let mut seps = Separators::new(&text);
            let got: Vec<(usize, bool)> = std::iter::from_fn(|| seps.next()).collect();
            assert_eq!(got, want, "{len}");
            assert_eq!(seps.next(), None);
            let mut seps = Separators::new(&text);
            let first_newline = text.iter().position(|&b| b == b'\n');
            assert_eq!(seps.line_end(), first_newline.unwrap_or(text.len()));
            text.push(b"ab \n\xc3\xa9  \r\n \n"[len * 7 % 12]);
        }
    }

    #[test]
    fn text_is_given_only_within_what_is_known_ascii() {
        // Lines of every length around the block size, one byte not ASCII at every place.
        for len in [0, 1, 62, 63, 64, 65, 127, 128, 129, 200] {
            for bad in (0..len).chain([usize::MAX]) {
                let mut text: Vec<u8> = (0..len).map(|i| b"ab c"[i % 4]).collect();
                if bad < len {
                    text[bad] = 0xe9;
                }
                text.extend_from_slice(b"\nnext x\n");
                let mut seps = Separators::new(&text);
                let end = seps.line_end();
                assert_eq!(end, len);
                let got = seps.text(0, end);
                if bad < len {
                    assert_eq!(got, None, "{len} {bad}");
                } else {
                    assert_eq!(got.map(str::as_bytes), Some(&text[..end]), "{len}");
                }
                // Nothing before the mark, the next line after it.
                seps.mark(end + 1);
                assert_eq!(seps.text(0, 1), None);
                let next = seps.line_end();
                // The mark starts with the block of the newline before it (conservative).
                let clean = bad >= len || bad / 64 != end / 64;
                let want = clean.then_some("next x");
                assert_eq!(seps.text(end + 1, next), want, "{len} {bad}");
                assert_eq!(seps.text(end + 1, text.len() + 1), None);
            }
        }
        // Not past the current block.
        let text = [b'a'; 200];
        let seps = Separators::new(&text);
        assert_eq!(seps.text(0, 64).map(str::len), Some(64));
        assert_eq!(seps.text(0, 65), None);
    }

    #[test]
    fn value_counts() {
        assert_eq!(count_values(""), 0);
        assert_eq!(count_values("a"), 1);
        assert_eq!(count_values("a  b "), 4);
    }
}
