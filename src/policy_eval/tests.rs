//! Unit tests of the evaluation: each operator and edge, table-driven.

use serde_json::json;

use super::*;

const ACCT: &str = "111122223333";
const SERVICE: &str = "delivery.logs.amazonaws.com";

fn service() -> Principal {
    Principal::Service(SERVICE.into())
}

/// Y: the condition holds; N: it does not; U: it cannot be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Y,
    N,
    U,
}
use T::*;

/// One condition block against a context given as (key, values).
fn cond(block: Value, ctx: &[(&str, &[&str])]) -> T {
    let mut context = Context::new();
    for (k, vs) in ctx {
        context.insert(k.to_string(), vs.iter().map(|v| v.to_string()).collect());
    }
    match condition::evaluate(Some(&block), &condition::Lookup::new(&context)) {
        matching::Tri::Yes => Y,
        matching::Tri::No(_) => N,
        matching::Tri::Unknown(_) => U,
    }
}

/// One operator, one key, the policy's values, the request's values (`None`: key absent).
fn op(op: &str, want: Value, have: Option<&[&str]>) -> T {
    let block = json!({ op: { "k": want } });
    match have {
        Some(h) => cond(block, &[("k", h)]),
        None => cond(block, &[]),
    }
}

#[test]
fn string_operators() {
    let cases: &[(&str, Value, &[&str], T)] = &[
        ("StringEquals", json!("a"), &["a"], Y),
        ("StringEquals", json!("a"), &["A"], N),
        ("StringEquals", json!(["b", "a"]), &["a"], Y),
        ("StringEquals", json!("a*"), &["abc"], N),
        ("StringEquals", json!("a*"), &["a*"], Y),
        ("StringNotEquals", json!("a"), &["a"], N),
        ("StringNotEquals", json!("a"), &["b"], Y),
        ("StringNotEquals", json!(["a", "b"]), &["b"], N),
        ("StringEqualsIgnoreCase", json!("AbC"), &["aBc"], Y),
        ("StringEqualsIgnoreCase", json!("AbC"), &["abd"], N),
        ("StringNotEqualsIgnoreCase", json!("AbC"), &["abc"], N),
        ("StringNotEqualsIgnoreCase", json!("AbC"), &["x"], Y),
        ("StringLike", json!("a*c"), &["abbbc"], Y),
        ("StringLike", json!("a?c"), &["abc"], Y),
        ("StringLike", json!("a?c"), &["abbc"], N),
        ("StringLike", json!("A*"), &["abc"], N),
        ("StringLike", json!("*"), &[""], Y),
        ("StringNotLike", json!("a*"), &["abc"], N),
        ("StringNotLike", json!("a*"), &["xbc"], Y),
        // numbers and booleans in the policy are their text
        ("StringEquals", json!(111122223333u64), &["111122223333"], Y),
        ("StringEquals", json!(true), &["true"], Y),
        ("StringEquals", json!({"x": 1}), &["a"], U),
    ];
    for (o, want, have, expect) in cases {
        assert_eq!(
            op(o, want.clone(), Some(have)),
            *expect,
            "{o} {want} {have:?}"
        );
    }
}

