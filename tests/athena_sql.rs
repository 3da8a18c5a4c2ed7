//! Athena DDL and queries: the DDL goldens for the four S3 layouts and Parquet (built from
//! tests/fixtures/athena/config.yaml), the refusals, and sqlglot (tests/support/pytools/
//! sql_check.py) parsing every DDL as a `Create` with the Athena dialect and every query with
//! Athena and Trino. `UPDATE_GOLDEN=1` rewrites the goldens after an intended change.

use std::path::{Path, PathBuf};
use std::process::Command;

use flowkeeper::export::athena::queries::{analysis_queries, investigation_queries};
use flowkeeper::export::athena::sql::TimeRange;
use flowkeeper::export::athena::{AccountProjection, SpecOptions, TableSpec, ddl, table_specs};
use flowkeeper_analyze::{PackSource, RulePack};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn desired() -> flowkeeper::model::DesiredState {
    let path = root().join("tests/fixtures/athena/config.yaml");
    flowkeeper::config::load(&path).unwrap_or_else(|d| panic!("{d}"))
}

fn spec(dest: &str) -> TableSpec {
    let mut specs =
        table_specs(&desired(), dest, &SpecOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(specs.len(), 1, "{dest}");
    specs.remove(0)
}

const GOLDEN_DESTINATIONS: [&str; 5] = [
    "plain",
    "plain-hourly",
    "hive",
    "hive-hourly",
    "parquet-hive-hourly",
];

fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden/athena").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual,
        want,
        "{} changed; rerun with UPDATE_GOLDEN=1 if intended",
        path.display()
    );
}

#[test]
fn ddl_goldens_for_the_four_layouts_and_parquet() {
    for dest in GOLDEN_DESTINATIONS {
        golden(&format!("ddl-{dest}.sql"), &ddl::create_table(&spec(dest)));
    }
}

#[test]
fn ddl_follows_the_destination_layout_and_format() {
    let plain = ddl::create_table(&spec("plain"));
    assert!(plain.contains("'skip.header.line.count' = '1'"));
    assert!(
        plain.contains("'projection.day.range' = 'NOW-400DAYS,NOW'"),
        "{plain}"
    );
    assert!(plain.contains(
        "'storage.location.template' = 's3://fk-plain/AWSLogs/${aws_account}/vpcflowlogs/${aws_region}/${day}'"
    ));
    assert!(plain.contains("'projection.aws_account.values' = '111111111111,222222222222'"));
    let parquet = ddl::create_table(&spec("parquet-hive-hourly"));
    assert!(parquet.contains("ParquetHiveSerDe"));
    assert!(!parquet.contains("skip.header"));
    // Parquet: the union of both entries' fields, in catalogue order.
    let s = spec("parquet-hive-hourly");
    let names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        &names[..4],
        ["version", "account_id", "interface_id", "srcaddr"]
    );
    assert!(names.contains(&"vpc_id") && names.contains(&"tcp_flags"));
    assert!(parquet.contains(
        "s3://fk-parquet/org/flows/AWSLogs/aws-account-id=${aws_account}/aws-service=vpcflowlogs/aws-region=${aws_region}/year=${year}/month=${month}/day=${day}/hour=${hour}"
    ));
    // Text columns are the format's, in order, typed from the field catalogue.
    let p = spec("plain");
    let cols: Vec<(&str, &str)> = p.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
    assert_eq!(cols[0], ("version", "int"));
    assert_eq!(cols[3], ("srcaddr", "string"));
    assert_eq!(cols[9], ("bytes", "bigint"));
    assert_eq!(cols.len(), 14);
}

#[test]
fn bad_destinations_are_refused_with_the_key_named() {
    let d = desired();
    let err = table_specs(&d, "realtime", &SpecOptions::default()).unwrap_err();
    assert!(
        err.message
            .contains("destinations.realtime is a CloudWatch Logs destination"),
        "{err}"
    );
    let err = table_specs(&d, "nope", &SpecOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no destination `nope`"), "{err}");
    // One text table per format: two entries with different formats into one text destination.
    let mut two = d.clone();
    for e in &mut two.flow_logs {
        e.destinations = vec!["plain".into()];
    }
    let err = table_specs(&two, "plain", &SpecOptions::default()).unwrap_err();
    assert!(err.message.contains("different log formats"), "{err}");
    let ok = table_specs(
        &two,
        "plain",
        &SpecOptions {
            entry: Some("vpcs".into()),
            ..SpecOptions::default()
        },
    );
    assert!(ok.is_ok());
}

#[test]
fn a_bucket_per_account_gives_a_table_per_account() {
    let specs = table_specs(&desired(), "per-account", &SpecOptions::default()).unwrap();
    let got: Vec<(&str, &str)> = specs
        .iter()
        .map(|s| (s.bucket.as_str(), s.table.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "fk-logs-111111111111",
                "flowkeeper_per_account_111111111111"
            ),
            (
                "fk-logs-222222222222",
                "flowkeeper_per_account_222222222222"
            )
        ]
    );
    assert_eq!(
        specs[0].accounts,
        AccountProjection::Enum(vec!["111111111111".into()])
    );
}

