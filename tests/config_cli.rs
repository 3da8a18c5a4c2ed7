//! `validate` and `init` through the real binary: every config problem in one run, with file,
//! line, column, the line itself and a hint.

use std::process::Command;

fn flowkeeper(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .unwrap()
}

const BROKEN: &str = r#"version: 1
regions: [us-east-1, eu-wets1]
destinations:
  archive:
    type: s3
    bucket_name: my-logs
    encryption: sse-s3
  realtime:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 31
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    traffic_type: all
    destinations: [archve]
    format: [version, src-addr, dstaddr]
    max_aggregation_interval: 300
"#;

#[test]
fn every_mistake_is_reported_with_its_position_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flowkeeper.yaml"), BROKEN).unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let expected = [
        ("`eu-wets1` is not a region name", "flowkeeper.yaml:2:22"),
        ("unknown key `bucket_name`", "flowkeeper.yaml:6:5"),
        (
            "is missing the required key `bucket`",
            "flowkeeper.yaml:4:3",
        ),
        (
            "does not accept a retention of 31 days",
            "flowkeeper.yaml:11:21",
        ),
        (
            "`traffic_type` must be one of ALL, ACCEPT, REJECT, found `all`",
            "flowkeeper.yaml:16:19",
        ),
        (
            "destination `archve` is not declared",
            "flowkeeper.yaml:17:20",
        ),
        (
            "`src-addr` is not a VPC flow log field",
            "flowkeeper.yaml:18:23",
        ),
        (
            "`max_aggregation_interval` must be one of 60, 600, found `300`",
            "flowkeeper.yaml:19:31",
        ),
    ];
    for (message, position) in expected {
        let at = err
            .find(message)
            .unwrap_or_else(|| panic!("missing `{message}` in:\n{err}"));
        let after = &err[at..];
        let next_error = after[1..].find("error:").map_or(after.len(), |i| i + 1);
        assert!(
            after[..next_error].contains(position),
            "`{message}` should point at {position}:\n{err}"
        );
    }
    assert!(err.contains("did you mean `bucket`?"), "{err}");
    assert!(err.contains("did you mean `archive`?"), "{err}");
    assert!(err.contains("did you mean `srcaddr`?"), "{err}");
    assert!(err.contains("did you mean `ALL`?"), "{err}");
    assert!(
        err.contains("6 |     bucket_name: my-logs\n  |     ^^^^^^^^^^^"),
        "the line is shown and the key underlined:\n{err}"
    );
    assert!(err.contains("8 problems in flowkeeper.yaml"), "{err}");
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        "version: 1\ndestinations:\n  a: [unclosed\n",
    )
    .unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("YAML syntax"), "{err}");
    assert!(err.contains("flowkeeper.yaml:"), "{err}");
}

#[test]
fn a_missing_config_suggests_init_and_init_writes_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("flowkeeper init"));
    assert_eq!(flowkeeper(dir.path(), &["init"]).status.code(), Some(0));
    let again = flowkeeper(dir.path(), &["init"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "init does not overwrite without --force"
    );
    let out = flowkeeper(dir.path(), &["validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_shipped_examples_validate() {
    let root = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    );
    for example in ["examples/flowkeeper.yaml", "examples/multi-account.yaml"] {
        let out = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
            .args(["validate", "-c"])
            .arg(root.join(example))
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn account_mistakes_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"version: 1
regions: all
defaults: { role_nam: Admin }
accounts:
  - id: 111111111111
  - id: "22222222222"
  - id: "333333333333"
    role_arn: arn:aws:iam::444444444444:role/Admin
organization: {}
destinations:
  c: { type: s3, account: "99999999999x", bucket: central-logs }
flow_logs:
  - { name: v, resource: vpc, select: all, destinations: [c] }
"#;
    std::fs::write(dir.path().join("flowkeeper.yaml"), config).unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "unknown key `role_nam` in `defaults`",
        "account id 111111111111 must be a quoted string",
        "`22222222222` is not a 12-digit AWS account id",
        "is not in account 333333333333",
        "`accounts` and `organization` cannot both be given",
        "`99999999999x` is not a 12-digit AWS account id",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(err.contains("6 problems in flowkeeper.yaml"), "{err}");
}

#[test]
fn verify_duration_mistakes_are_usage_errors_that_say_why() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            &["verify", "--all", "--since", "-1m"][..],
            "negative durations are not accepted",
        ),
        (
            &["verify", "--all", "--max-age=-5m"][..],
            "negative durations are not accepted",
        ),
        (&["verify", "--all", "--since", "0s"][..], "more than zero"),
        (
            &["verify", "--all", "--max-age", "0s"][..],
            "more than zero",
        ),
    ] {
        let out = flowkeeper(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "flowkeeper {args:?}:\n{err}");
        assert!(err.contains(says), "flowkeeper {args:?}:\n{err}");
    }
}

