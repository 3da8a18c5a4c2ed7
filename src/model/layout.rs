//! The delivery layout of VPC flow logs: where AWS writes them and what it names them. This
//! module is the one place that knows it; the planner (bucket policy and lifecycle paths),
//! `analyze` (date pruning), `verify` (evidence and lag) and exports use it. Pure: no I/O.
//!
//! S3 (AWS VPC User Guide, "Flow log files"), under `bucket[/prefix]/AWSLogs/`:
//!
//! | layout | folder of an object |
//! | --- | --- |
//! | plain | `<account>/vpcflowlogs/<region>/YYYY/MM/DD/` |
//! | plain, per hour | `<account>/vpcflowlogs/<region>/YYYY/MM/DD/HH/` |
//! | Hive | `aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/` |
//! | Hive, per hour | the same, then `hour=HH/` |
//!
//! Objects are named `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`
//! (`.log.parquet` for Parquet). The folder and the name are both taken from the time the file
//! was created (UTC), so an object whose folder date or hour disagrees with its name is not one
//! AWS wrote. S3's `Last-Modified` is later than the name's time by the upload time (the lag).
//!
//! Bucket policies (AWS VPC User Guide, "Amazon S3 bucket permissions for flow logs"): the
//! `s3:PutObject` resource AWS documents is `arn:aws:s3:::bucket[/prefix]/AWSLogs/<account>/*`
//! for the default prefixes and `arn:aws:s3:::bucket[/prefix]/AWSLogs/aws-account-id=<account>/*`
//! for Hive-compatible prefixes: a policy written for one layout does not admit the other's
//! writes. [`account_folder`] gives both.
//!
//! CloudWatch Logs: each network interface has its own log stream in the group (AWS EC2 API
//! Reference, CreateFlowLogs), named by the interface id (`eni-0123456789abcdef0`). Streams named
//! `eni-…-all` (and `-accept`/`-reject`) are also seen in the wild, although the AWS
//! documentation does not describe them; [`stream_interface`] accepts both forms.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

use super::S3Options;

/// The folder name every delivery starts with.
pub const AWS_LOGS: &str = "AWSLogs";
/// The service folder (plain layout) and `aws-service=` value (Hive layout).
pub const SERVICE: &str = "vpcflowlogs";

/// How a destination's S3 keys are laid out (`DestinationOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Layout {
    /// `HiveCompatiblePartitions`: `key=value` folder names.
    pub hive: bool,
    /// `PerHourPartition`: an hour folder below the day.
    pub per_hour: bool,
}

impl Layout {
    pub const PLAIN: Layout = Layout {
        hive: false,
        per_hour: false,
    };
    pub const PLAIN_HOURLY: Layout = Layout {
        hive: false,
        per_hour: true,
    };
    pub const HIVE: Layout = Layout {
        hive: true,
        per_hour: false,
    };
    pub const HIVE_HOURLY: Layout = Layout {
        hive: true,
        per_hour: true,
    };
    /// All four layouts.
    pub const ALL: [Layout; 4] = [
        Layout::PLAIN,
        Layout::PLAIN_HOURLY,
        Layout::HIVE,
        Layout::HIVE_HOURLY,
    ];

    /// The layout a flow log's S3 destination options imply.
    pub fn of(options: &S3Options) -> Layout {
        Layout {
            hive: options.hive_compatible_partitions,
            per_hour: options.per_hour_partition,
        }
    }
}

/// `[prefix/]AWSLogs/`: the root every delivery to a bucket (with that prefix) is under.
pub fn aws_logs_root(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}/{AWS_LOGS}/"),
        _ => format!("{AWS_LOGS}/"),
    }
}

/// `[prefix/]AWSLogs/<account>/` (plain) or `[prefix/]AWSLogs/aws-account-id=<account>/` (Hive):
/// the folder of one account's deliveries, and the resource a bucket policy must grant
/// (`arn:<partition>:s3:::<bucket>/` + this + `*`).
pub fn account_folder(hive: bool, prefix: Option<&str>, account: &str) -> String {
    let root = aws_logs_root(prefix);
    if hive {
        format!("{root}aws-account-id={account}/")
    } else {
        format!("{root}{account}/")
    }
}

