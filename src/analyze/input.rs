//! What `flowkeeper analyze` reads: local files or directories, `s3://bucket/prefix`, and
//! `cwl://log-group[/stream-prefix]`; and the time range that prunes them.

use std::path::PathBuf;

use flowkeeper_analyze::time::{days_from_civil, parse_rfc3339};

/// One input as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Local(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
    CloudWatch {
        group: String,
        stream_prefix: Option<String>,
    },
}

impl Input {
    pub fn parse(text: &str) -> Result<Input, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("`{text}` names no bucket (s3://bucket/prefix)"));
            }
            return Ok(Input::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if let Some(rest) = text.strip_prefix("cwl://") {
            // Log group names may contain '/', so the stream prefix follows a '//' or nothing.
            let (group, stream) = match rest.split_once("//") {
                Some((g, s)) => (g, Some(s.to_string()).filter(|s| !s.is_empty())),
                None => (rest, None),
            };
            if group.is_empty() {
                return Err(format!(
                    "`{text}` names no log group (cwl://log-group[//stream-prefix])"
                ));
            }
            return Ok(Input::CloudWatch {
                group: group.to_string(),
                stream_prefix: stream,
            });
        }
        if text.contains("://") {
            return Err(format!(
                "`{text}`: only local paths, s3:// and cwl:// are read"
            ));
        }
        Ok(Input::Local(PathBuf::from(text)))
    }
}

/// Parses `2026-11-01` (midnight UTC) or `2026-11-01T10:00:00Z` to Unix seconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    if let Some(t) = parse_rfc3339(text) {
        return Ok(t);
    }
    let parts: Vec<&str> = text.split('-').collect();
    if let [y, m, d] = parts[..]
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>())
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && y >= 1970
    {
        return Ok(days_from_civil(y, m, d) as u64 * 86_400);
    }
    Err(format!(
        "`{text}` is not a date (2026-11-01) or UTC time (2026-11-01T10:00:00Z)"
    ))
}

/// The day (Unix seconds at midnight UTC) an S3 flow-log key was delivered for, from
/// `/YYYY/MM/DD/` or Hive-style `year=YYYY/month=MM/day=DD/` in the key.
pub fn key_day(key: &str) -> Option<u64> {
    let segs: Vec<&str> = key.split('/').collect();
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    for w in segs.windows(3) {
        let hive = |s: &str, k: &str| s.strip_prefix(k).map(str::to_string);
        let (y, m, d) = match (
            hive(w[0], "year="),
            hive(w[1], "month="),
            hive(w[2], "day="),
        ) {
            (Some(y), Some(m), Some(d)) => (y, m, d),
            _ => (w[0].to_string(), w[1].to_string(), w[2].to_string()),
        };
        if let (Some(y), Some(m), Some(d)) = (num(&y, 4), num(&m, 2), num(&d, 2))
            && (1..=12).contains(&m)
            && (1..=31).contains(&d)
        {
            return Some(days_from_civil(i64::from(y), m, d) as u64 * 86_400);
        }
    }
    None
}

/// Whether an object delivered on `day` can hold records in `[since, until]`. Objects are
/// written a few minutes after their records, so a day also covers the previous day's end.
pub fn day_in_range(day: Option<u64>, since: Option<u64>, until: Option<u64>) -> bool {
    let Some(day) = day else { return true };
    let day_end = day + 86_400;
    since.is_none_or(|s| day_end > s) && until.is_none_or(|u| day <= u + 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_parse() {
        assert_eq!(
            Input::parse("s3://b/AWSLogs/1/").unwrap(),
            Input::S3 {
                bucket: "b".into(),
                prefix: "AWSLogs/1/".into()
            }
        );
        assert_eq!(
            Input::parse("s3://b").unwrap(),
            Input::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Input::parse("cwl:///fk/flows//eni-1").unwrap(),
            Input::CloudWatch {
                group: "/fk/flows".into(),
                stream_prefix: Some("eni-1".into())
            }
        );
        assert_eq!(
            Input::parse("logs/x.gz").unwrap(),
            Input::Local("logs/x.gz".into())
        );
        assert!(Input::parse("http://x").is_err());
        assert!(Input::parse("s3:///x").is_err());
    }

    #[test]
    fn keys_carry_their_day() {
        let plain = "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/111122223333_vpcflowlogs_us-east-1_fl-1_20261102T0005Z_ab.log.gz";
        let hive = "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/x.log.gz";
        let day = parse_time("2026-11-02").unwrap();
        assert_eq!(key_day(plain), Some(day));
        assert_eq!(key_day(hive), Some(day));
        assert_eq!(key_day("random/key.gz"), None);
        assert!(day_in_range(Some(day), Some(day + 3600), None));
        assert!(!day_in_range(Some(day), Some(day + 2 * 86_400), None));
        assert!(!day_in_range(Some(day), None, Some(day - 3 * 86_400)));
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_time("1970-01-01T00:01:00Z").unwrap(), 60);
        assert!(parse_time("yesterday").is_err());
    }
}
