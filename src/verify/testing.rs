//! Fixtures for the rung tests: a healthy flow log to S3 and to CloudWatch Logs, with the
//! documents `apply` writes.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::facts::{CwlFacts, Listing, S3Facts, Subject};
use crate::model::delivery::{BucketPresence, KeyDocuments, ObjectMeta, RoleDocuments, StreamMeta};
use crate::model::{
    AggregationInterval, ExistingFlowLog, FlowLogDestination, FlowLogHealth, FlowLogSettings,
    LogFormat, LogGroupState, S3Options, TrafficType, layout,
};
use crate::verify::fixes;

pub const ACCOUNT: &str = "111122223333";
pub const FL: &str = "fl-0123456789abcdef0";

/// 2026-11-02T10:00:00Z.
pub fn now() -> Timestamp {
    "2026-11-02T10:00:00Z".parse().unwrap()
}

pub fn minutes_ago(m: i64) -> Timestamp {
    Timestamp::from_second(now().as_second() - m * 60).unwrap()
}

pub fn subject() -> Subject {
    Subject {
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
        flow_log: ExistingFlowLog {
            id: FL.into(),
            resource_id: "vpc-1".into(),
            settings: FlowLogSettings {
                traffic_type: TrafficType::All,
                destination: FlowLogDestination::S3 {
                    arn: "arn:aws:s3:::logs/vpc".into(),
                    options: S3Options::default(),
                },
                log_format: LogFormat::default_v2(),
                max_aggregation_interval: AggregationInterval::TenMinutes,
                unreadable: Default::default(),
            },
            tags: BTreeMap::new(),
            created: Some("2026-11-01T00:00:00Z".into()),
            health: FlowLogHealth {
                status: Some("ACTIVE".into()),
                deliver_status: Some("SUCCESS".into()),
                deliver_error: None,
            },
        },
        entry: None,
        config_managed: false,
        org_id: None,
        interfaces: Some(vec!["eni-0a1".into()]),
    }
}

/// The shipped bucket policy for `logs` under prefix `vpc`, for [`ACCOUNT`].
pub fn shipped_bucket_policy() -> serde_json::Value {
    crate::policies::render(
        crate::policies::S3_BUCKET_POLICY,
        &[
            ("Partition", crate::policies::Param::Text("aws".into())),
            ("Bucket", crate::policies::Param::Text("logs".into())),
            (
                "LogObjectArns",
                crate::policies::Param::List(vec![format!(
                    "arn:aws:s3:::logs/vpc/AWSLogs/{ACCOUNT}/*"
                )]),
            ),
            (
                "SourceAccounts",
                crate::policies::Param::List(vec![ACCOUNT.into()]),
            ),
            (
                "SourceArns",
                crate::policies::Param::List(vec![format!("arn:aws:logs:*:{ACCOUNT}:*")]),
            ),
        ],
    )
}

pub fn object(minutes_ago_: i64, upload_lag_s: i64) -> ObjectMeta {
    let t = minutes_ago(minutes_ago_);
    let d = jiff::tz::Offset::UTC.to_datetime(t).date();
    let key = format!(
        "{}{}",
        layout::day_prefix(layout::Layout::PLAIN, Some("vpc"), ACCOUNT, "us-east-1", d),
        layout::object_name(ACCOUNT, "us-east-1", FL, t, "abcd", false)
    );
    ObjectMeta {
        key,
        size: 100,
        last_modified: Timestamp::from_second(t.as_second() - t.as_second() % 60 + upload_lag_s)
            .ok(),
    }
}

pub fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

pub fn s3_facts() -> S3Facts {
    let header = LogFormat::default_v2().fields().join(" ");
    S3Facts {
        bucket: "logs".into(),
        prefix: Some("vpc".into()),
        options: S3Options::default(),
        presence: Ok(BucketPresence::Exists {
            region: Some("us-east-1".into()),
            owner_verified: true,
        }),
        policy: Some(Ok(Some(shipped_bucket_policy()))),
        encryption: Some(Ok(None)),
        key: None,
        listing: Some(Ok(Listing {
            prefixes: vec!["vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/".into()],
            objects: vec![object(8, 60), object(3, 90)],
            truncated: false,
        })),
        newest_start: Some(Ok(gzip(&format!("{header}\n2 {ACCOUNT} eni-0a1 ...\n")))),
    }
}

pub fn key(policy: serde_json::Value) -> KeyDocuments {
    KeyDocuments {
        arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"),
        enabled: true,
        state: Some("Enabled".into()),
        policy,
    }
}

pub fn cwl_subject() -> Subject {
    let mut s = subject();
    s.flow_log.settings.destination = FlowLogDestination::CloudwatchLogs {
        log_group: "/fk/g".into(),
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/fk-delivery"),
        elsewhere: None,
    };
    s
}

pub fn shipped_role() -> RoleDocuments {
    let trust: serde_json::Value =
        serde_json::from_str(&fixes::trust_statement("aws", ACCOUNT)).unwrap();
    let perms: serde_json::Value = serde_json::from_str(&fixes::role_permissions(
        "aws",
        "us-east-1",
        ACCOUNT,
        "/fk/g",
    ))
    .unwrap();
    RoleDocuments {
        name: "fk-delivery".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/fk-delivery"),
        trust_policy: Some(serde_json::json!({"Version": "2012-10-17", "Statement": [trust]})),
        inline: vec![(
            "flowkeeper-delivery".into(),
            serde_json::json!({"Version": "2012-10-17", "Statement": perms}),
        )],
        attached: Vec::new(),
        boundary: None,
    }
}

pub fn cwl_facts() -> CwlFacts {
    CwlFacts {
        log_group: "/fk/g".into(),
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/fk-delivery"),
        group: Ok(Some(LogGroupState {
            name: "/fk/g".into(),
            retention_days: None,
            kms_key: None,
        })),
        role: Some(Ok(Some(shipped_role()))),
        key: None,
        streams: Some(Ok(vec![StreamMeta {
            name: "eni-0a1-all".into(),
            created: Some(minutes_ago(600)),
            last_event: Some(minutes_ago(4)),
            last_ingestion: Some(minutes_ago(2)),
        }])),
        events: Some(Ok(vec![crate::model::delivery::EventMeta {
            stream: "eni-0a1-all".into(),
            timestamp: Some(minutes_ago(4)),
            ingestion: Some(minutes_ago(2)),
            message: format!(
                "2 {ACCOUNT} eni-0a1 10.0.0.1 10.0.0.2 443 5000 6 10 840 1 2 ACCEPT OK"
            ),
        }])),
    }
}
