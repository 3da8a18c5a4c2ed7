//! `analyze --engine athena` against moto's Athena API: the call sequence and polling (the
//! state manager holds each execution QUEUED/RUNNING for a number of polls), paging (the
//! launcher's fix (n): GetQueryResults honours MaxResults/NextToken), a query cancelled from
//! outside, an unknown workgroup, and output in the local engine's JSON schema. moto hands out
//! the results pushed to `/moto-api/static/athena/query-results` first come, first served, at
//! each execution's first GetQueryResults; analyze runs its queries one at a time in the order
//! `export athena --list` prints, so each query gets its own result.
//!
//! The state-manager transition and the results queue are global to the server, so this binary
//! runs its tests one at a time (the `SERIAL` lock).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Account, expect_exit, moto_api, workdir};
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z, a window start for every rule

fn config(account: &str) -> String {
    format!(
        "version: 1\nregions: [us-east-1]\naccounts:\n  - id: \"{account}\"\ndestinations:\n  central:\n    type: s3\n    bucket: fk-athena-logs\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [central]\n    format: default\n"
    )
}

/// The ids analyze runs, in order: `export athena --list` without the investigations.
fn analysis_ids(account: &Account, dir: &Path) -> Vec<String> {
    let out = account.run(
        dir,
        &["export", "athena", "--destination", "central", "--list"],
    );
    let (stdout, _) = expect_exit(&out, 0);
    stdout
        .lines()
        .filter(|l| l.starts_with("detect-") || l.starts_with("report-"))
        .map(str::to_string)
        .collect()
}

fn set_transition(times: u32) {
    let body = json!({
        "model_name": "athena::execution",
        "transition": {"progression": "manual", "times": times}
    });
    let status = moto_api("/moto-api/state-manager/set-transition", &body.to_string());
    assert!(
        status.contains(" 201") || status.contains(" 200"),
        "{status}"
    );
}

const DETECTION: &[&str] = &[
    "window_start",
    "src",
    "dst",
    "dst_port",
    "protocol",
    "service",
    "interface_id",
    "flows",
    "packets",
    "bytes",
    "first_seen",
    "last_seen",
    "distinct_count",
];

/// A result with a header row (as Athena's SELECT results have) and `rows`.
fn result(columns: &[&str], rows: &[Vec<Option<String>>]) -> Value {
    let datum = |v: &Option<String>| match v {
        Some(s) => json!({"VarCharValue": s}),
        None => json!({}),
    };
    let mut all = vec![
        json!({"Data": columns.iter().map(|c| json!({"VarCharValue": c})).collect::<Vec<_>>()}),
    ];
    all.extend(
        rows.iter()
            .map(|r| json!({"Data": r.iter().map(datum).collect::<Vec<_>>()})),
    );
    json!({
        "rows": all,
        "column_info": columns.iter().map(|c| json!({"Name": c, "Label": c, "Type": "varchar"})).collect::<Vec<_>>(),
    })
}