fn python() -> String {
    let status = Command::new(root().join("scripts/ensure-pytools"))
        .status()
        .expect("scripts/ensure-pytools runs");
    assert!(status.success(), "scripts/ensure-pytools failed");
    "python3".into()
}

fn sql_check(kind: &str, files: &[PathBuf]) {
    let out = Command::new(python())
        .arg(root().join("tests/support/pytools/sql_check.py"))
        .arg(kind)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "sqlglot rejected {kind}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_all(dir: &Path, items: &[(String, String)]) -> Vec<PathBuf> {
    items
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect()
}

/// The packs every query is rendered from: the default pack, and one with internal blocks,
/// allow-lists, another scope and dedupe off (so both branches of every template parse).
fn packs() -> Vec<RulePack> {
    let layered = "version: 1\nsettings: {dedupe: false, initiator_unknown: ports}\nnetworks: {internal: [198.18.0.0/15]}\nzones:\n  - {name: web, cidrs: [10.0.1.0/24], accept_from: [{from: internet, ports: [443]}]}\n  - {name: db, cidrs: [10.0.3.0/24], subnets: [subnet-0123456789abcdef0], vpcs: [vpc-0abc], accept_from: [{from: web, services: [postgres]}, {from: any, protocol: icmp}]}\ndetectors:\n  - {id: reject-burst, detector: reject_burst, severity: low, window: 5m, min_rejects: 3, sources: external, allow_sources: [203.0.113.0/24]}\n  - {id: port-scan, detector: port_scan, severity: low, window: 5m, min_ports: 3, probes_only: false, sources: internal}\n  - {id: lateral-movement, detector: lateral_movement, severity: high, window: 10m, services: [ssh], min_hosts: 4, include_rejected: false, allow_sources: [10.9.0.0/16]}\n  - {id: exfiltration, detector: exfiltration, severity: high, window: 1h, min_bytes: 5MB, exclude_aws_services: false}\n";
    vec![
        RulePack::default_pack(),
        RulePack::from_yaml_layers(&[
            PackSource {
                name: "default",
                text: flowkeeper_analyze::DEFAULT_PACK_YAML,
            },
            PackSource {
                name: "layer",
                text: layered,
            },
        ])
        .unwrap_or_else(|e| panic!("{e:?}")),
    ]
}