/// The folder of one account's and region's deliveries.
fn region_folder(layout: Layout, prefix: Option<&str>, account: &str, region: &str) -> String {
    let account_folder = account_folder(layout.hive, prefix, account);
    if layout.hive {
        format!("{account_folder}aws-service={SERVICE}/aws-region={region}/")
    } else {
        format!("{account_folder}{SERVICE}/{region}/")
    }
}

/// The folder of one day's deliveries: `.../YYYY/MM/DD/` or `.../year=YYYY/month=MM/day=DD/`.
/// For a per-hour layout this is the parent of the day's hour folders.
pub fn day_prefix(
    layout: Layout,
    prefix: Option<&str>,
    account: &str,
    region: &str,
    date: Date,
) -> String {
    let base = region_folder(layout, prefix, account, region);
    let (y, m, d) = (date.year(), date.month(), date.day());
    if layout.hive {
        format!("{base}year={y:04}/month={m:02}/day={d:02}/")
    } else {
        format!("{base}{y:04}/{m:02}/{d:02}/")
    }
}

/// The folder holding the objects created in one hour (`hour` 0-23): the hour folder
/// (`HH/` or `hour=HH/`) of a per-hour layout, the day folder otherwise.
pub fn hour_prefix(
    layout: Layout,
    prefix: Option<&str>,
    account: &str,
    region: &str,
    date: Date,
    hour: i8,
) -> String {
    let day = day_prefix(layout, prefix, account, region, date);
    match (layout.per_hour, layout.hive) {
        (false, _) => day,
        (true, false) => format!("{day}{hour:02}/"),
        (true, true) => format!("{day}hour={hour:02}/"),
    }
}

/// The partition columns of an Athena table over one layout, in `PARTITIONED BY` order.
/// They avoid the names of flow-log fields (`region`, `account-id`), so every field can be a
/// column too.
pub fn partition_columns(layout: Layout) -> &'static [&'static str] {
    match (layout.hive, layout.per_hour) {
        (false, false) => &["aws_account", "aws_region", "day"],
        (false, true) => &["aws_account", "aws_region", "day", "hour"],
        (true, false) => &["aws_account", "aws_region", "year", "month", "day"],
        (true, true) => &["aws_account", "aws_region", "year", "month", "day", "hour"],
    }
}

/// Athena's partition-projection `storage.location.template` for a destination: the folder
/// of one hour (per-hour layouts) or day, with `${aws_account}`, `${aws_region}`, `${day}`
/// (plain: `YYYY/MM/DD`), `${year}`/`${month}` (Hive) and `${hour}` in place of the values.
/// Built from the same folder functions as [`day_prefix`] and [`hour_prefix`].
pub fn projection_template(layout: Layout, bucket: &str, prefix: Option<&str>) -> String {
    let base = region_folder(layout, prefix, "${aws_account}", "${aws_region}");
    let day = if layout.hive {
        "year=${year}/month=${month}/day=${day}"
    } else {
        "${day}"
    };
    let hour = match (layout.per_hour, layout.hive) {
        (false, _) => "",
        (true, false) => "/${hour}",
        (true, true) => "/hour=${hour}",
    };
    format!("s3://{bucket}/{base}{day}{hour}")
}

/// The UTC civil time of a timestamp.
fn utc(time: Timestamp) -> DateTime {
    Offset::UTC.to_datetime(time)
}

