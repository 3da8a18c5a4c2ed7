//! Replacing a flow log under moto's own FlowLogAlreadyExists rule (one flow log per resource
//! and destination), which this binary's server keeps instead of the launcher's correction (c).
//! AWS's message "an existing Flow Log with the same configuration and log destination" may mean
//! the same, so a replace must never delete the old flow log before the new one is confirmed.

mod support;

use support::{Account, FlowLogConflicts, expect_exit, use_flow_log_conflicts, workdir};

fn config(vpc: &str, format: &str) -> String {
    format!(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  rt:\n    type: cloudwatch-logs\n    log_group: /fk/stock\n    delivery_role: fk-stock-delivery\nflow_logs:\n  - name: v\n    resource: vpc\n    select: {{ ids: [{vpc}] }}\n    destinations: [rt]\n    format: {format}\n"
    )
}

async fn setup() -> (Account, String, tempfile::TempDir, String) {
    use_flow_log_conflicts(FlowLogConflicts::Stock);
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 7, &[]).await;
    let dir = workdir(&config(&vpc, "all"));
    expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 0);
    let first = acct.flow_logs("us-east-1").await;
    assert_eq!(first.len(), 1, "{first:?}");
    let old = first[0].flow_log_id().unwrap().to_string();
    std::fs::write(dir.path().join("flowkeeper.yaml"), config(&vpc, "default")).unwrap();
    (acct, vpc, dir, old)
}

#[tokio::test]
async fn a_replace_refused_because_of_the_old_flow_log_deletes_nothing() {
    let (acct, vpc, dir, old) = setup().await;
    let (_, err) = expect_exit(&acct.run(dir.path(), &["apply", "--yes"]), 1);
    assert!(err.contains("FlowLogAlreadyExists"), "{err}");
    assert!(err.contains(&format!("{old} was kept")), "{err}");
    assert!(
        err.contains("--allow-logging-gap"),
        "the hint names the opt-in: {err}"
    );
    let after = acct.flow_logs("us-east-1").await;
    let ids: Vec<&str> = after.iter().filter_map(|f| f.flow_log_id()).collect();
    assert_eq!(ids, [old.as_str()], "the VPC keeps its flow log");
    assert_eq!(after[0].resource_id(), Some(vpc.as_str()));
    // Nothing changed, so the same replace is still pending.
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan"]), 2);
    assert!(out.contains("1 to replace"), "{out}");
}

#[tokio::test]
async fn allow_logging_gap_replaces_delete_first_and_says_so_in_the_plan() {
    let (acct, _vpc, dir, old) = setup().await;
    let (out, _) = expect_exit(&acct.run(dir.path(), &["plan", "--allow-logging-gap"]), 2);
    assert!(
        out.contains("the old one is deleted before the new one is created (--allow-logging-gap)"),
        "{out}"
    );
    assert!(
        out.contains("is not logged by this entry between the two calls"),
        "{out}"
    );
    expect_exit(
        &acct.run(dir.path(), &["apply", "--yes", "--allow-logging-gap"]),
        0,
    );
    let after = acct.flow_logs("us-east-1").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0].flow_log_id(), Some(old.as_str()));
    assert!(
        after[0]
            .log_format()
            .is_some_and(|f| !f.contains("${vpc-id}")),
        "the new flow log has the default format: {:?}",
        after[0].log_format()
    );
    expect_exit(&acct.run(dir.path(), &["plan"]), 0);
}
