//! Each rung's pure function, hit and near-miss, from the fixtures in `testing` (the
//! documents `apply` writes, then each broken the way the issue lists).

use serde_json::{Value, json};

use super::check::{EVIDENCE, FRESHNESS, PERMISSIONS, SHAPE};
use super::evidence::{self, Found};
use super::facts::{DestinationFacts, Facts, Thresholds};
use super::report::{CheckResult, DeliveryStatus};
use super::testing::*;
use super::{freshness, ladder, permissions_cwl, permissions_s3, shape};
use crate::model::{Encryption, FileFormat, FlowLogDestination, S3Options};

fn statements_mut(p: &mut Value) -> &mut Vec<Value> {
    p["Statement"].as_array_mut().unwrap()
}

fn with_policy(edit: impl FnOnce(&mut Value)) -> super::facts::S3Facts {
    let mut f = s3_facts();
    let mut p = shipped_bucket_policy();
    edit(&mut p);
    f.policy = Some(Ok(Some(p)));
    f
}

fn write_statement(p: &mut Value) -> &mut Value {
    statements_mut(p)
        .iter_mut()
        .find(|s| s["Sid"] == "FlowkeeperLogDeliveryWrite")
        .unwrap()
}

// ---- permissions, S3 ----

#[test]
fn the_shipped_bucket_policy_admits_the_delivery_service() {
    let c = permissions_s3::check(&subject(), &s3_facts(), now());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
    assert!(
        c.detail.contains("vpc/AWSLogs/111122223333/"),
        "{}",
        c.detail
    );
}

#[test]
fn a_bucket_policy_without_the_wildcard_fails_with_the_statement_to_add() {
    let f = with_policy(|p| {
        write_statement(p)["Resource"] = json!(format!("arn:aws:s3:::logs/vpc/AWSLogs/{ACCOUNT}"));
    });
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("s3:PutObject"), "{}", c.detail);
    let fix = c.fix.unwrap();
    assert!(
        fix.contains(&format!("arn:aws:s3:::logs/vpc/AWSLogs/{ACCOUNT}/*")),
        "{fix}"
    );
    assert!(fix.contains("FlowkeeperLogDeliveryWrite"), "{fix}");
}

#[test]
fn a_bucket_policy_for_another_accounts_prefix_fails() {
    let f = with_policy(|p| {
        write_statement(p)["Resource"] = json!("arn:aws:s3:::logs/vpc/AWSLogs/999999999999/*");
    });
    assert_eq!(
        permissions_s3::check(&subject(), &f, now()).result,
        CheckResult::Failed
    );
}

#[test]
fn a_source_account_condition_that_excludes_the_account_fails() {
    let f = with_policy(|p| {
        write_statement(p)["Condition"]["StringEquals"]["aws:SourceAccount"] =
            json!("999999999999");
    });
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("FlowkeeperLogDeliveryWrite"),
        "the missed statement is named: {}",
        c.detail
    );
}

#[test]
fn an_explicit_deny_for_the_service_fails_naming_the_statement() {
    let f = with_policy(|p| {
        statements_mut(p).push(json!({
            "Sid": "NoLogs", "Effect": "Deny",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"
        }));
    });
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("`NoLogs` denies"), "{}", c.detail);
    assert!(c.fix.unwrap().contains("remove statement `NoLogs`"));
}

#[test]
fn a_foreign_deny_is_not_sent_to_apply_which_keeps_foreign_statements() {
    let mut s = subject();
    s.config_managed = true;
    let f = with_policy(|p| {
        statements_mut(p).push(json!({
            "Sid": "NoLogs", "Effect": "Deny",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"
        }));
    });
    let fix = permissions_s3::check(&s, &f, now()).fix.unwrap();
    assert!(fix.starts_with("remove statement `NoLogs`"), "{fix}");
    assert!(
        !fix.contains("run `flowkeeper apply`"),
        "the Allow is there: removing is enough: {fix}"
    );
    // Deny and no Allow: remove, then add (which apply can do).
    let f = with_policy(|p| {
        statements_mut(p).retain(|st| st["Sid"] != "FlowkeeperLogDeliveryWrite");
        statements_mut(p).push(json!({
            "Sid": "NoLogs", "Effect": "Deny",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"
        }));
    });
    let fix = permissions_s3::check(&s, &f, now()).fix.unwrap();
    assert!(
        fix.starts_with("remove statement `NoLogs`")
            && fix.contains("; then run `flowkeeper apply`"),
        "{fix}"
    );
}