fn rendered_queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let ranges = [
        TimeRange::default(),
        TimeRange {
            since: Some(1_772_841_600),
            until: Some(1_772_928_000),
        },
    ];
    for (p, pack) in packs().iter().enumerate() {
        for dest in ["plain", "hive-hourly", "parquet-hive-hourly"] {
            let s = spec(dest);
            for (r, range) in ranges.iter().enumerate() {
                let a = analysis_queries(pack, &s, *range, None).unwrap();
                let i = investigation_queries(pack, &s, *range, None).unwrap();
                for q in a.queries.iter().chain(&i) {
                    out.push((format!("{p}-{dest}-{r}-{}.sql", q.id), q.sql.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn sqlglot_parses_every_ddl_as_an_athena_create() {
    let dir = tempfile::tempdir().unwrap();
    let mut items: Vec<(String, String)> = GOLDEN_DESTINATIONS
        .iter()
        .map(|d| (format!("{d}.sql"), ddl::create_table(&spec(d))))
        .collect();
    let injected = TableSpec {
        accounts: AccountProjection::Injected,
        ..spec("hive")
    };
    items.push(("injected.sql".into(), ddl::create_table(&injected)));
    sql_check("ddl", &write_all(dir.path(), &items));
}

#[test]
fn sqlglot_parses_every_query_with_athena_and_trino() {
    let dir = tempfile::tempdir().unwrap();
    let items = rendered_queries();
    assert!(items.len() > 50, "{}", items.len());
    sql_check("query", &write_all(dir.path(), &items));
}

#[test]
fn queries_follow_the_portability_rules() {
    for (name, sql) in rendered_queries() {
        for banned in ["IPADDRESS", "regexp_extract", "contains("] {
            assert!(!sql.contains(banned), "{name} uses {banned}");
        }
        // No division at all: Trino truncates integers, DuckDB divides as float.
        let code: String = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let stripped = code.replace("'s3://", "").replace("/'", "");
        let no_strings: String = strip_strings(&stripped);
        assert!(!no_strings.contains('/'), "{name} divides:\n{sql}");
        for word in ["end", "day", "hour", "year", "month"] {
            for bad in [
                format!(" {word} "),
                format!("({word},"),
                format!(" {word},"),
            ] {
                assert!(!no_strings.contains(&bad), "{name}: unquoted {word}");
            }
        }
    }
}

fn strip_strings(s: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    for c in s.chars() {
        if c == '\'' {
            in_str = !in_str;
            continue;
        }
        if !in_str {
            out.push(c);
        }
    }
    out
}

#[test]
fn thresholds_come_from_the_pack() {
    let s = spec("plain");
    let packs = packs();
    let q = analysis_queries(&packs[1], &s, TimeRange::default(), None).unwrap();
    let burst = q
        .queries
        .iter()
        .find(|q| q.id == "detect-reject-burst")
        .unwrap();
    assert!(burst.sql.contains("HAVING count(*) >= 3"), "{}", burst.sql);
    assert!(burst.sql.contains("AND NOT src_int"));
    assert!(
        burst
            .sql
            .contains("src_v4 BETWEEN 3405803776 AND 3405804031")
    );
    assert!(burst.sql.contains("false AS is_dup"), "dedupe off");
    let d = analysis_queries(&packs[0], &s, TimeRange::default(), None).unwrap();
    let scan = d
        .queries
        .iter()
        .find(|q| q.id == "detect-port-scan")
        .unwrap();
    assert!(scan.sql.contains(">= 25") && scan.sql.contains("t - t % 300"));
    assert!(scan.sql.contains("packets <= 3 AND bytes <= 300"));
    // Every detector of the default pack has SQL now.
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    let sql_of = |q: &flowkeeper::export::athena::queries::Rendered, id: &str| {
        q.queries
            .iter()
            .find(|q| q.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .sql
            .clone()
    };
    let exfil = sql_of(&d, "detect-exfiltration");
    assert!(exfil.contains("HAVING sum(bytes) >= 1073741824"), "{exfil}");
    assert!(exfil.contains("coalesce(pkt_dst_aws_service, '') NOT IN ('S3', 'DYNAMODB')"));
    assert!(exfil.contains("coalesce(initiator, 'src') <> 'dst'"));
    let lateral = sql_of(&d, "detect-lateral-movement");
    assert!(lateral.contains("HAVING count(DISTINCT server) >= 10"));
    assert!(lateral.contains("t - t % 600"));
    assert!(lateral.contains("OR action = 'REJECT'"), "include_rejected");
    assert!(lateral.contains("server_port = 22") && lateral.contains("server_port = 445"));
    let insecure = sql_of(&d, "detect-insecure-protocol");
    assert!(insecure.contains("server_port = 23") && insecure.contains("client_int <> server_int"));
    // Unknown initiators are skipped by default, taken as the source with `ports`.
    assert!(insecure.contains("coalesce(initiator, CAST(NULL AS VARCHAR)) AS side"));
    let zones = sql_of(&d, "detect-trust-zone-violation");
    assert!(
        zones.contains("AND NOT true"),
        "no zones: nothing to report\n{zones}"
    );
    let l = &q;
    let lateral = sql_of(l, "detect-lateral-movement");
    assert!(lateral.contains(">= 4") && !lateral.contains("OR action = 'REJECT'"));
    assert!(
        lateral.contains("client_v4 BETWEEN 168361984 AND 168427519"),
        "{lateral}"
    );
    assert!(lateral.contains("coalesce(initiator, 'src') AS side"));
    let exfil = sql_of(l, "detect-exfiltration");
    assert!(exfil.contains(">= 5000000") && !exfil.contains("NOT IN ('S3', 'DYNAMODB')"));
    let zones = sql_of(l, "detect-trust-zone-violation");
    for part in [
        "WHEN server_zone = 'web' THEN coalesce(client_zone = server_zone OR (client_zone = 'internet' AND (server_port BETWEEN 443 AND 443)), false)",
        "(client_zone = 'web' AND protocol = 6 AND (server_port BETWEEN 5432 AND 5432))",
        "OR (protocol = 1)",
        "(flow_direction = 'ingress' AND subnet_id IN ('subnet-0123456789abcdef0'))",
        "(flow_direction = 'egress' AND vpc_id IN ('vpc-0abc'))",
        "WHEN dst_int THEN 'unzoned' ELSE 'internet' END",
    ] {
        assert!(zones.contains(part), "{part}\n{zones}");
    }
    let i = investigation_queries(&packs[1], &s, TimeRange::default(), None).unwrap();
    let between = i.iter().find(|q| q.id == "between-zones").unwrap();
    assert!(
        between
            .sql
            .contains("src_zone = zone_a AND dst_zone = zone_b")
    );
    assert!(between.sql.contains("THEN 'db'"), "{}", between.sql);
}

/// Zones with IPv6 blocks have no SQL: the trust-zone detection is listed as skipped, naming
/// the key, and the rest is rendered.
#[test]
fn ipv6_zones_skip_the_trust_zone_query_by_name() {
    let layer = "version: 1\nzones:\n  - {name: v6, cidrs: [\"2001:db8::/32\"], accept_from: [{from: internet, ports: [443]}]}\n";
    let pack = RulePack::from_yaml_layers(&[
        PackSource {
            name: "default",
            text: flowkeeper_analyze::DEFAULT_PACK_YAML,
        },
        PackSource {
            name: "layer",
            text: layer,
        },
    ])
    .unwrap_or_else(|e| panic!("{e:?}"));
    let q = analysis_queries(&pack, &spec("plain"), TimeRange::default(), None).unwrap();
    assert_eq!(q.skipped.len(), 1, "{:?}", q.skipped);
    assert_eq!(q.skipped[0].0, "trust-zone-violation");
    assert!(
        q.skipped[0].1.contains("zones.v6.cidrs"),
        "{}",
        q.skipped[0].1
    );
    assert!(q.queries.iter().any(|q| q.id == "detect-exfiltration"));
}

#[test]
fn injected_accounts_need_the_account_list() {
    let s = TableSpec {
        accounts: AccountProjection::Injected,
        ..spec("plain")
    };
    let pack = RulePack::default_pack();
    assert!(analysis_queries(&pack, &s, TimeRange::default(), None).is_err());
    let accounts = ["111111111111".to_string()];
    let q = analysis_queries(&pack, &s, TimeRange::default(), Some(&accounts)).unwrap();
    assert!(
        q.queries[0]
            .sql
            .contains("\"aws_account\" IN ('111111111111')")
    );
}

fn flowkeeper(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .arg("-c")
        .arg(root().join("tests/fixtures/athena/config.yaml"))
        .args(args)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .expect("flowkeeper runs")
}

#[test]
fn cli_writes_the_ddl_of_a_destination() {
    let out = flowkeeper(&["export", "athena", "--destination", "hive-hourly"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want =
        std::fs::read_to_string(root().join("tests/golden/athena/ddl-hive-hourly.sql")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.sql");
    let out = flowkeeper(&[
        "export",
        "athena",
        "--destination",
        "plain",
        "--database",
        "logs",
        "--table",
        "vpc",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `logs`.`vpc` ("),
        "{text}"
    );
}

#[test]
fn cli_refuses_cloudwatch_and_unknown_destinations() {
    let out = flowkeeper(&["export", "athena", "--destination", "realtime"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.yaml: destinations.realtime is a CloudWatch Logs destination"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(out.stdout.is_empty());
    let out = flowkeeper(&["export", "athena", "--destination", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let out = flowkeeper(&["export", "athena", "--destination", "plain", "--queries"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o DIR"));
    let out = flowkeeper(&[
        "export",
        "athena",
        "--destination",
        "plain",
        "--since",
        "yesterday",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since `yesterday`"));
}

#[test]
fn cli_lists_and_writes_the_queries() {
    let out = flowkeeper(&["export", "athena", "--destination", "plain", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids[0], "detect-admin-port-exposure");
    assert!(ids.contains(&"report-totals".to_string()));
    assert_eq!(ids.last().map(String::as_str), Some("between-zones"));
    let dir = tempfile::tempdir().unwrap();
    let out = flowkeeper(&[
        "export",
        "athena",
        "--destination",
        "plain",
        "--queries",
        "--since",
        "2026-11-01",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("is not exported"), "{err}");
    assert!(ids.contains(&"detect-exfiltration".to_string()));
    assert!(ids.contains(&"between-zones".to_string()));
    for id in &ids {
        let text = std::fs::read_to_string(dir.path().join(format!("{id}.sql"))).unwrap();
        assert!(text.contains("\"day\" >= '2026/11/01'"), "{id}");
    }
    assert!(dir.path().join("create-table.sql").exists());
}

#[test]
fn cli_injected_accounts_need_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("org.yaml");
    std::fs::write(
        &config,
        "version: 1\nregions: [us-east-1]\norganization: {}\ndestinations:\n  central:\n    type: s3\n    bucket: org-archive\n    account: \"999999999999\"\nflow_logs:\n  - {name: vpcs, resource: vpc, select: all, destinations: [central]}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
            .arg("-c")
            .arg(&config)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["export", "athena", "--destination", "central"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("'projection.aws_account.type' = 'injected'")
    );
    let out = run(&["export", "athena", "--destination", "central", "--list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--accounts"));
    let out = run(&[
        "--accounts",
        "111111111111",
        "export",
        "athena",
        "--destination",
        "central",
        "--list",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Regression (review): with `--accounts`, an organization's table stayed `injected` in
/// Glue but the written DDL switched to an `enum` and the queries lost `"aws_account" IN
/// (..)`, which Athena requires for an injected column (CONSTRAINT_VIOLATION).
#[test]
fn regression_org_tables_stay_injected_and_every_query_names_the_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("org.yaml");
    std::fs::write(
        &config,
        "version: 1\nregions: [us-east-1]\norganization: {}\ndestinations:\n  central:\n    type: s3\n    bucket: org-archive\n    account: \"999999999999\"\nflow_logs:\n  - {name: vpcs, resource: vpc, select: all, destinations: [central]}\n",
    )
    .unwrap();
    let queries = dir.path().join("q");
    let out = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
        .arg("-c")
        .arg(&config)
        .args(["--accounts", "111111111111,222222222222"])
        .args([
            "export",
            "athena",
            "--destination",
            "central",
            "--queries",
            "-o",
        ])
        .arg(&queries)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ddl = std::fs::read_to_string(queries.join("create-table.sql")).unwrap();
    assert!(
        ddl.contains("'projection.aws_account.type' = 'injected'"),
        "{ddl}"
    );
    let mut n = 0;
    for entry in std::fs::read_dir(&queries).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "create-table.sql" {
            continue;
        }
        let sql = std::fs::read_to_string(&path).unwrap();
        assert!(
            sql.contains("\"aws_account\" IN ('111111111111', '222222222222')"),
            "{}:\n{sql}",
            path.display()
        );
        n += 1;
    }
    assert!(n > 10, "{n} queries");
}

/// Regression (review): `export athena -o` could write over the config it read.
#[test]
fn regression_export_athena_never_writes_over_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flowkeeper.yaml");
    let text = "version: 1\nregions: [us-east-1]\naccounts: [{id: \"111111111111\"}]\ndestinations:\n  archive:\n    type: s3\n    bucket: logs-archive\nflow_logs:\n  - {name: vpcs, resource: vpc, select: all, destinations: [archive]}\n";
    std::fs::write(&config, text).unwrap();
    for extra in [
        &["-o", "flowkeeper.yaml"][..],
        &["--queries", "-o", "."][..],
    ] {
        if extra.contains(&"--queries") {
            // The config standing where a query file would go.
            std::fs::rename(&config, dir.path().join("report-totals.sql")).unwrap();
        }
        let cfg = if extra.contains(&"--queries") {
            dir.path().join("report-totals.sql")
        } else {
            config.clone()
        };
        let out = Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
            .current_dir(dir.path())
            .arg("-c")
            .arg(&cfg)
            .args(["export", "athena", "--destination", "archive"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("input"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text, "{extra:?}");
    }
}

/// Regression (review): a `--table` with quotes reached the SQL unchanged, and an empty time
/// range was written without a word.
#[test]
fn regression_bad_names_and_reversed_ranges_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flowkeeper.yaml");
    std::fs::write(
        &config,
        "version: 1\nregions: [us-east-1]\naccounts: [{id: \"111111111111\"}]\ndestinations:\n  archive:\n    type: s3\n    bucket: logs-archive\nflow_logs:\n  - {name: vpcs, resource: vpc, select: all, destinations: [archive]}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flowkeeper"))
            .arg("-c")
            .arg(&config)
            .args(["export", "athena", "--destination", "archive"])
            .args(extra)
            .output()
            .unwrap()
    };
    for (extra, says) in [
        (&["--table", "x\"; DROP TABLE y; --"][..], "--table"),
        (&["--database", "Bad-DB"][..], "--database"),
        (
            &["--since", "2026-11-03", "--until", "2026-11-01"][..],
            "--since is after --until",
        ),
    ] {
        let out = run(extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
}
