//! Event-time helpers: rule-pack durations (`90`, `30s`, `5m`, `1h`, `1d`), UTC calendar
//! conversion for RFC 3339 text (`2026-11-01T00:00:00Z`; parsing by `jiff`, formatting here,
//! integer-only for findings) and window alignment. Nothing here
//! reads a clock: every time is a Unix second taken from the records or the caller.

/// Parses a duration: whole seconds, or a whole number followed by `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    if digits.is_empty() {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// Formats seconds the way packs write them (`5m`, `1h`, `90s`).
pub fn format_duration(secs: u64) -> String {
    match secs {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The start of the `size`-second window holding `t` (windows are aligned to the Unix epoch).
#[inline]
pub fn window_start(t: u64, size: u64) -> u64 {
    t - t % size
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds → calendar fields (year, month, day, hour, minute, second), UTC.
pub fn utc_fields(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Unix seconds as RFC 3339 UTC (`2026-11-01T00:05:00Z`).
pub fn format_rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_fields(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Parses an RFC 3339 time with its offset (`2026-11-01T00:00:00Z`,
/// `2026-11-01T02:00:00+02:00`) into Unix seconds, with `jiff`: impossible dates
/// (2026-02-30), times without an offset and times before 1970 are `None`.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let t: jiff::Timestamp = text.parse().ok()?;
    u64::try_from(t.as_second()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(300));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5 m"), None);
        assert_eq!(parse_duration("5w"), None);
        assert_eq!(format_duration(300), "5m");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(90), "90s");
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(parse_rfc3339("2026-11-01T00:00:00Z"), Some(1_793_491_200));
        assert_eq!(format_rfc3339(1_793_491_200), "2026-11-01T00:00:00Z");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-11-01T00:00:00"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
        assert_eq!(
            parse_rfc3339("2026-11-01T02:00:00+02:00"),
            Some(1_793_491_200)
        );
        for t in [0, 59, 86_399, 1_234_567_890, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
        assert_eq!(window_start(1_793_491_499, 300), 1_793_491_200);
    }
}
