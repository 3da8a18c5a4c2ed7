//! The flowkeeper.yaml schema: walks the parsed document, turns it into a
//! [`DesiredState`], and records a positioned problem for everything wrong with it.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::{Mapping, Value};

use crate::model::log_format::{is_known_field, known_field_names};
use crate::model::regions;
use crate::model::{
    AccountId, AccountSource, AccountSpec, CloudWatchDestination, Defaults, DesiredState,
    Destination, Encryption, Exclusion, FileFormat, FlowLogEntry, Lifecycle, LogFormat,
    NameTemplate, OrgSpec, Regions, ResourceKind, S3Destination, S3Options, Selector, TrafficType,
    is_region_name,
};
use yamlcheck::{FileChecker, Path, did_you_mean, type_name};

/// Retention periods CloudWatch Logs accepts (PutRetentionPolicy).
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// S3 storage classes a lifecycle transition may target.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];
/// The delivery role name used when a CloudWatch destination names none.
pub const DEFAULT_DELIVERY_ROLE: &str = "flowkeeper-delivery";

const TOP_KEYS: &[&str] = &[
    "version",
    "regions",
    "defaults",
    "accounts",
    "organization",
    "destinations",
    "flow_logs",
];
const ACCOUNT_KEYS: &[&str] = &[
    "id",
    "name",
    "role_arn",
    "role_name",
    "external_id",
    "regions",
];
const S3_KEYS: &[&str] = &[
    "type",
    "account",
    "bucket",
    "prefix",
    "create",
    "region",
    "encryption",
    "lifecycle",
    "file_format",
    "hive_compatible_partitions",
    "per_hour_partition",
];
const CWL_KEYS: &[&str] = &[
    "type",
    "log_group",
    "retention_days",
    "kms_key",
    "delivery_role",
];
const ENTRY_KEYS: &[&str] = &[
    "name",
    "resource",
    "select",
    "exclude",
    "traffic_type",
    "destinations",
    "format",
    "max_aggregation_interval",
    "tags",
];

pub fn desired_state(root: &Value, c: &mut FileChecker) -> Option<DesiredState> {
    let top = Path::default();
    if root.is_null() {
        c.at_value(
            &top,
            "the config is empty",
            Some("run `flowkeeper init` to write a commented starter file".into()),
        );
        return None;
    }
    let Value::Mapping(m) = root else {
        c.at_value(
            &top,
            "the config must be a mapping with `version`, `destinations` and `flow_logs`",
            None,
        );
        return None;
    };
    let mut regions = Regions::Default;
    let mut defaults = Defaults::default();
    let mut accounts = AccountSource::Current;
    let mut destinations = BTreeMap::new();
    let mut flow_log_values = None;
    // Every destination name written, valid or not, so that references to a destination with
    // its own problems are not reported as undeclared too.
    let declared: BTreeSet<String> = m
        .get("destinations")
        .and_then(Value::as_mapping)
        .map(|d| {
            d.keys()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for (key, v) in c.entries(
        m,
        &top,
        TOP_KEYS,
        &["version", "destinations", "flow_logs"],
        "the config",
    ) {
        let p = top.key(key);
        match key {
            "version" => {
                if v.as_u64() != Some(1) {
                    c.at_value(
                        &p,
                        "unsupported config version",
                        Some("this flowkeeper reads `version: 1`".into()),
                    );
                }
            }
            "regions" => regions = regions_value(v, &p, c),
            "defaults" => defaults = defaults_value(v, &p, c),
            "accounts" => {
                if m.contains_key("organization") {
                    c.at_key(
                        &p,
                        "`accounts` and `organization` cannot both be given",
                        Some("list accounts explicitly, or take them from the organization".into()),
                    );
                }
                accounts = AccountSource::List {
                    accounts: account_list(v, &p, c),
                };
            }
            "organization" => {
                if !m.contains_key("accounts") {
                    accounts = AccountSource::Organization(organization(v, &p, c));
                }
            }
            "destinations" => {
                destinations = destination_map(v, &p, c);
                super::shared::check_shared_destinations(&destinations, v, &p, c);
            }
            "flow_logs" => flow_log_values = Some((v, p)),
            _ => unreachable!("checked by entries()"),
        }
    }
    let flow_logs = flow_log_values
        .map(|(v, p)| entry_list(v, &p, &declared, c))
        .unwrap_or_default();
    Some(DesiredState {
        regions,
        defaults,
        accounts,
        destinations,
        flow_logs,
    })
}

/// `regions: all` or a list.
fn regions_value(v: &Value, path: &Path, c: &mut FileChecker) -> Regions {
    match v {
        Value::String(s) if s == "all" => Regions::All,
        Value::String(s) => {
            c.at_value(
                path,
                format!("`regions` must be `all` or a list of regions, found `{s}`"),
                Some(format!("write `regions: [{s}]` for one region")),
            );
            Regions::Default
        }
        _ => Regions::List(region_list(v, path, c)),
    }
}

fn defaults_value(v: &Value, path: &Path, c: &mut FileChecker) -> Defaults {
    let mut d = Defaults::default();
    let Some(m) = c.mapping(v, path, "`defaults`") else {
        return d;
    };
    for (key, v) in c.entries(m, path, &["role_name", "external_id"], &[], "`defaults`") {
        let p = path.key(key);
        let text = c.string(v, &p, &format!("`{key}`")).map(str::to_string);
        if key == "role_name" {
            d.role_name = text.filter(|n| check_role_name_text(n, &p, c));
        } else {
            d.external_id = text;
        }
    }
    d
}

fn account_id(v: &Value, path: &Path, c: &mut FileChecker) -> Option<AccountId> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            c.at_value(
                path,
                format!("account id {n} must be a quoted string"),
                Some(format!(
                    "write \"{n}\": unquoted, YAML reads it as a number and drops leading zeros"
                )),
            );
            return None;
        }
        other => {
            c.at_value(
                path,
                format!("an account id must be a string, found {}", type_name(other)),
                None,
            );
            return None;
        }
    };
    AccountId::parse(&text)
        .map_err(|e| c.at_value(path, e, None))
        .ok()
}

