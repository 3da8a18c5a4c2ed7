//! Finding the single-space separators of a record line quickly and without allocation:
//! [`Spaces`] turns each 64-byte block of the line into a bitmask of space positions using
//! SWAR (8 bytes per `u64` step, exact, no `unsafe`) and walks it with `trailing_zeros`.

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
        Some(block) => block_mask(block),
        None => {
            let mut block = [0u8; 64];
            block[..bytes.len()].copy_from_slice(bytes);
            block_mask(&block)
        }
    }
}

#[inline]
fn block_mask(block: &[u8; 64]) -> u64 {
    let mut mask = 0;
    for (k, word) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        mask |= word_mask(word) << (8 * k);
    }
    mask
}

/// SWAR: bit `k` set when byte `k` (little-endian) of `word` is a space.
#[inline]
fn word_mask(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ 0x2020_2020_2020_2020; // spaces become zero bytes
    // 0x80 exactly in the zero bytes (no carries between bytes, so no false positives).
    let zero = !(((x & LOW7) + LOW7) | x | LOW7);
    // Gather the eight 0x80 bits into the top byte, byte k to bit 56 + k.
    (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
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
            assert_eq!(word_mask(word), want, "{word:#x}");
        }
    }

    #[test]
    fn value_counts() {
        assert_eq!(count_values(""), 0);
        assert_eq!(count_values("a"), 1);
        assert_eq!(count_values("a  b "), 4);
    }
}