#[test]
fn a_deny_flowkeeper_wrote_is_fixed_by_apply() {
    let mut s = subject();
    s.config_managed = true;
    let f = with_policy(|p| {
        write_statement(p)["Effect"] = json!("Deny");
    });
    let fix = permissions_s3::check(&s, &f, now()).fix.unwrap();
    assert!(fix.starts_with("run `flowkeeper apply`"), "{fix}");
}

#[test]
fn the_tls_only_deny_does_not_block_the_service() {
    // The shipped policy carries it; the delivery service writes over TLS.
    let p = shipped_bucket_policy();
    assert!(p.to_string().contains("FlowkeeperDenyInsecureTransport"));
    assert_eq!(
        permissions_s3::check(&subject(), &s3_facts(), now()).result,
        CheckResult::Ok
    );
}

#[test]
fn no_bucket_policy_fails_and_a_managed_bucket_says_apply() {
    let mut s = subject();
    s.config_managed = true;
    let mut f = s3_facts();
    f.policy = Some(Ok(None));
    let c = permissions_s3::check(&s, &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("has no policy"));
    assert!(c.fix.unwrap().starts_with("run `flowkeeper apply`"));
}

#[test]
fn a_policy_written_for_the_plain_layout_does_not_admit_hive_writes() {
    let mut f = s3_facts();
    f.options.hive_compatible_partitions = true;
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(
        c.fix
            .unwrap()
            .contains("AWSLogs/aws-account-id=111122223333/*")
    );
}

#[test]
fn a_denied_policy_read_is_an_unverified_rung_not_ok() {
    let mut f = s3_facts();
    f.policy = Some(Err(super::facts::ReadFailure {
        operation: "s3:GetBucketPolicy".into(),
        message: "Access Denied".into(),
        denied: true,
    }));
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Unverified);
    assert!(c.detail.contains("cannot read the policy of bucket logs"));
    assert!(c.fix.unwrap().contains("s3:GetBucketPolicy"));
}

fn key_policy(service: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Delivery", "Effect": "Allow", "Principal": {"Service": service}, "Action": "kms:GenerateDataKey*", "Resource": "*"}
    ]})
}

fn kms_bucket(key_ref: &str, policy: Value) -> super::facts::S3Facts {
    let mut f = s3_facts();
    f.encryption = Some(Ok(Some(Encryption::Kms {
        kms_key: key_ref.into(),
    })));
    f.key = Some(Ok(key(policy)));
    f
}

#[test]
fn an_sse_kms_bucket_whose_key_admits_the_service_is_ok() {
    let f = kms_bucket(
        &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"),
        key_policy("delivery.logs.amazonaws.com"),
    );
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
    assert!(c.detail.contains("SSE-KMS key"));
}

#[test]
fn an_sse_kms_bucket_whose_key_policy_lacks_the_service_fails_with_the_principal() {
    let f = kms_bucket(
        &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"),
        key_policy("s3.amazonaws.com"),
    );
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("kms:GenerateDataKey"), "{}", c.detail);
    let fix = c.fix.unwrap();
    assert!(
        fix.contains("principal delivery.logs.amazonaws.com")
            && fix.contains("FlowkeeperLogDeliveryUseKey"),
        "{fix}"
    );
}

#[test]
fn a_key_named_by_alias_fails_with_the_arn_to_use() {
    let f = kms_bucket("alias/logs", key_policy("delivery.logs.amazonaws.com"));
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("`alias/logs`, not by ARN"),
        "{}",
        c.detail
    );
    assert!(
        c.fix
            .unwrap()
            .contains(&format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"))
    );
}

#[test]
fn the_aws_managed_s3_key_fails() {
    let mut f = s3_facts();
    f.encryption = Some(Ok(Some(Encryption::Kms {
        kms_key: String::new(),
    })));
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("aws/s3"));
}

// ---- permissions, CloudWatch Logs ----

#[test]
fn the_shipped_delivery_role_is_ok() {
    let c = permissions_cwl::check(&cwl_subject(), &cwl_facts());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
}

