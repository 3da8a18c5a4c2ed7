//! Durations of `--since`, `--max-age` and `--wait`: a whole number and one unit, `s`, `m`,
//! `h` or `d` (`90s`, `15m`, `2h`, `1d`).

use std::time::Duration;

/// `--since`/`--max-age`: as [`parse`], but zero is an error (a zero window or threshold
/// makes every delivery too old).
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        d if d.is_zero() => Err(format!("`{text}`: must be more than zero (e.g. 15m)")),
        d => Ok(d),
    }
}

/// Parses `90s`, `15m`, `2h`, `1d`. The error says what was wrong and what is accepted.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let hint = "write a whole number and a unit: 90s, 15m, 2h or 1d";
    if t.starts_with('-') {
        return Err(format!(
            "`{text}`: negative durations are not accepted: {hint}"
        ));
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    let (number, unit) = t.split_at(digits);
    if number.is_empty() {
        return Err(format!("`{text}` is not a duration: {hint}"));
    }
    let seconds_per = match unit {
        "s" => 1u64,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => return Err(format!("`{text}` has no unit: {hint}")),
        other => return Err(format!("`{text}`: unknown unit `{other}`: {hint}")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is too large: {hint}"))?;
    let secs = n
        .checked_mul(seconds_per)
        .filter(|s| *s <= 366 * 86_400)
        .ok_or_else(|| format!("`{text}` is too large: at most 366d"))?;
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_parses() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse(" 0s "), Ok(Duration::from_secs(0)));
    }

    #[test]
    fn zero_is_refused_where_a_window_is_needed() {
        assert!(parse_positive("0s").unwrap_err().contains("more than zero"));
        assert_eq!(parse_positive("1m"), Ok(Duration::from_secs(60)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse("15").unwrap_err().contains("no unit"));
        assert!(parse("15min").unwrap_err().contains("unknown unit `min`"));
        assert!(parse("m").unwrap_err().contains("not a duration"));
        assert!(
            parse("-5m")
                .unwrap_err()
                .contains("negative durations are not accepted")
        );
        assert!(parse("1.5h").unwrap_err().contains("unknown unit `.5h`"));
        assert!(
            parse("99999999999999999999s")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse("400d").unwrap_err().contains("at most 366d"));
    }
}