#[test]
fn numeric_date_bool_binary_and_ip_operators() {
    let cases: &[(&str, Value, &[&str], T)] = &[
        ("NumericEquals", json!("10"), &["10"], Y),
        ("NumericEquals", json!(10), &["10.0"], Y),
        ("NumericNotEquals", json!("10"), &["10"], N),
        ("NumericNotEquals", json!("10"), &["11"], Y),
        ("NumericLessThan", json!("10"), &["9"], Y),
        ("NumericLessThan", json!("10"), &["10"], N),
        ("NumericLessThanEquals", json!("10"), &["10"], Y),
        ("NumericGreaterThan", json!("10"), &["10"], N),
        ("NumericGreaterThan", json!("10"), &["11"], Y),
        ("NumericGreaterThanEquals", json!("10"), &["10"], Y),
        ("NumericEquals", json!("10"), &["ten"], N),
        ("NumericEquals", json!("ten"), &["10"], U),
        (
            "DateLessThan",
            json!("2026-11-02T00:00:00Z"),
            &["2026-11-01T23:59:59Z"],
            Y,
        ),
        (
            "DateLessThan",
            json!("2026-11-02"),
            &["2026-11-02T00:00:00Z"],
            N,
        ),
        (
            "DateLessThanEquals",
            json!("2026-11-02"),
            &["2026-11-02T00:00:00Z"],
            Y,
        ),
        (
            "DateGreaterThan",
            json!("2026-11-02T00:00:00Z"),
            &["1793577601"],
            Y,
        ),
        (
            "DateGreaterThanEquals",
            json!("2026-11-02T02:00:00+02:00"),
            &["2026-11-02T00:00:00Z"],
            Y,
        ),
        (
            "DateEquals",
            json!("1793577600"),
            &["2026-11-02T00:00:00Z"],
            Y,
        ),
        (
            "DateNotEquals",
            json!("1793577600"),
            &["2026-11-02T00:00:00Z"],
            N,
        ),
        (
            "DateEquals",
            json!("yesterday"),
            &["2026-11-02T00:00:00Z"],
            U,
        ),
        ("Bool", json!("true"), &["true"], Y),
        ("Bool", json!("false"), &["true"], N),
        ("Bool", json!(false), &["false"], Y),
        ("Bool", json!("False"), &["false"], Y),
        ("Bool", json!("yes"), &["true"], U),
        ("BinaryEquals", json!("QmluYXJ5"), &["QmluYXJ5"], Y),
        ("BinaryEquals", json!("QmluYXJ5"), &["qmluyxj5"], N),
        ("IpAddress", json!("10.0.0.0/8"), &["10.1.2.3"], Y),
        ("IpAddress", json!("10.0.0.0/8"), &["11.1.2.3"], N),
        ("IpAddress", json!("10.1.2.3"), &["10.1.2.3"], Y),
        ("IpAddress", json!("0.0.0.0/0"), &["192.0.2.1"], Y),
        ("IpAddress", json!("2001:db8::/32"), &["2001:db8::1"], Y),
        ("IpAddress", json!("::/0"), &["2001:db8::1"], Y),
        ("IpAddress", json!("2001:db8::/32"), &["10.0.0.1"], N),
        ("NotIpAddress", json!("10.0.0.0/8"), &["10.1.2.3"], N),
        ("NotIpAddress", json!("10.0.0.0/8"), &["192.0.2.1"], Y),
        ("IpAddress", json!("10.0.0.0/33"), &["10.1.2.3"], U),
    ];
    for (o, want, have, expect) in cases {
        assert_eq!(
            op(o, want.clone(), Some(have)),
            *expect,
            "{o} {want} {have:?}"
        );
    }
}

#[test]
fn arn_operators_match_each_part_on_its_own() {
    let arn = "arn:aws:logs:us-east-1:111122223333:log-group:g:*";
    let cases: &[(&str, &str, &str, T)] = &[
        ("ArnLike", "arn:aws:logs:*:111122223333:*", arn, Y),
        (
            "ArnLike",
            "arn:aws:logs:us-*:111122223333:log-group:*",
            arn,
            Y,
        ),
        ("ArnLike", "arn:aws:logs:*:222233334444:*", arn, N),
        // `*` does not run across `:` outside the resource part
        ("ArnLike", "arn:aws:*:111122223333:*", arn, N),
        ("ArnLike", "arn:aws:logs:*:*", arn, N),
        ("ArnLike", "*", arn, Y),
        (
            "ArnLike",
            "arn:aws:ec2:*:111122223333:vpc-flow-log/*",
            "arn:aws:ec2:eu-west-1:111122223333:vpc-flow-log/fl-1",
            Y,
        ),
        ("ArnLike", "arn:aws:logs:*:111122223333:*", "not-an-arn", N),
        (
            "ArnLike",
            "arn:aws:logs:*:111122223333:*",
            "ARN:aws:logs:us-east-1:111122223333:x",
            N,
        ),
        ("ArnEquals", "arn:aws:logs:*:111122223333:*", arn, Y),
        ("ArnEquals", arn, arn, Y),
        ("ArnNotLike", "arn:aws:logs:*:111122223333:*", arn, N),
        ("ArnNotLike", "arn:aws:logs:*:222233334444:*", arn, Y),
        ("ArnNotEquals", "arn:aws:logs:*:222233334444:*", arn, Y),
    ];
    for (o, want, have, expect) in cases {
        assert_eq!(
            op(o, json!(want), Some(&[have])),
            *expect,
            "{o} {want} {have}"
        );
    }
}