fn account_id_list(v: &Value, path: &Path, what: &str, c: &mut FileChecker) -> BTreeSet<AccountId> {
    let Some(items) = c.sequence(v, path, what) else {
        return BTreeSet::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| account_id(item, &path.index(i), c))
        .collect()
}

fn account_list(v: &Value, path: &Path, c: &mut FileChecker) -> Vec<AccountSpec> {
    let mut out: Vec<AccountSpec> = Vec::new();
    let Some(items) = c.sequence(v, path, "`accounts`") else {
        return out;
    };
    if items.is_empty() {
        c.at_value(path, "`accounts` is empty", Some("list at least one `{ id: \"111111111111\" }`, or remove the key to use the current account".into()));
    }
    let mut seen: BTreeSet<AccountId> = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(m) = c.mapping(item, &p, "an account entry") else {
            continue;
        };
        let mut spec = AccountSpec {
            id: AccountId::parse("000000000000").expect("static"),
            name: None,
            role_arn: None,
            role_name: None,
            external_id: None,
            regions: None,
        };
        let mut id = None;
        for (key, v) in c.entries(m, &p, ACCOUNT_KEYS, &["id"], "an account entry") {
            let kp = p.key(key);
            match key {
                "id" => id = account_id(v, &kp, c),
                "name" => spec.name = c.string(v, &kp, "`name`").map(str::to_string),
                "role_arn" => {
                    spec.role_arn = c.string(v, &kp, "`role_arn`").and_then(|arn| {
                        if arn.starts_with("arn:")
                            && arn.contains(":iam::")
                            && arn.contains(":role/")
                        {
                            Some(arn.to_string())
                        } else {
                            c.at_value(
                                &kp,
                                format!("`{arn}` is not an IAM role ARN"),
                                Some("arn:aws:iam::<account>:role/<name>".into()),
                            );
                            None
                        }
                    })
                }
                "role_name" => {
                    spec.role_name = c
                        .string(v, &kp, "`role_name`")
                        .map(str::to_string)
                        .filter(|n| check_role_name_text(n, &kp, c))
                }
                "external_id" => {
                    spec.external_id = c.string(v, &kp, "`external_id`").map(str::to_string)
                }
                "regions" => spec.regions = Some(regions_value(v, &kp, c)),
                _ => unreachable!("checked by entries()"),
            }
        }
        if m.contains_key("role_arn") && m.contains_key("role_name") {
            c.at_key(
                &p.key("role_name"),
                "give `role_arn` or `role_name`, not both",
                None,
            );
        }
        let Some(id) = id else { continue };
        if let Some(arn) = &spec.role_arn
            && !arn.contains(&format!(":iam::{id}:"))
        {
            c.at_value(
                &p.key("role_arn"),
                format!("`{arn}` is not in account {id}"),
                None,
            );
        }
        if !seen.insert(id.clone()) {
            c.at_value(&p.key("id"), format!("account {id} is listed twice"), None);
            continue;
        }
        spec.id = id;
        out.push(spec);
    }
    out
}

