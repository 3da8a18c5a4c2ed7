//! Every layout, the round trip between [`ObjectKeyInfo::key`] and [`parse_object_key`], and
//! the look-alikes that must not parse.

use super::*;

const ACCT: &str = "111122223333";

fn day(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn info(layout: Layout, prefix: Option<&str>, parquet: bool) -> ObjectKeyInfo {
    ObjectKeyInfo {
        prefix: prefix.map(str::to_string),
        layout,
        account: ACCT.into(),
        region: "us-east-1".into(),
        flow_log_id: "fl-0123456789abcdef0".into(),
        time: at("2026-11-02T07:05:00Z"),
        hash: "fe123456".into(),
        parquet,
    }
}

#[test]
fn roots_and_account_folders() {
    assert_eq!(aws_logs_root(None), "AWSLogs/");
    assert_eq!(aws_logs_root(Some("")), "AWSLogs/");
    assert_eq!(aws_logs_root(Some("vpc/flows")), "vpc/flows/AWSLogs/");
    assert_eq!(account_folder(false, None, ACCT), "AWSLogs/111122223333/");
    assert_eq!(
        account_folder(false, Some("vpc"), ACCT),
        "vpc/AWSLogs/111122223333/"
    );
    assert_eq!(
        account_folder(true, Some("vpc"), ACCT),
        "vpc/AWSLogs/aws-account-id=111122223333/"
    );
}

#[test]
fn day_and_hour_prefixes_for_the_four_layouts() {
    let d = day(2026, 3, 4);
    let cases = [
        (
            Layout::PLAIN,
            "p/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/",
            "p/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/",
        ),
        (
            Layout::PLAIN_HOURLY,
            "p/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/",
            "p/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/04/09/",
        ),
        (
            Layout::HIVE,
            "p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/",
            "p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/",
        ),
        (
            Layout::HIVE_HOURLY,
            "p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/",
            "p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=03/day=04/hour=09/",
        ),
    ];
    for (layout, want_day, want_hour) in cases {
        assert_eq!(
            day_prefix(layout, Some("p"), ACCT, "eu-west-1", d),
            want_day,
            "{layout:?}"
        );
        assert_eq!(
            hour_prefix(layout, Some("p"), ACCT, "eu-west-1", d, 9),
            want_hour,
            "{layout:?}"
        );
    }
    assert_eq!(
        day_prefix(Layout::PLAIN, None, ACCT, "us-east-1", d),
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/04/"
    );
}

#[test]
fn layout_follows_the_destination_options() {
    let mut o = S3Options::default();
    assert_eq!(Layout::of(&o), Layout::PLAIN);
    o.hive_compatible_partitions = true;
    assert_eq!(Layout::of(&o), Layout::HIVE);
    o.per_hour_partition = true;
    assert_eq!(Layout::of(&o), Layout::HIVE_HOURLY);
    o.hive_compatible_partitions = false;
    assert_eq!(Layout::of(&o), Layout::PLAIN_HOURLY);
}

#[test]
fn object_names_as_aws_documents_them() {
    // The User Guide's own example: account 123456789012, us-east-1, 2018-06-20 16:20 UTC.
    let t = at("2018-06-20T16:20:59Z");
    assert_eq!(
        object_name(
            "123456789012",
            "us-east-1",
            "fl-1234abcd",
            t,
            "fe123456",
            false
        ),
        "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz"
    );
    assert_eq!(
        object_name("123456789012", "us-east-1", "fl-1234abcd", t, "ab", true),
        "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_ab.log.parquet"
    );
}

#[test]
fn keys_round_trip_in_every_layout() {
    for layout in Layout::ALL {
        for prefix in [None, Some("vpc"), Some("a/b/c")] {
            for parquet in [false, true] {
                let i = info(layout, prefix, parquet);
                let key = i.key();
                assert_eq!(parse_object_key(&key), Some(i.clone()), "{key}");
                assert!(key.ends_with(&i.name()));
                assert!(key.starts_with(&hour_prefix(
                    layout,
                    prefix,
                    ACCT,
                    "us-east-1",
                    i.date(),
                    i.hour()
                )));
            }
        }
    }
}

#[test]
fn parsed_keys_carry_their_fields() {
    let key = "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/111122223333_vpcflowlogs_us-east-1_fl-1_20261102T0005Z_ab.log.gz";
    let i = parse_object_key(key).unwrap();
    assert_eq!(i.prefix.as_deref(), Some("vpc"));
    assert_eq!(i.layout, Layout::PLAIN);
    assert_eq!(i.flow_log_id, "fl-1");
    assert_eq!(i.time, at("2026-11-02T00:05:00Z"));
    assert_eq!(i.date(), day(2026, 11, 2));
    assert_eq!(i.hour(), 0);
    assert!(!i.parquet);
    let hive = "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-gov-west-1/year=2026/month=11/day=02/hour=23/111122223333_vpcflowlogs_us-gov-west-1_fl-0abc_20261102T2355Z_0f.log.parquet";
    let i = parse_object_key(hive).unwrap();
    assert_eq!(i.prefix, None);
    assert_eq!(i.layout, Layout::HIVE_HOURLY);
    assert_eq!(i.region, "us-gov-west-1");
    assert!(i.parquet);
    assert_eq!(i.time, at("2026-11-02T23:55:00Z"));
}

#[test]
fn a_prefix_containing_awslogs_is_still_read() {
    let i = info(Layout::PLAIN, Some("x/AWSLogs/y"), false);
    assert_eq!(parse_object_key(&i.key()), Some(i));
    // `NotAWSLogs/` is not the root folder.
    let i = info(Layout::HIVE, Some("NotAWSLogs"), false);
    assert_eq!(
        parse_object_key(&i.key()).unwrap().prefix.unwrap(),
        "NotAWSLogs"
    );
}

#[test]
fn look_alikes_are_rejected() {
    let good = info(Layout::PLAIN, Some("vpc"), false).key();
    assert!(parse_object_key(&good).is_some());
    let name =
        "111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261102T0705Z_fe123456.log.gz";
    let base = "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1";
    let hive = "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1";
    let bad = [
        // impossible or wrong dates in the folder
        format!("{base}/2026/13/02/{name}"),
        format!("{base}/2026/02/30/{}", name.replace("20261102", "20260230")),
        format!("{base}/2026/11/03/{name}"),
        format!("{base}/2026/11/2/{name}"),
        format!("{base}/26/11/02/{name}"),
        // hour folder that disagrees with the name, or is no hour
        format!("{base}/2026/11/02/08/{name}"),
        format!("{base}/2026/11/02/24/{name}"),
        // extra and missing segments
        format!("{base}/2026/11/02/07/extra/{name}"),
        format!("{base}/2026/11/{name}"),
        format!("vpc/AWSLogs/111122223333/us-east-1/2026/11/02/{name}"),
        // another service, account or region than the name says
        format!("vpc/AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/02/{name}"),
        format!("vpc/AWSLogs/999988887777/vpcflowlogs/us-east-1/2026/11/02/{name}"),
        format!("vpc/AWSLogs/111122223333/vpcflowlogs/us-west-2/2026/11/02/{name}"),
        format!(
            "vpc/AWSLogs/1111/vpcflowlogs/us-east-1/2026/11/02/{}",
            name.replace("111122223333", "1111")
        ),
        // Hive keys with a wrong or missing key
        format!("{hive}/year=2026/month=11/date=02/{name}"),
        format!("{hive}/year=2026/month=11/02/{name}"),
        format!("{hive}/year=2026/month=11/day=02/hr=07/{name}"),
        format!("{hive}/year=2026/month=11/day=02/hour=7/{name}"),
        // names that are not flow-log names
        format!("{base}/2026/11/02/{}", name.replace(".log.gz", ".gz")),
        format!(
            "{base}/2026/11/02/{}",
            name.replace(".log.gz", ".log.gz.tmp")
        ),
        format!("{base}/2026/11/02/{}", name.replace("_fe123456", "")),
        format!(
            "{base}/2026/11/02/{}",
            name.replace("_fe123456", "_fe_123456")
        ),
        format!("{base}/2026/11/02/{}", name.replace("fl-0123", "vpc-0123")),
        format!("{base}/2026/11/02/{}", name.replace("0705Z", "0760Z")),
        format!("{base}/2026/11/02/{}", name.replace("T0705Z", "T0705")),
        format!(
            "{base}/2026/11/02/{}",
            name.replace("_vpcflowlogs_", "_flowlogs_")
        ),
        // not ASCII where the time's digits are (slicing by bytes would split the `€`)
        format!(
            "{base}/2026/11/02/{}",
            name.replace("20261102T0705Z", "2026€2T0705Z")
        ),
        format!("{base}/2026/11/02/"),
        "AWSLogs/".to_string(),
        String::new(),
        "random/key.gz".to_string(),
    ];
    for key in bad {
        assert_eq!(parse_object_key(&key), None, "{key}");
    }
}

#[test]
fn key_dates_are_found_leniently() {
    let plain = "vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/02/111122223333_vpcflowlogs_us-east-1_fl-1_20261102T0005Z_ab.log.gz";
    let hive = "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/x.log.gz";
    assert_eq!(key_date(plain), Some(day(2026, 11, 2)));
    assert_eq!(key_date(hive), Some(day(2026, 11, 2)));
    assert_eq!(
        key_date("copies/2026/11/02/renamed.gz"),
        Some(day(2026, 11, 2))
    );
    assert_eq!(key_date("random/key.gz"), None);
    assert_eq!(key_date("AWSLogs/1/vpcflowlogs/r/2026/02/30/x.gz"), None);
    assert_eq!(key_date("AWSLogs/1/vpcflowlogs/r/2026/13/01/x.gz"), None);
    // Every key the strict parser reads has the same date for the lenient one.
    for layout in Layout::ALL {
        let i = info(layout, Some("2025/01/01x"), false);
        assert_eq!(key_date(&i.key()), Some(i.date()), "{layout:?}");
    }
}

#[test]
fn cloudwatch_streams_are_named_by_interface() {
    assert_eq!(
        cloudwatch_stream_name("eni-0123456789abcdef0"),
        "eni-0123456789abcdef0"
    );
    let cases = [
        ("eni-0123456789abcdef0", Some("eni-0123456789abcdef0")),
        ("eni-1a2b3c4d", Some("eni-1a2b3c4d")),
        ("eni-1a2b3c4d-all", Some("eni-1a2b3c4d")),
        ("eni-1a2b3c4d-accept", Some("eni-1a2b3c4d")),
        ("eni-1a2b3c4d-reject", Some("eni-1a2b3c4d")),
        ("eni-", None),
        ("eni-all", None),
        ("eni-xyz", None),
        ("eni-1a2b-other", None),
        ("tgw-attach-0123", None),
        ("i-0123", None),
        ("", None),
    ];
    for (name, want) in cases {
        assert_eq!(stream_interface(name), want, "{name}");
    }
}

#[test]
fn projection_templates_name_the_folders_day_and_hour_prefix_give() {
    let date = day(2026, 3, 7);
    for layout in Layout::ALL {
        for prefix in [None, Some("org/logs")] {
            let template = projection_template(layout, "b", prefix);
            let (d, m, y) = if layout.hive {
                ("07", "03", "2026")
            } else {
                ("2026/03/07", "", "")
            };
            let filled = template
                .replace("${aws_account}", "111122223333")
                .replace("${aws_region}", "eu-west-1")
                .replace("${year}", y)
                .replace("${month}", m)
                .replace("${day}", d)
                .replace("${hour}", "05");
            let want = hour_prefix(layout, prefix, "111122223333", "eu-west-1", date, 5);
            assert_eq!(format!("{filled}/"), format!("s3://b/{want}"), "{layout:?}");
            for column in partition_columns(layout) {
                if *column != "aws_account" && *column != "aws_region" {
                    assert!(template.contains(&format!("${{{column}}}")), "{column}");
                }
            }
        }
    }
}