#[test]
fn a_role_trusted_by_the_wrong_service_fails_with_the_trust_statement() {
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        let t = role.trust_policy.as_mut().unwrap();
        t["Statement"][0]["Principal"]["Service"] = json!("ec2.amazonaws.com");
    }
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail
            .contains("does not let vpc-flow-logs.amazonaws.com assume it"),
        "{}",
        c.detail
    );
    assert!(c.fix.unwrap().contains("vpc-flow-logs.amazonaws.com"));
}

#[test]
fn a_foreign_deny_in_the_trust_policy_is_to_be_removed_not_applied() {
    let mut s = cwl_subject();
    s.config_managed = true;
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        let t = role.trust_policy.as_mut().unwrap();
        t["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Sid": "NoFlowLogs", "Effect": "Deny",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}));
    }
    let fix = permissions_cwl::check(&s, &f).fix.unwrap();
    assert!(fix.starts_with("remove statement `NoFlowLogs`"), "{fix}");
    assert!(!fix.contains("run `flowkeeper apply`"), "{fix}");
}

#[test]
fn a_trust_for_another_account_fails() {
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        let t = role.trust_policy.as_mut().unwrap();
        t["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] = json!("999999999999");
    }
    assert_eq!(
        permissions_cwl::check(&cwl_subject(), &f).result,
        CheckResult::Failed
    );
}

#[test]
fn a_role_without_put_log_events_fails_naming_the_action() {
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        role.inline[0].1 = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:DescribeLogGroups"], "Resource": "*"}
        ]});
    }
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("logs:PutLogEvents") && !c.detail.contains("logs:CreateLogStream on"),
        "{}",
        c.detail
    );
}

#[test]
fn an_attached_managed_policy_counts() {
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        let inline = role.inline.remove(0);
        role.attached
            .push(("arn:aws:iam::aws:policy/Delivery".into(), inline.1));
    }
    assert_eq!(
        permissions_cwl::check(&cwl_subject(), &f).result,
        CheckResult::Ok
    );
}

#[test]
fn a_missing_role_fails() {
    let mut f = cwl_facts();
    f.role = Some(Ok(None));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("does not exist"));
}

#[test]
fn a_kms_log_group_needs_its_key_to_admit_the_regional_logs_service() {
    let mut f = cwl_facts();
    if let Ok(Some(g)) = &mut f.group {
        g.kms_key = Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"));
    }
    let logs_key = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"}]});
    f.key = Some(Ok(key(logs_key)));
    assert_eq!(
        permissions_cwl::check(&cwl_subject(), &f).result,
        CheckResult::Ok
    );
    f.key = Some(Ok(key(key_policy("delivery.logs.amazonaws.com"))));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("logs.us-east-1.amazonaws.com"),
        "{}",
        c.detail
    );
    assert!(c.fix.unwrap().contains("FlowkeeperLogGroupUseKey"));
}

// ---- evidence ----

fn found(f: &super::facts::S3Facts, s: &super::facts::Subject) -> Found {
    let listing = f.listing.clone().unwrap().unwrap();
    evidence::s3_found(s, f, &listing, evidence::cutoff(s, now(), None))
}

#[test]
fn objects_of_this_flow_log_are_evidence_and_the_newest_is_picked() {
    let s = subject();
    let f = s3_facts();
    let got = found(&f, &s);
    assert_eq!(got.count, 2);
    let newest = got.newest.unwrap();
    assert!(newest.name.contains("20261102T0957Z"), "{}", newest.name);
    assert_eq!(newest.lag, Some(90));
}

#[test]
fn objects_older_than_creation_or_of_another_flow_log_are_not_evidence() {
    let mut s = subject();
    s.flow_log.created = Some("2026-11-02T09:58:30Z".into());
    let mut f = s3_facts();
    if let Some(Ok(l)) = &mut f.listing {
        let mut other = object(1, 10);
        other.key = other.key.replace(FL, "fl-0ffffffffffffffff");
        l.objects.push(other);
    }
    let got = found(&f, &s);
    assert_eq!((got.count, got.older, got.foreign), (0, 2, 1));
    let c = evidence::check(
        &s,
        Ok(&got),
        "s3://logs/vpc/",
        evidence::waiting_reason(&s, now(), 600),
        "objects",
    );
    assert_eq!(
        c.result,
        CheckResult::Waiting,
        "created 90 s ago: {}",
        c.detail
    );
    s.flow_log.created = Some("2026-11-02T09:00:00Z".into());
    let c = evidence::check(
        &s,
        Ok(&got),
        "s3://logs/vpc/",
        evidence::waiting_reason(&s, now(), 600),
        "objects",
    );
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("no objects of fl-0123456789abcdef0"),
        "{}",
        c.detail
    );
}

