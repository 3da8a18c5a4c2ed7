//! Test inputs shared by the crate's unit tests: a xorshift generator and random texts over
//! an alphabet (the same sequence for the same seed, so failures repeat).

/// The next value of the xorshift64 sequence in `x`.
pub(crate) fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// `len` bytes drawn from `alphabet` with the sequence in `x`.
pub(crate) fn text(len: usize, alphabet: &[u8], x: &mut u64) -> Vec<u8> {
    (0..len)
        .map(|_| alphabet[(next(x) % alphabet.len() as u64) as usize])
        .collect()
}
