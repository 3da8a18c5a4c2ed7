//! Shipped baselines load; a user's baseline file is checked with positions and hints.

use super::*;

#[test]
fn shipped_baselines_load_with_their_controls() {
    for (name, _) in SHIPPED {
        let b = load(name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&b.name, name);
    }
    let cis = load("cis-aws-foundations").unwrap();
    assert_eq!(cis.requirement.traffic, TrafficType::Reject);
    assert_eq!(cis.kinds, [ResourceKind::Vpc].into());
    let ids: Vec<(String, Option<String>)> = cis
        .controls_for("no-flow-log")
        .into_iter()
        .map(|c| (c.id, c.version))
        .collect();
    let want = [
        ("2.9", "v1.2.0"),
        ("3.9", "v1.4.0"),
        ("3.9", "v1.5.0"),
        ("3.9", "v2.0.0"),
        ("3.7", "v3.0.0"),
        ("3.7", "v4.0.0"),
        ("3.7", "v5.0.0"),
        ("4.7", "v6.0.0"),
    ];
    assert_eq!(
        ids,
        want.iter()
            .map(|(i, v)| (i.to_string(), Some(v.to_string())))
            .collect::<Vec<_>>()
    );
    assert_eq!(cis.controls_for("traffic-type").len(), 8);
    let fsbp = load("aws-fsbp").unwrap();
    assert_eq!(fsbp.requirement.traffic, TrafficType::Reject);
    let ids: Vec<String> = fsbp
        .controls_for("delivery-failed")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["EC2.6", "vpc-flow-logs-enabled"]);
    let strict = load("flowkeeper").unwrap();
    assert_eq!(strict.requirement.traffic, TrafficType::All);
    assert_eq!(
        strict.requirement.max_interval,
        Some(AggregationInterval::OneMinute)
    );
    let v5: Vec<&str> = flowlog::field::vpc_fields()
        .iter()
        .filter(|f| f.version <= 5)
        .map(|f| f.name)
        .collect();
    assert_eq!(strict.requirement.required_fields, v5);
    assert!(v5.contains(&"traffic-path") && !v5.contains(&"ecs-cluster-arn"));
    assert_eq!(
        strict.requirement.destination_types,
        [DestinationType::S3, DestinationType::CloudWatchLogs].into()
    );
}

#[test]
fn approved_destinations_narrow_any_and_add_to_a_list() {
    let mut b = load("cis-aws-foundations").unwrap();
    assert_eq!(b.requirement.destinations, Approved::Any);
    b.approve(&["arn:aws:s3:::a".into()]);
    assert_eq!(
        b.requirement.destinations,
        Approved::Patterns(["arn:aws:s3:::a".to_string()].into())
    );
    b.approve(&["/logs/*".into()]);
    assert!(b.requirement.destinations.admits("/logs/x"));
    assert!(b.requirement.destinations.admits("arn:aws:s3:::a/p"));
}

fn errors(text: &str) -> String {
    let d = parse(FsPath::new("mine.yaml"), text).expect_err("should be rejected");
    d.to_string()
}

#[test]
fn a_user_baseline_reports_every_problem_with_position_and_hint() {
    let text = "\
name: mine
resources: [vpc, subnets]
requirement:
  traffic_type: reject
  required_fields: [version, src-addr]
  max_interval: 60
controls:
  no-flowlog: [{ id: X.1 }]
";
    let e = errors(text);
    assert!(e.contains("mine.yaml:2:18"), "{e}");
    assert!(e.contains("did you mean `subnet`?"), "{e}");
    assert!(e.contains("mine.yaml:4:17"), "{e}");
    assert!(e.contains("did you mean `REJECT`?"), "{e}");
    assert!(e.contains("mine.yaml:5:30"), "{e}");
    assert!(e.contains("`src-addr` is not a VPC flow log field"), "{e}");
    assert!(e.contains("did you mean `srcaddr`?"), "{e}");
    assert!(e.contains("mine.yaml:6:3"), "{e}");
    assert!(e.contains("unknown key `max_interval`"), "{e}");
    assert!(e.contains("takes: traffic_type, destination_types"), "{e}");
    assert!(e.contains("mine.yaml:8:3"), "{e}");
    assert!(e.contains("did you mean `no-flow-log`?"), "{e}");
}

#[test]
fn a_missing_requirement_and_a_bad_version_are_reported() {
    let e = errors("name: x\nresources: [vpc]\n");
    assert!(e.contains("missing the required key `requirement`"), "{e}");
    let e = errors(
        "name: x\nresources: [vpc]\nrequirement: { traffic_type: ALL, required_fields: v9 }\n",
    );
    assert!(e.contains("mine.yaml:3:52"), "{e}");
    assert!(e.contains("v2 … v8"), "{e}");
}

#[test]
fn an_unknown_name_that_is_no_file_gets_the_shipped_names() {
    match load("cis-aws-foundation") {
        Err(LoadError::Unknown { hint, .. }) => {
            assert!(
                hint.contains("did you mean `cis-aws-foundations`?"),
                "{hint}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn regression_a_shipped_name_in_other_case_gets_did_you_mean() {
    match load("CIS-AWS-FOUNDATIONS") {
        Err(LoadError::Unknown { hint, .. }) => {
            assert!(
                hint.contains("did you mean `cis-aws-foundations`?"),
                "{hint}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn regression_eni_and_firehose_get_the_names_this_file_takes() {
    let e = errors(
        "name: x\nresources: [vpc, eni]\nrequirement:\n  traffic_type: ALL\n  destination_types: [s3, firehose]\n",
    );
    assert!(e.contains("mine.yaml:2:18"), "{e}");
    assert!(e.contains("did you mean `network-interface`?"), "{e}");
    assert!(e.contains("mine.yaml:5:27"), "{e}");
    assert!(e.contains("did you mean `kinesis-data-firehose`?"), "{e}");
}