#[test]
fn a_resource_without_interfaces_is_waiting_whatever_its_age() {
    let mut s = subject();
    s.interfaces = Some(Vec::new());
    let why = evidence::waiting_reason(&s, now(), 600).unwrap();
    assert!(why.contains("no network interfaces under vpc-1"));
}

#[test]
fn since_moves_the_cutoff_later_than_creation() {
    let s = subject();
    let c = evidence::cutoff(&s, now(), Some(3600)).unwrap();
    assert_eq!(c.to_string(), "2026-11-02T09:00:00Z");
}

#[test]
fn cloudwatch_streams_of_covered_interfaces_are_evidence_with_the_event_lag() {
    let s = cwl_subject();
    let f = cwl_facts();
    let got = evidence::cwl_found(&s, &f, evidence::cutoff(&s, now(), None));
    assert_eq!(got.count, 1);
    assert_eq!(got.newest.unwrap().lag, Some(120));
    let mut other = s.clone();
    other.interfaces = Some(vec!["eni-0b2".into()]);
    let got = evidence::cwl_found(&other, &f, None);
    assert_eq!((got.count, got.foreign), (0, 1));
}

// ---- shape ----

#[test]
fn a_matching_header_is_ok_and_a_different_one_fails() {
    let s = subject();
    let good = s3_facts().newest_start.unwrap().unwrap();
    assert_eq!(
        shape::s3(&s, false, Some(Ok(&good)), "k").result,
        CheckResult::Ok
    );
    let bad = gzip("version account-id interface-id srcaddr\n2 1 eni 10.0.0.1\n");
    let c = shape::s3(&s, false, Some(Ok(&bad)), "k");
    assert_eq!((c.name.as_str(), c.result), (SHAPE, CheckResult::Failed));
    assert!(
        c.detail
            .contains("`version account-id interface-id srcaddr`"),
        "{}",
        c.detail
    );
}

#[test]
fn a_header_cut_by_the_range_read_is_still_read() {
    let s = subject();
    let header = crate::model::LogFormat::default_v2().fields().join(" ");
    let mut body = format!("{header}\n");
    for _ in 0..5000 {
        body.push_str(&format!(
            "2 {ACCOUNT} eni-0a1 10.0.0.1 10.0.0.2 443 5000 6 10 840 1 2 ACCEPT OK\n"
        ));
    }
    let mut bytes = gzip(&body);
    bytes.truncate(2000);
    assert_eq!(
        shape::s3(&s, false, Some(Ok(&bytes)), "k").result,
        CheckResult::Ok
    );
}

#[test]
fn parquet_is_recognised_not_parsed() {
    let s = subject();
    let par = b"PAR1\x15\x04garbage".to_vec();
    assert_eq!(
        shape::s3(&s, true, Some(Ok(&par)), "k").result,
        CheckResult::Ok
    );
    let c = shape::s3(&s, false, Some(Ok(&par)), "k");
    assert_eq!(c.result, CheckResult::Failed);
    assert!(c.detail.contains("Parquet"));
    assert_eq!(
        shape::s3(&s, true, Some(Ok(&gzip("a b\n"))), "k").result,
        CheckResult::Failed
    );
    assert_eq!(
        shape::classify(b"plain text\n"),
        shape::ObjectStart::Unreadable("neither gzip nor Parquet".into())
    );
}

#[test]
fn a_cloudwatch_event_with_the_wrong_field_count_fails() {
    let s = cwl_subject();
    let f = cwl_facts();
    let events = f.events.clone().unwrap().unwrap();
    assert_eq!(
        shape::cwl(&s, Some(Ok(&events)), "eni-0a1-all").result,
        CheckResult::Ok
    );
    let mut short = events.clone();
    short[0].message = "2 1 eni".into();
    let c = shape::cwl(&s, Some(Ok(&short)), "eni-0a1-all");
    assert_eq!(c.result, CheckResult::Failed);
    assert!(
        c.detail.contains("has 3 fields") && c.detail.contains("has 14"),
        "{}",
        c.detail
    );
}