/// Issue #8 case 4: every usage error exits 1 (clap's default is 2, which the exit-code scheme
/// reserves for "worked and found something to act on"); help and version still exit 0.
#[test]
fn usage_errors_exit_1_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    // A valid config, so that flag checks made after loading it are reached.
    assert_eq!(flowkeeper(dir.path(), &["init"]).status.code(), Some(0));
    let usage_errors: &[&[&str]] = &[
        &[],
        &["--bogus"],
        &["frobnicate"],
        &["--concurrency", "0", "validate"],
        &["--concurrency", "many", "plan"],
        &["--format", "yaml", "validate"],
        &["init", "--bogus"],
        &["init", "a.yaml", "b.yaml"],
        &["validate", "--bogus"],
        &["validate", "extra-argument"],
        &["plan", "--bogus"],
        &["plan", "--concurrency", "0"],
        &["plan", "--format", "xml"],
        &["plan", "--format", "html"],
        &["apply", "--bogus"],
        &["apply", "--concurrency", "0"],
        &["apply", "--format", "ndjson"],
        &["apply", "--yes=maybe"],
        &["analyze", "--bogus"],
        &["analyze", "--format", "xml", "x.log"],
        &["analyze", "--flow-log"],
        &["analyze"],
        &["analyze", "--fail-on", "severe", "x.log"],
        &["analyze", "--since", "yesterday", "x.log"],
        &["--accounts", "12", "plan"],
        &["--regions", "nowhere", "plan"],
    ];
    for args in usage_errors {
        let out = flowkeeper(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "flowkeeper {args:?}:\n{err}");
        assert!(
            err.contains("error"),
            "flowkeeper {args:?} says why:\n{err}"
        );
        assert!(out.stdout.is_empty(), "flowkeeper {args:?} prints no data");
    }
    for args in [
        &["--help"][..],
        &["-h"],
        &["--version"],
        &["-V"],
        &["help"],
        &["help", "plan"],
        &["init", "--help"],
        &["validate", "--help"],
        &["plan", "--help"],
        &["apply", "--help"],
        &["analyze", "--help"],
    ] {
        let out = flowkeeper(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "flowkeeper {args:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.stdout.is_empty(),
            "flowkeeper {args:?} prints on stdout"
        );
    }
}