fn s(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

/// One result per query, of the right shape: a finding for admin-port-exposure and port-scan,
/// totals, `pairs` top pairs, and empty results elsewhere.
fn results_for(ids: &[String], pairs: usize) -> Vec<Value> {
    ids.iter()
        .map(|id| match id.as_str() {
            "detect-admin-port-exposure" => result(
                DETECTION,
                &[vec![
                    s(T0),
                    s("198.51.100.7"),
                    s("10.0.0.5"),
                    s(22),
                    s(6),
                    s("ssh"),
                    None,
                    s(3),
                    s(9),
                    s(1200),
                    s(T0 + 5),
                    s(T0 + 50),
                    s(3),
                ]],
            ),
            "detect-port-scan" => result(
                DETECTION,
                &[vec![
                    s(T0),
                    s("203.0.113.9"),
                    s("10.0.0.6"),
                    None,
                    None,
                    None,
                    None,
                    s(40),
                    s(40),
                    s(1600),
                    s(T0 + 1),
                    s(T0 + 30),
                    s(40),
                ]],
            ),
            "report-totals" => result(
                &[
                    "records",
                    "duplicates",
                    "accepted_flows",
                    "accepted_packets",
                    "accepted_bytes",
                    "rejected_flows",
                    "rejected_packets",
                    "rejected_bytes",
                    "no_action_flows",
                    "no_action_packets",
                    "no_action_bytes",
                    "nodata",
                    "skipdata",
                    "untimed",
                    "first_seen",
                    "last_seen",
                ],
                &[vec![
                    s(50),
                    s(4),
                    s(30),
                    s(300),
                    s(30000),
                    s(16),
                    s(16),
                    s(640),
                    s(0),
                    s(0),
                    s(0),
                    s(0),
                    s(0),
                    s(0),
                    s(T0),
                    s(T0 + 60),
                ]],
            ),
            "report-top-pairs" => result(
                &["src", "dst", "bytes"],
                &(0..pairs)
                    .map(|i| {
                        vec![
                            s(format!("10.{}.{}.1", i / 256, i % 256)),
                            s("10.200.0.1"),
                            s(1_000_000 - i),
                        ]
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => result(&["window_start"], &[]),
        })
        .collect()
}

fn push_results(account: &str, results: Vec<Value>) {
    let body = json!({"account_id": account, "region": "us-east-1", "results": results});
    let status = moto_api("/moto-api/static/athena/query-results", &body.to_string());
    assert!(status.contains(" 201"), "{status}");
}

fn analyze(account: &Account, dir: &Path, poll_ms: &str, extra: &[&str]) -> Output {
    let mut args = vec!["analyze", "--engine", "athena", "--destination", "central"];
    args.extend_from_slice(extra);
    account
        .command(dir, &account.endpoint, &args)
        .env("FLOWKEEPER_ATHENA_POLL_MS", poll_ms)
        .stdin(Stdio::null())
        .output()
        .expect("run flowkeeper")
}

/// `  Athena:Operation: N` from `-v`'s call counts.
fn calls(stderr: &str, op: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            let (name, n) = l.trim().rsplit_once(": ")?;
            name.eq_ignore_ascii_case(&format!("athena:{op}"))
                .then(|| n.parse().ok())
                .flatten()
        })
        .unwrap_or(0)
}

/// Every object key path (`summary.records`, `findings[].src`, ...) of a JSON document.
fn key_paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                out.insert(p.clone());
                key_paths(v, &p, out);
            }
        }
        Value::Array(a) => {
            for v in a {
                key_paths(v, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn queries_run_in_order_polled_until_done_and_render_the_local_schema() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    assert!(ids.len() >= 8, "{ids:?}");
    set_transition(2);
    push_results(&account.id, results_for(&ids, 3));
    let out = analyze(
        &account,
        dir.path(),
        "5",
        &["-v", "--format", "json", "--fail-on", "high"],
    );
    let (stdout, stderr) = expect_exit(&out, 2);
    let n = ids.len() as u64;
    assert_eq!(calls(&stderr, "StartQueryExecution"), n, "{stderr}");
    // QUEUED for 2 polls, RUNNING for 2, then SUCCEEDED: 5 polls per query.
    assert!(calls(&stderr, "GetQueryExecution") >= 3 * n, "{stderr}");
    assert_eq!(calls(&stderr, "GetQueryResults"), n, "{stderr}");
    assert!(
        stderr.contains(&format!("athena: {n} queries, 0 B scanned")),
        "{stderr}"
    );

    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    // The local engine's schema: findings are incidents (window findings grouped).
    assert_eq!(doc["schema_version"], 2);
    let findings = doc["findings"].as_array().unwrap();
    let by: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["detector"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [("admin-port-exposure", "high"), ("port-scan", "medium")]
    );
    assert_eq!(findings[0]["subject"]["type"], "server", "{stdout}");
    assert_eq!(findings[0]["subject"]["ip"], "10.0.0.5", "{stdout}");
    assert_eq!(findings[0]["ports"]["sample"][0], 22, "{stdout}");
    assert_eq!(findings[1]["subject"]["ip"], "203.0.113.9", "{stdout}");
    assert_eq!(findings[1]["ports"]["count"], 40, "{stdout}");
    assert_eq!(findings[1]["windows"], 1, "{stdout}");
    assert_eq!(
        findings[1]["summary"],
        "203.0.113.9 probed 40 ports of 10.0.0.6"
    );
    assert_eq!(doc["reports"]["totals"]["records"], 50);
    assert_eq!(doc["reports"]["totals"]["rejected"]["bytes"], 640);
    assert_eq!(doc["reports"]["top_pairs"].as_array().unwrap().len(), 3);
    assert_eq!(doc["reports"]["top_exact"], true);
    let athena = &doc["summary"]["athena"];
    assert_eq!(athena["queries"].as_array().unwrap().len(), ids.len());
    assert_eq!(athena["queries"][0]["id"], ids[0].as_str());
    assert!(
        athena["queries"][0]["execution_id"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert_eq!(athena["workgroup"], "primary");

    // The local engine's JSON on a file with the same kinds of findings: every key path it
    // has, the athena output has (athena only adds summary.athena).
    let file = dir.path().join("flows.log");
    let mut lines = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for p in 0..40u64 {
        lines.push_str(&format!(
            "2 {} eni-1 203.0.113.9 10.0.0.6 40000 {} 6 1 40 {} {} REJECT OK\n",
            account.id,
            1000 + p,
            T0 + p,
            T0 + p + 1
        ));
    }
    for (i, src) in ["198.51.100.7", "198.51.100.8", "198.51.100.9"]
        .iter()
        .enumerate()
    {
        lines.push_str(&format!(
            "2 {} eni-1 {src} 10.0.0.5 50000 22 6 3 400 {} {} ACCEPT OK\n",
            account.id,
            T0 + 5 + i as u64,
            T0 + 50
        ));
    }
    std::fs::write(&file, lines).unwrap();
    let local = account.run(dir.path(), &["analyze", "flows.log", "--format", "json"]);
    let (local_out, _) = expect_exit(&local, 2);
    let local: Value = serde_json::from_str(&local_out).unwrap();
    assert!(
        !local["findings"].as_array().unwrap().is_empty(),
        "{local_out}"
    );
    let (mut want, mut got) = (BTreeSet::new(), BTreeSet::new());
    key_paths(&local, "", &mut want);
    key_paths(&doc, "", &mut got);
    got.retain(|k| !k.starts_with("summary.athena"));
    // Nothing the local engine does not have...
    let extra: Vec<&String> = got.difference(&want).collect();
    assert!(extra.is_empty(), "athena's JSON adds {extra:?}");
    // ...and every fixed key it has (optional ones depend on the data).
    for object in ["", "summary", "reports", "reports.totals", "stats"] {
        let level = |set: &BTreeSet<String>| -> BTreeSet<String> {
            set.iter()
                .filter_map(|k| {
                    let rest = if object.is_empty() {
                        Some(k.as_str())
                    } else {
                        k.strip_prefix(&format!("{object}."))
                    };
                    rest.filter(|r| !r.contains('.') && !r.contains("[]"))
                        .map(str::to_string)
                })
                .collect()
        };
        assert_eq!(level(&got), level(&want), "the keys of `{object}`");
    }
}

#[tokio::test]
async fn a_large_result_is_read_in_pages_of_1000() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    set_transition(1);
    push_results(&account.id, results_for(&ids, 2500));
    let out = analyze(&account, dir.path(), "5", &["-v", "--format", "json"]);
    let (stdout, stderr) = expect_exit(&out, 2);
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let q = doc["summary"]["athena"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "report-top-pairs")
        .expect("report-top-pairs ran")
        .clone();
    // 2,501 rows with the header: 1000 + 1000 + 501.
    assert_eq!(q["pages"], 3, "{q}");
    assert_eq!(q["rows"], 2500, "{q}");
    assert_eq!(doc["reports"]["top_pairs"].as_array().unwrap().len(), 2500);
    assert_eq!(doc["reports"]["top_pairs"][0]["src"], "10.0.0.1");
    assert_eq!(doc["reports"]["top_pairs"][2499]["src"], "10.9.195.1");
    assert_eq!(
        calls(&stderr, "GetQueryResults"),
        ids.len() as u64 + 2,
        "{stderr}"
    );
}

#[tokio::test]
async fn a_query_cancelled_from_outside_fails_the_run_naming_it() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    // Held QUEUED far longer than the test runs.
    set_transition(1000);
    push_results(&account.id, results_for(&ids, 3));
    let child = account
        .command(
            dir.path(),
            &account.endpoint,
            &[
                "analyze",
                "--engine",
                "athena",
                "--destination",
                "central",
                "--format",
                "json",
                // The bound on this run, should the stop never arrive.
                "--query-timeout",
                "30s",
            ],
        )
        .env("FLOWKEEPER_ATHENA_POLL_MS", "50")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowkeeper");
    let athena = aws_sdk_athena::Client::new(&account.config("us-east-1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let id = loop {
        let listed = athena
            .list_query_executions()
            .work_group("primary")
            .send()
            .await
            .expect("ListQueryExecutions");
        if let Some(id) = listed.query_execution_ids().first() {
            break id.clone();
        }
        assert!(
            Instant::now() < deadline,
            "analyze started no query within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    athena
        .stop_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .expect("StopQueryExecution");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("wait");
    let (stdout, stderr) = expect_exit(&out, 1);
    assert!(stdout.is_empty(), "nothing is rendered: {stdout}");
    assert!(
        stderr.contains(&format!(
            "athena query `{}` (execution {id}) CANCELLED",
            ids[0]
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_unknown_workgroup_is_an_error_naming_the_query() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    let out = analyze(&account, dir.path(), "5", &["--workgroup", "no-such-group"]);
    let (stdout, stderr) = expect_exit(&out, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!("athena query `{}`", ids[0]))
            && stderr.contains("WorkGroup does not exist"),
        "{stderr}"
    );
}

#[tokio::test]
async fn local_only_flags_are_usage_errors_with_athena_and_athena_flags_without_it() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let out = analyze(&account, dir.path(), "5", &["flows.log", "--strict"]);
    let (_, stderr) = expect_exit(&out, 1);
    assert!(
        stderr.contains("inputs, --strict cannot be used with --engine athena"),
        "{stderr}"
    );
    let out = account.run(dir.path(), &["analyze", "flows.log", "--workgroup", "w"]);
    let (_, stderr) = expect_exit(&out, 1);
    assert!(
        stderr.contains("--workgroup only apply with --engine athena"),
        "{stderr}"
    );
}

#[tokio::test]
async fn since_until_database_and_output_location_reach_every_query() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    set_transition(1);
    push_results(&account.id, results_for(&ids, 3));
    let out = analyze(
        &account,
        dir.path(),
        "5",
        &[
            "--database",
            "flowdb",
            "--output-location",
            "s3://fk-results/athena/",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-03T00:00:00Z",
            "--format",
            "json",
        ],
    );
    expect_exit(&out, 2);
    let athena = aws_sdk_athena::Client::new(&account.config("us-east-1"));
    let listed = athena
        .list_query_executions()
        .work_group("primary")
        .send()
        .await
        .expect("ListQueryExecutions");
    assert_eq!(listed.query_execution_ids().len(), ids.len());
    for id in listed.query_execution_ids() {
        let got = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .expect("GetQueryExecution");
        let exec = got.query_execution().expect("execution");
        let sql = exec.query().unwrap_or_default();
        let context = exec.query_execution_context().expect("context");
        assert_eq!(context.database(), Some("flowdb"));
        assert_eq!(context.catalog(), Some("AwsDataCatalog"));
        assert!(
            exec.result_configuration()
                .and_then(|r| r.output_location())
                .is_some_and(|o| o.starts_with("s3://fk-results/athena/")),
            "{exec:?}"
        );
        // The projected day partition bounds the scan, and the records' own times the rows.
        assert!(sql.contains("\"day\" >= '2026/11/0"), "{sql}");
        assert!(sql.contains("\"day\" <= '2026/11/0"), "{sql}");
        assert!(sql.contains(">= 1793577600"), "{sql}");
        assert!(sql.contains("<= 1793664000"), "{sql}");
        assert!(sql.contains("\"flowdb\".\""), "{sql}");
    }
}

#[tokio::test]
async fn text_and_html_go_through_the_local_renderers() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let dir = workdir(&config(&account.id));
    let ids = analysis_ids(&account, dir.path());
    set_transition(1);
    push_results(&account.id, results_for(&ids, 3));
    let out = analyze(&account, dir.path(), "5", &["--fail-on", "critical"]);
    let (stdout, stderr) = expect_exit(&out, 0);
    // The table wraps long summaries: look for the cells.
    for cell in [
        "admin-port-exposure",
        "port-scan",
        "203.0.113.9",
        "10.0.0.6, ≥40 ports",
        "1.6 KiB",
    ] {
        assert!(stdout.contains(cell), "{cell} in\n{stdout}");
    }
    assert!(stderr.contains("scanned"), "{stderr}");
    push_results(&account.id, results_for(&ids, 3));
    let out = analyze(
        &account,
        dir.path(),
        "5",
        &["--format", "html", "-o", "report.html"],
    );
    let (stdout, _) = expect_exit(&out, 2);
    assert!(stdout.is_empty(), "{stdout}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report written");
    assert!(
        html.contains("admin-port-exposure"),
        "the finding is in the report"
    );
}

#[tokio::test]
async fn flow_log_resolves_the_table_of_its_destination_in_the_config() {
    let _serial = SERIAL.lock().await;
    let account = Account::new().await;
    let bucket = format!("fk-athena-{}", account.id);
    let config = format!(
        "version: 1\nregions: [us-east-1]\naccounts:\n  - id: \"{}\"\ndestinations:\n  other:\n    type: s3\n    bucket: fk-athena-other\n  archive:\n    type: s3\n    bucket: {bucket}\n    prefix: central\nflow_logs:\n  - name: vpcs\n    resource: vpc\n    select: all\n    destinations: [other, archive]\n    format: default\n",
        account.id
    );
    let dir = workdir(&config);
    account
        .s3("us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let (vpc, _) = account.seed_vpc("us-east-1", 41, &[]).await;
    let create = |destination: String| {
        let ec2 = account.ec2("us-east-1");
        let vpc = vpc.clone();
        async move {
            ec2.create_flow_logs()
                .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
                .resource_ids(vpc)
                .traffic_type(aws_sdk_ec2::types::TrafficType::All)
                .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
                .log_destination(destination)
                .send()
                .await
                .expect("create flow log")
                .flow_log_ids()[0]
                .clone()
        }
    };
    let flow_log = create(format!("arn:aws:s3:::{bucket}/central/")).await;
    set_transition(1);
    let ids = {
        let out = account.run(
            dir.path(),
            &["export", "athena", "--destination", "archive", "--list"],
        );
        let (stdout, _) = expect_exit(&out, 0);
        stdout
            .lines()
            .filter(|l| l.starts_with("detect-") || l.starts_with("report-"))
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    // Rows of the right shape for every query (an empty totals result is an error).
    push_results(&account.id, results_for(&ids, 3));
    let ids = ids.len();
    let out = account
        .command(
            dir.path(),
            &account.endpoint,
            &[
                "analyze",
                "--engine",
                "athena",
                "--flow-log",
                &flow_log,
                "--format",
                "json",
            ],
        )
        .env("FLOWKEEPER_ATHENA_POLL_MS", "5")
        .stdin(Stdio::null())
        .output()
        .expect("run flowkeeper");
    expect_exit(&out, 2);
    let athena = aws_sdk_athena::Client::new(&account.config("us-east-1"));
    let listed = athena
        .list_query_executions()
        .work_group("primary")
        .send()
        .await
        .expect("ListQueryExecutions");
    assert_eq!(listed.query_execution_ids().len(), ids);
    let got = athena
        .get_query_execution()
        .query_execution_id(&listed.query_execution_ids()[0])
        .send()
        .await
        .expect("GetQueryExecution");
    let sql = got
        .query_execution()
        .and_then(|e| e.query())
        .unwrap_or_default();
    assert!(
        sql.contains("\"flowkeeper\".\"flowkeeper_archive\""),
        "{sql}"
    );

    // A flow log to a bucket the config does not describe: named, exit 1, no query.
    let stray = format!("fk-stray-{}", account.id);
    account
        .s3("us-east-1")
        .create_bucket()
        .bucket(&stray)
        .send()
        .await
        .expect("create bucket");
    let stray_log = create(format!("arn:aws:s3:::{stray}")).await;
    let out = account
        .command(
            dir.path(),
            &account.endpoint,
            &["analyze", "--engine", "athena", "--flow-log", &stray_log],
        )
        .stdin(Stdio::null())
        .output()
        .expect("run flowkeeper");
    let (_, stderr) = expect_exit(&out, 1);
    assert!(
        stderr.contains(&format!("{stray_log} delivers to arn:aws:s3:::{stray}")),
        "{stderr}"
    );
}
