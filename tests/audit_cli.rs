//! `audit`'s usage errors and input checks, before any AWS call (no emulator needed: every
//! case fails before connecting, and the endpoint points nowhere to prove it).

use std::process::{Command, Output};

fn flowkeeper(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_config_named_with_c_must_exist_while_the_default_one_may_be_absent() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["audit", "-c", "flowkeeper.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read the config"),
        "{}",
        stderr(&out)
    );
    let out = flowkeeper(dir.path(), &["-c", "elsewhere.yaml", "audit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("elsewhere.yaml"), "{}", stderr(&out));
    // Without -c and without ./flowkeeper.yaml, audit goes on to AWS (and fails to reach it
    // here): the config is not what stops it.
    let out = flowkeeper(dir.path(), &["audit", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("cannot read the config"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fix_needs_a_config_and_approved_destinations_need_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["audit", "--fix"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--fix needs a config"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        "version: 1\ndestinations:\n  d: { type: s3, bucket: b-1 }\nflow_logs:\n  - { name: e, resource: vpc, select: all, destinations: [d] }\n",
    )
    .unwrap();
    let out = flowkeeper(
        dir.path(),
        &["audit", "--approved-destination", "arn:aws:s3:::x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--approved-destination narrows a baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_baseline_name_gets_the_shipped_ones_and_ndjson_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["audit", "--baseline", "cis"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("neither a shipped baseline nor a file"), "{e}");
    assert!(
        e.contains("cis-aws-foundations, aws-fsbp, flowkeeper"),
        "{e}"
    );
    let out = flowkeeper(dir.path(), &["audit", "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("audit prints --format"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn regression_approved_destinations_must_say_what_they_are_and_fix_refuses_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    for (value, wants) in [
        ("", "an empty destination approves nothing"),
        ("s3://my-logs/vpc/", "write arn:aws:s3:::my-logs/vpc"),
        ("my-logs", "a bucket is arn:aws:s3:::my-logs[/prefix]"),
    ] {
        let out = flowkeeper(
            dir.path(),
            &[
                "audit",
                "--baseline",
                "aws-fsbp",
                "--approved-destination",
                value,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{value:?}");
        assert!(stderr(&out).contains(wants), "{value:?}: {}", stderr(&out));
    }
    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        "version: 1\nregions: [us-east-1]\ndestinations:\n  rt: { type: cloudwatch-logs, log_group: /g }\nflow_logs:\n  - name: x\n    resource: vpc\n    select: all\n    destinations: [rt]\n",
    )
    .unwrap();
    let out = flowkeeper(dir.path(), &["audit", "--fix", "--baseline", "aws-fsbp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--fix with --baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn regression_help_lists_table_as_an_alias_of_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["audit", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("`table` is an alias"), "{help}");
}

#[test]
fn regression_a_misspelt_region_gets_did_you_mean_in_audit() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["audit", "--regions", "us-eats-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `us-east-1`?"),
        "{}",
        stderr(&out)
    );
}