#[test]
fn absent_keys_follow_aws_rules() {
    let cases: &[(&str, T)] = &[
        ("StringEquals", N),
        ("StringLike", N),
        ("StringEqualsIgnoreCase", N),
        ("NumericEquals", N),
        ("NumericLessThan", N),
        ("DateGreaterThan", N),
        ("Bool", N),
        ("BinaryEquals", N),
        ("IpAddress", N),
        ("ArnLike", N),
        ("ArnEquals", N),
        // negated operators are true for an absent key
        ("StringNotEquals", Y),
        ("StringNotLike", Y),
        ("StringNotEqualsIgnoreCase", Y),
        ("NumericNotEquals", Y),
        ("DateNotEquals", Y),
        ("NotIpAddress", Y),
        ("ArnNotLike", Y),
        ("ArnNotEquals", Y),
        // ...IfExists is true for an absent key
        ("StringEqualsIfExists", Y),
        ("StringLikeIfExists", Y),
        ("BoolIfExists", Y),
        ("ArnLikeIfExists", Y),
        ("NumericLessThanIfExists", Y),
        ("StringNotEqualsIfExists", Y),
        // set operators
        ("ForAnyValue:StringEquals", N),
        ("ForAnyValue:StringNotEquals", N),
        ("ForAllValues:StringEquals", Y),
        ("ForAllValues:StringNotLike", Y),
        ("ForAnyValue:StringEqualsIfExists", Y),
    ];
    for (o, expect) in cases {
        let want = if o.contains("Ip") {
            json!("10.0.0.0/8")
        } else if o.contains("Arn") {
            json!("arn:aws:s3:::b")
        } else {
            json!("1")
        };
        assert_eq!(op(o, want, None), *expect, "{o}");
    }
    // A key given with no values is absent.
    assert_eq!(op("StringEquals", json!("1"), Some(&[])), N);
    assert_eq!(op("StringNotEquals", json!("1"), Some(&[])), Y);
}

#[test]
fn if_exists_checks_a_present_key_normally() {
    assert_eq!(op("StringEqualsIfExists", json!("a"), Some(&["a"])), Y);
    assert_eq!(op("StringEqualsIfExists", json!("a"), Some(&["b"])), N);
    assert_eq!(op("BoolIfExists", json!("false"), Some(&["true"])), N);
    assert_eq!(op("StringNotLikeIfExists", json!("a*"), Some(&["ab"])), N);
}

#[test]
fn null_tests_presence() {
    assert_eq!(op("Null", json!("true"), None), Y);
    assert_eq!(op("Null", json!("true"), Some(&["x"])), N);
    assert_eq!(op("Null", json!("false"), Some(&["x"])), Y);
    assert_eq!(op("Null", json!(false), None), N);
    assert_eq!(op("Null", json!("maybe"), None), U);
    // `Null` has no IfExists or set form.
    assert_eq!(op("NullIfExists", json!("true"), None), U);
    assert_eq!(op("ForAnyValue:Null", json!("true"), None), U);
}

