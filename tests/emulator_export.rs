//! The export round trip against moto's CloudFormation: templates (shipped, and exported by
//! the real binary from a seeded account) are linted, deployed with `tests/support/cfn_deploy.py`
//! (moto corrected by `tests/support/moto_cfn_fixes.py`), and then `flowkeeper plan` finds
//! nothing to change: every wanted (resource, entry) is covered by a CloudFormation-managed
//! flow log, and the buckets, log groups and roles match. That proves the templates deploy
//! what apply would have made.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{Account, expect_exit, moto, workdir};

fn root() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
}

fn python() -> String {
    std::env::var("FLOWKEEPER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// cfn-lint on `files` must be clean.
fn lint(files: &[PathBuf]) {
    let out = Command::new(python())
        .arg(root().join("tests/support/pytools/lint_templates.py"))
        .args(files)
        .output()
        .expect("run the linter");
    assert!(
        out.status.success(),
        "cfn-lint on {files:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deploys `stacks` (name, template) in order as `acct`, with `params` where declared.
fn deploy(acct: &Account, region: &str, params: &[(&str, &str)], stacks: &[(&str, &Path)]) {
    deploy_with_files(acct, region, params, &[], stacks)
}

/// [`deploy`], with a parameter file for some stacks (name, file).
fn deploy_with_files(
    acct: &Account,
    region: &str,
    params: &[(&str, &str)],
    files: &[(&str, &Path)],
    stacks: &[(&str, &Path)],
) {
    let c = acct.credentials();
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/support/cfn_deploy.py"))
        .args(["--endpoint", &moto().endpoint, "--region", region])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", c.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", c.secret_access_key())
        .env("AWS_SESSION_TOKEN", c.session_token().unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    for (k, v) in params {
        cmd.args(["--param", &format!("{k}={v}")]);
    }
    for (name, path) in files {
        cmd.args(["--param-file", &format!("{name}={}", path.display())]);
    }
    for (name, path) in stacks {
        cmd.arg(format!("{name}={}", path.display()));
    }
    let out = cmd.output().expect("run cfn_deploy.py");
    assert!(
        out.status.success(),
        "deploy failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `plan --format json` with zero changes, no problems, and exactly `want` covered as
/// (resource, entry, destination), each by a flow log CloudFormation manages.
async fn assert_plan_clean_and_covered(acct: &Account, dir: &Path, want: &[(&str, &str, &str)]) {
    for args in [
        &["plan", "--format", "json"][..],
        &["plan", "--prune", "--format", "json"],
    ] {
        let (out, err) = expect_exit(&acct.run(dir, args), 0);
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(
            doc["changes"],
            Value::Array(vec![]),
            "{args:?}: {out}\n{err}"
        );
        assert_eq!(doc["problems"], Value::Array(vec![]), "{out}");
        assert_eq!(doc["prunable"], Value::Array(vec![]), "{out}");
        let mut covered: Vec<(String, String, String)> = doc["covered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["resource"].as_str().unwrap().to_string(),
                    c["entry"].as_str().unwrap().to_string(),
                    c["destination"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        covered.sort();
        let mut want: Vec<(String, String, String)> = want
            .iter()
            .map(|(r, e, d)| (r.to_string(), e.to_string(), d.to_string()))
            .collect();
        want.sort();
        assert_eq!(covered, want, "{out}");
    }
    for region in ["us-east-1", "eu-west-1"] {
        for fl in acct.flow_logs(region).await {
            let managed = fl
                .tags()
                .iter()
                .find(|t| t.key() == Some("managed-by"))
                .and_then(|t| t.value());
            assert_eq!(managed, Some("cloudformation"), "{fl:?}");
        }
    }
}

#[tokio::test]
async fn shipped_templates_deploy_what_the_equivalent_config_wants() {
    let acct = Account::new().await;
    let (vpc, _) = acct.seed_vpc("us-east-1", 1, &[]).await;
    let s3 = root().join("templates/cloudformation/vpc-flow-logs-s3.yaml");
    let cw = root().join("templates/cloudformation/vpc-flow-logs-cloudwatch.yaml");
    deploy(
        &acct,
        "us-east-1",
        &[
            ("VpcId", &vpc),
            ("Prefix", "vpc"),
            ("FileFormat", "parquet"),
            ("HiveCompatiblePartitions", "true"),
            ("PerHourPartition", "true"),
            ("TransitionDays", "30"),
            ("ExpireDays", "400"),
            ("MaxAggregationInterval", "60"),
            ("TrafficType", "ALL"),
            ("RetentionInDays", "14"),
            ("LogGroupName", "/fk/flows"),
            ("RoleName", "fk-delivery"),
        ],
        &[("flow-logs-s3", &s3), ("flow-logs-cw", &cw)],
    );
    let dir = workdir(&format!(
        r#"version: 1
regions: [us-east-1]
destinations:
  archive:
    type: s3
    bucket: flow-logs-{acct}-us-east-1
    prefix: vpc
    create: true
    lifecycle: {{ transition_days: 30, storage_class: STANDARD_IA, expire_days: 400 }}
    file_format: parquet
    hive_compatible_partitions: true
    per_hour_partition: true
  rt:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 14
    delivery_role: fk-delivery
flow_logs:
  - name: the-vpc
    resource: vpc
    select: {{ ids: [{vpc}] }}
    destinations: [archive, rt]
    max_aggregation_interval: 60
"#,
        acct = acct.id
    ));
    assert_plan_clean_and_covered(
        &acct,
        dir.path(),
        &[(&vpc, "the-vpc", "archive"), (&vpc, "the-vpc", "rt")],
    )
    .await;
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn exported_templates_round_trip_to_a_clean_plan() {
    let acct = Account::new().await;
    let (vpc_a, prod_subnet) = acct.seed_vpc("us-east-1", 1, &[("env", "prod")]).await;
    let (vpc_b, _) = acct.seed_vpc("us-east-1", 2, &[]).await;
    let (skipped, _) = acct
        .seed_vpc("us-east-1", 3, &[("flowkeeper", "skip")])
        .await;
    let key = acct
        .kms("us-east-1")
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let config = format!(
        r#"version: 1
regions: [us-east-1]
destinations:
  plain:
    type: s3
    bucket: fk-plain-{{account_id}}
    create: true
  parquet:
    type: s3
    bucket: fk-parquet-{{account_id}}-{{region}}
    prefix: vpc
    create: true
    encryption: {{ kms_key: "{key}" }}
    lifecycle: {{ transition_days: 30, storage_class: STANDARD_IA, expire_days: 400 }}
    file_format: parquet
    hive_compatible_partitions: true
    per_hour_partition: true
  realtime:
    type: cloudwatch-logs
    log_group: /fk/{{region}}/flows
    retention_days: 30
    delivery_role: fk-delivery
flow_logs:
  - name: all-vpcs
    resource: vpc
    select: all
    exclude: {{ tags: {{ flowkeeper: skip }} }}
    destinations: [plain, parquet]
    format: all
    max_aggregation_interval: 60
    tags: {{ owner: secops }}
  - name: prod-subnets
    resource: subnet
    select: {{ tags: {{ env: prod }} }}
    traffic_type: REJECT
    destinations: [realtime]
"#
    );
    let dir = workdir(&config);
    // Before deploying, AWS does not match the config: exit 2, as plan.
    let (out, err) = expect_exit(
        &acct.run(dir.path(), &["export", "cloudformation", "-o", "out"]),
        2,
    );
    let out_dir = dir.path().join("out");
    let global = out_dir.join(&acct.id).join("global.yaml");
    let regional = out_dir.join(&acct.id).join("us-east-1.yaml");
    assert!(
        out.contains("global.yaml") && out.contains("us-east-1.yaml"),
        "{out}\n{err}"
    );
    assert_eq!(yaml_files(&out_dir), vec![global.clone(), regional.clone()]);
    let text = std::fs::read_to_string(&regional).unwrap();
    // Tag and `all` selections were resolved through discovery to the real ids.
    assert!(
        text.contains(&vpc_a) && text.contains(&vpc_b) && text.contains(&prod_subnet),
        "{text}"
    );
    assert!(!text.contains(&skipped), "{text}");
    lint(&[global.clone(), regional.clone()]);

    deploy(
        &acct,
        "us-east-1",
        &[],
        &[("fk-global", &global), ("fk-us-east-1", &regional)],
    );
    // Every VPC but the skipped one (moto's default VPC included), to both buckets.
    let vpcs: Vec<String> = acct
        .ec2("us-east-1")
        .describe_vpcs()
        .send()
        .await
        .unwrap()
        .vpcs()
        .iter()
        .filter_map(|v| v.vpc_id().map(String::from))
        .filter(|v| *v != skipped)
        .collect();
    assert!(vpcs.contains(&vpc_a) && vpcs.contains(&vpc_b));
    let mut want: Vec<(&str, &str, &str)> = vec![(&prod_subnet, "prod-subnets", "realtime")];
    for v in &vpcs {
        want.push((v, "all-vpcs", "parquet"));
        want.push((v, "all-vpcs", "plain"));
    }
    assert_plan_clean_and_covered(&acct, dir.path(), &want).await;
    // Exported again once deployed: AWS matches, exit 0.
    expect_exit(
        &acct.run(dir.path(), &["export", "cloudformation", "-o", "again"]),
        0,
    );
    // --parameters: tag and `all` selections as list parameters over Fn::ForEach (moto has
    // no AWS::LanguageExtensions, so this one is linted, not deployed).
    expect_exit(
        &acct.run(
            dir.path(),
            &["export", "cloudformation", "--parameters", "-o", "params"],
        ),
        0,
    );
    let p = dir
        .path()
        .join("params")
        .join(&acct.id)
        .join("us-east-1.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.contains("Transform: AWS::LanguageExtensions"),
        "{text}"
    );
    assert!(
        text.contains("Fn::ForEach::AllVpcsPlain") && text.contains("List<AWS::EC2::VPC::Id>"),
        "{text}"
    );
    assert!(
        text.contains(&vpc_a) && !text.contains(&skipped),
        "the defaults are the discovered ids"
    );
    lint(&[p]);
}

#[tokio::test]
async fn export_never_writes_over_the_config_and_fails_like_plan() {
    let acct = Account::new().await;
    acct.seed_vpc("us-east-1", 1, &[]).await;
    let dir = workdir(
        "version: 1\nregions: [us-east-1]\ndestinations:\n  b: { type: s3, bucket: \"fk-x-{account_id}\", create: true }\nflow_logs:\n  - { name: v, resource: vpc, select: all, destinations: [b] }\n",
    );
    // --output naming a file (the config) is refused before any AWS call.
    let (_, err) = expect_exit(
        &acct.run(
            dir.path(),
            &["export", "cloudformation", "-o", "flowkeeper.yaml"],
        ),
        1,
    );
    assert!(err.contains("not a directory"), "{err}");
    // A bucket the config does not create, and that does not exist: the plan's problem, exit 1,
    // nothing written.
    std::fs::write(
        dir.path().join("flowkeeper.yaml"),
        "version: 1\nregions: [us-east-1]\ndestinations:\n  b: { type: s3, bucket: no-such-bucket-fk }\nflow_logs:\n  - { name: v, resource: vpc, select: all, destinations: [b] }\n",
    )
    .unwrap();
    let (_, err) = expect_exit(
        &acct.run(dir.path(), &["export", "cloudformation", "-o", "out"]),
        1,
    );
    assert!(
        err.contains("no-such-bucket-fk") && err.contains("no templates written"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
}

#[tokio::test]
async fn the_stackset_template_deploys_per_target_from_its_parameter_files() {
    let acct = Account::new().await;
    let (vpc_us, _) = acct.seed_vpc("us-east-1", 1, &[("log", "yes")]).await;
    let (vpc_eu, _) = acct.seed_vpc("eu-west-1", 2, &[("log", "yes")]).await;
    let dir = workdir(
        r#"version: 1
regions: [us-east-1, eu-west-1]
destinations:
  archive:
    type: s3
    bucket: fk-ss-{account_id}-{region}
    create: true
    lifecycle: { expire_days: 400 }
  realtime:
    type: cloudwatch-logs
    log_group: /fk/flows
    retention_days: 30
flow_logs:
  - name: tagged
    resource: vpc
    select: { tags: { log: "yes" } }
    destinations: [archive, realtime]
"#,
    );
    let (_, err) = expect_exit(
        &acct.run(dir.path(), &["export", "cloudformation", "-o", "out"]),
        2,
    );
    assert!(err.contains("StackSet-ready"), "{err}");
    let ss = dir.path().join("out/stackset");
    let (global, regional) = (ss.join("global.yaml"), ss.join("regional.yaml"));
    lint(&[global.clone(), regional.clone()]);
    let params = |region: &str| ss.join(format!("parameters/{}-{region}.json", acct.id));
    let text = std::fs::read_to_string(params("eu-west-1")).unwrap();
    assert!(text.contains(&vpc_eu) && !text.contains(&vpc_us), "{text}");
    // One stack instance per target: the same template, each with its own parameter file.
    deploy(&acct, "us-east-1", &[], &[("fk-global", &global)]);
    for region in ["us-east-1", "eu-west-1"] {
        let p = params(region);
        deploy_with_files(
            &acct,
            region,
            &[],
            &[("fk-flow-logs", &p)],
            &[("fk-flow-logs", &regional)],
        );
    }
    assert_plan_clean_and_covered(
        &acct,
        dir.path(),
        &[
            (&vpc_us, "tagged", "archive"),
            (&vpc_us, "tagged", "realtime"),
            (&vpc_eu, "tagged", "archive"),
            (&vpc_eu, "tagged", "realtime"),
        ],
    )
    .await;
    // --per-target still writes one template per account and region.
    expect_exit(
        &acct.run(
            dir.path(),
            &["export", "cloudformation", "--per-target", "-o", "pt"],
        ),
        0,
    );
    assert!(
        dir.path()
            .join(format!("pt/{}/eu-west-1.yaml", acct.id))
            .exists()
    );
}