/// `YYYYMMDDTHHmmZ`, the time in an object's name.
fn name_time(time: Timestamp) -> String {
    let t = utc(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// An object's name: `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`
/// (`.log.parquet` for Parquet). Seconds of `time` are dropped.
pub fn object_name(
    account: &str,
    region: &str,
    flow_log_id: &str,
    time: Timestamp,
    hash: &str,
    parquet: bool,
) -> String {
    let ext = if parquet { "log.parquet" } else { "log.gz" };
    format!(
        "{account}_{SERVICE}_{region}_{flow_log_id}_{}_{hash}.{ext}",
        name_time(time)
    )
}

/// Everything a delivered object's key says. [`ObjectKeyInfo::key`] and [`parse_object_key`]
/// are inverses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKeyInfo {
    /// The destination's prefix (the folders before `AWSLogs/`), if any.
    pub prefix: Option<String>,
    pub layout: Layout,
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
    /// The time in the name (minute precision, UTC).
    pub time: Timestamp,
    pub hash: String,
    /// `.log.parquet` rather than `.log.gz`.
    pub parquet: bool,
}

impl ObjectKeyInfo {
    /// The day (UTC) of the folder the object is in.
    pub fn date(&self) -> Date {
        utc(self.time).date()
    }
    /// The hour (UTC, 0-23) of the object's time; its folder for a per-hour layout.
    pub fn hour(&self) -> i8 {
        utc(self.time).hour()
    }
    /// The object's name (last key segment).
    pub fn name(&self) -> String {
        object_name(
            &self.account,
            &self.region,
            &self.flow_log_id,
            self.time,
            &self.hash,
            self.parquet,
        )
    }
    /// The whole key, folder and name, as AWS writes it.
    pub fn key(&self) -> String {
        let folder = hour_prefix(
            self.layout,
            self.prefix.as_deref(),
            &self.account,
            &self.region,
            self.date(),
            self.hour(),
        );
        format!("{folder}{}", self.name())
    }
}

/// Reads a delivered object's key, in any of the four layouts. `None` for anything AWS would
/// not have written: another service, an impossible date, a folder date or hour that disagrees
/// with the name, a name for another account or region, extra or missing segments.
pub fn parse_object_key(key: &str) -> Option<ObjectKeyInfo> {
    // The prefix may itself contain `AWSLogs` (not one flowkeeper writes, but a foreign one):
    // every occurrence is tried, leftmost first.
    let mut from = 0;
    while let Some(pos) = find_root(key, from) {
        let (prefix, rest) = (&key[..pos], &key[pos + AWS_LOGS.len() + 1..]);
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if let Some(info) = parse_below_root(prefix, rest) {
            return Some(info);
        }
        from = pos + 1;
    }
    None
}

/// The byte offset of the next `AWSLogs/` that starts a segment, at or after `from`.
fn find_root(key: &str, from: usize) -> Option<usize> {
    let needle = "AWSLogs/";
    let mut at = from;
    while let Some(i) = key.get(at..)?.find(needle) {
        let pos = at + i;
        if pos == 0 || key.as_bytes()[pos - 1] == b'/' {
            return Some(pos);
        }
        at = pos + 1;
    }
    None
}

fn parse_below_root(prefix: &str, rest: &str) -> Option<ObjectKeyInfo> {
    let segs: Vec<&str> = rest.split('/').collect();
    let (name, folders) = segs.split_last()?;
    let hive = folders.first()?.starts_with("aws-account-id=");
    let per_hour = match folders.len() {
        6 => false,
        7 => true,
        _ => return None,
    };
    let kv = |seg: &str, k: &str| -> Option<String> {
        if hive {
            seg.strip_prefix(k)?.strip_prefix('=').map(str::to_string)
        } else {
            Some(seg.to_string())
        }
    };
    let account = kv(folders[0], "aws-account-id")?;
    let service = kv(folders[1], "aws-service")?;
    let region = kv(folders[2], "aws-region")?;
    let year = number(&kv(folders[3], "year")?, 4)?;
    let month = number(&kv(folders[4], "month")?, 2)?;
    let day = number(&kv(folders[5], "day")?, 2)?;
    let hour = match per_hour {
        true => Some(number(&kv(folders[6], "hour")?, 2)?),
        false => None,
    };
    if service != SERVICE || !is_account(&account) || !is_region(&region) {
        return None;
    }
    let date = Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
    let named = parse_name(name)?;
    if named.account != account || named.region != region {
        return None;
    }
    let t = utc(named.time);
    if t.date() != date || hour.is_some_and(|h| i16::from(t.hour()) != h) {
        return None;
    }
    Some(ObjectKeyInfo {
        prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        layout: Layout { hive, per_hour },
        account,
        region,
        flow_log_id: named.flow_log_id,
        time: named.time,
        hash: named.hash,
        parquet: named.parquet,
    })
}

/// Whether `name` (a file name, no folders) is one AWS gives a delivered object:
/// `{account}_vpcflowlogs_{region}_fl-…_{YYYYMMDDTHHmmZ}_{hash}.log.gz` or `.log.parquet`.
/// Each such name is unique to one object, so two files of that name are copies of it.
pub fn delivered_object_name(name: &str) -> bool {
    parse_name(name).is_some()
}

/// The flow log that delivered an object named `name` (a file name, no folders) in AWS's
/// form (see [`delivered_object_name`]): `{account}/{region}/{flow-log id}`.
pub fn delivered_flow_log(name: &str) -> Option<String> {
    parse_name(name).map(|n| format!("{}/{}/{}", n.account, n.region, n.flow_log_id))
}

/// What an object's name says.
struct Name {
    account: String,
    region: String,
    flow_log_id: String,
    time: Timestamp,
    hash: String,
    parquet: bool,
}

fn parse_name(name: &str) -> Option<Name> {
    let (stem, parquet) = match name.strip_suffix(".log.gz") {
        Some(s) => (s, false),
        None => (name.strip_suffix(".log.parquet")?, true),
    };
    let parts: Vec<&str> = stem.split('_').collect();
    let [account, service, region, id, time, hash] = parts.as_slice() else {
        return None;
    };
    let id_ok = id
        .strip_prefix("fl-")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric()));
    let hash_ok = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_alphanumeric());
    if *service != SERVICE || !is_account(account) || !is_region(region) || !id_ok || !hash_ok {
        return None;
    }
    Some(Name {
        account: account.to_string(),
        region: region.to_string(),
        flow_log_id: id.to_string(),
        time: parse_name_time(time)?,
        hash: hash.to_string(),
        parquet,
    })
}