#[test]
fn set_operators_quantify_over_request_values() {
    let two: &[&str] = &["a", "b"];
    let cases: &[(&str, Value, T)] = &[
        ("ForAnyValue:StringEquals", json!("a"), Y),
        ("ForAnyValue:StringEquals", json!("c"), N),
        ("ForAllValues:StringEquals", json!(["a", "b", "c"]), Y),
        ("ForAllValues:StringEquals", json!("a"), N),
        ("ForAnyValue:StringNotEquals", json!("a"), Y),
        ("ForAnyValue:StringNotEquals", json!(["a", "b"]), N),
        ("ForAllValues:StringNotEquals", json!("c"), Y),
        ("ForAllValues:StringNotEquals", json!("a"), N),
        ("ForAllValues:StringLike", json!("?"), Y),
        ("ForAnyValue:StringLike", json!("b*"), Y),
        // without a set operator: any value matches; negated: none does
        ("StringEquals", json!("b"), Y),
        ("StringNotEquals", json!("b"), N),
        ("StringNotEquals", json!("c"), Y),
    ];
    for (o, want, expect) in cases {
        assert_eq!(op(o, want.clone(), Some(two)), *expect, "{o} {want}");
    }
}

#[test]
fn operators_and_keys_are_anded_values_ored_and_keys_case_insensitive() {
    let ctx: &[(&str, &[&str])] = &[("aws:SourceAccount", &["111"]), ("s3:x-amz-acl", &["x"])];
    let both = json!({"StringEquals": {"aws:sourceaccount": ["222", "111"], "S3:X-Amz-Acl": "x"}});
    assert_eq!(cond(both, ctx), Y);
    let one_fails = json!({"StringEquals": {"aws:SourceAccount": "111", "s3:x-amz-acl": "y"}});
    assert_eq!(cond(one_fails, ctx), N);
    let across_ops =
        json!({"StringEquals": {"aws:SourceAccount": "111"}, "StringLike": {"s3:x-amz-acl": "z*"}});
    assert_eq!(cond(across_ops, ctx), N);
    // Two spellings of one context key pool their values.
    let spelled: &[(&str, &[&str])] =
        &[("AWS:SOURCEACCOUNT", &["1"]), ("aws:sourceaccount", &["2"])];
    assert_eq!(
        cond(
            json!({"ForAllValues:StringEquals": {"aws:SourceAccount": ["1", "2"]}}),
            spelled
        ),
        Y
    );
    // Operator names are read without case; values keep theirs.
    assert_eq!(
        cond(json!({"stringequals": {"aws:SourceAccount": "111"}}), ctx),
        Y
    );
    assert_eq!(
        cond(
            json!({"StringEquals": {"aws:SourceAccount": "111"}}),
            &[("aws:SourceAccount", &["111 "])]
        ),
        N
    );
}

#[test]
fn unknown_operators_and_malformed_blocks_are_unknown_not_true() {
    let ctx: &[(&str, &[&str])] = &[("k", &["1"])];
    assert_eq!(cond(json!({"StringMatches": {"k": "1"}}), ctx), U);
    assert_eq!(
        cond(json!({"ForSomeValues:StringEquals": {"k": "1"}}), ctx),
        U
    );
    assert_eq!(cond(json!({"StringEquals": "k"}), ctx), U);
    assert_eq!(cond(json!("StringEquals"), ctx), U);
    // ...but a definite false next to it still decides.
    assert_eq!(
        cond(
            json!({"StringMatches": {"k": "1"}, "StringEquals": {"k": "2"}}),
            ctx
        ),
        N
    );
    assert_eq!(cond(json!({}), ctx), Y);
}

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn put(resource: &str) -> Request {
    Request::new(service(), "s3:PutObject", resource).with("aws:SourceAccount", ACCT)
}

