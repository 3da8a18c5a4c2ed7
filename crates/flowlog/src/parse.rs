//! Allocation-free parsers for single values: unsigned decimals, IP addresses (with a fast
//! IPv4 path) and the typed enumerations. Each returns the reason on failure; the caller
//! adds the column and field.
//!
//! [`u64_wide`] is an accelerator for short numbers inside a longer text: given the bytes
//! from the value's start on (`rest`), it reads one whole word with no branch per digit,
//! and gives `Some` only for a value the exact parser accepts, with the same result (else
//! `None`: the caller then runs the exact parser, for its value or its error). Tested
//! against the exact parser.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::DecodeErrorKind as K;
use crate::types::{Timestamp, TrafficPath};

/// `-` → `None`; empty → error; otherwise `parse`.
#[inline(always)]
pub(crate) fn opt<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, K>,
) -> Result<Option<T>, K> {
    match value {
        "-" => Ok(None),
        "" => Err(K::EmptyValue),
        _ => parse(value).map(Some),
    }
}

/// A text value: `-` → `None`; empty → error.
#[inline(always)]
pub(crate) fn text(value: &str) -> Result<Option<&str>, K> {
    match value {
        "-" => Ok(None),
        "" => Err(K::EmptyValue),
        _ => Ok(Some(value)),
    }
}

/// Decimal digits only (no sign, no spaces), at most `u64::MAX`.
#[inline]
pub(crate) fn u64(value: &str) -> Result<u64, K> {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(K::EmptyValue);
    }
    let mut n: u64 = 0;
    if bytes.len() < 20 {
        // 19 digits cannot overflow. Eight digits at a time (timestamps have ten), then the
        // rest one at a time: a non-digit anywhere is `InvalidNumber` either way.
        let (chunks, rest) = bytes.as_chunks::<8>();
        for chunk in chunks {
            n = n * 100_000_000 + eight_digits(chunk).ok_or(K::InvalidNumber)?;
        }
        for &b in rest {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return Err(K::InvalidNumber);
            }
            n = n * 10 + u64::from(d);
        }
        return Ok(n);
    }
    let mut overflow = false;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(K::InvalidNumber);
        }
        match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d))) {
            Some(next) => n = next,
            None => overflow = true,
        }
    }
    if overflow {
        Err(K::NumberOutOfRange { max: u64::MAX })
    } else {
        Ok(n)
    }
}

/// The value of eight ASCII decimal digits (the first most significant), or `None` if a
/// byte is not a digit: SWAR on one `u64`, no loop.
#[inline]
fn eight_digits(chunk: &[u8; 8]) -> Option<u64> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let x = u64::from_le_bytes(*chunk);
    // Every byte below 0x80; none at or above b'9' + 1 (adding 0x46 sets its high bit, with no
    // carry into the next byte since it is below 0x80); none below b'0' (with its high bit
    // set, subtracting 0x30 borrows from no other byte and clears the bit only then).
    let ascii = x & HIGH == 0;
    let below_ten = x.wrapping_add(0x4646_4646_4646_4646) & HIGH == 0;
    let at_least_zero = ((x | HIGH) - ZEROS) & HIGH == HIGH;
    if !(ascii && below_ten && at_least_zero) {
        return None;
    }
    // Byte k is digit k (0..=9); combine neighbours: pairs, quads, then the eight.
    let d = x - ZEROS;
    let d = (d * 10 + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let d = (d * 100 + (d >> 16)) & 0x0000_ffff_0000_ffff;
    let d = (d * 10_000 + (d >> 32)) & 0xffff_ffff;
    Some(d)
}

#[inline]
fn bounded(value: &str, max: u64) -> Result<u64, K> {
    let n = u64(value)?;
    if n > max {
        Err(K::NumberOutOfRange { max })
    } else {
        Ok(n)
    }
}

#[inline]
pub(crate) fn u8(value: &str) -> Result<u8, K> {
    bounded(value, u64::from(u8::MAX)).map(|n| n as u8)
}

#[inline]
pub(crate) fn u16(value: &str) -> Result<u16, K> {
    bounded(value, u64::from(u16::MAX)).map(|n| n as u16)
}

#[inline]
pub(crate) fn timestamp(value: &str) -> Result<Timestamp, K> {
    let n = u64(value).map_err(|e| match e {
        K::NumberOutOfRange { .. } => K::InvalidTimestamp,
        other => other,
    })?;
    Timestamp::from_raw(n).ok_or(K::InvalidTimestamp)
}

#[inline]
pub(crate) fn traffic_path(value: &str) -> Result<TrafficPath, K> {
    let invalid = K::InvalidValue {
        expected: TrafficPath::EXPECTED,
    };
    let n = u64(value).map_err(|_| invalid)?;
    TrafficPath::from_code(n).ok_or(invalid)
}

/// An enumeration value via its `parse` (generic, so the match inlines into the decoder).
#[inline(always)]
pub(crate) fn choice<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    expected: &'static str,
) -> Result<T, K> {
    parse(value).ok_or(K::InvalidValue { expected })
}