/// `YYYYMMDDTHHmmZ` → the instant, or `None` for anything else (including 2026-02-30 or 24:00).
fn parse_name_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    // ASCII first: the slices below are by byte.
    if !s.is_ascii() || b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    let y = number(&s[0..4], 4)?;
    let mo = i8::try_from(number(&s[4..6], 2)?).ok()?;
    let d = i8::try_from(number(&s[6..8], 2)?).ok()?;
    let h = i8::try_from(number(&s[9..11], 2)?).ok()?;
    let mi = i8::try_from(number(&s[11..13], 2)?).ok()?;
    let dt = DateTime::new(y, mo, d, h, mi, 0, 0).ok()?;
    Offset::UTC.to_timestamp(dt).ok()
}

/// Exactly `len` ASCII digits.
fn number(s: &str, len: usize) -> Option<i16> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`: lowercase letters, digits and dashes.
fn is_region(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.contains('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The day a key was delivered for, from the first `/YYYY/MM/DD/` or Hive-style
/// `year=YYYY/month=MM/day=DD/` run of segments that is a real date (2026/02/30 is not). More
/// lenient than [`parse_object_key`]: any key with a date in it, such as copies of delivered
/// objects under other names, is dated.
pub fn key_date(key: &str) -> Option<Date> {
    let segs: Vec<&str> = key.split('/').collect();
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
        if let (Some(y), Some(m), Some(d)) = (number(&y, 4), number(&m, 2), number(&d, 2))
            && let (Ok(m), Ok(d)) = (i8::try_from(m), i8::try_from(d))
            && let Ok(date) = Date::new(y, m, d)
        {
            return Some(date);
        }
    }
    None
}

/// The CloudWatch Logs stream a flow log writes one interface's records to: its id.
pub fn cloudwatch_stream_name(eni_id: &str) -> String {
    eni_id.to_string()
}

/// The interface a flow-log stream belongs to: `eni-<hex>`, optionally followed by `-all`,
/// `-accept` or `-reject`. `None` for any other stream name.
pub fn stream_interface(name: &str) -> Option<&str> {
    let id = ["-all", "-accept", "-reject"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let hex = id.strip_prefix("eni-")?;
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
