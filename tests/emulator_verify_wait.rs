//! `flowkeeper verify --wait`: returns as soon as delivery appears, and times out with exit 2
//! when nothing arrives. The test synchronises on verify's own progress line (it has polled
//! once), then delivers; no sleeps. `FLOWKEEPER_VERIFY_POLL_MS` makes the polls short.

mod support;

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use support::deliver::{self, S3Object};
use support::running::Running;
use support::verify::*;
use support::{expect_exit, workdir};

/// The progress line verify prints after each read of every flow log's ladder.
const POLLED: &str = "verify: poll ";

#[tokio::test]
async fn wait_returns_as_soon_as_delivery_appears() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    // Created five minutes ago: inside the first delivery window (waiting, not failing), and
    // before the delivery the test makes.
    created_minutes_ago(&net.acct, 5).await;
    let fl = only_flow_log(&net.acct).await;
    let started = Instant::now();
    let mut cmd = net.acct.command(
        dir.path(),
        &net.acct.endpoint,
        &["verify", "--wait", "60s", "--format", "json"],
    );
    cmd.env("FLOWKEEPER_VERIFY_POLL_MS", "200");
    let run = Running::spawn(cmd);
    // Verify has looked once and found nothing yet (the flow log is waiting).
    run.wait_for_stderr(POLLED, Duration::from_secs(60));
    let o = S3Object::for_flow_log(
        &fl,
        &net.acct.id,
        REGION,
        &net.eni,
        Timestamp::now() - SignedDuration::from_mins(1),
    );
    deliver::deliver_s3(&net.acct, &o).await;
    let out = run.finish(Duration::from_secs(90));
    let (stdout, stderr) = expect_exit(&out, 0);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(45),
        "returned well before the 60 s deadline, took {elapsed:?}\n{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_delivering(flow_log(&report, fl.flow_log_id().unwrap()));
    assert!(
        stderr.matches(POLLED).count() >= 1,
        "progress on stderr: {stderr}"
    );
}

#[tokio::test]
async fn wait_times_out_with_exit_2_when_nothing_arrives() {
    let net = Net::new().await;
    let dir = workdir(&s3_config(&net.vpc, ""));
    apply(&net.acct, dir.path());
    let fl = only_flow_log(&net.acct).await;
    let mut cmd = net.acct.command(
        dir.path(),
        &net.acct.endpoint,
        &["verify", "--wait", "3s", "--format", "json"],
    );
    cmd.env("FLOWKEEPER_VERIFY_POLL_MS", "200");
    let started = Instant::now();
    let out = Running::spawn(cmd).finish(Duration::from_secs(60));
    let (stdout, stderr) = expect_exit(&out, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited until the deadline: {stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let item = flow_log(&report, fl.flow_log_id().unwrap());
    assert_eq!(item["status"], "waiting", "{item:#}");
    assert!(
        stderr.matches(POLLED).count() >= 2,
        "it polled more than once: {stderr}"
    );
}