// ---- freshness ----

#[test]
fn freshness_compares_the_newest_delivery_with_the_threshold() {
    let s = subject();
    let got = found(&s3_facts(), &s);
    let c = freshness::check(&got, now(), 15 * 60, false);
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
    assert!(c.detail.contains("lag 1m"), "{}", c.detail);
    let c = freshness::check(&got, now(), 60, false);
    assert_eq!(
        (c.name.as_str(), c.result),
        (FRESHNESS, CheckResult::Failed)
    );
    assert!(
        c.detail.contains("older than the 1m threshold"),
        "{}",
        c.detail
    );
}

// ---- the whole ladder ----

fn facts(s: super::facts::Subject, d: DestinationFacts) -> Facts {
    Facts {
        subject: s,
        destination: d,
    }
}

#[test]
fn a_healthy_s3_flow_log_is_delivering_with_every_rung_ok() {
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(s3_facts())),
        now(),
        &Thresholds::defaults(),
    );
    let names: Vec<&str> = v.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, super::check::RUNGS);
    assert!(
        v.checks.iter().all(|c| c.result == CheckResult::Ok),
        "{:#?}",
        v.checks
    );
    assert_eq!(v.status, DeliveryStatus::Delivering);
    assert_eq!(v.lag_seconds, Some(90));
    assert!(v.newest_delivery.is_some());
}

#[test]
fn old_deliveries_only_make_it_stale_and_a_failed_rung_failing() {
    let mut f = s3_facts();
    if let Some(Ok(l)) = &mut f.listing {
        l.objects = vec![object(120, 60)];
    }
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(f.clone())),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Stale, "{:#?}", v.checks);
    let t = Thresholds::defaults().with_max_age(Some(3 * 3600));
    assert_eq!(
        ladder::verify(
            &facts(subject(), DestinationFacts::S3(f.clone())),
            now(),
            &t
        )
        .status,
        DeliveryStatus::Delivering
    );
    f.policy = Some(Ok(None));
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Failing);
}