fn organization(v: &Value, path: &Path, c: &mut FileChecker) -> OrgSpec {
    let mut o = OrgSpec::default();
    let m = match v {
        Value::Null => return o,
        other => match c.mapping(other, path, "`organization`") {
            Some(m) => m,
            None => return o,
        },
    };
    for (key, v) in c.entries(
        m,
        path,
        &["include", "exclude", "ous"],
        &[],
        "`organization`",
    ) {
        let p = path.key(key);
        match key {
            "include" => o.include = account_id_list(v, &p, "`include`", c),
            "exclude" => o.exclude = account_id_list(v, &p, "`exclude`", c),
            _ => {
                let Some(items) = c.sequence(v, &p, "`ous`") else {
                    continue;
                };
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    if let Some(ou) = c.string(item, &ip, "an organizational unit id") {
                        if ou.starts_with("ou-") || ou.starts_with("r-") {
                            o.ous.push(ou.to_string());
                        } else {
                            c.at_value(
                                &ip,
                                format!("`{ou}` is not an organizational unit id"),
                                Some(
                                    "OU ids look like ou-ab12-cdef3456 (or a root, r-ab12)".into(),
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    o
}

fn region_list(v: &Value, path: &Path, c: &mut FileChecker) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(items) = c.sequence(v, path, "`regions`") else {
        return out;
    };
    if items.is_empty() {
        c.at_value(
            path,
            "`regions` is empty",
            Some(
                "name at least one region, or leave the key out to use --region / AWS_REGION"
                    .into(),
            ),
        );
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(r) = c.string(item, &p, "a region") else {
            continue;
        };
        if !check_region(r, &p, c) {
            continue;
        }
        if !seen.insert(r) {
            c.at_value(&p, format!("region `{r}` is listed twice"), None);
        } else {
            out.push(r.to_string());
        }
    }
    out
}

/// A region name AWS has: well-formed and known, with the nearest known names as the hint.
fn check_region(r: &str, path: &Path, c: &mut FileChecker) -> bool {
    if !is_region_name(r) {
        c.at_value(
            path,
            format!("`{r}` is not a region name"),
            Some("regions look like `us-east-1` or `eu-west-1`".into()),
        );
        return false;
    }
    match regions::known(r) {
        Ok(()) => true,
        Err(hint) => {
            c.at_value(path, format!("`{r}` is not an AWS region"), Some(hint));
            false
        }
    }
}

fn destination_map(v: &Value, path: &Path, c: &mut FileChecker) -> BTreeMap<String, Destination> {
    let mut out = BTreeMap::new();
    let Some(m) = c.mapping(v, path, "`destinations`") else {
        return out;
    };
    if m.is_empty() {
        c.at_value(
            path,
            "`destinations` is empty",
            Some("declare at least one `type: s3` or `type: cloudwatch-logs` destination".into()),
        );
    }
    for (k, dv) in m {
        let Some(name) = k.as_str() else {
            c.at_value(path, "destination names must be strings", None);
            continue;
        };
        let p = path.key(name);
        if !is_simple_name(name) {
            c.at_key(
                &p,
                format!("destination name `{name}` may only use letters, digits, `-`, `_` and `.`"),
                None,
            );
        }
        if let Some(d) = destination(name, dv, &p, c) {
            out.insert(name.to_string(), d);
        }
    }
    out
}

fn destination(name: &str, v: &Value, path: &Path, c: &mut FileChecker) -> Option<Destination> {
    let what = format!("destination `{name}`");
    let m = c.mapping(v, path, &what)?;
    let Some(tv) = m.get("type") else {
        c.at_value(
            path,
            format!("{what} is missing the required key `type`"),
            Some("`type: s3` or `type: cloudwatch-logs`".into()),
        );
        return None;
    };
    match c.choice(tv, &path.key("type"), "`type`", &["s3", "cloudwatch-logs"])? {
        "s3" => s3_destination(m, path, &what, c).map(Destination::S3),
        _ => cwl_destination(m, path, &what, c).map(Destination::CloudwatchLogs),
    }
}

/// Keys that belong to the other destination type get a hint saying so.
fn misplaced_key_hint(key: &str, is_s3: bool) -> Option<String> {
    let (other, kind) = if is_s3 {
        (CWL_KEYS, "cloudwatch-logs")
    } else {
        (S3_KEYS, "s3")
    };
    other
        .contains(&key)
        .then(|| format!("`{key}` applies only to `type: {kind}` destinations"))
}

fn typed_entries<'v>(
    m: &'v Mapping,
    path: &Path,
    what: &str,
    is_s3: bool,
    c: &mut FileChecker,
) -> Vec<(&'v str, &'v Value)> {
    let (allowed, required) = if is_s3 {
        (S3_KEYS, &["bucket"][..])
    } else {
        (CWL_KEYS, &["log_group"][..])
    };
    let before = c.sink.problems.len();
    let out = c.entries(m, path, allowed, required, what);
    for d in &mut c.sink.problems[before..] {
        if let Some(yamlcheck::Seg::Key(k)) = d.path.0.last()
            && let Some(h) = misplaced_key_hint(k, is_s3)
        {
            d.hint = Some(h);
        }
    }
    out
}

fn s3_destination(
    m: &Mapping,
    path: &Path,
    what: &str,
    c: &mut FileChecker,
) -> Option<S3Destination> {
    let mut bucket = None;
    let mut d = S3Destination {
        bucket: NameTemplate::parse("placeholder").expect("static"),
        account: None,
        prefix: None,
        create: false,
        region: None,
        encryption: Encryption::SseS3,
        lifecycle: None,
        options: S3Options::default(),
    };
    let mut ok = true;
    for (key, v) in typed_entries(m, path, what, true, c) {
        let p = path.key(key);
        match key {
            "type" => {}
            "account" => d.account = account_id(v, &p, c),
            "bucket" => {
                bucket = template(v, &p, "`bucket`", c).filter(|t| check_bucket_name(t, &p, c))
            }
            "prefix" => {
                d.prefix = c
                    .string(v, &p, "`prefix`")
                    .and_then(|s| check_prefix(s, &p, c))
            }
            "create" => d.create = c.boolean(v, &p, "`create`").unwrap_or(false),
            "region" => {
                d.region = c
                    .string(v, &p, "`region`")
                    .filter(|r| check_region(r, &p, c))
                    .map(str::to_string)
            }
            "encryption" => match encryption(v, &p, c) {
                Some(e) => d.encryption = e,
                None => ok = false,
            },
            "lifecycle" => d.lifecycle = lifecycle(v, &p, c),
            "file_format" => {
                if let Some(f) = c.choice(v, &p, "`file_format`", &["plain-text", "parquet"]) {
                    d.options.file_format = FileFormat::parse(f).expect("choice");
                }
            }
            "hive_compatible_partitions" => {
                d.options.hive_compatible_partitions = c
                    .boolean(v, &p, "`hive_compatible_partitions`")
                    .unwrap_or(false)
            }
            "per_hour_partition" => {
                d.options.per_hour_partition =
                    c.boolean(v, &p, "`per_hour_partition`").unwrap_or(false)
            }
            _ => unreachable!("checked by entries()"),
        }
    }
    d.bucket = bucket?;
    ok.then_some(d)
}

fn cwl_destination(
    m: &Mapping,
    path: &Path,
    what: &str,
    c: &mut FileChecker,
) -> Option<CloudWatchDestination> {
    let mut log_group = None;
    let mut retention_days = None;
    let mut kms_key = None;
    let mut delivery_role = Some(NameTemplate::parse(DEFAULT_DELIVERY_ROLE).expect("static"));
    for (key, v) in typed_entries(m, path, what, false, c) {
        let p = path.key(key);
        match key {
            "type" => {}
            "log_group" => {
                log_group = template(v, &p, "`log_group`", c).filter(|t| check_log_group(t, &p, c))
            }
            "retention_days" => {
                retention_days = c.unsigned(v, &p, "`retention_days`").and_then(|n| {
                    let n = i32::try_from(n).unwrap_or(i32::MAX);
                    if RETENTION_DAYS.contains(&n) {
                        Some(n)
                    } else {
                        let list: Vec<String> =
                            RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
                        c.at_value(
                            &p,
                            format!("CloudWatch Logs does not accept a retention of {n} days"),
                            Some(format!("use one of {}", list.join(", "))),
                        );
                        None
                    }
                })
            }
            "kms_key" => {
                kms_key = template(v, &p, "`kms_key`", c).filter(|t| check_kms_arn(t.raw(), &p, c))
            }
            "delivery_role" => {
                delivery_role =
                    template(v, &p, "`delivery_role`", c).filter(|t| check_role_name(t, &p, c))
            }
            _ => unreachable!("checked by entries()"),
        }
    }
    Some(CloudWatchDestination {
        log_group: log_group?,
        retention_days,
        kms_key,
        delivery_role: delivery_role?,
    })
}

fn template(v: &Value, path: &Path, what: &str, c: &mut FileChecker) -> Option<NameTemplate> {
    let s = c.string(v, path, what)?;
    NameTemplate::parse(s)
        .map_err(|e| c.at_value(path, e, None))
        .ok()
}

/// Names rendered with a sample account and region so that templates are checked too.
fn sample(t: &NameTemplate) -> String {
    t.render("123456789012", "ap-southeast-2")
}

fn check_bucket_name(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
    let s = sample(t);
    let valid = (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
        && !s.contains("..");
    if !valid {
        c.at_value(
            path,
            format!("`{}` is not a valid S3 bucket name", t.raw()),
            Some("3-63 characters (after expanding placeholders): lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit".into()),
        );
    }
    valid
}

fn check_prefix(s: &str, path: &Path, c: &mut FileChecker) -> Option<String> {
    let trimmed = s.trim_matches('/');
    if trimmed != s {
        c.at_value(
            path,
            format!("`prefix` must not start or end with `/` (found `{s}`)"),
            Some(format!("write `prefix: {trimmed}`")),
        );
        return None;
    }
    if trimmed.split('/').any(|seg| seg == "AWSLogs") {
        c.at_value(
            path,
            "`prefix` must not use the folder name `AWSLogs`",
            Some("AWS reserves it for the delivery path".into()),
        );
        return None;
    }
    Some(trimmed.to_string())
}

fn check_log_group(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
    let s = sample(t);
    let valid = (1..=512).contains(&s.len())
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-/#".contains(ch));
    if !valid {
        c.at_value(
            path,
            format!("`{}` is not a valid log group name", t.raw()),
            Some("1-512 characters: letters, digits, `_`, `-`, `/`, `.` and `#`".into()),
        );
    }
    valid
}

fn check_role_name(t: &NameTemplate, path: &Path, c: &mut FileChecker) -> bool {
    check_role_name_text(&sample(t), path, c)
}

fn check_role_name_text(s: &str, path: &Path, c: &mut FileChecker) -> bool {
    let valid = (1..=64).contains(&s.len())
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-".contains(ch));
    if !valid {
        c.at_value(
            path,
            format!("`{s}` is not a valid IAM role name"),
            Some("1-64 characters: letters, digits and `+=,.@_-` (a name, not an ARN)".into()),
        );
    }
    valid
}

fn check_kms_arn(s: &str, path: &Path, c: &mut FileChecker) -> bool {
    let valid = s.starts_with("arn:")
        && s.contains(":kms:")
        && (s.contains(":key/") || s.contains(":alias/"));
    if !valid {
        c.at_value(
            path,
            format!("`{s}` is not a KMS key ARN"),
            Some(
                "use the full ARN, e.g. arn:aws:kms:us-east-1:111122223333:key/1234abcd-...".into(),
            ),
        );
    }
    valid
}

fn encryption(v: &Value, path: &Path, c: &mut FileChecker) -> Option<Encryption> {
    match v {
        Value::String(_) => c
            .choice(v, path, "`encryption`", &["sse-s3"])
            .map(|_| Encryption::SseS3),
        Value::Mapping(m) => {
            let entries = c.entries(m, path, &["kms_key"], &["kms_key"], "`encryption`");
            let (_, kv) = entries.into_iter().next()?;
            let p = path.key("kms_key");
            let key = c.string(kv, &p, "`kms_key`")?;
            check_kms_arn(key, &p, c).then(|| Encryption::Kms {
                kms_key: key.to_string(),
            })
        }
        _ => {
            c.at_value(
                path,
                "`encryption` must be `sse-s3` or `{ kms_key: <key ARN> }`",
                None,
            );
            None
        }
    }
}

fn lifecycle(v: &Value, path: &Path, c: &mut FileChecker) -> Option<Lifecycle> {
    let m = c.mapping(v, path, "`lifecycle`")?;
    let mut l = Lifecycle {
        transition_days: None,
        storage_class: None,
        expire_days: None,
    };
    for (key, v) in c.entries(
        m,
        path,
        &["transition_days", "storage_class", "expire_days"],
        &[],
        "`lifecycle`",
    ) {
        let p = path.key(key);
        match key {
            "transition_days" => {
                l.transition_days = c.unsigned(v, &p, "`transition_days`").map(|n| n as u32)
            }
            "expire_days" => l.expire_days = c.unsigned(v, &p, "`expire_days`").map(|n| n as u32),
            _ => {
                l.storage_class = c
                    .choice(v, &p, "`storage_class`", STORAGE_CLASSES)
                    .map(str::to_string)
            }
        }
    }
    if l.transition_days.is_some() != l.storage_class.is_some() {
        c.at_value(
            path,
            "`lifecycle` needs both `transition_days` and `storage_class`, or neither",
            None,
        );
        return None;
    }
    if let (Some(t), Some(e)) = (l.transition_days, l.expire_days)
        && e <= t
    {
        c.at_value(
            &path.key("expire_days"),
            format!("`expire_days` ({e}) must be later than `transition_days` ({t})"),
            None,
        );
        return None;
    }
    if l.transition_days.is_none() && l.expire_days.is_none() {
        c.at_value(
            path,
            "`lifecycle` sets nothing",
            Some(
                "give `expire_days` and/or `transition_days` with `storage_class`, or remove it"
                    .into(),
            ),
        );
        return None;
    }
    Some(l)
}

fn entry_list(
    v: &Value,
    path: &Path,
    dests: &BTreeSet<String>,
    c: &mut FileChecker,
) -> Vec<FlowLogEntry> {
    let mut out: Vec<FlowLogEntry> = Vec::new();
    let Some(items) = c.sequence(v, path, "`flow_logs`") else {
        return out;
    };
    if items.is_empty() {
        c.at_value(
            path,
            "`flow_logs` is empty",
            Some("add at least one entry; see `flowkeeper init`".into()),
        );
    }
    // Every name written, valid entry or not, so that a name used twice is reported even when
    // one of the entries has problems of its own (a set: linear in the number of entries).
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let name = item.get("name").and_then(Value::as_str);
        let first_use = name.is_none_or(|n| names.insert(n));
        if let Some(n) = name.filter(|_| !first_use) {
            c.at_value(
                &p.key("name"),
                format!("flow log entry name `{n}` is used twice"),
                Some("entry names tag the flow logs they create, so they must be unique".into()),
            );
        }
        if let Some(e) = entry(item, &p, dests, c)
            && first_use
        {
            out.push(e);
        }
    }
    out
}

fn entry(
    v: &Value,
    path: &Path,
    dests: &BTreeSet<String>,
    c: &mut FileChecker,
) -> Option<FlowLogEntry> {
    let m = c.mapping(v, path, "a flow_logs entry")?;
    let label = m.get("name").and_then(Value::as_str).map_or_else(
        || "a flow_logs entry".to_string(),
        |n| format!("flow_logs entry `{n}`"),
    );
    let entries = c.entries(
        m,
        path,
        ENTRY_KEYS,
        &["name", "resource", "select", "destinations"],
        &label,
    );
    let resource = m
        .get("resource")
        .and_then(|rv| {
            c.choice(
                rv,
                &path.key("resource"),
                "`resource`",
                &["vpc", "subnet", "network-interface"],
            )
        })
        .and_then(ResourceKind::from_config_name);
    let mut name = None;
    let mut select = None;
    let mut exclude = Exclusion::default();
    let mut traffic_type = Some(TrafficType::All);
    let mut destinations = None;
    let mut format = Some(LogFormat::default_v2());
    let mut interval = Some(600);
    let mut tags = Some(BTreeMap::new());
    for (key, v) in entries {
        let p = path.key(key);
        match key {
            "resource" => {}
            "name" => {
                name = c.string(v, &p, "`name`").and_then(|n| {
                    if is_simple_name(n) {
                        Some(n.to_string())
                    } else {
                        c.at_value(
                            &p,
                            format!(
                                "entry name `{n}` may only use letters, digits, `-`, `_` and `.`"
                            ),
                            None,
                        );
                        None
                    }
                })
            }
            "select" => select = selector(v, &p, resource, c),
            "exclude" => exclude = exclusion(v, &p, resource, c).unwrap_or_default(),
            "traffic_type" => {
                traffic_type = c
                    .choice(v, &p, "`traffic_type`", &["ALL", "ACCEPT", "REJECT"])
                    .and_then(TrafficType::parse)
            }
            "destinations" => destinations = destination_refs(v, &p, dests, c),
            "format" => format = log_format(v, &p, c),
            "max_aggregation_interval" => {
                interval = c
                    .choice(v, &p, "`max_aggregation_interval`", &["60", "600"])
                    .map(|s| s.parse().expect("choice"))
            }
            "tags" => tags = tag_map(v, &p, "`tags`", true, c),
            _ => unreachable!("checked by entries()"),
        }
    }
    Some(FlowLogEntry {
        name: name?,
        resource: resource?,
        select: select?,
        exclude,
        traffic_type: traffic_type?,
        destinations: destinations?,
        format: format?,
        max_aggregation_interval: interval?,
        tags: tags?,
    })
}

fn selector(
    v: &Value,
    path: &Path,
    kind: Option<ResourceKind>,
    c: &mut FileChecker,
) -> Option<Selector> {
    match v {
        Value::String(s) if s == "all" => Some(Selector::All),
        Value::Mapping(m) => {
            let entries = c.entries(m, path, &["ids", "tags"], &[], "`select`");
            if entries.len() != 1 {
                c.at_value(
                    path,
                    "`select` takes exactly one of `ids` or `tags`",
                    Some("to combine, write two entries".into()),
                );
                return None;
            }
            let (key, v) = entries[0];
            let p = path.key(key);
            if key == "ids" {
                let ids = id_list(v, &p, kind, c)?;
                if ids.is_empty() {
                    c.at_value(&p, "`select.ids` is empty", None);
                    return None;
                }
                Some(Selector::Ids(ids))
            } else {
                let tags = tag_map(v, &p, "`select.tags`", false, c)?;
                if tags.is_empty() {
                    c.at_value(
                        &p,
                        "`select.tags` is empty",
                        Some("use `select: all` to cover every resource".into()),
                    );
                    return None;
                }
                Some(Selector::Tags(tags))
            }
        }
        other => {
            let hint = other.as_str().and_then(|s| did_you_mean(s, ["all"]));
            c.at_value(
                path,
                "`select` must be `all`, `{ ids: [...] }` or `{ tags: {...} }`",
                hint,
            );
            None
        }
    }
}

fn exclusion(
    v: &Value,
    path: &Path,
    kind: Option<ResourceKind>,
    c: &mut FileChecker,
) -> Option<Exclusion> {
    let m = c.mapping(v, path, "`exclude`")?;
    let mut e = Exclusion::default();
    for (key, v) in c.entries(m, path, &["ids", "tags"], &[], "`exclude`") {
        let p = path.key(key);
        if key == "ids" {
            e.ids = id_list(v, &p, kind, c)?;
        } else {
            e.tags = tag_map(v, &p, "`exclude.tags`", false, c)?;
        }
    }
    Some(e)
}

fn id_list(
    v: &Value,
    path: &Path,
    kind: Option<ResourceKind>,
    c: &mut FileChecker,
) -> Option<BTreeSet<String>> {
    let items = c.sequence(v, path, "`ids`")?;
    let mut out = BTreeSet::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(id) = c.string(item, &p, "an id") else {
            ok = false;
            continue;
        };
        match (kind, ResourceKind::of_id(id)) {
            (Some(want), Some(got)) if want != got => {
                c.at_value(
                    &p,
                    format!(
                        "`{id}` is a {} id, but this entry covers `{}` resources",
                        got.config_name(),
                        want.config_name()
                    ),
                    None,
                );
                ok = false;
            }
            (_, None) => {
                c.at_value(
                    &p,
                    format!("`{id}` is not a VPC, subnet or network interface id"),
                    Some("ids look like vpc-0abc..., subnet-0abc... or eni-0abc...".into()),
                );
                ok = false;
            }
            _ => {
                out.insert(id.to_string());
            }
        }
    }
    ok.then_some(out)
}

fn tag_map(
    v: &Value,
    path: &Path,
    what: &str,
    user_tags: bool,
    c: &mut FileChecker,
) -> Option<BTreeMap<String, String>> {
    let m = c.mapping(v, path, what)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, tv) in m {
        let Some(key) = k
            .as_str()
            .map(str::to_string)
            .or_else(|| k.as_u64().map(|n| n.to_string()))
        else {
            c.at_value(path, format!("tag keys in {what} must be strings"), None);
            ok = false;
            continue;
        };
        let p = path.key(&key);
        if user_tags
            && (key == crate::model::MANAGED_BY_KEY
                || key.starts_with("flowkeeper:")
                || key.starts_with("aws:"))
        {
            c.at_key(&p, format!("tag key `{key}` is reserved"), Some("flowkeeper sets `managed-by`, `flowkeeper:entry` and `flowkeeper:destination` itself; AWS reserves `aws:`".into()));
            ok = false;
            continue;
        }
        match c.scalar_text(tv, &p, "a tag value") {
            Some(val) => {
                out.insert(key, val);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn destination_refs(
    v: &Value,
    path: &Path,
    dests: &BTreeSet<String>,
    c: &mut FileChecker,
) -> Option<Vec<String>> {
    let items = c.sequence(v, path, "`destinations`")?;
    if items.is_empty() {
        c.at_value(
            path,
            "`destinations` is empty",
            Some(
                "name at least one destination declared under the top-level `destinations`".into(),
            ),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let Some(n) = c.string(item, &p, "a destination name") else {
            ok = false;
            continue;
        };
        if !dests.contains(n) {
            let hint = undeclared_hint(n, dests);
            c.at_value(&p, format!("destination `{n}` is not declared"), Some(hint));
            ok = false;
        } else if !seen.insert(n) {
            c.at_value(&p, format!("destination `{n}` is listed twice"), None);
            ok = false;
        } else {
            out.push(n.to_string());
        }
    }
    ok.then_some(out)
}

/// "did you mean" among the declared destinations, else the first few of them. Bounded, so
/// that a file with thousands of destinations and bad references stays linear.
fn undeclared_hint(name: &str, dests: &BTreeSet<String>) -> String {
    const SHOWN: usize = 10;
    const SEARCHED: usize = 200;
    let declared = dests.iter().map(String::as_str);
    if let Some(h) = did_you_mean(name, declared.clone().take(SEARCHED)) {
        return h;
    }
    match dests.len() {
        0 => "declared destinations: none".to_string(),
        n if n <= SHOWN => format!(
            "declared destinations: {}",
            declared.collect::<Vec<_>>().join(", ")
        ),
        n => format!(
            "declared destinations: {}, ... ({n} in all)",
            declared.take(SHOWN).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn log_format(v: &Value, path: &Path, c: &mut FileChecker) -> Option<LogFormat> {
    match v {
        Value::String(s) if s == "default" => Some(LogFormat::default_v2()),
        Value::String(s) if s == "all" => Some(LogFormat::all_fields()),
        Value::Sequence(items) => {
            let mut names: Vec<&str> = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let p = path.index(i);
                let Some(name) = c.string(item, &p, "a field name") else {
                    ok = false;
                    continue;
                };
                if !is_known_field(name) {
                    let hint = did_you_mean(name, known_field_names()).unwrap_or_else(|| {
                        "see the field list in the README (config reference)".into()
                    });
                    c.at_value(
                        &p,
                        format!("`{name}` is not a VPC flow log field"),
                        Some(hint),
                    );
                    ok = false;
                } else if names.contains(&name) {
                    c.at_value(&p, format!("field `{name}` is listed twice"), None);
                    ok = false;
                } else {
                    names.push(name);
                }
            }
            if ok && names.is_empty() {
                c.at_value(path, "`format` lists no fields", None);
            }
            if !ok {
                return None;
            }
            LogFormat::from_fields(&names).ok()
        }
        other => {
            let hint = other
                .as_str()
                .and_then(|s| did_you_mean(s, ["default", "all"]));
            c.at_value(
                path,
                "`format` must be `default`, `all` or a list of field names",
                hint,
            );
            None
        }
    }
}

fn is_simple_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
}