#[test]
fn unknown_operator_never_allows_and_always_denies() {
    let allow = policy(json!([{
        "Sid": "Odd", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {"StringFuzzy": {"aws:SourceAccount": ACCT}}
    }]));
    let d = evaluate(&allow, &put("arn:aws:s3:::b/k"));
    assert_eq!(d.effect, Effect::ImplicitDeny);
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("`Odd`") && d.warnings[0].contains("StringFuzzy"),
        "{:?}",
        d.warnings
    );
    assert!(d.misses[0].reason.contains("cannot be evaluated"));

    let deny = policy(json!([
        {"Sid": "Ok", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Sid": "OddDeny", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringFuzzy": {"aws:SourceAccount": ACCT}}}
    ]));
    let d = evaluate(&deny, &put("arn:aws:s3:::b/k"));
    assert_eq!(d.effect, Effect::ExplicitDeny);
    assert_eq!(d.statement.unwrap().sid.as_deref(), Some("OddDeny"));
    assert!(d.warnings[0].contains("taken as denying"));
}

#[test]
fn actions_match_without_case_and_with_wildcards() {
    let cases: &[(Value, &str, bool)] = &[
        (json!("s3:PutObject"), "s3:PutObject", true),
        (json!("S3:putobject"), "s3:PutObject", true),
        (json!("s3:Put*"), "s3:PutObject", true),
        (json!("s3:Put*"), "s3:GetObject", false),
        (
            json!("kms:GenerateDataKey*"),
            "kms:GenerateDataKeyWithoutPlaintext",
            true,
        ),
        (json!("kms:GenerateDataKey*"), "kms:GenerateDataKey", true),
        (json!("kms:GenerateDataKey*"), "kms:Encrypt", false),
        (json!("*"), "sts:AssumeRole", true),
        (json!("s3:?etObject"), "s3:GetObject", true),
        (json!("s3:?etObject"), "s3:PutObject", false),
        (
            json!(["logs:CreateLogStream", "logs:PutLogEvents"]),
            "logs:PutLogEvents",
            true,
        ),
        (json!("s3:PutObject"), "s3:PutObjectAcl", false),
    ];
    for (action, asked, allowed) in cases {
        let p = policy(json!({"Effect": "Allow", "Action": action, "Resource": "*"}));
        let r = Request::new(Principal::Account(ACCT.into()), *asked, "arn:aws:s3:::b");
        assert_eq!(evaluate(&p, &r).is_allowed(), *allowed, "{action} {asked}");
    }
    let not = policy(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}));
    let r = |a: &str| Request::new(Principal::Account(ACCT.into()), a, "*");
    assert!(evaluate(&not, &r("s3:PutObject")).is_allowed());
    let d = evaluate(&not, &r("IAM:PassRole"));
    assert!(!d.is_allowed());
    assert!(
        d.misses[0].reason.contains("NotAction excludes"),
        "{:?}",
        d.misses
    );
    let neither = policy(json!({"Effect": "Allow", "Resource": "*"}));
    assert!(!evaluate(&neither, &r("s3:PutObject")).warnings.is_empty());
}

