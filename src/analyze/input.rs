//! What `flowkeeper analyze` reads: local files or directories, `-` (stdin),
//! `s3://bucket/prefix`, and `cwl://log-group[/stream-prefix]`; and the time range that prunes
//! them. Dates and times are parsed by `jiff` (impossible dates such as 2025-02-30 are errors,
//! not the next month); record timestamps are integers and never come through here.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;

use crate::model::layout;

/// One input as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Local(PathBuf),
    /// `-`: the data on standard input.
    Stdin,
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
        if text == "-" {
            return Ok(Input::Stdin);
        }
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

/// Parses `2026-11-01` (midnight UTC) or an RFC 3339 time with its offset
/// (`2026-11-01T10:00:00Z`, `2026-11-01T12:00:00+02:00`) to Unix seconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let usage = "a date (2026-11-01) or a time with its offset (2026-11-01T10:00:00Z)";
    let t = if text.len() == 10 {
        let date: Date = text
            .parse()
            .map_err(|e| format!("`{text}` is not a valid date: {e}; give {usage}"))?;
        Offset::UTC
            .to_timestamp(date.at(0, 0, 0, 0))
            .map_err(|e| format!("`{text}`: {e}"))?
    } else {
        text.parse::<Timestamp>()
            .map_err(|e| format!("`{text}` is not a valid time: {e}; give {usage}"))?
    };
    u64::try_from(t.as_second()).map_err(|_| format!("`{text}` is before 1970-01-01"))
}

/// `--since` and `--until`, parsed and checked to be in order.
pub fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<u64>, Option<u64>), String> {
    let parse = |t: Option<&str>, flag: &str| {
        t.map(parse_time)
            .transpose()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let (s, u) = (parse(since, "--since")?, parse(until, "--until")?);
    if let (Some(s_secs), Some(u_secs), Some(s_text), Some(u_text)) = (s, u, since, until)
        && s_secs > u_secs
    {
        return Err(format!(
            "--since {s_text} is after --until {u_text}: no record can be in that range"
        ));
    }
    Ok((s, u))
}

/// The day (Unix seconds at midnight UTC) an S3 flow-log key was delivered for, from
/// `/YYYY/MM/DD/` or Hive-style `year=YYYY/month=MM/day=DD/` in the key
/// ([`layout::key_date`]). A segment that is not a real date (2026/02/30) is not a day.
pub fn key_day(key: &str) -> Option<u64> {
    let date = layout::key_date(key)?;
    let t = Offset::UTC.to_timestamp(date.at(0, 0, 0, 0)).ok()?;
    u64::try_from(t.as_second()).ok()
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
        assert_eq!(Input::parse("-").unwrap(), Input::Stdin);
        assert_eq!(Input::parse("./-").unwrap(), Input::Local("./-".into()));
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
        assert_eq!(key_day("AWSLogs/1/vpcflowlogs/r/2026/02/30/x.gz"), None);
        assert_eq!(key_day("AWSLogs/1/vpcflowlogs/r/2026/13/01/x.gz"), None);
        assert!(day_in_range(Some(day), Some(day + 3600), None));
        assert!(!day_in_range(Some(day), Some(day + 2 * 86_400), None));
        assert!(!day_in_range(Some(day), None, Some(day - 3 * 86_400)));
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_time("1970-01-01T00:01:00Z").unwrap(), 60);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(
            parse_time("2026-11-01T12:00:00+02:00").unwrap(),
            1_793_527_200
        );
        assert_eq!(parse_time("2024-02-29").unwrap(), 1_709_164_800);
    }

    /// Regression (#8 case 13): `2025-02-30` meant 2 March, and a reversed range was accepted.
    #[test]
    fn regression_impossible_dates_and_reversed_ranges_are_errors() {
        for bad in [
            "2025-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-11-01T24:00:00Z",
            "2026-11-01T10:00:00", // no offset: which time zone?
            "1969-12-31",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        let e = parse_range(Some("2026-11-02"), Some("2026-11-01")).unwrap_err();
        assert!(
            e.contains("--since 2026-11-02 is after --until 2026-11-01"),
            "{e}"
        );
        let e = parse_range(Some("2025-02-30"), None).unwrap_err();
        assert!(
            e.starts_with("--since: `2025-02-30` is not a valid date"),
            "{e}"
        );
        assert_eq!(
            parse_range(Some("2026-11-01"), Some("2026-11-01")).unwrap(),
            (Some(1_793_491_200), Some(1_793_491_200))
        );
    }
}
