//! "Delivers" flow logs the way AWS does, since moto never does: gzip objects with a header
//! line under the key AWS would write (plain or Hive-compatible, per day or per hour), and
//! CloudWatch Logs events in a stream named for the network interface.
//!
//! The key layout is written out literally here, from the AWS VPC User Guide ("Flow log
//! files"), and NOT taken from `flowkeeper::model::layout`: a helper that used the product's
//! layout could not catch a mistake in it. `tests/verify_layout.rs` holds the two against each
//! other.
//!
//! Records are the public examples in `tests/fixtures/public/awsdocs-vpc-user-guide.jsonl`
//! (Amazon Web Services, Amazon VPC User Guide, CC-BY-SA-4.0; see that directory's README),
//! with the account, interface and times of the delivery written in, so that what a test
//! delivers reads like a real delivery of the flow log's format.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;
use jiff::tz::Offset;

use super::{Account, moto_api};

/// One S3 object to deliver.
#[derive(Clone, Debug)]
pub struct S3Object {
    pub bucket: String,
    /// The destination's folder (`vpc` in `arn:aws:s3:::bucket/vpc/`), if any.
    pub prefix: Option<String>,
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
    pub hive: bool,
    pub per_hour: bool,
    /// When AWS "created the file": the time in its name and folders.
    pub time: Timestamp,
    /// The header line's field names (the flow log's LogFormat, without `${}`).
    pub fields: Vec<String>,
    /// The network interface the records are about.
    pub interface: String,
}

impl S3Object {
    /// An object of `flow_log` (as DescribeFlowLogs returns it) created at `time`, with
    /// records of `interface`.
    pub fn for_flow_log(
        flow_log: &aws_sdk_ec2::types::FlowLog,
        account: &str,
        region: &str,
        interface: &str,
        time: Timestamp,
    ) -> S3Object {
        let arn = flow_log
            .log_destination()
            .expect("an S3 flow log has a destination");
        let (bucket, prefix) = bucket_and_prefix(arn);
        let options = flow_log.destination_options();
        S3Object {
            bucket,
            prefix,
            account: account.to_string(),
            region: region.to_string(),
            flow_log_id: flow_log.flow_log_id().expect("id").to_string(),
            hive: options
                .and_then(|o| o.hive_compatible_partitions())
                .unwrap_or(false),
            per_hour: options
                .and_then(|o| o.per_hour_partition())
                .unwrap_or(false),
            time,
            fields: format_fields(flow_log.log_format().unwrap_or(DEFAULT_FORMAT)),
            interface: interface.to_string(),
        }
    }

    /// The object's key, as AWS documents it.
    pub fn key(&self) -> String {
        expected_key(self)
    }
}

/// The default format (version 2), as DescribeFlowLogs shows it.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// `${version} ${account-id}` → `["version", "account-id"]`.
pub fn format_fields(log_format: &str) -> Vec<String> {
    log_format
        .split_whitespace()
        .map(|f| f.trim_start_matches("${").trim_end_matches('}').to_string())
        .collect()
}

/// `arn:aws:s3:::bucket/folder/` → (`bucket`, `Some("folder")`).
pub fn bucket_and_prefix(arn: &str) -> (String, Option<String>) {
    let resource = arn.splitn(6, ':').nth(5).expect("an S3 ARN");
    let (bucket, prefix) = resource.split_once('/').unwrap_or((resource, ""));
    let prefix = prefix.trim_matches('/');
    (
        bucket.to_string(),
        (!prefix.is_empty()).then(|| prefix.to_string()),
    )
}

/// The UTC parts of a time: (YYYY, MM, DD, HH, mm), zero-padded.
fn utc_parts(t: Timestamp) -> (String, String, String, String, String) {
    let d = Offset::UTC.to_datetime(t);
    (
        format!("{:04}", d.year()),
        format!("{:02}", d.month()),
        format!("{:02}", d.day()),
        format!("{:02}", d.hour()),
        format!("{:02}", d.minute()),
    )
}

static NEXT_HASH: AtomicU32 = AtomicU32::new(0x1a2b_3c00);

/// The object key AWS writes, spelled out from the AWS VPC User Guide:
/// `[prefix/]AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<name>` or (Hive)
/// `[prefix/]AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
/// year=YYYY/month=MM/day=DD/[hour=HH/]<name>`, where the name is
/// `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`.
pub fn expected_key(o: &S3Object) -> String {
    let hash = format!("{:08x}", NEXT_HASH.fetch_add(1, Ordering::SeqCst));
    expected_key_with_hash(o, &hash)
}

/// [`expected_key`] with a given hash.
pub fn expected_key_with_hash(o: &S3Object, hash: &str) -> String {
    let (y, mo, d, h, mi) = utc_parts(o.time);
    let (account, region) = (&o.account, &o.region);
    let root = match &o.prefix {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_string(),
    };
    let folders = match (o.hive, o.per_hour) {
        (false, false) => format!("{account}/vpcflowlogs/{region}/{y}/{mo}/{d}/"),
        (false, true) => format!("{account}/vpcflowlogs/{region}/{y}/{mo}/{d}/{h}/"),
        (true, false) => format!(
            "aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={y}/month={mo}/day={d}/"
        ),
        (true, true) => format!(
            "aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={y}/month={mo}/day={d}/hour={h}/"
        ),
    };
    let name = format!(
        "{account}_vpcflowlogs_{region}_{}_{y}{mo}{d}T{h}{mi}Z_{hash}.log.gz",
        o.flow_log_id
    );
    format!("{root}{folders}{name}")
}