#[test]
fn a_young_flow_log_without_deliveries_is_waiting() {
    let mut s = subject();
    s.flow_log.created = Some("2026-11-02T09:57:00Z".into());
    let mut f = s3_facts();
    f.listing = Some(Ok(Default::default()));
    f.newest_start = None;
    let v = ladder::verify(
        &facts(s, DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Waiting);
    let e = v.checks.iter().find(|c| c.name == EVIDENCE).unwrap();
    assert_eq!(e.result, CheckResult::Waiting);
}

#[test]
fn a_healthy_cloudwatch_flow_log_is_delivering() {
    let v = ladder::verify(
        &facts(cwl_subject(), DestinationFacts::Cwl(cwl_facts())),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Delivering, "{:#?}", v.checks);
    assert_eq!(v.destination_type, "cloud-watch-logs");
}

#[test]
fn a_firehose_flow_log_checks_only_its_status() {
    let mut s = subject();
    s.flow_log.settings.destination = FlowLogDestination::KinesisDataFirehose {
        arn: "arn:aws:firehose:us-east-1:1:deliverystream/x".into(),
    };
    let v = ladder::verify(
        &facts(
            s,
            DestinationFacts::Firehose {
                arn: "arn:aws:firehose:us-east-1:1:deliverystream/x".into(),
            },
        ),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.checks[0].result, CheckResult::Ok);
    assert_eq!(v.checks[1].result, CheckResult::Unverified);
    assert!(
        v.checks[2..]
            .iter()
            .all(|c| c.result == CheckResult::NotApplicable)
    );
    assert!(v.checks[2].detail.contains("Firehose"));
    assert_eq!(v.status, DeliveryStatus::Unverified);
    let all = [v];
    assert!(super::outcome::read_errors(&all).is_empty());
    assert_eq!(super::outcome::summarize(&all).firehose, 1);
}

#[test]
fn rollup_rules() {
    use super::check::{failed, ok, waiting};
    assert_eq!(
        ladder::rollup(&[ok("status", ""), waiting(EVIDENCE, "")]),
        DeliveryStatus::Waiting
    );
    assert_eq!(
        ladder::rollup(&[ok("status", ""), failed(FRESHNESS, "", "")]),
        DeliveryStatus::Stale
    );
    assert_eq!(
        ladder::rollup(&[failed(PERMISSIONS, "", ""), failed(FRESHNESS, "", "")]),
        DeliveryStatus::Failing
    );
    assert_eq!(
        ladder::rollup(&[failed(PERMISSIONS, "", ""), waiting(EVIDENCE, "")]),
        DeliveryStatus::Failing
    );
    assert_eq!(
        ladder::rollup(&[ok("status", "")]),
        DeliveryStatus::Delivering
    );
}

#[test]
fn parquet_objects_use_the_parquet_name_in_the_sample_key() {
    let mut f = s3_facts();
    f.options = S3Options {
        file_format: FileFormat::Parquet,
        per_hour_partition: true,
        hive_compatible_partitions: true,
    };
    let k = permissions_s3::sample_key(&subject(), &f, now());
    assert!(k.starts_with("vpc/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=02/hour=10/"), "{k}");
    assert!(k.ends_with(".log.parquet"), "{k}");
}

#[test]
fn a_bounded_listing_that_was_cut_says_so() {
    let mut f = s3_facts();
    if let Some(Ok(l)) = &mut f.listing {
        l.truncated = true;
    }
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    let e = v.checks.iter().find(|c| c.name == EVIDENCE).unwrap();
    assert!(
        e.detail
            .contains("more objects than one bounded listing reads"),
        "{}",
        e.detail
    );
}

#[test]
fn evidence_names_the_folders_it_read() {
    let mut f = s3_facts();
    if let Some(Ok(l)) = &mut f.listing {
        l.prefixes
            .push("vpc/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/01/".into());
        l.objects.clear();
    }
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    let e = v.checks.iter().find(|c| c.name == EVIDENCE).unwrap();
    assert_eq!(e.result, CheckResult::Failed);
    assert!(
        e.detail.contains("2026/11/02/ and 1 earlier folder(s)"),
        "{}",
        e.detail
    );
}

// ---- review fixes (#10) ----

fn perimeter_deny(sid: &str) -> Value {
    json!({"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            "StringNotEqualsIfExists": {"aws:PrincipalServiceName": ["delivery.logs.amazonaws.com", "vpc-flow-logs.amazonaws.com", "logs.us-east-1.amazonaws.com"]}}})
}

#[test]
fn a_data_perimeter_deny_on_non_service_principals_does_not_block_delivery() {
    let f = with_policy(|p| statements_mut(p).push(perimeter_deny("Perimeter")));
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
}

#[test]
fn a_data_perimeter_deny_in_key_and_trust_policies_does_not_block_the_services() {
    let mut kp = key_policy("delivery.logs.amazonaws.com");
    kp["Statement"]
        .as_array_mut()
        .unwrap()
        .push(perimeter_deny("P"));
    let f = kms_bucket(&format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"), kp);
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);

    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        let t = role.trust_policy.as_mut().unwrap();
        t["Statement"]
            .as_array_mut()
            .unwrap()
            .push(perimeter_deny("P"));
    }
    if let Ok(Some(g)) = &mut f.group {
        g.kms_key = Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"));
    }
    let logs_key = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"}, perimeter_deny("P")]});
    f.key = Some(Ok(key(logs_key)));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
}

fn with_boundary(doc: Value) -> super::facts::CwlFacts {
    let mut f = cwl_facts();
    if let Some(Ok(Some(role))) = &mut f.role {
        role.boundary = Some((format!("arn:aws:iam::{ACCOUNT}:policy/Boundary"), doc));
    }
    f
}

#[test]
fn a_permissions_boundary_that_does_not_allow_writing_fails_naming_it() {
    let f = with_boundary(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(c.detail.contains("permissions boundary"), "{}", c.detail);
    let fix = c.fix.unwrap();
    assert!(fix.contains("policy/Boundary"), "{fix}");
}

#[test]
fn a_permissions_boundary_deny_wins_and_an_allowing_boundary_is_ok() {
    let f = with_boundary(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoLogs", "Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"}]}));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(
        c.detail.contains("`NoLogs` of permissions boundary"),
        "{}",
        c.detail
    );
    let f = with_boundary(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
}

#[test]
fn a_disabled_or_pending_deletion_or_foreign_region_bucket_key_fails_saying_which() {
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1");
    for (state, says) in [
        ("Disabled", "is Disabled"),
        ("PendingDeletion", "is PendingDeletion"),
    ] {
        let mut f = kms_bucket(&arn, key_policy("delivery.logs.amazonaws.com"));
        if let Some(Ok(k)) = &mut f.key {
            k.state = Some(state.into());
            k.enabled = false;
        }
        let c = permissions_s3::check(&subject(), &f, now());
        assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
        assert!(c.detail.contains(says), "{}", c.detail);
    }
    let other = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1");
    let mut f = kms_bucket(&other, key_policy("delivery.logs.amazonaws.com"));
    if let Some(Ok(k)) = &mut f.key {
        k.arn = other.clone();
    }
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(c.detail.contains("in region eu-west-1"), "{}", c.detail);
    assert!(c.fix.unwrap().contains("us-east-1"));
}

#[test]
fn a_disabled_or_foreign_region_log_group_key_fails() {
    let logs_key = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"}]});
    let mut f = cwl_facts();
    if let Ok(Some(g)) = &mut f.group {
        g.kms_key = Some(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"));
    }
    let mut k = key(logs_key.clone());
    k.state = Some("Disabled".into());
    k.enabled = false;
    f.key = Some(Ok(k));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(c.detail.contains("is Disabled"), "{}", c.detail);
    let mut k = key(logs_key);
    k.arn = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k1");
    f.key = Some(Ok(k));
    let c = permissions_cwl::check(&cwl_subject(), &f);
    assert_eq!(c.result, CheckResult::Failed, "{}", c.detail);
    assert!(c.detail.contains("in region eu-west-1"), "{}", c.detail);
}

#[test]
fn a_denied_read_makes_the_flow_log_unverified_and_later_rungs_not_checked() {
    let s = minutes_ago(1);
    let mut sub = subject();
    sub.flow_log.created = Some(s.to_string());
    let mut f = s3_facts();
    f.policy = Some(Err(super::facts::ReadFailure {
        operation: "s3:GetBucketPolicy".into(),
        message: "Access Denied".into(),
        denied: true,
    }));
    f.listing = Some(Err(super::facts::ReadFailure {
        operation: "s3:ListObjectsV2".into(),
        message: "Access Denied".into(),
        denied: true,
    }));
    f.newest_start = None;
    let v = ladder::verify(
        &facts(sub, DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Unverified, "{:?}", v.checks);
    for c in &v.checks {
        assert_ne!(c.result, CheckResult::Waiting, "{c:?}");
        assert!(!c.detail.contains("no delivery yet"), "{c:?}");
    }
    assert!(
        v.checks
            .iter()
            .any(|c| c.detail == "not checked: an earlier read failed"),
        "{:?}",
        v.checks
    );
    let all = [v];
    let errors = super::outcome::read_errors(&all);
    assert!(
        errors.iter().any(|e| e
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("s3:GetBucketPolicy")),
        "{errors:?}"
    );
}

#[test]
fn the_same_fix_for_put_object_and_get_bucket_acl_is_printed_once() {
    let f = with_policy(|p| statements_mut(p).clear());
    let c = permissions_s3::check(&subject(), &f, now());
    assert_eq!(c.result, CheckResult::Failed);
    let fix = c.fix.unwrap();
    assert_eq!(
        fix.matches("add to the policy of bucket").count(),
        1,
        "{fix}"
    );
}

fn org_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "FlowkeeperLogDeliveryWrite", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/vpc/AWSLogs/*",
         "Condition": {"StringEquals": {"aws:SourceOrgID": "o-abc123", "s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": "FlowkeeperLogDeliveryAclCheck", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
         "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": "arn:aws:s3:::logs",
         "Condition": {"StringEquals": {"aws:SourceOrgID": "o-abc123"}}}]})
}

#[test]
fn the_org_bucket_policy_is_decided_by_the_accounts_organization_id() {
    let mut f = s3_facts();
    f.policy = Some(Ok(Some(org_policy())));
    let mut s = subject();
    s.org_id = Some("o-abc123".into());
    let c = permissions_s3::check(&s, &f, now());
    assert_eq!(c.result, CheckResult::Ok, "{}", c.detail);
    s.org_id = Some("o-zzz999".into());
    assert_eq!(
        permissions_s3::check(&s, &f, now()).result,
        CheckResult::Failed
    );
    s.org_id = None;
    let c = permissions_s3::check(&s, &f, now());
    assert_eq!(c.result, CheckResult::Unverified, "{}", c.detail);
    assert!(c.detail.starts_with("cannot decide"), "{}", c.detail);
    assert!(
        !c.detail.contains("does not") && !c.fix.as_deref().unwrap().contains("add to the policy"),
        "{c:?}"
    );
    assert!(
        c.fix
            .unwrap()
            .contains("organizations:DescribeOrganization")
    );
}

#[test]
fn an_old_flow_log_without_objects_says_which_folders_were_read_not_since_creation() {
    let mut s = subject();
    s.flow_log.created = Some("2026-10-20T00:00:00Z".into());
    let mut f = s3_facts();
    if let Some(Ok(l)) = &mut f.listing {
        l.objects.clear();
    }
    let v = ladder::verify(
        &facts(s, DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    let e = v.checks.iter().find(|c| c.name == EVIDENCE).unwrap();
    assert_eq!(e.result, CheckResult::Failed, "{}", e.detail);
    assert!(
        e.detail
            .contains("in today's or yesterday's folders (s3://logs/"),
        "{}",
        e.detail
    );
    assert!(!e.detail.contains("since its creation"), "{}", e.detail);
}

#[test]
fn a_fix_for_a_statement_with_an_existing_sid_says_replace_not_add() {
    let f = with_policy(|p| {
        write_statement(p)["Resource"] = json!(format!("arn:aws:s3:::logs/vpc/AWSLogs/{ACCOUNT}"));
    });
    let fix = permissions_s3::check(&subject(), &f, now()).fix.unwrap();
    assert!(
        fix.contains("replace statement `FlowkeeperLogDeliveryWrite`"),
        "{fix}"
    );
    assert!(!fix.contains("add to the policy"), "{fix}");
}

#[test]
fn a_denied_object_read_under_a_bucket_not_principal_deny_does_not_say_grant_alone() {
    let mut f = s3_facts();
    if let Some(Ok(Some(p))) = &mut f.policy {
        p["Statement"].as_array_mut().unwrap().push(
            json!({"Sid": "OnlyDelivery", "Effect": "Deny",
            "NotPrincipal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::logs/*"}),
        );
    }
    f.newest_start = Some(Err(super::facts::ReadFailure {
        operation: "s3:GetObject".into(),
        message: "Access Denied".into(),
        denied: true,
    }));
    let v = ladder::verify(
        &facts(subject(), DestinationFacts::S3(f)),
        now(),
        &Thresholds::defaults(),
    );
    let shape = v.checks.iter().find(|c| c.name == SHAPE).unwrap();
    assert_eq!(shape.result, CheckResult::Unverified, "{}", shape.detail);
    let fix = shape.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("statement `OnlyDelivery` of the policy of bucket logs denies"),
        "{fix}"
    );
}

#[test]
fn regression_a_destination_that_cannot_be_read_from_here_is_unverified_not_delivering() {
    let mut s = cwl_subject();
    s.flow_log.settings.destination = FlowLogDestination::CloudwatchLogs {
        log_group: "/fk/g".into(),
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/fk-delivery"),
        elsewhere: Some("arn:aws:logs:us-east-1:999999999999:log-group:/fk/g".into()),
    };
    let v = ladder::verify(
        &facts(
            s,
            DestinationFacts::Unreadable {
                description: "log group arn:aws:logs:us-east-1:999999999999:log-group:/fk/g, in another account".into(),
            },
        ),
        now(),
        &Thresholds::defaults(),
    );
    assert_eq!(v.status, DeliveryStatus::Unverified, "{:#?}", v.checks);
    assert_eq!(v.checks[1].result, CheckResult::Unverified);
    assert!(v.checks[1].detail.contains("999999999999"));
    assert!(v.checks[1].fix.is_some());
}