#[test]
fn resources_match_with_case_and_wildcards() {
    let cases: &[(Value, &str, bool)] = &[
        (
            json!("arn:aws:s3:::b/AWSLogs/111122223333/*"),
            "arn:aws:s3:::b/AWSLogs/111122223333/vpcflowlogs/x.log.gz",
            true,
        ),
        (
            json!("arn:aws:s3:::b/AWSLogs/111122223333/*"),
            "arn:aws:s3:::b/awslogs/111122223333/x",
            false,
        ),
        (
            json!("arn:aws:s3:::b/AWSLogs/111122223333"),
            "arn:aws:s3:::b/AWSLogs/111122223333/x",
            false,
        ),
        (
            json!("arn:aws:s3:::b/AWSLogs/*"),
            "arn:aws:s3:::b/AWSLogs/999988887777/x",
            true,
        ),
        (json!("arn:aws:s3:::b?"), "arn:aws:s3:::b1", true),
        (json!("arn:aws:s3:::b?"), "arn:aws:s3:::b", false),
        (json!("*"), "arn:aws:logs:us-east-1:1:log-group:g", true),
        (
            json!("arn:aws:logs:*:*:log-group:g:*"),
            "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:eni-1",
            true,
        ),
        (
            json!("arn:aws:logs:*:*:log-group:g:*"),
            "arn:aws:logs:us-east-1:111122223333:log-group:g2:*",
            false,
        ),
        (
            json!(["arn:aws:s3:::other", "arn:aws:s3:::b"]),
            "arn:aws:s3:::b",
            true,
        ),
    ];
    for (resource, asked, allowed) in cases {
        let p = policy(json!({"Effect": "Allow", "Action": "*", "Resource": resource}));
        let r = Request::new(Principal::Account(ACCT.into()), "s3:PutObject", *asked);
        assert_eq!(
            evaluate(&p, &r).is_allowed(),
            *allowed,
            "{resource} {asked}"
        );
    }
    let not =
        policy(json!({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::secret/*"}));
    let r = |res: &str| Request::new(Principal::Account(ACCT.into()), "s3:GetObject", res);
    assert!(evaluate(&not, &r("arn:aws:s3:::b/x")).is_allowed());
    assert!(!evaluate(&not, &r("arn:aws:s3:::secret/x")).is_allowed());
    // A trust policy has no Resource: it is about the role it is attached to.
    let trust = policy(
        json!({"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    );
    let ask = Request::new(
        Principal::Service("x.amazonaws.com".into()),
        "sts:AssumeRole",
        "arn:aws:iam::1:role/r",
    );
    assert!(evaluate(&trust, &ask).is_allowed());
}

#[test]
fn policy_variables_are_replaced_from_the_context() {
    let p = policy(json!({"Effect": "Allow", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::b/AWSLogs/${aws:SourceAccount}/*"}));
    assert!(evaluate(&p, &put("arn:aws:s3:::b/AWSLogs/111122223333/x")).is_allowed());
    assert!(!evaluate(&p, &put("arn:aws:s3:::b/AWSLogs/999988887777/x")).is_allowed());
    // A variable the request lacks cannot be evaluated: no allow, and a warning.
    let bare = Request::new(
        service(),
        "s3:PutObject",
        "arn:aws:s3:::b/AWSLogs/111122223333/x",
    );
    let d = evaluate(&p, &bare);
    assert!(!d.is_allowed());
    assert!(
        d.warnings[0].contains("${aws:SourceAccount}"),
        "{:?}",
        d.warnings
    );
    // A default, and the escapes for literal `*`, `?` and `$`.
    let dflt = policy(
        json!({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:username, 'shared'}/${*}"}),
    );
    assert!(
        evaluate(
            &dflt,
            &Request::new(service(), "s3:GetObject", "arn:aws:s3:::shared/*")
        )
        .is_allowed()
    );
    assert!(
        !evaluate(
            &dflt,
            &Request::new(service(), "s3:GetObject", "arn:aws:s3:::shared/x")
        )
        .is_allowed()
    );
    let in_condition = json!({"StringEquals": {"s3:prefix": "home/${aws:username}/"}});
    assert_eq!(
        cond(
            in_condition.clone(),
            &[("s3:prefix", &["home/ann/"]), ("aws:username", &["ann"])]
        ),
        Y
    );
    assert_eq!(
        cond(
            in_condition,
            &[("s3:prefix", &["home/bob/"]), ("aws:username", &["ann"])]
        ),
        N
    );
}

#[test]
fn principals() {
    let acct = || Principal::Account(ACCT.into());
    let role = || Principal::Arn(format!("arn:aws:iam::{ACCT}:role/r"));
    let cases: &[(Value, Principal, bool)] = &[
        (json!("*"), service(), true),
        (json!("*"), acct(), true),
        (json!({"AWS": "*"}), service(), true),
        (json!({"AWS": "*"}), acct(), true),
        (json!({"Service": SERVICE}), service(), true),
        (
            json!({"Service": ["ec2.amazonaws.com", SERVICE]}),
            service(),
            true,
        ),
        (json!({"Service": "ec2.amazonaws.com"}), service(), false),
        (json!({"Service": SERVICE}), acct(), false),
        (json!({"AWS": ACCT}), acct(), true),
        (
            json!({"AWS": format!("arn:aws:iam::{ACCT}:root")}),
            acct(),
            true,
        ),
        (
            json!({"AWS": format!("arn:aws-cn:iam::{ACCT}:root")}),
            acct(),
            true,
        ),
        (
            json!({"AWS": "arn:aws:iam::999988887777:root"}),
            acct(),
            false,
        ),
        (json!({"AWS": ACCT}), service(), false),
        (
            json!({"AWS": format!("arn:aws:iam::{ACCT}:role/r")}),
            role(),
            true,
        ),
        (
            json!({"AWS": format!("arn:aws:iam::{ACCT}:role/other")}),
            role(),
            false,
        ),
        (json!({"AWS": ACCT}), role(), true),
        (
            json!({"AWS": format!("arn:aws:iam::{ACCT}:role/r")}),
            acct(),
            false,
        ),
        (
            json!({"Federated": "cognito-identity.amazonaws.com"}),
            acct(),
            false,
        ),
    ];
    for (principal, who, allowed) in cases {
        let p = policy(
            json!({"Effect": "Allow", "Principal": principal, "Action": "*", "Resource": "*"}),
        );
        let r = Request::new(who.clone(), "s3:PutObject", "arn:aws:s3:::b/k");
        assert_eq!(
            evaluate(&p, &r).is_allowed(),
            *allowed,
            "{principal} {who:?}"
        );
    }
    // NotPrincipal: everyone but those named.
    let deny_others = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Sid": "OnlyLogs", "Effect": "Deny", "NotPrincipal": {"Service": SERVICE}, "Action": "*", "Resource": "*"}
    ]));
    let r = |p: Principal| Request::new(p, "s3:PutObject", "arn:aws:s3:::b/k");
    assert!(evaluate(&deny_others, &r(service())).is_allowed());
    let d = evaluate(&deny_others, &r(acct()));
    assert_eq!(d.effect, Effect::ExplicitDeny);
    assert_eq!(d.statement.unwrap().to_string(), "`OnlyLogs`");
    // Malformed principals are warnings, never an allow.
    for bad in [
        json!("someone"),
        json!({"Robot": "r2d2"}),
        json!({"AWS": 5}),
    ] {
        let p =
            policy(json!({"Effect": "Allow", "Principal": bad, "Action": "*", "Resource": "*"}));
        let d = evaluate(&p, &r(service()));
        assert!(!d.is_allowed() && !d.warnings.is_empty(), "{bad}");
    }
    // An identity policy has no principal: it applies to whoever holds it.
    let identity = policy(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    assert!(evaluate(&identity, &r(role())).is_allowed());
}

#[test]
fn explicit_deny_wins_and_the_deciding_statement_is_named() {
    let p = policy(json!([
        {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/secret/*"},
        {"Sid": "B", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}
    ]));
    let d = evaluate(&p, &put("arn:aws:s3:::b/secret/x"));
    assert_eq!(d.effect, Effect::ExplicitDeny);
    let at = d.statement.unwrap();
    assert_eq!((at.index, at.sid.as_deref()), (1, None));
    assert_eq!(at.to_string(), "#2");
    let d = evaluate(&p, &put("arn:aws:s3:::b/open/x"));
    assert_eq!(d.effect, Effect::Allowed);
    assert_eq!(d.statement.unwrap().to_string(), "`A`");
    let d = evaluate(
        &p,
        &Request::new(service(), "kms:Decrypt", "arn:aws:s3:::b/open/x"),
    );
    assert_eq!(d.effect, Effect::ImplicitDeny);
    assert_eq!(d.statement, None);
    assert_eq!(d.misses.len(), 2);
    assert!(
        d.misses
            .iter()
            .all(|m| m.reason.contains("does not include `kms:Decrypt`"))
    );
}

#[test]
fn misses_say_which_element_failed() {
    let p = policy(json!([
        {"Sid": "P", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "*", "Resource": "*"},
        {"Sid": "R", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "arn:aws:s3:::b/AWSLogs/111122223333"},
        {"Sid": "C", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}}}
    ]));
    let d = evaluate(&p, &put("arn:aws:s3:::b/AWSLogs/111122223333/x"));
    assert!(!d.is_allowed());
    let reasons: Vec<(String, String)> = d
        .misses
        .iter()
        .map(|m| (m.statement.to_string(), m.reason.clone()))
        .collect();
    assert!(
        reasons[0]
            .1
            .contains("Principal does not name service `delivery.logs.amazonaws.com`"),
        "{reasons:?}"
    );
    assert!(
        reasons[1]
            .1
            .contains("does not cover `arn:aws:s3:::b/AWSLogs/111122223333/x`"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].1.contains("aws:SourceAccount")
            && reasons[2].1.contains("999988887777")
            && reasons[2].1.contains("111122223333"),
        "{reasons:?}"
    );
    assert_eq!(
        reasons.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["`P`", "`R`", "`C`"]
    );
}

#[test]
fn documents_of_every_shape() {
    let one = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
    let r = Request::new(service(), "s3:PutObject", "arn:aws:s3:::b/k");
    assert!(evaluate(&one, &r).is_allowed());
    for bad in [
        json!({}),
        json!([]),
        json!("policy"),
        json!({"Statement": 3}),
    ] {
        let d = evaluate(&bad, &r);
        assert_eq!(d.effect, Effect::ImplicitDeny, "{bad}");
        assert_eq!(d.warnings.len(), 1, "{bad}");
    }
    // A statement that is no object, or has an unknown Effect, can only deny.
    for st in [
        json!("Allow"),
        json!({"Effect": "allow", "Action": "*", "Resource": "*"}),
    ] {
        let p = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, st]});
        let d = evaluate(&p, &r);
        assert_eq!(d.effect, Effect::ExplicitDeny, "{st}");
        assert_eq!(d.statement.unwrap().index, 1);
    }
}

#[test]
fn several_policies_combine() {
    let allow = policy(json!({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}));
    let deny = policy(
        json!({"Sid": "NoStreams", "Effect": "Deny", "Action": "logs:CreateLogStream", "Resource": "*"}),
    );
    let r = |a: &str| {
        Request::new(
            Principal::Arn("arn:aws:iam::1:role/r".into()),
            a,
            "arn:aws:logs:us-east-1:1:log-group:g",
        )
    };
    let d = evaluate_all(&[&allow, &deny], &r("logs:PutLogEvents"));
    assert_eq!(d.effect, Effect::Allowed);
    assert_eq!(d.statement.unwrap().policy, 0);
    let d = evaluate_all(&[&allow, &deny], &r("logs:CreateLogStream"));
    assert_eq!(d.effect, Effect::ExplicitDeny);
    assert_eq!(d.statement.unwrap().policy, 1);
    assert_eq!(
        evaluate_all(&[], &r("logs:PutLogEvents")).effect,
        Effect::ImplicitDeny
    );
}

#[test]
fn the_planners_normalized_form_evaluates_the_same() {
    let p = policy(json!([
        {"Sid": "Z", "Effect": "Allow", "Principal": {"Service": [SERVICE]}, "Action": ["s3:PutObject"],
         "Resource": ["arn:aws:s3:::b/AWSLogs/111122223333/*"], "Condition": {"StringEquals": {"aws:SourceAccount": [ACCT]}}},
        {"Sid": "A", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]));
    let normalized = crate::policies::normalize(&p);
    for (resource, tls) in [
        ("arn:aws:s3:::b/AWSLogs/111122223333/x", "true"),
        ("arn:aws:s3:::b/AWSLogs/111122223333/x", "false"),
        ("arn:aws:s3:::b/AWSLogs/999988887777/x", "true"),
    ] {
        let r = put(resource).with("aws:SecureTransport", tls);
        let (a, b) = (evaluate(&p, &r), evaluate(&normalized, &r));
        assert_eq!(a.effect, b.effect, "{resource} {tls}");
        assert_eq!(a.statement.map(|s| s.sid), b.statement.map(|s| s.sid));
    }
}
