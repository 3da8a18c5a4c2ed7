//! Plain (unquoted) scalars resolved the way serde_yaml 0.9 resolves them (the YAML 1.2 core
//! schema): `~`/`null`/empty are null, `true`/`false` booleans, decimal, `0x`, `0o` and `0b`
//! integers, floats with `.inf` and `.nan`; anything else, and digits with a leading zero
//! (`0123`), a string. A unit test holds this to serde_yaml's own answers. Integers beyond 64
//! bits, which serde_yaml refuses, are floats here.

use serde_yaml::{Number, Value};

pub fn resolve_plain(s: &str) -> Value {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    match s {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = unsigned(s) {
        return Value::Number(Number::from(n));
    }
    if let Some(n) = negative(s) {
        return Value::Number(Number::from(n));
    }
    if !leading_zero_digits(s)
        && let Some(f) = float(s)
    {
        return Value::Number(Number::from(f));
    }
    Value::String(s.to_string())
}

fn unsigned(s: &str) -> Option<u64> {
    let u = s.strip_prefix('+').unwrap_or(s);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = u.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            // (from_str_radix itself would take a sign.)
            if let Ok(n) = u64::from_str_radix(rest, radix) {
                return Some(n);
            }
        }
    }
    if u.starts_with(['+', '-']) || leading_zero_digits(s) {
        return None;
    }
    u.parse().ok()
}

fn negative(s: &str) -> Option<i64> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix)
            && let Ok(n) = i64::from_str_radix(&format!("-{rest}"), radix)
        {
            return Some(n);
        }
    }
    if leading_zero_digits(s) {
        return None;
    }
    s.parse().ok()
}

fn float(s: &str) -> Option<f64> {
    let u = match s.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => s,
    };
    if matches!(u, ".inf" | ".Inf" | ".INF") {
        return Some(f64::INFINITY);
    }
    if matches!(s, "-.inf" | "-.Inf" | "-.INF") {
        return Some(f64::NEG_INFINITY);
    }
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    u.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Leading zero(s) followed by digits is a string in YAML 1.2 (`0123`, `-007`).
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_serde_yaml() {
        for s in [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "no",
            "yes",
            "on",
            "0",
            "1",
            "-1",
            "+1",
            "++1",
            "+-1",
            "007",
            "-007",
            "0.5",
            "00.5",
            "1e3",
            "-1.5e-3",
            ".inf",
            "-.inf",
            "+.inf",
            ".nan",
            ".NaN",
            "NaN",
            "inf",
            "0x1f",
            "0X1f",
            "-0x1f",
            "0x-1",
            "0o17",
            "0o8",
            "0b101",
            "-0b101",
            "18446744073709551615",
            "-9223372036854775808",
            "1_000",
            "12:30",
            "600",
            "60",
            "111111111111",
            "0123456789012",
            "vpc-0abc",
            "1.2.3",
            "+",
            "-1-",
            ".",
            "0x",
            "1e400",
            "3.",
        ] {
            let ours = resolve_plain(s);
            let theirs: Value = serde_yaml::from_str(if s.is_empty() { "''" } else { s })
                .unwrap_or_else(|e| panic!("serde_yaml rejects {s:?}: {e}"));
            let theirs = if s.is_empty() { Value::Null } else { theirs };
            match (&ours, &theirs) {
                (Value::Number(a), Value::Number(b)) if a.is_nan() && b.is_nan() => {}
                _ => assert_eq!(ours, theirs, "{s:?}"),
            }
        }
    }
}