/// IPv4 dotted quad or any IPv6 form `std` accepts.
#[inline]
pub(crate) fn ip(value: &str) -> Result<IpAddr, K> {
    if let Some(v4) = ipv4(value.as_bytes()) {
        return Ok(IpAddr::V4(v4));
    }
    if value.contains(':') {
        return value
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| K::InvalidIp);
    }
    Err(K::InvalidIp)
}

/// Strict dotted quad, the same language as `Ipv4Addr::from_str`: four decimal octets of
/// 1–3 digits, each at most 255, no leading zeros.
#[inline]
fn ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
    let digit = |i: usize| {
        bytes
            .get(i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
            .map(u16::from)
    };
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if bytes.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let mut value = digit(i)?;
        i += 1;
        if let Some(d) = digit(i) {
            if value == 0 {
                return None; // leading zero
            }
            value = value * 10 + d;
            i += 1;
            if let Some(d) = digit(i) {
                value = value * 10 + d;
                i += 1;
                if value > 255 {
                    return None;
                }
            }
        }
        *octet = value as u8;
    }
    (i == bytes.len()).then_some(Ipv4Addr::from(octets))
}

/// `'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The low `n` bytes of a word (`n <= 8`).
#[inline]
fn low_bytes(n: usize) -> u64 {
    u64::MAX.checked_shr(64 - 8 * n as u32).unwrap_or(0)
}

/// The value of the `len` (1 to 8) decimal digits in the low bytes of `word` (the first
/// most significant; the other bytes are ignored), or `None` if one is not a digit.
#[inline]
fn word_digits(word: u64, len: usize) -> Option<u64> {
    let shift = 8 * (8 - len) as u32;
    // The digits moved to the top bytes, the bytes below them '0'.
    eight_digits(&((word << shift) | (ZEROS & low_bytes(8 - len))).to_le_bytes())
}

