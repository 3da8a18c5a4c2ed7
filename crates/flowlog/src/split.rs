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

/// The first line start of `text` at or after `from` whose first byte `wanted` says yes
/// to: a position `p >= from` with `p == 0` or `text[p - 1] == b'\n'`, `p < text.len()`.
/// Newlines are found 64 bytes at a time ([`block_masks`]), so a text of long lines is not
/// walked line by line (what a search for each line's end would do); a reader looking for
/// rare lines (header lines inside a stream) pays a few ns per line.
pub fn next_line_start(text: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    if from >= text.len() {
        return None;
    }
    if (from == 0 || text[from - 1] == b'\n') && wanted(text[from]) {
        return Some(from);
    }
    let mut at = from;
    while at < text.len() {
        let rest = &text[at..];
        let mut mask = match rest.first_chunk::<64>() {
            Some(block) => block_masks(block).newlines,
            None => block_masks(&padded(rest)).newlines,
        };
        while mask != 0 {
            let p = at + mask.trailing_zeros() as usize + 1;
            if p < text.len() && wanted(text[p]) {
                return Some(p);
            }
            mask &= mask - 1;
        }
        at += 64;
    }
    None
}

/// The first 64 bytes of `bytes`, padded with zero bytes (neither space nor newline).
#[inline]
pub(crate) fn padded(bytes: &[u8]) -> [u8; 64] {
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

/// SSE2 intrinsics (byte compares and `movemask`), one of the `unsafe` blocks of the crate
/// (the other is `window::Ascii::get`).
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
                *b = b" \n\rab\xff\x80\x20\x0a\xa0\x8a"
                    [(crate::testutil::next(&mut x) % 11) as usize];
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
    fn value_counts() {
        assert_eq!(count_values(""), 0);
        assert_eq!(count_values("a"), 1);
        assert_eq!(count_values("a  b "), 4);
    }

    #[test]
    fn next_line_start_finds_what_a_byte_scan_finds() {
        let lower = |b: u8| b.is_ascii_lowercase();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 2, 63, 64, 65, 127, 128, 129, 500, 3000] {
            for alphabet in [&b"\n\n5 a"[..], b"\na", b"ab\n", b"5 \n", b"a"] {
                let text = crate::testutil::text(len, alphabet, &mut x);
                for from in [0, 1, 2, 63, 64, 65, len / 2, len] {
                    let want = (from..text.len())
                        .find(|&p| (p == 0 || text[p - 1] == b'\n') && lower(text[p]));
                    assert_eq!(next_line_start(&text, from, lower), want, "{len} {from}");
                }
            }
        }
    }
}
