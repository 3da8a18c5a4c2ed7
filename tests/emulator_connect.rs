//! How flowkeeper reaches AWS, through the real binary: which credentials a run uses
//! (`--profile` against the environment, checked against the emulator's STS), and that
//! credential and endpoint failures are a sentence and a hint, fast, not SDK debug output.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use support::{Account, expect_exit, text};

const CONFIG: &str = r#"version: 1
regions: [us-east-1]
destinations:
  archive: { type: s3, bucket: "fk-connect-{account_id}", create: true }
flow_logs:
  - { name: all-vpcs, resource: vpc, select: all, destinations: [archive] }
"#;

/// Runs the binary in `dir` with only `env` (plus PATH) set: no credentials, no profile files,
/// no instance metadata unless given.
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowkeeper"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run flowkeeper")
}

fn env_credentials(acct: &Account) -> Vec<(&'static str, String)> {
    let c = acct.credentials();
    vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id().to_string()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key().to_string()),
        (
            "AWS_SESSION_TOKEN",
            c.session_token().unwrap_or_default().to_string(),
        ),
    ]
}

/// The account `plan --format json` planned for.
fn planned_account(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{stdout}\n{stderr}"));
    v["accounts"][0]["account"]
        .as_str()
        .unwrap_or_else(|| panic!("no account in {v}"))
        .to_string()
}

/// Issue #8 case 5: an explicit `--profile` uses that profile's credentials even when
/// AWS_ACCESS_KEY_ID is set (as the AWS CLI does); without the flag the environment wins.
#[tokio::test]
async fn an_explicit_profile_wins_over_environment_credentials() {
    let env_acct = Account::new().await;
    let profile_acct = Account::new().await;
    let dir = support::workdir(CONFIG);
    let c = profile_acct.credentials();
    std::fs::write(
        dir.path().join("aws-credentials"),
        format!(
            "[other]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token().unwrap_or_default()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("aws-config"),
        "[profile other]\nregion = us-east-1\n",
    )
    .unwrap();
    let mut env: Vec<(&str, String)> = env_credentials(&env_acct);
    env.push(("AWS_ENDPOINT_URL", env_acct.endpoint.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let out = run(
        dir.path(),
        &env,
        &["plan", "--format", "json", "--profile", "other"],
    );
    expect_exit(&out, 2);
    assert_eq!(
        planned_account(&out),
        profile_acct.id,
        "--profile other was used"
    );

    let out = run(dir.path(), &env, &["plan", "--format", "json"]);
    expect_exit(&out, 2);
    assert_eq!(
        planned_account(&out),
        env_acct.id,
        "without --profile the environment wins"
    );

    // AWS_PROFILE alone does not override environment keys (the SDKs' and the CLI's order).
    let mut with_env_profile = env.clone();
    with_env_profile.push(("AWS_PROFILE", "other"));
    let out = run(dir.path(), &with_env_profile, &["plan", "--format", "json"]);
    expect_exit(&out, 2);
    assert_eq!(planned_account(&out), env_acct.id);
}

/// Issue #8 case 5: an unknown profile is an error naming it and the files that were read.
#[tokio::test]
async fn an_unknown_profile_is_an_error_naming_it_and_the_files_read() {
    let acct = Account::new().await;
    let dir = support::workdir(CONFIG);
    std::fs::write(
        dir.path().join("aws-config"),
        "[profile dev]\nregion = us-east-1\n",
    )
    .unwrap();
    let mut env: Vec<(&str, String)> = env_credentials(&acct);
    env.push(("AWS_ENDPOINT_URL", acct.endpoint.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(dir.path(), &env, &["plan", "--profile", "nope"]);
    let (stdout, err) = expect_exit(&out, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(err.contains("profile `nope` is not defined"), "{err}");
    assert!(err.contains("aws-config"), "names the config file:\n{err}");
    assert!(
        err.contains("aws-credentials"),
        "names the credentials file:\n{err}"
    );
    assert!(err.contains("= hint: "), "{err}");
    assert!(!err.contains("{ "), "no debug structures:\n{err}");
}

/// Issue #8 case 14: no credentials at all is a sentence and a hint, not the SDK's provider
/// chain in debug form.
#[test]
fn no_credentials_is_a_sentence_and_a_hint() {
    let dir = support::workdir(CONFIG);
    let out = run(
        dir.path(),
        &[],
        &["plan", "--endpoint-url", "http://127.0.0.1:1"],
    );
    let (_, err) = expect_exit(&out, 1);
    assert!(err.contains("no AWS credentials were found"), "{err}");
    assert!(err.contains("= hint: "), "{err}");
    assert!(
        !err.contains("CredentialsNotLoaded"),
        "no debug structures:\n{err}"
    );
    assert!(!err.contains("{ "), "no debug structures:\n{err}");
}

/// Issue #8 case 14: a refused endpoint fails at the first attempt (it used to be retried for
/// 36 s) with a sentence naming the endpoint, and a bad endpoint URL is caught before any call.
#[test]
fn a_refused_or_malformed_endpoint_is_a_sentence_and_a_hint() {
    let dir = support::workdir(CONFIG);
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    let out = run(
        dir.path(),
        &keys,
        &["plan", "--endpoint-url", "http://127.0.0.1:1"],
    );
    let (_, err) = expect_exit(&out, 1);
    assert!(
        err.contains("cannot connect to http://127.0.0.1:1: connection refused"),
        "{err}"
    );
    assert!(err.contains("= hint: "), "{err}");
    assert!(
        !err.contains("DispatchFailure"),
        "no debug structures:\n{err}"
    );

    for bad in ["not a url", "ftp://127.0.0.1:21", "http://"] {
        let out = run(dir.path(), &keys, &["plan", "--endpoint-url", bad]);
        let (_, err) = expect_exit(&out, 1);
        assert!(
            err.contains(&format!("`{bad}` is not an endpoint URL")),
            "{bad}: {err}"
        );
        assert!(err.contains("= hint: "), "{err}");
    }
}