fn fixtures() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures/public/awsdocs-vpc-user-guide.jsonl")
}

/// The AWS documentation's example records, each as field name → value (as written).
fn example_records() -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(fixtures()).expect("public fixtures");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "text_record" && v["expected"].is_object())
        .filter_map(|v| {
            let format = v["format"].as_str()?;
            let line = v["line"].as_str()?;
            let values: Vec<&str> = line.split_whitespace().collect();
            let names: Vec<&str> = format.split_whitespace().collect();
            (names.len() == values.len()).then(|| {
                names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect()
            })
        })
        .collect()
}

/// Record lines (no header) in the order of `fields`, about `interface` of `account`,
/// covering the minute before `time`. Fields an example lacks take another example's value,
/// or `-` (AWS writes `-` for a field without a value).
pub fn records(fields: &[String], account: &str, interface: &str, time: Timestamp) -> Vec<String> {
    let examples = example_records();
    let mut fallback: BTreeMap<String, String> = BTreeMap::new();
    for ex in &examples {
        for (k, v) in ex {
            fallback.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let end = time.as_second();
    let start = end - 60;
    // The version 2 examples (accept SSH, reject RDP, ICMP, ...) read like one interface's minute.
    examples
        .iter()
        .filter(|ex| ex.contains_key("srcaddr") && ex.get("log-status").is_some_and(|s| s == "OK"))
        .map(|ex| {
            fields
                .iter()
                .map(|f| match f.as_str() {
                    "account-id" => account.to_string(),
                    "interface-id" => interface.to_string(),
                    "start" => start.to_string(),
                    "end" => end.to_string(),
                    _ => ex
                        .get(f)
                        .or_else(|| fallback.get(f))
                        .cloned()
                        .unwrap_or_else(|| "-".to_string()),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A gzip object: the header line `header` (field names, space separated), then `lines`.
pub fn gzip_object(header: &str, lines: &[String]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(gz, "{header}").expect("gzip");
    for l in lines {
        writeln!(gz, "{l}").expect("gzip");
    }
    gz.finish().expect("gzip")
}

/// Writes `o` to S3 with a header of its fields and realistic records; returns the key.
pub async fn deliver_s3(acct: &Account, o: &S3Object) -> String {
    let header = o.fields.join(" ");
    let body = gzip_object(
        &header,
        &records(&o.fields, &o.account, &o.interface, o.time),
    );
    put_object(acct, o, body).await
}

/// Writes `o` with the given header line instead of its fields (a mismatched shape).
pub async fn deliver_s3_with_header(acct: &Account, o: &S3Object, header: &str) -> String {
    let body = gzip_object(
        header,
        &records(&o.fields, &o.account, &o.interface, o.time),
    );
    put_object(acct, o, body).await
}

async fn put_object(acct: &Account, o: &S3Object, body: Vec<u8>) -> String {
    let key = o.key();
    acct.s3(&o.region)
        .put_object()
        .bucket(&o.bucket)
        .key(&key)
        .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("deliver s3://{}/{key}: {e:?}", o.bucket));
    key
}

fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Sets an object's Last-Modified (a launcher test hook: AWS has no such call).
pub fn backdate_object(bucket: &str, key: &str, last_modified: Timestamp) {
    let body =
        serde_json::json!({"bucket": bucket, "key": key, "last_modified": rfc3339(last_modified)});
    let status = moto_api("/flowkeeper-test/backdate-object", &body.to_string());
    assert!(status.contains(" 200 "), "backdate {key}: {status}");
}

/// Sets a flow log's CreationTime (a launcher test hook).
pub fn backdate_flow_log(account: &str, region: &str, flow_log_id: &str, created: Timestamp) {
    let body = serde_json::json!({
        "account": account, "region": region, "flow_log_id": flow_log_id,
        "creation_time": rfc3339(created),
    });
    let status = moto_api("/flowkeeper-test/backdate-flow-log", &body.to_string());
    assert!(status.contains(" 200 "), "backdate {flow_log_id}: {status}");
}

/// The stream AWS delivers one interface's records to: named by the interface id.
pub fn expected_stream_name(interface: &str) -> String {
    interface.to_string()
}

/// Writes CloudWatch Logs events for `interface` into `group` (the stream named for the
/// interface, created when missing): one event per record, timestamped `time` (records in the
/// flow log's format `fields`, no header, as AWS delivers them). Returns the stream name.
pub async fn deliver_cloudwatch(
    acct: &Account,
    region: &str,
    group: &str,
    interface: &str,
    fields: &[String],
    time: Timestamp,
) -> String {
    let logs = acct.logs(region);
    let stream = expected_stream_name(interface);
    match logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(&stream)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if format!("{e:?}").contains("ResourceAlreadyExists") => {}
        Err(e) => panic!("create stream {group}/{stream}: {e:?}"),
    }
    let millis = time.as_millisecond();
    let events: Vec<_> = records(fields, &acct.id, interface, time)
        .into_iter()
        .map(|line| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(millis)
                .message(line)
                .build()
                .expect("event")
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put events {group}/{stream}: {e:?}"));
    stream
}
