//! The delivery helper (`tests/support/deliver.rs`) spells AWS's key layout out literally;
//! the product's one layout module (`flowkeeper::model::layout`) must agree with it, for all
//! four layouts, with and without a prefix, and both ways (writing a key, reading one).

mod support;

use flowkeeper::model::layout::{self, Layout, ObjectKeyInfo};
use jiff::Timestamp;
use support::deliver::{S3Object, expected_key_with_hash, expected_stream_name};

fn object(prefix: Option<&str>, hive: bool, per_hour: bool, time: Timestamp) -> S3Object {
    S3Object {
        bucket: "acme-logs".into(),
        prefix: prefix.map(str::to_string),
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        flow_log_id: "fl-0123456789abcdef0".into(),
        hive,
        per_hour,
        time,
        fields: vec!["version".into()],
        interface: "eni-0abc".into(),
    }
}

#[test]
fn the_layout_module_writes_and_reads_the_keys_aws_documents() {
    // 2026-03-04T05:06:59Z: every part zero-padded, seconds dropped from the name.
    let time: Timestamp = "2026-03-04T05:06:59Z".parse().unwrap();
    let minute: Timestamp = "2026-03-04T05:06:00Z".parse().unwrap();
    let mut seen = Vec::new();
    for prefix in [None, Some("vpc"), Some("org/vpc")] {
        for (hive, per_hour) in [(false, false), (false, true), (true, false), (true, true)] {
            let o = object(prefix, hive, per_hour, time);
            let expected = expected_key_with_hash(&o, "fe12ab34");
            let info = ObjectKeyInfo {
                prefix: prefix.map(str::to_string),
                layout: Layout { hive, per_hour },
                account: o.account.clone(),
                region: o.region.clone(),
                flow_log_id: o.flow_log_id.clone(),
                time: minute,
                hash: "fe12ab34".into(),
                parquet: false,
            };
            assert_eq!(info.key(), expected, "layout.rs writes the documented key");
            assert_eq!(
                layout::parse_object_key(&expected),
                Some(info),
                "layout.rs reads the documented key {expected}"
            );
            let date = jiff::civil::date(2026, 3, 4);
            let folder = layout::hour_prefix(
                Layout { hive, per_hour },
                prefix,
                &o.account,
                &o.region,
                date,
                5,
            );
            assert!(
                expected.starts_with(&folder),
                "{expected} is under {folder}"
            );
            seen.push(expected);
        }
    }
    // The literal forms themselves, once each, so that a change to the helper shows here.
    assert_eq!(
        seen[4],
        "vpc/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260304T0506Z_fe12ab34.log.gz"
    );
    assert_eq!(
        seen[5],
        "vpc/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/05/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260304T0506Z_fe12ab34.log.gz"
    );
    assert_eq!(
        seen[3],
        "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/hour=05/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260304T0506Z_fe12ab34.log.gz"
    );
}

#[test]
fn the_layout_module_names_cloudwatch_streams_by_interface() {
    assert_eq!(
        layout::cloudwatch_stream_name("eni-0abc1234"),
        expected_stream_name("eni-0abc1234")
    );
    assert_eq!(
        layout::stream_interface(&expected_stream_name("eni-0abc1234")),
        Some("eni-0abc1234")
    );
}
