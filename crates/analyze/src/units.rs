//! Human units for summaries and reports: bytes (`1.5 GiB`), counts (`1.2k`, `3.4M`) and
//! durations (`45s`, `5m`, `1h 5m`, `2d 3h`). One place, so every format says the same.

/// Bytes in binary units: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A count in decimal units: `999`, `1.2k`, `12k`, `3.4M`, `1.0G` (below 10 of a unit one
/// decimal, above none).
pub fn human_count(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")];
    for (size, unit) in UNITS {
        if n >= size {
            let v = n as f64 / size as f64;
            return if v < 10.0 {
                format!("{:.1}{unit}", (v * 10.0).floor() / 10.0)
            } else {
                format!("{}{unit}", n / size)
            };
        }
    }
    n.to_string()
}

/// A duration in seconds, at most two units: `0s`, `45s`, `5m`, `5m 30s`, `1h 5m`, `2d 3h`.
pub fn human_duration(secs: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, unit) in UNITS {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(2 << 30), "2.0 GiB");
    }

    #[test]
    fn counts() {
        assert_eq!(human_count(0), "0");
        assert_eq!(human_count(999), "999");
        assert_eq!(human_count(1_000), "1.0k");
        assert_eq!(human_count(1_299), "1.2k");
        assert_eq!(human_count(12_345), "12k");
        assert_eq!(human_count(3_456_789), "3.4M");
        assert_eq!(human_count(10_000_000_000), "10G");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(300), "5m");
        assert_eq!(human_duration(330), "5m 30s");
        assert_eq!(human_duration(3_900), "1h 5m");
        assert_eq!(human_duration(3_601), "1h");
        assert_eq!(human_duration(2 * 86_400 + 3 * 3_600 + 59), "2d 3h");
    }
}