/// Runs `validate` on `config` in a fresh directory; returns (exit code, stderr).
fn validate(config: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flowkeeper.yaml"), config).unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `message` is reported at `position` (file:line:col).
fn assert_reported_at(err: &str, message: &str, position: &str) {
    let at = err
        .find(message)
        .unwrap_or_else(|| panic!("missing `{message}` in:\n{err}"));
    let after = &err[at..];
    let next_error = after[1..].find("error:").map_or(after.len(), |i| i + 1);
    assert!(
        after[..next_error].contains(position),
        "`{message}` should point at {position}:\n{err}"
    );
}

const STARTER: &str = include_str!("../examples/flowkeeper.yaml");

/// Issue #8 case 14: a UTF-8 byte order mark (as Windows editors write) is not part of a key.
#[test]
fn a_config_starting_with_a_byte_order_mark_validates() {
    // The mark right before the first key (not before a comment, which hides the problem).
    let from_first_key = &STARTER[STARTER.find("version: 1").unwrap()..];
    let mut text = "\u{feff}".as_bytes().to_vec();
    text.extend_from_slice(from_first_key.as_bytes());
    let (code, err) = validate(&text);
    assert_eq!(code, Some(0), "{err}");
}

/// Issue #8 case 14: a duplicate key points at the duplicate (not 1:1) and every other problem
/// in the file is still reported.
#[test]
fn duplicate_keys_point_at_the_duplicate_and_other_problems_are_still_reported() {
    let config = r#"version: 1
regions: [us-east-1]
destinations:
  archive: { type: s3, bucket: fk-archive-logs }
  archive: { type: s3, bucket: fk-other-logs }
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    destinations: [archive]
    traffic_type: all
    destinations: [archive]
"#;
    let (code, err) = validate(config.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert_reported_at(
        &err,
        "duplicate key `archive` in `destinations`",
        "flowkeeper.yaml:5:3",
    );
    assert_reported_at(
        &err,
        "duplicate key `destinations` in `flow_logs[0]`",
        "flowkeeper.yaml:12:5",
    );
    assert_reported_at(
        &err,
        "`traffic_type` must be one of ALL, ACCEPT, REJECT, found `all`",
        "flowkeeper.yaml:11:19",
    );
    assert!(err.contains("first given at line 4"), "{err}");
    assert!(err.contains("3 problems in flowkeeper.yaml"), "{err}");
}

/// Issue #8 case 14: a name used twice is reported even when the first entry has another
/// problem.
#[test]
fn a_duplicate_entry_name_is_reported_when_the_first_entry_has_another_error() {
    let config = r#"version: 1
regions: [us-east-1]
destinations:
  archive: { type: s3, bucket: fk-archive-logs }
flow_logs:
  - name: all-vpcs
    resource: vpcs
    select: all
    destinations: [archive]
  - name: all-vpcs
    resource: vpc
    select: all
    destinations: [archive]
"#;
    let (code, err) = validate(config.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert_reported_at(&err, "`resource` must be one of", "flowkeeper.yaml:7:15");
    assert_reported_at(
        &err,
        "flow log entry name `all-vpcs` is used twice",
        "flowkeeper.yaml:10:11",
    );
    assert!(err.contains("2 problems in flowkeeper.yaml"), "{err}");
}

/// Issue #8 case 14: a well-formed but unknown region is rejected by `validate`, with the near
/// matches as a hint.
#[test]
fn an_unknown_region_is_rejected_with_near_matches() {
    let config = STARTER.replace(
        "regions: [us-east-1, eu-west-1]",
        "regions: [us-east-1, mars-north-7, eu-wset-1]",
    );
    let (code, err) = validate(config.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert_reported_at(
        &err,
        "`mars-north-7` is not an AWS region",
        "flowkeeper.yaml:6:22",
    );
    assert_reported_at(
        &err,
        "`eu-wset-1` is not an AWS region",
        "flowkeeper.yaml:6:36",
    );
    assert!(err.contains("did you mean `eu-west-1`?"), "{err}");
    assert!(
        err.contains("eu-north-1"),
        "a near match for mars-north-7 is listed:\n{err}"
    );
}

/// Issue #8 case 9: a file over the size limit fails at once, saying so, before it is parsed.
#[test]
fn an_oversized_config_fails_fast_with_the_limit() {
    let mut text = STARTER.to_string();
    let comment = format!("# {}\n", "x".repeat(1000));
    while text.len() <= 5 * 1024 * 1024 {
        text.push_str(&comment);
    }
    let (code, err) = validate(text.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("MiB"), "the limit is named:\n{err}");
    assert!(err.contains("at most 4 MiB"), "{err}");
}

/// Issue #8 case 9: deep nesting stops at the depth limit, at the position where the limit was
/// crossed, without reading the rest of the file.
#[test]
fn deep_nesting_fails_at_the_depth_limit_with_its_position() {
    let (code, err) = validate("[".repeat(3_000_000).as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nested more than 64 levels deep"), "{err}");
    assert!(err.contains("flowkeeper.yaml:1:"), "{err}");

    let mut block = String::from("version: 1\nflow_logs:\n");
    for depth in 0..100 {
        block.push_str(&format!("{}- k{depth}:\n", "  ".repeat(depth * 2)));
    }
    let (code, err) = validate(block.as_bytes());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nested more than 64 levels deep"), "{err}");
}

/// Issue #8 case 9: rule packs go through the same limits.
#[test]
fn deep_rule_packs_fail_at_the_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), "{a: ".repeat(1_000_000)).unwrap();
    std::fs::write(dir.path().join("x.log"), "").unwrap();
    let out = flowkeeper(dir.path(), &["analyze", "--rules", "rules.yaml", "x.log"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nested more than 64 levels deep"), "{err}");
    assert!(err.contains("rules.yaml:1:"), "{err}");
}

/// Issue #8 case 14: `--region` and `--regions` are checked against the known regions too,
/// before any AWS call.
#[test]
fn unknown_regions_in_flags_are_rejected_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(flowkeeper(dir.path(), &["init"]).status.code(), Some(0));
    for args in [
        &[
            "plan",
            "--region",
            "mars-north-7",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ][..],
        &[
            "plan",
            "--regions",
            "eu-west-1,mars-north-7",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ],
    ] {
        let out = flowkeeper(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("`mars-north-7` is not an AWS region"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("cannot connect"), "no call was made: {err}");
    }
}

#[test]
fn destinations_sharing_a_bucket_or_log_group_with_different_settings_are_reported_at_both() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"version: 1
regions: [us-east-1]
destinations:
  plain:
    type: s3
    bucket: logs-{account_id}
    create: true
  sealed:
    type: s3
    bucket: logs-{account_id}
    create: true
    encryption: { kms_key: "arn:aws:kms:us-east-1:111122223333:key/k" }
  keep90:
    type: s3
    bucket: archive-{account_id}
    lifecycle: { expire_days: 90 }
  apps30:
    type: s3
    bucket: archive-{account_id}
    prefix: apps
    lifecycle: { expire_days: 30 }
  short:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 7
  long:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 30
flow_logs:
  - { name: v, resource: vpc, select: all, destinations: [plain, sealed, keep90, apps30, short, long] }
"#;
    std::fs::write(dir.path().join("flowkeeper.yaml"), config).unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Each conflict is reported at both destinations: at the differing setting where it is
    // written, at the destination's `bucket` / `log_group` where it is left at its default.
    let bucket = "destinations `plain` and `sealed` use the same bucket `logs-{account_id}` but disagree on `encryption`";
    let group = "destinations `long` and `short` use the same log group `/fk/flows` but disagree on `retention_days`";
    for (message, position) in [
        (bucket, "flowkeeper.yaml:6:13"),
        (bucket, "flowkeeper.yaml:12:17"),
        (group, "flowkeeper.yaml:25:21"),
        (group, "flowkeeper.yaml:29:21"),
    ] {
        let found = err
            .match_indices(&format!("error: {message}"))
            .any(|(at, _)| {
                err[at..]
                    .lines()
                    .nth(1)
                    .is_some_and(|l| l.ends_with(position))
            });
        assert!(found, "missing `{message}` at {position} in:\n{err}");
    }
    assert!(
        !err.contains("`keep90`") && !err.contains("`apps30`"),
        "lifecycle rules under different prefixes do not overlap: {err}"
    );
    assert!(err.contains("4 problems in flowkeeper.yaml"), "{err}");
}

/// Review regression: `validate --format json` was accepted and ignored.
#[test]
fn validate_refuses_a_format_it_does_not_print() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flowkeeper.yaml"), STARTER).unwrap();
    let out = flowkeeper(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--format is for plan, apply and analyze")
    );
}

/// Review regression: config diagnostics echoed raw escape sequences from the file.
#[test]
fn config_diagnostics_escape_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    // YAML's own escape: the destination's name holds a real ESC character.
    let config = STARTER.replace("destinations: [archive]", "destinations: [\"\\e[31mevil\"]");
    std::fs::write(dir.path().join("flowkeeper.yaml"), config).unwrap();
    let out = flowkeeper(dir.path(), &["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("\\x1b[31mevil"), "{err}");
}