/// [`u64`] of a value of 1 to 8 digits given the text from its start on (see the module
/// docs): `None` for anything else (a longer value, fewer than 8 bytes from its start to
/// the text's end, a value with a non-digit).
#[inline(always)]
pub(crate) fn u64_wide(value: &str, rest: &[u8]) -> Option<u64> {
    let len = value.len();
    let word = u64::from_le_bytes(*rest.first_chunk::<8>()?);
    match len {
        1..=8 => word_digits(word, len),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(u64("0"), Ok(0));
        assert_eq!(u64("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            u64("18446744073709551616"),
            Err(K::NumberOutOfRange { max: u64::MAX })
        );
        assert_eq!(u64("00000000000000000000042"), Ok(42));
        assert_eq!(u64("+5"), Err(K::InvalidNumber));
        assert_eq!(u64("-5"), Err(K::InvalidNumber));
        assert_eq!(u64("5a"), Err(K::InvalidNumber));
        assert_eq!(u16("65535"), Ok(65535));
        assert_eq!(u16("65536"), Err(K::NumberOutOfRange { max: 65535 }));
        assert_eq!(u8("256"), Err(K::NumberOutOfRange { max: 255 }));
        assert_eq!(timestamp("99999999999999"), Err(K::InvalidTimestamp));
        assert_eq!(
            traffic_path("9"),
            Err(K::InvalidValue {
                expected: TrafficPath::EXPECTED
            })
        );
    }

    /// The digit-at-a-time parser `u64` had before its eight-digit steps.
    fn u64_by_digit(value: &str) -> Result<u64, K> {
        if value.is_empty() {
            return Err(K::EmptyValue);
        }
        let mut n: Option<u64> = Some(0);
        for b in value.bytes() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return Err(K::InvalidNumber);
            }
            n = n.and_then(|n| n.checked_mul(10)?.checked_add(u64::from(d)));
        }
        n.ok_or(K::NumberOutOfRange { max: u64::MAX })
    }

    #[test]
    fn eight_digit_steps_match_the_digit_loop() {
        let mut cases: Vec<String> = [
            "1418530010",
            "1512564058000",
            "12345678",
            "99999999",
            "00000000",
            "0000000012",
            "1234567890123456789",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "+1234567",
            "-1234567",
            "1234567-",
            "12345678-",
            "123456789a",
            "1234 5678",
            "1234/5678",
            "1234:5678",
            "12345678901234567:9",
            "\u{0}1234567",
            "１２３４５６７８",
            "1234567\u{e9}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every byte value in every position of an eight- and a ten-digit number.
        for len in [8, 10, 16, 19] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = b"1234567890123456789"[..len].to_vec();
                    bytes[at] = b;
                    if let Ok(s) = String::from_utf8(bytes) {
                        cases.push(s);
                    }
                }
            }
        }
        for case in &cases {
            assert_eq!(u64(case), u64_by_digit(case), "{case:?}");
            if u64(case).is_ok() {
                assert_eq!(u64(case).ok(), case.parse::<u64>().ok(), "{case:?}");
            }
        }
        assert_eq!(u64("1418530010"), Ok(1_418_530_010));
        assert_eq!(u64("9999999999999999999"), Ok(9_999_999_999_999_999_999));
        assert_eq!(u64("0000000012"), Ok(12));
        assert_eq!(u64("12345678-"), Err(K::InvalidNumber));
        assert_eq!(u64("-1234567"), Err(K::InvalidNumber));
        assert_eq!(u64("1234/5678"), Err(K::InvalidNumber));
        assert_eq!(u64("1234:5678"), Err(K::InvalidNumber));
    }

    #[test]
    fn eight_digits_checks_every_byte() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut chunk = *b"12345678";
                chunk[at] = b;
                let expected = std::str::from_utf8(&chunk)
                    .ok()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok());
                assert_eq!(eight_digits(&chunk), expected, "{chunk:?}");
            }
        }
        assert_eq!(eight_digits(b"00000000"), Some(0));
        assert_eq!(eight_digits(b"99999999"), Some(99_999_999));
    }

    #[test]
    fn ipv4_fast_path_matches_std() {
        let cases = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.1.1.1",
            "1.1.1.01",
            "0.0.0.00",
            "1..1.1",
            ".1.1.1",
            "1.1.1.",
            "1.1.1.1 ",
            "1234.1.1.1",
            "1.1.1.1a",
            "a.b.c.d",
            "",
            "172.31.16.139",
            "100.64.0.0",
        ];
        for case in cases {
            assert_eq!(
                ipv4(case.as_bytes()),
                case.parse::<Ipv4Addr>().ok(),
                "{case:?}"
            );
        }
    }

    /// Texts near dotted quads: every octet from 0 to 300 with and without leading zeros in
    /// every place, and seeded strings of digits and dots (and other bytes) of every length.
    fn quad_like() -> Vec<String> {
        let mut out = Vec::new();
        let octets: Vec<String> = (0..=300)
            .map(|n| n.to_string())
            .chain(
                [
                    "00", "01", "000", "001", "010", "0255", "1a", "", " 1", "+1", "-1",
                ]
                .map(String::from),
            )
            .collect();
        for (k, o) in octets.iter().enumerate() {
            let other = &octets[(k * 7 + 3) % octets.len()];
            out.push(format!("{o}.0.0.0"));
            out.push(format!("1.{o}.2.3"));
            out.push(format!("10.200.{o}.{other}"));
            out.push(format!("255.{other}.255.{o}"));
            out.push(format!("{o}.{o}.{o}.{o}"));
            out.push(format!("{other}.{o}.{o}"));
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300_000 {
            crate::testutil::next(&mut x);
            let len = (x % 18) as usize;
            let mut v = x;
            let s: String = (0..len)
                .map(|_| {
                    v = v
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"0123456789.........1250:x/"[(v >> 58) as usize % 26] as char
                })
                .collect();
            out.push(s);
        }
        out
    }

    /// `value` followed by each of a few tails (what follows a value in a line), so the wide
    /// parser sees it at the start of a longer text.
    fn in_texts(value: &[u8], f: &mut dyn FnMut(&[u8])) {
        for tail in [
            &b" 10.0.0.1 443 6 ACCEPT"[..],
            b"................",
            b"9999999999999999",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"",
        ] {
            let mut text = value.to_vec();
            text.extend_from_slice(tail);
            f(&text);
        }
    }

    #[test]
    fn ipv4_matches_std_on_quad_like_texts() {
        for case in quad_like() {
            let want = case.parse::<Ipv4Addr>().ok();
            assert_eq!(ipv4(case.as_bytes()), want, "{case:?}");
        }
    }

    #[test]
    fn wide_numbers_match_the_exact_parser() {
        let mut cases: Vec<String> = Vec::new();
        for len in 1..=18 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = b"987654321098765432"[..len].to_vec();
                    bytes[at] = b;
                    if let Ok(s) = String::from_utf8(bytes) {
                        cases.push(s);
                    }
                }
            }
        }
        for n in [
            0u64,
            1,
            9,
            10,
            99,
            255,
            256,
            65535,
            65536,
            99_999_999,
            1_418_530_010,
        ] {
            cases.push(n.to_string());
            cases.push(format!("0{n}"));
        }
        cases.extend(["-", "", "+1", "1-", " 1"].map(String::from));
        let mut fast = 0;
        for case in &cases {
            let want = u64(case).ok();
            in_texts(case.as_bytes(), &mut |text| {
                let got = u64_wide(case, text);
                if text.len() >= 8 && (1..=8).contains(&case.len()) {
                    assert_eq!(got, want, "{case:?} in {text:?}");
                    fast += usize::from(got.is_some());
                } else {
                    assert_eq!(got, None, "{case:?} in {text:?}");
                }
            });
        }
        assert!(fast > 100, "{fast}");
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(ip("2001:db8::1"), Ok("2001:db8::1".parse().unwrap()));
        assert_eq!(
            ip("::ffff:10.0.0.1"),
            Ok("::ffff:10.0.0.1".parse().unwrap())
        );
        assert_eq!(ip("2001:db8::zz"), Err(K::InvalidIp));
        assert_eq!(ip("10.0.0"), Err(K::InvalidIp));
    }
}
