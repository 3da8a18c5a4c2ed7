//! Saved plans (`plan --out`, `apply PLANFILE`) and run filters that select nothing, end to end
//! against moto.

mod support;

use support::{Account, expect_exit, workdir};

fn config(format: &str) -> String {
    format!(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/saved\n    delivery_role: fk-saved-delivery\nflow_logs:\n  - name: v\n    resource: vpc\n    select: all\n    destinations: [rt]\n    format: {format}\n"
    )
}

#[tokio::test]
async fn a_saved_plan_is_applied_exactly_without_asking_and_from_its_own_config() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 11, &[]).await;
    let dir = workdir(&config("all"));
    let (out, err) = expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 2);
    assert!(out.contains("+ flow-log"), "{out}");
    assert!(err.contains("Saved the plan to p.json"), "{err}");
    // The config changes after review: the reviewed plan is what gets applied.
    std::fs::write(dir.path().join("flowkeeper.yaml"), config("default")).unwrap();
    // stdin is not a terminal and there is no --yes: a saved plan needs no confirmation.
    expect_exit(&acct.run(dir.path(), &["apply", "p.json"]), 0);
    let fls = acct.flow_logs("us-east-1").await;
    let mine: Vec<_> = fls
        .iter()
        .filter(|f| f.resource_id() == Some(vpc.as_str()))
        .collect();
    assert_eq!(mine.len(), 1, "{fls:?}");
    assert!(
        mine[0]
            .log_format()
            .is_some_and(|f| f.contains("${vpc-id}")),
        "the saved config's format (all), not today's file: {:?}",
        mine[0].log_format()
    );
    // Applying the same file again: its inventory is gone, so it is stale now.
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply", "p.json"]), 1);
    assert!(err.contains("is stale"), "{err}");
}

#[tokio::test]
async fn a_stale_plan_is_refused_with_what_changed_and_nothing_is_applied() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 12, &[]).await;
    let dir = workdir(&config("all"));
    expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 2);
    let (late, _) = acct.seed_vpc("us-east-1", 13, &[]).await;
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply", "p.json"]), 1);
    assert!(err.contains("is stale"), "{err}");
    assert!(err.contains(&format!("us-east-1 vpc {late}: new")), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert!(acct.flow_logs("us-east-1").await.is_empty());
}

#[tokio::test]
async fn plan_files_are_checked_before_anything_is_done() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 14, &[]).await;
    let dir = workdir(&config("all"));
    // Never written over the config.
    let (_, err) = expect_exit(
        &acct.run(dir.path(), &["plan", "--out", "./flowkeeper.yaml"]),
        1,
    );
    assert!(
        err.contains("same file as the input flowkeeper.yaml"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("flowkeeper.yaml"))
            .unwrap()
            .contains("flow_logs")
    );
    expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 2);
    // Options and filters come from the file.
    let (_, err) = expect_exit(
        &acct.run(dir.path(), &["apply", "p.json", "--regions", "us-east-1"]),
        1,
    );
    assert!(err.contains("carries its own"), "{err}");
    // An edited plan is refused.
    let text = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
    let edited = text.replacen("\"inventory_digest\": \"", "\"inventory_digest\": \"0", 1);
    std::fs::write(dir.path().join("edited.json"), edited).unwrap();
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply", "edited.json"]), 1);
    assert!(err.contains("the file was edited"), "{err}");
    std::fs::write(dir.path().join("junk.json"), "not json").unwrap();
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply", "junk.json"]), 1);
    assert!(err.contains("not a flowkeeper plan file"), "{err}");
    assert!(acct.flow_logs("us-east-1").await.is_empty());
}

#[tokio::test]
async fn filters_that_select_nothing_are_errors() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 15, &[]).await;
    let dir = workdir(&config("all"));
    let (out, err) = expect_exit(
        &acct.run(dir.path(), &["plan", "--regions", "ap-south-1"]),
        1,
    );
    assert!(err.contains("--regions ap-south-1"), "{err}");
    assert!(err.contains("configured: us-east-1"), "{err}");
    assert!(!out.contains("No changes"), "{out}");
    let (_, err) = expect_exit(
        &acct.run(
            dir.path(),
            &["apply", "--yes", "--accounts", "999999999999"],
        ),
        1,
    );
    assert!(err.contains("--accounts 999999999999"), "{err}");
    assert!(acct.flow_logs("us-east-1").await.is_empty());
    // A filter that selects something still works.
    expect_exit(
        &acct.run(
            dir.path(),
            &["plan", "--regions", "us-east-1", "--accounts", &acct.id],
        ),
        2,
    );
}

#[tokio::test]
async fn plan_out_never_replaces_a_device_and_a_failed_plan_removes_its_stale_file() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 16, &[]).await;
    let dir = workdir(&config("all"));
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null.json")).unwrap();
    // Written in place: the device is never replaced by a regular file.
    expect_exit(&acct.run(dir.path(), &["plan", "--out", "null.json"]), 2);
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
    assert!(
        std::fs::symlink_metadata(dir.path().join("null.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A good plan, then a run that fails: the old file must not be left for `apply` to find.
    expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 2);
    let broken = config("all").replace(
        "  rt:\n",
        "  gone:\n    type: s3\n    bucket: fk-missing-{account_id}\n    create: false\n  rt:\n",
    ).replace("destinations: [rt]", "destinations: [rt, gone]");
    std::fs::write(dir.path().join("flowkeeper.yaml"), broken).unwrap();
    let (out, err) = expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 1);
    assert!(err.contains("no plan file written"), "{err}");
    assert!(
        !dir.path().join("p.json").exists(),
        "the stale plan is gone"
    );
    assert!(
        !out.contains("matches the config"),
        "no false all-good: {out}"
    );
    // A saved plan never reads another config.
    std::fs::write(dir.path().join("flowkeeper.yaml"), config("all")).unwrap();
    expect_exit(&acct.run(dir.path(), &["plan", "--out", "p.json"]), 2);
    let (_, err) = expect_exit(
        &acct.run(dir.path(), &["-c", "other.yaml", "apply", "p.json"]),
        1,
    );
    assert!(
        err.contains("carries the config it was planned from"),
        "{err}"
    );
}
